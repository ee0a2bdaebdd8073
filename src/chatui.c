/*
 * chatui.c - the pure parts of chat: options, line kinds, colours,
 * sanitising, display width, our nick and the prompt, and the reconnect
 * backoff.
 *
 * chatui.h states the contract.  Everything here works on byte strings
 * with lengths, since a received line may hold a NUL.
 */

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatui.h"
#include "utf8.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define SGR_RESET	"\033[0m"
#define SGR_STAMP	"\033[2m"	/* dim */
#define SGR_NOTICE	"\033[2m"
#define SGR_ERROR	"\033[1;31m"	/* bold red, which no nick uses */
#define SGR_BOLD	"\033[1m"

const char chatui_usage[] =
"Usage: chat [OPTION]... [HOST [PORT]]\n"
"       chat [OPTION]... --unix PATH\n"
"Talk in a chatd room.  On a terminal: line editing, history, colours and\n"
"incoming lines shown above the line being typed.  With standard input not\n"
"a terminal: send each input line, print what arrives, exit at the end.\n"
"\n"
"  -n, --nick NAME        take the nickname NAME\n"
"  -u, --unix PATH        connect to the UNIX-domain socket PATH\n"
"      --history FILE     keep the input history in FILE (default:\n"
"                         $XDG_STATE_HOME/chat/history, or\n"
"                         ~/.local/state/chat/history)\n"
"      --no-color         no colours (also when NO_COLOR is set)\n"
"      --no-reconnect     exit when the server goes away\n"
"  -h, --help             show this help and exit\n"
"  -V, --version          show the version and exit\n"
"\n"
"HOST defaults to 127.0.0.1 and PORT to 7777.  Lines starting with / are\n"
"commands for the server (/help lists them); /quit, Ctrl-D or Ctrl-C leave.\n"
"\n"
"Exit status: 0 on leaving, 1 when the server cannot be reached or is lost\n"
"(without reconnecting), 2 on a usage error.  See chat(1).\n";

enum {
	OPT_NO_COLOR = 256,
	OPT_NO_RECONNECT,
	OPT_HISTORY
};

static const struct option long_options[] = {
	{ "nick",		required_argument,	NULL, 'n' },
	{ "unix",		required_argument,	NULL, 'u' },
	{ "history",		required_argument,	NULL, OPT_HISTORY },
	{ "no-color",		no_argument,		NULL, OPT_NO_COLOR },
	{ "no-reconnect",	no_argument,		NULL, OPT_NO_RECONNECT },
	{ "help",		no_argument,		NULL, 'h' },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};

static enum chat_args_result
usage_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return CHAT_ARGS_USAGE;
}

/* A port is a decimal number from 1 to 65535, nothing else. */
static bool
port_ok(const char *s)
{
	unsigned long	v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	return v >= 1 && v <= 65535;
}

static enum chat_args_result
parse_operands(struct chat_args *a, int argc, char **argv, char *err,
    size_t errlen)
{
	int	left = argc - optind;

	if (left > 0 && a->unix_path != NULL)
		return usage_error(err, errlen,
		    "--unix takes no HOST or PORT ('%s')", argv[optind]);
	if (left > 2)
		return usage_error(err, errlen, "unexpected argument '%s'",
		    argv[optind + 2]);
	if (left >= 1) {
		if (argv[optind][0] == '\0')
			return usage_error(err, errlen, "empty HOST");
		a->host = argv[optind];
	}
	if (left == 2) {
		if (!port_ok(argv[optind + 1]))
			return usage_error(err, errlen, "bad PORT '%s': a "
			    "number from 1 to 65535", argv[optind + 1]);
		a->port = argv[optind + 1];
	}
	return CHAT_ARGS_RUN;
}

enum chat_args_result
chatui_parse_args(struct chat_args *a, int argc, char **argv, char *err,
    size_t errlen)
{
	int	ch;

	memset(a, 0, sizeof *a);
	a->host = CHATUI_DEFAULT_HOST;
	a->port = CHATUI_DEFAULT_PORT;
	if (errlen > 0)
		err[0] = '\0';

	optind = 0;	/* glibc: start afresh, so tests may parse again */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":n:u:hV", long_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (optarg[0] == '\0' || strlen(optarg) >
			    CHATUI_NICK_MAX || strchr(optarg, ' ') != NULL)
				return usage_error(err, errlen,
				    "bad nickname '%s'", optarg);
			a->nick = optarg;
			break;
		case 'u':
			if (optarg[0] == '\0')
				return usage_error(err, errlen,
				    "--unix needs a PATH");
			a->unix_path = optarg;
			break;
		case OPT_HISTORY:
			a->history = optarg;
			break;
		case OPT_NO_COLOR:
			a->no_color = true;
			break;
		case OPT_NO_RECONNECT:
			a->no_reconnect = true;
			break;
		case 'h':
			return CHAT_ARGS_HELP;
		case 'V':
			return CHAT_ARGS_VERSION;
		case ':':
			return usage_error(err, errlen,
			    "option '%s' needs an argument", argv[optind - 1]);
		default:
			return usage_error(err, errlen, "unknown option '%s'",
			    argv[optind - 1]);
		}
	}
	return parse_operands(a, argc, argv, err, errlen);
}

