/*
 * check_irc.c - the IRC front-end against the real chatd (path in
 * $CHATD), over real sockets, beside line users: registration, chat in
 * #lobby both ways, one nick table, private lines both ways, history
 * through CHATHISTORY, the order PING/PONG promises, strict UTF-8,
 * operators (KICK, +t), AWAY and away-notify, and the bounded NAMES of
 * a big room.
 *
 * Each chatd gets an IRC port found free just before (tn_free_port()):
 * never 6667, so that tests run side by side.  An IRC client
 * proves it got nothing more with PING: the PONG must be the next line.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "check_net.h"
#include "check_run.h"

#define SERVER	"irc.test"

static uint16_t	 irc_port;

/* chatd with an IRC listener, and extra options. */
static struct tn_daemon *
start_irc(const char *const *extra)
{
	static char		 port[16];
	const char		*args[32];
	struct tn_daemon	*d;
	size_t			 n = 0;

	irc_port = tn_free_port();
	ck_assert_msg(irc_port != 0, "%s", tn_error());
	snprintf(port, sizeof(port), "%u", irc_port);
	args[n++] = "--irc-port";
	args[n++] = port;
	args[n++] = "--server-name";
	args[n++] = SERVER;
	args[n++] = "--rate";
	args[n++] = "0";
	while (extra != NULL && *extra != NULL && n < 30)
		args[n++] = *extra++;
	args[n] = NULL;
	d = start(args);
	ck_assert_msg(tn_wait_log(d, "listening for irc on 127.0.0.1:", 5000),
	    "no IRC listener in the log");
	return d;
}

/* The next line, which must contain want. */
static void
expect_has(struct tn_client *c, const char *want, char *line, size_t size)
{
	int	 n;

	n = tn_readline(c, line, size, TN_LINE_TIMEOUT);
	ck_assert_msg(n >= 0, "waiting for \"%s\": %s", want, tn_error());
	ck_assert_msg(strstr(line, want) != NULL, "got \"%s\", want \"%s\"",
	    tn_quote(line, strlen(line)), want);
}

/* Nothing more is queued for c: the PONG is the next line. */
static void
irc_nothing_more(struct tn_client *c)
{
	char	 line[1024];

	SEND(c, "PING :sync\r\n");
	expect_has(c, "PONG " SERVER " :sync", line, sizeof(line));
}

/* Read up to the PONG of a PING sent now; fail on a line with nope. */
static void
irc_sync_without(struct tn_client *c, const char *nope)
{
	char	 line[1024];
	int	 i;

	SEND(c, "PING :sync\r\n");
	for (i = 0; i < 200; i++) {
		ck_assert_msg(tn_readline(c, line, sizeof(line),
		    TN_LINE_TIMEOUT) >= 0, "%s", tn_error());
		ck_assert_msg(nope == NULL || strstr(line, nope) == NULL,
		    "unexpected \"%s\"", line);
		if (strstr(line, "PONG " SERVER " :sync") != NULL)
			return;
	}
	ck_abort_msg("no PONG");
}

/* A registered IRC client named nick, with caps (may be NULL). */
static struct tn_client *
irc_client(const char *nick, const char *caps)
{
	struct tn_client	*c;
	char			 line[1024], want[256];

	c = tn_connect_port(irc_port, 0);
	ck_assert_msg(c != NULL, "%s", tn_error());
	if (caps != NULL)
		SENDF(c, "CAP LS 302\r\nCAP REQ :%s\r\n", caps);
	SENDF(c, "NICK %s\r\nUSER %s 0 * :Real %s\r\n", nick, nick, nick);
	if (caps != NULL) {
		skip_to(c, " ACK :", line, sizeof(line));
		SEND(c, "CAP END\r\n");
	}
	snprintf(want, sizeof(want), ":" SERVER " 001 %s :", nick);
	skip_to(c, want, line, sizeof(line));
	skip_to(c, " 422 ", line, sizeof(line));
	snprintf(c->nick, sizeof(c->nick), "%s", nick);
	return c;
}

static void
irc_join(struct tn_client *c, const char *room)
{
	char	 line[1024];

	SENDF(c, "JOIN %s\r\n", room);
	skip_to(c, " 366 ", line, sizeof(line));
}

