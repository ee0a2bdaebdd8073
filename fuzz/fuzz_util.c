/*
 * fuzz_util.c - checks the fuzz targets share.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "utf8.h"

void
fuzz_fail(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fputs("fuzz: property violated: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

bool
fuzz_is_control(uint32_t cp)
{
	return (cp < 0x20 && cp != '\t') || (cp >= 0x7f && cp <= 0x9f);
}

/*
 * Decode first, judge the value after: overlong (below the least value
 * of its length), surrogate, or above U+10FFFF.
 */
bool
fuzz_utf8_ref(const char *s, size_t len, size_t *bad_at)
{
	const unsigned char	*u = (const unsigned char *)s;
	uint32_t		 cp, least;
	size_t			 i = 0, n, k;

	while (i < len) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if ((u[i] & 0xe0) == 0xc0) {
			n = 2, cp = u[i] & 0x1f, least = 0x80;
		} else if ((u[i] & 0xf0) == 0xe0) {
			n = 3, cp = u[i] & 0x0f, least = 0x800;
		} else if ((u[i] & 0xf8) == 0xf0) {
			n = 4, cp = u[i] & 0x07, least = 0x10000;
		} else
			goto bad;
		if (len - i < n)
			goto bad;
		for (k = 1; k < n; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = (cp << 6) | (u[i + k] & 0x3f);
		}
		if (cp < least || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		i += n;
	}
	return true;
bad:
	*bad_at = i;
	return false;
}

void
fuzz_check_wire_line(const char *line, size_t len, const char *what)
{
	size_t		 i, n, body, bad = 0;
	uint32_t	 cp;

	if (len < 2 || line[len - 2] != '\r' || line[len - 1] != '\n')
		fuzz_fail("%s: a line does not end with CRLF", what);
	body = len - 2;
	if (!fuzz_utf8_ref(line, body, &bad))
		fuzz_fail("%s: invalid UTF-8 at byte %zu", what, bad);
	if (!utf8_valid(line, body, NULL))
		fuzz_fail("%s: utf8_valid refuses what the reference takes",
		    what);
	for (i = 0; i < body; i += n) {
		n = utf8_decode(line + i, body - i, &cp);
		if (n == 0)
			fuzz_fail("%s: utf8_decode fails at byte %zu", what, i);
		if (fuzz_is_control(cp))
			fuzz_fail("%s: control U+%04X at byte %zu", what,
			    (unsigned)cp, i);
	}
}
