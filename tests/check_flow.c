/*
 * check_flow.c - unit tests for the back-pressure policy: the marks,
 * the stall clock, the hold budget and what a line costs.
 */
#include <check.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "msg.h"
#include "check_run.h"

START_TEST(test_marks)
{
	struct flow_marks	 m;

	flow_marks_init(&m, 1024 * 1024);
	ck_assert_uint_eq(m.limit, 1024 * 1024);
	ck_assert_uint_eq(m.high, 512 * 1024);
	ck_assert_uint_eq(m.low, 256 * 1024);
}
END_TEST

START_TEST(test_behind_hysteresis)
{
	struct flow_marks	 m;

	flow_marks_init(&m, 4000);	/* high 2000, low 1000 */
	ck_assert(!flow_behind(false, 1999, &m));
	ck_assert(flow_behind(false, 2000, &m));
	/* Behind until it drains to the low mark, not the high one. */
	ck_assert(flow_behind(true, 1999, &m));
	ck_assert(flow_behind(true, 1001, &m));
	ck_assert(!flow_behind(true, 1000, &m));
	ck_assert(!flow_behind(true, 0, &m));
	/* Not behind: between the marks stays not behind. */
	ck_assert(!flow_behind(false, 1500, &m));
}
END_TEST

START_TEST(test_cost)
{
	ck_assert_uint_eq(flow_cost(0, 0), 0);
	ck_assert_uint_eq(flow_cost(100, 1), 100 + FLOW_LINE_OVERHEAD);
	/* Ten thousand one-byte lines cost far more than ten thousand bytes. */
	ck_assert_uint_eq(flow_cost(10000, 10000),
	    10000 + 10000 * FLOW_LINE_OVERHEAD);
}
END_TEST

START_TEST(test_batch_bytes)
{
	/* A quarter of the sendq shared by the workers, within bounds. */
	ck_assert_uint_eq(flow_batch_bytes(1024 * 1024, 2), 32 * 1024);
	ck_assert_uint_eq(flow_batch_bytes(256 * 1024, 2), 32 * 1024);
	ck_assert_uint_eq(flow_batch_bytes(256 * 1024, 16), 4096);
	ck_assert_uint_eq(flow_batch_bytes(4096, 1), 4096);
	ck_assert_uint_eq(flow_batch_bytes(1024 * 1024, 0), 32 * 1024);
	/* What the workers can overshoot stays under the limit. */
	ck_assert_uint_le(flow_batch_bytes(1024 * 1024, 8) * 8,
	    1024 * 1024 / 4);
}
END_TEST

START_TEST(test_line_tokens)
{
	ck_assert_uint_eq(flow_line_tokens(0), 1);
	ck_assert_uint_eq(flow_line_tokens(1), 1);
	ck_assert_uint_eq(flow_line_tokens(FLOW_BYTES_PER_TOKEN), 1);
	ck_assert_uint_eq(flow_line_tokens(FLOW_BYTES_PER_TOKEN + 1), 2);
	/* 4095 control bytes relayed as U+FFFD, with "<nick> " and CRLF. */
	ck_assert_uint_eq(flow_line_tokens(4095 * 3 + 16), 13);
	/* The same length of plain text costs a third of that. */
	ck_assert_uint_eq(flow_line_tokens(4095 + 16), 5);
}
END_TEST

START_TEST(test_stall_clock)
{
	struct flow_stall	 s = { 0, 0 };

	ck_assert(!flow_stalled_now(&s));
	ck_assert_uint_eq(flow_stall_ms(&s, 1000), 0);
	flow_stall_start(&s, 1000);
	ck_assert(flow_stalled_now(&s));
	ck_assert_uint_eq(flow_stall_ms(&s, 1400), 400);
	/* Starting again while stalled keeps the first start. */
	flow_stall_start(&s, 1300);
	ck_assert_uint_eq(flow_stall_ms(&s, 1400), 400);
	flow_stall_stop(&s, 1500);
	ck_assert(!flow_stalled_now(&s));
	/* Only the time blocked counts: the gap does not. */
	ck_assert_uint_eq(flow_stall_ms(&s, 9000), 500);
	flow_stall_start(&s, 9000);
	ck_assert_uint_eq(flow_stall_ms(&s, 9250), 750);
	flow_stall_stop(&s, 9250);
	flow_stall_stop(&s, 9900);	/* not stalled: nothing added */
	ck_assert_uint_eq(flow_stall_ms(&s, 9900), 750);
	flow_stall_reset(&s);
	ck_assert_uint_eq(flow_stall_ms(&s, 9900), 0);
	/* A clock reading of 0 still counts as stalled. */
	flow_stall_start(&s, 0);
	ck_assert(flow_stalled_now(&s));
}
END_TEST

START_TEST(test_should_cut)
{
	struct flow_stall	 s = { 0, 0 };

	/* A recipient that is not stalled now is never cut. */
	s.total_ms = 60000;
	ck_assert(!flow_should_cut(&s, 100000, 3000, false));
	ck_assert(!flow_should_cut(&s, 100000, 3000, true));
	flow_stall_reset(&s);
	/* A pause of half a second is not slow. */
	flow_stall_start(&s, 10000);
	ck_assert(!flow_should_cut(&s, 10500, 3000, false));
	ck_assert(!flow_should_cut(&s, 12999, 3000, false));
	ck_assert(flow_should_cut(&s, 13000, 3000, false));
	/* Once the budget is spent, a stalled recipient is cut at once. */
	flow_stall_reset(&s);
	flow_stall_start(&s, 20000);
	ck_assert(flow_should_cut(&s, 20001, 3000, true));
	/* Stretches add up: a trickle reader is cut too. */
	flow_stall_reset(&s);
	flow_stall_start(&s, 10);
	flow_stall_stop(&s, 1010);
	flow_stall_start(&s, 1020);
	flow_stall_stop(&s, 2020);
	flow_stall_start(&s, 2030);
	ck_assert(!flow_should_cut(&s, 3000, 3000, false));
	ck_assert(flow_should_cut(&s, 3030, 3000, false));
}
END_TEST

