/*
 * conn.h - one client connection and the work a worker does for it.
 *
 * Ownership: a connection is run by at most one thread at a time.  The
 * "owned" flag, under the connection's mutex, is the token: whoever sets
 * it (the acceptor on an epoll event, or a worker that queued lines for
 * it) pushes the connection onto the work queue exactly once, and the
 * worker that pops it runs it until no event is pending, then clears the
 * flag.  Only the owner reads the socket, writes it, re-arms it in epoll
 * or closes it, so no worker ever waits for another and no lock is held
 * across a syscall.  A connection is queued at most once, so a work
 * queue of max-clients entries never fills.
 *
 * Other threads touch a connection only through conn_deliver() (append
 * to its send queue), conn_schedule() (note an event) and, for the
 * acceptor's back-pressure sweep, conn_stall() (read its flow state).
 * The flow state (behind, out_blocked, the stall clock) is under mu,
 * and the count of connections behind is the server's (flow.h).
 */
#ifndef CHATD_CONN_H
#define CHATD_CONN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "event.h"
#include "flow.h"
#include "framer.h"
#include "host.h"
#include "iplimit.h"
#include "sendq.h"

struct conn;
struct motd;
struct tls_conn;
struct room;
struct server;
struct worker;

/*
 * The protocol a connection speaks (line.h; IRC next): the transport
 * frames lines and calls these, in the connection's owner.
 */
struct conn_proto {
	const char	*name;
	/*
	 * The framer's limit is --max-line, but never below this: a
	 * protocol's own maximum line must fit whatever --max-line says.
	 */
	size_t		 min_line;
	/* Just accepted: greet and register.  0, or -1 on ENOMEM. */
	int		(*open)(struct worker *w, struct conn *c);
	/* One complete line: the bytes it made chatd relay (flood). */
	size_t		(*line)(struct worker *w, struct conn *c,
			    const char *line, size_t len);
	/* An error line to the client alone ("line too long ..."). */
	void		(*error)(struct worker *w, struct conn *c,
			    const char *text);
	/* Send what the lines so far have batched. */
	void		(*flush)(struct worker *w, struct conn *c);
	/* Leave the chat, the others told why (NULL: the client's reason). */
	void		(*leave)(struct worker *w, struct conn *c,
			    const char *kill_reason);
	void		(*log_close)(struct conn *c, const char *why);
	const char	*(*nick)(struct conn *c);
	void		(*free)(struct conn *c);
};

/* Events noted on a connection, handled by its owner. */
#define CONN_EV_NEW	0x01	/* just accepted: join the room */
#define CONN_EV_IN	0x02	/* epoll: readable (and now disarmed) */
#define CONN_EV_OUT	0x04	/* epoll: writable (and now disarmed) */
#define CONN_EV_FLUSH	0x08	/* lines were queued */
#define CONN_EV_RESUME	0x10	/* the flood throttle expired */
#define CONN_EV_KILL	0x20	/* cut off: see kill_reason */
#define CONN_EV_IDLE	0x40	/* the acceptor found it idle too long */
#define CONN_EV_GO	0x80	/* no one is behind: read again */
#define CONN_EV_SLOW	0x100	/* the acceptor found it stalled: cut it */
#define CONN_EV_TLS	0x200	/* input waits inside the TLS session */

enum conn_kill {
	KILL_NONE,
	KILL_TOO_SLOW,
	KILL_NOMEM,
	KILL_SHUTDOWN
};

/* A set of connections a thread made runnable, pushed in one go. */
struct wakeset {
	struct conn	**conns;
	size_t		  count;
	size_t		  cap;
};

/*
 * Consecutive chat lines of one read go to the room together: one room
 * lock and one send-queue lock per member for up to this many lines.
 */
#define WORKER_BATCH	64

/* Per-worker scratch space, so the hot path allocates nothing. */
struct worker {
	struct host	*host;
	struct server	*srv;		/* the front-ends', opaque here */
	struct wakeset	 wake;
	/* Chat lines of the connection being run, all to one room. */
	struct event	*batch[WORKER_BATCH];
	struct room	*batch_room;
	size_t		 nbatch;
	size_t		 batch_bytes;
	char		 rbuf[64 * 1024];
	struct iovec	 iov[1024];
	/* SSL_write takes one buffer: the queue's head, one record of it. */
	char		 wbuf[16 * 1024];
};

struct conn {
	int			 ep_kind;	/* EP_CONN, for the epoll loop */
	const struct conn_proto	*proto;
	void			*session;	/* the protocol's */
	struct motd		*motd;		/* while it opens */
	struct host		*host;
	int			 fd;
	char			 addr[64];
	struct ipkey		 ipkey;		/* counted under it, if ip_counted */
	bool			 ip_counted;
	/* When the last complete line came in; the acceptor reads it. */
	atomic_uint_fast64_t	 last_line_ms;
	/*
	 * TLS: the session (NULL for plaintext), set before the connection
	 * is first run and freed with it.  The acceptor reads tls_open and
	 * accepted_ms to time out handshakes that never finish.
	 */
	struct tls_conn		*tls;
	atomic_bool		 tls_open;
	uint64_t		 accepted_ms;

