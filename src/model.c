/*
 * model.c - rooms in a hash table (the registry), users in another (the
 * nick table), each room's members in an array for the fan-out.
 *
 * A room lives while it has members or history worth keeping.  Its
 * registry reference count (members plus joins under way) is under the
 * registry lock, so a room is never freed under a joiner's feet; an
 * empty room with history stays until --max-rooms needs its slot.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "histdb.h"
#include "history.h"
#include "model.h"

struct room {
	/* Immutable while the room is registered. */
	char			 name[ROOM_NAME_MAX_BYTES + 1];
	size_t			 name_len;
	struct room		*hash_next;	/* under the registry lock */
	size_t			 refs;		/* under the registry lock */
	uint64_t		 empty_since;	/* under the registry lock */

	pthread_mutex_t		 mu;
	struct member		*members;	/* the fan-out walks this */
	size_t			 count;
	size_t			 cap;
	uint64_t		 seq;
	uint64_t		 ordered_seq;	/* model_ordered()'s last */
	struct history		 hist;
	char			*topic;
	size_t			 topic_len;
	char			 topic_nick[NICK_MAX_BYTES + 1];
	uint64_t		 topic_time_ms;
	unsigned		 modes;		/* ROOM_MODE_* */
};

/*
 * A room's member: the user for the fan-out to call at once, and its
 * membership, whose slot a removal updates.
 */
struct member {
	struct user		*user;
	struct membership	*ms;
};

struct model {
	struct model_limits	 limits;
	char			 default_room[ROOM_NAME_MAX_BYTES + 1];
	size_t			 default_room_len;
	uint64_t		 seed;
	struct histdb		*db;		/* NULL without --history-db */
	struct model_cluster	 cluster;	/* say NULL without --cluster */
	atomic_uint_fast64_t	 user_ids;
	atomic_uint_fast64_t	 groups;	/* ids of nick/quit groups */

	pthread_mutex_t		 rooms_mu;
	struct room		**rooms;	/* hash, chained */
	size_t			 nbuckets;
	size_t			 nrooms;
	uint64_t		 tick;		/* orders empty rooms */
	/*
	 * A room made again numbers its events from past every number a
	 * room freed or left unloaded had: the database keys lines by
	 * (room, number), so a number is never used twice for one name.
	 */
	uint64_t		 seq_floor;

	pthread_mutex_t		 nicks_mu;
	struct user		**nicks;	/* hash, chained */
	size_t			 nnick_buckets;
	size_t			 nusers;
	unsigned long		 guest_seq;
	atomic_uint_fast64_t	 private_seq;	/* private events' numbers */
};

#define LIM(m, name) \
	atomic_load_explicit(&(m)->limits.name, memory_order_relaxed)

/* One ordered change seen in several rooms shares a group id. */
static uint64_t
next_group(struct model *m)
{
	return atomic_fetch_add_explicit(&m->groups, 1,
	    memory_order_relaxed) + 1;
}

void
model_set_cluster(struct model *m, const struct model_cluster *mc)
{
	m->cluster = *mc;
}

/* --cluster: tell the other nodes, for one of this node's users. */
static void
cluster_told(struct model *m, struct user *u, struct room *r,
    enum event_kind kind, const char *text, size_t len)
{
	if (m->cluster.told != NULL && u->registered)
		m->cluster.told(m->cluster.arg, u, r, kind, text, len);
}

/* Only what was claimed (not before --cluster was set) is released. */
static void
cluster_release(struct model *m, struct user *u, const char *nick,
    size_t len)
{
	if (m->cluster.release != NULL && u->registered && u->nick_claimed)
		m->cluster.release(m->cluster.arg, u, nick, len);
	u->nick_claimed = false;
}

static void
limits_store(struct model *m, const struct model_config *cfg)
{
	atomic_store(&m->limits.announce_max, cfg->announce_max);
	atomic_store(&m->limits.max_rooms, cfg->max_rooms);
	atomic_store(&m->limits.max_rooms_per_user, cfg->max_rooms_per_user);
	atomic_store(&m->limits.max_room_name, cfg->max_room_name);
	atomic_store(&m->limits.max_topic, cfg->max_topic);
	atomic_store(&m->limits.history, cfg->history);
	atomic_store(&m->limits.history_bytes, cfg->history_bytes);
}

