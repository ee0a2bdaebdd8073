/*
 * check_ops.c - integration tests of running chatd as a service: the
 * config file, SIGHUP reloads (MOTD, limits, a broken file, the log
 * file), SIGUSR1 and periodic stats, /stats, --pidfile, --daemon and
 * the log level.  Every test starts its own daemon (path in $CHATD).
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_net.h"
#include "check_run.h"
#include "check_tmp.h"

#define LOG_TIMEOUT	10000	/* ms for a line to show in a log */

static void
setup(void)
{
	tmpdir_make("check_ops");
}

static void
teardown(void)
{
	tmpdir_remove();
}

/* tmpdir/name into buf. */
static const char *
tmppath(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", tmpdir, name);
	return buf;
}

/* Replace the file at path with text, atomically. */
static void
write_file(const char *path, const char *text)
{
	char	 tmp[600];
	FILE	*f;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	ck_assert_msg(f != NULL, "fopen %s: %s", tmp, strerror(errno));
	ck_assert(fputs(text, f) >= 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_msg(rename(tmp, path) == 0, "rename %s: %s", tmp,
	    strerror(errno));
}

/* The whole file, NUL-terminated, or NULL if it cannot be read. */
static char *
slurp(const char *path)
{
	return tn_read_file(path, NULL);
}

static bool
file_contains(const char *path, const char *s)
{
	char	*text;
	bool	 found;

	if ((text = slurp(path)) == NULL)
		return false;
	found = strstr(text, s) != NULL;
	free(text);
	return found;
}

static size_t
file_count(const char *path, const char *s)
{
	char	*text, *p;
	size_t	 n = 0;

	if ((text = slurp(path)) == NULL)
		return 0;
	for (p = text; (p = strstr(p, s)) != NULL; p += strlen(s))
		n++;
	free(text);
	return n;
}

static void
dump_file(const char *path, const char *why)
{
	char	*text;

	fprintf(stderr, "==== %s\n==== %s:\n", why, path);
	if ((text = slurp(path)) == NULL)
		fprintf(stderr, "(cannot read: %s)\n", strerror(errno));
	else
		fputs(text, stderr);
	fprintf(stderr, "==== end of %s\n", path);
	free(text);
}

/*
 * Wait until the file holds at least n copies of s; false on timeout
 * (after dumping the file).  Logs are polled: there is no event.
 */
static bool
wait_file_count(const char *path, const char *s, size_t n, int timeout_ms)
{
	char		 why[512];
	int64_t		 deadline = tn_now_ms() + timeout_ms;

	for (;;) {
		if (file_count(path, s) >= n)
			return true;
		if (tn_now_ms() >= deadline)
			break;
		poll(NULL, 0, 20);
	}
	snprintf(why, sizeof(why), "no \"%s\" (x%zu) within %d ms", s, n,
	    timeout_ms);
	dump_file(path, why);
	return false;
}

#define WAIT_FILE(path, s) \
	ck_assert_msg(wait_file_count((path), (s), 1, LOG_TIMEOUT), \
	    "%s: no \"%s\" within %d ms", (path), (s), LOG_TIMEOUT)
#define WAIT_LOG(d, s)	WAIT_FILE((d)->log, (s))

/* The port of the "listening on 127.0.0.1:PORT" line in a file, or 0. */
static uint16_t
file_port(const char *path)
{
	static const char	 key[] = " info server: listening on 127.0.0.1:";
	char			*text, *p, *end;
	unsigned long		 port = 0;

	if ((text = slurp(path)) == NULL)
		return 0;
	if ((p = strstr(text, key)) != NULL) {
		p += sizeof(key) - 1;
		port = strtoul(p, &end, 10);
		if (end == p || *end != '\n' || port > 65535)
			port = 0;
	}
	free(text);
	return (uint16_t)port;
}

/* Close c, keeping its nickname in nick for what the others see. */
static void
hang_up(struct tn_client *c, char *nick, size_t size)
{
	snprintf(nick, size, "%s", c->nick);
	tn_close(c);
}

/* Connect, expect "!! server full" and the end of the connection. */
static void
refused(struct tn_daemon *d)
{
	struct tn_client	*c;

	c = tn_connect(d);
	ck_assert_msg(c != NULL, "%s", tn_error());
	EXPECT(c, "!! server full");
	EXPECT_EOF(c);
	tn_close(c);
}

/*
 * Connect until a welcome comes instead of "!! server full": a slot
 * freed by a client that left is free once the server has seen the
 * close, which the test cannot observe directly.
 */
static struct tn_client *
join_when_free(struct tn_daemon *d)
{
	struct tn_client	*c;
	char			 line[TN_LINE_MAX];
	int64_t			 deadline = tn_now_ms() + LOG_TIMEOUT;
	int			 r;

	for (;;) {
		c = tn_connect(d);
		ck_assert_msg(c != NULL, "%s", tn_error());
		r = tn_readline(c, line, sizeof(line), TN_LINE_TIMEOUT);
		ck_assert_msg(r >= 0, "%s", tn_error());
		if (tn_parse_welcome(line, c->nick, sizeof(c->nick),
		    &c->online) == 0)
			return c;
		ck_assert_msg(strcmp(line, "!! server full") == 0,
		    "expected a welcome or \"!! server full\", got \"%s\"",
		    line);
		tn_close(c);
		ck_assert_msg(tn_now_ms() < deadline,
		    "still \"server full\" after %d ms", LOG_TIMEOUT);
		poll(NULL, 0, 20);
	}
}

/* Send a chat line from a; a and every other client get it. */
static void
say(struct tn_client *a, struct tn_client **others, size_t n,
    const char *text)
{
	size_t	 i;

	SENDF(a, "%s\r\n", text);
	EXPECTF(a, "<%s> %s", a->nick, text);
	for (i = 0; i < n; i++)
		EXPECTF(others[i], "<%s> %s", a->nick, text);
}

/*
 * 1. The config file alone says where to listen and how many clients:
 * nothing else is on the command line.
 */
START_TEST(test_config_file)
{
	struct tn_daemon	*d;
	struct tn_client	*a, *b, *c;
	char			 conf[300], nick[160];
	const char		*args[] = { "-c", conf, NULL };

	tmppath("chatd.conf", conf, sizeof(conf));
	write_file(conf, "# two at most\nport = 0\nbind = 127.0.0.1\n"
	    "max-clients = 2\n");
	d = start_raw(args);
	WAIT_LOG(d, " worker threads, up to 2 clients");
	ck_assert_msg(!tn_log_contains(d, "listening on [::1]"),
	    "listening on ::1 although the file binds 127.0.0.1 only");

	a = join(d);
	b = join(d);
	EXPECTF(a, "-- %s joined", b->nick);
	refused(d);
	refused(d);
	WAIT_LOG(d, "refused: server full");

	/* A slot freed is a slot for the next client. */
	hang_up(a, nick, sizeof(nick));
	EXPECTF(b, "-- %s left", nick);
	c = join_when_free(d);
	EXPECTF(b, "-- %s joined", c->nick);
	refused(d);
	tn_close(b);
	tn_close(c);
	stop(d);
}
END_TEST

/*
 * 2. SIGHUP rereads the MOTD; the clients already there stay and keep
 * talking.
 */
START_TEST(test_motd_reload)
{
	struct tn_daemon	*d;
	struct tn_client	*a, *b, *c, *v[2];
	char			 motd[300], want[600], line[TN_LINE_MAX];
	const char		*extra[] = { "--motd", motd, NULL };

	tmppath("motd.txt", motd, sizeof(motd));
	write_file(motd, "Welcome to the test server\r\nBe nice\n");
	d = start(extra);

	a = join(d);
	EXPECT(a, "-- Welcome to the test server");
	EXPECT(a, "-- Be nice");
	b = join(d);
	EXPECT(b, "-- Welcome to the test server");
	EXPECT(b, "-- Be nice");
	EXPECTF(a, "-- %s joined", b->nick);
	v[0] = b;
	say(a, v, 1, "before the reload");

	write_file(motd, "A brand new MOTD\n");
	ck_assert_int_eq(tn_signal(d, SIGHUP), 0);
	snprintf(want, sizeof(want), "reloaded: max-clients 10000, "
	    "max-line 4096, sendq 1048576, slow-timeout 1000, rate 20, "
	    "burst 40, announce-max 200, max-per-ip 16, connect-rate 5, "
	    "connect-burst 20, limit-loopback no, idle-timeout 0, "
	    "keepalive 120, motd %s, log-level info", motd);
	WAIT_LOG(d, want);

	/* The old clients are still there, both ways. */
	say(a, v, 1, "after the reload");
	v[0] = a;
	say(b, v, 1, "me too");

	c = join(d);
	EXPECT(c, "-- A brand new MOTD");
	EXPECTF(a, "-- %s joined", c->nick);
	EXPECTF(b, "-- %s joined", c->nick);
	/* The new MOTD is one line: the next is the chat. */
	v[0] = b;
	v[1] = c;
	say(a, v, 2, "three of us");
	SEND(c, "/who\r\n");
	EXPECT_PREFIX(c, "-- 3 online: ", line);
	ck_assert_msg(!tn_log_contains(d, "disconnected"),
	    "somebody was disconnected by the reload");

	/* A MOTD that is not UTF-8 fails the reload: the last one stays. */
	write_file(motd, "fine\n\xff\xfe not UTF-8\n");
	ck_assert_int_eq(tn_signal(d, SIGHUP), 0);
	WAIT_LOG(d, "line 2 is not valid UTF-8");
	WAIT_LOG(d, "error main: reload failed, keeping the old settings");
	hang_up(c, want, sizeof(want));
	EXPECTF(a, "-- %s left", want);
	EXPECTF(b, "-- %s left", want);
	c = join(d);
	EXPECT(c, "-- A brand new MOTD");
	EXPECTF(a, "-- %s joined", c->nick);
	EXPECTF(b, "-- %s joined", c->nick);

	/* An emptied MOTD file means no MOTD. */
	write_file(motd, "");
	ck_assert_int_eq(tn_signal(d, SIGHUP), 0);
	WAIT_LOG(d, "motd none, log-level info");
	hang_up(c, want, sizeof(want));
	EXPECTF(a, "-- %s left", want);
	EXPECTF(b, "-- %s left", want);
	c = join(d);
	EXPECTF(a, "-- %s joined", c->nick);
	EXPECTF(b, "-- %s joined", c->nick);
	v[0] = b;
	v[1] = c;
	say(a, v, 2, "no motd now");

	tn_close(a);
	tn_close(b);
	tn_close(c);
	stop(d);
}
END_TEST

/*
 * 3. A broken config file at SIGHUP: the error is logged, the daemon
 * runs on with the settings it had.  A valid file afterwards is taken;
 * max-clients cannot go above the value at start (see chatd --help).
 */
START_TEST(test_reload_bad_config)
{
	struct tn_daemon	*d;
	struct tn_client	*a, *b, *v[1];
	char			 conf[300], want[600];
	const char		*args[] = { "-c", conf, NULL };

	tmppath("chatd.conf", conf, sizeof(conf));
	write_file(conf, "port = 0\nbind = 127.0.0.1\nmax-clients = 2\n");
	d = start_raw(args);

	write_file(conf, "port = 0\nbogus = 1\nmax-clients = 5\n");
	ck_assert_int_eq(tn_signal(d, SIGHUP), 0);
	snprintf(want, sizeof(want), "error main: reload failed, keeping the "
	    "old settings: %s:2: unknown key 'bogus'", conf);
	WAIT_LOG(d, want);
	ck_assert_msg(!tn_log_contains(d, "reloaded"),
	    "a broken file was taken");

	a = join(d);
	b = join(d);
	EXPECTF(a, "-- %s joined", b->nick);
	v[0] = b;
	say(a, v, 1, "still here");
	refused(d);

	/* Again, with a bad value this time. */
	write_file(conf, "port = 0\nbind = 127.0.0.1\n\nmax-clients = lots\n");
	ck_assert_int_eq(tn_signal(d, SIGHUP), 0);
	snprintf(want, sizeof(want), "reload failed, keeping the old "
	    "settings: %s:4: max-clients: 'lots' is not a number", conf);
	WAIT_LOG(d, want);
	refused(d);

	/* A file that is gone is an error too. */
	ck_assert_int_eq(unlink(conf), 0);
	ck_assert_int_eq(tn_signal(d, SIGHUP), 0);
	snprintf(want, sizeof(want), "reload failed, keeping the old "
	    "settings: %s: %s", conf, strerror(ENOENT));
	WAIT_LOG(d, want);
	refused(d);
	v[0] = a;
	say(b, v, 1, "and still here");

	/*
	 * A valid file asking for 3: accepted, but above the 2 set at start,
	 * so 2 stays until a restart, and the log says so.
	 */
	write_file(conf, "port = 0\nbind = 127.0.0.1\nmax-clients = 3\n"
	    "max-line = 100\n");
	ck_assert_int_eq(tn_signal(d, SIGHUP), 0);
	WAIT_LOG(d, "max-clients 3 is above the 2 set at start: keeping 2 "
	    "until a restart");
	WAIT_LOG(d, "reloaded: max-clients 2, max-line 100,");
	refused(d);

	tn_close(a);
	tn_close(b);
	stop(d);
}
END_TEST

/*
 * 4. Reloaded limits apply to new connections: max-clients down and up
 * again (within the value at start), max-line.
 */
START_TEST(test_reload_limits)
{
	struct tn_daemon	*d;
	struct tn_client	*a, *b, *c, *v[2];
	char			 conf[300], line[TN_LINE_MAX];
	const char		*args[] = { "-c", conf, NULL };

	tmppath("chatd.conf", conf, sizeof(conf));
	write_file(conf, "port = 0\nbind = 127.0.0.1\nmax-clients = 3\n");
	d = start_raw(args);

	write_file(conf, "port = 0\nbind = 127.0.0.1\nmax-clients = 2\n"
	    "max-line = 20\n");
	ck_assert_int_eq(tn_signal(d, SIGHUP), 0);
	WAIT_LOG(d, "reloaded: max-clients 2, max-line 20,");
	a = join(d);
	b = join(d);
	EXPECTF(a, "-- %s joined", b->nick);
	refused(d);

	/* The new max-line holds for the connections made since. */
	SEND(a, "0123456789012345678901234\r\n");
	EXPECT(a, "!! line too long (limit 20 bytes), discarded");
	v[0] = b;
	say(a, v, 1, "short enough");

	write_file(conf, "port = 0\nbind = 127.0.0.1\nmax-clients = 3\n");
	ck_assert_int_eq(tn_signal(d, SIGHUP), 0);
	WAIT_LOG(d, "reloaded: max-clients 3, max-line 4096,");
	c = join(d);
	EXPECTF(a, "-- %s joined", c->nick);
	EXPECTF(b, "-- %s joined", c->nick);
	refused(d);
	SEND(c, "/who\r\n");
	EXPECT_PREFIX(c, "-- 3 online: ", line);
	v[0] = a;
	v[1] = b;
	say(c, v, 2, "0123456789012345678901234 is fine for c");

	tn_close(a);
	tn_close(b);
	tn_close(c);
	stop(d);
}
END_TEST

/* Wait for a pid file to hold a pid; returns it, or 0. */
static pid_t
read_pidfile(const char *path, int timeout_ms)
{
	int64_t	 deadline = tn_now_ms() + timeout_ms;
	char	*text, *end;
	long	 pid;

	for (;;) {
		if ((text = slurp(path)) != NULL) {
			pid = strtol(text, &end, 10);
			if (end != text && *end == '\n' && end[1] == '\0' &&
			    pid > 0) {
				free(text);
				return (pid_t)pid;
			}
			free(text);
		}
		if (tn_now_ms() >= deadline)
			return 0;
		poll(NULL, 0, 10);
	}
}

/*
 * 5. --pidfile: written with the daemon's pid, removed at exit.
 */
START_TEST(test_pidfile)
{
	struct tn_daemon	*d;
	struct tn_client	*a;
	struct stat		 st;
	char			 pidfile[300], *out = NULL, *err = NULL;
	const char		*extra[] = { "--pidfile", pidfile, NULL };
	const char		*argv[] = { getenv("CHATD"), "--port", "0",
	    "--bind", "127.0.0.1", "--pidfile",
	    "/nonexistent/dir/chatd.pid", NULL };
	pid_t			 pid;
	int			 rc;

	tmppath("chatd.pid", pidfile, sizeof(pidfile));
	d = start(extra);
	pid = read_pidfile(pidfile, LOG_TIMEOUT);
	ck_assert_msg(pid == d->pid, "pid file says %ld, chatd is %ld",
	    (long)pid, (long)d->pid);
	a = join(d);
	tn_close(a);
	stop(d);
	ck_assert_msg(stat(pidfile, &st) == -1 && errno == ENOENT,
	    "%s is still there after chatd exited", pidfile);

	/* A pid file that cannot be written: chatd does not start. */
	ck_assert_ptr_nonnull(argv[0]);
	rc = tn_run(argv, 20000, &out, &err);
	ck_assert_msg(rc == 1, "chatd with an unwritable --pidfile exited "
	    "%d, not 1; stderr:\n%s", rc, err != NULL ? err : "");
	ck_assert_msg(strstr(err, "--pidfile /nonexistent/dir/chatd.pid") !=
	    NULL, "no --pidfile error on stderr:\n%s", err);
	free(out);
	free(err);
}
END_TEST

/*
 * A detached daemon is nobody's child and PR_SET_PDEATHSIG does not
 * survive its fork, and Check ends a failed test with _exit(), so no
 * atexit() runs, then kills the test's process group.  A watchdog process kills the daemon when the test
 * process goes away, however it goes: it holds the read end of a pipe,
 * the test writes the pid to guard (-1 when there is none left), and
 * end of file means the test is gone.  Before it has a pid, it takes
 * the one in the pid file.
 */
static int	 watchdog_fd = -1;
static pid_t	 watchdog_pid;

static void
watchdog_start(const char *pidfile)
{
	pid_t	 guarded = 0, pid;
	char	*text;
	int	 p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	watchdog_pid = fork();
	ck_assert_int_ne(watchdog_pid, -1);
	if (watchdog_pid == 0) {
		/* Out of the test's process group, which Check kills. */
		setpgid(0, 0);
		close(p[1]);
		while (read(p[0], &pid, sizeof(pid)) == (ssize_t)sizeof(pid))
			guarded = pid;
		if (guarded == 0 && (text = slurp(pidfile)) != NULL) {
			guarded = (pid_t)strtol(text, NULL, 10);
			free(text);
		}
		if (guarded > 0)
			kill(guarded, SIGKILL);
		_exit(0);
	}
	close(p[0]);
	watchdog_fd = p[1];
}

static void
watchdog_guard(pid_t pid)
{
	ck_assert_int_eq(write(watchdog_fd, &pid, sizeof(pid)),
	    (ssize_t)sizeof(pid));
}

static void
watchdog_stop(void)
{
	watchdog_guard(-1);
	close(watchdog_fd);
	watchdog_fd = -1;
	waitpid(watchdog_pid, NULL, 0);
}

/* Wait for a child of ours (adopted as subreaper) to exit. */
static int
wait_gone(pid_t pid, int timeout_ms, int *status)
{
	int64_t	 deadline = tn_now_ms() + timeout_ms;
	pid_t	 r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r == -1 && errno == ECHILD) {
			/* Not ours after all: it is gone when kill says so. */
			if (kill(pid, 0) == -1 && errno == ESRCH)
				return 0;
		}
		if (tn_now_ms() >= deadline)
			return -1;
		poll(NULL, 0, 10);
	}
}

