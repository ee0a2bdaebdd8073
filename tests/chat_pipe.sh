#!/bin/sh
#
# chat_pipe.sh - chat with standard input not a terminal, as a script
# uses it: it sends each input line, prints what it receives as plain
# lines with no escape sequence, and exits 0 at the end of its input,
# once the echoes of its lines are back.  Also the exit statuses: 1
# when the server cannot be reached or goes away, 2 on a usage error.
# Against tests/hostile_server in its rooms mode: the room commands go
# out as typed, and v2 lines (room labels, replay times, hostile room
# names) are printed as they came, only sanitised.
#
# Needs CHAT and CHATD (absolute paths; "make check" exports them).
# Exit 0 pass, 1 fail.  Every wait is bounded, chatd's exit after
# SIGTERM included, and so is the whole test: after CHAT_PIPE_LIMIT
# seconds (default 60; it takes about 2) a watchdog fails it and kills
# chatd, the hostile server and the watching client, by PID.

set -u

LIMIT=${CHAT_PIPE_LIMIT:-60}

tmp=
chatd_pid=
watch_pid=
hostile_pid=

. "$(dirname "$0")/watchdog.sh"

cleanup() {
	[ -n "$watch_pid" ] && kill -KILL "$watch_pid" 2>/dev/null
	[ -n "$hostile_pid" ] && kill -KILL "$hostile_pid" 2>/dev/null
	[ -n "$chatd_pid" ] && kill -KILL "$chatd_pid" 2>/dev/null
	watchdog_stop
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

fail() {
	printf 'chat_pipe: FAIL: %s\n' "$*" >&2
	for f in chatd.log bot.out bot.err watch.out watch.err; do
		if [ -n "$tmp" ] && [ -s "$tmp/$f" ]; then
			echo "chat_pipe: --- $f" >&2
			tail -n 20 "$tmp/$f" >&2
		fi
	done
	exit 1
}

ok() {
	printf '%s\n' "chat_pipe: ok: $*"
}

if [ -z "${CHAT:-}" ] || [ -z "${CHATD:-}" ]; then
	echo "chat_pipe: CHAT and CHATD must be set; run it with make check" >&2
	exit 1
fi

# A bound on each run of chat, where timeout(1) exists.
bounded=
command -v timeout >/dev/null 2>&1 && bounded="timeout 20"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chat_pipe.XXXXXX") || fail "mktemp"
watchdog_start chat_pipe "$LIMIT" "$tmp" || fail "no watchdog"
sock=$tmp/chatd.sock
esc=$(printf '\033')
cr=$(printf '\r')

# wait_file FILE PATTERN: up to 10 s for a line matching PATTERN.
wait_file() {
	tries=100
	until grep -q "$2" "$1" 2>/dev/null; do
		tries=$((tries - 1))
		[ "$tries" -le 0 ] && return 1
		sleep 0.1
	done
}

# no_controls FILE: no control byte and no bidi control in FILE.
no_controls() {
	for b in '\033' '\007' '\177' '\r' '\233' '\302\233' '\377'; do
		if LC_ALL=C grep -q "$(printf "$b")" "$1"; then
			fail "byte(s) $b reached the output: $(od -c "$1")"
		fi
	done
	# The bidi controls, each as its code point and its UTF-8 bytes.
	for cp in '061C \330\234' '200E \342\200\216' '200F \342\200\217' \
	    '202A \342\200\252' '202B \342\200\253' '202C \342\200\254' \
	    '202D \342\200\255' '202E \342\200\256' '2066 \342\201\246' \
	    '2067 \342\201\247' '2068 \342\201\250' '2069 \342\201\251'; do
		if LC_ALL=C grep -qF "$(printf "${cp#* }")" "$1"; then
			fail "U+${cp% *} reached the output: $(od -c "$1")"
		fi
	done
}

# 1. Usage errors and the informational options, without a server.
$bounded "$CHAT" --bogus >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] || fail "chat --bogus exited $rc, not 2"
grep -q "^chat: unknown option '--bogus'" "$tmp/err" ||
    fail "chat --bogus said: $(cat "$tmp/err")"
grep -q "^Try 'chat --help'" "$tmp/err" || fail "no 'Try' line"
ok "chat --bogus exits 2 with a message"

$bounded "$CHAT" 127.0.0.1 99999 >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] || fail "a bad port exited $rc, not 2"
$bounded "$CHAT" a 1 c >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] || fail "three operands exited $rc, not 2"
ok "a bad port and an extra argument exit 2"

