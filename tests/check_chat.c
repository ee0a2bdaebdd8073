/*
 * check_chat.c - unit tests for the pure parts of chat (chatui.c):
 * the command line, line kinds (room labels and replay times of
 * protocol v2 included), replay times, colours, sanitising (bidi
 * controls included), display width and fitting, rendering, following
 * our own nick and our room (a hostile server's too), the prompt and
 * the reconnect backoff.
 *
 * Every check compares exact bytes, so a change of format fails here
 * before it reaches a terminal.
 */

#include <check.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chatui.h"
#include "check_run.h"
#include "utf8.h"

#define S(lit)		(lit), (sizeof (lit) - 1)
#define FFFD		"\xef\xbf\xbd"

/* ---- Arguments. ---- */

static enum chat_args_result
parse(struct chat_args *a, char *err, const char *first, ...)
{
	char		*argv[16];
	const char	*s;
	va_list		 ap;
	int		 argc = 0;

	argv[argc++] = (char *)"chat";
	va_start(ap, first);
	for (s = first; s != NULL && argc < 15; s = va_arg(ap, const char *))
		argv[argc++] = (char *)s;
	va_end(ap);
	argv[argc] = NULL;
	return chatui_parse_args(a, argc, argv, err, 256);
}

START_TEST(test_args_defaults)
{
	struct chat_args	a;
	char			err[256];

	ck_assert_int_eq(parse(&a, err, NULL), CHAT_ARGS_RUN);
	ck_assert_str_eq(a.host, "127.0.0.1");
	ck_assert_str_eq(a.port, "7777");
	ck_assert_ptr_null(a.unix_path);
	ck_assert_ptr_null(a.nick);
	ck_assert_ptr_null(a.history);
	ck_assert(!a.no_color);
	ck_assert(!a.no_reconnect);
	ck_assert(!a.tls);
	ck_assert_ptr_null(a.ca_file);
	ck_assert(!a.insecure);
	ck_assert_ptr_null(a.password_file);
	ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(test_args_tls)
{
	struct chat_args	a;
	char			err[256];

	/* --tls alone: the TLS port by default, the system's CAs. */
	ck_assert_int_eq(parse(&a, err, "--tls", NULL), CHAT_ARGS_RUN);
	ck_assert(a.tls);
	ck_assert_str_eq(a.port, "7443");
	ck_assert_ptr_null(a.ca_file);
	ck_assert(!a.insecure);

	/* A PORT given wins over the TLS default, wherever --tls is. */
	ck_assert_int_eq(parse(&a, err, "example.org", "6697", "--tls",
	    "--ca", "/etc/ca.pem", NULL), CHAT_ARGS_RUN);
	ck_assert(a.tls);
	ck_assert_str_eq(a.host, "example.org");
	ck_assert_str_eq(a.port, "6697");
	ck_assert_str_eq(a.ca_file, "/etc/ca.pem");

	ck_assert_int_eq(parse(&a, err, "--tls", "--insecure", "h", NULL),
	    CHAT_ARGS_RUN);
	ck_assert(a.insecure);
	ck_assert_ptr_null(a.ca_file);

	/* A password needs no TLS (a loopback or UNIX-socket server). */
	ck_assert_int_eq(parse(&a, err, "--password-file=/run/pw", "-u", "s",
	    NULL), CHAT_ARGS_RUN);
	ck_assert_str_eq(a.password_file, "/run/pw");
	ck_assert(!a.tls);
	ck_assert_str_eq(a.port, "7777");
}
END_TEST

START_TEST(test_args_good)
{
	struct chat_args	a;
	char			err[256];

	ck_assert_int_eq(parse(&a, err, "-n", "bob", "example.org", "1234",
	    NULL), CHAT_ARGS_RUN);
	ck_assert_str_eq(a.nick, "bob");
	ck_assert_str_eq(a.host, "example.org");
	ck_assert_str_eq(a.port, "1234");

	ck_assert_int_eq(parse(&a, err, "--nick=alice", "--no-color",
	    "--no-reconnect", "::1", NULL), CHAT_ARGS_RUN);
	ck_assert_str_eq(a.nick, "alice");
	ck_assert_str_eq(a.host, "::1");
	ck_assert_str_eq(a.port, "7777");
	ck_assert(a.no_color);
	ck_assert(a.no_reconnect);

	ck_assert_int_eq(parse(&a, err, "--unix", "/run/chatd.sock",
	    "--history", "/tmp/h", NULL), CHAT_ARGS_RUN);
	ck_assert_str_eq(a.unix_path, "/run/chatd.sock");
	ck_assert_str_eq(a.history, "/tmp/h");

	ck_assert_int_eq(parse(&a, err, "-u", "s", "-nbot", NULL),
	    CHAT_ARGS_RUN);
	ck_assert_str_eq(a.unix_path, "s");
	ck_assert_str_eq(a.nick, "bot");

	ck_assert_int_eq(parse(&a, err, "h", "65535", NULL), CHAT_ARGS_RUN);
	ck_assert_str_eq(a.port, "65535");

	/* Options after the operands, as GNU programs allow. */
	ck_assert_int_eq(parse(&a, err, "h", "-n", "x", "99", NULL),
	    CHAT_ARGS_RUN);
	ck_assert_str_eq(a.host, "h");
	ck_assert_str_eq(a.nick, "x");
	ck_assert_str_eq(a.port, "99");
}
END_TEST

START_TEST(test_args_help_version)
{
	struct chat_args	a;
	char			err[256];

	ck_assert_int_eq(parse(&a, err, "--help", NULL), CHAT_ARGS_HELP);
	ck_assert_int_eq(parse(&a, err, "-h", NULL), CHAT_ARGS_HELP);
	ck_assert_int_eq(parse(&a, err, "--version", NULL),
	    CHAT_ARGS_VERSION);
	ck_assert_int_eq(parse(&a, err, "-V", NULL), CHAT_ARGS_VERSION);
	ck_assert_ptr_nonnull(strstr(chatui_usage, "--no-reconnect"));
	ck_assert_ptr_nonnull(strstr(chatui_usage, "--insecure"));
	ck_assert_ptr_nonnull(strstr(chatui_usage, "--password-file FILE"));
}
END_TEST

static void
bad(const char *want, const char *a1, const char *a2, const char *a3,
    const char *a4)
{
	struct chat_args	a;
	char			err[256];

	ck_assert_int_eq(parse(&a, err, a1, a2, a3, a4, NULL),
	    CHAT_ARGS_USAGE);
	ck_assert_str_eq(err, want);
}

START_TEST(test_args_bad)
{
	bad("unknown option '--bogus'", "--bogus", NULL, NULL, NULL);
	bad("unknown option '-x'", "-x", NULL, NULL, NULL);
	bad("option '--nick' needs an argument", "--nick", NULL, NULL, NULL);
	bad("option '-n' needs an argument", "-n", NULL, NULL, NULL);
	bad("option '--unix' needs an argument", "--unix", NULL, NULL, NULL);
	bad("bad PORT '0': a number from 1 to 65535", "h", "0", NULL, NULL);
	bad("bad PORT '65536': a number from 1 to 65535", "h", "65536", NULL,
	    NULL);
	bad("bad PORT '12ab': a number from 1 to 65535", "h", "12ab", NULL,
	    NULL);
	bad("bad PORT '': a number from 1 to 65535", "h", "", NULL, NULL);
	bad("unknown option '-1'", "h", "-1", NULL, NULL);
	bad("bad PORT '+1': a number from 1 to 65535", "h", "+1", NULL, NULL);
	bad("unexpected argument 'c'", "a", "1", "c", NULL);
	bad("--unix takes no HOST or PORT ('h')", "--unix", "/s", "h", NULL);
	bad("bad nickname ''", "-n", "", NULL, NULL);
	bad("bad nickname 'a b'", "-n", "a b", NULL, NULL);
	bad("empty HOST", "", NULL, NULL, NULL);
	bad("--unix needs a PATH", "--unix", "", NULL, NULL);
	bad("--ca needs --tls", "--ca", "f", NULL, NULL);
	bad("--insecure needs --tls", "--insecure", NULL, NULL, NULL);
	bad("--insecure and --ca contradict each other: --insecure verifies "
	    "nothing", "--tls", "--insecure", "--ca", "f");
	bad("--tls is for TCP, not for --unix", "--tls", "-u", "s", NULL);
	bad("--ca needs a FILE", "--tls", "--ca", "", NULL);
	bad("option '--ca' needs an argument", "--tls", "--ca", NULL, NULL);
	bad("--password-file needs a FILE", "--password-file", "", NULL,
	    NULL);
	bad("option '--password-file' needs an argument", "--password-file",
	    NULL, NULL, NULL);
	/* An error after a good parse: the state is reset each time. */
	bad("unknown option '--bogus'", "-n", "x", "--bogus", NULL);
}
END_TEST

static void
password_ok(const char *data, size_t len, const char *want)
{
	char	out[CHATUI_PASSWORD_MAX + 1], err[128];

	ck_assert_msg(chatui_password(data, len, out, sizeof out, err,
	    sizeof err), "'%s' refused: %s", want, err);
	ck_assert_str_eq(out, want);
}

static void
password_bad(const char *data, size_t len, const char *want)
{
	char	out[CHATUI_PASSWORD_MAX + 1], err[128];

	ck_assert(!chatui_password(data, len, out, sizeof out, err,
	    sizeof err));
	ck_assert_str_eq(err, want);
}

START_TEST(test_password)
{
	char	big[CHATUI_PASSWORD_MAX + 2], out[8], err[128];
	char	longest[CHATUI_PASSWORD_MAX + 1];

	password_ok("s3cret\n", 7, "s3cret");
	password_ok("s3cret", 6, "s3cret");
	password_ok("s3cret\r\n", 8, "s3cret");
	password_ok("two words\nsecond line\n", 22, "two words");
	/* Only the newline goes: other blanks are the password's. */
	password_ok(" pad \n", 6, " pad ");
	password_ok("caf\xc3\xa9\n", 6, "caf\xc3\xa9");

	password_bad("", 0, "the first line is empty");
	password_bad("\n", 1, "the first line is empty");
	password_bad("\r\nx\n", 4, "the first line is empty");
	password_bad("a\tb\n", 4,
	    "the first line holds a control character (byte 2)");
	password_bad("ab\0c\n", 5,
	    "the first line holds a control character (byte 3)");
	password_bad("a\rb\n", 4,
	    "the first line holds a control character (byte 2)");

	/* The longest that fits, one more, and a smaller out. */
	memset(big, 'x', sizeof big);
	big[CHATUI_PASSWORD_MAX] = '\0';
	password_ok(big, CHATUI_PASSWORD_MAX, big);
	big[CHATUI_PASSWORD_MAX] = 'x';
	ck_assert(!chatui_password(big, CHATUI_PASSWORD_MAX + 1, longest,
	    sizeof longest, err, sizeof err));
	ck_assert_int_eq(strncmp(err, "the password is longer than ", 28), 0);
	ck_assert_int_eq(atoi(err + 28), CHATUI_PASSWORD_MAX);
	ck_assert(chatui_password("1234567\n", 8, out, sizeof out, err,
	    sizeof err));
	ck_assert_str_eq(out, "1234567");
	ck_assert(!chatui_password("12345678\n", 9, out, sizeof out, err,
	    sizeof err));
	ck_assert_str_eq(err, "the password is longer than 7 bytes");
}
END_TEST

START_TEST(test_track_pass)
{
	static const char	*none[] = {
		"-- password requiredx",
		"<bob> -- password required: send /pass PASSWORD",
		"#lobby -- password required: send /pass PASSWORD",
		"!! wrong password!",
		"!! wrong passwords",
		"-- wrong password",
		"!! you are in already: no password needed now",
		""
	};
	size_t			 i;

	ck_assert_int_eq(chatui_track_pass("-- password required: send "
	    "/pass PASSWORD", 41), CHAT_PASS_REQUIRED);
	ck_assert_int_eq(chatui_track_pass("-- password required", 20),
	    CHAT_PASS_REQUIRED);
	ck_assert_int_eq(chatui_track_pass("!! wrong password", 17),
	    CHAT_PASS_WRONG);
	/* The length rules, not a NUL: the same bytes cut short. */
	ck_assert_int_eq(chatui_track_pass("!! wrong password", 16),
	    CHAT_PASS_NONE);
	for (i = 0; i < sizeof none / sizeof none[0]; i++)
		ck_assert_msg(chatui_track_pass(none[i], strlen(none[i])) ==
		    CHAT_PASS_NONE, "'%s' taken for a password line", none[i]);
}
END_TEST

START_TEST(test_is_pass)
{
	ck_assert(chatui_is_pass("/pass open sesame"));
	ck_assert(chatui_is_pass("/PASS x"));
	ck_assert(chatui_is_pass("/pass"));
	ck_assert(!chatui_is_pass("/passw x"));
	ck_assert(!chatui_is_pass("pass x"));
	ck_assert(!chatui_is_pass(" /pass x"));
	ck_assert(!chatui_is_pass("//pass x"));
}
END_TEST

START_TEST(test_colour_wanted)
{
	struct chat_args	a;
	char			err[256];

	ck_assert_int_eq(parse(&a, err, NULL), CHAT_ARGS_RUN);
	ck_assert(chatui_want_colour(true, &a, NULL));
	ck_assert(chatui_want_colour(true, &a, ""));
	ck_assert(!chatui_want_colour(true, &a, "1"));
	ck_assert(!chatui_want_colour(false, &a, NULL));
	ck_assert_int_eq(parse(&a, err, "--no-color", NULL), CHAT_ARGS_RUN);
	ck_assert(!chatui_want_colour(true, &a, NULL));
}
END_TEST

/* ---- Line kinds. ---- */

static void
kind(const char *line, enum chat_kind k, const char *nick, const char *text)
{
	struct chat_line	l;
	size_t			len = strlen(line);

	memset(&l, 0xa5, sizeof l);
	chatui_classify(line, len, &l);
	ck_assert_msg(l.kind == k, "'%s': kind %d, want %d", line, l.kind, k);
	ck_assert_uint_eq(l.nick_len, strlen(nick));
	ck_assert_msg(strncmp(line + l.nick_off, nick, l.nick_len) == 0,
	    "'%s': nick '%.*s', want '%s'", line, (int)l.nick_len,
	    line + l.nick_off, nick);
	ck_assert_msg(l.text_off <= len, "'%s': text beyond the line", line);
	ck_assert_str_eq(line + l.text_off, text);
	ck_assert_msg(l.label_len == 0 && l.time_len == 0 &&
	    l.inner_off == 0, "'%s': a prefix in a v1 line", line);
}

/*
 * A v2 line: a room label or a replay time (the other ""), the inner
 * line's kind, nick and text.
 */
static void
kind2(const char *line, const char *label, const char *time,
    enum chat_kind k, const char *nick, const char *text)
{
	struct chat_line	l;
	size_t			len = strlen(line), prefix;

	memset(&l, 0xa5, sizeof l);
	chatui_classify(line, len, &l);
	ck_assert_msg(l.kind == k, "'%s': kind %d, want %d", line, l.kind, k);
	ck_assert_uint_eq(l.label_len, strlen(label));
	if (l.label_len > 0)
		ck_assert_uint_eq(l.label_off, 0);
	ck_assert_msg(strncmp(line + l.label_off, label, l.label_len) == 0,
	    "'%s': label '%.*s', want '%s'", line, (int)l.label_len,
	    line + l.label_off, label);
	ck_assert_uint_eq(l.time_len, strlen(time));
	if (l.time_len > 0)
		ck_assert_uint_eq(l.time_off, 1);
	ck_assert_msg(strncmp(line + l.time_off, time, l.time_len) == 0,
	    "'%s': time '%.*s', want '%s'", line, (int)l.time_len,
	    line + l.time_off, time);
	/* "#room " or "[TIME] " */
	prefix = l.label_len > 0 ? l.label_len + 1 :
	    l.time_len > 0 ? l.time_len + 3 : 0;
	ck_assert_uint_eq(l.inner_off, prefix);
	ck_assert_uint_eq(l.nick_len, strlen(nick));
	if (l.nick_len == 0)
		ck_assert_uint_eq(l.nick_off, 0);
	ck_assert_msg(strncmp(line + l.nick_off, nick, l.nick_len) == 0,
	    "'%s': nick '%.*s', want '%s'", line, (int)l.nick_len,
	    line + l.nick_off, nick);
	ck_assert_msg(l.text_off >= l.inner_off && l.text_off <= len,
	    "'%s': text outside the inner line", line);
	ck_assert_str_eq(line + l.text_off, text);
}

START_TEST(test_classify)
{
	kind("<alice> hello world", CHAT_LINE_CHAT, "alice", "hello world");
	kind("<a> ", CHAT_LINE_CHAT, "a", "");
	kind("<bob> <x> y", CHAT_LINE_CHAT, "bob", "<x> y");
	kind("* alice waves", CHAT_LINE_ACTION, "alice", "waves");
	kind("*bob* psst", CHAT_LINE_PRIVATE, "bob", "psst");
	kind("-> *bob* psst", CHAT_LINE_PRIVATE_ECHO, "bob", "psst");
	kind("-- welcome to chatd, you are guest1 (1 online; /help lists "
	    "the commands)", CHAT_LINE_NOTICE, "", "welcome to chatd, you "
	    "are guest1 (1 online; /help lists the commands)");
	kind("-- bye", CHAT_LINE_NOTICE, "", "bye");
	kind("!! nickname in use", CHAT_LINE_ERROR, "", "nickname in use");
	kind("hello", CHAT_LINE_OTHER, "", "hello");
	kind("", CHAT_LINE_OTHER, "", "");
	kind("<> x", CHAT_LINE_OTHER, "", "<> x");
	kind("<a b> x", CHAT_LINE_OTHER, "", "<a b> x");
	kind("<alice", CHAT_LINE_OTHER, "", "<alice");
	kind("**", CHAT_LINE_OTHER, "", "**");
	kind("*bob*x", CHAT_LINE_OTHER, "", "*bob*x");
	kind("--", CHAT_LINE_NOTICE, "", "");
	kind("!!", CHAT_LINE_ERROR, "", "");
	kind("-x", CHAT_LINE_OTHER, "", "-x");
	kind("->x", CHAT_LINE_OTHER, "", "->x");
}
END_TEST

/* Labelled lines: the inner line is classified as v1. */
START_TEST(test_classify_label)
{
	kind2("#rust <alice> hello", "#rust", "", CHAT_LINE_CHAT, "alice",
	    "hello");
	kind2("#rust * alice waves", "#rust", "", CHAT_LINE_ACTION, "alice",
	    "waves");
	kind2("#rust -- bob joined", "#rust", "", CHAT_LINE_NOTICE, "",
	    "bob joined");
	kind2("#rust -- alice set the topic: Rust talk", "#rust", "",
	    CHAT_LINE_NOTICE, "", "alice set the topic: Rust talk");
	kind2("#rust !! odd", "#rust", "", CHAT_LINE_ERROR, "", "odd");
	kind2("#rust *bob* psst", "#rust", "", CHAT_LINE_PRIVATE, "bob",
	    "psst");
	kind2("#rust -> *bob* psst", "#rust", "", CHAT_LINE_PRIVATE_ECHO,
	    "bob", "psst");
	kind2("#日本 <a> b", "#日本", "", CHAT_LINE_CHAT, "a", "b");
	kind2("#x <a> b", "#x", "", CHAT_LINE_CHAT, "a", "b");
	/* Not a v1 line inside: the label still shows, the rest as is. */
	kind2("#rust whatever", "#rust", "", CHAT_LINE_OTHER, "", "whatever");
	kind2("#rust ", "#rust", "", CHAT_LINE_OTHER, "", "");
	kind2("#rust  <a> b", "#rust", "", CHAT_LINE_OTHER, "", " <a> b");
	/* One prefix at most. */
	kind2("#a #b <x> y", "#a", "", CHAT_LINE_OTHER, "", "#b <x> y");
	kind2("#a [2026-12-01T21:40:53Z] <x> y", "#a", "", CHAT_LINE_OTHER,
	    "", "[2026-12-01T21:40:53Z] <x> y");
	/* No label: no space after it, or nothing after the '#'. */
	kind2("#rust", "", "", CHAT_LINE_OTHER, "", "#rust");
	kind2("#", "", "", CHAT_LINE_OTHER, "", "#");
	kind2("# <a> b", "", "", CHAT_LINE_OTHER, "", "# <a> b");
	kind2("<a> #rust <b> c", "", "", CHAT_LINE_CHAT, "a", "#rust <b> c");
}
END_TEST

/* Replay lines: "[TIME] " and the inner line as v1. */
START_TEST(test_classify_replay)
{
	kind2("[2026-12-01T21:40:53Z] <alice> hi", "",
	    "2026-12-01T21:40:53Z", CHAT_LINE_CHAT, "alice", "hi");
	kind2("[2026-12-01T21:40:53Z] * alice waves", "",
	    "2026-12-01T21:40:53Z", CHAT_LINE_ACTION, "alice", "waves");
	kind2("[2026-12-01T21:40:53.250Z] <a> b", "",
	    "2026-12-01T21:40:53.250Z", CHAT_LINE_CHAT, "a", "b");
	kind2("[2026-12-01T21:40:53Z] ", "", "2026-12-01T21:40:53Z",
	    CHAT_LINE_OTHER, "", "");
	kind2("[2026-12-01T21:40:53Z] #rust <a> b", "",
	    "2026-12-01T21:40:53Z", CHAT_LINE_OTHER, "", "#rust <a> b");
	/* Not a replay line: shown as it is. */
	kind2("[2026-12-01T21:40:53Z]", "", "", CHAT_LINE_OTHER, "",
	    "[2026-12-01T21:40:53Z]");
	kind2("[2026-12-01T21:40:53Z]<a> b", "", "", CHAT_LINE_OTHER, "",
	    "[2026-12-01T21:40:53Z]<a> b");
	kind2("[2026-13-01T21:40:53Z] <a> b", "", "", CHAT_LINE_OTHER, "",
	    "[2026-13-01T21:40:53Z] <a> b");
	kind2("[2026-12-01T21:40:53Z <a> b", "", "", CHAT_LINE_OTHER, "",
	    "[2026-12-01T21:40:53Z <a> b");
	kind2("[not a time] <a> b", "", "", CHAT_LINE_OTHER, "",
	    "[not a time] <a> b");
	kind2("[] <a> b", "", "", CHAT_LINE_OTHER, "", "[] <a> b");
	kind2("[", "", "", CHAT_LINE_OTHER, "", "[");
}
END_TEST

/* ---- Replay times. ---- */

static void
utc_bad(const char *s)
{
	time_t	t = 42;

	ck_assert_msg(!chatui_utc_time(s, strlen(s), &t), "'%s' taken", s);
	ck_assert_msg(t == 42, "'%s' changed *t", s);
}

static time_t
utc(const char *s)
{
	time_t	t;

	ck_assert_msg(chatui_utc_time(s, strlen(s), &t), "'%s' refused", s);
	return t;
}

/* timegm(), of glibc, checks our arithmetic. */
static time_t
oracle(int y, int mo, int d, int h, int mi, int sec)
{
	struct tm	tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return timegm(&tm);
}

START_TEST(test_utc_time)
{
	static const char	good[] = "2026-12-01T21:40:53Z";
	char			s[32];
	size_t			i;

	ck_assert_int_eq(utc("1970-01-01T00:00:00Z"), 0);
	ck_assert_int_eq(utc(good), oracle(2026, 12, 1, 21, 40, 53));
	ck_assert_int_eq(utc("1969-12-31T23:59:59Z"), -1);
	ck_assert_int_eq(utc("0000-03-01T00:00:00Z"),
	    oracle(0, 3, 1, 0, 0, 0));
	ck_assert_int_eq(utc("9999-12-31T23:59:59Z"),
	    oracle(9999, 12, 31, 23, 59, 59));
	/* A fraction of 1 to 9 digits is taken and ignored. */
	ck_assert_int_eq(utc("2026-12-01T21:40:53.5Z"), utc(good));
	ck_assert_int_eq(utc("2026-12-01T21:40:53.123456789Z"), utc(good));
	utc_bad("2026-12-01T21:40:53.1234567890Z");
	utc_bad("2026-12-01T21:40:53.Z");
	utc_bad("2026-12-01T21:40:53.1a3Z");
	utc_bad("2026-12-01T21:40:53,5Z");
	utc_bad("2026-12-01T21:40:53xZ");
	/* A leap second is the next minute's first. */
	ck_assert_int_eq(utc("2016-12-31T23:59:60Z"),
	    utc("2017-01-01T00:00:00Z"));
	utc_bad("2026-12-01T21:40:61Z");
	utc_bad("2026-12-01T21:60:00Z");
	utc_bad("2026-12-01T24:00:00Z");
	utc_bad("2026-00-01T21:40:53Z");
	utc_bad("2026-13-01T21:40:53Z");
	utc_bad("2026-12-00T21:40:53Z");
	utc_bad("2026-12-32T21:40:53Z");
	utc_bad("2026-04-31T21:40:53Z");
	utc_bad("2023-02-29T00:00:00Z");
	utc_bad("1900-02-29T00:00:00Z");
	ck_assert_int_eq(utc("2024-02-29T00:00:00Z"),
	    oracle(2024, 2, 29, 0, 0, 0));
	ck_assert_int_eq(utc("2000-02-29T00:00:00Z"),
	    oracle(2000, 2, 29, 0, 0, 0));
	utc_bad("");
	utc_bad("2026-12-01T21:40:53");
	utc_bad("2026-12-01T21:40:5Z");
	utc_bad("2026-12-01 21:40:53Z");
	utc_bad("2026-12-01T21:40:53+00:00");
	utc_bad("+026-12-01T21:40:53Z");
	/* Each separator and each digit, replaced, makes it refused. */
	for (i = 0; i < sizeof good - 1; i++) {
		memcpy(s, good, sizeof good);
		s[i] = s[i] >= '0' && s[i] <= '9' ? 'x' : '0';
		utc_bad(s);
	}
}
END_TEST

/*
 * Every day of some years, near the epoch, around the leap rules and
 * at the ends of the range: taken exactly when timegm() does not move
 * it to another day, and then the same second.
 */
START_TEST(test_utc_time_calendar)
{
	static const int	years[] = { 0, 1, 4, 99, 100, 400, 1600, 1700,
	    1899, 1900, 1969, 1970, 1971, 1999, 2000, 2001, 2023, 2024, 2025,
	    2026, 2100, 2400, 9999 };
	struct tm		tm;
	char			s[32];
	time_t			t, want;
	size_t			i;
	int			m, d;
	bool			real;

	for (i = 0; i < sizeof years / sizeof years[0]; i++) {
		for (m = 1; m <= 12; m++) {
			for (d = 1; d <= 31; d++) {
				snprintf(s, sizeof s, "%04d-%02d-%02dT"
				    "12:34:56Z", years[i], m, d);
				want = oracle(years[i], m, d, 12, 34, 56);
				ck_assert_ptr_nonnull(gmtime_r(&want, &tm));
				real = tm.tm_mday == d;
				ck_assert_msg(chatui_utc_time(s, strlen(s),
				    &t) == real, "%s: taken %d", s, !real);
				if (real)
					ck_assert_msg(t == want, "%s: %lld, "
					    "want %lld", s, (long long)t,
					    (long long)want);
			}
		}
	}
}
END_TEST

START_TEST(test_replay_time)
{
	time_t	t = 42;

	ck_assert(chatui_replay_time(S("[2026-12-01T21:40:53Z] <a> b"), &t));
	ck_assert_int_eq(t, utc("2026-12-01T21:40:53Z"));
	t = 42;
	ck_assert(!chatui_replay_time(S("#rust <a> b"), &t));
	ck_assert(!chatui_replay_time(S("<a> [2026-12-01T21:40:53Z] b"), &t));
	ck_assert(!chatui_replay_time(S("[2026-02-30T21:40:53Z] <a> b"), &t));
	ck_assert(!chatui_replay_time(S(""), &t));
	ck_assert_int_eq(t, 42);
}
END_TEST

START_TEST(test_same_day)
{
	struct tm	a, b;

	memset(&a, 0, sizeof a);
	a.tm_year = 126;
	a.tm_yday = 334;
	a.tm_hour = 0;
	b = a;
	b.tm_hour = 23;
	ck_assert(chatui_same_day(&a, &b));
	b.tm_yday = 335;
	ck_assert(!chatui_same_day(&a, &b));
	b = a;
	b.tm_year = 125;		/* the same day a year before */
	ck_assert(!chatui_same_day(&a, &b));
}
END_TEST

/* ---- Colours. ---- */

START_TEST(test_colour_stable)
{
	static const char	*nicks[] = { "alice", "bob", "carol", "dave",
	    "eve", "mallory", "guest1", "guest2", "日本", "x" };
	unsigned		seen[100] = { 0 }, c, distinct = 0;
	size_t			i;

	/* Fixed values: a change of hash would recolour everyone. */
	ck_assert_uint_eq(chatui_nick_colour(S("alice")), 96);
	ck_assert_uint_eq(chatui_nick_colour(S("bob")), 95);
	ck_assert_uint_eq(chatui_nick_colour(S("ALICE")), 96);
	ck_assert_uint_eq(chatui_nick_colour(S("Bob")), 95);
	for (i = 0; i < sizeof nicks / sizeof nicks[0]; i++) {
		c = chatui_nick_colour(nicks[i], strlen(nicks[i]));
		ck_assert_uint_eq(c, chatui_nick_colour(nicks[i],
		    strlen(nicks[i])));
		ck_assert_msg((c >= 32 && c <= 36) || (c >= 92 && c <= 96),
		    "%s: colour %u", nicks[i], c);
		if (seen[c]++ == 0)
			distinct++;
	}
	ck_assert_uint_ge(distinct, 5);
}
END_TEST

/* ---- Sanitising. ---- */

static void
clean(const char *in, size_t len, const char *want)
{
	char	out[256];
	size_t	n;

	ck_assert_uint_le(CHATUI_SANITIZED_MAX(len), sizeof out);
	n = chatui_sanitize(in, len, out);
	ck_assert_uint_le(n, CHATUI_SANITIZED_MAX(len));
	out[n] = '\0';
	ck_assert_str_eq(out, want);
}

START_TEST(test_sanitize)
{
	clean(S("plain text"), "plain text");
	clean(S("\033[31mred"), FFFD "[31mred");
	clean(S("a\033]0;title\007b"), "a" FFFD "]0;title" FFFD "b");
	clean(S("\xc2\x9b" "31m"), FFFD "31m");		/* C1 CSI, UTF-8 */
	clean(S("\x9b" "31m"), FFFD "31m");		/* a bare 0x9b byte */
	clean(S("\xc2\x80\xc2\x9f\xc2\xa0"), FFFD FFFD "\xc2\xa0");
	clean(S("a\x7f" "b"), "a" FFFD "b");		/* DEL */
	clean(S("a\rb"), "a" FFFD "b");			/* CR in the middle */
	clean(S("a\tb"), "a b");
	clean(S("a\0b"), "a" FFFD "b");
	clean(S("\xff\xfe"), FFFD FFFD);
	clean(S("\xe2\x82x"), FFFD FFFD "x");		/* truncated */
	clean(S("\xc0\xaf"), FFFD FFFD);		/* overlong '/' */
	clean(S("\xed\xa0\x80"), FFFD FFFD FFFD);	/* a surrogate */
	clean(S("漢字 😀 é"), "漢字 😀 é");
	clean(S(""), "");
}
END_TEST

/*
 * The bidi controls (U+061C, U+200E, U+200F, U+202A..U+202E,
 * U+2066..U+2069) become U+FFFD; their neighbours stay.
 */
START_TEST(test_sanitize_bidi)
{
	clean(S("\xd8\x9b"), "\xd8\x9b");			/* U+061B */
	clean(S("\xd8\x9c"), FFFD);				/* U+061C ALM */
	clean(S("\xd8\x9d"), "\xd8\x9d");			/* U+061D */
	clean(S("\xe2\x80\x8d"), "\xe2\x80\x8d");		/* U+200D ZWJ */
	clean(S("\xe2\x80\x8e"), FFFD);			/* U+200E LRM */
	clean(S("\xe2\x80\x8f"), FFFD);			/* U+200F RLM */
	clean(S("\xe2\x80\x90"), "\xe2\x80\x90");		/* U+2010 */
	clean(S("\xe2\x80\xa9"), "\xe2\x80\xa9");		/* U+2029 */
	clean(S("\xe2\x80\xaa"), FFFD);			/* U+202A LRE */
	clean(S("\xe2\x80\xab"), FFFD);			/* U+202B RLE */
	clean(S("\xe2\x80\xac"), FFFD);			/* U+202C PDF */
	clean(S("\xe2\x80\xad"), FFFD);			/* U+202D LRO */
	clean(S("\xe2\x80\xae"), FFFD);			/* U+202E RLO */
	clean(S("\xe2\x80\xaf"), "\xe2\x80\xaf");		/* U+202F */
	clean(S("\xe2\x81\xa5"), "\xe2\x81\xa5");		/* U+2065 */
	clean(S("\xe2\x81\xa6"), FFFD);			/* U+2066 LRI */
	clean(S("\xe2\x81\xa7"), FFFD);			/* U+2067 RLI */
	clean(S("\xe2\x81\xa8"), FFFD);			/* U+2068 FSI */
	clean(S("\xe2\x81\xa9"), FFFD);			/* U+2069 PDI */
	clean(S("\xe2\x81\xaa"), "\xe2\x81\xaa");		/* U+206A */
	/* Trojan Source's "stretched string": one stand-in each. */
	clean(S("if (access != \"user\xe2\x80\xae \xe2\x81\xa6// admin"
	    "\xe2\x81\xa9 \xe2\x81\xa6\")"), "if (access != \"user" FFFD " "
	    FFFD "// admin" FFFD " " FFFD "\")");
	/* A ZWJ emoji sequence is left whole. */
	clean(S("\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb"),
	    "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb");
}
END_TEST

/* Every code point from U+0000 to U+FFFF: replaced exactly when it should. */
START_TEST(test_sanitize_bmp)
{
	char		in[4], out[16];
	uint32_t	cp;
	size_t		n, len;
	bool		bidi, control;

	for (cp = 0; cp <= 0xffff; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;	/* surrogates: not UTF-8 */
		len = utf8_encode(cp, in);
		n = chatui_sanitize(in, len, out);
		bidi = cp == 0x061c || cp == 0x200e || cp == 0x200f ||
		    (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069);
		control = (cp < 0x20 && cp != '\t') ||
		    (cp >= 0x7f && cp <= 0x9f);
		if (bidi || control) {
			ck_assert_msg(n == 3 && memcmp(out, FFFD, 3) == 0,
			    "U+%04X not replaced", (unsigned)cp);
		} else if (cp == '\t') {
			ck_assert_msg(n == 1 && out[0] == ' ', "TAB");
		} else {
			ck_assert_msg(n == len && memcmp(out, in, len) == 0,
			    "U+%04X changed", (unsigned)cp);
		}
	}
}
END_TEST

/* Whatever the bytes, the output has no byte below 0x20, no DEL. */
START_TEST(test_sanitize_every_byte)
{
	char	in[3], out[16];
	size_t	n, i;
	int	b, c;

	for (b = 0; b < 256; b++) {
		for (c = 0; c < 256; c += 17) {
			in[0] = (char)b;
			in[1] = (char)c;
			in[2] = (char)0x9b;
			n = chatui_sanitize(in, 3, out);
			for (i = 0; i < n; i++)
				ck_assert_msg((unsigned char)out[i] >= 0x20 &&
				    out[i] != 0x7f, "%02x %02x: byte %zu is "
				    "%02x", b, c, i, (unsigned char)out[i]);
		}
	}
}
END_TEST

/* ---- Width. ---- */

START_TEST(test_width)
{
	ck_assert_uint_eq(chatui_width(S("hello")), 5);
	ck_assert_uint_eq(chatui_width(S("")), 0);
	ck_assert_uint_eq(chatui_width(S("漢字")), 4);
	ck_assert_uint_eq(chatui_width(S("こんにちは")), 10);
	ck_assert_uint_eq(chatui_width(S("한국")), 4);
	ck_assert_uint_eq(chatui_width(S("ｶﾀｶﾅ")), 4);	/* half-width */
	ck_assert_uint_eq(chatui_width(S("ＡＢ")), 4);	/* full-width */
	ck_assert_uint_eq(chatui_width(S("😀")), 2);
	ck_assert_uint_eq(chatui_width(S("🚀🤖")), 4);
	ck_assert_uint_eq(chatui_width(S("e\xcc\x81")), 1);	/* e + U+0301 */
	ck_assert_uint_eq(chatui_width(S("a\xe2\x80\x8b" "b")), 2); /* ZWSP */
	ck_assert_uint_eq(chatui_width(S("hi 漢字 😀!")), 11);
	ck_assert_uint_eq(chatui_width(S("\xff")), 1);	/* shown as U+FFFD */
	ck_assert_int_eq(chatui_cp_width(0x1b), 0);
	ck_assert_int_eq(chatui_cp_width(0x9b), 0);
	ck_assert_int_eq(chatui_cp_width(0xe9), 1);
	ck_assert_int_eq(chatui_cp_width(0x4e00), 2);
	ck_assert_int_eq(chatui_cp_width(0x9fff), 2);
	ck_assert_int_eq(chatui_cp_width(0xa4d0), 1);
	ck_assert_int_eq(chatui_cp_width(0x1f600), 2);
	ck_assert_int_eq(chatui_cp_width(0x20000), 2);
	ck_assert_int_eq(chatui_cp_width(0xfe0f), 0);
}
END_TEST

/* chatui_fit() into a buffer with a guard after it. */
static void
fit(const char *in, size_t len, size_t cols, size_t bytes, const char *want)
{
	char	out[512];
	size_t	n;

	ck_assert_uint_lt(bytes, sizeof out);
	memset(out, 'Z', sizeof out);
	n = chatui_fit(in, len, cols, bytes, out);
	ck_assert_uint_le(n, bytes);
	ck_assert_int_eq(out[bytes], 'Z');
	out[n] = '\0';
	ck_assert_str_eq(out, want);
}

#define ELL	"\xe2\x80\xa6"	/* U+2026 */

START_TEST(test_fit)
{
	char	in[256], want[256];
	size_t	k;

	fit(S("#rust"), 24, 96, "#rust");
	fit(S(""), 24, 96, "");
	fit(S("abc"), 3, 3, "abc");		/* exactly: whole */
	fit(S("abcd"), 3, 3, ELL);		/* only the ellipsis fits */
	fit(S("abcd"), 3, 96, "ab" ELL);
	fit(S("a"), 1, 3, "a");
	fit(S("ab"), 1, 3, ELL);
	/* Sanitised first, as the lines show it. */
	fit(S("#\033[31mevil"), 24, 96, "#" FFFD "[31mevil");
	fit(S("#\xe2\x80\xae" "evil\x7f"), 24, 96, "#" FFFD "evil" FFFD);
	fit(S("a\tb\xff"), 24, 96, "a b" FFFD);
	fit(S("\033\033\033\033"), 3, 96, FFFD FFFD ELL);
	/* Columns: wide characters are never cut in half. */
	fit(S("漢字漢"), 6, 96, "漢字漢");
	fit(S("漢字漢"), 5, 96, "漢字" ELL);
	fit(S("漢字漢"), 4, 96, "漢" ELL);
	fit(S("😀😀😀"), 5, 96, "😀😀" ELL);
	/* Bytes: four-byte characters, and zero-width marks piled up. */
	fit(S("😀😀"), 24, 8, "😀😀");
	fit(S("😀😀😀"), 24, 8, "😀" ELL);
	fit(S("😀😀😀"), 24, 10, "😀" ELL);
	fit(S("😀😀😀"), 24, 11, "😀😀" ELL);
	in[0] = 'a';
	for (k = 0; k < 100; k++)
		memcpy(in + 1 + 2 * k, "\xcc\x81", 2);	/* U+0301 */
	/* 1 + 2k + 3 <= 96 bytes: k = 46 marks, then the ellipsis. */
	memcpy(want, in, 1 + 2 * 46);
	memcpy(want + 1 + 2 * 46, ELL, 4);
	fit(in, 1 + 2 * 100, 24, 96, want);
	ck_assert_uint_eq(strlen(want), 96);
}
END_TEST

/*
 * Whatever the bounds: within them, valid UTF-8 that sanitising leaves
 * alone, a start of the sanitised input (and an ellipsis) or all of it,
 * and fitting it again changes nothing.
 */
START_TEST(test_fit_bounds)
{
	static const char	in[] = "#a漢\033b😀\xcc\x81\xff" "c\xe2\x80\xae"
	    "字dé";
	char			out[64], again[64], clean[128], re[256];
	size_t			cols, bytes, n, m, clen, cut;

	clen = chatui_sanitize(in, sizeof in - 1, clean);
	for (cols = 1; cols <= 24; cols++) {
		for (bytes = 3; bytes <= 48; bytes++) {
			n = chatui_fit(in, sizeof in - 1, cols, bytes, out);
			ck_assert_uint_le(n, bytes);
			ck_assert_uint_le(chatui_width(out, n), cols);
			ck_assert_uint_eq(chatui_sanitize(out, n, re), n);
			ck_assert(memcmp(re, out, n) == 0);
			if (n == clen && memcmp(out, clean, n) == 0) {
				ck_assert(chatui_width(clean, clen) <= cols &&
				    clen <= bytes);
			} else {
				ck_assert_uint_ge(n, 3);
				cut = n - 3;
				ck_assert(memcmp(out + cut, ELL, 3) == 0);
				ck_assert(memcmp(out, clean, cut) == 0);
			}
			m = chatui_fit(out, n, cols, bytes, again);
			ck_assert_uint_eq(m, n);
			ck_assert(memcmp(again, out, n) == 0);
		}
	}
}
END_TEST

/* ---- Rendering. ---- */

static void
render(const char *line, size_t len, const char *stamp, int how,
    const char *want)
{
	char	*s = chatui_render(line, len, stamp, how);

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, want);
	free(s);
}

