/*
 * check_cluster.c - cluster.c against a real nats-server -js (each test
 * starts its own on a free loopback port with a scratch store, and the
 * fixture stops it by PID): unreachable NATS is a clear error; several
 * nodes read one identical order and lose nothing; a nick is claimed
 * once cluster-wide; a node killed with SIGKILL is announced once, by
 * one survivor, within the heartbeat bound, and its nicks are freed; a
 * NATS restart is reported, refused meanwhile and resumed; a late node
 * replays the history the stream keeps.
 */
#include <check.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <nats/nats.h>

#include "cluster.h"
#include "check_run.h"
#include "check_tmp.h"
#include "natsfix.h"

#define WAIT_MS		15000	/* the bound of any one wait */
#define HB_MS		200
#define MISSED		3

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct cluster *
node_open(const char *name, size_t history)
{
	struct cluster_config	 cfg;
	struct cluster		*cl;
	char			 err[512];

	memset(&cfg, 0, sizeof(cfg));
	cfg.url = nats.url;
	cfg.node = name;
	cfg.prefix = "chatd";
	cfg.history = history;
	cfg.retain = 1;		/* the stream keeps the history, no more */
	cfg.heartbeat_ms = HB_MS;
	cfg.missed_beats = MISSED;
	cl = cluster_open(&cfg, err, sizeof(err));
	ck_assert_msg(cl != NULL, "node %s: %s", name, err);
	ck_assert_msg(cluster_start(cl, err, sizeof(err)) == 0, "start %s: %s",
	    name, err);
	return cl;
}

/* The next item, waiting on the eventfd as chatd's loop would. */
static struct cluster_item *
next_item(struct cluster *cl, int timeout_ms)
{
	struct cluster_item	*it;
	struct pollfd		 pfd;
	int64_t			 end = now_ms() + timeout_ms;

	for (;;) {
		if (cluster_take(cl, &it, 1) == 1)
			return it;
		if (now_ms() >= end)
			return NULL;
		pfd.fd = cluster_fd(cl);
		pfd.events = POLLIN;
		poll(&pfd, 1, (int)(end - now_ms()));
	}
}

/* The next item of that kind, others dropped. */
static struct cluster_item *
next_kind(struct cluster *cl, enum cluster_item_kind kind, int timeout_ms)
{
	struct cluster_item	*it;
	int64_t			 end = now_ms() + timeout_ms;

	while (now_ms() < end) {
		if ((it = next_item(cl, (int)(end - now_ms()))) == NULL)
			return NULL;
		if (it->kind == kind)
			return it;
		cluster_item_free(it);
	}
	return NULL;
}

static int
say(struct cluster *cl, const char *room, const char *nick,
    const char *text, uint64_t cookie)
{
	struct clw_msg	m;

	memset(&m, 0, sizeof(m));
	m.kind = CLW_SAY;
	m.uid = cookie;
	m.room = room;
	m.room_len = strlen(room);
	m.nick = nick;
	m.nick_len = strlen(nick);
	m.text = text;
	m.text_len = strlen(text);
	return cluster_publish(cl, &m, cookie);
}

static bool
text_is(const struct cluster_item *it, const char *text)
{
	return it->msg.text_len == strlen(text) &&
	    memcmp(it->msg.text, text, it->msg.text_len) == 0;
}

START_TEST(test_unreachable)
{
	struct cluster_config	 cfg;
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	char			 url[64], err[512];
	int			 fd;

	/* A port that was free a moment ago: nothing listens there. */
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

	memset(&cfg, 0, sizeof(cfg));
	cfg.url = url;
	cfg.node = "a";
	cfg.prefix = "chatd";
	cfg.history = 10;
	err[0] = '\0';
	ck_assert_ptr_null(cluster_open(&cfg, err, sizeof(err)));
	ck_assert_msg(strstr(err, "cannot reach NATS at ") != NULL &&
	    strstr(err, url) != NULL, "error: %s", err);

	/* A bad node name is refused before any connection. */
	cfg.url = nats.url;
	cfg.node = "a.b";
	ck_assert_ptr_null(cluster_open(&cfg, err, sizeof(err)));
}
END_TEST

#define NODES		3
#define SENDERS		5
#define LINES		40

