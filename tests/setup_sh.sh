#!/bin/sh
#
# setup_sh.sh - what scripts/setup.sh installs, with apt-get, dpkg-query,
# id and sudo replaced by stubs on a PATH of their own, so nothing is
# installed and no root is needed:
#   - a plain build (what run.sh asks for) installs no clang;
#   - SETUP_EXTRA_PACKAGES (what fuzz.sh sets) adds to the list;
#   - not root and without sudo, it names the missing packages and the
#     apt-get command to run as root, and exits 1.
# Exit 0 pass, 1 fail.

set -u

top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/setup_sh.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failed=0

fail() {
	echo "FAIL: $*"
	failed=1
}

# A PATH with the few real tools setup.sh uses and the stubs.
mkdir "$tmp/bin"
for t in bash dirname grep cat mkdir; do
	ln -s "$(command -v "$t")" "$tmp/bin/$t" || exit 1
done
# Every package is missing.
printf '#!/bin/sh\nexit 1\n' >"$tmp/bin/dpkg-query"
# apt-get notes its arguments and fails the install, so setup.sh stops
# there, before autoreconf.
cat >"$tmp/bin/apt-get" <<STUB
#!/bin/sh
echo "\$*" >>"$tmp/apt.log"
[ "\$1" = update ]
STUB
chmod +x "$tmp/bin/dpkg-query" "$tmp/bin/apt-get"

# run_setup UID: run setup.sh as if id -u said UID; its stderr in err.
run_setup() {
	printf '#!/bin/sh\necho %s\n' "$1" >"$tmp/bin/id"
	chmod +x "$tmp/bin/id"
	rm -f "$tmp/apt.log"
	PATH="$tmp/bin" "$tmp/bin/bash" "$top/scripts/setup.sh" \
	    "$tmp/build" 2>"$tmp/err" >/dev/null
}

# 1. Root, nothing extra: the build's packages, and no clang.
# Each word, not one order, so that a package added to the list does not
# break the test: what configure and the tests need is checked by name.
run_setup 0
for p in build-essential check libsqlite3-dev libreadline-dev libssl-dev \
    openssl python3-pytest socat ngircd tmux libnats-dev nats-server \
    irssi weechat-headless; do
	grep -q "^install .* $p\( \|$\)" "$tmp/apt.log" ||
	    fail "root: apt-get was not asked for $p:" \
	    "$(cat "$tmp/apt.log" 2>/dev/null)"
done
grep -q clang "$tmp/apt.log" && fail "a plain build installs clang"

# 2. SETUP_EXTRA_PACKAGES adds to the list, as fuzz.sh uses it.
SETUP_EXTRA_PACKAGES="clang libclang-rt-14-dev" run_setup 0
grep -q '^install .* clang libclang-rt-14-dev$' "$tmp/apt.log" ||
    fail "SETUP_EXTRA_PACKAGES was not installed:" \
    "$(cat "$tmp/apt.log" 2>/dev/null)"
grep -q 'SETUP_EXTRA_PACKAGES=\$extra' "$top/scripts/fuzz.sh" &&
    grep -q '^extra="clang libclang-rt-14-dev' "$top/scripts/fuzz.sh" ||
    fail "fuzz.sh does not ask setup.sh for clang"

# 3. Not root, no sudo: a clear message, exit 1, apt-get not run.
run_setup 1000
rc=$?
[ "$rc" -eq 1 ] || fail "not root without sudo: exit $rc, not 1"
[ -f "$tmp/apt.log" ] && fail "not root without sudo: apt-get was run"
grep -q 'not root and sudo is not installed' "$tmp/err" ||
    fail "not root without sudo: no reason given: $(cat "$tmp/err")"
grep -q 'apt-get update && apt-get install build-essential' "$tmp/err" ||
    fail "not root without sudo: no command to run: $(cat "$tmp/err")"
grep -q 'sudo: command not found' "$tmp/err" &&
    fail "not root without sudo: a bare 'sudo: command not found'"

[ "$failed" -eq 0 ] && echo "PASS: setup.sh installs what it should"
exit "$failed"
