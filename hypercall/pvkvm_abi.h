/* SPDX-License-Identifier: MIT */
/*
 * pvkvm_abi.h - the guest <-> host ABI of pvkvm, version 1.
 *
 * One header for the VMM (host userspace), the project's own deprivileged
 * guest kernel (freestanding) and the Linux guest modules. Every layout that
 * crosses the guest/host boundary is pinned below by _Static_assert; a change
 * that moves a field fails to compile. docs/abi.md is the prose version.
 *
 * Conventions
 *  - All integers are little-endian, naturally aligned.
 *  - "gpa" is a guest-physical address. The project's guest kernel runs
 *    identity-mapped, so its pointers are gpas.
 *  - Hypercall results are >= 0 on success, a negative PVKVM_E* on failure.
 */
#ifndef PVKVM_ABI_H
#define PVKVM_ABI_H

#if defined(__KERNEL__)
#include <linux/types.h>
#else
#include <stdint.h>
#endif

#ifdef __cplusplus
#define PVKVM_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define PVKVM_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif

#define PVKVM_ABI_VERSION_MAJOR 1
#define PVKVM_ABI_VERSION_MINOR 0
#define PVKVM_ABI_VERSION ((PVKVM_ABI_VERSION_MAJOR << 16) | PVKVM_ABI_VERSION_MINOR)

#define PVKVM_PAGE_SIZE 4096u

/* ------------------------------------------------------------------------
 * Discovery: CPUID
 *
 * 0x40000000  eax = highest pvkvm leaf (PVKVM_CPUID_MAX)
 *             ebx, ecx, edx = "pvkvm-hv-abi" (12 bytes, as Xen's "XenVMMXenVMM")
 * 0x40000001  eax = PVKVM_ABI_VERSION, ebx = PVKVM_FEAT_* bitmap
 * 0x40000002  eax = hypercall-page MSR index, ebx = hypercall port,
 *             ecx = event-channel notify port, edx = number of hypercalls
 * ------------------------------------------------------------------------ */
#define PVKVM_CPUID_BASE 0x40000000u
#define PVKVM_CPUID_VERSION 0x40000001u
#define PVKVM_CPUID_HYPERCALL 0x40000002u
#define PVKVM_CPUID_MAX PVKVM_CPUID_HYPERCALL

/* "pvkv" "m-hv" "-abi" as they land in ebx, ecx, edx */
#define PVKVM_CPUID_SIG_EBX 0x766b7670u
#define PVKVM_CPUID_SIG_ECX 0x76682d6du
#define PVKVM_CPUID_SIG_EDX 0x6962612du

#define PVKVM_FEAT_EVTCHN_IOEVENTFD (1u << 0) /* evtchn send never exits */
#define PVKVM_FEAT_GRANT_TABLE (1u << 1)
#define PVKVM_FEAT_STORE (1u << 2)
#define PVKVM_FEAT_VCPU_UP (1u << 3)

/*
 * A CPL0 guest (Linux) writes the gpa of a page-aligned page of its RAM to
 * this MSR; the VMM fills it with the hypercall stubs. Bit 0 must be set
 * (enable), as with Xen's and Hyper-V's hypercall MSRs. A CPL3 guest cannot
 * execute WRMSR and names its page with PVKVM_ELFNOTE_HYPERCALL_PAGE.
 */
#define PVKVM_MSR_HYPERCALL_PAGE 0x4fffff00u
#define PVKVM_MSR_HYPERCALL_ENABLE 1ull

