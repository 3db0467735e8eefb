// SPDX-License-Identifier: MIT
/* The frontend cores' ops pvkern's PV drivers share: see front_ops.h. */
#include "front_ops.h"

#include "gnttab.h"
#include "mm.h"

int front_op_grant(void *ctx, uint64_t frame, bool readonly)
{
	(void)ctx;
	return gnttab_grant(frame, readonly);
}

int front_op_ungrant(void *ctx, uint32_t ref)
{
	(void)ctx;
	return gnttab_end_access(ref);
}

void *front_op_alloc_pages(void *ctx, size_t n)
{
	(void)ctx;
	return page_alloc(n);
}

uint64_t front_op_virt_to_frame(void *ctx, const void *va)
{
	(void)ctx;
	return gpa_to_frame(va);
}
