/* SPDX-License-Identifier: MIT */
/* TAP-like check lines shared by selftest and hostile:
 *   ok N - name            not ok N - name: detail        ok N - name # SKIP why */
#ifndef PVKERN_TAP_H
#define PVKERN_TAP_H

#include <stdbool.h>

struct tap {
	const char *prog;
	int n, passed, failed;
};

void tap_begin(struct tap *t, const char *prog);
/* detail is a printf format, printed only on failure. Returns ok. */
bool tap_check(struct tap *t, bool ok, const char *name, const char *detail, ...)
	__attribute__((format(printf, 4, 5)));
void tap_skip(struct tap *t, const char *name, const char *why);
/* Prints "<prog>: N passed, N failed"; returns the exit status. */
int tap_end(struct tap *t);

#endif
