/*
 * bench.c - chat-bench's accounting: payloads, sequence tracking, the
 * latency histogram and the summary.  See bench.h.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bench.h"

#define BENCH_U64_DIGITS	20

static int64_t	 digits8(const char *);
static int	 parse_u64(const char **, const char *, uint64_t *);
static bool	 all_x(const char *, size_t);
static bool	 is_self(const struct bench_rx *, uint32_t);
static const char *skip_spaces(const char *, const char *);
static const char *word_end(const char *, const char *);
static int	 seq_test(const struct bench_seq *, uint64_t);
static int	 seq_grow(struct bench_seq *, uint64_t);
static void	 seq_advance(struct bench_seq *);
static enum bench_arrival seq_add(struct bench_seq *, uint64_t);
static void	 json_string(FILE *, const char *);
static void	 json_double(FILE *, const char *, double, int);
static void	 json_long(FILE *, const char *, long);
static double	 per_second(uint64_t, double);
static double	 us(uint64_t);
static double	 pct_us(const struct bench_hist *, double);
static uint32_t	 rooms(const struct bench_summary *);

size_t
bench_payload_encode(char *buf, size_t bufsize, size_t size,
    const struct bench_msg *m)
{
	int	n;
	size_t	hdr;

	if (size < BENCH_PAYLOAD_MIN || size > BENCH_PAYLOAD_MAX ||
	    bufsize < size + 1 || m->sender > BENCH_SENDERS_MAX)
		return 0;
	n = snprintf(buf, bufsize, "B %" PRIu32 " %" PRIu64 " %" PRIu64,
	    m->sender, m->seq, m->ts_ns);
	if (n < 0 || (size_t)n > size)
		return 0;
	hdr = (size_t)n;
	if (hdr < size) {
		buf[hdr] = ' ';
		memset(buf + hdr + 1, 'x', size - hdr - 1);
	}
	return size;
}

/*
 * If p[0..8) are all digits, their value; else -1.  Eight digits in a
 * word, combined in pairs, quads, then octets (little-endian order).
 */
static int64_t
digits8(const char *p)
{
	uint64_t	w, lo, hi;

	memcpy(&w, p, 8);
	/* Each byte 0x30 to 0x3f, and still so after adding 6: '0' to '9'. */
	hi = w + 0x0606060606060606ULL;
	if ((w & 0xf0f0f0f0f0f0f0f0ULL) != 0x3030303030303030ULL ||
	    (hi & 0xf0f0f0f0f0f0f0f0ULL) != 0x3030303030303030ULL)
		return -1;
	lo = w - 0x3030303030303030ULL;
	lo = (lo * 10 + (lo >> 8)) & 0x00ff00ff00ff00ffULL;
	lo = (lo * 100 + (lo >> 16)) & 0x0000ffff0000ffffULL;
	lo = (lo * 10000 + (lo >> 32)) & 0xffffffffULL;
	return (int64_t)lo;
}

/*
 * A canonical unsigned decimal: 1 to 20 digits, no sign, no leading
 * zero (except "0" itself), no overflow.  Stops at the first non-digit.
 * This runs three times for every delivery, so it takes eight digits
 * at a time where it can, and has no overflow test inside the loop: a
 * 20-digit number is compared with UINT64_MAX as text instead.
 */
static int
parse_u64(const char **pp, const char *end, uint64_t *out)
{
	static const char	 max[] = "18446744073709551615";
	const char		*p = *pp;
	uint64_t		 v = 0;
	int64_t			 d8;
	unsigned		 d;
	size_t			 n;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (end - p >= 8 && (d8 = digits8(p)) >= 0) {
		v = v * 100000000 + (uint64_t)d8;
		p += 8;
	}
#endif
	for (; p < end && (d = (unsigned)(*p - '0')) <= 9; p++)
		v = v * 10 + d;
	n = (size_t)(p - *pp);
	if (n == 0 || n > sizeof max - 1 || (**pp == '0' && n > 1))
		return -1;
	if (n == sizeof max - 1 && memcmp(*pp, max, n) > 0)
		return -1;
	*pp = p;
	*out = v;
	return 0;
}

