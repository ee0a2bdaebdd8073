/*
 * model.h - the chat model: users, rooms, the nick table and history.
 * It holds no socket and formats no protocol text; a front-end (the line
 * protocol today, IRC next) turns input into calls here and renders the
 * events it is given.
 *
 * Order and locks:
 *   - Each room has its own mutex.  A room's events get their sequence
 *     number, enter its history and reach every member under it, so the
 *     order is total per room, and rooms go forward in parallel.
 *   - The nick table has one mutex.  It is taken alone, or after a room
 *     lock (a /who listing reads the members' nicks), never before one.
 *   - The registry (the room table) has one mutex, taken alone or before
 *     a single room lock (/rooms).
 *   - A user's own calls come from the one thread that owns it (its
 *     connection's worker), so its list of rooms needs no lock.  What
 *     spans rooms (a nick change, a quit) takes one room lock at a time.
 *   - The front-end's callbacks run under a room lock (or the nick table
 *     lock for private events): they must be cheap appends, no syscall.
 *   - A KICK comes from another user's thread: the room lets the member
 *     go under its lock and marks the membership; the kicked user's own
 *     list keeps it, skipped, until its owner's next call frees it.
 *   - Ranks (operator, voice) and room modes (+t, +s) are under the
 *     room's lock; the away message under the nick table's.
 */
#ifndef CHATD_MODEL_H
#define CHATD_MODEL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "proto.h"

struct model;
struct room;
struct user;
struct histdb;

/* What the callbacks are given to deliver one room's events. */
struct fanout {
	struct room		*room;		/* NULL for a private event */
	struct event *const	*evs;
	size_t			 n;
	bool			 chat;		/* all EV_SAY or EV_ME */
	/* References taken ahead on evs[i]->rendered[f], and used so far. */
	unsigned		 prepaid[FMT_COUNT];
	unsigned		 used[FMT_COUNT];
};

/* What a user who just joined a room is told, under the room's lock. */
struct join_info {
	struct room		*room;
	size_t			 members;	/* the joiner included */
	const char		*topic;		/* NULL if none */
	size_t			 topic_len;
	const char		*topic_nick;	/* who set it, "" if unknown */
	uint64_t		 topic_time_ms;	/* when, 0 if unknown */
	struct event *const	*replay;	/* oldest first */
	size_t			 nreplay;
	bool			 on_connect;	/* the default room, at connect */
};

struct frontend {
	const char	*name;		/* "line", "irc": for the log */
	/* Its registered users, kept by the model (for /stats). */
	atomic_size_t	*users;
	/* Queue f->evs for u, in order. */
	void	(*deliver)(struct user *u, struct fanout *f, void *ctx);
	/* u is now a member of a room: before any later event of it. */
	void	(*joined)(struct user *u, const struct join_info *ji,
		    void *ctx);
};

#define USER_GROUPS_SEEN	8
#define USER_UHOST_MAX		96	/* "user@host" for IRC prefixes */
#define AWAY_MAX_BYTES		300

/* A member's rank in a room, under the room's lock. */
#define MEMBER_OP	0x01
#define MEMBER_VOICE	0x02

struct membership {
	struct room	*room;
	struct user	*user;
	size_t		 slot;		/* private to model.c */
	unsigned	 prefix;	/* MEMBER_*, under the room's lock */
	/*
	 * Put out of the room by a KICK from another thread: the room has
	 * let it go, and its owner frees it at its next call.
	 */
	atomic_bool	 kicked;
};

struct user {
	const struct frontend	*fe;
	/*
	 * Written by the owner under the nick table's lock; other threads
	 * read it under that lock, the owner whenever it likes.
	 */
	char			 nick[NICK_MAX_BYTES + 1];
	size_t			 nick_len;
	uint64_t		 id;		/* from model_connect(), never 0 */
	/* --cluster: the owner's; atomic for a roster's re-claims. */
	atomic_bool		 nick_claimed;
	struct user		*hash_next;	/* private to model.c */
	bool			 registered;
	/* "user@host" for IRC, set before it registers, fixed after. */
	char			 uhost[USER_UHOST_MAX + 1];
	size_t			 uhost_len;
	/* Under the nick table's lock: the AWAY message, empty if here. */
	char			 away[AWAY_MAX_BYTES + 1];
	size_t			 away_len;

