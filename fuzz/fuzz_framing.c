/*
 * fuzz_framing.c - framing, UTF-8 validation and sanitising.
 *
 * Input: byte 0 sets max_line (1..256), byte 1 seeds the chunk sizes
 * (0: one byte at a time), the rest is the client's byte stream.
 *
 * The stream is framed three ways that must agree exactly, event for
 * event and byte for byte:
 *  - in one chunk;
 *  - in the chunks byte 1 chooses (1..17 bytes, each in a buffer of its
 *    own size, so ASan sees any read or write past a chunk);
 *  - by a model written from framer.h's rules: telnet removed from the
 *    whole stream first, then split at LF, one CR before it dropped,
 *    content over max_line a TOO_LONG.
 * Each line must be at most max_line bytes without LF; utf8_valid()
 * must agree with an independent validator, offset included; and the
 * sanitiser and proto_format() must turn it into valid UTF-8 with no
 * control character but TAB, one character for each character.
 */
#include <stdlib.h>
#include <string.h>

#include "framer.h"
#include "fuzz.h"
#include "proto.h"
#include "utf8.h"

#define HEADER		2
#define CHUNK_MAX	17

/* What a framer produced: events and lines, appended as records. */
struct fuzz_log {
	unsigned char	*buf;
	size_t		 len;
	size_t		 cap;
	size_t		 events;
};

#define TELNET_IAC	255

static void
log_put(struct fuzz_log *l, const void *p, size_t n)
{
	size_t	 cap;

	if (l->len + n > l->cap) {
		cap = l->cap ? l->cap : 256;
		while (cap < l->len + n)
			cap *= 2;
		if ((l->buf = realloc(l->buf, cap)) == NULL)
			fuzz_fail("out of memory");
		l->cap = cap;
	}
	memcpy(l->buf + l->len, p, n);
	l->len += n;
}

/* One record: the event, the line's length, then its bytes. */
static void
log_event(struct fuzz_log *l, enum frame_event ev, const char *line,
    size_t len)
{
	unsigned char	 e = (unsigned char)ev;

	log_put(l, &e, 1);
	log_put(l, &len, sizeof len);
	if (len > 0)
		log_put(l, line, len);
	l->events++;
}

static void
log_free(struct fuzz_log *l)
{
	free(l->buf);
}

static void
check_sanitized(const char *in, size_t len, bool valid)
{
	char		*out;
	size_t		 n, i = 0, o = 0, bad, a, b;
	uint32_t	 icp, ocp;

	if ((out = malloc(len > 0 ? UTF8_SANITIZED_MAX(len) : 1)) == NULL)
		fuzz_fail("out of memory");
	n = utf8_sanitize(in, len, out);
	FUZZ_ASSERT(n <= UTF8_SANITIZED_MAX(len));
	if (!fuzz_utf8_ref(out, n, &bad))
		fuzz_fail("sanitised output invalid at byte %zu", bad);
	/* Valid input: the same characters, each control a U+FFFD. */
	while (o < n) {
		b = utf8_decode(out + o, n - o, &ocp);
		FUZZ_ASSERT(b > 0 && !fuzz_is_control(ocp));
		if (valid) {
			a = utf8_decode(in + i, len - i, &icp);
			FUZZ_ASSERT(a > 0);
			FUZZ_ASSERT(ocp == (fuzz_is_control(icp) ?
			    UTF8_REPLACEMENT : icp));
			i += a;
		}
		o += b;
	}
	FUZZ_ASSERT(!valid || i == len);
	free(out);
}

static void
check_roundtrip(const char *line, size_t len)
{
	char		 enc[4];
	size_t		 i, n;
	uint32_t	 cp;

	for (i = 0; i < len; i += n) {
		n = utf8_decode(line + i, len - i, &cp);
		FUZZ_ASSERT(n > 0);
		FUZZ_ASSERT(utf8_encode(cp, enc) == n);
		FUZZ_ASSERT(memcmp(enc, line + i, n) == 0);
	}
}

