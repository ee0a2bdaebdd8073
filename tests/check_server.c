/*
 * check_server.c - integration tests: run the real chatd (path in
 * $CHATD) and talk to it over TCP.  Every test starts its own daemon
 * on a free port and stops it with SIGTERM, expecting exit status 0.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <time.h>

#include "check_net.h"
#include "check_run.h"

static void
say_all(struct tn_client *c, struct tn_client **all, size_t n,
    const char *text)
{
	size_t	i;

	SENDF(c, "%s\r\n", text);
	for (i = 0; i < n; i++)
		EXPECTF(all[i], "<%s> %s", c->nick, text);
}

static void
upcase(char *dst, const char *src, size_t size)
{
	size_t	i;

	for (i = 0; src[i] != '\0' && i + 1 < size; i++)
		dst[i] = (char)toupper((unsigned char)src[i]);
	dst[i] = '\0';
}

/* Read and discard until the peer closes; 0 on EOF or reset. */
static int
wait_closed(struct tn_client *c, int timeout_ms)
{
	char		buf[65536];
	struct pollfd	pfd;
	int64_t		deadline;
	ssize_t		n;

	deadline = tn_now_ms() + timeout_ms;
	c->len = 0;
	while (tn_now_ms() < deadline) {
		n = recv(c->fd, buf, sizeof buf, 0);
		if (n == 0 || (n == -1 && errno == ECONNRESET))
			return 0;
		if (n > 0)
			continue;
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		poll(&pfd, 1, 100);
	}
	return -1;
}

/*
 * 1. Three clients chat.
 */
START_TEST(test_chat)
{
	struct tn_daemon	*d;
	struct tn_client	*a, *b, *c, *all[3];
	char			 line[TN_LINE_MAX], old[160], up[160];
	char			 want[400], *p, *tok;
	int			 seen, n;

	d = start(NULL);
	a = join(d);
	ck_assert_int_eq(a->online, 1);
	b = join(d);
	ck_assert_int_eq(b->online, 2);
	EXPECTF(a, "-- %s joined", b->nick);
	c = join(d);
	ck_assert_int_eq(c->online, 3);
	EXPECTF(a, "-- %s joined", c->nick);
	EXPECTF(b, "-- %s joined", c->nick);
	ck_assert_str_ne(a->nick, b->nick);
	ck_assert_str_ne(a->nick, c->nick);
	ck_assert_str_ne(b->nick, c->nick);
	all[0] = a;
	all[1] = b;
	all[2] = c;

	say_all(a, all, 3, "hello all");
	say_all(c, all, 3, "inner   spaces  kept");

	/* /nick */
	snprintf(old, sizeof old, "%s", b->nick);
	SEND(b, "/nick bob\r\n");
	EXPECTF(a, "-- %s is now known as bob", old);
	EXPECTF(b, "-- %s is now known as bob", old);
	EXPECTF(c, "-- %s is now known as bob", old);
	snprintf(b->nick, sizeof b->nick, "bob");
	say_all(b, all, 3, "I am bob");

	/* /me */
	SEND(c, "/me waves\r\n");
	EXPECTF(a, "* %s waves", c->nick);
	EXPECTF(b, "* %s waves", c->nick);
	EXPECTF(c, "* %s waves", c->nick);

	/* /msg: only the target and the sender see it */
	SEND(a, "/msg bob psst  a secret\r\n");
	EXPECTF(b, "*%s* psst  a secret", a->nick);
	EXPECT(a, "-> *bob* psst  a secret");
	say_all(b, all, 3, "after the secret");
	SEND(a, "/msg nobody hi\r\n");
	EXPECT(a, "!! no such nick: nobody");

	/* /who */
	SEND(c, "/who\r\n");
	EXPECT_PREFIX(c, "-- 3 online: ", line);
	seen = 0;
	p = line + strlen("-- 3 online: ");
	while ((tok = strsep(&p, " ")) != NULL) {
		if (strcmp(tok, a->nick) == 0)
			seen |= 1;
		else if (strcmp(tok, "bob") == 0)
			seen |= 2;
		else if (strcmp(tok, c->nick) == 0)
			seen |= 4;
		else
			ck_abort_msg("/who lists \"%s\" (a %s, b bob, c %s)",
			    tok, a->nick, c->nick);
	}
	ck_assert_msg(seen == 7, "/who misses a nick: mask %d", seen);

	/* /help: "-- commands:" then more "-- " lines */
	SEND(a, "/help\r\n");
	EXPECT(a, "-- commands:");
	SEND(a, "sync after help\r\n");
	for (n = 0;; n++) {
		ck_assert_msg(tn_readline(a, line, sizeof line,
		    TN_LINE_TIMEOUT) >= 0, "%s", tn_error());
		if (strncmp(line, "<", 1) == 0)
			break;
		ck_assert_msg(strncmp(line, "-- ", 3) == 0,
		    "/help line \"%s\" does not start with \"-- \"", line);
	}
	ck_assert_msg(n >= 2, "/help gave only %d lines after the first", n);
	snprintf(want, sizeof want, "<%s> sync after help", a->nick);
	ck_assert_str_eq(line, want);
	EXPECTF(b, "<%s> sync after help", a->nick);
	EXPECTF(c, "<%s> sync after help", a->nick);

	/* errors */
	SEND(a, "/frobnicate now\r\n");
	EXPECT(a, "!! unknown command /frobnicate, try /help");
	SEND(a, "/nick\r\n");
	EXPECT(a, "!! usage: /nick NAME");
	SEND(a, "/msg bob\r\n");
	EXPECT(a, "!! usage: /msg NICK TEXT");
	SEND(a, "/nick 9lives\r\n");
	EXPECT_PREFIX(a, "!! invalid nickname: ", line);

	/* a taken nick, in another case */
	upcase(up, a->nick, sizeof up);
	SENDF(b, "/nick %s\r\n", up);
	ck_assert_msg(tn_readline(b, line, sizeof line, TN_LINE_TIMEOUT) >=
	    0, "%s", tn_error());
	snprintf(want, sizeof want, "!! nickname %s is taken", up);
	ck_assert_msg(strcasecmp(line, want) == 0,
	    "expected \"%s\", got \"%s\"", want, line);
	SEND(a, "/nick BoB\r\n");
	EXPECT(a, "!! nickname BoB is taken");
	say_all(b, all, 3, "still bob");
	say_all(a, all, 3, "still me");

	/* /quit with a reason */
	SEND(c, "/quit gone fishing\r\n");
	EXPECT(c, "-- bye");
	EXPECT_EOF(c);
	EXPECTF(a, "-- %s left (gone fishing)", c->nick);
	EXPECTF(b, "-- %s left (gone fishing)", c->nick);
	tn_close(c);

	/* a plain close */
	tn_close(b);
	EXPECT(a, "-- bob left");
	SEND(a, "/quit\r\n");
	EXPECT(a, "-- bye");
	EXPECT_EOF(a);
	tn_close(a);
	stop(d);
}
END_TEST