bool
chatui_want_colour(bool tty, const struct chat_args *a,
    const char *no_color_env)
{
	if (!tty || a->no_color)
		return false;
	return no_color_env == NULL || no_color_env[0] == '\0';
}

/* ---- Line kinds. ---- */

static bool
starts(const char *s, size_t len, const char *prefix)
{
	size_t	n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

/*
 * A nick runs from off up to the first space or terminator; it is not
 * empty.  Returns its length, or 0.
 */
static size_t
nick_span(const char *s, size_t len, size_t off, char end)
{
	size_t	i;

	for (i = off; i < len; i++) {
		if (s[i] == end)
			return i > off ? i - off : 0;
		if (s[i] == ' ')
			return 0;
	}
	return 0;
}

static void
set_line(struct chat_line *l, enum chat_kind kind, size_t nick_off,
    size_t nick_len, size_t text_off)
{
	l->kind = kind;
	l->nick_off = nick_off;
	l->nick_len = nick_len;
	l->text_off = text_off;
}

/* "*nick* text" at off: the text follows "* ". */
static bool
classify_private(const char *s, size_t len, size_t off, struct chat_line *l,
    enum chat_kind kind)
{
	size_t	n;

	if ((n = nick_span(s, len, off + 1, '*')) == 0)
		return false;
	if (off + 1 + n + 1 < len && s[off + 1 + n + 1] != ' ')
		return false;
	set_line(l, kind, off + 1, n, off + 1 + n + 1 +
	    (off + 1 + n + 1 < len ? 1 : 0));
	return true;
}

void
chatui_classify(const char *s, size_t len, struct chat_line *l)
{
	size_t	n;

	set_line(l, CHAT_LINE_OTHER, 0, 0, 0);
	if (starts(s, len, "-- ") || (len == 2 && starts(s, len, "--"))) {
		set_line(l, CHAT_LINE_NOTICE, 0, 0, len > 2 ? 3 : 2);
		return;
	}
	if (starts(s, len, "!! ") || (len == 2 && starts(s, len, "!!"))) {
		set_line(l, CHAT_LINE_ERROR, 0, 0, len > 2 ? 3 : 2);
		return;
	}
	if (starts(s, len, "-> *") &&
	    classify_private(s, len, 3, l, CHAT_LINE_PRIVATE_ECHO))
		return;
	if (starts(s, len, "<") && (n = nick_span(s, len, 1, '>')) > 0) {
		set_line(l, CHAT_LINE_CHAT, 1, n, 1 + n + 1 +
		    (1 + n + 1 < len && s[1 + n + 1] == ' ' ? 1 : 0));
		return;
	}
	if (starts(s, len, "* ") && (n = nick_span(s, len, 2, ' ')) > 0) {
		set_line(l, CHAT_LINE_ACTION, 2, n, 2 + n + 1);
		return;
	}
	if (starts(s, len, "*") && !starts(s, len, "* ") &&
	    classify_private(s, len, 0, l, CHAT_LINE_PRIVATE))
		return;
	set_line(l, CHAT_LINE_OTHER, 0, 0, 0);
}

/* ---- Colours. ---- */

/* Six normal and six bright colours, red and bright red left out. */
static const unsigned nick_colours[] = {
	32, 33, 34, 35, 36, 92, 93, 94, 95, 96
};

unsigned
chatui_nick_colour(const char *nick, size_t len)
{
	uint32_t	h = 2166136261u;	/* FNV-1a, 32 bits */
	size_t		i;
	unsigned char	c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)nick[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h ^= c;
		h *= 16777619u;
	}
	h ^= h >> 16;	/* FNV's low bits alone spread short names poorly */
	return nick_colours[h % nitems(nick_colours)];
}

/* ---- Sanitising. ---- */

