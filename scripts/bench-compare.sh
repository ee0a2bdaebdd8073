#!/usr/bin/env bash
#
# bench-compare.sh - the same chat-bench loads against chatd and against
# Redis pub/sub, on this machine, in one run; prints the medians side by
# side.
#
# Usage: scripts/bench-compare.sh [--quick] [--runs N] [--out FILE]
#                                 [--only NAME[,NAME...]] [--scale]
#                                 [--chatd PATH] [--chat-bench PATH]
#
#   --quick           smaller and shorter loads (those of stress.sh --quick)
#   --runs N          runs per scenario and server (default 3)
#   --only NAME,...   run only these scenarios (comma-separated names from
#                     the list below)
#   --out FILE        also write the results as markdown to FILE
#   --chatd PATH      chatd binary (default: $CHATD, else build/src/chatd,
#                     else src/chatd, relative to the repository root)
#   --chat-bench PATH chat-bench binary (default: $CHAT_BENCH, likewise)
#   --baseline PATH   compare chatd with another chatd binary (say, a
#                     build of the previous commit) instead of Redis:
#                     the same loads, alternating, the ratio new/old
#                     (a chatd without rooms fails the rooms scenario:
#                     leave it out with --only)
#   --scale           compare chatd -w 1 with chatd -w 2 instead of
#                     Redis, on the rooms scenario unless --only says
#                     otherwise: alternating, the ratio -w 2 / -w 1 of
#                     deliveries/s and of the server's CPU use
#   --proto irc       compare chatd's IRC front-end (--irc-port) with
#                     Debian's ngircd instead of Redis, with chat-bench
#                     --proto irc, on fanout, bigroom and c10k (the ratio
#                     chatd/ngircd)
#   --announce-all    with --proto irc: chatd announces every join, as
#                     ngircd does (--announce-max 1000000), instead of
#                     only in rooms of at most 200 members, its default
#   --tls             compare chatd over TLS (--tls-port, on a
#                     certificate made for the run) with chatd in plain
#                     text instead of Redis, on fanout, bigroom and c10k:
#                     the ratio TLS/plain, and at c10k the server's bytes
#                     per idle TLS connection beyond plain text's
#   --time-limit S    with --proto irc or --tls: a run that has not
#                     connected every client and finished in S seconds
#                     (default 150) is reported as "did not finish in S
#                     s", its figures left out, and that scenario is not
#                     run again on that server
#   -h, --help        print this help
#
# The loads are the full scenarios of scripts/stress.sh, and rooms:
#   fanout   100 clients, 10 senders, closed loop, window 64
#   bigroom  1000 clients, 4 senders, closed loop, window 64
#   latency  1000 clients, 10 senders, open loop, 2000 msg/s
#   c10k     10,000 clients, 10 senders, open loop, 100 msg/s
#   rooms    1000 clients in 100 rooms, 20 senders, closed loop, window
#            64 (chat-bench --rooms 100: 20 busy rooms of 10 clients
#            with one sender each, 80 quiet ones; Redis: 100 channels)
# each measured for 10 s after 1 s of warm-up.  Every run gets a fresh
# server: chatd --rate 0 -w $(nproc) on port 0, or redis-server on a free
# port with persistence off.  The runs alternate chatd, redis, chatd, ...
# The table gives the median of the runs: deliveries per second, p99
# latency, and for c10k the connect time and the server's RSS growth per
# connection ((after - before) / clients, from chat-bench --server-pid),
# for rooms the server's CPU use.  That is read from /proc every 0.2 s
# during the run and taken over the measure phase (after chat-bench's
# connect time and the warm-up), in % of one CPU: 200 is two busy cores.
#
# --proto irc: both servers get the same chat-bench options, with
# --connect-concurrency 8, because ngircd listens with a backlog of 10:
# 200 connects at once overflow it and the kernel's SYN retries (1, 3,
# 7 s...) would be measured, not ngircd.  ngircd runs with
# scripts/ngircd-bench.conf (no penalty time, no per-address or channel
# limits, no DNS or IDENT lookups).  In IRC a sender is not sent its own
# line, so a message is owed to N - 1 clients, on both servers.  chatd
# announces joins only in rooms of at most --announce-max (200) members
# and ngircd in every channel, so at c10k ngircd sends O(N^2) JOIN lines
# and chatd does not: that is chatd's design, and what the connect
# times compare; --announce-all gives chatd the same work as ngircd.
#
# Installs redis-server with apt-get if it is missing.  Everything it
# starts it stops by PID.  Exit status: 0 if every run completed, 1 if
# one could not be done, 2 on a usage error.

set -u

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"

die() {
	echo "bench-compare.sh: $*" >&2
	exit 1
}

quick=no
runs=3
peer=redis
baseline_bin=
proto=
announce=()
time_limit=150
only=
out=
chatd_bin=$(find_binary "${CHATD:-}" chatd)
bench_bin=$(find_binary "${CHAT_BENCH:-}" chat-bench)

