/*
 * check_linefmt.c - the line protocol's rendering of events, byte for
 * byte: every kind plain and labelled, private lines never labelled,
 * client text sanitised wherever it lands, the history form and its time.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linefmt.h"
#include "check_run.h"

#define FFFD	"\xef\xbf\xbd"

static struct event *
mkev_len(enum event_kind kind, const char *room, const char *nick,
    const char *text, size_t text_len, uint64_t time_ms)
{
	struct event	*ev;

	ev = event_new(kind, 7, time_ms, room, strlen(room), nick,
	    strlen(nick), text, text_len);
	ck_assert_ptr_nonnull(ev);
	return ev;
}

static struct event *
mkev(enum event_kind kind, const char *room, const char *nick,
    const char *text)
{
	return mkev_len(kind, room, nick, text, strlen(text), 0);
}

/* Assert that m holds exactly want (want_len bytes), then drop it. */
static void
assert_msg_len(struct msg *m, const char *want, size_t want_len)
{
	unsigned	 refs;

	ck_assert_ptr_nonnull(m);
	refs = atomic_load(&m->refs);
	ck_assert_uint_eq(refs, 1);
	ck_assert_msg(m->len == want_len && memcmp(m->data, want,
	    want_len) == 0, "got \"%.*s\" (%u bytes), want \"%s\"",
	    (int)m->len, m->data, m->len, want);
	msg_unref(m);
}

static void
assert_msg(struct msg *m, const char *want)
{
	assert_msg_len(m, want, strlen(want));
}

/* ev rendered plain is plain, and labelled is "ROOM " then plain. */
static void
assert_both(struct event *ev, const char *plain, const char *labelled)
{
	assert_msg(linefmt_event(ev, false), plain);
	assert_msg(linefmt_event(ev, true), labelled);
	event_unref(ev);
}

START_TEST(test_chat_and_action)
{
	assert_both(mkev(EV_SAY, "#rust", "alice", "hello"),
	    "<alice> hello\r\n", "#rust <alice> hello\r\n");
	assert_both(mkev(EV_ME, "#rust", "alice", "waves"),
	    "* alice waves\r\n", "#rust * alice waves\r\n");
	/* Text is never parsed again: a "/" or "#" at its start is text. */
	assert_both(mkev(EV_SAY, "#r", "bob", "#rust /me x"),
	    "<bob> #rust /me x\r\n", "#r <bob> #rust /me x\r\n");
	/* A room name of any script labels as spelt. */
	assert_both(mkev(EV_SAY, "#Caf\xc3\xa9", "bob", "ok"),
	    "<bob> ok\r\n", "#Caf\xc3\xa9 <bob> ok\r\n");
}
END_TEST

START_TEST(test_room_notices)
{
	assert_both(mkev(EV_JOIN, "#rust", "bob", ""),
	    "-- bob joined\r\n", "#rust -- bob joined\r\n");
	assert_both(mkev(EV_PART, "#rust", "bob", "bye"),
	    "-- bob left (bye)\r\n", "#rust -- bob left (bye)\r\n");
	assert_both(mkev(EV_PART, "#rust", "bob", ""),
	    "-- bob left\r\n", "#rust -- bob left\r\n");
	assert_both(mkev(EV_QUIT, "#rust", "bob", "gone fishing"),
	    "-- bob left (gone fishing)\r\n",
	    "#rust -- bob left (gone fishing)\r\n");
	assert_both(mkev(EV_QUIT, "#rust", "bob", ""),
	    "-- bob left\r\n", "#rust -- bob left\r\n");
	assert_both(mkev(EV_NICK, "#rust", "alice", "al"),
	    "-- alice is now known as al\r\n",
	    "#rust -- alice is now known as al\r\n");
	assert_both(mkev(EV_TOPIC, "#rust", "alice", "Rust talk"),
	    "-- alice set the topic: Rust talk\r\n",
	    "#rust -- alice set the topic: Rust talk\r\n");
	assert_both(mkev(EV_TOPIC, "#rust", "alice", ""),
	    "-- alice cleared the topic\r\n",
	    "#rust -- alice cleared the topic\r\n");
	assert_both(mkev(EV_NOTICE, "#rust", "", "server shutting down"),
	    "-- server shutting down\r\n",
	    "#rust -- server shutting down\r\n");
}
END_TEST

START_TEST(test_private_never_labelled)
{
	/* The recipient's nick rides in the room's place: never a label. */
	assert_both(mkev(EV_PRIVATE, "bob", "alice", "psst"),
	    "*alice* psst\r\n", "*alice* psst\r\n");
	assert_both(mkev(EV_PRIVATE, "#odd", "alice", "psst"),
	    "*alice* psst\r\n", "*alice* psst\r\n");
	/* A rename told to a user in no room has no room to label it with. */
	assert_both(mkev(EV_NICK, "", "guest1", "alice"),
	    "-- guest1 is now known as alice\r\n",
	    "-- guest1 is now known as alice\r\n");
}
END_TEST

