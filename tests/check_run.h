/*
 * check_run.h - what every Check test program's main() does: run one
 * suite, print Check's summary line (scripts/test.sh counts it) and exit
 * non-zero if anything failed.
 */
#ifndef CHATD_CHECK_RUN_H
#define CHATD_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int
check_run(Suite *s)
{
	SRunner	*sr = srunner_create(s);
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* CHATD_CHECK_RUN_H */
