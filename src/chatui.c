/*
 * chatui.c - the pure parts of chat: options, line kinds (room labels
 * and replay times included), colours, sanitising, display width, our
 * nick, our room and the prompt, and the reconnect backoff.
 *
 * chatui.h states the contract.  Everything here works on byte strings
 * with lengths, since a received line may hold a NUL.
 */

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chatui.h"
#include "utf8.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define SGR_RESET	"\033[0m"
#define SGR_STAMP	"\033[2m"	/* dim */
#define SGR_NOTICE	"\033[2m"
#define SGR_ERROR	"\033[1;31m"	/* bold red, which no nick uses */
#define SGR_BOLD	"\033[1m"

#define ELLIPSIS	0x2026u

const char chatui_usage[] =
"Usage: chat [OPTION]... [HOST [PORT]]\n"
"       chat [OPTION]... --tls [--ca FILE | --insecure] [HOST [PORT]]\n"
"       chat [OPTION]... --unix PATH\n"
"Talk in chatd's rooms.  On a terminal: line editing, history, colours,\n"
"incoming lines shown above the line being typed, the room in the prompt.\n"
"With standard input not a terminal: send each input line, print what\n"
"arrives, exit at the end.\n"
"\n"
"  -n, --nick NAME        take the nickname NAME\n"
"  -u, --unix PATH        connect to the UNIX-domain socket PATH\n"
"      --history FILE     keep the input history in FILE (default:\n"
"                         $XDG_STATE_HOME/chat/history, or\n"
"                         ~/.local/state/chat/history)\n"
"      --no-color         no colours (also when NO_COLOR is set)\n"
"      --no-reconnect     exit when the server goes away\n"
"      --tls              connect with TLS (1.2 or later), verify the\n"
"                         server's certificate and host name\n"
"      --ca FILE          trust only the CA certificates in FILE (PEM)\n"
"                         instead of the system's\n"
"      --insecure         with --tls: do not verify the server at all\n"
"      --password-file FILE\n"
"                         first on each connection, send /pass and the\n"
"                         first line of FILE (a server's password)\n"
"  -h, --help             show this help and exit\n"
"  -V, --version          show the version and exit\n"
"\n"
"HOST defaults to 127.0.0.1 and PORT to 7777, or 7443 with --tls.  Lines\n"
"starting with / are commands for the server (/help lists them; /join #room\n"
"and /part change rooms); /quit, Ctrl-D or Ctrl-C leave.\n"
"\n"
"Exit status: 0 on leaving, 1 when the server cannot be reached, fails TLS\n"
"verification or is lost (without reconnecting), 2 on a usage error.  See\n"
"chat(1).\n";

enum {
	OPT_NO_COLOR = 256,
	OPT_NO_RECONNECT,
	OPT_HISTORY,
	OPT_TLS,
	OPT_CA,
	OPT_INSECURE,
	OPT_PASSWORD_FILE
};

static const struct option long_options[] = {
	{ "nick",		required_argument,	NULL, 'n' },
	{ "unix",		required_argument,	NULL, 'u' },
	{ "history",		required_argument,	NULL, OPT_HISTORY },
	{ "no-color",		no_argument,		NULL, OPT_NO_COLOR },
	{ "no-reconnect",	no_argument,		NULL, OPT_NO_RECONNECT },
	{ "tls",		no_argument,		NULL, OPT_TLS },
	{ "ca",			required_argument,	NULL, OPT_CA },
	{ "insecure",		no_argument,		NULL, OPT_INSECURE },
	{ "password-file",	required_argument,	NULL, OPT_PASSWORD_FILE },
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

	if (a->tls && a->unix_path != NULL)
		return usage_error(err, errlen,
		    "--tls is for TCP, not for --unix");
	if (a->ca_file != NULL && !a->tls)
		return usage_error(err, errlen, "--ca needs --tls");
	if (a->insecure && !a->tls)
		return usage_error(err, errlen, "--insecure needs --tls");
	if (a->insecure && a->ca_file != NULL)
		return usage_error(err, errlen, "--insecure and --ca "
		    "contradict each other: --insecure verifies nothing");
	if (a->tls)
		a->port = CHATUI_DEFAULT_TLS_PORT;
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
		case OPT_TLS:
			a->tls = true;
			break;
		case OPT_CA:
			if (optarg[0] == '\0')
				return usage_error(err, errlen,
				    "--ca needs a FILE");
			a->ca_file = optarg;
			break;
		case OPT_INSECURE:
			a->insecure = true;
			break;
		case OPT_PASSWORD_FILE:
			if (optarg[0] == '\0')
				return usage_error(err, errlen,
				    "--password-file needs a FILE");
			a->password_file = optarg;
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
chatui_password(const char *data, size_t len, char *out, size_t outsize,
    char *err, size_t errlen)
{
	const char	*nl;
	size_t		 n, i;

	if ((nl = memchr(data, '\n', len)) != NULL)
		len = (size_t)(nl - data);
	if (len > 0 && data[len - 1] == '\r')
		len--;
	if (len == 0) {
		snprintf(err, errlen, "the first line is empty");
		return false;
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)data[i] < 0x20 || data[i] == 0x7f) {
			snprintf(err, errlen, "the first line holds a control "
			    "character (byte %zu)", i + 1);
			return false;
		}
	}
	n = CHATUI_PASSWORD_MAX + 1;
	if (outsize < n)
		n = outsize;
	if (len >= n) {
		snprintf(err, errlen, "the password is longer than %zu bytes",
		    n - 1);
		return false;
	}
	memcpy(out, data, len);
	out[len] = '\0';
	return true;
}

