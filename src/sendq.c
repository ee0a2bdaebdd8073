/*
 * sendq.c - a growable ring of message references.
 */
#include <assert.h>
#include <stdlib.h>

#include "fault.h"
#include "sendq.h"

#define SENDQ_MIN_CAP	8

void
sendq_init(struct sendq *q)
{
	q->ring = NULL;
	q->cap = q->head = q->count = q->head_off = q->bytes = 0;
}

void
sendq_clear(struct sendq *q)
{
	size_t	 i;

	for (i = 0; i < q->count; i++)
		msg_unref(q->ring[(q->head + i) & (q->cap - 1)]);
	free(q->ring);
	sendq_init(q);
}

static int
sendq_grow(struct sendq *q)
{
	struct msg	**ring;
	size_t		  cap = q->cap ? q->cap * 2 : SENDQ_MIN_CAP;
	size_t		  i;

	if (fault_fail(FAULT_SENDQ) ||
	    (ring = malloc(cap * sizeof(*ring))) == NULL)
		return -1;
	for (i = 0; i < q->count; i++)
		ring[i] = q->ring[(q->head + i) & (q->cap - 1)];
	free(q->ring);
	q->ring = ring;
	q->cap = cap;
	q->head = 0;
	return 0;
}

int
sendq_push(struct sendq *q, struct msg *m)
{
	if (q->count == q->cap && sendq_grow(q) == -1)
		return -1;
	q->ring[(q->head + q->count) & (q->cap - 1)] = m;
	q->count++;
	q->bytes += m->len;
	return 0;
}

size_t
sendq_fill_iov(const struct sendq *q, struct iovec *iov, size_t max)
{
	size_t		 i, n = q->count < max ? q->count : max;
	struct msg	*m;

	for (i = 0; i < n; i++) {
		m = q->ring[(q->head + i) & (q->cap - 1)];
		iov[i].iov_base = m->data;
		iov[i].iov_len = m->len;
	}
	if (n > 0) {
		iov[0].iov_base = (char *)iov[0].iov_base + q->head_off;
		iov[0].iov_len -= q->head_off;
	}
	return n;
}

void
sendq_consume(struct sendq *q, size_t n)
{
	struct msg	*m;
	size_t		 left;

	assert(n <= q->bytes);
	q->bytes -= n;
	while (n > 0) {
		m = q->ring[q->head];
		left = m->len - q->head_off;
		if (n < left) {
			q->head_off += n;
			return;
		}
		n -= left;
		q->head_off = 0;
		q->head = (q->head + 1) & (q->cap - 1);
		q->count--;
		msg_unref(m);
	}
	/* Give an idle client's ring back: most clients are idle. */
	if (q->count == 0 && q->cap > SENDQ_MIN_CAP) {
		free(q->ring);
		q->ring = NULL;
		q->cap = q->head = 0;
	}
}