/* Is p[0..len) all 'x'?  Eight bytes at a time: it runs per delivery. */
static bool
all_x(const char *p, size_t len)
{
	static const uint64_t	 x8 = 0x7878787878787878ULL;
	uint64_t		 w;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		if (w != x8)
			return false;
	}
	for (; len > 0; p++, len--) {
		if (*p != 'x')
			return false;
	}
	return true;
}

int
bench_payload_decode(const char *p, size_t len, struct bench_msg *m)
{
	const char	*end = p + len;
	uint64_t	 sender, seq, ts;

	if (len < 2 || p[0] != 'B' || p[1] != ' ')
		return -1;
	p += 2;
	if (parse_u64(&p, end, &sender) == -1 || sender > BENCH_SENDERS_MAX)
		return -1;
	if (p == end || *p++ != ' ' || parse_u64(&p, end, &seq) == -1)
		return -1;
	if (p == end || *p++ != ' ' || parse_u64(&p, end, &ts) == -1)
		return -1;
	if (p < end && (*p++ != ' ' || !all_x(p, (size_t)(end - p))))
		return -1;
	m->sender = (uint32_t)sender;
	m->seq = seq;
	m->ts_ns = ts;
	return 0;
}

uint32_t
bench_room_of(uint32_t member, uint32_t nrooms)
{
	return nrooms > 1 ? member % nrooms : 0;
}

uint32_t
bench_room_senders(uint32_t nsenders, uint32_t nrooms, uint32_t room)
{
	if (nrooms <= 1)
		return room == 0 ? nsenders : 0;
	if (room >= nrooms || room >= nsenders)
		return 0;
	return (nsenders - room - 1) / nrooms + 1;
}

int
bench_rx_init(struct bench_rx *rx, uint32_t nsenders)
{
	return bench_rx_init_room(rx, nsenders, 1, 0);
}

int
bench_rx_init_room(struct bench_rx *rx, uint32_t nsenders, uint32_t nrooms,
    uint32_t room)
{
	memset(rx, 0, sizeof *rx);
	if (nrooms == 0 || room >= nrooms)
		return -1;
	rx->nsenders = nsenders;
	rx->nrooms = nrooms;
	rx->room = room;
	rx->self = -1;
	rx->nseqs = bench_room_senders(nsenders, nrooms, room);
	if (rx->nseqs == 0)
		return 0;
	if ((rx->seqs = calloc(rx->nseqs, sizeof *rx->seqs)) == NULL) {
		rx->nseqs = 0;
		return -1;
	}
	return 0;
}

void
bench_rx_free(struct bench_rx *rx)
{
	uint32_t	i;

	if (rx->seqs != NULL) {
		for (i = 0; i < rx->nseqs; i++)
			free(rx->seqs[i].bits);
	}
	free(rx->seqs);
	memset(rx, 0, sizeof *rx);
}

void
bench_rx_no_echo(struct bench_rx *rx, uint32_t self)
{
	rx->self = self;
}

/* Is sender number s, tracked by rx, rx itself without an echo? */
static bool
is_self(const struct bench_rx *rx, uint32_t s)
{
	return rx->self >= 0 && (uint64_t)rx->self == s;
}

/* Has seq (at or above next) arrived? */
static int
seq_test(const struct bench_seq *q, uint64_t seq)
{
	uint64_t	off;

	if (q->bits == NULL || seq < q->base)
		return 0;
	off = seq - q->base;
	if (off / 64 >= q->nwords)
		return 0;
	return (q->bits[off / 64] >> (off % 64)) & 1;
}

/* Make room in the bitmap for seq, doubling so growth is amortised. */
static int
seq_grow(struct bench_seq *q, uint64_t seq)
{
	uint64_t	*bits, need;
	uint32_t	 n;

	if (q->bits == NULL)
		q->base = q->next & ~(uint64_t)63;
	need = (seq - q->base) / 64 + 1;
	if (need <= q->nwords)
		return 0;
	if (need > UINT32_MAX / 2)
		return -1;
	n = q->nwords == 0 ? 4 : q->nwords;
	while (n < need)
		n *= 2;
	if ((bits = realloc(q->bits, n * sizeof *bits)) == NULL)
		return -1;
	memset(bits + q->nwords, 0, (n - q->nwords) * sizeof *bits);
	q->bits = bits;
	q->nwords = n;
	return 0;
}

