// SPDX-License-Identifier: MIT
/*
 * One guest connection of `pvkvm serve`. See session.h.
 */
#include "host/serve/session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <urcu.h>

#include "host/block/blk_image.h"
#include "host/block/blkback.h"
#include "host/core/vm.h"
#include "host/net/net_port.h"
#include "host/net/net_switch.h"
#include "host/net/net_tap.h"
#include "host/net/netback.h"
#include "host/serve/ivshmem_proto.h"
#include "host/serve/kv.h"
#include "host/serve/region.h"
#include "host/services/evtchn.h"
#include "host/services/grant.h"
#include "host/services/store.h"

#define SERVER_PEER_ID 0
#define GUEST_PEER_ID 1

struct session;

struct sdev {
	struct session *s;
	unsigned int idx;       /* in the region's directory */
	struct device *dev;
	void (*destroy)(struct device *dev);
	struct store_watch *watch;
	pthread_mutex_t lock;   /* publishing the backend list */
	char back_dir[64];
	char front_dir[64];
	bool refused_logged;
};

struct session {
	const struct serve_config *cfg;
	int sock;
	struct region region;
	struct vm vm;
	struct evtchn_delivery delivery;
	int server_efd[PVKVM_IVSHMEM_MAX_VECTORS]; /* the guest's doorbells */
	int guest_efd[PVKVM_IVSHMEM_MAX_VECTORS];  /* the guest's MSI-X */
	unsigned int nr_devs;
	struct sdev devs[DISK_MAX + NET_MAX];
};

/* ---- event channels over ivshmem --------------------------------------------- */

/* A host end on port: its eventfd becomes the one QEMU signals for the
 * guest's doorbell on that vector (dup3 replaces the fd number's file), so
 * the backend polls the doorbell itself, with no hop in between. */
static int deliver_arm(void *ctx, unsigned int port, int efd, bool on)
{
	struct session *s = ctx;
	if (port == 0 || port >= s->region.nr_vectors)
		return -EINVAL;
	if (on)
		return dup3(s->server_efd[port], efd, O_CLOEXEC) < 0 ? -errno : 0;
	int fresh = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fresh < 0)
		return -errno;
	int rc = dup3(fresh, efd, O_CLOEXEC) < 0 ? -errno : 0;
	close(fresh);
	return rc;
}

static void signal_efd(int fd)
{
	uint64_t one = 1;
	if (write(fd, &one, sizeof(one)) != sizeof(one) && errno != EAGAIN)
		perror("pvkvm serve: interrupting the guest");
}

static void deliver_notify(void *ctx, unsigned int port)
{
	struct session *s = ctx;
	if (port < s->region.nr_vectors)
		signal_efd(s->guest_efd[port]);
}

/* ---- the config bridge ------------------------------------------------------ */

/* backend/<type>/<id>/ as a key list into the device's config page. */
static void publish_backend(void *arg, const char *path, uint64_t token)
{
	(void)path;
	(void)token;
	struct sdev *d = arg;
	struct store *st = d->s->vm.store;
	char names[4096], text[PVKVM_IVSHMEM_KV_TEXT];
	size_t len = 0;
	ssize_t n = store_list(st, d->back_dir, names, sizeof(names));
	if (n < 0 || (size_t)n > sizeof(names))
		n = 0;
	pthread_mutex_lock(&d->lock);
	for (const char *k = names; k < names + n; k += strlen(k) + 1) {
		char p[PVKVM_STORE_PATH_MAX], val[PVKVM_IVSHMEM_VALUE_MAX + 1];
		int pl = snprintf(p, sizeof(p), "%s/%.*s", d->back_dir,
				  (int)PVKVM_IVSHMEM_KEY_MAX, k);
		if (pl < 0 || (size_t)pl >= sizeof(p))
			continue;
		ssize_t vl = store_read(st, p, val, sizeof(val) - 1);
		if (vl < 0 || (size_t)vl >= sizeof(val))
			continue;
		val[vl] = '\0';
		if (!kv_append(text, sizeof(text), &len, k, val))
			fprintf(stderr, "pvkvm serve: %s/%s left out of the config page\n",
				d->back_dir, k);
	}
	struct pvkvm_ivshmem_config *c = region_config(&d->s->region, d->idx);
	kv_publish(&c->back, c->back_text, text, len);
	pthread_mutex_unlock(&d->lock);
	signal_efd(d->s->guest_efd[PVKVM_IVSHMEM_CONFIG_VECTOR]);
}

