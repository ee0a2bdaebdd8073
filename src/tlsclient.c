/*
 * tlsclient.c - the client side of TLS for chat (tlsclient.h).
 *
 * One SSL_CTX per session: chat holds one connection at a time and
 * makes a new one only on reconnecting, so sharing a context would buy
 * nothing, and a fresh one rereads a CA file that may have changed.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "tlsclient.h"

struct tlsclient {
	SSL_CTX		*ctx;
	SSL		*ssl;
	char		 host[256];
	bool		 insecure;
	short		 read_events;	/* what the last read waits for */
	short		 write_events;	/* what the last write waits for */
	char		 error[512];
};

/* OpenSSL's reason for the oldest error queued, or fallback; clears it. */
static void
ssl_reason(char *out, size_t len, const char *what, const char *fallback)
{
	unsigned long	 e = ERR_get_error();
	const char	*reason;

	reason = e != 0 ? ERR_reason_error_string(e) : NULL;
	if (reason == NULL)
		reason = fallback;
	snprintf(out, len, "%s: %s", what, reason);
	ERR_clear_error();
}

/* A literal address is checked against the IP SANs, a name the DNS ones. */
static int
set_expected_host(SSL *ssl, const char *host)
{
	X509_VERIFY_PARAM	*param = SSL_get0_param(ssl);
	unsigned char		 addr[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1 ? 0 : -1;
	/* No partial wildcards ("f*o.example.org"), as browsers do. */
	X509_VERIFY_PARAM_set_hostflags(param,
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set1_host(ssl, host) != 1)
		return -1;
	/* RFC 6066: SNI carries names only, never an address. */
	return SSL_set_tlsext_host_name(ssl, host) == 1 ? 0 : -1;
}

static SSL_CTX *
context_new(const struct tlsclient_config *cfg, char *err, size_t errlen)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		ssl_reason(err, errlen, "TLS", "cannot make a context");
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		ssl_reason(err, errlen, "TLS", "cannot require TLS 1.2");
		goto fail;
	}
	/*
	 * chat's output buffer grows (realloc) while a write waits, and
	 * a retried write may carry more bytes than the first try.
	 */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (cfg->insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return ctx;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (cfg->ca_file != NULL) {
		/* OpenSSL's reason would be "system lib". */
		if (access(cfg->ca_file, R_OK) == -1) {
			snprintf(err, errlen, "%s: %s", cfg->ca_file,
			    strerror(errno));
			goto fail;
		}
		if (SSL_CTX_load_verify_locations(ctx, cfg->ca_file,
		    NULL) != 1) {
			ssl_reason(err, errlen, cfg->ca_file,
			    "cannot load the CA certificates");
			goto fail;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		ssl_reason(err, errlen, "TLS",
		    "cannot load the system's CA certificates");
		goto fail;
	}
	return ctx;

fail:
	SSL_CTX_free(ctx);
	return NULL;
}

struct tlsclient *
tlsclient_new(int fd, const struct tlsclient_config *cfg, char *err,
    size_t errlen)
{
	struct tlsclient	*t;

	ERR_clear_error();
	if ((t = calloc(1, sizeof *t)) == NULL) {
		snprintf(err, errlen, "TLS: out of memory");
		return NULL;
	}
	snprintf(t->host, sizeof t->host, "%s", cfg->host);
	t->insecure = cfg->insecure;
	t->read_events = POLLIN;
	if ((t->ctx = context_new(cfg, err, errlen)) == NULL)
		goto fail;
	if ((t->ssl = SSL_new(t->ctx)) == NULL ||
	    SSL_set_fd(t->ssl, fd) != 1) {
		ssl_reason(err, errlen, "TLS", "cannot make a session");
		goto fail;
	}
	if (set_expected_host(t->ssl, cfg->host) == -1) {
		ssl_reason(err, errlen, "TLS", "bad host name");
		goto fail;
	}
	SSL_set_connect_state(t->ssl);
	return t;

fail:
	tlsclient_free(t);
	return NULL;
}

/*
 * Sort out a failed SSL_* call: EAGAIN with what to wait for in
 * *events, or EPROTO with t->error saying why; 0 at a clean end of
 * stream.
 */
static int
failed(struct tlsclient *t, int ret, short *events, const char *what)
{
	int	saved = errno;

	switch (SSL_get_error(t->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		*events = POLLIN;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		*events = POLLOUT;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			snprintf(t->error, sizeof t->error, "%s: %s", what,
			    saved != 0 ? strerror(saved) :
			    "the connection was closed");
			break;
		}
		/* FALLTHROUGH */
	case SSL_ERROR_SSL:
		if (ERR_GET_REASON(ERR_peek_error()) ==
		    SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			snprintf(t->error, sizeof t->error, "%s: the server "
			    "closed the connection without a TLS close_notify",
			    what);
			break;
		}
		if (ERR_GET_REASON(ERR_peek_error()) ==
		    SSL_R_WRONG_VERSION_NUMBER) {
			/* What a plain-text server's first bytes look like. */
			snprintf(t->error, sizeof t->error, "%s: wrong version "
			    "number (is the port plain text, not TLS?)", what);
			break;
		}
		/* FALLTHROUGH */
	default:
		ssl_reason(t->error, sizeof t->error, what, "failed");
		break;
	}
	ERR_clear_error();
	errno = EPROTO;
	return -1;
}

int
tlsclient_handshake(struct tlsclient *t, char *err, size_t errlen)
{
	long	verify;
	int	ret;

	ERR_clear_error();
	errno = 0;
	if ((ret = SSL_do_handshake(t->ssl)) == 1) {
		t->read_events = POLLIN;
		return 1;
	}
	verify = SSL_get_verify_result(t->ssl);
	if (!t->insecure && verify != X509_V_OK) {
		/* The verify error says more than "certificate verify failed". */
		snprintf(err, errlen, "certificate verify failed: %s%s%s",
		    X509_verify_cert_error_string(verify),
		    verify == X509_V_ERR_HOSTNAME_MISMATCH ||
		    verify == X509_V_ERR_IP_ADDRESS_MISMATCH ?
		    ": the certificate is not for " : "",
		    verify == X509_V_ERR_HOSTNAME_MISMATCH ||
		    verify == X509_V_ERR_IP_ADDRESS_MISMATCH ? t->host : "");
		ERR_clear_error();
		return -1;
	}
	if (failed(t, ret, &t->read_events, "TLS handshake") == -1 &&
	    errno == EAGAIN)
		return 0;
	snprintf(err, errlen, "%s", t->error[0] != '\0' ? t->error :
	    "TLS handshake: the connection was closed");
	return -1;
}

ssize_t
tlsclient_read(struct tlsclient *t, void *buf, size_t len)
{
	int	ret, n = len > INT_MAX ? INT_MAX : (int)len;

	ERR_clear_error();
	errno = 0;
	if ((ret = SSL_read(t->ssl, buf, n)) > 0) {
		t->read_events = POLLIN;
		return ret;
	}
	return failed(t, ret, &t->read_events, "TLS read");
}

ssize_t
tlsclient_write(struct tlsclient *t, const void *buf, size_t len)
{
	int	ret, n = len > INT_MAX ? INT_MAX : (int)len;

	ERR_clear_error();
	errno = 0;
	if ((ret = SSL_write(t->ssl, buf, n)) > 0) {
		t->write_events = 0;
		return ret;
	}
	if (failed(t, ret, &t->write_events, "TLS write") == 0) {
		/* The server said goodbye; nothing more goes out. */
		snprintf(t->error, sizeof t->error,
		    "TLS write: the server closed the connection");
		errno = EPROTO;
	}
	return -1;
}

short
tlsclient_read_events(const struct tlsclient *t)
{
	return t->read_events;
}

short
tlsclient_write_events(const struct tlsclient *t)
{
	return t->write_events;
}

bool
tlsclient_pending(const struct tlsclient *t)
{
	return SSL_pending(t->ssl) > 0;
}

const char *
tlsclient_error(const struct tlsclient *t)
{
	return t->error;
}

void
tlsclient_free(struct tlsclient *t)
{
	if (t == NULL)
		return;
	if (t->ssl != NULL) {
		/* One try: a goodbye the socket cannot take now is skipped. */
		if (SSL_is_init_finished(t->ssl))
			SSL_shutdown(t->ssl);
		SSL_free(t->ssl);
	}
	SSL_CTX_free(t->ctx);
	ERR_clear_error();
	free(t);
}