static void
check_formatted(const char *line, size_t len, size_t seq)
{
	static const char	 nick[] = "guest1";
	static const enum reply_kind kinds[] = {
		REPLY_CHAT, REPLY_ACTION, REPLY_PRIVATE, REPLY_PRIVATE_ECHO,
		REPLY_NOTICE, REPLY_ERROR
	};
	size_t			 max = PROTO_FORMAT_MAX(sizeof nick - 1, len), n;
	char			*out;

	if ((out = malloc(max)) == NULL)
		fuzz_fail("out of memory");
	n = proto_format(out, kinds[seq % 6], nick, sizeof nick - 1, line,
	    len);
	FUZZ_ASSERT(n <= max);
	fuzz_check_wire_line(out, n, "proto_format");
	free(out);
}

/* Every property of one framed line. */
static void
check_line(const char *line, size_t len, size_t max_line, size_t seq)
{
	size_t	 bad1 = 0, bad2 = 0;
	bool	 v1, v2;

	FUZZ_ASSERT(len <= max_line);
	FUZZ_ASSERT(len == 0 || memchr(line, '\n', len) == NULL);

	v1 = utf8_valid(line, len, &bad1);
	v2 = fuzz_utf8_ref(line, len, &bad2);
	if (v1 != v2 || (!v1 && bad1 != bad2))
		fuzz_fail("utf8_valid %d at %zu, reference %d at %zu",
		    v1, bad1, v2, bad2);
	if (v1)
		check_roundtrip(line, len);
	check_sanitized(line, len, v1);
	check_formatted(line, len, seq);
}

/* Feed one chunk, which the framer may rewrite, logging every event. */
static void
feed(struct framer *f, char *in, size_t len, struct fuzz_log *l,
    bool check)
{
	struct frame	 fr;
	size_t		 n;

	while (len > 0) {
		n = framer_feed(f, in, len, &fr);
		FUZZ_ASSERT(n > 0 && n <= len);
		FUZZ_ASSERT(fr.event != FRAME_NONE || n == len);
		FUZZ_ASSERT(fr.event != FRAME_NOMEM);
		in += n;
		len -= n;
		if (fr.event == FRAME_NONE)
			continue;
		if (fr.event == FRAME_LINE && check)
			check_line(fr.line, fr.len, f->max_line, l->events);
		log_event(l, fr.event, fr.line,
		    fr.event == FRAME_LINE ? fr.len : 0);
	}
}

static uint32_t
xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Returns framer_pending() at the end. */
static bool
frame_whole(const uint8_t *data, size_t len, size_t max_line,
    struct fuzz_log *l)
{
	struct framer	 f;
	char		*buf;
	bool		 pending;

	if ((buf = malloc(len > 0 ? len : 1)) == NULL)
		fuzz_fail("out of memory");
	memcpy(buf, data, len);
	framer_init(&f, max_line);
	feed(&f, buf, len, l, true);
	pending = framer_pending(&f);
	framer_free(&f);
	free(buf);
	return pending;
}

static bool
frame_chunked(const uint8_t *data, size_t len, size_t max_line,
    uint8_t seed, struct fuzz_log *l)
{
	struct framer	 f;
	uint32_t	 s = seed;
	size_t		 off, n;
	char		*chunk;
	bool		 pending;

	framer_init(&f, max_line);
	for (off = 0; off < len; off += n) {
		n = seed == 0 ? 1 : 1 + xorshift(&s) % CHUNK_MAX;
		if (n > len - off)
			n = len - off;
		if ((chunk = malloc(n)) == NULL)
			fuzz_fail("out of memory");
		memcpy(chunk, data + off, n);
		feed(&f, chunk, n, l, false);
		free(chunk);
	}
	pending = framer_pending(&f);
	framer_free(&f);
	return pending;
}

