/*
 * check_tlsclient.c - tlsclient (chat's TLS) against an OpenSSL server
 * on the other end of a socketpair, both non-blocking and driven from
 * one thread: what is verified and what a refusal says, EAGAIN with the
 * readiness to wait for, a write retried from a moved and longer
 * buffer (chat's output buffer grows under a pending write), pending
 * bytes, and the server's goodbye.
 *
 * The certificates are made here, in memory: one for localhost and
 * 127.0.0.1, and a stranger, each self-signed.
 */

#include <sys/socket.h>
#include <sys/types.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "check_run.h"
#include "check_tmp.h"
#include "tlsclient.h"

#define BIG	(1024 * 1024)	/* more than two socket buffers */

struct pair {
	struct tlsclient	*client;
	SSL_CTX			*sctx;
	SSL			*server;
	int			 fds[2];	/* client, server */
};

static EVP_PKEY	*key;
static X509	*cert;		/* localhost, 127.0.0.1 */
static char	 cert_file[300], stranger_file[300];

static X509 *
make_cert(EVP_PKEY *pkey, const char *cn, const char *san)
{
	X509V3_CTX	 v3;
	X509_EXTENSION	*ext;
	X509_NAME	*name;
	X509		*x;

	ck_assert_ptr_nonnull(x = X509_new());
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pkey);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	ck_assert_ptr_nonnull(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
	    "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ck_assert_int_gt(X509_sign(x, pkey, EVP_sha256()), 0);
	return x;
}

static void
write_pem(const char *path, X509 *x)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_int_eq(PEM_write_X509(f, x), 1);
	fclose(f);
}

static void
setup(void)
{
	EVP_PKEY	*other_key;
	X509		*stranger;

	tmpdir_make("check_tlsclient");
	ck_assert_ptr_nonnull(key = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-256"));
	cert = make_cert(key, "localhost", "DNS:localhost,IP:127.0.0.1");
	snprintf(cert_file, sizeof cert_file, "%s/cert.pem", tmpdir);
	write_pem(cert_file, cert);

	other_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ck_assert_ptr_nonnull(other_key);
	stranger = make_cert(other_key, "localhost", "DNS:localhost");
	snprintf(stranger_file, sizeof stranger_file, "%s/stranger.pem",
	    tmpdir);
	write_pem(stranger_file, stranger);
	X509_free(stranger);
	EVP_PKEY_free(other_key);
}

static void
teardown(void)
{
	X509_free(cert);
	EVP_PKEY_free(key);
	tmpdir_remove();
}

static void
nonblocking(int fd)
{
	ck_assert_int_ne(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK),
	    -1);
}

/* A pair whose client verifies as cfg says; the handshake not started. */
static void
pair_open(struct pair *p, const struct tlsclient_config *cfg)
{
	char	err[512];

	memset(p, 0, sizeof *p);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fds), 0);
	nonblocking(p->fds[0]);
	nonblocking(p->fds[1]);
	ck_assert_ptr_nonnull(p->sctx = SSL_CTX_new(TLS_server_method()));
	ck_assert_int_eq(SSL_CTX_use_certificate(p->sctx, cert), 1);
	ck_assert_int_eq(SSL_CTX_use_PrivateKey(p->sctx, key), 1);
	ck_assert_ptr_nonnull(p->server = SSL_new(p->sctx));
	SSL_set_fd(p->server, p->fds[1]);
	SSL_set_accept_state(p->server);
	p->client = tlsclient_new(p->fds[0], cfg, err, sizeof err);
	ck_assert_msg(p->client != NULL, "tlsclient_new: %s", err);
}

static void
pair_close(struct pair *p)
{
	tlsclient_free(p->client);
	SSL_free(p->server);
	SSL_CTX_free(p->sctx);
	close(p->fds[0]);
	close(p->fds[1]);
}

/* Both ends take turns until the client is done: its result. */
static int
handshake(struct pair *p, char *err, size_t errlen)
{
	int	i, rc = 0;

	for (i = 0; i < 1000 && rc == 0; i++) {
		rc = tlsclient_handshake(p->client, err, errlen);
		if (rc == 0) {
			ck_assert_int_eq(tlsclient_read_events(p->client) &
			    ~(POLLIN | POLLOUT), 0);
			SSL_do_handshake(p->server);
		}
	}
	ck_assert_int_ne(rc, 0);
	return rc;
}

static void
connect_ok(struct pair *p, const char *host, const char *ca)
{
	struct tlsclient_config	cfg = { .host = host, .ca_file = ca };
	char			err[512] = "";

	pair_open(p, &cfg);
	ck_assert_msg(handshake(p, err, sizeof err) == 1, "%s", err);
}

static void
refused(const char *host, const char *ca, const char *want)
{
	struct tlsclient_config	cfg = { .host = host, .ca_file = ca };
	struct pair		p;
	char			err[512] = "";

	pair_open(&p, &cfg);
	ck_assert_int_eq(handshake(&p, err, sizeof err), -1);
	ck_assert_str_eq(err, want);
	pair_close(&p);
}

START_TEST(test_verified)
{
	struct pair	p;

	connect_ok(&p, "localhost", cert_file);
	pair_close(&p);
	connect_ok(&p, "127.0.0.1", cert_file);
	pair_close(&p);
}
END_TEST

