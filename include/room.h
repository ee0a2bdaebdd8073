/*
 * room.h - membership, nicknames and the total order of room lines.
 *
 * Every line that goes to more than one client is delivered to all of its
 * recipients under the room's one mutex, so every member sees the same
 * order and a sender sees its own echo in that order.  The lock covers
 * lookups and the deliver callback only; the callback must be cheap (an
 * append to a send queue) and must never make a syscall.
 *
 * Lines to a single member (errors, /who, /help) go through the same
 * callback, so they interleave with room lines in the order queued.
 *
 * The room knows nothing of sockets: a member is a struct room_member
 * embedded in the caller's connection, and delivery is the caller's
 * callback.  That keeps the ordering logic testable on its own.
 */
#ifndef CHATD_ROOM_H
#define CHATD_ROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "proto.h"

struct room_member {
	char			 nick[NICK_MAX_BYTES + 1];
	size_t			 nick_len;
	size_t			 slot;		/* private to room.c */
	struct room_member	*hash_next;	/* private to room.c */
	bool			 joined;
};

/*
 * Queue msgs[0..n) for member to, in order.  The callback owns one
 * reference to each message, taken for it by the room: it keeps them or
 * drops them.  Called with the room locked for room lines.  ctx is what
 * the caller passed to the room function.
 */
typedef void	(*room_deliver_fn)(struct room_member *to,
		    struct msg *const *msgs, size_t n, void *ctx);

/*
 * seed perturbs the nickname hash (nick_hash()), so no client can choose
 * nicknames that pile up in one chain under the room lock: a random one.
 */
struct room	*room_new(room_deliver_fn deliver, size_t announce_max,
		    uint64_t seed);
void		 room_free(struct room *r);
size_t		 room_count(struct room *r);

/* Change the announcement limit (a reload). */
void		 room_set_announce_max(struct room *r, size_t announce_max);

/*
 * Give m a free guestN nickname, add it, send it the welcome notice and
 * the greeting lines (the MOTD, may be none) before any room line, and,
 * while the room has at most announce_max members, tell the others.
 * Returns 0, or -1 on ENOMEM (m is then not a member).
 */
int		 room_join(struct room *r, struct room_member *m,
		    struct msg *const *greeting, size_t ngreeting, void *ctx);

/*
 * Remove m; while the room has at most announce_max members, tell the
 * others "-- NICK left" or "-- NICK left (REASON)".  No-op if m is not a
 * member.
 */
void		 room_leave(struct room *r, struct room_member *m,
		    const char *reason, size_t reason_len, void *ctx);

/* A chat line or action from m to everyone.  Returns 0 or -1 (ENOMEM). */
int		 room_say(struct room *r, struct room_member *from,
		    enum reply_kind kind, const char *text, size_t len,
		    void *ctx);

/*
 * Already formatted room lines, to everyone, consecutively: one lock and
 * one delivery per member for the lot.  The caller keeps its references.
 */
void		 room_say_many(struct room *r, struct msg *const *msgs,
		    size_t n, void *ctx);

/* A notice to every member (the shutdown notice).  0 or -1 (ENOMEM). */
int		 room_notice_all(struct room *r, const char *text, void *ctx);

/*
 * Rename m.  An invalid or taken name gets an error line to m.  Returns
 * 0 (done or refused, the member was told) or -1 (ENOMEM).
 */
int		 room_nick(struct room *r, struct room_member *m,
		    const char *nick, size_t len, void *ctx);

/*
 * A private line from one member to the member named to: "*from* text"
 * to the recipient, "-> *to* text" to the sender; "!! no such nick"
 * otherwise.  Returns 0 or -1 (ENOMEM).
 */
int		 room_private(struct room *r, struct room_member *from,
		    const char *to, size_t to_len, const char *text,
		    size_t len, void *ctx);

/*
 * The /who listing, to m: the count, then names of at most max_bytes in
 * all, then "and N more" for the rest.  Returns the bytes queued, or -1
 * (ENOMEM).
 */
long		 room_who(struct room *r, struct room_member *m,
		    size_t max_bytes, void *ctx);

/* One line to m alone.  Returns 0 or -1 (ENOMEM). */
int		 room_reply(struct room *r, struct room_member *m,
		    enum reply_kind kind, const char *text, size_t len,
		    void *ctx);

#endif /* CHATD_ROOM_H */
