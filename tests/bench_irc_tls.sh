#!/bin/sh
#
# bench_irc_tls.sh - chat-bench's other transports, briefly, against real
# servers, each run checked for exact delivery (deliveries = expected,
# nothing lost, reordered, duplicated or misrouted, no own line back):
#   - --proto irc against Debian's ngircd, with the relaxed configuration
#     of scripts/ngircd-bench.conf, and against chatd's --irc-port when
#     this chatd has one;
#   - --tls, verified with --ca, through a socat TLS front before a real
#     chatd, and --proto irc --tls through one before ngircd; against
#     chatd's own --tls-port when this chatd has one;
#   - --ca refuses a certificate that is not for the name asked.
# A part whose tool is missing (ngircd, socat, openssl) is skipped, and
# with nothing left to run the test skips (77); under CI=true a missing
# tool fails it instead.  A chat-bench built --without-tls skips the TLS
# parts anywhere.  Needs CHATD and CHAT_BENCH.  Bounded: 120 s.

set -u

LIMIT=120
NGIRCD=${NGIRCD:-/usr/sbin/ngircd}

top=$(cd "$(dirname "$0")/.." && pwd)
tmp=
pids=
ran=0
start=$(date +%s)

cleanup() {
	for p in $pids; do
		kill -KILL "$p" 2>/dev/null
	done
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

fail() {
	echo "bench_irc_tls: FAIL: $*" >&2
	for f in chatd.log ngircd.log socat.log err.txt; do
		if [ -z "$tmp" ] || [ ! -s "$tmp/$f" ]; then
			continue
		fi
		echo "bench_irc_tls: $f (last 10 lines):" >&2
		tail -n 10 "$tmp/$f" >&2
	done
	exit 1
}

# A tool this part needs is missing: skip the part, but not in CI.
missing() {
	[ "${CI:-}" = true ] && fail "$1 is missing (CI=true: not skipped)"
	echo "bench_irc_tls: $1 is missing: part skipped"
}

if [ -z "${CHATD:-}" ] || [ -z "${CHAT_BENCH:-}" ]; then
	echo "bench_irc_tls: CHATD and CHAT_BENCH must be set; skipped" >&2
	exit 77
fi
[ -x "$CHATD" ] || fail "no chatd at $CHATD"
[ -x "$CHAT_BENCH" ] || fail "no chat-bench at $CHAT_BENCH"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench_irc_tls.XXXXXX") || fail "mktemp"
# A chatd with IRC listens on 6667 unless told not to, and two cannot.
irc_off=
"$CHATD" --help 2>&1 | grep -q -- --irc-port && irc_off="--irc-port 0"

# wait_log FILE SED-EXPR PID: the first port that SED-EXPR finds in FILE
# while PID runs, within 5 s; nothing if PID died or time ran out.
wait_log() {
	tries=50
	while [ "$tries" -gt 0 ]; do
		got=$(sed -n "$2" "$1" 2>/dev/null | head -n 1)
		[ -n "$got" ] && { echo "$got"; return 0; }
		kill -0 "$3" 2>/dev/null || return 1
		tries=$((tries - 1))
		sleep 0.1
	done
	return 1
}

# A port below the ephemeral range; the caller retries if it is taken.
some_port() {
	echo $((20000 + $(od -An -N2 -tu2 /dev/urandom) % 10000))
}

start_chatd() {
	# shellcheck disable=SC2086
	"$CHATD" --port 0 --bind 127.0.0.1 --rate 0 $irc_off \
	    >"$tmp/chatd.log" 2>&1 &
	chatd_pid=$!
	pids="$pids $chatd_pid"
	chatd_port=$(wait_log "$tmp/chatd.log" \
	    's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' \
	    "$chatd_pid") || fail "chatd did not say where it listens"
}

# start_chatd_on OPTION [ARG...]: a second chatd, with OPTION (--irc-port
# or --tls-port) on a free port; sets port2.  chatd logs every listener
# as "listening ... 127.0.0.1:PORT".
start_chatd_on() {
	opt=$1
	shift
	for try in 1 2 3 4 5; do
		port2=$(some_port)
		"$CHATD" --port 0 --bind 127.0.0.1 --rate 0 "$opt" "$port2" "$@" \
		    >"$tmp/chatd2.log" 2>&1 &
		chatd2_pid=$!
		pids="$pids $chatd2_pid"
		wait_log "$tmp/chatd2.log" \
		    "s/.*listening.* 127\.0\.0\.1:\($port2\)\$/\1/p" \
		    "$chatd2_pid" >/dev/null && return 0
		kill -KILL "$chatd2_pid" 2>/dev/null
		: "$try"
	done
	fail "chatd $opt did not start: $(tail -n 3 "$tmp/chatd2.log")"
}

stop_chatd2() {
	kill -TERM "$chatd2_pid" 2>/dev/null
	wait "$chatd2_pid" 2>/dev/null
}

# ngircd on a free port, as bench-compare.sh runs it; sets ngircd_port.
start_ngircd() {
	for try in 1 2 3 4 5; do
		ngircd_port=$(some_port)
		sed "s/@PORT@/$ngircd_port/" "$top/scripts/ngircd-bench.conf" \
		    >"$tmp/ngircd.conf"
		"$NGIRCD" -n -f "$tmp/ngircd.conf" >"$tmp/ngircd.log" 2>&1 &
		ngircd_pid=$!
		pids="$pids $ngircd_pid"
		wait_log "$tmp/ngircd.log" "s/.*Now listening on .*:\($ngircd_port\) .*/\1/p" \
		    "$ngircd_pid" >/dev/null && return 0
		kill -KILL "$ngircd_pid" 2>/dev/null
		: "$try"
	done
	fail "ngircd did not start"
}

# socat_front TARGET_PORT: a TLS front on a free port; sets tls_port.
socat_front() {
	for try in 1 2 3 4 5; do
		tls_port=$(some_port)
		socat -d -d "OPENSSL-LISTEN:$tls_port,bind=127.0.0.1,reuseaddr,fork,cert=$tmp/cert.pem,key=$tmp/key.pem,verify=0" \
		    "TCP:127.0.0.1:$1" 2>"$tmp/socat.log" &
		socat_pid=$!
		pids="$pids $socat_pid"
		wait_log "$tmp/socat.log" "s/.*listening on .*:\($tls_port\)$/\1/p" \
		    "$socat_pid" >/dev/null && return 0
		kill -KILL "$socat_pid" 2>/dev/null
		: "$try"
	done
	fail "socat did not start"
}

# bench NAME OPTION...: a short chat-bench run into $tmp/NAME.json.
bench() {
	name=$1
	shift
	timeout 40 "$CHAT_BENCH" -n 8 -s 2 --window 16 -d 1.5 --warmup 0.5 \
	    --connect-concurrency 8 --json -q "$@" >"$tmp/$name.json" \
	    2>"$tmp/err.txt"
	rc=$?
	cat "$tmp/err.txt" >&2
	[ "$rc" -eq 0 ] || fail "$name: chat-bench exited with status $rc"
	echo "bench_irc_tls: $name: $(cat "$tmp/$name.json")"
}

field() {
	sed -n "s/.*\"$2\": \([-0-9.a-z\"]*\).*/\1/p" "$tmp/$1.json"
}

# exact NAME PROTO TLS: every message reached every receiver it was owed
# to, and nothing else happened.
exact() {
	name=$1
	[ "$(field "$name" proto)" = "\"$2\"" ] || fail "$name: proto is $(field "$name" proto)"
	[ "$(field "$name" tls)" = "$3" ] || fail "$name: tls is $(field "$name" tls)"
	for f in connect_failures disconnects lost reordered duplicated \
	    misrouted own_echo malformed server_errors unsent; do
		[ "$(field "$name" $f)" = 0 ] ||
		    fail "$name: $f = $(field "$name" $f), expected 0"
	done
	[ "$(field "$name" connected)" = 8 ] ||
	    fail "$name: $(field "$name" connected) of 8 connected"
	[ "$(field "$name" drained)" = true ] || fail "$name: no drain"
	d=$(field "$name" deliveries)
	[ "$d" -gt 0 ] 2>/dev/null || fail "$name: no deliveries"
	[ "$d" = "$(field "$name" expected)" ] ||
	    fail "$name: $d deliveries of $(field "$name" expected) expected"
	awk -v v="$(field "$name" deliveries_per_s)" 'BEGIN { exit !(v > 0) }' ||
	    fail "$name: deliveries_per_s is not positive"
	echo "bench_irc_tls: ok: $name: $d deliveries, as expected, none lost"
	ran=$((ran + 1))
}

# IRC: with 8 clients and 2 senders each message is owed to 7, not 8.
owed_to_others() {
	sent=$(field "$1" sent)
	[ "$(field "$1" expected)" = $((sent * 7)) ] ||
	    fail "$1: expected $(field "$1" expected), not 7 x $sent"
	echo "bench_irc_tls: ok: $1: each message owed to the 7 others"
}

have_ngircd=no
if [ -x "$NGIRCD" ]; then
	have_ngircd=yes
	start_ngircd
	bench irc-ngircd --proto irc -p "$ngircd_port"
	exact irc-ngircd irc false
	owed_to_others irc-ngircd
else
	missing "$NGIRCD (Debian: ngircd)"
fi
if "$CHATD" --help 2>&1 | grep -q -- --irc-port; then
	start_chatd_on --irc-port --server-name bench.chatd.invalid
	bench irc-chatd --proto irc -p "$port2"
	exact irc-chatd irc false
	owed_to_others irc-chatd
	stop_chatd2
else
	echo "bench_irc_tls: this chatd has no --irc-port: its IRC skipped"
fi

# TLS through socat.
tls=yes
if ! command -v socat >/dev/null 2>&1; then
	missing "socat (Debian: socat)"
	tls=no
elif ! command -v openssl >/dev/null 2>&1; then
	missing "openssl (Debian: openssl)"
	tls=no
elif "$CHAT_BENCH" --tls -p 1 2>&1 | grep -q 'built without TLS'; then
	echo "bench_irc_tls: chat-bench built without TLS: TLS skipped"
	tls=no
fi
if [ "$tls" = yes ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -days 1 -subj /CN=localhost -keyout "$tmp/key.pem" \
	    -out "$tmp/cert.pem" 2>"$tmp/err.txt" ||
	    fail "openssl req: $(cat "$tmp/err.txt")"
	start_chatd
	socat_front "$chatd_port"
	bench tls-chatd --tls --ca "$tmp/cert.pem" -H localhost -p "$tls_port"
	exact tls-chatd chatd true

	# The certificate is for localhost, not for 127.0.0.1.
	timeout 20 "$CHAT_BENCH" --tls --ca "$tmp/cert.pem" -H 127.0.0.1 \
	    -p "$tls_port" -n 2 -s 1 -d 0.2 --warmup 0 --connect-timeout 5 \
	    -q >"$tmp/out.txt" 2>"$tmp/err.txt" &&
	    fail "--ca accepted a certificate for another name"
	grep -q 'certificate verify failed' "$tmp/err.txt" ||
	    fail "--ca: no verification error: $(cat "$tmp/err.txt")"
	echo "bench_irc_tls: ok: --ca refuses a certificate for another name"

	if [ "$have_ngircd" = yes ]; then
		socat_front "$ngircd_port"
		bench tls-irc --proto irc --tls --insecure -p "$tls_port"
		exact tls-irc irc true
	fi

	# chatd's own TLS, when it has it and was built with it.
	if "$CHATD" --help 2>&1 | grep -q -- --tls-port &&
	    ! "$CHATD" --help 2>&1 | grep -q 'built without TLS'; then
		# shellcheck disable=SC2086
		start_chatd_on --tls-port --tls-cert "$tmp/cert.pem" \
		    --tls-key "$tmp/key.pem" $irc_off --irc-tls-port 0
		bench tls-chatd-own --tls --ca "$tmp/cert.pem" -H localhost \
		    -p "$port2"
		exact tls-chatd-own chatd true
		stop_chatd2
	else
		echo "bench_irc_tls: this chatd has no TLS: its own TLS skipped"
	fi
fi

[ "$ran" -gt 0 ] || { echo "bench_irc_tls: nothing to run: skipped"; exit 77; }
[ $(($(date +%s) - start)) -le "$LIMIT" ] || fail "took more than $LIMIT s"
echo "bench_irc_tls: PASS ($ran runs)"
exit 0