#define C	CHATUI_COLOUR
#define R	CHATUI_READER

START_TEST(test_render_plain)
{
	render(S("<alice> hi"), NULL, 0, "<alice> hi");
	render(S("<alice> hi"), "12:34", R, "12:34 <alice> hi");
	render(S("<eve> \033[2J\033[31mgotcha"), NULL, 0,
	    "<eve> " FFFD "[2J" FFFD "[31mgotcha");
	render(S("-- bye"), "00:00", R, "00:00 -- bye");
	render(S("<bob> 漢字 😀"), NULL, 0, "<bob> 漢字 😀");
}
END_TEST

START_TEST(test_render_colour)
{
	render(S("<alice> hi"), "12:34", C | R,
	    "\033[2m12:34\033[0m <\033[96malice\033[0m> hi");
	render(S("<bob> hi"), NULL, C, "<\033[95mbob\033[0m> hi");
	render(S("* alice waves"), NULL, C,
	    "\033[1m*\033[0m \033[96malice\033[0m waves");
	render(S("*bob* psst"), NULL, C, "\033[1;95m*bob*\033[0m psst");
	render(S("-> *bob* psst"), NULL, C,
	    "\033[1m->\033[0m \033[1;95m*bob*\033[0m psst");
	render(S("-- alice joined"), NULL, C,
	    "\033[2m-- alice joined\033[0m");
	render(S("!! nickname in use"), NULL, C,
	    "\033[1;31m!! nickname in use\033[0m");
	render(S("whatever"), NULL, C, "whatever");
	/* The server's ESC never survives, even inside a coloured line. */
	render(S("<eve> \033[31mx"), NULL, C,
	    "<\033[34meve\033[0m> " FFFD "[31mx");
}
END_TEST

