/*
 * conn.c - one client: read and frame its input, handle its lines, flush
 * its send queue with writev(2), re-arm it, close it.
 *
 * Everything here but conn_deliver() and conn_schedule() runs in the
 * worker that owns the connection (see conn.h), so the input side needs
 * no lock at all.  What the lines mean is the protocol's (c->proto):
 * this file is the transport.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "fault.h"
#define LOG_COMPONENT	"conn"
#include "log.h"
#include "tls.h"

uint64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct conn *
conn_new(struct host *host, int fd, const char *addr,
    const struct conn_proto *proto)
{
	struct conn	*c;
	size_t		 max_line = LIMIT(host, max_line);

	if (max_line < proto->min_line)
		max_line = proto->min_line;
	if (fault_fail(FAULT_CONN) || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->ep_kind = EP_CONN;
	c->proto = proto;
	c->host = host;
	c->fd = fd;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	pthread_mutex_init(&c->mu, NULL);
	sendq_init(&c->sq);
	framer_init(&c->fr, max_line);
	c->tokens = LIMIT(host, burst);
	c->refill_ms = now_ms();
	atomic_init(&c->last_line_ms, c->refill_ms);
	return c;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	c->proto->free(c);
	tls_conn_free(c->tls);
	sendq_clear(&c->sq);
	framer_free(&c->fr);
	pthread_mutex_destroy(&c->mu);
	free(c->stash);
	free(c);
}

int
wakeset_init(struct wakeset *ws, size_t cap)
{
	ws->count = 0;
	ws->cap = cap;
	if ((ws->conns = calloc(cap, sizeof(*ws->conns))) == NULL)
		return -1;
	return 0;
}

void
wakeset_add(struct wakeset *ws, struct conn *c)
{
	/* A connection joins a set only as it becomes owned: never twice. */
	assert(ws->count < ws->cap);
	ws->conns[ws->count++] = c;
}

void
wakeset_free(struct wakeset *ws)
{
	free(ws->conns);
	ws->conns = NULL;
	ws->count = ws->cap = 0;
}

bool
conn_schedule(struct conn *c, unsigned events)
{
	bool	 push = false;

	pthread_mutex_lock(&c->mu);
	if (!c->dead) {
		c->pending |= events;
		if (!c->owned)
			push = c->owned = true;
	}
	pthread_mutex_unlock(&c->mu);
	return push;
}

/*
 * Whether c is behind now, under c->mu, with the server's count and the
 * stall clock kept in step.  Returns true if c just caught up and was the
 * last one behind: the caller, once it holds no lock, releases the held
 * senders.
 */
static bool
backlog_locked(struct conn *c, const struct flow_marks *m)
{
	size_t	 cost = flow_cost(c->sq.bytes, c->sq.count);
	bool	 behind = c->dead ? false : flow_behind(c->behind, cost, m);

	if (behind == c->behind)
		return false;
	c->behind = behind;
	flow_stall_reset(&c->stall);
	if (behind) {
		if (c->out_blocked)
			flow_stall_start(&c->stall, now_ms());
		atomic_fetch_add(&c->host->nbehind, 1);
		return false;
	}
	return atomic_fetch_sub(&c->host->nbehind, 1) == 1;
}

/* The socket took no more, or took some again, under c->mu. */
static void
set_blocked_locked(struct conn *c, bool blocked)
{
	c->out_blocked = blocked;
	if (!c->behind)
		return;
	if (blocked)
		flow_stall_start(&c->stall, now_ms());
	else
		flow_stall_stop(&c->stall, now_ms());
}

void
conn_lock(struct conn *c)
{
	pthread_mutex_lock(&c->mu);
}

void
conn_unlock(struct conn *c, struct wakeset *ws)
{
	bool	 push = c->push_after;

	c->push_after = false;
	pthread_mutex_unlock(&c->mu);
	if (push)
		wakeset_add(ws, c);
}

