/*
 * check_iplimit.c - unit tests for per-address admission.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "iplimit.h"
#include "check_run.h"

static struct ipkey
key4(const char *addr, bool *loopback)
{
	struct sockaddr_in	 sin;
	struct ipkey		 k;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(4242);
	ck_assert_int_eq(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	ck_assert_int_eq(ipkey_from_sockaddr((struct sockaddr *)&sin, &k,
	    loopback), 0);
	return k;
}

static struct ipkey
key6(const char *addr, bool *loopback)
{
	struct sockaddr_in6	 sin6;
	struct ipkey		 k;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, addr, &sin6.sin6_addr), 1);
	ck_assert_int_eq(ipkey_from_sockaddr((struct sockaddr *)&sin6, &k,
	    loopback), 0);
	return k;
}

static bool
same_key(struct ipkey a, struct ipkey b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

START_TEST(test_keys)
{
	struct sockaddr_un	 sun;
	struct ipkey		 k;
	bool			 lo = true;

	/* IPv4 by the whole address; the port does not matter. */
	ck_assert(!same_key(key4("192.0.2.1", &lo), key4("192.0.2.2", &lo)));
	ck_assert(!lo);
	/* A v4-mapped address is the IPv4 address. */
	ck_assert(same_key(key4("192.0.2.1", &lo),
	    key6("::ffff:192.0.2.1", &lo)));
	/* IPv6 by its /64. */
	ck_assert(same_key(key6("2001:db8:1:2::1", &lo),
	    key6("2001:db8:1:2:ffff:1:2:3", &lo)));
	ck_assert(!same_key(key6("2001:db8:1:2::1", &lo),
	    key6("2001:db8:1:3::1", &lo)));
	ck_assert(!lo);

	key4("127.0.0.1", &lo);
	ck_assert(lo);
	key4("127.1.2.3", &lo);
	ck_assert(lo);
	key4("128.0.0.1", &lo);
	ck_assert(!lo);
	key6("::1", &lo);
	ck_assert(lo);
	key6("::ffff:127.0.0.1", &lo);
	ck_assert(lo);
	key6("::2", &lo);
	ck_assert(!lo);
	/* ::1 is not lumped in with the rest of ::/64. */
	ck_assert(!same_key(key6("::1", &lo), key6("::2", &lo)));

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_int_eq(ipkey_from_sockaddr((struct sockaddr *)&sun, &k, &lo),
	    -1);
}
END_TEST

START_TEST(test_max_conns)
{
	struct iplimit_policy	 p = { .max_conns = 3, .rate = 0, .burst = 1 };
	struct iplimit		*t = iplimit_new(1);
	struct ipkey		 a, b;
	bool			 lo;
	int			 i;

	ck_assert_ptr_nonnull(t);
	a = key4("192.0.2.1", &lo);
	b = key4("192.0.2.2", &lo);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(iplimit_admit(t, &a, &p, 0), IPLIMIT_OK);
	ck_assert_int_eq(iplimit_admit(t, &a, &p, 0), IPLIMIT_TOO_MANY);
	ck_assert_uint_eq(iplimit_count(t, &a), 3);
	/* Another address is not affected. */
	ck_assert_int_eq(iplimit_admit(t, &b, &p, 0), IPLIMIT_OK);
	/* A close frees a place. */
	iplimit_release(t, &a);
	ck_assert_uint_eq(iplimit_count(t, &a), 2);
	ck_assert_int_eq(iplimit_admit(t, &a, &p, 0), IPLIMIT_OK);
	ck_assert_int_eq(iplimit_admit(t, &a, &p, 0), IPLIMIT_TOO_MANY);
	/* 0 is no limit. */
	p.max_conns = 0;
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(iplimit_admit(t, &a, &p, 0), IPLIMIT_OK);
	ck_assert_uint_eq(iplimit_count(t, &a), 103);
	iplimit_free(t);
}
END_TEST

START_TEST(test_rate)
{
	struct iplimit_policy	 p = { .max_conns = 0, .rate = 2, .burst = 4 };
	struct iplimit		*t = iplimit_new(2);
	struct ipkey		 a;
	bool			 lo;
	int			 i;

	a = key4("198.51.100.7", &lo);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(iplimit_admit(t, &a, &p, 1000), IPLIMIT_OK);
	ck_assert_int_eq(iplimit_admit(t, &a, &p, 1000), IPLIMIT_TOO_FAST);
	/* 2 a second: after 499 ms still nothing, at 500 ms one attempt. */
	ck_assert_int_eq(iplimit_admit(t, &a, &p, 1499), IPLIMIT_TOO_FAST);
	ck_assert_int_eq(iplimit_admit(t, &a, &p, 1500), IPLIMIT_OK);
	ck_assert_int_eq(iplimit_admit(t, &a, &p, 1500), IPLIMIT_TOO_FAST);
	/* A long pause refills to the burst, not beyond. */
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(iplimit_admit(t, &a, &p, 100000), IPLIMIT_OK);
	ck_assert_int_eq(iplimit_admit(t, &a, &p, 100000), IPLIMIT_TOO_FAST);
	/* A clock that steps back refills nothing and breaks nothing. */
	ck_assert_int_eq(iplimit_admit(t, &a, &p, 5), IPLIMIT_TOO_FAST);
	iplimit_free(t);
}
END_TEST

