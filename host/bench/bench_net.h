/* SPDX-License-Identifier: MIT */
/*
 * `pvkvm bench net`: the network half of the main job. One namespace with
 * one TAP (10.0.0.1/24 on the host side, the guest 10.0.0.2) and the
 * built-in switch; for each case, the host writing/reading the same frames
 * on the same TAP directly, and the guest kernel's netbench through each
 * NIC mode (fv, fv-dma, sync, pv), with packets/s, Mbit/s and exits per packet.
 * bench_net.c runs it, bench_net_host.c is the host's side of the wire
 * (namespace, sink, generator, host-direct), bench_net_report.c prints the
 * table, writes JSON and draws the plot.
 */
#ifndef PVKVM_BENCH_NET_H
#define PVKVM_BENCH_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum net_bench_mode { NB_HOST, NB_FV, NB_FV_DMA, NB_SYNC, NB_PV, NB_NR_MODES };

enum net_bench_dir {
	NB_G2H, /* guest transmits into a UDP sink in the namespace */
	NB_H2G, /* the namespace transmits, the guest receives */
	NB_G2G, /* guest to guest over the built-in switch (no host mode) */
};

struct net_bench_case {
	const char *name;   /* "g2h-64" */
	enum net_bench_dir dir;
	uint32_t size;      /* Ethernet frame bytes without FCS */
};

#define NET_BENCH_MAX_ROUNDS 9u

struct net_bench_result {
	bool ok;
	bool skipped;
	char error[160];
	uint64_t frames;     /* delivered to the receiver inside the window */
	uint64_t sent;       /* what the sender put out in its window */
	uint64_t elapsed_ns;
	double pps, mbps;
	uint64_t exits;      /* VMM exits in the guest's window, + ioeventfd kicks */
	uint64_t kicks, sleeps;
	double exits_per_pkt;
	unsigned int nr_rounds;
	double round_pps[NET_BENCH_MAX_ROUNDS];
};

struct net_bench_report {
	bool quick;
	uint64_t time_ms, warmup_ms;
	unsigned int rounds;
	const struct net_bench_case *cases;
	unsigned int nr_cases;
	struct net_bench_result (*res)[NB_NR_MODES]; /* [case][mode] */
};

const char *net_bench_mode_name(enum net_bench_mode m);
double net_bench_ratio(const struct net_bench_result *a,
		       const struct net_bench_result *b);

void net_bench_print_table(const struct net_bench_report *r, FILE *f);
int net_bench_write_json(const struct net_bench_report *r, const char *path);
/* Appends one row per case and mode to DIR's summary (bench_summary.h). */
void net_bench_write_summary(const struct net_bench_report *r, const char *dir);
/* Writes DIR/net.dat and runs gnuplot on script: 0, 1 (no gnuplot), -1. */
int net_bench_plot(const struct net_bench_report *r, const char *dir,
		   const char *script);

int bench_net_main(int argc, char **argv);

/* ---- the host's side (bench_net_host.c) ------------------------------------ */

#define NB_HOST_IP "10.0.0.1"
#define NB_GUEST_IP "10.0.0.2"
#define NB_GUEST_MAC "52:54:00:12:34:56"
#define NB_PORT 9

struct nb_ns {
	char name[64];
	char tap[16];
	int home_fd;   /* our original namespace */
	int ns_fd;
	uint8_t tap_mac[6];
};

/* Creates the namespace and its TAP (vnet_hdr, address, up, a static
 * neighbour for the guest) and moves this thread into it. 0, or -1 after
 * a line. */
int nb_ns_setup(struct nb_ns *ns);
/* Back home, namespace (and TAP) removed. Safe to call twice. */
void nb_ns_teardown(struct nb_ns *ns);

/* A thread counting UDP datagrams to NB_HOST_IP:NB_PORT. */
struct nb_sink;
struct nb_sink *nb_sink_start(void);
/* Counting happens between open and close (host timestamps). */
void nb_sink_window(struct nb_sink *s, bool open);
void nb_sink_stop(struct nb_sink *s, uint64_t *frames, uint64_t *bytes,
		  uint64_t *elapsed_ns);

/* A thread sending size-byte frames (UDP to NB_GUEST_IP:NB_PORT, with a
 * 64-bit sequence number) as fast as the socket takes them. */
struct nb_gen;
struct nb_gen *nb_gen_start(uint32_t size);
/* Frames are counted as sent only between open and close. */
void nb_gen_window(struct nb_gen *g, bool open);
/* Frames sent while the window was open. */
uint64_t nb_gen_stop(struct nb_gen *g);

/* The ceiling: this process writes (tx) or reads (rx) the same frames on
 * the same TAP for warmup_ms + time_ms. 0, or -1 with err. */
int nb_hostdirect(const struct nb_ns *ns, bool tx, uint32_t size,
		  uint64_t warmup_ms, uint64_t time_ms,
		  struct net_bench_result *r);

uint64_t nb_now_ns(void);

#endif
