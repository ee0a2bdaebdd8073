/*
 * check_ircmsg.c - IRC wire text, byte for byte: parsing (tags, source,
 * middle and trailing parameters, the 15-parameter limit, blank lines),
 * tag escaping both ways, client tags, the control characters that go
 * through and those that do not, CTCP ACTION both ways, every event
 * kind rendered plain, timed and tagged, replies and ISUPPORT.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ircmsg.h"
#include "check_run.h"

#define FFFD	"\xef\xbf\xbd"

/* 2026-12-02T01:02:03.456Z */
#define T0	1796173323456ULL

static void
parse_ok(const char *line, struct ircmsg *m)
{
	ck_assert_int_eq(ircmsg_parse(line, strlen(line), m), 0);
}

static void
assert_param(const struct ircmsg *m, size_t i, const char *want)
{
	ck_assert_uint_gt(m->nparams, i);
	ck_assert_uint_eq(m->lens[i], strlen(want));
	ck_assert_msg(memcmp(m->params[i], want, m->lens[i]) == 0,
	    "param %zu is \"%.*s\", not \"%s\"", i, (int)m->lens[i],
	    m->params[i], want);
}

/* Assert that m holds exactly want, then drop it. */
static void
assert_msg(struct msg *m, const char *want)
{
	ck_assert_ptr_nonnull(m);
	ck_assert_msg(m->len == strlen(want) && memcmp(m->data, want,
	    m->len) == 0, "got \"%.*s\", want \"%s\"", (int)m->len, m->data,
	    want);
	msg_unref(m);
}

static struct event *
mkev(enum event_kind kind, const char *room, const char *nick,
    const char *target, const char *text)
{
	struct event	*ev;

	ev = event_new_full(kind, 42, T0, room, strlen(room), nick,
	    strlen(nick), "al@host", 7, target, strlen(target), text,
	    strlen(text));
	ck_assert_ptr_nonnull(ev);
	return ev;
}

static void
assert_event(struct event *ev, unsigned flags, const char *want)
{
	assert_msg(ircmsg_event(ev, "irc.test", flags, NULL), want);
}

START_TEST(test_parse_simple)
{
	struct ircmsg	 m;

	parse_ok("PRIVMSG #chan :hello there", &m);
	ck_assert_ptr_null(m.tags);
	ck_assert_ptr_null(m.source);
	ck_assert(ircmsg_is(&m, "privmsg"));
	ck_assert(!ircmsg_is(&m, "PRIVMS"));
	ck_assert_uint_eq(m.nparams, 2);
	assert_param(&m, 0, "#chan");
	assert_param(&m, 1, "hello there");

	/* Runs of spaces separate; a trailing ':' keeps an empty param. */
	parse_ok("  NICK   bob  ", &m);
	ck_assert(ircmsg_is(&m, "NICK"));
	ck_assert_uint_eq(m.nparams, 1);
	assert_param(&m, 0, "bob");
	parse_ok("TOPIC #c :", &m);
	ck_assert_uint_eq(m.nparams, 2);
	assert_param(&m, 1, "");
	/* A ':' inside a middle parameter is just a character. */
	parse_ok("MODE #c +o a:b :x :y", &m);
	assert_param(&m, 2, "a:b");
	assert_param(&m, 3, "x :y");
}
END_TEST

START_TEST(test_parse_tags_and_source)
{
	struct ircmsg	 m;
	char		 v[64];

	parse_ok("@label=xyz;+draft/reply=12;flag :nick!u@h PRIVMSG bob :hi",
	    &m);
	ck_assert_uint_eq(m.tags_len, strlen("label=xyz;+draft/reply=12;flag"));
	ck_assert_uint_eq(m.source_len, 8);
	ck_assert(memcmp(m.source, "nick!u@h", 8) == 0);
	ck_assert(ircmsg_is(&m, "PRIVMSG"));
	ck_assert(ircmsg_tag(&m, "label", v, sizeof(v)));
	ck_assert_str_eq(v, "xyz");
	ck_assert(ircmsg_tag(&m, "flag", v, sizeof(v)));
	ck_assert_str_eq(v, "");
	ck_assert(!ircmsg_tag(&m, "lab", v, sizeof(v)));
	ck_assert(!ircmsg_tag(&m, "missing", v, sizeof(v)));

	/* Escaped values come back unescaped, cut to the buffer. */
	parse_ok("@k=a\\:b\\sc\\\\d\\r\\n\\x PING t", &m);
	ck_assert(ircmsg_tag(&m, "k", v, sizeof(v)));
	ck_assert_str_eq(v, "a;b c\\d\r\nx");
	ck_assert(ircmsg_tag(&m, "k", v, 4));
	ck_assert_str_eq(v, "a;b");
}
END_TEST

