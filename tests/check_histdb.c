/*
 * check_histdb.c - the history database: what survives a close and a
 * reopen, the bounds (queue, prune, load), the files it refuses, write
 * failures that chatd lives through, and appends from many threads while
 * the writer runs.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "histdb.h"
#include "history.h"
#include "check_run.h"
#include "check_tmp.h"

#define MAX_ROOMS	8
#define LOAD_ALL	100000

static char	 dbpath[512];

static void
setup(void)
{
	tmpdir_make("check_histdb");
	snprintf(dbpath, sizeof(dbpath), "%s/history.db", tmpdir);
}

static void
teardown(void)
{
	tmpdir_remove();
}

static struct histdb *
open_db(size_t max_lines)
{
	struct histdb	*db;
	char		 err[512] = "";

	db = histdb_open(dbpath, max_lines, err, sizeof(err));
	ck_assert_msg(db != NULL, "histdb_open: %s", err);
	return db;
}

/* Append a line as a room would: the event goes to the ring and here. */
static void
append_line(struct histdb *db, enum event_kind kind, const char *room,
    uint64_t seq, const char *nick, const char *text)
{
	struct event	*ev;

	ev = event_new(kind, seq, 1000 * seq + 7, room, strlen(room), nick,
	    strlen(nick), text, strlen(text));
	ck_assert_ptr_nonnull(ev);
	histdb_append(db, ev);
	event_unref(ev);
}

/* What histdb_load() handed over, copied. */
struct lroom {
	char		  name[256];
	char		  topic[512];
	char		  topic_nick[64];
	uint64_t	  topic_time_ms;
	uint64_t	  last_seq;
	struct event	**ev;
	size_t		  n;
};

struct loaded {
	struct lroom	 room[MAX_ROOMS];
	size_t		 n;
	int		 stop_after;	/* rooms before fn says stop, or 0 */
};

static int
collect(void *ctx, const struct histdb_room *r)
{
	struct loaded	*l = ctx;
	struct lroom	*lr;
	size_t		 i;

	ck_assert_uint_lt(l->n, MAX_ROOMS);
	lr = &l->room[l->n++];
	ck_assert_uint_eq(strlen(r->name), r->name_len);
	ck_assert_uint_eq(strlen(r->topic), r->topic_len);
	ck_assert_uint_eq(strlen(r->topic_nick), r->topic_nick_len);
	snprintf(lr->name, sizeof(lr->name), "%s", r->name);
	snprintf(lr->topic, sizeof(lr->topic), "%s", r->topic);
	snprintf(lr->topic_nick, sizeof(lr->topic_nick), "%s", r->topic_nick);
	lr->topic_time_ms = r->topic_time_ms;
	lr->last_seq = r->last_seq;
	lr->n = r->n;
	ck_assert_ptr_nonnull(lr->ev = calloc(r->n + 1, sizeof(*lr->ev)));
	for (i = 0; i < r->n; i++)
		lr->ev[i] = event_ref(r->events[i]);
	return l->stop_after != 0 && (int)l->n == l->stop_after;
}

static void
loaded_free(struct loaded *l)
{
	size_t	 i, j;

	for (i = 0; i < l->n; i++) {
		for (j = 0; j < l->room[i].n; j++)
			event_unref(l->room[i].ev[j]);
		free(l->room[i].ev);
	}
	memset(l, 0, sizeof(*l));
}

/* Open the database again, as chatd does at startup, and load it. */
static void
reload(struct loaded *l, size_t max_lines)
{
	struct histdb	*db = open_db(LOAD_ALL);

	memset(l, 0, sizeof(*l));
	ck_assert_int_eq(histdb_load(db, max_lines, collect, l), 0);
	histdb_close(db);
}

static struct lroom *
find_room(struct loaded *l, const char *name)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (strcasecmp(l->room[i].name, name) == 0)
			return &l->room[i];
	ck_abort_msg("room %s was not loaded", name);
	return NULL;
}

