# tests/watchdog.sh - sourced by chat_tty.sh and chat_pipe.sh: bounds
# on the whole test and on each wait for a process to exit, so that a
# hung chatd, tmux or client fails the test instead of keeping it.
#
# watchdog_start NAME LIMIT DIR
#	From now on, if the test still runs after LIMIT seconds, a
#	background watchdog prints "NAME: FAIL: ...", SIGKILLs the
#	processes recorded with pid_note (so that nothing the test waits
#	on holds it any longer), then SIGTERMs the test, whose trap must
#	exit and clean up.  Should the test still run 5 s later, stuck
#	where no signal reaches its trap, the watchdog SIGKILLs it and
#	removes DIR, the test's scratch directory.
# watchdog_stop
#	In the test's cleanup: end the watchdog.
# pid_note NAME PID, pid_forget NAME
#	Record, or forget, a process the test started (in DIR/pids/NAME).
# wait_gone PID TENTHS
#	Wait at most TENTHS tenths of a second for the child PID to exit:
#	0 once it has (reap it with "wait PID" for its status), 1 if not.

wd_pid=
wd_dir=

pid_note() {
	echo "$2" >"$wd_dir/pids/$1"
}

pid_forget() {
	rm -f "$wd_dir/pids/$1"
}

wait_gone() {
	wg_tries=$2
	while kill -0 "$1" 2>/dev/null; do
		wg_tries=$((wg_tries - 1))
		[ "$wg_tries" -le 0 ] && return 1
		sleep 0.1
	done
	return 0
}

# The watchdog itself, in the background.  Its naps run in the
# background too, so that watchdog_stop's SIGTERM ends it at once.
wd_run() {
	trap 'kill "$wd_nap" 2>/dev/null; exit 0' TERM
	sleep "$2" &
	wd_nap=$!
	wait "$wd_nap"
	printf '%s: FAIL: still running after %s s: stopped by the watchdog\n' \
	    "$1" "$2" >&2
	for wd_f in "$wd_dir"/pids/*; do
		[ -f "$wd_f" ] && kill -KILL "$(cat "$wd_f")" 2>/dev/null
	done
	kill -TERM "$wd_test" 2>/dev/null
	sleep 5 &
	wd_nap=$!
	wait "$wd_nap"
	if kill -0 "$wd_test" 2>/dev/null; then
		kill -KILL "$wd_test" 2>/dev/null
		rm -rf "$wd_dir"
	fi
	exit 0
}

watchdog_start() {
	wd_dir=$3
	wd_test=$$
	mkdir -p "$wd_dir/pids" || return 1
	wd_run "$1" "$2" &
	wd_pid=$!
}

watchdog_stop() {
	[ -n "$wd_pid" ] && kill -TERM "$wd_pid" 2>/dev/null
	wd_pid=
}
