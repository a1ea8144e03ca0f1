// SPDX-License-Identifier: MIT
/*
 * KVM_CAP_VM_COPY_ENC_CONTEXT_FROM (mirror VMs) and
 * KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM (intra-host migration), spec §2.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvm_internal.h"

/* sev_lock_two_vms() (§2.1): flags fail fast, then dst->lock, src->lock. */
static int lock_two_vms(struct kvm_vm *dst, struct kvm_vm *src)
{
	int zero = 0;

	if (dst == src)
		return -EINVAL;
	if (!atomic_compare_exchange_strong(&dst->migration_in_progress, &zero,
					    1))
		return -EBUSY;
	zero = 0;
	if (!atomic_compare_exchange_strong(&src->migration_in_progress, &zero,
					    1)) {
		atomic_store(&dst->migration_in_progress, 0);
		return -EBUSY;
	}
	pthread_mutex_lock(&dst->lock);
	pthread_mutex_lock(&src->lock);
	return 0;
}

static void unlock_two_vms(struct kvm_vm *dst, struct kvm_vm *src)
{
	pthread_mutex_unlock(&dst->lock);
	pthread_mutex_unlock(&src->lock);
	atomic_store(&dst->migration_in_progress, 0);
	atomic_store(&src->migration_in_progress, 0);
}

/* §2.2: the mirror shares src's ASID and handle and holds a reference. */
static int copy_enc_context_from(struct kvm_vm *dst, struct kvm_vm *src)
{
	struct kvm_sev_info *m = &dst->sev, *s = &src->sev;
	int ret = lock_two_vms(dst, src);

	if (ret)
		return ret;
	/* Checks 6–9: one combined EINVAL. */
	if (sev_guest(dst) || !sev_guest(src) || is_mirroring(src) ||
	    dst->created_vcpus) {
		ret = -EINVAL;
		goto out;
	}
	pthread_mutex_lock(&dst->host->mirror_lock);
	kvm_vm_get(src);
	list_add_tail(&m->mirror_entry, &s->mirrors);
	__atomic_store_n(&m->owner, src, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&dst->host->mirror_lock);
	m->active = true;
	m->asid = s->asid;
	m->fd = s->fd;
	m->es_active = s->es_active;
	m->need_init = false;
	m->handle = s->handle;
	list_init(&m->regions);
	list_init(&m->mirrors);
	/* Not copied: policy, pages_locked, vmsa_features (Q6), misc_cg. */
out:
	unlock_two_vms(dst, src);
	return ret;
}

/* sev_check_source_vcpus() (§2.4 checks 11–13). */
static int check_source_vcpus(struct kvm_vm *dst, struct kvm_vm *src)
{
	int i, n = atomic_load(&src->online_vcpus);

	if (src->created_vcpus != n ||
	    dst->created_vcpus != atomic_load(&dst->online_vcpus))
		return -EBUSY;
	if (!sev_es_guest(src))
		return 0;
	if (n != atomic_load(&dst->online_vcpus))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!src->vcpus[i]->protected)
			return -EINVAL;
	return 0;
}

