/*
 * check_history.c - the history ring: what it keeps under each bound, the
 * order it returns, and that it holds exactly one reference per event.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "check_run.h"

#define BIG	((size_t)1 << 30)	/* a bound that never binds */

static struct event *
mkev(uint64_t seq, size_t text_len)
{
	struct event	*ev;
	char		*text;

	ck_assert_ptr_nonnull(text = malloc(text_len + 1));
	memset(text, 'x', text_len);
	ev = event_new(EV_SAY, seq, 1000 + seq, "#r", 2, "alice", 5, text,
	    text_len);
	ck_assert_ptr_nonnull(ev);
	free(text);
	return ev;
}

static unsigned
refs(struct event *ev)
{
	return atomic_load(&ev->refs);
}

/* Assert the history holds exactly seqs first..last, oldest first. */
static void
assert_window(const struct history *h, uint64_t first, uint64_t last)
{
	struct event	*out[64];
	size_t		 n, i;

	ck_assert_uint_le(last - first + 1, 64);
	ck_assert_uint_eq(history_count(h), last - first + 1);
	n = history_last(h, 64, out);
	ck_assert_uint_eq(n, last - first + 1);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(out[i]->seq, first + i);
		event_unref(out[i]);
	}
}

START_TEST(empty_costs_nothing)
{
	struct history	 h;
	struct event	*out[1];

	history_init(&h, 1000, BIG);
	ck_assert_ptr_null(h.ring);
	ck_assert_uint_eq(history_count(&h), 0);
	ck_assert_uint_eq(history_bytes(&h), 0);
	ck_assert_uint_eq(history_last(&h, 1, out), 0);
	history_free(&h);
}
END_TEST

START_TEST(evicts_by_lines)
{
	struct history	 h;
	struct event	*ev[12];
	size_t		 i;

	history_init(&h, 5, BIG);
	for (i = 0; i < 12; i++) {
		ev[i] = mkev(i + 1, 10);
		ck_assert_int_eq(history_push(&h, ev[i]), 0);
	}
	assert_window(&h, 8, 12);
	ck_assert_uint_le(h.cap, 5);
	/* Evicted events lost the ring's reference; kept ones hold it. */
	for (i = 0; i < 12; i++)
		ck_assert_uint_eq(refs(ev[i]), i < 7 ? 1 : 2);
	history_free(&h);
	for (i = 0; i < 12; i++) {
		ck_assert_uint_eq(refs(ev[i]), 1);
		event_unref(ev[i]);
	}
}
END_TEST

START_TEST(evicts_by_bytes)
{
	struct history	 h;
	struct event	*small, *big;
	size_t		 cost, i;

	small = mkev(0, 20);
	cost = history_event_cost(small);
	ck_assert_uint_eq(cost, 5 + 20 + HISTORY_EVENT_OVERHEAD);
	event_unref(small);

	/* Room for three and a half small events. */
	history_init(&h, 1000, 3 * cost + cost / 2);
	for (i = 1; i <= 10; i++) {
		small = mkev(i, 20);
		ck_assert_int_eq(history_push(&h, small), 0);
		event_unref(small);
	}
	assert_window(&h, 8, 10);
	ck_assert_uint_eq(history_bytes(&h), 3 * cost);

	/* An event costing two small ones pushes two out, not one. */
	big = mkev(11, 20 + cost);
	ck_assert_uint_eq(history_event_cost(big), 2 * cost);
	ck_assert_int_eq(history_push(&h, big), 0);
	event_unref(big);
	assert_window(&h, 10, 11);
	ck_assert_uint_eq(history_bytes(&h), 3 * cost);
	history_free(&h);
}
END_TEST

START_TEST(too_big_alone_is_not_kept)
{
	struct history	 h;
	struct event	*ev;
	size_t		 i;

	history_init(&h, 10, 4 * (5 + 10 + HISTORY_EVENT_OVERHEAD));
	for (i = 1; i <= 3; i++) {
		ev = mkev(i, 10);
		ck_assert_int_eq(history_push(&h, ev), 0);
		event_unref(ev);
	}
	ev = mkev(4, 5 * (5 + 10 + HISTORY_EVENT_OVERHEAD));
	ck_assert_int_eq(history_push(&h, ev), 0);
	ck_assert_uint_eq(refs(ev), 1);
	event_unref(ev);
	assert_window(&h, 1, 3);
	history_free(&h);
}
END_TEST

START_TEST(last_order_and_clamping)
{
	struct history	 h;
	struct event	*ev, *out[40];
	size_t		 i, n;

	history_init(&h, 20, BIG);
	for (i = 1; i <= 33; i++) {		/* wraps around the ring */
		ev = mkev(i, i);
		ck_assert_int_eq(history_push(&h, ev), 0);
		event_unref(ev);
	}
	ck_assert_uint_eq(history_last(&h, 0, out), 0);
	n = history_last(&h, 3, out);
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(out[i]->seq, 31 + i);
		ck_assert_uint_eq(out[i]->text_len, 31 + i);
		ck_assert_uint_eq(refs(out[i]), 2);
		event_unref(out[i]);
	}
	n = history_last(&h, 40, out);
	ck_assert_uint_eq(n, 20);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(out[i]->seq, 14 + i);
		event_unref(out[i]);
	}
	history_free(&h);
}
END_TEST

