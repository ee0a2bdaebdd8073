/*
 * check_framer.c - unit tests for the line framer.
 *
 * Input is fed the way the server does it, from heap blocks of exactly
 * the chunk's size (so ASan sees any overread), and every event is
 * written to a transcript: "[line]" for a line, with bytes outside
 * printable ASCII as \xHH, "<TOO_LONG>" and "<NOMEM>".  Tests compare
 * transcripts, which makes "the same input cut anywhere gives the same
 * lines" a string comparison.  The framer's invariants are checked after
 * every call.
 */

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framer.h"
#include "check_run.h"

#define S(lit)		(lit), (sizeof (lit) - 1)
#define IAC		"\xff"
#define MAXLINE		4096

struct tx {
	char	 text[16384];
	size_t	 len;
	size_t	 lines;
	size_t	 too_long;
	size_t	 copied;	/* lines handed out from f->partial */
	size_t	 calls;
};

static void
tx_add(struct tx *tx, const char *s, size_t len)
{
	ck_assert_uint_lt(tx->len + len, sizeof tx->text);
	memcpy(tx->text + tx->len, s, len);
	tx->len += len;
	tx->text[tx->len] = '\0';
}

static void
tx_line(struct tx *tx, const char *line, size_t len)
{
	char	 hex[5];
	size_t	 i;

	tx_add(tx, "[", 1);
	for (i = 0; i < len; i++) {
		if (line[i] >= 0x20 && line[i] < 0x7f && line[i] != '\\')
			tx_add(tx, line + i, 1);
		else {
			snprintf(hex, sizeof hex, "\\x%02X",
			    (unsigned char)line[i]);
			tx_add(tx, hex, 4);
		}
	}
	tx_add(tx, "]", 1);
}

/* What must hold after every framer_feed() call. */
static void
check_invariants(const struct framer *f)
{
	ck_assert_uint_le(f->partial_cap, f->max_line);
	ck_assert_uint_le(f->partial_len, f->partial_cap);
	if (f->partial_cap == 0)
		ck_assert_ptr_null(f->partial);
	if (f->discarding) {
		ck_assert_uint_eq(f->partial_len, 0);
		ck_assert(!f->cr_pending);
	}
}

/* Feed one chunk the way the header's loop does, recording events. */
static void
feed(struct framer *f, const char *data, size_t len, struct tx *tx)
{
	struct frame	 fr;
	char		*buf, *p;
	size_t		 left, n;

	buf = malloc(len == 0 ? 1 : len);
	ck_assert_ptr_nonnull(buf);
	memcpy(buf, data, len);
	for (p = buf, left = len; left > 0; p += n, left -= n) {
		memset(&fr, 0xa5, sizeof fr);
		n = framer_feed(f, p, left, &fr);
		tx->calls++;
		check_invariants(f);
		ck_assert_uint_le(n, left);
		ck_assert_msg(n > 0, "no progress");
		switch (fr.event) {
		case FRAME_NONE:
			ck_assert_uint_eq(n, left);
			break;
		case FRAME_LINE:
			ck_assert_ptr_nonnull(fr.line);
			if (fr.line == f->partial)
				tx->copied++;
			else {
				/* Otherwise it lies in what was just fed. */
				ck_assert(fr.line >= buf);
				ck_assert(fr.line + fr.len <= p + n);
			}
			ck_assert_uint_le(fr.len, f->max_line);
			tx->lines++;
			tx_line(tx, fr.line, fr.len);
			break;
		case FRAME_TOO_LONG:
			tx->too_long++;
			tx_add(tx, "<TOO_LONG>", 10);
			break;
		case FRAME_NOMEM:
			tx_add(tx, "<NOMEM>", 7);
			break;
		default:
			ck_abort_msg("bad event %d", (int)fr.event);
		}
	}
	free(buf);
}

/* Feed data cut at the given offsets (ascending) into a new framer. */
static void
frame_cuts(size_t max_line, const char *data, size_t len, const size_t *cuts,
    size_t ncuts, struct tx *tx)
{
	struct framer	f;
	size_t		i, from = 0;

	memset(tx, 0, sizeof *tx);
	framer_init(&f, max_line);
	for (i = 0; i <= ncuts; i++) {
		size_t	to = i < ncuts ? cuts[i] : len;

		feed(&f, data + from, to - from, tx);
		from = to;
	}
	framer_free(&f);
}