/*
 * 6. --daemon: the command returns 0 at once, a detached process in a
 * session of its own serves and writes the pid file, SIGTERM ends it.
 */
START_TEST(test_daemon)
{
	struct tn_client	*a, *b, *v[1];
	char			 pidfile[300], logfile[300], outfile[300];
	const char		*path = getenv("CHATD");
	pid_t			 child, pid;
	int			 status, fd;
	int64_t			 t0;
	uint16_t		 port;

	ck_assert_msg(path != NULL, "CHATD is not set");
	tmppath("chatd.pid", pidfile, sizeof(pidfile));
	tmppath("chatd.log", logfile, sizeof(logfile));
	tmppath("stderr.txt", outfile, sizeof(outfile));

	/* The detached daemon is reparented to us, so we can reap it. */
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	watchdog_start(pidfile);

	fflush(NULL);
	t0 = tn_now_ms();
	child = fork();
	ck_assert_int_ne(child, -1);
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if ((fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC,
		    0600)) != -1) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execl(path, path, "-d", "--pidfile", pidfile, "--log-file",
		    logfile, "--port", "0", "--irc-port", "0", "--bind",
		    "127.0.0.1", (char *)NULL);
		_exit(127);
	}
	if (wait_gone(child, 20000, &status) == -1) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		ck_abort_msg("chatd -d did not return within 20 s");
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "chatd -d: status %#x", (unsigned)status);
	ck_assert_msg(tn_now_ms() - t0 < 10000, "chatd -d took %" PRId64
	    " ms to return", tn_now_ms() - t0);

	pid = read_pidfile(pidfile, LOG_TIMEOUT);
	ck_assert_msg(pid > 0, "no pid in %s", pidfile);
	watchdog_guard(pid);
	ck_assert_msg(pid != child, "the pid file names the process started "
	    "(%ld), not a detached one", (long)pid);
	ck_assert_msg(kill(pid, 0) == 0, "pid %ld from %s: %s", (long)pid,
	    pidfile, strerror(errno));
	ck_assert_msg(getsid(pid) == pid, "chatd %ld is not a session leader "
	    "(session %ld)", (long)pid, (long)getsid(pid));
	ck_assert_msg(getsid(pid) != getsid(0), "chatd stayed in our session");

	port = file_port(logfile);
	if (port == 0)
		dump_file(logfile, "no listening line");
	ck_assert_msg(port != 0, "no listening line in %s", logfile);

	a = tn_connect_port(port, 0);
	ck_assert_msg(a != NULL, "%s", tn_error());
	ck_assert_msg(tn_welcome(a) == 0, "%s", tn_error());
	b = tn_connect_port(port, 0);
	ck_assert_msg(b != NULL, "%s", tn_error());
	ck_assert_msg(tn_welcome(b) == 0, "%s", tn_error());
	EXPECTF(a, "-- %s joined", b->nick);
	v[0] = b;
	say(a, v, 1, "hello from a daemon");
	WAIT_FILE(logfile, "connected as");
	/* Nothing goes to the terminal it left. */
	ck_assert_msg(!file_contains(outfile, "listening"),
	    "a detached chatd writes to its old stderr");

	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	EXPECT(a, "-- server shutting down");
	EXPECT(b, "-- server shutting down");
	status = 0;
	ck_assert_msg(wait_gone(pid, 20000, &status) == 0,
	    "chatd %ld still runs 20 s after SIGTERM", (long)pid);
	watchdog_stop();
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "detached chatd: status %#x", (unsigned)status);
	ck_assert_msg(access(pidfile, F_OK) == -1 && errno == ENOENT,
	    "%s is still there after chatd exited", pidfile);
	WAIT_FILE(logfile, "SIGTERM received");
	tn_close(a);
	tn_close(b);
}
END_TEST

