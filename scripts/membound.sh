#!/usr/bin/env bash
#
# membound.sh - chatd's memory stays bounded by max-clients x sendq when
# most clients never read: 1,000 clients that never read beside 100
# readers fed by chat-bench.
#
# Usage: scripts/membound.sh [--chatd PATH] [--chat-bench PATH]
#                            [--idle-clients PATH] [--keep]
#
#   --chatd PATH      chatd binary (default: $CHATD, else build/src/chatd)
#   --chat-bench PATH chat-bench binary (default: $CHAT_BENCH, likewise)
#   --idle-clients PATH  the never-readers (default: $IDLE_CLIENTS, else
#                     tests/idle_clients next to chatd's src/; "make
#                     check" builds it)
#   --keep            keep the scratch directory (logs, JSON summaries)
#   -h, --help        print this help
#
# chatd runs with --rate 0 --max-clients 1200 --sendq 262144, so the
# bound is 1200 x 256 KiB = 307,200 kB.  Not the defaults: 10,000 x
# 1 MiB is 10 GB, a bound that no RSS on this machine could break, and
# a never-reader would need megabytes of traffic before its sendq is
# half full.  With 256 KiB each never-reader is behind within half a
# second of the readers' traffic, holds the senders (doc/SECURITY.md
# §2.1) and is cut off once it has been stalled for --slow-timeout, or
# at once when the never-readers have spent the hold budget: the
# mechanism the bound rests on.
#
# 1. The readers alone: chat-bench, 100 clients, 10 senders, open loop
#    250 msg/s of 1 KiB (about 256 KB/s to every client), 8 s measured.
# 2. 1,000 never-readers connect (tests/idle_clients, SO_RCVBUF 4096,
#    so that the kernel holds little for them); each one chatd cuts off
#    is opened again at once, so 1,000 press for the whole run.  The
#    same chat-bench run again.  chatd's VmRSS is sampled every 0.5 s
#    meanwhile; its VmHWM at the end is the peak.
# 3. The never-readers go; RSS after.  SIGTERM: chatd must exit 0.
#
# Fails if: the readers lose, reorder or duplicate anything, or are
# disconnected, in either run; fewer than 1,000 never-readers connect;
# the peak RSS reaches the bound; chatd does not exit 0.  The readers'
# throughput with the never-readers, over that without, is printed and
# not checked: this machine is shared and noisy.  The last line is
# "N passed, N failed".

set -u

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"

keep_tmp=no
chatd_bin=$(find_binary "${CHATD:-}" chatd)
bench_bin=$(find_binary "${CHAT_BENCH:-}" chat-bench)
idle_bin=${IDLE_CLIENTS:-}
while [ $# -gt 0 ]; do
	case $1 in
	--chatd) [ $# -ge 2 ] || die_usage "--chatd needs a path"
		chatd_bin=$2; shift ;;
	--chat-bench) [ $# -ge 2 ] || die_usage "--chat-bench needs a path"
		bench_bin=$2; shift ;;
	--idle-clients) [ $# -ge 2 ] || die_usage "--idle-clients needs a path"
		idle_bin=$2; shift ;;
	--keep) keep_tmp=yes ;;
	-h|--help) usage; exit 0 ;;
	*) die_usage "unknown option '$1'" ;;
	esac
	shift
done
[ -x "$chatd_bin" ] || die_usage "no chatd at $chatd_bin"
[ -x "$bench_bin" ] || die_usage "no chat-bench at $bench_bin"
[ -n "$idle_bin" ] || idle_bin=$(dirname "$chatd_bin")/../tests/idle_clients
[ -x "$idle_bin" ] || die_usage "no idle_clients at $idle_bin (make check" \
    "builds it)"

IDLE=1000		# clients that never read
READERS=100
SENDERS=10
RATE=250
SIZE=1024
DUR=8
MAX_CLIENTS=1200
SENDQ=262144
BOUND_KB=$((MAX_CLIENTS * SENDQ / 1024))

ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((IDLE + 200)) ]; then
	echo "membound.sh: ulimit -n is $(ulimit -n), $((IDLE + 200)) needed" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/membound.XXXXXX") || exit 1
chatd_pid=
idle_pid=
sampler_pid=