/* Assert the room holds exactly seqs first..last, oldest first. */
static void
assert_seqs(const struct lroom *r, uint64_t first, uint64_t last)
{
	size_t	 i;

	ck_assert_uint_eq(r->n, last - first + 1);
	for (i = 0; i < r->n; i++)
		ck_assert_uint_eq(r->ev[i]->seq, first + i);
}

static void
sleep_ms(long ms)
{
	struct timespec	 ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Wait (10 s at most) until the writer has dealt with n events. */
static void
wait_handled(struct histdb *db, uint64_t n)
{
	uint64_t	 written, dropped, failed;
	int		 i;

	for (i = 0; i < 1000; i++) {
		histdb_stats(db, &written, &dropped, &failed);
		if (written + failed >= n)
			return;
		sleep_ms(10);
	}
	ck_abort_msg("the writer handled %ju of %ju events in 10 s",
	    (uintmax_t)(written + failed), (uintmax_t)n);
}

START_TEST(round_trip)
{
	struct histdb	*db;
	struct event	*topic;
	struct loaded	 l;
	struct lroom	*r;
	uint64_t	 written, dropped, failed;

	db = open_db(100);
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(histdb_load(db, 100, collect, &l), 0);
	ck_assert_uint_eq(l.n, 0);		/* a new file: nothing */
	ck_assert_int_eq(histdb_start(db), 0);
	append_line(db, EV_SAY, "#Rust", 1, "alice", "hello");
	append_line(db, EV_ME, "#Rust", 2, "bob", "waves");
	append_line(db, EV_SAY, "#lobby", 1, "carol", "h\xc3\xa9llo \xe2\x98\x83");
	append_line(db, EV_SAY, "#Rust", 3, "alice", "");
	histdb_set_topic(db, "#Rust", 5, "Rust talk", 9);
	/* The room's own topic event carries who and when. */
	topic = event_new(EV_TOPIC, 2, 424242, "#lobby", 6, "carol", 5,
	    "welcome", 7);
	ck_assert_ptr_nonnull(topic);
	histdb_append(db, topic);
	event_unref(topic);
	histdb_close(db);

	reload(&l, 100);
	ck_assert_uint_eq(l.n, 2);
	r = find_room(&l, "#rust");
	ck_assert_str_eq(r->name, "#Rust");
	ck_assert_str_eq(r->topic, "Rust talk");
	ck_assert_uint_eq(r->last_seq, 3);
	assert_seqs(r, 1, 3);
	ck_assert_int_eq(r->ev[0]->kind, EV_SAY);
	ck_assert_str_eq(r->ev[0]->nick, "alice");
	ck_assert_str_eq(r->ev[0]->text, "hello");
	ck_assert_str_eq(r->ev[0]->room, "#Rust");
	ck_assert_uint_eq(r->ev[0]->time_ms, 1007);
	ck_assert_int_eq(r->ev[1]->kind, EV_ME);
	ck_assert_str_eq(r->ev[1]->nick, "bob");
	ck_assert_str_eq(r->ev[1]->text, "waves");
	ck_assert_uint_eq(r->ev[2]->text_len, 0);
	r = find_room(&l, "#lobby");
	ck_assert_str_eq(r->topic, "welcome");
	ck_assert_str_eq(r->topic_nick, "carol");
	ck_assert_uint_eq(r->topic_time_ms, 424242);
	ck_assert_uint_eq(r->last_seq, 2);	/* the topic's */
	assert_seqs(r, 1, 1);
	ck_assert_str_eq(r->ev[0]->text, "h\xc3\xa9llo \xe2\x98\x83");
	loaded_free(&l);

	/*
	 * Numbering goes on from last_seq; another spelling is the same
	 * room, and renames it; an empty topic clears it.
	 */
	db = open_db(100);
	append_line(db, EV_SAY, "#RUST", 4, "dave", "again");
	histdb_set_topic(db, "#RUST", 5, "", 0);
	histdb_close(db);	/* never started: close writes the queue */
	reload(&l, 100);
	ck_assert_uint_eq(l.n, 2);
	r = find_room(&l, "#rust");
	ck_assert_str_eq(r->name, "#RUST");
	ck_assert_str_eq(r->topic, "");
	assert_seqs(r, 1, 4);
	ck_assert_str_eq(r->ev[3]->room, "#RUST");
	ck_assert_uint_eq(r->last_seq, 4);
	loaded_free(&l);

	db = open_db(100);
	histdb_stats(db, &written, &dropped, &failed);
	ck_assert_uint_eq(written + dropped + failed, 0);
	histdb_close(db);
}
END_TEST

/* fn may stop the load, which then fails. */
START_TEST(load_stops_when_told)
{
	struct histdb	*db;
	struct loaded	 l;

	db = open_db(100);
	append_line(db, EV_SAY, "#a", 1, "n", "x");
	append_line(db, EV_SAY, "#b", 1, "n", "x");
	append_line(db, EV_SAY, "#c", 1, "n", "x");
	histdb_close(db);

	db = open_db(100);
	memset(&l, 0, sizeof(l));
	l.stop_after = 2;
	ck_assert_int_eq(histdb_load(db, 100, collect, &l), -1);
	ck_assert_uint_eq(l.n, 2);
	loaded_free(&l);
	histdb_close(db);
}
END_TEST

/* Many appends, fewer transactions: all arrive, per room in order. */
START_TEST(batches_keep_everything)
{
	enum { N = 5000 };
	static const char *const rooms[] = { "#a", "#b", "#c" };
	struct histdb	*db;
	struct loaded	 l;
	uint64_t	 seq[3] = { 0 }, written, dropped, failed;
	char		 text[32];
	size_t		 i, r;

	db = open_db(LOAD_ALL);
	/* Some queued before the writer starts, most while it runs. */
	for (i = 0; i < N; i++) {
		if (i == N / 10)
			ck_assert_int_eq(histdb_start(db), 0);
		r = i * 7 % 3;
		snprintf(text, sizeof(text), "line %zu", i);
		append_line(db, EV_SAY, rooms[r], ++seq[r], "n", text);
	}
	wait_handled(db, N);
	histdb_stats(db, &written, &dropped, &failed);
	ck_assert_uint_eq(written, N);
	ck_assert_uint_eq(dropped + failed, 0);
	histdb_close(db);

	reload(&l, LOAD_ALL);
	ck_assert_uint_eq(l.n, 3);
	for (r = 0; r < 3; r++) {
		assert_seqs(find_room(&l, rooms[r]), 1, seq[r]);
		ck_assert_uint_eq(find_room(&l, rooms[r])->last_seq, seq[r]);
	}
	loaded_free(&l);
}
END_TEST

START_TEST(load_limit_per_room)
{
	struct histdb	*db;
	struct loaded	 l;
	struct lroom	*r;
	uint64_t	 i;

	db = open_db(100);
	for (i = 1; i <= 30; i++)
		append_line(db, EV_SAY, "#big", i, "n", "x");
	for (i = 1; i <= 10; i++)
		append_line(db, EV_SAY, "#small", i, "n", "x");
	for (i = 1; i <= 3; i++)
		append_line(db, EV_SAY, "#tiny", i, "n", "x");
	histdb_set_topic(db, "#quiet", 6, "nothing said", 12);
	histdb_close(db);

	reload(&l, 7);
	ck_assert_uint_eq(l.n, 4);
	r = find_room(&l, "#big");
	assert_seqs(r, 24, 30);
	ck_assert_uint_eq(r->last_seq, 30);
	r = find_room(&l, "#small");
	assert_seqs(r, 4, 10);
	ck_assert_uint_eq(r->last_seq, 10);
	assert_seqs(find_room(&l, "#tiny"), 1, 3);
	r = find_room(&l, "#quiet");
	ck_assert_uint_eq(r->n, 0);
	ck_assert_str_eq(r->topic, "nothing said");
	loaded_free(&l);

	/* 0 lines: the rooms, their topics and numbering, no events. */
	reload(&l, 0);
	ck_assert_uint_eq(l.n, 4);
	r = find_room(&l, "#big");
	ck_assert_uint_eq(r->n, 0);
	ck_assert_uint_eq(r->last_seq, 30);
	loaded_free(&l);
}
END_TEST

START_TEST(prune_keeps_the_newest)
{
	struct histdb	*db;
	struct loaded	 l;
	struct lroom	*r;
	uint64_t	 i;

	db = open_db(5);
	ck_assert_int_eq(histdb_start(db), 0);
	for (i = 1; i <= 20; i++) {
		append_line(db, EV_SAY, "#a", i, "n", "x");
		append_line(db, EV_SAY, "#b", i, "n", "x");
	}
	histdb_close(db);
	reload(&l, LOAD_ALL);
	assert_seqs(find_room(&l, "#a"), 16, 20);
	assert_seqs(find_room(&l, "#b"), 16, 20);
	loaded_free(&l);

	/* A reload that shrinks --history shrinks the file too. */
	db = open_db(5);
	histdb_set_max_lines(db, 2);
	histdb_close(db);
	reload(&l, LOAD_ALL);
	assert_seqs(find_room(&l, "#a"), 19, 20);
	loaded_free(&l);

	/*
	 * None kept: numbering still goes on after the last line, even
	 * when a topic change follows it in the same batch.
	 */
	db = open_db(0);
	for (i = 1; i <= 3; i++)
		append_line(db, EV_SAY, "#c", i, "n", "x");
	histdb_set_topic(db, "#c", 2, "see", 3);
	histdb_close(db);
	reload(&l, LOAD_ALL);
	r = find_room(&l, "#a");
	ck_assert_uint_eq(r->n, 0);
	ck_assert_uint_eq(r->last_seq, 20);
	r = find_room(&l, "#c");
	ck_assert_uint_eq(r->n, 0);
	ck_assert_uint_eq(r->last_seq, 3);
	ck_assert_str_eq(r->topic, "see");
	loaded_free(&l);
}
END_TEST

START_TEST(full_queue_drops_and_counts)
{
	struct histdb	*db;
	struct loaded	 l;
	uint64_t	 i, written, dropped, failed;

	db = open_db(LOAD_ALL);
	/* The writer is not running: nothing empties the queue. */
	for (i = 1; i <= HISTDB_QUEUE_MAX + 10; i++)
		append_line(db, EV_SAY, "#a", i, "n", "x");
	histdb_set_topic(db, "#a", 2, "late", 4);
	histdb_stats(db, &written, &dropped, &failed);
	ck_assert_uint_eq(dropped, 11);
	ck_assert_uint_eq(written + failed, 0);
	ck_assert_int_eq(histdb_start(db), 0);
	wait_handled(db, HISTDB_QUEUE_MAX);
	/* Emptied, it takes events again. */
	append_line(db, EV_SAY, "#a", HISTDB_QUEUE_MAX + 11, "n", "x");
	histdb_close(db);

	reload(&l, 3);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.room[0].topic, "");
	ck_assert_uint_eq(l.room[0].n, 3);
	ck_assert_uint_eq(l.room[0].ev[0]->seq, HISTDB_QUEUE_MAX - 1);
	ck_assert_uint_eq(l.room[0].ev[1]->seq, HISTDB_QUEUE_MAX);
	ck_assert_uint_eq(l.room[0].ev[2]->seq, HISTDB_QUEUE_MAX + 11);
	loaded_free(&l);
}
END_TEST

