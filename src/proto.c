/*
 * proto.c - the line protocol: input lines to commands, replies to lines.
 *
 * Everything here works on (pointer, length) pairs: lines are not NUL
 * terminated and may hold any byte but CR and LF.
 */

#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"
#include "utf8.h"

#define nitems(a)	(sizeof (a) / sizeof (a)[0])

struct proto_cmd {
	const char	*name;
	enum cmd_kind	 kind;
	const char	*usage;
};

static const struct proto_cmd proto_cmds[] = {
	{ "nick",	CMD_NICK,	"/nick NAME" },
	{ "msg",	CMD_MSG,	"/msg NICK TEXT" },
	{ "me",		CMD_ME,		"/me TEXT" },
	{ "who",	CMD_WHO,	"/who" },
	{ "quit",	CMD_QUIT,	"/quit [REASON]" },
	{ "help",	CMD_HELP,	"/help" },
	{ "stats",	CMD_STATS,	"/stats" },
	{ "join",	CMD_JOIN,	"/join #room" },
	{ "part",	CMD_PART,	"/part [#room]" },
	{ "rooms",	CMD_ROOMS,	"/rooms" },
	{ "topic",	CMD_TOPIC,	"/topic [TEXT]" },
	{ "history",	CMD_HISTORY,	"/history [N]" },
};

const char *const proto_help_lines[] = {
	"commands:",
	"/nick NAME        change your nickname",
	"/msg NICK TEXT    send TEXT to NICK only",
	"/me TEXT          describe what you do",
	"/who              list who is online",
	"/join #room       join #room (made if new) and talk there",
	"/part [#room]     leave #room, or the room you talk in",
	"/rooms            list the rooms",
	"/topic [TEXT]     show the room's topic, or set it (- clears it)",
	"/history [N]      show the room's last N lines",
	"/quit [REASON]    leave the chat",
	"/stats            show the server's figures",
	"/pass PASSWORD    log in, on a server that asks for a password",
	"/help             show this list",
	"//TEXT            say /TEXT (a line starting with /)",
	NULL
};

struct range {
	uint32_t	lo;
	uint32_t	hi;
};

/* White space other than ASCII: a name must be one visible word. */
static const struct range nonascii_spaces[] = {
	{ 0x0085, 0x0085 }, { 0x00a0, 0x00a0 }, { 0x1680, 0x1680 },
	{ 0x2000, 0x200a }, { 0x2028, 0x2029 }, { 0x202f, 0x202f },
	{ 0x205f, 0x205f }, { 0x3000, 0x3000 },
};

/*
 * Format characters (Cf): invisible, and the bidi ones reorder the rest
 * of the line, so two different names could look the same.
 */
static const struct range format_chars[] = {
	{ 0x00ad, 0x00ad }, { 0x0600, 0x0605 }, { 0x061c, 0x061c },
	{ 0x06dd, 0x06dd }, { 0x070f, 0x070f }, { 0x0890, 0x0891 },
	{ 0x08e2, 0x08e2 }, { 0x180e, 0x180e }, { 0x200b, 0x200f },
	{ 0x202a, 0x202e }, { 0x2060, 0x2064 }, { 0x2066, 0x206f },
	{ 0xfeff, 0xfeff }, { 0xfff9, 0xfffb }, { 0x110bd, 0x110bd },
	{ 0x110cd, 0x110cd }, { 0x13430, 0x1343f }, { 0x1bca0, 0x1bca3 },
	{ 0x1d173, 0x1d17a }, { 0xe0001, 0xe0001 }, { 0xe0020, 0xe007f },
};

/*
 * What nick_check() and room_name_check() refuse in any name: the same
 * classes for both, so a name that looks like one word is one word.
 */
enum char_class {
	CHAR_OK,
	CHAR_SPACE,	/* any kind of blank, TAB included */
	CHAR_CONTROL,	/* C0 but TAB, DEL, C1 */
	CHAR_FORMAT	/* invisible (Cf): bidi controls, joiners, ... */
};

