/* SPDX-License-Identifier: MIT */
/*
 * Proof that the ring headers need no libc: built with -ffreestanding
 * -nostdlib -nostdinc (only the compiler's own headers) and linked with
 * nothing, so any libc symbol or header fails the build. It also runs: one
 * request/response round trip with wrap-around, plus a byte-ring wrap, and
 * exits 0 through a raw syscall only if every step behaved.
 */
#include "ring/pvkvm_ring.h"
#include "ring/pvkvm_bytering.h"

#if __STDC_HOSTED__
#error "this file must be built with -ffreestanding"
#endif

/* Big enough that a careless compiler would reach for memcpy to copy it. */
struct fs_req {
	uint64_t id;
	uint8_t payload[248];
};
struct fs_rsp {
	uint64_t id;
	int32_t status;
};
PVKVM_RING_DEFINE(fs, struct fs_req, struct fs_rsp)

static _Alignas(4096) uint8_t ring_page[4096];
static struct pvkvm_console_page console;

static int round_trip(void)
{
	struct fs_sring *s = (struct fs_sring *)ring_page;
	struct fs_front f;
	struct fs_back b;
	struct fs_req req;
	struct fs_rsp rsp;
	struct fs_req *r;
	struct fs_rsp *p;

	fs_sring_init(s);
	s->hdr.req_prod = s->hdr.rsp_prod = 0xfffffffeu; /* wrap during the test */
	if (fs_front_init(&f, s, sizeof(ring_page)) || fs_back_init(&b, s, sizeof(ring_page)))
		return 1;
	if (f.nr_slots != 8)
		return 2;
	for (uint64_t i = 0; i < 4; i++) {
		if (!(r = fs_front_next_req(&f)))
			return 3;
		r->id = i;
		r->payload[247] = (uint8_t)i;
	}
	fs_front_push_reqs(&f);
	for (uint64_t i = 0; i < 4; i++) {
		if (fs_back_take_req(&b, &req) != 1 || req.id != i || req.payload[247] != i)
			return 4;
		if (!(p = fs_back_next_rsp(&b)))
			return 5;
		p->id = req.id;
		p->status = 0;
	}
	fs_back_push_rsps(&b);
	for (uint64_t i = 0; i < 4; i++)
		if (fs_front_take_rsp(&f, &rsp) != 1 || rsp.id != i)
			return 6;
	return fs_front_take_rsp(&f, &rsp) == 0 && f.rsp_cons == 2 ? 0 : 7;
}

static int byte_ring(void)
{
	static const char msg[] = "freestanding";
	char got[sizeof(msg)];

	console.out_idx.prod = console.out_idx.cons = 2044; /* 4 bytes before the wrap */
	if (pvkvm_console_put(&console, msg, sizeof(msg)) != sizeof(msg))
		return 8;
	if (pvkvm_bytes_read(&console.out_idx, console.out, PVKVM_CONSOLE_OUT_SIZE,
			     got, sizeof(got)) != sizeof(got))
		return 9;
	for (uint32_t i = 0; i < sizeof(msg); i++)
		if (got[i] != msg[i])
			return 10;
	return 0;
}

int freestanding_main(void);
int freestanding_main(void)
{
	int rc = round_trip();

	return rc ? rc : byte_ring();
}

/* Linux x86-64 entry: align the stack, run, exit(rc) by syscall. */
__asm__(".globl _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	and $-16, %rsp\n"
	"	call freestanding_main\n"
	"	mov %eax, %edi\n"
	"	mov $60, %eax\n"
	"	syscall\n"
	"	hlt\n");
