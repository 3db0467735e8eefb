// SPDX-License-Identifier: MIT
/*
 * The `pvkvm serve` region (host/serve/region.c, session.c, kv.c) against
 * a QEMU guest that writes anything into it. Each input lays out a fresh
 * region for up to 4 devices of any kind and size (region_create), sets up
 * the session's view of it (session_region_vm: the grant table in the
 * region, everything but rings and data pages fenced off), then, as the
 * guest, overwrites the bytes a guest can write and the host reads: each
 * device's frontend key list (seq, len, text), the grant table, and the
 * directory; and runs what a config doorbell runs (session_apply_config for
 * every device, twice: a doorbell storm changes nothing the second time),
 * then tries to map every grant reference (and a few past the table) for
 * reading and for writing. It checks:
 *  - a list is taken whole or refused whole: what the store holds under
 *    device/<type>/<id>/ afterwards is exactly the valid keys and values a
 *    parse of the same text yields, nothing elsewhere in the store changed;
 *  - every grant that maps lands in a ring or data page, never in the
 *    directory, the table, a config page or the unused tail;
 *  - the host's copy of the layout (struct region) is what region_create
 *    made, whatever the guest wrote over the directory;
 *  - the config pages' text and each grant entry are read once per use
 *    (the double-fetch detector; the kv headers, which a seqlock reader
 *    reads twice by design, are let through).
 *
 * Input: [devices u8][per device: type u8, ring order u8, data pages u8, vectors u8] x 4
 *        [per device: front seq u32, front len u32, then that many text bytes (<= 2016)]
 *        [grant entries: 8 bytes each][directory bytes]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu.h>

#include "host/core/vm.h"
#include "host/mem/guest_mem.h"
#include "host/serve/kv.h"
#include "host/serve/region.h"
#include "host/serve/session.h"
#include "host/services/evtchn.h"
#include "host/services/grant.h"
#include "host/services/store.h"
#include "hypercall/pvkvm_ivshmem.h"
#include "tests/fuzz/dfetch.h"

#define MAX_DEVS 4u

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_ivshmem_region: %s\n", what);
		abort();
	}
}

static void take(const uint8_t **data, size_t *size, void *out, size_t n)
{
	size_t k = *size < n ? *size : n;
	memset(out, 0, n);
	memcpy(out, *data, k);
	*data += k;
	*size -= k;
}

static void front_dir(const struct region *r, unsigned int i, char *out, size_t n)
{
	snprintf(out, n, "device/%s/%u",
		 r->dev[i].type == PVKVM_IVSHMEM_DEV_NET ? "net" : "blk", r->dev[i].id);
}

/* "key=value\n" of everything under dir, sorted as the store lists it. */
static size_t dump(struct store *st, const char *dir, char *out, size_t cap)
{
	char names[8192];
	size_t len = 0;
	ssize_t n = store_list(st, dir, names, sizeof(names));
	if (n < 0)
		return 0;
	check((size_t)n <= sizeof(names), "listing");
	for (const char *k = names; k < names + n; k += strlen(k) + 1) {
		char p[PVKVM_STORE_PATH_MAX], v[512];
		snprintf(p, sizeof(p), "%s/%s", dir, k);
		ssize_t vl = store_read(st, p, v, sizeof(v));
		check(vl >= 0 && (size_t)vl < sizeof(v), "a value the list put there is too long");
		int w = snprintf(out + len, cap - len, "%s=%.*s\n", k, (int)vl, v);
		check(w > 0 && (size_t)w < cap - len, "dump");
		len += (size_t)w;
	}
	return len;
}

