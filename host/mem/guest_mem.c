// SPDX-License-Identifier: MIT
/*
 * Guest RAM: one memfd, mapped shared, so another process (an ivshmem peer,
 * a debugger) can map the very same pages.
 */
#include "host/mem/guest_mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int gmem_create(struct guest_mem *m, uint64_t size)
{
	memset(m, 0, sizeof(*m));
	m->memfd = -1;
	if (size == 0 || size > (1ull << 46))
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
