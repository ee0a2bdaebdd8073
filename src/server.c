/*
 * server.c - listeners, the acceptor thread, the worker pool, shutdown.
 *
 * The acceptor never blocks on anything but epoll_wait(2): the work queue
 * holds one entry per possible connection, and a connection is queued at
 * most once (conn.h), so pushing never waits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "auth.h"
#include "cluster.h"
#include "conn.h"
#include "histdb.h"
#include "irc.h"
#include "line.h"
#define LOG_COMPONENT	"server"
#include "log.h"
#include "model.h"
#include "remote.h"
#include "senders.h"
#include "restate.h"
#include "server.h"
#include "tls.h"
#include "utf8.h"

/* Each room's history is bounded in bytes as well as lines. */
#define HISTORY_BYTES		(256 * 1024)

#define AUTH_LOGGED		10	/* wrong passwords logged a second */

static uint64_t	hash_seed(void);

static void	server_wake(struct server *, struct wakeset *);
static bool	server_hold(struct server *, struct conn *);
static void	server_release_held(struct server *, struct wakeset *);
static void	server_bury(struct server *, struct conn *);
static void	cluster_flow_back(struct server *);
static void	cluster_flow_check(struct server *, struct wakeset *);
static void	server_throttle(struct server *, struct conn *, uint64_t);

#define ACCEPTS_PER_EVENT	64
#define EMFILE_PAUSE_MS		100
#define THROTTLE_TICK_MS	10
#define SHUTDOWN_FLUSH_MS	2000
#define EPOLL_BATCH		256
#define TICK_MS			1000	/* idle and address sweeps */
#define REFUSALS_LOGGED		10	/* a second; the rest are counted */
#define FLOW_TICK_MS		50	/* stalled recipients, while any */
#define CLUSTER_REPLAY_MS	10000	/* for the history, at start */
#define LOCAL_RUNS		8	/* woken connections a worker runs itself */

static void
raise_nofile_limit(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("setrlimit(RLIMIT_NOFILE): %s", strerror(errno));
}

static void
addr_name(const struct sockaddr *sa, char *buf, size_t len)
{
	char	 host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else
		snprintf(buf, len, "unix");
}

/*
 * Listen on addr:port (0: any free port) for proto; *bound is the port
 * bound.
 */
static int
listen_tcp(struct server *srv, const char *addr, unsigned port,
    const struct conn_proto *proto, const char *kind, unsigned *bound)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (void *)&ss;
	struct sockaddr_in6	*sin6 = (void *)&ss;
	socklen_t		 sslen;
	struct listener		*l = &srv->listeners[srv->nlisteners];
	int			 fd, on = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sslen = sizeof(*sin6);
	} else {
		errno = EINVAL;
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1 ||
	    listen(fd, SOMAXCONN) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1) {
		/* The caller decides whether this is fatal, and says so. */
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	l->ep_kind = EP_LISTENER;
	l->fd = fd;
	l->proto = proto;
	l->kind = kind;
	l->tls = false;
	addr_name((struct sockaddr *)&ss, l->name, sizeof(l->name));
	*bound = ntohs(ss.ss_family == AF_INET ? sin->sin_port :
	    sin6->sin6_port);
	srv->nlisteners++;
	if (kind == NULL)
		log_info("listening on %s", l->name);
	else
		log_info("listening for %s on %s", kind, l->name);
	return 0;
}

