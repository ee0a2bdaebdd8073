/*
 * natsrv.h - a scratch nats-server for the cluster tests: JetStream on,
 * loopback only, a free port (or a given one, to restart on it), its
 * store in a directory the caller owns, stopped by its PID.  The binary
 * is $NATS_SERVER (configure finds it), else nats-server on the PATH.
 * Every wait is bounded.
 */
#ifndef CHATD_NATSRV_H
#define CHATD_NATSRV_H

#include <stdint.h>
#include <sys/types.h>

#define NATSRV_START_TIMEOUT	10000	/* ms until "Server is ready" */

struct natsrv {
	pid_t		 pid;
	uint16_t	 port;
	char		 store[256];
	char		 log[300];
	char		 url[64];	/* nats://127.0.0.1:PORT */
};

/*
 * Start one with its store (and log) in store_dir, on port (0: any free
 * one).  0, or -1 with the reason and the server's log on stderr.
 */
int	natsrv_start(struct natsrv *ns, const char *store_dir, uint16_t port);
/*
 * SIGTERM, wait, SIGKILL if it lingers; the store stays.  0 or -1.
 * Works from any process: one that is not the server's parent waits
 * for it to be gone (or a zombie) instead of reaping it.
 */
int	natsrv_stop(struct natsrv *ns);
/*
 * The server last started in store_dir, from its pid file (for a
 * fixture's teardown in another process).  0, or -1 if none.
 */
int	natsrv_adopt(struct natsrv *ns, const char *store_dir);

#endif /* CHATD_NATSRV_H */
