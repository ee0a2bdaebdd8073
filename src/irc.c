/*
 * irc.c - the IRC front-end: a client's IRC lines to calls on the chat
 * model, and the model's events to IRC lines.
 *
 * As in line.c, everything but irc_deliver() and irc_joined() runs in
 * the worker that owns the connection; those two run under a room's
 * lock (or the nick table's) and only append.  The capabilities they
 * read are an atomic the owner sets.  Chat lines are batched per read
 * in the worker's batch, and any other command flushes the batch first,
 * so a line's fan-out is queued before the sender's next command runs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "conn.h"
#include "irc.h"
#include "ircmsg.h"
#define LOG_COMPONENT	"irc"
#include "log.h"
#include "senders.h"
#include "model.h"
#include "proto.h"
#include "server.h"
#include "utf8.h"

#define CAP_SERVER_TIME		0x001
#define CAP_MESSAGE_TAGS	0x002
#define CAP_ECHO		0x004
#define CAP_BATCH		0x008
#define CAP_CHATHISTORY		0x010
#define CAP_MULTI_PREFIX	0x020
#define CAP_USERHOST_NAMES	0x040
#define CAP_AWAY_NOTIFY		0x080

static const struct {
	const char	*name;
	unsigned	 bit;
} caps[] = {
	{ "away-notify",	CAP_AWAY_NOTIFY },
	{ "batch",		CAP_BATCH },
	{ "draft/chathistory",	CAP_CHATHISTORY },
	{ "echo-message",	CAP_ECHO },
	{ "message-tags",	CAP_MESSAGE_TAGS },
	{ "multi-prefix",	CAP_MULTI_PREFIX },
	{ "server-time",	CAP_SERVER_TIME },
	{ "userhost-in-names",	CAP_USERHOST_NAMES },
};
#define NCAPS	(sizeof(caps) / sizeof(caps[0]))

#define IDENT_MAX	10
#define REALNAME_MAX	100
#define NAMES_LINE_MAX	400	/* bytes of names per 353 */
#define TARGETS_MAX	4	/* PRIVMSG a,b,c,d */
#define IRC_CLIENT_TAGS_MAX	4094	/* IRCv3 message-tags */
#define IRC_BODY_MAX	510	/* a line without its tags, CRLF not counted */
/*
 * What the framer takes whatever --max-line says: IRCv3's 8191 bytes
 * of tags (the most a server must read) and a 512-byte message, so a
 * tagged line over IRC's own limits gets IRC's 417, not "line too long".
 */
#define IRC_LINE_MIN	(8191 + 512)

static char		server_name[256] = "chatd";
static atomic_size_t	irc_users_count;

struct irc_session {
	struct user	 user;
	struct conn	*conn;
	struct sender	 sender;	/* --cluster: told of failed lines */
	atomic_uint	 caps;		/* CAP_*: the owner sets, deliveries read */
	atomic_bool	 no_ctcp;	/* user mode +T: CTCP but ACTION refused */
	bool		 cap_open;	/* CAP LS or REQ, no END yet */
	bool		 have_nick, have_user;
	bool		 pass_ok;	/* PASS gave the server's password */
	char		 nick[NICK_MAX_BYTES + 1];	/* before registering */
	size_t		 nick_len;
	char		 ident[IDENT_MAX + 1];
	char		 realname[REALNAME_MAX + 1];
	char		*quit_reason;
	size_t		 quit_len;
	unsigned	 batches;	/* BATCH references made */
};

void
irc_set_server_name(const char *name)
{
	snprintf(server_name, sizeof(server_name), "%s", name);
}

size_t
irc_users(void)
{
	return atomic_load_explicit(&irc_users_count, memory_order_relaxed);
}

static struct irc_session *
session_of(struct user *u)
{
	return (struct irc_session *)(void *)((char *)u -
	    offsetof(struct irc_session, user));
}

static struct irc_session *
session(struct conn *c)
{
	return c->session;
}

/* The name numerics address: the nick, or "*" before there is one. */
static const char *
me(struct conn *c)
{
	struct irc_session	*s = session(c);

	if (s->user.registered)
		return s->user.nick;
	return s->have_nick ? s->nick : "*";
}

static unsigned
caps_of(struct irc_session *s)
{
	return atomic_load_explicit(&s->caps, memory_order_relaxed);
}

static void	irc_flush(struct worker *, struct conn *);

/*
 * Output.
 */

static void
send_msg(struct worker *w, struct conn *c, struct msg *m)
{
	irc_flush(w, c);
	if (m != NULL)
		conn_deliver(c, &m, 1, &w->wake);
}