/* SGR of the label of room[0..len): its colour, as a nick's. */
static const char *
label_sgr(const char *room, size_t len)
{
	static char	sgr[16];

	snprintf(sgr, sizeof sgr, "\033[%um", chatui_nick_colour(room, len));
	return sgr;
}

/* A room label: "[#room] " for a reader, as it came for a script. */
START_TEST(test_render_label)
{
	char	want[256];

	render(S("#rust <alice> hi"), "12:34", R, "12:34 [#rust] <alice> hi");
	render(S("#rust <alice> hi"), NULL, 0, "#rust <alice> hi");
	render(S("#rust -- bob left (bye)"), "12:34", R,
	    "12:34 [#rust] -- bob left (bye)");
	render(S("#rust whatever"), "12:34", R, "12:34 [#rust] whatever");
	render(S("#rust"), "12:34", R, "12:34 #rust");

	snprintf(want, sizeof want, "\033[2m12:34\033[0m %s[#rust]\033[0m "
	    "<\033[96malice\033[0m> hi", label_sgr(S("#rust")));
	render(S("#rust <alice> hi"), "12:34", C | R, want);
	snprintf(want, sizeof want, "%s[#rust]\033[0m \033[1m*\033[0m "
	    "\033[96malice\033[0m waves", label_sgr(S("#rust")));
	render(S("#rust * alice waves"), NULL, C | R, want);
	snprintf(want, sizeof want, "%s[#Go]\033[0m \033[2m-- bob joined"
	    "\033[0m", label_sgr(S("#go")));	/* one room, one colour */
	render(S("#Go -- bob joined"), NULL, C | R, want);
	snprintf(want, sizeof want, "%s[#rust]\033[0m whatever",
	    label_sgr(S("#rust")));
	render(S("#rust whatever"), NULL, C | R, want);
	/* Colour for a script: the prefix as it came, the rest coloured. */
	render(S("#rust <alice> hi"), NULL, C,
	    "#rust <\033[96malice\033[0m> hi");

	/* A hostile label: sanitised before the label is made. */
	render(S("#\033]0;x\007\xe2\x80\xae" "evil <eve> \033[31mhi"), "12:34",
	    R, "12:34 [#" FFFD "]0;x" FFFD FFFD "evil] <eve> " FFFD "[31mhi");
	snprintf(want, sizeof want, "%s[#" FFFD "[2J" FFFD "]\033[0m "
	    "<\033[34meve\033[0m> x", label_sgr(S("#" FFFD "[2J" FFFD)));
	render(S("#\033[2J\xc2\x9b <eve> x"), NULL, C | R, want);
}
END_TEST