/*
 * Controls in client text become U+FFFD in every place it lands, as
 * proto_format() does for chat lines; TAB and non-ASCII stay.
 */
START_TEST(test_sanitised)
{
	assert_both(mkev(EV_SAY, "#r", "eve", "\x1b[2Jhi\x07"),
	    "<eve> " FFFD "[2Jhi" FFFD "\r\n",
	    "#r <eve> " FFFD "[2Jhi" FFFD "\r\n");
	assert_both(mkev(EV_ME, "#r", "eve", "a\rb\nc\x7f" "d\xc2\x85"),
	    "* eve a" FFFD "b" FFFD "c" FFFD "d" FFFD "\r\n",
	    "#r * eve a" FFFD "b" FFFD "c" FFFD "d" FFFD "\r\n");
	assert_both(mkev(EV_SAY, "#r", "eve", "tab\there \xc3\xa9t\xc3\xa9"),
	    "<eve> tab\there \xc3\xa9t\xc3\xa9\r\n",
	    "#r <eve> tab\there \xc3\xa9t\xc3\xa9\r\n");
	assert_both(mkev(EV_PART, "#r", "eve", "\x1b]0;owned\x07"),
	    "-- eve left (" FFFD "]0;owned" FFFD ")\r\n",
	    "#r -- eve left (" FFFD "]0;owned" FFFD ")\r\n");
	assert_both(mkev(EV_QUIT, "#r", "eve", "bye\r\n-- fake"),
	    "-- eve left (bye" FFFD FFFD "-- fake)\r\n",
	    "#r -- eve left (bye" FFFD FFFD "-- fake)\r\n");
	assert_both(mkev(EV_TOPIC, "#r", "eve", "\x1b[31mred"),
	    "-- eve set the topic: " FFFD "[31mred\r\n",
	    "#r -- eve set the topic: " FFFD "[31mred\r\n");
	assert_both(mkev(EV_PRIVATE, "bob", "eve", "\x1b[5m"),
	    "*eve* " FFFD "[5m\r\n", "*eve* " FFFD "[5m\r\n");
	assert_both(mkev(EV_NOTICE, "#r", "", "a\x01z"),
	    "-- a" FFFD "z\r\n", "#r -- a" FFFD "z\r\n");
}
END_TEST

/*
 * A NUL is valid UTF-8 and a control like any other: replaced, and the
 * rest of the text (and the closing parenthesis) still there.
 */
START_TEST(test_nul_in_text)
{
	assert_both(mkev_len(EV_SAY, "#r", "eve", "a\0b", 3, 0),
	    "<eve> a" FFFD "b\r\n", "#r <eve> a" FFFD "b\r\n");
	assert_both(mkev_len(EV_PART, "#r", "eve", "a\0b", 3, 0),
	    "-- eve left (a" FFFD "b)\r\n",
	    "#r -- eve left (a" FFFD "b)\r\n");
	assert_both(mkev_len(EV_QUIT, "#r", "eve", "\0", 1, 0),
	    "-- eve left (" FFFD ")\r\n", "#r -- eve left (" FFFD ")\r\n");
	assert_both(mkev_len(EV_TOPIC, "#r", "eve", "a\0\x1b", 3, 0),
	    "-- eve set the topic: a" FFFD FFFD "\r\n",
	    "#r -- eve set the topic: a" FFFD FFFD "\r\n");
}
END_TEST

static void
assert_time(uint64_t ms, const char *want)
{
	char	 out[LINEFMT_TIME_MAX];

	memset(out, 'x', sizeof(out));
	linefmt_time(out, ms);
	ck_assert_str_eq(out, want);
}

START_TEST(test_time)
{
	assert_time(0, "1970-01-01T00:00:00Z");
	/* Milliseconds are cut, not rounded. */
	assert_time(999, "1970-01-01T00:00:00Z");
	assert_time(86399999, "1970-01-01T23:59:59Z");
	assert_time(86400000, "1970-01-02T00:00:00Z");
	assert_time(951782400000ULL, "2000-02-29T00:00:00Z");
	assert_time(1764625253000ULL, "2025-12-01T21:40:53Z");
	assert_time(1764625253999ULL, "2025-12-01T21:40:53Z");
	assert_time(4102444800000ULL, "2100-01-01T00:00:00Z");
	assert_time(253402300799000ULL, "9999-12-31T23:59:59Z");
}
END_TEST

/*
 * Past year 9999 the form would not fit: whatever comes out is still
 * the 20 bytes of a well-formed time, so the history line keeps its
 * shape.
 */
