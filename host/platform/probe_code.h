/* SPDX-License-Identifier: MIT */
/*
 * Machine code of the platform probes (probe_vm.h conventions: r8 counts
 * iterations; port 0x501.. report values; port 0x600 ends the run). Every
 * loop ends with `dec r8; jnz top`, then PROBE_END.
 */
#ifndef PVKVM_PROBE_CODE_H
#define PVKVM_PROBE_CODE_H

#include <stdint.h>

/* mov dx, 0x600; out dx, al; hlt */
#define PROBE_END 0x66, 0xba, 0x00, 0x06, 0xee, 0xf4
/* dec r8; jnz back (back: bytes from the loop's top to after the jnz) */
#define PROBE_LOOP(back) 0x49, 0xff, 0xc8, 0x75, (uint8_t)(-(back))

/* 16 nops per iteration: 18 instructions with the loop's own two. */
#define PROBE_NOPS_PER_ITER 18u
static const uint8_t probe_code_nops[] = {
	0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
	0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
	PROBE_LOOP(21), PROBE_END,
};

/* mov eax, 0x40000000; cpuid */
static const uint8_t probe_code_cpuid[] = {
	0xb8, 0x00, 0x00, 0x00, 0x40, 0x0f, 0xa2,
	PROBE_LOOP(12), PROBE_END,
};

/* mov dx, 0x500; out dx, al */
static const uint8_t probe_code_pio[] = {
	0x66, 0xba, 0x00, 0x05, 0xee,
	PROBE_LOOP(10), PROBE_END,
};

/* mov ebx, PROBE_MMIO_GPA; mov [rbx], eax */
static const uint8_t probe_code_mmio[] = {
	0xbb, 0x00, 0x00, 0x00, 0x10, 0x89, 0x03,
	PROBE_LOOP(12), PROBE_END,
};

/* mov ebx, PROBE_TOUCH_GPA; then per iteration: mov [rbx], al;
 * add rbx, 4096 */
static const uint8_t probe_code_touch[] = {
	0xbb, 0x00, 0x00, 0x40, 0x00,
	0x88, 0x03, 0x48, 0x81, 0xc3, 0x00, 0x10, 0x00, 0x00,
	PROBE_LOOP(14), PROBE_END,
};

/* xorps xmm0, xmm0, then end: with CR4.OSFXSR clear a strict CPU raises
 * #UD, which (no IDT) ends the probe VM with a shutdown. */
static const uint8_t probe_code_sse[] = {
	0x0f, 0x57, 0xc0, PROBE_END,
};

/* cpuid 0x40000000; report ebx, ecx, edx, eax on ports 0x501-0x504. */
static const uint8_t probe_code_cpuid_sig[] = {
	0xb8, 0x00, 0x00, 0x00, 0x40, /* mov eax, 0x40000000 */
	0x0f, 0xa2,                   /* cpuid */
	0x89, 0xc6,                   /* mov esi, eax */
	0x89, 0xd7,                   /* mov edi, edx (dx is the port) */
	0x89, 0xd8,                   /* mov eax, ebx */
	0x66, 0xba, 0x01, 0x05, 0xef, /* mov dx, 0x501; out dx, eax */
	0x89, 0xc8,                   /* mov eax, ecx */
	0x66, 0xba, 0x02, 0x05, 0xef, /* 0x502 */
	0x89, 0xf8,                   /* mov eax, edi */
	0x66, 0xba, 0x03, 0x05, 0xef, /* 0x503 */
	0x89, 0xf0,                   /* mov eax, esi */
	0x66, 0xba, 0x04, 0x05, 0xef, /* 0x504 */
	PROBE_END,
};

#endif
