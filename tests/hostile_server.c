/*
 * hostile_server.c - a fake chatd that sends what the real one never
 * would: terminal escapes, C1 controls, a bare 0x9B byte, invalid
 * UTF-8, DEL, a CR in mid-line, bidi controls in the text, and a
 * welcome and a nick change whose nicks are made of escapes, C1 and
 * bidi controls, so that they end up in the client's prompt.
 * chat_pipe.sh and chat_tty.sh run chat against it to show that the
 * client, not only the server, keeps control characters off the
 * terminal, its prompt and its title included.
 *
 * With "rooms", it plays a protocol v2 server instead: a plain welcome,
 * then an answer to each of the room commands the tests type, which
 * shows that the client sent them as typed.  /join #rust answers as
 * chatd does, with a replay (one line from 2001, one stamped now) and
 * lines labelled with another room; /join #evil names a room made of
 * escapes and bidi controls, and labels a line with another one;
 * /join #long names a room far wider than the prompt.
 *
 * Usage: hostile_server PATH [rooms]
 * Listens on the UNIX-domain socket PATH, prints "ready" on stdout,
 * serves one client (the lines, or the answers, until its /quit or
 * close) and exits 0.  A 30 s alarm bounds it.
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * The nick the welcome gives us: OSC 2 (the terminal's title), a C1 OSC
 * with its C1 ST, and RLO.  No space, so that it is taken as a nick.
 */
#define WELCOME_NICK \
    "\033]2;pwned\007\xc2\x9d" "2;c1\xc2\x9c\xe2\x80\xae" "guest1"

/* Then the one it changes to: OSC 52 (the clipboard), CSI, C1 CSI, FSI, DEL. */
#define NEW_NICK \
    "\033]52;c;cHduZWQ=\007\033[2J\xc2\x9b" "7m\xe2\x81\xa8" "eve\x7f"

static const char lines[] =
    "-- welcome to chatd, you are " WELCOME_NICK " (1 online; /help "
    "lists the commands)\r\n"
    "-- " WELCOME_NICK " is now known as " NEW_NICK "\r\n"
    "<eve> bidi \xe2\x80\xae" "RLO\xe2\x80\xac" "PDF \xe2\x80\xaa"	/* U+202E, C, A */
    "LRE \xe2\x81\xa6" "LRI\xe2\x81\xa9" "PDI \xe2\x80\x8e"	/* U+2066, 9, 200E */
    "LRM \xe2\x80\x8f" "RLM \xd8\x9c" "ALM\r\n"		/* U+200F, 061C */
    "<eve> kept \xe2\x80\xa9 \xe2\x80\xaf \xe2\x80\x8d"	/* U+2029, 202F, ZWJ */
    " \xe2\x81\xaa \xd8\x9d\r\n"				/* U+206A, 061D */
    "<eve> \033[2J\033[31mred\033[0m\r\n"			/* CSI */
    "<eve> \033]0;owned\007title\r\n"				/* OSC */
    "<eve> c1 \xc2\x9b" "31m csi\r\n"				/* U+009B */
    "<eve> bare \x9b" "31m byte\r\n"				/* 0x9B */
    "<eve> bad \xff\xfe utf8 \xc0\xaf\r\n"
    "<eve> del \x7f and cr \r in the middle\r\n"
    "* eve \033[5mblinks\r\n"
    "!! \033[8mhidden\r\n"
    "<eve> 漢字 😀 fine\r\n";

/*
 * A room whose name is OSC 2 (the title), CSI, RLO, FSI and a C1 CSI:
 * 23 columns once sanitised, so that the prompt shows it whole.
 */
#define EVIL_ROOM \
    "#\033]2;pwned\007\033[31mevil\xe2\x80\xae\xe2\x81\xa8\xc2\x9b"

/* A label that is OSC 52 (the clipboard), LRI and DEL. */
#define EVIL_LABEL	"#\033]52;c;cHduZWQ=\007\xe2\x81\xa6x\x7f"

/* What the rooms mode answers to each line the client sends. */
static const struct answer {
	const char	*line;
	const char	*reply;
	const char	*now_line;	/* then "[NOW] " and this, or NULL */
	const char	*more;		/* then this, or NULL */
} answers[] = {
	{ "/join #rust",
	    "-- now talking in #rust (3 online)\r\n"
	    "-- topic: Rust talk\r\n"
	    "-- history of #rust, last 2 lines:\r\n"
	    "[2001-02-03T04:05:06Z] <alice> said long ago\r\n",
	    "* bob waves today\r\n",
	    "-- end of history\r\n"
	    "#go <carol> hello from go\r\n"
	    "#go -- dave joined\r\n" },
	{ "/rooms",
	    "-- 2 rooms:\r\n"
	    "-- #rust 3 online: Rust talk\r\n"
	    "-- #go 2 online\r\n", NULL, NULL },
	{ "/topic", "-- topic of #rust: Rust talk\r\n", NULL, NULL },
	{ "/history 1",
	    "-- history of #rust, last 1 lines:\r\n"
	    "[2001-02-03T04:05:06.5Z] <alice> said long ago\r\n"
	    "-- end of history\r\n", NULL, NULL },
	{ "/join #evil",
	    "-- now talking in " EVIL_ROOM " (1 online)\r\n"
	    EVIL_LABEL " <eve> \033[2Jboo\r\n"
	    EVIL_ROOM " -- eve set the topic: \033]0;owned\007\r\n",
	    NULL, NULL },
	{ "/join #long",
	    "-- now talking in #long-long-long-long-long-long-long-long-"
	    "long-long-long (1 online)\r\n", NULL, NULL },
	{ "/part",
	    "-- you left #rust\r\n"
	    "-- you are in no room; /join #room to talk\r\n", NULL, NULL },
};

