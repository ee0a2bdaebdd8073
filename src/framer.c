/*
 * framer.c - split a client's byte stream into lines.
 *
 * Each call scans its chunk once.  Telnet sequences are squeezed out in
 * place (data bytes move left over them), so a line that starts and ends
 * in the chunk is handed out as a pointer into the chunk.  Only a line
 * still open at the end of a chunk is copied, into f->partial.
 *
 * A CR is not stored when it arrives: cr_pending remembers it until the
 * next data byte shows whether it ends the line (LF) or is content.  So
 * the CR of a CRLF never counts towards max_line and never needs room in
 * the partial buffer, even when the LF comes in the next chunk.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "framer.h"

#define TELNET_SE	240
#define TELNET_SB	250
#define TELNET_WILL	251	/* WILL, WONT, DO, DONT: 251..254 */
#define TELNET_IAC	255

/* f->telnet */
enum {
	TS_DATA,		/* ordinary bytes */
	TS_IAC,			/* after IAC */
	TS_OPT,			/* after IAC WILL/WONT/DO/DONT */
	TS_SB,			/* inside IAC SB */
	TS_SB_IAC		/* inside IAC SB, after IAC */
};

#define PARTIAL_MIN	128	/* first allocation of f->partial */

/* Where one framer_feed() call is in its chunk. */
struct scan {
	char	*in;
	size_t	 r;		/* index of the byte being read */
	size_t	 start;		/* the line's first byte in in[] */
	size_t	 w;		/* where the next byte goes */
};

static int	framer_telnet(struct framer *, unsigned char,
		    unsigned char *);
static int	framer_sb(struct framer *, unsigned char, unsigned char *);
static bool	framer_byte(struct framer *, struct scan *, unsigned char,
		    struct frame *);
static bool	framer_put(struct framer *, struct scan *, unsigned char,
		    struct frame *);
static bool	framer_eol(struct framer *, struct scan *, struct frame *);
static bool	framer_too_long(struct framer *, struct frame *);
static bool	framer_nomem(struct framer *, struct frame *, bool);
static bool	framer_emit(struct frame *, enum frame_event, const char *,
		    size_t);
static int	framer_append(struct framer *, const char *, size_t);
static void	framer_drop(struct framer *);
static size_t	framer_fast(struct framer *, char *, size_t,
		    struct frame *);

void
framer_init(struct framer *f, size_t max_line)
{
	memset(f, 0, sizeof *f);
	f->max_line = max_line;
	f->telnet = TS_DATA;
}

void
framer_free(struct framer *f)
{
	framer_drop(f);
	framer_init(f, f->max_line);
}

bool
framer_pending(const struct framer *f)
{
	/* A lone CR is the start of a line too. */
	return f->partial_len != 0 || f->cr_pending;
}

size_t
framer_feed(struct framer *f, char *in, size_t len, struct frame *out)
{
	struct scan	 s = { .in = in };
	unsigned char	 d[2];
	size_t		 n;
	int		 i, nd;
	bool		 event;

	/*
	 * A line handed out from f->partial stays readable until this
	 * call; it has been read now.
	 */
	if (f->partial != NULL && f->partial_len == 0)
		framer_drop(f);

	if ((n = framer_fast(f, in, len, out)) != 0)
		return n;

	for (s.r = 0; s.r < len; s.r++) {
		nd = framer_telnet(f, (unsigned char)in[s.r], d);
		/*
		 * An event leaves the framer discarding (TOO_LONG, NOMEM)
		 * or is a LF (LINE), which is never the first of two data
		 * bytes, so the second of IAC x cannot raise another.
		 */
		event = false;
		for (i = 0; i < nd; i++)
			event |= framer_byte(f, &s, d[i], out);
		if (event)
			return s.r + 1;
	}

	if (!f->discarding && s.w > s.start &&
	    framer_append(f, in + s.start, s.w - s.start) == -1) {
		framer_nomem(f, out, true);
		return len;
	}
	framer_emit(out, FRAME_NONE, NULL, 0);
	return len;
}

/*
 * The hot path: nothing carried over, and the chunk starts with a whole
 * line free of telnet bytes and not too long.  Two memchr() and no copy.
 * Returns 0 to let the full scan handle everything else.
 */
static size_t
framer_fast(struct framer *f, char *in, size_t len, struct frame *out)
{
	const char	*lf;
	size_t		 lim = len, n;

	if (len == 0 || f->telnet != TS_DATA || f->discarding ||
	    f->cr_pending || f->partial_len != 0)
		return 0;

	/* Content, CR and LF: no need to look further for a good line. */
	if (f->max_line < SIZE_MAX - 2 && lim > f->max_line + 2)
		lim = f->max_line + 2;
	if ((lf = memchr(in, '\n', lim)) == NULL)
		return 0;
	n = lf - in;
	if (memchr(in, TELNET_IAC, n) != NULL)
		return 0;

	if (n > 0 && in[n - 1] == '\r')
		n--;
	if (n > f->max_line)
		return 0;
	framer_emit(out, FRAME_LINE, in, n);
	return lf - in + 1;
}

/*
 * Run one input byte through the telnet parser.  Returns how many data
 * bytes it stands for (0, 1 or 2), stored in d[0..2).
 */
