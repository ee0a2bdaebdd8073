/*
 * remote.c - other nodes' users, in a hash by (node, user id): see
 * remote.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_COMPONENT	"cluster"
#include "clroster.h"
#include "log.h"
#include "model.h"
#include "proto.h"
#include "remote.h"

#define BUCKETS		1024

struct remote {
	struct user	 user;		/* first: the model's view */
	char		 node[CLW_NODE_MAX + 1];
	uint64_t	 uid;
	bool		 listed;	/* in the roster being applied */
	struct remote	*next;
};

/* One user in one room, as a roster's part said. */
struct held {
	uint64_t	 uid;
	size_t		 nick_len;
	size_t		 room_len;
	char		 nick[NICK_MAX_BYTES];
	char		 room[ROOM_NAME_MAX_BYTES];
};

/* A node's roster whose parts are coming in, in order. */
struct pending {
	char		 node[CLW_NODE_MAX + 1];
	uint64_t	 number;
	size_t		 next_part;
	size_t		 parts;
	struct held	*held;
	size_t		 nheld;
	size_t		 cap;
	bool		 broken;	/* out of memory: dropped at its end */
	struct pending	*next;
};

struct remotes {
	char		 self[CLW_NODE_MAX + 1];
	size_t		 count;
	struct pending	*pending;
	struct remote	*buckets[BUCKETS];
};

/* The model tells them nothing: they are told on their own node. */
static void
remote_deliver(struct user *u, struct fanout *f, void *ctx)
{
}

static void
remote_joined(struct user *u, const struct join_info *ji, void *ctx)
{
}

static const struct frontend remote_frontend = {
	.name = "remote",
	.deliver = remote_deliver,
	.joined = remote_joined,
};

struct remotes *
remotes_new(const char *self)
{
	struct remotes	*rs;

	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		return NULL;
	snprintf(rs->self, sizeof(rs->self), "%s", self);
	return rs;
}

static size_t
bucket_of(const char *node, size_t len, uint64_t uid)
{
	uint64_t	h = 1469598103934665603ULL ^ uid;
	size_t		i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)node[i]) * 1099511628211ULL;
	return (size_t)(h % BUCKETS);
}

static struct remote **
find(struct remotes *rs, const char *node, size_t len, uint64_t uid)
{
	struct remote	**pp = &rs->buckets[bucket_of(node, len, uid)];

	for (; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->uid == uid && strlen((*pp)->node) == len &&
		    memcmp((*pp)->node, node, len) == 0)
			break;
	return pp;
}

