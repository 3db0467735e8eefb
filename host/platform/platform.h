/* SPDX-License-Identifier: MIT */
/*
 * `pvkvm platform`: the host facts that decide how guests behave and what a
 * benchmark means. Read from the host (CPU, kernel, modules) and measured
 * with throw-away probe VMs (probe_vm.h) in well under a second: guest code
 * cost at CPL0 and CPL3, whether CPUID reaches this KVM at each, whether SSE
 * with CR4.OSFXSR clear raises #UD, exit costs, a guest page's first touch.
 */
#ifndef PVKVM_PLATFORM_H
#define PVKVM_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "host/platform/cpuid_probe.h"

enum tristate { TRI_UNKNOWN = -1, TRI_NO = 0, TRI_YES = 1 };

#define PLATFORM_EVIDENCE 6

/* Guest costs, ns; a negative value: not measured (the probe failed). */
struct platform_costs {
	double insn_cpl0, insn_cpl3;         /* per instruction (nops + loop) */
	double cpuid_cpl0, cpuid_cpl3;       /* one CPUID */
	double pio_exit_cpl0, pio_exit_cpl3; /* `out`, exit to userspace */
	double ioeventfd_cpl0, ioeventfd_cpl3; /* `out` on a KVM ioeventfd */
	double mmio_exit_cpl0, mmio_exit_cpl3; /* write to unbacked memory */
	double first_touch_page;             /* first write to a 4 KiB page, CPL3 */
	double warm_touch_page;              /* the same write again */
};

struct platform_facts {
	char vendor[13];   /* host CPUID 0: "AuthenticAMD", "GenuineIntel" */
	char model[49];    /* brand string */
	unsigned int family, model_nr, stepping;
	char kernel[128];  /* uname -r */
	/* /dev/kvm */
	bool kvm;          /* usable */
	char kvm_why[160]; /* !kvm: why not */
	enum tristate nested;
	unsigned int nr_evidence;
	char evidence[PLATFORM_EVIDENCE][96]; /* how nesting was told */
	/* measured */
	struct cpuid_probe cpuid_cpl0, cpuid_cpl3;
	enum tristate sse_ud_without_osfxsr; /* at CPL3 */
	struct platform_costs ns;
	double probe_ms;   /* what measuring took */
};

/* Reads and measures everything (a probe that fails leaves its figure
 * negative / unknown). */
void platform_measure(struct platform_facts *f);

/* platform_measure once per process; later calls return the same facts. */
const struct platform_facts *platform_facts_cached(void);

void platform_print_table(const struct platform_facts *f, FILE *out);
/* One JSON object; each line after the first is prefixed by indent. */
void platform_write_json(const struct platform_facts *f, FILE *out, const char *indent);
/* One line: "platform: vendor model, kernel, kvm ..., cpuid ..., costs". */
void platform_print_summary(const struct platform_facts *f, FILE *out);

/* `pvkvm platform [--json|--summary]`: argv[0] is "platform". */
int platform_main(int argc, char **argv);

#endif