while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=yes ;;
	--runs) [ $# -ge 2 ] || die_usage "--runs needs a number"
		runs=$2; shift ;;
	--out) [ $# -ge 2 ] || die_usage "--out needs a file"
		out=$2; shift ;;
	--only) [ $# -ge 2 ] || die_usage "--only needs scenario names"
		only=$2; shift ;;
	--scale) peer=scale ;;
	--proto) [ $# -ge 2 ] || die_usage "--proto needs irc"
		[ "$2" = irc ] || die_usage "--proto: only irc, not '$2'"
		[ "${proto:-irc}" = irc ] ||
		    die_usage "--proto irc and --tls exclude each other"
		proto=irc; shift ;;
	--announce-all) announce=(--announce-max 1000000) ;;
	--tls) [ "${proto:-tls}" = tls ] ||
		    die_usage "--proto irc and --tls exclude each other"
		proto=tls ;;
	--time-limit) [ $# -ge 2 ] || die_usage "--time-limit needs seconds"
		time_limit=$2; shift ;;
	--chatd) [ $# -ge 2 ] || die_usage "--chatd needs a path"
		chatd_bin=$2; shift ;;
	--chat-bench) [ $# -ge 2 ] || die_usage "--chat-bench needs a path"
		bench_bin=$2; shift ;;
	--baseline) [ $# -ge 2 ] || die_usage "--baseline needs a path"
		baseline_bin=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) die_usage "unknown option '$1'" ;;
	esac
	shift
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || die_usage "bad --runs '$runs'"
[[ $time_limit =~ ^[1-9][0-9]*$ ]] ||
    die_usage "bad --time-limit '$time_limit'"
if [ -n "$baseline_bin" ]; then
	[ "$peer" = redis ] ||
	    die_usage "--baseline and --scale exclude each other"
	peer=baseline
fi
[ ${#announce[@]} -eq 0 ] || [ "$proto" = irc ] ||
    die_usage "--announce-all goes with --proto irc"
if [ -n "$proto" ]; then
	[ "$peer" = redis ] ||
	    die_usage "--proto irc and --tls exclude --baseline, --scale and each other"
	peer=$proto
	[ "$peer" = irc ] && peer=ngircd
fi
[ -x "$chatd_bin" ] || die "no chatd at $chatd_bin (build it, or use --chatd)"
[ "$peer" != baseline ] || [ -x "$baseline_bin" ] ||
    die "no chatd at $baseline_bin (--baseline)"
[ -x "$bench_bin" ] ||
    die "no chat-bench at $bench_bin (build it, or use --chat-bench)"

# The loads: name, chat-bench options (no port, duration or output).
if [ "$quick" = yes ]; then
	DUR=3
	C10K_N=2000
	all_scenarios=(
	    "fanout|-n 100 -s 10 -w 64"
	    "bigroom|-n 500 -s 4 -w 64"
	    "latency|-n 500 -s 10 -r 1000"
	    "c10k|-n $C10K_N -s 10 -r 100 --connect-concurrency 500"
	    "rooms|-n 200 -s 10 --rooms 20 -w 64"
	)
else
	DUR=10
	C10K_N=10000
	all_scenarios=(
	    "fanout|-n 100 -s 10 -w 64"
	    "bigroom|-n 1000 -s 4 -w 64"
	    "latency|-n 1000 -s 10 -r 2000"
	    "c10k|-n $C10K_N -s 10 -r 100 --connect-concurrency 500"
	    "rooms|-n 1000 -s 20 --rooms 100 -w 64"
	)
fi
# --scale measures the rooms scenario unless told otherwise; IRC and
# TLS the three their issues name, and no other.
[ -z "$only" ] && [ "$peer" = scale ] && only=rooms
case $peer in
ngircd|tls)
	[ -n "$only" ] || only=fanout,bigroom,c10k
	IFS=, read -r -a wanted <<<"$only"
	for w in "${wanted[@]}"; do
		case $w in
		fanout|bigroom|c10k) ;;
		*) die_usage "--only: $w is not measured with --proto irc or --tls" ;;
		esac
	done
	;;
esac
scenarios=()
if [ -z "$only" ]; then
	scenarios=("${all_scenarios[@]}")
else
	IFS=, read -r -a wanted <<<"$only"
	for w in "${wanted[@]}"; do
		found=no
		for s in "${all_scenarios[@]}"; do
			if [ "${s%%|*}" = "$w" ]; then
				scenarios+=("$s")
				found=yes
			fi
		done
		[ "$found" = yes ] || die_usage "--only: no scenario '$w'"
	done
fi
has_scenario() {
	local s
	for s in "${scenarios[@]}"; do
		[ "${s%%|*}" = "$1" ] && return 0
	done
	return 1
}

# The servers compared: the runs alternate in this order, the table
# shows col_a and col_b and the ratio num / den.
case $peer in
scale)
	kinds=(chatd-w1 chatd-w2)
	col_a=chatd-w1 col_b=chatd-w2 num=chatd-w2 den=chatd-w1
	;;
ngircd)
	kinds=(chatd-irc ngircd)
	col_a=chatd-irc col_b=ngircd num=chatd-irc den=ngircd
	;;
tls)
	kinds=(chatd-tls chatd)
	col_a=chatd-tls col_b=chatd num=chatd-tls den=chatd
	;;
