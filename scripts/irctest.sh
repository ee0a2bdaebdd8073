#!/usr/bin/env bash
#
# irctest.sh - run irctest's server tests for the modules chatd
# speaks against a freshly built chatd (or Debian's ngircd, for
# comparison), print each module's pass/fail/skip counts and end with
# "N passed, N failed".
#
# Usage: scripts/irctest.sh [--server chatd|ngircd] [--build DIR]
#
#   --server S   chatd (default), with tests/irctest/chatd.py, or ngircd
#                with irctest's own controller
#   --build DIR  the build directory whose src/chatd runs (default:
#                $CHATD, else build/)
#
# irctest comes from ../shared/irctest and is copied to a scratch
# directory, since it writes where it runs.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"

server=chatd
build=
while [ $# -gt 0 ]; do
	case $1 in
	--server) server=${2:-}; shift 2 || die_usage "--server needs a value" ;;
	--build) build=${2:-}; shift 2 || die_usage "--build needs a value" ;;
	-h|--help) usage; exit 0 ;;
	*) die_usage "unknown option '$1'" ;;
	esac
done

modules="connection_registration pingpong cap join part messages topic
names quit isupport echo_message message_tags away away_notify list kick
utf8"

case $server in
chatd)
	if [ -n "$build" ]; then
		CHATD="$build/src/chatd"
	else
		CHATD=$(find_binary "${CHATD:-}" chatd)
	fi
	[ -x "$CHATD" ] || { echo "irctest.sh: no chatd at $CHATD" >&2; exit 1; }
	# The suite runs elsewhere: the path must not depend on where we are.
	CHATD=$(cd "$(dirname "$CHATD")" && pwd)/$(basename "$CHATD")
	export CHATD
	controller=chatd
	pypath="$root/tests/irctest"
	;;
ngircd)
	command -v ngircd >/dev/null 2>&1 || [ -x /usr/sbin/ngircd ] ||
		{ echo "irctest.sh: ngircd is not installed" >&2; exit 1; }
	PATH="$PATH:/usr/sbin"
	controller=irctest.controllers.ngircd
	pypath=
	;;
*) die_usage "--server is chatd or ngircd" ;;
esac

src="$root/../shared/irctest"
[ -d "$src" ] || { echo "irctest.sh: no irctest at $src" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/irctest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp -r "$src" "$tmp/irctest"

# Deselected, each for the reason doc/PROTOCOL.md ("IRC") gives.
deselect="not testNames1459 and not testNamesNoArgument"
deselect="$deselect and not testNonUtf8Filtering and not testUtf8NonAsciiNick"

files=()
for m in $modules; do
	files+=("irctest/server_tests/$m.py")
done
cd "$tmp/irctest" || exit 1
PYTHONPATH="$tmp/irctest${pypath:+:$pypath}" nice -n 19 /usr/bin/python3 \
	-m pytest -p no:cacheprovider -rA --controller "$controller" \
	-k "$deselect" \
	-o junit_family=xunit1 --junitxml "$tmp/result.xml" "${files[@]}" \
	>"$tmp/pytest.log" 2>&1
grep -E "^(FAILED|ERROR) " "$tmp/pytest.log" | sed 's/^/  /'
tail -n 1 "$tmp/pytest.log" | sed 's/^/pytest: /'
[ -n "${IRCTEST_LOG:-}" ] && cp "$tmp/pytest.log" "$IRCTEST_LOG"
[ -n "${IRCTEST_XML:-}" ] && cp "$tmp/result.xml" "$IRCTEST_XML"

# Per module, from the JUnit report: a test case with a <failure> or
# <error> failed, one with <skipped> (skips, xfails) was skipped.
/usr/bin/python3 - "$tmp/result.xml" $modules <<'PY'
import sys
import xml.etree.ElementTree as ET

counts = {m: [0, 0, 0] for m in sys.argv[2:]}
for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    module = case.get("classname", "").split(".")[2:3]
    if not module or module[0] not in counts:
        continue
    c = counts[module[0]]
    if case.find("failure") is not None or case.find("error") is not None:
        c[1] += 1
    elif case.find("skipped") is not None:
        c[2] += 1
    else:
        c[0] += 1
for m in sys.argv[2:]:
    print("%-26s %3d passed, %3d failed, %3d skipped" % (m, *counts[m]))
print("%d passed, %d failed" % (sum(c[0] for c in counts.values()),
                                sum(c[1] for c in counts.values())))
PY
