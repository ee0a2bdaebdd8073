/*
 * testnet.c - helpers for the integration tests, see testnet.h.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "testnet.h"

#ifdef HAVE_TLS
#include <pthread.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#endif

#define TN_MAX_DAEMONS	8
#define TN_LOG_TAIL	16384
#define TN_WELCOME	"-- welcome to chatd, you are "

static _Thread_local char	 tn_errbuf[2048];
static _Thread_local char	 tn_quotebuf[4][1024];
static _Thread_local unsigned	 tn_quotenext;

/* Daemons still running, killed at exit if a test bails out early. */
static struct tn_daemon		*tn_running[TN_MAX_DAEMONS];
static bool			 tn_atexit_done;

static void	seterr(const char *, ...) __attribute__((format(printf, 1, 2)));
static ssize_t	tls_send(struct tn_client *, const void *, size_t);
static ssize_t	tls_recv(struct tn_client *, void *, size_t);
static void	tls_free(struct tn_client *);
static int	tls_find_port(struct tn_daemon *, const char *);
static int	fail_client(struct tn_client *, const char *, int,
		    const char *);

static void
seterr(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(tn_errbuf, sizeof tn_errbuf, fmt, ap);
	va_end(ap);
}

const char *
tn_error(void)
{
	return tn_errbuf;
}

int64_t
tn_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
remaining_ms(int64_t deadline)
{
	int64_t	left;

	left = deadline - tn_now_ms();
	if (left < 0)
		return 0;
	return left > 1000000 ? 1000000 : (int)left;
}

long	tn_daemon_nofile;

long
tn_raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			return -1;
	}
	return rl.rlim_cur == RLIM_INFINITY ? 1L << 20 : (long)rl.rlim_cur;
}

const char *
tn_quote(const char *s, size_t len)
{
	char		*out;
	size_t		 o, i, max;
	unsigned char	 ch;

	out = tn_quotebuf[tn_quotenext++ % 4];
	max = sizeof tn_quotebuf[0] - 8;
	for (i = 0, o = 0; i < len && o < max; i++) {
		ch = (unsigned char)s[i];
		if (ch == '\\' || ch == '"') {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else if (ch >= 0x20 && ch < 0x7f)
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, 5, "\\x%02x", ch);
	}
	if (i < len)
		o += (size_t)snprintf(out + o, 4, "...");
	out[o] = '\0';
	return out;
}

/*
 * Daemon.
 */

static void
kill_running(void)
{
	size_t	i;

	for (i = 0; i < TN_MAX_DAEMONS; i++) {
		if (tn_running[i] == NULL)
			continue;
		kill(tn_running[i]->pid, SIGKILL);
		waitpid(tn_running[i]->pid, NULL, 0);
		unlink(tn_running[i]->log);
		tn_running[i] = NULL;
	}
}

static void
track(struct tn_daemon *d, bool on)
{
	size_t	i;

	if (!tn_atexit_done) {
		atexit(kill_running);
		tn_atexit_done = true;
	}
	for (i = 0; i < TN_MAX_DAEMONS; i++) {
		if (on && tn_running[i] == NULL) {
			tn_running[i] = d;
			return;
		}
		if (!on && tn_running[i] == d) {
			tn_running[i] = NULL;
			return;
		}
	}
}

char *
tn_read_file(const char *path, size_t *lenp)
{
	FILE	*f;
	char	*buf = NULL, *nbuf;
	size_t	 len = 0, cap = 0, n;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			if ((nbuf = realloc(buf, cap + 1)) == NULL)
				break;
			buf = nbuf;
		}
		if ((n = fread(buf + len, 1, cap - len, f)) == 0)
			break;
		len += n;
	}
	fclose(f);
	if (buf != NULL)
		buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

void
tn_dump_log(const struct tn_daemon *d, const char *why)
{
	char	*log;
	size_t	 len, off;

	if (d == NULL)
		return;
	fprintf(stderr, "==== %s\n==== chatd log (pid %ld, %s):\n",
	    why != NULL ? why : "failure", (long)d->pid, d->log);
	if ((log = tn_read_file(d->log, &len)) == NULL) {
		fprintf(stderr, "(cannot read the log)\n");
		return;
	}
	off = len > TN_LOG_TAIL ? len - TN_LOG_TAIL : 0;
	if (off > 0)
		fprintf(stderr, "(... %zu bytes skipped ...)\n", off);
	fwrite(log + off, 1, len - off, stderr);
	fprintf(stderr, "==== end of chatd log\n");
	free(log);
}

