// SPDX-License-Identifier: MIT
/*
 * The host: SEV discovery, the ASID allocator with its reclaim bitmap and
 * WBINVD + DF_FLUSH recycling, and the misc cgroup counters (spec §3).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvm_internal.h"

/* DebugSwap (SVM_SEV_FEAT_DEBUG_SWAP), which Genoa-class parts have. */
#define SEV_FEAT_DEBUG_SWAP (1ull << 5)

void kvm_host_config_default(struct kvm_host_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->sev = true;
	cfg->sev_es = true;
	cfg->vmsa_features = SEV_FEAT_DEBUG_SWAP;
	cfg->max_vcpus = 1024;
}

static void cg_init(struct kvm_misc_cg *cg, struct kvm_host *host,
		    struct kvm_misc_cg *parent)
{
	int r;

	memset(cg, 0, sizeof(*cg));
	cg->host = host;
	cg->parent = parent;
	for (r = 0; r < KVM_MISC_NR; r++)
		cg->max[r] = UINT64_MAX;
}

/* sev_hardware_setup(): ranges from CPUID 0x8000001F ECX/EDX (§3.1). */
int kvm_host_create(struct ccp *ccp, const struct kvm_host_config *cfg,
		    struct kvm_host **out)
{
	const struct psp_config *pc = psp_config(ccp_psp(ccp));
	struct kvm_host *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->ccp = ccp;
	h->psp = ccp_psp(ccp);
	h->cfg = *cfg;
	h->max_sev_asid = pc->max_asid;
	h->min_sev_asid = pc->min_sev_asid;
	h->nr_asids = pc->max_asid + 1;
	h->cbit = pc->cbit;
	h->sev_enabled = cfg->sev && h->max_sev_asid;
	/* SEV-ES needs ASIDs below min_sev_asid. */
	h->sev_es_enabled = h->sev_enabled && cfg->sev_es && pc->es &&
			    h->min_sev_asid > 1;
	if (h->min_sev_asid <= h->max_sev_asid)
		h->capacity[KVM_MISC_SEV] =
			h->max_sev_asid - h->min_sev_asid + 1;
	if (h->sev_es_enabled)
		h->capacity[KVM_MISC_SEV_ES] = h->min_sev_asid - 1;
	h->asid_bitmap = calloc(h->nr_asids, 1);
	h->reclaim_bitmap = calloc(h->nr_asids, 1);
	if (!h->asid_bitmap || !h->reclaim_bitmap) {
		kvm_host_destroy(h);
		return -ENOMEM;
	}
	pthread_mutex_init(&h->bitmap_lock, NULL);
	pthread_rwlock_init(&h->deactivate_lock, NULL);
	pthread_mutex_init(&h->cg_lock, NULL);
	pthread_mutex_init(&h->vm_list_lock, NULL);
	pthread_mutex_init(&h->mirror_lock, NULL);
	cg_init(&h->root, h, NULL);
	list_init(&h->vms);
	*out = h;
	return 0;
}

void kvm_host_destroy(struct kvm_host *h)
{
	struct kvm_misc_cg *cg, *next;

	if (!h)
		return;
	for (cg = h->cgs; cg; cg = next) {
		next = cg->next;
		free(cg);
	}
	free(h->asid_bitmap);
	free(h->reclaim_bitmap);
	free(h);
}

struct kvm_misc_cg *kvm_misc_cg_root(struct kvm_host *host)
{
	return &host->root;
}

int kvm_misc_cg_create(struct kvm_host *host, struct kvm_misc_cg *parent,
		       struct kvm_misc_cg **out)
{
	struct kvm_misc_cg *cg = malloc(sizeof(*cg));

	if (!cg)
		return -ENOMEM;
	cg_init(cg, host, parent ? parent : &host->root);
	pthread_mutex_lock(&host->cg_lock);
	cg->next = host->cgs;
	host->cgs = cg;
	pthread_mutex_unlock(&host->cg_lock);
	*out = cg;
	return 0;
}

void kvm_misc_cg_set_max(struct kvm_misc_cg *cg, enum kvm_misc_res res,
			 uint64_t max)
{
	pthread_mutex_lock(&cg->host->cg_lock);
	cg->max[res] = max;
	pthread_mutex_unlock(&cg->host->cg_lock);
}

uint64_t kvm_misc_cg_current(struct kvm_misc_cg *cg, enum kvm_misc_res res)
{
	uint64_t v;

	pthread_mutex_lock(&cg->host->cg_lock);
	v = cg->usage[res];
	pthread_mutex_unlock(&cg->host->cg_lock);
	return v;
}