$bounded "$CHAT" --help >"$tmp/out" 2>&1 || fail "chat --help failed"
grep -q '^Usage: chat ' "$tmp/out" || fail "chat --help: $(cat "$tmp/out")"
version=$($bounded "$CHAT" --version) || fail "chat --version failed"
case $version in
"chat "[0-9]*) ok "chat --help, chat --version prints '$version'" ;;
*) fail "chat --version printed '$version'" ;;
esac

# 2. Nothing listening: exit 1, with a message, at once.
printf 'hi\n' | $bounded "$CHAT" --unix "$tmp/nothing.sock" \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] || fail "no server: exit status $rc, not 1"
grep -q "^chat: cannot connect to unix socket $tmp/nothing.sock: " \
    "$tmp/err" || fail "no server: stderr was: $(cat "$tmp/err")"
ok "no server on a UNIX socket: exit 1, '$(cat "$tmp/err")'"

# 3. A hostile server: the client sanitises what it prints by itself.
if [ -n "${HOSTILE_SERVER:-}" ]; then
	"$HOSTILE_SERVER" "$tmp/hostile.sock" >"$tmp/hostile.out" 2>&1 &
	hostile_pid=$!
	pid_note hostile "$hostile_pid"
	wait_file "$tmp/hostile.out" '^ready$' ||
	    fail "the hostile server did not start"
	$bounded "$CHAT" --unix "$tmp/hostile.sock" </dev/null \
	    >"$tmp/h.out" 2>"$tmp/h.err"
	rc=$?
	wait_gone "$hostile_pid" 100 ||
	    fail "the hostile server still runs 10 s after the client left"
	wait "$hostile_pid"
	hostile_pid=
	pid_forget hostile
	[ "$rc" -eq 0 ] || fail "chat against the hostile server exited $rc"
	no_controls "$tmp/h.out"
	fffd=$(printf '\357\277\275')
	# The nicks of the welcome and of the nick change, as shown.
	nick1="${fffd}]2;pwned${fffd}${fffd}2;c1${fffd}${fffd}guest1"
	nick2="${fffd}]52;c;cHduZWQ=${fffd}${fffd}[2J${fffd}7m${fffd}eve${fffd}"
	bidi="${fffd}RLO${fffd}PDF ${fffd}LRE ${fffd}LRI${fffd}PDI"
	bidi="$bidi ${fffd}LRM ${fffd}RLM ${fffd}ALM"
	# U+2029, U+202F, U+200D, U+206A and U+061D, next to the bidi ones.
	kept=$(printf '\342\200\251 \342\200\257 \342\200\215 \342\201\252 \330\235')
	for want in \
	    "-- welcome to chatd, you are $nick1 (1 online; /help lists the commands)" \
	    "-- $nick1 is now known as $nick2" \
	    "<eve> bidi $bidi" "<eve> kept $kept" \
	    "<eve> ${fffd}[2J${fffd}[31mred${fffd}[0m" \
	    "<eve> c1 ${fffd}31m csi" "<eve> bare ${fffd}31m byte" \
	    "<eve> bad ${fffd}${fffd} utf8 ${fffd}${fffd}" \
	    "<eve> del ${fffd} and cr ${fffd} in the middle" \
	    "!! ${fffd}[8mhidden" "<eve> 漢字 😀 fine"; do
		grep -qxF -- "$want" "$tmp/h.out" ||
		    fail "no line '$want' in: $(cat "$tmp/h.out")"
	done
	ok "a hostile server's ESC, BEL, DEL, CR, C1, 0x9B, bad UTF-8 and" \
	    "bidi controls, in text and nicks, are printed as U+FFFD"

	# 3b. Rooms (protocol v2): the fake server answers each command
	# only if it arrives as typed, and says so when it does not.
	"$HOSTILE_SERVER" "$tmp/rooms.sock" rooms >"$tmp/rooms.log" 2>&1 &
	hostile_pid=$!
	pid_note hostile "$hostile_pid"
	wait_file "$tmp/rooms.log" '^ready$' ||
	    fail "the hostile server (rooms) did not start"
	printf '%s\n' '/join #rust' '/rooms' '/topic' '/history 1' \
	    '/join #evil' '/part' | $bounded "$CHAT" --unix "$tmp/rooms.sock" \
	    >"$tmp/r.out" 2>"$tmp/r.err"
	rc=$?
	wait_gone "$hostile_pid" 100 ||
	    fail "the hostile server (rooms) still runs 10 s after the client left"
	wait "$hostile_pid"
	hostile_pid=
	pid_forget hostile
	[ "$rc" -eq 0 ] || fail "chat against the rooms server exited $rc:" \
	    "$(cat "$tmp/r.err")"
	! grep -q 'no answer to' "$tmp/r.out" ||
	    fail "a command did not reach the server as typed:" \
	        "$(grep 'no answer to' "$tmp/r.out")"
	no_controls "$tmp/r.out"
	room="#${fffd}]2;pwned${fffd}${fffd}[31mevil${fffd}${fffd}${fffd}"
	label="#${fffd}]52;c;cHduZWQ=${fffd}${fffd}x${fffd}"
	for want in \
	    "-- now talking in #rust (3 online)" \
	    "[2001-02-03T04:05:06Z] <alice> said long ago" \
	    "#go <carol> hello from go" "#go -- dave joined" \
	    "-- #go 2 online" "-- topic of #rust: Rust talk" \
	    "[2001-02-03T04:05:06.5Z] <alice> said long ago" \
	    "-- now talking in $room (1 online)" \
	    "$label <eve> ${fffd}[2Jboo" \
	    "$room -- eve set the topic: ${fffd}]0;owned${fffd}" \
	    "-- you are in no room; /join #room to talk" "-- bye"; do
		grep -qxF -- "$want" "$tmp/r.out" ||
		    fail "no line '$want' in: $(cat "$tmp/r.out")"
	done
	grep -qx '\[[0-9-]*T[0-9:]*Z\] \* bob waves today' "$tmp/r.out" ||
	    fail "no replay line stamped now in: $(cat "$tmp/r.out")"
	! grep -q '^\[#' "$tmp/r.out" ||
	    fail "pipe mode relabelled a line: $(grep '^\[#' "$tmp/r.out")"
	ok "/join, /rooms, /topic, /history and /part go out as typed;" \
	    "labels, replay times and a hostile room are printed as sent," \
	    "sanitised"
