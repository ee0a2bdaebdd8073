/*
 * line.c - the line protocol (v1, and v2's rooms): a client's lines to
 * calls on the chat model, and the model's events to lines.
 *
 * Everything here but line_deliver() and line_joined() runs in the
 * worker that owns the connection.  Those two run under a room's lock
 * (or the nick table's, for a private line) in whichever worker made
 * the event, and take the connection's mutex to append: the current
 * room is read under that mutex too, so a line is labelled by where
 * its recipient was when it was queued, in the order queued.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "conn.h"
#include "ircmsg.h"
#include "line.h"
#include "linefmt.h"
#define LOG_COMPONENT	"conn"
#include "log.h"
#include "senders.h"
#include "model.h"
#include "proto.h"
#include "server.h"
#include "utf8.h"

#define LOG_RENAME_BURST	5
#define LOG_RENAME_EVERY_MS	10000.0
#define LIST_LINE_MAX		400	/* bytes of names per /who line */

/* One line client: the chat model's user, and what it said last. */
struct line_session {
	struct user	 user;
	struct conn	*conn;
	char		*quit_reason;	/* the client's /quit text */
	size_t		 quit_len;
	double		 log_tokens;	/* renames it may still log */
	struct sender	 sender;	/* --cluster: told of failed lines */
	uint64_t	 log_refill_ms;
	unsigned	 log_suppressed;	/* renames not logged */
	bool		 authed;	/* sent the password, or none asked */
};

static struct line_session *
session_of(struct user *u)
{
	return (struct line_session *)(void *)((char *)u -
	    offsetof(struct line_session, user));
}

static struct line_session *
session(struct conn *c)
{
	return c->session;
}

static void	line_flush(struct worker *, struct conn *);

/*
 * Where typed text goes.  A KICK (another thread) clears it as it is
 * told; one that came while the client was switching rooms leaves it on
 * a room the client is no longer in, which is dropped here, before the
 * model frees the membership and perhaps the room (only compared).
 */
static struct room *
current_room(struct worker *w, struct conn *c)
{
	struct user	*u = &session(c)->user;

	if (u->current != NULL && !model_in_room(u, u->current)) {
		conn_lock(c);
		u->current = NULL;
		conn_unlock(c, &w->wake);
	}
	return u->current;
}

/*
 * Output.
 */

/* A line to this client alone, in order after what it said before. */
static void
reply_msg(struct worker *w, struct conn *c, struct msg *m)
{
	line_flush(w, c);
	if (m == NULL)
		return;
	conn_deliver(c, &m, 1, &w->wake);
}

static void
reply(struct worker *w, struct conn *c, enum reply_kind kind,
    const char *text)
{
	reply_msg(w, c, msg_format(kind, NULL, 0, text, strlen(text)));
}

static void
replyf(struct worker *w, struct conn *c, enum reply_kind kind,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
replyf(struct worker *w, struct conn *c, enum reply_kind kind,
    const char *fmt, ...)
{
	char	 text[1024];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(text))
		n = sizeof(text) - 1;
	reply_msg(w, c, msg_format(kind, NULL, 0, text, (size_t)n));
}

/*
 * The front-end's callbacks, under a room's lock.
 */

/* The rendered form fmt of f->evs[i], built on first need. */
static struct msg *
rendered(struct fanout *f, size_t i, enum event_format fmt)
{
	struct event	*ev = f->evs[i];

	if (ev->rendered[fmt] == NULL)
		ev->rendered[fmt] = linefmt_event(ev, fmt == FMT_LINE_LABELLED);
	return ev->rendered[fmt];
}

/*
 * A recipient takes the references paid ahead for its format (model.h,
 * struct fanout) when it takes every event of the fan-out, which is
 * always but for a group already told; otherwise it takes its own.
 */
