/*
 * check_workq.c - unit tests for the bounded work queue.
 *
 * Threads never call ck_assert themselves: they count what went wrong and
 * the test thread asserts on the counts after joining them, because a
 * failing check outside the test thread would not be reported reliably.
 * Every join has a deadline, so a lost wakeup fails instead of hanging.
 */

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "workq.h"
#include "check_run.h"

#define JOIN_SECONDS	3	/* a join of a thread that should be done */
#define STRESS_SECONDS	6	/* the stress run takes ~2 s under TSan */
#define WATCHDOG	8	/* if the test thread itself blocks */

/* Items are never NULL, so number them from 1. */
#define ITEM(n)		((void *)(uintptr_t)(n))

/* A function, not a cast, so workq_pop() results convert cleanly. */
static size_t
value(const void *item)
{
	return (uintptr_t)item;
}

static void
watchdog_on(void)
{
	alarm(WATCHDOG);
}

static void
watchdog_off(void)
{
	alarm(0);
}

static void
start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	ck_assert_int_eq(pthread_create(t, NULL, fn, arg), 0);
}

static void
join_within(pthread_t t, int seconds)
{
	struct timespec	deadline;
	int		rc;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += seconds;
	rc = pthread_timedjoin_np(t, NULL, &deadline);
	ck_assert_msg(rc == 0, "thread did not finish within %d s (%d)",
	    seconds, rc);
}

static void
sleep_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Wait (bounded) until n threads have announced they are running. */
static void
wait_started(atomic_int *started, int n)
{
	int	i;

	for (i = 0; i < 2000 && atomic_load(started) < n; i++)
		sleep_ms(1);
	ck_assert_int_eq(atomic_load(started), n);
	/* Give them time to reach pthread_cond_wait(). */
	sleep_ms(50);
}

/*
 * A consumer that pops until NULL.  Item values encode (producer, seq) as
 * producer * per + seq + 1; per-producer order must be increasing.
 */
#define MAX_PRODUCERS	8

struct consumer {
	pthread_t	 thread;
	struct workq	*q;
	atomic_uchar	*seen;
	size_t		 nitems;
	size_t		 per;
	size_t		 count;
	size_t		 range_errors;
	size_t		 order_errors;
};

static void *
consumer_main(void *arg)
{
	struct consumer	*c = arg;
	long		 last[MAX_PRODUCERS];
	size_t		 id, p, seq, i;
	void		*item;

	for (i = 0; i < MAX_PRODUCERS; i++)
		last[i] = -1;
	while ((item = workq_pop(c->q)) != NULL) {
		c->count++;
		id = value(item) - 1;
		if (id >= c->nitems) {
			c->range_errors++;
			continue;
		}
		p = id / c->per;
		seq = id % c->per;
		if ((long)seq <= last[p])
			c->order_errors++;
		last[p] = (long)seq;
		atomic_fetch_add(&c->seen[id], 1);
	}
	return NULL;
}

static void
check_consumers(struct consumer *c, int n, atomic_uchar *seen, size_t nitems)
{
	size_t	total = 0, i, missing = 0, duplicated = 0;
	int	k;

	for (k = 0; k < n; k++) {
		total += c[k].count;
		ck_assert_uint_eq(c[k].range_errors, 0);
		ck_assert_uint_eq(c[k].order_errors, 0);
	}
	for (i = 0; i < nitems; i++) {
		if (atomic_load(&seen[i]) == 0)
			missing++;
		else if (atomic_load(&seen[i]) > 1)
			duplicated++;
	}
	ck_assert_uint_eq(missing, 0);
	ck_assert_uint_eq(duplicated, 0);
	ck_assert_uint_eq(total, nitems);
}

START_TEST(test_new_zero)
{
	ck_assert_ptr_null(workq_new(0));
}
END_TEST

