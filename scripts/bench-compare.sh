#!/usr/bin/env bash
#
# bench-compare.sh - the same chat-bench loads against chatd and against
# Redis pub/sub, on this machine, in one run; prints the medians side by
# side.
#
# Usage: scripts/bench-compare.sh [--quick] [--runs N] [--out FILE]
#                                 [--chatd PATH] [--chat-bench PATH]
#
#   --quick           smaller and shorter loads (those of stress.sh --quick)
#   --runs N          runs per scenario and server (default 3)
#   --out FILE        also write the results as markdown to FILE
#   --chatd PATH      chatd binary (default: $CHATD, else build/src/chatd,
#                     else src/chatd, relative to the repository root)
#   --chat-bench PATH chat-bench binary (default: $CHAT_BENCH, likewise)
#   --baseline PATH   compare chatd with another chatd binary (say, a
#                     build of the previous commit) instead of Redis:
#                     the same loads, alternating, the ratio new/old
#   -h, --help        print this help
#
# The loads are the full scenarios of scripts/stress.sh:
#   fanout   100 clients, 10 senders, closed loop, window 64
#   bigroom  1000 clients, 4 senders, closed loop, window 64
#   latency  1000 clients, 10 senders, open loop, 2000 msg/s
#   c10k     10,000 clients, 10 senders, open loop, 100 msg/s
# each measured for 10 s after 1 s of warm-up.  Every run gets a fresh
# server: chatd --rate 0 -w $(nproc) on port 0, or redis-server on a free
# port with persistence off.  The runs alternate chatd, redis, chatd, ...
# The table gives the median of the runs: deliveries per second, p99
# latency, and for c10k the connect time and the server's RSS growth per
# connection ((after - before) / clients, from chat-bench --server-pid).
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
	--chatd) [ $# -ge 2 ] || die_usage "--chatd needs a path"
		chatd_bin=$2; shift ;;
	--chat-bench) [ $# -ge 2 ] || die_usage "--chat-bench needs a path"
		bench_bin=$2; shift ;;
	--baseline) [ $# -ge 2 ] || die_usage "--baseline needs a path"
		baseline_bin=$2; peer=baseline; shift ;;
	-h|--help) usage; exit 0 ;;
	*) die_usage "unknown option '$1'" ;;
	esac
	shift
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || die_usage "bad --runs '$runs'"
[ -x "$chatd_bin" ] || die "no chatd at $chatd_bin (build it, or use --chatd)"
[ "$peer" = redis ] || [ -x "$baseline_bin" ] ||
    die "no chatd at $baseline_bin (--baseline)"
[ -x "$bench_bin" ] ||
    die "no chat-bench at $bench_bin (build it, or use --chat-bench)"

# The loads: name, chat-bench options (no port, duration or output).
if [ "$quick" = yes ]; then
	DUR=3
	C10K_N=2000
	scenarios=(
	    "fanout|-n 100 -s 10 -w 64"
	    "bigroom|-n 500 -s 4 -w 64"
	    "latency|-n 500 -s 10 -r 1000"
	    "c10k|-n $C10K_N -s 10 -r 100 --connect-concurrency 500"
	)
else
	DUR=10
	C10K_N=10000
	scenarios=(
	    "fanout|-n 100 -s 10 -w 64"
	    "bigroom|-n 1000 -s 4 -w 64"
	    "latency|-n 1000 -s 10 -r 2000"
	    "c10k|-n $C10K_N -s 10 -r 100 --connect-concurrency 500"
	)
fi
WARMUP=1
DRAIN=5
CONNECT_TIMEOUT=60
BENCH_COMMON="-d $DUR --warmup $WARMUP --drain-timeout $DRAIN --connect-timeout $CONNECT_TIMEOUT --json -q"
WORKERS=$(nproc)

tmp=
server_pid=
server_kind=
port=

