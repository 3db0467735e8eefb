// SPDX-License-Identifier: MIT
/*
 * liburcu has no public "am I registered?" call, but its default flavour
 * keeps a per-thread `registered` bit, set by rcu_register_thread() and
 * cleared by rcu_unregister_thread(), that its own debug assertions read
 * (urcu/static/urcu-memb.h). _LGPL_SOURCE exposes the same thread-local to
 * us; this is the only file that looks at it.
 */
#define _LGPL_SOURCE
#include "host/util/rcu_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <urcu.h>

bool rcu_reader_registered(void)
{
	return URCU_TLS(urcu_memb_reader).registered;
}

void rcu_reader_assert(const char *where)
{
	if (rcu_reader_registered())
		return;
	fprintf(stderr, "pvkvm: bug: %s called on a thread that is not an RCU reader (rcu_register_thread missing)\n",
		where);
	abort();
}