/* A line user saw nothing more: its unknown command's reply is next. */
static void
line_nothing_more(struct tn_client *c)
{
	SEND(c, "/nosuch\r\n");
	EXPECT(c, "!! unknown command /nosuch, try /help");
}

START_TEST(test_registration)
{
	struct tn_daemon	*d = start_irc(NULL);
	struct tn_client	*c;
	char			 line[1024];
	bool			 casemapping = false, utf8only = false;
	int			 i;

	c = tn_connect_port(irc_port, 0);
	ck_assert_ptr_nonnull(c);
	/* Before registering, only the registration commands. */
	SEND(c, "JOIN #x\r\n");
	expect_has(c, ":" SERVER " 451 * :", line, sizeof(line));
	SEND(c, "NICK alice\r\nUSER al 0 * :Alice A\r\n");
	expect_has(c, ":" SERVER " 001 alice :", line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "alice!al@127.0.0.1"));
	expect_has(c, " 002 alice ", line, sizeof(line));
	expect_has(c, " 003 alice ", line, sizeof(line));
	expect_has(c, " 004 alice " SERVER " ", line, sizeof(line));
	for (i = 0; i < 10; i++) {
		ck_assert_int_ge(tn_readline(c, line, sizeof(line),
		    TN_LINE_TIMEOUT), 0);
		if (strstr(line, " 005 ") == NULL)
			break;
		casemapping |= strstr(line, " CASEMAPPING=ascii ") != NULL;
		utf8only |= strstr(line, " UTF8ONLY ") != NULL;
	}
	ck_assert(casemapping && utf8only);
	skip_to(c, ":" SERVER " 422 alice :", line, sizeof(line));
	SEND(c, "FOO bar\r\n");
	expect_has(c, ":" SERVER " 421 alice FOO :", line, sizeof(line));
	SEND(c, "USER again 0 * :x\r\n");
	expect_has(c, " 462 alice ", line, sizeof(line));
	SEND(c, "QUIT :done\r\n");
	expect_has(c, "ERROR :", line, sizeof(line));
	EXPECT_EOF(c);
	tn_close(c);
	stop(d);
}
END_TEST

START_TEST(test_lobby_both_ways)
{
	struct tn_daemon	*d = start_irc(NULL);
	struct tn_client	*l, *c;
	char			 line[1024], want[256];

	l = join(d);
	c = irc_client("alice", NULL);
	irc_join(c, "#lobby");
	EXPECT(l, "-- alice joined");
	/* The NAMES reply had the line user in it: one room, one table. */
	SEND(c, "NAMES #lobby\r\n");
	expect_has(c, " 353 alice = #lobby :", line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, l->nick));
	skip_to(c, " 366 ", line, sizeof(line));

	SEND(c, "PRIVMSG #lobby :hello from irc\r\n");
	EXPECT(l, "<alice> hello from irc");
	SEND(c, "PRIVMSG #lobby :\001ACTION waves\001\r\n");
	EXPECT(l, "* alice waves");
	/* Without echo-message alice does not get her own line back. */
	irc_nothing_more(c);

	SEND(l, "hello from nc\r\n");
	EXPECTF(l, "<%s> hello from nc", l->nick);
	snprintf(want, sizeof(want), ":%s!line@127.0.0.1 PRIVMSG #lobby "
	    ":hello from nc", l->nick);
	expect_has(c, want, line, sizeof(line));
	SEND(l, "/me nods\r\n");
	snprintf(want, sizeof(want), "PRIVMSG #lobby :\001ACTION nods\001");
	skip_to(c, want, line, sizeof(line));

	/* A line user's ESC never reaches IRC; IRC colours do. */
	SEND(l, "red \033[31m\r\n");
	skip_to(c, "PRIVMSG #lobby :red \xef\xbf\xbd[31m", line, sizeof(line));
	SEND(c, "PRIVMSG #lobby :\00304red\033x\r\n");
	skip_to(l, "<alice> ", line, sizeof(line));
	ck_assert_ptr_null(strchr(line, '\033'));
	irc_nothing_more(c);

	SEND(c, "QUIT :bye now\r\n");
	skip_to(l, "-- alice left (bye now)", line, sizeof(line));
	tn_close(c);
	tn_close(l);
	stop(d);
}
END_TEST

