/*
 * chat-bench.c - load generator for chatd, and for Redis pub/sub to
 * compare against.
 *
 * N clients connect and wait for their welcome; S of them send
 * numbered, timestamped messages (bench.h has the format), either as
 * fast as a window of unacknowledged messages allows (closed loop) or
 * at a fixed total rate (open loop); every receiver checks each
 * sender's sequence numbers and records the latency of each delivery.
 *
 * A few threads, each with its own epoll loop, own a fixed slice of the
 * connections; nothing about a connection is shared, so the hot path
 * takes no lock.  Each thread publishes its counters with relaxed
 * atomic stores once per loop turn, and the main thread reads them for
 * the progress line and to decide when the drain is over.  The final
 * accounting is done after the threads are joined, from the trackers
 * themselves.
 *
 * With --rooms R, client i is in room #r(i % R) and so is sender i
 * (bench.h): right after its welcome a client sends /join #rK, then
 * /part #lobby, so that it is in exactly one room, and it is ready once
 * chatd confirms both.  With Redis, rooms are channels rK.  One room
 * sends no command: the load is byte for byte that of protocol v1.
 *
 * With --proto irc, client i registers as "b<i>" (NICK, USER, then
 * 001), joins #rK (#r0 with one room) and is ready at the end of its
 * NAMES reply; senders send "PRIVMSG #rK :<payload>".  An IRC server
 * sends a sender nothing of its own, so the tracker owes it nothing of
 * its own (bench.h), and, as with Redis, a sender's window is closed by
 * the arrivals at another receiver of its room on the same thread.
 *
 * --tls puts TLS under any of these: the handshake, reads and writes
 * are non-blocking like the rest, through io_read() and io_write(), so
 * the accounting above does not know.  OpenSSL may hold decrypted bytes
 * that epoll cannot see: such a connection goes on its thread's "again"
 * list and is read once more before the thread next sleeps.
 *
 * Phases, driven by the main thread through one atomic variable:
 * CONNECT (bounded concurrency, each connection counted until ready),
 * LOAD (warm-up, then the measure window; the threads stop generating
 * by themselves at its end), DRAIN (wait until every live receiver has
 * every message that left our buffers, or a timeout), STOP.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <netdb.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "bench.h"

#ifdef HAVE_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#endif

#define NS_PER_S	1000000000ULL
#define NS_PER_MS	1000000ULL
#define RBUF_SIZE	(256 * 1024)	/* one recv per event, per connection */
#define MAX_EVENTS	512
#define TICK_MS		10		/* longest epoll wait: phase changes */
#define OUT_BACKLOG	(1024 * 1024)	/* open loop: queued bytes per sender */
#define LINE_EXTRA	512		/* "<nick> ", RESP or IRC framing */
#define MAX_REPORTS	10
#define MAX_THREADS	64
#define MAX_CLIENTS	1000000
#define REDIS_CHANNEL	"bench"	/* the one room's channel */
#define LOBBY		"#lobby"	/* where chatd puts a new client */
#define NAME_MAX_LEN	32		/* "#r" or "r" and a room number */

enum proto { PROTO_CHATD, PROTO_REDIS, PROTO_IRC };
enum phase { PH_CONNECT, PH_LOAD, PH_DRAIN, PH_STOP };
enum cstate {
	CS_IDLE,
	CS_CONNECTING,
	CS_HANDSHAKE,	/* --tls: until SSL_connect() succeeds */
	CS_WELCOME,	/* chatd's welcome, redis's SUBSCRIBE reply, IRC 001 */
	CS_JOINING,	/* chatd, rooms: sent /join #rK; IRC: sent JOIN */
	CS_PARTING,	/* chatd, rooms: sent /part #lobby */
	CS_READY,
	CS_DEAD
};
enum resp_kind { RK_OTHER, RK_MESSAGE, RK_SUBSCRIBE };

/* Counters a thread publishes; the main thread sums them. */
enum counter {
	C_SENT,			/* messages generated */
	C_SENT_MEASURE,		/* ... with a timestamp in the window */
	C_DELIV,		/* payload arrivals */
	C_DELIV_MEASURE,	/* ... received in the window */
	C_WELCOMED,
	C_FAILED,		/* connections that never got ready */
	C_DISCONNECTS,		/* ready connections lost */
	C_MALFORMED,
	C_MISROUTED,		/* payloads from another room */
	C_SERVER_ERRORS,
	C_ALIVE_RX,		/* ready receivers */
	C_DISTINCT_ALIVE,	/* distinct arrivals at ready receivers */
	C_READY_TX,		/* ready senders */
	C_UNSENT_LIVE,		/* messages in live senders' buffers */
	C_WRITTEN_SELF,		/* IRC: written by ready senders, to others */
	C_STOPPED,		/* 1 once the thread generates no more */
	C_COUNT
};

struct config {
	uint32_t	 clients;
	uint32_t	 senders;
	uint32_t	 rooms;
	uint32_t	 threads;
	const char	*host;
	const char	*port;
	const char	*unix_path;
	size_t		 size;
	double		 rate;		/* 0: closed loop */
	uint32_t	 window;
	double		 duration;
	double		 warmup;
	uint32_t	 connect_concurrency;
	double		 connect_timeout;
	double		 drain_timeout;
	enum proto	 proto;
	bool		 tls;
	const char	*ca_file;	/* --tls: verify against it; NULL: don't */
	long		 server_pid;	/* 0: none */
	bool		 json;
	bool		 quiet;
};

struct bconn {
	int		 fd;
	uint8_t		 state;		/* enum cstate */
	bool		 want_out;	/* EPOLLOUT is in the mask */
	bool		 skipping;	/* inside an over-long line */
	bool		 welcomed;	/* got ready once */
	bool		 acker;		/* redis, IRC: some sender's ack_rx */
	bool		 again;		/* on its thread's again list */
	bool		 read_wants_write;	/* TLS: SSL_read() needs out */
	bool		 write_wants_read;	/* TLS: SSL_write() needs in */
	int32_t		 rx;		/* receiver number, or -1 */
	int32_t		 tx;		/* sender number, or -1 */
	uint32_t	 id;
	uint32_t	 thread;	/* index of the owning thread */
	uint32_t	 room;		/* bench_room_of() its number */
	struct bench_rx	 track;
	struct bconn	*ack_rx;	/* redis, IRC sender: closes its window */
#ifdef HAVE_TLS
	SSL		*ssl;
#endif

	char		*line;		/* a line split across reads */
	size_t		 line_len;

	int64_t		 resp_bulk;	/* length of the awaited bulk, or -1 */
	int		 resp_left;	/* elements left in this array */
	int		 resp_idx;
	uint8_t		 resp_kind;	/* enum resp_kind */

	char		*out;
	size_t		 out_off;
	size_t		 out_len;
	size_t		 out_cap;

	char		*pub_hdr;	/* PUBLISH rK ..., or PRIVMSG #rK : */
	size_t		 pub_hdr_len;
	size_t		 msg_len;	/* sender: one message on the wire */

	uint64_t	 seq;		/* messages generated */
	uint64_t	 acked;		/* echoes (chatd) or arrivals (redis) */
	uint64_t	 written_pub;	/* written, as added to room_written */
};

struct bench;

struct bthread {
	struct bench		*b;
	unsigned		 idx;
#ifdef HAVE_TLS
	/*
	 * The thread's own: OpenSSL objects a context shares between
	 * connections are then never touched by two threads.
	 */
	SSL_CTX			*tls_ctx;
#endif
	pthread_t		 tid;
	int			 ep;
	int			 tfd;		/* open-loop pacing */
	struct bconn		**conns;
	size_t			 nconns;
	struct bconn		**senders;
	size_t			 nsenders;
	struct bconn		**again;	/* TLS: bytes held by OpenSSL */
	size_t			 nagain;
	size_t			 next_start;
	size_t			 connecting;
	size_t			 max_connecting;
	char			*rbuf;
	struct bench_hist	*hist;
	bool			 load_started;
	bool			 loading;	/* generating messages */
	uint64_t		 k;		/* open loop: next slot */
	uint64_t		 due0;
	double			 interval;	/* ns between slots */
	uint64_t		 l[C_COUNT];
	atomic_uint_least64_t	 pub[C_COUNT];
};

/* --port P1,P2,...: the nodes of a cluster, clients dealt round them. */
#define PORTS_MAX	16

struct bench {
	const struct config	*cfg;
	struct sockaddr_storage	 addr[PORTS_MAX];
	socklen_t		 addrlen[PORTS_MAX];
	size_t			 naddr;
	char			 target[300];
	size_t			 line_max;
	struct bconn		*conns;
	size_t			 nconns;
	struct bconn		**sender_conn;	/* by sender number */
	uint32_t		 nreceivers;
	/*
	 * Per room with a sender (0 .. nbusy-1), for the drain: messages
	 * its senders have handed to the kernel, and its ready receivers.
	 * Threads add to them; the main thread only reads.
	 */
	uint32_t		 nbusy;
	atomic_uint_least64_t	*room_written;
	atomic_uint_least64_t	*room_alive;
	struct bthread		*threads;
	uint32_t		 nstarted;	/* threads running */
#ifdef HAVE_TLS
	SSL_CTX			*tls_ctx;
#endif
	atomic_int		 phase;
	/* Written before phase becomes PH_LOAD, read-only after. */
	uint64_t		 t_load;
	uint64_t		 t_measure;
	uint64_t		 t_end;
	double			 sender_rate;	/* messages/s per sender */
};

static const char	*progname = "chat-bench";
static atomic_uint	 reports;

