/*
 * cluster.h - the narrow interface between chatd and NATS JetStream
 * (--cluster): several nodes share rooms through one stream, and nicks
 * through a key-value bucket.  Nothing here touches a connection or the
 * chat model; what comes off the stream is handed over as items.
 *
 * Promises:
 *   - cluster_open() connects, or fails with a message that names the
 *     URL: chatd then exits 1 rather than going on alone.  It creates
 *     (or finds) the stream PREFIX, subjects PREFIX.>, max_msgs_per_subject
 *     the history length but at least cfg.retain, so the stream is
 *     the rooms' history, with room for lines no node has read yet (the
 *     caller keeps fewer than CLUSTER_INFLIGHT_HIGH of its own in
 *     flight); and the
 *     buckets PREFIX_nicks (nick -> "node uid") and PREFIX_nodes (node ->
 *     heartbeat).
 *   - One ordered consumer reads the whole stream from its first message,
 *     so a node started late replays what is kept.  nats.c runs it on
 *     its own thread; that thread only decodes, appends to a bounded
 *     queue and writes an eventfd (cluster_fd).  When the queue is full
 *     it waits (flow control reaches the server), it never drops.
 *   - cluster_publish() never blocks on the network: it refuses at once
 *     (CL_DOWN) while NATS is disconnected, else publishes asynchronously;
 *     a publish the server does not acknowledge within the ack timeout
 *     comes back as a CI_PUB_FAILED item carrying the caller's cookie.
 *     A line is thus either delivered back through the consumer or
 *     reported as failed, never dropped silently.
 *   - Nick claims are a KV create (compare-and-set on "absent"), bounded
 *     by timeout_ms: the caller may be a worker, and a claim is rare (a
 *     registration, a rename), so a short bounded wait is simpler than
 *     resuming the connection later and costs at most timeout_ms.
 *   - A heartbeat thread puts PREFIX_nodes[node] every heartbeat_ms and
 *     watches the others' keys.  A key whose revision has not moved for
 *     heartbeat_ms x missed_beats (measured on the local monotonic clock,
 *     so clocks need not agree) is a dead node: the survivors race to
 *     mark it dead with a KV compare-and-set on that revision, and the
 *     one winner releases its nicks and publishes one CLW_NODEDOWN on the
 *     stream, which every node (the winner too) then reads in order.  A
 *     node that starts and finds its own key still alive (it was killed
 *     and came back before anyone noticed) declares its old self dead
 *     the same way.
 *     After an outage the others' beats are counted afresh: not seeing
 *     them while NATS was away is no proof that they stopped.  The
 *     node that announces an end purges the ended node's rosters (on
 *     PREFIX.roster.NODE, kept like a room's history) up to it, so that
 *     a node started once the end has left the stream does not replay
 *     users it took away.
 *   - Hellos go to PREFIX.hello, rosters to PREFIX.roster.NODE
 *     (restate.h): neither pushes a room's lines or .ctl's ends out.
 *   - Disconnection, reconnection and close are logged, and queued as
 *     CI_DISCONNECTED / CI_RECONNECTED items.
 */
#ifndef CHATD_CLUSTER_H
#define CHATD_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clwire.h"

#define CLUSTER_HEARTBEAT_MS	1000
#define CLUSTER_MISSED_BEATS	3
#define CLUSTER_TIMEOUT_MS	1000	/* bound of a claim, a KV call */
#define CLUSTER_ACK_MS		2000	/* bound of a publish's ack */
#define CLUSTER_QUEUE_MAX	4096
#define CLUSTER_RETAIN		4096	/* lines a room, at least */
/* A node's own lines in flight: 8 nodes at the mark fit CLUSTER_RETAIN. */
#define CLUSTER_INFLIGHT_HIGH	512
#define CLUSTER_INFLIGHT_LOW	256

struct cluster;

struct cluster_config {
	const char	*url;		/* nats://host:port[,...] */
	const char	*node;		/* clw_node_name_ok() */
	const char	*prefix;	/* stream name and subject root */
	size_t		 history;	/* messages kept per subject */
	unsigned	 heartbeat_ms;	/* 0: CLUSTER_HEARTBEAT_MS */
	unsigned	 missed_beats;	/* 0: CLUSTER_MISSED_BEATS */
	unsigned	 timeout_ms;	/* 0: CLUSTER_TIMEOUT_MS */
	unsigned	 ack_ms;	/* 0: CLUSTER_ACK_MS */
	size_t		 queue_max;	/* 0: CLUSTER_QUEUE_MAX */
	size_t		 retain;	/* a room's lines, at least; 0:
					   CLUSTER_RETAIN */
};

