#!/usr/bin/env bash
#
# stress.sh - named stress scenarios against chatd, driven by chat-bench
# and by small bash clients (/dev/tcp) that misbehave.
#
# Usage: scripts/stress.sh [--quick] [--only NAME] [--host H --port P]
#                          [--chatd PATH] [--chat-bench PATH]
#
#   --quick           every scenario, smaller and shorter (under 3 min)
#   --only NAME       run one scenario (see the list below)
#   --host H --port P use a running chatd instead of starting one per
#                     scenario; only the scenarios that need no special
#                     server settings run (churn, flood), the others
#                     print "SKIP NAME: needs its own chatd"
#   --chatd PATH      chatd binary (default: $CHATD, else build/src/chatd,
#                     else src/chatd, relative to the repository root)
#   --chat-bench PATH chat-bench binary (default: $CHAT_BENCH, likewise)
#   --keep            keep the scratch directory (logs, chat-bench output)
#   -h, --help        print this help
#
# Scenarios (full size; --quick is smaller):
#   fanout    100 clients, 10 senders, closed loop (window 64), --rate 0
#   bigroom   1000 clients, 4 senders, closed loop, --rate 0
#   latency   1000 clients, 10 senders, open loop 2000 msg/s, --rate 0;
#             p99 must stay under 500 ms
#   c10k      10,000 clients, 10 senders, 100 msg/s, --max-clients 10000
#             (skipped when the hard open-file limit is under clients +
#             100: chatd and chat-bench each need that many)
#   churn     100 clients chatting while 4 loops connect and leave
#             (default server settings)
#   slow      100 clients that never read beside 100 that do, --sendq
#             65536: every never-reader is cut off as too slow, the
#             readers lose nothing and p99 stays under 5 s (never-readers
#             may hold the senders for about 2.3 s at a stretch:
#             doc/SECURITY.md, section 2.1)
#   flood     one client sends 2000 lines at once to a --rate 20
#             --burst 40 server: it is throttled, not dropped, and the
#             others are unaffected
#   badinput  50 clients send random bytes, invalid UTF-8 and endless
#             lines while others chat, --rate 0; chatd's RSS at the end
#             stays under 64 MB (its peak under 128 MB)
#
# Each scenario starts its own chatd (port 0 on 127.0.0.1), stops it
# with SIGTERM, and fails if chatd died, did not exit 0 within 5 s, or
# its peak RSS (VmHWM) passed the scenario's bound (64 MB, 128 MB for
# bigroom, latency and badinput, 256 MB for c10k).  Each prints one
# line, "PASS name: figures", "FAIL name: why -- figures" or "SKIP
# name: why"; the last line is "N passed, N failed".  Skipped scenarios count
# in neither.  Exit status: 0 if none failed, 1 if one did, 2 on a
# usage error.  On failure the scratch directory (chatd logs, chat-bench
# output) is kept and named on stderr.

set -u

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
all_scenarios=(fanout bigroom latency c10k churn slow flood badinput)
# Scenarios that work on a server with default settings.
external_ok=" churn flood "

quick=no
keep_tmp=no
only=
ext_host=
ext_port=
chatd_bin=$(find_binary "${CHATD:-}" chatd)
bench_bin=$(find_binary "${CHAT_BENCH:-}" chat-bench)

while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=yes ;;
	--only) [ $# -ge 2 ] || die_usage "--only needs a name"
		only=$2; shift ;;
	--host) [ $# -ge 2 ] || die_usage "--host needs a value"
		ext_host=$2; shift ;;
	--port) [ $# -ge 2 ] || die_usage "--port needs a value"
		ext_port=$2; shift ;;
	--chatd) [ $# -ge 2 ] || die_usage "--chatd needs a path"
		chatd_bin=$2; shift ;;
	--chat-bench) [ $# -ge 2 ] || die_usage "--chat-bench needs a path"
		bench_bin=$2; shift ;;
	--keep) keep_tmp=yes ;;
	-h|--help) usage; exit 0 ;;
	*) die_usage "unknown option '$1'" ;;
	esac
	shift
done

if [ -n "$only" ] && [[ " ${all_scenarios[*]} " != *" $only "* ]]; then
	die_usage "no scenario '$only' (one of: ${all_scenarios[*]})"
fi
if [ -n "$ext_host" ] || [ -n "$ext_port" ]; then
	if [ -z "$ext_host" ] || [ -z "$ext_port" ]; then
		die_usage "--host and --port go together"
	fi
	[[ $ext_port =~ ^[0-9]+$ ]] || die_usage "bad port '$ext_port'"
fi
external=no
[ -n "$ext_port" ] && external=yes