START_TEST(test_nick_collision)
{
	struct tn_daemon	*d = start_irc(NULL);
	struct tn_client	*l, *c, *c2;
	char			 line[1024];

	l = join(d);
	SEND(l, "/nick bob\r\n");
	skip_to(l, "is now known as bob", line, sizeof(line));
	c = tn_connect_port(irc_port, 0);
	ck_assert_ptr_nonnull(c);
	/* ASCII case does not make another nick, on either side. */
	SEND(c, "NICK BOB\r\n");
	expect_has(c, " 433 * BOB :", line, sizeof(line));
	SEND(c, "NICK carol\r\nUSER c 0 * :Carol\r\n");
	skip_to(c, " 001 carol ", line, sizeof(line));
	SEND(l, "/nick Carol\r\n");
	EXPECT(l, "!! nickname Carol is taken");
	/* An IRC rename checks the same table. */
	c2 = irc_client("dave", NULL);
	SEND(c2, "NICK bob\r\n");
	expect_has(c2, " 433 dave bob :", line, sizeof(line));
	SEND(c2, "NICK erin\r\n");
	expect_has(c2, ":dave!dave@127.0.0.1 NICK erin", line, sizeof(line));
	tn_close(c2);
	tn_close(c);
	tn_close(l);
	stop(d);
}
END_TEST

START_TEST(test_private_both_ways)
{
	struct tn_daemon	*d = start_irc(NULL);
	struct tn_client	*l, *c;
	char			 line[1024], want[256];

	l = join(d);
	c = irc_client("alice", "echo-message");
	SENDF(c, "PRIVMSG %s :psst\r\n", l->nick);
	EXPECT(l, "*alice* psst");
	/* With echo-message, the sender gets its own copy. */
	snprintf(want, sizeof(want), ":alice!alice@127.0.0.1 PRIVMSG %s :psst",
	    l->nick);
	expect_has(c, want, line, sizeof(line));
	SEND(l, "/msg alice yo\r\n");
	EXPECT(l, "-> *alice* yo");
	snprintf(want, sizeof(want), ":%s!line@127.0.0.1 PRIVMSG alice :yo",
	    l->nick);
	expect_has(c, want, line, sizeof(line));
	SEND(c, "PRIVMSG nobody :x\r\n");
	expect_has(c, " 401 alice nobody :", line, sizeof(line));
	tn_close(c);
	tn_close(l);
	stop(d);
}
END_TEST

