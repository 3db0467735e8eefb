// SPDX-License-Identifier: MIT
/*
 * The ELF loader (host/loader/elf.c): the input is the kernel file. What it
 * accepts must lie inside the load limits, and loading it must write only
 * inside them (the RAM below load_min and above load_end is checked to be
 * untouched).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/loader/elf.h"
#include "host/mem/guest_mem.h"

#define MEM (4u << 20)
#define LOAD_MIN (1u << 20)
#define LOAD_END (3u << 20)
#define CANARY 0xa5

static struct guest_mem mem;

static void check(int cond)
{
	if (!cond)
		abort();
}

static void fill_outside(void)
{
	memset(mem.host_base, CANARY, LOAD_MIN);
	memset(mem.host_base + LOAD_END, CANARY, MEM - LOAD_END);
}

static void check_outside(void)
{
	static uint8_t canary[LOAD_MIN];
	if (!canary[0])
		memset(canary, CANARY, sizeof(canary));
	check(memcmp(mem.host_base, canary, LOAD_MIN) == 0);
	check(memcmp(mem.host_base + LOAD_END, canary, MEM - LOAD_END) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!mem.host_base) {
		check(gmem_create(&mem, MEM) == 0);
		fill_outside();
	}
	/* A private copy sized exactly, so ASan sees any read past the file. */
	uint8_t *file = malloc(size ? size : 1);
	check(file != NULL);
	memcpy(file, data, size);
	struct elf_limits lim = { .load_min = LOAD_MIN, .load_end = LOAD_END };
	struct elf_image img;
	char err[256];
	int rc = elf_parse(file, size, &lim, &img, err, sizeof(err));
	if (rc == 0) {
		for (unsigned int i = 0; i < img.nr_segments; i++) {
			const struct elf_segment *s = &img.segments[i];
			check(s->gpa >= LOAD_MIN && s->memsz <= LOAD_END - s->gpa);
			check(s->filesz <= s->memsz);
			check(s->offset <= size && s->filesz <= size - s->offset);
		}
		check(img.image_end <= LOAD_END);
		if (elf_load(&img, file, size, &mem) == 0)
			check_outside();
		uint64_t off;
		for (size_t i = 0; i < img.nr_symbols; i++)
			check(img.symbols[i].name != NULL);
		(void)elf_symbolize(&img, img.entry, &off);
		(void)elf_symbolize(&img, LOAD_MIN + (size * 7919u) % (LOAD_END - LOAD_MIN), &off);
		elf_image_free(&img);
	} else {
		check(memchr(err, '\0', sizeof(err)) != NULL);
	}
	free(file);
	return 0;
}
