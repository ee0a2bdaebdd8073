/*
 * check_clwire.c - the cluster's stream messages: every kind round-trips
 * byte for byte, text may hold newlines, every malformed or hostile
 * field is refused, and room subjects and nick keys are NATS-safe and
 * case-insensitive; a roster (clroster.h) splits into bounded parts that
 * parse back to the same entries, and every malformed part is refused.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clroster.h"
#include "clwire.h"
#include "event.h"
#include "proto.h"
#include "check_run.h"

static struct clw_msg
mk(enum clw_kind kind, const char *node, uint64_t uid, const char *room,
    const char *nick, const char *text)
{
	struct clw_msg	m;

	memset(&m, 0, sizeof(m));
	m.kind = kind;
	m.uid = uid;
	m.time_ms = 1764633600123ULL;
	m.node = node;
	m.node_len = strlen(node);
	m.room = room;
	m.room_len = strlen(room);
	m.nick = nick;
	m.nick_len = strlen(nick);
	m.text = text;
	m.text_len = strlen(text);
	return m;
}

static void
round_trip(const struct clw_msg *m)
{
	char		buf[2048];
	size_t		len;
	struct clw_msg	d;

	len = clw_encode(m, buf, sizeof(buf));
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(clw_decode(buf, len, &d), 0);
	ck_assert_int_eq(d.kind, m->kind);
	ck_assert_uint_eq(d.uid, m->uid);
	ck_assert_uint_eq(d.time_ms, m->time_ms);
	ck_assert_uint_eq(d.node_len, m->node_len);
	ck_assert(memcmp(d.node, m->node, d.node_len) == 0);
	ck_assert_uint_eq(d.room_len, m->room_len);
	ck_assert(memcmp(d.room, m->room, d.room_len) == 0);
	ck_assert_uint_eq(d.nick_len, m->nick_len);
	ck_assert(memcmp(d.nick, m->nick, d.nick_len) == 0);
	ck_assert_uint_eq(d.text_len, m->text_len);
	ck_assert(memcmp(d.text, m->text, d.text_len) == 0);
}

START_TEST(test_exact_bytes)
{
	struct clw_msg	m = mk(CLW_SAY, "node-a", 42, "#lobby", "alice",
			    "hello there");
	char		buf[256];
	size_t		len;
	const char	want[] = "chatd1 say node-a 42 1764633600123\n"
			    "#lobby\nalice\nhello there";

	len = clw_encode(&m, buf, sizeof(buf));
	ck_assert_uint_eq(len, sizeof(want) - 1);
	ck_assert(memcmp(buf, want, len) == 0);
}
END_TEST

START_TEST(test_every_kind)
{
	struct clw_msg	m;

	m = mk(CLW_SAY, "a", 1, "#lobby", "alice", "hi");
	round_trip(&m);
	m = mk(CLW_ME, "b_2", 18446744073709551615ULL, "#x", "bob", "waves");
	round_trip(&m);
	m = mk(CLW_JOIN, "c", 3, "#caf\xc3\xa9", "\xc3\xa9mile", "");
	round_trip(&m);
	m = mk(CLW_PART, "c", 3, "#r", "carol", "bye, all");
	round_trip(&m);
	m = mk(CLW_QUIT, "c", 3, "#r", "carol", "");
	round_trip(&m);
	m = mk(CLW_NICK, "c", 3, "#r", "carol", "caroline");
	round_trip(&m);
	m = mk(CLW_TOPIC, "c", 3, "#r", "carol", "");
	round_trip(&m);
	m = mk(CLW_NODEDOWN, "b", 0, "", "", "node-c");
	round_trip(&m);
	m = mk(CLW_PRIVMSG, "a", 7, "node-b", "alice", "bob hi there");
	round_trip(&m);
	m = mk(CLW_NOTICE, "a", 7, "b", "alice", "bob ");	/* no words */
	round_trip(&m);
	m = mk(CLW_HELLO, "b", 0, "", "", "");
	round_trip(&m);
	m = mk(CLW_ROSTER, "b", 9, "", "", "0 1\n3 carol #r #caf\xc3\xa9\n");
	round_trip(&m);
	m = mk(CLW_ROSTER, "b", 10, "", "", "0 1\n");
	round_trip(&m);
	ck_assert_str_eq(clw_kind_name(CLW_HELLO), "hello");
	ck_assert_str_eq(clw_kind_name(CLW_ROSTER), "roster");
	ck_assert_str_eq(clw_kind_name(CLW_NODEDOWN), "nodedown");
	ck_assert_str_eq(clw_kind_name(CLW_PRIVMSG), "privmsg");
	ck_assert_str_eq(clw_kind_name(CLW_NOTICE), "notice");
	m = mk(CLW_KICK, "a", 7, "#r", "alice", "bob ");	/* no reason */
	round_trip(&m);
	m = mk(CLW_KICK, "a", 7, "#r", "alice", "bob go away");
	round_trip(&m);
	ck_assert_str_eq(clw_kind_name(CLW_KICK), "kick");
	m = mk(CLW_MODE, "a", 7, "#r", "alice", "+t");
	round_trip(&m);
	m = mk(CLW_MODE, "a", 7, "#r", "alice", "-v bob");
	round_trip(&m);
	ck_assert_str_eq(clw_kind_name(CLW_MODE), "mode");
	ck_assert_ptr_null(clw_kind_name(CLW_KIND_COUNT));
}
END_TEST

