/* SPDX-License-Identifier: MIT */
/* Internals of kvm/; the lock order is written at the top of kvm.h. */
#ifndef SOFTSEV_KVM_INTERNAL_H
#define SOFTSEV_KVM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "kvm.h"
#include "list.h"

#define PAGE_SIZE 4096ull
#define PAGE_MASK (~(PAGE_SIZE - 1))
/* struct kvm_sev_info.ghcb_version limits (§1.5 step 7). */
#define GHCB_VERSION_MAX 2
#define GHCB_VERSION_DEFAULT 2
/* The kernel's allocator refuses more than 4 MiB (MAX_PAGE_ORDER). */
#define KMALLOC_MAX (4ull << 20)

struct kvm_misc_cg {
	struct kvm_host *host;
	struct kvm_misc_cg *parent;
	uint64_t max[KVM_MISC_NR];
	uint64_t usage[KVM_MISC_NR];
	struct kvm_misc_cg *next; /* every group, for destruction */
};

struct kvm_region {
	struct list_head list;
	uint64_t uaddr, size, npages;
};

struct kvm_vcpu {
	struct kvm_vm *vm;
	int index;
	pthread_mutex_t mutex; /* vcpu->mutex */
	bool guest_debug;
	bool protected; /* guest_state_protected */
	uint8_t *vmsa; /* the VMSA page (SEV-ES); NULL = vmsa_pa INVALID */
};

/* struct kvm_sev_info (§1.5). */
struct kvm_sev_info {
	bool active, es_active, need_init;
	uint32_t asid, handle, policy;
	int fd; /* the /dev/sev fd *number* (Q4, Q5) */
	uint64_t pages_locked;
	struct list_head regions;
	uint64_t vmsa_features;
	uint16_t ghcb_version;
	struct kvm_vm *owner; /* enc_context_owner */
	struct list_head mirrors; /* mirror_vms */
	struct list_head mirror_entry;
	struct kvm_misc_cg *misc_cg;
};

struct kvm_vm {
	struct kvm_host *host;
	unsigned long type;
	uint64_t mm;
	atomic_int refcount;
	atomic_int migration_in_progress;
	atomic_bool dead;
	pthread_mutex_t lock; /* kvm->lock */
	int created_vcpus;
	atomic_int online_vcpus;
	struct kvm_vcpu **vcpus;
	struct kvm_sev_info sev;
	struct list_head host_entry;
};

struct kvm_host {
	struct ccp *ccp;
	struct psp *psp;
	struct kvm_host_config cfg;
	bool sev_enabled, sev_es_enabled;
	unsigned int min_sev_asid, max_sev_asid, nr_asids, cbit;
	uint8_t *asid_bitmap, *reclaim_bitmap; /* one byte per real ASID */
	pthread_mutex_t bitmap_lock; /* sev_bitmap_lock */
	pthread_rwlock_t deactivate_lock; /* sev_deactivate_lock */
	unsigned int flushes;
	pthread_mutex_t cg_lock;
	uint64_t capacity[KVM_MISC_NR];
	struct kvm_misc_cg root;
	struct kvm_misc_cg *cgs;
	pthread_mutex_t vm_list_lock;
	struct list_head vms;
	/* sev_mirror_lock: every VM's sev.owner, sev.mirrors, mirror_entry */
	pthread_mutex_t mirror_lock;
};

/* host.c: the ASID allocator and the misc cgroup (§3). */
int sev_asid_new(struct kvm_vm *vm, const struct kvm_caller *c);
void sev_asid_free(struct kvm_vm *vm);
int sev_misc_cg_try_charge(struct kvm_vm *vm);
void sev_misc_cg_uncharge(struct kvm_vm *vm);

/* fw.c: firmware calls and pinning (§1.2 plumbing, §4 helpers). */
struct kmem {
	struct psp_mem mem; /* what the firmware is given */
	const struct psp_mem *user;
	struct {
		uint8_t *p;
		size_t len;
	} buf[8];
	int n;
};

void kmem_init(struct kmem *k, const struct kvm_caller *c);
/* A kernel buffer's "physical address" for the firmware. */
uint64_t kmem_pa(struct kmem *k, void *p, size_t len);
/* __sev_issue_cmd(fd): fd must be an open /dev/sev in the caller. */
int sev_issue_cmd_fd(struct kvm_host *host, const struct kvm_caller *c,
		     int fd, unsigned int cmd, void *data, struct kmem *k,
		     uint32_t *error);