START_TEST(test_chathistory)
{
	struct tn_daemon	*d = start_irc(NULL);
	struct tn_client	*l, *c;
	char			 line[1024], ref[32], want[256];
	char			*p;

	l = join(d);
	SEND(l, "one\r\ntwo\r\nthree\r\n");
	EXPECTF(l, "<%s> one", l->nick);
	EXPECTF(l, "<%s> two", l->nick);
	EXPECTF(l, "<%s> three", l->nick);
	c = irc_client("alice", "batch server-time message-tags "
	    "draft/chathistory");
	irc_join(c, "#lobby");
	SEND(c, "CHATHISTORY LATEST #lobby * 2\r\n");
	expect_has(c, " BATCH +", line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, " chathistory #lobby"));
	p = strchr(strstr(line, " BATCH +"), '+') + 1;
	snprintf(ref, sizeof(ref), "%.*s", (int)strcspn(p, " "), p);
	snprintf(want, sizeof(want), "@batch=%s;time=", ref);
	expect_has(c, want, line, sizeof(line));
	snprintf(want, sizeof(want), "!line@127.0.0.1 PRIVMSG #lobby :two");
	ck_assert_ptr_nonnull(strstr(line, want));
	expect_has(c, "PRIVMSG #lobby :three", line, sizeof(line));
	snprintf(want, sizeof(want), " BATCH -%s", ref);
	expect_has(c, want, line, sizeof(line));

	/* BEFORE the third line's msgid: the first two. */
	SEND(c, "CHATHISTORY LATEST #lobby * 1\r\n");
	skip_to(c, "PRIVMSG #lobby :three", line, sizeof(line));
	p = strstr(line, "msgid=") + 6;
	snprintf(ref, sizeof(ref), "%.*s", (int)strcspn(p, "; "), p);
	skip_to(c, " BATCH -", line, sizeof(line));
	SENDF(c, "CHATHISTORY BEFORE #lobby msgid=%s 10\r\n", ref);
	expect_has(c, " BATCH +", line, sizeof(line));
	expect_has(c, "PRIVMSG #lobby :one", line, sizeof(line));
	expect_has(c, "PRIVMSG #lobby :two", line, sizeof(line));
	expect_has(c, " BATCH -", line, sizeof(line));
	/* AFTER the first: the other two, oldest first. */
	SENDF(c, "CHATHISTORY AFTER #lobby msgid=%llu 10\r\n",
	    strtoull(ref, NULL, 10) - 2);
	expect_has(c, " BATCH +", line, sizeof(line));
	expect_has(c, "PRIVMSG #lobby :two", line, sizeof(line));
	expect_has(c, "PRIVMSG #lobby :three", line, sizeof(line));
	expect_has(c, " BATCH -", line, sizeof(line));
	/* By time: BEFORE a moment far ahead is the last N. */
	SEND(c, "CHATHISTORY BEFORE #lobby timestamp=2999-01-01T00:00:00.000Z "
	    "1\r\n");
	expect_has(c, " BATCH +", line, sizeof(line));
	expect_has(c, "PRIVMSG #lobby :three", line, sizeof(line));
	expect_has(c, " BATCH -", line, sizeof(line));
	SEND(c, "CHATHISTORY BEFORE #lobby bogus 1\r\n");
	expect_has(c, "FAIL CHATHISTORY INVALID_PARAMS", line, sizeof(line));
	SEND(c, "CHATHISTORY LATEST #nowhere * 5\r\n");
	expect_has(c, "FAIL CHATHISTORY INVALID_TARGET", line, sizeof(line));
	tn_close(c);
	tn_close(l);
	stop(d);
}
END_TEST

/*
 * The fan-out of a line is queued before the sender's next command
 * runs: with echo-message, the sender's own copies come before its
 * PONG, and the other member has them all once the PONG is seen.
 */
START_TEST(test_ping_after_fanout)
{
	struct tn_daemon	*d = start_irc(NULL);
	struct tn_client	*a, *b;
	char			 line[1024], want[64], burst[64 * 40];
	size_t			 len = 0;
	int			 i;

	a = irc_client("alice", "echo-message");
	b = irc_client("bob", NULL);
	irc_join(a, "#c");
	irc_join(b, "#c");
	skip_to(a, "JOIN #c", line, sizeof(line));
	for (i = 0; i < 40; i++)
		len += (size_t)snprintf(burst + len, sizeof(burst) - len,
		    "PRIVMSG #c :m%d\r\n", i);
	snprintf(burst + len, sizeof(burst) - len, "PING :after\r\n");
	SEND(a, burst);
	for (i = 0; i < 40; i++) {
		snprintf(want, sizeof(want), "PRIVMSG #c :m%d", i);
		expect_has(a, want, line, sizeof(line));
	}
	expect_has(a, "PONG " SERVER " :after", line, sizeof(line));
	for (i = 0; i < 40; i++) {
		snprintf(want, sizeof(want), "PRIVMSG #c :m%d", i);
		expect_has(b, want, line, sizeof(line));
	}
	irc_nothing_more(b);
	tn_close(a);
	tn_close(b);
	stop(d);
}
END_TEST

START_TEST(test_invalid_utf8)
{
	struct tn_daemon	*d = start_irc(NULL);
	struct tn_client	*l, *a;
	char			 line[1024];

	l = join(d);
	a = irc_client("alice", NULL);
	irc_join(a, "#lobby");
	EXPECT(l, "-- alice joined");
	SEND(a, "PRIVMSG #lobby :bad \xff bytes\r\n");
	expect_has(a, ":" SERVER " FAIL PRIVMSG INVALID_UTF8 :", line,
	    sizeof(line));
	SEND(a, "PRIVMSG #lobby :good\r\n");
	/* The bad line never reached the line user: the good one is next. */
	EXPECT(l, "<alice> good");
	line_nothing_more(l);
	tn_close(a);
	tn_close(l);
	stop(d);
}
END_TEST