if [ "$external" = no ] && [ ! -x "$chatd_bin" ]; then
	echo "stress.sh: no chatd at $chatd_bin (build it, or use --chatd)" >&2
	exit 2
fi
if [ ! -x "$bench_bin" ]; then
	echo "stress.sh: no chat-bench at $bench_bin (build it, or use" \
	    "--chat-bench)" >&2
	exit 2
fi

# Sizes.  Durations are chat-bench's measure phase in seconds; the
# warm-up is 1 s, the drain at most 5 s.
if [ "$quick" = yes ]; then
	DUR=3
	FANOUT_N=100	FANOUT_S=10
	BIGROOM_N=500	BIGROOM_S=4
	LAT_N=500	LAT_S=10	LAT_R=1000
	C10K_N=2000	C10K_S=10	C10K_R=100
	CHURN_N=50	CHURN_S=5	CHURN_R=25	CHURN_LOOPS=2
	CHURN_MAX=600	CHURN_MIN=150
	SLOW_NR=50	SLOW_N=50	SLOW_S=4	SLOW_R=2000
	FLOOD_N=20	FLOOD_S=2	FLOOD_R=20	FLOOD_LINES=2000
	BAD_N=50	BAD_S=4		BAD_W=8		BAD_RANDOM_MB=1
	BAD_UTF8_LINES=5000
	BAD_ENDLESS_MB=2
else
	DUR=10
	FANOUT_N=100	FANOUT_S=10
	BIGROOM_N=1000	BIGROOM_S=4
	LAT_N=1000	LAT_S=10	LAT_R=2000
	C10K_N=10000	C10K_S=10	C10K_R=100
	CHURN_N=100	CHURN_S=5	CHURN_R=50	CHURN_LOOPS=4
	CHURN_MAX=4000	CHURN_MIN=1000
	SLOW_NR=100	SLOW_N=100	SLOW_S=4	SLOW_R=2000
	FLOOD_N=20	FLOOD_S=2	FLOOD_R=20	FLOOD_LINES=2000
	BAD_N=50	BAD_S=4		BAD_W=8		BAD_RANDOM_MB=4
	BAD_UTF8_LINES=20000
	BAD_ENDLESS_MB=8
fi
WARMUP=1
DRAIN=5
LAT_P99_MS=500		# latency: p99 bound
SLOW_P99_MS=200		# flood: the readers' p99 bound
# slow: the readers' p99 bound.  Stalled never-readers hold the senders
# until the hold budget (2 x --slow-timeout, drained at 7/8 while held)
# is spent, about 2.3 s at a stretch, and their backlog drains after;
# holding without end would give tens of seconds.
SLOW_HOLD_P99_MS=5000
SLOW_SIZE=1024		# slow: message size; 2 MB/s per client fills the
			# kernel's ~4 MB of socket buffers in about 2 s
FLOOD_RATE=20		# flood: the server's --rate and --burst
FLOOD_BURST=40

# Per-scenario state.
sdir=			# the scenario's scratch directory
host=127.0.0.1
port=
chatd_pid=
rss_bound_kb=		# bound on chatd's peak RSS (VmHWM)
rss_after_bound_kb=	# bound on its RSS at the end, if it has one
rss_before=
helpers=()		# background helpers (PIDs) to stop at the end
probs=()		# why the scenario fails
figs=()			# what it measured
skip=			# why the scenario was skipped
tmp=

ulimit -n "$(ulimit -Hn)" 2>/dev/null
nofile=$(ulimit -n)