static int
listen_unix(struct server *srv, const char *path)
{
	struct sockaddr_un	 sun;
	struct listener		*l = &srv->listeners[srv->nlisteners];
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_error("--unix: path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_error("socket for %s: %s", path, strerror(errno));
		return -1;
	}
	/* A stale socket file from a previous run would make bind fail. */
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, SOMAXCONN) == -1) {
		log_error("cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	l->ep_kind = EP_LISTENER;
	l->fd = fd;
	l->proto = &line_proto;
	l->kind = NULL;
	snprintf(l->name, sizeof(l->name), "unix:%s", path);
	srv->nlisteners++;
	log_info("listening on %s", l->name);
	return 0;
}

/* Close the listeners from first on (a failed attempt). */
static void
close_listener_fds(struct server *srv, size_t first)
{
	while (srv->nlisteners > first)
		close(srv->listeners[--srv->nlisteners].fd);
}

/*
 * A missing IPv6 (or IPv4) stack is no reason to fail when the
 * addresses were not asked for.
 */
static bool
bind_failure_ok(const struct server *srv, size_t first)
{
	return srv->opt.default_binds && srv->nlisteners > first &&
	    (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL);
}

/*
 * Listen on every bind address for proto, on port (0: one free port for
 * all of them); *bound is the port.
 */
static int
open_tcp_listeners(struct server *srv, unsigned port,
    const struct conn_proto *proto, const char *kind, unsigned *bound)
{
	size_t		 first = srv->nlisteners, i;
	unsigned	 try_port = port;

	for (i = 0; i < srv->opt.nbinds; i++) {
		if (listen_tcp(srv, srv->opt.binds[i], try_port, proto, kind,
		    bound) == -1) {
			if (bind_failure_ok(srv, first)) {
				log_warn("not listening%s%s on %s: %s",
				    kind != NULL ? " for " : "",
				    kind != NULL ? kind : "",
				    srv->opt.binds[i], strerror(errno));
				continue;
			}
			if (port != 0 || errno != EADDRINUSE)
				log_error("cannot listen%s%s on %s port %u: %s",
				    kind != NULL ? " for " : "",
				    kind != NULL ? kind : "",
				    srv->opt.binds[i], try_port,
				    errno == EINVAL ?
				    "not an IPv4 or IPv6 address" :
				    strerror(errno));
			return -1;
		}
		/* With port 0, every address shares the first one's port. */
		try_port = *bound;
	}
	return 0;
}

/*
 * The same, trying again with another port if port is 0 and the port
 * the first address got is taken on the next one.
 */
static int
open_tcp_kind(struct server *srv, unsigned port,
    const struct conn_proto *proto, const char *kind, unsigned *bound)
{
	size_t	 first = srv->nlisteners;
	int	 tries;

	for (tries = 0; open_tcp_listeners(srv, port, proto, kind, bound) == -1;
	    tries++) {
		if (port != 0 || errno != EADDRINUSE || tries == 8)
			return -1;
		close_listener_fds(srv, first);
	}
	return 0;
}

/*
 * Listeners for proto over TLS: opened like the others, then marked, so
 * accept gives their connections a session.  Needs srv->tls_ctx.
 */
static int
open_tls_kind(struct server *srv, unsigned port,
    const struct conn_proto *proto, const char *kind, unsigned *bound)
{
	size_t	 first = srv->nlisteners, i;

	if (open_tcp_kind(srv, port, proto, kind, bound) == -1)
		return -1;
	for (i = first; i < srv->nlisteners; i++)
		srv->listeners[i].tls = true;
	return 0;
}

/*
 * The TLS listeners, when a certificate and a key are given: the line
 * protocol's (--tls-port) and IRC's (--irc-tls-port, 0: none).
 */
static int
open_tls_listeners(struct server *srv)
{
	char		 err[512];
	unsigned	 irc_tls_port;

	if (srv->opt.tls_cert == NULL && srv->opt.tls_key == NULL)
		return 0;
	if (srv->opt.tls_cert == NULL || srv->opt.tls_key == NULL) {
		log_error("tls-cert and tls-key go together");
		return -1;
	}
	if ((srv->tls_ctx = tls_ctx_new(srv->opt.tls_cert, srv->opt.tls_key,
	    err, sizeof(err))) == NULL) {
		log_error("%s", err);
		return -1;
	}
	if (open_tls_kind(srv, srv->opt.tls_port, &line_proto, "tls",
	    &srv->tls_port) == -1)
		return -1;
	if (srv->opt.irc_tls_port != 0 && open_tls_kind(srv,
	    srv->opt.irc_tls_port, &irc_proto, "irc+tls", &irc_tls_port) == -1)
		return -1;
	return 0;
}

static bool
loopback_address(const char *addr)
{
	struct in_addr	 in4;

	if (inet_pton(AF_INET, addr, &in4) == 1)
		return (ntohl(in4.s_addr) >> 24) == 127;
	return strcmp(addr, "::1") == 0;
}

/* A password sent in clear where others can listen is not much of one. */
static void
warn_plaintext_password(struct server *srv)
{
	size_t	 i;

	if (srv->password == NULL)
		return;
	for (i = 0; i < srv->opt.nbinds; i++)
		if (!loopback_address(srv->opt.binds[i]))
			log_warn("a password is set, but the plaintext port "
			    "%u on %s is not loopback: the password crosses "
			    "the network in clear (use --tls-port)",
			    srv->port, srv->opt.binds[i]);
}

static int
open_listeners(struct server *srv)
{
	unsigned	 irc_port;

	if (open_tcp_kind(srv, srv->opt.port, &line_proto, NULL, &srv->port)
	    == -1)
		return -1;
	if (srv->opt.irc_port != 0 && open_tcp_kind(srv, srv->opt.irc_port,
	    &irc_proto, "irc", &irc_port) == -1)
		return -1;
	warn_plaintext_password(srv);
	if (open_tls_listeners(srv) == -1)
		return -1;
	if (srv->opt.unix_path != NULL && listen_unix(srv, srv->opt.unix_path)
	    == -1)
		return -1;
	return 0;
}

static void
listeners_enable(struct server *srv, bool on)
{
	struct epoll_event	 ev;
	size_t			 i;

	for (i = 0; i < srv->nlisteners; i++) {
		ev.events = on ? EPOLLIN : 0;
		ev.data.ptr = &srv->listeners[i];
		epoll_ctl(srv->host.epfd, EPOLL_CTL_MOD, srv->listeners[i].fd, &ev);
	}
}

static void
close_listeners(struct server *srv)
{
	size_t	 i;

	for (i = 0; i < srv->nlisteners; i++) {
		epoll_ctl(srv->host.epfd, EPOLL_CTL_DEL, srv->listeners[i].fd, NULL);
		close(srv->listeners[i].fd);
	}
	srv->nlisteners = 0;
	if (srv->opt.unix_path != NULL)
		unlink(srv->opt.unix_path);
}

static void	wake_acceptor(struct server *srv);

static void
push_or_die(struct server *srv, struct conn *c)
{
	/* Cannot fail: the queue has room for every connection. */
	if (workq_trypush(srv->wq, c) == -1 && !atomic_load(&srv->host.stopping))
		fatal("work queue full: a connection was queued twice");
}

static void
server_wake(struct server *srv, struct wakeset *ws)
{
	if (ws->count == 0)
		return;
	workq_push_many(srv->wq, (void *const *)ws->conns, ws->count);
	ws->count = 0;
}

/* The same but for the last keep, which the worker runs itself. */
static void
server_wake_but(struct server *srv, struct wakeset *ws, size_t keep)
{
	size_t	 push;

	if (ws->count <= keep)
		return;
	push = ws->count - keep;
	workq_push_many(srv->wq, (void *const *)ws->conns, push);
	memmove(ws->conns, ws->conns + push, keep * sizeof(*ws->conns));
	ws->count = keep;
}

/*
 * A flood of refused connections must not become a flood of log lines:
 * the first few each second are logged, the rest counted and summed up.
 */
static void
log_refusals_summary(struct server *srv, uint64_t now)
{
	if (now - srv->refusals_since_ms < 1000)
		return;
	if (srv->refusals_unlogged > 0)
		log_info("%u more connections refused in the last second",
		    srv->refusals_unlogged);
	srv->refusals_since_ms = now;
	srv->refusals_logged = srv->refusals_unlogged = 0;
}

/*
 * Tell the client why, close it and log it.  Never waits.  A TLS client
 * is not told: a line in clear would only break its handshake.
 */
static void
refuse(struct server *srv, int fd, bool tell, const char *name,
    const char *why)
{
	char	 line[128];
	int	 n;

	n = snprintf(line, sizeof(line), "!! %s\r\n", why);
	/* Best effort, and the socket is non-blocking. */
	if (tell && write(fd, line, (size_t)n) < 0)
		errno = 0;
	close(fd);
	atomic_fetch_add_explicit(&srv->host.stats.refused, 1, memory_order_relaxed);
	log_refusals_summary(srv, now_ms());
	if (srv->refusals_logged++ < REFUSALS_LOGGED)
		log_info("%s refused: %s", name, why);
	else
		srv->refusals_unlogged++;
}

static void
limits_policy(struct server *srv, struct iplimit_policy *p)
{
	p->max_conns = LIMIT(&srv->host, max_per_ip);
	p->rate = LIMIT(&srv->host, connect_rate);
	p->burst = LIMIT(&srv->host, connect_burst);
}

/*
 * Count the client against its address.  Returns NULL if admitted
 * (*counted says whether iplimit_release() is owed), or the refusal.
 * Loopback and UNIX-socket clients are local stress runs and bridges:
 * exempt unless --limit-loopback.  UNIX clients share one key.
 */
static const char *
admit_address(struct server *srv, const struct sockaddr *sa,
    struct ipkey *key, bool *counted)
{
	struct iplimit_policy	 p;
	bool			 local = true;

	*counted = false;
	if (ipkey_from_sockaddr(sa, key, &local) == -1)
		memset(key, 0xff, sizeof(*key));
	if (local && !LIMIT(&srv->host, limit_loopback))
		return NULL;
	limits_policy(srv, &p);
	switch (iplimit_admit(srv->iplimit, key, &p, now_ms())) {
	case IPLIMIT_OK:
		*counted = true;
		return NULL;
	case IPLIMIT_TOO_MANY:
		return "too many connections from your address";
	case IPLIMIT_TOO_FAST:
		return "connecting too fast from your address, try again later";
	case IPLIMIT_NOMEM:
		break;
	}
	return "out of memory, try again later";
}

/*
 * Keepalive finds peers that vanished without a FIN or RST (a laptop
 * closed, a NAT that forgot): after idle seconds of silence, probes
 * every interval, and the kernel gives up after KEEPALIVE_PROBES.
 */
#define KEEPALIVE_PROBES	4

static void
set_keepalive(int fd, unsigned idle)
{
	int	 on = 1, secs = (int)idle, probes = KEEPALIVE_PROBES;
	int	 interval = secs / KEEPALIVE_PROBES;

	if (idle == 0)
		return;
	if (interval < 1)
		interval = 1;
	if (interval > 30)
		interval = 30;
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &secs,
	    sizeof(secs)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval,
	    sizeof(interval)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes,
	    sizeof(probes)) == -1)
		log_debug("keepalive: %s", strerror(errno));
}

/* A session with the context of the moment (a reload may swap it). */
static struct tls_conn *
new_tls_session(struct server *srv, int fd)
{
	struct tls_conn	*t;

	pthread_mutex_lock(&srv->tls_mu);
	t = tls_conn_new(srv->tls_ctx, fd);
	pthread_mutex_unlock(&srv->tls_mu);
	return t;
}

static void
accept_one(struct server *srv, struct listener *l, int fd,
    const struct sockaddr *sa)
{
	struct conn	*c;
	struct ipkey	 key;
	const char	*why;
	char		 name[80];
	bool		 counted;
	int		 on = 1;

	if (sa->sa_family != AF_UNIX)
		addr_name(sa, name, sizeof(name));
	else
		snprintf(name, sizeof(name), "%s", l->name);
	if (atomic_load(&srv->nclients) >= LIMIT(&srv->host, max_clients)) {
		refuse(srv, fd, !l->tls, name, "server full");
		return;
	}
	if ((why = admit_address(srv, sa, &key, &counted)) != NULL) {
		refuse(srv, fd, !l->tls, name, why);
		return;
	}
	atomic_fetch_add_explicit(&srv->host.stats.connections, 1,
	    memory_order_relaxed);
	if (sa->sa_family != AF_UNIX) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		set_keepalive(fd, LIMIT(&srv->host, keepalive));
	}
	if ((c = conn_new(&srv->host, fd, name, l->proto)) == NULL ||
	    (l->tls && (c->tls = new_tls_session(srv, fd)) == NULL)) {
		conn_free(c);
		if (counted)
			iplimit_release(srv->iplimit, &key);
		refuse(srv, fd, !l->tls, name, "out of memory, try again later");
		return;
	}
	c->accepted_ms = now_ms();
	c->ipkey = key;
	c->ip_counted = counted;
	atomic_fetch_add(&srv->nclients, 1);
	pthread_mutex_lock(&srv->conns_mu);
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	pthread_mutex_unlock(&srv->conns_mu);
	if (conn_schedule(c, CONN_EV_NEW))
		push_or_die(srv, c);
}

static void
accept_burst(struct server *srv, struct listener *l)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 fd, i;

	for (i = 0; i < ACCEPTS_PER_EVENT; i++) {
		sslen = sizeof(ss);
		fd = accept4(l->fd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			accept_one(srv, l, fd, (struct sockaddr *)&ss);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			/* Spinning on a full fd table helps nobody: pause. */
			log_warn("accept: %s; pausing for %d ms",
			    strerror(errno), EMFILE_PAUSE_MS);
			listeners_enable(srv, false);
			srv->accept_paused_until = now_ms() + EMFILE_PAUSE_MS;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_warn("accept on %s: %s", l->name, strerror(errno));
		return;
	}
}

/* Free what workers closed; no event fetched before now can name them. */
static void
free_graveyard(struct server *srv)
{
	struct conn	*c, *next;

	pthread_mutex_lock(&srv->conns_mu);
	c = srv->graveyard;
	srv->graveyard = NULL;
	pthread_mutex_unlock(&srv->conns_mu);
	for (; c != NULL; c = next) {
		next = c->next;
		if (c->ip_counted)
			iplimit_release(srv->iplimit, &c->ipkey);
		conn_free(c);
	}
}

