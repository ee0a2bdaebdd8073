/*
 * cluster.c - NATS JetStream behind the narrow interface of cluster.h.
 *
 * Threads: nats.c's own (the consumer's callback, the publish acks, the
 * connection events) only append to the queue under cl->lock and write
 * the eventfd; the heartbeat thread only talks to NATS.  chatd's threads
 * take items with cluster_take().  cl->lock is a leaf: nothing else is
 * taken under it, and no NATS call is made under it.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <nats/nats.h>

#define LOG_COMPONENT	"cluster"
#include "cluster.h"
#include "log.h"

#define SUBJECT_MAX	512
#define KEY_MAX		(2 * 4 * 32 + 1)
#define NODES_MAX	256		/* watched by one heartbeat */
#define BAD_LOGGED	10		/* undecodable messages logged */
#define COOKIE_HEADER	"Chatd-Cookie"

struct peer {
	char		 name[CLW_NODE_MAX + 1];
	uint64_t	 revision;
	uint64_t	 since_ms;	/* monotonic: when revision last moved */
	bool		 seen;		/* in this round's key list */
};

struct cluster {
	struct cluster_config	 cfg;
	char			 url[512];
	char			 node[CLW_NODE_MAX + 1];
	char			 prefix[CLW_NODE_MAX + 1];

	natsConnection		*nc;
	jsCtx			*js;
	kvStore			*nicks;
	kvStore			*nodes;
	natsSubscription	*sub;

	pthread_mutex_t		 lock;
	pthread_cond_t		 changed;	/* room in the queue, a stop */
	struct cluster_item	*head, *tail;
	size_t			 queued;
	bool			 closing;
	bool			 sub_done;
	bool			 nc_closed;	/* its last callback ran */
	int			 efd;

	pthread_t		 beat;
	bool			 beating;

	atomic_bool		 connected;
	atomic_bool		 rebase_peers;	/* back from an outage */
	atomic_uint		 in_callback;
	atomic_uint_fast64_t	 delivered_seq;
	atomic_uint_fast64_t	 received_seq;	/* decoded or not */
	uint64_t		 start_seq;	/* the stream's last at start */
	atomic_uint_fast64_t	 pending;	/* the server's, at the last */
	atomic_uint_fast64_t	 published;
	atomic_uint_fast64_t	 failed;
	atomic_uint_fast64_t	 disconnects;
	atomic_uint_fast64_t	 lost;		/* note_gap() */
	atomic_uint		 bad;

	struct peer		 peers[NODES_MAX];	/* the heartbeat's */
	size_t			 npeers;
};

static uint64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
wall_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Append it; wake the reader if the queue was empty.  Under cl->lock. */
static void
queue_push_locked(struct cluster *cl, struct cluster_item *it)
{
	uint64_t	one = 1;

	it->next = NULL;
	if (cl->tail != NULL)
		cl->tail->next = it;
	else
		cl->head = it;
	cl->tail = it;
	if (cl->queued++ == 0 && write(cl->efd, &one, sizeof(one)) < 0 &&
	    errno != EAGAIN)
		log_warn("eventfd: %s", strerror(errno));
}

static struct cluster_item *
item_new(enum cluster_item_kind kind, const char *data, size_t len)
{
	struct cluster_item	*it;

	if ((it = calloc(1, sizeof(*it) + len + 1)) == NULL)
		return NULL;
	it->kind = kind;
	if (len > 0)
		memcpy(it->data, data, len);
	it->len = len;
	it->text = it->data;
	it->text_len = len;
	return it;
}

/* A state change or a failure: never waits for room, they are few. */
static void
push_now(struct cluster *cl, struct cluster_item *it)
{
	pthread_mutex_lock(&cl->lock);
	if (cl->closing)
		free(it);
	else
		queue_push_locked(cl, it);
	pthread_mutex_unlock(&cl->lock);
}

/*
 * An event: waits while the queue is full, so the consumer slows down
 * (and the server with it) rather than losing anything.
 */
static void
push_event(struct cluster *cl, struct cluster_item *it)
{
	pthread_mutex_lock(&cl->lock);
	while (!cl->closing && cl->queued >= cl->cfg.queue_max)
		pthread_cond_wait(&cl->changed, &cl->lock);
	if (cl->closing)
		free(it);
	else
		queue_push_locked(cl, it);
	pthread_mutex_unlock(&cl->lock);
}

/*
 * Live, sequences follow one another; in the replay, gaps are old lines
 * the per-room limit dropped long ago.  A live gap is lines lost to this
 * node: the stream dropped them before its consumer got there.
 */
