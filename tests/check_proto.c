/*
 * check_proto.c - unit tests for the wire protocol: parsing, nickname
 * and room name rules and reply formatting.
 */

#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "utf8.h"
#include "check_run.h"

#define FFFD	"\xef\xbf\xbd"

static struct command
parse(const char *line)
{
	struct command	cmd;

	/* Poison, so a field the parser forgets to set shows. */
	memset(&cmd, 0xa5, sizeof cmd);
	proto_parse(line, strlen(line), &cmd);
	return cmd;
}

/* Assert that (p, len) holds exactly want. */
#define ck_assert_field(p, len, want) do {				\
	const char	*_p = (p);					\
	size_t		 _len = (len);				\
	const char	*_want = (want);				\
									\
	ck_assert_msg(_len == strlen(_want) &&				\
	    (_len == 0 || memcmp(_p, _want, _len) == 0),		\
	    "got \"%.*s\" (%zu bytes), want \"%s\"", (int)_len,		\
	    _len == 0 ? "" : _p, _len, _want);				\
} while (0)

/* Repeat unit n times into buf, NUL-terminated; returns the length. */
static size_t
repeat(char *buf, size_t size, const char *unit, size_t n)
{
	size_t	ulen = strlen(unit), i;

	ck_assert_uint_lt(ulen * n, size);
	for (i = 0; i < n; i++)
		memcpy(buf + i * ulen, unit, ulen);
	buf[ulen * n] = '\0';
	return ulen * n;
}

START_TEST(test_parse_say)
{
	static const char	 slash[] = "//x";
	struct command		 c;

	c = parse("hello world");
	ck_assert_int_eq(c.kind, CMD_SAY);
	ck_assert_field(c.text, c.text_len, "hello world");

	c = parse("  inner   spaces  kept ");
	ck_assert_int_eq(c.kind, CMD_SAY);
	ck_assert_field(c.text, c.text_len, "  inner   spaces  kept ");

	c = parse("tab\there");
	ck_assert_int_eq(c.kind, CMD_SAY);
	ck_assert_field(c.text, c.text_len, "tab\there");

	/* A command word later in the line is just text. */
	c = parse("see /help");
	ck_assert_int_eq(c.kind, CMD_SAY);
	ck_assert_field(c.text, c.text_len, "see /help");

	proto_parse(slash, strlen(slash), &c);
	ck_assert_int_eq(c.kind, CMD_SAY);
	ck_assert_field(c.text, c.text_len, "/x");
	ck_assert_ptr_eq(c.text, slash + 1);

	c = parse("//");
	ck_assert_int_eq(c.kind, CMD_SAY);
	ck_assert_field(c.text, c.text_len, "/");

	c = parse("//nick bob");
	ck_assert_int_eq(c.kind, CMD_SAY);
	ck_assert_field(c.text, c.text_len, "/nick bob");
}
END_TEST

START_TEST(test_parse_blank)
{
	static const char *const	 blank[] = {
		"", " ", "\t", " \t  \t "
	};
	size_t				 i;

	for (i = 0; i < sizeof blank / sizeof blank[0]; i++) {
		ck_assert_msg(parse(blank[i]).kind == CMD_NONE,
		    "\"%s\" is not CMD_NONE", blank[i]);
		ck_assert(proto_is_blank(blank[i], strlen(blank[i])));
	}
	ck_assert(!proto_is_blank(" x ", 3));
	ck_assert(!proto_is_blank("/", 1));
	ck_assert(!proto_is_blank("\x0b", 1));	/* only space and TAB */
	ck_assert(!proto_is_blank(" \x00", 2));
	ck_assert_int_eq(parse(" . ").kind, CMD_SAY);
}
END_TEST

START_TEST(test_parse_nick)
{
	struct command	c;

	c = parse("/nick bob");
	ck_assert_int_eq(c.kind, CMD_NICK);
	ck_assert_field(c.name, c.name_len, "nick");
	ck_assert_field(c.target, c.target_len, "bob");

	c = parse("/NICK Bob");
	ck_assert_int_eq(c.kind, CMD_NICK);
	ck_assert_field(c.name, c.name_len, "NICK");
	ck_assert_field(c.target, c.target_len, "Bob");

	c = parse("/nIcK\t \tbob \t ");
	ck_assert_int_eq(c.kind, CMD_NICK);
	ck_assert_field(c.target, c.target_len, "bob");

	/* Inner blanks stay, so nick_check() refuses the whole name. */
	c = parse("/nick a b ");
	ck_assert_int_eq(c.kind, CMD_NICK);
	ck_assert_field(c.target, c.target_len, "a b");
	ck_assert_ptr_nonnull(nick_check(c.target, c.target_len));
}
END_TEST

START_TEST(test_parse_who_help)
{
	ck_assert_int_eq(parse("/who").kind, CMD_WHO);
	ck_assert_int_eq(parse("/Who").kind, CMD_WHO);
	ck_assert_int_eq(parse("/WHO is there").kind, CMD_WHO);
	ck_assert_int_eq(parse("/who\t").kind, CMD_WHO);
	ck_assert_int_eq(parse("/help").kind, CMD_HELP);
	ck_assert_int_eq(parse("/HeLp me please").kind, CMD_HELP);
	ck_assert_int_eq(parse("/stats").kind, CMD_STATS);
	ck_assert_int_eq(parse("/STATS now").kind, CMD_STATS);
	ck_assert_int_eq(parse("/statsx").kind, CMD_UNKNOWN);
	/* Only a separator ends the command word. */
	ck_assert_int_eq(parse("/whoami").kind, CMD_UNKNOWN);
	ck_assert_int_eq(parse("/who.").kind, CMD_UNKNOWN);
}
END_TEST

START_TEST(test_parse_me)
{
	struct command	c;

	c = parse("/me waves");
	ck_assert_int_eq(c.kind, CMD_ME);
	ck_assert_field(c.text, c.text_len, "waves");

	c = parse("/ME \t waves  both   hands ");
	ck_assert_int_eq(c.kind, CMD_ME);
	ck_assert_field(c.text, c.text_len, "waves  both   hands ");

	c = parse("/Me\tx\ty");
	ck_assert_int_eq(c.kind, CMD_ME);
	ck_assert_field(c.text, c.text_len, "x\ty");
}
END_TEST

