/*
 * linefmt.c - events to protocol lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "linefmt.h"

/* The notice text of a room event other than chat: malloc'd. */
static char *
notice_text(const struct event *ev, size_t *len)
{
	size_t	 cap = ev->nick_len + ev->text_len + 64;
	char	*s;
	int	 n;

	if ((s = malloc(cap)) == NULL)
		return NULL;
	switch (ev->kind) {
	case EV_JOIN:
		n = snprintf(s, cap, "%s joined", ev->nick);
		break;
	case EV_PART:
	case EV_QUIT:
		if (ev->text_len > 0)
			n = snprintf(s, cap, "%s left (%s)", ev->nick, ev->text);
		else
			n = snprintf(s, cap, "%s left", ev->nick);
		break;
	case EV_NICK:
		n = snprintf(s, cap, "%s is now known as %s", ev->nick,
		    ev->text);
		break;
	case EV_TOPIC:
		if (ev->text_len > 0)
			n = snprintf(s, cap, "%s set the topic: %s", ev->nick,
			    ev->text);
		else
			n = snprintf(s, cap, "%s cleared the topic", ev->nick);
		break;
	default:
		n = snprintf(s, cap, "%s", ev->text);
		break;
	}
	*len = (size_t)n;
	return s;
}

/* The v1 line of ev. */
static struct msg *
render_plain(const struct event *ev)
{
	struct msg	*m;
	char		*text;
	size_t		 len;

	switch (ev->kind) {
	case EV_SAY:
		return msg_format(REPLY_CHAT, ev->nick, ev->nick_len, ev->text,
		    ev->text_len);
	case EV_ME:
		return msg_format(REPLY_ACTION, ev->nick, ev->nick_len,
		    ev->text, ev->text_len);
	case EV_PRIVATE:
		return msg_format(REPLY_PRIVATE, ev->nick, ev->nick_len,
		    ev->text, ev->text_len);
	default:
		break;
	}
	/* Reasons and topics are the clients' text: proto_format sanitises. */
	if ((text = notice_text(ev, &len)) == NULL)
		return NULL;
	m = msg_format(REPLY_NOTICE, NULL, 0, text, len);
	free(text);
	return m;
}

/* prefix (plen bytes) then m's line, in a new message; m is released. */
static struct msg *
prefixed(const char *prefix, size_t plen, struct msg *m)
{
	struct msg	*p;

	if (m == NULL)
		return NULL;
	if ((p = malloc(sizeof(*p) + plen + m->len)) != NULL) {
		atomic_init(&p->refs, 1);
		p->len = (uint32_t)(plen + m->len);
		memcpy(p->data, prefix, plen);
		memcpy(p->data + plen, m->data, m->len);
	}
	msg_unref(m);
	return p;
}

struct msg *
linefmt_event(const struct event *ev, bool labelled)
{
	char	 label[ROOM_NAME_MAX_BYTES + 2];

	if (!labelled || ev->room_len == 0 || ev->kind == EV_PRIVATE)
		return render_plain(ev);
	/* Room names hold no controls or spaces: room_name_check(). */
	memcpy(label, ev->room, ev->room_len);
	label[ev->room_len] = ' ';
	return prefixed(label, ev->room_len + 1, render_plain(ev));
}

void
linefmt_time(char out[LINEFMT_TIME_MAX], uint64_t time_ms)
{
	time_t		 t = (time_t)(time_ms / 1000);
	struct tm	 tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, LINEFMT_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, LINEFMT_TIME_MAX, "%s", "1970-01-01T00:00:00Z");
}

struct msg *
linefmt_history(const struct event *ev)
{
	char	 stamp[LINEFMT_TIME_MAX + 3];

	stamp[0] = '[';
	linefmt_time(stamp + 1, ev->time_ms);
	memcpy(stamp + 1 + 20, "] ", 2);
	return prefixed(stamp, 23, render_plain(ev));
}