/* A node's end has no room and no nick: NULL and empty, as cluster.c
 * leaves them (memcpy from NULL, even of 0 bytes, is undefined). */
START_TEST(test_null_empty_fields)
{
	struct clw_msg	m, d;
	char		buf[256];
	size_t		len;

	memset(&m, 0, sizeof(m));
	m.kind = CLW_NODEDOWN;
	m.node = "a";
	m.node_len = 1;
	m.time_ms = 7;
	m.text = "b";
	m.text_len = 1;
	len = clw_encode(&m, buf, sizeof(buf));
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(clw_decode(buf, len, &d), 0);
	ck_assert_int_eq(d.kind, CLW_NODEDOWN);
	ck_assert_uint_eq(d.room_len, 0);
	ck_assert_uint_eq(d.nick_len, 0);
	ck_assert_uint_eq(d.text_len, 1);
	ck_assert_int_eq(d.text[0], 'b');
}
END_TEST

/* Text is last, so a newline in it cannot shift the other fields. */
START_TEST(test_text_with_newlines)
{
	struct clw_msg	m = mk(CLW_SAY, "a", 1, "#lobby", "alice",
			    "one\ntwo\n#evil\nmallory");

	round_trip(&m);
}
END_TEST

START_TEST(test_encode_refuses)
{
	struct clw_msg	m;
	char		buf[512];

	m = mk(CLW_SAY, "a.b", 1, "#lobby", "alice", "x");	/* subject dot */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_SAY, "", 1, "#lobby", "alice", "x");
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_SAY, "a", 1, "#lob\nby", "alice", "x");
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_SAY, "a", 1, "lobby", "alice", "x");		/* no '#' */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_SAY, "a", 1, "#lobby", "", "x");		/* no nick */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_SAY, "a", 1, "#lobby", "alice", "\xc3(");	/* bad UTF-8 */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_NICK, "a", 1, "#lobby", "alice", "");	/* no new nick */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_NODEDOWN, "a", 0, "#lobby", "", "b");	/* has a room */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_NODEDOWN, "a", 0, "", "", "b c");		/* bad node */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m.kind = CLW_KIND_COUNT;
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_HELLO, "a", 0, "#lobby", "", "");		/* has a room */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_HELLO, "a", 0, "", "alice", "");		/* has a nick */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_HELLO, "a", 0, "", "", "x");			/* has text */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_ROSTER, "a", 1, "#r", "", "0 1\n");		/* has a room */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_ROSTER, "a", 1, "", "alice", "0 1\n");	/* has a nick */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_ROSTER, "a", 1, "", "", "1 1\n");		/* bad roster */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	/* Too small a buffer, at every size short of the whole. */
	m = mk(CLW_SAY, "a", 1, "#lobby", "alice", "hello");
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 47);
	for (size_t cap = 0; cap < 47; cap++)
		ck_assert_uint_eq(clw_encode(&m, buf, cap), 0);
}
END_TEST

static int	decode_str(const char *);

