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

/*
 * --cluster: NATS did not store a line of the line client whose user id
 * this is (cluster.h, CI_PUB_FAILED): tell it with "!!", so that no line
 * is lost without a word.  From any thread.
 */
void	line_publish_failed(uint64_t user_id, struct wakeset *ws);

/* Line users registered now, for /stats. */
size_t	line_users(void);

#endif /* CHATD_LINE_H */