static void
line_deliver(struct user *u, struct fanout *f, void *ctx)
{
	struct line_session	*s = session_of(u);
	struct msg		*out[WORKER_BATCH];
	enum event_format	 fmt;
	size_t			 i, n = 0;

	conn_lock(s->conn);
	fmt = f->room == NULL || u->current == f->room ? FMT_LINE :
	    FMT_LINE_LABELLED;
	for (i = 0; i < f->n && n < WORKER_BATCH; i++) {
		const struct event *ev = f->evs[i];

		/* Chat lines, the common case, are the same for everyone. */
		if (!f->chat) {
			/* Away and bare tags are IRC's business. */
			if (ev->kind == EV_AWAY || ev->kind == EV_TAGMSG)
				continue;
			/* Put out of its room: typed text goes nowhere now. */
			if (ev->kind == EV_KICK && ev->actor == u &&
			    u->current == f->room)
				u->current = NULL;
			/* Its own rename, the shutdown: once, not a room each. */
			if ((ev->actor == u || ev->kind == EV_NOTICE) &&
			    !user_first_of_group(u, ev->group))
				continue;
			/* A rename is told to the renamer unlabelled. */
			if (ev->actor == u && f->n == 1)
				fmt = FMT_LINE;
		}
		/* Without memory this recipient misses the line. */
		if ((out[n] = rendered(f, i, fmt)) != NULL)
			n++;
	}
	if (n == f->n && f->used[fmt] < f->prepaid[fmt])
		f->used[fmt]++;
	else
		for (i = 0; i < n; i++)
			msg_ref(out[i]);
	if (n > 0)
		conn_push_locked(s->conn, out, n);
	conn_unlock(s->conn, ctx);
}

static void
line_joined(struct user *u, const struct join_info *ji, void *ctx)
{
	struct line_session	*s = session_of(u);
	struct conn		*c = s->conn;
	struct wakeset		*ws = ctx;
	struct motd		*motd = c->motd;
	struct msg		*m;
	char			 text[ROOM_NAME_MAX_BYTES + 128];
	const char		*name;
	size_t			 i, len;

	name = room_name(ji->room, &len);
	conn_lock(c);
	u->current = ji->room;
	if (ji->on_connect) {
		snprintf(text, sizeof(text), "welcome to chatd, you are %s (%zu "
		    "online; /help lists the commands)", u->nick, ji->members);
		if ((m = msg_format(REPLY_NOTICE, NULL, 0, text,
		    strlen(text))) != NULL)
			conn_push_locked(c, &m, 1);
		for (i = 0; motd != NULL && i < motd->count; i++) {
			msg_ref(motd->lines[i]);
			conn_push_locked(c, &motd->lines[i], 1);
		}
		conn_unlock(c, ws);
		return;
	}
	snprintf(text, sizeof(text), "now talking in %.*s (%zu online)",
	    (int)len, name, ji->members);
	if ((m = msg_format(REPLY_NOTICE, NULL, 0, text, strlen(text))) != NULL)
		conn_push_locked(c, &m, 1);
	if (ji->topic != NULL) {
		char *t = malloc(ji->topic_len + 8);

		if (t != NULL) {
			memcpy(t, "topic: ", 7);
			memcpy(t + 7, ji->topic, ji->topic_len);
			if ((m = msg_format(REPLY_NOTICE, NULL, 0, t,
			    ji->topic_len + 7)) != NULL)
				conn_push_locked(c, &m, 1);
			free(t);
		}
	}
	if (ji->nreplay > 0) {
		snprintf(text, sizeof(text), "history of %.*s, last %zu "
		    "lines:", (int)len, name, ji->nreplay);
		if ((m = msg_format(REPLY_NOTICE, NULL, 0, text,
		    strlen(text))) != NULL)
			conn_push_locked(c, &m, 1);
		for (i = 0; i < ji->nreplay; i++)
			if ((m = linefmt_history(ji->replay[i])) != NULL)
				conn_push_locked(c, &m, 1);
		if ((m = msg_format(REPLY_NOTICE, NULL, 0, "end of history",
		    14)) != NULL)
			conn_push_locked(c, &m, 1);
	}
	conn_unlock(c, ws);
}

static atomic_size_t line_users_count;

size_t
line_users(void)
{
	return atomic_load_explicit(&line_users_count, memory_order_relaxed);
}

static const struct frontend line_frontend = {
	.name = "line",
	.users = &line_users_count,
	.deliver = line_deliver,
	.joined = line_joined,
};

/*
 * Chat lines are batched per read: one room lock for up to
 * WORKER_BATCH lines, and bounded in bytes so that what the senders add
 * past the high-water mark while they are being stopped is at most one
 * batch a worker (flow_batch_bytes).
 */
static void
line_flush(struct worker *w, struct conn *c)
{
	char	 text[128];
	size_t	 n;

	if (w->nbatch == 0)
		return;
	if (server_say_batch(w, &session(c)->user, &n) == M_UNREACHABLE) {
		snprintf(text, sizeof(text), "the cluster is unreachable: "
		    "%zu line%s not sent", n, n == 1 ? "" : "s");
		reply(w, c, REPLY_ERROR, text);
	}
}