/* ------------------------------------------------------------------------
 * Transport: I/O ports
 *
 * Each hypercall stub is 32 bytes at page offset nr * 32:
 *     b8 <nr:le32>      mov  $nr, %eax
 *     e7 <PORT>         out  %eax, $PVKVM_PORT_HYPERCALL
 *     c3                ret
 *     cc ...            int3 padding
 * Arguments: rdi, rsi, rdx, r10, r8 (the Linux syscall order); result: rax.
 * All other registers are preserved. The VMM reads and writes them through
 * KVM_CAP_SYNC_REGS: one exit, no extra ioctl.
 *
 * PVKVM_HC_EVTCHN_SEND's stub differs:
 *     89 f8             mov  %edi, %eax
 *     e7 <NOTIFY>       out  %eax, $PVKVM_PORT_EVTCHN_NOTIFY
 *     c3                ret
 * Each bound channel is a KVM ioeventfd on NOTIFY with datamatch = port, so a
 * send wakes the backend inside the host kernel, with no exit to userspace.
 * It returns nothing (rax is left as the port number): a send to a port that
 * is not bound does exit to the VMM, which counts it and drops it.
 *
 * PVKVM_PORT_NULL is an exit the VMM answers without dispatch (any in or
 * out; an in reads 0): it exists to measure the bare cost of a userspace
 * exit. PVKVM_PORT_FAULT is believed only from the VMM's CPL0 fault stubs.
 * The TSS bitmap of a CPL3 guest opens 0xe4-0xeb; 0xe7 and 0xe9-0xeb are
 * open only as bytes of the 4-byte outs to 0xe4 and 0xe8, and alone (like a
 * hypercall or notify port used with another width) stop the guest.
 * ------------------------------------------------------------------------ */
#define PVKVM_PORT_HYPERCALL 0xe4u
#define PVKVM_PORT_NULL 0xe5u
#define PVKVM_PORT_FAULT 0xe6u
#define PVKVM_PORT_EVTCHN_NOTIFY 0xe8u
#define PVKVM_PORT_FIRST 0xe4u /* the bitmap opens [FIRST, LAST] */
#define PVKVM_PORT_LAST 0xebu
PVKVM_STATIC_ASSERT(PVKVM_PORT_FIRST == PVKVM_PORT_HYPERCALL &&
			    PVKVM_PORT_LAST == PVKVM_PORT_EVTCHN_NOTIFY + 3,
		    "the open range is the hypercall port to the notify port's 4 bytes");

#define PVKVM_HYPERCALL_STUB_SIZE 32u
#define PVKVM_HYPERCALL_MAX (PVKVM_PAGE_SIZE / PVKVM_HYPERCALL_STUB_SIZE)

/* ------------------------------------------------------------------------
 * Hypercall numbers. Arguments are listed in register order.
 * ------------------------------------------------------------------------ */
enum pvkvm_hypercall {
	/* () -> PVKVM_ABI_VERSION */
	PVKVM_HC_VERSION = 0,
	/* () -> PVKVM_FEAT_* bitmap */
	PVKVM_HC_FEATURES = 1,
	/* () -> 0. Does nothing: the round-trip cost of a hypercall. */
	PVKVM_HC_NULL = 2,
	/* (gpa buf, len) -> bytes written. len <= PVKVM_CONSOLE_WRITE_MAX. */
	PVKVM_HC_CONSOLE_WRITE = 3,
	/* (gpa struct pvkvm_time *) -> 0 */
	PVKVM_HC_TIME = 4,
	/* (int status) -> does not return. The VMM exits with status & 0xff. */
	PVKVM_HC_SHUTDOWN = 5,
	/* (gpa msg, len) -> does not return. Reported; VMM exits non-zero. */
	PVKVM_HC_CRASH = 6,
	/* (u64 deadline_ns) -> 0 when an unmasked event is pending,
	 * -PVKVM_ETIMEDOUT at the deadline. The deadline is absolute, on
	 * PVKVM_HC_TIME's monotonic clock (monotonic_ns), not a timeout; one
	 * already past returns at once; 0 = no deadline. Blocks the calling
	 * vCPU. Never clears pending bits. */
	PVKVM_HC_WAIT = 7,
	/* (cpu, rip, rsp, arg) -> 0. Starts a parked vCPU at CPL3 with
	 * rdi = arg. vCPU 0 is the only one running at boot. */
	PVKVM_HC_VCPU_UP = 8,

	/* () -> a new port, unbound; the other end binds it (a backend reads
	 * the port number from the store). */
	PVKVM_HC_EVTCHN_ALLOC = 9,
	/* (virq) -> a new port bound to a virtual interrupt (PVKVM_VIRQ_*). */
	PVKVM_HC_EVTCHN_BIND_VIRQ = 10,
	/* (port) -> nothing. See the notify stub above. */
	PVKVM_HC_EVTCHN_SEND = 11,
	/* (port) -> 0. Unbinds the port; its number is reused only once the
	 * host end (if any) has unbound too. */
	PVKVM_HC_EVTCHN_CLOSE = 12,

