// SPDX-License-Identifier: MIT
/*
 * udpx: one UDP datagram out, or the first one in, for the Linux-guest
 * test (built static, so the same binary runs in the guest's busybox
 * initramfs and in the host's test namespace).
 *
 *   udpx send ADDR PORT MESSAGE      exit 0 when sent
 *   udpx recv PORT SECONDS           prints the first datagram; 1 on timeout
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	if (fd < 0)
		return 1;
	if (argc == 5 && strcmp(argv[1], "send") == 0) {
		a.sin_port = htons((uint16_t)atoi(argv[3]));
		if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1)
			return 2;
		return sendto(fd, argv[4], strlen(argv[4]), 0, (struct sockaddr *)&a,
			      sizeof(a)) < 0;
	}
	if (argc == 4 && strcmp(argv[1], "recv") == 0) {
		char buf[2048];
		a.sin_port = htons((uint16_t)atoi(argv[2]));
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			return 1;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, atoi(argv[3]) * 1000) != 1)
			return 1;
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			return 1;
		buf[n] = '\0';
		printf("%s\n", buf);
		return 0;
	}
	fprintf(stderr, "usage: udpx send ADDR PORT MESSAGE | udpx recv PORT SECONDS\n");
	return 2;
}
