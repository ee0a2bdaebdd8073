/*
 * ircmsg.c - IRC lines in and out.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fault.h"
#include "ircmsg.h"
#include "utf8.h"

#define PRINTF_MAX	8192

/* Skip spaces; IRC separates by runs of them. */
static size_t
skip_spaces(const char *s, size_t i, size_t len)
{
	while (i < len && s[i] == ' ')
		i++;
	return i;
}

/* The end of the word starting at i. */
static size_t
word_end(const char *s, size_t i, size_t len)
{
	while (i < len && s[i] != ' ')
		i++;
	return i;
}

int
ircmsg_parse(const char *line, size_t len, struct ircmsg *m)
{
	size_t	 i = 0, end;

	memset(m, 0, sizeof(*m));
	i = skip_spaces(line, i, len);
	if (i < len && line[i] == '@') {
		end = word_end(line, i, len);
		m->tags = line + i + 1;
		m->tags_len = end - i - 1;
		i = skip_spaces(line, end, len);
	}
	if (i < len && line[i] == ':') {
		end = word_end(line, i, len);
		m->source = line + i + 1;
		m->source_len = end - i - 1;
		i = skip_spaces(line, end, len);
	}
	if (i == len)
		return -1;
	end = word_end(line, i, len);
	m->cmd = line + i;
	m->cmd_len = end - i;
	i = skip_spaces(line, end, len);
	while (i < len) {
		/* A trailing parameter, or the last one there is room for. */
		if (line[i] == ':' || m->nparams == IRC_PARAMS_MAX - 1) {
			if (line[i] == ':')
				i++;
			m->params[m->nparams] = line + i;
			m->lens[m->nparams++] = len - i;
			break;
		}
		end = word_end(line, i, len);
		m->params[m->nparams] = line + i;
		m->lens[m->nparams++] = end - i;
		i = skip_spaces(line, end, len);
	}
	return 0;
}

bool
ircmsg_is(const struct ircmsg *m, const char *name)
{
	return strlen(name) == m->cmd_len &&
	    strncasecmp(m->cmd, name, m->cmd_len) == 0;
}

size_t
ircmsg_client_tags(const struct ircmsg *m, char *out, size_t cap)
{
	size_t	 i = 0, end, len = 0;

	if (cap == 0)
		return 0;
	while (m->tags != NULL && i < m->tags_len) {
		for (end = i; end < m->tags_len && m->tags[end] != ';'; end++)
			continue;
		if (m->tags[i] == '+' && end > i + 1 &&
		    len + (len > 0) + (end - i) < cap) {
			if (len > 0)
				out[len++] = ';';
			memcpy(out + len, m->tags + i, end - i);
			len += end - i;
		}
		i = end + 1;
	}
	out[len] = '\0';
	return len;
}

size_t
ircmsg_tag_escape(const char *in, size_t len, char *out)
{
	size_t	 i, o = 0;

	for (i = 0; i < len; i++) {
		switch (in[i]) {
		case ';':  out[o++] = '\\'; out[o++] = ':'; break;
		case ' ':  out[o++] = '\\'; out[o++] = 's'; break;
		case '\\': out[o++] = '\\'; out[o++] = '\\'; break;
		case '\r': out[o++] = '\\'; out[o++] = 'r'; break;
		case '\n': out[o++] = '\\'; out[o++] = 'n'; break;
		default:   out[o++] = in[i]; break;
		}
	}
	return o;
}

size_t
ircmsg_tag_unescape(const char *in, size_t len, char *out)
{
	size_t	 i, o = 0;

	for (i = 0; i < len; i++) {
		if (in[i] != '\\') {
			out[o++] = in[i];
			continue;
		}
		/* A lone backslash at the end is dropped. */
		if (++i == len)
			break;
		switch (in[i]) {
		case ':': out[o++] = ';'; break;
		case 's': out[o++] = ' '; break;
		case 'r': out[o++] = '\r'; break;
		case 'n': out[o++] = '\n'; break;
		default:  out[o++] = in[i]; break;
		}
	}
	return o;
}

