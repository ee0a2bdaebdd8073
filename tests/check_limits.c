/*
 * check_limits.c - integration tests of the limits that face hostile and
 * dead clients: connections per address, the connect rate, the loopback
 * exemption, --idle-timeout and TCP keepalive, against the real chatd.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_net.h"
#include "check_run.h"

#define MANY	8

/* A connection whose first line is a refusal, then EOF. */
static void
expect_refused(struct tn_daemon *d, const char *why)
{
	struct tn_client	*c;
	char			 want[160];

	c = tn_connect(d);
	ck_assert_msg(c != NULL, "%s", tn_error());
	snprintf(want, sizeof want, "!! %s", why);
	EXPECT(c, want);
	EXPECT_EOF(c);
	tn_close(c);
}

/*
 * A place freed by a close is given back by the acceptor when it frees
 * the connection, a moment later: try again within a bound.
 */
static struct tn_client *
join_when_freed(struct tn_daemon *d)
{
	struct tn_client	*c;
	char			 line[256];
	int64_t			 deadline = tn_now_ms() + TN_LINE_TIMEOUT;
	int			 n;

	while (tn_now_ms() < deadline) {
		c = tn_connect(d);
		ck_assert_msg(c != NULL, "%s", tn_error());
		n = tn_readline(c, line, sizeof line, TN_LINE_TIMEOUT);
		if (n > 0 && strncmp(line, "-- welcome", 10) == 0) {
			ck_assert_int_eq(tn_parse_welcome(line, c->nick,
			    sizeof c->nick, &c->online), 0);
			return c;
		}
		ck_assert_msg(n > 0 && strcmp(line,
		    "!! too many connections from your address") == 0,
		    "unexpected \"%s\" (%d)", n > 0 ? line : "", n);
		tn_close(c);
		usleep(20 * 1000);
	}
	ck_abort_msg("the freed place was not given back in %d ms",
	    TN_LINE_TIMEOUT);
	return NULL;
}

/*
 * 1. --max-per-ip: the next connection from the address is told why and
 * closed; the ones it has are untouched; a close frees a place.
 */
START_TEST(test_max_per_ip)
{
	static const char *const args[] = { "--max-per-ip", "3",
	    "--limit-loopback", "--connect-rate", "0", NULL };
	struct tn_daemon	*d;
	struct tn_client	*c[3], *again;
	char			 want[256];
	int			 i;

	d = start(args);
	for (i = 0; i < 3; i++)
		c[i] = join(d);
	expect_refused(d, "too many connections from your address");
	ck_assert_msg(tn_wait_log(d, "refused: too many connections from "
	    "your address", TN_LINE_TIMEOUT), "%s", tn_error());
	/* The three still chat. */
	SEND(c[0], "still here\n");
	for (i = 0; i < 3; i++) {
		snprintf(want, sizeof want, "<%s> still here", c[0]->nick);
		ck_assert_msg(tn_expect_skip_notices(c[i], want) == 0, "%s",
		    tn_error());
	}
	tn_close(c[1]);
	again = join_when_freed(d);
	SEND(again, "in again\n");
	EXPECTF(again, "<%s> in again", again->nick);
	tn_close(again);
	tn_close(c[0]);
	tn_close(c[2]);
	stop(d);
}
END_TEST

/* 2. Loopback is exempt by default: local stress runs and bridges work. */
START_TEST(test_loopback_exempt)
{
	static const char *const args[] = { "--max-per-ip", "2",
	    "--connect-rate", "1", "--connect-burst", "1", NULL };
	struct tn_daemon	*d;
	struct tn_client	*c[MANY];
	int			 i;

	d = start(args);
	for (i = 0; i < MANY; i++)
		c[i] = join(d);
	for (i = 0; i < MANY; i++)
		tn_close(c[i]);
	ck_assert_msg(!tn_log_contains(d, "refused"), "a loopback client "
	    "was refused without --limit-loopback");
	stop(d);
}
END_TEST

/*
 * 3. The connect rate: a burst of connections from one address beyond
 * --connect-burst is refused until the bucket refills.  The test does
 * not time anything: it only needs the burst to take less than the one
 * second a token takes to come back.
 */
