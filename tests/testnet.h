/*
 * testnet.h - helpers for the integration tests: run the real chatd,
 * talk to it over TCP, read CRLF lines with timeouts.
 *
 * No dependency on Check: every function reports failure through its
 * return value and leaves a description in tn_error().  The expect
 * functions also print the description and the daemon's log to stderr
 * when the client was opened with a daemon.
 *
 * All waits are bounded; no function sleeps to synchronise.
 */
#ifndef CHATD_TESTNET_H
#define CHATD_TESTNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TN_START_TIMEOUT	5000	/* ms until "listening on" */
#define TN_STOP_TIMEOUT		5000	/* ms after SIGTERM, then SIGKILL */
#define TN_LINE_TIMEOUT		10000	/* ms for one line */
#define TN_LINE_MAX		32768	/* longest line a client can read */

/* Results of tn_readline() besides a length. */
#define TN_ERR		-1	/* socket error or line too long */
#define TN_EOF		-2	/* orderly close or connection reset */
#define TN_TIMEOUT	-3

struct tn_daemon {
	pid_t		 pid;
	uint16_t	 port;
	uint16_t	 tls_port;	/* its "listening for tls" port, or 0 */
	char		 tls_dir[256];	/* tn_over_tls()'s certificate, or "" */
	char		 log[256];	/* stderr and stdout of chatd */
	int		 status;	/* from waitpid, once reaped */
	bool		 reaped;
};

struct tn_tls;

struct tn_client {
	int			 fd;
	struct tn_tls		*tls;	/* NULL: plaintext */
	struct tn_daemon	*d;	/* for log dumps; may be NULL */
	char			 nick[160];
	int			 online;	/* N from the welcome line */
	size_t			 len;		/* bytes buffered in buf */
	char			 buf[TN_LINE_MAX];
};

/* The description of the last failure in this thread. */
const char	*tn_error(void);

/* Milliseconds on the monotonic clock. */
int64_t		 tn_now_ms(void);
/* Raise RLIMIT_NOFILE's soft limit to the hard limit; returns the limit. */
long		 tn_raise_nofile(void);

/* When > 0, tn_start() runs the daemon with this RLIMIT_NOFILE. */
extern long	 tn_daemon_nofile;

/*
 * Start $CHATD with extra[] (NULL-terminated, may be NULL) followed by
 * "--port 0 --bind 127.0.0.1", wait for its listening line.  Returns
 * NULL on failure (after dumping the log).
 */
struct tn_daemon *tn_start(const char *const *extra);
/*
 * Start $CHATD with exactly args (NULL-terminated, may be NULL): nothing
 * is appended, so args or a config file must say where to listen.  Wait
 * for a listening line on 127.0.0.1 in its output, as tn_start() does.
 */
struct tn_daemon *tn_start_raw(const char *const *args);
/*
 * Start $CHATD with exactly args and return at once, d->port 0: for a
 * daemon that logs elsewhere (--log-file, --log-level error).  The
 * caller finds out when it listens; tn_stop() as usual.
 */
struct tn_daemon *tn_spawn(const char *const *args);
/* Send a signal to the daemon. */
int		 tn_signal(struct tn_daemon *d, int sig);
/*
 * Wait up to timeout_ms for the daemon to exit.  Returns its exit code,
 * 128 + signal if it was killed by one, or -1 on timeout (the daemon is
 * then killed with SIGKILL and reaped).
 */
int		 tn_wait(struct tn_daemon *d, int timeout_ms);
/* SIGTERM, tn_wait(TN_STOP_TIMEOUT), remove the log, free.  NULL is ok. */
int		 tn_stop(struct tn_daemon *d);
/* A whole file, NUL-terminated (malloc'd), or NULL; *lenp if not NULL. */
char		*tn_read_file(const char *path, size_t *lenp);
/* Print the daemon's log (its last 16 KB) to stderr. */
void		 tn_dump_log(const struct tn_daemon *d, const char *why);
/* True if the log holds the string. */
bool		 tn_log_contains(const struct tn_daemon *d, const char *s);
/* Wait until the log holds s; false (and tn_error()) on timeout. */
bool		 tn_wait_log(const struct tn_daemon *d, const char *s,
		    int timeout_ms);

/*
 * Connect to 127.0.0.1:port.  rcvbuf > 0 sets SO_RCVBUF before the
 * connect.  The socket is non-blocking; every operation polls.
 */
