// SPDX-License-Identifier: MIT
/*
 * The bus-master DMA disk (mode=fv-dma) driven register by register, as
 * Linux's ata_bmdma code drives a PCI IDE controller: PRD tables in a real
 * guest RAM (gmem), a real image file, and every refusal a hostile PRD
 * table can provoke.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/block/blk_image.h"
#include "host/block/dev_ata.h"
#include "host/block/dev_ata_dma.h"
#include "host/core/stats.h"
#include "host/mem/guest_mem.h"
#include "hypercall/pvkvm_abi.h"
#include "tests/unit/ata_taskfile.h"

#define SECTORS 4096u
#define RAM (4u << 20)
#define PRDT 0x200000u  /* a PRD table, page-aligned */
#define DATA 0x240000u  /* data regions from here */

static char path[64];
static struct blk_image img;
static struct guest_mem mem;
static struct ata_dma *dma;

static void make_image(void)
{
	strcpy(path, "/tmp/pvkvm-ata-dma-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	write_pattern(fd, SECTORS);
	close(fd);
}

static void open_dma(bool ro)
{
	cr_assert_eq(blk_image_open(&img, path, ro, false), 0);
	dma = ata_dma_new(&img, &mem, "DMA123");
	cr_assert_not_null(dma);
	ata_tf_disk = ata_dma_disk(dma);
}

static void setup(void)
{
	make_image();
	cr_assert_eq(gmem_create(&mem, RAM), 0);
	open_dma(false);
}

static void teardown(void)
{
	ata_dma_free(dma);
	blk_image_close(&img);
	gmem_destroy(&mem);
	unlink(path);
}

TestSuite(ata_dma, .init = setup, .fini = teardown);

/* ---- register access ------------------------------------------------------- */

static void bm_outb(unsigned int reg, uint8_t v)
{
	ata_dma_bm_pio(dma, (uint16_t)(ATA_BM_BASE + reg), true, &v, 1, 1);
}

static uint8_t bm_inb(unsigned int reg)
{
	uint8_t v = 0x5a;
	ata_dma_bm_pio(dma, (uint16_t)(ATA_BM_BASE + reg), false, &v, 1, 1);
	return v;
}

static void bm_outl(unsigned int reg, uint32_t v)
{
	ata_dma_bm_pio(dma, (uint16_t)(ATA_BM_BASE + reg), true, &v, 4, 1);
}

static uint32_t bm_inl(unsigned int reg)
{
	uint32_t v = 0x5a5a5a5a;
	ata_dma_bm_pio(dma, (uint16_t)(ATA_BM_BASE + reg), false, &v, 4, 1);
	return v;
}

/* ---- PRD tables --------------------------------------------------------------- */

static void put_prd(uint64_t table, unsigned int i, uint32_t base, uint32_t len,
		    bool eot)
{
	struct ata_prd prd = {
		.base = base,
		.flags_len = (len & 0xffffu) | (eot ? ATA_PRD_EOT : 0),
	};
	cr_assert_eq(gmem_write(&mem, table + i * sizeof(prd), &prd, sizeof(prd)), 0);
}

static uint8_t *ram(uint64_t gpa)
{
	uint8_t *p = gmem_ptr(&mem, gpa, 1);
	cr_assert_not_null(p);
	return p;
}

/* Linux's order: table, direction, taskfile + command, START. */
static void dma_setup(uint32_t table, bool to_memory)
{
	bm_outl(ATA_BM_REG_PRDT, table);
	bm_outb(ATA_BM_REG_CMD, to_memory ? ATA_BM_CMD_TO_MEMORY : 0);
}

static void dma_start(bool to_memory)
{
	bm_outb(ATA_BM_REG_CMD, (uint8_t)(ATA_BM_CMD_START |
					  (to_memory ? ATA_BM_CMD_TO_MEMORY : 0)));
}

/* What the interrupt handler does: stop the engine, read the drive status
 * (acknowledging INTRQ), clear BMISX's latches. Returns BMISX as it was. */
static uint8_t dma_finish(uint8_t *drive_status)
{
	uint8_t bm = bm_inb(ATA_BM_REG_STATUS);
	bm_outb(ATA_BM_REG_CMD, bm_inb(ATA_BM_REG_CMD) & ~ATA_BM_CMD_START);
	*drive_status = status();
	bm_outb(ATA_BM_REG_STATUS, bm);
	return bm;
}

static void expect_ok(void)
{
	uint8_t st;
	uint8_t bm = dma_finish(&st);
	cr_assert_eq(bm & (ATA_BM_ST_ACTIVE | ATA_BM_ST_ERROR | ATA_BM_ST_INTR),
		     ATA_BM_ST_INTR, "BMISX %#x", bm);
	cr_assert_eq(st & (ATA_SR_BSY | ATA_SR_DRQ | ATA_SR_ERR), 0, "status %#x", st);
	cr_assert(st & ATA_SR_DRDY);
	cr_assert_eq(bm_inb(ATA_BM_REG_STATUS) & (ATA_BM_ST_INTR | ATA_BM_ST_ERROR), 0,
		     "write-1-to-clear");
}

/* A refused table: bus error, the command ended with ERR/ABRT. */
static void expect_bus_error(void)
{
	uint8_t st;
	uint8_t bm = dma_finish(&st);
	cr_assert_eq(bm & (ATA_BM_ST_ACTIVE | ATA_BM_ST_ERROR | ATA_BM_ST_INTR),
		     ATA_BM_ST_ERROR | ATA_BM_ST_INTR, "BMISX %#x", bm);
	cr_assert_eq(st & (ATA_SR_BSY | ATA_SR_DRQ | ATA_SR_ERR), ATA_SR_ERR,
		     "status %#x", st);
	cr_assert(error_reg() & ATA_ER_ABRT, "error %#x", error_reg());
}

static uint64_t counter(const char *name)
{
	struct stats_group *g = ata_dma_stats(dma);
	for (unsigned int i = 0; i < g->nr; i++)
		if (!strcmp(g->counters[i].name, name))
			return g->counters[i].value;
	cr_assert_fail("no counter %s", name);
	return 0;
}

/* ---- IDENTIFY and SET FEATURES --------------------------------------------------- */

static void identify(uint16_t w[256])
{
	outb(ATA_CMD_BASE + ATA_REG_DEVICE, 0xa0);
	command(ATA_CMD_IDENTIFY);
	ata_disk_pio(ata_dma_disk(dma), ATA_CMD_BASE, false, w, 2, 256);
	cr_assert_eq(status() & (ATA_SR_DRQ | ATA_SR_ERR), 0);
}

Test(ata_dma, identify_offers_dma_modes)
{
	uint16_t w[256];
	identify(w);
	cr_assert(w[49] & (1u << 8), "DMA supported");
	cr_assert(w[53] & (1u << 2), "word 88 valid");
	cr_assert_eq(w[63] & 0xff, 0x07, "multiword DMA 0-2");
	cr_assert_eq(w[88], 0x003f | 1u << 13, "Ultra DMA 0-5, mode 5 selected");
	cr_assert(w[93] & (1u << 13), "80-conductor cable");
	uint8_t sum = 0;
	for (unsigned int i = 0; i < 512; i++)
		sum = (uint8_t)(sum + ((uint8_t *)w)[i]);
	cr_assert_eq(sum, 0, "integrity checksum");
	cr_assert(bm_inb(ATA_BM_REG_STATUS) & ATA_BM_ST_INTR,
		  "a PIO command's INTRQ latches in BMISX too");

	outb(ATA_CMD_BASE + ATA_REG_ERROR_FEATURE, 0x03);
	outb(ATA_CMD_BASE + ATA_REG_COUNT, 0x42); /* UDMA 2 */
	command(ATA_CMD_SET_FEATURES);
	cr_assert_eq(status() & ATA_SR_ERR, 0);
	identify(w);
	cr_assert_eq(w[88], 0x003f | 1u << 10);
	outb(ATA_CMD_BASE + ATA_REG_COUNT, 0x21); /* MWDMA 1 */
	command(ATA_CMD_SET_FEATURES);
	identify(w);
	cr_assert_eq(w[63], 0x0007 | 1u << 9);
	cr_assert_eq(w[88], 0x003f, "one DMA mode selected at a time");
	outb(ATA_CMD_BASE + ATA_REG_COUNT, 0x46); /* UDMA 6: not offered */
	command(ATA_CMD_SET_FEATURES);
	cr_assert(status() & ATA_SR_ERR);
}

Test(ata_dma, pio_disk_offers_and_takes_no_dma)
{
	struct ata_disk *pio = ata_disk_new(&img, "PIO");
	uint16_t w[256];
	uint8_t v = 0xa0;
	ata_disk_pio(pio, ATA_CMD_BASE + ATA_REG_DEVICE, true, &v, 1, 1);
	v = ATA_CMD_IDENTIFY;
	ata_disk_pio(pio, ATA_CMD_BASE + ATA_REG_STATUS_COMMAND, true, &v, 1, 1);
	ata_disk_pio(pio, ATA_CMD_BASE, false, w, 2, 256);
	cr_assert_eq(w[49] & (1u << 8), 0);
	cr_assert_eq(w[88], 0);
	v = 0x03;
	ata_disk_pio(pio, ATA_CMD_BASE + ATA_REG_ERROR_FEATURE, true, &v, 1, 1);
	v = 0x45;
	ata_disk_pio(pio, ATA_CMD_BASE + ATA_REG_COUNT, true, &v, 1, 1);
	v = ATA_CMD_SET_FEATURES;
	ata_disk_pio(pio, ATA_CMD_BASE + ATA_REG_STATUS_COMMAND, true, &v, 1, 1);
	ata_disk_pio(pio, ATA_CMD_BASE + ATA_REG_STATUS_COMMAND, false, &v, 1, 1);
	cr_assert(v & ATA_SR_ERR, "UDMA refused without a bus master");
	v = ATA_CMD_READ_DMA;
	ata_disk_pio(pio, ATA_CMD_BASE + ATA_REG_STATUS_COMMAND, true, &v, 1, 1);
	ata_disk_pio(pio, ATA_CMD_BASE + ATA_REG_STATUS_COMMAND, false, &v, 1, 1);
	cr_assert(v & ATA_SR_ERR, "READ DMA aborts on the PIO disk");
	ata_disk_free(pio);
}

/* ---- the bus-master registers ------------------------------------------------------- */

Test(ata_dma, bus_master_registers)
{
	cr_assert_eq(bm_inb(ATA_BM_REG_STATUS), ATA_BM_ST_DRV0_DMA, "as firmware leaves it");
	bm_outl(ATA_BM_REG_PRDT, 0x12345677u);
	cr_assert_eq(bm_inl(ATA_BM_REG_PRDT), 0x12345674u, "dword-aligned");
	bm_outb(ATA_BM_REG_PRDT + 3, 0xab);
	cr_assert_eq(bm_inl(ATA_BM_REG_PRDT), 0xab345674u, "byte-wise access");
	bm_outb(ATA_BM_REG_CMD, 0xff & ~ATA_BM_CMD_START);
	cr_assert_eq(bm_inb(ATA_BM_REG_CMD), ATA_BM_CMD_TO_MEMORY, "only RWCON and START");
	cr_assert_eq(bm_inb(1), 0, "reserved");
	cr_assert_eq(bm_inb(3), 0, "reserved");
	/* DRV0/DRV1 are the driver's; ACTIVE and SIMPLEX cannot be written. */
	bm_outb(ATA_BM_REG_STATUS, ATA_BM_ST_DRV1_DMA | ATA_BM_ST_ACTIVE | ATA_BM_ST_SIMPLEX);
	cr_assert_eq(bm_inb(ATA_BM_REG_STATUS), ATA_BM_ST_DRV1_DMA);
	/* START with no command: active, waiting; stop clears it. */
	dma_start(true);
	cr_assert(bm_inb(ATA_BM_REG_STATUS) & ATA_BM_ST_ACTIVE);
	bm_outb(ATA_BM_REG_CMD, 0);
	cr_assert_eq(bm_inb(ATA_BM_REG_STATUS) & ATA_BM_ST_ACTIVE, 0);
	/* RWCON does not change while active. */
	dma_start(true);
	bm_outb(ATA_BM_REG_CMD, ATA_BM_CMD_START);
	cr_assert_eq(bm_inb(ATA_BM_REG_CMD), ATA_BM_CMD_START | ATA_BM_CMD_TO_MEMORY);
	uint8_t v[2] = { 0x5a, 0x5a };
	ata_dma_bm_pio(dma, ATA_BM_BASE + ATA_BM_PORTS - 1, false, v, 2, 1);
	cr_assert_eq(v[1], 0xff, "past the block reads as ones");
}

/* ---- transfers -------------------------------------------------------------------- */

Test(ata_dma, read_dma_lba28_one_prd)
{
	memset(ram(DATA), 0, 8 * 512);
	put_prd(PRDT, 0, DATA, 8 * 512, true);
	dma_setup(PRDT, true);
	set_lba28(17, 8);
	command(ATA_CMD_READ_DMA);
	cr_assert_eq(status() & (ATA_SR_BSY | ATA_SR_DRQ), ATA_SR_DRQ,
		     "the drive waits for the engine");
	cr_assert_eq(ram(DATA)[0], 0, "nothing moved before START");
	dma_start(true);
	check_sectors(ram(DATA), 17, 8);
	expect_ok();
	cr_assert_eq(counter("bytes_read"), 8 * 512);
	cr_assert_eq(counter("prds"), 1);
}

Test(ata_dma, read_dma_ext_prd_chain_with_odd_regions)
{
	/* 6 sectors over four regions of 512, 1000, 1048 and 512 bytes,
	 * scattered and out of order in memory. */
	static const uint32_t base[] = { DATA + 0x8000, DATA + 0x1002, DATA + 0x20000, DATA };
	static const uint32_t len[] = { 512, 1000, 1048, 512 };
	for (unsigned int i = 0; i < 4; i++)
		put_prd(PRDT, i, base[i], len[i], i == 3);
	dma_setup(PRDT, true);
	set_lba48(100, 6);
	command(ATA_CMD_READ_DMA_EXT);
	dma_start(true);
	expect_ok();
	uint8_t got[6 * 512];
	unsigned int at = 0;
	for (unsigned int i = 0; i < 4; i++) {
		memcpy(got + at, ram(base[i]), len[i]);
		at += len[i];
	}
	check_sectors(got, 100, 6);
	cr_assert_eq(counter("prds"), 4);
}

Test(ata_dma, count_zero_is_256_sectors_and_len_zero_is_64k)
{
	put_prd(PRDT, 0, DATA, 0, false);            /* 0: 64 KiB */
	put_prd(PRDT, 1, DATA + 0x10000, 0, true);   /* 64 KiB, EOT */
	dma_setup(PRDT, true);
	set_lba28(1000, 0); /* 0: 256 sectors = 128 KiB */
	command(ATA_CMD_READ_DMA);
	dma_start(true);
	expect_ok();
	check_sectors(ram(DATA), 1000, 256);
}

Test(ata_dma, write_dma_ext_reaches_the_file)
{
	memset(ram(DATA), 0xc3, 2048);
	memset(ram(DATA + 0x3000), 0x3c, 1024);
	put_prd(PRDT, 0, DATA, 2048, false);
	put_prd(PRDT, 1, DATA + 0x3000, 1024, true);
	dma_setup(PRDT, false);
	set_lba48(50, 6);
	command(ATA_CMD_WRITE_DMA_EXT);
	dma_start(false);
	expect_ok();
	uint8_t got[7 * 512];
	cr_assert_eq(pread(img.fd, got, sizeof(got), 50 * 512), (ssize_t)sizeof(got));
	for (unsigned int i = 0; i < 2048; i++)
		cr_assert_eq(got[i], 0xc3);
	for (unsigned int i = 2048; i < 3072; i++)
		cr_assert_eq(got[i], 0x3c);
	check_sectors(got + 3072, 56, 1);
	cr_assert_eq(counter("bytes_written"), 3072);
}

Test(ata_dma, write_dma_lba28_and_flush)
{
	memset(ram(DATA), 0x77, 512);
	put_prd(PRDT, 0, DATA, 512, true);
	dma_setup(PRDT, false);
	set_lba28(9, 1);
	command(ATA_CMD_WRITE_DMA);
	dma_start(false);
	expect_ok();
	command(ATA_CMD_FLUSH_CACHE_EXT);
	cr_assert_eq(status() & (ATA_SR_ERR | ATA_SR_DRQ | ATA_SR_BSY), 0);
	uint8_t got[512];
	cr_assert_eq(pread(img.fd, got, 512, 9 * 512), 512);
	for (unsigned int i = 0; i < 512; i++)
		cr_assert_eq(got[i], 0x77);
}

Test(ata_dma, start_before_the_command)
{
	put_prd(PRDT, 0, DATA, 512, true);
	dma_setup(PRDT, true);
	dma_start(true);
	cr_assert_eq(bm_inb(ATA_BM_REG_STATUS) & (ATA_BM_ST_ACTIVE | ATA_BM_ST_INTR),
		     ATA_BM_ST_ACTIVE);
	set_lba28(3, 1);
	command(ATA_CMD_READ_DMA);
	check_sectors(ram(DATA), 3, 1);
	expect_ok();
}

Test(ata_dma, prd_table_larger_than_the_transfer)
{
	put_prd(PRDT, 0, DATA, 4096, false);
	put_prd(PRDT, 1, DATA + 4096, 4096, true);
	dma_setup(PRDT, true);
	set_lba28(0, 4); /* 2 KiB: half the first region */
	command(ATA_CMD_READ_DMA);
	dma_start(true);
	check_sectors(ram(DATA), 0, 4);
	uint8_t st;
	uint8_t bm = dma_finish(&st);
	cr_assert_eq(bm & (ATA_BM_ST_ACTIVE | ATA_BM_ST_ERROR | ATA_BM_ST_INTR),
		     ATA_BM_ST_ACTIVE | ATA_BM_ST_INTR,
		     "SFF-8038i: interrupt with the table not exhausted");
	cr_assert_eq(st & ATA_SR_ERR, 0);
	cr_assert_eq(bm_inb(ATA_BM_REG_STATUS) & ATA_BM_ST_ACTIVE, 0, "stopped");
}

Test(ata_dma, prd_table_shorter_than_the_transfer)
{
	memset(ram(DATA), 0xee, 8192);
	put_prd(PRDT, 0, DATA, 1024, true);
	dma_setup(PRDT, true);
	set_lba28(0, 4);
	command(ATA_CMD_READ_DMA);
	dma_start(true);
	expect_bus_error();
	cr_assert_eq(ram(DATA)[0], 0xee, "nothing moved");
	cr_assert_eq(counter("bus_errors"), 1);
}

/* One READ DMA of a sector through the table at `table`. */
static void read_through(uint32_t table)
{
	dma_setup(table, true);
	set_lba28(0, 1);
	command(ATA_CMD_READ_DMA);
	dma_start(true);
}

Test(ata_dma, regions_below_1mib_and_outside_ram_are_refused)
{
	/* The VMM's pages below 1 MiB: fill them, check they stay. */
	uint8_t *low = ram(0);
	memset(low, 0xa5, PVKVM_GUEST_LOAD_MIN);
	static const struct { uint32_t base, len; } bad[] = {
		{ 0x1000, 512 },                          /* page tables */
		{ PVKVM_GUEST_LOAD_MIN - 512, 512 },      /* ends just below */
		{ RAM, 512 },                             /* past RAM */
		{ RAM - 256, 512 },                       /* straddles its end */
		{ 0xfffffe00u, 512 },                     /* 4 GiB - 512 */
	};
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_prd(PRDT, 0, bad[i].base, bad[i].len, true);
		read_through(PRDT);
		expect_bus_error();
	}
	/* A good region first does not make a bad second one pass. */
	memset(ram(DATA), 0xee, 512);
	put_prd(PRDT, 0, DATA, 256, false);
	put_prd(PRDT, 1, 0x2000, 256, true);
	read_through(PRDT);
	expect_bus_error();
	cr_assert_eq(ram(DATA)[0], 0xee, "all or nothing");
	for (uint32_t i = 0; i < PVKVM_GUEST_LOAD_MIN; i++)
		cr_assert_eq(low[i], 0xa5, "byte %#x below 1 MiB changed", i);
	cr_assert_eq(counter("bus_errors"), 6);
}

