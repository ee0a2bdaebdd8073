/*
 * histdb.c - the history database: a queue that workers fill, one writer
 * thread that empties it into SQLite, batch by batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#define LOG_COMPONENT	"histdb"
#include "histdb.h"
#include "history.h"
#include "log.h"

/* How long the writer waits for another process's lock on the file. */
#define HISTDB_BUSY_MS		1000
#define HISTDB_QUEUE_FIRST	1024	/* slots of the first allocation */
/* "chat": marks a file as ours, so another program's is never altered. */
#define HISTDB_APPLICATION_ID	0x63686174
#define HISTDB_SCHEMA_VERSION	1

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS rooms ("
	" key TEXT PRIMARY KEY,"		/* the name, ASCII case folded */
	" name TEXT NOT NULL,"
	" topic TEXT NOT NULL DEFAULT '',"
	" topic_nick TEXT NOT NULL DEFAULT '',"
	" topic_time_ms INTEGER NOT NULL DEFAULT 0,"
	/* Kept here too, so numbering goes on after a prune to nothing. */
	" last_seq INTEGER NOT NULL DEFAULT 0"
	") WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS events ("
	" room_key TEXT NOT NULL,"
	" seq INTEGER NOT NULL,"
	" time_ms INTEGER NOT NULL,"
	" kind TEXT NOT NULL,"		/* a name: enum values may move */
	" nick TEXT NOT NULL,"
	" text TEXT NOT NULL,"
	" PRIMARY KEY (room_key, seq)"
	") WITHOUT ROWID;";

enum stmt_id {
	ST_INSERT_EVENT,
	ST_ROOM_SEQ,
	ST_ROOM_TOPIC,
	ST_ROOM_KEYS,
	ST_PRUNE,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_INSERT_EVENT] = "INSERT OR REPLACE INTO events"
	    " (room_key, seq, time_ms, kind, nick, text)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_ROOM_SEQ] = "INSERT INTO rooms (key, name, last_seq)"
	    " VALUES (?1, ?2, ?3) ON CONFLICT (key) DO UPDATE SET"
	    " name = excluded.name,"
	    " last_seq = max(last_seq, excluded.last_seq)",
	[ST_ROOM_TOPIC] = "INSERT INTO rooms"
	    " (key, name, topic, topic_nick, topic_time_ms, last_seq)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (key) DO UPDATE SET"
	    " name = excluded.name, topic = excluded.topic,"
	    " topic_nick = excluded.topic_nick,"
	    " topic_time_ms = excluded.topic_time_ms,"
	    " last_seq = max(last_seq, excluded.last_seq)",
	[ST_ROOM_KEYS] = "SELECT key FROM rooms",
	/* Past the max_lines newest (OFFSET 0: all; too few: none). */
	[ST_PRUNE] = "DELETE FROM events WHERE room_key = ?1 AND seq <="
	    " (SELECT seq FROM events WHERE room_key = ?1"
	    " ORDER BY seq DESC LIMIT 1 OFFSET ?2)",
};

static const char *const kind_names[] = {
	[EV_SAY] = "say", [EV_ME] = "me", [EV_JOIN] = "join",
	[EV_PART] = "part", [EV_QUIT] = "quit", [EV_NICK] = "nick",
	[EV_TOPIC] = "topic", [EV_NOTICE] = "notice"
};
#define NKINDS	(sizeof(kind_names) / sizeof(kind_names[0]))

struct histdb {
	sqlite3			 *sql;
	char			 *path;
	sqlite3_stmt		 *stmt[ST_COUNT];

	pthread_mutex_t		  mu;
	pthread_cond_t		  wake;
	struct event		**queue;	/* under mu */
	size_t			  queued;	/* under mu */
	size_t			  queued_bytes;	/* under mu */
	size_t			  queue_cap;	/* under mu */
	bool			  stopping;	/* under mu */

	pthread_t		  writer;
	bool			  started;	/* the caller's thread only */

	_Atomic size_t		  max_lines;
	_Atomic uint64_t	  written;
	_Atomic uint64_t	  dropped;
	_Atomic uint64_t	  failed;