fi

# 4. A real chatd, on a UNIX socket and a free TCP port.
"$CHATD" --port 0 --irc-port 0 --bind 127.0.0.1 --unix "$sock" >"$tmp/chatd.log" 2>&1 &
chatd_pid=$!
pid_note chatd "$chatd_pid"
wait_file "$tmp/chatd.log" 'listening on unix:' ||
    fail "chatd did not start"
wait_file "$tmp/chatd.log" 'listening on 127\.0\.0\.1:' ||
    fail "chatd did not listen on TCP"
port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' \
    "$tmp/chatd.log" | head -n 1)

# A second client that watches the room: chat in pipe mode too, its
# input a FIFO held open until the end.
mkfifo "$tmp/watch.in" || fail "mkfifo"
$bounded "$CHAT" -n watcher --unix "$sock" <"$tmp/watch.in" \
    >"$tmp/watch.out" 2>"$tmp/watch.err" &
watch_pid=$!
pid_note watcher "$watch_pid"
exec 3>"$tmp/watch.in"
wait_file "$tmp/watch.out" '^-- guest[0-9]* is now known as watcher$' ||
    fail "the watcher did not get its nick"
ok "a watching client is in the room as 'watcher'"

printf 'hi\nsecond\n' | $bounded "$CHAT" -n bot --unix "$sock" \
    >"$tmp/bot.out" 2>"$tmp/bot.err"