/*
 * next has just arrived: move it past every number that arrived ahead
 * of it, then drop the bitmap words that are wholly below it.
 */
static void
seq_advance(struct bench_seq *q)
{
	uint64_t	off, drop;

	q->next++;
	while (q->ahead > 0 && seq_test(q, q->next)) {
		off = q->next - q->base;
		q->bits[off / 64] &= ~((uint64_t)1 << (off % 64));
		q->ahead--;
		q->next++;
	}
	if (q->ahead == 0) {
		/* No gap left: in-order delivery needs no bitmap. */
		free(q->bits);
		q->bits = NULL;
		q->nwords = 0;
		return;
	}
	drop = (q->next - q->base) / 64;
	if (drop == 0)
		return;
	memmove(q->bits, q->bits + drop, (q->nwords - drop) * sizeof *q->bits);
	memset(q->bits + (q->nwords - drop), 0, drop * sizeof *q->bits);
	q->base += drop * 64;
}

static enum bench_arrival
seq_add(struct bench_seq *q, uint64_t seq)
{
	uint64_t	off;
	bool		late;

	if (seq < q->next)
		return BENCH_DUPLICATE;
	if (seq == q->next && q->ahead == 0) {
		/* The common case: nothing outstanding, nothing late. */
		q->next++;
		q->high = q->next;
		return BENCH_IN_ORDER;
	}
	if (seq_test(q, seq))
		return BENCH_DUPLICATE;
	late = seq < q->high;
	if (seq == q->next)
		seq_advance(q);
	else {
		if (seq_grow(q, seq) == -1)
			return BENCH_NOMEM;
		off = seq - q->base;
		q->bits[off / 64] |= (uint64_t)1 << (off % 64);
		q->ahead++;
	}
	if (seq >= q->high)
		q->high = seq + 1;
	return late ? BENCH_REORDERED : BENCH_IN_ORDER;
}

enum bench_arrival
bench_rx_add(struct bench_rx *rx, uint32_t sender, uint64_t seq)
{
	enum bench_arrival	a;

	if (sender >= rx->nsenders) {
		rx->bad_sender++;
		return BENCH_BAD_SENDER;
	}
	if (bench_room_of(sender, rx->nrooms) != rx->room) {
		rx->misrouted++;
		return BENCH_MISROUTED;
	}
	if (is_self(rx, sender)) {
		rx->own_echo++;
		return BENCH_OWN_ECHO;
	}
	a = seq_add(&rx->seqs[sender / rx->nrooms], seq);
	switch (a) {
	case BENCH_REORDERED:
		rx->reordered++;
		__attribute__((fallthrough));	/* clang ignores the comment */
	case BENCH_IN_ORDER:
		rx->distinct++;
		rx->arrivals++;
		break;
	case BENCH_DUPLICATE:
		rx->duplicated++;
		rx->arrivals++;
		break;
	default:
		break;
	}
	return a;
}

uint64_t
bench_rx_received(const struct bench_rx *rx, uint32_t sender)
{
	const struct bench_seq	*q;

	if (sender >= rx->nsenders ||
	    bench_room_of(sender, rx->nrooms) != rx->room)
		return 0;
	q = &rx->seqs[sender / rx->nrooms];
	return q->next + q->ahead;
}

uint64_t
bench_rx_expected(const struct bench_rx *rx, const uint64_t *sent)
{
	uint64_t	owed = 0;
	uint32_t	j, s;

	for (j = 0; j < rx->nseqs; j++) {
		s = rx->room + j * rx->nrooms;
		if (!is_self(rx, s))
			owed += sent[s];
	}
	return owed;
}

uint64_t
bench_rx_lost(const struct bench_rx *rx, const uint64_t *sent)
{
	const struct bench_seq	*q;
	uint64_t		 lost = 0, got, owed;
	uint32_t		 j, s;

	for (j = 0; j < rx->nseqs; j++) {
		s = rx->room + j * rx->nrooms;
		if (is_self(rx, s))
			continue;
		q = &rx->seqs[j];
		got = q->next + q->ahead;
		owed = sent[s];
		if (got < owed)
			lost += owed - got;
	}
	return lost;
}

