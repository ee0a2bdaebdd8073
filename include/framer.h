/*
 * framer.h - split a client's byte stream into lines.
 *
 * Pure logic, no sockets.  Bytes arrive in arbitrary chunks; the framer
 * keeps its state (a partial line, telnet negotiation, discard mode)
 * between calls.
 *
 * Rules (doc/PROTOCOL.md):
 *  - A line ends with LF; one CR right before the LF is dropped.
 *  - Telnet IAC (0xFF) sequences are removed before anything else, with
 *    their state kept across chunks: two-byte commands (240..249) are
 *    dropped; WILL/WONT/DO/DONT (251..254) are dropped with their option
 *    byte; IAC SB ... IAC SE is dropped whole, and a subnegotiation longer
 *    than FRAMER_SB_MAX bytes ends the subnegotiation (its bytes are still
 *    dropped).  IAC IAC yields a literal 0xFF, and IAC followed by any
 *    other byte yields 0xFF and that byte: both are then invalid UTF-8.
 *  - A line whose content passes max_line bytes (CR and LF not counted)
 *    produces one FRAME_TOO_LONG event as soon as the limit is passed; the
 *    rest of it is discarded as it streams in, up to and including its LF.
 *    The framer never holds more than max_line bytes.
 *  - Empty lines are returned as lines of length 0; the caller decides.
 *
 * Memory: the partial-line buffer is allocated only while a line is
 * split across chunks.  A line returned from it must stay readable until
 * the next call, so the buffer is released at the start of that call.
 */
#ifndef CHATD_FRAMER_H
#define CHATD_FRAMER_H

#include <stdbool.h>
#include <stddef.h>

#define FRAMER_SB_MAX	256

enum frame_event {
	FRAME_NONE,		/* all input consumed, no complete line */
	FRAME_LINE,		/* a complete line: frame.line, frame.len */
	FRAME_TOO_LONG,		/* the current line passed max_line */
	FRAME_NOMEM		/* out of memory: the partial line was lost */
};

struct frame {
	enum frame_event	 event;
	const char		*line;	/* valid until the next framer call */
	size_t			 len;
};

struct framer {
	size_t		 max_line;
	char		*partial;	/* allocated only while a line is split */
	size_t		 partial_len;
	size_t		 partial_cap;
	size_t		 sb_len;	/* bytes seen inside IAC SB */
	int		 telnet;	/* telnet parser state, private */
	bool		 discarding;	/* inside an over-long line */
	bool		 cr_pending;	/* last byte of content was CR */
};

void	framer_init(struct framer *f, size_t max_line);
void	framer_free(struct framer *f);

/*
 * Consume bytes from in[0..len) until one event happens.  Returns the
 * number of bytes consumed, and fills *out.  The caller loops:
 *
 *	while (len > 0) {
 *		n = framer_feed(f, in, len, &fr);
 *		in += n; len -= n;
 *		if (fr.event == FRAME_LINE) ... handle fr.line, fr.len ...
 *	}
 *
 * in is modified in place (telnet sequences are squeezed out), which is
 * why it is not const.  When the event is FRAME_NONE, n == len.
 */
size_t	framer_feed(struct framer *f, char *in, size_t len, struct frame *out);

/* True if a partial line is buffered (used to discard it at EOF). */
bool	framer_pending(const struct framer *f);

#endif /* CHATD_FRAMER_H */