cleanup() {
	stop_pids "$sampler_pid"
	stop_pids "$idle_pid"
	if [ -n "$chatd_pid" ]; then
		kill -KILL "$chatd_pid" 2>/dev/null
		wait "$chatd_pid" 2>/dev/null
	fi
	[ "$keep_tmp" = yes ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

jf() {
	sed -n "s/.*\"$2\": \([-0-9.a-z]*\).*/\1/p" "$tmp/$1.json" | head -n 1
}

# bench NAME: the readers' chat-bench run; prints what went wrong.
bench() {
	local name=$1 f v bad=()
	if ! timeout 90 "$bench_bin" -p "$port" -n "$READERS" -s "$SENDERS" \
	    -r "$RATE" --size "$SIZE" -d "$DUR" --warmup 1 \
	    --drain-timeout 10 --connect-timeout 30 --json -q \
	    >"$tmp/$name.json" 2>"$tmp/$name.err"; then
		echo "chat-bench failed: $(head -c 200 "$tmp/$name.err" |
		    tr '\n' ' ')"
		return 1
	fi
	v=$(jf "$name" connected)
	[ "$v" = "$READERS" ] || bad+=("$v of $READERS connected")
	for f in lost reordered duplicated disconnects server_errors; do
		v=$(jf "$name" "$f")
		[ "$v" = 0 ] || bad+=("$f=$v")
	done
	[ "$(jf "$name" drained)" = true ] || bad+=("drain incomplete")
	[ ${#bad[@]} -eq 0 ] || { echo "${bad[*]}"; return 1; }
}

figs() {
	awk -v d="$(jf "$1" deliveries_per_s)" -v p50="$(jf "$1" p50)" \
	    -v p99="$(jf "$1" p99)" 'BEGIN { printf "%.0f deliveries/s, " \
	    "p50 %.1f ms, p99 %.1f ms", d, p50 / 1000, p99 / 1000 }'
}


"$chatd_bin" --port 0 --irc-port 0 --bind 127.0.0.1 --rate 0 \
    --max-clients "$MAX_CLIENTS" --sendq "$SENDQ" </dev/null \
    >"$tmp/chatd.log" 2>&1 &
chatd_pid=$!
port=
log_port() {
	port=$(listening_port "$tmp/chatd.log")
	[ -n "$port" ] || ! alive "$chatd_pid"
}
if ! wait_for 100 log_port || [ -z "$port" ]; then
	echo "membound.sh: chatd did not start: $(tail -n 3 "$tmp/chatd.log")" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
echo "membound.sh: $chatd_bin --max-clients $MAX_CLIENTS --sendq $SENDQ" \
    "--rate 0: bound $BOUND_KB kB; $IDLE never-readers, $READERS readers" \
    "($SENDERS senders, $RATE msg/s of $SIZE bytes, $DUR s)"
rss_before=$(proc_kb "$chatd_pid" VmRSS)

# chatd's CPU time so far, in clock ticks (utime + stime).
cpu_ticks() {
	sed 's/^.*) //' "/proc/$chatd_pid/stat" 2>/dev/null |
	    awk '{ print $12 + $13 }'
}
hz=$(getconf CLK_TCK)

# 1. The readers alone.
c0=$(cpu_ticks)
if why=$(bench alone); then
	result yes alone "readers alone: $(figs alone)"
else
	result no alone "readers alone: $why"
fi

cpu_alone=$(($(cpu_ticks) - c0))

# 2. With the never-readers.
"$idle_bin" -p "$port" -n "$IDLE" -b 4096 -t 120 -r >"$tmp/idle.out" \
    2>"$tmp/idle.err" &
idle_pid=$!
wait_for 300 grep -q '^ready' "$tmp/idle.out"
opened=$(sed -n 's/^ready //p' "$tmp/idle.out")
rss_idle=$(proc_kb "$chatd_pid" VmRSS)
(
	t0=$SECONDS
	while alive "$chatd_pid" && [ $((SECONDS - t0)) -lt 120 ]; do
		echo "$(proc_kb "$chatd_pid" VmRSS)"
		sleep 0.5
	done
) >"$tmp/rss.txt" 2>/dev/null &
sampler_pid=$!
c0=$(cpu_ticks)
if why=$(bench mixed); then
	result yes readers "with ${opened:-0} never-readers: $(figs mixed)"
else
	result no readers "with ${opened:-0} never-readers: $why"
fi
cpu_mixed=$(($(cpu_ticks) - c0))
stop_pids "$sampler_pid"
sampler_pid=
peak=$(proc_kb "$chatd_pid" VmHWM)
sampled=$(sort -n "$tmp/rss.txt" | tail -n 1)
# VmRSS is counted per thread and synced lazily: a sample can pass VmHWM.
[ -n "$sampled" ] && [ -n "$peak" ] && [ "$sampled" -gt "$peak" ] && peak=$sampled
stop_pids "$idle_pid"
idle_pid=
cut=$(grep -c 'disconnected: too slow' "$tmp/chatd.log")
reopened=$(sed -n 's/^reopened //p' "$tmp/idle.out")
if [ "${opened:-0}" -eq "$IDLE" ] && ! grep -q . "$tmp/idle.err"; then
	result yes idle "$opened never-readers connected, $cut cut off as" \
	    "too slow during the run, ${reopened:-?} reopened"
else
	result no idle "${opened:-0} of $IDLE never-readers connected:" \
	    "$(head -c 200 "$tmp/idle.err")"
fi
sleep 1
rss_after=$(proc_kb "$chatd_pid" VmRSS)
ratio=$(awk -v a="$(jf alone deliveries_per_s)" -v m="$(jf mixed deliveries_per_s)" \
    'BEGIN { if (a > 0) printf "%.2f", m / a; else print "?" }')
echo "membound.sh: readers' throughput with/without the never-readers:" \
    "$ratio; chatd's CPU time $((cpu_alone * 100 / hz))0 ms alone," \
    "$((cpu_mixed * 100 / hz))0 ms with the never-readers"
if [ -n "$peak" ] && [ "$peak" -lt "$BOUND_KB" ]; then
	result yes rss "RSS before $rss_before kB, with the never-readers" \
	    "connected $rss_idle kB, peak $peak kB (sampled max ${sampled:-?}" \
	    "kB), after $rss_after kB; bound $BOUND_KB kB, peak at" \
	    "$((peak * 100 / BOUND_KB))% of it"
else
	result no rss "peak ${peak:-?} kB not under the bound $BOUND_KB kB" \
	    "(before $rss_before kB, after ${rss_after:-?} kB)"
fi

kill -TERM "$chatd_pid"
wait_for 100 gone "$chatd_pid" || kill -KILL "$chatd_pid" 2>/dev/null
wait "$chatd_pid"
rc=$?
chatd_pid=
if [ "$rc" -eq 0 ]; then
	result yes exit "chatd exited 0 after SIGTERM"
else
	result no exit "chatd exited $rc after SIGTERM:" \
	    "$(grep -m 3 'ERROR\|SUMMARY' "$tmp/chatd.log" | tr '\n' ' ')"
fi
[ "$keep_tmp" = yes ] && echo "membound.sh: logs kept in $tmp" >&2
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
