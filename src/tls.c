/*
 * tls.c - OpenSSL 3 behind tls.h: the server's context and its
 * non-blocking sessions.
 */
#include "config.h"

#ifdef HAVE_TLS

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls.h"

struct tls_conn {
	SSL	*ssl;
	/* What the last SSL_write that must be repeated was given. */
	size_t	 wpending;
	/*
	 * The end or an error, met after a read that returned data: the
	 * next read returns it, and tls_pending() says there is one, since
	 * the socket may never be readable again (close_notify, no FIN).
	 */
	int	 deferred;
	char	 err[128];
};

/* The first error OpenSSL queued, or what errno says. */
static void
error_text(char *buf, size_t len, int saved_errno)
{
	unsigned long	 e = ERR_peek_error();

	if (e != 0)
		ERR_error_string_n(e, buf, len);
	else if (saved_errno != 0)
		snprintf(buf, len, "%s", strerror(saved_errno));
	else
		snprintf(buf, len, "connection closed");
	ERR_clear_error();
}

struct tls_ctx *
tls_ctx_new(const char *cert, const char *key, char *err, size_t errlen)
{
	SSL_CTX	*ctx;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		error_text(err, errlen, errno);
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
		error_text(err, errlen, 0);
		goto fail;
	}
	/*
	 * No renegotiation; a FIN without close_notify is an end like any
	 * other (a partial line is dropped anyway).  No session cache or
	 * tickets: chat connections are long, and each would cost memory.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	/*
	 * Partial writes report progress record by record, as writev(2)
	 * does; a retried write is gathered into whichever worker's buffer
	 * runs the connection then, so the buffer moves; idle connections
	 * give their buffers back.
	 */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		char why[128];
		error_text(why, sizeof(why), errno);
		snprintf(err, errlen, "tls-cert %s: %s", cert, why);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		char why[128];
		error_text(why, sizeof(why), errno);
		snprintf(err, errlen, "tls-key %s: %s", key, why);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		char why[128];
		error_text(why, sizeof(why), 0);
		snprintf(err, errlen, "tls-key %s does not match tls-cert %s: "
		    "%s", key, cert, why);
		goto fail;
	}
	return (struct tls_ctx *)ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

void
tls_ctx_ref(struct tls_ctx *ctx)
{
	SSL_CTX_up_ref((SSL_CTX *)ctx);
}

void
tls_ctx_unref(struct tls_ctx *ctx)
{
	SSL_CTX_free((SSL_CTX *)ctx);
}

struct tls_conn *
tls_conn_new(struct tls_ctx *ctx, int fd)
{
	struct tls_conn	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	ERR_clear_error();
	if ((t->ssl = SSL_new((SSL_CTX *)ctx)) == NULL ||
	    SSL_set_fd(t->ssl, fd) != 1) {
		ERR_clear_error();
		SSL_free(t->ssl);
		free(t);
		return NULL;
	}
	SSL_set_accept_state(t->ssl);
	return t;
}

struct tls_conn *
tls_conn_new_bio(struct tls_ctx *ctx, void *rbio, void *wbio)
{
	struct tls_conn	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	ERR_clear_error();
	if ((t->ssl = SSL_new((SSL_CTX *)ctx)) == NULL) {
		ERR_clear_error();
		free(t);
		return NULL;
	}
	SSL_set_bio(t->ssl, rbio, wbio);
	SSL_set_accept_state(t->ssl);
	return t;
}

void
tls_conn_free(struct tls_conn *t)
{
	if (t == NULL)
		return;
	SSL_free(t->ssl);
	free(t);
}

/* Map an SSL call's result; errno is left as the call left it. */
static enum tls_result
classify(struct tls_conn *t, int rc)
{
	int	 saved = errno;

	switch (SSL_get_error(t->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		return TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		ERR_clear_error();
		return TLS_EOF;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0 && saved == 0) {
			ERR_clear_error();
			return TLS_EOF;
		}
		break;
	default:
		break;
	}
	error_text(t->err, sizeof(t->err), saved);
	errno = saved;
	return TLS_ERROR;
}

enum tls_result
tls_handshake(struct tls_conn *t)
{
	int	 rc;

	ERR_clear_error();
	errno = 0;
	if ((rc = SSL_do_handshake(t->ssl)) == 1)
		return TLS_OK;
	return classify(t, rc);
}