static void
usage(FILE *f)
{
	fprintf(f,
"Usage: chat-bench [OPTION]...\n"
"Load a chatd server (its line protocol or IRC), another IRC server, or Redis\n"
"pub/sub with many clients; report throughput, latency and exact loss,\n"
"reordering and duplication.\n"
"\n"
"  -n, --clients N            receiving clients (default: 100)\n"
"  -s, --senders S            sending clients, S <= N (default: 10); with\n"
"                             chatd the senders are among the N receivers\n"
"      --rooms R              spread clients and senders over R rooms, R <= N\n"
"                             (default: 1, the room every client starts in)\n"
"  -H, --host HOST            server name or address (default: 127.0.0.1)\n"
"  -p, --port PORT[,PORT...]  server TCP port (default: 7777); several ports\n"
"                             (the nodes of a chatd cluster, at most 16):\n"
"                             client i connects to port i mod their number\n"
"      --unix PATH            connect to a UNIX-domain socket instead\n"
"      --size BYTES           message payload size, at least %d (default: 64)\n"
"  -r, --rate R               open loop: R messages/s in all, shared by the\n"
"                             senders and paced\n"
"  -w, --window W             closed loop: at most W messages of a sender in\n"
"                             flight (default: 64 unless --rate is given)\n"
"  -d, --duration SECONDS     measure phase (default: 5)\n"
"      --warmup SECONDS       load before measuring (default: 1)\n"
"      --drain-timeout SECONDS\n"
"                             longest wait for messages in flight after the\n"
"                             measure phase (default: 5)\n"
"      --connect-concurrency N\n"
"                             connections being set up at once (default: 200)\n"
"      --connect-timeout SECONDS\n"
"                             longest connect phase (default: 30)\n"
"  -t, --threads T            load threads (default: 2)\n"
"      --proto chatd|irc|redis\n"
"                             server protocol (default: chatd, the line\n"
"                             protocol)\n"
"      --tls                  connect over TLS (1.2 or later); the server's\n"
"                             certificate is NOT verified unless --ca is given\n"
"      --ca FILE              with --tls: verify the server's certificate\n"
"                             against the CA certificates in FILE, and its\n"
"                             name against --host\n"
"      --insecure             with --tls: do not verify (the default; says so)\n"
"      --server-pid PID       report the server's VmRSS before connecting and\n"
"                             after the measure phase\n"
"      --json                 print the summary as one JSON object\n"
"  -q, --quiet                no progress lines on stderr\n"
"  -h, --help                 show this help and exit\n"
"  -V, --version              show the version and exit\n"
"\n"
"A message is in flight from when it is sent until chatd echoes it back to\n"
"its sender.  With --proto redis the N receivers SUBSCRIBE to channel\n"
"\"bench\" and the S senders are S more connections that PUBLISH; a message\n"
"is in flight until it reaches one chosen receiver of its room served by the\n"
"same thread as its sender (the reply to PUBLISH only says Redis has queued\n"
"it).  Either way, in one room, every message is owed to N receivers.\n"
"\n"
"With --proto irc client i registers as \"b<i>\" and joins \"#r0\", and the\n"
"S senders among the N send PRIVMSG to it.  An IRC server sends a sender\n"
"nothing of its own, so in one room a message is owed to N - 1 receivers,\n"
"and it is in flight until it reaches a chosen receiver as with Redis.\n"
"\n"
"With --rooms R, receiver i and sender i are in room K = i %% R.  With chatd\n"
"client i sends \"/join #rK\" then \"/part #lobby\", and is ready once chatd\n"
"has confirmed both; with IRC it joins \"#rK\"; with Redis, receiver i\n"
"subscribes to channel \"rK\" and sender i publishes to it.  Senders 0..R-1\n"
"each open a room, so every room\n"
"with a sender has receivers; a message is owed to its room's receivers\n"
"only, and one that reaches another room counts as misrouted.\n"
"\n"
"--tls changes the transport only: what is sent and counted is the same.\n"
"\n"
"Exit status: 0 when the run completed (loss is in the figures), 1 when it\n"
"could not run, 2 on a usage error.  See chat-bench(1).\n",
	    BENCH_PAYLOAD_MIN);
}

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static double
secs(uint64_t ns)
{
	return (double)ns / NS_PER_S;
}

