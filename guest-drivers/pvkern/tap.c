// SPDX-License-Identifier: MIT
#include "tap.h"

#include "console.h"

void tap_begin(struct tap *t, const char *prog)
{
	*t = (struct tap){ .prog = prog };
}

bool tap_check(struct tap *t, bool ok, const char *name, const char *detail, ...)
{
	char why[192];
	va_list ap;

	t->n++;
	if (ok) {
		t->passed++;
		printf("ok %d - %s\n", t->n, name);
		return true;
	}
	t->failed++;
	va_start(ap, detail);
	vsnprintf(why, sizeof(why), detail, ap);
	va_end(ap);
	printf("not ok %d - %s: %s\n", t->n, name, why);
	return false;
}

void tap_skip(struct tap *t, const char *name, const char *why)
{
	t->n++;
	t->passed++;
	printf("ok %d - %s # SKIP %s\n", t->n, name, why);
}

int tap_end(struct tap *t)
{
	printf("%s: %d passed, %d failed\n", t->prog, t->passed, t->failed);
	return t->failed ? 1 : 0;
}
