/*
 * check_utf8.c - unit tests for strict UTF-8 validation and sanitising.
 *
 * Each ck_assert records a mark point (a write to Check's channel), so
 * the exhaustive loops count their failures and assert once, reporting
 * the first failing input.
 */

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "check_run.h"

#define S(lit)		(lit), (sizeof (lit) - 1)
#define FFFD		"\xef\xbf\xbd"

struct bad {
	const char	*name;
	const char	*s;
	size_t		 len;
	size_t		 bad_at;
};

static const struct bad bad_table[] = {
	/* Overlong forms. */
	{ "overlong 2-byte C0 80",	S("\xc0\x80"), 0 },
	{ "overlong 2-byte C0 AF",	S("\xc0\xaf"), 0 },
	{ "overlong 2-byte C1 BF",	S("\xc1\xbf"), 0 },
	{ "lead C0 alone",		S("\xc0"), 0 },
	{ "lead C1 alone",		S("\xc1"), 0 },
	{ "overlong 3-byte E0 80 80",	S("\xe0\x80\x80"), 0 },
	{ "overlong 3-byte E0 80 AF",	S("\xe0\x80\xaf"), 0 },
	{ "overlong 3-byte E0 9F BF",	S("\xe0\x9f\xbf"), 0 },
	{ "overlong 4-byte F0 80 80 80", S("\xf0\x80\x80\x80"), 0 },
	{ "overlong 4-byte F0 80 80 AF", S("\xf0\x80\x80\xaf"), 0 },
	{ "overlong 4-byte F0 8F BF BF", S("\xf0\x8f\xbf\xbf"), 0 },

	/* Surrogates. */
	{ "surrogate U+D800",		S("\xed\xa0\x80"), 0 },
	{ "surrogate U+DBFF",		S("\xed\xaf\xbf"), 0 },
	{ "surrogate U+DC00",		S("\xed\xb0\x80"), 0 },
	{ "surrogate U+DFFF",		S("\xed\xbf\xbf"), 0 },
	{ "surrogate pair (CESU-8)",	S("\xed\xa0\xbd\xed\xb8\x80"), 0 },

	/* Above U+10FFFF. */
	{ "U+110000 F4 90 80 80",	S("\xf4\x90\x80\x80"), 0 },
	{ "U+13FFFF F4 BF BF BF",	S("\xf4\xbf\xbf\xbf"), 0 },
	{ "lead F5",			S("\xf5\x80\x80\x80"), 0 },
	{ "lead F7",			S("\xf7\xbf\xbf\xbf"), 0 },
	{ "lead F8 (5-byte)",		S("\xf8\x88\x80\x80\x80"), 0 },
	{ "lead FB",			S("\xfb\xbf\xbf\xbf\xbf"), 0 },
	{ "lead FC (6-byte)",		S("\xfc\x84\x80\x80\x80\x80"), 0 },
	{ "lead FD",			S("\xfd\xbf\xbf\xbf\xbf\xbf"), 0 },
	{ "byte FE",			S("\xfe"), 0 },
	{ "byte FF",			S("\xff"), 0 },
	{ "FE FF BOM-like",		S("\xfe\xff"), 0 },

	/* Stray continuation bytes. */
	{ "stray 80",			S("\x80"), 0 },
	{ "stray BF",			S("\xbf"), 0 },
	{ "stray 80 after ASCII",	S("a\x80"), 1 },
	{ "stray BF between ASCII",	S("ab\xbf" "cd"), 2 },
	{ "extra continuation",		S("\xc3\xa9\x80"), 2 },
	{ "continuation after 3-byte",	S("\xe2\x82\xac\xbf"), 3 },

	/* Truncated at the end of the buffer. */
	{ "truncated 2-byte",		S("\xc3"), 0 },
	{ "truncated 3-byte, 1 of 3",	S("\xe2"), 0 },
	{ "truncated 3-byte, 2 of 3",	S("\xe2\x82"), 0 },
	{ "truncated 4-byte, 1 of 4",	S("\xf0"), 0 },
	{ "truncated 4-byte, 2 of 4",	S("\xf0\x9f"), 0 },
	{ "truncated 4-byte, 3 of 4",	S("\xf0\x9f\x98"), 0 },
	{ "truncated after text",	S("ok \xf0\x9f\x98"), 3 },

	/* Truncated, followed by ASCII. */
	{ "truncated 2-byte + ASCII",	S("\xc3" "A"), 0 },
	{ "truncated 3-byte + ASCII",	S("\xe2\x82" "A"), 0 },
	{ "truncated 3-byte (1) + ASCII", S("\xe2" "AB"), 0 },
	{ "truncated 4-byte + ASCII",	S("\xf0\x9f\x98" "A"), 0 },
	{ "truncated 4-byte (2) + ASCII", S("\xf0\x9f" "AB"), 0 },
	{ "truncated then valid",	S("\xc3\xe2\x82\xac"), 0 },

	/* The first bad byte after valid multi-byte text. */
	{ "FF after e-acute",		S("\xc3\xa9\xff"), 2 },
	{ "overlong after emoji",	S("\xf0\x9f\x8e\x89\xc1\x81"), 4 },
	{ "bad after long ASCII",	S("0123456789abcdef\xc0\x80"), 16 },
	{ "bad at 7",			S("0123456\x80"), 7 },
	{ "bad at 8",			S("01234567\x80"), 8 },
	{ "bad at 9",			S("012345678\x80"), 9 },
};

