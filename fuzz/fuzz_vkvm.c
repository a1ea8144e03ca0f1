// SPDX-License-Identifier: MIT
/*
 * Fuzz vkvm's ioctl decoders: a fuzzed request on the system, VM or vCPU
 * file, its argument in (a copy of) the input, which also holds whatever
 * the argument points at, with 64 KiB after it for the largest answer
 * (vkvm writes through process_vm_writev, which ASan does not see).  Runs no
 * guest code (KVM_RUN is left out).  KVM_GET_DEVICE_ATTR writes through the
 * address its argument holds: one above the first 64 KiB (which nothing
 * maps, so it still tests EFAULT) is moved into the spare room, or the
 * write would land anywhere in the fuzzer's own heap.  A file a fuzzed
 * request creates (a VM
 * from KVM_CREATE_VM) is closed at once: kept, thousands of them outgrow
 * libFuzzer's RSS limit where the descriptor limit is high (seen in CI).
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "vkvm.h"

static int fds[3];

/*
 * LeakSanitizer's end-of-run check crashes in its own thread tracer
 * after a long run here (signal 11 inside the tracer, with Unicorn's
 * engine mapped); leaks are checked by the ASan run of test_vkvm instead.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

static const unsigned long reqs[] = {
	KVM_GET_API_VERSION,	 KVM_CHECK_EXTENSION,
	KVM_GET_VCPU_MMAP_SIZE,	 KVM_GET_SUPPORTED_CPUID,
	KVM_GET_MSR_INDEX_LIST,	 KVM_GET_MSR_FEATURE_INDEX_LIST,
	KVM_GET_MSRS,		 KVM_SET_MSRS,
	KVM_GET_DEVICE_ATTR,	 KVM_HAS_DEVICE_ATTR,
	KVM_SET_USER_MEMORY_REGION, KVM_SET_TSS_ADDR,
	KVM_SET_IDENTITY_MAP_ADDR, KVM_IRQ_LINE,
	KVM_SET_GSI_ROUTING,	 KVM_GET_CLOCK,
	KVM_SET_CLOCK,		 KVM_ENABLE_CAP,
	KVM_GET_REGS,		 KVM_SET_REGS,
	KVM_GET_SREGS,		 KVM_SET_SREGS,
	KVM_GET_FPU,		 KVM_SET_FPU,
	KVM_GET_XSAVE,		 KVM_SET_XSAVE,
	KVM_GET_XCRS,		 KVM_SET_XCRS,
	KVM_GET_CPUID2,		 KVM_SET_CPUID2,
	KVM_GET_LAPIC,		 KVM_SET_LAPIC,
	KVM_GET_VCPU_EVENTS,	 KVM_SET_VCPU_EVENTS,
	KVM_GET_MP_STATE,	 KVM_SET_MP_STATE,
	KVM_GET_DEBUGREGS,	 KVM_SET_DEBUGREGS,
	KVM_INTERRUPT,		 KVM_NMI,
	KVM_SET_SIGNAL_MASK,	 KVM_SET_GUEST_DEBUG,
	KVM_X86_SETUP_MCE,	 KVM_GET_TSC_KHZ,
	KVM_SET_TSC_KHZ,	 KVM_X86_GET_MCE_CAP_SUPPORTED,
};

static void aim_attr_addr(void *arg, uint8_t *room)
{
	uint8_t *field = (uint8_t *)arg + offsetof(struct kvm_device_attr, addr);
	uint64_t addr;

	memcpy(&addr, field, sizeof(addr));
	if (addr < (64 << 10))
		return;
	addr = (uintptr_t)room;
	memcpy(field, &addr, sizeof(addr));
}

static void setup(void)
{
	fds[0] = vkvm_open(O_RDWR | O_CLOEXEC);
	fds[1] = (int)vkvm_ioctl(fds[0], KVM_CREATE_VM, 0);
	fds[2] = (int)vkvm_ioctl(fds[1], KVM_CREATE_VCPU, 0);
	if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long req;
	uint8_t *buf;
	uint16_t off;
	void *arg;
	long ret;

	if (!fds[0])
		setup();
	if (size < 4)
		return 0;
	/* room after the input for whatever an answer writes back */
	buf = calloc(1, size + (64 << 10));
	memcpy(buf, data, size);
	req = data[1] < 2 * (sizeof(reqs) / sizeof(reqs[0])) ?
		      reqs[data[1] % (sizeof(reqs) / sizeof(reqs[0]))] :
		      _IOC((unsigned long)data[1] & 3, KVMIO, data[2],
			   (unsigned long)data[3] << 4);
	memcpy(&off, data + 2, 2);
	/* the argument: inside the input, NULL, or a small integer */
	switch (data[0] >> 6) {
	case 0:
		arg = NULL;
		break;
	case 1:
		arg = (void *)(uintptr_t)data[3];
		break;
	default:
		arg = buf + off % size;
		break;
	}
	if (req == KVM_GET_DEVICE_ATTR && arg == buf + off % size &&
	    off % size + sizeof(struct kvm_device_attr) <= size)
		aim_attr_addr(arg, buf + size);
	/* no guest runs: it could loop for ever */
	if (req != KVM_RUN) {
		ret = vkvm_ioctl(fds[(data[0] & 0x3f) % 3], req, arg);
		if (ret > fds[2] && vkvm_kind((int)ret) != VKVM_NONE) {
			vkvm_close((int)ret);
			close((int)ret);
		}
	}
	free(buf);
	return 0;
}