START_TEST(test_parse_msg)
{
	struct command	c;

	c = parse("/msg bob psst  a secret");
	ck_assert_int_eq(c.kind, CMD_MSG);
	ck_assert_field(c.name, c.name_len, "msg");
	ck_assert_field(c.target, c.target_len, "bob");
	ck_assert_field(c.text, c.text_len, "psst  a secret");

	c = parse("/MSG\tbob\t \thi\tthere ");
	ck_assert_int_eq(c.kind, CMD_MSG);
	ck_assert_field(c.target, c.target_len, "bob");
	ck_assert_field(c.text, c.text_len, "hi\tthere ");

	c = parse("/Msg  \xc3\xa9lodie  \xc3\xa7" "a va");
	ck_assert_int_eq(c.kind, CMD_MSG);
	ck_assert_field(c.target, c.target_len, "\xc3\xa9lodie");
	ck_assert_field(c.text, c.text_len, "\xc3\xa7" "a va");
}
END_TEST

START_TEST(test_parse_quit)
{
	struct command	c;

	c = parse("/quit");
	ck_assert_int_eq(c.kind, CMD_QUIT);
	ck_assert_uint_eq(c.text_len, 0);

	c = parse("/quit \t ");
	ck_assert_int_eq(c.kind, CMD_QUIT);
	ck_assert_uint_eq(c.text_len, 0);

	c = parse("/QUIT  gone  fishing");
	ck_assert_int_eq(c.kind, CMD_QUIT);
	ck_assert_field(c.text, c.text_len, "gone  fishing");
}
END_TEST

START_TEST(test_parse_usage)
{
	static const struct {
		const char	*line;
		const char	*name;
		const char	*usage;
	} t[] = {
		{ "/nick",		"nick",	"/nick NAME" },
		{ "/nick   ",		"nick",	"/nick NAME" },
		{ "/NICK\t",		"NICK",	"/nick NAME" },
		{ "/me",		"me",	"/me TEXT" },
		{ "/Me \t ",		"Me",	"/me TEXT" },
		{ "/msg",		"msg",	"/msg NICK TEXT" },
		{ "/msg  ",		"msg",	"/msg NICK TEXT" },
		{ "/msg bob",		"msg",	"/msg NICK TEXT" },
		{ "/MSG bob \t ",	"MSG",	"/msg NICK TEXT" },
		{ "/join",		"join",	"/join #room" },
		{ "/JOIN \t ",		"JOIN",	"/join #room" },
		{ "/history 0",		"history", "/history [N]" },
	};
	struct command	c;
	const char	*usage;
	size_t		i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		c = parse(t[i].line);
		ck_assert_msg(c.kind == CMD_USAGE, "\"%s\": kind %d",
		    t[i].line, c.kind);
		ck_assert_field(c.name, c.name_len, t[i].name);
		usage = proto_usage(c.name, c.name_len);
		ck_assert_ptr_nonnull(usage);
		ck_assert_str_eq(usage, t[i].usage);
	}
	ck_assert_str_eq(proto_usage("QUIT", 4), "/quit [REASON]");
	ck_assert_str_eq(proto_usage("who", 3), "/who");
	ck_assert_str_eq(proto_usage("Part", 4), "/part [#room]");
	ck_assert_str_eq(proto_usage("rooms", 5), "/rooms");
	ck_assert_str_eq(proto_usage("TOPIC", 5), "/topic [TEXT]");
	ck_assert_str_eq(proto_usage("history", 7), "/history [N]");
	/* Callers print it unchecked. */
	ck_assert_ptr_nonnull(proto_usage("frobnicate", 10));
}
END_TEST

START_TEST(test_parse_unknown)
{
	struct command	c;

	c = parse("/");
	ck_assert_int_eq(c.kind, CMD_UNKNOWN);
	ck_assert_uint_eq(c.name_len, 0);

	c = parse("/ nick bob");
	ck_assert_int_eq(c.kind, CMD_UNKNOWN);
	ck_assert_uint_eq(c.name_len, 0);

	c = parse("/foo bar");
	ck_assert_int_eq(c.kind, CMD_UNKNOWN);
	ck_assert_field(c.name, c.name_len, "foo");

	c = parse("/Frobnicate\tnow");
	ck_assert_int_eq(c.kind, CMD_UNKNOWN);
	ck_assert_field(c.name, c.name_len, "Frobnicate");

	/* Prefixes and extensions of real commands are not them. */
	ck_assert_int_eq(parse("/nic bob").kind, CMD_UNKNOWN);
	ck_assert_int_eq(parse("/nickname bob").kind, CMD_UNKNOWN);
	ck_assert_int_eq(parse("/m x").kind, CMD_UNKNOWN);
	/* Case folding is ASCII only: U+0130 is not 'i'. */
	ck_assert_int_eq(parse("/n\xc4\xb0" "ck bob").kind, CMD_UNKNOWN);
}
END_TEST

/* v1 commands leave the v2 field alone: count is 0, not the poison. */
START_TEST(test_parse_v1_count)
{
	static const char *const lines[] = {
		"hi", "//x", "", "/nick bob", "/me waves", "/who", "/msg a b",
		"/quit", "/help", "/stats", "/foo 5", "/nick", "/history5",
	};
	size_t	i;

	for (i = 0; i < sizeof lines / sizeof lines[0]; i++)
		ck_assert_msg(parse(lines[i]).count == 0, "\"%s\": count %lu",
		    lines[i], parse(lines[i]).count);
}
END_TEST

START_TEST(test_parse_join)
{
	static const char	 line[] = "/join #a";
	struct command		 c;

	proto_parse(line, strlen(line), &c);
	ck_assert_int_eq(c.kind, CMD_JOIN);
	ck_assert_field(c.name, c.name_len, "join");
	ck_assert_field(c.target, c.target_len, "#a");
	ck_assert_ptr_eq(c.target, line + 6);
	ck_assert_uint_eq(c.text_len, 0);
	ck_assert_uint_eq(c.count, 0);

	c = parse("/JOIN\t \t#Rust \t ");
	ck_assert_int_eq(c.kind, CMD_JOIN);
	ck_assert_field(c.name, c.name_len, "JOIN");
	ck_assert_field(c.target, c.target_len, "#Rust");

	c = parse("/Join #caf\xc3\xa9");
	ck_assert_int_eq(c.kind, CMD_JOIN);
	ck_assert_field(c.target, c.target_len, "#caf\xc3\xa9");

	/* Not checked here: room_name_check() refuses it, whole. */
	c = parse("/join lobby");
	ck_assert_int_eq(c.kind, CMD_JOIN);
	ck_assert_field(c.target, c.target_len, "lobby");
	c = parse("/join #a #b ");
	ck_assert_int_eq(c.kind, CMD_JOIN);
	ck_assert_field(c.target, c.target_len, "#a #b");
	ck_assert_str_eq(room_name_check(c.target, c.target_len, 50),
	    "contains a space");

	ck_assert_int_eq(parse("/joint #a").kind, CMD_UNKNOWN);
	ck_assert_int_eq(parse("/jo #a").kind, CMD_UNKNOWN);
	ck_assert_int_eq(parse("//join #a").kind, CMD_SAY);
}
END_TEST

