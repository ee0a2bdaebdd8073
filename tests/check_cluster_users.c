/*
 * check_cluster_users.c - what users do to each other across the nodes
 * of a cluster (--cluster), each test with its own nats-server -js:
 * guest names never clash and are freed on quit, a guest is refused
 * while NATS is away, private lines and IRC PRIVMSG/NOTICE reach another
 * node's user (and "no such nick" stays for a nick nobody holds), and a
 * topic is seen on every node, a late one included, however much the
 * room said after it; a KICK puts a user of another node out on its own
 * node, modes (+t, +o) set on one node hold on the others, and /rooms
 * and LIST show the rooms of every node.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_net.h"
#include "check_tmp.h"
#include "natsfix.h"

#define NODE_HISTORY	"5"
#include "clnet.h"

#define CLIENTS		3	/* per node */

static void
rename_to(struct tn_client *c, const char *nick)
{
	char	want[256];

	SENDF(c, "/nick %s\r\n", nick);
	snprintf(want, sizeof(want), "-- %s is now known as %s", c->nick,
	    nick);
	expect_past_notices(c, want);
	snprintf(c->nick, sizeof(c->nick), "%s", nick);
}

/*
 * Guests on two nodes that both count from guest1 never get one name,
 * and a guest's name is free for the cluster once it quits.
 */
START_TEST(test_guest_names)
{
	struct tn_daemon	*a = node("a"), *b = node("b");
	struct tn_client	*c[2 * CLIENTS], *probe;
	char			 want[256], gone[160];
	int			 i, k;

	for (i = 0; i < 2 * CLIENTS; i++)
		c[i] = join(i % 2 == 0 ? a : b);
	for (i = 0; i < 2 * CLIENTS; i++)
		for (k = i + 1; k < 2 * CLIENTS; k++)
			ck_assert_msg(strcmp(c[i]->nick, c[k]->nick) != 0,
			    "client %d on %s and %d on %s are both %s", i,
			    i % 2 ? "b" : "a", k, k % 2 ? "b" : "a",
			    c[i]->nick);

	/* a's first guest's name is the cluster's: b's user cannot take it. */
	probe = c[1];
	snprintf(gone, sizeof(gone), "%s", c[0]->nick);
	SENDF(probe, "/nick %s\r\n", gone);
	snprintf(want, sizeof(want), "!! nickname %s is taken", gone);
	expect_past_notices(probe, want);
	tn_close(c[0]);
	snprintf(want, sizeof(want), "%s disconnected", gone);
	ck_assert_msg(tn_wait_log(a, want, TN_LINE_TIMEOUT), "%s",
	    tn_error());
	rename_to(probe, gone);

	for (i = 1; i < 2 * CLIENTS; i++)
		tn_close(c[i]);
	stop(a);
	stop(b);
}
END_TEST

/* NATS away: a new guest is told why and let go, never given a name. */
START_TEST(test_guest_refused)
{
	struct tn_daemon	*a = node("a");
	struct tn_client	*c;
	char			 line[1024];
	uint16_t		 port;

	/* Welcomed: the node is in the cluster before NATS goes. */
	c = join(a);
	tn_close(c);
	port = nats_kill();
	if (!tn_wait_log(a, "lost NATS at", TN_LINE_TIMEOUT)) {
		tn_dump_log(a, "no lost");
		ck_abort_msg("%s", tn_error());
	}
	c = tn_connect(a);
	ck_assert_msg(c != NULL, "%s", tn_error());
	skip_to(c, "!! the cluster is unreachable: no guest name", line,
	    sizeof(line));
	EXPECT_EOF(c);
	tn_close(c);
	ck_assert(tn_log_contains(a, "no guest name while NATS is away"));

	/* Back: guests are welcome again. */
	nats_restart(port);
	ck_assert_msg(tn_wait_log(a, "NATS is back", 15000), "%s",
	    tn_error());
	c = join(a);
	tn_close(c);
	stop(a);
}
END_TEST

