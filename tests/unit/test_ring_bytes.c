/* SPDX-License-Identifier: MIT */
/*
 * Tests of ring/pvkvm_bytering.h: wrap-around of the buffer and of the
 * 32-bit indices, full/empty, clamping of impossible indices from a hostile
 * peer (buffers are allocated to their exact size, so the ASan build catches
 * any access outside them), the console page, and a two-thread stream.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring/pvkvm_bytering.h"

/* ---------------------------------------------- two-thread byte stream */

#define STREAM_BYTES (64u << 20)
#define STREAM_SIZE 256u

struct stream {
	struct pvkvm_bytes_idx idx;
	uint8_t *buf;
	_Atomic int bad; /* 1 + offset of the first wrong byte, or 0 */
};

static uint8_t stream_byte(uint32_t i)
{
	return (uint8_t)(i * 31u + (i >> 8));
}

/* Busy-polling is enough here: the byte ring has no event indices. */
static void *stream_writer(void *arg)
{
	struct stream *st = arg;
	uint8_t chunk[97];
	uint32_t done = 0;

	while (done < STREAM_BYTES) {
		uint32_t n = STREAM_BYTES - done < sizeof(chunk) ? STREAM_BYTES - done
								: (uint32_t)sizeof(chunk);
		for (uint32_t i = 0; i < n; i++)
			chunk[i] = stream_byte(done + i);
		/* odd chunk sizes so every wrap offset is met */
		done += pvkvm_bytes_write(&st->idx, st->buf, STREAM_SIZE, chunk, n);
	}
	return NULL;
}

static void *stream_reader(void *arg)
{
	struct stream *st = arg;
	uint8_t chunk[61];
	uint32_t done = 0;

	while (done < STREAM_BYTES && !atomic_load(&st->bad)) {
		uint32_t n = pvkvm_bytes_read(&st->idx, st->buf, STREAM_SIZE, chunk,
					      sizeof(chunk));
		for (uint32_t i = 0; i < n; i++)
			if (chunk[i] != stream_byte(done + i))
				atomic_store(&st->bad, (int)(done + i) + 1);
		done += n;
	}
	return NULL;
}

/* Returns 0 or 1 + the offset of the first corrupt byte. */
static int stream_run(void)
{
	struct stream st = { .idx = { .cons = UINT32_MAX - 1000, .prod = UINT32_MAX - 1000 } };
	pthread_t w, r;
	int bad;

	st.buf = malloc(STREAM_SIZE);
	if (!st.buf)
		return -1;
	pthread_create(&r, NULL, stream_reader, &st);
	pthread_create(&w, NULL, stream_writer, &st);
	pthread_join(w, NULL);
	pthread_join(r, NULL);
	bad = atomic_load(&st.bad);
	if (!bad && st.idx.cons != (uint32_t)(UINT32_MAX - 1000 + STREAM_BYTES))
		bad = -2;
	free(st.buf);
	return bad;
}

#include <criterion/criterion.h>

Test(bytering_stream, two_threads_64MiB_through_256_bytes, .timeout = 120)
{
	cr_assert_eq(stream_run(), 0, "first corrupt byte at offset + 1");
}

/* ------------------------------------------------------ single-threaded */

static uint8_t *exact(uint32_t size)
{
	uint8_t *b = malloc(size);

	cr_assert(b);
	memset(b, 0, size);
	return b;
}

Test(bytering, write_then_read)
{
	struct pvkvm_bytes_idx idx = { 0, 0 };
	uint8_t *buf = exact(16);
	char out[16];

	cr_assert_eq(pvkvm_bytes_write(&idx, buf, 16, "hello", 5), 5);
	cr_assert_eq(pvkvm_bytes_avail(&idx, 16), 5);
	cr_assert_eq(pvkvm_bytes_space(&idx, 16), 11);
	cr_assert_eq(pvkvm_bytes_read(&idx, buf, 16, out, sizeof(out)), 5);
	cr_assert_arr_eq(out, "hello", 5);
	cr_assert_eq(pvkvm_bytes_avail(&idx, 16), 0);
	free(buf);
}

Test(bytering, empty_and_full)
{
	struct pvkvm_bytes_idx idx = { 7, 7 };
	uint8_t *buf = exact(8);
	char out[20];

	cr_assert_eq(pvkvm_bytes_read(&idx, buf, 8, out, sizeof(out)), 0);
	cr_assert_eq(pvkvm_bytes_write(&idx, buf, 8, "0123456789", 10), 8, "clipped to space");
	cr_assert_eq(pvkvm_bytes_write(&idx, buf, 8, "x", 1), 0, "full");
	cr_assert_eq(pvkvm_bytes_read(&idx, buf, 8, out, 3), 3);
	cr_assert_arr_eq(out, "012", 3);
	cr_assert_eq(pvkvm_bytes_write(&idx, buf, 8, "89a", 3), 3);
	cr_assert_eq(pvkvm_bytes_read(&idx, buf, 8, out, sizeof(out)), 8);
	cr_assert_arr_eq(out, "3456789a", 8);
	free(buf);
}