cleanup() {
	stop_helpers
	if [ -n "$chatd_pid" ]; then
		kill -KILL "$chatd_pid" 2>/dev/null
		wait "$chatd_pid" 2>/dev/null
	fi
	if [ -n "$tmp" ]; then
		[ "$keep_tmp" = yes ] || rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

tmp=$(mktemp -d "${TMPDIR:-/tmp}/stress.XXXXXX") || {
	echo "stress.sh: mktemp failed" >&2
	exit 1
}

# ---------------------------------------------------------------- helpers

prob() { probs+=("$*"); }
fig() { figs+=("$*"); }

# Stop the background helpers and anything they listed in $sdir/pids.
stop_helpers() {
	local p pids=("${helpers[@]}")
	if [ -n "$sdir" ] && [ -f "$sdir/pids" ]; then
		while read -r p; do
			pids+=("$p")
		done <"$sdir/pids"
		rm -f "$sdir/pids"
	fi
	[ ${#pids[@]} -gt 0 ] || return 0
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait_for 20 gone "$p" || kill -KILL "$p" 2>/dev/null
	done
	for p in "${helpers[@]}"; do
		wait "$p" 2>/dev/null
	done
	helpers=()
}

log_port() {
	port=$(listening_port "$sdir/chatd.log")
	[ -n "$port" ] || ! alive "$chatd_pid"
}

# server_up RSS_BOUND_KB [CHATD OPTION]...: start this scenario's chatd
# (or, with --host/--port, use that one).
server_up() {
	rss_bound_kb=$1
	shift
	if [ "$external" = yes ]; then
		host=$ext_host
		port=$ext_port
		return 0
	fi
	host=127.0.0.1
	port=
	echo "$chatd_bin --port 0 --irc-port 0 --bind 127.0.0.1 $*" >"$sdir/chatd.cmd"
	"$chatd_bin" --port 0 --irc-port 0 --bind 127.0.0.1 "$@" </dev/null \
	    >"$sdir/chatd.log" 2>&1 &
	chatd_pid=$!
	if ! wait_for 50 log_port || [ -z "$port" ]; then
		prob "chatd did not start: $(tail -n 3 "$sdir/chatd.log" |
		    tr '\n' ' ')"
		return 1
	fi
	rss_before=$(proc_kb "$chatd_pid" VmRSS)
	return 0
}

# Stop this scenario's chatd: it must still run, and exit 0 within 5 s
# of SIGTERM; its peak RSS must stay under the bound.
server_down() {
	local rss_after hwm rc
	[ -n "$chatd_pid" ] || return 0
	if ! alive "$chatd_pid"; then
		wait "$chatd_pid"
		rc=$?
		prob "chatd died during the run (status $rc)"
		chatd_pid=
		return
	fi
	rss_after=$(proc_kb "$chatd_pid" VmRSS)
	hwm=$(proc_kb "$chatd_pid" VmHWM)
	kill -TERM "$chatd_pid"
	if ! wait_for 50 gone "$chatd_pid"; then
		prob "chatd still running 5 s after SIGTERM"
		kill -KILL "$chatd_pid" 2>/dev/null
	fi
	wait "$chatd_pid"
	rc=$?
	chatd_pid=
	[ "$rc" -eq 0 ] || prob "chatd exited with status $rc after SIGTERM"
	if [ -n "$rss_after_bound_kb" ]; then
		fig "RSS ${rss_before:-?}->${rss_after:-?} kB (bound" \
		    "$((rss_after_bound_kb / 1024)) MB), peak ${hwm:-?} kB" \
		    "(bound $((rss_bound_kb / 1024)) MB)"
		if [ -n "$rss_after" ] &&
		    [ "$rss_after" -gt "$rss_after_bound_kb" ]; then
			prob "RSS $rss_after kB at the end, over the bound of" \
			    "$rss_after_bound_kb kB"
		fi
	else
		fig "RSS ${rss_before:-?}->${rss_after:-?} kB, peak" \
		    "${hwm:-?} kB (bound $((rss_bound_kb / 1024)) MB)"
	fi
	if [ -n "$hwm" ] && [ "$hwm" -gt "$rss_bound_kb" ]; then
		prob "peak RSS $hwm kB over the bound of $rss_bound_kb kB"
	fi
	if grep -q ' error ' "$sdir/chatd.log"; then
		prob "chatd logged errors: $(grep ' error ' "$sdir/chatd.log" |
		    head -n 3 | tr '\n' ' ')"
	fi
}

# bench NAME CONNECT_TIMEOUT [CHAT-BENCH OPTION]...: one chat-bench run,
# its JSON summary in $sdir/NAME.json.
bench() {
	local name=$1 ct=$2 rc limit pidopt=()
	shift 2
	limit=$((ct + WARMUP + DUR + DRAIN + 15))
	[ -n "$chatd_pid" ] && pidopt=(--server-pid "$chatd_pid")
	echo "$bench_bin -H $host -p $port $* -d $DUR --warmup $WARMUP" \
	    "--drain-timeout $DRAIN --connect-timeout $ct --json -q" \
	    "${pidopt[*]}" >"$sdir/$name.cmd"
	timeout "$limit" "$bench_bin" -H "$host" -p "$port" "$@" \
	    -d "$DUR" --warmup "$WARMUP" --drain-timeout "$DRAIN" \
	    --connect-timeout "$ct" --json -q "${pidopt[@]}" \
	    >"$sdir/$name.json" 2>"$sdir/$name.err"
	rc=$?
	if [ "$rc" -eq 124 ]; then
		prob "chat-bench still running after $limit s"
		return 1
	elif [ "$rc" -ne 0 ]; then
		prob "chat-bench exited $rc: $(head -c 300 "$sdir/$name.err" |
		    tr '\n' ' ')"
		return 1
	elif [ ! -s "$sdir/$name.json" ]; then
		prob "chat-bench printed no summary"
		return 1
	fi
	return 0
}