/*
 * Telnet out of the whole stream, per framer.h: two-byte commands,
 * WILL/WONT/DO/DONT with their option, and SB ... IAC SE (at most
 * FRAMER_SB_MAX bytes hidden) go; IAC IAC is 0xFF; IAC and any other
 * byte stay as they are.  Returns the data's length, in out.
 */
static size_t
model_telnet(const uint8_t *in, size_t len, uint8_t *out)
{
	enum { DATA, IAC, OPT, SB, SB_IAC } st = DATA;
	size_t	 i, o = 0, sb = 0;
	uint8_t	 c;

	for (i = 0; i < len; i++) {
		c = in[i];
		if (st == SB || st == SB_IAC) {
			if (st == SB_IAC && c == 240) {
				st = DATA;
				continue;
			}
			if (sb < FRAMER_SB_MAX) {
				sb++;
				st = st == SB && c == TELNET_IAC ? SB_IAC : SB;
				continue;
			}
			st = DATA;	/* and c is read as ordinary input */
		}
		switch (st) {
		case DATA:
			if (c == TELNET_IAC)
				st = IAC;
			else
				out[o++] = c;
			break;
		case IAC:
			st = DATA;
			if (c == TELNET_IAC)
				out[o++] = c;
			else if (c == 250) {
				st = SB;
				sb = 0;
			} else if (c >= 251)
				st = OPT;
			else if (c < 240) {
				out[o++] = TELNET_IAC;
				out[o++] = c;
			}
			break;
		case OPT:
			st = DATA;
			break;
		default:
			break;
		}
	}
	return o;
}

/* Lines of the telnet-free stream; returns what framer_pending() says. */
static bool
model_lines(const uint8_t *t, size_t len, size_t max_line,
    struct fuzz_log *l)
{
	const uint8_t	*lf;
	size_t		 off = 0, seg, content;

	while ((lf = memchr(t + off, '\n', len - off)) != NULL) {
		seg = (size_t)(lf - (t + off));
		content = seg > 0 && t[off + seg - 1] == '\r' ? seg - 1 : seg;
		if (content > max_line)
			log_event(l, FRAME_TOO_LONG, NULL, 0);
		else
			log_event(l, FRAME_LINE, (const char *)t + off,
			    content);
		off += seg + 1;
	}
	/* An unfinished line: too long already, or pending. */
	seg = len - off;
	content = seg > 0 && t[off + seg - 1] == '\r' ? seg - 1 : seg;
	if (content > max_line) {
		log_event(l, FRAME_TOO_LONG, NULL, 0);
		return false;
	}
	return seg > 0;
}

static void
compare(const struct fuzz_log *a, const struct fuzz_log *b, const char *what)
{
	if (a->events != b->events || a->len != b->len ||
	    (a->len > 0 && memcmp(a->buf, b->buf, a->len) != 0))
		fuzz_fail("%s: %zu events (%zu bytes) against %zu (%zu)",
		    what, a->events, a->len, b->events, b->len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_log	 whole = { 0 }, chunked = { 0 }, model = { 0 };
	uint8_t		*t;
	size_t		 max_line, tlen;
	bool		 p1, p2, p3;

	if (size < HEADER)
		return 0;
	max_line = (size_t)data[0] + 1;
	p1 = frame_whole(data + HEADER, size - HEADER, max_line, &whole);
	p2 = frame_chunked(data + HEADER, size - HEADER, max_line, data[1],
	    &chunked);
	/* IAC x can turn one byte into two: twice the input is enough. */
	if ((t = malloc(2 * size)) == NULL)
		fuzz_fail("out of memory");
	tlen = model_telnet(data + HEADER, size - HEADER, t);
	p3 = model_lines(t, tlen, max_line, &model);

	compare(&whole, &chunked, "one chunk against many");
	compare(&whole, &model, "framer against the model");
	if (p1 != p2 || p1 != p3)
		fuzz_fail("framer_pending: %d whole, %d chunked, %d model",
		    p1, p2, p3);
	free(t);
	log_free(&whole);
	log_free(&chunked);
	log_free(&model);
	return 0;
}