	/* The writer's own (the caller's before start and after join). */
	struct event		**batch;
	size_t			  batch_cap;
	uint64_t		  logged_kinds;	/* a bit per SQLite result code */
	bool			  logged_drops;
	uint64_t		  pruned_ms;
	char			  key[UINT16_MAX + 1];
};

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A text column, "" for NULL, with its length in bytes. */
static const char *
column_text(sqlite3_stmt *st, int col, size_t *len)
{
	const char	*s = (const char *)sqlite3_column_text(st, col);

	*len = s != NULL ? (size_t)sqlite3_column_bytes(st, col) : 0;
	return s != NULL ? s : "";
}

static uint64_t
monotonic_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Log a failure once per kind: a full disk fails every batch. */
static void
report(struct histdb *db, int rc, const char *what)
{
	int	 kind = rc & 0xff;

	if (kind < 64 && (db->logged_kinds & (1ULL << kind)))
		return;
	if (kind < 64)
		db->logged_kinds |= 1ULL << kind;
	log_warn("%s: %s: %s; history goes on in memory (further errors of "
	    "this kind are not logged)", db->path, what, sqlite3_errmsg(db->sql));
}

static int
exec(struct histdb *db, const char *sql)
{
	return sqlite3_exec(db->sql, sql, NULL, NULL, NULL);
}

/* Run a pragma that answers one row and return its first column. */
static int
pragma(struct histdb *db, const char *sql, char *out, size_t outlen)
{
	sqlite3_stmt	*st;
	size_t		 len;
	int		 rc;

	if ((rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL)) != SQLITE_OK)
		return rc;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(out, outlen, "%s", column_text(st, 0, &len));
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(st);
	return rc;
}

/*
 * Check that the file is a database, ours or empty, then set it up.
 * Returns 0, or -1 with err set.
 */
static int
prepare_file(struct histdb *db, char *err, size_t errlen)
{
	char	 answer[256] = "", sql[128];
	int	 rc, i, syserr;

	/* The first statement opens the file: SQLite opens lazily. */
	if ((rc = pragma(db, "PRAGMA application_id", answer,
	    sizeof(answer))) != SQLITE_OK)
		goto sql_error;
	if (atoi(answer) != HISTDB_APPLICATION_ID) {
		if ((rc = pragma(db, "SELECT count(*) FROM sqlite_master",
		    answer, sizeof(answer))) != SQLITE_OK)
			goto sql_error;
		if (atoi(answer) != 0) {
			set_err(err, errlen, "%s: a database of another "
			    "program, not chatd's history", db->path);
			return -1;
		}
	}
	if ((rc = pragma(db, "PRAGMA journal_mode=WAL", answer,
	    sizeof(answer))) != SQLITE_OK)
		goto sql_error;
	if (strcmp(answer, "wal") != 0) {
		set_err(err, errlen, "%s: cannot use WAL mode (journal mode "
		    "is \"%s\")", db->path, answer);
		return -1;
	}
	if ((rc = exec(db, "PRAGMA synchronous=NORMAL")) != SQLITE_OK)
		goto sql_error;
	if ((rc = pragma(db, "PRAGMA quick_check", answer,
	    sizeof(answer))) != SQLITE_OK)
		goto sql_error;
	if (strcmp(answer, "ok") != 0) {
		/* Its report is lines: one line of log. */
		for (i = 0; answer[i] != '\0'; i++)
			if (answer[i] == '\n')
				answer[i] = ' ';
		set_err(err, errlen, "%s: the database is corrupt: %s",
		    db->path, answer);
		return -1;
	}
	snprintf(sql, sizeof(sql), "PRAGMA application_id=%d;"
	    "PRAGMA user_version=%d", HISTDB_APPLICATION_ID,
	    HISTDB_SCHEMA_VERSION);
	if ((rc = exec(db, schema_sql)) != SQLITE_OK ||
	    (rc = exec(db, sql)) != SQLITE_OK)
		goto sql_error;
	for (i = 0; i < ST_COUNT; i++) {
		if ((rc = sqlite3_prepare_v3(db->sql, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &db->stmt[i], NULL)) !=
		    SQLITE_OK)
			goto sql_error;
	}
	return 0;

sql_error:
	syserr = sqlite3_system_errno(db->sql);
	set_err(err, errlen, "%s: %s%s%s", db->path, sqlite3_errmsg(db->sql),
	    syserr != 0 ? ": " : "", syserr != 0 ? strerror(syserr) : "");
	return -1;
}