static size_t
put_replacement(char *out)
{
	return utf8_encode(UTF8_REPLACEMENT, out);
}

/*
 * The bidi controls: embeddings, overrides and isolates (U+202A..U+202E,
 * U+2066..U+2069) and the marks (U+200E, U+200F, U+061C).  On a
 * terminal that does bidi they reorder what is shown, so a line can
 * read differently from what it says ("Trojan Source").  chatd relays
 * them in text, so the client is where they stop.
 */
static bool
is_bidi_control(uint32_t cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

size_t
chatui_sanitize(const char *in, size_t len, char *out)
{
	uint32_t	cp;
	size_t		i = 0, o = 0, n;

	while (i < len) {
		if ((n = utf8_decode(in + i, len - i, &cp)) == 0) {
			/* One stand-in per bad byte, then resync. */
			o += put_replacement(out + o);
			i++;
			continue;
		}
		if (cp == '\t')
			out[o++] = ' ';
		else if (utf8_is_control(cp) || is_bidi_control(cp))
			o += put_replacement(out + o);
		else {
			memcpy(out + o, in + i, n);
			o += n;
		}
		i += n;
	}
	return o;
}

/* ---- Width. ---- */

struct range {
	uint32_t	lo, hi;
};

/* Combining marks, zero-width and format characters: 0 columns. */
static const struct range zero_width[] = {
	{ 0x0300, 0x036f }, { 0x0483, 0x0489 }, { 0x0591, 0x05bd },
	{ 0x05bf, 0x05bf }, { 0x05c1, 0x05c2 }, { 0x05c4, 0x05c5 },
	{ 0x05c7, 0x05c7 }, { 0x0610, 0x061a }, { 0x064b, 0x065f },
	{ 0x0670, 0x0670 }, { 0x06d6, 0x06dc }, { 0x06df, 0x06e4 },
	{ 0x06e7, 0x06e8 }, { 0x06ea, 0x06ed }, { 0x0900, 0x0902 },
	{ 0x093a, 0x093a }, { 0x093c, 0x093c }, { 0x0941, 0x0948 },
	{ 0x094d, 0x094d }, { 0x0951, 0x0957 }, { 0x0e31, 0x0e31 },
	{ 0x0e34, 0x0e3a }, { 0x0e47, 0x0e4e }, { 0x1ab0, 0x1aff },
	{ 0x1dc0, 0x1dff }, { 0x200b, 0x200f }, { 0x202a, 0x202e },
	{ 0x2060, 0x2064 }, { 0x2066, 0x206f }, { 0x20d0, 0x20ff },
	{ 0x302a, 0x302d }, { 0x3099, 0x309a }, { 0xfe00, 0xfe0f },
	{ 0xfe20, 0xfe2f }, { 0xfeff, 0xfeff }, { 0x1f3fb, 0x1f3ff },
	{ 0xe0001, 0xe0001 }, { 0xe0020, 0xe007f }, { 0xe0100, 0xe01ef }
};

/* East Asian wide and full-width characters, and emoji: 2 columns. */
static const struct range double_width[] = {
	{ 0x1100, 0x115f }, { 0x231a, 0x231b }, { 0x2329, 0x232a },
	{ 0x23e9, 0x23ec }, { 0x23f0, 0x23f0 }, { 0x23f3, 0x23f3 },
	{ 0x25fd, 0x25fe }, { 0x2614, 0x2615 }, { 0x2648, 0x2653 },
	{ 0x267f, 0x267f }, { 0x2693, 0x2693 }, { 0x26a1, 0x26a1 },
	{ 0x26aa, 0x26ab }, { 0x26bd, 0x26be }, { 0x26c4, 0x26c5 },
	{ 0x26ce, 0x26ce }, { 0x26d4, 0x26d4 }, { 0x26ea, 0x26ea },
	{ 0x26f2, 0x26f3 }, { 0x26f5, 0x26f5 }, { 0x26fa, 0x26fa },
	{ 0x26fd, 0x26fd }, { 0x2705, 0x2705 }, { 0x270a, 0x270b },
	{ 0x2728, 0x2728 }, { 0x274c, 0x274c }, { 0x274e, 0x274e },
	{ 0x2753, 0x2755 }, { 0x2757, 0x2757 }, { 0x2795, 0x2797 },
	{ 0x27b0, 0x27b0 }, { 0x27bf, 0x27bf }, { 0x2b1b, 0x2b1c },
	{ 0x2b50, 0x2b50 }, { 0x2b55, 0x2b55 }, { 0x2e80, 0x303e },
	{ 0x3041, 0x33ff }, { 0x3400, 0x4dbf }, { 0x4e00, 0x9fff },
	{ 0xa000, 0xa4cf }, { 0xa960, 0xa97f }, { 0xac00, 0xd7a3 },
	{ 0xf900, 0xfaff }, { 0xfe10, 0xfe19 }, { 0xfe30, 0xfe6f },
	{ 0xff00, 0xff60 }, { 0xffe0, 0xffe6 }, { 0x16fe0, 0x16fe4 },
	{ 0x17000, 0x18cff }, { 0x1b000, 0x1b2ff }, { 0x1f004, 0x1f004 },
	{ 0x1f0cf, 0x1f0cf }, { 0x1f18e, 0x1f18e }, { 0x1f191, 0x1f19a },
	{ 0x1f200, 0x1f251 }, { 0x1f300, 0x1f64f }, { 0x1f680, 0x1f6ff },
	{ 0x1f7e0, 0x1f7eb }, { 0x1f90c, 0x1f9ff }, { 0x1fa70, 0x1faff },
	{ 0x20000, 0x2fffd }, { 0x30000, 0x3fffd }
};

static bool
in_ranges(uint32_t cp, const struct range *r, size_t n)
{
	size_t	lo = 0, hi = n, mid;

	if (n == 0 || cp < r[0].lo || cp > r[n - 1].hi)
		return false;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cp > r[mid].hi)
			lo = mid + 1;
		else if (cp < r[mid].lo)
			hi = mid;
		else
			return true;
	}
	return false;
}