/* Take c off the throttled list; conns_mu is held. */
static void
throttle_unlink(struct server *srv, struct conn *c)
{
	if (c->throttle_prev != NULL)
		c->throttle_prev->throttle_next = c->throttle_next;
	else
		srv->throttled = c->throttle_next;
	if (c->throttle_next != NULL)
		c->throttle_next->throttle_prev = c->throttle_prev;
	c->throttle_next = c->throttle_prev = NULL;
	c->in_throttle = false;
}

/* Take c off the held list; conns_mu is held. */
static void
held_unlink(struct server *srv, struct conn *c)
{
	if (c->held_prev != NULL)
		c->held_prev->held_next = c->held_next;
	else
		srv->held = c->held_next;
	if (c->held_next != NULL)
		c->held_next->held_prev = c->held_prev;
	c->held_next = c->held_prev = NULL;
	c->in_held = false;
}

static bool
server_hold(struct server *srv, struct conn *c)
{
	bool	 held = false, first = false;

	pthread_mutex_lock(&srv->conns_mu);
	/*
	 * Looked at again under the lock that server_release_held() takes
	 * after the count falls to 0, so no sender can miss its release.
	 */
	if (atomic_load(&srv->host.nbehind) > 0 && !c->in_held) {
		c->in_held = held = true;
		first = srv->held == NULL;
		c->held_prev = NULL;
		c->held_next = srv->held;
		if (srv->held != NULL)
			srv->held->held_prev = c;
		srv->held = c;
	}
	pthread_mutex_unlock(&srv->conns_mu);
	/*
	 * The acceptor may be asleep for a whole tick: it must start
	 * sweeping for stalled recipients now, or a hold that began after
	 * it last looked would last that tick at least.
	 */
	if (first)
		wake_acceptor(srv);
	return held;
}

void
server_unhold(struct server *srv, struct conn *c)
{
	pthread_mutex_lock(&srv->conns_mu);
	if (c->in_held)
		held_unlink(srv, c);
	pthread_mutex_unlock(&srv->conns_mu);
}

static void
server_release_held(struct server *srv, struct wakeset *ws)
{
	struct conn	*c;

	pthread_mutex_lock(&srv->conns_mu);
	while ((c = srv->held) != NULL) {
		held_unlink(srv, c);
		if (conn_schedule(c, CONN_EV_GO))
			wakeset_add(ws, c);
	}
	pthread_mutex_unlock(&srv->conns_mu);
}

/*
 * While someone is behind: cut the recipients that stalled too long, or
 * every stalled one once blocked recipients have spent the hold budget
 * (flow.h).  The owner looks again before it cuts.
 */
static void
sweep_stalled(struct server *srv, uint64_t now)
{
	unsigned		 timeout = LIMIT(&srv->host, slow_timeout);
	struct conn		*c;
	struct flow_stall	 st;
	bool			 held = false, spent;

	if (!host_behind(&srv->host)) {
		flow_budget_update(&srv->hold_budget, false, timeout, now);
		return;
	}
	if (now < srv->next_flow_ms)
		return;
	srv->next_flow_ms = now + FLOW_TICK_MS;
	pthread_mutex_lock(&srv->conns_mu);
	for (c = srv->conns; c != NULL && !held; c = c->next)
		held = conn_stall(c, &st) && flow_stalled_now(&st);
	spent = flow_budget_update(&srv->hold_budget, held, timeout, now);
	for (c = srv->conns; c != NULL && held; c = c->next)
		if (conn_stall(c, &st) &&
		    flow_should_cut(&st, now, timeout, spent) &&
		    conn_schedule(c, CONN_EV_SLOW))
			push_or_die(srv, c);
	pthread_mutex_unlock(&srv->conns_mu);
}

/* Hand connections whose flood allowance refilled back to the workers. */
static bool
resume_throttled(struct server *srv, uint64_t now)
{
	struct conn	*c, *next, *ready = NULL;
	bool		 left;

	pthread_mutex_lock(&srv->conns_mu);
	for (c = srv->throttled; c != NULL; c = next) {
		next = c->throttle_next;
		if (c->throttle_until_ms > now)
			continue;
		throttle_unlink(srv, c);
		c->throttle_next = ready;
		ready = c;
	}
	left = srv->throttled != NULL;
	/* Scheduled under conns_mu, so server_bury cannot free them first. */
	for (c = ready; c != NULL; c = next) {
		next = c->throttle_next;
		c->throttle_next = c->throttle_prev = NULL;
		if (conn_schedule(c, CONN_EV_RESUME))
			push_or_die(srv, c);
	}
	pthread_mutex_unlock(&srv->conns_mu);
	return left;
}

/*
 * Schedule the clients that sent no line for --idle-timeout seconds; the
 * owner looks again and closes them.  One pass over every client a
 * second is cheap next to their traffic.
 */
static void
schedule_idle(struct server *srv, uint64_t now)
{
	uint64_t	 limit = (uint64_t)LIMIT(&srv->host, idle_timeout) * 1000;
	struct conn	*c;

	if (limit == 0)
		return;
	pthread_mutex_lock(&srv->conns_mu);
	for (c = srv->conns; c != NULL; c = c->next)
		if (now - atomic_load_explicit(&c->last_line_ms,
		    memory_order_relaxed) >= limit &&
		    conn_schedule(c, CONN_EV_IDLE))
			push_or_die(srv, c);
	pthread_mutex_unlock(&srv->conns_mu);
}

/*
 * Schedule the TLS clients whose handshake has not finished within
 * --tls-handshake-timeout of their accept; the owner closes them.  They
 * counted against their address from the accept on.
 */
static void
schedule_handshake_timeouts(struct server *srv, uint64_t now)
{
	uint64_t	 limit;
	struct conn	*c;

	if (srv->tls_ctx == NULL)
		return;
	limit = (uint64_t)LIMIT(&srv->host, tls_handshake_timeout) * 1000;
	pthread_mutex_lock(&srv->conns_mu);
	for (c = srv->conns; c != NULL; c = c->next)
		if (c->tls != NULL && !atomic_load(&c->tls_open) &&
		    now - c->accepted_ms >= limit &&
		    conn_schedule(c, CONN_EV_IDLE))
			push_or_die(srv, c);
	pthread_mutex_unlock(&srv->conns_mu);
}

/* Once a second: idle clients, forgotten addresses, refusals summed up. */
static void
tick(struct server *srv, uint64_t now)
{
	struct iplimit_policy	 p;

	if (now < srv->next_tick_ms)
		return;
	srv->next_tick_ms = now + TICK_MS;
	schedule_idle(srv, now);
	schedule_handshake_timeouts(srv, now);
	limits_policy(srv, &p);
	iplimit_sweep(srv->iplimit, &p, now);
	log_refusals_summary(srv, now);
}

/*
 * A private line off the stream: for a user of this node's, if it still
 * has the id and the name it was sent to.
 */
static void
cluster_private(struct server *srv, const struct cluster_item *it)
{
	const struct clw_msg	*cm = &it->msg;
	const char		*self = cluster_node(srv->cluster), *to, *text;
	size_t			 to_len, text_len;

	/* From before this node started: ids were reused since. */
	if (it->seq <= cluster_start_seq(srv->cluster))
		return;
	if (cm->room_len != strlen(self) ||
	    memcmp(cm->room, self, cm->room_len) != 0)
		return;
	clw_split_target(cm, &to, &to_len, &text, &text_len);
	if (model_private_to(srv->model, cm->uid, cm->kind == CLW_NOTICE ?
	    EV_USER_NOTICE : EV_PRIVATE, to, to_len, cm->nick, cm->nick_len,
	    text, text_len, cm->time_ms, srv->cluster_ws) != M_OK)
		/* Names off the stream stay out of the log: untrusted. */
		log_debug("private line %" PRIu64 " from node %.*s: its "
		    "recipient left or was renamed", it->seq,
		    (int)cm->node_len, cm->node);
}

/* A kick off the stream: whoever it names is put out here too. */
static void
cluster_kick(struct server *srv, const struct cluster_item *it)
{
	const struct clw_msg	*cm = &it->msg;
	const char		*target, *reason;
	size_t			 target_len, reason_len;
	struct event		*ev;

	if (room_name_check(cm->room, cm->room_len, ROOM_NAME_MAX_BYTES) !=
	    NULL)
		return;
	clw_split_target(cm, &target, &target_len, &reason, &reason_len);
	if ((ev = event_new_full(EV_KICK, it->seq, cm->time_ms, cm->room,
	    cm->room_len, cm->nick, cm->nick_len, "", 0, target, target_len,
	    reason, reason_len)) == NULL) {
		log_error("out of memory: stream kick %" PRIu64 " lost",
		    it->seq);
		return;
	}
	(void)model_ordered(srv->model, ev, srv->cluster_ws);
	event_unref(ev);
}

static bool
is_self(struct server *srv, const char *node, size_t len)
{
	const char	*self = cluster_node(srv->cluster);

	return strlen(self) == len && memcmp(self, node, len) == 0;
}