enum chat_pass_event
chatui_track_pass(const char *s, size_t len)
{
	static const char	required[] = "-- password required";
	static const char	wrong[] = "!! wrong password";

	if (len >= sizeof required - 1 &&
	    memcmp(s, required, sizeof required - 1) == 0 &&
	    (len == sizeof required - 1 || s[sizeof required - 1] == ':'))
		return CHAT_PASS_REQUIRED;
	if (len == sizeof wrong - 1 && memcmp(s, wrong, len) == 0)
		return CHAT_PASS_WRONG;
	return CHAT_PASS_NONE;
}

bool
chatui_is_pass(const char *line)
{
	return strncasecmp(line, "/pass", 5) == 0 &&
	    (line[5] == '\0' || line[5] == ' ');
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

/* The kind of the v1 line s[0..len), its offsets counting from s. */
static void
classify_v1(const char *s, size_t len, struct chat_line *l)
{
	size_t	n;

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

/* A room label, "#room ": its length without the space, or 0. */
static size_t
label_span(const char *s, size_t len)
{
	const char	*sp;

	if (!starts(s, len, "#") || (sp = memchr(s, ' ', len)) == NULL ||
	    sp == s + 1)
		return 0;
	return (size_t)(sp - s);
}

/* A replay time, "[TIME] ": the length of TIME, or 0. */
static size_t
time_span(const char *s, size_t len)
{
	const char	*end;
	time_t		 t;
	size_t		 n;

	if (!starts(s, len, "[") || (end = memchr(s, ']', len)) == NULL)
		return 0;
	n = (size_t)(end - s) - 1;
	if (1 + n + 1 == len || end[1] != ' ' || !chatui_utc_time(s + 1, n, &t))
		return 0;
	return n;
}

void
chatui_classify(const char *s, size_t len, struct chat_line *l)
{
	size_t	n, inner = 0;

	memset(l, 0, sizeof *l);
	if ((n = label_span(s, len)) > 0) {
		l->label_len = n;
		inner = n + 1;
	} else if ((n = time_span(s, len)) > 0) {
		l->time_off = 1;
		l->time_len = n;
		inner = 1 + n + 2;
	}
	l->inner_off = inner;
	classify_v1(s + inner, len - inner, l);
	if (l->nick_len > 0)
		l->nick_off += inner;
	l->text_off += inner;
}

/* ---- Replay times. ---- */

/* n decimal digits, nothing else, into *v. */
static bool
digits(const char *s, size_t n, unsigned *v)
{
	size_t	i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return true;
}

static unsigned
month_days(unsigned year, unsigned month)
{
	static const unsigned char	days[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	bool				leap;

	leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return month == 2 && leap ? 29 : days[month - 1];
}

/*
 * Days from 1970-01-01 to a date of the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil): timegm() is not in POSIX, and
 * mktime() would read the local time zone.
 */
static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	long long	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (long long)(m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

bool
chatui_utc_time(const char *s, size_t len, time_t *t)
{
	unsigned	y, mo, d, h, mi, sec, frac;

	/* "YYYY-MM-DDTHH:MM:SS", then ".F" (1 to 9 digits) or not, "Z". */
	if (len < 20 || s[len - 1] != 'Z')
		return false;
	if (len > 20 && (s[19] != '.' || len - 21 < 1 || len - 21 > 9 ||
	    !digits(s + 20, len - 21, &frac)))
		return false;
	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) || s[10] != 'T' ||
	    !digits(s + 11, 2, &h) || s[13] != ':' ||
	    !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return false;
	/* 60 seconds: a leap second, as ISO 8601 allows. */
	if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 ||
	    mi > 59 || sec > 60)
		return false;
	*t = (time_t)(days_from_civil(y, mo, d) * 86400 + h * 3600 +
	    mi * 60 + sec);
	return true;
}

bool
chatui_replay_time(const char *line, size_t len, time_t *t)
{
	struct chat_line	l;

	chatui_classify(line, len, &l);
	return l.time_len > 0 && chatui_utc_time(line + l.time_off,
	    l.time_len, t);
}

bool
chatui_same_day(const struct tm *a, const struct tm *b)
{
	return a->tm_year == b->tm_year && a->tm_yday == b->tm_yday;
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

/*
 * The first code point of in[0..len) as it is shown, into out (4
 * bytes): its bytes written, *used the bytes it took of in, *shown the
 * code point written.
 */
static size_t
clean_next(const char *in, size_t len, char *out, size_t *used,
    uint32_t *shown)
{
	uint32_t	cp;
	size_t		n;

	if ((n = utf8_decode(in, len, &cp)) == 0) {
		/* One stand-in per bad byte, then resync. */
		*used = 1;
		*shown = UTF8_REPLACEMENT;
		return put_replacement(out);
	}
	*used = n;
	if (cp == '\t') {
		*shown = ' ';
		out[0] = ' ';
		return 1;
	}
	if (utf8_is_control(cp) || is_bidi_control(cp)) {
		*shown = UTF8_REPLACEMENT;
		return put_replacement(out);
	}
	*shown = cp;
	memcpy(out, in, n);
	return n;
}

size_t
chatui_sanitize(const char *in, size_t len, char *out)
{
	uint32_t	cp;
	size_t		i = 0, o = 0, used;

	while (i < len) {
		o += clean_next(in + i, len - i, out + o, &used, &cp);
		i += used;
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

size_t
chatui_fit(const char *in, size_t len, size_t cols, size_t bytes, char *out)
{
	char		unit[4];
	uint32_t	cp;
	size_t		i = 0, o = 0, w = 0, cut = 0, n, used, cw;

	/* cut: the longest start that still leaves room for the ellipsis. */
	while (i < len) {
		n = clean_next(in + i, len - i, unit, &used, &cp);
		cw = (size_t)chatui_cp_width(cp);
		if (o + n > bytes || w + cw > cols)
			return cut + utf8_encode(ELLIPSIS, out + cut);
		memcpy(out + o, unit, n);
		o += n;
		w += cw;
		i += used;
		if (o + 3 <= bytes && w + 1 <= cols)
			cut = o;
	}
	return o;
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
		break;
	}
	put(b, text, tlen);
}

/*
 * What comes before the inner line: for a script the prefix as it
 * came; for a reader a label as "[#room] ", and nothing for a replay
 * time, which the caller made the stamp.
 */
static void
render_prefix(struct buf *b, const char *s, const struct chat_line *l,
    int how)
{
	const char	*label = s + l->label_off;

	if ((how & CHATUI_READER) == 0) {
		put(b, s, l->inner_off);
		return;
	}
	if (l->label_len == 0)
		return;
	if (how & CHATUI_COLOUR)
		put_colour(b, label, l->label_len, "");
	puts_(b, "[");
	put(b, label, l->label_len);
	puts_(b, "]");
	if (how & CHATUI_COLOUR)
		puts_(b, SGR_RESET);
	puts_(b, " ");
}

char *
chatui_render(const char *line, size_t len, const char *stamp, int how)
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
		if (how & CHATUI_COLOUR)
			puts_(&b, SGR_STAMP);
		puts_(&b, stamp);
		if (how & CHATUI_COLOUR)
			puts_(&b, SGR_RESET);
		puts_(&b, " ");
	}
	chatui_classify(clean, clen, &l);
	render_prefix(&b, clean, &l, how);
	if (how & CHATUI_COLOUR)
		render_colour(&b, clean, clen, &l);
	else
		put(&b, clean + l.inner_off, clen - l.inner_off);
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

/* ---- Our room. ---- */

static const char now_talking[] = "-- now talking in ";
static const char no_room[] = "-- you are in no room";

enum chat_room_event
chatui_track_room(const char *s, size_t len, char *room)
{
	const char	*sp;
	size_t		 off = strlen(now_talking), n;

	n = strlen(no_room);
	if (starts(s, len, no_room) && (len == n || s[n] == ';')) {
		room[0] = '\0';
		return CHAT_ROOM_NOWHERE;
	}
	if (!starts(s, len, now_talking))
		return CHAT_ROOM_NONE;
	sp = memchr(s + off, ' ', len - off);
	n = sp != NULL ? (size_t)(sp - (s + off)) : len - off;
	if (n < 2 || s[off] != '#')
		return CHAT_ROOM_NONE;
	n = chatui_fit(s + off, n, CHATUI_ROOM_COLS, CHATUI_ROOM_MAX, room);
	room[n] = '\0';
	return CHAT_ROOM_NOW;
}

void
chatui_prompt(const char *nick, size_t len, const char *room,
    size_t room_len, char *out)
{
	size_t	n = 0;

	if (len == 0 && room_len == 0) {
		memcpy(out, "> ", 3);
		return;
	}
	if (len > CHATUI_NICK_MAX)
		len = CHATUI_NICK_MAX;
	out[n++] = '[';
	n += chatui_sanitize(nick, len, out + n);
	if (len > 0 && room_len > 0)
		out[n++] = ' ';
	if (room_len > 0)
		n += chatui_fit(room, room_len, CHATUI_ROOM_COLS,
		    CHATUI_ROOM_MAX, out + n);
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