START_TEST(test_connect_rate)
{
	static const char *const args[] = { "--limit-loopback",
	    "--max-per-ip", "0", "--connect-rate", "1", "--connect-burst",
	    "2", NULL };
	struct tn_daemon	*d;
	struct tn_client	*c[MANY];
	char			 line[256];
	int			 i, n, ok = 0, fast = 0;
	int64_t			 t0;

	d = start(args);
	t0 = tn_now_ms();
	for (i = 0; i < MANY; i++) {
		c[i] = tn_connect(d);
		ck_assert_msg(c[i] != NULL, "%s", tn_error());
	}
	for (i = 0; i < MANY; i++) {
		n = tn_readline(c[i], line, sizeof line, TN_LINE_TIMEOUT);
		ck_assert_msg(n > 0, "connection %d: no first line (%d)", i, n);
		if (strncmp(line, "-- welcome", 10) == 0)
			ok++;
		else if (strcmp(line, "!! connecting too fast from your "
		    "address, try again later") == 0) {
			fast++;
			EXPECT_EOF(c[i]);
		} else
			ck_abort_msg("connection %d: unexpected \"%s\"", i,
			    line);
	}
	/* Two at once, plus one a second while the test ran. */
	ck_assert_int_ge(ok, 2);
	ck_assert_int_le(ok, 2 + 1 + (int)((tn_now_ms() - t0) / 1000));
	ck_assert_int_eq(ok + fast, MANY);
	for (i = 0; i < MANY; i++)
		tn_close(c[i]);
	stop(d);
}
END_TEST

/*
 * 4. With --limit-loopback the UNIX socket's clients count as one
 * address too; without it they are exempt (test 2 covers TCP).
 */
START_TEST(test_unix_limited)
{
	char			 path[128];
	const char		*args[8];
	struct tn_daemon	*d;
	struct tn_client	*u, *v;

	snprintf(path, sizeof path, "%s/chatd-limits-%ld.sock",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp",
	    (long)getpid());
	args[0] = "--unix";
	args[1] = path;
	args[2] = "--limit-loopback";
	args[3] = "--max-per-ip";
	args[4] = "1";
	args[5] = NULL;
	d = start(args);
	ck_assert_msg(tn_wait_log(d, "listening on unix:", TN_LINE_TIMEOUT),
	    "%s", tn_error());
	u = tn_connect_unix(path);
	ck_assert_msg(u != NULL, "%s", tn_error());
	ck_assert_msg(tn_welcome(u) == 0, "%s", tn_error());
	v = tn_connect_unix(path);
	ck_assert_msg(v != NULL, "%s", tn_error());
	EXPECT(v, "!! too many connections from your address");
	EXPECT_EOF(v);
	tn_close(v);
	tn_close(u);
	stop(d);
}
END_TEST

/*
 * 5. A refusal flood is logged a few lines a second, the rest summed
 * up: a connection flood must not become a disk-filling log flood.
 */
START_TEST(test_refusal_log_bounded)
{
	static const char *const args[] = { "--limit-loopback",
	    "--max-per-ip", "1", "--connect-rate", "0", NULL };
	struct tn_daemon	*d;
	struct tn_client	*keep;
	char			*log;
	const char		*p;
	int			 i, logged = 0;

	d = start(args);
	keep = join(d);
	for (i = 0; i < 40; i++)
		expect_refused(d, "too many connections from your address");
	ck_assert_msg(tn_wait_log(d, "more connections refused in the last "
	    "second", 5000), "%s", tn_error());
	log = tn_read_file(d->log, NULL);
	ck_assert_ptr_nonnull(log);
	for (p = log; (p = strstr(p, "refused: too many")) != NULL; p++)
		logged++;
	free(log);
	/* At most ten a second; the test takes a few seconds at most. */
	ck_assert_msg(logged >= 1 && logged < 40, "%d refusal lines for 40 "
	    "refusals", logged);
	tn_close(keep);
	stop(d);
}
END_TEST

/*
 * 6. --idle-timeout: a client that sends no line is told and closed, the
 * others see it leave "(idle)"; a client that talks is kept.
 */
START_TEST(test_idle_timeout)
{
	static const char *const args[] = { "--idle-timeout", "1", NULL };
	struct tn_daemon	*d;
	struct tn_client	*quiet, *talker;
	char			 line[256], want[256];
	int64_t			 deadline;
	int			 n, i = 0;
	bool			 left = false;

	d = start(args);
	quiet = join(d);
	talker = join(d);
	/* Half a line is not activity: this is the Slowloris case. */
	SEND(quiet, "half a li");
	deadline = tn_now_ms() + 10000;
	snprintf(want, sizeof want, "-- %s left (idle)", quiet->nick);
	while (!left && tn_now_ms() < deadline) {
		SENDF(talker, "line %d\n", i);
		snprintf(line, sizeof line, "<%s> line %d", talker->nick, i);
		for (;;) {
			n = tn_readline(talker, line + 128, 128, 5000);
			ck_assert_msg(n > 0, "talker lost its connection (%d)",
			    n);
			if (strcmp(line + 128, want) == 0)
				left = true;
			else if (strcmp(line + 128, line) == 0)
				break;
		}
		i++;
		usleep(200 * 1000);
	}
	ck_assert_msg(left, "no \"%s\" within 10 s", want);
	/* The quiet one saw the talk, then its notice. */
	do {
		n = tn_readline(quiet, line, sizeof line, TN_LINE_TIMEOUT);
		ck_assert_msg(n > 0, "no idle notice before the close (%d)",
		    n);
	} while (strncmp(line, "-- ", 3) == 0 || line[0] == '<');
	ck_assert_str_eq(line, "!! disconnected: idle for 1 s");
	EXPECT_EOF(quiet);
	ck_assert_msg(tn_wait_log(d, "disconnected: idle", TN_LINE_TIMEOUT),
	    "%s", tn_error());
	SEND(talker, "still here\n");
	EXPECTF(talker, "<%s> still here", talker->nick);
	tn_close(quiet);
	tn_close(talker);
	stop(d);
}
END_TEST

