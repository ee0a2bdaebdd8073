/*
 * check_cluster_net.c - chatd --cluster end to end, each test with its
 * own nats-server -js (the fixture stops it by PID): NATS unreachable
 * at start is exit 1 and a clear error; 5 senders on 3 nodes, and every
 * client sees one identical order and nothing lost; a node started after
 * the talk has it in /history; lines typed while NATS is away are
 * refused with "!!", and the node resumes when it is back.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nats/nats.h>

#include "check_net.h"
#include "check_tmp.h"
#include "natsfix.h"

#define NODE_HISTORY	"1000"
#include "clnet.h"

#define NODES		3
#define SENDERS		5
#define LINES		30
#define TOTAL		(SENDERS * LINES)

/*
 * The text of the next chat line ("<nick> text"), notices skipped, into
 * text; false if none came in time.
 */
static bool
next_chat(struct tn_client *c, char *text, size_t size)
{
	char		 line[1024];
	const char	*p;

	for (;;) {
		if (tn_readline(c, line, sizeof(line), TN_LINE_TIMEOUT) < 0)
			return false;
		if (line[0] != '<' || (p = strstr(line, "> ")) == NULL)
			continue;
		snprintf(text, size, "%s", p + 2);
		return true;
	}
}

START_TEST(test_unreachable)
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	char			 url[64], *out = NULL, *err = NULL;
	int			 fd, rc;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	close(fd);
	snprintf(url, sizeof(url), "nats://127.0.0.1:%u",
	    ntohs(sin.sin_port));
	{
		const char *const argv[] = { getenv("CHATD"), "--port", "0",
		    "--bind", "127.0.0.1", "--cluster", url, "--node-name",
		    "a", NULL };

		rc = tn_run(argv, 20000, &out, &err);
	}
	ck_assert_msg(rc == 1, "exit %d; stderr: %s", rc, err);
	ck_assert_msg(err != NULL && strstr(err, "cannot reach NATS at") !=
	    NULL && strstr(err, url) != NULL, "stderr: %s", err);
	free(out);
	free(err);
}
END_TEST

/*
 * The next chat line of c, notices skipped: its room (the label, or
 * current if none) and text.  False if none came in time.
 */
static bool
next_chat_in(struct tn_client *c, const char *current, char *room,
    size_t room_size, char *text, size_t size)
{
	char		 line[1024];
	const char	*p, *sp;

	for (;;) {
		if (tn_readline(c, line, sizeof(line), TN_LINE_TIMEOUT) < 0)
			return false;
		p = line;
		snprintf(room, room_size, "%s", current);
		if (*p == '#' && (sp = strchr(p, ' ')) != NULL) {
			snprintf(room, room_size, "%.*s", (int)(sp - p), p);
			p = sp + 1;
		}
		if (*p != '<' || (p = strstr(p, "> ")) == NULL)
			continue;
		snprintf(text, size, "%s", p + 2);
		return true;
	}
}

/* Send a /join and read up to its "now talking in" notice. */
static void
switch_room(struct tn_client *c, const char *room)
{
	char	want[128];

	SENDF(c, "/join %s\r\n", room);
	snprintf(want, sizeof(want), "-- now talking in %s (", room);
	for (;;) {
		char	line[1024];

		ck_assert_msg(tn_readline(c, line, sizeof(line),
		    TN_LINE_TIMEOUT) >= 0, "no %s: %s", want, tn_error());
		if (strncmp(line, want, strlen(want)) == 0)
			return;
	}
}

/*
 * 5 senders over 3 nodes, in two rooms that every client is in: one
 * order per room everywhere, nothing lost; then a late node.
 */