uint64_t kvm_misc_cg_max(struct kvm_misc_cg *cg, enum kvm_misc_res res)
{
	uint64_t v;

	pthread_mutex_lock(&cg->host->cg_lock);
	v = cg->max[res];
	pthread_mutex_unlock(&cg->host->cg_lock);
	return v;
}

uint64_t kvm_misc_capacity(struct kvm_host *host, enum kvm_misc_res res)
{
	return host->capacity[res];
}

/*
 * misc_cg_try_charge() (kernel/cgroup/misc.c, 6.12): EINVAL without
 * capacity; otherwise every level from cg up must stay within its max and
 * the capacity, else EBUSY and nothing is charged.  Usage is the kernel's
 * atomic64 seen as u64: after an uncharge below zero (misc_uncharge) it
 * reads 2^64 - 1, and the next charge brings it back to 0, so a group in
 * that state takes one charge more than its max before EBUSY.
 */
static int misc_try_charge(struct kvm_host *h, enum kvm_misc_res res,
			   struct kvm_misc_cg *cg)
{
	struct kvm_misc_cg *i, *j;

	if (!cg || !h->capacity[res])
		return -EINVAL;
	pthread_mutex_lock(&h->cg_lock);
	for (i = cg; i; i = i->parent) {
		uint64_t n = ++i->usage[res];

		if (n > i->max[res] || n > h->capacity[res]) {
			for (j = cg; j != i->parent; j = j->parent)
				j->usage[res]--;
			pthread_mutex_unlock(&h->cg_lock);
			return -EBUSY;
		}
	}
	pthread_mutex_unlock(&h->cg_lock);
	return 0;
}

/*
 * misc_cg_uncharge(): every level down by one, below zero too (the kernel
 * warns once, "misc cgroup resource ... became less than 0", and goes on).
 */
static void misc_uncharge(struct kvm_host *h, enum kvm_misc_res res,
			  struct kvm_misc_cg *cg)
{
	struct kvm_misc_cg *i;

	if (!cg)
		return;
	pthread_mutex_lock(&h->cg_lock);
	for (i = cg; i; i = i->parent)
		i->usage[res]--;
	pthread_mutex_unlock(&h->cg_lock);
}

/* The charge type follows es_active at the time of the call (Q1). */
static enum kvm_misc_res cg_type(const struct kvm_vm *vm)
{
	return vm->sev.es_active ? KVM_MISC_SEV_ES : KVM_MISC_SEV;
}

int sev_misc_cg_try_charge(struct kvm_vm *vm)
{
	return misc_try_charge(vm->host, cg_type(vm), vm->sev.misc_cg);
}

void sev_misc_cg_uncharge(struct kvm_vm *vm)
{
	misc_uncharge(vm->host, cg_type(vm), vm->sev.misc_cg);
}

/* Lowest clear bit in [min, max], or max + 1. */
static unsigned int find_free(const struct kvm_host *h, unsigned int min,
			      unsigned int max)
{
	unsigned int a;

	for (a = min; a <= max; a++)
		if (!h->asid_bitmap[a])
			return a;
	return max + 1;
}

/*
 * sev_flush_asids(): only a reclaimable ASID in [min, max] justifies a
 * flush; WBINVD then DF_FLUSH under the write side of deactivate_lock so
 * no DEACTIVATE clears the WBINVD indicator in between (§3.3).
 */
static int sev_flush_asids(struct kvm_host *h, unsigned int min,
			   unsigned int max)
{
	uint32_t error;
	unsigned int a;
	int ret;

	for (a = min; a <= max && !h->reclaim_bitmap[a]; a++)
		;
	if (a > max)
		return -EBUSY;
	pthread_rwlock_wrlock(&h->deactivate_lock);
	ccp_wbinvd(h->ccp);
	ret = sev_do_cmd(h, PSP_CMD_DF_FLUSH, NULL, &error);
	pthread_rwlock_unlock(&h->deactivate_lock);
	return ret;
}

/* __sev_recycle_asids(): a flush frees every reclaimed ASID, all ranges. */
static bool sev_recycle_asids(struct kvm_host *h, unsigned int min,
			      unsigned int max)
{
	unsigned int a;

	if (sev_flush_asids(h, min, max))
		return false;
	for (a = 1; a < h->nr_asids; a++) {
		if (h->reclaim_bitmap[a]) {
			h->asid_bitmap[a] = 0;
			h->reclaim_bitmap[a] = 0;
		}
	}
	h->flushes++;
	return true;
}

