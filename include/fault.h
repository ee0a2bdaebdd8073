/*
 * fault.h - allocation-failure injection, for the tests.
 *
 * Each allocation whose failure chatd survives by refusing one client or
 * dropping one line asks fault_fail() first, with the name of its site.
 * A test arms a site with fault_arm(): the next n allocations there fail
 * as if malloc had returned NULL, and the real error path runs.  Unarmed,
 * the check is one relaxed atomic load.
 */
#ifndef CHATD_FAULT_H
#define CHATD_FAULT_H

#include <stdbool.h>

enum fault_site {
	FAULT_CONN,	/* a new connection: the client is refused */
	FAULT_JOIN,	/* joining the room: the client is refused */
	FAULT_MSG,	/* a formatted line: that line is dropped */
	FAULT_LINE,	/* a partial input line: that line is dropped */
	FAULT_SENDQ,	/* a send queue: that client is cut off */
	FAULT_NSITES
};

/* The next n allocations at site fail (0 disarms it). */
void	fault_arm(enum fault_site site, unsigned n);
/* True if this allocation must fail; counts the armed ones down. */
bool	fault_fail(enum fault_site site);

#endif /* CHATD_FAULT_H */