/* 5 senders spread over 3 nodes, 2 rooms: one order everywhere. */
START_TEST(test_order)
{
	static const char *const names[NODES] = { "a", "b", "c" };
	static const char *const rooms[2] = { "#lobby", "#Other" };
	struct cluster		*cl[NODES];
	struct cluster_item	*it;
	uint64_t		 seqs[NODES][SENDERS * LINES];
	char			 texts[SENDERS * LINES][32], nick[16];
	int			 next[SENDERS], got[NODES];
	int			 i, s, n, k, sender, line;

	/*
	 * More than a room's lines in flight: a stream that kept fewer
	 * would discard the oldest before a consumer reads them.
	 */
	for (n = 0; n < NODES; n++)
		cl[n] = node_open(names[n], SENDERS * LINES);
	for (i = 0; i < LINES; i++) {
		for (s = 0; s < SENDERS; s++) {
			snprintf(nick, sizeof(nick), "s%d", s);
			snprintf(texts[i * SENDERS + s], sizeof(texts[0]),
			    "%d %d", s, i);
			ck_assert_int_eq(say(cl[s % NODES], rooms[s % 2], nick,
			    texts[i * SENDERS + s], (uint64_t)(s * 1000 + i)),
			    CL_OK);
		}
	}
	for (n = 0; n < NODES; n++) {
		memset(next, 0, sizeof(next));
		for (got[n] = 0; got[n] < SENDERS * LINES; got[n]++) {
			it = next_kind(cl[n], CI_EVENT, WAIT_MS);
			ck_assert_msg(it != NULL, "node %s got %d of %d",
			    names[n], got[n], SENDERS * LINES);
			ck_assert_int_eq(it->msg.kind, CLW_SAY);
			ck_assert_int_eq(sscanf(it->msg.text, "%d %d", &sender,
			    &line), 2);
			ck_assert_int_lt(sender, SENDERS);
			/* Each sender's lines in the order it sent them. */
			ck_assert_int_eq(line, next[sender]++);
			ck_assert_uint_eq(it->msg.node_len, 1);
			ck_assert_int_eq(it->msg.node[0],
			    names[sender % NODES][0]);
			seqs[n][got[n]] = it->seq;
			if (got[n] > 0)
				ck_assert_uint_gt(it->seq, seqs[n][got[n] - 1]);
			cluster_item_free(it);
		}
	}
	/* The very same stream sequence at every node: one total order. */
	for (n = 1; n < NODES; n++) {
		for (k = 0; k < SENDERS * LINES; k++)
			ck_assert_uint_eq(seqs[n][k], seqs[0][k]);
	}
	for (n = 0; n < NODES; n++)
		cluster_close(cl[n]);
}
END_TEST

START_TEST(test_nicks)
{
	struct cluster	*a = node_open("a", 10), *b = node_open("b", 10);

	ck_assert_int_eq(cluster_nick_claim(a, "Alice", 5, 1), CL_OK);
	ck_assert_int_eq(cluster_nick_claim(b, "alice", 5, 7), CL_TAKEN);
	ck_assert_int_eq(cluster_nick_claim(a, "ALICE", 5, 2), CL_TAKEN);
	ck_assert_int_eq(cluster_nick_claim(a, "alice", 5, 1), CL_OK);
	/* Only its holder can release it. */
	ck_assert_int_eq(cluster_nick_release(b, "alice", 5, 7), CL_OK);
	ck_assert_int_eq(cluster_nick_claim(b, "alice", 5, 7), CL_TAKEN);
	ck_assert_int_eq(cluster_nick_release(a, "aLiCe", 5, 1), CL_OK);
	ck_assert_int_eq(cluster_nick_claim(b, "alice", 5, 7), CL_OK);
	ck_assert_int_eq(cluster_nick_claim(a, "alice", 5, 1), CL_TAKEN);
	cluster_close(a);
	cluster_close(b);
}
END_TEST

/* Who holds a nick, for a private line: its node and its id there. */
START_TEST(test_nick_owner)
{
	struct cluster	*a = node_open("a", 10), *b = node_open("b", 10);
	char		 node[CLW_NODE_MAX + 1];
	uint64_t	 uid = 0;

	ck_assert_int_eq(cluster_nick_owner(a, "bob", 3, node, &uid),
	    CL_NOT_FOUND);
	ck_assert_int_eq(cluster_nick_claim(b, "Bob", 3, 42), CL_OK);
	ck_assert_int_eq(cluster_nick_owner(a, "BOB", 3, node, &uid), CL_OK);
	ck_assert_str_eq(node, "b");
	ck_assert_uint_eq(uid, 42);
	ck_assert_int_eq(cluster_nick_release(b, "bob", 3, 42), CL_OK);
	ck_assert_int_eq(cluster_nick_owner(a, "bob", 3, node, &uid),
	    CL_NOT_FOUND);
	cluster_close(a);
	cluster_close(b);
}
END_TEST

