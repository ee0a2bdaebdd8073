/*
 * iplimit.h - admission per client address: how many connections one
 * address holds, and how fast it may open new ones.
 *
 * A hostile host must not be able to fill --max-clients by itself, nor
 * burn the acceptor's time by reconnecting in a loop.  Each address has a
 * count of live connections and a token bucket of connection attempts;
 * every attempt takes a token, refused or not, so a client that hammers
 * only keeps its own bucket empty.
 *
 * An IPv6 client is counted by its /64 prefix: one host is usually given
 * a whole /64 and can connect from any address in it.  An IPv4-mapped
 * IPv6 address counts as the IPv4 address.
 *
 * Pure: no sockets, no clock (callers pass the time) and no locks.  In
 * chatd the acceptor thread alone calls it.  Memory: one entry per
 * address that holds a connection or whose bucket is still refilling;
 * iplimit_sweep() drops the rest.
 */
#ifndef CHATD_IPLIMIT_H
#define CHATD_IPLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ipkey {
	uint8_t		 bytes[16];	/* IPv4 as ::ffff:a.b.c.d; IPv6 /64 */
};

/* The policy; a zero turns that limit off. */
struct iplimit_policy {
	unsigned	 max_conns;	/* live connections per address */
	unsigned	 rate;		/* attempts per second, refilled */
	unsigned	 burst;		/* attempts at once */
};

enum iplimit_verdict {
	IPLIMIT_OK,		/* admitted and counted: iplimit_release() later */
	IPLIMIT_TOO_MANY,	/* the address holds max_conns already */
	IPLIMIT_TOO_FAST,	/* its bucket is empty */
	IPLIMIT_NOMEM		/* no memory for a new entry: refused */
};

struct iplimit;

/* seed perturbs the hash, so no client can choose colliding keys. */
struct iplimit		*iplimit_new(uint64_t seed);
void			 iplimit_free(struct iplimit *t);

/*
 * The key of an AF_INET or AF_INET6 address; -1 for any other family.
 * *loopback is set for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104.
 */
int			 ipkey_from_sockaddr(const struct sockaddr *sa,
			    struct ipkey *key, bool *loopback);

enum iplimit_verdict	 iplimit_admit(struct iplimit *t,
			    const struct ipkey *key,
			    const struct iplimit_policy *p, uint64_t now_ms);
/* One connection admitted under key has closed. */
void			 iplimit_release(struct iplimit *t,
			    const struct ipkey *key);

/*
 * Drop the entries that hold no connection and whose bucket has refilled
 * to the burst: forgetting them changes no future verdict.
 */
void			 iplimit_sweep(struct iplimit *t,
			    const struct iplimit_policy *p, uint64_t now_ms);

/* For tests and /stats: entries held, and one address's connections. */
size_t			 iplimit_entries(const struct iplimit *t);
unsigned		 iplimit_count(const struct iplimit *t,
			    const struct ipkey *key);

#endif /* CHATD_IPLIMIT_H */
