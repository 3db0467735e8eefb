/* SPDX-License-Identifier: MIT */
/*
 * What the network programs (prog_net*.c) share: the common arguments
 * (mode=, nic=, ip=, peer=, port=), opening the interface and its stack,
 * and the "ready" line the host waits for before it sends anything.
 */
#ifndef PVKERN_NET_PROG_H
#define PVKERN_NET_PROG_H

#include <stdbool.h>
#include <stdint.h>

#include "net.h"
#include "netstack.h"

struct net_prog_args {
	enum net_mode mode;
	uint64_t nic;
	const char *cidr;   /* ip=A.B.C.D/N, default 10.0.0.2/24 */
	uint32_t peer;      /* peer=A.B.C.D, 0 if not given */
	uint64_t port;      /* port=N */
	uint64_t time_ms, warmup_ms, count, size, spin_us;
	const char *dir;    /* dir=tx|rx (netbench) */
};

/* Fills defaults, then parses every argument: false (and a line naming
 * the bad one) on anything it does not know. */
bool net_prog_parse(const char *prog, int argc, char **argv,
		    struct net_prog_args *a);
/* Opens the interface and binds the stack: 0, or a line and an error. */
int net_prog_open(const char *prog, const struct net_prog_args *a,
		  struct netstack *s);
/* "PROG: ready mode=.. mac=.. ip=..": the host may start now. */
void net_prog_ready(const char *prog, const struct netstack *s);
/* "A.B.C.D" of a host-order address into buf (16 bytes). */
const char *net_ip_str(uint32_t ip, char buf[16]);

#endif
