/*
 * natsfix.h - the fixture every cluster suite shares: a scratch
 * nats-server (natsrv.h) per test, its store in the test's tmpdir, and
 * the restart that the outage tests make.  Header-only, like
 * check_tmp.h, whose tmpdir it uses; include it after check_tmp.h.
 */
#ifndef CHATD_NATSFIX_H
#define CHATD_NATSFIX_H

#include <check.h>
#include <stdio.h>

#include "natsrv.h"

static struct natsrv	 nats;
static char		 nats_store[300];

/* The suite's name for its tmpdir; set it before the runner starts. */
static const char	*nats_fixture_name = "check_cluster";

static void
nats_up(void)
{
	tmpdir_make(nats_fixture_name);
	snprintf(nats_store, sizeof(nats_store), "%s", tmpdir);
	ck_assert_int_eq(natsrv_start(&nats, nats_store, 0), 0);
}

static void
nats_down(void)
{
	struct natsrv	ns;

	/* The test may have restarted it: its pid file says which. */
	if (natsrv_adopt(&ns, nats_store) == 0)
		natsrv_stop(&ns);
	natsrv_stop(&nats);
	tmpdir_remove();
}

/*
 * Stop the server a test started (the fixture's, or the one it
 * restarted since) and return its port, for nats_restart().
 */
static inline uint16_t
nats_kill(void)
{
	struct natsrv	old;
	uint16_t	port = nats.port;

	ck_assert_int_eq(natsrv_adopt(&old, nats_store), 0);
	ck_assert_int_eq(natsrv_stop(&old), 0);
	nats.pid = -1;
	return port;
}

/* Start it again on its old port, with its old store. */
static inline void
nats_restart(uint16_t port)
{
	ck_assert_int_eq(natsrv_start(&nats, nats_store, port), 0);
}

#endif /* CHATD_NATSFIX_H */
