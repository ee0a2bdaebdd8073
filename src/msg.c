/*
 * msg.c - refcounted formatted lines.
 */
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "msg.h"
#include "utf8.h"

/* Unused bytes a long line may keep rather than be copied smaller. */
#define MSG_SLACK_MAX	64

/*
 * Formatting needs room for every byte to become U+FFFD, three times
 * what a plain line uses.  A line that fits is formatted here first and
 * allocated at its size, so a queue's cost (flow.h) is what it holds;
 * that is cheaper than shrinking it afterwards.
 */
#define MSG_SCRATCH	16384
static _Thread_local char scratch[MSG_SCRATCH];

static struct msg *
msg_alloc(size_t len)
{
	struct msg	*m;

	if (fault_fail(FAULT_MSG) || (m = malloc(sizeof(*m) + len)) == NULL)
		return NULL;
	atomic_init(&m->refs, 1);
	m->len = (uint32_t)len;
	return m;
}

struct msg *
msg_format(enum reply_kind kind, const char *nick, size_t nick_len,
    const char *text, size_t text_len)
{
	struct msg	*m, *shrunk;
	size_t		 cap = PROTO_FORMAT_MAX(nick_len, text_len), len;

	if (cap <= sizeof(scratch)) {
		len = proto_format(scratch, kind, nick, nick_len, text,
		    text_len);
		if ((m = msg_alloc(len)) != NULL)
			memcpy(m->data, scratch, len);
		return m;
	}
	if ((m = msg_alloc(cap)) == NULL)
		return NULL;
	m->len = (uint32_t)proto_format(m->data, kind, nick, nick_len, text,
	    text_len);
	/* Shrinking in place cannot fail in a way that matters. */
	if (cap - m->len > MSG_SLACK_MAX &&
	    (shrunk = realloc(m, sizeof(*m) + m->len)) != NULL)
		m = shrunk;
	return m;
}

void
msg_unref(struct msg *m)
{
	/* acq_rel: the freeing thread must see every other user's reads done. */
	if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
		free(m);
}
