/*
 * fuzz_irc.c - IRC wire text (ircmsg.c) on any line.
 *
 * The whole input is one line, as the framer hands it over (any bytes:
 * irc.c parses before it checks UTF-8, to name the command in the
 * error).  Checked:
 *  - ircmsg_parse() finds a command in any line with a non-blank byte
 *    outside its tags and source, and every pointer it gives lies in
 *    the line, with at most IRC_PARAMS_MAX parameters;
 *  - the client tags ircmsg_client_tags() copies fit the buffer, are
 *    NUL-terminated and each starts with '+' (a NUL inside is the
 *    client's, and rendering replaces it);
 *  - ircmsg_tag() stays in a buffer of any size and NUL-terminates it;
 *  - ircmsg_sanitize() of the line is valid UTF-8, fits 3 bytes a byte
 *    in, and holds no control but IRC's formatting codes and \x01;
 *  - an event whose text, nick and client tags are taken from the
 *    line renders, under every tag flag, to one line: valid UTF-8 that
 *    ends in its only CR LF and holds no NUL.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ircmsg.h"
#include "utf8.h"

static bool
inside(const char *p, size_t len, const char *line, size_t line_len)
{
	return p >= line && p + len <= line + line_len;
}

static void
check_parse(const char *line, size_t len)
{
	struct ircmsg	 m;
	size_t		 i;

	if (ircmsg_parse(line, len, &m) == -1)
		return;
	FUZZ_ASSERT(m.cmd_len > 0 && inside(m.cmd, m.cmd_len, line, len));
	FUZZ_ASSERT(memchr(m.cmd, ' ', m.cmd_len) == NULL);
	FUZZ_ASSERT(m.tags == NULL || inside(m.tags, m.tags_len, line, len));
	FUZZ_ASSERT(m.source == NULL || inside(m.source, m.source_len, line,
	    len));
	FUZZ_ASSERT(m.nparams <= IRC_PARAMS_MAX);
	for (i = 0; i < m.nparams; i++)
		FUZZ_ASSERT(inside(m.params[i], m.lens[i], line, len));
	/* All but the last are middles: no space, not empty. */
	for (i = 0; i + 1 < m.nparams; i++)
		FUZZ_ASSERT(m.lens[i] > 0 &&
		    memchr(m.params[i], ' ', m.lens[i]) == NULL);
}

static void
check_tags(const char *line, size_t len)
{
	struct ircmsg	 m;
	char		 out[64], *v;
	size_t		 n, i, cap;

	if (ircmsg_parse(line, len, &m) == -1)
		return;
	n = ircmsg_client_tags(&m, out, sizeof(out));
	FUZZ_ASSERT(n < sizeof(out) && out[n] == '\0');
	for (i = 0; i < n; i++)
		FUZZ_ASSERT((i > 0 || out[i] == '+') &&
		    (out[i] != ';' || out[i + 1] == '+'));
	/* In a buffer of exactly cap bytes, for ASan to see its end. */
	for (cap = 1; cap <= 9; cap += 4) {
		if ((v = malloc(cap)) == NULL)
			fuzz_fail("out of memory");
		if (ircmsg_tag(&m, "a", v, cap))
			FUZZ_ASSERT(strlen(v) < cap);
		free(v);
	}
}

static void
check_sanitize(const char *line, size_t len)
{
	char		*out;
	size_t		 n, i, k;
	uint32_t	 cp;

	if ((out = malloc(3 * len + 1)) == NULL)
		fuzz_fail("out of memory");
	n = ircmsg_sanitize(line, len, out);
	FUZZ_ASSERT(n <= 3 * len);
	FUZZ_ASSERT(utf8_valid(out, n, NULL));
	for (i = 0; i < n; i += k) {
		k = utf8_decode(out + i, n - i, &cp);
		FUZZ_ASSERT(k > 0);
		FUZZ_ASSERT(ircmsg_is_format_code(cp) ||
		    (!utf8_is_control(cp) && cp != '\t'));
	}
	free(out);
}

static void
check_render(const char *line, size_t len)
{
	static const enum event_kind kinds[] = { EV_SAY, EV_ME, EV_PRIVATE,
	    EV_USER_NOTICE, EV_PART, EV_QUIT, EV_TOPIC, EV_KICK, EV_AWAY,
	    EV_NOTICE, EV_TAGMSG };
	struct event	*ev;
	struct msg	*m;
	size_t		 nick_len = len < 8 ? len : 8, i;
	unsigned	 flags;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		ev = event_new_tagged(kinds[i], 7, 1000, "#r", 2, line,
		    nick_len, "u@h", 3, line, nick_len, line, len, line,
		    len < 100 ? len : 100);
		if (ev == NULL)
			fuzz_fail("out of memory");
		for (flags = 0; flags < 4; flags++) {
			if ((m = ircmsg_event(ev, "srv", flags, flags == 3 ?
			    "b1" : NULL)) == NULL)
				fuzz_fail("out of memory");
			FUZZ_ASSERT(m->len >= 2 && memcmp(m->data + m->len - 2,
			    "\r\n", 2) == 0);
			FUZZ_ASSERT(memchr(m->data, '\r', m->len - 2) == NULL);
			FUZZ_ASSERT(memchr(m->data, '\n', m->len - 2) == NULL);
			FUZZ_ASSERT(memchr(m->data, '\0', m->len) == NULL);
			FUZZ_ASSERT(utf8_valid(m->data, m->len, NULL));
			msg_unref(m);
		}
		event_unref(ev);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*line;

	/* A buffer of exactly the line's size: ASan sees a read past it. */
	if ((line = malloc(size > 0 ? size : 1)) == NULL)
		fuzz_fail("out of memory");
	if (size > 0)
		memcpy(line, data, size);
	check_parse(line, size);
	check_tags(line, size);
	check_sanitize(line, size);
	check_render(line, size);
	free(line);
	return 0;
}