struct model *
model_new(const struct model_config *cfg)
{
	struct model	*m;
	size_t		 len = strlen(cfg->default_room);

	if (len > ROOM_NAME_MAX_BYTES || (m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->nbuckets = 64;
	m->nnick_buckets = 256;
	m->rooms = calloc(m->nbuckets, sizeof(*m->rooms));
	m->nicks = calloc(m->nnick_buckets, sizeof(*m->nicks));
	if (m->rooms == NULL || m->nicks == NULL) {
		free(m->rooms);
		free(m->nicks);
		free(m);
		return NULL;
	}
	memcpy(m->default_room, cfg->default_room, len + 1);
	m->default_room_len = len;
	m->seed = cfg->seed;
	limits_store(m, cfg);
	pthread_mutex_init(&m->rooms_mu, NULL);
	pthread_mutex_init(&m->nicks_mu, NULL);
	return m;
}

static void
room_free(struct room *r)
{
	pthread_mutex_destroy(&r->mu);
	history_free(&r->hist);
	free(r->members);
	free(r->topic);
	free(r);
}

void
model_free(struct model *m)
{
	struct room	*r, *next;
	size_t		 i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nbuckets; i++)
		for (r = m->rooms[i]; r != NULL; r = next) {
			next = r->hash_next;
			room_free(r);
		}
	pthread_mutex_destroy(&m->rooms_mu);
	pthread_mutex_destroy(&m->nicks_mu);
	free(m->rooms);
	free(m->nicks);
	free(m);
}

void
model_set_limits(struct model *m, const struct model_config *cfg)
{
	struct room	*r;
	size_t		 i;

	limits_store(m, cfg);
	/* The history rings shrink now, not at their next line. */
	pthread_mutex_lock(&m->rooms_mu);
	for (i = 0; i < m->nbuckets; i++)
		for (r = m->rooms[i]; r != NULL; r = r->hash_next) {
			pthread_mutex_lock(&r->mu);
			history_set_limits(&r->hist, cfg->history,
			    cfg->history_bytes);
			pthread_mutex_unlock(&r->mu);
		}
	pthread_mutex_unlock(&m->rooms_mu);
}

size_t
model_rooms_count(struct model *m)
{
	size_t	 n;

	pthread_mutex_lock(&m->rooms_mu);
	n = m->nrooms;
	pthread_mutex_unlock(&m->rooms_mu);
	return n;
}

size_t
model_users_count(struct model *m)
{
	size_t	 n;

	pthread_mutex_lock(&m->nicks_mu);
	n = m->nusers;
	pthread_mutex_unlock(&m->nicks_mu);
	return n;
}

const char *
room_name(const struct room *r, size_t *len)
{
	if (len != NULL)
		*len = r->name_len;
	return r->name;
}

size_t
room_members(struct room *r)
{
	size_t	 n;

	pthread_mutex_lock(&r->mu);
	n = r->count;
	pthread_mutex_unlock(&r->mu);
	return n;
}

/*
 * The registry.
 */

static struct room **
room_bucket(struct model *m, const char *name, size_t len)
{
	return &m->rooms[nick_hash(m->seed, name, len) & (m->nbuckets - 1)];
}

static struct room *
room_find_locked(struct model *m, const char *name, size_t len)
{
	struct room	*r;

	for (r = *room_bucket(m, name, len); r != NULL; r = r->hash_next)
		if (nick_equal(r->name, r->name_len, name, len))
			return r;
	return NULL;
}

static void
rooms_grow_locked(struct model *m)
{
	struct room	**old = m->rooms, **nb, *r, *next, **b;
	size_t		  i, oldn = m->nbuckets;

	if (m->nrooms < m->nbuckets || (nb = calloc(oldn * 2,
	    sizeof(*nb))) == NULL)
		return;		/* longer chains, no harm */
	m->rooms = nb;
	m->nbuckets = oldn * 2;
	for (i = 0; i < oldn; i++)
		for (r = old[i]; r != NULL; r = next) {
			next = r->hash_next;
			b = room_bucket(m, r->name, r->name_len);
			r->hash_next = *b;
			*b = r;
		}
	free(old);
}

static void
room_unlink_locked(struct model *m, struct room *r)
{
	struct room	**p = room_bucket(m, r->name, r->name_len);

	while (*p != r) {
		assert(*p != NULL);
		p = &(*p)->hash_next;
	}
	*p = r->hash_next;
	m->nrooms--;
	if (r->seq > m->seq_floor)
		m->seq_floor = r->seq;
}

/*
 * Make room for one more: free the room that has been empty longest.
 * Only rooms nobody holds are candidates.  True if one was freed.
 */
static bool
room_evict_locked(struct model *m)
{
	struct room	*r, *oldest = NULL;
	size_t		 i;

	for (i = 0; i < m->nbuckets; i++)
		for (r = m->rooms[i]; r != NULL; r = r->hash_next)
			if (r->refs == 0 && (oldest == NULL ||
			    r->empty_since < oldest->empty_since))
				oldest = r;
	if (oldest == NULL)
		return false;
	room_unlink_locked(m, oldest);
	room_free(oldest);
	return true;
}

static struct room *
room_new_locked(struct model *m, const char *name, size_t len)
{
	struct room	*r, **b;

	if (m->nrooms >= LIM(m, max_rooms) && !room_evict_locked(m)) {
		errno = ENOSPC;
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(r->name, name, len);
	r->name_len = len;
	r->seq = m->seq_floor;
	pthread_mutex_init(&r->mu, NULL);
	history_init(&r->hist, LIM(m, history), LIM(m, history_bytes));
	b = room_bucket(m, name, len);
	r->hash_next = *b;
	*b = r;
	m->nrooms++;
	rooms_grow_locked(m);
	return r;
}

/* Find or make the room, with a reference for the caller. */
static struct room *
room_hold(struct model *m, const char *name, size_t len)
{
	struct room	*r;

	pthread_mutex_lock(&m->rooms_mu);
	if ((r = room_find_locked(m, name, len)) == NULL)
		r = room_new_locked(m, name, len);
	if (r != NULL)
		r->refs++;
	pthread_mutex_unlock(&m->rooms_mu);
	return r;
}

/* Drop a reference; an unheld room without history goes at once. */
static void
room_release(struct model *m, struct room *r)
{
	bool	 keep;

	pthread_mutex_lock(&m->rooms_mu);
	assert(r->refs > 0);
	if (--r->refs == 0) {
		r->empty_since = ++m->tick;
		pthread_mutex_lock(&r->mu);
		keep = history_count(&r->hist) > 0 || r->topic != NULL;
		pthread_mutex_unlock(&r->mu);
		if (!keep) {
			room_unlink_locked(m, r);
			room_free(r);
		}
	}
	pthread_mutex_unlock(&m->rooms_mu);
}

/*
 * Members.
 */

static int
members_add_locked(struct room *r, struct membership *ms)
{
	struct member	*v;
	size_t		 cap;

	/* The one allocation a join may need: the test hook stands for it. */
	if (fault_fail(FAULT_JOIN))
		return -1;
	if (r->count == r->cap) {
		cap = r->cap ? r->cap * 2 : 8;
		if ((v = realloc(r->members, cap * sizeof(*v))) == NULL)
			return -1;
		r->members = v;
		r->cap = cap;
	}
	ms->slot = r->count;
	r->members[r->count].user = ms->user;
	r->members[r->count].ms = ms;
	r->count++;
	return 0;
}

static void
members_remove_locked(struct room *r, struct membership *ms)
{
	struct member	*last = &r->members[--r->count];

	r->members[ms->slot] = *last;
	last->ms->slot = ms->slot;
}

static int
user_add_room(struct user *u, struct membership *ms)
{
	struct membership	**v;
	size_t			  cap;

	if (u->nrooms == u->rooms_cap) {
		cap = u->rooms_cap ? u->rooms_cap * 2 : 4;
		if ((v = realloc(u->rooms, cap * sizeof(*v))) == NULL)
			return -1;
		u->rooms = v;
		u->rooms_cap = cap;
	}
	u->rooms[u->nrooms++] = ms;
	return 0;
}

static void
user_remove_room(struct user *u, struct membership *ms)
{
	size_t	 i;

	for (i = 0; i < u->nrooms && u->rooms[i] != ms; i++)
		continue;
	assert(i < u->nrooms);
	/* Keep the order joined: a part falls back to the latest. */
	memmove(u->rooms + i, u->rooms + i + 1,
	    (u->nrooms - i - 1) * sizeof(*u->rooms));
	u->nrooms--;
}

static struct membership *
membership_of(struct user *u, const struct room *r)
{
	size_t	 i;

	for (i = 0; i < u->nrooms; i++)
		if (u->rooms[i]->room == r && !atomic_load_explicit(
		    &u->rooms[i]->kicked, memory_order_acquire))
			return u->rooms[i];
	return NULL;
}

bool
user_first_of_group(struct user *u, uint64_t group)
{
	unsigned	 i;

	if (group == 0)
		return true;
	for (i = 0; i < USER_GROUPS_SEEN; i++)
		if (u->groups_seen[i] == group)
			return false;
	u->groups_seen[u->groups_next++ % USER_GROUPS_SEEN] = group;
	return true;
}

bool
model_in_room(struct user *u, const struct room *r)
{
	return membership_of(u, r) != NULL;
}

struct room *
model_joined(struct user *u, const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; i < u->nrooms; i++)
		if (nick_equal(u->rooms[i]->room->name,
		    u->rooms[i]->room->name_len, name, len) &&
		    !atomic_load_explicit(&u->rooms[i]->kicked,
		    memory_order_acquire))
			return u->rooms[i]->room;
	return NULL;
}

/*
 * Free what KICKs took: the room let the member go under its lock, the
 * owner (the caller) lets go of the membership here.
 */
static void
reap_kicked(struct model *m, struct user *u)
{
	size_t	 i = 0;

	while (i < u->nrooms) {
		struct membership *ms = u->rooms[i];
		struct room	  *r = ms->room;

		if (!atomic_load_explicit(&ms->kicked, memory_order_acquire)) {
			i++;
			continue;
		}
		user_remove_room(u, ms);
		free(ms);
		room_release(m, r);
	}
}

/*
 * Delivery.  The formats already rendered are paid for ahead, one atomic
 * add per event for the whole room rather than one per member; what the
 * front-ends did not use is given back after.
 */
static void
fanout_begin(struct fanout *f, struct room *r, struct event *const *evs,
    size_t n, unsigned recipients)
{
	size_t	 i, fmt;

	memset(f, 0, sizeof(*f));
	f->room = r;
	f->evs = evs;
	f->n = n;
	f->chat = true;
	for (i = 0; i < n && f->chat; i++)
		f->chat = evs[i]->kind == EV_SAY || evs[i]->kind == EV_ME;
	if (recipients == 0)
		return;
	for (fmt = 0; fmt < FMT_COUNT; fmt++) {
		for (i = 0; i < n && evs[i]->rendered[fmt] != NULL; i++)
			continue;
		if (i < n)
			continue;
		for (i = 0; i < n; i++)
			msg_ref_many(evs[i]->rendered[fmt], recipients);
		f->prepaid[fmt] = recipients;
	}
}

static void
fanout_end(struct fanout *f)
{
	size_t		 i, fmt;
	unsigned	 unused;

	for (fmt = 0; fmt < FMT_COUNT; fmt++) {
		if ((unused = f->prepaid[fmt] - f->used[fmt]) == 0)
			continue;
		/* The event keeps its own reference: none of these frees. */
		for (i = 0; i < f->n; i++)
			atomic_fetch_sub_explicit(&f->evs[i]->rendered[fmt]->refs,
			    unused, memory_order_relaxed);
	}
}

/* Deliver to every member but skip (may be NULL), under r's lock. */
static void
deliver_all_locked(struct room *r, struct event *const *evs, size_t n,
    struct user *skip, void *ctx)
{
	struct fanout	 f;
	size_t		 i;
	unsigned	 recipients = (unsigned)r->count;

	if (skip != NULL && membership_of(skip, r) != NULL)
		recipients--;
	fanout_begin(&f, r, evs, n, recipients);
	for (i = 0; i < r->count; i++)
		if (r->members[i].user != skip)
			r->members[i].user->fe->deliver(r->members[i].user,
			    &f, ctx);
	fanout_end(&f);
}

static void
deliver_one(struct user *u, struct room *r, struct event *ev, void *ctx)
{
	struct fanout	 f;

	fanout_begin(&f, r, &ev, 1, 0);
	u->fe->deliver(u, &f, ctx);
}

/* Sequence, keep and deliver events of r, under its lock. */
static void
publish_locked(struct model *m, struct room *r, struct event *const *evs,
    size_t n, struct user *skip, void *ctx)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		evs[i]->seq = ++r->seq;
		if (evs[i]->kind != EV_SAY && evs[i]->kind != EV_ME)
			continue;
		/* Without memory for history the line still goes out. */
		(void)history_push(&r->hist, evs[i]);
		if (m->db != NULL)
			histdb_append(m->db, evs[i]);
	}
	deliver_all_locked(r, evs, n, skip, ctx);
}

