// SPDX-License-Identifier: MIT
/*
 * The emulated KVM's costs, measured through the plain KVM API on
 * whatever /dev/kvm the program gets (run it under
 * `softsev run --kvm=emulated`; bench/run.sh does):
 *
 *  - KVM_RUN -> KVM_EXIT_IO -> KVM_RUN round trip of a guest `out` loop:
 *    batches of BATCH exits, median and p99 of the per-exit time over the
 *    batches;
 *  - guest integer throughput (vkvm_guests.h's mix loop) in MIPS;
 *  - memslot create + delete, VM create + close and vCPU create rates.
 *
 * Usage: bench-vkvm [EXITS [MIX_ITERATIONS]].  Prints "name key=value"
 * lines, named "vkvm." on the emulated KVM and "kvm." on a real one;
 * bench-unicorn prints the same figures for the guests driven directly on
 * Unicorn.
 */
#include <errno.h>
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

#include "vkvm_guests.h"

#define BATCH		1000
#define MIX_RUNS	5
#define SLOT_SIZE	(2u << 20)
#define SLOT_GPA	0x200000u
#define SLOT_OPS	1000
#define VM_OPS		500
#define VCPUS		100

static const char *pfx;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "bench-vkvm: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* "vkvm" if fd is softsev's emulated /dev/kvm (a memfd named "kvm"). */
static const char *backend(int fd)
{
	char path[64], link[128];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return "kvm";
	link[n] = 0;
	return strncmp(link, "/memfd:", 7) ? "kvm" : "vkvm";
}

/* Flat 32-bit protected mode: base 0, limit 4 GiB, no GDT needed. */
static void flat32(int vcpu)
{
	struct kvm_segment seg = {
		.base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 3,
		.present = 1, .s = 1, .db = 1, .g = 1,
	};
	struct kvm_sregs s;

	if (ioctl(vcpu, KVM_GET_SREGS, &s))
		die("KVM_GET_SREGS");
	s.ds = s.es = s.fs = s.gs = s.ss = seg;
	seg.type = 11;
	seg.selector = 0x8;
	s.cs = seg;
	s.cr0 |= 1;	/* PE */
	if (ioctl(vcpu, KVM_SET_SREGS, &s))
		die("KVM_SET_SREGS");
}

static void set_regs(int vcpu, uint64_t rip, uint64_t rax, uint64_t rcx)
{
	struct kvm_regs r = { .rip = rip, .rax = rax, .rcx = rcx, .rflags = 2 };

	if (ioctl(vcpu, KVM_SET_REGS, &r))
		die("KVM_SET_REGS");
}

/* One KVM_RUN that must end in an `out` of one byte to port. */
static inline void run_io(int vcpu, struct kvm_run *run, uint16_t port)
{
	if (ioctl(vcpu, KVM_RUN, 0))
		die("KVM_RUN");
	if (run->exit_reason != KVM_EXIT_IO ||
	    run->io.direction != KVM_EXIT_IO_OUT || run->io.port != port ||
	    run->io.size != 1 || run->io.count != 1) {
		fprintf(stderr, "bench-vkvm: unexpected exit %u (port %#x)\n",
			run->exit_reason, run->io.port);
		exit(1);
	}
}

static void io_roundtrip(int vcpu, struct kvm_run *run, int exits)
{
	int nb = exits / BATCH, b, i;
	double *v = malloc(sizeof(double) * (size_t)nb);

	if (!v || nb < 1)
		die("io_roundtrip");
	set_regs(vcpu, GUEST_IO, 0, 0);
	for (i = 0; i < BATCH; i++)	/* warm up: translate, fault in */
		run_io(vcpu, run, IO_PORT);
	for (b = 0; b < nb; b++) {
		double t = now();

		for (i = 0; i < BATCH; i++)
			run_io(vcpu, run, IO_PORT);
		v[b] = (now() - t) / BATCH;
	}
	qsort(v, (size_t)nb, sizeof(double), cmp);
	printf("%s.io_roundtrip_us median=%.3f p99=%.3f min=%.3f exits=%d\n",
	       pfx, v[nb / 2] / 1e3, v[nb * 99 / 100] / 1e3, v[0] / 1e3,
	       nb * BATCH);
	free(v);
}

