// SPDX-License-Identifier: MIT
/*
 * Laying out and filling the shared region. See region.h.
 */
#include "host/serve/region.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "host/util/errmsg.h"

#define PAGE PVKVM_PAGE_SIZE

static uint64_t pow2_at_least(uint64_t v)
{
	uint64_t p = PAGE;
	while (p < v)
		p <<= 1;
	return p;
}

/* Pages of everything but the grant table, and the entries the table needs
 * to cover every page of the region (itself included). */
static int plan(struct region *r, const struct region_dev_spec *spec,
		unsigned int n, char *err, size_t errlen)
{
	uint64_t fixed = 1 + n; /* directory + config pages */
	uint32_t vectors = 1;   /* the config vector */
	for (unsigned int i = 0; i < n; i++) {
		const struct region_dev_spec *s = &spec[i];
		if (s->ring_pages == 0 || (s->ring_pages & (s->ring_pages - 1)) ||
		    s->nr_vectors == 0)
			return errmsg(-EINVAL, err, errlen, "device %u: bad ring or vectors", i);
		fixed += (uint64_t)s->ring_pages + s->data_pages;
		vectors += s->nr_vectors;
	}
	if (vectors > PVKVM_IVSHMEM_MAX_VECTORS)
		return errmsg(-EINVAL, err, errlen, "%u vectors needed, at most %u",
			      vectors, PVKVM_IVSHMEM_MAX_VECTORS);
	uint64_t table = 1, total;
	for (;;) { /* the table covers itself: grow until it fits */
		total = fixed + table;
		uint64_t need = (total * sizeof(struct pvkvm_grant_entry) + PAGE - 1) / PAGE;
		if (need <= table)
			break;
		table = need;
	}
	if (total > PVKVM_GRANT_MAX_ENTRIES)
		return errmsg(-E2BIG, err, errlen,
			      "the region would need %llu pages, at most %u",
			      (unsigned long long)total, PVKVM_GRANT_MAX_ENTRIES);
	r->nr_vectors = vectors;
	r->gnttab_off = PAGE;
	r->gnttab_entries = (uint32_t)total;
	r->used = total * PAGE;
	r->size = pow2_at_least(r->used);
	return 0;
}

static void place_devices(struct region *r, const struct region_dev_spec *spec,
			  unsigned int n)
{
	uint64_t off = r->gnttab_off +
		       (((uint64_t)r->gnttab_entries * sizeof(struct pvkvm_grant_entry) +
			 PAGE - 1) / PAGE) * PAGE;
	uint16_t vector = 1;
	for (unsigned int i = 0; i < n; i++, off += PAGE) {
		r->dev[i] = (struct pvkvm_ivshmem_dev){
			.type = spec[i].type,
			.id = spec[i].id,
			.vector = vector,
			.nr_vectors = spec[i].nr_vectors,
			.config_size = PVKVM_IVSHMEM_CONFIG_SIZE,
			.config_off = off,
		};
		vector = (uint16_t)(vector + spec[i].nr_vectors);
	}
	r->first_granted = off;
	for (unsigned int i = 0; i < n; i++) {
		r->dev[i].ring_off = off;
		r->dev[i].ring_size = (uint64_t)spec[i].ring_pages * PAGE;
		off += r->dev[i].ring_size;
		r->dev[i].data_off = off;
		r->dev[i].data_size = (uint64_t)spec[i].data_pages * PAGE;
		off += r->dev[i].data_size;
	}
	r->nr_devs = n;
}

static void grant_span(struct region *r, uint64_t off, uint64_t size)
{
	struct pvkvm_grant_entry *t = (void *)(r->base + r->gnttab_off);
	for (uint64_t p = off / PAGE; p < (off + size) / PAGE; p++)
		t[p] = (struct pvkvm_grant_entry){ .flags = PVKVM_GTF_PERMIT,
						   .frame = (uint32_t)p };
}

static void write_directory(struct region *r, uint32_t server_peer,
			    uint32_t session)
{
	struct pvkvm_ivshmem_dir *d = (void *)r->base;
	memset(d, 0, sizeof(*d));
	d->version = PVKVM_IVSHMEM_VERSION;
	d->dir_size = sizeof(*d);
	d->region_size = r->size;
	d->server_peer = server_peer;
	d->nr_vectors = r->nr_vectors;
	d->config_vector = PVKVM_IVSHMEM_CONFIG_VECTOR;
	d->nr_devices = r->nr_devs;
	d->gnttab_off = r->gnttab_off;
	d->gnttab_entries = r->gnttab_entries;
	d->session = session;
	memcpy(d->dev, r->dev, sizeof(r->dev[0]) * r->nr_devs);
	/* Last: a reader that sees the magic sees the rest. */
	__atomic_store_n(&d->magic, PVKVM_IVSHMEM_MAGIC, __ATOMIC_RELEASE);
}

int region_create(struct region *r, const struct region_dev_spec *spec,
		  unsigned int n, uint32_t server_peer, uint32_t session,
		  char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->memfd = -1;
	if (n > PVKVM_IVSHMEM_MAX_DEVICES)
		return errmsg(-EINVAL, err, errlen, "%u devices, at most %u", n,
			      PVKVM_IVSHMEM_MAX_DEVICES);
	int rc = plan(r, spec, n, err, errlen);
	if (rc)
		return rc;
	r->memfd = memfd_create("pvkvm-serve-region", MFD_CLOEXEC);
	if (r->memfd < 0)
		return errmsg(-errno, err, errlen, "memfd_create: %s", strerror(errno));
	if (ftruncate(r->memfd, (off_t)r->size) < 0) {
		rc = errmsg(-errno, err, errlen, "ftruncate: %s", strerror(errno));
		goto fail;
	}
	void *p = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       r->memfd, 0);
	if (p == MAP_FAILED) {
		rc = errmsg(-errno, err, errlen, "mmap: %s", strerror(errno));
		goto fail;
	}
	r->base = p;
	place_devices(r, spec, n);
	for (unsigned int i = 0; i < n; i++) {
		grant_span(r, r->dev[i].ring_off, r->dev[i].ring_size);
		grant_span(r, r->dev[i].data_off, r->dev[i].data_size);
	}
	write_directory(r, server_peer, session);
	return 0;
fail:
	close(r->memfd);
	r->memfd = -1;
	return rc;
}

void region_destroy(struct region *r)
{
	if (r->base)
		munmap(r->base, r->size);
	if (r->memfd >= 0)
		close(r->memfd);
	r->base = NULL;
	r->memfd = -1;
}

struct pvkvm_ivshmem_config *region_config(const struct region *r, unsigned int i)
{
	return (void *)(r->base + r->dev[i].config_off);
}
