/*
 * check_faults.c - fault injection against the real chatd (path in
 * $CHATD): clients reset mid-line, half-closed, gone with a full sendq,
 * connect/disconnect churn, a 1 MB /nick, data before the welcome is
 * read, a slowloris.
 *
 * Every case runs the same way.  Three chatters talk in a thread of
 * their own all through the fault, numbered lines paced by a short
 * sleep; the test injects its fault meanwhile; then verdict():
 *   - every chatter got every chatter's lines, each sender's in order,
 *     and all three saw one and the same order (the room's total order);
 *   - the daemon still answers: a fresh client gets its welcome and a
 *     /who reply within TN_LINE_TIMEOUT;
 *   - SIGTERM makes it exit 0 within TN_STOP_TIMEOUT.  Under ASan the
 *     tests run with ASAN_OPTIONS=detect_leaks=1 abort_on_error=1, so a
 *     leak found at exit aborts chatd (status 134) and fails the case.
 */
#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_net.h"
#include "check_run.h"

#define NCHAT		3	/* chatters that stay */
#define CHAT_END_MS	20000	/* to read everything after the fault */
#define TEXT_MAX	(256 * 1024)	/* other lines kept per chatter */
#define CHAT_MIN	50	/* rounds before and after a fault, at least */
#define CHURN_MAX	10000	/* connect/disconnect cycles at most */
#define CHURN_MS	10000	/* and for at most this long */
#define CHURN_RATE	1000	/* cycles a second, the aim */

/*
 * The chatters.  Only the chat thread touches the clients between
 * chat_start() and chat_stop(); the main thread reads the atomics.
 */
struct chat {
	struct tn_daemon	*d;
	struct tn_client	*c[NCHAT];
	pthread_t		 thread;
	atomic_int		 stop;
	bool			 joined;	/* chat_stop() ran */
	atomic_ullong		 bytes;		/* sent by the chatters */
	atomic_int		 rounds;	/* of one line each */
	atomic_bool		 failed;	/* err is set */
	int			 pace_us;	/* sleep between rounds */
	size_t			 pad;		/* 'x' bytes per line */
	int			 sent[NCHAT];
	int			 next[NCHAT][NCHAT];	/* [receiver][sender] */
	bool			 ended[NCHAT][NCHAT];
	uint32_t		*order[NCHAT];	/* sender << 24 | seq */
	size_t			 norder[NCHAT], order_cap[NCHAT];
	char			*text[NCHAT];	/* the lines not numbered */
	size_t			 textlen[NCHAT];
	char			 err[2048];
};

static void
pause_ms(int ms)
{
	poll(NULL, 0, ms);
}

