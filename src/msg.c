/*
 * msg.c - refcounted formatted lines.
 */
#include <stdlib.h>

#include "fault.h"
#include "msg.h"
#include "utf8.h"

/* Unused bytes a line may keep rather than be copied smaller. */
#define MSG_SLACK_MAX	64

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
	/*
	 * Room was made for every byte to become U+FFFD; give back what a
	 * plain line did not use, so a queue's cost (flow.h) is what it
	 * holds.  Shrinking in place cannot fail in a way that matters.
	 */
	if (cap - m->len > MSG_SLACK_MAX) {
		struct msg *shrunk = realloc(m, sizeof(*m) + m->len);
		if (shrunk != NULL)
			m = shrunk;
	}
	return m;
}

void
msg_unref(struct msg *m)
{
	/* acq_rel: the freeing thread must see every other user's reads done. */
	if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
		free(m);
}
