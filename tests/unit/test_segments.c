// SPDX-License-Identifier: MIT
/*
 * Segment permissions on the real /dev/kvm (issue 7): a guest loaded from an
 * ELF runs on page tables built with its segments' rights. Text and the
 * hypercall page are read-execute, rodata read-only, data read-write and,
 * where the CPU has NX (EFER.NXE), not executable. Each tiny guest below
 * tries one forbidden thing and must stop with #PF (exit 142) and the error
 * code that names the access; the control guest writes its data and exits 0.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/core/vm.h"
#include "host/mem/guest_mem.h"
#include "host/x86/x86_cpl3.h"
#include "hypercall/pvkvm_abi.h"

#define BASE 0x200000u
#define TEXT BASE              /* r-x: the code */
#define HCPAGE (BASE + 0x1000) /* r-x: the stubs, inside text */
#define RODATA (BASE + 0x2000) /* r-- */
#define DATA (BASE + 0x3000)   /* rw- */
#define STUB(nr) (HCPAGE + (nr) * 32)

#define LE32(x) (uint8_t)((x) & 0xff), (uint8_t)(((x) >> 8) & 0xff), \
		(uint8_t)(((x) >> 16) & 0xff), (uint8_t)(((x) >> 24) & 0xff)
#define MOV_EAX(x) 0xb8, LE32(x)
#define MOV_EDI(x) 0xbf, LE32(x)
#define CALL_RAX 0xff, 0xd0
#define STORE_BYTE_AT_RAX 0xc6, 0x00, 0x01 /* movb $1, (%rax) */
/* SHUTDOWN(rax & 0xff) */
#define SHUTDOWN_RAX 0x48, 0x89, 0xc7, MOV_EAX(STUB(PVKVM_HC_SHUTDOWN)), CALL_RAX

struct elf_file {
	uint8_t buf[0x6000];
};

static size_t put_note(uint8_t *p, uint32_t type, const void *desc, uint32_t descsz)
{
	Elf64_Nhdr nh = {sizeof(PVKVM_ELFNOTE_NAME), descsz, type};
	memcpy(p, &nh, sizeof(nh));
	memcpy(p + 12, PVKVM_ELFNOTE_NAME, sizeof(PVKVM_ELFNOTE_NAME));
	memcpy(p + 20, desc, descsz);
	return 20 + ((descsz + 3) & ~3u);
}

static Elf64_Phdr load(uint64_t off, uint64_t gpa, uint64_t size, uint32_t flags)
{
	return (Elf64_Phdr){.p_type = PT_LOAD, .p_flags = flags, .p_offset = off,
			    .p_vaddr = gpa, .p_paddr = gpa, .p_filesz = size,
			    .p_memsz = size, .p_align = 0x1000};
}

