#!/bin/sh
#
# chat_tls.sh - chat --tls against a TLS front (socat) before a real
# chatd, on certificates the test makes with openssl.  It shows that:
#  1. with --ca naming the server's certificate, chat talks over TLS,
#     to 127.0.0.1 (an IP SAN) and to localhost (a DNS SAN, with SNI);
#  2. a certificate for another host is refused, the error says it is
#     the address or the host name that does not match, and nothing
#     reaches chatd; --insecure connects anyway and says on stderr that
#     nothing is verified;
#  3. a self-signed certificate without --ca is refused (the system's
#     CAs do not know it), and the error says so;
#  4. --password-file sends "/pass SECRET" as the first line, the
#     file's CRLF stripped (socat -v shows what went through to chatd);
#  5. --tls against chatd's plain-text port fails with a reason;
#  6. against chatd's own TLS port and its password: the right
#     --password-file gets in, a wrong one ends chat with status 1 and
#     says the password was refused (no reconnecting with it), and
#     without one a script is told to give it;
#  7. 3000 long lines go through TLS and all come back, in order, so
#     partial TLS writes and a growing output buffer lose nothing;
#  8. on a terminal (tmux, when there), chat reconnects over TLS after
#     the connection is cut, verifies again, and talks on; and a user
#     asked for the password types /pass, gets in, and the password is
#     not in the history file.
#
# Needs CHAT and CHATD ("make check" exports them), socat and openssl.
# Exit 0 pass, 1 fail, 77 skip: chat built --without-tls, or socat or
# openssl missing when not under CI (CI=true: missing is a failure).
# Every wait is bounded, and so is the whole test (CHAT_TLS_LIMIT, 60 s
# by default; it takes about 3): a watchdog kills what it started.

set -u

LIMIT=${CHAT_TLS_LIMIT:-60}

tmp=
chatd_pid=
fronts=
tmux_pid=
pchatd_pid=

. "$(dirname "$0")/watchdog.sh"

# socat forks a child for each connection: those go too, by their PIDs.
stop_front() {
	for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		kill -KILL "$child" 2>/dev/null
	done
	kill -KILL "$1" 2>/dev/null
}

