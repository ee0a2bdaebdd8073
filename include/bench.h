/*
 * bench.h - the accounting of chat-bench, with no sockets: payload
 * encoding, per-receiver sequence tracking, the latency histogram and
 * the summary writers.  Pure and single-threaded: each load thread owns
 * its own trackers and histogram, and the histograms are merged at the
 * end.
 *
 * Payload.  A message is ASCII text, valid UTF-8 with no control
 * character and not starting with '/', exactly size bytes long:
 *
 *	B <sender> <seq> <ts_ns>[ xxx...]
 *
 * sender and seq are decimal, ts_ns is the sender's CLOCK_MONOTONIC
 * time in nanoseconds, and the padding is one space and as many 'x' as
 * make up size.  size must be at least BENCH_PAYLOAD_MIN, the longest
 * header, so every message of a run has the same length.
 *
 * Sequence accounting.  Each sender numbers its messages 0, 1, 2, ...
 * For every (receiver, sender) pair the tracker knows exactly which
 * sequence numbers have arrived: every number below "next", plus a
 * bitmap of the numbers above it.  An arrival is
 *  - a duplicate if that number has already arrived;
 *  - reordered if it is new but a higher number from the same sender
 *    has already arrived (it came late);
 *  - in order otherwise.
 * At the end, lost = sent - distinct arrivals, per pair.  The bitmap
 * exists only while there is a gap, so in-order delivery costs no
 * memory beyond the pair's fixed state.
 *
 * Rooms.  With R rooms, receiver i is in room i % R and sender s in
 * room s % R (receivers and senders are numbered from 0 separately;
 * with chatd sender s is also receiver s).  So senders 0..R-1 open
 * rooms 0..R-1 and every room with a sender also holds the receiver of
 * the same number.  A receiver owes only the messages of its room's
 * senders: it tracks those pairs alone, and counts an arrival from any
 * other room as misrouted, neither a delivery nor a loss.  One room is
 * the plain case: every receiver owes every sender.
 *
 * Own lines.  chatd's line protocol echoes a sender's line back to it,
 * so there sender s is owed its own messages like everyone in its room.
 * An IRC server sends a sender nothing of its own (unless echo-message
 * is negotiated, which chat-bench does not do): bench_rx_no_echo() tells
 * the tracker so, and then its own messages are neither expected nor
 * lost, and one that comes back anyway is counted apart, not delivered.
 *
 * IRC lines.  bench_irc_parse() splits one line, without its CR LF,
 * into the source's nick, the command (a numeric's value too) and the
 * parameters, pointing into the line: what chat-bench needs to answer
 * PING, to see its registration and JOIN through, and to take the
 * payload out of "PRIVMSG #room :payload".  Message tags are skipped.
 *
 * Histogram.  Log-linear buckets over nanoseconds: exact below 128 ns,
 * then 128 buckets per power of two, so a bucket is at most 1/128 of
 * its value wide and a reported percentile (the bucket's midpoint) is
 * within 0.4% of the true value, from 128 ns up to about 18 minutes.
 * Larger values land in the last bucket; the maximum is kept exactly.
 */
#ifndef CHATD_BENCH_H
#define CHATD_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* "B " + 6-digit sender + " " + 20-digit seq + " " + 20-digit ts. */
#define BENCH_PAYLOAD_MIN	50
#define BENCH_PAYLOAD_MAX	(1024 * 1024)
#define BENCH_SENDERS_MAX	999999

/* The room of receiver or sender number member, out of nrooms >= 1. */
uint32_t	bench_room_of(uint32_t member, uint32_t nrooms);
/* How many of nsenders senders are in room (0 for a silent room). */
uint32_t	bench_room_senders(uint32_t nsenders, uint32_t nrooms,
		    uint32_t room);

struct bench_msg {
	uint32_t	sender;
	uint64_t	seq;
	uint64_t	ts_ns;
};

/*
 * Write the payload for m into buf (no line ending, no NUL) and return
 * its length, which is size.  Returns 0 if size is out of range or buf
 * is too small.
 */
size_t	bench_payload_encode(char *buf, size_t bufsize, size_t size,
	    const struct bench_msg *m);

/*
 * Parse a payload of exactly len bytes.  0 and *m filled, or -1 if it
 * is not a well-formed payload (wrong prefix, missing, signed, empty or
 * overflowing numbers, a sender above BENCH_SENDERS_MAX, padding other
 * than one space and 'x's).
 */
int	bench_payload_decode(const char *p, size_t len, struct bench_msg *m);

/* One (receiver, sender) pair. */
struct bench_seq {
	uint64_t	 next;		/* every seq below has arrived */
	uint64_t	 high;		/* one past the highest arrived */
	uint64_t	 base;		/* seq of bit 0; a multiple of 64 */
	uint64_t	*bits;		/* arrived seqs at or above next */
	uint32_t	 nwords;
	uint32_t	 ahead;		/* bits set */
};

enum bench_arrival {
	BENCH_IN_ORDER,
	BENCH_REORDERED,
	BENCH_DUPLICATE,
	BENCH_BAD_SENDER,	/* sender id outside [0, nsenders) */
	BENCH_MISROUTED,	/* a sender of another room: not counted */
	BENCH_NOMEM,		/* could not grow the bitmap: not counted */
	BENCH_OWN_ECHO		/* no_echo, and our own line: not counted */
};

/*
 * One receiver: what it got from each sender of its room.  seqs[j] is
 * sender room + j * nrooms.
 */