/* Long lines meet the byte bound long before the count. */
START_TEST(queue_bytes_are_bounded)
{
	enum { TEXT = 60000 };
	struct histdb	*db;
	struct event	*ev;
	char		*text;
	uint64_t	 i, n, fit, written, dropped, failed;

	ck_assert_ptr_nonnull(text = malloc(TEXT));
	memset(text, 'y', TEXT);
	db = open_db(LOAD_ALL);
	ev = event_new(EV_SAY, 1, 1, "#a", 2, "n", 1, text, TEXT);
	ck_assert_ptr_nonnull(ev);
	fit = HISTDB_QUEUE_BYTES / history_event_cost(ev);
	ck_assert_uint_lt(fit, HISTDB_QUEUE_MAX);
	n = fit + 7;
	for (i = 0; i < n; i++)
		histdb_append(db, ev);
	event_unref(ev);
	histdb_stats(db, &written, &dropped, &failed);
	ck_assert_uint_eq(dropped, n - fit);
	histdb_close(db);
	free(text);
}
END_TEST

/* histdb_open() refuses path; err names it and says why. */
static void
assert_refused(const char *path, const char *why)
{
	struct histdb	*db;
	char		 err[512] = "";

	db = histdb_open(path, 10, err, sizeof(err));
	ck_assert_msg(db == NULL, "%s was accepted", path);
	ck_assert_msg(strstr(err, path) != NULL && strstr(err, why) != NULL,
	    "%s: \"%s\" does not say \"%s\"", path, err, why);
}