cleanup() {
	[ -n "$tmux_pid" ] && kill -KILL "$tmux_pid" 2>/dev/null
	[ -n "$pchatd_pid" ] && kill -KILL "$pchatd_pid" 2>/dev/null
	for f in $fronts; do
		stop_front "$f"
	done
	[ -n "$chatd_pid" ] && kill -KILL "$chatd_pid" 2>/dev/null
	watchdog_stop
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

fail() {
	printf 'chat_tls: FAIL: %s\n' "$*" >&2
	for f in out err chatd.log; do
		if [ -n "$tmp" ] && [ -s "$tmp/$f" ]; then
			echo "chat_tls: --- $f" >&2
			tail -n 20 "$tmp/$f" >&2
		fi
	done
	exit 1
}

ok() {
	printf '%s\n' "chat_tls: ok: $*"
}

missing() {
	if [ "${CI:-}" = true ]; then
		echo "chat_tls: FAIL: $1 is missing (Debian: apt-get install $1)" >&2
		exit 1
	fi
	echo "chat_tls: $1 is missing (Debian: apt-get install $1); skipped"
	exit 77
}

if [ -z "${CHAT:-}" ] || [ -z "${CHATD:-}" ]; then
	echo "chat_tls: CHAT and CHATD must be set; run it with make check" >&2
	exit 1
fi
command -v openssl >/dev/null 2>&1 || missing openssl
command -v socat >/dev/null 2>&1 || missing socat

bounded=
command -v timeout >/dev/null 2>&1 && bounded="timeout 20"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chat_tls.XXXXXX") || fail "mktemp"
watchdog_start chat_tls "$LIMIT" "$tmp" || fail "no watchdog"

# A chat built --without-tls says so and exits 2; nothing else to test.
$bounded "$CHAT" --tls 127.0.0.1 1 </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
if grep -q 'built without TLS' "$tmp/err"; then
	[ "$rc" -eq 2 ] || fail "chat --tls without TLS exited $rc, not 2"
	echo "chat_tls: chat was built without TLS; skipped"
	exit 77
fi

# chat_run NAME ARG...: chat with NAME's lines on its input, its output
# in $tmp/out and $tmp/err; the exit status in rc.
chat_run() {
	input=$1
	shift
	printf '%s\n' "$input" | $bounded "$CHAT" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# cert NAME CN SAN: a self-signed certificate and its key.
cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
	    -keyout "$tmp/$1.key" -out "$tmp/$1.pem" -subj "/CN=$2" \
	    -addext "subjectAltName=$3" >"$tmp/openssl.log" 2>&1 ||
	    fail "openssl req: $(cat "$tmp/openssl.log")"
}

cert good localhost DNS:localhost,IP:127.0.0.1
cert other otherhost DNS:otherhost

"$CHATD" --port 0 --irc-port 0 --bind 127.0.0.1 --rate 0 >"$tmp/chatd.log" 2>&1 &
chatd_pid=$!
pid_note chatd "$chatd_pid"
tries=100
port=
while [ -z "$port" ]; do
	port=$(sed -n 's/^.* listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' \
	    "$tmp/chatd.log" 2>/dev/null | head -n 1)
	tries=$((tries - 1))
	[ "$tries" -le 0 ] && fail "chatd did not start"
	[ -z "$port" ] && sleep 0.1
done

# front NAME CERT: a TLS front for chatd on a free port, in front_port;
# socat -v logs what passes into $tmp/NAME.log.  A port taken meanwhile
# makes socat exit: another is tried.
front() {
	tries=20
	while :; do
		tries=$((tries - 1))
		[ "$tries" -le 0 ] && fail "no free port for the $1 front"
		front_port=$(( $(od -An -N2 -tu2 /dev/urandom) % 20000 + 30000 ))
		socat -d -d -v "OPENSSL-LISTEN:$front_port,bind=127.0.0.1,reuseaddr,fork,cert=$tmp/$2.pem,key=$tmp/$2.key,verify=0" \
		    "TCP:127.0.0.1:$port" 2>"$tmp/$1.log" &
		front_pid=$!
		fronts="$fronts $front_pid"
		pid_note "front-$1" "$front_pid"
		waited=50
		until grep -q 'listening on' "$tmp/$1.log" 2>/dev/null; do
			kill -0 "$front_pid" 2>/dev/null || break
			waited=$((waited - 1))
			[ "$waited" -le 0 ] && fail "socat ($1) did not listen"
			sleep 0.1
		done
		grep -q 'listening on' "$tmp/$1.log" && return 0
	done
}

front good good
good_port=$front_port
good_pid=$front_pid
front other other
other_port=$front_port
front pass good
pass_port=$front_port

# 1. Verified against --ca, by address and by name.
chat_run 'hello over tls' --tls --ca "$tmp/good.pem" -n alice 127.0.0.1 \
    "$good_port"
[ "$rc" -eq 0 ] || fail "chat --tls --ca to 127.0.0.1 exited $rc"
grep -qx '<alice> hello over tls' "$tmp/out" ||
    fail "no '<alice> hello over tls' echoed over TLS"
grep -q '^hello over tls$' "$tmp/good.log" ||
    fail "the line did not go through the TLS front"
ok "chat --tls --ca to 127.0.0.1: the line went through TLS and came back"

chat_run 'by name' --tls --ca "$tmp/good.pem" -n bob localhost "$good_port"
[ "$rc" -eq 0 ] || fail "chat --tls --ca to localhost exited $rc"
grep -qx '<bob> by name' "$tmp/out" || fail "no '<bob> by name' over TLS"
ok "chat --tls --ca to localhost (a DNS name, SNI) works too"

# 2. A certificate for otherhost, trusted but for another host.
chat_run 'must not pass' --tls --ca "$tmp/other.pem" 127.0.0.1 "$other_port"
[ "$rc" -eq 1 ] || fail "a certificate for otherhost: exit $rc, not 1"
grep -q 'certificate verify failed: IP address mismatch' "$tmp/err" ||
    fail "the error does not say the address mismatches: $(cat "$tmp/err")"
! grep -q 'must not pass' "$tmp/other.log" ||
    fail "a line went to chatd through a refused certificate"
ok "127.0.0.1 with a certificate for otherhost: $(cat "$tmp/err")"

chat_run 'must not pass' --tls --ca "$tmp/other.pem" localhost "$other_port"
[ "$rc" -eq 1 ] || fail "localhost, certificate for otherhost: exit $rc"
grep -q 'certificate verify failed: hostname mismatch' "$tmp/err" ||
    fail "the error does not say the name mismatches: $(cat "$tmp/err")"
ok "localhost with a certificate for otherhost: refused, 'hostname mismatch'"

chat_run 'insecure anyway' --tls --insecure -n eve 127.0.0.1 "$other_port"
[ "$rc" -eq 0 ] || fail "chat --tls --insecure exited $rc"
grep -qx '<eve> insecure anyway' "$tmp/out" ||
    fail "--insecure did not get through"
grep -q 'not verified' "$tmp/err" ||
    fail "--insecure does not warn on stderr: $(cat "$tmp/err")"
ok "--insecure connects to the wrong host, and warns"

# 3. Self-signed, no --ca: the system's CAs do not vouch for it.
chat_run 'must not pass' --tls 127.0.0.1 "$good_port"
[ "$rc" -eq 1 ] || fail "an untrusted certificate: exit $rc, not 1"
grep -q 'certificate verify failed: self.signed certificate' "$tmp/err" ||
    fail "the error does not say why: $(cat "$tmp/err")"
ok "an untrusted certificate without --ca: $(cat "$tmp/err")"

# 4. The password goes first, without its CRLF.
printf 's3cret pass\r\nsecond line\n' >"$tmp/pw"
chat_run 'after the password' --tls --ca "$tmp/good.pem" -n pat \
    --password-file "$tmp/pw" 127.0.0.1 "$pass_port"
[ "$rc" -eq 0 ] || fail "chat --password-file exited $rc"
grep -qx '<pat> after the password' "$tmp/out" ||
    fail "no line after the password"
# socat -v: a header "> DATE length=N from=0 to=M" opens what the client
# sent; the line after the first such header is the first line sent.
first=$(sed -n '/^> .* from=0 /{n;p;q;}' "$tmp/pass.log")
[ "$first" = '/pass s3cret pass' ] ||
    fail "the first line sent was '$first', not '/pass s3cret pass'"
! grep -q 'second line' "$tmp/pass.log" ||
    fail "the password file's second line was sent"
ok "--password-file: the first line chatd got was '$first'"

chat_run 'x' --password-file "$tmp/none" 127.0.0.1 "$port"
[ "$rc" -eq 1 ] || fail "a missing password file: exit $rc, not 1"
grep -q "cannot open the password file $tmp/none" "$tmp/err" ||
    fail "a missing password file said: $(cat "$tmp/err")"
ok "a missing password file: exit 1, and the message names it"

# 5. TLS to the plain-text port.
chat_run 'x' --tls --ca "$tmp/good.pem" 127.0.0.1 "$port"
[ "$rc" -eq 1 ] || fail "--tls to a plain-text port: exit $rc, not 1"
grep -q 'TLS handshake: wrong version number' "$tmp/err" ||
    fail "--tls to a plain-text port said: $(cat "$tmp/err")"
ok "--tls to chatd's plain-text port: $(cat "$tmp/err")"

# 6. chatd's own TLS listener, with a password.
printf 'open sesame\n' >"$tmp/server.pw"
"$CHATD" --port 0 --irc-port 0 --irc-tls-port 0 --tls-port 0 \
    --bind 127.0.0.1 \
    --tls-cert "$tmp/good.pem" --tls-key "$tmp/good.key" \
    --password-file "$tmp/server.pw" >"$tmp/pchatd.log" 2>&1 &
pchatd_pid=$!
pid_note pchatd "$pchatd_pid"
tries=100
tls_port=
while [ -z "$tls_port" ]; do
	tls_port=$(sed -n 's/^.* listening for tls on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' \
	    "$tmp/pchatd.log" 2>/dev/null | head -n 1)
	tries=$((tries - 1))
	[ "$tries" -le 0 ] && fail "chatd with --tls-port did not start:" \
	    "$(cat "$tmp/pchatd.log")"
	[ -z "$tls_port" ] && sleep 0.1
done

printf 'open sesame\n' >"$tmp/right.pw"
chat_run 'let in' --tls --ca "$tmp/good.pem" --password-file "$tmp/right.pw" \
    -n rita localhost "$tls_port"
[ "$rc" -eq 0 ] || fail "the right password on chatd's TLS port: exit $rc"
grep -qx '<rita> let in' "$tmp/out" ||
    fail "the right password did not get rita in"
ok "chatd's TLS port, the right --password-file: in, and talking"

printf 'open sesame!\n' >"$tmp/wrong.pw"
chat_run 'kept out' --tls --ca "$tmp/good.pem" --password-file \
    "$tmp/wrong.pw" localhost "$tls_port"
[ "$rc" -eq 1 ] || fail "a wrong password: exit $rc, not 1"
grep -q "refused the password in $tmp/wrong.pw" "$tmp/err" ||
    fail "a wrong password said: $(cat "$tmp/err")"
! grep -q 'kept out' "$tmp/out" || fail "a wrong password got a line in"
ok "a wrong password: $(cat "$tmp/err")"

chat_run 'no password' --tls --ca "$tmp/good.pem" localhost "$tls_port"
[ "$rc" -eq 1 ] || fail "no password, not on a terminal: exit $rc, not 1"
grep -q 'asks for a password: give it with --password-file' "$tmp/err" ||
    fail "no password said: $(cat "$tmp/err")"
ok "no password from a script: $(cat "$tmp/err")"

# 7. Many long lines, faster than the socket takes them.
awk 'BEGIN { for (i = 1; i <= 3000; i++)
	printf "line %d %0200d\n", i, i }' >"$tmp/bulk.in"
