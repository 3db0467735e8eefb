// SPDX-License-Identifier: MIT
/*
 * Printing the VM's counters: a table on stderr (--stats) and a JSON file
 * (--stats-json). Only non-zero counters are printed in the table, so the
 * reader sees what the run did; the JSON has every named counter, so scripts
 * never have to guess whether a key is missing or zero.
 */
#include "host/core/stats.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

#include "host/core/hcall.h"

static const char *const exit_names[STATS_EXIT_REASONS] = {
	[KVM_EXIT_UNKNOWN] = "unknown",
	[KVM_EXIT_EXCEPTION] = "exception",
	[KVM_EXIT_IO] = "io",
	[KVM_EXIT_HYPERCALL] = "hypercall",
	[KVM_EXIT_DEBUG] = "debug",
	[KVM_EXIT_HLT] = "hlt",
	[KVM_EXIT_MMIO] = "mmio",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "irq_window_open",
	[KVM_EXIT_SHUTDOWN] = "shutdown",
	[KVM_EXIT_FAIL_ENTRY] = "fail_entry",
	[KVM_EXIT_INTR] = "intr",
	[KVM_EXIT_SET_TPR] = "set_tpr",
	[KVM_EXIT_TPR_ACCESS] = "tpr_access",
	[KVM_EXIT_INTERNAL_ERROR] = "internal_error",
	[KVM_EXIT_SYSTEM_EVENT] = "system_event",
	[KVM_EXIT_X86_RDMSR] = "x86_rdmsr",
	[KVM_EXIT_X86_WRMSR] = "x86_wrmsr",
};

/* The name of KVM exit reason r, or NULL for one without a name. */
const char *stats_exit_name(unsigned int r)
{
	return r < STATS_EXIT_REASONS ? exit_names[r] : NULL;
}

void stats_register_group(struct vm_stats *s, struct stats_group *g)
{
	/* Groups are registered on the main thread before the vCPUs run. */
	g->next = s->groups;
	s->groups = g;
}

struct named {
	const char *name;
	const atomic_uint_fast64_t *c;
};

#define NAMED(s, field) {#field, &(s)->field}

static unsigned int vm_counters(const struct vm_stats *s, struct named *out)
{
	const struct named list[] = {
		NAMED(s, exits_pio_hypercall),  NAMED(s, exits_pio_null),
		NAMED(s, exits_pio_device),     NAMED(s, evtchn_guest_sends),
		NAMED(s, evtchn_unbound_sends), NAMED(s, evtchn_host_notifies),
		NAMED(s, wait_calls),           NAMED(s, wait_wakeups),
		NAMED(s, wait_timeouts),
	};
	unsigned int n = sizeof(list) / sizeof(list[0]);
	for (unsigned int i = 0; i < n; i++)
		out[i] = list[i];
	return n;
}

uint64_t stats_total_exits(const struct vm_stats *s)
{
	uint64_t n = 0;
	for (unsigned int r = 0; r < STATS_EXIT_REASONS; r++)
		n += stat_get(&s->exits[r]);
	return n;
}

/*
 * A counter array whose entries take their names from a lookup (exit
 * reasons, hypercall numbers). An entry without a name shows its index.
 */
struct counter_array {
	const char *prefix; /* "exits", "hypercall" */
	const atomic_uint_fast64_t *v;
	unsigned int n;
	const char *(*name)(void *ctx, unsigned int i);
	void *ctx;
};

static const char *exit_name_at(void *ctx, unsigned int r)
{
	(void)ctx;
	return stats_exit_name(r);
}

static const char *hcall_name_at(void *ctx, unsigned int nr)
{
	return ctx ? hcall_name(ctx, nr) : NULL;
}

static struct counter_array exit_array(const struct vm_stats *s)
{
	return (struct counter_array){ "exits", s->exits, STATS_EXIT_REASONS,
				       exit_name_at, NULL };
}

static struct counter_array hcall_array(const struct vm_stats *s,
					struct hcall_table *t)
{
	return (struct counter_array){ "hypercall", s->hypercalls,
				       PVKVM_HYPERCALL_MAX, hcall_name_at, t };
}

static const char *array_label(const struct counter_array *a, unsigned int i,
			       char *num, size_t len)
{
	const char *n = a->name(a->ctx, i);
	if (n)
		return n;
	snprintf(num, len, "%u", i);
	return num;
}

/* The table shows only what the run did: non-zero entries. */
static void print_array(const struct counter_array *a, FILE *f)
{
	for (unsigned int i = 0; i < a->n; i++) {
		uint64_t v = stat_get(&a->v[i]);
		if (!v)
			continue;
		char num[16], label[64];
		snprintf(label, sizeof(label), "%s.%s", a->prefix,
			 array_label(a, i, num, sizeof(num)));
		fprintf(f, "  %-32s %14llu\n", label, (unsigned long long)v);
	}
}

static const struct {
	uint32_t bit;
	const char *name;
} sif_names[] = {
	{PVKVM_SIF_STATS, "stats"},
	{PVKVM_SIF_CPUID_CPL3, "cpuid_cpl3"},
	{PVKVM_SIF_CPUID_CPL3_EXITS, "cpuid_cpl3_exits"},
	{PVKVM_SIF_CPUID_HIDDEN, "cpuid_hidden"},
};
#define NR_SIF_NAMES (sizeof(sif_names) / sizeof(sif_names[0]))