/* /msg to another node's user, both ways; an unknown nick stays so. */
START_TEST(test_private_lines)
{
	struct tn_daemon	*a = node("a"), *b = node("b");
	struct tn_client	*ca = join(a), *cb = join(b);

	rename_to(ca, "alice");
	rename_to(cb, "bob");
	SEND(ca, "/msg bob hello over there\r\n");
	expect_past_notices(ca, "-> *bob* hello over there");
	expect_past_notices(cb, "*alice* hello over there");
	/* The sender's echo names the recipient as it was typed. */
	SEND(cb, "/msg ALICE and back\r\n");
	expect_past_notices(cb, "-> *ALICE* and back");
	expect_past_notices(ca, "*bob* and back");

	SEND(ca, "/msg nobody anyone?\r\n");
	expect_past_notices(ca, "!! no such nick: nobody");
	/* Renamed away: the old name is nobody's in the whole cluster. */
	rename_to(cb, "robert");
	SEND(ca, "/msg bob still there?\r\n");
	expect_past_notices(ca, "!! no such nick: bob");
	SEND(ca, "/msg robert found you\r\n");
	expect_past_notices(ca, "-> *robert* found you");
	expect_past_notices(cb, "*alice* found you");

	tn_close(ca);
	tn_close(cb);
	stop(a);
	stop(b);
}
END_TEST

/* IRC PRIVMSG and NOTICE to a line user of another node, and back. */
START_TEST(test_private_irc)
{
	uint16_t		 port;
	struct tn_daemon	*a = node_irc("a", &port), *b = node("b");
	struct tn_client	*ic, *lb = join(b);
	char			 line[1024];

	rename_to(lb, "bob");
	ic = tn_connect_port(port, 0);
	ck_assert_msg(ic != NULL, "%s", tn_error());
	SEND(ic, "NICK ircy\r\nUSER ircy 0 * :Irc Y\r\n");
	skip_to(ic, " 001 ircy ", line, sizeof(line));
	SEND(ic, "PRIVMSG bob :from irc\r\n");
	expect_past_notices(lb, "*ircy* from irc");
	SEND(ic, "NOTICE bob :a notice\r\n");
	expect_past_notices(lb, "*ircy* a notice");
	SEND(lb, "/msg ircy to irc\r\n");
	expect_past_notices(lb, "-> *ircy* to irc");
	skip_to(ic, "PRIVMSG ircy :to irc", line, sizeof(line));
	ck_assert_msg(strncmp(line, ":bob!", 5) == 0, "line: %s", line);
	SEND(ic, "PRIVMSG nobody :x\r\n");
	skip_to(ic, " 401 ircy nobody ", line, sizeof(line));
	tn_close(ic);
	tn_close(lb);
	stop(a);
	stop(b);
}
END_TEST

/*
 * A topic set on a is announced on a and b, and a node started after
 * it knows it, past more lines of talk than the stream keeps a room.
 */
START_TEST(test_topic)
{
	struct tn_daemon	*a = node("a"), *b = node("b"), *late;
	struct tn_client	*ca = join(a), *cb = join(b), *cl;
	char			 want[256];
	int			 i;

	rename_to(ca, "alice");
	SEND(ca, "/topic shared news\r\n");
	expect_past_notices(ca, "-- alice set the topic: shared news");
	expect_past_notices(cb, "-- alice set the topic: shared news");
	SEND(cb, "/topic\r\n");
	expect_past_notices(cb, "-- topic of #lobby: shared news");
	/* More than --history 5 lines: the topic is not one of them. */
	for (i = 0; i < 8; i++) {
		SENDF(cb, "line %d\r\n", i);
		snprintf(want, sizeof(want), "<%s> line %d", cb->nick, i);
		expect_past_notices(cb, want);
		expect_past_notices(ca, want);
	}
	late = node("late");
	cl = join(late);
	SEND(cl, "/topic\r\n");
	expect_past_notices(cl, "-- topic of #lobby: shared news");
	/* Cleared on b: cleared everywhere. */
	SEND(cb, "/topic -\r\n");
	snprintf(want, sizeof(want), "-- %s cleared the topic", cb->nick);
	expect_past_notices(cb, want);
	expect_past_notices(ca, want);
	expect_past_notices(cl, want);
	SEND(ca, "/topic\r\n");
	expect_past_notices(ca, "-- #lobby has no topic");
	tn_close(cl);
	tn_close(ca);
	tn_close(cb);
	stop(late);
	stop(a);
	stop(b);
}
END_TEST

