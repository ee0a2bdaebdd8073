/*
 * check_cluster_roster.c - membership that heals (rosters, restate.h):
 * a node started after a user's join left the stream lists that user,
 * from the roster kept on the stream and from its hello; joins and quits
 * made while NATS was away reach the other nodes once it is back; a node
 * taken for dead while it stalled comes back with its users and nicks;
 * a node's end takes its rosters off the stream.
 * Each test has its own nats-server -js (natsfix.h), stopped by PID.
 */
#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_net.h"
#include "check_tmp.h"
#include "natsfix.h"

/* Joins of #lobby kept by the stream: a few, so that they scroll out. */
#define NODE_HISTORY	"2"
#include "clnet.h"

/* Where s is in d's log, -1 if not in it. */
static long
log_offset(const struct tn_daemon *d, const char *s)
{
	char		*log = tn_read_file(d->log, NULL);
	const char	*p;
	long		 at = -1;

	if (log != NULL && (p = strstr(log, s)) != NULL)
		at = p - log;
	free(log);
	return at;
}

/*
 * alice joined a long while ago: the guests coming and going since have
 * pushed her join and rename out of the stream.  A node started now
 * lists her: b through its hello, which a answers with its roster; c,
 * later, from that roster kept on the stream, before it says hello.
 */
START_TEST(test_late_node)
{
	struct tn_daemon	*a = node("a"), *b, *c;
	struct tn_client	*ca = join_as(a, "alice"), *g, *cb, *cc;
	long			 roster, hello;
	char			 gone[256];
	int			 i;

	for (i = 0; i < 3; i++) {
		g = join(a);
		snprintf(gone, sizeof(gone), "%s disconnected", g->nick);
		tn_close(g);
		ck_assert_msg(tn_wait_log(a, gone, TN_LINE_TIMEOUT), "%s",
		    tn_error());
	}
	b = node("b");
	cb = join(b);
	ck_assert_msg(who_lists(cb, "alice", true), "b's /who lacks alice");
	ck_assert_msg(tn_log_contains(a, "stated (a hello)"),
	    "a did not answer b's hello with its roster");

	c = node("c");
	/* It listens first, then reads the stream, then says hello. */
	ck_assert_msg(tn_wait_log(c, "cluster: hello:", WHO_MS), "%s",
	    tn_error());
	roster = log_offset(c, "roster of node a: 1 users");
	hello = log_offset(c, "cluster: hello:");
	if (!(roster >= 0 && hello >= 0 && roster < hello))
		tn_dump_log(c, "no roster before the hello");
	ck_assert_msg(roster >= 0 && hello >= 0 && roster < hello,
	    "c did not replay a's roster before its hello (%ld, %ld)",
	    roster, hello);
	cc = join(c);
	ck_assert_msg(who_lists(cc, "alice", true), "c's /who lacks alice");
	tn_close(ca);
	tn_close(cb);
	tn_close(cc);
	stop(c);
	stop(b);
	stop(a);
}
END_TEST

/*
 * NATS away, for longer than the heartbeat bound: on a, dave quits and
 * alice goes to #side; none of it can be told (and a new guest is
 * refused: no name can be claimed).  NATS back: a states its roster,
 * and b shows alice in #side, not dave.  Neither node took the other
 * for dead: the beats nobody could see during the outage were not
 * missed ones.
 */
START_TEST(test_outage)
{
	struct tn_daemon	*a = node("a"), *b = node("b");
	struct tn_client	*ca = join_as(a, "alice"), *cd;
	struct tn_client	*cb = join_as(b, "bob"), *cg, *cb2;
	char			 refused[256];
	char			 line[1024];
	uint16_t		 port;
	int64_t			 killed;

	cd = join_as(a, "dave");
	ck_assert_msg(who_lists(cb, "dave", true), "b's /who lacks dave");
	port = nats_kill();
	killed = tn_now_ms();
	ck_assert_msg(tn_wait_log(a, "lost NATS at", TN_LINE_TIMEOUT), "%s",
	    tn_error());
	tn_close(cd);
	ck_assert_msg(tn_wait_log(a, "dave disconnected", TN_LINE_TIMEOUT),
	    "%s", tn_error());
	/* No guest name can be claimed meanwhile: refused, not clashing. */
	cg = tn_connect(a);
	ck_assert_msg(cg != NULL, "%s", tn_error());
	ck_assert_msg(tn_readline(cg, refused, sizeof(refused),
	    TN_LINE_TIMEOUT) > 0, "%s", tn_error());
	ck_assert_str_eq(refused, "!! the cluster is unreachable: no guest "
	    "name can be given now, try again later");
	tn_close(cg);
	SEND(ca, "/join #side\r\n");
	ck_assert_msg(sees(ca, "-- now talking in #side (", TN_LINE_TIMEOUT),
	    "alice is not in #side");
	/* Not told: b still shows dave. */
	ck_assert_msg(who_lists(cb, "dave", true), "b lost dave too early");
	/* Past 3 missed beats of 1 s: the outage is what is tested. */
	while (tn_now_ms() - killed < 3500)
		poll(NULL, 0, 100);

	nats_restart(port);
	ck_assert_msg(tn_wait_log(a, "stated (NATS is back)", 15000), "%s",
	    tn_error());
	/* Told as it happened: who is gone. */
	ck_assert_msg(sees(cb, "-- dave left (gone from node a)", WHO_MS),
	    "b was not told dave left");
	ck_assert_msg(who_lists(cb, "dave", false), "b's /who has dave");
	/* alice is in #side too, as b sees it. */
	cb2 = join(b);
	SEND(cb2, "/join #side\r\n");
	ck_assert_msg(sees(cb2, "-- now talking in #side (", TN_LINE_TIMEOUT),
	    "no #side at b");
	ck_assert_msg(who_lists(cb2, "alice", true), "#side lacks alice");
	/* A few beats more: nobody is declared dead. */
	while (tn_readline(cb, line, sizeof(line), 2500) >= 0)
		ck_assert_msg(strstr(line, " is gone)") == NULL, "b: %s", line);
	ck_assert_msg(!tn_log_contains(a, "stopped beating") &&
	    !tn_log_contains(b, "stopped beating"),
	    "a node was taken for dead after the outage");
	tn_close(ca);
	tn_close(cb);
	tn_close(cb2);
	stop(a);
	stop(b);
}
END_TEST