bool
tn_log_contains(const struct tn_daemon *d, const char *s)
{
	char	*log;
	bool	 found;

	if ((log = tn_read_file(d->log, NULL)) == NULL)
		return false;
	found = strstr(log, s) != NULL;
	free(log);
	return found;
}

bool
tn_wait_log(const struct tn_daemon *d, const char *s, int timeout_ms)
{
	int64_t	 deadline = tn_now_ms() + timeout_ms;

	/* The log is a file: there is no event to wait for, so poll. */
	while (!tn_log_contains(d, s)) {
		if (tn_now_ms() >= deadline) {
			seterr("no \"%s\" in the log within %d ms", s,
			    timeout_ms);
			return false;
		}
		poll(NULL, 0, 20);
	}
	return true;
}

/* Look for the listening line; 1 and the port if found. */
static int
find_port(struct tn_daemon *d)
{
	static const char	 key[] = " info server: listening on 127.0.0.1:";
	char			*log, *p, *end;
	unsigned long		 port;
	int			 found = 0;

	if ((log = tn_read_file(d->log, NULL)) == NULL)
		return 0;
	/* In TLS mode the scenarios talk to the TLS port. */
	if (!tls_find_port(d, log) && tn_over_tls()) {
		free(log);
		return 0;
	}
	if (d->tls_port != 0 && tn_over_tls()) {
		d->port = d->tls_port;
		free(log);
		return 1;
	}
	if ((p = strstr(log, key)) != NULL) {
		p += sizeof key - 1;
		errno = 0;
		port = strtoul(p, &end, 10);
		if (end != p && *end == '\n' && errno == 0 && port > 0 &&
		    port < 65536) {
			d->port = (uint16_t)port;
			found = 1;
		}
	}
	free(log);
	return found;
}

struct tn_daemon *
tn_start(const char *const *extra)
{
	const char	*args[64];
	size_t		 n = 0;

	while (extra != NULL && *extra != NULL && n < 56)
		args[n++] = *extra++;
	args[n++] = "--port";
	args[n++] = "0";
	args[n++] = "--bind";
	args[n++] = "127.0.0.1";
	args[n] = NULL;
	return tn_start_raw(args);
}

int
tn_signal(struct tn_daemon *d, int sig)
{
	if (d->reaped) {
		seterr("chatd already exited");
		return -1;
	}
	if (kill(d->pid, sig) == -1) {
		seterr("kill: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
decode_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

static int
wait_child(pid_t pid, int *status, int timeout_ms)
{
	int64_t	deadline;
	pid_t	r;

	deadline = tn_now_ms() + timeout_ms;
	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r == -1 && errno != EINTR)
			return -1;
		if (tn_now_ms() >= deadline)
			break;
		poll(NULL, 0, 5);
	}
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
	return -1;
}

int
tn_wait(struct tn_daemon *d, int timeout_ms)
{
	if (!d->reaped) {
		if (wait_child(d->pid, &d->status, timeout_ms) == -1) {
			d->reaped = true;
			seterr("chatd did not exit within %d ms (killed)",
			    timeout_ms);
			return -1;
		}
		d->reaped = true;
	}
	return decode_status(d->status);
}

int
tn_stop(struct tn_daemon *d)
{
	int	rc;

	if (d == NULL)
		return -1;
	if (!d->reaped)
		kill(d->pid, SIGTERM);
	rc = tn_wait(d, TN_STOP_TIMEOUT);
	if (rc != 0) {
		if (rc > 0)
			seterr("chatd exited with status %d after SIGTERM",
			    rc);
		tn_dump_log(d, tn_errbuf);
	}
	track(d, false);
	unlink(d->log);
	if (d->tls_dir[0] != '\0')
		tn_tls_certs_remove(d->tls_dir);
	free(d);
	return rc;
}

/*
 * Clients.
 */

/* Wrap a connected socket: make it non-blocking; closes fd on failure. */
static struct tn_client *
client_from_fd(int fd)
{
	struct tn_client	*c;
	int			 flags;

	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		seterr("fcntl: %s", strerror(errno));
		close(fd);
		return NULL;
	}
	if ((c = calloc(1, sizeof *c)) == NULL) {
		seterr("out of memory");
		close(fd);
		return NULL;
	}
	c->fd = fd;
	strcpy(c->nick, "?");
	return c;
}

static struct tn_client *plain_connect_port(uint16_t, int);

struct tn_client *
tn_connect_port(uint16_t port, int rcvbuf)
{
	if (tn_over_tls())
		return tn_connect_tls_port(port, rcvbuf);
	return plain_connect_port(port, rcvbuf);
}