/*
 * 2. Order: 5 of 20 clients send 200 lines each at once; all 20 see the
 * same order, and each sender's lines in the order it sent them.
 */
#define ORDER_CLIENTS	20
#define ORDER_SENDERS	5
#define ORDER_LINES	200
#define ORDER_TOTAL	(ORDER_SENDERS * ORDER_LINES)

struct order_ctx;

struct order_peer {
	struct order_ctx	*ctx;
	struct tn_client	*c;
	int			 sender;	/* index, or -1 */
	int			 seq[ORDER_TOTAL];
	int			 n;
	char			 err[1024];
	pthread_t		 reader, writer;
};

struct order_ctx {
	struct order_peer	 peers[ORDER_CLIENTS];
	int			 senders[ORDER_SENDERS];	/* peer index */
};

static int
order_parse(struct order_peer *p, const char *line)
{
	struct order_ctx	*ctx = p->ctx;
	const char		*gt, *nick;
	size_t			 len;
	int			 s, j, used;

	if (line[0] != '<' || (gt = strstr(line, "> ")) == NULL)
		return -1;
	nick = line + 1;
	len = (size_t)(gt - nick);
	if (sscanf(gt + 2, "order %d %d%n", &s, &j, &used) != 2 ||
	    gt[2 + used] != '\0' || s < 0 || s >= ORDER_SENDERS || j < 0 ||
	    j >= ORDER_LINES)
		return -1;
	if (strlen(ctx->peers[ctx->senders[s]].c->nick) != len ||
	    strncmp(ctx->peers[ctx->senders[s]].c->nick, nick, len) != 0)
		return -1;
	return s * ORDER_LINES + j;
}

static void *
order_read(void *arg)
{
	struct order_peer	*p = arg;
	char			 line[TN_LINE_MAX];
	int			 r, id;

	while (p->n < ORDER_TOTAL) {
		r = tn_readline(p->c, line, sizeof line, 30000);
		if (r < 0) {
			snprintf(p->err, sizeof p->err, "after %d lines: %s",
			    p->n, tn_error());
			break;
		}
		if (strncmp(line, "-- ", 3) == 0)
			continue;	/* a join notice */
		if ((id = order_parse(p, line)) == -1) {
			snprintf(p->err, sizeof p->err, "unexpected line "
			    "\"%s\"", tn_quote(line, (size_t)r));
			break;
		}
		p->seq[p->n++] = id;
	}
	return NULL;
}

static void *
order_write(void *arg)
{
	struct order_peer	*p = arg;
	int			 j;

	for (j = 0; j < ORDER_LINES; j++) {
		if (tn_sendf(p->c, "order %d %d\r\n", p->sender, j) == -1) {
			snprintf(p->err, sizeof p->err, "sending %d: %s", j,
			    tn_error());
			break;
		}
	}
	return NULL;
}

static void
order_check(struct order_ctx *ctx, int i)
{
	struct order_peer	*p = &ctx->peers[i], *p0 = &ctx->peers[0];
	int			 next[ORDER_SENDERS] = { 0 };
	int			 k, s, j;

	ck_assert_msg(p->err[0] == '\0', "client %d (%s): %s", i,
	    p->c->nick, p->err);
	ck_assert_msg(p->n == ORDER_TOTAL, "client %d got %d lines, not %d",
	    i, p->n, ORDER_TOTAL);
	for (k = 0; k < ORDER_TOTAL; k++) {
		s = p->seq[k] / ORDER_LINES;
		j = p->seq[k] % ORDER_LINES;
		ck_assert_msg(j == next[s], "client %d: line %d is \"order "
		    "%d %d\", expected \"order %d %d\" from that sender", i, k,
		    s, j, s, next[s]);
		next[s]++;
		ck_assert_msg(p->seq[k] == p0->seq[k], "client %d and client "
		    "0 differ at line %d: order %d %d vs order %d %d", i, k,
		    s, j, p0->seq[k] / ORDER_LINES, p0->seq[k] % ORDER_LINES);
	}
}