/* An event of u's (for its user@host) in r, under nick. */
static struct event *
room_event(struct room *r, enum event_kind kind, const struct user *u,
    const char *nick, size_t nick_len, const char *text, size_t text_len,
    uint64_t group)
{
	struct event	*ev;

	ev = event_new_full(kind, 0, event_clock_ms(), r->name, r->name_len,
	    nick, nick_len, u != NULL ? u->uhost : "", u != NULL ?
	    u->uhost_len : 0, "", 0, text, text_len);
	if (ev != NULL)
		ev->group = group;
	return ev;
}

/* An announcement, to the others while the room is small enough. */
static void
announce_locked(struct model *m, struct room *r, struct event *ev,
    struct user *skip, struct user *self, void *ctx)
{
	if (r->count <= LIM(m, announce_max)) {
		publish_locked(m, r, &ev, 1, skip, ctx);
		return;
	}
	ev->seq = ++r->seq;
	if (self != NULL)
		deliver_one(self, r, ev, ctx);
}

/*
 * Joining and leaving.
 */

static int
join_locked(struct model *m, struct room *r, struct user *u,
    struct membership *ms, size_t replay, bool on_connect, void *ctx)
{
	struct event	*evs[64], **replayed = evs, *joined = NULL, *away;
	struct join_info ji;
	size_t		 i, n = 0;
	int		 rc = M_NOMEM;

	/* Told to the others while the room, the joiner in it, is small. */
	if (r->count < LIM(m, announce_max) && (joined = room_event(r,
	    EV_JOIN, u, u->nick, u->nick_len, "", 0, 0)) == NULL)
		return M_NOMEM;
	/* No more than there is: the pointers are allocated under the lock. */
	if (replay > history_count(&r->hist))
		replay = history_count(&r->hist);
	if (replay > sizeof(evs) / sizeof(evs[0]) &&
	    (replayed = calloc(replay, sizeof(*replayed))) == NULL)
		goto out;
	/* The first member of an empty room is its operator. */
	ms->prefix = r->count == 0 ? MEMBER_OP : 0;
	if (members_add_locked(r, ms) == -1)
		goto out;
	if (user_add_room(u, ms) == -1) {
		members_remove_locked(r, ms);
		goto out;
	}
	n = history_last(&r->hist, replay, replayed);
	memset(&ji, 0, sizeof(ji));
	ji.room = r;
	ji.members = r->count;
	ji.topic = r->topic;
	ji.topic_len = r->topic_len;
	ji.topic_nick = r->topic_nick;
	ji.topic_time_ms = r->topic_time_ms;
	ji.replay = replayed;
	ji.nreplay = n;
	ji.on_connect = on_connect;
	u->fe->joined(u, &ji, ctx);
	if (joined != NULL) {
		announce_locked(m, r, joined, u, NULL, ctx);
		/* Who comes in away is told as away (IRC's away-notify). */
		if (u->away_len > 0 && (away = room_event(r, EV_AWAY, u,
		    u->nick, u->nick_len, u->away, u->away_len, 0)) != NULL) {
			announce_locked(m, r, away, u, NULL, ctx);
			event_unref(away);
		}
	}
	rc = M_OK;
out:
	for (i = 0; i < n; i++)
		event_unref(replayed[i]);
	if (replayed != evs)
		free(replayed);
	if (joined != NULL)
		event_unref(joined);
	return rc;
}

static int
join_room(struct model *m, struct user *u, const char *name, size_t len,
    size_t replay, bool on_connect, struct room **out, void *ctx)
{
	struct membership	*ms;
	struct room		*r;
	int			 rc;

	if (u->nrooms >= LIM(m, max_rooms_per_user))
		return M_TOO_MANY_JOINED;
	if ((ms = calloc(1, sizeof(*ms))) == NULL)
		return M_NOMEM;
	if ((r = room_hold(m, name, len)) == NULL) {
		free(ms);
		return errno == ENOSPC ? M_TOO_MANY_ROOMS : M_NOMEM;
	}
	ms->room = r;
	ms->user = u;
	pthread_mutex_lock(&r->mu);
	rc = join_locked(m, r, u, ms, replay, on_connect, ctx);
	pthread_mutex_unlock(&r->mu);
	if (rc != M_OK) {
		free(ms);
		room_release(m, r);
		return rc;
	}
	*out = r;
	return M_OK;
}

int
model_join(struct model *m, struct user *u, const char *name, size_t len,
    size_t replay, struct room **out, const char **why, void *ctx)
{
	struct room	*r;
	int		 rc;

	*why = room_name_check(name, len, LIM(m, max_room_name));
	if (*why != NULL)
		return M_BAD_NAME;
	reap_kicked(m, u);
	if ((r = model_joined(u, name, len)) != NULL) {
		*out = r;
		return M_ALREADY;
	}
	rc = join_room(m, u, name, len, replay, false, out, ctx);
	if (rc == M_OK)
		cluster_told(m, u, *out, EV_JOIN, "", 0);
	return rc;
}

/* Leave r, telling the others with an event of kind (may be NULL). */
static void
leave_room(struct model *m, struct user *u, struct membership *ms,
    struct event *ev, void *ctx)
{
	struct room	*r = ms->room;

	pthread_mutex_lock(&r->mu);
	members_remove_locked(r, ms);
	if (ev != NULL && r->count > 0)
		announce_locked(m, r, ev, NULL, NULL, ctx);
	pthread_mutex_unlock(&r->mu);
	user_remove_room(u, ms);
	free(ms);
	room_release(m, r);
}