	/* The owner's alone. */
	struct membership	**rooms;	/* in the order joined */
	size_t			 nrooms;
	size_t			 rooms_cap;

	/*
	 * The front-end's, under its delivery lock: where typed text goes
	 * (line protocol), and the last groups told (event.h), so that what
	 * is told in every room once for each (its own rename, the shutdown
	 * notice) reaches this user once.  A few are kept, since several
	 * such groups may be under way at once.
	 */
	struct room		*current;
	uint64_t		 groups_seen[USER_GROUPS_SEEN];
	unsigned		 groups_next;
};

/*
 * True the first time u is given an event of this group (0: always),
 * under the front-end's delivery lock.
 */
bool		 user_first_of_group(struct user *u, uint64_t group);

/* The limits a reload may change; read with relaxed atomics. */
struct model_limits {
	atomic_size_t	 announce_max;
	atomic_size_t	 max_rooms;
	atomic_size_t	 max_rooms_per_user;
	atomic_size_t	 max_room_name;		/* code points */
	atomic_size_t	 max_topic;		/* bytes */
	atomic_size_t	 history;		/* lines per room */
	atomic_size_t	 history_bytes;		/* per room */
};

enum model_result {
	M_OK = 0,
	M_NOMEM = -1,
	M_ALREADY = 1,		/* join: already a member (switch only) */
	M_BAD_NAME,		/* why: the reason */
	M_TOO_MANY_JOINED,	/* the user's --max-rooms-per-user */
	M_TOO_MANY_ROOMS,	/* the server's --max-rooms */
	M_NOT_MEMBER,
	M_NICK_TAKEN,
	M_BAD_NICK,		/* why: the reason */
	M_NO_SUCH_NICK,
	M_TOPIC_TOO_LONG,
	M_NOT_OP		/* the room's operators only */,
	M_UNREACHABLE		/* --cluster: NATS is away, nothing done */
};

/*
 * --cluster (server.c sets it, before any user connects): the chat lines
 * of this node's users are ordered by the cluster's stream instead of
 * here (they come back through model_ordered()), their chosen nicks are
 * claimed cluster-wide, and their joins, leaves and renames are told to
 * the other nodes.  Only users that connected here (registered) are
 * concerned.  The callbacks run on the user's owner thread, under no
 * lock of the model's.
 */
struct model_cluster {
	void	*arg;
	/* Send u's evs in r to be ordered; false if none could be. */
	bool	(*say)(void *arg, struct user *u, struct room *r,
		    struct event *const *evs, size_t n);
	/* May u take nick?  M_OK, M_NICK_TAKEN or M_UNREACHABLE. */
	int	(*claim)(void *arg, struct user *u, const char *nick,
		    size_t len);
	/* u no longer holds nick. */
	void	(*release)(void *arg, struct user *u, const char *nick,
		    size_t len);
	/*
	 * u joined r (EV_JOIN), left it (EV_PART, EV_QUIT: text is the
	 * reason) or was renamed (EV_NICK: text is the old name; r one of
	 * its rooms).
	 */
	void	(*told)(void *arg, struct user *u, struct room *r,
		    enum event_kind kind, const char *text, size_t len);
	/*
	 * A private line (EV_PRIVATE) or notice (EV_USER_NOTICE) of u's to
	 * the nick to, which no user of this node holds: M_OK once it is on
	 * its way to another node's user, M_NO_SUCH_NICK if nobody holds
	 * it, M_UNREACHABLE.  NULL: private lines stay on this node.
	 */
	int	(*message)(void *arg, struct user *u, enum event_kind kind,
		    const char *to, size_t to_len, const char *text,
		    size_t len);
	/*
	 * u may set r's topic: send it to be ordered, and every node (this
	 * one too) sets and announces it through model_ordered().  M_OK or
	 * M_UNREACHABLE.  NULL: topics stay on this node.
	 */
	int	(*topic)(void *arg, struct user *u, struct room *r,
		    const char *text, size_t len);
	/*
	 * u, an operator of r here, puts the member named target (of any
	 * node) out of r: send it to be ordered, and every node puts it out
	 * through model_ordered().  M_OK or M_UNREACHABLE.
	 */
	int	(*kick)(void *arg, struct user *u, struct room *r,
		    const char *target, size_t target_len, const char *reason,
		    size_t reason_len);
	/*
	 * u, an operator of r here, changes a mode ("+t", "-o NICK", as an
	 * EV_MODE's text): send it to be ordered, and every node applies it
	 * through model_ordered().  M_OK or M_UNREACHABLE.
	 */
	int	(*mode)(void *arg, struct user *u, struct room *r,
		    const char *change, size_t len);
};

