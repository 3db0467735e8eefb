/* SPDX-License-Identifier: MIT */
/*
 * pvkvm_ring_sys.h - the per-world layer under the ring headers.
 *
 * The ring headers compile in three worlds, chosen here:
 *   __KERNEL__          a Linux kernel module: READ_ONCE/WRITE_ONCE and the
 *                       smp_* barriers;
 *   !__STDC_HOSTED__    the project's freestanding guest kernel
 *                       (-ffreestanding, no libc): GCC __atomic builtins;
 *   otherwise           host userspace: C11 <stdatomic.h>.
 *
 * Every access to a shared index goes through one of six macros, so the
 * ordering each ring rule needs is spelled once per world:
 *
 *   PVKVM_RING_LOAD(p)            a single, untorn read; no ordering (used
 *                                 for an index only this side writes)
 *   PVKVM_RING_STORE(p, v)        a single, untorn write; no ordering
 *   PVKVM_RING_LOAD_ACQUIRE(p)    later reads of slots see what the writer
 *                                 wrote before its release
 *   PVKVM_RING_STORE_RELEASE(p,v) earlier slot accesses happen before v is seen
 *   PVKVM_RING_STORE_SYNC(p, v)   release, AND ordered before the next
 *   PVKVM_RING_LOAD_SYNC(q)       acquire load: the store->load (Dekker)
 *                                 pair that makes notification race-free
 *                                 (docs/ring.md). Always used as a pair.
 *
 * Why not a standalone fence in userspace: TSan (gcc 12) does not model
 * atomic_thread_fence and warns (-Wtsan, an error here). A seq_cst store
 * followed by a seq_cst load of another location is ordered by the single
 * total order of seq_cst operations, which TSan does understand, and on
 * x86-64 costs the same (xchg instead of mov + mfence).
 *
 * PVKVM_RING_COPY(dst, src, n) copies bytes without needing libc in the
 * freestanding world.
 */
#ifndef PVKVM_RING_SYS_H
#define PVKVM_RING_SYS_H

#if defined(__KERNEL__)
/* ------------------------------------------------------------ Linux module */
#include <linux/types.h>
#include <linux/compiler.h>
#include <linux/string.h>
#include <asm/barrier.h>

#define PVKVM_RING_WORLD "linux-kernel"
#define PVKVM_RING_LOAD(p) READ_ONCE(*(p))
#define PVKVM_RING_STORE(p, v) WRITE_ONCE(*(p), (v))
#define PVKVM_RING_LOAD_ACQUIRE(p) smp_load_acquire(p)
#define PVKVM_RING_STORE_RELEASE(p, v) smp_store_release((p), (v))
/* The full barrier sits after the store so the paired load needs none. */
#define PVKVM_RING_STORE_SYNC(p, v)                                            \
	do {                                                                   \
		smp_store_release((p), (v));                                   \
		smp_mb();                                                      \
	} while (0)
#define PVKVM_RING_LOAD_SYNC(p) smp_load_acquire(p)
#define PVKVM_RING_COPY(dst, src, n) memcpy((dst), (src), (n))

#elif !__STDC_HOSTED__
/* ------------------------------------------- freestanding guest kernel */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PVKVM_RING_WORLD "freestanding"
#define PVKVM_RING_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define PVKVM_RING_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define PVKVM_RING_LOAD_ACQUIRE(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define PVKVM_RING_STORE_RELEASE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define PVKVM_RING_STORE_SYNC(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define PVKVM_RING_LOAD_SYNC(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)

/*
 * GCC may turn a byte loop into a call to memcpy even with -ffreestanding
 * (loop distribution), and the guest kernel need not have one: switch that
 * transformation off for this one function.
 */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
static inline void pvkvm_ring_copy_bytes(void *dst, const void *src, size_t n)
{
	unsigned char *d = (unsigned char *)dst;
	const unsigned char *s = (const unsigned char *)src;

	while (n--)
		*d++ = *s++;
}
#define PVKVM_RING_COPY(dst, src, n) pvkvm_ring_copy_bytes((dst), (src), (n))

#else
/* ------------------------------------------------------- host userspace */
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * The shared header keeps plain uint32_t fields (one layout for all three
 * worlds); userspace views them as _Atomic, which has the same size and
 * alignment on every ABI we build for (asserted below).
 */
_Static_assert(sizeof(_Atomic uint32_t) == sizeof(uint32_t) &&
		       _Alignof(_Atomic uint32_t) == _Alignof(uint32_t),
	       "_Atomic uint32_t has the layout of uint32_t");
#define PVKVM_RING_ATOMIC(p) ((_Atomic uint32_t *)(uintptr_t)(p))

#define PVKVM_RING_WORLD "host"
#define PVKVM_RING_LOAD(p)                                                     \
	atomic_load_explicit(PVKVM_RING_ATOMIC(p), memory_order_relaxed)
#define PVKVM_RING_STORE(p, v)                                                 \
	atomic_store_explicit(PVKVM_RING_ATOMIC(p), (v), memory_order_relaxed)
#define PVKVM_RING_LOAD_ACQUIRE(p)                                             \
	atomic_load_explicit(PVKVM_RING_ATOMIC(p), memory_order_acquire)
#define PVKVM_RING_STORE_RELEASE(p, v)                                         \
	atomic_store_explicit(PVKVM_RING_ATOMIC(p), (v), memory_order_release)
#define PVKVM_RING_STORE_SYNC(p, v)                                            \
	atomic_store_explicit(PVKVM_RING_ATOMIC(p), (v), memory_order_seq_cst)
#define PVKVM_RING_LOAD_SYNC(p)                                                \
	atomic_load_explicit(PVKVM_RING_ATOMIC(p), memory_order_seq_cst)
#define PVKVM_RING_COPY(dst, src, n) memcpy((dst), (src), (n))
#endif

#ifdef __cplusplus
#define PVKVM_RING_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define PVKVM_RING_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif

#endif /* PVKVM_RING_SYS_H */