# jf NAME FIELD: a numeric (or true/false) field of $sdir/NAME.json.
jf() {
	sed -n "s/.*\"$2\": \([-0-9.a-z]*\).*/\1/p" "$sdir/$1.json" | head -n 1
}

# check_bench NAME CLIENTS [foreign]: nothing lost, reordered,
# duplicated; everyone connected and stayed; the drain completed.  With
# "foreign", other clients chat in the room too, so lines that are not
# chat-bench payloads ("malformed") are expected.
check_bench() {
	local name=$1 n=$2 foreign=${3:-} f v
	v=$(jf "$name" connected)
	[ "$v" = "$n" ] || prob "$v of $n clients connected" \
	    "($(jf "$name" connect_failures) connect failures)"
	for f in lost reordered duplicated disconnects server_errors; do
		v=$(jf "$name" "$f")
		[ "$v" = 0 ] || prob "$f=$v"
	done
	if [ -z "$foreign" ]; then
		v=$(jf "$name" malformed)
		[ "$v" = 0 ] || prob "malformed=$v"
	fi
	v=$(jf "$name" drained)
	[ "$v" = true ] || prob "drain incomplete after $DRAIN s"
	v=$(jf "$name" sent_measure)
	if [ -z "$v" ] || [ "$v" -eq 0 ]; then
		prob "nothing sent while measuring"
	fi
}

# A few figures from a chat-bench summary.
bench_figs() {
	local name=$1
	awk -v d="$(jf "$name" deliveries_per_s)" \
	    -v m="$(jf "$name" messages_per_s)" \
	    -v p50="$(jf "$name" p50)" -v p99="$(jf "$name" p99)" \
	    -v lo="$(jf "$name" lost)" -v re="$(jf "$name" reordered)" \
	    -v du="$(jf "$name" duplicated)" -v di="$(jf "$name" disconnects)" \
	    'BEGIN { printf "%.0f deliveries/s, %.0f msg/s, p50 %.1f ms, " \
	    "p99 %.1f ms, lost/reordered/dup/disc %d/%d/%d/%d", d, m,
	    p50 / 1000, p99 / 1000, lo, re, du, di }'
}

# p99_under NAME MS: the p99 latency is under MS milliseconds.
p99_under() {
	local p99
	p99=$(jf "$1" p99)
	if [ -z "$p99" ] || awk -v p="$p99" -v b="$2" \
	    'BEGIN { exit !(p >= b * 1000) }'; then
		prob "p99 ${p99:-?} us not under $2 ms"
	fi
}

# Lines of the chatd log that match $1 (0 with an external server).
log_count() {
	[ -f "$sdir/chatd.log" ] || { echo 0; return; }
	grep -c -- "$1" "$sdir/chatd.log"
}

# ---------------------------------------------------------------- clients

# Short-lived connections, in a loop, one every PAUSE seconds or so,
# until MAX or the deadline (epoch seconds); writes "connects failures"
# to OUT.  The ways of leaving
# rotate: /quit, a chat line then close, close after the welcome, close
# before reading anything.
churn_loop() {
	local id=$1 max=$2 end=$3 pause=$4 out=$5 n=0 bad=0 i=0 fd line
	trap '' PIPE
	while [ $((n + bad)) -lt "$max" ] && [ "$EPOCHSECONDS" -lt "$end" ]; do
		i=$((i + 1))
		if ! exec {fd}<>"/dev/tcp/$host/$port"; then
			bad=$((bad + 1))
			continue
		fi
		if [ $((i % 4)) -ne 3 ]; then
			if ! IFS= read -r -t 5 -u "$fd" line ||
			    [[ $line != "-- welcome to chatd, you are "* ]]; then
				bad=$((bad + 1))
				exec {fd}>&-
				continue
			fi
		fi
		case $((i % 4)) in
		0) printf '/quit churn %d.%d\n' "$id" "$i" >&"$fd" ;;
		1) printf 'churn %d.%d says hello\n' "$id" "$i" >&"$fd" ;;
		esac
		exec {fd}>&-
		n=$((n + 1))
		sleep "$pause"
	done
	echo "$n $bad" >"$out"
}

# Hold N connections that never read, until killed: the fds are
# inherited by sleep, which replaces the shell.
never_readers() {
	local n=$1 ready=$2 i fd opened=0
	for ((i = 0; i < n; i++)); do
		exec {fd}<>"/dev/tcp/$host/$port" || break
		opened=$((opened + 1))
	done
	echo "$opened" >"$ready"
	exec sleep 600
}

