# tests/irc_lib.sh - sourced by irc_irssi.sh and irc_weechat.sh: an IRC
# server on a free loopback port, and a raw "nc" user beside it in
# #lobby, who says lines and records what it receives.
#
# The server is chatd (--irc-port), or with IRC_TEST_SERVER=ngircd
# Debian's ngircd, which shows that a test itself is right whatever
# chatd does.  The nc user speaks chatd's line protocol, where it is in
# #lobby from the start and sees an IRC user's line as "<nick> text";
# on ngircd there is no line protocol, so it speaks raw IRC instead.
#
# The caller sets name (for messages) and tmp, sources watchdog.sh,
# defines fail, and calls irc_cleanup from its own cleanup.
#
# irc_need TOOL PACKAGE
#	Skip (77) when TOOL is missing, but fail under CI (CI=true).
# irc_server_start
#	Start the server; its IRC port in irc_port.
# nc_user_start NICK
#	Connect the nc user as NICK, in #lobby.
# nc_say TEXT
#	The nc user says TEXT in #lobby.
# nc_wait_line NICK TEXT
#	Until the nc user has received TEXT from NICK in #lobby (10 s).
# irc_tails FILE...
#	For a failure: the last lines of each FILE of $tmp that has any.
# ok TEXT
#	Report a check that passed.

IRC_SERVER_NAME=irc.test.invalid

if [ "${IRC_TEST_SERVER:-chatd}" = chatd ] && [ -z "${CHATD:-}" ]; then
	echo "$name: CHATD must be set; run it with make check" >&2
	exit 1
fi

irc_tails() {
	local f
	for f in "$@"; do
		if [ -n "$tmp" ] && [ -s "$tmp/$f" ]; then
			echo "$name: --- $f" >&2
			tail -n 20 "$tmp/$f" >&2
		fi
	done
}

ok() {
	printf '%s: ok: %s\n' "$name" "$*"
}
irc_server=${IRC_TEST_SERVER:-chatd}
irc_pid=
irc_port=
line_port=
nc_pid=

irc_cleanup() {
	exec 7>&-
	[ -n "$nc_pid" ] && kill -KILL "$nc_pid" 2>/dev/null
	[ -n "$irc_pid" ] && kill -KILL "$irc_pid" 2>/dev/null
}

irc_need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "${CI:-}" = true ]; then
		fail "$1 is missing (Debian: apt-get install $2)"
	fi
	echo "$name: $1 is missing (Debian: apt-get install $2); skipped"
	exit 77
}

irc_random_port() {
	echo $(( $(od -An -N2 -tu2 /dev/urandom) % 20000 + 30000 ))
}

# Whether something accepts connections on 127.0.0.1:$1.
irc_listening() {
	socat -u OPEN:/dev/null "TCP:127.0.0.1:$1,connect-timeout=1" \
	    >/dev/null 2>&1
}

# irc_wait_up PID TEST...: until TEST succeeds (0), PID dies (1), or 10 s.
irc_wait_up() {
	iw_pid=$1
	shift
	iw_tries=100
	until "$@"; do
		kill -0 "$iw_pid" 2>/dev/null || return 1
		iw_tries=$((iw_tries - 1))
		[ "$iw_tries" -le 0 ] && fail "the IRC server did not listen"
		sleep 0.1
	done
}

irc_chatd_ports_up() {
	line_port=$(sed -n 's/^.* listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' \
	    "$tmp/server.log" 2>/dev/null | head -n 1)
	[ -n "$line_port" ] && [ "$line_port" != "$irc_port" ] &&
	    irc_listening "$irc_port"
}

irc_start_chatd() {
	# IRC is in: under CI a chatd without it is a failure.
	if ! "$CHATD" --help 2>&1 | grep -q -- '--irc-port'; then
		[ "${CI:-}" = true ] && fail "this chatd has no --irc-port"
		echo "$name: this chatd has no --irc-port; skipped"
		exit 77
	fi
	"$CHATD" --port 0 --bind 127.0.0.1 --irc-port "$irc_port" \
	    --server-name "$IRC_SERVER_NAME" >"$tmp/server.log" 2>&1 &
	irc_pid=$!
	pid_note server "$irc_pid"
	irc_wait_up "$irc_pid" irc_chatd_ports_up
}

