// SPDX-License-Identifier: MIT
/* VM objects and their ioctls: kvm_vm_ioctl() and kvm_arch_vm_ioctl(). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "vkvm_internal.h"

#define KVM_MEM_SLOTS_NUM 32767 /* SHRT_MAX */
#define TASK_SIZE_MAX 0x7ffffffff000ull
#define NR_AS_IDS 2 /* x86 with SMM: two address spaces */

static int64_t host_ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

struct vkvm_vm *vk_vm_new(unsigned long type, int *err)
{
	struct vkvm_vm *vm;

	/* kvm_arch_init_vm(): only the types this KVM supports */
	if (type != KVM_X86_DEFAULT_VM) {
		*err = -EINVAL;
		return NULL;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		*err = -ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&vm->lock, NULL);
	pthread_mutex_init(&vm->cpu.m, NULL);
	pthread_cond_init(&vm->cpu.c, NULL);
	vm->owner = vk_self();
	vm->refs = 1;
	vm->gen = 1;
	vm->tsc_khz = 2000000;
	vm->clock_offset = -host_ns(CLOCK_MONOTONIC);
	return vm;
}

/* The last file of the VM (or of one of its vCPUs) was closed. */
void vk_vm_put(struct vkvm_vm *vm)
{
	int i, refs;

	pthread_mutex_lock(&vm->lock);
	refs = --vm->refs;
	pthread_mutex_unlock(&vm->lock);
	if (refs)
		return;
	for (i = 0; i < vm->nvcpus; i++)
		vk_vcpu_free(vm->vcpus[i]);
	vk_ioeventfd_free(vm);
	if (vm->prot_release)
		vm->prot_release(vm->prot_opaque);
	free(vm->zones);
	pthread_mutex_destroy(&vm->lock);
	pthread_mutex_destroy(&vm->cpu.m);
	pthread_cond_destroy(&vm->cpu.c);
	free(vm);
}

const struct vkvm_slot *vk_slot_find(struct vkvm_vm *vm, uint64_t gpa)
{
	int lo = 0, hi = vm->nslots - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		const struct vkvm_slot *s = &vm->slots[mid];

		if (gpa < s->gpa)
			hi = mid - 1;
		else if (gpa >= s->gpa + s->size)
			lo = mid + 1;
		else
			return (s->id >> 16) ? NULL : s;
	}
	return NULL;
}

static int slot_index(struct vkvm_vm *vm, uint32_t id)
{
	int i;

	for (i = 0; i < vm->nslots; i++)
		if (vm->slots[i].id == id)
			return i;
	return -1;
}

/* kvm_check_memslot_overlap(), within one address space. */
static bool overlaps(struct vkvm_vm *vm, uint32_t id, uint64_t gpa,
		     uint64_t size)
{
	int i;

	for (i = 0; i < vm->nslots; i++) {
		const struct vkvm_slot *s = &vm->slots[i];

		if (s->id == id || (s->id >> 16) != (id >> 16))
			continue;
		if (gpa < s->gpa + s->size && s->gpa < gpa + size)
			return true;
	}
	return false;
}

static void slot_del(struct vkvm_vm *vm, int i)
{
	memmove(&vm->slots[i], &vm->slots[i + 1],
		(size_t)(vm->nslots - i - 1) * sizeof(vm->slots[0]));
	vm->nslots--;
}

static int slot_add(struct vkvm_vm *vm, const struct vkvm_slot *n)
{
	int i;

	if (vm->nslots >= VK_MAX_SLOTS * NR_AS_IDS)
		return -ENOSPC;
	/* sorted by gpa; the second address space sorts with the first */
	for (i = 0; i < vm->nslots && vm->slots[i].gpa < n->gpa; i++)
		;
	memmove(&vm->slots[i + 1], &vm->slots[i],
		(size_t)(vm->nslots - i) * sizeof(vm->slots[0]));
	vm->slots[i] = *n;
	vm->nslots++;
	return 0;
}

