/*
 * clwire.c - the cluster's messages on the stream, and the names that
 * rooms and nicks get in NATS (clwire.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clroster.h"
#include "clwire.h"
#include "event.h"
#include "proto.h"
#include "utf8.h"

static const char *const kind_names[CLW_KIND_COUNT] = {
	[CLW_SAY] = "say",
	[CLW_ME] = "me",
	[CLW_JOIN] = "join",
	[CLW_PART] = "part",
	[CLW_QUIT] = "quit",
	[CLW_NICK] = "nick",
	[CLW_TOPIC] = "topic",
	[CLW_NODEDOWN] = "nodedown",
	[CLW_PRIVMSG] = "privmsg",
	[CLW_NOTICE] = "notice",
	[CLW_KICK] = "kick",
	[CLW_MODE] = "mode",
	[CLW_HELLO] = "hello",
	[CLW_ROSTER] = "roster",
};

const char *
clw_kind_name(enum clw_kind kind)
{
	if ((unsigned)kind >= CLW_KIND_COUNT)
		return NULL;
	return kind_names[kind];
}

bool
clw_node_name_ok(const char *name, size_t len)
{
	size_t	i;
	char	c;

	if (len == 0 || len > CLW_NODE_MAX)
		return false;
	for (i = 0; i < len; i++) {
		c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* A field that must fit on its own line and be valid text. */
static bool
field_ok(const char *s, size_t len, size_t max)
{
	if (len > max)
		return false;
	if (len > 0 && memchr(s, '\n', len) != NULL)
		return false;
	return utf8_valid(s, len, NULL);
}

/* A nick up to the first space of the text: a recipient, a kicked one. */
static bool
target_ok(const struct clw_msg *m)
{
	const char	*sp;
	size_t		 to_len;

	if (m->text_len == 0 ||
	    (sp = memchr(m->text, ' ', m->text_len)) == NULL)
		return false;
	to_len = (size_t)(sp - m->text);
	return to_len > 0 && field_ok(m->text, to_len, NICK_MAX_BYTES);
}

static bool
private_ok(const struct clw_msg *m)
{
	return clw_node_name_ok(m->room, m->room_len) && m->nick_len > 0 &&
	    m->uid != 0 && target_ok(m);
}

/* What decoding accepts, so that encoding never writes what it refuses. */
static bool
msg_ok(const struct clw_msg *m)
{
	if ((unsigned)m->kind >= CLW_KIND_COUNT)
		return false;
	if (!clw_node_name_ok(m->node, m->node_len))
		return false;
	if (!field_ok(m->room, m->room_len, ROOM_NAME_MAX_BYTES) ||
	    !field_ok(m->nick, m->nick_len, NICK_MAX_BYTES))
		return false;
	if (!utf8_valid(m->text, m->text_len, NULL))
		return false;
	if (m->kind == CLW_NODEDOWN)
		return m->room_len == 0 && m->nick_len == 0 &&
		    clw_node_name_ok(m->text, m->text_len);
	if (m->kind == CLW_PRIVMSG || m->kind == CLW_NOTICE)
		return private_ok(m);
	if (m->kind == CLW_HELLO)
		return m->room_len == 0 && m->nick_len == 0 &&
		    m->text_len == 0;
	if (m->kind == CLW_ROSTER)
		return m->room_len == 0 && m->nick_len == 0 &&
		    clroster_parse(m->text, m->text_len, NULL, NULL, NULL) == 0;
	if (m->room_len < 2 || m->room[0] != '#' || m->nick_len == 0)
		return false;
	if (m->kind == CLW_NICK)
		return field_ok(m->text, m->text_len, NICK_MAX_BYTES) &&
		    m->text_len > 0;
	if (m->kind == CLW_KICK)
		return target_ok(m);
	if (m->kind == CLW_MODE)
		return clw_mode_ok(m->text, m->text_len);
	return true;
}

size_t
clw_encode(const struct clw_msg *m, char *buf, size_t cap)
{
	int	 n;
	size_t	 len;

	if (!msg_ok(m))
		return 0;
	n = snprintf(buf, cap, CLW_MAGIC " %s %.*s %" PRIu64 " %" PRIu64 "\n",
	    kind_names[m->kind], (int)m->node_len, m->node, m->uid,
	    m->time_ms);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	len = (size_t)n;
	if (cap - len < m->room_len + 1 + m->nick_len + 1 + m->text_len)
		return 0;
	/* A field may be empty and NULL (a node's end has no room). */
	if (m->room_len > 0)
		memcpy(buf + len, m->room, m->room_len);
	len += m->room_len;
	buf[len++] = '\n';
	if (m->nick_len > 0)
		memcpy(buf + len, m->nick, m->nick_len);
	len += m->nick_len;
	buf[len++] = '\n';
	if (m->text_len > 0)
		memcpy(buf + len, m->text, m->text_len);
	len += m->text_len;
	return len;
}

