/*
 * clwire.h - what travels on the cluster's JetStream stream (--cluster),
 * and the subject-safe and key-safe names derived from rooms and nicks.
 * Pure: no sockets, no NATS.
 *
 * One message is one event of a node's user, or a notice about a node:
 *
 *	chatd1 KIND NODE UID TIME\nROOM\nNICK\nTEXT
 *
 * KIND is a word (say, me, join, part, quit, nick, topic, nodedown,
 * privmsg, notice, kick, mode, hello, roster),
 * NODE the sending node's name, UID the user's id on that node (decimal;
 * with NODE it tells users apart across the cluster), TIME wall-clock ms.
 * ROOM and NICK hold no newline; TEXT is last so it may hold anything
 * valid in UTF-8.  A hello and a roster have an empty room and nick;
 * a roster's text is one part of a node's list of its users (clroster.h).
 * What comes off the stream is untrusted: decoding
 * checks every field and refuses what does not fit.
 *
 * Room names are case-insensitive in ASCII, as nicks are, and hold code
 * points a NATS subject cannot (".", "*", ">", any byte past ASCII), so
 * a room's subject is PREFIX "." and the hex of its ASCII-folded name;
 * a nick's key in the KV bucket is the hex of its folded bytes.
 */
#ifndef CHATD_CLWIRE_H
#define CHATD_CLWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLW_NODE_MAX		32	/* bytes of a node name */
#define CLW_MAGIC		"chatd1"

enum clw_kind {
	CLW_SAY,
	CLW_ME,
	CLW_JOIN,
	CLW_PART,	/* text: the reason */
	CLW_QUIT,	/* text: the reason */
	CLW_NICK,	/* nick: the old name, text: the new one */
	CLW_TOPIC,	/* text: the topic, empty if cleared */
	CLW_NODEDOWN,	/* text: the dead node's name; room and nick empty */
	/*
	 * A private line (PRIVMSG, /msg) or an IRC NOTICE to one user of
	 * another node: ROOM is the recipient's node, UID the recipient's
	 * id there (not the sender's), NICK the sender's nick, TEXT the
	 * recipient's nick, one space, and the words (clw_split_target).
	 */
	CLW_PRIVMSG,
	CLW_NOTICE,
	/*
	 * An operator put a member out of ROOM: NICK and UID the operator,
	 * TEXT the member's nick, one space, and the reason (may be empty).
	 */
	CLW_KICK,
	/*
	 * An operator changed ROOM's modes: NICK and UID the operator, TEXT
	 * the change, "+t", "-s", "+o NICK" or "-v NICK" (clw_mode_ok).
	 */
	CLW_MODE,
	CLW_HELLO,	/* a node is (back) here: each other node re-states */
	CLW_ROSTER,	/* uid: the roster's number, text: clroster.h */
	CLW_KIND_COUNT
};

struct clw_msg {
	enum clw_kind	 kind;
	uint64_t	 uid;
	uint64_t	 time_ms;
	const char	*node;
	size_t		 node_len;
	const char	*room;
	size_t		 room_len;
	const char	*nick;
	size_t		 nick_len;
	const char	*text;
	size_t		 text_len;
};

/* "say", "nodedown"...; NULL if kind is out of range. */
const char	*clw_kind_name(enum clw_kind kind);

/* 1 to CLW_NODE_MAX of [A-Za-z0-9_-]: safe in a subject and a KV key. */
bool		 clw_node_name_ok(const char *name, size_t len);

/*
 * The bytes of m into buf, or 0 if m is not valid (what clw_decode()
 * would refuse) or does not fit in cap.
 */
size_t		 clw_encode(const struct clw_msg *m, char *buf, size_t cap);

/*
 * Parse buf[0..len) into m, whose strings point into buf (not
 * NUL-terminated).  0, or -1 if anything is malformed.
 */
int		 clw_decode(const char *buf, size_t len, struct clw_msg *m);

/*
 * The nick (the recipient's, the one put out) and the rest of the text
 * of a CLW_PRIVMSG, CLW_NOTICE or CLW_KICK that clw_decode() accepted,
 * pointing into its text.
 */
void		 clw_split_target(const struct clw_msg *m, const char **to,
		    size_t *to_len, const char **text, size_t *text_len);

/*
 * Whether text is one mode change as CLW_MODE carries it: a sign, then
 * t or s alone, or o or v, a space and a nick.
 */
bool		 clw_mode_ok(const char *text, size_t len);

/*
 * PREFIX "." hex(fold(room)) into buf, NUL-terminated; its length, or 0
 * if it does not fit.  Two spellings of one room give one subject.
 */
size_t		 clw_room_subject(const char *prefix, const char *room,
		    size_t len, char *buf, size_t cap);

/* hex(fold(nick)) into buf, NUL-terminated; its length, or 0. */
size_t		 clw_nick_key(const char *nick, size_t len, char *buf,
		    size_t cap);

/*
 * A decimal as clw_encode() writes it (digits, no sign, no leading
 * zero) into *out: 0, or -1 if s[0..len) is not one or overflows.
 */
int		 clw_parse_u64(const char *s, size_t len, uint64_t *out);

#endif /* CHATD_CLWIRE_H */
