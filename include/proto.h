/*
 * proto.h - the line protocol (v2: v1 plus rooms and history): one input
 * line to a command, replies to formatted output lines.  Pure: no
 * sockets, no allocation, no state.
 *
 * Input lines reach proto_parse() already framed (no CR/LF) and already
 * checked to be valid UTF-8.  Output lines end with CRLF and carry user
 * text only after utf8_sanitize(), so no control character is relayed.
 * doc/PROTOCOL.md is the full description.
 */
#ifndef CHATD_PROTO_H
#define CHATD_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "utf8.h"

#define NICK_MAX_CHARS	32	/* code points */
#define NICK_MAX_BYTES	(NICK_MAX_CHARS * 4)

enum cmd_kind {
	CMD_NONE,	/* blank or whitespace-only line: ignored */
	CMD_SAY,	/* text (also "//text", whose text is "/text") */
	CMD_ME,		/* /me TEXT */
	CMD_NICK,	/* /nick NAME */
	CMD_WHO,	/* /who */
	CMD_MSG,	/* /msg NICK TEXT */
	CMD_QUIT,	/* /quit [REASON]; text may be empty */
	CMD_HELP,	/* /help */
	CMD_STATS,	/* /stats */
	CMD_JOIN,	/* /join #room: target, not yet checked */
	CMD_PART,	/* /part [#room]; target may be empty */
	CMD_ROOMS,	/* /rooms */
	CMD_TOPIC,	/* /topic [TEXT]; empty text asks for the topic */
	CMD_HISTORY,	/* /history [N]; count is 0 without N */
	CMD_UNKNOWN,	/* /foo: name holds "foo" */
	CMD_USAGE	/* a known command with missing or bad arguments */
};

/*
 * Pointers in a command point into the parsed line.  Command names are
 * case-insensitive.  Arguments are separated by runs of spaces or TABs;
 * TEXT keeps everything after the separator, including inner spaces.
 * The one-name arguments (/nick NAME, /join and /part's room) are the
 * rest of the line without its trailing blanks, so a name with a blank
 * inside is refused by the name's check, not cut short.  N of /history
 * is a positive decimal that fits an unsigned long, else CMD_USAGE.
 */
struct command {
	enum cmd_kind	 kind;
	const char	*name;		/* command word without '/' */
	size_t		 name_len;
	const char	*target;	/* NICK, MSG; room of JOIN, PART */
	size_t		 target_len;
	const char	*text;		/* SAY, ME, MSG, QUIT, TOPIC */
	size_t		 text_len;
	unsigned long	 count;		/* N of /history; 0: none given */
};

void		 proto_parse(const char *line, size_t len, struct command *cmd);

/* The usage text of a command, for CMD_USAGE replies ("/nick NAME"). */
const char	*proto_usage(const char *name, size_t name_len);

/*
 * Nickname rules: 1..32 code points of valid UTF-8; ASCII letters,
 * digits and _-[]{}|^, or any non-ASCII character that is not a control,
 * a space of any kind or a format character (bidi controls included);
 * not starting with a digit or '-'.  Returns NULL if valid, otherwise a
 * short reason for the error line.
 */
const char	*nick_check(const char *nick, size_t len);

/*
 * Room names: '#' then 1..max_chars code points of valid UTF-8 (the
 * '#' not counted), without a space of any kind, a comma, a control or
 * a format character; anything else goes ("#c++", "#a.b", letters of
 * any script).  Returns NULL if valid, otherwise a short reason for
 * the line "!! invalid room name: REASON".  Reads name[0..len) only.
 */
const char	*room_name_check(const char *name, size_t len,
		    size_t max_chars);

/*
 * Nicknames compare equal regardless of ASCII case.  Room names do too,
 * '#' included: nick_equal() and nick_hash() are their equality and
 * hash as well, so "#Lobby" and "#lobby" are one room.
 */
bool		 nick_equal(const char *a, size_t alen, const char *b, size_t blen);
/*
 * A hash consistent with nick_equal().  seed perturbs it, so that no
 * client can work out ahead of time which nicknames share a hash chain:
 * pick it at random, once per table (server.c: hash_seed()).
 */
uint64_t	 nick_hash(uint64_t seed, const char *nick, size_t len);

enum reply_kind {
	REPLY_CHAT,	/* "<nick> text" */
	REPLY_ACTION,	/* "* nick text" */
	REPLY_PRIVATE,	/* "*nick* text", to the recipient */
	REPLY_PRIVATE_ECHO, /* "-> *nick* text", the sender's copy */
	REPLY_NOTICE,	/* "-- text"; nick unused */
	REPLY_ERROR	/* "!! text"; nick unused */
};

/* The most bytes proto_format() writes for these lengths. */
#define PROTO_FORMAT_MAX(nick_len, text_len) \
	((nick_len) + UTF8_SANITIZED_MAX(text_len) + 16)

/*
 * Format one output line, CRLF included, into out (which holds
 * PROTO_FORMAT_MAX(nick_len, text_len) bytes).  text is sanitised on
 * the way; nick must already be valid.  Returns the bytes written.
 */
size_t		 proto_format(char *out, enum reply_kind kind,
		    const char *nick, size_t nick_len,
		    const char *text, size_t text_len);

/* True if the line holds only spaces and TABs (or nothing). */
bool		 proto_is_blank(const char *line, size_t len);

/* The lines /help sends, NULL-terminated, without the "-- " prefix. */
extern const char *const proto_help_lines[];

#endif /* CHATD_PROTO_H */
