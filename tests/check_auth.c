/*
 * check_auth.c - the server password: auth_equal() alone, then /pass
 * against the real daemon (plaintext; check_tls.c does it over TLS).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "check_net.h"

static bool
eq(const char *secret, const char *given)
{
	return auth_equal(secret, strlen(secret), given, strlen(given));
}

START_TEST(test_auth_equal)
{
	ck_assert(eq("s3cret", "s3cret"));
	ck_assert(eq("x", "x"));
	ck_assert(!eq("s3cret", "s3cres"));
	ck_assert(!eq("s3cret", "t3cret"));
	ck_assert(!eq("s3cret", "s3cre"));
	ck_assert(!eq("s3cret", "s3crett"));
	ck_assert(!eq("s3cret", ""));
	ck_assert(!eq("s3cret", "S3CRET"));
	/* Bytes past a NUL count: the length is the client's. */
	ck_assert(!auth_equal("ab", 2, "ab\0", 3));
	ck_assert(auth_equal("a b", 3, "a b", 3));
}
END_TEST

/* A daemon asking for the password in a file (kept out of ps). */
static struct tn_daemon *
start_with_password(char *path, size_t size, const char *const *more)
{
	const char	*args[16];
	size_t		 n = 0;
	FILE		*f;
	int		 fd;

	snprintf(path, size, "/tmp/chatd-pass.XXXXXX");
	ck_assert_msg((fd = mkstemp(path)) != -1, "mkstemp");
	ck_assert((f = fdopen(fd, "w")) != NULL);
	fputs("open sesame\n", f);
	ck_assert_int_eq(fclose(f), 0);
	args[n++] = "--password-file";
	args[n++] = path;
	while (more != NULL && *more != NULL && n < 14)
		args[n++] = *more++;
	args[n] = NULL;
	return start(args);
}

/*
 * Before /pass a client is told what to do, hears nothing of the chat
 * and says nothing to it; the right password lets it in.
 */
START_TEST(test_pass_right)
{
	struct tn_daemon	*d;
	struct tn_client	*a, *b;
	char			 path[64];

	d = start_with_password(path, sizeof path, NULL);
	a = tn_connect(d);
	ck_assert_msg(a != NULL, "%s", tn_error());
	EXPECT(a, "-- password required: send /pass PASSWORD");
	SEND(a, "hello before\r\n");
	EXPECT(a, "!! password required: send /pass PASSWORD first (or "
	    "/quit)");
	SEND(a, "/who\r\n");
	EXPECT(a, "!! password required: send /pass PASSWORD first (or "
	    "/quit)");
	SEND(a, "/pass open sesame\r\n");
	ck_assert_msg(tn_welcome(a) == 0, "%s", tn_error());

	b = tn_connect(d);
	ck_assert_msg(b != NULL, "%s", tn_error());
	EXPECT(b, "-- password required: send /pass PASSWORD");
	/* a sees nothing of b until b is in. */
	SEND(a, "/who\r\n");
	EXPECTF(a, "-- 1 online: %s", a->nick);
	SEND(b, "/PASS open sesame\r\n");
	ck_assert_msg(tn_welcome(b) == 0, "%s", tn_error());
	EXPECTF(a, "-- %s joined", b->nick);
	SEND(b, "in\r\n");
	EXPECTF(a, "<%s> in", b->nick);
	EXPECTF(b, "<%s> in", b->nick);
	SEND(b, "/pass open sesame\r\n");
	EXPECT(b, "!! you are in already: no password needed now");
	/* The password never reaches the log. */
	ck_assert(!tn_log_contains(d, "sesame"));
	tn_close(a);
	tn_close(b);
	stop(d);
	unlink(path);
}
END_TEST

/*
 * A wrong password is refused with a clear line, logged for the
 * address, and the connection is closed only after the delay; a
 * client that waits meanwhile is not let in by a second try.
 */
START_TEST(test_pass_wrong)
{
	struct tn_daemon	*d;
	struct tn_client	*a, *q;
	char			 path[64];
	int64_t			 t0, waited;

	d = start_with_password(path, sizeof path, NULL);
	a = tn_connect(d);
	ck_assert_msg(a != NULL, "%s", tn_error());
	EXPECT(a, "-- password required: send /pass PASSWORD");
	t0 = tn_now_ms();
	SEND(a, "/pass open sesame!\r\n/pass open sesame\r\n");
	EXPECT(a, "!! wrong password");
	EXPECT_EOF(a);
	waited = tn_now_ms() - t0;
	ck_assert_msg(waited >= AUTH_FAIL_DELAY_MS - 100, "closed after %lld "
	    "ms, before the delay", (long long)waited);
	ck_assert_msg(tn_wait_log(d, "wrong password", 1000), "%s",
	    tn_error());
	ck_assert(!tn_log_contains(d, "connected as"));
	/* /quit works before the password. */
	q = tn_connect(d);
	ck_assert_msg(q != NULL, "%s", tn_error());
	EXPECT(q, "-- password required: send /pass PASSWORD");
	SEND(q, "/quit\r\n");
	EXPECT(q, "-- bye");
	EXPECT_EOF(q);
	tn_close(a);
	tn_close(q);
	stop(d);
	unlink(path);
}
END_TEST

int
main(void)
{
	const struct net_test tests[] = {
		{ "auth_equal", test_auth_equal, 0 },
		{ "pass_right", test_pass_right, 0 },
		{ "pass_wrong", test_pass_wrong, 0 },
	};

	return net_main(NET_SUITE("auth", tests, NULL, NULL));
}