# One client that writes LINES lines as fast as it can, and reads
# everything into $sdir/flood.out.
flooder() {
	local lines=$1 fd welcome pad
	trap '' PIPE
	exec {fd}<>"/dev/tcp/$host/$port" || exit 1
	IFS= read -r -t 5 -u "$fd" welcome || exit 1
	echo "$welcome" >"$sdir/flood.welcome"
	cat <&"$fd" >"$sdir/flood.out" &
	echo $! >>"$sdir/pids"
	pad=$(printf '%080d' 0)
	date +%s.%N >"$sdir/flood.start"
	# shellcheck disable=SC2046
	printf "flood %05d $pad\n" $(seq "$lines") >&"$fd"
	date +%s.%N >"$sdir/flood.written"
	exec sleep 600
}

# The bad input, made before the clients start so that they only have
# to copy it: random bytes; lines of invalid UTF-8, one fault a line
# (overlong forms, C0/C1, a surrogate, above U+10FFFF, F5, a stray
# continuation, truncated sequences, a literal FF from telnet's IAC IAC)
# with a valid line holding control characters every 1000th line (the
# valid ones are relayed to everyone: more would be a flood, not bad
# input); and one endless line.
make_bad_input() {
	head -c "$((BAD_RANDOM_MB * 1048576 + BAD_N * 4096))" /dev/urandom \
	    >"$sdir/input.random" &&
	LC_ALL=C awk -v n="$BAD_UTF8_LINES" 'BEGIN {
		bad[0] = "overlong \300\257"
		bad[1] = "overlong \340\200\257"
		bad[2] = "c1 \301\201"
		bad[3] = "surrogate \355\240\200"
		bad[4] = "too big \364\220\200\200"
		bad[5] = "f5 \365\200\200\200"
		bad[6] = "stray \200 continuation"
		bad[7] = "truncated \342\202"
		bad[8] = "truncated \342\202 in the middle"
		bad[9] = "iac iac \377\377"
		for (i = 1; i <= n; i++)
			if (i % 1000 == 0)
				printf "ctl \033[2J\007 \177 \302\233 %d\n", i
			else
				printf "bad %s %d\n", bad[i % 10], i
	}' >"$sdir/input.utf8" &&
	{ head -c "$((BAD_ENDLESS_MB * 1048576))" /dev/zero | tr '\0' a &&
	    printf '\nafter the endless line\n'; } >"$sdir/input.endless"
}

# One client that sends bad input of KIND: it starts reading (the
# welcome and the "!! " lines go to $sdir/bad.IDX.out), says it is
# ready, waits for $sdir/go, writes, and stays connected until killed.
bad_client() {
	local kind=$1 idx=$2 fd reader
	trap '' PIPE
	exec {fd}<>"/dev/tcp/$host/$port" || exit 1
	grep -a --line-buffered -e '^!! ' -e '^-- welcome' <&"$fd" \
	    >"$sdir/bad.$idx.out" &
	reader=$!
	echo "$reader" >>"$sdir/pids"
	echo "$reader" >"$sdir/bad.$idx.pid"
	wait_for 100 grep -q '^-- welcome' "$sdir/bad.$idx.out"
	echo ready >"$sdir/bad.$idx.ready"
	wait_for 600 test -e "$sdir/go"
	# Each client starts at its own offset in the shared input.
	case $kind in
	random) tail -c +$((idx * 4096 + 1)) "$sdir/input.random" ;;
	*) cat "$sdir/input.$kind" ;;
	esac >&"$fd"
	echo finished >"$sdir/bad.$idx.done"
	exec sleep 600
}

# ---------------------------------------------------------------- scenarios

sc_fanout() {
	server_up $((64 * 1024)) --rate 0 || return
	bench fanout 20 -n "$FANOUT_N" -s "$FANOUT_S" -w 64 || return
	check_bench fanout "$FANOUT_N"
	fig "$FANOUT_N clients, $FANOUT_S senders: $(bench_figs fanout)"
}

sc_bigroom() {
	server_up $((128 * 1024)) --rate 0 || return
	bench bigroom 30 -n "$BIGROOM_N" -s "$BIGROOM_S" -w 64 || return
	check_bench bigroom "$BIGROOM_N"
	fig "$BIGROOM_N clients, $BIGROOM_S senders: $(bench_figs bigroom)"
}

sc_latency() {
	server_up $((128 * 1024)) --rate 0 || return
	bench latency 30 -n "$LAT_N" -s "$LAT_S" -r "$LAT_R" || return
	check_bench latency "$LAT_N"
	p99_under latency "$LAT_P99_MS"
	fig "$LAT_N clients at $LAT_R msg/s (p99 bound $LAT_P99_MS ms):" \
	    "$(bench_figs latency)"
}