/* __kvm_set_memory_region(), check for check. */
static int set_region(struct vkvm_vm *vm,
		      const struct kvm_userspace_memory_region2 *m)
{
	uint32_t as_id = m->slot >> 16, id16 = (uint16_t)m->slot;
	struct vkvm_slot n = { .id = m->slot, .flags = m->flags,
			       .gpa = m->guest_phys_addr,
			       .size = m->memory_size,
			       .hva = m->userspace_addr };
	int old;

	if (id16 >= VK_MAX_SLOTS) /* kvm_vm_ioctl_set_memory_region() */
		return -EINVAL;
	if (m->flags & ~(uint32_t)(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY))
		return -EINVAL; /* check_memory_region_flags() */
	if (m->memory_size & (VK_PAGE - 1))
		return -EINVAL;
	if (m->guest_phys_addr & (VK_PAGE - 1))
		return -EINVAL;
	if ((m->userspace_addr & (VK_PAGE - 1)) ||
	    m->userspace_addr + m->memory_size < m->userspace_addr ||
	    m->userspace_addr + m->memory_size > TASK_SIZE_MAX)
		return -EINVAL; /* access_ok() */
	if (as_id >= NR_AS_IDS || id16 >= KVM_MEM_SLOTS_NUM)
		return -EINVAL;
	if (m->guest_phys_addr + m->memory_size < m->guest_phys_addr)
		return -EINVAL;
	if ((m->memory_size >> 12) > (1ull << 31) - 1)
		return -EINVAL; /* KVM_MEM_MAX_NR_PAGES */
	old = slot_index(vm, m->slot);
	if (!m->memory_size) {
		if (old < 0)
			return -EINVAL;
		slot_del(vm, old);
		vm->gen++;
		return 0;
	}
	if (old >= 0) {
		const struct vkvm_slot *o = &vm->slots[old];

		if (o->hva != n.hva || o->size != n.size ||
		    ((o->flags ^ n.flags) & KVM_MEM_READONLY))
			return -EINVAL;
		if (o->gpa == n.gpa) { /* flags only, or nothing */
			vm->slots[old].flags = n.flags;
			return 0;
		}
	}
	if (overlaps(vm, m->slot, n.gpa, n.size))
		return -EEXIST;
	if (old >= 0)
		slot_del(vm, old);
	vm->gen++;
	return slot_add(vm, &n);
}

static long user_memory_region(struct vkvm_vm *vm, unsigned long req,
			       void *arg)
{
	struct kvm_userspace_memory_region2 m;
	size_t size = req == KVM_SET_USER_MEMORY_REGION ?
			      sizeof(struct kvm_userspace_memory_region) :
			      sizeof(m);
	int ret;

	memset(&m, 0, sizeof(m));
	if (vk_copy_in(&m, arg, size))
		return -EFAULT;
	/* KVM_SET_USER_MEMORY_REGION_V1_FLAGS */
	if (req == KVM_SET_USER_MEMORY_REGION &&
	    (m.flags & ~(uint32_t)(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY)))
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	ret = set_region(vm, &m);
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

static long create_vcpu(struct vkvm_vm *vm, unsigned long id)
{
	struct vkvm_vcpu *v;
	int i, err = 0;

	/* kvm_vm_ioctl_create_vcpu() */
	if (id >= VK_MAX_VCPU_ID)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	if (vm->nvcpus >= VK_MAX_VCPUS) {
		pthread_mutex_unlock(&vm->lock);
		return -EINVAL;
	}
	/* kvm_arch_vcpu_precreate(): the limit is fixed from here on */
	if (!vm->max_vcpu_ids)
		vm->max_vcpu_ids = VK_MAX_VCPU_ID;
	if (id >= vm->max_vcpu_ids) {
		pthread_mutex_unlock(&vm->lock);
		return -EINVAL;
	}
	for (i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i]->id == (int)id) {
			pthread_mutex_unlock(&vm->lock);
			return -EEXIST;
		}
	vm->created_vcpu = true;
	pthread_mutex_unlock(&vm->lock);
	v = vk_vcpu_new(vm, (int)id, &err);
	if (!v)
		return err;
	err = vk_table_vcpu(v);
	if (err) {
		close(v->fd);
		vk_vcpu_free(v);
		return err;
	}
	pthread_mutex_lock(&vm->lock);
	v->index = vm->nvcpus;
	vm->vcpus[vm->nvcpus++] = v;
	vm->refs++; /* the vCPU file holds the VM */
	pthread_mutex_unlock(&vm->lock);
	return v->fd;
}

