// SPDX-License-Identifier: MIT
/*
 * What the emulated KVM says it can do: capabilities
 * (kvm_vm_ioctl_check_extension{,_generic}), the supported CPUID table,
 * and the MSR lists.  The set is coherent: every capability reported here
 * is answered by vkvm, and every CPUID feature is one the emulator
 * executes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vkvm_internal.h"

#ifndef KVM_CAP_USER_MEMORY2
#define KVM_CAP_USER_MEMORY2 231
#endif
#ifndef KVM_CAP_VM_TYPES
#define KVM_CAP_VM_TYPES 235
#endif
#ifndef KVM_CAP_MEMORY_FAULT_INFO
#define KVM_CAP_MEMORY_FAULT_INFO 232
#endif
#ifndef KVM_CAP_X86_GUEST_MODE
#define KVM_CAP_X86_GUEST_MODE 238
#endif

int vk_check_extension(struct vkvm_vm *vm, long cap)
{
	switch (cap) {
	/* kvm_vm_ioctl_check_extension_generic() */
	case KVM_CAP_USER_MEMORY:
	case KVM_CAP_USER_MEMORY2:
	case KVM_CAP_DESTROY_MEMORY_REGION_WORKS:
	case KVM_CAP_JOIN_MEMORY_REGIONS_WORKS:
	case KVM_CAP_INTERNAL_ERROR_DATA:
	case KVM_CAP_SIGNAL_MSI:
	case KVM_CAP_IRQFD:
	case KVM_CAP_IOEVENTFD_ANY_LENGTH:
	case KVM_CAP_CHECK_EXTENSION_VM:
	case KVM_CAP_ENABLE_CAP_VM:
	case KVM_CAP_HALT_POLL:
	case KVM_CAP_COALESCED_PIO:
		return 1;
	case KVM_CAP_COALESCED_MMIO:
		return 2; /* KVM_COALESCED_MMIO_PAGE_OFFSET */
	case KVM_CAP_IRQ_ROUTING:
		return 4096; /* KVM_MAX_IRQ_ROUTES */
	case KVM_CAP_NR_MEMSLOTS:
		return VK_MAX_SLOTS;
	/* kvm_vm_ioctl_check_extension(), what vkvm answers */
	case KVM_CAP_IRQCHIP:
	case KVM_CAP_HLT:
	case KVM_CAP_SET_TSS_ADDR:
	case KVM_CAP_EXT_CPUID:
	case KVM_CAP_EXT_EMUL_CPUID:
	case KVM_CAP_NOP_IO_DELAY:
	case KVM_CAP_MP_STATE:
	case KVM_CAP_SYNC_MMU:
	case KVM_CAP_USER_NMI:
	case KVM_CAP_IOEVENTFD:
	case KVM_CAP_IOEVENTFD_NO_LENGTH:
	case KVM_CAP_SET_IDENTITY_MAP_ADDR:
	case KVM_CAP_VCPU_EVENTS:
	case KVM_CAP_PCI_SEGMENT:
	case KVM_CAP_DEBUGREGS:
	case KVM_CAP_X86_ROBUST_SINGLESTEP:
	case KVM_CAP_XSAVE:
	case KVM_CAP_GET_TSC_KHZ:
	case KVM_CAP_SET_BOOT_CPU_ID:
	case KVM_CAP_IMMEDIATE_EXIT:
	case KVM_CAP_GET_MSR_FEATURES:
	case KVM_CAP_SET_GUEST_DEBUG:
	case KVM_CAP_VM_COPY_ENC_CONTEXT_FROM:
	case KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM:
	case KVM_CAP_SYS_ATTRIBUTES:
	case KVM_CAP_ENABLE_CAP:
	case KVM_CAP_MEMORY_FAULT_INFO:
	case KVM_CAP_X86_GUEST_MODE:
	case KVM_CAP_XCRS:
	case KVM_CAP_READONLY_MEM:
		return 1;
	case KVM_CAP_NR_VCPUS:
		return 2;
	case KVM_CAP_MAX_VCPUS:
		return VK_MAX_VCPUS;
	case KVM_CAP_MAX_VCPU_ID:
		return VK_MAX_VCPU_ID;
	case KVM_CAP_MCE:
		return 32; /* KVM_MAX_MCE_BANKS */
	case KVM_CAP_VM_TYPES:
		return 1 << KVM_X86_DEFAULT_VM;
	case KVM_CAP_XSAVE2:
		return (int)sizeof(struct kvm_xsave);
	case KVM_CAP_SET_GUEST_DEBUG2: /* KVM_GUESTDBG_VALID_MASK */
		return KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP |
		       KVM_GUESTDBG_USE_SW_BP | KVM_GUESTDBG_USE_HW_BP |
		       KVM_GUESTDBG_INJECT_DB | KVM_GUESTDBG_INJECT_BP |
		       KVM_GUESTDBG_BLOCKIRQ;
	}
	(void)vm;
	return 0;
}

