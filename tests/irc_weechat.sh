#!/bin/sh
#
# irc_weechat.sh - Debian's weechat-headless against chatd's IRC port,
# beside a raw line-protocol ("nc") user in #lobby.  weechat is driven
# by -r (set-up, /server add, /connect with autojoin #lobby) and by its
# fifo plugin, and read through its logger plugin's file of #lobby.  It
# shows that weechat connects and joins #lobby, that the nc user's line
# is in weechat's #lobby as said by ncuser, that a line sent from
# weechat reaches the nc user as "<wcuser> text", and that weechat's
# server buffer shows no "Unknown command".
#
# weechat runs with a scratch --dir and only the irc, logger and fifo
# plugins, no scripts.  IRC_TEST_SERVER=ngircd runs the same against
# Debian's ngircd (tests/irc_lib.sh).
#
# Needs CHATD ("make check" exports it), weechat-headless and socat.
# Exit 0 pass, 1 fail, 77 skip: chatd without --irc-port or a tool
# missing, when not under CI (CI=true: either is a failure).
# Every wait is bounded, and so is the whole test (IRC_WEECHAT_LIMIT,
# 60 s by default; it takes about 3): a watchdog kills what it
# started, by PID.

set -u

name=irc_weechat
LIMIT=${IRC_WEECHAT_LIMIT:-60}

tmp=
wc_pid=

. "$(dirname "$0")/watchdog.sh"
. "$(dirname "$0")/irc_lib.sh"

cleanup() {
	[ -n "$wc_pid" ] && kill -KILL "$wc_pid" 2>/dev/null
	irc_cleanup
	watchdog_stop
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

fail() {
	printf '%s: FAIL: %s\n' "$name" "$*" >&2
	irc_tails wc/logs/irc.server.chatd.weechatlog \
	    'wc/logs/irc.chatd.#lobby.weechatlog' wc/weechat.log nc.out \
	    server.log
	exit 1
}
irc_need socat socat
irc_need weechat-headless weechat-headless

tmp=$(mktemp -d "${TMPDIR:-/tmp}/irc_weechat.XXXXXX") || exit 1
watchdog_start "$name" "$LIMIT" "$tmp" || exit 1

irc_server_start
nc_user_start ncuser
ok "the nc user is in #lobby ($irc_server, IRC port $irc_port)"

lobby="$tmp/wc/logs/irc.chatd.#lobby.weechatlog"
server_log="$tmp/wc/logs/irc.server.chatd.weechatlog"
fifo="$tmp/wc.fifo"

# The logger writes at once (flush_delay 0).  WeeChat 4 renamed "ssl"
# to "tls" and turned it on by default: both are set off, and the one
# this version does not know is an error in its core buffer, no more.
mkdir "$tmp/wc"
HOME="$tmp" weechat-headless --dir "$tmp/wc" -P irc,logger,fifo -s \
    -r "/set logger.file.flush_delay 0;/set fifo.file.path $fifo;/set irc.server_default.nicks wcuser;/set irc.server_default.username wcuser;/server add chatd 127.0.0.1/$irc_port;/set irc.server.chatd.ssl off;/set irc.server.chatd.tls off;/set irc.server.chatd.autojoin #lobby;/connect chatd" \
    </dev/null >"$tmp/wc.out" 2>&1 &
wc_pid=$!
pid_note weechat "$wc_pid"

# wait_log FILE PATTERN: until a line of FILE matches (10 s).
wait_log() {
	wl_tries=100
	until grep -q -- "$2" "$1" 2>/dev/null; do
		kill -0 "$wc_pid" 2>/dev/null || fail "weechat exited"
		wl_tries=$((wl_tries - 1))
		[ "$wl_tries" -le 0 ] && fail "$(basename "$1") never showed '$2'"
		sleep 0.1
	done
}

tab=$(printf '\t')
wait_log "$lobby" "${tab}-->${tab}wcuser .* has joined #lobby"
ok "weechat connected and joined #lobby"

nc_say 'hello from nc'
wait_log "$lobby" "${tab}[@+]\{0,1\}ncuser${tab}hello from nc\$"
ok "weechat's #lobby has the nc user's line"

[ -p "$fifo" ] || fail "weechat's fifo $fifo is not there"
printf 'irc.chatd.#lobby *hello from weechat\n' >"$fifo"
nc_wait_line wcuser 'hello from weechat'
ok "the nc user got weechat's line from wcuser"

if grep -q -i 'unknown command' "$server_log"; then
	fail "weechat's server buffer shows an 'Unknown command'"
fi
ok "no 'Unknown command' in weechat's server buffer"

printf '*/quit bye\n' >"$fifo"
wait_gone "$wc_pid" 100 || fail "weechat still runs 10 s after /quit"
wait "$wc_pid"
rc=$?
wc_pid=
[ "$rc" -eq 0 ] || fail "weechat exited $rc after /quit"
ok "/quit: weechat exits 0"

echo "$name: PASS"
exit 0
