/*
 * check_tmp.h - a scratch directory per test, for the config, MOTD, pid
 * and log files a test writes.  Used as an unchecked fixture, so the
 * runner makes and removes it even when the test fails (Check skips a
 * checked teardown then).
 */
#ifndef CHATD_CHECK_TMP_H
#define CHATD_CHECK_TMP_H

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char	 tmpdir[256];

/* Make tmpdir as $TMPDIR/PREFIX.XXXXXX. */
static inline void
tmpdir_make(const char *prefix)
{
	const char	*tmp;

	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/%s.XXXXXX", tmp, prefix);
	ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp %s: %s", tmpdir,
	    strerror(errno));
}

/* Remove tmpdir and the files in it. */
static inline void
tmpdir_remove(void)
{
	struct dirent	*de;
	DIR		*dir;
	char		 path[600];

	if ((dir = opendir(tmpdir)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, de->d_name);
		unlink(path);
	}
	closedir(dir);
	rmdir(tmpdir);
}

#endif /* CHATD_CHECK_TMP_H */
