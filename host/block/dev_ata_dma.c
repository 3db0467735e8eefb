// SPDX-License-Identifier: MIT
/*
 * The bus-master DMA controller in front of the emulated ATA drive: its
 * registers, the DMA commands it adds to the drive (through the taskfile's
 * hooks) and the transfer engine. Everything runs under the drive's lock.
 */
#include "host/block/dev_ata_dma.h"

#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "host/block/ata_taskfile.h"
#include "host/block/blk_image.h"
#include "host/core/stats.h"
#include "host/mem/gmem_dma.h"
#include "host/mem/guest_mem.h"
#include "hypercall/pvkvm_abi.h"

enum dma_counter {
	DMA_C_BM_ACCESSES, /* bus-master register accesses: one trap each */
	DMA_C_COMMANDS,
	DMA_C_TRANSFERS,
	DMA_C_PRDS,
	DMA_C_BYTES_READ,   /* disk to guest memory */
	DMA_C_BYTES_WRITTEN,
	DMA_C_BUS_ERRORS,   /* refused PRD tables and regions */
	DMA_C_IO_ERRORS,
	DMA_C_COUNT
};

struct ata_dma {
	struct ata_disk *disk;
	const struct guest_mem *mem;

	uint8_t bm_cmd, bm_status;
	uint32_t prdt;

	/* The DMA command the drive is waiting to move data for. */
	bool pending, pending_write;
	uint64_t pending_lba;
	uint32_t pending_n;

	struct iovec iov[ATA_PRD_MAX_ENTRIES];

	struct stat_counter counters[DMA_C_COUNT];
	struct stats_group group;
};

static void dma_count(struct ata_dma *x, enum dma_counter c, uint64_t n)
{
	stat_add(&x->counters[c].value, n);
}

/* ---- the PRD walk ------------------------------------------------------- */

/* Regions that follow each other in guest memory become one iovec: the
 * same bytes in the same order, and the kernel walks one segment instead
 * of one per page-sized PRD. */
static void append_region(struct ata_dma *x, unsigned int *n, void *p,
			  uint32_t len)
{
	struct iovec *last = *n ? &x->iov[*n - 1] : NULL;
	if (last && (uint8_t *)last->iov_base + last->iov_len == (uint8_t *)p) {
		last->iov_len += len;
		return;
	}
	x->iov[(*n)++] = (struct iovec){ .iov_base = p, .iov_len = len };
}

/*
 * Turns the PRD table into iovecs covering exactly `bytes`. 0 with *niov,
 * *nprds (entries used) and *exhausted (the last region used was the EOT one, fully used), or
 * -EFAULT (a bad table or region address) or -ENOSPC (the table ends
 * before the transfer does). The walk never leaves the 64 KiB the table
 * may span, so it ends after ATA_PRD_MAX_ENTRIES reads at most.
 */
static int build_iov(struct ata_dma *x, uint64_t bytes, bool write,
		     unsigned int *niov, unsigned int *nprds, bool *exhausted)
{
	unsigned int acc = write ? GMEM_READ : GMEM_WRITE;
	uint64_t at = x->prdt, span_end = ((uint64_t)x->prdt | 0xffffu) + 1;
	uint64_t left = bytes;
	unsigned int n = 0;

	for (; at + sizeof(struct ata_prd) <= span_end; at += sizeof(struct ata_prd)) {
		struct ata_prd prd;
		if (gmem_dma_read(x->mem, at, &prd, sizeof(prd)))
			return -EFAULT;
		uint64_t base = le32toh(prd.base) & ~1u;
		uint32_t flags = le32toh(prd.flags_len);
		uint32_t len = flags & ATA_PRD_LEN_MASK;
		if (len == 0)
			len = ATA_PRD_MAX_BYTES;
		uint32_t take = left < len ? (uint32_t)left : len;
		void *p = gmem_dma_ptr(x->mem, base, take, acc);
		if (!p)
			return -EFAULT;
		append_region(x, &n, p, take);
		left -= take;
		if (left == 0) {
			*niov = n;
			*nprds = (unsigned int)((at - x->prdt) / sizeof(struct ata_prd)) + 1;
			*exhausted = (flags & ATA_PRD_EOT) && take == len;
			return 0;
		}
		if (flags & ATA_PRD_EOT)
			return -ENOSPC;
	}
	return -EFAULT; /* no EOT inside the table's 64 KiB */
}

/* ---- the transfer --------------------------------------------------------- */

