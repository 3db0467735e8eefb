// SPDX-License-Identifier: MIT
/*
 * End-to-end: boot the project's guest kernel (build/guest/pvkern.elf) under
 * build/pvkvm on the real /dev/kvm and check what each program makes the VMM
 * do. Each run is a child process with its own time limit, so a hung guest
 * fails one test instead of the whole file.
 */
#include <criterion/criterion.h>

#include <ctype.h>
#include <elf.h>
#include <regex.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pvkvm_run.h"

/* selftest prints one line per check; fewer than this means checks went
 * missing, not that they passed. */
#define SELFTEST_FLOOR 50
#define HOSTILE_FLOOR 50

#define RUN_LIMIT_S 30

#define RUN(...) \
	run_argv((char *const[]){ PVKVM, "run", __VA_ARGS__, NULL }, RUN_LIMIT_S)

/* The "<prog>: N passed, N failed" summary; false when absent. */
static bool summary(const struct run *r, const char *prog, int *passed,
		    int *failed)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "%s: ", prog);
	for (p = strstr(r->out, key); p; p = strstr(p + 1, key))
		if (sscanf(p + strlen(key), "%d passed, %d failed", passed,
			   failed) == 2)
			return true;
	return false;
}

static void assert_all_passed(const struct run *r, const char *prog, int floor)
{
	int passed = -1, failed = -1;

	cr_assert(summary(r, prog, &passed, &failed),
		  "no '%s: N passed, N failed' line in:\n%s", prog, r->out);
	cr_expect_eq(failed, 0, "%s: %d checks failed:\n%s", prog, failed, r->out);
	cr_expect_geq(passed, floor, "%s: only %d checks passed (floor %d)", prog,
		      passed, floor);
	cr_expect_eq(r->status, 0, "%s exited %d", prog, r->status);
	cr_expect_null(strstr(r->out, "not ok"), "a check failed:\n%s", r->out);
}

/* --- symbol lookup in the guest ELF (for the fault's rip) --------------- */

struct sym_range {
	uint64_t start, end;
};

static bool find_symbol(const char *path, const char *name, struct sym_range *out)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	bool found = false;

	if (fd < 0 || fstat(fd, &st))
		return false;
	const uint8_t *img = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (img == MAP_FAILED)
		return false;
	const Elf64_Ehdr *eh = (const void *)img;
	const Elf64_Shdr *sh = (const void *)(img + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum && !found; i++) {
		if (sh[i].sh_type != SHT_SYMTAB)
			continue;
		const Elf64_Sym *syms = (const void *)(img + sh[i].sh_offset);
		const char *strs = (const char *)img + sh[sh[i].sh_link].sh_offset;
		for (size_t j = 0; j < sh[i].sh_size / sizeof(*syms); j++) {
			if (strcmp(strs + syms[j].st_name, name))
				continue;
			out->start = syms[j].st_value;
			out->end = syms[j].st_value + syms[j].st_size;
			found = true;
			break;
		}
	}
	munmap((void *)img, st.st_size);
	return found;
}

/* Any hex number on the line naming the fault that falls inside range. */
static bool line_has_address_in(const char *line, const char *end,
				struct sym_range range)
{
	for (const char *p = line; p < end; p++) {
		if (p[0] == '0' && p[1] == 'x') {
			uint64_t v = strtoull(p, NULL, 16);

			if (v >= range.start && v < range.end)
				return true;
		}
	}
	return false;
}

static const char *find_line_with(const char *text, const char *needle,
				  const char **line_end)
{
	const char *hit = strstr(text, needle), *start;

	if (!hit)
		return NULL;
	for (start = hit; start > text && start[-1] != '\n'; start--)
		;
	*line_end = strchrnul(hit, '\n');
	return start;
}

/* --- the tests ------------------------------------------------------------ */

TestSuite(guest_kernel, .init = require_platform, .timeout = 60);

Test(guest_kernel, selftest_passes)
{
	struct run *r = RUN(PVKERN, "--", "selftest");

	assert_all_passed(r, "selftest", SELFTEST_FLOOR);
	cr_expect(strstr(r->out, "ok") && strstr(r->out, "test ECHO round trip"),
		  "the test-device checks did not run");
	free(r);
}