static void store_if_changed(struct store *st, const char *dir, const char *key,
			     const char *val)
{
	char p[PVKVM_STORE_PATH_MAX], cur[PVKVM_IVSHMEM_VALUE_MAX + 1];
	snprintf(p, sizeof(p), "%s/%s", dir, key);
	ssize_t n = store_read(st, p, cur, sizeof(cur) - 1);
	if (n >= 0 && (size_t)n < sizeof(cur)) {
		cur[n] = '\0';
		if (strcmp(cur, val) == 0)
			return;
	}
	store_write(st, p, val, strlen(val));
}

/* The store mirrors the list: a key the frontend no longer writes goes
 * (a stale ring-ref from an earlier attempt must not outlive it). The
 * "backend" key is the backend's own. */
static void forget_dropped_keys(struct store *st, const char *front_dir,
				const struct kv_list *l)
{
	char names[4096];
	ssize_t n = store_list(st, front_dir, names, sizeof(names));
	if (n < 0 || (size_t)n > sizeof(names))
		return;
	for (const char *k = names; k < names + n; k += strlen(k) + 1) {
		char p[PVKVM_STORE_PATH_MAX];
		if (strcmp(k, "backend") == 0 || kv_get(l, k))
			continue;
		int pl = snprintf(p, sizeof(p), "%s/%.*s", front_dir,
				  (int)PVKVM_IVSHMEM_KEY_MAX, k);
		if (pl > 0 && (size_t)pl < sizeof(p))
			store_remove(st, p);
	}
}

int session_apply_config(struct store *st, const char *front_dir,
			 const struct pvkvm_ivshmem_config *c, const char **why)
{
	char text[PVKVM_IVSHMEM_KV_TEXT];
	struct kv_list *l = malloc(sizeof(*l));
	*why = "out of memory";
	if (!l)
		return -1;
	*why = "its writer never finished";
	int n = kv_snapshot(&c->front, c->front_text, text);
	if (n < 0 || kv_parse(text, (size_t)n, l, why) < 0) {
		free(l);
		return -1;
	}
	forget_dropped_keys(st, front_dir, l);
	for (unsigned int i = 0; i < l->n; i++)
		if (strcmp(l->pair[i].key, "state") != 0)
			store_if_changed(st, front_dir, l->pair[i].key, l->pair[i].val);
	const char *state = kv_get(l, "state");
	if (state)
		store_if_changed(st, front_dir, "state", state);
	free(l);
	return 0;
}

/* The frontend's key list into device/<type>/<id>/: every key, then state
 * (its watch connects the backend, which reads the other keys). */
static void apply_frontend(struct sdev *d)
{
	const char *why;
	if (session_apply_config(d->s->vm.store, d->front_dir,
				 region_config(&d->s->region, d->idx), &why) == 0)
		return;
	if (!d->refused_logged)
		fprintf(stderr, "pvkvm serve: %s: frontend config refused: %s\n",
			d->front_dir, why);
	d->refused_logged = true;
}

/* ---- set-up and tear-down ----------------------------------------------------- */

int session_region_vm(struct vm *vm, const struct region *r)
{
	uint64_t pages = r->size / PVKVM_PAGE_SIZE;
	vm->mem = (struct guest_mem){ .host_base = r->base,
				      .size = r->size,
				      .memfd = r->memfd,
				      .access = calloc(pages, 1) };
	vm->grants = grant_table_new(&vm->mem);
	vm->store = store_new();
	vm->evtchn = evtchn_table_new(vm);
	if (!vm->mem.access || !vm->grants || !vm->store || !vm->evtchn)
		return -ENOMEM;
	/* The table lives in the region's low pages: set it up while they
	 * count as the guest's, then fence everything but the rings and
	 * data pages off, so no grant can make a backend touch the
	 * directory, the table or a config page. */
	gmem_set_access(&vm->mem, 0, r->size, GMEM_RW);
	int rc = grant_table_setup(vm->grants, r->gnttab_off, r->gnttab_entries);
	if (rc)
		return rc;
	gmem_set_access(&vm->mem, 0, r->first_granted, GMEM_NONE);
	gmem_set_access(&vm->mem, r->used, r->size - r->used, GMEM_NONE);
	return 0;
}

static int vm_services(struct session *s)
{
	struct vm *vm = &s->vm;
	int rc = session_region_vm(vm, &s->region);
	if (rc)
		return rc;
	s->delivery = (struct evtchn_delivery){ .arm = deliver_arm,
						.notify = deliver_notify,
						.ctx = s };
	evtchn_set_delivery(vm->evtchn, &s->delivery);
	/* Ports 1.. are vectors 1..: the guest "allocated" them all. */
	for (unsigned int v = 1; v < s->region.nr_vectors; v++)
		if (evtchn_alloc_unbound(vm->evtchn) != (int)v)
			return -EIO;
	return 0;
}

