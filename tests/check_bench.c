/*
 * check_bench.c - unit tests for chat-bench's accounting (bench.c).
 *
 * The sequence tracker is checked two ways: a scripted relay that
 * drops, duplicates and reorders chosen messages, whose counts are
 * known by construction, and a random relay checked against a naive
 * model (an array of "seen" flags and the highest number seen).
 */

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define S(lit)		(lit), (sizeof (lit) - 1)

/* ---- Payloads. ---- */

static void
round_trip(uint32_t sender, uint64_t seq, uint64_t ts, size_t size)
{
	struct bench_msg	 in = { sender, seq, ts }, out;
	char			*buf;
	size_t			 i, n;

	buf = malloc(size + 1);
	ck_assert_ptr_nonnull(buf);
	n = bench_payload_encode(buf, size + 1, size, &in);
	ck_assert_uint_eq(n, size);
	ck_assert_int_eq(buf[0], 'B');
	for (i = 0; i < n; i++) {
		/* Printable ASCII: valid UTF-8 with no control character. */
		ck_assert_msg(buf[i] >= 0x20 && buf[i] < 0x7f,
		    "byte %zu is 0x%02x", i, (unsigned char)buf[i]);
	}
	memset(&out, 0xa5, sizeof out);
	ck_assert_int_eq(bench_payload_decode(buf, n, &out), 0);
	ck_assert_uint_eq(out.sender, sender);
	ck_assert_uint_eq(out.seq, seq);
	ck_assert_uint_eq(out.ts_ns, ts);
	free(buf);
}

START_TEST(test_payload_round_trip)
{
	static const size_t	sizes[] = { BENCH_PAYLOAD_MIN, 51, 52, 63, 64,
	    65, 100, 4096, 65536 };
	size_t			i;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		round_trip(0, 0, 0, sizes[i]);
		round_trip(7, 123456, 987654321012345ULL, sizes[i]);
		round_trip(BENCH_SENDERS_MAX, UINT64_MAX, UINT64_MAX,
		    sizes[i]);
		round_trip(12, 99999999, 100000000, sizes[i]);
	}
}
END_TEST

/* Every header length against every size near it: padding edge cases. */
START_TEST(test_payload_every_pad)
{
	uint64_t	seq = 1;
	size_t		size;
	int		digits;

	for (digits = 1; digits <= 19; digits++, seq *= 10) {
		for (size = BENCH_PAYLOAD_MIN; size < BENCH_PAYLOAD_MIN + 20;
		    size++)
			round_trip(3, seq, seq + 5, size);
	}
}
END_TEST

START_TEST(test_payload_exact_text)
{
	struct bench_msg	m = { 3, 17, 123456789 };
	char			buf[128];
	size_t			n;

	n = bench_payload_encode(buf, sizeof buf, 60, &m);
	ck_assert_uint_eq(n, 60);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "B 3 17 123456789 "
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
}
END_TEST

START_TEST(test_payload_encode_rejects)
{
	struct bench_msg	m = { 1, 2, 3 }, big = { BENCH_SENDERS_MAX + 1,
	    0, 0 };
	char			buf[256];

	ck_assert_uint_eq(bench_payload_encode(buf, sizeof buf,
	    BENCH_PAYLOAD_MIN - 1, &m), 0);
	ck_assert_uint_eq(bench_payload_encode(buf, 64, 64, &m), 0);
	ck_assert_uint_eq(bench_payload_encode(buf, 65, 64, &m), 64);
	ck_assert_uint_eq(bench_payload_encode(buf, sizeof buf, 64, &big), 0);
}
END_TEST

struct bad_payload {
	const char	*s;
	size_t		 len;
};

static const struct bad_payload bad_payloads[] = {
	{ S("") },
	{ S("B") },
	{ S("B ") },
	{ S("B 1") },
	{ S("B 1 2") },
	{ S("B 1 2 ") },		/* ts missing: the space is not padding */
	{ S("b 1 2 3") },
	{ S("A 1 2 3") },
	{ S("/B 1 2 3") },
	{ S(" B 1 2 3") },
	{ S("B  1 2 3") },
	{ S("B 1  2 3") },
	{ S("B 1 2  3") },
	{ S("B -1 2 3") },
	{ S("B +1 2 3") },
	{ S("B 1 -2 3") },
	{ S("B 01 2 3") },
	{ S("B 1 02 3") },
	{ S("B 1 2 03") },
	{ S("B 1000000 2 3") },		/* sender above BENCH_SENDERS_MAX */
	{ S("B 1 18446744073709551616 3") },
	{ S("B 1 2 18446744073709551616") },
	{ S("B 1 2 99999999999999999999") },
	{ S("B 1 2 123456789012345678901") },
	{ S("B 1 2 3x") },
	{ S("B 1 2 3 xxxxy") },
	{ S("B 1 2 3 xxxxxxxxxxxxxxxxxxxxyxx") },
	{ S("B 1 2 3 x x") },
	{ S("B 1 2 3  xx") },
	{ S("B 1 2 3\txx") },
	{ S("B 1 2 3 xx\r") },
	{ S("B 1 2 3 XX") },
	{ S("B 1 2 3\0xx") },
	{ S("B 1 2 1234567:") },	/* ':' is '9' + 1 */
	{ S("B 1 2 12345678/") },	/* '/' is '0' - 1 */
	{ S("B 1 2 12345678:12345678") },
	{ S("B 1 a 3") },
	{ S("B one 2 3") },
};

START_TEST(test_payload_decode_rejects)
{
	const struct bad_payload	*b = &bad_payloads[_i];
	struct bench_msg		 m;

	ck_assert_msg(bench_payload_decode(b->s, b->len, &m) == -1,
	    "accepted \"%s\"", b->s);
}
END_TEST

START_TEST(test_payload_decode_accepts)
{
	struct bench_msg	m;

	ck_assert_int_eq(bench_payload_decode(S("B 0 0 0"), &m), 0);
	ck_assert_int_eq(bench_payload_decode(S("B 999999 1 2"), &m), 0);
	ck_assert_uint_eq(m.sender, 999999);
	ck_assert_int_eq(bench_payload_decode(S("B 1 2 3 "), &m), 0);
	ck_assert_int_eq(bench_payload_decode(S("B 1 2 3 x"), &m), 0);
	ck_assert_int_eq(bench_payload_decode(
	    S("B 1 2 18446744073709551615"), &m), 0);
	ck_assert_uint_eq(m.ts_ns, UINT64_MAX);
	ck_assert_int_eq(bench_payload_decode(
	    S("B 1 12345678 1234567812345678 xxxxxxxxxxxxxxxxx"), &m), 0);
	ck_assert_uint_eq(m.seq, 12345678);
	ck_assert_uint_eq(m.ts_ns, 1234567812345678ULL);
	/* Only len bytes count: what follows is not looked at. */
	ck_assert_int_eq(bench_payload_decode("B 1 2 3 garbage", 7, &m), 0);
	ck_assert_uint_eq(m.ts_ns, 3);
}
END_TEST

