/*
 * options.c - parse chatd's command line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "options.h"

enum {
	OPT_UNIX = 256,
	OPT_MAX_CLIENTS,
	OPT_MAX_LINE,
	OPT_SENDQ,
	OPT_RATE,
	OPT_BURST,
	OPT_ANNOUNCE_MAX
};

static const struct option long_options[] = {
	{ "bind",		required_argument,	NULL, 'b' },
	{ "port",		required_argument,	NULL, 'p' },
	{ "unix",		required_argument,	NULL, OPT_UNIX },
	{ "workers",		required_argument,	NULL, 'w' },
	{ "max-clients",	required_argument,	NULL, OPT_MAX_CLIENTS },
	{ "max-line",		required_argument,	NULL, OPT_MAX_LINE },
	{ "sendq",		required_argument,	NULL, OPT_SENDQ },
	{ "rate",		required_argument,	NULL, OPT_RATE },
	{ "burst",		required_argument,	NULL, OPT_BURST },
	{ "announce-max",	required_argument,	NULL, OPT_ANNOUNCE_MAX },
	{ "help",		no_argument,		NULL, 'h' },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};

static void
usage(FILE *f)
{
	fprintf(f,
"Usage: chatd [OPTION]...\n"
"Relay every UTF-8 line a client sends to every connected client.\n"
"\n"
"  -b, --bind ADDR        listen on this IPv4 or IPv6 address; repeatable\n"
"                         (default: 127.0.0.1 and ::1)\n"
"  -p, --port N           TCP port, 0 picks a free one (default: 7777)\n"
"      --unix PATH        also listen on a UNIX-domain socket\n"
"  -w, --workers N        worker threads (default: online CPUs)\n"
"      --max-clients N    clients at once; the next gets \"server full\"\n"
"                         (default: 10000)\n"
"      --max-line BYTES   longest line, CR and LF not counted (default: 4096)\n"
"      --sendq BYTES      unsent bytes a client may hold before it is cut off\n"
"                         as too slow (default: 1048576)\n"
"      --rate LINES       lines per second per client, 0 = unlimited\n"
"                         (default: 20)\n"
"      --burst LINES      lines a client may send at once (default: 40)\n"
"      --announce-max N   announce joins, leaves and nick changes to everyone\n"
"                         only while the room has at most N members\n"
"                         (default: 200)\n"
"  -h, --help             show this help and exit\n"
"  -V, --version          show the version and exit\n"
"\n"
"Clients connect with nc or telnet; see chatd(8) and doc/PROTOCOL.md.\n");
}

void
options_defaults(struct options *o)
{
	long	 ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	memset(o, 0, sizeof(*o));
	o->port = 7777;
	o->workers = ncpu > 0 ? (unsigned)ncpu : 1;
	o->max_clients = 10000;
	o->max_line = 4096;
	o->sendq = 1024 * 1024;
	o->rate = 20;
	o->burst = 40;
	o->announce_max = 200;
}

/* Parse a decimal in [min, max]; on error name the option and the value. */
static int
parse_number(const char *opt, const char *arg, uintmax_t min, uintmax_t max,
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
	fprintf(stderr, "chatd: --%s: '%s' is not a number from %ju to %ju\n",
	    opt, arg, min, max);
	return -1;
}

static int
set_number(const struct option *lo, const char *arg, struct options *o)
{
	uintmax_t	 v;
	const char	*name = lo->name;

	if (lo->val == 'p') {
		if (parse_number(name, arg, 0, 65535, &v) == -1)
			return -1;
		o->port = (unsigned)v;
	} else if (lo->val == 'w') {
		if (parse_number(name, arg, 1, 1024, &v) == -1)
			return -1;
		o->workers = (unsigned)v;
	} else if (lo->val == OPT_MAX_CLIENTS) {
		if (parse_number(name, arg, 1, 1000000, &v) == -1)
			return -1;
		o->max_clients = (size_t)v;
	} else if (lo->val == OPT_MAX_LINE) {
		if (parse_number(name, arg, 16, 1024 * 1024, &v) == -1)
			return -1;
		o->max_line = (size_t)v;
	} else if (lo->val == OPT_SENDQ) {
		if (parse_number(name, arg, 4096, (uintmax_t)1 << 32, &v) == -1)
			return -1;
		o->sendq = (size_t)v;
	} else if (lo->val == OPT_RATE) {
		if (parse_number(name, arg, 0, 1000000, &v) == -1)
			return -1;
		o->rate = (unsigned)v;
	} else if (lo->val == OPT_BURST) {
		if (parse_number(name, arg, 1, 1000000, &v) == -1)
			return -1;
		o->burst = (unsigned)v;
	} else if (lo->val == OPT_ANNOUNCE_MAX) {
		if (parse_number(name, arg, 0, 1000000, &v) == -1)
			return -1;
		o->announce_max = (size_t)v;
	}
	return 0;
}

static bool
is_ip_address(const char *s)
{
	unsigned char	 buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

static const struct option *
option_by_val(int val)
{
	const struct option	*lo;

	for (lo = long_options; lo->name != NULL; lo++)
		if (lo->val == val)
			return lo;
	return NULL;
}

enum options_result
options_parse(struct options *o, int argc, char **argv)
{
	const struct option	*lo;
	int			 ch;

	options_defaults(o);
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":b:p:w:hV", long_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return OPTIONS_EXIT_OK;
		case 'V':
			printf("chatd %s\n", PACKAGE_VERSION);
			return OPTIONS_EXIT_OK;
		case 'b':
			if (o->nbinds == OPTIONS_MAX_BINDS) {
				fprintf(stderr, "chatd: --bind: at most %d "
				    "addresses\n", OPTIONS_MAX_BINDS);
				return OPTIONS_USAGE;
			}
			if (!is_ip_address(optarg)) {
				fprintf(stderr, "chatd: --bind: '%s' is not an "
				    "IPv4 or IPv6 address\n", optarg);
				goto usage;
			}
			o->binds[o->nbinds++] = optarg;
			break;
		case OPT_UNIX:
			if (optarg[0] == '\0') {
				fprintf(stderr, "chatd: --unix: empty path\n");
				return OPTIONS_USAGE;
			}
			o->unix_path = optarg;
			break;
		case ':':
			fprintf(stderr, "chatd: option '%s' needs an "
			    "argument\n", argv[optind - 1]);
			goto usage;
		case '?':
			fprintf(stderr, "chatd: unknown option '%s'\n",
			    argv[optind - 1]);
			goto usage;
		default:
			if ((lo = option_by_val(ch)) == NULL ||
			    set_number(lo, optarg, o) == -1)
				goto usage;
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "chatd: unexpected argument '%s'\n",
		    argv[optind]);
		goto usage;
	}
	if (o->nbinds == 0) {
		o->binds[o->nbinds++] = "127.0.0.1";
		o->binds[o->nbinds++] = "::1";
		o->default_binds = 1;
	}
	return OPTIONS_RUN;
usage:
	fprintf(stderr, "Try 'chatd --help' for more information.\n");
	return OPTIONS_USAGE;
}
