/*
 * options.c - chatd's settings from the command line and the config
 * file, through one table.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "options.h"

enum setting_type { T_UINT, T_SIZE, T_STRING, T_PATH, T_BIND, T_BOOL, T_LEVEL };

struct setting {
	const char		*name;
	int			 short_name;	/* 0 if none */
	enum setting_type	 type;
	uintmax_t		 min, max;	/* for numbers */
	size_t			 offset;	/* into struct options */
};

#define NUM(name, s, type, min, max, field) \
	{ name, s, type, min, max, offsetof(struct options, field) }
#define STR(name, s, type, field) \
	{ name, s, type, 0, 0, offsetof(struct options, field) }

/* The one list of settings: command-line options and config-file keys. */
static const struct setting settings[] = {
	STR("bind",		'b', T_BIND,	binds),
	NUM("port",		'p', T_UINT,	0, 65535, port),
	NUM("irc-port",		0,   T_UINT,	0, 65535, irc_port),
	STR("server-name",	0,   T_STRING,	server_name),
	STR("unix",		0,   T_PATH,	unix_path),
	NUM("workers",		'w', T_UINT,	1, 1024, workers),
	NUM("tls-port",		0,   T_UINT,	0, 65535, tls_port),
	NUM("irc-tls-port",	0,   T_UINT,	0, 65535, irc_tls_port),
	STR("tls-cert",		0,   T_PATH,	tls_cert),
	STR("tls-key",		0,   T_PATH,	tls_key),
	NUM("tls-handshake-timeout", 0, T_UINT,	1, 3600, tls_handshake_timeout),
	STR("password",		0,   T_STRING,	password),
	STR("password-file",	0,   T_PATH,	password_file),
	NUM("max-clients",	0,   T_SIZE,	1, 1000000, max_clients),
	NUM("max-line",		0,   T_SIZE,	16, 1024 * 1024, max_line),
	NUM("sendq",		0,   T_SIZE,	4096, (uintmax_t)1 << 32, sendq),
	NUM("slow-timeout",	0,   T_UINT,	100, 600000, slow_timeout),
	NUM("rate",		0,   T_UINT,	0, 1000000, rate),
	NUM("burst",		0,   T_UINT,	1, 1000000, burst),
	NUM("announce-max",	0,   T_SIZE,	0, 1000000, announce_max),
	STR("default-room",	0,   T_STRING,	default_room),
	NUM("max-rooms",	0,   T_SIZE,	1, 1000000, max_rooms),
	NUM("max-rooms-per-user", 0, T_SIZE,	1, 10000, max_rooms_per_user),
	NUM("max-room-name",	0,   T_SIZE,	1, 50, max_room_name),
	NUM("max-topic",	0,   T_SIZE,	1, 65536, max_topic),
	NUM("history",		0,   T_SIZE,	0, 1000000, history),
	NUM("replay",		0,   T_SIZE,	0, 1000000, replay),
	STR("history-db",	0,   T_PATH,	history_db),
	STR("cluster",		0,   T_STRING,	cluster),
	STR("node-name",	0,   T_STRING,	node_name),
	NUM("max-per-ip",	0,   T_UINT,	0, 1000000, max_per_ip),
	NUM("connect-rate",	0,   T_UINT,	0, 1000000, connect_rate),
	NUM("connect-burst",	0,   T_UINT,	1, 1000000, connect_burst),
	STR("limit-loopback",	0,   T_BOOL,	limit_loopback),
	NUM("idle-timeout",	0,   T_UINT,	0, 7 * 86400, idle_timeout),
	NUM("keepalive",	0,   T_UINT,	0, 32767, keepalive),
	STR("motd",		0,   T_PATH,	motd_path),
	STR("log-level",	0,   T_LEVEL,	log_level),
	STR("log-file",		0,   T_PATH,	log_file),
	STR("syslog",		0,   T_BOOL,	syslog),
	STR("daemon",		'd', T_BOOL,	daemon),
	STR("pidfile",		0,   T_PATH,	pidfile),
	STR("user",		0,   T_STRING,	user),
	NUM("stats-interval",	0,   T_UINT,	0, 86400, stats_interval),
};
#define NSETTINGS	(sizeof(settings) / sizeof(settings[0]))

