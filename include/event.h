/*
 * event.h - what a room orders: one chat event, built once, shared by
 * reference between the members' send paths, the history ring and the
 * history database writer.
 *
 * An event is immutable once it has its sequence number, except for its
 * rendered forms, which a front-end builds on first need under the
 * room's lock (so each wire format is formatted once per event, however
 * many recipients use it).  References are atomic: the last event_unref()
 * frees the event and its rendered forms.
 */
#ifndef CHATD_EVENT_H
#define CHATD_EVENT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"

enum event_kind {
	EV_SAY,		/* text */
	EV_ME,		/* text */
	EV_JOIN,
	EV_PART,	/* text: the reason, may be empty */
	EV_QUIT,	/* text: the reason, may be empty */
	EV_NICK,	/* nick: the old name, text: the new one */
	EV_TOPIC,	/* text: the new topic, empty if cleared */
	EV_NOTICE,	/* text: a server notice to the room (shutdown) */
	EV_PRIVATE,	/* to one user: room holds the recipient's nick */
	/* Added for IRC; none of these is kept in history. */
	EV_USER_NOTICE,	/* an IRC NOTICE to a room or (as EV_PRIVATE) a user */
	EV_KICK,	/* target: who was put out, text: the reason */
	EV_MODE,	/* text: the change, "+o bob", "-t" */
	EV_AWAY,	/* text: the away message, empty when back */
	EV_TAGMSG	/* IRC's TAGMSG: client tags alone, no text */
};

/* The wire formats an event may be rendered to (see the front-ends). */
enum event_format {
	FMT_LINE,		/* protocol v1/v2, the recipient's current room */
	FMT_LINE_LABELLED,	/* protocol v2, "#room " first */
	FMT_IRC,		/* ":nick!user@host PRIVMSG #room :text" */
	FMT_IRC_TIME,		/* the same after "@time=... " (server-time) */
	FMT_IRC_TAGGED,		/* after "@time=...;msgid=N;+client=tags " */
	FMT_COUNT
};

#define ROOM_NAME_MAX_BYTES	(1 + 50 * 4)	/* '#' and 50 code points */

struct event {
	atomic_uint	 refs;
	enum event_kind	 kind;
	uint64_t	 seq;		/* the room's sequence number, from 1 */
	uint64_t	 time_ms;	/* wall clock, ms since the epoch */
	const char	*room;		/* these three point into data[] and */
	const char	*nick;		/* are NUL-terminated */
	const char	*text;
	/*
	 * "user@host" of the sender, for IRC prefixes, and the user an
	 * EV_KICK or EV_USER_NOTICE is about or to: "" if none.
	 */
	const char	*uhost;
	const char	*target;
	const char	*ctags;		/* IRC client tags, escaped: "+a=b;+c" */
	uint16_t	 room_len;
	uint16_t	 nick_len;
	uint32_t	 text_len;
	uint16_t	 uhost_len;
	uint16_t	 target_len;
	uint16_t	 ctags_len;
	/*
	 * Events that are one change told in several rooms (a nick change,
	 * a quit, the shutdown notice) share a group, so a recipient who
	 * shares several of those rooms is told once; 0 for none.
	 */
	uint64_t	 group;
	/*
	 * The same for a change the line protocol tells in each room but
	 * IRC tells once (a quit); 0 for none.
	 */
	uint64_t	 once;
	/*
	 * Who the event is about, for telling that user apart (its own
	 * rename); compared, never followed.  NULL for none.
	 */
	const void	*actor;
	/* Under the room's lock; NULL until first needed. */
	struct msg	*rendered[FMT_COUNT];
	char		 data[];
};

/*
 * A new event with one reference, its strings copied; NULL on ENOMEM.
 * text must be valid UTF-8 (it was checked on input); it is sanitised
 * only when rendered.
 */
struct event	*event_new(enum event_kind kind, uint64_t seq,
		    uint64_t time_ms, const char *room, size_t room_len,
		    const char *nick, size_t nick_len, const char *text,
		    size_t text_len);

static inline struct event *
event_ref(struct event *ev)
{
	atomic_fetch_add_explicit(&ev->refs, 1, memory_order_relaxed);
	return ev;
}

/* The same with the sender's user@host and a target (both may be ""). */
struct event	*event_new_full(enum event_kind kind, uint64_t seq,
		    uint64_t time_ms, const char *room, size_t room_len,
		    const char *nick, size_t nick_len, const char *uhost,
		    size_t uhost_len, const char *target, size_t target_len,
		    const char *text, size_t text_len);

/* The same with IRC client tags. */
struct event	*event_new_tagged(enum event_kind kind, uint64_t seq,
		    uint64_t time_ms, const char *room, size_t room_len,
		    const char *nick, size_t nick_len, const char *uhost,
		    size_t uhost_len, const char *target, size_t target_len,
		    const char *text, size_t text_len, const char *ctags,
		    size_t ctags_len);

void		 event_unref(struct event *ev);

/* Wall-clock milliseconds since the epoch, for event times. */
uint64_t	 event_clock_ms(void);

#endif /* CHATD_EVENT_H */
