/*
 * check_rooms.c - issue 11, against the real chatd (path in $CHATD):
 * rooms and history as /work/spec/v2.md (doc/PROTOCOL.md) says, line
 * for line, over real sockets.
 *
 * A client that never types a room command sees v1.  Rooms stay apart;
 * lines of a joined room that is not the current one carry its name.
 * /join, /part, /topic, /rooms, /history and their errors give exactly
 * the lines the spec gives; the replay on join carries times; a nick
 * change and a quit are told in each room of the user and only there;
 * the room limits hold; each room has one total order, which every
 * reader sees, while many rooms are busy at once; and with --history-db
 * the history and topics survive a restart, and a kill -9 loses at most
 * the last moments.
 *
 * Lines from two rooms have no order between them, so where one action
 * makes lines in several rooms, those are compared as a set.  Elsewhere
 * each step waits for every line it makes before the next step, so
 * the order each client sees is the order of the steps.  A client
 * proves it got nothing more with an unknown command, whose reply
 * must be the next line.
 *
 * Environment: CHATD_TEST_SLOWDOWN multiplies the deadlines (default 1,
 * 5 under ASan, 10 under TSan).
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_net.h"
#include "check_run.h"
#include "check_tmp.h"

/* The sanitizer builds run the same tests, 5 to 20 times slower. */
#if defined(__SANITIZE_THREAD__)
#define DEFAULT_SLOWDOWN	10
#elif defined(__SANITIZE_ADDRESS__)
#define DEFAULT_SLOWDOWN	5
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DEFAULT_SLOWDOWN	10
#elif __has_feature(address_sanitizer)
#define DEFAULT_SLOWDOWN	5
#endif
#endif
#ifndef DEFAULT_SLOWDOWN
#define DEFAULT_SLOWDOWN	1
#endif

static int	 slowdown = DEFAULT_SLOWDOWN;	/* CHATD_TEST_SLOWDOWN */

/* A deadline of ms in a plain build, scaled for the sanitizers. */
#define SCALED(ms)	((int64_t)(ms) * slowdown)

#define NO_ROOM		"-- you are in no room; /join #room to talk"
#define NO_ROOM_ERR	"!! you are in no room; /join #room first"

/*
 * Connect, take the nickname nick.  Every client in seen[0..n) is in
 * #lobby and talks there: it sees the join and the rename, as in v1.
 */
static struct tn_client *
user(struct tn_daemon *d, const char *nick, struct tn_client *const *seen,
    size_t n)
{
	struct tn_client	*c;
	char			 old[sizeof c->nick];
	size_t			 i;

	c = join(d);
	snprintf(old, sizeof old, "%s", c->nick);
	for (i = 0; i < n; i++)
		EXPECTF(seen[i], "-- %s joined", old);
	SENDF(c, "/nick %s\r\n", nick);
	EXPECTF(c, "-- %s is now known as %s", old, nick);
	for (i = 0; i < n; i++)
		EXPECTF(seen[i], "-- %s is now known as %s", old, nick);
	snprintf(c->nick, sizeof c->nick, "%s", nick);
	return c;
}

/* n users named names[i], connected one after another. */
static void
users(struct tn_daemon *d, struct tn_client **u, const char *const *names,
    size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		u[i] = NULL;
	for (i = 0; i < n; i++)
		u[i] = user(d, names[i], u, i);
}

/*
 * Nothing is waiting for c: an unknown command's reply comes next.  A
 * line wrongly sent to c before now would be read instead.
 */
static void
nothing_more(struct tn_client *c)
{
	static unsigned	 seq;

	seq++;
	SENDF(c, "/sync%u\r\n", seq);
	EXPECTF(c, "!! unknown command /sync%u, try /help", seq);
}

/*
 * The next n lines of c are the n strings given, in any order: what
 * one action makes in several rooms, which have no order between them.
 */
static void
expect_set(struct tn_client *c, size_t n, ...)
{
	const char	*want[16];
	char		 line[TN_LINE_MAX];
	bool		 taken[16] = { false };
	va_list		 ap;
	size_t		 i, j;
	int		 r;

	ck_assert_uint_le(n, 16);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		want[i] = va_arg(ap, const char *);
	va_end(ap);
	for (i = 0; i < n; i++) {
		r = tn_readline(c, line, sizeof line, TN_LINE_TIMEOUT);
		ck_assert_msg(r >= 0, "client %s: line %zu of %zu (first "
		    "wanted \"%s\"): %s", c->nick, i + 1, n, want[0],
		    tn_error());
		for (j = 0; j < n; j++)
			if (!taken[j] && strcmp(line, want[j]) == 0)
				break;
		ck_assert_msg(j < n, "client %s: unexpected \"%s\" (line %zu "
		    "of a set of %zu, the first \"%s\")", c->nick,
		    tn_quote(line, (size_t)r), i + 1, n, want[0]);
		taken[j] = true;
	}
}

/*
 * A replayed line: "[YYYY-MM-DDTHH:MM:SSZ] " then want, a real UTC time
 * within [lo, hi] (a second of slack each side for the rounding).
 */
static void
expect_history_line(struct tn_client *c, const char *want, time_t lo,
    time_t hi)
{
	static const char	 shape[] = "[dddd-dd-ddTdd:dd:ddZ] ";
	char			 line[TN_LINE_MAX], back[32];
	struct tm		 tm;
	time_t			 t;
	size_t			 i;
	int			 n;

	n = tn_readline(c, line, sizeof line, TN_LINE_TIMEOUT);
	ck_assert_msg(n >= 0, "client %s: no history line \"%s\": %s",
	    c->nick, want, tn_error());
	for (i = 0; i < sizeof shape - 1; i++)
		ck_assert_msg(i < (size_t)n && (shape[i] == 'd' ?
		    isdigit((unsigned char)line[i]) : line[i] == shape[i]),
		    "client %s: \"%s\" is not \"[YYYY-MM-DDTHH:MM:SSZ] %s\"",
		    c->nick, tn_quote(line, (size_t)n), want);
	ck_assert_msg(strcmp(line + sizeof shape - 1, want) == 0,
	    "client %s: history line \"%s\", want \"[TIME] %s\"", c->nick,
	    tn_quote(line, (size_t)n), want);

	memset(&tm, 0, sizeof tm);
	ck_assert_int_eq(sscanf(line + 1, "%4d-%2d-%2dT%2d:%2d:%2d",
	    &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
	    &tm.tm_sec), 6);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	/* timegm() takes month 13 or second 61: print it back. */
	ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
	strftime(back, sizeof back, "%Y-%m-%dT%H:%M:%SZ", &tm);
	ck_assert_msg(strncmp(back, line + 1, 20) == 0, "client %s: \"%.22s\" "
	    "is not a real time", c->nick, line);
	ck_assert_msg(t >= lo - 1 && t <= hi + 1, "client %s: history time "
	    "%s is not between the test's %lld and %lld", c->nick, back,
	    (long long)lo, (long long)hi);
}

/* The replay framing around k lines want[0..k), oldest first. */
static void
expect_history(struct tn_client *c, const char *room,
    const char *const *want, size_t k, time_t lo, time_t hi)
{
	size_t	i;

	EXPECTF(c, "-- history of %s, last %zu lines:", room, k);
	for (i = 0; i < k; i++)
		expect_history_line(c, want[i], lo, hi);
	EXPECT(c, "-- end of history");
}