/* The engine reaches memory only as the guest itself may: a disk read
 * may not land on a page the guest cannot write (its text, its hypercall
 * page), a write may not take data from one it cannot read, and a PRD
 * table must be readable. */
Test(ata_dma, regions_need_the_guests_own_rights)
{
	memset(ram(DATA), 0x5c, 4096);
	gmem_set_access(&mem, DATA, 4096, GMEM_RX);
	put_prd(PRDT, 0, DATA, 512, true);
	read_through(PRDT);
	expect_bus_error();
	for (unsigned int i = 0; i < 4096; i++)
		cr_assert_eq(ram(DATA)[i], 0x5c, "byte %u of a read-only page changed", i);

	dma_setup(PRDT, false); /* the same page is a fine source */
	set_lba28(9, 1);
	command(ATA_CMD_WRITE_DMA);
	dma_start(false);
	expect_ok();
	uint8_t got[512];
	cr_assert_eq(pread(img.fd, got, sizeof(got), 9 * 512), (ssize_t)sizeof(got));
	cr_assert_eq(got[0], 0x5c);

	gmem_set_access(&mem, DATA, 4096, GMEM_NONE);
	dma_setup(PRDT, false);
	set_lba28(9, 1);
	command(ATA_CMD_WRITE_DMA);
	dma_start(false);
	expect_bus_error();

	gmem_set_access(&mem, DATA, 4096, GMEM_RW);
	gmem_set_access(&mem, PRDT, 4096, GMEM_NONE);
	read_through(PRDT);
	expect_bus_error();
	cr_assert_eq(counter("bus_errors"), 3);
}

