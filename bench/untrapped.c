// SPDX-License-Identifier: MIT
/*
 * Untrapped ioctl cost: KVM_RUN of a guest that halts at once, register
 * reads and memslot updates.  Run it with and without softsev and compare
 * (bench/run.sh does).  Prints "name ns/op" lines.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200000;
	struct kvm_userspace_memory_region mr = { 0 };
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int kvm, vm, vcpu, i;
	uint8_t *mem;
	double t;

	kvm = open("/dev/kvm", O_RDWR);
	vm = ioctl(kvm, KVM_CREATE_VM, 0ul);
	mem = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (kvm < 0 || vm < 0 || mem == MAP_FAILED)
		return 1;
	memset(mem + 0x1000, 0xf4, 16); /* hlt */
	mr.memory_size = 0x10000;
	mr.userspace_addr = (uintptr_t)mem;
	ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mr);
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0ul);
	ioctl(vcpu, KVM_GET_SREGS, &sregs);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	ioctl(vcpu, KVM_SET_SREGS, &sregs);

	t = now();
	for (i = 0; i < n; i++)
		ioctl(vcpu, KVM_GET_REGS, &regs);
	printf("KVM_GET_REGS %.1f\n", (now() - t) / n);

	t = now();
	for (i = 0; i < n; i++)
		ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	printf("KVM_CHECK_EXTENSION(sys) %.1f\n", (now() - t) / n);

	t = now();
	for (i = 0; i < n / 10; i++) {
		memset(&regs, 0, sizeof(regs));
		regs.rip = 0x1000;
		regs.rflags = 2;
		ioctl(vcpu, KVM_SET_REGS, &regs);
		ioctl(vcpu, KVM_RUN, 0);
	}
	printf("KVM_SET_REGS+KVM_RUN(hlt) %.1f\n", (now() - t) / (n / 10));

	t = now();
	for (i = 0; i < n / 100; i++) {
		mr.slot = 1;
		mr.guest_phys_addr = 0x100000;
		mr.memory_size = i % 2 ? 0 : 0x10000;
		ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mr);
	}
	printf("KVM_SET_USER_MEMORY_REGION %.1f\n", (now() - t) / (n / 100));
	return 0;
}
