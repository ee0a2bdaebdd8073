#!/bin/sh
#
# chat_tty.sh - two chat clients in real terminals (tmux panes) against
# a real chatd.  It shows that:
#  1. a message that arrives while alice has a half-typed line appears
#     above it, and the input line and the cursor stay as they were;
#     the line, finished, reaches bob; wide characters (CJK, emoji)
#     take two columns on the input line;
#  2. after the daemon is stopped and a new one started on the same
#     socket, both clients reconnect by themselves with their nicks, and
#     a line alice typed while the server was away is delivered;
#  3. /quit, Ctrl-C and Ctrl-D leave with exit status 0, and the input
#     history is kept across runs (up arrow in a new client);
#  4. against tests/hostile_server, whose welcome and nick change name
#     the client with escapes, C1 and bidi controls, the prompt shows
#     them as U+FFFD, and the pane's title and tmux's paste buffers
#     (OSC 2, OSC 52) stay as they were; bidi controls in text too;
#  5. against tests/hostile_server in its rooms mode (protocol v2),
#     /join #rust makes the prompt '[guest1 #rust]', a line from
#     another room shows '[#go] ' in its colour, replayed history its
#     own time in local time (TZ=IST-5:30), a hostile room name shows
#     U+FFFD in the prompt and labels and leaves the title and the
#     clipboard alone, a long one is cut with an ellipsis, and /part
#     back to no room gives the prompt '[guest1]' again.
#
# The tmux server is private (its own socket in a scratch directory) and
# is the only one killed.  Needs CHAT and CHATD ("make check" exports
# them).  Exit 0 pass, 1 fail, 77 skip when tmux is missing.
#
# Every wait is bounded, chatd's exit after SIGTERM included, and so is
# the whole test: after CHAT_TTY_LIMIT seconds (default 120; it takes
# about 5) a watchdog fails it and kills the tmux server, chatd and the
# hostile server it started, by PID.

set -u

LIMIT=${CHAT_TTY_LIMIT:-120}

tmp=
chatd_pid=
hostile_pid=
tmux_up=no

if ! command -v tmux >/dev/null 2>&1; then
	echo "chat_tty: tmux is missing (Debian: apt-get install tmux); skipped"
	exit 77
fi
if [ -z "${CHAT:-}" ] || [ -z "${CHATD:-}" ]; then
	echo "chat_tty: CHAT and CHATD must be set; run it with make check" >&2
	exit 1
fi

. "$(dirname "$0")/watchdog.sh"

# Run from inside tmux, make check must still start its own server.
unset TMUX TMUX_PANE
tmp=$(mktemp -d "${TMPDIR:-/tmp}/chat_tty.XXXXXX") || exit 1
esc=$(printf '\033')
sock=$tmp/chatd.sock
# An OSC 52 from a pane makes a paste buffer: the hostile test sees it.
echo 'set -g set-clipboard on' >"$tmp/tmux.conf"

t() {
	tmux -S "$tmp/tmux.sock" "$@"
}