START_TEST(test_order)
{
	static const char *const args[] = { "--rate", "0", NULL };
	struct tn_daemon	*d;
	struct order_ctx	*ctx;
	struct order_peer	*p;
	int			 i;

	ctx = calloc(1, sizeof *ctx);
	ck_assert_ptr_nonnull(ctx);
	d = start(args);
	for (i = 0; i < ORDER_CLIENTS; i++) {
		ctx->peers[i].ctx = ctx;
		ctx->peers[i].c = join(d);
		ctx->peers[i].sender = -1;
	}
	for (i = 0; i < ORDER_SENDERS; i++) {
		ctx->senders[i] = i * (ORDER_CLIENTS / ORDER_SENDERS) + 1;
		ctx->peers[ctx->senders[i]].sender = i;
	}
	for (i = 0; i < ORDER_CLIENTS; i++)
		ck_assert_int_eq(pthread_create(&ctx->peers[i].reader, NULL,
		    order_read, &ctx->peers[i]), 0);
	for (i = 0; i < ORDER_SENDERS; i++) {
		p = &ctx->peers[ctx->senders[i]];
		ck_assert_int_eq(pthread_create(&p->writer, NULL,
		    order_write, p), 0);
	}
	for (i = 0; i < ORDER_SENDERS; i++)
		pthread_join(ctx->peers[ctx->senders[i]].writer, NULL);
	for (i = 0; i < ORDER_CLIENTS; i++)
		pthread_join(ctx->peers[i].reader, NULL);
	for (i = 0; i < ORDER_CLIENTS; i++) {
		if (ctx->peers[i].err[0] != '\0' ||
		    ctx->peers[i].n != ORDER_TOTAL)
			tn_dump_log(d, "order test failed");
		order_check(ctx, i);
	}
	for (i = 0; i < ORDER_CLIENTS; i++)
		tn_close(ctx->peers[i].c);
	free(ctx);
	stop(d);
}
END_TEST

/*
 * 3. A client that never reads is dropped as too slow; the others get
 * every line.
 */
#define SLOW_LEN	200	/* bytes of text per line */
#define SLOW_MIN	3000	/* lines sent at least */
#define SLOW_MAX	100000	/* give up: the slow client was never dropped */

struct slow_ctx {
	struct tn_client	*b;
	atomic_int		 stop;
	atomic_int		 sent;
	int			 b_lines;
	char			 err[1024];
	char			 rerr[1024];
};

static size_t
slow_line(char *buf, size_t size, int i)
{
	int	n;

	n = snprintf(buf, size, "slow %06d ", i);
	memset(buf + n, 'a' + i % 26, SLOW_LEN - (size_t)n);
	buf[SLOW_LEN] = '\0';
	return SLOW_LEN;
}

static void *
slow_write(void *arg)
{
	struct slow_ctx	*ctx = arg;
	char		 buf[SLOW_LEN + 8];
	size_t		 len;
	int		 i;

	for (i = 0; i < SLOW_MAX; i++) {
		if (i >= SLOW_MIN && atomic_load(&ctx->stop))
			break;
		len = slow_line(buf, sizeof buf, i);
		memcpy(buf + len, "\r\n", 2);
		if (tn_send(ctx->b, buf, len + 2) == -1) {
			snprintf(ctx->err, sizeof ctx->err, "B sending line "
			    "%d: %s", i, tn_error());
			break;
		}
		atomic_store(&ctx->sent, i + 1);
		/*
		 * B is fast but not a flood (about 10,000 lines/s): a reader
		 * that keeps up with that must lose nothing.  An unpaced
		 * sender at --rate 0 would outrun any reader, and then the
		 * reader is rightly too slow.
		 */
		if (i % 20 == 19)
			nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
	}
	if (ctx->err[0] == '\0' && tn_sendstr(ctx->b, "slow end\r\n") == -1)
		snprintf(ctx->err, sizeof ctx->err, "B: %s", tn_error());
	return NULL;
}

/* B reads its own echoes so that it does not become slow itself. */
static void *
slow_read(void *arg)
{
	struct slow_ctx	*ctx = arg;
	char		 line[TN_LINE_MAX], end[200];

	snprintf(end, sizeof end, "<%s> slow end", ctx->b->nick);
	for (;;) {
		if (tn_readline(ctx->b, line, sizeof line, 30000) < 0) {
			snprintf(ctx->rerr, sizeof ctx->rerr, "B reading "
			    "after %d lines: %s", ctx->b_lines, tn_error());
			break;
		}
		if (strcmp(line, end) == 0)
			break;
		ctx->b_lines++;
	}
	return NULL;
}

