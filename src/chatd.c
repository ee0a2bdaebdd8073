/*
 * chatd.c - main: settings, logging, listeners, privileges, detaching,
 * threads; then wait for signals: reload, stats or an orderly shutdown.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_COMPONENT	"main"
#include "log.h"
#include "options.h"
#include "server.h"

static int
setup_logging(const struct options *opt)
{
	log_set_level(opt->log_level);
	if (opt->syslog) {
		log_open_syslog();
		return 0;
	}
	if (opt->log_file != NULL && log_open_file(opt->log_file) == -1) {
		fprintf(stderr, "chatd: --log-file %s: %s\n", opt->log_file,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Root binds the sockets, then becomes --user for good.  Running on as
 * root when a drop was asked for is never an option.
 */
static int
drop_privileges(const struct options *opt)
{
	struct passwd	*pw;

	if (opt->user == NULL) {
		if (geteuid() == 0)
			log_warn("running as root: consider --user");
		return 0;
	}
	if ((pw = getpwnam(opt->user)) == NULL) {
		log_error("--user %s: no such user", opt->user);
		return -1;
	}
	if (geteuid() != 0) {
		if (geteuid() == pw->pw_uid)
			return 0;
		log_error("--user %s: only root can switch users", opt->user);
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1) {
		log_error("--user %s: %s", opt->user, strerror(errno));
		return -1;
	}
	if (setuid(0) != -1 || geteuid() == 0) {
		log_error("--user %s: still root after dropping privileges",
		    opt->user);
		return -1;
	}
	log_info("running as %s", opt->user);
	return 0;
}

/*
 * Detach like daemon(3), but the parent waits until the child says it
 * is serving (a byte on *ready) or dies (EOF), so the exit status of
 * "chatd -d" tells whether chatd started.  No thread runs yet.
 */
static int
detach(int *ready)
{
	pid_t	 pid;
	int	 fd, p[2];
	char	 ok = 0;
	ssize_t	 n;

	if (pipe2(p, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		log_error("fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		do
			n = read(p[0], &ok, 1);
		while (n == -1 && errno == EINTR);
		_exit(n == 1 && ok == 1 ? 0 : 1);
	}
	close(p[0]);
	*ready = p[1];
	if (setsid() == -1) {
		log_error("setsid: %s", strerror(errno));
		return -1;
	}
	if (chdir("/") == -1)
		log_warn("chdir /: %s", strerror(errno));
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return 0;
}

/* Tell the waiting parent that chatd is serving. */
static void
notify_ready(int *ready)
{
	char	 ok = 1;

	if (*ready == -1)
		return;
	if (write(*ready, &ok, 1) != 1)
		log_warn("telling the parent we started: %s", strerror(errno));
	close(*ready);
	*ready = -1;
}

static int
write_pidfile(const char *path)
{
	FILE	*f;

	if ((f = fopen(path, "w")) == NULL) {
		log_error("--pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) == EOF) {
		log_error("--pidfile %s: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}

/* SIGHUP: a broken file is logged and the running settings stay. */
static void
reload(struct server *srv, int argc, char **argv)
{
	struct options	 fresh;
	char		 err[1024] = "";

	if (log_reopen() == -1)
		log_error("reopening the log file: %s", strerror(errno));
	if (options_reload(&fresh, argc, argv, err, sizeof(err)) == -1) {
		log_error("reload failed, keeping the old settings: %s", err);
		return;
	}
	if (server_reload(srv, &fresh) == -1)
		log_error("reload failed, keeping the old settings");
	options_free(&fresh);
}

static void
log_stats(struct server *srv)
{
	char	 line[512];

	server_stats_line(srv, line, sizeof(line));
	log_info("stats: %s", line);
	/* Apart: the stats line's format is read by scripts as it is. */
	server_users_line(srv, line, sizeof(line));
	log_info("%s", line);
}

/* Wait for signals until one says stop. */
static void
serve(struct server *srv, const struct options *opt, int argc, char **argv)
{
	struct timespec	 tick = { opt->stats_interval, 0 };
	sigset_t	 set;
	int		 sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		if (opt->stats_interval > 0)
			sig = sigtimedwait(&set, NULL, &tick);
		else
			sig = sigwaitinfo(&set, NULL);
		if (sig == -1) {
			if (errno == EAGAIN)
				log_stats(srv);
			continue;
		}
		switch (sig) {
		case SIGHUP:
			log_info("SIGHUP received: reloading");
			reload(srv, argc, argv);
			break;
		case SIGUSR1:
			log_stats(srv);
			break;
		default:
			log_info("%s received", sig == SIGINT ? "SIGINT" :
			    "SIGTERM");
			return;
		}
	}
}

int
main(int argc, char **argv)
{
	struct options	 opt;
	struct server	 srv;
	sigset_t	 set;
	bool		 pidfile = false;
	int		 rc = 1, ready = -1;

	switch (options_parse(&opt, argc, argv)) {
	case OPTIONS_EXIT_OK:
		return 0;
	case OPTIONS_USAGE:
		return 2;
	case OPTIONS_BAD_CONFIG:
		return 1;
	case OPTIONS_RUN:
		break;
	}

	/*
	 * A peer that goes away must cost an EPIPE, never the daemon.  The
	 * other signals are blocked in every thread and taken by the main
	 * thread alone, so no handler ever runs inside a lock.
	 */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if (setup_logging(&opt) == -1)
		goto out_options;
	if (server_listen(&srv, &opt) == -1)
		goto out;
	if (opt.daemon) {
		/* Stderr is about to be /dev/null: keep the log somewhere. */
		if (!opt.syslog && opt.log_file == NULL)
			log_open_syslog();
		if (detach(&ready) == -1)
			goto out;
	}
	/* Written while still root, so it may go where only root writes. */
	if (opt.pidfile != NULL) {
		if (write_pidfile(opt.pidfile) == -1)
			goto out;
		pidfile = true;
	}
	if (drop_privileges(&opt) == -1)
		goto out;
	if (server_run(&srv) == -1)
		goto out;
	notify_ready(&ready);
	serve(&srv, &opt, argc, argv);
	rc = 0;
out:
	server_stop(&srv);
	if (pidfile && unlink(opt.pidfile) == -1)
		log_warn("removing %s: %s", opt.pidfile, strerror(errno));
	log_close();
out_options:
	options_free(&opt);
	return rc;
}
