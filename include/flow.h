/*
 * flow.h - the back-pressure policy, as pure arithmetic: when a
 * recipient is behind, when it is slow enough to cut, how long blocked
 * recipients may hold the senders, and what a line costs the flood
 * bucket.  conn.c and server.c apply it; nothing here has a socket.
 *
 * The rule (doc/SECURITY.md defends it with figures):
 *   - A recipient is *behind* once its queue costs half of --sendq,
 *     until it drains to a quarter.  While any recipient is behind, the
 *     server stops reading the senders: they wait, nothing they sent is
 *     dropped.
 *   - A recipient is *blocked* when its socket took no more (EAGAIN)
 *     and has not drained since.  A recipient that is not blocked is
 *     *busy*: the server is the one behind, and it is never cut.
 *   - A recipient that has spent --slow-timeout blocked while behind,
 *     since it last caught up, is cut; so is a blocked one over --sendq.
 *   - Blocked recipients may hold the senders for a bounded share of
 *     the time (the hold budget, 1/8): once it is spent, a blocked recipient
 *     that is behind is cut when it is seen, so never-readers arriving
 *     one after another cannot stall a room without end.
 */
#ifndef CHATD_FLOW_H
#define CHATD_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * What one queued line costs beyond its bytes: the ring slot (a
 * pointer, doubled for the ring's power-of-two slack) and, for a line
 * to one client alone, its msg header and malloc's own overhead.  With
 * it, --sendq bounds memory and not only bytes.
 */
#define FLOW_LINE_OVERHEAD	40

/* The flood bucket charges a line one token per this many relayed bytes. */
#define FLOW_BYTES_PER_TOKEN	1024

/* Blocked recipients may hold the senders this share of the time. */
#define FLOW_HOLD_SHARE		8	/* one part in eight */

struct flow_marks {
	size_t	 high;		/* behind from here */
	size_t	 low;		/* caught up again at or below this */
	size_t	 limit;		/* --sendq: a blocked recipient is cut */
};

/*
 * The three below run for every recipient of every line, under the room
 * lock: inline, so they cost a few instructions and no call.
 */
static inline void
flow_marks_init(struct flow_marks *m, size_t sendq)
{
	m->limit = sendq;
	m->high = sendq / 2;
	m->low = sendq / 4;
}

/* The cost of a queue of lines holding bytes in all. */
static inline size_t
flow_cost(size_t bytes, size_t lines)
{
	return bytes + lines * FLOW_LINE_OVERHEAD;
}

/*
 * Whether a recipient is behind now, given whether it was.  Two marks,
 * so a queue near one of them does not flap.
 */
static inline bool
flow_behind(bool was_behind, size_t cost, const struct flow_marks *m)
{
	if (was_behind)
		return cost > m->low;
	return cost >= m->high;
}

/*
 * Bytes of relayed lines a worker gathers before it hands them to the
 * room: what the senders can add past the high-water mark while they
 * are being stopped is at most this (and one line) per worker.
 */
size_t	 flow_batch_bytes(size_t sendq, unsigned workers);

/* Tokens a line costs, by the size of what it makes chatd relay. */
unsigned flow_line_tokens(size_t relayed_bytes);

/*
 * The hold budget, in milliseconds: a token bucket that blocked
 * recipients drain while they hold the senders, and that refills at
 * 1/FLOW_HOLD_SHARE of real time, up to twice --slow-timeout.  So in
 * the long run stalled recipients hold the senders at most one part in
 * FLOW_HOLD_SHARE of the time, however many arrive one after another.
 */
struct flow_budget {
	double		 level_ms;
	double		 cap_ms;
	uint64_t	 last_ms;
};

void	 flow_budget_init(struct flow_budget *b, unsigned slow_timeout_ms,
	    uint64_t now_ms);
/*
 * Account the time since the last call: held says whether blocked
 * recipients held the senders through it.  Returns true if the budget
 * is spent.
 */
bool	 flow_budget_update(struct flow_budget *b, bool held,
	    unsigned slow_timeout_ms, uint64_t now_ms);

/*
 * How long a recipient has been stalled: blocked while behind.  Only the
 * time its socket is full counts, so a busy recipient that the server is
 * slow to feed gathers next to nothing, while one that reads a trickle
 * gathers nearly all of it.  Catching up starts it again from nothing.
 */
struct flow_stall {
	uint64_t	 since_ms;	/* stalled now since then, or 0 */
	uint64_t	 total_ms;	/* earlier stretches */
};

void	 flow_stall_start(struct flow_stall *s, uint64_t now_ms);
void	 flow_stall_stop(struct flow_stall *s, uint64_t now_ms);
void	 flow_stall_reset(struct flow_stall *s);
uint64_t flow_stall_ms(const struct flow_stall *s, uint64_t now_ms);

static inline bool
flow_stalled_now(const struct flow_stall *s)
{
	return s->since_ms != 0;
}

/*
 * Whether to cut a recipient: only one stalled now, once it has been
 * stalled for slow_timeout_ms since it last caught up, or at once when
 * the hold budget is spent.
 */
bool	 flow_should_cut(const struct flow_stall *s, uint64_t now_ms,
	    unsigned slow_timeout_ms, bool budget_spent);

#endif /* CHATD_FLOW_H */
