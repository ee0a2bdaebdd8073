/*
 * chatd.c - main: options, listeners, threads, then wait for a signal
 * and shut down in order.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "options.h"
#include "server.h"

int
main(int argc, char **argv)
{
	struct options	 opt;
	struct server	 srv;
	sigset_t	 set;
	int		 sig = 0, rc = 0;

	switch (options_parse(&opt, argc, argv)) {
	case OPTIONS_EXIT_OK:
		return 0;
	case OPTIONS_USAGE:
		return 2;
	case OPTIONS_RUN:
		break;
	}

	/*
	 * A peer that goes away must cost an EPIPE, never the daemon.  The
	 * shutdown signals are blocked in every thread and taken by
	 * sigwait() below, so no handler runs inside a lock.
	 */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if (server_start(&srv, &opt) == -1) {
		server_stop(&srv);
		return 1;
	}
	if (sigwait(&set, &sig) != 0)
		rc = 1;
	log_info("%s received", sig == SIGINT ? "SIGINT" : "SIGTERM");
	server_stop(&srv);
	return rc;
}