*)
	kinds=(chatd "$peer")
	col_a=chatd col_b=$peer num=chatd den=$peer
	;;
esac
WARMUP=1
DRAIN=5
CONNECT_TIMEOUT=60
BENCH_COMMON="-d $DUR --warmup $WARMUP --drain-timeout $DRAIN --connect-timeout $CONNECT_TIMEOUT --json -q"
WORKERS=$(nproc)
# --proto irc and --tls: each run within --time-limit, connect included.
BOUNDED_CONNECT=$((time_limit - WARMUP - DUR - DRAIN - 10))
if [ "$peer" = ngircd ] || [ "$peer" = tls ]; then
	[ "$BOUNDED_CONNECT" -ge 10 ] ||
	    die_usage "--time-limit $time_limit leaves less than 10 s to connect"
fi
NGIRCD=${NGIRCD:-/usr/sbin/ngircd}
# What chat-bench adds per server, after the scenario's own options.
declare -A bench_opts=(
    [redis]="--proto redis"
    [chatd-irc]="--proto irc --connect-concurrency 8 --connect-timeout $BOUNDED_CONNECT"
    [ngircd]="--proto irc --connect-concurrency 8 --connect-timeout $BOUNDED_CONNECT"
    [chatd-tls]="--tls --connect-timeout $BOUNDED_CONNECT"
)
[ "$peer" = tls ] && bench_opts[chatd]="--connect-timeout $BOUNDED_CONNECT"
# Scenarios a server did not finish: "SCENARIO.KIND" -> why.
declare -A dnf=()

tmp=
server_pid=
server_kind=
sampler_pid=
port=

cleanup() {
	stop_sampler
	stop_server >/dev/null 2>&1
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

ulimit -n "$(ulimit -Hn)" 2>/dev/null
if has_scenario c10k && [ "$(ulimit -n)" != unlimited ] &&
    [ "$(ulimit -n)" -lt $((C10K_N + 100)) ]; then
	die "ulimit -n is $(ulimit -n); c10k needs $((C10K_N + 100))" \
	    "(raise the hard limit, use --quick, or leave c10k out with --only)"
fi

# ---------------------------------------------------------------- redis

# install_package COMMAND PACKAGE: apt-get install PACKAGE unless
# COMMAND (a name or a path) is there.
install_package() {
	local sudo=
	command -v "$1" >/dev/null 2>&1 && return 0
	echo "$1 is missing: installing $2 with apt-get"
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 ||
		    die "not root and no sudo: install $2 by hand"
		sudo=sudo
	fi
	command -v apt-get >/dev/null 2>&1 ||
	    die "no apt-get: install $2 by hand"
	$sudo apt-get update -q >/dev/null ||
	    die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
	    "$2" >/dev/null || die "apt-get install $2 failed"
	# The package may start a system instance on its usual port; we
	# use our own on a free port and leave that one alone.
	command -v "$1" >/dev/null 2>&1 ||
	    die "$1 still missing after apt-get install $2"
}

redis_ping() {
	local fd reply
	{ exec {fd}<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
	printf 'PING\r\n' >&"$fd"
	IFS= read -r -t 2 -u "$fd" reply
	exec {fd}>&-
	[ "${reply%$'\r'}" = +PONG ]
}

# ---------------------------------------------------------------- servers

chatd_port() {
	port=$(listening_port "$tmp/server.log")
	[ -n "$port" ] || gone "$server_pid"
}

# The server logs that it listens on 127.0.0.1:$port (chatd says so for
# every listener, ngircd as "Now listening on [127.0.0.1]:PORT").
listens_on_port() {
	grep -Eq "listening.* \[?127\.0\.0\.1\]?:$port( |\$)" \
	    "$tmp/server.log" 2>/dev/null
}

# ngircd_exec PORT: become ngircd on PORT, with its relaxed
# configuration (start_on_port runs it in the background, so the PID is
# ngircd's).
ngircd_exec() {
	sed "s/@PORT@/$1/" "$root/scripts/ngircd-bench.conf" \
	    >"$tmp/ngircd.conf" || exit 1
	exec "$NGIRCD" -n -f "$tmp/ngircd.conf"
}

# A server on a port of our choosing: its IRC or TLS listener, or
# ngircd.  start_on_port KIND COMMAND...: COMMAND with @PORT@ replaced.
start_on_port() {
	local kind=$1 tries a argv
	shift
	for tries in 1 2 3 4 5; do
		port=$(free_port) || break
		argv=()
		for a in "$@"; do
			argv+=("${a//@PORT@/$port}")
		done
		"${argv[@]}" </dev/null >"$tmp/server.log" 2>&1 &
		server_pid=$!
		wait_for 50 listens_on_port && return 0
		# Taken, or it failed: say why if it is not a taken port.
		stop_server >/dev/null 2>&1
		port=
		: "$tries"
	done
	echo "$kind did not start:" "$(tail -n 3 "$tmp/server.log")" >&2
	return 1
}

# start_server chatd|chatd-wN|baseline|redis SCENARIO: a fresh server;
# sets server_pid and port.  chatd-wN is chatd with N workers.
start_server() {
	local kind=$1 scenario=$2 tries extra bin workers=$WORKERS
	server_kind=$kind
	port=
	extra=()
	[ "$scenario" = c10k ] && extra=(--max-clients "$C10K_N")
	case $kind in
	chatd-irc)
		start_on_port "$kind" "$chatd_bin" "${chatd_args[@]}" \
		    -w "$workers" "${extra[@]}" --irc-port @PORT@ \
		    --server-name bench.chatd.invalid "${announce[@]}"
		return
		;;
	chatd-tls)
		start_on_port "$kind" "$chatd_bin" "${chatd_args[@]}" \
		    -w "$workers" "${extra[@]}" "${irc_off[@]}" \
		    --tls-port @PORT@ --tls-cert "$tmp/cert.pem" \
		    --tls-key "$tmp/key.pem"
		return
		;;
	ngircd)
		start_on_port "$kind" ngircd_exec @PORT@
		return
		;;
	chatd|chatd-w*|baseline)
		bin=$chatd_bin
		[ "$kind" = baseline ] && bin=$baseline_bin
		if [ "$kind" = baseline ]; then
			extra+=("${baseline_irc_off[@]}")
		else
			extra+=("${irc_off[@]}")
		fi
		case $kind in
		chatd-w*) workers=${kind#chatd-w} ;;
		esac
		"$bin" "${chatd_args[@]}" -w "$workers" "${extra[@]}" \
		    </dev/null >"$tmp/server.log" 2>&1 &
		server_pid=$!
		if ! wait_for 50 chatd_port || [ -z "$port" ]; then
			echo "chatd did not start:" \
			    "$(tail -n 3 "$tmp/server.log")" >&2
			stop_server
			return 1
		fi
		;;
	redis)
		for tries in 1 2 3 4 5; do
			port=$(free_port) || break
			redis-server --port "$port" "${redis_args[@]}" \
			    </dev/null >"$tmp/server.log" 2>&1 &
			server_pid=$!
			if wait_for 50 redis_ping; then
				return 0
			fi
			stop_server
			port=
			: "$tries"
		done
		echo "redis-server did not start:" \
		    "$(tail -n 3 "$tmp/server.log")" >&2
		return 1
		;;
	esac
}

