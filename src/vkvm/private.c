// SPDX-License-Identifier: MIT
/*
 * The private view (vkvm_set_private_view()): a second copy of every
 * memslot, mapped in each engine at VK_PRIV_BASE + gpa, that the fill hook
 * (tlb.c) sends private accesses to.  vkvm knows nothing of what the copy
 * means; the layer above keeps it in step with the VMM's memory.
 *
 * Dirty pages: the fill hook gives a private page write permission only
 * for a write, and marks the page then (vkvm's own writes mark it too), so
 * the first write to a page after the engine's TLB was emptied is seen.
 * As a run ends, under the VM's run lock (no other engine runs), the set
 * becomes "taken" and an epoch is bumped; each engine empties its TLB when
 * it sees a new epoch, before it runs again (vk_priv_enter()).  The layer
 * above is handed the taken pages (vkvm_private_dirty()): a page written
 * again meanwhile is dirty again, and handed over at the next exit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vkvm_internal.h"

#define BATCH 64

static size_t bitmap_words(uint64_t size)
{
	return (size / VK_PAGE + 63) / 64;
}

/* The copy for the VMM's memory [hva, hva + size): found again or new. */
struct vk_priv *vk_priv_attach(struct vkvm_vm *vm, uint64_t hva, uint64_t size)
{
	struct vk_priv *p;

	for (p = vm->privs; p; p = p->next)
		if (!p->used && p->hva == hva && p->size == size) {
			p->used = true;
			if (!p->filled)
				vm->priv_unfilled = true;
			return p;
		}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->dirty = calloc(bitmap_words(size), sizeof(uint64_t));
	p->taken = calloc(bitmap_words(size), sizeof(uint64_t));
	p->mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!p->dirty || !p->taken || p->mem == MAP_FAILED) {
		if (p->mem != MAP_FAILED)
			munmap(p->mem, size);
		free(p->dirty);
		free(p->taken);
		free(p);
		return NULL;
	}
	p->hva = hva;
	p->size = size;
	p->used = true;
	p->next = vm->privs;
	vm->privs = p;
	vm->priv_unfilled = true;
	return p;
}

void vk_priv_free_all(struct vkvm_vm *vm)
{
	struct vk_priv *p, *n;

	for (p = vm->privs; p; p = n) {
		n = p->next;
		munmap(p->mem, p->size);
		free(p->dirty);
		free(p->taken);
		free(p);
	}
	vm->privs = NULL;
}

static void mark(struct vkvm_vm *vm, struct vk_priv *p, uint64_t off)
{
	uint64_t page = off / VK_PAGE, bit = 1ull << (page % 64);

	if (__atomic_load_n(&p->dirty[page / 64], __ATOMIC_RELAXED) & bit)
		return;
	if (!(__atomic_fetch_or(&p->dirty[page / 64], bit, __ATOMIC_RELAXED) &
	      bit))
		__atomic_add_fetch(&vm->priv_ndirty, 1, __ATOMIC_RELAXED);
}

/* The slot's copy at gpa with n bytes, and the offset in it. */
static struct vk_priv *priv_at(struct vkvm_vm *vm, uint64_t gpa, size_t n,
			       uint64_t *off)
{
	const struct vkvm_slot *s = vk_slot_find(vm, gpa);

	if (!s || !s->priv || gpa + n > s->gpa + s->size)
		return NULL;
	*off = gpa - s->gpa;
	return s->priv;
}

void *vk_priv_ptr(struct vkvm_vcpu *v, uint64_t gpa, size_t n, bool write)
{
	struct vkvm_vm *vm = v->vm;
	struct vk_priv *p;
	uint64_t off;
	void *q = NULL;

	pthread_mutex_lock(&vm->lock);
	p = priv_at(vm, gpa, n, &off);
	if (p) {
		q = p->mem + off;
		if (write) {
			uint64_t end = off + (n ? n : 1);

			for (; off < end; off = (off | (VK_PAGE - 1)) + 1)
				mark(vm, p, off);
		}
	}
	pthread_mutex_unlock(&vm->lock);
	return q;
}

