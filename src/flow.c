/*
 * flow.c - the back-pressure policy (flow.h).
 */
#include "flow.h"

#define BATCH_MIN	4096
#define BATCH_MAX	(32 * 1024)

/*
 * Every worker may add a batch past the high-water mark before it sees
 * that the senders must stop; a quarter of the sendq shared out between
 * them keeps the total under --sendq.
 */
size_t
flow_batch_bytes(size_t sendq, unsigned workers)
{
	size_t	 n = sendq / 4 / (workers > 0 ? workers : 1);

	if (n < BATCH_MIN)
		n = BATCH_MIN;
	if (n > BATCH_MAX)
		n = BATCH_MAX;
	return n;
}

unsigned
flow_line_tokens(size_t relayed_bytes)
{
	size_t	 n = (relayed_bytes + FLOW_BYTES_PER_TOKEN - 1) /
	    FLOW_BYTES_PER_TOKEN;

	if (n < 1)
		n = 1;
	if (n > 1000000)
		n = 1000000;
	return (unsigned)n;
}

void
flow_budget_init(struct flow_budget *b, unsigned slow_timeout_ms,
    uint64_t now_ms)
{
	b->cap_ms = 2.0 * slow_timeout_ms;
	b->level_ms = b->cap_ms;
	b->last_ms = now_ms;
}

bool
flow_budget_update(struct flow_budget *b, bool held, unsigned slow_timeout_ms,
    uint64_t now_ms)
{
	double	 elapsed = now_ms > b->last_ms ?
	    (double)(now_ms - b->last_ms) : 0.0;

	/* A reload may have changed --slow-timeout. */
	b->cap_ms = 2.0 * slow_timeout_ms;
	b->last_ms = now_ms;
	b->level_ms += elapsed / FLOW_HOLD_SHARE;
	if (held)
		b->level_ms -= elapsed;
	if (b->level_ms > b->cap_ms)
		b->level_ms = b->cap_ms;
	if (b->level_ms < 0)
		b->level_ms = 0;
	return b->level_ms <= 0;
}

void
flow_stall_start(struct flow_stall *s, uint64_t now_ms)
{
	if (s->since_ms == 0)
		s->since_ms = now_ms > 0 ? now_ms : 1;
}

void
flow_stall_stop(struct flow_stall *s, uint64_t now_ms)
{
	if (s->since_ms == 0)
		return;
	if (now_ms > s->since_ms)
		s->total_ms += now_ms - s->since_ms;
	s->since_ms = 0;
}

void
flow_stall_reset(struct flow_stall *s)
{
	s->since_ms = s->total_ms = 0;
}

uint64_t
flow_stall_ms(const struct flow_stall *s, uint64_t now_ms)
{
	uint64_t	 ms = s->total_ms;

	if (s->since_ms != 0 && now_ms > s->since_ms)
		ms += now_ms - s->since_ms;
	return ms;
}

bool
flow_should_cut(const struct flow_stall *s, uint64_t now_ms,
    unsigned slow_timeout_ms, bool budget_spent)
{
	if (!flow_stalled_now(s))
		return false;
	return budget_spent || flow_stall_ms(s, now_ms) >= slow_timeout_ms;
}
