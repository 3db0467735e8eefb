// SPDX-License-Identifier: MIT
/* Store hypercalls (skeleton: implementation follows). */
#include "host/store.h"

int store_register_hypercalls(struct vm *vm) { (void)vm; return 0; }
