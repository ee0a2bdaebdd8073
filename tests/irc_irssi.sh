#!/bin/sh
#
# irc_irssi.sh - Debian's irssi, in a real terminal (a tmux pane),
# against chatd's IRC port, beside a raw line-protocol ("nc") user in
# #lobby.  It shows that irssi registers, that a typed /join #lobby
# joins, that the nc user's line shows in irssi's pane as
# "<ncuser> text", that a line typed in irssi reaches the nc user as
# "<ircuser> text", that irssi never shows "Unknown command", and that
# /quit leaves with status 0.
#
# irssi runs with a scratch --home and a configuration of our own: no
# servers, networks or channels but the one on the command line, no
# logging, nothing saved.  IRC_TEST_SERVER=ngircd runs the same against
# Debian's ngircd (tests/irc_lib.sh).
#
# Needs CHATD ("make check" exports it), irssi, tmux and socat.  Exit 0
# pass, 1 fail, 77 skip: chatd without --irc-port or a tool missing,
# when not under CI (CI=true: either is a failure).  Every wait
# is bounded, and so is the whole test (IRC_IRSSI_LIMIT, 60 s by
# default; it takes about 3): a watchdog kills what it started, by PID.

set -u

name=irc_irssi
LIMIT=${IRC_IRSSI_LIMIT:-60}

tmp=
tmux_up=no

. "$(dirname "$0")/watchdog.sh"
. "$(dirname "$0")/irc_lib.sh"

t() {
	tmux -S "$tmp/tmux.sock" "$@"
}

cleanup() {
	[ "$tmux_up" = yes ] && t kill-server 2>/dev/null
	irc_cleanup
	watchdog_stop
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

fail() {
	printf '%s: FAIL: %s\n' "$name" "$*" >&2
	if [ "$tmux_up" = yes ] && t has-session -t irssi 2>/dev/null; then
		echo "$name: --- irssi's pane:" >&2
		t capture-pane -p -J -S -100 -t irssi >&2
	fi
	irc_tails nc.out server.log irssi.rc
	exit 1
}
irc_need tmux tmux
irc_need socat socat
irc_need irssi irssi

# Run from inside tmux, the test must still start its own server.
unset TMUX TMUX_PANE
tmp=$(mktemp -d "${TMPDIR:-/tmp}/irc_irssi.XXXXXX") || exit 1
watchdog_start "$name" "$LIMIT" "$tmp" || exit 1

irc_server_start
nc_user_start ncuser
ok "the nc user is in #lobby ($irc_server, IRC port $irc_port)"

mkdir -p "$tmp/irssi" "$tmp/home"
cat >"$tmp/irssi/config" <<'EOF'
servers = ( );
chatnets = { };
channels = ( );
settings = {
  core = {
    real_name = "chatd test";
    user_name = "ircuser";
    nick = "ircuser";
    settings_autosave = "no";
    awaylog_level = "none";
  };
  "fe-common/core" = { autolog = "no"; };
};
EOF
cat >"$tmp/irssi.sh" <<EOF
HOME='$tmp/home' LANG=C.UTF-8 LC_ALL=C.UTF-8
export HOME LANG LC_ALL
irssi --home='$tmp/irssi' --config='$tmp/irssi/config' \\
    -c 127.0.0.1 -p '$irc_port' -n ircuser 2>'$tmp/irssi.err'
echo \$? >'$tmp/irssi.rc'
EOF
t new-session -d -x 120 -y 30 -s irssi "sh '$tmp/irssi.sh'" ||
    fail "tmux new-session"
tmux_up=yes
pid_note tmux "$(t display -p '#{pid}')"

pane() {
	t capture-pane -p -J -S -200 -t irssi 2>/dev/null
}

# wait_pane PATTERN: until a line of the pane matches (10 s).
wait_pane() {
	wp_tries=100
	until pane | grep -q -- "$1"; do
		wp_tries=$((wp_tries - 1))
		[ "$wp_tries" -le 0 ] && fail "irssi's pane never showed '$1'"
		sleep 0.1
	done
}

type_line() {
	t send-keys -t irssi -l "$1"
	t send-keys -t irssi Enter
}

# Typed before the server has welcomed irssi, /join gets "Not connected
# to server" from irssi itself, and nothing on the screen tells when
# the welcome came that every server words alike: the user types it
# again a little later, as a user would.
joins=0
refused=0
tries=100
until pane | grep -q 'ircuser .* has joined #lobby'; do
	now=$(pane | grep -c 'Irssi: Not connected to server')
	if [ "$joins" -eq 0 ] || { [ "$now" -gt "$refused" ] &&
	    [ $((tries % 5)) -eq 0 ]; }; then
		refused=$now
		joins=$((joins + 1))
		type_line '/join #lobby'
	fi
	tries=$((tries - 1))
	[ "$tries" -le 0 ] && fail "irssi never showed 'ircuser ... has" \
	    "joined #lobby' ($joins /join typed)"
	sleep 0.1
done
ok "/join #lobby: irssi shows ircuser joined (typed $joins times)"

nc_say 'hello from nc'
wait_pane '<[ @+]\{0,1\}ncuser> hello from nc$'
ok "irssi shows the nc user's line: '<ncuser> hello from nc'"

type_line 'hello from irssi'
nc_wait_line ircuser 'hello from irssi'
ok "the nc user got irssi's line as '<ircuser> hello from irssi'"

if pane | grep -q -i 'unknown command'; then
	fail "irssi shows an 'Unknown command'"
fi
ok "no 'Unknown command' in irssi's pane"

type_line '/quit bye'
tries=100
until [ -s "$tmp/irssi.rc" ]; do
	tries=$((tries - 1))
	[ "$tries" -le 0 ] && fail "irssi did not exit after /quit"
	sleep 0.1
done
[ "$(cat "$tmp/irssi.rc")" = 0 ] ||
    fail "irssi exited $(cat "$tmp/irssi.rc") after /quit"
ok "/quit: irssi exits 0"

echo "$name: PASS"
exit 0
