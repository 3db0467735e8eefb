// SPDX-License-Identifier: MIT
/*
 * Programs that end badly on purpose, so the end-to-end tests can check that
 * the VMM reports each way a guest can die.
 */
#include "console.h"
#include "hypercall.h"
#include "kernel.h"
#include "klib.h"

/* Its own function, never inlined, so the VMM's fault line names it: the
 * e2e test looks for this symbol. */
__attribute__((noinline)) void divide_by_zero(void)
{
	/* In asm: C's x / 0 is undefined and the compiler may drop it. */
	asm volatile("xor %%ecx, %%ecx\n\t"
		     "mov $1, %%eax\n\t"
		     "xor %%edx, %%edx\n\t"
		     "div %%ecx"
		     ::: "eax", "ecx", "edx", "cc");
}

int prog_divzero(int argc, char **argv)
{
	(void)argc, (void)argv;
	printf("divzero: dividing by zero at %p\n", (void *)divide_by_zero);
	divide_by_zero();
	printf("divzero: still alive after #DE\n");
	return 1;
}

int prog_spin(int argc, char **argv)
{
	volatile uint64_t n = 0;

	(void)argc, (void)argv;
	printf("spin: looping forever\n");
	for (;;)
		n++;
	return 1;
}

int prog_crash(int argc, char **argv)
{
	panic("crash: %s", argc ? argv[0] : "deliberate crash requested");
}
