// SPDX-License-Identifier: MIT
/*
 * `pvkvm serve --socket PATH --disk ...`: an ivshmem server that serves one
 * guest at a time, each on a fresh region (session.c), and goes on serving
 * when a guest leaves, however it leaves.
 */
#include "host/serve/serve.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "host/core/vm.h"
#include "host/serve/session.h"
#include "host/util/cli.h"

static int opt_socket(void *st, const char *arg)
{
	((struct serve_config *)st)->socket_path = arg;
	return 0;
}

static int opt_disk(void *st, const char *arg)
{
	struct serve_config *c = st;
	char err[512];
	if (c->nr_disks == DISK_MAX) {
		fprintf(stderr, "pvkvm serve: at most %u disks\n", DISK_MAX);
		return -1;
	}
	struct disk_opt *o = &c->disk[c->nr_disks];
	if (disk_opt_parse(arg, o, err, sizeof(err))) {
		fprintf(stderr, "pvkvm serve: %s\n", err);
		return -1;
	}
	if (o->mode != DISK_MODE_PV) {
		fprintf(stderr, "pvkvm serve: --disk %s: only mode=pv is served\n", arg);
		return -1;
	}
	c->nr_disks++;
	return 0;
}

static int opt_net(void *st, const char *arg)
{
	struct serve_config *c = st;
	char err[512];
	if (c->nr_nets == NET_MAX) {
		fprintf(stderr, "pvkvm serve: at most %u NICs\n", NET_MAX);
		return -1;
	}
	struct net_opt *o = &c->net[c->nr_nets];
	if (net_opt_parse(arg, o, err, sizeof(err))) {
		fprintf(stderr, "pvkvm serve: %s\n", err);
		return -1;
	}
	if (o->mode != NET_MODE_PV || o->queues != 1) {
		fprintf(stderr, "pvkvm serve: --net %s: only mode=pv with one queue is served\n", arg);
		return -1;
	}
	c->nr_nets++;
	return 0;
}

static int opt_stats(void *st, const char *arg)
{
	(void)arg;
	((struct serve_config *)st)->stats = true;
	return 0;
}

static int opt_sessions(void *st, const char *arg)
{
	uint64_t n;
	if (cli_parse_uint("--sessions", arg, 1, 1000000, &n))
		return -1;
	((struct serve_config *)st)->max_sessions = (unsigned int)n;
	return 0;
}

static const struct cli_option serve_options[] = {
	{"socket", 's', "PATH", "the UNIX socket QEMU's ivshmem-doorbell chardev connects to (required)", opt_socket},
	{"disk", 0, "PATH[,ro][,direct=on|off][,poll_us=N]", "serve a raw disk image as PV disk blk<n> (repeatable, n from 0)", opt_disk},
	{"net", 0, "tap=NAME|switch=NAME[,mac=XX:XX:XX:XX:XX:XX]", "serve a PV NIC net<n> on a TAP or a built-in switch port (repeatable, n from 0)", opt_net},
	{"stats", 0, NULL, "print each device's counters to stderr when its guest leaves", opt_stats},
	{"sessions", 0, "N", "exit after N guests have come and gone (default: serve until SIGINT/SIGTERM)", opt_sessions},
	{NULL, 0, NULL, NULL, NULL},
};

static const char serve_usage[] =
	"usage: pvkvm serve --socket PATH [--disk IMAGE]... [--net tap=NAME]... [options]\n"
	"\n"
	"Serves pvkvm's PV devices to a Linux guest under a stock QEMU, through\n"
	"QEMU's ivshmem-doorbell device, one guest at a time:\n"
	"  qemu-system-x86_64 ... -chardev socket,path=PATH,id=pv \\\n"
	"      -device ivshmem-doorbell,chardev=pv,vectors=N\n"
	"with N at least 1 + the number of disks and NICs. In the guest, insmod\n"
	"pvbus.ko, pvblk.ko and pvnet.ko (docs/linux-guests.md). A guest that leaves, crashes or\n"
	"writes garbage into the region is logged in one line; the next one is\n"
	"served on a fresh region.\n";

/* A stale socket of a daemon that died is removed; a live one is not. */
static int listen_on(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "pvkvm serve: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("pvkvm serve: socket");
		return -1;
	}
	struct stat sb;
	if (lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode)) {
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			fprintf(stderr, "pvkvm serve: %s is served by another daemon\n", path);
			close(fd);
			return -1;
		}
		unlink(path);
	}
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4) < 0) {
		fprintf(stderr, "pvkvm serve: %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int stop_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	/* Blocked here, before any backend thread exists: they inherit it. */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int serve_loop(const struct serve_config *cfg, int lfd, int sfd)
{
	uint32_t served = 0;
	for (;;) {
		struct pollfd fds[2] = { { .fd = lfd, .events = POLLIN },
					 { .fd = sfd, .events = POLLIN } };
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("pvkvm serve: poll");
			return PVKVM_EXIT_VMM_ERROR;
		}
		if (fds[1].revents)
			return 0;
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		enum session_end end = session_run(cfg, c, lfd, sfd, ++served);
		close(c);
		if (end == SESSION_STOP)
			return 0;
		if (cfg->max_sessions && served >= cfg->max_sessions)
			return 0;
	}
}

int serve_main(int argc, char **argv)
{
	struct serve_config *cfg = calloc(1, sizeof(*cfg));
	int npos;
	if (!cfg)
		return PVKVM_EXIT_VMM_ERROR;
	int r = cli_parse(argc, argv, serve_options, cfg, serve_usage, &npos);
	if (r) {
		free(cfg);
		return r > 0 ? 0 : PVKVM_EXIT_USAGE;
	}
	if (npos) {
		if (npos)
			fprintf(stderr, "pvkvm serve: unexpected argument '%s'\n", argv[1]);
		free(cfg);
		return r > 0 ? 0 : PVKVM_EXIT_USAGE;
	}
	if (!cfg->socket_path || cfg->nr_disks + cfg->nr_nets == 0) {
		fprintf(stderr, "pvkvm serve: needs --socket PATH and a --disk or --net (try --help)\n");
		free(cfg);
		return PVKVM_EXIT_USAGE;
	}
	int sfd = stop_signals();
	int lfd = sfd < 0 ? -1 : listen_on(cfg->socket_path);
	if (lfd < 0) {
		free(cfg);
		return PVKVM_EXIT_VMM_ERROR;
	}
	fprintf(stderr, "pvkvm serve: listening on %s, %u disk(s), %u NIC(s); QEMU needs vectors=%u\n",
		cfg->socket_path, cfg->nr_disks, cfg->nr_nets,
		1 + cfg->nr_disks + cfg->nr_nets);
	int status = serve_loop(cfg, lfd, sfd);
	close(lfd);
	unlink(cfg->socket_path);
	close(sfd);
	free(cfg);
	return status;
}