/* A private line names a node, a recipient's id and nick, and a sender. */
/* Decimals as clw_encode() writes them, and nothing else. */
START_TEST(test_parse_u64)
{
	uint64_t	v = 7;

	ck_assert_int_eq(clw_parse_u64("0", 1, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(clw_parse_u64("18446744073709551615", 20, &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(clw_parse_u64("18446744073709551616", 20, &v), -1);
	ck_assert_int_eq(clw_parse_u64("007", 3, &v), -1);
	ck_assert_int_eq(clw_parse_u64("", 0, &v), -1);
	ck_assert_int_eq(clw_parse_u64("-1", 2, &v), -1);
	ck_assert_int_eq(clw_parse_u64("12a", 3, &v), -1);
	ck_assert_int_eq(clw_parse_u64("123456789012345678901", 21, &v), -1);
	ck_assert_uint_eq(v, UINT64_MAX);	/* untouched on failure */
}
END_TEST

START_TEST(test_private)
{
	struct clw_msg	 m, d;
	char		 buf[512];
	const char	*to, *text;
	size_t		 len, to_len, text_len;

	m = mk(CLW_PRIVMSG, "a", 7, "b", "alice", "B\xc3\xb8" "b hi  there\n");
	len = clw_encode(&m, buf, sizeof(buf));
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(clw_decode(buf, len, &d), 0);
	clw_split_target(&d, &to, &to_len, &text, &text_len);
	ck_assert_uint_eq(to_len, 4);
	ck_assert(memcmp(to, "B\xc3\xb8" "b", 4) == 0);
	ck_assert_uint_eq(text_len, strlen("hi  there\n"));
	ck_assert(memcmp(text, "hi  there\n", text_len) == 0);

	m = mk(CLW_PRIVMSG, "a", 7, "#lobby", "alice", "bob hi");	/* room */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_PRIVMSG, "a", 7, "", "alice", "bob hi");	/* no node */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_NOTICE, "a", 0, "b", "alice", "bob hi");	/* no uid */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_PRIVMSG, "a", 7, "b", "", "bob hi");		/* no sender */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_PRIVMSG, "a", 7, "b", "alice", "bob");	/* no space */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_PRIVMSG, "a", 7, "b", "alice", " hi");	/* no recipient */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_PRIVMSG, "a", 7, "b", "alice", "b\nob hi");	/* newline */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	ck_assert_int_eq(decode_str("chatd1 privmsg a 7 1\nb\nalice\nbob"),
	    -1);
	ck_assert_int_eq(decode_str("chatd1 notice a 7 1\nb\nalice\nbob x"),
	    0);

	/* A kick names a room, its operator and the one put out. */
	m = mk(CLW_KICK, "a", 7, "#r", "alice", "bob no spam");
	len = clw_encode(&m, buf, sizeof(buf));
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(clw_decode(buf, len, &d), 0);
	clw_split_target(&d, &to, &to_len, &text, &text_len);
	ck_assert_uint_eq(to_len, 3);
	ck_assert(memcmp(to, "bob", 3) == 0);
	ck_assert_uint_eq(text_len, 7);
	ck_assert(memcmp(text, "no spam", 7) == 0);
	m = mk(CLW_KICK, "a", 7, "b", "alice", "bob x");	/* no room */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_KICK, "a", 7, "#r", "alice", "bob");		/* no space */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_KICK, "a", 7, "#r", "", "bob x");		/* no operator */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_KICK, "a", 7, "#r", "alice", " x");		/* no one */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);

	/* A mode change is one of four letters, a nick with o and v. */
	ck_assert(clw_mode_ok("+t", 2));
	ck_assert(clw_mode_ok("-s", 2));
	ck_assert(clw_mode_ok("+o bob", 6));
	ck_assert(clw_mode_ok("-v b\xc3\xb8", 6));
	ck_assert(!clw_mode_ok("", 0));
	ck_assert(!clw_mode_ok("t", 1));
	ck_assert(!clw_mode_ok("+", 1));
	ck_assert(!clw_mode_ok("+x", 2));
	ck_assert(!clw_mode_ok("+t bob", 6));
	ck_assert(!clw_mode_ok("+o", 2));
	ck_assert(!clw_mode_ok("+o ", 3));
	ck_assert(!clw_mode_ok("+obob", 5));
	ck_assert(!clw_mode_ok("+o bob carol", 12));
	ck_assert(!clw_mode_ok("+o b\nob", 7));
	m = mk(CLW_MODE, "a", 7, "#r", "alice", "+q");
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
	m = mk(CLW_MODE, "a", 7, "b", "alice", "+t");		/* no room */
	ck_assert_uint_eq(clw_encode(&m, buf, sizeof(buf)), 0);
}
END_TEST

