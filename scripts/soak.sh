#!/usr/bin/env bash
#
# soak.sh - mixed traffic against one chatd under ASan for a bounded
# time, sampling its RSS; fails if the RSS keeps growing, if chatd does
# not exit 0 after SIGTERM, or if ASan/LSan reported anything.
#
# Usage: scripts/soak.sh [--quick] [--minutes N] [--build DIR] [--keep]
#
#   --quick       about 75 s of traffic (for CI), samples every 2 s
#   --minutes N   N minutes of traffic (default 10), samples every 5 s
#   --build DIR   the build to use (default: build-asan in the repository;
#                 made with scripts/setup.sh --enable-werror
#                 --enable-sanitizers=address if it has no chatd)
#   --keep        keep the scratch directory (logs, RSS curve)
#   -h, --help    print this help
#
# One chatd (--rate 0 --sendq 262144, port 0 on 127.0.0.1) serves
# rounds until the time is up.  Each round runs, at the same time:
#   - chat-bench, fanout (40 clients, 4 senders, 4000 msg/s of 64 bytes),
#     then latency (40 clients, 4 senders, 400 msg/s of 1 KiB), both open
#     loop: none of their messages may be lost, reordered or duplicated.
#     Open loop, because a closed loop only paces a sender by its own
#     echo: under ASan a lagging reader of a closed loop at full speed
#     passes any small sendq and is (rightly) cut off as too slow;
#   - a churn loop: short connections that read the welcome and leave in
#     turn by /quit, a chat line then close, or a plain close;
#   - a talker that changes its nick, asks /who, sends /msg to itself,
#     /me, a line of invalid UTF-8 and a 6000-byte line, then /quit, and
#     must get the answer to each;
#   - 5 clients that never read, kept until the end of the run: the
#     traffic of the rounds fills their socket buffers and sendq, and
#     chatd cuts them off as too slow.
#
# RSS: chatd's VmRSS is sampled every 5 s (2 s with --quick) and printed
# as "t=Ns rss=NkB", also into the file rss.txt in the scratch directory
# (copied to $SOAK_RSS_OUT if that is set).  The growth rule: drop the
# first third of the samples (warm-up: the allocator's arenas and ASan's
# quarantine fill), then compare the median of the last third with the
# median of the middle third.  It fails if the last is more than 10%
# AND more than 4096 kB above the middle: a leak of a few bytes per
# message grows without end, noise between rounds does not pass both.
# With --quick the limits are 25% and 8192 kB: in the 10-minute runs
# under ASan chatd's RSS climbed for some 4 minutes before it levelled
# off (see doc/PERFORMANCE.md), and a 75 s run took that warm-up for
# growth (+10.9%); so --quick is a smoke test that catches only fast
# growth.  The 10-minute run is
# the real check; LeakSanitizer at exit catches what is unreachable.
# ASan keeps freed memory in a quarantine (256 MB by default) that would
# itself look like growth for minutes, so ASAN_OPTIONS sets
# quarantine_size_mb=16 unless the caller's ASAN_OPTIONS already names
# a quarantine.
#
# Prints "PASS name: figures" or "FAIL name: why" for traffic, churn,
# talker, slow, growth and exit; the last line is "N passed, N failed".
# Exit status 0 if none failed, 1 otherwise, 2 on a usage error.

set -u

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"

quick=no
minutes=10
keep_tmp=no
build=$root/build-asan
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=yes ;;
	--minutes) [ $# -ge 2 ] || die_usage "--minutes needs a number"
		minutes=$2; shift ;;
	--build) [ $# -ge 2 ] || die_usage "--build needs a directory"
		build=$2; shift ;;
	--keep) keep_tmp=yes ;;
	-h|--help) usage; exit 0 ;;
	*) die_usage "unknown option '$1'" ;;
	esac
	shift
done
[[ $minutes =~ ^[0-9]+$ ]] && [ "$minutes" -ge 1 ] ||
    die_usage "bad --minutes '$minutes'"

if [ "$quick" = yes ]; then
	total_s=75
	sample_s=2
else
	total_s=$((minutes * 60))
	sample_s=5