/* What goes around the nickname, per reply kind. */
struct decoration {
	const char	*before;
	const char	*after;
	bool		 has_nick;
};

static const struct decoration decorations[] = {
	[REPLY_CHAT] =		{ "<",		"> ",	true },
	[REPLY_ACTION] =	{ "* ",		" ",	true },
	[REPLY_PRIVATE] =	{ "*",		"* ",	true },
	[REPLY_PRIVATE_ECHO] =	{ "-> *",	"* ",	true },
	[REPLY_NOTICE] =	{ "-- ",	"",	false },
	[REPLY_ERROR] =		{ "!! ",	"",	false },
};

static bool	 is_sep(char);
static const char *skip_seps(const char *, const char *);
static const char *skip_word(const char *, const char *);
static int	 ascii_lower(int);
static bool	 name_is(const char *, size_t, const char *);
static const struct proto_cmd *proto_lookup(const char *, size_t);
static const char *trim_end(const char *, const char *);
static bool	 parse_count(const char *, const char *, unsigned long *);
static void	 parse_args(const struct proto_cmd *, const char *,
		     const char *, struct command *);
static bool	 in_ranges(uint32_t, const struct range *, size_t);
static enum char_class char_class(uint32_t);
static bool	 nick_char_ok(uint32_t);
static char	*append(char *, const char *, size_t);

static bool
is_sep(char c)
{
	return c == ' ' || c == '\t';
}

static const char *
skip_seps(const char *p, const char *end)
{
	while (p < end && is_sep(*p))
		p++;
	return p;
}

static const char *
skip_word(const char *p, const char *end)
{
	while (p < end && !is_sep(*p))
		p++;
	return p;
}

/* Not tolower(): the locale must not change what a nickname matches. */
static int
ascii_lower(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 'a';
	return c;
}

/* Does name[0..len) equal the lower-case word, ignoring ASCII case? */
static bool
name_is(const char *name, size_t len, const char *word)
{
	size_t	i;

	if (strlen(word) != len)
		return false;
	for (i = 0; i < len; i++) {
		if (ascii_lower((unsigned char)name[i]) != word[i])
			return false;
	}
	return true;
}

static const struct proto_cmd *
proto_lookup(const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < nitems(proto_cmds); i++) {
		if (name_is(name, len, proto_cmds[i].name))
			return &proto_cmds[i];
	}
	return NULL;
}

bool
proto_is_blank(const char *line, size_t len)
{
	return skip_seps(line, line + len) == line + len;
}

void
proto_parse(const char *line, size_t len, struct command *cmd)
{
	const char		*end = line + len, *p;
	const struct proto_cmd	*pc;

	/* Absent fields are empty, never NULL, so they print safely. */
	cmd->kind = CMD_NONE;
	cmd->name = cmd->target = cmd->text = end;
	cmd->name_len = cmd->target_len = cmd->text_len = 0;
	cmd->count = 0;

	if (proto_is_blank(line, len))
		return;

	if (line[0] != '/' || (len > 1 && line[1] == '/')) {
		/* "//text" is how a line starting with '/' is said. */
		p = line[0] == '/' ? line + 1 : line;
		cmd->kind = CMD_SAY;
		cmd->text = p;
		cmd->text_len = (size_t)(end - p);
		return;
	}

	cmd->name = line + 1;
	p = skip_word(cmd->name, end);
	cmd->name_len = (size_t)(p - cmd->name);
	if ((pc = proto_lookup(cmd->name, cmd->name_len)) == NULL) {
		cmd->kind = CMD_UNKNOWN;
		return;
	}
	parse_args(pc, skip_seps(p, end), end, cmd);
}

/* Where the trailing blanks of p[0..end) start. */
static const char *
trim_end(const char *p, const char *end)
{
	while (end > p && is_sep(end[-1]))
		end--;
	return end;
}