/* Where a CPL3 guest's CPUID goes, in words, from the start-info flags. */
static const char *cpuid_cpl3_words(uint32_t flags)
{
	if (flags & PVKVM_SIF_CPUID_CPL3)
		return "reaches this KVM, pvkvm's leaves visible";
	if (flags & PVKVM_SIF_CPUID_CPL3_EXITS)
		return "reaches this KVM, pvkvm's leaves withheld";
	return flags & PVKVM_SIF_CPUID_HIDDEN
		       ? "does not reach this KVM (or unknown), leaves withheld"
		       : "does not reach this KVM (outer hypervisor, or unknown)";
}

static void print_flags(uint32_t flags, FILE *f)
{
	char names[128] = "";
	for (unsigned int i = 0; i < NR_SIF_NAMES; i++)
		if (flags & sif_names[i].bit)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				 names[0] ? "," : "", sif_names[i].name);
	fprintf(f, "  %-32s %#14x (%s)\n", "start_info.flags", flags, names);
	fprintf(f, "  %-32s %s\n", "cpuid_cpl3", cpuid_cpl3_words(flags));
}

static void json_flags(uint32_t flags, FILE *f)
{
	fprintf(f, "  \"start_info_flags\": %u,\n  \"start_info\": {", flags);
	for (unsigned int i = 0; i < NR_SIF_NAMES; i++)
		fprintf(f, "%s\"%s\": %s", i ? ", " : "", sif_names[i].name,
			flags & sif_names[i].bit ? "true" : "false");
	fprintf(f, "},\n");
}

void stats_print(const struct vm_stats *s, struct hcall_table *names, FILE *f)
{
	struct named list[16];
	unsigned int n = vm_counters(s, list);
	struct counter_array exits = exit_array(s), hcalls = hcall_array(s, names);
	fprintf(f, "pvkvm statistics:\n");
	print_flags(s->start_info_flags, f);
	fprintf(f, "  %-32s %14llu\n", "exits",
		(unsigned long long)stats_total_exits(s));
	print_array(&exits, f);
	for (unsigned int i = 0; i < n; i++)
		if (stat_get(list[i].c))
			fprintf(f, "  %-32s %14llu\n", list[i].name,
				(unsigned long long)stat_get(list[i].c));
	print_array(&hcalls, f);
	for (const struct stats_group *g = s->groups; g; g = g->next)
		for (unsigned int i = 0; i < g->nr; i++) {
			char label[96];
			snprintf(label, sizeof(label), "%s.%s", g->name,
				 g->counters[i].name);
			fprintf(f, "  %-32s %14llu\n", label,
				(unsigned long long)stat_get(&g->counters[i].value));
		}
}

/* Names come from the VMM itself (never from the guest), but quote them
 * properly anyway so the file is valid JSON whatever a device calls itself. */
static void json_string(FILE *f, const char *str)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)str; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* The file has every named entry, zero or not, and any unnamed one that
 * counted something. */
static void json_array(const struct counter_array *a, const char *key, FILE *f)
{
	fprintf(f, "  \"%s\": {", key);
	const char *sep = "";
	for (unsigned int i = 0; i < a->n; i++) {
		uint64_t v = stat_get(&a->v[i]);
		if (!a->name(a->ctx, i) && !v)
			continue;
		char num[16];
		fprintf(f, "%s\n    ", sep);
		json_string(f, array_label(a, i, num, sizeof(num)));
		fprintf(f, ": %llu", (unsigned long long)v);
		sep = ",";
	}
	fprintf(f, "\n  },\n");
}

static void json_groups(const struct vm_stats *s, FILE *f)
{
	fprintf(f, "  \"devices\": {");
	const char *gsep = "";
	for (const struct stats_group *g = s->groups; g; g = g->next) {
		fprintf(f, "%s\n    ", gsep);
		json_string(f, g->name);
		fprintf(f, ": {");
		for (unsigned int i = 0; i < g->nr; i++) {
			fprintf(f, "%s", i ? ", " : "");
			json_string(f, g->counters[i].name);
			fprintf(f, ": %llu",
				(unsigned long long)stat_get(&g->counters[i].value));
		}
		fprintf(f, "}");
		gsep = ",";
	}
	fprintf(f, "\n  }\n");
}

int stats_write_json(const struct vm_stats *s, struct hcall_table *names,
		     const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	struct named list[16];
	unsigned int n = vm_counters(s, list);
	struct counter_array exits = exit_array(s), hcalls = hcall_array(s, names);
	fprintf(f, "{\n");
	fprintf(f, "  \"exits_total\": %llu,\n",
		(unsigned long long)stats_total_exits(s));
	json_flags(s->start_info_flags, f);
	json_array(&exits, "exits", f);
	for (unsigned int i = 0; i < n; i++)
		fprintf(f, "  \"%s\": %llu,\n", list[i].name,
			(unsigned long long)stat_get(list[i].c));
	json_array(&hcalls, "hypercalls", f);
	json_groups(s, f);
	fprintf(f, "}\n");
	int r = ferror(f) ? -EIO : 0;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	return r;
}
