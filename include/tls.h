/*
 * tls.h - the server side of TLS: a context built from a certificate
 * chain and a key, and one non-blocking session per connection.
 *
 * Promises:
 * - A context speaks TLS 1.2 and 1.3 only, with OpenSSL's default
 *   ciphers, and never renegotiates.
 * - A context is reference-counted (OpenSSL's own count): every session
 *   holds one, so a reload may drop the server's reference to the old
 *   context while the connections made with it keep it.
 * - Nothing here blocks or waits: every call on a session returns
 *   TLS_WANT_READ or TLS_WANT_WRITE when the socket must become
 *   readable or writable first, and the caller calls again then.
 * - tls_write() follows SSL_write's rules: after TLS_WANT_*, the next
 *   call must offer the same bytes again (the buffer may move); it
 *   returns how many to offer in *retry.
 * - A session is used by one thread at a time (its connection's owner);
 *   the context may be shared by every thread.
 *
 * Without HAVE_TLS every function exists, but tls_ctx_new() fails ("built
 * without TLS"), so no session is ever made.
 */
#ifndef CHATD_TLS_H
#define CHATD_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct tls_ctx;
struct tls_conn;

enum tls_result {
	TLS_OK = 0,		/* done (a handshake), or bytes moved */
	TLS_WANT_READ = -1,	/* call again once the socket is readable */
	TLS_WANT_WRITE = -2,	/* call again once the socket is writable */
	TLS_EOF = -3,		/* the peer closed (close_notify or FIN) */
	TLS_ERROR = -4		/* broken: close the connection */
};

/*
 * A context from a PEM chain file (the server's certificate first) and
 * a PEM key.  NULL and the reason in err if either is missing, broken
 * or they do not match.
 */
struct tls_ctx	*tls_ctx_new(const char *cert, const char *key, char *err,
		    size_t errlen);
void		 tls_ctx_ref(struct tls_ctx *ctx);
void		 tls_ctx_unref(struct tls_ctx *ctx);

/* A server session on fd, with a reference to ctx; NULL on ENOMEM. */
struct tls_conn	*tls_conn_new(struct tls_ctx *ctx, int fd);
void		 tls_conn_free(struct tls_conn *t);
/*
 * The same over two OpenSSL BIOs (BIO *, taken over) instead of a
 * socket: the fuzzer feeds the server side of a handshake through
 * memory BIOs.
 */
struct tls_conn	*tls_conn_new_bio(struct tls_ctx *ctx, void *rbio, void *wbio);

/* Go on with the handshake: TLS_OK once done, else WANT_* or ERROR. */
enum tls_result	 tls_handshake(struct tls_conn *t);

/*
 * Read up to len bytes: the count (> 0), or a tls_result.  It may read
 * less than the socket holds: see tls_pending().
 */
ssize_t		 tls_read(struct tls_conn *t, void *buf, size_t len);

/*
 * Write from buf[0..len): the count taken (> 0, maybe less than len),
 * or a tls_result.  *retry is the number of bytes the next call must
 * offer at least (0 if any will do).
 */
ssize_t		 tls_write(struct tls_conn *t, const void *buf, size_t len,
		    size_t *retry);

/* Decrypted input is waiting inside the session: epoll will not say so. */
bool		 tls_pending(struct tls_conn *t);

/* Best effort, never waits: tell the peer we are closing. */
void		 tls_close_notify(struct tls_conn *t);

/* Why the last call failed, for the log (a static or per-thread text). */
const char	*tls_last_error(struct tls_conn *t);

#endif /* CHATD_TLS_H */