START_TEST(test_parse_part)
{
	struct command	c;

	c = parse("/part");
	ck_assert_int_eq(c.kind, CMD_PART);
	ck_assert_field(c.name, c.name_len, "part");
	ck_assert_uint_eq(c.target_len, 0);

	c = parse("/PART \t ");
	ck_assert_int_eq(c.kind, CMD_PART);
	ck_assert_uint_eq(c.target_len, 0);

	c = parse("/part #rust");
	ck_assert_int_eq(c.kind, CMD_PART);
	ck_assert_field(c.target, c.target_len, "#rust");
	ck_assert_uint_eq(c.text_len, 0);

	c = parse("/Part\t#Rust\t");
	ck_assert_int_eq(c.kind, CMD_PART);
	ck_assert_field(c.target, c.target_len, "#Rust");

	/* There is no part reason: the rest is the name, refused. */
	c = parse("/part #a bye now");
	ck_assert_int_eq(c.kind, CMD_PART);
	ck_assert_field(c.target, c.target_len, "#a bye now");
	ck_assert_ptr_nonnull(room_name_check(c.target, c.target_len, 50));

	ck_assert_int_eq(parse("/parts").kind, CMD_UNKNOWN);
}
END_TEST

START_TEST(test_parse_rooms)
{
	struct command	c;

	c = parse("/rooms");
	ck_assert_int_eq(c.kind, CMD_ROOMS);
	ck_assert_field(c.name, c.name_len, "rooms");
	ck_assert_int_eq(parse("/ROOMS").kind, CMD_ROOMS);
	ck_assert_int_eq(parse("/rooms\t").kind, CMD_ROOMS);
	/* Like /who, arguments are ignored. */
	c = parse("/Rooms all of them");
	ck_assert_int_eq(c.kind, CMD_ROOMS);
	ck_assert_uint_eq(c.target_len, 0);
	ck_assert_uint_eq(c.text_len, 0);
	ck_assert_int_eq(parse("/room").kind, CMD_UNKNOWN);
	ck_assert_int_eq(parse("/roomsx").kind, CMD_UNKNOWN);
}
END_TEST

START_TEST(test_parse_topic)
{
	struct command	c;

	/* No text is the query. */
	c = parse("/topic");
	ck_assert_int_eq(c.kind, CMD_TOPIC);
	ck_assert_field(c.name, c.name_len, "topic");
	ck_assert_uint_eq(c.text_len, 0);

	c = parse("/TOPIC \t  ");
	ck_assert_int_eq(c.kind, CMD_TOPIC);
	ck_assert_uint_eq(c.text_len, 0);

	c = parse("/topic Rust talk");
	ck_assert_int_eq(c.kind, CMD_TOPIC);
	ck_assert_field(c.text, c.text_len, "Rust talk");
	ck_assert_uint_eq(c.target_len, 0);

	/* Like /me: inner and trailing blanks are the text's. */
	c = parse("/Topic\t two  words\there ");
	ck_assert_int_eq(c.kind, CMD_TOPIC);
	ck_assert_field(c.text, c.text_len, "two  words\there ");

	/* "-" clears; that is the server's business, here it is text. */
	c = parse("/topic -");
	ck_assert_int_eq(c.kind, CMD_TOPIC);
	ck_assert_field(c.text, c.text_len, "-");

	ck_assert_int_eq(parse("/topics x").kind, CMD_UNKNOWN);
}
END_TEST

START_TEST(test_parse_history)
{
	static const struct {
		const char	*line;
		unsigned long	 count;
	} ok[] = {
		{ "/history",		0 },
		{ "/history \t ",	0 },
		{ "/HISTORY 5",		5 },
		{ "/history\t50\t ",	50 },
		{ "/History 1",		1 },
		{ "/history 007",	7 },
		{ "/history 1000000",	1000000 },
	};
	/* Not a positive decimal number that fits an unsigned long. */
	static const char *const bad[] = {
		"/history 0", "/history 00", "/history -1", "/history +5",
		"/history 5x", "/history x", "/history 1.5", "/history 0x10",
		"/history 5 6", "/history 5\t6", "/history \xef\xbc\x95",
		"/history 99999999999999999999999999999",
		"/HISTORY 184467440737095516160",
	};
	char		 line[64];
	struct command	 c;
	size_t		 i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		c = parse(ok[i].line);
		ck_assert_msg(c.kind == CMD_HISTORY, "\"%s\": kind %d",
		    ok[i].line, c.kind);
		ck_assert_msg(c.count == ok[i].count, "\"%s\": count %lu, "
		    "want %lu", ok[i].line, c.count, ok[i].count);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		c = parse(bad[i]);
		ck_assert_msg(c.kind == CMD_USAGE, "\"%s\": kind %d", bad[i],
		    c.kind);
		ck_assert_uint_eq(c.count, 0);
		ck_assert_str_eq(proto_usage(c.name, c.name_len),
		    "/history [N]");
	}

	/* The largest unsigned long is taken, one more is not. */
	snprintf(line, sizeof line, "/history %lu", ULONG_MAX);
	c = parse(line);
	ck_assert_int_eq(c.kind, CMD_HISTORY);
	ck_assert_uint_eq(c.count, ULONG_MAX);
	snprintf(line, sizeof line, "/history %lu0", ULONG_MAX / 10 + 1);
	ck_assert_int_eq(parse(line).kind, CMD_USAGE);
	snprintf(line, sizeof line, "/history %lu%lu", ULONG_MAX / 10,
	    ULONG_MAX % 10 + 1);
	ck_assert_int_eq(parse(line).kind, CMD_USAGE);

	ck_assert_int_eq(parse("/hist 5").kind, CMD_UNKNOWN);
}
END_TEST

