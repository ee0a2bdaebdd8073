/*
 * iplimit.c - per-address connection counts and connect-rate buckets,
 * in a chained hash table that grows with the number of addresses.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "iplimit.h"

#define INITIAL_BUCKETS	64
#define MILLI		1000u	/* tokens are kept in thousandths */

struct ipentry {
	struct ipkey	 key;
	unsigned	 conns;
	uint64_t	 tokens;	/* thousandths of an attempt */
	uint64_t	 refilled_ms;
	struct ipentry	*next;
};

struct iplimit {
	struct ipentry	**buckets;
	size_t		  nbuckets;	/* a power of two */
	size_t		  nentries;
	uint64_t	  seed;
};

struct iplimit *
iplimit_new(uint64_t seed)
{
	struct iplimit	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->nbuckets = INITIAL_BUCKETS;
	if ((t->buckets = calloc(t->nbuckets, sizeof(*t->buckets))) == NULL) {
		free(t);
		return NULL;
	}
	t->seed = seed;
	return t;
}

void
iplimit_free(struct iplimit *t)
{
	struct ipentry	*e, *next;
	size_t		 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nbuckets; i++)
		for (e = t->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(t->buckets);
	free(t);
}

int
ipkey_from_sockaddr(const struct sockaddr *sa, struct ipkey *key,
    bool *loopback)
{
	static const uint8_t	 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	const uint8_t		*a;

	memset(key, 0, sizeof(*key));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		memcpy(key->bytes, mapped, sizeof(mapped));
		memcpy(key->bytes + 12, &sin->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		a = sin6->sin6_addr.s6_addr;
		if (memcmp(a, mapped, sizeof(mapped)) == 0)
			memcpy(key->bytes, a, 16);
		else if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			memcpy(key->bytes, a, 16);
		else
			memcpy(key->bytes, a, 8);	/* the /64 */
	} else
		return -1;
	*loopback = (memcmp(key->bytes, mapped, sizeof(mapped)) == 0 &&
	    key->bytes[12] == 127) ||
	    (sa->sa_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(
	    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr));
	return 0;
}

/* FNV-1a, seeded. */
static size_t
slot_of(const struct iplimit *t, const struct ipkey *key)
{
	uint64_t	 h = 14695981039346656037ULL ^ t->seed;
	size_t		 i;

	for (i = 0; i < sizeof(key->bytes); i++) {
		h ^= key->bytes[i];
		h *= 1099511628211ULL;
	}
	h ^= h >> 29;
	return (size_t)h & (t->nbuckets - 1);
}

static struct ipentry *
lookup(const struct iplimit *t, const struct ipkey *key)
{
	struct ipentry	*e;

	for (e = t->buckets[slot_of(t, key)]; e != NULL; e = e->next)
		if (memcmp(&e->key, key, sizeof(*key)) == 0)
			return e;
	return NULL;
}

/* Double the table; on failure keep the old one, only chains get longer. */
static void
grow(struct iplimit *t)
{
	struct ipentry	**old = t->buckets, **nb, *e, *next;
	size_t		  oldn = t->nbuckets, i, s;

	if ((nb = calloc(oldn * 2, sizeof(*nb))) == NULL)
		return;
	t->buckets = nb;
	t->nbuckets = oldn * 2;
	for (i = 0; i < oldn; i++)
		for (e = old[i]; e != NULL; e = next) {
			next = e->next;
			s = slot_of(t, &e->key);
			e->next = nb[s];
			nb[s] = e;
		}
	free(old);
}

static uint64_t
burst_milli(const struct iplimit_policy *p)
{
	return (uint64_t)(p->burst > 0 ? p->burst : 1) * MILLI;
}

static void
refill(struct ipentry *e, const struct iplimit_policy *p, uint64_t now_ms)
{
	uint64_t	 full = burst_milli(p);

	if (now_ms > e->refilled_ms) {
		/* rate attempts a second is rate thousandths a millisecond. */
		e->tokens += (now_ms - e->refilled_ms) * p->rate;
		e->refilled_ms = now_ms;
	}
	if (e->tokens > full)
		e->tokens = full;
}

enum iplimit_verdict
iplimit_admit(struct iplimit *t, const struct ipkey *key,
    const struct iplimit_policy *p, uint64_t now_ms)
{
	struct ipentry	*e;
	size_t		 s;

	if ((e = lookup(t, key)) == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return IPLIMIT_NOMEM;
		e->key = *key;
		e->tokens = burst_milli(p);
		e->refilled_ms = now_ms;
		s = slot_of(t, key);
		e->next = t->buckets[s];
		t->buckets[s] = e;
		if (++t->nentries > t->nbuckets * 2)
			grow(t);
	}
	if (p->rate > 0) {
		refill(e, p, now_ms);
		if (e->tokens < MILLI)
			return IPLIMIT_TOO_FAST;
		e->tokens -= MILLI;
	}
	if (p->max_conns > 0 && e->conns >= p->max_conns)
		return IPLIMIT_TOO_MANY;
	e->conns++;
	return IPLIMIT_OK;
}

void
iplimit_release(struct iplimit *t, const struct ipkey *key)
{
	struct ipentry	*e;

	/* The sweep forgets an entry only once it holds no connection. */
	if ((e = lookup(t, key)) != NULL && e->conns > 0)
		e->conns--;
}

void
iplimit_sweep(struct iplimit *t, const struct iplimit_policy *p,
    uint64_t now_ms)
{
	struct ipentry	**pe, *e;
	size_t		  i;

	for (i = 0; i < t->nbuckets; i++) {
		pe = &t->buckets[i];
		while ((e = *pe) != NULL) {
			if (e->conns == 0)
				refill(e, p, now_ms);
			if (e->conns == 0 &&
			    (p->rate == 0 || e->tokens >= burst_milli(p))) {
				*pe = e->next;
				free(e);
				t->nentries--;
			} else
				pe = &e->next;
		}
	}
}

size_t
iplimit_entries(const struct iplimit *t)
{
	return t->nentries;
}

unsigned
iplimit_count(const struct iplimit *t, const struct ipkey *key)
{
	const struct ipentry	*e = lookup(t, key);

	return e != NULL ? e->conns : 0;
}
