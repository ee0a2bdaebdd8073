/*
 * log.h - log lines to stderr: "chatd: LEVEL: message".
 *
 * Thread-safe: each line is written with one write(2), so lines from
 * different threads never interleave.  log_fatal() exits with status 1.
 */
#ifndef CHATD_LOG_H
#define CHATD_LOG_H

#include <stdnoreturn.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void		log_set_level(enum log_level level);
void		log_msg(enum log_level level, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
noreturn void	log_fatal(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

#define log_error(...)	log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif /* CHATD_LOG_H */
