/*
 * fanout_probe - open N connections to chatd, wait for every welcome,
 * send one line from the first client and wait until all N have it.
 *
 *	fanout_probe -n N [-H host] [-p port] [-t timeout_s] [-s hold_s]
 *
 * Exit 0 if all N received the line within the timeout, 1 otherwise,
 * 2 on a usage error.  With -s, after a success the probe keeps all
 * connections open (still reading) for hold_s seconds, so that the
 * caller can measure the server; it prints "holding" first.
 */
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netdb.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testnet.h"

#define MAX_INFLIGHT	500	/* connections started but not welcomed */
#define PC_BUF		320	/* longest line the probe keeps */
#define MAX_EVENTS	1024
#define MAX_REPORTS	5	/* error messages printed per kind */

enum pstate {
	ST_IDLE,
	ST_CONNECTING,
	ST_WELCOME,	/* connected, waiting for the welcome */
	ST_READY,	/* welcomed, waiting for the probe line */
	ST_DONE,	/* got the probe line */
	ST_DEAD
};

struct pconn {
	int		 fd;
	uint8_t		 state;
	bool		 skipping;	/* inside a line longer than buf */
	uint16_t	 len;
	char		 buf[PC_BUF];
};

struct probe {
	struct pconn	*conns;
	size_t		 n;
	int		 ep;
	struct sockaddr_storage addr;
	socklen_t	 addrlen;
	size_t		 started, inflight, welcomed, done, dead;
	size_t		 closed_late;
	unsigned	 reports;
	char		 nick0[160];
	char		 want[256];	/* "<nick0> fanout-probe TOKEN" */
	char		 token[40];
};

static const char	*progname = "fanout_probe";

static void
usage(void)
{
	fprintf(stderr, "usage: %s -n N [-H host] [-p port] [-t timeout_s] "
	    "[-s hold_s]\n", progname);
	exit(2);
}

static void
report(struct probe *p, size_t i, const char *what, const char *detail)
{
	if (p->reports++ < MAX_REPORTS)
		fprintf(stderr, "%s: connection %zu: %s%s%s\n", progname, i,
		    what, detail != NULL ? ": " : "",
		    detail != NULL ? detail : "");
	else if (p->reports == MAX_REPORTS + 1)
		fprintf(stderr, "%s: (further errors not shown)\n", progname);
}

static void
kill_conn(struct probe *p, size_t i, const char *what, const char *detail)
{
	struct pconn	*c = &p->conns[i];

	if (c->state == ST_DEAD)
		return;
	if (c->state == ST_DONE) {
		p->closed_late++;
		p->done--;
	}
	if (c->state == ST_CONNECTING || c->state == ST_WELCOME)
		p->inflight--;
	if (c->state == ST_READY || c->state == ST_DONE)
		p->welcomed--;
	report(p, i, what, detail);
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->state = ST_DEAD;
	p->dead++;
}