/* getopt_long values of the long-only options and of --config. */
#define OPT_BASE	1000
#define OPT_CONFIG	'c'

static const char *const level_names[] = { "error", "warn", "info", "debug" };

#ifdef HAVE_TLS
#define TLS_NOTE	""
#else
#define TLS_NOTE	"\n                           (not in this build: built without TLS)"
#endif

static void
usage(FILE *f)
{
	fprintf(f,
"Usage: chatd [OPTION]...\n"
"Relay every UTF-8 line a client sends to every connected client.\n"
"\n"
"Listening (a change needs a restart):\n"
"  -b, --bind ADDR          listen on this IPv4 or IPv6 address; repeatable\n"
"                           (default: 127.0.0.1 and ::1)\n"
"  -p, --port N             TCP port, 0 picks a free one (default: 7777)\n"
"      --irc-port N         TCP port for IRC clients on the same addresses,\n"
"                           0 = no IRC (default: 6667)\n"
"      --server-name NAME   the server's name in IRC replies (default: the\n"
"                           host name)\n"
"      --unix PATH          also listen on a UNIX-domain socket\n"
"  -w, --workers N          worker threads (default: online CPUs)\n"
"      --tls-port N         serve the line protocol over TLS on port N, 0\n"
"                           picks a free one (default: 7443; only with\n"
"                           --tls-cert and --tls-key)" TLS_NOTE "\n"
"      --irc-tls-port N     serve IRC over TLS on port N, 0 = none (default:\n"
"                           6697; only with --tls-cert and --tls-key)\n"
"\n"
"TLS and the password (SIGHUP reloads them for new connections):\n"
"      --tls-cert FILE      the certificate chain (PEM, the server's first)\n"
"      --tls-key FILE       its private key (PEM)\n"
"      --tls-handshake-timeout S  close a TLS client whose handshake is not\n"
"                           done S seconds after it connected (default: 10)\n"
"      --password SECRET    ask every client for SECRET (/pass SECRET); it\n"
"                           shows in ps: prefer --password-file\n"
"      --password-file FILE the password is FILE's first line\n"
"\n"
"Limits (SIGHUP applies them to new lines and connections):\n"
"      --max-clients N      clients at once; the next gets \"server full\"\n"
"                           (default: 10000; a reload cannot raise it)\n"
"      --max-line BYTES     longest line, CR and LF not counted (default: 4096)\n"
"      --sendq BYTES        what a client's unsent lines may cost (their bytes\n"
"                           and 40 a line); past half of it the senders wait\n"
"                           (default: 1048576)\n"
"      --slow-timeout MS    cut a client whose socket is full and that stays\n"
"                           behind for MS milliseconds (default: 1000)\n"
"      --rate LINES         lines per second per client, 0 = unlimited\n"
"                           (default: 20)\n"
"      --burst LINES        lines a client may send at once (default: 40)\n"
"      --announce-max N     announce joins, leaves and nick changes to everyone\n"
"                           only while the room has at most N members\n"
"                           (default: 200)\n"
"\n"
"Rooms and history (SIGHUP applies all but --default-room, --history-db):\n"
"      --default-room NAME  the room every client is in on connect\n"
"                           (default: #lobby)\n"
"      --max-rooms N        rooms on the server; an empty room with history\n"
"                           makes way for a new one (default: 1000)\n"
"      --max-rooms-per-user N  rooms one client may be in (default: 20)\n"
"      --max-room-name N    code points of a room name after '#'\n"
"                           (default: 50)\n"
"      --max-topic BYTES    longest topic (default: 300)\n"
"      --history N          chat lines kept per room, 0 = none; each room\n"
"                           keeps at most 256 KiB of them (default: 1000)\n"
"      --replay N           lines of history shown on /join (default: 20)\n"
"      --history-db FILE    keep history and topics in the SQLite database\n"
"                           FILE across restarts (default: none)\n"
"\n"
"Cluster (a change needs a restart; see chatd(8) for what is shared):\n"
"      --cluster URL        share rooms with other nodes through NATS\n"
"                           JetStream at URL (nats://host:port); exit 1 if\n"
"                           it is unreachable at start (default: alone)\n"
"      --node-name NAME     this node's name, unique in the cluster: 1 to 32\n"
"                           of A-Z a-z 0-9 _ - (needed with --cluster)\n"
"\n"
"Hostile and dead clients (SIGHUP applies them to new connections):\n"
"      --max-per-ip N       connections one address may hold, 0 = unlimited;\n"
"                           the next gets \"too many connections from your\n"
"                           address\" (default: 16; IPv6 counts by /64)\n"
"      --connect-rate N     new connections per second per address, 0 =\n"
"                           unlimited (default: 5)\n"
"      --connect-burst N    new connections one address may open at once\n"
"                           (default: 20)\n"
"      --limit-loopback     apply the two limits above to loopback and\n"
"                           UNIX-socket clients too (all UNIX-socket clients\n"
"                           count as one address)\n"
"      --idle-timeout S     disconnect a client that sent no line for S\n"
"                           seconds (default: 0, off)\n"
"      --keepalive S        TCP keepalive probes after S idle seconds, so dead\n"
"                           peers are found (default: 120; 0 = off)\n"
"\n"
"Running it:\n"
"  -c, --config FILE        read settings from FILE (\"key = value\" lines, the\n"
"                           keys are these long option names); the command\n"
"                           line overrides the file\n"
"      --motd FILE          show FILE's lines to every client on connect\n"
"      --log-level LEVEL    error, warn, info or debug (default: info)\n"
"      --log-file FILE      log to FILE instead of stderr\n"
"      --syslog             log to syslog instead of stderr\n"
"  -d, --daemon             detach from the terminal (default: foreground)\n"
"      --pidfile FILE       write the process ID to FILE, removed at exit\n"
"      --user NAME          when started as root, run as NAME once the\n"
"                           sockets are bound\n"
"      --stats-interval S   log a stats line every S seconds (default: 0, off)\n"
"  -h, --help               show this help and exit\n"
"  -V, --version            show the version and exit\n"
"\n"
"Signals: SIGHUP reloads the config file and reopens the log file, SIGUSR1\n"
"logs a stats line, SIGINT and SIGTERM shut down.\n"
"Clients connect with nc or telnet; see chatd(8) and doc/PROTOCOL.md.\n");
}

