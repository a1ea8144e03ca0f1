// SPDX-License-Identifier: MIT
/*
 * Guest memory in the engine: memslots mapped zero-copy from their host
 * pointers, and MMIO -- an access outside every memslot.
 *
 * Nothing is mapped between memslots in advance (the engine unmaps page
 * by page, so covering the gaps would make each memslot change cost
 * seconds).  The first access to a page outside memory maps a page of
 * MMIO callbacks there and is retried; each callback is an exit, taken on
 * the engine's own stack like port I/O (run.c), so the instruction goes
 * on with the VMM's data and nothing is executed twice.  (Stopping the
 * engine instead would leave RIP and the lazily kept flags where the
 * block began: the engine does not restore them on that path.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vkvm_internal.h"

struct vk_mmio {
	struct vkvm_vcpu *v;
	uint64_t base;
};

static void unmap_all(struct vkvm_vcpu *v)
{
	int i;

	for (i = 0; i < v->nmapped; i += 2)
		uc_mem_unmap(v->uc, v->mapped[i], v->mapped[i + 1]);
	v->nmapped = 0;
	for (i = 0; i < v->nmmio; i++) {
		uc_mem_unmap(v->uc, v->mmio[i]->base, VK_PAGE);
		free(v->mmio[i]);
	}
	v->nmmio = 0;
}

int vk_sync_memory(struct vkvm_vcpu *v)
{
	struct vkvm_vm *vm = v->vm;
	int i, ret = 0;
	void *p;

	if (__atomic_load_n(&vm->gen, __ATOMIC_ACQUIRE) == v->gen)
		return 0;
	pthread_mutex_lock(&vm->lock);
	unmap_all(v);
	p = realloc(v->mapped, (size_t)(4 * vm->nslots + 2) * sizeof(uint64_t));
	if (!p) {
		ret = -ENOMEM;
		goto out;
	}
	v->mapped = p;
	for (i = 0; i < vm->nslots; i++) {
		const struct vkvm_slot *s = &vm->slots[i];

		if ((s->id >> 16) || ((s->gpa + s->size) >> VK_PHYS_BITS))
			continue; /* SMM's space; beyond the modelled width */
		/*
		 * The engine reads the host pointer directly: memory the VMM
		 * does not have mapped is KVM_RUN's EFAULT, not a crash.
		 */
		if (msync((void *)(uintptr_t)s->hva, s->size, MS_ASYNC)) {
			ret = -EFAULT;
			break;
		}
		if (uc_mem_map_ptr(v->uc, s->gpa, s->size,
				   (s->flags & KVM_MEM_READONLY) ?
					   UC_PROT_READ | UC_PROT_EXEC :
					   UC_PROT_ALL,
				   (void *)(uintptr_t)s->hva)) {
			ret = -ENOMEM;
			break;
		}
		v->mapped[v->nmapped++] = s->gpa;
		v->mapped[v->nmapped++] = s->size;
		/* its private copy (private.c), where the fill hook sends it */
		if (s->priv) {
			if (uc_mem_map_ptr(v->uc, VK_PRIV_BASE + s->gpa, s->size,
					   (s->flags & KVM_MEM_READONLY) ?
						   UC_PROT_READ | UC_PROT_EXEC :
						   UC_PROT_ALL,
					   s->priv->mem)) {
				ret = -ENOMEM;
				break;
			}
			v->mapped[v->nmapped++] = VK_PRIV_BASE + s->gpa;
			v->mapped[v->nmapped++] = s->size;
		}
	}
	/* code in the old layout is stale */
	uc_ctl_flush_tb(v->uc);
	if (!ret)
		v->gen = vm->gen;
out:
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

/*
 * The emulator hands an 8-byte access to MMIO over as two 4-byte ones;
 * KVM makes one exit of 8.  A read exits once for 8 bytes and serves the
 * second half from them; a write keeps its first half until the second.
 */
static bool second_half(struct vkvm_vcpu *v, uint64_t gpa, unsigned size,
			bool write)
{
	return v->half_pending && v->half_write == write &&
	       gpa == v->half_gpa + 4 && size == 4;
}