START_TEST(test_time_out_of_range)
{
	static const uint64_t	 times[] = { 253402300800000ULL,
	    UINT64_MAX / 2, UINT64_MAX };
	char			 out[LINEFMT_TIME_MAX];
	struct event		*ev;
	struct msg		*m;
	size_t			 i;

	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		memset(out, 'x', sizeof(out));
		linefmt_time(out, times[i]);
		ck_assert_uint_eq(strlen(out), LINEFMT_TIME_MAX - 1);
		ck_assert(out[4] == '-' && out[7] == '-' && out[10] == 'T' &&
		    out[13] == ':' && out[16] == ':' && out[19] == 'Z');
		ev = mkev_len(EV_SAY, "#r", "al", "x", 1, times[i]);
		m = linefmt_history(ev);
		ck_assert_ptr_nonnull(m);
		ck_assert_uint_eq(m->len, 1 + 20 + 2 + strlen("<al> x\r\n"));
		ck_assert(m->data[0] == '[');
		ck_assert(memcmp(m->data + 1, out, 20) == 0);
		ck_assert(memcmp(m->data + 21, "] <al> x\r\n", 10) == 0);
		msg_unref(m);
		event_unref(ev);
	}
}
END_TEST

START_TEST(test_history_form)
{
	struct event	*ev;

	ev = mkev_len(EV_SAY, "#rust", "alice", "hi", 2, 1764625253000ULL);
	assert_msg(linefmt_history(ev),
	    "[2025-12-01T21:40:53Z] <alice> hi\r\n");
	event_unref(ev);
	ev = mkev_len(EV_ME, "#rust", "alice", "waves", 5, 0);
	assert_msg(linefmt_history(ev),
	    "[1970-01-01T00:00:00Z] * alice waves\r\n");
	event_unref(ev);
	/* Sanitised there too, and never labelled with the room. */
	ev = mkev_len(EV_SAY, "#rust", "eve", "\x1b[2J", 4, 86400000);
	assert_msg(linefmt_history(ev),
	    "[1970-01-02T00:00:00Z] <eve> " FFFD "[2J\r\n");
	event_unref(ev);
}
END_TEST

/* n bytes of text: a letter pattern, with a control every 7th byte. */
static char *
long_text(size_t n, bool controls)
{
	char	*s = malloc(n);
	size_t	 i;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < n; i++)
		s[i] = controls && i % 7 == 3 ? '\x1b' : (char)('a' + i % 26);
	return s;
}

/* The expected line: prefix, text sanitised by hand, suffix, CRLF. */
static char *
expected(const char *prefix, const char *text, size_t n, const char *suffix,
    size_t *len)
{
	size_t	 cap = strlen(prefix) + 3 * n + strlen(suffix) + 3, o, i;
	char	*s = malloc(cap);

	ck_assert_ptr_nonnull(s);
	o = (size_t)snprintf(s, cap, "%s", prefix);
	for (i = 0; i < n; i++) {
		if (text[i] == '\x1b') {
			memcpy(s + o, FFFD, 3);
			o += 3;
		} else
			s[o++] = text[i];
	}
	o += (size_t)snprintf(s + o, cap - o, "%s\r\n", suffix);
	*len = o;
	return s;
}

static void
assert_long(enum event_kind kind, const char *plain_prefix,
    const char *suffix, size_t n, bool controls)
{
	char		*text = long_text(n, controls), *want, label[64];
	struct event	*ev = mkev_len(kind, "#long", "alice", text, n,
	    1764625253000ULL);
	size_t		 len;

	want = expected(plain_prefix, text, n, suffix, &len);
	assert_msg_len(linefmt_event(ev, false), want, len);
	free(want);
	snprintf(label, sizeof(label), "#long %s", plain_prefix);
	want = expected(label, text, n, suffix, &len);
	assert_msg_len(linefmt_event(ev, true), want, len);
	free(want);
	snprintf(label, sizeof(label), "[2025-12-01T21:40:53Z] %s",
	    plain_prefix);
	want = expected(label, text, n, suffix, &len);
	assert_msg_len(linefmt_history(ev), want, len);
	free(want);
	event_unref(ev);
	free(text);
}

/*
 * Long texts, on both sides of msg.c's scratch buffer and with three
 * times their bytes once every byte is a control: nothing cut.
 */
START_TEST(test_long_texts)
{
	static const size_t	 sizes[] = { 4000, 16384, 70000 };
	size_t			 i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_long(EV_SAY, "<alice> ", "", sizes[i], false);
		assert_long(EV_SAY, "<alice> ", "", sizes[i], true);
		assert_long(EV_ME, "* alice ", "", sizes[i], true);
		assert_long(EV_PART, "-- alice left (", ")", sizes[i], true);
		assert_long(EV_TOPIC, "-- alice set the topic: ", "",
		    sizes[i], true);
	}
}
END_TEST

static Suite *
linefmt_suite(void)
{
	Suite	*s = suite_create("linefmt");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_chat_and_action);
	tcase_add_test(tc, test_room_notices);
	tcase_add_test(tc, test_private_never_labelled);
	tcase_add_test(tc, test_sanitised);
	tcase_add_test(tc, test_nul_in_text);
	tcase_add_test(tc, test_time);
	tcase_add_test(tc, test_time_out_of_range);
	tcase_add_test(tc, test_history_form);
	tcase_add_test(tc, test_long_texts);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(linefmt_suite());
}
