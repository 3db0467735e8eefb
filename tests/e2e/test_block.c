// SPDX-License-Identifier: MIT
/*
 * End-to-end block I/O: pvkern's blkverify under build/pvkvm on the real
 * /dev/kvm, against real image files in /tmp, for each disk mode (pv, fv,
 * fv-dma, sync). The host looks at the file's bytes itself: a guest that only
 * believed it wrote, or a device that wrote to the wrong place, fails.
 * Plus a smoke run of `pvkvm bench blk --quick` (structure only: no
 * performance is asserted).
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest-drivers/pvkern/blk_pattern.h"
#include "pvkvm_run.h"

#define IMAGE_BYTES (8u << 20)
#define REGION_MIB 2u
#define REGION_SECTORS (REGION_MIB * 2048u)
#define FILLER 0xee

/* pvkvm run [--stats-json J] --disk SPEC pvkern.elf -- blkverify ARGS... */
static struct run *blkverify(const char *disk_spec, const char *stats_json,
			     const char *a1, const char *a2, const char *a3,
			     const char *a4)
{
	char *argv[16];
	int i = 0;

	argv[i++] = PVKVM;
	argv[i++] = "run";
	if (stats_json) {
		argv[i++] = "--stats-json";
		argv[i++] = (char *)stats_json;
	}
	argv[i++] = "--disk";
	argv[i++] = (char *)disk_spec;
	argv[i++] = PVKERN;
	argv[i++] = "--";
	argv[i++] = "blkverify";
	const char *extra[] = { a1, a2, a3, a4 };
	for (int k = 0; k < 4; k++)
		if (extra[k])
			argv[i++] = (char *)extra[k];
	argv[i] = NULL;
	return run_argv(argv, 30);
}

static bool all_passed(const struct run *r)
{
	return r->status == 0 && strstr(r->out, "blkverify: ") &&
	       strstr(r->out, " 0 failed") && !strstr(r->out, "not ok");
}

/* ---- images ------------------------------------------------------------------------ */

static void make_image(char *path, size_t n)
{
	static uint8_t buf[1 << 20];

	snprintf(path, n, "/tmp/pvkvm-test-block-XXXXXX");
	int fd = mkstemp(path);
	cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
	memset(buf, FILLER, sizeof(buf));
	for (size_t off = 0; off < IMAGE_BYTES; off += sizeof(buf))
		cr_assert(pwrite(fd, buf, sizeof(buf), (off_t)off) == (ssize_t)sizeof(buf));
	close(fd);
}

static uint8_t *read_file(const char *path)
{
	uint8_t *b = malloc(IMAGE_BYTES);
	int fd = open(path, O_RDONLY);

	cr_assert(b && fd >= 0);
	cr_assert(pread(fd, b, IMAGE_BYTES, 0) == IMAGE_BYTES);
	close(fd);
	return b;
}

static void write_pattern(const char *path, uint64_t seed)
{
	uint8_t *b = malloc(REGION_SECTORS * BLK_PATTERN_SECTOR);
	int fd = open(path, O_WRONLY);

	cr_assert(b && fd >= 0);
	for (uint64_t s = 0; s < REGION_SECTORS; s++)
		blk_pattern_fill(b + s * BLK_PATTERN_SECTOR, s, seed);
	cr_assert(pwrite(fd, b, REGION_SECTORS * BLK_PATTERN_SECTOR, 0) ==
		  (ssize_t)(REGION_SECTORS * BLK_PATTERN_SECTOR));
	cr_assert(fsync(fd) == 0);
	close(fd);
	free(b);
}

static char *spec(const char *path, const char *mode, bool ro)
{
	static char s[256];

	snprintf(s, sizeof(s), "%s%s,mode=%s", path, ro ? ",ro" : "", mode);
	return s;
}

static char *mode_arg(const char *mode)
{
	static char s[32];

	snprintf(s, sizeof(s), "mode=%s", mode);
	return s;
}

/* ---- the checks, once per mode -------------------------------------------------------- */

/* The devices' flush counters in a --stats-json file: any of them > 0. */
static bool stats_show_flush(const char *json)
{
	FILE *f = fopen(json, "r");
	char buf[16384];
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (const char *p = buf; (p = strstr(p, "\"flushes\": ")); p++)
		if (atoi(p + strlen("\"flushes\": ")) > 0)
			return true;
	return false;
}

/*
 * The region the guest writes: 256 KiB by ATA PIO, 2 MiB otherwise. A PIO
 * write costs ~1050 exits per 4 KiB (KVM completes `rep outsl` one element
 * per exit), and an exit here costs 15-50 us quiet and 80-300 us under
 * load: 2 MiB was 540k exits, 8-27 s of a 30 s limit on a quiet machine.
 */
