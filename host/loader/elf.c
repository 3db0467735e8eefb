// SPDX-License-Identifier: MIT
/*
 * ELF64 loader for the guest kernel. Parsing checks every offset, size and
 * address against the file and against guest RAM (with overflow checks)
 * before anything is copied; loading then only copies what was checked.
 */
#include "host/loader/elf.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/util/errmsg.h"
#include "host/mem/guest_mem.h"
#include "hypercall/pvkvm_abi.h"

#define ELF_MAX_PHDRS 64u
#define ELF_MAX_FILE (256ull << 20)

/* [off, off + size) lies inside a file of len bytes, without overflow. */
static bool in_file(uint64_t off, uint64_t size, size_t len)
{
	return off <= len && size <= len - off;
}

static int check_header(const Elf64_Ehdr *eh, size_t len, char *err,
			size_t errlen)
{
	if (len < sizeof(*eh))
		return errmsg(-EINVAL, err, errlen, "truncated: %zu bytes is shorter than an ELF header", len);
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return errmsg(-EINVAL, err, errlen, "not an ELF file (bad magic)");
	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return errmsg(-EINVAL, err, errlen, "not a 64-bit ELF (class %u)", eh->e_ident[EI_CLASS]);
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return errmsg(-EINVAL, err, errlen, "not little-endian");
	if (eh->e_ident[EI_VERSION] != EV_CURRENT)
		return errmsg(-EINVAL, err, errlen, "unknown ELF version %u", eh->e_ident[EI_VERSION]);
	if (eh->e_machine != EM_X86_64)
		return errmsg(-EINVAL, err, errlen, "not an x86-64 ELF (machine %u)", eh->e_machine);
	if (eh->e_type != ET_EXEC)
		return errmsg(-EINVAL, err, errlen, "not an executable (type %u; the guest must be linked at fixed addresses)", eh->e_type);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return errmsg(-EINVAL, err, errlen, "program header size %u, expected %zu", eh->e_phentsize, sizeof(Elf64_Phdr));
	if (eh->e_phnum == 0 || eh->e_phnum > ELF_MAX_PHDRS)
		return errmsg(-EINVAL, err, errlen, "%u program headers (1 to %u allowed)", eh->e_phnum, ELF_MAX_PHDRS);
	if (!in_file(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), len))
		return errmsg(-EINVAL, err, errlen, "truncated: program headers lie outside the file");
	return 0;
}

static int check_load(const Elf64_Phdr *ph, unsigned int i, size_t len,
		      const struct elf_limits *lim, char *err, size_t errlen)
{
	if (ph->p_filesz > ph->p_memsz)
		return errmsg(-EINVAL, err, errlen, "segment %u: filesz 0x%llx > memsz 0x%llx", i,
			    (unsigned long long)ph->p_filesz, (unsigned long long)ph->p_memsz);
	if (!in_file(ph->p_offset, ph->p_filesz, len))
		return errmsg(-EINVAL, err, errlen, "segment %u: file range [0x%llx, +0x%llx) lies outside the %zu-byte file (truncated?)", i,
			    (unsigned long long)ph->p_offset, (unsigned long long)ph->p_filesz, len);
	if (ph->p_paddr != ph->p_vaddr)
		return errmsg(-EINVAL, err, errlen, "segment %u: p_vaddr 0x%llx != p_paddr 0x%llx (the guest runs identity-mapped)", i,
			    (unsigned long long)ph->p_vaddr, (unsigned long long)ph->p_paddr);
	if (ph->p_paddr + ph->p_memsz < ph->p_paddr)
		return errmsg(-EINVAL, err, errlen, "segment %u: address 0x%llx + size 0x%llx overflows", i,
			    (unsigned long long)ph->p_paddr, (unsigned long long)ph->p_memsz);
	if (ph->p_paddr < lim->load_min && lim->ram_size)
		return errmsg(-EINVAL, err, errlen, "segment %u: [0x%llx, 0x%llx) starts below 0x%llx, where the VMM keeps its own pages; the guest's %llu MiB of RAM take an image from 0x%llx up", i,
			    (unsigned long long)ph->p_paddr, (unsigned long long)(ph->p_paddr + ph->p_memsz),
			    (unsigned long long)lim->load_min, (unsigned long long)(lim->ram_size >> 20),
			    (unsigned long long)lim->load_min);
	if (ph->p_paddr < lim->load_min || ph->p_paddr + ph->p_memsz > lim->load_end)
		return errmsg(-EINVAL, err, errlen, "segment %u: [0x%llx, 0x%llx) is outside the guest's load area [0x%llx, 0x%llx) (RAM below the stack)", i,
			    (unsigned long long)ph->p_paddr, (unsigned long long)(ph->p_paddr + ph->p_memsz),
			    (unsigned long long)lim->load_min, (unsigned long long)lim->load_end);
	return 0;
}