int
model_part(struct model *m, struct user *u, struct room *r,
    const char *reason, size_t reason_len, void *ctx)
{
	struct membership	*ms;
	struct event		*ev;

	/* First: r may be a room u was put out of (compared, not followed). */
	reap_kicked(m, u);
	if ((ms = membership_of(u, r)) == NULL)
		return M_NOT_MEMBER;
	/* Told first: the room may go with the part. */
	cluster_told(m, u, r, EV_PART, reason ? reason : "",
	    reason ? reason_len : 0);
	/* Without memory the others miss a notice; the part still happens. */
	ev = room_event(r, EV_PART, u, u->nick, u->nick_len, reason ? reason : "",
	    reason ? reason_len : 0, 0);
	leave_room(m, u, ms, ev, ctx);
	if (ev != NULL)
		event_unref(ev);
	return M_OK;
}

/*
 * The nick table.
 */

static struct user **
nick_bucket(struct model *m, const char *nick, size_t len)
{
	return &m->nicks[nick_hash(m->seed, nick, len) &
	    (m->nnick_buckets - 1)];
}

static struct user *
nick_find_locked(struct model *m, const char *nick, size_t len)
{
	struct user	*u;

	for (u = *nick_bucket(m, nick, len); u != NULL; u = u->hash_next)
		if (nick_equal(u->nick, u->nick_len, nick, len))
			return u;
	return NULL;
}

static void
nick_insert_locked(struct model *m, struct user *u)
{
	struct user	**b = nick_bucket(m, u->nick, u->nick_len);

	u->hash_next = *b;
	*b = u;
}

static void
nick_remove_locked(struct model *m, struct user *u)
{
	struct user	**p = nick_bucket(m, u->nick, u->nick_len);

	while (*p != u) {
		assert(*p != NULL);
		p = &(*p)->hash_next;
	}
	*p = u->hash_next;
	u->hash_next = NULL;
}

static void
nicks_grow_locked(struct model *m)
{
	struct user	**old = m->nicks, **nb, *u, *next, **b;
	size_t		  i, oldn = m->nnick_buckets;

	if (m->nusers < m->nnick_buckets || (nb = calloc(oldn * 2,
	    sizeof(*nb))) == NULL)
		return;
	m->nicks = nb;
	m->nnick_buckets = oldn * 2;
	for (i = 0; i < oldn; i++)
		for (u = old[i]; u != NULL; u = next) {
			next = u->hash_next;
			b = nick_bucket(m, u->nick, u->nick_len);
			u->hash_next = *b;
			*b = u;
		}
	free(old);
}

/* Out of the nick table, its rooms' list freed: the user is gone. */
static void
unregister(struct model *m, struct user *u)
{
	free(u->rooms);
	u->rooms = NULL;
	u->rooms_cap = 0;
	if (!u->registered)
		return;
	pthread_mutex_lock(&m->nicks_mu);
	nick_remove_locked(m, u);
	m->nusers--;
	if (u->fe != NULL && u->fe->users != NULL)
		atomic_fetch_sub(u->fe->users, 1);
	u->registered = false;
	pthread_mutex_unlock(&m->nicks_mu);
}

#define GUEST_CLAIM_TRIES	64

/*
 * A free guestN for u, into the nick table.  With --cluster the name must
 * be free on every node too: each candidate is claimed (a bounded wait,
 * outside the lock) and one that another node's user holds is passed
 * over for the next number, a bounded number of times.
 */
static int
guest_name(struct model *m, struct user *u)
{
	char		 name[NICK_MAX_BYTES + 1];
	size_t		 len;
	unsigned	 tries;
	int		 n, rc = M_NICK_TAKEN;

	for (tries = 0; tries < GUEST_CLAIM_TRIES; tries++) {
		pthread_mutex_lock(&m->nicks_mu);
		do {
			n = snprintf(name, sizeof(name), "guest%lu",
			    ++m->guest_seq);
			len = (size_t)n;
		} while (nick_find_locked(m, name, len) != NULL);
		if (m->cluster.claim != NULL) {
			pthread_mutex_unlock(&m->nicks_mu);
			if ((rc = m->cluster.claim(m->cluster.arg, u, name,
			    len)) == M_NICK_TAKEN)
				continue;
			if (rc != M_OK)
				break;
			pthread_mutex_lock(&m->nicks_mu);
			/* Ours in the cluster, so no one here took it since. */
		}
		memcpy(u->nick, name, len + 1);
		u->nick_len = len;
		u->nick_claimed = m->cluster.claim != NULL;
		nick_insert_locked(m, u);
		m->nusers++;
		nicks_grow_locked(m);
		u->registered = true;
		if (u->fe != NULL && u->fe->users != NULL)
			atomic_fetch_add(u->fe->users, 1);
		pthread_mutex_unlock(&m->nicks_mu);
		return M_OK;
	}
	/* NATS is away, or every number tried is another node's. */
	return M_UNREACHABLE;
}

int
model_connect(struct model *m, struct user *u, void *ctx)
{
	struct room	*r;
	int		 rc;

	/* First: a cluster claim names its holder by this id. */
	u->id = atomic_fetch_add_explicit(&m->user_ids, 1,
	    memory_order_relaxed) + 1;
	if ((rc = guest_name(m, u)) != M_OK)
		return rc;

	rc = join_room(m, u, m->default_room, m->default_room_len, 0, true,
	    &r, ctx);
	if (rc == M_OK) {
		cluster_told(m, u, r, EV_JOIN, "", 0);
		return M_OK;
	}
	cluster_release(m, u, u->nick, u->nick_len);
	unregister(m, u);
	return M_NOMEM;
}

int
model_register(struct model *m, struct user *u, const char *nick,
    size_t len, const char **why)
{
	int	rc;

	if ((*why = nick_check(nick, len)) != NULL)
		return M_BAD_NICK;
	u->id = atomic_fetch_add_explicit(&m->user_ids, 1,
	    memory_order_relaxed) + 1;
	/* --cluster: a chosen nick is the cluster's to give first. */
	if (m->cluster.claim != NULL &&
	    (rc = m->cluster.claim(m->cluster.arg, u, nick, len)) != M_OK)
		return rc;
	pthread_mutex_lock(&m->nicks_mu);
	if (nick_find_locked(m, nick, len) != NULL) {
		pthread_mutex_unlock(&m->nicks_mu);
		if (m->cluster.release != NULL)
			m->cluster.release(m->cluster.arg, u, nick, len);
		return M_NICK_TAKEN;
	}
	u->nick_claimed = m->cluster.claim != NULL;
	memcpy(u->nick, nick, len);
	u->nick[len] = '\0';
	u->nick_len = len;
	nick_insert_locked(m, u);
	m->nusers++;
	nicks_grow_locked(m);
	u->registered = true;
	if (u->fe != NULL && u->fe->users != NULL)
		atomic_fetch_add(u->fe->users, 1);
	pthread_mutex_unlock(&m->nicks_mu);
	return M_OK;
}

size_t
model_announce_max(struct model *m)
{
	return LIM(m, announce_max);
}

void
model_disconnect(struct model *m, struct user *u, const char *reason,
    size_t reason_len, void *ctx)
{
	struct event	*ev;
	uint64_t	 group = next_group(m);

	reap_kicked(m, u);
	while (u->nrooms > 0) {
		struct membership *ms = u->rooms[u->nrooms - 1];

		cluster_told(m, u, ms->room, EV_QUIT, reason ? reason : "",
		    reason ? reason_len : 0);
		ev = room_event(ms->room, EV_QUIT, u, u->nick, u->nick_len,
		    reason ? reason : "", reason ? reason_len : 0, 0);
		/* An IRC user sharing rooms hears one QUIT. */
		if (ev != NULL)
			ev->once = group;
		leave_room(m, u, ms, ev, ctx);
		if (ev != NULL)
			event_unref(ev);
	}
	cluster_release(m, u, u->nick, u->nick_len);
	unregister(m, u);
}

