/*
 * fuzz.h - what the libFuzzer targets in fuzz/ share.
 *
 * Each target defines LLVMFuzzerTestOneInput().  Built with
 * --enable-fuzzing it links libFuzzer's main; in every build it also
 * links replay.c, whose main() runs the committed corpus through it, so
 * each input there stays a regression test under "make check".
 *
 * A violated property calls fuzz_fail(), which aborts: libFuzzer and
 * the replay driver both report that as a crash, with the input.
 */
#ifndef CHATD_FUZZ_H
#define CHATD_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

int		LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Print why, then abort(). */
noreturn void	fuzz_fail(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

#define FUZZ_ASSERT(cond) do {						\
	if (!(cond))							\
		fuzz_fail("%s:%d: %s", __FILE__, __LINE__, #cond);	\
} while (0)

/*
 * An independent RFC 3629 validator, written from the RFC's rules by
 * decoding and then range-checking the value, not from the byte table
 * utf8.c uses: the two must agree.  Returns true if s[0..len) is valid;
 * otherwise *bad_at is the offset of the first byte that does not begin
 * a valid character.
 */
bool		fuzz_utf8_ref(const char *s, size_t len, size_t *bad_at);

/*
 * Check one line as a client receives it: it ends with CRLF and has no
 * other CR or LF, is valid UTF-8 and holds no control character but
 * TAB.  what names it in the failure message.
 */
void		fuzz_check_wire_line(const char *line, size_t len,
		    const char *what);

/* True if cp is a C0 control but TAB, DEL or a C1 control. */
bool		fuzz_is_control(uint32_t cp);

#endif /* CHATD_FUZZ_H */
