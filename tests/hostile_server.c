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
 * Usage: hostile_server PATH
 * Listens on the UNIX-domain socket PATH, prints "ready" on stdout,
 * serves one client (the lines, then reads until its /quit or close)
 * and exits 0.  A 30 s alarm bounds it.
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <stdio.h>
#include <string.h>
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

int
main(int argc, char *argv[])
{
	struct sockaddr_un	sun;
	char			buf[512];
	size_t			len = 0;
	ssize_t			n;
	int			lfd, fd;

	if (argc != 2 || strlen(argv[1]) >= sizeof sun.sun_path) {
		fprintf(stderr, "usage: hostile_server PATH\n");
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
	close(fd);
	close(lfd);
	unlink(argv[1]);
	return 0;
}
