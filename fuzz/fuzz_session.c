/*
 * fuzz_session.c - whole sessions through the real connection code.
 *
 * A struct server is built in memory with no socket, no epoll set and
 * no thread: a room, the limits (rate 0, so the throttle never parks a
 * client), the counters and a work queue that only /stats reads.  The
 * back-pressure is real: a client behind holds the senders, whose input
 * waits (as it would in their sockets) until they are released, and a
 * slow reader whose queue is full counts as blocked and is cut as the
 * acceptor's sweep would once its time is up.  Two
 * or three connections (fd -1) join the room.  The input is cut into
 * chunks, each for one connection, and goes through conn_input(), the
 * read path minus the socket.  What a worker would then do is done by
 * hand: the connections the lines woke are taken off the wake set
 * (server_wake() would queue them), and each send queue is drained
 * through sendq_fill_iov()/sendq_consume() like conn_flush() drains it
 * into writev(2).  A /quit, a connection cut off as too slow and an EOF
 * leave the room as conn_close() does, and a new connection takes the
 * place, so the session goes on.
 *
 * Checked on every byte queued for any client: lines end with CRLF and
 * hold no other CR or LF, are valid UTF-8 with no control character but
 * TAB, each starts as a server line does, and a client's first line is
 * its welcome.  A send queue never holds more than the sendq limit, and
 * its byte count is what its messages add up to.  Everything is freed,
 * so LeakSanitizer sees a leak of any message reference.
 *
 * Input: byte 0 sets the session up (see setup()).  Then each control
 * byte c: c & 3 is 3 for an action (see action()), otherwise the
 * connection; c >> 2 the chunk's length, 0 for the rest of the input.
 */
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "fault.h"
#include "flow.h"
#include "fuzz.h"
#include "line.h"
#include "log.h"
#include "model.h"
#include "proto.h"
#include "sendq.h"
#include "server.h"
#include "utf8.h"
#include "workq.h"

#define MAX_CONNS	3
#define SLOW		1	/* the connection that may read slowly */

/* What one client has received so far, checked line by line. */
struct client {
	struct conn	*c;
	char		*line;
	size_t		 len;
	size_t		 cap;
	size_t		 lines;
	/* Input the server would leave in the socket while c is held. */
	char		*unread;
	size_t		 unread_len;
	size_t		 blocked_cost;	/* its queue's cost when it blocked */
};

struct session {
	struct server	 srv;
	struct worker	*w;
	struct client	 cl[MAX_CONNS];
	size_t		 n;
	size_t		 line_max;	/* the longest line a client may get */
	bool		 slow;		/* cl[SLOW] reads only when told */
	unsigned	 failures;	/* allocations to fail per read, or 0 */
};

static void
client_line(struct session *s, struct client *cl)
{
	static const char *const starts[] = {
		"<", "* ", "*", "-> *", "-- ", "!! ", "#", "["
	};
	static const char	 welcome[] = "-- welcome to chatd, you are ";
	size_t			 i;

	fuzz_check_wire_line(cl->line, cl->len, "session");
	FUZZ_ASSERT(cl->len <= s->line_max);
	for (i = 0; i < sizeof starts / sizeof starts[0]; i++)
		if (strncmp(cl->line, starts[i], strlen(starts[i])) == 0)
			break;
	FUZZ_ASSERT(i < sizeof starts / sizeof starts[0]);
	if (cl->lines == 0)
		FUZZ_ASSERT(cl->len > sizeof welcome - 1 &&
		    memcmp(cl->line, welcome, sizeof welcome - 1) == 0);
	cl->lines++;
	cl->len = 0;
}

/* Bytes as the client reads them; a line may come in pieces. */
static void
client_read(struct session *s, struct client *cl, const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (cl->len == cl->cap) {
			cl->cap = cl->cap ? cl->cap * 2 : 256;
			if ((cl->line = realloc(cl->line, cl->cap)) == NULL)
				fuzz_fail("out of memory");
		}
		cl->line[cl->len++] = p[i];
		if (p[i] == '\n')
			client_line(s, cl);
		else
			FUZZ_ASSERT(cl->len < s->line_max);
	}
}

/*
 * The most a queue may cost.  A busy one passes half of --sendq only by
 * what its senders had in hand, at most a batch and the replies to one
 * line (/help's, the longest) each.  A blocked one takes no line that
 * would put it past --sendq, so it holds at most that, or what it held
 * as a busy client when its socket filled.
 */
static size_t
queue_bound(struct session *s, struct client *cl)
{
	size_t	 sendq = LIMIT(&s->srv.host, sendq);

	if (cl->c->out_blocked)
		return sendq > cl->blocked_cost ? sendq : cl->blocked_cost;
	return sendq / 2 + MAX_CONNS * (flow_batch_bytes(sendq, 1) +
	    s->line_max + 4096);
}