void *vk_mem_ptr(struct vkvm_vcpu *v, uint64_t gpa, size_t n, bool priv,
		 bool write)
{
	if (priv && v->vm->priv_bit)
		return vk_priv_ptr(v, gpa, n, write);
	return vk_gpa_ptr(v, gpa, n);
}

void vk_priv_mark(struct vkvm_vcpu *v, uint64_t gpa)
{
	vk_priv_ptr(v, gpa, 1, true);
}

/* The engine maps exactly these (vk_sync_memory()). */
static bool engine_slot(const struct vkvm_slot *s)
{
	return s->priv && !(s->id >> 16) &&
	       !((s->gpa + s->size) >> VK_PHYS_BITS);
}

uint64_t vk_priv_engine_pa(struct vkvm_vcpu *v, uint64_t gpa, bool priv,
			   bool write)
{
	struct vkvm_vm *vm = v->vm;
	const struct vkvm_slot *s;
	uint64_t pa = gpa;

	if (!priv || !vm->priv_bit)
		return gpa;
	pthread_mutex_lock(&vm->lock);
	s = vk_slot_find(vm, gpa);
	if (s && engine_slot(s)) {
		pa = VK_PRIV_BASE + gpa;
		if (write)
			mark(vm, s->priv, gpa - s->gpa);
	}
	pthread_mutex_unlock(&vm->lock);
	return pa;
}

void vk_priv_enter(struct vkvm_vcpu *v)
{
	struct vkvm_vm *vm = v->vm;
	unsigned int e, g;

	if (!vm->priv_bit)
		return;
	e = __atomic_load_n(&vm->priv_epoch, __ATOMIC_ACQUIRE);
	g = __atomic_load_n(&vm->priv_tbgen, __ATOMIC_ACQUIRE);
	if (e != v->priv_epoch) {
		uc_ctl_flush_tlb(v->uc);
		v->priv_epoch = e;
	}
	if (g != v->priv_tbgen) {
		uc_ctl_flush_tb(v->uc);
		v->priv_tbgen = g;
	}
}

