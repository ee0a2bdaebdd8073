/*
 * check_fairness.c - issue 10, against the real chatd (path in $CHATD):
 * a client that keeps up is never cut off as too slow, however hard
 * the others send; a client that does not read is cut within seconds;
 * a reader that pauses for half a second is not; lines already read are
 * never dropped.
 *
 * Every client of a scenario is served by one poll() loop in the test
 * thread (struct pool): non-blocking sockets, each one drained whenever
 * it is readable, so no reader here is slow unless the scenario makes
 * it so.  Every line is checked whole against what was sent, in order,
 * without gaps or duplicates.  Each scenario runs CHATD_TEST_LOOPS times
 * (default 10), with a fresh daemon each time; a failure names the
 * iteration and what was lost or wrong.
 *
 * Environment:
 *   CHATD_TEST_LOOPS	 iterations of each scenario (default 10)
 *   CHATD_TEST_SLOWDOWN multiplies every deadline (default 1, 5 under
 *			 ASan, 10 under TSan)
 *   CHATD_TEST_OLD_SERVER=1
 *			 leave out what only the server of issue 10
 *			 understands (NEW_SERVER_ARGS below), to run these
 *			 tests against a chatd that predates it
 *
 * No test asserts a timing except as a generous liveness deadline, and
 * one bound that the hold budget sets (never_readers_one_after_another);
 * the latencies and durations are printed to the log.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_net.h"
#include "check_run.h"

/* The sanitizer builds run the same tests, 5 to 20 times slower. */
#if defined(__SANITIZE_THREAD__)
#define DEFAULT_SLOWDOWN	10
#elif defined(__SANITIZE_ADDRESS__)
#define DEFAULT_SLOWDOWN	5
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DEFAULT_SLOWDOWN	10
#elif __has_feature(address_sanitizer)
#define DEFAULT_SLOWDOWN	5
#endif
#endif
#ifndef DEFAULT_SLOWDOWN
#define DEFAULT_SLOWDOWN	1
#endif

#define SENDQ		1048576	/* chatd's default --sendq */
#define IN_CAP		(256 * 1024)	/* a client's input buffer */
#define IO_BUDGET	(1024 * 1024)	/* bytes per client per poll round */
#define STALL_MS	15000	/* nothing moved for this long: stuck */
#define WELCOME_MS	10000	/* for every welcome */
#define NEVER_RCVBUF	4096	/* a never-reader's SO_RCVBUF */
#define SMALL_MSS	536	/* and its MSS, so chatd's socket buffer for
				   it stays small too */

static int	 loops;		/* CHATD_TEST_LOOPS */
static int	 slowdown;	/* CHATD_TEST_SLOWDOWN */
static bool	 old_server;	/* CHATD_TEST_OLD_SERVER */

/* A deadline of ms in a plain build, scaled for the sanitizers. */
#define SCALED(ms)	((int64_t)(ms) * slowdown)

static int64_t
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
env_int(const char *name, int def, int min, int max)
{
	const char	*s = getenv(name);
	char		*end;
	long		 v;

	if (s == NULL || *s == '\0')
		return def;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < min || v > max) {
		fprintf(stderr, "check_fairness: %s=%s is not a number from "
		    "%d to %d; using %d\n", name, s, min, max, def);
		return def;
	}
	return (int)v;
}

/*
 * The daemon's arguments.
 */
struct args {
	const char	*v[32];
	size_t		 n;
};

static void
args_add(struct args *a, ...)
{
	va_list		 ap;
	const char	*s;

	va_start(ap, a);
	while ((s = va_arg(ap, const char *)) != NULL) {
		ck_assert_uint_lt(a->n, sizeof(a->v) / sizeof(a->v[0]) - 1);
		a->v[a->n++] = s;
	}
	a->v[a->n] = NULL;
	va_end(ap);
}

/*
 * What only the server of issue 10 understands, all in one place:
 * --slow-timeout MS, how long a recipient may stay behind with its
 * socket full.  CHATD_TEST_OLD_SERVER=1 drops it (the scenarios then
 * run with the old server's own slow-consumer rule).
 */
#define NEW_SERVER_ARGS(ms)	"--slow-timeout", (ms)

static void
args_slow_timeout(struct args *a, const char *ms)
{
	if (!old_server)
		args_add(a, NEW_SERVER_ARGS(ms), NULL);
}

/*
 * The clients: one poll() loop over all of them.
 */
struct pool;

struct fc {
	int		 fd;
	int		 id;		/* index in the pool */
	char		 nick[64];
	bool		 welcomed;
	bool		 welcome_only;	/* a never-reader: stop after it */
	bool		 reading;	/* read whenever readable */
	bool		 sends;		/* ask the refill function for more */
	bool		 ended;
	const char	*end_how;	/* "EOF", "reset", "error" */
	int64_t		 end_ms;
	int64_t		 connect_ms;
	/* A slow reader: a few hundred bytes, then a pause of 1-2 ms. */
	bool		 paced;
	size_t		 read_max;
	int		 read_gap_ms;
	int64_t		 next_read_ms;
	unsigned	 reads;
	int		 max_inq;	/* most bytes seen waiting in its socket */
	char		*in;
	size_t		 in_len, in_cap;
	char		*out;
	size_t		 out_len, out_off, out_cap;
};

typedef void	line_fn(struct pool *, struct fc *, char *, size_t);
typedef void	client_fn(struct pool *, struct fc *);

struct pool {
	struct tn_daemon	*d;
	struct fc		**c;
	size_t			 n, cap;
	struct pollfd		*pfd;
	struct fc		**pfc;
	size_t			 pcap;
	void			*ctx;
	line_fn			*on_line;	/* every line after the welcome */
	client_fn		*on_end;	/* the connection ended */
	client_fn		*refill;	/* a sender's output ran low */
	uint64_t		 moved;		/* bytes in and out, for stalls */
	int			 iteration;
	char			 err[4096];
};

static void	pool_fail(struct pool *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* The first failure is the one that counts. */
static void
pool_fail(struct pool *p, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (p->err[0] != '\0')
		return;
	if (p->iteration == 0)
		n = snprintf(p->err, sizeof(p->err), "the unimpeded run: ");
	else
		n = snprintf(p->err, sizeof(p->err), "iteration %d of %d: ",
		    p->iteration, loops);
	va_start(ap, fmt);
	vsnprintf(p->err + n, sizeof(p->err) - (size_t)n, fmt, ap);
	va_end(ap);
}

static void
pool_init(struct pool *p, struct tn_daemon *d, int iteration, void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->d = d;
	p->iteration = iteration;
	p->ctx = ctx;
}

static void
pool_free(struct pool *p)
{
	size_t	 i;

	for (i = 0; i < p->n; i++) {
		if (p->c[i]->fd != -1)
			close(p->c[i]->fd);
		free(p->c[i]->in);
		free(p->c[i]->out);
		free(p->c[i]);
	}
	free(p->c);
	free(p->pfd);
	free(p->pfc);
	memset(p, 0, sizeof(*p));
}

/*
 * Connect to 127.0.0.1:port from src (NULL: any), with SO_RCVBUF and
 * TCP_MAXSEG set first if not 0.  The client reads its welcome in the
 * poll loop.
 */
static struct fc *
pool_add(struct pool *p, int rcvbuf, int mss, const char *src)
{
	struct sockaddr_in	 sin;
	struct fc		*c, **nc;
	int			 fd, flags;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(fd != -1, "socket: %s", strerror(errno));
	ck_assert_msg(rcvbuf == 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUF,
	    &rcvbuf, sizeof(rcvbuf)) == 0, "SO_RCVBUF: %s", strerror(errno));
	ck_assert_msg(mss == 0 || setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG,
	    &mss, sizeof(mss)) == 0, "TCP_MAXSEG: %s", strerror(errno));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (src != NULL) {
		ck_assert_int_eq(inet_pton(AF_INET, src, &sin.sin_addr), 1);
		ck_assert_msg(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ==
		    0, "bind %s: %s", src, strerror(errno));
	}
	sin.sin_port = htons(p->d->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		tn_dump_log(p->d, "connect failed");
		ck_abort_msg("connect 127.0.0.1:%u: %s", p->d->port,
		    strerror(errno));
	}
	ck_assert_msg((flags = fcntl(fd, F_GETFL)) != -1 && fcntl(fd,
	    F_SETFL, flags | O_NONBLOCK) != -1, "fcntl: %s", strerror(errno));
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 32;
		nc = realloc(p->c, p->cap * sizeof(*nc));
		ck_assert_ptr_nonnull(nc);
		p->c = nc;
	}
	c = calloc(1, sizeof(*c));
	ck_assert_ptr_nonnull(c);
	c->in_cap = IN_CAP;
	c->in = malloc(c->in_cap);
	ck_assert_ptr_nonnull(c->in);
	c->fd = fd;
	c->id = (int)p->n;
	c->reading = true;
	c->connect_ms = tn_now_ms();
	snprintf(c->nick, sizeof(c->nick), "(client %d)", c->id);
	p->c[p->n++] = c;
	return c;
}

