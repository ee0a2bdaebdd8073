/*
 * chatui.h - the pure parts of chat, the terminal client: its command
 * line, what a received line is, how it is shown, and the reconnect
 * backoff.
 *
 * No sockets, no terminal I/O, no readline, no global state (except
 * getopt's, in chatui_parse_args()), so that every rule here is unit
 * tested.  chat.c does the I/O.
 *
 * Nothing received is trusted: chatui_sanitize() turns any byte string
 * into valid UTF-8 without a control character or a bidi control, and
 * chatui_render() sanitises before it adds its own colour escapes, so
 * the only escape sequences a rendered line holds are the client's.
 * Our nick and our current room, which go into the prompt, are kept
 * sanitised, and chatui_prompt() sanitises them again.
 *
 * Protocol v2 (rooms) adds two prefixes to a v1 line: "#room " on a
 * line from a joined room that is not the current one, and "[TIME] " on
 * a line of replayed history.  The line after the prefix is classified
 * and coloured as the v1 line it is.  A v1 server sends neither, nor
 * the notices that name the current room, so with it the client shows
 * exactly what it showed before.
 */
#ifndef CHATD_CHATUI_H
#define CHATD_CHATUI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CHATUI_DEFAULT_HOST	"127.0.0.1"
#define CHATUI_DEFAULT_PORT	"7777"
#define CHATUI_DEFAULT_TLS_PORT	"7443"	/* with --tls */
#define CHATUI_NICK_MAX		128	/* bytes: 32 code points of 4 bytes */

struct chat_args {
	const char	*host;
	const char	*port;
	const char	*unix_path;	/* NULL: TCP */
	const char	*nick;		/* NULL: keep the guest name */
	const char	*history;	/* NULL: the default file */
	bool		 no_color;
	bool		 no_reconnect;
	bool		 tls;		/* --tls */
	const char	*ca_file;	/* --ca: NULL, the system's CAs */
	bool		 insecure;	/* --insecure: verify nothing */
	const char	*password_file;	/* NULL: send no /pass */
};

enum chat_args_result {
	CHAT_ARGS_RUN,
	CHAT_ARGS_HELP,
	CHAT_ARGS_VERSION,
	CHAT_ARGS_USAGE		/* err holds the message, without "chat: " */
};

/*
 * Parse argv (getopt_long, reset first, so it may be called again).
 * argv's strings are referred to, not copied.  With --tls the port
 * defaults to CHATUI_DEFAULT_TLS_PORT; --ca and --insecure need --tls
 * and exclude each other (one trusts a CA, the other nothing), and
 * --tls is for TCP, never with --unix.  Whether TLS was built is not
 * this function's business.
 */
enum chat_args_result	chatui_parse_args(struct chat_args *, int, char **,
			    char *err, size_t errlen);

/*
 * Whether to colour: on a terminal, unless --no-color, or NO_COLOR is
 * set to a non-empty value (no-color.org).  no_color_env is
 * getenv("NO_COLOR").
 */
bool	chatui_want_colour(bool tty, const struct chat_args *,
	    const char *no_color_env);

/*
 * The password of a --password-file: its first line, without the
 * newline (LF or CRLF) that ends it, into out (outsize bytes, NUL
 * terminated).  False with err set when that line is empty, holds a
 * control character (it goes out as one protocol line) or does not fit.
 */
#define CHATUI_PASSWORD_MAX	512	/* bytes of a password, at most */

bool	chatui_password(const char *data, size_t len, char *out,
	    size_t outsize, char *err, size_t errlen);

/*
 * What a server with a password says before its welcome (PROTOCOL.md
 * 6.16): that it wants one, or that the one sent was wrong (and it
 * closes the connection).
 */
enum chat_pass_event {
	CHAT_PASS_NONE,
	CHAT_PASS_REQUIRED,	/* "-- password required: ..." */
	CHAT_PASS_WRONG		/* "!! wrong password" */
};

enum chat_pass_event	chatui_track_pass(const char *line, size_t len);

/*
 * Whether an input line is a /pass command: it is sent even before the
 * welcome, and kept out of the history.
 */
bool	chatui_is_pass(const char *line);

/* The text of chat --help. */
extern const char	chatui_usage[];