Test(guest_kernel, selftest_two_vcpus)
{
	struct run *r = RUN("-c", "2", PVKERN, "--", "selftest");

	assert_all_passed(r, "selftest", SELFTEST_FLOOR);
	cr_expect_null(strstr(r->out, "# SKIP one vCPU"),
		       "vCPU 1 was not started with -c 2");
	free(r);
}

Test(guest_kernel, divzero_is_reported_with_rip_and_symbol)
{
	struct run *r = RUN(PVKERN, "--", "divzero");
	struct sym_range fn;
	const char *line, *end = NULL;

	cr_assert(find_symbol(PVKERN, "divide_by_zero", &fn),
		  "no divide_by_zero symbol in " PVKERN);
	cr_expect_neq(r->status, 0, "a faulting guest exited 0");
	line = find_line_with(r->out, "#DE", &end);
	if (!line)
		line = find_line_with(r->out, "vector 0", &end);
	cr_assert(line, "no line reports #DE / vector 0:\n%s", r->out);
	cr_expect(memmem(line, end - line, "divide_by_zero", 14) ||
			  line_has_address_in(line, end, fn),
		  "the fault line names neither divide_by_zero nor a rip in "
		  "[%#lx, %#lx): %.*s",
		  (unsigned long)fn.start, (unsigned long)fn.end,
		  (int)(end - line), line);
	cr_expect_null(strstr(r->out, "still alive"), "the guest ran on after #DE");
	free(r);
}

Test(guest_kernel, spin_is_stopped_by_timeout)
{
	struct run *r = RUN("--timeout", "2", PVKERN, "--", "spin");

	cr_expect_eq(r->status, 124, "exit %d, expected 124", r->status);
	cr_expect(strcasestr(r->out, "timeout") || strcasestr(r->out, "timed out"),
		  "no line says timeout:\n%s", r->out);
	cr_expect(r->secs >= 1.5 && r->secs < 10, "stopped after %.2fs", r->secs);
	free(r);
}

Test(guest_kernel, crash_is_reported)
{
	struct run *r = RUN(PVKERN, "--", "crash", "e2e-crash-message");

	cr_expect_neq(r->status, 0, "a crashed guest exited 0");
	cr_expect(r->status < 128, "pvkvm died of signal %d", r->status - 128);
	cr_expect(strstr(r->out, "e2e-crash-message"),
		  "the crash message is not in the output:\n%s", r->out);
	free(r);
}

Test(guest_kernel, hostile_arguments_are_refused)
{
	struct run *r = RUN(PVKERN, "--", "hostile");

	assert_all_passed(r, "hostile", HOSTILE_FLOOR);
	free(r);
}

Test(guest_kernel, unknown_program_lists_programs)
{
	struct run *r = RUN(PVKERN, "--", "no-such-program");

	cr_expect_eq(r->status, 2, "exit %d, expected 2", r->status);
	cr_expect(strstr(r->out, "selftest") && strstr(r->out, "hostile"),
		  "the program list is missing:\n%s", r->out);
	free(r);
}

Test(guest_kernel, hcbench_reports_every_cost)
{
	static const char *const names[] = { "null_hypercall", "evtchn_send",
					     "pio_null", "cpuid", "tsc_khz" };
	struct run *r = RUN(PVKERN, "--", "hcbench", "2000");

	cr_expect_eq(r->status, 0, "hcbench exited %d", r->status);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char key[64];
		const char *p;
		unsigned long long v = 0;

		snprintf(key, sizeof(key), "hcbench: %s ", names[i]);
		p = strstr(r->out, key);
		cr_expect(p && sscanf(p + strlen(key), "%llu", &v) == 1 && v > 0,
			  "no positive '%s<n>' line", key);
	}
	free(r);
}