static void
write_file(const char *path, const void *data, size_t len, off_t at)
{
	int	 fd;

	ck_assert_int_ne(fd = open(path, O_WRONLY | O_CREAT, 0600), -1);
	ck_assert_int_eq(pwrite(fd, data, len, at), (ssize_t)len);
	close(fd);
}

START_TEST(refuses_what_is_not_a_history)
{
	char		 junk[4096];
	sqlite3		*other;
	size_t		 i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7919 % 251);
	write_file(dbpath, junk, sizeof(junk), 0);
	assert_refused(dbpath, "file is not a database");
	unlink(dbpath);

	write_file(dbpath, "hello\n", 6, 0);
	assert_refused(dbpath, "file is not a database");
	unlink(dbpath);

	/* Another program's database is not ours to change. */
	ck_assert_int_eq(sqlite3_open(dbpath, &other), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(other, "CREATE TABLE t (a)", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(other);
	assert_refused(dbpath, "another program");
}
END_TEST

START_TEST(refuses_a_corrupt_file)
{
	struct histdb	*db;
	char		 junk[2048];
	uint64_t	 i;

	db = open_db(LOAD_ALL);
	for (i = 1; i <= 2000; i++)
		append_line(db, EV_SAY, "#a", i, "someone", "a line of history");
	histdb_close(db);
	/* The header is intact; pages further in are not. */
	memset(junk, 0x5a, sizeof(junk));
	for (i = 0; i < 8; i++)
		write_file(dbpath, junk, sizeof(junk), (off_t)(i * 3 + 2) * 4096);
	assert_refused(dbpath, "corrupt");
}
END_TEST

START_TEST(refuses_an_unwritable_path)
{
	char	 path[600], err[512] = "";
	int	 pfd[2], status;
	ssize_t	 n;
	pid_t	 pid;

	snprintf(path, sizeof(path), "%s/no/such/dir/history.db", tmpdir);
	assert_refused(path, "No such file or directory");
	assert_refused(tmpdir, "Is a directory");
	assert_refused("/proc/chatd-history.db", "cannot open");

	/*
	 * Permission denied: tests run as root, who may write anywhere, so
	 * a child that is nobody tries tmpdir (0700, root's).
	 */
	snprintf(path, sizeof(path), "%s/history.db", tmpdir);
	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		close(pfd[0]);
		if (getuid() == 0) {
			if (setgid(65534) == -1 || setuid(65534) == -1)
				_exit(2);
		} else if (chmod(tmpdir, 0500) == -1)
			_exit(2);
		if (histdb_open(path, 10, err, sizeof(err)) != NULL)
			_exit(1);
		(void)write(pfd[1], err, strlen(err));
		_exit(0);
	}
	close(pfd[1]);
	n = read(pfd[0], err, sizeof(err) - 1);
	close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	chmod(tmpdir, 0700);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the child opened %s or could not drop root (status %#x)", path,
	    status);
	ck_assert_int_gt(n, 0);
	err[n] = '\0';
	ck_assert_msg(strstr(err, path) != NULL &&
	    strstr(err, "Permission denied") != NULL, "\"%s\"", err);
}
END_TEST

