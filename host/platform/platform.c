// SPDX-License-Identifier: MIT
/* `pvkvm platform`: gathering the facts and printing them (platform.h). */
#include "host/platform/platform.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "host/platform/platform_host.h"
#include "host/util/cli.h"

static double mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void unmeasured(struct platform_costs *c)
{
	double *v = (double *)c;
	for (size_t i = 0; i < sizeof(*c) / sizeof(double); i++)
		v[i] = -1;
}

void platform_measure(struct platform_facts *f)
{
	double t0 = mono_ms();
	memset(f, 0, sizeof(*f));
	platform_read_host(f);
	unmeasured(&f->ns);
	f->sse_ud_without_osfxsr = TRI_UNKNOWN;
	snprintf(f->cpuid_cpl0.why, sizeof(f->cpuid_cpl0.why), "no /dev/kvm");
	snprintf(f->cpuid_cpl3.why, sizeof(f->cpuid_cpl3.why), "no /dev/kvm");
	if (f->kvm)
		platform_run_probes(f);
	f->probe_ms = mono_ms() - t0;
}

static pthread_once_t cached_once = PTHREAD_ONCE_INIT;
static struct platform_facts cached;

static void measure_cached(void)
{
	platform_measure(&cached);
}

const struct platform_facts *platform_facts_cached(void)
{
	pthread_once(&cached_once, measure_cached);
	return &cached;
}

/* --- printing ------------------------------------------------------------------ */

static const char *tri_word(enum tristate t, const char *yes, const char *no)
{
	return t == TRI_YES ? yes : t == TRI_NO ? no : "unknown";
}

static const char *reach_words(const struct cpuid_probe *p)
{
	switch (p->reach) {
	case CPUID_REACH_THIS_KVM: return "intercepted by this KVM";
	case CPUID_REACH_OUTER: return "NOT intercepted (an outer hypervisor answers)";
	default: return "unknown";
	}
}

/* "1.23 us", "850 ns", or "-" when not measured. */
static const char *fmt_ns(double ns, char *buf, size_t len)
{
	if (ns < 0)
		snprintf(buf, len, "-");
	else if (ns >= 10000)
		snprintf(buf, len, "%.1f us", ns / 1000);
	else if (ns < 10)
		snprintf(buf, len, "%.2f ns", ns);
	else
		snprintf(buf, len, "%.0f ns", ns);
	return buf;
}

static void row2(FILE *out, const char *what, double cpl0, double cpl3)
{
	char a[32], b[32];
	fprintf(out, "  %-38s %14s %14s\n", what, fmt_ns(cpl0, a, sizeof(a)),
		fmt_ns(cpl3, b, sizeof(b)));
}