/* A bad image must be refused with a clear line, not a crash of the VMM. */
static void expect_clean_refusal(const struct run *r, const char *what)
{
	cr_expect_neq(r->status, 0, "%s: exit 0", what);
	cr_expect(r->status < 128, "%s: pvkvm died of signal %d", what,
		  r->status - 128);
	cr_expect(strlen(r->out) > 0 && strchr(r->out, '\n'),
		  "%s: no message at all", what);
	cr_expect(strlen(r->out) < 1024, "%s: a wall of text, not a line:\n%s",
		  what, r->out);
}

static char *write_temp(const void *data, size_t len)
{
	char *path = strdup("/tmp/pvkern-e2e-XXXXXX");
	int fd = mkstemp(path);

	cr_assert(fd >= 0 && write(fd, data, len) == (ssize_t)len);
	close(fd);
	return path;
}

Test(guest_kernel, text_file_is_refused)
{
	static const char text[] = "this is not an ELF file\n";
	char *path = write_temp(text, sizeof(text) - 1);
	struct run *r = RUN(path, "--", "selftest");

	expect_clean_refusal(r, "text file");
	unlink(path);
	free(path);
	free(r);
}

Test(guest_kernel, truncated_elf_is_refused)
{
	static char buf[64 * 1024];
	int fd = open(PVKERN, O_RDONLY);
	ssize_t n = read(fd, buf, sizeof(buf));
	char *path;
	struct run *r;

	cr_assert(n > 4096, "cannot read " PVKERN);
	close(fd);
	/* Headers intact, segment data cut off. */
	path = write_temp(buf, 2048);
	r = RUN(path, "--", "selftest");
	expect_clean_refusal(r, "truncated ELF");
	unlink(path);
	free(path);
	free(r);
}

Test(guest_kernel, too_little_memory_is_refused)
{
	struct run *r = RUN("-m", "1M", PVKERN, "--", "selftest");

	expect_clean_refusal(r, "-m 1M");
	cr_expect(strcasestr(r->out, "mem") || strcasestr(r->out, "small") ||
			  strcasestr(r->out, "ram"),
		  "the message does not say memory is the problem:\n%s", r->out);
	free(r);
}

/* --- the image itself: no /dev/kvm needed ---------------------------------- */

static void require_image(void)
{
	if (access(PVKERN, R_OK))
		cr_skip_test(PVKERN " is not built");
}

TestSuite(guest_kernel_image, .init = require_image, .timeout = 30);

/*
 * The kernel runs at CPL3 on any VT-x/AMD-V host: a privileged instruction
 * would #GP there, and AVX would #UD (the VMM enables SSE only). This
 * platform's nested hypervisor would let some of these through, so look at
 * the code instead of trusting a run.
 */
Test(guest_kernel_image, has_no_privileged_or_avx_instruction)
{
	static const char *const pattern =
		"\t(cli|sti|hlt|lgdt|lidt|lldt|ltr|wrmsr|rdmsr|invlpg|invd|"
		"wbinvd|clts|lmsw|swapgs|sysret[lq]?|xsetbv|vmcall|vmmcall|"
		"in|ins[bwl]?|outs[bwl]?|iret[lq]?)( |$)|"
		"\tmov +%[cd]r|,%[cd]r[0-9]|%[yz]mm[0-9]|\tv[a-z]+ +.*%xmm";
	/* The one `out` pvkern may do: hcbench's bare exit to PVKVM_PORT_NULL
	 * (the hypercall stubs are the VMM's, written at load time). */
	static const char *const allowed_out = "\tout +%eax,\\$0xe5$";
	/* And the ATA drivers (blk_ata.c, blk_ata_dma.c, functions named
	 * ata_*), the NE2000 driver (net_ne2000.c, ne2k_*) and the e1000
	 * driver (net_e1000.c, e1000_*): port I/O
	 * through %dx, legal only while the VMM opens their ports in the TSS
	 * bitmap (mode=fv, fv-dma). */
	static const char *const ata_pio = "\t(in|out|rep insw|rep outsw|rep insl|rep outsl|rep insb) .*\\(%dx\\)";
	regex_t bad, out_any, out_ok, ata_ok;
	char line[512], func[128] = "";
	int offences = 0;
	FILE *p = popen("objdump -d --no-show-raw-insn " PVKERN, "r");

	cr_assert(p, "cannot run objdump");
	cr_assert(!regcomp(&bad, pattern, REG_EXTENDED | REG_NOSUB));
	cr_assert(!regcomp(&out_any, "\tout ", REG_EXTENDED | REG_NOSUB));
	cr_assert(!regcomp(&out_ok, allowed_out, REG_EXTENDED | REG_NOSUB));
	cr_assert(!regcomp(&ata_ok, ata_pio, REG_EXTENDED | REG_NOSUB));
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		sscanf(line, "%*x <%127[^>]>:", func);
		if ((!strncmp(func, "ata_", 4) || !strncmp(func, "ne2k_", 5) ||
		     !strncmp(func, "e1000_", 6)) &&
		    !regexec(&ata_ok, line, 0, NULL, 0))
			continue;
		bool offends = !regexec(&bad, line, 0, NULL, 0) ||
			       (!regexec(&out_any, line, 0, NULL, 0) &&
				regexec(&out_ok, line, 0, NULL, 0));
		if (offends && offences++ < 10)
			cr_log_error("privileged or AVX: %s", line);
	}
	cr_expect_eq(pclose(p), 0, "objdump failed");
	cr_expect_eq(offences, 0, "%d forbidden instruction(s) in " PVKERN,
		     offences);
	regfree(&bad);
	regfree(&out_any);
	regfree(&out_ok);
	regfree(&ata_ok);
}