/*
 * Runs under a room's lock for room lines, so it only appends: the
 * owner writes later.  A blocked client past --sendq keeps its queue
 * and is cut; what it is given then is released.
 */
void
conn_push_locked(struct conn *c, struct msg *const *msgs, size_t n)
{
	struct flow_marks	 marks;
	size_t			 i = 0, bytes = 0;

	flow_marks_init(&marks, LIMIT(c->host, sendq));
	if (c->dead || c->kill_reason != KILL_NONE)
		goto out;
	for (i = 0; i < n; i++)
		bytes += msgs[i]->len;
	/* Blocked and past the limit: not catching up.  Its queue stays. */
	if (c->out_blocked && flow_cost(c->sq.bytes + bytes, c->sq.count + n)
	    > marks.limit) {
		c->kill_reason = KILL_TOO_SLOW;
		i = 0;
	} else {
		for (i = 0; i < n; i++)
			if (sendq_push(&c->sq, msgs[i]) == -1) {
				c->kill_reason = KILL_NOMEM;
				break;
			}
		/* Only ever goes behind here: no one waits for a release. */
		(void)backlog_locked(c, &marks);
	}
	if (c->kill_reason != KILL_NONE)
		c->pending |= CONN_EV_KILL;
	else if (c->out_blocked)
		goto out;	/* its EPOLLOUT event flushes it */
	else
		c->pending |= CONN_EV_FLUSH;
	if (!c->owned)
		c->push_after = c->owned = true;
out:
	/* What was not queued is not kept. */
	for (; i < n; i++)
		msg_unref(msgs[i]);
}

void
conn_deliver(struct conn *c, struct msg *const *msgs, size_t n,
    struct wakeset *ws)
{
	conn_lock(c);
	conn_push_locked(c, msgs, n);
	conn_unlock(c, ws);
}

/* The acceptor's verdict stands only if c is still stalled. */
static bool
cut_if_stalled_locked(struct conn *c)
{
	if (!c->behind || !c->out_blocked || c->kill_reason != KILL_NONE)
		return false;
	c->kill_reason = KILL_TOO_SLOW;
	c->pending |= CONN_EV_KILL;
	return true;
}

bool
conn_cut_if_stalled(struct conn *c)
{
	bool	 cut;

	pthread_mutex_lock(&c->mu);
	cut = cut_if_stalled_locked(c);
	pthread_mutex_unlock(&c->mu);
	return cut;
}

bool
conn_stall(struct conn *c, struct flow_stall *st)
{
	bool	 behind;

	pthread_mutex_lock(&c->mu);
	behind = c->behind;
	*st = c->stall;
	pthread_mutex_unlock(&c->mu);
	return behind;
}

bool
conn_drained(struct conn *c)
{
	bool	 empty;

	pthread_mutex_lock(&c->mu);
	empty = c->dead || sendq_empty(&c->sq);
	pthread_mutex_unlock(&c->mu);
	return empty;
}

