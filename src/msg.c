/*
 * msg.c - refcounted formatted lines.
 */
#include <stdlib.h>

#include "fault.h"
#include "msg.h"
#include "utf8.h"

struct msg *
msg_format(enum reply_kind kind, const char *nick, size_t nick_len,
    const char *text, size_t text_len)
{
	struct msg	*m;
	size_t		 cap = PROTO_FORMAT_MAX(nick_len, text_len);

	if (fault_fail(FAULT_MSG) || (m = malloc(sizeof(*m) + cap)) == NULL)
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