START_TEST(test_slow_consumer)
{
	static const char *const args[] = { "--sendq", "65536", "--rate",
	    "0", NULL };
	struct tn_daemon	*d;
	struct tn_client	*a, *c;
	struct slow_ctx		 ctx;
	pthread_t		 wt, rt;
	char			 line[TN_LINE_MAX], want[TN_LINE_MAX];
	char			 anick[160], left[300], end[200], text[300];
	char			 cerr[1500] = "";
	int			 r, got = 0, left_seen = 0, left_at = -1;

	memset(&ctx, 0, sizeof ctx);
	d = start(args);
	c = join(d);
	a = tn_connect_port(d->port, 4096);
	ck_assert_msg(a != NULL, "%s", tn_error());
	a->d = d;
	EXPECT_PREFIX(c, "-- ", line);
	ck_assert_msg(sscanf(line, "-- %159s joined", anick) == 1,
	    "expected a join notice, got \"%s\"", line);
	snprintf(a->nick, sizeof a->nick, "%s", anick);
	ctx.b = join(d);
	EXPECTF(c, "-- %s joined", ctx.b->nick);
	snprintf(left, sizeof left, "-- %s left (too slow)", anick);
	snprintf(end, sizeof end, "<%s> slow end", ctx.b->nick);

	ck_assert_int_eq(pthread_create(&rt, NULL, slow_read, &ctx), 0);
	ck_assert_int_eq(pthread_create(&wt, NULL, slow_write, &ctx), 0);
	for (;;) {
		r = tn_readline(c, line, sizeof line, 30000);
		if (r < 0) {
			snprintf(cerr, sizeof cerr, "C after %d lines: %s",
			    got, tn_error());
			break;
		}
		if (strcmp(line, left) == 0) {
			left_seen++;
			left_at = got;
			atomic_store(&ctx.stop, 1);
			continue;
		}
		if (strcmp(line, end) == 0)
			break;
		slow_line(text, sizeof text, got);
		snprintf(want, sizeof want, "<%s> %s", ctx.b->nick, text);
		if (strcmp(line, want) != 0) {
			snprintf(cerr, sizeof cerr, "C: line %d from B: "
			    "expected \"<%s> %.20s...\", got \"%.60s\"", got,
			    ctx.b->nick, text, tn_quote(line, (size_t)r));
			break;
		}
		got++;
	}
	atomic_store(&ctx.stop, 1);
	pthread_join(wt, NULL);
	pthread_join(rt, NULL);
	if (cerr[0] != '\0' || ctx.err[0] != '\0' || ctx.rerr[0] != '\0' ||
	    left_seen != 1)
		tn_dump_log(d, "slow consumer test failed");
	ck_assert_msg(cerr[0] == '\0' && ctx.err[0] == '\0' &&
	    ctx.rerr[0] == '\0', "A %s, B %s, C %s; %s; %s; %s; "
	    "C saw the too slow notice for A %d times", anick, ctx.b->nick,
	    c->nick, cerr[0] != '\0' ? cerr : "C ok", ctx.err[0] != '\0' ?
	    ctx.err : "B sent ok", ctx.rerr[0] != '\0' ? ctx.rerr :
	    "B read ok", left_seen);
	ck_assert_msg(left_seen == 1, "C saw \"%s\" %d times (B sent %d "
	    "lines of %d bytes)", left, left_seen, atomic_load(&ctx.sent),
	    SLOW_LEN);
	ck_assert_msg(got == atomic_load(&ctx.sent), "C got %d of B's %d "
	    "lines", got, atomic_load(&ctx.sent));
	ck_assert_msg(ctx.b_lines >= got, "B got %d of its %d lines",
	    ctx.b_lines, got);
	ck_assert_msg(wait_closed(a, 10000) == 0, "the slow client's "
	    "connection was not closed");
	printf("slow consumer: dropped after %d lines of %d bytes, B sent "
	    "%d\n", left_at, SLOW_LEN, got);
	tn_close(a);
	tn_close(c);
	tn_close(ctx.b);
	stop(d);
}
END_TEST

/*
 * 4. Hostile input.
 */
struct bad_input {
	const char	*what;
	const char	*bytes;
	size_t		 len;
};

#define BAD(w, s)	{ (w), (s), sizeof (s) - 1 }

static const struct bad_input bad_utf8[] = {
	BAD("overlong C0 80", "bad \xc0\x80 x\r\n"),
	BAD("overlong C1 BF", "bad \xc1\xbf x\r\n"),
	BAD("overlong E0 80 80", "bad \xe0\x80\x80 x\r\n"),
	BAD("overlong F0 80 80 80", "bad \xf0\x80\x80\x80 x\r\n"),
	BAD("surrogate ED A0 80", "bad \xed\xa0\x80 x\r\n"),
	BAD("surrogate ED BF BF", "bad \xed\xbf\xbf x\r\n"),
	BAD("above U+10FFFF F4 90 80 80", "bad \xf4\x90\x80\x80 x\r\n"),
	BAD("F5", "bad \xf5\x80\x80\x80 x\r\n"),
	BAD("F6", "bad \xf6 x\r\n"),
	BAD("F7", "bad \xf7 x\r\n"),
	BAD("F8", "bad \xf8 x\r\n"),
	BAD("F9", "bad \xf9 x\r\n"),
	BAD("FA", "bad \xfa x\r\n"),
	BAD("FB", "bad \xfb x\r\n"),
	BAD("FC", "bad \xfc x\r\n"),
	BAD("FD", "bad \xfd x\r\n"),
	BAD("FE", "bad \xfe x\r\n"),
	BAD("FF (IAC + space)", "bad \xff x\r\n"),
	BAD("IAC IAC", "bad \xff\xff x\r\n"),
	BAD("stray 80", "bad \x80 x\r\n"),
	BAD("stray BF at start", "\xbf bad\r\n"),
	BAD("truncated E2 82 LF", "bad \xe2\x82\n"),
	BAD("truncated E2 82 CRLF", "bad \xe2\x82\r\n"),
	BAD("truncated F0 9F 98 LF", "bad \xf0\x9f\x98\n"),
	BAD("truncated E2 then ASCII", "bad \xe2x\r\n"),
};

