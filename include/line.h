/*
 * line.h - the line protocol front-end (doc/PROTOCOL.md, v1 and v2):
 * what a connection's lines ask of the chat model, and how the model's
 * events read on the wire.  The transport (conn.c) calls it through
 * line_proto; it renders with linefmt.c.
 */
#ifndef CHATD_LINE_H
#define CHATD_LINE_H

#include "conn.h"

extern const struct conn_proto line_proto;

/* Line users registered now, for /stats. */
size_t	line_users(void);

#endif /* CHATD_LINE_H */