/* Parsed "uptime N s, ..." */
struct stats {
	uint64_t	 uptime, clients, messages, bytes_in, bytes_out;
	uint64_t	 too_slow, connections, depth, refused;
	uint64_t	 line_users, irc_users;
};

static int
parse_stats(const char *s, struct stats *st)
{
	int	 n = 0;

	if (sscanf(s, "uptime %" SCNu64 " s, %" SCNu64 " clients, %" SCNu64
	    " messages relayed, %" SCNu64 " bytes in, %" SCNu64
	    " bytes out, %" SCNu64 " cut off as too slow, %" SCNu64
	    " connections since start, queue depth %" SCNu64 ", %" SCNu64
	    " connections refused, %" SCNu64 " line users, %" SCNu64
	    " irc users%n",
	    &st->uptime, &st->clients, &st->messages, &st->bytes_in,
	    &st->bytes_out, &st->too_slow, &st->connections, &st->depth,
	    &st->refused, &st->line_users, &st->irc_users, &n) != 11 ||
	    s[n] != '\0')
		return -1;
	return 0;
}

/* Bytes the test sent and received, CRLF included. */
static uint64_t	 sent_bytes, recv_bytes;

static void
send_counted(struct tn_client *c, const char *line)
{
	SEND(c, line);
	sent_bytes += strlen(line);
}