static void
note_gap(struct cluster *cl, uint64_t prev, uint64_t seq)
{
	static struct log_limit	 limit = LOG_LIMIT_INITIALIZER(5);
	uint64_t		 missed;
	unsigned		 skipped;

	if (prev == 0 || prev < cl->start_seq || seq <= prev + 1)
		return;
	missed = seq - prev - 1;
	atomic_fetch_add(&cl->lost, missed);
	if (!log_limit_take(&limit, mono_ms(), &skipped))
		return;
	if (skipped > 0)
		log_error("%u more gaps in the stream went unlogged",
		    skipped);
	log_error("the stream dropped %" PRIu64 " line%s (seq %"
	    PRIu64 " to %" PRIu64 ") before node %s read %s: it was more "
	    "than %zu lines a room behind", missed, missed == 1 ? "" : "s",
	    prev + 1, seq - 1, cl->node, missed == 1 ? "it" : "them",
	    cl->cfg.retain > cl->cfg.history ? cl->cfg.retain :
	    cl->cfg.history);
}

static void
on_message(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
    void *arg)
{
	struct cluster		*cl = arg;
	struct cluster_item	*it;
	jsMsgMetaData		*meta = NULL;
	const char		*data;
	int			 len;

	atomic_fetch_add(&cl->in_callback, 1);
	if (natsMsg_GetMetaData(&meta, msg) != NATS_OK)
		goto out;	/* a status message, not one of the stream's */
	note_gap(cl, atomic_exchange(&cl->received_seq,
	    meta->Sequence.Stream), meta->Sequence.Stream);
	data = natsMsg_GetData(msg);
	len = natsMsg_GetDataLength(msg);
	if ((it = item_new(CI_EVENT, data, (size_t)len)) == NULL) {
		log_error("out of memory: stream message %" PRIu64 " lost",
		    meta->Sequence.Stream);
		goto out;
	}
	it->seq = meta->Sequence.Stream;
	if (clw_decode(it->data, it->len, &it->msg) != 0) {
		if (atomic_fetch_add(&cl->bad, 1) < BAD_LOGGED)
			log_warn("stream message %" PRIu64 " on %s is not "
			    "chatd's: skipped", it->seq,
			    natsMsg_GetSubject(msg));
		free(it);
		goto out;
	}
	atomic_store(&cl->pending, meta->NumPending);
	atomic_store(&cl->delivered_seq, it->seq);
	push_event(cl, it);
out:
	jsMsgMetaData_Destroy(meta);
	natsMsg_Destroy(msg);
	atomic_fetch_sub(&cl->in_callback, 1);
}

static void
on_sub_complete(void *arg)
{
	struct cluster	*cl = arg;

	pthread_mutex_lock(&cl->lock);
	cl->sub_done = true;
	pthread_cond_broadcast(&cl->changed);
	pthread_mutex_unlock(&cl->lock);
}

static void
on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *arg)
{
	struct cluster		*cl = arg;
	struct cluster_item	*it;
	const char		*cookie = NULL, *why;

	atomic_fetch_add(&cl->in_callback, 1);
	if (pa != NULL) {
		atomic_fetch_add(&cl->published, 1);
		goto out;
	}
	atomic_fetch_add(&cl->failed, 1);
	why = pae != NULL && pae->ErrText != NULL ? pae->ErrText :
	    natsStatus_GetText(pae != NULL ? pae->Err : NATS_ERR);
	if ((it = item_new(CI_PUB_FAILED, why, strlen(why))) == NULL) {
		log_error("out of memory: a failed publish goes unreported");
		goto out;
	}
	if (natsMsgHeader_Get(msg, COOKIE_HEADER, &cookie) == NATS_OK &&
	    cookie != NULL)
		it->cookie = strtoull(cookie, NULL, 10);
	push_now(cl, it);
out:
	natsMsg_Destroy(msg);
	atomic_fetch_sub(&cl->in_callback, 1);
}

static bool
closing(struct cluster *cl)
{
	bool	yes;

	pthread_mutex_lock(&cl->lock);
	yes = cl->closing;
	pthread_mutex_unlock(&cl->lock);
	return yes;
}

static void
on_disconnected(natsConnection *nc, void *arg)
{
	struct cluster		*cl = arg;
	struct cluster_item	*it;

	atomic_fetch_add(&cl->in_callback, 1);
	if (atomic_exchange(&cl->connected, false) && !closing(cl)) {
		atomic_fetch_add(&cl->disconnects, 1);
		log_warn("lost NATS at %s: lines are refused until it is back",
		    cl->url);
		if ((it = item_new(CI_DISCONNECTED, NULL, 0)) != NULL)
			push_now(cl, it);
	}
	atomic_fetch_sub(&cl->in_callback, 1);
}