	/* Guarded by mu. */
	pthread_mutex_t		 mu;
	struct sendq		 sq;
	bool			 push_after;	/* conn_unlock() must queue it */
	unsigned		 pending;	/* CONN_EV_* */
	enum conn_kill		 kill_reason;
	bool			 owned;
	bool			 dead;
	/*
	 * The socket took no more: its EPOLLOUT event, not each new line,
	 * schedules the next flush, so a client that does not read costs
	 * nothing per line until it is cut off.
	 */
	bool			 out_blocked;
	/* Its queue is past the high-water mark: the senders wait (flow.h). */
	bool			 behind;
	struct flow_stall	 stall;		/* blocked while behind */

	/* The owner's alone. */
	struct framer		 fr;
	char			*stash;		/* input held back by the throttle */
	size_t			 stash_len;
	double			 tokens;
	uint64_t		 refill_ms;
	uint32_t		 armed;		/* epoll events armed, 0 if none */
	bool			 want_out;
	bool			 throttled;
	bool			 held;		/* waits for no one to be behind */
	bool			 closing;
	bool			 left;		/* proto->leave() done */
	uint64_t		 close_at_ms;	/* conn_close_later(), or 0 */
	/* TLS, the owner's: what the session waits for. */
	bool			 tls_handshaking;
	uint32_t		 tls_hs_want;	/* EPOLLIN or EPOLLOUT */
	bool			 tls_read_wants_out;
	bool			 tls_write_wants_in;
	bool			 tls_more;	/* input left in the session */
	size_t			 tls_wretry;	/* SSL_write must be repeated */
	const char		*close_reason;	/* for the log, may be NULL */
	const char		*leave_reason;	/* for the others, may be NULL */

	/* Guarded by the server's conns_mu. */
	struct conn		*next, *prev;	/* every live connection */
	struct conn		*throttle_next, *throttle_prev;
	uint64_t		 throttle_until_ms;
	bool			 in_throttle;
	struct conn		*held_next, *held_prev;
	bool			 in_held;
};

struct conn	*conn_new(struct host *host, int fd, const char *addr,
		    const struct conn_proto *proto);
void		 conn_free(struct conn *c);

/*
 * Queue msgs[0..n) for c, in order, taking over one reference to each
 * (what is not queued is released).  Any thread may call it: it only
 * appends under c's mutex, and adds c to ws if c must now be run.
 * Nothing is refused for being late: a recipient past the high-water
 * mark only makes the senders wait (flow.h); one whose socket is full
 * and whose queue would pass --sendq is cut.
 */
void		 conn_deliver(struct conn *c, struct msg *const *msgs,
		    size_t n, struct wakeset *ws);

/*
 * The same in three steps, for a front-end that must decide what to
 * queue under c's mutex (the line protocol's current room).
 */
void		 conn_lock(struct conn *c);
void		 conn_push_locked(struct conn *c, struct msg *const *msgs,
		    size_t n);
void		 conn_unlock(struct conn *c, struct wakeset *ws);

/*
 * Note events on c.  Returns true if the caller now owns c and must push
 * it onto the work queue.
 */
bool		 conn_schedule(struct conn *c, unsigned events);

/* Run c until it has no pending event (the caller owns it). */
void		 conn_run(struct worker *w, struct conn *c);

/*
 * Frame and handle in[0..len) as if read from c's socket (in may be
 * rewritten), then send the batched chat lines to the room.  Returns
 * false if the throttle stashed the rest or c is closing.  conn_read()
 * does this after each read; fuzz/fuzz_session.c calls it without one.
 */
bool		 conn_input(struct worker *w, struct conn *c, char *in,
		    size_t len);

/*
 * n bytes of c's queue went out, and the socket took no more if blocked:
 * take them off, keep the flow state, and release the held senders if c
 * was the last one behind.  conn_flush() calls it after writev(2);
 * fuzz/fuzz_session.c calls it without one.
 */
void		 conn_sent(struct worker *w, struct conn *c, size_t n,
		    bool blocked);

/* Drop c's queue (and mark it dead if dead), releasing as conn_sent(). */
void		 conn_forget_output(struct worker *w, struct conn *c,
		    bool dead);

/*
 * Handle the input the throttle or the back-pressure stashed, as a read
 * does first.  Returns false if c stopped again or is closing.
 */
bool		 conn_resume_input(struct worker *w, struct conn *c);

/*
 * The protocol's verdict on c (a wrong password): read nothing more,
 * send what is queued, and close it delay_ms from now, parked like a
 * throttled client, so no worker waits.  why is for the log.
 */
void		 conn_close_later(struct conn *c, unsigned delay_ms,
		    const char *why);

/* The acceptor's verdict: cut c if it is still stalled.  True if so. */
bool		 conn_cut_if_stalled(struct conn *c);

/* True if c has nothing left to send (for the shutdown drain). */
bool		 conn_drained(struct conn *c);

/*
 * For the acceptor's sweep while someone is behind: whether c is behind,
 * and a copy of its stall clock (blocked while behind) for
 * flow_should_cut().
 */
bool		 conn_stall(struct conn *c, struct flow_stall *st);

/*
 * A wakeset holds up to cap connections; chatd sizes it for every client,
 * since each connection is added only when it becomes owned, so adding
 * never fails on the hot path.
 */
int		 wakeset_init(struct wakeset *ws, size_t cap);
void		 wakeset_add(struct wakeset *ws, struct conn *c);
void		 wakeset_free(struct wakeset *ws);

uint64_t	 now_ms(void);

#endif /* CHATD_CONN_H */
