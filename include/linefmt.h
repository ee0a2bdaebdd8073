/*
 * linefmt.h - the line protocol's rendering of chat events (protocol v2,
 * doc/PROTOCOL.md).  Pure: no sockets, no locks, no state.
 *
 * An event renders to the v1 line for a member whose current room is
 * the event's room, and to the same line after "#room " for a member
 * of the room who is elsewhere.  History lines carry the event's time
 * in front instead: "[2026-12-01T21:40:53Z] <alice> hi".
 */
#ifndef CHATD_LINEFMT_H
#define CHATD_LINEFMT_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"
#include "msg.h"

/* The line of ev (any kind), labelled with its room or not; NULL: ENOMEM. */
struct msg	*linefmt_event(const struct event *ev, bool labelled);

/* The replay and /history form of ev; NULL on ENOMEM. */
struct msg	*linefmt_history(const struct event *ev);

/* "2026-12-01T21:40:53Z" of a time in ms since the epoch: 20 bytes + NUL. */
#define LINEFMT_TIME_MAX	21
void		 linefmt_time(char out[LINEFMT_TIME_MAX], uint64_t time_ms);

#endif /* CHATD_LINEFMT_H */