	/* (gpa table, nr_entries) -> 0. Registers the guest's grant table:
	 * nr_entries struct pvkvm_grant_entry, page-aligned, in guest RAM.
	 * Calling it again replaces the table (in-flight mappings keep the old
	 * one until they end). nr_entries <= PVKVM_GRANT_MAX_ENTRIES. */
	PVKVM_HC_GNTTAB_SETUP = 13,

	/* Store paths are NUL-free byte strings of < PVKVM_STORE_PATH_MAX
	 * bytes (no terminator needed: a watch event must still hold the
	 * path and its NUL), '/'-separated, relative to the VM.
	 * Values are <= PVKVM_STORE_VALUE_MAX bytes. Every buffer must be
	 * memory the guest may itself read (paths, values) or write (buf). */
	/* (gpa path, path_len, gpa buf, buf_len) -> the value's full length;
	 * min(length, buf_len) bytes were copied, and never a NUL.
	 * -PVKVM_ENOENT */
	PVKVM_HC_STORE_READ = 14,
	/* (gpa path, path_len, gpa val, val_len) -> 0; -PVKVM_EACCES outside
	 * "device/" and "data/" (everything else is the host's);
	 * -PVKVM_ENOSPC over the guest's store quota */
	PVKVM_HC_STORE_WRITE = 15,
	/* (gpa path, path_len, gpa buf, buf_len) -> total length of the
	 * children's names, each followed by a NUL; the first
	 * min(total, buf_len) bytes of that were copied (the last name may be
	 * cut); -PVKVM_E2BIG for a listing over 64 KiB into a larger buf */
	PVKVM_HC_STORE_LIST = 16,
	/* (gpa path, path_len, u64 token) -> 0. Fires once now, then on every
	 * change at or below path, and on the removal of a node above it:
	 * queues an event, sets PVKVM_VIRQ_STORE. */
	PVKVM_HC_STORE_WATCH = 17,
	/* (gpa path, path_len, u64 token) -> 0 */
	PVKVM_HC_STORE_UNWATCH = 18,
	/* (gpa struct pvkvm_watch_event *) -> 1 an event was copied out
	 * (all 272 bytes), 0 the queue is empty, -PVKVM_EFAULT (the event
	 * stays queued) */
	PVKVM_HC_STORE_WATCH_EVENT = 19,
	/* (gpa path, path_len) -> 0. Removes the node and its children. */
	PVKVM_HC_STORE_REMOVE = 20,

	/* First number a device may register at run time (e.g. blk sync I/O). */
	PVKVM_HC_DEVICE_BASE = 32,
	PVKVM_HC_BLK_SYNC = 32,
	/* mode=sync network (hypercall/pvkvm_netif.h, docs/net.md):
	 * (gpa frame, len, nic = 0) -> 0 or -PVKVM_E* */
	PVKVM_HC_NET_SYNC_TX = 33,
	/* (gpa buf, buf_len, nic = 0) -> frame length, -PVKVM_EAGAIN (none
	 * queued) or -PVKVM_E* */
	PVKVM_HC_NET_SYNC_RX = 34,

	PVKVM_HC_COUNT = 35
};
PVKVM_STATIC_ASSERT(PVKVM_HC_COUNT <= PVKVM_HYPERCALL_MAX, "stubs fit a page");

/* Errors, as negative results. Values equal Linux's errno numbers. */
#define PVKVM_EPERM 1
#define PVKVM_ENOENT 2
#define PVKVM_EIO 5
#define PVKVM_E2BIG 7
#define PVKVM_EAGAIN 11
#define PVKVM_ENOMEM 12
#define PVKVM_EACCES 13
#define PVKVM_EFAULT 14
#define PVKVM_EBUSY 16
#define PVKVM_EEXIST 17
#define PVKVM_EINVAL 22
#define PVKVM_ENOSPC 28
#define PVKVM_EROFS 30
#define PVKVM_ERANGE 34
#define PVKVM_ENOSYS 38
#define PVKVM_ETIMEDOUT 110

