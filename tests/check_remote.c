/*
 * check_remote.c - other nodes' rosters applied to the model (remote.c,
 * remotes_roster): parts are gathered in order and applied whole, a
 * roster replaces what was known of its node (users added, renamed,
 * out of the rooms it does not list, gone if it does not list them),
 * and one with a part missing, mixed with another's or of this node
 * itself changes nothing.  No sockets, no NATS: the model alone.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clroster.h"
#include "clwire.h"
#include "model.h"
#include "remote.h"
#include "check_run.h"

#define CTX	((void *)0x1)	/* remote users are told nothing */

static struct model	*m;
static struct remotes	*rs;

static void
setup(void)
{
	struct model_config	cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.default_room = "#lobby";
	cfg.announce_max = 100;
	cfg.max_rooms = 100;
	cfg.max_rooms_per_user = 100;
	cfg.max_room_name = 50;
	cfg.max_topic = 100;
	cfg.history = 10;
	cfg.history_bytes = 65536;
	cfg.seed = 0x5eed;
	ck_assert_ptr_nonnull(m = model_new(&cfg));
	ck_assert_ptr_nonnull(rs = remotes_new("self"));
}

static void
teardown(void)
{
	remotes_free(rs, m);
	model_free(m);
}

/* Every "ROOM NICK" of the model, sorted, comma-separated. */
struct listing {
	char	items[64][300];
	size_t	n;
};

static bool
list_one(void *arg, const char *room, size_t room_len, const struct user *u,
    const struct room *r)
{
	struct listing	*l = arg;

	ck_assert_uint_lt(l->n, 64);
	snprintf(l->items[l->n++], sizeof(l->items[0]), "%.*s %s",
	    (int)room_len, room, u->nick);
	return true;
}

static int
by_text(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
joined(struct listing *l, char *out)
{
	size_t	i;

	qsort(l->items, l->n, sizeof(l->items[0]), by_text);
	out[0] = '\0';
	for (i = 0; i < l->n; i++) {
		if (i > 0)
			strcat(out, ",");
		strcat(out, l->items[i]);
	}
}

static const char *
members(void)
{
	static char	out[8192];
	struct listing	l;

	l.n = 0;
	model_each_member(m, list_one, &l);
	joined(&l, out);
	return out;
}

/* The same of "ROOM NICK" items, NULL-ended, in any order. */
static const char *
want(const char *item, ...)
{
	static char	out[8192];
	struct listing	l;
	va_list		ap;

	l.n = 0;
	va_start(ap, item);
	for (; item != NULL; item = va_arg(ap, const char *))
		snprintf(l.items[l.n++], sizeof(l.items[0]), "%s", item);
	va_end(ap);
	joined(&l, out);
	return out;
}

/* Feed parts [from, to) of node's roster number of e[0..n). */
static size_t
feed(const char *node, uint64_t number, const struct clroster_entry *e,
    size_t n, size_t part_max, size_t from, size_t to)
{
	struct clroster_part	*p;
	struct clw_msg		 cm;
	size_t			 nparts, i;

	p = clroster_encode(e, n, part_max, &nparts);
	ck_assert_ptr_nonnull(p);
	for (i = from; i < to && i < nparts; i++) {
		memset(&cm, 0, sizeof(cm));
		cm.kind = CLW_ROSTER;
		cm.node = node;
		cm.node_len = strlen(node);
		cm.uid = number;
		cm.text = p[i].text;
		cm.text_len = p[i].len;
		remotes_roster(rs, m, &cm, CTX);
	}
	clroster_parts_free(p, nparts);
	return nparts;
}

static struct clroster_entry
ent(uint64_t uid, const char *nick, const char *room)
{
	struct clroster_entry	e;

	e.uid = uid;
	e.nick = nick;
	e.nick_len = strlen(nick);
	e.room = room;
	e.room_len = strlen(room);
	return e;
}

/*
 * Long room names (50 code points of 3 bytes), so that the smallest
 * parts hold two entries each.
 */
#define E10	"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac" \
		"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac" \
		"\xe2\x82\xac\xe2\x82\xac"
#define P10	"\xe2\x82\xa4\xe2\x82\xa4\xe2\x82\xa4\xe2\x82\xa4" \
		"\xe2\x82\xa4\xe2\x82\xa4\xe2\x82\xa4\xe2\x82\xa4" \
		"\xe2\x82\xa4\xe2\x82\xa4"
#define LONG_A	"#" E10 E10 E10 E10 E10
#define LONG_B	"#" P10 P10 P10 P10 P10

static const struct clroster_entry	 first[] = {
	{ 1, "alice", 5, LONG_A, sizeof(LONG_A) - 1 },
	{ 1, "alice", 5, LONG_B, sizeof(LONG_B) - 1 },
	{ 2, "bob", 3, LONG_A, sizeof(LONG_A) - 1 },
	{ 3, "carol", 5, "#lobby", 6 },
	{ 4, "dan", 3, LONG_B, sizeof(LONG_B) - 1 },
	{ 6, "fay", 3, LONG_A, sizeof(LONG_A) - 1 },
	{ 7, "gus", 3, LONG_B, sizeof(LONG_B) - 1 },
};
#define NFIRST	(sizeof(first) / sizeof(first[0]))
#define FIRST_WANT	want(LONG_A " alice", LONG_A " bob", LONG_B " alice", \
			    LONG_B " dan", "#lobby carol", LONG_A " fay", \
			    LONG_B " gus", NULL)

