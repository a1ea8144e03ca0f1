/* SPDX-License-Identifier: MIT */
/*
 * kvm/ — KVM's SEV support, modelled errno for errno on the newest kernel
 * (spec/kvm-sev-semantics.md, [NEW]).  It sits on ccp/ as KVM sits on the
 * PSP driver and knows nothing of sockets or processes: its caller hands it
 * a VM, the caller's identity and limits, and accessors for the caller's
 * memory and file descriptors (struct kvm_caller).
 *
 * Every entry point returns 0 (or a positive value where the ioctl does)
 * or a negative errno, exactly what the ioctl would return.
 *
 * Lock order (outermost first), as in arch/x86/kvm/svm/sev.c:
 *   1. migration_in_progress flags (compare-and-swap; a busy flag fails
 *      with EBUSY instead of waiting, so they never deadlock)
 *   2. vm->lock (kvm->lock): dst before src in COPY/MOVE
 *   3. vcpu->mutex: all of dst's in index order, then all of src's
 *   4. host->bitmap_lock (sev_bitmap_lock), then
 *      host->deactivate_lock (sev_deactivate_lock, a rwlock)
 *   5. the ccp command mutex, then the psp lock (inside ccp/ and psp/)
 *   host->cg_lock (misc cgroup counters) and host->vm_list_lock are leaves.
 */
#ifndef SOFTSEV_KVM_H
#define SOFTSEV_KVM_H

#include <stdbool.h>
#include <stdint.h>

#include "ccp.h"
#include "kvm_compat.h"

struct kvm_host;
struct kvm_vm;
struct kvm_vcpu;
struct kvm_misc_cg;

/* Host configuration: what sev_hardware_setup() would have found. */
struct kvm_host_config {
	bool sev; /* module param sev=1 */
	bool sev_es; /* module param sev_es=1 */
	/* VMSA features an SEV-ES guest may request (DebugSwap = bit 5). */
	uint64_t vmsa_features;
	unsigned int max_vcpus;
};

void kvm_host_config_default(struct kvm_host_config *cfg);

/*
 * The ASID layout comes from the firmware's configuration (CPUID
 * 0x8000001F ECX/EDX, §3.1).  The host does not own ccp.
 */
int kvm_host_create(struct ccp *ccp, const struct kvm_host_config *cfg,
		    struct kvm_host **out);
/* All VMs must be gone (kvm_vm_put) before this. */
void kvm_host_destroy(struct kvm_host *host);

/* The misc cgroup controller's sev and sev_es resources (§3.1, §3.2). */
enum kvm_misc_res { KVM_MISC_SEV = 0, KVM_MISC_SEV_ES = 1, KVM_MISC_NR };

/* The root group exists from the start; NULL parent means the root. */
struct kvm_misc_cg *kvm_misc_cg_root(struct kvm_host *host);
int kvm_misc_cg_create(struct kvm_host *host, struct kvm_misc_cg *parent,
		       struct kvm_misc_cg **out);
/* misc.max: UINT64_MAX means "max". */
void kvm_misc_cg_set_max(struct kvm_misc_cg *cg, enum kvm_misc_res res,
			 uint64_t max);
uint64_t kvm_misc_cg_current(struct kvm_misc_cg *cg, enum kvm_misc_res res);
uint64_t kvm_misc_cg_max(struct kvm_misc_cg *cg, enum kvm_misc_res res);
uint64_t kvm_misc_capacity(struct kvm_host *host, enum kvm_misc_res res);

/*
 * Who is calling.  All callbacks get ctx.  mem reaches the caller's memory
 * by user address; pin checks that [uaddr, uaddr+len) is mapped (and
 * writable when write) as pin_user_pages would, 0 or -EFAULT; NULL means
 * every address pins.  sev_fd tells whether fd is an open /dev/sev in the
 * caller (0) or not (-EBADF).  vm_fd resolves an fd to a VM with a
 * reference the callee drops, or -EBADF.  build_vmsa fills a 4 KiB VMSA
 * from the real vCPU's registers.
 */
struct kvm_caller {
	const struct psp_mem *mem;
	int (*pin)(void *ctx, uint64_t uaddr, uint64_t len, bool write);
	int (*sev_fd)(void *ctx, int fd);
	int (*vm_fd)(void *ctx, unsigned int fd, struct kvm_vm **vm);
	int (*build_vmsa)(void *ctx, struct kvm_vcpu *vcpu, uint64_t features,
			  uint8_t *vmsa);
	void *ctx;
	uint64_t mm; /* identity of the caller's address space */
	uint64_t rlimit_memlock; /* bytes; RLIM_INFINITY = UINT64_MAX */
	bool cap_ipc_lock;
	struct kvm_misc_cg *cg; /* the calling task's misc cgroup */
};