/* Errors about single connections: the first few only, from any thread. */
static void __attribute__((format(printf, 1, 2)))
report(const char *fmt, ...)
{
	va_list		ap;
	unsigned	n;
	char		buf[512];

	n = atomic_fetch_add_explicit(&reports, 1, memory_order_relaxed);
	if (n > MAX_REPORTS)
		return;
	if (n == MAX_REPORTS) {
		fprintf(stderr, "%s: (further errors not shown)\n", progname);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", progname, buf);
}

/* The printable start of a line, for error messages. */
static const char *
shorten(const char *p, size_t len, char *buf, size_t size)
{
	size_t	i;

	if (len > size - 1)
		len = size - 1;
	for (i = 0; i < len; i++)
		buf[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
	buf[len] = '\0';
	return buf;
}

/* Parse a decimal in [min, max]; on error name the option and value. */
static int
parse_uint(const char *opt, const char *arg, uintmax_t min, uintmax_t max,
    uintmax_t *out)
{
	char		*end;
	uintmax_t	 v;

	errno = 0;
	if (arg[0] < '0' || arg[0] > '9')
		goto bad;
	v = strtoumax(arg, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	fprintf(stderr, "%s: --%s: '%s' is not a number from %ju to %ju\n",
	    progname, opt, arg, min, max);
	return -1;
}

/* PORT[,PORT...], at most PORTS_MAX of 1 to 65535. */
static int
parse_ports(const char *name, const char *arg)
{
	char		 one[8];
	const char	*p = arg, *comma;
	uintmax_t	 u;
	size_t		 n = 0, len;

	do {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (len == 0 || len >= sizeof one || ++n > PORTS_MAX) {
			fprintf(stderr, "%s: --%s: '%s' is not a port or a list "
			    "of at most %d ports\n", progname, name, arg,
			    PORTS_MAX);
			return -1;
		}
		memcpy(one, p, len);
		one[len] = '\0';
		if (parse_uint(name, one, 1, 65535, &u) == -1)
			return -1;
		p = comma != NULL ? comma + 1 : NULL;
	} while (p != NULL);
	return 0;
}

static int
parse_real(const char *opt, const char *arg, double min, double max,
    double *out)
{
	char	*end;
	double	 v;

	errno = 0;
	if ((arg[0] < '0' || arg[0] > '9') && arg[0] != '.')
		goto bad;
	v = strtod(arg, &end);
	if (errno != 0 || *end != '\0' || !(v >= min && v <= max))
		goto bad;
	*out = v;
	return 0;
bad:
	fprintf(stderr, "%s: --%s: '%s' is not a number from %g to %g\n",
	    progname, opt, arg, min, max);
	return -1;
}

enum {
	OPT_UNIX = 256,
	OPT_SIZE,
	OPT_WARMUP,
	OPT_DRAIN_TIMEOUT,
	OPT_CONNECT_CONCURRENCY,
	OPT_CONNECT_TIMEOUT,
	OPT_PROTO,
	OPT_SERVER_PID,
	OPT_JSON,
	OPT_ROOMS,
	OPT_TLS,
	OPT_CA,
	OPT_INSECURE
};

static const struct option long_options[] = {
	{ "clients",		required_argument,	NULL, 'n' },
	{ "senders",		required_argument,	NULL, 's' },
	{ "rooms",		required_argument,	NULL, OPT_ROOMS },
	{ "host",		required_argument,	NULL, 'H' },
	{ "port",		required_argument,	NULL, 'p' },
	{ "unix",		required_argument,	NULL, OPT_UNIX },
	{ "size",		required_argument,	NULL, OPT_SIZE },
	{ "rate",		required_argument,	NULL, 'r' },
	{ "window",		required_argument,	NULL, 'w' },
	{ "duration",		required_argument,	NULL, 'd' },
	{ "warmup",		required_argument,	NULL, OPT_WARMUP },
	{ "drain-timeout",	required_argument,	NULL,
	    OPT_DRAIN_TIMEOUT },
	{ "connect-concurrency", required_argument,	NULL,
	    OPT_CONNECT_CONCURRENCY },
	{ "connect-timeout",	required_argument,	NULL,
	    OPT_CONNECT_TIMEOUT },
	{ "threads",		required_argument,	NULL, 't' },
	{ "proto",		required_argument,	NULL, OPT_PROTO },
	{ "server-pid",		required_argument,	NULL, OPT_SERVER_PID },
	{ "json",		no_argument,		NULL, OPT_JSON },
	{ "tls",		no_argument,		NULL, OPT_TLS },
	{ "ca",			required_argument,	NULL, OPT_CA },
	{ "insecure",		no_argument,		NULL, OPT_INSECURE },
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};

static const char *
option_name(int val)
{
	const struct option	*lo;

	for (lo = long_options; lo->name != NULL; lo++)
		if (lo->val == val)
			return lo->name;
	return "?";
}

/* One option with an argument; -1 after a message on error. */
static int
set_option(struct config *c, int ch, const char *arg, bool *window_set)
{
	const char	*name = option_name(ch);
	uintmax_t	 u;

	switch (ch) {
	case 'n':
		if (parse_uint(name, arg, 1, MAX_CLIENTS, &u) == -1)
			return -1;
		c->clients = (uint32_t)u;
		return 0;
	case 's':
		if (parse_uint(name, arg, 1, MAX_CLIENTS, &u) == -1)
			return -1;
		c->senders = (uint32_t)u;
		return 0;
	case OPT_ROOMS:
		if (parse_uint(name, arg, 1, MAX_CLIENTS, &u) == -1)
			return -1;
		c->rooms = (uint32_t)u;
		return 0;
	case 'H':
		if (arg[0] == '\0') {
			fprintf(stderr, "%s: --host: empty name\n", progname);
			return -1;
		}
		c->host = arg;
		return 0;
	case 'p':
		if (parse_ports(name, arg) == -1)
			return -1;
		c->port = arg;
		return 0;
	case OPT_UNIX:
		if (arg[0] == '\0' ||
		    strlen(arg) >= sizeof ((struct sockaddr_un *)0)->sun_path) {
			fprintf(stderr, "%s: --unix: '%s' is empty or too "
			    "long\n", progname, arg);
			return -1;
		}
		c->unix_path = arg;
		return 0;
	case OPT_SIZE:
		if (parse_uint(name, arg, BENCH_PAYLOAD_MIN, BENCH_PAYLOAD_MAX,
		    &u) == -1)
			return -1;
		c->size = (size_t)u;
		return 0;
	case 'r':
		return parse_real(name, arg, 0.001, 1e8, &c->rate);
	case 'w':
		if (parse_uint(name, arg, 1, 1000000, &u) == -1)
			return -1;
		c->window = (uint32_t)u;
		*window_set = true;
		return 0;
	case 'd':
		return parse_real(name, arg, 0.001, 86400, &c->duration);
	case OPT_WARMUP:
		return parse_real(name, arg, 0, 86400, &c->warmup);
	case OPT_DRAIN_TIMEOUT:
		return parse_real(name, arg, 0, 86400, &c->drain_timeout);
	case OPT_CONNECT_CONCURRENCY:
		if (parse_uint(name, arg, 1, MAX_CLIENTS, &u) == -1)
			return -1;
		c->connect_concurrency = (uint32_t)u;
		return 0;
	case OPT_CONNECT_TIMEOUT:
		return parse_real(name, arg, 0.001, 86400,
		    &c->connect_timeout);
	case 't':
		if (parse_uint(name, arg, 1, MAX_THREADS, &u) == -1)
			return -1;
		c->threads = (uint32_t)u;
		return 0;
	case OPT_PROTO:
		if (strcmp(arg, "chatd") == 0)
			c->proto = PROTO_CHATD;
		else if (strcmp(arg, "redis") == 0)
			c->proto = PROTO_REDIS;
		else if (strcmp(arg, "irc") == 0)
			c->proto = PROTO_IRC;
		else {
			fprintf(stderr, "%s: --proto: '%s' is not chatd, irc "
			    "or redis\n", progname, arg);
			return -1;
		}
		return 0;
	case OPT_CA:
		if (arg[0] == '\0') {
			fprintf(stderr, "%s: --ca: empty file name\n",
			    progname);
			return -1;
		}
		c->ca_file = arg;
		return 0;
	case OPT_SERVER_PID:
		if (parse_uint(name, arg, 1, INT32_MAX, &u) == -1)
			return -1;
		c->server_pid = (long)u;
		return 0;
	}
	return -1;
}

/* 0 to run, 1 after --help or --version, 2 after a usage error. */
static int
parse_args(struct config *c, int argc, char **argv)
{
	bool	window_set = false, insecure = false;
	int	ch;

	memset(c, 0, sizeof *c);
	c->clients = 100;
	c->senders = 10;
	c->rooms = 1;
	c->threads = 2;
	c->host = "127.0.0.1";
	c->port = "7777";
	c->size = 64;
	c->window = 64;
	c->duration = 5;
	c->warmup = 1;
	c->drain_timeout = 5;
	c->connect_concurrency = 200;
	c->connect_timeout = 30;
	c->proto = PROTO_CHATD;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":n:s:H:p:r:w:d:t:qhV",
	    long_options, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("chat-bench %s\n", PACKAGE_VERSION);
			return 1;
		case 'q':
			c->quiet = true;
			break;
		case OPT_JSON:
			c->json = true;
			break;
		case OPT_TLS:
			c->tls = true;
			break;
		case OPT_INSECURE:
			insecure = true;
			break;
		case ':':
			fprintf(stderr, "%s: option '%s' needs an argument\n",
			    progname, argv[optind - 1]);
			goto usage;
		case '?':
			fprintf(stderr, "%s: unknown option '%s'\n", progname,
			    argv[optind - 1]);
			goto usage;
		default:
			if (set_option(c, ch, optarg, &window_set) == -1)
				goto usage;
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", progname,
		    argv[optind]);
		goto usage;
	}
	if (c->senders > c->clients) {
		fprintf(stderr, "%s: --senders (%" PRIu32 ") is more than "
		    "--clients (%" PRIu32 ")\n", progname, c->senders,
		    c->clients);
		goto usage;
	}
	/* An empty room would owe nothing and measure nothing. */
	if (c->rooms > c->clients) {
		fprintf(stderr, "%s: --rooms (%" PRIu32 ") is more than "
		    "--clients (%" PRIu32 ")\n", progname, c->rooms,
		    c->clients);
		goto usage;
	}
	if (c->senders > BENCH_SENDERS_MAX) {
		fprintf(stderr, "%s: --senders: at most %d\n", progname,
		    BENCH_SENDERS_MAX);
		goto usage;
	}
	if (c->rate > 0 && window_set) {
		fprintf(stderr, "%s: --rate (open loop) and --window (closed "
		    "loop) exclude each other\n", progname);
		goto usage;
	}
	if ((c->ca_file != NULL || insecure) && !c->tls) {
		fprintf(stderr, "%s: --%s goes with --tls\n", progname,
		    insecure ? "insecure" : "ca");
		goto usage;
	}
	if (c->ca_file != NULL && insecure) {
		fprintf(stderr, "%s: --ca (verify) and --insecure (do not) "
		    "exclude each other\n", progname);
		goto usage;
	}
#ifndef HAVE_TLS
	if (c->tls) {
		fprintf(stderr, "%s: --tls: this chat-bench was built without "
		    "TLS (configure --without-tls)\n", progname);
		goto usage;
	}
#endif
	if (c->rate > 0)
		c->window = 0;
	return 0;
usage:
	fprintf(stderr, "Try 'chat-bench --help' for more information.\n");
	return 2;
}

/* VmRSS of a process in kB, or -1. */
static long
read_rss(long pid)
{
	char	 path[64], line[256];
	FILE	*f;
	long	 kb = -1;

	snprintf(path, sizeof path, "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

static int
resolve_port(struct bench *b, const char *port)
{
	const struct config	*cfg = b->cfg;
	struct addrinfo		 hints, *res;
	int			 error;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((error = getaddrinfo(cfg->host, port, &hints, &res)) != 0) {
		fprintf(stderr, "%s: %s port %s: %s\n", progname, cfg->host,
		    port, gai_strerror(error));
		return -1;
	}
	memcpy(&b->addr[b->naddr], res->ai_addr, res->ai_addrlen);
	b->addrlen[b->naddr++] = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int
resolve(struct bench *b)
{
	const struct config	*cfg = b->cfg;
	struct sockaddr_un	*sun;
	char			 host[INET6_ADDRSTRLEN], port[8];
	const char		*p, *comma;
	size_t			 len;

	if (cfg->unix_path != NULL) {
		sun = (struct sockaddr_un *)&b->addr[0];
		sun->sun_family = AF_UNIX;
		snprintf(sun->sun_path, sizeof sun->sun_path, "%s",
		    cfg->unix_path);
		b->addrlen[0] = sizeof *sun;
		b->naddr = 1;
		snprintf(b->target, sizeof b->target, "unix:%s",
		    cfg->unix_path);
		return 0;
	}
	/* parse_ports() checked the list. */
	for (p = cfg->port; p != NULL; p = comma != NULL ? comma + 1 : NULL) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		snprintf(port, sizeof port, "%.*s", (int)len, p);
		if (resolve_port(b, port) == -1)
			return -1;
	}
	if (getnameinfo((struct sockaddr *)&b->addr[0], b->addrlen[0], host,
	    sizeof host, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(host, sizeof host, "%s", cfg->host);
	snprintf(b->target, sizeof b->target,
	    b->addr[0].ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host,
	    cfg->port);
	return 0;
}

/*
 * The client context: TLS 1.2 or later, OpenSSL's default ciphers, and
 * verification only if asked.  Partial writes, a buffer that moves
 * (flush() compacts it) and buffers released when idle (c10k).
 */
#ifdef HAVE_TLS
static SSL_CTX *
tls_ctx_new(const struct config *cfg)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		fprintf(stderr, "%s: cannot set up TLS\n", progname);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	/* A server that closes without close_notify has still closed. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (cfg->ca_file != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, cfg->ca_file,
		    NULL) != 1) {
			fprintf(stderr, "%s: --ca: cannot load %s\n", progname,
			    cfg->ca_file);
			SSL_CTX_free(ctx);
			return NULL;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
}
#endif

/* The first thread's context, made early so that a bad --ca is told. */
static int
tls_init(struct bench *b)
{
#ifdef HAVE_TLS
	if (b->cfg->tls && (b->tls_ctx = tls_ctx_new(b->cfg)) == NULL)
		return -1;
#else
	(void)b;
#endif
	return 0;
}

static long
raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > LONG_MAX)
		return LONG_MAX;
	return (long)rl.rlim_cur;
}

/* ---- Per-connection plumbing, run by the owning thread only. ---- */

static bool
is_sender(const struct bconn *c)
{
	return c->tx >= 0;
}

static size_t
out_pending(const struct bconn *c)
{
	return c->out_len - c->out_off;
}

/* Messages still in our buffer; a partly written one counts as unsent. */
static uint64_t
unsent(const struct bconn *c)
{
	return (out_pending(c) + c->msg_len - 1) / c->msg_len;
}

/* The drain's count of ready receivers per busy room. */
static void
room_alive_add(struct bthread *t, const struct bconn *c, int delta)
{
	struct bench	*b = t->b;

	if (c->rx < 0 || c->room >= b->nbusy)
		return;
	if (delta > 0)
		atomic_fetch_add_explicit(&b->room_alive[c->room], 1,
		    memory_order_relaxed);
	else
		atomic_fetch_sub_explicit(&b->room_alive[c->room], 1,
		    memory_order_relaxed);
}

static void
set_events(struct bthread *t, struct bconn *c, bool out)
{
	struct epoll_event	ev;

	if (out == c->want_out)
		return;
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | (out ? EPOLLOUT : 0);
	ev.data.ptr = c;
	if (epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->want_out = out;
}

static void
conn_kill(struct bthread *t, struct bconn *c, const char *what,
    const char *detail)
{
	if (c->state == CS_DEAD)
		return;
	switch (c->state) {
	case CS_CONNECTING:
	case CS_HANDSHAKE:
	case CS_WELCOME:
	case CS_JOINING:
	case CS_PARTING:
		t->connecting--;
		__attribute__((fallthrough));	/* clang ignores the comment */
	case CS_IDLE:
		t->l[C_FAILED]++;
		break;
	case CS_READY:
		t->l[C_DISCONNECTS]++;
		if (c->rx >= 0) {
			t->l[C_ALIVE_RX]--;
			t->l[C_DISTINCT_ALIVE] -= c->track.distinct;
			room_alive_add(t, c, -1);
		}
		if (is_sender(c))
			t->l[C_READY_TX]--;
		break;
	}
	if (what != NULL)
		report("connection %" PRIu32 ": %s%s%s", c->id, what,
		    detail != NULL ? ": " : "", detail != NULL ? detail : "");
#ifdef HAVE_TLS
	/* No close_notify: the socket goes, and the server sees the end. */
	SSL_free(c->ssl);
	c->ssl = NULL;
#endif
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->state = CS_DEAD;
}

/* ---- Transport: the socket, or TLS over it. ---- */

static bool
is_tls(const struct bconn *c)
{
#ifdef HAVE_TLS
	return c->ssl != NULL;
#else
	(void)c;
	return false;
#endif
}

/* Why the last io_read() or io_write() failed, for a report. */
static const char *
io_error(const struct bconn *c, char *buf, size_t size)
{
#ifdef HAVE_TLS
	unsigned long	e;

	if (is_tls(c) && (e = ERR_peek_last_error()) != 0) {
		ERR_error_string_n(e, buf, size);
		ERR_clear_error();
		return buf;
	}
#else
	(void)c;
	(void)buf;
	(void)size;
#endif
	return strerror(errno);
}

#ifdef HAVE_TLS
/*
 * An SSL_read() or SSL_write() that did not go through, as errno.  A
 * read that must write first, or a write that must read, says so.
 */
static ssize_t
tls_failed(struct bconn *c, int n, bool reading)
{
	switch (SSL_get_error(c->ssl, n)) {
	case SSL_ERROR_WANT_READ:
		if (!reading)
			c->write_wants_read = true;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		if (reading)
			c->read_wants_write = true;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno == 0)
			errno = ECONNRESET;
		return -1;
	default:
		errno = EPROTO;
		return -1;
	}
}
#endif

/*
 * recv(2) through TLS if it is on: bytes, 0 at the end, or -1 with
 * errno, EAGAIN to wait (for EPOLLOUT if c->read_wants_write).
 */
static ssize_t
io_read(struct bconn *c, void *buf, size_t len)
{
#ifdef HAVE_TLS
	int	n;

	if (is_tls(c)) {
		ERR_clear_error();
		n = SSL_read(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
		if (n > 0)
			return n;
		return tls_failed(c, n, true);
	}
#endif
	return recv(c->fd, buf, len, 0);
}

/*
 * send(2) through TLS if it is on.  Partial writes are on and the
 * buffer may move (tls_init()), so a retry with what is left, or more,
 * is what SSL_write() asks of us.
 */
static ssize_t
io_write(struct bconn *c, const void *buf, size_t len)
{
#ifdef HAVE_TLS
	int	n;

	if (is_tls(c)) {
		ERR_clear_error();
		n = SSL_write(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
		if (n > 0)
			return n;
		n = (int)tls_failed(c, n, false);
		if (n == 0) {
			errno = EPIPE;
			n = -1;
		}
		return n;
	}
#endif
	return send(c->fd, buf, len, MSG_NOSIGNAL);
}

/* Decrypted bytes, or a record, that OpenSSL holds and epoll cannot see. */
static bool
io_pending(const struct bconn *c)
{
#ifdef HAVE_TLS
	return is_tls(c) && SSL_has_pending(c->ssl);
#else
	(void)c;
	return false;
#endif
}

static int
out_reserve(struct bconn *c, size_t need)
{
	size_t	 cap;
	char	*p;

	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + need <= c->out_cap)
		return 0;
	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, out_pending(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
		if (c->out_len + need <= c->out_cap)
			return 0;
	}
	cap = c->out_cap == 0 ? 4096 : c->out_cap;
	while (cap < c->out_len + need)
		cap *= 2;
	if ((p = realloc(c->out, cap)) == NULL)
		return -1;
	c->out = p;
	c->out_cap = cap;
	return 0;
}

/* Write what we can; the rest waits for EPOLLOUT. */
static void
flush(struct bthread *t, struct bconn *c)
{
	ssize_t	n;

	char	buf[160];

	c->write_wants_read = false;
	while (c->state != CS_DEAD && out_pending(c) > 0) {
		n = io_write(c, c->out + c->out_off, out_pending(c));
		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* TLS may need to read first: read_conn() retries. */
			set_events(t, c, !c->write_wants_read ||
			    c->read_wants_write);
			return;
		}
		conn_kill(t, c, "send", io_error(c, buf, sizeof buf));
		return;
	}
	if (c->state != CS_DEAD)
		set_events(t, c, c->read_wants_write);
}

static int
queue_bytes(struct bconn *c, const char *p, size_t len)
{
	if (out_reserve(c, len) == -1)
		return -1;
	memcpy(c->out + c->out_len, p, len);
	c->out_len += len;
	return 0;
}

/* Append one message with timestamp ts to a sender's buffer. */
static int
gen_msg(struct bthread *t, struct bconn *c, uint64_t ts)
{
	struct bench		*b = t->b;
	struct bench_msg	 m;
	char			*p;

	if (out_reserve(c, c->msg_len + 1) == -1)
		return -1;
	p = c->out + c->out_len;
	if (c->pub_hdr != NULL) {
		memcpy(p, c->pub_hdr, c->pub_hdr_len);
		p += c->pub_hdr_len;
	}
	m.sender = (uint32_t)c->tx;
	m.seq = c->seq;
	m.ts_ns = ts;
	if (bench_payload_encode(p, c->out_cap - (size_t)(p - c->out),
	    b->cfg->size, &m) != b->cfg->size)
		return -1;
	p += b->cfg->size;
	if (b->cfg->proto != PROTO_CHATD)
		*p++ = '\r';
	*p = '\n';
	c->out_len += c->msg_len;
	c->seq++;
	t->l[C_SENT]++;
	if (ts >= b->t_measure && ts < b->t_end)
		t->l[C_SENT_MEASURE]++;
	return 0;
}

/* Closed loop: top the sender's window up, then write the batch. */
static void
fill_window(struct bthread *t, struct bconn *c)
{
	uint32_t	window = t->b->cfg->window;
	uint64_t	now;

	if (!t->loading || c->state != CS_READY || c->seq - c->acked >= window)
		return;
	now = now_ns();
	if (now >= t->b->t_end)
		return;
	while (c->seq - c->acked < window) {
		if (gen_msg(t, c, now) == -1) {
			conn_kill(t, c, "out of memory", NULL);
			return;
		}
	}
	flush(t, c);
}

static void
arm_timer(struct bthread *t, uint64_t at)
{
	struct itimerspec	its;

	memset(&its, 0, sizeof its);
	its.it_value.tv_sec = (time_t)(at / NS_PER_S);
	its.it_value.tv_nsec = (long)(at % NS_PER_S);
	timerfd_settime(t->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/*
 * Open loop: generate every message whose slot has come, each stamped
 * with its slot time, not the time we got round to it, so that any
 * delay on our side or back-pressure from the server shows up in the
 * latency instead of silently lowering the rate.
 */
static void
pace(struct bthread *t)
{
	struct bench	*b = t->b;
	struct bconn	*c;
	uint64_t	 now, due = 0;
	bool		 blocked = false;
	size_t		 i;

	if (!t->loading || t->nsenders == 0)
		return;
	now = now_ns();
	for (;;) {
		due = t->due0 + (uint64_t)((double)t->k * t->interval);
		if (due >= b->t_end || due > now)
			break;
		c = t->senders[t->k % t->nsenders];
		if (c->state != CS_READY) {
			t->k++;
			continue;
		}
		if (out_pending(c) >= OUT_BACKLOG) {
			blocked = true;
			break;
		}
		if (gen_msg(t, c, due) == -1) {
			conn_kill(t, c, "out of memory", NULL);
			continue;
		}
		t->k++;
	}
	for (i = 0; i < t->nsenders; i++) {
		c = t->senders[i];
		if (c->state == CS_READY && !c->want_out && out_pending(c) > 0)
			flush(t, c);
	}
	if (blocked)
		arm_timer(t, now + NS_PER_MS);
	else if (due < b->t_end)
		arm_timer(t, due);
}

static void
ready(struct bthread *t, struct bconn *c)
{
	c->state = CS_READY;
	c->welcomed = true;
	t->connecting--;
	t->l[C_WELCOMED]++;
	if (c->rx >= 0) {
		t->l[C_ALIVE_RX]++;
		room_alive_add(t, c, 1);
	}
	if (is_sender(c))
		t->l[C_READY_TX]++;
}

/* A payload arrived at receiver c at time now. */
static void
arrival(struct bthread *t, struct bconn *c, const char *p, size_t len,
    uint64_t now)
{
	struct bench		*b = t->b;
	struct bench_msg	 m;
	struct bconn		*s;
	enum bench_arrival	 a;
	char			 buf[80];

	if (bench_payload_decode(p, len, &m) == -1 || len != b->cfg->size) {
		if (t->l[C_MALFORMED]++ == 0)
			report("connection %" PRIu32 ": malformed payload "
			    "\"%s\"", c->id, shorten(p, len, buf, sizeof buf));
		return;
	}
	a = bench_rx_add(&c->track, m.sender, m.seq);
	if (a == BENCH_MISROUTED) {
		if (t->l[C_MISROUTED]++ == 0)
			report("connection %" PRIu32 " in room %" PRIu32
			    ": got a message of sender %" PRIu32 ", in room %"
			    PRIu32, c->id, c->room, m.sender,
			    bench_room_of(m.sender, b->cfg->rooms));
		return;
	}
	if (a == BENCH_OWN_ECHO)
		return;
	if (a == BENCH_BAD_SENDER || a == BENCH_NOMEM) {
		t->l[C_MALFORMED]++;
		return;
	}
	t->l[C_DELIV]++;
	if (now >= b->t_measure && now < b->t_end)
		t->l[C_DELIV_MEASURE]++;
	if (a == BENCH_DUPLICATE)
		return;
	t->l[C_DISTINCT_ALIVE]++;
	if (m.ts_ns >= b->t_measure && m.ts_ns < b->t_end && now >= m.ts_ns)
		bench_hist_add(t->hist, now - m.ts_ns);
	/* chatd: the sender's own echo closes its window slot. */
	if ((int64_t)m.sender == c->tx && c->acked < c->seq)
		c->acked++;
	/* redis, IRC: so does the arrival at the sender's chosen receiver. */
	if (c->acker && m.sender < b->cfg->senders &&
	    (s = b->sender_conn[m.sender])->thread == t->idx &&
	    s->ack_rx == c && s->acked < s->seq)
		s->acked++;
}

static void
server_error(struct bthread *t, struct bconn *c, const char *p, size_t len)
{
	char	buf[128];

	t->l[C_SERVER_ERRORS]++;
	report("connection %" PRIu32 ": server says \"%s\"", c->id,
	    shorten(p, len, buf, sizeof buf));
}

/*
 * The name of a connection's room: "#rK" for chatd and IRC, channel
 * "rK" for Redis, or Redis's one channel when there are no rooms.
 */
static size_t
room_name(const struct bench *b, const struct bconn *c, char *buf,
    size_t size)
{
	int	n;

	if (b->cfg->proto == PROTO_REDIS && b->cfg->rooms <= 1)
		n = snprintf(buf, size, "%s", REDIS_CHANNEL);
	else
		n = snprintf(buf, size, "%sr%" PRIu32,
		    b->cfg->proto != PROTO_REDIS ? "#" : "", c->room);
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

/*
 * Is the line "PREFIX NAME" or "PREFIX NAME ..."?  Room names compare
 * ASCII-case-insensitively and hold no space.
 */
static bool
is_about_room(const char *p, size_t len, const char *prefix,
    const char *name, size_t namelen)
{
	size_t	n = strlen(prefix);

	return len >= n + namelen && memcmp(p, prefix, n) == 0 &&
	    strncasecmp(p + n, name, namelen) == 0 &&
	    (len == n + namelen || p[n + namelen] == ' ');
}

/* Queue a command and send it; the caller checks for a dead c. */
static void
send_command(struct bthread *t, struct bconn *c, const char *cmd, size_t len)
{
	if (queue_bytes(c, cmd, len) == -1) {
		conn_kill(t, c, "out of memory", NULL);
		return;
	}
	flush(t, c);
}

/*
 * A chatd client until it is ready: the welcome, then with rooms the
 * replies to /join and to /part.  What else comes meanwhile is skipped:
 * notices about others ("-- NICK joined", "#lobby -- NICK left"), the
 * topic and history of the room joined.  An error refuses the command.
 */
static void
chatd_setup_line(struct bthread *t, struct bconn *c, const char *p,
    size_t len)
{
	static const char	 welcome[] = "-- welcome to chatd, you are ";
	static const char	 part[] = "/part " LOBBY "\n";
	char			 name[NAME_MAX_LEN], cmd[NAME_MAX_LEN + 16];
	char			 buf[128];
	size_t			 n;
	int			 k;

	switch (c->state) {
	case CS_WELCOME:
		if (len < sizeof welcome - 1 ||
		    memcmp(p, welcome, sizeof welcome - 1) != 0) {
			conn_kill(t, c, "expected the welcome, got",
			    shorten(p, len, buf, sizeof buf));
			return;
		}
		if (t->b->cfg->rooms <= 1) {
			ready(t, c);
			return;
		}
		room_name(t->b, c, name, sizeof name);
		k = snprintf(cmd, sizeof cmd, "/join %s\n", name);
		c->state = CS_JOINING;
		send_command(t, c, cmd, (size_t)k);
		return;
	case CS_JOINING:
		/* "-- now talking in #rK (N online)" */
		n = room_name(t->b, c, name, sizeof name);
		if (is_about_room(p, len, "-- now talking in ", name, n)) {
			c->state = CS_PARTING;
			send_command(t, c, part, sizeof part - 1);
			return;
		}
		break;
	case CS_PARTING:
		if (is_about_room(p, len, "-- you left ", LOBBY,
		    sizeof LOBBY - 1)) {
			ready(t, c);
			return;
		}
		break;
	default:
		return;
	}
	if (len >= 3 && memcmp(p, "!! ", 3) == 0)
		conn_kill(t, c, c->state == CS_JOINING ? "the server refused "
		    "/join" : "the server refused /part " LOBBY,
		    shorten(p, len, buf, sizeof buf));
}

static void
chatd_line(struct bthread *t, struct bconn *c, const char *p, size_t len,
    uint64_t now)
{
	const char	*gt, *sp;
	char		 buf[128];

	if (c->state != CS_READY) {
		chatd_setup_line(t, c, p, len);
		return;
	}
	if (len > 0 && p[0] == '<') {
		/* "<NICK> TEXT": a nickname never holds '>'. */
		if ((gt = memchr(p, '>', len)) == NULL ||
		    (size_t)(gt - p) + 2 > len || gt[1] != ' ') {
			t->l[C_MALFORMED]++;
			return;
		}
		arrival(t, c, gt + 2, len - (size_t)(gt + 2 - p), now);
	} else if (len >= 3 && memcmp(p, "!! ", 3) == 0)
		server_error(t, c, p, len);
	else if (len > 0 && p[0] == '#' &&
	    (sp = memchr(p, ' ', len)) != NULL && sp + 1 < p + len &&
	    sp[1] == '<') {
		/*
		 * "#room <NICK> TEXT": chat from a room this client is in
		 * but not talking in.  Each client is in one room only.
		 */
		if (t->l[C_MISROUTED]++ == 0)
			report("connection %" PRIu32 ": a line from another "
			    "room: \"%s\"", c->id, shorten(p, len, buf,
			    sizeof buf));
	}
	/* "-- " notices, "#room -- " notices, history are not ours. */
}

/* A decimal after a RESP type byte. */
static int
resp_int(const char *p, size_t len, int64_t *out)
{
	int64_t	v = 0;
	size_t	i = 1;
	bool	neg = false;

	if (i < len && p[i] == '-') {
		neg = true;
		i++;
	}
	if (i == len || len - i > 18)
		return -1;
	for (; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

/* One element of a RESP array: a bulk string's data or an integer. */
static void
resp_element(struct bthread *t, struct bconn *c, const char *p, size_t len,
    uint64_t now)
{
	int	idx = c->resp_idx++;

	c->resp_left--;
	if (idx == 0 && p != NULL) {
		if (len == 7 && memcmp(p, "message", 7) == 0)
			c->resp_kind = RK_MESSAGE;
		else if (len == 9 && memcmp(p, "subscribe", 9) == 0)
			c->resp_kind = RK_SUBSCRIBE;
	} else if (idx == 2 && c->resp_kind == RK_MESSAGE && p != NULL &&
	    c->state == CS_READY)
		arrival(t, c, p, len, now);
	else if (idx == 2 && c->resp_kind == RK_SUBSCRIBE &&
	    c->state == CS_WELCOME)
		ready(t, c);
}

/* Lines of RESP: our payloads hold no CR or LF, so bulks are lines. */
static void
redis_line(struct bthread *t, struct bconn *c, const char *p, size_t len,
    uint64_t now)
{
	int64_t	v;
	char	buf[128];

	if (c->resp_bulk >= 0) {
		if ((uint64_t)c->resp_bulk != len) {
			conn_kill(t, c, "RESP bulk of the wrong length", NULL);
			return;
		}
		c->resp_bulk = -1;
		resp_element(t, c, p, len, now);
		return;
	}
	if (len == 0) {
		conn_kill(t, c, "empty RESP line", NULL);
		return;
	}
	if (p[0] == '-') {
		server_error(t, c, p, len);
		if (c->state == CS_WELCOME)
			conn_kill(t, c, NULL, NULL);
		return;
	}
	if (p[0] != '+' && resp_int(p, len, &v) == -1) {
		conn_kill(t, c, "bad RESP line", shorten(p, len, buf,
		    sizeof buf));
		return;
	}
	switch (p[0]) {
	case '*':
		if (c->resp_left > 0 || v < 0 || v > 16) {
			conn_kill(t, c, "unexpected RESP array", NULL);
			return;
		}
		c->resp_left = (int)v;
		c->resp_idx = 0;
		c->resp_kind = RK_OTHER;
		return;
	case '$':
		if (v < 0) {
			if (c->resp_left > 0)
				resp_element(t, c, NULL, 0, now);
		} else
			c->resp_bulk = v;
		return;
	case ':':
		/* A top-level integer is the reply to a PUBLISH. */
		if (c->resp_left > 0)
			resp_element(t, c, NULL, 0, now);
		return;
	}
}

/* Is the channel p[0..len) "#rK" for c's room K?  Per delivery: no printf. */
static bool
is_my_channel(const struct bconn *c, const char *p, size_t len)
{
	uint64_t	v = 0;
	size_t		i;

	if (len < 3 || len > 12 || p[0] != '#' || (p[1] != 'r' &&
	    p[1] != 'R') || (p[2] == '0' && len > 3))
		return false;
	for (i = 2; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	return v == c->room;
}

/* Answer a PING whatever the state: a server drops the silent. */
static void
irc_pong(struct bthread *t, struct bconn *c, const struct bench_irc *m)
{
	const struct bench_irc_str	*token;
	char				 cmd[600];
	int				 n;

	if (m->nparams == 0)
		n = snprintf(cmd, sizeof cmd, "PONG\r\n");
	else {
		token = &m->params[m->nparams - 1];
		n = snprintf(cmd, sizeof cmd, "PONG :%.*s\r\n",
		    (int)token->len, token->p);
	}
	if (n > 0 && (size_t)n < sizeof cmd)
		send_command(t, c, cmd, (size_t)n);
}

/*
 * Does this line refuse a client that is still setting up?  ERROR
 * does; before 001 an error numeric refuses the registration; after it,
 * only one about our channel refuses the JOIN ("403 nick #r0 :...").
 * 422, no MOTD, is an error numeric that every server without a MOTD
 * sends after 001 (chatd, by default), and refuses nothing.
 */
static bool
irc_refuses(const struct bconn *c, const struct bench_irc *m)
{
	if (bench_irc_is(m, "ERROR"))
		return true;
	if (m->numeric < 400 || m->numeric >= 600 || m->numeric == 422)
		return false;
	if (c->state == CS_WELCOME)
		return true;
	return m->nparams >= 2 && is_my_channel(c, m->params[1].p,
	    m->params[1].len);
}

/*
 * An IRC client until it is ready: 001 ends the registration, then the
 * end of the NAMES reply to JOIN (366 for our channel) says we are in
 * and have had what a join brings.  MOTD, NOTICEs and other JOINs are
 * skipped.
 */
static void
irc_setup_line(struct bthread *t, struct bconn *c, const struct bench_irc *m,
    const char *p, size_t len)
{
	char	name[NAME_MAX_LEN], cmd[NAME_MAX_LEN + 16], buf[128];
	int	k;

	if (irc_refuses(c, m)) {
		conn_kill(t, c, c->state == CS_WELCOME ? "the server refused "
		    "the registration" : "the server refused JOIN",
		    shorten(p, len, buf, sizeof buf));
		return;
	}
	switch (c->state) {
	case CS_WELCOME:
		if (m->numeric != 1)
			return;
		room_name(t->b, c, name, sizeof name);
		k = snprintf(cmd, sizeof cmd, "JOIN %s\r\n", name);
		c->state = CS_JOINING;
		send_command(t, c, cmd, (size_t)k);
		return;
	case CS_JOINING:
		if (m->numeric == 366 && m->nparams >= 2 &&
		    is_my_channel(c, m->params[1].p, m->params[1].len))
			ready(t, c);
		return;
	default:
		return;
	}
}

static void
irc_line(struct bthread *t, struct bconn *c, const char *p, size_t len,
    uint64_t now)
{
	struct bench_irc	m;
	char			buf[128];

	if (bench_irc_parse(p, len, &m) == -1) {
		if (len > 0)
			t->l[C_MALFORMED]++;
		return;
	}
	if (c->state == CS_READY && m.numeric == 0 &&
	    bench_irc_is(&m, "PRIVMSG")) {
		if (m.nparams != 2) {
			t->l[C_MALFORMED]++;
			return;
		}
		if (!is_my_channel(c, m.params[0].p, m.params[0].len)) {
			/* Another channel, or a private message. */
			if (t->l[C_MISROUTED]++ == 0)
				report("connection %" PRIu32 ": a PRIVMSG not "
				    "to our channel: \"%s\"", c->id,
				    shorten(p, len, buf, sizeof buf));
			return;
		}
		arrival(t, c, m.params[1].p, m.params[1].len, now);
		return;
	}
	if (bench_irc_is(&m, "PING")) {
		irc_pong(t, c, &m);
		return;
	}
	if (c->state != CS_READY) {
		irc_setup_line(t, c, &m, p, len);
		return;
	}
	if ((m.numeric >= 400 && m.numeric < 600) || bench_irc_is(&m, "ERROR"))
		server_error(t, c, p, len);
	/* JOIN, PART, QUIT, NOTICE, MODE and other numerics are not ours. */
}

static void
handle_line(struct bthread *t, struct bconn *c, const char *p, size_t len,
    uint64_t now)
{
	if (len > 0 && p[len - 1] == '\r')
		len--;
	switch (t->b->cfg->proto) {
	case PROTO_REDIS:
		redis_line(t, c, p, len, now);
		break;
	case PROTO_IRC:
		irc_line(t, c, p, len, now);
		break;
	default:
		chatd_line(t, c, p, len, now);
		break;
	}
}

/*
 * Split received bytes into lines with memchr.  Whole lines are handled
 * where they lie in the read buffer; only a line split across reads is
 * copied.
 */
static void
feed(struct bthread *t, struct bconn *c, const char *data, size_t len,
    uint64_t now)
{
	size_t		 max = t->b->line_max, seg;
	const char	*nl;

	while (len > 0 && c->state != CS_DEAD) {
		nl = memchr(data, '\n', len);
		seg = nl != NULL ? (size_t)(nl - data) : len;
		if (c->line_len > 0 || c->skipping || nl == NULL) {
			if (c->skipping || c->line_len + seg > max)
				c->skipping = true;
			else {
				if (c->line == NULL &&
				    (c->line = malloc(max)) == NULL) {
					conn_kill(t, c, "out of memory", NULL);
					return;
				}
				memcpy(c->line + c->line_len, data, seg);
				c->line_len += seg;
			}
			if (nl == NULL)
				return;
			if (c->skipping)
				t->l[C_MALFORMED]++;
			else
				handle_line(t, c, c->line, c->line_len, now);
			c->line_len = 0;
			c->skipping = false;
		} else
			handle_line(t, c, data, seg, now);
		data = nl + 1;
		len -= seg + 1;
	}
}

static void	read_conn(struct bthread *, struct bconn *);

/* OpenSSL holds bytes of c: read it again before the thread sleeps. */
static void
again_push(struct bthread *t, struct bconn *c)
{
	if (c->again || c->state == CS_DEAD || !io_pending(c))
		return;
	c->again = true;
	t->again[t->nagain++] = c;
}

/*
 * Each connection on the list at most once, so a connection read here
 * goes back at most once, and only to a slot already read.
 */
static void
run_again(struct bthread *t)
{
	size_t	i, n = t->nagain;
	struct bconn	*c;

	t->nagain = 0;
	for (i = 0; i < n; i++) {
		c = t->again[i];
		c->again = false;
		if (c->state != CS_DEAD)
			read_conn(t, c);
	}
}

static void
read_conn(struct bthread *t, struct bconn *c)
{
	ssize_t	n;
	size_t	i, got = 0;
	char	buf[160];

	c->read_wants_write = false;
	/* recv() takes what the kernel has; SSL_read() one record a time. */
	do {
		n = io_read(c, t->rbuf + got, RBUF_SIZE - got);
		if (n > 0)
			got += (size_t)n;
	} while (n > 0 && is_tls(c) && got < RBUF_SIZE);
	if (got > 0) {
		feed(t, c, t->rbuf, got, now_ns());
		if (c->state == CS_DEAD)
			return;
		if (c->write_wants_read)
			flush(t, c);
		if (c->read_wants_write)
			set_events(t, c, true);
		again_push(t, c);
		if (t->b->cfg->rate > 0)
			return;
		if (is_sender(c))
			fill_window(t, c);
		if (c->acker) {
			for (i = 0; i < t->nsenders; i++)
				if (t->senders[i]->ack_rx == c)
					fill_window(t, t->senders[i]);
		}
		return;
	}
	if (n == 0)
		conn_kill(t, c, "closed by the server", NULL);
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		conn_kill(t, c, "recv", io_error(c, buf, sizeof buf));
	else if (c->read_wants_write)
		set_events(t, c, true);
}

/*
 * The transport is up: chatd speaks first; an IRC client registers; a
 * redis receiver subscribes and a publisher is ready.
 */
static void
greet(struct bthread *t, struct bconn *c)
{
	int		n;
	char		name[NAME_MAX_LEN], sub[NAME_MAX_LEN + 64];
	size_t		namelen;

	c->state = CS_WELCOME;
	set_events(t, c, false);
	if (t->b->cfg->proto == PROTO_CHATD)
		return;
	if (t->b->cfg->proto == PROTO_IRC) {
		n = snprintf(sub, sizeof sub, "NICK b%" PRIu32 "\r\n"
		    "USER b 0 * :chat-bench\r\n", c->id);
		send_command(t, c, sub, (size_t)n);
		return;
	}
	if (c->rx < 0) {
		/* A publisher has no welcome. */
		ready(t, c);
		return;
	}
	namelen = room_name(t->b, c, name, sizeof name);
	n = snprintf(sub, sizeof sub, "*2\r\n$9\r\nSUBSCRIBE\r\n"
	    "$%zu\r\n%s\r\n", namelen, name);
	send_command(t, c, sub, (size_t)n);
}

#ifdef HAVE_TLS
/* One step of the handshake; greet() when it is done. */
static void
handshake(struct bthread *t, struct bconn *c)
{
	char	buf[160];
	int	n;

	ERR_clear_error();
	if ((n = SSL_connect(c->ssl)) == 1) {
		greet(t, c);
		return;
	}
	switch (SSL_get_error(c->ssl, n)) {
	case SSL_ERROR_WANT_READ:
		set_events(t, c, false);
		break;
	case SSL_ERROR_WANT_WRITE:
		set_events(t, c, true);
		break;
	default:
		if (errno == 0)
			errno = ECONNRESET;
		conn_kill(t, c, "TLS handshake", io_error(c, buf, sizeof buf));
		break;
	}
}

static void
tls_start(struct bthread *t, struct bconn *c)
{
	const struct config	*cfg = t->b->cfg;
	struct in6_addr		 a6;
	struct in_addr		 a4;

	if ((c->ssl = SSL_new(t->tls_ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1) {
		conn_kill(t, c, "TLS", "cannot set up a connection");
		return;
	}
	/* SNI is for names; the name is checked only with --ca. */
	if (cfg->unix_path == NULL && inet_pton(AF_INET, cfg->host, &a4) != 1 &&
	    inet_pton(AF_INET6, cfg->host, &a6) != 1)
		SSL_set_tlsext_host_name(c->ssl, cfg->host);
	if (cfg->ca_file != NULL && SSL_set1_host(c->ssl, cfg->unix_path ==
	    NULL ? cfg->host : "localhost") != 1) {
		conn_kill(t, c, "TLS", "cannot set the name to verify");
		return;
	}
	c->state = CS_HANDSHAKE;
	handshake(t, c);
}
#endif

static void
connected(struct bthread *t, struct bconn *c)
{
	socklen_t	len = sizeof(int);
	int		err = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		conn_kill(t, c, "connect", strerror(err));
		return;
	}
#ifdef HAVE_TLS
	if (t->b->cfg->tls) {
		tls_start(t, c);
		return;
	}
#endif
	greet(t, c);
}

static void
start_conn(struct bthread *t, struct bconn *c)
{
	struct bench		*b = t->b;
	struct epoll_event	 ev;
	int			 one = 1;
	size_t			 node = c->id % b->naddr;

	c->fd = socket(b->addr[node].ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		conn_kill(t, c, "socket", strerror(errno));
		return;
	}
	c->state = CS_CONNECTING;
	t->connecting++;
	/* Small messages must not wait for Nagle. */
	if (b->addr[node].ss_family != AF_UNIX)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(c->fd, (struct sockaddr *)&b->addr[node],
	    b->addrlen[node]) == -1 &&
	    errno != EINPROGRESS) {
		conn_kill(t, c, "connect", strerror(errno));
		return;
	}
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.ptr = c;
	if (epoll_ctl(t->ep, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		conn_kill(t, c, "epoll_ctl", strerror(errno));
		return;
	}
	c->want_out = true;
}

static void
start_connects(struct bthread *t)
{
	while (t->connecting < t->max_connecting &&
	    t->next_start < t->nconns)
		start_conn(t, t->conns[t->next_start++]);
}

/*
 * redis, IRC: the sender's window is closed by the arrivals at the
 * thread's first ready receiver in its room but itself, which keeps the
 * loop thread-local.  A redis sender j shares its thread with receiver
 * j, in its room (setup()); IRC sender j, receiver j itself, with
 * receiver j + lcm(R, threads) if there are that many clients.
 */
static void
choose_acker(struct bthread *t, struct bconn *s)
{
	struct bconn	*c;
	size_t		 i;

	for (i = 0; i < t->nconns; i++) {
		c = t->conns[i];
		if (c->rx >= 0 && c != s && c->state == CS_READY &&
		    c->room == s->room) {
			s->ack_rx = c;
			c->acker = true;
			return;
		}
	}
	if (t->b->cfg->rate == 0)
		report("sender %" PRId32 ": no receiver in its room to "
		    "acknowledge it", s->tx);
}

/*
 * The main thread has ended the connect phase: whatever is not ready
 * now failed to connect in time.  Then start sending.
 */
static void
start_load(struct bthread *t)
{
	struct bench	*b = t->b;
	struct bconn	*c;
	size_t		 i, n = 0;

	t->load_started = true;
	for (i = 0; i < t->nconns; i++) {
		c = t->conns[i];
		if (c->state != CS_READY && c->state != CS_DEAD)
			conn_kill(t, c, c->state == CS_IDLE ? NULL :
			    "not ready when the connect phase ended", NULL);
	}
	for (i = 0; i < t->nsenders; i++) {
		if (t->senders[i]->state == CS_READY)
			t->senders[n++] = t->senders[i];
	}
	t->nsenders = n;
	if (b->cfg->proto != PROTO_CHATD) {
		for (i = 0; i < t->nsenders; i++)
			choose_acker(t, t->senders[i]);
	}
	t->loading = n > 0;
	if (!t->loading)
		return;
	if (b->cfg->rate > 0) {
		t->interval = (double)NS_PER_S / (b->sender_rate * (double)n);
		/* Stagger the threads' slots. */
		t->due0 = b->t_load + (uint64_t)(t->interval * t->idx /
		    b->cfg->threads);
		t->k = 0;
		pace(t);
		return;
	}
	for (i = 0; i < t->nsenders; i++)
		fill_window(t, t->senders[i]);
}

static void
handle_event(struct bthread *t, const struct epoll_event *ev)
{
	struct bconn	*c = ev->data.ptr;
	uint64_t	 ticks;

	if (c == NULL) {
		if (read(t->tfd, &ticks, sizeof ticks) == -1 &&
		    errno != EAGAIN)
			report("timerfd: %s", strerror(errno));
		pace(t);
		return;
	}
	if (c->state == CS_DEAD)
		return;
	if (c->state == CS_CONNECTING) {
		if ((ev->events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0)
			return;
		connected(t, c);
		if (c->state == CS_DEAD)
			return;
	}
#ifdef HAVE_TLS
	if (c->state == CS_HANDSHAKE) {
		handshake(t, c);
		if (c->state != CS_WELCOME)
			return;
	}
#endif
	if (ev->events & (EPOLLIN | EPOLLERR | EPOLLHUP) ||
	    ((ev->events & EPOLLOUT) && c->read_wants_write))
		read_conn(t, c);
	if ((ev->events & EPOLLOUT) && c->state != CS_DEAD && c->want_out) {
		flush(t, c);
		if (t->b->cfg->rate > 0 && is_sender(c))
			pace(t);
	}
}

static void
publish(struct bthread *t)
{
	struct bench		*b = t->b;
	struct bconn		*c;
	uint64_t		 written, live = 0, self = 0, u;
	size_t			 i;
	int			 k;

	for (i = 0; i < t->nsenders; i++) {
		c = t->senders[i];
		u = unsent(c);
		/* Never less than before: only sending shrinks the buffer. */
		written = c->seq - u;
		if (written != c->written_pub)
			atomic_fetch_add_explicit(&b->room_written[c->room],
			    written - c->written_pub, memory_order_relaxed);
		c->written_pub = written;
		if (c->state != CS_DEAD)
			live += u;
		/* IRC: a ready receiver is not owed what it wrote itself. */
		if (c->state == CS_READY && c->rx >= 0 &&
		    c->track.self >= 0)
			self += written;
	}
	t->l[C_UNSENT_LIVE] = live;
	t->l[C_WRITTEN_SELF] = self;
	for (k = 0; k < C_COUNT; k++)
		atomic_store_explicit(&t->pub[k], t->l[k],
		    memory_order_relaxed);
}

static void *
thread_main(void *arg)
{
	struct bthread		*t = arg;
	struct bench		*b = t->b;
	struct epoll_event	 evs[MAX_EVENTS];
	int			 phase, i, n;

	for (;;) {
		phase = atomic_load_explicit(&b->phase, memory_order_acquire);
		if (phase == PH_STOP)
			break;
		if (phase == PH_CONNECT)
			start_connects(t);
		else if (!t->load_started)
			start_load(t);
		n = epoll_wait(t->ep, evs, MAX_EVENTS, t->nagain > 0 ? 0 :
		    TICK_MS);
		if (n == -1 && errno != EINTR) {
			report("epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++)
			handle_event(t, &evs[i]);
		run_again(t);
		if (t->load_started && now_ns() >= b->t_end) {
			t->loading = false;
			t->l[C_STOPPED] = 1;
		}
		publish(t);
	}
	t->l[C_STOPPED] = 1;
	publish(t);
	return NULL;
}

/* ---- The main thread. ---- */

static uint64_t
sum(const struct bench *b, enum counter k)
{
	uint64_t	v = 0;
	uint32_t	i;

	for (i = 0; i < b->cfg->threads; i++)
		v += atomic_load_explicit(&b->threads[i].pub[k],
		    memory_order_relaxed);
	return v;
}

static void
sleep_ns(uint64_t ns)
{
	struct timespec	ts;

	ts.tv_sec = (time_t)(ns / NS_PER_S);
	ts.tv_nsec = (long)(ns % NS_PER_S);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * A sender's message framing: a line for chatd, PUBLISH for Redis,
 * PRIVMSG for IRC.
 */
static int
setup_sender(struct bench *b, struct bconn *c)
{
	char	name[NAME_MAX_LEN], hdr[NAME_MAX_LEN + 64];
	size_t	namelen;
	int	n;

	if (b->cfg->proto == PROTO_CHATD) {
		c->msg_len = b->cfg->size + 1;
		return 0;
	}
	namelen = room_name(b, c, name, sizeof name);
	if (b->cfg->proto == PROTO_IRC)
		n = snprintf(hdr, sizeof hdr, "PRIVMSG %s :", name);
	else
		n = snprintf(hdr, sizeof hdr, "*3\r\n$7\r\nPUBLISH\r\n"
		    "$%zu\r\n%s\r\n$%zu\r\n", namelen, name, b->cfg->size);
	if (n < 0 || (size_t)n >= sizeof hdr ||
	    (c->pub_hdr = malloc((size_t)n)) == NULL)
		return -1;
	memcpy(c->pub_hdr, hdr, (size_t)n);
	c->pub_hdr_len = (size_t)n;
	c->msg_len = c->pub_hdr_len + b->cfg->size + 2;
	return 0;
}

static int
setup(struct bench *b)
{
	const struct config	*cfg = b->cfg;
	struct bthread		*t;
	struct bconn		*c;
	uint32_t		 i, per;

	b->nreceivers = cfg->clients;
	b->nconns = cfg->clients;
	if (cfg->proto == PROTO_REDIS)
		b->nconns += cfg->senders;
	b->line_max = cfg->size + LINE_EXTRA;
	/* Senders 0..R-1 open rooms 0..R-1; the rest of the rooms are quiet. */
	b->nbusy = cfg->senders < cfg->rooms ? cfg->senders : cfg->rooms;

	if ((b->conns = calloc(b->nconns, sizeof *b->conns)) == NULL ||
	    (b->sender_conn = calloc(cfg->senders,
	    sizeof *b->sender_conn)) == NULL ||
	    (b->threads = calloc(cfg->threads, sizeof *b->threads)) == NULL ||
	    (b->room_written = calloc(b->nbusy,
	    sizeof *b->room_written)) == NULL ||
	    (b->room_alive = calloc(b->nbusy, sizeof *b->room_alive)) == NULL)
		return -1;
	for (i = 0; i < b->nbusy; i++) {
		atomic_init(&b->room_written[i], 0);
		atomic_init(&b->room_alive[i], 0);
	}
	per = (cfg->connect_concurrency + cfg->threads - 1) / cfg->threads;
	for (i = 0; i < cfg->threads; i++) {
		t = &b->threads[i];
		t->b = b;
		t->idx = i;
		t->max_connecting = per;
		t->ep = t->tfd = -1;
		if ((t->conns = calloc(cfg->clients / cfg->threads +
		    cfg->senders / cfg->threads + 2,
		    sizeof *t->conns)) == NULL ||
		    (t->senders = calloc(cfg->senders / cfg->threads + 1,
		    sizeof *t->senders)) == NULL ||
		    (t->again = calloc(cfg->clients / cfg->threads +
		    cfg->senders / cfg->threads + 2,
		    sizeof *t->again)) == NULL ||
		    (t->rbuf = malloc(RBUF_SIZE)) == NULL ||
		    (t->hist = malloc(sizeof *t->hist)) == NULL)
			return -1;
#ifdef HAVE_TLS
		if (cfg->tls && (t->tls_ctx = i == 0 ? b->tls_ctx :
		    tls_ctx_new(cfg)) == NULL)
			return -1;
#endif
		bench_hist_init(t->hist);
	}
	for (i = 0; i < b->nconns; i++) {
		c = &b->conns[i];
		c->fd = -1;
		c->id = i;
		c->resp_bulk = -1;
		c->rx = i < cfg->clients ? (int32_t)i : -1;
		if (cfg->proto == PROTO_REDIS)
			c->tx = i >= cfg->clients ?
			    (int32_t)(i - cfg->clients) : -1;
		else
			c->tx = i < cfg->senders ? (int32_t)i : -1;
		c->room = bench_room_of(c->rx >= 0 ? (uint32_t)c->rx :
		    (uint32_t)c->tx, cfg->rooms);
		if (c->rx >= 0 && bench_rx_init_room(&c->track, cfg->senders,
		    cfg->rooms, c->room) == -1)
			return -1;
		if (cfg->proto == PROTO_IRC && c->rx >= 0 && c->tx >= 0)
			bench_rx_no_echo(&c->track, (uint32_t)c->tx);
		if (is_sender(c) && setup_sender(b, c) == -1)
			return -1;
		/*
		 * Round-robin by number, so the senders spread over the
		 * threads, and a redis sender j shares a thread with
		 * receiver j, which is in its room.
		 */
		t = &b->threads[(c->rx >= 0 ? (uint32_t)c->rx :
		    (uint32_t)c->tx) % cfg->threads];
		c->thread = t->idx;
		t->conns[t->nconns++] = c;
		if (is_sender(c)) {
			t->senders[t->nsenders++] = c;
			b->sender_conn[c->tx] = c;
		}
	}
	return 0;
}

static int
start_threads(struct bench *b)
{
	struct bthread		*t;
	struct epoll_event	 ev;
	uint32_t		 i;
	int			 error;

	for (i = 0; i < b->cfg->threads; i++) {
		t = &b->threads[i];
		if ((t->ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
		    (t->tfd = timerfd_create(CLOCK_MONOTONIC,
		    TFD_NONBLOCK | TFD_CLOEXEC)) == -1) {
			fprintf(stderr, "%s: %s\n", progname, strerror(errno));
			return -1;
		}
		memset(&ev, 0, sizeof ev);
		ev.events = EPOLLIN;
		ev.data.ptr = NULL;
		if (epoll_ctl(t->ep, EPOLL_CTL_ADD, t->tfd, &ev) == -1) {
			fprintf(stderr, "%s: epoll_ctl: %s\n", progname,
			    strerror(errno));
			return -1;
		}
	}
	for (i = 0; i < b->cfg->threads; i++) {
		t = &b->threads[i];
		if ((error = pthread_create(&t->tid, NULL, thread_main,
		    t)) != 0) {
			fprintf(stderr, "%s: pthread_create: %s\n", progname,
			    strerror(error));
			return -1;
		}
		b->nstarted++;
	}
	return 0;
}

static void
stop_threads(struct bench *b)
{
	uint32_t	i;

	atomic_store_explicit(&b->phase, PH_STOP, memory_order_release);
	for (i = 0; i < b->nstarted; i++)
		pthread_join(b->threads[i].tid, NULL);
	b->nstarted = 0;
}

static void
teardown(struct bench *b)
{
	struct bthread	*t;
	struct bconn	*c;
	size_t		 i;

	for (i = 0; b->conns != NULL && i < b->nconns; i++) {
		c = &b->conns[i];
#ifdef HAVE_TLS
		SSL_free(c->ssl);
#endif
		if (c->fd != -1)
			close(c->fd);
		bench_rx_free(&c->track);
		free(c->line);
		free(c->out);
		free(c->pub_hdr);
	}
	free(b->conns);
	free(b->sender_conn);
	free(b->room_written);
	free(b->room_alive);
	for (i = 0; b->threads != NULL && i < b->cfg->threads; i++) {
		t = &b->threads[i];
		if (t->ep != -1)
			close(t->ep);
		if (t->tfd != -1)
			close(t->tfd);
		free(t->conns);
		free(t->senders);
		free(t->again);
		free(t->rbuf);
		free(t->hist);
#ifdef HAVE_TLS
		if (i > 0)
			SSL_CTX_free(t->tls_ctx);
#endif
	}
	free(b->threads);
#ifdef HAVE_TLS
	SSL_CTX_free(b->tls_ctx);
#endif
}

static void
progress(const struct bench *b, const char *what, uint64_t elapsed,
    uint64_t *last_sent, uint64_t *last_deliv, uint64_t dt)
{
	uint64_t	sent = sum(b, C_SENT), deliv = sum(b, C_DELIV);

	if (!b->cfg->quiet)
		fprintf(stderr, "%s: %s %5.1f s: %" PRIu64 "/%zu connected, "
		    "%.0f sent/s, %.0f delivered/s\n", progname, what,
		    secs(elapsed), sum(b, C_WELCOMED) - sum(b, C_DISCONNECTS),
		    b->nconns, (double)(sent - *last_sent) / secs(dt),
		    (double)(deliv - *last_deliv) / secs(dt));
	*last_sent = sent;
	*last_deliv = deliv;
}

/* Connect phase; its length in ns, or 0 if nobody got ready. */
static uint64_t
connect_phase(struct bench *b)
{
	uint64_t	t0 = now_ns(), deadline, next, now;
	uint64_t	done, welcomed, s = 0, d = 0;

	deadline = t0 + (uint64_t)(b->cfg->connect_timeout * NS_PER_S);
	next = t0 + NS_PER_S;
	for (;;) {
		sleep_ns(5 * NS_PER_MS);
		now = now_ns();
		welcomed = sum(b, C_WELCOMED);
		done = welcomed + sum(b, C_FAILED);
		if (done >= b->nconns || now >= deadline)
			break;
		if (now >= next) {
			progress(b, "connect", now - t0, &s, &d, NS_PER_S);
			next += NS_PER_S;
		}
	}
	if (welcomed < b->nconns)
		fprintf(stderr, "%s: %" PRIu64 " of %zu connections ready "
		    "after %.3f s\n", progname, welcomed, b->nconns,
		    secs(now - t0));
	if (welcomed == 0)
		return 0;
	return now - t0;
}

/* Warm-up and measure; the server's RSS is read right at the end. */
static void
load_phase(struct bench *b, long *rss_after)
{
	uint64_t	now, next, ntx, s = 0, d = 0;

	now = now_ns();
	b->t_load = now;
	b->t_measure = now + (uint64_t)(b->cfg->warmup * NS_PER_S);
	b->t_end = b->t_measure + (uint64_t)(b->cfg->duration * NS_PER_S);
	ntx = sum(b, C_READY_TX);
	b->sender_rate = b->cfg->rate / (double)ntx;
	atomic_store_explicit(&b->phase, PH_LOAD, memory_order_release);
	next = now + NS_PER_S;
	for (;;) {
		now = now_ns();
		if (now >= b->t_end)
			break;
		if (now >= next) {
			progress(b, now < b->t_measure ? "warmup " : "measure",
			    now - b->t_load, &s, &d, NS_PER_S);
			next += NS_PER_S;
		}
		sleep_ns((next < b->t_end ? next : b->t_end) - now);
	}
	if (b->cfg->server_pid > 0)
		*rss_after = read_rss(b->cfg->server_pid);
	atomic_store_explicit(&b->phase, PH_DRAIN, memory_order_release);
}

/*
 * What the live receivers are owed: for each room with senders, the
 * messages they wrote times the room's ready receivers.  *written gets
 * the messages written in all rooms.
 */
static uint64_t
owed_alive(const struct bench *b, uint64_t *written)
{
	uint64_t	owed = 0, w;
	uint32_t	k;

	*written = 0;
	for (k = 0; k < b->nbusy; k++) {
		w = atomic_load_explicit(&b->room_written[k],
		    memory_order_relaxed);
		owed += w * atomic_load_explicit(&b->room_alive[k],
		    memory_order_relaxed);
		*written += w;
	}
	return owed;
}

/*
 * Wait until every live receiver has every message of its room that
 * left our buffers.  The sums are read from several threads at
 * different times, so the condition must hold, unchanged, twice in a
 * row.
 */
static bool
drain_phase(struct bench *b, uint64_t *took)
{
	uint64_t	t0 = now_ns(), deadline, written, distinct;
	uint64_t	last_w = UINT64_MAX, last_d = UINT64_MAX;
	bool		ok;

	deadline = t0 + (uint64_t)(b->cfg->drain_timeout * NS_PER_S);
	for (;;) {
		/* IRC: the senders that are ready receivers owe themselves. */
		distinct = sum(b, C_DISTINCT_ALIVE) + sum(b, C_WRITTEN_SELF);
		ok = sum(b, C_STOPPED) == b->cfg->threads &&
		    sum(b, C_UNSENT_LIVE) == 0 &&
		    distinct == owed_alive(b, &written);
		if (ok && written == last_w && distinct == last_d)
			break;
		last_w = ok ? written : UINT64_MAX;
		last_d = ok ? distinct : UINT64_MAX;
		if (now_ns() >= deadline) {
			*took = now_ns() - t0;
			return false;
		}
		sleep_ns(TICK_MS * NS_PER_MS);
	}
	*took = now_ns() - t0;
	return true;
}

/* The final figures, from the trackers themselves. */
static int
summarise(struct bench *b, struct bench_summary *s, struct bench_hist *lat)
{
	const struct config	*cfg = b->cfg;
	struct bthread		*t;
	struct bconn		*c;
	uint64_t		*written;
	size_t			 i;

	if ((written = calloc(cfg->senders, sizeof *written)) == NULL)
		return -1;
	bench_hist_init(lat);
	for (i = 0; i < cfg->threads; i++) {
		t = &b->threads[i];
		bench_hist_merge(lat, t->hist);
		s->sent_measure += t->l[C_SENT_MEASURE];
		s->deliveries_measure += t->l[C_DELIV_MEASURE];
		s->disconnects += t->l[C_DISCONNECTS];
		s->malformed += t->l[C_MALFORMED];
		s->misrouted += t->l[C_MISROUTED];
		s->server_errors += t->l[C_SERVER_ERRORS];
	}
	for (i = 0; i < b->nconns; i++) {
		c = &b->conns[i];
		if (c->welcomed)
			s->connected++;
		if (!is_sender(c))
			continue;
		written[c->tx] = c->seq - unsent(c);
		s->sent += c->seq;
		s->unsent += unsent(c);
	}
	for (i = 0; i < b->nconns; i++) {
		c = &b->conns[i];
		if (c->rx < 0 || !c->welcomed)
			continue;
		s->expected += bench_rx_expected(&c->track, written);
		s->deliveries += c->track.arrivals;
		s->lost += bench_rx_lost(&c->track, written);
		s->reordered += c->track.reordered;
		s->duplicated += c->track.duplicated;
		s->own_echo += c->track.own_echo;
	}
	s->connect_failures = (uint32_t)b->nconns - s->connected;
	s->latency = lat;
	free(written);
	return 0;
}

static int
run(struct bench *b)
{
	const struct config	*cfg = b->cfg;
	struct bench_summary	 s;
	struct bench_hist	*lat = NULL;
	uint64_t		 connect_ns, drain_ns;
	int			 rc = 1;

	memset(&s, 0, sizeof s);
	s.rss_before_kb = s.rss_after_kb = -1;
	if (cfg->server_pid > 0 &&
	    (s.rss_before_kb = read_rss(cfg->server_pid)) == -1)
		fprintf(stderr, "%s: cannot read the VmRSS of process %ld\n",
		    progname, cfg->server_pid);
	if (start_threads(b) == -1) {
		stop_threads(b);
		return 1;
	}
	if ((connect_ns = connect_phase(b)) == 0) {
		fprintf(stderr, "%s: cannot connect to %s\n", progname,
		    b->target);
		goto out;
	}
	if (sum(b, C_READY_TX) == 0 || sum(b, C_ALIVE_RX) == 0) {
		fprintf(stderr, "%s: no %s could connect to %s\n", progname,
		    sum(b, C_READY_TX) == 0 ? "sender" : "receiver",
		    b->target);
		goto out;
	}
	load_phase(b, &s.rss_after_kb);
	s.drained = drain_phase(b, &drain_ns);
	stop_threads(b);

	if ((lat = malloc(sizeof *lat)) == NULL ||
	    summarise(b, &s, lat) == -1) {
		fprintf(stderr, "%s: out of memory\n", progname);
		free(lat);
		return 1;
	}
	s.proto = cfg->proto == PROTO_REDIS ? "redis" :
	    cfg->proto == PROTO_IRC ? "irc" : "chatd";
	s.tls = cfg->tls;
	s.target = b->target;
	s.clients = cfg->clients;
	s.senders = cfg->senders;
	s.rooms = cfg->rooms;
	s.threads = cfg->threads;
	s.size = cfg->size;
	s.rate = cfg->rate;
	s.window = cfg->window;
	s.warmup_s = cfg->warmup;
	s.duration_s = cfg->duration;
	s.connect_s = secs(connect_ns);
	s.drain_s = secs(drain_ns);
	if (!s.drained)
		fprintf(stderr, "%s: drain timed out after %.1f s\n", progname,
		    cfg->drain_timeout);
	if (cfg->json)
		rc = bench_json_write(stdout, &s);
	else
		rc = bench_text_write(stdout, &s);
	if (fflush(stdout) == EOF)
		rc = -1;
	free(lat);
	return rc == 0 ? 0 : 1;
out:
	stop_threads(b);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct config	cfg;
	struct bench	b;
	long		limit;
	int		rc;

	if ((rc = parse_args(&cfg, argc, argv)) != 0)
		return rc == 1 ? 0 : 2;
	if (cfg.threads > cfg.clients)
		cfg.threads = cfg.clients;
	signal(SIGPIPE, SIG_IGN);

	memset(&b, 0, sizeof b);
	b.cfg = &cfg;
	atomic_init(&b.phase, PH_CONNECT);
	limit = raise_nofile();
	if (limit >= 0 && (uint64_t)limit < (uint64_t)cfg.clients +
	    cfg.senders + 2 * cfg.threads + 16) {
		fprintf(stderr, "%s: %" PRIu32 " clients need more file "
		    "descriptors than the limit of %ld\n", progname,
		    cfg.clients, limit);
		return 1;
	}
	if (resolve(&b) == -1 || tls_init(&b) == -1)
		return 1;
	if (setup(&b) == -1) {
		fprintf(stderr, "%s: out of memory\n", progname);
		teardown(&b);
		return 1;
	}
	rc = run(&b);
	teardown(&b);
	return rc;
}
