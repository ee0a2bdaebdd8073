/*
 * irc.h - the IRC front-end (doc/PROTOCOL.md, "IRC"): RFC 1459/2812 as
 * clients use it and the IRCv3 capabilities DESIGN.md section 6 lists,
 * over the same chat model as the line protocol, so IRC and line users
 * share rooms, nicks and history.  The transport (conn.c) calls it
 * through irc_proto; it renders with ircmsg.c.
 *
 * Order: a connection's commands are handled in order, and a chat
 * line's fan-out is queued before the sender's next command runs.
 */
#ifndef CHATD_IRC_H
#define CHATD_IRC_H

#include "conn.h"

extern const struct conn_proto irc_proto;

/* The name in every numeric; set once, before any client connects. */
void	irc_set_server_name(const char *name);

/* IRC users registered now, for /stats. */
size_t	irc_users(void);

#endif /* CHATD_IRC_H */