void
model_forget(struct model *m, struct user *u)
{
	reap_kicked(m, u);
	while (u->nrooms > 0)
		leave_room(m, u, u->rooms[u->nrooms - 1], NULL, NULL);
	unregister(m, u);
}

/* The same nick but for ASCII case: the table's idea of one name. */
static bool
nick_same(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t	i;
	int	x, y;

	if (alen != blen)
		return false;
	for (i = 0; i < alen; i++) {
		x = (unsigned char)a[i];
		y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return false;
	}
	return true;
}

int
model_nick(struct model *m, struct user *u, const char *nick, size_t len,
    const char **why, void *ctx)
{
	char		 old[NICK_MAX_BYTES + 1];
	size_t		 old_len = u->nick_len, i;
	struct user	*other;
	struct event	*ev;
	uint64_t	 group = next_group(m);
	bool		 same;
	int		 rc = M_OK;

	if ((*why = nick_check(nick, len)) != NULL)
		return M_BAD_NICK;
	reap_kicked(m, u);
	same = nick_same(u->nick, old_len, nick, len);
	/* --cluster: the cluster's to give first, here second. */
	if (m->cluster.claim != NULL && u->registered && !same &&
	    (rc = m->cluster.claim(m->cluster.arg, u, nick, len)) != M_OK)
		return rc;
	memcpy(old, u->nick, old_len + 1);
	pthread_mutex_lock(&m->nicks_mu);
	/* One not in the table (another node's user) is renamed only. */
	other = u->registered ? nick_find_locked(m, nick, len) : NULL;
	if (other != NULL && other != u) {
		pthread_mutex_unlock(&m->nicks_mu);
		/* Ours for a moment: given back, the old one still held. */
		if (!same && m->cluster.release != NULL && u->registered)
			m->cluster.release(m->cluster.arg, u, nick, len);
		return M_NICK_TAKEN;
	}
	if (u->registered)
		nick_remove_locked(m, u);
	memcpy(u->nick, nick, len);
	u->nick[len] = '\0';
	u->nick_len = len;
	if (u->registered)
		nick_insert_locked(m, u);
	pthread_mutex_unlock(&m->nicks_mu);
	if (!same && m->cluster.claim != NULL && u->registered) {
		cluster_release(m, u, old, old_len);
		u->nick_claimed = true;
	}
	if (u->nrooms > 0)
		cluster_told(m, u, u->rooms[0]->room, EV_NICK, old, old_len);

	if (u->nrooms == 0) {
		if ((ev = event_new_full(EV_NICK, 0, event_clock_ms(), "", 0,
		    old, old_len, u->uhost, u->uhost_len, "", 0, nick, len)) ==
		    NULL)
			return M_NOMEM;
		ev->group = group;
		ev->actor = u;
		deliver_one(u, NULL, ev, ctx);
		event_unref(ev);
		return M_OK;
	}
	for (i = 0; i < u->nrooms; i++) {
		struct room *r = u->rooms[i]->room;

		if ((ev = room_event(r, EV_NICK, u, old, old_len, nick, len,
		    group)) == NULL) {
			rc = M_NOMEM;
			continue;
		}
		ev->actor = u;
		pthread_mutex_lock(&r->mu);
		announce_locked(m, r, ev, NULL, u, ctx);
		pthread_mutex_unlock(&r->mu);
		event_unref(ev);
	}
	return rc;
}

/*
 * --cluster: to is no user's here, and may be another node's.  Its name
 * as typed goes to to_nick for the sender's echo.
 */
static int
private_elsewhere(struct model *m, struct user *u, enum event_kind kind,
    const char *to, size_t to_len, const char *text, size_t len,
    char *to_nick)
{
	int	rc;

	if (m->cluster.message == NULL || !u->registered ||
	    nick_check(to, to_len) != NULL)
		return M_NO_SUCH_NICK;
	if ((rc = m->cluster.message(m->cluster.arg, u, kind, to, to_len,
	    text, len)) != M_OK)
		return rc;
	memcpy(to_nick, to, to_len);
	to_nick[to_len] = '\0';
	return M_OK;
}

/* A private line names its recipient in the room's place; a notice not. */
static struct event *
private_event(enum event_kind kind, uint64_t time_ms, const char *from,
    size_t from_len, const char *uhost, size_t uhost_len, const char *to,
    size_t to_len, const char *text, size_t len, const char *ctags,
    size_t ctags_len)
{
	return event_new_tagged(kind, 0, time_ms, kind == EV_PRIVATE ? to : "",
	    kind == EV_PRIVATE ? to_len : 0, from, from_len, uhost, uhost_len,
	    to, to_len, text, len, ctags, ctags_len);
}

int
model_private_to(struct model *m, uint64_t uid, enum event_kind kind,
    const char *to, size_t to_len, const char *from, size_t from_len,
    const char *text, size_t len, uint64_t time_ms, void *ctx)
{
	struct user	*target;
	struct event	*ev;

	pthread_mutex_lock(&m->nicks_mu);
	/* Ids restart with a node: the name must still be the one asked. */
	if ((target = nick_find_locked(m, to, to_len)) == NULL ||
	    target->id != uid) {
		pthread_mutex_unlock(&m->nicks_mu);
		return M_NO_SUCH_NICK;
	}
	ev = private_event(kind, time_ms, from, from_len, "", 0, target->nick,
	    target->nick_len, text, len, "", 0);
	if (ev != NULL) {
		ev->seq = atomic_fetch_add(&m->private_seq, 1) + 1;
		deliver_one(target, NULL, ev, ctx);
	}
	pthread_mutex_unlock(&m->nicks_mu);
	if (ev == NULL)
		return M_NOMEM;
	event_unref(ev);
	return M_OK;
}

int
model_private(struct model *m, struct user *u, const char *to,
    size_t to_len, const char *text, size_t len, char *to_nick, void *ctx)
{
	struct user	*target;
	struct event	*ev;

	/* The recipient's name rides in the room's place. */
	pthread_mutex_lock(&m->nicks_mu);
	if ((target = nick_find_locked(m, to, to_len)) == NULL) {
		pthread_mutex_unlock(&m->nicks_mu);
		return private_elsewhere(m, u, EV_PRIVATE, to, to_len, text,
		    len, to_nick);
	}
	memcpy(to_nick, target->nick, target->nick_len + 1);
	ev = private_event(EV_PRIVATE, event_clock_ms(), u->nick, u->nick_len,
	    u->uhost, u->uhost_len, target->nick, target->nick_len, text, len,
	    "", 0);
	if (ev != NULL) {
		ev->seq = atomic_fetch_add(&m->private_seq, 1) + 1;
		deliver_one(target, NULL, ev, ctx);
	}
	pthread_mutex_unlock(&m->nicks_mu);
	if (ev == NULL)
		return M_NOMEM;
	event_unref(ev);
	return M_OK;
}