/* What the store must hold after a list was taken: its pairs, nothing else. */
static void check_mirror(struct store *st, const char *dir, const char *text, int n)
{
	static struct kv_list l;
	const char *why;
	char got[16384];
	size_t glen = dump(st, dir, got, sizeof(got));
	if (n < 0 || kv_parse(text, (size_t)n, &l, &why) < 0)
		return; /* refused: the store is whatever it was (checked by the caller) */
	unsigned int lines = 0;
	for (const char *p = got; p < got + glen; p = strchr(p, '\n') + 1)
		lines++;
	check(lines == l.n, "the store holds other keys than the list");
	for (unsigned int i = 0; i < l.n; i++) {
		char p[PVKVM_STORE_PATH_MAX], v[512];
		snprintf(p, sizeof(p), "%s/%s", dir, l.pair[i].key);
		ssize_t vl = store_read(st, p, v, sizeof(v) - 1);
		check(vl >= 0, "a key of the list is missing");
		v[vl] = '\0';
		check(strcmp(v, l.pair[i].val) == 0, "a value differs from the list's");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool once;
	if (!once) {
		once = true;
		rcu_register_thread(); /* grant lookups read under RCU */
		dfetch_init();
	}
	uint8_t hdr[1 + 4 * MAX_DEVS];
	take(&data, &size, hdr, sizeof(hdr));
	unsigned int n = hdr[0] % (MAX_DEVS + 1);
	struct region_dev_spec spec[MAX_DEVS];
	for (unsigned int i = 0; i < n; i++) {
		const uint8_t *d = hdr + 1 + 4 * i;
		spec[i] = (struct region_dev_spec){
			.type = d[0] & 1 ? PVKVM_IVSHMEM_DEV_NET : PVKVM_IVSHMEM_DEV_BLK,
			.id = i,
			.ring_pages = d[0] & 0x80 ? d[1] : 1u << (d[1] % 4), /* maybe not a power of 2 */
			.data_pages = d[2] % 64,
			.nr_vectors = d[3] % 8,
		};
	}
	static struct region r;
	char err[256];
	if (region_create(&r, spec, n, 0, 1, err, sizeof(err)) != 0) {
		check(err[0] != '\0', "a refusal without a reason");
		return 0;
	}
	struct region made = r;
	static struct vm vm;
	memset(&vm, 0, sizeof(vm));
	check(session_region_vm(&vm, &r) == 0, "session_region_vm");

	/* The guest writes: key lists, the grant table, the directory. */
	static char texts[MAX_DEVS][PVKVM_IVSHMEM_KV_TEXT];
	for (unsigned int i = 0; i < n; i++) {
		struct pvkvm_ivshmem_config *c = region_config(&r, i);
		uint32_t kv[2];
		take(&data, &size, kv, sizeof(kv));
		c->front.seq = kv[0];
		c->front.len = kv[1];
		size_t tl = kv[1] < PVKVM_IVSHMEM_KV_TEXT ? kv[1] : PVKVM_IVSHMEM_KV_TEXT;
		take(&data, &size, c->front_text, tl);
		memcpy(texts[i], c->front_text, sizeof(texts[i]));
	}
	uint8_t *table = r.base + r.gnttab_off;
	size_t table_bytes = (size_t)r.gnttab_entries * sizeof(struct pvkvm_grant_entry);
	size_t tb = size < table_bytes ? size : table_bytes;
	memcpy(table, data, tb);
	data += tb;
	size -= tb;
	size_t db = size < PVKVM_PAGE_SIZE ? size : PVKVM_PAGE_SIZE;
	memcpy(r.base, data, db);

	/* A doorbell storm on the config vector: each device's list, twice. */
	char before[16384], after[16384];
	size_t blen = dump(vm.store, "backend", before, sizeof(before));
	for (unsigned int round = 0; round < 2; round++) {
		for (unsigned int i = 0; i < n; i++) {
			struct pvkvm_ivshmem_config *c = region_config(&r, i);
			char dir[64], was[16384], now[16384];
			front_dir(&r, i, dir, sizeof(dir));
			size_t wl = dump(vm.store, dir, was, sizeof(was));
			dfetch_watch(c, PVKVM_PAGE_SIZE, 16);
			const char *why;
			int rc = session_apply_config(vm.store, dir, c, &why);
			dfetch_unwatch_all();
			dfetch_next_request();
			size_t nl = dump(vm.store, dir, now, sizeof(now));
			if (rc < 0) {
				check(why && *why, "a refusal without a reason");
				check(wl == nl && memcmp(was, now, wl) == 0,
				      "a refused list changed the store");
				continue;
			}
			int tl = c->front.len <= PVKVM_IVSHMEM_KV_TEXT ? (int)c->front.len : -1;
			check(!(c->front.seq & 1) && tl >= 0, "a list taken from a writer mid-change");
			check_mirror(vm.store, dir, texts[i], tl);
			if (round == 1)
				check(wl == nl && memcmp(was, now, wl) == 0,
				      "the same list applied again changed the store");
		}
	}
	size_t alen = dump(vm.store, "backend", after, sizeof(after));
	check(alen == blen && memcmp(before, after, alen) == 0,
	      "a frontend list reached the backend's keys");

	/* Every grant the guest can forge: only ring and data pages map. */
	uint64_t table_pages = (table_bytes + PVKVM_PAGE_SIZE - 1) / PVKVM_PAGE_SIZE;
	dfetch_watch(table, table_pages * PVKVM_PAGE_SIZE, 0);
	for (uint32_t ref = 0; ref < r.gnttab_entries + 8; ref++) {
		for (int w = 0; w < 2; w++) {
			struct grant_map m;
			int rc = grant_map(vm.grants, ref, w ? GRANT_WRITE : GRANT_READ, &m);
			dfetch_next_request();
			if (rc)
				continue;
			check(m.page >= r.base + r.first_granted && m.page < r.base + r.used,
			      "a grant mapped a page outside the rings and data pages");
			grant_unmap(&m);
			dfetch_next_request();
		}
	}
	dfetch_unwatch_all();

	/* The host kept its own layout; the guest's directory is never read. */
	check(r.size == made.size && r.used == made.used && r.nr_devs == made.nr_devs &&
	      r.first_granted == made.first_granted && r.gnttab_off == made.gnttab_off &&
	      r.gnttab_entries == made.gnttab_entries &&
	      memcmp(r.dev, made.dev, sizeof(r.dev)) == 0, "the host's layout changed");
	for (unsigned int i = 0; i < n; i++)
		check((uint8_t *)region_config(&r, i) == r.base + made.dev[i].config_off,
		      "a config page moved");

	store_free(vm.store);
	evtchn_table_free(vm.evtchn);
	grant_table_free(vm.grants);
	free(vm.mem.access);
	region_destroy(&r);
	return 0;
}
