/*
 * hostile_server.c - a fake chatd that sends what the real one never
 * would: terminal escapes, C1 controls, a bare 0x9B byte, invalid
 * UTF-8, DEL, a CR in mid-line.  chat_pipe.sh runs chat against it to
 * show that the client, not only the server, keeps control characters
 * off the terminal.
 *
 * Usage: hostile_server PATH
 * Listens on the UNIX-domain socket PATH, prints "ready" on stdout,
 * serves one client (the lines, then reads until its /quit or close)
 * and exits 0.  A 10 s alarm bounds it.
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char lines[] =
    "-- welcome to chatd, you are guest1 (1 online; /help lists the "
    "commands)\r\n"
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
	alarm(10);
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