static uint64_t write_region_sectors(const char *mode)
{
	return strcmp(mode, "fv") ? REGION_SECTORS : 512;
}

static void guest_writes_host_checks(const char *mode)
{
	char img[64], json[80], kib[32];
	const uint64_t seed = 4242;
	const uint64_t n = write_region_sectors(mode);

	require_platform();
	make_image(img, sizeof(img));
	snprintf(json, sizeof(json), "%s.stats.json", img);
	snprintf(kib, sizeof(kib), "kib=%llu", (unsigned long long)(n / 2));
	struct run *r = blkverify(spec(img, mode, false), json, "write", "4242",
				  mode_arg(mode), kib);
	cr_expect(all_passed(r), "blkverify write (%s) failed:\n%s", mode, r->out);
	cr_expect(stats_show_flush(json), "no flush reached the %s device", mode);
	uint8_t *b = read_file(img);
	for (uint64_t s = 0; s < n; s++) {
		int at = blk_pattern_check(b + s * BLK_PATTERN_SECTOR, s, seed);
		cr_assert(at < 0, "%s: sector %llu byte %d of the file is wrong", mode,
			  (unsigned long long)s, at);
	}
	/* Nothing beyond the region was touched. */
	for (size_t i = n * BLK_PATTERN_SECTOR; i < IMAGE_BYTES; i++)
		cr_assert(b[i] == FILLER, "%s: byte %zu beyond the region changed", mode, i);
	free(b);
	free(r);
	unlink(json);
	unlink(img);
}

static void host_writes_guest_checks(const char *mode)
{
	char img[64];

	require_platform();
	make_image(img, sizeof(img));
	write_pattern(img, 777);
	struct run *r = blkverify(spec(img, mode, false), NULL, "check", "777",
				  mode_arg(mode), "mib=2");
	cr_expect(all_passed(r), "blkverify check (%s) failed:\n%s", mode, r->out);
	free(r);
	/* The control: the same check against the wrong seed must fail, or
	 * the check above proves nothing. */
	r = blkverify(spec(img, mode, false), NULL, "check", "778", mode_arg(mode), "mib=2");
	cr_expect(r->status != 0 && strstr(r->out, "not ok"),
		  "blkverify check with a wrong seed passed (%s):\n%s", mode, r->out);
	free(r);
	unlink(img);
}

static void read_only_refuses_writes(const char *mode)
{
	char img[64];

	require_platform();
	make_image(img, sizeof(img));
	write_pattern(img, 99);
	uint8_t *before = read_file(img);
	struct run *r = blkverify(spec(img, mode, true), NULL, "ro", mode_arg(mode), NULL, NULL);
	cr_expect(all_passed(r), "blkverify ro (%s) failed:\n%s", mode, r->out);
	uint8_t *after = read_file(img);
	cr_expect(memcmp(before, after, IMAGE_BYTES) == 0,
		  "%s: the read-only image changed", mode);
	free(before);
	free(after);
	free(r);
	unlink(img);
}

static void out_of_range_fails(const char *mode)
{
	char img[64];

	require_platform();
	make_image(img, sizeof(img));
	struct run *r = blkverify(spec(img, mode, false), NULL, "range", mode_arg(mode), NULL, NULL);
	cr_expect(all_passed(r), "blkverify range (%s) failed:\n%s", mode, r->out);
	/* At least the four refusals and the read after them ran. */
	cr_expect(strstr(r->out, "ok 6 - "), "%s: range checks missing:\n%s", mode, r->out);
	free(r);
	unlink(img);
}