START_TEST(test_fifo_single)
{
	struct workq	*q;
	size_t		 i, round, next_in = 1, next_out = 1;

	q = workq_new(16);
	ck_assert_ptr_nonnull(q);
	for (i = 1; i <= 16; i++)
		ck_assert_int_eq(workq_push(q, ITEM(i)), 0);
	ck_assert_uint_eq(workq_depth(q), 16);
	for (i = 1; i <= 16; i++)
		ck_assert_uint_eq(value(workq_pop(q)), i);
	ck_assert_uint_eq(workq_depth(q), 0);

	/* Uneven batches, so head and tail wrap at different places. */
	for (round = 0; round < 100; round++) {
		for (i = 0; i < 1 + round % 5; i++)
			ck_assert_int_eq(workq_trypush(q, ITEM(next_in++)), 0);
		for (i = 0; i < 1 + round % 7 && next_out < next_in; i++)
			ck_assert_uint_eq(value(workq_pop(q)), next_out++);
		ck_assert_uint_eq(workq_depth(q), next_in - next_out);
	}
	while (next_out < next_in)
		ck_assert_uint_eq(value(workq_pop(q)), next_out++);
	ck_assert_uint_eq(workq_depth(q), 0);
	workq_free(q);
}
END_TEST

START_TEST(test_trypush_full)
{
	struct workq	*q;

	q = workq_new(3);
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(workq_trypush(q, ITEM(1)), 0);
	ck_assert_int_eq(workq_trypush(q, ITEM(2)), 0);
	ck_assert_int_eq(workq_trypush(q, ITEM(3)), 0);
	ck_assert_int_eq(workq_trypush(q, ITEM(4)), -1);
	ck_assert_uint_eq(workq_depth(q), 3);

	ck_assert_uint_eq(value(workq_pop(q)), 1);
	ck_assert_int_eq(workq_trypush(q, ITEM(5)), 0);
	ck_assert_int_eq(workq_trypush(q, ITEM(6)), -1);
	ck_assert_uint_eq(value(workq_pop(q)), 2);
	ck_assert_uint_eq(value(workq_pop(q)), 3);
	ck_assert_uint_eq(value(workq_pop(q)), 5);

	/* Closed refuses even with room. */
	workq_close(q);
	ck_assert_int_eq(workq_trypush(q, ITEM(7)), -1);
	ck_assert_uint_eq(workq_depth(q), 0);
	workq_free(q);
}
END_TEST

#define PINGPONG_ROUNDS	10000

struct pingpong {
	pthread_t	 thread;
	struct workq	*ping;
	struct workq	*pong;
	size_t		 echoed;
	size_t		 errors;
};

static void *
echo_main(void *arg)
{
	struct pingpong	*pp = arg;
	void		*item;

	while ((item = workq_pop(pp->ping)) != NULL) {
		if (workq_push(pp->pong, item) != 0)
			pp->errors++;
		pp->echoed++;
	}
	return NULL;
}

START_TEST(test_capacity_one_pingpong)
{
	struct pingpong	 pp = { 0 };
	size_t		 i;

	pp.ping = workq_new(1);
	pp.pong = workq_new(1);
	ck_assert_ptr_nonnull(pp.ping);
	ck_assert_ptr_nonnull(pp.pong);
	start(&pp.thread, echo_main, &pp);

	for (i = 1; i <= PINGPONG_ROUNDS; i++) {
		ck_assert_int_eq(workq_push(pp.ping, ITEM(i)), 0);
		ck_assert_uint_eq(value(workq_pop(pp.pong)), i);
	}
	workq_close(pp.ping);
	join_within(pp.thread, JOIN_SECONDS);
	ck_assert_uint_eq(pp.echoed, PINGPONG_ROUNDS);
	ck_assert_uint_eq(pp.errors, 0);
	ck_assert_uint_eq(workq_depth(pp.ping), 0);
	ck_assert_uint_eq(workq_depth(pp.pong), 0);
	workq_free(pp.ping);
	workq_free(pp.pong);
}
END_TEST