/* An error line to c alone, in the words of its protocol. */
static void
conn_errorf(struct worker *w, struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
conn_errorf(struct worker *w, struct conn *c, const char *fmt, ...)
{
	char	 text[256];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	c->proto->error(w, c, text);
}

/* Token bucket: refill by elapsed time, capped at the burst. */
static bool
take_token(struct conn *c)
{
	unsigned	 rate = LIMIT(c->host, rate), burst = LIMIT(c->host, burst);
	uint64_t	 now;

	if (rate == 0)
		return true;
	now = now_ms();
	c->tokens += (double)(now - c->refill_ms) * rate / 1000.0;
	c->refill_ms = now;
	if (c->tokens > burst)
		c->tokens = burst;
	if (c->tokens < 1)
		return false;
	c->tokens -= 1;
	return true;
}

/*
 * A line took one token before it was handled; charge what else its
 * relayed form costs.  The bucket may go below zero: the next line then
 * waits until it has refilled, so a 12 KB line costs what it costs.
 */
static void
charge_output(struct conn *c, size_t relayed)
{
	unsigned	 tokens = flow_line_tokens(relayed);

	if (LIMIT(c->host, rate) == 0 || tokens <= 1)
		return;
	c->tokens -= tokens - 1;
}

/* Keep input we may not handle yet; TCP pushes back on the client. */
static int
stash_input(struct conn *c, const char *in, size_t len)
{
	char	*s;

	if (c->stash != NULL && in >= c->stash &&
	    in < c->stash + c->stash_len) {
		memmove(c->stash, in, len);
		c->stash_len = len;
		return 0;
	}
	if ((s = malloc(len)) == NULL)
		return -1;
	memcpy(s, in, len);
	free(c->stash);
	c->stash = s;
	c->stash_len = len;
	return 0;
}

/* Keep the rest of in for later, or close if there is no memory for it. */
static bool
stash_or_close(struct conn *c, const char *in, size_t len)
{
	if (stash_input(c, in, len) == -1) {
		c->closing = true;
		c->close_reason = "out of memory";
	}
	return false;
}

static void
throttle(struct conn *c)
{
	unsigned	 rate = LIMIT(c->host, rate);
	uint64_t	 wait_ms = 1;

	c->throttled = true;
	/* A reload may just have turned the limit off. */
	if (rate > 0)
		wait_ms += (uint64_t)((1.0 - c->tokens) * 1000.0 / rate);
	c->host->ops->throttle(c->host, c, now_ms() + wait_ms);
}

/*
 * Frame and handle the bytes in in[0..len).  Returns false if the flood
 * throttle stopped it (the rest is stashed) or the client is leaving.
 */
static bool
handle_input_lines(struct worker *w, struct conn *c, char *in, size_t len)
{
	struct frame	 fr;
	size_t		 n;
	bool		 got_line = false;

	while (len > 0 && !c->closing && c->close_at_ms == 0) {
		/* Someone is behind: the senders wait, what they sent stays. */
		if (host_behind(w->host)) {
			c->proto->flush(w, c);
			if (host_behind(w->host) &&
			    w->host->ops->hold(w->host, c)) {
				c->held = true;
				return stash_or_close(c, in, len);
			}
		}
		if (!take_token(c)) {
			stash_or_close(c, in, len);
			if (!c->closing)
				throttle(c);
			return false;
		}
		n = framer_feed(&c->fr, in, len, &fr);
		in += n;
		len -= n;
		switch (fr.event) {
		case FRAME_NONE:
			/* A partial line takes no allowance. */
			c->tokens += 1;
			break;
		case FRAME_LINE:
			/* Once a read is enough for --idle-timeout's seconds. */
			if (!got_line) {
				got_line = true;
				atomic_store_explicit(&c->last_line_ms,
				    now_ms(), memory_order_relaxed);
			}
			charge_output(c, c->proto->line(w, c, fr.line,
			    fr.len));
			break;
		case FRAME_TOO_LONG:
			conn_errorf(w, c, "line too long (limit %zu bytes), "
			    "discarded", c->fr.max_line);
			break;
		case FRAME_NOMEM:
			conn_errorf(w, c, "out of memory, line dropped");
			break;
		}
	}
	/* After a verdict the rest of the input is dropped, not stashed. */
	return !c->closing && c->close_at_ms == 0;
}

void
conn_close_later(struct conn *c, unsigned delay_ms, const char *why)
{
	c->close_at_ms = now_ms() + delay_ms;
	c->close_reason = why;
	c->throttled = true;
	c->host->ops->throttle(c->host, c, c->close_at_ms);
}

/*
 * How much input one run may take.  Everything a run reads is queued to
 * every member before anyone's socket is written, so a run must stay well
 * under the sendq limit even when one-byte lines grow sevenfold into
 * "<nick> x\r\n": a reader that keeps up must never look too slow.  The
 * sender then goes back to the end of the work queue, behind the flushes
 * its lines caused, which is what keeps one sender from starving the rest.
 */
static size_t
read_chunk(const struct worker *w, const struct conn *c)
{
	size_t	 chunk = LIMIT(c->host, sendq) / 16;

	if (chunk < 4096)
		chunk = 4096;
	if (chunk > sizeof(w->rbuf))
		chunk = sizeof(w->rbuf);
	return chunk;
}

static bool
handle_input(struct worker *w, struct conn *c, char *in, size_t len)
{
	bool	 more = handle_input_lines(w, c, in, len);

	c->proto->flush(w, c);
	return more;
}

/*
 * The read path's entry point minus the socket: what conn_read() does
 * with the bytes it read, for the session fuzzer, which has no socket.
 * A wrapper rather than a rename keeps conn_read() as it is.
 */
bool
conn_input(struct worker *w, struct conn *c, char *in, size_t len)
{
	return handle_input(w, c, in, len);
}

bool
conn_resume_input(struct worker *w, struct conn *c)
{
	if (c->stash == NULL)
		return !c->closing;
	/* stash_input() keeps any remainder in place. */
	if (!handle_input(w, c, c->stash, c->stash_len))
		return false;
	free(c->stash);
	c->stash = NULL;
	c->stash_len = 0;
	return true;
}

/*
 * Read from the TLS session as read(2) would: -1 and EAGAIN when it
 * waits for the socket, noting whether it waits to write (a TLS 1.3
 * key update answered, say), so conn_arm() asks for EPOLLOUT.
 */
static ssize_t
tls_transport_read(struct conn *c, void *buf, size_t len)
{
	ssize_t	 n;

	c->tls_read_wants_out = false;
	n = tls_read(c->tls, buf, len);
	if (n > 0)
		return n;
	switch (n) {
	case TLS_WANT_WRITE:
		c->tls_read_wants_out = true;
		/* FALLTHROUGH */
	case TLS_WANT_READ:
		errno = EAGAIN;
		return -1;
	case TLS_EOF:
		return 0;
	default:
		log_info("%s tls: %s", c->addr, tls_last_error(c->tls));
		errno = EPROTO;
		return -1;
	}
}

static void
conn_read(struct worker *w, struct conn *c)
{
	ssize_t	 n;

	if (!conn_resume_input(w, c))
		return;
	if (c->tls != NULL)
		n = tls_transport_read(c, w->rbuf, read_chunk(w, c));
	else
		do {
			n = read(c->fd, w->rbuf, read_chunk(w, c));
		} while (n == -1 && errno == EINTR);
	if (n > 0) {
		atomic_fetch_add_explicit(&w->host->stats.bytes_in, (uint64_t)n,
		    memory_order_relaxed);
		handle_input(w, c, w->rbuf, (size_t)n);
		/*
		 * A record holds up to 16 KB: what this read could not take
		 * waits inside the session, and no epoll event will say so.
		 */
		if (c->tls != NULL && tls_pending(c->tls))
			c->tls_more = true;
	} else if (n == 0) {
		c->closing = true;	/* EOF; a partial line is dropped */
		c->close_reason = "eof";
	} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
		c->closing = true;
		c->close_reason = "read error";
	}
}

