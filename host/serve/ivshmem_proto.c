// SPDX-License-Identifier: MIT
/*
 * ivshmem protocol messages. See ivshmem_proto.h.
 */
#include "host/serve/ivshmem_proto.h"

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

int ivshmem_send(int sock, int64_t value, int fd)
{
	uint64_t le = htole64((uint64_t)value);
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	ssize_t n;
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(le) ? 0 : -EIO;
}

int ivshmem_greet(int sock, int64_t client_id, int shm_fd, int64_t server_id,
		  const int *server_efd, const int *client_efd, unsigned int n)
{
	int rc = ivshmem_send(sock, IVSHMEM_PROTOCOL_VERSION, -1);
	if (!rc)
		rc = ivshmem_send(sock, client_id, -1);
	if (!rc)
		rc = ivshmem_send(sock, -1, shm_fd);
	for (unsigned int v = 0; v < n && !rc; v++)
		rc = ivshmem_send(sock, server_id, server_efd[v]);
	for (unsigned int v = 0; v < n && !rc; v++)
		rc = ivshmem_send(sock, client_id, client_efd[v]);
	return rc;
}