START_TEST(test_budget)
{
	struct flow_budget	 b;
	uint64_t		 t = 1000000;

	flow_budget_init(&b, 3000, t);
	/* Full: twice the slow timeout. */
	ck_assert(!flow_budget_update(&b, false, 3000, t));
	ck_assert(b.level_ms == 6000.0);
	/* Held for 4 s: it drains at 7/8 net (an eighth refills meanwhile). */
	ck_assert(!flow_budget_update(&b, true, 3000, t + 4000));
	ck_assert(b.level_ms == 6000.0 - 3500.0);
	/* Held 3 s more: spent, and it does not go below nothing. */
	ck_assert(flow_budget_update(&b, true, 3000, t + 7000));
	ck_assert(b.level_ms == 0.0);
	/* Refills at an eighth of real time, up to its cap. */
	ck_assert(!flow_budget_update(&b, false, 3000, t + 15000));
	ck_assert(b.level_ms == 1000.0);
	ck_assert(!flow_budget_update(&b, false, 3000, t + 100000));
	ck_assert(b.level_ms == 6000.0);
	/* A clock that did not move changes nothing. */
	ck_assert(!flow_budget_update(&b, true, 3000, t + 100000));
	ck_assert(b.level_ms == 6000.0);
	/* A reload that shortens the timeout lowers the cap. */
	ck_assert(!flow_budget_update(&b, false, 1000, t + 100001));
	ck_assert(b.level_ms == 2000.0);
}
END_TEST

/*
 * In the long run blocked recipients hold the senders at most an eighth
 * of the time: simulate never-readers that each hold as long as they may.
 */
START_TEST(test_budget_long_run_share)
{
	struct flow_budget	 b;
	uint64_t		 t = 0, held_ms = 0, end = 600000;
	bool			 spent;

	flow_budget_init(&b, 3000, t);
	while (t < end) {
		/* A never-reader fills up in 200 ms of traffic... */
		t += 200;
		flow_budget_update(&b, false, 3000, t);
		/* ...then holds until it is cut: 3 s, or the budget is spent. */
		for (uint64_t h = 0; h < 3000; h++) {
			t++;
			held_ms++;
			spent = flow_budget_update(&b, true, 3000, t);
			if (spent)
				break;
		}
	}
	/*
	 * An eighth of 600 s is 75 s, plus the initial 6 s of budget and a
	 * step past the end of the budget for each never-reader.
	 */
	ck_assert_msg(held_ms <= 75000 + 6000 + end / 200,
	    "held %llu ms of %llu", (unsigned long long)held_ms,
	    (unsigned long long)end);
	/* And the budget does not starve them completely either. */
	ck_assert_msg(held_ms >= 50000, "held only %llu ms",
	    (unsigned long long)held_ms);
}
END_TEST

/*
 * The cost of a queued line is its length and FLOW_LINE_OVERHEAD, so its
 * allocation must not hold the threefold room kept for sanitising: a
 * 4,000-byte line of letters is 4 KB, not 12.  Below the scratch space
 * (16 KiB) and above it.
 */
START_TEST(test_msg_sized)
{
	static const size_t	 lens[] = { 10, 4000, 8000 };
	struct msg		*m;
	char			*text;
	size_t			 i, n;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		n = lens[i];
		ck_assert_ptr_nonnull(text = malloc(n));
		memset(text, 'a', n);
		m = msg_format(REPLY_CHAT, "nick", 4, text, n);
		ck_assert_ptr_nonnull(m);
		ck_assert_uint_eq(m->len, n + strlen("<nick> \r\n"));
		ck_assert_msg(malloc_usable_size(m) <= sizeof(*m) + m->len + 64 +
		    32, "a %zu-byte line takes %zu bytes", n,
		    malloc_usable_size(m));
		msg_unref(m);
		/* Control bytes do grow threefold, and fit. */
		memset(text, 0x01, n);
		m = msg_format(REPLY_CHAT, "nick", 4, text, n);
		ck_assert_ptr_nonnull(m);
		ck_assert_uint_eq(m->len, 3 * n + strlen("<nick> \r\n"));
		ck_assert_uint_ge(malloc_usable_size(m), sizeof(*m) + m->len);
		msg_unref(m);
		free(text);
	}
}
END_TEST

static Suite *
flow_suite(void)
{
	Suite	*s = suite_create("flow");
	TCase	*tc = tcase_create("policy");

	tcase_add_test(tc, test_marks);
	tcase_add_test(tc, test_behind_hysteresis);
	tcase_add_test(tc, test_cost);
	tcase_add_test(tc, test_batch_bytes);
	tcase_add_test(tc, test_line_tokens);
	tcase_add_test(tc, test_stall_clock);
	tcase_add_test(tc, test_should_cut);
	tcase_add_test(tc, test_budget);
	tcase_add_test(tc, test_budget_long_run_share);
	tcase_add_test(tc, test_msg_sized);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(flow_suite());
}