START_TEST(test_nick_valid)
{
	static const char *const ok[] = {
		"a", "a1", "[x]", "^_^", "{bob}", "a-b", "x|y", "Z",
		"\xc3\xa9lodie",			/* élodie */
		"\xd0\x91\xd0\xbe\xd1\x80\xd0\xb8\xd1\x81",	/* Борис */
		"\xf0\x9f\x98\x80",			/* U+1F600 */
		"_1",
	};
	char	buf[256];
	size_t	i, len;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		const char	*why = nick_check(ok[i], strlen(ok[i]));

		ck_assert_msg(why == NULL, "\"%s\" refused: %s", ok[i], why);
	}

	len = repeat(buf, sizeof buf, "a", NICK_MAX_CHARS);
	ck_assert_ptr_null(nick_check(buf, len));
	len = repeat(buf, sizeof buf, "\xe4\xb8\xad", NICK_MAX_CHARS);
	ck_assert_ptr_null(nick_check(buf, len));
	/* 32 four-byte characters: exactly NICK_MAX_BYTES. */
	len = repeat(buf, sizeof buf, "\xf0\x9f\x98\x80", NICK_MAX_CHARS);
	ck_assert_uint_eq(len, NICK_MAX_BYTES);
	ck_assert_ptr_null(nick_check(buf, len));
}
END_TEST

#define LEADING	"must not start with a digit or '-'"

START_TEST(test_nick_invalid)
{
	static const struct {
		const char	*nick;
		size_t		 len;	/* 0: strlen */
		const char	*why;
	} bad[] = {
		{ "1abc", 0,		LEADING },
		{ "9lives", 0,		LEADING },
		{ "-x", 0,		LEADING },
		{ "a b", 0,		"character U+0020 not allowed" },
		{ "a\tb", 0,		"character U+0009 not allowed" },
		{ "a.b", 0,		"character U+002E not allowed" },
		{ "a@b", 0,		"character U+0040 not allowed" },
		{ "bob!", 0,		"character U+0021 not allowed" },
		{ "a\x00" "b", 3,	"character U+0000 not allowed" },
		{ "a\x1b[0m", 0,	"character U+001B not allowed" },
		{ "a\x7f", 0,		"character U+007F not allowed" },
		{ "a\xc2\x85", 0,	"character U+0085 not allowed" },
		{ "a\xc2\x9b", 0,	"character U+009B not allowed" },
		{ "a\xc2\xa0" "b", 0,	"character U+00A0 not allowed" },
		{ "a\xc2\xad" "b", 0,	"character U+00AD not allowed" },
		{ "a\xe1\x9a\x80", 0,	"character U+1680 not allowed" },
		{ "a\xe2\x80\x8a", 0,	"character U+200A not allowed" },
		{ "a\xe2\x80\x8b" "b", 0, "character U+200B not allowed" },
		{ "a\xe2\x80\x8f", 0,	"character U+200F not allowed" },
		{ "a\xe2\x80\xa8", 0,	"character U+2028 not allowed" },
		{ "a\xe2\x80\xae" "b", 0, "character U+202E not allowed" },
		{ "a\xe2\x80\xaf", 0,	"character U+202F not allowed" },
		{ "a\xe2\x81\x9f", 0,	"character U+205F not allowed" },
		{ "a\xe2\x81\xa0", 0,	"character U+2060 not allowed" },
		{ "a\xe2\x81\xa6" "b", 0, "character U+2066 not allowed" },
		{ "a\xe2\x81\xaf", 0,	"character U+206F not allowed" },
		{ "a\xe3\x80\x80", 0,	"character U+3000 not allowed" },
		{ "\xef\xbb\xbf" "a", 0, "character U+FEFF not allowed" },
		{ "a\xef\xbf\xb9", 0,	"character U+FFF9 not allowed" },
		{ "a\xd8\x80", 0,	"character U+0600 not allowed" },
		{ "a\xf0\x9d\x85\xb3", 0, "character U+1D173 not allowed" },
		{ "a\xf3\xa0\x80\x81", 0, "character U+E0001 not allowed" },
		{ "a\xf3\xa0\x81\xbf", 0, "character U+E007F not allowed" },
	};
	const char	*why;
	size_t		 i, len;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		len = bad[i].len != 0 ? bad[i].len : strlen(bad[i].nick);
		why = nick_check(bad[i].nick, len);
		ck_assert_msg(why != NULL, "bad nick #%zu accepted", i);
		ck_assert_msg(strcmp(why, bad[i].why) == 0,
		    "bad nick #%zu: \"%s\", want \"%s\"", i, why, bad[i].why);
	}
	ck_assert_str_eq(nick_check("", 0), "empty");
	/* Invalid UTF-8 is refused, whatever the reason says. */
	ck_assert_ptr_nonnull(nick_check("a\xff", 2));
	ck_assert_ptr_nonnull(nick_check("a\xc3", 2));
	ck_assert_ptr_nonnull(nick_check("a\xed\xa0\x80", 4));
}
END_TEST

START_TEST(test_nick_too_long)
{
	char	buf[512];
	size_t	len;

	len = repeat(buf, sizeof buf, "a", NICK_MAX_CHARS + 1);
	ck_assert_str_eq(nick_check(buf, len), "too long (max 32 characters)");
	len = repeat(buf, sizeof buf, "\xe4\xb8\xad", NICK_MAX_CHARS + 1);
	ck_assert_str_eq(nick_check(buf, len), "too long (max 32 characters)");
	len = repeat(buf, sizeof buf, "\xf0\x9f\x98\x80", NICK_MAX_CHARS + 1);
	ck_assert_str_eq(nick_check(buf, len), "too long (max 32 characters)");
	len = repeat(buf, sizeof buf, "b", 500);
	ck_assert_str_eq(nick_check(buf, len), "too long (max 32 characters)");
}
END_TEST

#define SEED	0x5eedULL	/* of nick_hash(); any will do */