static int
framer_telnet(struct framer *f, unsigned char c, unsigned char *d)
{
	switch (f->telnet) {
	case TS_DATA:
		if (c == TELNET_IAC) {
			f->telnet = TS_IAC;
			return 0;
		}
		d[0] = c;
		return 1;
	case TS_IAC:
		f->telnet = TS_DATA;
		if (c == TELNET_IAC) {
			d[0] = TELNET_IAC;
			return 1;
		}
		if (c == TELNET_SB) {
			f->telnet = TS_SB;
			f->sb_len = 0;
			return 0;
		}
		if (c >= TELNET_WILL) {
			f->telnet = TS_OPT;
			return 0;
		}
		if (c >= TELNET_SE)
			return 0;
		/* Not telnet after all: keep both; utf8_valid() fails. */
		d[0] = TELNET_IAC;
		d[1] = c;
		return 2;
	case TS_OPT:
		f->telnet = TS_DATA;
		return 0;
	case TS_SB:
	case TS_SB_IAC:
		return framer_sb(f, c, d);
	}
	return 0;
}

/*
 * Inside IAC SB ... IAC SE.  At most FRAMER_SB_MAX bytes are hidden: a
 * client that never sends IAC SE must not be able to make everything
 * after it vanish, so the byte past the limit is ordinary input again.
 */
static int
framer_sb(struct framer *f, unsigned char c, unsigned char *d)
{
	if (f->telnet == TS_SB_IAC && c == TELNET_SE) {
		f->telnet = TS_DATA;
		return 0;
	}
	if (f->sb_len >= FRAMER_SB_MAX) {
		f->telnet = TS_DATA;
		return framer_telnet(f, c, d);
	}
	f->sb_len++;
	if (f->telnet == TS_SB && c == TELNET_IAC)
		f->telnet = TS_SB_IAC;
	else
		f->telnet = TS_SB;
	return 0;
}

/* One data byte, telnet already removed.  True if an event is in *out. */
static bool
framer_byte(struct framer *f, struct scan *s, unsigned char c,
    struct frame *out)
{
	if (f->discarding) {
		if (c == '\n') {
			f->discarding = false;
			s->start = s->w = s->r + 1;
		}
		return false;
	}
	if (c == '\n')
		return framer_eol(f, s, out);

	if (f->cr_pending) {
		/* Not followed by LF, so that CR is content. */
		f->cr_pending = false;
		if (framer_put(f, s, '\r', out))
			return true;
	}
	if (c == '\r') {
		f->cr_pending = true;
		return false;
	}
	return framer_put(f, s, c, out);
}

/*
 * Add a byte to the line, squeezed into the chunk.  Data normally trails
 * the input, but bytes owed by the previous chunk (a pending CR, the 0xFF
 * of an IAC at its very end) can make it catch up: then the line so far
 * moves to f->partial to make room.  This stays at the read position, so
 * in[] is never written past the byte being read.
 */
static bool
framer_put(struct framer *f, struct scan *s, unsigned char c,
    struct frame *out)
{
	if (f->partial_len + (s->w - s->start) >= f->max_line)
		return framer_too_long(f, out);
	if (s->w > s->r) {
		if (framer_append(f, s->in + s->start, s->w - s->start) == -1)
			return framer_nomem(f, out, true);
		s->start = s->w = s->r;
	}
	s->in[s->w++] = c;
	return false;
}

/* A LF outside a discarded line: the line is complete. */
static bool
framer_eol(struct framer *f, struct scan *s, struct frame *out)
{
	/* A pending CR is the CR of CRLF: dropped. */
	f->cr_pending = false;

	if (f->partial_len == 0)
		return framer_emit(out, FRAME_LINE, s->in + s->start,
		    s->w - s->start);

	if (framer_append(f, s->in + s->start, s->w - s->start) == -1)
		return framer_nomem(f, out, false);
	framer_emit(out, FRAME_LINE, f->partial, f->partial_len);
	f->partial_len = 0;	/* freed by the next call */
	return true;
}

static bool
framer_too_long(struct framer *f, struct frame *out)
{
	framer_drop(f);
	f->cr_pending = false;
	f->discarding = true;
	return framer_emit(out, FRAME_TOO_LONG, NULL, 0);
}

/*
 * The line is lost.  If its end has not been seen yet, the rest of it is
 * discarded, or its tail would arrive as a line of its own.
 */
static bool
framer_nomem(struct framer *f, struct frame *out, bool midline)
{
	framer_drop(f);
	f->cr_pending = false;
	f->discarding = midline;
	return framer_emit(out, FRAME_NOMEM, NULL, 0);
}

static bool
framer_emit(struct frame *out, enum frame_event event, const char *line,
    size_t len)
{
	out->event = event;
	out->line = line;
	out->len = len;
	return event != FRAME_NONE;
}

/*
 * Append to f->partial, growing it by doubling but never past max_line;
 * callers have checked that the line fits.  Returns -1 if out of memory.
 */
static int
framer_append(struct framer *f, const char *p, size_t n)
{
	size_t	 need = f->partial_len + n, cap;
	char	*np;

	if (n == 0)
		return 0;
	if (need > f->partial_cap) {
		cap = f->partial_cap != 0 ? f->partial_cap : PARTIAL_MIN;
		while (cap < need && cap <= f->max_line / 2)
			cap *= 2;
		if (cap < need || cap > f->max_line)
			cap = f->max_line;
		if (fault_fail(FAULT_LINE) ||
		    (np = realloc(f->partial, cap)) == NULL)
			return -1;
		f->partial = np;
		f->partial_cap = cap;
	}
	memcpy(f->partial + f->partial_len, p, n);
	f->partial_len = need;
	return 0;
}

static void
framer_drop(struct framer *f)
{
	free(f->partial);
	f->partial = NULL;
	f->partial_len = 0;
	f->partial_cap = 0;
}