/* The notes the VMM needs: HYPERCALL_PAGE (page-aligned, inside a PT_LOAD)
 * and ABI_VERSION, both named "PVKVM", in a PT_NOTE segment. */
struct pvkvm_notes {
	bool have_page, have_abi;
	uint64_t page;
	uint32_t abi;
};

static void scan_notes(const uint8_t *p, size_t len, struct pvkvm_notes *out)
{
	size_t off = 0;

	while (off + sizeof(Elf64_Nhdr) <= len) {
		const Elf64_Nhdr *nh = (const void *)(p + off);
		const char *name = (const char *)(nh + 1);
		const uint8_t *desc = (const uint8_t *)name + ((nh->n_namesz + 3) & ~3u);

		if (nh->n_namesz == 6 && !memcmp(name, "PVKVM", 6)) {
			if (nh->n_type == 1 && nh->n_descsz == 8) {
				memcpy(&out->page, desc, 8);
				out->have_page = true;
			} else if (nh->n_type == 2 && nh->n_descsz == 4) {
				memcpy(&out->abi, desc, 4);
				out->have_abi = true;
			}
		}
		off = (size_t)(desc - p) + ((nh->n_descsz + 3) & ~3u);
	}
}

Test(guest_kernel_image, carries_the_pvkvm_notes)
{
	int fd = open(PVKERN, O_RDONLY);
	struct stat st;
	struct pvkvm_notes notes = { 0 };
	bool page_in_load = false;

	cr_assert(fd >= 0 && !fstat(fd, &st));
	const uint8_t *img = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	cr_assert(img != MAP_FAILED);
	const Elf64_Ehdr *eh = (const void *)img;
	const Elf64_Phdr *ph = (const void *)(img + eh->e_phoff);
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_NOTE)
			scan_notes(img + ph[i].p_offset, ph[i].p_filesz, &notes);
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && notes.page >= ph[i].p_vaddr &&
		    notes.page + 4096 <= ph[i].p_vaddr + ph[i].p_filesz)
			page_in_load = true;
	cr_expect(notes.have_page, "no PVKVM HYPERCALL_PAGE note");
	cr_expect(notes.have_abi && notes.abi >> 16 == 1,
		  "no PVKVM ABI_VERSION note for major 1 (%#x)", notes.abi);
	cr_expect(notes.page && !(notes.page & 4095) && page_in_load,
		  "hypercall page %#lx is not a page-aligned page inside a PT_LOAD",
		  (unsigned long)notes.page);
	cr_expect_geq(ph[0].p_vaddr, 0x100000, "loads below 1 MiB");
	munmap((void *)img, st.st_size);
}