static uint64_t mmio_read(uc_engine *uc, uint64_t off, unsigned size,
			  void *arg)
{
	struct vk_mmio *m = arg;
	struct vkvm_vcpu *v = m->v;
	struct kvm_run *run = v->run;
	uint64_t val = 0, gpa = m->base + off;
	unsigned int len = size > 8 ? 8 : size;

	(void)uc;
	if (second_half(v, gpa, size, false)) {
		v->half_pending = false;
		return v->half_hi;
	}
	v->half_pending = false;
	if (vk_sync_mem_rip(v, gpa) == 8 && size == 4)
		len = 8;
	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = len;
	run->mmio.is_write = 0;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	vk_exit_and_wait(v);
	memcpy(&val, run->mmio.data, size > 8 ? 8 : size);
	if (len == 8 && size == 4) {
		memcpy(&v->half_hi, run->mmio.data + 4, 4);
		v->half_gpa = gpa;
		v->half_write = false;
		v->half_pending = true;
	}
	return val;
}

static void mmio_write(uc_engine *uc, uint64_t off, unsigned size,
		       uint64_t value, void *arg)
{
	struct vk_mmio *m = arg;
	struct vkvm_vcpu *v = m->v;
	struct kvm_run *run = v->run;
	uint64_t gpa = m->base + off;
	unsigned int len = size > 8 ? 8 : size;

	(void)uc;
	if (second_half(v, gpa, size, true)) {
		v->half_pending = false;
		value = v->half_low | value << 32;
		gpa -= 4;
		len = 8;
	} else {
		v->half_pending = false;
		if (vk_sync_mem_rip(v, gpa) == 8 && size == 4) {
			v->half_low = value & 0xffffffffull;
			v->half_gpa = gpa;
			v->half_write = true;
			v->half_pending = true;
			return; /* the exit comes with the second half */
		}
	}
	if (vk_ioeventfd_signal(v->vm, false, gpa, len, value))
		return;
	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = len;
	run->mmio.is_write = 1;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	memcpy(run->mmio.data, &value, len);
	vk_exit_and_wait(v);
}

/* An access outside every memslot: a page of MMIO there, and retry. */
static bool hook_unmapped(uc_engine *uc, uc_mem_type type, uint64_t addr,
			  int size, int64_t value, void *arg)
{
	struct vkvm_vcpu *v = arg;
	uint64_t page = addr & ~(VK_PAGE - 1);
	struct vk_mmio *m;
	void *p;

	(void)size;
	(void)value;
	if (type == UC_MEM_FETCH_UNMAPPED || (addr >> VK_PHYS_BITS))
		return false;
	/* a protected guest: #VC(NPF) at the instruction (protect.c) */
	if (vk_prot_mmio(v, addr))
		return false;
	if (v->nmmio == v->maxmmio) {
		int n = v->maxmmio ? 2 * v->maxmmio : 16;

		p = realloc(v->mmio, (size_t)n * sizeof(*v->mmio));
		if (!p)
			return false;
		v->mmio = p;
		v->maxmmio = n;
	}
	m = malloc(sizeof(*m));
	if (!m)
		return false;
	m->v = v;
	m->base = page;
	if (uc_mmio_map(uc, page, VK_PAGE, mmio_read, m, mmio_write, m)) {
		free(m);
		return false;
	}
	v->mmio[v->nmmio++] = m;
	return true;
}

int vk_mem_hooks(struct vkvm_vcpu *v)
{
	uc_hook h;

	if (uc_hook_add(v->uc, &h, UC_HOOK_MEM_READ_UNMAPPED |
				       UC_HOOK_MEM_WRITE_UNMAPPED |
				       UC_HOOK_MEM_FETCH_UNMAPPED,
			hook_unmapped, v, 1, 0))
		return -ENOMEM;
	return 0;
}

void vk_mem_release(struct vkvm_vcpu *v)
{
	int i;

	/* uc_close() frees the engine's regions; only ours remain */
	for (i = 0; i < v->nmmio; i++)
		free(v->mmio[i]);
	free(v->mmio);
	v->mmio = NULL;
	v->nmmio = 0;
	v->maxmmio = 0;
	free(v->mapped);
	v->mapped = NULL;
}