struct good {
	uint32_t	 cp;
	const char	*s;
	size_t		 len;
};

static const struct good good_table[] = {
	{ 0x0000,	S("\x00") },
	{ 0x0041,	S("A") },
	{ 0x007f,	S("\x7f") },
	{ 0x0080,	S("\xc2\x80") },
	{ 0x00e9,	S("\xc3\xa9") },
	{ 0x07ff,	S("\xdf\xbf") },
	{ 0x0800,	S("\xe0\xa0\x80") },
	{ 0x0fff,	S("\xe0\xbf\xbf") },
	{ 0x1000,	S("\xe1\x80\x80") },
	{ 0xd7ff,	S("\xed\x9f\xbf") },
	{ 0xe000,	S("\xee\x80\x80") },
	{ 0xfffd,	S("\xef\xbf\xbd") },
	{ 0xffff,	S("\xef\xbf\xbf") },
	{ 0x10000,	S("\xf0\x90\x80\x80") },
	{ 0x3ffff,	S("\xf0\xbf\xbf\xbf") },
	{ 0x40000,	S("\xf1\x80\x80\x80") },
	{ 0x1f389,	S("\xf0\x9f\x8e\x89") },
	{ 0x100000,	S("\xf4\x80\x80\x80") },
	{ 0x10ffff,	S("\xf4\x8f\xbf\xbf") },
};

/*
 * An independent decoder, written the textbook way (length from the
 * lead, then range checks on the value), to compare utf8_decode() with.
 */
static size_t
ref_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	static const uint32_t	 min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t		 v;
	size_t			 n, i;

	if (len == 0)
		return 0;
	if (s[0] < 0x80)
		n = 1, v = s[0];
	else if ((s[0] & 0xe0) == 0xc0)
		n = 2, v = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, v = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, v = s[0] & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* Copy to a heap block of exactly len bytes, so ASan sees any overread. */
static char *
dup_exact(const char *s, size_t len)
{
	char	*p;

	p = malloc(len == 0 ? 1 : len);
	ck_assert_ptr_nonnull(p);
	memcpy(p, s, len);
	return p;
}

START_TEST(test_invalid_table)
{
	const struct bad	*b = &bad_table[_i];
	char			*s;
	size_t			 at = SIZE_MAX;
	uint32_t		 cp = 0x12345;

	s = dup_exact(b->s, b->len);
	ck_assert_msg(!utf8_valid(s, b->len, &at), "%s: accepted", b->name);
	ck_assert_msg(at == b->bad_at, "%s: bad_at %zu, want %zu", b->name,
	    at, b->bad_at);
	ck_assert_msg(utf8_decode(s + at, b->len - at, &cp) == 0,
	    "%s: decoded at the bad offset", b->name);
	ck_assert_msg(!utf8_valid(s, b->len, NULL), "%s: accepted, no bad_at",
	    b->name);
	free(s);
}
END_TEST

/* The same sequences after 0..40 ASCII bytes: every word alignment. */
START_TEST(test_invalid_after_ascii)
{
	const struct bad	*b = &bad_table[_i];
	char			 buf[64];
	char			*s;
	size_t			 k, at, fails = 0, first = 0;

	for (k = 0; k <= 40; k++) {
		memset(buf, 'x', k);
		memcpy(buf + k, b->s, b->len);
		s = dup_exact(buf, k + b->len);
		at = SIZE_MAX;
		if (utf8_valid(s, k + b->len, &at) || at != k + b->bad_at) {
			if (fails++ == 0)
				first = k;
		}
		free(s);
	}
	ck_assert_msg(fails == 0, "%s: wrong after %zu ASCII bytes", b->name,
	    first);
}
END_TEST

