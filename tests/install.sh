#!/bin/sh
# shellcheck disable=SC2154 # the directories come from the environment
# install.sh - "make install DESTDIR=..." from this build tree puts every
# file where README.md says, and the installed chatd starts with the
# installed sample configuration.
#
# Run by "make check".  Makefile.am passes, through AM_TESTS_ENVIRONMENT:
# MAKE, abs_top_builddir, and the install directories sbindir, bindir,
# mandir, sysconfdir, docdir and systemdsystemunitdir (empty when
# configured --without-systemdsystemunitdir), fully expanded.  The test harness sets
# srcdir.  Exit status: 0 pass, 1 fail.

set -u

fail=0
tmp=
pid=

say() {
	printf '%s\n' "install.sh: $*"
}

ok() {
	say "ok: $*"
}

bad() {
	say "FAIL: $*"
	fail=1
}

# shellcheck disable=SC2317 # called by the trap
cleanup() {
	if test -n "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	if test -n "$tmp"; then
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

for var in MAKE abs_top_builddir sbindir bindir mandir sysconfdir docdir; do
	if eval "test -z \"\${$var-}\""; then
		say "$var is not set: run this test with make check"
		exit 1
	fi
done
systemdsystemunitdir=${systemdsystemunitdir-}
srcdir=${srcdir-.}

# A bound on each step that could hang, where timeout(1) exists.
if command -v timeout >/dev/null 2>&1; then
	bounded="timeout 600"
else
	bounded=
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chatd-install.XXXXXX") || exit 1
dest=$tmp/root

# 1. Install into a staging directory.  The jobserver of the make that
# runs the tests is not ours: start the inner make afresh.
say "checking: make install DESTDIR=$dest in $abs_top_builddir"
if MAKEFLAGS='' MFLAGS='' $bounded "$MAKE" -C "$abs_top_builddir" install \
    DESTDIR="$dest" >"$tmp/install.log" 2>&1; then
	ok "make install DESTDIR=... succeeded"
else
	bad "make install DESTDIR=... failed:"
	tail -n 30 "$tmp/install.log"
	exit 1
fi

# 2. The program.
chatd=$dest$sbindir/chatd
say "checking: $sbindir/chatd"
if test -f "$chatd" && test -x "$chatd"; then
	ok "chatd is installed and executable"
	version=$("$chatd" --version 2>&1)
	case $version in
	"chatd "[0-9]*)
		ok "chatd --version prints '$version'"
		;;
	*)
		bad "chatd --version printed '$version'"
		;;
	esac
else
	bad "$chatd is missing or not executable"
fi

# 3. The load generator and the client.
for prog in chat-bench chat; do
	bin=$dest$bindir/$prog
	say "checking: $bindir/$prog"
	if test -f "$bin" && test -x "$bin"; then
		ok "$prog is installed and executable"
		version=$("$bin" --version 2>&1)
		case $version in
		"$prog "[0-9]*)
			ok "$prog --version prints '$version'"
			;;
		*)
			bad "$prog --version printed '$version'"
			;;
		esac
	else
		bad "$bin is missing or not executable"
	fi
done

# 4. The manual pages.
for page in man8/chatd.8 man1/chat-bench.1 man1/chat.1; do
	say "checking: $mandir/$page"
	if test -s "$dest$mandir/$page"; then
		ok "${page#*/} is installed"
	else
		bad "$dest$mandir/$page is missing or empty"
	fi
done

# 5. The sample configuration, twice, and never a real chatd.conf.
sample=$srcdir/doc/chatd.conf.sample
for dir in "$sysconfdir" "$docdir"; do
	say "checking: $dir/chatd.conf.sample"
	if ! test -f "$dest$dir/chatd.conf.sample"; then
		bad "$dest$dir/chatd.conf.sample is missing"
	elif test -f "$sample" && ! cmp -s "$sample" \
	    "$dest$dir/chatd.conf.sample"; then
		bad "$dest$dir/chatd.conf.sample differs from $sample"
	else
		ok "chatd.conf.sample is installed in $dir"
	fi
