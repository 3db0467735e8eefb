/* SPDX-License-Identifier: MIT */
/*
 * ring-bench: how fast two threads pass messages through a pvkvm ring.
 *
 * The workload is pipelined request/response round trips (ring_duo.h): the
 * frontend keeps the ring full of requests, the backend answers each one,
 * and one "message" below is one request plus its response. Each thread
 * sleeps on an eventfd (its event channel) when it finds nothing to do, as a
 * real backend does; --spin N lets it poll N times first, --poll never sleeps.
 *
 * For every ring size (8 .. 1024 slots) and notification mode it prints
 * messages per second and notifications (eventfd writes) per message.
 */
#include <getopt.h>


#include "ring/bench/ring_duo.h"

struct bench_opts {
	uint64_t count;
	uint32_t spin;
	uint32_t batch;
	uint32_t min_slots, max_slots;
	bool json;
	int repeat;
	int front_cpu, back_cpu; /* -1: not pinned */
	bool rsp_wake_half;
	bool single;
	int modes; /* bit 0: suppress, bit 1: always, bit 2: peer-polls */
};

static void usage(FILE *to)
{
	fprintf(to,
		"usage: ring-bench [--count N] [--spin N | --poll] [--batch N] [--min-slots N]\n"
		"                  [--max-slots N] [--mode M] [--repeat N] [--cpus F,B] [--json]\n"
		"\n"
		"Two threads (frontend, backend) pass pipelined request/response round\n"
		"trips through one ring; a message = one request + its response.\n"
		"Idle threads sleep on an eventfd after the ring's final check.\n"
		"\n"
		"  --count N      round trips per configuration (default 2000000)\n"
		"  --spin N       polls before sleeping when idle (default 0: sleep at once)\n"
		"  --poll         never sleep: poll forever (--spin 4294967295); as nobody\n"
		"                 arms an event index, nobody is notified either\n"
		"  --batch N      push (and maybe notify) every N messages (default 1, as a\n"
		"                 driver submitting one I/O at a time); 0 = push once per\n"
		"                 burst, when nothing more fits\n"
		"  --min-slots N  smallest ring (default 8)\n"
		"  --max-slots N  largest ring (default 1024); sizes double in between\n"
		"  --mode M       suppress, always, both (default) or peer-polls (with\n"
		"                 --poll only: pushes never read the event index, so skip\n"
		"                 the full barrier, and never notify)\n"
		"  --repeat N     runs per configuration, best kept (default 3)\n"
		"  --rsp-wake W   when the frontend sleeps, wake it at the next response\n"
		"                 (next, default) or once half of those in flight are\n"
		"                 answered (half: front_final_check_rsps_batch)\n"
		"  --single       one thread plays frontend and backend in turn (fill,\n"
		"                 answer, collect): the ring operations' own CPU cost\n"
		"  --cpus F,B     pin the frontend thread to CPU F, the backend to CPU B\n"
		"                 (default: not pinned)\n"
		"  --json         one JSON document instead of the table\n");
}

/* --mode: a set of modes, so one mode can be timed alone (e.g. beside
 * ringtest, which always uses event indices); 0 = not a mode. */
static int parse_modes(const char *arg)
{
	if (!strcmp(arg, "suppress"))
		return 1;
	if (!strcmp(arg, "always"))
		return 2;
	if (!strcmp(arg, "peer-polls"))
		return 4;
	return strcmp(arg, "both") ? 0 : 3;
}

