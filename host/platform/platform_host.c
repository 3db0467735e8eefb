// SPDX-License-Identifier: MIT
/*
 * What the host says about itself: CPU, kernel, and whether /dev/kvm is
 * nested. Nothing here runs a guest.
 *
 * Nesting shows in three ways, each recorded as evidence: the host's own
 * CPUID has the hypervisor bit (and an outer signature at 0x40000000); the
 * CPU flags in /proc/cpuinfo have neither vmx nor svm although /dev/kvm
 * works (it is then served without hardware virtualization); a software
 * hypervisor module (kvm_pvm) is loaded.
 */
#include "host/platform/platform_host.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define CPUID_HYPERVISOR_BIT (1u << 31) /* leaf 1, ecx */

static void add_evidence(struct platform_facts *f, const char *fmt, const char *arg)
{
	if (f->nr_evidence < PLATFORM_EVIDENCE)
		snprintf(f->evidence[f->nr_evidence++], sizeof(f->evidence[0]), fmt, arg);
}

static void read_cpu(struct platform_facts *f)
{
	unsigned int a, b, c, d;
	__cpuid(0, a, b, c, d);
	memcpy(f->vendor, &b, 4);
	memcpy(f->vendor + 4, &d, 4);
	memcpy(f->vendor + 8, &c, 4);
	f->vendor[12] = '\0';
	__cpuid(1, a, b, c, d);
	unsigned int fam = (a >> 8) & 0xf, mod = (a >> 4) & 0xf;
	if (fam == 0xf)
		fam += (a >> 20) & 0xff;
	if (fam >= 6)
		mod |= ((a >> 16) & 0xf) << 4;
	f->family = fam;
	f->model_nr = mod;
	f->stepping = a & 0xf;
	unsigned int brand[12] = {0};
	for (unsigned int i = 0; i < 3; i++)
		if (!__get_cpuid(0x80000002 + i, &brand[4 * i], &brand[4 * i + 1],
				 &brand[4 * i + 2], &brand[4 * i + 3]))
			break;
	memcpy(f->model, brand, 48);
	f->model[48] = '\0';
	/* Brand strings are padded with spaces on either side. */
	char *m = f->model;
	while (*m == ' ')
		m++;
	memmove(f->model, m, strlen(m) + 1);
	for (size_t n = strlen(f->model); n && f->model[n - 1] == ' '; n--)
		f->model[n - 1] = '\0';
}

static bool host_cpuid_hypervisor(char sig[13])
{
	unsigned int a, b, c, d;
	__cpuid(1, a, b, c, d);
	if (!(c & CPUID_HYPERVISOR_BIT))
		return false;
	__cpuid(0x40000000, a, b, c, d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = '\0';
	for (int i = 0; i < 12; i++)
		if (sig[i] && (sig[i] < 32 || sig[i] > 126))
			sig[i] = '.';
	return true;
}

/* -1: no /proc/cpuinfo; else whether its flags name vmx or svm. */
static int cpuinfo_has_virt_flag(void)
{
	FILE *in = fopen("/proc/cpuinfo", "r");
	if (!in)
		return -1;
	char line[8192];
	int found = 0;
	while (!found && fgets(line, sizeof(line), in)) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		for (char *t = strtok(line, " \t\n"); t; t = strtok(NULL, " \t\n"))
			if (strcmp(t, "vmx") == 0 || strcmp(t, "svm") == 0)
				found = 1;
		break; /* every CPU lists the same flags */
	}
	fclose(in);
	return found;
}

static bool module_loaded(const char *name)
{
	char path[96];
	struct stat st;
	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return stat(path, &st) == 0;
}

static void check_kvm(struct platform_facts *f)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(f->kvm_why, sizeof(f->kvm_why), "/dev/kvm: %s", strerror(errno));
		return;
	}
	int api = ioctl(fd, KVM_GET_API_VERSION, 0);
	close(fd);
	if (api != KVM_API_VERSION) {
		snprintf(f->kvm_why, sizeof(f->kvm_why), "/dev/kvm speaks API %d", api);
		return;
	}
	f->kvm = true;
}

static void judge_nesting(struct platform_facts *f)
{
	char sig[13];
	int virt = cpuinfo_has_virt_flag();
	bool hv = host_cpuid_hypervisor(sig);
	bool pvm = module_loaded("kvm_pvm");
	if (hv)
		add_evidence(f, "host CPUID has the hypervisor bit (signature \"%s\")", sig);
	if (virt == 0 && f->kvm)
		add_evidence(f, "%s", "no vmx/svm flag in /proc/cpuinfo, yet /dev/kvm works");
	if (pvm)
		add_evidence(f, "%s", "kvm_pvm (software hypervisor) module loaded");
	if (module_loaded("kvm_intel"))
		add_evidence(f, "%s", "kvm_intel module loaded");
	if (module_loaded("kvm_amd"))
		add_evidence(f, "%s", "kvm_amd module loaded");
	if (!f->kvm)
		f->nested = TRI_UNKNOWN;
	else
		f->nested = hv || pvm || virt == 0 ? TRI_YES : virt < 0 ? TRI_UNKNOWN : TRI_NO;
}

void platform_read_host(struct platform_facts *f)
{
	struct utsname u;
	read_cpu(f);
	if (uname(&u) == 0)
		snprintf(f->kernel, sizeof(f->kernel), "%s", u.release);
	check_kvm(f);
	judge_nesting(f);
}