/* A replay line: for a reader its time is the stamp the caller gives. */
START_TEST(test_render_replay)
{
	render(S("[2026-12-01T21:40:53Z] <alice> hi"), "21:40", R,
	    "21:40 <alice> hi");
	render(S("[2026-12-01T21:40:53Z] <alice> hi"), NULL, 0,
	    "[2026-12-01T21:40:53Z] <alice> hi");
	render(S("[2026-12-01T21:40:53Z] <alice> hi"), "2026-12-01 22:40",
	    C | R, "\033[2m2026-12-01 22:40\033[0m <\033[96malice\033[0m> hi");
	render(S("[2026-12-01T21:40:53Z] * alice waves"), "21:40", C | R,
	    "\033[2m21:40\033[0m \033[1m*\033[0m \033[96malice\033[0m "
	    "waves");
	render(S("[2026-12-01T21:40:53Z] <alice> hi"), NULL, C,
	    "[2026-12-01T21:40:53Z] <\033[96malice\033[0m> hi");
	/* Not a time: the line as it came. */
	render(S("[bogus] <a> b"), "12:34", R, "12:34 [bogus] <a> b");
	render(S("[2026-12-01T21:40:53Z] <eve> \033[31mx"), "21:40", R,
	    "21:40 <eve> " FFFD "[31mx");
}
END_TEST

