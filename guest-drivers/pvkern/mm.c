// SPDX-License-Identifier: MIT
#include "mm.h"

#include <stdbool.h>

#include "klib.h"

static struct spinlock mm_lock;
static uint64_t pool_base; /* first allocatable page */
static size_t pool_pages;
static uint8_t *page_used; /* one byte per page: simple, and few pages */
static size_t pool_free;

void mm_init(uint64_t free_start, uint64_t free_end)
{
	uint64_t start = ALIGN_UP(free_start, PAGE_SIZE);
	size_t total = start < free_end ? (free_end - start) / PAGE_SIZE : 0;
	/* The map itself takes the first pages of the region. */
	size_t map_pages = ALIGN_UP(total, PAGE_SIZE) / PAGE_SIZE;

	if (total <= map_pages) {
		pool_pages = 0;
		return;
	}
	page_used = (uint8_t *)(uintptr_t)start;
	memset(page_used, 0, total);
	pool_base = start + map_pages * PAGE_SIZE;
	pool_pages = total - map_pages;
	pool_free = pool_pages;
}

static bool run_is_free(size_t first, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (page_used[first + i])
			return false;
	return true;
}

void *page_alloc(size_t n)
{
	void *p = NULL;

	if (!n)
		return NULL;
	spin_lock(&mm_lock);
	for (size_t i = 0; i + n <= pool_pages; i++) {
		if (!run_is_free(i, n))
			continue;
		memset(page_used + i, 1, n);
		pool_free -= n;
		p = (void *)(uintptr_t)(pool_base + i * PAGE_SIZE);
		break;
	}
	spin_unlock(&mm_lock);
	if (p)
		memset(p, 0, n * PAGE_SIZE);
	return p;
}

void page_free(void *p, size_t n)
{
	size_t first = ((uintptr_t)p - pool_base) / PAGE_SIZE;

	spin_lock(&mm_lock);
	memset(page_used + first, 0, n);
	pool_free += n;
	spin_unlock(&mm_lock);
}

size_t pages_free_count(void)
{
	return pool_free;
}

#define HEAP_CHUNK_PAGES 4

void *kmalloc(size_t size)
{
	static uint8_t *heap_next, *heap_end;
	static struct spinlock heap_lock;
	void *p = NULL;

	size = ALIGN_UP(size, 16);
	if (size > HEAP_CHUNK_PAGES * PAGE_SIZE)
		return page_alloc(ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE);
	spin_lock(&heap_lock);
	if (!heap_next || (size_t)(heap_end - heap_next) < size) {
		heap_next = page_alloc(HEAP_CHUNK_PAGES);
		heap_end = heap_next ? heap_next + HEAP_CHUNK_PAGES * PAGE_SIZE
				     : NULL;
	}
	if (heap_next) {
		p = heap_next;
		heap_next += size;
	}
	spin_unlock(&heap_lock);
	return p; /* page_alloc zeroed it */
}