static int make_eventfds(struct session *s)
{
	for (unsigned int v = 0; v < PVKVM_IVSHMEM_MAX_VECTORS; v++)
		s->server_efd[v] = s->guest_efd[v] = -1;
	for (unsigned int v = 0; v < s->region.nr_vectors; v++) {
		s->server_efd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		s->guest_efd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (s->server_efd[v] < 0 || s->guest_efd[v] < 0)
			return -errno;
	}
	return 0;
}

static unsigned int log2u(unsigned int v)
{
	unsigned int o = 0;
	while ((1u << (o + 1)) <= v)
		o++;
	return o;
}

static int start_device(struct session *s, struct sdev *d)
{
	int rc = d->dev->start(d->dev, &s->vm);
	if (rc)
		return rc;
	/* Fires once now: the first list (InitWait and the features). */
	d->watch = store_watch_add(s->vm.store, d->back_dir, 0, publish_backend, d);
	return d->watch ? 0 : -ENOMEM;
}

static int start_disk(struct session *s, unsigned int i)
{
	const struct disk_opt *o = &s->cfg->disk[i];
	struct sdev *d = &s->devs[i];
	struct blk_image *img = calloc(1, sizeof(*img));
	if (!img)
		return -ENOMEM;
	int rc = blk_image_open(img, o->path, o->read_only, o->direct);
	if (rc) {
		fprintf(stderr, "pvkvm serve: %s: %s\n", o->path, strerror(-rc));
		free(img);
		return rc;
	}
	struct blkback_config bc;
	blkback_config_default(&bc, i);
	bc.max_ring_page_order = log2u(SERVE_BLK_RING_PAGES);
	if (o->poll_us >= 0)
		bc.poll_us = (unsigned int)o->poll_us;
	d->s = s;
	d->idx = i;
	pthread_mutex_init(&d->lock, NULL);
	snprintf(d->back_dir, sizeof(d->back_dir), "backend/blk/%u", i);
	snprintf(d->front_dir, sizeof(d->front_dir), "device/blk/%u", i);
	d->destroy = blkback_destroy;
	d->dev = blkback_create(img, &bc); /* owns img from here */
	if (!d->dev) {
		blk_image_close(img);
		free(img);
		return -ENOMEM;
	}
	s->nr_devs = i + 1;
	return start_device(s, d);
}

static int start_net(struct session *s, unsigned int j)
{
	const struct net_opt *o = &s->cfg->net[j];
	unsigned int i = s->cfg->nr_disks + j;
	struct sdev *d = &s->devs[i];
	struct net_port *port;
	char err[256];
	int rc = o->link == NET_LINK_TAP ? net_tap_open(o->name, 1, &port, err, sizeof(err))
					 : net_switch_open(o->name, 1, &port, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "pvkvm serve: --net %s: %s\n", o->name, err);
		return rc;
	}
	struct netback_config nc;
	netback_config_default(&nc, j);
	nc.max_queues = 1;
	if (o->has_mac)
		memcpy(nc.mac, o->mac, sizeof(nc.mac));
	else
		net_default_mac(j, nc.mac);
	d->s = s;
	d->idx = i;
	pthread_mutex_init(&d->lock, NULL);
	snprintf(d->back_dir, sizeof(d->back_dir), "backend/net/%u", j);
	snprintf(d->front_dir, sizeof(d->front_dir), "device/net/%u", j);
	d->destroy = netback_destroy;
	d->dev = netback_create(port, &nc); /* owns port from here */
	if (!d->dev) {
		net_port_close(port);
		return -ENOMEM;
	}
	s->nr_devs = i + 1;
	return start_device(s, d);
}

static void print_stats(struct session *s)
{
	for (struct stats_group *g = s->vm.stats.groups; g; g = g->next)
		for (unsigned int i = 0; i < g->nr; i++)
			fprintf(stderr, "  %s.%s %llu\n", g->name, g->counters[i].name,
				(unsigned long long)stat_get(&g->counters[i].value));
}

static void teardown(struct session *s)
{
	/* Stopping waits for the I/O in flight: every write the guest was
	 * told is done is in the image before we let go. */
	for (unsigned int i = 0; i < s->nr_devs; i++) {
		struct sdev *d = &s->devs[i];
		if (d->dev && d->watch)
			d->dev->stop(d->dev, &s->vm);
		if (d->watch)
			store_watch_remove(s->vm.store, d->watch);
	}
	if (s->cfg->stats)
		print_stats(s);
	for (unsigned int i = 0; i < s->nr_devs; i++) {
		if (s->devs[i].dev)
			s->devs[i].destroy(s->devs[i].dev);
		pthread_mutex_destroy(&s->devs[i].lock);
	}
	store_free(s->vm.store);
	evtchn_table_free(s->vm.evtchn);
	grant_table_free(s->vm.grants);
	free(s->vm.mem.access);
	for (unsigned int v = 0; v < PVKVM_IVSHMEM_MAX_VECTORS; v++) {
		if (s->server_efd[v] >= 0)
			close(s->server_efd[v]);
		if (s->guest_efd[v] >= 0)
			close(s->guest_efd[v]);
	}
	region_destroy(&s->region);
}