/*
 * Rosters (restate.h) and what asks for them: another node's hello, and
 * this node's own end announced while it lives (it stopped beating for
 * long enough: NATS or the machine was away), once live; at the start
 * the end is its old self's, buried on purpose.
 */
static void
cluster_restate(struct server *srv, const struct cluster_item *it)
{
	const struct clw_msg	*cm = &it->msg;

	switch (cm->kind) {
	case CLW_ROSTER:
		remotes_roster(srv->remotes, srv->model, cm, srv->cluster_ws);
		break;
	case CLW_HELLO:
		if (srv->cluster_ready && !is_self(srv, cm->node, cm->node_len))
			restate_publish(srv->restate, false, "a hello");
		break;
	case CLW_NODEDOWN:
		remotes_apply(srv->remotes, srv->model, cm, srv->cluster_ws);
		if (srv->cluster_ready &&
		    is_self(srv, cm->text, cm->text_len)) {
			log_warn("cluster: this node was declared dead: "
			    "re-stating its users and claiming their nicks");
			restate_publish(srv->restate, true, "declared dead");
		}
		break;
	default:
		break;
	}
}

/* One event off the stream, into the model (the line kinds only). */
static void
cluster_apply(struct server *srv, const struct cluster_item *it)
{
	const struct clw_msg	*cm = &it->msg;
	struct event		*ev;
	enum event_kind		 kind;

	switch (cm->kind) {
	case CLW_SAY:
		kind = EV_SAY;
		break;
	case CLW_ME:
		kind = EV_ME;
		break;
	case CLW_TOPIC:
		kind = EV_TOPIC;
		break;
	case CLW_PRIVMSG:
	case CLW_NOTICE:
		cluster_private(srv, it);
		return;
	case CLW_KICK:
		cluster_kick(srv, it);
		return;
	case CLW_MODE:
		kind = EV_MODE;
		break;
	case CLW_HELLO:
	case CLW_ROSTER:
	case CLW_NODEDOWN:
		cluster_restate(srv, it);
		return;
	default:
		/* Joins, parts, quits, nicks and dead nodes: who is where. */
		remotes_apply(srv->remotes, srv->model, cm, srv->cluster_ws);
		return;
	}
	/* Only chat lines are counted in flight (hook_say). */
	if ((kind == EV_SAY || kind == EV_ME) &&
	    is_self(srv, cm->node, cm->node_len))
		cluster_flow_back(srv);
	/* The stream is shared: a name this server could not make stays out. */
	if (room_name_check(cm->room, cm->room_len, ROOM_NAME_MAX_BYTES) !=
	    NULL)
		return;
	if ((ev = event_new(kind, it->seq, cm->time_ms, cm->room,
	    cm->room_len, cm->nick, cm->nick_len, cm->text,
	    cm->text_len)) == NULL) {
		log_error("out of memory: stream line %" PRIu64 " lost",
		    it->seq);
		return;
	}
	if (model_ordered(srv->model, ev, srv->cluster_ws) == M_OK &&
	    (kind == EV_SAY || kind == EV_ME))
		atomic_fetch_add_explicit(&srv->host.stats.messages, 1,
		    memory_order_relaxed);
	event_unref(ev);
}

/*
 * What the cluster's consumer queued, a batch at a time so that the
 * acceptor goes back to its sockets between batches.
 */
static void
cluster_drain(struct server *srv)
{
	struct cluster_item	*items[64];
	size_t			 n, i;

	n = cluster_take(srv->cluster, items, 64);
	for (i = 0; i < n; i++) {
		switch (items[i]->kind) {
		case CI_EVENT:
			cluster_apply(srv, items[i]);
			break;
		case CI_PUB_FAILED:
			log_warn("NATS did not acknowledge a line: %.*s",
			    (int)items[i]->text_len, items[i]->text);
			senders_failed(items[i]->cookie, srv->cluster_ws);
			if (items[i]->cookie != 0)
				cluster_flow_back(srv);
			break;
		case CI_DISCONNECTED:
			/* What was in flight fails (acks time out), or is lost. */
			atomic_store(&srv->cluster_inflight, 0);
			break;		/* cluster.c logged it */
		case CI_RECONNECTED:
			/* What was told while NATS was away was lost. */
			if (srv->cluster_ready)
				restate_publish(srv->restate, false,
				    "NATS is back");
			break;
		}
		cluster_item_free(items[i]);
	}
	cluster_flow_check(srv, srv->cluster_ws);
	server_wake(srv, srv->cluster_ws);
}

static void
dispatch(struct server *srv, struct epoll_event *ev)
{
	int		*kind = ev->data.ptr;
	struct conn	*c;
	uint64_t	 drop;
	unsigned	 what = 0;

	if (*kind == EP_WAKE) {
		if (read(srv->wakefd, &drop, sizeof(drop)) < 0)
			errno = 0;
		return;
	}
	if (*kind == EP_CLUSTER) {
		cluster_drain(srv);
		return;
	}
	if (*kind == EP_LISTENER) {
		if (!atomic_load(&srv->host.stopping))
			accept_burst(srv, (struct listener *)(void *)kind);
		return;
	}
	c = (struct conn *)(void *)kind;
	if (ev->events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))
		what |= CONN_EV_IN;
	if (ev->events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		what |= CONN_EV_OUT;
	if (conn_schedule(c, what))
		push_or_die(srv, c);
}

static void *
acceptor_main(void *arg)
{
	struct server		*srv = arg;
	struct epoll_event	 events[EPOLL_BATCH];
	int			 i, n, timeout;
	bool			 throttling = false;
	uint64_t		 now;

	while (!atomic_load(&srv->acceptor_exit)) {
		free_graveyard(srv);
		timeout = TICK_MS;
		if (throttling || srv->accept_paused_until != 0)
			timeout = THROTTLE_TICK_MS;
		else if (host_behind(&srv->host))
			timeout = FLOW_TICK_MS;
		n = epoll_wait(srv->host.epfd, events, EPOLL_BATCH, timeout);
		if (n == -1 && errno != EINTR)
			fatal("epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++)
			dispatch(srv, &events[i]);
		now = now_ms();
		if (srv->accept_paused_until != 0 &&
		    now >= srv->accept_paused_until) {
			srv->accept_paused_until = 0;
			if (!atomic_load(&srv->host.stopping))
				listeners_enable(srv, true);
		}
		throttling = resume_throttled(srv, now);
		if (srv->cluster != NULL) {
			cluster_flow_check(srv, srv->cluster_ws);
			server_wake(srv, srv->cluster_ws);
		}
		sweep_stalled(srv, now);
		if (!atomic_load(&srv->host.stopping))
			tick(srv, now);
		if (atomic_load(&srv->host.stopping) && srv->nlisteners > 0)
			close_listeners(srv);
	}
	return NULL;
}

/*
 * A few of the connections a run woke (its recipients) are run by the
 * same worker, while their lines are in its cache: a small room's lines
 * are then flushed where they were made, instead of each recipient
 * waking another worker to write a line or two.  The rest went to the
 * queue as soon as they were woken (host_wake), so a big room's
 * recipients still spread over every worker at once.
 */
static void
run_woken(struct worker *w)
{
	struct conn	*mine[LOCAL_RUNS];
	size_t		 n, i;

	server_wake_but(w->srv, &w->wake, LOCAL_RUNS);
	n = w->wake.count;
	memcpy(mine, w->wake.conns, n * sizeof(*mine));
	w->wake.count = 0;
	for (i = 0; i < n; i++)
		conn_run(w, mine[i]);
	server_wake(w->srv, &w->wake);
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;
	struct conn	*c;

	while ((c = workq_pop(w->srv->wq)) != NULL) {
		conn_run(w, c);
		run_woken(w);
	}
	wakeset_free(&w->wake);
	free(w);
	return NULL;
}

static void
wake_acceptor(struct server *srv)
{
	uint64_t	 one = 1;

	if (write(srv->wakefd, &one, sizeof(one)) < 0)
		errno = 0;
}

static void
server_bury(struct server *srv, struct conn *c)
{
	pthread_mutex_lock(&srv->conns_mu);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->in_throttle)
		throttle_unlink(srv, c);
	if (c->in_held)
		held_unlink(srv, c);
	c->prev = NULL;
	c->next = srv->graveyard;
	srv->graveyard = c;
	pthread_mutex_unlock(&srv->conns_mu);
	atomic_fetch_sub(&srv->nclients, 1);
	wake_acceptor(srv);
}

static void
server_throttle(struct server *srv, struct conn *c, uint64_t until_ms)
{
	pthread_mutex_lock(&srv->conns_mu);
	c->throttle_until_ms = until_ms;
	if (!c->in_throttle) {
		c->in_throttle = true;
		c->throttle_prev = NULL;
		c->throttle_next = srv->throttled;
		if (srv->throttled != NULL)
			srv->throttled->throttle_prev = c;
		srv->throttled = c;
	}
	pthread_mutex_unlock(&srv->conns_mu);
	/* The acceptor may be asleep without a timeout. */
	wake_acceptor(srv);
}