START_TEST(test_kick_and_topic_lock)
{
	struct tn_daemon	*d = start_irc(NULL);
	struct tn_client	*a, *b, *l;
	char			 line[1024], want[256];

	a = irc_client("alice", "multi-prefix");
	irc_join(a, "#c");
	b = irc_client("bob", NULL);
	irc_join(b, "#c");
	l = join(d);
	SEND(l, "/join #c\r\n");
	skip_to(l, "-- now talking in #c", line, sizeof(line));
	/* The creator is the operator. */
	SEND(b, "NAMES #c\r\n");
	skip_to(b, " 353 bob = #c :", line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "@alice"));
	ck_assert_ptr_null(strstr(line, "@bob"));
	skip_to(b, " 366 ", line, sizeof(line));

	SEND(b, "KICK #c alice :no\r\n");
	expect_has(b, " 482 bob #c :", line, sizeof(line));
	SEND(a, "MODE #c +t\r\n");
	skip_to(a, ":alice!alice@127.0.0.1 MODE #c +t", line, sizeof(line));
	expect_has(b, ":alice!alice@127.0.0.1 MODE #c +t", line, sizeof(line));
	skip_to(l, "-- alice sets mode +t", line, sizeof(line));
	SEND(b, "TOPIC #c :mine\r\n");
	expect_has(b, " 482 bob #c :", line, sizeof(line));
	/* The line user is no operator either. */
	SEND(l, "/topic mine\r\n");
	ck_assert_int_ge(tn_readline(l, line, sizeof(line), TN_LINE_TIMEOUT),
	    0);
	ck_assert_msg(strncmp(line, "!! ", 3) == 0, "got \"%s\"", line);
	SEND(a, "TOPIC #c :ours\r\n");
	expect_has(b, ":alice!alice@127.0.0.1 TOPIC #c :ours", line,
	    sizeof(line));

	SENDF(a, "KICK #c bob :behave\r\n");
	expect_has(b, ":alice!alice@127.0.0.1 KICK #c bob :behave", line,
	    sizeof(line));
	skip_to(l, "-- alice put bob out of #c (behave)", line, sizeof(line));
	SEND(b, "PRIVMSG #c :still here?\r\n");
	expect_has(b, " 404 bob #c :", line, sizeof(line));
	/* A kicked line user's typed text goes nowhere, and it is told so. */
	snprintf(want, sizeof(want), "KICK #c %s\r\n", l->nick);
	SEND(a, want);
	snprintf(want, sizeof(want), "-- alice put %s out of #c", l->nick);
	skip_to(l, want, line, sizeof(line));
	SEND(l, "anyone?\r\n");
	ck_assert_int_ge(tn_readline(l, line, sizeof(line), TN_LINE_TIMEOUT),
	    0);
	ck_assert_msg(strncmp(line, "!! ", 3) == 0, "got \"%s\"", line);
	irc_sync_without(a, "anyone?");
	/* bob comes back: no longer an operator anywhere. */
	irc_join(b, "#c");
	SEND(b, "MODE #c -t\r\n");
	expect_has(b, " 482 bob #c :", line, sizeof(line));
	tn_close(l);
	tn_close(a);
	tn_close(b);
	stop(d);
}
END_TEST