START_TEST(test_parse_empty)
{
	struct ircmsg	 m;

	ck_assert_int_eq(ircmsg_parse("", 0, &m), -1);
	ck_assert_int_eq(ircmsg_parse("   ", 3, &m), -1);
	ck_assert_int_eq(ircmsg_parse("@a=b", 4, &m), -1);
	ck_assert_int_eq(ircmsg_parse(":src ", 5, &m), -1);
	parse_ok("QUIT", &m);
	ck_assert_uint_eq(m.nparams, 0);
}
END_TEST

START_TEST(test_parse_fifteen)
{
	struct ircmsg	 m;
	char		 line[256];

	/* Fourteen middles, then the fifteenth takes the rest, spaces too. */
	snprintf(line, sizeof(line), "CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 "
	    "15 16 :17");
	parse_ok(line, &m);
	ck_assert_uint_eq(m.nparams, IRC_PARAMS_MAX);
	assert_param(&m, 13, "14");
	assert_param(&m, 14, "15 16 :17");
	/* A trailing fifteenth loses its ':' as any trailing does. */
	parse_ok("CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 :a b", &m);
	assert_param(&m, 14, "a b");
}
END_TEST

START_TEST(test_tag_escape_roundtrip)
{
	const char	*in = "a;b c\\d\r\ne";
	char		 esc[64], back[64];
	size_t		 n, k;

	n = ircmsg_tag_escape(in, strlen(in), esc);
	ck_assert_uint_eq(n, strlen("a\\:b\\sc\\\\d\\r\\ne"));
	ck_assert(memcmp(esc, "a\\:b\\sc\\\\d\\r\\ne", n) == 0);
	k = ircmsg_tag_unescape(esc, n, back);
	ck_assert_uint_eq(k, strlen(in));
	ck_assert(memcmp(back, in, k) == 0);
	/* A lone backslash at the end is dropped. */
	ck_assert_uint_eq(ircmsg_tag_unescape("ab\\", 3, back), 2);
}
END_TEST

