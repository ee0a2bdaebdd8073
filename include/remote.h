/*
 * remote.h - the users of the other nodes of a cluster (--cluster), as
 * members of this node's rooms, so that /who lists them and their
 * joins, leaves, renames and quits are announced here.
 *
 * Each is a struct user of the model with a front-end that delivers
 * nothing, owned by the one thread that reads the stream (the
 * acceptor), which alone calls these functions.  They are not in the
 * nick table: the cluster's claims keep every nick unique, guest names
 * included.  A node's own events are ignored (applied when
 * they happened), and a node announced dead takes its users with it.
 */
#ifndef CHATD_REMOTE_H
#define CHATD_REMOTE_H

#include "clwire.h"

struct model;
struct remotes;

/* NULL on ENOMEM.  self is this node's name. */
struct remotes	*remotes_new(const char *self);
/* Every remote user leaves without a word, then the table is freed. */
void		 remotes_free(struct remotes *rs, struct model *m);

/* Apply a join, part, quit, nick or nodedown off the stream. */
void		 remotes_apply(struct remotes *rs, struct model *m,
		    const struct clw_msg *cm, void *ctx);

/*
 * A part of another node's roster (CLW_ROSTER, clroster.h).  Parts are
 * gathered in order; at the last one the roster replaces what was known
 * of that node's users: the unknown are added and join their rooms, a
 * moved nick is a rename, rooms and users it does not list are left.
 * Each is told here as it would have been live (joins, renames, parts,
 * and "gone from node N" for a user): it did happen, unheard.  A roster
 * whose first parts are missing (left the stream) is not applied.
 */
void		 remotes_roster(struct remotes *rs, struct model *m,
		    const struct clw_msg *cm, void *ctx);

/* Remote users known now. */
size_t		 remotes_count(const struct remotes *rs);

#endif /* CHATD_REMOTE_H */
