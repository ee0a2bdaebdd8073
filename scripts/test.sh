#!/usr/bin/env bash
# scripts/test.sh - set up, then run the whole test suite three times:
# a -Werror build, an ASan+UBSan build and a TSan build, each with
# "make check".  The last line is the total, "N passed, N failed",
# counted from the Check test logs.
#
#   --quick   only the -Werror build
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
quick=no
for arg in "$@"; do
	case $arg in
	--quick) quick=yes ;;
	-h|--help) sed -n '2,8p' "$0"; exit 0 ;;
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
	rm -f "$build"/tests/*.log
	if ! make -C "$build" -j"$(nproc)" check >"$build/check.log" 2>&1; then
		status=1
		cat "$build/check.log"
		for log in "$build"/tests/*.log; do
			grep -q '^FAIL\|^ERROR' "${log%.log}.trs" 2>/dev/null &&
				{ echo "--- $log"; tail -n 60 "$log"; }
		done
	fi
	# Check prints "NN%: Checks: N, Failures: F, Errors: E" per program.
	read -r p f < <(cat "$build"/tests/check_*.log 2>/dev/null |
		awk '/Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ {
			gsub(",", ""); c += $3; f += $5 + $7 }
			END { print c - f, f + 0 }')
	# A program that crashed before its summary counts as one failure.
	for trs in "$build"/tests/check_*.trs; do
		[ -f "$trs" ] || continue
		if grep -q ':test-result: \(FAIL\|ERROR\)' "$trs" &&
		   ! grep -q 'Checks: ' "${trs%.trs}.log"; then
			f=$((f + 1))
		fi
	done
	echo "=== $name: $p passed, $f failed"
	passed=$((passed + p))
	failed=$((failed + f))
done
[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed"
exit $status