struct sanitized {
	const char	*what;
	const char	*in;
	size_t		 inlen;
	const char	*out;
};

#define FFFD	"\xef\xbf\xbd"
#define SAN(w, i, o)	{ (w), (i), sizeof (i) - 1, (o) }

static const struct sanitized sanitized[] = {
	SAN("ESC", "esc \x1b[31mred\r\n", "esc " FFFD "[31mred"),
	SAN("C1 CSI", "c1 \xc2\x9b" "31m\r\n", "c1 " FFFD "31m"),
	SAN("C1 U+0080", "c1 \xc2\x80!\r\n", "c1 " FFFD "!"),
	SAN("NUL", "nul \0 x\r\n", "nul " FFFD " x"),
	SAN("DEL", "del \x7f x\r\n", "del " FFFD " x"),
	SAN("BEL BS", "bel \x07\x08 x\r\n", "bel " FFFD FFFD " x"),
	SAN("inner CR", "cr a\rb\r\n", "cr a" FFFD "b"),
	SAN("TAB kept", "tab\there\r\n", "tab\there"),
	SAN("valid UTF-8 kept", "utf8 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
	    "\r\n", "utf8 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
	SAN("telnet IAC sequences", "tel\xff\xf1ne\xff\xfb\x01t \xff\xfd\x03"
	    "ok\xff\xfa\x18\x00xterm\xff\xf0!\r\n", "telnet ok!"),
	SAN("LF only", "lf only\n", "lf only"),
	SAN("CRLF", "crlf\r\n", "crlf"),
};

static void
expect_relay(struct tn_client *x, struct tn_client *y, const char *text)
{
	EXPECTF(x, "<%s> %s", x->nick, text);
	EXPECTF(y, "<%s> %s", x->nick, text);
}

START_TEST(test_hostile)
{
	static const char *const args[] = { "--rate", "0", NULL };
	struct tn_daemon	*d;
	struct tn_client	*x, *y;
	char			*big, text[64];
	size_t			 i, len;

	d = start(args);
	x = join(d);
	y = join(d);
	EXPECTF(x, "-- %s joined", y->nick);

	for (i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
		ck_assert_msg(tn_send(x, bad_utf8[i].bytes, bad_utf8[i].len)
		    == 0, "%s", tn_error());
		ck_assert_msg(tn_expect(x, "!! invalid UTF-8, line ignored")
		    == 0, "%s: %s", bad_utf8[i].what, tn_error());
		snprintf(text, sizeof text, "valid after %zu", i);
		SENDF(x, "%s\r\n", text);
		/* y's next line is this one: nothing of the bad line */
		ck_assert_msg(tn_expectf(y, "<%s> %s", x->nick, text) == 0,
		    "after %s: %s", bad_utf8[i].what, tn_error());
		EXPECTF(x, "<%s> %s", x->nick, text);
	}

	/* 1 MB line: one error, the connection survives */
	len = 1024 * 1024;
	big = malloc(len + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', len);
	memcpy(big + len, "\r\n", 2);
	ck_assert_msg(tn_send(x, big, len + 2) == 0, "%s", tn_error());
	EXPECT(x, "!! line too long (limit 4096 bytes), discarded");
	SEND(x, "after the long line\r\n");
	expect_relay(x, y, "after the long line");

	/* the limit itself: 4096 bytes pass, 4097 do not */
	memset(big, 'b', 4096);
	big[4096] = '\0';
	SENDF(x, "%s\r\n", big);
	EXPECTF(x, "<%s> %s", x->nick, big);
	EXPECTF(y, "<%s> %s", x->nick, big);
	memset(big, 'c', 4097);
	big[4097] = '\0';
	SENDF(x, "%s\n", big);
	EXPECT(x, "!! line too long (limit 4096 bytes), discarded");
	SEND(x, "after 4097\r\n");
	expect_relay(x, y, "after 4097");
	free(big);

	/* controls become U+FFFD, telnet goes away */
	for (i = 0; i < sizeof sanitized / sizeof sanitized[0]; i++) {
		ck_assert_msg(tn_send(x, sanitized[i].in, sanitized[i].inlen)
		    == 0, "%s", tn_error());
		ck_assert_msg(tn_expectf(y, "<%s> %s", x->nick,
		    sanitized[i].out) == 0, "%s: %s", sanitized[i].what,
		    tn_error());
		ck_assert_msg(tn_expectf(x, "<%s> %s", x->nick,
		    sanitized[i].out) == 0, "%s: %s", sanitized[i].what,
		    tn_error());
	}

	/* a character and a CRLF split across segments */
	ck_assert_int_eq(tn_nodelay(x), 0);
	SENDB(x, "split \xe2\x82");
	usleep(200 * 1000);
	SENDB(x, "\xac ok\r");
	usleep(200 * 1000);
	SENDB(x, "\n");
	expect_relay(x, y, "split \xe2\x82\xac ok");
	SENDB(x, "emoji \xf0");
	usleep(100 * 1000);
	SENDB(x, "\x9f\x98");
	usleep(100 * 1000);
	SENDB(x, "\x80\n");
	expect_relay(x, y, "emoji \xf0\x9f\x98\x80");
	SENDB(x, "iac split \xff");
	usleep(100 * 1000);
	SENDB(x, "\xfb");
	usleep(100 * 1000);
	SENDB(x, "\x01" "done\r\n");
	expect_relay(x, y, "iac split done");

	/* blank lines produce nothing */
	SENDB(x, "\r\n\n   \r\n\t \n \t\r\n");
	SEND(x, "after blanks\r\n");
	expect_relay(x, y, "after blanks");

	tn_close(x);
	tn_close(y);
	stop(d);
}
END_TEST

/*
 * 5. 1000 clients, one broadcast.
 */
START_TEST(test_fanout)
{
	struct tn_daemon	*d;
	const char		*probe;
	char			 port[16], *out = NULL, *err = NULL;
	const char		*argv[] = { NULL, "-n", "1000", "-p", port,
				    "-t", "60", NULL };
	int			 rc;

	probe = getenv("FANOUT_PROBE");
	ck_assert_msg(probe != NULL && *probe != '\0',
	    "FANOUT_PROBE is not set");
	tn_raise_nofile();
	d = start(NULL);
	snprintf(port, sizeof port, "%u", d->port);
	argv[0] = probe;
	rc = tn_run(argv, 90000, &out, &err);
	printf("fanout_probe -n 1000: %s%s", out != NULL ? out : "",
	    err != NULL ? err : "");
	if (rc != 0)
		tn_dump_log(d, "fanout_probe failed");
	ck_assert_msg(rc == 0, "fanout_probe exited %d: %s%s%s", rc,
	    rc == -1 ? tn_error() : "", out != NULL ? out : "",
	    err != NULL ? err : "");
	free(out);
	free(err);
	stop(d);
}
END_TEST

/*
 * 6. SIGTERM: every client is told, then closed; exit 0 within 3 s.
 */
START_TEST(test_sigterm)
{
	struct tn_daemon	*d;
	struct tn_client	*c[3];
	int64_t			 t0, left;
	int			 i, rc;

	d = start(NULL);
	c[0] = join(d);
	c[1] = join(d);
	EXPECTF(c[0], "-- %s joined", c[1]->nick);
	c[2] = join(d);
	EXPECTF(c[0], "-- %s joined", c[2]->nick);
	EXPECTF(c[1], "-- %s joined", c[2]->nick);

	t0 = tn_now_ms();
	ck_assert_msg(tn_signal(d, SIGTERM) == 0, "%s", tn_error());
	for (i = 0; i < 3; i++) {
		EXPECT(c[i], "-- server shutting down");
		EXPECT_EOF(c[i]);
	}
	left = 3000 - (tn_now_ms() - t0);
	rc = tn_wait(d, left > 0 ? (int)left : 0);
	if (rc != 0)
		tn_dump_log(d, "SIGTERM");
	ck_assert_msg(rc == 0, "after SIGTERM chatd gave %d within 3 s: %s",
	    rc, rc == -1 ? tn_error() : "exit status");
	for (i = 0; i < 3; i++)
		tn_close(c[i]);
	stop(d);
}
END_TEST

/*
 * 7. Server full.
 */
START_TEST(test_full)
{
	static const char *const args[] = { "--max-clients", "2", NULL };
	struct tn_daemon	*d;
	struct tn_client	*a, *b, *c;
	char			 nick[160];

	d = start(args);
	a = join(d);
	b = join(d);
	EXPECTF(a, "-- %s joined", b->nick);
	c = tn_connect(d);
	ck_assert_msg(c != NULL, "%s", tn_error());
	EXPECT(c, "!! server full");
	EXPECT_EOF(c);
	tn_close(c);
	/* nobody heard of the third client */
	SEND(b, "still two\r\n");
	EXPECTF(a, "<%s> still two", b->nick);
	EXPECTF(b, "<%s> still two", b->nick);

	/* a free slot is reusable */
	snprintf(nick, sizeof nick, "%s", b->nick);
	tn_close(b);
	EXPECTF(a, "-- %s left", nick);
	c = join(d);
	ck_assert_int_eq(c->online, 2);
	EXPECTF(a, "-- %s joined", c->nick);
	tn_close(a);
	tn_close(c);
	stop(d);
}
END_TEST

/*
 * 10. A UNIX-domain socket serves the same room as TCP, and its file is
 * removed at exit.
 */
START_TEST(test_unix_socket)
{
	char			 path[128], arg[160];
	const char		*args[3];
	struct tn_daemon	*d;
	struct tn_client	*u, *t;
	struct stat		 st;

	snprintf(path, sizeof path, "%s/chatd-test-%ld.sock",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp",
	    (long)getpid());
	snprintf(arg, sizeof arg, "%s", path);
	args[0] = "--unix";
	args[1] = arg;
	args[2] = NULL;
	d = start(args);
	/* tn_start() returns on the TCP line; the UNIX one follows it. */
	ck_assert_msg(tn_wait_log(d, "listening on unix:", TN_LINE_TIMEOUT),
	    "%s", tn_error());
	t = join(d);
	u = tn_connect_unix(path);
	ck_assert_msg(u != NULL, "%s", tn_error());
	u->d = d;
	ck_assert_msg(tn_welcome(u) == 0, "%s", tn_error());
	EXPECTF(t, "-- %s joined", u->nick);
	SEND(u, "over a unix socket\n");
	EXPECTF(t, "<%s> over a unix socket", u->nick);
	EXPECTF(u, "<%s> over a unix socket", u->nick);
	tn_close(u);
	tn_close(t);
	stop(d);
	ck_assert_msg(stat(path, &st) == -1 && errno == ENOENT,
	    "%s is still there after exit", path);
}
END_TEST

/*
 * 11. Flood control: a client far over --rate is throttled, not dropped
 * and not truncated, and the others are not held up meanwhile.
 */
START_TEST(test_throttle)
{
	static const char *const args[] = { "--rate", "10", "--burst", "5",
	    NULL };
	enum { LINES = 25 };
	struct tn_daemon	*d;
	struct tn_client	*a, *b;
	char			 buf[LINES * 16], line[256], want[256];
	size_t			 len = 0;
	int64_t			 t0, elapsed;
	int			 i, r, got = 0, b_seen_at = -1;

	d = start(args);
	a = join(d);
	b = join(d);
	EXPECTF(a, "-- %s joined", b->nick);
	for (i = 0; i < LINES; i++)
		len += (size_t)snprintf(buf + len, sizeof buf - len,
		    "flood %02d\n", i);
	t0 = tn_now_ms();
	ck_assert_msg(tn_send(a, buf, len) == 0, "%s", tn_error());
	/* The burst gets through at once... */
	for (i = 0; i < 5; i++)
		EXPECTF(b, "<%s> flood %02d", a->nick, i);
	/* ...then b talks while a is held back, and is not held back. */
	SEND(b, "not throttled\n");
	while (got < LINES - 5 || b_seen_at < 0) {
		r = tn_readline(b, line, sizeof line, TN_LINE_TIMEOUT);
		ck_assert_msg(r >= 0, "b after %d of a's lines: %s", got,
		    tn_error());
		snprintf(want, sizeof want, "<%s> not throttled", b->nick);
		if (strcmp(line, want) == 0) {
			b_seen_at = got;
			continue;
		}
		snprintf(want, sizeof want, "<%s> flood %02d", a->nick,
		    got + 5);
		ck_assert_msg(strcmp(line, want) == 0, "expected \"%s\", got "
		    "\"%s\"", want, line);
		got++;
	}
	elapsed = tn_now_ms() - t0;
	/* 20 lines past the burst at 10 lines/s take about 2 s. */
	ck_assert_msg(elapsed >= 1500, "25 lines at --rate 10 --burst 5 took "
	    "only %lld ms", (long long)elapsed);
	ck_assert_msg(b_seen_at < LINES - 5 - 5, "b's line came after %d of "
	    "a's throttled lines: b was held up", b_seen_at);
	/* a is still connected and got every line in order, b's among them. */
	for (i = 0; i < LINES; i++) {
		r = tn_readline(a, line, sizeof line, TN_LINE_TIMEOUT);
		ck_assert_msg(r >= 0, "a: %s", tn_error());
		snprintf(want, sizeof want, "<%s> not throttled", b->nick);
		if (strcmp(line, want) == 0)
			r = tn_readline(a, line, sizeof line, TN_LINE_TIMEOUT);
		ck_assert_msg(r >= 0, "a: %s", tn_error());
		snprintf(want, sizeof want, "<%s> flood %02d", a->nick, i);
		ck_assert_msg(strcmp(line, want) == 0, "a: expected \"%s\", "
		    "got \"%s\"", want, line);
	}
	tn_close(a);
	tn_close(b);
	stop(d);
}
END_TEST

static long
cpu_ticks(pid_t pid)
{
	char		 path[64], buf[1024], *p;
	unsigned long	 utime, stime;
	FILE		*f;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	p = fgets(buf, sizeof buf, f);
	fclose(f);
	/* Fields 14 and 15, counted after the ")" that ends the name. */
	if (p == NULL || (p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &utime, &stime) != 2)
		return -1;
	return (long)(utime + stime);
}

/*
 * 12. Out of file descriptors: the acceptor pauses instead of spinning,
 * and service resumes by itself once descriptors are free again.
 */
START_TEST(test_emfile)
{
	enum { N = 100 };
	struct tn_daemon	*d;
	struct tn_client	*c[N];
	char			 line[256];
	long			 t0, t1, hz = sysconf(_SC_CLK_TCK);
	int			 i, welcomed = 0;
	bool			 ok[N];

	tn_daemon_nofile = 48;
	d = start(NULL);
	tn_daemon_nofile = 0;
	for (i = 0; i < N; i++) {
		c[i] = tn_connect(d);
		ck_assert_msg(c[i] != NULL, "client %d: %s", i, tn_error());
	}
	/* Let the acceptor hit the limit, then measure what it costs. */
	usleep(300 * 1000);
	t0 = cpu_ticks(d->pid);
	usleep(1000 * 1000);
	t1 = cpu_ticks(d->pid);
	ck_assert_msg(t0 >= 0 && t1 >= 0, "cannot read /proc/%ld/stat",
	    (long)d->pid);
	ck_assert_msg(t1 - t0 < hz / 4, "chatd used %ld of %ld ticks in 1 s "
	    "while out of descriptors: it spins", t1 - t0, hz);
	for (i = 0; i < N; i++) {
		ok[i] = tn_readline(c[i], line, sizeof line, 20) > 0 &&
		    strncmp(line, "-- welcome", 10) == 0;
		welcomed += ok[i];
	}
	ck_assert_msg(welcomed > 0 && welcomed < N, "%d of %d welcomed with "
	    "48 descriptors", welcomed, N);
	ck_assert_msg(tn_wait_log(d, "pausing", TN_LINE_TIMEOUT), "%s",
	    tn_error());
	/* Free the descriptors: everyone else gets in, unprompted. */
	for (i = 0; i < N; i++)
		if (ok[i]) {
			tn_close(c[i]);
			c[i] = NULL;
		}
	for (i = 0; i < N; i++) {
		if (c[i] == NULL)
			continue;
		EXPECT_PREFIX(c[i], "-- welcome", line);
		tn_close(c[i]);
	}
	stop(d);
}
END_TEST

/*
 * 8. Command line.
 */
static int
run_chatd(const char *arg1, const char *arg2, char **out, char **err)
{
	const char	*argv[4];

	argv[0] = getenv("CHATD");
	ck_assert_msg(argv[0] != NULL, "CHATD is not set");
	argv[1] = arg1;
	argv[2] = arg2;
	argv[3] = NULL;
	return tn_run(argv, 10000, out, err);
}

START_TEST(test_cli)
{
	static const char *const options[] = { "--port", "--bind", "--unix",
	    "--workers", "--max-clients", "--max-line", "--sendq", "--rate",
	    "--burst", "--announce-max", "--help", "--version", NULL };
	char	*out, *err;
	size_t	 i;
	int	 rc;

	rc = run_chatd("--help", NULL, &out, &err);
	ck_assert_msg(rc == 0, "chatd --help exited %d", rc);
	for (i = 0; options[i] != NULL; i++)
		ck_assert_msg(strstr(out, options[i]) != NULL,
		    "chatd --help does not mention %s on stdout:\n%s",
		    options[i], out);
	ck_assert_msg(strcasestr(out, "usage") != NULL,
	    "chatd --help prints no usage line:\n%s", out);
	free(out);
	free(err);

	rc = run_chatd("--version", NULL, &out, &err);
	ck_assert_msg(rc == 0, "chatd --version exited %d", rc);
	ck_assert_msg(out[0] != '\0', "chatd --version printed nothing");
	free(out);
	free(err);

	rc = run_chatd("--bogus", NULL, &out, &err);
	ck_assert_msg(rc == 2, "chatd --bogus exited %d, not 2", rc);
	ck_assert_msg(err[0] != '\0', "chatd --bogus printed no message");
	free(out);
	free(err);

	rc = run_chatd("--port", "99999", &out, &err);
	ck_assert_msg(rc == 2, "chatd --port 99999 exited %d, not 2", rc);
	ck_assert_msg(err[0] != '\0', "chatd --port 99999: no message");
	free(out);
	free(err);
}
END_TEST

/*
 * 9. Command names in any case, "//", split commands, telnet.
 */
START_TEST(test_commands)
{
	struct tn_daemon	*d;
	struct tn_client	*a, *b, *all[2];
	char			 line[TN_LINE_MAX], old[160], want[300];

	d = start(NULL);
	a = join(d);
	b = join(d);
	EXPECTF(a, "-- %s joined", b->nick);
	all[0] = a;
	all[1] = b;

	snprintf(old, sizeof old, "%s", a->nick);
	SEND(a, "/NICK alice\r\n");
	EXPECTF(a, "-- %s is now known as alice", old);
	EXPECTF(b, "-- %s is now known as alice", old);
	snprintf(a->nick, sizeof a->nick, "alice");

	say_all(a, all, 2, "plain");
	SEND(a, "//slash text\r\n");
	EXPECT(a, "<alice> /slash text");
	EXPECT(b, "<alice> /slash text");
	SEND(a, "//\r\n");
	EXPECT(a, "<alice> /");
	EXPECT(b, "<alice> /");

	SEND(b, "/ME dances\r\n");
	EXPECTF(a, "* %s dances", b->nick);
	EXPECTF(b, "* %s dances", b->nick);
	SEND(b, "/Who\r\n");
	EXPECT_PREFIX(b, "-- 2 online: ", line);
	SEND(b, "/HeLp\r\n");
	EXPECT(b, "-- commands:");

	/* a command split over two segments, telnet noise first */
	ck_assert_int_eq(tn_nodelay(b), 0);
	snprintf(old, sizeof old, "%s", b->nick);
	SENDB(b, "\xff\xfd\x01\xff\xfb\x03/ni");
	usleep(200 * 1000);
	SENDB(b, "ck carol\r\n");
	snprintf(want, sizeof want, "-- %s is now known as carol", old);
	for (;;) {
		/* the rest of /help, then the rename */
		ck_assert_msg(tn_readline(b, line, sizeof line,
		    TN_LINE_TIMEOUT) >= 0, "%s", tn_error());
		if (strcmp(line, want) == 0)
			break;
		ck_assert_msg(strncmp(line, "-- ", 3) == 0 &&
		    strstr(line, "known as") == NULL,
		    "expected \"%s\", got \"%s\"", want, line);
	}
	EXPECT(a, want);
	snprintf(b->nick, sizeof b->nick, "carol");
	say_all(b, all, 2, "split and telnet ok");
	tn_close(a);
	tn_close(b);
	stop(d);
}
END_TEST

int
main(void)
{
	const struct net_test tests[] = {
		{ "chat", test_chat, 0 },
		{ "order", test_order, 0 },
		{ "slow_consumer", test_slow_consumer, 0 },
		{ "hostile", test_hostile, 0 },
		{ "fanout", test_fanout, 2 * TEST_TIMEOUT },
		{ "sigterm", test_sigterm, 0 },
		{ "full", test_full, 0 },
		{ "cli", test_cli, 0 },
		{ "commands", test_commands, 0 },
		{ "unix_socket", test_unix_socket, 0 },
		{ "throttle", test_throttle, 0 },
		{ "emfile", test_emfile, 0 },
	};

	return net_main(NET_SUITE("server", tests, NULL, NULL));
}