int
model_private_kind(struct model *m, struct user *u, enum event_kind kind,
    const char *to, size_t to_len, const char *text, size_t len,
    const char *ctags, size_t ctags_len, struct private_out *out,
    bool want_event, void *ctx)
{
	struct user	*target;
	struct event	*ev;
	int		 rc;

	out->ev = NULL;
	pthread_mutex_lock(&m->nicks_mu);
	if ((target = nick_find_locked(m, to, to_len)) == NULL) {
		pthread_mutex_unlock(&m->nicks_mu);
		out->away_len = 0;
		out->away[0] = '\0';
		if ((rc = private_elsewhere(m, u, kind, to, to_len, text, len,
		    out->to_nick)) != M_OK || !want_event)
			return rc;
		/* The sender's echo, as for a recipient of this node's. */
		if ((ev = private_event(kind, event_clock_ms(), u->nick,
		    u->nick_len, u->uhost, u->uhost_len, to, to_len, text, len,
		    ctags, ctags_len)) == NULL)
			return M_NOMEM;
		ev->seq = atomic_fetch_add(&m->private_seq, 1) + 1;
		ev->actor = u;
		out->ev = ev;
		return M_OK;
	}
	memcpy(out->to_nick, target->nick, target->nick_len + 1);
	memcpy(out->away, target->away, target->away_len);
	out->away[target->away_len] = '\0';
	out->away_len = target->away_len;
	ev = private_event(kind, event_clock_ms(), u->nick, u->nick_len,
	    u->uhost, u->uhost_len, target->nick, target->nick_len, text, len,
	    ctags, ctags_len);
	if (ev != NULL) {
		ev->seq = atomic_fetch_add(&m->private_seq, 1) + 1;
		ev->actor = u;
		deliver_one(target, NULL, ev, ctx);
	}
	pthread_mutex_unlock(&m->nicks_mu);
	if (ev == NULL)
		return M_NOMEM;
	if (want_event)
		out->ev = ev;
	else
		event_unref(ev);
	return M_OK;
}

/*
 * Rooms' state.
 */

int
model_say(struct model *m, struct user *u, struct room *r,
    struct event *const *evs, size_t n, void *ctx)
{
	/* u's rooms are its owner's, and the owner is the caller. */
	if (membership_of(u, r) == NULL)
		return M_NOT_MEMBER;
	/* --cluster: ordered by the stream, back through model_ordered(). */
	if (m->cluster.say != NULL && u->registered)
		return m->cluster.say(m->cluster.arg, u, r, evs, n) ? M_OK :
		    M_UNREACHABLE;
	pthread_mutex_lock(&r->mu);
	publish_locked(m, r, evs, n, NULL, ctx);
	pthread_mutex_unlock(&r->mu);
	return M_OK;
}

/* ev's topic is r's now; kept as it was if there is no memory for it. */
static void
ordered_topic_locked(struct room *r, const struct event *ev)
{
	char	*topic = NULL;

	if (ev->text_len > 0) {
		if ((topic = malloc(ev->text_len + 1)) == NULL)
			return;
		memcpy(topic, ev->text, ev->text_len);
		topic[ev->text_len] = '\0';
	}
	free(r->topic);
	r->topic = topic;
	r->topic_len = ev->text_len;
	snprintf(r->topic_nick, sizeof(r->topic_nick), "%.*s",
	    (int)ev->nick_len, ev->nick);
	r->topic_time_ms = ev->time_ms;
}

static struct member	*member_named_locked(struct model *, struct room *,
			    const char *, size_t);

/*
 * The member named ev->target, of this node or another, hears it with
 * the others and is out of r: as model_kick() does, its owner (a worker,
 * or remote.c for another node's) frees the membership at its next call.
 */
static void
ordered_kick_locked(struct model *m, struct room *r, struct event *ev,
    void *ctx)
{
	struct member		*t;
	struct membership	*tms;

	if ((t = member_named_locked(m, r, ev->target, ev->target_len)) ==
	    NULL)
		return;		/* gone or renamed since: no one to put out */
	tms = t->ms;
	ev->actor = t->user;
	deliver_all_locked(r, &ev, 1, NULL, ctx);
	members_remove_locked(r, tms);
	atomic_store_explicit(&tms->kicked, true, memory_order_release);
}

/*
 * Apply ev's change ("+t", "-o NICK"; clw_mode_ok() checked it) to r:
 * true if it changed anything, and so is to be told.
 */
static bool
ordered_mode_locked(struct model *m, struct room *r, const struct event *ev)
{
	struct member	*t;
	unsigned	 bit, old;
	bool		 on;

	if (ev->text_len < 2)
		return false;
	on = ev->text[0] == '+';
	switch (ev->text[1]) {
	case 't':
	case 's':
		bit = ev->text[1] == 't' ? ROOM_MODE_TOPIC : ROOM_MODE_SECRET;
		old = r->modes;
		r->modes = on ? r->modes | bit : r->modes & ~bit;
		return r->modes != old;
	case 'o':
	case 'v':
		if (ev->text_len < 4 || (t = member_named_locked(m, r,
		    ev->text + 3, ev->text_len - 3)) == NULL)
			return false;
		bit = ev->text[1] == 'o' ? MEMBER_OP : MEMBER_VOICE;
		t->ms->prefix = on ? t->ms->prefix | bit : t->ms->prefix & ~bit;
		return true;
	default:
		return false;
	}
}

int
model_ordered(struct model *m, struct event *ev, void *ctx)
{
	struct room	*r;

	if ((r = room_hold(m, ev->room, ev->room_len)) == NULL)
		return errno == ENOSPC ? M_TOO_MANY_ROOMS : M_NOMEM;
	pthread_mutex_lock(&r->mu);
	/* Its own count: local joins and parts number from r->seq. */
	if (ev->seq > r->ordered_seq) {
		r->ordered_seq = ev->seq;
		if (ev->kind == EV_SAY || ev->kind == EV_ME)
			(void)history_push(&r->hist, ev);
		if (ev->kind == EV_TOPIC)
			ordered_topic_locked(r, ev);
		if (ev->kind == EV_KICK)
			ordered_kick_locked(m, r, ev, ctx);
		else if (ev->kind != EV_MODE || ordered_mode_locked(m, r, ev))
			deliver_all_locked(r, &ev, 1, NULL, ctx);
	}
	pthread_mutex_unlock(&r->mu);
	room_release(m, r);
	return M_OK;
}

int
model_topic(struct model *m, struct user *u, struct room *r,
    const char *text, size_t len, void *ctx)
{
	struct membership	*ms;
	struct event		*ev;
	char			*topic = NULL;

	if (len > LIM(m, max_topic))
		return M_TOPIC_TOO_LONG;
	if ((ms = membership_of(u, r)) == NULL)
		return M_NOT_MEMBER;
	if (len > 0 && (topic = malloc(len + 1)) == NULL)
		return M_NOMEM;
	if ((ev = room_event(r, EV_TOPIC, u, u->nick, u->nick_len, text, len,
	    0)) == NULL) {
		free(topic);
		return M_NOMEM;
	}
	if (topic != NULL) {
		memcpy(topic, text, len);
		topic[len] = '\0';
	}
	pthread_mutex_lock(&r->mu);
	if ((r->modes & ROOM_MODE_TOPIC) && !(ms->prefix & MEMBER_OP)) {
		pthread_mutex_unlock(&r->mu);
		free(topic);
		event_unref(ev);
		return M_NOT_OP;
	}
	/* --cluster: set here too when the stream gives it back, in order. */
	if (m->cluster.topic != NULL && u->registered) {
		pthread_mutex_unlock(&r->mu);
		free(topic);
		event_unref(ev);
		return m->cluster.topic(m->cluster.arg, u, r, text, len);
	}
	free(r->topic);
	r->topic = topic;
	r->topic_len = len;
	memcpy(r->topic_nick, u->nick, u->nick_len + 1);
	r->topic_time_ms = ev->time_ms;
	/* A topic change goes to every member, whatever the room's size. */
	publish_locked(m, r, &ev, 1, NULL, ctx);
	/* Stored with who set it and when; the queue is in order. */
	if (m->db != NULL)
		histdb_append(m->db, ev);
	pthread_mutex_unlock(&r->mu);
	event_unref(ev);
	return M_OK;
}

