/*
 * check_nomem.c - allocation failures, injected at each site chatd is
 * meant to survive (fault.h), with the server's own code running in this
 * process and real clients on loopback.  Each case shows the failure
 * costing exactly one client or one line, and the server carrying on.
 *
 * The server runs in-process because the failure is armed from here;
 * everything but main() and its signal loop is the daemon's own code.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_net.h"
#include "check_run.h"
#include "fault.h"
#include "options.h"
#include "server.h"

static struct server	 srv;
static struct options	 opt;

static void
server_up(void)
{
	options_defaults(&opt);
	opt.binds[0] = strdup("127.0.0.1");
	ck_assert_ptr_nonnull(opt.binds[0]);
	opt.nbinds = 1;
	opt.port = 0;
	opt.irc_port = 0;
	opt.workers = 2;
	opt.max_clients = 64;
	opt.rate = 0;
	ck_assert_int_eq(server_listen(&srv, &opt), 0);
	ck_assert_int_eq(server_run(&srv), 0);
}

static void
server_down(void)
{
	server_stop(&srv);
	options_free(&opt);
}

static struct tn_client *
connect_raw(void)
{
	struct tn_client	*c = tn_connect_port((uint16_t)srv.port, 0);

	ck_assert_msg(c != NULL, "%s", tn_error());
	return c;
}

static struct tn_client *
client(void)
{
	struct tn_client	*c = connect_raw();

	ck_assert_msg(tn_welcome(c) == 0, "%s", tn_error());
	return c;
}

/* a says text, and everyone in v[0..n) gets it next (after notices). */
static void
say(struct tn_client *a, struct tn_client **v, int n, const char *text)
{
	char	 want[256];
	int	 i;

	SENDF(a, "%s\n", text);
	snprintf(want, sizeof want, "<%s> %s", a->nick, text);
	for (i = 0; i < n; i++)
		ck_assert_msg(tn_expect_skip_notices(v[i], want) == 0, "%s",
		    tn_error());
}

/* A new connection that cannot be allocated is refused, with a reason. */
START_TEST(test_conn)
{
	struct tn_client	*x, *refused, *y, *v[2];

	server_up();
	x = client();
	fault_arm(FAULT_CONN, 1);
	refused = connect_raw();
	EXPECT(refused, "!! out of memory, try again later");
	EXPECT_EOF(refused);
	y = client();
	EXPECTF(x, "-- %s joined", y->nick);
	v[0] = x;
	v[1] = y;
	say(x, v, 2, "after the refusal");
	tn_close(refused);
	tn_close(x);
	tn_close(y);
	server_down();
}
END_TEST

/* A join that cannot grow the room refuses that client alone. */
START_TEST(test_join)
{
	struct tn_client	*x, *refused, *y, *v[2];

	server_up();
	x = client();
	fault_arm(FAULT_JOIN, 1);
	refused = connect_raw();
	EXPECT(refused, "!! out of memory");
	EXPECT_EOF(refused);
	y = client();
	/* x never heard of the refused one: the next notice is y's. */
	EXPECTF(x, "-- %s joined", y->nick);
	v[0] = x;
	v[1] = y;
	say(y, v, 2, "the room is whole");
	tn_close(refused);
	tn_close(x);
	tn_close(y);
	server_down();
}
END_TEST

/* A line that cannot be formatted is dropped, its sender told. */
START_TEST(test_msg)
{
	struct tn_client	*x, *y, *v[2];

	server_up();
	x = client();
	y = client();
	EXPECTF(x, "-- %s joined", y->nick);
	fault_arm(FAULT_MSG, 1);
	SEND(x, "this one is lost\n");
	EXPECT(x, "!! out of memory, line dropped");
	/* y's next line is the one after: nothing half-delivered. */
	v[0] = x;
	v[1] = y;
	say(x, v, 2, "this one is kept");
	tn_close(x);
	tn_close(y);
	server_down();
}
END_TEST

/* A partial line that cannot be buffered is dropped up to its end. */
START_TEST(test_line)
{
	struct tn_client	*x, *y, *v[2];

	server_up();
	x = client();
	y = client();
	EXPECTF(x, "-- %s joined", y->nick);
	fault_arm(FAULT_LINE, 1);
	SEND(x, "the start of a line");
	EXPECT(x, "!! out of memory, line dropped");
	SEND(x, " and its end\n");
	v[0] = x;
	v[1] = y;
	say(x, v, 2, "the next line");
	tn_close(x);
	tn_close(y);
	server_down();
}
END_TEST

/* A send queue that cannot grow costs its client, not the room. */
START_TEST(test_sendq)
{
	struct tn_client	*x, *y, *lost, *v[2];
	char			 line[256], nick[160];
	int			 online;

	server_up();
	x = client();
	y = client();
	EXPECTF(x, "-- %s joined", y->nick);
	fault_arm(FAULT_SENDQ, 1);
	/* Its welcome is the first line its empty queue must grow for. */
	lost = connect_raw();
	EXPECT_PREFIX(x, "-- ", line);
	ck_assert_msg(sscanf(line, "-- %159s joined", nick) == 1,
	    "not a join: \"%s\"", line);
	EXPECTF(x, "-- %s left (out of memory)", nick);
	EXPECTF(y, "-- %s joined", nick);
	EXPECTF(y, "-- %s left (out of memory)", nick);
	ck_assert_msg(tn_readline(lost, line, sizeof line, TN_LINE_TIMEOUT)
	    < 0 || tn_parse_welcome(line, nick, sizeof nick, &online) == 0,
	    "unexpected \"%s\"", line);
	v[0] = x;
	v[1] = y;
	say(x, v, 2, "two of us again");
	tn_close(lost);
	tn_close(x);
	tn_close(y);
	server_down();
}
END_TEST

int
main(void)
{
	const struct net_test tests[] = {
		{ "conn", test_conn, 0 },
		{ "join", test_join, 0 },
		{ "msg", test_msg, 0 },
		{ "line", test_line, 0 },
		{ "sendq", test_sendq, 0 },
	};

	return net_main(NET_SUITE("nomem", tests, NULL, NULL));
}