static void
free_db(struct histdb *db)
{
	size_t	 i;

	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(db->stmt[i]);
	sqlite3_close(db->sql);
	pthread_cond_destroy(&db->wake);
	pthread_mutex_destroy(&db->mu);
	free(db->queue);
	free(db->batch);
	free(db->path);
	free(db);
}

struct histdb *
histdb_open(const char *path, size_t max_lines, char *err, size_t errlen)
{
	struct histdb		*db;
	pthread_condattr_t	 attr;
	int			 rc, syserr, fd;

	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->path = strdup(path)) == NULL) {
		free(db);
		set_err(err, errlen, "%s: %s", path, strerror(ENOMEM));
		return NULL;
	}
	pthread_mutex_init(&db->mu, NULL);
	/* The writer's deadlines must not jump with the wall clock. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&db->wake, &attr);
	pthread_condattr_destroy(&attr);
	atomic_init(&db->max_lines, max_lines);

	/*
	 * Open it ourselves first, for the reason a failure has: SQLite
	 * retries read-only and reports that errno.  Chat history is
	 * private, so 0600; SQLite gives its -wal and -shm files the same.
	 */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		set_err(err, errlen, "cannot open %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	close(fd);
	/* One thread at a time uses the connection: no SQLite mutex. */
	rc = sqlite3_open_v2(path, &db->sql, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		syserr = db->sql != NULL ? sqlite3_system_errno(db->sql) : 0;
		set_err(err, errlen, "cannot open %s: %s", path, syserr != 0 ?
		    strerror(syserr) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(db->sql, 1);
	sqlite3_busy_timeout(db->sql, HISTDB_BUSY_MS);
	if (prepare_file(db, err, errlen) == -1)
		goto fail;
	/* Past RLIMIT_FSIZE a write must fail, not kill chatd. */
	signal(SIGXFSZ, SIG_IGN);
	return db;

fail:
	free_db(db);
	return NULL;
}

void
histdb_set_max_lines(struct histdb *db, size_t max_lines)
{
	atomic_store(&db->max_lines, max_lines);
}

void
histdb_stats(struct histdb *db, uint64_t *written, uint64_t *dropped,
    uint64_t *failed)
{
	*written = atomic_load(&db->written);
	*dropped = atomic_load(&db->dropped);
	*failed = atomic_load(&db->failed);
}

/* -1 for a name this chatd does not know. */
static int
kind_from_name(const char *name)
{
	size_t	 i;

	for (i = 0; i < NKINDS; i++)
		if (strcmp(name, kind_names[i]) == 0)
			return (int)i;
	return -1;
}

/*
 * Read the newest max_lines events of room key into room->events, oldest
 * first.  SQLITE_DONE, or an error code (ENOMEM is SQLITE_NOMEM).
 */
static int
load_events(struct histdb *db, sqlite3_stmt *st, const char *key,
    size_t max_lines, struct histdb_room *room)
{
	struct event	*ev;
	const char	*nick, *text;
	size_t		 nick_len, text_len, kind_len, i;
	uint64_t	 seq;
	int		 rc, kind;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max_lines);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* A later chatd's kind: not ours to show. */
		if ((kind = kind_from_name(column_text(st, 2,
		    &kind_len))) == -1)
			continue;
		seq = (uint64_t)sqlite3_column_int64(st, 0);
		nick = column_text(st, 3, &nick_len);
		text = column_text(st, 4, &text_len);
		ev = event_new((enum event_kind)kind, seq,
		    (uint64_t)sqlite3_column_int64(st, 1), room->name,
		    room->name_len, nick, nick_len, text, text_len);
		if (ev == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		room->events[room->n++] = ev;
		if (seq > room->last_seq)
			room->last_seq = seq;
	}
	/* Newest first from the query; oldest first for the caller. */
	for (i = 0; i < room->n / 2; i++) {
		ev = room->events[i];
		room->events[i] = room->events[room->n - 1 - i];
		room->events[room->n - 1 - i] = ev;
	}
	sqlite3_reset(st);
	return rc;
}

int
histdb_load(struct histdb *db, size_t max_lines, histdb_room_fn fn,
    void *ctx)
{
	struct histdb_room	 room;
	struct event		**events = NULL;
	sqlite3_stmt		*rooms = NULL, *lines = NULL;
	int			 rc, ret = -1;
	size_t			 i;

	if (max_lines > 0 && (events = calloc(max_lines,
	    sizeof(*events))) == NULL) {
		log_error("%s: loading history: %s", db->path,
		    strerror(ENOMEM));
		return -1;
	}
	if ((rc = sqlite3_prepare_v2(db->sql, "SELECT key, name, topic,"
	    " topic_nick, topic_time_ms, last_seq FROM rooms", -1, &rooms,
	    NULL)) != SQLITE_OK || (rc = sqlite3_prepare_v2(db->sql,
	    "SELECT seq, time_ms, kind, nick, text FROM events"
	    " WHERE room_key = ?1 ORDER BY seq DESC LIMIT ?2", -1, &lines,
	    NULL)) != SQLITE_OK)
		goto sql_error;
	while ((rc = sqlite3_step(rooms)) == SQLITE_ROW) {
		memset(&room, 0, sizeof(room));
		room.name = column_text(rooms, 1, &room.name_len);
		room.topic = column_text(rooms, 2, &room.topic_len);
		room.topic_nick = column_text(rooms, 3, &room.topic_nick_len);
		room.topic_time_ms = (uint64_t)sqlite3_column_int64(rooms, 4);
		room.last_seq = (uint64_t)sqlite3_column_int64(rooms, 5);
		room.events = events;
		rc = SQLITE_DONE;
		if (max_lines > 0)
			rc = load_events(db, lines, (const char *)
			    sqlite3_column_text(rooms, 0), max_lines, &room);
		if (rc == SQLITE_DONE && fn(ctx, &room) != 0)
			rc = SQLITE_ABORT;
		for (i = 0; i < room.n; i++)
			event_unref(events[i]);
		if (rc == SQLITE_ABORT)
			goto out;
		if (rc != SQLITE_DONE)
			goto sql_error;
	}
	if (rc != SQLITE_DONE)
		goto sql_error;
	ret = 0;
	goto out;

sql_error:
	log_error("%s: loading history: %s", db->path, rc == SQLITE_NOMEM ?
	    strerror(ENOMEM) : sqlite3_errmsg(db->sql));
out:
	sqlite3_finalize(lines);
	sqlite3_finalize(rooms);
	free(events);
	return ret;
}

/* Called under mu.  0, or -1 if the queue is at its bound or ENOMEM. */
static int
grow_queue(struct histdb *db)
{
	struct event	**queue;
	size_t		  cap;

	if (db->queue_cap >= HISTDB_QUEUE_MAX)
		return -1;
	cap = db->queue_cap == 0 ? HISTDB_QUEUE_FIRST : db->queue_cap * 2;
	if (cap > HISTDB_QUEUE_MAX)
		cap = HISTDB_QUEUE_MAX;
	if ((queue = realloc(db->queue, cap * sizeof(*queue))) == NULL)
		return -1;
	db->queue = queue;
	db->queue_cap = cap;
	return 0;
}

void
histdb_append(struct histdb *db, struct event *ev)
{
	size_t	 cost = history_event_cost(ev);

	pthread_mutex_lock(&db->mu);
	if (db->queued_bytes + cost > HISTDB_QUEUE_BYTES ||
	    (db->queued == db->queue_cap && grow_queue(db) == -1)) {
		pthread_mutex_unlock(&db->mu);
		atomic_fetch_add(&db->dropped, 1);
		return;
	}
	db->queue[db->queued++] = event_ref(ev);
	db->queued_bytes += cost;
	/* Once per batch, not per event: a signal costs a syscall. */
	if (db->queued == HISTDB_BATCH)
		pthread_cond_signal(&db->wake);
	pthread_mutex_unlock(&db->mu);
}

void
histdb_set_topic(struct histdb *db, const char *room, size_t room_len,
    const char *topic, size_t topic_len)
{
	struct event	*ev;

	ev = event_new(EV_TOPIC, 0, event_clock_ms(), room, room_len, "", 0,
	    topic, topic_len);
	if (ev == NULL) {
		atomic_fetch_add(&db->dropped, 1);
		return;
	}
	histdb_append(db, ev);
	event_unref(ev);
}

/* The room's key: its name with ASCII folded, as nicks compare. */
static const char *
fold(struct histdb *db, const struct event *ev)
{
	size_t	 i;
	char	 c;

	for (i = 0; i < ev->room_len; i++) {
		c = ev->room[i];
		db->key[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	db->key[i] = '\0';
	return db->key;
}

static bool
same_room(const struct event *a, const struct event *b)
{
	return a->room_len == b->room_len &&
	    memcmp(a->room, b->room, a->room_len) == 0;
}

/* Run a bound statement that returns no row, then reset it. */
static int
step_once(sqlite3_stmt *st)
{
	int	 rc;

	if ((rc = sqlite3_step(st)) == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_reset(st);
	return rc;
}

static int
write_topic(struct histdb *db, const struct event *ev, const char *key)
{
	sqlite3_stmt	*st = db->stmt[ST_ROOM_TOPIC];

	sqlite3_bind_text(st, 1, key, ev->room_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ev->room, ev->room_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ev->text, (int)ev->text_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ev->nick, ev->nick_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)ev->time_ms);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)ev->seq);
	return step_once(st);
}

static int
write_line(struct histdb *db, const struct event *ev, const char *key,
    bool last_of_run)
{
	sqlite3_stmt	*st = db->stmt[ST_INSERT_EVENT];
	int		 rc;

	sqlite3_bind_text(st, 1, key, ev->room_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)ev->seq);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)ev->time_ms);
	sqlite3_bind_text(st, 4, (size_t)ev->kind < NKINDS ?
	    kind_names[ev->kind] : "unknown", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ev->nick, ev->nick_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, ev->text, (int)ev->text_len, SQLITE_STATIC);
	if ((rc = step_once(st)) != SQLITE_OK || !last_of_run)
		return rc;
	/* The room's row once per run of its lines, not once per line. */
	st = db->stmt[ST_ROOM_SEQ];
	sqlite3_bind_text(st, 1, key, ev->room_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ev->room, ev->room_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)ev->seq);
	return step_once(st);
}

