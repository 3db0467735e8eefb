/* SPDX-License-Identifier: MIT */
/* What every part of pvkern may need: boot information and the programs. */
#ifndef PVKERN_KERNEL_H
#define PVKERN_KERNEL_H

#include <stdint.h>

#include "hypercall/pvkvm_abi.h"

extern const struct pvkvm_start_info *start_info;

/*
 * A program: chosen by the first word of the command line, given the
 * remaining words. Its return value is the VM's exit status.
 * To add one: write `int prog_x(int argc, char **argv)` in prog_x.c, declare
 * it here and add a row to the table in main.c.
 */
struct program {
	const char *name;
	const char *help;
	int (*run)(int argc, char **argv);
};

int prog_selftest(int argc, char **argv);
int prog_hostile(int argc, char **argv);
int prog_hcbench(int argc, char **argv);
int prog_divzero(int argc, char **argv);
int prog_spin(int argc, char **argv);
int prog_crash(int argc, char **argv);
int prog_blkverify(int argc, char **argv);
int prog_blkbench(int argc, char **argv);
int prog_hostile_blk(int argc, char **argv);
int prog_hostile_net(int argc, char **argv);
int prog_udpecho(int argc, char **argv);
int prog_netverify(int argc, char **argv);
int prog_netbench(int argc, char **argv);

/* Secondary vCPUs: entry.S's ap_entry calls fn(arg) on a fresh stack.
 * vcpu_start returns the VCPU_UP result. fn must not return (see ap_park). */
typedef void (*ap_fn)(void *arg);
int vcpu_start(unsigned int cpu, ap_fn fn, void *arg);
/* Where a secondary vCPU goes when it has nothing left to do. */
__attribute__((noreturn)) void ap_park(void);

#endif