static int check_overlaps(const struct elf_image *img, char *err, size_t errlen)
{
	for (unsigned int a = 0; a < img->nr_segments; a++)
		for (unsigned int b = a + 1; b < img->nr_segments; b++) {
			const struct elf_segment *x = &img->segments[a], *y = &img->segments[b];
			if (x->memsz && y->memsz && x->gpa < y->gpa + y->memsz &&
			    y->gpa < x->gpa + x->memsz)
				return errmsg(-EINVAL, err, errlen, "segments at 0x%llx and 0x%llx overlap",
					    (unsigned long long)x->gpa, (unsigned long long)y->gpa);
		}
	return 0;
}

static int collect_loads(const uint8_t *file, size_t len, const Elf64_Ehdr *eh,
			 const struct elf_limits *lim, struct elf_image *img,
			 char *err, size_t errlen)
{
	img->segments = calloc(eh->e_phnum, sizeof(*img->segments));
	if (!img->segments)
		return errmsg(-EINVAL, err, errlen, "out of memory");
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, file + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		int r = check_load(&ph, i, len, lim, err, errlen);
		if (r)
			return r;
		img->segments[img->nr_segments++] = (struct elf_segment){
			ph.p_paddr, ph.p_offset, ph.p_filesz, ph.p_memsz, ph.p_flags};
		uint64_t end = (ph.p_paddr + ph.p_memsz + PVKVM_PAGE_SIZE - 1) &
			       ~(uint64_t)(PVKVM_PAGE_SIZE - 1);
		if (end > img->image_end)
			img->image_end = end;
	}
	if (img->nr_segments == 0)
		return errmsg(-EINVAL, err, errlen, "no PT_LOAD segment");
	return check_overlaps(img, err, errlen);
}

static bool inside_segment(const struct elf_image *img, uint64_t gpa,
			   uint64_t size)
{
	for (unsigned int i = 0; i < img->nr_segments; i++) {
		const struct elf_segment *s = &img->segments[i];
		if (gpa >= s->gpa && size <= s->memsz && gpa - s->gpa <= s->memsz - size)
			return true;
	}
	return false;
}

static int apply_note(struct elf_image *img, uint32_t type, const uint8_t *desc,
		      uint32_t descsz, char *err, size_t errlen)
{
	if (type == PVKVM_ELFNOTE_HYPERCALL_PAGE) {
		if (descsz != 8)
			return errmsg(-EINVAL, err, errlen, "bad PVKVM hypercall-page note: desc is %u bytes, expected 8", descsz);
		memcpy(&img->hypercall_page, desc, 8);
		if (img->hypercall_page % PVKVM_PAGE_SIZE || img->hypercall_page == 0)
			return errmsg(-EINVAL, err, errlen, "bad PVKVM hypercall-page note: 0x%llx is not a page-aligned address",
				    (unsigned long long)img->hypercall_page);
	} else if (type == PVKVM_ELFNOTE_ABI_VERSION) {
		if (descsz != 4)
			return errmsg(-EINVAL, err, errlen, "bad PVKVM ABI-version note: desc is %u bytes, expected 4", descsz);
		memcpy(&img->abi_version, desc, 4);
		if (img->abi_version >> 16 != PVKVM_ABI_VERSION_MAJOR)
			return errmsg(-EINVAL, err, errlen, "guest built for ABI %u.%u, this VMM speaks %u.%u",
				    img->abi_version >> 16, img->abi_version & 0xffff,
				    PVKVM_ABI_VERSION_MAJOR, PVKVM_ABI_VERSION_MINOR);
	}
	/* Other PVKVM note types are from a newer ABI minor: ignored. */
	return 0;
}

static uint64_t align4(uint64_t x)
{
	return (x + 3) & ~3ull;
}

