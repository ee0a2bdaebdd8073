/*
 * idle_clients.c - hold N connections to chatd that never read, for
 * scripts/membound.sh.  Each has a small SO_RCVBUF, so that what the
 * kernel buffers for it stays small and chatd's sendq for it fills
 * after a few tens of kilobytes, as it would for a client on a slow
 * link.  With -r, a connection that chatd cuts off is opened again,
 * so the never-readers keep pressing for the whole run.
 *
 * Usage: idle_clients -p PORT -n N [-b RCVBUF] [-t SECONDS] [-r]
 *
 * Prints "ready N" once N are connected, and at the end (after SECONDS,
 * default 60, or SIGTERM) "reopened K".  Exit status 0, or 1 if a
 * connection could not be opened.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testnet.h"

static volatile sig_atomic_t	 quit;

static void
on_term(int sig)
{
	(void)sig;
	quit = 1;
}

/* A blocking connect with SO_RCVBUF set first; the fd, or -1. */
static int
open_one(uint16_t port, int rcvbuf)
{
	struct sockaddr_in	 sin;
	int			 fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
main(int argc, char *argv[])
{
	struct pollfd	*pfd;
	int64_t		 end;
	long		 port = 0, n = 0, secs = 60, reopened = 0, i;
	int		 ch, rcvbuf = 4096, again = 0, rc = 0;

	while ((ch = getopt(argc, argv, "p:n:b:t:r")) != -1) {
		switch (ch) {
		case 'p': port = strtol(optarg, NULL, 10); break;
		case 'n': n = strtol(optarg, NULL, 10); break;
		case 'b': rcvbuf = (int)strtol(optarg, NULL, 10); break;
		case 't': secs = strtol(optarg, NULL, 10); break;
		case 'r': again = 1; break;
		default: goto usage;
		}
	}
	if (port <= 0 || port > 65535 || n <= 0 || n > 100000 || secs <= 0)
		goto usage;
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);
	tn_raise_nofile();
	if ((pfd = calloc((size_t)n, sizeof(*pfd))) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		if ((pfd[i].fd = open_one((uint16_t)port, rcvbuf)) == -1) {
			fprintf(stderr, "idle_clients: connection %ld: %s\n",
			    i, strerror(errno));
			return 1;
		}
		/* Only the end of the connection is of interest. */
		pfd[i].events = POLLRDHUP;
	}
	printf("ready %ld\n", n);
	fflush(stdout);
	end = tn_now_ms() + secs * 1000;
	while (!quit && tn_now_ms() < end) {
		if (poll(pfd, (nfds_t)n, 100) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			if ((pfd[i].revents & (POLLERR | POLLHUP |
			    POLLRDHUP)) == 0)
				continue;
			close(pfd[i].fd);
			pfd[i].fd = again ? open_one((uint16_t)port, rcvbuf) :
			    -1;
			if (pfd[i].fd == -1 && again) {
				rc = 1;
				break;
			}
			reopened += again;
		}
	}
	printf("reopened %ld\n", reopened);
	for (i = 0; i < n; i++)
		if (pfd[i].fd != -1)
			close(pfd[i].fd);
	free(pfd);
	return rc;
usage:
	fprintf(stderr, "usage: idle_clients -p PORT -n N [-b RCVBUF] "
	    "[-t SECONDS] [-r]\n");
	return 2;
}
