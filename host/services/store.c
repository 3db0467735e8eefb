// SPDX-License-Identifier: MIT
/*
 * The config store: a tree of nodes under one mutex (it is a control path,
 * never a per-request one), and watches whose callbacks run after the lock
 * is dropped so they can call back into the store.
 *
 * Watch lifetime: a firing first collects the matching watches under the
 * lock, taking a reference on each (w->active), then calls them unlocked.
 * store_watch_remove() unlinks the watch and waits until no other thread is
 * inside its callback; when it is called from inside that very callback,
 * the last firing frame to finish frees it instead.
 */
#include "host/services/store.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypercall/pvkvm_abi.h"

/*
 * The guest's share of the store is a quota in bytes, of its own: the host's
 * keys (backend state, error lines) are never refused because a guest filled
 * the store. A node the guest creates costs its name plus STORE_NODE_COST
 * (the node and the allocator's headers); a value the guest writes costs its
 * length. Bytes are charged when the guest makes them and refunded when they
 * go (removed, or overwritten by the host, who then owns the value).
 */
#define STORE_NODE_COST 96u
#define STORE_GUEST_QUOTA_DEFAULT (1024u * 1024u)

struct node {
	char *name;
	uint8_t *val;
	size_t len;
	size_t guest_node_bytes; /* charged for this node's existence, 0: host's */
	size_t guest_val_bytes;  /* charged for its value, 0: the host wrote it */
	struct node *parent;
	struct node *child; /* sorted by name, so listings are stable */
	struct node *next;
};

struct store_watch {
	char *path;
	uint64_t token;
	store_watch_fn fn;
	void *arg;
	struct store_watch *next;
	unsigned int active; /* firings holding this watch (store lock) */
	bool removed;
	bool free_when_idle; /* removed from inside its own callback */
};

struct store {
	pthread_mutex_t lock;
	pthread_cond_t idle; /* a firing finished with a watch */
	struct node root;
	size_t guest_bytes; /* charged against guest_quota */
	size_t guest_quota;
	struct store_watch *watches;
};

/* The watches this thread is inside, so a callback may remove its own. */
struct firing_frame {
	struct store_watch *w;
	struct firing_frame *up;
};
static _Thread_local struct firing_frame *tls_frames;

/* ---- paths --------------------------------------------------------------- */

static bool component_ok(const char *c, size_t n)
{
	if (n == 0)
		return false;
	if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)c[i];
		if (ch <= 0x20 || ch >= 0x7f)
			return false;
	}
	return true;
}

/*
 * "" names the root. Paths stay below PVKVM_STORE_PATH_MAX so that any path
 * fits a pvkvm_watch_event together with its NUL.
 */
static bool path_ok(const char *path, bool root_ok)
{
	if (!path)
		return false;
	size_t len = strnlen(path, PVKVM_STORE_PATH_MAX);
	if (len >= PVKVM_STORE_PATH_MAX)
		return false;
	if (len == 0)
		return root_ok;
	const char *c = path;
	for (;;) {
		const char *slash = strchr(c, '/');
		size_t n = slash ? (size_t)(slash - c) : strlen(c);
		if (!component_ok(c, n))
			return false;
		if (!slash)
			return true;
		c = slash + 1;
	}
}

/* True when `path` is `prefix` or lies below it, component by component. */
static bool path_within(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	if (n == 0)
		return true;
	if (strncmp(path, prefix, n) != 0)
		return false;
	return path[n] == '\0' || path[n] == '/';
}

/* ---- nodes --------------------------------------------------------------- */

static struct node *child_find(struct node *dir, const char *name, size_t n)
{
	for (struct node *c = dir->child; c; c = c->next)
		if (strlen(c->name) == n && memcmp(c->name, name, n) == 0)
			return c;
	return NULL;
}

static void child_link_sorted(struct node *dir, struct node *c)
{
	struct node **pp = &dir->child;
	while (*pp && strcmp((*pp)->name, c->name) < 0)
		pp = &(*pp)->next;
	c->next = *pp;
	*pp = c;
	c->parent = dir;
}

static size_t node_cost(size_t name_len)
{
	return STORE_NODE_COST + name_len + 1;
}

static struct node *child_create(struct store *s, struct node *dir,
				 const char *name, size_t n, bool guest)
{
	struct node *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->name = strndup(name, n);
	if (!c->name) {
		free(c);
		return NULL;
	}
	child_link_sorted(dir, c);
	if (guest) {
		c->guest_node_bytes = node_cost(n);
		s->guest_bytes += c->guest_node_bytes;
	}
	return c;
}

/* Walks to path; with `create`, makes the missing nodes on the way (charged
 * to the guest when `guest`). */
static struct node *node_walk_as(struct store *s, const char *path,
				 bool create, bool guest)
{
	struct node *n = &s->root;
	const char *c = path;
	while (*c) {
		const char *slash = strchr(c, '/');
		size_t len = slash ? (size_t)(slash - c) : strlen(c);
		struct node *next = child_find(n, c, len);
		if (!next && create)
			next = child_create(s, n, c, len, guest);
		if (!next)
			return NULL;
		n = next;
		c = slash ? slash + 1 : c + len;
	}
	return n;
}

