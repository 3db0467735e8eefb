// SPDX-License-Identifier: MIT
/*
 * The emulated ATA disk driven through its pio_fn, as a PIO driver would
 * drive it, on a real image file.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/block/ata_identify.h"
#include "host/block/blk_image.h"
#include "host/block/dev_ata.h"
#include "host/core/stats.h"
#include "tests/unit/ata_taskfile.h"

#define SECTORS 4096u

static char path[64];
static struct blk_image img;
static struct ata_disk *disk;

static void make_image(uint64_t bytes, bool fill)
{
	strcpy(path, "/tmp/pvkvm-ata-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)bytes), 0);
	if (fill)
		write_pattern(fd, SECTORS);
	close(fd);
}

static void open_disk(bool ro)
{
	cr_assert_eq(blk_image_open(&img, path, ro, false), 0);
	disk = ata_disk_new(&img, "SER123");
	cr_assert_not_null(disk);
	ata_tf_disk = disk;
}

static void setup(void)
{
	make_image((uint64_t)SECTORS * 512, true);
	open_disk(false);
}

static void teardown(void)
{
	ata_disk_free(disk);
	blk_image_close(&img);
	unlink(path);
}

TestSuite(ata, .init = setup, .fini = teardown);

/* One string PIO of `bytes` in 16-bit units (rep insw / rep outsw). */
static void data_in(void *buf, uint32_t bytes)
{
	ata_disk_pio(disk, ATA_CMD_BASE, false, buf, 2, bytes / 2);
}

static void data_out(const void *buf, uint32_t bytes)
{
	ata_disk_pio(disk, ATA_CMD_BASE, true, (void *)buf, 2, bytes / 2);
}

static void expect_idle(void)
{
	uint8_t st = status();
	cr_assert_eq(st & (ATA_SR_BSY | ATA_SR_DRQ | ATA_SR_ERR), 0, "status %#x", st);
	cr_assert(st & ATA_SR_DRDY);
}

static void expect_drq(void)
{
	uint8_t st = status();
	cr_assert_eq(st & (ATA_SR_BSY | ATA_SR_DRQ | ATA_SR_ERR), ATA_SR_DRQ,
		     "status %#x", st);
}

static void expect_error(uint8_t err)
{
	uint8_t st = status();
	cr_assert(st & ATA_SR_ERR, "status %#x", st);
	cr_assert_eq(st & (ATA_SR_BSY | ATA_SR_DRQ), 0);
	cr_assert_eq(error_reg() & err, err, "error %#x", error_reg());
}

static void identify(uint16_t words[256])
{
	outb(ATA_CMD_BASE + ATA_REG_DEVICE, 0xa0);
	command(ATA_CMD_IDENTIFY);
	expect_drq();
	data_in(words, 512);
	expect_idle();
}

Test(ata, identify_fields)
{
	uint16_t w[256];
	identify(w);
	char s[41];
	ata_string_get(&w[27], 20, s);
	cr_assert_str_eq(s, "pvkvm ATA disk");
	ata_string_get(&w[10], 10, s);
	cr_assert_str_eq(s, "SER123");
	cr_assert_eq(w[0] & 0x8000, 0, "ATA, not ATAPI");
	cr_assert(w[49] & (1u << 9), "LBA");
	cr_assert_eq((uint32_t)w[60] | (uint32_t)w[61] << 16, SECTORS);
	uint64_t lba48 = 0;
	for (unsigned int i = 0; i < 4; i++)
		lba48 |= (uint64_t)w[100 + i] << (16 * i);
	cr_assert_eq(lba48, SECTORS);
	cr_assert(w[83] & (1u << 10), "LBA48 supported");
	cr_assert(w[86] & (1u << 10), "LBA48 enabled");
	cr_assert(w[83] & (1u << 12) && w[83] & (1u << 13), "FLUSH CACHE (EXT)");
	cr_assert_eq(w[47], 0x8000 | ATA_MAX_MULTIPLE);
	cr_assert_eq(w[59] & 0x1ff, 0, "multiple mode off at start");
	cr_assert_eq(w[255] & 0xff, 0xa5);
	uint8_t sum = 0;
	const uint8_t *b = (const uint8_t *)w;
	for (unsigned int i = 0; i < 512; i++)
		sum = (uint8_t)(sum + b[i]);
	cr_assert_eq(sum, 0, "integrity checksum");
}