/*
 * KVM_CREATE_VM: type must be a supported VM type (EINVAL).  The VM
 * belongs to address space mm.  Returns a VM holding one reference.
 */
int kvm_vm_create(struct kvm_host *host, unsigned long type, uint64_t mm,
		  struct kvm_vm **out);
void kvm_vm_get(struct kvm_vm *vm);
/* Dropping the last reference runs the destroy path (§2.3, §4.11). */
void kvm_vm_put(struct kvm_vm *vm);

/* KVM_CHECK_EXTENSION on the system or a VM fd, for the caps here. */
int kvm_check_extension(struct kvm_host *host, long cap);
/* KVM_GET/HAS_DEVICE_ATTR on the system fd (group, attr). */
int kvm_get_device_attr(struct kvm_host *host, uint32_t group, uint64_t attr,
			uint64_t *value);

/* VM ioctls; arg is the caller's user pointer. */
int kvm_vm_mem_enc_op(struct kvm_vm *vm, const struct kvm_caller *c,
		      uint64_t arg);
int kvm_vm_reg_region(struct kvm_vm *vm, const struct kvm_caller *c,
		      uint64_t arg);
int kvm_vm_unreg_region(struct kvm_vm *vm, const struct kvm_caller *c,
			uint64_t arg);
/* KVM_ENABLE_CAP with KVM_CAP_VM_{COPY,MOVE}_ENC_CONTEXT_FROM. */
int kvm_vm_enable_cap(struct kvm_vm *vm, const struct kvm_caller *c,
		      uint64_t arg);

/*
 * KVM_CREATE_VCPU in two steps, as the kernel counts it: begin (under
 * kvm->lock: created_vcpus++) and, once the real vCPU exists or failed,
 * end (online_vcpus++ or created_vcpus--).  Between them a vCPU creation
 * is "in flight" (MOVE and LAUNCH_UPDATE_VMSA answer EBUSY).  vCPUs
 * live as long as their VM: hold a VM reference for each vCPU fd.
 */
int kvm_vcpu_create_begin(struct kvm_vm *vm, const struct kvm_caller *c);
int kvm_vcpu_create_end(struct kvm_vm *vm, bool ok, struct kvm_vcpu **out);
int kvm_vcpu_index(const struct kvm_vcpu *vcpu);
void kvm_vcpu_set_guest_debug(struct kvm_vcpu *vcpu, bool on);
/* The VMSA was encrypted by LAUNCH_UPDATE_VMSA (guest_state_protected). */
bool kvm_vcpu_protected(struct kvm_vcpu *vcpu);
struct kvm_vm *kvm_vcpu_vm(struct kvm_vcpu *vcpu);
/* The online vCPU with this index, or NULL. */
struct kvm_vcpu *kvm_vm_vcpu(struct kvm_vm *vm, int index);

/*
 * Checks every VM or vCPU ioctl passes first: a dead VM (a MOVE source) or
 * a caller in another address space gets EIO (§1.1 step 1).
 */
int kvm_vm_ioctl_check(struct kvm_vm *vm, const struct kvm_caller *c);
/* KVM_RUN: EINVAL before INIT2 on SEV-typed VMs; EINVAL for an ES vCPU
 * with no VMSA (§1.5, §3.4). */
int kvm_vcpu_run_check(struct kvm_vcpu *vcpu, const struct kvm_caller *c);
/* Register access on a protected SEV-ES vCPU fails with EINVAL. */
int kvm_vcpu_regs_check(struct kvm_vcpu *vcpu, const struct kvm_caller *c);

/* Read-only views for status displays and tests. */
struct kvm_vm_info {
	unsigned long type;
	bool active, es_active, need_init, dead, mirror;
	uint32_t asid, handle, policy;
	int fd;
	uint64_t pages_locked, vmsa_features;
	uint16_t ghcb_version;
	unsigned int nr_regions, nr_mirrors, created_vcpus, online_vcpus;
	int refcount;
	struct kvm_vm *owner;
	struct kvm_misc_cg *cg;
};

void kvm_vm_info(struct kvm_vm *vm, struct kvm_vm_info *info);

struct kvm_asid_info {
	unsigned int min_sev_asid, max_sev_asid;
	unsigned int in_use_sev, in_use_es; /* bitmap bits, reclaim included */
	unsigned int reclaim_sev, reclaim_es;
	unsigned int flushes; /* WBINVD + DF_FLUSH recycles so far */
	unsigned int live_vms;
};

void kvm_asid_info(struct kvm_host *host, struct kvm_asid_info *info);
/* Whether asid is allocated (bitmap) and whether it waits for a flush. */
bool kvm_asid_in_use(struct kvm_host *host, unsigned int asid);
bool kvm_asid_reclaim(struct kvm_host *host, unsigned int asid);

#endif