# Stop the server by its PID: SIGTERM, then SIGKILL after 5 s (30 s
# for ngircd).
stop_server() {
	local rc=0 tenths=50
	[ -n "$server_pid" ] || return 0
	# ngircd says goodbye to each client in turn: 2,000 take over 5 s.
	[ "$server_kind" = ngircd ] && tenths=300
	kill -TERM "$server_pid" 2>/dev/null
	if ! wait_for "$tenths" gone "$server_pid"; then
		echo "$server_kind did not stop within $((tenths / 10)) s" \
		    "of SIGTERM" >&2
		kill -KILL "$server_pid" 2>/dev/null
	fi
	wait "$server_pid" 2>/dev/null || rc=$?
	server_pid=
	[ "$rc" -eq 0 ] || echo "$server_kind exited with status $rc" >&2
	return "$rc"
}

# ---------------------------------------------------------------- runs

# CPU seconds (user + system) process $1 has used so far.
cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{
	    sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' \
	    "/proc/$1/stat" 2>/dev/null || echo 0
}

# sample_cpu PID FILE COUNT: every 0.2 s, at most COUNT times and while
# PID runs, append "TIME CPU_SECONDS" to FILE.
sample_cpu() {
	local pid=$1 file=$2 n=$3
	while [ "$n" -gt 0 ] && alive "$pid"; do
		echo "$EPOCHREALTIME $(cpu_s "$pid")" >>"$file"
		sleep 0.2
		n=$((n - 1))
	done
}

stop_sampler() {
	[ -n "$sampler_pid" ] || return 0
	kill "$sampler_pid" 2>/dev/null
	wait "$sampler_pid" 2>/dev/null
	sampler_pid=
}

# cpu_pct FILE START END: CPU use in % of one CPU between the first
# sample at or after START and the last at or before END (times in
# seconds); "-" if those are less than half of END - START apart.
cpu_pct() {
	awk -v s="$2" -v e="$3" '
	    $1 >= s && t0 == "" { t0 = $1; c0 = $2 }
	    $1 <= e { t1 = $1; c1 = $2 }
	    END { if (t0 == "" || t1 - t0 < (e - s) / 2) print "-"
	          else printf "%.0f\n", (c1 - c0) / (t1 - t0) * 100 }' "$1"
}

