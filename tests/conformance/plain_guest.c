// SPDX-License-Identifier: MIT
/*
 * A plain KVM guest that never touches SEV: a few instructions in real
 * mode that write to an I/O port and halt.  It prints every exit; run with
 * and without softsev, the output must be the same.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

int main(void)
{
	/* mov dx,0x3f8; mov al,'S'; out dx,al; mov al,'\n'; out dx,al;
	 * add al,1; out 0x10,al; hlt */
	static const uint8_t code[] = { 0xba, 0xf8, 0x03, 0xb0, 'S', 0xee,
					0xb0, '\n', 0xee, 0x04, 0x01, 0xe6,
					0x10, 0xf4 };
	struct kvm_userspace_memory_region mr = { 0 };
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	int kvm, vm, vcpu, size, i;
	uint8_t *mem;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	vm = ioctl(kvm, KVM_CREATE_VM, 0ul);
	mem = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (kvm < 0 || vm < 0 || mem == MAP_FAILED)
		return 1;
	memcpy(mem + 0x1000, code, sizeof(code));
	mr.memory_size = 0x10000;
	mr.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mr))
		return 2;
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0ul);
	size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   vcpu, 0);
	if (vcpu < 0 || run == MAP_FAILED)
		return 3;
	ioctl(vcpu, KVM_GET_SREGS, &sregs);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	ioctl(vcpu, KVM_SET_SREGS, &sregs);
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0x1000;
	regs.rflags = 2;
	ioctl(vcpu, KVM_SET_REGS, &regs);
	for (i = 0; i < 10; i++) {
		if (ioctl(vcpu, KVM_RUN, 0))
			return 4;
		if (run->exit_reason == KVM_EXIT_HLT) {
			printf("exit hlt\n");
			return 0;
		}
		if (run->exit_reason != KVM_EXIT_IO)
			return 5;
		printf("exit io port 0x%x value 0x%02x\n", run->io.port,
		       *((uint8_t *)run + run->io.data_offset));
	}
	return 6;
}