sc_c10k() {
	local need hard free_files
	need=$((C10K_N + 100))
	hard=$(ulimit -Hn)
	if [ "$hard" != unlimited ] && [ "$hard" -lt "$need" ]; then
		skip="ulimit -Hn is $hard, each of chatd and chat-bench" \
		    "needs $need for $C10K_N clients"
		return
	fi
	read -r _ _ free_files </proc/sys/fs/file-nr
	free_files=$((free_files - $(cut -f1 /proc/sys/fs/file-nr)))
	if [ "$free_files" -lt $((2 * need)) ]; then
		skip="only $free_files files left system-wide" \
		    "(fs.file-max), $((2 * need)) needed"
		return
	fi
	server_up $((256 * 1024)) --rate 0 --max-clients "$C10K_N" || return
	bench c10k 60 -n "$C10K_N" -s "$C10K_S" -r "$C10K_R" \
	    --connect-concurrency 500 || return
	check_bench c10k "$C10K_N"
	fig "$C10K_N clients at $C10K_R msg/s, connected in" \
	    "$(jf c10k connect_s) s: $(bench_figs c10k)"
}

sc_churn() {
	local i end n bad pause per_loop connects=0 failures=0
	server_up $((64 * 1024)) || return
	end=$((EPOCHSECONDS + WARMUP + DUR + 1))
	per_loop=$((CHURN_MAX / CHURN_LOOPS))
	# Spread each loop's connections over the run.
	pause=$(awk -v t=$((WARMUP + DUR)) -v n="$per_loop" \
	    'BEGIN { printf "%.3f", t / n }')
	for ((i = 0; i < CHURN_LOOPS; i++)); do
		churn_loop "$i" "$per_loop" "$end" "$pause" \
		    "$sdir/churn.$i" 2>"$sdir/churn.$i.err" &
		helpers+=("$!")
	done
	bench churn 20 -n "$CHURN_N" -s "$CHURN_S" -r "$CHURN_R"
	# The loops end by themselves, at MAX or at the deadline.
	for ((i = 0; i < CHURN_LOOPS; i++)); do
		wait_for 100 test -s "$sdir/churn.$i"
	done
	stop_helpers
	for ((i = 0; i < CHURN_LOOPS; i++)); do
		if read -r n bad <"$sdir/churn.$i" 2>/dev/null; then
			connects=$((connects + n))
			failures=$((failures + bad))
		else
			prob "churn loop $i did not report"
		fi
	done
	# The loops are paced bash (a fork of sleep between connects), so
	# their rate is the shell's: the floor shows that churn happened
	# beside the chat, not how fast chatd accepts (chat-bench's c10k).
	[ "$connects" -ge "$CHURN_MIN" ] ||
	    prob "only $connects churn connects (want $CHURN_MIN)"
	[ "$failures" -eq 0 ] ||
	    prob "$failures churn connects failed or got no welcome"
	[ -s "$sdir/churn.json" ] || return
	check_bench churn "$CHURN_N" foreign
	fig "$connects short connections by $CHURN_LOOPS loops ($failures" \
	    "failed) beside $CHURN_N clients at $CHURN_R msg/s:" \
	    "$(bench_figs churn)"
}

all_cut_off() {
	[ "$(log_count "disconnected: too slow")" -ge "$SLOW_NR" ]
}

sc_slow() {
	local opened cut
	server_up $((64 * 1024)) --rate 0 --sendq 65536 || return
	never_readers "$SLOW_NR" "$sdir/slow.ready" 2>"$sdir/slow.err" &
	helpers+=("$!")
	wait_for 100 test -s "$sdir/slow.ready"
	opened=$(cat "$sdir/slow.ready" 2>/dev/null)
	if [ "${opened:-0}" -ne "$SLOW_NR" ]; then
		prob "only ${opened:-0} of $SLOW_NR never-readers connected"
		return
	fi
	bench slow 20 -n "$SLOW_N" -s "$SLOW_S" -r "$SLOW_R" \
	    --size "$SLOW_SIZE" || return
	check_bench slow "$SLOW_N"
	p99_under slow "$SLOW_HOLD_P99_MS"
	# Give the last cut-offs a moment to reach the log.
	wait_for 50 all_cut_off
	cut=$(log_count "disconnected: too slow")
	[ "$cut" -eq "$SLOW_NR" ] ||
	    prob "$cut clients cut off as too slow, want $SLOW_NR"
	fig "$cut of $SLOW_NR never-readers cut off as too slow," \
	    "$SLOW_N readers at $SLOW_R msg/s of $SLOW_SIZE bytes" \
	    "(p99 bound $SLOW_HOLD_P99_MS ms): $(bench_figs slow)"
	stop_helpers
}