static void node_free_tree(struct store *s, struct node *n)
{
	struct node *c = n->child;
	while (c) {
		struct node *next = c->next;
		node_free_tree(s, c);
		c = next;
	}
	n->child = NULL;
	if (n == &s->root)
		return;
	s->guest_bytes -= n->guest_node_bytes + n->guest_val_bytes;
	free(n->name);
	free(n->val);
	free(n);
}

static struct node *node_walk(struct store *s, const char *path, bool create)
{
	return node_walk_as(s, path, create, false);
}

/* What writing len bytes at path would add to the guest's charge: the nodes
 * still missing on the way, and the value (less what its old one cost). */
static size_t guest_write_cost(struct store *s, const char *path, size_t len)
{
	struct node *n = &s->root;
	const char *c = path;
	size_t cost = 0;
	while (*c) {
		const char *slash = strchr(c, '/');
		size_t clen = slash ? (size_t)(slash - c) : strlen(c);
		struct node *next = n ? child_find(n, c, clen) : NULL;
		if (!next)
			cost += node_cost(clen);
		n = next;
		c = slash ? slash + 1 : c + clen;
	}
	size_t refund = n ? n->guest_val_bytes : 0;
	return cost + len > refund ? cost + len - refund : 0;
}

static void node_unlink(struct node *n)
{
	struct node **pp = &n->parent->child;
	while (*pp != n)
		pp = &(*pp)->next;
	*pp = n->next;
}

/* ---- watches ------------------------------------------------------------- */

struct fire_list {
	struct store_watch **w;
	unsigned int nr;
};

/*
 * Takes a reference on each watch the change at `path` concerns. A removal
 * also concerns watches below the removed node, which vanish with it.
 */
static struct fire_list collect_locked(struct store *s, const char *path,
				       bool removal)
{
	struct fire_list fl = { NULL, 0 };
	unsigned int n = 0;
	for (struct store_watch *w = s->watches; w; w = w->next)
		n++;
	if (n == 0)
		return fl;
	fl.w = calloc(n, sizeof(*fl.w));
	if (!fl.w)
		return fl; /* out of memory: the change stands, unannounced */
	for (struct store_watch *w = s->watches; w; w = w->next) {
		bool hit = path_within(path, w->path) ||
			   (removal && path_within(w->path, path));
		if (hit) {
			w->active++;
			fl.w[fl.nr++] = w;
		}
	}
	return fl;
}

/* Drops a firing's reference; frees a watch removed from its own callback. */
static void watch_put_locked(struct store *s, struct store_watch *w)
{
	w->active--;
	pthread_cond_broadcast(&s->idle);
	if (w->free_when_idle && w->active == 0)
		free(w);
}

static void fire_one(struct store *s, struct store_watch *w, const char *path)
{
	pthread_mutex_lock(&s->lock);
	bool gone = w->removed;
	pthread_mutex_unlock(&s->lock);
	if (!gone) {
		struct firing_frame f = { w, tls_frames };
		tls_frames = &f;
		w->fn(w->arg, path, w->token);
		tls_frames = f.up;
	}
	pthread_mutex_lock(&s->lock);
	watch_put_locked(s, w);
	pthread_mutex_unlock(&s->lock);
}

static void fire_list(struct store *s, struct fire_list *fl, const char *path)
{
	for (unsigned int i = 0; i < fl->nr; i++)
		fire_one(s, fl->w[i], path);
	free(fl->w);
}

/* ---- public -------------------------------------------------------------- */

struct store *store_new(void)
{
	struct store *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	s->guest_quota = STORE_GUEST_QUOTA_DEFAULT;
	return s;
}

