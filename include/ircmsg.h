/*
 * ircmsg.h - IRC wire text (RFC 1459/2812 framing, IRCv3 message tags):
 * parsing a client's line, rendering the chat model's events and the
 * server's replies.  Pure: no sockets, no locks, no state.
 *
 * What it promises:
 *   - A parsed line points into the caller's buffer: at most
 *     IRC_PARAMS_MAX parameters, the last of which takes the rest of the
 *     line when there are that many (RFC 2812 2.3.1).
 *   - Every line it renders ends with CRLF and carries no control
 *     character but IRC's formatting codes (bold, colour, reset,
 *     reverse, italics, strike, underline) and CTCP's \x01: a client's
 *     ESC or other C0/C1 control becomes U+FFFD, as for line users.
 *   - An EV_ME renders as CTCP ACTION; ircmsg_ctcp_action() reads it back.
 */
#ifndef CHATD_IRCMSG_H
#define CHATD_IRCMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "msg.h"

#define IRC_PARAMS_MAX	15

struct ircmsg {
	const char	*tags;		/* after '@', still escaped; NULL if none */
	size_t		 tags_len;
	const char	*source;	/* after ':'; NULL if none */
	size_t		 source_len;
	const char	*cmd;
	size_t		 cmd_len;
	const char	*params[IRC_PARAMS_MAX];
	size_t		 lens[IRC_PARAMS_MAX];
	size_t		 nparams;
};

/* Parse line[0..len) (no CR or LF).  0, or -1 if it holds no command. */
int		 ircmsg_parse(const char *line, size_t len, struct ircmsg *m);

/* True if the command is name, whatever its case. */
bool		 ircmsg_is(const struct ircmsg *m, const char *name);

/* The value of tag key, unescaped into out (cap bytes); false if absent. */
bool		 ircmsg_tag(const struct ircmsg *m, const char *key, char *out,
		    size_t cap);

/* Tag value escaping (IRCv3): out holds 2 * len bytes; returns its length. */
size_t		 ircmsg_tag_escape(const char *in, size_t len, char *out);
/* The reverse; out holds len bytes. */
size_t		 ircmsg_tag_unescape(const char *in, size_t len, char *out);

/* True for IRC's formatting codes and CTCP's \x01, which go through. */
bool		 ircmsg_is_format_code(uint32_t cp);

/*
 * Copy in[0..len) to out with every control but the formatting codes
 * (and every invalid byte) replaced by U+FFFD; out holds 3 * len bytes.
 */
size_t		 ircmsg_sanitize(const char *in, size_t len, char *out);

/* "\x01ACTION text\x01": the text, and true; false for anything else. */
bool		 ircmsg_ctcp_action(const char *text, size_t len,
		    const char **body, size_t *body_len);

/* "ident@host" of a transport address "1.2.3.4:5" or "[::1]:5". */
size_t		 ircmsg_uhost(const char *ident, const char *addr, char *out,
		    size_t cap);

/* "2026-12-02T01:02:03.456Z": 24 bytes and NUL. */
#define IRCMSG_TIME_MAX	25
void		 ircmsg_time(char out[IRCMSG_TIME_MAX], uint64_t time_ms);

/* What an event's line carries before its source. */
#define IRCMSG_TIME	0x01	/* server-time: "time=..." */
#define IRCMSG_TAGS	0x02	/* message-tags: msgid and the client tags */

/*
 * ev as the IRC line its room's members (or its private recipient) see,
 * with the tags flags asks for, and "batch=REF" if batch is not NULL
 * (which implies the tags).  server names the server's notices.  NULL
 * on ENOMEM.
 */
struct msg	*ircmsg_event(const struct event *ev, const char *server,
		    unsigned flags, const char *batch);

/*
 * The client-only tags ("+name[=value]") of m, still escaped and joined
 * by ';', into out (cap bytes, NUL-terminated); returns the length.  A
 * tag that does not fit whole is left out.
 */
size_t		 ircmsg_client_tags(const struct ircmsg *m, char *out,
		    size_t cap);

/*
 * One reply line from a printf format, sanitised as above, CRLF added,
 * at most 8 KiB.  NULL on ENOMEM.
 */
struct msg	*ircmsg_printf(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

/* The figures ISUPPORT states. */
struct ircmsg_limits {
	const char	*network;
	size_t		 nicklen, channellen, topiclen, awaylen, kicklen;
	size_t		 chanlimit, history;
};

/*
 * The ISUPPORT tokens, NULL-terminated, written into buf (cap bytes) and
 * pointed to from tokens (ntokens slots); returns how many.
 */
size_t		 ircmsg_isupport(const struct ircmsg_limits *l, char *buf,
		    size_t cap, const char **tokens, size_t ntokens);

#endif /* CHATD_IRCMSG_H */