/*
 * An AMD EPYC (family 17h) as the emulator runs it: the features of
 * QEMU's TCG x86-64, nothing it would fault on.  Leaf 0x8000001F is
 * left to whoever models the platform.
 */
#define SIG_IDX KVM_CPUID_FLAG_SIGNIFCANT_INDEX
static const struct kvm_cpuid_entry2 cpuid_table[] = {
	{ .function = 0, .eax = 0x10, .ebx = 0x68747541, .ecx = 0x444d4163,
	  .edx = 0x69746e65 },
	{ .function = 1, .eax = 0x00800f12, .ecx = 0x86b82203,
	  .edx = 0x178bfbff },
	{ .function = 7, .flags = SIG_IDX, .ebx = 0x009c0389 },
	{ .function = 7, .index = 1, .flags = SIG_IDX },
	{ .function = 0xd, .flags = SIG_IDX, .eax = 3, .ebx = 0x240,
	  .ecx = 0x240 },
	{ .function = 0xd, .index = 1, .flags = SIG_IDX },
	{ .function = 0x40000000, .eax = 0x40000001, .ebx = 0x4b4d564b,
	  .ecx = 0x564b4d56, .edx = 0x4d },
	{ .function = 0x40000001 },
	{ .function = 0x80000000, .eax = 0x8000001f, .ebx = 0x68747541,
	  .ecx = 0x444d4163, .edx = 0x69746e65 },
	{ .function = 0x80000001, .eax = 0x00800f12, .ecx = 0x000001f3,
	  .edx = 0x2fd3fbff },
	{ .function = 0x80000002, .eax = 0x20444d41, .ebx = 0x43595045,
	  .ecx = 0x6f732820, .edx = 0x65737466 },
	{ .function = 0x80000003, .eax = 0x20297665, .ebx = 0x626d6520,
	  .ecx = 0x74616c75, .edx = 0x00006465 },
	{ .function = 0x80000004 },
	{ .function = 0x80000007 },
	{ .function = 0x80000008, .eax = 0x3000 | VK_PHYS_BITS },
};

/* kvm_dev_ioctl_get_cpuid(): E2BIG without writing back the count. */
long vk_get_supported_cpuid(struct kvm_cpuid2 *u)
{
	uint32_t n = sizeof(cpuid_table) / sizeof(cpuid_table[0]);
	struct kvm_cpuid2 hdr;

	if (vk_copy_in(&hdr, u, sizeof(hdr)))
		return -EFAULT;
	if (hdr.nent < n)
		return -E2BIG;
	if (vk_copy_out(VK_UFIELD(u, struct kvm_cpuid2, entries), cpuid_table, sizeof(cpuid_table)))
		return -EFAULT;
	hdr.nent = n;
	if (vk_copy_out(u, &hdr, sizeof(hdr)))
		return -EFAULT;
	return 0;
}

/* msrs_to_save + emulated_msrs, the ones vkvm keeps or answers. */
static const uint32_t msr_list[] = {
	0x10,	      0x174,	  0x175,      0x176,	  0x277,      0xc0000081,
	0xc0000082, 0xc0000083, 0xc0000084, 0xc0000102, 0xc0000103, 0x1b,
	0x3a,	      0x8b,	  0xfe,	      0x2ff,	  0x179,      0x17a,
	0x17b,	      0x6e0,	  0x48,	      0xc0010117, 0xc001011f, 0x4b564d00,
	0x4b564d01, 0x11,	  0x12,	      0xc0011029,
};