/*
 * The file may not grow (as on a full disk): the batch fails and is
 * counted, chatd goes on, and writes work again once there is room.
 */
START_TEST(survives_a_full_disk)
{
	enum { BIG = 32 * 1024, NBIG = 24 };
	struct histdb	*db;
	struct loaded	 l;
	struct lroom	*r;
	struct rlimit	 saved, small;
	uint64_t	 written, dropped, failed, i;
	char		*text;

	ck_assert_ptr_nonnull(text = malloc(BIG + 1));
	memset(text, 'z', BIG);
	text[BIG] = '\0';
	db = open_db(LOAD_ALL);
	ck_assert_int_eq(histdb_start(db), 0);
	append_line(db, EV_SAY, "#a", 1, "n", "before");
	wait_handled(db, 1);

	/* Far less room than the big lines need. */
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
	small = saved;
	small.rlim_cur = NBIG * BIG / 4;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	for (i = 2; i < 2 + NBIG; i++)
		append_line(db, EV_SAY, "#a", i, "n", text);
	wait_handled(db, 1 + NBIG);
	histdb_stats(db, &written, &dropped, &failed);
	ck_assert_uint_gt(failed, 0);
	ck_assert_uint_eq(written + failed, 1 + NBIG);

	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
	for (i = 2 + NBIG; i < 2 + NBIG + 5; i++)
		append_line(db, EV_SAY, "#a", i, "n", "after");
	wait_handled(db, 1 + NBIG + 5);
	histdb_stats(db, &written, &dropped, &failed);
	ck_assert_uint_eq(written + failed, 1 + NBIG + 5);
	histdb_close(db);

	/* What was counted as written is there, and only that. */
	reload(&l, LOAD_ALL);
	r = find_room(&l, "#a");
	ck_assert_uint_eq(r->n, written);
	ck_assert_uint_eq(r->ev[0]->seq, 1);
	ck_assert_uint_eq(r->ev[r->n - 1]->seq, 2 + NBIG + 4);
	ck_assert_str_eq(r->ev[r->n - 1]->text, "after");
	loaded_free(&l);
	free(text);
}
END_TEST