/* ---- Our nick. ---- */

START_TEST(test_track_nick)
{
	char	nick[CHATUI_NICK_MAX + 1] = "";

	ck_assert_int_eq(chatui_track_nick(S("<guest1> hi"), nick),
	    CHAT_NICK_NONE);
	ck_assert_str_eq(nick, "");
	ck_assert_int_eq(chatui_track_nick(S("-- welcome to chatd, you are "
	    "guest1 (1 online; /help lists the commands)"), nick),
	    CHAT_NICK_WELCOME);
	ck_assert_str_eq(nick, "guest1");
	ck_assert_int_eq(chatui_track_nick(S("-- guest2 is now known as "
	    "bob"), nick), CHAT_NICK_NONE);
	ck_assert_str_eq(nick, "guest1");
	ck_assert_int_eq(chatui_track_nick(S("-- guest10 is now known as "
	    "x"), nick), CHAT_NICK_NONE);	/* not a prefix match */
	ck_assert_str_eq(nick, "guest1");
	ck_assert_int_eq(chatui_track_nick(S("-- guest1 is now known as "
	    "alice"), nick), CHAT_NICK_CHANGED);
	ck_assert_str_eq(nick, "alice");
	ck_assert_int_eq(chatui_track_nick(S("-- alice is now known as "
	    "Alice"), nick), CHAT_NICK_CHANGED);
	ck_assert_str_eq(nick, "Alice");
	ck_assert_int_eq(chatui_track_nick(S("<Alice> -- Alice is now known "
	    "as fake"), nick), CHAT_NICK_NONE);
	ck_assert_int_eq(chatui_track_nick(S("-- Alice is now known as a b"),
	    nick), CHAT_NICK_NONE);
	ck_assert_int_eq(chatui_track_nick(S("-- welcome to chatd, you are "),
	    nick), CHAT_NICK_NONE);
	ck_assert_str_eq(nick, "Alice");
	ck_assert_int_eq(chatui_track_nick(S("-- welcome to chatd, you are "
	    "日本 (2 online; /help lists the commands)"), nick),
	    CHAT_NICK_WELCOME);
	ck_assert_str_eq(nick, "日本");
}
END_TEST