irc_ngircd_up() {
	grep -q "listening on \[127.0.0.1\]:$irc_port" "$tmp/server.log"
}

irc_start_ngircd() {
	[ -x /usr/sbin/ngircd ] || {
		echo "$name: /usr/sbin/ngircd is missing (Debian: apt-get" \
		    "install ngircd); skipped"
		exit 77
	}
	# Root or not, ngircd runs as nobody: the file must be readable.
	cat >"$tmp/ngircd.conf" <<-EOF
	[Global]
		Name = $IRC_SERVER_NAME
		Info = chatd's client tests
		AdminInfo1 = test
		AdminInfo2 = test
		AdminEMail = test@invalid
		Listen = 127.0.0.1
		Ports = $irc_port
		MotdPhrase = test
	[Limits]
		MaxConnectionsIP = 0
	[Options]
		PAM = no
		Ident = no
		DNS = no
	EOF
	chmod 644 "$tmp/ngircd.conf"
	/usr/sbin/ngircd -n -f "$tmp/ngircd.conf" >"$tmp/server.log" 2>&1 &
	irc_pid=$!
	pid_note server "$irc_pid"
	irc_wait_up "$irc_pid" irc_ngircd_up
}

irc_server_start() {
	is_tries=10
	while :; do
		is_tries=$((is_tries - 1))
		[ "$is_tries" -le 0 ] && fail "no free port for the IRC server"
		irc_port=$(irc_random_port)
		case $irc_server in
		chatd) irc_start_chatd && return 0 ;;
		ngircd) irc_start_ngircd && return 0 ;;
		*) fail "IRC_TEST_SERVER is chatd or ngircd, not $irc_server" ;;
		esac
		# It died, the port was taken most likely: another one.
		wait "$irc_pid" 2>/dev/null
		irc_pid=
	done
}

# The nc user's input is a FIFO that the test holds open on fd 7.
nc_send() {
	printf '%s\r\n' "$1" >&7
}

nc_user_start() {
	mkfifo "$tmp/nc.in" || fail "mkfifo"
	if [ "$irc_server" = chatd ]; then
		nc_to=$line_port
	else
		nc_to=$irc_port
	fi
	: >"$tmp/nc.out"	# before socat opens it: nc_wait reads it
	socat - "TCP:127.0.0.1:$nc_to" <"$tmp/nc.in" >"$tmp/nc.out" \
	    2>"$tmp/nc.err" &
	nc_pid=$!
	pid_note nc "$nc_pid"
	exec 7>"$tmp/nc.in"
	if [ "$irc_server" = chatd ]; then
		nc_send "/nick $1"
		nc_wait "is now known as $1"
	else
		nc_send "NICK $1"
		nc_send "USER $1 0 * :nc user"
		nc_send "JOIN #lobby"
		nc_wait " 366 $1 #lobby "
	fi
}

# nc_wait TEXT: until the nc user received a line holding TEXT.
nc_wait() {
	nw_tries=100
	until tr -d '\r' <"$tmp/nc.out" | grep -q -F -- "$1"; do
		nw_tries=$((nw_tries - 1))
		[ "$nw_tries" -le 0 ] &&
		    fail "the nc user never received '$1'"
		sleep 0.1
	done
}

nc_say() {
	if [ "$irc_server" = chatd ]; then
		nc_send "$1"
	else
		nc_send "PRIVMSG #lobby :$1"
	fi
}

# The nc user's view of NICK's TEXT: exactly "<NICK> TEXT" from chatd.
nc_got_line() {
	if [ "$irc_server" = chatd ]; then
		tr -d '\r' <"$tmp/nc.out" | grep -q -x -F -- "<$1> $2"
	else
		tr -d '\r' <"$tmp/nc.out" |
		    grep -q -x -- ":$1![^ ]* PRIVMSG #lobby :$2"
	fi
}

nc_wait_line() {
	nl_tries=100
	until nc_got_line "$1" "$2"; do
		nl_tries=$((nl_tries - 1))
		[ "$nl_tries" -le 0 ] &&
		    fail "the nc user never received '$2' from $1"
		sleep 0.1
	done
}