START_TEST(test_valid_table)
{
	const struct good	*g = &good_table[_i];
	char			*s, enc[4];
	size_t			 at = 12345;
	uint32_t		 cp = 0xdeadbeef;

	s = dup_exact(g->s, g->len);
	ck_assert_msg(utf8_valid(s, g->len, &at), "U+%04X: rejected at %zu",
	    (unsigned)g->cp, at);
	ck_assert_msg(at == 12345, "U+%04X: bad_at written on success",
	    (unsigned)g->cp);
	ck_assert_uint_eq(utf8_decode(s, g->len, &cp), g->len);
	ck_assert_uint_eq(cp, g->cp);
	ck_assert_uint_eq(utf8_encode(g->cp, enc), g->len);
	ck_assert_mem_eq(enc, g->s, g->len);

	/* Every proper prefix of a multi-byte character is truncated. */
	if (g->len > 1) {
		ck_assert_msg(!utf8_valid(s, g->len - 1, &at),
		    "U+%04X: truncated accepted", (unsigned)g->cp);
		ck_assert_uint_eq(at, 0);
		ck_assert_uint_eq(utf8_decode(s, g->len - 1, &cp), 0);
		ck_assert_uint_eq(utf8_decode(s, 1, &cp), 0);
	}
	free(s);
}
END_TEST

START_TEST(test_valid_text)
{
	static const char	 text[] = "h\xc3\xa9llo w\xc3\xb6rld "
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x8e\x89 "
	    "and a tab\there, then a long ASCII tail to cross words";
	char			*s;
	size_t			 at;

	s = dup_exact(text, sizeof text - 1);
	ck_assert(utf8_valid(s, sizeof text - 1, &at));
	ck_assert(utf8_valid(s, 0, &at));
	free(s);
}
END_TEST

START_TEST(test_decode_empty)
{
	uint32_t	cp = 7;

	ck_assert_uint_eq(utf8_decode("A", 0, &cp), 0);
	ck_assert_uint_eq(utf8_decode("\xc3\xa9", 1, &cp), 0);
}
END_TEST

/* utf8_valid() the slow way, on top of ref_decode(). */
static bool
ref_valid(const unsigned char *s, size_t len, size_t *bad_at)
{
	uint32_t	cp;
	size_t		i = 0, n;

	while (i < len) {
		if ((n = ref_decode(s + i, len - i, &cp)) == 0) {
			*bad_at = i;
			return false;
		}
		i += n;
	}
	return true;
}

/* True if utf8_decode() and utf8_valid() agree with the references. */
static bool
same_as_ref(const unsigned char *b, size_t len)
{
	uint32_t	cp = 0, rcp = 0;
	size_t		n, rn, at = SIZE_MAX, rat = SIZE_MAX;
	bool		ok, rok;

	n = utf8_decode((const char *)b, len, &cp);
	rn = ref_decode(b, len, &rcp);
	if (n != rn || (n != 0 && cp != rcp))
		return false;
	ok = utf8_valid((const char *)b, len, &at);
	rok = ref_valid(b, len, &rat);
	return ok == rok && at == rat;
}

/* Every input of three bytes (so of one and two, as prefixes). */
START_TEST(test_decode_exhaustive_3)
{
	unsigned char	 b[3];
	size_t		 fails = 0;
	unsigned long	 first = 0, i;

	for (i = 0; i < (1ul << 24); i++) {
		b[0] = i >> 16;
		b[1] = i >> 8;
		b[2] = i;
		if (!same_as_ref(b, 3) || !same_as_ref(b, 2) ||
		    !same_as_ref(b, 1)) {
			if (fails++ == 0)
				first = i;
		}
	}
	ck_assert_msg(fails == 0, "%zu mismatches, first %06lX", fails, first);
}
END_TEST

/*
 * Four-byte inputs: every lead and second byte, with the last two taken
 * from the values around the continuation range.
 */