static void
sleep_ms(int64_t ms)
{
	struct timespec	 ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* c says text in its current room and sees it back, as in v1. */
static void
say(struct tn_client *c, const char *text)
{
	SENDF(c, "%s\r\n", text);
	EXPECTF(c, "<%s> %s", c->nick, text);
}

/*
 * 1. A client that never types a room command: v1's welcome, its lines
 * to everyone, no replay of what was said before it came.
 */
START_TEST(test_v1_unchanged)
{
	struct tn_daemon	*d;
	struct tn_client	*a, *b, *c;
	char			 line[TN_LINE_MAX], want[400];

	d = start(NULL);
	a = join(d);
	ck_assert_int_eq(a->online, 1);
	b = join(d);
	ck_assert_int_eq(b->online, 2);
	EXPECTF(a, "-- %s joined", b->nick);

	SEND(a, "hello\r\n");
	EXPECTF(a, "<%s> hello", a->nick);
	EXPECTF(b, "<%s> hello", a->nick);
	SEND(b, "/me waves\r\n");
	EXPECTF(a, "* %s waves", b->nick);
	EXPECTF(b, "* %s waves", b->nick);
	SEND(a, "/who\r\n");
	EXPECT_PREFIX(a, "-- 2 online: ", line);
	snprintf(want, sizeof want, "-- 2 online: %s %s", a->nick, b->nick);
	if (strcmp(line, want) != 0)
		snprintf(want, sizeof want, "-- 2 online: %s %s", b->nick,
		    a->nick);
	ck_assert_str_eq(line, want);

	/* Silently in the default room: no replay of "hello". */
	c = join(d);
	ck_assert_int_eq(c->online, 3);
	EXPECTF(a, "-- %s joined", c->nick);
	EXPECTF(b, "-- %s joined", c->nick);
	nothing_more(c);
	SEND(c, "hi all\r\n");
	EXPECTF(a, "<%s> hi all", c->nick);
	EXPECTF(b, "<%s> hi all", c->nick);
	EXPECTF(c, "<%s> hi all", c->nick);

	SEND(c, "/quit\r\n");
	EXPECT(c, "-- bye");
	EXPECT_EOF(c);
	EXPECTF(a, "-- %s left", c->nick);
	EXPECTF(b, "-- %s left", c->nick);
	nothing_more(a);
	nothing_more(b);
	tn_close(a);
	tn_close(b);
	tn_close(c);
	stop(d);
}
END_TEST

/* 2. The welcome's N counts the default room, not the server. */
START_TEST(test_welcome_counts_default_room)
{
	struct tn_daemon	*d;
	struct tn_client	*a, *b, *c;

	d = start(NULL);
	a = join(d);
	b = join(d);
	EXPECTF(a, "-- %s joined", b->nick);
	SEND(a, "/part #lobby\r\n");
	EXPECT(a, "-- you left #lobby");
	EXPECT(a, NO_ROOM);
	EXPECTF(b, "-- %s left", a->nick);
	c = join(d);
	ck_assert_msg(c->online == 2, "welcome says %d online; #lobby has "
	    "2 members (3 connected)", c->online);
	EXPECTF(b, "-- %s joined", c->nick);
	nothing_more(a);
	nothing_more(b);
	tn_close(a);
	tn_close(b);
	tn_close(c);
	stop(d);
}
END_TEST

/* 3. --default-room: where clients land. */
START_TEST(test_default_room_option)
{
	static const char *const args[] = { "--default-room", "#main",
	    NULL };
	struct tn_daemon	*d;
	struct tn_client	*a, *b;

	d = start(args);
	a = join(d);
	SEND(a, "/topic\r\n");
	EXPECT(a, "-- #main has no topic");
	/* Already in it: /join only switches. */
	SEND(a, "/join #main\r\n");
	EXPECT(a, "-- now talking in #main (1 online)");
	nothing_more(a);
	b = join(d);
	ck_assert_int_eq(b->online, 2);
	EXPECTF(a, "-- %s joined", b->nick);
	SEND(b, "/join #MAIN\r\n");
	EXPECT(b, "-- now talking in #main (2 online)");
	nothing_more(b);
	nothing_more(a);
	tn_close(a);
	tn_close(b);
	stop(d);
}
END_TEST

/*
 * 4. Two rooms stay apart; a member of a room it does not talk in sees
 * that room's lines with its name.  (No replay: tests 12 to 15.)
 */
START_TEST(test_rooms_apart)
{
	static const char *const args[] = { "--replay", "0", NULL };
	static const char *const names[] = { "alice", "bob", "carol",
	    "dave" };
	struct tn_daemon	*d;
	struct tn_client	*u[4], *alice, *bob, *carol, *dave;
	size_t			 i;

	d = start(args);
	users(d, u, names, 4);
	alice = u[0], bob = u[1], carol = u[2], dave = u[3];

	SEND(alice, "/join #a\r\n");
	EXPECT(alice, "-- now talking in #a (1 online)");
	SEND(bob, "/join #a\r\n");
	EXPECT(bob, "-- now talking in #a (2 online)");
	EXPECT(alice, "-- bob joined");
	SEND(carol, "/join #b\r\n");
	EXPECT(carol, "-- now talking in #b (1 online)");

	say(alice, "hi");
	EXPECT(bob, "<alice> hi");
	say(carol, "in b");
	for (i = 0; i < 4; i++)
		nothing_more(u[i]);

	/* #lobby's lines reach its members who talk elsewhere, labelled. */
	say(dave, "lobby talk");
	EXPECT(alice, "#lobby <dave> lobby talk");
	EXPECT(bob, "#lobby <dave> lobby talk");
	EXPECT(carol, "#lobby <dave> lobby talk");

	SEND(alice, "/join #b\r\n");
	EXPECT(alice, "-- now talking in #b (2 online)");
	EXPECT(carol, "-- alice joined");
	say(bob, "hi");
	EXPECT(alice, "#a <bob> hi");
	SEND(bob, "/me waves\r\n");
	EXPECT(bob, "* bob waves");
	EXPECT(alice, "#a * bob waves");
	say(alice, "to b");
	EXPECT(carol, "<alice> to b");

	/* carol in #a too, talking in #b. */
	SEND(carol, "/join #a\r\n");
	EXPECT(carol, "-- now talking in #a (3 online)");
	EXPECT(alice, "#a -- carol joined");
	EXPECT(bob, "-- carol joined");
	SEND(carol, "/join #b\r\n");
	EXPECT(carol, "-- now talking in #b (2 online)");
	say(alice, "hi");
	EXPECT(carol, "<alice> hi");
	say(bob, "hi");
	EXPECT(alice, "#a <bob> hi");
	EXPECT(carol, "#a <bob> hi");
	for (i = 0; i < 4; i++)
		nothing_more(u[i]);
	for (i = 0; i < 4; i++)
		tn_close(u[i]);
	stop(d);
}
END_TEST

/*
 * 5. /join's replies: the room, its topic, the others told; a room one
 * is in only switches; the room keeps its creator's spelling.
 */
START_TEST(test_join_replies)
{
	static const char *const names[] = { "alice", "bob", "carol",
	    "dave" };
	struct tn_daemon	*d;
	struct tn_client	*u[4], *alice, *bob, *carol, *dave;
	size_t			 i;

	d = start(NULL);
	users(d, u, names, 4);
	alice = u[0], bob = u[1], carol = u[2], dave = u[3];

	SEND(alice, "/join #a\r\n");
	EXPECT(alice, "-- now talking in #a (1 online)");
	nothing_more(alice);		/* no topic, no history */
	SEND(alice, "/topic Rust talk\r\n");
	EXPECT(alice, "-- alice set the topic: Rust talk");
	SEND(bob, "/join #a\r\n");
	EXPECT(bob, "-- now talking in #a (2 online)");
	EXPECT(bob, "-- topic: Rust talk");
	EXPECT(alice, "-- bob joined");
	nothing_more(bob);

	/* Already in: only the switch, and nobody is told. */
	SEND(bob, "/join #A\r\n");
	EXPECT(bob, "-- now talking in #a (2 online)");
	SEND(bob, "/join #lobby\r\n");
	EXPECT(bob, "-- now talking in #lobby (4 online)");
	for (i = 0; i < 4; i++)
		nothing_more(u[i]);

	SEND(carol, "/join #Mixed\r\n");
	EXPECT(carol, "-- now talking in #Mixed (1 online)");
	SEND(dave, "/join #MIXED\r\n");
	EXPECT(dave, "-- now talking in #Mixed (2 online)");
	EXPECT(carol, "-- dave joined");

	/* The join told where the joined room is not the current one. */
	SEND(alice, "/join #b\r\n");
	EXPECT(alice, "-- now talking in #b (1 online)");
	SEND(carol, "/join #a\r\n");
	EXPECT(carol, "-- now talking in #a (3 online)");
	EXPECT(carol, "-- topic: Rust talk");
	EXPECT(alice, "#a -- carol joined");
	EXPECT(bob, "#a -- carol joined");
	for (i = 0; i < 4; i++)
		nothing_more(u[i]);
	for (i = 0; i < 4; i++)
		tn_close(u[i]);
	stop(d);
}
END_TEST

#define BAD	"!! invalid room name: "

/* 6. /join's errors, each leaving the client where it was. */
START_TEST(test_join_errors)
{
	static const struct {
		const char	*line;
		const char	*reply;
	} bad[] = {
		{ "/join",		"!! usage: /join #room" },
		{ "/JOIN \t ",		"!! usage: /join #room" },
		{ "/join lobby",	BAD "must start with #" },
		{ "/join #",		BAD "empty" },
		{ "/join #a,b",		BAD "contains a comma" },
		{ "/join #a b",		BAD "contains a space" },
		{ "/join #a\tb",	BAD "contains a space (U+0009)" },
		{ "/join #a\xc2\xa0" "b", BAD "contains a space (U+00A0)" },
		{ "/join #a\xe2\x80\xae" "b",
		    BAD "contains a format character (U+202E)" },
		{ "/join #a\x01" "b",	BAD "contains a control character "
		    "(U+0001)" },
		{ "/join #aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		    BAD "too long (max 50 characters)" },
	};
	struct tn_daemon	*d;
	struct tn_client	*a;
	size_t			 i;

	d = start(NULL);
	a = user(d, "alice", NULL, 0);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		SENDF(a, "%s\r\n", bad[i].line);
		EXPECT(a, bad[i].reply);
	}
	SEND(a, "/topic\r\n");
	EXPECT(a, "-- #lobby has no topic");

	/* 50 code points are a name; so are letters of any script. */
	SEND(a, "/join "
	    "#aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
	EXPECT(a, "-- now talking in "
	    "#aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa (1 online)");
	SEND(a, "/join #caf\xc3\xa9\r\n");
	EXPECT(a, "-- now talking in #caf\xc3\xa9 (1 online)");
	SEND(a, "/join #c++\r\n");
	EXPECT(a, "-- now talking in #c++ (1 online)");
	nothing_more(a);
	tn_close(a);
	stop(d);
}
END_TEST

/*
 * 7. /part: the others told, "-- you left", back to the room joined
 * most recently, then no room at all; its errors.
 */
START_TEST(test_part)
{
	static const char *const names[] = { "alice", "bob", "carol" };
	struct tn_daemon	*d;
	struct tn_client	*u[3], *alice, *bob, *carol;
	size_t			 i;

	d = start(NULL);
	users(d, u, names, 3);
	alice = u[0], bob = u[1], carol = u[2];

	SEND(alice, "/join #a\r\n");
	EXPECT(alice, "-- now talking in #a (1 online)");
	SEND(bob, "/join #a\r\n");
	EXPECT(bob, "-- now talking in #a (2 online)");
	EXPECT(alice, "-- bob joined");
	SEND(alice, "/join #b\r\n");
	EXPECT(alice, "-- now talking in #b (1 online)");
	SEND(alice, "/join #c\r\n");
	EXPECT(alice, "-- now talking in #c (1 online)");
	SEND(bob, "/join #x\r\n");
	EXPECT(bob, "-- now talking in #x (1 online)");

	/* A room that is not the current one: the current one stays. */
	SEND(alice, "/part #a\r\n");
	EXPECT(alice, "-- you left #a");
	EXPECT(bob, "#a -- alice left");
	nothing_more(alice);
	SEND(alice, "/join #a\r\n");
	EXPECT(alice, "-- now talking in #a (2 online)");
	EXPECT(bob, "#a -- alice joined");

	/* The current one: back to the most recently joined of the rest. */
	SEND(alice, "/part\r\n");
	EXPECT(alice, "-- you left #a");
	EXPECT(alice, "-- now talking in #c (1 online)");
	EXPECT(bob, "#a -- alice left");
	SEND(alice, "/part\r\n");
	EXPECT(alice, "-- you left #c");
	EXPECT(alice, "-- now talking in #b (1 online)");
	SEND(alice, "/part #B\r\n");
	EXPECT(alice, "-- you left #b");
	EXPECT(alice, "-- now talking in #lobby (3 online)");
	SEND(alice, "/part\r\n");
	EXPECT(alice, "-- you left #lobby");
	EXPECT(alice, NO_ROOM);
	EXPECT(carol, "-- alice left");
	EXPECT(bob, "#lobby -- alice left");

	/* In no room: typed text goes nowhere. */
	SEND(alice, "hello?\r\n");
	EXPECT(alice, NO_ROOM_ERR);
	SEND(alice, "/part\r\n");
	EXPECT(alice, "!! you are in no room");
	SEND(alice, "/part #a\r\n");
	EXPECT(alice, "!! you are not in #a");
	SEND(alice, "/part lobby\r\n");
	EXPECT(alice, "!! invalid room name: must start with #");
	SEND(bob, "/part #nowhere\r\n");
	EXPECT(bob, "!! you are not in #nowhere");
	for (i = 0; i < 3; i++)
		nothing_more(u[i]);

	SEND(alice, "/join #a\r\n");
	EXPECT(alice, "-- now talking in #a (2 online)");
	EXPECT(bob, "#a -- alice joined");
	say(alice, "back");
	EXPECT(bob, "#a <alice> back");
	SEND(bob, "/part #a\r\n");
	EXPECT(bob, "-- you left #a");
	EXPECT(alice, "-- bob left");
	for (i = 0; i < 3; i++)
		nothing_more(u[i]);
	for (i = 0; i < 3; i++)
		tn_close(u[i]);
	stop(d);
}
END_TEST

/* 8. /quit is told in each room of the user, with the reason. */
START_TEST(test_quit_in_each_room)
{
	static const char *const names[] = { "alice", "bob", "carol" };
	struct tn_daemon	*d;
	struct tn_client	*u[3], *alice, *bob, *carol;

	d = start(NULL);
	users(d, u, names, 3);
	alice = u[0], bob = u[1], carol = u[2];
	SEND(alice, "/join #a\r\n");
	EXPECT(alice, "-- now talking in #a (1 online)");
	SEND(bob, "/join #a\r\n");
	EXPECT(bob, "-- now talking in #a (2 online)");
	EXPECT(alice, "-- bob joined");
	SEND(bob, "/join #lobby\r\n");
	EXPECT(bob, "-- now talking in #lobby (3 online)");

	SEND(alice, "/quit gone fishing\r\n");
	EXPECT(alice, "-- bye");
	EXPECT_EOF(alice);
	expect_set(bob, 2, "-- alice left (gone fishing)",
	    "#a -- alice left (gone fishing)");
	EXPECT(carol, "-- alice left (gone fishing)");
	nothing_more(bob);
	nothing_more(carol);
	tn_close(alice);
	tn_close(bob);
	tn_close(carol);
	stop(d);
}
END_TEST

/* 9. /topic: ask, set, told to every member, clear, the byte limit. */
START_TEST(test_topic)
{
	static const char *const names[] = { "alice", "bob" };
	struct tn_daemon	*d;
	struct tn_client	*u[2], *alice, *bob;
	char			 big[302];

	d = start(NULL);
	users(d, u, names, 2);
	alice = u[0], bob = u[1];

	SEND(alice, "/join #t\r\n");
	EXPECT(alice, "-- now talking in #t (1 online)");
	SEND(alice, "/topic\r\n");
	EXPECT(alice, "-- #t has no topic");
	SEND(alice, "/topic   \r\n");	/* blanks only: still a question */
	EXPECT(alice, "-- #t has no topic");
	SEND(alice, "/topic Rust talk\r\n");
	EXPECT(alice, "-- alice set the topic: Rust talk");
	SEND(alice, "/TOPIC\r\n");
	EXPECT(alice, "-- topic of #t: Rust talk");

	SEND(bob, "/join #t\r\n");
	EXPECT(bob, "-- now talking in #t (2 online)");
	EXPECT(bob, "-- topic: Rust talk");
	EXPECT(alice, "-- bob joined");
	SEND(bob, "/join #u\r\n");
	EXPECT(bob, "-- now talking in #u (1 online)");
	SEND(alice, "/topic New one\r\n");
	EXPECT(alice, "-- alice set the topic: New one");
	EXPECT(bob, "#t -- alice set the topic: New one");
	SEND(bob, "/topic\r\n");
	EXPECT(bob, "-- #u has no topic");
	SEND(alice, "/topic -\r\n");
	EXPECT(alice, "-- alice cleared the topic");
	EXPECT(bob, "#t -- alice cleared the topic");
	SEND(alice, "/topic\r\n");
	EXPECT(alice, "-- #t has no topic");

	/* Control characters are not relayed, in topics either. */
	SEND(alice, "/topic a\x1b[2Jb\r\n");
	EXPECT(alice, "-- alice set the topic: a\xef\xbf\xbd[2Jb");
	EXPECT(bob, "#t -- alice set the topic: a\xef\xbf\xbd[2Jb");

	/* 300 bytes are a topic, 301 are not. */
	memset(big, 'x', sizeof big - 1);
	big[300] = '\0';
	SENDF(alice, "/topic %s\r\n", big);
	EXPECTF(alice, "-- alice set the topic: %s", big);
	EXPECTF(bob, "#t -- alice set the topic: %s", big);
	big[300] = 'y';
	big[301] = '\0';
	SENDF(alice, "/topic %s\r\n", big);
	EXPECT(alice, "!! topic too long (limit 300 bytes)");
	big[300] = '\0';
	SEND(alice, "/topic\r\n");
	EXPECTF(alice, "-- topic of #t: %s", big);
	nothing_more(alice);
	nothing_more(bob);
	tn_close(alice);
	tn_close(bob);
	stop(d);
}
END_TEST

/* 10. /rooms: each room, its members and topic, in any order. */
START_TEST(test_rooms_list)
{
	static const char *const names[] = { "alice", "bob", "carol" };
	struct tn_daemon	*d;
	struct tn_client	*u[3], *alice, *bob, *carol;
	size_t			 i;

	d = start(NULL);
	users(d, u, names, 3);
	alice = u[0], bob = u[1], carol = u[2];

	SEND(alice, "/join #a\r\n");
	EXPECT(alice, "-- now talking in #a (1 online)");
	SEND(alice, "/topic A topic\r\n");
	EXPECT(alice, "-- alice set the topic: A topic");
	SEND(bob, "/join #a\r\n");
	EXPECT(bob, "-- now talking in #a (2 online)");
	EXPECT(bob, "-- topic: A topic");
	EXPECT(alice, "-- bob joined");
	SEND(carol, "/join #b\r\n");
	EXPECT(carol, "-- now talking in #b (1 online)");

	SEND(carol, "/rooms\r\n");
	EXPECT(carol, "-- 3 rooms:");
	expect_set(carol, 3, "-- #lobby 3 online", "-- #a 2 online: A topic",
	    "-- #b 1 online");
	nothing_more(carol);

	SEND(bob, "/part #a\r\n");
	EXPECT(bob, "-- you left #a");
	EXPECT(bob, "-- now talking in #lobby (3 online)");
	EXPECT(alice, "-- bob left");
	/* The last member gone, a room without history is no more. */
	SEND(carol, "/part #b\r\n");
	EXPECT(carol, "-- you left #b");
	EXPECT(carol, "-- now talking in #lobby (3 online)");
	SEND(bob, "/ROOMS\r\n");
	EXPECT(bob, "-- 2 rooms:");
	expect_set(bob, 2, "-- #lobby 3 online", "-- #a 1 online: A topic");
	for (i = 0; i < 3; i++)
		nothing_more(u[i]);
	for (i = 0; i < 3; i++)
		tn_close(u[i]);
	stop(d);
}
END_TEST

/*
 * 11. /rooms lists at most a quarter of --sendq, then counts the rest:
 * with 8 KB, 2 KB of the 61 rooms' lines of 55 bytes or so.
 */
START_TEST(test_rooms_list_bounded)
{
	static const char *const args[] = { "--sendq", "8192",
	    "--max-rooms-per-user", "100", "--rate", "0", NULL };
	enum { ROOMS = 60, QUARTER = 8192 / 4 };
	struct tn_daemon	*d;
	struct tn_client	*a;
	char			 line[TN_LINE_MAX], want[200];
	bool			 seen[ROOMS + 1] = { false };
	size_t			 listed = 0, bytes = 0, i;
	unsigned		 more = 0, k = 0;
	int			 n;

	d = start(args);
	a = user(d, "alice", NULL, 0);
	for (i = 0; i < ROOMS; i++) {
		SENDF(a, "/join #a-room-name-long-enough-to-fill-it-%02zu\r\n",
		    i);
		EXPECTF(a, "-- now talking in "
		    "#a-room-name-long-enough-to-fill-it-%02zu (1 online)", i);
	}
	SEND(a, "/rooms\r\n");
	EXPECTF(a, "-- %d rooms:", ROOMS + 1);
	for (;;) {
		n = tn_readline(a, line, sizeof line, TN_LINE_TIMEOUT);
		ck_assert_msg(n > 0, "/rooms: %s", tn_error());
		if (sscanf(line, "-- and %u more", &more) == 1)
			break;
		if (strcmp(line, "-- #lobby 1 online") == 0)
			k = ROOMS;
		else {
			ck_assert_msg(sscanf(line, "-- #a-room-name-long-"
			    "enough-to-fill-it-%2u 1 online", &k) == 1 &&
			    k < ROOMS, "/rooms: unexpected \"%s\"", line);
			snprintf(want, sizeof want, "-- #a-room-name-long-"
			    "enough-to-fill-it-%02u 1 online", k);
			ck_assert_str_eq(line, want);
		}
		ck_assert_msg(!seen[k], "/rooms lists \"%s\" twice", line);
		seen[k] = true;
		listed++;
		bytes += (size_t)n + 2;
	}
	snprintf(want, sizeof want, "-- and %u more", more);
	ck_assert_str_eq(line, want);
	ck_assert_msg(listed + more == ROOMS + 1, "/rooms lists %zu and "
	    "counts %u more of %d", listed, more, ROOMS + 1);
	ck_assert_msg(bytes <= QUARTER, "/rooms listed %zu bytes, more than "
	    "a quarter of --sendq (%d)", bytes, QUARTER);
	/* Not cut for nothing: at least half of what it may send. */
	ck_assert_msg(bytes >= QUARTER / 2, "/rooms listed only %zu bytes "
	    "of the %d it may", bytes, QUARTER);
	nothing_more(a);
	tn_close(a);
	stop(d);
}
END_TEST

/*
 * 12. The replay on join: chat and /me only, with their times, oldest
 * first, after the topic; not on a switch to a room one is in.
 */
START_TEST(test_replay_on_join)
{
	static const char *const names[] = { "alice", "bob", "carol" };
	static const char *const said[] = { "<alice> one", "<alice> two",
	    "<alice> three", "* alice waves" };
	struct tn_daemon	*d;
	struct tn_client	*u[3], *alice, *bob, *carol;
	time_t			 t0;
	size_t			 i;

	d = start(NULL);
	users(d, u, names, 3);
	alice = u[0], bob = u[1], carol = u[2];
	t0 = time(NULL);

	SEND(alice, "/join #h\r\n");
	EXPECT(alice, "-- now talking in #h (1 online)");
	say(alice, "one");
	say(alice, "two");
	say(alice, "three");
	SEND(alice, "/me waves\r\n");
	EXPECT(alice, "* alice waves");
	say(carol, "not in #h");
	EXPECT(bob, "<carol> not in #h");
	EXPECT(alice, "#lobby <carol> not in #h");
	SEND(alice, "/topic notes\r\n");
	EXPECT(alice, "-- alice set the topic: notes");

	SEND(bob, "/join #h\r\n");
	EXPECT(bob, "-- now talking in #h (2 online)");
	EXPECT(bob, "-- topic: notes");
	expect_history(bob, "#h", said, 4, t0, time(NULL));
	EXPECT(alice, "-- bob joined");
	nothing_more(bob);

	/* Nick changes, joins and topics are not history. */
	SEND(bob, "/nick bobby\r\n");
	EXPECT(bob, "-- bob is now known as bobby");
	expect_set(alice, 2, "-- bob is now known as bobby",
	    "#lobby -- bob is now known as bobby");
	EXPECT(carol, "-- bob is now known as bobby");
	SEND(carol, "/join #h\r\n");
	EXPECT(carol, "-- now talking in #h (3 online)");
	EXPECT(carol, "-- topic: notes");
	expect_history(carol, "#h", said, 4, t0, time(NULL));
	EXPECT(alice, "-- carol joined");
	EXPECT(bob, "-- carol joined");

	/* A switch back to a joined room replays nothing. */
	SEND(carol, "/join #lobby\r\n");
	EXPECT(carol, "-- now talking in #lobby (3 online)");
	SEND(carol, "/join #H\r\n");
	EXPECT(carol, "-- now talking in #h (3 online)");
	for (i = 0; i < 3; i++)
		nothing_more(u[i]);
	for (i = 0; i < 3; i++)
		tn_close(u[i]);
	stop(d);
}
END_TEST

/* 13. --replay N: only the last N on join; 0, none. */
START_TEST(test_replay_option)
{
	static const char *const two[] = { "--replay", "2", NULL };
	static const char *const none[] = { "--replay", "0", NULL };
	static const char *const names[] = { "alice", "bob" };
	static const char *const last2[] = { "<alice> two", "<alice> three" };
	struct tn_daemon	*d;
	struct tn_client	*u[2];
	time_t			 t0;
	int			 run;

	for (run = 0; run < 2; run++) {
		d = start(run == 0 ? two : none);
		users(d, u, names, 2);
		t0 = time(NULL);
		SEND(u[0], "/join #h\r\n");
		EXPECT(u[0], "-- now talking in #h (1 online)");
		say(u[0], "one");
		say(u[0], "two");
		say(u[0], "three");
		SEND(u[1], "/join #h\r\n");
		EXPECT(u[1], "-- now talking in #h (2 online)");
		if (run == 0)
			expect_history(u[1], "#h", last2, 2, t0, time(NULL));
		EXPECT(u[0], "-- bob joined");
		nothing_more(u[1]);
		nothing_more(u[0]);
		tn_close(u[0]);
		tn_close(u[1]);
		stop(d);
	}
}
END_TEST

/*
 * 14. /history [N]: --replay lines without N, N of them with, all that
 * is kept for a bigger N; its usage error.
 */
START_TEST(test_history_command)
{
	static const char *const args[] = { "--history", "1000", "--rate",
	    "0", NULL };
	static const char *const names[] = { "alice", "bob", "carol" };
	enum { SAID = 30 };
	struct tn_daemon	*d;
	struct tn_client	*u[3], *alice, *bob, *carol;
	char			 text[SAID][32];
	const char		*said[SAID];
	time_t			 t0;
	size_t			 i;

	d = start(args);
	users(d, u, names, 3);
	alice = u[0], bob = u[1], carol = u[2];
	t0 = time(NULL);
	SEND(alice, "/join #h\r\n");
	EXPECT(alice, "-- now talking in #h (1 online)");
	for (i = 0; i < SAID; i++) {
		snprintf(text[i], sizeof text[i], "<alice> line %02zu", i);
		said[i] = text[i];
		SENDF(alice, "line %02zu\r\n", i);
		EXPECT(alice, text[i]);
		if (i == 10) {
			/* Another room's line is not this room's history. */
			say(carol, "lobby line");
			EXPECT(bob, "<carol> lobby line");
			EXPECT(alice, "#lobby <carol> lobby line");
		}
	}

	SEND(bob, "/join #h\r\n");
	EXPECT(bob, "-- now talking in #h (2 online)");
	expect_history(bob, "#h", said + SAID - 20, 20, t0, time(NULL));
	EXPECT(alice, "-- bob joined");
	SEND(bob, "/history 50\r\n");
	expect_history(bob, "#h", said, SAID, t0, time(NULL));
	SEND(bob, "/history\r\n");
	expect_history(bob, "#h", said + SAID - 20, 20, t0, time(NULL));
	SEND(bob, "/HISTORY  5 \r\n");
	expect_history(bob, "#h", said + SAID - 5, 5, t0, time(NULL));
	SEND(bob, "/history 0\r\n");
	EXPECT(bob, "!! usage: /history [N]");
	SEND(bob, "/history five\r\n");
	EXPECT(bob, "!! usage: /history [N]");
	SEND(bob, "/history -3\r\n");
	EXPECT(bob, "!! usage: /history [N]");
	for (i = 0; i < 3; i++)
		nothing_more(u[i]);
	for (i = 0; i < 3; i++)
		tn_close(u[i]);
	stop(d);
}
END_TEST

/* 15. --history N keeps N lines: the replay and /history get no more. */
START_TEST(test_history_cap)
{
	static const char *const args[] = { "--history", "2", NULL };
	static const char *const names[] = { "alice", "bob" };
	static const char *const last2[] = { "<alice> two", "<alice> three" };
	struct tn_daemon	*d;
	struct tn_client	*u[2];
	time_t			 t0;

	d = start(args);
	users(d, u, names, 2);
	t0 = time(NULL);
	SEND(u[0], "/join #h\r\n");
	EXPECT(u[0], "-- now talking in #h (1 online)");
	say(u[0], "one");
	say(u[0], "two");
	say(u[0], "three");
	SEND(u[1], "/join #h\r\n");
	EXPECT(u[1], "-- now talking in #h (2 online)");
	expect_history(u[1], "#h", last2, 2, t0, time(NULL));
	EXPECT(u[0], "-- bob joined");
	SEND(u[1], "/history 50\r\n");
	expect_history(u[1], "#h", last2, 2, t0, time(NULL));
	SEND(u[1], "/history\r\n");
	expect_history(u[1], "#h", last2, 2, t0, time(NULL));
	nothing_more(u[0]);
	nothing_more(u[1]);
	tn_close(u[0]);
	tn_close(u[1]);
	stop(d);
}
END_TEST

/*
 * 16. A nick change is told in each room of the user, labelled where
 * it is not the current room, and nowhere else; the user gets it once.
 */
START_TEST(test_nick_in_each_room)
{
	static const char *const names[] = { "alice", "bob", "carol",
	    "dave", "erin" };
	struct tn_daemon	*d;
	struct tn_client	*u[5], *alice, *bob, *carol, *dave, *erin;
	size_t			 i;

	d = start(NULL);
	users(d, u, names, 5);
	alice = u[0], bob = u[1], carol = u[2], dave = u[3], erin = u[4];

	SEND(dave, "/part #lobby\r\n");
	EXPECT(dave, "-- you left #lobby");
	EXPECT(dave, NO_ROOM);
	for (i = 0; i < 5; i++)
		if (u[i] != dave)
			EXPECT(u[i], "-- dave left");
	SEND(dave, "/join #d\r\n");
	EXPECT(dave, "-- now talking in #d (1 online)");
	SEND(alice, "/join #a\r\n");
	EXPECT(alice, "-- now talking in #a (1 online)");
	SEND(alice, "/join #b\r\n");
	EXPECT(alice, "-- now talking in #b (1 online)");
	SEND(bob, "/join #a\r\n");
	EXPECT(bob, "-- now talking in #a (2 online)");
	EXPECT(alice, "#a -- bob joined");
	SEND(carol, "/join #b\r\n");
	EXPECT(carol, "-- now talking in #b (2 online)");
	EXPECT(alice, "-- carol joined");

	/* alice: #lobby, #a, #b (current); bob: #lobby, #a (current). */
	SEND(alice, "/nick al\r\n");
	EXPECT(alice, "-- alice is now known as al");
	expect_set(bob, 2, "-- alice is now known as al",
	    "#lobby -- alice is now known as al");
	expect_set(carol, 2, "-- alice is now known as al",
	    "#lobby -- alice is now known as al");
	EXPECT(erin, "-- alice is now known as al");
	snprintf(alice->nick, sizeof alice->nick, "al");
	for (i = 0; i < 5; i++)
		nothing_more(u[i]);	/* alice's once, dave's never */
	say(alice, "hi");
	EXPECT(carol, "<al> hi");
	for (i = 0; i < 5; i++)
		nothing_more(u[i]);
	for (i = 0; i < 5; i++)
		tn_close(u[i]);
	stop(d);
}
END_TEST

/* 17. /msg reaches any user, whatever rooms either is in, unlabelled. */
START_TEST(test_msg_across_rooms)
{
	static const char *const names[] = { "alice", "bob", "carol" };
	struct tn_daemon	*d;
	struct tn_client	*u[3], *alice, *bob, *carol;
	size_t			 i;

	d = start(NULL);
	users(d, u, names, 3);
	alice = u[0], bob = u[1], carol = u[2];

	SEND(alice, "/join #a\r\n");
	EXPECT(alice, "-- now talking in #a (1 online)");
	SEND(alice, "/part #lobby\r\n");
	EXPECT(alice, "-- you left #lobby");
	EXPECT(bob, "-- alice left");
	EXPECT(carol, "-- alice left");
	SEND(bob, "/join #b\r\n");
	EXPECT(bob, "-- now talking in #b (1 online)");
	SEND(bob, "/part #lobby\r\n");
	EXPECT(bob, "-- you left #lobby");
	EXPECT(carol, "-- bob left");
	SEND(carol, "/part\r\n");
	EXPECT(carol, "-- you left #lobby");
	EXPECT(carol, NO_ROOM);

	SEND(alice, "/msg bob psst\r\n");
	EXPECT(bob, "*alice* psst");
	EXPECT(alice, "-> *bob* psst");
	SEND(bob, "/msg ALICE back at you\r\n");
	EXPECT(alice, "*bob* back at you");
	EXPECT(bob, "-> *alice* back at you");
	SEND(alice, "/msg carol hey\r\n");
	EXPECT(carol, "*alice* hey");
	EXPECT(alice, "-> *carol* hey");
	SEND(carol, "/msg alice from nowhere\r\n");
	EXPECT(alice, "*carol* from nowhere");
	EXPECT(carol, "-> *alice* from nowhere");
	SEND(alice, "/msg nobody x\r\n");
	EXPECT(alice, "!! no such nick: nobody");
	for (i = 0; i < 3; i++)
		nothing_more(u[i]);
	for (i = 0; i < 3; i++)
		tn_close(u[i]);
	stop(d);
}
END_TEST

/*
 * 18. --max-rooms-per-user: a join past it is refused; a switch to a
 * room one is in is not a join.  The default room counts.
 */
START_TEST(test_limit_rooms_per_user)
{
	static const char *const args[] = { "--max-rooms-per-user", "2",
	    NULL };
	struct tn_daemon	*d;
	struct tn_client	*alice, *bob;

	d = start(args);
	alice = user(d, "alice", NULL, 0);
	SEND(alice, "/part #lobby\r\n");
	EXPECT(alice, "-- you left #lobby");
	EXPECT(alice, NO_ROOM);
	SEND(alice, "/join #a\r\n");
	EXPECT(alice, "-- now talking in #a (1 online)");
	SEND(alice, "/join #b\r\n");
	EXPECT(alice, "-- now talking in #b (1 online)");
	SEND(alice, "/join #c\r\n");
	EXPECT(alice, "!! you are in too many rooms (limit 2)");
	SEND(alice, "/join #A\r\n");
	EXPECT(alice, "-- now talking in #a (1 online)");
	nothing_more(alice);

	bob = user(d, "bob", NULL, 0);
	SEND(bob, "/join #a\r\n");
	EXPECT(bob, "-- now talking in #a (2 online)");
	EXPECT(alice, "-- bob joined");
	SEND(bob, "/join #b\r\n");
	EXPECT(bob, "!! you are in too many rooms (limit 2)");
	SEND(bob, "/part #lobby\r\n");
	EXPECT(bob, "-- you left #lobby");
	SEND(bob, "/join #b\r\n");
	EXPECT(bob, "-- now talking in #b (2 online)");
	EXPECT(alice, "#b -- bob joined");
	nothing_more(alice);
	nothing_more(bob);
	tn_close(alice);
	tn_close(bob);
	stop(d);
}
END_TEST

/*
 * 19. --max-rooms: the default room counts; an empty room without
 * history is freed at once; one with history is kept until its slot is
 * needed, then freed with its history.
 */
START_TEST(test_limit_rooms)
{
	static const char *const args[] = { "--max-rooms", "3", NULL };
	static const char *const names[] = { "keeper", "alice", "bob",
	    "carol" };
	struct tn_daemon	*d;
	struct tn_client	*u[4], *alice, *bob, *carol;
	size_t			 i;

	d = start(args);
	users(d, u, names, 4);
	alice = u[1], bob = u[2], carol = u[3];

	SEND(alice, "/join #a\r\n");
	EXPECT(alice, "-- now talking in #a (1 online)");
	SEND(bob, "/join #b\r\n");
	EXPECT(bob, "-- now talking in #b (1 online)");
	SEND(carol, "/join #c\r\n");
	EXPECT(carol, "!! too many rooms on this server (limit 3)");
	SEND(carol, "/join #a\r\n");
	EXPECT(carol, "-- now talking in #a (2 online)");
	EXPECT(alice, "-- carol joined");

	SEND(bob, "/part #b\r\n");
	EXPECT(bob, "-- you left #b");
	EXPECT(bob, "-- now talking in #lobby (4 online)");
	SEND(carol, "/join #c\r\n");
	EXPECT(carol, "-- now talking in #c (1 online)");
	say(carol, "kept");
	SEND(carol, "/part\r\n");
	EXPECT(carol, "-- you left #c");
	EXPECT(carol, "-- now talking in #a (2 online)");

	/* #c is empty with history: its slot goes to #d when needed. */
	SEND(bob, "/join #d\r\n");
	EXPECT(bob, "-- now talking in #d (1 online)");
	SEND(carol, "/join #c\r\n");
	EXPECT(carol, "!! too many rooms on this server (limit 3)");
	SEND(bob, "/part\r\n");
	EXPECT(bob, "-- you left #d");
	EXPECT(bob, "-- now talking in #lobby (4 online)");
	SEND(carol, "/join #c\r\n");
	EXPECT(carol, "-- now talking in #c (1 online)");
	for (i = 0; i < 4; i++)
		nothing_more(u[i]);	/* carol: #c's history went too */
	for (i = 0; i < 4; i++)
		tn_close(u[i]);
	stop(d);
}
END_TEST

/* 20. --max-room-name counts code points, --max-topic bytes. */
START_TEST(test_limit_room_name_topic)
{
	static const char *const args[] = { "--max-room-name", "5",
	    "--max-topic", "10", NULL };
	struct tn_daemon	*d;
	struct tn_client	*a;

	d = start(args);
	a = user(d, "alice", NULL, 0);
	SEND(a, "/join #abcde\r\n");
	EXPECT(a, "-- now talking in #abcde (1 online)");
	SEND(a, "/join #abcdef\r\n");
	EXPECT(a, "!! invalid room name: too long (max 5 characters)");
	SEND(a, "/join #\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\r\n");
	EXPECT(a, "!! invalid room name: too long (max 5 characters)");
	SEND(a, "/join #\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\r\n");
	EXPECT(a, "-- now talking in #\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    " (1 online)");

	SEND(a, "/topic 0123456789\r\n");
	EXPECT(a, "-- alice set the topic: 0123456789");
	SEND(a, "/topic 0123456789a\r\n");
	EXPECT(a, "!! topic too long (limit 10 bytes)");
	SEND(a, "/topic \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\r\n");
	EXPECT(a, "-- alice set the topic: \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9");
	SEND(a, "/topic \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9!\r\n");
	EXPECT(a, "!! topic too long (limit 10 bytes)");
	SEND(a, "/topic\r\n");
	EXPECT(a, "-- topic of #\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9: "
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	nothing_more(a);
	tn_close(a);
	stop(d);
}
END_TEST

/*
 * 21. One total order per room while three rooms are busy at once: 5
 * senders in each of #r0 #r1 #r2 send 200 numbered lines each, 20
 * readers are in one or two of the rooms.  Every member of a room gets
 * all its lines, labelled unless it talks there, each sender's in
 * order, and every two members of a room get its lines in one order.
 *
 * One poll() loop serves every client, so none is slow; senders write
 * without blocking, since chatd may hold a sender while a reader is
 * behind.
 */
#define ORDER_ROOMS	3
#define ORDER_SENDERS	5	/* per room */
#define ORDER_READERS	20
#define ORDER_LINES	200	/* per sender */
#define ORDER_CLIENTS	(ORDER_ROOMS * ORDER_SENDERS + ORDER_READERS)
#define ORDER_PER_ROOM	(ORDER_SENDERS * ORDER_LINES)

struct order_client {
	struct tn_client	*c;
	int			 rooms[2];	/* -1: none */
	int			 current;
	int			 sender;	/* index, or -1 */
	char			*out;		/* unsent lines */
	size_t			 out_len, out_off;
	int			 next[ORDER_ROOMS * ORDER_SENDERS];
	/* Per room of the client, s * ORDER_LINES + n in arrival order. */
	uint16_t		 seq[2][ORDER_PER_ROOM];
	size_t			 got[2];
};

static int
order_slot(const struct order_client *oc, int room)
{
	if (oc->rooms[0] == room)
		return 0;
	if (oc->rooms[1] == room)
		return 1;
	return -1;
}

/* Set-up replies and room notices, up to the sync reply. */
static void
order_settle(struct tn_client *c, unsigned id)
{
	char	line[TN_LINE_MAX], want[64];
	int	n;

	snprintf(want, sizeof want, "!! unknown command /settle%u, try /help",
	    id);
	SENDF(c, "/settle%u\r\n", id);
	for (;;) {
		n = tn_readline(c, line, sizeof line, TN_LINE_TIMEOUT);
		ck_assert_msg(n >= 0, "client %s: setting up: %s", c->nick,
		    tn_error());
		if (strcmp(line, want) == 0)
			return;
		ck_assert_msg(strncmp(line, "-- ", 3) == 0 ||
		    (line[0] == '#' && strstr(line, " -- ") != NULL),
		    "client %s: \"%s\" while setting up", c->nick,
		    tn_quote(line, (size_t)n));
	}
}

static void
order_line(struct order_client *all, struct order_client *oc,
    const char *line, size_t len)
{
	const char	*p = line;
	char		 nick[64];
	int		 label = -1, room, s, k, slot, used = 0;

	if (sscanf(p, "#r%d %n", &label, &used) == 1 && used > 0)
		p += used;
	ck_assert_msg(sscanf(p, "<%63[^>]> r%d s%d n%d%n", nick, &room, &s, &k,
	    &used) == 4 && p[used] == '\0', "client %s: unexpected \"%s\"",
	    oc->c->nick, tn_quote(line, len));
	ck_assert_msg(s >= 0 && s < ORDER_ROOMS * ORDER_SENDERS &&
	    room == s / ORDER_SENDERS && k >= 0 && k < ORDER_LINES,
	    "client %s: \"%s\" was never sent", oc->c->nick, line);
	ck_assert_msg(strcmp(nick, all[s].c->nick) == 0, "client %s: \"%s\" "
	    "is from %s", oc->c->nick, line, all[s].c->nick);
	slot = order_slot(oc, room);
	ck_assert_msg(slot >= 0, "client %s is not in #r%d: \"%s\"",
	    oc->c->nick, room, line);
	if (room == oc->current)
		ck_assert_msg(label == -1, "client %s: \"%s\" is labelled in "
		    "its current room", oc->c->nick, line);
	else
		ck_assert_msg(label == room, "client %s: \"%s\" from #r%d "
		    "without its label", oc->c->nick, line, room);
	ck_assert_msg(k == oc->next[s], "client %s: \"%s\", expected n%d "
	    "from s%d next", oc->c->nick, line, oc->next[s], s);
	oc->next[s]++;
	ck_assert_uint_lt(oc->got[slot], ORDER_PER_ROOM);
	oc->seq[slot][oc->got[slot]++] = (uint16_t)(s * ORDER_LINES + k);
}

static bool
order_done(const struct order_client *all)
{
	int	i, j;

	for (i = 0; i < ORDER_CLIENTS; i++)
		for (j = 0; j < 2; j++)
			if (all[i].rooms[j] >= 0 &&
			    all[i].got[j] < ORDER_PER_ROOM)
				return false;
	return true;
}

START_TEST(test_order_across_rooms)
{
	static const char *const args[] = { "--rate", "0", NULL };
	struct order_client	*all;
	struct order_client	*oc, *first[ORDER_ROOMS] = { NULL };
	struct tn_daemon	*d;
	struct pollfd		 pfd[ORDER_CLIENTS];
	char			 line[TN_LINE_MAX];
	int64_t			 deadline;
	size_t			 len, chunk, i, round = 0;
	ssize_t			 w;
	int			 j, k, n, s, slot;

	all = calloc(ORDER_CLIENTS, sizeof *all);
	ck_assert_ptr_nonnull(all);
	d = start(args);
	for (i = 0; i < ORDER_CLIENTS; i++) {
		oc = &all[i];
		oc->c = join(d);
		oc->rooms[0] = oc->rooms[1] = -1;
		oc->sender = -1;
		SEND(oc->c, "/part #lobby\r\n");
		if (i < ORDER_ROOMS * ORDER_SENDERS) {
			oc->sender = (int)i;
			oc->rooms[0] = (int)i / ORDER_SENDERS;
		} else {
			j = (int)i - ORDER_ROOMS * ORDER_SENDERS;
			oc->rooms[0] = j % ORDER_ROOMS;
			if (j % 2 == 1)
				oc->rooms[1] = (j + 1) % ORDER_ROOMS;
		}
		for (k = 0; k < 2 && oc->rooms[k] >= 0; k++) {
			SENDF(oc->c, "/join #r%d\r\n", oc->rooms[k]);
			oc->current = oc->rooms[k];
		}
	}
	/*
	 * Twice: once every client's joins are done, the notices they
	 * made are queued, and the second pass reads them too.
	 */
	for (i = 0; i < 2 * ORDER_CLIENTS; i++)
		order_settle(all[i % ORDER_CLIENTS].c, (unsigned)i);

	for (i = 0; i < ORDER_ROOMS * ORDER_SENDERS; i++) {
		oc = &all[i];
		oc->out = malloc(ORDER_LINES * 32);
		ck_assert_ptr_nonnull(oc->out);
		for (k = 0; k < ORDER_LINES; k++)
			oc->out_len += (size_t)sprintf(oc->out + oc->out_len,
			    "r%d s%zu n%d\r\n", oc->rooms[0], i, k);
	}

	deadline = tn_now_ms() + SCALED(60000);
	while (!order_done(all)) {
		ck_assert_msg(tn_now_ms() < deadline, "the lines did not all "
		    "arrive within %" PRId64 " ms", SCALED(60000));
		for (i = 0; i < ORDER_CLIENTS; i++) {
			pfd[i].fd = all[i].c->fd;
			pfd[i].events = POLLIN;
			if (all[i].out_off < all[i].out_len)
				pfd[i].events |= POLLOUT;
		}
		n = poll(pfd, ORDER_CLIENTS, 100);
		ck_assert_msg(n >= 0 || errno == EINTR, "poll: %s",
		    strerror(errno));
		round++;
		for (i = 0; i < ORDER_CLIENTS; i++) {
			oc = &all[i];
			if (pfd[i].revents & POLLOUT) {
				/* A few lines at a time, so senders mix. */
				chunk = 1 + (round * 7 + i) % 16;
				len = 0;
				while (oc->out_off + len < oc->out_len &&
				    chunk > 0) {
					if (oc->out[oc->out_off + len++] ==
					    '\n')
						chunk--;
				}
				w = send(oc->c->fd, oc->out + oc->out_off, len,
				    MSG_DONTWAIT | MSG_NOSIGNAL);
				ck_assert_msg(w >= 0 || errno == EAGAIN ||
				    errno == EINTR, "send: %s",
				    strerror(errno));
				if (w > 0)
					oc->out_off += (size_t)w;
			}
			if ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) ==
			    0)
				continue;
			for (;;) {
				n = tn_readline(oc->c, line, sizeof line, 0);
				if (n == TN_TIMEOUT)
					break;
				ck_assert_msg(n >= 0, "%s", tn_error());
				order_line(all, oc, line, (size_t)n);
			}
		}
	}

	/* One order per room: every member's is the first member's. */
	for (i = 0; i < ORDER_CLIENTS; i++) {
		oc = &all[i];
		for (k = 0; k < 2 && oc->rooms[k] >= 0; k++) {
			s = oc->rooms[k];
			if (first[s] == NULL) {
				first[s] = oc;
				continue;
			}
			slot = order_slot(first[s], s);
			for (j = 0; j < ORDER_PER_ROOM; j++)
				ck_assert_msg(oc->seq[k][j] ==
				    first[s]->seq[slot][j], "#r%d: line %d is "
				    "s%d n%d for %s, s%d n%d for %s", s, j,
				    oc->seq[k][j] / ORDER_LINES,
				    oc->seq[k][j] % ORDER_LINES, oc->c->nick,
				    first[s]->seq[slot][j] / ORDER_LINES,
				    first[s]->seq[slot][j] % ORDER_LINES,
				    first[s]->c->nick);
		}
	}
	for (i = 0; i < ORDER_CLIENTS; i++) {
		free(all[i].out);
		tn_close(all[i].c);
	}
	free(all);
	stop(d);
}
END_TEST

static void
db_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmpdir, name);
}