/* Write batch[0..n) in one transaction and drop the references. */
static void
write_batch(struct histdb *db, size_t n)
{
	struct event	*ev;
	const char	*key;
	size_t		 i;
	int		 rc;

	if (n == 0)
		return;
	if ((rc = exec(db, "BEGIN IMMEDIATE")) != SQLITE_OK)
		goto fail;
	for (i = 0; i < n; i++) {
		ev = db->batch[i];
		key = fold(db, ev);
		if (ev->kind == EV_TOPIC)
			rc = write_topic(db, ev, key);
		else
			rc = write_line(db, ev, key, i + 1 == n ||
			    db->batch[i + 1]->kind == EV_TOPIC ||
			    !same_room(ev, db->batch[i + 1]));
		if (rc != SQLITE_OK)
			goto fail;
	}
	if ((rc = exec(db, "COMMIT")) != SQLITE_OK)
		goto fail;
	atomic_fetch_add(&db->written, n);
	goto out;

fail:
	report(db, rc, "writing history");
	if (!sqlite3_get_autocommit(db->sql))
		exec(db, "ROLLBACK");
	atomic_fetch_add(&db->failed, n);
out:
	for (i = 0; i < n; i++)
		event_unref(db->batch[i]);
}

/* Delete all but each room's newest max_lines events. */
static void
prune(struct histdb *db)
{
	sqlite3_stmt	*keys = db->stmt[ST_ROOM_KEYS], *del = db->stmt[ST_PRUNE];
	size_t		 max_lines = atomic_load(&db->max_lines);
	int		 rc;

	db->pruned_ms = monotonic_ms();
	if ((rc = exec(db, "BEGIN IMMEDIATE")) != SQLITE_OK)
		goto fail;
	while ((rc = sqlite3_step(keys)) == SQLITE_ROW) {
		sqlite3_bind_value(del, 1, sqlite3_column_value(keys, 0));
		sqlite3_bind_int64(del, 2, (sqlite3_int64)max_lines);
		if ((rc = step_once(del)) != SQLITE_OK)
			break;
	}
	sqlite3_reset(keys);
	if (rc != SQLITE_DONE || (rc = exec(db, "COMMIT")) != SQLITE_OK)
		goto fail;
	return;

fail:
	report(db, rc, "pruning history");
	if (!sqlite3_get_autocommit(db->sql))
		exec(db, "ROLLBACK");
}