/*
 * The server's socket for a client, as /proc/net/tcp shows it: its
 * timer field is 2 while a keepalive timer runs, 0 when no timer does.
 */
static int
server_side_timer(uint16_t server_port, uint16_t client_port)
{
	FILE		*f;
	char		 buf[512];
	unsigned	 lport, rport, timer;
	int		 found = -1;

	if ((f = fopen("/proc/net/tcp", "r")) == NULL)
		return -1;
	while (fgets(buf, sizeof buf, f) != NULL)
		if (sscanf(buf, " %*u: %*x:%x %*x:%x %*x %*x:%*x %x:", &lport,
		    &rport, &timer) == 3 && lport == server_port &&
		    rport == client_port)
			found = (int)timer;
	fclose(f);
	return found;
}

static uint16_t
local_port(int fd)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

/* Wait until the server side's timer is want (retransmits settle). */
static int
wait_timer(struct tn_daemon *d, struct tn_client *c, int want)
{
	int64_t	 deadline = tn_now_ms() + 5000;
	int	 t;

	do {
		t = server_side_timer(d->port, local_port(c->fd));
		if (t == want)
			break;
		usleep(20 * 1000);
	} while (tn_now_ms() < deadline);
	return t;
}

/* 7. TCP keepalive is on by default, and --keepalive 0 turns it off. */
START_TEST(test_keepalive)
{
	static const char *const off[] = { "--keepalive", "0", NULL };
	struct tn_daemon	*d;
	struct tn_client	*c;
	int			 t;

	d = start(NULL);
	c = join(d);
	t = wait_timer(d, c, 2);
	ck_assert_msg(t == 2, "server socket timer %d, not 2 (keepalive)", t);
	tn_close(c);
	stop(d);

	d = start(off);
	c = join(d);
	t = wait_timer(d, c, 0);
	ck_assert_msg(t == 0, "server socket timer %d with --keepalive 0", t);
	tn_close(c);
	stop(d);
}
END_TEST

/* Count the occurrences of s in the daemon's log. */
static int
log_count(struct tn_daemon *d, const char *s)
{
	char		*log = tn_read_file(d->log, NULL);
	const char	*p;
	int		 n = 0;

	ck_assert_ptr_nonnull(log);
	for (p = log; (p = strstr(p, s)) != NULL; p++)
		n++;
	free(log);
	return n;
}

/*
 * 8. Renames are logged a few at a time per connection, the rest counted
 * and the count logged with the disconnect: /nick at the flood limit
 * must not become a log flood.
 */
START_TEST(test_rename_log_bounded)
{
	static const char *const args[] = { "--rate", "0", NULL };
	struct tn_daemon	*d;
	struct tn_client	*c;
	char			 want[64];
	int			 i;

	d = start(args);
	c = join(d);
	for (i = 0; i < 30; i++) {
		SENDF(c, "/nick renamer%d\n", i);
		EXPECTF(c, "-- %s is now known as renamer%d",
		    i == 0 ? c->nick : want + 3, i);
		snprintf(want, sizeof want, "-- renamer%d", i);
	}
	SEND(c, "/quit\n");
	EXPECT(c, "-- bye");
	EXPECT_EOF(c);
	tn_close(c);
	ck_assert_msg(tn_wait_log(d, "renamer29 disconnected: quit (25 "
	    "renames not logged)", 5000), "%s", tn_error());
	ck_assert_int_eq(log_count(d, " is now renamer"), 5);
	stop(d);
}
END_TEST

/*
 * Read three lines of 4000 control bytes relayed from "from" (each
 * "<from> " or "*from* " and 12,000 bytes), and require the third to
 * come at least a second after the second: the debt the first two ran
 * up holds it back.
 */