enum cluster_item_kind {
	CI_EVENT,		/* seq, msg */
	CI_PUB_FAILED,		/* cookie, text: why */
	CI_DISCONNECTED,
	CI_RECONNECTED
};

struct cluster_item {
	struct cluster_item	*next;		/* private */
	enum cluster_item_kind	 kind;
	uint64_t		 seq;		/* the stream's sequence */
	uint64_t		 cookie;
	struct clw_msg		 msg;		/* strings point into data */
	const char		*text;
	size_t			 text_len;
	size_t			 len;
	char			 data[];
};

enum cluster_result {
	CL_OK = 0,
	CL_ERROR = -1,		/* invalid message, no memory */
	CL_DOWN = -2,		/* NATS is not reachable now */
	CL_TAKEN = -3,		/* the nick belongs to someone else */
	CL_NOT_FOUND = -4	/* nobody holds the nick */
};

struct cluster_stats {
	bool		 connected;
	uint64_t	 delivered_seq;	/* last stream seq handed over */
	uint64_t	 lag;		/* messages on the stream not yet taken */
	uint64_t	 published;	/* acknowledged */
	uint64_t	 failed;	/* refused or not acknowledged */
	uint64_t	 disconnects;
	uint64_t	 lost;		/* dropped by the stream unread */
};

/*
 * Connect and set up the stream and buckets.  NULL with err filled in
 * (the URL and NATS's reason) if NATS is unreachable or refuses.
 */
struct cluster	*cluster_open(const struct cluster_config *cfg, char *err,
		    size_t errlen);

/* Start the consumer and the heartbeat.  0, or -1 with err filled in. */
int		 cluster_start(struct cluster *cl, char *err, size_t errlen);

/*
 * True once the consumer has read the stream as far as it went when
 * cluster_start() was called (the replay of history is queued).
 */
bool		 cluster_caught_up(struct cluster *cl);

/* Readable (level-triggered) while items wait; never closed until free. */
int		 cluster_fd(struct cluster *cl);

/*
 * Up to max items, oldest first, for the caller to free with
 * cluster_item_free().  Clears cluster_fd() once the queue is empty.
 */
size_t		 cluster_take(struct cluster *cl, struct cluster_item **out,
		    size_t max);
void		 cluster_item_free(struct cluster_item *it);

/*
 * Publish m (m->node is ignored: this node's name is used) to its room's
 * subject, PREFIX.ctl for CLW_NODEDOWN, PREFIX.dm.NODE for a private
 * line to NODE's user, PREFIX.topic.ROOM for a topic (kept apart so that
 * the room's talk never pushes its topic out of the stream).  CL_OK, CL_DOWN or CL_ERROR.
 */
int		 cluster_publish(struct cluster *cl, struct clw_msg *m,
		    uint64_t cookie);

/* Claim nick for this node's user uid: CL_OK, CL_TAKEN or CL_DOWN. */
int		 cluster_nick_claim(struct cluster *cl, const char *nick,
		    size_t len, uint64_t uid);
/* Release it if this node's uid holds it.  CL_OK or CL_DOWN. */
int		 cluster_nick_release(struct cluster *cl, const char *nick,
		    size_t len, uint64_t uid);

/*
 * Who holds nick: its node's name into node (CLW_NODE_MAX + 1) and its
 * user's id there.  CL_OK, CL_NOT_FOUND or CL_DOWN; bounded by
 * timeout_ms like a claim.
 */
int		 cluster_nick_owner(struct cluster *cl, const char *nick,
		    size_t len, char *node, uint64_t *uid);

/*
 * The stream's last sequence when cluster_start() was called: what is
 * not past it is a replay, older than this node's users.
 */
uint64_t	 cluster_start_seq(const struct cluster *cl);

const char	*cluster_node(const struct cluster *cl);
void		 cluster_stats(struct cluster *cl, struct cluster_stats *st);

/*
 * Stop the heartbeat and the consumer; if started and connected, release
 * this node's nicks, publish its CLW_NODEDOWN (the others drop its users
 * at once) and remove its heartbeat key; close, free.  NULL is ok.
 */
void		 cluster_close(struct cluster *cl);

/* Release nats.c's global state, once, at exit, after every close. */
void		 cluster_library_close(void);

#endif /* CHATD_CLUSTER_H */