static int parse_notes(const uint8_t *p, uint64_t size, struct elf_image *img,
		       char *err, size_t errlen)
{
	uint64_t off = 0;
	while (off < size) {
		Elf64_Nhdr nh;
		if (size - off < sizeof(nh))
			return errmsg(-EINVAL, err, errlen, "bad note: truncated header at offset %llu of a PT_NOTE", (unsigned long long)off);
		memcpy(&nh, p + off, sizeof(nh));
		off += sizeof(nh);
		uint64_t name_sp = align4(nh.n_namesz), desc_sp = align4(nh.n_descsz);
		if (name_sp > size - off || desc_sp > size - off - name_sp)
			return errmsg(-EINVAL, err, errlen, "bad note: name or desc runs past the PT_NOTE segment");
		const uint8_t *name = p + off, *desc = p + off + name_sp;
		off += name_sp + desc_sp;
		if (nh.n_namesz != sizeof(PVKVM_ELFNOTE_NAME) ||
		    memcmp(name, PVKVM_ELFNOTE_NAME, sizeof(PVKVM_ELFNOTE_NAME)) != 0)
			continue; /* someone else's note (GNU build-id...) */
		int r = apply_note(img, nh.n_type, desc, nh.n_descsz, err, errlen);
		if (r)
			return r;
	}
	return 0;
}

static int collect_notes(const uint8_t *file, size_t len, const Elf64_Ehdr *eh,
			 struct elf_image *img, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, file + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_NOTE)
			continue;
		if (!in_file(ph.p_offset, ph.p_filesz, len))
			return errmsg(-EINVAL, err, errlen, "bad note: PT_NOTE %u lies outside the file", i);
		int r = parse_notes(file + ph.p_offset, ph.p_filesz, img, err, errlen);
		if (r)
			return r;
	}
	if (!img->hypercall_page)
		return errmsg(-EINVAL, err, errlen, "no PVKVM hypercall-page note: a CPL3 guest cannot make hypercalls without one (docs/abi.md section 6)");
	if (!inside_segment(img, img->hypercall_page, PVKVM_PAGE_SIZE))
		return errmsg(-EINVAL, err, errlen, "bad PVKVM hypercall-page note: page 0x%llx is not inside a PT_LOAD segment",
			    (unsigned long long)img->hypercall_page);
	if (!img->abi_version)
		return errmsg(-EINVAL, err, errlen, "no PVKVM ABI-version note: the image does not say which ABI it speaks (docs/abi.md section 6)");
	return 0;
}

/* --- symbols (optional: only for naming the function a fault hit) ------- */

static int cmp_symbol(const void *a, const void *b)
{
	const struct elf_symbol *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int collect_symbols_from(const uint8_t *file, const Elf64_Shdr *symtab,
				const Elf64_Shdr *strtab, struct elf_image *img)
{
	size_t n = symtab->sh_size / sizeof(Elf64_Sym);
	img->strings = malloc(strtab->sh_size + 1);
	img->symbols = calloc(n ? n : 1, sizeof(*img->symbols));
	if (!img->strings || !img->symbols)
		return -ENOMEM;
	memcpy(img->strings, file + strtab->sh_offset, strtab->sh_size);
	img->strings[strtab->sh_size] = '\0'; /* an unterminated last name ends here */
	for (size_t i = 0; i < n; i++) {
		Elf64_Sym s;
		memcpy(&s, file + symtab->sh_offset + i * sizeof(s), sizeof(s));
		if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || s.st_value == 0 ||
		    s.st_name >= strtab->sh_size)
			continue;
		img->symbols[img->nr_symbols++] = (struct elf_symbol){
			s.st_value, s.st_size, img->strings + s.st_name};
	}
	qsort(img->symbols, img->nr_symbols, sizeof(*img->symbols), cmp_symbol);
	return 0;
}

static int collect_symbols(const uint8_t *file, size_t len, const Elf64_Ehdr *eh,
			   struct elf_image *img, char *err, size_t errlen)
{
	if (eh->e_shoff == 0 || eh->e_shnum == 0)
		return 0; /* stripped: faults are reported without names */
	if (eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    !in_file(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr), len))
		return errmsg(-EINVAL, err, errlen, "truncated: section headers lie outside the file");
	const Elf64_Shdr *sh = (const void *)(file + eh->e_shoff);
	for (unsigned int i = 0; i < eh->e_shnum; i++) {
		Elf64_Shdr sym, str;
		memcpy(&sym, &sh[i], sizeof(sym));
		if (sym.sh_type != SHT_SYMTAB)
			continue;
		if (sym.sh_link >= eh->e_shnum)
			return errmsg(-EINVAL, err, errlen, "symbol table links to missing section %u", sym.sh_link);
		memcpy(&str, &sh[sym.sh_link], sizeof(str));
		if (!in_file(sym.sh_offset, sym.sh_size, len) ||
		    !in_file(str.sh_offset, str.sh_size, len))
			return errmsg(-EINVAL, err, errlen, "truncated: symbol or string table lies outside the file");
		if (collect_symbols_from(file, &sym, &str, img))
			return errmsg(-EINVAL, err, errlen, "out of memory");
		return 0;
	}
	return 0;
}