void		 model_set_cluster(struct model *m,
		    const struct model_cluster *mc);

struct model_config {
	const char	*default_room;	/* valid (room_name_check) */
	size_t		 announce_max;
	size_t		 max_rooms;
	size_t		 max_rooms_per_user;
	size_t		 max_room_name;
	size_t		 max_topic;
	size_t		 history;
	size_t		 history_bytes;
	uint64_t	 seed;		/* of the hash tables: a random one */
};

/* NULL on ENOMEM. */
struct model	*model_new(const struct model_config *cfg);
void		 model_free(struct model *m);
void		 model_set_limits(struct model *m, const struct model_config *cfg);

/*
 * Load every room's history and topic from db and write new events to
 * it from now on.  Call before any user connects.  0 or -1 (logged).
 */
int		 model_attach_db(struct model *m, struct histdb *db);

/* Figures for /stats. */
size_t		 model_rooms_count(struct model *m);
size_t		 model_users_count(struct model *m);

/*
 * A new user: a free guestN nick, then the default room, silently (no
 * replay, no announcement beyond v1's "joined").  fe->joined gets
 * on_connect.  M_OK or M_NOMEM (then u is nowhere); with --cluster the
 * guest name is claimed like a chosen nick, and M_UNREACHABLE (u is
 * nowhere) means none could be: NATS is away.
 */
int		 model_connect(struct model *m, struct user *u, void *ctx);

/*
 * Register u under nick, in no room (IRC: it joins what it asks for).
 * M_OK, M_BAD_NICK (why: the reason) or M_NICK_TAKEN; with --cluster
 * also M_UNREACHABLE (the nick could not be claimed).
 */
int		 model_register(struct model *m, struct user *u,
		    const char *nick, size_t len, const char **why);

/* The --announce-max in force: past it, joins and parts go untold. */
size_t		 model_announce_max(struct model *m);

/*
 * u leaves every room, each told "left" with the reason (may be NULL),
 * and its nick is freed.  Safe if u never connected.
 */
void		 model_disconnect(struct model *m, struct user *u,
		    const char *reason, size_t reason_len, void *ctx);

/* The same without a word to anyone: for a shutdown's last free. */
void		 model_forget(struct model *m, struct user *u);

/*
 * Join the room named name (valid UTF-8), creating it.  *out is the room
 * (also on M_ALREADY); why the reason of M_BAD_NAME.  fe->joined gets up
 * to replay lines of history.
 */
int		 model_join(struct model *m, struct user *u, const char *name,
		    size_t len, size_t replay, struct room **out,
		    const char **why, void *ctx);

/* Whether u is in r (r is compared, never followed: it may be gone). */
bool		 model_in_room(struct user *u, const struct room *r);

/* The room of u's named name, or NULL if u is not in it. */
struct room	*model_joined(struct user *u, const char *name, size_t len);

/* Leave r, the others told "left" with the reason (may be NULL). */
int		 model_part(struct model *m, struct user *u, struct room *r,
		    const char *reason, size_t reason_len, void *ctx);

