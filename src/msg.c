/*
 * msg.c - refcounted formatted lines.
 */
#include <stdlib.h>

#include "utf8.h"
#include "msg.h"

atomic_int msg_alloc_fail_after;

static int
alloc_should_fail(void)
{
	int	 left = atomic_load_explicit(&msg_alloc_fail_after,
	    memory_order_relaxed);

	if (left == 0)
		return 0;
	/* Counts down to 1, then every allocation fails. */
	if (left == 1)
		return 1;
	atomic_fetch_sub(&msg_alloc_fail_after, 1);
	return 0;
}

struct msg *
msg_format(enum reply_kind kind, const char *nick, size_t nick_len,
    const char *text, size_t text_len)
{
	struct msg	*m;
	size_t		 cap = PROTO_FORMAT_MAX(nick_len, text_len);

	if (alloc_should_fail() || (m = malloc(sizeof(*m) + cap)) == NULL)
		return NULL;
	atomic_init(&m->refs, 1);
	m->len = (uint32_t)proto_format(m->data, kind, nick, nick_len, text,
	    text_len);
	return m;
}

void
msg_unref(struct msg *m)
{
	/* acq_rel: the freeing thread must see every other user's reads done. */
	if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
		free(m);
}
