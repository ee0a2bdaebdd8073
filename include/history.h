/*
 * history.h - a room's recent lines, in memory: a ring of references to
 * events, oldest first.
 *
 * Bounded twice: at most max_lines events and at most max_bytes of
 * history_event_cost(), so a room of long lines costs no more than a
 * room of short ones.  A push evicts the oldest events until both bounds
 * hold; an evicted event is unreferenced, so it is freed when no send
 * queue or database writer holds it any more.  An event that alone costs
 * more than max_bytes is not kept, and what was kept stays.
 *
 * The ring stores whatever it is given: the caller keeps only chat lines
 * and /me (protocol v2).  It grows on demand, so a room with no history
 * costs nothing but the struct.  It has no lock: the room's lock guards
 * it.  The struct is embedded in the room; its fields are private.
 */
#ifndef CHATD_HISTORY_H
#define CHATD_HISTORY_H

#include <stddef.h>

#include "event.h"

/* What an event costs against max_bytes besides its nick and text. */
#define HISTORY_EVENT_OVERHEAD	64

struct history {
	/* Private to history.c. */
	struct event	**ring;
	size_t		  cap;		/* slots allocated, at most max_lines */
	size_t		  head;		/* the oldest event's slot */
	size_t		  count;
	size_t		  bytes;	/* sum of history_event_cost() */
	size_t		  max_lines;
	size_t		  max_bytes;
};

/* An empty history; allocates nothing.  0 for either bound keeps none. */
void		 history_init(struct history *h, size_t max_lines,
		    size_t max_bytes);
/* Drop every reference and the ring; h may be initialised again. */
void		 history_free(struct history *h);

/*
 * Append ev, taking a reference of its own, and evict the oldest as the
 * bounds require.  0, or -1 on ENOMEM (then h is unchanged).
 */
int		 history_push(struct history *h, struct event *ev);

/*
 * Store the newest min(n, count) events in out[], oldest first, each
 * with a reference the caller drops with event_unref().  Returns how
 * many.
 */
size_t		 history_last(const struct history *h, size_t n,
		    struct event **out);

size_t		 history_count(const struct history *h);
size_t		 history_bytes(const struct history *h);

/* New bounds (a reload): smaller ones evict the oldest at once. */
void		 history_set_limits(struct history *h, size_t max_lines,
		    size_t max_bytes);

/* What ev counts against max_bytes. */
size_t		 history_event_cost(const struct event *ev);

#endif /* CHATD_HISTORY_H */