/* The transcript must not depend on where the input is cut. */
static void
check_splits(size_t max_line, const char *data, size_t len,
    const char *want)
{
	struct tx	 tx;
	size_t		 cuts[2], i, j, *all;

	frame_cuts(max_line, data, len, NULL, 0, &tx);
	ck_assert_str_eq(tx.text, want);

	for (i = 0; i <= len; i++) {
		cuts[0] = i;
		frame_cuts(max_line, data, len, cuts, 1, &tx);
		ck_assert_msg(strcmp(tx.text, want) == 0,
		    "cut at %zu: got \"%s\", want \"%s\"", i, tx.text, want);
	}

	/* Short inputs: every pair of cuts too (telnet across 3 chunks). */
	if (len <= 64) {
		for (i = 0; i <= len; i++)
			for (j = i; j <= len; j++) {
				cuts[0] = i;
				cuts[1] = j;
				frame_cuts(max_line, data, len, cuts, 2, &tx);
				ck_assert_msg(strcmp(tx.text, want) == 0,
				    "cuts at %zu, %zu: got \"%s\", want \"%s\"",
				    i, j, tx.text, want);
			}
	}

	/* Byte by byte. */
	all = calloc(len + 1, sizeof *all);
	ck_assert_ptr_nonnull(all);
	for (i = 0; i + 1 < len; i++)
		all[i] = i + 1;
	frame_cuts(max_line, data, len, all, len > 0 ? len - 1 : 0, &tx);
	ck_assert_msg(strcmp(tx.text, want) == 0,
	    "byte by byte: got \"%s\", want \"%s\"", tx.text, want);
	free(all);
}

START_TEST(test_split_hello)
{
	check_splits(MAXLINE, S("hello world\r\n"), "[hello world]");
}
END_TEST

START_TEST(test_split_multi)
{
	check_splits(MAXLINE, S("one\r\ntwo\n\r\nthree\rx\n\nlast\r\n"),
	    "[one][two][][three\\x0Dx][][last]");
}
END_TEST

START_TEST(test_split_telnet)
{
	check_splits(MAXLINE, S("a" IAC "\xf1" "b" IAC "\xfb\x01" "c"
	    IAC "\xfd\x18" "d" IAC "\xfa\x18\x00xterm" IAC "\xf0" "e"
	    IAC IAC "z" IAC "Aq\r\n"),
	    "[abcde\\xFFz\\xFFAq]");
}
END_TEST

START_TEST(test_split_sb)
{
	/* LF, CR and IAC IAC inside a subnegotiation are hidden too. */
	check_splits(MAXLINE, S("x" IAC "\xfa\x18\n\r" IAC IAC "\n" IAC "\xf0"
	    "y\r\nz\n"), "[xy][z]");
}
END_TEST

START_TEST(test_split_too_long)
{
	check_splits(8, S("12345678\r\n123456789\r\nok\n"),
	    "[12345678]<TOO_LONG>[ok]");
	check_splits(8, S("1234567890123456789012345\nok\r\n"),
	    "<TOO_LONG>[ok]");
}
END_TEST

START_TEST(test_bare_lf_and_crlf)
{
	struct tx	tx;

	frame_cuts(MAXLINE, S("bare\ncrlf\r\n"), NULL, 0, &tx);
	ck_assert_str_eq(tx.text, "[bare][crlf]");
}
END_TEST

/* Only the CR right before the LF goes; the others are content. */
START_TEST(test_cr_kept)
{
	struct tx	tx;

	frame_cuts(MAXLINE, S("a\rb\r\n"), NULL, 0, &tx);
	ck_assert_str_eq(tx.text, "[a\\x0Db]");
	frame_cuts(MAXLINE, S("\r\r\n"), NULL, 0, &tx);
	ck_assert_str_eq(tx.text, "[\\x0D]");
	frame_cuts(MAXLINE, S("a\r\r\r\n"), NULL, 0, &tx);
	ck_assert_str_eq(tx.text, "[a\\x0D\\x0D]");
	frame_cuts(MAXLINE, S("\rx\n"), NULL, 0, &tx);
	ck_assert_str_eq(tx.text, "[\\x0Dx]");
}
END_TEST

