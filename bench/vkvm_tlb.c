// SPDX-License-Identifier: MIT
/*
 * The cost of a TLB miss on the emulated KVM, in a plain VM (the
 * emulator's own page walk) and in an SEV VM (vkvm's fill hook, which
 * ignores the C-bit; issue 11).  The guest, flat 32-bit protected mode
 * with 4 MiB pages, flushes the TLB (CR3 write) and writes one dword in
 * each of PAGES pages, ROUNDS times, then `out` and `hlt`:
 *
 *	0:	mov %cr3,%eax; mov %eax,%cr3		0f 20 d8 0f 22 d8
 *		mov $0x100000,%edi; mov $PAGES,%ecx	bf .. b9 ..
 *	16:	mov %eax,(%edi); add $4096,%edi		89 07 81 c7 00 10 00 00
 *		dec %ecx; jnz 16			49 75 f5
 *		dec %ebx; jnz 0				4b 75 e2
 *		out %al,$0x12; hlt			e6 12 f4
 *
 * Run it under `softsev run --kvm=emulated` (it needs /dev/sev for the SEV
 * VM).  Prints "vkvm.tlb_miss_ns plain=.. sev=..": time per page touched,
 * median of five runs (each touch is one fill, the rest of the loop is a
 * few instructions).
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

#define MEM (4u << 20)
#define CODE 0x1000u
#define PD 0x8000u
#define PAGES 256u
#define ROUNDS 2000u
#define RUNS 5

static const uint8_t code[] = {
	0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8, 0xbf, 0x00, 0x00, 0x10, 0x00,
	0xb9, PAGES & 0xff, PAGES >> 8, 0x00, 0x00, 0x89, 0x07, 0x81, 0xc7,
	0x00, 0x10, 0x00, 0x00, 0x49, 0x75, 0xf5, 0x4b, 0x75, 0xe2, 0xe6,
	0x12, 0xf4,
};

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* KVM_CREATE_VM type SEV and KVM_SEV_INIT2 (all defaults). */
static void sev_init(int vm)
{
	uint8_t init[48] = { 0 };
	struct kvm_sev_cmd c = { .id = 22, .data = (uintptr_t)init };
	int sev = open("/dev/sev", O_RDWR | O_CLOEXEC);

	if (sev < 0)
		die("/dev/sev");
	c.sev_fd = (uint32_t)sev;
	if (ioctl(vm, KVM_MEMORY_ENCRYPT_OP, &c))
		die("KVM_SEV_INIT2");
}

static void paged32(int vcpu)
{
	struct kvm_segment seg = {
		.limit = 0xffffffff, .selector = 0x10, .type = 3,
		.present = 1, .s = 1, .db = 1, .g = 1,
	};
	struct kvm_regs r = { .rip = CODE, .rbx = ROUNDS, .rflags = 2 };
	struct kvm_sregs s;

	if (ioctl(vcpu, KVM_GET_SREGS, &s))
		die("KVM_GET_SREGS");
	s.ds = s.es = s.fs = s.gs = s.ss = seg;
	seg.type = 11;
	seg.selector = 0x8;
	s.cs = seg;
	s.cr0 = 0x80000011;	/* PE ET PG */
	s.cr3 = PD;
	s.cr4 = 0x10;		/* PSE */
	if (ioctl(vcpu, KVM_SET_SREGS, &s) || ioctl(vcpu, KVM_SET_REGS, &r))
		die("KVM_SET_SREGS");
}

static double one(int kvm, int sev)
{
	struct kvm_userspace_memory_region mr = { .memory_size = MEM };
	long size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	int vm = ioctl(kvm, KVM_CREATE_VM, sev ? 2ul : 0ul), vcpu;
	struct kvm_run *run;
	uint8_t *mem;
	uint32_t pde = 0x83;	/* 0 .. 4 MiB: P RW PS */
	double t;

	if (vm < 0)
		die("KVM_CREATE_VM");
	if (sev)
		sev_init(vm);
	mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	memcpy(mem + CODE, code, sizeof(code));
	memcpy(mem + PD, &pde, 4);
	mr.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mr))
		die("KVM_SET_USER_MEMORY_REGION");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0ul);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");
	paged32(vcpu);
	t = now();
	if (ioctl(vcpu, KVM_RUN, 0) || run->exit_reason != KVM_EXIT_IO ||
	    run->io.port != 0x12) {
		fprintf(stderr, "bench-vkvm-tlb: exit %u\n", run->exit_reason);
		exit(1);
	}
	t = (now() - t) / ((double)PAGES * ROUNDS);
	munmap(run, (size_t)size);
	close(vcpu);
	close(vm);
	munmap(mem, MEM);
	return t;
}

int main(void)
{
	double v[2][RUNS];
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), i, sev;

	if (kvm < 0)
		die("/dev/kvm");
	for (i = 0; i < RUNS; i++)
		for (sev = 0; sev < 2; sev++)
			v[sev][i] = one(kvm, sev);
	qsort(v[0], RUNS, sizeof(double), cmp);
	qsort(v[1], RUNS, sizeof(double), cmp);
	printf("vkvm.tlb_miss_ns plain=%.1f sev=%.1f pages=%u rounds=%u "
	       "runs=%d\n", v[0][RUNS / 2], v[1][RUNS / 2], PAGES, ROUNDS,
	       RUNS);
	close(kvm);
	return 0;
}