/*
 * Publish n events of u's (EV_SAY or EV_ME, made by the caller with the
 * room's name) in r, in order.  The caller keeps its references.  M_OK or
 * M_NOT_MEMBER.
 */
int		 model_say(struct model *m, struct user *u, struct room *r,
		    struct event *const *evs, size_t n, void *ctx);

/*
 * Rename u, announced in each of its rooms (and told to u alone if it is
 * in none: through fe->deliver with f->room NULL).  A user that never
 * connected (another node's, --cluster) is not in the nick table: it is
 * renamed without a look at it.
 */
int		 model_nick(struct model *m, struct user *u, const char *nick,
		    size_t len, const char **why, void *ctx);

/*
 * A private event to the user named to: fe->deliver of the recipient,
 * f->room NULL, an EV_PRIVATE whose nick is u's.  The recipient's nick
 * as it is spelt is copied to to_nick (NICK_MAX_BYTES + 1).
 */
int		 model_private(struct model *m, struct user *u, const char *to,
		    size_t to_len, const char *text, size_t len, char *to_nick,
		    void *ctx);

/*
 * The same for IRC: kind EV_PRIVATE or EV_USER_NOTICE, the recipient's
 * spelling and away message copied out, and the event (with a
 * reference, for the sender's echo) in *evp if evp is not NULL.
 */
struct private_out {
	char		 to_nick[NICK_MAX_BYTES + 1];
	char		 away[AWAY_MAX_BYTES + 1];
	size_t		 away_len;
	struct event	*ev;
};
int		 model_private_kind(struct model *m, struct user *u,
		    enum event_kind kind, const char *to, size_t to_len,
		    const char *text, size_t len, const char *ctags,
		    size_t ctags_len, struct private_out *out,
		    bool want_event, void *ctx);

/*
 * --cluster: a private line or notice (kind as for model_private_kind)
 * from another node's user from, to the user of this node whose id is
 * uid, if it is still named to: M_OK, or M_NO_SUCH_NICK (it left, or
 * was renamed) and nothing is delivered.
 */
int		 model_private_to(struct model *m, uint64_t uid,
		    enum event_kind kind, const char *to, size_t to_len,
		    const char *from, size_t from_len, const char *text,
		    size_t len, uint64_t time_ms, void *ctx);

/*
 * Set r's topic (len 0 clears it), announced to its members.  M_NOT_OP
 * if the room is +t and u not an operator; with --cluster, M_UNREACHABLE
 * if NATS is away (else it is set when the stream gives it back).
 */
int		 model_topic(struct model *m, struct user *u, struct room *r,
		    const char *text, size_t len, void *ctx);

/* Copy r's topic to buf (NUL-terminated, cut at cap); returns its length. */
size_t		 model_topic_get(struct room *r, char *buf, size_t cap);

/* The same with who set it (NICK_MAX_BYTES + 1) and when. */
size_t		 model_topic_info(struct room *r, char *buf, size_t cap,
		    char *setter, uint64_t *time_ms);

/*
 * Operators.  The first member of an empty room is its operator.  These
 * fail with M_NOT_MEMBER if u is not in r, M_NOT_OP if u is not an
 * operator, M_NO_SUCH_NICK if target is not in r; a change is told to
 * the room as an EV_MODE ("+o bob", "-t").  With --cluster, M_UNREACHABLE
 * if NATS is away, else the change happens when the stream gives it back.
 */
int		 model_set_prefix(struct model *m, struct user *u,
		    struct room *r, const char *target, size_t target_len,
		    unsigned prefix, bool on, void *ctx);
#define ROOM_MODE_TOPIC		0x01	/* +t: operators set the topic */
#define ROOM_MODE_SECRET	0x02	/* +s: not listed to others */
int		 model_set_room_mode(struct model *m, struct user *u,
		    struct room *r, unsigned mode, bool on, void *ctx);
/*
 * Put target out of r, everyone (target too) told with an EV_KICK.  With
 * --cluster, M_UNREACHABLE if NATS is away, else it happens when the
 * stream gives it back.
 */