/*
 * Write as much of the send queue as the socket takes.  The iovec is
 * filled under the lock, written without it: deliverers keep appending
 * meanwhile, and only this thread removes from the head.
 */
void
conn_sent(struct worker *w, struct conn *c, size_t n, bool blocked)
{
	struct flow_marks	 marks;
	bool			 release;

	flow_marks_init(&marks, LIMIT(c->host, sendq));
	pthread_mutex_lock(&c->mu);
	sendq_consume(&c->sq, n);
	if (blocked)
		set_blocked_locked(c, true);
	release = backlog_locked(c, &marks);
	pthread_mutex_unlock(&c->mu);
	if (release)
		w->host->ops->release_held(w->host, &w->wake);
}

void
conn_forget_output(struct worker *w, struct conn *c, bool dead)
{
	struct flow_marks	 marks;
	bool			 release;

	flow_marks_init(&marks, LIMIT(c->host, sendq));
	pthread_mutex_lock(&c->mu);
	if (dead)
		c->dead = true;
	sendq_clear(&c->sq);
	set_blocked_locked(c, false);
	/* Nothing queued (or dead): no longer behind. */
	release = backlog_locked(c, &marks);
	pthread_mutex_unlock(&c->mu);
	if (release)
		w->host->ops->release_held(w->host, &w->wake);
}