static int
decode_str(const char *s)
{
	struct clw_msg	m;

	return clw_decode(s, strlen(s), &m);
}

START_TEST(test_decode_refuses)
{
	ck_assert_int_eq(decode_str("chatd1 say a 1 2\n#r\nn\nt"), 0);
	ck_assert_int_eq(decode_str(""), -1);
	ck_assert_int_eq(decode_str("chatd2 say a 1 2\n#r\nn\nt"), -1);
	ck_assert_int_eq(decode_str("chatd1 shout a 1 2\n#r\nn\nt"), -1);
	ck_assert_int_eq(decode_str("chatd1 say a -1 2\n#r\nn\nt"), -1);
	ck_assert_int_eq(decode_str("chatd1 say a 1 x\n#r\nn\nt"), -1);
	ck_assert_int_eq(decode_str(
	    "chatd1 say a 18446744073709551616 2\n#r\nn\nt"), -1);
	ck_assert_int_eq(decode_str("chatd1 say a 1 2\n#r\nn"), -1);
	ck_assert_int_eq(decode_str("chatd1 say a 1 2\n#r"), -1);
	ck_assert_int_eq(decode_str("chatd1 say a 1 2"), -1);
	ck_assert_int_eq(decode_str("chatd1 say a*b 1 2\n#r\nn\nt"), -1);
	ck_assert_int_eq(decode_str("chatd1 say a 1 2\nr\nn\nt"), -1);
	ck_assert_int_eq(decode_str("chatd1 say a 1 2\n#r\nn\n\xff"), -1);
	ck_assert_int_eq(decode_str("chatd1 nodedown a 0 2\n\n\nb"), 0);
	ck_assert_int_eq(decode_str("chatd1 nodedown a 0 2\n\n\n"), -1);
	ck_assert_int_eq(decode_str("chatd1 hello a 0 2\n\n\n"), 0);
	ck_assert_int_eq(decode_str("chatd1 hello a 0 2\n#r\n\n"), -1);
	ck_assert_int_eq(decode_str("chatd1 roster a 4 2\n\n\n0 1\n"), 0);
	ck_assert_int_eq(decode_str(
	    "chatd1 roster a 4 2\n\n\n0 1\n5 bob #r\n"), 0);
	ck_assert_int_eq(decode_str(
	    "chatd1 roster a 4 2\n\n\n0 1\n5 bob\n"), -1);
	ck_assert_int_eq(decode_str("chatd1 roster a 4 2\n\n\n"), -1);
}
END_TEST

/* Every prefix of a valid message is refused or decodes to less. */
START_TEST(test_truncations)
{
	const char	full[] = "chatd1 part node-a 7 99\n#room\nbob\nbye";
	struct clw_msg	m;
	size_t		len;

	for (len = 0; len < sizeof(full) - 1; len++) {
		if (clw_decode(full, len, &m) == 0)
			ck_assert_uint_lt(m.text_len, 3);
	}
}
END_TEST

