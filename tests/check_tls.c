/*
 * check_tls.c - the TLS listener against the real daemon, with a
 * certificate each test makes with openssl(1): chat over TLS beside
 * plaintext, old protocol versions and plaintext refused, a stalled
 * handshake timed out while others chat, a certificate reload.
 *
 * The order and slow-consumer scenarios run over TLS through
 * tests/over_tls.sh (testnet's TLS mode), not copied here.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_net.h"

struct tls_daemon {
	struct tn_daemon	*d;
	char			 dir[256];
	char			 cert[300], key[300];
};

/* A daemon with a fresh certificate and extra[] after the TLS options. */
static void
tls_start(struct tls_daemon *t, const char *const *extra)
{
	const char	*args[40];
	size_t		 n = 0;

	ck_assert_msg(tn_tls_certs(t->dir, sizeof t->dir) == 0, "%s",
	    tn_error());
	snprintf(t->cert, sizeof t->cert, "%s/cert.pem", t->dir);
	snprintf(t->key, sizeof t->key, "%s/key.pem", t->dir);
	args[n++] = "--tls-port";
	args[n++] = "0";
	args[n++] = "--tls-cert";
	args[n++] = t->cert;
	args[n++] = "--tls-key";
	args[n++] = t->key;
	while (extra != NULL && *extra != NULL && n < 38)
		args[n++] = *extra++;
	args[n] = NULL;
	t->d = start(args);
	ck_assert_msg(tn_wait_tls_port(t->d, TN_START_TIMEOUT) == 0, "%s",
	    tn_error());
	ck_assert_msg(t->d->tls_port != 0 && t->d->tls_port != t->d->port,
	    "no TLS port of its own in the log");
}

static void
tls_stop(struct tls_daemon *t)
{
	stop(t->d);
	tn_tls_certs_remove(t->dir);
}

static struct tn_client *
tls_join(struct tn_daemon *d)
{
	struct tn_client	*c;

	c = tn_connect_tls(d);
	ck_assert_msg(c != NULL, "%s", tn_error());
	ck_assert_msg(tn_welcome(c) == 0, "%s", tn_error());
	return c;
}

/*
 * Read raw bytes until the server closes; true if it did within
 * timeout_ms.  *got counts the bytes, and text holds their start.
 */
static bool
raw_wait_closed(int fd, int timeout_ms, size_t *got, char *text,
    size_t size)
{
	char		buf[4096];
	struct pollfd	pfd;
	int64_t		deadline = tn_now_ms() + timeout_ms;
	ssize_t		n;
	size_t		keep;

	*got = 0;
	text[0] = '\0';
	while (tn_now_ms() < deadline) {
		n = recv(fd, buf, sizeof buf, 0);
		if (n == 0 || (n == -1 && errno == ECONNRESET))
			return true;
		if (n > 0) {
			keep = size - 1 - (*got < size - 1 ? *got : size - 1);
			if ((size_t)n < keep)
				keep = (size_t)n;
			memcpy(text + (*got < size - 1 ? *got : size - 1), buf,
			    keep);
			*got += (size_t)n;
			text[*got < size - 1 ? *got : size - 1] = '\0';
			continue;
		}
		if (errno != EAGAIN && errno != EINTR)
			return false;
		pfd.fd = fd;
		pfd.events = POLLIN;
		poll(&pfd, 1, 50);
	}
	return false;
}

/*
 * Read until client got n lines from each of x and y, which must come
 * in the order each sent them ("<nick> TAG i").
 */
static void
expect_both(struct tn_client *c, struct tn_client *x, const char *xtag,
    struct tn_client *y, const char *ytag, int n)
{
	char	 line[TN_LINE_MAX], wx[300], wy[300];
	int	 nx = 0, ny = 0, r;

	while (nx < n || ny < n) {
		r = tn_readline(c, line, sizeof line, TN_LINE_TIMEOUT);
		ck_assert_msg(r >= 0, "client %s after %d and %d lines: %s",
		    c->nick, nx, ny, tn_error());
		snprintf(wx, sizeof wx, "<%s> %s %d", x->nick, xtag, nx);
		snprintf(wy, sizeof wy, "<%s> %s %d", y->nick, ytag, ny);
		if (strcmp(line, wx) == 0)
			nx++;
		else if (strcmp(line, wy) == 0)
			ny++;
		else
			ck_abort_msg("client %s: got \"%s\", expected \"%s\" "
			    "or \"%s\"", c->nick, tn_quote(line, (size_t)r),
			    wx, wy);
	}
}