done
if test -e "$dest$sysconfdir/chatd.conf"; then
	bad "make install created $sysconfdir/chatd.conf: it must only" \
	    "install the sample"
else
	ok "no chatd.conf is installed (only the sample)"
fi

# 6. The systemd unit, with the paths filled in.
if test -z "$systemdsystemunitdir"; then
	say "skipped: the systemd unit (configured without it)"
else
	unit=$dest$systemdsystemunitdir/chatd.service
	say "checking: $systemdsystemunitdir/chatd.service"
	if ! test -f "$unit"; then
		bad "$unit is missing"
	else
		ok "chatd.service is installed"
		want="ExecStart=$sbindir/chatd --config $sysconfdir/chatd.conf"
		want="$want --history-db /var/lib/chatd/history.db"
		if grep -qxF "$want" "$unit"; then
			ok "the unit says '$want'"
		else
			bad "the unit lacks '$want'; it has:" \
			    "$(grep '^ExecStart' "$unit")"
		fi
		if grep -n '@[A-Za-z_]*@' "$unit"; then
			bad "the unit holds an unexpanded @...@"
		else
			ok "the unit holds no @...@"
		fi
		# shellcheck disable=SC2016 # a literal ${
		if grep -n '\${' "$unit"; then
			bad "the unit holds an unexpanded \${...}"
		else
			ok "the unit holds no \${...}"
		fi
	fi
fi

if test "$fail" -ne 0 || ! test -x "$chatd"; then
	exit 1
fi

# 7. The installed chatd runs with the installed sample as its config:
# every key there is commented out, so the defaults apply.
conf=$tmp/chatd.conf
log=$tmp/chatd.log
cp "$dest$sysconfdir/chatd.conf.sample" "$conf" || exit 1
say "checking: chatd --config chatd.conf --port 0 --bind 127.0.0.1"
"$chatd" --config "$conf" --port 0 --bind 127.0.0.1 >"$log" 2>&1 &
pid=$!

# wait_for PATTERN: up to 10 s for an extended regex in the log.
wait_for() {
	tries=0
	while ! grep -Eq "$1" "$log"; do
		if ! kill -0 "$pid" 2>/dev/null || test "$tries" -ge 100; then
			return 1
		fi
		sleep 0.1
		tries=$((tries + 1))
	done
	return 0
}

stamp='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'
if wait_for "^$stamp info server: listening on 127\\.0\\.0\\.1:[0-9]+\$"; then
	ok "chatd logs '$(grep -m1 'listening on' "$log")'"
else
	bad "chatd did not log 'listening on':"
	cat "$log"
	exit 1
fi

# SIGHUP rereads the (all-comments) file and keeps running.
kill -HUP "$pid"
if wait_for "^$stamp info server: reloaded: "; then
	ok "SIGHUP reloads the sample configuration"
else
	bad "no 'reloaded:' line after SIGHUP"
fi

# SIGTERM: an orderly shutdown, exit status 0.  A watchdog kills chatd
# if it still runs 10 s later.
kill -TERM "$pid"
sh -c 'sleep 10; kill -KILL "$1"' watchdog "$pid" >/dev/null 2>&1 &
watchdog=$!
wait "$pid"
rc=$?
pid=
# SIGKILL: until it runs sh, the watchdog is a copy of this shell, and
# another signal would run this script's traps in it.
kill -KILL "$watchdog" 2>/dev/null
wait "$watchdog" 2>/dev/null
if test "$rc" -eq 0 && grep -q ' info server: stopped$' "$log"; then
	ok "SIGTERM stops chatd with status 0"
elif test "$rc" -eq 137; then
	bad "chatd still ran 10 s after SIGTERM"
else
	bad "after SIGTERM chatd exited with status $rc"
fi

if test "$fail" -ne 0; then
	say "the chatd log was:"
	cat "$log"
fi
exit "$fail"