START_TEST(test_cr_split_from_lf)
{
	static const size_t	 at3[] = { 3 }, at4[] = { 4 }, at1[] = { 1 };
	struct tx		 tx;

	frame_cuts(MAXLINE, S("abc\r\n"), at4, 1, &tx);
	ck_assert_str_eq(tx.text, "[abc]");
	frame_cuts(MAXLINE, S("abc\r\n"), at3, 1, &tx);
	ck_assert_str_eq(tx.text, "[abc]");
	frame_cuts(MAXLINE, S("abc\rx\n"), at4, 1, &tx);
	ck_assert_str_eq(tx.text, "[abc\\x0Dx]");
	frame_cuts(MAXLINE, S("\r\n"), at1, 1, &tx);
	ck_assert_str_eq(tx.text, "[]");
	frame_cuts(MAXLINE, S("\rx\n"), at1, 1, &tx);
	ck_assert_str_eq(tx.text, "[\\x0Dx]");
	frame_cuts(MAXLINE, S("\r\r\n"), at1, 1, &tx);
	ck_assert_str_eq(tx.text, "[\\x0D]");
}
END_TEST

/* The CR of a CRLF is not content: it does not count towards the limit. */
START_TEST(test_cr_at_limit)
{
	static const size_t	 at4[] = { 4 }, at5[] = { 5 };
	struct tx		 tx;

	frame_cuts(4, S("abcd\r\n"), at5, 1, &tx);
	ck_assert_str_eq(tx.text, "[abcd]");
	frame_cuts(4, S("abcd\r\n"), at4, 1, &tx);
	ck_assert_str_eq(tx.text, "[abcd]");
	frame_cuts(4, S("abcd\r\n"), NULL, 0, &tx);
	ck_assert_str_eq(tx.text, "[abcd]");
	/* But a CR that is not followed by LF is. */
	frame_cuts(4, S("abcd\rx\nok\n"), at5, 1, &tx);
	ck_assert_str_eq(tx.text, "<TOO_LONG>[ok]");
	frame_cuts(4, S("abcd\rx\nok\n"), NULL, 0, &tx);
	ck_assert_str_eq(tx.text, "<TOO_LONG>[ok]");
	frame_cuts(5, S("abc\rx\n"), at4, 1, &tx);
	ck_assert_str_eq(tx.text, "[abc\\x0Dx]");
	frame_cuts(4, S("abc\rx\nok\n"), at4, 1, &tx);
	ck_assert_str_eq(tx.text, "<TOO_LONG>[ok]");
}
END_TEST

START_TEST(test_lines_in_order)
{
	struct framer	 f;
	struct frame	 fr;
	char		 buf[] = "first\r\nsecond\n\nthird\r\n";
	char		*p = buf;
	size_t		 left = sizeof buf - 1, n;

	framer_init(&f, MAXLINE);

	n = framer_feed(&f, p, left, &fr);
	ck_assert_int_eq(fr.event, FRAME_LINE);
	ck_assert_uint_eq(n, 7);
	ck_assert_ptr_eq(fr.line, buf);		/* not copied */
	ck_assert_uint_eq(fr.len, 5);
	ck_assert_mem_eq(fr.line, "first", 5);
	p += n, left -= n;

	n = framer_feed(&f, p, left, &fr);
	ck_assert_int_eq(fr.event, FRAME_LINE);
	ck_assert_uint_eq(n, 7);
	ck_assert_ptr_eq(fr.line, buf + 7);
	ck_assert_uint_eq(fr.len, 6);
	ck_assert_mem_eq(fr.line, "second", 6);
	p += n, left -= n;

	n = framer_feed(&f, p, left, &fr);
	ck_assert_int_eq(fr.event, FRAME_LINE);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_nonnull(fr.line);
	ck_assert_uint_eq(fr.len, 0);
	p += n, left -= n;

	n = framer_feed(&f, p, left, &fr);
	ck_assert_int_eq(fr.event, FRAME_LINE);
	ck_assert_uint_eq(n, 7);
	ck_assert_uint_eq(fr.len, 5);
	ck_assert_mem_eq(fr.line, "third", 5);
	ck_assert_uint_eq(n, left);

	ck_assert(!framer_pending(&f));
	ck_assert_ptr_null(f.partial);
	framer_free(&f);
}
END_TEST

START_TEST(test_empty_lines)
{
	struct tx	tx;

	frame_cuts(MAXLINE, S("\n\r\n\n"), NULL, 0, &tx);
	ck_assert_str_eq(tx.text, "[][][]");
	ck_assert_uint_eq(tx.lines, 3);
}
END_TEST

