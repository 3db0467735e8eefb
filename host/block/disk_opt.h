/* SPDX-License-Identifier: MIT */
/*
 * `--disk PATH[,ro|rw][,direct=on|off][,mode=pv|fv|fv-dma|sync][,poll_us=N]
 * [,iops=N][,bw=N][,notify=always|suppress][,ring_pages=N][,batch=N]
 *   [,data=map|copy]`: one disk as the
 * command line names it. Pure parsing; host/disk_attach.h turns a parsed
 * disk into a device.
 */
#ifndef PVKVM_DISK_OPT_H
#define PVKVM_DISK_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum disk_mode {
	DISK_MODE_PV,   /* blkif rings, blkback on an I/O thread (default) */
	DISK_MODE_FV,   /* emulated ATA PIO disk on the legacy ports */
	DISK_MODE_SYNC, /* one synchronous hypercall per I/O */
	DISK_MODE_FV_DMA, /* the ATA disk behind a bus-master DMA controller */
};

#define DISK_PATH_MAX 4096

struct disk_opt {
	char path[DISK_PATH_MAX];
	bool read_only; /* default off */
	bool direct;    /* O_DIRECT where the file system allows; default on */
	enum disk_mode mode;
	int poll_us;    /* pv only: backend busy-poll; -1 = the backend's default */
	uint64_t iops;  /* pv only: requests per second; 0 = no limit */
	uint64_t bw;    /* pv only: bytes per second; 0 = no limit */
	int notify;     /* pv only: 1 always, 0 suppress, -1 the default (suppress) */
	unsigned int ring_pages; /* pv only: most ring pages offered (1..16); 0 default */
	unsigned int batch; /* pv only: requests taken per io_submit; 0 default (1) */
	int data;       /* pv only: 1 copy, 0 map, -1 the default (map) */
};

/* The largest batch= accepted (a ring's worth at 16 pages). */
#define DISK_MAX_BATCH 512

/* The largest poll_us= accepted (10 ms: a research knob, not a setting). */
#define DISK_MAX_POLL_US 10000

/* The largest iops= or bw= accepted (2^50: a limit, not an overflow). */
#define DISK_MAX_RATE (1ull << 50)

/* 0, or -1 with a one-line reason in err. */
int disk_opt_parse(const char *spec, struct disk_opt *out, char *err,
		   size_t errlen);
const char *disk_mode_name(enum disk_mode m);

#endif