int
chatui_cp_width(uint32_t cp)
{
	if (cp == '\t')
		return 1;	/* shown as a space */
	if (utf8_is_control(cp) || cp == 0)
		return 0;
	if (cp < 0x300)
		return 1;
	if (in_ranges(cp, zero_width, nitems(zero_width)))
		return 0;
	if (in_ranges(cp, double_width, nitems(double_width)))
		return 2;
	return 1;
}

size_t
chatui_width(const char *s, size_t len)
{
	uint32_t	cp;
	size_t		i = 0, n, w = 0;

	while (i < len) {
		if ((n = utf8_decode(s + i, len - i, &cp)) == 0) {
			w++;
			i++;
			continue;
		}
		w += (size_t)chatui_cp_width(cp);
		i += n;
	}
	return w;
}

/* ---- Rendering. ---- */

struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

/* Sizes are known in advance, so a failed append is a bug. */
static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n >= b->cap)
		abort();
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void
put_colour(struct buf *b, const char *nick, size_t len, const char *extra)
{
	char	sgr[32];

	snprintf(sgr, sizeof sgr, "\033[%s%um", extra,
	    chatui_nick_colour(nick, len));
	puts_(b, sgr);
}

static void
render_colour(struct buf *b, const char *s, size_t len,
    const struct chat_line *l)
{
	const char	*nick = s + l->nick_off, *text = s + l->text_off;
	size_t		 nlen = l->nick_len, tlen = len - l->text_off;

	switch (l->kind) {
	case CHAT_LINE_CHAT:
		puts_(b, "<");
		put_colour(b, nick, nlen, "");
		put(b, nick, nlen);
		puts_(b, SGR_RESET "> ");
		break;
	case CHAT_LINE_ACTION:
		puts_(b, SGR_BOLD "*" SGR_RESET " ");
		put_colour(b, nick, nlen, "");
		put(b, nick, nlen);
		puts_(b, SGR_RESET " ");
		break;
	case CHAT_LINE_PRIVATE_ECHO:
		puts_(b, SGR_BOLD "->" SGR_RESET " ");
		/* FALLTHROUGH */
	case CHAT_LINE_PRIVATE:
		put_colour(b, nick, nlen, "1;");
		puts_(b, "*");
		put(b, nick, nlen);
		puts_(b, "*" SGR_RESET " ");
		break;
	case CHAT_LINE_NOTICE:
		puts_(b, SGR_NOTICE "-- ");
		put(b, text, tlen);
		puts_(b, SGR_RESET);
		return;
	case CHAT_LINE_ERROR:
		puts_(b, SGR_ERROR "!! ");
		put(b, text, tlen);
		puts_(b, SGR_RESET);
		return;
	case CHAT_LINE_OTHER:
		put(b, s, len);
		return;
	}
	put(b, text, tlen);
}