sc_flood() {
	local nick echoes t max min fpid catpid
	server_up $((64 * 1024)) --rate "$FLOOD_RATE" --burst "$FLOOD_BURST" ||
	    return
	flooder "$FLOOD_LINES" 2>"$sdir/flood.err" &
	fpid=$!
	helpers+=("$fpid")
	if ! wait_for 50 test -s "$sdir/flood.start"; then
		prob "the flooder did not connect"
		return
	fi
	bench flood 20 -n "$FLOOD_N" -s "$FLOOD_S" -r "$FLOOD_R"
	# Throttled: at most burst + rate * elapsed of its lines handled.
	nick=$(sed -n 's/.*you are \([^ ]*\) .*/\1/p' "$sdir/flood.welcome")
	t=$(awk -v s="$(cat "$sdir/flood.start")" -v n="$(date +%s.%N)" \
	    'BEGIN { printf "%.1f", n - s }')
	echoes=$(grep -c "^<$nick> flood " "$sdir/flood.out" 2>/dev/null)
	max=$(awk -v t="$t" -v r="$FLOOD_RATE" -v b="$FLOOD_BURST" \
	    'BEGIN { printf "%d", (b + r * t) * 1.1 + 5 }')
	min=$(awk -v t="$t" -v r="$FLOOD_RATE" \
	    'BEGIN { printf "%d", r * t / 2 }')
	[ "${echoes:-0}" -le "$max" ] ||
	    prob "the flooder got $echoes lines through in $t s, not" \
	        "throttled (at most $max expected)"
	[ "${echoes:-0}" -ge "$min" ] ||
	    prob "only ${echoes:-0} of the flooder's lines relayed in $t s" \
	        "(at least $min expected)"
	# Not dropped: its reader still runs, and the log has no
	# disconnection for it.
	catpid=$(head -n 1 "$sdir/pids" 2>/dev/null)
	if [ -z "$catpid" ] || ! alive "$catpid"; then
		prob "the flooder ($nick) was disconnected"
	fi
	if [ "$(log_count " $nick disconnected")" -ne 0 ]; then
		prob "the log says: $(grep " $nick disconnected" \
		    "$sdir/chatd.log" | head -n 1)"
	fi
	[ -s "$sdir/flood.json" ] || return
	check_bench flood "$FLOOD_N" foreign
	p99_under flood "$SLOW_P99_MS"
	fig "flooder $nick: $echoes of $FLOOD_LINES lines relayed in $t s" \
	    "(--rate $FLOOD_RATE --burst $FLOOD_BURST allows $max)," \
	    "still connected, $FLOOD_N others at $FLOOD_R msg/s" \
	    "(p99 bound $SLOW_P99_MS ms): $(bench_figs flood)"
}

bad_count() {
	find "$sdir" -name "bad.*.$1" | wc -l
}

all_bad_ready() {
	[ "$(bad_count ready)" -ge "$BAD_N" ]
}

all_bad_done() {
	[ "$(bad_count "done")" -ge "$BAD_N" ]
}