/* A node whose process dies: announced once, by one survivor, in time. */
START_TEST(test_node_death)
{
	struct cluster		*a, *b, *nodes[2];
	struct cluster_item	*it;
	int			 ready[2], status, n, downs[2] = { 0, 0 };
	int64_t			 killed, end, took;
	char			 c;
	pid_t			 pid;

	ck_assert_int_eq(pipe(ready), 0);
	/* Fork before any NATS thread exists in this process. */
	if ((pid = fork()) == 0) {
		struct cluster	*d = node_open("doomed", 10);

		if (cluster_nick_claim(d, "zed", 3, 1) != CL_OK ||
		    say(d, "#lobby", "zed", "last words", 1) != CL_OK)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	a = node_open("a", 10);
	b = node_open("b", 10);
	nodes[0] = a;
	nodes[1] = b;
	/* What the doomed node said was acknowledged: both have it. */
	for (n = 0; n < 2; n++) {
		it = next_kind(nodes[n], CI_EVENT, WAIT_MS);
		ck_assert_ptr_nonnull(it);
		ck_assert(text_is(it, "last words"));
		cluster_item_free(it);
	}
	ck_assert_int_eq(cluster_nick_claim(a, "zed", 3, 5), CL_TAKEN);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	killed = now_ms();

	for (n = 0; n < 2; n++) {
		it = next_kind(nodes[n], CI_EVENT, WAIT_MS);
		ck_assert_msg(it != NULL, "no nodedown at node %d", n);
		ck_assert_int_eq(it->msg.kind, CLW_NODEDOWN);
		ck_assert(text_is(it, "doomed"));
		downs[n]++;
		cluster_item_free(it);
	}
	took = now_ms() - killed;
	/*
	 * The stated bound: missed beats, one more beat for the watcher's
	 * own period, and a second for NATS round trips (TSan is slow).
	 */
	ck_assert_msg(took <= HB_MS * (MISSED + 1) + 1000,
	    "nodedown after %" PRId64 " ms", took);
	ck_assert_int_ge(took, HB_MS * (MISSED - 1));
	/* Once: nothing more comes over a few more periods. */
	end = now_ms() + HB_MS * (MISSED + 2);
	while (now_ms() < end) {
		for (n = 0; n < 2; n++) {
			if ((it = next_item(nodes[n], 50)) == NULL)
				continue;
			if (it->kind == CI_EVENT &&
			    it->msg.kind == CLW_NODEDOWN)
				downs[n]++;
			cluster_item_free(it);
		}
	}
	ck_assert_int_eq(downs[0], 1);
	ck_assert_int_eq(downs[1], 1);
	/* Its nick was released. */
	ck_assert_int_eq(cluster_nick_claim(b, "zed", 3, 9), CL_OK);
	cluster_close(a);
	cluster_close(b);
}
END_TEST

/* NATS goes away and comes back: refused meanwhile, then resumed. */
START_TEST(test_nats_restart)
{
	struct cluster		*a = node_open("a", 10);
	struct cluster_item	*it;
	struct cluster_stats	 st;
	uint16_t		 port;
	uint64_t		 first;

	ck_assert_int_eq(say(a, "#lobby", "x", "before", 1), CL_OK);
	it = next_kind(a, CI_EVENT, WAIT_MS);
	ck_assert_ptr_nonnull(it);
	ck_assert(text_is(it, "before"));
	first = it->seq;
	cluster_item_free(it);

	port = nats_kill();
	it = next_kind(a, CI_DISCONNECTED, WAIT_MS);
	ck_assert_ptr_nonnull(it);
	cluster_item_free(it);
	cluster_stats(a, &st);
	ck_assert(!st.connected);
	ck_assert_uint_eq(st.disconnects, 1);
	ck_assert_int_eq(say(a, "#lobby", "x", "during", 2), CL_DOWN);

	nats_restart(port);
	it = next_kind(a, CI_RECONNECTED, WAIT_MS);
	ck_assert_ptr_nonnull(it);
	cluster_item_free(it);
	cluster_stats(a, &st);
	ck_assert(st.connected);
	ck_assert_int_eq(say(a, "#lobby", "x", "after", 3), CL_OK);
	it = next_kind(a, CI_EVENT, WAIT_MS);
	ck_assert_msg(it != NULL, "the consumer did not resume");
	/* The line refused during the outage never reached the stream. */
	ck_assert(text_is(it, "after"));
	ck_assert_uint_gt(it->seq, first);
	cluster_item_free(it);
	cluster_close(a);
}
END_TEST

/* A node started after the talk replays it; the stream keeps history. */
START_TEST(test_history)
{
	struct cluster		*a = node_open("a", 2), *late;
	struct cluster_item	*it;
	struct cluster_stats	 st;
	const char		*want[] = { "two", "three" };
	int			 i;

	static const char *const said[][2] = { { "#hist", "one" },
	    { "#hist", "two" }, { "#hist", "three" },
	    { "#elsewhere", "other" } };

	/* One at a time, each read back before the next goes out. */
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(say(a, said[i][0], "x", said[i][1],
		    (uint64_t)i), CL_OK);
		it = next_kind(a, CI_EVENT, WAIT_MS);
		ck_assert_ptr_nonnull(it);
		ck_assert(text_is(it, said[i][1]));
		cluster_item_free(it);
	}
	late = node_open("late", 2);
	/* max_msgs_per_subject = 2: the oldest line of #hist is gone. */
	for (i = 0; i < 2; i++) {
		it = next_kind(late, CI_EVENT, WAIT_MS);
		ck_assert_ptr_nonnull(it);
		ck_assert_msg(text_is(it, want[i]), "replay %d: %.*s", i,
		    (int)it->msg.text_len, it->msg.text);
		cluster_item_free(it);
	}
	it = next_kind(late, CI_EVENT, WAIT_MS);
	ck_assert_ptr_nonnull(it);
	ck_assert(text_is(it, "other"));
	cluster_item_free(it);
	cluster_stats(late, &st);
	ck_assert(st.connected);
	ck_assert_uint_eq(st.lag, 0);
	ck_assert_uint_ge(st.delivered_seq, 4);
	cluster_close(late);
	cluster_close(a);
}
END_TEST

