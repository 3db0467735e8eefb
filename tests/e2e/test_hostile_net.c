// SPDX-License-Identifier: MIT
/*
 * The hostile network guest (pvkern's hostilenet): one test per
 * misbehaviour, each a real pvkvm with two PV NICs on one built-in switch
 * (in a private PVKVM_SWITCH_DIR); NIC 0 is attacked by a frontend spoken
 * by hand, NIC 1 is a well-behaved netfront that floods NIC 0 where a case
 * needs traffic and afterwards exchanges frames with NIC 0 (reconnected)
 * both ways. What the host side checks:
 *  - the VMM stays up and the guest shuts down with status 0 (every answer
 *    the guest got was the one docs/net.md promises, pages it granted
 *    read-only did not change, and both NICs work afterwards);
 *  - a broken ring is said in exactly one stderr line, however often the
 *    guest breaks it (the rate limit), other cases in none;
 *  - the VMM's peak memory (VmHWM from /proc, sampled while it runs, and
 *    ru_maxrss at exit) stays within 32 MiB of a well-behaved run's;
 *  - a guest that posts no receive buffers under a flood costs at most the
 *    bounded queue (NETBACK_RXQ_LEN frames are held, the rest dropped and
 *    counted in net0.rx_dropped_no_buffer, printed by --stats).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostile_run.h"
#include "pvkvm_run.h"

#define RXQ_LEN 256u /* NETBACK_RXQ_LEN (host/net/netback.h) */
#define FLOOD 2000u  /* frames prog_hostile_net.c's rx-flood sends */


static char switch_dir[64];

static void setup(void)
{
	require_platform();
	snprintf(switch_dir, sizeof(switch_dir), "/tmp/pvkvm-thn-%d", (int)getpid());
	mkdir(switch_dir, 0700);
	setenv("PVKVM_SWITCH_DIR", switch_dir, 1);
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", switch_dir);
	if (system(cmd) != 0) {
		/* nothing to do: a leftover empty directory in /tmp */
	}
}

TestSuite(hostile_net, .init = setup, .fini = teardown, .timeout = 120);

/* pvkvm run --stats --net switch --net switch pvkern.elf -- ARGS, with its
 * memory sampled from /proc while it runs. */
static struct hrun *run_guest(char *const args[])
{
	static char net[64];
	snprintf(net, sizeof(net), "switch=hn%d,mode=pv", (int)getpid());
	char *argv[16] = { PVKVM, "run", "--stats", "--net", net, "--net", net, PVKERN, "--" };
	int n = 9;
	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return hrun_exec(argv);
}

/* A --stats counter ("  net0.rx_dropped_no_buffer   1744"), -1 if absent. */
static long long stat_of(const char *out, const char *name)
{
	const char *p = strstr(out, name);
	if (!p)
		return -1;
	return strtoll(p + strlen(name), NULL, 10);
}

/* The well-behaved run's peak memory (the same two NICs, frames echoed
 * between them), once per process. */
static long baseline_kib(void)
{
	static long kib;
	if (!kib) {
		char *args[] = { "netverify", "ip=10.0.2.4/24", "peer=10.0.2.3", "echo_nic=1",
				 "count=150", NULL };
		struct hrun *r = run_guest(args);
		cr_assert_eq(r->status, 0, "the well-behaved run:\n%s", r->out);
		kib = r->hwm_kib;
		free(r);
	}
	return kib;
}

static struct hrun *hostile(const char *name, unsigned int broken_lines)
{
	long base = baseline_kib();
	char *args[] = { "hostilenet", (char *)name, NULL };
	struct hrun *r = run_guest(args);
	hrun_expect_survived(r, "hostilenet", name, "vif1", broken_lines, base);
	cr_log_info("%s: peak %ld KiB (well-behaved %ld KiB)", name, r->hwm_kib, base);
	return r;
}

static void hostile_case(const char *name, unsigned int broken_lines)
{
	free(hostile(name, broken_lines));
}

Test(hostile_net, rx_buffers_never_posted_under_a_flood)
{
	struct hrun *r = hostile("rx-flood", 0);
	const char *p = strstr(r->out, "hostilenet: rx-flood: ");
	unsigned int held = 0;
	cr_assert(p && sscanf(p, "hostilenet: rx-flood: %u of", &held) == 1, "%s", r->out);
	long long dropped = stat_of(r->out, "net0.rx_dropped_no_buffer");
	cr_assert_leq(held, RXQ_LEN, "%u frames held for a guest with no buffers", held);
	cr_assert_gt(dropped, 0, "no drop counted:\n%s", r->out);
	cr_assert_leq(dropped + held, FLOOD, "more frames counted than were sent");
	cr_log_info("rx-flood: %u held, %lld dropped and counted", held, dropped);
	free(r);
}

Test(hostile_net, tx_chain_that_never_ends) { hostile_case("endless-chain", 0); }
Test(hostile_net, zero_length_frames) { hostile_case("zero-length", 0); }
Test(hostile_net, oversized_frames) { hostile_case("oversized", 0); }
Test(hostile_net, slot_past_its_page) { hostile_case("slot-past-page", 0); }
Test(hostile_net, bad_grants_tx_and_rx) { hostile_case("grants", 0); }
Test(hostile_net, tx_producer_index_impossible) { hostile_case("prod-impossible", 1); }
Test(hostile_net, rx_producer_index_impossible) { hostile_case("rx-prod-impossible", 1); }
Test(hostile_net, broken_twenty_times_one_log_line) { hostile_case("break-loop", 1); }
Test(hostile_net, notification_storm) { hostile_case("notify-storm", 0); }
Test(hostile_net, close_and_reconnect_mid_traffic) { hostile_case("reopen", 0); }