/* ------------------------------------------------------------------------
 * ELF notes (name "PVKVM", in a PT_NOTE segment of the guest kernel)
 * ------------------------------------------------------------------------ */
#define PVKVM_ELFNOTE_NAME "PVKVM"
/* Each note: Elf64_Nhdr, then the name with its NUL (namesz = 6, padded to
 * 8), then desc padded to 4. Both types below are required: an image
 * without either is refused at load. */
/* desc: u64 gpa of a page-aligned page inside a PT_LOAD segment: the VMM
 * writes the stubs there before the guest runs, and maps it read-execute
 * whatever the segment's flags. */
#define PVKVM_ELFNOTE_HYPERCALL_PAGE 1
/* desc: u32 PVKVM_ABI_VERSION the guest was built for (major must match) */
#define PVKVM_ELFNOTE_ABI_VERSION 2

/* ------------------------------------------------------------------------
 * Guest-physical layout of the deprivileged (CPL3) guest, built by the VMM.
 * The guest is identity-mapped over all its RAM. Pages below
 * PVKVM_GUEST_LOAD_MIN that hold the VMM's structures are supervisor-only;
 * the guest cannot see or change them. Each page of the image has its
 * segment's rights (PF_R/PF_W/PF_X; no-execute where the CPU has NX), the
 * rest of RAM is read-write, no-execute. Segments are zero-filled past
 * p_filesz (.bss starts zeroed). Hypercalls and grants are checked against
 * the same rights.
 * ------------------------------------------------------------------------ */
#define PVKVM_GPA_START_INFO 0x10000u  /* user, read-only */
#define PVKVM_GPA_SHARED_INFO 0x11000u /* user, read-write */
#define PVKVM_GUEST_LOAD_MIN 0x100000u /* lowest address a PT_LOAD may use */

/* Segment selectors of the CPL3 guest (GDT built by the VMM). */
#define PVKVM_SEL_KERNEL_CS 0x08u
#define PVKVM_SEL_KERNEL_DS 0x10u
#define PVKVM_SEL_USER_DS 0x1bu /* 0x18 | RPL 3 */
#define PVKVM_SEL_USER_CS 0x23u /* 0x20 | RPL 3 */
#define PVKVM_SEL_TSS(cpu) (0x28u + 16u * (cpu))

#define PVKVM_MAX_VCPUS 32u

/* ------------------------------------------------------------------------
 * Start-info page: read-only to the guest, at PVKVM_GPA_START_INFO.
 * vCPU 0 starts at the ELF entry with rdi = PVKVM_GPA_START_INFO and rsp at
 * the top of RAM (16-byte aligned); the stack is [stack_base, mem_size).
 * ------------------------------------------------------------------------ */
#define PVKVM_START_INFO_MAGIC 0x6f666e6974726174ull /* "tartinfo" */
#define PVKVM_CMDLINE_MAX 1024u

struct pvkvm_start_info {
	uint64_t magic;            /* PVKVM_START_INFO_MAGIC */
	uint32_t abi_version;      /* PVKVM_ABI_VERSION */
	uint32_t nr_vcpus;
	uint64_t mem_size;         /* bytes of guest RAM, from gpa 0 */
	uint64_t free_start;       /* first free gpa after the loaded image */
	uint64_t stack_base;       /* free memory is [free_start, stack_base) */
	uint64_t shared_info_gpa;  /* struct pvkvm_shared_info */
	uint64_t hypercall_page_gpa;
	uint64_t tsc_khz;          /* TSC frequency (invariant) */
	uint32_t store_evtchn;     /* port bound to PVKVM_VIRQ_STORE at boot */
	uint32_t console_evtchn;   /* reserved for a console ring, 0 = none */
	uint32_t flags;            /* PVKVM_SIF_* */
	uint32_t cmdline_len;      /* bytes of cmdline, excluding the NUL */
	char cmdline[PVKVM_CMDLINE_MAX]; /* NUL-terminated */
};
#define PVKVM_SIF_STATS (1u << 0) /* the VMM counts and prints exits */
/* Discovery (docs/abi.md, "Discovery"): what the VMM's probe at VM start
 * found about CPUID at CPL3, and whether it withholds its CPUID leaves. */