static const char *
skip_spaces(const char *p, const char *end)
{
	while (p < end && *p == ' ')
		p++;
	return p;
}

static const char *
word_end(const char *p, const char *end)
{
	const char	*sp;

	sp = memchr(p, ' ', (size_t)(end - p));
	return sp != NULL ? sp : end;
}

int
bench_irc_parse(const char *p, size_t len, struct bench_irc *m)
{
	const char	*end = p + len, *w, *nick_end;
	size_t		 n;

	m->nick.p = NULL;
	m->nick.len = 0;
	m->numeric = 0;
	m->nparams = 0;
	if (p < end && *p == '@')
		p = skip_spaces(word_end(p, end), end);
	if (p < end && *p == ':') {
		w = word_end(p, end);
		/* nick!user@host, or a server's name. */
		for (nick_end = p + 1; nick_end < w && *nick_end != '!' &&
		    *nick_end != '@'; nick_end++)
			;
		m->nick.p = p + 1;
		m->nick.len = (size_t)(nick_end - (p + 1));
		p = skip_spaces(w, end);
	}
	if (p == end)
		return -1;
	w = word_end(p, end);
	m->cmd.p = p;
	m->cmd.len = (size_t)(w - p);
	if (m->cmd.len == 3 && p[0] >= '0' && p[0] <= '9' && p[1] >= '0' &&
	    p[1] <= '9' && p[2] >= '0' && p[2] <= '9')
		m->numeric = (unsigned)((p[0] - '0') * 100 + (p[1] - '0') * 10 +
		    (p[2] - '0'));
	for (p = skip_spaces(w, end); p < end; p = skip_spaces(w, end)) {
		n = m->nparams++;
		/* A trailing parameter, or the last there can be, is the rest. */
		if (*p == ':' || n == BENCH_IRC_PARAMS - 1) {
			if (*p == ':')
				p++;
			m->params[n].p = p;
			m->params[n].len = (size_t)(end - p);
			break;
		}
		w = word_end(p, end);
		m->params[n].p = p;
		m->params[n].len = (size_t)(w - p);
	}
	return 0;
}

bool
bench_irc_is(const struct bench_irc *m, const char *cmd)
{
	size_t	n = strlen(cmd);

	return m->cmd.len == n && strncasecmp(m->cmd.p, cmd, n) == 0;
}

void
bench_hist_init(struct bench_hist *h)
{
	memset(h, 0, sizeof *h);
	h->min = UINT64_MAX;
}

size_t
bench_hist_index(uint64_t ns)
{
	unsigned	m;

	if (ns < BENCH_HIST_SUB)
		return (size_t)ns;
	m = 63 - (unsigned)__builtin_clzll(ns);
	if (m > BENCH_HIST_TOP_BIT)
		return BENCH_HIST_BUCKETS - 1;
	return BENCH_HIST_SUB + (size_t)(m - BENCH_HIST_SUB_BITS) *
	    BENCH_HIST_SUB + (size_t)((ns >> (m - BENCH_HIST_SUB_BITS)) -
	    BENCH_HIST_SUB);
}

void
bench_hist_range(size_t idx, uint64_t *lo, uint64_t *hi)
{
	size_t	shift, sub;

	if (idx < BENCH_HIST_SUB) {
		*lo = *hi = idx;
		return;
	}
	shift = (idx - BENCH_HIST_SUB) / BENCH_HIST_SUB;
	sub = (idx - BENCH_HIST_SUB) % BENCH_HIST_SUB;
	*lo = (uint64_t)(BENCH_HIST_SUB + sub) << shift;
	*hi = *lo + ((uint64_t)1 << shift) - 1;
}

void
bench_hist_add(struct bench_hist *h, uint64_t ns)
{
	h->buckets[bench_hist_index(ns)]++;
	h->count++;
	h->sum += (double)ns;
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
}