/* Whole lines are never copied; a line split across chunks is, once. */
START_TEST(test_zero_copy)
{
	static const size_t	 at[] = { 6 };
	struct tx		 tx;

	frame_cuts(MAXLINE, S("one\r\ntwo\nthr" IAC "\xf1" "ee\n"), NULL, 0,
	    &tx);
	ck_assert_str_eq(tx.text, "[one][two][three]");
	ck_assert_uint_eq(tx.copied, 0);

	frame_cuts(MAXLINE, S("one\r\ntwo\nthree\n"), at, 1, &tx);
	ck_assert_str_eq(tx.text, "[one][two][three]");
	ck_assert_uint_eq(tx.copied, 1);
}
END_TEST

/* Telnet bytes are squeezed out of the chunk itself. */
START_TEST(test_squeeze_in_place)
{
	struct framer	f;
	struct frame	fr;
	char		buf[] = "a" IAC "\xfb\x03" "b" IAC IAC "c\r\n";
	size_t		n;

	framer_init(&f, MAXLINE);
	n = framer_feed(&f, buf, sizeof buf - 1, &fr);
	ck_assert_uint_eq(n, sizeof buf - 1);
	ck_assert_int_eq(fr.event, FRAME_LINE);
	ck_assert_ptr_eq(fr.line, buf);
	ck_assert_uint_eq(fr.len, 4);
	ck_assert_mem_eq(fr.line, "ab\xff" "c", 4);
	framer_free(&f);
}
END_TEST

START_TEST(test_max_line_exact)
{
	char		 line[MAXLINE + 2];
	struct tx	 tx;

	memset(line, 'x', MAXLINE);
	line[MAXLINE] = '\n';
	frame_cuts(MAXLINE, line, MAXLINE + 1, NULL, 0, &tx);
	ck_assert_uint_eq(tx.lines, 1);
	ck_assert_uint_eq(tx.too_long, 0);

	line[MAXLINE] = 'x';
	line[MAXLINE + 1] = '\n';
	frame_cuts(MAXLINE, line, MAXLINE + 2, NULL, 0, &tx);
	ck_assert_uint_eq(tx.lines, 0);
	ck_assert_uint_eq(tx.too_long, 1);
	ck_assert_str_eq(tx.text, "<TOO_LONG>");
}
END_TEST

/* max_line bytes fed one at a time fill the buffer exactly, no more. */
START_TEST(test_max_line_partial)
{
	struct framer	f;
	struct tx	tx;
	size_t		i;

	memset(&tx, 0, sizeof tx);
	framer_init(&f, 1000);
	for (i = 0; i < 1000; i++)
		feed(&f, "y", 1, &tx);
	ck_assert_uint_eq(f.partial_len, 1000);
	ck_assert_uint_eq(f.partial_cap, 1000);
	ck_assert(framer_pending(&f));
	feed(&f, "\r", 1, &tx);
	ck_assert_uint_eq(f.partial_cap, 1000);
	ck_assert_str_eq(tx.text, "");
	feed(&f, "\n", 1, &tx);
	ck_assert_uint_eq(tx.lines, 1);
	ck_assert_uint_eq(tx.copied, 1);
	ck_assert_uint_eq(tx.too_long, 0);
	framer_free(&f);
}
END_TEST

/* TOO_LONG comes with the byte that passes the limit, not at the LF. */
START_TEST(test_too_long_at_once)
{
	struct framer	f;
	struct frame	fr;
	char		buf[] = "123456789abc";
	size_t		n;

	framer_init(&f, 8);
	n = framer_feed(&f, buf, sizeof buf - 1, &fr);
	ck_assert_int_eq(fr.event, FRAME_TOO_LONG);
	ck_assert_uint_eq(n, 9);
	ck_assert_ptr_null(f.partial);
	ck_assert(!framer_pending(&f));

	n = framer_feed(&f, buf + 9, sizeof buf - 1 - 9, &fr);
	ck_assert_int_eq(fr.event, FRAME_NONE);
	ck_assert_uint_eq(n, 3);
	framer_free(&f);
}
END_TEST

/* The same when the line began in an earlier chunk. */
START_TEST(test_too_long_from_partial)
{
	struct framer	f;
	struct frame	fr;
	char		a[] = "12345", b[] = "6789\nok\n";
	size_t		n;

	framer_init(&f, 8);
	n = framer_feed(&f, a, 5, &fr);
	ck_assert_int_eq(fr.event, FRAME_NONE);
	ck_assert_uint_eq(n, 5);
	ck_assert(framer_pending(&f));

	n = framer_feed(&f, b, sizeof b - 1, &fr);
	ck_assert_int_eq(fr.event, FRAME_TOO_LONG);
	ck_assert_uint_eq(n, 4);
	ck_assert_ptr_null(f.partial);
	ck_assert_uint_eq(f.partial_cap, 0);

	n += framer_feed(&f, b + n, sizeof b - 1 - n, &fr);
	ck_assert_int_eq(fr.event, FRAME_LINE);
	ck_assert_uint_eq(fr.len, 2);
	ck_assert_mem_eq(fr.line, "ok", 2);
	ck_assert_uint_eq(n, sizeof b - 1);
	framer_free(&f);
}
END_TEST