START_TEST(test_away)
{
	struct tn_daemon	*d = start_irc(NULL);
	struct tn_client	*a, *b, *l;
	char			 line[1024];

	a = irc_client("alice", "away-notify");
	b = irc_client("bob", NULL);
	l = join(d);
	irc_join(a, "#lobby");
	irc_join(b, "#lobby");
	skip_to(a, ":bob!bob@127.0.0.1 JOIN #lobby", line, sizeof(line));
	skip_to(l, "-- bob joined", line, sizeof(line));
	SEND(b, "AWAY :lunch\r\n");
	expect_has(b, " 306 bob :", line, sizeof(line));
	expect_has(a, ":bob!bob@127.0.0.1 AWAY :lunch", line, sizeof(line));
	SEND(a, "PRIVMSG bob :there?\r\n");
	expect_has(a, " 301 alice bob :lunch", line, sizeof(line));
	SEND(a, "WHOIS bob\r\n");
	skip_to(a, " 301 alice bob :lunch", line, sizeof(line));
	skip_to(a, " 318 ", line, sizeof(line));
	SEND(b, "AWAY\r\n");
	skip_to(b, " 305 bob :", line, sizeof(line));
	expect_has(a, ":bob!bob@127.0.0.1 AWAY", line, sizeof(line));
	/* Line users are not told of it. */
	line_nothing_more(l);
	tn_close(l);
	tn_close(a);
	tn_close(b);
	stop(d);
}
END_TEST

/*
 * Past --announce-max members, the NAMES that answers a JOIN lists the
 * joiner and the operators only; NAMES asked for lists everyone.
 */
START_TEST(test_big_room_names)
{
	const char		*extra[] = { "--announce-max", "2", NULL };
	struct tn_daemon	*d = start_irc(extra);
	struct tn_client	*a, *b, *c;
	char			 line[1024];

	a = irc_client("alice", NULL);
	b = irc_client("bob", NULL);
	c = irc_client("carol", NULL);
	irc_join(a, "#big");
	irc_join(b, "#big");
	SEND(c, "JOIN #big\r\n");
	expect_has(c, ":carol!carol@127.0.0.1 JOIN #big", line, sizeof(line));
	expect_has(c, " 353 carol = #big :", line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "@alice"));
	ck_assert_ptr_nonnull(strstr(line, "carol"));
	ck_assert_ptr_null(strstr(line, "bob"));
	expect_has(c, " 366 carol #big ", line, sizeof(line));
	SEND(c, "NAMES #big\r\n");
	expect_has(c, " 353 carol = #big :", line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "bob"));
	/* And the third join was not announced to the others. */
	irc_sync_without(b, "carol");
	tn_close(a);
	tn_close(b);
	tn_close(c);
	stop(d);
}
END_TEST

/* LIST hides a +s room from those not in it; JOIN 0 leaves every room. */
START_TEST(test_list_secret_join0)
{
	struct tn_daemon	*d = start_irc(NULL);
	struct tn_client	*a, *b;
	char			 line[1024];
	bool			 pub = false, sec = false;
	int			 i;

	a = irc_client("alice", NULL);
	b = irc_client("bob", NULL);
	irc_join(a, "#pub");
	irc_join(a, "#sec");
	SEND(a, "MODE #sec +s\r\n");
	skip_to(a, "MODE #sec +s", line, sizeof(line));
	SEND(b, "LIST\r\n");
	expect_has(b, " 321 bob ", line, sizeof(line));
	for (i = 0; i < 10; i++) {
		ck_assert_int_ge(tn_readline(b, line, sizeof(line),
		    TN_LINE_TIMEOUT), 0);
		if (strstr(line, " 323 bob ") != NULL)
			break;
		pub |= strstr(line, " 322 bob #pub 1 :") != NULL;
		sec |= strstr(line, "#sec") != NULL;
	}
	ck_assert(pub && !sec);
	SEND(a, "LIST #sec\r\n");
	skip_to(a, " 322 alice #sec 1 :", line, sizeof(line));

	/* Kicked from its last room, then JOIN 0: out of all, at once. */
	irc_join(b, "#pub");
	irc_join(b, "#sec");
	SEND(a, "KICK #sec bob\r\n");
	skip_to(b, "KICK #sec bob :alice", line, sizeof(line));
	SEND(b, "JOIN 0\r\n");
	expect_has(b, ":bob!bob@127.0.0.1 PART #pub", line, sizeof(line));
	irc_nothing_more(b);
	skip_to(a, ":bob!bob@127.0.0.1 PART #pub", line, sizeof(line));
	SEND(b, "PRIVMSG #pub :gone?\r\n");
	expect_has(b, " 404 bob #pub :", line, sizeof(line));
	tn_close(a);
	tn_close(b);
	stop(d);
}
END_TEST

