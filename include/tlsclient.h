/*
 * tlsclient.h - the client side of TLS (OpenSSL 3), for chat: a TLS
 * 1.2 or 1.3 session over a connected, non-blocking socket.
 *
 * What it promises:
 *  - The server's certificate is verified against the system's CAs, or
 *    only against the CA file given, and must name the host the caller
 *    connected to (a DNS name, or an IP address as an IP SAN); a name
 *    also goes out as SNI.  Only "insecure" turns verification off, and
 *    nothing else does.
 *  - Nothing here blocks or polls.  Each call does what the socket
 *    allows now; when it cannot go on, it fails with errno EAGAIN, and
 *    tlsclient_read_events() or tlsclient_write_events() says what the
 *    caller's poll() must wait for (a read may need the socket
 *    writable, a write readable).
 *  - Errors are text that names what failed: the certificate
 *    verification error as OpenSSL words it, or OpenSSL's reason.
 *  - It never closes the socket: that stays the caller's.
 *
 * Built only with HAVE_TLS (configure without --without-tls).
 */
#ifndef CHATD_TLSCLIENT_H
#define CHATD_TLSCLIENT_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

struct tlsclient;

struct tlsclient_config {
	const char	*host;		/* to verify the certificate against */
	const char	*ca_file;	/* NULL: the system's CAs */
	bool		 insecure;	/* verify nothing */
};

/*
 * A session over fd, handshake not yet started; NULL with err set when
 * the CA file or OpenSSL fails.
 */
struct tlsclient	*tlsclient_new(int fd, const struct tlsclient_config *,
			    char *err, size_t errlen);

/*
 * Go on with the handshake: 1 when done, 0 when it waits for
 * tlsclient_read_events(), -1 when it failed (err says why).
 */
int	tlsclient_handshake(struct tlsclient *, char *err, size_t errlen);

/*
 * Like read(2) and write(2): bytes, 0 at the end of the stream (read
 * only), or -1 with errno EAGAIN (wait for the events below) or
 * EPROTO (tlsclient_error() says why).  A write that failed with
 * EAGAIN is retried with the same bytes first, which may have moved
 * (the buffer may be another, longer one); it may write part of them.
 */
ssize_t	tlsclient_read(struct tlsclient *, void *, size_t);
ssize_t	tlsclient_write(struct tlsclient *, const void *, size_t);

/*
 * What poll() waits for before the call that failed with EAGAIN can go
 * on: POLLIN, POLLOUT or neither, for reads and writes separately.
 */
short	tlsclient_read_events(const struct tlsclient *);
short	tlsclient_write_events(const struct tlsclient *);

/* Decrypted bytes that a read returns without waiting for the socket. */
bool	tlsclient_pending(const struct tlsclient *);

/* Why the last call failed. */
const char	*tlsclient_error(const struct tlsclient *);

/* Say goodbye (close_notify, not waited for) and free; fd stays open. */
void	tlsclient_free(struct tlsclient *);

#endif /* CHATD_TLSCLIENT_H */
