/* SPDX-License-Identifier: MIT */
/*
 * The guest kernel's ELF64 image: validated in full before a byte of it is
 * copied into guest RAM, since the file is as untrusted as the guest.
 */
#ifndef PVKVM_ELF_H
#define PVKVM_ELF_H

#include <stddef.h>
#include <stdint.h>

struct guest_mem;

struct elf_segment {
	uint64_t gpa;    /* p_paddr (== p_vaddr: the guest runs identity-mapped) */
	uint64_t offset; /* in the file */
	uint64_t filesz;
	uint64_t memsz;
	uint32_t flags;  /* p_flags: PF_R, PF_W, PF_X */
};

struct elf_symbol {
	uint64_t addr;
	uint64_t size;
	const char *name; /* points into elf_image.strings */
};

struct elf_image {
	uint64_t entry;
	uint64_t image_end;      /* page-aligned end of the highest PT_LOAD */
	uint64_t hypercall_page; /* from PVKVM_ELFNOTE_HYPERCALL_PAGE (required) */
	uint32_t abi_version;    /* from PVKVM_ELFNOTE_ABI_VERSION (required) */
	unsigned int nr_segments;
	struct elf_segment *segments;
	size_t nr_symbols;       /* sorted by addr */
	struct elf_symbol *symbols;
	char *strings;
};

/* Where PT_LOAD segments may go: [load_min, load_end). */
struct elf_limits {
	uint64_t load_min;
	uint64_t load_end;
	uint64_t ram_size; /* the guest's RAM, for the error lines; 0: unknown */
};

/*
 * Validates file[0, len) and fills img. 0, or -EINVAL with one line in err
 * saying what is wrong (class, machine, header bounds, a segment outside
 * [load_min, load_end), overlapping segments, filesz > memsz, overflow,
 * a malformed or missing PVKVM note, an entry outside the image). Both
 * PVKVM notes are required: without HYPERCALL_PAGE a CPL3 guest has no way
 * to make a hypercall, and without ABI_VERSION nothing says it speaks ours.
 */
int elf_parse(const void *file, size_t len, const struct elf_limits *lim,
	      struct elf_image *img, char *err, size_t errlen);

/* Copies the segments of a parsed image into guest RAM (zero-filling past
 * filesz). 0 or -EFAULT. */
int elf_load(const struct elf_image *img, const void *file, size_t len,
	     struct guest_mem *mem);

/*
 * Narrows mem's access map (guest_mem.h) to the image's permissions, from
 * gpa `from` to the end of RAM: each page a PT_LOAD touches gets the union
 * of the flags of the segments on it (r-x text, r-- rodata), the hypercall
 * page is read-execute whatever its segment says (the VMM owns its bytes),
 * and every other page is read-write, no-execute (data, bss, free memory,
 * the stack). 0 or -EFAULT.
 */
int elf_apply_access(const struct elf_image *img, struct guest_mem *mem,
		     uint64_t from);

/* Reads path; then as elf_parse. The caller frees *file. -errno on I/O
 * errors (err says so). */
int elf_read_file(const char *path, void **file, size_t *len, char *err,
		  size_t errlen);

/* The function containing addr (and *offset into it), or NULL. */
const char *elf_symbolize(const struct elf_image *img, uint64_t addr,
			  uint64_t *offset);

void elf_image_free(struct elf_image *img);

#endif