/*
 * 22. --history-db: the history and the topic survive a restart, with
 * their times, and what is said after comes after them.
 */
START_TEST(test_history_db_restart)
{
	static const char *const first[] = { "<alice> one", "<alice> two",
	    "* alice waves", "<alice> three" };
	static const char *const second[] = { "<alice> one", "<alice> two",
	    "* alice waves", "<alice> three", "<bob> four" };
	char			 path[512];
	const char		*args[] = { "--history-db", path, NULL };
	struct tn_daemon	*d;
	struct tn_client	*a, *b;
	time_t			 t0, t1, t2;

	db_path(path, sizeof path, "history.db");
	t0 = time(NULL);
	d = start(args);
	a = user(d, "alice", NULL, 0);
	SEND(a, "/join #p\r\n");
	EXPECT(a, "-- now talking in #p (1 online)");
	SEND(a, "/topic kept across restarts\r\n");
	EXPECT(a, "-- alice set the topic: kept across restarts");
	say(a, "one");
	say(a, "two");
	SEND(a, "/me waves\r\n");
	EXPECT(a, "* alice waves");
	say(a, "three");
	tn_close(a);
	stop(d);
	t1 = time(NULL);
	/* A restamped line would now show a later second. */
	sleep_ms(1100);

	d = start(args);
	b = user(d, "bob", NULL, 0);
	SEND(b, "/join #p\r\n");
	EXPECT(b, "-- now talking in #p (1 online)");
	EXPECT(b, "-- topic: kept across restarts");
	expect_history(b, "#p", first, 4, t0, t1);
	say(b, "four");
	tn_close(b);
	stop(d);
	t2 = time(NULL);

	d = start(args);
	b = user(d, "carol", NULL, 0);
	SEND(b, "/join #p\r\n");
	EXPECT(b, "-- now talking in #p (1 online)");
	EXPECT(b, "-- topic: kept across restarts");
	expect_history(b, "#p", second, 5, t0, t2);
	nothing_more(b);
	tn_close(b);
	stop(d);
}
END_TEST