Test(bytering, copy_wraps_around_buffer_end)
{
	/* indices 3 bytes before the end of the buffer */
	struct pvkvm_bytes_idx idx = { 13, 13 };
	uint8_t *buf = exact(16);
	char out[8];

	cr_assert_eq(pvkvm_bytes_write(&idx, buf, 16, "abcdefg", 7), 7);
	cr_assert_arr_eq(buf + 13, "abc", 3);
	cr_assert_arr_eq(buf, "defg", 4);
	cr_assert_eq(pvkvm_bytes_read(&idx, buf, 16, out, 7), 7);
	cr_assert_arr_eq(out, "abcdefg", 7);
	free(buf);
}

Test(bytering, indices_wrap_at_2_32)
{
	struct pvkvm_bytes_idx idx = { UINT32_MAX - 2, UINT32_MAX - 2 };
	uint8_t *buf = exact(16);
	char out[16];

	cr_assert_eq(pvkvm_bytes_write(&idx, buf, 16, "0123456789", 10), 10);
	cr_assert_eq(idx.prod, 7u);
	cr_assert_eq(pvkvm_bytes_avail(&idx, 16), 10);
	cr_assert_eq(pvkvm_bytes_space(&idx, 16), 6);
	cr_assert_eq(pvkvm_bytes_read(&idx, buf, 16, out, 16), 10);
	cr_assert_arr_eq(out, "0123456789", 10);
	cr_assert_eq(idx.cons, 7u);
	free(buf);
}

Test(bytering, reader_clamps_impossible_producer)
{
	struct pvkvm_bytes_idx idx = { 5, 5 + 5000 }; /* 5000 "bytes" in 1024 */
	uint8_t *buf = exact(1024);
	uint8_t *out = malloc(8192);

	cr_assert_eq(pvkvm_bytes_avail(&idx, 1024), 1024);
	cr_assert_eq(pvkvm_bytes_read(&idx, buf, 1024, out, 8192), 1024,
		     "never more than one buffer");
	idx.prod = idx.cons - 1; /* producer "behind" the consumer */
	cr_assert_eq(pvkvm_bytes_read(&idx, buf, 1024, out, 8192), 1024);
	free(out);
	free(buf);
}

Test(bytering, writer_clamps_impossible_consumer)
{
	struct pvkvm_bytes_idx idx = { 100, 50 }; /* reader "ahead" of writer */
	uint8_t *buf = exact(64);

	cr_assert_eq(pvkvm_bytes_space(&idx, 64), 0);
	cr_assert_eq(pvkvm_bytes_write(&idx, buf, 64, "x", 1), 0);
	cr_assert_eq(idx.prod, 50u);
	free(buf);
}

Test(bytering, size_must_be_a_power_of_two)
{
	struct pvkvm_bytes_idx idx = { 0, 0 };
	uint8_t buf[24];

	cr_assert_eq(pvkvm_bytes_write(&idx, buf, 24, "abc", 3), 0);
	cr_assert_eq(pvkvm_bytes_write(&idx, buf, 0, "abc", 3), 0);
	cr_assert_eq(pvkvm_bytes_read(&idx, buf, 24, buf, 3), 0);
}

Test(bytering, console_page_layout)
{
	cr_assert_eq(offsetof(struct pvkvm_console_page, in), 0);
	cr_assert_eq(offsetof(struct pvkvm_console_page, out), 1024);
	cr_assert_eq(offsetof(struct pvkvm_console_page, in_idx), 3072);
	cr_assert_eq(offsetof(struct pvkvm_console_page, out_idx), 3136);
	cr_assert_eq(sizeof(struct pvkvm_console_page), 3200);
}

Test(bytering, console_put_and_host_reads)
{
	struct pvkvm_console_page *c = calloc(1, sizeof(*c));
	char out[3000];
	uint32_t total = 0, n;

	cr_assert(c);
	c->out_idx.cons = c->out_idx.prod = 2040;
	cr_assert_eq(pvkvm_console_put(c, "guest says hi\n", 14), 14);
	cr_assert_eq(pvkvm_bytes_read(&c->out_idx, c->out, PVKVM_CONSOLE_OUT_SIZE, out,
				      sizeof(out)), 14);
	cr_assert_arr_eq(out, "guest says hi\n", 14);
	/* keyboard input the other way; more than fits */
	memset(out, 'k', sizeof(out));
	cr_assert_eq(pvkvm_bytes_write(&c->in_idx, c->in, PVKVM_CONSOLE_IN_SIZE, out, 3000),
		     1024);
	while ((n = pvkvm_console_get(c, out, 100)) > 0)
		total += n;
	cr_assert_eq(total, 1024);
	free(c);
}
