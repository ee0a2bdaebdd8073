#!/usr/bin/env bash
#
# fuzz.sh - build the libFuzzer targets (fuzz/) with clang and run each
# for a while, one after the other.
#
# Usage: scripts/fuzz.sh [--time SECONDS] [--build DIR] [--only TARGET]
#
#   --time SECONDS  how long each target runs (default 60)
#   --build DIR     the build directory (default build-fuzz), configured
#                   by scripts/setup.sh with CC=clang --enable-fuzzing
#                   (setup.sh installs clang and libclang-rt-14-dev)
#   --only TARGET   run one target: framing, command, session, irc or tls
#   -h, --help      print this help
#
# Each target starts from a scratch copy of its committed corpus
# (fuzz/corpus/TARGET), so a run never grows the repository; what it
# found stays in DIR/fuzz-run/TARGET/corpus.  A crash, leak or violated
# property leaves its input in DIR/fuzz-run/TARGET-crash-* (or -leak-,
# -timeout-, -oom-): fix the bug,
# then add that file to fuzz/corpus/TARGET (fuzz/README).
#
# Per target it prints the executions, exec/s and libFuzzer's final
# "cov:" and "ft:" figures, and PASS or FAIL; the last line is
# "N passed, N failed".
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
time=60
build=$top/build-fuzz
targets=(framing command session irc tls)
while [ $# -gt 0 ]; do
	case $1 in
	--time) time=${2:?--time needs SECONDS}; shift ;;
	--build) build=${2:?--build needs DIR}; shift ;;
	--only) targets=("${2:?--only needs TARGET}"); shift ;;
	-h|--help) sed -n '3,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "fuzz.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done
case $time in
''|*[!0-9]*|0) echo "fuzz.sh: --time takes a positive number of seconds" >&2; exit 2 ;;
esac
case $build in /*) ;; *) build=$PWD/$build ;; esac

passed=0
failed=0
echo "=== fuzz: configure $build (CC=clang --enable-fuzzing)"
# Only fuzzing needs clang and libFuzzer's runtime (which clang merely
# recommends), so setup.sh installs them here, not for every build.
extra="clang libclang-rt-14-dev ${SETUP_EXTRA_PACKAGES:-}"
if ! SETUP_EXTRA_PACKAGES=$extra \
    "$top/scripts/setup.sh" "$build" CC=clang --enable-fuzzing; then
	echo "=== fuzz: configure failed"
	echo "0 passed, 1 failed"
	exit 1
fi
bins=()
for t in "${targets[@]}"; do
	bins+=("fuzz/fuzz_$t")
done
if ! make -C "$build" -j"$(nproc)" "${bins[@]}" >"$build/fuzz-make.log" 2>&1; then
	tail -n 40 "$build/fuzz-make.log"
	echo "=== fuzz: build failed"
	echo "0 passed, 1 failed"
	exit 1
fi

# The figure after "key: " on libFuzzer's last status line, or "?".
figure() {
	local v
	v=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$1" |
		tail -n 1 | grep -Eo "$2: [0-9]+" | grep -Eo '[0-9]+')
	echo "${v:-?}"
}
# A -print_final_stats=1 figure, or "?".
stat() {
	local v
	v=$(grep -Eo "^stat::$2: *[0-9]+" "$1" | grep -Eo '[0-9]+$' | tail -n 1)
	echo "${v:-?}"
}

run=$build/fuzz-run
mkdir -p "$run"
for t in "${targets[@]}"; do
	bin=$build/fuzz/fuzz_$t
	seeds=$top/fuzz/corpus/$t
	work=$run/$t
	log=$run/$t.log
	if [ ! -x "$bin" ] || [ ! -d "$seeds" ]; then
		echo "FAIL $t: no such target"
		failed=$((failed + 1))
		continue
	fi
	rm -rf "$work"
	mkdir -p "$work"
	cp -R "$seeds" "$work/corpus"
	rm -f "$run/$t-"*
	# libFuzzer stops itself after --time; timeout is only a backstop.
	(cd "$work" && timeout -k 10 $((time + 120)) "$bin" \
		-max_total_time="$time" -print_final_stats=1 \
		-artifact_prefix="$run/$t-" corpus) >"$log" 2>&1
	rc=$?
	execs=$(stat "$log" number_of_executed_units)
	speed=$(stat "$log" average_exec_per_sec)
	cov=$(figure "$log" cov)
	ft=$(figure "$log" ft)
	size=$(find "$work/corpus" -type f | wc -l)
	seed=$(find "$seeds" -type f | wc -l)
	line="$t: execs $execs, exec/s $speed, cov $cov, ft $ft, corpus $size (seeds $seed), ${time} s"
	if [ "$rc" -eq 0 ] && grep -q '^#[0-9]*[[:space:]]*DONE' "$log"; then
		echo "PASS $line"
		passed=$((passed + 1))
	else
		echo "FAIL $line (exit $rc)"
		grep -E 'ERROR|property violated|SUMMARY|Test unit written' "$log" |
			head -n 20 | sed 's/^/    /'
		ls "$run/$t-"* 2>/dev/null | sed 's/^/    artifact: /'
		echo "    log: $log"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