/*
 * 23. kill -9: every line said more than 500 ms before it is in the
 * database (chatd writes in batches of 100 ms); the last one, said just
 * before, may or may not be.
 */
START_TEST(test_history_db_sigkill)
{
	static const char *const said[] = { "<alice> k1", "<alice> k2",
	    "<alice> k3", "<alice> k4", "<alice> k5", "<alice> late" };
	char			 path[512], line[TN_LINE_MAX];
	const char		*args[] = { "--history-db", path, NULL };
	struct tn_daemon	*d;
	struct tn_client	*a, *b;
	time_t			 t0, t1;
	unsigned		 k;
	int			 rc, n, i;

	db_path(path, sizeof path, "killed.db");
	t0 = time(NULL);
	d = start(args);
	a = user(d, "alice", NULL, 0);
	SEND(a, "/join #k\r\n");
	EXPECT(a, "-- now talking in #k (1 online)");
	for (i = 0; i < 5; i++)
		say(a, said[i] + strlen("<alice> "));
	sleep_ms(SCALED(500));
	SEND(a, "late\r\n");
	ck_assert_int_eq(tn_signal(d, SIGKILL), 0);
	rc = tn_wait(d, TN_STOP_TIMEOUT);
	ck_assert_msg(rc == 128 + SIGKILL, "chatd exited %d, not killed",
	    rc);
	t1 = time(NULL);
	tn_close(a);
	/* tn_stop() reports the kill and dumps the log: expected here. */
	fprintf(stderr, "check_rooms: chatd was killed on purpose; its log "
	    "follows\n");
	tn_stop(d);

	d = start(args);
	b = user(d, "bob", NULL, 0);
	SEND(b, "/join #k\r\n");
	EXPECT(b, "-- now talking in #k (1 online)");
	n = tn_readline(b, line, sizeof line, TN_LINE_TIMEOUT);
	ck_assert_msg(n > 0, "no replay after the kill: %s", tn_error());
	ck_assert_msg(sscanf(line, "-- history of #k, last %u lines:", &k) ==
	    1 && (k == 5 || k == 6), "after the kill: \"%s\", want the 5 "
	    "lines said 500 ms before it, or 6", line);
	for (i = 0; i < (int)k; i++)
		expect_history_line(b, said[i], t0, t1);
	EXPECT(b, "-- end of history");
	nothing_more(b);
	tn_close(b);
	stop(d);
}
END_TEST