static int
batch_say(struct worker *w, struct conn *c, enum event_kind kind,
    const struct command *cmd, size_t *relayed)
{
	struct user	*u = &session(c)->user;
	struct room	*r = current_room(w, c);
	struct event	*ev;
	const char	*name;
	size_t		 len;

	if (r == NULL) {
		reply(w, c, REPLY_ERROR, "you are in no room; /join #room "
		    "first");
		return 0;
	}
	if (w->batch_room != r)
		line_flush(w, c);
	name = room_name(r, &len);
	ev = event_new_full(kind, 0, event_clock_ms(), name, len, u->nick,
	    u->nick_len, u->uhost, u->uhost_len, "", 0, cmd->text,
	    cmd->text_len);
	if (ev == NULL)
		return -1;
	/* The common form is made here, outside the room's lock. */
	if ((ev->rendered[FMT_LINE] = linefmt_event(ev, false)) == NULL) {
		event_unref(ev);
		return -1;
	}
	*relayed = ev->rendered[FMT_LINE]->len;
	if (server_batch_add(w, r, ev, ev->rendered[FMT_LINE]->len))
		line_flush(w, c);
	return 0;
}

/*
 * Commands.
 */

static void
handle_quit(struct worker *w, struct conn *c, const struct command *cmd)
{
	struct line_session	*s = session(c);

	if (cmd->text_len > 0 &&
	    (s->quit_reason = malloc(cmd->text_len)) != NULL) {
		memcpy(s->quit_reason, cmd->text, cmd->text_len);
		s->quit_len = cmd->text_len;
	}
	reply(w, c, REPLY_NOTICE, "bye");
	c->closing = true;
	c->close_reason = "quit";
}

static void
handle_help(struct worker *w, struct conn *c)
{
	const char *const	*line;

	for (line = proto_help_lines; *line != NULL; line++)
		reply(w, c, REPLY_NOTICE, *line);
}

/*
 * Whether this rename may be logged.  A client may rename itself as fast
 * as its flood allowance lets it: 16 connections from one address at 20
 * a second would be 320 log lines a second.  Each connection logs its
 * first LOG_RENAME_BURST renames, then one every LOG_RENAME_EVERY_MS;
 * the others are counted, and the count goes with its next log line.
 */
static bool
rename_loggable(struct line_session *s)
{
	uint64_t	 now = now_ms();

	s->log_tokens += (double)(now - s->log_refill_ms) /
	    LOG_RENAME_EVERY_MS;
	s->log_refill_ms = now;
	if (s->log_tokens > LOG_RENAME_BURST)
		s->log_tokens = LOG_RENAME_BURST;
	if (s->log_tokens < 1) {
		s->log_suppressed++;
		return false;
	}
	s->log_tokens -= 1;
	return true;
}

/* A rename is logged, so a disconnect line can be traced to its connect. */
static int
handle_nick(struct worker *w, struct conn *c, const struct command *cmd)
{
	struct line_session	*s = session(c);
	char			 old[NICK_MAX_BYTES + 1];
	const char		*why;
	int			 rc;

	memcpy(old, s->user.nick, s->user.nick_len + 1);
	rc = model_nick(w->srv->model, &s->user, cmd->target, cmd->target_len,
	    &why, &w->wake);
	if (rc == M_BAD_NICK) {
		replyf(w, c, REPLY_ERROR, "invalid nickname: %s", why);
		return 0;
	}
	if (rc == M_NICK_TAKEN) {
		replyf(w, c, REPLY_ERROR, "nickname %.*s is taken",
		    (int)cmd->target_len, cmd->target);
		return 0;
	}
	if (rc == M_UNREACHABLE) {
		reply(w, c, REPLY_ERROR, "the cluster is unreachable: nickname "
		    "not changed");
		return 0;
	}
	if (rc != M_OK)
		return -1;
	if (strcmp(old, s->user.nick) == 0 || !rename_loggable(s))
		return 0;
	if (s->log_suppressed > 0)
		log_info("%s %s is now %s (%u renames not logged before)",
		    c->addr, old, s->user.nick, s->log_suppressed);
	else
		log_info("%s %s is now %s", c->addr, old, s->user.nick);
	s->log_suppressed = 0;
	return 0;
}

