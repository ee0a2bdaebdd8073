/*
 * chat.c - the terminal client of chatd.
 *
 * One thread and one ppoll() loop over standard input and the socket.
 *
 * On a terminal, GNU readline's callback interface owns the input line:
 * rl_callback_read_char() is called when standard input is readable,
 * and a received line is printed above the input line by clearing it
 * (rl_clear_visible_line()), writing the line and redrawing the prompt
 * with the typed text and the cursor where they were
 * (rl_forced_update_display()).  When the server goes away the client
 * reconnects with backoff, reclaims its nick, and sends the lines
 * typed meanwhile, which it kept in a bounded queue.
 *
 * The prompt names our nick and, once a v2 server has named it, our
 * current room.  Lines from other rooms show their room as a label, and
 * replayed history its own time as the stamp.  Commands are not ours to
 * judge: every line but /quit goes to the server as typed, /join and
 * /part included.
 *
 * With standard input not a terminal (a pipe, a file), there is no
 * readline: each input line is sent, what arrives is printed as plain
 * sanitised lines, and at the end of input the client sends /quit and
 * waits (briefly) until the server has answered everything before it,
 * so a script sees the echoes of its own lines.
 *
 * With --tls the connection is TLS (tlsclient.c): the handshake runs
 * right after connect(), bounded like it, and then every read and write
 * goes through the TLS session, which may want the socket readable for
 * a write or writable for a read; poll() asks for what it wants.  With
 * --password-file, "/pass SECRET" is the first line of each connection.
 *
 * What is shown, and how, is decided in chatui.c, which is unit tested;
 * this file does the I/O.
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <netdb.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "config.h"
#include "chatui.h"
#include "tlsclient.h"

#define INBUF_MAX	65536		/* longest received line shown whole */
#define OUTBUF_HIGH	65536		/* pipe mode: stop reading stdin above */
#define QUEUE_MAX	100		/* lines typed while disconnected */
#define HISTORY_MAX	1000		/* lines kept in the history file */
#define CONNECT_MS	5000		/* longest connect(), TLS handshake */
#define DRAIN_IDLE_MS	2000		/* pipe mode: wait for echoes after EOF */
#define QUIT_FLUSH_MS	1000		/* longest wait to send /quit */

struct chat {
	struct chat_args	 a;
	bool			 tty;		/* readline on a terminal */
	bool			 colour;
	char			 target[PATH_MAX + 64];	/* for messages */

	int			 fd;		/* -1 while disconnected */
	struct tlsclient	*tls;		/* with --tls, once connected */
	char			 password[CHATUI_PASSWORD_MAX + 1];
							/* "": none */
	char			*in;		/* received, not yet a line */
	size_t			 in_len;
	char			*out;		/* to send */
	size_t			 out_len;
	size_t			 out_cap;

	char			 nick[CHATUI_NICK_MAX + 1];	/* ours now */
	char			 want[CHATUI_NICK_MAX + 1];	/* to reclaim */
	char			 room[CHATUI_ROOM_MAX + 1];	/* ours; "": */
							/* none known */
	bool			 nick_pending;	/* /nick sent, no answer yet */
	bool			 pass_refused;	/* "!! wrong password" */
	bool			 ready;		/* queued lines may go */

	char			*queue[QUEUE_MAX];
	size_t			 q_head;
	size_t			 q_len;

	unsigned		 attempt;	/* reconnect attempts failed */
	long long		 retry_at;	/* ms, monotonic */

	/* Pipe mode. */
	char			*stdin_buf;
	size_t			 stdin_len;
	bool			 stdin_eof;
	bool			 quit_sent;
	long long		 drain_until;	/* ms, monotonic; idle bound */

	char			*history;	/* file, or NULL */
	int			 history_new;	/* lines added this run */
	bool			 rl_on;		/* line handler installed */
	bool			 in_handler;	/* inside on_line() */
	char			 prompt[CHATUI_PROMPT_MAX];
	bool			 prompt_dirty;	/* to be set at the next line */
	bool			 leaving;
	int			 status;	/* exit status when leaving */
	char			 farewell[PATH_MAX + 640];	/* to stderr */
};

static struct chat		*chat;		/* for the readline handler */
static volatile sig_atomic_t	 got_quit;	/* SIGINT, SIGTERM, SIGHUP */
static volatile sig_atomic_t	 got_winch;