cleanup() {
	stop_server >/dev/null 2>&1
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((C10K_N + 100)) ]; then
	die "ulimit -n is $(ulimit -n); c10k needs $((C10K_N + 100))" \
	    "(raise the hard limit, or use --quick)"
fi

# ---------------------------------------------------------------- redis

install_redis() {
	local sudo=
	command -v redis-server >/dev/null 2>&1 && return 0
	echo "redis-server is missing: installing it with apt-get"
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 ||
		    die "not root and no sudo: install redis-server by hand"
		sudo=sudo
	fi
	command -v apt-get >/dev/null 2>&1 ||
	    die "no apt-get: install redis-server by hand"
	$sudo apt-get update -q >/dev/null ||
	    die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
	    redis-server >/dev/null || die "apt-get install redis-server failed"
	# The package may start a system instance on 6379; we use our own
	# and leave that one alone.
	command -v redis-server >/dev/null 2>&1 ||
	    die "redis-server still missing after apt-get"
}

# A TCP port on 127.0.0.1 that nothing listens on, below the ephemeral
# range so that chat-bench's own connections cannot take it.
free_port() {
	local p tries=50
	while [ "$tries" -gt 0 ]; do
		p=$((20000 + RANDOM % 10000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
		tries=$((tries - 1))
	done
	return 1
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

# start_server chatd|redis SCENARIO: a fresh server; sets server_pid
# and port.
start_server() {
	local kind=$1 scenario=$2 tries extra bin
	server_kind=$kind
	port=
	case $kind in
	chatd|baseline)
		extra=()
		[ "$scenario" = c10k ] && extra=(--max-clients "$C10K_N")
		bin=$chatd_bin
		[ "$kind" = baseline ] && bin=$baseline_bin
		"$bin" "${chatd_args[@]}" "${extra[@]}" \
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

# Stop the server by its PID: SIGTERM, then SIGKILL after 5 s.
stop_server() {
	local rc=0
	[ -n "$server_pid" ] || return 0
	kill -TERM "$server_pid" 2>/dev/null
	if ! wait_for 50 gone "$server_pid"; then
		echo "$server_kind did not stop within 5 s of SIGTERM" >&2
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

jf() {
	sed -n "s/.*\"$2\": \([-0-9.a-z]*\).*/\1/p" "$1" | head -n 1
}

# median V...: the median of numbers (the mean of the middle two for
# an even count); "-" if there are none.
median() {
	[ $# -gt 0 ] || { echo -; return; }
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
	    END { if (NR % 2) print v[(NR + 1) / 2];
	          else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# run_one SCENARIO SERVER RUN OPTIONS: one chat-bench run on a fresh
# server; the summary goes to $tmp/SCENARIO.SERVER.RUN.json.
run_one() {
	local scenario=$1 kind=$2 run=$3 opts=$4 json limit rc cpu0 cpu1
	local proto=() TIMEFORMAT='%U %S'
	json=$tmp/$scenario.$kind.$run.json
	start_server "$kind" "$scenario" || return 1
	[ "$kind" = redis ] && proto=(--proto redis)
	limit=$((CONNECT_TIMEOUT + WARMUP + DUR + DRAIN + 30))
	# chat-bench's CPU time (user + system, from bash's time) and the
	# server's (from /proc): on one machine the two compete.
	cpu0=$(cpu_s "$server_pid")
	# $opts and $BENCH_COMMON are lists of options: split them.
	# shellcheck disable=SC2086
	{
		time timeout "$limit" "$bench_bin" "${proto[@]}" -p "$port" \
		    $opts $BENCH_COMMON --server-pid "$server_pid" \
		    >"$json" 2>"$tmp/bench.err"
	} 2>"$tmp/time"
	rc=$?
	cpu1=$(cpu_s "$server_pid")
	stop_server
	if [ "$rc" -ne 0 ] || [ ! -s "$json" ]; then
		echo "  $scenario $kind run $run: chat-bench failed (status" \
		    "$rc): $(head -c 300 "$tmp/bench.err" | tr '\n' ' ')" >&2
		rm -f "$json"
		return 1
	fi
	awk -v s="$scenario" -v k="$kind" -v r="$run" \
	    -v d="$(jf "$json" deliveries_per_s)" -v p="$(jf "$json" p99)" \
	    -v c="$(jf "$json" connect_s)" -v lo="$(jf "$json" lost)" \
	    -v di="$(jf "$json" disconnects)" \
	    -v rb="$(jf "$json" server_rss_before_kb)" \
	    -v ra="$(jf "$json" server_rss_after_kb)" \
	    -v sc="$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { print b - a }')" \
	    -v bc="$(awk '{ print $1 + $2 }' "$tmp/time")" \
	    'BEGIN { printf "  %-8s %-6s run %d: %10.0f deliveries/s, " \
	    "p99 %7.1f ms, connect %.3f s, RSS %s->%s kB, lost %s, " \
	    "disc %s; CPU s: server %.1f, chat-bench %.1f\n", s, k, r, d,
	    p / 1000, c, rb, ra, lo, di, sc, bc }'
	return 0
}

# values SCENARIO SERVER FIELD: that field from every run that completed.
values() {
	local f v
	for f in "$tmp/$1.$2".*.json; do
		[ -f "$f" ] || continue
		case $3 in
		rss_per_conn)
			v=$(awk -v a="$(jf "$f" server_rss_after_kb)" \
			    -v b="$(jf "$f" server_rss_before_kb)" \
			    -v n="$(jf "$f" connected)" \
			    'BEGIN { if (n > 0 && a != "null")
			        printf "%.3f", (a - b) / n }') ;;
		p99_ms)
			v=$(awk -v p="$(jf "$f" p99)" \
			    'BEGIN { printf "%.2f", p / 1000 }') ;;
		*)
			v=$(jf "$f" "$3") ;;
		esac
		[ -n "$v" ] && echo "$v"
	done
}

# Sum of a count field over a scenario's runs on one server.
total() {
	local f sum=0 v
	for f in "$tmp/$1.$2".*.json; do
		[ -f "$f" ] || continue
		v=$(jf "$f" "$3")
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# ---------------------------------------------------------------- main

[ "$peer" = redis ] && install_redis

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-compare.XXXXXX") || die "mktemp"
chatd_args=(--port 0 --bind 127.0.0.1 --rate 0 -w "$WORKERS")
redis_args=(--bind 127.0.0.1 --save '' --appendonly no --daemonize no
    --maxclients 20000)

model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
started=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
machine="$(nproc) CPUs ($model), $(awk '/^MemTotal/ {
    printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)"
chatd_version=$("$chatd_bin" -V 2>&1 | head -n 1)
if [ "$peer" = redis ]; then
	peer_desc="$(command -v redis-server) ($(redis-server --version |
	    head -n 1))"
else
	peer_desc="$baseline_bin ($("$baseline_bin" -V 2>&1 | head -n 1))"
fi

echo "date:     $started"
echo "machine:  $machine"
echo "chatd:    $chatd_bin ($chatd_version)"
printf '%-9s %s\n' "$peer:" "$peer_desc"
echo "runs:     $runs per scenario and server, alternating," \
    "$([ "$quick" = yes ] && echo quick || echo full) loads"
echo "commands (PORT and PID are each run's own):"
cmds=()
cmds+=("$chatd_bin ${chatd_args[*]}   (c10k: --max-clients $C10K_N)")
if [ "$peer" = redis ]; then
	cmds+=("redis-server --port PORT --bind 127.0.0.1 --save '' --appendonly no --daemonize no --maxclients 20000")
else
	cmds+=("$baseline_bin ${chatd_args[*]}   (c10k: --max-clients $C10K_N)")
fi
for s in "${scenarios[@]}"; do
	cmds+=("${s%%|*}: $bench_bin [--proto redis] -p PORT ${s#*|} $BENCH_COMMON --server-pid PID")
done
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
		for kind in chatd "$peer"; do
			run_one "$name" "$kind" "$r" "$opts" ||
			    incomplete=$((incomplete + 1))
		done
	done
done
echo "all runs: $((SECONDS - t0)) s"
echo

# The table: scenario, metric, chatd median, redis median, ratio.
rows=()
add_row() {
	local scenario=$1 metric=$2 field=$3 fmt=$4 c r ratio
	# shellcheck disable=SC2046
	c=$(median $(values "$scenario" chatd "$field"))
	# shellcheck disable=SC2046
	r=$(median $(values "$scenario" "$peer" "$field"))
	ratio=$(awk -v c="$c" -v r="$r" 'BEGIN {
	    if (c == "-" || r == "-" || r + 0 == 0) print "-";
	    else printf "%.2f", c / r }')
	[ "$c" = - ] || c=$(awk -v v="$c" -v f="$fmt" 'BEGIN { printf f, v }')
	[ "$r" = - ] || r=$(awk -v v="$r" -v f="$fmt" 'BEGIN { printf f, v }')
	rows+=("$scenario|$metric|$c|$r|$ratio")
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
	fi
done

printf '%-9s %-48s %14s %14s %12s\n' scenario metric "chatd median" \
    "$peer median" "chatd/$peer"
for row in "${rows[@]}"; do
	IFS='|' read -r a b c d e <<<"$row"
	printf '%-9s %-48s %14s %14s %12s\n' "$a" "$b" "$c" "$d" "$e"
done

# Correctness, summed over the runs: chat-bench's exact counts.
echo
notes=()
for s in "${scenarios[@]}"; do
	name=${s%%|*}
	for kind in chatd "$peer"; do
		lost=$(total "$name" "$kind" lost)
		disc=$(total "$name" "$kind" disconnects)
		reord=$(total "$name" "$kind" reordered)
		dup=$(total "$name" "$kind" duplicated)
		if [ $((lost + disc + reord + dup)) -ne 0 ]; then
			notes+=("$name on $kind: $lost lost, $reord reordered," \
			    "$dup duplicated, $disc disconnects over $runs runs")
		fi
	done
done
if [ ${#notes[@]} -eq 0 ]; then
	echo "Every completed run: 0 lost, 0 reordered, 0 duplicated," \
	    "0 disconnects, on both servers."
else
	printf '%s\n' "${notes[@]}"
fi
[ "$incomplete" -eq 0 ] || echo "$incomplete runs could not be done."

if [ -n "$out" ]; then
	{
		echo "## chatd and $peer (\`scripts/bench-compare.sh\`)"
		echo
		echo "**Date:** $started.  **Machine:** $machine; client and" \
		    "servers on the same machine over loopback."
		echo "chatd: $chatd_version, \`-w $WORKERS\`;" \
		    "$peer: $peer_desc."
		echo
		echo "**Commands** (PORT and PID are each run's own; every run" \
		    "gets a fresh server; $runs runs per scenario and server," \
		    "alternating chatd and $peer; the median is shown):"
		echo
		for c in "${cmds[@]}"; do
			echo "    $c"
		done
		echo
		echo "| scenario | metric | chatd median | $peer median | chatd/$peer |"
		echo "|---|---|---:|---:|---:|"
		for row in "${rows[@]}"; do
			IFS='|' read -r a b c d e <<<"$row"
			echo "| $a | $b | $c | $d | $e |"
		done
		echo
		if [ ${#notes[@]} -eq 0 ]; then
			echo "Every run: 0 lost, 0 reordered, 0 duplicated," \
			    "0 disconnects, on both servers."
		else
			printf -- '- %s\n' "${notes[@]}"
		fi
		[ "$incomplete" -eq 0 ] ||
		    echo "$incomplete runs could not be done."
	} >"$out" || die "cannot write $out"
	echo "markdown written to $out"
fi
[ "$incomplete" -eq 0 ]
