// SPDX-License-Identifier: MIT
/*
 * Event channels against a real KVM VM: a bound port must be a KVM
 * ioeventfd (proved by a tiny real-mode guest whose `out` reaches the
 * eventfd with no exit to us), and host->guest notification must set the
 * shared-info pending bit.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "host/services/evtchn.h"
#include "host/core/vm.h"
#include "hypercall/pvkvm_abi.h"

static struct vm vm;
static struct pvkvm_shared_info shinfo;
static struct evtchn_table *et;

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	memset(&shinfo, 0, sizeof(shinfo));
	pthread_mutex_init(&vm.event_lock, NULL);
	pthread_cond_init(&vm.event_cond, NULL);
	vm.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm.kvm_fd < 0)
		cr_skip_test("/dev/kvm is not available here: %s", strerror(errno));
	vm.vm_fd = ioctl(vm.kvm_fd, KVM_CREATE_VM, 0);
	cr_assert_geq(vm.vm_fd, 0, "KVM_CREATE_VM: %s", strerror(errno));
	vm.shared_info = &shinfo;
	et = evtchn_table_new(&vm);
	cr_assert(et);
	vm.evtchn = et;
}

static void teardown(void)
{
	if (vm.kvm_fd < 0)
		return;
	evtchn_table_free(et);
	if (vm.mem.host_base)
		gmem_destroy(&vm.mem);
	close(vm.vm_fd);
	close(vm.kvm_fd);
}

TestSuite(evtchn, .init = setup, .fini = teardown);

static bool pending(unsigned int port)
{
	return __atomic_load_n(&shinfo.evtchn_pending[port / 64],
			       __ATOMIC_SEQ_CST) & (1ull << (port % 64));
}

static int raw_ioeventfd(unsigned int port, int fd, bool deassign)
{
	struct kvm_ioeventfd io = {
		.datamatch = port,
		.addr = PVKVM_PORT_EVTCHN_NOTIFY,
		.len = 4,
		.fd = fd,
		.flags = KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DATAMATCH |
			 (deassign ? KVM_IOEVENTFD_FLAG_DEASSIGN : 0),
	};
	return ioctl(vm.vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

Test(evtchn, alloc_bind_close_lifecycle)
{
	int p = evtchn_alloc_unbound(et);
	cr_assert_geq(p, 1);
	int efd;
	cr_assert_eq(evtchn_bind_host(et, (unsigned)p, &efd), 0);
	cr_assert_geq(efd, 0);
	int efd2;
	cr_assert_eq(evtchn_bind_host(et, (unsigned)p, &efd2), -PVKVM_EBUSY);

	/* KVM holds our ioeventfd: the same datamatch again is refused */
	int other = eventfd(0, 0);
	cr_assert_eq(raw_ioeventfd((unsigned)p, other, false), -EEXIST);

	/* guest close disarms it but keeps the host's fd open */
	cr_assert_eq(evtchn_close(et, (unsigned)p), 0);
	cr_assert_eq(raw_ioeventfd((unsigned)p, other, false), 0);
	cr_assert_eq(raw_ioeventfd((unsigned)p, other, true), 0);
	cr_assert_geq(fcntl(efd, F_GETFD), 0, "host eventfd closed under it");
	/* and the number is not reused while the host end exists */
	int q = evtchn_alloc_unbound(et);
	cr_assert_neq(q, p);
	cr_assert_eq(evtchn_unbind_host(et, (unsigned)p), 0);
	cr_assert_eq(evtchn_alloc_unbound(et), p, "freed port not reused");
	close(other);
}

Test(evtchn, unbind_host_keeps_guest_end)
{
	int p = evtchn_alloc_unbound(et);
	int efd;
	cr_assert_eq(evtchn_bind_host(et, (unsigned)p, &efd), 0);
	cr_assert_eq(evtchn_unbind_host(et, (unsigned)p), 0);
	cr_assert_eq(evtchn_unbind_host(et, (unsigned)p), -PVKVM_EINVAL);
	cr_assert_eq(evtchn_bind_host(et, (unsigned)p, &efd), 0, "rebind");
	cr_assert_eq(evtchn_notify_guest(et, (unsigned)p), 0);
	cr_assert_eq(evtchn_close(et, (unsigned)p), 0);
	cr_assert_eq(evtchn_unbind_host(et, (unsigned)p), 0);
}

