// SPDX-License-Identifier: MIT
/*
 * VM and vCPU lifetime: creation with VM types, references, the generic
 * EIO checks, vCPU accounting, and the destroy path (spec §1.5, §2.3,
 * §4.11).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvm_internal.h"

int kvm_vm_create(struct kvm_host *host, unsigned long type, uint64_t mm,
		  struct kvm_vm **out)
{
	struct kvm_vm *vm;

	/* KVM_CREATE_VM: the type's bit must be in KVM_CAP_VM_TYPES. */
	if (type >= 32 || !(kvm_check_extension(host, KVM_CAP_VM_TYPES) &
			    (1 << type)))
		return -EINVAL;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->vcpus = calloc(host->cfg.max_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		free(vm);
		return -ENOMEM;
	}
	vm->host = host;
	vm->type = type;
	vm->mm = mm;
	atomic_init(&vm->refcount, 1);
	pthread_mutex_init(&vm->lock, NULL);
	list_init(&vm->sev.regions);
	list_init(&vm->sev.mirrors);
	list_init(&vm->sev.mirror_entry);
	/* sev_vm_init(): typed VMs must run INIT2 before anything runs. */
	vm->sev.need_init = type == KVM_X86_SEV_VM || type == KVM_X86_SEV_ES_VM;
	pthread_mutex_lock(&host->vm_list_lock);
	list_add_tail(&vm->host_entry, &host->vms);
	pthread_mutex_unlock(&host->vm_list_lock);
	*out = vm;
	return 0;
}

void kvm_vm_get(struct kvm_vm *vm)
{
	atomic_fetch_add(&vm->refcount, 1);
}

static void unpin_all_regions(struct kvm_vm *vm)
{
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, &vm->sev.regions) {
		struct kvm_region *r = list_entry(pos, struct kvm_region, list);

		sev_unpin_memory(vm, r->npages);
		list_del_init(&r->list);
		free(r);
	}
}

/*
 * sev_vm_destroy() [NEW]: nothing for a VM that never became SEV (or a
 * dead MOVE source); a mirror only unlinks from its owner and drops its
 * reference; an owner unpins, unbinds its handle once and parks its ASID
 * in the reclaim bitmap.
 */
static void sev_vm_destroy(struct kvm_vm *vm)
{
	struct kvm_vm *owner;

	if (!sev_guest(vm))
		return;
	if (is_mirroring(vm)) {
		/*
		 * 6.12: read and unlink the owner under sev_mirror_lock (a
		 * concurrent MOVE of the owner hands our reference to its
		 * destination under the same lock), drop it after unlocking
		 * so the owner is never destroyed inside the lock.
		 */
		pthread_mutex_lock(&vm->host->mirror_lock);
		owner = vm->sev.owner;
		list_del_init(&vm->sev.mirror_entry);
		__atomic_store_n(&vm->sev.owner, NULL, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&vm->host->mirror_lock);
		kvm_vm_put(owner);
		return;
	}
	unpin_all_regions(vm);
	if (vm->sev.handle)
		sev_unbind_asid(vm, vm->sev.handle);
	sev_asid_free(vm);
}

static void vcpu_free(struct kvm_vcpu *vcpu)
{
	pthread_mutex_destroy(&vcpu->mutex);
	free(vcpu->vmsa);
	free(vcpu);
}

void kvm_vm_put(struct kvm_vm *vm)
{
	int i;

	if (atomic_fetch_sub(&vm->refcount, 1) != 1)
		return;
	sev_vm_destroy(vm);
	pthread_mutex_lock(&vm->host->vm_list_lock);
	list_del_init(&vm->host_entry);
	pthread_mutex_unlock(&vm->host->vm_list_lock);
	for (i = 0; i < atomic_load(&vm->online_vcpus); i++)
		vcpu_free(vm->vcpus[i]);
	pthread_mutex_destroy(&vm->lock);
	free(vm->vcpus);
	free(vm);
}

/* kvm_vm_ioctl(): a dead VM or another address space gets EIO (§1.1). */
int kvm_vm_ioctl_check(struct kvm_vm *vm, const struct kvm_caller *c)
{
	if (atomic_load(&vm->dead) || vm->mm != c->mm)
		return -EIO;
	return 0;
}