Test(ata_dma, prd_tables_below_1mib_outside_ram_or_without_eot)
{
	/* A table in the VMM's pages is refused even when its entries are fine. */
	uint8_t *low = ram(0x3000);
	struct ata_prd ok = { .base = DATA, .flags_len = 512 | ATA_PRD_EOT };
	memcpy(low, &ok, sizeof(ok));
	read_through(0x3000);
	expect_bus_error();
	read_through(RAM);
	expect_bus_error();
	read_through(RAM - 4); /* the entry straddles the end of RAM */
	expect_bus_error();
	/* No EOT up to the 64 KiB boundary the table may not cross: the
	 * walk stops there (8192 entries), it does not run on. */
	for (unsigned int i = 0; i < ATA_PRD_MAX_ENTRIES; i++)
		put_prd(PRDT, i, DATA, 2, false);
	dma_setup(PRDT, true);
	set_lba48(0, 64); /* 32 KiB: more than 8192 * 2 bytes */
	command(ATA_CMD_READ_DMA_EXT);
	dma_start(true);
	expect_bus_error();
	cr_assert_eq(counter("bus_errors"), 4);
}

Test(ata_dma, direction_must_match_the_command)
{
	memset(ram(DATA), 0xee, 512);
	put_prd(PRDT, 0, DATA, 512, true);
	dma_setup(PRDT, false); /* memory to disk, for a READ DMA */
	set_lba28(0, 1);
	command(ATA_CMD_READ_DMA);
	dma_start(false);
	expect_bus_error();
	cr_assert_eq(ram(DATA)[0], 0xee);
}