/* The peer is gone; see conn_flush(). */
static void
write_failed(struct worker *w, struct conn *c)
{
	c->want_out = false;
	if ((errno == EPIPE || errno == ECONNRESET) && !c->throttled) {
		conn_forget_output(w, c, false);
		return;
	}
	c->close_reason = "write error";
	c->closing = true;
}

/* Copy the head of the queue, iov[0..n), into buf: at most len bytes. */
static size_t
gather(const struct iovec *iov, size_t n, char *buf, size_t len)
{
	size_t	 i, used = 0, take;

	for (i = 0; i < n && used < len; i++) {
		take = iov[i].iov_len;
		if (take > len - used)
			take = len - used;
		memcpy(buf + used, iov[i].iov_base, take);
		used += take;
	}
	return used;
}

/*
 * conn_flush() through the TLS session.  SSL_write takes one buffer, so
 * the head of the queue is copied into the worker's, a record at most.
 * A write that must be repeated is repeated with the same bytes: they
 * are still the head of the queue, since only what SSL_write took is
 * consumed, and a record is never shorter than what it retries.
 */
static void
conn_flush_tls(struct worker *w, struct conn *c)
{
	size_t	 n, len;
	ssize_t	 written;

	c->tls_write_wants_in = false;
	for (;;) {
		pthread_mutex_lock(&c->mu);
		n = sendq_fill_iov(&c->sq, w->iov,
		    sizeof(w->iov) / sizeof(w->iov[0]));
		if (n == 0)
			set_blocked_locked(c, false);
		pthread_mutex_unlock(&c->mu);
		if (n == 0) {
			c->want_out = false;
			return;
		}
		len = gather(w->iov, n, w->wbuf, sizeof(w->wbuf));
		written = tls_write(c->tls, w->wbuf, len, &c->tls_wretry);
		if (written > 0) {
			atomic_fetch_add_explicit(&w->host->stats.bytes_out,
			    (uint64_t)written, memory_order_relaxed);
			conn_sent(w, c, (size_t)written, false);
			continue;
		}
		switch (written) {
		case TLS_WANT_READ:
			/* Blocked on the peer: EPOLLIN resumes the write. */
			c->tls_write_wants_in = true;
			c->want_out = false;
			conn_sent(w, c, 0, true);
			return;
		case TLS_WANT_WRITE:
			c->want_out = true;
			conn_sent(w, c, 0, true);
			return;
		case TLS_EOF:
			errno = EPIPE;
			break;
		default:
			if (errno != EPIPE && errno != ECONNRESET)
				log_info("%s tls: %s", c->addr,
				    tls_last_error(c->tls));
			break;
		}
		write_failed(w, c);
		return;
	}
}

