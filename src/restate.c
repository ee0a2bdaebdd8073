/*
 * restate.c - this node's roster, built from the model and published on
 * the stream (restate.h).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define LOG_COMPONENT	"cluster"
#include "clroster.h"
#include "cluster.h"
#include "log.h"
#include "model.h"
#include "restate.h"

/*
 * Leaves told and perhaps not yet made.  A leave is made microseconds
 * after it is told: a small ring holds them, the oldest overwritten.
 */
#define LEAVING_MAX	256

struct leaving {
	uint64_t		 uid;
	const struct room	*room;	/* compared, never followed */
};

struct restate {
	struct model		*model;
	struct cluster		*cluster;
	pthread_mutex_t		 lock;	/* a roster against the told */
	struct leaving		 leaving[LEAVING_MAX];	/* under lock */
	size_t			 leaving_next;
	uint64_t		 number;	/* the last roster's */
};

/* One member, copied out from under the model's locks. */
struct copy {
	uint64_t	 uid;
	bool		 claimed;
	size_t		 nick_len;
	size_t		 room_len;
	char		 nick[NICK_MAX_BYTES];
	char		 room[ROOM_NAME_MAX_BYTES];
};

struct build {
	struct restate	*rs;
	struct copy	*c;
	size_t		 n;
	size_t		 cap;
	bool		 nomem;
};

struct restate *
restate_new(struct model *m, struct cluster *cl)
{
	struct restate	*rs;

	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		return NULL;
	rs->model = m;
	rs->cluster = cl;
	pthread_mutex_init(&rs->lock, NULL);
	return rs;
}

void
restate_free(struct restate *rs)
{
	if (rs == NULL)
		return;
	pthread_mutex_destroy(&rs->lock);
	free(rs);
}

int
restate_told(struct restate *rs, struct clw_msg *cm, const struct user *u,
    const struct room *r)
{
	struct leaving	*l;
	size_t		 i;
	int		 rc;

	pthread_mutex_lock(&rs->lock);
	if (cm->kind == CLW_PART || cm->kind == CLW_QUIT) {
		l = &rs->leaving[rs->leaving_next++ % LEAVING_MAX];
		l->uid = u->id;
		l->room = r;
	} else if (cm->kind == CLW_JOIN) {
		/* Made and back in: the leave before it is over. */
		for (i = 0; i < LEAVING_MAX; i++)
			if (rs->leaving[i].uid == u->id &&
			    rs->leaving[i].room == r)
				rs->leaving[i].room = NULL;
	}
	rc = cluster_publish(rs->cluster, cm, 0);
	pthread_mutex_unlock(&rs->lock);
	return rc;
}

/* Under rs->lock. */
static bool
is_leaving(const struct restate *rs, uint64_t uid, const struct room *r)
{
	size_t	i;

	for (i = 0; i < LEAVING_MAX; i++)
		if (rs->leaving[i].room == r && rs->leaving[i].uid == uid)
			return true;
	return false;
}

/*
 * Under the room's and the nick table's locks: a cheap copy.  Only this
 * node's users are registered here; the others' are remote.c's.
 */
static bool
copy_member(void *arg, const char *room, size_t room_len,
    const struct user *u, const struct room *r)
{
	struct build	*b = arg;
	struct copy	*c;
	size_t		 cap;

	if (!u->registered || is_leaving(b->rs, u->id, r))
		return true;
	if (b->n == b->cap) {
		cap = b->cap == 0 ? 64 : b->cap * 2;
		if ((c = reallocarray(b->c, cap, sizeof(*c))) == NULL) {
			b->nomem = true;
			return false;
		}
		b->c = c;
		b->cap = cap;
	}
	c = &b->c[b->n++];
	c->uid = u->id;
	c->claimed = atomic_load(&u->nick_claimed);
	c->nick_len = u->nick_len;
	memcpy(c->nick, u->nick, u->nick_len);
	c->room_len = room_len;
	memcpy(c->room, room, room_len);
	return true;
}

static int
by_uid(const void *a, const void *b)
{
	const struct copy	*x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/*
 * Claim each user's chosen nick again: once a user, a clash logged.  The
 * first claim that does not reach NATS ends it: each could wait for the
 * claim's bound, and the acceptor waits with it.
 */
static void
reclaim(struct restate *rs, const struct copy *c, size_t n)
{
	size_t	i;
	int	rc = CL_OK, taken = 0, failed = 0;

	for (i = 0; i < n; i++) {
		if (!c[i].claimed || (i > 0 && c[i - 1].uid == c[i].uid))
			continue;
		if (rc != CL_DOWN)
			rc = cluster_nick_claim(rs->cluster, c[i].nick,
			    c[i].nick_len, c[i].uid);
		if (rc == CL_TAKEN) {
			taken++;
			log_warn("nick %.*s of user %" PRIu64 " was claimed by "
			    "another node while this one was taken for dead: "
			    "a clash, both keep it", (int)c[i].nick_len,
			    c[i].nick, c[i].uid);
		} else if (rc != CL_OK)
			failed++;
	}
	log_info("nicks claimed again: %d taken by others, %d not reached",
	    taken, failed);
}

/* Publish the parts of the roster; under rs->lock. */
static int
publish(struct restate *rs, const struct copy *c, size_t n)
{
	struct clroster_entry	*e;
	struct clroster_part	*parts = NULL;
	struct clw_msg		 cm;
	size_t			 i, nparts = 0;
	int			 rc = -1;

	if ((e = calloc(n > 0 ? n : 1, sizeof(*e))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		e[i].uid = c[i].uid;
		e[i].nick = c[i].nick;
		e[i].nick_len = c[i].nick_len;
		e[i].room = c[i].room;
		e[i].room_len = c[i].room_len;
	}
	if ((parts = clroster_encode(e, n, CLROSTER_PART_MAX, &nparts)) ==
	    NULL)
		goto out;
	rs->number++;
	for (i = 0; i < nparts; i++) {
		memset(&cm, 0, sizeof(cm));
		cm.kind = CLW_ROSTER;
		cm.uid = rs->number;
		cm.text = parts[i].text;
		cm.text_len = parts[i].len;
		if (cluster_publish(rs->cluster, &cm, 0) != CL_OK)
			goto out;
	}
	rc = 0;
out:
	clroster_parts_free(parts, nparts);
	free(e);
	return rc;
}

int
restate_publish(struct restate *rs, bool reclaim_nicks, const char *why)
{
	struct build	b;
	size_t		i, users = 0;
	int		rc = -1;

	memset(&b, 0, sizeof(b));
	b.rs = rs;
	pthread_mutex_lock(&rs->lock);
	model_each_member(rs->model, copy_member, &b);
	if (b.nomem) {
		log_error("out of memory: no roster (%s)", why);
		goto out;
	}
	if (b.n > 0)	/* b.c is NULL then, and qsort() wants none */
		qsort(b.c, b.n, sizeof(*b.c), by_uid);
	for (i = 0; i < b.n; i++)
		if (i == 0 || b.c[i - 1].uid != b.c[i].uid)
			users++;
	if ((rc = publish(rs, b.c, b.n)) == 0)
		log_info("roster %" PRIu64 " stated (%s): %zu users, %zu "
		    "memberships", rs->number, why, users, b.n);
	else
		log_warn("roster not stated (%s): NATS refused it", why);
out:
	pthread_mutex_unlock(&rs->lock);
	/* The stream's order does not concern the bucket: not under lock. */
	if (rc == 0 && reclaim_nicks)
		reclaim(rs, b.c, b.n);
	free(b.c);
	return rc;
}