static void
chat_fail(struct chat *ch, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
chat_fail(struct chat *ch, const char *fmt, ...)
{
	va_list	ap;

	if (ch->err[0] != '\0')
		return;		/* the first failure is the one that counts */
	va_start(ap, fmt);
	vsnprintf(ch->err, sizeof(ch->err), fmt, ap);
	va_end(ap);
	atomic_store(&ch->failed, true);
}

static void
keep_text(struct chat *ch, int i, const char *line, size_t len)
{
	if (ch->textlen[i] + len + 2 > TEXT_MAX)
		return;		/* churn's notices: nobody looks at those */
	memcpy(ch->text[i] + ch->textlen[i], line, len);
	ch->textlen[i] += len;
	ch->text[i][ch->textlen[i]++] = '\n';
	ch->text[i][ch->textlen[i]] = '\0';
}

static void
keep_order(struct chat *ch, int i, int j, int seq)
{
	uint32_t	*o;
	size_t		 cap;

	if (ch->norder[i] == ch->order_cap[i]) {
		cap = ch->order_cap[i] ? ch->order_cap[i] * 2 : 4096;
		if ((o = realloc(ch->order[i], cap * sizeof(*o))) == NULL) {
			chat_fail(ch, "out of memory");
			return;
		}
		ch->order[i] = o;
		ch->order_cap[i] = cap;
	}
	ch->order[i][ch->norder[i]++] = (uint32_t)j << 24 | (uint32_t)seq;
}

/* The line chatter j sends as its number seq, in buf. */
static size_t
chat_line(const struct chat *ch, int j, int seq, char *buf, size_t size)
{
	int	n;

	n = snprintf(buf, size, "c%d %d ", j, seq);
	memset(buf + n, 'x', ch->pad);
	buf[(size_t)n + ch->pad] = '\0';
	return (size_t)n + ch->pad;
}

/* One line read by chatter i: check it if it is a chatter's. */
static void
chat_take(struct chat *ch, int i, const char *line, size_t len)
{
	char		 want[TN_LINE_MAX];
	const char	*p;
	int		 j, seq, n;

	for (j = 0; j < NCHAT; j++) {
		n = snprintf(want, sizeof(want), "<%s> c%d ", ch->c[j]->nick,
		    j);
		if (strncmp(line, want, (size_t)n) == 0)
			break;
	}
	if (j == NCHAT) {
		keep_text(ch, i, line, len);
		return;
	}
	p = line + n;
	if (strncmp(p, "end ", 4) == 0) {
		if (atoi(p + 4) != ch->next[i][j])
			chat_fail(ch, "%s: %s sent %s lines, %d came",
			    ch->c[i]->nick, ch->c[j]->nick, p + 4,
			    ch->next[i][j]);
		ch->ended[i][j] = true;
		return;
	}
	seq = ch->next[i][j];
	n = snprintf(want, sizeof(want), "<%s> ", ch->c[j]->nick);
	chat_line(ch, j, seq, want + n, sizeof(want) - (size_t)n);
	if (strcmp(line, want) != 0) {
		chat_fail(ch, "%s: expected \"%.60s\", got \"%.60s\"",
		    ch->c[i]->nick, want, tn_quote(line, len));
		return;
	}
	keep_order(ch, i, j, seq);
	ch->next[i][j]++;
}

/* Read what chatter i has, waiting at most timeout_ms for the first. */
static void
chat_drain(struct chat *ch, int i, int timeout_ms)
{
	char	 line[TN_LINE_MAX];
	int	 r;

	while (ch->err[0] == '\0') {
		r = tn_readline(ch->c[i], line, sizeof(line), timeout_ms);
		if (r == TN_TIMEOUT)
			return;
		if (r < 0) {
			chat_fail(ch, "%s", tn_error());
			return;
		}
		chat_take(ch, i, line, (size_t)r);
		timeout_ms = 0;
	}
}

static bool
chat_all_ended(const struct chat *ch)
{
	int	 i, j;

	for (i = 0; i < NCHAT; i++)
		for (j = 0; j < NCHAT; j++)
			if (!ch->ended[i][j])
				return false;
	return true;
}

static void *
chat_main(void *arg)
{
	struct chat	*ch = arg;
	char		 buf[TN_LINE_MAX];
	size_t		 len;
	int64_t		 deadline;
	int		 i, j;

	while (!atomic_load(&ch->stop) && ch->err[0] == '\0') {
		for (j = 0; j < NCHAT; j++) {
			len = chat_line(ch, j, ch->sent[j], buf, sizeof(buf) -
			    2);
			memcpy(buf + len, "\r\n", 2);
			if (tn_send(ch->c[j], buf, len + 2) == -1) {
				chat_fail(ch, "%s", tn_error());
				break;
			}
			ch->sent[j]++;
			atomic_fetch_add(&ch->bytes, len + 2);
		}
		atomic_fetch_add(&ch->rounds, 1);
		for (i = 0; i < NCHAT; i++)
			chat_drain(ch, i, 0);
		nanosleep(&(struct timespec){ 0, ch->pace_us * 1000L }, NULL);
	}
	for (j = 0; j < NCHAT && ch->err[0] == '\0'; j++)
		if (tn_sendf(ch->c[j], "c%d end %d\r\n", j, ch->sent[j]) == -1)
			chat_fail(ch, "%s", tn_error());
	deadline = tn_now_ms() + CHAT_END_MS;
	while (ch->err[0] == '\0' && !chat_all_ended(ch)) {
		if (tn_now_ms() >= deadline) {
			chat_fail(ch, "the end markers did not all come "
			    "within %d ms", CHAT_END_MS);
			break;
		}
		for (i = 0; i < NCHAT; i++)
			chat_drain(ch, i, 20);
	}
	return NULL;
}

/* Wait until the chatters have had n more rounds (or failed). */
static void
chat_wait(struct chat *ch, int n)
{
	int64_t	 deadline = tn_now_ms() + TN_LINE_TIMEOUT;
	int	 until = atomic_load(&ch->rounds) + n;

	while (atomic_load(&ch->rounds) < until && !atomic_load(&ch->failed) &&
	    tn_now_ms() < deadline)
		pause_ms(2);
}

/* Start d with extra (plus --rate 0), three chatters, the chat thread. */
static struct chat *
chat_start(const char *const *extra, size_t pad, int pace_us)
{
	const char	*args[32] = { "--rate", "0" };
	struct chat	*ch;
	size_t		 n = 2;
	int		 i;

	while (extra != NULL && *extra != NULL && n < 30)
		args[n++] = *extra++;
	args[n] = NULL;
	ch = calloc(1, sizeof(*ch));
	ck_assert_ptr_nonnull(ch);
	ch->pad = pad;
	ch->pace_us = pace_us;
	ch->d = start(args);
	for (i = 0; i < NCHAT; i++) {
		ch->c[i] = join(ch->d);
		ch->text[i] = calloc(1, TEXT_MAX);
		ck_assert_ptr_nonnull(ch->text[i]);
	}
	ck_assert_int_eq(pthread_create(&ch->thread, NULL, chat_main, ch), 0);
	/* The fault comes while they talk, not before. */
	chat_wait(ch, CHAT_MIN);
	return ch;
}

/* Chatter i saw a line holding s (among the lines not numbered). */
static bool
chat_saw(const struct chat *ch, int i, const char *s)
{
	return strstr(ch->text[i], s) != NULL;
}

/* Every chatter saw s, or none did. */
#define SAW_ALL(ch, s) do {						\
	for (int k_ = 0; k_ < NCHAT; k_++) {				\
		if (!chat_saw((ch), k_, (s)))				\
			tn_dump_log((ch)->d, (s));			\
		ck_assert_msg(chat_saw((ch), k_, (s)), "%s did not get "\
		    "\"%s\"", (ch)->c[k_]->nick, (s));			\
	}								\
} while (0)
#define SAW_NONE(ch, s) do {						\
	for (int k_ = 0; k_ < NCHAT; k_++)				\
		ck_assert_msg(!chat_saw((ch), k_, (s)), "%s got "	\
		    "\"%s\"", (ch)->c[k_]->nick, (s));			\
} while (0)