/* ---- Sequence accounting. ---- */

#define NSEQ	200

/*
 * A scripted relay for one receiver of three senders.  Sender 0 is
 * delivered in order; sender 1 loses 10 and 20..22, has 5 and 30
 * duplicated (30 once much later), 50 and 51 swapped, and 60 delayed
 * until after 70; sender 2 loses its last three messages.
 */
START_TEST(test_tracker_scripted)
{
	struct bench_rx	 rx;
	uint64_t	 sent[3] = { NSEQ, NSEQ, NSEQ }, q;
	enum bench_arrival a;

	ck_assert_int_eq(bench_rx_init(&rx, 3), 0);
	for (q = 0; q < NSEQ; q++)
		ck_assert_int_eq(bench_rx_add(&rx, 0, q), BENCH_IN_ORDER);
	for (q = 0; q < NSEQ; q++) {
		if (q == 10 || (q >= 20 && q <= 22) || q == 60)
			continue;
		if (q == 50) {
			ck_assert_int_eq(bench_rx_add(&rx, 1, 51),
			    BENCH_IN_ORDER);
			ck_assert_int_eq(bench_rx_add(&rx, 1, 50),
			    BENCH_REORDERED);
			continue;
		}
		if (q == 51)
			continue;
		ck_assert_int_eq(bench_rx_add(&rx, 1, q), BENCH_IN_ORDER);
		if (q == 5)
			ck_assert_int_eq(bench_rx_add(&rx, 1, 5),
			    BENCH_DUPLICATE);
		if (q == 70)
			ck_assert_int_eq(bench_rx_add(&rx, 1, 60),
			    BENCH_REORDERED);
		if (q == 150)
			ck_assert_int_eq(bench_rx_add(&rx, 1, 30),
			    BENCH_DUPLICATE);
	}
	for (q = 0; q < NSEQ - 3; q++)
		bench_rx_add(&rx, 2, q);
	a = bench_rx_add(&rx, 3, 0);
	ck_assert_int_eq(a, BENCH_BAD_SENDER);

	ck_assert_uint_eq(bench_rx_received(&rx, 0), NSEQ);
	ck_assert_uint_eq(bench_rx_received(&rx, 1), NSEQ - 4);
	ck_assert_uint_eq(bench_rx_received(&rx, 2), NSEQ - 3);
	ck_assert_uint_eq(bench_rx_lost(&rx, sent), 4 + 3);
	ck_assert_uint_eq(rx.reordered, 2);
	ck_assert_uint_eq(rx.duplicated, 2);
	ck_assert_uint_eq(rx.bad_sender, 1);
	ck_assert_uint_eq(rx.distinct, 3 * NSEQ - 7);
	ck_assert_uint_eq(rx.arrivals, 3 * NSEQ - 7 + 2);
	bench_rx_free(&rx);
}
END_TEST

/* A lost message late in a long run: the bitmap must cope. */
START_TEST(test_tracker_long_gap)
{
	struct bench_rx	 rx;
	uint64_t	 sent[1] = { 100000 }, q;

	ck_assert_int_eq(bench_rx_init(&rx, 1), 0);
	for (q = 0; q < 100000; q++) {
		if (q != 77)
			ck_assert_int_eq(bench_rx_add(&rx, 0, q),
			    BENCH_IN_ORDER);
	}
	ck_assert_uint_eq(bench_rx_lost(&rx, sent), 1);
	ck_assert_int_eq(bench_rx_add(&rx, 0, 99999), BENCH_DUPLICATE);
	ck_assert_int_eq(bench_rx_add(&rx, 0, 50000), BENCH_DUPLICATE);
	ck_assert_int_eq(bench_rx_add(&rx, 0, 76), BENCH_DUPLICATE);
	/* The late arrival fills the gap and frees the bitmap. */
	ck_assert_int_eq(bench_rx_add(&rx, 0, 77), BENCH_REORDERED);
	ck_assert_ptr_null(rx.seqs[0].bits);
	ck_assert_uint_eq(rx.seqs[0].next, 100000);
	ck_assert_uint_eq(bench_rx_lost(&rx, sent), 0);
	ck_assert_uint_eq(rx.duplicated, 3);
	ck_assert_uint_eq(rx.reordered, 1);
	/* Messages sent but never seen at all, past the highest. */
	sent[0] = 100010;
	ck_assert_uint_eq(bench_rx_lost(&rx, sent), 10);
	bench_rx_free(&rx);
}
END_TEST

/* Arrivals in reverse: every one but the first is late. */
START_TEST(test_tracker_reverse)
{
	struct bench_rx	 rx;
	uint64_t	 sent[1] = { 1000 }, q;

	ck_assert_int_eq(bench_rx_init(&rx, 1), 0);
	for (q = 1000; q-- > 0;)
		bench_rx_add(&rx, 0, q);
	ck_assert_uint_eq(rx.reordered, 999);
	ck_assert_uint_eq(rx.duplicated, 0);
	ck_assert_uint_eq(bench_rx_lost(&rx, sent), 0);
	ck_assert_ptr_null(rx.seqs[0].bits);
	bench_rx_free(&rx);
}
END_TEST

/* xorshift64*: the same sequence everywhere, so failures repeat. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

#define R_SENDERS	4
#define R_MSGS		5000

struct event {
	uint32_t	sender;
	uint64_t	seq;
};

/*
 * A random relay: each message is dropped, delivered once or twice,
 * and then the delivery list is disturbed by random swaps, some far
 * apart.  The expected counts come from a naive model.
 */