START_TEST(test_order_and_history)
{
	static const char *const names[NODES] = { "a", "b", "c" };
	static const char *const rooms[2] = { "#lobby", "#two" };
	struct tn_daemon	*d[NODES], *late;
	struct tn_client	*c[SENDERS], *lc;
	static char		 seen[SENDERS][2][TOTAL][64];
	char			 text[64], room[64], line[1024];
	int			 count[SENDERS][2], next[SENDERS];
	int			 i, k, n, s, r, sender, got;

	for (n = 0; n < NODES; n++)
		d[n] = node(names[n]);
	for (s = 0; s < SENDERS; s++)
		c[s] = join(d[s % NODES]);
	/* Everyone in both rooms; even senders talk in #lobby, odd in #two. */
	for (s = 0; s < SENDERS; s++)
		switch_room(c[s], rooms[1]);
	for (s = 0; s < SENDERS; s += 2)
		switch_room(c[s], rooms[0]);
	for (k = 0; k < LINES; k++)
		for (s = 0; s < SENDERS; s++)
			SENDF(c[s], "s%d %d\r\n", s, k);
	memset(count, 0, sizeof(count));
	for (s = 0; s < SENDERS; s++) {
		memset(next, 0, sizeof(next));
		for (i = 0; i < TOTAL; i++) {
			ck_assert_msg(next_chat_in(c[s], rooms[s % 2], room,
			    sizeof(room), text, sizeof(text)),
			    "client %d got %d of %d: %s", s, i, TOTAL,
			    tn_error());
			ck_assert_int_eq(sscanf(text, "s%d %d", &sender, &k), 2);
			ck_assert_int_lt(sender, SENDERS);
			/* Each sender's lines in its order, in its room. */
			ck_assert_int_eq(k, next[sender]++);
			r = sender % 2;
			ck_assert_str_eq(room, rooms[r]);
			snprintf(seen[s][r][count[s][r]++], sizeof(seen[0][0][0]),
			    "%s", text);
		}
	}
	/* One order per room: every client's equals the first's. */
	for (s = 1; s < SENDERS; s++)
		for (r = 0; r < 2; r++) {
			ck_assert_int_eq(count[s][r], count[0][r]);
			for (i = 0; i < count[0][r]; i++)
				ck_assert_msg(strcmp(seen[s][r][i],
				    seen[0][r][i]) == 0, "client %d %s line %d: "
				    "\"%s\", client 0: \"%s\"", s, rooms[r], i,
				    seen[s][r][i], seen[0][r][i]);
		}

	/* A node started now has #lobby's talk, in order, from the stream. */
	late = node("late");
	lc = join(late);
	SENDF(lc, "/history %d\r\n", TOTAL);
	EXPECTF(lc, "-- history of #lobby, last %d lines:", count[0][0]);
	for (i = 0; i < count[0][0]; i++) {
		got = tn_readline(lc, line, sizeof(line), TN_LINE_TIMEOUT);
		ck_assert_msg(got > 0, "%s", tn_error());
		ck_assert_msg(strstr(line, "> ") != NULL, "line: %s", line);
		snprintf(text, sizeof(text), "%s", strstr(line, "> ") + 2);
		ck_assert_msg(strcmp(text, seen[0][0][i]) == 0,
		    "history %d: \"%s\", live: \"%s\"", i, text,
		    seen[0][0][i]);
	}
	EXPECT(lc, "-- end of history");
	tn_close(lc);
	stop(late);
	for (s = 0; s < SENDERS; s++)
		tn_close(c[s]);
	for (n = 0; n < NODES; n++)
		stop(d[n]);
}
END_TEST

/* NATS away: lines refused with "!!"; back: the node resumes alone. */
START_TEST(test_nats_restart)
{
	struct tn_daemon	*a = node("a"), *b = node("b");
	struct tn_client	*ca = join(a), *cb = join(b);
	uint16_t		 port;
	char			 text[64];

	SEND(ca, "before\r\n");
	ck_assert(next_chat(cb, text, sizeof(text)));
	ck_assert_str_eq(text, "before");
	ck_assert(next_chat(ca, text, sizeof(text)));
	ck_assert_str_eq(text, "before");

	port = nats_kill();
	ck_assert_msg(tn_wait_log(a, "lost NATS at", TN_LINE_TIMEOUT),
	    "%s", tn_error());
	SEND(ca, "during\r\n");
	expect_past_notices(ca, "!! the cluster is unreachable: 1 line not sent");

	nats_restart(port);
	ck_assert_msg(tn_wait_log(a, "NATS is back", 15000), "%s",
	    tn_error());
	ck_assert_msg(tn_wait_log(b, "NATS is back", 15000), "%s",
	    tn_error());
	SEND(ca, "after\r\n");
	/* Not "during": it was refused, not queued. */
	ck_assert_msg(next_chat(cb, text, sizeof(text)), "%s", tn_error());
	ck_assert_str_eq(text, "after");
	ck_assert_msg(next_chat(ca, text, sizeof(text)), "%s", tn_error());
	ck_assert_str_eq(text, "after");
	tn_close(ca);
	tn_close(cb);
	stop(a);
	stop(b);
}
END_TEST

