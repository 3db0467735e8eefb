/* SPDX-License-Identifier: MIT */
/*
 * The shared region of one `pvkvm serve` connection: a memfd laid out as
 * hypercall/pvkvm_ivshmem.h says (directory, grant table, config pages,
 * rings, data pages), its size a power of two (a PCI BAR's must be).
 *
 * The grant table is the seam that lets the PV backends run unchanged: the
 * region is the "guest memory" they reach, and every ring and data page is
 * granted read-write at a grant reference equal to its page number, so a
 * frontend that copies into data pages names them as a `pvkvm run` guest
 * names granted pages.
 */
#ifndef PVKVM_SERVE_REGION_H
#define PVKVM_SERVE_REGION_H

#include <stddef.h>
#include <stdint.h>

#include "hypercall/pvkvm_ivshmem.h"

struct region_dev_spec {
	uint32_t type;          /* enum pvkvm_ivshmem_dev_type */
	uint32_t id;
	uint32_t ring_pages;    /* a power of two */
	uint32_t data_pages;
	uint16_t nr_vectors;    /* >= 1 */
};

struct region {
	int memfd;
	uint8_t *base;
	uint64_t size;
	uint64_t used;          /* bytes laid out; the rest up to size is unused */
	uint32_t nr_vectors;    /* config vector + every device's */
	unsigned int nr_devs;
	struct pvkvm_ivshmem_dev dev[PVKVM_IVSHMEM_MAX_DEVICES]; /* our copy */
	uint64_t gnttab_off;
	uint32_t gnttab_entries;
	uint64_t first_granted; /* every page below is never granted */
};

/* Lays out and fills a new region. 0, or -errno with one line in err. */
int region_create(struct region *r, const struct region_dev_spec *spec,
		  unsigned int n, uint32_t server_peer, uint32_t session,
		  char *err, size_t errlen);
void region_destroy(struct region *r);

/* Device i's config page (i < nr_devs). */
struct pvkvm_ivshmem_config *region_config(const struct region *r, unsigned int i);

#endif