Test(ata_dma, out_of_range_read_only_and_reset)
{
	put_prd(PRDT, 0, DATA, 1024, true);
	dma_setup(PRDT, true);
	set_lba28(SECTORS - 1, 2);
	command(ATA_CMD_READ_DMA);
	cr_assert(status() & ATA_SR_ERR);
	cr_assert(error_reg() & ATA_ER_IDNF);
	dma_start(true);
	cr_assert_eq(counter("transfers"), 0, "no command waiting: START moves nothing");
	bm_outb(ATA_BM_REG_CMD, 0);
	bm_outb(ATA_BM_REG_STATUS, ATA_BM_ST_INTR | ATA_BM_ST_ERROR);

	/* SRST drops a waiting command. */
	set_lba28(0, 2);
	command(ATA_CMD_READ_DMA);
	outb(ATA_CTL_PORT, ATA_CTL_SRST);
	outb(ATA_CTL_PORT, 0);
	dma_start(true);
	cr_assert_eq(counter("transfers"), 0);
	bm_outb(ATA_BM_REG_CMD, 0);

	teardown();
	make_image();
	cr_assert_eq(gmem_create(&mem, RAM), 0);
	open_dma(true);
	put_prd(PRDT, 0, DATA, 512, true);
	dma_setup(PRDT, false);
	set_lba28(3, 1);
	command(ATA_CMD_WRITE_DMA);
	cr_assert(status() & ATA_SR_ERR);
	cr_assert(error_reg() & ATA_ER_ABRT);
	dma_start(false);
	uint8_t got[512];
	cr_assert_eq(pread(img.fd, got, 512, 3 * 512), 512);
	check_sectors(got, 3, 1);
}

