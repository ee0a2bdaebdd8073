/*
 * remote.c - other nodes' users, in a hash by (node, user id): see
 * remote.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_COMPONENT	"cluster"
#include "log.h"
#include "model.h"
#include "proto.h"
#include "remote.h"

#define BUCKETS		1024

struct remote {
	struct user	 user;		/* first: the model's view */
	char		 node[CLW_NODE_MAX + 1];
	uint64_t	 uid;
	struct remote	*next;
};

struct remotes {
	char		 self[CLW_NODE_MAX + 1];
	size_t		 count;
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

void
remotes_free(struct remotes *rs, struct model *m)
{
	size_t	i;

	if (rs == NULL)
		return;
	for (i = 0; i < BUCKETS; i++)
		while (rs->buckets[i] != NULL)
			drop(rs, m, &rs->buckets[i], NULL, 0, NULL);
	free(rs);
}