/* Another process holds the write lock past the busy timeout. */
START_TEST(survives_a_locked_file)
{
	struct histdb	*db;
	struct loaded	 l;
	sqlite3		*other;
	uint64_t	 written, dropped, failed;

	db = open_db(LOAD_ALL);
	ck_assert_int_eq(histdb_start(db), 0);
	ck_assert_int_eq(sqlite3_open(dbpath, &other), SQLITE_OK);
	/* The writer's first prune may hold the lock for a moment. */
	sqlite3_busy_timeout(other, 10000);
	ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	append_line(db, EV_SAY, "#a", 1, "n", "blocked");
	wait_handled(db, 1);
	histdb_stats(db, &written, &dropped, &failed);
	ck_assert_uint_eq(failed, 1);
	ck_assert_uint_eq(written, 0);

	ck_assert_int_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(other);
	append_line(db, EV_SAY, "#a", 2, "n", "free");
	wait_handled(db, 2);
	histdb_stats(db, &written, &dropped, &failed);
	ck_assert_uint_eq(written, 1);
	histdb_close(db);

	reload(&l, LOAD_ALL);
	assert_seqs(find_room(&l, "#a"), 2, 2);
	loaded_free(&l);
}
END_TEST

/*
 * Four threads talk in three rooms while the writer runs, each room
 * numbering its lines under its own lock, as chatd's rooms do.
 */
#define THREADS		4
#define PER_THREAD	10000
#define NROOMS		3

struct troom {
	pthread_mutex_t	 mu;
	uint64_t	 seq;
	char		 name[8];
};

struct talk {
	struct histdb	*db;
	struct troom	*rooms;
	int		 id;
};

static void *
talker(void *arg)
{
	struct talk	*t = arg;
	struct troom	*r;
	struct event	*ev;
	char		 nick[16], text[32];
	int		 i;

	snprintf(nick, sizeof(nick), "t%d", t->id);
	for (i = 0; i < PER_THREAD; i++) {
		r = &t->rooms[(t->id + i) % NROOMS];
		snprintf(text, sizeof(text), "%d", i);
		pthread_mutex_lock(&r->mu);
		ev = event_new(EV_SAY, ++r->seq, event_clock_ms(), r->name,
		    strlen(r->name), nick, strlen(nick), text, strlen(text));
		if (ev != NULL) {
			histdb_append(t->db, ev);
			event_unref(ev);
		}
		pthread_mutex_unlock(&r->mu);
		ck_assert_ptr_nonnull(ev);
	}
	return NULL;
}

