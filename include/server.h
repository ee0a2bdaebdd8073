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
#include "host.h"
#include "iplimit.h"
#include "msg.h"
#include "options.h"
#include "workq.h"

struct cluster;
struct conn;
struct event;
struct histdb;
struct model;
struct remotes;
struct restate;
struct room;
struct tls_ctx;
struct user;
struct wakeset;
struct worker;

/* EP_CONN is host.h's. */
enum { EP_LISTENER = 1, EP_WAKE = 3, EP_CLUSTER = 4 };

/*
 * One listening socket and what its connections speak.  kind names the
 * listeners that are not the plaintext line protocol in the log
 * ("listening for KIND on ADDR"); NULL for that one, whose log line
 * ("listening on ADDR") the tests read for the port.
 */
struct listener {
	int				 ep_kind;	/* EP_LISTENER */
	int				 fd;
	const struct conn_proto		*proto;
	const char			*kind;
	bool				 tls;	/* a TLS handshake first */
	char				 name[80];
};

/* Every kind of listener, on each bind address, and the unix socket. */
#define LISTENER_KINDS	4

/* The message of the day: lines built once, shared by every join. */
struct motd {
	atomic_uint	 refs;
	size_t		 count;
	struct msg	*lines[];
};

struct server {
	/* First: what a connection sees of the server (host.h). */
	struct host		 host;
	struct options		 opt;		/* as at start, or last reload */
	uint64_t		 started_ms;
	size_t			 capacity;	/* max-clients at start: a ceiling */

	struct model		*model;
	struct histdb		*histdb;	/* NULL without --history-db */
	/*
	 * NULL without --cluster.  Its eventfd is in the acceptor's epoll
	 * set: the acceptor hands the stream's events to the model, which
	 * wakes their recipients' workers through cluster_ws.
	 */
	struct cluster		*cluster;
	int			 cluster_kind;	/* EP_CLUSTER */
	struct wakeset		*cluster_ws;	/* the acceptor's */
	struct remotes		*remotes;	/* the acceptor's */
	/*
	 * This node's lines published and not yet back off the stream (or
	 * failed).  Past CLUSTER_INFLIGHT_HIGH the cluster counts as one
	 * recipient behind, so the senders wait instead of racing the
	 * stream's per-room limit, which would drop what no node read yet.
	 */
	atomic_size_t		 cluster_inflight;
	atomic_bool		 cluster_behind;
	struct restate		*restate;	/* this node's roster */
	bool			 cluster_ready;	/* caught up: live from now */
	struct workq		*wq;
	int			 wakefd;	/* eventfd: wakes the acceptor */
	int			 wake_kind;	/* EP_WAKE, epoll data for wakefd */

	struct listener		 listeners[LISTENER_KINDS * OPTIONS_MAX_BINDS + 1];
	size_t			 nlisteners;
	unsigned		 port;		/* the TCP port actually bound */
	unsigned		 tls_port;	/* the same for --tls-port, or 0 */

	/*
	 * The TLS context new connections get; a reload swaps it under
	 * tls_mu, and each session keeps a reference to its own.
	 */
	pthread_mutex_t		 tls_mu;
	struct tls_ctx		*tls_ctx;	/* NULL without TLS listeners */

	/* The password clients must send, NULL if none; a reload swaps it. */
	pthread_mutex_t		 auth_mu;
	char			*password;
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
	struct flow_budget	 hold_budget;	/* the acceptor's */
	uint64_t		 next_flow_ms;	/* the acceptor's */
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

/*
 * Publish the chat lines w has batched for u (w->batch, all to
 * w->batch_room) and empty the batch; *n is how many there were.
 * model_say()'s result: M_UNREACHABLE means none was sent (--cluster).
 */
int	server_say_batch(struct worker *w, struct user *u, size_t *n);

/*
 * Add ev, a chat line of bytes rendered bytes to room r, to w's batch
 * (the caller flushed it first if it was another room's).  True once
 * the batch is full, WORKER_BATCH lines or flow_batch_bytes(): the
 * caller flushes it now.
 */
bool	server_batch_add(struct worker *w, struct room *r, struct event *ev,
	    size_t bytes);

/*
 * u, c's user, leaves every room, the others told why: the kill reason,
 * else the client's own quit text (which goes to the rooms, never to
 * the log), else what the transport said (c->leave_reason).
 */
void	server_leave(struct worker *w, struct conn *c, struct user *u,
	    const char *kill_reason, const char *quit, size_t quit_len);

/* One line of figures for /stats and the log. */
void	server_stats_line(struct server *srv, char *buf, size_t len);

/* The MOTD for a joining client, with a reference; NULL if none. */
struct motd *server_motd(struct server *srv);
void	motd_unref(struct motd *m);

/* The server a connection's host is (host.h: it is the first member). */
static inline struct server *
server_of(struct host *h)
{
	return (struct server *)(void *)h;
}

/*
 * Whether clients must send a password, and whether given is it
 * (auth.h: in constant time).
 */
bool	server_password_required(struct server *srv);
bool	server_password_ok(struct server *srv, const char *given, size_t len);
/*
 * c sent a wrong one and was told so: log it (rate-limited) and close
 * c after AUTH_FAIL_DELAY_MS, reading nothing more from it.
 */
void	server_password_refused(struct conn *c);

/* Take c off the held senders, if it is there (it is going). */
void	server_unhold(struct server *srv, struct conn *c);

/* The host_ops of a server (for a server built by hand, as the fuzzer's). */
extern const struct host_ops server_host_ops;

#endif /* CHATD_SERVER_H */