START_TEST(test_tracker_random)
{
	struct bench_rx	 rx;
	struct event	*ev, tmp;
	bool		*seen;
	uint64_t	 high[R_SENDERS], sent[R_SENDERS], state;
	uint64_t	 lost = 0, dup = 0, late = 0, r;
	size_t		 n = 0, i, j, s, q;

	state = 0x9e3779b97f4a7c15ULL + (uint64_t)_i;
	ev = calloc(2 * R_SENDERS * R_MSGS, sizeof *ev);
	seen = calloc(R_SENDERS * R_MSGS, sizeof *seen);
	ck_assert_ptr_nonnull(ev);
	ck_assert_ptr_nonnull(seen);
	for (s = 0; s < R_SENDERS; s++) {
		sent[s] = R_MSGS;
		high[s] = 0;
		for (q = 0; q < R_MSGS; q++) {
			r = rnd(&state) % 100;
			if (r < 3)
				continue;	/* dropped */
			ev[n].sender = (uint32_t)s;
			ev[n++].seq = q;
			if (r < 6) {
				ev[n].sender = (uint32_t)s;
				ev[n++].seq = q;
			}
		}
	}
	for (i = 0; i < n / 10; i++) {
		j = rnd(&state) % n;
		r = rnd(&state) % 100;
		r = r < 90 ? rnd(&state) % 8 : rnd(&state) % n;
		r = (j + r) % n;
		tmp = ev[j];
		ev[j] = ev[r];
		ev[r] = tmp;
	}

	ck_assert_int_eq(bench_rx_init(&rx, R_SENDERS), 0);
	for (i = 0; i < n; i++) {
		s = ev[i].sender;
		q = ev[i].seq;
		if (seen[s * R_MSGS + q])
			dup++;
		else {
			seen[s * R_MSGS + q] = true;
			if (q < high[s])
				late++;
		}
		if (q + 1 > high[s])
			high[s] = q + 1;
		bench_rx_add(&rx, ev[i].sender, ev[i].seq);
	}
	for (i = 0; i < R_SENDERS * R_MSGS; i++)
		if (!seen[i])
			lost++;
	ck_assert_uint_eq(bench_rx_lost(&rx, sent), lost);
	ck_assert_uint_eq(rx.duplicated, dup);
	ck_assert_uint_eq(rx.reordered, late);
	ck_assert_uint_eq(rx.arrivals, n);
	ck_assert_uint_eq(rx.distinct, R_SENDERS * R_MSGS - lost);
	ck_assert_uint_gt(lost, 0);
	ck_assert_uint_gt(dup, 0);
	ck_assert_uint_gt(late, 0);
	bench_rx_free(&rx);
	free(ev);
	free(seen);
}
END_TEST

START_TEST(test_tracker_no_senders)
{
	struct bench_rx	rx;

	ck_assert_int_eq(bench_rx_init(&rx, 0), 0);
	ck_assert_int_eq(bench_rx_add(&rx, 0, 0), BENCH_BAD_SENDER);
	ck_assert_uint_eq(bench_rx_lost(&rx, NULL), 0);
	bench_rx_free(&rx);
}
END_TEST

/* ---- Rooms. ---- */

/* The spread is round-robin, and room_senders() agrees with room_of(). */
START_TEST(test_rooms_spread)
{
	static const uint32_t	pairs[][2] = { { 0, 1 }, { 1, 1 }, { 20, 1 },
	    { 20, 100 }, { 100, 20 }, { 7, 3 }, { 6, 3 }, { 3, 7 },
	    { 1000, 999 }, { 1, 2 } };
	uint32_t		nsenders, nrooms, room, s, count, total;
	size_t			i;

	for (i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		nsenders = pairs[i][0];
		nrooms = pairs[i][1];
		total = 0;
		for (room = 0; room < nrooms; room++) {
			count = 0;
			for (s = 0; s < nsenders; s++)
				if (bench_room_of(s, nrooms) == room)
					count++;
			ck_assert_uint_eq(bench_room_senders(nsenders, nrooms,
			    room), count);
			/* Senders open the first rooms, one each in turn. */
			ck_assert_uint_eq(count > 0, room < nsenders);
			total += count;
		}
		ck_assert_uint_eq(total, nsenders);
		ck_assert_uint_eq(bench_room_senders(nsenders, nrooms,
		    nrooms), 0);
	}
	ck_assert_uint_eq(bench_room_of(12345, 1), 0);
	ck_assert_uint_eq(bench_room_of(12345, 100), 45);
}
END_TEST

START_TEST(test_rooms_init_rejects)
{
	struct bench_rx	rx;

	ck_assert_int_eq(bench_rx_init_room(&rx, 5, 0, 0), -1);
	ck_assert_int_eq(bench_rx_init_room(&rx, 5, 3, 3), -1);
	ck_assert_int_eq(bench_rx_init_room(&rx, 5, 3, 2), 0);
	ck_assert_uint_eq(rx.nseqs, 1);		/* sender 2 alone */
	bench_rx_free(&rx);
	/* A silent room: no sender, nothing owed, nothing allocated. */
	ck_assert_int_eq(bench_rx_init_room(&rx, 5, 8, 6), 0);
	ck_assert_uint_eq(rx.nseqs, 0);
	ck_assert_ptr_null(rx.seqs);
	ck_assert_int_eq(bench_rx_add(&rx, 4, 0), BENCH_MISROUTED);
	ck_assert_int_eq(bench_rx_add(&rx, 5, 0), BENCH_BAD_SENDER);
	ck_assert_uint_eq(rx.arrivals, 0);
	bench_rx_free(&rx);
}
END_TEST

/*
 * A receiver of room 1 of 3, with senders 0..7: its senders are 1, 4
 * and 7.  Sender 1 loses 3 and has 8 duplicated, sender 4 has 10 and
 * 11 swapped, sender 7 loses its last two; every message of senders 0,
 * 2, 3 and 5 also reaches it and must count only as misrouted.
 */
