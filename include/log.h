/*
 * log.h - log lines with a time, a level and a component.
 *
 *	2026-11-26T03:57:05.123Z info server: listening on 127.0.0.1:7777
 *
 * To stderr by default, to a file (log_open_file) or to syslog.  Each
 * line is one write(2), so threads never interleave; a reopen swaps the
 * file in with dup2(2), so a writer never sees a closed descriptor.
 * Each .c file names its component with LOG_COMPONENT before including
 * this header.
 */
#ifndef CHATD_LOG_H
#define CHATD_LOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdnoreturn.h>

/* Not LOG_INFO and friends: <syslog.h> owns those names. */
enum log_level { LL_ERROR, LL_WARN, LL_INFO, LL_DEBUG };

void		log_set_level(int level);
int		log_get_level(void);
/* Log to path instead of stderr.  0, or -1 with errno. */
int		log_open_file(const char *path);
/* Reopen the file (after rotation), for SIGHUP.  0, or -1 with errno. */
int		log_reopen(void);
void		log_open_syslog(void);
void		log_close(void);

void		log_msg(int level, const char *component, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
noreturn void	log_fatal(const char *component, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/*
 * A kind of line that a flood could repeat (a wrong password, a failed
 * handshake) is logged up to per_second times a second; the rest are
 * counted, and the count is told once the next second begins.
 */
struct log_limit {
	pthread_mutex_t	 mu;
	unsigned	 per_second;
	uint64_t	 since_ms;
	unsigned	 logged, unlogged;
};

#define LOG_LIMIT_INITIALIZER(n) \
	{ PTHREAD_MUTEX_INITIALIZER, (n), 0, 0, 0 }

/*
 * Whether to log one more line now (at now_ms, monotonic); *skipped is
 * how many the last second left out, to be told first (0 if none).
 */
bool		log_limit_take(struct log_limit *ll, uint64_t now_ms,
		    unsigned *skipped);

#ifndef LOG_COMPONENT
#define LOG_COMPONENT	"chatd"
#endif

#define log_error(...)	log_msg(LL_ERROR, LOG_COMPONENT, __VA_ARGS__)
#define log_warn(...)	log_msg(LL_WARN, LOG_COMPONENT, __VA_ARGS__)
#define log_info(...)	log_msg(LL_INFO, LOG_COMPONENT, __VA_ARGS__)
#define log_debug(...)	log_msg(LL_DEBUG, LOG_COMPONENT, __VA_ARGS__)
#define fatal(...)	log_fatal(LOG_COMPONENT, __VA_ARGS__)

#endif /* CHATD_LOG_H */
