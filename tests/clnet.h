/*
 * clnet.h - what the cluster suites that run real nodes share: a node
 * on the fixture's nats-server (natsfix.h), one with an IRC listener,
 * and waits on what a client sees.  Header-only, like check_net.h;
 * include it after check_net.h, check_tmp.h and natsfix.h, with
 * NODE_HISTORY (--history, a string) defined.  Every wait is bounded.
 */
#ifndef CHATD_CLNET_H
#define CHATD_CLNET_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define WHO_MS		10000	/* until /who shows a change */

/*
 * Wait until d has read the stream and said hello (its roster is then
 * the cluster's to ask for): it listens before that, and a hello that
 * reaches it meanwhile is one it does not answer.
 */
static inline struct tn_daemon *
node_ready(struct tn_daemon *d)
{
	ck_assert_msg(tn_wait_log(d, "cluster: hello:", WHO_MS),
	    "the node never said hello: %s", tn_error());
	return d;
}

/* A node of the cluster, keeping NODE_HISTORY lines a room. */
static inline struct tn_daemon *
node(const char *name)
{
	const char *const extra[] = { "--cluster", nats.url, "--node-name",
	    name, "--rate", "0", "--history", NODE_HISTORY, NULL };

	return node_ready(start(extra));
}

/* A node with an IRC listener on a port that was free a moment ago. */
static inline struct tn_daemon *
node_irc(const char *name, uint16_t *irc_port)
{
	static char		 port[16];
	struct tn_daemon	*d;

	*irc_port = tn_free_port();
	ck_assert_msg(*irc_port != 0, "no free port: %s", tn_error());
	snprintf(port, sizeof(port), "%u", *irc_port);
	{
		const char *const extra[] = { "--cluster", nats.url,
		    "--node-name", name, "--rate", "0", "--irc-port", port,
		    NULL };

		d = start(extra);
	}
	ck_assert_msg(tn_wait_log(d, "listening for irc on 127.0.0.1:", 5000),
	    "no IRC listener in the log");
	return node_ready(d);
}

/*
 * Read until the line want, past the notices ("-- ") that the other
 * nodes' users cause; anything else first is a failure.
 */
static inline void
expect_past_notices(struct tn_client *c, const char *want)
{
	char	line[1024];
	int	n;

	for (;;) {
		n = tn_readline(c, line, sizeof(line), TN_LINE_TIMEOUT);
		ck_assert_msg(n >= 0, "waiting for \"%s\": %s", want,
		    tn_error());
		if (strcmp(line, want) == 0)
			return;
		ck_assert_msg(strncmp(line, "-- ", 3) == 0,
		    "expected \"%s\", got \"%s\"", want, line);
	}
}

/* Read c's lines until one that starts with want; false if none in time. */
static inline bool
sees(struct tn_client *c, const char *want, int timeout_ms)
{
	char	line[1024];
	int64_t	end = tn_now_ms() + timeout_ms;

	while (tn_now_ms() < end)
		if (tn_readline(c, line, sizeof(line), timeout_ms) >= 0 &&
		    strncmp(line, want, strlen(want)) == 0)
			return true;
	return false;
}

/* A client of d renamed to nick, its rename seen by itself. */
static inline struct tn_client *
join_as(struct tn_daemon *d, const char *nick)
{
	struct tn_client	*c = join(d);
	char			 want[512];

	SENDF(c, "/nick %s\r\n", nick);
	snprintf(want, sizeof(want), "-- %s is now known as %s", c->nick,
	    nick);
	ck_assert_msg(sees(c, want, TN_LINE_TIMEOUT), "no \"%s\"", want);
	snprintf(c->nick, sizeof(c->nick), "%s", nick);
	return c;
}

/*
 * Ask c's /who until its first line lists nick (want) or does not;
 * false if it never did within WHO_MS.  Other lines are skipped.
 */
static inline bool
who_lists(struct tn_client *c, const char *nick, bool want)
{
	char	line[4096], word[160];
	int64_t	end = tn_now_ms() + WHO_MS;

	snprintf(word, sizeof(word), " %s ", nick);
	while (tn_now_ms() < end) {
		if (tn_sendstr(c, "/who\r\n") != 0)
			return false;
		do {
			if (tn_readline(c, line, sizeof(line),
			    TN_LINE_TIMEOUT) < 0)
				return false;
		} while (strstr(line, " online:") == NULL);
		strncat(line, " ", sizeof(line) - strlen(line) - 1);
		if ((strstr(line, word) != NULL) == want)
			return true;
		poll(NULL, 0, 100);
	}
	return false;
}

#endif /* CHATD_CLNET_H */