/* The socket took sent bytes and no more: c is blocked from here. */
static void
note_blocked(struct session *s, struct client *cl, size_t sent)
{
	struct conn	*c = cl->c;

	if (!c->out_blocked || sent > 0) {
		conn_sent(s->w, c, sent, true);
		pthread_mutex_lock(&c->mu);
		cl->blocked_cost = flow_cost(c->sq.bytes, c->sq.count);
		pthread_mutex_unlock(&c->mu);
	}
}

/*
 * Send up to max bytes of the queue, as conn_flush() does with writev(2),
 * taking them off under the lock.
 */
static void
drain(struct session *s, struct client *cl, size_t max)
{
	struct conn	*c = cl->c;
	struct iovec	*iov = s->w->iov;
	size_t		 n, i, sent, total, want;

	for (;;) {
		pthread_mutex_lock(&c->mu);
		FUZZ_ASSERT(flow_cost(c->sq.bytes, c->sq.count) <=
		    queue_bound(s, cl));
		n = sendq_fill_iov(&c->sq, iov, sizeof(s->w->iov) /
		    sizeof(s->w->iov[0]));
		pthread_mutex_unlock(&c->mu);
		for (i = 0, total = 0; i < n; i++)
			total += iov[i].iov_len;
		if (n < sizeof(s->w->iov) / sizeof(s->w->iov[0]))
			FUZZ_ASSERT(total == c->sq.bytes);
		if (n == 0)
			return;
		/* A reader that takes less than all is a full socket. */
		if (max == 0) {
			note_blocked(s, cl, 0);
			return;
		}
		want = total < max ? total : max;
		for (i = 0, sent = 0; sent < want; i++) {
			n = iov[i].iov_len < want - sent ? iov[i].iov_len :
			    want - sent;
			client_read(s, cl, iov[i].iov_base, n);
			sent += n;
		}
		if (sent < total)
			note_blocked(s, cl, sent);
		else
			conn_sent(s->w, c, sent, false);
		max -= sent;
	}
}

/* The slow reader's socket is full unless all read. */
static void
drain_all(struct session *s, bool all)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		if (s->cl[i].c != NULL)
			drain(s, &s->cl[i], all || !s->slow || i != SLOW ?
			    SIZE_MAX : 0);
}

/*
 * The connections that lines woke: server_wake() would queue them and
 * their workers would flush them (drain() does that) and let go.
 */
static void
settle(struct session *s)
{
	struct wakeset	*ws = &s->w->wake;
	struct conn	*c;
	size_t		 i;

	for (i = 0; i < ws->count; i++) {
		c = ws->conns[i];
		pthread_mutex_lock(&c->mu);
		FUZZ_ASSERT(c->owned && !c->dead);
		/* Released (server_release_held): its worker reads again. */
		if (c->pending & CONN_EV_GO)
			c->held = false;
		c->pending = 0;
		c->owned = false;
		pthread_mutex_unlock(&c->mu);
	}
	ws->count = 0;
}

static void
connect_client(struct session *s, struct client *cl)
{
	if ((cl->c = conn_new(&s->srv.host, -1, "fuzz", &line_proto)) == NULL)
		fuzz_fail("out of memory");
	if (cl->c->proto->open(s->w, cl->c) == -1)
		fuzz_fail("out of memory");
	atomic_fetch_add(&s->srv.nclients, 1);
	atomic_fetch_add(&s->srv.host.stats.connections, 1);
	cl->len = cl->lines = 0;
	settle(s);
}

/*
 * As conn_close() does, minus the socket: the client reads what is left
 * (a queue cut off is checked all the same), leaves the room with its
 * reason, and is freed.
 */
static void
disconnect_client(struct session *s, struct client *cl)
{
	struct conn	*c = cl->c;
	const char	*reason = NULL;

	drain(s, cl, SIZE_MAX);
	/* What the drain released (c among them) runs before c goes. */
	settle(s);
	FUZZ_ASSERT(cl->len == 0);	/* whole lines only */
	switch (c->kill_reason) {
	case KILL_TOO_SLOW:
		reason = "too slow";
		break;
	case KILL_NOMEM:
		reason = "out of memory";
		break;
	default:
		break;
	}
	c->proto->leave(s->w, c, reason);
	conn_forget_output(s->w, c, true);
	/* As server_bury() does. */
	server_unhold(&s->srv, c);
	settle(s);
	atomic_fetch_sub(&s->srv.nclients, 1);
	conn_free(c);
	free(cl->unread);
	cl->unread = NULL;
	cl->unread_len = 0;
	cl->c = NULL;
}