/* A listing built line by line, bounded in bytes, then counted. */
struct listing {
	struct worker	*w;
	struct conn	*c;
	char		 line[LIST_LINE_MAX + 2 * ROOM_NAME_MAX_BYTES + 512];
	size_t		 len;
	size_t		 total, max_bytes;
	size_t		 shown;
	long		 sent;		/* bytes queued, -1 on ENOMEM */
	struct msg	*msgs[64];
	size_t		 nmsgs;
};

static void
listing_send(struct listing *l)
{
	struct msg	*m;

	if (l->len == 0 || l->sent < 0)
		return;
	if ((m = msg_format(REPLY_NOTICE, NULL, 0, l->line, l->len)) == NULL) {
		l->sent = -1;
		return;
	}
	l->sent += m->len;
	l->msgs[l->nmsgs++] = m;
	if (l->nmsgs == sizeof(l->msgs) / sizeof(l->msgs[0])) {
		conn_deliver(l->c, l->msgs, l->nmsgs, &l->w->wake);
		l->nmsgs = 0;
	}
	l->len = 0;
}

static void
listing_done(struct listing *l, size_t count)
{
	listing_send(l);
	if (l->shown < count && l->sent >= 0) {
		l->len = (size_t)snprintf(l->line, sizeof(l->line),
		    "and %zu more", count - l->shown);
		listing_send(l);
	}
	if (l->nmsgs > 0)
		conn_deliver(l->c, l->msgs, l->nmsgs, &l->w->wake);
	l->nmsgs = 0;
}

/* model_who() calls it first with no name and the count. */
static bool
who_name(void *arg, const char *nick, size_t len)
{
	struct listing	*l = arg;

	if (nick == NULL) {
		l->len = (size_t)snprintf(l->line, sizeof(l->line),
		    "%zu online:", len);
		return true;
	}
	if (l->total + len >= l->max_bytes || l->sent < 0)
		return false;
	if (l->len > 0)
		l->line[l->len++] = ' ';
	memcpy(l->line + l->len, nick, len);
	l->len += len;
	l->total += len + 1;
	l->shown++;
	if (l->len >= LIST_LINE_MAX)
		listing_send(l);
	return true;
}

/*
 * /who: "N online: a b c" then continuation lines, each at most about
 * LIST_LINE_MAX bytes of names, and names of at most a quarter of the
 * sendq in all: past that, "and N more".  One consistent snapshot.
 */
static long
handle_who(struct worker *w, struct conn *c)
{
	struct listing	*l;
	struct room	*r = current_room(w, c);
	size_t		 count;
	long		 sent;

	if (r == NULL) {
		reply(w, c, REPLY_ERROR, "you are in no room; /join #room "
		    "first");
		return 0;
	}
	line_flush(w, c);
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -1;
	l->w = w;
	l->c = c;
	l->max_bytes = LIMIT(w->host, sendq) / 4;
	count = model_who(w->srv->model, r, who_name, l);
	listing_done(l, count);
	sent = l->sent;
	free(l);
	return sent;
}

static int
handle_msg(struct worker *w, struct conn *c, const struct command *cmd)
{
	struct line_session	*s = session(c);
	char			 to[NICK_MAX_BYTES + 1];
	int			 rc;

	line_flush(w, c);
	rc = model_private(w->srv->model, &s->user, cmd->target,
	    cmd->target_len, cmd->text, cmd->text_len, to, &w->wake);
	if (rc == M_NO_SUCH_NICK) {
		replyf(w, c, REPLY_ERROR, "no such nick: %.*s",
		    (int)cmd->target_len, cmd->target);
		return 0;
	}
	if (rc == M_UNREACHABLE) {
		reply(w, c, REPLY_ERROR, "the cluster is unreachable: private "
		    "line not sent");
		return 0;
	}
	if (rc != M_OK)
		return -1;
	atomic_fetch_add_explicit(&w->host->stats.messages, 1,
	    memory_order_relaxed);
	reply_msg(w, c, msg_format(REPLY_PRIVATE_ECHO, to, strlen(to),
	    cmd->text, cmd->text_len));
	return 0;
}

/* The room now current, told to the client. */
static void
set_current(struct worker *w, struct conn *c, struct room *r)
{
	struct user	*u = &session(c)->user;
	const char	*name;
	size_t		 len;

	conn_lock(c);
	u->current = r;
	conn_unlock(c, &w->wake);
	if (r == NULL) {
		reply(w, c, REPLY_NOTICE, "you are in no room; /join #room to "
		    "talk");
		return;
	}
	name = room_name(r, &len);
	replyf(w, c, REPLY_NOTICE, "now talking in %.*s (%zu online)",
	    (int)len, name, room_members(r));
}