static int
epoll_add(struct server *srv, int fd, void *ptr)
{
	struct epoll_event	 ev;

	ev.events = EPOLLIN;
	ev.data.ptr = ptr;
	return epoll_ctl(srv->host.epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int
start_threads(struct server *srv)
{
	struct worker	*w;
	size_t		 i;
	int		 err;

	srv->workers = calloc(srv->opt.workers, sizeof(*srv->workers));
	if (srv->workers == NULL)
		return -1;
	for (i = 0; i < srv->opt.workers; i++) {
		if ((w = calloc(1, sizeof(*w))) == NULL)
			return -1;
		w->srv = srv;
		w->host = &srv->host;
		/* Room for every client, so queuing a wake-up never fails. */
		if (wakeset_init(&w->wake, srv->capacity + 1) == -1) {
			free(w);
			return -1;
		}
		if ((err = pthread_create(&srv->workers[i], NULL, worker_main,
		    w)) != 0) {
			log_error("pthread_create: %s", strerror(err));
			wakeset_free(&w->wake);
			free(w);
			return -1;
		}
		srv->nworkers++;
	}
	if ((err = pthread_create(&srv->acceptor, NULL, acceptor_main,
	    srv)) != 0) {
		log_error("pthread_create: %s", strerror(err));
		return -1;
	}
	srv->acceptor_started = true;
	return 0;
}

static void
limits_store(struct limits *l, const struct options *o, size_t capacity)
{
	size_t	 max_clients = o->max_clients;

	if (max_clients > capacity)
		max_clients = capacity;
	atomic_store(&l->max_clients, max_clients);
	atomic_store(&l->max_line, o->max_line);
	atomic_store(&l->sendq, o->sendq);
	atomic_store(&l->slow_timeout, o->slow_timeout);
	atomic_store(&l->rate, o->rate);
	atomic_store(&l->burst, o->burst);
	atomic_store(&l->max_per_ip, o->max_per_ip);
	atomic_store(&l->connect_rate, o->connect_rate);
	atomic_store(&l->connect_burst, o->connect_burst);
	atomic_store(&l->limit_loopback, o->limit_loopback);
	atomic_store(&l->idle_timeout, o->idle_timeout);
	atomic_store(&l->tls_handshake_timeout, o->tls_handshake_timeout);
	atomic_store(&l->keepalive, o->keepalive);
	atomic_store(&l->max_rooms, o->max_rooms);
	atomic_store(&l->max_rooms_per_user, o->max_rooms_per_user);
	atomic_store(&l->max_room_name, o->max_room_name);
	atomic_store(&l->max_topic, o->max_topic);
	atomic_store(&l->history, o->history);
	atomic_store(&l->replay, o->replay);
}

static void
model_config_of(struct model_config *cfg, const struct options *o)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->default_room = o->default_room != NULL ? o->default_room :
	    OPTIONS_DEFAULT_ROOM;
	cfg->announce_max = o->announce_max;
	cfg->max_rooms = o->max_rooms;
	cfg->max_rooms_per_user = o->max_rooms_per_user;
	cfg->max_room_name = o->max_room_name;
	cfg->max_topic = o->max_topic;
	cfg->history = o->history;
	cfg->history_bytes = HISTORY_BYTES;
}

/* The model, and the database's history in it.  0, or -1 (logged). */
static int
open_model(struct server *srv, const struct options *opt)
{
	struct model_config	 cfg;
	const char		*why;

	model_config_of(&cfg, opt);
	cfg.seed = hash_seed();
	if ((why = room_name_check(cfg.default_room, strlen(cfg.default_room),
	    cfg.max_room_name)) != NULL) {
		log_error("default-room %s: %s", cfg.default_room, why);
		return -1;
	}
	if ((srv->model = model_new(&cfg)) == NULL) {
		log_error("out of memory");
		return -1;
	}
	return 0;
}

/*
 * The history database, opened once chatd has detached and dropped its
 * privileges (an SQLite connection must not cross a fork, and its files
 * belong to the user that writes them), before any client comes in.
 * 0, or -1 (logged): chatd then exits 1.
 */
static int
open_history_db(struct server *srv)
{
	const char	*path = srv->opt.history_db;
	char		 err[512];

	if (path == NULL)
		return 0;
	if ((srv->histdb = histdb_open(path, srv->opt.history, err,
	    sizeof(err))) == NULL) {
		log_error("history-db: %s", err);
		return -1;
	}
	if (model_attach_db(srv->model, srv->histdb) == -1) {
		log_error("history-db: %s: could not load it", path);
		return -1;
	}
	if (histdb_start(srv->histdb) == -1) {
		log_error("history-db: %s: cannot start its writer: %s", path,
		    strerror(errno));
		return -1;
	}
	log_info("history-db %s: %zu rooms with history", path,
	    model_rooms_count(srv->model));
	return 0;
}

/*
 * --cluster back-pressure.  The stream keeps CLUSTER_RETAIN lines a
 * room and drops the oldest past that, read or not: a node whose lines
 * ran that far ahead of every node's consumer would lose them.  So past
 * CLUSTER_INFLIGHT_HIGH lines in flight the cluster counts as one
 * recipient behind (host.h's nbehind): the senders are not read, as
 * when a client is behind, until the stream has given back all but
 * CLUSTER_INFLIGHT_LOW of them.  A worker raises it; the acceptor, which
 * sees the lines come back, lowers it, and looks at every turn, so a
 * raise that races the last line back waits one tick at most.
 */
static void
cluster_flow_sent(struct server *srv)
{
	if (atomic_fetch_add(&srv->cluster_inflight, 1) + 1 >=
	    CLUSTER_INFLIGHT_HIGH &&
	    !atomic_exchange(&srv->cluster_behind, true))
		atomic_fetch_add(&srv->host.nbehind, 1);
}

/* One line back off the stream, or failed: the acceptor's. */
static void
cluster_flow_back(struct server *srv)
{
	size_t	n = atomic_load(&srv->cluster_inflight);

	/* A line of an earlier life of this node, replayed: not counted. */
	while (n > 0 && !atomic_compare_exchange_weak(&srv->cluster_inflight,
	    &n, n - 1))
		;
}

static void
cluster_flow_check(struct server *srv, struct wakeset *ws)
{
	if (atomic_load(&srv->cluster_behind) &&
	    atomic_load(&srv->cluster_inflight) <= CLUSTER_INFLIGHT_LOW &&
	    atomic_exchange(&srv->cluster_behind, false) &&
	    atomic_fetch_sub(&srv->host.nbehind, 1) == 1)
		server_release_held(srv, ws);
}

/*
 * The model's hooks (model.h, struct model_cluster): this node's users'
 * lines, nick claims and comings and goings, onto the stream.
 */
static bool
hook_say(void *arg, struct user *u, struct room *r, struct event *const *evs,
    size_t n)
{
	struct server	*srv = arg;
	struct clw_msg	 m;
	size_t		 i;
	int		 rc;

	for (i = 0; i < n; i++) {
		memset(&m, 0, sizeof(m));
		m.kind = evs[i]->kind == EV_ME ? CLW_ME : CLW_SAY;
		m.uid = u->id;
		m.time_ms = evs[i]->time_ms;
		m.room = evs[i]->room;
		m.room_len = evs[i]->room_len;
		m.nick = evs[i]->nick;
		m.nick_len = evs[i]->nick_len;
		m.text = evs[i]->text;
		m.text_len = evs[i]->text_len;
		rc = cluster_publish(srv->cluster, &m, u->id);
		if (rc == CL_DOWN && i == 0)
			return false;	/* refused, all of them */
		if (rc != CL_OK)
			log_warn("cluster: a line could not be published");
		else
			cluster_flow_sent(srv);
	}
	return true;
}

static int
hook_claim(void *arg, struct user *u, const char *nick, size_t len)
{
	struct server	*srv = arg;

	switch (cluster_nick_claim(srv->cluster, nick, len, u->id)) {
	case CL_OK:
		return M_OK;
	case CL_TAKEN:
		return M_NICK_TAKEN;
	default:
		return M_UNREACHABLE;
	}
}

static void
hook_release(void *arg, struct user *u, const char *nick, size_t len)
{
	struct server	*srv = arg;

	if (cluster_nick_release(srv->cluster, nick, len, u->id) != CL_OK)
		log_warn("cluster: a nick's claim could not be released");
}

/*
 * Publish u's event of kind about room (or, for a private line, to the
 * node so named, uid the recipient's there), with text, or with "TARGET
 * TEXT" if target is not NULL (clw_split_target()).  Its failure comes
 * back to u as a room line's does (senders.h).
 */
static int
publish_of(struct server *srv, struct user *u, enum clw_kind kind,
    uint64_t uid, const char *room, size_t room_len, const char *target,
    size_t target_len, const char *text, size_t len)
{
	struct clw_msg	 m;
	char		*both = NULL;
	int		 rc;

	memset(&m, 0, sizeof(m));
	m.kind = kind;
	m.uid = uid;
	m.room = room;
	m.room_len = room_len;
	m.nick = u->nick;
	m.nick_len = u->nick_len;
	m.text = text;
	m.text_len = len;
	if (target != NULL) {
		if ((both = malloc(target_len + 1 + len)) == NULL)
			return M_NOMEM;
		memcpy(both, target, target_len);
		both[target_len] = ' ';
		if (len > 0)
			memcpy(both + target_len + 1, text, len);
		m.text = both;
		m.text_len = target_len + 1 + len;
	}
	rc = cluster_publish(srv->cluster, &m, u->id);
	free(both);
	if (rc == CL_ERROR)
		log_warn("cluster: a %s could not be published",
		    clw_kind_name(kind));
	return rc == CL_OK ? M_OK : M_UNREACHABLE;
}

/* To the node of whoever holds the nick, which is not this one. */
static int
hook_message(void *arg, struct user *u, enum event_kind kind, const char *to,
    size_t to_len, const char *text, size_t len)
{
	struct server	*srv = arg;
	char		 node[CLW_NODE_MAX + 1];
	uint64_t	 uid;

	switch (cluster_nick_owner(srv->cluster, to, to_len, node, &uid)) {
	case CL_OK:
		break;
	case CL_NOT_FOUND:
		return M_NO_SUCH_NICK;
	default:
		return M_UNREACHABLE;
	}
	/* This node's, yet no user of its has it: a claim left behind. */
	if (strcmp(node, cluster_node(srv->cluster)) == 0)
		return M_NO_SUCH_NICK;
	return publish_of(srv, u, kind == EV_USER_NOTICE ? CLW_NOTICE :
	    CLW_PRIVMSG, uid, node, strlen(node), to, to_len, text, len);
}

/* Set on every node, this one too, when the stream gives it back. */
static int
hook_topic(void *arg, struct user *u, struct room *r, const char *text,
    size_t len)
{
	const char	*name;
	size_t		 name_len;

	name = room_name(r, &name_len);
	return publish_of(arg, u, CLW_TOPIC, u->id, name, name_len, NULL, 0,
	    text, len);
}

/* Put out on every node, this one too, when the stream gives it back. */
static int
hook_kick(void *arg, struct user *u, struct room *r, const char *target,
    size_t target_len, const char *reason, size_t reason_len)
{
	const char	*name;
	size_t		 name_len;

	name = room_name(r, &name_len);
	return publish_of(arg, u, CLW_KICK, u->id, name, name_len, target,
	    target_len, reason, reason_len);
}

/* Applied on every node, this one too, when the stream gives it back. */
static int
hook_mode(void *arg, struct user *u, struct room *r, const char *change,
    size_t len)
{
	const char	*name;
	size_t		 name_len;

	name = room_name(r, &name_len);
	return publish_of(arg, u, CLW_MODE, u->id, name, name_len, NULL, 0,
	    change, len);
}

/*
 * Told at most once: a node that misses it (NATS was away) learns it
 * from this node's next roster (restate.h).
 */
static void
hook_told(void *arg, struct user *u, struct room *r, enum event_kind kind,
    const char *text, size_t len)
{
	struct server	*srv = arg;
	struct clw_msg	 m;

	memset(&m, 0, sizeof(m));
	switch (kind) {
	case EV_JOIN:
		m.kind = CLW_JOIN;
		break;
	case EV_PART:
		m.kind = CLW_PART;
		break;
	case EV_QUIT:
		m.kind = CLW_QUIT;
		break;
	case EV_NICK:
		m.kind = CLW_NICK;
		break;
	default:
		return;
	}
	m.uid = u->id;
	m.room = room_name(r, &m.room_len);
	/* A rename: nick the old name, text the new one. */
	m.nick = kind == EV_NICK ? text : u->nick;
	m.nick_len = kind == EV_NICK ? len : u->nick_len;
	m.text = kind == EV_NICK ? u->nick : text;
	m.text_len = kind == EV_NICK ? u->nick_len : len;
	/* Lost while NATS is away: the roster at its return tells it. */
	if (restate_told(srv->restate, &m, u, r) != CL_OK)
		log_debug("%s of %s not told to the cluster",
		    clw_kind_name(m.kind), u->nick);
}

/*
 * Caught up: the rosters on the stream are replayed, but one a node
 * stated before its users' last change is older than the stream's
 * memberships, and a roster in more parts than the stream keeps is
 * not whole.  A hello asks every node for its roster now.
 */
static void
say_hello(struct server *srv)
{
	struct clw_msg	m;

	srv->cluster_ready = true;
	memset(&m, 0, sizeof(m));
	m.kind = CLW_HELLO;
	if (cluster_publish(srv->cluster, &m, 0) != CL_OK)
		log_warn("cluster: no hello: the nodes' rosters come at "
		    "their next reconnection");
	else
		log_info("cluster: hello: %zu users of other nodes known",
		    remotes_count(srv->remotes));
}

/*
 * --cluster: join it or refuse to start (exit 1), never go on alone.
 * The consumer replays the stream into the rooms' history from here on.
 */
static int
open_cluster(struct server *srv)
{
	struct cluster_config	 cfg;
	struct model_cluster	 hooks;
	struct cluster_stats	 cs;
	struct pollfd		 pfd;
	uint64_t		 deadline;
	char			 err[512];

	if (srv->opt.cluster == NULL)
		return 0;
	if (srv->opt.node_name == NULL) {
		log_error("cluster: --cluster needs --node-name");
		return -1;
	}
	if (srv->opt.history_db != NULL) {
		log_error("cluster: --history-db cannot be used with --cluster:"
		    " the stream is the history");
		return -1;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.url = srv->opt.cluster;
	cfg.node = srv->opt.node_name;
	cfg.prefix = "chatd";
	cfg.history = srv->opt.history > 0 ? srv->opt.history : 1;
	if ((srv->remotes = remotes_new(srv->opt.node_name)) == NULL ||
	    (srv->cluster_ws = calloc(1, sizeof(*srv->cluster_ws))) == NULL ||
	    wakeset_init(srv->cluster_ws, srv->capacity + 1) == -1) {
		log_error("cluster: out of memory");
		return -1;
	}
	if ((srv->cluster = cluster_open(&cfg, err, sizeof(err))) == NULL ||
	    cluster_start(srv->cluster, err, sizeof(err)) == -1) {
		log_error("cluster: %s", err);
		return -1;
	}
	if ((srv->restate = restate_new(srv->model, srv->cluster)) == NULL) {
		log_error("cluster: out of memory");
		return -1;
	}
	/*
	 * The stream's history into the rooms before the first client, so
	 * that a new node's /history already holds what was said.
	 */
	deadline = now_ms() + CLUSTER_REPLAY_MS;
	do {
		pfd.fd = cluster_fd(srv->cluster);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 100) > 0)
			cluster_drain(srv);
		cluster_stats(srv->cluster, &cs);
	} while (!(cluster_caught_up(srv->cluster) && cs.lag == 0) &&
	    now_ms() < deadline);
	if (!cluster_caught_up(srv->cluster))
		log_warn("cluster: the history is still being read after %d s;"
		    " going on", CLUSTER_REPLAY_MS / 1000);
	memset(&hooks, 0, sizeof(hooks));
	hooks.arg = srv;
	hooks.say = hook_say;
	hooks.claim = hook_claim;
	hooks.release = hook_release;
	hooks.told = hook_told;
	hooks.message = hook_message;
	hooks.topic = hook_topic;
	hooks.kick = hook_kick;
	hooks.mode = hook_mode;
	model_set_cluster(srv->model, &hooks);
	say_hello(srv);
	srv->cluster_kind = EP_CLUSTER;
	return epoll_add(srv, cluster_fd(srv->cluster), &srv->cluster_kind);
}