START_TEST(test_refused_attempts_cost)
{
	/* Hammering while at the connection limit keeps the bucket empty. */
	struct iplimit_policy	 p = { .max_conns = 1, .rate = 1, .burst = 3 };
	struct iplimit		*t = iplimit_new(3);
	struct ipkey		 a;
	bool			 lo;

	a = key4("203.0.113.9", &lo);
	ck_assert_int_eq(iplimit_admit(t, &a, &p, 0), IPLIMIT_OK);
	ck_assert_int_eq(iplimit_admit(t, &a, &p, 0), IPLIMIT_TOO_MANY);
	ck_assert_int_eq(iplimit_admit(t, &a, &p, 0), IPLIMIT_TOO_MANY);
	ck_assert_int_eq(iplimit_admit(t, &a, &p, 0), IPLIMIT_TOO_FAST);
	iplimit_release(t, &a);
	ck_assert_int_eq(iplimit_admit(t, &a, &p, 0), IPLIMIT_TOO_FAST);
	ck_assert_int_eq(iplimit_admit(t, &a, &p, 1000), IPLIMIT_OK);
	iplimit_free(t);
}
END_TEST

START_TEST(test_sweep)
{
	struct iplimit_policy	 p = { .max_conns = 16, .rate = 10,
	    .burst = 2 };
	struct iplimit		*t = iplimit_new(4);
	struct ipkey		 a, b;
	bool			 lo;

	a = key4("192.0.2.10", &lo);
	b = key4("192.0.2.11", &lo);
	ck_assert_int_eq(iplimit_admit(t, &a, &p, 0), IPLIMIT_OK);
	ck_assert_int_eq(iplimit_admit(t, &b, &p, 0), IPLIMIT_OK);
	iplimit_release(t, &b);
	ck_assert_uint_eq(iplimit_entries(t), 2);
	/* b holds nothing but its bucket is not full yet: kept. */
	iplimit_sweep(t, &p, 50);
	ck_assert_uint_eq(iplimit_entries(t), 2);
	/* Refilled (one token in 100 ms): b goes, a stays connected. */
	iplimit_sweep(t, &p, 100);
	ck_assert_uint_eq(iplimit_entries(t), 1);
	ck_assert_uint_eq(iplimit_count(t, &a), 1);
	iplimit_release(t, &a);
	iplimit_sweep(t, &p, 200);
	ck_assert_uint_eq(iplimit_entries(t), 0);
	/* A release of an unknown address is harmless. */
	iplimit_release(t, &a);
	ck_assert_uint_eq(iplimit_count(t, &a), 0);
	iplimit_free(t);
}
END_TEST

START_TEST(test_many_addresses)
{
	/* The table grows; every address keeps its own count. */
	struct iplimit_policy	 p = { .max_conns = 2, .rate = 0, .burst = 1 };
	struct iplimit		*t = iplimit_new(5);
	struct sockaddr_in	 sin;
	struct ipkey		 k;
	bool			 lo;
	uint32_t		 i;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	for (i = 0; i < 20000; i++) {
		sin.sin_addr.s_addr = htonl(0x0a000000u + i);
		ipkey_from_sockaddr((struct sockaddr *)&sin, &k, &lo);
		ck_assert_int_eq(iplimit_admit(t, &k, &p, 0), IPLIMIT_OK);
		ck_assert_int_eq(iplimit_admit(t, &k, &p, 0), IPLIMIT_OK);
	}
	ck_assert_uint_eq(iplimit_entries(t), 20000);
	for (i = 0; i < 20000; i += 997) {
		sin.sin_addr.s_addr = htonl(0x0a000000u + i);
		ipkey_from_sockaddr((struct sockaddr *)&sin, &k, &lo);
		ck_assert_uint_eq(iplimit_count(t, &k), 2);
		ck_assert_int_eq(iplimit_admit(t, &k, &p, 0),
		    IPLIMIT_TOO_MANY);
	}
	iplimit_free(t);
}
END_TEST

static Suite *
iplimit_suite(void)
{
	Suite	*s = suite_create("iplimit");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_max_conns);
	tcase_add_test(tc, test_rate);
	tcase_add_test(tc, test_refused_attempts_cost);
	tcase_add_test(tc, test_sweep);
	tcase_add_test(tc, test_many_addresses);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(iplimit_suite());
}