sc_badinput() {
	local i kind done_n toolong invalid nick reason bpid
	local nrandom=20 nutf8=15 alive_n=0 slow_n=0 others=()
	if ! make_bad_input; then
		prob "cannot write the bad input in $sdir"
		return
	fi
	# A peak of up to clients x --sendq (1 MiB) is legitimate when our
	# bash readers fall behind on a busy machine; what stays must not.
	rss_after_bound_kb=$((64 * 1024))
	server_up $((128 * 1024)) --rate 0 || return
	for ((i = 0; i < BAD_N; i++)); do
		if [ "$i" -lt "$nrandom" ]; then
			kind=random
		elif [ "$i" -lt $((nrandom + nutf8)) ]; then
			kind=utf8
		else
			kind=endless
		fi
		bad_client "$kind" "$i" 2>"$sdir/bad.$i.err" &
		helpers+=("$!")
	done
	wait_for 150 all_bad_ready ||
	    prob "only $(bad_count ready) of $BAD_N bad clients got ready"
	# The bad input starts once chat-bench has connected.
	bench badinput 20 -n "$BAD_N" -s "$BAD_S" -w "$BAD_W" &
	bpid=$!
	sleep 0.5
	: >"$sdir/go"
	wait "$bpid"
	[ -s "$sdir/badinput.json" ] || prob "chat-bench failed:" \
	    "$(head -c 300 "$sdir/badinput.err" | tr '\n' ' ')"
	# The writers should be done by now; wait a little more if not.
	wait_for 300 all_bad_done
	done_n=$(bad_count "done")
	[ "$done_n" -eq "$BAD_N" ] ||
	    prob "only $done_n of $BAD_N bad clients wrote all their input"
	# Still connected?  And if not, why (from the log, by nickname)?
	for ((i = 0; i < BAD_N; i++)); do
		if alive "$(cat "$sdir/bad.$i.pid" 2>/dev/null)"; then
			alive_n=$((alive_n + 1))
			continue
		fi
		nick=$(sed -n 's/.*you are \([^ ]*\) .*/\1/p' \
		    "$sdir/bad.$i.out" 2>/dev/null | head -n 1)
		reason=$(sed -n "s/.* ${nick:-?} disconnected: //p" \
		    "$sdir/chatd.log" 2>/dev/null | head -n 1)
		if [ "$reason" = "too slow" ]; then
			slow_n=$((slow_n + 1))
		else
			others+=("client $i ${nick:-?}: ${reason:-unknown}")
		fi
	done
	# Cut off as too slow means our reader fell behind the room's
	# traffic: chatd's rule, not a reaction to the bad input.
	[ ${#others[@]} -eq 0 ] ||
	    prob "bad clients disconnected: ${others[*]:0:5}"
	toolong=$(cat "$sdir"/bad.*.out 2>/dev/null |
	    grep -a -c '^!! line too long')
	invalid=$(cat "$sdir"/bad.*.out 2>/dev/null |
	    grep -a -c '^!! invalid UTF-8')
	[ "$toolong" -gt 0 ] || prob "no \"line too long\" error came back"
	[ "$invalid" -gt 0 ] || prob "no \"invalid UTF-8\" error came back"
	fig "$BAD_N bad clients ($nrandom x ${BAD_RANDOM_MB} MB random," \
	    "$nutf8 x $BAD_UTF8_LINES invalid lines," \
	    "$((BAD_N - nrandom - nutf8)) x ${BAD_ENDLESS_MB} MB line):" \
	    "$done_n done, $alive_n still connected, $slow_n cut off as too" \
	    "slow, $invalid invalid-UTF-8 and $toolong line-too-long errors"
	[ -s "$sdir/badinput.json" ] || return
	check_bench badinput "$BAD_N" foreign
	fig "$BAD_N chatting clients, $BAD_S senders, window $BAD_W:" \
	    "$(bench_figs badinput)"
}

# ---------------------------------------------------------------- driver

passed=0
failed=0

# The arguments, separated by "; ".
joined() {
	local IFS=';' s
	s="$*"
	echo "${s//;/; }"
}

run_scenario() {
	local name=$1 start line
	if [ "$external" = yes ] && [[ $external_ok != *" $name "* ]]; then
		echo "SKIP $name: needs its own chatd"
		return
	fi
	sdir=$tmp/$name
	mkdir -p "$sdir"
	probs=()
	figs=()
	helpers=()
	chatd_pid=
	rss_before=
	rss_after_bound_kb=
	start=$SECONDS
	skip=
	"sc_$name"
	stop_helpers
	server_down
	if [ -n "$skip" ]; then
		echo "SKIP $name: $skip"
		return
	fi
	line="$name: $(joined "${figs[@]}")"
	line="$line ($((SECONDS - start)) s)"
	if [ ${#probs[@]} -eq 0 ]; then
		echo "PASS $line"
		passed=$((passed + 1))
	else
		echo "FAIL $name: $(joined "${probs[@]}") -- ${line#"$name: "}"
		failed=$((failed + 1))
		keep_tmp=yes
		if [ -s "$sdir/chatd.log" ]; then
			echo "  $name: chatd log, last lines:" >&2
			grep -v ' connected as \| disconnected: \(eof\|quit\)' \
			    "$sdir/chatd.log" | tail -n 8 | sed 's/^/    /' >&2
		fi
	fi
}

if [ "$external" = yes ]; then
	echo "stress.sh: using the chatd at $ext_host:$ext_port" \
	    "($([ "$quick" = yes ] && echo quick || echo full) sizes)"
else
	echo "stress.sh: $chatd_bin, $bench_bin, ulimit -n $nofile," \
	    "$([ "$quick" = yes ] && echo quick || echo full) sizes"
fi
for name in "${all_scenarios[@]}"; do
	[ -z "$only" ] || [ "$name" = "$only" ] || continue
	run_scenario "$name"
done
[ "$keep_tmp" = yes ] && echo "stress.sh: logs kept in $tmp" >&2
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
