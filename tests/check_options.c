/*
 * check_options.c - the settings: defaults, the command line, the config
 * file with its error messages, their precedence, and reloading.
 *
 * options_parse() and options_reload() use getopt_long(), whose state is
 * global: every test calls them from this one thread, one after another.
 */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "check_run.h"
#include "check_tmp.h"

#define MAX_ARGS	64

static void
setup(void)
{
	tmpdir_make("check_options");
}

static void
teardown(void)
{
	tmpdir_remove();
}

/* Write text to tmpdir/name; the full path goes to path. */
static void
write_file(const char *name, const char *text, char *path, size_t size)
{
	FILE	*f;

	snprintf(path, size, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "fopen %s: %s", path, strerror(errno));
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

/*
 * Run options_parse() on "chatd" and the NULL-terminated arguments.
 * getopt_long() may permute the pointer array, never the strings.
 */
static enum options_result
parse(struct options *o, ...)
{
	char		*argv[MAX_ARGS];
	const char	*arg;
	va_list		 ap;
	int		 argc = 0;

	argv[argc++] = (char *)"chatd";
	va_start(ap, o);
	while ((arg = va_arg(ap, const char *)) != NULL) {
		ck_assert_int_lt(argc, MAX_ARGS - 1);
		argv[argc++] = (char *)arg;
	}
	va_end(ap);
	argv[argc] = NULL;
	return options_parse(o, argc, argv);
}

/* The same for options_reload(). */
static int
reload(struct options *o, char *err, size_t errlen, ...)
{
	char		*argv[MAX_ARGS];
	const char	*arg;
	va_list		 ap;
	int		 argc = 0;

	argv[argc++] = (char *)"chatd";
	va_start(ap, errlen);
	while ((arg = va_arg(ap, const char *)) != NULL) {
		ck_assert_int_lt(argc, MAX_ARGS - 1);
		argv[argc++] = (char *)arg;
	}
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	return options_reload(o, argc, argv, err, errlen);
}

/* Parse one option and its value; it must be refused as a usage error. */
static void
refuse(const char *opt, const char *value)
{
	struct options		 o;
	enum options_result	 r;

	r = parse(&o, opt, value, (const char *)NULL);
	ck_assert_msg(r == OPTIONS_USAGE, "%s %s: result %d, not "
	    "OPTIONS_USAGE (%d)", opt, value != NULL ? value : "", (int)r,
	    (int)OPTIONS_USAGE);
	/* Nothing is left to free: the result is all zero. */
	ck_assert_ptr_null(o.config_path);
	ck_assert_uint_eq(o.nbinds, 0);
	options_free(&o);
}

/* Parse one option and its value; it must be accepted. */
static void
accept_one(struct options *o, const char *opt, const char *value)
{
	enum options_result	 r;

	r = parse(o, opt, value, (const char *)NULL);
	ck_assert_msg(r == OPTIONS_RUN, "%s %s: result %d, not OPTIONS_RUN",
	    opt, value != NULL ? value : "", (int)r);
}

/* The absolute form of a path relative to the current directory. */
static void
absolute(const char *rel, char *buf, size_t size)
{
	char	 cwd[4096];

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	snprintf(buf, size, "%s/%s", cwd, rel);
}

/*
 * 1. Defaults.
 */
START_TEST(test_defaults)
{
	struct options	 o;
	long		 ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	memset(&o, 0xa5, sizeof(o));
	options_defaults(&o);
	ck_assert_uint_eq(o.port, 7777);
	ck_assert_uint_eq(o.max_clients, 10000);
	ck_assert_uint_eq(o.max_line, 4096);
	ck_assert_uint_eq(o.sendq, 1048576);
	ck_assert_uint_eq(o.rate, 20);
	ck_assert_uint_eq(o.burst, 40);
	ck_assert_uint_eq(o.announce_max, 200);
	ck_assert_uint_eq(o.max_per_ip, 16);
	ck_assert_uint_eq(o.connect_rate, 5);
	ck_assert_uint_eq(o.connect_burst, 20);
	ck_assert(!o.limit_loopback);
	ck_assert_uint_eq(o.idle_timeout, 0);
	ck_assert_uint_eq(o.keepalive, 120);
	ck_assert_int_eq(o.log_level, 2);
	ck_assert_str_eq(options_level_name(o.log_level), "info");
	ck_assert_uint_eq(o.workers, ncpu > 0 ? (unsigned)ncpu : 1);
	ck_assert_uint_eq(o.stats_interval, 0);
	ck_assert_uint_eq(o.nbinds, 0);
	ck_assert(!o.default_binds);
	ck_assert(!o.daemon);
	ck_assert(!o.syslog);
	ck_assert_ptr_null(o.unix_path);
	ck_assert_ptr_null(o.config_path);
	ck_assert_ptr_null(o.motd_path);
	ck_assert_ptr_null(o.log_file);
	ck_assert_ptr_null(o.pidfile);
	ck_assert_ptr_null(o.user);
	options_free(&o);

	ck_assert_str_eq(options_level_name(0), "error");
	ck_assert_str_eq(options_level_name(1), "warn");
	ck_assert_str_eq(options_level_name(3), "debug");
	ck_assert_str_eq(options_level_name(4), "?");
	ck_assert_str_eq(options_level_name(-1), "?");
}
END_TEST

/*
 * 2. No arguments: the defaults, listening on both loopback addresses.
 */
START_TEST(test_parse_empty)
{
	struct options	 o;

	ck_assert_int_eq(parse(&o, (const char *)NULL), OPTIONS_RUN);
	ck_assert_uint_eq(o.port, 7777);
	ck_assert_uint_eq(o.max_clients, 10000);
	ck_assert_uint_eq(o.nbinds, 2);
	ck_assert_str_eq(o.binds[0], "127.0.0.1");
	ck_assert_str_eq(o.binds[1], "::1");
	ck_assert(o.default_binds);
	ck_assert_ptr_null(o.config_path);
	options_free(&o);
}
END_TEST

/*
 * 3. Every setting by its long name, with a separate and an attached
 * ("--name=value") argument.
 */
START_TEST(test_parse_long)
{
	struct options	 o;

	ck_assert_int_eq(parse(&o, "--port", "1234", "--workers", "3",
	    "--max-clients", "5", "--max-line", "100", "--sendq=8192",
	    "--rate", "0", "--burst=7", "--announce-max", "0",
	    "--motd", "/etc/motd", "--log-level", "debug",
	    "--log-file=/var/log/chatd.log", "--syslog", "--daemon",
	    "--pidfile", "/run/chatd.pid", "--user", "nobody",
	    "--stats-interval", "9", "--unix", "/tmp/chatd.sock",
	    "--bind", "10.0.0.1", "--bind=fe80::1", (const char *)NULL),
	    OPTIONS_RUN);
	ck_assert_uint_eq(o.port, 1234);
	ck_assert_uint_eq(o.workers, 3);
	ck_assert_uint_eq(o.max_clients, 5);
	ck_assert_uint_eq(o.max_line, 100);
	ck_assert_uint_eq(o.sendq, 8192);
	ck_assert_uint_eq(o.rate, 0);
	ck_assert_uint_eq(o.burst, 7);
	ck_assert_uint_eq(o.announce_max, 0);
	ck_assert_str_eq(o.motd_path, "/etc/motd");
	ck_assert_int_eq(o.log_level, 3);
	ck_assert_str_eq(o.log_file, "/var/log/chatd.log");
	ck_assert(o.syslog);
	ck_assert(o.daemon);
	ck_assert_str_eq(o.pidfile, "/run/chatd.pid");
	ck_assert_str_eq(o.user, "nobody");
	ck_assert_uint_eq(o.stats_interval, 9);
	ck_assert_str_eq(o.unix_path, "/tmp/chatd.sock");
	ck_assert_uint_eq(o.nbinds, 2);
	ck_assert_str_eq(o.binds[0], "10.0.0.1");
	ck_assert_str_eq(o.binds[1], "fe80::1");
	ck_assert(!o.default_binds);
	options_free(&o);

	/* The last of a repeated option wins, log levels by name. */
	ck_assert_int_eq(parse(&o, "--port", "1", "--port", "2",
	    "--log-level", "error", (const char *)NULL), OPTIONS_RUN);
	ck_assert_uint_eq(o.port, 2);
	ck_assert_int_eq(o.log_level, 0);
	options_free(&o);
	ck_assert_int_eq(parse(&o, "--log-level", "warn", (const char *)NULL),
	    OPTIONS_RUN);
	ck_assert_int_eq(o.log_level, 1);
	options_free(&o);
}
END_TEST

/*
 * 4. Short forms: -b repeated, -p, -w, -d, attached and clustered.
 */
START_TEST(test_parse_short)
{
	struct options	 o;
	char		 want[4200];

	ck_assert_int_eq(parse(&o, "-b", "192.0.2.1", "-b", "::2",
	    "-b192.0.2.3", "-p", "4000", "-w", "2", "-d", (const char *)NULL),
	    OPTIONS_RUN);
	ck_assert_uint_eq(o.nbinds, 3);
	ck_assert_str_eq(o.binds[0], "192.0.2.1");
	ck_assert_str_eq(o.binds[1], "::2");
	ck_assert_str_eq(o.binds[2], "192.0.2.3");
	ck_assert(!o.default_binds);
	ck_assert_uint_eq(o.port, 4000);
	ck_assert_uint_eq(o.workers, 2);
	ck_assert(o.daemon);
	options_free(&o);

	ck_assert_int_eq(parse(&o, "-p5", "-dw", "7", (const char *)NULL),
	    OPTIONS_RUN);
	ck_assert_uint_eq(o.port, 5);
	ck_assert(o.daemon);
	ck_assert_uint_eq(o.workers, 7);
	ck_assert(o.default_binds);
	options_free(&o);

	/* Relative paths become absolute, from the current directory. */
	ck_assert_int_eq(parse(&o, "--pidfile", "run/chatd.pid", "--motd",
	    "motd.txt", (const char *)NULL), OPTIONS_RUN);
	absolute("run/chatd.pid", want, sizeof(want));
	ck_assert_str_eq(o.pidfile, want);
	absolute("motd.txt", want, sizeof(want));
	ck_assert_str_eq(o.motd_path, want);
	options_free(&o);
}
END_TEST

/*
 * 5. Boundaries: the smallest and largest values are accepted.
 */
START_TEST(test_parse_bounds)
{
	struct options	 o;

	accept_one(&o, "--port", "0");
	ck_assert_uint_eq(o.port, 0);
	options_free(&o);
	accept_one(&o, "--port", "65535");
	ck_assert_uint_eq(o.port, 65535);
	options_free(&o);
	accept_one(&o, "--workers", "1024");
	ck_assert_uint_eq(o.workers, 1024);
	options_free(&o);
	accept_one(&o, "--max-clients", "1");
	ck_assert_uint_eq(o.max_clients, 1);
	options_free(&o);
	accept_one(&o, "--max-clients", "1000000");
	ck_assert_uint_eq(o.max_clients, 1000000);
	options_free(&o);
	accept_one(&o, "--max-line", "16");
	ck_assert_uint_eq(o.max_line, 16);
	options_free(&o);
	accept_one(&o, "--max-line", "1048576");
	ck_assert_uint_eq(o.max_line, 1048576);
	options_free(&o);
	accept_one(&o, "--sendq", "4096");
	ck_assert_uint_eq(o.sendq, 4096);
	options_free(&o);
	if (sizeof(size_t) > 4) {
		accept_one(&o, "--sendq", "4294967296");
		ck_assert_uint_eq(o.sendq, (size_t)1 << 31 << 1);
		options_free(&o);
	}
	accept_one(&o, "--burst", "1");
	ck_assert_uint_eq(o.burst, 1);
	options_free(&o);
	accept_one(&o, "--stats-interval", "86400");
	ck_assert_uint_eq(o.stats_interval, 86400);
	options_free(&o);
}
END_TEST

/*
 * 5b. The hostile-client limits: 0 turns each off (but a burst of 0
 * would refuse everyone), and --limit-loopback is a flag.
 */
START_TEST(test_parse_hostile_limits)
{
	struct options	 o;

	accept_one(&o, "--max-per-ip", "0");
	ck_assert_uint_eq(o.max_per_ip, 0);
	options_free(&o);
	accept_one(&o, "--connect-rate", "0");
	ck_assert_uint_eq(o.connect_rate, 0);
	options_free(&o);
	accept_one(&o, "--connect-burst", "1");
	ck_assert_uint_eq(o.connect_burst, 1);
	options_free(&o);
	accept_one(&o, "--idle-timeout", "604800");
	ck_assert_uint_eq(o.idle_timeout, 604800);
	options_free(&o);
	accept_one(&o, "--keepalive", "0");
	ck_assert_uint_eq(o.keepalive, 0);
	options_free(&o);
	accept_one(&o, "--limit-loopback", NULL);
	ck_assert(o.limit_loopback);
	options_free(&o);
	refuse("--connect-burst", "0");
	refuse("--idle-timeout", "604801");
	refuse("--keepalive", "32768");
	refuse("--max-per-ip", "-1");
	refuse("--limit-loopback=yes", NULL);
}
END_TEST

/*
 * 6. Usage errors: bad address, numbers out of range or malformed,
 * unknown options, a missing argument, a stray argument.
 */
START_TEST(test_parse_errors)
{
	struct options		 o;
	enum options_result	 r;
	char			 opt[16];
	int			 i;

	refuse("--bind", "localhost");
	refuse("--bind", "1.2.3");
	refuse("--bind", "256.0.0.1");
	refuse("-b", "::g");
	refuse("--bind", "");
	refuse("--port", "65536");
	refuse("-p", "99999");
	refuse("--port", "-1");
	refuse("--port", "+1");
	refuse("--port", "12x");
	refuse("--port", "");
	refuse("--port", " 1");
	refuse("--port", "99999999999999999999999");
	refuse("--workers", "0");
	refuse("--workers", "1025");
	refuse("--max-clients", "0");
	refuse("--max-clients", "1000001");
	refuse("--max-line", "15");
	refuse("--max-line", "1048577");
	refuse("--sendq", "4095");
	refuse("--sendq", "4294967297");
	refuse("--rate", "1000001");
	refuse("--burst", "0");
	refuse("--announce-max", "1000001");
	refuse("--stats-interval", "86401");
	refuse("--log-level", "loud");
	refuse("--log-level", "INFO");
	refuse("--user", "");
	refuse("--motd", "");
	refuse("--bogus", NULL);
	refuse("-x", NULL);
	refuse("--port", NULL);		/* missing argument */
	refuse("-p", NULL);
	refuse("stray", NULL);
	refuse("--port", "1 2");
	refuse("--syslog=yes", NULL);	/* a flag takes no argument */

	/* At most OPTIONS_MAX_BINDS addresses. */
	{
		char	*argv[2 * OPTIONS_MAX_BINDS + 4];
		char	 addr[OPTIONS_MAX_BINDS + 1][32];
		int	 argc = 0;

		argv[argc++] = (char *)"chatd";
		for (i = 0; i <= OPTIONS_MAX_BINDS; i++) {
			snprintf(addr[i], sizeof(addr[i]), "10.0.0.%d",
			    i + 1);
			argv[argc++] = (char *)"-b";
			argv[argc++] = addr[i];
		}
		argv[argc] = NULL;
		r = options_parse(&o, argc, argv);
		ck_assert_int_eq(r, OPTIONS_USAGE);
		options_free(&o);
		argc -= 2;
		argv[argc] = NULL;
		r = options_parse(&o, argc, argv);
		ck_assert_int_eq(r, OPTIONS_RUN);
		ck_assert_uint_eq(o.nbinds, OPTIONS_MAX_BINDS);
		options_free(&o);
	}

	/* Every letter not in the option table is unknown. */
	for (i = 'a'; i <= 'z'; i++) {
		if (strchr("bpwcdh", i) != NULL)
			continue;
		snprintf(opt, sizeof(opt), "-%c", i);
		refuse(opt, NULL);
	}
}
END_TEST

/*
 * 7. --help and --version: exit at once, before any error and without
 * reading the config file.
 */
START_TEST(test_parse_help_version)
{
	struct options	 o;

	ck_assert_int_eq(parse(&o, "--help", (const char *)NULL),
	    OPTIONS_EXIT_OK);
	options_free(&o);
	ck_assert_int_eq(parse(&o, "-h", (const char *)NULL),
	    OPTIONS_EXIT_OK);
	options_free(&o);
	ck_assert_int_eq(parse(&o, "--version", (const char *)NULL),
	    OPTIONS_EXIT_OK);
	options_free(&o);
	ck_assert_int_eq(parse(&o, "-V", (const char *)NULL),
	    OPTIONS_EXIT_OK);
	options_free(&o);
	ck_assert_int_eq(parse(&o, "-c", "/nonexistent/chatd.conf",
	    "--port", "99999", "--help", (const char *)NULL), OPTIONS_EXIT_OK);
	options_free(&o);
	fflush(stdout);
}
END_TEST

/*
 * 8. Two parses in a row do not share getopt state: a first one that
 * stops in the middle of a cluster of short options ("-Vh" stops at V)
 * must not leave the "h" for the next one.
 */
START_TEST(test_parse_sequence)
{
	struct options	 o;

	ck_assert_int_eq(parse(&o, "-Vh", (const char *)NULL),
	    OPTIONS_EXIT_OK);
	options_free(&o);
	ck_assert_int_eq(parse(&o, "-p", "5", (const char *)NULL),
	    OPTIONS_RUN);
	ck_assert_uint_eq(o.port, 5);
	options_free(&o);

	ck_assert_int_eq(parse(&o, "-dx", (const char *)NULL),
	    OPTIONS_USAGE);
	options_free(&o);
	ck_assert_int_eq(parse(&o, (const char *)NULL), OPTIONS_RUN);
	ck_assert(!o.daemon);
	options_free(&o);
	fflush(stdout);
}
END_TEST

/*
 * 9. A good config file: comments, blank lines, spaces and TABs around
 * '=', every kind of value.
 */
static const char good_conf[] =
	"# chatd test configuration\n"
	"\n"
	"   # an indented comment\n"
	"port=1234\n"
	"  max-clients   =   5  \n"
	"\tmax-line\t=\t100\t\n"
	"sendq = 8192\n"
	"rate = 0\n"
	"burst = 7\n"
	"announce-max = 3\n"
	"workers = 2\n"
	"stats-interval = 60\n"
	"\n"
	"motd = motd.txt\n"
	"log-file = /var/log/chatd.log\n"
	"pidfile = /run/chatd.pid\n"
	"unix = sock/chatd\n"
	"user = chat user\n"
	"syslog = yes\n"
	"daemon = no\n"
	"log-level = warn\n"
	"bind = 192.0.2.1\n"
	"bind = 2001:db8::1\n"
	"   \t  \n"
	"# the end, without a final newline:\n"
	"bind = 192.0.2.2";

static void
check_good(const struct options *o)
{
	char	 want[4200];

	ck_assert_uint_eq(o->port, 1234);
	ck_assert_uint_eq(o->max_clients, 5);
	ck_assert_uint_eq(o->max_line, 100);
	ck_assert_uint_eq(o->sendq, 8192);
	ck_assert_uint_eq(o->rate, 0);
	ck_assert_uint_eq(o->burst, 7);
	ck_assert_uint_eq(o->announce_max, 3);
	ck_assert_uint_eq(o->workers, 2);
	ck_assert_uint_eq(o->stats_interval, 60);
	absolute("motd.txt", want, sizeof(want));
	ck_assert_str_eq(o->motd_path, want);
	absolute("sock/chatd", want, sizeof(want));
	ck_assert_str_eq(o->unix_path, want);
	ck_assert_str_eq(o->log_file, "/var/log/chatd.log");
	ck_assert_str_eq(o->pidfile, "/run/chatd.pid");
	ck_assert_str_eq(o->user, "chat user");
	ck_assert(o->syslog);
	ck_assert(!o->daemon);
	ck_assert_int_eq(o->log_level, 1);
	ck_assert_uint_eq(o->nbinds, 3);
	ck_assert_str_eq(o->binds[0], "192.0.2.1");
	ck_assert_str_eq(o->binds[1], "2001:db8::1");
	ck_assert_str_eq(o->binds[2], "192.0.2.2");
	ck_assert(!o->default_binds);
}

START_TEST(test_file_good)
{
	struct options	 o;
	char		 path[512], err[1024] = "";

	write_file("chatd.conf", good_conf, path, sizeof(path));

	options_defaults(&o);
	ck_assert_msg(options_load_file(&o, path, err, sizeof(err)) == 0,
	    "options_load_file: %s", err);
	check_good(&o);
	options_free(&o);

	/* The same through the command line. */
	ck_assert_int_eq(parse(&o, "-c", path, (const char *)NULL),
	    OPTIONS_RUN);
	check_good(&o);
	ck_assert_str_eq(o.config_path, path);
	options_free(&o);
	ck_assert_int_eq(parse(&o, "--config", path, (const char *)NULL),
	    OPTIONS_RUN);
	check_good(&o);
	options_free(&o);

	/* Every spelling of a bool. */
	{
		static const struct {
			const char	*text;
			bool		 value;
		} bools[] = {
			{ "daemon = yes\n", true }, { "daemon = no\n", false },
			{ "daemon = true\n", true },
			{ "daemon = false\n", false },
			{ "daemon = on\n", true }, { "daemon = off\n", false },
			{ "daemon = 1\n", true }, { "daemon = 0\n", false },
			{ "daemon = YES\n", true }, { "daemon = Off\n", false },
		};
		size_t	 i;

		for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
			write_file("other.conf", bools[i].text, path,
			    sizeof(path));
			options_defaults(&o);
			o.daemon = !bools[i].value;
			ck_assert_msg(options_load_file(&o, path, err,
			    sizeof(err)) == 0, "%s: %s", bools[i].text, err);
			ck_assert_msg(o.daemon == bools[i].value,
			    "\"%s\" gave %d", bools[i].text, (int)o.daemon);
			options_free(&o);
		}
	}

	/* An empty file, and one of comments only, change nothing. */
	write_file("other.conf", "", path, sizeof(path));
	options_defaults(&o);
	ck_assert_int_eq(options_load_file(&o, path, err, sizeof(err)), 0);
	ck_assert_uint_eq(o.port, 7777);
	options_free(&o);
	write_file("other.conf", "# port = 1\n\n#bind=1.2.3.4\n", path,
	    sizeof(path));
	ck_assert_int_eq(parse(&o, "-c", path, (const char *)NULL),
	    OPTIONS_RUN);
	ck_assert_uint_eq(o.port, 7777);
	ck_assert(o.default_binds);
	ck_assert_uint_eq(o.nbinds, 2);
	options_free(&o);
}
END_TEST