$bounded "$CHAT" --tls --ca "$tmp/good.pem" -n bulk 127.0.0.1 "$good_port" \
    <"$tmp/bulk.in" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 0 ] || fail "3000 lines over TLS: exit $rc"
sed -n 's/^<bulk> //p' "$tmp/out" >"$tmp/bulk.out"
cmp -s "$tmp/bulk.in" "$tmp/bulk.out" ||
    fail "3000 lines over TLS: $(wc -l <"$tmp/bulk.out") came back," \
    "first difference: $(cmp "$tmp/bulk.in" "$tmp/bulk.out" 2>&1)"
ok "3000 lines of 210 bytes over TLS: all echoed, in order"

# 8. A terminal client, its connection cut: it reconnects over TLS.
if ! command -v tmux >/dev/null 2>&1; then
	echo "chat_tls: tmux is missing: the reconnection is not tested"
	echo "chat_tls: PASS"
	exit 0
fi
unset TMUX TMUX_PANE
t() {
	tmux -S "$tmp/tmux.sock" "$@"
}
cat >"$tmp/tty.sh" <<EOF
LANG=C.UTF-8 LC_ALL=C.UTF-8 XDG_STATE_HOME='$tmp/state' INPUTRC=/dev/null
export LANG LC_ALL XDG_STATE_HOME INPUTRC
'$CHAT' --tls --ca '$tmp/good.pem' -n tina --no-color localhost \\
    '$good_port' 2>'$tmp/tty.err'
