// SPDX-License-Identifier: MIT
/*
 * A hostile ivshmem peer for tests/linux/linux-guest.sh: connects to
 * `pvkvm serve` as QEMU would, then does what a broken or malicious guest
 * could do to the region: garbage in its config page, a frontend list that
 * names impossible rings and vectors, an impossible req_prod on a connected
 * ring, random bytes over every ring and data page, a doorbell storm; then
 * drops the connection without a word. The daemon must survive all of it
 * and serve the next guest (the test checks that).
 *
 *   ivshmem-garbage SOCKET
 *
 * Exit 0 when every step could be done (the backend connected the ring it
 * was given, so the broken-ring step really reached a live ring), 1 if not.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "host/serve/kv.h"
#include "hypercall/pvkvm_blkif.h"
#include "hypercall/pvkvm_ivshmem.h"

static int recv_msg(int sock, int64_t *val, int *fd)
{
	uint64_t le;
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	ssize_t n = recvmsg(sock, &msg, 0);
	if (n != sizeof(le))
		return -1;
	*val = (int64_t)le64toh(le);
	*fd = -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(c), sizeof(int));
	return 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void ring(int efd)
{
	uint64_t one = 1;
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		perror("ivshmem-garbage: doorbell");
}

static void scribble(void *p, size_t n, unsigned int *seed)
{
	uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rand_r(seed);
}

static void publish_front(struct pvkvm_ivshmem_config *c, const char *text)
{
	kv_publish(&c->front, c->front_text, text, strlen(text));
}

/* The backend's state from its list, or -1. */
static int back_state(struct pvkvm_ivshmem_config *c)
{
	char buf[PVKVM_IVSHMEM_KV_TEXT];
	struct kv_list l;
	const char *why;
	int n = kv_snapshot(&c->back, c->back_text, buf);
	if (n < 0 || kv_parse(buf, (size_t)n, &l, &why) < 0)
		return -1;
	const char *s = kv_get(&l, "state");
	return s ? atoi(s) : -1;
}

static int wait_state(struct pvkvm_ivshmem_config *c, int want, int ms)
{
	for (int t = 0; t < ms / 10; t++) {
		if (back_state(c) == want)
			return 0;
		sleep_ms(10);
	}
	fprintf(stderr, "ivshmem-garbage: backend state %d, waited for %d\n",
		back_state(c), want);
	return -1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: ivshmem-garbage SOCKET\n");
		return 2;
	}
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", argv[1]);
	int sock = socket(AF_UNIX, SOCK_STREAM, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("ivshmem-garbage: connect");
		return 1;
	}
	int64_t v, my_id = -1;
	int fd, shm = -1, server_efd[PVKVM_IVSHMEM_MAX_VECTORS], nsrv = 0, nown = 0;
	if (recv_msg(sock, &v, &fd) || v != 0 || recv_msg(sock, &my_id, &fd) ||
	    recv_msg(sock, &v, &shm) || v != -1 || shm < 0) {
		fprintf(stderr, "ivshmem-garbage: bad greeting\n");
		return 1;
	}
	struct stat sb;
	fstat(shm, &sb);
	uint8_t *base = mmap(NULL, (size_t)sb.st_size, PROT_READ | PROT_WRITE,
			     MAP_SHARED, shm, 0);
	if (base == MAP_FAILED)
		return 1;
	struct pvkvm_ivshmem_dir *dir = (void *)base;
	unsigned int nv = dir->nr_vectors;
	while (nown < (int)nv && recv_msg(sock, &v, &fd) == 0) {
		if (v == my_id)
			nown++;
		else if (nsrv < (int)nv)
			server_efd[nsrv++] = fd;
	}
	if (dir->magic != PVKVM_IVSHMEM_MAGIC || nsrv != (int)nv || dir->nr_devices < 1) {
		fprintf(stderr, "ivshmem-garbage: unexpected region or eventfds\n");
		return 1;
	}
	struct pvkvm_ivshmem_dev *d = &dir->dev[0];
	struct pvkvm_ivshmem_config *c = (void *)(base + d->config_off);
	unsigned int seed = 42;
	int ok = 0;

	/* 1: garbage over the frontend half of the config page. */
	for (int i = 0; i < 20; i++) {
		scribble(&c->front, sizeof(c->front), &seed);
		scribble(c->front_text, sizeof(c->front_text), &seed);
		c->front.seq &= ~1u;
		ring(server_efd[0]);
		sleep_ms(5);
	}
	/* 2: well-formed lists naming impossible things. */
	publish_front(c, "state=1\n");
	ring(server_efd[0]);
	ok |= wait_state(c, PVKVM_XB_INITWAIT, 2000);
	publish_front(c, "ring-page-order=9\nring-ref0=0\nevent-channel=77\nstate=3\n");
	ring(server_efd[0]);
	sleep_ms(100);
	publish_front(c, "ring-ref=1\nevent-channel=1\nstate=3\n"); /* the directory page */
	ring(server_efd[0]);
	sleep_ms(100);
	/* 3: a real connection, then an impossible req_prod on it. */
	publish_front(c, "state=1\n");
	ring(server_efd[0]);
	ok |= wait_state(c, PVKVM_XB_INITWAIT, 2000);
	char text[256];
	snprintf(text, sizeof(text), "ring-page-order=0\nring-ref0=%llu\nevent-channel=%u\nstate=3\n",
		 (unsigned long long)(d->ring_off / PVKVM_PAGE_SIZE), d->vector);
	blkif_sring_init((void *)(base + d->ring_off));
	publish_front(c, text);
	ring(server_efd[0]);
	ok |= wait_state(c, PVKVM_XB_CONNECTED, 2000);
	struct pvkvm_ring_hdr *h = (void *)(base + d->ring_off);
	__atomic_store_n(&h->req_prod, 0x7fffffffu, __ATOMIC_RELEASE);
	ring(server_efd[d->vector]);
	ok |= wait_state(c, PVKVM_XB_CLOSING, 2000); /* a broken ring: Closing, with an error key */
	/* 4: random bytes everywhere we may write, and a doorbell storm. */
	scribble(base + d->ring_off, d->ring_size + d->data_size, &seed);
	scribble(base, PVKVM_PAGE_SIZE, &seed); /* the directory: never read back */
	for (int i = 0; i < 1000; i++)
		ring(server_efd[(unsigned int)i % nv]);
	sleep_ms(100);
	close(sock); /* gone, without a word */
	printf("ivshmem-garbage: %s\n", ok ? "a step did not happen" : "every step done");
	return ok ? 1 : 0;
}