# run_one SCENARIO SERVER RUN OPTIONS: one chat-bench run on a fresh
# server; the summary goes to $tmp/SCENARIO.SERVER.RUN.json, the
# server's CPU % in the measure phase to $tmp/SCENARIO.SERVER.RUN.cpu.
run_one() {
	local scenario=$1 kind=$2 run=$3 opts=$4 json limit rc cpu0 cpu1
	local TIMEFORMAT='%U %S' samples t_start t_end pct bounded=no
	local connected failures
	json=$tmp/$scenario.$kind.$run.json
	samples=$tmp/samples
	start_server "$kind" "$scenario" || return 1
	limit=$((CONNECT_TIMEOUT + WARMUP + DUR + DRAIN + 30))
	if [ "$peer" = ngircd ] || [ "$peer" = tls ]; then
		bounded=yes
		limit=$time_limit
	fi
	# chat-bench's CPU time (user + system, from bash's time) and the
	# server's (from /proc): on one machine the two compete.
	cpu0=$(cpu_s "$server_pid")
	: >"$samples"
	sample_cpu "$server_pid" "$samples" $((limit * 5)) &
	sampler_pid=$!
	t_start=$EPOCHREALTIME
	# $opts and $BENCH_COMMON are lists of options: split them.
	# shellcheck disable=SC2086
	{
		time timeout "$limit" "$bench_bin" -p "$port" $opts \
		    $BENCH_COMMON ${bench_opts[$kind]:-} \
		    --server-pid "$server_pid" >"$json" 2>"$tmp/bench.err"
	} 2>"$tmp/time"
	rc=$?
	cpu1=$(cpu_s "$server_pid")
	stop_sampler
	stop_server
	# Bounded: every client connected and the run over within the
	# limit, or the figures would be of another load.
	connected=$(json_field "$json" connected 2>/dev/null)
	failures=$(json_field "$json" connect_failures 2>/dev/null)
	if [ "$bounded" = yes ] && { [ "$rc" -eq 124 ] ||
	    { [ "$rc" -eq 0 ] && [ "${failures:-0}" != 0 ]; } ||
	    grep -q 'connections ready after' "$tmp/bench.err"; }; then
		if [ "$rc" -eq 124 ]; then
			dnf[$scenario.$kind]="did not finish in $limit s"
		else
			dnf[$scenario.$kind]="did not finish in $limit s:"
			dnf[$scenario.$kind]+=" $(sed -n 's/^chat-bench: \([0-9]* of [0-9]* connections ready after [0-9.]* s\)$/\1/p' \
			    "$tmp/bench.err" | head -n 1)"
			dnf[$scenario.$kind]+="${connected:+ ($connected connected)}"
		fi
		echo "  $scenario $kind run $run: ${dnf[$scenario.$kind]}"
		mv -f "$json" "${json%.json}.dnf" 2>/dev/null
		return 2
	fi
	if [ "$rc" -ne 0 ] || [ ! -s "$json" ]; then
		echo "  $scenario $kind run $run: chat-bench failed (status" \
		    "$rc): $(head -c 300 "$tmp/bench.err" | tr '\n' ' ')" >&2
		rm -f "$json"
		return 1
	fi
	# The measure phase starts after the connect phase and the warm-up.
	t_start=$(awk -v t="$t_start" -v c="$(json_field "$json" connect_s)" \
	    -v w="$WARMUP" 'BEGIN { printf "%.3f", t + c + w }')
	t_end=$(awk -v t="$t_start" -v d="$DUR" 'BEGIN { printf "%.3f", t + d }')
	pct=$(cpu_pct "$samples" "$t_start" "$t_end")
	echo "$pct" >"${json%.json}.cpu"
	awk -v s="$scenario" -v k="$kind" -v r="$run" \
	    -v d="$(json_field "$json" deliveries_per_s)" -v p="$(json_field "$json" p99)" \
	    -v c="$(json_field "$json" connect_s)" -v lo="$(json_field "$json" lost)" \
	    -v di="$(json_field "$json" disconnects)" \
	    -v rb="$(json_field "$json" server_rss_before_kb)" \
	    -v ra="$(json_field "$json" server_rss_after_kb)" \
	    -v sc="$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { print b - a }')" \
	    -v bc="$(awk '{ print $1 + $2 }' "$tmp/time")" -v pc="$pct" \
	    'BEGIN { printf "  %-8s %-8s run %d: %10.0f deliveries/s, " \
	    "p99 %7.1f ms, connect %.3f s, RSS %s->%s kB, lost %s, " \
	    "disc %s; CPU s: server %.1f, chat-bench %.1f; server CPU " \
	    "measured %s%%\n", s, k, r, d, p / 1000, c, rb, ra, lo, di,
	    sc, bc, pc }'
	return 0
}

# values SCENARIO SERVER FIELD: that field from every run that completed.
values() {
	local f v
	for f in "$tmp/$1.$2".*.json; do
		[ -f "$f" ] || continue
		case $3 in
		rss_per_conn)
			v=$(awk -v a="$(json_field "$f" server_rss_after_kb)" \
			    -v b="$(json_field "$f" server_rss_before_kb)" \
			    -v n="$(json_field "$f" connected)" \
			    'BEGIN { if (n > 0 && a != "null")
			        printf "%.3f", (a - b) / n }') ;;
		p99_ms)
			v=$(awk -v p="$(json_field "$f" p99)" \
			    'BEGIN { printf "%.2f", p / 1000 }') ;;
		server_cpu_pct)
			v=$(cat "${f%.json}.cpu" 2>/dev/null)
			[ "$v" = - ] && v= ;;
		*)
			v=$(json_field "$f" "$3") ;;
		esac
		[ -n "$v" ] && echo "$v"
	done
}

