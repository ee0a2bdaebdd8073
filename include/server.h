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

#include "flow.h"
#include "iplimit.h"
#include "msg.h"
#include "options.h"
#include "workq.h"

struct conn;
struct histdb;
struct model;
struct wakeset;

enum { EP_LISTENER = 1, EP_CONN, EP_WAKE };

struct listener {
	int		 ep_kind;	/* EP_LISTENER */
	int		 fd;
	char		 name[80];
};

/*
 * The limits a reload may change while workers read them: each is read
 * with a relaxed atomic load, so a reload never races a worker.
 */
struct limits {
	atomic_size_t		 max_clients;
	atomic_size_t		 max_line;
	atomic_size_t		 sendq;
	atomic_uint		 slow_timeout;
	atomic_uint		 rate;
	atomic_uint		 burst;
	atomic_uint		 max_per_ip;
	atomic_uint		 connect_rate;
	atomic_uint		 connect_burst;
	atomic_bool		 limit_loopback;
	atomic_uint		 idle_timeout;
	atomic_uint		 keepalive;
	atomic_size_t		 max_rooms;
	atomic_size_t		 max_rooms_per_user;
	atomic_size_t		 max_room_name;
	atomic_size_t		 max_topic;
	atomic_size_t		 history;
	atomic_size_t		 replay;
};

#define LIMIT(srv, name) \
	atomic_load_explicit(&(srv)->limits.name, memory_order_relaxed)

/* Counters for /stats, SIGUSR1 and --stats-interval. */
struct stats {
	atomic_uint_fast64_t	 messages;	/* chat lines relayed */
	atomic_uint_fast64_t	 bytes_in;
	atomic_uint_fast64_t	 bytes_out;
	atomic_uint_fast64_t	 too_slow;	/* clients cut off */
	atomic_uint_fast64_t	 connections;	/* accepted, ever */
	atomic_uint_fast64_t	 refused;	/* full, per-address limits */
};

/* The message of the day: lines built once, shared by every join. */
struct motd {
	atomic_uint	 refs;
	size_t		 count;
	struct msg	*lines[];
};

struct server {
	struct options		 opt;		/* as at start, or last reload */
	struct limits		 limits;
	struct stats		 stats;
	uint64_t		 started_ms;
	size_t			 capacity;	/* max-clients at start: a ceiling */

	struct model		*model;
	struct histdb		*histdb;	/* NULL without --history-db */
	struct workq		*wq;
	int			 epfd;
	int			 wakefd;	/* eventfd: wakes the acceptor */
	int			 wake_kind;	/* EP_WAKE, epoll data for wakefd */

	struct listener		 listeners[OPTIONS_MAX_BINDS + 1];
	size_t			 nlisteners;
	unsigned		 port;		/* the TCP port actually bound */
	uint64_t		 accept_paused_until;

	/* The acceptor's alone. */
	struct iplimit		*iplimit;
	uint64_t		 next_tick_ms;	/* once a second: sweeps */
	uint64_t		 refusals_since_ms;
	unsigned		 refusals_logged;	/* in this second */
	unsigned		 refusals_unlogged;

	pthread_t		 acceptor;
	bool			 acceptor_started;
	pthread_t		*workers;
	size_t			 nworkers;

	atomic_size_t		 nclients;
	/* Recipients behind (flow.h): the senders wait while there are any. */
	atomic_uint		 nbehind;
	struct flow_budget	 hold_budget;	/* the acceptor's */
	uint64_t		 next_flow_ms;	/* the acceptor's */
	atomic_bool		 stopping;	/* no more reads or accepts */
	atomic_bool		 acceptor_exit;

	pthread_mutex_t		 motd_mu;
	struct motd		*motd;		/* NULL if none */

	pthread_mutex_t		 conns_mu;
	struct conn		*conns;		/* every live connection */
	struct conn		*graveyard;	/* closed, freed by the acceptor */
	struct conn		*throttled;	/* waiting for the flood throttle */
	struct conn		*held;		/* waiting for no one behind */
};

/*
 * Set up and bind every listener; no thread runs yet, so the caller may
 * still fork (--daemon) or drop privileges (--user).  Returns 0 or -1
 * (logged).
 */
int	server_listen(struct server *srv, const struct options *opt);
/* Start the acceptor and the workers.  Returns 0 or -1 (logged). */
int	server_run(struct server *srv);

/* The shutdown notice, a flush of at most 2 s, then close and free all. */
void	server_stop(struct server *srv);

/*
 * Apply reloaded settings: limits, the MOTD and the log level.  Settings
 * that need a restart are logged and kept.  Returns 0, or -1 if the new
 * MOTD could not be read (everything old stays then).
 */
int	server_reload(struct server *srv, const struct options *opt);

/* One line of figures for /stats and the log. */
void	server_stats_line(struct server *srv, char *buf, size_t len);

/* The MOTD for a joining client, with a reference; NULL if none. */
struct motd *server_motd(struct server *srv);
void	motd_unref(struct motd *m);

/* Called by a worker: hand a closed connection to the acceptor to free. */
void	server_bury(struct server *srv, struct conn *c);

/* Park c until its flood allowance refills. */
void	server_throttle(struct server *srv, struct conn *c, uint64_t until_ms);

/*
 * Park c, a sender, until no recipient is behind.  Returns false, and
 * parks nothing, if no one is behind any more.
 */
bool	server_hold(struct server *srv, struct conn *c);

/* Take c off the held senders, if it is there (it is going). */
void	server_unhold(struct server *srv, struct conn *c);

/* No one is behind any more: hand every held sender to ws, to run. */
void	server_release_held(struct server *srv, struct wakeset *ws);

static inline bool
server_behind(struct server *srv)
{
	return atomic_load_explicit(&srv->nbehind, memory_order_relaxed) > 0;
}

/* Push every connection in ws onto the work queue and empty ws. */
void	server_wake(struct server *srv, struct wakeset *ws);

#endif /* CHATD_SERVER_H */