Test(ata, identify_with_32bit_data_accesses)
{
	uint16_t w16[256], w32[256];
	identify(w16);
	command(ATA_CMD_IDENTIFY);
	ata_disk_pio(disk, ATA_CMD_BASE, false, w32, 4, 128);
	expect_idle();
	cr_assert_eq(memcmp(w16, w32, 512), 0);
}

Test(ata, soft_reset_gives_signature)
{
	outb(ATA_CTL_PORT, ATA_CTL_SRST);
	cr_assert(inb(ATA_CTL_PORT) & ATA_SR_BSY, "BSY while SRST is held");
	command(ATA_CMD_IDENTIFY);
	outb(ATA_CTL_PORT, 0);
	expect_idle(); /* the command written during reset was ignored */
	cr_assert_eq(inb(ATA_CMD_BASE + ATA_REG_COUNT), 1);
	cr_assert_eq(inb(ATA_CMD_BASE + ATA_REG_LBA_LOW), 1);
	cr_assert_eq(inb(ATA_CMD_BASE + ATA_REG_LBA_MID), 0);
	cr_assert_eq(inb(ATA_CMD_BASE + ATA_REG_LBA_HIGH), 0);
	cr_assert_eq(error_reg(), 0x01);
}

Test(ata, absent_device1_reads_zero)
{
	outb(ATA_CMD_BASE + ATA_REG_DEVICE, 0xb0);
	outb(ATA_CMD_BASE + ATA_REG_COUNT, 0x55);
	cr_assert_eq(inb(ATA_CMD_BASE + ATA_REG_COUNT), 0);
	cr_assert_eq(status(), 0);
	cr_assert_eq(inb(ATA_CTL_PORT), 0);
	command(ATA_CMD_IDENTIFY);
	outb(ATA_CMD_BASE + ATA_REG_DEVICE, 0xa0);
	expect_idle();
	cr_assert_eq(inb(ATA_CMD_BASE + ATA_REG_COUNT), 0x55, "master latched it");
}

Test(ata, read_sectors_lba28_block_by_block)
{
	uint8_t buf[512];
	set_lba28(5, 3);
	command(ATA_CMD_READ_SECTORS);
	for (unsigned int s = 0; s < 3; s++) {
		expect_drq();
		data_in(buf, 512);
		check_sectors(buf, 5 + s, 1);
	}
	expect_idle();
}

Test(ata, read_sectors_count_zero_means_256)
{
	static uint8_t buf[256 * 512];
	set_lba28(100, 0);
	command(ATA_CMD_READ_SECTORS);
	for (unsigned int s = 0; s < 256; s++)
		data_in(buf + s * 512, 512);
	expect_idle();
	for (unsigned int s = 0; s < 256; s++)
		check_sectors(buf + s * 512, 100 + s, 1);
}

Test(ata, write_sectors_reach_the_file)
{
	uint8_t buf[2 * 512];
	memset(buf, 0xc3, sizeof(buf));
	set_lba28(9, 2);
	command(ATA_CMD_WRITE_SECTORS);
	expect_drq();
	data_out(buf, 512);
	expect_drq();
	data_out(buf + 512, 512);
	expect_idle();
	command(ATA_CMD_FLUSH_CACHE);
	expect_idle();
	uint8_t got[3 * 512];
	cr_assert_eq(pread(img.fd, got, sizeof(got), 9 * 512), (ssize_t)sizeof(got));
	for (unsigned int i = 0; i < 1024; i++)
		cr_assert_eq(got[i], 0xc3);
	check_sectors(got + 1024, 11, 1);
}