/*
 * 10. Every kind of config-file error, with its file and line number.
 */
START_TEST(test_file_errors)
{
	static const struct {
		const char	*line;
		const char	*why;
	} cases[] = {
		{ "bogus = 1", "unknown key 'bogus'" },
		{ "--port = 1", "unknown key '--port'" },
		{ "port = 12x", "port: '12x' is not a number from 0 to 65535" },
		{ "port = -5", "port: '-5' is not a number from 0 to 65535" },
		{ "port = 65536",
		    "port: '65536' is not a number from 0 to 65535" },
		{ "max-line = 15",
		    "max-line: '15' is not a number from 16 to 1048576" },
		{ "max-clients = 0",
		    "max-clients: '0' is not a number from 1 to 1000000" },
		{ "port 1234", "expected \"key = value\"" },
		{ "daemon", "expected \"key = value\"" },
		{ "syslog = maybe", "syslog: 'maybe' is not yes or no" },
		{ "daemon =", "daemon: '' is not yes or no" },
		{ "log-level = loud",
		    "log-level: 'loud' is not error, warn, info or debug" },
		{ "motd =", "motd: empty value" },
		{ "user =   ", "user: empty value" },
		{ "port =", "port: '' is not a number from 0 to 65535" },
		{ "config = other.conf", "a config file cannot name another" },
		{ "bind = localhost",
		    "bind: 'localhost' is not an IPv4 or IPv6 address" },
		{ "= 5", "unknown key ''" },
	};
	struct options	 o;
	char		 text[1024], path[512], err[1024], want[2048];
	size_t		 i, j, lineno;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* A comment, a blank line, a good line, i more blanks. */
		snprintf(text, sizeof(text), "# comment\n\nport = 1\n");
		for (j = 0; j < i; j++)
			strncat(text, "\n", sizeof(text) - strlen(text) - 1);
		lineno = 3 + i + 1;
		strncat(text, cases[i].line, sizeof(text) - strlen(text) - 1);
		strncat(text, "\nport = 2\nbogus line after\n",
		    sizeof(text) - strlen(text) - 1);
		write_file("bad.conf", text, path, sizeof(path));
		snprintf(want, sizeof(want), "%s:%zu: %s", path, lineno,
		    cases[i].why);

		options_defaults(&o);
		memset(err, 0, sizeof(err));
		ck_assert_msg(options_load_file(&o, path, err, sizeof(err))
		    == -1, "\"%s\" accepted", cases[i].line);
		ck_assert_msg(strcmp(err, want) == 0,
		    "\"%s\": message \"%s\", expected \"%s\"", cases[i].line,
		    err, want);
		/* Reading stopped at the error. */
		ck_assert_uint_eq(o.port, 1);
		options_free(&o);

		ck_assert_int_eq(parse(&o, "-c", path, (const char *)NULL),
		    OPTIONS_BAD_CONFIG);
		ck_assert_ptr_null(o.config_path);
		options_free(&o);
	}
}
END_TEST