struct tn_client *tn_connect(struct tn_daemon *d);
/*
 * When > 0, the next connections set TCP_MAXSEG to it before connecting:
 * with a small SO_RCVBUF, it keeps chatd's socket buffer for them small
 * too, so chatd's writes soon wait.
 */
extern int	 tn_client_mss;
struct tn_client *tn_connect_port(uint16_t port, int rcvbuf);
/* A loopback port free now, for listeners that take no 0; 0: error. */
uint16_t	 tn_free_port(void);
/* Connect to a UNIX-domain socket. */
struct tn_client *tn_connect_unix(const char *path);
void		 tn_close(struct tn_client *c);
int		 tn_nodelay(struct tn_client *c);

/* Send everything or fail (TN_LINE_TIMEOUT without progress). */
int		 tn_send(struct tn_client *c, const void *buf, size_t len);
int		 tn_sendstr(struct tn_client *c, const char *s);
/* printf-style; the format must include the line ending. */
int		 tn_sendf(struct tn_client *c, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/*
 * Read one line ending in CRLF into line (NUL-terminated, CRLF removed).
 * Returns its length, TN_EOF, TN_TIMEOUT or TN_ERR.  A line that ends in
 * a bare LF is an error: the server always sends CRLF.
 */
int		 tn_readline(struct tn_client *c, char *line, size_t size,
		    int timeout_ms);

/* Read the next line and compare it; 0 if equal, -1 otherwise. */
int		 tn_expect(struct tn_client *c, const char *want);
int		 tn_expectf(struct tn_client *c, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* Same with a prefix; the whole line is stored in line if not NULL. */
int		 tn_expect_prefix(struct tn_client *c, const char *prefix,
		    char *line, size_t size);
/* Expect the connection to be closed (EOF or reset) within timeout_ms. */
int		 tn_expect_eof(struct tn_client *c, int timeout_ms);
/*
 * Read lines, dropping those that start with "-- " (joins, leaves),
 * until one that does not.  Compare it with want.
 */
int		 tn_expect_skip_notices(struct tn_client *c, const char *want);
/*
 * Read the welcome line, check its format, fill c->nick and c->online.
 */
int		 tn_welcome(struct tn_client *c);

/* Parse a welcome line; 0 and the nick and count, or -1. */
int		 tn_parse_welcome(const char *line, char *nick, size_t size,
		    int *online);

/*
 * Run argv (argv[0] is a path) with stdout and stderr captured into
 * malloc'd strings (each may be NULL), wait at most timeout_ms.  Returns
 * the exit code as tn_wait() does, -1 on timeout or failure to run.
 */
int		 tn_run(const char *const argv[], int timeout_ms, char **out,
		    char **err);

/*
 * TLS (empty stubs failing with "built without TLS" if chatd is).
 *
 * tn_tls_certs() makes a scratch directory holding cert.pem and key.pem,
 * a self-signed P-256 certificate for localhost made by openssl(1);
 * tn_tls_certs_remove() removes it.  dir must hold 256 bytes.
 */
bool		 tn_tls_built(void);
int		 tn_tls_certs(char *dir, size_t size);
void		 tn_tls_certs_remove(const char *dir);
/*
 * Wait until the daemon logs its TLS listener (after the plaintext one,
 * which is all tn_start() waits for) and set d->tls_port: 0, or -1.
 */
int		 tn_wait_tls_port(struct tn_daemon *d, int timeout_ms);
/* A TLS client of the daemon's --tls-port, its handshake done. */
struct tn_client *tn_connect_tls(struct tn_daemon *d);
struct tn_client *tn_connect_tls_port(uint16_t port, int rcvbuf);
/*
 * TLS mode, on when the environment has TN_OVER_TLS=1: every daemon
 * started also gets "--tls-port 0" and a scratch certificate, its port
 * is the TLS one, and tn_connect_port() speaks TLS.  The scenarios of
 * the other tests then run over TLS unchanged (tests/over_tls.sh).
 */
bool		 tn_over_tls(void);
/* The SHA-256 of the certificate the server showed c; 0, or -1. */
int		 tn_tls_peer_digest(struct tn_client *c, unsigned char out[32]);

/* Render bytes with C escapes for messages; returns a static buffer. */
const char	*tn_quote(const char *s, size_t len);

#endif /* CHATD_TESTNET_H */