static long clock_get(struct vkvm_vm *vm, void *arg)
{
	struct kvm_clock_data d;

	memset(&d, 0, sizeof(d));
	/* modulo 2^64, as the kernel's u64 arithmetic */
	d.clock = (uint64_t)host_ns(CLOCK_MONOTONIC) + (uint64_t)vm->clock_offset;
	d.flags = KVM_CLOCK_REALTIME;
	d.realtime = (uint64_t)host_ns(CLOCK_REALTIME);
	return vk_copy_out(arg, &d, sizeof(d));
}

static long clock_set(struct vkvm_vm *vm, void *arg)
{
	struct kvm_clock_data d;
	int64_t now = host_ns(CLOCK_MONOTONIC);

	if (vk_copy_in(&d, arg, sizeof(d)))
		return -EFAULT;
	if (d.flags & ~(uint32_t)(KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC))
		return -EINVAL; /* kvm_vm_ioctl_set_clock() */
	if (d.flags & KVM_CLOCK_REALTIME) {
		uint64_t real = (uint64_t)host_ns(CLOCK_REALTIME);

		if (real > d.realtime)
			d.clock += real - d.realtime;
	}
	vm->clock_offset = (int64_t)(d.clock - (uint64_t)now);
	return 0;
}

static long set_ident(struct vkvm_vm *vm, void *arg)
{
	uint64_t addr;
	long ret = 0;

	if (vk_copy_in(&addr, arg, sizeof(addr)))
		return -EFAULT;
	pthread_mutex_lock(&vm->lock);
	if (vm->created_vcpu) /* kvm_vm_ioctl_set_identity_map_addr() */
		ret = -EINVAL;
	else
		vm->ident_addr = addr;
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

static long create_irqchip(struct vkvm_vm *vm)
{
	long ret = 0;

	pthread_mutex_lock(&vm->lock);
	if (vm->irqchip)
		ret = -EEXIST;
	else if (vm->created_vcpu)
		ret = -EINVAL;
	else
		vm->irqchip = true;
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

/* kvm_vm_ioctl_enable_cap(), KVM_CAP_MAX_VCPU_ID */
static long max_vcpu_id(struct vkvm_vm *vm, uint64_t n)
{
	long ret = -EINVAL;

	if (n > VK_MAX_VCPU_ID)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	if (vm->bsp_id > n) {
		;
	} else if (vm->max_vcpu_ids == n) {
		ret = 0;
	} else if (!vm->max_vcpu_ids) {
		vm->max_vcpu_ids = (uint32_t)n;
		ret = 0;
	}
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

/*
 * kvm_vm_ioctl_enable_cap_generic() then kvm_vm_ioctl_enable_cap(): the
 * capabilities vk_check_extension() reports that can be enabled on a VM.
 * Every other one is EINVAL, as for a cap the kernel does not know.
 */
static long enable_cap(struct vkvm_vm *vm, void *arg)
{
	struct kvm_enable_cap c;

	if (vk_copy_in(&c, arg, sizeof(c)))
		return -EFAULT;
	switch (c.cap) {
	case KVM_CAP_HALT_POLL:
		if (c.flags || c.args[0] != (uint32_t)c.args[0])
			return -EINVAL;
		vm->max_halt_poll_ns = (uint32_t)c.args[0];
		return 0;
	}
	if (c.flags)
		return -EINVAL;
	switch (c.cap) {
	case KVM_CAP_MAX_VCPU_ID:
		return max_vcpu_id(vm, c.args[0]);
	}
	return -EINVAL;
}

/* kvm_arch_vm_ioctl(), KVM_SET_BOOT_CPU_ID */
static long boot_cpu_id(struct vkvm_vm *vm, unsigned long id)
{
	long ret = 0;

	pthread_mutex_lock(&vm->lock);
	if (vm->created_vcpu)
		ret = -EBUSY;
	else if (id > VK_MAX_VCPU_ID ||
		 (vm->max_vcpu_ids && id > vm->max_vcpu_ids))
		ret = -EINVAL;
	else
		vm->bsp_id = (uint32_t)id;
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

static long gsi_routing(void *arg)
{
	struct kvm_irq_routing r;

	if (vk_copy_in(&r, arg, sizeof(r)))
		return -EFAULT;
	if (r.nr > 4096 || r.flags) /* KVM_MAX_IRQ_ROUTES */
		return -EINVAL;
	return 0;
}

static long irq_line(struct vkvm_vm *vm, void *arg)
{
	struct kvm_irq_level l;

	if (vk_copy_in(&l, arg, sizeof(l)))
		return -EFAULT;
	if (!vm->irqchip) /* kvm_vm_ioctl_irq_line() */
		return -ENXIO;
	return 0;
}

/*
 * kvm_irqfd(): only with an in-kernel irqchip (kvm_arch_irqfd_allowed());
 * vkvm has no interrupt controller, so an assigned irqfd never fires
 * (docs/fidelity.md V16).
 */
static long irqfd(struct vkvm_vm *vm, void *arg)
{
	struct kvm_irqfd a;

	if (vk_copy_in(&a, arg, sizeof(a)))
		return -EFAULT;
	if (a.flags & ~(uint32_t)(KVM_IRQFD_FLAG_DEASSIGN |
				  KVM_IRQFD_FLAG_RESAMPLE))
		return -EINVAL;
	if (a.flags & KVM_IRQFD_FLAG_DEASSIGN)
		return 0;
	if (!vm->irqchip)
		return -EINVAL;
	return fcntl((int)a.fd, F_GETFD) < 0 ? -EBADF : 0;
}

long vk_vm_ioctl(struct vkvm_vm *vm, int fd, unsigned long req, void *arg)
{
	(void)fd;
	switch (req) {
	case KVM_CREATE_VCPU:
		return create_vcpu(vm, (unsigned long)arg);
	case KVM_SET_USER_MEMORY_REGION:
	case KVM_SET_USER_MEMORY_REGION2:
		return user_memory_region(vm, req, arg);
	case KVM_CHECK_EXTENSION:
		return vk_check_extension(vm, (long)arg);
	case KVM_ENABLE_CAP:
		return enable_cap(vm, arg);
	case KVM_SET_TSS_ADDR: /* svm_set_tss_addr(): nothing to do */
		return 0;
	case KVM_SET_IDENTITY_MAP_ADDR:
		return set_ident(vm, arg);
	case KVM_CREATE_IRQCHIP:
		return create_irqchip(vm);
	case KVM_IRQ_LINE:
	case KVM_IRQ_LINE_STATUS:
		return irq_line(vm, arg);
	case KVM_SET_GSI_ROUTING:
		return gsi_routing(arg);
	case KVM_IOEVENTFD:
		return vk_ioeventfd(vm, arg);
	case KVM_REGISTER_COALESCED_MMIO:
	case KVM_UNREGISTER_COALESCED_MMIO:
		return vk_coalesced(vm, req, arg);
	case KVM_IRQFD:
		return irqfd(vm, arg);
	case KVM_GET_CLOCK:
		return clock_get(vm, arg);
	case KVM_SET_CLOCK:
		return clock_set(vm, arg);
	case KVM_GET_TSC_KHZ:
		return vm->tsc_khz;
	case KVM_SET_BOOT_CPU_ID:
		return boot_cpu_id(vm, (unsigned long)arg);
	case KVM_SET_NR_MMU_PAGES:
		return 0;
	}
	return -ENOTTY; /* kvm_arch_vm_ioctl() */
}
