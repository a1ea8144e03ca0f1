// SPDX-License-Identifier: MIT
/*
 * What strict memory costs (issue 11): one launched SEV VM on the emulated
 * KVM, run under `softsev run --kvm=emulated` (normal) and under
 * `softsev run --strict-memory` (strict); bench/run.sh runs both.  The
 * guests are vkvm_guests.h's, in flat 32-bit protected mode without
 * paging, where every access of an SEV guest is private; GUEST_IOW adds a
 * private write before each exit:
 *
 *	1:	incl	0x2000			ff 05 00 20 00 00
 *		out	%al, $0x10		e6 10
 *		jmp	1b			eb f6
 *
 * Prints "strict.MODE" lines: the first KVM_RUN (strict: the view of all
 * MEM bytes decrypted), the KVM_RUN -> KVM_EXIT_IO round trip without and
 * with a dirty private page (strict: its write-back through the server),
 * and guest integer throughput.  Usage: bench-vkvm-strict MODE [EXITS].
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
#include <linux/psp-sev.h>

#include "vkvm_guests.h"

#define MEM (64u << 20)
#define GUEST_IOW 0x1100u
#define BATCH 200
#define MIX_ITERS 2000000u
#define MIX_RUNS 5

static const uint8_t iow[] = { 0xff, 0x05, 0x00, 0x20, 0x00,
			       0x00, 0xe6, 0x10, 0xeb, 0xf6 };
static const char *mode;

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

static void sev_cmd(int vm, int sev, uint32_t id, void *data)
{
	struct kvm_sev_cmd c = { .id = id,
				 .data = (uintptr_t)data,
				 .sev_fd = (uint32_t)sev };

	if (ioctl(vm, KVM_MEMORY_ENCRYPT_OP, &c)) {
		fprintf(stderr, "bench-vkvm-strict: SEV command %u: error %u\n",
			id, c.error);
		die("KVM_MEMORY_ENCRYPT_OP");
	}
}

/* Type SEV, INIT2, LAUNCH_START .. FINISH over the first 64 KiB. */
static void launch(int vm, uint8_t *mem)
{
	uint8_t init[48] = { 0 }, digest[48];
	struct kvm_sev_launch_start ls = { .policy = 0 };
	struct kvm_sev_launch_update_data up = { .uaddr = (uintptr_t)mem,
						 .len = GUEST_MEM_SIZE };
	struct kvm_sev_launch_measure m = { .uaddr = (uintptr_t)digest,
					    .len = sizeof(digest) };
	int sev = open("/dev/sev", O_RDWR | O_CLOEXEC);

	if (sev < 0)
		die("/dev/sev");
	sev_cmd(vm, sev, 22, init); /* KVM_SEV_INIT2 */
	sev_cmd(vm, sev, KVM_SEV_LAUNCH_START, &ls);
	sev_cmd(vm, sev, KVM_SEV_LAUNCH_UPDATE_DATA, &up);
	sev_cmd(vm, sev, KVM_SEV_LAUNCH_MEASURE, &m);
	sev_cmd(vm, sev, KVM_SEV_LAUNCH_FINISH, NULL);
	close(sev);
}

static void flat32(int vcpu)
{
	struct kvm_segment seg = {
		.base = 0,
		.limit = 0xffffffff,
		.selector = 0x10,
		.type = 3,
		.present = 1,
		.s = 1,
		.db = 1,
		.g = 1,
	};
	struct kvm_sregs s;

	if (ioctl(vcpu, KVM_GET_SREGS, &s))
		die("KVM_GET_SREGS");
	s.ds = s.es = s.fs = s.gs = s.ss = seg;
	seg.type = 11;
	seg.selector = 0x8;
	s.cs = seg;
	s.cr0 |= 1;
	if (ioctl(vcpu, KVM_SET_SREGS, &s))
		die("KVM_SET_SREGS");
}

static void set_regs(int vcpu, uint64_t rip, uint64_t rax, uint64_t rcx)
{
	struct kvm_regs r = { .rip = rip, .rax = rax, .rcx = rcx, .rflags = 2 };

	if (ioctl(vcpu, KVM_SET_REGS, &r))
		die("KVM_SET_REGS");
}