/*
 * a stalls (SIGSTOP) past the heartbeat bound: b declares it dead, and
 * alice and carol leave there, their nicks freed; a user of b takes
 * carol meanwhile.  a resumes, reads its own end and re-states: alice
 * and carol are back at b, alice's nick is a's again, and carol's is a
 * clash that a logs.
 */
START_TEST(test_dead_comes_back)
{
	struct tn_daemon	*a = node("a"), *b = node("b");
	struct tn_client	*ca = join_as(a, "alice"), *cc, *cb, *cb2;

	cc = join_as(a, "carol");
	cb = join_as(b, "bob");
	ck_assert_msg(who_lists(cb, "carol", true), "b's /who lacks carol");
	ck_assert_int_eq(tn_signal(a, SIGSTOP), 0);
	ck_assert_msg(sees(cb, "-- alice left (node a is gone)", WHO_MS),
	    "b did not take a for dead");
	ck_assert_msg(who_lists(cb, "carol", false), "b's /who has carol");
	cb2 = join_as(b, "carol");
	ck_assert_int_eq(tn_signal(a, SIGCONT), 0);
	ck_assert_msg(tn_wait_log(a, "this node was declared dead", WHO_MS),
	    "%s", tn_error());
	ck_assert_msg(sees(cb, "-- alice joined", WHO_MS),
	    "alice did not come back at b");
	ck_assert_msg(who_lists(cb, "alice", true), "b's /who lacks alice");
	ck_assert_msg(tn_wait_log(a, "nicks claimed again: 1 taken by others, "
	    "0 not reached", WHO_MS), "%s", tn_error());
	ck_assert_msg(tn_log_contains(a, "nick carol of user"),
	    "a did not log carol's clash");
	SEND(cb, "/nick alice\r\n");
	ck_assert_msg(tn_expect_skip_notices(cb, "!! nickname alice is taken")
	    == 0, "%s", tn_error());
	tn_close(ca);
	tn_close(cc);
	tn_close(cb);
	tn_close(cb2);
	stop(a);
	stop(b);
}
END_TEST

/*
 * a stops cleanly after it stated alice in its roster; more nodes end
 * after it, until a's end has left the stream.  A node started then
 * must not replay a's roster: the end purged it.
 */
START_TEST(test_end_forgets_roster)
{
	static const char *const later[] = { "x", "y", "z" };
	struct tn_daemon	*a = node("a"), *b = node("b"), *d, *late;
	struct tn_client	*ca = join_as(a, "alice"), *cb = join(b), *cl;
	size_t			 i;

	ck_assert_msg(who_lists(cb, "alice", true), "b's /who lacks alice");
	/* b's hello was answered: a's roster is on the stream. */
	ck_assert_msg(tn_wait_log(a, "stated (a hello)", WHO_MS), "%s",
	    tn_error());
	tn_close(ca);
	stop(a);
	ck_assert_msg(who_lists(cb, "alice", false), "b's /who has alice");
	for (i = 0; i < sizeof(later) / sizeof(later[0]); i++) {
		d = node(later[i]);
		ck_assert_msg(tn_wait_log(d, "cluster: hello:", WHO_MS), "%s",
		    tn_error());
		stop(d);
	}
	late = node("late");
	cl = join(late);
	ck_assert_msg(tn_wait_log(late, "cluster: hello:", WHO_MS), "%s",
	    tn_error());
	ck_assert_msg(!tn_log_contains(late, "roster of node a:"),
	    "the late node replayed a's roster");
	ck_assert_msg(who_lists(cl, "alice", false), "late /who has alice");
	tn_close(cb);
	tn_close(cl);
	stop(late);
	stop(b);
}
END_TEST

int
main(void)
{
	const struct net_test tests[] = {
		{ "late_node", test_late_node, 0 },
		{ "outage", test_outage, 0 },
		{ "dead_comes_back", test_dead_comes_back, 0 },
		{ "end_forgets_roster", test_end_forgets_roster, 0 },
	};

	nats_fixture_name = "check_cluster_roster";
	return net_main(NET_SUITE("cluster_roster", tests, nats_up,
	    nats_down));
}
