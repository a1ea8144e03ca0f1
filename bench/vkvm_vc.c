// SPDX-License-Identifier: MIT
/*
 * What a #VC costs a protected guest on the emulated KVM (issue 11), in
 * vkvm alone (vkvm_set_protected(); no GHCB, no VMGEXIT): a real-mode
 * guest runs an instruction N times whose #VC handler just steps over it.
 *
 *	0x1000:	mov $N,%cx		b9 lo hi
 *	0x1003:	out %al,$0x10 | cpuid	e6 10 | 0f a2
 *		dec %cx; jnz 0x1003	49 75 fa
 *		hlt			f4
 *	0x2000:	push %bp; mov %sp,%bp	55 89 e5
 *		addw $2,2(%bp); pop %bp	83 46 02 02 5d
 *		iret			cf
 *
 * CPUID is stopped by the engine's intercept check, precisely; a port
 * instruction only inside its hook, so the engine is left there and
 * replaced (io.c).  Prints "vkvm.vc_ns cpuid=.. out=..": time per #VC
 * including its handler, median of five runs.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "vkvm.h"

#define MEM 0x10000u
#define RUNS 5

static int gexit(void *opaque, struct vkvm_gexit *g)
{
	(void)opaque;
	(void)g;
	return 1;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* One run of n #VCs of the instruction insn (2 bytes); ns per #VC. */
static double run_once(const uint8_t insn[2], unsigned int n)
{
	static const uint8_t handler[] = { 0x55, 0x89, 0xe5, 0x83, 0x46,
					   0x02, 0x02, 0x5d, 0xcf };
	uint8_t code[] = { 0xb9, (uint8_t)n, (uint8_t)(n >> 8), insn[0],
			   insn[1], 0x49, 0x75, 0xfa, 0xf4 };
	struct kvm_userspace_memory_region r = { .memory_size = MEM };
	uint32_t ivt = 0x2000;
	int sys, vm, fd;
	struct kvm_sregs s;
	struct kvm_regs regs = { .rip = 0x1000, .rflags = 2 };
	struct kvm_run *run;
	uint8_t *mem;
	double t;

	sys = vkvm_open(O_RDWR);
	vm = (int)vkvm_ioctl(sys, KVM_CREATE_VM, 0);
	mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sys < 0 || vm < 0 || mem == MAP_FAILED)
		exit(1);
	memcpy(mem + 0x1000, code, sizeof(code));
	memcpy(mem + 0x2000, handler, sizeof(handler));
	memcpy(mem + 29 * 4, &ivt, 4); /* 0000:2000 */
	r.userspace_addr = (uintptr_t)mem;
	if (vkvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) ||
	    vkvm_set_protected(vm, 29, 0xc0010130, gexit, NULL, NULL))
		exit(1);
	fd = (int)vkvm_ioctl(vm, KVM_CREATE_VCPU, 0);
	run = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (fd < 0 || run == MAP_FAILED ||
	    vkvm_ioctl(fd, KVM_GET_SREGS, &s))
		exit(1);
	s.cs.selector = 0;
	s.cs.base = 0;
	regs.rsp = 0x8000;
	if (vkvm_ioctl(fd, KVM_SET_SREGS, &s) ||
	    vkvm_ioctl(fd, KVM_SET_REGS, &regs))
		exit(1);
	t = now_ns();
	if (vkvm_ioctl(fd, KVM_RUN, NULL) || run->exit_reason != KVM_EXIT_HLT) {
		fprintf(stderr, "bench-vkvm-vc: exit %u\n", run->exit_reason);
		exit(1);
	}
	t = (now_ns() - t) / n;
	munmap(run, 3 * 4096);
	vkvm_close(fd);
	close(fd);
	vkvm_close(vm);
	close(vm);
	vkvm_close(sys);
	close(sys);
	munmap(mem, MEM);
	return t;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const uint8_t insn[2], unsigned int n)
{
	double t[RUNS];
	int i;

	for (i = 0; i < RUNS; i++)
		t[i] = run_once(insn, n);
	qsort(t, RUNS, sizeof(t[0]), cmp);
	return t[RUNS / 2];
}

int main(void)
{
	static const uint8_t cpuid[2] = { 0x0f, 0xa2 }, out[2] = { 0xe6, 0x10 };

	printf("vkvm.vc_ns cpuid=%.0f out=%.0f\n", median(cpuid, 20000),
	       median(out, 20000));
	return 0;
}