static void
expect_third_held(struct tn_client *b, const struct tn_client *from,
    const char *what)
{
	char	 line[TN_LINE_MAX];
	int64_t	 t[3];
	int	 i, n;

	for (i = 0; i < 3; i++) {
		n = tn_readline(b, line, sizeof line, 20000);
		t[i] = tn_now_ms();
		ck_assert_msg(n == (int)(strlen(from->nick) + 3 + 4000 * 3),
		    "%s %d: \"%.40s...\" is %d bytes", what, i,
		    tn_quote(line, n > 0 ? (size_t)n : 0), n);
	}
	ck_assert_msg(t[2] - t[1] >= 1000, "the third 12 KB %s came %" PRId64
	    " ms after the second", what, t[2] - t[1]);
}

/*
 * 9. The flood bucket charges by what a line makes chatd relay: a line
 * of 4000 control bytes (12 KB relayed) costs 12 tokens, so with
 * --rate 4 --burst 20 the third such line waits for seconds, while a
 * burst of 20 short lines goes at once.  A line is charged after it is
 * relayed, so the debt holds back the line after it.  Lower bounds on
 * time only: a slow machine makes lines later, never earlier.
 */
START_TEST(test_flood_counts_output)
{
	static const char *const args[] = { "--rate", "4", "--burst", "20",
	    NULL };
	struct tn_daemon	*d;
	struct tn_client	*a, *b;
	char			 big[3 * 4001 + 1];
	int			 i;

	d = start(args);
	a = join(d);
	b = join(d);
	EXPECTF(a, "-- %s joined", b->nick);
	/* Three lines of 4000 control bytes, written at once. */
	memset(big, 0x01, sizeof big - 1);
	for (i = 1; i <= 3; i++)
		big[i * 4001 - 1] = '\n';
	/* Short lines: the whole burst of 20 goes at once. */
	for (i = 0; i < 20; i++)
		SENDF(a, "short %d\n", i);
	for (i = 0; i < 20; i++)
		EXPECTF(b, "<%s> short %d", a->nick, i);
	/* The bucket is empty now: wait until it is full again (5 s). */
	usleep(5200 * 1000);
	ck_assert_msg(tn_send(a, big, sizeof big - 1) == 0, "%s", tn_error());
	/*
	 * 13 tokens each (12,006 bytes is 12 KiB and a bit): the first
	 * leaves 7, the second -6, and the third waits for 7 more, at 4 a
	 * second.  Counted by lines, all three would have gone at once.
	 */
	expect_third_held(b, a, "room line");
	tn_close(a);
	tn_close(b);
	stop(d);
}
END_TEST

/*
 * 10. A private line is charged like a room line: three /msg of 4000
 * control bytes each make chatd send 12 KB, so the third waits for the
 * bucket, as in 9.
 */
START_TEST(test_flood_counts_private)
{
	static const char *const args[] = { "--rate", "4", "--burst", "20",
	    NULL };
	struct tn_daemon	*d;
	struct tn_client	*a, *b;
	char			*msgs, *p;
	size_t			 one;
	int			 i, n;

	d = start(args);
	a = join(d);
	b = join(d);
	EXPECTF(a, "-- %s joined", b->nick);
	one = strlen("/msg ") + strlen(b->nick) + 1 + 4000 + 1;
	ck_assert_ptr_nonnull(msgs = malloc(3 * one));
	for (i = 0, p = msgs; i < 3; i++, p += one) {
		n = sprintf(p, "/msg %s ", b->nick);
		memset(p + n, 0x01, 4000);
		p[one - 1] = '\n';
	}
	ck_assert_msg(tn_send(a, msgs, 3 * one) == 0, "%s", tn_error());
	free(msgs);
	expect_third_held(b, a, "private line");
	tn_close(a);
	tn_close(b);
	stop(d);
}
END_TEST

int
main(void)
{
	const struct net_test tests[] = {
		{ "max_per_ip", test_max_per_ip, 0 },
		{ "loopback_exempt", test_loopback_exempt, 0 },
		{ "connect_rate", test_connect_rate, 0 },
		{ "unix_limited", test_unix_limited, 0 },
		{ "refusal_log_bounded", test_refusal_log_bounded, 0 },
		{ "idle_timeout", test_idle_timeout, 0 },
		{ "keepalive", test_keepalive, 0 },
		{ "rename_log_bounded", test_rename_log_bounded, 0 },
		{ "flood_counts_output", test_flood_counts_output, 0 },
		{ "flood_counts_private", test_flood_counts_private, 0 },
	};

	return net_main(NET_SUITE("limits", tests, NULL, NULL));
}
