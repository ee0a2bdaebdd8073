#!/bin/sh
#
# over_tls.sh - the scenarios that prove nothing is lost, run again over
# TLS: check_server's chat, order (20 clients, 5 senders, nothing lost
# or reordered) and slow consumer, and check_faults' full send queue and
# resets, each with every client on the TLS port (testnet's TLS mode,
# TN_OVER_TLS=1).  Exit 0 pass, 1 fail, 77 skip (built without TLS).
#
# Needs abs_top_builddir and CHATD ("make check" exports them).

set -u

b=${abs_top_builddir:?abs_top_builddir is not set}
if ! grep -q '^#define HAVE_TLS 1' "$b/config.h"; then
	echo "over_tls: built without TLS, skipped"
	exit 77
fi
TN_OVER_TLS=1
export TN_OVER_TLS

failed=0
run() {
	prog=$1
	shift
	for case in "$@"; do
		echo "over_tls: $prog $case"
		if ! CK_RUN_CASE=$case "$b/tests/$prog"; then
			echo "over_tls: FAIL: $prog $case over TLS" >&2
			failed=1
		fi
	done
}

run check_server chat order slow_consumer
run check_faults full_sendq rst_midline half_closed early_data
exit $failed