static int setup(struct session *s, uint32_t session_no)
{
	struct region_dev_spec spec[DISK_MAX + NET_MAX];
	unsigned int n = s->cfg->nr_disks + s->cfg->nr_nets;
	char err[256];
	for (unsigned int i = 0; i < s->cfg->nr_disks; i++)
		spec[i] = (struct region_dev_spec){
			.type = PVKVM_IVSHMEM_DEV_BLK, .id = i,
			.ring_pages = SERVE_BLK_RING_PAGES,
			.data_pages = SERVE_BLK_DATA_PAGES, .nr_vectors = 1 };
	for (unsigned int j = 0; j < s->cfg->nr_nets; j++)
		spec[s->cfg->nr_disks + j] = (struct region_dev_spec){
			.type = PVKVM_IVSHMEM_DEV_NET, .id = j,
			.ring_pages = SERVE_NET_RING_PAGES,
			.data_pages = SERVE_NET_DATA_PAGES, .nr_vectors = 1 };
	for (unsigned int v = 0; v < PVKVM_IVSHMEM_MAX_VECTORS; v++)
		s->server_efd[v] = s->guest_efd[v] = -1;
	int rc = region_create(&s->region, spec, n, SERVER_PEER_ID,
			       session_no, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "pvkvm serve: %s\n", err);
		return rc;
	}
	rc = vm_services(s);
	if (!rc)
		rc = make_eventfds(s);
	for (unsigned int i = 0; !rc && i < s->cfg->nr_disks; i++)
		rc = start_disk(s, i);
	for (unsigned int j = 0; !rc && j < s->cfg->nr_nets; j++)
		rc = start_net(s, j);
	if (!rc)
		rc = ivshmem_greet(s->sock, GUEST_PEER_ID, s->region.memfd,
				   SERVER_PEER_ID, s->server_efd, s->guest_efd,
				   s->region.nr_vectors);
	if (rc)
		fprintf(stderr, "pvkvm serve: setting up the guest's connection failed: %s\n",
			strerror(-rc));
	return rc;
}

/* ---- the loop ------------------------------------------------------------------ */

static void drain(int fd)
{
	uint64_t n;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		perror("pvkvm serve: eventfd");
}

static void refuse(int listen_fd)
{
	int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return;
	fprintf(stderr, "pvkvm serve: a second guest connected while one is served: refused\n");
	close(c);
}

/* QEMU never sends anything: readable means gone (or garbage: ignored). */
static bool guest_left(int sock)
{
	char buf[256];
	ssize_t n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

static enum session_end loop(struct session *s, int listen_fd, int sig_fd)
{
	struct pollfd fds[4] = {
		{ .fd = s->sock, .events = POLLIN },
		{ .fd = s->server_efd[PVKVM_IVSHMEM_CONFIG_VECTOR], .events = POLLIN },
		{ .fd = listen_fd, .events = POLLIN },
		{ .fd = sig_fd, .events = POLLIN },
	};
	for (;;) {
		if (poll(fds, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("pvkvm serve: poll");
			return SESSION_STOP;
		}
		if (fds[3].revents)
			return SESSION_STOP;
		if (fds[1].revents & POLLIN) {
			drain(fds[1].fd);
			for (unsigned int i = 0; i < s->nr_devs; i++)
				apply_frontend(&s->devs[i]);
		}
		if (fds[2].revents & POLLIN)
			refuse(listen_fd);
		if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) && guest_left(s->sock))
			return SESSION_GUEST_LEFT;
	}
}

enum session_end session_run(const struct serve_config *cfg, int sock,
			     int listen_fd, int sig_fd, uint32_t session_no)
{
	struct session *s = calloc(1, sizeof(*s));
	if (!s) {
		fprintf(stderr, "pvkvm serve: out of memory\n");
		return SESSION_FAILED;
	}
	s->cfg = cfg;
	s->sock = sock;
	rcu_register_thread(); /* the store watch path reads grants under RCU */
	enum session_end end = SESSION_FAILED;
	if (setup(s, session_no) == 0) {
		fprintf(stderr, "pvkvm serve: guest %u connected (%llu KiB region, %u vectors)\n",
			session_no, (unsigned long long)(s->region.size >> 10),
			s->region.nr_vectors);
		end = loop(s, listen_fd, sig_fd);
		fprintf(stderr, "pvkvm serve: guest %u %s\n", session_no,
			end == SESSION_STOP ? "dropped: stopping" : "left");
	}
	teardown(s);
	rcu_unregister_thread();
	free(s);
	return end;
}
