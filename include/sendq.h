/*
 * sendq.h - one client's outbound queue of message references.
 *
 * A ring of msg pointers plus the offset already written from the head
 * message.  Not locked: the owner (conn.c) guards it with the
 * connection's mutex, and only ever holds that mutex for these cheap
 * calls, never across the writev(2) itself.
 *
 * The ring starts empty and unallocated, so an idle client costs no
 * memory here.
 */
#ifndef CHATD_SENDQ_H
#define CHATD_SENDQ_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#include "msg.h"

struct sendq {
	struct msg	**ring;
	size_t		  cap;		/* a power of two, or 0 */
	size_t		  head;
	size_t		  count;
	size_t		  head_off;	/* bytes of ring[head] already sent */
	size_t		  bytes;	/* unsent bytes in the queue */
};

void	sendq_init(struct sendq *q);
/* Drop every queued reference and the ring. */
void	sendq_clear(struct sendq *q);

/*
 * Append m, taking over one reference the caller holds.  Returns 0, or
 * -1 on ENOMEM (the caller still holds the reference then).
 */
int	sendq_push(struct sendq *q, struct msg *m);

/*
 * Fill iov (at most max entries) with the unsent bytes, oldest first.
 * Returns the number of entries.  The pointers stay valid while the
 * references are queued, which outlives the unlocked writev(2): only
 * sendq_consume() drops them, and only the flushing thread calls it.
 */
size_t	sendq_fill_iov(const struct sendq *q, struct iovec *iov, size_t max);

/* Forget the first n unsent bytes, releasing fully written messages. */
void	sendq_consume(struct sendq *q, size_t n);

static inline bool
sendq_empty(const struct sendq *q)
{
	return q->count == 0;
}

#endif /* CHATD_SENDQ_H */
