/*
 * clroster.h - a node's roster on the cluster's stream (--cluster): which
 * of its users (id and nick) are in which rooms, so that a node that
 * missed their joins (it started late, or NATS was away) learns them.
 * Pure: no sockets, no NATS.
 *
 * A roster goes out in parts, each the text of one CLW_ROSTER message
 * and at most part_max bytes:
 *
 *	PART PARTS\n
 *	UID NICK ROOM [ROOM ...]\n
 *	...
 *
 * PART counts from 0 to PARTS - 1; an empty roster (a node with nobody
 * in a room) is the one part "0 1\n".  Nicks and room names hold no
 * space or newline (nick_check, room_name_check), so a space ends each.
 * A user in many rooms may take several lines, in one part or several:
 * a receiver gathers them by UID.  What is parsed is untrusted: every
 * number, name and line is checked.
 */
#ifndef CHATD_CLROSTER_H
#define CHATD_CLROSTER_H

#include <stddef.h>
#include <stdint.h>

#define CLROSTER_PART_MAX	8192	/* bytes of a part: a message */
#define CLROSTER_PARTS_MAX	100000	/* parts of one roster */

/* One user in one room. */
struct clroster_entry {
	uint64_t	 uid;
	const char	*nick;
	size_t		 nick_len;
	const char	*room;
	size_t		 room_len;
};

struct clroster_part {
	char		*text;
	size_t		 len;
};

/*
 * The parts of e[0..n), each at most part_max bytes (at least
 * CLROSTER_LINE_MIN, so that any one entry fits); consecutive entries of
 * one uid share a line.  NULL if an entry's nick or room is not one a
 * parse accepts, part_max is too small, or memory ran out.
 */
#define CLROSTER_LINE_MIN	512
struct clroster_part	*clroster_encode(const struct clroster_entry *e,
			    size_t n, size_t part_max, size_t *nparts);
void			 clroster_parts_free(struct clroster_part *p,
			    size_t nparts);

struct clroster_head {
	size_t		 part;
	size_t		 parts;
};

/*
 * Check text (one part); fill head if not NULL, then call fn (if not
 * NULL) for each entry in order: a line of k rooms gives k entries.
 * 0, or -1 if anything is malformed; fn is called only for a valid part.
 */
int			 clroster_parse(const char *text, size_t len,
			    struct clroster_head *head,
			    void (*fn)(void *arg,
			    const struct clroster_entry *e), void *arg);

#endif /* CHATD_CLROSTER_H */