void platform_print_table(const struct platform_facts *f, FILE *out)
{
	char a[32], b[32];
	fprintf(out, "pvkvm platform (measured in %.0f ms)\n", f->probe_ms);
	fprintf(out, "  %-24s %s, %s (family %u model %u stepping %u)\n", "CPU", f->vendor,
		f->model, f->family, f->model_nr, f->stepping);
	fprintf(out, "  %-24s %s\n", "host kernel", f->kernel);
	fprintf(out, "  %-24s %s\n", "/dev/kvm", f->kvm ? "usable" : f->kvm_why);
	fprintf(out, "  %-24s %s\n", "nested", tri_word(f->nested, "yes", "no"));
	for (unsigned int i = 0; i < f->nr_evidence; i++)
		fprintf(out, "  %-24s %s\n", i ? "" : "  because", f->evidence[i]);
	if (!f->kvm)
		return;
	fprintf(out, "  %-24s CPL0 %s; CPL3 %s (saw \"%s\")\n", "CPUID 0x40000000",
		reach_words(&f->cpuid_cpl0), reach_words(&f->cpuid_cpl3),
		f->cpuid_cpl3.signature);
	fprintf(out, "  %-24s %s\n", "SSE, CR4.OSFXSR clear",
		tri_word(f->sse_ud_without_osfxsr, "#UD (as on real hardware)",
			 "runs, no #UD (a strict host would raise #UD)"));
	fprintf(out, "\n  %-38s %14s %14s\n", "guest cost", "CPL0", "CPL3");
	row2(out, "an instruction (nop loop)", f->ns.insn_cpl0, f->ns.insn_cpl3);
	row2(out, "CPUID", f->ns.cpuid_cpl0, f->ns.cpuid_cpl3);
	row2(out, "PIO exit to userspace", f->ns.pio_exit_cpl0, f->ns.pio_exit_cpl3);
	row2(out, "PIO on an ioeventfd (no exit)", f->ns.ioeventfd_cpl0, f->ns.ioeventfd_cpl3);
	row2(out, "MMIO exit to userspace", f->ns.mmio_exit_cpl0, f->ns.mmio_exit_cpl3);
	fprintf(out, "  %-38s %14s %14s\n", "first write to a 4 KiB page", "",
		fmt_ns(f->ns.first_touch_page, a, sizeof(a)));
	fprintf(out, "  %-38s %14s %14s\n", "the same write, page warm", "",
		fmt_ns(f->ns.warm_touch_page, b, sizeof(b)));
	if (f->ns.insn_cpl0 > 0 && f->ns.insn_cpl3 > 0)
		fprintf(out, "  CPL0 code costs %.0fx CPL3 code%s\n", f->ns.insn_cpl0 / f->ns.insn_cpl3,
			f->ns.insn_cpl0 / f->ns.insn_cpl3 > 20 ? " (CPL0 is emulated here)" : "");
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void json_num(FILE *out, double v)
{
	if (v < 0)
		fprintf(out, "null");
	else
		fprintf(out, "%.*f", v < 10 ? 3 : 1, v);
}

static const char *json_tri(enum tristate t)
{
	return t == TRI_YES ? "true" : t == TRI_NO ? "false" : "null";
}

static void json_cpuid(FILE *out, const char *in, const char *key,
		       const struct cpuid_probe *p, bool last)
{
	fprintf(out, "%s    \"%s\": {\"reaches\": \"%s\", \"intercepted\": %s, \"signature\": ", in,
		key, cpuid_reach_name(p->reach),
		p->reach == CPUID_REACH_UNKNOWN ? "null" :
		p->reach == CPUID_REACH_THIS_KVM ? "true" : "false");
	json_str(out, p->signature);
	fprintf(out, ", \"max_leaf\": %u, \"probe_us\": %.0f}%s\n", p->max_leaf,
		(double)p->ns / 1e3, last ? "" : ",");
}

static void json_costs(FILE *out, const char *in, const struct platform_costs *c)
{
	const struct { const char *k; double v; } n[] = {
		{"insn_cpl0", c->insn_cpl0}, {"insn_cpl3", c->insn_cpl3},
		{"cpuid_cpl0", c->cpuid_cpl0}, {"cpuid_cpl3", c->cpuid_cpl3},
		{"pio_exit_cpl0", c->pio_exit_cpl0}, {"pio_exit_cpl3", c->pio_exit_cpl3},
		{"ioeventfd_cpl0", c->ioeventfd_cpl0}, {"ioeventfd_cpl3", c->ioeventfd_cpl3},
		{"mmio_exit_cpl0", c->mmio_exit_cpl0}, {"mmio_exit_cpl3", c->mmio_exit_cpl3},
		{"first_touch_page", c->first_touch_page}, {"warm_touch_page", c->warm_touch_page},
	};
	size_t nr = sizeof(n) / sizeof(n[0]);
	fprintf(out, "%s  \"ns\": {", in);
	for (size_t i = 0; i < nr; i++) {
		fprintf(out, "%s\n%s    \"%s\": ", i ? "," : "", in, n[i].k);
		json_num(out, n[i].v);
	}
	fprintf(out, "\n%s  },\n", in);
}

void platform_write_json(const struct platform_facts *f, FILE *out, const char *in)
{
	fprintf(out, "{\n%s  \"cpu\": {\"vendor\": ", in);
	json_str(out, f->vendor);
	fprintf(out, ", \"model\": ");
	json_str(out, f->model);
	fprintf(out, ", \"family\": %u, \"model_number\": %u, \"stepping\": %u},\n", f->family,
		f->model_nr, f->stepping);
	fprintf(out, "%s  \"host_kernel\": ", in);
	json_str(out, f->kernel);
	fprintf(out, ",\n%s  \"kvm\": %s,\n%s  \"kvm_error\": ", in, f->kvm ? "true" : "false", in);
	json_str(out, f->kvm_why);
	fprintf(out, ",\n%s  \"nested\": %s,\n%s  \"nested_evidence\": [", in, json_tri(f->nested), in);
	for (unsigned int i = 0; i < f->nr_evidence; i++) {
		fprintf(out, "%s", i ? ", " : "");
		json_str(out, f->evidence[i]);
	}
	fprintf(out, "],\n%s  \"cpuid\": {\n", in);
	json_cpuid(out, in, "cpl0", &f->cpuid_cpl0, false);
	json_cpuid(out, in, "cpl3", &f->cpuid_cpl3, true);
	fprintf(out, "%s  },\n%s  \"sse_ud_without_osfxsr\": %s,\n", in, in,
		json_tri(f->sse_ud_without_osfxsr));
	json_costs(out, in, &f->ns);
	fprintf(out, "%s  \"probe_ms\": %.1f\n%s}", in, f->probe_ms, in);
}

void platform_print_summary(const struct platform_facts *f, FILE *out)
{
	char a[32], b[32], c[32], d[32], e[32], g[32];
	fprintf(out, "platform: %s %s (family %u model %u), kernel %s, /dev/kvm %s", f->vendor,
		f->model, f->family, f->model_nr, f->kernel,
		!f->kvm ? "missing" : f->nested == TRI_YES ? "nested" :
		f->nested == TRI_NO ? "not nested" : "nesting unknown");
	if (f->kvm)
		fprintf(out, ", CPUID at CPL3 %s, SSE without OSFXSR %s, insn CPL0 %s vs CPL3 %s, "
			     "PIO exit %s, ioeventfd %s, MMIO exit %s, first touch %s/page",
			f->cpuid_cpl3.reach == CPUID_REACH_THIS_KVM ? "reaches this KVM" :
			f->cpuid_cpl3.reach == CPUID_REACH_OUTER ? "goes to an outer hypervisor" :
								   "unknown",
			tri_word(f->sse_ud_without_osfxsr, "#UD", "runs"),
			fmt_ns(f->ns.insn_cpl0, a, sizeof(a)), fmt_ns(f->ns.insn_cpl3, b, sizeof(b)),
			fmt_ns(f->ns.pio_exit_cpl3, c, sizeof(c)),
			fmt_ns(f->ns.ioeventfd_cpl3, d, sizeof(d)),
			fmt_ns(f->ns.mmio_exit_cpl3, e, sizeof(e)),
			fmt_ns(f->ns.first_touch_page, g, sizeof(g)));
	fprintf(out, "\n");
}

/* --- pvkvm platform -------------------------------------------------------------- */

enum platform_format { FMT_TABLE, FMT_JSON, FMT_SUMMARY };

static int opt_json(void *st, const char *arg)
{
	(void)arg;
	*(enum platform_format *)st = FMT_JSON;
	return 0;
}

static int opt_summary(void *st, const char *arg)
{
	(void)arg;
	*(enum platform_format *)st = FMT_SUMMARY;
	return 0;
}

static const struct cli_option platform_options[] = {
	{"json", 0, NULL, "print the facts as one JSON object", opt_json},
	{"summary", 0, NULL, "print them on one line (make check starts with it)", opt_summary},
	{NULL, 0, NULL, NULL, NULL},
};

static const char platform_usage[] =
	"usage: pvkvm platform [--json|--summary]\n"
	"\n"
	"Measures and prints the host facts that decide how guests behave and what\n"
	"a benchmark means: CPU, host kernel, whether /dev/kvm is nested (and the\n"
	"signs), whether CPUID at CPL0 and CPL3 reaches this KVM, whether SSE with\n"
	"CR4.OSFXSR clear raises #UD, the cost of guest code at CPL0 and CPL3, of\n"
	"PIO, ioeventfd and MMIO exits, and of a guest page's first touch. Each\n"
	"cost is the median of three timed loops in a throw-away VM; the whole\n"
	"run takes well under a second. Exits 0, or 1 without a usable /dev/kvm\n"
	"(the host facts are printed all the same).\n";

int platform_main(int argc, char **argv)
{
	enum platform_format fmt = FMT_TABLE;
	int npos;
	int r = cli_parse(argc, argv, platform_options, &fmt, platform_usage, &npos);
	if (r)
		return r > 0 ? 0 : 2;
	if (npos) {
		fprintf(stderr, "pvkvm: platform takes no arguments (try --help)\n");
		return 2;
	}
	struct platform_facts f;
	platform_measure(&f);
	if (fmt == FMT_JSON) {
		platform_write_json(&f, stdout, "");
		printf("\n");
	} else if (fmt == FMT_SUMMARY) {
		platform_print_summary(&f, stdout);
	} else {
		platform_print_table(&f, stdout);
	}
	return f.kvm ? 0 : 1;
}