/* Writes an image with `code` at TEXT to a temporary file; returns its path. */
static char *write_image(const uint8_t *code, size_t len)
{
	static struct elf_file f;
	memset(&f, 0, sizeof(f));
	Elf64_Ehdr *eh = (Elf64_Ehdr *)f.buf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(f.buf + sizeof(*eh));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = TEXT;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 4;
	eh->e_ehsize = sizeof(*eh);
	ph[0] = load(0x1000, TEXT, 0x2000, PF_R | PF_X);
	ph[1] = load(0x3000, RODATA, 0x1000, PF_R);
	ph[2] = load(0x4000, DATA, 0x1000, PF_R | PF_W);
	memcpy(f.buf + 0x1000, code, len);
	f.buf[0x4000] = 0xc3; /* a `ret` in data: runs only without NX */
	uint64_t page = HCPAGE;
	uint32_t abi = PVKVM_ABI_VERSION;
	size_t n = put_note(f.buf + 0x5000, PVKVM_ELFNOTE_HYPERCALL_PAGE, &page, 8);
	n += put_note(f.buf + 0x5000 + n, PVKVM_ELFNOTE_ABI_VERSION, &abi, 4);
	ph[3] = (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = 0x5000, .p_filesz = n};
	char *path = strdup("/tmp/pvkvm-seg-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, f.buf, sizeof(f.buf)), (ssize_t)sizeof(f.buf));
	close(fd);
	return path;
}

struct outcome {
	int status;
	char msg[256];
};

static struct outcome run_image(const uint8_t *code, size_t len)
{
	if (access("/dev/kvm", R_OK | W_OK) != 0)
		cr_skip_test("/dev/kvm is not available");
	struct outcome o = {0};
	char *path = write_image(code, len);
	struct vm_config cfg = {.mem_size = 4u << 20, .nr_vcpus = 1};
	struct vm *vm;
	char err[256];
	cr_assert_eq(vm_create(&cfg, &vm, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(vm_load_elf(vm, path, err, sizeof(err)), 0, "%s", err);
	o.status = vm_run(vm, 30);
	snprintf(o.msg, sizeof(o.msg), "%s", vm->stop_msg);
	vm_destroy(vm);
	unlink(path);
	free(path);
	return o;
}

static void expect_pf(struct outcome o, const char *error, const char *what)
{
	cr_expect_eq(o.status, PVKVM_EXIT_FAULT_BASE + 14, "%s: exit %d (%s)", what, o.status, o.msg);
	cr_expect(strstr(o.msg, "#PF") && strstr(o.msg, error), "%s: '%s' lacks #PF %s", what,
		  o.msg, error);
}

Test(segments, data_is_writable)
{
	static const uint8_t code[] = {MOV_EAX(DATA), STORE_BYTE_AT_RAX,
				       0x31, 0xc0, SHUTDOWN_RAX};
	struct outcome o = run_image(code, sizeof(code));
	cr_expect_eq(o.status, 0, "exit %d (%s)", o.status, o.msg);
}

/* Error code 0x7: present, write, user. */
Test(segments, text_is_write_protected)
{
	static const uint8_t code[] = {MOV_EAX(TEXT + 0x800), STORE_BYTE_AT_RAX,
				       0x31, 0xc0, SHUTDOWN_RAX};
	expect_pf(run_image(code, sizeof(code)), "error 0x7", "write to text");
}

Test(segments, hypercall_page_is_write_protected)
{
	static const uint8_t code[] = {MOV_EAX(STUB(PVKVM_HC_NULL)), STORE_BYTE_AT_RAX,
				       0x31, 0xc0, SHUTDOWN_RAX};
	expect_pf(run_image(code, sizeof(code)), "error 0x7", "write to the hypercall page");
}

Test(segments, rodata_is_read_only)
{
	static const uint8_t code[] = {MOV_EAX(RODATA), STORE_BYTE_AT_RAX,
				       0x31, 0xc0, SHUTDOWN_RAX};
	expect_pf(run_image(code, sizeof(code)), "error 0x7", "write to rodata");
}

/* Error code 0x15: present, user, instruction fetch. */
Test(segments, data_is_not_executable)
{
	if (!cpl3_nx_supported())
		cr_skip_test("this CPU has no NX: data stays executable (docs/abi.md)");
	static const uint8_t code[] = {MOV_EAX(DATA), CALL_RAX, 0x31, 0xc0, SHUTDOWN_RAX};
	expect_pf(run_image(code, sizeof(code)), "error 0x15", "a jump into data");
}

/* A hypercall cannot do what the guest cannot: TIME into its own text. */
Test(segments, a_hypercall_cannot_write_text_either)
{
	static const uint8_t code[] = {MOV_EDI(TEXT + 0x800), MOV_EAX(STUB(PVKVM_HC_TIME)),
				       CALL_RAX, SHUTDOWN_RAX};
	struct outcome o = run_image(code, sizeof(code));
	cr_expect_eq(o.status, (-PVKVM_EFAULT) & 0xff, "TIME into text: exit %d (%s)",
		     o.status, o.msg);
}

/* ---- the ports a CPL3 guest can reach: one list (docs/abi.md section 2) ----- */

/* 0xe5, the null port: any in or out, answered without dispatch (an in
 * reads 0). */
Test(ports, null_port_e5_answers_in_and_out)
{
	static const uint8_t code[] = {
		0xb0, 0x55, 0xe6, 0xe5,  /* mov $0x55,%al; out %al,$0xe5 */
		0xb8, LE32(0x77),        /* mov $0x77,%eax */
		0xe5, 0xe5,              /* in $0xe5,%eax: 0 */
		SHUTDOWN_RAX};
	struct outcome o = run_image(code, sizeof(code));
	cr_expect_eq(o.status, 0, "exit %d (%s)", o.status, o.msg);
}

/* 0xe7 and 0xe9-0xeb are open only because the 4-byte outs at 0xe4 and 0xe8
 * touch them; on their own they stop the guest (121), as does a hypercall
 * port used with the wrong width. */
static void expect_broken(const uint8_t *code, size_t len, const char *what)
{
	struct outcome o = run_image(code, len);
	cr_expect_eq(o.status, PVKVM_EXIT_GUEST_BROKEN, "%s: exit %d (%s)", what, o.status, o.msg);
}

Test(ports, e7_e9_ea_eb_alone_stop_the_guest)
{
	static const uint8_t e7[] = {0xe6, 0xe7, 0x31, 0xc0, SHUTDOWN_RAX};
	static const uint8_t e9[] = {0xe6, 0xe9, 0x31, 0xc0, SHUTDOWN_RAX};
	static const uint8_t ea[] = {0xe6, 0xea, 0x31, 0xc0, SHUTDOWN_RAX};
	static const uint8_t eb[] = {0xe4, 0xeb, 0x31, 0xc0, SHUTDOWN_RAX};
	static const uint8_t e4_byte[] = {0xe6, 0xe4, 0x31, 0xc0, SHUTDOWN_RAX};
	static const uint8_t e8_in[] = {0xe5, 0xe8, 0x31, 0xc0, SHUTDOWN_RAX};
	expect_broken(e7, sizeof(e7), "out to 0xe7");
	expect_broken(e9, sizeof(e9), "out to 0xe9");
	expect_broken(ea, sizeof(ea), "out to 0xea");
	expect_broken(eb, sizeof(eb), "in from 0xeb");
	expect_broken(e4_byte, sizeof(e4_byte), "a 1-byte out to 0xe4");
	expect_broken(e8_in, sizeof(e8_in), "an in from 0xe8");
}

/* Outside 0xe4-0xeb (and the ports of an attached emulated device) the TSS
 * bitmap is closed: #GP, exit 141. */
Test(ports, ports_outside_e4_eb_raise_gp)
{
	static const uint8_t e3[] = {0xe6, 0xe3, 0x31, 0xc0, SHUTDOWN_RAX};
	static const uint8_t ec[] = {0xe6, 0xec, 0x31, 0xc0, SHUTDOWN_RAX};
	static const uint8_t e9_word[] = {0x66, 0xe7, 0xeb, 0x31, 0xc0, SHUTDOWN_RAX}; /* 0xeb-0xec */
	struct outcome o = run_image(e3, sizeof(e3));
	cr_expect_eq(o.status, PVKVM_EXIT_FAULT_BASE + 13, "0xe3: exit %d (%s)", o.status, o.msg);
	o = run_image(ec, sizeof(ec));
	cr_expect_eq(o.status, PVKVM_EXIT_FAULT_BASE + 13, "0xec: exit %d (%s)", o.status, o.msg);
	o = run_image(e9_word, sizeof(e9_word));
	cr_expect_eq(o.status, PVKVM_EXIT_FAULT_BASE + 13, "0xeb-0xec: exit %d (%s)", o.status, o.msg);
}