/* Ask c's /rooms until a line starts with want; false if not in WHO_MS. */
static bool
rooms_lists(struct tn_client *c, const char *want)
{
	char	line[1024];
	int64_t	end = tn_now_ms() + WHO_MS;
	int	n, i;

	while (tn_now_ms() < end) {
		if (tn_sendstr(c, "/rooms\r\n") != 0)
			return false;
		do {
			if (tn_readline(c, line, sizeof(line),
			    TN_LINE_TIMEOUT) < 0)
				return false;
		} while (sscanf(line, "-- %d rooms:", &n) != 1);
		for (i = 0; i < n; i++) {
			if (tn_readline(c, line, sizeof(line),
			    TN_LINE_TIMEOUT) < 0)
				return false;
			if (strncmp(line, want, strlen(want)) == 0)
				return true;
		}
		poll(NULL, 0, 100);
	}
	return false;
}

/*
 * An IRC user of a, #ops's first member and so its operator, with lb,
 * a line user of b renamed bob, in #ops too.
 */
static struct tn_client *
ops_room(uint16_t port, struct tn_client *lb)
{
	struct tn_client	*ic;
	char			 line[1024];

	ic = tn_connect_port(port, 0);
	ck_assert_msg(ic != NULL, "%s", tn_error());
	SEND(ic, "NICK ircy\r\nUSER ircy 0 * :Irc Y\r\n");
	skip_to(ic, " 001 ircy ", line, sizeof(line));
	SEND(ic, "JOIN #ops\r\n");
	skip_to(ic, " 366 ", line, sizeof(line));
	/*
	 * b must have ircy's join before bob's: each node makes the first
	 * member it sees the operator (doc/PROTOCOL.md).
	 */
	ck_assert_msg(rooms_lists(lb, "-- #ops 1 online"),
	    "b never saw ircy in #ops");
	rename_to(lb, "bob");
	SEND(lb, "/join #ops\r\n");
	skip_to(lb, "-- now talking in #ops", line, sizeof(line));
	skip_to(ic, ":bob!", line, sizeof(line));
	ck_assert_msg(strstr(line, " JOIN #ops") != NULL, "line: %s", line);
	return ic;
}

/*
 * An IRC operator on a kicks a line user of b: b puts its user out (it
 * hears why, and can no longer talk there), b's other users hear it,
 * and a's NAMES lacks it.
 */
START_TEST(test_kick)
{
	uint16_t		 port;
	struct tn_daemon	*a = node_irc("a", &port), *b = node("b");
	struct tn_client	*ic, *lb = join(b), *lw = join(b);
	char			 line[1024], want[200];

	ic = ops_room(port, lb);
	SEND(lw, "/join #ops\r\n");
	skip_to(lw, "-- now talking in #ops", line, sizeof(line));
	snprintf(want, sizeof(want), ":%s!", lw->nick);
	skip_to(ic, want, line, sizeof(line));

	SEND(ic, "KICK #ops bob :behave\r\n");
	skip_to(ic, " KICK #ops bob :behave", line, sizeof(line));
	skip_to(lb, "-- ircy put bob out of #ops (behave)", line,
	    sizeof(line));
	skip_to(lw, "-- ircy put bob out of #ops (behave)", line,
	    sizeof(line));
	/* Out on its own node: its typed text goes nowhere. */
	SEND(lb, "still here?\r\n");
	expect_past_notices(lb, "!! you are in no room; /join #room first");
	SEND(ic, "NAMES #ops\r\n");
	skip_to(ic, " 353 ", line, sizeof(line));
	ck_assert_msg(strstr(line, "bob") == NULL, "a still lists bob: %s",
	    line);
	ck_assert_msg(strstr(line, lw->nick) != NULL, "a lacks %s: %s",
	    lw->nick, line);
	tn_close(ic);
	tn_close(lb);
	tn_close(lw);
	stop(a);
	stop(b);
}
END_TEST