static void	show(struct chat *, const char *, size_t);
static int	out_append(struct chat *, const char *, size_t);
static void	note(struct chat *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
on_signal(int sig)
{
	if (sig == SIGWINCH)
		got_winch = 1;
	else
		got_quit = 1;
}

/* ---- The socket, plain or TLS. ---- */

static ssize_t
sock_read(struct chat *c, void *buf, size_t len)
{
#ifdef HAVE_TLS
	if (c->tls != NULL)
		return tlsclient_read(c->tls, buf, len);
#endif
	return read(c->fd, buf, len);
}

static ssize_t
sock_write(struct chat *c, const void *buf, size_t len)
{
#ifdef HAVE_TLS
	if (c->tls != NULL)
		return tlsclient_write(c->tls, buf, len);
#endif
	return send(c->fd, buf, len, MSG_NOSIGNAL);
}

/* Why the last sock_read() or sock_write() failed. */
static const char *
sock_error(const struct chat *c)
{
#ifdef HAVE_TLS
	if (c->tls != NULL && errno == EPROTO)
		return tlsclient_error(c->tls);
#endif
	return strerror(errno);
}

/*
 * What poll() waits for: input, and room for output when some waits.
 * A TLS session may want the other one to go on with a read or a write.
 */
static short
sock_events(const struct chat *c)
{
	short	ev = POLLIN;

#ifdef HAVE_TLS
	if (c->tls != NULL) {
		ev = tlsclient_read_events(c->tls);
		if (c->out_len > 0 && tlsclient_write_events(c->tls) != 0)
			return ev | tlsclient_write_events(c->tls);
	}
#endif
	return ev | (c->out_len > 0 ? POLLOUT : 0);
}

/* Decrypted input that poll() cannot see. */
static bool
sock_pending(const struct chat *c)
{
#ifdef HAVE_TLS
	if (c->tls != NULL)
		return tlsclient_pending(c->tls);
#endif
	return false;
}

static void
sock_close(struct chat *c)
{
#ifdef HAVE_TLS
	tlsclient_free(c->tls);
#endif
	c->tls = NULL;
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
}

/* ---- Connecting. ---- */

/* connect() with a bound on the wait; fd is non-blocking. */
static int
connect_bounded(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLOUT };
	socklen_t	elen = sizeof(int);
	int		err = 0, n;

	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -1;
	while ((n = poll(&pfd, 1, CONNECT_MS)) == -1 && errno == EINTR)
		;
	if (n == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (n == -1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
		return -1;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

static int
connect_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		snprintf(err, errlen, "path too long");
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect_bounded(fd, (struct sockaddr *)&sun,
	    sizeof sun) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

static int
connect_tcp(const char *host, const char *port, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res, *ai;
	int		 fd = -1, rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s", gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1)
			continue;
		if (connect_bounded(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		rc = errno;
		close(fd);
		fd = -1;
		errno = rc;
	}
	if (fd == -1)
		snprintf(err, errlen, "%s", strerror(errno));
	freeaddrinfo(res);
	return fd;
}

#ifdef HAVE_TLS
/* The handshake on the new connection, bounded like connect(). */
static int
tls_start(struct chat *c, char *err, size_t errlen)
{
	struct tlsclient_config	 cfg = {
		.host = c->a.host,
		.ca_file = c->a.ca_file,
		.insecure = c->a.insecure
	};
	struct pollfd		 pfd = { .fd = c->fd };
	long long		 end = now_ms() + CONNECT_MS;
	int			 rc;

	if ((c->tls = tlsclient_new(c->fd, &cfg, err, errlen)) == NULL)
		return -1;
	while ((rc = tlsclient_handshake(c->tls, err, errlen)) == 0) {
		if (now_ms() >= end) {
			snprintf(err, errlen, "TLS handshake: no answer in "
			    "%d s (is it a TLS port?)", CONNECT_MS / 1000);
			return -1;
		}
		pfd.events = tlsclient_read_events(c->tls);
		if (poll(&pfd, 1, (int)(end - now_ms())) == -1 &&
		    errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
	}
	return rc == 1 ? 0 : -1;
}
#endif

static int
server_connect(struct chat *c, char *err, size_t errlen)
{
	if (c->a.unix_path != NULL)
		c->fd = connect_unix(c->a.unix_path, err, errlen);
	else
		c->fd = connect_tcp(c->a.host, c->a.port, err, errlen);
	c->in_len = 0;
	c->out_len = 0;
	c->nick_pending = false;
	c->pass_refused = false;
	c->ready = false;
	if (c->fd == -1)
		return -1;
#ifdef HAVE_TLS
	if (c->a.tls && tls_start(c, err, errlen) == -1) {
		sock_close(c);
		return -1;
	}
#endif
	/* The server asks for it before anything else (PROTOCOL.md). */
	if (c->password[0] != '\0') {
		char	pass[CHATUI_PASSWORD_MAX + 8];
		int	n;

		n = snprintf(pass, sizeof pass, "/pass %s", c->password);
		if (n < 0 || out_append(c, pass, (size_t)n) == -1) {
			snprintf(err, errlen, "out of memory");
			explicit_bzero(pass, sizeof pass);
			sock_close(c);
			return -1;
		}
		explicit_bzero(pass, sizeof pass);
	}
	return 0;
}

/* ---- Sending. ---- */

static int
out_append(struct chat *c, const char *s, size_t len)
{
	size_t	 cap;
	char	*p;

	if (c->out_len + len + 1 > c->out_cap) {
		cap = c->out_cap == 0 ? 4096 : c->out_cap;
		while (cap < c->out_len + len + 1)
			cap *= 2;
		if ((p = realloc(c->out, cap)) == NULL)
			return -1;
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, s, len);
	c->out_len += len;
	c->out[c->out_len++] = '\n';
	return 0;
}

/* Write what the socket takes now: 0, or -1 when the connection broke. */
static int
out_flush(struct chat *c)
{
	ssize_t	n;

	while (c->out_len > 0) {
		n = sock_write(c, c->out, c->out_len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n == -1)
			return -1;
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	return 0;
}

/* Send the line, or keep it until the connection is ready. */
static void
send_line(struct chat *c, const char *line)
{
	char	*copy;
	size_t	 slot;

	/* A password typed at the server's request goes before the welcome. */
	if (c->fd != -1 && (c->ready || chatui_is_pass(line))) {
		if (out_append(c, line, strlen(line)) == -1)
			note(c, "!! out of memory: line not sent");
		return;
	}
	if (c->q_len == QUEUE_MAX) {
		note(c, "!! not sent: %d lines already wait for the server "
		    "(the line is in the history)", QUEUE_MAX);
		return;
	}
	if ((copy = strdup(line)) == NULL) {
		note(c, "!! out of memory: line not sent");
		return;
	}
	slot = (c->q_head + c->q_len) % QUEUE_MAX;
	c->queue[slot] = copy;
	c->q_len++;
	if (c->fd == -1)
		note(c, "-- not connected: the line will be sent on "
		    "reconnecting (%zu waiting)", c->q_len);
}

static void
queue_flush(struct chat *c)
{
	char	*line;

	while (c->q_len > 0) {
		line = c->queue[c->q_head];
		c->q_head = (c->q_head + 1) % QUEUE_MAX;
		c->q_len--;
		if (out_append(c, line, strlen(line)) == -1)
			note(c, "!! out of memory: a queued line was not sent");
		free(line);
	}
}

/* ---- Showing. ---- */

static void
stamp_now(char *buf, size_t len)
{
	struct tm	tm;
	time_t		t = time(NULL);

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%H:%M", &tm) == 0)
		snprintf(buf, len, "--:--");
}

/*
 * A replayed line's stamp is when it was said, in local time, with the
 * date when that was not today: the notices around the replay say it
 * is history.
 */
static void
stamp_at(char *buf, size_t len, time_t t)
{
	struct tm	tm, today;
	time_t		now = time(NULL);
	size_t		n;

	if (localtime_r(&t, &tm) == NULL || localtime_r(&now, &today) == NULL)
		n = 0;
	else if (chatui_same_day(&tm, &today))
		n = strftime(buf, len, "%H:%M", &tm);
	else
		n = strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
	if (n == 0)
		snprintf(buf, len, "--:--");
}

/*
 * Print text above the input line, which readline then redraws with
 * the typed text and the cursor where they were.  Inside the line
 * handler readline is between two lines: the accepted one is erased
 * and the next prompt is not drawn yet, so the text goes out as it is.
 */
static void
print_above(struct chat *c, const char *text)
{
	bool	redraw = c->rl_on && !c->in_handler;

	if (redraw)
		rl_clear_visible_line();
	fputs(text, stdout);
	fputs("\n", stdout);
	if (c->rl_on && c->prompt_dirty) {
		/* Only while the line is cleared: readline redraws it right. */
		rl_set_prompt(c->prompt);
		c->prompt_dirty = false;
	}
	if (redraw)
		rl_forced_update_display();
	fflush(stdout);
}

/* A line received from the server. */
static void
show(struct chat *c, const char *line, size_t len)
{
	char	 stamp[CHATUI_STAMP_MAX], *text;
	time_t	 said;
	int	 how = (c->colour ? CHATUI_COLOUR : 0) |
		    (c->tty ? CHATUI_READER : 0);

	if (c->tty && chatui_replay_time(line, len, &said))
		stamp_at(stamp, sizeof stamp, said);
	else if (c->tty)
		stamp_now(stamp, sizeof stamp);
	text = chatui_render(line, len, c->tty ? stamp : NULL, how);
	if (text == NULL) {
		fputs("chat: out of memory\n", stderr);
		return;
	}
	if (c->tty)
		print_above(c, text);
	else
		printf("%s\n", text);
	free(text);
}

/* A message of the client's own, in the protocol's form ("-- ", "!! "). */
static void
note(struct chat *c, const char *fmt, ...)
{
	char	buf[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (!c->tty) {
		fprintf(stderr, "chat: %s\n", buf + 3);
		return;
	}
	show(c, buf, strlen(buf));
}

/*
 * The prompt names our nick and our room, which the server gave us:
 * chatui_prompt() sanitises them.  print_above() puts it on the screen.
 */
static void
set_prompt(struct chat *c)
{
	chatui_prompt(c->nick, strlen(c->nick), c->room, strlen(c->room),
	    c->prompt);
	c->prompt_dirty = true;
}

/* ---- Receiving. ---- */

static void
become_ready(struct chat *c)
{
	c->nick_pending = false;
	c->ready = true;
	queue_flush(c);
}

/*
 * Follow our room and our nick, and reclaim the wanted nick after a
 * (re)connect.
 */
static void
track(struct chat *c, const char *line, size_t len)
{
	switch (chatui_track_pass(line, len)) {
	case CHAT_PASS_REQUIRED:
		/* On a terminal the user may type /pass; a script cannot. */
		if (c->password[0] == '\0' && !c->tty) {
			snprintf(c->farewell, sizeof c->farewell, "chat: %s "
			    "asks for a password: give it with "
			    "--password-file FILE", c->target);
			c->leaving = true;
			c->status = 1;
		}
		return;
	case CHAT_PASS_WRONG:
		c->pass_refused = true;
		return;
	case CHAT_PASS_NONE:
		break;
	}
	if (chatui_track_room(line, len, c->room) != CHAT_ROOM_NONE)
		set_prompt(c);
	switch (chatui_track_nick(line, len, c->nick)) {
	case CHAT_NICK_WELCOME:
		set_prompt(c);
		if (c->want[0] != '\0' && strcmp(c->want, c->nick) != 0) {
			char	cmd[CHATUI_NICK_MAX + 8];

			snprintf(cmd, sizeof cmd, "/nick %s", c->want);
			if (out_append(c, cmd, strlen(cmd)) == 0) {
				c->nick_pending = true;
				return;
			}
		}
		become_ready(c);
		return;
	case CHAT_NICK_CHANGED:
		memcpy(c->want, c->nick, sizeof c->want);
		set_prompt(c);
		if (c->nick_pending)
			become_ready(c);
		return;
	case CHAT_NICK_NONE:
		break;
	}
	/* The nick we asked for was refused: go on with the one we have. */
	if (c->nick_pending && len >= 2 && memcmp(line, "!!", 2) == 0)
		become_ready(c);
}

static void
received(struct chat *c, const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	track(c, line, len);
	show(c, line, len);
}

/* Read what the socket has: 0, or -1 with reason when it is gone. */
static int
read_server(struct chat *c, const char **reason)
{
	ssize_t	 n;
	char	*nl, *start;

	for (;;) {
		if (c->in_len == INBUF_MAX) {
			received(c, c->in, c->in_len);	/* shown cut */
			c->in_len = 0;
		}
		n = sock_read(c, c->in + c->in_len, INBUF_MAX - c->in_len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			*reason = n == 0 ? "closed by the server" :
			    sock_error(c);
			return -1;
		}
		c->drain_until = now_ms() + DRAIN_IDLE_MS;
		c->in_len += (size_t)n;
		start = c->in;
		while ((nl = memchr(start, '\n', c->in_len -
		    (size_t)(start - c->in))) != NULL) {
			received(c, start, (size_t)(nl - start));
			start = nl + 1;
		}
		c->in_len -= (size_t)(start - c->in);
		memmove(c->in, start, c->in_len);
		if (!c->tty)
			fflush(stdout);
	}
}

/* ---- Losing the server, and finding it again. ---- */

static void
lost(struct chat *c, const char *reason)
{
	char	why[512];

	/* The reason may be the TLS session's, which goes now. */
	snprintf(why, sizeof why, "%s", reason);
	reason = why;
	sock_close(c);
	c->ready = false;
	/* A new connection starts in the default room, which is not named. */
	if (c->room[0] != '\0') {
		c->room[0] = '\0';
		set_prompt(c);
	}
	/* The file's password will not do better on the next connection. */
	if (c->pass_refused && c->a.password_file != NULL) {
		snprintf(c->farewell, sizeof c->farewell, "chat: %s refused "
		    "the password in %s", c->target, c->a.password_file);
		c->leaving = true;
		c->status = 1;
		return;
	}
	if (c->leaving)
		return;
	if (!c->tty || c->a.no_reconnect) {
		/* Said once the terminal is restored, below the last line. */
		snprintf(c->farewell, sizeof c->farewell,
		    "chat: lost the connection to %s: %s", c->target, reason);
		c->leaving = true;
		c->status = 1;
		return;
	}
	c->attempt = 0;
	c->retry_at = now_ms() + 1000LL * chatui_backoff(0);
	note(c, "-- lost the connection to %s (%s); reconnecting in %u s",
	    c->target, reason, chatui_backoff(0));
}

static void
reconnect(struct chat *c)
{
	char		err[256];
	unsigned	wait;

	if (server_connect(c, err, sizeof err) == 0) {
		note(c, "-- connected to %s again", c->target);
		c->attempt = 0;
		return;
	}
	c->attempt++;
	wait = chatui_backoff(c->attempt);
	c->retry_at = now_ms() + 1000LL * wait;
	note(c, "-- cannot connect to %s (%s); retrying in %u s", c->target,
	    err, wait);
}

/* ---- Input. ---- */

static bool
is_quit(const char *line)
{
	return strncasecmp(line, "/quit", 5) == 0 &&
	    (line[5] == '\0' || line[5] == ' ');
}

/* Send one input line; /quit also leaves. */
static void
input_line(struct chat *c, const char *line)
{
	if (is_quit(line)) {
		if (c->fd != -1)
			out_append(c, line, strlen(line));
		c->quit_sent = true;
		c->leaving = true;
		return;
	}
	if (line[0] == '\0')
		return;
	send_line(c, line);
}

/*
 * readline echoed the line it accepted and a newline.  The server
 * echoes what was sent, so the typed copy is erased: up as many
 * rows as prompt and line took (their width in columns over the
 * terminal's), then clear to the end of the screen.
 */
static void
erase_accepted(const char *line)
{
	const char	*prompt = rl_prompt != NULL ? rl_prompt : "";
	size_t		 width, rows;
	int		 h, w;

	rl_get_screen_size(&h, &w);
	if (w <= 0)
		return;
	width = chatui_width(prompt, strlen(prompt)) +
	    chatui_width(line, strlen(line));
	rows = width == 0 ? 1 : (width + (size_t)w - 1) / (size_t)w;
	printf("\033[%zuA\r\033[J", rows);
	fflush(stdout);
}

static void
on_line(char *line)
{
	struct chat	*c = chat;

	if (line == NULL) {		/* Ctrl-D */
		c->leaving = true;
		return;
	}
	c->in_handler = true;
	erase_accepted(line);
	/* A password is not kept in the history file. */
	if (line[0] != '\0' && !chatui_is_pass(line)) {
		add_history(line);
		c->history_new++;
	}
	input_line(c, line);
	free(line);
	if (c->prompt_dirty) {
		rl_set_prompt(c->prompt);
		c->prompt_dirty = false;
	}
	c->in_handler = false;
}

/* Pipe mode: read standard input, send each complete line. */
static void
read_stdin(struct chat *c)
{
	char	 buf[4096], *nl, *p;
	ssize_t	 n;
	size_t	 off = 0;

	n = read(STDIN_FILENO, buf, sizeof buf);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		c->stdin_eof = true;
		if (c->stdin_len > 0) {	/* a last line without newline */
			c->stdin_buf[c->stdin_len] = '\0';
			input_line(c, c->stdin_buf);
			c->stdin_len = 0;
		}
		return;
	}
	while (off < (size_t)n) {
		nl = memchr(buf + off, '\n', (size_t)n - off);
		p = nl != NULL ? nl : buf + n;
		if (c->stdin_len + (size_t)(p - (buf + off)) < INBUF_MAX) {
			memcpy(c->stdin_buf + c->stdin_len, buf + off,
			    (size_t)(p - (buf + off)));
			c->stdin_len += (size_t)(p - (buf + off));
		}
		off = (size_t)(p - buf) + (nl != NULL ? 1 : 0);
		if (nl == NULL)
			break;
		if (c->stdin_len > 0 && c->stdin_buf[c->stdin_len - 1] == '\r')
			c->stdin_len--;
		c->stdin_buf[c->stdin_len] = '\0';
		c->stdin_len = 0;
		input_line(c, c->stdin_buf);
		if (c->leaving)
			return;
	}
}

/* ---- Set-up and leaving. ---- */

/* mkdir -p, mode 0700: the history is nobody else's business. */
static void
mkdir_p(char *dir)
{
	char	*p;

	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(dir, 0700);
		*p = '/';
	}
	mkdir(dir, 0700);
}

/* --history, $XDG_STATE_HOME/chat/history or ~/.local/state/chat/history. */
static char *
history_path(const struct chat_args *a)
{
	const char	*base = getenv("XDG_STATE_HOME"), *home;
	char		 dir[PATH_MAX], *path;
	int		 n;

	if (a->history != NULL)
		return strdup(a->history);
	/* The XDG spec: a relative path is invalid and is ignored. */
	if (base != NULL && base[0] == '/')
		n = snprintf(dir, sizeof dir, "%s/chat", base);
	else if ((home = getenv("HOME")) != NULL && home[0] == '/')
		n = snprintf(dir, sizeof dir, "%s/.local/state/chat", home);
	else
		return NULL;
	if (n < 0 || (size_t)n >= sizeof dir)
		return NULL;
	mkdir_p(dir);
	if (asprintf(&path, "%s/history", dir) == -1)
		return NULL;
	return path;
}

static void
history_save(struct chat *c)
{
	int	fd;

	if (c->history == NULL || c->history_new == 0)
		return;
	/* append_history() wants the file to exist. */
	if ((fd = open(c->history, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) != -1)
		close(fd);
	if (append_history(c->history_new, c->history) != 0 ||
	    history_truncate_file(c->history, HISTORY_MAX) != 0)
		fprintf(stderr, "chat: cannot save the history in %s\n",
		    c->history);
}

static void
tty_start(struct chat *c)
{
	rl_readline_name = "chat";
	rl_catch_signals = 0;		/* ours: leave cleanly */
	rl_catch_sigwinch = 0;
	using_history();
	stifle_history(HISTORY_MAX);
	c->history = history_path(&c->a);
	if (c->history != NULL)
		read_history(c->history);	/* none yet is fine */
	chatui_prompt("", 0, "", 0, c->prompt);
	rl_callback_handler_install(c->prompt, on_line);
	c->rl_on = true;
}

static void
tty_stop(struct chat *c)
{
	if (!c->rl_on)
		return;
	rl_callback_sigcleanup();
	rl_clear_visible_line();
	rl_callback_handler_remove();
	c->rl_on = false;
	fflush(stdout);
	history_save(c);
	clear_history();
}

/*
 * Send /quit (unless sent) and what is still unsent, then wait for the
 * server to close, so that it sees a quit, not a broken connection.
 * Bounded: a server that does not answer does not keep us.
 */
static void
say_goodbye(struct chat *c)
{
	struct pollfd	pfd;
	long long	end = now_ms() + QUIT_FLUSH_MS;
	char		buf[4096];
	ssize_t		n;

	if (c->fd == -1)
		return;
	if (!c->quit_sent)
		out_append(c, "/quit", 5);
	c->quit_sent = true;
	pfd.fd = c->fd;
	while (now_ms() < end) {
		if (out_flush(c) == -1)
			return;
		pfd.events = sock_events(c);
		if (!sock_pending(c) &&
		    poll(&pfd, 1, (int)(end - now_ms())) <= 0)
			return;
		while ((n = sock_read(c, buf, sizeof buf)) > 0)
			;	/* "-- bye" and the rest: nobody looks now */
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			return;
	}
}

static void
signals_init(sigset_t *old)
{
	struct sigaction	sa;
	sigset_t		block;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Delivered only inside ppoll(), so none is missed between checks. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGWINCH);
	sigprocmask(SIG_BLOCK, &block, old);
}

/* ---- The loop. ---- */

/* Pipe mode at the end of input: /quit, then drain until idle or closed. */
static void
pipe_finish(struct chat *c)
{
	if (c->tty || !c->stdin_eof || c->quit_sent || !c->ready)
		return;
	out_append(c, "/quit", 5);
	c->quit_sent = true;
	c->drain_until = now_ms() + DRAIN_IDLE_MS;
}

static int
poll_timeout(struct chat *c)
{
	long long	due = -1, t;

	if (c->fd != -1 && sock_pending(c))
		return 0;
	if (c->fd == -1 && !c->leaving)
		due = c->retry_at;
	else if (!c->tty && c->quit_sent)
		due = c->drain_until;
	if (due == -1)
		return -1;
	t = due - now_ms();
	return t < 0 ? 0 : (int)(t > INT_MAX ? INT_MAX : t);
}

static void
step(struct chat *c, const sigset_t *mask)
{
	struct pollfd	 pfd[2];
	struct timespec	 ts, *tsp = NULL;
	const char	*reason = NULL;
	nfds_t		 n = 0;
	int		 in = -1, sock = -1, t;
	bool		 want_stdin;

	want_stdin = c->tty || (!c->stdin_eof && c->ready && !c->quit_sent &&
	    c->out_len < OUTBUF_HIGH);
	if (want_stdin) {
		pfd[n].fd = STDIN_FILENO;
		pfd[n].events = POLLIN;
		in = (int)n++;
	}
	if (c->fd != -1) {
		pfd[n].fd = c->fd;
		pfd[n].events = sock_events(c);
		sock = (int)n++;
	}
	if ((t = poll_timeout(c)) >= 0) {
		ts.tv_sec = t / 1000;
		ts.tv_nsec = (long)(t % 1000) * 1000000;
		tsp = &ts;
	}
	if (ppoll(pfd, n, tsp, mask) == -1)
		return;		/* EINTR: the caller looks at the flags */

	if (sock != -1 && (pfd[sock].revents != 0 || sock_pending(c))) {
		if (read_server(c, &reason) == -1 ||
		    ((pfd[sock].revents & POLLOUT) && out_flush(c) == -1)) {
			if (reason == NULL)
				reason = sock_error(c);
			if (!c->tty && c->quit_sent)
				c->leaving = true;	/* the server said bye */
			lost(c, reason);
			return;
		}
	}
	if (in != -1 && pfd[in].revents != 0) {
		if (c->tty)
			rl_callback_read_char();
		else
			read_stdin(c);
	}
	if (c->fd == -1 && !c->leaving && now_ms() >= c->retry_at)
		reconnect(c);
	if (!c->tty && c->quit_sent && now_ms() >= c->drain_until)
		c->leaving = true;
}

static int
run(struct chat *c)
{
	sigset_t	mask;

	signals_init(&mask);
	if (c->tty)
		tty_start(c);
	while (!c->leaving) {
		pipe_finish(c);
		if (c->fd != -1 && c->out_len > 0 && out_flush(c) == -1) {
			lost(c, sock_error(c));
			continue;
		}
		step(c, &mask);
		if (got_quit)
			c->leaving = true;
		if (got_winch && c->rl_on) {
			got_winch = 0;
			rl_resize_terminal();
		}
	}
	if (c->status == 0)
		say_goodbye(c);
	tty_stop(c);
	fflush(stdout);
	if (c->farewell[0] != '\0')
		fprintf(stderr, "%s\n", c->farewell);
	return c->status;
}

static void
chat_free(struct chat *c)
{
	while (c->q_len > 0) {
		free(c->queue[c->q_head]);
		c->q_head = (c->q_head + 1) % QUEUE_MAX;
		c->q_len--;
	}
	sock_close(c);
	explicit_bzero(c->password, sizeof c->password);
	free(c->in);
	free(c->out);
	free(c->stdin_buf);
	free(c->history);
}

/* The first line of --password-file; a file this big is not one. */
static int
password_load(struct chat *c, const char *path)
{
	char	buf[CHATUI_PASSWORD_MAX + 3], err[128];
	ssize_t	n;
	size_t	len = 0;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "chat: cannot open the password file %s: %s\n",
		    path, strerror(errno));
		return -1;
	}
	while (len < sizeof buf && (n = read(fd, buf + len,
	    sizeof buf - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "chat: cannot read the password file "
			    "%s: %s\n", path, strerror(errno));
			close(fd);
			explicit_bzero(buf, sizeof buf);
			return -1;
		}
		len += (size_t)n;
	}
	close(fd);
	n = chatui_password(buf, len, c->password, sizeof c->password, err,
	    sizeof err) ? 0 : -1;
	explicit_bzero(buf, sizeof buf);
	if (n == -1)
		fprintf(stderr, "chat: the password file %s: %s\n", path, err);
	return (int)n;
}

static bool
is_loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
	    strncmp(host, "127.", 4) == 0;
}

static int
chat_init(struct chat *c, int argc, char **argv)
{
	char	err[512];

	memset(c, 0, sizeof *c);
	c->fd = -1;
	switch (chatui_parse_args(&c->a, argc, argv, err, sizeof err)) {
	case CHAT_ARGS_HELP:
		fputs(chatui_usage, stdout);
		return 0;
	case CHAT_ARGS_VERSION:
		printf("chat %s\n", PACKAGE_VERSION);
		return 0;
	case CHAT_ARGS_USAGE:
		fprintf(stderr, "chat: %s\n"
		    "Try 'chat --help' for more information.\n", err);
		return 2;
	case CHAT_ARGS_RUN:
		break;
	}
#ifndef HAVE_TLS
	if (c->a.tls) {
		fputs("chat: --tls: this chat was built without TLS "
		    "(configure --without-tls)\n", stderr);
		return 2;
	}
#endif
	if (c->a.password_file != NULL &&
	    password_load(c, c->a.password_file) == -1)
		return 1;
	if (c->a.insecure)
		fputs("chat: --insecure: the server's certificate is not "
		    "verified; whoever is in between can read and change "
		    "what you say\n", stderr);
	else if (c->password[0] != '\0' && c->a.unix_path == NULL &&
	    !c->a.tls && !is_loopback(c->a.host))
		fputs("chat: the password goes out in clear text: "
		    "use --tls\n", stderr);
	c->tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	c->colour = chatui_want_colour(c->tty, &c->a, getenv("NO_COLOR"));
	if (c->a.unix_path != NULL)
		snprintf(c->target, sizeof c->target, "unix socket %s",
		    c->a.unix_path);
	else
		snprintf(c->target, sizeof c->target, "%s port %s%s",
		    c->a.host, c->a.port, c->a.tls ? " (TLS)" : "");
	if (c->a.nick != NULL)
		snprintf(c->want, sizeof c->want, "%s", c->a.nick);
	c->in = malloc(INBUF_MAX);
	c->stdin_buf = malloc(INBUF_MAX + 1);
	if (c->in == NULL || c->stdin_buf == NULL) {
		fputs("chat: out of memory\n", stderr);
		return 1;
	}
	/* The first connect fails fast, so that scripts do. */
	if (server_connect(c, err, sizeof err) == -1) {
		fprintf(stderr, "chat: cannot connect to %s: %s\n", c->target,
		    err);
		return 1;
	}
	return -1;
}

int
main(int argc, char *argv[])
{
	struct chat	c;
	int		rc;

	setlocale(LC_ALL, "");	/* readline: multibyte input, wide chars */
	chat = &c;
	if ((rc = chat_init(&c, argc, argv)) == -1)
		rc = run(&c);
	chat_free(&c);
	return rc;
}