/* One producer streams through a queue of one slot: every push blocks. */
START_TEST(test_capacity_one_stream)
{
	struct consumer	 c = { 0 };
	atomic_uchar	*seen;
	size_t		 i, n = 10000;

	seen = calloc(n, sizeof *seen);
	ck_assert_ptr_nonnull(seen);
	c.q = workq_new(1);
	ck_assert_ptr_nonnull(c.q);
	c.seen = seen;
	c.nitems = c.per = n;
	start(&c.thread, consumer_main, &c);

	for (i = 1; i <= n; i++) {
		ck_assert_int_eq(workq_push(c.q, ITEM(i)), 0);
		ck_assert_uint_le(workq_depth(c.q), 1);
	}
	workq_close(c.q);
	join_within(c.thread, JOIN_SECONDS);
	check_consumers(&c, 1, seen, n);
	workq_free(c.q);
	free(seen);
}
END_TEST

#define STRESS_PRODUCERS	4
#define STRESS_CONSUMERS	4
#define STRESS_PER		50000
#define STRESS_ITEMS		(STRESS_PRODUCERS * STRESS_PER)
#define STRESS_CAPACITY		8

struct producer {
	pthread_t	 thread;
	struct workq	*q;
	size_t		 id;
	size_t		 per;
	size_t		 failures;
};

static void *
producer_main(void *arg)
{
	struct producer	*p = arg;
	size_t		 seq;

	for (seq = 0; seq < p->per; seq++) {
		if (workq_push(p->q, ITEM(p->id * p->per + seq + 1)) != 0)
			p->failures++;
	}
	return NULL;
}

START_TEST(test_mpmc_stress)
{
	struct producer	 p[STRESS_PRODUCERS] = { 0 };
	struct consumer	 c[STRESS_CONSUMERS] = { 0 };
	struct workq	*q;
	atomic_uchar	*seen;
	int		 k;

	seen = calloc(STRESS_ITEMS, sizeof *seen);
	ck_assert_ptr_nonnull(seen);
	q = workq_new(STRESS_CAPACITY);
	ck_assert_ptr_nonnull(q);

	for (k = 0; k < STRESS_CONSUMERS; k++) {
		c[k].q = q;
		c[k].seen = seen;
		c[k].nitems = STRESS_ITEMS;
		c[k].per = STRESS_PER;
		start(&c[k].thread, consumer_main, &c[k]);
	}
	for (k = 0; k < STRESS_PRODUCERS; k++) {
		p[k].q = q;
		p[k].id = (size_t)k;
		p[k].per = STRESS_PER;
		start(&p[k].thread, producer_main, &p[k]);
	}

	for (k = 0; k < STRESS_PRODUCERS; k++) {
		join_within(p[k].thread, STRESS_SECONDS);
		ck_assert_uint_eq(p[k].failures, 0);
	}
	/* Consumers must still drain what is queued after the close. */
	workq_close(q);
	for (k = 0; k < STRESS_CONSUMERS; k++)
		join_within(c[k].thread, JOIN_SECONDS);

	check_consumers(c, STRESS_CONSUMERS, seen, STRESS_ITEMS);
	ck_assert_uint_eq(workq_depth(q), 0);
	workq_free(q);
	free(seen);
}
END_TEST

#define MANY_ITEMS	3000

static void
push_many_drained(int nconsumers, size_t capacity)
{
	struct consumer	 c[4] = { 0 };
	struct workq	*q;
	atomic_uchar	*seen;
	void		**items;
	size_t		 i;
	int		 k;

	ck_assert_int_le(nconsumers, 4);
	seen = calloc(MANY_ITEMS, sizeof *seen);
	items = calloc(MANY_ITEMS, sizeof *items);
	ck_assert_ptr_nonnull(seen);
	ck_assert_ptr_nonnull(items);
	for (i = 0; i < MANY_ITEMS; i++)
		items[i] = ITEM(i + 1);
	q = workq_new(capacity);
	ck_assert_ptr_nonnull(q);

	for (k = 0; k < nconsumers; k++) {
		c[k].q = q;
		c[k].seen = seen;
		c[k].nitems = c[k].per = MANY_ITEMS;
		start(&c[k].thread, consumer_main, &c[k]);
	}
	/* Far more than fits: it must wait for the consumers, in batches. */
	ck_assert_uint_eq(workq_push_many(q, items, MANY_ITEMS), MANY_ITEMS);
	ck_assert_uint_eq(workq_push_many(q, items, 0), 0);
	workq_close(q);
	for (k = 0; k < nconsumers; k++)
		join_within(c[k].thread, JOIN_SECONDS);

	/* One consumer sees the exact order; several, increasing runs. */
	check_consumers(c, nconsumers, seen, MANY_ITEMS);
	workq_free(q);
	free(items);
	free(seen);
}