static void iov_advance(struct iovec **iov, unsigned int *n, size_t done)
{
	while (done > 0 && *n > 0) {
		if (done >= (*iov)->iov_len) {
			done -= (*iov)->iov_len;
			(*iov)++;
			(*n)--;
		} else {
			(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + done;
			(*iov)->iov_len -= done;
			done = 0;
		}
	}
}

/* The whole vectored transfer at byte offset off: 0 or -errno. */
static int rw_iov(const struct blk_image *img, bool write, struct iovec *iov,
		  unsigned int n, uint64_t off)
{
	int fd = blk_image_direct_fits(img, off, iov, n) ? img->direct_fd : img->fd;
	while (n > 0) {
		int cnt = n > IOV_MAX ? IOV_MAX : (int)n;
		ssize_t r = write ? pwritev(fd, iov, cnt, (off_t)off)
				  : preadv(fd, iov, cnt, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		off += (uint64_t)r;
		iov_advance(&iov, &n, (size_t)r);
	}
	return 0;
}

/* A bus error: the controller stops, the drive ends the command. */
static void bus_error(struct ata_dma *x)
{
	dma_count(x, DMA_C_BUS_ERRORS, 1);
	x->bm_status = (uint8_t)((x->bm_status | ATA_BM_ST_ERROR) & ~ATA_BM_ST_ACTIVE);
	ata_complete_error(x->disk, ATA_ER_ABRT);
}

static void run_transfer(struct ata_dma *x)
{
	struct ata_disk *d = x->disk;
	bool write = x->pending_write;
	uint64_t bytes = (uint64_t)x->pending_n * ATA_SECTOR;
	unsigned int niov = 0, nprds = 0;
	bool exhausted = false;

	x->pending = false;
	dma_count(x, DMA_C_TRANSFERS, 1);
	/* RWCON must name the command's direction: the other way would move
	 * data nowhere useful, and a write would read what it meant to fill. */
	if (!(x->bm_cmd & ATA_BM_CMD_TO_MEMORY) != write ||
	    build_iov(x, bytes, write, &niov, &nprds, &exhausted) < 0) {
		bus_error(x);
		return;
	}
	dma_count(x, DMA_C_PRDS, nprds);
	int r = rw_iov(d->img, write, x->iov, niov, x->pending_lba * ATA_SECTOR);
	if (r < 0) {
		dma_count(x, DMA_C_IO_ERRORS, 1);
		x->bm_status &= (uint8_t)~ATA_BM_ST_ACTIVE;
		ata_complete_error(d, write ? ATA_ER_ABRT : ATA_ER_UNC);
		return;
	}
	dma_count(x, write ? DMA_C_BYTES_WRITTEN : DMA_C_BYTES_READ, bytes);
	ata_count(d, write ? ATA_C_SECTORS_WRITTEN : ATA_C_SECTORS_READ, x->pending_n);
	/* A table longer than the transfer leaves ACTIVE set beside INTR:
	 * SFF-8038i's "PRDs larger than the transfer", not an error. */
	if (exhausted)
		x->bm_status &= (uint8_t)~ATA_BM_ST_ACTIVE;
	ata_complete_ok(d);
}

/* The transfer starts once both halves are there: a DMA command in the
 * drive and START with the engine active, in whichever order they came. */
static void try_run(struct ata_dma *x)
{
	if (x->pending && (x->bm_cmd & ATA_BM_CMD_START) &&
	    (x->bm_status & ATA_BM_ST_ACTIVE))
		run_transfer(x);
}

/* ---- hooks into the drive ---------------------------------------------------- */

static bool dma_command(void *ctx, struct ata_disk *d, uint8_t cmd)
{
	struct ata_dma *x = ctx;
	bool write, ext;

	x->pending = false; /* a new command replaces whatever waited */
	switch (cmd) {
	case ATA_CMD_READ_DMA:
	case ATA_CMD_READ_DMA + 1: /* obsolete "without retry" */
		write = false, ext = false;
		break;
	case ATA_CMD_WRITE_DMA:
	case ATA_CMD_WRITE_DMA + 1:
		write = true, ext = false;
		break;
	case ATA_CMD_READ_DMA_EXT:
		write = false, ext = true;
		break;
	case ATA_CMD_WRITE_DMA_EXT:
		write = true, ext = true;
		break;
	default:
		return false;
	}
	dma_count(x, DMA_C_COMMANDS, 1);
	if (write && d->img->read_only) {
		ata_complete_error(d, ATA_ER_ABRT);
		return true;
	}
	uint64_t lba;
	uint32_t n;
	if (!ata_command_range(d, ext, &lba, &n))
		return true;
	x->pending = true;
	x->pending_write = write;
	x->pending_lba = lba;
	x->pending_n = n;
	/* Ready to move data, waiting for the host's engine. */
	d->xfer = XFER_NONE;
	d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
	try_run(x);
	return true;
}

static void dma_irq(void *ctx)
{
	struct ata_dma *x = ctx;
	x->bm_status |= ATA_BM_ST_INTR;
}

static void dma_reset(void *ctx)
{
	struct ata_dma *x = ctx;
	x->pending = false;
}

static const struct ata_disk_hooks dma_hooks = {
	.command = dma_command,
	.irq = dma_irq,
	.reset = dma_reset,
};

/* ---- bus-master registers ------------------------------------------------------ */

static void cmd_write(struct ata_dma *x, uint8_t v)
{
	uint8_t old = x->bm_cmd;
	v &= ATA_BM_CMD_START | ATA_BM_CMD_TO_MEMORY;
	/* RWCON may not change while the engine is active. */
	if (x->bm_status & ATA_BM_ST_ACTIVE)
		v = (uint8_t)((v & ~ATA_BM_CMD_TO_MEMORY) | (old & ATA_BM_CMD_TO_MEMORY));
	x->bm_cmd = v;
	if ((v & ATA_BM_CMD_START) && !(old & ATA_BM_CMD_START)) {
		x->bm_status |= ATA_BM_ST_ACTIVE;
		try_run(x);
	} else if (!(v & ATA_BM_CMD_START)) {
		/* Stopping loses the engine's state; a waiting command stays
		 * in the drive for the next START. */
		x->bm_status &= (uint8_t)~ATA_BM_ST_ACTIVE;
	}
}

static void status_write(struct ata_dma *x, uint8_t v)
{
	uint8_t keep = x->bm_status & ~(v & (ATA_BM_ST_ERROR | ATA_BM_ST_INTR));
	uint8_t rw = ATA_BM_ST_DRV0_DMA | ATA_BM_ST_DRV1_DMA;
	x->bm_status = (uint8_t)((keep & ~rw) | (v & rw));
}

static void byte_write(struct ata_dma *x, unsigned int off, uint8_t v)
{
	switch (off) {
	case ATA_BM_REG_CMD: cmd_write(x, v); break;
	case ATA_BM_REG_STATUS: status_write(x, v); break;
	case ATA_BM_REG_PRDT:
	case ATA_BM_REG_PRDT + 1:
	case ATA_BM_REG_PRDT + 2:
	case ATA_BM_REG_PRDT + 3: {
		unsigned int shift = 8 * (off - ATA_BM_REG_PRDT);
		x->prdt = (x->prdt & ~(0xffu << shift)) | (uint32_t)v << shift;
		x->prdt &= ~3u; /* bits 1:0 are reserved: dword-aligned */
		break;
	}
	default: break; /* reserved */
	}
}

static uint8_t byte_read(const struct ata_dma *x, unsigned int off)
{
	switch (off) {
	case ATA_BM_REG_CMD: return x->bm_cmd;
	case ATA_BM_REG_STATUS: return x->bm_status;
	case ATA_BM_REG_PRDT:
	case ATA_BM_REG_PRDT + 1:
	case ATA_BM_REG_PRDT + 2:
	case ATA_BM_REG_PRDT + 3:
		return (uint8_t)(x->prdt >> (8 * (off - ATA_BM_REG_PRDT)));
	default: return 0;
	}
}

/* Each access is len bytes at port (a 32-bit BMIDTP write is four byte
 * writes, low byte first); a string repeats it count times. Bytes past
 * the block are dropped or read as ones. */
void ata_dma_bm_pio(void *ctx, uint16_t port, bool is_write, void *data,
		    uint32_t len, uint32_t count)
{
	struct ata_dma *x = ctx;
	uint8_t *p = data;
	pthread_mutex_lock(&x->disk->lock);
	dma_count(x, DMA_C_BM_ACCESSES, 1);
	for (uint32_t i = 0; i < count; i++) {
		for (uint32_t j = 0; j < len; j++, p++) {
			uint32_t off = (uint32_t)port + j - ATA_BM_BASE;
			if (off >= ATA_BM_PORTS) {
				if (!is_write)
					*p = 0xff;
			} else if (is_write) {
				byte_write(x, off, *p);
			} else {
				*p = byte_read(x, off);
			}
		}
	}
	pthread_mutex_unlock(&x->disk->lock);
}

/* ---- life cycle -------------------------------------------------------------- */

static const char *const counter_names[DMA_C_COUNT] = {
	[DMA_C_BM_ACCESSES] = "bm_register_accesses",
	[DMA_C_COMMANDS] = "dma_commands",
	[DMA_C_TRANSFERS] = "transfers",
	[DMA_C_PRDS] = "prds",
	[DMA_C_BYTES_READ] = "bytes_read",
	[DMA_C_BYTES_WRITTEN] = "bytes_written",
	[DMA_C_BUS_ERRORS] = "bus_errors",
	[DMA_C_IO_ERRORS] = "io_errors",
};

struct ata_dma *ata_dma_new(const struct blk_image *img,
			    const struct guest_mem *mem, const char *serial)
{
	struct ata_dma *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->disk = ata_disk_new_hooked(img, serial, "pvkvm ATA DMA disk",
				      &dma_hooks, x);
	if (!x->disk) {
		free(x);
		return NULL;
	}
	x->mem = mem;
	/* As a BIOS leaves it: drive 0 set up for DMA. */
	x->bm_status = ATA_BM_ST_DRV0_DMA;
	for (unsigned int i = 0; i < DMA_C_COUNT; i++)
		x->counters[i].name = counter_names[i];
	x->group = (struct stats_group){ .name = "ata_dma", .counters = x->counters,
					 .nr = DMA_C_COUNT };
	return x;
}

void ata_dma_free(struct ata_dma *x)
{
	if (!x)
		return;
	ata_disk_free(x->disk);
	free(x);
}

struct ata_disk *ata_dma_disk(struct ata_dma *x)
{
	return x->disk;
}

struct stats_group *ata_dma_stats(struct ata_dma *x)
{
	return &x->group;
}
