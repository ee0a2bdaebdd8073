/*
 * workq.h - the bounded work queue between the acceptor and the workers.
 *
 * One mutex and two condition variables (not_empty, not_full).  FIFO.
 * Items are opaque pointers and never NULL.  workq_close() wakes every
 * waiter: blocked pushers fail at once, and poppers drain what is left,
 * then get NULL.
 *
 * chatd sizes the queue to hold one entry per connection (a connection is
 * queued at most once, see conn.h), so the acceptor never blocks on it.
 */
#ifndef CHATD_WORKQ_H
#define CHATD_WORKQ_H

#include <stdbool.h>
#include <stddef.h>

struct workq;

struct workq	*workq_new(size_t capacity);
void		 workq_free(struct workq *q);	/* after every thread is done */

/* Block while full.  Returns 0, or -1 if the queue is closed. */
int		 workq_push(struct workq *q, void *item);
/* Never blocks.  Returns 0, or -1 if full or closed. */
int		 workq_trypush(struct workq *q, void *item);
/*
 * Push n items under one lock acquisition, blocking while full.  Returns
 * the number pushed: n, or fewer if the queue was closed.
 */
size_t		 workq_push_many(struct workq *q, void *const *items, size_t n);

/* Block while empty.  Returns an item, or NULL once closed and drained. */
void		*workq_pop(struct workq *q);

void		 workq_close(struct workq *q);
size_t		 workq_depth(struct workq *q);

#endif /* CHATD_WORKQ_H */