START_TEST(test_rooms_scripted)
{
	struct bench_rx	 rx;
	uint64_t	 sent[8], q, other = 0;
	uint32_t	 s;

	for (s = 0; s < 8; s++)
		sent[s] = 20 + s;		/* owed: 21 + 24 + 27 */
	ck_assert_int_eq(bench_rx_init_room(&rx, 8, 3, 1), 0);
	ck_assert_uint_eq(rx.nseqs, 3);
	for (q = 0; q < 30; q++) {
		if (q < sent[1] && q != 3)
			ck_assert_int_eq(bench_rx_add(&rx, 1, q),
			    BENCH_IN_ORDER);
		if (q == 8)
			ck_assert_int_eq(bench_rx_add(&rx, 1, q),
			    BENCH_DUPLICATE);
		if (q < sent[4] && q != 10 && q != 11)
			ck_assert_int_eq(bench_rx_add(&rx, 4, q),
			    BENCH_IN_ORDER);
		if (q == 12) {
			ck_assert_int_eq(bench_rx_add(&rx, 4, 11),
			    BENCH_REORDERED);
			ck_assert_int_eq(bench_rx_add(&rx, 4, 10),
			    BENCH_REORDERED);
		}
		if (q < sent[7] - 2)
			ck_assert_int_eq(bench_rx_add(&rx, 7, q),
			    BENCH_IN_ORDER);
		for (s = 0; s < 6; s++) {
			if (bench_room_of(s, 3) == 1 || q >= sent[s])
				continue;
			ck_assert_int_eq(bench_rx_add(&rx, s, q),
			    BENCH_MISROUTED);
			other++;
		}
	}
	ck_assert_int_eq(bench_rx_add(&rx, 8, 0), BENCH_BAD_SENDER);

	ck_assert_uint_eq(other, 20 + 22 + 23 + 25);
	ck_assert_uint_eq(rx.misrouted, other);
	ck_assert_uint_eq(rx.bad_sender, 1);
	ck_assert_uint_eq(bench_rx_expected(&rx, sent), 21 + 24 + 27);
	ck_assert_uint_eq(bench_rx_lost(&rx, sent), 1 + 2);
	ck_assert_uint_eq(bench_rx_received(&rx, 1), 20);
	ck_assert_uint_eq(bench_rx_received(&rx, 4), 24);
	ck_assert_uint_eq(bench_rx_received(&rx, 7), 25);
	ck_assert_uint_eq(bench_rx_received(&rx, 0), 0);
	ck_assert_uint_eq(bench_rx_received(&rx, 5), 0);
	ck_assert_uint_eq(rx.reordered, 2);
	ck_assert_uint_eq(rx.duplicated, 1);
	ck_assert_uint_eq(rx.distinct, 20 + 24 + 25);
	ck_assert_uint_eq(rx.arrivals, 20 + 24 + 25 + 1);
	/* A sender of another room sending more changes nothing owed. */
	sent[0] = sent[2] = 1000000;
	ck_assert_uint_eq(bench_rx_expected(&rx, sent), 21 + 24 + 27);
	ck_assert_uint_eq(bench_rx_lost(&rx, sent), 1 + 2);
	bench_rx_free(&rx);
}
END_TEST

#define RR_RECEIVERS	12
#define RR_SENDERS	9
#define RR_MSGS		400

/*
 * A whole run in rooms: every receiver gets every message of every
 * sender, most of them only its room's, through a relay that drops,
 * duplicates, swaps, and now and then leaks a message into the wrong
 * room.  A naive model keyed by (receiver, sender, seq) gives the
 * counts.  The number of rooms varies with the loop index.
 */
START_TEST(test_rooms_random)
{
	static const uint32_t	 nrooms_list[] = { 1, 2, 3, 4, 5, 9, 12 };
	uint32_t		 nrooms = nrooms_list[_i];
	struct bench_rx		*rx;
	struct event		*ev, tmp;
	bool			*seen;
	uint64_t		 high[RR_SENDERS], sent[RR_SENDERS], state, r;
	uint64_t		 lost, dup, late, wrong, owed, arrivals;
	uint64_t		 all_lost = 0, all_wrong = 0, all_owed = 0;
	size_t			 n, i, j, q;
	uint32_t		 k, s, room;

	state = 0x2545f4914f6cdd1dULL + nrooms;
	ev = calloc(2 * RR_SENDERS * RR_MSGS, sizeof *ev);
	seen = calloc(RR_SENDERS * RR_MSGS, sizeof *seen);
	rx = calloc(RR_RECEIVERS, sizeof *rx);
	ck_assert_ptr_nonnull(ev);
	ck_assert_ptr_nonnull(seen);
	ck_assert_ptr_nonnull(rx);
	for (s = 0; s < RR_SENDERS; s++)
		sent[s] = RR_MSGS - s;
	for (k = 0; k < RR_RECEIVERS; k++) {
		room = bench_room_of(k, nrooms);
		ck_assert_int_eq(bench_rx_init_room(&rx[k], RR_SENDERS,
		    nrooms, room), 0);
		n = 0;
		for (s = 0; s < RR_SENDERS; s++) {
			for (q = 0; q < sent[s]; q++) {
				r = rnd(&state) % 1000;
				if (bench_room_of(s, nrooms) != room) {
					/* One in 100 leaks across rooms. */
					if (r < 10) {
						ev[n].sender = s;
						ev[n++].seq = q;
					}
					continue;
				}
				if (r < 30)
					continue;	/* dropped */
				ev[n].sender = s;
				ev[n++].seq = q;
				if (r < 60) {
					ev[n].sender = s;
					ev[n++].seq = q;
				}
			}
		}
		for (i = 0; i < n / 10; i++) {
			j = rnd(&state) % n;
			r = (j + rnd(&state) % 8) % n;
			tmp = ev[j];
			ev[j] = ev[r];
			ev[r] = tmp;
		}

		memset(seen, 0, RR_SENDERS * RR_MSGS * sizeof *seen);
		memset(high, 0, sizeof high);
		lost = dup = late = wrong = owed = arrivals = 0;
		for (i = 0; i < n; i++) {
			s = ev[i].sender;
			q = ev[i].seq;
			bench_rx_add(&rx[k], s, q);
			if (s % nrooms != k % nrooms) {
				wrong++;
				continue;
			}
			arrivals++;
			if (seen[s * RR_MSGS + q])
				dup++;
			else {
				seen[s * RR_MSGS + q] = true;
				if (q < high[s])
					late++;
			}
			if (q + 1 > high[s])
				high[s] = q + 1;
		}
		for (s = 0; s < RR_SENDERS; s++) {
			if (s % nrooms != k % nrooms)
				continue;
			owed += sent[s];
			for (q = 0; q < sent[s]; q++)
				if (!seen[s * RR_MSGS + q])
					lost++;
		}
		ck_assert_uint_eq(bench_rx_expected(&rx[k], sent), owed);
		ck_assert_uint_eq(bench_rx_lost(&rx[k], sent), lost);
		ck_assert_uint_eq(rx[k].misrouted, wrong);
		ck_assert_uint_eq(rx[k].duplicated, dup);
		ck_assert_uint_eq(rx[k].reordered, late);
		ck_assert_uint_eq(rx[k].arrivals, arrivals);
		ck_assert_uint_eq(rx[k].distinct, owed - lost);
		all_lost += lost;
		all_wrong += wrong;
		all_owed += owed;
	}
	/* The relay did disturb things, and owed what one room would not. */
	ck_assert_uint_gt(all_lost, 0);
	ck_assert_uint_eq(all_wrong > 0, nrooms > 1);
	owed = 0;
	for (s = 0; s < RR_SENDERS; s++)
		owed += sent[s] * (RR_RECEIVERS / nrooms +
		    (bench_room_of(s, nrooms) < RR_RECEIVERS % nrooms));
	ck_assert_uint_eq(all_owed, owed);
	for (k = 0; k < RR_RECEIVERS; k++)
		bench_rx_free(&rx[k]);
	free(rx);
	free(ev);
	free(seen);
}
END_TEST

