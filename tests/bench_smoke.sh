#!/bin/sh
#
# bench_smoke.sh - run chat-bench against a real chatd and check that
# nothing is lost, reordered or duplicated, then that chatd stops
# cleanly on SIGTERM.
#
# Needs CHATD and CHAT_BENCH (absolute paths; "make check" exports
# them).  Exit 0 pass, 1 fail, 77 skip.  Bounded: 60 s in all.

set -u

LIMIT=60

tmp=
chatd_pid=

cleanup() {
	[ -n "$chatd_pid" ] && kill -KILL "$chatd_pid" 2>/dev/null
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

fail() {
	echo "bench_smoke: FAIL: $*" >&2
	if [ -n "$tmp" ] && [ -s "$tmp/chatd.log" ]; then
		echo "bench_smoke: chatd log (last 20 lines):" >&2
		tail -n 20 "$tmp/chatd.log" >&2
	fi
	exit 1
}

if [ -z "${CHATD:-}" ] || [ -z "${CHAT_BENCH:-}" ]; then
	echo "bench_smoke: CHATD and CHAT_BENCH must be set; skipped" >&2
	exit 77
fi
[ -x "$CHATD" ] || fail "no chatd at $CHATD"
[ -x "$CHAT_BENCH" ] || fail "no chat-bench at $CHAT_BENCH"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench_smoke.XXXXXX") || fail "mktemp"
start=$(date +%s)

"$CHATD" --port 0 --irc-port 0 --bind 127.0.0.1 --rate 0 >"$tmp/chatd.log" 2>&1 &
chatd_pid=$!

# The log line's prefix may change; the address and port do not.
port=
tries=50
while [ -z "$port" ]; do
	port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' \
	    "$tmp/chatd.log" | head -n 1)
	[ -n "$port" ] && break
	kill -0 "$chatd_pid" 2>/dev/null || fail "chatd exited at start"
	tries=$((tries - 1))
	[ "$tries" -le 0 ] && fail "chatd did not say where it listens"
	sleep 0.1
done
echo "bench_smoke: chatd $chatd_pid on port $port"

# The run itself takes 2.5 s plus connect and drain; the rest is margin.
timeout_cmd=
command -v timeout >/dev/null 2>&1 && timeout_cmd="timeout 50"
$timeout_cmd "$CHAT_BENCH" -p "$port" -n 8 -s 2 --window 16 -d 2 \
    --warmup 0.5 --server-pid "$chatd_pid" --json -q \
    >"$tmp/out.json" 2>"$tmp/err.txt"
rc=$?
cat "$tmp/err.txt" >&2
[ "$rc" -eq 0 ] || fail "chat-bench exited with status $rc"
echo "bench_smoke: $(cat "$tmp/out.json")"

# The summary is one line of JSON with plain numeric fields.
field() {
	sed -n "s/.*\"$1\": \([-0-9.a-z]*\).*/\1/p" "$tmp/out.json"
}

check() {
	name=$1 op=$2 want=$3
	got=$(field "$name")
	[ -n "$got" ] || fail "no \"$name\" in the summary"
	if awk -v g="$got" -v w="$want" -v op="$op" 'BEGIN {
		if (op == "eq") exit !(g + 0 == w + 0)
		if (op == "gt") exit !(g + 0 > w + 0)
		exit 1 }'; then
		echo "bench_smoke: ok: $name = $got ($op $want)"
	else
		fail "$name = $got, expected $op $want"
	fi
}

check deliveries_per_s gt 0
check deliveries gt 0
check connected eq 8
check connect_failures eq 0
check disconnects eq 0
check lost eq 0
check reordered eq 0
check duplicated eq 0
check malformed eq 0
check server_errors eq 0
[ "$(field drained)" = true ] || fail "the drain did not complete"
echo "bench_smoke: ok: drained = true"
[ "$(field deliveries)" = "$(field expected)" ] ||
    fail "deliveries $(field deliveries) != expected $(field expected)"
echo "bench_smoke: ok: deliveries = expected = $(field expected)"
check server_rss_before_kb gt 0
check server_rss_after_kb gt 0

# A list of ports (a cluster's nodes): here the same node twice.
$timeout_cmd "$CHAT_BENCH" -p "$port,$port" -n 4 -s 2 --window 16 -d 0.5 \
    --warmup 0.2 --json -q >"$tmp/out.json" 2>"$tmp/err.txt" ||
    fail "chat-bench -p $port,$port: $(cat "$tmp/err.txt")"
check connected eq 4
check lost eq 0
[ "$(field deliveries)" = "$(field expected)" ] ||
    fail "two ports: deliveries $(field deliveries) != expected $(field expected)"
"$CHAT_BENCH" -p "$port,,$port" -n 1 -s 1 -d 0.1 >/dev/null 2>"$tmp/err.txt"
rc=$?
[ "$rc" -eq 2 ] && grep -q "not a port or a list" "$tmp/err.txt" ||
    fail "chat-bench -p with an empty port: status $rc, $(cat "$tmp/err.txt")"
echo "bench_smoke: ok: a list of ports, and an empty one refused"

kill -TERM "$chatd_pid" || fail "cannot signal chatd"
status=
tries=50
while kill -0 "$chatd_pid" 2>/dev/null; do
	tries=$((tries - 1))
	[ "$tries" -le 0 ] && fail "chatd still running 5 s after SIGTERM"
	sleep 0.1
done
wait "$chatd_pid"
status=$?
chatd_pid=
[ "$status" -eq 0 ] || fail "chatd exited with status $status after SIGTERM"
echo "bench_smoke: ok: chatd exited 0 after SIGTERM"

[ $(($(date +%s) - start)) -le "$LIMIT" ] ||
    fail "took more than $LIMIT s"
echo "bench_smoke: PASS"
exit 0