echo \$? >'$tmp/tty.rc'
EOF
t new-session -d -x 100 -y 30 -s tina "sh '$tmp/tty.sh'" ||
    fail "tmux new-session"
tmux_pid=$(t display -p '#{pid}')
pid_note tmux "$tmux_pid"
pane() {
	t capture-pane -p -J -S -200 -t tina 2>/dev/null
}
wait_pane() {
	tries=100
	until pane | grep -q -- "$1"; do
		tries=$((tries - 1))
		[ "$tries" -le 0 ] && fail "tina's pane never showed '$1':" \
		    "$(pane)"
		sleep 0.1
	done
}
wait_pane '^[0-9:]* -- guest[0-9]* is now known as tina$'
# The front's child for tina's connection is the only one now.
children=$(ps -o pid= --ppid "$good_pid")
[ -n "$children" ] || fail "no TLS connection of tina's in the front"
kill -KILL $children
wait_pane 'lost the connection to localhost port [0-9]* (TLS)'
wait_pane '^[0-9:]* -- connected to localhost port [0-9]* (TLS) again$'
t send-keys -t tina -l 'back over tls'
t send-keys -t tina Enter
wait_pane '^[0-9:]* <tina> back over tls$'
t send-keys -t tina -l '/quit'
t send-keys -t tina Enter
tries=100
until [ -s "$tmp/tty.rc" ]; do
	tries=$((tries - 1))
	[ "$tries" -le 0 ] && fail "tina's chat did not exit after /quit"
	sleep 0.1