/*
 * A hostile server's nicks are kept sanitised, as the lines show them,
 * so that the prompt built from them holds no escape; a nick change is
 * still followed, its old nick compared after the same sanitising.
 */
START_TEST(test_track_nick_hostile)
{
	char	nick[CHATUI_NICK_MAX + 1] = "";
	char	line[512];
	size_t	i, n;

	ck_assert_int_eq(chatui_track_nick(S("-- welcome to chatd, you are "
	    "\033]0;pwned\007x\xc2\x9d" "y (1 online)"), nick),
	    CHAT_NICK_WELCOME);
	ck_assert_str_eq(nick, FFFD "]0;pwned" FFFD "x" FFFD "y");
	ck_assert_int_eq(chatui_track_nick(S("-- \033]0;pwned\007x\xc2\x9d"
	    "y is now known as \xe2\x80\xae" "evil\xe2\x81\xa6\033[2J"),
	    nick), CHAT_NICK_CHANGED);
	ck_assert_str_eq(nick, FFFD "evil" FFFD FFFD "[2J");
	/* Another's change, even one that looks like ours once shown. */
	ck_assert_int_eq(chatui_track_nick(S("-- \xe2\x80\xae" "evil\xe2"
	    "\x81\xa6\033[3J is now known as bob"), nick), CHAT_NICK_NONE);
	ck_assert_str_eq(nick, FFFD "evil" FFFD FFFD "[2J");
	/* The same, byte for byte but for what is replaced: ours. */
	ck_assert_int_eq(chatui_track_nick(S("-- \xd8\x9c" "evil\x7f\xff"
	    "[2J is now known as \xff\x00\x07\x7f\xc2\x80"), nick),
	    CHAT_NICK_CHANGED);
	ck_assert_str_eq(nick, FFFD FFFD FFFD FFFD FFFD);
	ck_assert_int_eq(chatui_track_nick(S("-- welcome to chatd, you are "
	    "\xe2\x80\x8f\xe2\x80\x8e" "ab\xd8\x9c (1 online)"), nick),
	    CHAT_NICK_WELCOME);
	ck_assert_str_eq(nick, FFFD FFFD "ab" FFFD);

	/* 64 C1 controls fit in 128 bytes, but not once shown: refused. */
	n = snprintf(line, sizeof line, "-- welcome to chatd, you are ");
	for (i = 0; i < 64; i++) {
		line[n++] = '\xc2';
		line[n++] = '\x85';
	}
	memcpy(line + n, " (1 online)", 11);
	n += 11;
	ck_assert_int_eq(chatui_track_nick(line, n, nick), CHAT_NICK_NONE);
	ck_assert_str_eq(nick, FFFD FFFD "ab" FFFD);
}
END_TEST