struct bench_rx {
	struct bench_seq	*seqs;
	uint32_t		 nseqs;		/* senders in the room */
	uint32_t		 nsenders;	/* senders in all rooms */
	uint32_t		 nrooms;
	uint32_t		 room;
	int64_t			 self;		/* bench_rx_no_echo(), or -1 */
	uint64_t		 arrivals;	/* duplicates too */
	uint64_t		 distinct;
	uint64_t		 reordered;
	uint64_t		 duplicated;
	uint64_t		 bad_sender;
	uint64_t		 misrouted;
	uint64_t		 own_echo;
};

/* A receiver in the one room: it owes every sender. */
int		 bench_rx_init(struct bench_rx *rx, uint32_t nsenders);
/* A receiver in room (< nrooms) of nrooms; -1 on bad arguments too. */
int		 bench_rx_init_room(struct bench_rx *rx, uint32_t nsenders,
		    uint32_t nrooms, uint32_t room);
void		 bench_rx_free(struct bench_rx *rx);
/* rx is sender self too, and is not sent its own messages (IRC). */
void		 bench_rx_no_echo(struct bench_rx *rx, uint32_t self);
enum bench_arrival bench_rx_add(struct bench_rx *rx, uint32_t sender,
		    uint64_t seq);
/* Distinct sequence numbers that arrived from sender (0: other room). */
uint64_t	 bench_rx_received(const struct bench_rx *rx, uint32_t sender);
/*
 * sent[] is indexed by sender number, over all rooms.  Expected: the
 * sum of sent[s] over the senders s of the receiver's room (but itself
 * after bench_rx_no_echo()).  Lost: the
 * messages of those senders it should have had but did not, the sum of
 * sent[s] minus the distinct arrivals from s (never below 0).
 */
uint64_t	 bench_rx_expected(const struct bench_rx *rx,
		    const uint64_t *sent);
uint64_t	 bench_rx_lost(const struct bench_rx *rx, const uint64_t *sent);

#define BENCH_IRC_PARAMS	15	/* RFC 1459: at most 15 parameters */

struct bench_irc_str {
	const char	*p;
	size_t		 len;
};

struct bench_irc {
	struct bench_irc_str	nick;	/* of the source; len 0 if none */
	struct bench_irc_str	cmd;
	unsigned		numeric;	/* 1 to 999, or 0: a word */
	uint32_t		nparams;
	struct bench_irc_str	params[BENCH_IRC_PARAMS];
};

/*
 * Split an IRC line of len bytes (no CR LF).  0, or -1 if it has no
 * command or a source or tags with nothing after them.
 */
int	bench_irc_parse(const char *p, size_t len, struct bench_irc *m);
/* Is the command cmd (ASCII-case-insensitively)? */
bool	bench_irc_is(const struct bench_irc *m, const char *cmd);

#define BENCH_HIST_SUB_BITS	7
#define BENCH_HIST_SUB		(1u << BENCH_HIST_SUB_BITS)
#define BENCH_HIST_TOP_BIT	39	/* last octave: [2^39, 2^40) ns */
#define BENCH_HIST_BUCKETS \
	(BENCH_HIST_SUB * (BENCH_HIST_TOP_BIT - BENCH_HIST_SUB_BITS + 2))

struct bench_hist {
	uint64_t	count;
	uint64_t	min;
	uint64_t	max;
	double		sum;
	uint64_t	buckets[BENCH_HIST_BUCKETS];
};

void		bench_hist_init(struct bench_hist *h);
void		bench_hist_add(struct bench_hist *h, uint64_t ns);
void		bench_hist_merge(struct bench_hist *dst,
		    const struct bench_hist *src);
/* The p-th percentile (0 < p <= 100) in ns; 0 when empty. */
uint64_t	bench_hist_percentile(const struct bench_hist *h, double p);
double		bench_hist_mean(const struct bench_hist *h);
/* The bucket of a value, and the range [lo, hi] it covers (tests). */
size_t		bench_hist_index(uint64_t ns);
void		bench_hist_range(size_t idx, uint64_t *lo, uint64_t *hi);

/* Everything a run reports.  Unknown values are negative. */
struct bench_summary {
	const char		*proto;		/* "chatd", "irc" or "redis" */
	bool			 tls;
	const char		*target;	/* host:port or unix:path */
	uint32_t		 clients;
	uint32_t		 senders;
	uint32_t		 rooms;		/* 0 counts as 1 */
	uint32_t		 threads;
	size_t			 size;
	double			 rate;		/* 0: closed loop */
	uint32_t		 window;	/* 0: open loop */
	double			 warmup_s;
	double			 duration_s;

	uint32_t		 connected;
	uint32_t		 connect_failures;
	double			 connect_s;
	uint64_t		 disconnects;

	uint64_t		 sent_measure;	/* in the measure phase */
	uint64_t		 deliveries_measure;
	uint64_t		 sent;		/* whole run */
	uint64_t		 unsent;	/* still in our buffers at the end */
	uint64_t		 deliveries;
	uint64_t		 expected;	/* deliveries owed to receivers */
	uint64_t		 lost;
	uint64_t		 reordered;
	uint64_t		 duplicated;
	uint64_t		 misrouted;	/* from another room */
	uint64_t		 own_echo;	/* IRC: our own line back */
	uint64_t		 malformed;
	uint64_t		 server_errors;
	bool			 drained;
	double			 drain_s;

	const struct bench_hist	*latency;	/* measure-phase messages */

	long			 rss_before_kb;
	long			 rss_after_kb;
};

/* One JSON object on one line.  0, or -1 on a write error. */
int	bench_json_write(FILE *f, const struct bench_summary *s);
/* The same for people. */
int	bench_text_write(FILE *f, const struct bench_summary *s);

#endif /* CHATD_BENCH_H */