done
[ "$(cat "$tmp/tty.rc")" = 0 ] ||
    fail "tina's chat exited $(cat "$tmp/tty.rc") after /quit"
t kill-server 2>/dev/null
tmux_pid=
ok "on a terminal: the TLS connection cut, chat reconnected over TLS" \
    "and talked on"

# Asked for the password, a user types it; it stays out of the history.
rm -f "$tmp/tty.rc"
cat >"$tmp/tty.sh" <<EOF
LANG=C.UTF-8 LC_ALL=C.UTF-8 XDG_STATE_HOME='$tmp/state' INPUTRC=/dev/null
export LANG LC_ALL XDG_STATE_HOME INPUTRC
'$CHAT' --tls --ca '$tmp/good.pem' -n tina --no-color localhost \\
    '$tls_port' 2>'$tmp/tty.err'
echo \$? >'$tmp/tty.rc'
EOF
t new-session -d -x 100 -y 30 -s tina "sh '$tmp/tty.sh'" ||
    fail "tmux new-session"
tmux_pid=$(t display -p '#{pid}')
pid_note tmux "$tmux_pid"
wait_pane '^[0-9:]* -- password required: send /pass PASSWORD$'
t send-keys -t tina -l '/pass open sesame'
t send-keys -t tina Enter
wait_pane '^[0-9:]* -- guest[0-9]* is now known as tina$'
t send-keys -t tina -l 'typed the password'
t send-keys -t tina Enter
wait_pane '^[0-9:]* <tina> typed the password$'
t send-keys -t tina -l '/quit'
t send-keys -t tina Enter
tries=100
until [ -s "$tmp/tty.rc" ]; do
	tries=$((tries - 1))
	[ "$tries" -le 0 ] && fail "tina's chat did not exit after /quit"
	sleep 0.1
done
[ "$(cat "$tmp/tty.rc")" = 0 ] ||
    fail "tina's chat exited $(cat "$tmp/tty.rc") after /quit"
t kill-server 2>/dev/null
tmux_pid=
grep -qx 'typed the password' "$tmp/state/chat/history" ||
    fail "the history file lacks tina's line: $(cat "$tmp/state/chat/history")"
! grep -q 'sesame' "$tmp/state/chat/history" ||
    fail "the password is in the history file"
ok "on a terminal: /pass typed at the server's request gets in, and" \
    "is not in the history file"

echo "chat_tls: PASS"
exit 0