ssize_t
tls_read(struct tls_conn *t, void *buf, size_t len)
{
	size_t	 got = 0, n;
	int	 rc;

	if (t->deferred != 0) {
		rc = t->deferred;
		t->deferred = 0;
		return rc;
	}
	/* SSL_read gives one record at a time: take what a read may. */
	while (got < len) {
		ERR_clear_error();
		errno = 0;
		rc = SSL_read_ex(t->ssl, (char *)buf + got, len - got, &n);
		if (rc != 1) {
			rc = classify(t, 0);
			/* What was read is handled first; the rest comes later. */
			if (got > 0 && (rc == TLS_WANT_READ ||
			    rc == TLS_WANT_WRITE))
				break;
			if (got > 0) {
				t->deferred = rc;	/* EOF or ERROR */
				break;
			}
			return rc;
		}
		got += n;
	}
	return (ssize_t)got;
}

ssize_t
tls_write(struct tls_conn *t, const void *buf, size_t len, size_t *retry)
{
	size_t	 n;
	int	 rc;

	/* A repeated write must offer what the one before did, or more. */
	if (len < t->wpending) {
		snprintf(t->err, sizeof(t->err), "write retried with %zu "
		    "bytes, not %zu", len, t->wpending);
		*retry = t->wpending;
		errno = EINVAL;
		return TLS_ERROR;
	}
	ERR_clear_error();
	errno = 0;
	if (SSL_write_ex(t->ssl, buf, len, &n) == 1) {
		t->wpending = 0;
		*retry = 0;
		return (ssize_t)n;
	}
	rc = classify(t, 0);
	if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE)
		t->wpending = len;
	*retry = t->wpending;
	return rc;
}

bool
tls_pending(struct tls_conn *t)
{
	return t->deferred != 0 || SSL_pending(t->ssl) > 0;
}

void
tls_close_notify(struct tls_conn *t)
{
	/* Only once the handshake is done, and never mid-write. */
	if (t == NULL || !SSL_is_init_finished(t->ssl) || t->wpending > 0)
		return;
	ERR_clear_error();
	(void)SSL_shutdown(t->ssl);
	ERR_clear_error();
}

const char *
tls_last_error(struct tls_conn *t)
{
	return t->err[0] != '\0' ? t->err : "unknown error";
}

#else /* !HAVE_TLS */

/* Built without OpenSSL: no context can be made, so no session exists. */
#include <errno.h>
#include <stdio.h>

#include "tls.h"

struct tls_ctx *
tls_ctx_new(const char *cert, const char *key, char *err, size_t errlen)
{
	(void)cert;
	(void)key;
	snprintf(err, errlen, "this chatd was built without TLS");
	return NULL;
}

void
tls_ctx_ref(struct tls_ctx *ctx)
{
	(void)ctx;
}

void
tls_ctx_unref(struct tls_ctx *ctx)
{
	(void)ctx;
}

struct tls_conn *
tls_conn_new(struct tls_ctx *ctx, int fd)
{
	(void)ctx;
	(void)fd;
	errno = ENOSYS;
	return NULL;
}

struct tls_conn *
tls_conn_new_bio(struct tls_ctx *ctx, void *rbio, void *wbio)
{
	(void)ctx;
	(void)rbio;
	(void)wbio;
	errno = ENOSYS;
	return NULL;
}

void
tls_conn_free(struct tls_conn *t)
{
	(void)t;
}

enum tls_result
tls_handshake(struct tls_conn *t)
{
	(void)t;
	return TLS_ERROR;
}

ssize_t
tls_read(struct tls_conn *t, void *buf, size_t len)
{
	(void)t;
	(void)buf;
	(void)len;
	return TLS_ERROR;
}

ssize_t
tls_write(struct tls_conn *t, const void *buf, size_t len, size_t *retry)
{
	(void)t;
	(void)buf;
	(void)len;
	*retry = 0;
	return TLS_ERROR;
}

bool
tls_pending(struct tls_conn *t)
{
	(void)t;
	return false;
}

void
tls_close_notify(struct tls_conn *t)
{
	(void)t;
}

const char *
tls_last_error(struct tls_conn *t)
{
	(void)t;
	return "built without TLS";
}

#endif /* HAVE_TLS */