/* Queue bytes for c to send. */
static void
fc_append(struct fc *c, const void *data, size_t len)
{
	char	*no;

	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + len > c->out_cap) {
		if (c->out_off > 0) {
			memmove(c->out, c->out + c->out_off, c->out_len -
			    c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		if (c->out_len + len > c->out_cap) {
			c->out_cap = (c->out_len + len) * 2;
			no = realloc(c->out, c->out_cap);
			ck_assert_ptr_nonnull(no);
			c->out = no;
		}
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
}

static size_t
fc_pending(const struct fc *c)
{
	return c->out_len - c->out_off;
}

static void
fc_end(struct pool *p, struct fc *c, const char *how)
{
	if (c->ended)
		return;
	c->ended = true;
	c->end_how = how;
	c->end_ms = tn_now_ms();
	c->reading = false;
	close(c->fd);
	c->fd = -1;
	if (p->on_end != NULL)
		p->on_end(p, c);
}

static void
fc_line(struct pool *p, struct fc *c, char *line, size_t len)
{
	int	 online;

	line[len] = '\0';	/* over the CR */
	if (!c->welcomed) {
		if (tn_parse_welcome(line, c->nick, sizeof(c->nick),
		    &online) == -1) {
			pool_fail(p, "client %d: expected the welcome, got "
			    "\"%s\"", c->id, tn_quote(line, len));
			return;
		}
		c->welcomed = true;
		if (c->welcome_only)
			c->reading = false;	/* and never again */
		return;
	}
	p->on_line(p, c, line, len);
}

/* Hand the complete lines in c->in to fc_line(). */
static void
fc_lines(struct pool *p, struct fc *c)
{
	char	*s = c->in, *nl, *end = c->in + c->in_len;

	while (s < end && (nl = memchr(s, '\n', (size_t)(end - s))) !=
	    NULL) {
		if (nl == s || nl[-1] != '\r') {
			pool_fail(p, "%s: a line without CR before LF: "
			    "\"%s\"", c->nick, tn_quote(s, (size_t)(nl - s)));
			return;
		}
		fc_line(p, c, s, (size_t)(nl - s - 1));
		s = nl + 1;
		if (!c->reading && c->welcome_only)
			break;		/* the rest is not read */
	}
	if (!c->reading && c->welcome_only)
		s = end;
	memmove(c->in, s, (size_t)(end - s));
	c->in_len = (size_t)(end - s);
}

static void
fc_read(struct pool *p, struct fc *c)
{
	size_t	 budget = c->paced ? c->read_max : IO_BUDGET, want;
	ssize_t	 n;
	int	 inq;

	if (c->paced && ioctl(c->fd, FIONREAD, &inq) == 0 &&
	    inq > c->max_inq)
		c->max_inq = inq;
	while (budget > 0 && !c->ended && p->err[0] == '\0') {
		if (c->in_len == c->in_cap) {
			pool_fail(p, "%s: a line longer than %zu bytes",
			    c->nick, c->in_cap);
			return;
		}
		want = c->in_cap - c->in_len;
		if (want > budget)
			want = budget;
		n = recv(c->fd, c->in + c->in_len, want, 0);
		if (n > 0) {
			p->moved += (uint64_t)n;
			c->in_len += (size_t)n;
			budget -= (size_t)n;
			fc_lines(p, c);
			if (c->paced) {
				c->reads++;
				/* 100 to 400 bytes, then 1 or 2 ms. */
				c->read_max = 100 + (c->reads * 97) % 301;
				c->read_gap_ms = 1 + (int)(c->reads % 2);
				c->next_read_ms = tn_now_ms() + c->read_gap_ms;
				break;
			}
			if (!c->reading)
				break;
			continue;
		}
		if (n == 0) {
			fc_end(p, c, "EOF");
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		fc_end(p, c, errno == ECONNRESET ? "reset" : "error");
		return;
	}
}

static void
fc_write(struct pool *p, struct fc *c)
{
	size_t	 budget = IO_BUDGET;
	ssize_t	 n;

	while (budget > 0 && !c->ended) {
		if (fc_pending(c) == 0 && c->sends && p->refill != NULL)
			p->refill(p, c);
		if (fc_pending(c) == 0)
			return;
		n = send(c->fd, c->out + c->out_off, fc_pending(c),
		    MSG_NOSIGNAL);
		if (n > 0) {
			c->out_off += (size_t)n;
			p->moved += (uint64_t)n;
			budget = budget > (size_t)n ? budget - (size_t)n : 0;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		fc_end(p, c, errno == ECONNRESET || errno == EPIPE ? "reset" :
		    "error");
	}
}

/* One poll round: wait at most wait_ms, then read and write what can. */
static void
pump(struct pool *p, int wait_ms)
{
	struct fc	*c;
	int64_t		 now = tn_now_ms();
	size_t		 i, np = 0;
	int		 r, err;
	socklen_t	 len;

	if (p->pcap < p->n) {
		p->pcap = p->cap;
		p->pfd = realloc(p->pfd, p->pcap * sizeof(*p->pfd));
		p->pfc = realloc(p->pfc, p->pcap * sizeof(*p->pfc));
		ck_assert(p->pfd != NULL && p->pfc != NULL);
	}
	for (i = 0; i < p->n; i++) {
		c = p->c[i];
		if (c->ended)
			continue;
		if (c->sends && fc_pending(c) == 0 && p->refill != NULL)
			p->refill(p, c);
		p->pfd[np].fd = c->fd;
		p->pfd[np].events = POLLRDHUP;
		if (c->reading && (!c->paced || now >= c->next_read_ms))
			p->pfd[np].events |= POLLIN;
		else if (c->reading && c->next_read_ms - now < wait_ms)
			wait_ms = (int)(c->next_read_ms - now);
		if (fc_pending(c) > 0)
			p->pfd[np].events |= POLLOUT;
		p->pfc[np++] = c;
	}
	r = poll(p->pfd, np, wait_ms);
	if (r == -1 && errno != EINTR) {
		pool_fail(p, "poll: %s", strerror(errno));
		return;
	}
	for (i = 0; r > 0 && i < np && p->err[0] == '\0'; i++) {
		c = p->pfc[i];
		if (p->pfd[i].revents == 0 || c->ended)
			continue;
		if (p->pfd[i].revents & POLLOUT)
			fc_write(p, c);
		if (c->ended)
			continue;
		if (p->pfd[i].revents & POLLIN) {
			fc_read(p, c);
			continue;
		}
		if ((p->pfd[i].revents & (POLLERR | POLLHUP | POLLRDHUP)) ==
		    0)
			continue;
		if (c->reading && !c->paced) {
			fc_read(p, c);	/* what is left, then the end */
			continue;
		}
		/* Not reading (a never-reader, a pause): only the end. */
		err = 0;
		len = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		fc_end(p, c, err == ECONNRESET || (p->pfd[i].revents &
		    POLLERR) ? "reset" : "EOF");
	}
}

/* Run the loop until every client has its welcome. */
static void
pool_welcome(struct pool *p)
{
	int64_t	 deadline = tn_now_ms() + SCALED(WELCOME_MS);
	size_t	 i;
	bool	 all;

	for (;;) {
		all = true;
		for (i = 0; i < p->n; i++)
			if (!p->c[i]->welcomed && !p->c[i]->ended)
				all = false;
		if (all || p->err[0] != '\0')
			break;
		if (tn_now_ms() >= deadline) {
			pool_fail(p, "not every client got its welcome within "
			    "%" PRId64 " ms", SCALED(WELCOME_MS));
			break;
		}
		pump(p, 10);
	}
	for (i = 0; i < p->n && p->err[0] == '\0'; i++)
		if (p->c[i]->ended)
			pool_fail(p, "client %d was closed (%s) before its "
			    "welcome", p->c[i]->id, p->c[i]->end_how);
}

/*
 * A never-reader: reads its welcome (to learn its nick), then nothing.
 * Small socket buffers on both sides, as on a slow link: chatd's queue
 * for it fills after a few kilobytes in the kernel, not megabytes.
 */
static struct fc *
pool_add_never(struct pool *p)
{
	struct fc	*c;

	c = pool_add(p, NEVER_RCVBUF, SMALL_MSS, NULL);
	c->welcome_only = true;
	c->in_cap = 256;	/* the welcome, and no more */
	c->in = realloc(c->in, c->in_cap);
	ck_assert_ptr_nonnull(c->in);
	return c;
}

/* The nick in "<NICK> text", NUL-terminated in place; the text. */
static char *
chat_nick(char *line, char **nick)
{
	char	*gt;

	if (line[0] != '<' || (gt = strstr(line, "> ")) == NULL)
		return NULL;
	*gt = '\0';
	*nick = line + 1;
	return gt + 2;
}

/* "-- NICK left..." : the nick, NUL-terminated in a copy; the reason. */
static const char *
left_notice(const char *line, char *nick, size_t size)
{
	const char	*sp;

	if (strncmp(line, "-- ", 3) != 0 || (sp = strstr(line + 3,
	    " left")) == NULL || (sp[5] != '\0' && sp[5] != ' '))
		return NULL;
	if ((size_t)(sp - line - 3) >= size)
		return NULL;
	memcpy(nick, line + 3, (size_t)(sp - line - 3));
	nick[sp - line - 3] = '\0';
	return sp[5] == '\0' ? "" : sp + 6;
}

static struct fc *
find_nick(struct pool *p, const char *nick)
{
	size_t	 i;

	for (i = 0; i < p->n; i++)
		if (p->c[i]->welcomed && strcmp(p->c[i]->nick, nick) == 0)
			return p->c[i];
	return NULL;
}

/* End an iteration: report, close the clients, stop the daemon. */
static void
pool_verdict(struct pool *p)
{
	struct tn_daemon	*d = p->d;
	char			 err[sizeof(p->err)];

	snprintf(err, sizeof(err), "%s", p->err);
	if (err[0] != '\0')
		tn_dump_log(d, err);
	pool_free(p);
	if (err[0] != '\0') {
		tn_stop(d);
		ck_abort_msg("%s", err);
	}
	stop(d);
}

/* Waits until done(ctx), a failure, the deadline or a stall. */
static bool
pool_run(struct pool *p, bool (*done)(struct pool *), int64_t deadline,
    int wait_ms, const char *what)
{
	uint64_t	 moved = p->moved;
	int64_t		 still = tn_now_ms();

	while (p->err[0] == '\0' && !done(p)) {
		if (tn_now_ms() >= deadline) {
			pool_fail(p, "%s: deadline passed", what);
			return false;
		}
		if (p->moved != moved) {
			moved = p->moved;
			still = tn_now_ms();
		} else if (tn_now_ms() - still >= SCALED(STALL_MS)) {
			pool_fail(p, "%s: nothing moved for %" PRId64 " ms",
			    what, SCALED(STALL_MS));
			return false;
		}
		pump(p, wait_ms);
	}
	return p->err[0] == '\0';
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	 x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * 1. Sixteen connections from one address (the most --max-per-ip
 * allows under --limit-loopback) each send a burst of 40 lines of 4095
 * bytes at once; every one of them reads, and so does a victim from
 * another address that only reads.  All seventeen must get all 640
 * lines, whole, each sender's in the order sent, and in one order for
 * all; nobody is told "too slow" or closed.  With 0x01 bytes each line
 * is relayed as 4095 U+FFFD, 12 KB: 7.9 MB for each reader.
 */
#define FL_SENDERS	16
#define FL_LINES	40
#define FL_LEN		4095
#define FL_TOTAL	(FL_SENDERS * FL_LINES)
#define FL_CLIENTS	(FL_SENDERS + 1)	/* the victim is the last */
#define FL_DEADLINE	60000

struct flood {
	char		 byte;
	char		*payload;	/* relayed text, after "<nick> " */
	size_t		 payload_len;
	int64_t		 t0;
	int		 got[FL_CLIENTS][FL_SENDERS];
	int		 n[FL_CLIENTS];
	uint8_t		 order[FL_CLIENTS][FL_TOTAL];
	bool		 end[FL_CLIENTS];	/* "<first sender> end" came */
};

static const char *
flood_name(const struct fc *c)
{
	static char	 buf[4][100];
	static unsigned	 next;
	char		*b = buf[next++ % 4];

	snprintf(b, sizeof(buf[0]), "%s %s", c->id == FL_CLIENTS - 1 ?
	    "the victim" : "sender", c->nick);
	return b;
}

/* What c got from each sender, for a failure message. */
static const char *
flood_counts(struct pool *p, struct fc *c)
{
	struct flood	*fl = p->ctx;
	static char	 buf[1024];
	size_t		 o = 0;
	int		 s;

	for (s = 0; s < FL_SENDERS && o < sizeof(buf) - 40; s++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s %d/%d",
		    s ? ", " : "", p->c[s]->nick, fl->got[c->id][s], FL_LINES);
	return buf;
}

static void
flood_line(struct pool *p, struct fc *c, char *line, size_t len)
{
	struct flood	*fl = p->ctx;
	struct fc	*from;
	char		*nick, *text, who[64];
	size_t		 tlen, i;
	int		 s;

	if (left_notice(line, who, sizeof(who)) != NULL) {
		from = find_nick(p, who);
		pool_fail(p, "%s got \"%s\"%s%s after %d of %d lines, %"
		    PRId64 " ms after the bursts began", flood_name(c),
		    line, from != NULL ? ": that is " : "", from != NULL ?
		    flood_name(from) : "", fl->n[c->id], FL_TOTAL,
		    tn_now_ms() - fl->t0);
		return;
	}
	if (strncmp(line, "-- ", 3) == 0)
		return;		/* joins */
	if (fl->n[c->id] == FL_TOTAL && !fl->end[c->id] && (text =
	    chat_nick(line, &nick)) != NULL && strcmp(nick, p->c[0]->nick) ==
	    0 && strcmp(text, "end") == 0) {
		fl->end[c->id] = true;
		return;
	}
	if ((text = chat_nick(line, &nick)) == NULL ||
	    (from = find_nick(p, nick)) == NULL || from->id >= FL_SENDERS) {
		pool_fail(p, "%s got \"%s\" after %d of %d lines, %" PRId64
		    " ms after the bursts began (per sender: %s)",
		    flood_name(c), tn_quote(line, len), fl->n[c->id],
		    FL_TOTAL, tn_now_ms() - fl->t0, flood_counts(p, c));
		return;
	}
	s = from->id;
	tlen = len - (size_t)(text - line);
	if (tlen != fl->payload_len || memcmp(text, fl->payload, tlen) != 0) {
		for (i = 0; i < tlen && i < fl->payload_len &&
		    text[i] == fl->payload[i]; i++)
			;
		pool_fail(p, "%s: line %d from %s is not whole: %zu bytes of "
		    "text, expected %zu, first difference at byte %zu",
		    flood_name(c), fl->got[c->id][s] + 1, nick, tlen,
		    fl->payload_len, i);
		return;
	}
	if (fl->got[c->id][s] == FL_LINES) {
		pool_fail(p, "%s got more than %d lines from %s",
		    flood_name(c), FL_LINES, nick);
		return;
	}
	fl->got[c->id][s]++;
	fl->order[c->id][fl->n[c->id]++] = (uint8_t)s;
}

static void
flood_end(struct pool *p, struct fc *c)
{
	struct flood	*fl = p->ctx;

	pool_fail(p, "%s: connection closed (%s) after %d of %d lines, "
	    "%" PRId64 " ms after the bursts began (per sender: %s)",
	    flood_name(c), c->end_how, fl->n[c->id], FL_TOTAL,
	    c->end_ms - fl->t0, flood_counts(p, c));
}

static bool
flood_done(struct pool *p)
{
	struct flood	*fl = p->ctx;
	int		 i;

	for (i = 0; i < FL_CLIENTS; i++)
		if (fl->n[i] < FL_TOTAL)
			return false;
	return true;
}

/* Everyone is still there: the first sender's "end" came to all. */
static bool
flood_ended(struct pool *p)
{
	struct flood	*fl = p->ctx;
	int		 i;

	for (i = 0; i < FL_CLIENTS; i++)
		if (!fl->end[i])
			return false;
	return true;
}

/* pool_run() gave up waiting, rather than seeing something wrong. */
static bool
flood_stuck(const struct pool *p)
{
	return strstr(p->err, ": deadline passed") != NULL ||
	    strstr(p->err, ": nothing moved for ") != NULL;
}

static void
flood_once(int it, char byte, const char *name)
{
	struct args	 a = { .n = 0 };
	struct pool	 p;
	struct flood	*fl;
	char		 line[FL_LEN + 1];
	int		 i, j, k;

	fl = calloc(1, sizeof(*fl));
	ck_assert_ptr_nonnull(fl);
	fl->byte = byte;
	fl->payload_len = byte < 0x20 ? FL_LEN * 3 : FL_LEN;
	fl->payload = malloc(fl->payload_len);
	ck_assert_ptr_nonnull(fl->payload);
	for (i = 0; i < FL_LEN; i++)
		if (byte < 0x20)
			memcpy(fl->payload + i * 3, "\xef\xbf\xbd", 3);
		else
			fl->payload[i] = byte;
	args_add(&a, "--workers", "2", "--limit-loopback", "--rate", "1000",
	    "--burst", "2000", NULL);
	pool_init(&p, start(a.v), it, fl);
	p.on_line = flood_line;
	p.on_end = flood_end;
	for (i = 0; i < FL_SENDERS; i++)
		pool_add(&p, 0, 0, NULL);
	/* Another address: the sixteen use up 127.0.0.1's. */
	pool_add(&p, 0, 0, "127.0.0.2");
	pool_welcome(&p);
	memset(line, byte, FL_LEN);
	line[FL_LEN] = '\n';
	for (i = 0; i < FL_SENDERS && p.err[0] == '\0'; i++)
		for (j = 0; j < FL_LINES; j++)
			fc_append(p.c[i], line, sizeof(line));
	fl->t0 = tn_now_ms();
	if (pool_run(&p, flood_done, fl->t0 + SCALED(FL_DEADLINE), 100,
	    name)) {
		fc_append(p.c[0], "end\n", 4);
		pool_run(&p, flood_ended, tn_now_ms() + SCALED(WELCOME_MS),
		    100, "after all the lines, the first sender's \"end\"");
		for (i = 1; i < FL_CLIENTS && p.err[0] == '\0'; i++) {
			for (k = 0; k < FL_TOTAL; k++)
				if (fl->order[i][k] != fl->order[0][k])
					break;
			if (k < FL_TOTAL)
				pool_fail(&p, "%s and %s saw the lines in "
				    "different orders: line %d is from %s and "
				    "from %s", p.c[0]->nick, p.c[i]->nick,
				    k + 1, p.c[fl->order[0][k]]->nick,
				    p.c[fl->order[i][k]]->nick);
		}
	} else if (flood_stuck(&p)) {
		for (i = 0; i < FL_CLIENTS && fl->n[i] == FL_TOTAL; i++)
			;
		if (i < FL_CLIENTS)
			snprintf(p.err + strlen(p.err), sizeof(p.err) -
			    strlen(p.err), "; %s has %d of %d lines (per "
			    "sender: %s)", flood_name(p.c[i]), fl->n[i],
			    FL_TOTAL, flood_counts(&p, p.c[i]));
	}
	if (p.err[0] == '\0')
		printf("%s: iteration %d: all %d clients got all %d lines in "
		    "%" PRId64 " ms\n", name, it, FL_CLIENTS, FL_TOTAL,
		    tn_now_ms() - fl->t0);
	pool_verdict(&p);
	free(fl->payload);
	free(fl);
}

START_TEST(test_flood_one_address)
{
	int	 it;

	for (it = 1; it <= loops; it++)
		flood_once(it, 0x01, "flood_one_address");
}
END_TEST

START_TEST(test_flood_one_address_ascii)
{
	int	 it;

	for (it = 1; it <= loops; it++)
		flood_once(it, 'a', "flood_one_address_ascii");
}
END_TEST

/*
 * 2. --rate 0: one of five readers sends 20,000 numbered lines of 500
 * bytes as fast as it can, reading all the while.  Each of the five
 * gets all 20,000 in order and is never cut.  A sixth client, with a
 * small receive buffer, never reads: it is cut as too slow (the others
 * are told so), within 15 s.
 */
#define NRL_READERS	5
#define NRL_LINES	20000
#define NRL_LEN		500
#define NRL_CUT_MS	15000
#define NRL_DEADLINE	120000

struct nrl {
	int64_t		 t0;
	int		 sent;
	int		 next[NRL_READERS];
	bool		 saw_left[NRL_READERS];
	struct fc	*never;
};

/* Line seq of the sender, without its end; its length. */
static size_t
nrl_text(int seq, char *buf)
{
	int	 n, k;

	n = snprintf(buf, 16, "n%05d ", seq);
	for (k = n; k < NRL_LEN; k++)
		buf[k] = (char)('a' + (seq + k) % 26);
	buf[NRL_LEN] = '\0';
	return NRL_LEN;
}

static void
nrl_refill(struct pool *p, struct fc *c)
{
	struct nrl	*x = p->ctx;
	char		 buf[NRL_LEN + 2];
	size_t		 len;

	while (x->sent < NRL_LINES && fc_pending(c) < 256 * 1024) {
		len = nrl_text(x->sent++, buf);
		buf[len++] = '\n';
		fc_append(c, buf, len);
	}
}

static void
nrl_line(struct pool *p, struct fc *c, char *line, size_t len)
{
	struct nrl	*x = p->ctx;
	char		*nick, *text, who[64], want[NRL_LEN + 1];
	const char	*why;

	if ((why = left_notice(line, who, sizeof(who))) != NULL) {
		if (x->never != NULL && strcmp(who, x->never->nick) == 0 &&
		    strcmp(why, "(too slow)") == 0 && !x->saw_left[c->id]) {
			x->saw_left[c->id] = true;
			return;
		}
		pool_fail(p, "reader %s got \"%s\" after %d of %d lines",
		    c->nick, line, x->next[c->id], NRL_LINES);
		return;
	}
	if (strncmp(line, "-- ", 3) == 0)
		return;
	if ((text = chat_nick(line, &nick)) == NULL ||
	    strcmp(nick, p->c[0]->nick) != 0) {
		pool_fail(p, "reader %s got \"%s\" after %d of %d lines",
		    c->nick, tn_quote(line, len), x->next[c->id], NRL_LINES);
		return;
	}
	if (x->next[c->id] == NRL_LINES) {
		pool_fail(p, "reader %s got a line after all %d: \"%.40s\"",
		    c->nick, NRL_LINES, text);
		return;
	}
	nrl_text(x->next[c->id], want);
	if (strcmp(text, want) != 0) {
		pool_fail(p, "reader %s: line %d: expected \"%.12s...\" (%d "
		    "bytes), got \"%.12s...\" (%zu bytes)", c->nick,
		    x->next[c->id], want, NRL_LEN, tn_quote(text, strlen(text)),
		    strlen(text));
		return;
	}
	x->next[c->id]++;
}

static void
nrl_end(struct pool *p, struct fc *c)
{
	struct nrl	*x = p->ctx;

	if (c == x->never)
		return;
	pool_fail(p, "reader %s: connection closed (%s) after %d of %d "
	    "lines, %" PRId64 " ms after the flood began", c->nick,
	    c->end_how, x->next[c->id], NRL_LINES, c->end_ms - x->t0);
}

static bool
nrl_done(struct pool *p)
{
	struct nrl	*x = p->ctx;
	int		 i;

	if (!x->never->ended) {
		if (tn_now_ms() - x->t0 >= SCALED(NRL_CUT_MS))
			pool_fail(p, "the never-reader %s was not cut within "
			    "%" PRId64 " ms (the readers got %d of %d lines)",
			    x->never->nick, SCALED(NRL_CUT_MS), x->next[1],
			    NRL_LINES);
		return false;
	}
	for (i = 0; i < NRL_READERS; i++)
		if (x->next[i] < NRL_LINES || !x->saw_left[i])
			return false;
	return true;
}

START_TEST(test_no_rate_limit_flood)
{
	struct args	 a = { .n = 0 };
	struct pool	 p;
	struct nrl	 x;
	int		 it, i;

	args_add(&a, "--workers", "2", "--rate", "0", "--sendq", "1048576",
	    NULL);
	args_slow_timeout(&a, "1000");
	for (it = 1; it <= loops; it++) {
		memset(&x, 0, sizeof(x));
		pool_init(&p, start(a.v), it, &x);
		p.on_line = nrl_line;
		p.on_end = nrl_end;
		p.refill = nrl_refill;
		for (i = 0; i < NRL_READERS; i++)
			pool_add(&p, 0, 0, NULL);
		pool_welcome(&p);
		x.never = pool_add_never(&p);
		pool_welcome(&p);
		x.t0 = tn_now_ms();
		if (p.err[0] == '\0')
			p.c[0]->sends = true;
		if (!pool_run(&p, nrl_done, x.t0 + SCALED(NRL_DEADLINE), 100,
		    "no_rate_limit_flood") && strstr(p.err, "never-reader") ==
		    NULL) {
			snprintf(p.err + strlen(p.err), sizeof(p.err) -
			    strlen(p.err), "; sent %d, readers got", x.sent);
			for (i = 0; i < NRL_READERS; i++)
				snprintf(p.err + strlen(p.err), sizeof(p.err) -
				    strlen(p.err), " %d%s", x.next[i],
				    x.saw_left[i] ? "" : " (no leave notice)");
			snprintf(p.err + strlen(p.err), sizeof(p.err) -
			    strlen(p.err), "; never-reader %s", x.never->ended ?
			    "cut" : "not cut");
		}
		if (p.err[0] == '\0')
			printf("no_rate_limit_flood: iteration %d: %d lines to "
			    "each of %d readers in %" PRId64 " ms; the "
			    "never-reader cut (%s) after %" PRId64 " ms\n", it,
			    NRL_LINES, NRL_READERS, tn_now_ms() - x.t0,
			    x.never->end_how, x.never->end_ms - x.t0);
		pool_verdict(&p);
	}
}
END_TEST

/*
 * 3. --rate 0 and the default --slow-timeout (stretched under a
 * sanitizer, see pr_run()): ten senders send as fast as they can for
 * about 2 s, reading all the while, and so do three more readers.  A sender keeps at most PR_WINDOW bytes of its lines
 * on the way (sent, its own echo not yet back): without a bound the
 * kernel's socket buffers would swallow tens of megabytes in the first
 * milliseconds, the run would be over before the pause began, and the
 * test thread would have gigabytes to read.  Ten windows of 256 KB are
 * still more than --sendq, so chatd must hold the senders back; they
 * also set the latencies printed (2.5 MB queued ahead of each line).  One more reader stops reading for 0.5 s in the middle
 * (its SO_RCVBUF is 64 KB, so its socket is full during the pause) and
 * then goes on: it is not cut and misses nothing.  A never-reader
 * beside them is cut.  The lines carry their send time: the three
 * readers' delivery latency is printed, not checked.
 */
#define PR_SENDERS	10
#define PR_READERS	3
#define PR_PAUSED	(PR_SENDERS + PR_READERS)
#define PR_CLIENTS	(PR_PAUSED + 1)	/* and then the never-reader */
#define PR_MAX_LINES	100000		/* per sender, at most */
#define PR_LEN		120
#define PR_WINDOW	(256 * 1024)	/* per sender, on the way */
#define PR_RUN_MS	2000
#define PR_PAUSE_AT_MS	750
#define PR_PAUSE_MS	500
#define PR_PAUSED_RCVBUF 65536
#define PR_CUT_MS	15000
#define PR_DEADLINE	120000

struct pr {
	int64_t		 t0;
	bool		 sending;
	int		 sent[PR_SENDERS];
	int		 next[PR_CLIENTS][PR_SENDERS];
	bool		 saw_left[PR_CLIENTS];
	int64_t		 pause_from, pause_to;
	int		 paused_inq;
	int		 pauses;		/* done so far */
	struct fc	*never;
	uint32_t	*lat;		/* us, the three readers */
	size_t		 nlat, lat_cap;
};

/* "ABC...ZABC...": the padding of every line is a piece of it. */
static char	 pr_pattern[PR_LEN + 32];

/* Sender s's line seq stamped t, without its end, into buf. */
static size_t
pr_text(int s, int seq, long long t, char *buf)
{
	int	 n;

	n = snprintf(buf, PR_LEN, "s%d %d %lld ", s, seq, t);
	memcpy(buf + n, pr_pattern + (s * 7 + seq + n) % 26,
	    (size_t)(PR_LEN - n));
	buf[PR_LEN] = '\0';
	return PR_LEN;
}

/* A decimal number ending in a space; the rest, or NULL. */
static const char *
pr_number(const char *p, long long *v)
{
	const char	*q = p;

	*v = 0;
	while (*q >= '0' && *q <= '9' && q - p < 18)
		*v = *v * 10 + (*q++ - '0');
	return q > p && *q == ' ' ? q + 1 : NULL;
}

static void
pr_refill(struct pool *p, struct fc *c)
{
	struct pr	*x = p->ctx;
	char		 buf[PR_LEN + 2];
	size_t		 len;
	long long	 t = now_us();

	/* A little at a time: the stamps stay close to the writes. */
	while (x->sending && x->sent[c->id] < PR_MAX_LINES &&
	    fc_pending(c) < 8192 && (size_t)(x->sent[c->id] -
	    x->next[c->id][c->id]) * (PR_LEN + 2) < PR_WINDOW) {
		len = pr_text(c->id, x->sent[c->id]++, t, buf);
		buf[len++] = '\n';
		fc_append(c, buf, len);
	}
}

/* Who c is, for a message. */
static const char *
pr_who(struct pool *p, struct fc *c)
{
	struct pr	*x = p->ctx;
	static char	 buf[4][100];
	static unsigned	 next;
	char		*b = buf[next++ % 4];

	snprintf(b, sizeof(buf[0]), "%s %s", c == x->never ? "the "
	    "never-reader" : c->id == PR_PAUSED ? "the paused reader" :
	    c->id < PR_SENDERS ? "sender" : "reader", c->nick);
	return b;
}

static void
pr_line(struct pool *p, struct fc *c, char *line, size_t len)
{
	struct pr	*x = p->ctx;
	char		*nick, *text, who[64];
	const char	*why, *q;
	struct fc	*from;
	long long	 v, seq, t;
	int		 s, *next = x->next[c->id];
	size_t		 n;

	if ((why = left_notice(line, who, sizeof(who))) != NULL) {
		if (x->never != NULL && strcmp(who, x->never->nick) == 0 &&
		    strcmp(why, "(too slow)") == 0 && !x->saw_left[c->id]) {
			x->saw_left[c->id] = true;
			return;
		}
		from = find_nick(p, who);
		pool_fail(p, "%s got \"%s\"%s%s, %" PRId64 " ms after the "
		    "senders began%s", pr_who(p, c), line, from != NULL ?
		    ": that is " : "", from != NULL ? pr_who(p, from) : "",
		    tn_now_ms() - x->t0, from != NULL && from->id == PR_PAUSED &&
		    x->pause_from != 0 && x->pause_to == 0 ? ", during its "
		    "pause" : "");
		return;
	}
	if (strncmp(line, "-- ", 3) == 0)
		return;
	/* "<NICK> sS SEQ T PAD": cheaply, there are millions of them. */
	if ((text = chat_nick(line, &nick)) == NULL ||
	    (from = find_nick(p, nick)) == NULL || from->id >= PR_SENDERS ||
	    text[0] != 's' || (q = pr_number(text + 1, &v)) == NULL ||
	    v != from->id || (q = pr_number(q, &seq)) == NULL ||
	    (q = pr_number(q, &t)) == NULL) {
		pool_fail(p, "%s got \"%s\"", pr_who(p, c),
		    tn_quote(line, len));
		return;
	}
	s = from->id;
	n = (size_t)(q - text);
	if (seq != next[s] || len - (size_t)(text - line) != PR_LEN ||
	    memcmp(q, pr_pattern + (s * 7 + seq + (long long)n) % 26,
	    PR_LEN - n) != 0) {
		pool_fail(p, "%s: from %s expected line %d, got line %lld%s: "
		    "\"%.40s\"", pr_who(p, c), nick, next[s], seq, seq == next[s] ?
		    " not whole" : "", tn_quote(text, strlen(text)));
		return;
	}
	next[s]++;
	if (c->id >= PR_SENDERS && c->id < PR_PAUSED) {
		if (x->nlat == x->lat_cap) {
			x->lat_cap = x->lat_cap ? x->lat_cap * 2 : 65536;
			x->lat = realloc(x->lat, x->lat_cap * sizeof(*x->lat));
			ck_assert_ptr_nonnull(x->lat);
		}
		x->lat[x->nlat++] = (uint32_t)(now_us() - t);
	}
}

static void
pr_end(struct pool *p, struct fc *c)
{
	struct pr	*x = p->ctx;
	int		 s, got = 0, sent = 0;

	if (c == x->never)
		return;
	for (s = 0; s < PR_SENDERS; s++) {
		got += x->next[c->id][s];
		sent += x->sent[s];
	}
	pool_fail(p, "%s: connection closed (%s) %" PRId64 " ms after the "
	    "senders began, with %d of the %d lines they had written%s",
	    pr_who(p, c), c->end_how, c->end_ms - x->t0, got, sent,
	    c->id == PR_PAUSED && x->pause_from != 0 && x->pause_to == 0 ?
	    " (in its pause)" : "");
}

static bool
pr_done(struct pool *p)
{
	struct pr	*x = p->ctx;
	int		 i, s;

	if (x->sending)
		return false;
	if (x->never != NULL && !x->never->ended) {
		if (tn_now_ms() - x->t0 >= SCALED(PR_CUT_MS))
			pool_fail(p, "the never-reader %s was not cut within "
			    "%" PRId64 " ms", x->never->nick,
			    SCALED(PR_CUT_MS));
		return false;
	}
	for (i = 0; i < PR_CLIENTS - 1; i++) {
		if (x->never != NULL && !x->saw_left[i])
			return false;
		for (s = 0; s < PR_SENDERS; s++)
			if (x->next[i][s] < x->sent[s])
				return false;
	}
	return true;
}

static void
pr_missing(struct pool *p)
{
	struct pr	*x = p->ctx;
	size_t		 o = strlen(p->err);
	int		 i, s;

	for (i = 0; i < PR_CLIENTS - 1; i++)
		for (s = 0; s < PR_SENDERS; s++)
			if (x->next[i][s] < x->sent[s]) {
				snprintf(p->err + o, sizeof(p->err) - o, "; %s "
				    "has %d of %s's %d lines", pr_who(p,
				    p->c[i]), x->next[i][s], p->c[s]->nick,
				    x->sent[s]);
				return;
			}
	for (i = 0; i < PR_CLIENTS - 1 && x->never != NULL; i++)
		if (!x->saw_left[i]) {
			snprintf(p->err + o, sizeof(p->err) - o, "; %s has not "
			    "seen \"-- %s left (too slow)\"", pr_who(p, p->c[i]),
			    x->never->nick);
			return;
		}
}

/*
 * One run of the paused-reader scenario: the reader pauses npauses
 * times for PR_PAUSE_MS, every every_ms from PR_PAUSE_AT_MS, with or
 * without a never-reader beside it.
 */
static void
pr_run(const char *name, int npauses, int every_ms, bool with_never)
{
	struct args	 a = { .n = 0 };
	struct pool	 p;
	struct pr	 x;
	struct fc	*paused;
	char		 slow_ms[32];
	int64_t		 now, run_ms;
	int		 it, i, total;

	for (i = 0; i < (int)sizeof(pr_pattern); i++)
		pr_pattern[i] = (char)('A' + i % 26);
	run_ms = PR_PAUSE_AT_MS + (int64_t)(npauses - 1) * every_ms +
	    PR_PAUSE_MS + (PR_RUN_MS - PR_PAUSE_AT_MS - PR_PAUSE_MS);
	args_add(&a, "--workers", "2", "--rate", "0", NULL);
	/*
	 * Under a sanitizer this process reads up to ten times slower, so
	 * each pause stalls the socket for longer than PR_PAUSE_MS, and four
	 * of them spend the hold budget (2 x --slow-timeout) that the plain
	 * build's 0.5 s pauses stay within.  The timing rule is the plain
	 * build's to check; the sanitizers check the same traffic for races
	 * and loss with the timeout stretched as every deadline here is.
	 */
	if (slowdown > 1) {
		snprintf(slow_ms, sizeof(slow_ms), "%" PRId64, SCALED(1000));
		args_slow_timeout(&a, slow_ms);
	}
	for (it = 1; it <= loops; it++) {
		memset(&x, 0, sizeof(x));
		pool_init(&p, start(a.v), it, &x);
		p.on_line = pr_line;
		p.on_end = pr_end;
		p.refill = pr_refill;
		for (i = 0; i < PR_SENDERS + PR_READERS; i++)
			pool_add(&p, 0, 0, NULL);
		paused = pool_add(&p, PR_PAUSED_RCVBUF, 0, NULL);
		x.never = with_never ? pool_add_never(&p) : NULL;
		pool_welcome(&p);
		for (i = 0; i < PR_SENDERS && p.err[0] == '\0'; i++)
			p.c[i]->sends = true;
		x.sending = true;
		x.t0 = tn_now_ms();
		while (p.err[0] == '\0' && x.sending) {
			now = tn_now_ms();
			if (x.pauses < npauses && paused->reading && now - x.t0 >=
			    PR_PAUSE_AT_MS + (int64_t)x.pauses * every_ms) {
				paused->reading = false;
				x.pause_from = now;
				x.pause_to = 0;
			}
			if (!paused->reading && now - x.pause_from >=
			    PR_PAUSE_MS) {
				ioctl(paused->fd, FIONREAD, &x.paused_inq);
				paused->reading = true;
				x.pause_to = now;
				x.pauses++;
			}
			if (now - x.t0 >= run_ms && x.pauses == npauses)
				x.sending = false;
			pump(&p, 5);
		}
		if (!pool_run(&p, pr_done, x.t0 + SCALED(PR_DEADLINE), 50,
		    name) && (strstr(p.err, ": deadline passed") ||
		    strstr(p.err, ": nothing moved for ")))
			pr_missing(&p);
		if (p.err[0] == '\0') {
			qsort(x.lat, x.nlat, sizeof(*x.lat), cmp_u32);
			for (i = 0, total = 0; i < PR_SENDERS; i++)
				total += x.sent[i];
			printf("%s: iteration %d p50 %.1f ms p99 %.1f ms",
			    name, it, x.nlat ? x.lat[x.nlat / 2] / 1000.0 : 0,
			    x.nlat ? x.lat[x.nlat * 99 / 100] / 1000.0 : 0);
			if (x.never != NULL)
				printf(", never-reader cut after %" PRId64 " ms",
				    x.never->end_ms - x.t0);
			printf(" (%d lines of %d bytes from %d senders; %d "
			    "pauses, the last with %d bytes waiting after %"
			    PRId64 " ms)\n", total, PR_LEN, PR_SENDERS,
			    x.pauses, x.paused_inq, x.pause_to - x.pause_from);
		}
		free(x.lat);
		pool_verdict(&p);
	}
}

START_TEST(test_paused_reader)
{
	pr_run("paused_reader", 1, 0, true);
}
END_TEST

/*
 * 3a. The same reader pauses four times for 0.5 s, 0.75 s apart, with
 * no never-reader: stalled for 2 s in all, but it catches up between
 * pauses, and each catch-up starts its stall time again from nothing,
 * so it is never cut.
 */
START_TEST(test_paused_reader_repeatedly)
{
	pr_run("paused_reader_repeatedly", 4, 750, false);
}
END_TEST

/*
 * 4. --slow-timeout 1000: a sender sends K numbered lines, one every
 * millisecond, to three readers (and reads them too); meanwhile a new
 * never-reader connects every 300 ms until the readers have every line.
 * The readers get every line in order, and the run ends within what
 * the hold budget allows (nr_bound below; ten times the unimpeded run,
 * measured first, is the liveness deadline): never-readers that keep
 * coming cannot hold the room up for ever.  The
 * never-readers that were owed more than --sendq plus a margin for the
 * kernel's buffers must have been cut, and the readers told "too slow".
 */
#define NR_READERS	4	/* the sender is the first */
#define NR_LINES	3000
#define NR_LEN		2000
#define NR_PACE_US	1000
#define NR_EVERY_MS	300
#define NR_OWED		(2 * SENDQ)	/* must be cut past this */
#define NR_CUT_MS	6000	/* after the readers are done */
#define NR_JOINS_MAX	4000

static int64_t	 nr_unimpeded;	/* ms, for the log */
/*
 * What never-readers may cost the run: the hold budget lets stalled
 * clients hold the senders for 2 x --slow-timeout (drained at 7/8, so
 * about 2.3 s) at a stretch and an eighth of the time after that.  The
 * bound is the unimpeded time, plus 4 s, plus a quarter: twice what the
 * budget allows, while never-readers that each held for --slow-timeout
 * made the run three to four times as long.
 */
static int64_t	 nr_bound;

struct nr {
	int64_t		 t0_us;
	int		 sent;
	int		 next[NR_READERS];
	uint64_t	 relayed;	/* bytes reader 1 got so far */
	struct {
		char	 nick[64];
		uint64_t at;		/* relayed when it joined */
		char	 left[32];	/* the reason it left with */
	}		*joins;
	size_t		 njoins;
	size_t		 nnever;	/* never-readers connected */
	size_t		 ncut;
};

static size_t
nr_text(int seq, char *buf)
{
	int	 n, k;

	n = snprintf(buf, 16, "k%d ", seq);
	for (k = n; k < NR_LEN; k++)
		buf[k] = (char)('a' + (seq * 3 + k) % 26);
	buf[NR_LEN] = '\0';
	return NR_LEN;
}

static void
nr_refill(struct pool *p, struct fc *c)
{
	struct nr	*x = p->ctx;
	char		 buf[NR_LEN + 2];
	size_t		 len;
	int64_t		 due = (now_us() - x->t0_us) / NR_PACE_US + 1;

	while (x->sent < NR_LINES && x->sent < due) {
		len = nr_text(x->sent++, buf);
		buf[len++] = '\n';
		fc_append(c, buf, len);
	}
}

static void
nr_line(struct pool *p, struct fc *c, char *line, size_t len)
{
	struct nr	*x = p->ctx;
	char		*nick, *text, who[64], want[NR_LEN + 1];
	const char	*why;
	size_t		 i;
	int		 j;

	if ((why = left_notice(line, who, sizeof(who))) != NULL) {
		/* Reader 1 saw the join before: one order for all. */
		for (i = 0; i < x->njoins; i++)
			if (strcmp(x->joins[i].nick, who) == 0)
				break;
		for (j = 0; j < NR_READERS; j++)
			if (strcmp(p->c[j]->nick, who) == 0)
				break;
		if (j < NR_READERS || (c->id == 1 && i == x->njoins)) {
			pool_fail(p, "reader %s got \"%s\" after %d lines",
			    c->nick, line, x->next[c->id]);
			return;
		}
		if (c->id == 1)
			snprintf(x->joins[i].left, sizeof(x->joins[i].left),
			    "%s", why);
		return;
	}
	if (strncmp(line, "-- ", 3) == 0) {
		if (c->id == 1 && strstr(line, " joined") != NULL) {
			ck_assert_uint_lt(x->njoins, NR_JOINS_MAX);
			snprintf(x->joins[x->njoins].nick,
			    sizeof(x->joins[0].nick), "%.*s",
			    (int)(strstr(line, " joined") - line - 3),
			    line + 3);
			x->joins[x->njoins++].at = x->relayed;
		}
		return;
	}
	if ((text = chat_nick(line, &nick)) == NULL ||
	    strcmp(nick, p->c[0]->nick) != 0) {
		pool_fail(p, "reader %s got \"%s\" after %d of %d lines",
		    c->nick, tn_quote(line, len), x->next[c->id], NR_LINES);
		return;
	}
	nr_text(x->next[c->id], want);
	if (x->next[c->id] == NR_LINES || strcmp(text, want) != 0) {
		pool_fail(p, "reader %s: line %d: expected \"%.12s...\", got "
		    "\"%.12s...\" (%zu bytes)", c->nick, x->next[c->id],
		    x->next[c->id] == NR_LINES ? "(none)" : want,
		    tn_quote(text, strlen(text)), strlen(text));
		return;
	}
	x->next[c->id]++;
	if (c->id == 1)
		x->relayed += len + 2;
}

static void
nr_end(struct pool *p, struct fc *c)
{
	struct nr	*x = p->ctx;

	if (c->welcome_only) {
		x->ncut++;
		return;
	}
	pool_fail(p, "reader %s: connection closed (%s) after %d of %d "
	    "lines", c->nick, c->end_how, x->next[c->id], NR_LINES);
}

static bool
nr_done(struct pool *p)
{
	struct nr	*x = p->ctx;
	int		 i;

	for (i = 0; i < NR_READERS; i++)
		if (x->next[i] < NR_LINES)
			return false;
	return true;
}

/* The join of never-reader c, as reader 1 saw it, or NULL. */
static size_t
nr_join(struct nr *x, struct fc *c)
{
	size_t	 i;

	for (i = 0; i < x->njoins; i++)
		if (strcmp(x->joins[i].nick, c->nick) == 0)
			return i;
	return SIZE_MAX;
}

/* The never-readers owed enough are cut, and the readers were told. */
static bool
nr_cut_done(struct pool *p)
{
	struct nr	*x = p->ctx;
	struct fc	*c;
	size_t		 i, j;

	for (i = NR_READERS; i < p->n; i++) {
		c = p->c[i];
		if (!c->welcomed && !c->ended)
			return false;	/* its join is still on the way */
		if ((j = nr_join(x, c)) == SIZE_MAX)
			return false;
		if (!c->ended && x->relayed - x->joins[j].at >= NR_OWED)
			return false;
		if (c->ended && x->joins[j].left[0] == '\0')
			return false;
	}
	return true;
}

/* One run; never-readers join every NR_EVERY_MS if with_never. */
static int64_t
nr_once(int it, bool with_never, int64_t deadline_ms)
{
	struct args	 a = { .n = 0 };
	struct pool	 p;
	struct nr	 x;
	struct fc	*c;
	int64_t		 t0, next_never, elapsed, cut_sum = 0;
	uint64_t	 moved;
	int64_t		 still;
	size_t		 i, j, max_never, owed_cut = 0;

	memset(&x, 0, sizeof(x));
	x.joins = calloc(NR_JOINS_MAX, sizeof(*x.joins));
	ck_assert_ptr_nonnull(x.joins);
	args_add(&a, "--workers", "2", "--rate", "0", NULL);
	args_slow_timeout(&a, "1000");
	pool_init(&p, start(a.v), it, &x);
	p.on_line = nr_line;
	p.on_end = nr_end;
	p.refill = nr_refill;
	for (i = 0; i < NR_READERS; i++)
		pool_add(&p, 0, 0, NULL);
	pool_welcome(&p);
	/* Enough never-readers to outlast the deadline, if they hold it. */
	max_never = (size_t)(deadline_ms / NR_EVERY_MS) + 10;
	if (max_never > NR_JOINS_MAX - NR_READERS - 1)
		max_never = NR_JOINS_MAX - NR_READERS - 1;
	t0 = tn_now_ms();
	x.t0_us = now_us();
	next_never = t0;
	moved = p.moved;
	still = t0;
	if (p.err[0] == '\0')
		p.c[0]->sends = true;
	while (p.err[0] == '\0' && !nr_done(&p)) {
		if (tn_now_ms() - t0 >= deadline_ms) {
			pool_fail(&p, "the readers did not have all %d lines "
			    "within %" PRId64 " ms, ten times the %s: they had "
			    "%d, %d, %d and %d, the sender had sent %d; %zu "
			    "never-readers had come, %zu were cut", NR_LINES,
			    deadline_ms, slowdown > 1 ? "unimpeded run's time "
			    "(scaled)" : "unimpeded run's time", x.next[0],
			    x.next[1], x.next[2], x.next[3], x.sent,
			    x.nnever, x.ncut);
			break;
		}
		if (p.moved != moved) {
			moved = p.moved;
			still = tn_now_ms();
		} else if (tn_now_ms() - still >= SCALED(STALL_MS)) {
			pool_fail(&p, "nothing moved for %" PRId64 " ms",
			    SCALED(STALL_MS));
			break;
		}
		if (with_never && tn_now_ms() >= next_never && x.nnever <
		    max_never) {
			pool_add_never(&p);
			x.nnever++;
			next_never += NR_EVERY_MS;
		}
		pump(&p, 1);
	}
	elapsed = tn_now_ms() - t0;
	if (p.err[0] == '\0' && with_never &&
	    !pool_run(&p, nr_cut_done, tn_now_ms() + SCALED(NR_CUT_MS), 20,
	    "never_readers_one_after_another, after the readers were done")) {
		for (i = NR_READERS; i < p.n; i++) {
			c = p.c[i];
			j = nr_join(&x, c);
			snprintf(p.err + strlen(p.err), sizeof(p.err) -
			    strlen(p.err), "; %s: %s, owed %" PRIu64 " bytes, "
			    "left: %s", c->nick, c->ended ? "cut" : "not cut",
			    j == SIZE_MAX ? 0 : x.relayed - x.joins[j].at,
			    j == SIZE_MAX ? "(no join seen)" :
			    x.joins[j].left[0] ? x.joins[j].left : "(no notice)");
		}
	}
	for (i = NR_READERS; i < p.n && p.err[0] == '\0'; i++) {
		c = p.c[i];
		j = nr_join(&x, c);
		if (c->ended && strcmp(x.joins[j].left, "(too slow)") != 0)
			pool_fail(&p, "never-reader %s left with \"%s\", not "
			    "\"(too slow)\"", c->nick, x.joins[j].left);
		if (c->ended) {
			cut_sum += c->end_ms - c->connect_ms;
			owed_cut += x.relayed - x.joins[j].at >= NR_OWED;
		}
	}
	/* The hold budget's bound (doc/SECURITY.md 2.1), with a margin. */
	if (p.err[0] == '\0' && with_never && elapsed > nr_bound)
		pool_fail(&p, "iteration %d: %d lines took %" PRId64 " ms with "
		    "never-readers, past the %" PRId64 " ms the hold budget "
		    "allows (unimpeded %" PRId64 " ms)", it, NR_LINES, elapsed,
		    nr_bound, nr_unimpeded);
	if (p.err[0] == '\0' && with_never)
		printf("never_readers_one_after_another: iteration %d: %d "
		    "lines in %" PRId64 " ms, unimpeded %" PRId64 " ms (x%.1f); "
		    "%zu never-readers, %zu cut (%zu of them owed more than %d "
		    "bytes), %" PRId64 " ms from connect to cut on average\n",
		    it, NR_LINES, elapsed, nr_unimpeded, nr_unimpeded > 0 ?
		    (double)elapsed / (double)nr_unimpeded : 0.0, x.nnever,
		    x.ncut, owed_cut, NR_OWED, x.ncut ? cut_sum /
		    (int64_t)x.ncut : 0);
	free(x.joins);
	pool_verdict(&p);
	return elapsed;
}

START_TEST(test_never_readers_one_after_another)
{
	int64_t	 unimpeded, deadline;
	int	 it;

	unimpeded = nr_unimpeded = nr_once(0, false, SCALED(120000));
	deadline = 10 * unimpeded * slowdown;
	nr_bound = unimpeded + unimpeded / 4 + SCALED(4000);
	printf("never_readers_one_after_another: unimpeded, %d lines in "
	    "%" PRId64 " ms; deadline with never-readers %" PRId64 " ms\n",
	    NR_LINES, unimpeded, deadline);
	for (it = 1; it <= loops; it++)
		nr_once(it, true, deadline);
}
END_TEST

/*
 * 5. A reader with SO_RCVBUF 2048 (and a small MSS, so that chatd's
 * socket buffer for it stays small as well) reads 100 to 400 bytes at
 * a time with 1-2 ms pauses, while another client sends 2,000 lines of
 * 1 to 400 bytes (deterministic pseudo-random): chatd's socket to it
 * is full most of the time, and its writes come up short.  It must get
 * every line whole and in order.  All of it stays far below half of
 * --sendq, so the reader is within every limit.
 */
#define SB_LINES	2000
#define SB_TEXT_MAX	360	/* random bytes after the number, at most */
#define SB_RCVBUF	2048
#define SB_LIMIT	(400 * 1024)	/* total relayed, at most */
#define SB_DEADLINE	120000

struct sb {
	uint64_t	 seed;
	int		 sent;
	int		 next[2];
	uint64_t	 total;		/* bytes relayed to each */
};

static uint64_t
sb_rand(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* Line seq of iteration seed, without its end, in buf. */
static size_t
sb_text(uint64_t seed, int seq, char *buf)
{
	static const char	 set[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;!?-+=*()";
	uint64_t		 s = seed * 1000003 + (uint64_t)seq + 1;
	size_t			 n, len, k;

	sb_rand(&s);
	n = (size_t)snprintf(buf, 16, "%d", seq);
	len = (size_t)(sb_rand(&s) % (SB_TEXT_MAX + 1));
	if (len > 0) {
		buf[n++] = ' ';
		for (k = 0; k < len; k++)
			buf[n++] = set[sb_rand(&s) % (sizeof(set) - 1)];
	}
	buf[n] = '\0';
	return n;
}

static void
sb_refill(struct pool *p, struct fc *c)
{
	struct sb	*x = p->ctx;
	char		 buf[SB_TEXT_MAX + 32];
	size_t		 len;

	while (x->sent < SB_LINES && fc_pending(c) < 64 * 1024) {
		len = sb_text(x->seed, x->sent++, buf);
		buf[len++] = '\n';
		fc_append(c, buf, len);
	}
}

static void
sb_line(struct pool *p, struct fc *c, char *line, size_t len)
{
	struct sb	*x = p->ctx;
	char		*nick, *text, want[SB_TEXT_MAX + 32];
	const char	*who = c->id == 0 ? "the sender" : "the slow reader";

	if (strncmp(line, "-- ", 3) == 0 && left_notice(line, want,
	    sizeof(want)) == NULL)
		return;		/* a join */
	if ((text = chat_nick(line, &nick)) == NULL ||
	    strcmp(nick, p->c[0]->nick) != 0) {
		pool_fail(p, "%s got \"%s\" after %d of %d lines", who,
		    tn_quote(line, len), x->next[c->id], SB_LINES);
		return;
	}
	if (x->next[c->id] == SB_LINES) {
		pool_fail(p, "%s got a line after all %d: \"%s\"", who,
		    SB_LINES, tn_quote(text, strlen(text)));
		return;
	}
	sb_text(x->seed, x->next[c->id], want);
	if (strcmp(text, want) != 0) {
		pool_fail(p, "%s: line %d (seed %" PRIu64 "): expected "
		    "\"%s\" (%zu bytes), got \"%s\" (%zu bytes)", who,
		    x->next[c->id], x->seed, tn_quote(want, strlen(want)),
		    strlen(want), tn_quote(text, strlen(text)), strlen(text));
		return;
	}
	x->next[c->id]++;
}

static void
sb_end(struct pool *p, struct fc *c)
{
	struct sb	*x = p->ctx;

	pool_fail(p, "%s: connection closed (%s) after %d of %d lines",
	    c->id == 0 ? "the sender" : "the slow reader", c->end_how,
	    x->next[c->id], SB_LINES);
}

static bool
sb_done(struct pool *p)
{
	struct sb	*x = p->ctx;

	return x->next[0] == SB_LINES && x->next[1] == SB_LINES;
}

START_TEST(test_slow_small_buffer_reader)
{
	struct args	 a = { .n = 0 };
	struct pool	 p;
	struct sb	 x;
	struct fc	*slow;
	char		 buf[SB_TEXT_MAX + 32];
	int64_t		 t0;
	int		 it, i, rcvbuf;
	socklen_t	 len;

	args_add(&a, "--workers", "2", "--rate", "0", NULL);
	for (it = 1; it <= loops; it++) {
		memset(&x, 0, sizeof(x));
		x.seed = (uint64_t)it;
		pool_init(&p, start(a.v), it, &x);
		p.on_line = sb_line;
		p.on_end = sb_end;
		p.refill = sb_refill;
		pool_add(&p, 0, 0, NULL);
		slow = pool_add(&p, SB_RCVBUF, SMALL_MSS, NULL);
		pool_welcome(&p);
		for (i = 0; i < SB_LINES; i++)
			x.total += sb_text(x.seed, i, buf) +
			    strlen(p.c[0]->nick) + 5;
		ck_assert_msg(x.total < SB_LIMIT, "the lines add up to %"
		    PRIu64 " bytes, more than %d", x.total, SB_LIMIT);
		rcvbuf = 0;
		len = sizeof(rcvbuf);
		if (p.err[0] == '\0') {
			getsockopt(slow->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
			    &len);
			slow->paced = true;
			slow->read_max = 300;
			p.c[0]->sends = true;
		}
		t0 = tn_now_ms();
		if (!pool_run(&p, sb_done, t0 + SCALED(SB_DEADLINE), 20,
		    "slow_small_buffer_reader"))
			snprintf(p.err + strlen(p.err), sizeof(p.err) -
			    strlen(p.err), "; the sender sent %d, got %d; "
			    "the slow reader got %d", x.sent, x.next[0],
			    x.next[1]);
		if (p.err[0] == '\0')
			printf("slow_small_buffer_reader: iteration %d: %d "
			    "lines, %" PRIu64 " bytes, in %" PRId64 " ms, %u "
			    "reads; at most %d bytes waited in its socket "
			    "(SO_RCVBUF %d)\n", it, SB_LINES, x.total,
			    tn_now_ms() - t0, slow->reads, slow->max_inq,
			    rcvbuf);
		pool_verdict(&p);
	}
}
END_TEST

int
main(void)
{
	/* Seconds per iteration, generous; times loops and slowdown. */
	struct {
		const char	*name;
		const TTest	*fn;
		int		 per_loop;
	} t[] = {
		{ "flood_one_address", test_flood_one_address, 30 },
		{ "flood_one_address_ascii", test_flood_one_address_ascii,
		    30 },
		{ "no_rate_limit_flood", test_no_rate_limit_flood, 40 },
		{ "paused_reader", test_paused_reader, 40 },
		{ "paused_reader_repeatedly", test_paused_reader_repeatedly,
		    50 },
		{ "never_readers_one_after_another",
		    test_never_readers_one_after_another, 60 },
		{ "slow_small_buffer_reader", test_slow_small_buffer_reader,
		    30 },
	};
	struct net_test	 tests[sizeof(t) / sizeof(t[0])];
	const char	*old;
	size_t		 i;

	loops = env_int("CHATD_TEST_LOOPS", 10, 1, 100000);
	slowdown = env_int("CHATD_TEST_SLOWDOWN", DEFAULT_SLOWDOWN, 1, 1000);
	old = getenv("CHATD_TEST_OLD_SERVER");
	old_server = old != NULL && *old != '\0' && strcmp(old, "0") != 0;
	printf("check_fairness: %d loops, deadlines x%d%s\n", loops, slowdown,
	    old_server ? ", without --slow-timeout (CHATD_TEST_OLD_SERVER)" :
	    "");
	tn_raise_nofile();
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		tests[i].name = t[i].name;
		tests[i].fn = t[i].fn;
		tests[i].timeout = (t[i].per_loop * (loops + 1) + 30) *
		    slowdown;
	}
	return net_main(NET_SUITE("fairness", tests, NULL, NULL));
}