/*
 * 1. Two TLS clients and a plaintext one chat: every line reaches
 * everyone, whichever way it came in, in the order it was sent.
 */
START_TEST(test_tls_chat)
{
	static const char *const extra[] = { "--rate", "0", NULL };
	struct tls_daemon	 t;
	struct tn_client	*a, *b, *p;
	int			 i;

	tls_start(&t, extra);
	a = tls_join(t.d);
	b = tls_join(t.d);
	p = join(t.d);
	EXPECTF(a, "-- %s joined", b->nick);
	EXPECTF(a, "-- %s joined", p->nick);
	EXPECTF(b, "-- %s joined", p->nick);
	for (i = 0; i < 200; i++) {
		SENDF(a, "from tls %d\r\n", i);
		SENDF(p, "from plain %d\r\n", i);
	}
	expect_both(a, a, "from tls", p, "from plain", 200);
	expect_both(b, a, "from tls", p, "from plain", 200);
	expect_both(p, a, "from tls", p, "from plain", 200);
	SEND(b, "/who\r\n");
	EXPECT_PREFIX(b, "-- 3 online: ", t.cert);
	tn_close(a);
	tn_close(b);
	tn_close(p);
	tls_stop(&t);
}
END_TEST

/*
 * Run openssl s_client against the TLS port with args; its exit code,
 * its stdout and stderr joined in *out.
 */
static int
s_client(uint16_t port, const char *args, char **out)
{
	char		 cmd[512];
	const char	*argv[] = { "/bin/sh", "-c", cmd, NULL };
	char		*o = NULL, *e = NULL;
	int		 rc;

	snprintf(cmd, sizeof cmd, "exec openssl s_client -connect "
	    "127.0.0.1:%u %s </dev/null 2>&1", port, args);
	rc = tn_run(argv, 20000, &o, &e);
	*out = o != NULL ? o : strdup("");
	free(e);
	return rc;
}

/*
 * 2. TLS 1.0 and 1.1 are refused by the server itself.  The client is
 * told to allow them (SECLEVEL=0), so a refusal is the server's: its log
 * says why.  TLS 1.2 and 1.3 from the same client get in.
 */
START_TEST(test_old_versions_refused)
{
	static const char *const old[] = { "-tls1", "-tls1_1" };
	struct tls_daemon	 t;
	char			*out;
	size_t			 i;
	int			 rc;

	tls_start(&t, NULL);
	for (i = 0; i < 2; i++) {
		char args[100];

		snprintf(args, sizeof args, "%s -cipher 'DEFAULT@SECLEVEL=0'",
		    old[i]);
		rc = s_client(t.d->tls_port, args, &out);
		ck_assert_msg(rc != 0, "s_client %s got in: %s", old[i], out);
		free(out);
	}
	ck_assert_msg(tn_wait_log(t.d, "tls handshake failed: "
	    "error:0A000102:SSL routines::unsupported protocol", 5000),
	    "the server did not log refusing the old version: %s",
	    tn_error());
	rc = s_client(t.d->tls_port, "-tls1_2", &out);
	ck_assert_msg(rc == 0 && strstr(out, "Protocol  : TLSv1.2") != NULL,
	    "s_client -tls1_2 exited %d: %s", rc, out);
	free(out);
	rc = s_client(t.d->tls_port, "-tls1_3", &out);
	ck_assert_msg(rc == 0 && strstr(out, "TLSv1.3") != NULL,
	    "s_client -tls1_3 exited %d: %s", rc, out);
	free(out);
	tls_stop(&t);
}
END_TEST

/*
 * 3. A plaintext client on the TLS port is refused cleanly: closed at
 * once, never greeted, and the server goes on serving TLS.
 */
START_TEST(test_plaintext_refused)
{
	struct tls_daemon	 t;
	struct tn_client	*raw, *a;
	char			 text[512];
	size_t			 got;

	tls_start(&t, NULL);
	raw = tn_connect_port(t.d->tls_port, 0);
	ck_assert_msg(raw != NULL, "%s", tn_error());
	SEND(raw, "hello\r\n");
	ck_assert_msg(raw_wait_closed(raw->fd, 5000, &got, text, sizeof text),
	    "the plaintext client was not closed");
	ck_assert_msg(strstr(text, "welcome") == NULL, "a plaintext client "
	    "was greeted on the TLS port: \"%s\"", tn_quote(text, strlen(
	    text)));
	/* At most a TLS alert record (5 bytes of header and 2 of alert). */
	ck_assert_msg(got <= 7, "%zu bytes sent to a plaintext client", got);
	ck_assert_msg(tn_wait_log(t.d, "disconnected: tls handshake failed",
	    5000), "%s", tn_error());
	tn_close(raw);
	a = tls_join(t.d);
	SEND(a, "still here\r\n");
	EXPECTF(a, "<%s> still here", a->nick);
	tn_close(a);
	tls_stop(&t);
}
END_TEST