void store_free(struct store *s)
{
	if (!s)
		return;
	node_free_tree(s, &s->root);
	while (s->watches) {
		struct store_watch *w = s->watches;
		s->watches = w->next;
		free(w->path);
		free(w);
	}
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int node_set_value(struct store *s, struct node *n, const void *val,
			  size_t len, bool guest)
{
	uint8_t *copy = NULL;
	if (len) {
		copy = malloc(len);
		if (!copy)
			return -PVKVM_ENOMEM;
		memcpy(copy, val, len);
	}
	free(n->val);
	n->val = copy;
	n->len = len;
	s->guest_bytes -= n->guest_val_bytes;
	n->guest_val_bytes = guest ? len : 0;
	s->guest_bytes += n->guest_val_bytes;
	return 0;
}

static int write_as(struct store *s, const char *path, const void *val,
		    size_t len, bool guest)
{
	if (!path_ok(path, false))
		return -PVKVM_EINVAL;
	if (len > PVKVM_STORE_VALUE_MAX)
		return -PVKVM_E2BIG;
	pthread_mutex_lock(&s->lock);
	int rc = 0;
	if (guest && s->guest_bytes + guest_write_cost(s, path, len) > s->guest_quota)
		rc = -PVKVM_ENOSPC; /* over quota: nothing created, nothing changed */
	struct node *n = rc ? NULL : node_walk_as(s, path, true, guest);
	if (!rc)
		rc = n ? node_set_value(s, n, val, len, guest) : -PVKVM_ENOMEM;
	struct fire_list fl = { NULL, 0 };
	if (rc == 0)
		fl = collect_locked(s, path, false);
	pthread_mutex_unlock(&s->lock);
	fire_list(s, &fl, path);
	return rc;
}

int store_write(struct store *s, const char *path, const void *val, size_t len)
{
	return write_as(s, path, val, len, false);
}

int store_write_guest(struct store *s, const char *path, const void *val,
		      size_t len)
{
	return write_as(s, path, val, len, true);
}

void store_set_guest_quota(struct store *s, size_t bytes)
{
	pthread_mutex_lock(&s->lock);
	s->guest_quota = bytes;
	pthread_mutex_unlock(&s->lock);
}

size_t store_guest_bytes(struct store *s)
{
	pthread_mutex_lock(&s->lock);
	size_t n = s->guest_bytes;
	pthread_mutex_unlock(&s->lock);
	return n;
}

int store_printf(struct store *s, const char *path, const char *fmt, ...)
{
	char buf[PVKVM_STORE_VALUE_MAX + 1];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -PVKVM_EINVAL;
	if ((size_t)n > PVKVM_STORE_VALUE_MAX)
		return -PVKVM_E2BIG;
	return store_write(s, path, buf, (size_t)n);
}

ssize_t store_read(struct store *s, const char *path, void *buf, size_t buflen)
{
	if (!path_ok(path, true))
		return -PVKVM_EINVAL;
	pthread_mutex_lock(&s->lock);
	struct node *n = node_walk(s, path, false);
	ssize_t rc = -PVKVM_ENOENT;
	if (n) {
		size_t copy = n->len < buflen ? n->len : buflen;
		if (copy)
			memcpy(buf, n->val, copy);
		rc = (ssize_t)n->len;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int store_read_u64(struct store *s, const char *path, uint64_t *out)
{
	char buf[24];
	ssize_t len = store_read(s, path, buf, sizeof(buf));
	if (len < 0)
		return (int)len;
	if (len == 0 || (size_t)len >= sizeof(buf))
		return -PVKVM_EINVAL;
	uint64_t v = 0;
	for (ssize_t i = 0; i < len; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -PVKVM_EINVAL;
		unsigned int d = (unsigned int)(buf[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -PVKVM_EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

ssize_t store_list(struct store *s, const char *path, char *buf, size_t buflen)
{
	if (!path_ok(path, true))
		return -PVKVM_EINVAL;
	pthread_mutex_lock(&s->lock);
	struct node *n = node_walk(s, path, false);
	ssize_t rc = -PVKVM_ENOENT;
	if (n) {
		size_t total = 0;
		for (struct node *c = n->child; c; c = c->next) {
			size_t len = strlen(c->name) + 1;
			if (total < buflen) {
				size_t room = buflen - total;
				memcpy(buf + total, c->name, len < room ? len : room);
			}
			total += len;
		}
		rc = (ssize_t)total;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int store_remove(struct store *s, const char *path)
{
	if (!path_ok(path, false))
		return -PVKVM_EINVAL;
	pthread_mutex_lock(&s->lock);
	struct node *n = node_walk(s, path, false);
	struct fire_list fl = { NULL, 0 };
	int rc = -PVKVM_ENOENT;
	if (n) {
		node_unlink(n);
		node_free_tree(s, n);
		fl = collect_locked(s, path, true);
		rc = 0;
	}
	pthread_mutex_unlock(&s->lock);
	fire_list(s, &fl, path);
	return rc;
}

struct store_watch *store_watch_add(struct store *s, const char *path,
				    uint64_t token, store_watch_fn fn,
				    void *arg)
{
	if (!fn || !path_ok(path, true))
		return NULL;
	struct store_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->path = strdup(path);
	if (!w->path) {
		free(w);
		return NULL;
	}
	w->token = token;
	w->fn = fn;
	w->arg = arg;
	pthread_mutex_lock(&s->lock);
	w->next = s->watches;
	s->watches = w;
	w->active++; /* the initial firing */
	pthread_mutex_unlock(&s->lock);
	fire_one(s, w, path);
	return w;
}

static unsigned int frames_in(const struct store_watch *w)
{
	unsigned int n = 0;
	for (struct firing_frame *f = tls_frames; f; f = f->up)
		n += f->w == w;
	return n;
}

void store_watch_remove(struct store *s, struct store_watch *w)
{
	if (!w)
		return;
	unsigned int mine = frames_in(w);
	pthread_mutex_lock(&s->lock);
	struct store_watch **pp = &s->watches;
	while (*pp && *pp != w)
		pp = &(*pp)->next;
	if (*pp)
		*pp = w->next;
	w->removed = true;
	while (w->active > mine)
		pthread_cond_wait(&s->idle, &s->lock);
	free(w->path);
	w->path = NULL;
	if (w->active == 0)
		free(w);
	else
		w->free_when_idle = true; /* the last frame to end frees it */
	pthread_mutex_unlock(&s->lock);
}
