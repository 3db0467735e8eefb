// SPDX-License-Identifier: MIT
/*
 * `pvkvm bench linux`: runs scripts/bench-linux.sh of the source tree this
 * pvkvm was built in (build/pvkvm -> ../scripts/). The benchmark drives
 * QEMU, a kernel build and an initramfs, which is a shell's job; this entry
 * point only finds it and hands over the arguments.
 */
#include "host/serve/serve.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/core/vm.h"

/* Kept here as well as in the script, so an installed pvkvm (no source
 * tree) still answers --help and its manual page says the same. */
static const char bench_linux_help[] =
	"usage: pvkvm bench linux [--out DIR] [--rounds N] [--seconds S] [--net-seconds S]\n"
	"                         [--only blk|net] [--quick]\n"
	"\n"
	"Block I/O and UDP inside one Linux guest under QEMU TCG, on three disks\n"
	"and three NICs of the same guest in the same run. Disks: pvblk (served\n"
	"by `pvkvm serve` through ivshmem), QEMU's virtio-blk and QEMU's emulated\n"
	"IDE, each a raw image on the same host file system, opened O_DIRECT by\n"
	"its backend; the load is tests/linux/blkbench.c (O_DIRECT + libaio): 4 KiB\n"
	"random read at QD1 and QD32, 4 KiB random write at QD32, 1 MiB sequential\n"
	"read at QD4. NICs: pvnet (the same daemon, --net tap=), QEMU's virtio-net\n"
	"and QEMU's e1000, each on its own TAP in one network namespace the run\n"
	"creates and removes; the load is tests/linux/netbench.c: 64- and\n"
	"1400-byte UDP datagrams blasted with sendmmsg, guest to host and host to\n"
	"guest (packets/s at 64 bytes, Mbit/s at 1400). Rounds interleave the\n"
	"devices test by test; the tables give medians and spreads. Under TCG the\n"
	"figures compare device paths, not hardware virtualization. Runs\n"
	"scripts/bench-linux.sh of the source tree pvkvm was built in.\n"
	"\n"
	"options:\n"
	"  --out DIR         write DIR/linux.txt, DIR/linux.json and summary rows (default build/bench)\n"
	"  --rounds N        rounds (default 3)\n"
	"  --seconds S       seconds per disk test (default 3)\n"
	"  --net-seconds S   seconds per NIC test and direction (default 3)\n"
	"  --only blk|net    only the disks or only the NICs\n"
	"  --quick           1 round, 2 s per disk and 1 s per NIC test: for CI, not for figures\n";

int serve_bench_linux_main(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(bench_linux_help, stdout);
		return 0;
	}
	char exe[PATH_MAX], script[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0) {
		perror("pvkvm bench linux: /proc/self/exe");
		return PVKVM_EXIT_VMM_ERROR;
	}
	exe[n] = '\0';
	snprintf(script, sizeof(script), "%s/../scripts/bench-linux.sh", dirname(exe));
	if (access(script, X_OK) != 0) {
		fprintf(stderr, "pvkvm bench linux: needs the source tree's scripts/bench-linux.sh (%s: %s)\n",
			script, strerror(errno));
		return PVKVM_EXIT_VMM_ERROR;
	}
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	if (!args)
		return PVKVM_EXIT_VMM_ERROR;
	args[0] = script;
	for (int i = 1; i < argc; i++)
		args[i] = argv[i];
	execv(script, args);
	fprintf(stderr, "pvkvm bench linux: %s: %s\n", script, strerror(errno));
	free(args);
	return PVKVM_EXIT_VMM_ERROR;
}
