/*
 * utf8.c - strict UTF-8 (RFC 3629) validation and sanitising.
 *
 * Every line a client sends passes through utf8_valid() and every relayed
 * line through utf8_sanitize(), and nearly all chat text is ASCII, so both
 * test eight bytes at a time and only decode character by character once
 * they meet a byte that needs it.
 */

#include <stdint.h>
#include <string.h>

#include "utf8.h"

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

/*
 * The second byte of a multi-byte sequence is where RFC 3629 excludes
 * overlong forms (E0, F0), surrogates (ED) and values above U+10FFFF (F4),
 * so each lead byte gets its own range for it; later bytes are always
 * 80..BF.
 */
static int
utf8_second(unsigned char lead, unsigned char *lo, unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xbf;
	switch (lead) {
	case 0xe0:
		*lo = 0xa0;
		break;
	case 0xed:
		*hi = 0x9f;
		break;
	case 0xf0:
		*lo = 0x90;
		break;
	case 0xf4:
		*hi = 0x8f;
		break;
	}
	if (lead >= 0xc2 && lead <= 0xdf)
		return 2;
	if (lead >= 0xe0 && lead <= 0xef)
		return 3;
	if (lead >= 0xf0 && lead <= 0xf4)
		return 4;
	return 0;	/* 80..C1 and F5..FF never start a character */
}

size_t
utf8_decode(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char	*u = (const unsigned char *)s;
	unsigned char		 lo, hi;
	uint32_t		 v;
	size_t			 n, i;

	if (len == 0)
		return 0;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if ((n = utf8_second(u[0], &lo, &hi)) == 0 || len < n)
		return 0;
	if (u[1] < lo || u[1] > hi)
		return 0;

	/* The lead keeps 7 - n payload bits: 5, 4 or 3. */
	v = u[0] & (0x7fu >> n);
	for (i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (u[i] & 0x3f);
	}
	*cp = v;
	return n;
}

/* Length of the run of ASCII bytes at the start of s[0..len). */
static size_t
utf8_ascii_run(const unsigned char *s, size_t len)
{
	uint64_t	w;
	size_t		i = 0;

	while (len - i >= sizeof w) {
		memcpy(&w, s + i, sizeof w);
		if ((w & HIGHS) != 0)
			break;
		i += sizeof w;
	}
	while (i < len && s[i] < 0x80)
		i++;
	return i;
}

bool
utf8_valid(const char *s, size_t len, size_t *bad_at)
{
	const unsigned char	*u = (const unsigned char *)s;
	uint32_t		 cp;
	size_t			 i = 0, n;

	for (;;) {
		i += utf8_ascii_run(u + i, len - i);
		if (i == len)
			return true;
		/*
		 * The offset reported is that of the byte which starts the
		 * bad sequence: the first byte not part of a valid character.
		 */
		if ((n = utf8_decode(s + i, len - i, &cp)) == 0) {
			if (bad_at != NULL)
				*bad_at = i;
			return false;
		}
		i += n;
	}
}

bool
utf8_is_control(uint32_t cp)
{
	if (cp < 0x20)
		return cp != '\t';
	return cp >= 0x7f && cp <= 0x9f;
}

/*
 * Length of the run of printable ASCII (0x20..0x7E) at the start of
 * s[0..len).  A word passes when no byte is below 0x20 and none above
 * 0x7E; both tests are the exact "has byte less/more than" tricks, so a
 * control in any lane sends the whole word to the byte loop.
 */
static size_t
utf8_printable_run(const unsigned char *s, size_t len)
{
	uint64_t	w;
	size_t		i = 0;

	while (len - i >= sizeof w) {
		memcpy(&w, s + i, sizeof w);
		if (((w - ONES * 0x20) & ~w & HIGHS) != 0)
			break;
		if ((((w + ONES * (127 - 0x7e)) | w) & HIGHS) != 0)
			break;
		i += sizeof w;
	}
	while (i < len && s[i] >= 0x20 && s[i] < 0x7f)
		i++;
	return i;
}

size_t
utf8_sanitize(const char *in, size_t len, char *out)
{
	const unsigned char	*u = (const unsigned char *)in;
	uint32_t		 cp;
	size_t			 i = 0, o = 0, n;

	while (i < len) {
		n = utf8_printable_run(u + i, len - i);
		memcpy(out + o, in + i, n);
		i += n;
		o += n;
		if (i == len)
			break;

		/*
		 * The input is meant to be valid already; should a bad byte
		 * slip through anyway it is replaced too, one U+FFFD per
		 * byte, so the output is always valid and within the bound.
		 */
		n = utf8_decode(in + i, len - i, &cp);
		if (n == 0 || utf8_is_control(cp)) {
			o += utf8_encode(UTF8_REPLACEMENT, out + o);
			i += n == 0 ? 1 : n;
			continue;
		}
		memcpy(out + o, in + i, n);
		o += n;
		i += n;
	}
	return o;
}

size_t
utf8_encode(uint32_t cp, char *out)
{
	unsigned char	*u = (unsigned char *)out;

	/* Out of contract, but never write invalid UTF-8. */
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = UTF8_REPLACEMENT;

	if (cp < 0x80) {
		u[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = 0xc0 | (cp >> 6);
		u[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		u[0] = 0xe0 | (cp >> 12);
		u[1] = 0x80 | ((cp >> 6) & 0x3f);
		u[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	u[0] = 0xf0 | (cp >> 18);
	u[1] = 0x80 | ((cp >> 12) & 0x3f);
	u[2] = 0x80 | ((cp >> 6) & 0x3f);
	u[3] = 0x80 | (cp & 0x3f);
	return 4;
}