static struct remote *
add(struct remotes *rs, const struct clw_msg *cm)
{
	struct remote	*r;

	if (cm->nick_len > NICK_MAX_BYTES ||
	    (r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->user.fe = &remote_frontend;
	memcpy(r->user.nick, cm->nick, cm->nick_len);
	r->user.nick_len = cm->nick_len;
	memcpy(r->node, cm->node, cm->node_len);
	r->uid = cm->uid;
	r->next = rs->buckets[bucket_of(cm->node, cm->node_len, cm->uid)];
	rs->buckets[bucket_of(cm->node, cm->node_len, cm->uid)] = r;
	rs->count++;
	return r;
}

/* Unlink *pp and free it, after it left every room. */
static void
drop(struct remotes *rs, struct model *m, struct remote **pp,
    const char *reason, size_t reason_len, void *ctx)
{
	struct remote	*r = *pp;

	*pp = r->next;
	if (ctx != NULL)
		model_disconnect(m, &r->user, reason, reason_len, ctx);
	else
		model_forget(m, &r->user);
	rs->count--;
	free(r);
}

static void
node_down(struct remotes *rs, struct model *m, const char *node,
    size_t len, void *ctx)
{
	struct remote	**pp;
	char		 reason[CLW_NODE_MAX + 32];
	size_t		 i, gone = 0;
	int		 n;

	n = snprintf(reason, sizeof(reason), "node %.*s is gone", (int)len,
	    node);
	for (i = 0; i < BUCKETS; i++) {
		pp = &rs->buckets[i];
		while (*pp != NULL) {
			if (strlen((*pp)->node) == len &&
			    memcmp((*pp)->node, node, len) == 0) {
				drop(rs, m, pp, reason, (size_t)n, ctx);
				gone++;
			} else
				pp = &(*pp)->next;
		}
	}
	log_info("node %.*s is gone: %zu of its users left", (int)len, node,
	    gone);
}

void
remotes_apply(struct remotes *rs, struct model *m, const struct clw_msg *cm,
    void *ctx)
{
	struct remote	**pp, *r;
	struct room	*room;
	const char	*why;

	if (cm->kind == CLW_NODEDOWN) {
		/* Our own old self, buried at our start: nothing of it here. */
		if (strlen(rs->self) != cm->text_len ||
		    memcmp(rs->self, cm->text, cm->text_len) != 0)
			node_down(rs, m, cm->text, cm->text_len, ctx);
		return;
	}
	if (strlen(rs->self) == cm->node_len &&
	    memcmp(rs->self, cm->node, cm->node_len) == 0)
		return;		/* applied when it happened */
	pp = find(rs, cm->node, cm->node_len, cm->uid);
	r = *pp;
	switch (cm->kind) {
	case CLW_JOIN:
		if (r == NULL && (r = add(rs, cm)) == NULL)
			return;
		if (model_join(m, &r->user, cm->room, cm->room_len, 0, &room,
		    &why, ctx) != M_OK && r->user.nrooms == 0)
			drop(rs, m, find(rs, cm->node, cm->node_len, cm->uid),
			    NULL, 0, NULL);
		break;
	case CLW_PART:
		if (r == NULL ||
		    (room = model_joined(&r->user, cm->room, cm->room_len)) ==
		    NULL)
			return;
		model_part(m, &r->user, room, cm->text, cm->text_len, ctx);
		if (r->user.nrooms == 0)
			drop(rs, m, pp, NULL, 0, NULL);
		break;
	case CLW_QUIT:
		/* One per room was sent: the first takes the user away. */
		if (r != NULL)
			drop(rs, m, pp, cm->text, cm->text_len, ctx);
		break;
	case CLW_NICK:
		if (r != NULL)
			model_nick(m, &r->user, cm->text, cm->text_len, &why,
			    ctx);
		break;
	default:
		break;
	}
}

size_t
remotes_count(const struct remotes *rs)
{
	return rs->count;
}

static void
pending_free(struct pending *p)
{
	free(p->held);
	free(p);
}

/* node's roster under way, unlinked from the list. */
static struct pending *
pending_take(struct remotes *rs, const char *node, size_t len)
{
	struct pending	**pp, *p;

	for (pp = &rs->pending; (p = *pp) != NULL; pp = &p->next)
		if (strlen(p->node) == len && memcmp(p->node, node, len) == 0) {
			*pp = p->next;
			p->next = NULL;
			return p;
		}
	return NULL;
}

static void
hold(void *arg, const struct clroster_entry *e)
{
	struct pending	*p = arg;
	struct held	*h;
	size_t		 cap;

	if (p->broken)
		return;
	if (p->nheld == p->cap) {
		cap = p->cap == 0 ? 16 : p->cap * 2;
		if ((h = reallocarray(p->held, cap, sizeof(*h))) == NULL) {
			p->broken = true;
			return;
		}
		p->held = h;
		p->cap = cap;
	}
	h = &p->held[p->nheld++];
	h->uid = e->uid;
	h->nick_len = e->nick_len;
	memcpy(h->nick, e->nick, e->nick_len);
	h->room_len = e->room_len;
	memcpy(h->room, e->room, e->room_len);
}

static int
by_uid(const void *a, const void *b)
{
	const struct held	*x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static bool
of_node(const struct remote *r, const char *node, size_t len)
{
	return strlen(r->node) == len && memcmp(r->node, node, len) == 0;
}

/*
 * One user of the roster: known (renamed if its nick moved on), in the
 * rooms listed, and out of those not listed.  Told to the rooms here as
 * joins, renames and parts: they happened, only nobody here heard.
 */
static bool
restate_user(struct remotes *rs, struct model *m, const char *node,
    size_t len, const struct held *h, size_t n, void *ctx)
{
	struct clw_msg	 cm;
	struct remote	*r;
	struct room	*room, *listed[64];
	const char	*why, *name;
	size_t		 i, k, nlisted = 0, name_len;
	bool		 keep, known, overflow = false;

	memset(&cm, 0, sizeof(cm));
	cm.node = node;
	cm.node_len = len;
	cm.uid = h[0].uid;
	cm.nick = h[0].nick;
	cm.nick_len = h[0].nick_len;
	known = (r = *find(rs, node, len, h[0].uid)) != NULL;
	if (r == NULL && (r = add(rs, &cm)) == NULL)
		return false;
	r->listed = true;
	if (r->user.nick_len != h[0].nick_len ||
	    memcmp(r->user.nick, h[0].nick, h[0].nick_len) != 0)
		model_nick(m, &r->user, h[0].nick, h[0].nick_len, &why, ctx);
	for (i = 0; i < n; i++) {
		if ((room = model_joined(&r->user, h[i].room,
		    h[i].room_len)) == NULL &&
		    model_join(m, &r->user, h[i].room, h[i].room_len, 0,
		    &room, &why, ctx) != M_OK)
			room = NULL;
		if (room == NULL)
			continue;
		if (nlisted < sizeof(listed) / sizeof(*listed))
			listed[nlisted++] = room;
		else
			overflow = true;
	}
	/* Too many to tell which to leave: keep them, never a wrong part. */
	for (k = overflow ? 0 : r->user.nrooms; k > 0; k--) {
		/* A part may also reap a kicked membership: look again. */
		if (k > r->user.nrooms)
			continue;
		room = r->user.rooms[k - 1]->room;
		for (i = 0, keep = false; i < nlisted && !keep; i++)
			keep = listed[i] == room;
		if (!keep) {
			name = room_name(room, &name_len);
			log_debug("roster of %.*s: %s left %.*s", (int)len,
			    node, r->user.nick, (int)name_len, name);
			model_part(m, &r->user, room, NULL, 0, ctx);
		}
	}
	if (r->user.nrooms == 0)
		drop(rs, m, find(rs, node, len, r->uid), NULL, 0, NULL);
	return !known;
}

/*
 * node's whole roster: it replaces what was known of node's users here.
 * Those it does not list left, told with a reason.
 */
static void
restate_node(struct remotes *rs, struct model *m, const char *node,
    size_t len, struct held *h, size_t n, void *ctx)
{
	struct remote	**pp;
	char		 reason[CLW_NODE_MAX + 32];
	size_t		 i, j, users = 0, added = 0, gone = 0;
	int		 rlen;

	for (i = 0; i < BUCKETS; i++)
		for (pp = &rs->buckets[i]; *pp != NULL; pp = &(*pp)->next)
			if (of_node(*pp, node, len))
				(*pp)->listed = false;
	if (n > 0)	/* h may be NULL then, and qsort() wants none */
		qsort(h, n, sizeof(*h), by_uid);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && h[j].uid == h[i].uid; j++)
			;
		users++;
		if (restate_user(rs, m, node, len, &h[i], j - i, ctx))
			added++;
	}
	rlen = snprintf(reason, sizeof(reason), "gone from node %.*s",
	    (int)len, node);
	for (i = 0; i < BUCKETS; i++) {
		pp = &rs->buckets[i];
		while (*pp != NULL) {
			if (of_node(*pp, node, len) && !(*pp)->listed) {
				drop(rs, m, pp, reason, (size_t)rlen, ctx);
				gone++;
			} else
				pp = &(*pp)->next;
		}
	}
	log_info("roster of node %.*s: %zu users, %zu new here, %zu gone",
	    (int)len, node, users, added, gone);
}

void
remotes_roster(struct remotes *rs, struct model *m, const struct clw_msg *cm,
    void *ctx)
{
	struct clroster_head	 head;
	struct pending		*p;

	if (strlen(rs->self) == cm->node_len &&
	    memcmp(rs->self, cm->node, cm->node_len) == 0)
		return;		/* ours: we know our users */
	if (clroster_parse(cm->text, cm->text_len, &head, NULL, NULL) != 0)
		return;		/* clw_decode() checked it already */
	p = pending_take(rs, cm->node, cm->node_len);
	if (head.part == 0) {
		if (p == NULL && (p = calloc(1, sizeof(*p))) == NULL) {
			log_error("out of memory: a roster of node %.*s lost",
			    (int)cm->node_len, cm->node);
			return;
		}
		memcpy(p->node, cm->node, cm->node_len);
		p->node[cm->node_len] = '\0';
		p->number = cm->uid;
		p->parts = head.parts;
		p->next_part = 0;
		p->nheld = 0;
		p->broken = false;
	} else if (p == NULL || p->number != cm->uid ||
	    p->parts != head.parts || p->next_part != head.part) {
		/* Its start left the stream, or a part is missing. */
		if (p != NULL)
			pending_free(p);
		return;
	}
	clroster_parse(cm->text, cm->text_len, NULL, hold, p);
	if (++p->next_part < p->parts) {
		p->next = rs->pending;
		rs->pending = p;
		return;
	}
	if (p->broken)
		log_error("out of memory: a roster of node %s not applied",
		    p->node);
	else
		restate_node(rs, m, cm->node, cm->node_len, p->held, p->nheld,
		    ctx);
	pending_free(p);
}

void
remotes_free(struct remotes *rs, struct model *m)
{
	struct pending	*p;
	size_t		 i;

	if (rs == NULL)
		return;
	while ((p = rs->pending) != NULL) {
		rs->pending = p->next;
		pending_free(p);
	}
	for (i = 0; i < BUCKETS; i++)
		while (rs->buckets[i] != NULL)
			drop(rs, m, &rs->buckets[i], NULL, 0, NULL);
	free(rs);
}