static void
conn_flush(struct worker *w, struct conn *c)
{
	size_t	 n;
	ssize_t	 written;

	if (c->tls != NULL) {
		conn_flush_tls(w, c);
		return;
	}
	for (;;) {
		pthread_mutex_lock(&c->mu);
		n = sendq_fill_iov(&c->sq, w->iov,
		    sizeof(w->iov) / sizeof(w->iov[0]));
		if (n == 0)
			set_blocked_locked(c, false);
		pthread_mutex_unlock(&c->mu);
		if (n == 0) {
			c->want_out = false;
			return;
		}
		written = writev(c->fd, w->iov, (int)n);
		if (written < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				conn_sent(w, c, 0, true);
				c->want_out = true;
				return;
			}
			c->want_out = false;
			if ((errno == EPIPE || errno == ECONNRESET) &&
			    !c->throttled) {
				/*
				 * The peer is gone, but the lines it sent
				 * before it went may still wait in the socket
				 * (a client that writes and closes at once):
				 * drop only its output, and let the read that
				 * is armed take them and then see the end.
				 */
				conn_forget_output(w, c, false);
				return;
			}
			c->close_reason = "write error";
			c->closing = true;
			return;
		}
		atomic_fetch_add_explicit(&w->host->stats.bytes_out,
		    (uint64_t)written, memory_order_relaxed);
		conn_sent(w, c, (size_t)written, false);
	}
}

/* Re-arm the one-shot epoll registration, if what we want changed. */
static void
conn_arm(struct conn *c)
{
	struct epoll_event	 ev;
	uint32_t		 want = 0;

	if (c->tls_handshaking)
		want = c->tls_hs_want;
	else {
		if ((!c->throttled && !c->held &&
		    !atomic_load(&c->host->stopping)) || c->tls_write_wants_in)
			want |= EPOLLIN;
		if (c->want_out || c->tls_read_wants_out)
			want |= EPOLLOUT;
	}
	if (want == c->armed)
		return;
	if (want == 0) {
		/* Nothing to watch: a disarmed one-shot is already silent. */
		if (c->armed == 0)
			return;
	}
	ev.events = want | EPOLLONESHOT;
	ev.data.ptr = c;
	if (epoll_ctl(c->host->epfd, EPOLL_CTL_MOD, c->fd, &ev) == -1) {
		log_warn("%s: epoll_ctl: %s", c->addr, strerror(errno));
		c->closing = true;
		return;
	}
	c->armed = want;
}

static const char *
kill_reason_text(enum conn_kill k)
{
	switch (k) {
	case KILL_TOO_SLOW:
		return "too slow";
	case KILL_NOMEM:
		return "out of memory";
	case KILL_SHUTDOWN:
		return "shutdown";
	case KILL_NONE:
		break;
	}
	return NULL;
}

/*
 * Leave the chat, telling the others why; nothing if c has left.  A
 * closing client leaves before its last flush, so the line that ends it
 * ("-- bye", "!! disconnected: idle") is the last it is sent.
 */
static void
conn_leave(struct worker *w, struct conn *c, enum conn_kill kill)
{
	if (c->left)
		return;
	c->left = true;
	c->proto->leave(w, c, kill != KILL_NONE ? kill_reason_text(kill) :
	    NULL);
}

/*
 * A last line through the TLS session, best effort: never in the middle
 * of a write that must be repeated, which would need the same bytes.
 */
static void
tls_bye(struct conn *c, const char *text)
{
	size_t	 retry;

	if (c->tls_wretry == 0 && !c->tls_handshaking)
		(void)tls_write(c->tls, text, strlen(text), &retry);
}

/*
 * Leave, close the socket and hand the memory to the acceptor, which
 * frees it once no epoll event can still name it.  An abortive close
 * (SO_LINGER 0) frees a slow client's kernel buffers at once.
 */