/* In several parts, applied at the last one only. */
START_TEST(test_parts_gathered)
{
	size_t	nparts;

	nparts = feed("a", 1, first, NFIRST, CLROSTER_LINE_MIN, 0, 1);
	ck_assert_uint_ge(nparts, 3);
	ck_assert_str_eq(members(), "");
	feed("a", 1, first, NFIRST, CLROSTER_LINE_MIN, 1, nparts - 1);
	ck_assert_str_eq(members(), "");
	feed("a", 1, first, NFIRST, CLROSTER_LINE_MIN, nparts - 1, nparts);
	ck_assert_str_eq(members(), FIRST_WANT);
	ck_assert_uint_eq(remotes_count(rs), 6);
	/* The same again changes nothing. */
	feed("a", 2, first, NFIRST, CLROSTER_PART_MAX, 0, 1);
	ck_assert_str_eq(members(), FIRST_WANT);
	ck_assert_uint_eq(remotes_count(rs), 6);
}
END_TEST

/*
 * The next roster replaces the first: alice renamed and out of #b,
 * bob gone, carol in a second room, erin new; b's user untouched.
 */
START_TEST(test_replaces)
{
	const struct clroster_entry	next[] = {
		ent(1, "alicia", LONG_A), ent(3, "carol", "#lobby"),
		ent(3, "carol", LONG_B), ent(4, "dan", LONG_B),
		ent(5, "erin", "#new"),
	};
	const struct clroster_entry	other[] = { ent(1, "zed", LONG_A) };

	feed("a", 1, first, NFIRST, CLROSTER_PART_MAX, 0, 1);
	feed("b", 1, other, 1, CLROSTER_PART_MAX, 0, 1);
	feed("a", 2, next, 5, CLROSTER_PART_MAX, 0, 1);
	ck_assert_str_eq(members(), want("#lobby carol", "#new erin",
	    LONG_A " alicia", LONG_A " zed", LONG_B " carol", LONG_B " dan",
	    NULL));
	ck_assert_uint_eq(remotes_count(rs), 5);
	/* An empty roster: a has nobody left; b keeps zed. */
	feed("a", 3, NULL, 0, CLROSTER_PART_MAX, 0, 1);
	ck_assert_str_eq(members(), want(LONG_A " zed", NULL));
	ck_assert_uint_eq(remotes_count(rs), 1);
}
END_TEST

/* A roster not seen whole is not applied, whatever came of it. */
START_TEST(test_not_whole)
{
	const struct clroster_entry	one[] = { ent(9, "ivy", "#lobby") };
	size_t				nparts;

	/* Its first part left the stream: the rest is nothing. */
	nparts = feed("a", 1, first, NFIRST, CLROSTER_LINE_MIN, 1, 99);
	ck_assert_uint_ge(nparts, 3);
	ck_assert_str_eq(members(), "");
	/* A part skipped. */
	feed("a", 2, first, NFIRST, CLROSTER_LINE_MIN, 0, 1);
	feed("a", 2, first, NFIRST, CLROSTER_LINE_MIN, 2, 99);
	ck_assert_str_eq(members(), "");
	/* A part twice: as many parts as it has, but not whole. */
	feed("a", 7, first, NFIRST, CLROSTER_LINE_MIN, 0, 2);
	feed("a", 7, first, NFIRST, CLROSTER_LINE_MIN, 1, 2);
	ck_assert_str_eq(members(), "");
	feed("a", 7, first, NFIRST, CLROSTER_LINE_MIN, 2, 99);
	ck_assert_str_eq(members(), "");
	/* Two rosters' parts mixed: the later's first part restarts. */
	feed("a", 3, first, NFIRST, CLROSTER_LINE_MIN, 0, 2);
	feed("a", 4, first, NFIRST, CLROSTER_LINE_MIN, 2, 99);
	ck_assert_str_eq(members(), "");
	feed("a", 5, first, NFIRST, CLROSTER_LINE_MIN, 0, 1);
	feed("a", 6, one, 1, CLROSTER_LINE_MIN, 0, 1);
	ck_assert_str_eq(members(), "#lobby ivy");
	/* And the one left over from 5 does not complete later. */
	feed("a", 5, first, NFIRST, CLROSTER_LINE_MIN, 1, 99);
	ck_assert_str_eq(members(), "#lobby ivy");
	/* A roster left half way is freed with the table (ASan). */
	feed("b", 1, first, NFIRST, CLROSTER_LINE_MIN, 0, 1);
}
END_TEST

/* This node's own roster: its users are its own, not remote ones. */
START_TEST(test_self_ignored)
{
	feed("self", 1, first, NFIRST, CLROSTER_PART_MAX, 0, 1);
	ck_assert_str_eq(members(), "");
	ck_assert_uint_eq(remotes_count(rs), 0);
}
END_TEST

static Suite *
remote_suite(void)
{
	Suite	*s = suite_create("remote");
	TCase	*tc = tcase_create("roster");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parts_gathered);
	tcase_add_test(tc, test_replaces);
	tcase_add_test(tc, test_not_whole);
	tcase_add_test(tc, test_self_ignored);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(remote_suite());
}