static bool parse(int argc, char **argv, struct bench_opts *o)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "spin", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'b' },
		{ "min-slots", required_argument, NULL, 'm' },
		{ "max-slots", required_argument, NULL, 'M' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "poll", no_argument, NULL, 'p' },
		{ "mode", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "cpus", required_argument, NULL, 'C' },
		{ "rsp-wake", required_argument, NULL, 'w' },
		{ "single", no_argument, NULL, '1' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*o = (struct bench_opts){ .count = 2000000, .batch = 1, .min_slots = 8,
				  .max_slots = 1024, .repeat = 3, .modes = 3,
				  .front_cpu = -1, .back_cpu = -1 };
	while ((c = getopt_long(argc, argv, "c:s:b:m:M:r:po:jC:w:1h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->count = strtoull(optarg, NULL, 0); break;
		case 's': o->spin = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'b': o->batch = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'm': o->min_slots = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'M': o->max_slots = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'r': o->repeat = atoi(optarg); break;
		case 'p': o->spin = UINT32_MAX; break;
		case 'o': o->modes = parse_modes(optarg); break;
		case 'j': o->json = true; break;
		case '1': o->single = true; break;
		case 'w':
			if (strcmp(optarg, "next") && strcmp(optarg, "half"))
				return false;
			o->rsp_wake_half = !strcmp(optarg, "half");
			break;
		case 'C':
			if (sscanf(optarg, "%d,%d", &o->front_cpu, &o->back_cpu) != 2 ||
			    o->front_cpu < 0 || o->back_cpu < 0)
				return false;
			break;
		case 'h': usage(stdout); exit(0);
		default: return false;
		}
	}
	if (optind != argc || o->count == 0 || o->repeat < 1 || o->modes == 0 || o->min_slots == 0 ||
	    (o->min_slots & (o->min_slots - 1)) || o->max_slots < o->min_slots)
		return false;
	if ((o->modes & 4) && o->spin != UINT32_MAX && !o->single) {
		fprintf(stderr, "ring-bench: --mode peer-polls needs --poll (a sleeper would never be woken)\n");
		return false;
	}
	return true;
}

/* Best (fastest) of opts->repeat runs; false if any run failed. */
static bool measure(const struct bench_opts *o, uint32_t slots,
		    enum pvkvm_ring_notify mode, struct duo_result *best)
{
	struct duo_cfg cfg = { .nr_slots = slots, .mode = mode, .count = o->count,
			       .spin = o->spin, .batch = o->batch, .start = 0, .timeout_s = 300,
			       .pin = o->front_cpu >= 0, .front_cpu = o->front_cpu,
			       .back_cpu = o->back_cpu, .rsp_wake_half = o->rsp_wake_half,
			       .single = o->single };

	for (int i = 0; i < o->repeat; i++) {
		struct duo_result r;

		if (!duo_run(&cfg, &r)) {
			fprintf(stderr, "ring-bench: %u slots: %s\n", slots, r.err);
			return false;
		}
		if (i == 0 || r.seconds < best->seconds)
			*best = r;
	}
	return true;
}

static const char *mode_name(enum pvkvm_ring_notify mode)
{
	if (mode == PVKVM_RING_PEER_POLLS)
		return "peer-polls";
	return mode == PVKVM_RING_ALWAYS ? "always" : "suppress";
}

static void print_header(const struct bench_opts *o)
{
	printf("ring-bench: pipelined request/response round trips, %llu per row, "
	       "best of %d, spin %u, batch %u, %ld CPUs\n",
	       (unsigned long long)o->count, o->repeat, o->spin, o->batch, sysconf(_SC_NPROCESSORS_ONLN));
	printf("%6s  %-10s  %12s  %12s  %10s  %10s  %11s  %9s  %9s  %9s\n", "slots", "mode", "Mmsg/s",
	       "ns/msg", "notif/msg", "req/rsp", "sleeps/msg", "blocks", "to-busy", "rechecks");
}

/* notif/msg, sleeps/msg (final checks that said "sleep"), then per message:
 * blocks (reads that really blocked), to-busy (notifications that reached
 * a peer outside its idle path), rechecks (final checks that found work). */
static void print_row(uint32_t slots, enum pvkvm_ring_notify mode, uint64_t count,
		      const struct duo_result *r)
{
	double n = (double)count;

	printf("%6u  %-10s  %12.2f  %12.1f  %10.4f  %4.2f/%4.2f  %11.4f  %9.4f  %9.4f  %9.4f\n", slots,
	       mode_name(mode), n / r->seconds / 1e6,
	       r->seconds * 1e9 / n, (double)(r->req_notifies + r->rsp_notifies) / n,
	       (double)r->req_notifies / n, (double)r->rsp_notifies / n,
	       (double)(r->front_sleeps + r->back_sleeps) / n,
	       (double)(r->front_blocks + r->back_blocks) / n,
	       (double)(r->req_notifies_busy + r->rsp_notifies_busy) / n,
	       (double)(r->front_rechecks + r->back_rechecks) / n);
}

static void print_json_row(bool first, uint32_t slots, enum pvkvm_ring_notify mode,
			   uint64_t count, const struct duo_result *r)
{
	printf("%s\n    {\"slots\": %u, \"mode\": \"%s\", \"messages\": %llu, "
	       "\"seconds\": %.6f, \"msgs_per_s\": %.0f, \"req_notifies\": %llu, "
	       "\"rsp_notifies\": %llu, \"front_sleeps\": %llu, \"back_sleeps\": %llu, "
	       "\"req_notifies_busy\": %llu, \"rsp_notifies_busy\": %llu, "
	       "\"front_rechecks\": %llu, \"back_rechecks\": %llu, "
	       "\"front_blocks\": %llu, \"back_blocks\": %llu}",
	       first ? "" : ",", slots, mode_name(mode),
	       (unsigned long long)count, r->seconds, (double)count / r->seconds,
	       (unsigned long long)r->req_notifies, (unsigned long long)r->rsp_notifies,
	       (unsigned long long)r->front_sleeps, (unsigned long long)r->back_sleeps,
	       (unsigned long long)r->req_notifies_busy, (unsigned long long)r->rsp_notifies_busy,
	       (unsigned long long)r->front_rechecks, (unsigned long long)r->back_rechecks,
	       (unsigned long long)r->front_blocks, (unsigned long long)r->back_blocks);
}

int main(int argc, char **argv)
{
	static const enum pvkvm_ring_notify modes[] = { PVKVM_RING_SUPPRESS, PVKVM_RING_ALWAYS,
							PVKVM_RING_PEER_POLLS };
	struct bench_opts o;
	bool first = true;

	if (!parse(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	if (o.json)
		printf("{\"workload\": \"pipelined request/response round trips\", "
		       "\"spin\": %u, \"batch\": %u, \"repeat\": %d, \"cpus\": %ld, \"results\": [",
		       o.spin, o.batch, o.repeat, sysconf(_SC_NPROCESSORS_ONLN));
	else
		print_header(&o);
	for (uint32_t slots = o.min_slots; slots && slots <= o.max_slots; slots *= 2) {
		for (size_t m = 0; m < 3; m++) {
			struct duo_result r = { 0 };

			if (!(o.modes & (1 << m)))
				continue;
			if (!measure(&o, slots, modes[m], &r))
				return 1;
			if (o.json)
				print_json_row(first, slots, modes[m], o.count, &r);
			else
				print_row(slots, modes[m], o.count, &r);
			first = false;
			fflush(stdout);
		}
	}
	if (o.json)
		printf("\n]}\n");
	return 0;
}