/* kvm_vm_ioctl_create_vcpu(), first half: count it as created. */
int kvm_vcpu_create_begin(struct kvm_vm *vm, const struct kvm_caller *c)
{
	int ret = kvm_vm_ioctl_check(vm, c);

	if (ret)
		return ret;
	pthread_mutex_lock(&vm->lock);
	if (vm->created_vcpus >= (int)vm->host->cfg.max_vcpus)
		ret = -EINVAL;
	else
		vm->created_vcpus++;
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

/*
 * Second half: the vCPU goes online with the next index, with a VMSA
 * page if the VM is SEV-ES by now; or creation failed and is uncounted.
 */
int kvm_vcpu_create_end(struct kvm_vm *vm, bool ok, struct kvm_vcpu **out)
{
	struct kvm_vcpu *vcpu = NULL;
	int ret = 0;

	pthread_mutex_lock(&vm->lock);
	if (ok) {
		vcpu = calloc(1, sizeof(*vcpu));
		if (vcpu && sev_es_guest(vm)) {
			vcpu->vmsa = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
			if (vcpu->vmsa)
				memset(vcpu->vmsa, 0, PAGE_SIZE);
			else {
				free(vcpu);
				vcpu = NULL;
			}
		}
	}
	if (!vcpu) {
		vm->created_vcpus--;
		ret = ok ? -ENOMEM : 0;
		goto out;
	}
	vcpu->vm = vm;
	pthread_mutex_init(&vcpu->mutex, NULL);
	vcpu->index = atomic_load(&vm->online_vcpus);
	vm->vcpus[vcpu->index] = vcpu;
	atomic_fetch_add(&vm->online_vcpus, 1);
	*out = vcpu;
out:
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

int kvm_vcpu_index(const struct kvm_vcpu *vcpu)
{
	return vcpu->index;
}

struct kvm_vm *kvm_vcpu_vm(struct kvm_vcpu *vcpu)
{
	return vcpu->vm;
}

void kvm_vcpu_set_guest_debug(struct kvm_vcpu *vcpu, bool on)
{
	pthread_mutex_lock(&vcpu->mutex);
	vcpu->guest_debug = on;
	pthread_mutex_unlock(&vcpu->mutex);
}

bool kvm_vcpu_protected(struct kvm_vcpu *vcpu)
{
	bool p;

	pthread_mutex_lock(&vcpu->mutex);
	p = vcpu->protected;
	pthread_mutex_unlock(&vcpu->mutex);
	return p;
}

struct kvm_vcpu *kvm_get_vcpu(struct kvm_vm *vm, int i)
{
	if (i < 0 || i >= atomic_load(&vm->online_vcpus))
		return NULL;
	return vm->vcpus[i];
}

struct kvm_vcpu *kvm_vm_vcpu(struct kvm_vm *vm, int index)
{
	return kvm_get_vcpu(vm, index);
}

/* kvm_lock_all_vcpus(): index order.  A fatal signal cannot reach us. */
int kvm_lock_all_vcpus(struct kvm_vm *vm)
{
	int i, n = atomic_load(&vm->online_vcpus);

	for (i = 0; i < n; i++)
		pthread_mutex_lock(&vm->vcpus[i]->mutex);
	return 0;
}

void kvm_unlock_all_vcpus(struct kvm_vm *vm)
{
	int i, n = atomic_load(&vm->online_vcpus);

	for (i = n - 1; i >= 0; i--)
		pthread_mutex_unlock(&vm->vcpus[i]->mutex);
}

/*
 * KVM_RUN: need_init (typed VM before INIT2) → EINVAL in
 * svm_vcpu_pre_run; an SEV-ES vCPU without a VMSA → EINVAL in
 * pre_sev_run (§1.5, §3.4).
 */
int kvm_vcpu_run_check(struct kvm_vcpu *vcpu, const struct kvm_caller *c)
{
	struct kvm_vm *vm = vcpu->vm;
	int ret = kvm_vm_ioctl_check(vm, c);

	if (ret)
		return ret;
	pthread_mutex_lock(&vm->lock);
	if (vm->sev.need_init || (sev_es_guest(vm) && !vcpu->vmsa))
		ret = -EINVAL;
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

/* Protected state is enforced only for the SEV-ES VM type (has_protected_state). */
int kvm_vcpu_regs_check(struct kvm_vcpu *vcpu, const struct kvm_caller *c)
{
	int ret = kvm_vm_ioctl_check(vcpu->vm, c);

	if (ret)
		return ret;
	if (vcpu->vm->type == KVM_X86_SEV_ES_VM && kvm_vcpu_protected(vcpu))
		return -EINVAL;
	return 0;
}

void kvm_vm_info(struct kvm_vm *vm, struct kvm_vm_info *info)
{
	memset(info, 0, sizeof(*info));
	pthread_mutex_lock(&vm->lock);
	info->type = vm->type;
	info->active = vm->sev.active;
	info->es_active = vm->sev.es_active;
	info->need_init = vm->sev.need_init;
	info->dead = atomic_load(&vm->dead);
	pthread_mutex_lock(&vm->host->mirror_lock);
	info->mirror = vm->sev.owner != NULL;
	info->owner = vm->sev.owner;
	info->nr_mirrors = (unsigned int)list_count(&vm->sev.mirrors);
	pthread_mutex_unlock(&vm->host->mirror_lock);
	info->asid = vm->sev.asid;
	info->handle = vm->sev.handle;
	info->policy = vm->sev.policy;
	info->fd = vm->sev.fd;
	info->pages_locked = vm->sev.pages_locked;
	info->vmsa_features = vm->sev.vmsa_features;
	info->ghcb_version = vm->sev.ghcb_version;
	info->nr_regions = (unsigned int)list_count(&vm->sev.regions);
	info->created_vcpus = (unsigned int)vm->created_vcpus;
	info->online_vcpus = (unsigned int)atomic_load(&vm->online_vcpus);
	info->refcount = atomic_load(&vm->refcount);
	info->cg = vm->sev.misc_cg;
	pthread_mutex_unlock(&vm->lock);
}
