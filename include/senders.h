/*
 * senders.h - --cluster: the clients whose lines may still fail.  A
 * line is published with its sender's user id as the cookie, and NATS's
 * refusal comes back later, on the acceptor, with that cookie alone
 * (cluster.h, CI_PUB_FAILED).  Each front-end keeps its registered
 * users here until it frees the connection, so one found under the
 * lock has a live connection, and tells its client in its own words:
 * no line is lost without one.
 */
#ifndef CHATD_SENDERS_H
#define CHATD_SENDERS_H

#include <stdint.h>

struct conn;
struct wakeset;

struct sender {
	uint64_t	 id;		/* the user's id, set before adding */
	struct conn	*conn;
	/* Queue the client's notice (conn_deliver(), from any thread). */
	void		(*tell)(struct conn *c, const char *text,
			    struct wakeset *ws);
	struct sender	*next, *prev;	/* private */
	int		 listed;	/* private */
};

void	senders_add(struct sender *s);
/* Idempotent: a sender never added is left alone. */
void	senders_remove(struct sender *s);

/*
 * NATS did not store a line of the user with this id: tell it, if it is
 * still connected.  From any thread.
 */
void	senders_failed(uint64_t id, struct wakeset *ws);

#endif /* CHATD_SENDERS_H */
