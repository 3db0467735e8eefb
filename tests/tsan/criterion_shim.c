// SPDX-License-Identifier: MIT
/*
 * The runner behind tests/tsan/criterion/criterion.h: one forked process per
 * test, as Criterion does, so a crash, a timeout or a TSan report (which makes
 * the process exit non-zero) fails that test alone.
 */
#include "criterion/criterion.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define SKIP_EXIT 99

static struct crs_test *tests, **tests_tail = &tests;
static struct crs_suite *suites;
static bool expect_failed;
static const struct crs_test *current;

/* Appends, so tests run in the order the file declares them. */
void crs_register_test(struct crs_test *t)
{
	t->next = NULL;
	*tests_tail = t;
	tests_tail = &t->next;
}

void crs_register_suite(struct crs_suite *s)
{
	s->next = suites;
	suites = s;
}

void crs_fail(bool fatal, const char *file, int line, const char *what,
	      const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "[----] %s:%d: Assertion failed: %s", file, line, what);
	if (fmt[0]) {
		fputs(": ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
	expect_failed = true;
	if (fatal)
		_exit(1);
}

void crs_skip(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "[SKIP] %s::%s: ", current->suite, current->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(SKIP_EXIT);
}

static const struct crs_suite *suite_of(const struct crs_test *t)
{
	for (const struct crs_suite *s = suites; s; s = s->next)
		if (strcmp(s->name, t->suite) == 0)
			return s;
	return NULL;
}

static void run_in_child(const struct crs_test *t, const struct crs_suite *s)
{
	double timeout = t->timeout > 0 ? t->timeout : (s ? s->timeout : 0);

	current = t;
	if (timeout > 0)
		alarm((unsigned int)(timeout + 0.999));
	if (s && s->init)
		s->init();
	if (t->init)
		t->init();
	t->fn();
	if (t->fini)
		t->fini();
	if (s && s->fini)
		s->fini();
	exit(expect_failed ? 1 : 0);
}

enum outcome { PASSED, FAILED, CRASHED, SKIPPED };

static enum outcome run_test(const struct crs_test *t)
{
	const struct crs_suite *s = suite_of(t);
	int status;

	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return CRASHED;
	}
	if (pid == 0)
		run_in_child(t, s);
	if (waitpid(pid, &status, 0) < 0)
		return CRASHED;
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "[FAIL] %s::%s: CRASH (signal %d%s)\n", t->suite,
			t->name, WTERMSIG(status),
			WTERMSIG(status) == SIGALRM ? ", timed out" : "");
		return CRASHED;
	}
	if (WEXITSTATUS(status) == SKIP_EXIT)
		return SKIPPED;
	if (WEXITSTATUS(status) != 0) {
		fprintf(stderr, "[FAIL] %s::%s (exit %d)\n", t->suite, t->name,
			WEXITSTATUS(status));
		return FAILED;
	}
	return PASSED;
}

int main(void)
{
	unsigned int count[4] = {0};

	for (const struct crs_test *t = tests; t; t = t->next) {
		if (t->disabled)
			continue;
		count[run_test(t)]++;
	}
	unsigned int tested = count[PASSED] + count[FAILED] + count[CRASHED];
	printf("[====] Synthesis: Tested: %u | Passing: %u | Failing: %u | Crashing: %u\n",
	       tested, count[PASSED], count[FAILED], count[CRASHED]);
	return count[FAILED] + count[CRASHED] ? 1 : 0;
}