/* A 1 MB line in 4 KB chunks: one TOO_LONG, and the next line intact. */
static void
check_megabyte(const char *tail, size_t tlen)
{
	struct framer	 f;
	struct tx	 tx;
	char		*big;
	size_t		 len, off, n;

	len = (1 << 20) + tlen;
	big = malloc(len);
	ck_assert_ptr_nonnull(big);
	memset(big, 'm', 1 << 20);
	memcpy(big + (1 << 20), tail, tlen);

	memset(&tx, 0, sizeof tx);
	framer_init(&f, MAXLINE);
	for (off = 0; off < len; off += n) {
		n = len - off < 4096 ? len - off : 4096;
		feed(&f, big + off, n, &tx);
		/* Never more than max_line bytes held. */
		ck_assert_uint_le(f.partial_cap, MAXLINE);
		if (tx.too_long != 0 && off + n < (1 << 20))
			ck_assert_ptr_null(f.partial);
	}
	ck_assert_uint_eq(tx.too_long, 1);
	ck_assert_str_eq(tx.text, "<TOO_LONG>[after]");
	ck_assert(!framer_pending(&f));
	framer_free(&f);
	free(big);
}

START_TEST(test_megabyte_line)
{
	check_megabyte(S("\r\nafter\r\n"));
	check_megabyte(S("\nafter\n"));
	/* LF as a telnet option byte does not end the discarded line. */
	check_megabyte(S(IAC "\xfb\n" "still\r\nafter\n"));
}
END_TEST

/* Two-byte commands, 240..249, including SE outside a subnegotiation. */
START_TEST(test_telnet_commands)
{
	struct tx	 tx;
	char		 in[6];
	int		 c;

	for (c = 240; c <= 249; c++) {
		memcpy(in, "a" IAC "?b\n", 5);
		in[2] = c;
		frame_cuts(MAXLINE, in, 5, NULL, 0, &tx);
		ck_assert_msg(strcmp(tx.text, "[ab]") == 0, "IAC %d: %s", c,
		    tx.text);
	}
	frame_cuts(MAXLINE, S("a" IAC "\xf1" "b\n"), NULL, 0, &tx);
	ck_assert_str_eq(tx.text, "[ab]");
}
END_TEST

/* WILL, WONT, DO, DONT and their option byte, whatever it is. */
START_TEST(test_telnet_options)
{
	static const unsigned char	 opt[] = {
		1, 3, 24, '\n', '\r', 255
	};
	struct tx			 tx;
	char				 in[7];
	int				 c;
	size_t				 i;

	for (c = 251; c <= 254; c++)
		for (i = 0; i < sizeof opt; i++) {
			memcpy(in, "a" IAC "??b\n", 6);
			in[2] = c;
			in[3] = opt[i];
			frame_cuts(MAXLINE, in, 6, NULL, 0, &tx);
			ck_assert_msg(strcmp(tx.text, "[ab]") == 0,
			    "IAC %d %d: %s", c, opt[i], tx.text);
		}
}
END_TEST

START_TEST(test_telnet_literal)
{
	struct tx	tx;

	frame_cuts(MAXLINE, S("a" IAC IAC "b\n"), NULL, 0, &tx);
	ck_assert_str_eq(tx.text, "[a\\xFFb]");
	frame_cuts(MAXLINE, S(IAC IAC IAC IAC "\n"), NULL, 0, &tx);
	ck_assert_str_eq(tx.text, "[\\xFF\\xFF]");
	frame_cuts(MAXLINE, S("a" IAC "A\n"), NULL, 0, &tx);
	ck_assert_str_eq(tx.text, "[a\\xFFA]");
	frame_cuts(MAXLINE, S(IAC "\x00\n"), NULL, 0, &tx);
	ck_assert_str_eq(tx.text, "[\\xFF\\x00]");
	frame_cuts(MAXLINE, S(IAC "\xef\n"), NULL, 0, &tx);
	ck_assert_str_eq(tx.text, "[\\xFF\\xEF]");
	/* The byte after IAC is data, even LF or CR. */
	frame_cuts(MAXLINE, S("a" IAC "\nb\n"), NULL, 0, &tx);
	ck_assert_str_eq(tx.text, "[a\\xFF][b]");
	frame_cuts(MAXLINE, S("a" IAC "\r\n"), NULL, 0, &tx);
	ck_assert_str_eq(tx.text, "[a\\xFF]");
}
END_TEST

