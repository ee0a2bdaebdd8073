/*
 * event.c - refcounted chat events.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event.h"
#include "fault.h"

struct event *
event_new(enum event_kind kind, uint64_t seq, uint64_t time_ms,
    const char *room, size_t room_len, const char *nick, size_t nick_len,
    const char *text, size_t text_len)
{
	return event_new_full(kind, seq, time_ms, room, room_len, nick,
	    nick_len, "", 0, "", 0, text, text_len);
}

struct event *
event_new_full(enum event_kind kind, uint64_t seq, uint64_t time_ms,
    const char *room, size_t room_len, const char *nick, size_t nick_len,
    const char *uhost, size_t uhost_len, const char *target,
    size_t target_len, const char *text, size_t text_len)
{
	return event_new_tagged(kind, seq, time_ms, room, room_len, nick,
	    nick_len, uhost, uhost_len, target, target_len, text, text_len,
	    "", 0);
}

struct event *
event_new_tagged(enum event_kind kind, uint64_t seq, uint64_t time_ms,
    const char *room, size_t room_len, const char *nick, size_t nick_len,
    const char *uhost, size_t uhost_len, const char *target,
    size_t target_len, const char *text, size_t text_len, const char *ctags,
    size_t ctags_len)
{
	struct event	*ev;
	char		*p;

	if (room_len > UINT16_MAX || nick_len > UINT16_MAX ||
	    uhost_len > UINT16_MAX || target_len > UINT16_MAX ||
	    ctags_len > UINT16_MAX || text_len > UINT32_MAX)
		return NULL;
	/* Not calloc(): a chat line's event is made per line. */
	if (fault_fail(FAULT_MSG) || (ev = malloc(sizeof(*ev) + room_len +
	    nick_len + uhost_len + target_len + ctags_len + text_len + 6)) ==
	    NULL)
		return NULL;
	memset(ev, 0, sizeof(*ev));
	atomic_init(&ev->refs, 1);
	ev->kind = kind;
	ev->seq = seq;
	ev->time_ms = time_ms;
	p = ev->data;
	ev->room = p;
	memcpy(p, room, room_len);
	p[room_len] = '\0';
	p += room_len + 1;
	ev->nick = p;
	memcpy(p, nick, nick_len);
	p[nick_len] = '\0';
	p += nick_len + 1;
	ev->uhost = p;
	memcpy(p, uhost, uhost_len);
	p[uhost_len] = '\0';
	p += uhost_len + 1;
	ev->target = p;
	memcpy(p, target, target_len);
	p[target_len] = '\0';
	p += target_len + 1;
	ev->ctags = p;
	memcpy(p, ctags, ctags_len);
	p[ctags_len] = '\0';
	p += ctags_len + 1;
	ev->text = p;
	memcpy(p, text, text_len);
	p[text_len] = '\0';
	ev->room_len = (uint16_t)room_len;
	ev->nick_len = (uint16_t)nick_len;
	ev->text_len = (uint32_t)text_len;
	ev->uhost_len = (uint16_t)uhost_len;
	ev->target_len = (uint16_t)target_len;
	ev->ctags_len = (uint16_t)ctags_len;
	return ev;
}

void
event_unref(struct event *ev)
{
	size_t	 i;

	if (atomic_fetch_sub_explicit(&ev->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (i = 0; i < FMT_COUNT; i++)
		if (ev->rendered[i] != NULL)
			msg_unref(ev->rendered[i]);
	free(ev);
}

uint64_t
event_clock_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