/* A nick taken on one node is refused on another, and free after. */
START_TEST(test_nicks)
{
	struct tn_daemon	*a = node("a"), *b = node("b");
	struct tn_client	*ca = join(a), *cb = join(b), *cb2;
	char			 want[256];

	SEND(ca, "/nick alice\r\n");
	snprintf(want, sizeof(want), "-- %s is now known as alice", ca->nick);
	expect_past_notices(ca, want);
	SEND(cb, "/nick Alice\r\n");
	expect_past_notices(cb, "!! nickname Alice is taken");
	/* Renamed away, alice is free; bob is now a's. */
	SEND(ca, "/nick bob\r\n");
	expect_past_notices(ca, "-- alice is now known as bob");
	SEND(cb, "/nick alice\r\n");
	snprintf(want, sizeof(want), "-- %s is now known as alice", cb->nick);
	expect_past_notices(cb, want);
	cb2 = join(b);
	SEND(cb2, "/nick BOB\r\n");
	expect_past_notices(cb2, "!! nickname BOB is taken");
	/* bob quits on a: free on b. */
	tn_close(ca);
	ck_assert_msg(tn_wait_log(a, "bob disconnected", TN_LINE_TIMEOUT),
	    "%s", tn_error());
	SEND(cb2, "/nick BOB\r\n");
	snprintf(want, sizeof(want), "-- %s is now known as BOB", cb2->nick);
	expect_past_notices(cb2, want);
	tn_close(cb);
	tn_close(cb2);
	stop(a);
	stop(b);
}
END_TEST

/*
 * A line NATS does not store is not relayed, and its sender is told,
 * on the line protocol and on IRC.
 */