# Sum of a count field over a scenario's runs on one server.
total() {
	local f sum=0 v
	for f in "$tmp/$1.$2".*.json; do
		[ -f "$f" ] || continue
		v=$(json_field "$f" "$3")
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# ---------------------------------------------------------------- main

case $peer in
redis) install_package redis-server redis-server ;;
ngircd) install_package "$NGIRCD" ngircd ;;
tls) install_package openssl openssl ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-compare.XXXXXX") || die "mktemp"
chatd_args=(--port 0 --bind 127.0.0.1 --rate 0)
# A chatd with IRC listens on 6667 unless told not to: only chatd-irc
# runs need it, and 6667 may be taken (a system ngircd).
irc_off=() baseline_irc_off=()
"$chatd_bin" --help 2>&1 | grep -q -- --irc-port && irc_off=(--irc-port 0)
# And on 6697 with a certificate.
"$chatd_bin" --help 2>&1 | grep -q -- --irc-tls-port &&
    irc_off+=(--irc-tls-port 0)
[ "$peer" = baseline ] && "$baseline_bin" --help 2>&1 |
    grep -q -- --irc-port && baseline_irc_off=(--irc-port 0)
case $peer in
ngircd)
	"$chatd_bin" --help 2>&1 | grep -q -- --irc-port ||
	    die "$chatd_bin has no --irc-port: build a chatd with IRC" ;;
tls)
	"$chatd_bin" --help 2>&1 | grep -q -- --tls-port ||
	    die "$chatd_bin has no --tls-port: build a chatd with TLS"
	"$bench_bin" --tls -p 1 2>&1 | grep -q 'built without TLS' &&
	    die "$bench_bin was built without TLS"
	# P-256, as a server would have; made for this run only.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -days 1 -subj /CN=localhost -keyout "$tmp/key.pem" \
	    -out "$tmp/cert.pem" 2>"$tmp/openssl.err" ||
	    die "openssl req failed: $(cat "$tmp/openssl.err")" ;;
esac
redis_args=(--bind 127.0.0.1 --save '' --appendonly no --daemonize no
    --maxclients 20000)

# label KIND: how the table names a server.
label() {
	case $1 in
	chatd-w*) echo "-w ${1#chatd-w}" ;;
	*) echo "$1" ;;
	esac
}

model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
started=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
machine="$(nproc) CPUs ($model), $(awk '/^MemTotal/ {
    printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)"
chatd_version=$("$chatd_bin" -V 2>&1 | head -n 1)
case $peer in
redis)
	peer_desc="$(command -v redis-server) ($(redis-server --version |
	    head -n 1))"
	title="chatd and redis"
	workers_desc="\`-w $WORKERS\`" ;;
baseline)
	peer_desc="$baseline_bin ($("$baseline_bin" -V 2>&1 | head -n 1))"
	title="chatd and baseline"
	workers_desc="\`-w $WORKERS\`" ;;
scale)
	peer_desc="the same chatd with -w 2 instead of -w 1"
	title="chatd -w 1 and -w 2"
	workers_desc="\`-w 1\` and \`-w 2\`" ;;
ngircd)
	peer_desc="$NGIRCD ($("$NGIRCD" --version 2>&1 | head -n 1))," \
	peer_desc+=" with scripts/ngircd-bench.conf"
	title="chatd and ngircd over IRC"
	workers_desc="\`-w $WORKERS\`" ;;
tls)
	peer_desc="the same chatd in plain text; TLS by $(openssl version)"
	title="chatd over TLS and in plain text"
	workers_desc="\`-w $WORKERS\`" ;;
esac

echo "date:     $started"
echo "machine:  $machine"
echo "chatd:    $chatd_bin ($chatd_version)"
printf '%-9s %s\n' "$peer:" "$peer_desc"
echo "runs:     $runs per scenario and server, alternating," \
    "$([ "$quick" = yes ] && echo quick || echo full) loads"
echo "commands (PORT and PID are each run's own):"
cmds=()
c10k_note=
has_scenario c10k && c10k_note="   (c10k: --max-clients $C10K_N)"
case $peer in
scale)
	cmds+=("$chatd_bin ${chatd_args[*]} ${irc_off[*]} -w 1, and -w 2$c10k_note") ;;
redis)
	cmds+=("$chatd_bin ${chatd_args[*]} ${irc_off[*]} -w $WORKERS$c10k_note")
	# %q shows --save '' as typed.
	cmds+=("redis-server --port PORT$(printf ' %q' "${redis_args[@]}")") ;;
baseline)
	cmds+=("$chatd_bin ${chatd_args[*]} ${irc_off[*]} -w $WORKERS$c10k_note")
	cmds+=("$baseline_bin ${chatd_args[*]} ${baseline_irc_off[*]} -w $WORKERS$c10k_note") ;;
ngircd)
	cmds+=("$chatd_bin ${chatd_args[*]} -w $WORKERS --irc-port PORT --server-name bench.chatd.invalid${announce[*]:+ ${announce[*]}}$c10k_note")
	cmds+=("$NGIRCD -n -f CONF   (CONF: scripts/ngircd-bench.conf, @PORT@ replaced)") ;;