size_t
model_topic_get(struct room *r, char *buf, size_t cap)
{
	size_t	 len;

	pthread_mutex_lock(&r->mu);
	len = r->topic_len;
	if (cap > 0) {
		if (len >= cap)
			len = cap - 1;
		if (len > 0)
			memcpy(buf, r->topic, len);
		buf[len] = '\0';
	}
	pthread_mutex_unlock(&r->mu);
	return len;
}

size_t
model_topic_info(struct room *r, char *buf, size_t cap, char *setter,
    uint64_t *time_ms)
{
	size_t	 len;

	pthread_mutex_lock(&r->mu);
	memcpy(setter, r->topic_nick, strlen(r->topic_nick) + 1);
	*time_ms = r->topic_time_ms;
	len = r->topic_len;
	if (cap > 0) {
		if (len >= cap)
			len = cap - 1;
		if (len > 0)
			memcpy(buf, r->topic, len);
		buf[len] = '\0';
	}
	pthread_mutex_unlock(&r->mu);
	return len;
}

/* The member of r named nick, under r's lock; NULL if none. */
static struct member *
member_named_locked(struct model *m, struct room *r, const char *nick,
    size_t len)
{
	struct member	*found = NULL;
	size_t		 i;

	pthread_mutex_lock(&m->nicks_mu);
	for (i = 0; i < r->count && found == NULL; i++)
		if (nick_equal(r->members[i].user->nick,
		    r->members[i].user->nick_len, nick, len))
			found = &r->members[i];
	pthread_mutex_unlock(&m->nicks_mu);
	return found;
}

/* Tell r about a mode change of u's, under r's lock. */
static void
mode_event_locked(struct model *m, struct room *r, struct user *u,
    const char *change, size_t len, void *ctx)
{
	struct event	*ev;

	if ((ev = room_event(r, EV_MODE, u, u->nick, u->nick_len, change, len,
	    0)) == NULL)
		return;
	publish_locked(m, r, &ev, 1, NULL, ctx);
	event_unref(ev);
}