START_TEST(test_nick_equal_hash)
{
	static const char *const same[][2] = {
		{ "bob", "BOB" }, { "Bob", "bOb" }, { "a[1]", "A[1]" },
		{ "\xc3\xa9lodie", "\xc3\xa9LODIE" }, { "x_Y-z", "X_y-Z" },
	};
	static const char *const differ[][2] = {
		{ "bob", "bobby" }, { "bob", "bop" }, { "bob", "bo" },
		{ "[x]", "{x}" },	/* no RFC 1459 case mapping */
		{ "\xc3\xa9", "\xc3\x89" },	/* é, É: ASCII case only */
		{ "a", "" },
	};
	uint64_t	 h[1000];
	char		 name[16];
	size_t		 i, j, distinct;

	for (i = 0; i < sizeof same / sizeof same[0]; i++) {
		const char	*a = same[i][0], *b = same[i][1];

		ck_assert_msg(nick_equal(a, strlen(a), b, strlen(b)),
		    "\"%s\" != \"%s\"", a, b);
		ck_assert_msg(nick_hash(SEED, a, strlen(a)) ==
		    nick_hash(SEED, b, strlen(b)), "hash \"%s\" != \"%s\"", a,
		    b);
	}
	for (i = 0; i < sizeof differ / sizeof differ[0]; i++) {
		const char	*a = differ[i][0], *b = differ[i][1];

		ck_assert_msg(!nick_equal(a, strlen(a), b, strlen(b)),
		    "\"%s\" == \"%s\"", a, b);
	}
	/* Lengths bound the compare: no reading past them. */
	ck_assert(nick_equal("bobX", 3, "BOBy", 3));
	ck_assert(!nick_equal("bob", 3, "bob", 2));

	/* A hash worth the name spreads similar nicknames apart. */
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "guest%zu", i);
		h[i] = nick_hash(SEED, name, strlen(name));
	}
	distinct = 0;
	for (i = 0; i < 1000; i++) {
		for (j = 0; j < i && h[j] != h[i]; j++)
			;
		if (j == i)
			distinct++;
	}
	ck_assert_uint_ge(distinct, 995);
	ck_assert_uint_ne(nick_hash(SEED, "bob", 3), nick_hash(SEED, "bop", 3));
}
END_TEST

#define ROOM_MAX	50	/* --max-room-name's default */

/* room_name_check() of a heap copy of len bytes: ASan sees over-reads. */
static const char *
room_check(const char *name, size_t len, size_t max)
{
	static char	 why[128];
	const char	*r;
	char		*copy;

	copy = malloc(len > 0 ? len : 1);
	ck_assert_ptr_nonnull(copy);
	if (len > 0)
		memcpy(copy, name, len);
	r = room_name_check(copy, len, max);
	free(copy);
	if (r == NULL)
		return NULL;
	snprintf(why, sizeof why, "%s", r);
	return why;
}

START_TEST(test_room_valid)
{
	static const char *const ok[] = {
		"#a", "#lobby", "#Rust", "#c++", "#a.b", "#a#b", "##", "#-",
		"#1", "#_", "#a:b", "#!", "#a@b", "#[x]", "#a/b",
		"#caf\xc3\xa9",				/* café */
		"#\xd0\x91\xd0\xbe\xd1\x80\xd0\xb8\xd1\x81",	/* Борис */
		"#\xe4\xb8\xad\xe6\x96\x87",		/* 中文 */
		"#\xf0\x9f\x98\x80",			/* U+1F600 */
		"#\xef\xbf\xbd",			/* U+FFFD */
	};
	char		 buf[512];
	const char	*why;
	size_t		 i, len;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		why = room_check(ok[i], strlen(ok[i]), ROOM_MAX);
		ck_assert_msg(why == NULL, "\"%s\" refused: %s", ok[i], why);
	}

	/* 50 code points after '#', however many bytes each. */
	buf[0] = '#';
	len = 1 + repeat(buf + 1, sizeof buf - 1, "a", ROOM_MAX);
	ck_assert_ptr_null(room_check(buf, len, ROOM_MAX));
	len = 1 + repeat(buf + 1, sizeof buf - 1, "\xc3\xa9", ROOM_MAX);
	ck_assert_ptr_null(room_check(buf, len, ROOM_MAX));
	len = 1 + repeat(buf + 1, sizeof buf - 1, "\xe4\xb8\xad", ROOM_MAX);
	ck_assert_ptr_null(room_check(buf, len, ROOM_MAX));
	len = 1 + repeat(buf + 1, sizeof buf - 1, "\xf0\x9f\x98\x80",
	    ROOM_MAX);
	ck_assert_uint_eq(len, 1 + 4 * ROOM_MAX);
	ck_assert_ptr_null(room_check(buf, len, ROOM_MAX));

	/* Another limit: --max-room-name 5. */
	ck_assert_ptr_null(room_check("#abcde", 6, 5));
	ck_assert_ptr_null(room_check("#a", 2, 1));

	/* Only len bytes count: what follows is not looked at. */
	ck_assert_ptr_null(room_check("#a b", 2, ROOM_MAX));
	ck_assert_ptr_null(room_check("#a,b", 2, ROOM_MAX));
	ck_assert_ptr_null(room_check("#a\xff", 2, ROOM_MAX));
}
END_TEST

/* The reasons that name a code point. */
#define SPC(cp)	"contains a space (U+" cp ")"
#define CTL(cp)	"contains a control character (U+" cp ")"
#define FMT(cp)	"contains a format character (U+" cp ")"