/* IAC x whose 0xFF passes the limit: x is still seen, here the LF. */
START_TEST(test_telnet_literal_at_limit)
{
	check_splits(3, S("abc" IAC "\nok\n"), "<TOO_LONG>[ok]");
	check_splits(4, S("abc" IAC "\nok\n"), "[abc\\xFF][ok]");
	check_splits(3, S("abc" IAC IAC "\nok\n"), "<TOO_LONG>[ok]");
}
END_TEST

static void
check_sb(size_t payload, const char *after, const char *want)
{
	char		*in;
	struct tx	 tx;
	size_t		 len, alen = strlen(after);

	len = 2 + payload + alen;
	in = malloc(len);
	ck_assert_ptr_nonnull(in);
	memcpy(in, IAC "\xfa", 2);
	memset(in + 2, 'x', payload);
	memcpy(in + 2 + payload, after, alen);
	frame_cuts(MAXLINE, in, len, NULL, 0, &tx);
	ck_assert_msg(strcmp(tx.text, want) == 0,
	    "payload %zu: got \"%s\", want \"%s\"", payload, tx.text, want);
	free(in);
}

/*
 * At most FRAMER_SB_MAX bytes after IAC SB are hidden; the byte after
 * them is input again.  An IAC SE right at the limit still vanishes (as
 * a two-byte command).
 */
START_TEST(test_sb_limit)
{
	check_sb(FRAMER_SB_MAX - 1, "hi\n", "[i]");
	check_sb(FRAMER_SB_MAX, "hi\n", "[hi]");
	check_sb(FRAMER_SB_MAX + 1, "hi\n", "[xhi]");
	check_sb(FRAMER_SB_MAX + 3, "hi\n", "[xxxhi]");
	check_sb(FRAMER_SB_MAX - 2, IAC "\xf0" "ok\n", "[ok]");
	check_sb(FRAMER_SB_MAX - 1, IAC "\xf0" "ok\n", "[ok]");
	check_sb(FRAMER_SB_MAX, IAC "\xf0" "ok\n", "[ok]");
	/* An endless subnegotiation does not swallow the session. */
	check_sb(100000, "\nok\n", "<TOO_LONG>[ok]");
}
END_TEST

/* Each subnegotiation gets the whole allowance, not what is left of it. */
START_TEST(test_sb_twice)
{
	char		 in[2 * (FRAMER_SB_MAX + 3) + 4];
	struct tx	 tx;
	size_t		 len = 0, i;

	for (i = 0; i < 2; i++) {
		memcpy(in + len, IAC "\xfa", 2);
		len += 2;
		memset(in + len, 'x', FRAMER_SB_MAX - 1);
		len += FRAMER_SB_MAX - 1;
		memcpy(in + len, IAC "\xf0", 2);
		len += 2;
	}
	memcpy(in + len, "ok\n", 3);
	len += 3;
	frame_cuts(MAXLINE, in, len, NULL, 0, &tx);
	ck_assert_str_eq(tx.text, "[ok]");
}
END_TEST

START_TEST(test_sb_split_everywhere)
{
	char	 in[2 + FRAMER_SB_MAX + 8];
	size_t	 len = 0;

	/* Longer than the limit, so the cut also falls across its end. */
	memcpy(in, "<" IAC "\xfa", 3);
	len = 3;
	memset(in + len, 's', FRAMER_SB_MAX);
	len += FRAMER_SB_MAX;
	memcpy(in + len, "t>\n", 3);
	len += 3;
	check_splits(MAXLINE, in, len, "[<t>]");
}
END_TEST