rc=$?
[ "$rc" -eq 0 ] || fail "printf | chat -n bot exited $rc"
grep -qx '<bot> hi' "$tmp/bot.out" || fail "no '<bot> hi' in its output"
grep -qx '<bot> second' "$tmp/bot.out" ||
    fail "no '<bot> second' in its output"
grep -qx -- '-- guest[0-9]* is now known as bot' "$tmp/bot.out" ||
    fail "bot's nick change is not in its output"
[ "$(grep -n '<bot> hi' "$tmp/bot.out" | cut -d: -f1)" -lt \
  "$(grep -n '<bot> second' "$tmp/bot.out" | cut -d: -f1)" ] ||
    fail "the echoes are out of order"
ok "printf 'hi\\nsecond\\n' | chat -n bot exits 0 with both echoes"
if grep -q "$esc" "$tmp/bot.out" || grep -q "$cr" "$tmp/bot.out"; then
	fail "an ESC or CR byte in pipe-mode output"
fi
ok "pipe-mode output has no ESC and no CR"
[ ! -s "$tmp/bot.err" ] || fail "bot wrote to stderr: $(cat "$tmp/bot.err")"

wait_file "$tmp/watch.out" '^<bot> second$' ||
    fail "the watcher did not see '<bot> second'"
grep -qx '<bot> hi' "$tmp/watch.out" || fail "the watcher missed '<bot> hi'"
ok "the other client sees '<bot> hi' and '<bot> second'"

# Over TCP, and a last line without a newline, in UTF-8.
printf 'over tcp\n漢字 😀 no newline' | $bounded "$CHAT" --nick tcpbot \
    127.0.0.1 "$port" >"$tmp/tcp.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] || fail "chat over TCP exited $rc"
grep -qx '<tcpbot> over tcp' "$tmp/tcp.out" || fail "no TCP echo"
grep -qx '<tcpbot> 漢字 😀 no newline' "$tmp/tcp.out" ||
    fail "the last line without a newline was not sent"
ok "over TCP, a last line without a newline is sent too"

# Empty input: connect, leave, exit 0.
$bounded "$CHAT" --unix "$sock" </dev/null >"$tmp/empty.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] || fail "empty input: exit status $rc"
grep -q '^-- welcome to chatd' "$tmp/empty.out" || fail "no welcome"
ok "empty input exits 0"

# 5. The server goes away under a pipe-mode client: exit 1, said so.
kill -TERM "$chatd_pid"
wait_gone "$watch_pid" 100 || fail "the watcher still runs without a server"
wait "$watch_pid"
rc=$?
watch_pid=
pid_forget watcher
[ "$rc" -eq 1 ] || fail "the watcher exited $rc when the server went away"
grep -q "^chat: lost the connection to unix socket $sock" \
    "$tmp/watch.err" || fail "watcher stderr: $(cat "$tmp/watch.err")"
ok "losing the server in pipe mode: exit 1, '$(cat "$tmp/watch.err")'"
exec 3>&-
# chatd flushes for at most 2 s, then exits.
wait_gone "$chatd_pid" 100 || fail "chatd still runs 10 s after SIGTERM"
wait "$chatd_pid"
chatd_pid=
pid_forget chatd

# 6. The TCP port chatd had is free now: nothing listens there.
printf 'hi\n' | $bounded "$CHAT" 127.0.0.1 "$port" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] || fail "no server on TCP: exit status $rc, not 1"
grep -q "^chat: cannot connect to 127\.0\.0\.1 port $port: " "$tmp/err" ||
    fail "no server on TCP: stderr was: $(cat "$tmp/err")"
ok "no server on TCP: exit 1, '$(cat "$tmp/err")'"

echo "chat_pipe: PASS"
exit 0