/* sev_asid_new() (§3.2): range, cgroup charge, lowest free, one recycle. */
int sev_asid_new(struct kvm_vm *vm, const struct kvm_caller *c)
{
	struct kvm_host *h = vm->host;
	unsigned int min, max, asid;
	bool retry = true;
	int ret;

	min = vm->sev.es_active ? 1 : h->min_sev_asid;
	max = vm->sev.es_active ? h->min_sev_asid - 1 : h->max_sev_asid;
	if (min > max)
		return -ENOTTY; /* §3.5: empty range */
	vm->sev.misc_cg = c->cg ? c->cg : &h->root;
	ret = sev_misc_cg_try_charge(vm);
	if (ret) {
		vm->sev.misc_cg = NULL;
		return ret;
	}
	pthread_mutex_lock(&h->bitmap_lock);
again:
	asid = find_free(h, min, max);
	if (asid > max) {
		if (retry && sev_recycle_asids(h, min, max)) {
			retry = false;
			goto again;
		}
		pthread_mutex_unlock(&h->bitmap_lock);
		sev_misc_cg_uncharge(vm);
		vm->sev.misc_cg = NULL;
		return -EBUSY;
	}
	h->asid_bitmap[asid] = 1;
	pthread_mutex_unlock(&h->bitmap_lock);
	vm->sev.asid = asid;
	return 0;
}

/* sev_asid_free() (§3.3): the ASID waits in reclaim; the cgroup forgets it. */
void sev_asid_free(struct kvm_vm *vm)
{
	struct kvm_host *h = vm->host;

	pthread_mutex_lock(&h->bitmap_lock);
	h->reclaim_bitmap[vm->sev.asid] = 1;
	pthread_mutex_unlock(&h->bitmap_lock);
	sev_misc_cg_uncharge(vm);
	vm->sev.misc_cg = NULL;
}

int kvm_check_extension(struct kvm_host *host, long cap)
{
	switch (cap) {
	case KVM_CAP_VM_COPY_ENC_CONTEXT_FROM:
	case KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM:
		return 1; /* x86's "always 1" group (§1.1) */
	case KVM_CAP_VM_TYPES:
		return 1 << KVM_X86_DEFAULT_VM |
		       (host->sev_enabled ? 1 << KVM_X86_SEV_VM : 0) |
		       (host->sev_es_enabled ? 1 << KVM_X86_SEV_ES_VM : 0);
	}
	return 0;
}

int kvm_get_device_attr(struct kvm_host *host, uint32_t group, uint64_t attr,
			uint64_t *value)
{
	if (group != KVM_X86_GRP_SEV || attr != KVM_X86_SEV_VMSA_FEATURES)
		return -ENXIO;
	*value = host->sev_es_enabled ? host->cfg.vmsa_features : 0;
	return 0;
}

void kvm_asid_info(struct kvm_host *h, struct kvm_asid_info *info)
{
	unsigned int a;

	memset(info, 0, sizeof(*info));
	info->min_sev_asid = h->min_sev_asid;
	info->max_sev_asid = h->max_sev_asid;
	pthread_mutex_lock(&h->bitmap_lock);
	for (a = 1; a < h->nr_asids; a++) {
		bool es = a < h->min_sev_asid;

		if (h->asid_bitmap[a])
			*(es ? &info->in_use_es : &info->in_use_sev) += 1;
		if (h->reclaim_bitmap[a])
			*(es ? &info->reclaim_es : &info->reclaim_sev) += 1;
	}
	info->flushes = h->flushes;
	pthread_mutex_unlock(&h->bitmap_lock);
	pthread_mutex_lock(&h->vm_list_lock);
	info->live_vms = (unsigned int)list_count(&h->vms);
	pthread_mutex_unlock(&h->vm_list_lock);
}

bool kvm_asid_in_use(struct kvm_host *h, unsigned int asid)
{
	bool v;

	if (!asid || asid >= h->nr_asids)
		return false;
	pthread_mutex_lock(&h->bitmap_lock);
	v = h->asid_bitmap[asid];
	pthread_mutex_unlock(&h->bitmap_lock);
	return v;
}

bool kvm_asid_reclaim(struct kvm_host *h, unsigned int asid)
{
	bool v;

	if (!asid || asid >= h->nr_asids)
		return false;
	pthread_mutex_lock(&h->bitmap_lock);
	v = h->reclaim_bitmap[asid];
	pthread_mutex_unlock(&h->bitmap_lock);
	return v;
}