START_TEST(test_pending)
{
	struct framer	f;
	struct tx	tx;

	memset(&tx, 0, sizeof tx);
	framer_init(&f, MAXLINE);
	ck_assert(!framer_pending(&f));
	feed(&f, S("par"), &tx);
	ck_assert(framer_pending(&f));
	ck_assert_ptr_nonnull(f.partial);
	ck_assert_uint_eq(f.partial_len, 3);
	feed(&f, S("tial\n"), &tx);
	ck_assert_str_eq(tx.text, "[partial]");
	ck_assert(!framer_pending(&f));
	feed(&f, S("\r"), &tx);
	ck_assert(framer_pending(&f));
	feed(&f, S("\n"), &tx);
	ck_assert(!framer_pending(&f));
	/* Telnet alone is no line. */
	feed(&f, S(IAC), &tx);
	ck_assert(!framer_pending(&f));
	feed(&f, S("\xf1"), &tx);
	ck_assert(!framer_pending(&f));
	ck_assert_str_eq(tx.text, "[partial][]");
	framer_free(&f);
}
END_TEST

/* The partial buffer goes as soon as the line it held has been read. */
START_TEST(test_partial_released)
{
	struct framer	f;
	struct tx	tx;

	memset(&tx, 0, sizeof tx);
	framer_init(&f, MAXLINE);
	feed(&f, S("abc"), &tx);
	ck_assert_ptr_nonnull(f.partial);
	feed(&f, S("def\nghi\n"), &tx);
	ck_assert_str_eq(tx.text, "[abcdef][ghi]");
	ck_assert_ptr_null(f.partial);
	ck_assert_uint_eq(f.partial_cap, 0);
	framer_free(&f);
}
END_TEST

/* framer_free() releases a pending line; ASan reports any leak. */
START_TEST(test_free)
{
	struct framer	f;
	struct tx	tx;

	memset(&tx, 0, sizeof tx);
	framer_init(&f, MAXLINE);
	framer_free(&f);		/* nothing held */

	framer_init(&f, MAXLINE);
	feed(&f, S("half a line"), &tx);
	ck_assert_ptr_nonnull(f.partial);
	framer_free(&f);
	ck_assert_ptr_null(f.partial);
	ck_assert(!framer_pending(&f));
	framer_free(&f);		/* twice is harmless */

	/* A line handed out from the buffer, then no further call. */
	framer_init(&f, MAXLINE);
	feed(&f, S("x"), &tx);
	feed(&f, S("y\n"), &tx);
	ck_assert_uint_eq(tx.copied, 1);
	framer_free(&f);
	ck_assert_ptr_null(f.partial);
}
END_TEST

START_TEST(test_feed_nothing)
{
	struct framer	f;
	struct frame	fr;
	char		c = 'x';

	framer_init(&f, MAXLINE);
	ck_assert_uint_eq(framer_feed(&f, &c, 0, &fr), 0);
	ck_assert_int_eq(fr.event, FRAME_NONE);
	ck_assert(!framer_pending(&f));
	framer_free(&f);
}
END_TEST

/*
 * A reference framer, written for clarity instead of speed: telnet first,
 * then an unbounded line buffer that keeps every CR, with the CR before
 * the LF stripped at the end.  A trailing CR does not count towards the
 * limit until the next byte shows it is content.
 */
struct ref {
	size_t		 max_line;
	int		 state;	/* 0 data 1 IAC 2 opt 3 SB 4 SB+IAC */
	size_t		 sb;
	bool		 discarding;
	char		 line[1024];
	size_t		 len;
};

static void
ref_data(struct ref *r, unsigned char c, struct tx *tx)
{
	size_t	 known;

	if (r->discarding) {
		r->discarding = c != '\n';
		return;
	}
	if (c == '\n') {
		if (r->len > 0 && r->line[r->len - 1] == '\r')
			r->len--;
		tx_line(tx, r->line, r->len);
		r->len = 0;
		return;
	}
	ck_assert_uint_lt(r->len, sizeof r->line);
	r->line[r->len++] = c;
	known = r->len - (c == '\r');
	if (known > r->max_line) {
		tx_add(tx, "<TOO_LONG>", 10);
		r->discarding = true;
		r->len = 0;
	}
}

static void
ref_byte(struct ref *r, unsigned char c, struct tx *tx)
{
	switch (r->state) {
	case 0:
		if (c == 255)
			r->state = 1;
		else
			ref_data(r, c, tx);
		return;
	case 1:
		r->state = 0;
		if (c == 255)
			ref_data(r, 255, tx);
		else if (c == 250) {
			r->state = 3;
			r->sb = 0;
		} else if (c >= 251)
			r->state = 2;
		else if (c < 240) {
			ref_data(r, 255, tx);
			ref_data(r, c, tx);
		}
		return;
	case 2:
		r->state = 0;
		return;
	}
	/* Subnegotiation. */
	if (r->state == 4 && c == 240) {
		r->state = 0;
		return;
	}
	if (r->sb == FRAMER_SB_MAX) {
		r->state = 0;
		ref_byte(r, c, tx);
		return;
	}
	r->sb++;
	r->state = r->state == 3 && c == 255 ? 4 : 3;
}

