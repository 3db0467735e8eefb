// SPDX-License-Identifier: MIT
/*
 * The ELF loader against good and bad images built in memory. Every bad
 * image must be refused with one line that names the problem.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <string.h>

#include "host/loader/elf.h"
#include "host/mem/guest_mem.h"
#include "hypercall/pvkvm_abi.h"

#define TEXT_GPA 0x200000ull
#define ENTRY (TEXT_GPA + 0x10)
#define HC_PAGE (TEXT_GPA + 0x1000)
#define RAM (4ull << 20)

static const struct elf_limits lim = {PVKVM_GUEST_LOAD_MIN, RAM - 0x10000, RAM};

struct img {
	uint8_t buf[0x4000];
	size_t len;
	Elf64_Ehdr *eh;
	Elf64_Phdr *ph; /* [0] PT_LOAD text, [1] PT_NOTE, [2] spare PT_NULL */
};

static size_t put_note(uint8_t *p, uint32_t type, const void *desc, uint32_t descsz)
{
	Elf64_Nhdr nh = {sizeof(PVKVM_ELFNOTE_NAME), descsz, type};
	memcpy(p, &nh, sizeof(nh));
	memcpy(p + 12, PVKVM_ELFNOTE_NAME, sizeof(PVKVM_ELFNOTE_NAME));
	memcpy(p + 12 + 8, desc, descsz);
	return 12 + 8 + ((descsz + 3) & ~3u);
}

static void add_symbols(struct img *m)
{
	Elf64_Shdr *sh = (Elf64_Shdr *)(m->buf + 0x3000);
	Elf64_Sym *sym = (Elf64_Sym *)(m->buf + 0x3100);
	static const char strtab[] = "\0divide_by_zero";
	memcpy(m->buf + 0x3200, strtab, sizeof(strtab));
	sym[1] = (Elf64_Sym){.st_name = 1, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
			     .st_value = ENTRY, .st_size = 0x20};
	sh[1] = (Elf64_Shdr){.sh_type = SHT_SYMTAB, .sh_offset = 0x3100,
			     .sh_size = 2 * sizeof(Elf64_Sym), .sh_link = 2,
			     .sh_entsize = sizeof(Elf64_Sym)};
	sh[2] = (Elf64_Shdr){.sh_type = SHT_STRTAB, .sh_offset = 0x3200, .sh_size = sizeof(strtab)};
	m->eh->e_shoff = 0x3000;
	m->eh->e_shnum = 3;
	m->eh->e_shentsize = sizeof(Elf64_Shdr);
}

static void build(struct img *m)
{
	memset(m, 0, sizeof(*m));
	m->len = sizeof(m->buf);
	m->eh = (Elf64_Ehdr *)m->buf;
	m->ph = (Elf64_Phdr *)(m->buf + sizeof(Elf64_Ehdr));
	memcpy(m->eh->e_ident, ELFMAG, SELFMAG);
	m->eh->e_ident[EI_CLASS] = ELFCLASS64;
	m->eh->e_ident[EI_DATA] = ELFDATA2LSB;
	m->eh->e_ident[EI_VERSION] = EV_CURRENT;
	m->eh->e_type = ET_EXEC;
	m->eh->e_machine = EM_X86_64;
	m->eh->e_version = EV_CURRENT;
	m->eh->e_entry = ENTRY;
	m->eh->e_phoff = sizeof(Elf64_Ehdr);
	m->eh->e_phentsize = sizeof(Elf64_Phdr);
	m->eh->e_phnum = 3;
	m->eh->e_ehsize = sizeof(Elf64_Ehdr);
	m->ph[0] = (Elf64_Phdr){.p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X,
				.p_offset = 0x1000, .p_vaddr = TEXT_GPA, .p_paddr = TEXT_GPA,
				.p_filesz = 0x1000, .p_memsz = 0x3000, .p_align = 0x1000};
	memset(m->buf + 0x1000, 0x90, 0x1000);
	uint64_t page = HC_PAGE;
	uint32_t abi = PVKVM_ABI_VERSION;
	size_t n = put_note(m->buf + 0x2000, PVKVM_ELFNOTE_HYPERCALL_PAGE, &page, 8);
	n += put_note(m->buf + 0x2000 + n, PVKVM_ELFNOTE_ABI_VERSION, &abi, 4);
	m->ph[1] = (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = 0x2000, .p_filesz = n};
	add_symbols(m);
}

static char err[256];

static int parse(struct img *m, struct elf_image *out)
{
	err[0] = '\0';
	return elf_parse(m->buf, m->len, &lim, out, err, sizeof(err));
}