START_TEST(test_push_many_one_consumer)
{
	push_many_drained(1, 4);
}
END_TEST

START_TEST(test_push_many_many_consumers)
{
	push_many_drained(4, 5);
}
END_TEST

struct many_pusher {
	pthread_t	 thread;
	struct workq	*q;
	void		*items[10];
	size_t		 pushed;
};

static void *
many_pusher_main(void *arg)
{
	struct many_pusher	*mp = arg;

	mp->pushed = workq_push_many(mp->q, mp->items, 10);
	return NULL;
}

START_TEST(test_push_many_closed)
{
	struct many_pusher	 mp = { 0 };
	void			*one[1] = { ITEM(99) };
	size_t			 i;

	mp.q = workq_new(4);
	ck_assert_ptr_nonnull(mp.q);
	for (i = 0; i < 10; i++)
		mp.items[i] = ITEM(i + 1);
	start(&mp.thread, many_pusher_main, &mp);

	/* It holds the lock until it waits, so depth 4 means it is waiting. */
	for (i = 0; i < 2000 && workq_depth(mp.q) < 4; i++)
		sleep_ms(1);
	ck_assert_uint_eq(workq_depth(mp.q), 4);
	workq_close(mp.q);
	join_within(mp.thread, JOIN_SECONDS);
	ck_assert_uint_eq(mp.pushed, 4);

	ck_assert_uint_eq(workq_push_many(mp.q, one, 1), 0);
	for (i = 1; i <= 4; i++)
		ck_assert_uint_eq(value(workq_pop(mp.q)), i);
	ck_assert_ptr_null(workq_pop(mp.q));
	workq_free(mp.q);
}
END_TEST

#define WAITERS	8

struct waiter {
	pthread_t	 thread;
	struct workq	*q;
	atomic_int	*started;
	void		*item;		/* popped, or pushed */
	int		 rc;
};

static void *
popper_main(void *arg)
{
	struct waiter	*w = arg;

	atomic_fetch_add(w->started, 1);
	w->item = workq_pop(w->q);
	return NULL;
}

static void *
pusher_main(void *arg)
{
	struct waiter	*w = arg;

	atomic_fetch_add(w->started, 1);
	w->rc = workq_push(w->q, w->item);
	return NULL;
}

START_TEST(test_close_wakes_poppers)
{
	struct waiter	 w[WAITERS];
	struct workq	*q;
	atomic_int	 started = 0;
	int		 k;

	q = workq_new(4);
	ck_assert_ptr_nonnull(q);
	for (k = 0; k < WAITERS; k++) {
		w[k].q = q;
		w[k].started = &started;
		w[k].item = ITEM(12345);	/* must be overwritten */
		start(&w[k].thread, popper_main, &w[k]);
	}
	wait_started(&started, WAITERS);

	workq_close(q);
	for (k = 0; k < WAITERS; k++) {
		join_within(w[k].thread, JOIN_SECONDS);
		ck_assert_ptr_null(w[k].item);
	}
	workq_free(q);
}
END_TEST

/*
 * One batch must wake as many poppers as it brings items: each popper
 * here takes one item and leaves, so nobody else would wake the rest.
 */
