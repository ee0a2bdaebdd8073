/*
 * linefmt.c - events to protocol lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "linefmt.h"

/*
 * The notice text of a room event other than chat: malloc'd.  The
 * client's part is copied whole, not through "%s": a NUL is valid UTF-8,
 * and msg_format() replaces it like any control instead of the rest of
 * a reason or topic vanishing.
 */
static char *
notice_text(const struct event *ev, size_t *len)
{
	const char	*mid, *end = "";
	size_t		 nick_len = ev->nick_len, text_len = ev->text_len;
	size_t		 mid_len, end_len;
	char		*s, *p;

	switch (ev->kind) {
	case EV_JOIN:
		mid = " joined";
		text_len = 0;
		break;
	case EV_PART:
	case EV_QUIT:
		mid = text_len > 0 ? " left (" : " left";
		end = text_len > 0 ? ")" : "";
		break;
	case EV_NICK:
		mid = " is now known as ";
		break;
	case EV_TOPIC:
		mid = text_len > 0 ? " set the topic: " : " cleared the topic";
		break;
	case EV_MODE:
		mid = " sets mode ";
		break;
	case EV_AWAY:
		mid = text_len > 0 ? " is away: " : " is back";
		break;
	case EV_TAGMSG:
		mid = " sent tags";
		text_len = 0;
		break;
	default:
		mid = "";
		nick_len = 0;
		break;
	}
	mid_len = strlen(mid);
	end_len = strlen(end);
	if ((s = malloc(nick_len + mid_len + text_len + end_len + 1)) == NULL)
		return NULL;
	p = s;
	memcpy(p, ev->nick, nick_len);
	p += nick_len;
	memcpy(p, mid, mid_len);
	p += mid_len;
	memcpy(p, ev->text, text_len);
	p += text_len;
	memcpy(p, end, end_len);
	p += end_len;
	*len = (size_t)(p - s);
	return s;
}

/* "alice put bob out of #room (reason)". */
static struct msg *
render_kick(const struct event *ev)
{
	struct msg	*m;
	char		*text;
	int		 n;

	n = asprintf(&text, "%s put %s out of %s%s%.*s%s", ev->nick,
	    ev->target, ev->room, ev->text_len > 0 ? " (" : "",
	    (int)ev->text_len, ev->text, ev->text_len > 0 ? ")" : "");
	if (n < 0)
		return NULL;
	m = msg_format(REPLY_NOTICE, NULL, 0, text, (size_t)n);
	free(text);
	return m;
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
	case EV_USER_NOTICE:
		/* An IRC user's NOTICE reads as what it is: chat. */
		return msg_format(ev->room_len > 0 ? REPLY_CHAT :
		    REPLY_PRIVATE, ev->nick, ev->nick_len, ev->text,
		    ev->text_len);
	case EV_KICK:
		return render_kick(ev);
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