/* ":server NUMERIC nick " then the rest, from a format. */
static void
numeric(struct worker *w, struct conn *c, const char *num,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
numeric(struct worker *w, struct conn *c, const char *num,
    const char *fmt, ...)
{
	char	 rest[4096];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(rest, sizeof(rest), fmt, ap);
	va_end(ap);
	send_msg(w, c, ircmsg_printf(":%s %s %s %s", server_name, num, me(c),
	    rest));
}

/*
 * --cluster: NATS did not store a line of c's (senders.h).  From the
 * acceptor: the nick is the owner's to read, so the notice goes to "*".
 */
static void
tell_failed(struct conn *c, const char *text, struct wakeset *ws)
{
	struct msg	*m;

	if ((m = ircmsg_printf(":%s NOTICE * :%s", server_name, text)) !=
	    NULL)
		conn_deliver(c, &m, 1, ws);
}

static void
need_more_params(struct worker *w, struct conn *c, const struct ircmsg *m)
{
	numeric(w, c, "461", "%.*s :Not enough parameters", (int)m->cmd_len,
	    m->cmd);
}

/* A parameter as a C string, cut to fit. */
static void
param(const struct ircmsg *m, size_t i, char *out, size_t cap)
{
	size_t	 len = i < m->nparams ? m->lens[i] : 0;

	if (len >= cap)
		len = cap - 1;
	memcpy(out, i < m->nparams ? m->params[i] : "", len);
	out[len] = '\0';
}

/*
 * The front-end's callbacks, under a room's lock.
 */

/* A CTCP request other than ACTION, which +T refuses. */
static bool
is_ctcp(const struct event *ev)
{
	const char	*body;
	size_t		 len;

	return ev->text_len > 0 && ev->text[0] == '\001' &&
	    !ircmsg_ctcp_action(ev->text, ev->text_len, &body, &len);
}

static bool
wants(struct user *u, unsigned fmt_caps, const struct event *ev,
    struct fanout *f)
{
	/* One change told in several rooms reaches this user once. */
	if (!f->chat && (ev->group != 0 || ev->once != 0) &&
	    !user_first_of_group(u, ev->group != 0 ? ev->group : ev->once))
		return false;
	switch (ev->kind) {
	case EV_SAY:
	case EV_ME:
	case EV_USER_NOTICE:
		return ev->actor != u || (fmt_caps & CAP_ECHO);
	case EV_PRIVATE:
		return !is_ctcp(ev) || !atomic_load_explicit(
		    &session_of(u)->no_ctcp, memory_order_relaxed);
	case EV_TAGMSG:
		return (fmt_caps & CAP_MESSAGE_TAGS) && (ev->actor != u ||
		    (fmt_caps & CAP_ECHO));
	case EV_AWAY:
		return (fmt_caps & CAP_AWAY_NOTIFY) != 0;
	default:
		return true;
	}
}

/* The format a client's capabilities ask for, and what it carries. */
static enum event_format
format_of(unsigned cs)
{
	if (cs & CAP_MESSAGE_TAGS)
		return FMT_IRC_TAGGED;
	return cs & CAP_SERVER_TIME ? FMT_IRC_TIME : FMT_IRC;
}

static unsigned
flags_of(enum event_format fmt)
{
	return fmt == FMT_IRC_TAGGED ? IRCMSG_TIME | IRCMSG_TAGS :
	    fmt == FMT_IRC_TIME ? IRCMSG_TIME : 0;
}

static struct msg *
rendered(struct event *ev, enum event_format fmt)
{
	if (ev->rendered[fmt] == NULL)
		ev->rendered[fmt] = ircmsg_event(ev, server_name,
		    flags_of(fmt), NULL);
	return ev->rendered[fmt];
}

static void
irc_deliver(struct user *u, struct fanout *f, void *ctx)
{
	struct irc_session	*s = session_of(u);
	struct msg		*out[WORKER_BATCH];
	unsigned		 cs = caps_of(s);
	enum event_format	 fmt;
	size_t			 i, n = 0;

	fmt = format_of(cs);
	conn_lock(s->conn);
	for (i = 0; i < f->n && n < WORKER_BATCH; i++) {
		if (!wants(u, cs, f->evs[i], f))
			continue;
		if ((out[n] = rendered(f->evs[i], fmt)) != NULL)
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

/* The joiner's own JOIN, then the topic; NAMES follows from the owner. */
static void
irc_joined(struct user *u, const struct join_info *ji, void *ctx)
{
	struct irc_session	*s = session_of(u);
	struct msg		*m[3];
	const char		*name;
	size_t			 len, n = 0;

	name = room_name(ji->room, &len);
	m[n] = ircmsg_printf(":%s!%s JOIN %.*s", u->nick, u->uhost, (int)len,
	    name);
	if (m[n] != NULL)
		n++;
	if (ji->topic != NULL && ji->topic_len > 0) {
		m[n] = ircmsg_printf(":%s 332 %s %.*s :%.*s", server_name,
		    u->nick, (int)len, name, (int)ji->topic_len, ji->topic);
		if (m[n] != NULL)
			n++;
		m[n] = ircmsg_printf(":%s 333 %s %.*s %s %llu", server_name,
		    u->nick, (int)len, name, ji->topic_nick[0] != '\0' ?
		    ji->topic_nick : server_name,
		    (unsigned long long)(ji->topic_time_ms / 1000));
		if (m[n] != NULL)
			n++;
	}
	if (n > 0)
		conn_deliver(s->conn, m, n, ctx);
}

static const struct frontend irc_frontend = {
	.name = "irc",
	.users = &irc_users_count,
	.deliver = irc_deliver,
	.joined = irc_joined,
};

/*
 * Chat lines, batched per read as line.c does.
 */

static void
irc_flush(struct worker *w, struct conn *c)
{
	const char	*name;
	char		 room[ROOM_NAME_MAX_BYTES + 1];
	size_t		 n, len;

	if (w->nbatch == 0)
		return;
	name = room_name(w->batch_room, &len);
	snprintf(room, sizeof(room), "%.*s", (int)len, name);
	/* After the batch is empty: numeric() flushes first. */
	if (server_say_batch(w, &session(c)->user, &n) == M_UNREACHABLE)
		numeric(w, c, "404", "%s :Cannot send to channel (the cluster "
		    "is unreachable: %zu line%s not sent)", room, n,
		    n == 1 ? "" : "s");
}

static int
batch_say(struct worker *w, struct conn *c, struct room *r,
    enum event_kind kind, const char *text, size_t len, const char *ctags,
    size_t ctags_len, size_t *relayed)
{
	struct user	*u = &session(c)->user;
	struct event	*ev;
	const char	*name;
	size_t		 name_len;

	if (w->batch_room != r)
		irc_flush(w, c);
	name = room_name(r, &name_len);
	ev = event_new_tagged(kind, 0, event_clock_ms(), name, name_len,
	    u->nick, u->nick_len, u->uhost, u->uhost_len, "", 0, text, len,
	    ctags, ctags_len);
	if (ev == NULL)
		return -1;
	ev->actor = u;
	/* The common form is made here, outside the room's lock. */
	if ((ev->rendered[FMT_IRC] = ircmsg_event(ev, server_name, 0,
	    NULL)) == NULL) {
		event_unref(ev);
		return -1;
	}
	*relayed += ev->rendered[FMT_IRC]->len;
	if (server_batch_add(w, r, ev, ev->rendered[FMT_IRC]->len))
		irc_flush(w, c);
	return 0;
}

/*
 * Registration.
 */

static void
send_isupport(struct worker *w, struct conn *c)
{
	struct ircmsg_limits	 l;
	const char		*tokens[32];
	char			 buf[1024], line[512];
	size_t			 n, i, j, len;

	memset(&l, 0, sizeof(l));
	l.network = "chatd";
	l.nicklen = NICK_MAX_CHARS;
	l.channellen = 1 + LIMIT(w->host, max_room_name);
	l.topiclen = LIMIT(w->host, max_topic);
	l.awaylen = AWAY_MAX_BYTES;
	l.kicklen = 300;
	l.chanlimit = LIMIT(w->host, max_rooms_per_user);
	l.history = LIMIT(w->host, history);
	n = ircmsg_isupport(&l, buf, sizeof(buf), tokens, 32);
	/* At most 13 tokens a line, as RFC 2812 clients expect. */
	for (i = 0; i < n; i += 13) {
		len = 0;
		for (j = i; j < n && j < i + 13; j++)
			len += (size_t)snprintf(line + len, sizeof(line) - len,
			    "%s ", tokens[j]);
		numeric(w, c, "005", "%s:are supported by this server", line);
	}
}

static void
send_motd(struct worker *w, struct conn *c)
{
	struct motd	*motd = server_motd(w->srv);
	size_t		 i;

	if (motd == NULL) {
		numeric(w, c, "422", ":MOTD File is missing");
		return;
	}
	numeric(w, c, "375", ":- %s Message of the day - ", server_name);
	for (i = 0; i < motd->count; i++) {
		const struct msg *l = motd->lines[i];
		size_t		  off = 0, len = l->len;

		/* The lines are made for line users: "-- text\r\n". */
		if (len >= 3 && memcmp(l->data, "-- ", 3) == 0)
			off = 3;
		while (len > off && (l->data[len - 1] == '\n' ||
		    l->data[len - 1] == '\r'))
			len--;
		numeric(w, c, "372", ":- %.*s", (int)(len - off), l->data + off);
	}
	numeric(w, c, "376", ":End of /MOTD command.");
	motd_unref(motd);
}

static int
try_register(struct worker *w, struct conn *c)
{
	struct irc_session	*s = session(c);
	const char		*why;
	int			 rc;

	if (s->user.registered || !s->have_nick || !s->have_user || s->cap_open)
		return 0;
	irc_flush(w, c);
	if (server_password_required(w->srv) && !s->pass_ok) {
		numeric(w, c, "464", ":Password incorrect");
		send_msg(w, c, ircmsg_printf("ERROR :Closing Link: %s "
		    "(Bad password)", c->addr));
		server_password_refused(c);
		return 0;
	}
	s->user.uhost_len = ircmsg_uhost(s->ident, c->addr, s->user.uhost,
	    sizeof(s->user.uhost));
	rc = model_register(w->srv->model, &s->user, s->nick, s->nick_len,
	    &why);
	if (rc == M_NICK_TAKEN || rc == M_BAD_NICK) {
		numeric(w, c, rc == M_NICK_TAKEN ? "433" : "432", "%s :%s",
		    s->nick, rc == M_NICK_TAKEN ? "Nickname is already in use" :
		    why);
		s->have_nick = false;
		return 0;
	}
	if (rc == M_UNREACHABLE) {
		numeric(w, c, "437", "%s :Nick is temporarily unavailable (the "
		    "cluster is unreachable)", s->nick);
		s->have_nick = false;
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
	log_info("%s registered as %s", c->addr, s->user.nick);
	numeric(w, c, "001", ":Welcome to the chatd IRC network %s!%s",
	    s->user.nick, s->user.uhost);
	numeric(w, c, "002", ":Your host is %s, running version chatd-%s",
	    server_name, PACKAGE_VERSION);
	numeric(w, c, "003", ":This server speaks IRC and the line protocol");
	numeric(w, c, "004", "%s chatd-%s iT bnostv bov", server_name,
	    PACKAGE_VERSION);
	send_isupport(w, c);
	numeric(w, c, "251", ":There are %zu users and 0 invisible on 1 "
	    "servers", model_users_count(w->srv->model));
	send_motd(w, c);
	return 0;
}

static void
handle_nick(struct worker *w, struct conn *c, const struct ircmsg *m)
{
	struct irc_session	*s = session(c);
	const char		*why;
	char			 nick[NICK_MAX_BYTES + 1];
	int			 rc;

	if (m->nparams < 1 || m->lens[0] == 0) {
		numeric(w, c, "431", ":No nickname given");
		return;
	}
	param(m, 0, nick, sizeof(nick));
	if (m->lens[0] > NICK_MAX_BYTES || (why = nick_check(m->params[0],
	    m->lens[0])) != NULL) {
		numeric(w, c, "432", "%s :Erroneous nickname", nick);
		return;
	}
	if (!s->user.registered) {
		if (model_whois(w->srv->model, nick, m->lens[0], NULL, NULL)) {
			numeric(w, c, "433", "%s :Nickname is already in use",
			    nick);
			return;
		}
		memcpy(s->nick, nick, m->lens[0] + 1);
		s->nick_len = m->lens[0];
		s->have_nick = true;
		return;
	}
	rc = model_nick(w->srv->model, &s->user, nick, m->lens[0], &why,
	    &w->wake);
	if (rc == M_NICK_TAKEN)
		numeric(w, c, "433", "%s :Nickname is already in use", nick);
	else if (rc == M_UNREACHABLE)
		numeric(w, c, "437", "%s :Nick is temporarily unavailable (the "
		    "cluster is unreachable)", nick);
	else if (rc == M_BAD_NICK)
		numeric(w, c, "432", "%s :Erroneous nickname", nick);
}

/* PASS before NICK and USER; registration checks it (try_register). */
static void
handle_pass(struct worker *w, struct conn *c, const struct ircmsg *m)
{
	struct irc_session	*s = session(c);

	if (s->user.registered) {
		numeric(w, c, "462", ":You may not reregister");
		return;
	}
	if (m->nparams < 1) {
		need_more_params(w, c, m);
		return;
	}
	s->pass_ok = server_password_ok(w->srv, m->params[0], m->lens[0]);
}

static void
handle_user(struct worker *w, struct conn *c, const struct ircmsg *m)
{
	struct irc_session	*s = session(c);
	size_t			 i, len;

	if (s->user.registered || s->have_user) {
		numeric(w, c, "462", ":You may not reregister");
		return;
	}
	if (m->nparams < 4 || m->lens[0] == 0 || m->lens[3] == 0) {
		need_more_params(w, c, m);
		return;
	}
	/* The ident goes into every prefix: plain characters only. */
	len = m->lens[0] < IDENT_MAX ? m->lens[0] : IDENT_MAX;
	for (i = 0; i < len; i++) {
		char ch = m->params[0][i];

		s->ident[i] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' &&
		    ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		    ch == '.' || ch == '_' ? ch : '_';
	}
	s->ident[len] = '\0';
	param(m, 3, s->realname, sizeof(s->realname));
	s->have_user = true;
}

static void
cap_list(struct worker *w, struct conn *c, const char *sub, bool enabled)
{
	char		 line[512];
	size_t		 i, len = 0;
	unsigned	 cs = caps_of(session(c));

	line[0] = '\0';
	for (i = 0; i < NCAPS; i++)
		if (!enabled || (cs & caps[i].bit))
			len += (size_t)snprintf(line + len, sizeof(line) - len,
			    "%s%s", len > 0 ? " " : "", caps[i].name);
	send_msg(w, c, ircmsg_printf(":%s CAP %s %s :%s", server_name, me(c),
	    sub, line));
}

static void
cap_req(struct worker *w, struct conn *c, const struct ircmsg *m)
{
	struct irc_session	*s = session(c);
	const char		*p, *end, *word;
	unsigned		 add = 0, del = 0, cs;
	size_t			 i, wlen;
	bool			 ok = true, off;
	char			 req[512];

	param(m, 1, req, sizeof(req));
	p = req;
	end = req + strlen(req);
	while (p < end && ok) {
		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		word = p;
		while (p < end && *p != ' ')
			p++;
		wlen = (size_t)(p - word);
		if ((off = *word == '-')) {
			word++;
			wlen--;
		}
		for (i = 0; i < NCAPS; i++)
			if (strlen(caps[i].name) == wlen &&
			    memcmp(caps[i].name, word, wlen) == 0)
				break;
		if (i == NCAPS)
			ok = false;
		else if (off)
			del |= caps[i].bit;
		else
			add |= caps[i].bit;
	}
	if (ok) {
		cs = (caps_of(s) | add) & ~del;
		atomic_store_explicit(&s->caps, cs, memory_order_relaxed);
	}
	send_msg(w, c, ircmsg_printf(":%s CAP %s %s :%s", server_name, me(c),
	    ok ? "ACK" : "NAK", req));
}

static void
handle_cap(struct worker *w, struct conn *c, const struct ircmsg *m)
{
	struct irc_session	*s = session(c);
	char			 sub[16];

	if (m->nparams < 1) {
		need_more_params(w, c, m);
		return;
	}
	param(m, 0, sub, sizeof(sub));
	if (strcasecmp(sub, "LS") == 0) {
		if (!s->user.registered)
			s->cap_open = true;
		cap_list(w, c, "LS", false);
	} else if (strcasecmp(sub, "LIST") == 0)
		cap_list(w, c, "LIST", true);
	else if (strcasecmp(sub, "REQ") == 0) {
		if (!s->user.registered)
			s->cap_open = true;
		cap_req(w, c, m);
	} else if (strcasecmp(sub, "END") == 0) {
		s->cap_open = false;
	} else
		numeric(w, c, "410", "%s :Invalid CAP command", sub);
}

/*
 * Channels.
 */

/* Split a comma list: the next item of *p (up to end), false when done. */
static bool
next_item(const char **p, const char *end, const char **item, size_t *len)
{
	const char	*s = *p;

	while (s < end && *s == ',')
		s++;
	if (s >= end)
		return false;
	*item = s;
	while (s < end && *s != ',')
		s++;
	*len = (size_t)(s - *item);
	*p = s;
	return true;
}

/* NAMES lines, built as model_members() walks the room. */
struct names {
	struct worker	*w;
	struct conn	*c;
	const char	*room;
	size_t		 room_len;
	const struct user *self;
	bool		 bounded;	/* only self and the operators */
	bool		 secret;	/* +s */
	unsigned	 caps;
	char		 line[NAMES_LINE_MAX + 200];
	size_t		 len;
	size_t		 bytes, max_bytes;
	struct msg	*msgs[32];
	size_t		 nmsgs;
};

static void
names_send(struct names *nm)
{
	struct msg	*m;

	if (nm->len == 0)
		return;
	m = ircmsg_printf(":%s 353 %s %c %.*s :%.*s", server_name, me(nm->c),
	    nm->secret ? '@' : '=', (int)nm->room_len, nm->room, (int)nm->len,
	    nm->line);
	if (m != NULL) {
		nm->msgs[nm->nmsgs++] = m;
		nm->bytes += m->len;
	}
	nm->len = 0;
	if (nm->nmsgs == sizeof(nm->msgs) / sizeof(nm->msgs[0])) {
		conn_deliver(nm->c, nm->msgs, nm->nmsgs, &nm->w->wake);
		nm->nmsgs = 0;
	}
}

static bool
names_member(void *arg, const struct user *u, unsigned prefix)
{
	struct names	*nm = arg;
	char		 p[3];
	size_t		 np = 0;
	int		 n;

	if (nm->bounded && u != nm->self && !(prefix & MEMBER_OP))
		return true;
	if (nm->bytes >= nm->max_bytes)
		return false;
	if (prefix & MEMBER_OP)
		p[np++] = '@';
	if ((prefix & MEMBER_VOICE) && (np == 0 ||
	    (nm->caps & CAP_MULTI_PREFIX)))
		p[np++] = '+';
	p[np] = '\0';
	if (nm->len + u->nick_len + u->uhost_len + 8 > NAMES_LINE_MAX)
		names_send(nm);
	n = snprintf(nm->line + nm->len, sizeof(nm->line) - nm->len,
	    "%s%s%s%s%s", nm->len > 0 ? " " : "", p, u->nick,
	    (nm->caps & CAP_USERHOST_NAMES) ? "!" : "",
	    (nm->caps & CAP_USERHOST_NAMES) ? u->uhost : "");
	if (n > 0)
		nm->len += (size_t)n;
	return true;
}

/*
 * 353s and 366 for r.  Past --announce-max members the reply to a JOIN
 * is bounded (the joiner and the operators), so that N joins do not cost
 * N^2 bytes; NAMES asked for lists everyone, up to a quarter of the
 * sendq.  Returns the bytes queued.
 */
static size_t
send_names(struct worker *w, struct conn *c, struct room *r, bool on_join)
{
	struct irc_session	*s = session(c);
	struct names		*nm;
	size_t			 bytes;

	irc_flush(w, c);
	if ((nm = calloc(1, sizeof(*nm))) == NULL)
		return 0;
	nm->w = w;
	nm->c = c;
	nm->room = room_name(r, &nm->room_len);
	nm->self = &s->user;
	nm->caps = caps_of(s);
	nm->max_bytes = LIMIT(w->host, sendq) / 4;
	nm->bounded = on_join && room_members(r) >
	    model_announce_max(w->srv->model);
	nm->secret = (model_room_modes(r) & ROOM_MODE_SECRET) != 0;
	model_members(w->srv->model, r, names_member, nm);
	names_send(nm);
	if (nm->nmsgs > 0)
		conn_deliver(c, nm->msgs, nm->nmsgs, &w->wake);
	bytes = nm->bytes;
	numeric(w, c, "366", "%.*s :End of /NAMES list", (int)nm->room_len,
	    nm->room);
	free(nm);
	return bytes;
}

static void
join_one(struct worker *w, struct conn *c, const char *name, size_t len)
{
	struct user	*u = &session(c)->user;
	struct room	*r;
	const char	*why;
	int		 rc;

	rc = model_join(w->srv->model, u, name, len, 0, &r, &why, &w->wake);
	switch (rc) {
	case M_OK:
		send_names(w, c, r, true);
		break;
	case M_ALREADY:
		break;
	case M_BAD_NAME:
		numeric(w, c, "403", "%.*s :No such channel (%s)", (int)len,
		    name, why);
		break;
	case M_TOO_MANY_JOINED:
		numeric(w, c, "405", "%.*s :You have joined too many channels",
		    (int)len, name);
		break;
	case M_TOO_MANY_ROOMS:
		numeric(w, c, "403", "%.*s :Too many channels on this server",
		    (int)len, name);
		break;
	default:
		numeric(w, c, "403", "%.*s :Out of memory", (int)len, name);
		break;
	}
}

static void
handle_join(struct worker *w, struct conn *c, const struct ircmsg *m)
{
	struct user	*u = &session(c)->user;
	const char	*p, *end, *item;
	size_t		 len;

	if (m->nparams < 1) {
		need_more_params(w, c, m);
		return;
	}
	irc_flush(w, c);
	/* JOIN 0 leaves every channel (RFC 2812 3.2.1), each told. */
	if (m->lens[0] == 1 && m->params[0][0] == '0') {
		while (u->nrooms > 0) {
			struct membership *ms = u->rooms[u->nrooms - 1];
			const char	  *name;

			/* One it was put out of goes without a word. */
			if (!atomic_load(&ms->kicked)) {
				name = room_name(ms->room, &len);
				send_msg(w, c, ircmsg_printf(":%s!%s PART %.*s",
				    u->nick, u->uhost, (int)len, name));
			}
			model_part(w->srv->model, u, ms->room, NULL, 0,
			    &w->wake);
		}
		return;
	}
	p = m->params[0];
	end = p + m->lens[0];
	while (next_item(&p, end, &item, &len))
		join_one(w, c, item, len);
}

/* The room u is in named name, or a 403/442 and NULL. */
static struct room *
my_room(struct worker *w, struct conn *c, const char *name, size_t len)
{
	struct room	*r;

	if ((r = model_joined(&session(c)->user, name, len)) != NULL)
		return r;
	if (len > 0 && name[0] == '#' && model_room_exists(w->srv->model,
	    name, len))
		numeric(w, c, "442", "%.*s :You're not on that channel",
		    (int)len, name);
	else
		numeric(w, c, "403", "%.*s :No such channel", (int)len, name);
	return NULL;
}

static void
handle_part(struct worker *w, struct conn *c, const struct ircmsg *m)
{
	struct user	*u = &session(c)->user;
	struct room	*r;
	const char	*p, *end, *item;
	size_t		 len;

	if (m->nparams < 1) {
		need_more_params(w, c, m);
		return;
	}
	irc_flush(w, c);
	p = m->params[0];
	end = p + m->lens[0];
	while (next_item(&p, end, &item, &len)) {
		if ((r = my_room(w, c, item, len)) == NULL)
			continue;
		/* The parter hears its own PART, as IRC clients expect. */
		send_msg(w, c, m->nparams > 1 && m->lens[1] > 0 ?
		    ircmsg_printf(":%s!%s PART %.*s :%.*s", u->nick, u->uhost,
		    (int)len, item, (int)m->lens[1], m->params[1]) :
		    ircmsg_printf(":%s!%s PART %.*s", u->nick, u->uhost,
		    (int)len, item));
		model_part(w->srv->model, u, r, m->nparams > 1 ? m->params[1] :
		    NULL, m->nparams > 1 ? m->lens[1] : 0, &w->wake);
	}
}

static void
send_topic(struct worker *w, struct conn *c, struct room *r)
{
	char		*topic, setter[NICK_MAX_BYTES + 1];
	const char	*name;
	size_t		 len, tlen, cap = LIMIT(w->host, max_topic) + 1;
	uint64_t	 when;

	if ((topic = malloc(cap)) == NULL)
		return;
	name = room_name(r, &len);
	tlen = model_topic_info(r, topic, cap, setter, &when);
	if (tlen == 0)
		numeric(w, c, "331", "%.*s :No topic is set", (int)len, name);
	else {
		numeric(w, c, "332", "%.*s :%.*s", (int)len, name, (int)tlen,
		    topic);
		numeric(w, c, "333", "%.*s %s %llu", (int)len, name,
		    setter[0] != '\0' ? setter : server_name,
		    (unsigned long long)(when / 1000));
	}
	free(topic);
}

static void
handle_topic(struct worker *w, struct conn *c, const struct ircmsg *m)
{
	struct room	*r;
	int		 rc;

	if (m->nparams < 1) {
		need_more_params(w, c, m);
		return;
	}
	irc_flush(w, c);
	if ((r = my_room(w, c, m->params[0], m->lens[0])) == NULL)
		return;
	if (m->nparams < 2) {
		send_topic(w, c, r);
		return;
	}
	rc = model_topic(w->srv->model, &session(c)->user, r, m->params[1],
	    m->lens[1], &w->wake);
	if (rc == M_NOT_OP)
		numeric(w, c, "482", "%.*s :You're not channel operator",
		    (int)m->lens[0], m->params[0]);
	else if (rc == M_TOPIC_TOO_LONG)
		numeric(w, c, "417", ":Topic too long (limit %zu bytes)",
		    LIMIT(w->host, max_topic));
	else if (rc == M_UNREACHABLE)
		numeric(w, c, "404", "%.*s :Cannot set the topic (the cluster "
		    "is unreachable)", (int)m->lens[0], m->params[0]);
}

static void
handle_names(struct worker *w, struct conn *c, const struct ircmsg *m)
{
	struct user	*u = &session(c)->user;
	struct room	*r;
	const char	*p, *end, *item;
	size_t		 len;

	irc_flush(w, c);
	if (m->nparams < 1) {
		numeric(w, c, "366", "* :End of /NAMES list");
		return;
	}
	p = m->params[0];
	end = p + m->lens[0];
	while (next_item(&p, end, &item, &len)) {
		/* The members of a channel one is not in are not listed. */
		if ((r = model_joined(u, item, len)) != NULL)
			send_names(w, c, r, false);
		else
			numeric(w, c, "366", "%.*s :End of /NAMES list",
			    (int)len, item);
	}
}

static void
kick_one(struct worker *w, struct conn *c, const char *chan, size_t chan_len,
    const char *nick, size_t nick_len, const char *reason, size_t reason_len)
{
	struct room	*r;
	int		 rc;

	if ((r = my_room(w, c, chan, chan_len)) == NULL)
		return;
	rc = model_kick(w->srv->model, &session(c)->user, r, nick, nick_len,
	    reason, reason_len, &w->wake);
	if (rc == M_NOT_OP)
		numeric(w, c, "482", "%.*s :You're not channel operator",
		    (int)chan_len, chan);
	else if (rc == M_NO_SUCH_NICK)
		numeric(w, c, "441", "%.*s %.*s :They aren't on that channel",
		    (int)nick_len, nick, (int)chan_len, chan);
	else if (rc == M_UNREACHABLE)
		numeric(w, c, "404", "%.*s :Cannot kick (the cluster is "
		    "unreachable)", (int)chan_len, chan);
}

/*
 * KICK #c a,b puts both out of #c; KICK #c,#d a,b pairs them (RFC 2812
 * 3.2.8).  Each KICK told is one channel and one user.
 */
static void
handle_kick(struct worker *w, struct conn *c, const struct ircmsg *m)
{
	const char	*cp, *cend, *np, *nend, *chan, *nick, *reason = "";
	size_t		 chan_len, nick_len, reason_len = 0;
	bool		 paired;

	if (m->nparams < 2) {
		need_more_params(w, c, m);
		return;
	}
	irc_flush(w, c);
	if (m->nparams > 2) {
		reason = m->params[2];
		reason_len = m->lens[2] > 300 ? 300 : m->lens[2];
	}
	cp = m->params[0];
	cend = cp + m->lens[0];
	np = m->params[1];
	nend = np + m->lens[1];
	paired = memchr(cp, ',', m->lens[0]) != NULL;
	if (!next_item(&cp, cend, &chan, &chan_len))
		return;
	while (next_item(&np, nend, &nick, &nick_len)) {
		kick_one(w, c, chan, chan_len, nick, nick_len, reason,
		    reason_len);
		if (paired && !next_item(&cp, cend, &chan, &chan_len))
			break;
	}
}

/*
 * MODE: enough that clients are content.  Channels: +o and +v on
 * members, +t, and an empty ban list; +n is always on.  Users: +i is
 * acknowledged and means nothing here.
 */

static void
channel_mode_show(struct worker *w, struct conn *c, struct room *r)
{
	const char	*name;
	size_t		 len;
	unsigned	 modes = model_room_modes(r);

	name = room_name(r, &len);
	numeric(w, c, "324", "%.*s +n%s%s", (int)len, name,
	    modes & ROOM_MODE_SECRET ? "s" : "", modes & ROOM_MODE_TOPIC ? "t" :
	    "");
}

static void
channel_mode(struct worker *w, struct conn *c, const struct ircmsg *m)
{
	struct user	*u = &session(c)->user;
	struct room	*r;
	const char	*modes, *name;
	size_t		 i, next = 2, len;
	bool		 on = true;
	int		 rc;

	if ((r = my_room(w, c, m->params[0], m->lens[0])) == NULL)
		return;
	name = room_name(r, &len);
	if (m->nparams < 2) {
		channel_mode_show(w, c, r);
		return;
	}
	modes = m->params[1];
	for (i = 0; i < m->lens[1]; i++) {
		rc = M_OK;
		switch (modes[i]) {
		case '+':
		case '-':
			on = modes[i] == '+';
			break;
		case 'b':
			/* No bans: the list is empty, a ban is refused. */
			if (next < m->nparams) {
				numeric(w, c, "482", "%.*s :Bans are not "
				    "supported", (int)len, name);
				next++;
			} else
				numeric(w, c, "368", "%.*s :End of channel ban "
				    "list", (int)len, name);
			break;
		case 'o':
		case 'v':
			if (next >= m->nparams)
				break;
			rc = model_set_prefix(w->srv->model, u, r,
			    m->params[next], m->lens[next], modes[i] == 'o' ?
			    MEMBER_OP : MEMBER_VOICE, on, &w->wake);
			if (rc == M_NO_SUCH_NICK)
				numeric(w, c, "441", "%.*s %.*s :They aren't on "
				    "that channel", (int)m->lens[next],
				    m->params[next], (int)len, name);
			next++;
			break;
		case 't':
		case 's':
			rc = model_set_room_mode(w->srv->model, u, r, modes[i] ==
			    't' ? ROOM_MODE_TOPIC : ROOM_MODE_SECRET, on, &w->wake);
			break;
		case 'n':
			rc = model_prefix(u, r) & MEMBER_OP ? M_OK : M_NOT_OP;
			break;
		default:
			numeric(w, c, "472", "%c :is unknown mode char to me",
			    modes[i]);
			break;
		}
		if (rc == M_NOT_OP) {
			numeric(w, c, "482", "%.*s :You're not channel operator",
			    (int)len, name);
			return;
		}
		if (rc == M_UNREACHABLE) {
			numeric(w, c, "404", "%.*s :Cannot change modes (the "
			    "cluster is unreachable)", (int)len, name);
			return;
		}
	}
}

static void
handle_mode(struct worker *w, struct conn *c, const struct ircmsg *m)
{
	struct user	*u = &session(c)->user;
	size_t		 i;
	bool		 on = true;

	if (m->nparams < 1) {
		need_more_params(w, c, m);
		return;
	}
	irc_flush(w, c);
	if (m->params[0][0] == '#') {
		channel_mode(w, c, m);
		return;
	}
	if (!nick_equal(m->params[0], m->lens[0], u->nick, u->nick_len)) {
		if (model_whois(w->srv->model, m->params[0], m->lens[0], NULL,
		    NULL))
			numeric(w, c, "502", ":Can't change mode for other "
			    "users");
		else
			numeric(w, c, "401", "%.*s :No such nick",
			    (int)m->lens[0], m->params[0]);
		return;
	}
	if (m->nparams < 2) {
		numeric(w, c, "221", "+i%s", atomic_load(&session(c)->no_ctcp) ?
		    "T" : "");
		return;
	}
	/* +i is taken and means nothing here; +T refuses CTCP. */
	for (i = 0; i < m->lens[1]; i++) {
		if (m->params[1][i] == '+' || m->params[1][i] == '-')
			on = m->params[1][i] == '+';
		else if (m->params[1][i] == 'T')
			atomic_store(&session(c)->no_ctcp, on);
	}
	send_msg(w, c, ircmsg_printf(":%s!%s MODE %s :%.*s", u->nick,
	    u->uhost, u->nick, (int)m->lens[1], m->params[1]));
}

/*
 * PRIVMSG and NOTICE.
 */

static size_t
message_to_nick(struct worker *w, struct conn *c, enum event_kind kind,
    const char *to, size_t to_len, const char *text, size_t len,
    const char *ctags, size_t ctags_len)
{
	bool			 notice = kind != EV_SAY;
	struct irc_session	*s = session(c);
	struct private_out	*out;
	struct msg		*echo;
	unsigned		 cs = caps_of(s);
	int			 rc;

	if ((out = malloc(sizeof(*out))) == NULL)
		return 0;
	rc = model_private_kind(w->srv->model, &s->user, kind == EV_SAY ?
	    EV_PRIVATE : kind, to, to_len, text, len, ctags,
	    ctags_len, out, (cs & CAP_ECHO) != 0, &w->wake);
	if (rc == M_NO_SUCH_NICK && !notice)
		numeric(w, c, "401", "%.*s :No such nick/channel", (int)to_len,
		    to);
	if (rc == M_UNREACHABLE && !notice)
		numeric(w, c, "404", "%.*s :Cannot send to nick (the cluster "
		    "is unreachable)", (int)to_len, to);
	if (rc == M_OK) {
		atomic_fetch_add_explicit(&w->host->stats.messages, 1,
		    memory_order_relaxed);
		if (out->away_len > 0 && !notice)
			numeric(w, c, "301", "%s :%s", out->to_nick, out->away);
		if (out->ev != NULL) {
			echo = ircmsg_event(out->ev, server_name,
			    flags_of(format_of(cs)), NULL);
			send_msg(w, c, echo);
			event_unref(out->ev);
		}
	}
	free(out);
	return PROTO_FORMAT_MAX(s->user.nick_len, len);
}

static size_t
handle_message(struct worker *w, struct conn *c, const struct ircmsg *m,
    enum event_kind kind)
{
	bool		 notice = kind != EV_SAY;
	struct room	*r;
	const char	*p, *end, *item, *text, *body;
	size_t		 len, text_len, body_len, relayed = 0, targets = 0;
	size_t		 ctags_len;
	char		 ctags[IRC_CLIENT_TAGS_MAX + 1];

	if (m->nparams < 1 || m->lens[0] == 0) {
		if (!notice)
			numeric(w, c, "411", ":No recipient given (%.*s)",
			    (int)m->cmd_len, m->cmd);
		return 0;
	}
	if (kind != EV_TAGMSG && (m->nparams < 2 || m->lens[1] == 0)) {
		if (!notice)
			numeric(w, c, "412", ":No text to send");
		return 0;
	}
	text = kind != EV_TAGMSG ? m->params[1] : "";
	text_len = kind != EV_TAGMSG ? m->lens[1] : 0;
	ctags_len = ircmsg_client_tags(m, ctags, sizeof(ctags));
	if (kind == EV_SAY && ircmsg_ctcp_action(text, text_len, &body, &body_len)) {
		kind = EV_ME;
		text = body;
		text_len = body_len;
	}
	p = m->params[0];
	end = p + m->lens[0];
	while (next_item(&p, end, &item, &len) && targets++ < TARGETS_MAX) {
		if (item[0] != '#') {
			irc_flush(w, c);
			relayed += message_to_nick(w, c, kind == EV_ME ?
			    EV_SAY : kind, item, len, m->params[1], m->lens[1],
			    ctags, ctags_len);
			continue;
		}
		if ((r = model_joined(&session(c)->user, item, len)) == NULL) {
			if (notice)
				continue;
			if (model_room_exists(w->srv->model, item, len))
				numeric(w, c, "404", "%.*s :Cannot send to "
				    "channel", (int)len, item);
			else
				numeric(w, c, "403", "%.*s :No such channel",
				    (int)len, item);
			continue;
		}
		if (batch_say(w, c, r, kind, text, text_len, ctags, ctags_len,
		    &relayed) == -1)
			send_msg(w, c, ircmsg_printf(":%s NOTICE %s :out of "
			    "memory, line dropped", server_name, me(c)));
	}
	return relayed;
}

/*
 * Who is who.
 */

struct who {
	struct worker	*w;
	struct conn	*c;
	const char	*mask;		/* the channel, or "*" */
	size_t		 mask_len;
	size_t		 bytes, max_bytes;
};

static const char *
realname_of(const struct user *u)
{
	if (u->fe == &irc_frontend)
		return session_of((struct user *)(uintptr_t)u)->realname;
	return "line user";
}

static void
who_reply(struct who *wh, const struct user *u, unsigned prefix)
{
	const char	*at = strchr(u->uhost, '@');
	int		 ident_len = at != NULL ? (int)(at - u->uhost) : 0;
	struct msg	*m;

	m = ircmsg_printf(":%s 352 %s %.*s %.*s %s %s %s %s%s%s :0 %s",
	    server_name, me(wh->c), (int)wh->mask_len, wh->mask, ident_len,
	    u->uhost, at != NULL ? at + 1 : u->uhost, server_name, u->nick,
	    u->away_len > 0 ? "G" : "H", prefix & MEMBER_OP ? "@" : "",
	    prefix & MEMBER_VOICE ? "+" : "", realname_of(u));
	if (m == NULL)
		return;
	wh->bytes += m->len;
	conn_deliver(wh->c, &m, 1, &wh->w->wake);
}

static bool
who_member(void *arg, const struct user *u, unsigned prefix)
{
	struct who	*wh = arg;

	if (wh->bytes >= wh->max_bytes)
		return false;
	who_reply(wh, u, prefix);
	return true;
}

static void
who_user(void *arg, const struct user *u)
{
	who_reply(arg, u, 0);
}

static size_t
handle_who(struct worker *w, struct conn *c, const struct ircmsg *m)
{
	struct who	 wh;
	struct room	*r;

	irc_flush(w, c);
	memset(&wh, 0, sizeof(wh));
	wh.w = w;
	wh.c = c;
	wh.mask = m->nparams > 0 ? m->params[0] : "*";
	wh.mask_len = m->nparams > 0 ? m->lens[0] : 1;
	wh.max_bytes = LIMIT(w->host, sendq) / 4;
	if (wh.mask_len > 0 && wh.mask[0] == '#') {
		if ((r = model_joined(&session(c)->user, wh.mask,
		    wh.mask_len)) != NULL)
			model_members(w->srv->model, r, who_member, &wh);
	} else if (wh.mask_len > 0) {
		/* Conn delivery under the nick table's lock: an append. */
		model_whois(w->srv->model, wh.mask, wh.mask_len, who_user, &wh);
	}
	numeric(w, c, "315", "%.*s :End of WHO list", (int)wh.mask_len,
	    wh.mask);
	return wh.bytes;
}

struct whois {
	char	 nick[NICK_MAX_BYTES + 1];
	char	 uhost[USER_UHOST_MAX + 1];
	char	 realname[REALNAME_MAX + 1];
	char	 away[AWAY_MAX_BYTES + 1];
	size_t	 away_len;
};

static void
whois_copy(void *arg, const struct user *u)
{
	struct whois	*wi = arg;

	memcpy(wi->nick, u->nick, u->nick_len + 1);
	memcpy(wi->uhost, u->uhost, u->uhost_len + 1);
	snprintf(wi->realname, sizeof(wi->realname), "%s", realname_of(u));
	memcpy(wi->away, u->away, u->away_len + 1);
	wi->away_len = u->away_len;
}

static void
handle_whois(struct worker *w, struct conn *c, const struct ircmsg *m)
{
	struct whois	*wi;
	const char	*nick, *at;
	size_t		 len;

	if (m->nparams < 1) {
		numeric(w, c, "431", ":No nickname given");
		return;
	}
	irc_flush(w, c);
	/* WHOIS server nick: the nick is the last parameter. */
	nick = m->params[m->nparams - 1];
	len = m->lens[m->nparams - 1];
	if ((wi = calloc(1, sizeof(*wi))) == NULL)
		return;
	if (!model_whois(w->srv->model, nick, len, whois_copy, wi)) {
		numeric(w, c, "401", "%.*s :No such nick/channel", (int)len,
		    nick);
	} else {
		at = strchr(wi->uhost, '@');
		numeric(w, c, "311", "%s %.*s %s * :%s", wi->nick,
		    at != NULL ? (int)(at - wi->uhost) : 0, wi->uhost,
		    at != NULL ? at + 1 : wi->uhost, wi->realname);
		numeric(w, c, "312", "%s %s :chatd", wi->nick, server_name);
		if (wi->away_len > 0)
			numeric(w, c, "301", "%s :%s", wi->nick, wi->away);
	}
	numeric(w, c, "318", "%.*s :End of /WHOIS list", (int)len, nick);
	free(wi);
}

struct list {
	struct worker	*w;
	struct conn	*c;
	const struct ircmsg *m;		/* LIST #a,#b filters */
	size_t		 bytes, max_bytes;
};

static bool
list_wanted(const struct ircmsg *m, const char *name, size_t len)
{
	const char	*p, *end, *item;
	size_t		 ilen;

	if (m->nparams < 1 || m->lens[0] == 0 || m->params[0][0] != '#')
		return true;
	p = m->params[0];
	end = p + m->lens[0];
	while (next_item(&p, end, &item, &ilen))
		if (nick_equal(item, ilen, name, len))
			return true;
	return false;
}

static bool
list_room(void *arg, const struct room_entry *e)
{
	struct list	*l = arg;
	struct msg	*m;

	if (l->bytes >= l->max_bytes)
		return false;
	/* Rooms kept only for their history have no one to list. */
	if (e->members == 0 || !list_wanted(l->m, e->name, e->len))
		return true;
	/* A secret room is listed to its members only (the caller's rooms). */
	if ((e->modes & ROOM_MODE_SECRET) && model_joined(&session(l->c)->user,
	    e->name, e->len) == NULL)
		return true;
	m = ircmsg_printf(":%s 322 %s %.*s %zu :%.*s", server_name, me(l->c),
	    (int)e->len, e->name, e->members, (int)(e->topic != NULL ?
	    e->topic_len : 0), e->topic != NULL ? e->topic : "");
	if (m != NULL) {
		l->bytes += m->len;
		conn_deliver(l->c, &m, 1, &l->w->wake);
	}
	return true;
}

static size_t
handle_list(struct worker *w, struct conn *c, const struct ircmsg *m)
{
	struct list	 l;

	irc_flush(w, c);
	memset(&l, 0, sizeof(l));
	l.w = w;
	l.c = c;
	l.m = m;
	l.max_bytes = LIMIT(w->host, sendq) / 4;
	numeric(w, c, "321", "Channel :Users  Name");
	model_list(w->srv->model, list_room, &l);
	numeric(w, c, "323", ":End of /LIST");
	return l.bytes;
}

/* USERHOST nick...: "nick=+user@host", '-' for away. */
static void
userhost_one(void *arg, const struct user *u)
{
	char	*line = arg;
	size_t	 len = strlen(line);

	snprintf(line + len, 512 - len, "%s%s=%c%s", len > 0 ? " " : "",
	    u->nick, u->away_len > 0 ? '-' : '+', u->uhost);
}

static void
handle_userhost(struct worker *w, struct conn *c, const struct ircmsg *m)
{
	char	 line[512];
	size_t	 i;

	if (m->nparams < 1) {
		need_more_params(w, c, m);
		return;
	}
	line[0] = '\0';
	for (i = 0; i < m->nparams && i < 5; i++)
		model_whois(w->srv->model, m->params[i], m->lens[i],
		    userhost_one, line);
	numeric(w, c, "302", ":%s", line);
}

static void
handle_away(struct worker *w, struct conn *c, const struct ircmsg *m)
{
	size_t	 len = m->nparams > 0 ? m->lens[0] : 0;

	irc_flush(w, c);
	model_away(w->srv->model, &session(c)->user, len > 0 ? m->params[0] :
	    "", len, &w->wake);
	if (len > 0)
		numeric(w, c, "306", ":You have been marked as being away");
	else
		numeric(w, c, "305", ":You are no longer marked as being away");
}

/*
 * CHATHISTORY (IRCv3 draft/chathistory): LATEST, BEFORE, AFTER and
 * AROUND by msgid (the room's sequence number) or timestamp, from the
 * room's history, in a batch.
 */

struct history_ref {
	bool		 any;		/* "*" */
	bool		 by_time;
	uint64_t	 value;		/* seq or ms */
};

static bool
parse_ref(const char *s, size_t len, struct history_ref *ref)
{
	char		 buf[64], *end;
	struct tm	 tm;
	unsigned	 ms = 0;
	time_t		 t;

	memset(ref, 0, sizeof(*ref));
	if (len == 1 && s[0] == '*') {
		ref->any = true;
		return true;
	}
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (strncmp(buf, "msgid=", 6) == 0) {
		ref->value = strtoull(buf + 6, &end, 10);
		return end != buf + 6 && *end == '\0';
	}
	if (strncmp(buf, "timestamp=", 10) != 0)
		return false;
	memset(&tm, 0, sizeof(tm));
	end = strptime(buf + 10, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL)
		return false;
	if (*end == '.')
		ms = (unsigned)strtoul(end + 1, &end, 10) % 1000;
	if ((t = timegm(&tm)) == (time_t)-1)
		return false;
	ref->by_time = true;
	ref->value = (uint64_t)t * 1000 + ms;
	return true;
}

/* Where ev stands against ref: <0 before it, 0 at it, >0 after. */
static int
ref_cmp(const struct event *ev, const struct history_ref *ref)
{
	uint64_t	 v = ref->by_time ? ev->time_ms : ev->seq;

	return v < ref->value ? -1 : v > ref->value;
}

static void
history_fail(struct worker *w, struct conn *c, const char *code,
    const char *text)
{
	send_msg(w, c, ircmsg_printf(":%s FAIL CHATHISTORY %s :%s", server_name,
	    code, text));
}

/* Send evs[from..to) in a batch (or bare, without the batch cap). */
static size_t
history_send(struct worker *w, struct conn *c, const char *target,
    size_t target_len, struct event **evs, size_t from, size_t to)
{
	struct irc_session	*s = session(c);
	unsigned		 cs = caps_of(s);
	bool			 batch = (cs & CAP_BATCH) != 0;
	unsigned		 flags = flags_of(format_of(cs));
	char			 ref[16];
	struct msg		*m;
	size_t			 i, bytes = 0;

	snprintf(ref, sizeof(ref), "h%u", ++s->batches);
	if (batch)
		send_msg(w, c, ircmsg_printf(":%s BATCH +%s chathistory %.*s",
		    server_name, ref, (int)target_len, target));
	for (i = from; i < to; i++) {
		/* A batched line says when it was said, whatever the caps. */
		if ((m = ircmsg_event(evs[i], server_name, batch ? flags |
		    IRCMSG_TIME : flags, batch ? ref : NULL)) == NULL)
			continue;
		bytes += m->len;
		conn_deliver(c, &m, 1, &w->wake);
	}
	if (batch)
		send_msg(w, c, ircmsg_printf(":%s BATCH -%s", server_name, ref));
	return bytes;
}

static size_t
handle_chathistory(struct worker *w, struct conn *c, const struct ircmsg *m)
{
	struct history_ref	 ref;
	struct room		*r;
	struct event		**evs;
	char			 sub[16], num[16];
	size_t			 max = LIMIT(w->host, history), got, i, from,
				 to, limit, bytes = 0;

	irc_flush(w, c);
	if (m->nparams < 1) {
		need_more_params(w, c, m);
		return 0;
	}
	param(m, 0, sub, sizeof(sub));
	if (strcasecmp(sub, "TARGETS") == 0) {
		history_send(w, c, "*", 1, NULL, 0, 0);
		return 0;
	}
	if (m->nparams < 4) {
		history_fail(w, c, "NEED_MORE_PARAMS", "Missing parameters");
		return 0;
	}
	if ((r = model_joined(&session(c)->user, m->params[1], m->lens[1])) ==
	    NULL) {
		send_msg(w, c, ircmsg_printf(":%s FAIL CHATHISTORY "
		    "INVALID_TARGET %s %.*s :Not a channel you are in",
		    server_name, sub, (int)m->lens[1], m->params[1]));
		return 0;
	}
	param(m, 3, num, sizeof(num));
	limit = strtoul(num, NULL, 10);
	if (!parse_ref(m->params[2], m->lens[2], &ref) || limit == 0 ||
	    (ref.any && strcasecmp(sub, "LATEST") != 0)) {
		history_fail(w, c, "INVALID_PARAMS", "Bad reference or limit");
		return 0;
	}
	if (limit > max)
		limit = max;
	if ((evs = calloc(max + 1, sizeof(*evs))) == NULL)
		return 0;
	got = model_history(w->srv->model, r, max, evs);
	from = 0;
	to = got;
	if (strcasecmp(sub, "LATEST") == 0 || strcasecmp(sub, "BEFORE") == 0) {
		bool latest = strcasecmp(sub, "LATEST") == 0;

		/* LATEST ref: what came after ref; BEFORE: what came before. */
		if (!ref.any)
			for (i = 0; i < got; i++) {
				int cmp = ref_cmp(evs[i], &ref);

				if (latest && cmp <= 0)
					from = i + 1;
				if (!latest && cmp >= 0 && to == got)
					to = i;
			}
		if (to - from > limit)
			from = to - limit;
	} else if (strcasecmp(sub, "AFTER") == 0) {
		for (i = 0; i < got && ref_cmp(evs[i], &ref) <= 0; i++)
			continue;
		from = i;
		if (to - from > limit)
			to = from + limit;
	} else if (strcasecmp(sub, "AROUND") == 0) {
		for (i = 0; i < got && ref_cmp(evs[i], &ref) < 0; i++)
			continue;
		from = i > limit / 2 ? i - limit / 2 : 0;
		if (to - from > limit)
			to = from + limit;
	} else {
		history_fail(w, c, "INVALID_PARAMS", "Unknown subcommand");
		from = to = 0;
		got = got > 0 ? got : 0;
		for (i = 0; i < got; i++)
			event_unref(evs[i]);
		free(evs);
		return 0;
	}
	bytes = history_send(w, c, m->params[1], m->lens[1], evs, from, to);
	for (i = 0; i < got; i++)
		event_unref(evs[i]);
	free(evs);
	return bytes;
}

/*
 * Coming and going.
 */

static void
handle_quit(struct worker *w, struct conn *c, const struct ircmsg *m)
{
	struct irc_session	*s = session(c);
	size_t			 len = m->nparams > 0 ? m->lens[0] : 0;

	irc_flush(w, c);
	if (len > 300)
		len = 300;
	if (len > 0 && (s->quit_reason = malloc(len)) != NULL) {
		memcpy(s->quit_reason, m->params[0], len);
		s->quit_len = len;
	}
	send_msg(w, c, ircmsg_printf("ERROR :Closing Link: %s (Quit: %.*s)",
	    me(c), (int)len, len > 0 ? m->params[0] : ""));
	c->closing = true;
	c->close_reason = "quit";
}

static void
handle_ping(struct worker *w, struct conn *c, const struct ircmsg *m)
{
	if (m->nparams < 1) {
		numeric(w, c, "409", ":No origin specified");
		return;
	}
	send_msg(w, c, ircmsg_printf(":%s PONG %s :%.*s", server_name,
	    server_name, (int)m->lens[0], m->params[0]));
}

/* The commands allowed before registration. */
static bool
before_registration(const struct ircmsg *m)
{
	return ircmsg_is(m, "CAP") || ircmsg_is(m, "NICK") ||
	    ircmsg_is(m, "USER") || ircmsg_is(m, "PASS") ||
	    ircmsg_is(m, "PING") || ircmsg_is(m, "PONG") ||
	    ircmsg_is(m, "QUIT");
}

static void
invalid_utf8(struct worker *w, struct conn *c, const struct ircmsg *m)
{
	char	 label[128];

	if (ircmsg_tag(m, "label", label, sizeof(label)))
		send_msg(w, c, ircmsg_printf("@label=%s :%s FAIL %.*s "
		    "INVALID_UTF8 :Message rejected, it is not valid UTF-8",
		    label, server_name, (int)m->cmd_len, m->cmd));
	else
		send_msg(w, c, ircmsg_printf(":%s FAIL %.*s INVALID_UTF8 "
		    ":Message rejected, it is not valid UTF-8", server_name,
		    (int)m->cmd_len, m->cmd));
}

/*
 * One complete input line, CR and LF removed.  Returns the bytes it made
 * chatd relay, which the flood bucket charges.
 */
static size_t
irc_input(struct worker *w, struct conn *c, const char *line, size_t len)
{
	struct irc_session	*s = session(c);
	struct ircmsg		 m;
	char			 stats[512];
	size_t			 body;
	bool			 chat;

	if (ircmsg_parse(line, len, &m) == -1)
		return 0;
	chat = ircmsg_is(&m, "PRIVMSG") || ircmsg_is(&m, "NOTICE") ||
	    ircmsg_is(&m, "TAGMSG");
	/* Anything but chat must come after the chat lines before it. */
	if (!chat)
		irc_flush(w, c);
	/* Tags aside, a line is at most 512 bytes (RFC 1459 2.3). */
	body = m.tags != NULL ? len - (size_t)(m.tags + m.tags_len - line) - 1 :
	    len;
	if (body > IRC_BODY_MAX || m.tags_len > IRC_CLIENT_TAGS_MAX) {
		numeric(w, c, "417", ":Input line was too long");
		return 0;
	}
	if (!utf8_valid(line, len, NULL)) {
		invalid_utf8(w, c, &m);
		return 0;
	}
	if (!s->user.registered && !before_registration(&m)) {
		numeric(w, c, "451", ":You have not registered");
		return 0;
	}
	if (chat)
		return handle_message(w, c, &m, ircmsg_is(&m, "PRIVMSG") ?
		    EV_SAY : ircmsg_is(&m, "NOTICE") ? EV_USER_NOTICE :
		    EV_TAGMSG);
	if (ircmsg_is(&m, "PING"))
		handle_ping(w, c, &m);
	else if (ircmsg_is(&m, "PONG"))
		;
	else if (ircmsg_is(&m, "PASS"))
		handle_pass(w, c, &m);
	else if (ircmsg_is(&m, "NICK")) {
		handle_nick(w, c, &m);
		if (try_register(w, c) == -1)
			numeric(w, c, "432", "* :Out of memory");
	} else if (ircmsg_is(&m, "USER")) {
		handle_user(w, c, &m);
		if (try_register(w, c) == -1)
			numeric(w, c, "432", "* :Out of memory");
	} else if (ircmsg_is(&m, "CAP")) {
		handle_cap(w, c, &m);
		if (try_register(w, c) == -1)
			numeric(w, c, "432", "* :Out of memory");
	} else if (ircmsg_is(&m, "QUIT"))
		handle_quit(w, c, &m);
	else if (ircmsg_is(&m, "JOIN"))
		handle_join(w, c, &m);
	else if (ircmsg_is(&m, "PART"))
		handle_part(w, c, &m);
	else if (ircmsg_is(&m, "TOPIC"))
		handle_topic(w, c, &m);
	else if (ircmsg_is(&m, "NAMES"))
		handle_names(w, c, &m);
	else if (ircmsg_is(&m, "KICK"))
		handle_kick(w, c, &m);
	else if (ircmsg_is(&m, "MODE"))
		handle_mode(w, c, &m);
	else if (ircmsg_is(&m, "WHO"))
		return handle_who(w, c, &m);
	else if (ircmsg_is(&m, "WHOIS"))
		handle_whois(w, c, &m);
	else if (ircmsg_is(&m, "LIST"))
		return handle_list(w, c, &m);
	else if (ircmsg_is(&m, "AWAY"))
		handle_away(w, c, &m);
	else if (ircmsg_is(&m, "USERHOST"))
		handle_userhost(w, c, &m);
	else if (ircmsg_is(&m, "CHATHISTORY"))
		return handle_chathistory(w, c, &m);
	else if (ircmsg_is(&m, "MOTD"))
		send_motd(w, c);
	else if (ircmsg_is(&m, "STATS") || ircmsg_is(&m, "LUSERS")) {
		server_stats_line(w->srv, stats, sizeof(stats));
		send_msg(w, c, ircmsg_printf(":%s NOTICE %s :%s", server_name,
		    me(c), stats));
		if (ircmsg_is(&m, "STATS"))
			numeric(w, c, "219", "* :End of /STATS report");
	} else
		numeric(w, c, "421", "%.*s :Unknown command", (int)m.cmd_len,
		    m.cmd);
	return 0;
}

static void
irc_error(struct worker *w, struct conn *c, const char *text)
{
	numeric(w, c, "417", ":%s", text);
}

static int
irc_open(struct worker *w, struct conn *c)
{
	struct irc_session	*s;

	(void)w;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	s->conn = c;
	s->user.fe = &irc_frontend;
	atomic_init(&s->caps, 0);
	c->session = s;
	return 0;
}

static const char *
irc_nick(struct conn *c)
{
	struct irc_session	*s = session(c);

	return s != NULL && s->user.registered ? s->user.nick : "-";
}

/* Leave every room, telling the others why (server_leave()). */
static void
irc_leave(struct worker *w, struct conn *c, const char *kill_reason)
{
	struct irc_session	*s = session(c);

	if (s == NULL || !s->user.registered)
		return;
	irc_flush(w, c);
	server_leave(w, c, &s->user, kill_reason, s->quit_reason, s->quit_len);
}

static void
irc_log_close(struct conn *c, const char *why)
{
	log_info("%s %s disconnected: %s", c->addr, irc_nick(c), why);
}

static void
irc_free(struct conn *c)
{
	struct irc_session	*s = session(c);

	if (s == NULL)
		return;
	senders_remove(&s->sender);
	model_forget(server_of(c->host)->model, &s->user);
	free(s->quit_reason);
	free(s);
	c->session = NULL;
}

const struct conn_proto irc_proto = {
	.name = "irc",
	.min_line = IRC_LINE_MIN,
	.open = irc_open,
	.line = irc_input,
	.error = irc_error,
	.flush = irc_flush,
	.leave = irc_leave,
	.log_close = irc_log_close,
	.nick = irc_nick,
	.free = irc_free,
};