START_TEST(test_decode_exhaustive_4)
{
	static const unsigned char	 tail[] = {
		0x00, 0x41, 0x7f, 0x80, 0x81, 0xa0, 0xbe, 0xbf, 0xc0, 0xff
	};
	unsigned char			 b[4];
	size_t				 fails = 0, i, j, k, l;

	for (i = 0xf0; i <= 0xff; i++)
		for (j = 0; j <= 0xff; j++)
			for (k = 0; k < sizeof tail; k++)
				for (l = 0; l < sizeof tail; l++) {
					b[0] = i;
					b[1] = j;
					b[2] = tail[k];
					b[3] = tail[l];
					if (!same_as_ref(b, 4))
						fails++;
				}
	ck_assert_msg(fails == 0, "%zu mismatches", fails);
}
END_TEST

START_TEST(test_is_control)
{
	static const struct {
		uint32_t	cp;
		bool		control;
	} t[] = {
		{ 0x00, true }, { 0x01, true }, { 0x08, true },
		{ 0x09, false }, { 0x0a, true }, { 0x0d, true },
		{ 0x1b, true }, { 0x1f, true }, { 0x20, false },
		{ 0x41, false }, { 0x7e, false }, { 0x7f, true },
		{ 0x80, true }, { 0x85, true }, { 0x9b, true },
		{ 0x9f, true }, { 0xa0, false }, { 0xff, false },
		{ 0x2028, false }, { 0xfffd, false }, { 0x10ffff, false },
	};
	size_t	i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		ck_assert_msg(utf8_is_control(t[i].cp) == t[i].control,
		    "U+%04X: control %d", (unsigned)t[i].cp, !t[i].control);
}
END_TEST

/* Sanitise into a block of exactly UTF8_SANITIZED_MAX(len) bytes. */
static void
check_sanitize(const char *in, size_t len, const char *want, size_t wlen)
{
	char	*s, *out;
	size_t	 n;

	s = dup_exact(in, len);
	out = malloc(UTF8_SANITIZED_MAX(len) == 0 ? 1 :
	    UTF8_SANITIZED_MAX(len));
	ck_assert_ptr_nonnull(out);
	n = utf8_sanitize(s, len, out);
	ck_assert_uint_le(n, UTF8_SANITIZED_MAX(len));
	ck_assert_uint_eq(n, wlen);
	ck_assert_mem_eq(out, want, wlen);
	ck_assert(utf8_valid(out, n, NULL));
	free(out);
	free(s);
}

START_TEST(test_sanitize_controls)
{
	check_sanitize(S("a\x1b[31mred"), S("a" FFFD "[31mred"));
	check_sanitize(S("a\0b"), S("a" FFFD "b"));
	check_sanitize(S("del\x7f!"), S("del" FFFD "!"));
	check_sanitize(S("csi\xc2\x9b" "2J"), S("csi" FFFD "2J"));
	check_sanitize(S("\xc2\x80\xc2\x9f"), S(FFFD FFFD));
	check_sanitize(S("line\rover"), S("line" FFFD "over"));
	check_sanitize(S("bell\a\b\n"), S("bell" FFFD FFFD FFFD));
	check_sanitize(S("\x1b"), S(FFFD));
	check_sanitize(S(""), S(""));
}
END_TEST

START_TEST(test_sanitize_keeps)
{
	static const char	 text[] = "tab\tkept, h\xc3\xa9llo "
	    "w\xc3\xb6rld \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\x89 "
	    "nbsp\xc2\xa0 U+FFFD " FFFD " U+10FFFF \xf4\x8f\xbf\xbf ~";

	check_sanitize(S(text), S(text));
	check_sanitize(S("\t"), S("\t"));
}
END_TEST

/*
 * Out of contract (callers validate first), but the output must still be
 * valid UTF-8 within the bound: one U+FFFD per bad byte.
 */
START_TEST(test_sanitize_invalid_input)
{
	check_sanitize(S("a\xff" "b"), S("a" FFFD "b"));
	check_sanitize(S("\xe2\x82"), S(FFFD FFFD));
	check_sanitize(S("\xc0\xaf/"), S(FFFD FFFD "/"));
	check_sanitize(S("\xed\xa0\x80"), S(FFFD FFFD FFFD));
}
END_TEST

/* Out of contract too: never write a surrogate or a value too large. */
START_TEST(test_encode_out_of_range)
{
	char	buf[4];

	ck_assert_uint_eq(utf8_encode(0xd800, buf), 3);
	ck_assert_mem_eq(buf, FFFD, 3);
	ck_assert_uint_eq(utf8_encode(0xdfff, buf), 3);
	ck_assert_mem_eq(buf, FFFD, 3);
	ck_assert_uint_eq(utf8_encode(0x110000, buf), 3);
	ck_assert_mem_eq(buf, FFFD, 3);
	ck_assert_uint_eq(utf8_encode(UINT32_MAX, buf), 3);
	ck_assert_mem_eq(buf, FFFD, 3);
}
END_TEST