/* ---- Histogram. ---- */

static struct bench_hist *
new_hist(void)
{
	struct bench_hist	*h = malloc(sizeof *h);

	ck_assert_ptr_nonnull(h);
	bench_hist_init(h);
	return h;
}

static void
assert_near(uint64_t got, double want, double tol)
{
	double	err = ((double)got - want) / want;

	ck_assert_msg(err <= tol && err >= -tol, "got %llu, want %.0f "
	    "within %.2f%%", (unsigned long long)got, want, tol * 100);
}

START_TEST(test_hist_uniform)
{
	struct bench_hist	*h = new_hist();
	uint64_t		 us;

	for (us = 1; us <= 1000; us++)
		bench_hist_add(h, us * 1000);
	ck_assert_uint_eq(h->count, 1000);
	ck_assert_uint_eq(h->min, 1000);
	ck_assert_uint_eq(h->max, 1000000);
	assert_near(bench_hist_percentile(h, 50), 500000, 0.01);
	assert_near(bench_hist_percentile(h, 90), 900000, 0.01);
	assert_near(bench_hist_percentile(h, 99), 990000, 0.01);
	assert_near(bench_hist_percentile(h, 99.9), 999000, 0.01);
	ck_assert_uint_eq(bench_hist_percentile(h, 100), 1000000);
	ck_assert(bench_hist_mean(h) > 500499.9 &&
	    bench_hist_mean(h) < 500500.1);
	free(h);
}
END_TEST

/*
 * A million increasing samples from 1 us to 60 s, evenly spread on a
 * log scale: the r-th smallest is the r-th generated, so each
 * percentile is known exactly and must come back within 1%.
 */
START_TEST(test_hist_log_range)
{
	static const double	 pct[] = { 50, 90, 99, 99.9 };
	static const uint64_t	 rank[] = { 500000, 900000, 990000, 999000 };
	struct bench_hist	*h = new_hist();
	uint64_t		 want[4], i, n = 1000000;
	double			 v;
	size_t			 k;

	for (i = 1, v = 1000; i <= n; i++, v *= 1.0000179) {
		bench_hist_add(h, (uint64_t)v);
		for (k = 0; k < 4; k++)
			if (rank[k] == i)
				want[k] = (uint64_t)v;
	}
	ck_assert_uint_ge(h->max, 59ULL * 1000000000);
	for (k = 0; k < 4; k++)
		assert_near(bench_hist_percentile(h, pct[k]),
		    (double)want[k], 0.01);
	free(h);
}
END_TEST

START_TEST(test_hist_constant_and_empty)
{
	struct bench_hist	*h = new_hist();
	int			 i;

	ck_assert_uint_eq(bench_hist_percentile(h, 50), 0);
	ck_assert(bench_hist_mean(h) == 0);
	for (i = 0; i < 100; i++)
		bench_hist_add(h, 123456789);
	/* Clamped to [min, max], so a constant comes back exactly. */
	ck_assert_uint_eq(bench_hist_percentile(h, 0.1), 123456789);
	ck_assert_uint_eq(bench_hist_percentile(h, 50), 123456789);
	ck_assert_uint_eq(bench_hist_percentile(h, 99.9), 123456789);
	free(h);
}
END_TEST

START_TEST(test_hist_small_exact)
{
	struct bench_hist	*h = new_hist();
	uint64_t		 v;

	for (v = 0; v < 100; v++)
		bench_hist_add(h, v);
	ck_assert_uint_eq(bench_hist_percentile(h, 50), 49);
	ck_assert_uint_eq(bench_hist_percentile(h, 1), 0);
	ck_assert_uint_eq(bench_hist_percentile(h, 99), 98);
	free(h);
}
END_TEST

START_TEST(test_hist_overflow)
{
	struct bench_hist	*h = new_hist();

	bench_hist_add(h, 1000);
	bench_hist_add(h, UINT64_MAX / 2);
	ck_assert_uint_eq(h->max, UINT64_MAX / 2);
	ck_assert_uint_eq(bench_hist_percentile(h, 100), UINT64_MAX / 2);
	ck_assert_uint_eq(bench_hist_index(UINT64_MAX),
	    BENCH_HIST_BUCKETS - 1);
	free(h);
}
END_TEST

/* Every bucket holds its values, and is at most 1/128 of them wide. */
START_TEST(test_hist_buckets)
{
	uint64_t	v, lo, hi, last = 0;
	size_t		idx, prev = 0;
	double		step;

	for (v = 0; v < 100000; v++) {
		idx = bench_hist_index(v);
		ck_assert_uint_ge(idx, prev);
		prev = idx;
	}
	for (step = 1, v = 1; v < ((uint64_t)1 << 40); v = (uint64_t)(
	    (double)v * 1.001) + 1, step++) {
		idx = bench_hist_index(v);
		ck_assert_uint_lt(idx, BENCH_HIST_BUCKETS);
		bench_hist_range(idx, &lo, &hi);
		ck_assert_msg(lo <= v && v <= hi, "%llu outside [%llu, %llu]",
		    (unsigned long long)v, (unsigned long long)lo,
		    (unsigned long long)hi);
		ck_assert_msg((hi - lo + 1) * 128 <= lo || lo < 128,
		    "bucket [%llu, %llu] too wide", (unsigned long long)lo,
		    (unsigned long long)hi);
		ck_assert_uint_ge(lo, last);
		last = lo;
	}
	bench_hist_range(BENCH_HIST_BUCKETS - 1, &lo, &hi);
	ck_assert_uint_eq(hi, ((uint64_t)1 << 40) - 1);
}
END_TEST

