// SPDX-License-Identifier: MIT
/* What every `pvkvm bench` subcommand needs: see bench.h. */
#include "host/bench/bench.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int bench_default_guest(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return snprintf(buf, len, "%s/guest/pvkern.elf", self) < (int)len ? 0 : -1;
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