/*
 * A client refused at registration: 464 and ERROR, then closed after
 * the delay, with no 001 among what came before the close.
 */
static void
irc_refused(struct tn_client *c, int64_t t0)
{
	char	 line[1024];
	int	 i, n;
	int64_t	 waited;

	skip_to(c, " 464 ", line, sizeof(line));
	expect_has(c, "ERROR :Closing Link: ", line, sizeof(line));
	for (i = 0; i < 100; i++) {
		n = tn_readline(c, line, sizeof(line), TN_LINE_TIMEOUT);
		if (n < 0)
			break;
		ck_assert_msg(strstr(line, " 001 ") == NULL, "let in: %s",
		    line);
	}
	ck_assert_msg(n == TN_EOF, "not closed: %s", tn_error());
	waited = tn_now_ms() - t0;
	ck_assert_msg(waited >= AUTH_FAIL_DELAY_MS - 100, "closed after %lld "
	    "ms, before the delay", (long long)waited);
}

/*
 * With --password, IRC registration needs PASS: none or a wrong one is
 * refused; the right one gets in, beside a line user who sent /pass.
 */
START_TEST(test_password)
{
	static const char *const extra[] = { "--password", "open sesame",
	    NULL };
	struct tn_daemon	*d = start_irc(extra);
	struct tn_client	*none, *wrong, *c, *l;
	char			 line[1024], want[256];
	int64_t			 t0;

	none = tn_connect_port(irc_port, 0);
	ck_assert_msg(none != NULL, "%s", tn_error());
	wrong = tn_connect_port(irc_port, 0);
	ck_assert_msg(wrong != NULL, "%s", tn_error());
	t0 = tn_now_ms();
	SEND(none, "NICK alice\r\nUSER a 0 * :A\r\n");
	SEND(wrong, "PASS :open sesame!\r\nNICK bob\r\nUSER b 0 * :B\r\n");
	irc_refused(none, t0);
	irc_refused(wrong, t0);
	ck_assert(tn_wait_log(d, " wrong password", 1000));
	ck_assert(!tn_log_contains(d, "registered as"));

	c = tn_connect_port(irc_port, 0);
	ck_assert_msg(c != NULL, "%s", tn_error());
	SEND(c, "PASS :open sesame\r\nNICK alice\r\nUSER a 0 * :A\r\n");
	skip_to(c, ":" SERVER " 001 alice :", line, sizeof(line));
	skip_to(c, " 422 ", line, sizeof(line));
	SEND(c, "PASS :open sesame\r\n");
	expect_has(c, " 462 alice ", line, sizeof(line));
	irc_join(c, "#lobby");

	l = tn_connect(d);
	ck_assert_msg(l != NULL, "%s", tn_error());
	EXPECT(l, "-- password required: send /pass PASSWORD");
	SEND(l, "/pass open sesame\r\n");
	ck_assert_msg(tn_welcome(l) == 0, "%s", tn_error());
	snprintf(want, sizeof(want), ":%s!line@127.0.0.1 JOIN #lobby",
	    l->nick);
	skip_to(c, want, line, sizeof(line));
	SEND(c, "PRIVMSG #lobby :hello from irc\r\n");
	EXPECT(l, "<alice> hello from irc");
	SEND(l, "hello from nc\r\n");
	EXPECTF(l, "<%s> hello from nc", l->nick);
	snprintf(want, sizeof(want), ":%s!line@127.0.0.1 PRIVMSG #lobby "
	    ":hello from nc", l->nick);
	expect_has(c, want, line, sizeof(line));
	ck_assert(!tn_log_contains(d, "sesame"));
	tn_close(none);
	tn_close(wrong);
	tn_close(c);
	tn_close(l);
	stop(d);
}
END_TEST

/* A line of tags_len bytes of tags ("+x=aaa...") and then body. */
static char *
tagged_line(size_t tags_len, const char *body)
{
	char	*buf;
	size_t	 len = 1 + tags_len + 1 + strlen(body) + 2;

	ck_assert((buf = malloc(len + 1)) != NULL);
	buf[0] = '@';
	memcpy(buf + 1, "+x=", 3);
	memset(buf + 4, 'a', tags_len - 3);
	snprintf(buf + 1 + tags_len, len - tags_len, " %s\r\n", body);
	return buf;
}

