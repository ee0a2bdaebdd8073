/*
 * utf8.h - strict UTF-8 (RFC 3629) validation and sanitising.
 *
 * Pure functions: no allocation, no I/O, no global state.
 *
 * Invalid: overlong forms, surrogates (U+D800..U+DFFF), values above
 * U+10FFFF, stray continuation bytes, truncated sequences, 0xC0, 0xC1 and
 * 0xF5..0xFF.
 *
 * Sanitising replaces every control character with U+FFFD (EF BF BD), one
 * per character: the C0 controls except TAB, DEL, and the C1 controls
 * U+0080..U+009F (judged after decoding).  Nothing else is changed, so
 * a sanitised line never carries a terminal escape sequence.
 */
#ifndef CHATD_UTF8_H
#define CHATD_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UTF8_REPLACEMENT	0xFFFDu

/*
 * Decode one code point from s[0..len).  Returns the number of bytes it
 * occupies (1..4) and stores the value in *cp, or returns 0 if the bytes
 * at s do not begin a valid, complete character.
 */
size_t	utf8_decode(const char *s, size_t len, uint32_t *cp);

/*
 * True if s[0..len) is entirely valid UTF-8.  On failure, *bad_at (if not
 * NULL) receives the offset of the first invalid byte.
 */
bool	utf8_valid(const char *s, size_t len, size_t *bad_at);

/* True for C0 controls other than TAB, for DEL and for C1 controls. */
bool	utf8_is_control(uint32_t cp);

/* The output size that utf8_sanitize() never exceeds for len input bytes. */
#define UTF8_SANITIZED_MAX(len)	((len) * 3)

/*
 * Copy the valid UTF-8 text in[0..len) to out with every control
 * character replaced by U+FFFD.  out must hold UTF8_SANITIZED_MAX(len)
 * bytes; in and out must not overlap.  Returns the bytes written.
 */
size_t	utf8_sanitize(const char *in, size_t len, char *out);

/* Encode cp (<= U+10FFFF, not a surrogate) into out[0..4); returns length. */
size_t	utf8_encode(uint32_t cp, char *out);

#endif /* CHATD_UTF8_H */