START_TEST(test_subjects_and_keys)
{
	char	a[512], b[512];
	size_t	len, i;

	len = clw_room_subject("chatd.room", "#Lobby", 6, a, sizeof(a));
	ck_assert_uint_gt(len, 0);
	ck_assert_str_eq(a, "chatd.room.236c6f626279");
	ck_assert_uint_gt(clw_room_subject("chatd.room", "#lobby", 6, b,
	    sizeof(b)), 0);
	ck_assert_str_eq(a, b);
	/* A dot, a wildcard, a space-free but non-ASCII name: all hex. */
	len = clw_room_subject("p", "#a.b*>\xc3\xa9", 9, a, sizeof(a));
	ck_assert_uint_eq(len, 2 + 18);
	for (i = 2; i < len; i++)
		ck_assert(strchr("0123456789abcdef", a[i]) != NULL);
	/* Too small, and empty. */
	ck_assert_uint_eq(clw_room_subject("p", "#ab", 3, a, 8), 0);
	ck_assert_uint_eq(clw_room_subject("p", "#ab", 3, a, 9), 8);
	ck_assert_uint_eq(clw_room_subject("p", "", 0, a, sizeof(a)), 0);

	ck_assert_uint_gt(clw_nick_key("Alice", 5, a, sizeof(a)), 0);
	ck_assert_uint_gt(clw_nick_key("aLICE", 5, b, sizeof(b)), 0);
	ck_assert_str_eq(a, b);
	ck_assert_str_eq(a, "616c696365");
	ck_assert_uint_gt(clw_nick_key("alicf", 5, b, sizeof(b)), 0);
	ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(test_node_names)
{
	char	longest[CLW_NODE_MAX + 2];

	ck_assert(clw_node_name_ok("a", 1));
	ck_assert(clw_node_name_ok("node_B-3", 8));
	ck_assert(!clw_node_name_ok("", 0));
	ck_assert(!clw_node_name_ok("a.b", 3));
	ck_assert(!clw_node_name_ok("a b", 3));
	ck_assert(!clw_node_name_ok("a>", 2));
	memset(longest, 'x', sizeof(longest));
	ck_assert(clw_node_name_ok(longest, CLW_NODE_MAX));
	ck_assert(!clw_node_name_ok(longest, CLW_NODE_MAX + 1));
}
END_TEST

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

/* What a parse gives, gathered. */
struct got {
	struct clroster_entry	e[4096];
	char			names[4096][2][ROOM_NAME_MAX_BYTES + 1];
	size_t			n;
};

static void
gather(void *arg, const struct clroster_entry *e)
{
	struct got	*g = arg;

	ck_assert_uint_lt(g->n, 4096);
	memcpy(g->names[g->n][0], e->nick, e->nick_len);
	g->names[g->n][0][e->nick_len] = '\0';
	memcpy(g->names[g->n][1], e->room, e->room_len);
	g->names[g->n][1][e->room_len] = '\0';
	g->e[g->n] = ent(e->uid, g->names[g->n][0], g->names[g->n][1]);
	g->n++;
}

/* Consecutive rooms of one user share a line; the bytes are exact. */
START_TEST(test_roster_exact)
{
	const struct clroster_entry	e[] = {
		ent(1, "alice", "#a"), ent(1, "alice", "#b"),
		ent(2, "bob", "#a"), ent(1, "alice", "#c"),
		ent(2, "bobby", "#d"),
	};
	const char			want[] = "0 1\n"
					    "1 alice #a #b\n2 bob #a\n"
					    "1 alice #c\n2 bobby #d\n";
	struct clroster_part		*p;
	size_t				n;

	p = clroster_encode(e, 5, CLROSTER_PART_MAX, &n);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(p[0].len, sizeof(want) - 1);
	ck_assert(memcmp(p[0].text, want, p[0].len) == 0);
	clroster_parts_free(p, n);
}
END_TEST

/* Nobody in a room is still a roster: one part, no lines. */
START_TEST(test_roster_empty)
{
	struct clroster_head	 head;
	struct clroster_part	*p;
	struct got		*g = calloc(1, sizeof(*g));
	size_t			 n;

	p = clroster_encode(NULL, 0, CLROSTER_LINE_MIN, &n);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(p[0].len, 4);
	ck_assert(memcmp(p[0].text, "0 1\n", 4) == 0);
	ck_assert_int_eq(clroster_parse(p[0].text, p[0].len, &head, gather,
	    g), 0);
	ck_assert_uint_eq(head.part, 0);
	ck_assert_uint_eq(head.parts, 1);
	ck_assert_uint_eq(g->n, 0);
	clroster_parts_free(p, n);
	clroster_parts_free(NULL, 0);
	free(g);
}
END_TEST

/*
 * Many users, one of them in many long-named rooms, over the smallest
 * parts: each part within bounds and numbered, and their entries, in
 * order, are the ones given.
 */
START_TEST(test_roster_split)
{
	static char			 rooms[300][ROOM_NAME_MAX_BYTES + 1];
	static char			 nicks[300][16];
	struct clroster_entry		 e[600];
	struct clroster_head		 head;
	struct clroster_part		*p;
	struct got			*g = calloc(1, sizeof(*g));
	size_t				 n, i, k = 0;

	for (i = 0; i < 300; i++) {
		/* Names of every length up to the longest. */
		memset(rooms[i], 'r', ROOM_NAME_MAX_BYTES);
		rooms[i][0] = '#';
		snprintf(rooms[i] + 1, 8, "%zu", i);
		rooms[i][1 + strlen(rooms[i] + 1)] = 'r';
		rooms[i][2 + i % (ROOM_NAME_MAX_BYTES - 2)] = '\0';
		snprintf(nicks[i], sizeof(nicks[i]), "u%zu", i);
	}
	for (i = 0; i < 300; i++)		/* one user, 300 rooms */
		e[k++] = ent(7, "many", rooms[i]);
	for (i = 0; i < 300; i++)		/* 300 users, a room each */
		e[k++] = ent(100 + i, nicks[i], rooms[i % 3]);
	p = clroster_encode(e, k, CLROSTER_LINE_MIN, &n);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_gt(n, 10);
	for (i = 0; i < n; i++) {
		ck_assert_uint_le(p[i].len, CLROSTER_LINE_MIN);
		ck_assert_int_eq(clroster_parse(p[i].text, p[i].len, &head,
		    gather, g), 0);
		ck_assert_uint_eq(head.part, i);
		ck_assert_uint_eq(head.parts, n);
	}
	ck_assert_uint_eq(g->n, k);
	for (i = 0; i < k; i++) {
		ck_assert_uint_eq(g->e[i].uid, e[i].uid);
		ck_assert_str_eq(g->names[i][0], e[i].nick);
		ck_assert_str_eq(g->names[i][1], e[i].room);
	}
	clroster_parts_free(p, n);
	free(g);
}
END_TEST

START_TEST(test_roster_encode_refuses)
{
	char				 nick[NICK_MAX_BYTES + 2];
	char				 room[ROOM_NAME_MAX_BYTES + 2];
	struct clroster_entry		 e;
	size_t				 n = 99;

	memset(nick, 'n', sizeof(nick) - 1);
	nick[sizeof(nick) - 1] = '\0';
	memset(room, 'r', sizeof(room) - 1);
	room[0] = '#';
	room[sizeof(room) - 1] = '\0';
	e = ent(1, "alice", "#a");
	errno = 0;
	ck_assert_ptr_null(clroster_encode(&e, 1, CLROSTER_LINE_MIN - 1, &n));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(n, 0);
	{
		const struct clroster_entry	bad[] = {
			ent(1, "", "#a"), ent(1, "al ice", "#a"),
			ent(1, "al\nice", "#a"), ent(1, "\xc3(", "#a"),
			ent(1, nick, "#a"), ent(1, "alice", "a"),
			ent(1, "alice", "#"), ent(1, "alice", "#a b"),
			ent(1, "alice", room), ent(1, "alice", "#\xff"),
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
			const struct clroster_entry	two[2] = { e, bad[i] };

			errno = 0;
			ck_assert_msg(clroster_encode(two, 2,
			    CLROSTER_PART_MAX, &n) == NULL, "bad %zu", i);
			ck_assert_int_eq(errno, EINVAL);
		}
	}
	/* The longest of each fits in the smallest part. */
	nick[NICK_MAX_BYTES] = '\0';
	room[ROOM_NAME_MAX_BYTES] = '\0';
	e = ent(UINT64_MAX, nick, room);
	{
		struct clroster_part	*p;

		p = clroster_encode(&e, 1, CLROSTER_LINE_MIN, &n);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq(n, 1);
		ck_assert_int_eq(clroster_parse(p[0].text, p[0].len, NULL,
		    NULL, NULL), 0);
		clroster_parts_free(p, n);
	}
}
END_TEST

/* More parts than a roster may have: refused before any is made. */
START_TEST(test_roster_too_many_parts)
{
	static char		 room[ROOM_NAME_MAX_BYTES + 1];
	size_t			 count = 2 * CLROSTER_PARTS_MAX + 2, i, n = 99;
	struct clroster_entry	*e = calloc(count, sizeof(*e));

	ck_assert_ptr_nonnull(e);
	memset(room, 'r', ROOM_NAME_MAX_BYTES);
	room[0] = '#';
	/* Two such lines to the smallest part. */
	for (i = 0; i < count; i++)
		e[i] = ent(i, "n", room);
	errno = 0;
	ck_assert_ptr_null(clroster_encode(e, count, CLROSTER_LINE_MIN, &n));
	ck_assert_int_eq(errno, E2BIG);
	ck_assert_uint_eq(n, 0);
	/* One fewer part is made. */
	{
		struct clroster_part	*p;

		p = clroster_encode(e, count - 2, CLROSTER_LINE_MIN, &n);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq(n, CLROSTER_PARTS_MAX);
		clroster_parts_free(p, n);
	}
	free(e);
}
END_TEST

static int
parse_str(const char *s, size_t *calls)
{
	struct got	*g = calloc(1, sizeof(*g));
	int		 rc;

	rc = clroster_parse(s, strlen(s), NULL, gather, g);
	*calls = g->n;
	free(g);
	return rc;
}

START_TEST(test_roster_parse_refuses)
{
	static const char *const bad[] = {
		"", "0", "0 1", "0 1 \n", "1 1\n", "0 0\n", "01 2\n",
		"0 100001\n", "x 1\n", "-1 2\n", "0 1\n\n",
		"0 1\nx alice #a\n", "0 1\n1 alice\n", "0 1\n1 alice #a",
		"0 1\n1  alice #a\n", "0 1\n1 alice a\n",
		"0 1\n1 alice #\n", "0 1\n1 alice #a  #b\n",
		"0 1\n1 alice #a \n", "0 1\n1\n", "0 1\n1 \xc3( #a\n",
		"0 1\n1 alice #\xff\n", "0 1\n01 alice #a\n",
		"0 1\n18446744073709551616 alice #a\n",
		/* A good line, then a bad one: fn hears neither. */
		"0 1\n1 alice #a\n2 bob\n",
	};
	char		 nick[NICK_MAX_BYTES + 32];
	char		 room[ROOM_NAME_MAX_BYTES + 32];
	char		 buf[1024];
	size_t		 i, calls;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		ck_assert_msg(parse_str(bad[i], &calls) == -1, "bad %zu", i);
		ck_assert_uint_eq(calls, 0);
	}
	ck_assert_int_eq(parse_str("0 100000\n", &calls), 0);
	ck_assert_int_eq(parse_str("99999 100000\n", &calls), 0);
	ck_assert_int_eq(parse_str(
	    "0 1\n18446744073709551615 alice #a #b\n0 b #c\n", &calls), 0);
	ck_assert_uint_eq(calls, 3);
	/* Names one byte past the longest. */
	memset(nick, 'n', NICK_MAX_BYTES + 1);
	nick[NICK_MAX_BYTES + 1] = '\0';
	snprintf(buf, sizeof(buf), "0 1\n1 %s #a\n", nick);
	ck_assert_int_eq(parse_str(buf, &calls), -1);
	nick[NICK_MAX_BYTES] = '\0';
	snprintf(buf, sizeof(buf), "0 1\n1 %s #a\n", nick);
	ck_assert_int_eq(parse_str(buf, &calls), 0);
	memset(room, 'r', ROOM_NAME_MAX_BYTES + 1);
	room[0] = '#';
	room[ROOM_NAME_MAX_BYTES + 1] = '\0';
	snprintf(buf, sizeof(buf), "0 1\n1 a %s\n", room);
	ck_assert_int_eq(parse_str(buf, &calls), -1);
	room[ROOM_NAME_MAX_BYTES] = '\0';
	snprintf(buf, sizeof(buf), "0 1\n1 a %s\n", room);
	ck_assert_int_eq(parse_str(buf, &calls), 0);
}
END_TEST

static Suite *
clwire_suite(void)
{
	Suite	*s = suite_create("clwire");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_exact_bytes);
	tcase_add_test(tc, test_every_kind);
	tcase_add_test(tc, test_null_empty_fields);
	tcase_add_test(tc, test_text_with_newlines);
	tcase_add_test(tc, test_encode_refuses);
	tcase_add_test(tc, test_decode_refuses);
	tcase_add_test(tc, test_truncations);
	tcase_add_test(tc, test_subjects_and_keys);
	tcase_add_test(tc, test_node_names);
	tcase_add_test(tc, test_private);
	tcase_add_test(tc, test_parse_u64);
	tcase_add_test(tc, test_roster_exact);
	tcase_add_test(tc, test_roster_empty);
	tcase_add_test(tc, test_roster_split);
	tcase_add_test(tc, test_roster_encode_refuses);
	tcase_add_test(tc, test_roster_too_many_parts);
	tcase_add_test(tc, test_roster_parse_refuses);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(clwire_suite());
}