/* Parses m, expects a refusal whose message contains needle. */
static void expect_refused(struct img *m, const char *needle)
{
	struct elf_image im;
	cr_assert_neq(parse(m, &im), 0, "accepted; expected an error about '%s'", needle);
	cr_expect(strstr(err, needle) != NULL, "error '%s' does not mention '%s'", err, needle);
	cr_expect(strchr(err, '\n') == NULL, "one line");
}

Test(elf, a_good_image_parses_and_loads)
{
	struct img m;
	struct elf_image im;
	build(&m);
	cr_assert_eq(parse(&m, &im), 0, "%s", err);
	cr_expect_eq(im.entry, ENTRY);
	cr_expect_eq(im.image_end, TEXT_GPA + 0x3000);
	cr_expect_eq(im.hypercall_page, HC_PAGE);
	cr_expect_eq(im.abi_version, PVKVM_ABI_VERSION);
	uint64_t off = 0;
	const char *name = elf_symbolize(&im, ENTRY + 4, &off);
	cr_assert_not_null(name);
	cr_expect_str_eq(name, "divide_by_zero");
	cr_expect_eq(off, 4);
	cr_expect_null(elf_symbolize(&im, ENTRY + 0x20, &off), "past the symbol's size");
	struct guest_mem mem;
	cr_assert_eq(gmem_create(&mem, RAM), 0);
	memset(mem.host_base + TEXT_GPA + 0x1000, 0xee, 0x2000);
	cr_assert_eq(elf_load(&im, m.buf, m.len, &mem), 0);
	cr_expect_eq(mem.host_base[TEXT_GPA], 0x90);
	cr_expect_eq(mem.host_base[TEXT_GPA + 0x2fff], 0, "bss zeroed");
	gmem_destroy(&mem);
	elf_image_free(&im);
}

Test(elf, truncated_files)
{
	struct img m;
	build(&m);
	m.len = 10;
	expect_refused(&m, "truncated");
	build(&m);
	m.len = sizeof(Elf64_Ehdr) + 20;
	expect_refused(&m, "program headers");
	build(&m);
	m.len = 0x1800;
	expect_refused(&m, "outside the");
}

Test(elf, wrong_class_machine_type)
{
	struct img m;
	build(&m);
	m.eh->e_ident[EI_CLASS] = ELFCLASS32;
	expect_refused(&m, "64-bit");
	build(&m);
	m.eh->e_machine = EM_386;
	expect_refused(&m, "x86-64");
	build(&m);
	m.eh->e_type = ET_DYN;
	expect_refused(&m, "executable");
	build(&m);
	m.buf[0] = 0;
	expect_refused(&m, "magic");
	build(&m);
	m.eh->e_phentsize = 32;
	expect_refused(&m, "program header size");
}

Test(elf, segments_outside_ram_or_below_load_min)
{
	struct img m;
	build(&m);
	m.ph[0].p_paddr = m.ph[0].p_vaddr = 0x10000;
	m.eh->e_entry = 0x10010;
	expect_refused(&m, "starts below 0x100000");
	expect_refused(&m, "4 MiB of RAM"); /* the guest's RAM, not the VMM's limit */
	build(&m);
	m.ph[0].p_paddr = m.ph[0].p_vaddr = RAM - 0x2000;
	expect_refused(&m, "load area");
	build(&m);
	m.ph[0].p_vaddr = 0xffffffff80200000ull;
	expect_refused(&m, "identity");
}

Test(elf, overlapping_segments)
{
	struct img m;
	build(&m);
	m.ph[2] = m.ph[0];
	m.ph[2].p_paddr = m.ph[2].p_vaddr = TEXT_GPA + 0x2000;
	expect_refused(&m, "overlap");
}

Test(elf, sizes_that_lie_or_overflow)
{
	struct img m;
	build(&m);
	m.ph[0].p_filesz = 0x4000;
	expect_refused(&m, "filesz");
	build(&m);
	m.ph[0].p_paddr = m.ph[0].p_vaddr = 0xfffffffffffff000ull;
	expect_refused(&m, "overflows");
	build(&m);
	m.ph[0].p_offset = 0xffffffffffffff00ull;
	expect_refused(&m, "outside the");
	build(&m);
	m.eh->e_phoff = 0xfffffffffffffff0ull;
	expect_refused(&m, "program headers");
	build(&m);
	m.eh->e_shoff = 0xffffffffffffff00ull;
	expect_refused(&m, "section headers");
}