static void
on_reconnected(natsConnection *nc, void *arg)
{
	struct cluster		*cl = arg;
	struct cluster_item	*it;

	atomic_fetch_add(&cl->in_callback, 1);
	if (!atomic_exchange(&cl->connected, true)) {
		log_info("NATS is back at %s", cl->url);
		atomic_store(&cl->rebase_peers, true);
		if ((it = item_new(CI_RECONNECTED, NULL, 0)) != NULL)
			push_now(cl, it);
	}
	atomic_fetch_sub(&cl->in_callback, 1);
}

static void
on_closed(natsConnection *nc, void *arg)
{
	struct cluster	*cl = arg;

	atomic_store(&cl->connected, false);
	log_debug("NATS connection to %s closed", cl->url);
	/* Last: cluster_close() frees cl once it sees this. */
	pthread_mutex_lock(&cl->lock);
	cl->nc_closed = true;
	pthread_cond_broadcast(&cl->changed);
	pthread_mutex_unlock(&cl->lock);
}

static natsStatus
make_bucket(struct cluster *cl, kvStore **kv, const char *what, int64_t ttl)
{
	char		bucket[CLW_NODE_MAX + 16];
	kvConfig	kc;
	natsStatus	s;

	snprintf(bucket, sizeof(bucket), "%s_%s", cl->prefix, what);
	if ((s = js_KeyValue(kv, cl->js, bucket)) == NATS_OK)
		return s;
	kvConfig_Init(&kc);
	kc.Bucket = bucket;
	kc.History = 1;
	kc.TTL = ttl;
	return js_CreateKeyValue(kv, cl->js, &kc);
}

static natsStatus
make_stream(struct cluster *cl, jsErrCode *jerr)
{
	char		 subject[SUBJECT_MAX];
	const char	*subjects[1] = { subject };
	jsStreamConfig	 sc;
	jsStreamInfo	*si = NULL;
	natsStatus	 s;

	snprintf(subject, sizeof(subject), "%s.>", cl->prefix);
	jsStreamConfig_Init(&sc);
	sc.Name = cl->prefix;
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.MaxMsgsPerSubject = (int64_t)(cl->cfg.history > cl->cfg.retain ?
	    cl->cfg.history : cl->cfg.retain);
	s = js_AddStream(&si, cl->js, &sc, NULL, jerr);
	if (s != NATS_OK && *jerr == JSStreamNameExistErr)
		s = js_UpdateStream(&si, cl->js, &sc, NULL, jerr);
	jsStreamInfo_Destroy(si);
	return s;
}

