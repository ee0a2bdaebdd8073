/*
 * room.c - one room: members in an array (for broadcast), nicknames in a
 * hash table (for /nick and /msg), both under one mutex.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "room.h"

#define WHO_LINE_MAX	400	/* bytes of nicknames per /who line */
#define NOTICE_MAX	(NICK_MAX_BYTES * 2 + 128)

struct room {
	pthread_mutex_t		  mu;
	room_deliver_fn		  deliver;
	size_t			  announce_max;

	struct room_member	**members;
	size_t			  count;
	size_t			  cap;

	struct room_member	**buckets;	/* nick hash, chained */
	size_t			  nbuckets;	/* a power of two */
	uint64_t		  seed;		/* of nick_hash() */

	unsigned long		  guest_seq;
};

struct room *
room_new(room_deliver_fn deliver, size_t announce_max, uint64_t seed)
{
	struct room	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->nbuckets = 64;
	if ((r->buckets = calloc(r->nbuckets, sizeof(*r->buckets))) == NULL) {
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->mu, NULL);
	r->deliver = deliver;
	r->announce_max = announce_max;
	r->seed = seed;
	return r;
}

void
room_free(struct room *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->mu);
	free(r->members);
	free(r->buckets);
	free(r);
}

size_t
room_count(struct room *r)
{
	size_t	 n;

	pthread_mutex_lock(&r->mu);
	n = r->count;
	pthread_mutex_unlock(&r->mu);
	return n;
}

static struct room_member **
bucket_of(struct room *r, const char *nick, size_t len)
{
	return &r->buckets[nick_hash(r->seed, nick, len) & (r->nbuckets - 1)];
}

static struct room_member *
find_locked(struct room *r, const char *nick, size_t len)
{
	struct room_member	*m;

	for (m = *bucket_of(r, nick, len); m != NULL; m = m->hash_next)
		if (nick_equal(m->nick, m->nick_len, nick, len))
			return m;
	return NULL;
}

static void
hash_insert(struct room *r, struct room_member *m)
{
	struct room_member	**b = bucket_of(r, m->nick, m->nick_len);

	m->hash_next = *b;
	*b = m;
}

static void
hash_remove(struct room *r, struct room_member *m)
{
	struct room_member	**p = bucket_of(r, m->nick, m->nick_len);

	while (*p != m) {
		assert(*p != NULL);
		p = &(*p)->hash_next;
	}
	*p = m->hash_next;
	m->hash_next = NULL;
}

/* Keep chains short: grow the table when it is fuller than one per bucket. */
static void
hash_maybe_grow(struct room *r)
{
	struct room_member	**old = r->buckets, **nb, *m, *next;
	size_t			  i, oldn = r->nbuckets;

	if (r->count < r->nbuckets)
		return;
	/* Failing to grow only makes chains longer; carry on. */
	if ((nb = calloc(oldn * 2, sizeof(*nb))) == NULL)
		return;
	r->buckets = nb;
	r->nbuckets = oldn * 2;
	for (i = 0; i < oldn; i++) {
		for (m = old[i]; m != NULL; m = next) {
			next = m->hash_next;
			hash_insert(r, m);
		}
	}
	free(old);
}

static int
members_add(struct room *r, struct room_member *m)
{
	struct room_member	**v;
	size_t			  cap;

	/* The one allocation a join may need: the test hook stands for it. */
	if (fault_fail(FAULT_JOIN))
		return -1;
	if (r->count == r->cap) {
		cap = r->cap ? r->cap * 2 : 64;
		if ((v = realloc(r->members, cap * sizeof(*v))) == NULL)
			return -1;
		r->members = v;
		r->cap = cap;
	}
	m->slot = r->count;
	r->members[r->count++] = m;
	return 0;
}

static void
members_remove(struct room *r, struct room_member *m)
{
	struct room_member	*last = r->members[--r->count];

	r->members[m->slot] = last;
	last->slot = m->slot;
}

/* Deliver to one member, taking the references the callback will own. */
static void
give(struct room *r, struct room_member *to, struct msg *msg, void *ctx)
{
	msg_ref(msg);
	r->deliver(to, &msg, 1, ctx);
}

/*
 * Deliver msgs to every member except skip (which may be NULL).  The
 * references are taken once per message, not once per member.
 */
static void
deliver_all_locked(struct room *r, struct msg *const *msgs, size_t n,
    struct room_member *skip, void *ctx)
{
	size_t	 i, members = r->count - (skip != NULL && skip->joined);

	if (members == 0)
		return;
	for (i = 0; i < n; i++)
		msg_ref_many(msgs[i], (unsigned)members);
	for (i = 0; i < r->count; i++)
		if (r->members[i] != skip)
			r->deliver(r->members[i], msgs, n, ctx);
}

static struct msg *
notice_new(const char *text)
{
	return msg_format(REPLY_NOTICE, NULL, 0, text, strlen(text));
}

