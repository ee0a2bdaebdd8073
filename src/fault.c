/*
 * fault.c - allocation-failure injection (see fault.h).
 */
#include <stdatomic.h>

#include "fault.h"

static atomic_uint	 armed[FAULT_NSITES];

void
fault_arm(enum fault_site site, unsigned n)
{
	atomic_store(&armed[site], n);
}

bool
fault_fail(enum fault_site site)
{
	unsigned	 left = atomic_load_explicit(&armed[site],
	    memory_order_relaxed);

	/* Two threads may race for the last one: exactly one wins it. */
	while (left > 0)
		if (atomic_compare_exchange_weak(&armed[site], &left, left - 1))
			return true;
	return false;
}
