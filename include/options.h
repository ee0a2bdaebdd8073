/*
 * options.h - chatd's command line.
 *
 * options_parse() fills struct options from argv (GNU getopt_long, long
 * and short forms).  It prints --help and --version itself.  Errors name
 * the option and the value, on stderr.
 */
#ifndef CHATD_OPTIONS_H
#define CHATD_OPTIONS_H

#include <stddef.h>

#define OPTIONS_MAX_BINDS	16

struct options {
	const char	*binds[OPTIONS_MAX_BINDS];
	size_t		 nbinds;
	int		 default_binds;	/* no --bind: a missing family is ok */
	const char	*unix_path;
	unsigned	 port;
	unsigned	 workers;
	size_t		 max_clients;
	size_t		 max_line;
	size_t		 sendq;
	unsigned	 rate;		/* lines per second; 0 = unlimited */
	unsigned	 burst;
	size_t		 announce_max;
};

enum options_result {
	OPTIONS_RUN,		/* start the daemon */
	OPTIONS_EXIT_OK,	/* --help or --version was printed */
	OPTIONS_USAGE		/* a usage error was reported: exit 2 */
};

void			options_defaults(struct options *o);
enum options_result	options_parse(struct options *o, int argc,
			    char **argv);

#endif /* CHATD_OPTIONS_H */