/*
 * A loopback port nobody listens on now (a bind to port 0, closed), for
 * listeners that take no port 0, such as --irc-port; 0 on error.
 */
uint16_t
tn_free_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	uint16_t		 port = 0;
	int			 fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		seterr("socket: %s", strerror(errno));
		return 0;
	}
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		seterr("a free port: %s", strerror(errno));
	else
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

int	tn_client_mss;

static struct tn_client *
plain_connect_port(uint16_t port, int rcvbuf)
{
	struct sockaddr_in	 sin;
	int			 fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		seterr("socket: %s", strerror(errno));
		return NULL;
	}
	if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
	    sizeof rcvbuf) == -1) {
		seterr("SO_RCVBUF: %s", strerror(errno));
		close(fd);
		return NULL;
	}
	if (tn_client_mss > 0 && setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG,
	    &tn_client_mss, sizeof tn_client_mss) == -1) {
		seterr("TCP_MAXSEG: %s", strerror(errno));
		close(fd);
		return NULL;
	}
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1) {
		seterr("connect 127.0.0.1:%u: %s", port, strerror(errno));
		close(fd);
		return NULL;
	}
	return client_from_fd(fd);
}

struct tn_client *
tn_connect_unix(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		seterr("unix path too long: %s", path);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		seterr("socket: %s", strerror(errno));
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		seterr("connect %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	return client_from_fd(fd);
}

struct tn_client *
tn_connect(struct tn_daemon *d)
{
	struct tn_client	*c;

	if ((c = tn_connect_port(d->port, 0)) == NULL) {
		tn_dump_log(d, tn_errbuf);
		return NULL;
	}
	c->d = d;
	return c;
}

void
tn_close(struct tn_client *c)
{
	if (c == NULL)
		return;
	tls_free(c);
	if (c->fd != -1)
		close(c->fd);
	free(c);
}

int
tn_nodelay(struct tn_client *c)
{
	int	on = 1;

	if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) ==
	    -1) {
		seterr("TCP_NODELAY: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
tn_send(struct tn_client *c, const void *buf, size_t len)
{
	const char	*p = buf;
	struct pollfd	 pfd;
	ssize_t		 n;
	int		 r;

	while (len > 0) {
		if (c->tls != NULL)
			n = tls_send(c, p, len);
		else
			n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK) {
			seterr("client %s: send: %s", c->nick,
			    strerror(errno));
			return -1;
		}
		pfd.fd = c->fd;
		pfd.events = POLLOUT;
		if ((r = poll(&pfd, 1, TN_LINE_TIMEOUT)) == 0) {
			seterr("client %s: send blocked for %d ms", c->nick,
			    TN_LINE_TIMEOUT);
			return -1;
		}
		if (r == -1 && errno != EINTR) {
			seterr("poll: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

int
tn_sendstr(struct tn_client *c, const char *s)
{
	return tn_send(c, s, strlen(s));
}

int
tn_sendf(struct tn_client *c, const char *fmt, ...)
{
	char	buf[8192];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof buf) {
		seterr("tn_sendf: line too long");
		return -1;
	}
	return tn_send(c, buf, (size_t)n);
}

/* Take one complete line out of the buffer; -4 if there is none. */
static int
take_line(struct tn_client *c, char *line, size_t size)
{
	char	*nl;
	size_t	 n, used;
	int	 rc;

	if ((nl = memchr(c->buf, '\n', c->len)) == NULL)
		return -4;
	used = (size_t)(nl - c->buf) + 1;
	n = used - 1;
	if (n == 0 || c->buf[n - 1] != '\r') {
		seterr("client %s: line without CR before LF: \"%s\"",
		    c->nick, tn_quote(c->buf, n));
		rc = TN_ERR;
	} else if (--n >= size) {
		seterr("client %s: line of %zu bytes does not fit", c->nick,
		    n);
		rc = TN_ERR;
	} else {
		memcpy(line, c->buf, n);
		line[n] = '\0';
		rc = (int)n;
	}
	memmove(c->buf, c->buf + used, c->len - used);
	c->len -= used;
	return rc;
}

int
tn_readline(struct tn_client *c, char *line, size_t size, int timeout_ms)
{
	struct pollfd	pfd;
	int64_t		deadline;
	ssize_t		n;
	int		r;

	deadline = tn_now_ms() + timeout_ms;
	for (;;) {
		if ((r = take_line(c, line, size)) != -4)
			return r;
		if (c->len == sizeof c->buf) {
			seterr("client %s: line longer than %zu bytes",
			    c->nick, sizeof c->buf);
			return TN_ERR;
		}
		if (c->tls != NULL)
			n = tls_recv(c, c->buf + c->len, sizeof c->buf - c->len);
		else
			n = recv(c->fd, c->buf + c->len,
			    sizeof c->buf - c->len, 0);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n == 0 || (n == -1 && (errno == ECONNRESET ||
		    errno == EPIPE))) {
			if (c->len > 0)
				seterr("client %s: closed after a partial "
				    "line \"%s\"", c->nick,
				    tn_quote(c->buf, c->len));
			else
				seterr("client %s: connection closed (%s)",
				    c->nick, n == 0 ? "EOF" : "reset");
			return TN_EOF;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR) {
			seterr("client %s: recv: %s", c->nick,
			    strerror(errno));
			return TN_ERR;
		}
		if (tn_now_ms() >= deadline) {
			seterr("client %s: no line within %d ms", c->nick,
			    timeout_ms);
			return TN_TIMEOUT;
		}
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, remaining_ms(deadline)) == -1 &&
		    errno != EINTR) {
			seterr("poll: %s", strerror(errno));
			return TN_ERR;
		}
	}
}

static int
fail_client(struct tn_client *c, const char *want, int r, const char *got)
{
	char	what[4096];

	if (r >= 0)
		snprintf(what, sizeof what, "client %s: expected \"%s\", "
		    "got \"%s\"", c->nick, want, tn_quote(got, (size_t)r));
	else
		snprintf(what, sizeof what, "client %s: expected \"%s\", "
		    "got none: %s", c->nick, want, tn_errbuf);
	seterr("%s", what);
	fprintf(stderr, "testnet: %s\n", what);
	tn_dump_log(c->d, what);
	return -1;
}

int
tn_expect(struct tn_client *c, const char *want)
{
	char	line[TN_LINE_MAX];
	int	r;

	r = tn_readline(c, line, sizeof line, TN_LINE_TIMEOUT);
	if (r >= 0 && (size_t)r == strlen(want) && memcmp(line, want,
	    (size_t)r) == 0)
		return 0;
	return fail_client(c, tn_quote(want, strlen(want)), r, line);
}

int
tn_expectf(struct tn_client *c, const char *fmt, ...)
{
	char	want[TN_LINE_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof want, fmt, ap);
	va_end(ap);
	return tn_expect(c, want);
}

int
tn_expect_prefix(struct tn_client *c, const char *prefix, char *out,
    size_t size)
{
	char	line[TN_LINE_MAX], want[1100];
	int	r;

	r = tn_readline(c, line, sizeof line, TN_LINE_TIMEOUT);
	if (r >= 0 && strncmp(line, prefix, strlen(prefix)) == 0) {
		if (out != NULL)
			snprintf(out, size, "%s", line);
		return 0;
	}
	snprintf(want, sizeof want, "%s...", tn_quote(prefix,
	    strlen(prefix)));
	return fail_client(c, want, r, line);
}

int
tn_expect_skip_notices(struct tn_client *c, const char *want)
{
	char	line[TN_LINE_MAX];
	int	r;

	for (;;) {
		r = tn_readline(c, line, sizeof line, TN_LINE_TIMEOUT);
		if (r < 0 || strncmp(line, "-- ", 3) != 0)
			break;
	}
	if (r >= 0 && strcmp(line, want) == 0)
		return 0;
	return fail_client(c, tn_quote(want, strlen(want)), r, line);
}

int
tn_expect_eof(struct tn_client *c, int timeout_ms)
{
	char	line[TN_LINE_MAX];
	int	r;

	r = tn_readline(c, line, sizeof line, timeout_ms);
	if (r == TN_EOF && c->len == 0)
		return 0;
	return fail_client(c, "(end of connection)", r, line);
}

int
tn_parse_welcome(const char *line, char *nick, size_t size, int *online)
{
	const char	*p, *sp;
	char		 rebuilt[512];
	size_t		 n;
	long		 count;

	if (strncmp(line, TN_WELCOME, sizeof TN_WELCOME - 1) != 0)
		return -1;
	p = line + sizeof TN_WELCOME - 1;
	if ((sp = strstr(p, " (")) == NULL)
		return -1;
	n = (size_t)(sp - p);
	if (n == 0 || n >= size)
		return -1;
	count = strtol(sp + 2, NULL, 10);
	if (count <= 0 || count > 1000000)
		return -1;
	memcpy(nick, p, n);
	nick[n] = '\0';
	snprintf(rebuilt, sizeof rebuilt, TN_WELCOME "%s (%ld online; "
	    "/help lists the commands)", nick, count);
	if (strcmp(rebuilt, line) != 0)
		return -1;
	*online = (int)count;
	return 0;
}

int
tn_welcome(struct tn_client *c)
{
	char	line[TN_LINE_MAX];
	int	r;

	r = tn_readline(c, line, sizeof line, TN_LINE_TIMEOUT);
	if (r >= 0 && tn_parse_welcome(line, c->nick, sizeof c->nick,
	    &c->online) == 0)
		return 0;
	return fail_client(c, TN_WELCOME "NICK (N online; /help lists the "
	    "commands)", r, line);
}

/*
 * Running a program.
 */

static int
append(char **buf, size_t *len, const char *data, size_t n)
{
	char	*nbuf;

	if ((nbuf = realloc(*buf, *len + n + 1)) == NULL)
		return -1;
	memcpy(nbuf + *len, data, n);
	*len += n;
	nbuf[*len] = '\0';
	*buf = nbuf;
	return 0;
}

static void
collect(int outfd, int errfd, char **out, char **err, int64_t deadline)
{
	struct pollfd	 pfd[2];
	char		 buf[4096];
	char		*bufs[2] = { NULL, NULL };
	size_t		 lens[2] = { 0, 0 };
	ssize_t		 n;
	int		 i;

	pfd[0].fd = outfd;
	pfd[1].fd = errfd;
	pfd[0].events = pfd[1].events = POLLIN;
	append(&bufs[0], &lens[0], "", 0);
	append(&bufs[1], &lens[1], "", 0);
	while ((pfd[0].fd != -1 || pfd[1].fd != -1) &&
	    tn_now_ms() < deadline) {
		if (poll(pfd, 2, remaining_ms(deadline)) <= 0)
			continue;
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			n = read(pfd[i].fd, buf, sizeof buf);
			if (n > 0)
				append(&bufs[i], &lens[i], buf, (size_t)n);
			else if (n == 0 || errno != EINTR)
				pfd[i].fd = -1;
		}
	}
	if (out != NULL)
		*out = bufs[0];
	else
		free(bufs[0]);
	if (err != NULL)
		*err = bufs[1];
	else
		free(bufs[1]);
}