/* Under mu: make what is queued the writer's batch.  How many. */
static size_t
take_queue(struct histdb *db)
{
	struct event	**batch = db->batch;
	size_t		  n = db->queued, cap = db->batch_cap;

	/* Swap the arrays: each keeps its size, so neither reallocates. */
	db->batch = db->queue;
	db->batch_cap = db->queue_cap;
	db->queue = batch;
	db->queue_cap = cap;
	db->queued = 0;
	db->queued_bytes = 0;
	return n;
}

static void
note_drops(struct histdb *db)
{
	uint64_t	 dropped = atomic_load(&db->dropped);

	if (dropped == 0 || db->logged_drops)
		return;
	db->logged_drops = true;
	log_warn("%s: %ju events not stored: the queue was full (%d events "
	    "or %d MiB) or memory short; chatd still has them in memory (the "
	    "total is logged at exit)", db->path, (uintmax_t)dropped,
	    HISTDB_QUEUE_MAX, HISTDB_QUEUE_BYTES >> 20);
}

static void *
writer_main(void *arg)
{
	struct histdb	*db = arg;
	struct timespec	 deadline;
	size_t		 n;
	bool		 stop;

	prune(db);
	pthread_mutex_lock(&db->mu);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_nsec += HISTDB_BATCH_MS * 1000000L;
		deadline.tv_sec += deadline.tv_nsec / 1000000000L;
		deadline.tv_nsec %= 1000000000L;
		while (!db->stopping && db->queued < HISTDB_BATCH &&
		    pthread_cond_timedwait(&db->wake, &db->mu,
		    &deadline) != ETIMEDOUT)
			continue;
		stop = db->stopping;
		n = take_queue(db);
		pthread_mutex_unlock(&db->mu);

		write_batch(db, n);
		note_drops(db);
		if (!stop && monotonic_ms() - db->pruned_ms >= HISTDB_PRUNE_MS)
			prune(db);

		pthread_mutex_lock(&db->mu);
		if (stop && db->queued == 0)
			break;
	}
	pthread_mutex_unlock(&db->mu);
	return NULL;
}

int
histdb_start(struct histdb *db)
{
	int	 error;

	if ((error = pthread_create(&db->writer, NULL, writer_main,
	    db)) != 0) {
		errno = error;
		return -1;
	}
	db->started = true;
	return 0;
}

void
histdb_close(struct histdb *db)
{
	uint64_t	 written, dropped, failed;

	if (db == NULL)
		return;
	if (db->started) {
		pthread_mutex_lock(&db->mu);
		db->stopping = true;
		pthread_cond_signal(&db->wake);
		pthread_mutex_unlock(&db->mu);
		pthread_join(db->writer, NULL);
	} else {
		/* Never started: this thread is the writer. */
		write_batch(db, take_queue(db));
	}
	prune(db);
	histdb_stats(db, &written, &dropped, &failed);
	if (dropped > 0 || failed > 0)
		log_warn("%s: %ju events stored, %ju not queued, %ju lost in "
		    "failed writes", db->path, (uintmax_t)written,
		    (uintmax_t)dropped, (uintmax_t)failed);
	free_db(db);
}