#define PVKVM_SIF_CPUID_CPL3 (1u << 1)       /* pvkvm's leaves are visible at CPL3 */
#define PVKVM_SIF_CPUID_CPL3_EXITS (1u << 2) /* CPUID at CPL3 exits to this KVM */
#define PVKVM_SIF_CPUID_HIDDEN (1u << 3)     /* leaves withheld (--hide-cpuid) */
PVKVM_STATIC_ASSERT(sizeof(struct pvkvm_start_info) == 1104, "start_info size");
PVKVM_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_start_info, cmdline) == 80,
		    "start_info cmdline offset");

/* ------------------------------------------------------------------------
 * Shared-info page: read-write, at start_info.shared_info_gpa.
 *
 * Host -> guest delivery: the host sets bit `port` of evtchn_pending (an
 * atomic OR), then wakes any vCPU blocked in PVKVM_HC_WAIT. The guest clears
 * a pending bit (atomic AND) before handling it, then re-checks the ring it
 * stands for, so a notification that races the clear is never lost.
 * A set evtchn_mask bit keeps PVKVM_HC_WAIT from waking for that port.
 * ------------------------------------------------------------------------ */
#define PVKVM_EVTCHN_MAX 1024u
#define PVKVM_EVTCHN_WORDS (PVKVM_EVTCHN_MAX / 64u)

struct pvkvm_vcpu_info {
	uint64_t wakeups;          /* times the VMM woke this vCPU from WAIT */
	uint64_t reserved[7];
};

struct pvkvm_shared_info {
	uint64_t evtchn_pending[PVKVM_EVTCHN_WORDS];
	uint64_t evtchn_mask[PVKVM_EVTCHN_WORDS];
	struct pvkvm_vcpu_info vcpu[PVKVM_MAX_VCPUS];
};
PVKVM_STATIC_ASSERT(sizeof(struct pvkvm_shared_info) == 256 + 2048,
		    "shared_info size");
PVKVM_STATIC_ASSERT(sizeof(struct pvkvm_shared_info) <= PVKVM_PAGE_SIZE,
		    "shared_info fits a page");
PVKVM_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_shared_info, evtchn_mask) == 128,
		    "shared_info evtchn_mask offset");
PVKVM_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_shared_info, vcpu) == 256,
		    "shared_info vcpu[] offset: slot i at 256 + 64 * i");
PVKVM_STATIC_ASSERT(sizeof(struct pvkvm_vcpu_info) == 64 &&
			    __builtin_offsetof(struct pvkvm_vcpu_info, wakeups) == 0,
		    "vcpu slot: 64 bytes, wakeups at 0");

/* Virtual interrupts a port can be bound to. A second bind of one VIRQ
 * returns another new port; a raise sets every port bound to it. */
enum pvkvm_virq {
	PVKVM_VIRQ_STORE = 0,   /* a store watch fired */
	PVKVM_VIRQ_CONSOLE = 1, /* reserved */
	PVKVM_VIRQ_TEST = 2,    /* raised by the VMM's self-test peer */
	PVKVM_VIRQ_COUNT = 3
};

/* ------------------------------------------------------------------------
 * Time (PVKVM_HC_TIME). wall_ns is CLOCK_REALTIME, monotonic_ns is the VMM's
 * CLOCK_MONOTONIC, both sampled next to tsc. A guest keeps time by
 * monotonic_ns + (rdtsc() - tsc) * 1e6 / tsc_khz.
 * ------------------------------------------------------------------------ */
struct pvkvm_time {
	uint64_t wall_ns;
	uint64_t monotonic_ns;
	uint64_t tsc;
	uint64_t tsc_khz;
};
PVKVM_STATIC_ASSERT(sizeof(struct pvkvm_time) == 32, "pvkvm_time size");

