/* SPDX-License-Identifier: MIT */
/*
 * A blkback on the fake VM (fake_vm.h) serving the image at path: the
 * start the blkback unit tests and the block fault tests share. cfg NULL:
 * blkback_config_default().
 */
#ifndef PVKVM_TEST_FAKE_BLKBACK_H
#define PVKVM_TEST_FAKE_BLKBACK_H

#include <stdlib.h>

#include "host/block/blk_image.h"
#include "host/block/blkback.h"
#include "fake_vm.h"

static inline struct device *fake_blkback_start(const char *path, bool read_only,
						const struct blkback_config *cfg)
{
	struct blk_image *img = malloc(sizeof(*img));
	cr_assert_not_null(img);
	cr_assert_eq(blk_image_open(img, path, read_only, true), 0);
	struct blkback_config def;
	blkback_config_default(&def, 0);
	struct device *d = blkback_create(img, cfg ? cfg : &def);
	cr_assert_not_null(d);
	cr_assert_eq(d->start(d, &vm), 0);
	return d;
}

#endif
