// SPDX-License-Identifier: MIT
/*
 * The hostile block guest (pvkern's hostileblk): one test per misbehaviour,
 * each a real pvkvm with two PV disks, the first attacked, the second
 * checked by the guest after the attack. What the host side checks:
 *  - the VMM stays up and the guest shuts down with status 0 (every answer
 *    the guest got was the one docs/block.md promises, and disk 1 works);
 *  - a broken ring is said in exactly one stderr line, other cases in none;
 *  - the VMM's peak memory (VmHWM from /proc, sampled while it runs, and
 *    ru_maxrss at exit) stays within 32 MiB of a well-behaved run's;
 *  - no byte of either image outside the range the guest addressed with
 *    writes changes (both images hold a known pattern before the run).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hostile_run.h"
#include "pvkvm_run.h"

#define IMG_BYTES (4u << 20)
#define WRITE_AREA_0 (1024u * 512) /* disk 0: cases write only below this */
#define WRITE_AREA_1 (64u * 512)   /* disk 1: the guest's check area */


static char img0[64], img1[64];

static uint8_t pattern_byte(unsigned int disk, size_t off)
{
	return (uint8_t)(off * 31 + off / 4096 + disk * 101 + 7);
}

static void make_image(char *path, unsigned int disk)
{
	snprintf(path, 64, "/tmp/pvkvm-hostile%u-XXXXXX", disk);
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	uint8_t *buf = malloc(IMG_BYTES);
	for (size_t i = 0; i < IMG_BYTES; i++)
		buf[i] = pattern_byte(disk, i);
	cr_assert_eq(write(fd, buf, IMG_BYTES), (ssize_t)IMG_BYTES);
	free(buf);
	close(fd);
}

/* Bytes [from, end) of the image still hold the pattern. */
static void check_image(const char *path, unsigned int disk, size_t from)
{
	int fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	struct stat st;
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq(st.st_size, (off_t)IMG_BYTES, "disk %u changed size", disk);
	uint8_t *buf = malloc(IMG_BYTES);
	cr_assert_eq(pread(fd, buf, IMG_BYTES, 0), (ssize_t)IMG_BYTES);
	close(fd);
	for (size_t i = from; i < IMG_BYTES; i++)
		if (buf[i] != pattern_byte(disk, i)) {
			free(buf);
			cr_assert_fail("disk %u byte %zu changed, outside what the guest addressed",
				       disk, i);
		}
	free(buf);
}

static void setup(void)
{
	require_platform();
	make_image(img0, 0);
	make_image(img1, 1);
}

static void teardown(void)
{
	unlink(img0);
	unlink(img1);
}

TestSuite(hostile_blk, .init = setup, .fini = teardown, .timeout = 120);

/* pvkvm run --disk img0 --disk img1 pvkern.elf -- PROGRAM ARGS, with its
 * memory sampled from /proc while it runs. */
static struct hrun *run_guest(const char *prog, const char *arg)
{
	static char d0[96], d1[96];
	snprintf(d0, sizeof(d0), "%s", img0);
	snprintf(d1, sizeof(d1), "%s", img1);
	char *argv[] = { PVKVM, "run", "--disk", d0, "--disk", d1, PVKERN, "--",
			 (char *)prog, (char *)arg, NULL };
	return hrun_exec(argv);
}

/* The well-behaved run's peak memory, once per process. */
static long baseline_kib(void)
{
	static long kib;
	if (!kib) {
		struct hrun *r = run_guest("blkverify", "all");
		cr_assert_eq(r->status, 0, "the well-behaved run:\n%s", r->out);
		kib = r->hwm_kib;
		free(r);
	}
	return kib;
}

static void hostile(const char *name, unsigned int broken_lines)
{
	long base = baseline_kib();
	/* blkverify wrote its own pattern: start the attack from a known image. */
	teardown();
	make_image(img0, 0);
	make_image(img1, 1);
	struct hrun *r = run_guest("hostileblk", name);
	hrun_expect_survived(r, "hostileblk", name, "disk1", broken_lines, base);
	check_image(img0, 0, WRITE_AREA_0);
	check_image(img1, 1, WRITE_AREA_1);
	cr_log_info("%s: peak %ld KiB (well-behaved %ld KiB)", name, r->hwm_kib, base);
	free(r);
}

Test(hostile_blk, producer_index_impossible) { hostile("prod-impossible", 1); }
Test(hostile_blk, producer_index_in_the_past) { hostile("prod-past", 1); }
Test(hostile_blk, bad_grants) { hostile("grants", 0); }
Test(hostile_blk, segment_past_its_page) { hostile("segments", 0); }
Test(hostile_blk, sectors_past_the_end_and_overflowing) { hostile("sectors", 0); }
Test(hostile_blk, zero_and_huge_segment_counts) { hostile("nsegs", 0); }
Test(hostile_blk, bad_indirect_requests) { hostile("indirect", 0); }
Test(hostile_blk, unknown_operations) { hostile("ops", 0); }
Test(hostile_blk, duplicate_ids_in_flight) { hostile("dup-ids", 0); }
Test(hostile_blk, request_rewritten_while_taken) { hostile("rewrite", 0); }
Test(hostile_blk, flood_without_reading_answers) { hostile("flood", 0); }
Test(hostile_blk, notification_storm) { hostile("notify-storm", 0); }
Test(hostile_blk, close_and_reopen_mid_io) { hostile("reopen", 0); }