/* Stop the chat thread; every line came, in the same order for all. */
static void
chat_stop(struct chat *ch)
{
	int	 i, j;

	if (ch->joined)
		return;
	/* And they talk on for a while after it. */
	chat_wait(ch, CHAT_MIN);
	atomic_store(&ch->stop, 1);
	pthread_join(ch->thread, NULL);
	ch->joined = true;
	if (ch->err[0] != '\0')
		tn_dump_log(ch->d, ch->err);
	ck_assert_msg(ch->err[0] == '\0', "chatters: %s", ch->err);
	for (i = 0; i < NCHAT; i++)
		for (j = 0; j < NCHAT; j++)
			ck_assert_msg(ch->next[i][j] == ch->sent[j],
			    "%s got %d of %s's %d lines", ch->c[i]->nick,
			    ch->next[i][j], ch->c[j]->nick, ch->sent[j]);
	for (i = 1; i < NCHAT; i++)
		ck_assert_msg(ch->norder[i] == ch->norder[0] &&
		    memcmp(ch->order[i], ch->order[0], ch->norder[0] *
		    sizeof(uint32_t)) == 0, "%s and %s saw the lines in "
		    "different orders", ch->c[0]->nick, ch->c[i]->nick);
	ck_assert_msg(ch->sent[0] > 0, "the chatters sent nothing");
}