Test(ata, multiple_mode)
{
	uint8_t buf[16 * 512];
	set_lba28(0, 10);
	command(ATA_CMD_READ_MULTIPLE);
	expect_error(ATA_ER_ABRT); /* not enabled yet */

	outb(ATA_CMD_BASE + ATA_REG_COUNT, 3);
	command(ATA_CMD_SET_MULTIPLE);
	expect_error(ATA_ER_ABRT); /* not a power of two */
	outb(ATA_CMD_BASE + ATA_REG_COUNT, 32);
	command(ATA_CMD_SET_MULTIPLE);
	expect_error(ATA_ER_ABRT); /* above word 47's maximum */
	outb(ATA_CMD_BASE + ATA_REG_COUNT, 4);
	command(ATA_CMD_SET_MULTIPLE);
	expect_idle();

	uint16_t w[256];
	identify(w);
	cr_assert_eq(w[59], 0x0104);

	/* 10 sectors in DRQ blocks of 4, 4, 2 */
	set_lba28(20, 10);
	command(ATA_CMD_READ_MULTIPLE);
	static const unsigned int blocks[] = { 4, 4, 2 };
	unsigned int sector = 20;
	for (unsigned int b = 0; b < 3; b++) {
		expect_drq();
		data_in(buf, blocks[b] * 512);
		for (unsigned int s = 0; s < blocks[b]; s++)
			check_sectors(buf + s * 512, sector + s, 1);
		sector += blocks[b];
	}
	expect_idle();

	memset(buf, 0x7e, sizeof(buf));
	set_lba28(40, 6);
	command(ATA_CMD_WRITE_MULTIPLE);
	expect_drq();
	data_out(buf, 4 * 512);
	expect_drq();
	data_out(buf, 2 * 512);
	expect_idle();
	uint8_t got[7 * 512];
	cr_assert_eq(pread(img.fd, got, sizeof(got), 40 * 512), (ssize_t)sizeof(got));
	for (unsigned int i = 0; i < 6 * 512; i++)
		cr_assert_eq(got[i], 0x7e);
	check_sectors(got + 6 * 512, 46, 1);
}

Test(ata, hob_registers_read_back)
{
	outb(ATA_CMD_BASE + ATA_REG_COUNT, 0x12);
	outb(ATA_CMD_BASE + ATA_REG_COUNT, 0x34);
	outb(ATA_CMD_BASE + ATA_REG_LBA_MID, 0xab);
	outb(ATA_CMD_BASE + ATA_REG_LBA_MID, 0xcd);
	cr_assert_eq(inb(ATA_CMD_BASE + ATA_REG_COUNT), 0x34);
	outb(ATA_CTL_PORT, ATA_CTL_HOB);
	cr_assert_eq(inb(ATA_CMD_BASE + ATA_REG_COUNT), 0x12);
	cr_assert_eq(inb(ATA_CMD_BASE + ATA_REG_LBA_MID), 0xab);
	outb(ATA_CMD_BASE + ATA_REG_LBA_LOW, 0);
	cr_assert_eq(inb(ATA_CMD_BASE + ATA_REG_COUNT), 0x34,
		     "a register write clears HOB");
}

Test(ata, lba48_read_write_beyond_lba28)
{
	/* A sparse 200 GiB image: LBA 0x10000010 is past what LBA28 can name. */
	teardown();
	uint64_t sectors = 200ull << 21;
	make_image(sectors * 512, false);
	open_disk(false);

	uint16_t w[256];
	identify(w);
	cr_assert_eq((uint32_t)w[60] | (uint32_t)w[61] << 16, 0x0fffffff);
	uint64_t lba48 = 0;
	for (unsigned int i = 0; i < 4; i++)
		lba48 |= (uint64_t)w[100 + i] << (16 * i);
	cr_assert_eq(lba48, sectors);

	const uint64_t lba = 0x10000010ull;
	uint8_t out[3 * 512], in[3 * 512];
	for (unsigned int i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i ^ 0x5a);
	set_lba48(lba, 3);
	command(ATA_CMD_WRITE_SECTORS_EXT);
	for (unsigned int s = 0; s < 3; s++) {
		expect_drq();
		data_out(out + s * 512, 512);
	}
	expect_idle();
	uint8_t got[3 * 512];
	cr_assert_eq(pread(img.fd, got, sizeof(got), (off_t)(lba * 512)),
		     (ssize_t)sizeof(got));
	cr_assert_eq(memcmp(got, out, sizeof(out)), 0);

	set_lba48(lba, 3);
	command(ATA_CMD_READ_SECTORS_EXT);
	data_in(in, sizeof(in)); /* one string spanning the three blocks */
	expect_idle();
	cr_assert_eq(memcmp(in, out, sizeof(out)), 0);

	outb(ATA_CMD_BASE + ATA_REG_COUNT, 2);
	command(ATA_CMD_SET_MULTIPLE);
	set_lba48(lba, 3);
	command(ATA_CMD_READ_MULTIPLE_EXT);
	expect_drq();
	data_in(in, 1024);
	expect_drq();
	data_in(in + 1024, 512);
	expect_idle();
	cr_assert_eq(memcmp(in, out, sizeof(out)), 0);

	set_lba48(sectors - 1, 2);
	command(ATA_CMD_READ_SECTORS_EXT);
	expect_error(ATA_ER_IDNF);
	command(ATA_CMD_FLUSH_CACHE_EXT);
	expect_idle();
}