void
options_defaults(struct options *o)
{
	long	 ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	memset(o, 0, sizeof(*o));
	o->port = 7777;
	o->irc_port = 6667;
	o->workers = ncpu > 0 ? (unsigned)ncpu : 1;
	o->max_clients = 10000;
	o->max_line = 4096;
	o->sendq = 1024 * 1024;
	o->slow_timeout = 1000;
	o->rate = 20;
	o->burst = 40;
	o->announce_max = 200;
	o->max_rooms = 1000;
	o->max_rooms_per_user = 20;
	o->max_room_name = 50;
	o->max_topic = 300;
	o->history = 1000;
	o->replay = 20;
	o->max_per_ip = 16;
	o->connect_rate = 5;
	o->connect_burst = 20;
	o->keepalive = 120;
	o->tls_port = 7443;
	o->irc_tls_port = 6697;
	o->tls_handshake_timeout = 10;
	o->log_level = 2;	/* info */
}

static void
clear_binds(struct options *o)
{
	while (o->nbinds > 0)
		free(o->binds[--o->nbinds]);
	o->default_binds = false;
}

void
options_free(struct options *o)
{
	clear_binds(o);
	free(o->unix_path);
	free(o->tls_cert);
	free(o->tls_key);
	if (o->password != NULL)
		explicit_bzero(o->password, strlen(o->password));
	free(o->password);
	free(o->password_file);
	free(o->config_path);
	free(o->motd_path);
	free(o->server_name);
	free(o->default_room);
	free(o->history_db);
	free(o->cluster);
	free(o->node_name);
	free(o->log_file);
	free(o->pidfile);
	free(o->user);
	memset(o, 0, sizeof(*o));
}