/* sev_migrate_from() (§2.5): everything moves; src keeps nothing. */
static void migrate_from(struct kvm_vm *dst, struct kvm_vm *src)
{
	struct kvm_sev_info *d = &dst->sev, *s = &src->sev;
	struct list_head *pos;
	struct kvm_vm *owner;
	int i, n;

	d->active = true;
	d->asid = s->asid;
	d->handle = s->handle;
	d->pages_locked = s->pages_locked;
	d->es_active = s->es_active;
	d->vmsa_features = s->vmsa_features;
	s->asid = 0;
	s->active = false;
	s->handle = 0;
	s->pages_locked = 0;
	s->es_active = false;
	/* 4674164f0ac5: splicing an empty list is fine. */
	list_splice_tail_init(&s->regions, &d->regions);
	/*
	 * sev_mirror_lock, as 6.12's sev_migrate_from() takes it: a mirror
	 * being destroyed reads its owner and unlinks under this lock, so it
	 * sees either src (before) or dst (after), never half of each.
	 */
	pthread_mutex_lock(&dst->host->mirror_lock);
	/* b2125513dfc0: each mirror's reference moves from src to dst. */
	list_splice_tail_init(&s->mirrors, &d->mirrors);
	for (pos = d->mirrors.next; pos != &d->mirrors; pos = pos->next) {
		struct kvm_vm *mirror =
			list_entry(pos, struct kvm_vm, sev.mirror_entry);

		kvm_vm_get(dst);
		kvm_vm_put(src); /* the caller's reference keeps src alive */
		__atomic_store_n(&mirror->sev.owner, dst, __ATOMIC_RELEASE);
	}
	/*
	 * 642525e3bd47: a moved mirror stays a mirror; dst takes src's place
	 * in the owner's list and inherits its owner reference.
	 */
	owner = s->owner;
	if (owner) {
		__atomic_store_n(&d->owner, owner, __ATOMIC_RELEASE);
		__atomic_store_n(&s->owner, NULL, __ATOMIC_RELEASE);
		list_del_init(&s->mirror_entry);
		list_add_tail(&d->mirror_entry, &owner->sev.mirrors);
	}
	pthread_mutex_unlock(&dst->host->mirror_lock);
	n = atomic_load(&dst->online_vcpus);
	for (i = 0; d->es_active && i < n; i++) {
		struct kvm_vcpu *dv = dst->vcpus[i], *sv = src->vcpus[i];

		/*
		 * Q8: dst was not an SEV guest when its vCPUs were created,
		 * so they have no VMSA page to lose (K7).
		 */
		dv->vmsa = sv->vmsa;
		dv->protected = true;
		sv->vmsa = NULL;
		sv->protected = false;
	}
}

/* §2.4, checks in order, with the cgroup cleanup of 501cfe067906. */
static int move_enc_context_from(struct kvm_vm *dst, struct kvm_vm *src,
				 const struct kvm_caller *c)
{
	struct kvm_vm *cleanup = dst;
	bool charged = false;
	int ret = lock_two_vms(dst, src);

	if (ret)
		return ret;
	if (dst->type != src->type || sev_guest(dst) || !sev_guest(src)) {
		ret = -EINVAL;
		goto out_unlock;
	}
	dst->sev.misc_cg = c->cg ? c->cg : kvm_misc_cg_root(dst->host);
	if (dst->sev.misc_cg != src->sev.misc_cg) {
		/* Q1: dst's es_active is still false, so this is SEV. */
		ret = sev_misc_cg_try_charge(dst);
		if (ret)
			goto out_cgroup;
		charged = true;
	}
	kvm_lock_all_vcpus(dst);
	kvm_lock_all_vcpus(src);
	ret = check_source_vcpus(dst, src);
	if (!ret) {
		migrate_from(dst, src);
		atomic_store(&src->dead, true);
		cleanup = src;
	}
	kvm_unlock_all_vcpus(src);
	kvm_unlock_all_vcpus(dst);
out_cgroup:
	/* On the source after success, on the destination after failure. */
	if (charged)
		sev_misc_cg_uncharge(cleanup);
	cleanup->sev.misc_cg = NULL;
out_unlock:
	unlock_two_vms(dst, src);
	return ret;
}

/*
 * KVM_ENABLE_CAP (§1.1): generic EIO, copy-in, flags, then the op with
 * args[0] truncated to 32 bits (Q3).  Only the two SEV caps come here.
 * svm_x86_ops installs both handlers whenever the kernel is built with
 * SEV support, so with the sev module parameter off the fd is still
 * looked up (EBADF) and the VMs locked (EINVAL for the same VM, EBUSY)
 * before the source's missing SEV context answers EINVAL (issue 13.5).
 */
int kvm_vm_enable_cap(struct kvm_vm *vm, const struct kvm_caller *c,
		      uint64_t arg)
{
	struct kvm_enable_cap cap;
	struct kvm_vm *src;
	int ret = kvm_vm_ioctl_check(vm, c);

	if (ret)
		return ret;
	if (copy_from_user(c, &cap, arg, sizeof(cap)))
		return -EFAULT;
	if (cap.flags)
		return -EINVAL;
	if (cap.cap != KVM_CAP_VM_COPY_ENC_CONTEXT_FROM &&
	    cap.cap != KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM)
		return -EINVAL;
	ret = c->vm_fd(c->ctx, (unsigned int)cap.args[0], &src);
	if (ret)
		return ret; /* EBADF: not open, or not a VM */
	if (cap.cap == KVM_CAP_VM_COPY_ENC_CONTEXT_FROM)
		ret = copy_enc_context_from(vm, src);
	else
		ret = move_enc_context_from(vm, src, c);
	kvm_vm_put(src);
	return ret;
}