Test(evtchn, bad_ports_rejected)
{
	int efd;
	unsigned int bad[] = { 0, PVKVM_EVTCHN_MAX, PVKVM_EVTCHN_MAX + 1, ~0u };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(evtchn_close(et, bad[i]), -PVKVM_EINVAL);
		cr_assert_eq(evtchn_bind_host(et, bad[i], &efd), -PVKVM_EINVAL);
		cr_assert_eq(efd, -1);
		cr_assert_eq(evtchn_notify_guest(et, bad[i]), -PVKVM_EINVAL);
		cr_assert_eq(evtchn_unbind_host(et, bad[i]), -PVKVM_EINVAL);
	}
	/* allocated-but-not-yet ports, closed ports */
	cr_assert_eq(evtchn_notify_guest(et, 5), -PVKVM_EINVAL);
	cr_assert_eq(evtchn_close(et, 5), -PVKVM_EINVAL);
	int p = evtchn_alloc_unbound(et);
	cr_assert_eq(evtchn_close(et, (unsigned)p), 0);
	cr_assert_eq(evtchn_close(et, (unsigned)p), -PVKVM_EINVAL);
	cr_assert_eq(evtchn_bind_host(et, (unsigned)p, &efd), -PVKVM_EINVAL);
	cr_assert_eq(evtchn_bind_virq(et, PVKVM_VIRQ_COUNT), -PVKVM_EINVAL);
	cr_assert_eq(shinfo.evtchn_pending[0], 0);
}

Test(evtchn, table_fills_up)
{
	for (unsigned int i = 1; i < PVKVM_EVTCHN_MAX; i++)
		cr_assert_eq(evtchn_alloc_unbound(et), (int)i);
	cr_assert_eq(evtchn_alloc_unbound(et), -PVKVM_ENOSPC);
}

Test(evtchn, notify_sets_pending_and_counts)
{
	int p = evtchn_alloc_unbound(et);
	for (int i = 1; i < 70; i++)
		evtchn_alloc_unbound(et); /* reach the second word */
	int p2 = evtchn_alloc_unbound(et);
	cr_assert_eq(evtchn_notify_guest(et, (unsigned)p), 0);
	cr_assert_eq(evtchn_notify_guest(et, (unsigned)p2), 0);
	cr_assert(pending((unsigned)p));
	cr_assert(pending((unsigned)p2));
	cr_assert_not(pending((unsigned)p + 1));
	cr_assert_eq(stat_get(&vm.stats.evtchn_host_notifies), 2);

	vm.shared_info = NULL;
	cr_assert_eq(evtchn_notify_guest(et, (unsigned)p), -PVKVM_EAGAIN);
}

Test(evtchn, virq_raises_every_bound_port)
{
	int s1 = evtchn_bind_virq(et, PVKVM_VIRQ_STORE);
	int s2 = evtchn_bind_virq(et, PVKVM_VIRQ_STORE);
	int t1 = evtchn_bind_virq(et, PVKVM_VIRQ_TEST);
	/* abi.md section 4: a second bind is not an error, it is another port */
	cr_assert_gt(s1, 0);
	cr_assert_gt(s2, 0);
	cr_assert_neq(s1, s2, "a second bind of one VIRQ returns a new port");
	evtchn_raise_virq(et, PVKVM_VIRQ_STORE);
	cr_assert(pending((unsigned)s1));
	cr_assert(pending((unsigned)s2));
	cr_assert_not(pending((unsigned)t1));
	evtchn_raise_virq(et, PVKVM_VIRQ_COUNT); /* ignored */
	int efd;
	cr_assert_eq(evtchn_bind_host(et, (unsigned)t1, &efd), -PVKVM_EINVAL,
		     "a virq port has no host end");
}

/* ---- a real guest sends ------------------------------------------------------ */

struct tiny_guest {
	int fd;
	struct kvm_run *run;
	size_t run_size;
};