const char *
options_level_name(int level)
{
	if (level < 0 || level > 3)
		return "?";
	return level_names[level];
}

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const struct setting *
setting_by_name(const char *name)
{
	size_t	 i;

	for (i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].name, name) == 0)
			return &settings[i];
	return NULL;
}

static int
parse_number(const struct setting *s, const char *arg, uintmax_t *out,
    char *err, size_t errlen)
{
	char		*end;
	uintmax_t	 v;

	errno = 0;
	if (arg[0] < '0' || arg[0] > '9')
		goto bad;
	v = strtoumax(arg, &end, 10);
	if (errno != 0 || *end != '\0' || v < s->min || v > s->max)
		goto bad;
	*out = v;
	return 0;
bad:
	seterr(err, errlen, "%s: '%s' is not a number from %ju to %ju",
	    s->name, arg, s->min, s->max);
	return -1;
}

static int
parse_bool(const struct setting *s, const char *arg, bool *out, char *err,
    size_t errlen)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t	 i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(arg, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(arg, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	seterr(err, errlen, "%s: '%s' is not yes or no", s->name, arg);
	return -1;
}

static bool
is_ip_address(const char *s)
{
	unsigned char	 buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

/*
 * The directory chatd started in.  Relative paths are taken from it even
 * after --daemon has moved to "/", so a reload reads the same files.
 */
static char	*start_dir;

static char *
absolute_path(const char *path)
{
	char	*abs;

	if (path[0] == '/')
		return strdup(path);
	if (start_dir == NULL && (start_dir = getcwd(NULL, 0)) == NULL)
		return NULL;
	if (asprintf(&abs, "%s/%s", start_dir, path) == -1)
		return NULL;
	return abs;
}

static int
set_string(char **field, const struct setting *s, const char *arg, char *err,
    size_t errlen)
{
	char	*copy;

	if (arg[0] == '\0') {
		seterr(err, errlen, "%s: empty value", s->name);
		return -1;
	}
	copy = s->type == T_PATH ? absolute_path(arg) : strdup(arg);
	if (copy == NULL) {
		seterr(err, errlen, "%s: out of memory", s->name);
		return -1;
	}
	free(*field);
	*field = copy;
	return 0;
}

static int
add_bind(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (!is_ip_address(arg)) {
		seterr(err, errlen, "bind: '%s' is not an IPv4 or IPv6 address",
		    arg);
		return -1;
	}
	if (o->nbinds == OPTIONS_MAX_BINDS) {
		seterr(err, errlen, "bind: at most %d addresses",
		    OPTIONS_MAX_BINDS);
		return -1;
	}
	if ((o->binds[o->nbinds] = strdup(arg)) == NULL) {
		seterr(err, errlen, "bind: out of memory");
		return -1;
	}
	o->nbinds++;
	return 0;
}

static int
apply(struct options *o, const struct setting *s, const char *arg,
    char *err, size_t errlen)
{
	void		*field = (char *)o + s->offset;
	uintmax_t	 v;
	int		 i;

	switch (s->type) {
	case T_UINT:
	case T_SIZE:
		if (parse_number(s, arg, &v, err, errlen) == -1)
			return -1;
		if (s->type == T_UINT)
			*(unsigned *)field = (unsigned)v;
		else
			*(size_t *)field = (size_t)v;
		return 0;
	case T_STRING:
	case T_PATH:
		return set_string(field, s, arg, err, errlen);
	case T_BIND:
		return add_bind(o, arg, err, errlen);
	case T_BOOL:
		return parse_bool(s, arg, field, err, errlen);
	case T_LEVEL:
		for (i = 0; i < 4; i++)
			if (strcmp(arg, level_names[i]) == 0) {
				*(int *)field = i;
				return 0;
			}
		seterr(err, errlen, "%s: '%s' is not error, warn, info or "
		    "debug", s->name, arg);
		return -1;
	}
	return -1;
}

int
options_set(struct options *o, const char *name, const char *value,
    char *err, size_t errlen)
{
	const struct setting	*s;

	if ((s = setting_by_name(name)) == NULL) {
		seterr(err, errlen, "unknown key '%s'", name);
		return -1;
	}
	return apply(o, s, value, err, errlen);
}

/* The getopt_long table, made from the settings once. */
static const struct option *
long_options(void)
{
	static struct option	 table[NSETTINGS + 4];
	size_t			 i;

	if (table[0].name != NULL)
		return table;
	for (i = 0; i < NSETTINGS; i++) {
		table[i].name = settings[i].name;
		table[i].has_arg = settings[i].type == T_BOOL ? no_argument :
		    required_argument;
		table[i].val = settings[i].short_name != 0 ?
		    settings[i].short_name : OPT_BASE + (int)i;
	}
	table[i++] = (struct option){ "config", required_argument, NULL,
	    OPT_CONFIG };
	table[i++] = (struct option){ "help", no_argument, NULL, 'h' };
	table[i++] = (struct option){ "version", no_argument, NULL, 'V' };
	return table;
}

static const struct setting *
setting_by_val(int val)
{
	size_t	 i;

	if (val >= OPT_BASE && val < OPT_BASE + (int)NSETTINGS)
		return &settings[val - OPT_BASE];
	for (i = 0; i < NSETTINGS; i++)
		if (settings[i].short_name == val)
			return &settings[i];
	return NULL;
}

#define SHORT_OPTIONS	":b:p:w:c:dhV"

/*
 * First pass: --help, --version, --config, and every syntax error, before
 * the config file is read.  Returns OPTIONS_RUN to go on.
 */
static enum options_result
scan_argv(int argc, char **argv, const char **config, bool quiet)
{
	int	 ch;

	*config = NULL;
	opterr = 0;
	/* 0, not 1: glibc then forgets a cluster left from the last call. */
	optind = 0;
	while ((ch = getopt_long(argc, argv, SHORT_OPTIONS, long_options(),
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			if (!quiet)
				usage(stdout);
			return OPTIONS_EXIT_OK;
		case 'V':
			if (!quiet)
				printf("chatd %s\n", PACKAGE_VERSION);
			return OPTIONS_EXIT_OK;
		case OPT_CONFIG:
			*config = optarg;
			break;
		case ':':
			if (!quiet)
				fprintf(stderr, "chatd: option '%s' needs an "
				    "argument\n", argv[optind - 1]);
			return OPTIONS_USAGE;
		case '?':
			if (!quiet)
				fprintf(stderr, "chatd: unknown option '%s'\n",
				    argv[optind - 1]);
			return OPTIONS_USAGE;
		default:
			break;
		}
	}
	if (optind < argc) {
		if (!quiet)
			fprintf(stderr, "chatd: unexpected argument '%s'\n",
			    argv[optind]);
		return OPTIONS_USAGE;
	}
	return OPTIONS_RUN;
}

/* Second pass: the command line over whatever the file said. */
static int
apply_argv(struct options *o, int argc, char **argv, char *err,
    size_t errlen)
{
	const struct setting	*s;
	bool			 binds_from_argv = false;
	char			 why[256];
	int			 ch;

	/* 0, not 1: glibc then forgets a cluster left from the last call. */
	optind = 0;
	while ((ch = getopt_long(argc, argv, SHORT_OPTIONS, long_options(),
	    NULL)) != -1) {
		if ((s = setting_by_val(ch)) == NULL)
			continue;
		/* Addresses on the command line replace the file's. */
		if (s->type == T_BIND && !binds_from_argv) {
			clear_binds(o);
			binds_from_argv = true;
		}
		if (apply(o, s, s->type == T_BOOL ? "yes" : optarg, why,
		    sizeof(why)) == -1) {
			seterr(err, errlen, "--%s", why);
			return -1;
		}
	}
	return 0;
}

/* The password is the file's first line, without its line end. */
static int
read_password_file(struct options *o, char *err, size_t errlen)
{
	FILE	*f;
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 n;
	int	 rc = -1;

	if ((f = fopen(o->password_file, "r")) == NULL) {
		seterr(err, errlen, "password-file %s: %s", o->password_file,
		    strerror(errno));
		return -1;
	}
	n = getline(&line, &cap, f);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n <= 0)
		seterr(err, errlen, "password-file %s: no password on its "
		    "first line", o->password_file);
	else {
		free(o->password);
		o->password = line;
		line = NULL;
		rc = 0;
	}
	if (line != NULL) {
		explicit_bzero(line, cap);
		free(line);
	}
	fclose(f);
	return rc;
}

static int
finish(struct options *o, char *err, size_t errlen)
{
	if (o->password != NULL && o->password_file != NULL) {
		seterr(err, errlen, "password and password-file: give one");
		return -1;
	}
	if (o->password_file != NULL && read_password_file(o, err, errlen)
	    == -1)
		return -1;
#ifndef HAVE_TLS
	if (o->tls_cert != NULL || o->tls_key != NULL) {
		seterr(err, errlen, "%s: this chatd was built without TLS",
		    o->tls_cert != NULL ? "tls-cert" : "tls-key");
		return -1;
	}
#endif
	if (o->nbinds == 0) {
		if (add_bind(o, "127.0.0.1", err, errlen) == -1 ||
		    add_bind(o, "::1", err, errlen) == -1)
			return -1;
		o->default_binds = true;
	}
	return 0;
}

static enum options_result
load(struct options *o, int argc, char **argv, bool quiet, char *err,
    size_t errlen)
{
	enum options_result	 r;
	const char		*config;

	options_defaults(o);
	if ((r = scan_argv(argc, argv, &config, quiet)) != OPTIONS_RUN)
		return r;
	if (config != NULL) {
		if ((o->config_path = absolute_path(config)) == NULL) {
			seterr(err, errlen, "%s: %s", config, strerror(errno));
			return OPTIONS_BAD_CONFIG;
		}
		if (options_load_file(o, o->config_path, err, errlen) == -1)
			return OPTIONS_BAD_CONFIG;
	}
	if (apply_argv(o, argc, argv, err, errlen) == -1)
		return OPTIONS_USAGE;
	if (finish(o, err, errlen) == -1)
		return OPTIONS_BAD_CONFIG;
	return OPTIONS_RUN;
}

enum options_result
options_parse(struct options *o, int argc, char **argv)
{
	enum options_result	 r;
	char			 err[1024] = "";

	r = load(o, argc, argv, false, err, sizeof(err));
	if (err[0] != '\0')
		fprintf(stderr, "chatd: %s\n", err);
	if (r == OPTIONS_USAGE)
		fprintf(stderr, "Try 'chatd --help' for more information.\n");
	if (r != OPTIONS_RUN)
		options_free(o);
	return r;
}

int
options_reload(struct options *o, int argc, char **argv, char *err,
    size_t errlen)
{
	if (load(o, argc, argv, true, err, errlen) != OPTIONS_RUN) {
		options_free(o);
		return -1;
	}
	return 0;
}

static char *
trim(char *s)
{
	char	*end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/*
 * "key = value" lines; '#' starts a comment line; blank lines are fine.
 * The value is everything after '=', trimmed: no quoting, no escapes.
 */
static int
load_line(struct options *o, char *line, char *why, size_t whylen)
{
	char	*key, *value, *eq;

	key = trim(line);
	if (*key == '\0' || *key == '#')
		return 0;
	if ((eq = strchr(key, '=')) == NULL) {
		seterr(why, whylen, "expected \"key = value\"");
		return -1;
	}
	*eq = '\0';
	key = trim(key);
	value = trim(eq + 1);
	if (strcmp(key, "config") == 0) {
		seterr(why, whylen, "a config file cannot name another");
		return -1;
	}
	return options_set(o, key, value, why, whylen);
}

int
options_load_file(struct options *o, const char *path, char *err,
    size_t errlen)
{
	FILE	*f;
	char	*line = NULL, why[512];
	size_t	 cap = 0, lineno = 0;
	ssize_t	 n;
	int	 rc = 0;

	if ((f = fopen(path, "r")) == NULL) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (memchr(line, '\0', (size_t)n) != NULL) {
			seterr(err, errlen, "%s:%zu: NUL byte", path, lineno);
			rc = -1;
			break;
		}
		if (load_line(o, line, why, sizeof(why)) == -1) {
			seterr(err, errlen, "%s:%zu: %s", path, lineno, why);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(f);
	return rc;
}