/* A fresh client gets its welcome and a /who reply. */
static void
still_answers(struct tn_daemon *d)
{
	struct tn_client	*c;
	char			 line[TN_LINE_MAX];
	int64_t			 deadline = tn_now_ms() + TN_LINE_TIMEOUT;
	int			 r;

	c = join(d);
	SEND(c, "/who\r\n");
	for (;;) {
		r = tn_readline(c, line, sizeof(line), TN_LINE_TIMEOUT);
		ck_assert_msg(r >= 0, "no /who reply: %s", tn_error());
		if (strncmp(line, "-- ", 3) == 0 && strstr(line, " online: ") !=
		    NULL)
			break;
		/* Leave notices of faulty clients may still come first. */
		ck_assert_msg(strncmp(line, "-- ", 3) == 0, "expected the "
		    "/who reply, got \"%s\"", tn_quote(line, (size_t)r));
		ck_assert_msg(tn_now_ms() < deadline, "no /who reply within "
		    "%d ms", TN_LINE_TIMEOUT);
	}
	tn_close(c);
}

/*
 * Read c's lines until one of its own ("<NICK> ..."), skipping the
 * others' lines and the notices; that one must be "<NICK> text".
 */
static void
expect_own(struct tn_client *c, const char *text)
{
	char	 line[TN_LINE_MAX], own[200];
	int	 r;

	snprintf(own, sizeof(own), "<%s> ", c->nick);
	do {
		r = tn_readline(c, line, sizeof(line), TN_LINE_TIMEOUT);
		ck_assert_msg(r >= 0, "waiting for \"%s%s\": %s", own, text,
		    tn_error());
		ck_assert_msg(strncmp(line, "!! ", 3) != 0, "%s got \"%s\"",
		    c->nick, line);
	} while (strncmp(line, own, strlen(own)) != 0);
	ck_assert_msg(strcmp(line + strlen(own), text) == 0, "%s: expected "
	    "\"%s%.60s\", got \"%.80s\"", c->nick, own, text,
	    tn_quote(line, (size_t)r));
}

/* The end of every case; chat_stop() may have run already. */
static void
verdict(struct chat *ch, const char *name)
{
	struct tn_daemon	*d = ch->d;
	int			 i;

	chat_stop(ch);
	still_answers(d);
	printf("%s: %d lines from each of %d chatters, %llu bytes\n",
	    name, ch->sent[0], NCHAT,
	    (unsigned long long)atomic_load(&ch->bytes));
	for (i = 0; i < NCHAT; i++) {
		tn_close(ch->c[i]);
		free(ch->order[i]);
		free(ch->text[i]);
	}
	free(ch);
	stop(d);
}

