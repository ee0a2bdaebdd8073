/*
 * log.c - one line per write(2); the destination swaps atomically.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static atomic_int	 max_level = LL_INFO;
static atomic_bool	 use_syslog;
static int		 log_fd = STDERR_FILENO;
static char		*log_path;	/* set once, before threads start */

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

void
log_set_level(int level)
{
	if (level < LL_ERROR)
		level = LL_ERROR;
	if (level > LL_DEBUG)
		level = LL_DEBUG;
	atomic_store(&max_level, level);
}

int
log_get_level(void)
{
	return atomic_load(&max_level);
}

static int
open_append(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

int
log_open_file(const char *path)
{
	int	 fd;

	if ((fd = open_append(path)) == -1)
		return -1;
	if ((log_path = strdup(path)) == NULL) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	log_fd = fd;
	return 0;
}

int
log_reopen(void)
{
	int	 fd, saved;

	if (log_path == NULL)
		return 0;
	if ((fd = open_append(log_path)) == -1)
		return -1;
	/* dup2 replaces the old file atomically: no write sees a hole. */
	if (dup2(fd, log_fd) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	return 0;
}

void
log_open_syslog(void)
{
	openlog("chatd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	atomic_store(&use_syslog, true);
}

void
log_close(void)
{
	if (atomic_load(&use_syslog))
		closelog();
	if (log_path != NULL) {
		close(log_fd);
		log_fd = STDERR_FILENO;
		free(log_path);
		log_path = NULL;
	}
}

/* A va_list format: the attribute lets clang check the callers instead. */
static void	log_vwrite(int, const char *, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

static void
log_vwrite(int level, const char *component, const char *fmt, va_list ap)
{
	char		 line[1024];
	struct timespec	 ts;
	struct tm	 tm;
	size_t		 n;
	int		 m, saved_errno = errno;

	if (atomic_load(&use_syslog)) {
		vsnprintf(line, sizeof(line), fmt, ap);
		syslog(syslog_prio[level], "%s: %s", component, line);
		errno = saved_errno;
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ %s %s: ",
	    ts.tv_nsec / 1000000, level_names[level], component);
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	if (n + (size_t)m > sizeof(line) - 2)
		m = (int)(sizeof(line) - 2 - n);
	line[n + (size_t)m] = '\n';
	/* A failed log write has nowhere to be reported. */
	if (write(log_fd, line, n + (size_t)m + 1) < 0)
		errno = saved_errno;
	errno = saved_errno;
}

void
log_msg(int level, const char *component, const char *fmt, ...)
{
	va_list	 ap;

	if (level > atomic_load_explicit(&max_level, memory_order_relaxed))
		return;
	va_start(ap, fmt);
	log_vwrite(level, component, fmt, ap);
	va_end(ap);
}

void
log_fatal(const char *component, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LL_ERROR, component, fmt, ap);
	va_end(ap);
	exit(1);
}

bool
log_limit_take(struct log_limit *ll, uint64_t now_ms, unsigned *skipped)
{
	bool	 take;

	*skipped = 0;
	pthread_mutex_lock(&ll->mu);
	if (now_ms - ll->since_ms >= 1000) {
		*skipped = ll->unlogged;
		ll->since_ms = now_ms;
		ll->logged = ll->unlogged = 0;
	}
	if ((take = ll->logged < ll->per_second))
		ll->logged++;
	else
		ll->unlogged++;
	pthread_mutex_unlock(&ll->mu);
	return take;
}