/* The worst case fills UTF8_SANITIZED_MAX exactly. */
START_TEST(test_sanitize_worst_case)
{
	char	in[100], want[300];
	size_t	i;

	memset(in, 0x01, sizeof in);
	for (i = 0; i < sizeof in; i++)
		memcpy(want + 3 * i, FFFD, 3);
	check_sanitize(in, sizeof in, want, sizeof want);
}
END_TEST

/* Every ASCII byte, alone and in a printable line. */
START_TEST(test_sanitize_each_ascii)
{
	char	in[3], want[5];
	int	c;

	for (c = 0; c < 0x80; c++) {
		in[0] = 'a';
		in[1] = c;
		in[2] = 'z';
		want[0] = 'a';
		if (c == '\t' || (c >= 0x20 && c < 0x7f)) {
			want[1] = c;
			want[2] = 'z';
			check_sanitize(in, 3, want, 3);
		} else {
			memcpy(want + 1, FFFD, 3);
			want[4] = 'z';
			check_sanitize(in, 3, want, 5);
		}
	}
}
END_TEST

/* A control at every position of a long line: every lane of a word. */
START_TEST(test_sanitize_every_position)
{
	static const char	 ctl[][2] = {
		{ 0x00 }, { 0x1b }, { 0x1f }, { 0x7f }, { '\r' },
		{ '\xc2', '\x9b' }, { '\xc2', '\x85' }
	};
	char			 in[48], want[48 + 3];
	size_t			 c, p, clen, n;

	for (c = 0; c < sizeof ctl / sizeof ctl[0]; c++) {
		clen = ctl[c][1] != 0 ? 2 : 1;
		for (p = 0; p + clen <= 40; p++) {
			for (n = 0; n < 40; n++)
				in[n] = 'A' + n % 26;
			memcpy(in + p, ctl[c], clen);
			memcpy(want, in, p);
			memcpy(want + p, FFFD, 3);
			memcpy(want + p + 3, in + p + clen, 40 - p - clen);
			check_sanitize(in, 40, want, 40 - clen + 3);
		}
	}
}
END_TEST

/* Every scalar value: encode, then decode and validate. */
START_TEST(test_encode_round_trip)
{
	char		 buf[4];
	uint32_t	 cp, got;
	size_t		 n, want, fails = 0;
	uint32_t	 first = 0;

	for (cp = 0; cp <= 0x10ffff; cp++) {
		if (cp == 0xd800)
			cp = 0xe000;
		want = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
		got = 0xffffffff;
		n = utf8_encode(cp, buf);
		if (n != want || utf8_decode(buf, n, &got) != n || got != cp ||
		    !utf8_valid(buf, n, NULL)) {
			if (fails++ == 0)
				first = cp;
		}
	}
	ck_assert_msg(fails == 0, "%zu failures, first U+%04X", fails,
	    (unsigned)first);
}
END_TEST

static Suite *
utf8_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("utf8");

	tc = tcase_create("validate");
	tcase_add_loop_test(tc, test_invalid_table, 0,
	    sizeof bad_table / sizeof bad_table[0]);
	tcase_add_loop_test(tc, test_invalid_after_ascii, 0,
	    sizeof bad_table / sizeof bad_table[0]);
	tcase_add_loop_test(tc, test_valid_table, 0,
	    sizeof good_table / sizeof good_table[0]);
	tcase_add_test(tc, test_valid_text);
	tcase_add_test(tc, test_decode_empty);
	suite_add_tcase(s, tc);

	tc = tcase_create("exhaustive");
	tcase_set_timeout(tc, 120);	/* sanitizers slow the loops down */
	tcase_add_test(tc, test_decode_exhaustive_3);
	tcase_add_test(tc, test_decode_exhaustive_4);
	tcase_add_test(tc, test_encode_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("sanitize");
	tcase_add_test(tc, test_is_control);
	tcase_add_test(tc, test_sanitize_controls);
	tcase_add_test(tc, test_sanitize_keeps);
	tcase_add_test(tc, test_sanitize_worst_case);
	tcase_add_test(tc, test_sanitize_invalid_input);
	tcase_add_test(tc, test_encode_out_of_range);
	tcase_add_test(tc, test_sanitize_each_ascii);
	tcase_add_test(tc, test_sanitize_every_position);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return check_run(utf8_suite());
}