/* Real mode at gpa 0x1000: mov $port,%eax; out %eax,$NOTIFY; hlt */
static void tiny_guest_create(struct tiny_guest *g, uint32_t port)
{
	cr_assert_eq(gmem_create(&vm.mem, 2u << 20), 0);
	struct kvm_userspace_memory_region r = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = vm.mem.size,
		.userspace_addr = (uint64_t)(uintptr_t)vm.mem.host_base,
	};
	cr_assert_eq(ioctl(vm.vm_fd, KVM_SET_USER_MEMORY_REGION, &r), 0);
	uint8_t code[] = { 0x66, 0xb8, 0, 0, 0, 0, 0x66, 0xe7,
			   PVKVM_PORT_EVTCHN_NOTIFY, 0xf4 };
	memcpy(code + 2, &port, 4);
	memcpy(vm.mem.host_base + 0x1000, code, sizeof(code));

	g->fd = ioctl(vm.vm_fd, KVM_CREATE_VCPU, 0);
	cr_assert_geq(g->fd, 0);
	g->run_size = (size_t)ioctl(vm.kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	g->run = mmap(NULL, g->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      g->fd, 0);
	cr_assert_neq(g->run, MAP_FAILED);
	struct kvm_sregs sr;
	cr_assert_eq(ioctl(g->fd, KVM_GET_SREGS, &sr), 0);
	sr.cs.base = 0;
	sr.cs.selector = 0;
	cr_assert_eq(ioctl(g->fd, KVM_SET_SREGS, &sr), 0);
	struct kvm_regs regs = { .rip = 0x1000, .rflags = 2 };
	cr_assert_eq(ioctl(g->fd, KVM_SET_REGS, &regs), 0);
}

static void tiny_guest_destroy(struct tiny_guest *g)
{
	munmap(g->run, g->run_size);
	close(g->fd);
}

static uint64_t eventfd_count(int efd)
{
	uint64_t n = 0;
	if (read(efd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

Test(evtchn, guest_send_reaches_eventfd_without_exit)
{
	int p = evtchn_alloc_unbound(et);
	int efd;
	cr_assert_eq(evtchn_bind_host(et, (unsigned)p, &efd), 0);
	struct tiny_guest g;
	tiny_guest_create(&g, (uint32_t)p);
	cr_assert_eq(ioctl(g.fd, KVM_RUN, 0), 0);
	cr_assert_eq(g.run->exit_reason, KVM_EXIT_HLT,
		     "exit %u: the send left the kernel", g.run->exit_reason);
	cr_assert_eq(eventfd_count(efd), 1);
	tiny_guest_destroy(&g);
}

Test(evtchn, send_to_closed_port_exits_to_userspace)
{
	int p = evtchn_alloc_unbound(et);
	int efd;
	cr_assert_eq(evtchn_bind_host(et, (unsigned)p, &efd), 0);
	cr_assert_eq(evtchn_close(et, (unsigned)p), 0);
	struct tiny_guest g;
	tiny_guest_create(&g, (uint32_t)p);
	cr_assert_eq(ioctl(g.fd, KVM_RUN, 0), 0);
	cr_assert_eq(g.run->exit_reason, KVM_EXIT_IO);
	cr_assert_eq(g.run->io.port, PVKVM_PORT_EVTCHN_NOTIFY);
	uint32_t sent;
	memcpy(&sent, (uint8_t *)g.run + g.run->io.data_offset, 4);
	evtchn_unmatched_send(et, sent);
	cr_assert_eq(stat_get(&vm.stats.evtchn_unbound_sends), 1);
	cr_assert_eq(eventfd_count(efd), 0);
	tiny_guest_destroy(&g);
}

/* ---- races ------------------------------------------------------------------- */

static atomic_int stop;

static void *notifier(void *arg)
{
	unsigned int port = (unsigned int)(uintptr_t)arg;
	while (!atomic_load(&stop))
		evtchn_notify_guest(et, port);
	return NULL;
}

Test(evtchn, notify_races_close_and_realloc)
{
	int p = evtchn_alloc_unbound(et);
	atomic_store(&stop, 0);
	pthread_t th;
	pthread_create(&th, NULL, notifier, (void *)(uintptr_t)p);
	for (int i = 0; i < 2000; i++) {
		int efd;
		evtchn_bind_host(et, (unsigned)p, &efd);
		evtchn_close(et, (unsigned)p);
		evtchn_unbind_host(et, (unsigned)p);
		cr_assert_eq(i & 1 ? evtchn_bind_virq(et, PVKVM_VIRQ_TEST)
				   : evtchn_alloc_unbound(et), p);
		evtchn_raise_virq(et, PVKVM_VIRQ_TEST);
		if (i & 1) {
			evtchn_close(et, (unsigned)p);
			evtchn_alloc_unbound(et);
		}
	}
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
}