static void
prompt_in(const char *nick, size_t len, const char *room, size_t room_len,
    const char *want)
{
	char	out[CHATUI_PROMPT_MAX + 1];

	memset(out, 'Z', sizeof out);
	chatui_prompt(nick, len, room, room_len, out);
	ck_assert_str_eq(out, want);
	ck_assert_int_eq(out[CHATUI_PROMPT_MAX], 'Z');	/* stayed inside */
}

static void
prompt(const char *nick, size_t len, const char *want)
{
	char	out[CHATUI_PROMPT_MAX + 1];

	memset(out, 'Z', sizeof out);
	chatui_prompt(nick, len, "", 0, out);
	ck_assert_str_eq(out, want);
	ck_assert_int_eq(out[CHATUI_PROMPT_MAX], 'Z');	/* stayed inside */
}

/* The prompt sanitises whatever nick it is given. */
START_TEST(test_prompt)
{
	char	nick[CHATUI_NICK_MAX + 10], want[CHATUI_PROMPT_MAX];
	size_t	i;

	prompt(S(""), "> ");
	prompt(S("alice"), "[alice] ");
	prompt(S("日本"), "[日本] ");
	prompt(S("\033]0;pwned\007"), "[" FFFD "]0;pwned" FFFD "] ");
	prompt(S("\033]52;c;cHduZWQ=\033\\"),
	    "[" FFFD "]52;c;cHduZWQ=" FFFD "\\] ");
	prompt(S("a\xc2\x9b" "2J\x9b\x7f\xff"), "[a" FFFD "2J" FFFD FFFD FFFD
	    "] ");
	prompt(S("\001x\002"), "[" FFFD "x" FFFD "] ");	/* readline's */
	prompt(S("\xe2\x80\xae" "evil\xe2\x81\xa6"), "[" FFFD "evil" FFFD
	    "] ");
	prompt(S("a\0b"), "[a" FFFD "b] ");
	prompt(S("a\tb"), "[a b] ");

	/* Too long: cut at CHATUI_NICK_MAX bytes. */
	memset(nick, 'x', sizeof nick);
	want[0] = '[';
	memset(want + 1, 'x', CHATUI_NICK_MAX);
	memcpy(want + 1 + CHATUI_NICK_MAX, "] ", 3);
	prompt(nick, sizeof nick, want);

	/*
	 * The longest prompt without a room: every byte of the longest
	 * nick an ESC.  A room adds a space and CHATUI_ROOM_MAX bytes
	 * (test_prompt_room).
	 */
	memset(nick, '\033', sizeof nick);
	for (i = 0; i < CHATUI_NICK_MAX; i++)
		memcpy(want + 1 + 3 * i, FFFD, 3);
	memcpy(want + 1 + 3 * CHATUI_NICK_MAX, "] ", 3);
	ck_assert_uint_eq(strlen(want) + 1 + 1 + CHATUI_ROOM_MAX,
	    CHATUI_PROMPT_MAX);
	prompt(nick, sizeof nick, want);
}
END_TEST

