/*
 * fuzz_command.c - command parsing, nickname rules and reply formatting.
 *
 * The whole input is one line, as the framer hands it over (any bytes;
 * proto_parse() is meant for valid UTF-8, but must stay in bounds on
 * anything).  Checked:
 *  - every pointer of the command lies in the line, with its length;
 *  - each kind has what it promises: SAY its text up to the end, NICK
 *    and JOIN a target without edge blanks, PART one or none, MSG a
 *    one-word target and a text, TOPIC a text up to the end or none,
 *    HISTORY the count a reference parse of its argument gives (> 0, or
 *    0 without one) and USAGE when that finds no positive decimal that
 *    fits, NONE only for a blank line, UNKNOWN and USAGE a command word;
 *    count is 0 but for HISTORY;
 *  - parsing ignores the case of the command word;
 *  - a nickname nick_check() takes is 1..32 characters of valid UTF-8,
 *    not starting with a digit or '-', without blank or control; and
 *    nick_equal()/nick_hash() agree under ASCII case changes, the
 *    latter under a seed taken from the nickname;
 *  - a room name room_name_check() takes (the line, the target, and '#'
 *    and the line) is '#' and 1..max characters of valid UTF-8 without
 *    comma, blank or control, under every max from its length up, and
 *    too long under one less; an ASCII name of visible characters but
 *    ',' is taken; upper case is the same room; the check reads only
 *    the bytes it is given (each in a buffer of exactly that size);
 *  - proto_format() of every reply kind ends with CRLF, fits
 *    PROTO_FORMAT_MAX, and carries no control character but TAB.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto.h"
#include "utf8.h"

#define ROOM_MAX	50	/* --max-room-name's default */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A copy of p[0..n) in a buffer of exactly n bytes (ASan's bound). */
static char *
exact_copy(const char *p, size_t n)
{
	char	*copy;

	if ((copy = malloc(n > 0 ? n : 1)) == NULL)
		fuzz_fail("out of memory");
	if (n > 0)
		memcpy(copy, p, n);
	return copy;
}

/*
 * The command's argument: from past the blanks after the command word
 * to before the trailing blanks.  Only for a line starting with '/'.
 */
static void
argument(const char *line, size_t len, const struct command *c,
    const char **arg, size_t *arg_len)
{
	const char	*p = c->name + c->name_len, *end = line + len;

	while (p < end && is_blank(*p))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;
	*arg = p;
	*arg_len = (size_t)(end - p);
}

/*
 * A reference parse of /history's N, through strtoul() on digits only:
 * 0 for no valid number, whatever the reason.
 */
static unsigned long
ref_count(const char *arg, size_t len)
{
	char		*s, *end;
	unsigned long	 n;
	size_t		 i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (arg[i] < '0' || arg[i] > '9')
			return 0;
	if ((s = malloc(len + 1)) == NULL)
		fuzz_fail("out of memory");
	memcpy(s, arg, len);
	s[len] = '\0';
	errno = 0;
	n = strtoul(s, &end, 10);
	FUZZ_ASSERT(*end == '\0');
	if (errno == ERANGE)
		n = 0;
	free(s);
	return n;
}

/* The argument of a one-name command is the target, blanks trimmed. */
static void
check_target_is_argument(const char *line, size_t len,
    const struct command *c)
{
	const char	*arg;
	size_t		 arg_len;

	argument(line, len, c, &arg, &arg_len);
	FUZZ_ASSERT(c->target_len == arg_len);
	if (arg_len > 0) {
		FUZZ_ASSERT(c->target == arg);
		FUZZ_ASSERT(!is_blank(c->target[0]));
		FUZZ_ASSERT(!is_blank(c->target[c->target_len - 1]));
	}
	FUZZ_ASSERT(c->text_len == 0);
}

/* p[0..n) lies within line[0..len]; an empty field may sit at the end. */
static void
check_in_line(const char *line, size_t len, const char *p, size_t n)
{
	FUZZ_ASSERT(p != NULL);
	FUZZ_ASSERT(p >= line && p <= line + len);
	FUZZ_ASSERT(n <= (size_t)(line + len - p));
}

static void
check_command(const char *line, size_t len, const struct command *c)
{
	const char	*arg;
	size_t		 arg_len;

	check_in_line(line, len, c->name, c->name_len);
	check_in_line(line, len, c->target, c->target_len);
	check_in_line(line, len, c->text, c->text_len);
	FUZZ_ASSERT(c->kind == CMD_HISTORY || c->count == 0);

	switch (c->kind) {
	case CMD_NONE:
		FUZZ_ASSERT(proto_is_blank(line, len));
		break;
	case CMD_SAY:
		FUZZ_ASSERT(!proto_is_blank(line, len));
		FUZZ_ASSERT(c->text + c->text_len == line + len);
		FUZZ_ASSERT(c->text == line ||
		    (c->text == line + 1 && line[0] == '/' && line[1] == '/'));
		break;
	case CMD_NICK:
		FUZZ_ASSERT(c->target_len > 0);
		FUZZ_ASSERT(!is_blank(c->target[0]));
		FUZZ_ASSERT(!is_blank(c->target[c->target_len - 1]));
		break;
	case CMD_MSG:
		FUZZ_ASSERT(c->target_len > 0 && c->text_len > 0);
		FUZZ_ASSERT(memchr(c->target, ' ', c->target_len) == NULL);
		FUZZ_ASSERT(memchr(c->target, '\t', c->target_len) == NULL);
		FUZZ_ASSERT(!is_blank(c->text[0]));
		FUZZ_ASSERT(c->text + c->text_len == line + len);
		break;
	case CMD_ME:
		FUZZ_ASSERT(c->text_len > 0);
		FUZZ_ASSERT(c->text + c->text_len == line + len);
		break;
	case CMD_QUIT:
		FUZZ_ASSERT(c->text + c->text_len == line + len);
		break;
	case CMD_JOIN:
		FUZZ_ASSERT(c->target_len > 0);
		check_target_is_argument(line, len, c);
		break;
	case CMD_PART:
		check_target_is_argument(line, len, c);
		break;
	case CMD_TOPIC:
		FUZZ_ASSERT(c->text + c->text_len == line + len);
		FUZZ_ASSERT(c->text_len == 0 || !is_blank(c->text[0]));
		argument(line, len, c, &arg, &arg_len);
		FUZZ_ASSERT((c->text_len == 0) == (arg_len == 0));
		break;
	case CMD_HISTORY:
		argument(line, len, c, &arg, &arg_len);
		if (arg_len == 0)
			FUZZ_ASSERT(c->count == 0);
		else {
			FUZZ_ASSERT(c->count > 0);
			FUZZ_ASSERT(c->count == ref_count(arg, arg_len));
		}
		break;
	case CMD_WHO:
	case CMD_HELP:
	case CMD_STATS:
	case CMD_ROOMS:
		break;
	case CMD_UNKNOWN:
		FUZZ_ASSERT(line[0] == '/' && c->name == line + 1);
		FUZZ_ASSERT(strcmp(proto_usage(c->name, c->name_len),
		    "/help") == 0);
		break;
	case CMD_USAGE:
		FUZZ_ASSERT(line[0] == '/' && c->name == line + 1);
		FUZZ_ASSERT(proto_usage(c->name, c->name_len) != NULL);
		if (strcmp(proto_usage(c->name, c->name_len), "/history [N]")
		    == 0) {
			argument(line, len, c, &arg, &arg_len);
			FUZZ_ASSERT(arg_len > 0);
			FUZZ_ASSERT(ref_count(arg, arg_len) == 0);
		}
		/* Only a missing room makes /join a usage error. */
		if (strcmp(proto_usage(c->name, c->name_len), "/join #room")
		    == 0) {
			argument(line, len, c, &arg, &arg_len);
			FUZZ_ASSERT(arg_len == 0);
		}
		FUZZ_ASSERT(strcmp(proto_usage(c->name, c->name_len),
		    "/part [#room]") != 0);
		FUZZ_ASSERT(strcmp(proto_usage(c->name, c->name_len),
		    "/topic [TEXT]") != 0);
		break;
	default:
		fuzz_fail("command kind %d out of range", (int)c->kind);
	}
	if (c->kind != CMD_NONE && c->kind != CMD_SAY) {
		FUZZ_ASSERT(c->name == line + 1);
		FUZZ_ASSERT(c->name_len == 0 || !is_blank(c->name[0]));
	}
}

/* The same line with the command word's ASCII letters in upper case. */
static void
check_case(const char *line, size_t len, const struct command *c)
{
	struct command	 u;
	char		*up;
	size_t		 i;

	if (c->kind == CMD_NONE || c->kind == CMD_SAY)
		return;
	if ((up = malloc(len)) == NULL)
		fuzz_fail("out of memory");
	memcpy(up, line, len);
	for (i = 1; i < 1 + c->name_len; i++)
		if (up[i] >= 'a' && up[i] <= 'z')
			up[i] = (char)(up[i] - 'a' + 'A');
	proto_parse(up, len, &u);
	FUZZ_ASSERT(u.kind == c->kind);
	FUZZ_ASSERT(u.target - up == c->target - line &&
	    u.target_len == c->target_len);
	FUZZ_ASSERT(u.text - up == c->text - line && u.text_len == c->text_len);
	FUZZ_ASSERT(u.count == c->count);
	free(up);
}

static void
check_nick(const char *nick, size_t len)
{
	const char	*why = nick_check(nick, len);
	char		*up;
	size_t		 i, n, count = 0, bad;
	uint32_t	 cp;
	uint64_t	 seed = 0;

	if (why != NULL) {
		FUZZ_ASSERT(why[0] != '\0');
		return;
	}
	FUZZ_ASSERT(len >= 1 && len <= NICK_MAX_BYTES);
	FUZZ_ASSERT(fuzz_utf8_ref(nick, len, &bad));
	FUZZ_ASSERT(!(nick[0] >= '0' && nick[0] <= '9') && nick[0] != '-');
	for (i = 0; i < len; i += n, count++) {
		n = utf8_decode(nick + i, len - i, &cp);
		FUZZ_ASSERT(n > 0);
		FUZZ_ASSERT(!fuzz_is_control(cp) && cp != ' ' &&
		    cp != 0xa0 && cp != 0x3000 && cp != 0x200e && cp != 0x202e);
		FUZZ_ASSERT(cp >= 0x80 || strchr("_-[]{}|^", (int)cp) != NULL ||
		    (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
		    (cp >= '0' && cp <= '9'));
	}
	FUZZ_ASSERT(count >= 1 && count <= NICK_MAX_CHARS);

	/*
	 * Case does not make a different nickname, nor a different hash,
	 * under any seed: here one the input picks.
	 */
	memcpy(&seed, nick, len < sizeof(seed) ? len : sizeof(seed));
	if ((up = malloc(len)) == NULL)
		fuzz_fail("out of memory");
	for (i = 0; i < len; i++)
		up[i] = nick[i] >= 'a' && nick[i] <= 'z' ?
		    (char)(nick[i] - 'a' + 'A') : nick[i];
	FUZZ_ASSERT(nick_equal(nick, len, up, len));
	FUZZ_ASSERT(nick_equal(up, len, nick, len));
	FUZZ_ASSERT(nick_hash(seed, nick, len) == nick_hash(seed, up, len));
	FUZZ_ASSERT(nick_check(up, len) == NULL);
	free(up);
}

/* room_name_check() on an exact copy, so a read past len shows. */
static const char *
room_check(const char *name, size_t len, size_t max)
{
	char		*copy = exact_copy(name, len);
	const char	*why;

	why = room_name_check(copy, len, max);
	free(copy);
	return why;
}

static bool
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* name[0..len) is '#' and visible ASCII but ',': always a room name. */
static bool
plain_ascii_room(const char *name, size_t len)
{
	size_t		i;
	unsigned char	c;

	if (len < 2 || name[0] != '#')
		return false;
	for (i = 1; i < len; i++) {
		c = (unsigned char)name[i];
		if (c <= ' ' || c >= 0x7f || c == ',')
			return false;
	}
	return true;
}

static void
check_room(const char *name, size_t len, size_t max)
{
	const char	*why = room_check(name, len, max);
	char		*up;
	size_t		 i, n, count = 0, bad;
	uint32_t	 cp;
	uint64_t	 seed = 0;

	if (why != NULL) {
		FUZZ_ASSERT(why[0] != '\0');
		if (plain_ascii_room(name, len))
			FUZZ_ASSERT(len - 1 > max &&
			    starts_with(why, "too long"));
		return;
	}
	FUZZ_ASSERT(len >= 2 && name[0] == '#');
	FUZZ_ASSERT(fuzz_utf8_ref(name, len, &bad));
	for (i = 1; i < len; i += n, count++) {
		n = utf8_decode(name + i, len - i, &cp);
		FUZZ_ASSERT(n > 0);
		FUZZ_ASSERT(!fuzz_is_control(cp) && cp != ' ' && cp != '\t' &&
		    cp != ',' && cp != 0xa0 && cp != 0x3000 && cp != 0x2028 &&
		    cp != 0x200b && cp != 0x200e && cp != 0x202e &&
		    cp != 0xfeff);
	}
	FUZZ_ASSERT(count >= 1 && count <= max);

	/* The limit counts characters: exactly count fits, one less not. */
	FUZZ_ASSERT(room_check(name, len, count) == NULL);
	FUZZ_ASSERT(room_check(name, len, SIZE_MAX) == NULL);
	why = room_check(name, len, count - 1);
	FUZZ_ASSERT(why != NULL && starts_with(why, "too long"));

	/* Upper case is the same room, under a seed the input picks. */
	memcpy(&seed, name, len < sizeof(seed) ? len : sizeof(seed));
	if ((up = malloc(len)) == NULL)
		fuzz_fail("out of memory");
	for (i = 0; i < len; i++)
		up[i] = name[i] >= 'a' && name[i] <= 'z' ?
		    (char)(name[i] - 'a' + 'A') : name[i];
	FUZZ_ASSERT(room_check(up, len, max) == NULL);
	FUZZ_ASSERT(nick_equal(name, len, up, len));
	FUZZ_ASSERT(nick_hash(seed, name, len) == nick_hash(seed, up, len));
	free(up);
}

/* The line itself, and '#' and the line, under two limits. */
static void
check_rooms(const char *line, size_t len)
{
	char	*hashed;
	size_t	 small = 1 + len % 8;

	check_room(line, len, ROOM_MAX);
	check_room(line, len, small);
	if ((hashed = malloc(len + 1)) == NULL)
		fuzz_fail("out of memory");
	hashed[0] = '#';
	memcpy(hashed + 1, line, len);
	check_room(hashed, len + 1, ROOM_MAX);
	check_room(hashed, len + 1, small);
	free(hashed);
}

static void
check_format(const char *nick, size_t nick_len, const char *text,
    size_t text_len)
{
	size_t	 max = PROTO_FORMAT_MAX(nick_len, text_len), n;
	char	*out;
	int	 k;

	if ((out = malloc(max)) == NULL)
		fuzz_fail("out of memory");
	for (k = REPLY_CHAT; k <= REPLY_ERROR; k++) {
		n = proto_format(out, (enum reply_kind)k, nick, nick_len, text,
		    text_len);
		FUZZ_ASSERT(n <= max);
		fuzz_check_wire_line(out, n, "proto_format");
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*line;
	struct command	 cmd;
	char		*buf;

	/* A line of its own size: ASan sees any read past it. */
	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		fuzz_fail("out of memory");
	memcpy(buf, data, size);
	line = buf;

	proto_parse(line, size, &cmd);
	check_command(line, size, &cmd);
	check_case(line, size, &cmd);
	check_nick(line, size);
	if (cmd.target_len > 0)
		check_nick(cmd.target, cmd.target_len);
	check_rooms(line, size);
	if (cmd.target_len > 0)
		check_room(cmd.target, cmd.target_len, ROOM_MAX);

	/* Only a nickname that passed nick_check() is ever formatted. */
	if (cmd.target_len > 0 && nick_check(cmd.target, cmd.target_len) ==
	    NULL)
		check_format(cmd.target, cmd.target_len, cmd.text,
		    cmd.text_len);
	else
		check_format("guest1", 6, line, size);
	free(buf);
	return 0;
}