static void
expect_counted(struct tn_client *c, const char *want)
{
	EXPECT(c, want);
	recv_bytes += strlen(want) + 2;
}

/*
 * 7. /stats counts what the test did.
 */
/*
 * Ask for /stats until the counters have caught up: the server counts a
 * relayed message and written bytes just after the clients can see
 * them, so an answer may lag what the test saw by a moment.  Returns
 * once messages == want and bytes out covers what the test received
 * before asking; fails if messages ever goes past want.
 */
static void
ask_stats(struct tn_client *c, uint64_t want, bool check_out,
    struct stats *st, char *line, size_t size)
{
	int64_t		 deadline = tn_now_ms() + LOG_TIMEOUT;
	uint64_t	 before;

	for (;;) {
		before = recv_bytes;
		send_counted(c, "/stats\r\n");
		ck_assert_msg(tn_expect_prefix(c, "-- uptime ", line, size) ==
		    0, "%s", tn_error());
		recv_bytes += strlen(line) + 2;
		ck_assert_msg(parse_stats(line + 3, st) == 0,
		    "cannot parse the stats line \"%s\"", line);
		ck_assert_msg(st->messages <= want, "%s: messages %" PRIu64
		    ", not %" PRIu64, line, st->messages, want);
		if (st->messages == want &&
		    (!check_out || st->bytes_out >= before))
			return;
		ck_assert_msg(tn_now_ms() < deadline, "%s: messages %" PRIu64
		    " (want %" PRIu64 "), bytes out %" PRIu64 " (the test "
		    "received %" PRIu64 " before asking)", line, st->messages,
		    want, st->bytes_out, before);
		poll(NULL, 0, 20);
	}
}