int
room_reply(struct room *r, struct room_member *m, enum reply_kind kind,
    const char *text, size_t len, void *ctx)
{
	struct msg	*msg;

	if ((msg = msg_format(kind, NULL, 0, text, len)) == NULL)
		return -1;
	give(r, m, msg, ctx);
	msg_unref(msg);
	return 0;
}

static void
pick_guest_nick_locked(struct room *r, struct room_member *m)
{
	int	 n;

	do {
		n = snprintf(m->nick, sizeof(m->nick), "guest%lu",
		    ++r->guest_seq);
		m->nick_len = (size_t)n;
	} while (find_locked(r, m->nick, m->nick_len) != NULL);
}

void
room_set_announce_max(struct room *r, size_t announce_max)
{
	pthread_mutex_lock(&r->mu);
	r->announce_max = announce_max;
	pthread_mutex_unlock(&r->mu);
}

int
room_join(struct room *r, struct room_member *m,
    struct msg *const *greeting, size_t ngreeting, void *ctx)
{
	char		 text[NOTICE_MAX];
	struct msg	*welcome = NULL, *joined = NULL;
	size_t		 i;
	int		 rc = -1;

	pthread_mutex_lock(&r->mu);
	pick_guest_nick_locked(r, m);
	if (members_add(r, m) == -1)
		goto out;
	hash_insert(r, m);
	hash_maybe_grow(r);
	m->joined = true;

	snprintf(text, sizeof(text),
	    "welcome to chatd, you are %s (%zu online; /help lists the commands)",
	    m->nick, r->count);
	welcome = notice_new(text);
	if (r->count <= r->announce_max) {
		snprintf(text, sizeof(text), "%s joined", m->nick);
		joined = notice_new(text);
	}
	if (welcome == NULL || (r->count <= r->announce_max && joined == NULL)) {
		hash_remove(r, m);
		members_remove(r, m);
		m->joined = false;
		goto out;
	}
	give(r, m, welcome, ctx);
	for (i = 0; i < ngreeting; i++)
		give(r, m, greeting[i], ctx);
	if (joined != NULL)
		deliver_all_locked(r, &joined, 1, m, ctx);
	rc = 0;
out:
	pthread_mutex_unlock(&r->mu);
	if (welcome != NULL)
		msg_unref(welcome);
	if (joined != NULL)
		msg_unref(joined);
	return rc;
}

void
room_leave(struct room *r, struct room_member *m, const char *reason,
    size_t reason_len, void *ctx)
{
	struct msg	*left = NULL;
	char		*text = NULL;
	size_t		 cap = m->nick_len + reason_len + 16;
	int		 n;

	pthread_mutex_lock(&r->mu);
	if (!m->joined)
		goto out;
	hash_remove(r, m);
	members_remove(r, m);
	m->joined = false;
	if (r->count > r->announce_max || r->count == 0)
		goto out;
	/* The reason is the client's own text: proto_format sanitises it. */
	if ((text = malloc(cap)) == NULL)
		goto out;
	if (reason != NULL)
		n = snprintf(text, cap, "%s left (%.*s)", m->nick,
		    (int)reason_len, reason);
	else
		n = snprintf(text, cap, "%s left", m->nick);
	/* Without memory the others miss a notice; the leave still happens. */
	if ((left = msg_format(REPLY_NOTICE, NULL, 0, text, (size_t)n)) != NULL)
		deliver_all_locked(r, &left, 1, NULL, ctx);
out:
	pthread_mutex_unlock(&r->mu);
	free(text);
	if (left != NULL)
		msg_unref(left);
}

int
room_say(struct room *r, struct room_member *from, enum reply_kind kind,
    const char *text, size_t len, void *ctx)
{
	struct msg	*msg;

	/* Format outside the lock: only the appends need the total order. */
	if ((msg = msg_format(kind, from->nick, from->nick_len, text, len)) ==
	    NULL)
		return -1;
	room_say_many(r, &msg, 1, ctx);
	msg_unref(msg);
	return 0;
}

void
room_say_many(struct room *r, struct msg *const *msgs, size_t n, void *ctx)
{
	pthread_mutex_lock(&r->mu);
	deliver_all_locked(r, msgs, n, NULL, ctx);
	pthread_mutex_unlock(&r->mu);
}

int
room_notice_all(struct room *r, const char *text, void *ctx)
{
	struct msg	*msg;

	if ((msg = notice_new(text)) == NULL)
		return -1;
	pthread_mutex_lock(&r->mu);
	deliver_all_locked(r, &msg, 1, NULL, ctx);
	pthread_mutex_unlock(&r->mu);
	msg_unref(msg);
	return 0;
}

static int
nick_refuse(struct room *r, struct room_member *m, const char *nick,
    size_t len, const char *why, void *ctx)
{
	char	*text;
	size_t	 cap = len + 64 + (why != NULL ? strlen(why) : 0);
	int	 n, rc;

	if ((text = malloc(cap)) == NULL)
		return -1;
	if (why != NULL)
		n = snprintf(text, cap, "invalid nickname: %s", why);
	else
		n = snprintf(text, cap, "nickname %.*s is taken", (int)len, nick);
	rc = room_reply(r, m, REPLY_ERROR, text, (size_t)n, ctx);
	free(text);
	return rc;
}