static const uint32_t feature_list[] = {
	0xc0011029, /* MSR_AMD64_DE_CFG */
	0x8b, /* MSR_IA32_UCODE_REV */
	0x10a, /* MSR_IA32_ARCH_CAPABILITIES */
	0x345, /* MSR_IA32_PERF_CAPABILITIES */
};

bool vk_msr_known(uint32_t index)
{
	size_t i;

	for (i = 0; i < sizeof(msr_list) / sizeof(msr_list[0]); i++)
		if (msr_list[i] == index)
			return true;
	if (index >= 0x200 && index < 0x270) /* MTRRs */
		return true;
	if (index >= 0x400 && index < 0x400 + 4 * 32) /* MCE banks */
		return true;
	return index == 0xc0000080 || index == 0x6e0 || index == 0xc0010131;
}

/* KVM_GET_MSR_INDEX_LIST / KVM_GET_MSR_FEATURE_INDEX_LIST */
long vk_get_msr_list(struct kvm_msr_list *u, bool features)
{
	const uint32_t *list = features ? feature_list : msr_list;
	uint32_t n = features ? sizeof(feature_list) / 4 : sizeof(msr_list) / 4;
	struct kvm_msr_list hdr;
	uint32_t want;

	if (vk_copy_in(&hdr, u, sizeof(hdr)))
		return -EFAULT;
	want = hdr.nmsrs;
	hdr.nmsrs = n;
	if (vk_copy_out(u, &hdr, sizeof(hdr)))
		return -EFAULT;
	if (want < n)
		return -E2BIG;
	if (vk_copy_out(VK_UFIELD(u, struct kvm_msr_list, indices), list, n * 4))
		return -EFAULT;
	return 0;
}

/* msr_io(): copy all entries in, stop at the first failure, copy back. */
long vk_msr_io(struct kvm_msrs *u, int (*fn)(void *ctx, uint32_t index,
					      uint64_t *data),
	       void *ctx, bool writeback)
{
	struct kvm_msr_entry *e;
	struct kvm_msrs hdr;
	uint32_t i;
	long r;

	if (vk_copy_in(&hdr, u, sizeof(hdr)))
		return -EFAULT;
	if (hdr.nmsrs >= 256) /* MAX_IO_MSRS */
		return -E2BIG;
	e = calloc(hdr.nmsrs ? hdr.nmsrs : 1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	if (vk_copy_in(e, VK_UFIELD(u, struct kvm_msrs, entries), hdr.nmsrs * sizeof(*e))) {
		free(e);
		return -EFAULT;
	}
	for (i = 0; i < hdr.nmsrs; i++)
		if (fn(ctx, e[i].index, (uint64_t *)&e[i].data))
			break;
	r = i;
	if (writeback && vk_copy_out(VK_UFIELD(u, struct kvm_msrs, entries), e, hdr.nmsrs * sizeof(*e)))
		r = -EFAULT;
	free(e);
	return r;
}

/* do_get_feature_msr() */
static int feature_msr(void *ctx, uint32_t index, uint64_t *data)
{
	size_t j;

	(void)ctx;
	for (j = 0; j < sizeof(feature_list) / 4; j++)
		if (feature_list[j] == index) {
			*data = 0;
			return 0;
		}
	return 1;
}

long vk_get_feature_msrs(struct kvm_msrs *u)
{
	return vk_msr_io(u, feature_msr, NULL, true);
}

/* kvm_x86_dev_{get,has}_attr(): group 0 only; SEV's is not vkvm's. */
long vk_dev_attr(unsigned long req, struct kvm_device_attr *u)
{
	struct kvm_device_attr a;
	uint64_t val = 3; /* KVM_X86_XCOMP_GUEST_SUPP: x87 | SSE */

	if (vk_copy_in(&a, u, sizeof(a)))
		return -EFAULT;
	if (a.group || a.attr != KVM_X86_XCOMP_GUEST_SUPP)
		return -ENXIO;
	if (req == KVM_HAS_DEVICE_ATTR)
		return 0;
	if (vk_copy_out((void *)(uintptr_t)a.addr, &val, 8))
		return -EFAULT;
	return 0;
}
