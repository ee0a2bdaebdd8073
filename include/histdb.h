/*
 * histdb.h - history and topics that survive a restart (--history-db),
 * in an SQLite database in WAL mode.
 *
 * One background thread does every write.  A worker only queues a
 * reference under a short mutex: it never does I/O, never waits for the
 * writer and never fails.  The queue holds at most HISTDB_QUEUE_MAX
 * events and HISTDB_QUEUE_BYTES of their history_event_cost(), so a
 * stuck disk costs bounded memory; past that an event is not stored (the
 * in-memory ring still has it) and is counted as dropped.  histdb's lock
 * is always taken last and its writer takes no other, so a room may
 * append under its own lock.
 *
 * The writer wakes every HISTDB_BATCH_MS, or sooner once HISTDB_BATCH
 * events wait, and writes all that is queued in one transaction, with
 * synchronous=NORMAL: a committed batch survives a crash of chatd (not
 * of the machine), so kill -9 loses at most the events of the last
 * HISTDB_BATCH_MS and the transaction in flight.  Every HISTDB_PRUNE_MS,
 * at start and at close it deletes all but each room's newest max_lines
 * events.
 *
 * A write that fails (disk full, I/O error, locked) never stops chatd:
 * the writer logs the first failure of each kind with SQLite's message,
 * drops that batch (counted as failed) and goes on with the next; chatd
 * serves history from memory meanwhile.
 *
 * What chatd calls, in this order:
 *	1. histdb_open(path, max_lines, ...) at startup, after detaching
 *	   (a connection must not cross fork()) and after dropping
 *	   privileges (the database, its -wal and -shm files belong to the
 *	   user that writes them), before the workers; NULL means refuse
 *	   to start, err says why.  It sets SIGXFSZ to be ignored, so a
 *	   file size limit is a write error, not the end of chatd.
 *	2. histdb_load(db, max_lines, fn, ctx) once, still alone: fn
 *	   creates each stored room with its topic, fills its ring, and
 *	   numbers its next event last_seq + 1.  -1 means the file could
 *	   not be read (logged): refuse to start.
 *	3. histdb_start(db), then start the workers.
 *	4. From any thread: histdb_append(db, ev) for each event the ring
 *	   keeps (EV_SAY, EV_ME), under the room's lock or after it (lines
 *	   are stored by room and seq, whatever the order they come in),
 *	   and histdb_set_topic() for each topic change (or
 *	   histdb_append() of the EV_TOPIC event, which also stores the
 *	   setter and time).  On SIGHUP, histdb_set_max_lines() for a new
 *	   --history.
 *	5. After the workers have stopped: histdb_close(db), which writes
 *	   what is queued, prunes and closes.
 * histdb_stats() may be called at any time between 1 and 5.
 */
#ifndef CHATD_HISTDB_H
#define CHATD_HISTDB_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define HISTDB_BATCH_MS		100
#define HISTDB_BATCH		1024	/* events that wake the writer early */
#define HISTDB_QUEUE_MAX	65536
#define HISTDB_QUEUE_BYTES	(32 << 20)
#define HISTDB_PRUNE_MS		10000

struct histdb;

/*
 * Open or create the database at path, in WAL mode, keeping max_lines
 * events per room, and check it (PRAGMA quick_check).  NULL if it cannot
 * be opened or created, is not a database, or is corrupt; err then holds
 * a message that names path.
 */
struct histdb	*histdb_open(const char *path, size_t max_lines, char *err,
		    size_t errlen);

/* What histdb_load() found of one room. */
struct histdb_room {
	const char	 *name;		/* as last stored; NUL-terminated */
	size_t		  name_len;
	const char	 *topic;	/* "" if none; NUL-terminated */
	size_t		  topic_len;
	const char	 *topic_nick;	/* who set it, "" if unknown */
	size_t		  topic_nick_len;
	uint64_t	  topic_time_ms;	/* 0 if unknown */
	struct event	**events;	/* the newest n, oldest first */
	size_t		  n;
	uint64_t	  last_seq;	/* the highest sequence number stored */
};

/*
 * 0 to go on; anything else stops histdb_load(), which returns -1.  fn
 * takes the references it wants (event_ref()); histdb drops its own when
 * fn returns, and every pointer in room dies then.
 */
typedef int	(*histdb_room_fn)(void *ctx, const struct histdb_room *room);

/*
 * Call fn for each stored room with at most its newest max_lines
 * events.  Before histdb_start().  0, or -1 if a read failed (logged) or
 * fn stopped it.
 */
int		 histdb_load(struct histdb *db, size_t max_lines,
		    histdb_room_fn fn, void *ctx);

/* Start the writer.  0, or -1 with errno. */
int		 histdb_start(struct histdb *db);

/*
 * Queue ev to be stored; histdb takes its own reference.  The room is
 * ev->room, compared ASCII-case-insensitively and stored as spelt by
 * the latest event.  An EV_TOPIC event sets the room's topic (empty text clears
 * it) with its nick and time; any other kind is stored as a line.  Never
 * blocks.
 */
void		 histdb_append(struct histdb *db, struct event *ev);

/* Queue a topic change; an empty topic clears it.  Never blocks. */
void		 histdb_set_topic(struct histdb *db, const char *room,
		    size_t room_len, const char *topic, size_t topic_len);

/* How many events per room the next prune keeps (a reload). */
void		 histdb_set_max_lines(struct histdb *db, size_t max_lines);

/*
 * Write what is queued, stop the writer, prune and close.  Every append
 * must be done.  NULL does nothing.
 */
void		 histdb_close(struct histdb *db);

/*
 * Events (and topic changes) so far: stored, not queued because the
 * queue was full or out of memory, and lost in a failed write.
 */
void		 histdb_stats(struct histdb *db, uint64_t *written,
		    uint64_t *dropped, uint64_t *failed);

#endif /* CHATD_HISTDB_H */