struct cluster *
cluster_open(const struct cluster_config *cfg, char *err, size_t errlen)
{
	struct cluster	*cl;
	natsOptions	*opts = NULL;
	jsOptions	 jo;
	jsErrCode	 jerr = 0;
	natsStatus	 s;

	if (!clw_node_name_ok(cfg->node, strlen(cfg->node)) ||
	    !clw_node_name_ok(cfg->prefix, strlen(cfg->prefix))) {
		set_err(err, errlen, "node name and prefix: 1 to %d of "
		    "A-Z a-z 0-9 _ -", CLW_NODE_MAX);
		return NULL;
	}
	if ((cl = calloc(1, sizeof(*cl))) == NULL) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	cl->efd = -1;
	cl->cfg = *cfg;
	if (cl->cfg.heartbeat_ms == 0)
		cl->cfg.heartbeat_ms = CLUSTER_HEARTBEAT_MS;
	if (cl->cfg.missed_beats == 0)
		cl->cfg.missed_beats = CLUSTER_MISSED_BEATS;
	if (cl->cfg.timeout_ms == 0)
		cl->cfg.timeout_ms = CLUSTER_TIMEOUT_MS;
	if (cl->cfg.ack_ms == 0)
		cl->cfg.ack_ms = CLUSTER_ACK_MS;
	if (cl->cfg.queue_max == 0)
		cl->cfg.queue_max = CLUSTER_QUEUE_MAX;
	if (cl->cfg.retain == 0)
		cl->cfg.retain = CLUSTER_RETAIN;
	if (cl->cfg.history == 0)
		cl->cfg.history = 1;
	snprintf(cl->url, sizeof(cl->url), "%s", cfg->url);
	snprintf(cl->node, sizeof(cl->node), "%s", cfg->node);
	snprintf(cl->prefix, sizeof(cl->prefix), "%s", cfg->prefix);
	cl->cfg.url = cl->url;
	cl->cfg.node = cl->node;
	cl->cfg.prefix = cl->prefix;
	pthread_mutex_init(&cl->lock, NULL);
	pthread_cond_init(&cl->changed, NULL);
	if ((cl->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		set_err(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}

	/* Reconnect for ever: a restart of NATS is an outage, not an end. */
	if ((s = natsOptions_Create(&opts)) != NATS_OK ||
	    (s = natsOptions_SetURL(opts, cl->url)) != NATS_OK ||
	    (s = natsOptions_SetName(opts, cl->node)) != NATS_OK ||
	    (s = natsOptions_SetTimeout(opts, cl->cfg.timeout_ms)) != NATS_OK ||
	    (s = natsOptions_SetMaxReconnect(opts, -1)) != NATS_OK ||
	    (s = natsOptions_SetReconnectWait(opts, 250)) != NATS_OK ||
	    (s = natsOptions_SetPingInterval(opts, 1000)) != NATS_OK ||
	    (s = natsOptions_SetMaxPingsOut(opts, 2)) != NATS_OK ||
	    (s = natsOptions_SetSendAsap(opts, true)) != NATS_OK ||
	    (s = natsOptions_SetDisconnectedCB(opts, on_disconnected,
	    cl)) != NATS_OK ||
	    (s = natsOptions_SetReconnectedCB(opts, on_reconnected,
	    cl)) != NATS_OK ||
	    (s = natsOptions_SetClosedCB(opts, on_closed, cl)) != NATS_OK) {
		set_err(err, errlen, "NATS options: %s", natsStatus_GetText(s));
		goto fail;
	}
	if ((s = natsConnection_Connect(&cl->nc, opts)) != NATS_OK) {
		set_err(err, errlen, "cannot reach NATS at %s: %s", cl->url,
		    natsStatus_GetText(s));
		goto fail;
	}
	atomic_store(&cl->connected, true);

	jsOptions_Init(&jo);
	jo.Wait = cl->cfg.timeout_ms;
	jo.PublishAsync.AckHandler = on_ack;
	jo.PublishAsync.AckHandlerClosure = cl;
	jo.PublishAsync.StallWait = 1;
	if ((s = natsConnection_JetStream(&cl->js, cl->nc, &jo)) != NATS_OK ||
	    (s = make_stream(cl, &jerr)) != NATS_OK) {
		set_err(err, errlen, "NATS at %s: no JetStream stream %s "
		    "(is the server started with -js?): %s (%d)", cl->url,
		    cl->prefix, natsStatus_GetText(s), (int)jerr);
		goto fail;
	}
	if ((s = make_bucket(cl, &cl->nicks, "nicks", 0)) != NATS_OK ||
	    (s = make_bucket(cl, &cl->nodes, "nodes", 0)) != NATS_OK) {
		set_err(err, errlen, "NATS at %s: no key-value bucket: %s",
		    cl->url, natsStatus_GetText(s));
		goto fail;
	}
	natsOptions_Destroy(opts);
	log_info("node %s joined the cluster at %s (stream %s, %zu a room)",
	    cl->node, cl->url, cl->prefix, cl->cfg.history);
	return cl;
fail:
	natsOptions_Destroy(opts);
	cluster_close(cl);
	return NULL;
}

/* The subject that m's kind and room go to. */
static size_t
subject_of(const struct cluster *cl, const struct clw_msg *m, char *buf,
    size_t cap)
{
	char	root[CLW_NODE_MAX + 8];
	int	n;

	switch (m->kind) {
	case CLW_NODEDOWN:
		n = snprintf(buf, cap, "%s.ctl", cl->prefix);
		return n > 0 && (size_t)n < cap ? (size_t)n : 0;
	case CLW_PRIVMSG:
	case CLW_NOTICE:
		/* Read by every node, applied by the one named. */
		n = snprintf(buf, cap, "%s.dm.%.*s", cl->prefix,
		    (int)m->room_len, m->room);
		return n > 0 && (size_t)n < cap ? (size_t)n : 0;
	case CLW_TOPIC:
		/* The last one stays, however much the room says after. */
		snprintf(root, sizeof(root), "%s.topic", cl->prefix);
		break;
	case CLW_HELLO:
		/* Not on .ctl: hellos must not push its nodedowns out. */
		n = snprintf(buf, cap, "%s.hello", cl->prefix);
		return n > 0 && (size_t)n < cap ? (size_t)n : 0;
	case CLW_ROSTER:
		/*
		 * A subject per node: its latest rosters are kept (the
		 * per-subject limit), and a late node replays them.
		 */
		n = snprintf(buf, cap, "%s.roster.%s", cl->prefix, cl->node);
		return n > 0 && (size_t)n < cap ? (size_t)n : 0;
	case CLW_SAY:
	case CLW_ME:
		/* History: max_msgs_per_subject counts only these. */
		snprintf(root, sizeof(root), "%s.room", cl->prefix);
		break;
	default:
		snprintf(root, sizeof(root), "%s.memb", cl->prefix);
		break;
	}
	return clw_room_subject(root, m->room, m->room_len, buf, cap);
}

/* m as bytes and its subject; 0 or -1. */
static int
prepare(struct cluster *cl, struct clw_msg *m, char *subject, char **data,
    size_t *len)
{
	size_t	cap = 256 + m->room_len + m->nick_len + m->text_len;

	m->node = cl->node;
	m->node_len = strlen(cl->node);
	if (m->time_ms == 0)
		m->time_ms = wall_ms();
	if (subject_of(cl, m, subject, SUBJECT_MAX) == 0)
		return -1;
	if ((*data = malloc(cap)) == NULL)
		return -1;
	if ((*len = clw_encode(m, *data, cap)) == 0) {
		free(*data);
		return -1;
	}
	return 0;
}

int
cluster_publish(struct cluster *cl, struct clw_msg *m, uint64_t cookie)
{
	char		 subject[SUBJECT_MAX], cookie_s[24];
	char		*data = NULL;
	size_t		 len;
	natsMsg		*msg = NULL;
	jsPubOptions	 po;
	natsStatus	 s;
	int		 rc = CL_ERROR;

	if (!atomic_load(&cl->connected)) {
		atomic_fetch_add(&cl->failed, 1);
		return CL_DOWN;
	}
	if (prepare(cl, m, subject, &data, &len) != 0)
		return CL_ERROR;
	snprintf(cookie_s, sizeof(cookie_s), "%" PRIu64, cookie);
	jsPubOptions_Init(&po);
	po.MaxWait = cl->cfg.ack_ms;
	if (natsMsg_Create(&msg, subject, NULL, data, (int)len) != NATS_OK ||
	    natsMsgHeader_Set(msg, COOKIE_HEADER, cookie_s) != NATS_OK)
		goto out;
	s = js_PublishMsgAsync(cl->js, &msg, &po);
	if (s == NATS_OK)
		rc = CL_OK;
	else {
		atomic_fetch_add(&cl->failed, 1);
		rc = atomic_load(&cl->connected) ? CL_ERROR : CL_DOWN;
	}
out:
	natsMsg_Destroy(msg);
	free(data);
	return rc;
}

static int
nick_key(const char *nick, size_t len, char *key)
{
	return clw_nick_key(nick, len, key, KEY_MAX) == 0 ? -1 : 0;
}

int
cluster_nick_claim(struct cluster *cl, const char *nick, size_t len,
    uint64_t uid)
{
	char		 key[KEY_MAX], owner[CLW_NODE_MAX + 24];
	kvEntry		*e = NULL;
	uint64_t	 rev;
	natsStatus	 s;
	int		 rc;

	if (nick_key(nick, len, key) != 0)
		return CL_ERROR;
	if (!atomic_load(&cl->connected))
		return CL_DOWN;
	snprintf(owner, sizeof(owner), "%s %" PRIu64, cl->node, uid);
	if ((s = kvStore_CreateString(&rev, cl->nicks, key, owner)) ==
	    NATS_OK)
		return CL_OK;
	/* Taken, or NATS is away: only a read tells which. */
	s = kvStore_Get(&e, cl->nicks, key);
	if (s == NATS_OK)
		rc = strcmp(kvEntry_ValueString(e), owner) == 0 ? CL_OK :
		    CL_TAKEN;
	else
		rc = CL_DOWN;
	kvEntry_Destroy(e);
	return rc;
}

int
cluster_nick_release(struct cluster *cl, const char *nick, size_t len,
    uint64_t uid)
{
	char		 key[KEY_MAX], owner[CLW_NODE_MAX + 24];
	kvEntry		*e = NULL;
	natsStatus	 s;
	int		 rc = CL_OK;

	if (nick_key(nick, len, key) != 0)
		return CL_ERROR;
	/* Not a wait per user at a shutdown while NATS is away. */
	if (!atomic_load(&cl->connected))
		return CL_DOWN;
	snprintf(owner, sizeof(owner), "%s %" PRIu64, cl->node, uid);
	s = kvStore_Get(&e, cl->nicks, key);
	if (s == NATS_OK && strcmp(kvEntry_ValueString(e), owner) == 0)
		s = kvStore_Delete(cl->nicks, key);
	if (s != NATS_OK && s != NATS_NOT_FOUND)
		rc = CL_DOWN;
	kvEntry_Destroy(e);
	return rc;
}

int
cluster_nick_owner(struct cluster *cl, const char *nick, size_t len,
    char *node, uint64_t *uid)
{
	char		 key[KEY_MAX];
	kvEntry		*e = NULL;
	const char	*v, *sp;
	natsStatus	 s;
	int		 rc = CL_DOWN;

	if (nick_key(nick, len, key) != 0)
		return CL_NOT_FOUND;
	if (!atomic_load(&cl->connected))
		return CL_DOWN;
	s = kvStore_Get(&e, cl->nicks, key);
	if (s == NATS_NOT_FOUND)
		rc = CL_NOT_FOUND;
	else if (s == NATS_OK) {
		/* "node uid", as cluster_nick_claim() wrote it. */
		v = kvEntry_ValueString(e);
		rc = CL_NOT_FOUND;
		if (v != NULL && (sp = strchr(v, ' ')) != NULL &&
		    clw_node_name_ok(v, (size_t)(sp - v))) {
			memcpy(node, v, (size_t)(sp - v));
			node[sp - v] = '\0';
			*uid = strtoull(sp + 1, NULL, 10);
			if (*uid != 0)
				rc = CL_OK;
		}
	}
	kvEntry_Destroy(e);
	return rc;
}

uint64_t
cluster_start_seq(const struct cluster *cl)
{
	return cl->start_seq;
}

/* Delete every nick whose owner is node (its users are gone). */
static void
release_nicks_of(struct cluster *cl, const char *node)
{
	kvKeysList	 keys = { NULL, 0 };
	kvEntry		*e;
	size_t		 nlen = strlen(node);
	const char	*v;
	int		 i, released = 0;

	if (kvStore_Keys(&keys, cl->nicks, NULL) != NATS_OK)
		return;
	for (i = 0; i < keys.Count; i++) {
		e = NULL;
		if (kvStore_Get(&e, cl->nicks, keys.Keys[i]) == NATS_OK) {
			v = kvEntry_ValueString(e);
			if (strncmp(v, node, nlen) == 0 && v[nlen] == ' ' &&
			    kvStore_Delete(cl->nicks, keys.Keys[i]) == NATS_OK)
				released++;
		}
		kvEntry_Destroy(e);
	}
	kvKeysList_Destroy(&keys);
	log_info("released %d nicks of node %s", released, node);
}

/*
 * Mark node dead if its key is still at revision rev: the one node whose
 * compare-and-set wins releases its nicks and tells the stream.
 */
static void	announce_end(struct cluster *, const char *);

static void
declare_dead(struct cluster *cl, const char *node, uint64_t rev)
{
	uint64_t	 newrev;

	if (kvStore_UpdateString(&newrev, cl->nodes, node, "dead", rev) !=
	    NATS_OK)
		return;		/* another node won, or it beat again */
	log_warn("node %s stopped beating: announcing its users as gone",
	    node);
	announce_end(cl, node);
}

/*
 * The rosters node stated before its end (seq), so that a node started
 * later does not replay users the end took away once that end has left
 * the stream.  Only those before: node may already have re-stated.
 */
static void
forget_roster(struct cluster *cl, const char *node, uint64_t seq)
{
	char		subject[SUBJECT_MAX];
	jsOptions	jo;
	jsErrCode	jerr = 0;

	snprintf(subject, sizeof(subject), "%s.roster.%s", cl->prefix, node);
	jsOptions_Init(&jo);
	jo.Stream.Purge.Subject = subject;
	jo.Stream.Purge.Sequence = seq;
	if (js_PurgeStream(cl->js, cl->prefix, &jo, &jerr) != NATS_OK)
		log_warn("the rosters of node %s stay on the stream (%d)",
		    node, (int)jerr);
}

/* node's nicks are free and its users gone: told once, on the stream. */
static void
announce_end(struct cluster *cl, const char *node)
{
	char		 subject[SUBJECT_MAX], *data = NULL;
	struct clw_msg	 m;
	size_t		 len;
	jsPubAck	*pa = NULL;

	release_nicks_of(cl, node);
	memset(&m, 0, sizeof(m));
	m.kind = CLW_NODEDOWN;
	m.text = node;
	m.text_len = strlen(node);
	if (prepare(cl, &m, subject, &data, &len) != 0 ||
	    js_Publish(&pa, cl->js, subject, data, (int)len, NULL,
	    NULL) != NATS_OK)
		log_error("could not announce the end of node %s", node);
	else
		forget_roster(cl, node, pa->Sequence);
	jsPubAck_Destroy(pa);
	free(data);
}

static struct peer *
peer_find(struct cluster *cl, const char *name)
{
	size_t	i;

	for (i = 0; i < cl->npeers; i++) {
		if (strcmp(cl->peers[i].name, name) == 0)
			return &cl->peers[i];
	}
	if (cl->npeers == NODES_MAX)
		return NULL;
	memset(&cl->peers[cl->npeers], 0, sizeof(cl->peers[0]));
	snprintf(cl->peers[cl->npeers].name, sizeof(cl->peers[0].name), "%s",
	    name);
	return &cl->peers[cl->npeers++];
}

/* One look at the others' heartbeats. */
static void
watch_peers(struct cluster *cl)
{
	kvKeysList	 keys = { NULL, 0 };
	kvEntry		*e;
	struct peer	*p;
	uint64_t	 now = mono_ms(), rev;
	uint64_t	 limit = (uint64_t)cl->cfg.heartbeat_ms *
			    cl->cfg.missed_beats;
	bool		 dead;
	int		 i;

	/*
	 * Blind while NATS was away: nobody's beats could be seen, so they
	 * are counted afresh rather than taken for missed.
	 */
	if (atomic_exchange(&cl->rebase_peers, false))
		for (i = 0; i < (int)cl->npeers; i++)
			cl->peers[i].since_ms = 0;
	if (kvStore_Keys(&keys, cl->nodes, NULL) != NATS_OK)
		return;
	for (i = 0; i < keys.Count; i++) {
		if (strcmp(keys.Keys[i], cl->node) == 0 ||
		    (p = peer_find(cl, keys.Keys[i])) == NULL)
			continue;
		e = NULL;
		if (kvStore_Get(&e, cl->nodes, keys.Keys[i]) != NATS_OK) {
			kvEntry_Destroy(e);
			continue;
		}
		rev = kvEntry_Revision(e);
		dead = strcmp(kvEntry_ValueString(e), "dead") == 0;
		kvEntry_Destroy(e);
		if (p->since_ms == 0 || rev != p->revision) {
			p->revision = rev;
			p->since_ms = now;
		} else if (!dead && now - p->since_ms >= limit) {
			declare_dead(cl, p->name, rev);
			p->since_ms = now;
		}
	}
	kvKeysList_Destroy(&keys);
}

static void *
heartbeat_main(void *arg)
{
	struct cluster	*cl = arg;
	struct timespec	 until;
	uint64_t	 rev;

	pthread_mutex_lock(&cl->lock);
	while (!cl->closing) {
		pthread_mutex_unlock(&cl->lock);
		if (atomic_load(&cl->connected)) {
			if (kvStore_PutString(&rev, cl->nodes, cl->node,
			    "alive") != NATS_OK)
				log_debug("heartbeat not stored");
			watch_peers(cl);
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += cl->cfg.heartbeat_ms / 1000;
		until.tv_nsec += (long)(cl->cfg.heartbeat_ms % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&cl->lock);
		if (!cl->closing)
			pthread_cond_timedwait(&cl->changed, &cl->lock, &until);
	}
	pthread_mutex_unlock(&cl->lock);
	return NULL;
}

int
cluster_start(struct cluster *cl, char *err, size_t errlen)
{
	char		 subject[SUBJECT_MAX];
	jsSubOptions	 so;
	jsErrCode	 jerr = 0;
	jsStreamInfo	*si = NULL;
	kvEntry		*e = NULL;
	natsStatus	 s;
	uint64_t	 rev;

	/* Killed and back before anyone noticed: bury the old self first. */
	if (kvStore_Get(&e, cl->nodes, cl->node) == NATS_OK &&
	    strcmp(kvEntry_ValueString(e), "alive") == 0)
		declare_dead(cl, cl->node, kvEntry_Revision(e));
	kvEntry_Destroy(e);
	if ((s = kvStore_PutString(&rev, cl->nodes, cl->node, "alive")) !=
	    NATS_OK) {
		set_err(err, errlen, "NATS at %s: no heartbeat: %s", cl->url,
		    natsStatus_GetText(s));
		return -1;
	}

	/* What the replay must reach before the node has caught up. */
	if ((s = js_GetStreamInfo(&si, cl->js, cl->prefix, NULL, &jerr)) !=
	    NATS_OK) {
		set_err(err, errlen, "NATS at %s: stream %s: %s (%d)", cl->url,
		    cl->prefix, natsStatus_GetText(s), (int)jerr);
		return -1;
	}
	cl->start_seq = si->State.LastSeq;
	jsStreamInfo_Destroy(si);

	snprintf(subject, sizeof(subject), "%s.>", cl->prefix);
	jsSubOptions_Init(&so);
	so.Stream = cl->prefix;
	so.Ordered = true;
	so.Config.DeliverPolicy = js_DeliverAll;
	if ((s = js_Subscribe(&cl->sub, cl->js, subject, on_message, cl, NULL,
	    &so, &jerr)) != NATS_OK ||
	    (s = natsSubscription_SetOnCompleteCB(cl->sub, on_sub_complete,
	    cl)) != NATS_OK ||
	    (s = natsSubscription_SetPendingLimits(cl->sub, -1, -1)) !=
	    NATS_OK) {
		set_err(err, errlen, "NATS at %s: no consumer on %s: %s (%d)",
		    cl->url, subject, natsStatus_GetText(s), (int)jerr);
		return -1;
	}
	if ((errno = pthread_create(&cl->beat, NULL, heartbeat_main,
	    cl)) != 0) {
		set_err(err, errlen, "heartbeat thread: %s", strerror(errno));
		return -1;
	}
	cl->beating = true;
	return 0;
}

bool
cluster_caught_up(struct cluster *cl)
{
	return atomic_load(&cl->received_seq) >= cl->start_seq;
}

int
cluster_fd(struct cluster *cl)
{
	return cl->efd;
}

size_t
cluster_take(struct cluster *cl, struct cluster_item **out, size_t max)
{
	struct cluster_item	*it;
	uint64_t		 count;
	size_t			 n = 0;

	pthread_mutex_lock(&cl->lock);
	while (n < max && (it = cl->head) != NULL) {
		if ((cl->head = it->next) == NULL)
			cl->tail = NULL;
		it->next = NULL;
		out[n++] = it;
		cl->queued--;
	}
	if (cl->queued == 0 && read(cl->efd, &count, sizeof(count)) < 0 &&
	    errno != EAGAIN)
		log_warn("eventfd: %s", strerror(errno));
	if (n > 0)
		pthread_cond_broadcast(&cl->changed);
	pthread_mutex_unlock(&cl->lock);
	return n;
}

void
cluster_item_free(struct cluster_item *it)
{
	free(it);
}

const char *
cluster_node(const struct cluster *cl)
{
	return cl->node;
}

void
cluster_stats(struct cluster *cl, struct cluster_stats *st)
{
	size_t	queued;

	pthread_mutex_lock(&cl->lock);
	queued = cl->queued;
	pthread_mutex_unlock(&cl->lock);
	st->connected = atomic_load(&cl->connected);
	st->delivered_seq = atomic_load(&cl->delivered_seq);
	st->lag = atomic_load(&cl->pending) + queued;
	st->published = atomic_load(&cl->published);
	st->failed = atomic_load(&cl->failed);
	st->disconnects = atomic_load(&cl->disconnects);
	st->lost = atomic_load(&cl->lost);
}

/*
 * Wait, a bounded while, until nats.c's threads are out of our code:
 * the subscription's completion, the connection's closed callback (its
 * last), then any callback still running.  False if they did not all
 * finish in time: cl must not be freed then.
 */
static bool
wait_callbacks(struct cluster *cl)
{
	struct timespec	 until;
	bool		 done;
	int		 i;

	pthread_mutex_lock(&cl->lock);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	while (((cl->sub != NULL && !cl->sub_done) ||
	    (cl->nc != NULL && !cl->nc_closed)) &&
	    pthread_cond_timedwait(&cl->changed, &cl->lock, &until) == 0)
		;
	done = (cl->sub == NULL || cl->sub_done) &&
	    (cl->nc == NULL || cl->nc_closed);
	pthread_mutex_unlock(&cl->lock);
	for (i = 0; i < 2000 && atomic_load(&cl->in_callback) > 0; i++)
		usleep(1000);
	return done && atomic_load(&cl->in_callback) == 0;
}

void
cluster_close(struct cluster *cl)
{
	struct cluster_item	*it;

	if (cl == NULL)
		return;
	pthread_mutex_lock(&cl->lock);
	cl->closing = true;
	pthread_cond_broadcast(&cl->changed);
	pthread_mutex_unlock(&cl->lock);
	if (cl->beating)
		pthread_join(cl->beat, NULL);
	/* A clean stop is an end too: the others drop our users now. */
	if (cl->beating && atomic_load(&cl->connected)) {
		announce_end(cl, cl->node);
		kvStore_Delete(cl->nodes, cl->node);
	}
	if (cl->sub != NULL)
		natsSubscription_Unsubscribe(cl->sub);
	if (cl->nc != NULL)
		natsConnection_Close(cl->nc);
	if (!wait_callbacks(cl)) {
		/* A leak at exit rather than a callback on freed memory. */
		log_warn("NATS callbacks still running at close");
		return;
	}
	natsSubscription_Destroy(cl->sub);
	kvStore_Destroy(cl->nicks);
	kvStore_Destroy(cl->nodes);
	jsCtx_Destroy(cl->js);
	natsConnection_Destroy(cl->nc);
	while ((it = cl->head) != NULL) {
		cl->head = it->next;
		free(it);
	}
	if (cl->efd >= 0)
		close(cl->efd);
	pthread_cond_destroy(&cl->changed);
	pthread_mutex_destroy(&cl->lock);
	free(cl);
}

void
cluster_library_close(void)
{
	nats_CloseAndWait(2000);
}