START_TEST(test_client_tags)
{
	struct ircmsg	 m;
	char		 out[64];

	parse_ok("@+a=1;server=x;+b;+c=\\s PRIVMSG #c :x", &m);
	ck_assert_uint_eq(ircmsg_client_tags(&m, out, sizeof(out)), 13);
	ck_assert_str_eq(out, "+a=1;+b;+c=\\s");
	/* One that does not fit whole is left out. */
	ck_assert_uint_eq(ircmsg_client_tags(&m, out, 8), 7);
	ck_assert_str_eq(out, "+a=1;+b");
	parse_ok("PRIVMSG #c :x", &m);
	ck_assert_uint_eq(ircmsg_client_tags(&m, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_controls)
{
	const char	 in[] = "\x02" "b\x03" "4c\x0f\x16\x1d\x1e\x1f\x01"
	    "e\x1b[2Jf\x7f" "g\t\xc2\x85h";
	char		 out[3 * sizeof(in)];
	size_t		 n;

	n = ircmsg_sanitize(in, sizeof(in) - 1, out);
	out[n] = '\0';
	/* Formatting codes and CTCP's \x01 go through; ESC, DEL, TAB, C1 not. */
	ck_assert_str_eq(out, "\x02" "b\x03" "4c\x0f\x16\x1d\x1e\x1f\x01" "e"
	    FFFD "[2Jf" FFFD "g" FFFD FFFD "h");
	/* CR, LF and NUL would end or cut a line. */
	n = ircmsg_sanitize("a\rb\nc\0d", 7, out);
	out[n] = '\0';
	ck_assert_str_eq(out, "a" FFFD "b" FFFD "c" FFFD "d");
	/* An invalid byte becomes U+FFFD too. */
	n = ircmsg_sanitize("x\xffy", 3, out);
	out[n] = '\0';
	ck_assert_str_eq(out, "x" FFFD "y");
	ck_assert(ircmsg_is_format_code(0x02));
	ck_assert(!ircmsg_is_format_code(0x1b));
}
END_TEST

START_TEST(test_ctcp_action)
{
	const char	*body;
	size_t		 len;
	struct event	*ev;

	ck_assert(ircmsg_ctcp_action("\001ACTION waves\001", 14, &body, &len));
	ck_assert_uint_eq(len, 5);
	ck_assert(memcmp(body, "waves", 5) == 0);
	/* Clients may leave the closing \x01 out, or the text. */
	ck_assert(ircmsg_ctcp_action("\001ACTION waves", 13, &body, &len));
	ck_assert_uint_eq(len, 5);
	ck_assert(ircmsg_ctcp_action("\001ACTION\001", 8, &body, &len));
	ck_assert_uint_eq(len, 0);
	ck_assert(!ircmsg_ctcp_action("\001ACTIONS x\001", 11, &body, &len));
	ck_assert(!ircmsg_ctcp_action("\001VERSION\001", 9, &body, &len));
	ck_assert(!ircmsg_ctcp_action("ACTION x", 8, &body, &len));

	/* And EV_ME goes back out as CTCP ACTION. */
	ev = mkev(EV_ME, "#c", "al", "", "waves");
	assert_event(ev, 0, ":al!al@host PRIVMSG #c :\001ACTION waves\001\r\n");
	event_unref(ev);
}
END_TEST

START_TEST(test_events_plain)
{
	struct {
		enum event_kind	 kind;
		const char	*room, *nick, *target, *text, *want;
	} cases[] = {
		{ EV_SAY, "#c", "al", "", "hi", ":al!al@host PRIVMSG #c :hi" },
		{ EV_USER_NOTICE, "#c", "al", "", "n", ":al!al@host NOTICE #c :n" },
		{ EV_USER_NOTICE, "", "al", "bo", "n", ":al!al@host NOTICE bo :n" },
		{ EV_PRIVATE, "bo", "al", "bo", "p", ":al!al@host PRIVMSG bo :p" },
		{ EV_JOIN, "#c", "al", "", "", ":al!al@host JOIN #c" },
		{ EV_PART, "#c", "al", "", "", ":al!al@host PART #c" },
		{ EV_PART, "#c", "al", "", "bye", ":al!al@host PART #c :bye" },
		{ EV_QUIT, "#c", "al", "", "", ":al!al@host QUIT :Quit" },
		{ EV_QUIT, "#c", "al", "", "gone", ":al!al@host QUIT :gone" },
		{ EV_NICK, "#c", "al", "", "al2", ":al!al@host NICK al2" },
		{ EV_TOPIC, "#c", "al", "", "t t", ":al!al@host TOPIC #c :t t" },
		{ EV_TOPIC, "#c", "al", "", "", ":al!al@host TOPIC #c :" },
		{ EV_KICK, "#c", "al", "bo", "out", ":al!al@host KICK #c bo :out" },
		{ EV_KICK, "#c", "al", "bo", "", ":al!al@host KICK #c bo :al" },
		{ EV_MODE, "#c", "al", "", "+o bo", ":al!al@host MODE #c +o bo" },
		{ EV_AWAY, "#c", "al", "", "brb", ":al!al@host AWAY :brb" },
		{ EV_AWAY, "#c", "al", "", "", ":al!al@host AWAY" },
		{ EV_TAGMSG, "#c", "al", "", "", ":al!al@host TAGMSG #c" },
		{ EV_NOTICE, "#c", "", "", "down", ":irc.test NOTICE #c :down" },
	};
	struct event	*ev;
	char		 want[128];
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ev = mkev(cases[i].kind, cases[i].room, cases[i].nick,
		    cases[i].target, cases[i].text);
		snprintf(want, sizeof(want), "%s\r\n", cases[i].want);
		assert_event(ev, 0, want);
		event_unref(ev);
	}
}
END_TEST

START_TEST(test_events_tagged)
{
	struct event	*ev;

	ev = event_new_tagged(EV_SAY, 42, T0, "#c", 2, "al", 2, "al@host", 7,
	    "", 0, "hi", 2, "+x=1", 4);
	ck_assert_ptr_nonnull(ev);
	assert_event(ev, IRCMSG_TIME,
	    "@time=2026-12-02T01:02:03.456Z :al!al@host PRIVMSG #c :hi\r\n");
	assert_event(ev, IRCMSG_TIME | IRCMSG_TAGS,
	    "@time=2026-12-02T01:02:03.456Z;msgid=42;+x=1 "
	    ":al!al@host PRIVMSG #c :hi\r\n");
	assert_event(ev, IRCMSG_TAGS, "@msgid=42;+x=1 :al!al@host PRIVMSG #c "
	    ":hi\r\n");
	assert_msg(ircmsg_event(ev, "irc.test", IRCMSG_TIME, "h1"),
	    "@batch=h1;time=2026-12-02T01:02:03.456Z :al!al@host PRIVMSG #c "
	    ":hi\r\n");
	event_unref(ev);
	/* A private line's number is the server's: "p" first. */
	ev = mkev(EV_PRIVATE, "bo", "al", "bo", "p");
	assert_event(ev, IRCMSG_TAGS, "@msgid=p42 :al!al@host PRIVMSG bo :p\r\n");
	event_unref(ev);
}
END_TEST

START_TEST(test_event_text_sanitised)
{
	struct event	*ev;

	/* A client's ESC does not reach anyone; its colours do. */
	ev = mkev(EV_SAY, "#c", "al", "", "\x03" "4red\x1b[31m");
	assert_event(ev, 0, ":al!al@host PRIVMSG #c :\x03" "4red" FFFD
	    "[31m\r\n");
	event_unref(ev);
	/* No user@host (a line user's event from before): still a prefix. */
	ev = event_new(EV_SAY, 1, T0, "#c", 2, "li", 2, "x", 1);
	ck_assert_ptr_nonnull(ev);
	assert_event(ev, 0, ":li!chatd@chatd PRIVMSG #c :x\r\n");
	event_unref(ev);
}
END_TEST

START_TEST(test_printf)
{
	assert_msg(ircmsg_printf(":s 001 %s :Welcome %d", "al", 7),
	    ":s 001 al :Welcome 7\r\n");
	assert_msg(ircmsg_printf(":s 332 al #c :%s", "a\x1b" "b\rc"),
	    ":s 332 al #c :a" FFFD "b" FFFD "c\r\n");
}
END_TEST

START_TEST(test_uhost_and_time)
{
	char	 out[64], t[IRCMSG_TIME_MAX];

	ck_assert_uint_eq(ircmsg_uhost("line", "127.0.0.1:4242", out,
	    sizeof(out)), 14);
	ck_assert_str_eq(out, "line@127.0.0.1");
	ircmsg_uhost("al", "[::1]:4242", out, sizeof(out));
	ck_assert_str_eq(out, "al@0::1");
	ircmsg_uhost("al", "[fe80::2]:1", out, sizeof(out));
	ck_assert_str_eq(out, "al@fe80::2");
	ircmsg_uhost("al", "unix", out, sizeof(out));
	ck_assert_str_eq(out, "al@unix");
	ircmsg_time(t, T0);
	ck_assert_str_eq(t, "2026-12-02T01:02:03.456Z");
	ircmsg_time(t, 5);
	ck_assert_str_eq(t, "1970-01-01T00:00:00.005Z");
}
END_TEST

START_TEST(test_isupport)
{
	struct ircmsg_limits	 l = { "net", 32, 51, 300, 200, 300, 20, 999 };
	const char		*tokens[32], *want[] = { "CASEMAPPING=ascii",
	    "CHANTYPES=#", "NICKLEN=32", "CHANNELLEN=51", "TOPICLEN=300",
	    "UTF8ONLY", "CHATHISTORY=999", "MSGREFTYPES=msgid,timestamp",
	    "PREFIX=(ov)@+", "NETWORK=net", "AWAYLEN=200", "CHANLIMIT=#:20" };
	char			 buf[1024];
	size_t			 n, i, j;

	n = ircmsg_isupport(&l, buf, sizeof(buf), tokens, 32);
	ck_assert_uint_gt(n, sizeof(want) / sizeof(want[0]));
	ck_assert_ptr_null(tokens[n]);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		for (j = 0; j < n && strcmp(tokens[j], want[i]) != 0; j++)
			continue;
		ck_assert_msg(j < n, "no %s in ISUPPORT", want[i]);
	}
	/* Too few slots or bytes: fewer tokens, never an overflow. */
	ck_assert_uint_eq(ircmsg_isupport(&l, buf, sizeof(buf), tokens, 3), 2);
	ck_assert_ptr_null(tokens[2]);
	ck_assert_uint_lt(ircmsg_isupport(&l, buf, 40, tokens, 32), n);
}
END_TEST

static Suite *
ircmsg_suite(void)
{
	Suite	*s = suite_create("ircmsg");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_parse_simple);
	tcase_add_test(tc, test_parse_tags_and_source);
	tcase_add_test(tc, test_parse_empty);
	tcase_add_test(tc, test_parse_fifteen);
	tcase_add_test(tc, test_tag_escape_roundtrip);
	tcase_add_test(tc, test_client_tags);
	tcase_add_test(tc, test_controls);
	tcase_add_test(tc, test_ctcp_action);
	tcase_add_test(tc, test_events_plain);
	tcase_add_test(tc, test_events_tagged);
	tcase_add_test(tc, test_event_text_sanitised);
	tcase_add_test(tc, test_printf);
	tcase_add_test(tc, test_uhost_and_time);
	tcase_add_test(tc, test_isupport);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(ircmsg_suite());
}