/* Close with SO_LINGER {1, 0}: the kernel sends RST, not FIN. */
static void
reset_close(struct tn_client *c)
{
	struct linger	 lg = { 1, 0 };

	ck_assert_int_eq(setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
	tn_close(c);
}

/* Wait until the log says nick disconnected; returns the reason. */
static void
wait_gone(struct tn_daemon *d, const char *nick, char *why, size_t size)
{
	char	 want[300], *log, *p, *nl;

	snprintf(want, sizeof(want), " %s disconnected: ", nick);
	ck_assert_msg(tn_wait_log(d, want, TN_LINE_TIMEOUT), "%s",
	    tn_error());
	if (why == NULL)
		return;
	log = tn_read_file(d->log, NULL);
	ck_assert_ptr_nonnull(log);
	p = strstr(log, want) + strlen(want);
	if ((nl = strchr(p, '\n')) != NULL)
		*nl = '\0';
	snprintf(why, size, "%s", p);
	free(log);
}

/* VmRSS of pid in kB, or -1. */
static long
rss_kb(pid_t pid)
{
	char	 path[64], *text, *p;
	long	 kb = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((text = tn_read_file(path, NULL)) == NULL)
		return -1;
	if ((p = strstr(text, "VmRSS:")) != NULL)
		kb = strtol(p + 6, NULL, 10);
	free(text);
	return kb;
}

/*
 * 1. Reset mid-line: one client sends half a line, another a partial
 * line ending in a split multi-byte character, and both close with RST.
 * Nothing of either is relayed; the others get "-- NICK left".  A
 * third splits a character across two writes of a whole line: that
 * line is relayed intact.
 */
START_TEST(test_rst_midline)
{
	struct chat		*ch;
	struct tn_client	*a, *b, *e;
	char			 na[160], nb[160], want[300];

	ch = chat_start(NULL, 16, 2000);
	a = join(ch->d);
	b = join(ch->d);
	e = join(ch->d);
	snprintf(na, sizeof(na), "%s", a->nick);
	snprintf(nb, sizeof(nb), "%s", b->nick);
	SENDB(a, "half a line that never ends");
	SENDB(b, "euro \xe2\x82");
	SENDB(e, "split \xe2\x82");
	pause_ms(50);
	SENDB(b, "\xac and no newline");
	SENDB(e, "\xac whole\r\n");
	expect_own(e, "split \xe2\x82\xac whole");
	pause_ms(50);
	reset_close(a);
	reset_close(b);
	wait_gone(ch->d, na, NULL, 0);
	wait_gone(ch->d, nb, NULL, 0);
	chat_stop(ch);
	snprintf(want, sizeof(want), "-- %s left\n", na);
	SAW_ALL(ch, want);
	snprintf(want, sizeof(want), "-- %s left\n", nb);
	SAW_ALL(ch, want);
	snprintf(want, sizeof(want), "<%s> split \xe2\x82\xac whole\n",
	    e->nick);
	SAW_ALL(ch, want);
	SAW_NONE(ch, "half a line");
	SAW_NONE(ch, "euro");
	SAW_NONE(ch, "no newline");
	tn_close(e);
	verdict(ch, __func__);
}
END_TEST

/*
 * 2. Half-closed: two whole lines and half a third, then SHUT_WR.  The
 * two are relayed to the others and echoed to the sender, which reads
 * until the server closes; the partial line is dropped.
 */
START_TEST(test_half_closed)
{
	struct chat		*ch;
	struct tn_client	*h;
	char			 line[TN_LINE_MAX], want[2][300], nick[160];
	int			 r, got = 0;

	ch = chat_start(NULL, 16, 2000);
	h = join(ch->d);
	snprintf(nick, sizeof(nick), "%s", h->nick);
	snprintf(want[0], sizeof(want[0]), "<%s> half one", nick);
	snprintf(want[1], sizeof(want[1]), "<%s> half two", nick);
	SENDB(h, "half one\r\nhalf two\nhalf thr");
	ck_assert_int_eq(shutdown(h->fd, SHUT_WR), 0);
	for (;;) {
		r = tn_readline(h, line, sizeof(line), TN_LINE_TIMEOUT);
		if (r == TN_EOF)
			break;
		ck_assert_msg(r >= 0, "%s", tn_error());
		ck_assert_msg(strstr(line, "half thr") == NULL,
		    "the partial line came back: \"%s\"", line);
		if (got < 2 && strcmp(line, want[got]) == 0)
			got++;
	}
	ck_assert_msg(got == 2, "the half-closed client got %d of its 2 "
	    "echoes before the close", got);
	tn_close(h);
	wait_gone(ch->d, nick, NULL, 0);
	chat_stop(ch);
	strcat(want[0], "\n");
	strcat(want[1], "\n");
	SAW_ALL(ch, want[0]);
	SAW_ALL(ch, want[1]);
	SAW_NONE(ch, "half thr");
	snprintf(want[0], sizeof(want[0]), "-- %s left\n", nick);
	SAW_ALL(ch, want[0]);
	verdict(ch, __func__);
}
END_TEST

/*
 * 3. A client with a small receive buffer stops reading while the
 * chatters flood (1 KB lines): it is cut off as too slow.  A second
 * one sends SHUT_WR while its sendq fills, a third just closes: both
 * leave with data queued, which chatd drops with an abortive close.
 * The chatters lose nothing.
 */
static void
flood_until(struct chat *ch, unsigned long long bytes)
{
	unsigned long long	 start = atomic_load(&ch->bytes);
	int64_t			 deadline = tn_now_ms() + TN_LINE_TIMEOUT;

	while (atomic_load(&ch->bytes) - start < bytes &&
	    tn_now_ms() < deadline && !atomic_load(&ch->failed))
		pause_ms(5);
}

START_TEST(test_full_sendq)
{
	static const char *const args[] = { "--sendq", "65536", NULL };
	struct chat		*ch;
	struct tn_client	*s[3];
	char			 nick[3][160], why[3][100], want[300];
	int			 i;

	ch = chat_start(args, 1000, 2000);
	for (i = 0; i < 3; i++) {
		s[i] = tn_connect_port(ch->d->port, 4096);
		ck_assert_msg(s[i] != NULL, "%s", tn_error());
		s[i]->d = ch->d;
		ck_assert_msg(tn_welcome(s[i]) == 0, "%s", tn_error());
		snprintf(nick[i], sizeof(nick[i]), "%s", s[i]->nick);
	}
	/* s[1] and s[2] leave once about 128 KB came their way. */
	flood_until(ch, 128 * 1024);
	ck_assert_int_eq(shutdown(s[1]->fd, SHUT_WR), 0);
	tn_close(s[2]);
	s[2] = NULL;
	/* s[0] never reads: the flood goes on until it is cut off. */
	wait_gone(ch->d, nick[0], why[0], sizeof(why[0]));
	wait_gone(ch->d, nick[1], why[1], sizeof(why[1]));
	wait_gone(ch->d, nick[2], why[2], sizeof(why[2]));
	chat_stop(ch);
	ck_assert_msg(strcmp(why[0], "too slow") == 0, "%s disconnected: %s",
	    nick[0], why[0]);
	snprintf(want, sizeof(want), "-- %s left (too slow)\n", nick[0]);
	SAW_ALL(ch, want);
	printf("full_sendq: %s disconnected: %s; %s (SHUT_WR): %s; %s "
	    "(close): %s\n", nick[0], why[0], nick[1], why[1], nick[2],
	    why[2]);
	tn_close(s[0]);
	tn_close(s[1]);
	verdict(ch, __func__);
}
END_TEST

/*
 * 4. Connect/disconnect churn: aiming at CHURN_RATE cycles a second,
 * at most CHURN_MAX cycles or CHURN_MS, while the chatters talk.  The
 * cycles take turns: read the welcome or not, close with FIN or RST (an
 * RST leaves no TIME_WAIT behind on our side).  The rate reached is
 * printed, not checked: sanitizer builds are much slower.
 */
START_TEST(test_churn)
{
	struct chat		*ch;
	struct tn_client	*c;
	int64_t			 t0, now;
	int			 n, failed = 0, welcomed = 0, reset = 0;
	double			 secs;

	tn_raise_nofile();
	ch = chat_start(NULL, 16, 2000);
	t0 = tn_now_ms();
	for (n = 0; n < CHURN_MAX; n++) {
		now = tn_now_ms();
		if (now - t0 >= CHURN_MS)
			break;
		/* Ahead of the aimed rate: wait for the cycle's slot. */
		if ((int64_t)n * 1000 / CHURN_RATE > now - t0)
			pause_ms((int)((int64_t)n * 1000 / CHURN_RATE -
			    (now - t0)));
		if ((c = tn_connect_port(ch->d->port, 0)) == NULL) {
			failed++;
			continue;
		}
		if (n % 2 == 0) {
			if (tn_welcome(c) == 0)
				welcomed++;
			else
				failed++;
		}
		if (n % 4 < 2) {
			reset_close(c);
			reset++;
		} else
			tn_close(c);
	}
	secs = (double)(tn_now_ms() - t0) / 1000;
	fprintf(stderr, "churn: %d cycles in %.1f s, %.0f a second (aim %d); "
	    "%d welcomes read, %d closed with RST, %d failed\n", n, secs,
	    n / (secs > 0 ? secs : 1), CHURN_RATE, welcomed, reset, failed);
	ck_assert_msg(failed == 0, "%d of %d churn cycles failed: %s",
	    failed, n, tn_error());
	verdict(ch, __func__);
}
END_TEST

/*
 * 5. /nick of 1 MB: one "line too long" error, the nick stays, the
 * connection stays, the others see no nick change.
 */
START_TEST(test_nick_1mb)
{
	struct chat		*ch;
	struct tn_client	*n;
	char			*big, line[TN_LINE_MAX];
	size_t			 len = 6 + 1048576 + 1;
	long			 before, after;
	int			 r, errors = 0;

	ch = chat_start(NULL, 16, 2000);
	n = join(ch->d);
	before = rss_kb(ch->d->pid);
	big = malloc(len);
	ck_assert_ptr_nonnull(big);
	memcpy(big, "/nick ", 6);
	memset(big + 6, 'n', len - 7);
	big[len - 1] = '\n';
	ck_assert_msg(tn_send(n, big, len) == 0, "%s", tn_error());
	free(big);
	SEND(n, "/who\r\n");
	for (;;) {
		r = tn_readline(n, line, sizeof(line), TN_LINE_TIMEOUT);
		ck_assert_msg(r >= 0, "%s", tn_error());
		if (strncmp(line, "!! ", 3) == 0) {
			ck_assert_str_eq(line, "!! line too long (limit 4096 "
			    "bytes), discarded");
			errors++;
		}
		if (strncmp(line, "-- ", 3) == 0 && strstr(line, " online: "))
			break;
	}
	ck_assert_msg(errors == 1, "%d \"line too long\" errors", errors);
	/* Its nick is the one it had: its echo says so. */
	SEND(n, "still me\r\n");
	expect_own(n, "still me");
	after = rss_kb(ch->d->pid);
	chat_stop(ch);
	SAW_NONE(ch, "is now known as");
	SAW_NONE(ch, "nnnnnnnn");
	printf("nick_1mb: chatd RSS %ld kB before, %ld kB after\n", before,
	    after);
	tn_close(n);
	verdict(ch, __func__);
}
END_TEST

/*
 * 6. Data right after connect(), before the welcome is read: the lines
 * are handled after the join, in order.  A client that sends and
 * closes at once, before chatd may even have accepted it, still has its
 * whole lines relayed.
 */
START_TEST(test_early_data)
{
	struct chat		*ch;
	struct tn_client	*e, *q;
	char			 want[300];
	int			 i;

	ch = chat_start(NULL, 16, 2000);
	e = tn_connect_port(ch->d->port, 0);
	ck_assert_msg(e != NULL, "%s", tn_error());
	e->d = ch->d;
	SENDB(e, "early one\r\nearly two\r\n");
	ck_assert_msg(tn_welcome(e) == 0, "%s", tn_error());
	expect_own(e, "early one");
	expect_own(e, "early two");
	for (i = 0; i < 5; i++) {
		q = tn_connect_port(ch->d->port, 0);
		ck_assert_msg(q != NULL, "%s", tn_error());
		SENDF(q, "early bye %d\r\n", i);
		tn_close(q);
	}
	chat_stop(ch);
	snprintf(want, sizeof(want), "<%s> early one\n<", e->nick);
	SAW_ALL(ch, want);
	for (i = 0; i < 5; i++) {
		snprintf(want, sizeof(want), "> early bye %d\n", i);
		SAW_ALL(ch, want);
	}
	tn_close(e);
	verdict(ch, __func__);
}
END_TEST

/*
 * 7. Slowloris: ten clients each send most of a line (4000 bytes, under
 * the 4096 limit) and then nothing.  They hold only their own buffers:
 * the chatters go on, and each loris, once it ends its line, has it
 * relayed whole.
 */
#define LORIS	10

START_TEST(test_slowloris)
{
	struct chat		*ch;
	struct tn_client	*l[LORIS];
	char			 part[4001], want[TN_LINE_MAX];
	int			 i;

	ch = chat_start(NULL, 16, 2000);
	memset(part, 'l', 4000);
	part[4000] = '\0';
	for (i = 0; i < LORIS; i++) {
		l[i] = join(ch->d);
		SEND(l[i], part);
	}
	pause_ms(1000);
	for (i = 0; i < LORIS; i++) {
		SENDF(l[i], "%d\r\n", i);
		snprintf(want, sizeof(want), "%s%d", part, i);
		expect_own(l[i], want);
	}
	chat_stop(ch);
	for (i = 0; i < LORIS; i++) {
		snprintf(want, sizeof(want), "<%s> %s%d\n", l[i]->nick, part,
		    i);
		SAW_ALL(ch, want);
		tn_close(l[i]);
	}
	verdict(ch, __func__);
}
END_TEST

int
main(void)
{
	const struct net_test tests[] = {
		{ "rst_midline", test_rst_midline, 0 },
		{ "half_closed", test_half_closed, 0 },
		{ "full_sendq", test_full_sendq, 0 },
		{ "churn", test_churn, 0 },
		{ "nick_1mb", test_nick_1mb, 0 },
		{ "early_data", test_early_data, 0 },
		{ "slowloris", test_slowloris, 0 },
	};

	return net_main(NET_SUITE("faults", tests, NULL, NULL));
}