START_TEST(test_hist_merge)
{
	struct bench_hist	*a = new_hist(), *b = new_hist();
	struct bench_hist	*all = new_hist();
	uint64_t		 v;

	for (v = 1; v <= 20000; v++) {
		bench_hist_add(v % 2 ? a : b, v * 997);
		bench_hist_add(all, v * 997);
	}
	bench_hist_merge(a, b);
	ck_assert_uint_eq(a->count, all->count);
	ck_assert_uint_eq(a->min, all->min);
	ck_assert_uint_eq(a->max, all->max);
	ck_assert_uint_eq(bench_hist_percentile(a, 50),
	    bench_hist_percentile(all, 50));
	ck_assert_uint_eq(bench_hist_percentile(a, 99.9),
	    bench_hist_percentile(all, 99.9));
	ck_assert_int_eq(memcmp(a->buckets, all->buckets,
	    sizeof a->buckets), 0);
	free(a);
	free(b);
	free(all);
}
END_TEST

/* ---- Summary. ---- */

static char *
write_summary(int json, const struct bench_summary *s)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f;

	f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(json ? bench_json_write(f, s) :
	    bench_text_write(f, s), 0);
	fclose(f);
	return buf;
}

static void
fill_summary(struct bench_summary *s, const struct bench_hist *h)
{
	memset(s, 0, sizeof *s);
	s->proto = "chatd";
	s->target = "unix:/tmp/a \"b\"\\c";
	s->clients = 100;
	s->senders = 10;
	s->threads = 2;
	s->size = 64;
	s->window = 64;
	s->warmup_s = 1;
	s->duration_s = 5;
	s->connected = 100;
	s->connect_s = 0.25;
	s->sent_measure = 5000;
	s->deliveries_measure = 500000;
	s->sent = 6000;
	s->deliveries = 599990;
	s->expected = 600000;
	s->lost = 10;
	s->reordered = 3;
	s->duplicated = 2;
	s->drained = true;
	s->latency = h;
	s->rss_before_kb = 2000;
	s->rss_after_kb = -1;
}

START_TEST(test_json)
{
	struct bench_hist	*h = new_hist();
	struct bench_summary	 s;
	char			*out, *p;
	int			 depth = 0;
	uint64_t		 us;

	for (us = 1; us <= 1000; us++)
		bench_hist_add(h, us * 1000);
	fill_summary(&s, h);
	out = write_summary(1, &s);
	ck_assert_ptr_nonnull(strstr(out, "\"deliveries_per_s\": 100000.0"));
	ck_assert_ptr_nonnull(strstr(out, "\"messages_per_s\": 1000.0"));
	ck_assert_ptr_nonnull(strstr(out, "\"lost\": 10,"));
	ck_assert_ptr_nonnull(strstr(out, "\"reordered\": 3,"));
	ck_assert_ptr_nonnull(strstr(out, "\"duplicated\": 2,"));
	ck_assert_ptr_nonnull(strstr(out, "\"mode\": \"closed\""));
	ck_assert_ptr_nonnull(strstr(out, "\"drained\": true"));
	ck_assert_ptr_nonnull(strstr(out, "\"connect_failures\": 0,"));
	ck_assert_ptr_nonnull(strstr(out, "\"samples\": 1000,"));
	ck_assert_ptr_nonnull(strstr(out, "\"p99_9\": "));
	ck_assert_ptr_nonnull(strstr(out, "\"max\": 1000.000}"));
	ck_assert_ptr_nonnull(strstr(out, "\"server_rss_before_kb\": 2000"));
	ck_assert_ptr_nonnull(strstr(out, "\"server_rss_after_kb\": null"));
	ck_assert_ptr_nonnull(strstr(out,
	    "\"target\": \"unix:/tmp/a \\\"b\\\"\\\\c\""));
	ck_assert_ptr_null(strstr(out, "nan"));
	/* One object on one line, braces balanced outside strings. */
	ck_assert_int_eq(out[0], '{');
	ck_assert_ptr_eq(strchr(out, '\n'), out + strlen(out) - 1);
	for (p = out; *p != '\0'; p++) {
		if (*p == '"') {
			for (p++; *p != '"'; p++)
				if (*p == '\\')
					p++;
		} else if (*p == '{')
			depth++;
		else if (*p == '}')
			ck_assert_int_ge(--depth, 0);
	}
	ck_assert_int_eq(depth, 0);
	free(out);
	free(h);
}
END_TEST

START_TEST(test_json_empty)
{
	struct bench_hist	*h = new_hist();
	struct bench_summary	 s;
	char			*out;

	fill_summary(&s, h);
	s.duration_s = 0;
	s.rate = 2000;
	out = write_summary(1, &s);
	ck_assert_ptr_nonnull(strstr(out, "\"latency_us\": {\"samples\": 0}"));
	ck_assert_ptr_nonnull(strstr(out, "\"deliveries_per_s\": 0.0"));
	ck_assert_ptr_nonnull(strstr(out, "\"mode\": \"open\""));
	ck_assert_ptr_nonnull(strstr(out, "\"rate\": 2000.000"));
	free(out);
	free(h);
}
END_TEST

START_TEST(test_text)
{
	struct bench_hist	*h = new_hist();
	struct bench_summary	 s;
	char			*out;

	bench_hist_add(h, 1500);
	fill_summary(&s, h);
	out = write_summary(0, &s);
	ck_assert_ptr_nonnull(strstr(out, "10 lost, 3 reordered, "
	    "2 duplicated"));
	ck_assert_ptr_nonnull(strstr(out, "100000.0 deliveries/s"));
	ck_assert_ptr_nonnull(strstr(out, "p50 1.5 us"));
	ck_assert_ptr_nonnull(strstr(out, "2000 kB before"));
	free(out);
	free(h);
}
END_TEST