static uint32_t
rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/*
 * Random inputs rich in CR, LF and telnet bytes, small limits, random
 * cuts: the framer must agree with the reference.
 */
START_TEST(test_random_vs_reference)
{
	static const unsigned char	 alpha[] = {
		'a', 'b', 'A', '\r', '\r', '\n', '\n', 255, 255, 255,
		240, 241, 250, 251, 253, 0
	};
	struct ref			 r;
	struct tx			 want, got;
	unsigned char			 in[700];
	size_t				 cuts[8], ncuts, len, i, k;
	uint32_t			 x = 2463534242u;
	int				 round;

	for (round = 0; round < 3000; round++) {
		len = rnd(&x) % (round % 10 == 0 ? sizeof in : 48);
		for (i = 0; i < len; i++) {
			in[i] = alpha[rnd(&x) % sizeof alpha];
			/* Long runs, to pass the SB limit now and then. */
			if (i > 0 && rnd(&x) % 4 != 0 && len > 48)
				in[i] = in[i - 1] == 255 ? 'a' : in[i - 1];
		}

		memset(&r, 0, sizeof r);
		memset(&want, 0, sizeof want);
		r.max_line = rnd(&x) % 10;
		for (i = 0; i < len; i++)
			ref_byte(&r, in[i], &want);

		ncuts = len == 0 ? 0 : rnd(&x) % (sizeof cuts / sizeof cuts[0]);
		for (k = 0; k < ncuts; k++)
			cuts[k] = rnd(&x) % (len + 1);
		/* Sort the few cuts. */
		for (k = 1; k < ncuts; k++)
			for (i = k; i > 0 && cuts[i - 1] > cuts[i]; i--) {
				size_t	t = cuts[i];

				cuts[i] = cuts[i - 1];
				cuts[i - 1] = t;
			}
		frame_cuts(r.max_line, (char *)in, len, cuts, ncuts, &got);
		if (strcmp(got.text, want.text) != 0) {
			fprintf(stderr, "round %d, max_line %zu, input:", round,
			    r.max_line);
			for (i = 0; i < len; i++)
				fprintf(stderr, " %02X", in[i]);
			fprintf(stderr, "\n");
			ck_abort_msg("got \"%s\", want \"%s\"", got.text,
			    want.text);
		}
	}
}
END_TEST

static Suite *
framer_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("framer");

	tc = tcase_create("lines");
	tcase_add_test(tc, test_bare_lf_and_crlf);
	tcase_add_test(tc, test_cr_kept);
	tcase_add_test(tc, test_cr_split_from_lf);
	tcase_add_test(tc, test_cr_at_limit);
	tcase_add_test(tc, test_lines_in_order);
	tcase_add_test(tc, test_empty_lines);
	tcase_add_test(tc, test_zero_copy);
	tcase_add_test(tc, test_squeeze_in_place);
	tcase_add_test(tc, test_pending);
	tcase_add_test(tc, test_partial_released);
	tcase_add_test(tc, test_free);
	tcase_add_test(tc, test_feed_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("splits");
	tcase_set_timeout(tc, 60);	/* sanitizers slow the loops down */
	tcase_add_test(tc, test_split_hello);
	tcase_add_test(tc, test_split_multi);
	tcase_add_test(tc, test_split_telnet);
	tcase_add_test(tc, test_split_sb);
	tcase_add_test(tc, test_split_too_long);
	tcase_add_test(tc, test_sb_split_everywhere);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_max_line_exact);
	tcase_add_test(tc, test_max_line_partial);
	tcase_add_test(tc, test_too_long_at_once);
	tcase_add_test(tc, test_too_long_from_partial);
	tcase_add_test(tc, test_megabyte_line);
	suite_add_tcase(s, tc);

	tc = tcase_create("telnet");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_telnet_commands);
	tcase_add_test(tc, test_telnet_options);
	tcase_add_test(tc, test_telnet_literal);
	tcase_add_test(tc, test_telnet_literal_at_limit);
	tcase_add_test(tc, test_sb_limit);
	tcase_add_test(tc, test_sb_twice);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_random_vs_reference);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return check_run(framer_suite());
}
