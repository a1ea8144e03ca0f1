/* SPDX-License-Identifier: MIT */
/*
 * What <linux/kvm.h> of older build machines (Debian 12: 6.1) lacks.  Each
 * definition stands behind a guard so newer headers win.  Enum members of
 * newer headers get SOFTSEV_ names here, since a macro cannot stand in for
 * an enumerator.
 */
#ifndef SOFTSEV_KVM_COMPAT_H
#define SOFTSEV_KVM_COMPAT_H

#include <linux/kvm.h>
#include <stdint.h>

#define SOFTSEV_KVM_SEV_INIT2 22 /* KVM_SEV_INIT2, v6.10 */
/* The SNP launch commands (v6.11), answered as on a VM that is not SNP. */
#define SOFTSEV_KVM_SEV_SNP_LAUNCH_START 100
#define SOFTSEV_KVM_SEV_SNP_LAUNCH_UPDATE 101
#define SOFTSEV_KVM_SEV_SNP_LAUNCH_FINISH 102

#ifndef KVM_CAP_VM_TYPES
#define KVM_CAP_VM_TYPES 235
#endif
#ifndef KVM_X86_DEFAULT_VM
#define KVM_X86_DEFAULT_VM 0
#define KVM_X86_SW_PROTECTED_VM 1
#endif
#ifndef KVM_X86_SEV_VM
#define KVM_X86_SEV_VM 2
#define KVM_X86_SEV_ES_VM 3
#define KVM_X86_SNP_VM 4
#endif
#ifndef KVM_X86_GRP_SEV
#define KVM_X86_GRP_SEV 1
#endif

#ifndef KVM_X86_SEV_VMSA_FEATURES
#define KVM_X86_SEV_VMSA_FEATURES 0
struct kvm_sev_init {
	uint64_t vmsa_features;
	uint32_t flags;
	uint16_t ghcb_version;
	uint16_t pad1;
	uint32_t pad2[8];
};
#endif

_Static_assert(sizeof(struct kvm_sev_cmd) == 24, "kvm_sev_cmd");
_Static_assert(sizeof(struct kvm_sev_init) == 48, "kvm_sev_init");

#endif