START_TEST(test_stats_command)
{
	struct tn_daemon	*d;
	struct tn_client	*a, *b;
	char			 line[TN_LINE_MAX], want[400];
	static const char *const text[] = { "one", "two", "three" };
	struct stats		 st;
	size_t			 i;

	sent_bytes = 0;
	d = start(NULL);
	a = join(d);
	b = join(d);
	/* The two welcome lines. */
	recv_bytes = 2 * (strlen("-- welcome to chatd, you are  (N online; "
	    "/help lists the commands)") + 2) + strlen(a->nick) +
	    strlen(b->nick);
	snprintf(want, sizeof(want), "-- %s joined", b->nick);
	expect_counted(a, want);

	for (i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "%s\r\n", text[i]);
		send_counted(a, want);
	}
	snprintf(want, sizeof(want), "/msg %s private\r\n", b->nick);
	send_counted(a, want);
	for (i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "<%s> %s", a->nick, text[i]);
		expect_counted(a, want);
		expect_counted(b, want);
	}
	snprintf(want, sizeof(want), "-> *%s* private", b->nick);
	expect_counted(a, want);
	snprintf(want, sizeof(want), "*%s* private", a->nick);
	expect_counted(b, want);

	ask_stats(b, 4, true, &st, line, sizeof(line));
	ck_assert_msg(st.clients == 2, "%s: clients %" PRIu64 ", not 2", line,
	    st.clients);
	ck_assert_msg(st.line_users == 2 && st.irc_users == 0, "%s: users "
	    "%" PRIu64 " line, %" PRIu64 " irc, not 2 and 0", line,
	    st.line_users, st.irc_users);
	ck_assert_msg(st.bytes_in >= sent_bytes, "%s: bytes in %" PRIu64
	    ", the test sent %" PRIu64, line, st.bytes_in, sent_bytes);
	ck_assert_msg(st.connections == 2, "%s: connections %" PRIu64
	    ", not 2", line, st.connections);
	ck_assert_msg(st.too_slow == 0, "%s: too slow %" PRIu64 ", not 0",
	    line, st.too_slow);
	ck_assert_msg(st.refused == 0, "%s: refused %" PRIu64 ", not 0",
	    line, st.refused);
	ck_assert_msg(st.uptime < 600, "%s: uptime %" PRIu64, line,
	    st.uptime);

	/* /me counts, /stats does not; b leaving is no new connection. */
	SEND(a, "/me checks\r\n");
	snprintf(want, sizeof(want), "* %s checks", a->nick);
	EXPECT(a, want);
	EXPECT(b, want);
	hang_up(b, line, sizeof(line));
	EXPECTF(a, "-- %s left", line);
	ask_stats(a, 5, false, &st, line, sizeof(line));
	ck_assert_msg(st.connections == 2, "%s: connections %" PRIu64
	    ", not 2", line, st.connections);
	/* The count drops once the server has closed b: 1 or still 2. */
	ck_assert_msg(st.clients >= 1 && st.clients <= 2, "%s: clients %"
	    PRIu64, line, st.clients);
	tn_close(a);
	stop(d);
}
END_TEST