/*
 * 11. A missing file: the message names it.
 */
START_TEST(test_file_missing)
{
	struct options	 o;
	char		 path[512], err[1024] = "", want[1024];

	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	options_defaults(&o);
	ck_assert_int_eq(options_load_file(&o, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: %s", path, strerror(ENOENT));
	ck_assert_str_eq(err, want);
	options_free(&o);

	ck_assert_int_eq(parse(&o, "-c", path, (const char *)NULL),
	    OPTIONS_BAD_CONFIG);
	options_free(&o);

	/* A directory cannot be read as a file. */
	options_defaults(&o);
	err[0] = '\0';
	ck_assert_int_eq(options_load_file(&o, tmpdir, err, sizeof(err)), -1);
	ck_assert_msg(strncmp(err, tmpdir, strlen(tmpdir)) == 0,
	    "message \"%s\" does not name %s", err, tmpdir);
	options_free(&o);
}
END_TEST

/*
 * 12. options_set(): the config file's way to set one key.
 */
START_TEST(test_set)
{
	struct options	 o;
	char		 err[256];

	options_defaults(&o);
	ck_assert_int_eq(options_set(&o, "port", "99", err, sizeof(err)), 0);
	ck_assert_uint_eq(o.port, 99);
	ck_assert_int_eq(options_set(&o, "log-level", "debug", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(o.log_level, 3);
	ck_assert_int_eq(options_set(&o, "bind", "::", err, sizeof(err)), 0);
	ck_assert_int_eq(options_set(&o, "bind", "0.0.0.0", err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(o.nbinds, 2);
	ck_assert_int_eq(options_set(&o, "nope", "1", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unknown key 'nope'");
	ck_assert_int_eq(options_set(&o, "help", "1", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unknown key 'help'");
	ck_assert_int_eq(options_set(&o, "rate", "x", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "rate: 'x' is not a number from 0 to 1000000");
	ck_assert_uint_eq(o.rate, 20);
	options_free(&o);
}
END_TEST

/*
 * 12b. The password: from the command line, or the first line of a file
 * (line end removed), not both; and the TLS settings' defaults.
 */
START_TEST(test_password_and_tls)
{
	struct options	 o;
	char		 path[512], empty[512];

	ck_assert_int_eq(parse(&o, (const char *)NULL), OPTIONS_RUN);
	ck_assert_ptr_null(o.password);
	ck_assert_ptr_null(o.tls_cert);
	ck_assert_uint_eq(o.tls_port, 7443);
	ck_assert_uint_eq(o.tls_handshake_timeout, 10);
	options_free(&o);

	ck_assert_int_eq(parse(&o, "--password", "a b ", (const char *)NULL),
	    OPTIONS_RUN);
	ck_assert_str_eq(o.password, "a b ");
	options_free(&o);

	write_file("pass", "open sesame\r\nsecond line\n", path,
	    sizeof(path));
	ck_assert_int_eq(parse(&o, "--password-file", path,
	    (const char *)NULL), OPTIONS_RUN);
	ck_assert_str_eq(o.password, "open sesame");
	options_free(&o);

	ck_assert_int_eq(parse(&o, "--password-file", path, "--password",
	    "x", (const char *)NULL), OPTIONS_BAD_CONFIG);
	write_file("empty", "\n", empty, sizeof(empty));
	ck_assert_int_eq(parse(&o, "--password-file", empty,
	    (const char *)NULL), OPTIONS_BAD_CONFIG);
	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	ck_assert_int_eq(parse(&o, "--password-file", path,
	    (const char *)NULL), OPTIONS_BAD_CONFIG);

	ck_assert_int_eq(parse(&o, "--tls-handshake-timeout", "0",
	    (const char *)NULL), OPTIONS_USAGE);
	ck_assert_int_eq(parse(&o, "--tls-port", "65536",
	    (const char *)NULL), OPTIONS_USAGE);
}
END_TEST

/*
 * 13. Precedence: defaults < file < command line, wherever -c stands.
 */
START_TEST(test_precedence)
{
	struct options	 o;
	char		 path[512];

	write_file("chatd.conf", "port = 1234\nmax-clients = 5\n"
	    "rate = 9\nbind = 192.0.2.1\nbind = 192.0.2.2\n", path,
	    sizeof(path));

	ck_assert_int_eq(parse(&o, "-c", path, "--port", "4321",
	    (const char *)NULL), OPTIONS_RUN);
	ck_assert_uint_eq(o.port, 4321);
	ck_assert_uint_eq(o.max_clients, 5);
	ck_assert_uint_eq(o.rate, 9);
	ck_assert_uint_eq(o.burst, 40);		/* the default */
	ck_assert_uint_eq(o.nbinds, 2);		/* the file's */
	ck_assert_str_eq(o.binds[0], "192.0.2.1");
	ck_assert_str_eq(o.binds[1], "192.0.2.2");
	ck_assert(!o.default_binds);
	options_free(&o);

	/* The command line wins even before -c. */
	ck_assert_int_eq(parse(&o, "--port", "4321", "--rate", "1", "-c",
	    path, (const char *)NULL), OPTIONS_RUN);
	ck_assert_uint_eq(o.port, 4321);
	ck_assert_uint_eq(o.rate, 1);
	ck_assert_uint_eq(o.max_clients, 5);
	options_free(&o);

	/* --bind replaces the file's addresses, it does not add to them. */
	ck_assert_int_eq(parse(&o, "-c", path, "--bind", "198.51.100.7",
	    (const char *)NULL), OPTIONS_RUN);
	ck_assert_uint_eq(o.nbinds, 1);
	ck_assert_str_eq(o.binds[0], "198.51.100.7");
	ck_assert(!o.default_binds);
	options_free(&o);
	ck_assert_int_eq(parse(&o, "-b", "::1", "-c", path, "-b",
	    "198.51.100.7", (const char *)NULL), OPTIONS_RUN);
	ck_assert_uint_eq(o.nbinds, 2);
	ck_assert_str_eq(o.binds[0], "::1");
	ck_assert_str_eq(o.binds[1], "198.51.100.7");
	options_free(&o);

	/* A command-line error after a good file is a usage error. */
	ck_assert_int_eq(parse(&o, "-c", path, "--port", "70000",
	    (const char *)NULL), OPTIONS_USAGE);
	options_free(&o);
	/* A bad file is reported even when the command line is good. */
	write_file("bad.conf", "port = 1\nport = x\n", path, sizeof(path));
	ck_assert_int_eq(parse(&o, "-c", path, "--port", "4321",
	    (const char *)NULL), OPTIONS_BAD_CONFIG);
	options_free(&o);
}
END_TEST

/*
 * 14. options_reload() rereads the file, keeps the command line on top,
 * and fails cleanly on a broken or missing file.
 */
START_TEST(test_reload)
{
	struct options	 o;
	char		 path[512], err[1024], want[1024];
	int		 round;

	write_file("chatd.conf", "max-clients = 5\nrate = 9\n"
	    "bind = 192.0.2.1\n", path, sizeof(path));

	ck_assert_msg(reload(&o, err, sizeof(err), "-c", path, "--rate", "3",
	    "--port", "0", (const char *)NULL) == 0, "reload: %s", err);
	ck_assert_uint_eq(o.max_clients, 5);
	ck_assert_uint_eq(o.rate, 3);
	ck_assert_uint_eq(o.port, 0);
	ck_assert_uint_eq(o.nbinds, 1);
	ck_assert_str_eq(o.config_path, path);
	options_free(&o);

	for (round = 0; round < 3; round++) {
		/* Change the file: the new values are seen. */
		write_file("chatd.conf", "max-clients = 7\nrate = 8\n"
		    "max-line = 200\nmotd = /etc/motd\n", path, sizeof(path));
		ck_assert_msg(reload(&o, err, sizeof(err), "-c", path,
		    "--rate", "3", "--port", "0", (const char *)NULL) == 0,
		    "reload: %s", err);
		ck_assert_uint_eq(o.max_clients, 7);
		ck_assert_uint_eq(o.rate, 3);
		ck_assert_uint_eq(o.max_line, 200);
		ck_assert_str_eq(o.motd_path, "/etc/motd");
		ck_assert(o.default_binds);	/* the bind line went */
		options_free(&o);

		/* Break it: an error with file and line, o is freed. */
		write_file("chatd.conf", "max-clients = 2\nbogus = 1\n", path,
		    sizeof(path));
		ck_assert_int_eq(reload(&o, err, sizeof(err), "-c", path,
		    "--rate", "3", (const char *)NULL), -1);
		snprintf(want, sizeof(want), "%s:2: unknown key 'bogus'",
		    path);
		ck_assert_str_eq(err, want);
		ck_assert_ptr_null(o.config_path);
		ck_assert_uint_eq(o.nbinds, 0);
		options_free(&o);

		write_file("chatd.conf", "max-clients = 2\n\nrate = 2000000\n",
		    path, sizeof(path));
		ck_assert_int_eq(reload(&o, err, sizeof(err), "-c", path,
		    (const char *)NULL), -1);
		snprintf(want, sizeof(want), "%s:3: rate: '2000000' is not a "
		    "number from 0 to 1000000", path);
		ck_assert_str_eq(err, want);
		options_free(&o);

		/* Gone altogether. */
		ck_assert_int_eq(unlink(path), 0);
		ck_assert_int_eq(reload(&o, err, sizeof(err), "-c", path,
		    (const char *)NULL), -1);
		snprintf(want, sizeof(want), "%s: %s", path,
		    strerror(ENOENT));
		ck_assert_str_eq(err, want);
		options_free(&o);
	}

	/* Without -c a reload gives the command line over the defaults. */
	ck_assert_int_eq(reload(&o, err, sizeof(err), "--max-clients", "4",
	    (const char *)NULL), 0);
	ck_assert_uint_eq(o.max_clients, 4);
	ck_assert_uint_eq(o.rate, 20);
	ck_assert_ptr_null(o.config_path);
	options_free(&o);
}
END_TEST

static Suite *
options_suite(void)
{
	const struct {
		const char	*name;
		const TTest	*fn;
	} tests[] = {
		{ "defaults", test_defaults },
		{ "parse_empty", test_parse_empty },
		{ "parse_long", test_parse_long },
		{ "parse_short", test_parse_short },
		{ "parse_bounds", test_parse_bounds },
		{ "parse_hostile_limits", test_parse_hostile_limits },
		{ "parse_errors", test_parse_errors },
		{ "parse_help_version", test_parse_help_version },
		{ "parse_sequence", test_parse_sequence },
		{ "file_good", test_file_good },
		{ "file_errors", test_file_errors },
		{ "file_missing", test_file_missing },
		{ "set", test_set },
		{ "password_and_tls", test_password_and_tls },
		{ "precedence", test_precedence },
		{ "reload", test_reload },
	};
	Suite	*s;
	TCase	*tc;
	size_t	 i;

	s = suite_create("options");
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		tc = tcase_create(tests[i].name);
		tcase_add_unchecked_fixture(tc, setup, teardown);
		tcase_set_timeout(tc, 30);
		tcase_add_test(tc, tests[i].fn);
		suite_add_tcase(s, tc);
	}
	return s;
}

int
main(void)
{
	/* --help and --version print here; keep it in order with Check's. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	return check_run(options_suite());
}