enum chat_kind {
	CHAT_LINE_CHAT,		/* <nick> text */
	CHAT_LINE_ACTION,	/* * nick text */
	CHAT_LINE_PRIVATE,	/* *nick* text */
	CHAT_LINE_PRIVATE_ECHO,	/* -> *nick* text */
	CHAT_LINE_NOTICE,	/* -- text */
	CHAT_LINE_ERROR,	/* !! text */
	CHAT_LINE_OTHER
};

/*
 * Where the parts of a classified line are: offsets into it.  The kind,
 * nick and text are those of the inner line, the v1 line after a room
 * label or a replay time (offsets still count from the line's start).
 */
struct chat_line {
	enum chat_kind	 kind;
	size_t		 label_off;	/* "#room", without its space; */
	size_t		 label_len;	/* 0 and 0 when not labelled */
	size_t		 time_off;	/* a replay line's TIME, without */
	size_t		 time_len;	/* its brackets; 0 and 0 if none */
	size_t		 inner_off;	/* the v1 line: 0 without a prefix */
	size_t		 nick_off;	/* 0 and 0 when there is no nick */
	size_t		 nick_len;
	size_t		 text_off;	/* the text after the marker; for */
					/* CHAT_LINE_OTHER, inner_off */
};

/*
 * Classify line[0..len), without its line end.  A room label is "#"
 * and at least one byte up to the first space, which must be there; a
 * replay time is "[", a time chatui_utc_time() takes, and "] ".  One
 * prefix at most: the inner line of either is classified as v1 only.
 * A line that starts with "#" or "[" but has no such prefix is
 * CHAT_LINE_OTHER, shown as it is.
 */
void	chatui_classify(const char *line, size_t len, struct chat_line *);

/*
 * An ISO-8601 UTC time as the server writes it in a replay line,
 * "YYYY-MM-DDTHH:MM:SSZ" (a fraction of 1 to 9 digits may follow the
 * seconds), in *t as seconds since the epoch.  False, *t untouched, for
 * anything else, an impossible date (February 30) included.
 */
bool	chatui_utc_time(const char *s, size_t len, time_t *t);

/* The time of a replayed history line[0..len) in *t, or false. */
bool	chatui_replay_time(const char *line, size_t len, time_t *t);

/*
 * Whether two broken-down times are of one day: a replay line's stamp
 * is "HH:MM" when it is of today, else "YYYY-MM-DD HH:MM", which takes
 * CHATUI_STAMP_MAX bytes with its NUL.
 */
#define CHATUI_STAMP_MAX	17
bool	chatui_same_day(const struct tm *, const struct tm *);

/*
 * The SGR colour (30..37, 90..97) of a nick.  A hash of the nick's bytes
 * with ASCII case folded, since the server treats nicks that way: the
 * same nick has the same colour in every run and on every machine.
 * Red is kept for errors, so no nick is red.
 */
unsigned	chatui_nick_colour(const char *nick, size_t len);

/* The most bytes chatui_sanitize() writes for len input bytes. */
#define CHATUI_SANITIZED_MAX(len)	((len) * 3)

/*
 * Copy in[0..len) to out as valid UTF-8 with no control character:
 * each invalid byte becomes U+FFFD, TAB a space, and every other C0
 * control, DEL and each C1 control (U+0080..U+009F, judged after
 * decoding) U+FFFD.  So does each bidi control, U+061C, U+200E, U+200F,
 * U+202A..U+202E and U+2066..U+2069, which would let a line reorder
 * itself on the reader's screen.  out holds CHATUI_SANITIZED_MAX(len)
 * bytes.  Returns the bytes written.
 */
size_t	chatui_sanitize(const char *in, size_t len, char *out);

/*
 * Columns that a code point takes on a terminal: 0 for combining marks,
 * zero-width and format characters, 2 for East Asian wide and full-width
 * characters and emoji, 1 otherwise.  Controls count 0: they are never
 * written.  Fixed tables, not wcwidth(), so the answer does not depend
 * on the locale.
 */
int	chatui_cp_width(uint32_t cp);

/* Columns of s[0..len); an invalid byte counts as U+FFFD, one column. */
size_t	chatui_width(const char *s, size_t len);

/*
 * in[0..len), sanitised as chatui_sanitize() does, into out, cut to at
 * most cols columns and bytes bytes: whole if it fits, else as much as
 * fits with an ellipsis, U+2026, after it.  Cut between code points,
 * never inside one.  What it returns fits, so fitting it again changes
 * nothing.  cols >= 1 and bytes >= 3, so that the ellipsis fits; out
 * holds bytes bytes and gets no NUL.  Returns the bytes written.
 */