/* The last "stats: " line of a log, parsed. */
static int
log_stats(const char *path, struct stats *st)
{
	char	*text, *p, *last = NULL, *nl;
	int	 rc = -1;

	if ((text = slurp(path)) == NULL)
		return -1;
	for (p = text; (p = strstr(p, "info main: stats: ")) != NULL; p++)
		last = p;
	if (last != NULL) {
		last += strlen("info main: stats: ");
		if ((nl = strchr(last, '\n')) != NULL)
			*nl = '\0';
		rc = parse_stats(last, st);
	}
	free(text);
	return rc;
}

/*
 * 8. SIGUSR1 logs a stats line; --stats-interval logs them by itself.
 */
START_TEST(test_stats_log)
{
	struct tn_daemon	*d;
	struct tn_client	*a;
	const char		*extra[] = { "--stats-interval", "1", NULL };
	struct stats		 st;
	int64_t			 t0;

	d = start(NULL);
	a = join(d);
	ck_assert_int_eq(tn_signal(d, SIGUSR1), 0);
	WAIT_LOG(d, "info main: stats: uptime ");
	ck_assert_msg(log_stats(d->log, &st) == 0, "cannot parse the stats "
	    "line");
	ck_assert_uint_eq(st.clients, 1);
	ck_assert_uint_eq(st.connections, 1);
	ck_assert_uint_eq(st.messages, 0);
	ck_assert_int_eq(tn_signal(d, SIGUSR1), 0);
	ck_assert(wait_file_count(d->log, "stats: uptime", 2, LOG_TIMEOUT));
	/* Without --stats-interval, no more come. */
	poll(NULL, 0, 1500);
	ck_assert_uint_eq(file_count(d->log, "stats: uptime"), 2);
	tn_close(a);
	stop(d);

	d = start(extra);
	t0 = tn_now_ms();
	ck_assert_msg(wait_file_count(d->log, "stats: uptime", 1, 2500),
	    "--stats-interval 1: no stats line in 2.5 s");
	ck_assert_msg(wait_file_count(d->log, "stats: uptime", 3, 5000),
	    "--stats-interval 1: not three stats lines in %" PRId64 " ms",
	    tn_now_ms() - t0);
	ck_assert_msg(log_stats(d->log, &st) == 0, "cannot parse the stats "
	    "line");
	ck_assert_uint_eq(st.clients, 0);
	stop(d);
}
END_TEST

