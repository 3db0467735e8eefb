/* SPDX-License-Identifier: MIT */
/*
 * Console output through PVKVM_HC_CONSOLE_WRITE, one hypercall per line:
 * exits are the expensive thing here, and whole lines keep the output of
 * two vCPUs from interleaving mid-line.
 *
 * Formats: %d %i %u %x %X %p %s %c %% with l/ll/z length modifiers, a field
 * width and the '0' and '-' flags.
 */
#ifndef PVKERN_CONSOLE_H
#define PVKERN_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>

#include "klib.h"

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
/* Like C's: always terminates, returns the length it wanted. */
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
/* Writes a partial line out now (printf already does at each '\n'). */
void console_flush(void);

/* Reports msg through PVKVM_HC_CRASH: the VMM prints it and exits non-zero. */
NORETURN void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* PVKVM_HC_SHUTDOWN with status, after flushing the console. */
NORETURN void shutdown(int status);

#endif