bool
ircmsg_tag(const struct ircmsg *m, const char *key, char *out, size_t cap)
{
	size_t	 klen = strlen(key), i = 0, end, eq, o = 0, step;

	while (m->tags != NULL && i < m->tags_len) {
		for (end = i; end < m->tags_len && m->tags[end] != ';'; end++)
			continue;
		for (eq = i; eq < end && m->tags[eq] != '='; eq++)
			continue;
		if (eq - i != klen || memcmp(m->tags + i, key, klen) != 0) {
			i = end + 1;
			continue;
		}
		if (cap == 0)
			return true;
		/* Unescaped one character at a time, cut at the buffer. */
		for (i = eq + 1; i < end && o + 1 < cap; i += step) {
			step = m->tags[i] == '\\' && i + 1 < end ? 2 : 1;
			o += ircmsg_tag_unescape(m->tags + i, step, out + o);
		}
		out[o] = '\0';
		return true;
	}
	return false;
}

bool
ircmsg_is_format_code(uint32_t cp)
{
	switch (cp) {
	case 0x01:	/* CTCP */
	case 0x02:	/* bold */
	case 0x03:	/* colour */
	case 0x0f:	/* reset */
	case 0x16:	/* reverse */
	case 0x1d:	/* italics */
	case 0x1e:	/* strike */
	case 0x1f:	/* underline */
		return true;
	default:
		return false;
	}
}

size_t
ircmsg_sanitize(const char *in, size_t len, char *out)
{
	size_t	 i = 0, o = 0, n;
	uint32_t cp;

	while (i < len) {
		if ((n = utf8_decode(in + i, len - i, &cp)) == 0) {
			o += utf8_encode(UTF8_REPLACEMENT, out + o);
			i++;
			continue;
		}
		/* CR, LF and NUL would end or cut the line: controls too. */
		if ((utf8_is_control(cp) || cp == '\t') &&
		    !ircmsg_is_format_code(cp))
			o += utf8_encode(UTF8_REPLACEMENT, out + o);
		else {
			memcpy(out + o, in + i, n);
			o += n;
		}
		i += n;
	}
	return o;
}

bool
ircmsg_ctcp_action(const char *text, size_t len, const char **body,
    size_t *body_len)
{
	if (len < 7 || memcmp(text, "\001ACTION", 7) != 0)
		return false;
	text += 7;
	len -= 7;
	if (len > 0 && text[len - 1] == '\001')
		len--;
	if (len > 0 && text[0] != ' ')
		return false;		/* \x01ACTIONS...: another CTCP */
	if (len > 0) {
		text++;
		len--;
	}
	*body = text;
	*body_len = len;
	return true;
}