void
bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src)
{
	size_t	i;

	if (src->count == 0)
		return;
	for (i = 0; i < BENCH_HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t
bench_hist_percentile(const struct bench_hist *h, double p)
{
	uint64_t	rank, seen = 0, lo, hi, v;
	double		want;
	size_t		i;

	if (h->count == 0)
		return 0;
	if (p >= 100)
		return h->max;
	/* ceil() by hand: no libm for one rounding. */
	want = p / 100 * (double)h->count;
	rank = (uint64_t)want;
	if ((double)rank < want)
		rank++;
	if (rank < 1)
		rank = 1;
	for (i = 0; i < BENCH_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank)
			break;
	}
	if (i == BENCH_HIST_BUCKETS)
		return h->max;
	bench_hist_range(i, &lo, &hi);
	v = lo + (hi - lo) / 2;
	if (v < h->min)
		v = h->min;
	if (v > h->max)
		v = h->max;
	return v;
}

double
bench_hist_mean(const struct bench_hist *h)
{
	if (h->count == 0)
		return 0;
	return h->sum / (double)h->count;
}

/* Paths and host names are the only strings; escape what JSON needs. */
static void
json_string(FILE *f, const char *s)
{
	const unsigned char	*p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* JSON has no NaN or infinity. */
static void
json_double(FILE *f, const char *key, double v, int prec)
{
	if (isfinite(v))
		fprintf(f, ", \"%s\": %.*f", key, prec, v);
	else
		fprintf(f, ", \"%s\": null", key);
}

static void
json_long(FILE *f, const char *key, long v)
{
	if (v < 0)
		fprintf(f, ", \"%s\": null", key);
	else
		fprintf(f, ", \"%s\": %ld", key, v);
}

static double
per_second(uint64_t n, double s)
{
	return s > 0 ? (double)n / s : 0;
}

static double
us(uint64_t ns)
{
	return (double)ns / 1000;
}

/* A percentile in microseconds. */
static double
pct_us(const struct bench_hist *h, double p)
{
	return us(bench_hist_percentile(h, p));
}

static uint32_t
rooms(const struct bench_summary *s)
{
	return s->rooms > 1 ? s->rooms : 1;
}

int
bench_json_write(FILE *f, const struct bench_summary *s)
{
	const struct bench_hist	*h = s->latency;

	fputs("{\"proto\": ", f);
	json_string(f, s->proto);
	fprintf(f, ", \"tls\": %s", s->tls ? "true" : "false");
	fputs(", \"target\": ", f);
	json_string(f, s->target);
	fprintf(f, ", \"clients\": %" PRIu32 ", \"senders\": %" PRIu32
	    ", \"rooms\": %" PRIu32 ", \"threads\": %" PRIu32
	    ", \"size\": %zu", s->clients, s->senders, rooms(s), s->threads,
	    s->size);
	fprintf(f, ", \"mode\": \"%s\"", s->rate > 0 ? "open" : "closed");
	json_double(f, "rate", s->rate, 3);
	fprintf(f, ", \"window\": %" PRIu32, s->window);
	json_double(f, "warmup_s", s->warmup_s, 3);
	json_double(f, "duration_s", s->duration_s, 3);
	fprintf(f, ", \"connected\": %" PRIu32 ", \"connect_failures\": %"
	    PRIu32, s->connected, s->connect_failures);
	json_double(f, "connect_s", s->connect_s, 3);
	fprintf(f, ", \"disconnects\": %" PRIu64, s->disconnects);
	json_double(f, "messages_per_s", per_second(s->sent_measure,
	    s->duration_s), 1);
	json_double(f, "deliveries_per_s", per_second(s->deliveries_measure,
	    s->duration_s), 1);
	fprintf(f, ", \"sent_measure\": %" PRIu64 ", \"deliveries_measure\": %"
	    PRIu64, s->sent_measure, s->deliveries_measure);
	fprintf(f, ", \"sent\": %" PRIu64 ", \"unsent\": %" PRIu64
	    ", \"deliveries\": %" PRIu64 ", \"expected\": %" PRIu64,
	    s->sent, s->unsent, s->deliveries, s->expected);
	fprintf(f, ", \"lost\": %" PRIu64 ", \"reordered\": %" PRIu64
	    ", \"duplicated\": %" PRIu64 ", \"misrouted\": %" PRIu64
	    ", \"own_echo\": %" PRIu64 ", \"malformed\": %" PRIu64
	    ", \"server_errors\": %" PRIu64, s->lost, s->reordered,
	    s->duplicated, s->misrouted, s->own_echo, s->malformed,
	    s->server_errors);
	fprintf(f, ", \"drained\": %s", s->drained ? "true" : "false");
	json_double(f, "drain_s", s->drain_s, 3);
	fprintf(f, ", \"latency_us\": {\"samples\": %" PRIu64,
	    h != NULL ? h->count : 0);
	if (h != NULL && h->count > 0) {
		fprintf(f, ", \"min\": %.3f", us(h->min));
		fprintf(f, ", \"mean\": %.3f", bench_hist_mean(h) / 1000);
		fprintf(f, ", \"p50\": %.3f", pct_us(h, 50));
		fprintf(f, ", \"p90\": %.3f", pct_us(h, 90));
		fprintf(f, ", \"p99\": %.3f", pct_us(h, 99));
		fprintf(f, ", \"p99_9\": %.3f", pct_us(h, 99.9));
		fprintf(f, ", \"max\": %.3f", us(h->max));
	}
	fputc('}', f);
	json_long(f, "server_rss_before_kb", s->rss_before_kb);
	json_long(f, "server_rss_after_kb", s->rss_after_kb);
	fputs("}\n", f);
	return ferror(f) ? -1 : 0;
}

int
bench_text_write(FILE *f, const struct bench_summary *s)
{
	const struct bench_hist	*h = s->latency;

	fprintf(f, "target:       %s%s %s, %" PRIu32 " clients, %" PRIu32
	    " senders, ", s->proto, s->tls ? " over TLS" : "", s->target,
	    s->clients, s->senders);
	/* One room prints as it always has. */
	if (rooms(s) > 1)
		fprintf(f, "%" PRIu32 " rooms, ", rooms(s));
	fprintf(f, "%zu-byte messages, ", s->size);
	if (s->rate > 0)
		fprintf(f, "open loop at %.1f msg/s\n", s->rate);
	else
		fprintf(f, "closed loop, window %" PRIu32 "\n", s->window);
	fprintf(f, "connect:      %" PRIu32 " connected in %.3f s, %" PRIu32
	    " failed\n", s->connected, s->connect_s, s->connect_failures);
	fprintf(f, "throughput:   %.1f messages/s, %.1f deliveries/s "
	    "(%.1f s measured)\n", per_second(s->sent_measure, s->duration_s),
	    per_second(s->deliveries_measure, s->duration_s), s->duration_s);
	if (h != NULL && h->count > 0)
		fprintf(f, "latency:      p50 %.1f us, p90 %.1f us, "
		    "p99 %.1f us, p99.9 %.1f us, max %.1f us (%" PRIu64
		    " samples)\n", pct_us(h, 50), pct_us(h, 90),
		    pct_us(h, 99), pct_us(h, 99.9), us(h->max), h->count);
	else
		fprintf(f, "latency:      no samples\n");
	fprintf(f, "accounting:   %" PRIu64 " sent, %" PRIu64 " unsent, %"
	    PRIu64 " deliveries of %" PRIu64 " expected\n", s->sent,
	    s->unsent, s->deliveries, s->expected);
	fprintf(f, "errors:       %" PRIu64 " lost, %" PRIu64 " reordered, %"
	    PRIu64 " duplicated, ", s->lost, s->reordered, s->duplicated);
	if (rooms(s) > 1)
		fprintf(f, "%" PRIu64 " misrouted, ", s->misrouted);
	if (s->own_echo > 0)
		fprintf(f, "%" PRIu64 " own lines back, ", s->own_echo);
	fprintf(f, "%" PRIu64 " malformed, %" PRIu64 " server errors, %"
	    PRIu64 " disconnects\n", s->malformed, s->server_errors,
	    s->disconnects);
	fprintf(f, "drain:        %s in %.3f s\n", s->drained ? "complete" :
	    "timed out", s->drain_s);
	if (s->rss_before_kb >= 0 || s->rss_after_kb >= 0)
		fprintf(f, "server RSS:   %ld kB before, %ld kB after\n",
		    s->rss_before_kb, s->rss_after_kb);
	return ferror(f) ? -1 : 0;
}