/*
 * 4. Connections that never finish their handshake are closed after
 * --tls-handshake-timeout, count against --max-per-ip meanwhile, and
 * cost the clients that chat meanwhile nothing.
 */
START_TEST(test_stalled_handshake)
{
	static const char *const extra[] = { "--tls-handshake-timeout", "1",
	    "--limit-loopback", "--max-per-ip", "4", "--connect-rate", "0",
	    "--rate", "0", NULL };
	/* A TLS record header promising a ClientHello that never comes. */
	static const char half_hello[] = "\x16\x03\x01\x02\x00";
	struct tls_daemon	 t;
	struct tn_client	*a, *b, *silent, *half, *extra_c;
	char			 text[64];
	size_t			 got;
	int64_t			 t0, closed_at;
	int			 i;

	tls_start(&t, extra);
	a = tls_join(t.d);
	b = tls_join(t.d);
	EXPECTF(a, "-- %s joined", b->nick);
	t0 = tn_now_ms();
	silent = tn_connect_port(t.d->tls_port, 0);
	half = tn_connect_port(t.d->tls_port, 0);
	ck_assert_msg(silent != NULL && half != NULL, "%s", tn_error());
	ck_assert_int_eq(tn_send(half, half_hello, sizeof half_hello - 1), 0);
	/* Four of four: the next one from this address is refused. */
	extra_c = tn_connect_tls_port(t.d->tls_port, 0);
	ck_assert_msg(extra_c == NULL, "a fifth connection got in while two "
	    "handshakes stalled");
	ck_assert_msg(tn_wait_log(t.d, "refused: too many connections", 5000),
	    "%s", tn_error());
	/* Meanwhile a and b chat, every line at once. */
	for (i = 0; i < 10; i++) {
		int64_t	sent = tn_now_ms();

		SENDF(a, "during the stall %d\r\n", i);
		EXPECTF(b, "<%s> during the stall %d", a->nick, i);
		EXPECTF(a, "<%s> during the stall %d", a->nick, i);
		ck_assert_msg(tn_now_ms() - sent < 1000, "a line took %lld ms "
		    "during a stalled handshake", (long long)(tn_now_ms() -
		    sent));
		poll(NULL, 0, 100);
	}
	ck_assert_msg(raw_wait_closed(silent->fd, 5000, &got, text,
	    sizeof text), "the silent handshake was not closed");
	ck_assert_msg(raw_wait_closed(half->fd, 5000, &got, text,
	    sizeof text), "the half handshake was not closed");
	closed_at = tn_now_ms() - t0;
	ck_assert_msg(closed_at >= 900, "closed after %lld ms, before the "
	    "timeout", (long long)closed_at);
	ck_assert_msg(tn_wait_log(t.d, "disconnected: tls handshake timed "
	    "out", 5000), "%s", tn_error());
	/*
	 * Their places are free again, once the acceptor has freed the
	 * connections, a moment after they were closed and logged.
	 */
	for (i = 0; i < 50; i++) {
		if ((extra_c = tn_connect_tls(t.d)) != NULL &&
		    tn_welcome(extra_c) == 0)
			break;
		if (extra_c != NULL)
			tn_close(extra_c);
		extra_c = NULL;
		poll(NULL, 0, 100);
	}
	ck_assert_msg(extra_c != NULL, "the timed-out handshakes' places "
	    "were not freed in 5 s: %s", tn_error());
	SEND(extra_c, "in now\r\n");
	EXPECTF(extra_c, "<%s> in now", extra_c->nick);
	tn_close(extra_c);
	tn_close(silent);
	tn_close(half);
	tn_close(a);
	tn_close(b);
	tls_stop(&t);
}
END_TEST

static void
copy_file(const char *from, const char *to)
{
	char	*data;
	size_t	 len;
	FILE	*f;

	data = tn_read_file(from, &len);
	ck_assert_msg(data != NULL, "cannot read %s", from);
	ck_assert_msg((f = fopen(to, "w")) != NULL, "%s: %s", to,
	    strerror(errno));
	ck_assert_int_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	free(data);
}