tls)
	cmds+=("$chatd_bin ${chatd_args[*]} -w $WORKERS ${irc_off[*]} --tls-port PORT --tls-cert cert.pem --tls-key key.pem$c10k_note")
	cmds+=("$chatd_bin ${chatd_args[*]} -w $WORKERS ${irc_off[*]}$c10k_note")
	cmds+=("cert.pem, key.pem: openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost") ;;
esac
proto_opt=
case $peer in
redis) proto_opt=" [--proto redis]" ;;
ngircd) proto_opt=" ${bench_opts[ngircd]}" ;;
tls) proto_opt=" [--tls]" ;;
esac
for s in "${scenarios[@]}"; do
	cmd="${s%%|*}: $bench_bin -p PORT ${s#*|} $BENCH_COMMON$proto_opt"
	[ "$peer" = tls ] && cmd+=" --connect-timeout $BOUNDED_CONNECT"
	cmds+=("$cmd --server-pid PID")
done
if [ "$peer" = ngircd ] || [ "$peer" = tls ]; then
	cmds+=("(a run that has not connected every client and ended in" \
	    "$time_limit s did not finish)")
fi
for c in "${cmds[@]}"; do
	echo "  $c"
done
echo

t0=$SECONDS
incomplete=0
for s in "${scenarios[@]}"; do
	name=${s%%|*}
	opts=${s#*|}
	for ((r = 1; r <= runs; r++)); do
		for kind in "${kinds[@]}"; do
			# One that did not finish is not run again.
			[ -z "${dnf[$name.$kind]:-}" ] || continue
			run_one "$name" "$kind" "$r" "$opts"
			case $?:$kind in
			0:*) ;;
			# chatd must finish; a peer that did not is a finding.
			2:chatd*) incomplete=$((incomplete + 1)) ;;
			2:*) ;;
			*) incomplete=$((incomplete + 1)) ;;
			esac
		done
	done
done
echo "all runs: $((SECONDS - t0)) s"
echo

# The table: scenario, metric, the medians of col_a and col_b, and the
# ratio of the medians num / den.
rows=()
add_row() {
	local scenario=$1 metric=$2 field=$3 fmt=$4 a b n d ratio
	# shellcheck disable=SC2046
	a=$(median $(values "$scenario" "$col_a" "$field"))
	# shellcheck disable=SC2046
	b=$(median $(values "$scenario" "$col_b" "$field"))
	n=$a d=$b
	[ "$num" = "$col_a" ] || { n=$b; d=$a; }
	ratio=$(awk -v n="$n" -v d="$d" 'BEGIN {
	    if (n == "-" || d == "-" || d + 0 == 0) print "-";
	    else printf "%.2f", n / d }')
	[ "$a" = - ] || a=$(awk -v v="$a" -v f="$fmt" 'BEGIN { printf f, v }')
	[ "$b" = - ] || b=$(awk -v v="$b" -v f="$fmt" 'BEGIN { printf f, v }')
	[ -n "${dnf[$scenario.$col_a]:-}" ] && a="did not finish"
	[ -n "${dnf[$scenario.$col_b]:-}" ] && b="did not finish"
	rows+=("$scenario|$metric|$a|$b|$ratio")
}

# The value of a row's column: row_value SCENARIO METRIC-START 3|4|5.
row_value() {
	local row
	for row in "${rows[@]}"; do
		case $row in
		"$1|$2"*) echo "$row" | cut -d'|' -f"$3"; return ;;
		esac
	done
	echo -
}
for s in "${scenarios[@]}"; do
	name=${s%%|*}
	add_row "$name" "deliveries/s" deliveries_per_s "%.0f"
	case $name in
	latency|c10k)
		add_row "$name" "p99 latency, ms (lower is better)" p99_ms "%.1f" ;;
	esac
	if [ "$name" = c10k ]; then
		add_row "$name" "connect time, s (lower is better)" connect_s \
		    "%.3f"
		add_row "$name" "server RSS per connection, kB (lower is better)" \
		    rss_per_conn "%.2f"
		# What TLS costs an idle connection: the difference of the
		# medians, in bytes.
		if [ "$peer" = tls ]; then
			tls_bytes=$(awk \
			    -v a="$(row_value c10k "server RSS" 3)" \
			    -v b="$(row_value c10k "server RSS" 4)" 'BEGIN {
			    if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/) print "-";
			    else printf "%.0f", (a - b) * 1024 }')
			rows+=("c10k|server bytes per idle TLS connection, beyond plain|$tls_bytes|-|-")
		fi
	fi
	if [ "$name" = rooms ] || [ "$peer" = scale ]; then
		add_row "$name" "server CPU, % of one CPU, measured" \
		    server_cpu_pct "%.0f"
	fi
done

head_a="$(label "$col_a") median"
head_b="$(label "$col_b") median"
head_r="$(label "$num")/$(label "$den")"
printf '%-9s %-48s %14s %14s %12s\n' scenario metric "$head_a" "$head_b" \
    "$head_r"