static int
handle_join(struct worker *w, struct conn *c, const struct command *cmd)
{
	struct user	*u = &session(c)->user;
	struct room	*r;
	const char	*why;
	int		 rc;

	line_flush(w, c);
	rc = model_join(w->srv->model, u, cmd->target, cmd->target_len,
	    LIMIT(w->host, replay), &r, &why, &w->wake);
	switch (rc) {
	case M_OK:
		return 0;
	case M_ALREADY:
		set_current(w, c, r);
		return 0;
	case M_BAD_NAME:
		replyf(w, c, REPLY_ERROR, "invalid room name: %s", why);
		return 0;
	case M_TOO_MANY_JOINED:
		replyf(w, c, REPLY_ERROR, "you are in too many rooms (limit "
		    "%zu)", LIMIT(w->host, max_rooms_per_user));
		return 0;
	case M_TOO_MANY_ROOMS:
		replyf(w, c, REPLY_ERROR, "too many rooms on this server "
		    "(limit %zu)", LIMIT(w->host, max_rooms));
		return 0;
	default:
		return -1;
	}
}

static int
handle_part(struct worker *w, struct conn *c, const struct command *cmd)
{
	struct user	*u = &session(c)->user;
	struct room	*r, *was = current_room(w, c);
	const char	*why, *name;
	size_t		 len;
	char		 copy[ROOM_NAME_MAX_BYTES + 1];

	line_flush(w, c);
	if (cmd->target_len == 0) {
		if ((r = was) == NULL) {
			reply(w, c, REPLY_ERROR, "you are in no room");
			return 0;
		}
	} else if ((why = room_name_check(cmd->target, cmd->target_len,
	    LIMIT(w->host, max_room_name))) != NULL) {
		replyf(w, c, REPLY_ERROR, "invalid room name: %s", why);
		return 0;
	} else if ((r = model_joined(u, cmd->target, cmd->target_len)) ==
	    NULL) {
		replyf(w, c, REPLY_ERROR, "you are not in %.*s",
		    (int)cmd->target_len, cmd->target);
		return 0;
	}
	/* The room may go with the part: keep its name for the reply. */
	name = room_name(r, &len);
	memcpy(copy, name, len);
	copy[len] = '\0';
	if (r == was) {
		conn_lock(c);
		u->current = NULL;
		conn_unlock(c, &w->wake);
	}
	if (model_part(w->srv->model, u, r, NULL, 0, &w->wake) != M_OK)
		return -1;
	replyf(w, c, REPLY_NOTICE, "you left %s", copy);
	if (r == was)
		set_current(w, c, u->nrooms > 0 ?
		    u->rooms[u->nrooms - 1]->room : NULL);
	return 0;
}

/* A secret room (+s) is listed to its members only, as IRC's LIST does. */
static bool
room_visible(struct conn *c, const struct room_entry *e)
{
	return !(e->modes & ROOM_MODE_SECRET) ||
	    model_joined(&session(c)->user, e->name, e->len) != NULL;
}

static bool
rooms_count(void *arg, const struct room_entry *e)
{
	struct listing	*l = arg;

	if (room_visible(l->c, e))
		l->total++;
	return true;
}

static bool
rooms_entry(void *arg, const struct room_entry *e)
{
	struct listing	*l = arg;
	size_t		 n, topic_len = e->topic_len;

	if (l->sent < 0)
		return false;
	if (!room_visible(l->c, e))
		return true;
	if (topic_len > LIST_LINE_MAX)
		topic_len = LIST_LINE_MAX;
	if (e->topic != NULL && topic_len > 0)
		n = (size_t)snprintf(l->line, sizeof(l->line), "%.*s %zu "
		    "online: %.*s", (int)e->len, e->name, e->members,
		    (int)topic_len, e->topic);
	else
		n = (size_t)snprintf(l->line, sizeof(l->line), "%.*s %zu "
		    "online", (int)e->len, e->name, e->members);
	l->len = n < sizeof(l->line) ? n : sizeof(l->line) - 1;
	/* The bound counts the lines as sent, "-- " and CRLF included. */
	if ((size_t)l->sent + l->len + 5 > l->max_bytes) {
		l->len = 0;
		return false;
	}
	l->shown++;
	listing_send(l);
	return true;
}

