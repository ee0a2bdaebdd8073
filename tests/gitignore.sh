#!/bin/sh
#
# gitignore.sh - every program and generated file a build makes is one
# that git ignores when the build is done in the source tree, so that
# "./configure && make" leaves "git status" clean.  It looks at what this
# build (in abs_top_builddir, exported by "make check") made, by path,
# and asks git about the same path in the source tree.  Skipped (77)
# outside a git checkout, as in "make distcheck".
# Exit 0 pass, 1 fail, 77 skip.

set -u

top=$(cd "$(dirname "$0")/.." && pwd)
build=${abs_top_builddir:?abs_top_builddir is not set}
git -C "$top" rev-parse --git-dir >/dev/null 2>&1 || exit 77

cd "$build" || exit 1
failed=0
checked=0
for f in $(find src tests fuzz contrib -maxdepth 1 -type f \
    \( -perm -u+x -o -name '*.service' \) 2>/dev/null); do
	# A tracked file (a test script, in an in-tree build) is not a product.
	git -C "$top" ls-files --error-unmatch "$f" >/dev/null 2>&1 && continue
	checked=$((checked + 1))
	if ! git -C "$top" check-ignore -q "$f"; then
		echo "FAIL: $f, built by make, is not in .gitignore"
		failed=1
	fi
done
[ "$checked" -gt 0 ] || { echo "FAIL: found nothing built in $build"; exit 1; }
[ "$failed" -eq 0 ] && echo "PASS: the $checked files the build made are ignored"
exit "$failed"