/* sev_issue_cmd(kvm): through the VM's stored fd number. */
int sev_issue_cmd(struct kvm_vm *vm, const struct kvm_caller *c,
		  unsigned int cmd, void *data, struct kmem *k,
		  uint32_t *error);
/* Direct calls: ACTIVATE, DEACTIVATE, DECOMMISSION, DF_FLUSH. */
int sev_do_cmd(struct kvm_host *host, unsigned int cmd, void *data,
	       uint32_t *error);
int sev_pin_memory(struct kvm_vm *vm, const struct kvm_caller *c,
		   uint64_t uaddr, uint64_t len, bool write, uint64_t *npages);
void sev_unpin_memory(struct kvm_vm *vm, uint64_t npages);
int copy_from_user(const struct kvm_caller *c, void *dst, uint64_t uaddr,
		   size_t len);
int copy_to_user(const struct kvm_caller *c, uint64_t uaddr, const void *src,
		 size_t len);
/* psp_copy_user_blob: both non-zero, ≤ 16 KiB (EINVAL), then EFAULT. */
int psp_copy_user_blob(const struct kvm_caller *c, uint64_t uaddr,
		       uint32_t len, void **out);
int sev_bind_asid(struct kvm_vm *vm, uint32_t handle, uint32_t *error);
void sev_unbind_asid(struct kvm_vm *vm, uint32_t handle);
void sev_decommission(struct kvm_host *host, uint32_t handle);

/* vm.c */
static inline bool sev_guest(const struct kvm_vm *vm)
{
	return vm->sev.active;
}

static inline bool sev_es_guest(const struct kvm_vm *vm)
{
	return vm->sev.es_active;
}

static inline bool is_mirroring(const struct kvm_vm *vm)
{
	return __atomic_load_n(&vm->sev.owner, __ATOMIC_ACQUIRE) != NULL;
}

int kvm_lock_all_vcpus(struct kvm_vm *vm);
void kvm_unlock_all_vcpus(struct kvm_vm *vm);
struct kvm_vcpu *kvm_get_vcpu(struct kvm_vm *vm, int i);

/* launch.c, migrate.c: one handler per KVM_SEV_* id. */
struct sev_cmd {
	uint32_t id;
	uint64_t data;
	uint32_t error;
	uint32_t sev_fd;
};

int sev_launch_start(struct kvm_vm *vm, const struct kvm_caller *c,
		     struct sev_cmd *cmd);
int sev_launch_update_data(struct kvm_vm *vm, const struct kvm_caller *c,
			   struct sev_cmd *cmd);
int sev_launch_update_vmsa(struct kvm_vm *vm, const struct kvm_caller *c,
			   struct sev_cmd *cmd);
int sev_launch_measure(struct kvm_vm *vm, const struct kvm_caller *c,
		       struct sev_cmd *cmd);
int sev_launch_secret(struct kvm_vm *vm, const struct kvm_caller *c,
		      struct sev_cmd *cmd);
int sev_simple_cmd(struct kvm_vm *vm, const struct kvm_caller *c,
		   struct sev_cmd *cmd, unsigned int fw_cmd);
int sev_guest_status(struct kvm_vm *vm, const struct kvm_caller *c,
		     struct sev_cmd *cmd);
int sev_dbg_crypt(struct kvm_vm *vm, const struct kvm_caller *c,
		  struct sev_cmd *cmd, bool dec);
int sev_get_attestation_report(struct kvm_vm *vm, const struct kvm_caller *c,
			       struct sev_cmd *cmd);
int sev_send_start(struct kvm_vm *vm, const struct kvm_caller *c,
		   struct sev_cmd *cmd);
int sev_send_update_data(struct kvm_vm *vm, const struct kvm_caller *c,
			 struct sev_cmd *cmd);
int sev_receive_start(struct kvm_vm *vm, const struct kvm_caller *c,
		      struct sev_cmd *cmd);
int sev_receive_update_data(struct kvm_vm *vm, const struct kvm_caller *c,
			    struct sev_cmd *cmd);

#endif