char *
chatui_render(const char *line, size_t len, const char *stamp, bool colour)
{
	struct buf		 b;
	struct chat_line	 l;
	char			*clean;
	size_t			 clen;

	if ((clean = malloc(CHATUI_SANITIZED_MAX(len) + 1)) == NULL)
		return NULL;
	clen = chatui_sanitize(line, len, clean);

	/* Each part is added at most once: the line, twice its nick, SGRs. */
	b.cap = (stamp != NULL ? strlen(stamp) : 0) + 2 * clen + 128;
	b.len = 0;
	if ((b.p = malloc(b.cap)) == NULL) {
		free(clean);
		return NULL;
	}
	if (stamp != NULL) {
		if (colour)
			puts_(&b, SGR_STAMP);
		puts_(&b, stamp);
		if (colour)
			puts_(&b, SGR_RESET);
		puts_(&b, " ");
	}
	if (colour) {
		chatui_classify(clean, clen, &l);
		render_colour(&b, clean, clen, &l);
	} else
		put(&b, clean, clen);
	b.p[b.len] = '\0';
	free(clean);
	return b.p;
}

/* ---- Our own nick. ---- */

static const char welcome[] = "-- welcome to chatd, you are ";
static const char known_as[] = " is now known as ";

/*
 * A nick as we keep it: sanitised, exactly as chatui_render() shows it
 * in the lines above the prompt, into out (CHATUI_NICK_MAX + 1 bytes).
 * False when it is empty or too long, before or after.
 *
 * Sanitised rather than refused: the tracked nick must follow the
 * server's, or the next "-- OURS is now known as" would not be
 * recognised and a welcome would leave us not ready.  The old nick of a
 * change is sanitised the same way before it is compared, so following
 * still works, and the prompt shows what the lines show, U+FFFD where a
 * control was, never the control.  The real chatd sends no such nick.
 */
static bool
clean_nick(char *out, const char *s, size_t len)
{
	char	tmp[CHATUI_SANITIZED_MAX(CHATUI_NICK_MAX)];
	size_t	n;

	if (len == 0 || len > CHATUI_NICK_MAX)
		return false;
	if ((n = chatui_sanitize(s, len, tmp)) > CHATUI_NICK_MAX)
		return false;
	memcpy(out, tmp, n);
	out[n] = '\0';
	return true;
}

/* Whether the nick s[0..len) is ours, once sanitised as ours was. */
static bool
is_our_nick(const char *nick, const char *s, size_t len)
{
	char	clean[CHATUI_NICK_MAX + 1];

	return nick[0] != '\0' && clean_nick(clean, s, len) &&
	    strcmp(clean, nick) == 0;
}

bool
chatui_nick_change(const char *s, size_t len, const char **new,
    size_t *new_len)
{
	size_t	old, klen = strlen(known_as), off;

	if (!starts(s, len, "-- ") || (old = nick_span(s, len, 3, ' ')) == 0)
		return false;
	off = 3 + old;
	if (len - off <= klen || memcmp(s + off, known_as, klen) != 0)
		return false;
	off += klen;
	if (memchr(s + off, ' ', len - off) != NULL)
		return false;
	*new = s + off;
	*new_len = len - off;
	return true;
}

enum chat_nick_event
chatui_track_nick(const char *s, size_t len, char *nick)
{
	const char	*new;
	size_t		 n, new_len, wlen = strlen(welcome);

	if (starts(s, len, welcome) && (n = nick_span(s, len, wlen, ' ')) > 0)
		return clean_nick(nick, s + wlen, n) ? CHAT_NICK_WELCOME :
		    CHAT_NICK_NONE;
	if (!chatui_nick_change(s, len, &new, &new_len))
		return CHAT_NICK_NONE;
	/* chatui_nick_change() found the old nick: 3 up to a space. */
	n = nick_span(s, len, 3, ' ');
	if (!is_our_nick(nick, s + 3, n))
		return CHAT_NICK_NONE;
	return clean_nick(nick, new, new_len) ? CHAT_NICK_CHANGED :
	    CHAT_NICK_NONE;
}

void
chatui_prompt(const char *nick, size_t len, char *out)
{
	size_t	n;

	if (len == 0) {
		memcpy(out, "> ", 3);
		return;
	}
	if (len > CHATUI_NICK_MAX)
		len = CHATUI_NICK_MAX;
	out[0] = '[';
	n = 1 + chatui_sanitize(nick, len, out + 1);
	memcpy(out + n, "] ", 3);
}

/* ---- Reconnecting. ---- */

unsigned
chatui_backoff(unsigned attempt)
{
	if (attempt >= 5)
		return 30;
	return 1u << attempt;
}