/*
 * A positive decimal number, digits only, that fits: false for "", "0",
 * "+5", "5x" or 2^64.  Leading zeros are harmless ("007" is 7).
 */
static bool
parse_count(const char *p, const char *end, unsigned long *count)
{
	unsigned long	 n = 0, digit;

	if (p == end)
		return false;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return false;
		digit = (unsigned long)(*p - '0');
		if (n > (ULONG_MAX - digit) / 10)
			return false;
		n = n * 10 + digit;
	}
	if (n == 0)
		return false;
	*count = n;
	return true;
}

/* p is where the arguments start, past the separators. */
static void
parse_args(const struct proto_cmd *pc, const char *p, const char *end,
    struct command *cmd)
{
	const char	*q;

	cmd->kind = pc->kind;
	switch (pc->kind) {
	case CMD_NICK:
	case CMD_JOIN:
	case CMD_PART:
		/*
		 * Everything up to the trailing blanks: a name with a space
		 * in it is then refused by its check, not cut short.
		 */
		q = trim_end(p, end);
		cmd->target = p;
		cmd->target_len = (size_t)(q - p);
		if (cmd->target_len == 0 && pc->kind != CMD_PART)
			cmd->kind = CMD_USAGE;
		break;
	case CMD_MSG:
		q = skip_word(p, end);
		cmd->target = p;
		cmd->target_len = (size_t)(q - p);
		cmd->text = skip_seps(q, end);
		cmd->text_len = (size_t)(end - cmd->text);
		if (cmd->target_len == 0 || cmd->text_len == 0)
			cmd->kind = CMD_USAGE;
		break;
	case CMD_ME:
	case CMD_QUIT:
	case CMD_TOPIC:
		cmd->text = p;
		cmd->text_len = (size_t)(end - p);
		if (pc->kind == CMD_ME && cmd->text_len == 0)
			cmd->kind = CMD_USAGE;
		break;
	case CMD_HISTORY:
		q = trim_end(p, end);
		if (q != p && !parse_count(p, q, &cmd->count))
			cmd->kind = CMD_USAGE;
		break;
	default:
		/* /who, /rooms and /help take no arguments, ignore any. */
		break;
	}
}

const char *
proto_usage(const char *name, size_t name_len)
{
	const struct proto_cmd	*pc;

	/* Never NULL: callers print the result straight into a reply. */
	if ((pc = proto_lookup(name, name_len)) == NULL)
		return "/help";
	return pc->usage;
}

static bool
in_ranges(uint32_t cp, const struct range *r, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (cp >= r[i].lo && cp <= r[i].hi)
			return true;
	}
	return false;
}

static enum char_class
char_class(uint32_t cp)
{
	if (cp == ' ' || cp == '\t' ||
	    in_ranges(cp, nonascii_spaces, nitems(nonascii_spaces)))
		return CHAR_SPACE;
	if (utf8_is_control(cp))
		return CHAR_CONTROL;
	if (in_ranges(cp, format_chars, nitems(format_chars)))
		return CHAR_FORMAT;
	return CHAR_OK;
}

static bool
nick_char_ok(uint32_t cp)
{
	if (cp >= 0x80)
		return char_class(cp) == CHAR_OK;
	if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
	    (cp >= '0' && cp <= '9'))
		return true;
	switch (cp) {
	case '_':
	case '-':
	case '[':
	case ']':
	case '{':
	case '}':
	case '|':
	case '^':
		return true;
	default:
		return false;
	}
}

