// SPDX-License-Identifier: MIT
/*
 * Guest RAM: one memfd, mapped shared, so another process (an ivshmem peer,
 * a debugger) can map the very same pages.
 */
#include "host/mem/guest_mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define GMEM_PAGE 4096u

int gmem_create(struct guest_mem *m, uint64_t size)
{
	memset(m, 0, sizeof(*m));
	m->memfd = -1;
	if (size == 0 || size > (1ull << 46) || size % GMEM_PAGE)
		return -EINVAL;
	int fd = memfd_create("pvkvm-guest-ram", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		int e = errno;
		close(fd);
		return -e;
	}
	/* Guest RAM holds a guest's data; never let it into a core dump. */
	madvise(p, size, MADV_DONTDUMP);
	uint8_t *acc = malloc(size / GMEM_PAGE);
	if (!acc) {
		munmap(p, size);
		close(fd);
		return -ENOMEM;
	}
	memset(acc, GMEM_RWX, size / GMEM_PAGE);
	m->access = acc;
	m->host_base = p;
	m->size = size;
	m->memfd = fd;
	return 0;
}

void gmem_destroy(struct guest_mem *m)
{
	if (m->host_base)
		munmap(m->host_base, m->size);
	if (m->memfd >= 0)
		close(m->memfd);
	free(m->access);
	memset(m, 0, sizeof(*m));
	m->memfd = -1;
}

void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (!m->host_base || !gmem_range_ok(m, gpa, len))
		return NULL;
	return m->host_base + gpa;
}

int gmem_read(const struct guest_mem *m, uint64_t gpa, void *dst, size_t len)
{
	const void *src = gmem_ptr(m, gpa, len);
	if (!src)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}

int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src,
	       size_t len)
{
	void *dst = gmem_ptr(m, gpa, len);
	if (!dst)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}

int gmem_set_access(struct guest_mem *m, uint64_t gpa, uint64_t len,
		    unsigned int acc)
{
	if (!m->access || !gmem_range_ok(m, gpa, len) || acc > GMEM_RWX)
		return -EFAULT;
	uint64_t first = gpa / GMEM_PAGE;
	uint64_t end = (gpa + len + GMEM_PAGE - 1) / GMEM_PAGE;
	memset(m->access + first, (int)acc, end - first);
	return 0;
}

unsigned int gmem_page_access(const struct guest_mem *m, uint64_t gpa)
{
	if (!m->access || gpa >= m->size)
		return GMEM_NONE;
	return m->access[gpa / GMEM_PAGE];
}

bool gmem_guest_ok(const struct guest_mem *m, uint64_t gpa, uint64_t len,
		   unsigned int acc)
{
	if (!m->host_base || !m->access || !gmem_range_ok(m, gpa, len))
		return false;
	if (len == 0)
		return true;
	/* Within RAM, so the page walk is bounded by RAM's page count. */
	uint64_t last = (gpa + len - 1) / GMEM_PAGE;
	for (uint64_t p = gpa / GMEM_PAGE; p <= last; p++)
		if ((m->access[p] & acc) != acc)
			return false;
	return true;
}

void *gmem_guest_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len,
		     unsigned int acc)
{
	if (!gmem_guest_ok(m, gpa, len, acc))
		return NULL;
	return m->host_base + gpa;
}

int gmem_guest_read(const struct guest_mem *m, uint64_t gpa, void *dst,
		    size_t len)
{
	const void *src = gmem_guest_ptr(m, gpa, len, GMEM_READ);
	if (!src)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}

int gmem_guest_write(const struct guest_mem *m, uint64_t gpa,
		     const void *src, size_t len)
{
	void *dst = gmem_guest_ptr(m, gpa, len, GMEM_WRITE);
	if (!dst)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}