/* A line the server does not store comes back as a failure, cookie and all. */
START_TEST(test_publish_failed)
{
	struct cluster		*a = node_open("a", 10);
	struct cluster_item	*it;
	struct cluster_stats	 st;
	natsConnection		*nc = NULL;
	jsCtx			*js = NULL;

	/* Someone deletes the stream under the node's feet. */
	ck_assert_int_eq(natsConnection_ConnectTo(&nc, nats.url), NATS_OK);
	ck_assert_int_eq(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
	ck_assert_int_eq(js_DeleteStream(js, "chatd", NULL, NULL), NATS_OK);
	ck_assert_int_eq(say(a, "#lobby", "x", "lost", 4242), CL_OK);
	it = next_kind(a, CI_PUB_FAILED, WAIT_MS);
	ck_assert_msg(it != NULL, "no failure reported");
	ck_assert_uint_eq(it->cookie, 4242);
	ck_assert_uint_gt(it->text_len, 0);
	cluster_item_free(it);
	cluster_stats(a, &st);
	ck_assert_uint_eq(st.failed, 1);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	cluster_close(a);
}
END_TEST

static void
add(Suite *s, const char *name, const TTest *test, int timeout)
{
	TCase	*tc = tcase_create(name);

	tcase_add_unchecked_fixture(tc, nats_up, nats_down);
	tcase_set_timeout(tc, timeout);
	tcase_add_test(tc, test);
	suite_add_tcase(s, tc);
}

static Suite *
cluster_suite(void)
{
	Suite	*s = suite_create("cluster");

	add(s, "unreachable", test_unreachable, 30);
	add(s, "order", test_order, 60);
	add(s, "nicks", test_nicks, 30);
	add(s, "nick_owner", test_nick_owner, 30);
	add(s, "death", test_node_death, 60);
	add(s, "restart", test_nats_restart, 60);
	add(s, "history", test_history, 30);
	add(s, "publish_failed", test_publish_failed, 30);
	return s;
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return check_run(cluster_suite());
}
