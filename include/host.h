/*
 * host.h - what the transport (conn.c) needs of the daemon it runs in,
 * and nothing more: the limits and counters it reads, the epoll set it
 * re-arms in, and the few things only the daemon can do with a
 * connection (bury it, park it, run it).  server.c is the one host;
 * conn.c never sees the rest of struct server, so the two do not
 * include each other.
 */
#ifndef CHATD_HOST_H
#define CHATD_HOST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct conn;
struct wakeset;

/* epoll data kinds: the first int of what an event points to. */
enum { EP_CONN = 2 };

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
	atomic_uint		 tls_handshake_timeout;
	atomic_size_t		 max_rooms;
	atomic_size_t		 max_rooms_per_user;
	atomic_size_t		 max_room_name;
	atomic_size_t		 max_topic;
	atomic_size_t		 history;
	atomic_size_t		 replay;
};

#define LIMIT(host, name) \
	atomic_load_explicit(&(host)->limits.name, memory_order_relaxed)

/* Counters for /stats, SIGUSR1 and --stats-interval. */
struct stats {
	atomic_uint_fast64_t	 messages;	/* chat lines relayed */
	atomic_uint_fast64_t	 bytes_in;
	atomic_uint_fast64_t	 bytes_out;
	atomic_uint_fast64_t	 too_slow;	/* clients cut off */
	atomic_uint_fast64_t	 connections;	/* accepted, ever */
	atomic_uint_fast64_t	 refused;	/* full, per-address limits */
};

struct host;

struct host_ops {
	/* A worker is done with a closed connection: free it once safe. */
	void	(*bury)(struct host *h, struct conn *c);
	/* Park c until its flood allowance refills. */
	void	(*throttle)(struct host *h, struct conn *c, uint64_t until_ms);
	/*
	 * Park c, a sender, until no recipient is behind.  False, and
	 * nothing parked, if no one is behind any more.
	 */
	bool	(*hold)(struct host *h, struct conn *c);
	/* No one is behind any more: hand every held sender to ws. */
	void	(*release_held)(struct host *h, struct wakeset *ws);
	/*
	 * Push the connections in ws onto the work queue, but for a few
	 * that this worker will run next itself (they stay in ws).
	 */
	void	(*wake)(struct host *h, struct wakeset *ws);
	/*
	 * c, owned by the caller, has work no epoll event will announce
	 * (input decrypted inside its TLS session): queue it behind the
	 * others.  The caller must not touch c after this.
	 */
	void	(*requeue)(struct host *h, struct conn *c);
};

struct host {
	const struct host_ops	*ops;
	struct limits		 limits;
	struct stats		 stats;
	int			 epfd;
	unsigned		 workers;
	atomic_bool		 stopping;	/* no more reads or accepts */
	/* Recipients behind (flow.h): the senders wait while there are any. */
	atomic_uint		 nbehind;
};

static inline bool
host_behind(struct host *h)
{
	return atomic_load_explicit(&h->nbehind, memory_order_relaxed) > 0;
}

#endif /* CHATD_HOST_H */
