/*
 * server.h - the daemon: listeners, the acceptor thread, the worker pool
 * and an orderly shutdown.
 *
 * The acceptor thread owns the listening sockets and one epoll set of
 * every client socket, armed with EPOLLONESHOT.  When a client socket is
 * ready it pushes the connection onto the bounded work queue; a fixed
 * pool of workers pops connections, serves what is ready and re-arms
 * them.  The pool serves work, not connections, so its size never caps
 * the number of clients.
 */
#ifndef CHATD_SERVER_H
#define CHATD_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "options.h"
#include "room.h"
#include "workq.h"

struct conn;
struct wakeset;

enum { EP_LISTENER = 1, EP_CONN, EP_WAKE };

struct listener {
	int		 ep_kind;	/* EP_LISTENER */
	int		 fd;
	char		 name[80];
};

struct server {
	struct options		 opt;
	struct room		*room;
	struct workq		*wq;
	int			 epfd;
	int			 wakefd;	/* eventfd: wakes the acceptor */
	int			 wake_kind;	/* EP_WAKE, epoll data for wakefd */

	struct listener		 listeners[OPTIONS_MAX_BINDS + 1];
	size_t			 nlisteners;
	unsigned		 port;		/* the TCP port actually bound */
	uint64_t		 accept_paused_until;

	pthread_t		 acceptor;
	pthread_t		*workers;
	size_t			 nworkers;

	atomic_size_t		 nclients;
	atomic_bool		 stopping;	/* no more reads or accepts */
	atomic_bool		 acceptor_exit;

	pthread_mutex_t		 conns_mu;
	struct conn		*conns;		/* every live connection */
	struct conn		*graveyard;	/* closed, freed by the acceptor */
	struct conn		*throttled;	/* waiting for the flood throttle */
};

/* Bind the listeners and start the threads.  Returns 0 or -1 (logged). */
int	server_start(struct server *srv, const struct options *opt);

/* The shutdown notice, a flush of at most 2 s, then close and free all. */
void	server_stop(struct server *srv);

/* Called by a worker: hand a closed connection to the acceptor to free. */
void	server_bury(struct server *srv, struct conn *c);

/* Park c until its flood allowance refills. */
void	server_throttle(struct server *srv, struct conn *c, uint64_t until_ms);

/* Push every connection in ws onto the work queue and empty ws. */
void	server_wake(struct server *srv, struct wakeset *ws);

#endif /* CHATD_SERVER_H */