static void run_io(int vcpu, struct kvm_run *run, uint16_t port)
{
	if (ioctl(vcpu, KVM_RUN, 0))
		die("KVM_RUN");
	if (run->exit_reason != KVM_EXIT_IO || run->io.port != port) {
		fprintf(stderr, "bench-vkvm-strict: exit %u port %#x\n",
			run->exit_reason, run->io.port);
		exit(1);
	}
}

/* Per-exit time in µs: median and p99 over batches. */
static void roundtrip(int vcpu, struct kvm_run *run, uint64_t rip,
		      const char *name, int exits)
{
	int nb = exits / BATCH, b, i;
	double *v = malloc(sizeof(double) * (size_t)(nb > 0 ? nb : 1));

	if (!v || nb < 1)
		die("roundtrip");
	set_regs(vcpu, rip, 0, 0);
	for (i = 0; i < BATCH; i++)
		run_io(vcpu, run, IO_PORT);
	for (b = 0; b < nb; b++) {
		double t = now();

		for (i = 0; i < BATCH; i++)
			run_io(vcpu, run, IO_PORT);
		v[b] = (now() - t) / BATCH;
	}
	qsort(v, (size_t)nb, sizeof(double), cmp);
	printf("strict.%s %s_us median=%.3f p99=%.3f exits=%d\n", mode, name,
	       v[nb / 2] / 1e3, v[nb * 99 / 100] / 1e3, nb * BATCH);
	free(v);
}

static void mix(int vcpu, struct kvm_run *run)
{
	double mips[MIX_RUNS];
	uint32_t eax, ebx;
	struct kvm_regs r;
	int i;

	mix_ref(MIX_ITERS, &eax, &ebx);
	for (i = 0; i < MIX_RUNS; i++) {
		double t;

		set_regs(vcpu, GUEST_MIX, MIX_SEED, MIX_ITERS);
		t = now();
		run_io(vcpu, run, MIX_PORT);
		t = now() - t;
		if (ioctl(vcpu, KVM_GET_REGS, &r) || (uint32_t)r.rax != eax ||
		    (uint32_t)r.rbx != ebx) {
			fprintf(stderr,
				"bench-vkvm-strict: mix: wrong result\n");
			exit(1);
		}
		mips[i] = (double)MIX_ITERS * MIX_INSNS / t * 1e3;
	}
	qsort(mips, MIX_RUNS, sizeof(double), cmp);
	printf("strict.%s guest_mips median=%.0f min=%.0f max=%.0f\n", mode,
	       mips[MIX_RUNS / 2], mips[0], mips[MIX_RUNS - 1]);
}

int main(int argc, char **argv)
{
	struct kvm_userspace_memory_region mr = { .memory_size = MEM };
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm, vcpu;
	int exits = argc > 2 ? atoi(argv[2]) : 20000;
	struct kvm_run *run;
	uint8_t *mem;
	uint32_t got;
	long size;
	double t;

	mode = argc > 1 ? argv[1] : "normal";
	if (kvm < 0)
		die("/dev/kvm");
	size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm = ioctl(kvm, KVM_CREATE_VM, 2ul);
	if (vm < 0)
		die("KVM_CREATE_VM");
	mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	memcpy(mem + GUEST_LOAD, guest_image, sizeof(guest_image));
	memcpy(mem + GUEST_IOW, iow, sizeof(iow));
	mr.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mr))
		die("KVM_SET_USER_MEMORY_REGION");
	launch(vm, mem);
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0ul);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu,
		   0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");
	flat32(vcpu);
	set_regs(vcpu, GUEST_IO, 0, 0);
	t = now();
	run_io(vcpu, run, IO_PORT);
	printf("strict.%s first_run_ms=%.2f mem_mib=%u\n", mode,
	       (now() - t) / 1e6, MEM >> 20);
	roundtrip(vcpu, run, GUEST_IO, "io_roundtrip", exits);
	roundtrip(vcpu, run, GUEST_IOW, "io_dirty_roundtrip", exits);
	/* the counter the guest kept privately */
	memcpy(&got, mem + 0x2000, 4);
	printf("strict.%s counter_in_vmm_buffer=%s\n", mode,
	       got == (uint32_t)(exits + BATCH) ? "plaintext" : "ciphertext");
	mix(vcpu, run);
	return 0;
}