/* One room reports as before rooms existed; more add their count. */
START_TEST(test_summary_rooms)
{
	struct bench_hist	*h = new_hist();
	struct bench_summary	 s;
	char			*out;

	fill_summary(&s, h);
	out = write_summary(0, &s);
	ck_assert_ptr_nonnull(strstr(out, "10 senders, 64-byte messages, "));
	ck_assert_ptr_null(strstr(out, "room"));
	ck_assert_ptr_null(strstr(out, "misrouted"));
	ck_assert_ptr_nonnull(strstr(out, "2 duplicated, 0 malformed"));
	free(out);
	out = write_summary(1, &s);
	ck_assert_ptr_nonnull(strstr(out, "\"senders\": 10, \"rooms\": 1, "));
	ck_assert_ptr_nonnull(strstr(out, "\"misrouted\": 0,"));
	free(out);

	s.rooms = 100;
	s.misrouted = 4;
	out = write_summary(0, &s);
	ck_assert_ptr_nonnull(strstr(out,
	    "10 senders, 100 rooms, 64-byte messages, "));
	ck_assert_ptr_nonnull(strstr(out,
	    "2 duplicated, 4 misrouted, 0 malformed"));
	free(out);
	out = write_summary(1, &s);
	ck_assert_ptr_nonnull(strstr(out, "\"rooms\": 100,"));
	ck_assert_ptr_nonnull(strstr(out, "\"misrouted\": 4,"));
	free(out);
	free(h);
}
END_TEST

/* ---- IRC. ---- */

/* A line, and what it splits into: "|" separates the parameters. */
static const struct irc_case {
	const char	*line;
	int		 rc;
	const char	*nick;
	const char	*cmd;
	unsigned	 numeric;
	const char	*params;
} irc_cases[] = {
	{ ":b7!~b@127.0.0.1 PRIVMSG #r0 :B 7 0 12 xxx", 0, "b7", "PRIVMSG",
	    0, "#r0|B 7 0 12 xxx" },
	/* chatd with message tags on; the tags go. */
	{ "@time=2026-12-02T00:00:00.000Z;msgid=5 :b1!b@h PRIVMSG #r1 :hi", 0,
	    "b1", "PRIVMSG", 0, "#r1|hi" },
	{ "PING :irc.example", 0, "", "PING", 0, "irc.example" },
	{ "PING irc.example", 0, "", "PING", 0, "irc.example" },
	{ ":srv 001 b0 :Welcome to the network", 0, "srv", "001", 1,
	    "b0|Welcome to the network" },
	{ ":srv 366 b0 #r0 :End of NAMES list", 0, "srv", "366", 366,
	    "b0|#r0|End of NAMES list" },
	{ ":srv 433 * b0 :Nickname already in use", 0, "srv", "433", 433,
	    "*|b0|Nickname already in use" },
	/* ngircd puts the channel of a JOIN in the trailing parameter. */
	{ ":b0!~b@localhost JOIN :#r0", 0, "b0", "JOIN", 0, "#r0" },
	{ ":b0@host JOIN #r0", 0, "b0", "JOIN", 0, "#r0" },
	/* Runs of spaces between words, an empty trailing parameter. */
	{ ":a!b@c   PRIVMSG   #x   :", 0, "a", "PRIVMSG", 0, "#x|" },
	{ ":a PRIVMSG #x :a :colon and  spaces ", 0, "a", "PRIVMSG", 0,
	    "#x|a :colon and  spaces " },
	{ "ERROR :Closing link", 0, "", "ERROR", 0, "Closing link" },
	{ "NOTICE", 0, "", "NOTICE", 0, "" },
	/* Only three digits make a numeric. */
	{ ":s 0001 x", 0, "s", "0001", 0, "x" },
	{ ":s 12a x", 0, "s", "12a", 0, "x" },
	/* Fifteen parameters at most: the fifteenth is the rest. */
	{ "X 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", 0, "", "X", 0,
	    "1|2|3|4|5|6|7|8|9|10|11|12|13|14|15 16" },
	{ "", -1, NULL, NULL, 0, NULL },
	{ ":nick!u@h", -1, NULL, NULL, 0, NULL },
	{ ":nick!u@h   ", -1, NULL, NULL, 0, NULL },
	{ "@a=b", -1, NULL, NULL, 0, NULL },
	{ "@a=b :src", -1, NULL, NULL, 0, NULL },
};

static bool
str_is(struct bench_irc_str s, const char *want)
{
	/* No source is { NULL, 0 }: memcmp() must not see the NULL. */
	return s.len == strlen(want) && (s.len == 0 ||
	    memcmp(s.p, want, s.len) == 0);
}

START_TEST(test_irc_parse)
{
	const struct irc_case	*c = &irc_cases[_i];
	struct bench_irc	 m;
	char			 params[512];
	size_t			 len = 0;
	uint32_t		 i;

	ck_assert_int_eq(bench_irc_parse(c->line, strlen(c->line), &m),
	    c->rc);
	if (c->rc == -1)
		return;
	ck_assert_msg(str_is(m.nick, c->nick), "%s: nick %.*s", c->line,
	    (int)m.nick.len, m.nick.p);
	ck_assert_msg(str_is(m.cmd, c->cmd), "%s: command", c->line);
	ck_assert_uint_eq(m.numeric, c->numeric);
	ck_assert(bench_irc_is(&m, c->cmd));
	params[0] = '\0';
	for (i = 0; i < m.nparams; i++)
		len += (size_t)snprintf(params + len, sizeof params - len,
		    "%s%.*s", i > 0 ? "|" : "", (int)m.params[i].len,
		    m.params[i].p);
	ck_assert_str_eq(params, c->params);
}
END_TEST

/* Pointers into the line itself, and a length that is obeyed. */
START_TEST(test_irc_parse_bounds)
{
	static const char	 line[] = ":b3!x@y PRIVMSG #r0 :payload\r\nJUNK";
	struct bench_irc	 m;

	ck_assert_int_eq(bench_irc_parse(line, sizeof line - 1 - 6, &m), 0);
	ck_assert(bench_irc_is(&m, "privmsg"));
	ck_assert(!bench_irc_is(&m, "PRIVMS"));
	ck_assert(!bench_irc_is(&m, "PRIVMSGX"));
	ck_assert_uint_eq(m.nparams, 2);
	ck_assert_ptr_eq(m.params[1].p, line + 21);
	ck_assert_uint_eq(m.params[1].len, 7);
	ck_assert_ptr_eq(m.nick.p, line + 1);
}
END_TEST

/*
 * IRC sends a sender nothing of its own: receiver 1 is sender 1 of the
 * one room, and owes only what senders 0 and 2 wrote.
 */