/*
 * Modes set on a hold on b: +t keeps b's non-operator from the topic,
 * and +o from a makes it an operator on b.
 */
START_TEST(test_modes)
{
	uint16_t		 port;
	struct tn_daemon	*a = node_irc("a", &port), *b = node("b");
	struct tn_client	*lb = join(b), *ic = ops_room(port, lb);
	char			 line[1024];

	SEND(ic, "MODE #ops +t\r\n");
	skip_to(ic, " MODE #ops +t", line, sizeof(line));
	skip_to(lb, "-- ircy sets mode +t", line, sizeof(line));
	SEND(lb, "/topic mine\r\n");
	expect_past_notices(lb,
	    "!! only the room's operators may set its topic");
	SEND(ic, "MODE #ops +o bob\r\n");
	skip_to(ic, " MODE #ops +o bob", line, sizeof(line));
	skip_to(lb, "-- ircy sets mode +o bob", line, sizeof(line));
	SEND(lb, "/topic mine\r\n");
	expect_past_notices(lb, "-- bob set the topic: mine");
	skip_to(ic, " TOPIC #ops :mine", line, sizeof(line));
	SEND(ic, "NAMES #ops\r\n");
	skip_to(ic, " 353 ", line, sizeof(line));
	ck_assert_msg(strstr(line, "@bob") != NULL, "no @bob: %s", line);
	tn_close(ic);
	tn_close(lb);
	stop(a);
	stop(b);
}
END_TEST

/*
 * A room whose only member is on b is in a's /rooms and LIST, with its
 * member count and topic.
 */
START_TEST(test_rooms)
{
	uint16_t		 port;
	struct tn_daemon	*a = node_irc("a", &port), *b = node("b");
	struct tn_client	*ca = join(a), *cb = join(b), *ic;
	char			 line[1024], want[256];

	rename_to(cb, "bob");
	SEND(cb, "/join #far\r\n");
	skip_to(cb, "-- now talking in #far", line, sizeof(line));
	SEND(cb, "/topic far away\r\n");
	expect_past_notices(cb, "-- bob set the topic: far away");
	/* In the stream's order: once a has this, it has the join too. */
	SEND(cb, "/join #lobby\r\n");
	skip_to(cb, "-- now talking in #lobby", line, sizeof(line));
	SEND(cb, "here\r\n");
	expect_past_notices(ca, "<bob> here");
	SEND(ca, "/rooms\r\n");
	skip_to(ca, "-- #far ", line, sizeof(line));
	ck_assert_str_eq(line, "-- #far 1 online: far away");

	ic = tn_connect_port(port, 0);
	ck_assert_msg(ic != NULL, "%s", tn_error());
	SEND(ic, "NICK ircy\r\nUSER ircy 0 * :Irc Y\r\nLIST\r\n");
	snprintf(want, sizeof(want), " 322 ircy #far 1 :");
	skip_to(ic, want, line, sizeof(line));
	ck_assert_msg(strstr(line, "far away") != NULL, "line: %s", line);
	tn_close(ic);
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
		{ "guest_names", test_guest_names, 0 },
		{ "guest_refused", test_guest_refused, 0 },
		{ "private_lines", test_private_lines, 0 },
		{ "private_irc", test_private_irc, 0 },
		{ "topic", test_topic, 0 },
		{ "kick", test_kick, 0 },
		{ "modes", test_modes, 0 },
		{ "rooms", test_rooms, 0 },
	};

	nats_fixture_name = "check_cluster_users";
	return net_main(NET_SUITE("cluster_users", tests, nats_up,
	    nats_down));
}
