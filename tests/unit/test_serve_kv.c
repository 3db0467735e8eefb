// SPDX-License-Identifier: MIT
/* The config key lists of `pvkvm serve` (host/serve/kv.c): what is accepted
 * from a guest, what is refused whole, and the sequence-count protocol. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "host/serve/kv.h"
#include "hypercall/pvkvm_ivshmem.h"

static int parse(const char *text, struct kv_list *l, const char **why)
{
	return kv_parse(text, strlen(text), l, why);
}

Test(serve_kv, parses_a_frontend_list)
{
	struct kv_list l;
	const char *why = NULL;
	cr_assert_eq(parse("ring-page-order=0\nring-ref0=18\n\nevent-channel=1\nstate=3\n",
			   &l, &why), 0, "%s", why);
	cr_assert_eq(l.n, 4);
	cr_assert_str_eq(kv_get(&l, "ring-ref0"), "18");
	cr_assert_str_eq(kv_get(&l, "state"), "3");
	cr_assert_null(kv_get(&l, "ring-ref"));
	cr_assert_eq(parse("", &l, &why), 0);
	cr_assert_eq(l.n, 0);
}

Test(serve_kv, refuses_bad_lists_whole)
{
	static const char *const bad[] = {
		"state=3",              /* no final newline */
		"state\n",              /* no '=' */
		"State=3\n",            /* upper case key */
		"=3\n",                 /* empty key */
		"a/b=3\n",              /* '/' in a key: no escaping the dir */
		"state=3\nstate=4\n",   /* repeated */
		"k=\x01\n",             /* control character */
		"k=\xff\n",             /* not ASCII */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct kv_list l;
		const char *why = NULL;
		cr_assert_eq(parse(bad[i], &l, &why), -1, "accepted list %zu", i);
		cr_assert_not_null(why);
	}
	char longkey[80], longval[300];
	memset(longkey, 'a', 64);
	strcpy(longkey + 64, "=1\n");
	memset(longval, 'v', 256);
	memcpy(longval, "k=", 2);
	strcpy(longval + 258, "\n");
	struct kv_list l;
	const char *why;
	cr_assert_eq(parse(longkey, &l, &why), -1, "64-byte key accepted");
	cr_assert_eq(parse(longval, &l, &why), -1, "256-byte value accepted");
}

Test(serve_kv, too_many_keys)
{
	char text[PVKVM_IVSHMEM_KV_TEXT];
	size_t len = 0;
	for (int i = 0; i <= KV_MAX_PAIRS; i++) {
		char k[16];
		snprintf(k, sizeof(k), "k%d", i);
		cr_assert(kv_append(text, sizeof(text), &len, k, "1"));
	}
	struct kv_list l;
	const char *why;
	cr_assert_eq(kv_parse(text, len, &l, &why), -1);
}

Test(serve_kv, publish_then_snapshot)
{
	static struct pvkvm_ivshmem_config c;
	char buf[PVKVM_IVSHMEM_KV_TEXT], out[PVKVM_IVSHMEM_KV_TEXT];
	size_t len = 0;
	cr_assert(kv_append(buf, sizeof(buf), &len, "state", "2"));
	cr_assert(kv_append(buf, sizeof(buf), &len, "sectors", "131072"));
	cr_assert_not(kv_append(buf, sizeof(buf), &len, "Bad", "1"));
	kv_publish(&c.back, c.back_text, buf, len);
	cr_assert_eq(c.back.seq % 2, 0);
	int n = kv_snapshot(&c.back, c.back_text, out);
	cr_assert_eq(n, (int)len);
	cr_assert_eq(memcmp(out, "state=2\nsectors=131072\n", len), 0);
	uint32_t seq = c.back.seq;
	kv_publish(&c.back, c.back_text, buf, 8);
	cr_assert_eq(c.back.seq, seq + 2, "one publish moves seq by 2");
}

Test(serve_kv, snapshot_gives_up_on_a_writer_that_never_finishes)
{
	static struct pvkvm_ivshmem_config c;
	char out[PVKVM_IVSHMEM_KV_TEXT];
	c.front.seq = 7; /* odd forever */
	c.front.len = 4;
	cr_assert_eq(kv_snapshot(&c.front, c.front_text, out), -1);
	c.front.seq = 8;
	c.front.len = PVKVM_IVSHMEM_KV_TEXT + 1; /* impossible */
	cr_assert_eq(kv_snapshot(&c.front, c.front_text, out), -1);
	c.front.len = PVKVM_IVSHMEM_KV_TEXT; /* the most there is */
	cr_assert_eq(kv_snapshot(&c.front, c.front_text, out), (int)PVKVM_IVSHMEM_KV_TEXT);
}