/* Whoever quit or was cut off goes, and someone new comes in. */
static void
reap(struct session *s)
{
	struct conn	*c;
	size_t		 i;
	bool		 gone;

	for (i = 0; i < s->n; i++) {
		c = s->cl[i].c;
		pthread_mutex_lock(&c->mu);
		gone = c->closing || c->kill_reason != KILL_NONE;
		pthread_mutex_unlock(&c->mu);
		if (gone) {
			disconnect_client(s, &s->cl[i]);
			drain_all(s, false);
			connect_client(s, &s->cl[i]);
		}
	}
}

/*
 * Keep what a held connection would leave in its socket: the server
 * reads it once the connection is released.
 */
static void
keep_unread(struct client *cl, const char *p, size_t len)
{
	char	*u;

	if ((u = realloc(cl->unread, cl->unread_len + len)) == NULL)
		fuzz_fail("out of memory");
	memcpy(u + cl->unread_len, p, len);
	cl->unread = u;
	cl->unread_len += len;
}

/* What a worker does with c's input: its stash first, then the bytes. */
static void
feed(struct session *s, struct client *cl, const char *p, size_t len)
{
	struct conn	*c = cl->c;
	char		*buf;

	if (c->held) {
		keep_unread(cl, p, len);
		return;
	}
	if ((buf = malloc(len > 0 ? len : 1)) == NULL)
		fuzz_fail("out of memory");
	if (len > 0)
		memcpy(buf, p, len);
	/* A worker owns the connection while it reads. */
	pthread_mutex_lock(&c->mu);
	c->owned = true;
	pthread_mutex_unlock(&c->mu);
	/* Out of memory while handling the lines, if set up so. */
	fault_arm(FAULT_MSG, s->failures);
	fault_arm(FAULT_LINE, s->failures);
	if (conn_resume_input(s->w, c) && len > 0)
		conn_input(s->w, c, buf, len);
	else if (len > 0)
		keep_unread(cl, buf, len);
	fault_arm(FAULT_MSG, 0);
	fault_arm(FAULT_LINE, 0);
	free(buf);
	settle(s);
	pthread_mutex_lock(&c->mu);
	if (c->pending & CONN_EV_GO)
		c->held = false;
	c->pending = 0;
	c->owned = false;
	pthread_mutex_unlock(&c->mu);
}

/*
 * The acceptor's sweep with the time run out: a stalled reader is cut.
 * Then every released connection reads what it left unread, until no
 * one makes progress.
 */
static void
settle_flow(struct session *s)
{
	struct client	*cl;
	char		*u;
	size_t		 i, len;
	bool		 again = true;

	while (again) {
		again = false;
		for (i = 0; i < s->n; i++)
			if (s->cl[i].c != NULL)
				conn_cut_if_stalled(s->cl[i].c);
		reap(s);
		for (i = 0; i < s->n; i++) {
			cl = &s->cl[i];
			if (cl->c->held || (cl->unread_len == 0 &&
			    cl->c->stash == NULL))
				continue;
			u = cl->unread;
			len = cl->unread_len;
			cl->unread = NULL;
			cl->unread_len = 0;
			feed(s, cl, u, len);
			free(u);
			drain_all(s, false);
			again = true;
		}
	}
}

/*
 * A client whose socket takes data is busy, not slow: whatever its queue
 * holds, the sweep's verdict must not cut it.  The verdict is asked of
 * every client, as the sweep would, and a blocked one may be cut.
 */
static void
check_busy_not_cut(struct session *s)
{
	size_t	 i;
	bool	 blocked;

	for (i = 0; i < s->n; i++) {
		blocked = s->cl[i].c->out_blocked;
		FUZZ_ASSERT(!conn_cut_if_stalled(s->cl[i].c) || blocked);
	}
}

/* One chunk read from connection i's socket, in a buffer of its size. */
static void
input(struct session *s, size_t i, const uint8_t *p, size_t len)
{
	feed(s, &s->cl[i], (const char *)p, len);
	check_busy_not_cut(s);
	drain_all(s, false);
	reap(s);
	settle_flow(s);
}

/*
 * c & 3 == 3: bit 2 set: connection c >> 4 hangs up (EOF) and another
 * comes; clear: every client reads half of what waits for it.
 */
static void
action(struct session *s, uint8_t c)
{
	struct client	*cl = &s->cl[(c >> 4) % s->n];
	size_t		 i;

	if (c & 4) {
		cl->c->closing = true;
		cl->c->close_reason = "eof";
		reap(s);
		return;
	}
	for (i = 0; i < s->n; i++)
		drain(s, &s->cl[i], s->cl[i].c->sq.bytes / 2 + 1);
	settle_flow(s);
}