int		 model_kick(struct model *m, struct user *u, struct room *r,
		    const char *target, size_t target_len, const char *reason,
		    size_t reason_len, void *ctx);
/* u's MEMBER_* in r (0 if not in it), and r's ROOM_MODE_*. */
unsigned	 model_prefix(struct user *u, struct room *r);
unsigned	 model_room_modes(struct room *r);

/*
 * Set or clear (len 0) u's away message; each of its rooms is told with
 * an EV_AWAY, but u itself.
 */
int		 model_away(struct model *m, struct user *u, const char *text,
		    size_t len, void *ctx);

/*
 * Call fn with the user named nick, under the nick table's lock (for
 * WHOIS); false if there is none.
 */
bool		 model_whois(struct model *m, const char *nick, size_t len,
		    void (*fn)(void *arg, const struct user *u), void *arg);

/*
 * Call fn for each member of r with its rank, under r's lock and the
 * nick table's, while fn returns true.  Returns the member count.
 */
size_t		 model_members(struct model *m, struct room *r,
		    bool (*fn)(void *arg, const struct user *u,
		    unsigned prefix), void *arg);

/*
 * Call fn for each member of each room, with the room's name, under the
 * registry's lock, that room's and the nick table's, while fn returns
 * true (--cluster: a node's roster of its users).
 */
void		 model_each_member(struct model *m,
		    bool (*fn)(void *arg, const char *room, size_t room_len,
		    const struct user *u, const struct room *r), void *arg);

/* Whether a room named name exists, whoever is in it. */
bool		 model_room_exists(struct model *m, const char *name,
		    size_t len);

/* r's name, as its creator spelt it; it never changes. */
const char	*room_name(const struct room *r, size_t *len);
size_t		 room_members(struct room *r);

/*
 * Call fn for each member of r (its nick), under r's lock and the nick
 * table's, while fn returns true; first, once, with nick NULL and len
 * the member count.  Returns the member count.
 */
size_t		 model_who(struct model *m, struct room *r,
		    bool (*fn)(void *arg, const char *nick, size_t len),
		    void *arg);

/* Call fn for each room, while it returns true; returns the count. */
size_t		 model_rooms(struct model *m,
		    bool (*fn)(void *arg, const char *name, size_t len,
		    size_t members, const char *topic, size_t topic_len),
		    void *arg);

/* The same with each room's ROOM_MODE_* (IRC's LIST hides +s rooms). */
struct room_entry {
	const char	*name;
	size_t		 len;
	size_t		 members;
	const char	*topic;		/* NULL if none */
	size_t		 topic_len;
	unsigned	 modes;
};
size_t		 model_list(struct model *m,
		    bool (*fn)(void *arg, const struct room_entry *e),
		    void *arg);

/* Up to n of r's newest history events, oldest first, with references. */
size_t		 model_history(struct model *m, struct room *r, size_t n,
		    struct event **out);

/*
 * An event ordered elsewhere (--cluster: the stream's sequence is
 * ev->seq, ascending per room): the room named ev->room is found or
 * made, the event kept in its history if a chat line and delivered to
 * every member here, under the room's lock as model_say() does; an
 * EV_TOPIC (nick: who set it, text: the topic) sets the room's topic; an
 * EV_KICK (target: the one put out) is told to the room, that member
 * included, and puts it out, whatever its node (nothing if there is
 * no such member); an EV_MODE (text: "+t", "-o NICK") is applied and
 * told if it changes anything.  An
 * event not newer than the last one given here for the room is old news
 * (a replay) and is dropped.  M_OK, M_NOMEM or M_TOO_MANY_ROOMS.  The caller keeps its
 * reference.
 */
int		 model_ordered(struct model *m, struct event *ev, void *ctx);

/* Deliver a server notice to every member of every room (shutdown). */
void		 model_notice_all(struct model *m, const char *text,
		    void *ctx);

#endif /* CHATD_MODEL_H */