/* ------------------------------------------------------------------------
 * Grant table (PVKVM_HC_GNTTAB_SETUP): an array of entries in guest RAM.
 * Reference r is entry r. A frontend grants a page by writing frame, then
 * (release order) flags = PERMIT [| READONLY]. The backend, for as long as it
 * uses the page, holds READING or WRITING (set with compare-and-swap, which
 * fails if PERMIT is gone). The frontend revokes by compare-and-swap of flags
 * to 0, which fails while READING/WRITING is held: it then retries later.
 * Reference 0 is reserved and never valid. A guest can grant only a frame
 * it may access itself as the backend will: never the VMM's pages below
 * PVKVM_GUEST_LOAD_MIN, and a page it may only read only for reading.
 * ------------------------------------------------------------------------ */
#define PVKVM_GRANT_MAX_ENTRIES 65536u

#define PVKVM_GTF_PERMIT 0x0001u   /* granted */
#define PVKVM_GTF_READONLY 0x0004u /* the backend may only read */
#define PVKVM_GTF_READING 0x0008u  /* set by the backend while it reads */
#define PVKVM_GTF_WRITING 0x0010u  /* set by the backend while it writes */

/* The grantee: the VMM's backends. An entry naming any other domid is
 * refused by every backend (-PVKVM_EPERM); other values are reserved for
 * guest-to-guest grants. */
#define PVKVM_GRANT_DOMID_HOST 0u

struct pvkvm_grant_entry {
	uint16_t flags;  /* PVKVM_GTF_* */
	uint16_t domid;  /* the grantee: PVKVM_GRANT_DOMID_HOST */
	uint32_t frame;  /* guest page frame number (gpa >> 12) */
};
PVKVM_STATIC_ASSERT(sizeof(struct pvkvm_grant_entry) == 8, "grant entry size");
PVKVM_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_grant_entry, domid) == 2 &&
			    __builtin_offsetof(struct pvkvm_grant_entry, frame) == 4,
		    "grant entry offsets");

/* ------------------------------------------------------------------------
 * Config store (the xenstore role) and the xenbus states. A device <type>
 * number <n> has a frontend directory "device/<type>/<n>/" (written by the
 * guest) and a backend directory "backend/<type>/<n>/" (written by the host;
 * read-only to the guest). Each has a "state" key holding the decimal value
 * of one of the states below.
 * ------------------------------------------------------------------------ */
#define PVKVM_STORE_PATH_MAX 256u /* including a NUL: paths are <= 255 bytes */
#define PVKVM_STORE_VALUE_MAX 4096u

enum pvkvm_xenbus_state {
	PVKVM_XB_UNKNOWN = 0,
	PVKVM_XB_INITIALISING = 1,
	PVKVM_XB_INITWAIT = 2,
	PVKVM_XB_INITIALISED = 3,
	PVKVM_XB_CONNECTED = 4,
	PVKVM_XB_CLOSING = 5,
	PVKVM_XB_CLOSED = 6
};

/* What STORE_WATCH_EVENT writes: 272 bytes, all of them, so the guest's
 * buffer must be this struct (not just the 256 bytes of a path). */
struct pvkvm_watch_event {
	uint64_t token;    /* 0: the token given to STORE_WATCH */
	uint32_t path_len; /* 8: bytes of path, without the NUL (<= 255) */
	uint32_t reserved; /* 12: 0 */
	char path[PVKVM_STORE_PATH_MAX]; /* 16: NUL-terminated, rest zero */
};
PVKVM_STATIC_ASSERT(sizeof(struct pvkvm_watch_event) == 272, "watch event size");
PVKVM_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_watch_event, path_len) == 8 &&
			    __builtin_offsetof(struct pvkvm_watch_event, reserved) == 12 &&
			    __builtin_offsetof(struct pvkvm_watch_event, path) == 16,
		    "watch event offsets");

/* ------------------------------------------------------------------------
 * Console
 * ------------------------------------------------------------------------ */
/* Output reaches the operator's terminal as text: bytes other than
 * printable ASCII, \n, \t and \r are written as '?'. */
#define PVKVM_CONSOLE_WRITE_MAX 4096u

#endif /* PVKVM_ABI_H */
