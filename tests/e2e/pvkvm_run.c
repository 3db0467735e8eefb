// SPDX-License-Identifier: MIT
#include "pvkvm_run.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void require_platform(void)
{
	if (access("/dev/kvm", R_OK | W_OK))
		cr_skip_test("no usable /dev/kvm: %s", strerror(errno));
	if (access(PVKVM, X_OK))
		cr_skip_test(PVKVM " is not built");
	if (access(PVKERN, R_OK))
		cr_skip_test(PVKERN " is not built");
}

bool e2e_cpuid_hidden(void)
{
	const char *e = getenv("PVKVM_HIDE_CPUID");

	return e && strcmp(e, "1") == 0;
}

bool json_file_u64(const char *path, const char *key, unsigned long long *out)
{
	char buf[64 * 1024], pat[128];
	FILE *f = fopen(path, "r");
	size_t n;
	const char *p;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(buf, pat);
	return p && sscanf(p + strlen(pat), " %llu", out) == 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void child_exec(int out_fd, char *const argv[], unsigned int limit_s)
{
	dup2(out_fd, STDOUT_FILENO);
	dup2(out_fd, STDERR_FILENO);
	close(out_fd);
	/* SIGALRM survives exec: a hung VMM dies with its test. */
	alarm(limit_s);
	execv(argv[0], argv);
	_exit(127);
}

static void collect(int fd, struct run *r)
{
	size_t len = 0;
	ssize_t n;

	while ((n = read(fd, r->out + len, sizeof(r->out) - 1 - len)) > 0)
		len += (size_t)n;
	r->out[len] = '\0';
}

struct run *run_argv(char *const argv[], unsigned int limit_s)
{
	struct run *r = calloc(1, sizeof(*r));
	int pipefd[2], wstatus;
	double t0 = now_s();
	pid_t pid;

	cr_assert(r && pipe(pipefd) == 0);
	pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(pipefd[0]);
		child_exec(pipefd[1], argv, limit_s);
	}
	close(pipefd[1]);
	collect(pipefd[0], r);
	close(pipefd[0]);
	cr_assert(waitpid(pid, &wstatus, 0) == pid);
	r->secs = now_s() - t0;
	r->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus)
				       : 128 + WTERMSIG(wstatus);
	return r;
}
