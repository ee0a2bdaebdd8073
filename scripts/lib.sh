# scripts/lib.sh - shell helpers that stress.sh, bench-compare.sh and
# c10k.sh share.  Source it after setting root to the repository root.

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