/*
 * Run argv; chatd itself (the CHATD binary) with --irc-port 0 and
 * --irc-tls-port 0 first, as exec_raw() does.
 */
static void
exec_quiet_irc(const char *const argv[])
{
	const char	*chatd = getenv("CHATD"), *v[64];
	size_t		 n = 0, i;

	if (chatd == NULL || strcmp(chatd, argv[0]) != 0) {
		execv(argv[0], (char *const *)argv);
		return;
	}
	v[n++] = argv[0];
	v[n++] = "--irc-port";
	v[n++] = "0";
	v[n++] = "--irc-tls-port";
	v[n++] = "0";
	for (i = 1; argv[i] != NULL && n < sizeof(v) / sizeof(v[0]) - 1; i++)
		v[n++] = argv[i];
	v[n] = NULL;
	execv(v[0], (char *const *)v);
}

int
tn_run(const char *const argv[], int timeout_ms, char **out,
    char **err)
{
	int64_t	deadline;
	pid_t	pid;
	int	po[2], pe[2], status;

	if (pipe2(po, O_CLOEXEC) == -1)
		return -1;
	if (pipe2(pe, O_CLOEXEC) == -1) {
		close(po[0]);
		close(po[1]);
		return -1;
	}
	fflush(NULL);
	if ((pid = fork()) == -1) {
		seterr("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(po[1], STDOUT_FILENO);
		dup2(pe[1], STDERR_FILENO);
		signal(SIGPIPE, SIG_DFL);
		exec_quiet_irc(argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	deadline = tn_now_ms() + timeout_ms;
	collect(po[0], pe[0], out, err, deadline);
	close(po[0]);
	close(pe[0]);
	if (wait_child(pid, &status, remaining_ms(deadline)) == -1) {
		seterr("%s did not finish within %d ms (killed)", argv[0],
		    timeout_ms);
		return -1;
	}
	return decode_status(status);
}

/*
 * Daemons with exactly the arguments given.
 */

static void
exec_raw(const char *path, const char *const *args, int logfd,
    const char *tls_dir)
{
	static char	 cert[300], key[300];
	const char	*argv[64];
	size_t		 n = 0;
	int		 devnull;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if ((devnull = open("/dev/null", O_RDONLY)) != -1)
		dup2(devnull, STDIN_FILENO);
	dup2(logfd, STDOUT_FILENO);
	dup2(logfd, STDERR_FILENO);
	if (tn_daemon_nofile > 0) {
		struct rlimit rl = { (rlim_t)tn_daemon_nofile,
		    (rlim_t)tn_daemon_nofile };
		setrlimit(RLIMIT_NOFILE, &rl);
	} else
		tn_raise_nofile();
	signal(SIGPIPE, SIG_DFL);
	argv[n++] = path;
	/*
	 * No IRC listener on 6667 unless the test asks for one: tests run
	 * side by side (nor on 6697 with TLS).  First, so that a test's own
	 * --irc-port or --irc-tls-port wins.
	 */
	argv[n++] = "--irc-port";
	argv[n++] = "0";
	argv[n++] = "--irc-tls-port";
	argv[n++] = "0";
	while (args != NULL && *args != NULL && n < sizeof argv /
	    sizeof argv[0] - 7)
		argv[n++] = *args++;
	if (tls_dir[0] != '\0') {
		snprintf(cert, sizeof cert, "%s/cert.pem", tls_dir);
		snprintf(key, sizeof key, "%s/key.pem", tls_dir);
		argv[n++] = "--tls-port";
		argv[n++] = "0";
		argv[n++] = "--tls-cert";
		argv[n++] = cert;
		argv[n++] = "--tls-key";
		argv[n++] = key;
	}
	argv[n] = NULL;
	execv(path, (char *const *)argv);
	fprintf(stderr, "testnet: exec %s: %s\n", path, strerror(errno));
	_exit(127);
}

struct tn_daemon *
tn_spawn(const char *const *args)
{
	struct tn_daemon	*d;
	const char		*path, *tmp;
	int			 fd;

	if ((path = getenv("CHATD")) == NULL || *path == '\0') {
		seterr("CHATD is not set");
		fprintf(stderr, "testnet: %s\n", tn_errbuf);
		return NULL;
	}
	if ((d = calloc(1, sizeof *d)) == NULL) {
		seterr("out of memory");
		return NULL;
	}
	if (tn_over_tls() && tn_tls_certs(d->tls_dir, sizeof d->tls_dir)
	    == -1) {
		fprintf(stderr, "testnet: %s\n", tn_errbuf);
		free(d);
		return NULL;
	}
	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(d->log, sizeof d->log, "%s/chatd-test.XXXXXX", tmp);
	if ((fd = mkstemp(d->log)) == -1) {
		seterr("mkstemp %s: %s", d->log, strerror(errno));
		if (d->tls_dir[0] != '\0')
			tn_tls_certs_remove(d->tls_dir);
		free(d);
		return NULL;
	}
	fflush(NULL);
	if ((d->pid = fork()) == -1) {
		seterr("fork: %s", strerror(errno));
		close(fd);
		unlink(d->log);
		if (d->tls_dir[0] != '\0')
			tn_tls_certs_remove(d->tls_dir);
		free(d);
		return NULL;
	}
	if (d->pid == 0)
		exec_raw(path, args, fd, d->tls_dir);
	close(fd);
	track(d, true);
	return d;
}

struct tn_daemon *
tn_start_raw(const char *const *args)
{
	struct tn_daemon	*d;
	int64_t			 deadline;

	if ((d = tn_spawn(args)) == NULL)
		return NULL;
	deadline = tn_now_ms() + TN_START_TIMEOUT;
	for (;;) {
		if (find_port(d))
			return d;
		if (waitpid(d->pid, &d->status, WNOHANG) == d->pid) {
			d->reaped = true;
			seterr("chatd exited before listening (status %d)",
			    d->status);
			break;
		}
		if (tn_now_ms() >= deadline) {
			seterr("chatd printed no listening line in %d ms",
			    TN_START_TIMEOUT);
			break;
		}
		poll(NULL, 0, 10);	/* no event to wait for: poll */
	}
	tn_dump_log(d, tn_errbuf);
	if (!d->reaped) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
	}
	track(d, false);
	unlink(d->log);
	if (d->tls_dir[0] != '\0')
		tn_tls_certs_remove(d->tls_dir);
	free(d);
	return NULL;
}

/*
 * TLS clients.  One client may be read by one thread and written by
 * another (the order test does): an SSL object takes one call at a
 * time, so each call holds the client's lock; the waits (poll) do not.
 */

bool
tn_over_tls(void)
{
	const char	*v = getenv("TN_OVER_TLS");

	return v != NULL && strcmp(v, "1") == 0;
}

void
tn_tls_certs_remove(const char *dir)
{
	char	path[300];

	snprintf(path, sizeof path, "%s/cert.pem", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/key.pem", dir);
	unlink(path);
	rmdir(dir);
}

int
tn_tls_certs(char *dir, size_t size)
{
	const char	*tmp;
	char		 cert[300], key[300], *err = NULL;
	int		 rc;

	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(dir, size, "%s/chatd-tls.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		seterr("mkdtemp %s: %s", dir, strerror(errno));
		dir[0] = '\0';
		return -1;
	}
	snprintf(cert, sizeof cert, "%s/cert.pem", dir);
	snprintf(key, sizeof key, "%s/key.pem", dir);
	{
		const char *const argv[] = { "/usr/bin/openssl", "req",
		    "-x509", "-newkey", "ec", "-pkeyopt",
		    "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj",
		    "/CN=localhost", "-keyout", key, "-out", cert, NULL };

		rc = tn_run(argv, 20000, NULL, &err);
	}
	if (rc != 0) {
		seterr("openssl req exited with %d: %s", rc, err != NULL ?
		    err : "");
		free(err);
		tn_tls_certs_remove(dir);
		dir[0] = '\0';
		return -1;
	}
	free(err);
	return 0;
}

/* The "listening for tls on" line, if the log has it. */
static int
tls_find_port(struct tn_daemon *d, const char *log)
{
	static const char	 key[] =
	    " info server: listening for tls on 127.0.0.1:";
	const char		*p;
	char			*end;
	unsigned long		 port;

	if ((p = strstr(log, key)) == NULL)
		return 0;
	p += sizeof key - 1;
	errno = 0;
	port = strtoul(p, &end, 10);
	if (end == p || *end != '\n' || errno != 0 || port == 0 ||
	    port > 65535)
		return 0;
	d->tls_port = (uint16_t)port;
	return 1;
}

int
tn_wait_tls_port(struct tn_daemon *d, int timeout_ms)
{
	char	*log;
	int	 found;

	if (!tn_wait_log(d, " info server: listening for tls on ",
	    timeout_ms))
		return -1;
	if ((log = tn_read_file(d->log, NULL)) == NULL) {
		seterr("cannot read %s", d->log);
		return -1;
	}
	found = tls_find_port(d, log);
	free(log);
	if (!found) {
		seterr("no TLS port on 127.0.0.1 in the log");
		return -1;
	}
	return 0;
}

struct tn_client *
tn_connect_tls(struct tn_daemon *d)
{
	struct tn_client	*c;

	if (d->tls_port == 0) {
		seterr("chatd has no tls listener");
		tn_dump_log(d, tn_errbuf);
		return NULL;
	}
	if ((c = tn_connect_tls_port(d->tls_port, 0)) == NULL) {
		tn_dump_log(d, tn_errbuf);
		return NULL;
	}
	c->d = d;
	return c;
}

#ifdef HAVE_TLS

struct tn_tls {
	SSL		*ssl;
	pthread_mutex_t	 mu;
};

static SSL_CTX		*tls_client_ctx;
static pthread_once_t	 tls_client_once = PTHREAD_ONCE_INIT;

/* The tests check the server, not its certificate: no verification. */
static void
tls_client_init(void)
{
	if ((tls_client_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return;
	SSL_CTX_set_min_proto_version(tls_client_ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(tls_client_ctx, SSL_VERIFY_NONE, NULL);
}

bool
tn_tls_built(void)
{
	return true;
}

/* Wait until the socket can do what SSL_get_error() said it needs. */
static int
tls_wait(struct tn_client *c, int sslerr, int timeout_ms)
{
	struct pollfd	pfd;
	int		r;

	pfd.fd = c->fd;
	pfd.events = sslerr == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
	if ((r = poll(&pfd, 1, timeout_ms)) == 0) {
		seterr("client %s: TLS blocked for %d ms", c->nick,
		    timeout_ms);
		return -1;
	}
	if (r == -1 && errno != EINTR) {
		seterr("poll: %s", strerror(errno));
		return -1;
	}
	return 0;
}

struct tn_client *
tn_connect_tls_port(uint16_t port, int rcvbuf)
{
	struct tn_client	*c;
	char			 why[256];
	int			 rc, e;

	pthread_once(&tls_client_once, tls_client_init);
	if (tls_client_ctx == NULL) {
		seterr("SSL_CTX_new failed");
		return NULL;
	}
	if ((c = plain_connect_port(port, rcvbuf)) == NULL)
		return NULL;
	if ((c->tls = calloc(1, sizeof *c->tls)) == NULL) {
		seterr("out of memory");
		tn_close(c);
		return NULL;
	}
	pthread_mutex_init(&c->tls->mu, NULL);
	if ((c->tls->ssl = SSL_new(tls_client_ctx)) == NULL ||
	    SSL_set_fd(c->tls->ssl, c->fd) != 1) {
		seterr("SSL_new failed");
		tn_close(c);
		return NULL;
	}
	SSL_set_tlsext_host_name(c->tls->ssl, "localhost");
	for (;;) {
		ERR_clear_error();
		if ((rc = SSL_connect(c->tls->ssl)) == 1)
			return c;
		e = SSL_get_error(c->tls->ssl, rc);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			ERR_error_string_n(ERR_get_error(), why, sizeof why);
			seterr("TLS handshake with port %u failed: %s", port,
			    why);
			tn_close(c);
			return NULL;
		}
		if (tls_wait(c, e, TN_LINE_TIMEOUT) == -1) {
			tn_close(c);
			return NULL;
		}
	}
}

/* As send(2) on a non-blocking socket: -1 and EAGAIN if it must wait. */
static ssize_t
tls_send(struct tn_client *c, const void *buf, size_t len)
{
	size_t	n;
	int	rc, e;

	for (;;) {
		pthread_mutex_lock(&c->tls->mu);
		ERR_clear_error();
		rc = SSL_write_ex(c->tls->ssl, buf, len, &n);
		e = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(c->tls->ssl, rc);
		pthread_mutex_unlock(&c->tls->mu);
		if (rc == 1)
			return (ssize_t)n;
		/* SSL_write is repeated with the same bytes, as it must be. */
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (tls_wait(c, e, TN_LINE_TIMEOUT) == -1) {
				errno = EIO;
				return -1;
			}
			continue;
		}
		if (errno == 0)
			errno = EPIPE;
		return -1;
	}
}

/* As recv(2): 0 at the end, -1 and EAGAIN when nothing is there yet. */
static ssize_t
tls_recv(struct tn_client *c, void *buf, size_t len)
{
	size_t	n;
	int	rc, e;

	pthread_mutex_lock(&c->tls->mu);
	ERR_clear_error();
	errno = 0;
	rc = SSL_read_ex(c->tls->ssl, buf, len, &n);
	e = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(c->tls->ssl, rc);
	pthread_mutex_unlock(&c->tls->mu);
	if (rc == 1)
		return (ssize_t)n;
	switch (e) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno == 0)
			return 0;	/* a FIN without close_notify */
		return -1;
	default:
		/* A reset or an abortive close shows up as a broken record. */
		errno = ECONNRESET;
		return -1;
	}
}

int
tn_tls_peer_digest(struct tn_client *c, unsigned char out[32])
{
	X509		*x;
	unsigned int	 n = 0;
	int		 rc = -1;

	if (c->tls == NULL) {
		seterr("client %s: not a TLS client", c->nick);
		return -1;
	}
	pthread_mutex_lock(&c->tls->mu);
	if ((x = SSL_get1_peer_certificate(c->tls->ssl)) != NULL &&
	    X509_digest(x, EVP_sha256(), out, &n) == 1 && n == 32)
		rc = 0;
	pthread_mutex_unlock(&c->tls->mu);
	X509_free(x);
	if (rc == -1)
		seterr("client %s: no peer certificate", c->nick);
	return rc;
}

static void
tls_free(struct tn_client *c)
{
	if (c->tls == NULL)
		return;
	SSL_free(c->tls->ssl);
	pthread_mutex_destroy(&c->tls->mu);
	free(c->tls);
	c->tls = NULL;
}

#else /* !HAVE_TLS */

bool
tn_tls_built(void)
{
	return false;
}

struct tn_client *
tn_connect_tls_port(uint16_t port, int rcvbuf)
{
	(void)port;
	(void)rcvbuf;
	seterr("built without TLS");
	return NULL;
}

int
tn_tls_peer_digest(struct tn_client *c, unsigned char out[32])
{
	(void)c;
	(void)out;
	seterr("built without TLS");
	return -1;
}

static ssize_t
tls_send(struct tn_client *c, const void *buf, size_t len)
{
	(void)c;
	(void)buf;
	(void)len;
	errno = EPIPE;
	return -1;
}

static ssize_t
tls_recv(struct tn_client *c, void *buf, size_t len)
{
	(void)c;
	(void)buf;
	(void)len;
	errno = EIO;
	return -1;
}

static void
tls_free(struct tn_client *c)
{
	(void)c;
}

#endif /* HAVE_TLS */
