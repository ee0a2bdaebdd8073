/*
 * msg.h - a formatted output line, built once and shared by reference.
 *
 * A broadcast to N clients allocates one msg and takes N references: no
 * client ever gets its own copy.  The last msg_unref() frees it.
 * References are atomic because the workers that flush different clients
 * release them concurrently.
 */
#ifndef CHATD_MSG_H
#define CHATD_MSG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct msg {
	atomic_uint	refs;
	uint32_t	len;
	char		data[];
};

/* A message of one formatted line, with one reference; NULL on ENOMEM. */
struct msg	*msg_format(enum reply_kind kind, const char *nick,
		    size_t nick_len, const char *text, size_t text_len);

static inline struct msg *
msg_ref(struct msg *m)
{
	atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
	return m;
}

/* n references at once: one atomic add where n would bounce the line. */
static inline void
msg_ref_many(struct msg *m, unsigned n)
{
	atomic_fetch_add_explicit(&m->refs, n, memory_order_relaxed);
}

void		 msg_unref(struct msg *m);

#endif /* CHATD_MSG_H */