# The watchdog goes last: until then it still bounds a hung kill-server.
cleanup() {
	[ "$tmux_up" = yes ] && t kill-server 2>/dev/null
	[ -n "$chatd_pid" ] && kill -KILL "$chatd_pid" 2>/dev/null
	[ -n "$hostile_pid" ] && kill -KILL "$hostile_pid" 2>/dev/null
	watchdog_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
watchdog_start chat_tty "$LIMIT" "$tmp" || exit 1

fail() {
	printf 'chat_tty: FAIL: %s\n' "$*" >&2
	for s in alice bob carol dave mallory rosa; do
		if [ "$tmux_up" = yes ] && t has-session -t "$s" 2>/dev/null
		then
			echo "chat_tty: --- $s's pane:" >&2
			t capture-pane -p -J -S -100 -t "$s" >&2
		fi
		if [ -s "$tmp/$s.rc" ]; then
			echo "chat_tty: --- $s's exit: $(cat "$tmp/$s.rc")" >&2
		fi
	done
	if [ -s "$tmp/chatd.log" ]; then
		echo "chat_tty: --- chatd log:" >&2
		tail -n 20 "$tmp/chatd.log" >&2
	fi
	exit 1
}

ok() {
	printf 'chat_tty: ok: %s\n' "$*"
}

start_chatd() {
	"$CHATD" --port 0 --irc-port 0 --bind 127.0.0.1 --unix "$sock" \
	    >"$tmp/chatd.log" 2>&1 &
	chatd_pid=$!
	pid_note chatd "$chatd_pid"
	tries=100
	until grep -q 'listening on unix:' "$tmp/chatd.log" 2>/dev/null; do
		tries=$((tries - 1))
		[ "$tries" -le 0 ] && fail "chatd did not start"
		sleep 0.1
	done
}

# SIGTERM, then at most 10 s for chatd to exit (it flushes for 2 s).
stop_chatd() {
	kill -TERM "$chatd_pid"
	wait_gone "$chatd_pid" 100 ||
	    fail "chatd still runs 10 s after SIGTERM"
	wait "$chatd_pid"
	chatd_pid=
	pid_forget chatd
}

# A client in a new tmux session NAME, 100x30, in a UTF-8 locale, with
# its history under $tmp/state; a wrapper records its exit status.
# It connects to chatd's socket unless the arguments say --unix PATH.
# With chat_tz set, the client runs with TZ=$chat_tz.
chat_tz=
start_chat() {
	name=$1
	shift
	cat >"$tmp/$name.sh" <<EOF
LANG=C.UTF-8 LC_ALL=C.UTF-8 XDG_STATE_HOME='$tmp/state' INPUTRC=/dev/null
export LANG LC_ALL XDG_STATE_HOME INPUTRC
${chat_tz:+TZ='$chat_tz'; export TZ}
unset NO_COLOR
trap : INT	# Ctrl-C reaches this shell too: it must live to tell
'$CHAT' --unix '$sock' $* 2>'$tmp/$name.err'
echo \$? >'$tmp/$name.rc'
EOF
	t -u -f "$tmp/tmux.conf" new-session -d -x 100 -y 30 -s "$name" \
	    "sh '$tmp/$name.sh'" || fail "tmux new-session $name"
	tmux_up=yes
	# The server exits with its last session: this may be a new one.
	pid_note tmux "$(t display -p '#{pid}')"
}

# The whole pane with wrapped lines joined, and some scrollback.
pane() {
	t capture-pane -p -J -S -200 -t "$1" 2>/dev/null
}

# The pane's last non-empty line on the screen, and its row (from 0).
last_line() {
	t capture-pane -p -t "$1" | sed -n '/./{=;p;}' | tail -n 2 |
	    paste -s -d ' ' | sed 's/^\([0-9]*\) /\1:/'
}

# wait_pane NAME PATTERN [TENTHS]: until a line of the pane matches.
wait_pane() {
	tries=${3:-100}
	until pane "$1" | grep -q -- "$2"; do
		tries=$((tries - 1))
		[ "$tries" -le 0 ] && fail "$1's pane never showed '$2'"
		sleep 0.1
	done
}

# wait_input NAME TEXT: until the last line is exactly TEXT.
wait_input() {
	tries=100
	until [ "$(last_line "$1" | cut -d: -f2-)" = "$2" ]; do
		tries=$((tries - 1))
		[ "$tries" -le 0 ] &&
		    fail "$1's input line is '$(last_line "$1")', not '$2'"
		sleep 0.1
	done
}

cursor() {
	t display -p -t "$1" '#{cursor_x} #{cursor_y}'
}

# wait_cursor NAME "X Y": until the cursor is there, at most 2 s.
wait_cursor() {
	tries=20
	until [ "$(cursor "$1")" = "$2" ]; do
		tries=$((tries - 1))
		[ "$tries" -le 0 ] &&
		    fail "$1's cursor is at '$(cursor "$1")', not '$2' (x y)"
		sleep 0.1
	done
}

# wait_exit NAME: until the client's wrapper recorded its status.
wait_exit() {
	tries=100
	until [ -s "$tmp/$1.rc" ]; do
		tries=$((tries - 1))
		[ "$tries" -le 0 ] && fail "$1's chat did not exit"
		sleep 0.1
	done
	cat "$tmp/$1.rc"
}

start_chatd
start_chat alice -n alice
wait_pane alice '^[0-9:]* -- guest[0-9]* is now known as alice$'
start_chat bob -n bob
wait_pane bob '^[0-9:]* -- guest[0-9]* is now known as bob$'
wait_pane alice '^[0-9:]* -- guest[0-9]* is now known as bob$'
wait_input alice '[alice]'
ok "alice and bob are in the room"

# 1. A message arrives above a half-typed line.
t send-keys -t alice -l 'hello wor'
wait_input alice '[alice] hello wor'
t send-keys -t bob -l 'hi alice, 漢字 and 😀'
t send-keys -t bob Enter
wait_pane alice '^[0-9][0-9]:[0-9][0-9] <bob> hi alice, 漢字 and 😀$'
# The message line and the redrawn input line may reach tmux a moment
# apart: wait for the input line before looking at it.
wait_input alice '[alice] hello wor'
input=$(last_line alice)
row=${input%%:*}
[ "${input#*:}" = '[alice] hello wor' ] ||
    fail "alice's input line is '${input#*:}' after bob's message"
msg_row=$(t capture-pane -p -t alice | grep -n '<bob> hi alice' |
    cut -d: -f1)
[ "$msg_row" -lt "$row" ] ||
    fail "bob's message (line $msg_row) is not above the input line" \
        "(line $row)"
want="17 $((row - 1))"	# cursor_y counts from 0
wait_cursor alice "$want"
ok "bob's message shows above alice's 'hello wor', cursor still at x=17"
# Colours: bob's nick in its colour (bright magenta, SGR 95).
t capture-pane -p -e -t alice | grep -q "<${esc}\[95mbob${esc}\[39m> hi alice" ||
    fail "bob's nick is not coloured in alice's pane:" \
        "$(t capture-pane -p -e -t alice | grep 'hi alice' | od -c)"
ok "bob's nick has its colour in alice's pane"

t send-keys -t alice -l 'ld'
t send-keys -t alice Enter
wait_pane bob '^[0-9:]* <alice> hello world$'
wait_input alice '[alice]'
ok "alice finishes the line: bob sees '<alice> hello world'"

# Wide characters take two columns each on the input line.
t send-keys -t alice -l '漢字😀'
wait_input alice '[alice] 漢字😀'
wait_cursor alice "14 $(($(last_line alice | cut -d: -f1) - 1))"
t send-keys -t alice C-u
wait_input alice '[alice]'
ok "'漢字😀' on the input line: cursor at x=14 (8 + 2+2+2)"

# 2. The daemon restarts; the clients come back with their nicks.
# dave, with --no-reconnect, exits 1 instead.
start_chat dave -n dave --no-reconnect
wait_input dave '[dave]'
stop_chatd
wait_pane alice 'lost the connection to unix socket .*; reconnecting in 1 s$'
wait_pane bob 'lost the connection to unix socket .*; reconnecting in 1 s$'
t send-keys -t alice -l 'typed while down'
t send-keys -t alice Enter
wait_pane alice 'not connected: the line will be sent on reconnecting (1 waiting)$'
ok "the clients say the server is gone; alice's line is queued"
rc=$(wait_exit dave)
[ "$rc" = 1 ] || fail "dave's chat (--no-reconnect) exited $rc, not 1"
grep -q "^chat: lost the connection to unix socket $sock: " \
    "$tmp/dave.err" || fail "dave's stderr: $(cat "$tmp/dave.err")"
ok "--no-reconnect: exit 1, '$(cat "$tmp/dave.err")'"

start_chatd
wait_pane alice '^[0-9:]* <alice> typed while down$' 200
wait_pane bob '^[0-9:]* -- guest[0-9]* is now known as bob$'
wait_input alice '[alice]'
wait_input bob '[bob]'
# Both are back: each sees a line from the other under its old nick.
wait_pane bob 'connected to unix socket .* again$'
t send-keys -t alice -l 'back again'
t send-keys -t alice Enter
wait_pane bob '^[0-9:]* <alice> back again$'
t send-keys -t bob -l 'me too'
t send-keys -t bob Enter
wait_pane alice '^[0-9:]* <bob> me too$'
ok "after a restart both reconnect as alice and bob; the queued line was sent"

# 3. Leaving: /quit (bob), Ctrl-C (alice), then Ctrl-D and the history.
t send-keys -t bob -l '/quit'
t send-keys -t bob Enter
rc=$(wait_exit bob)
[ "$rc" = 0 ] || fail "bob's chat exited $rc after /quit"
wait_pane alice '^[0-9:]* -- bob left'
ok "/quit: bob's chat exits 0 and alice sees bob leave"

t send-keys -t alice -l 'half'
wait_input alice '[alice] half'
t send-keys -t alice C-c
rc=$(wait_exit alice)
[ "$rc" = 0 ] || fail "alice's chat exited $rc after Ctrl-C"
grep -qx 'hello world' "$tmp/state/chat/history" ||
    fail "no 'hello world' in the history file"
ok "Ctrl-C: alice's chat exits 0; the history file has her lines"

start_chat carol -n carol --no-color
wait_input carol '[carol]'
wait_pane carol '^[0-9:]* -- guest[0-9]* is now known as carol$'
if t capture-pane -p -e -t carol | grep -q "$esc"; then
	fail "carol's pane (--no-color) has attributes:" \
	    "$(t capture-pane -p -e -t carol | od -c | head)"
fi
ok "--no-color: no colour or other attribute in carol's pane"
t send-keys -t carol Up
wait_input carol '[carol] back again'
t send-keys -t carol Up
wait_input carol '[carol] typed while down'
t send-keys -t carol C-u
wait_input carol '[carol]'
t send-keys -t carol C-d
rc=$(wait_exit carol)
[ "$rc" = 0 ] || fail "carol's chat exited $rc after Ctrl-D"
ok "a new client recalls the history with Up; Ctrl-D exits 0"

# 4. A hostile server names us with escapes, C1 and bidi controls, in
# its welcome (OSC 2: the title) and then in a nick change (OSC 52: the
# clipboard): the prompt shows them as U+FFFD, and neither the pane's
# title nor tmux's paste buffers change.
if [ -n "${HOSTILE_SERVER:-}" ]; then
	"$HOSTILE_SERVER" "$tmp/hostile.sock" >"$tmp/hostile.out" 2>&1 &
	hostile_pid=$!
	pid_note hostile "$hostile_pid"
	tries=100
	until grep -q '^ready$' "$tmp/hostile.out" 2>/dev/null; do
		tries=$((tries - 1))
		[ "$tries" -le 0 ] && fail "the hostile server did not start"
		sleep 0.1
	done
	start_chat mallory --unix "$tmp/hostile.sock"
	fffd=$(printf '\357\277\275')
	nick1="${fffd}]2;pwned${fffd}${fffd}2;c1${fffd}${fffd}guest1"
	nick2="${fffd}]52;c;cHduZWQ=${fffd}${fffd}[2J${fffd}7m${fffd}eve${fffd}"
	wait_pane mallory '<eve> 漢字 😀 fine$'
	# A pane's title is the host name until something sets it.
	title=$(t display -p -t mallory '#{pane_title}')
	[ "$title" = "$(t display -p -t mallory '#{host}')" ] ||
	    fail "the hostile nick set the pane's title to '$title'"
	[ -z "$(t list-buffers)" ] ||
	    fail "the hostile nick set the clipboard: $(t list-buffers)"
	wait_input mallory "[$nick2]"
	pane mallory | grep -q -F -- "-- welcome to chatd, you are $nick1 (" ||
	    fail "no sanitised welcome in mallory's pane"
	pane mallory | grep -q -F -- "-- $nick1 is now known as $nick2" ||
	    fail "no sanitised nick change in mallory's pane"
	pane mallory | grep -q -F -- "<eve> bidi ${fffd}RLO${fffd}PDF ${fffd}LRE" ||
	    fail "bidi controls are not U+FFFD in mallory's pane"
	ok "a hostile server's nicks: the prompt is '[$nick2]'," \
	    "the title and the clipboard are untouched"
	t send-keys -t mallory -l '/quit'
	t send-keys -t mallory Enter
	rc=$(wait_exit mallory)
	[ "$rc" = 0 ] || fail "mallory's chat exited $rc after /quit"
	wait_gone "$hostile_pid" 100 ||
	    fail "the hostile server still runs 10 s after the client's /quit"
	wait "$hostile_pid"
	hostile_pid=
	pid_forget hostile

	# 5. Rooms.  IST-5:30 is UTC+5:30 without tzdata: a replayed
	# 04:05 UTC is 09:35 local.
	"$HOSTILE_SERVER" "$tmp/rooms.sock" rooms >"$tmp/rooms.out" 2>&1 &
	hostile_pid=$!
	pid_note hostile "$hostile_pid"
	tries=100
	until grep -q '^ready$' "$tmp/rooms.out" 2>/dev/null; do
		tries=$((tries - 1))
		[ "$tries" -le 0 ] &&
		    fail "the hostile server (rooms) did not start"
		sleep 0.1
	done
	chat_tz=IST-5:30
	start_chat rosa --unix "$tmp/rooms.sock"
	chat_tz=
	wait_input rosa '[guest1]'
	before=$(TZ=IST-5:30 date +%H:%M)
	t send-keys -t rosa -l '/join #rust'
	t send-keys -t rosa Enter
	wait_input rosa '[guest1 #rust]'
	wait_pane rosa '^[0-9:]* -- now talking in #rust (3 online)$'
	ok "/join #rust: the prompt is '[guest1 #rust]'"
	wait_pane rosa '^[0-9:]* \[#go\] -- dave joined$'
	after=$(TZ=IST-5:30 date +%H:%M)
	pane rosa | grep -qx '[0-9:]* \[#go\] <carol> hello from go' ||
	    fail "no labelled line from #go in rosa's pane"
	t capture-pane -p -e -t rosa |
	    grep -q "${esc}\[[0-9;]*m\[#go\]${esc}\[[0-9;]*m <" ||
	    fail "the label is not coloured:" \
	        "$(t capture-pane -p -e -t rosa | grep 'hello from go' | od -c)"
	ok "a line from another room shows '[#go] ', in a colour of its own"
	pane rosa | grep -qx '2001-02-03 09:35 <alice> said long ago' ||
	    fail "the replay of 2001 is not stamped '2001-02-03 09:35'"
	today=$(pane rosa | sed -n 's/^\([0-9:]*\) \* bob waves today$/\1/p')
	[ "$today" = "$before" ] || [ "$today" = "$after" ] ||
	    fail "today's replay is stamped '$today', not '$before' (local)"
	! pane rosa | grep -q '\[20[0-9-]*T' ||
	    fail "a replay time is shown as the server wrote it"
	ok "replayed lines are stamped in local time, with the date when" \
	    "not today ('$today')"

	t send-keys -t rosa -l '/join #evil'
	t send-keys -t rosa Enter
	room="#${fffd}]2;pwned${fffd}${fffd}[31mevil${fffd}${fffd}${fffd}"
	wait_input rosa "[guest1 $room]"
	label="#${fffd}]52;c;cHduZWQ=${fffd}${fffd}x${fffd}"
	wait_pane rosa "\\[${label}\\] <eve> ${fffd}\\[2Jboo\$"
	pane rosa | grep -q -F -- "[$room] -- eve set the topic: ${fffd}]0;owned${fffd}" ||
	    fail "no sanitised label of the hostile room in rosa's pane"
	title=$(t display -p -t rosa '#{pane_title}')
	[ "$title" = "$(t display -p -t rosa '#{host}')" ] ||
	    fail "the hostile room set the pane's title to '$title'"
	[ -z "$(t list-buffers)" ] ||
	    fail "the hostile room set the clipboard: $(t list-buffers)"
	ok "a hostile room: the prompt is '[guest1 $room]', labels are" \
	    "sanitised, the title and the clipboard are untouched"

	t send-keys -t rosa -l '/join #long'
	t send-keys -t rosa Enter
	wait_input rosa "[guest1 #long-long-long-long-lo$(printf '\342\200\246')]"
	ok "a long room is cut to 24 columns in the prompt"

	t send-keys -t rosa -l '/part'
	t send-keys -t rosa Enter
	wait_pane rosa '^[0-9:]* -- you are in no room; /join #room to talk$'
	wait_input rosa '[guest1]'
	ok "/part to no room: the prompt is '[guest1]' again"
	t send-keys -t rosa -l '/quit'
	t send-keys -t rosa Enter
	rc=$(wait_exit rosa)
	[ "$rc" = 0 ] || fail "rosa's chat exited $rc after /quit"
	wait_gone "$hostile_pid" 100 ||
	    fail "the hostile server (rooms) still runs 10 s after /quit"
	wait "$hostile_pid"
	hostile_pid=
	pid_forget hostile
fi

echo "chat_tty: PASS"
exit 0
