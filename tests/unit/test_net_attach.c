// SPDX-License-Identifier: MIT
/*
 * The --net glue on a real VM: tiny guests at CPL3 reach the NE2000's
 * ports (the I/O bitmap opens exactly the claimed range) and the sync
 * hypercalls, over the built-in switch, and the platform/ keys announce
 * both. The PV path is test_netback's.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "host/net/net_attach.h"
#include "host/net/net_port.h"
#include "host/net/net_switch.h"
#include "host/services/store.h"
#include "hypercall/pvkvm_netif.h"
#include "tests/unit/tiny_guest.h"

#define FRAME_GPA 0x200000u

static char sw[64];
static struct net_set set;
static struct net_port *peer;

static void setup(void)
{
	if (!tg_kvm_available())
		cr_skip_test("/dev/kvm is not available");
	snprintf(sw, sizeof(sw), "attach-%d", (int)getpid());
	char err[256];
	cr_assert_eq(net_switch_open(sw, 1, &peer, err, sizeof(err)), 0, "%s", err);
	memset(&set, 0, sizeof(set));
}

static void teardown(void)
{
	net_set_release(&set);
	net_port_close(peer);
}

TestSuite(net_attach, .init = setup, .fini = teardown, .timeout = 60);

/* Creates a VM with the NIC spec attached, runs code, returns its status. */
static int run_with_nic(const char *mode, const uint8_t *code, size_t len,
			struct vm **out)
{
	char spec[128], err[256];
	snprintf(spec, sizeof(spec), "switch=%s,mac=02:00:00:00:00:07,mode=%s", sw, mode);
	cr_assert_eq(net_set_add(&set, spec, err, sizeof(err)), 0, "%s", err);
	struct vm_config cfg = { .mem_size = TG_MEM, .nr_vcpus = 1, .cmdline = "tiny" };
	struct vm *vm;
	cr_assert_eq(vm_create(&cfg, &vm, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(net_set_attach(vm, &set, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(vm_load_code(vm, TG_CODE, code, len, TG_CODE), 0);
	cr_assert_eq(hypercall_page_install(&vm->mem, TG_HCPAGE), 0);
	uint8_t *f = gmem_ptr(&vm->mem, FRAME_GPA, 64);
	memset(f, 0xff, 6); /* broadcast, from 02:..:07 */
	memcpy(f + 6, (uint8_t[6]){ 2, 0, 0, 0, 0, 7 }, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (int i = 14; i < 64; i++)
		f[i] = (uint8_t)i;
	*out = vm;
	return vm_run(vm, 20);
}

static void expect_key(struct vm *vm, const char *path, const char *want)
{
	char buf[64] = { 0 };
	ssize_t n = store_read(vm->store, path, buf, sizeof(buf) - 1);
	cr_assert_gt(n, 0, "%s", path);
	cr_expect_str_eq(buf, want, "%s", path);
}

Test(net_attach, a_cpl3_guest_resets_the_ne2000_and_reads_isr)
{
	static const uint8_t code[] = {
		0x66, 0xba, 0x1f, 0x03, /* mov $0x31f, %dx */
		0xec,                   /* in %dx, %al: reset */
		0x66, 0xba, 0x07, 0x03, /* mov $0x307, %dx */
		0xec,                   /* in %dx, %al: ISR */
		0x0f, 0xb6, 0xf8,       /* movzx %al, %edi */
		0xc1, 0xef, 0x04,       /* shr $4, %edi: RST (0x80) -> 8 */
		TG_CALL(PVKVM_HC_SHUTDOWN),
	};
	struct vm *vm;
	int status = run_with_nic("fv", code, sizeof(code), &vm);
	cr_expect_eq(status, 8, "ISR.RST after the reset port");
	expect_key(vm, "platform/ne2000/0/io-base", "0x300");
	expect_key(vm, "platform/ne2000/0/mac", "02:00:00:00:00:07");
	vm_destroy(vm);
}

Test(net_attach, a_cpl3_guest_sends_a_frame_with_one_hypercall)
{
	static const uint8_t code[] = {
		0xbf, 0x00, 0x00, 0x20, 0x00, /* mov $FRAME_GPA, %edi */
		0xbe, 0x40, 0x00, 0x00, 0x00, /* mov $64, %esi */
		0x31, 0xd2,                   /* xor %edx, %edx: nic 0 */
		TG_CALL(PVKVM_HC_NET_SYNC_TX),
		TG_SHUTDOWN_WITH_RAX,
	};
	struct vm *vm;
	int status = run_with_nic("sync", code, sizeof(code), &vm);
	cr_expect_eq(status, 0, "NET_SYNC_TX returned 0");
	struct net_pkt *in = net_pkt_new(2048);
	cr_assert_eq(net_port_recv(peer, 0, in), 64, "the frame crossed the switch");
	cr_expect_eq(in->data[63], 63);
	expect_key(vm, "platform/net-sync/0/hypercall-tx", "33");
	expect_key(vm, "platform/net-sync/0/hypercall-rx", "34");
	net_pkt_free(in);
	vm_destroy(vm);
}