fi
GROWTH_PCT=10
GROWTH_FLOOR_KB=4096
if [ "$quick" = yes ]; then
	GROWTH_PCT=25
	GROWTH_FLOOR_KB=8192
fi
DUR=3			# chat-bench measure phase, each of the two runs
SLOW_N=5
CHURN_PER_ROUND=200

if [ ! -x "$build/src/chatd" ] || [ ! -x "$build/src/chat-bench" ]; then
	echo "soak.sh: building $build (ASan)" >&2
	"$root/scripts/setup.sh" "$build" --enable-werror \
	    --enable-sanitizers=address >&2 &&
	    make -C "$build" -j2 >"${TMPDIR:-/tmp}/soak-make.$$.log" 2>&1 || {
		echo "soak.sh: build failed" >&2
		exit 1
	}
fi
chatd_bin=$build/src/chatd
bench_bin=$build/src/chat-bench

ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1 abort_on_error=1}
case $ASAN_OPTIONS in
*quarantine_size_mb*) ;;
*) ASAN_OPTIONS="$ASAN_OPTIONS quarantine_size_mb=16" ;;
esac
export ASAN_OPTIONS

ulimit -n "$(ulimit -Hn)" 2>/dev/null
tmp=$(mktemp -d "${TMPDIR:-/tmp}/soak.XXXXXX") || exit 1
chatd_pid=
sampler_pid=
helpers=()