/* 24. A --history-db chatd cannot use: exit 1, naming the file. */
START_TEST(test_history_db_bad_path)
{
	char		 garbage[512], missing[] = "/nonexistent/dir/chatd.db";
	char		 proc[] = "/proc/chatd.db", junk[4096];
	const char	*paths[] = { proc, missing, tmpdir, garbage };
	const char	*argv[8];
	char		*out, *err;
	FILE		*f;
	size_t		 i;
	int		 rc;

	db_path(garbage, sizeof garbage, "garbage.db");
	ck_assert_ptr_nonnull(f = fopen(garbage, "w"));
	memset(junk, 'x', sizeof junk);
	memcpy(junk, "this is not a database\n", 23);
	ck_assert_uint_eq(fwrite(junk, 1, sizeof junk, f), sizeof junk);
	ck_assert_int_eq(fclose(f), 0);

	argv[0] = getenv("CHATD");
	ck_assert_msg(argv[0] != NULL, "CHATD is not set");
	argv[1] = "--port";
	argv[2] = "0";
	argv[3] = "--bind";
	argv[4] = "127.0.0.1";
	argv[5] = "--history-db";
	argv[7] = NULL;
	for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		argv[6] = paths[i];
		rc = tn_run(argv, (int)SCALED(10000), &out, &err);
		ck_assert_msg(rc == 1, "chatd --history-db %s exited %d, not "
		    "1; stderr:\n%s", paths[i], rc, err != NULL ? err : "");
		ck_assert_msg(err != NULL && strstr(err, paths[i]) != NULL,
		    "chatd --history-db %s: the file is not named on "
		    "stderr:\n%s", paths[i], err != NULL ? err : "");
		free(out);
		free(err);
	}
}
END_TEST