START_TEST(many_threads_append)
{
	struct troom	 rooms[NROOMS];
	struct talk	 talks[THREADS];
	pthread_t	 tid[THREADS];
	struct histdb	*db;
	struct loaded	 l;
	struct lroom	*r;
	uint64_t	 written, dropped, failed, total = 0;
	int		 last[THREADS], i, t;
	size_t		 j;

	for (i = 0; i < NROOMS; i++) {
		pthread_mutex_init(&rooms[i].mu, NULL);
		rooms[i].seq = 0;
		snprintf(rooms[i].name, sizeof(rooms[i].name), "#r%d", i);
	}
	db = open_db(LOAD_ALL);
	ck_assert_int_eq(histdb_start(db), 0);
	for (t = 0; t < THREADS; t++) {
		talks[t] = (struct talk){ db, rooms, t };
		ck_assert_int_eq(pthread_create(&tid[t], NULL, talker,
		    &talks[t]), 0);
	}
	for (t = 0; t < THREADS; t++)
		ck_assert_int_eq(pthread_join(tid[t], NULL), 0);
	wait_handled(db, THREADS * PER_THREAD);
	histdb_stats(db, &written, &dropped, &failed);
	ck_assert_uint_eq(written, THREADS * PER_THREAD);
	ck_assert_uint_eq(dropped + failed, 0);
	histdb_close(db);

	reload(&l, LOAD_ALL);
	ck_assert_uint_eq(l.n, NROOMS);
	for (i = 0; i < NROOMS; i++) {
		r = find_room(&l, rooms[i].name);
		assert_seqs(r, 1, rooms[i].seq);
		ck_assert_uint_eq(r->last_seq, rooms[i].seq);
		total += r->n;
		/* Each thread's lines, in the room it sent them to, in its
		 * order. */
		for (t = 0; t < THREADS; t++)
			last[t] = -1;
		for (j = 0; j < r->n; j++) {
			t = r->ev[j]->nick[1] - '0';
			ck_assert_int_lt(t, THREADS);
			ck_assert_int_gt(atoi(r->ev[j]->text), last[t]);
			last[t] = atoi(r->ev[j]->text);
			ck_assert_int_eq((t + last[t]) % NROOMS, i);
		}
		pthread_mutex_destroy(&rooms[i].mu);
	}
	ck_assert_uint_eq(total, THREADS * PER_THREAD);
	loaded_free(&l);
}
END_TEST

static Suite *
histdb_suite(void)
{
	const struct {
		const char	*name;
		const TTest	*fn;
	} tests[] = {
		{ "round_trip", round_trip },
		{ "load_stops_when_told", load_stops_when_told },
		{ "batches_keep_everything", batches_keep_everything },
		{ "load_limit_per_room", load_limit_per_room },
		{ "prune_keeps_the_newest", prune_keeps_the_newest },
		{ "full_queue_drops_and_counts", full_queue_drops_and_counts },
		{ "queue_bytes_are_bounded", queue_bytes_are_bounded },
		{ "refuses_what_is_not_a_history",
		    refuses_what_is_not_a_history },
		{ "refuses_a_corrupt_file", refuses_a_corrupt_file },
		{ "refuses_an_unwritable_path", refuses_an_unwritable_path },
		{ "survives_a_full_disk", survives_a_full_disk },
		{ "survives_a_locked_file", survives_a_locked_file },
		{ "many_threads_append", many_threads_append },
	};
	Suite	*s = suite_create("histdb");
	TCase	*tc;
	size_t	 i;

	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		tc = tcase_create(tests[i].name);
		tcase_add_unchecked_fixture(tc, setup, teardown);
		tcase_set_timeout(tc, 120);	/* TSan is slow */
		tcase_add_test(tc, tests[i].fn);
		suite_add_tcase(s, tc);
	}
	return s;
}

int
main(void)
{
	return check_run(histdb_suite());
}