size_t
ircmsg_uhost(const char *ident, const char *addr, char *out, size_t cap)
{
	const char	*h = addr, *end;
	int		 n;

	if (*h == '[') {
		h++;
		end = strchr(h, ']');
	} else
		end = strrchr(h, ':');
	if (end == NULL)
		end = h + strlen(h);
	/* A host starting with ':' would read as a trailing parameter. */
	n = snprintf(out, cap, "%s@%s%.*s", ident, *h == ':' ? "0" : "",
	    (int)(end - h), h);
	if (n < 0)
		n = 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

void
ircmsg_time(char out[IRCMSG_TIME_MAX], uint64_t time_ms)
{
	time_t		 t = (time_t)(time_ms / 1000);
	struct tm	 tm;
	char		 s[24];

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(s, sizeof(s), "%s", "1970-01-01T00:00:00");
	snprintf(out, IRCMSG_TIME_MAX, "%.19s.%03uZ", s,
	    (unsigned)(time_ms % 1000));
}

/* A growing line in a message sized for the worst case. */
struct linebuf {
	struct msg	*m;
	size_t		 len;
};

static void
put(struct linebuf *b, const char *s, size_t len)
{
	memcpy(b->m->data + b->len, s, len);
	b->len += len;
}

static void
puts_(struct linebuf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void
put_text(struct linebuf *b, const char *s, size_t len)
{
	b->len += ircmsg_sanitize(s, len, b->m->data + b->len);
}

/* ":nick!user@host " of ev's sender, or the server for its notices. */
static void
put_source(struct linebuf *b, const struct event *ev, const char *server)
{
	put(b, ":", 1);
	if (ev->nick_len == 0) {
		puts_(b, server);
	} else {
		put_text(b, ev->nick, ev->nick_len);
		put(b, "!", 1);
		if (ev->uhost_len > 0)
			put_text(b, ev->uhost, ev->uhost_len);
		else
			puts_(b, "chatd@chatd");
	}
	put(b, " ", 1);
}

static void
put_tags(struct linebuf *b, const struct event *ev, unsigned flags,
    const char *batch)
{
	char	 t[IRCMSG_TIME_MAX], id[32];
	bool	 first = true;

	if (flags == 0 && batch == NULL)
		return;
	put(b, "@", 1);
	if (batch != NULL) {
		puts_(b, "batch=");
		puts_(b, batch);
		first = false;
	}
	if (flags & IRCMSG_TIME) {
		ircmsg_time(t, ev->time_ms);
		puts_(b, first ? "time=" : ";time=");
		puts_(b, t);
		first = false;
	}
	if (flags & IRCMSG_TAGS) {
		/* A private line's number is the server's, not a room's. */
		snprintf(id, sizeof(id), "%smsgid=%s%llu", first ? "" : ";",
		    ev->room_len > 0 && ev->kind != EV_PRIVATE ? "" : "p",
		    (unsigned long long)ev->seq);
		puts_(b, id);
		if (ev->ctags_len > 0) {
			put(b, ";", 1);
			put_text(b, ev->ctags, ev->ctags_len);
		}
	}
	put(b, " ", 1);
}

struct msg *
ircmsg_event(const struct event *ev, const char *server, unsigned flags,
    const char *batch)
{
	struct linebuf	 b;
	struct msg	*shrunk;
	size_t		 cap;

	cap = 160 + strlen(server) + (batch != NULL ? strlen(batch) : 0) +
	    3 * ((size_t)ev->room_len + ev->nick_len + ev->uhost_len +
	    ev->target_len + ev->ctags_len + ev->text_len);
	if (fault_fail(FAULT_MSG) ||
	    (b.m = malloc(sizeof(*b.m) + cap)) == NULL)
		return NULL;
	atomic_init(&b.m->refs, 1);
	b.len = 0;
	put_tags(&b, ev, flags, batch);
	put_source(&b, ev, server);
	switch (ev->kind) {
	case EV_SAY:
	case EV_ME:
	case EV_PRIVATE:
	case EV_USER_NOTICE:
	case EV_NOTICE:
		puts_(&b, ev->kind == EV_USER_NOTICE || ev->kind == EV_NOTICE ?
		    "NOTICE " : "PRIVMSG ");
		/* A private line is to its recipient; a room's to the room. */
		if (ev->kind == EV_PRIVATE || (ev->kind == EV_USER_NOTICE &&
		    ev->room_len == 0))
			put_text(&b, ev->target, ev->target_len);
		else
			put_text(&b, ev->room, ev->room_len);
		puts_(&b, " :");
		if (ev->kind == EV_ME)
			puts_(&b, "\001ACTION ");
		put_text(&b, ev->text, ev->text_len);
		if (ev->kind == EV_ME)
			puts_(&b, "\001");
		break;
	case EV_JOIN:
		puts_(&b, "JOIN ");
		put_text(&b, ev->room, ev->room_len);
		break;
	case EV_PART:
		puts_(&b, "PART ");
		put_text(&b, ev->room, ev->room_len);
		if (ev->text_len > 0) {
			puts_(&b, " :");
			put_text(&b, ev->text, ev->text_len);
		}
		break;
	case EV_QUIT:
		puts_(&b, "QUIT :");
		put_text(&b, ev->text_len > 0 ? ev->text : "Quit", ev->text_len >
		    0 ? ev->text_len : 4);
		break;
	case EV_NICK:
		puts_(&b, "NICK ");
		put_text(&b, ev->text, ev->text_len);
		break;
	case EV_TOPIC:
		puts_(&b, "TOPIC ");
		put_text(&b, ev->room, ev->room_len);
		puts_(&b, " :");
		put_text(&b, ev->text, ev->text_len);
		break;
	case EV_KICK:
		puts_(&b, "KICK ");
		put_text(&b, ev->room, ev->room_len);
		put(&b, " ", 1);
		put_text(&b, ev->target, ev->target_len);
		puts_(&b, " :");
		if (ev->text_len > 0)
			put_text(&b, ev->text, ev->text_len);
		else
			put_text(&b, ev->nick, ev->nick_len);
		break;
	case EV_MODE:
		puts_(&b, "MODE ");
		put_text(&b, ev->room, ev->room_len);
		put(&b, " ", 1);
		put_text(&b, ev->text, ev->text_len);
		break;
	case EV_TAGMSG:
		puts_(&b, "TAGMSG ");
		if (ev->room_len > 0)
			put_text(&b, ev->room, ev->room_len);
		else
			put_text(&b, ev->target, ev->target_len);
		break;
	case EV_AWAY:
		puts_(&b, "AWAY");
		if (ev->text_len > 0) {
			puts_(&b, " :");
			put_text(&b, ev->text, ev->text_len);
		}
		break;
	}
	put(&b, "\r\n", 2);
	b.m->len = (uint32_t)b.len;
	if ((shrunk = realloc(b.m, sizeof(*b.m) + b.len)) != NULL)
		b.m = shrunk;
	return b.m;
}

struct msg *
ircmsg_printf(const char *fmt, ...)
{
	char		 line[PRINTF_MAX];
	struct msg	*m;
	va_list		 ap;
	int		 n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (fault_fail(FAULT_MSG) ||
	    (m = malloc(sizeof(*m) + 3 * (size_t)n + 2)) == NULL)
		return NULL;
	atomic_init(&m->refs, 1);
	m->len = (uint32_t)ircmsg_sanitize(line, (size_t)n, m->data);
	memcpy(m->data + m->len, "\r\n", 2);
	m->len += 2;
	return m;
}

size_t
ircmsg_isupport(const struct ircmsg_limits *l, char *buf, size_t cap,
    const char **tokens, size_t ntokens)
{
	size_t	 n = 0, used = 0;
	int	 w;

#define TOKEN(...) do {							\
	if (n + 1 < ntokens && used < cap &&				\
	    (w = snprintf(buf + used, cap - used, __VA_ARGS__)) >= 0 &&	\
	    (size_t)w < cap - used) {					\
		tokens[n++] = buf + used;				\
		used += (size_t)w + 1;					\
	}								\
} while (0)
	TOKEN("AWAYLEN=%zu", l->awaylen);
	TOKEN("CASEMAPPING=ascii");
	TOKEN("CHANLIMIT=#:%zu", l->chanlimit);
	TOKEN("CHANMODES=b,,,nst");
	TOKEN("CHANNELLEN=%zu", l->channellen);
	TOKEN("CHANTYPES=#");
	TOKEN("CHATHISTORY=%zu", l->history);
	TOKEN("KICKLEN=%zu", l->kicklen);
	TOKEN("MODES=4");
	TOKEN("MSGREFTYPES=msgid,timestamp");
	TOKEN("NETWORK=%s", l->network);
	TOKEN("NICKLEN=%zu", l->nicklen);
	TOKEN("PREFIX=(ov)@+");
	TOKEN("TARGMAX=JOIN:,KICK:,PART:,PRIVMSG:4,NOTICE:4");
	TOKEN("TOPICLEN=%zu", l->topiclen);
	TOKEN("UTF8ONLY");
#undef TOKEN
	tokens[n] = NULL;
	return n;
}