static void
setup(void)
{
	tmpdir_make("check_rooms");
}

static void
teardown(void)
{
	tmpdir_remove();
}

static int
env_int(const char *name, int def, int min, int max)
{
	const char	*s = getenv(name);
	char		*end;
	long		 v;

	if (s == NULL || *s == '\0')
		return def;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < min || v > max) {
		fprintf(stderr, "check_rooms: %s=%s is not a number from %d "
		    "to %d; using %d\n", name, s, min, max, def);
		return def;
	}
	return (int)v;
}

int
main(void)
{
	/* Seconds in a plain build, times the slowdown. */
	struct net_test	 tests[] = {
		{ "v1_unchanged", test_v1_unchanged, 60 },
		{ "welcome_counts_default_room",
		    test_welcome_counts_default_room, 60 },
		{ "default_room_option", test_default_room_option, 60 },
		{ "rooms_apart", test_rooms_apart, 60 },
		{ "join_replies", test_join_replies, 60 },
		{ "join_errors", test_join_errors, 60 },
		{ "part", test_part, 60 },
		{ "quit_in_each_room", test_quit_in_each_room, 60 },
		{ "topic", test_topic, 60 },
		{ "rooms_list", test_rooms_list, 60 },
		{ "rooms_list_bounded", test_rooms_list_bounded, 60 },
		{ "replay_on_join", test_replay_on_join, 60 },
		{ "replay_option", test_replay_option, 60 },
		{ "history_command", test_history_command, 60 },
		{ "history_cap", test_history_cap, 60 },
		{ "nick_in_each_room", test_nick_in_each_room, 60 },
		{ "msg_across_rooms", test_msg_across_rooms, 60 },
		{ "limit_rooms_per_user", test_limit_rooms_per_user, 60 },
		{ "limit_rooms", test_limit_rooms, 60 },
		{ "limit_room_name_topic", test_limit_room_name_topic, 60 },
		{ "order_across_rooms", test_order_across_rooms, 120 },
		{ "history_db_restart", test_history_db_restart, 60 },
		{ "history_db_sigkill", test_history_db_sigkill, 60 },
		{ "history_db_bad_path", test_history_db_bad_path, 60 },
	};
	size_t		 i;

	slowdown = env_int("CHATD_TEST_SLOWDOWN", DEFAULT_SLOWDOWN, 1, 1000);
	tn_raise_nofile();
	for (i = 0; i < sizeof tests / sizeof tests[0]; i++)
		tests[i].timeout *= slowdown;
	return net_main(NET_SUITE("rooms", tests, setup, teardown));
}
