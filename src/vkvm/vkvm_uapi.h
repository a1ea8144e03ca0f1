/* SPDX-License-Identifier: MIT */
/* KVM uAPI that Debian 12's headers (Linux 6.1) lack; values from 6.12. */
#ifndef SOFTSEV_VKVM_UAPI_H
#define SOFTSEV_VKVM_UAPI_H

#include <linux/kvm.h>

#ifndef KVM_SET_USER_MEMORY_REGION2
struct kvm_userspace_memory_region2 {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
	__u64 guest_memfd_offset;
	__u32 guest_memfd;
	__u32 pad1;
	__u64 pad2[14];
};
#define KVM_SET_USER_MEMORY_REGION2 \
	_IOW(KVMIO, 0x49, struct kvm_userspace_memory_region2)
#endif

#endif
