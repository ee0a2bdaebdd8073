/*
 * replay.c - run a fuzz target over saved inputs, without libFuzzer.
 *
 *	replay_framing [FILE | DIR]...
 *
 * Every file named, and every file in every directory named, goes
 * through LLVMFuzzerTestOneInput() once, in name order.  Without
 * arguments it replays $FUZZ_CORPUS/<target>, the committed corpus:
 * that is how "make check" keeps each crash the fuzzer ever found a
 * regression test in every build, gcc, ASan and TSan alike.  A violated
 * property aborts; finding no input at all is a failure too, so a
 * missing corpus cannot pass as an empty one.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef FUZZ_TARGET
#error "FUZZ_TARGET names the corpus directory: -DFUZZ_TARGET='\"framing\"'"
#endif

static int	replay_file(const char *);
static int	replay_dir(const char *, size_t *);
static int	replay_path(const char *, size_t *);

/*
 * Read the whole file into a buffer of exactly its size, so that ASan
 * sees a read past the end.
 */
static int
replay_file(const char *path)
{
	FILE		*f;
	uint8_t		*buf = NULL;
	long		 size;
	int		 rc = -1;

	if ((f = fopen(path, "rb")) == NULL)
		goto out;
	if (fseek(f, 0, SEEK_END) == -1 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) == -1)
		goto out;
	if ((buf = malloc(size > 0 ? (size_t)size : 1)) == NULL)
		goto out;
	if (size > 0 && fread(buf, 1, (size_t)size, f) != (size_t)size)
		goto out;
	LLVMFuzzerTestOneInput(buf, (size_t)size);
	rc = 0;
out:
	if (rc == -1)
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
	free(buf);
	if (f != NULL)
		fclose(f);
	return rc;
}

static int
skip_dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int
replay_dir(const char *dir, size_t *count)
{
	struct dirent	**names;
	char		 *path;
	int		  n, i, rc = 0;

	if ((n = scandir(dir, &names, skip_dot, alphasort)) == -1) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (rc == 0 && asprintf(&path, "%s/%s", dir,
		    names[i]->d_name) != -1) {
			rc = replay_path(path, count);
			free(path);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

static int
replay_path(const char *path, size_t *count)
{
	struct stat	 st;

	if (stat(path, &st) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return replay_dir(path, count);
	if (replay_file(path) == -1)
		return -1;
	(*count)++;
	return 0;
}

int
main(int argc, char **argv)
{
	const char	*corpus;
	char		*dflt = NULL;
	size_t		 count = 0;
	int		 i, rc = 0;

	if (argc < 2) {
		if ((corpus = getenv("FUZZ_CORPUS")) == NULL) {
			fprintf(stderr, "usage: %s [FILE | DIR]..., or set "
			    "FUZZ_CORPUS to the corpus directory\n", argv[0]);
			return 99;	/* a hard error for automake */
		}
		if (asprintf(&dflt, "%s/%s", corpus, FUZZ_TARGET) == -1)
			return 99;
		rc = replay_path(dflt, &count);
		printf("replay %s: %zu inputs from %s\n", FUZZ_TARGET, count,
		    dflt);
		free(dflt);
	} else {
		for (i = 1; i < argc && rc == 0; i++)
			rc = replay_path(argv[i], &count);
		printf("replay %s: %zu inputs\n", FUZZ_TARGET, count);
	}
	if (rc == 0 && count == 0) {
		fprintf(stderr, "replay: no input found\n");
		rc = -1;
	}
	return rc == 0 ? 0 : 1;
}