static bool
send_all(int fd, const char *s, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, s, len)) <= 0) {
			perror("hostile_server: write");
			return false;
		}
		s += n;
		len -= (size_t)n;
	}
	return true;
}

/* "[NOW] " in UTC, as chatd stamps a replayed line. */
static bool
send_now(int fd)
{
	char		now[32];
	time_t		t = time(NULL);
	struct tm	tm;
	size_t		n;

	if (gmtime_r(&t, &tm) == NULL ||
	    (n = strftime(now, sizeof now, "[%Y-%m-%dT%H:%M:%SZ] ", &tm)) == 0)
		return false;
	return send_all(fd, now, n);
}

/* The answer to one line; false when the client is done. */
static bool
answer(int fd, const char *line)
{
	const struct answer	*a;
	char			 out[512];
	size_t			 i;
	int			 n;

	if (strcmp(line, "/quit") == 0 || strncmp(line, "/quit ", 6) == 0) {
		send_all(fd, "-- bye\r\n", 8);
		return false;
	}
	for (i = 0; i < sizeof answers / sizeof answers[0]; i++) {
		a = &answers[i];
		if (strcmp(line, a->line) != 0)
			continue;
		if (!send_all(fd, a->reply, strlen(a->reply)))
			return false;
		if (a->now_line != NULL && (!send_now(fd) ||
		    !send_all(fd, a->now_line, strlen(a->now_line))))
			return false;
		return a->more == NULL || send_all(fd, a->more,
		    strlen(a->more));
	}
	n = snprintf(out, sizeof out, "!! hostile_server: no answer to "
	    "'%.200s'\r\n", line);
	return send_all(fd, out, (size_t)n);
}

/* Rooms mode: a welcome, then an answer to each line until /quit. */
static void
serve_rooms(int fd)
{
	static const char	welcome[] = "-- welcome to chatd, you are "
	    "guest1 (1 online; /help lists the commands)\r\n";
	char			buf[4096], *nl, *start;
	size_t			len = 0;
	ssize_t			n;

	if (!send_all(fd, welcome, sizeof welcome - 1))
		return;
	while ((n = read(fd, buf + len, sizeof buf - 1 - len)) > 0) {
		len += (size_t)n;
		start = buf;
		while ((nl = memchr(start, '\n', len - (size_t)(start -
		    buf))) != NULL) {
			*nl = '\0';
			if (nl > start && nl[-1] == '\r')
				nl[-1] = '\0';
			if (!answer(fd, start))
				return;
			start = nl + 1;
		}
		len -= (size_t)(start - buf);
		memmove(buf, start, len);
		if (len == sizeof buf - 1)
			len = 0;	/* a line too long: dropped */
	}
}

int
main(int argc, char *argv[])
{
	struct sockaddr_un	sun;
	char			buf[512];
	size_t			len = 0;
	ssize_t			n;
	int			lfd, fd;
	bool			rooms;

	rooms = argc == 3 && strcmp(argv[2], "rooms") == 0;
	if ((argc != 2 && !rooms) ||
	    strlen(argv[1]) >= sizeof sun.sun_path) {
		fprintf(stderr, "usage: hostile_server PATH [rooms]\n");
		return 2;
	}
	alarm(30);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, argv[1], strlen(argv[1]) + 1);
	if ((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(lfd, 1) == -1) {
		perror("hostile_server");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	if ((fd = accept(lfd, NULL, NULL)) == -1) {
		perror("hostile_server: accept");
		return 1;
	}
	if (rooms) {
		serve_rooms(fd);
		goto done;
	}
	if (write(fd, lines, sizeof lines - 1) != (ssize_t)(sizeof lines - 1))
		perror("hostile_server: write");
	/* Until the client's /quit, or its close. */
	while ((n = read(fd, buf + len, sizeof buf - 1 - len)) > 0) {
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "/quit\n") != NULL)
			break;
		if (len == sizeof buf - 1)
			len = 0;
	}
done:
	close(fd);
	close(lfd);
	unlink(argv[1]);
	return 0;
}