for row in "${rows[@]}"; do
	IFS='|' read -r a b c d e <<<"$row"
	printf '%-9s %-48s %14s %14s %12s\n' "$a" "$b" "$c" "$d" "$e"
done

# --scale: say it in words, per scenario.
if [ "$peer" = scale ]; then
	echo
	for s in "${scenarios[@]}"; do
		name=${s%%|*}
		d_row='' c_row=''
		for row in "${rows[@]}"; do
			case $row in
			"$name|deliveries/s|"*) d_row=$row ;;
			"$name|server CPU"*) c_row=$row ;;
			esac
		done
		IFS='|' read -r _ _ d1 d2 dr <<<"$d_row"
		IFS='|' read -r _ _ c1 c2 cr <<<"$c_row"
		echo "$name: -w 2 makes $dr times the deliveries/s of -w 1" \
		    "($d2 against $d1); server CPU $c2% against $c1%" \
		    "(ratio $cr)"
	done
fi

# Correctness, summed over the runs: chat-bench's exact counts.
echo
notes=()
for s in "${scenarios[@]}"; do
	name=${s%%|*}
	for kind in "${kinds[@]}"; do
		lost=$(total "$name" "$kind" lost)
		disc=$(total "$name" "$kind" disconnects)
		reord=$(total "$name" "$kind" reordered)
		dup=$(total "$name" "$kind" duplicated)
		misr=$(total "$name" "$kind" misrouted)
		if [ $((lost + disc + reord + dup + misr)) -ne 0 ]; then
			notes+=("$name on $(label "$kind"): $lost lost," \
			    "$reord reordered, $dup duplicated, $misr" \
			    "misrouted, $disc disconnects over $runs runs")
		fi
	done
done
if [ ${#notes[@]} -eq 0 ]; then
	echo "Every completed run: 0 lost, 0 reordered, 0 duplicated," \
	    "0 misrouted, 0 disconnects, on both servers."
else
	printf '%s\n' "${notes[@]}"
fi
[ "$incomplete" -eq 0 ] || echo "$incomplete runs could not be done."
# Bounded runs: what did not finish, and the issues' goals.
unfinished=()
for key in "${!dnf[@]}"; do
	unfinished+=("${key%%.*} on $(label "${key#*.}"): ${dnf[$key]}")
done
goals=()
case $peer in
ngircd)
	# c10k is an open loop at a fixed rate: its goal is to finish.
	for s in "${scenarios[@]}"; do
		case ${s%%|*} in
		c10k)
			if [ -n "${dnf[c10k.chatd-irc]:-}" ]; then
				goals+=("c10k: chatd did not finish (goal: finish)")
			else
				took=$(row_value c10k "connect time" 3)
				goals+=("c10k: chatd finished, connect $took s (goal: finish)")
			fi ;;
		*)
			goals+=("${s%%|*}: chatd/ngircd deliveries/s $(row_value \
			    "${s%%|*}" deliveries/s 5) (goal: at least 3)") ;;
		esac
	done ;;
tls)
	has_scenario fanout && goals+=("fanout: TLS/plain deliveries/s $(
	    row_value fanout deliveries/s 5) (goal: at least 0.50)") ;;
esac
[ ${#unfinished[@]} -eq 0 ] || printf '%s\n' "${unfinished[@]}"
[ ${#goals[@]} -eq 0 ] || printf '%s\n' "${goals[@]}"

if [ -n "$out" ]; then
	{
		echo "## $title (\`scripts/bench-compare.sh\`)"
		echo
		echo "**Date:** $started.  **Machine:** $machine; client and" \
		    "servers on the same machine over loopback."
		echo "chatd: $chatd_version, $workers_desc;" \
		    "$peer: $peer_desc."
		echo
		echo "**Commands** (PORT and PID are each run's own; every run" \
		    "gets a fresh server; $runs runs per scenario and server," \
		    "alternating $(label "${kinds[0]}") and" \
		    "$(label "${kinds[1]}"); the median is shown):"
		echo
		for c in "${cmds[@]}"; do
			echo "    $c"
		done
		echo
		echo "| scenario | metric | $head_a | $head_b | $head_r |"
		echo "|---|---|---:|---:|---:|"
		for row in "${rows[@]}"; do
			IFS='|' read -r a b c d e <<<"$row"
			echo "| $a | $b | $c | $d | $e |"
		done
		echo
		if [ ${#notes[@]} -eq 0 ]; then
			echo "Every run: 0 lost, 0 reordered, 0 duplicated," \
			    "0 misrouted, 0 disconnects, on both servers."
		else
			printf -- '- %s\n' "${notes[@]}"
		fi
		[ "$incomplete" -eq 0 ] ||
		    echo "$incomplete runs could not be done."
		[ ${#unfinished[@]} -eq 0 ] ||
		    printf -- '- %s\n' "${unfinished[@]}"
		[ ${#goals[@]} -eq 0 ] || printf -- '- %s\n' "${goals[@]}"
	} >"$out" || die "cannot write $out"
	echo "markdown written to $out"
fi
[ "$incomplete" -eq 0 ]
