# shellcheck shell=bash
# scripts/lib.sh - shell helpers that the scripts in scripts/ share.
# Source it after setting root to the repository root; result() sets
# the caller's keep_tmp.
# shellcheck disable=SC2154,SC2034

# find_binary ENV NAME: ENV if set, else build/src/NAME, else src/NAME.
find_binary() {
	local env=$1 name=$2
	if [ -n "$env" ]; then
		echo "$env"
	elif [ -x "$root/build/src/$name" ]; then
		echo "$root/build/src/$name"
	else
		echo "$root/src/$name"
	fi
}

# True while process $1 runs (a zombie does not count).
alive() {
	local state
	kill -0 "$1" 2>/dev/null || return 1
	state=$(sed -n 's/^[0-9]* (.*) \(.\) .*/\1/p' "/proc/$1/stat" \
	    2>/dev/null)
	[ "$state" != Z ]
}

gone() {
	! alive "$1"
}

# proc_kb PID FIELD: a /proc/PID/status field in kB (VmRSS, VmHWM).
proc_kb() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

# wait_for TENTHS COMMAND...: until COMMAND succeeds, at most TENTHS
# tenths of a second.
wait_for() {
	local tenths=$1
	shift
	until "$@"; do
		tenths=$((tenths - 1))
		[ "$tenths" -le 0 ] && return 1
		sleep 0.1
	done
}

# listening_port LOG: the port chatd's log says it listens on at
# 127.0.0.1, or nothing yet.
listening_port() {
	sed -n 's/^.* info server: listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' \
	    "$1" 2>/dev/null | head -n 1
}

# A TCP port on 127.0.0.1 that nothing listens on, below the ephemeral
# range so that chat-bench's own connections cannot take it.
free_port() {
	local p tries=50
	while [ "$tries" -gt 0 ]; do
		p=$((20000 + RANDOM % 10000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
		tries=$((tries - 1))
	done
	return 1
}

# json_field FILE KEY: the first plain (numeric or bare) value of KEY in
# chat-bench's one-line JSON summary FILE.
json_field() {
	sed -n "s/.*\"$2\": \([-0-9.a-z]*\).*/\1/p" "$1" | head -n 1
}

# median V...: the median of numbers (the mean of the middle two for
# an even count); "-" if there are none.
median() {
	[ $# -gt 0 ] || { echo -; return; }
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
	    END { if (NR % 2) print v[(NR + 1) / 2];
	          else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# The comment block at the top of the calling script, as its --help.
usage() {
	sed -n '3,/^$/s/^# \{0,1\}//p' "$0" | sed '${/^$/d;}'
}

# A usage error: say what was wrong, point at --help, exit 2.
die_usage() {
	local me
	me=$(basename "$0")
	echo "$me: $*" >&2
	echo "Try '$me --help'." >&2
	exit 2
}

# result yes|no NAME TEXT...: print "PASS NAME: TEXT" or "FAIL NAME:
# TEXT" and count it in passed or failed; a failure keeps the scratch
# directory (keep_tmp=yes) for a look.
passed=0
failed=0
result() {
	local ok=$1 name=$2
	shift 2
	if [ "$ok" = yes ]; then
		echo "PASS $name: $*"
		passed=$((passed + 1))
	else
		echo "FAIL $name: $*"
		failed=$((failed + 1))
		keep_tmp=yes
	fi
}

# stop_pids PID...: SIGTERM each (empty ones are skipped), then SIGKILL
# what has not gone within 2 s, and reap them all.
stop_pids() {
	local p
	for p in "$@"; do
		[ -z "$p" ] || kill -TERM "$p" 2>/dev/null
	done
	for p in "$@"; do
		[ -n "$p" ] || continue
		wait_for 20 gone "$p" || kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}