static long
handle_rooms(struct worker *w, struct conn *c)
{
	struct listing	*l;
	struct msg	*head;
	long		 sent;
	char		 text[64];

	line_flush(w, c);
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -1;
	l->w = w;
	l->c = c;
	l->max_bytes = LIMIT(w->host, sendq) / 4;
	/* The count first: a snapshot taken before the entries. */
	model_list(w->srv->model, rooms_count, l);
	snprintf(text, sizeof(text), "%zu rooms:", l->total);
	if ((head = msg_format(REPLY_NOTICE, NULL, 0, text, strlen(text))) !=
	    NULL) {
		l->msgs[l->nmsgs++] = head;
		l->sent += head->len;
	}
	model_list(w->srv->model, rooms_entry, l);
	listing_done(l, l->total);
	sent = l->sent;
	free(l);
	return sent;
}

static int
handle_topic(struct worker *w, struct conn *c, const struct command *cmd)
{
	struct user	*u = &session(c)->user;
	struct room	*r = current_room(w, c);
	const char	*name;
	char		*topic;
	size_t		 len, tlen, max = LIMIT(w->host, max_topic);
	int		 rc;

	line_flush(w, c);
	if (r == NULL) {
		reply(w, c, REPLY_ERROR, "you are in no room; /join #room "
		    "first");
		return 0;
	}
	name = room_name(r, &len);
	if (cmd->text_len == 0) {
		if ((topic = malloc(max + 1)) == NULL)
			return -1;
		tlen = model_topic_get(r, topic, max + 1);
		if (tlen == 0)
			replyf(w, c, REPLY_NOTICE, "%.*s has no topic",
			    (int)len, name);
		else
			replyf(w, c, REPLY_NOTICE, "topic of %.*s: %.*s",
			    (int)len, name, (int)tlen, topic);
		free(topic);
		return 0;
	}
	if (cmd->text_len == 1 && cmd->text[0] == '-')
		rc = model_topic(w->srv->model, u, r, "", 0, &w->wake);
	else
		rc = model_topic(w->srv->model, u, r, cmd->text, cmd->text_len,
		    &w->wake);
	if (rc == M_TOPIC_TOO_LONG) {
		replyf(w, c, REPLY_ERROR, "topic too long (limit %zu bytes)",
		    max);
		return 0;
	}
	if (rc == M_NOT_OP) {
		reply(w, c, REPLY_ERROR, "only the room's operators may set "
		    "its topic");
		return 0;
	}
	if (rc == M_UNREACHABLE) {
		reply(w, c, REPLY_ERROR, "the cluster is unreachable: topic "
		    "not set");
		return 0;
	}
	return rc == M_OK ? 0 : -1;
}

/* /history N: the framed block, queued in one append. */
static long
handle_history(struct worker *w, struct conn *c, const struct command *cmd)
{
	struct room	*r = current_room(w, c);
	struct event	**evs;
	struct msg	**out;
	const char	*name;
	char		 text[ROOM_NAME_MAX_BYTES + 64];
	size_t		 want, got, i, n = 0, len, max = LIMIT(w->host, history);
	long		 sent = 0;

	line_flush(w, c);
	if (r == NULL) {
		reply(w, c, REPLY_ERROR, "you are in no room; /join #room "
		    "first");
		return 0;
	}
	want = cmd->count > 0 ? cmd->count : LIMIT(w->host, replay);
	if (want > max)
		want = max;
	name = room_name(r, &len);
	evs = calloc(want + 1, sizeof(*evs));
	out = calloc(want + 2, sizeof(*out));
	if (evs == NULL || out == NULL) {
		free(evs);
		free(out);
		return -1;
	}
	got = model_history(w->srv->model, r, want, evs);
	snprintf(text, sizeof(text), "history of %.*s, last %zu lines:",
	    (int)len, name, got);
	if ((out[n] = msg_format(REPLY_NOTICE, NULL, 0, text, strlen(text))) !=
	    NULL)
		n++;
	for (i = 0; i < got; i++) {
		if ((out[n] = linefmt_history(evs[i])) != NULL)
			n++;
		event_unref(evs[i]);
	}
	if ((out[n] = msg_format(REPLY_NOTICE, NULL, 0, "end of history",
	    14)) != NULL)
		n++;
	for (i = 0; i < n; i++)
		sent += out[i]->len;
	conn_deliver(c, out, n, &w->wake);
	free(evs);
	free(out);
	return sent;
}

/*
 * The password.
 */

static int	line_register(struct worker *, struct conn *);