static void
conn_close(struct worker *w, struct conn *c, enum conn_kill kill)
{
	struct linger	 lg = { 1, 0 };
	const char	*why;

	if (kill == KILL_TOO_SLOW) {
		/*
		 * Best effort: it is not reading anyway.  If a line is half
		 * sent, end it first so the notice stands on its own line.
		 */
		static const char bye[] = "\r\n!! disconnected: too slow\r\n";
		bool	 midline;

		pthread_mutex_lock(&c->mu);
		midline = c->sq.head_off != 0;
		pthread_mutex_unlock(&c->mu);
		if (c->tls != NULL)
			tls_bye(c, bye + (midline ? 0 : 2));
		else if (write(c->fd, bye + (midline ? 0 : 2),
		    sizeof(bye) - 1 - (midline ? 0 : 2)) < 0)
			errno = 0;
	}
	if (kill != KILL_NONE)
		why = kill_reason_text(kill);
	else
		why = c->close_reason != NULL ? c->close_reason : "closed";
	conn_leave(w, c, kill);
	c->proto->log_close(c, why);
	if (kill == KILL_TOO_SLOW)
		atomic_fetch_add_explicit(&w->host->stats.too_slow, 1,
		    memory_order_relaxed);

	if (!conn_drained(c) && kill == KILL_NONE)
		kill = KILL_SHUTDOWN;
	conn_forget_output(w, c, true);

	if (kill != KILL_NONE)
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	else if (c->tls != NULL)
		tls_close_notify(c->tls);
	epoll_ctl(c->host->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->host->ops->bury(c->host, c);
}

/* Greet and register; the client is told if there is no memory. */
static int
conn_open(struct worker *w, struct conn *c)
{
	static const char nomem[] = "!! out of memory\r\n";

	if (c->proto->open(w, c) == 0)
		return 0;
	if (c->tls != NULL)
		tls_bye(c, nomem);
	else if (write(c->fd, nomem, sizeof(nomem) - 1) < 0)
		errno = 0;
	c->left = true;		/* it never joined */
	c->closing = true;
	c->close_reason = "out of memory";
	return -1;
}

/*
 * Anyone can send garbage to the TLS port from many addresses: the
 * first few failed handshakes a second are logged, the rest counted.
 */
#define TLS_FAILS_LOGGED	10

static void
log_handshake_failure(struct conn *c)
{
	static struct log_limit	 limit = LOG_LIMIT_INITIALIZER(TLS_FAILS_LOGGED);
	unsigned		 skipped;
	bool			 log_it;

	log_it = log_limit_take(&limit, now_ms(), &skipped);
	if (skipped > 0)
		log_info("%u more tls handshakes failed in the last second",
		    skipped);
	if (log_it)
		log_info("%s tls handshake failed: %s", c->addr,
		    tls_last_error(c->tls));
}

/*
 * Go on with the TLS handshake; once it is done, the protocol greets
 * the client.  True if input may wait already.
 */
static bool
conn_handshake(struct worker *w, struct conn *c)
{
	switch (tls_handshake(c->tls)) {
	case TLS_OK:
		c->tls_handshaking = false;
		atomic_store(&c->tls_open, true);
		return conn_open(w, c) == 0;
	case TLS_WANT_READ:
		c->tls_hs_want = EPOLLIN;
		return false;
	case TLS_WANT_WRITE:
		c->tls_hs_want = EPOLLOUT;
		return false;
	case TLS_EOF:
		c->close_reason = "eof during tls handshake";
		break;
	default:
		log_handshake_failure(c);
		c->close_reason = "tls handshake failed";
		break;
	}
	c->left = true;		/* it never joined */
	c->closing = true;
	return false;
}

static void
conn_join(struct worker *w, struct conn *c)
{
	struct epoll_event	 ev;

	/* A TLS client is greeted once its handshake is done. */
	if (c->tls != NULL) {
		c->tls_handshaking = true;
		c->tls_hs_want = EPOLLIN;
	} else if (conn_open(w, c) == -1)
		return;
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.ptr = c;
	if (epoll_ctl(w->host->epfd, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		log_warn("%s: epoll_ctl: %s", c->addr, strerror(errno));
		c->closing = true;
		return;
	}
	c->armed = EPOLLIN;
}

/*
 * The acceptor saw no line for --idle-timeout seconds.  Look again: a
 * line may have come in since, or a reload turned the timeout off.  The
 * notice is flushed before the close, like any reply.
 */
static void
conn_idle(struct worker *w, struct conn *c)
{
	unsigned	 timeout = LIMIT(c->host, idle_timeout);
	uint64_t	 last = atomic_load_explicit(&c->last_line_ms,
	    memory_order_relaxed);

	if (c->tls_handshaking) {
		timeout = LIMIT(c->host, tls_handshake_timeout);
		if (c->closing || now_ms() - c->accepted_ms <
		    (uint64_t)timeout * 1000)
			return;
		c->left = true;		/* it never joined */
		c->closing = true;
		c->close_reason = "tls handshake timed out";
		return;
	}
	if (timeout == 0 || c->closing ||
	    now_ms() - last < (uint64_t)timeout * 1000)
		return;
	conn_errorf(w, c, "disconnected: idle for %u s", timeout);
	c->closing = true;
	c->close_reason = "idle";
	c->leave_reason = "idle";
}

void
conn_run(struct worker *w, struct conn *c)
{
	unsigned	 ev;
	enum conn_kill	 kill;

	for (;;) {
		pthread_mutex_lock(&c->mu);
		ev = c->pending;
		c->pending = 0;
		if (ev & CONN_EV_OUT)
			set_blocked_locked(c, false);	/* flush below */
		if ((ev & CONN_EV_SLOW) && cut_if_stalled_locked(c))
			ev |= CONN_EV_KILL;
		kill = c->kill_reason;
		pthread_mutex_unlock(&c->mu);

		if (ev & CONN_EV_KILL) {
			conn_close(w, c, kill);
			break;
		}
		if (ev & CONN_EV_NEW)
			conn_join(w, c);
		if (ev & (CONN_EV_IN | CONN_EV_OUT))
			c->armed = 0;	/* a one-shot event disarms it */
		if (ev & CONN_EV_RESUME) {
			c->throttled = false;
			if (c->close_at_ms != 0 && now_ms() >= c->close_at_ms)
				c->closing = true;
			else if (c->close_at_ms != 0) {
				c->throttled = true;
				c->host->ops->throttle(c->host, c,
				    c->close_at_ms);
			}
		}
		if (ev & CONN_EV_GO)
			c->held = false;
		if (c->tls_handshaking && !c->closing &&
		    (ev & (CONN_EV_NEW | CONN_EV_IN | CONN_EV_OUT)) &&
		    conn_handshake(w, c))
			ev |= CONN_EV_TLS;
		/* SSL_read may have waited for the socket to take a write. */
		if ((ev & CONN_EV_OUT) && c->tls_read_wants_out)
			ev |= CONN_EV_TLS;
		c->tls_more = false;
		if ((ev & (CONN_EV_IN | CONN_EV_RESUME | CONN_EV_GO |
		    CONN_EV_TLS)) && !c->closing && !c->throttled &&
		    !c->held && !c->tls_handshaking &&
		    !atomic_load(&w->host->stopping))
			conn_read(w, c);
		/* After the read: a line in it means the client is not idle. */
		if (ev & CONN_EV_IDLE)
			conn_idle(w, c);
		if (c->closing)
			conn_leave(w, c, KILL_NONE);
		/*
		 * Lines this read queued for others go out in one push, but
		 * for a few the worker runs itself next (server.c).
		 */
		w->host->ops->wake(w->host, &w->wake);
		conn_flush(w, c);
		if (!c->closing)
			conn_arm(c);
		if (c->closing) {
			conn_close(w, c, KILL_NONE);
			break;
		}
		pthread_mutex_lock(&c->mu);
		if (c->tls_more && !c->throttled && !c->held) {
			/*
			 * Input waits inside the session: run again, but
			 * behind the others, as a socket still readable is.
			 */
			c->pending |= CONN_EV_TLS;
			if ((c->pending & ~(unsigned)CONN_EV_TLS) == 0) {
				pthread_mutex_unlock(&c->mu);
				w->host->ops->requeue(w->host, c);
				break;
			}
		}
		if (c->pending == 0) {
			c->owned = false;
			pthread_mutex_unlock(&c->mu);
			break;
		}
		pthread_mutex_unlock(&c->mu);
	}
}