Test(ata_dma, nien_masks_the_interrupt_latch)
{
	outb(ATA_CTL_PORT, ATA_CTL_NIEN);
	put_prd(PRDT, 0, DATA, 512, true);
	dma_setup(PRDT, true);
	set_lba28(7, 1);
	command(ATA_CMD_READ_DMA);
	dma_start(true);
	check_sectors(ram(DATA), 7, 1);
	uint8_t bm = bm_inb(ATA_BM_REG_STATUS);
	cr_assert_eq(bm & (ATA_BM_ST_ACTIVE | ATA_BM_ST_INTR), 0,
		     "done, but no INTRQ to latch: BMISX %#x", bm);
	cr_assert_eq(status() & (ATA_SR_DRQ | ATA_SR_ERR), 0);
}

Test(ata_dma, a_request_costs_a_dozen_accesses)
{
	put_prd(PRDT, 0, DATA, 4096, true);
	dma_setup(PRDT, true);
	set_lba28(64, 8);
	command(ATA_CMD_READ_DMA);
	dma_start(true);
	expect_ok();
	/* BMIDTP, BMICX; START; then BMISX, BMICX read + write, BMISX clear
	 * (and the check after it). */
	cr_assert_eq(counter("bm_register_accesses"), 3 + 5);
	cr_assert_eq(counter("dma_commands"), 1);
}

Test(ata_dma, prd_bit_0_of_address_and_count_is_ignored)
{
	/* 513 bytes at DATA + 1 are 512 bytes at DATA: both bits 0 are
	 * reserved, as a controller that moves 16-bit words has them. */
	put_prd(PRDT, 0, DATA + 1, 513, true);
	dma_setup(PRDT, true);
	set_lba28(11, 1);
	command(ATA_CMD_READ_DMA);
	dma_start(true);
	expect_ok();
	check_sectors(ram(DATA), 11, 1);
}