/* The next space- or newline-ended word of [*p, end), or NULL. */
static const char *
next_word(const char **p, const char *end, char stop, size_t *len)
{
	const char	*start = *p, *q;

	if ((q = memchr(start, stop, (size_t)(end - start))) == NULL)
		return NULL;
	*len = (size_t)(q - start);
	*p = q + 1;
	return start;
}

/* What clw_encode() writes: digits, no sign, no leading zero. */
int
clw_parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int
clw_decode(const char *buf, size_t len, struct clw_msg *m)
{
	const char	*p = buf, *end = buf + len, *w;
	size_t		 wlen;
	unsigned	 k;

	memset(m, 0, sizeof(*m));
	if ((w = next_word(&p, end, ' ', &wlen)) == NULL ||
	    wlen != strlen(CLW_MAGIC) || memcmp(w, CLW_MAGIC, wlen) != 0)
		return -1;
	if ((w = next_word(&p, end, ' ', &wlen)) == NULL)
		return -1;
	for (k = 0; k < CLW_KIND_COUNT; k++) {
		if (strlen(kind_names[k]) == wlen &&
		    memcmp(kind_names[k], w, wlen) == 0)
			break;
	}
	if (k == CLW_KIND_COUNT)
		return -1;
	m->kind = (enum clw_kind)k;
	if ((m->node = next_word(&p, end, ' ', &m->node_len)) == NULL)
		return -1;
	if ((w = next_word(&p, end, ' ', &wlen)) == NULL ||
	    clw_parse_u64(w, wlen, &m->uid) != 0)
		return -1;
	if ((w = next_word(&p, end, '\n', &wlen)) == NULL ||
	    clw_parse_u64(w, wlen, &m->time_ms) != 0)
		return -1;
	if ((m->room = next_word(&p, end, '\n', &m->room_len)) == NULL ||
	    (m->nick = next_word(&p, end, '\n', &m->nick_len)) == NULL)
		return -1;
	m->text = p;
	m->text_len = (size_t)(end - p);
	return msg_ok(m) ? 0 : -1;
}

bool
clw_mode_ok(const char *text, size_t len)
{
	if (len < 2 || (text[0] != '+' && text[0] != '-'))
		return false;
	if (text[1] == 't' || text[1] == 's')
		return len == 2;
	if (text[1] != 'o' && text[1] != 'v')
		return false;
	return len > 3 && text[2] == ' ' &&
	    memchr(text + 3, ' ', len - 3) == NULL &&
	    field_ok(text + 3, len - 3, NICK_MAX_BYTES);
}

void
clw_split_target(const struct clw_msg *m, const char **to, size_t *to_len,
    const char **text, size_t *text_len)
{
	const char	*sp = memchr(m->text, ' ', m->text_len);

	*to = m->text;
	*to_len = (size_t)(sp - m->text);
	*text = sp + 1;
	*text_len = m->text_len - *to_len - 1;
}

static int
ascii_lower(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 'a';
	return c;
}

/* hex(fold(s)) at buf + at; the new length, or 0 if it does not fit. */
static size_t
hex_folded(const char *s, size_t len, char *buf, size_t at, size_t cap)
{
	static const char	 digits[] = "0123456789abcdef";
	size_t			 i;
	unsigned char		 c;

	if (len == 0 || at + len * 2 + 1 > cap)
		return 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)ascii_lower((unsigned char)s[i]);
		buf[at++] = digits[c >> 4];
		buf[at++] = digits[c & 15];
	}
	buf[at] = '\0';
	return at;
}

size_t
clw_room_subject(const char *prefix, const char *room, size_t len,
    char *buf, size_t cap)
{
	size_t	plen = strlen(prefix);

	if (plen + 1 >= cap)
		return 0;
	memcpy(buf, prefix, plen);
	buf[plen] = '.';
	return hex_folded(room, len, buf, plen + 1, cap);
}

size_t
clw_nick_key(const char *nick, size_t len, char *buf, size_t cap)
{
	return hex_folded(nick, len, buf, 0, cap);
}