START_TEST(test_refused)
{
	refused("otherhost", cert_file, "certificate verify failed: "
	    "hostname mismatch: the certificate is not for otherhost");
	refused("127.0.0.2", cert_file, "certificate verify failed: "
	    "IP address mismatch: the certificate is not for 127.0.0.2");
	/* Trusting another certificate of the same name is no trust. */
	refused("localhost", stranger_file,
	    "certificate verify failed: self-signed certificate");
}
END_TEST

START_TEST(test_insecure)
{
	struct tlsclient_config	cfg = { .host = "otherhost", .insecure = true };
	struct pair		p;
	char			err[512] = "";

	pair_open(&p, &cfg);
	ck_assert_msg(handshake(&p, err, sizeof err) == 1, "%s", err);
	pair_close(&p);
}
END_TEST

START_TEST(test_bad_ca_file)
{
	struct tlsclient_config	cfg = { .host = "localhost" };
	char			err[512], path[400];

	snprintf(path, sizeof path, "%s/none.pem", tmpdir);
	cfg.ca_file = path;
	ck_assert_ptr_null(tlsclient_new(-1, &cfg, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));
}
END_TEST

/* Read what the server has, into got at *len. */
static void
server_drain(struct pair *p, char *got, size_t *len, size_t cap)
{
	int	n;

	while (*len < cap && (n = SSL_read(p->server, got + *len,
	    (int)(cap - *len > 65536 ? 65536 : cap - *len))) > 0)
		*len += (size_t)n;
}

static char
pattern(size_t i)
{
	return (char)('a' + i % 26);
}

/*
 * chat's output buffer: unsent bytes at its start; what a write took
 * is moved out, and while a write waits, more lines may come, which
 * can move the buffer (realloc).  The retry then has the same bytes
 * first, at another address, and more after them.
 */
START_TEST(test_write_moved_buffer)
{
	struct pair	 p;
	char		*buf, *moved, *got;
	size_t		 len, queued, sent = 0, recvd = 0, more;
	ssize_t		 n;
	int		 rounds = 0, blocked = 0;

	connect_ok(&p, "localhost", cert_file);
	queued = len = BIG / 2;
	ck_assert_ptr_nonnull(buf = malloc(len));
	ck_assert_ptr_nonnull(got = malloc(BIG));
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(i);

	while (sent < BIG && rounds++ < 100000) {
		if (len > 0) {
			n = tlsclient_write(p.client, buf, len);
			if (n > 0) {
				memmove(buf, buf + n, len - (size_t)n);
				len -= (size_t)n;
				sent += (size_t)n;
				continue;
			}
			ck_assert_int_eq(errno, EAGAIN);
			ck_assert_int_eq(tlsclient_write_events(p.client),
			    POLLOUT);
			blocked++;
		}
		/* More lines arrive: a new, longer buffer. */
		more = BIG - queued < 16384 ? BIG - queued : 16384;
		ck_assert_ptr_nonnull(moved = malloc(len + more + 1));
		memcpy(moved, buf, len);
		for (size_t i = 0; i < more; i++)
			moved[len + i] = pattern(queued + i);
		free(buf);
		buf = moved;
		len += more;
		queued += more;
		server_drain(&p, got, &recvd, BIG);
	}
	ck_assert_uint_eq(sent, BIG);
	ck_assert_int_gt(blocked, 0);	/* the socket did fill */
	while (recvd < BIG && rounds++ < 200000)
		server_drain(&p, got, &recvd, BIG);
	ck_assert_uint_eq(recvd, BIG);
	for (size_t i = 0; i < BIG; i++)
		if (got[i] != pattern(i))
			ck_abort_msg("byte %zu is '%c', not '%c'", i, got[i],
			    pattern(i));
	free(buf);
	free(got);
	pair_close(&p);
}
END_TEST

START_TEST(test_read_pending_and_goodbye)
{
	struct pair	p;
	char		buf[64];
	ssize_t		n;

	connect_ok(&p, "localhost", cert_file);
	/* Nothing yet: wait for input. */
	ck_assert_int_eq(tlsclient_read(p.client, buf, sizeof buf), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(tlsclient_read_events(p.client), POLLIN);
	ck_assert(!tlsclient_pending(p.client));

	/* One record of 40 bytes, read 10 at first: 30 are pending. */
	ck_assert_int_eq(SSL_write(p.server,
	    "0123456789abcdefghijklmnopqrstuvwxyzABCD", 40), 40);
	n = tlsclient_read(p.client, buf, 10);
	ck_assert_int_eq(n, 10);
	ck_assert(memcmp(buf, "0123456789", 10) == 0);
	ck_assert(tlsclient_pending(p.client));
	ck_assert_int_eq(tlsclient_read(p.client, buf, sizeof buf), 30);
	ck_assert(!tlsclient_pending(p.client));

	/* The server's close_notify is the end of the stream. */
	SSL_shutdown(p.server);
	ck_assert_int_eq(tlsclient_read(p.client, buf, sizeof buf), 0);
	pair_close(&p);
}
END_TEST

static Suite *
tlsclient_suite(void)
{
	Suite	*s = suite_create("tlsclient");
	TCase	*tc = tcase_create("tlsclient");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_verified);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_insecure);
	tcase_add_test(tc, test_bad_ca_file);
	tcase_add_test(tc, test_write_moved_buffer);
	tcase_add_test(tc, test_read_pending_and_goodbye);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(tlsclient_suite());
}
