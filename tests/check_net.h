/*
 * check_net.h - what the integration tests share: assertions over the
 * testnet helpers, and starting, stopping and joining the real daemon.
 * Each failure names what was expected and what came.
 */
#ifndef CHATD_CHECK_NET_H
#define CHATD_CHECK_NET_H

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "check_run.h"
#include "testnet.h"

#define TEST_TIMEOUT	60	/* s; sanitizer builds are slow */

#define EXPECT(c, s)	ck_assert_msg(tn_expect((c), (s)) == 0, "%s", \
			    tn_error())
#define EXPECTF(c, ...)	ck_assert_msg(tn_expectf((c), __VA_ARGS__) == 0, \
			    "%s", tn_error())
#define EXPECT_PREFIX(c, p, l) \
			ck_assert_msg(tn_expect_prefix((c), (p), (l), \
			    sizeof (l)) == 0, "%s", tn_error())
#define EXPECT_EOF(c)	ck_assert_msg(tn_expect_eof((c), TN_LINE_TIMEOUT) \
			    == 0, "%s", tn_error())
#define SEND(c, s)	ck_assert_msg(tn_sendstr((c), (s)) == 0, "%s", \
			    tn_error())
#define SENDB(c, s)	ck_assert_msg(tn_send((c), (s), sizeof (s) - 1) \
			    == 0, "%s", tn_error())
#define SENDF(c, ...)	ck_assert_msg(tn_sendf((c), __VA_ARGS__) == 0, \
			    "%s", tn_error())

static inline struct tn_daemon *
start(const char *const *extra)
{
	struct tn_daemon	*d;

	d = tn_start(extra);
	ck_assert_msg(d != NULL, "cannot start chatd: %s", tn_error());
	return d;
}

static inline void
stop(struct tn_daemon *d)
{
	int	rc;

	rc = tn_stop(d);
	ck_assert_msg(rc == 0, "chatd exit status %d after SIGTERM: %s", rc,
	    tn_error());
}

/* Connect and read the welcome. */
static inline struct tn_client *
join(struct tn_daemon *d)
{
	struct tn_client	*c;

	c = tn_connect(d);
	ck_assert_msg(c != NULL, "%s", tn_error());
	ck_assert_msg(tn_welcome(c) == 0, "%s", tn_error());
	ck_assert_msg(strncmp(c->nick, "guest", 5) == 0,
	    "default nick \"%s\" does not start with \"guest\"", c->nick);
	return c;
}

/* Send the same line from c, expect it relayed to every client. */
static inline struct tn_daemon *
start_raw(const char *const *args)
{
	struct tn_daemon	*d;

	d = tn_start_raw(args);
	ck_assert_msg(d != NULL, "cannot start chatd: %s", tn_error());
	return d;
}

/* Read up to and including a line containing want; fail if none. */
static inline void
skip_to(struct tn_client *c, const char *want, char *line, size_t size)
{
	int	 i, n;

	for (i = 0; i < 200; i++) {
		n = tn_readline(c, line, size, TN_LINE_TIMEOUT);
		ck_assert_msg(n >= 0, "waiting for \"%s\": %s", want,
		    tn_error());
		if (strstr(line, want) != NULL)
			return;
	}
	ck_abort_msg("no line with \"%s\" in 200", want);
}

/* One integration test: its own test case, so a timeout names it. */
struct net_test {
	const char	*name;
	const TTest	*fn;
	int		 timeout;	/* s; 0 is TEST_TIMEOUT */
};

/* A suite of tests[0..n), each with the fixture if setup is not NULL. */
static inline Suite *
net_suite(const char *name, const struct net_test *tests, size_t n,
    SFun setup, SFun teardown)
{
	Suite	*s = suite_create(name);
	TCase	*tc;
	size_t	 i;

	for (i = 0; i < n; i++) {
		tc = tcase_create(tests[i].name);
		if (setup != NULL)
			tcase_add_unchecked_fixture(tc, setup, teardown);
		tcase_set_timeout(tc, tests[i].timeout > 0 ?
		    tests[i].timeout : TEST_TIMEOUT);
		tcase_add_test(tc, tests[i].fn);
		suite_add_tcase(s, tc);
	}
	return s;
}

#define NET_SUITE(name, tests, setup, teardown) \
	net_suite((name), (tests), sizeof (tests) / sizeof (tests)[0], \
	    (setup), (teardown))

/*
 * main() of an integration test: a peer that goes away costs an EPIPE,
 * and the log lines of the daemon and the test interleave by line.
 */
static inline int
net_main(Suite *s)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	return check_run(s);
}

#endif /* CHATD_CHECK_NET_H */