START_TEST(test_no_echo)
{
	struct bench_rx	rx;
	uint64_t	sent[3] = { 5, 7, 4 };
	uint64_t	seq;

	ck_assert_int_eq(bench_rx_init(&rx, 3), 0);
	bench_rx_no_echo(&rx, 1);
	ck_assert_uint_eq(bench_rx_expected(&rx, sent), 9);
	ck_assert_uint_eq(bench_rx_lost(&rx, sent), 9);
	for (seq = 0; seq < 5; seq++)
		ck_assert_int_eq(bench_rx_add(&rx, 0, seq), BENCH_IN_ORDER);
	for (seq = 0; seq < 3; seq++)
		ck_assert_int_eq(bench_rx_add(&rx, 2, seq), BENCH_IN_ORDER);
	/* Our own line, if a server sent it anyway: apart, not delivered. */
	ck_assert_int_eq(bench_rx_add(&rx, 1, 0), BENCH_OWN_ECHO);
	ck_assert_uint_eq(rx.own_echo, 1);
	ck_assert_uint_eq(rx.arrivals, 8);
	ck_assert_uint_eq(rx.distinct, 8);
	ck_assert_uint_eq(bench_rx_received(&rx, 1), 0);
	/* One of sender 2's is missing; nothing of our own is. */
	ck_assert_uint_eq(bench_rx_lost(&rx, sent), 1);
	ck_assert_uint_eq(bench_rx_expected(&rx, sent), 9);
	bench_rx_free(&rx);

	/* Without no_echo the same receiver owes itself too. */
	ck_assert_int_eq(bench_rx_init(&rx, 3), 0);
	ck_assert_uint_eq(bench_rx_expected(&rx, sent), 16);
	ck_assert_int_eq(bench_rx_add(&rx, 1, 0), BENCH_IN_ORDER);
	ck_assert_uint_eq(bench_rx_lost(&rx, sent), 15);
	bench_rx_free(&rx);
}
END_TEST

/* Rooms: self only matters in its own room's arithmetic. */
START_TEST(test_no_echo_rooms)
{
	struct bench_rx	rx;
	uint64_t	sent[6] = { 1, 10, 100, 1000, 10000, 100000 };

	/* 3 rooms; receiver 4 is in room 1 with senders 1 and 4. */
	ck_assert_int_eq(bench_rx_init_room(&rx, 6, 3, 1), 0);
	bench_rx_no_echo(&rx, 4);
	ck_assert_uint_eq(bench_rx_expected(&rx, sent), 10);
	ck_assert_int_eq(bench_rx_add(&rx, 4, 0), BENCH_OWN_ECHO);
	ck_assert_int_eq(bench_rx_add(&rx, 3, 0), BENCH_MISROUTED);
	ck_assert_int_eq(bench_rx_add(&rx, 1, 0), BENCH_IN_ORDER);
	ck_assert_uint_eq(bench_rx_lost(&rx, sent), 9);
	bench_rx_free(&rx);
}
END_TEST

START_TEST(test_summary_irc_tls)
{
	struct bench_hist	*h = new_hist();
	struct bench_summary	 s;
	char			*out;

	fill_summary(&s, h);
	out = write_summary(1, &s);
	ck_assert_ptr_nonnull(strstr(out, "\"proto\": \"chatd\", "
	    "\"tls\": false,"));
	ck_assert_ptr_nonnull(strstr(out, "\"own_echo\": 0,"));
	free(out);
	out = write_summary(0, &s);
	ck_assert_ptr_null(strstr(out, "TLS"));
	ck_assert_ptr_null(strstr(out, "own lines"));
	free(out);

	s.proto = "irc";
	s.tls = true;
	s.own_echo = 3;
	out = write_summary(1, &s);
	ck_assert_ptr_nonnull(strstr(out, "\"proto\": \"irc\", "
	    "\"tls\": true,"));
	ck_assert_ptr_nonnull(strstr(out, "\"own_echo\": 3,"));
	free(out);
	out = write_summary(0, &s);
	ck_assert_ptr_nonnull(strstr(out, "target:       irc over TLS "));
	ck_assert_ptr_nonnull(strstr(out, "3 own lines back, "));
	free(out);
	free(h);
}
END_TEST

static Suite *
bench_suite(void)
{
	Suite	*s = suite_create("bench");
	TCase	*tc;

	tc = tcase_create("payload");
	tcase_add_test(tc, test_payload_round_trip);
	tcase_add_test(tc, test_payload_every_pad);
	tcase_add_test(tc, test_payload_exact_text);
	tcase_add_test(tc, test_payload_encode_rejects);
	tcase_add_loop_test(tc, test_payload_decode_rejects, 0,
	    sizeof bad_payloads / sizeof bad_payloads[0]);
	tcase_add_test(tc, test_payload_decode_accepts);
	suite_add_tcase(s, tc);

	tc = tcase_create("tracker");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_tracker_scripted);
	tcase_add_test(tc, test_tracker_long_gap);
	tcase_add_test(tc, test_tracker_reverse);
	tcase_add_loop_test(tc, test_tracker_random, 0, 8);
	tcase_add_test(tc, test_tracker_no_senders);
	suite_add_tcase(s, tc);

	tc = tcase_create("rooms");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_rooms_spread);
	tcase_add_test(tc, test_rooms_init_rejects);
	tcase_add_test(tc, test_rooms_scripted);
	tcase_add_loop_test(tc, test_rooms_random, 0, 7);
	suite_add_tcase(s, tc);

	tc = tcase_create("histogram");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_hist_uniform);
	tcase_add_test(tc, test_hist_log_range);
	tcase_add_test(tc, test_hist_constant_and_empty);
	tcase_add_test(tc, test_hist_small_exact);
	tcase_add_test(tc, test_hist_overflow);
	tcase_add_test(tc, test_hist_buckets);
	tcase_add_test(tc, test_hist_merge);
	suite_add_tcase(s, tc);

	tc = tcase_create("summary");
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_json_empty);
	tcase_add_test(tc, test_text);
	tcase_add_test(tc, test_summary_rooms);
	tcase_add_test(tc, test_summary_irc_tls);
	suite_add_tcase(s, tc);

	tc = tcase_create("irc");
	tcase_add_loop_test(tc, test_irc_parse, 0,
	    sizeof irc_cases / sizeof irc_cases[0]);
	tcase_add_test(tc, test_irc_parse_bounds);
	tcase_add_test(tc, test_no_echo);
	tcase_add_test(tc, test_no_echo_rooms);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(bench_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