static void
peer_digest(struct tn_daemon *d, unsigned char out[32])
{
	struct tn_client	*c = tls_join(d);

	ck_assert_msg(tn_tls_peer_digest(c, out) == 0, "%s", tn_error());
	tn_close(c);
}

/*
 * 5. SIGHUP: a broken certificate keeps the old one, and new clients
 * still get in with it; a renewed one is served to new clients, while
 * a client connected before keeps its session.
 */
START_TEST(test_reload)
{
	struct tls_daemon	 t;
	struct tn_client	*old;
	unsigned char		 first[32], now[32];
	char			 fresh[256], path[300];
	FILE			*f;

	tls_start(&t, NULL);
	old = tls_join(t.d);
	peer_digest(t.d, first);

	/* Broken: the old certificate stays. */
	ck_assert((f = fopen(t.cert, "w")) != NULL);
	fputs("-----BEGIN CERTIFICATE-----\nnot a certificate\n", f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(tn_signal(t.d, SIGHUP), 0);
	ck_assert_msg(tn_wait_log(t.d, "tls: keeping the old certificate",
	    5000), "%s", tn_error());
	peer_digest(t.d, now);
	ck_assert_msg(memcmp(first, now, 32) == 0, "the certificate changed "
	    "though the new one was broken");

	/* Renewed: new clients get the new one. */
	ck_assert_msg(tn_tls_certs(fresh, sizeof fresh) == 0, "%s",
	    tn_error());
	snprintf(path, sizeof path, "%s/cert.pem", fresh);
	copy_file(path, t.cert);
	snprintf(path, sizeof path, "%s/key.pem", fresh);
	copy_file(path, t.key);
	tn_tls_certs_remove(fresh);
	ck_assert_int_eq(tn_signal(t.d, SIGHUP), 0);
	ck_assert_msg(tn_wait_log(t.d, "tls: certificate reloaded", 5000),
	    "%s", tn_error());
	peer_digest(t.d, now);
	ck_assert_msg(memcmp(first, now, 32) != 0, "the renewed certificate "
	    "is not served");

	/* The client from before still talks through its own session. */
	SEND(old, "still in\r\n");
	snprintf(path, sizeof path, "<%s> still in", old->nick);
	ck_assert_msg(tn_expect_skip_notices(old, path) == 0, "%s",
	    tn_error());
	tn_close(old);
	tls_stop(&t);
}
END_TEST

/*
 * 6. A reader with a 4 KB receive buffer and a 536-byte MSS, which
 * pauses for 50 ms every 250 lines: chatd's socket for it fills, so
 * its SSL_writes must wait and be repeated, and its queue grows (well
 * under --sendq: the reader is never behind).  It gets every line,
 * intact and in order.
 */
#define SMALL_LINES	5000

static size_t
small_text(char *buf, size_t size, int i)
{
	size_t	 n = (size_t)snprintf(buf, size, "small %05d ", i);
	size_t	 len = 60 + (size_t)(i * 7919 % 180);

	/* Lengths and letters vary, so a repeated or skipped byte shows. */
	while (n < len && n < size - 1) {
		buf[n] = (char)('a' + (i + (int)n) % 26);
		n++;
	}
	buf[n] = '\0';
	return n;
}

struct small_ctx {
	struct tn_client	*from;
	char			 err[512];
};

static void *
small_send(void *arg)
{
	struct small_ctx	*x = arg;
	char			 text[300];
	int			 i;

	for (i = 0; i < SMALL_LINES; i++) {
		small_text(text, sizeof text, i);
		if (tn_sendf(x->from, "%s\r\n", text) == -1) {
			snprintf(x->err, sizeof x->err, "sending %d: %s", i,
			    tn_error());
			break;
		}
		/* Fast, but a reader that keeps up must lose nothing. */
		if (i % 20 == 19)
			poll(NULL, 0, 2);
	}
	return NULL;
}

START_TEST(test_small_buffer_reader)
{
	static const char *const extra[] = { "--rate", "0", NULL };
	struct tls_daemon	 t;
	struct tn_client	*a, *r;
	struct small_ctx	 x;
	pthread_t		 th;
	char			 line[TN_LINE_MAX], want[600], text[300];
	int			 i, n;

	tls_start(&t, extra);
	a = tls_join(t.d);
	tn_client_mss = 536;
	r = tn_connect_tls_port(t.d->tls_port, 4096);
	tn_client_mss = 0;
	ck_assert_msg(r != NULL, "%s", tn_error());
	r->d = t.d;
	ck_assert_msg(tn_welcome(r) == 0, "%s", tn_error());
	EXPECTF(a, "-- %s joined", r->nick);
	memset(&x, 0, sizeof x);
	x.from = a;
	ck_assert_int_eq(pthread_create(&th, NULL, small_send, &x), 0);
	for (i = 0; i < SMALL_LINES; i++) {
		small_text(text, sizeof text, i);
		snprintf(want, sizeof want, "<%s> %s", a->nick, text);
		n = tn_readline(r, line, sizeof line, TN_LINE_TIMEOUT);
		if (n < 0 || strcmp(line, want) != 0)
			break;
		if (i % 250 == 249)
			poll(NULL, 0, 50);
	}
	pthread_join(th, NULL);
	ck_assert_msg(x.err[0] == '\0', "%s", x.err);
	ck_assert_msg(i == SMALL_LINES, "line %d: expected \"%.40s...\", got "
	    "%s", i, want, n < 0 ? tn_error() : tn_quote(line, strlen(line)));
	tn_close(a);
	tn_close(r);
	tls_stop(&t);
}
END_TEST

/* 7. The password over TLS: asked first, then the welcome. */
START_TEST(test_password)
{
	static const char *const extra[] = { "--password", "over tls", NULL };
	struct tls_daemon	 t;
	struct tn_client	*a;

	tls_start(&t, extra);
	a = tn_connect_tls(t.d);
	ck_assert_msg(a != NULL, "%s", tn_error());
	EXPECT(a, "-- password required: send /pass PASSWORD");
	SEND(a, "/pass over tls\r\n");
	ck_assert_msg(tn_welcome(a) == 0, "%s", tn_error());
	SEND(a, "hello\r\n");
	EXPECTF(a, "<%s> hello", a->nick);
	tn_close(a);
	tls_stop(&t);
}
END_TEST

/*
 * 8. IRC over TLS (--irc-tls-port, the same certificate): an IRC client
 * registers, joins #lobby and chats with a line client over TLS.
 */
START_TEST(test_irc_tls)
{
	static char		 port[16];
	const char		*extra[] = { "--irc-tls-port", port, "--rate",
				    "0", NULL };
	struct tls_daemon	 t;
	struct tn_client	*irc, *l;
	char			 line[1024], want[300];
	uint16_t		 irc_port;

	irc_port = tn_free_port();
	ck_assert_msg(irc_port != 0, "%s", tn_error());
	snprintf(port, sizeof port, "%u", irc_port);
	tls_start(&t, extra);
	snprintf(want, sizeof want, "listening for irc+tls on 127.0.0.1:%u",
	    irc_port);
	ck_assert_msg(tn_wait_log(t.d, want, TN_START_TIMEOUT), "%s",
	    tn_error());
	l = tls_join(t.d);
	irc = tn_connect_tls_port(irc_port, 0);
	ck_assert_msg(irc != NULL, "%s", tn_error());
	SEND(irc, "NICK alice\r\nUSER a 0 * :Alice\r\n");
	skip_to(irc, " 001 alice :", line, sizeof line);
	SEND(irc, "JOIN #lobby\r\n");
	skip_to(irc, " 366 alice #lobby ", line, sizeof line);
	EXPECT(l, "-- alice joined");
	SEND(irc, "PRIVMSG #lobby :hello over tls\r\n");
	EXPECT(l, "<alice> hello over tls");
	SEND(l, "hello back\r\n");
	EXPECTF(l, "<%s> hello back", l->nick);
	snprintf(want, sizeof want, ":%s!line@127.0.0.1 PRIVMSG #lobby "
	    ":hello back", l->nick);
	skip_to(irc, want, line, sizeof line);
	tn_close(irc);
	tn_close(l);
	tls_stop(&t);
}
END_TEST

int
main(void)
{
	const struct net_test tests[] = {
		{ "tls_chat", test_tls_chat, 0 },
		{ "old_versions_refused", test_old_versions_refused, 0 },
		{ "plaintext_refused", test_plaintext_refused, 0 },
		{ "stalled_handshake", test_stalled_handshake, 0 },
		{ "reload", test_reload, 0 },
		{ "small_buffer_reader", test_small_buffer_reader, 0 },
		{ "password", test_password, 0 },
		{ "irc_tls", test_irc_tls, 0 },
	};

	if (!tn_tls_built()) {
		printf("check_tls: built without TLS, skipped\n");
		return 77;
	}
	return net_main(NET_SUITE("tls", tests, NULL, NULL));
}
