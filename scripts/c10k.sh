#!/usr/bin/env bash
#
# c10k.sh - 10,000 clients on one chatd: connect time, delivery time of
# one broadcast, and the daemon's memory per connection.
#
# Builds nothing: run it after "make" (and "make check" or
# "make tests/fanout_probe").  Override the binaries with CHATD and
# FANOUT_PROBE, the client count with N, the whole run is bounded by
# LIMIT seconds (120).  Prints PASS or FAIL last and exits 0 or 1.

set -u

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
CHATD=${CHATD:-$root/src/chatd}
FANOUT_PROBE=${FANOUT_PROBE:-$root/tests/fanout_probe}
N=${N:-10000}
LIMIT=${LIMIT:-120}
HOLD=3		# seconds the probe keeps every connection open at the end

tmp=
chatd_pid=
probe_pid=

cleanup() {
	[ -n "$probe_pid" ] && kill -KILL "$probe_pid" 2>/dev/null
	[ -n "$chatd_pid" ] && kill -KILL "$chatd_pid" 2>/dev/null
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "c10k: $*" >&2
	if [ -n "$tmp" ] && [ -s "$tmp/chatd.log" ]; then
		echo "c10k: chatd log (last 40 lines):" >&2
		tail -n 40 "$tmp/chatd.log" >&2
	fi
	echo FAIL
	exit 1
}

threads() {
	awk '/^Threads:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

log_port() {
	port=$(listening_port "$tmp/chatd.log")
	[ -n "$port" ]
}

probe_holding() {
	grep -q '^holding:' "$tmp/probe.out" 2>/dev/null ||
	    ! kill -0 "$probe_pid" 2>/dev/null
}

chatd_gone() {
	! kill -0 "$chatd_pid" 2>/dev/null
}

[ -x "$CHATD" ] || fail "no chatd at $CHATD (run make first, or set CHATD)"
[ -x "$FANOUT_PROBE" ] || fail "no fanout_probe at $FANOUT_PROBE" \
    "(make tests/fanout_probe, or set FANOUT_PROBE)"

ulimit -n "$(ulimit -Hn)" 2>/dev/null
nofile=$(ulimit -n)
if [ "$nofile" != unlimited ] && [ "$nofile" -lt $((N + 64)) ]; then
	fail "ulimit -n is $nofile, $N clients need more (raise the hard limit)"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/c10k.XXXXXX") || fail "mktemp"
start=$SECONDS

"$CHATD" -w 2 --port 0 --irc-port 0 --bind 127.0.0.1 --max-clients 10000 --rate 0 \
    </dev/null >"$tmp/chatd.log" 2>&1 &
chatd_pid=$!
port=
wait_for 50 log_port || fail "chatd did not report its port within 5 s"
rss_before=$(proc_kb "$chatd_pid" VmRSS)
threads_before=$(threads "$chatd_pid")
[ -n "$rss_before" ] || fail "cannot read /proc/$chatd_pid/status"
echo "chatd pid $chatd_pid on 127.0.0.1:$port, RSS before: $rss_before kB"

budget=$((LIMIT - (SECONDS - start) - 10))
[ "$budget" -gt 20 ] || fail "LIMIT=$LIMIT leaves no time for the probe"
timeout "$budget" "$FANOUT_PROBE" -n "$N" -p "$port" \
    -t $((budget - HOLD - 5)) -s "$HOLD" >"$tmp/probe.out" 2>"$tmp/probe.err" &
probe_pid=$!
wait_for $((budget * 10)) probe_holding
rss_after=$(proc_kb "$chatd_pid" VmRSS)
threads_after=$(threads "$chatd_pid")
wait "$probe_pid"
probe_rc=$?
probe_pid=

cat "$tmp/probe.out"
cat "$tmp/probe.err" >&2
[ "$probe_rc" -eq 0 ] || fail "fanout_probe exited $probe_rc"
[ -n "$rss_after" ] || fail "chatd is gone (no RSS while connected)"

connect=$(sed -n 's/^connected: .* in \([0-9.]*\) s$/\1/p' "$tmp/probe.out")
deliver=$(sed -n 's/^delivered: .* in \([0-9.]*\) s$/\1/p' "$tmp/probe.out")
per_conn=$(awk -v a="$rss_after" -v b="$rss_before" -v n="$N" \
    'BEGIN { printf "%.2f", (a - b) / n }')

echo "connect time:   ${connect:-?} s for $N clients"
echo "delivery time:  ${deliver:-?} s for one line to $N clients"
echo "RSS before:     $rss_before kB"
echo "RSS connected:  $rss_after kB"
echo "threads:        $threads_before idle, $threads_after with $N clients"
[ "$threads_before" = "$threads_after" ] ||
	fail "the thread count changed with the load"
echo "per connection: $per_conn kB"

kill -TERM "$chatd_pid"
wait_for 50 chatd_gone || fail "chatd still running 5 s after SIGTERM"
wait "$chatd_pid"
chatd_rc=$?
chatd_pid=
[ "$chatd_rc" -eq 0 ] || fail "chatd exited $chatd_rc after SIGTERM"
echo "chatd exited 0 after SIGTERM ($((SECONDS - start)) s in all)"
echo PASS
exit 0