/* "/pass" and its argument, if line is that command (any case). */
static bool
is_pass(const char *line, size_t len, const char **arg, size_t *arglen)
{
	if (len < 5 || strncasecmp(line, "/pass", 5) != 0 ||
	    (len > 5 && line[5] != ' '))
		return false;
	*arg = len > 5 ? line + 6 : line + len;
	*arglen = len > 5 ? len - 6 : 0;
	return true;
}

/*
 * Before the password only /pass and /quit work.  A wrong one is
 * answered, then the client is closed after a delay, parked by the
 * transport (no worker waits): one guess per connection, at most
 * --connect-rate connections a second per address.
 */
static void
line_auth(struct worker *w, struct conn *c, const char *line, size_t len)
{
	struct command	 cmd;
	const char	*arg;
	size_t		 arglen;

	if (is_pass(line, len, &arg, &arglen)) {
		if (!server_password_ok(w->srv, arg, arglen)) {
			reply(w, c, REPLY_ERROR, "wrong password");
			server_password_refused(c);
			return;
		}
		session(c)->authed = true;
		if (line_register(w, c) == -1) {
			reply(w, c, REPLY_ERROR, "out of memory, try again "
			    "later");
			c->closing = true;
			c->close_reason = "out of memory";
		}
		return;
	}
	proto_parse(line, len, &cmd);
	if (cmd.kind == CMD_QUIT) {
		handle_quit(w, c, &cmd);
		return;
	}
	reply(w, c, REPLY_ERROR, "password required: send /pass PASSWORD "
	    "first (or /quit)");
}

/*
 * One complete input line, CR and LF removed.  Returns the bytes it made
 * chatd relay, which the flood bucket charges.
 */
static size_t
line_input(struct worker *w, struct conn *c, const char *line, size_t len)
{
	struct line_session	*s = session(c);
	struct command		 cmd;
	char			 stats[512];
	const char		*arg;
	size_t			 relayed = 0, arglen;
	long			 listed;
	int			 rc = 0;

	if (!utf8_valid(line, len, NULL)) {
		reply(w, c, REPLY_ERROR, "invalid UTF-8, line ignored");
		return 0;
	}
	if (!s->authed) {
		line_auth(w, c, line, len);
		return 0;
	}
	if (is_pass(line, len, &arg, &arglen)) {
		line_flush(w, c);
		reply(w, c, REPLY_ERROR, "you are in already: no password "
		    "needed now");
		return 0;
	}
	proto_parse(line, len, &cmd);
	/* Anything but chat must come after the chat lines before it. */
	if (cmd.kind != CMD_SAY && cmd.kind != CMD_ME && cmd.kind != CMD_NONE)
		line_flush(w, c);
	switch (cmd.kind) {
	case CMD_NONE:
		break;
	case CMD_SAY:
		rc = batch_say(w, c, EV_SAY, &cmd, &relayed);
		break;
	case CMD_ME:
		rc = batch_say(w, c, EV_ME, &cmd, &relayed);
		break;
	case CMD_NICK:
		rc = handle_nick(w, c, &cmd);
		break;
	case CMD_WHO:
	case CMD_ROOMS:
	case CMD_HISTORY:
		/* A quarter of the sendq: it alone never puts the asker behind. */
		listed = cmd.kind == CMD_WHO ? handle_who(w, c) :
		    cmd.kind == CMD_ROOMS ? handle_rooms(w, c) :
		    handle_history(w, c, &cmd);
		rc = listed < 0 ? -1 : 0;
		relayed = listed < 0 ? 0 : (size_t)listed;
		break;
	case CMD_MSG:
		rc = handle_msg(w, c, &cmd);
		/* At most what the recipient's copy holds. */
		relayed = PROTO_FORMAT_MAX(s->user.nick_len, cmd.text_len);
		break;
	case CMD_JOIN:
		rc = handle_join(w, c, &cmd);
		break;
	case CMD_PART:
		rc = handle_part(w, c, &cmd);
		break;
	case CMD_TOPIC:
		rc = handle_topic(w, c, &cmd);
		relayed = cmd.text_len;
		break;
	case CMD_STATS:
		server_stats_line(w->srv, stats, sizeof(stats));
		reply(w, c, REPLY_NOTICE, stats);
		break;
	case CMD_QUIT:
		handle_quit(w, c, &cmd);
		break;
	case CMD_HELP:
		handle_help(w, c);
		break;
	case CMD_UNKNOWN:
		replyf(w, c, REPLY_ERROR, "unknown command /%.*s, try /help",
		    (int)(cmd.name_len > 64 ? 64 : cmd.name_len), cmd.name);
		break;
	case CMD_USAGE:
		replyf(w, c, REPLY_ERROR, "usage: %s",
		    proto_usage(cmd.name, cmd.name_len));
		break;
	}
	if (rc == -1)
		reply(w, c, REPLY_ERROR, "out of memory, line dropped");
	return relayed;
}