cleanup() {
	[ ${#helpers[@]} -eq 0 ] || stop_pids "${helpers[@]}"
	[ -z "$sampler_pid" ] || stop_pids "$sampler_pid"
	if [ -n "$chatd_pid" ]; then
		kill -KILL "$chatd_pid" 2>/dev/null
		wait "$chatd_pid" 2>/dev/null
	fi
	[ "$keep_tmp" = yes ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

"$chatd_bin" --port 0 --irc-port 0 --bind 127.0.0.1 --rate 0 --sendq 262144 \
    </dev/null >"$tmp/chatd.log" 2>&1 &
chatd_pid=$!
port=
log_port() {
	port=$(listening_port "$tmp/chatd.log")
	[ -n "$port" ] || ! alive "$chatd_pid"
}
if ! wait_for 100 log_port || [ -z "$port" ]; then
	echo "soak.sh: chatd did not start:" >&2
	tail -n 5 "$tmp/chatd.log" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
echo "soak.sh: $chatd_bin (pid $chatd_pid, port $port), $total_s s," \
    "ASAN_OPTIONS='$ASAN_OPTIONS'"

# The sampler: one "t=Ns rss=NkB" line every sample_s seconds.
sampler() {
	local t0=$SECONDS rss
	while alive "$chatd_pid" && [ ! -e "$tmp/stop" ] &&
	    [ $((SECONDS - t0)) -le $((total_s + 120)) ]; do
		rss=$(proc_kb "$chatd_pid" VmRSS)
		[ -n "$rss" ] && echo "t=$((SECONDS - t0))s rss=${rss}kB" |
		    tee -a "$tmp/rss.txt"
		sleep "$sample_s"
	done
}
sampler &
sampler_pid=$!

# ------------------------------------------------------------ the actors

# churn OUT: up to CHURN_PER_ROUND short connections, 20 s at most;
# writes "connects failures".
churn() {
	local out=$1 end=$((SECONDS + 20)) n=0 bad=0 i=0 fd line
	trap '' PIPE
	while [ $((n + bad)) -lt "$CHURN_PER_ROUND" ] && [ "$SECONDS" -lt "$end" ]; do
		i=$((i + 1))
		if ! exec {fd}<>"/dev/tcp/127.0.0.1/$port"; then
			bad=$((bad + 1))
			continue
		fi
		if ! IFS= read -r -t 5 -u "$fd" line ||
		    [[ $line != "-- welcome to chatd, you are "* ]]; then
			bad=$((bad + 1))
			exec {fd}>&-
			continue
		fi
		case $((i % 3)) in
		0) printf '/quit soak churn %d\n' "$i" >&"$fd" ;;
		1) printf 'churn %d says hello\n' "$i" >&"$fd" ;;
		esac
		exec {fd}>&-
		n=$((n + 1))
		sleep 0.02
	done
	echo "$n $bad" >"$out"
}

# talker ROUND OUT: the commands, one at a time, then /quit; its whole
# output goes to OUT.  Exits 0 if each answer came.
talker() {
	local out=$2 fd cat_pid nick="soak_r$1" long
	trap '' PIPE
	exec {fd}<>"/dev/tcp/127.0.0.1/$port" || return 1
	cat <&"$fd" >"$out" &
	cat_pid=$!
	long=$(head -c 6000 /dev/zero | tr '\0' x)
	wait_for 50 grep -q '^-- welcome' "$out" || { kill "$cat_pid"; return 1; }
	printf '/nick %s\n/who\n/msg %s hello me\n/me soaks\n' "$nick" \
	    "$nick" >&"$fd"
	printf 'bad \300\257 utf8\n%s\n/quit soaked\n' "$long" >&"$fd"
	# chatd closes after /quit; cat ends then.
	wait_for 150 gone "$cat_pid" || kill "$cat_pid" 2>/dev/null
	wait "$cat_pid" 2>/dev/null
	exec {fd}>&-
	grep -q "is now known as $nick"$'\r'"\$" "$out" &&
	grep -q '^-- [0-9]* online: ' "$out" &&
	grep -q "^\*$nick\* hello me"$'\r'"\$" "$out" &&
	grep -q "^-> \*$nick\* hello me"$'\r'"\$" "$out" &&
	grep -q "^\* $nick soaks"$'\r'"\$" "$out" &&
	grep -q '^!! invalid UTF-8, line ignored' "$out" &&
	grep -q '^!! line too long (limit 4096 bytes), discarded' "$out"
}

# Hold SLOW_N connections that never read, until killed.
never_readers() {
	local i fd
	for ((i = 0; i < SLOW_N; i++)); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$port" || break
	done
	exec sleep 600
}

# bench NAME [OPTION]...: one chat-bench run; 0 if nothing was lost,
# reordered or duplicated and everybody connected.
jf() {
	sed -n "s/.*\"$2\": \([-0-9.a-z]*\).*/\1/p" "$tmp/$1.json" | head -n 1
}
bench() {
	local name=$1 f
	shift
	timeout 60 "$bench_bin" -p "$port" "$@" -d "$DUR" --warmup 1 \
	    --drain-timeout 10 --connect-timeout 20 --json -q \
	    >"$tmp/$name.json" 2>"$tmp/$name.err" || return 1
	[ "$(jf "$name" connected)" = 40 ] || return 1
	for f in lost reordered duplicated disconnects server_errors; do
		[ "$(jf "$name" "$f")" = 0 ] || return 1
	done
	[ "$(jf "$name" drained)" = true ]
}

# ------------------------------------------------------------ the rounds

round=0
slow_pids=()
bench_bad=()
talk_bad=()
churn_n=0
churn_bad=0
msgs=0
t_end=$((SECONDS + total_s))
while [ "$SECONDS" -lt "$t_end" ] && alive "$chatd_pid" && [ "$round" -lt 1000 ]; do
	round=$((round + 1))
	never_readers 2>/dev/null &
	slow_pid=$!
	churn "$tmp/churn.$round" 2>/dev/null &
	churn_pid=$!
	talker "$round" "$tmp/talk.$round" 2>/dev/null &
	talk_pid=$!
	slow_pids+=("$slow_pid")
	helpers=("${slow_pids[@]}" "$churn_pid" "$talk_pid")
	bench "fan.$round" -n 40 -s 4 -r 4000 || bench_bad+=("fan.$round")
	bench "lat.$round" -n 40 -s 4 -r 400 --size 1024 ||
	    bench_bad+=("lat.$round")
	for b in fan lat; do
		msgs=$((msgs + $(jf "$b.$round" sent_measure 2>/dev/null || echo 0)))
	done
	wait "$talk_pid" || talk_bad+=("$round")
	wait_for 250 gone "$churn_pid"
	if read -r n bad <"$tmp/churn.$round" 2>/dev/null; then
		churn_n=$((churn_n + n))
		churn_bad=$((churn_bad + bad))
	else
		churn_bad=$((churn_bad + 1))
	fi
	stop_pids "$churn_pid"
	helpers=("${slow_pids[@]}")
done
[ ${#slow_pids[@]} -eq 0 ] || stop_pids "${slow_pids[@]}"
helpers=()

: >"$tmp/stop"
stop_pids "$sampler_pid"
sampler_pid=

if [ ${#bench_bad[@]} -eq 0 ]; then
	result yes traffic "$round rounds, $((2 * round)) chat-bench runs," \
	    "$msgs messages measured, none lost, reordered or duplicated"
else
	result no traffic "chat-bench runs with losses or failures:" \
	    "${bench_bad[*]:0:10}"
fi
if [ "$churn_bad" -eq 0 ] && [ "$churn_n" -gt 0 ]; then
	result yes churn "$churn_n short connections, all welcomed"
else
	result no churn "$churn_bad of $((churn_n + churn_bad)) short" \
	    "connections failed"
fi
if [ ${#talk_bad[@]} -eq 0 ]; then
	result yes talker "$round talkers: nick, /who, /msg, /me, invalid" \
	    "UTF-8, a 6000-byte line, /quit all answered"
else
	result no talker "rounds without every answer: ${talk_bad[*]:0:10}"
fi
slow=$(grep -c 'disconnected: too slow' "$tmp/chatd.log")
if [ "$slow" -gt 0 ]; then
	result yes slow "$slow never-readers cut off as too slow" \
	    "(of $((round * SLOW_N)))"
else
	result no slow "no never-reader was cut off as too slow"
fi

# The growth rule (see the header).
# rss_median FROM TO: the median of samples FROM..TO (1-based) in rss.txt.
rss_median() {
	sed -n 's/^t=[0-9]*s rss=\([0-9]*\)kB$/\1/p' "$tmp/rss.txt" |
	    sed -n "$1,$2p" | sort -n | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]
		else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
n=$(grep -c '^t=' "$tmp/rss.txt" 2>/dev/null)
third=$(( ${n:-0} / 3 ))
if [ "$third" -ge 2 ]; then
	mid=$(rss_median $((third + 1)) $((2 * third)))
	last=$(rss_median $((2 * third + 1)) "$n")
fi
if [ "${n:-0}" -lt 6 ]; then
	result no growth "only ${n:-0} RSS samples"
else
	grow=$(awk -v m="$mid" -v l="$last" 'BEGIN { printf "%.1f", (l - m) * 100 / m }')
	if awk -v m="$mid" -v l="$last" -v p="$GROWTH_PCT" \
	    -v f="$GROWTH_FLOOR_KB" 'BEGIN { exit !(l - m > m * p / 100 && l - m > f) }'; then
		result no growth "RSS median $mid kB (middle third) -> $last kB" \
		    "(last third), +$grow%, over ${GROWTH_PCT}% and $GROWTH_FLOOR_KB kB"
	else
		result yes growth "RSS median $mid kB (middle third) -> $last kB" \
		    "(last third), ${grow}% ($n samples, peak" \
		    "$(proc_kb "$chatd_pid" VmHWM) kB)"
	fi
fi
[ -z "${SOAK_RSS_OUT:-}" ] || cp "$tmp/rss.txt" "$SOAK_RSS_OUT"

# A clean exit: 0 within 10 s of SIGTERM, nothing from ASan or LSan.
if alive "$chatd_pid"; then
	kill -TERM "$chatd_pid"
	wait_for 100 gone "$chatd_pid" || kill -KILL "$chatd_pid" 2>/dev/null
	wait "$chatd_pid"
	rc=$?
else
	wait "$chatd_pid"
	rc="died during the run, status $?"
fi
chatd_pid=
if [ "$rc" = 0 ] && ! grep -q 'ERROR: \(AddressSanitizer\|LeakSanitizer\)\|runtime error:' \
    "$tmp/chatd.log"; then
	result yes exit "status 0 after SIGTERM, no sanitizer report"
else
	result no exit "status $rc; $(grep -m 3 'ERROR: \|SUMMARY\|runtime error' \
	    "$tmp/chatd.log" | tr '\n' ' ')"
fi
[ "$keep_tmp" = yes ] && echo "soak.sh: logs kept in $tmp" >&2
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