/* The room in the prompt: sanitised, bounded. */
START_TEST(test_prompt_room)
{
	char	nick[CHATUI_NICK_MAX], room[200], want[CHATUI_PROMPT_MAX];
	size_t	i, n;

	prompt_in(S("alice"), S("#rust"), "[alice #rust] ");
	prompt_in(S(""), S("#rust"), "[#rust] ");
	prompt_in(S("alice"), S(""), "[alice] ");
	prompt_in(S(""), S(""), "> ");
	prompt_in(S("alice"), S("#\033[31mevil"), "[alice #" FFFD
	    "[31mevil] ");
	prompt_in(S("alice"), S("#\033]0;pwned\007\001\002"), "[alice #"
	    FFFD "]0;pwned" FFFD FFFD FFFD "] ");
	prompt_in(S("alice"), S("#\xe2\x80\xae" "evil\xe2\x81\xa6"),
	    "[alice #" FFFD "evil" FFFD "] ");
	prompt_in(S("\033x"), S("#\xc2\x9b" "2J"), "[" FFFD "x #" FFFD
	    "2J] ");

	/* A long room: CHATUI_ROOM_COLS columns, the last an ellipsis. */
	room[0] = '#';
	memset(room + 1, 'r', 99);
	want[0] = '[';
	memcpy(want + 1, room, CHATUI_ROOM_COLS - 1);
	memcpy(want + CHATUI_ROOM_COLS, ELL "] ", 6);
	prompt_in(S(""), room, 100, want);
	prompt_in(S(""), want + 1, strlen(want) - 3, want);	/* as kept */
	snprintf(room, sizeof room, "#%s", "漢字漢字漢字漢字漢字漢字漢字");
	prompt_in(S("a"), room, strlen(room), "[a #漢字漢字漢字漢字漢字漢"
	    ELL "] ");

	/* The longest: nick all ESC, the room 24 columns of 4 bytes. */
	memset(nick, '\033', sizeof nick);
	n = 0;
	for (i = 0; i < CHATUI_ROOM_COLS; i++) {
		memcpy(room + n, "\xf0\x9d\x90\x80", 4);	/* U+1D400 */
		n += 4;
	}
	ck_assert_uint_eq(n, CHATUI_ROOM_MAX);
	want[0] = '[';
	for (i = 0; i < CHATUI_NICK_MAX; i++)
		memcpy(want + 1 + 3 * i, FFFD, 3);
	want[1 + 3 * CHATUI_NICK_MAX] = ' ';
	memcpy(want + 2 + 3 * CHATUI_NICK_MAX, room, n);
	memcpy(want + 2 + 3 * CHATUI_NICK_MAX + n, "] ", 3);
	ck_assert_uint_eq(strlen(want) + 1, CHATUI_PROMPT_MAX);
	prompt_in(nick, sizeof nick, room, n, want);
}
END_TEST

/* chatui_track_room() with a guard after the room. */
static void
track_room(const char *line, size_t len, char *room,
    enum chat_room_event want_ev, const char *want_room)
{
	ck_assert_int_eq(chatui_track_room(line, len, room), want_ev);
	ck_assert_int_eq(room[CHATUI_ROOM_MAX + 1], 'Z');
	ck_assert_str_eq(room, want_room);
}

START_TEST(test_track_room)
{
	char	room[CHATUI_ROOM_MAX + 2], line[256], want[64];

	memset(room, 'Z', sizeof room);
	room[0] = '\0';
	track_room(S("-- welcome to chatd, you are guest1 (1 online; /help "
	    "lists the commands)"), room, CHAT_ROOM_NONE, "");
	track_room(S("-- now talking in #rust (3 online)"), room,
	    CHAT_ROOM_NOW, "#rust");
	track_room(S("<eve> -- now talking in #evil (1 online)"), room,
	    CHAT_ROOM_NONE, "#rust");
	track_room(S("#go -- now talking in #evil (1 online)"), room,
	    CHAT_ROOM_NONE, "#rust");
	track_room(S("-- now talking in evil (1 online)"), room,
	    CHAT_ROOM_NONE, "#rust");
	track_room(S("-- now talking in # (1 online)"), room,
	    CHAT_ROOM_NONE, "#rust");
	track_room(S("-- now talking in  #evil"), room, CHAT_ROOM_NONE,
	    "#rust");
	track_room(S("-- now talking in "), room, CHAT_ROOM_NONE, "#rust");
	track_room(S("-- you left #rust"), room, CHAT_ROOM_NONE, "#rust");
	track_room(S("-- now talking in #Go"), room, CHAT_ROOM_NOW, "#Go");
	track_room(S("-- you are in no roomy"), room, CHAT_ROOM_NONE, "#Go");
	track_room(S("!! you are in no room; /join #room first"), room,
	    CHAT_ROOM_NONE, "#Go");
	track_room(S("-- you are in no room; /join #room to talk"), room,
	    CHAT_ROOM_NOWHERE, "");
	track_room(S("-- now talking in #日本 (2 online)"), room,
	    CHAT_ROOM_NOW, "#日本");
	track_room(S("-- you are in no room"), room, CHAT_ROOM_NOWHERE, "");

	/* Hostile names: kept sanitised, and bounded. */
	track_room(S("-- now talking in #\033[31mevil (1 online)"), room,
	    CHAT_ROOM_NOW, "#" FFFD "[31mevil");
	track_room(S("-- now talking in #\xe2\x80\xae" "evil\xe2\x81\xa6\x7f"
	    " (1 online)"), room, CHAT_ROOM_NOW, "#" FFFD "evil" FFFD FFFD);
	track_room(S("-- now talking in #a\0b\t"), room, CHAT_ROOM_NOW,
	    "#a" FFFD "b ");
	snprintf(line, sizeof line, "-- now talking in #%0100d (1 online)",
	    0);
	want[0] = '#';
	memset(want + 1, '0', CHATUI_ROOM_COLS - 2);
	memcpy(want + CHATUI_ROOM_COLS - 1, ELL, 4);
	track_room(line, strlen(line), room, CHAT_ROOM_NOW, want);
}
END_TEST

START_TEST(test_nick_change)
{
	const char	*new;
	size_t		 len;

	ck_assert(chatui_nick_change(S("-- a is now known as b"), &new, &len));
	ck_assert_uint_eq(len, 1);
	ck_assert_int_eq(new[0], 'b');
	ck_assert(!chatui_nick_change(S("-- a is now known as "), &new, &len));
	ck_assert(!chatui_nick_change(S("-- a joined"), &new, &len));
}
END_TEST

/* ---- Backoff. ---- */

START_TEST(test_backoff)
{
	static const unsigned	want[] = { 1, 2, 4, 8, 16, 30, 30, 30 };
	unsigned		i;

	for (i = 0; i < sizeof want / sizeof want[0]; i++)
		ck_assert_uint_eq(chatui_backoff(i), want[i]);
	ck_assert_uint_eq(chatui_backoff(31), 30);
	ck_assert_uint_eq(chatui_backoff(32), 30);
	ck_assert_uint_eq(chatui_backoff(UINT32_MAX), 30);
}
END_TEST

static Suite *
chat_suite(void)
{
	Suite	*s = suite_create("chat");
	TCase	*tc;

	tc = tcase_create("args");
	tcase_add_test(tc, test_args_defaults);
	tcase_add_test(tc, test_args_good);
	tcase_add_test(tc, test_args_help_version);
	tcase_add_test(tc, test_args_bad);
	tcase_add_test(tc, test_args_tls);
	tcase_add_test(tc, test_password);
	tcase_add_test(tc, test_track_pass);
	tcase_add_test(tc, test_is_pass);
	tcase_add_test(tc, test_colour_wanted);
	suite_add_tcase(s, tc);

	tc = tcase_create("lines");
	tcase_add_test(tc, test_classify);
	tcase_add_test(tc, test_classify_label);
	tcase_add_test(tc, test_classify_replay);
	tcase_add_test(tc, test_utc_time);
	tcase_add_test(tc, test_utc_time_calendar);
	tcase_add_test(tc, test_replay_time);
	tcase_add_test(tc, test_same_day);
	tcase_add_test(tc, test_colour_stable);
	tcase_add_test(tc, test_render_plain);
	tcase_add_test(tc, test_render_colour);
	tcase_add_test(tc, test_render_label);
	tcase_add_test(tc, test_render_replay);
	tcase_add_test(tc, test_track_nick);
	tcase_add_test(tc, test_track_nick_hostile);
	tcase_add_test(tc, test_prompt);
	tcase_add_test(tc, test_prompt_room);
	tcase_add_test(tc, test_track_room);
	tcase_add_test(tc, test_nick_change);
	suite_add_tcase(s, tc);

	tc = tcase_create("text");
	tcase_add_test(tc, test_sanitize);
	tcase_add_test(tc, test_sanitize_bidi);
	tcase_add_test(tc, test_sanitize_bmp);
	tcase_add_test(tc, test_sanitize_every_byte);
	tcase_add_test(tc, test_width);
	tcase_add_test(tc, test_fit);
	tcase_add_test(tc, test_fit_bounds);
	suite_add_tcase(s, tc);

	tc = tcase_create("reconnect");
	tcase_add_test(tc, test_backoff);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return check_run(chat_suite());
}