int vkvm_set_private_view(int fd, uint64_t bit)
{
	struct vkvm_vm *vm = vk_vm_of(fd);
	int i, ret = 0;

	if (!vm)
		return -EBADF;
	pthread_mutex_lock(&vm->lock);
	if (__atomic_load_n(&vm->ran, __ATOMIC_ACQUIRE)) {
		ret = -EBUSY;
	} else if (!bit || (bit & (bit - 1)) || !(bit & vm->pa_ignore)) {
		ret = -EINVAL;
	} else if (!vm->priv_bit) {
		for (i = 0; i < vm->nslots && !ret; i++) {
			struct vkvm_slot *s = &vm->slots[i];

			if (!(s->id >> 16) && !s->priv) {
				s->priv = vk_priv_attach(vm, s->hva, s->size);
				if (!s->priv)
					ret = -ENOMEM;
				else
					s->priv->gpa = s->gpa;
			}
		}
		if (!ret)
			__atomic_store_n(&vm->priv_bit, bit, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

/* Batches of ranges for fn, outside the VM's lock. */
struct batch {
	struct vkvm_priv_range r[BATCH];
	int n;
	vkvm_priv_fn fn;
	void *opaque;
	int ret;
};

static void flush_batch(struct batch *b)
{
	if (b->n && !b->ret)
		b->ret = b->fn(b->opaque, b->r, b->n);
	b->n = 0;
}

/* Collects ranges under the lock; a full batch is handed over at once. */
static struct vkvm_priv_range *grow(struct batch **list, int *nlist)
{
	struct batch *b = &(*list)[*nlist - 1];

	if (b->n == BATCH) {
		struct batch *l =
			realloc(*list, (size_t)(*nlist + 1) * sizeof(**list));

		if (!l)
			return NULL;
		*list = l;
		b = &l[(*nlist)++];
		memset(b, 0, sizeof(*b));
	}
	return &b->r[b->n++];
}

static int run_batches(struct batch *list, int nlist, vkvm_priv_fn fn,
		       void *opaque)
{
	int i, ret = 0;

	for (i = 0; i < nlist && !ret; i++) {
		list[i].fn = fn;
		list[i].opaque = opaque;
		list[i].ret = 0;
		flush_batch(&list[i]);
		ret = list[i].ret;
	}
	return ret;
}

static struct vkvm_vm *view_of(int fd, int *err)
{
	struct vkvm_vm *vm = vk_vm_of_any(fd);

	*err = 0;
	if (!vm)
		*err = -EBADF;
	else if (!__atomic_load_n(&vm->priv_bit, __ATOMIC_RELAXED))
		*err = -ENOENT;
	return *err ? NULL : vm;
}

static void range_of(const struct vkvm_slot *s, uint64_t off, uint64_t len,
		     struct vkvm_priv_range *r)
{
	r->gpa = s->gpa + off;
	r->hva = s->hva + off;
	r->len = len;
	r->priv = s->priv->mem + off;
}

int vkvm_private_fill(int fd, vkvm_priv_fn fn, void *opaque)
{
	struct vk_priv *todo[VK_MAX_SLOTS];
	struct vkvm_vm *vm;
	struct batch *list;
	int i, nlist = 1, ntodo = 0, ret;

	vm = view_of(fd, &ret);
	if (!vm)
		return ret;
	if (!__atomic_load_n(&vm->priv_unfilled, __ATOMIC_ACQUIRE))
		return 0;
	list = calloc(1, sizeof(*list));
	if (!list)
		return -ENOMEM;
	pthread_mutex_lock(&vm->lock);
	vm->priv_unfilled = false;
	for (i = 0; i < vm->nslots; i++) {
		const struct vkvm_slot *s = &vm->slots[i];
		struct vkvm_priv_range *r;

		if (!s->priv || s->priv->filled || ntodo == VK_MAX_SLOTS)
			continue;
		r = grow(&list, &nlist);
		if (!r)
			break;
		range_of(s, 0, s->size, r);
		todo[ntodo++] = s->priv;
	}
	pthread_mutex_unlock(&vm->lock);
	ret = run_batches(list, nlist, fn, opaque);
	free(list);
	pthread_mutex_lock(&vm->lock);
	for (i = 0; i < ntodo; i++) {
		if (ret)
			vm->priv_unfilled = true;
		else
			todo[i]->filled = true;
	}
	pthread_mutex_unlock(&vm->lock);
	if (!ret)
		vkvm_private_written(fd);
	return ret;
}

int vkvm_private_lookup(int fd, uint64_t hva, uint64_t len, vkvm_priv_fn fn,
			void *opaque)
{
	struct vkvm_vm *vm;
	struct batch *list;
	uint64_t lo, hi;
	int i, nlist = 1, ret;

	vm = view_of(fd, &ret);
	if (!vm)
		return ret;
	if (!len || hva + len < hva)
		return 0;
	lo = hva & ~(VK_PAGE - 1);
	hi = (hva + len + VK_PAGE - 1) & ~(VK_PAGE - 1);
	list = calloc(1, sizeof(*list));
	if (!list)
		return -ENOMEM;
	pthread_mutex_lock(&vm->lock);
	for (i = 0; i < vm->nslots; i++) {
		const struct vkvm_slot *s = &vm->slots[i];
		uint64_t a, b;
		struct vkvm_priv_range *r;

		if (!s->priv || !s->priv->filled)
			continue;
		a = lo > s->hva ? lo : s->hva;
		b = hi < s->hva + s->size ? hi : s->hva + s->size;
		if (a >= b)
			continue;
		r = grow(&list, &nlist);
		if (!r)
			break;
		range_of(s, a - s->hva, b - a, r);
	}
	pthread_mutex_unlock(&vm->lock);
	ret = run_batches(list, nlist, fn, opaque);
	free(list);
	return ret;
}

/* Dirty -> taken, and a new epoch: with the run lock and vm->lock held. */
static void take(struct vkvm_vm *vm)
{
	struct vk_priv *p;
	size_t w, n;

	if (!__atomic_load_n(&vm->priv_ndirty, __ATOMIC_RELAXED))
		return;
	for (p = vm->privs; p; p = p->next) {
		n = bitmap_words(p->size);
		/*
		 * A copy no memslot uses: its memory may be the VMM's for
		 * something else by now, so its writes are dropped.
		 */
		if (!p->used) {
			memset(p->dirty, 0, n * sizeof(uint64_t));
			memset(p->taken, 0, n * sizeof(uint64_t));
			continue;
		}
		for (w = 0; w < n; w++) {
			uint64_t d = p->dirty[w];

			if (!d)
				continue;
			vm->priv_ntaken +=
				__builtin_popcountll(d & ~p->taken[w]);
			p->taken[w] |= d;
			p->dirty[w] = 0;
		}
	}
	__atomic_store_n(&vm->priv_ndirty, 0, __ATOMIC_RELAXED);
	__atomic_add_fetch(&vm->priv_epoch, 1, __ATOMIC_RELEASE);
}

void vk_priv_exit(struct vkvm_vm *vm)
{
	if (!vm->priv_bit)
		return;
	pthread_mutex_lock(&vm->lock);
	take(vm);
	pthread_mutex_unlock(&vm->lock);
}

int vkvm_private_dirty(int fd, vkvm_priv_fn fn, void *opaque)
{
	struct vkvm_vm *vm;
	struct batch *list;
	struct vk_priv *p;
	int nlist = 1, ret;
	bool now;

	vm = view_of(fd, &ret);
	if (!vm)
		return ret;
	/*
	 * A VM's descriptor: up to now, so a running vCPU's slice ends
	 * first; a vCPU's: up to the last exit (vk_priv_exit() took them).
	 */
	now = vkvm_kind(fd) == VKVM_VM;
	if (!__atomic_load_n(&vm->priv_ntaken, __ATOMIC_ACQUIRE) &&
	    (!now || !__atomic_load_n(&vm->priv_ndirty, __ATOMIC_ACQUIRE)))
		return 0;
	list = calloc(1, sizeof(*list));
	if (!list)
		return -ENOMEM;
	if (now)
		vk_cpu_lock(vm);
	pthread_mutex_lock(&vm->lock);
	if (now)
		take(vm);
	for (p = vm->privs; p; p = p->next) {
		uint64_t pages = p->size / VK_PAGE, pg, start = 0;
		bool open = false;

		if (!p->used) {
			memset(p->taken, 0,
			       bitmap_words(p->size) * sizeof(uint64_t));
			continue;
		}

		for (pg = 0; pg <= pages; pg++) {
			uint64_t *w = &p->taken[pg / 64];
			bool d = false;

			if (pg < pages && !(pg % 64) && !*w && !open) {
				pg += 63;
				continue;
			}
			if (pg < pages)
				d = *w & (1ull << (pg % 64));
			if (d && !open) {
				open = true;
				start = pg;
			} else if (!d && open) {
				struct vkvm_priv_range *r = grow(&list, &nlist);

				open = false;
				if (r) {
					r->gpa = p->gpa + start * VK_PAGE;
					r->hva = p->hva + start * VK_PAGE;
					r->len = (pg - start) * VK_PAGE;
					r->priv = p->mem + start * VK_PAGE;
				}
			}
		}
		memset(p->taken, 0, bitmap_words(p->size) * sizeof(uint64_t));
	}
	__atomic_store_n(&vm->priv_ntaken, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->lock);
	if (now)
		vk_cpu_unlock(vm);
	ret = run_batches(list, nlist, fn, opaque);
	free(list);
	return ret;
}

void vkvm_private_written(int fd)
{
	struct vkvm_vm *vm = vk_vm_of_any(fd);

	if (vm)
		__atomic_add_fetch(&vm->priv_tbgen, 1, __ATOMIC_RELEASE);
}

bool vkvm_private_on(int fd)
{
	struct vkvm_vm *vm = vk_vm_of_any(fd);

	return vm && __atomic_load_n(&vm->priv_bit, __ATOMIC_RELAXED);
}

bool vkvm_private_pending(int fd)
{
	struct vkvm_vm *vm = vk_vm_of_any(fd);

	return vm && (__atomic_load_n(&vm->priv_unfilled, __ATOMIC_RELAXED) ||
		      __atomic_load_n(&vm->priv_ndirty, __ATOMIC_RELAXED) ||
		      __atomic_load_n(&vm->priv_ntaken, __ATOMIC_RELAXED));
}