const char *
nick_check(const char *nick, size_t len)
{
	/*
	 * The reason names the character, so it needs a buffer; per thread,
	 * as workers check nicknames concurrently.  It stays valid until the
	 * thread's next call.
	 */
	static _Thread_local char	 reason[64];
	static const char		 too_long[] =
	    "too long (max 32 characters)";
	size_t				 off, n, count = 0;
	uint32_t			 cp;

	if (len == 0)
		return "empty";
	if (len > NICK_MAX_BYTES)
		return too_long;
	if ((nick[0] >= '0' && nick[0] <= '9') || nick[0] == '-')
		return "must not start with a digit or '-'";

	for (off = 0; off < len; off += n) {
		if (++count > NICK_MAX_CHARS)
			return too_long;
		/* The line was validated, but a caller may not have. */
		if ((n = utf8_decode(nick + off, len - off, &cp)) == 0)
			return "invalid UTF-8";
		if (!nick_char_ok(cp)) {
			snprintf(reason, sizeof reason,
			    "character U+%04" PRIX32 " not allowed", cp);
			return reason;
		}
	}
	return NULL;
}

const char *
room_name_check(const char *name, size_t len, size_t max_chars)
{
	/* Per thread, as in nick_check(): valid until the next call. */
	static _Thread_local char	 reason[64];
	static const char *const	 what[] = {
		[CHAR_SPACE] =		"a space",
		[CHAR_CONTROL] =	"a control character",
		[CHAR_FORMAT] =		"a format character",
	};
	enum char_class			 class;
	size_t				 off, n, count = 0;
	uint32_t			 cp;

	if (len == 0)
		return "empty";
	if (name[0] != '#')
		return "must start with #";
	if (len == 1)
		return "empty";

	for (off = 1; off < len; off += n) {
		if (++count > max_chars) {
			snprintf(reason, sizeof reason,
			    "too long (max %zu characters)", max_chars);
			return reason;
		}
		if ((n = utf8_decode(name + off, len - off, &cp)) == 0)
			return "invalid UTF-8";
		if (cp == ',')
			return "contains a comma";
		if (cp == ' ')
			return "contains a space";
		if ((class = char_class(cp)) == CHAR_OK)
			continue;
		/* Named by code point: most of these are invisible. */
		snprintf(reason, sizeof reason, "contains %s (U+%04" PRIX32
		    ")", what[class], cp);
		return reason;
	}
	return NULL;
}

bool
nick_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t	i;

	if (alen != blen)
		return false;
	for (i = 0; i < alen; i++) {
		if (ascii_lower((unsigned char)a[i]) !=
		    ascii_lower((unsigned char)b[i]))
			return false;
	}
	return true;
}

/*
 * FNV-1a over the lower-cased bytes, so equal nicknames hash equal,
 * from a seeded basis.  The table takes the low bits, and in FNV-1a
 * those depend only on the low bits of the seed and of each byte: mix
 * at the end (splitmix64's finaliser), so every bit of the seed and of
 * the nickname counts in every bucket.
 */
uint64_t
nick_hash(uint64_t seed, const char *nick, size_t len)
{
	uint64_t	 h = 0xcbf29ce484222325ULL ^ seed;
	size_t		 i;

	for (i = 0; i < len; i++) {
		h ^= (uint64_t)ascii_lower((unsigned char)nick[i]);
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

static char *
append(char *p, const char *s, size_t len)
{
	/* memcpy() must not see NULL, even for nothing. */
	if (len == 0)
		return p;
	memcpy(p, s, len);
	return p + len;
}

size_t
proto_format(char *out, enum reply_kind kind, const char *nick,
    size_t nick_len, const char *text, size_t text_len)
{
	const struct decoration	*d;
	char			*p = out;

	if ((size_t)kind >= nitems(decorations))
		return 0;
	d = &decorations[kind];

	/* PROTO_FORMAT_MAX allows 16 bytes for these and the CRLF. */
	p = append(p, d->before, strlen(d->before));
	if (d->has_nick)
		p = append(p, nick, nick_len);
	p = append(p, d->after, strlen(d->after));
	if (text_len > 0)
		p += utf8_sanitize(text, text_len, p);
	p = append(p, "\r\n", 2);
	return (size_t)(p - out);
}
