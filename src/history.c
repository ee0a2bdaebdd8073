/*
 * history.c - a bounded ring of event references.
 */
#include <stdlib.h>
#include <string.h>

#include "history.h"

/* The first allocation: enough for a quiet room without reallocating. */
#define HISTORY_MIN_SLOTS	16

void
history_init(struct history *h, size_t max_lines, size_t max_bytes)
{
	memset(h, 0, sizeof(*h));
	h->max_lines = max_lines;
	h->max_bytes = max_bytes;
}

void
history_free(struct history *h)
{
	size_t	 i;

	for (i = 0; i < h->count; i++)
		event_unref(h->ring[(h->head + i) % h->cap]);
	free(h->ring);
	memset(h, 0, sizeof(*h));
}

size_t
history_event_cost(const struct event *ev)
{
	return (size_t)ev->nick_len + ev->text_len + HISTORY_EVENT_OVERHEAD;
}

static void
evict_oldest(struct history *h)
{
	struct event	*ev = h->ring[h->head];

	h->ring[h->head] = NULL;
	h->head = (h->head + 1) % h->cap;
	h->count--;
	h->bytes -= history_event_cost(ev);
	event_unref(ev);
}

static void
evict_until(struct history *h, size_t max_lines, size_t max_bytes)
{
	while (h->count > 0 && (h->count > max_lines || h->bytes > max_bytes))
		evict_oldest(h);
}

/* Move the events to a ring of cap (>= count) slots, the oldest first. */
static int
resize(struct history *h, size_t cap)
{
	struct event	**ring = NULL;
	size_t		  i;

	if (cap > 0 && (ring = calloc(cap, sizeof(*ring))) == NULL)
		return -1;
	for (i = 0; i < h->count; i++)
		ring[i] = h->ring[(h->head + i) % h->cap];
	free(h->ring);
	h->ring = ring;
	h->cap = cap;
	h->head = 0;
	return 0;
}

int
history_push(struct history *h, struct event *ev)
{
	size_t	 cost = history_event_cost(ev), cap;

	if (h->max_lines == 0 || cost > h->max_bytes)
		return 0;
	/* Grow before evicting, so that a failure leaves h as it was. */
	if (h->count == h->cap && h->cap < h->max_lines) {
		cap = h->cap < HISTORY_MIN_SLOTS / 2 ? HISTORY_MIN_SLOTS :
		    h->cap * 2;
		if (cap > h->max_lines)
			cap = h->max_lines;
		if (resize(h, cap) == -1)
			return -1;
	}
	evict_until(h, h->max_lines - 1, h->max_bytes - cost);
	h->ring[(h->head + h->count) % h->cap] = event_ref(ev);
	h->count++;
	h->bytes += cost;
	return 0;
}

size_t
history_last(const struct history *h, size_t n, struct event **out)
{
	size_t	 first, i;

	if (n > h->count)
		n = h->count;
	first = h->head + h->count - n;
	for (i = 0; i < n; i++)
		out[i] = event_ref(h->ring[(first + i) % h->cap]);
	return n;
}

size_t
history_count(const struct history *h)
{
	return h->count;
}

size_t
history_bytes(const struct history *h)
{
	return h->bytes;
}

void
history_set_limits(struct history *h, size_t max_lines, size_t max_bytes)
{
	h->max_lines = max_lines;
	h->max_bytes = max_bytes;
	evict_until(h, max_lines, max_bytes);
	/* Give back the slots beyond the new bound; keep them on ENOMEM. */
	if (h->cap > max_lines)
		(void)resize(h, max_lines);
}
