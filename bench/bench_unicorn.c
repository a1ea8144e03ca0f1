// SPDX-License-Identifier: MIT
/*
 * The baseline for bench-vkvm: its guests (vkvm_guests.h) driven directly
 * on Unicorn, the way DESIGN.md's emulated-backend targets are stated.
 *
 *  - round trip: an `out` hook (UC_HOOK_INSN, UC_X86_INS_OUT) stops the
 *    engine and the loop restarts uc_emu_start at each exit.  A stop from
 *    a hook leaves RIP at the block start, so each restart is from the
 *    loop's start: no RIP bookkeeping, no exit decoding, a lower bound;
 *  - throughput: one uc_emu_start over the whole mix loop.
 *
 * A UC_MODE_32 engine, which starts in flat 32-bit protected mode (vkvm
 * puts a 64-bit engine in the same state with KVM_SET_SREGS).  Usage and
 * output as bench-vkvm's, named "unicorn.".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unicorn/unicorn.h>

#include "vkvm_guests.h"

#define BATCH		1000
#define MIX_RUNS	5

static uint64_t outs;
static uint32_t last_port;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void check(uc_err err, const char *what)
{
	if (err != UC_ERR_OK) {
		fprintf(stderr, "bench-unicorn: %s: %s\n", what,
			uc_strerror(err));
		exit(1);
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void hook_out(uc_engine *uc, uint32_t port, int size, uint32_t value,
		     void *arg)
{
	(void)size;
	(void)value;
	(void)arg;
	outs++;
	last_port = port;
	uc_emu_stop(uc);
}

static void io_roundtrip(uc_engine *uc, int exits)
{
	int nb = exits / BATCH, b, i;
	double *v = malloc(sizeof(double) * (size_t)nb);
	uint64_t starts = 0;

	if (!v || nb < 1) {
		fprintf(stderr, "bench-unicorn: io_roundtrip: no memory\n");
		exit(1);
	}
	for (i = 0; i < BATCH; i++)	/* warm up: translate */
		check(uc_emu_start(uc, GUEST_IO, 0, 0, 0), "uc_emu_start");
	outs = 0;
	for (b = 0; b < nb; b++) {
		double t = now();

		for (i = 0; i < BATCH; i++)
			check(uc_emu_start(uc, GUEST_IO, 0, 0, 0),
			      "uc_emu_start");
		v[b] = (now() - t) / BATCH;
		starts += BATCH;
	}
	/* One `out` per start, or the figure is not per exit. */
	if (outs != starts || last_port != IO_PORT) {
		fprintf(stderr, "bench-unicorn: %llu outs in %llu starts "
			"(port %#x)\n", (unsigned long long)outs,
			(unsigned long long)starts, last_port);
		exit(1);
	}
	qsort(v, (size_t)nb, sizeof(double), cmp);
	printf("unicorn.io_roundtrip_us median=%.3f p99=%.3f min=%.3f exits=%d\n",
	       v[nb / 2] / 1e3, v[nb * 99 / 100] / 1e3, v[0] / 1e3,
	       nb * BATCH);
	free(v);
}

static void mix(uc_engine *uc, uint32_t iters)
{
	uint32_t eax, ebx, a, b, zero = 0;
	double mips[MIX_RUNS];
	int i;

	mix_ref(iters, &eax, &ebx);
	for (i = 0; i < MIX_RUNS; i++) {
		uint32_t seed = MIX_SEED;
		double t;

		check(uc_reg_write(uc, UC_X86_REG_EAX, &seed), "EAX");
		check(uc_reg_write(uc, UC_X86_REG_EBX, &zero), "EBX");
		check(uc_reg_write(uc, UC_X86_REG_ECX, &iters), "ECX");
		outs = 0;
		t = now();
		check(uc_emu_start(uc, GUEST_MIX, 0, 0, 0), "uc_emu_start");
		t = now() - t;
		check(uc_reg_read(uc, UC_X86_REG_EAX, &a), "EAX");
		check(uc_reg_read(uc, UC_X86_REG_EBX, &b), "EBX");
		if (a != eax || b != ebx || outs != 1 || last_port != MIX_PORT) {
			fprintf(stderr, "bench-unicorn: mix: eax %#x ebx %#x "
				"outs %llu, want %#x %#x 1\n", a, b,
				(unsigned long long)outs, eax, ebx);
			exit(1);
		}
		mips[i] = (double)iters * MIX_INSNS / t * 1e3;
	}
	qsort(mips, MIX_RUNS, sizeof(double), cmp);
	printf("unicorn.guest_mips median=%.0f min=%.0f max=%.0f insns=%llu runs=%d\n",
	       mips[MIX_RUNS / 2], mips[0], mips[MIX_RUNS - 1],
	       (unsigned long long)iters * MIX_INSNS, MIX_RUNS);
}

int main(int argc, char **argv)
{
	int exits = argc > 1 ? atoi(argv[1]) : 200000;
	long iters = argc > 2 ? atol(argv[2]) : 100000000;
	uc_hook hook;
	uc_engine *uc;
	uint8_t *mem;

	if (exits < BATCH || iters < 1 || iters > UINT32_MAX) {
		fprintf(stderr, "usage: bench-unicorn [EXITS>=%d [MIX_ITERATIONS]]\n",
			BATCH);
		return 2;
	}
	mem = mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("bench-unicorn: mmap");
		return 1;
	}
	memset(mem, 0xf4, GUEST_MEM_SIZE);	/* hlt */
	memcpy(mem + GUEST_LOAD, guest_image, sizeof(guest_image));
	check(uc_open(UC_ARCH_X86, UC_MODE_32, &uc), "uc_open");
	check(uc_mem_map_ptr(uc, 0, GUEST_MEM_SIZE, UC_PROT_ALL, mem),
	      "uc_mem_map_ptr");
	check(uc_hook_add(uc, &hook, UC_HOOK_INSN, (void *)hook_out, NULL, 1,
			  0, UC_X86_INS_OUT), "uc_hook_add");

	io_roundtrip(uc, exits);
	mix(uc, (uint32_t)iters);

	uc_close(uc);
	munmap(mem, GUEST_MEM_SIZE);
	return 0;
}