static int
resolve(struct probe *p, const char *host, const char *port)
{
	struct addrinfo	 hints, *res;
	int		 error;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((error = getaddrinfo(host, port, &hints, &res)) != 0) {
		fprintf(stderr, "%s: %s port %s: %s\n", progname, host, port,
		    gai_strerror(error));
		return -1;
	}
	memcpy(&p->addr, res->ai_addr, res->ai_addrlen);
	p->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int
start_one(struct probe *p)
{
	struct pconn		*c = &p->conns[p->started];
	struct epoll_event	 ev;
	size_t			 i = p->started++;

	c->fd = socket(p->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		fprintf(stderr, "%s: socket: %s\n", progname,
		    strerror(errno));
		return -1;
	}
	c->state = ST_CONNECTING;
	p->inflight++;
	if (connect(c->fd, (struct sockaddr *)&p->addr, p->addrlen) == -1 &&
	    errno != EINPROGRESS) {
		kill_conn(p, i, "connect", strerror(errno));
		return 0;
	}
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.u64 = i;
	if (epoll_ctl(p->ep, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		fprintf(stderr, "%s: epoll_ctl: %s\n", progname,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static void
connected(struct probe *p, size_t i)
{
	struct pconn		*c = &p->conns[i];
	struct epoll_event	 ev;
	socklen_t		 len = sizeof(int);
	int			 err = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		kill_conn(p, i, "connect", strerror(err));
		return;
	}
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.u64 = i;
	if (epoll_ctl(p->ep, EPOLL_CTL_MOD, c->fd, &ev) == -1) {
		kill_conn(p, i, "epoll_ctl", strerror(errno));
		return;
	}
	c->state = ST_WELCOME;
}

static void
handle_line(struct probe *p, size_t i, const char *line)
{
	struct pconn	*c = &p->conns[i];
	char		 nick[160];
	int		 online;

	switch (c->state) {
	case ST_WELCOME:
		if (tn_parse_welcome(line, nick, sizeof nick, &online) ==
		    -1) {
			kill_conn(p, i, "expected the welcome, got", line);
			return;
		}
		if (i == 0)
			snprintf(p->nick0, sizeof p->nick0, "%s", nick);
		c->state = ST_READY;
		p->inflight--;
		p->welcomed++;
		break;
	case ST_READY:
		if (p->want[0] != '\0' && strcmp(line, p->want) == 0) {
			c->state = ST_DONE;
			p->done++;
		} else if (strncmp(line, "!! ", 3) == 0)
			report(p, i, "error line", line);
		break;
	default:
		break;
	}
}

/* Split received bytes into lines; a line may span several reads. */
static void
feed(struct probe *p, size_t i, const char *data, size_t len)
{
	struct pconn	*c = &p->conns[i];
	const char	*nl;
	size_t		 seg;

	while (len > 0 && c->state != ST_DEAD) {
		nl = memchr(data, '\n', len);
		seg = nl != NULL ? (size_t)(nl - data) : len;
		if (!c->skipping && c->len + seg < sizeof c->buf) {
			memcpy(c->buf + c->len, data, seg);
			c->len += (uint16_t)seg;
		} else
			c->skipping = true;
		if (nl == NULL)
			return;
		if (!c->skipping) {
			if (c->len > 0 && c->buf[c->len - 1] == '\r')
				c->len--;
			c->buf[c->len] = '\0';
			handle_line(p, i, c->buf);
		}
		c->len = 0;
		c->skipping = false;
		data = nl + 1;
		len -= seg + 1;
	}
}

static void
readable(struct probe *p, size_t i)
{
	static char	 buf[65536];
	struct pconn	*c = &p->conns[i];
	ssize_t		 n;

	while (c->state != ST_DEAD) {
		n = recv(c->fd, buf, sizeof buf, 0);
		if (n > 0) {
			feed(p, i, buf, (size_t)n);
			continue;
		}
		if (n == 0)
			kill_conn(p, i, "closed by the server", NULL);
		else if (errno == EINTR)
			continue;
		else if (errno != EAGAIN && errno != EWOULDBLOCK)
			kill_conn(p, i, "recv", strerror(errno));
		return;
	}
}

static void
handle_event(struct probe *p, const struct epoll_event *ev)
{
	size_t	i = (size_t)ev->data.u64;

	if (i >= p->n || p->conns[i].state == ST_DEAD)
		return;
	if (p->conns[i].state == ST_CONNECTING) {
		if ((ev->events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0)
			return;
		connected(p, i);
		if (p->conns[i].state == ST_DEAD)
			return;
	}
	if (ev->events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		readable(p, i);
}

static void
make_token(struct probe *p)
{
	uint64_t	r;

	if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
		r = (uint64_t)tn_now_ms() ^ ((uint64_t)getpid() << 32);
	snprintf(p->token, sizeof p->token, "%016llx",
	    (unsigned long long)r);
}

static int
send_probe(struct probe *p)
{
	char		 line[128];
	struct pollfd	 pfd;
	size_t		 len, off = 0;
	ssize_t		 n;

	snprintf(p->want, sizeof p->want, "<%s> fanout-probe %s", p->nick0,
	    p->token);
	len = (size_t)snprintf(line, sizeof line, "fanout-probe %s\r\n",
	    p->token);
	while (off < len) {
		n = send(p->conns[0].fd, line + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == -1 && errno != EAGAIN && errno != EINTR) {
			fprintf(stderr, "%s: send: %s\n", progname,
			    strerror(errno));
			return -1;
		}
		pfd.fd = p->conns[0].fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 5000) == 0) {
			fprintf(stderr, "%s: send blocked\n", progname);
			return -1;
		}
	}
	return 0;
}

/* One round of epoll; false once the deadline has passed. */
static bool
pump(struct probe *p, int64_t deadline)
{
	struct epoll_event	evs[MAX_EVENTS];
	int64_t			left;
	int			i, nev;

	if ((left = deadline - tn_now_ms()) <= 0)
		return false;
	nev = epoll_wait(p->ep, evs, MAX_EVENTS, left > 1000 ? 1000 :
	    (int)left);
	if (nev == -1 && errno != EINTR) {
		fprintf(stderr, "%s: epoll_wait: %s\n", progname,
		    strerror(errno));
		return false;
	}
	for (i = 0; i < nev; i++)
		handle_event(p, &evs[i]);
	return true;
}

static void
summary(const struct probe *p)
{
	fprintf(stderr, "%s: started %zu, welcomed %zu, received %zu, "
	    "failed %zu (of %zu)\n", progname, p->started, p->welcomed,
	    p->done, p->dead, p->n);
}

static int
run(struct probe *p, double timeout, double hold)
{
	int64_t	t0, t1, t2, deadline;

	t0 = tn_now_ms();
	deadline = t0 + (int64_t)(timeout * 1000);
	while (p->welcomed < p->n && p->dead == 0) {
		while (p->inflight < MAX_INFLIGHT && p->started < p->n)
			if (start_one(p) == -1)
				return 1;
		if (!pump(p, deadline))
			break;
	}
	t1 = tn_now_ms();
	if (p->welcomed < p->n || p->dead > 0) {
		fprintf(stderr, "%s: FAIL: only %zu of %zu connections "
		    "welcomed after %.3f s\n", progname, p->welcomed, p->n,
		    (double)(t1 - t0) / 1000);
		summary(p);
		return 1;
	}
	printf("connected: %zu clients in %.3f s\n", p->n,
	    (double)(t1 - t0) / 1000);
	fflush(stdout);
	if (send_probe(p) == -1)
		return 1;
	while (p->done < p->n && p->dead == 0)
		if (!pump(p, deadline))
			break;
	t2 = tn_now_ms();
	printf("delivered: %zu/%zu received the line in %.3f s\n", p->done,
	    p->n, (double)(t2 - t1) / 1000);
	fflush(stdout);
	if (p->done < p->n || p->dead > 0) {
		fprintf(stderr, "%s: FAIL: %zu of %zu clients did not get "
		    "\"%s\"\n", progname, p->n - p->done, p->n, p->want);
		summary(p);
		return 1;
	}
	if (hold > 0) {
		printf("holding: %zu connections for %.1f s\n", p->n, hold);
		fflush(stdout);
		deadline = tn_now_ms() + (int64_t)(hold * 1000);
		while (pump(p, deadline))
			;
		if (p->dead > 0) {
			fprintf(stderr, "%s: FAIL: %zu connections closed "
			    "while holding\n", progname, p->dead);
			return 1;
		}
	}
	return 0;
}

static double
parse_num(const char *s, double min, double max)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || v < min || v > max)
		usage();
	return v;
}

int
main(int argc, char *argv[])
{
	struct probe	 p;
	const char	*host = "127.0.0.1", *port = "7777";
	double		 timeout = 60, hold = 0;
	double		 n;
	long		 limit;
	size_t		 i;
	int		 ch, rc;

	memset(&p, 0, sizeof p);
	while ((ch = getopt(argc, argv, "H:n:p:s:t:")) != -1) {
		switch (ch) {
		case 'H':
			host = optarg;
			break;
		case 'n':
			n = parse_num(optarg, 1, 1000000);
			if (n != (double)(size_t)n)
				usage();
			p.n = (size_t)n;
			break;
		case 'p':
			parse_num(optarg, 1, 65535);
			port = optarg;
			break;
		case 's':
			hold = parse_num(optarg, 0, 86400);
			break;
		case 't':
			timeout = parse_num(optarg, 0.001, 86400);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || p.n == 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);

	limit = tn_raise_nofile();
	if (limit < 0 || (size_t)limit < p.n + 16) {
		fprintf(stderr, "%s: %zu connections need %zu descriptors, "
		    "the limit is %ld\n", progname, p.n, p.n + 16, limit);
		return 1;
	}
	if (resolve(&p, host, port) == -1)
		return 1;
	if ((p.conns = calloc(p.n, sizeof *p.conns)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", progname);
		return 1;
	}
	for (i = 0; i < p.n; i++)
		p.conns[i].fd = -1;
	if ((p.ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		fprintf(stderr, "%s: epoll_create1: %s\n", progname,
		    strerror(errno));
		return 1;
	}
	make_token(&p);
	rc = run(&p, timeout, hold);
	for (i = 0; i < p.n; i++)
		if (p.conns[i].fd != -1)
			close(p.conns[i].fd);
	free(p.conns);
	close(p.ep);
	return rc;
}