/* Wait until a UNIX socket accepts a client; NULL if the daemon died. */
static struct tn_client *
connect_unix_when_up(struct tn_daemon *d, const char *path)
{
	struct tn_client	*c;
	int64_t			 deadline = tn_now_ms() + TN_START_TIMEOUT * 2;

	for (;;) {
		if ((c = tn_connect_unix(path)) != NULL) {
			c->d = d;
			return c;
		}
		if (waitpid(d->pid, &d->status, WNOHANG) == d->pid) {
			d->reaped = true;
			return NULL;
		}
		if (tn_now_ms() >= deadline)
			return NULL;
		poll(NULL, 0, 10);
	}
}

/*
 * 9. --log-level error leaves the info lines out; debug is accepted.
 */
START_TEST(test_log_level)
{
	struct tn_daemon	*d;
	struct tn_client	*a, *b, *v[1];
	char			 sock[300], *log;
	const char		*args[] = { "--log-level", "error", "--unix",
	    sock, "--port", "0", "--bind", "127.0.0.1", NULL };
	const char		*debug[] = { "--log-level", "debug", NULL };
	int			 rc;

	tmppath("chatd.sock", sock, sizeof(sock));
	d = tn_spawn(args);
	ck_assert_msg(d != NULL, "%s", tn_error());
	a = connect_unix_when_up(d, sock);
	if (a == NULL)
		tn_dump_log(d, "no UNIX socket");
	ck_assert_msg(a != NULL, "chatd --log-level error: no UNIX socket "
	    "%s", sock);
	ck_assert_msg(tn_welcome(a) == 0, "%s", tn_error());
	b = tn_connect_unix(sock);
	ck_assert_msg(b != NULL, "%s", tn_error());
	ck_assert_msg(tn_welcome(b) == 0, "%s", tn_error());
	EXPECTF(a, "-- %s joined", b->nick);
	v[0] = b;
	/* Past a round trip the connect lines would have been written. */
	say(a, v, 1, "quiet please");
	ck_assert_msg(!tn_log_contains(d, "connected as"),
	    "--log-level error logs \"connected as\"");
	hang_up(b, sock, sizeof(sock));
	EXPECTF(a, "-- %s left", sock);
	tn_close(a);
	ck_assert_int_eq(tn_signal(d, SIGTERM), 0);
	rc = tn_wait(d, TN_STOP_TIMEOUT);
	ck_assert_msg(rc == 0, "exit status %d", rc);
	if ((log = slurp(d->log)) != NULL && log[0] != '\0')
		tn_dump_log(d, "--log-level error");
	ck_assert_msg(log != NULL && strstr(log, " info ") == NULL &&
	    strstr(log, " warn ") == NULL, "--log-level error logged more "
	    "than errors");
	free(log);
	stop(d);

	d = start(debug);
	a = join(d);
	snprintf(sock, sizeof(sock), "connected as %s", a->nick);
	WAIT_LOG(d, sock);
	/* A rename is logged, so a disconnect can be traced to its connect. */
	SEND(a, "/nick renamed\n");
	EXPECTF(a, "-- %s is now known as renamed", a->nick);
	snprintf(sock, sizeof(sock), "%s is now renamed", a->nick);
	WAIT_LOG(d, sock);
	tn_close(a);
	stop(d);
}
END_TEST

