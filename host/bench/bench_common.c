// SPDX-License-Identifier: MIT
/* What every `pvkvm bench` subcommand needs: see bench.h. */
#include "host/bench/bench.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Next to the binary in a build tree (build/pvkvm, build/guest/), or in
 * share/ beside bin/ once installed (make install). */
int bench_default_guest(char *buf, size_t len)
{
	static const char *const places[] = {
		"%s/guest/pvkern.elf",
		"%s/../share/pvkvm/pvkern.elf",
	};
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		if (snprintf(buf, len, places[i], self) >= (int)len)
			return -1;
		if (access(buf, R_OK) == 0)
			return 0;
	}
	/* Neither exists: name the build-tree place in the error. */
	return snprintf(buf, len, places[0], self) < (int)len ? 0 : -1;
}

void bench_lines_feed(struct bench_lines *l, const char *buf, size_t len,
		      bench_line_fn take, void *ctx)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n') {
			if (l->len < BENCH_LINE_MAX - 1)
				l->line[l->len++] = buf[i];
			continue;
		}
		l->line[l->len] = '\0';
		take(ctx, l->line);
		l->len = 0;
	}
}
