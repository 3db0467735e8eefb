/* SPDX-License-Identifier: MIT */
/*
 * The server side of QEMU's ivshmem client-server protocol (QEMU's
 * docs/specs/ivshmem-spec.rst): one-way messages of one little-endian
 * int64, each with at most one file descriptor (SCM_RIGHTS).
 *
 * On connect: the protocol version (0); the client's peer id; -1 with the
 * shared memory fd; for every other peer, its id once per vector, each with
 * the eventfd that interrupts that peer on that vector; last the client's
 * own id once per vector, each with the eventfd it is interrupted through.
 */
#ifndef PVKVM_SERVE_IVSHMEM_PROTO_H
#define PVKVM_SERVE_IVSHMEM_PROTO_H

#include <stdint.h>

#define IVSHMEM_PROTOCOL_VERSION 0

/* One message; fd < 0 sends none. 0 or -errno. */
int ivshmem_send(int sock, int64_t value, int fd);

/*
 * The whole greeting for a client that has one peer, the server: the
 * server's eventfds (server_efd[0..n), the doorbell targets) and the
 * client's own (client_efd[0..n), its MSI-X vectors). 0 or -errno.
 */
int ivshmem_greet(int sock, int64_t client_id, int shm_fd, int64_t server_id,
		  const int *server_efd, const int *client_efd, unsigned int n);

#endif