Test(ata, out_of_range_is_idnf)
{
	set_lba28(SECTORS, 1);
	command(ATA_CMD_READ_SECTORS);
	expect_error(ATA_ER_IDNF);
	set_lba28(SECTORS - 1, 2);
	command(ATA_CMD_WRITE_SECTORS);
	expect_error(ATA_ER_IDNF);
	set_lba28(SECTORS - 1, 1);
	command(ATA_CMD_READ_VERIFY);
	expect_idle();
	set_lba28(SECTORS - 1, 1);
	command(ATA_CMD_READ_SECTORS);
	uint8_t buf[512];
	data_in(buf, 512);
	check_sectors(buf, SECTORS - 1, 1);
	expect_idle();
}

Test(ata, read_only_disk_aborts_writes)
{
	teardown();
	make_image((uint64_t)SECTORS * 512, true);
	open_disk(true);
	set_lba28(3, 1);
	command(ATA_CMD_WRITE_SECTORS);
	expect_error(ATA_ER_ABRT);
	uint8_t junk[512];
	memset(junk, 0, sizeof(junk));
	data_out(junk, 512); /* no data phase: dropped */
	uint8_t got[512];
	cr_assert_eq(pread(img.fd, got, 512, 3 * 512), 512);
	check_sectors(got, 3, 1);
	set_lba28(3, 1);
	command(ATA_CMD_READ_SECTORS);
	data_in(got, 512);
	check_sectors(got, 3, 1);
	command(ATA_CMD_FLUSH_CACHE);
	expect_idle();
}

Test(ata, chs_addressing)
{
	/* C/H/S 1/2/3 -> (1 * 16 + 2) * 63 + 2 = 1136 */
	uint8_t buf[512];
	outb(ATA_CMD_BASE + ATA_REG_DEVICE, 0xa0 | 2);
	outb(ATA_CMD_BASE + ATA_REG_COUNT, 1);
	outb(ATA_CMD_BASE + ATA_REG_LBA_LOW, 3);
	outb(ATA_CMD_BASE + ATA_REG_LBA_MID, 1);
	outb(ATA_CMD_BASE + ATA_REG_LBA_HIGH, 0);
	command(ATA_CMD_READ_SECTORS);
	expect_drq();
	data_in(buf, 512);
	check_sectors(buf, 1136, 1);
	outb(ATA_CMD_BASE + ATA_REG_LBA_LOW, 0); /* sector 0 does not exist */
	command(ATA_CMD_READ_SECTORS);
	expect_error(ATA_ER_IDNF);
}

Test(ata, unknown_commands_abort_and_reads_outside_data_phase)
{
	command(0x00); /* NOP aborts by definition */
	expect_error(ATA_ER_ABRT);
	command(0xb0); /* SMART: not offered */
	expect_error(ATA_ER_ABRT);
	outb(ATA_CMD_BASE + ATA_REG_ERROR_FEATURE, 0x03);
	command(ATA_CMD_SET_FEATURES);
	expect_idle();
	outb(ATA_CMD_BASE + ATA_REG_ERROR_FEATURE, 0x99);
	command(ATA_CMD_SET_FEATURES);
	expect_error(ATA_ER_ABRT);
	uint16_t w[4];
	data_in(w, sizeof(w));
	cr_assert_eq(w[0], 0xffff, "no data phase: the bus floats high");
	command(ATA_CMD_CHECK_POWER);
	expect_idle();
	cr_assert_eq(inb(ATA_CMD_BASE + ATA_REG_COUNT), 0xff);
}

Test(ata, counters)
{
	uint8_t buf[512];
	set_lba28(1, 1);
	command(ATA_CMD_READ_SECTORS);
	data_in(buf, 512);
	struct stats_group *g = ata_disk_stats(disk);
	cr_assert_str_eq(g->name, "ata");
	uint64_t accesses = 0, sectors_read = 0;
	for (unsigned int i = 0; i < g->nr; i++) {
		if (!strcmp(g->counters[i].name, "register_accesses"))
			accesses = g->counters[i].value;
		if (!strcmp(g->counters[i].name, "sectors_read"))
			sectors_read = g->counters[i].value;
	}
	cr_assert_eq(accesses, 7, "5 set-up writes, the command, one string read");
	cr_assert_eq(sectors_read, 1);
}