/* The ring's reference is the last one: evicting frees the event. */
START_TEST(evicted_event_is_freed)
{
	struct history	 h;
	struct event	*ev, *keep;
	size_t		 i;

	history_init(&h, 2, BIG);
	keep = mkev(1, 3);
	ck_assert_int_eq(history_push(&h, keep), 0);
	ck_assert_uint_eq(refs(keep), 2);
	for (i = 2; i <= 4; i++) {	/* the ring owns these alone */
		ev = mkev(i, 3);
		ck_assert_int_eq(history_push(&h, ev), 0);
		event_unref(ev);
		ck_assert_uint_eq(refs(ev), 1);
	}
	/* keep went when event 3 came; event 2, whose only reference was
	 * the ring's, was freed when event 4 came (ASan would report a leak
	 * or a use after free otherwise). */
	ck_assert_uint_eq(refs(keep), 1);
	event_unref(keep);
	assert_window(&h, 3, 4);
	history_free(&h);
}
END_TEST

START_TEST(zero_limits_keep_none)
{
	struct history	 h;
	struct event	*ev = mkev(1, 3);

	history_init(&h, 0, BIG);
	ck_assert_int_eq(history_push(&h, ev), 0);
	ck_assert_uint_eq(history_count(&h), 0);
	ck_assert_ptr_null(h.ring);
	history_free(&h);

	history_init(&h, 100, 0);
	ck_assert_int_eq(history_push(&h, ev), 0);
	ck_assert_uint_eq(history_count(&h), 0);
	ck_assert_ptr_null(h.ring);
	history_free(&h);

	ck_assert_uint_eq(refs(ev), 1);
	event_unref(ev);
}
END_TEST

START_TEST(shrinking_evicts_and_frees_slots)
{
	struct history	 h;
	struct event	*ev;
	size_t		 i, cost = 0;

	history_init(&h, 30, BIG);
	for (i = 1; i <= 30; i++) {
		ev = mkev(i, 10);
		cost = history_event_cost(ev);
		ck_assert_int_eq(history_push(&h, ev), 0);
		event_unref(ev);
	}
	ck_assert_uint_eq(h.cap, 30);

	history_set_limits(&h, 12, BIG);
	assert_window(&h, 19, 30);
	ck_assert_uint_eq(h.cap, 12);

	history_set_limits(&h, 12, 5 * cost);
	assert_window(&h, 26, 30);

	/* Growing again keeps what is there and takes more. */
	history_set_limits(&h, 40, BIG);
	for (i = 31; i <= 40; i++) {
		ev = mkev(i, 10);
		ck_assert_int_eq(history_push(&h, ev), 0);
		event_unref(ev);
	}
	assert_window(&h, 26, 40);

	history_set_limits(&h, 0, BIG);
	ck_assert_uint_eq(history_count(&h), 0);
	ck_assert_uint_eq(history_bytes(&h), 0);
	ck_assert_ptr_null(h.ring);
	history_free(&h);
}
END_TEST

/*
 * Random pushes and limit changes against a plain model: the newest
 * events whose count and cost fit, found by walking back from the end.
 */
START_TEST(matches_a_model)
{
	enum { STEPS = 3000 };
	struct history	 h;
	struct event	*ev, *out[64];
	uint64_t	*kept_seq;
	size_t		*cost, max_lines = 10, max_bytes = 2000;
	size_t		 nkept = 0, step, i, n, bytes;
	unsigned	 rnd = 12345;

	ck_assert_ptr_nonnull(kept_seq = calloc(STEPS, sizeof(*kept_seq)));
	ck_assert_ptr_nonnull(cost = calloc(STEPS + 1, sizeof(*cost)));
	history_init(&h, max_lines, max_bytes);
	for (step = 1; step <= STEPS; step++) {
		rnd = rnd * 1103515245 + 12345;
		if ((rnd >> 16) % 50 == 0) {
			max_lines = (rnd >> 8) % 64;
			max_bytes = (rnd >> 4) % 4000;
			history_set_limits(&h, max_lines, max_bytes);
		} else {
			ev = mkev(step, (rnd >> 16) % 400);
			cost[step] = history_event_cost(ev);
			ck_assert_int_eq(history_push(&h, ev), 0);
			event_unref(ev);
			if (max_lines > 0 && cost[step] <= max_bytes)
				kept_seq[nkept++] = step;
		}
		/* The model: drop the oldest until both bounds hold. */
		for (;;) {
			for (bytes = 0, i = 0; i < nkept; i++)
				bytes += cost[kept_seq[i]];
			if (nkept == 0 || (nkept <= max_lines &&
			    bytes <= max_bytes))
				break;
			memmove(kept_seq, kept_seq + 1,
			    --nkept * sizeof(*kept_seq));
		}
		ck_assert_uint_eq(history_count(&h), nkept);
		ck_assert_uint_eq(history_bytes(&h), bytes);
		n = history_last(&h, 64, out);
		ck_assert_uint_eq(n, nkept);
		for (i = 0; i < n; i++) {
			ck_assert_uint_eq(out[i]->seq, kept_seq[i]);
			event_unref(out[i]);
		}
	}
	history_free(&h);
	free(kept_seq);
	free(cost);
}
END_TEST

static Suite *
history_suite(void)
{
	Suite	*s = suite_create("history");
	TCase	*tc = tcase_create("ring");

	tcase_add_test(tc, empty_costs_nothing);
	tcase_add_test(tc, evicts_by_lines);
	tcase_add_test(tc, evicts_by_bytes);
	tcase_add_test(tc, too_big_alone_is_not_kept);
	tcase_add_test(tc, last_order_and_clamping);
	tcase_add_test(tc, evicted_event_is_freed);
	tcase_add_test(tc, zero_limits_keep_none);
	tcase_add_test(tc, shrinking_evicts_and_frees_slots);
	tcase_add_test(tc, matches_a_model);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(history_suite());
}
