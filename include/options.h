/*
 * options.h - chatd's settings: defaults, then the config file, then the
 * command line, each overriding the one before.
 *
 * Every setting has one long name, used both as the command-line option
 * (--sendq) and as the config-file key (sendq = ...), and one parser, so
 * the two can never disagree.  options_parse() prints --help and
 * --version itself, and reports errors on stderr naming the option, or
 * the file and line.  options_reload() does the same work for SIGHUP,
 * reporting into a buffer for the log instead.
 */
#ifndef CHATD_OPTIONS_H
#define CHATD_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#define OPTIONS_MAX_BINDS	16
#define OPTIONS_DEFAULT_ROOM	"#lobby"

struct options {
	/* Listening: fixed at start, a change needs a restart. */
	char		*binds[OPTIONS_MAX_BINDS];
	size_t		 nbinds;
	bool		 default_binds;	/* no bind given: a missing family is ok */
	char		*unix_path;
	unsigned	 port;
	unsigned	 irc_port;	/* 0: no IRC listener */
	char		*server_name;	/* NULL: the host name */
	unsigned	 workers;
	unsigned	 tls_port;	/* only with tls_cert and tls_key */
	unsigned	 irc_tls_port;	/* the same; 0: no IRC over TLS */

	/* TLS and the password: SIGHUP reloads them for new connections. */
	char		*tls_cert;	/* PEM chain, the server's first */
	char		*tls_key;
	unsigned	 tls_handshake_timeout;	/* seconds */
	char		*password;	/* NULL: none asked */
	char		*password_file;	/* its first line is the password */

	/* Limits: SIGHUP applies them to new lines and connections. */
	size_t		 max_clients;
	size_t		 max_line;
	size_t		 sendq;
	unsigned	 slow_timeout;	/* ms a blocked client may stay behind */
	unsigned	 rate;		/* lines per second; 0 = unlimited */
	unsigned	 burst;
	size_t		 announce_max;
	unsigned	 max_per_ip;	/* connections per address; 0 = off */
	unsigned	 connect_rate;	/* per address per second; 0 = off */
	unsigned	 connect_burst;
	bool		 limit_loopback;	/* loopback obeys the two above */
	unsigned	 idle_timeout;	/* seconds; 0 = off */
	unsigned	 keepalive;	/* seconds idle before probes; 0 = off */

	/* Rooms and history: SIGHUP applies all but the first and last. */
	char		*default_room;	/* NULL: OPTIONS_DEFAULT_ROOM */
	size_t		 max_rooms;
	size_t		 max_rooms_per_user;
	size_t		 max_room_name;	/* code points after '#' */
	size_t		 max_topic;	/* bytes */
	size_t		 history;	/* lines per room */
	size_t		 replay;	/* lines shown on /join */
	char		*history_db;	/* NULL: history in memory only */

	/* The cluster (a change needs a restart). */
	char		*cluster;	/* NATS URL; NULL: run alone */
	char		*node_name;	/* this node's name in the cluster */

	/* Running it. */
	char		*config_path;
	char		*motd_path;
	char		*log_file;
	bool		 syslog;
	int		 log_level;	/* enum log_level */
	bool		 daemon;
	char		*pidfile;
	char		*user;
	unsigned	 stats_interval;	/* seconds; 0 = off */
};

enum options_result {
	OPTIONS_RUN,		/* start the daemon */
	OPTIONS_EXIT_OK,	/* --help or --version was printed */
	OPTIONS_USAGE,		/* a command-line error was reported: exit 2 */
	OPTIONS_BAD_CONFIG	/* a config-file error was reported: exit 1 */
};

void			options_defaults(struct options *o);
void			options_free(struct options *o);

enum options_result	options_parse(struct options *o, int argc,
			    char **argv);

/*
 * Build fresh settings from the config file named in argv (if any) and
 * argv itself.  Returns 0, or -1 with the reason in err; o is then
 * freed and untouched settings are lost, so reload into a scratch copy.
 */
int			options_reload(struct options *o, int argc,
			    char **argv, char *err, size_t errlen);

/*
 * Set one setting by its long name, as the config file does.  Returns 0,
 * or -1 with the reason in err ("unknown key" included).
 */
int			options_set(struct options *o, const char *name,
			    const char *value, char *err, size_t errlen);

/* Read a config file into o.  Returns 0, or -1 with "FILE:LINE: why". */
int			options_load_file(struct options *o, const char *path,
			    char *err, size_t errlen);

/* The log level's name, and back; -1 if unknown. */
const char		*options_level_name(int level);

#endif /* CHATD_OPTIONS_H */
