#!/usr/bin/env bash
# scripts/test.sh - set up, then run the whole test suite three times:
# a -Werror build, an ASan+UBSan build and a TSan build, each with
# "make check", then scripts/stress.sh --quick, scripts/membound.sh,
# scripts/irctest.sh (irctest's server tests, on the plain build),
# scripts/soak.sh --quick (on the ASan build), scripts/fuzz.sh (each fuzz
# target for 30 s) and "make distcheck" (with check_fairness looped
# twice).  The last line is the total, "N passed, N failed", counted
# from the test logs and from each script's own last line.
#
#   --quick   only the -Werror build: no sanitizers, stress, membound,
#             irctest, soak, fuzzing or distcheck
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
quick=no
for arg in "$@"; do
	case $arg in
	--quick) quick=yes ;;
	-h|--help) sed -n '2,11s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "test.sh: unknown option '$arg'" >&2; exit 2 ;;
	esac
done

variants=("plain:--enable-werror")
if [ "$quick" = no ]; then
	variants+=("asan:--enable-werror --enable-sanitizers=address")
	variants+=("tsan:--enable-werror --enable-sanitizers=thread")
fi

passed=0
failed=0
status=0
for v in "${variants[@]}"; do
	name=${v%%:*}
	args=${v#*:}
	build="$top/build-$name"
	echo "=== $name build: configure $args"
	# shellcheck disable=SC2086
	if ! "$top/scripts/setup.sh" "$build" $args; then
		echo "=== $name: configure failed"
		failed=$((failed + 1)); status=1; continue
	fi
	if ! make -C "$build" -j"$(nproc)" >"$build/make.log" 2>&1; then
		cat "$build/make.log"
		echo "=== $name: build failed"
		failed=$((failed + 1)); status=1; continue
	fi
	rm -f "$build"/tests/*.log "$build"/tests/*.trs \
		"$build"/fuzz/*.log "$build"/fuzz/*.trs
	if ! make -C "$build" -j"$(nproc)" check >"$build/check.log" 2>&1; then
		status=1
		cat "$build/check.log"
		for log in "$build"/tests/*.log "$build"/fuzz/*.log; do
			grep -q '^FAIL\|^ERROR' "${log%.log}.trs" 2>/dev/null &&
				{ echo "--- $log"; tail -n 60 "$log"; }
		done
	fi
	# A Check program's log has "NN%: Checks: N, Failures: F, Errors: E":
	# its cases count one by one.  Any other test (a shell script, or a
	# Check program that crashed before its summary) counts as one, by
	# the result automake recorded in its .trs file.
	p=0
	f=0
	# The replay tests (fuzz/replay_*) live in fuzz/.
	for trs in "$build"/tests/*.trs "$build"/fuzz/*.trs; do
		[ -f "$trs" ] || continue
		log=${trs%.trs}.log
		summary=$(grep -Eo 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" 2>/dev/null | tail -n 1)
		if [ -n "$summary" ]; then
			read -r c fl e < <(echo "$summary" | tr -dc '0-9 ' | awk '{ print $1, $2, $3 }')
			p=$((p + c - fl - e))
			f=$((f + fl + e))
			# Passing cases but a failing program: a sanitizer report
			# or a leak at exit.  That is a failure too.
			if [ $((fl + e)) -eq 0 ] &&
			   grep -q ':test-result: \(FAIL\|ERROR\)' "$trs"; then
				f=$((f + 1))
			fi
		elif grep -q ':test-result: PASS' "$trs"; then
			p=$((p + 1))
		elif grep -q ':test-result: \(FAIL\|ERROR\)' "$trs"; then
			f=$((f + 1))
		fi
	done
	echo "=== $name: $p passed, $f failed"
	passed=$((passed + p))
	failed=$((failed + f))
done
# run_script NAME LOG COMMAND...: run a script that ends with "N
# passed, N failed", show its output, and add that line to the total.
run_script() {
	local name=$1 log=$2 sp sf
	shift 2
	echo "=== $name"
	"$@" 2>&1 | tee "$log"
	read -r sp sf < <(tail -n 1 "$log" |
		sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')
	if [ -z "${sp:-}" ]; then
		echo "=== $name: no total line"
		sp=0 sf=1
	fi
	passed=$((passed + sp))
	failed=$((failed + sf))
}

if [ "$quick" = no ]; then
	# The stress scenarios, reduced (under 3 minutes), on the plain build.
	CHATD="$top/build-plain/src/chatd" \
	CHAT_BENCH="$top/build-plain/src/chat-bench" \
		run_script "stress --quick" "$top/build-plain/stress.log" \
		"$top/scripts/stress.sh" --quick
	# 1,000 never-readers beside 100 readers (about 30 s).
	CHATD="$top/build-plain/src/chatd" \
	CHAT_BENCH="$top/build-plain/src/chat-bench" \
	IDLE_CLIENTS="$top/build-plain/tests/idle_clients" \
		run_script membound "$top/build-plain/membound.log" \
		"$top/scripts/membound.sh"
	# irctest's server tests for the IRC modules chatd speaks (about 30 s).
	run_script irctest "$top/build-plain/irctest.log" \
		"$top/scripts/irctest.sh" --build "$top/build-plain"
	# Mixed traffic under ASan, RSS sampled (about 90 s).
	run_script "soak --quick" "$top/build-asan/soak.log" \
		"$top/scripts/soak.sh" --quick --build "$top/build-asan"
fi

# Each libFuzzer target for 30 s, from the committed corpus (clang).
if [ "$quick" = no ]; then
	run_script fuzz "$top/build-plain/fuzz.log" \
		"$top/scripts/fuzz.sh" --time 30
fi

# The release tarball must build and pass on its own: make distcheck.
if [ "$quick" = no ]; then
	echo "=== distcheck"
	if CHATD_TEST_LOOPS=2 make -C "$top/build-plain" -j"$(nproc)" distcheck \
	    >"$top/build-plain/distcheck.log" 2>&1; then
		echo "=== distcheck: passed"
		passed=$((passed + 1))
	else
		tail -n 80 "$top/build-plain/distcheck.log"
		echo "=== distcheck: failed"
		failed=$((failed + 1))
	fi
fi

[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed"
exit $status