/*
 * 10. --log-file: the log goes there, not to stderr, and SIGHUP reopens
 * it after it was renamed away (log rotation).
 */
START_TEST(test_log_file)
{
	struct tn_daemon	*d;
	struct tn_client	*a, *b, *v[1];
	char			 logfile[300], rotated[300], want[300];
	char			 nick[160];
	const char		*args[] = { "--log-file", logfile, "--port",
	    "0", "--bind", "127.0.0.1", NULL };
	int64_t			 deadline;

	tmppath("chatd.log", logfile, sizeof(logfile));
	tmppath("chatd.log.1", rotated, sizeof(rotated));
	d = tn_spawn(args);
	ck_assert_msg(d != NULL, "%s", tn_error());
	deadline = tn_now_ms() + TN_START_TIMEOUT * 2;
	while ((d->port = file_port(logfile)) == 0) {
		if (tn_now_ms() >= deadline) {
			dump_file(logfile, "no listening line");
			tn_dump_log(d, "stderr");
			ck_abort_msg("no listening line in %s", logfile);
		}
		poll(NULL, 0, 10);
	}
	a = join(d);
	snprintf(want, sizeof(want), "connected as %s\n", a->nick);
	WAIT_FILE(logfile, want);
	ck_assert_msg(!tn_log_contains(d, "listening"),
	    "--log-file: the log went to stderr too");

	ck_assert_int_eq(rename(logfile, rotated), 0);
	ck_assert_int_eq(tn_signal(d, SIGHUP), 0);
	WAIT_FILE(logfile, "reloaded: ");
	b = join(d);
	EXPECTF(a, "-- %s joined", b->nick);
	snprintf(want, sizeof(want), "connected as %s\n", b->nick);
	WAIT_FILE(logfile, want);
	ck_assert_msg(!file_contains(rotated, want),
	    "the renamed log got \"%s\" after SIGHUP", want);
	ck_assert_msg(file_contains(rotated, "SIGHUP received"),
	    "the renamed log lacks the lines before the reopen");
	snprintf(want, sizeof(want), "connected as %s\n", a->nick);
	ck_assert_msg(!file_contains(logfile, want),
	    "the new log has the lines of the old");
	v[0] = b;
	say(a, v, 1, "rotated");

	/* Once more: rotation is not a one-off. */
	ck_assert_int_eq(unlink(rotated), 0);
	ck_assert_int_eq(rename(logfile, rotated), 0);
	ck_assert_int_eq(tn_signal(d, SIGHUP), 0);
	WAIT_FILE(logfile, "reloaded: ");
	hang_up(b, nick, sizeof(nick));
	snprintf(want, sizeof(want), "%s disconnected", nick);
	WAIT_FILE(logfile, want);
	tn_close(a);
	stop(d);
	ck_assert_msg(file_contains(logfile, "stopped"),
	    "the shutdown went elsewhere than the reopened log");
}
END_TEST

int
main(void)
{
	const struct net_test tests[] = {
		{ "config_file", test_config_file, 0 },
		{ "motd_reload", test_motd_reload, 0 },
		{ "reload_bad_config", test_reload_bad_config, 0 },
		{ "reload_limits", test_reload_limits, 0 },
		{ "pidfile", test_pidfile, 0 },
		{ "daemon", test_daemon, 0 },
		{ "stats_command", test_stats_command, 0 },
		{ "stats_log", test_stats_log, 0 },
		{ "log_level", test_log_level, 0 },
		{ "log_file", test_log_file, 0 },
	};

	return net_main(NET_SUITE("ops", tests, setup, teardown));
}