/*
 * Byte 0: bit 0 a third connection; bit 1 announce_max 1 (a "big room",
 * where joins and leaves are not announced); bit 2 a 4 KiB sendq, so a
 * slow reader gets cut off; bit 3 max_line 32, not 512; bit 4 the second
 * connection reads only when an action says so; bit 5 the first 1, 4, 7
 * or 10 (bits 6 and 7) message and partial-line allocations fail while
 * a chunk is handled (fault.h): the out-of-memory paths must leak
 * nothing either.
 */
static void
setup(struct session *s, uint8_t b)
{
	struct server		*srv = &s->srv;
	struct model_config	 cfg;
	size_t			 max_line = b & 8 ? 32 : 512, i;

	memset(s, 0, sizeof(*s));
	srv->host.ops = &server_host_ops;
	srv->host.epfd = srv->wakefd = -1;
	atomic_init(&srv->host.limits.max_clients, 16);
	atomic_init(&srv->host.limits.max_line, max_line);
	atomic_init(&srv->host.limits.sendq, b & 4 ? 4096 : 1024 * 1024);
	atomic_init(&srv->host.limits.rate, 0);
	atomic_init(&srv->host.limits.burst, 40);
	srv->started_ms = now_ms();
	srv->capacity = 16;
	/* A fixed hash seed: a run must replay the same. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.default_room = "#lobby";
	cfg.announce_max = b & 2 ? 1 : 200;
	cfg.max_rooms = 4;
	cfg.max_rooms_per_user = 3;
	cfg.max_room_name = 50;
	cfg.max_topic = 300;
	cfg.history = 8;
	cfg.history_bytes = 4096;
	cfg.seed = 1;
	atomic_init(&srv->host.limits.max_rooms, cfg.max_rooms);
	atomic_init(&srv->host.limits.max_rooms_per_user, cfg.max_rooms_per_user);
	atomic_init(&srv->host.limits.max_room_name, cfg.max_room_name);
	atomic_init(&srv->host.limits.max_topic, cfg.max_topic);
	atomic_init(&srv->host.limits.history, cfg.history);
	atomic_init(&srv->host.limits.replay, 4);
	if ((srv->model = model_new(&cfg)) == NULL ||
	    (srv->wq = workq_new(16)) == NULL)
		fuzz_fail("out of memory");
	if ((s->w = calloc(1, sizeof(*s->w))) == NULL ||
	    wakeset_init(&s->w->wake, MAX_CONNS + 1) == -1)
		fuzz_fail("out of memory");
	s->w->srv = srv;
	s->w->host = &srv->host;
	/* Text sanitised grows threefold; a nickname or two and a prefix. */
	s->line_max = 3 * (max_line + 2 * NICK_MAX_BYTES + 600);
	s->slow = (b & 16) != 0;
	s->failures = b & 32 ? 1 + 3 * (b >> 6) : 0;
	s->n = b & 1 ? 3 : 2;
	for (i = 0; i < s->n; i++)
		connect_client(s, &s->cl[i]);
	drain_all(s, false);
}

static void
teardown(struct session *s)
{
	size_t	 i;

	for (i = 0; i < s->n; i++) {
		disconnect_client(s, &s->cl[i]);
		drain_all(s, true);
	}
	FUZZ_ASSERT(model_users_count(s->srv.model) == 0);
	/* Every client that fell behind was counted out again. */
	FUZZ_ASSERT(atomic_load(&s->srv.host.nbehind) == 0);
	FUZZ_ASSERT(s->srv.held == NULL);
	for (i = 0; i < s->n; i++)
		free(s->cl[i].line);
	wakeset_free(&s->w->wake);
	free(s->w);
	model_free(s->srv.model);
	workq_free(s->srv.wq);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool	 once;
	struct session	 s;
	size_t		 off, len;
	uint8_t		 c;

	if (!once) {
		/* Nickname changes are logged at info; keep stderr quiet. */
		log_set_level(LL_WARN);
		once = true;
	}
	if (size < 1)
		return 0;
	setup(&s, data[0]);
	for (off = 1; off < size; off += len) {
		c = data[off++];
		if ((c & 3) == 3) {
			action(&s, c);
			len = 0;
			continue;
		}
		len = c >> 2 == 0 ? size - off : (size_t)(c >> 2);
		if (len > size - off)
			len = size - off;
		if (len > 0)
			input(&s, (c & 3) % s.n, data + off, len);
	}
	teardown(&s);
	return 0;
}
