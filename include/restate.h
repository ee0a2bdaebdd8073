/*
 * restate.h - --cluster: this node states its roster (clroster.h) on the
 * stream, so that the other nodes heal what they missed of its users:
 * joins, parts, renames and quits made while NATS was away, and users
 * whose joins have left the stream before a node started.
 *
 * Promises:
 *   - restate_told() publishes a local user's join, part, quit or rename
 *     under the lock that a roster is built and published under.  A
 *     join or rename is told after the model made it, so every change
 *     on the stream before a roster is in that roster, and one after it
 *     is newer.
 *   - A part or quit is told before the model lets the member go
 *     (model.c).  Between the two, a roster leaves that member out, so
 *     that it never brings back a member whose leave is on the stream.
 *   - restate_publish() never blocks on the network but for its nick
 *     re-claims (cluster.h's bounded claims), made only when asked: the
 *     node was declared dead, its claims released.
 * The acceptor owns it; restate_told() is called from the workers.
 */
#ifndef CHATD_RESTATE_H
#define CHATD_RESTATE_H

#include <stdbool.h>

#include "clwire.h"

struct cluster;
struct model;
struct room;
struct user;
struct restate;

/* NULL on ENOMEM. */
struct restate	*restate_new(struct model *m, struct cluster *cl);
void		 restate_free(struct restate *rs);

/*
 * Publish cm (CLW_JOIN, CLW_PART, CLW_QUIT or CLW_NICK of u, local, in
 * r): cluster_publish()'s result.
 */
int		 restate_told(struct restate *rs, struct clw_msg *cm,
		    const struct user *u, const struct room *r);

/*
 * Build this node's roster and publish it, after claiming its users'
 * chosen nicks again if reclaim (a nick now someone else's is logged).
 * why goes to the log.  0, or -1 if a part could not be published.
 */
int		 restate_publish(struct restate *rs, bool reclaim,
		    const char *why);

#endif /* CHATD_RESTATE_H */