int elf_parse(const void *data, size_t len, const struct elf_limits *lim,
	      struct elf_image *img, char *err, size_t errlen)
{
	const uint8_t *file = data;
	Elf64_Ehdr eh;
	memset(img, 0, sizeof(*img));
	if (len < sizeof(eh))
		return check_header((const Elf64_Ehdr *)data, len, err, errlen);
	memcpy(&eh, file, sizeof(eh));
	int r = check_header(&eh, len, err, errlen);
	if (!r)
		r = collect_loads(file, len, &eh, lim, img, err, errlen);
	if (!r)
		r = collect_notes(file, len, &eh, img, err, errlen);
	if (!r && !inside_segment(img, eh.e_entry, 1))
		r = errmsg(-EINVAL, err, errlen, "entry point 0x%llx is not inside a PT_LOAD segment",
			 (unsigned long long)eh.e_entry);
	if (!r)
		r = collect_symbols(file, len, &eh, img, err, errlen);
	img->entry = eh.e_entry;
	if (r)
		elf_image_free(img);
	return r;
}

int elf_load(const struct elf_image *img, const void *file, size_t len,
	     struct guest_mem *mem)
{
	for (unsigned int i = 0; i < img->nr_segments; i++) {
		const struct elf_segment *s = &img->segments[i];
		uint8_t *dst = gmem_ptr(mem, s->gpa, s->memsz);
		if (!dst || !in_file(s->offset, s->filesz, len))
			return -EFAULT;
		memcpy(dst, (const uint8_t *)file + s->offset, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
	return 0;
}

/* Claimed: a page some PT_LOAD touches (set only inside elf_apply_access). */
#define ACCESS_CLAIMED 0x80u

static unsigned int segment_access(uint32_t p_flags)
{
	return ((p_flags & PF_R) ? GMEM_READ : 0) |
	       ((p_flags & PF_W) ? GMEM_WRITE : 0) |
	       ((p_flags & PF_X) ? GMEM_EXEC : 0);
}

int elf_apply_access(const struct elf_image *img, struct guest_mem *mem,
		     uint64_t from)
{
	if (!mem->access || from > mem->size || from % PVKVM_PAGE_SIZE)
		return -EFAULT;
	uint8_t *acc = mem->access;
	uint64_t first = from / PVKVM_PAGE_SIZE, end = mem->size / PVKVM_PAGE_SIZE;
	for (uint64_t p = first; p < end; p++)
		acc[p] = 0;
	for (unsigned int i = 0; i < img->nr_segments; i++) {
		const struct elf_segment *s = &img->segments[i];
		if (s->memsz == 0)
			continue;
		if (s->gpa < from || !gmem_range_ok(mem, s->gpa, s->memsz))
			return -EFAULT;
		uint64_t last = (s->gpa + s->memsz - 1) / PVKVM_PAGE_SIZE;
		for (uint64_t p = s->gpa / PVKVM_PAGE_SIZE; p <= last; p++)
			acc[p] |= (uint8_t)(ACCESS_CLAIMED | segment_access(s->flags));
	}
	for (uint64_t p = first; p < end; p++)
		acc[p] = (acc[p] & ACCESS_CLAIMED) ? (uint8_t)(acc[p] & GMEM_RWX) : GMEM_RW;
	if (img->hypercall_page)
		return gmem_set_access(mem, img->hypercall_page, PVKVM_PAGE_SIZE, GMEM_RX);
	return 0;
}

int elf_read_file(const char *path, void **file, size_t *len, char *err,
		  size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > ELF_MAX_FILE) {
		snprintf(err, errlen, "%s: not a regular file of at most %llu MiB", path, ELF_MAX_FILE >> 20);
		close(fd);
		return -EINVAL;
	}
	uint8_t *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	size_t got = 0;
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!buf || got != (size_t)st.st_size) {
		snprintf(err, errlen, "%s: read failed", path);
		free(buf);
		return -EIO;
	}
	*file = buf;
	*len = got;
	return 0;
}

const char *elf_symbolize(const struct elf_image *img, uint64_t addr,
			  uint64_t *offset)
{
	size_t lo = 0, hi = img ? img->nr_symbols : 0;
	while (lo < hi) { /* first symbol above addr */
		size_t mid = lo + (hi - lo) / 2;
		if (img->symbols[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct elf_symbol *s = &img->symbols[lo - 1];
	if (s->size && addr - s->addr >= s->size)
		return NULL;
	*offset = addr - s->addr;
	return s->name;
}

void elf_image_free(struct elf_image *img)
{
	free(img->segments);
	free(img->symbols);
	free(img->strings);
	memset(img, 0, sizeof(*img));
}