size_t	chatui_fit(const char *in, size_t len, size_t cols, size_t bytes,
	    char *out);

/* How chatui_render() shows a line: */
#define CHATUI_COLOUR	0x1	/* SGR colours */
#define CHATUI_READER	0x2	/* for a person: a room label as "[#room]" */
				/* and a replay time left to the stamp */

/*
 * The text to show for a received line[0..len) (no line end), as a
 * NUL-terminated string from malloc, or NULL when out of memory.
 * It is the sanitised line, after "stamp " if stamp is not NULL, with
 * SGR colours if how has CHATUI_COLOUR and no escape sequence at all
 * if not.  Without CHATUI_READER (a script reads it) the line is shown
 * as it came, prefixes included.  With it, a labelled line shows
 * "[#room] " then its inner line (the label in the room's colour,
 * chatui_nick_colour() of its name), and a replay line only its inner
 * line: its time is the stamp, which the caller makes from
 * chatui_replay_time().
 */
char	*chatui_render(const char *line, size_t len, const char *stamp,
	    int how);

enum chat_nick_event {
	CHAT_NICK_NONE,
	CHAT_NICK_WELCOME,	/* the server named us on connecting */
	CHAT_NICK_CHANGED	/* "-- OURS is now known as NEW" */
};

/*
 * Follow our own nick: the welcome line names it, and a nick change
 * whose old name is ours renames it.  nick holds CHATUI_NICK_MAX + 1
 * bytes and is updated in place; other lines leave it alone.  The nick
 * is kept sanitised (chatui_sanitize()), as the lines show it, and a
 * change's old name is compared after the same sanitising.  A nick
 * longer than CHATUI_NICK_MAX bytes, before or after, is not taken.
 */
enum chat_nick_event	chatui_track_nick(const char *line, size_t len,
			    char *nick);

/*
 * A room as the prompt shows it: at most CHATUI_ROOM_COLS columns and
 * CHATUI_ROOM_MAX bytes (chatui_fit()), so that a long name, or one
 * piled with zero-width marks, leaves room to type.
 */
#define CHATUI_ROOM_COLS	24
#define CHATUI_ROOM_MAX		96

enum chat_room_event {
	CHAT_ROOM_NONE,
	CHAT_ROOM_NOW,		/* "-- now talking in #room (N online)" */
	CHAT_ROOM_NOWHERE	/* "-- you are in no room; ..." */
};

/*
 * Follow our current room: the server names it on /join and /part, or
 * says we are in none.  room holds CHATUI_ROOM_MAX + 1 bytes and gets
 * the name fitted (chatui_fit()) and NUL-terminated, or "" for no
 * room; other lines, labelled ones included, leave it alone.  Until the
 * server names a room (a v1 server never does, nor a v2 one before the
 * first /join) the caller keeps it "": the room is not known.
 */
enum chat_room_event	chatui_track_room(const char *line, size_t len,
			    char *room);

/* Bytes of a prompt: "[", a nick cut and sanitised, " ", a room, "] ", NUL. */
#define CHATUI_PROMPT_MAX \
	(1 + CHATUI_SANITIZED_MAX(CHATUI_NICK_MAX) + 1 + CHATUI_ROOM_MAX + 3)

/*
 * The prompt for nick[0..len) and room[0..room_len) into out
 * (CHATUI_PROMPT_MAX bytes), NUL terminated: "[NICK #room] ",
 * "[NICK] " when room_len is 0, "[#room] " when len is 0, "> " when
 * both are.  Readline writes the prompt to the terminal as it is, so
 * both are sanitised here whatever the caller did (and readline's own
 * \001 and \002 markers go too); a nick longer than CHATUI_NICK_MAX
 * bytes is cut there, a room fitted as chatui_fit() does.
 */
void	chatui_prompt(const char *nick, size_t len, const char *room,
	    size_t room_len, char *out);

/*
 * The nick of a "-- OLD is now known as NEW" line in *new, or false
 * for another line.
 */
bool	chatui_nick_change(const char *line, size_t len, const char **new,
	    size_t *new_len);

/* Seconds before reconnect attempt n (0, 1, ...): 1, 2, 4, 8, 16, 30, 30... */
unsigned	chatui_backoff(unsigned attempt);

#endif /* CHATD_CHATUI_H */
