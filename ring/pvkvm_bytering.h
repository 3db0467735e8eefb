/* SPDX-License-Identifier: MIT */
/*
 * pvkvm_bytering.h - byte-stream rings (console, config-store channel).
 *
 * One direction = a power-of-two byte buffer plus a pair of free-running
 * 32-bit indices (struct pvkvm_bytes_idx). The writer owns prod, the reader
 * owns cons; byte i of the stream lives at buf[i & (size - 1)]. Writes and
 * reads copy in at most two pieces around the wrap.
 *
 * Either side may be hostile: both clamp what they compute from the other's
 * index, and every buffer access is masked, so a bogus index can lose or
 * repeat bytes but never reach outside the buffer.
 *
 * Notification is left to the caller (e.g. an event channel after a write
 * that moved bytes); the console has no event indices.
 */
#ifndef PVKVM_BYTERING_H
#define PVKVM_BYTERING_H

#include "ring/pvkvm_ring_sys.h"

struct pvkvm_bytes_idx {
	uint32_t cons; /* reader: bytes consumed */
	uint32_t prod; /* writer: bytes produced */
};

static inline bool pvkvm_bytes_size_ok(uint32_t size)
{
	return size != 0 && (size & (size - 1)) == 0;
}

/* Bytes between cons and prod, clamped to the buffer. */
static inline uint32_t pvkvm_bytes_used_(uint32_t prod, uint32_t cons,
					 uint32_t size)
{
	uint32_t used = prod - cons;

	return used > size ? size : used;
}

/* Bytes the reader could take now (acquire: their contents are visible). */
static inline uint32_t pvkvm_bytes_avail(struct pvkvm_bytes_idx *idx,
					 uint32_t size)
{
	return pvkvm_bytes_used_(PVKVM_RING_LOAD_ACQUIRE(&idx->prod),
				 PVKVM_RING_LOAD(&idx->cons), size);
}

/* Bytes the writer could put now. */
static inline uint32_t pvkvm_bytes_space(struct pvkvm_bytes_idx *idx,
					 uint32_t size)
{
	return size - pvkvm_bytes_used_(PVKVM_RING_LOAD(&idx->prod),
					PVKVM_RING_LOAD_ACQUIRE(&idx->cons),
					size);
}

/*
 * Appends up to n bytes of src; returns the number written (0 when full or
 * size is not a power of two).
 */
static inline uint32_t pvkvm_bytes_write(struct pvkvm_bytes_idx *idx,
					 uint8_t *buf, uint32_t size,
					 const void *src, uint32_t n)
{
	uint32_t prod, cons, off, first;

	if (!pvkvm_bytes_size_ok(size))
		return 0;
	prod = PVKVM_RING_LOAD(&idx->prod);
	/* acquire: the reader is done with the bytes we are about to reuse */
	cons = PVKVM_RING_LOAD_ACQUIRE(&idx->cons);
	if (n > size - pvkvm_bytes_used_(prod, cons, size))
		n = size - pvkvm_bytes_used_(prod, cons, size);
	off = prod & (size - 1);
	first = n < size - off ? n : size - off;
	PVKVM_RING_COPY(buf + off, src, first);
	PVKVM_RING_COPY(buf, (const uint8_t *)src + first, n - first);
	PVKVM_RING_STORE_RELEASE(&idx->prod, prod + n);
	return n;
}

/*
 * Takes up to n bytes into dst; returns the number read. A producer index
 * more than size ahead is clamped: we read at most one buffer's worth, all
 * of it inside buf.
 */
static inline uint32_t pvkvm_bytes_read(struct pvkvm_bytes_idx *idx,
					const uint8_t *buf, uint32_t size,
					void *dst, uint32_t n)
{
	uint32_t prod, cons, avail, off, first;

	if (!pvkvm_bytes_size_ok(size))
		return 0;
	cons = PVKVM_RING_LOAD(&idx->cons);
	prod = PVKVM_RING_LOAD_ACQUIRE(&idx->prod);
	avail = pvkvm_bytes_used_(prod, cons, size);
	if (n > avail)
		n = avail;
	off = cons & (size - 1);
	first = n < size - off ? n : size - off;
	PVKVM_RING_COPY(dst, buf + off, first);
	PVKVM_RING_COPY((uint8_t *)dst + first, buf, n - first);
	/* release: our reads of buf finish before the writer may reuse it */
	PVKVM_RING_STORE_RELEASE(&idx->cons, cons + n);
	return n;
}

/* ---------------------------------------------------------------------------
 * The console page: one shared page, guest <-> host.
 *   in:  host -> guest (keyboard), 1 KiB
 *   out: guest -> host (output),   2 KiB
 * Indices follow the buffers, each direction on its own cache line.
 * ------------------------------------------------------------------------- */
#define PVKVM_CONSOLE_IN_SIZE 1024u
#define PVKVM_CONSOLE_OUT_SIZE 2048u

struct pvkvm_console_page {
	uint8_t in[PVKVM_CONSOLE_IN_SIZE];
	uint8_t out[PVKVM_CONSOLE_OUT_SIZE];
	struct pvkvm_bytes_idx in_idx;  /* host writes prod, guest writes cons */
	uint8_t pad0[64 - sizeof(struct pvkvm_bytes_idx)];
	struct pvkvm_bytes_idx out_idx; /* guest writes prod, host writes cons */
	uint8_t pad1[64 - sizeof(struct pvkvm_bytes_idx)];
};
PVKVM_RING_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_console_page, out) == 1024,
			 "console out at 1024");
PVKVM_RING_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_console_page, in_idx) == 3072,
			 "console in_idx at 3072");
PVKVM_RING_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_console_page, out_idx) == 3136,
			 "console out_idx at 3136");
PVKVM_RING_STATIC_ASSERT(sizeof(struct pvkvm_console_page) == 3200,
			 "console page layout");
PVKVM_RING_STATIC_ASSERT(sizeof(struct pvkvm_console_page) <= 4096,
			 "console fits a page");

/* The guest's side of its console. */
static inline uint32_t pvkvm_console_put(struct pvkvm_console_page *c,
					 const void *src, uint32_t n)
{
	return pvkvm_bytes_write(&c->out_idx, c->out, PVKVM_CONSOLE_OUT_SIZE, src, n);
}

static inline uint32_t pvkvm_console_get(struct pvkvm_console_page *c,
					 void *dst, uint32_t n)
{
	return pvkvm_bytes_read(&c->in_idx, c->in, PVKVM_CONSOLE_IN_SIZE, dst, n);
}

#endif /* PVKVM_BYTERING_H */