/*
 * With the default --max-line, an IRC line may carry IRCv3's 4094 bytes
 * of client tags before its 512; more tags, or a line past what the
 * framer takes, get 417 and the connection goes on.
 */
START_TEST(test_tagged_lines)
{
	struct tn_daemon	*d = start_irc(NULL);
	struct tn_client	*c, *l;
	char			 line[1024], body[300], *big;

	l = join(d);
	c = irc_client("alice", "message-tags");
	irc_join(c, "#lobby");
	EXPECT(l, "-- alice joined");

	memset(body, 'b', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	memcpy(body, "PRIVMSG #lobby :", 16);
	big = tagged_line(4094, body);
	ck_assert_uint_gt(strlen(big), 4096 + 2);
	SEND(c, big);
	free(big);
	EXPECTF(l, "<alice> %s", body + 16);
	irc_nothing_more(c);

	big = tagged_line(4095, body);
	SEND(c, big);
	free(big);
	expect_has(c, " 417 alice :Input line was too long", line,
	    sizeof(line));
	big = tagged_line(16000, body);
	SEND(c, big);
	free(big);
	expect_has(c, " 417 alice :line too long", line, sizeof(line));
	irc_nothing_more(c);
	line_nothing_more(l);
	tn_close(c);
	tn_close(l);
	stop(d);
}
END_TEST

/*
 * A line user's /rooms hides a +s room it is not in, from the count as
 * from the list, as LIST does; once in, it sees it.
 */
START_TEST(test_rooms_hide_secret)
{
	struct tn_daemon	*d = start_irc(NULL);
	struct tn_client	*a, *l;
	char			 line[1024];

	l = join(d);
	a = irc_client("alice", NULL);
	irc_join(a, "#pub");
	irc_join(a, "#sec");
	SEND(a, "MODE #sec +s\r\n");
	skip_to(a, "MODE #sec +s", line, sizeof(line));
	SEND(l, "/rooms\r\n");
	EXPECT(l, "-- 2 rooms:");
	ck_assert_int_ge(tn_readline(l, line, sizeof(line), TN_LINE_TIMEOUT),
	    0);
	ck_assert_msg(strcmp(line, "-- #lobby 1 online") == 0 ||
	    strcmp(line, "-- #pub 1 online") == 0, "got \"%s\"", line);
	ck_assert_int_ge(tn_readline(l, line, sizeof(line), TN_LINE_TIMEOUT),
	    0);
	ck_assert_msg(strcmp(line, "-- #lobby 1 online") == 0 ||
	    strcmp(line, "-- #pub 1 online") == 0, "got \"%s\"", line);
	line_nothing_more(l);

	SEND(l, "/join #sec\r\n");
	skip_to(a, " JOIN #sec", line, sizeof(line));
	SEND(l, "/rooms\r\n");
	skip_to(l, "-- 3 rooms:", line, sizeof(line));
	skip_to(l, "-- #sec 2 online", line, sizeof(line));
	tn_close(a);
	tn_close(l);
	stop(d);
}
END_TEST

int
main(void)
{
	struct net_test	 tests[] = {
		{ "registration", test_registration, 0 },
		{ "lobby_both_ways", test_lobby_both_ways, 0 },
		{ "nick_collision", test_nick_collision, 0 },
		{ "private_both_ways", test_private_both_ways, 0 },
		{ "chathistory", test_chathistory, 0 },
		{ "ping_after_fanout", test_ping_after_fanout, 0 },
		{ "invalid_utf8", test_invalid_utf8, 0 },
		{ "kick_and_topic_lock", test_kick_and_topic_lock, 0 },
		{ "away", test_away, 0 },
		{ "big_room_names", test_big_room_names, 0 },
		{ "list_secret_join0", test_list_secret_join0, 0 },
		{ "password", test_password, 0 },
		{ "tagged_lines", test_tagged_lines, 0 },
		{ "rooms_hide_secret", test_rooms_hide_secret, 0 },
	};

	return net_main(NET_SUITE("irc", tests, NULL, NULL));
}
