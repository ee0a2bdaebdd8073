/*
 * fuzz_tls.c - the TLS port's front door: garbage, or records that look
 * almost right, fed to the server side of a handshake (tls.c, with the
 * context chatd builds) through memory BIOs.
 *
 * Input: byte 0 picks the chunk sizes (0: all at once, else 1..64
 * bytes), the rest is what a client sends.  After each chunk the
 * session goes on as a worker's would: the handshake, then reads and a
 * write once it is done (it never is without a real client, but a
 * corpus may hold one).  What the server answers is drained and
 * dropped.  Properties: nothing crashes or leaks, every call returns a
 * result tls.h names, a failed handshake stays failed, and nothing
 * waits to write (a memory BIO takes everything, as it must: a worker
 * that waited for EPOLLOUT here would wait for ever).
 *
 * The certificate is made in memory once, written to a scratch
 * directory and loaded through tls_ctx_new(), so the context is the
 * one chatd serves with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "fuzz.h"
#include "tls.h"

#define CHUNK_MAX	64
#define STEPS_MAX	64	/* calls per chunk: a bound, not a goal */

static struct tls_ctx	*ctx;

/* A self-signed P-256 certificate for localhost, as the tests make. */
static void
make_cert(const char *cert, const char *key)
{
	EVP_PKEY	*pk;
	X509		*x;
	X509_NAME	*name;
	FILE		*f;

	FUZZ_ASSERT((pk = EVP_EC_gen("P-256")) != NULL);
	FUZZ_ASSERT((x = X509_new()) != NULL);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, pk);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, name);
	FUZZ_ASSERT(X509_sign(x, pk, EVP_sha256()) > 0);
	FUZZ_ASSERT((f = fopen(cert, "w")) != NULL);
	FUZZ_ASSERT(PEM_write_X509(f, x) == 1);
	fclose(f);
	FUZZ_ASSERT((f = fopen(key, "w")) != NULL);
	FUZZ_ASSERT(PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL)
	    == 1);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(pk);
}

static void
init(void)
{
	char	 dir[] = "/tmp/chatd-fuzz-tls.XXXXXX", cert[64], key[64];
	char	 err[512];

	FUZZ_ASSERT(mkdtemp(dir) != NULL);
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	make_cert(cert, key);
	ctx = tls_ctx_new(cert, key, err, sizeof(err));
	if (ctx == NULL)
		fuzz_fail("tls_ctx_new: %s", err);
	unlink(cert);
	unlink(key);
	rmdir(dir);
}

static bool
known(long rc)
{
	return rc == TLS_OK || rc == TLS_WANT_READ || rc == TLS_WANT_WRITE ||
	    rc == TLS_EOF || rc == TLS_ERROR;
}

/* Drop what the server wrote; memory BIOs never block the writer. */
static void
drain(BIO *out)
{
	char	 buf[4096];

	while (BIO_read(out, buf, sizeof(buf)) > 0)
		continue;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_conn	*t;
	BIO		*in, *out;
	char		 buf[16384];
	size_t		 off, chunk, retry;
	ssize_t		 n;
	long		 rc = TLS_WANT_READ;
	bool		 open = false, failed = false;
	int		 step;

	if (ctx == NULL)
		init();
	if (size < 1)
		return 0;
	FUZZ_ASSERT((in = BIO_new(BIO_s_mem())) != NULL);
	FUZZ_ASSERT((out = BIO_new(BIO_s_mem())) != NULL);
	/* An empty memory BIO says "retry", as a socket says EAGAIN. */
	BIO_set_mem_eof_return(in, -1);
	FUZZ_ASSERT((t = tls_conn_new_bio(ctx, in, out)) != NULL);
	chunk = data[0] == 0 ? size : (size_t)(data[0] % CHUNK_MAX) + 1;
	for (off = 1; off < size && !failed; off += chunk) {
		if (chunk > size - off)
			chunk = size - off;
		FUZZ_ASSERT(BIO_write(in, data + off, (int)chunk) ==
		    (int)chunk);
		for (step = 0; step < STEPS_MAX && !failed; step++) {
			if (!open) {
				rc = tls_handshake(t);
				FUZZ_ASSERT(known(rc));
				open = rc == TLS_OK;
			} else {
				n = tls_read(t, buf, sizeof(buf));
				FUZZ_ASSERT(n > 0 || known(n));
				rc = n > 0 ? TLS_OK : n;
				if (rc == TLS_OK || rc == TLS_WANT_READ) {
					n = tls_write(t, "-- hello\r\n", 10,
					    &retry);
					FUZZ_ASSERT(n == 10 || known(n));
				}
			}
			FUZZ_ASSERT(rc != TLS_WANT_WRITE);
			drain(out);
			failed = rc == TLS_ERROR || rc == TLS_EOF;
			/* Nothing more to feed it: wait for the next chunk. */
			if (rc == TLS_WANT_READ)
				break;
		}
	}
	if (failed && !open) {
		/* A failed handshake never succeeds later. */
		FUZZ_ASSERT(tls_handshake(t) != TLS_OK);
	}
	tls_close_notify(t);
	tls_conn_free(t);
	return 0;
}