START_TEST(test_room_invalid)
{
	static const struct {
		const char	*name;
		size_t		 len;	/* 0: strlen */
		const char	*why;
	} bad[] = {
		{ "#", 0,		"empty" },
		{ "lobby", 0,		"must start with #" },
		{ " #a", 0,		"must start with #" },
		{ "a#", 0,		"must start with #" },
		{ "\xef\xbc\x83" "a", 0, "must start with #" },	/* ＃ */
		{ ",#a", 0,		"must start with #" },
		{ "#a,b", 0,		"contains a comma" },
		{ "#,", 0,		"contains a comma" },
		{ "#a,", 0,		"contains a comma" },
		{ "#a b", 0,		"contains a space" },
		{ "# ", 0,		"contains a space" },
		{ "#a ", 0,		"contains a space" },
		{ "#a\tb", 0,		SPC("0009") },
		{ "#a\xc2\xa0" "b", 0,	SPC("00A0") },
		{ "#a\xc2\x85", 0,	SPC("0085") },
		{ "#a\xe1\x9a\x80", 0,	SPC("1680") },
		{ "#a\xe2\x80\x82", 0,	SPC("2002") },
		{ "#a\xe2\x80\xa8", 0,	SPC("2028") },
		{ "#a\xe2\x80\xaf", 0,	SPC("202F") },
		{ "#\xe3\x80\x80", 0,	SPC("3000") },
		{ "#a\x00" "b", 4,	CTL("0000") },
		{ "#\x01", 0,		CTL("0001") },
		{ "#a\x07", 0,		CTL("0007") },
		{ "#a\x1b[0m", 0,	CTL("001B") },
		{ "#a\x0b", 0,		CTL("000B") },
		{ "#a\r", 0,		CTL("000D") },
		{ "#a\x7f", 0,		CTL("007F") },
		{ "#a\xc2\x80", 0,	CTL("0080") },
		{ "#a\xc2\x9b" "2J", 0,	CTL("009B") },
		{ "#a\xe2\x80\xae" "b", 0, FMT("202E") },
		{ "#\xe2\x80\xad" "b", 0, FMT("202D") },
		{ "#a\xe2\x81\xa6", 0,	FMT("2066") },
		{ "#a\xe2\x80\x8b" "b", 0, FMT("200B") },
		{ "#a\xe2\x80\x8d" "b", 0, FMT("200D") },
		{ "#a\xc2\xad", 0,	FMT("00AD") },
		{ "#\xef\xbb\xbf" "a", 0, FMT("FEFF") },
		{ "#a\xf3\xa0\x80\x81", 0, FMT("E0001") },
		{ "#a\xff", 0,		"invalid UTF-8" },
		{ "#\xc3", 0,		"invalid UTF-8" },
		{ "#a\xc3(", 0,		"invalid UTF-8" },
		{ "#\xc0\xaf", 0,	"invalid UTF-8" },	/* overlong */
		{ "#\xed\xa0\x80", 0,	"invalid UTF-8" },	/* surrogate */
		{ "#\xf4\x90\x80\x80", 0, "invalid UTF-8" },	/* too big */
		{ "#\x80", 0,		"invalid UTF-8" },
		/* The first fault found is the one named. */
		{ "#a b,c", 0,		"contains a space" },
		{ "#a,b c", 0,		"contains a comma" },
	};
	const char	*why;
	size_t		 i, len;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		len = bad[i].len != 0 ? bad[i].len : strlen(bad[i].name);
		why = room_check(bad[i].name, len, ROOM_MAX);
		ck_assert_msg(why != NULL, "bad room #%zu \"%s\" accepted", i,
		    bad[i].name);
		ck_assert_msg(strcmp(why, bad[i].why) == 0,
		    "bad room #%zu: \"%s\", want \"%s\"", i, why, bad[i].why);
	}
	ck_assert_str_eq(room_check("", 0, ROOM_MAX), "empty");
	ck_assert_str_eq(room_name_check("", 0, ROOM_MAX), "empty");
}
END_TEST

START_TEST(test_room_too_long)
{
	static const char *const units[] = {
		"a", "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80"
	};
	char	 buf[1200];
	size_t	 i, len;

	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		buf[0] = '#';
		len = 1 + repeat(buf + 1, sizeof buf - 1, units[i],
		    ROOM_MAX + 1);
		ck_assert_str_eq(room_check(buf, len, ROOM_MAX),
		    "too long (max 50 characters)");
	}
	/* Far too long, with a bad character past the limit. */
	buf[0] = '#';
	len = 1 + repeat(buf + 1, sizeof buf - 2, "b", 1000);
	buf[len - 1] = ',';
	ck_assert_str_eq(room_check(buf, len, ROOM_MAX),
	    "too long (max 50 characters)");
	/* --max-room-name 5 */
	ck_assert_str_eq(room_check("#abcdef", 7, 5),
	    "too long (max 5 characters)");
	ck_assert_str_eq(room_check("#\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
	    "\xa9\xc3\xa9", 13, 5), "too long (max 5 characters)");
	ck_assert_ptr_null(room_check("#\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
	    "\xa9", 11, 5));
}
END_TEST

/* Room names share nick_equal() and nick_hash(): ASCII case only. */
START_TEST(test_room_equal_hash)
{
	static const char *const same[][2] = {
		{ "#Lobby", "#lobby" }, { "#RUST", "#rust" },
		{ "#C++", "#c++" }, { "#caf\xc3\xa9", "#CAF\xc3\xa9" },
	};
	static const char *const differ[][2] = {
		{ "#lobby", "#lobbyx" }, { "#lobby", "lobby" },
		{ "#\xc3\xa9", "#\xc3\x89" },	/* é, É */
		{ "#a", "#b" }, { "#[a]", "#{a}" },
	};
	size_t	i;

	for (i = 0; i < sizeof same / sizeof same[0]; i++) {
		const char	*a = same[i][0], *b = same[i][1];

		ck_assert_ptr_null(room_name_check(a, strlen(a), ROOM_MAX));
		ck_assert_ptr_null(room_name_check(b, strlen(b), ROOM_MAX));
		ck_assert_msg(nick_equal(a, strlen(a), b, strlen(b)),
		    "\"%s\" != \"%s\"", a, b);
		ck_assert_msg(nick_hash(SEED, a, strlen(a)) ==
		    nick_hash(SEED, b, strlen(b)), "hash \"%s\" != \"%s\"",
		    a, b);
	}
	for (i = 0; i < sizeof differ / sizeof differ[0]; i++) {
		const char	*a = differ[i][0], *b = differ[i][1];

		ck_assert_msg(!nick_equal(a, strlen(a), b, strlen(b)),
		    "\"%s\" == \"%s\"", a, b);
	}
}
END_TEST

/* Unseeded 64-bit FNV-1a, lower-cased: the hash chatd used to have. */
static uint64_t
fnv1a(const char *s, size_t len)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	size_t		 i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)(s[i] >= 'A' && s[i] <= 'Z' ?
		    s[i] - 'A' + 'a' : s[i]);
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * Which nicknames share a chain must depend on the seed, so that no
 * client can compute a colliding set ahead of time; ASCII case must not
 * matter under any seed.  The room's table takes the low bits of the
 * hash (64 buckets to start with).
 */
