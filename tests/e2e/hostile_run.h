/* SPDX-License-Identifier: MIT */
/*
 * One pvkvm run of a hostile-guest test: its output, its exit status and
 * its peak memory, sampled from /proc while it runs (VmHWM every 2 ms,
 * then ru_maxrss), so a case that makes the VMM allocate without bound
 * fails on memory, not only on a crash. Shared by test_hostile_blk.c and
 * test_hostile_net.c; include it once, in the test's .c.
 */
#ifndef PVKVM_TEST_HOSTILE_RUN_H
#define PVKVM_TEST_HOSTILE_RUN_H

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

struct hrun {
	int status;
	long hwm_kib; /* max of VmHWM seen and ru_maxrss */
	char out[64 * 1024];
};

/* A "Key:   N kB" line of /proc/PID/status, -1 if absent. */
static long status_kib(pid_t pid, const char *key)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	long v = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = strtol(line + strlen(key), NULL, 10);
	fclose(f);
	return v;
}

static size_t hrun_drain(int fd, struct hrun *r, size_t len)
{
	ssize_t k;
	while ((k = read(fd, r->out + len, sizeof(r->out) - 1 - len)) > 0)
		len += (size_t)k;
	return len;
}

/* Runs argv (argv[0] a path) with a 60 s alarm; the caller frees. */
static struct hrun *hrun_exec(char *const argv[])
{
	struct hrun *r = calloc(1, sizeof(*r));
	int pipefd[2];
	cr_assert(r && pipe(pipefd) == 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		close(pipefd[1]);
		alarm(60);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	size_t len = 0;
	int wstatus = 0;
	struct rusage ru;
	for (;;) {
		len = hrun_drain(pipefd[0], r, len);
		long hwm = status_kib(pid, "VmHWM:");
		if (hwm > r->hwm_kib)
			r->hwm_kib = hwm;
		if (wait4(pid, &wstatus, WNOHANG, &ru) == pid)
			break;
		usleep(2000);
	}
	len = hrun_drain(pipefd[0], r, len);
	r->out[len] = '\0';
	close(pipefd[0]);
	if (ru.ru_maxrss > r->hwm_kib)
		r->hwm_kib = ru.ru_maxrss;
	r->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	return r;
}

/* How many times needle occurs in out. */
static unsigned int count_lines(const char *out, const char *needle)
{
	unsigned int n = 0;
	for (const char *p = out; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* How far above a well-behaved run's peak a hostile case may go. */
#define HRUN_SLACK_KIB (32u * 1024)

/* What every hostile case must show: exit 0, "PROG: NAME: ok", "PROG:
 * OTHER: ok" (the device it did not attack still works), broken_lines
 * "ring broken" lines, and a peak within HRUN_SLACK_KIB of base_kib. */
static void hrun_expect_survived(const struct hrun *r, const char *prog, const char *name,
				 const char *other, unsigned int broken_lines, long base_kib)
{
	char ok[96], other_ok[96];
	snprintf(ok, sizeof(ok), "%s: %s: ok", prog, name);
	snprintf(other_ok, sizeof(other_ok), "%s: %s: ok", prog, other);
	cr_assert_eq(r->status, 0, "exit %d:\n%s", r->status, r->out);
	cr_assert(strstr(r->out, ok), "%s", r->out);
	cr_assert(strstr(r->out, other_ok), "%s", r->out);
	cr_assert_eq(count_lines(r->out, "ring broken"), broken_lines, "%s", r->out);
	cr_assert_lt(r->hwm_kib, base_kib + HRUN_SLACK_KIB,
		     "peak memory %ld KiB against %ld KiB for a well-behaved run",
		     r->hwm_kib, base_kib);
}

#endif