int
model_set_prefix(struct model *m, struct user *u, struct room *r,
    const char *target, size_t target_len, unsigned prefix, bool on,
    void *ctx)
{
	struct membership	*ms = membership_of(u, r);
	struct member		*t;
	char			 change[NICK_MAX_BYTES + 8];
	int			 n, rc = M_OK;

	if (ms == NULL)
		return M_NOT_MEMBER;
	pthread_mutex_lock(&r->mu);
	if (!(ms->prefix & MEMBER_OP))
		rc = M_NOT_OP;
	else if ((t = member_named_locked(m, r, target, target_len)) == NULL)
		rc = M_NO_SUCH_NICK;
	else if (m->cluster.mode != NULL && u->registered) {
		/* --cluster: on every node when the stream says. */
		pthread_mutex_lock(&m->nicks_mu);
		n = snprintf(change, sizeof(change), "%c%c %s", on ? '+' : '-',
		    prefix == MEMBER_OP ? 'o' : 'v', t->user->nick);
		pthread_mutex_unlock(&m->nicks_mu);
		pthread_mutex_unlock(&r->mu);
		return m->cluster.mode(m->cluster.arg, u, r, change,
		    (size_t)n);
	} else {
		if (on)
			t->ms->prefix |= prefix;
		else
			t->ms->prefix &= ~prefix;
		n = snprintf(change, sizeof(change), "%c%c %s", on ? '+' : '-',
		    prefix == MEMBER_OP ? 'o' : 'v', t->user->nick);
		mode_event_locked(m, r, u, change, (size_t)n, ctx);
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

int
model_set_room_mode(struct model *m, struct user *u, struct room *r,
    unsigned mode, bool on, void *ctx)
{
	struct membership	*ms = membership_of(u, r);
	char			 change[3];
	int			 rc = M_OK;

	if (ms == NULL)
		return M_NOT_MEMBER;
	pthread_mutex_lock(&r->mu);
	if (!(ms->prefix & MEMBER_OP))
		rc = M_NOT_OP;
	else if (((r->modes & mode) != 0) != on) {
		change[0] = on ? '+' : '-';
		change[1] = mode == ROOM_MODE_TOPIC ? 't' : 's';
		change[2] = '\0';
		/* --cluster: on every node when the stream says. */
		if (m->cluster.mode != NULL && u->registered) {
			pthread_mutex_unlock(&r->mu);
			return m->cluster.mode(m->cluster.arg, u, r, change, 2);
		}
		r->modes = on ? r->modes | mode : r->modes & ~mode;
		mode_event_locked(m, r, u, change, 2, ctx);
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

int
model_kick(struct model *m, struct user *u, struct room *r,
    const char *target, size_t target_len, const char *reason,
    size_t reason_len, void *ctx)
{
	struct membership	*ms = membership_of(u, r), *tms;
	struct member		*t;
	struct event		*ev;
	char			 named[NICK_MAX_BYTES + 1];
	bool			 ordered = m->cluster.kick != NULL &&
				    u->registered;
	int			 rc = M_OK;

	if (ms == NULL)
		return M_NOT_MEMBER;
	pthread_mutex_lock(&r->mu);
	if (!(ms->prefix & MEMBER_OP))
		rc = M_NOT_OP;
	else if ((t = member_named_locked(m, r, target, target_len)) == NULL)
		rc = M_NO_SUCH_NICK;
	else if (ordered) {
		/* --cluster: put out on every node when the stream says. */
		pthread_mutex_lock(&m->nicks_mu);
		memcpy(named, t->user->nick, t->user->nick_len + 1);
		pthread_mutex_unlock(&m->nicks_mu);
		pthread_mutex_unlock(&r->mu);
		return m->cluster.kick(m->cluster.arg, u, r, named,
		    strlen(named), reason, reason_len);
	} else if ((ev = event_new_full(EV_KICK, 0, event_clock_ms(), r->name,
	    r->name_len, u->nick, u->nick_len, u->uhost, u->uhost_len,
	    t->user->nick, t->user->nick_len, reason, reason_len)) == NULL)
		rc = M_NOMEM;
	else {
		/* The one put out hears it too, then is gone from the room. */
		tms = t->ms;
		ev->actor = t->user;
		publish_locked(m, r, &ev, 1, NULL, ctx);
		event_unref(ev);
		members_remove_locked(r, tms);
		atomic_store_explicit(&tms->kicked, true, memory_order_release);
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

unsigned
model_prefix(struct user *u, struct room *r)
{
	struct membership	*ms = membership_of(u, r);
	unsigned		 prefix;

	if (ms == NULL)
		return 0;
	pthread_mutex_lock(&r->mu);
	prefix = ms->prefix;
	pthread_mutex_unlock(&r->mu);
	return prefix;
}

unsigned
model_room_modes(struct room *r)
{
	unsigned	 modes;

	pthread_mutex_lock(&r->mu);
	modes = r->modes;
	pthread_mutex_unlock(&r->mu);
	return modes;
}

int
model_away(struct model *m, struct user *u, const char *text, size_t len,
    void *ctx)
{
	struct event	*ev;
	uint64_t	 group = next_group(m);
	size_t		 i;
	int		 rc = M_OK;

	if (len > AWAY_MAX_BYTES)
		len = AWAY_MAX_BYTES;
	reap_kicked(m, u);
	pthread_mutex_lock(&m->nicks_mu);
	memcpy(u->away, text, len);
	u->away[len] = '\0';
	u->away_len = len;
	pthread_mutex_unlock(&m->nicks_mu);
	for (i = 0; i < u->nrooms; i++) {
		struct room *r = u->rooms[i]->room;

		if ((ev = room_event(r, EV_AWAY, u, u->nick, u->nick_len, text,
		    len, group)) == NULL) {
			rc = M_NOMEM;
			continue;
		}
		ev->actor = u;
		pthread_mutex_lock(&r->mu);
		announce_locked(m, r, ev, u, NULL, ctx);
		pthread_mutex_unlock(&r->mu);
		event_unref(ev);
	}
	return rc;
}

bool
model_whois(struct model *m, const char *nick, size_t len,
    void (*fn)(void *arg, const struct user *u), void *arg)
{
	struct user	*u;

	pthread_mutex_lock(&m->nicks_mu);
	if ((u = nick_find_locked(m, nick, len)) != NULL && fn != NULL)
		fn(arg, u);
	pthread_mutex_unlock(&m->nicks_mu);
	return u != NULL;
}

size_t
model_members(struct model *m, struct room *r,
    bool (*fn)(void *arg, const struct user *u, unsigned prefix), void *arg)
{
	size_t	 i, n;

	pthread_mutex_lock(&r->mu);
	pthread_mutex_lock(&m->nicks_mu);
	n = r->count;
	for (i = 0; i < r->count; i++)
		if (!fn(arg, r->members[i].user, r->members[i].ms->prefix))
			break;
	pthread_mutex_unlock(&m->nicks_mu);
	pthread_mutex_unlock(&r->mu);
	return n;
}

void
model_each_member(struct model *m, bool (*fn)(void *arg, const char *room,
    size_t room_len, const struct user *u, const struct room *r), void *arg)
{
	struct room	*r;
	size_t		 i, k;
	bool		 more = true;

	pthread_mutex_lock(&m->rooms_mu);
	for (i = 0; i < m->nbuckets && more; i++)
		for (r = m->rooms[i]; r != NULL && more; r = r->hash_next) {
			pthread_mutex_lock(&r->mu);
			pthread_mutex_lock(&m->nicks_mu);
			for (k = 0; k < r->count && more; k++)
				more = fn(arg, r->name, r->name_len,
				    r->members[k].user, r);
			pthread_mutex_unlock(&m->nicks_mu);
			pthread_mutex_unlock(&r->mu);
		}
	pthread_mutex_unlock(&m->rooms_mu);
}

bool
model_room_exists(struct model *m, const char *name, size_t len)
{
	bool	 found;

	pthread_mutex_lock(&m->rooms_mu);
	found = room_find_locked(m, name, len) != NULL;
	pthread_mutex_unlock(&m->rooms_mu);
	return found;
}

size_t
model_who(struct model *m, struct room *r,
    bool (*fn)(void *arg, const char *nick, size_t len), void *arg)
{
	size_t	 i, n;

	pthread_mutex_lock(&r->mu);
	pthread_mutex_lock(&m->nicks_mu);
	n = r->count;
	if (fn(arg, NULL, n))
		for (i = 0; i < r->count; i++)
			if (!fn(arg, r->members[i].user->nick,
			    r->members[i].user->nick_len))
				break;
	pthread_mutex_unlock(&m->nicks_mu);
	pthread_mutex_unlock(&r->mu);
	return n;
}

size_t
model_rooms(struct model *m, bool (*fn)(void *arg, const char *name,
    size_t len, size_t members, const char *topic, size_t topic_len),
    void *arg)
{
	struct room	*r;
	size_t		 i, n;
	bool		 more = true;

	pthread_mutex_lock(&m->rooms_mu);
	n = m->nrooms;
	for (i = 0; i < m->nbuckets && more; i++)
		for (r = m->rooms[i]; r != NULL && more; r = r->hash_next) {
			pthread_mutex_lock(&r->mu);
			more = fn(arg, r->name, r->name_len, r->count,
			    r->topic, r->topic_len);
			pthread_mutex_unlock(&r->mu);
		}
	pthread_mutex_unlock(&m->rooms_mu);
	return n;
}

size_t
model_list(struct model *m, bool (*fn)(void *arg,
    const struct room_entry *e), void *arg)
{
	struct room_entry	 e;
	struct room		*r;
	size_t			 i, n;
	bool			 more = true;

	pthread_mutex_lock(&m->rooms_mu);
	n = m->nrooms;
	for (i = 0; i < m->nbuckets && more; i++)
		for (r = m->rooms[i]; r != NULL && more; r = r->hash_next) {
			pthread_mutex_lock(&r->mu);
			e.name = r->name;
			e.len = r->name_len;
			e.members = r->count;
			e.topic = r->topic;
			e.topic_len = r->topic_len;
			e.modes = r->modes;
			more = fn(arg, &e);
			pthread_mutex_unlock(&r->mu);
		}
	pthread_mutex_unlock(&m->rooms_mu);
	return n;
}

size_t
model_history(struct model *m, struct room *r, size_t n, struct event **out)
{
	size_t	 got;

	(void)m;
	pthread_mutex_lock(&r->mu);
	got = history_last(&r->hist, n, out);
	pthread_mutex_unlock(&r->mu);
	return got;
}

void
model_notice_all(struct model *m, const char *text, void *ctx)
{
	struct room	*r;
	struct event	*ev;
	uint64_t	 group = next_group(m);
	size_t		 i;

	pthread_mutex_lock(&m->rooms_mu);
	for (i = 0; i < m->nbuckets; i++)
		for (r = m->rooms[i]; r != NULL; r = r->hash_next) {
			if ((ev = room_event(r, EV_NOTICE, NULL, "", 0, text,
			    strlen(text), group)) == NULL)
				continue;
			pthread_mutex_lock(&r->mu);
			publish_locked(m, r, &ev, 1, NULL, ctx);
			pthread_mutex_unlock(&r->mu);
			event_unref(ev);
		}
	pthread_mutex_unlock(&m->rooms_mu);
}

/*
 * The database: what it holds becomes rooms with history, empty.
 */

static int
load_room(void *arg, const struct histdb_room *hr)
{
	struct model	*m = arg;
	struct room	*r;
	size_t		 i;

	/* Not a name this server could have made: leave it in the file. */
	if (room_name_check(hr->name, hr->name_len, ROOM_NAME_MAX_BYTES) !=
	    NULL)
		return 0;
	pthread_mutex_lock(&m->rooms_mu);
	r = room_find_locked(m, hr->name, hr->name_len);
	if (r == NULL && (r = room_new_locked(m, hr->name, hr->name_len)) ==
	    NULL) {
		if (hr->last_seq > m->seq_floor)
			m->seq_floor = hr->last_seq;
		pthread_mutex_unlock(&m->rooms_mu);
		return errno == ENOSPC ? 0 : -1;
	}
	r->empty_since = ++m->tick;
	pthread_mutex_unlock(&m->rooms_mu);
	/* Before any worker runs: the room's lock is for the record. */
	pthread_mutex_lock(&r->mu);
	for (i = 0; i < hr->n; i++)
		if (history_push(&r->hist, hr->events[i]) == -1)
			break;
	if (hr->last_seq > r->seq)
		r->seq = hr->last_seq;
	if (hr->topic_len > 0 && (r->topic = malloc(hr->topic_len + 1)) !=
	    NULL) {
		memcpy(r->topic, hr->topic, hr->topic_len);
		r->topic[hr->topic_len] = '\0';
		r->topic_len = hr->topic_len;
	}
	pthread_mutex_unlock(&r->mu);
	return i == hr->n ? 0 : -1;
}

int
model_attach_db(struct model *m, struct histdb *db)
{
	if (histdb_load(db, LIM(m, history), load_room, m) == -1)
		return -1;
	m->db = db;
	return 0;
}