START_TEST(test_nick_hash_seeded)
{
	static const uint64_t seeds[] = { 1, 2, 0x9e3779b97f4a7c15ULL,
	    UINT64_MAX };
	enum { N = 64, MASK = 63 };
	char		 name[N][16], upper[16];
	uint64_t	 h1, h2;
	size_t		 i, j, k, len, same, distinct;
	unsigned	 used[MASK + 1];

	for (i = 0; i < N; i++)
		snprintf(name[i], sizeof(name[i]), "Guest%zu", i);

	/* The same nickname hashes differently under another seed ... */
	for (i = 0; i < N; i++) {
		len = strlen(name[i]);
		h1 = nick_hash(seeds[0], name[i], len);
		h2 = nick_hash(seeds[1], name[i], len);
		ck_assert_msg(h1 != h2, "\"%s\": same hash under two seeds",
		    name[i]);
	}
	/* ... so a fixed set of nicknames lands in other buckets. */
	same = 0;
	for (i = 0; i < N; i++) {
		len = strlen(name[i]);
		if ((nick_hash(seeds[0], name[i], len) & MASK) ==
		    (nick_hash(seeds[1], name[i], len) & MASK))
			same++;
	}
	ck_assert_uint_le(same, 8);	/* about 1 expected */

	/* Under any one seed, ASCII case still makes no difference. */
	for (k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
		for (i = 0; i < N; i++) {
			len = strlen(name[i]);
			for (j = 0; j <= len; j++)
				upper[j] = name[i][j] >= 'a' &&
				    name[i][j] <= 'z' ?
				    (char)(name[i][j] - 'a' + 'A') : name[i][j];
			ck_assert_uint_eq(nick_hash(seeds[k], name[i], len),
			    nick_hash(seeds[k], upper, len));
		}
	}

	/*
	 * A set computed ahead of time: in FNV-1a the low six bits depend
	 * only on the low six bits of each byte, and '0'..'9' share theirs
	 * with 'p'..'y'.  So all 64 of x{0,p}{0,p}{0,p}{0,p}{0,p}{0,p} fall
	 * in one of 64 buckets, unseeded or with the seed only in the
	 * basis.  Seeded and mixed, they spread (about 40 buckets).
	 */
	for (i = 0; i < N; i++) {
		name[i][0] = 'x';
		for (j = 0; j < 6; j++)
			name[i][1 + j] = i & (1u << j) ? 'p' : '0';
		name[i][7] = '\0';
		ck_assert_uint_eq(fnv1a(name[i], 7) & MASK,
		    fnv1a(name[0], 7) & MASK);
	}
	for (k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
		memset(used, 0, sizeof(used));
		for (i = 0; i < N; i++)
			used[nick_hash(seeds[k], name[i], 7) & MASK]++;
		distinct = 0;
		for (i = 0; i <= MASK; i++)
			distinct += used[i] != 0;
		ck_assert_msg(distinct >= 24, "seed %zu: %zu buckets of 64",
		    k, distinct);
	}
}
END_TEST

/*
 * Format into a heap buffer of exactly PROTO_FORMAT_MAX bytes, so ASan
 * catches any write past the documented bound, and compare byte for byte.
 */
static void
check_format(enum reply_kind kind, const char *nick, size_t nick_len,
    const char *text, size_t text_len, const char *want, size_t want_len)
{
	size_t	 cap = PROTO_FORMAT_MAX(nick_len, text_len), n;
	char	*out;

	out = malloc(cap);
	ck_assert_ptr_nonnull(out);
	n = proto_format(out, kind, nick, nick_len, text, text_len);
	ck_assert_uint_le(n, cap);
	ck_assert_msg(n == want_len && memcmp(out, want, n) == 0,
	    "kind %d: got \"%.*s\" (%zu bytes), want \"%s\"", kind,
	    (int)n, out, n, want);
	free(out);
}

#define FORMAT(kind, nick, text, want)					\
	check_format((kind), (nick), strlen(nick), (text), strlen(text),\
	    (want), strlen(want))

START_TEST(test_format_kinds)
{
	FORMAT(REPLY_CHAT, "bob", "hi there", "<bob> hi there\r\n");
	FORMAT(REPLY_ACTION, "bob", "waves", "* bob waves\r\n");
	FORMAT(REPLY_PRIVATE, "alice", "psst  a secret",
	    "*alice* psst  a secret\r\n");
	FORMAT(REPLY_PRIVATE_ECHO, "bob", "psst", "-> *bob* psst\r\n");
	FORMAT(REPLY_NOTICE, "", "bob joined", "-- bob joined\r\n");
	FORMAT(REPLY_ERROR, "", "usage: /nick NAME",
	    "!! usage: /nick NAME\r\n");
	/* The nickname is copied as is; notices ignore it. */
	FORMAT(REPLY_CHAT, "\xc3\x89lodie", "/x", "<\xc3\x89lodie> /x\r\n");
	FORMAT(REPLY_NOTICE, "ignored", "x", "-- x\r\n");
	FORMAT(REPLY_ERROR, "ignored", "x", "!! x\r\n");
	/* Leading and trailing blanks of the text are kept. */
	FORMAT(REPLY_CHAT, "b", "  a  ", "<b>   a  \r\n");

	/* Notices come with no nickname at all. */
	check_format(REPLY_NOTICE, NULL, 0, "bye", 3, "-- bye\r\n", 8);
	check_format(REPLY_NOTICE, NULL, 0, NULL, 0, "-- \r\n", 5);
}
END_TEST

START_TEST(test_format_sanitise)
{
	FORMAT(REPLY_CHAT, "b", "a\x1b[31mred", "<b> a" FFFD "[31mred\r\n");
	FORMAT(REPLY_CHAT, "b", "bell\x07\x07", "<b> bell" FFFD FFFD "\r\n");
	FORMAT(REPLY_CHAT, "b", "del\x7f", "<b> del" FFFD "\r\n");
	FORMAT(REPLY_CHAT, "b", "csi\xc2\x9b" "2J", "<b> csi" FFFD "2J\r\n");
	FORMAT(REPLY_CHAT, "b", "nel\xc2\x85", "<b> nel" FFFD "\r\n");
	FORMAT(REPLY_CHAT, "b", "cr\rlf\n", "<b> cr" FFFD "lf" FFFD "\r\n");
	FORMAT(REPLY_CHAT, "b", "tab\tkept", "<b> tab\tkept\r\n");
	FORMAT(REPLY_ACTION, "b", "\xc3\xa9t\xc3\xa9 " FFFD,
	    "* b \xc3\xa9t\xc3\xa9 " FFFD "\r\n");
	FORMAT(REPLY_ERROR, "", "\x1b" "c", "!! " FFFD "c\r\n");
	/* U+00A0 is not a control: only controls are replaced. */
	FORMAT(REPLY_NOTICE, "", "a\xc2\xa0" "b", "-- a\xc2\xa0" "b\r\n");

	/* NUL is a control too: the length counts, not a terminator. */
	check_format(REPLY_PRIVATE, "b", 1, "x\0y", 3,
	    "*b* x" FFFD "y\r\n", 11);
}
END_TEST

