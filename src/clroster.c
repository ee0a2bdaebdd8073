/*
 * clroster.c - a node's roster in parts (clroster.h).
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clroster.h"
#include "clwire.h"
#include "event.h"
#include "proto.h"
#include "utf8.h"

#define HEAD_MAX	(2 * 20 + 2)	/* "PART PARTS\n" */
#define UID_MAX		20

static_assert(HEAD_MAX + UID_MAX + 1 + NICK_MAX_BYTES + 1 +
    ROOM_NAME_MAX_BYTES + 1 <= CLROSTER_LINE_MIN,
    "one entry must fit in the smallest part");

/* A name that a space or a newline cannot be part of. */
static bool
word_ok(const char *s, size_t len, size_t max)
{
	size_t	i;

	if (len == 0 || len > max)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] == ' ' || s[i] == '\n')
			return false;
	return utf8_valid(s, len, NULL);
}

static bool
entry_ok(const struct clroster_entry *e)
{
	return word_ok(e->nick, e->nick_len, NICK_MAX_BYTES) &&
	    e->room_len >= 2 && e->room[0] == '#' &&
	    word_ok(e->room, e->room_len, ROOM_NAME_MAX_BYTES);
}

/*
 * Lay out one part's lines from e[*at], at most cap bytes, into buf if
 * not NULL; advances *at past the entries it took.  Its length.
 */
static size_t
fill(const struct clroster_entry *e, size_t n, size_t *at, char *buf,
    size_t cap)
{
	char		 head[UID_MAX + 1 + NICK_MAX_BYTES + 2];
	size_t		 len = 0, need, hlen;
	size_t		 i = *at;
	bool		 open = false;	/* a line of e[i - 1]'s uid is open */

	while (i < n) {
		if (open && e[i].uid == e[i - 1].uid &&
		    e[i].nick_len == e[i - 1].nick_len &&
		    memcmp(e[i].nick, e[i - 1].nick, e[i].nick_len) == 0) {
			/* " ROOM" replaces the line's "\n", then a new one. */
			need = 1 + e[i].room_len;
			if (len + need > cap)
				break;
			if (buf != NULL) {
				buf[len - 1] = ' ';
				memcpy(buf + len, e[i].room, e[i].room_len);
				buf[len + e[i].room_len] = '\n';
			}
			len += need;
		} else {
			hlen = (size_t)snprintf(head, sizeof(head),
			    "%" PRIu64 " %.*s ", e[i].uid, (int)e[i].nick_len,
			    e[i].nick);
			need = hlen + e[i].room_len + 1;
			if (len + need > cap)
				break;
			if (buf != NULL) {
				memcpy(buf + len, head, hlen);
				memcpy(buf + len + hlen, e[i].room,
				    e[i].room_len);
				buf[len + hlen + e[i].room_len] = '\n';
			}
			len += need;
			open = true;
		}
		i++;
	}
	*at = i;
	return len;
}

void
clroster_parts_free(struct clroster_part *p, size_t nparts)
{
	size_t	i;

	if (p == NULL)
		return;
	for (i = 0; i < nparts; i++)
		free(p[i].text);
	free(p);
}

struct clroster_part *
clroster_encode(const struct clroster_entry *e, size_t n, size_t part_max,
    size_t *nparts)
{
	struct clroster_part	*parts = NULL;
	size_t			 i, at, count = 0, body, hlen;

	*nparts = 0;
	if (part_max < CLROSTER_LINE_MIN) {
		errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (!entry_ok(&e[i])) {
			errno = EINVAL;
			return NULL;
		}
	}
	/* Count first: every header holds the number of parts. */
	at = 0;
	do {
		fill(e, n, &at, NULL, part_max - HEAD_MAX);
		count++;
	} while (at < n);
	if (count > CLROSTER_PARTS_MAX) {
		errno = E2BIG;
		return NULL;
	}
	if ((parts = calloc(count, sizeof(*parts))) == NULL)
		return NULL;
	at = 0;
	for (i = 0; i < count; i++) {
		if ((parts[i].text = malloc(part_max)) == NULL) {
			clroster_parts_free(parts, count);
			return NULL;
		}
		hlen = (size_t)snprintf(parts[i].text, part_max, "%zu %zu\n",
		    i, count);
		body = fill(e, n, &at, parts[i].text + hlen,
		    part_max - HEAD_MAX);
		parts[i].len = hlen + body;
	}
	*nparts = count;
	return parts;
}

/* The word of [*p, end) up to stop (not taken), moving *p past it. */
static const char *
word(const char **p, const char *end, size_t *len)
{
	const char	*start = *p;

	while (*p < end && **p != ' ' && **p != '\n')
		(*p)++;
	*len = (size_t)(*p - start);
	return start;
}

/*
 * Walk the lines of [p, end): check each, and give its entries to fn if
 * it is not NULL.  0 or -1.
 */
static int
walk(const char *p, const char *end,
    void (*fn)(void *arg, const struct clroster_entry *e), void *arg)
{
	struct clroster_entry	 e;
	const char		*w;
	size_t			 wlen, rooms;

	while (p < end) {
		w = word(&p, end, &wlen);
		if (p == end || *p != ' ' || clw_parse_u64(w, wlen, &e.uid) != 0)
			return -1;
		p++;
		e.nick = word(&p, end, &e.nick_len);
		if (p == end || *p != ' ' ||
		    !word_ok(e.nick, e.nick_len, NICK_MAX_BYTES))
			return -1;
		for (rooms = 0; p < end && *p == ' '; rooms++) {
			p++;
			e.room = word(&p, end, &e.room_len);
			if (e.room_len < 2 || e.room[0] != '#' ||
			    !word_ok(e.room, e.room_len, ROOM_NAME_MAX_BYTES))
				return -1;
			if (fn != NULL)
				fn(arg, &e);
		}
		if (rooms == 0 || p == end || *p != '\n')
			return -1;
		p++;
	}
	return 0;
}

int
clroster_parse(const char *text, size_t len, struct clroster_head *head,
    void (*fn)(void *arg, const struct clroster_entry *e), void *arg)
{
	const char	*p = text, *end = text + len, *w;
	size_t		 wlen;
	uint64_t	 part, parts;

	w = word(&p, end, &wlen);
	if (p == end || *p != ' ' || clw_parse_u64(w, wlen, &part) != 0)
		return -1;
	p++;
	w = word(&p, end, &wlen);
	if (p == end || *p != '\n' || clw_parse_u64(w, wlen, &parts) != 0 ||
	    parts == 0 || parts > CLROSTER_PARTS_MAX || part >= parts)
		return -1;
	p++;
	/* Checked whole before fn sees any of it. */
	if (walk(p, end, NULL, NULL) != 0)
		return -1;
	if (head != NULL) {
		head->part = (size_t)part;
		head->parts = (size_t)parts;
	}
	if (fn != NULL)
		walk(p, end, fn, arg);
	return 0;
}