START_TEST(test_push_many_wakes_all_poppers)
{
	struct waiter	 w[WAITERS];
	struct workq	*q;
	void		*items[WAITERS];
	atomic_int	 started = 0;
	size_t		 seen = 0;
	int		 k;

	q = workq_new(WAITERS);
	ck_assert_ptr_nonnull(q);
	for (k = 0; k < WAITERS; k++) {
		items[k] = ITEM(1 + k);
		w[k].q = q;
		w[k].started = &started;
		w[k].item = NULL;
		start(&w[k].thread, popper_main, &w[k]);
	}
	wait_started(&started, WAITERS);

	ck_assert_uint_eq(workq_push_many(q, items, WAITERS), WAITERS);
	for (k = 0; k < WAITERS; k++) {
		join_within(w[k].thread, JOIN_SECONDS);
		ck_assert_ptr_nonnull(w[k].item);
		seen |= 1u << (value(w[k].item) - 1);
	}
	ck_assert_uint_eq(seen, (1u << WAITERS) - 1);
	ck_assert_uint_eq(workq_depth(q), 0);
	workq_free(q);
}
END_TEST

START_TEST(test_close_wakes_pushers)
{
	struct waiter	 w[WAITERS];
	struct workq	*q;
	atomic_int	 started = 0;
	int		 k;

	q = workq_new(2);
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(workq_push(q, ITEM(1)), 0);
	ck_assert_int_eq(workq_push(q, ITEM(2)), 0);
	for (k = 0; k < WAITERS; k++) {
		w[k].q = q;
		w[k].started = &started;
		w[k].item = ITEM(100 + k);
		w[k].rc = 12345;		/* must be overwritten */
		start(&w[k].thread, pusher_main, &w[k]);
	}
	wait_started(&started, WAITERS);
	ck_assert_uint_eq(workq_depth(q), 2);

	workq_close(q);
	for (k = 0; k < WAITERS; k++) {
		join_within(w[k].thread, JOIN_SECONDS);
		ck_assert_int_eq(w[k].rc, -1);
	}
	/* The items queued before the close are still there, in order. */
	ck_assert_uint_eq(workq_depth(q), 2);
	ck_assert_uint_eq(value(workq_pop(q)), 1);
	ck_assert_uint_eq(value(workq_pop(q)), 2);
	ck_assert_ptr_null(workq_pop(q));
	workq_free(q);
}
END_TEST

START_TEST(test_pop_after_close_drains)
{
	struct workq	*q;
	size_t		 i;

	q = workq_new(8);
	ck_assert_ptr_nonnull(q);
	for (i = 1; i <= 5; i++)
		ck_assert_int_eq(workq_push(q, ITEM(i)), 0);
	workq_close(q);
	workq_close(q);		/* twice is harmless */
	ck_assert_int_eq(workq_push(q, ITEM(6)), -1);
	ck_assert_int_eq(workq_trypush(q, ITEM(7)), -1);
	ck_assert_uint_eq(workq_depth(q), 5);

	for (i = 1; i <= 5; i++)
		ck_assert_uint_eq(value(workq_pop(q)), i);
	ck_assert_ptr_null(workq_pop(q));
	ck_assert_ptr_null(workq_pop(q));
	ck_assert_uint_eq(workq_depth(q), 0);
	workq_free(q);
}
END_TEST

static Suite *
workq_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("workq");

	tc = tcase_create("single");
	tcase_add_checked_fixture(tc, watchdog_on, watchdog_off);
	tcase_add_test(tc, test_new_zero);
	tcase_add_test(tc, test_fifo_single);
	tcase_add_test(tc, test_trypush_full);
	tcase_add_test(tc, test_pop_after_close_drains);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_checked_fixture(tc, watchdog_on, watchdog_off);
	/* Above the joins' deadlines, so those report first. */
	tcase_set_timeout(tc, WATCHDOG);
	tcase_add_test(tc, test_capacity_one_pingpong);
	tcase_add_test(tc, test_capacity_one_stream);
	tcase_add_test(tc, test_mpmc_stress);
	tcase_add_test(tc, test_push_many_one_consumer);
	tcase_add_test(tc, test_push_many_many_consumers);
	tcase_add_test(tc, test_push_many_closed);
	tcase_add_test(tc, test_close_wakes_poppers);
	tcase_add_test(tc, test_close_wakes_pushers);
	tcase_add_test(tc, test_push_many_wakes_all_poppers);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return check_run(workq_suite());
}