#define MODE_TESTS_AS(s, m)                                                            \
	Test(block_##s, guest_writes_host_checks, .timeout = 60) { guest_writes_host_checks(m); } \
	Test(block_##s, host_writes_guest_checks, .timeout = 60) { host_writes_guest_checks(m); } \
	Test(block_##s, read_only_refuses_writes, .timeout = 60) { read_only_refuses_writes(m); } \
	Test(block_##s, out_of_range_fails, .timeout = 60) { out_of_range_fails(m); }
#define MODE_TESTS(m) MODE_TESTS_AS(m, #m)

MODE_TESTS(pv)
MODE_TESTS(fv)
MODE_TESTS_AS(fv_dma, "fv-dma")
MODE_TESTS(sync)

/* With no mode given, the guest finds the one disk the VMM attached: a PV
 * backend by its xenbus keys, fv, fv-dma and sync by the VMM's platform/
 * keys. */
static void auto_mode_finds(const char *mode)
{
	char img[] = "/tmp/pvkvm-e2e-auto-XXXXXX", want[32];

	require_platform();
	make_image(img, IMAGE_BYTES);
	char *argv[] = { PVKVM, "run", "--disk", spec(img, mode, false), PVKERN,
			 "--", "blkverify", "kib=128", NULL }; /* fv writes cost exits */
	struct run *r = run_argv(argv, 30);
	unlink(img);
	snprintf(want, sizeof(want), "blkverify: mode=%s ", mode);
	cr_assert(strstr(r->out, want), "auto did not pick %s:\n%s", mode, r->out);
	cr_assert(all_passed(r), "%s", r->out);
}

Test(block_auto, finds_pv) { auto_mode_finds("pv"); }
Test(block_auto, finds_fv) { auto_mode_finds("fv"); }
Test(block_auto, finds_fv_dma) { auto_mode_finds("fv-dma"); }
Test(block_auto, finds_sync) { auto_mode_finds("sync"); }

/* ---- the benchmark, structurally ---------------------------------------------------- */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);

	cr_assert(f && buf, "cannot open %s", path);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

Test(block_bench, quick_run_writes_every_mode, .timeout = 120)
{
	char dir[] = "/tmp/pvkvm-test-bench-XXXXXX", json[96];

	require_platform();
	cr_assert(mkdtemp(dir));
	/* 400 ms: one fv 1 MiB read alone is ~1500 exits, 40-120 ms here. */
	char *argv[] = { PVKVM, "bench", "blk", "--quick", "--time-ms", "400",
			 "--no-plot", "--out", dir, NULL };
	struct run *r = run_argv(argv, 110);
	cr_expect(r->status == 0, "bench blk exited %d:\n%s", r->status, r->out);
	snprintf(json, sizeof(json), "%s/blk.json", dir);
	char *j = slurp(json);
	static const char *const cases[] = { "randread-4k-qd1", "randread-4k-qd32",
					     "randwrite-4k-qd1", "randwrite-4k-qd32",
					     "read-1m-qd8" };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char key[64];
		snprintf(key, sizeof(key), "\"name\": \"%s\"", cases[i]);
		cr_expect(count(j, key) == 1, "case %s missing from blk.json", cases[i]);
	}
	static const char *const modes[] = { "host", "host-poll", "fv", "fv-dma", "sync", "pv" };
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		char key[64];
		snprintf(key, sizeof(key), "\"%s\": {\"ok\": true, \"qd\": ", modes[m]);
		cr_expect(count(j, key) == 5, "mode %s: %d of 5 cases ok in blk.json", modes[m],
			  count(j, key));
	}
	cr_expect(count(j, "\"exits_per_req\": ") == 20, "exits_per_req for each guest run");
	cr_expect(count(j, "\"pv_over_host\": ") == 5, "ratios for each case");
	cr_expect(count(j, "\"pv_over_host_poll\": ") == 5, "the polling ceiling for each case");
	cr_expect(strstr(j, "\"platform\": {") && strstr(j, "\"sse_ud_without_osfxsr\": "),
		  "blk.json does not say which platform it measured");
	const char *c = strstr(j, "\"cases\": [");
	cr_expect(c && c[10 + strspn(c + 10, " \n")] == '{', "\"cases\" is not a list of objects");
	cr_expect(strstr(r->out, "IOPS ratios") != NULL, "no table printed:\n%s", r->out);
	free(j);
	free(r);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect(system(cmd) == 0);
}

/* `pvkvm bench --sweep` (routed to bench blk's): one point per value, each
 * with host and pv, in sweep-KNOB.json with provenance. notify=always never
 * suppresses a notification: a count, not a time. */
Test(block_bench, sweep_writes_one_point_per_value, .timeout = 120)
{
	char dir[] = "/tmp/pvkvm-test-sweep-XXXXXX", json[96];

	require_platform();
	cr_assert(mkdtemp(dir));
	char *argv[] = { PVKVM, "bench", "--sweep", "notify=always,suppress", "--quick",
			 "--time-ms", "100", "--no-plot", "--out", dir, NULL };
	struct run *r = run_argv(argv, 110);
	cr_expect(r->status == 0, "bench --sweep exited %d:\n%s", r->status, r->out);
	snprintf(json, sizeof(json), "%s/sweep-notify.json", dir);
	char *j = slurp(json);
	cr_expect(strstr(j, "\"provenance\": {") != NULL, "no provenance");
	cr_expect(strstr(j, "\"knob\": \"notify\"") != NULL);
	cr_expect(count(j, "\"ok\": true") == 2, "2 points ok:\n%s", j);
	const char *always = strstr(j, "\"value\": \"always\"");
	cr_expect(always && strstr(always, "\"notifications_suppressed_per_req\": 0.0000,"),
		  "notify=always suppressed a notification:\n%s", j);
	cr_expect(strstr(r->out, "notif/req") != NULL, "no table printed:\n%s", r->out);
	free(j);
	free(r);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect(system(cmd) == 0);
}