static void
line_error(struct worker *w, struct conn *c, const char *text)
{
	reply(w, c, REPLY_ERROR, text);
}

/*
 * Coming and going.
 */

/* --cluster: NATS did not store a line of c's (senders.h). */
static void
tell_failed(struct conn *c, const char *text, struct wakeset *ws)
{
	struct msg	*m;

	if ((m = msg_format(REPLY_ERROR, NULL, 0, text, strlen(text))) !=
	    NULL)
		conn_deliver(c, &m, 1, ws);
}

/* Join the chat: a nickname, the default room, the welcome. */
static int
line_register(struct worker *w, struct conn *c)
{
	struct line_session	*s = session(c);
	int			 rc;

	c->motd = server_motd(w->srv);
	rc = model_connect(w->srv->model, &s->user, &w->wake);
	motd_unref(c->motd);
	c->motd = NULL;
	if (rc == M_UNREACHABLE) {
		/* No name that is sure to be this user's alone: none at all. */
		s->user.nick[0] = '\0';
		reply(w, c, REPLY_ERROR, "the cluster is unreachable: no "
		    "guest name can be given now, try again later");
		c->closing = true;
		c->close_reason = "cluster unreachable";
		log_info("%s refused: no guest name while NATS is away",
		    c->addr);
		return 0;
	}
	if (rc != M_OK)
		return -1;
	if (w->srv->cluster != NULL) {
		s->sender.id = s->user.id;
		s->sender.conn = c;
		s->sender.tell = tell_failed;
		senders_add(&s->sender);
	}
	log_info("%s connected as %s", c->addr, s->user.nick);
	return 0;
}

static int
line_open(struct worker *w, struct conn *c)
{
	struct line_session	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	s->conn = c;
	s->user.fe = &line_frontend;
	s->user.uhost_len = ircmsg_uhost("line", c->addr, s->user.uhost,
	    sizeof(s->user.uhost));
	s->log_tokens = LOG_RENAME_BURST;
	s->log_refill_ms = now_ms();
	c->session = s;
	if (server_password_required(w->srv)) {
		/* Nothing of the chat until the password. */
		reply(w, c, REPLY_NOTICE, "password required: send /pass "
		    "PASSWORD");
		log_info("%s connected, waiting for the password", c->addr);
		return 0;
	}
	s->authed = true;
	if (line_register(w, c) == -1) {
		c->session = NULL;
		free(s);
		return -1;
	}
	return 0;
}

static const char *
line_nick(struct conn *c)
{
	/* Before the password it has no nickname yet. */
	return c->session != NULL && session(c)->user.nick[0] != '\0' ?
	    session(c)->user.nick : "-";
}

/* Leave every room, telling the others why (server_leave()). */
static void
line_leave(struct worker *w, struct conn *c, const char *kill_reason)
{
	struct line_session	*s = session(c);

	if (s == NULL || !s->user.registered)
		return;
	line_flush(w, c);
	server_leave(w, c, &s->user, kill_reason, s->quit_reason, s->quit_len);
}

static void
line_log_close(struct conn *c, const char *why)
{
	struct line_session	*s = session(c);

	/* The client's own words never reach the log: they may hold escapes. */
	if (s != NULL && s->log_suppressed > 0)
		log_info("%s %s disconnected: %s (%u renames not logged)",
		    c->addr, line_nick(c), why, s->log_suppressed);
	else
		log_info("%s %s disconnected: %s", c->addr, line_nick(c), why);
}

static void
line_free(struct conn *c)
{
	struct line_session	*s = session(c);

	if (s == NULL)
		return;
	senders_remove(&s->sender);
	model_forget(server_of(c->host)->model, &s->user);
	free(s->quit_reason);
	free(s);
	c->session = NULL;
}

const struct conn_proto line_proto = {
	.name = "line",
	.open = line_open,
	.line = line_input,
	.error = line_error,
	.flush = line_flush,
	.leave = line_leave,
	.log_close = line_log_close,
	.nick = line_nick,
	.free = line_free,
};
