/* SPDX-License-Identifier: MIT */
/*
 * Set-up code reports what went wrong as one line for the user, written into
 * a caller's buffer (err, errlen) while the error code goes up the stack: the
 * caller decides where the line is printed and with what prefix.
 */
#ifndef PVKVM_ERRMSG_H
#define PVKVM_ERRMSG_H

#include <stddef.h>

/* Formats the message into err (if err and errlen) and returns ret. */
__attribute__((format(printf, 4, 5)))
int errmsg(int ret, char *err, size_t errlen, const char *fmt, ...);

#endif