Test(elf, bad_notes)
{
	struct img m;
	uint64_t unaligned = HC_PAGE + 8, outside = 0x300000;
	uint32_t abi2 = 2u << 16;
	build(&m);
	m.ph[1].p_filesz = put_note(m.buf + 0x2000, PVKVM_ELFNOTE_HYPERCALL_PAGE, &unaligned, 4);
	expect_refused(&m, "expected 8");
	build(&m);
	m.ph[1].p_filesz = put_note(m.buf + 0x2000, PVKVM_ELFNOTE_HYPERCALL_PAGE, &unaligned, 8);
	expect_refused(&m, "page-aligned");
	build(&m);
	m.ph[1].p_filesz = put_note(m.buf + 0x2000, PVKVM_ELFNOTE_HYPERCALL_PAGE, &outside, 8);
	expect_refused(&m, "not inside a PT_LOAD");
	build(&m);
	m.ph[1].p_filesz = put_note(m.buf + 0x2000, PVKVM_ELFNOTE_ABI_VERSION, &abi2, 4);
	expect_refused(&m, "ABI");
	build(&m);
	((Elf64_Nhdr *)(m.buf + 0x2000))->n_descsz = 0xfffffff0u;
	expect_refused(&m, "past the PT_NOTE");
	build(&m);
	m.ph[1].p_filesz = 5;
	expect_refused(&m, "truncated header");
	build(&m);
	m.ph[1].p_offset = 0x3ff0;
	m.ph[1].p_filesz = 0x100;
	expect_refused(&m, "outside the file");
}

Test(elf, entry_outside_the_image)
{
	struct img m;
	build(&m);
	m.eh->e_entry = 0x3000000;
	expect_refused(&m, "entry point");
}

Test(elf, no_load_segment)
{
	struct img m;
	build(&m);
	m.ph[0].p_type = PT_NULL;
	m.ph[1].p_type = PT_NULL;
	expect_refused(&m, "no PT_LOAD");
}

/* Both PVKVM notes are required (docs/abi.md section 6). */
Test(elf, missing_notes_are_refused)
{
	struct img m;
	uint64_t page = HC_PAGE;
	uint32_t abi = PVKVM_ABI_VERSION;
	build(&m);
	m.ph[1].p_filesz = put_note(m.buf + 0x2000, PVKVM_ELFNOTE_ABI_VERSION, &abi, 4);
	expect_refused(&m, "no PVKVM hypercall-page note");
	build(&m);
	m.ph[1].p_filesz = put_note(m.buf + 0x2000, PVKVM_ELFNOTE_HYPERCALL_PAGE, &page, 8);
	expect_refused(&m, "no PVKVM ABI-version note");
	build(&m);
	m.ph[1].p_type = PT_NULL;
	expect_refused(&m, "no PVKVM hypercall-page note");
}

/* The note's name: namesz 6 ("PVKVM" and its NUL), padded to 8. A name
 * without the NUL (namesz 5) is someone else's note, so the image then
 * lacks ours. */
Test(elf, note_namesz_counts_the_nul)
{
	struct img m;
	build(&m);
	((Elf64_Nhdr *)(m.buf + 0x2000))->n_namesz = 5;
	expect_refused(&m, "no PVKVM hypercall-page note");
}

/* The access map the page tables and every hypercall check are built from. */
Test(elf, segment_permissions_reach_the_access_map)
{
	struct img m;
	struct elf_image im;
	build(&m);
	/* text r-x [TEXT_GPA, +0x1000) with the hypercall page in a second
	 * segment marked rw- (the page must come out r-x all the same), and
	 * data rw- past it */
	m.ph[0].p_flags = PF_R | PF_X;
	m.ph[0].p_memsz = m.ph[0].p_filesz = 0x1000;
	m.ph[2] = (Elf64_Phdr){.p_type = PT_LOAD, .p_flags = PF_R | PF_W,
			       .p_offset = 0x1000, .p_vaddr = HC_PAGE, .p_paddr = HC_PAGE,
			       .p_filesz = 0, .p_memsz = 0x2000, .p_align = 0x1000};
	cr_assert_eq(parse(&m, &im), 0, "%s", err);
	struct guest_mem mem;
	cr_assert_eq(gmem_create(&mem, RAM), 0);
	cr_assert_eq(elf_load(&im, m.buf, m.len, &mem), 0);
	cr_assert_eq(elf_apply_access(&im, &mem, PVKVM_GUEST_LOAD_MIN), 0);
	cr_expect_eq(gmem_page_access(&mem, TEXT_GPA), GMEM_RX, "text");
	cr_expect_eq(gmem_page_access(&mem, HC_PAGE), GMEM_RX, "the hypercall page");
	cr_expect_eq(gmem_page_access(&mem, HC_PAGE + 0x1000), GMEM_RW, "data, no exec");
	cr_expect_eq(gmem_page_access(&mem, PVKVM_GUEST_LOAD_MIN), GMEM_RW, "free memory, no exec");
	cr_expect_eq(gmem_page_access(&mem, RAM - 0x1000), GMEM_RW, "the stack, no exec");
	cr_expect_eq(gmem_page_access(&mem, 0), GMEM_RWX, "below `from`: untouched");
	gmem_destroy(&mem);
	elf_image_free(&im);
}