int
room_nick(struct room *r, struct room_member *m, const char *nick,
    size_t len, void *ctx)
{
	char			 text[NOTICE_MAX];
	const char		*why;
	struct room_member	*other;
	struct msg		*msg;

	if ((why = nick_check(nick, len)) != NULL)
		return nick_refuse(r, m, nick, len, why, ctx);
	/* nick_check bounds len, so both names fit. */
	snprintf(text, sizeof(text), "%s is now known as %.*s", m->nick,
	    (int)len, nick);
	if ((msg = notice_new(text)) == NULL)
		return -1;

	pthread_mutex_lock(&r->mu);
	other = find_locked(r, nick, len);
	if (other != NULL && other != m) {
		pthread_mutex_unlock(&r->mu);
		msg_unref(msg);
		return nick_refuse(r, m, nick, len, NULL, ctx);
	}
	hash_remove(r, m);
	memcpy(m->nick, nick, len);
	m->nick[len] = '\0';
	m->nick_len = len;
	hash_insert(r, m);
	if (r->count <= r->announce_max)
		deliver_all_locked(r, &msg, 1, NULL, ctx);
	else
		give(r, m, msg, ctx);
	pthread_mutex_unlock(&r->mu);
	msg_unref(msg);
	return 0;
}

int
room_private(struct room *r, struct room_member *from, const char *to,
    size_t to_len, const char *text, size_t len, void *ctx)
{
	struct room_member	*target;
	struct msg		*in = NULL, *echo = NULL;
	char			*err;
	int			 rc = -1, n;

	pthread_mutex_lock(&r->mu);
	if ((target = find_locked(r, to, to_len)) == NULL) {
		pthread_mutex_unlock(&r->mu);
		if ((err = malloc(to_len + 32)) == NULL)
			return -1;
		n = snprintf(err, to_len + 32, "no such nick: %.*s",
		    (int)to_len, to);
		rc = room_reply(r, from, REPLY_ERROR, err, (size_t)n, ctx);
		free(err);
		return rc;
	}
	in = msg_format(REPLY_PRIVATE, from->nick, from->nick_len, text, len);
	echo = msg_format(REPLY_PRIVATE_ECHO, target->nick, target->nick_len,
	    text, len);
	if (in != NULL && echo != NULL) {
		give(r, target, in, ctx);
		give(r, from, echo, ctx);
		rc = 0;
	}
	pthread_mutex_unlock(&r->mu);
	if (in != NULL)
		msg_unref(in);
	if (echo != NULL)
		msg_unref(echo);
	return rc;
}

/* One /who line to m; adds its bytes to *sent, or makes it -1. */
static int
who_send(struct room *r, struct room_member *m, const char *line,
    size_t len, long *sent, void *ctx)
{
	struct msg	*msg;

	if ((msg = msg_format(REPLY_NOTICE, NULL, 0, line, len)) == NULL) {
		*sent = -1;
		return -1;
	}
	*sent += msg->len;
	give(r, m, msg, ctx);
	msg_unref(msg);
	return 0;
}

/*
 * /who: "N online: a b c" then continuation lines, each at most about
 * WHO_LINE_MAX bytes of names, and names of at most max_bytes in all:
 * past that, "and N more".  A listing of 10,000 long nicks would
 * otherwise be a third of a megabyte queued at once.  Delivered under
 * the lock so the listing is one consistent snapshot.
 */
long
room_who(struct room *r, struct room_member *m, size_t max_bytes, void *ctx)
{
	char		 line[WHO_LINE_MAX + NICK_MAX_BYTES + 32];
	size_t		 i, len, total = 0, shown;
	long		 sent = 0;

	pthread_mutex_lock(&r->mu);
	len = (size_t)snprintf(line, sizeof(line), "%zu online:", r->count);
	for (i = 0, shown = 0; i <= r->count; i++) {
		if (i < r->count && total + r->members[i]->nick_len < max_bytes) {
			if (len > 0)
				line[len++] = ' ';
			memcpy(line + len, r->members[i]->nick,
			    r->members[i]->nick_len);
			len += r->members[i]->nick_len;
			total += r->members[i]->nick_len + 1;
			shown++;
			if (len < WHO_LINE_MAX)
				continue;
		} else if (i < r->count) {
			/* The rest are counted, not listed. */
			if (len > 0 && who_send(r, m, line, len, &sent, ctx) == -1)
				break;
			len = (size_t)snprintf(line, sizeof(line),
			    "and %zu more", r->count - shown);
			i = r->count - 1;
			continue;
		}
		if (len == 0)
			continue;
		if (who_send(r, m, line, len, &sent, ctx) == -1)
			break;
		len = 0;
	}
	pthread_mutex_unlock(&r->mu);
	return sent;
}