/* All controls, each one three bytes out: the worst case for the bound. */
START_TEST(test_format_bound)
{
	static const enum reply_kind kinds[] = {
		REPLY_CHAT, REPLY_ACTION, REPLY_PRIVATE, REPLY_PRIVATE_ECHO,
		REPLY_NOTICE, REPLY_ERROR
	};
	char	 text[600], nick[256];
	char	*out;
	size_t	 text_len = 0, nick_len, cap, n, i, k;
	int	 c;

	for (i = 0; i < 4; i++) {
		for (c = 0; c < 0x20; c++) {
			if (c != '\t')
				text[text_len++] = (char)c;
		}
		text[text_len++] = 0x7f;
	}
	/* C1 controls: two bytes each, also replaced by three. */
	for (c = 0x80; c < 0xa0; c++) {
		text[text_len++] = '\xc2';
		text[text_len++] = (char)c;
	}
	ck_assert_uint_le(text_len, sizeof text);
	nick_len = repeat(nick, sizeof nick, "\xf0\x9f\x98\x80",
	    NICK_MAX_CHARS);

	for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		for (i = 0; i <= text_len; i += 7) {
			cap = PROTO_FORMAT_MAX(nick_len, i);
			out = malloc(cap);
			ck_assert_ptr_nonnull(out);
			n = proto_format(out, kinds[k], nick, nick_len,
			    text, i);
			ck_assert_uint_le(n, cap);
			ck_assert_uint_ge(n, 2);
			ck_assert(memcmp(out + n - 2, "\r\n", 2) == 0);
			/* No control survives, and no stray CR or LF. */
			ck_assert_ptr_null(memchr(out, '\x1b', n));
			ck_assert_ptr_null(memchr(out, '\0', n));
			ck_assert_ptr_null(memchr(out, '\n', n - 1));
			ck_assert_ptr_null(memchr(out, '\r', n - 2));
			free(out);
		}
	}

	/* The whole text at once. */
	cap = PROTO_FORMAT_MAX(nick_len, text_len);
	out = malloc(cap);
	ck_assert_ptr_nonnull(out);
	n = proto_format(out, REPLY_PRIVATE_ECHO, nick, nick_len, text,
	    text_len);
	ck_assert_uint_le(n, cap);
	/* 4 * 32 C0 and DEL, 32 C1: 160 replacements of 3 bytes each. */
	ck_assert_uint_eq(n, 4 + nick_len + 2 + 160 * 3 + 2);
	free(out);
}
END_TEST

START_TEST(test_help_lines)
{
	static const char *const commands[] = {
		"/nick", "/msg", "/me", "/who", "/quit", "/help", "/join",
		"/part", "/rooms", "/topic", "/history", "/pass"
	};
	/* v1's lines, unchanged, in their order. */
	static const char *const v1[] = {
		"commands:",
		"/nick NAME        change your nickname",
		"/msg NICK TEXT    send TEXT to NICK only",
		"/me TEXT          describe what you do",
		"/who              list who is online",
		"/quit [REASON]    leave the chat",
		"/stats            show the server's figures",
		"/help             show this list",
		"//TEXT            say /TEXT (a line starting with /)",
	};
	size_t	n, i, j;
	bool	found;

	ck_assert_ptr_nonnull(proto_help_lines[0]);
	ck_assert_str_eq(proto_help_lines[0], "commands:");
	for (n = 0; proto_help_lines[n] != NULL; n++) {
		ck_assert_uint_lt(n, 64);	/* NULL-terminated */
		ck_assert_uint_lt(strlen(proto_help_lines[n]), 120);
		for (j = 0; proto_help_lines[n][j] != '\0'; j++) {
			ck_assert((unsigned char)proto_help_lines[n][j] >=
			    0x20);
		}
	}
	ck_assert_uint_ge(n, 1 + sizeof commands / sizeof commands[0]);

	/* One line per command, starting with its usage. */
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		size_t	clen = strlen(commands[i]);

		found = false;
		for (j = 1; j < n; j++) {
			const char	*l = proto_help_lines[j];

			if (strncmp(l, commands[i], clen) == 0 &&
			    (l[clen] == ' ' || l[clen] == '\0'))
				found = true;
		}
		ck_assert_msg(found, "/help does not describe %s", commands[i]);
	}

	for (i = 0, j = 0; i < sizeof v1 / sizeof v1[0]; i++) {
		while (j < n && strcmp(proto_help_lines[j], v1[i]) != 0)
			j++;
		ck_assert_msg(j < n, "/help lost or reordered \"%s\"", v1[i]);
	}
}
END_TEST

static Suite *
proto_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("proto");

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_say);
	tcase_add_test(tc, test_parse_blank);
	tcase_add_test(tc, test_parse_nick);
	tcase_add_test(tc, test_parse_who_help);
	tcase_add_test(tc, test_parse_me);
	tcase_add_test(tc, test_parse_msg);
	tcase_add_test(tc, test_parse_quit);
	tcase_add_test(tc, test_parse_usage);
	tcase_add_test(tc, test_parse_unknown);
	tcase_add_test(tc, test_parse_v1_count);
	tcase_add_test(tc, test_parse_join);
	tcase_add_test(tc, test_parse_part);
	tcase_add_test(tc, test_parse_rooms);
	tcase_add_test(tc, test_parse_topic);
	tcase_add_test(tc, test_parse_history);
	suite_add_tcase(s, tc);

	tc = tcase_create("room");
	tcase_add_test(tc, test_room_valid);
	tcase_add_test(tc, test_room_invalid);
	tcase_add_test(tc, test_room_too_long);
	tcase_add_test(tc, test_room_equal_hash);
	suite_add_tcase(s, tc);

	tc = tcase_create("nick");
	tcase_add_test(tc, test_nick_valid);
	tcase_add_test(tc, test_nick_invalid);
	tcase_add_test(tc, test_nick_too_long);
	tcase_add_test(tc, test_nick_equal_hash);
	tcase_add_test(tc, test_nick_hash_seeded);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_test(tc, test_format_kinds);
	tcase_add_test(tc, test_format_sanitise);
	tcase_add_test(tc, test_format_bound);
	tcase_add_test(tc, test_help_lines);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return check_run(proto_suite());
}