START_TEST(test_unstored_line)
{
	uint16_t		 port;
	struct tn_daemon	*a = node_irc("a", &port);
	struct tn_client	*ca = join(a), *ic;
	natsConnection		*nc = NULL;
	jsCtx			*js = NULL;
	char			 text[64], line[1024];

	ic = tn_connect_port(port, 0);
	ck_assert_msg(ic != NULL, "%s", tn_error());
	SEND(ic, "NICK ircy\r\nUSER ircy 0 * :Irc Y\r\nJOIN #lobby\r\n");
	skip_to(ic, " 366 ", line, sizeof(line));
	SEND(ca, "stored\r\n");
	ck_assert(next_chat(ca, text, sizeof(text)));
	ck_assert_str_eq(text, "stored");
	skip_to(ic, " PRIVMSG #lobby :stored", line, sizeof(line));
	ck_assert_int_eq(natsConnection_ConnectTo(&nc, nats.url), NATS_OK);
	ck_assert_int_eq(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
	ck_assert_int_eq(js_DeleteStream(js, "chatd", NULL, NULL), NATS_OK);
	SEND(ca, "not stored\r\n");
	expect_past_notices(ca,
	    "!! NATS did not store a line of yours: it was not relayed");
	/* An IRC sender is told as well, in a NOTICE. */
	SEND(ic, "PRIVMSG #lobby :not stored either\r\n");
	skip_to(ic, " NOTICE * :NATS did not store a line of yours: it was "
	    "not relayed", line, sizeof(line));
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	tn_close(ic);
	tn_close(ca);
	stop(a);
}
END_TEST

/* IRC users are clustered too: their nick, their lines, both ways. */
START_TEST(test_irc)
{
	uint16_t		 port;
	struct tn_daemon	*a = node_irc("a", &port), *b = node("b");
	struct tn_client	*ic, *lb = join(b);
	char			 echo[256], line[1024];

	ic = tn_connect_port(port, 0);
	ck_assert_msg(ic != NULL, "%s", tn_error());
	SEND(ic, "NICK ircy\r\nUSER ircy 0 * :Irc Y\r\n");
	skip_to(ic, " 001 ircy ", line, sizeof(line));
	/* Registered on a: claimed for the cluster. */
	SEND(lb, "/nick IRCY\r\n");
	expect_past_notices(lb, "!! nickname IRCY is taken");
	SEND(ic, "JOIN #lobby\r\n");
	skip_to(ic, " 366 ", line, sizeof(line));
	SEND(lb, "hello irc\r\n");
	snprintf(echo, sizeof(echo), "<%s> hello irc", lb->nick);
	expect_past_notices(lb, echo);
	skip_to(ic, " PRIVMSG #lobby :hello irc", line, sizeof(line));
	SEND(ic, "PRIVMSG #lobby :hi line\r\n");
	expect_past_notices(lb, "<ircy> hi line");
	tn_close(ic);
	tn_close(lb);
	stop(a);
	stop(b);
}
END_TEST

/*
 * /who lists the users of every node, and a node killed with SIGKILL
 * takes its users with it: announced as left within the heartbeat
 * bound, once, and their nick is free again.
 */
START_TEST(test_who_and_death)
{
	struct tn_daemon	*a = node("a"), *b = node("b");
	struct tn_client	*ca = join(a), *cb;
	char			 line[1024];
	int64_t			 killed, took;
	int			 n, lefts = 0;
	bool			 saw_last = false;

	SEND(ca, "/nick alice\r\n");
	EXPECTF(ca, "-- %s is now known as alice", ca->nick);
	cb = join(b);
	SEND(cb, "/nick bob\r\n");
	snprintf(line, sizeof(line), "-- %s is now known as bob", cb->nick);
	expect_past_notices(cb, line);
	ck_assert_msg(who_lists(cb, "alice", true), "b's /who lacks alice");
	ck_assert_msg(who_lists(ca, "bob", true), "a's /who lacks bob");

	/* Echoed to alice: stored by JetStream, so b must have it. */
	SEND(ca, "last words\r\n");
	ck_assert(next_chat(ca, line, sizeof(line)));
	ck_assert_str_eq(line, "last words");
	ck_assert_int_eq(tn_signal(a, SIGKILL), 0);
	killed = tn_now_ms();
	ck_assert_int_eq(tn_wait(a, TN_STOP_TIMEOUT), 128 + SIGKILL);
	tn_stop(a);	/* reaped: frees it */
	for (;;) {
		n = tn_readline(cb, line, sizeof(line), 10000);
		ck_assert_msg(n >= 0, "no leave of alice: %s", tn_error());
		if (strcmp(line, "<alice> last words") == 0)
			saw_last = true;
		if (strcmp(line, "-- alice left (node a is gone)") == 0)
			break;
	}
	ck_assert_msg(saw_last, "b lost alice's acknowledged line");
	took = tn_now_ms() - killed;
	/* 3 missed beats of 1 s, one more beat, and slack for TSan. */
	ck_assert_msg(took <= 6000, "alice left after %lld ms",
	    (long long)took);
	ck_assert_msg(who_lists(cb, "alice", false), "b's /who still has alice");
	/* Once: no second leave over a few more beats. */
	while ((n = tn_readline(cb, line, sizeof(line), 3000)) >= 0)
		if (strstr(line, "alice left") != NULL)
			lefts++;
	ck_assert_int_eq(lefts, 0);
	SEND(cb, "/nick alice\r\n");
	expect_past_notices(cb, "-- bob is now known as alice");
	/* A node stopped cleanly takes its users with it at once. */
	{
		struct tn_daemon	*c = node("c");
		struct tn_client	*cc = join(c);

		SEND(cc, "/nick carol\r\n");
		EXPECTF(cc, "-- %s is now known as carol", cc->nick);
		ck_assert_msg(who_lists(cb, "carol", true), "no carol at b");
		stop(c);
		tn_close(cc);
		expect_past_notices(cb, "-- carol left (node c is gone)");
	}
	tn_close(ca);
	tn_close(cb);
	stop(b);
}
END_TEST

/* Four times CLUSTER_INFLIGHT_HIGH: the sender is held and let go. */
#define BURST		2000

/*
 * A burst past what a node keeps in flight: the sender is not read while
 * the stream catches up, then read again; every line reaches both nodes
 * in order, and the stream dropped none unread.
 */
START_TEST(test_burst)
{
	struct tn_daemon	*a = node("a"), *b = node("b");
	struct tn_client	*ca = join(a), *cb = join(b);
	struct tn_client	*readers[2] = { cb, ca };
	static char		 buf[BURST * 16];
	char			 text[64], line[1024];
	size_t			 len = 0;
	int			 i, k, r;

	for (i = 0; i < BURST; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		    "b%d\r\n", i);
	ck_assert_int_eq(tn_send(ca, buf, len), 0);
	for (r = 0; r < 2; r++)
		for (i = 0; i < BURST; i++) {
			ck_assert_msg(next_chat(readers[r], text,
			    sizeof(text)), "reader %d got %d of %d: %s", r, i,
			    BURST, tn_error());
			ck_assert_int_eq(sscanf(text, "b%d", &k), 1);
			ck_assert_int_eq(k, i);
		}
	for (r = 0; r < 2; r++) {
		SEND(readers[r], "/stats\r\n");
		ck_assert_msg(tn_expect_prefix(readers[r], "-- uptime ", line,
		    sizeof(line)) == 0, "%s", tn_error());
		ck_assert_msg(strstr(line, ", 0 lost unread, ") != NULL,
		    "%s", line);
	}
	tn_close(ca);
	tn_close(cb);
	stop(a);
	stop(b);
}
END_TEST

int
main(void)
{
	const struct net_test tests[] = {
		{ "unreachable", test_unreachable, 0 },
		{ "order_and_history", test_order_and_history, 120 },
		{ "nats_restart", test_nats_restart, 120 },
		{ "nicks", test_nicks, 0 },
		{ "who_and_death", test_who_and_death, 120 },
		{ "unstored_line", test_unstored_line, 0 },
		{ "irc", test_irc, 0 },
		{ "burst", test_burst, 60 },
	};

	nats_fixture_name = "check_cluster_net";
	return net_main(NET_SUITE("cluster_net", tests, nats_up,
	    nats_down));
}