static void mix(int vcpu, struct kvm_run *run, uint32_t iters)
{
	double mips[MIX_RUNS];
	uint32_t eax, ebx;
	struct kvm_regs r;
	int i;

	mix_ref(iters, &eax, &ebx);
	for (i = 0; i < MIX_RUNS; i++) {
		double t;

		set_regs(vcpu, GUEST_MIX, MIX_SEED, iters);
		t = now();
		run_io(vcpu, run, MIX_PORT);
		t = now() - t;
		if (ioctl(vcpu, KVM_GET_REGS, &r))
			die("KVM_GET_REGS");
		if ((uint32_t)r.rax != eax || (uint32_t)r.rbx != ebx) {
			fprintf(stderr, "bench-vkvm: mix: eax %#x ebx %#x, "
				"want %#x %#x\n", (uint32_t)r.rax,
				(uint32_t)r.rbx, eax, ebx);
			exit(1);
		}
		if (ioctl(vcpu, KVM_RUN, 0) || run->exit_reason != KVM_EXIT_HLT) {
			fprintf(stderr, "bench-vkvm: mix: no hlt (exit %u)\n",
				run->exit_reason);
			exit(1);
		}
		mips[i] = (double)iters * MIX_INSNS / t * 1e3;
	}
	qsort(mips, MIX_RUNS, sizeof(double), cmp);
	printf("%s.guest_mips median=%.0f min=%.0f max=%.0f insns=%llu runs=%d\n",
	       pfx, mips[MIX_RUNS / 2], mips[0], mips[MIX_RUNS - 1],
	       (unsigned long long)iters * MIX_INSNS, MIX_RUNS);
}

static void memslots(int vm)
{
	struct kvm_userspace_memory_region mr = {
		.slot = 1, .guest_phys_addr = SLOT_GPA,
	};
	void *buf = mmap(NULL, SLOT_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double t;
	int i;

	if (buf == MAP_FAILED)
		die("mmap");
	mr.userspace_addr = (uintptr_t)buf;
	t = now();
	for (i = 0; i < SLOT_OPS; i++) {
		mr.memory_size = SLOT_SIZE;
		if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mr))
			die("memslot create");
		mr.memory_size = 0;
		if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mr))
			die("memslot delete");
	}
	t = now() - t;
	printf("%s.memslot_add_delete_per_s value=%.0f n=%d\n", pfx,
	       SLOT_OPS / t * 1e9, SLOT_OPS);
	munmap(buf, SLOT_SIZE);
}

static void vms(int kvm)
{
	double t = now();
	int i;

	for (i = 0; i < VM_OPS; i++) {
		int vm = ioctl(kvm, KVM_CREATE_VM, 0ul);

		if (vm < 0)
			die("KVM_CREATE_VM");
		close(vm);
	}
	t = now() - t;
	printf("%s.vm_create_close_per_s value=%.0f n=%d\n", pfx,
	       VM_OPS / t * 1e9, VM_OPS);
}

static void vcpus(int kvm)
{
	int fd[VCPUS], n = VCPUS, max, vm, i;
	double t;

	max = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max > 0 && max < n)
		n = max;
	vm = ioctl(kvm, KVM_CREATE_VM, 0ul);
	if (vm < 0)
		die("KVM_CREATE_VM");
	t = now();
	for (i = 0; i < n; i++) {
		fd[i] = ioctl(vm, KVM_CREATE_VCPU, (unsigned long)i);
		if (fd[i] < 0)
			die("KVM_CREATE_VCPU");
	}
	t = now() - t;
	printf("%s.vcpu_create_per_s value=%.0f n=%d\n", pfx, n / t * 1e9, n);
	t = now();
	for (i = 0; i < n; i++)
		close(fd[i]);
	close(vm);
	t = now() - t;
	printf("%s.vm_close_with_vcpus_ms value=%.2f n=%d\n", pfx, t / 1e6, n);
}

int main(int argc, char **argv)
{
	int exits = argc > 1 ? atoi(argv[1]) : 200000;
	long iters = argc > 2 ? atol(argv[2]) : 100000000;
	struct kvm_userspace_memory_region mr = { 0 };
	struct kvm_run *run;
	int kvm, vm, vcpu;
	long run_size;
	uint8_t *mem;

	if (exits < BATCH || iters < 1 || iters > UINT32_MAX) {
		fprintf(stderr, "usage: bench-vkvm [EXITS>=%d [MIX_ITERATIONS]]\n",
			BATCH);
		return 2;
	}
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("/dev/kvm");
	pfx = backend(kvm);
	vm = ioctl(kvm, KVM_CREATE_VM, 0ul);
	if (vm < 0)
		die("KVM_CREATE_VM");
	mem = mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	memset(mem, 0xf4, GUEST_MEM_SIZE);	/* hlt */
	memcpy(mem + GUEST_LOAD, guest_image, sizeof(guest_image));
	mr.memory_size = GUEST_MEM_SIZE;
	mr.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mr))
		die("KVM_SET_USER_MEMORY_REGION");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0ul);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size <= 0)
		die("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");
	flat32(vcpu);

	io_roundtrip(vcpu, run, exits);
	mix(vcpu, run, (uint32_t)iters);
	memslots(vm);
	vms(kvm);
	vcpus(kvm);

	munmap(run, (size_t)run_size);
	close(vcpu);
	close(vm);
	close(kvm);
	return 0;
}