void
motd_unref(struct motd *m)
{
	size_t	 i;

	if (m == NULL ||
	    atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (i = 0; i < m->count; i++)
		msg_unref(m->lines[i]);
	free(m);
}

struct motd *
server_motd(struct server *srv)
{
	struct motd	*m;

	pthread_mutex_lock(&srv->motd_mu);
	if ((m = srv->motd) != NULL)
		atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
	pthread_mutex_unlock(&srv->motd_mu);
	return m;
}

#define MOTD_MAX_LINES	100

/* Read path into notice lines.  *out is NULL for an empty file. */
static int
motd_load(const char *path, struct motd **out)
{
	struct motd	*m;
	FILE		*f;
	char		*line = NULL;
	size_t		 cap = 0, len;
	ssize_t		 n;
	int		 rc = -1;

	*out = NULL;
	if ((f = fopen(path, "r")) == NULL) {
		log_error("motd %s: %s", path, strerror(errno));
		return -1;
	}
	if ((m = calloc(1, sizeof(*m) + MOTD_MAX_LINES * sizeof(m->lines[0])))
	    == NULL)
		goto out;
	atomic_init(&m->refs, 1);
	while (m->count < MOTD_MAX_LINES && (n = getline(&line, &cap, f)) != -1) {
		len = (size_t)n;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (!utf8_valid(line, len, NULL)) {
			log_error("motd %s: line %zu is not valid UTF-8", path,
			    m->count + 1);
			goto out;
		}
		if ((m->lines[m->count] = msg_format(REPLY_NOTICE, NULL, 0, line,
		    len)) == NULL)
			goto out;
		m->count++;
	}
	if (ferror(f)) {
		log_error("motd %s: %s", path, strerror(errno));
		goto out;
	}
	if (m->count > 0) {
		*out = m;
		m = NULL;
	}
	rc = 0;
out:
	if (rc == -1 && m != NULL && m->count == 0 && errno == ENOMEM)
		log_error("motd %s: out of memory", path);
	motd_unref(m);
	free(line);
	fclose(f);
	return rc;
}

static void
motd_swap(struct server *srv, struct motd *m)
{
	struct motd	*old;

	pthread_mutex_lock(&srv->motd_mu);
	old = srv->motd;
	srv->motd = m;
	pthread_mutex_unlock(&srv->motd_mu);
	motd_unref(old);
}

/* Unpredictable enough that no client can aim at one hash chain. */
static uint64_t
hash_seed(void)
{
	uint64_t	 seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = now_ms() ^ ((uint64_t)getpid() << 32);
	return seed;
}

/* --server-name, or the host name, for IRC's numerics. */
static void
server_name_init(const char *name)
{
	char	 host[256];

	if (name == NULL) {
		if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0')
			snprintf(host, sizeof(host), "%s", "chatd");
		host[sizeof(host) - 1] = '\0';
		name = host;
	}
	irc_set_server_name(name);
}

int
server_listen(struct server *srv, const struct options *opt)
{
	struct motd	*motd = NULL;

	memset(srv, 0, sizeof(*srv));
	srv->host.ops = &server_host_ops;
	srv->host.workers = opt->workers;
	srv->opt = *opt;
	srv->host.epfd = srv->wakefd = -1;
	srv->wake_kind = EP_WAKE;
	srv->capacity = opt->max_clients;
	srv->started_ms = now_ms();
	limits_store(&srv->host.limits, opt, srv->capacity);
	pthread_mutex_init(&srv->conns_mu, NULL);
	pthread_mutex_init(&srv->motd_mu, NULL);
	pthread_mutex_init(&srv->tls_mu, NULL);
	pthread_mutex_init(&srv->auth_mu, NULL);
	if (opt->password != NULL &&
	    (srv->password = strdup(opt->password)) == NULL) {
		log_error("out of memory");
		return -1;
	}
	raise_nofile_limit();
	server_name_init(opt->server_name);

	if (opt->motd_path != NULL && motd_load(opt->motd_path, &motd) == -1)
		return -1;
	srv->motd = motd;
	/* One entry per possible connection: pushing can never block. */
	srv->wq = workq_new(srv->capacity + 1);
	srv->iplimit = iplimit_new(hash_seed());
	if (open_model(srv, opt) == -1)
		return -1;
	if (srv->wq == NULL || srv->iplimit == NULL) {
		log_error("out of memory");
		return -1;
	}
	if ((srv->host.epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (srv->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		log_error("epoll/eventfd: %s", strerror(errno));
		return -1;
	}
	return open_listeners(srv);
}

int
server_run(struct server *srv)
{
	size_t	 i;

	if (epoll_add(srv, srv->wakefd, &srv->wake_kind) == -1)
		return -1;
	for (i = 0; i < srv->nlisteners; i++)
		if (epoll_add(srv, srv->listeners[i].fd, &srv->listeners[i])
		    == -1)
			return -1;
	flow_budget_init(&srv->hold_budget, LIMIT(&srv->host, slow_timeout), now_ms());
	if (open_history_db(srv) == -1 || open_cluster(srv) == -1)
		return -1;
	if (start_threads(srv) == -1)
		return -1;
	log_info("%zu worker threads, up to %zu clients", srv->nworkers,
	    srv->capacity);
	return 0;
}

static bool
same_string(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
same_binds(const struct options *a, const struct options *b)
{
	size_t	 i;

	if (a->nbinds != b->nbinds)
		return false;
	for (i = 0; i < a->nbinds; i++)
		if (strcmp(a->binds[i], b->binds[i]) != 0)
			return false;
	return true;
}

/* Swap the password in (a copy of p, or none), wiping the old one. */
static int
set_password(struct server *srv, const char *p)
{
	char	*fresh = NULL, *old;

	if (p != NULL && (fresh = strdup(p)) == NULL)
		return -1;
	pthread_mutex_lock(&srv->auth_mu);
	old = srv->password;
	srv->password = fresh;
	pthread_mutex_unlock(&srv->auth_mu);
	if (old != NULL) {
		explicit_bzero(old, strlen(old));
		free(old);
	}
	return 0;
}

bool
server_password_required(struct server *srv)
{
	bool	 required;

	pthread_mutex_lock(&srv->auth_mu);
	required = srv->password != NULL;
	pthread_mutex_unlock(&srv->auth_mu);
	return required;
}

bool
server_password_ok(struct server *srv, const char *given, size_t len)
{
	bool	 ok;

	pthread_mutex_lock(&srv->auth_mu);
	ok = srv->password != NULL && auth_equal(srv->password,
	    strlen(srv->password), given, len);
	pthread_mutex_unlock(&srv->auth_mu);
	return ok;
}

/*
 * A wrong password is logged for its address, but a flood of them is
 * not a flood of log lines: AUTH_LOGGED a second, the rest counted.
 * The client is closed after a delay, parked by the transport (no
 * worker waits): one guess per connection, at most --connect-rate
 * connections a second per address.
 */
void
server_password_refused(struct conn *c)
{
	static struct log_limit	 limit = LOG_LIMIT_INITIALIZER(AUTH_LOGGED);
	unsigned		 skipped;
	bool			 log_it;

	log_it = log_limit_take(&limit, now_ms(), &skipped);
	if (skipped > 0)
		log_info("%u more wrong passwords in the last second", skipped);
	if (log_it)
		log_info("%s wrong password", c->addr);
	conn_close_later(c, AUTH_FAIL_DELAY_MS, "wrong password");
}

/*
 * A renewed certificate for new connections; the old context stays
 * with the connections made with it, and stays for new ones too if the
 * new files do not load.
 */
static void
reload_tls(struct server *srv, const struct options *o)
{
	struct tls_ctx	*fresh, *old;
	char		 err[512];

	if (srv->tls_ctx == NULL) {
		if (o->tls_cert != NULL || o->tls_key != NULL)
			log_warn("tls-cert and tls-key open the tls listener "
			    "only on a restart");
		return;
	}
	if (o->tls_cert == NULL || o->tls_key == NULL) {
		log_error("tls: tls-cert and tls-key are gone from the "
		    "settings: keeping the old certificate");
		return;
	}
	if ((fresh = tls_ctx_new(o->tls_cert, o->tls_key, err,
	    sizeof(err))) == NULL) {
		log_error("tls: keeping the old certificate: %s", err);
		return;
	}
	pthread_mutex_lock(&srv->tls_mu);
	old = srv->tls_ctx;
	srv->tls_ctx = fresh;
	pthread_mutex_unlock(&srv->tls_mu);
	tls_ctx_unref(old);
	log_info("tls: certificate reloaded from %s", o->tls_cert);
}

int
server_reload(struct server *srv, const struct options *o)
{
	struct motd		*motd = NULL;
	struct model_config	 cfg;

	if (o->motd_path != NULL && motd_load(o->motd_path, &motd) == -1)
		return -1;
	motd_swap(srv, motd);
	if (o->max_clients > srv->capacity)
		log_warn("max-clients %zu is above the %zu set at start: "
		    "keeping %zu until a restart", o->max_clients,
		    srv->capacity, srv->capacity);
	limits_store(&srv->host.limits, o, srv->capacity);
	model_config_of(&cfg, o);
	model_set_limits(srv->model, &cfg);
	if (srv->histdb != NULL)
		histdb_set_max_lines(srv->histdb, o->history);
	log_set_level(o->log_level);
	reload_tls(srv, o);
	if (set_password(srv, o->password) == -1)
		log_error("out of memory: keeping the old password");
	if (o->tls_port != srv->opt.tls_port)
		log_warn("tls-port changes only on a restart");
	if (!same_binds(o, &srv->opt) || o->port != srv->opt.port ||
	    o->irc_port != srv->opt.irc_port ||
	    !same_string(o->server_name, srv->opt.server_name) ||
	    !same_string(o->unix_path, srv->opt.unix_path) ||
	    o->workers != srv->opt.workers ||
	    !same_string(o->default_room, srv->opt.default_room) ||
	    !same_string(o->history_db, srv->opt.history_db))
		log_warn("bind, port, irc-port, server-name, unix, workers, "
		    "default-room and history-db change only on a restart");
	if (!same_string(o->log_file, srv->opt.log_file) ||
	    o->syslog != srv->opt.syslog || o->daemon != srv->opt.daemon ||
	    !same_string(o->pidfile, srv->opt.pidfile) ||
	    !same_string(o->user, srv->opt.user) ||
	    o->stats_interval != srv->opt.stats_interval)
		log_warn("log-file, syslog, daemon, pidfile, user and "
		    "stats-interval change only on a restart");
	if (!same_string(o->cluster, srv->opt.cluster) ||
	    !same_string(o->node_name, srv->opt.node_name))
		log_warn("cluster and node-name change only on a restart");
	log_info("reloaded: max-clients %zu, max-line %zu, sendq %zu, "
	    "slow-timeout %u, rate %u, burst %u, announce-max %zu, max-per-ip %u, "
	    "connect-rate %u, connect-burst %u, limit-loopback %s, "
	    "idle-timeout %u, keepalive %u, motd %s, log-level %s",
	    LIMIT(&srv->host, max_clients), o->max_line, o->sendq, o->slow_timeout,
	    o->rate,
	    o->burst, o->announce_max, o->max_per_ip, o->connect_rate,
	    o->connect_burst, o->limit_loopback ? "yes" : "no",
	    o->idle_timeout, o->keepalive,
	    motd != NULL ? o->motd_path : "none",
	    options_level_name(o->log_level));
	return 0;
}

bool
server_batch_add(struct worker *w, struct room *r, struct event *ev,
    size_t bytes)
{
	w->batch_room = r;
	w->batch[w->nbatch++] = ev;
	w->batch_bytes += bytes;
	return w->nbatch == WORKER_BATCH || w->batch_bytes >=
	    flow_batch_bytes(LIMIT(w->host, sendq), w->host->workers);
}

int
server_say_batch(struct worker *w, struct user *u, size_t *n)
{
	struct server	*srv = w->srv;
	size_t		 i;
	int		 rc;

	*n = w->nbatch;
	rc = model_say(srv->model, u, w->batch_room, w->batch, *n, &w->wake);
	/* --cluster: the stream orders them, and counts them as relayed. */
	if (srv->cluster == NULL)
		atomic_fetch_add_explicit(&srv->host.stats.messages, *n,
		    memory_order_relaxed);
	for (i = 0; i < *n; i++)
		event_unref(w->batch[i]);
	w->nbatch = 0;
	w->batch_bytes = 0;
	w->batch_room = NULL;
	return rc;
}

void
server_leave(struct worker *w, struct conn *c, struct user *u,
    const char *kill_reason, const char *quit, size_t quit_len)
{
	const char	*reason = kill_reason;
	size_t		 reason_len = reason != NULL ? strlen(reason) : 0;

	if (reason == NULL) {
		reason = quit;
		reason_len = quit_len;
		if (reason == NULL && c->leave_reason != NULL) {
			reason = c->leave_reason;
			reason_len = strlen(reason);
		}
	}
	model_disconnect(w->srv->model, u, reason, reason_len, &w->wake);
}

void
server_stats_line(struct server *srv, char *buf, size_t len)
{
	struct stats	*st = &srv->host.stats;

	snprintf(buf, len, "uptime %" PRIu64 " s, %zu clients, %" PRIu64
	    " messages relayed, %" PRIu64 " bytes in, %" PRIu64 " bytes out, %"
	    PRIu64 " cut off as too slow, %" PRIu64 " connections since start,"
	    " queue depth %zu, %" PRIu64 " connections refused, %zu line"
	    " users, %zu irc users",
	    (now_ms() - srv->started_ms) / 1000, atomic_load(&srv->nclients),
	    (uint64_t)atomic_load(&st->messages),
	    (uint64_t)atomic_load(&st->bytes_in),
	    (uint64_t)atomic_load(&st->bytes_out),
	    (uint64_t)atomic_load(&st->too_slow),
	    (uint64_t)atomic_load(&st->connections), workq_depth(srv->wq),
	    (uint64_t)atomic_load(&st->refused), line_users(), irc_users());
	if (srv->cluster != NULL) {
		struct cluster_stats	cs;
		size_t			used = strlen(buf);

		cluster_stats(srv->cluster, &cs);
		snprintf(buf + used, len - used, ", cluster node %s %s, "
		    "stream seq %" PRIu64 ", lag %" PRIu64 ", %" PRIu64
		    " lines refused or unacknowledged, %" PRIu64 " lost "
		    "unread, %zu in flight",
		    cluster_node(srv->cluster),
		    cs.connected ? "connected" : "DISCONNECTED",
		    cs.delivered_seq, cs.lag, cs.failed, cs.lost,
		    atomic_load(&srv->cluster_inflight));
	}
}

/* Give the shutdown notice to everyone and wait for it to leave. */
static void
drain(struct server *srv)
{
	struct wakeset	 ws;
	struct conn	*c;
	uint64_t	 deadline = now_ms() + SHUTDOWN_FLUSH_MS;
	bool		 drained = false;

	if (wakeset_init(&ws, srv->capacity + 1) == 0) {
		model_notice_all(srv->model, "server shutting down", &ws);
		server_wake(srv, &ws);
		wakeset_free(&ws);
	}
	while (!drained && now_ms() < deadline) {
		drained = true;
		pthread_mutex_lock(&srv->conns_mu);
		for (c = srv->conns; c != NULL && drained; c = c->next)
			drained = conn_drained(c);
		pthread_mutex_unlock(&srv->conns_mu);
		if (!drained)
			usleep(10 * 1000);
	}
}

/* After every thread has stopped: close what is left and free it all. */
static void
close_all(struct server *srv)
{
	struct linger	 lg = { 1, 0 };
	struct conn	*c, *next;

	for (c = srv->conns; c != NULL; c = next) {
		next = c->next;
		if (c->fd != -1) {
			if (!sendq_empty(&c->sq))
				setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg,
				    sizeof(lg));
			close(c->fd);
			log_info("%s %s disconnected: shutdown", c->addr,
			    c->proto->nick(c));
		}
		conn_free(c);
	}
	srv->conns = NULL;
	free_graveyard(srv);
}

void
server_stop(struct server *srv)
{
	size_t	 i;

	log_info("shutting down");
	atomic_store(&srv->host.stopping, true);
	wake_acceptor(srv);
	if (srv->model != NULL && srv->nworkers > 0)
		drain(srv);

	if (srv->acceptor_started) {
		atomic_store(&srv->acceptor_exit, true);
		wake_acceptor(srv);
		pthread_join(srv->acceptor, NULL);
	}
	if (srv->wq != NULL)
		workq_close(srv->wq);
	for (i = 0; i < srv->nworkers; i++)
		pthread_join(srv->workers[i], NULL);
	close_listeners(srv);
	close_all(srv);

	free(srv->workers);
	workq_free(srv->wq);
	/* Last: the writer stores what the rooms said until the end. */
	histdb_close(srv->histdb);
	remotes_free(srv->remotes, srv->model);
	if (srv->cluster != NULL) {
		cluster_close(srv->cluster);
		cluster_library_close();
	}
	restate_free(srv->restate);
	if (srv->cluster_ws != NULL) {
		wakeset_free(srv->cluster_ws);
		free(srv->cluster_ws);
	}
	model_free(srv->model);
	iplimit_free(srv->iplimit);
	motd_swap(srv, NULL);
	pthread_mutex_destroy(&srv->motd_mu);
	if (srv->tls_ctx != NULL)
		tls_ctx_unref(srv->tls_ctx);
	pthread_mutex_destroy(&srv->tls_mu);
	set_password(srv, NULL);
	pthread_mutex_destroy(&srv->auth_mu);
	if (srv->host.epfd != -1)
		close(srv->host.epfd);
	if (srv->wakefd != -1)
		close(srv->wakefd);
	pthread_mutex_destroy(&srv->conns_mu);
	log_info("stopped");
}

/*
 * What a connection may ask of the server (host.h).
 */

static void
host_bury(struct host *h, struct conn *c)
{
	server_bury(server_of(h), c);
}

static void
host_throttle(struct host *h, struct conn *c, uint64_t until_ms)
{
	server_throttle(server_of(h), c, until_ms);
}

static bool
host_hold(struct host *h, struct conn *c)
{
	return server_hold(server_of(h), c);
}

static void
host_release_held(struct host *h, struct wakeset *ws)
{
	server_release_held(server_of(h), ws);
}

/* A worker's run woke these: all but a few go to the queue now. */
static void
host_wake(struct host *h, struct wakeset *ws)
{
	server_wake_but(server_of(h), ws, LOCAL_RUNS);
}

/* The owner gives c back to the queue: it is owned, so never twice. */
static void
host_requeue(struct host *h, struct conn *c)
{
	push_or_die(server_of(h), c);
}

const struct host_ops server_host_ops = {
	.bury = host_bury,
	.throttle = host_throttle,
	.hold = host_hold,
	.release_held = host_release_held,
	.wake = host_wake,
	.requeue = host_requeue,
};
