/* SPDX-License-Identifier: MIT */
/*
 * The guests of bench-vkvm and bench-unicorn, byte for byte the same in
 * both: flat 32-bit protected mode code loaded at GUEST_LOAD in a
 * GUEST_MEM_SIZE region at guest physical address 0.
 *
 * GUEST_IO (exit round trip):
 *	1:	out	%al, $0x10		e6 10
 *		jmp	1b			eb fc
 *
 * GUEST_MIX (integer throughput; ECX = iterations, EAX = seed, EBX = 0):
 *	1:	mov	%eax, %edx		89 c2
 *		shl	$13, %edx		c1 e2 0d
 *		xor	%edx, %eax		31 d0
 *		mov	%eax, %edx		89 c2
 *		shr	$17, %edx		c1 ea 11
 *		xor	%edx, %eax		31 d0
 *		mov	%eax, %edx		89 c2
 *		shl	$5, %edx		c1 e2 05
 *		xor	%edx, %eax		31 d0
 *		imul	$0x9e3779b1, %eax, %esi	69 f0 b1 79 37 9e
 *		add	%esi, %ebx		01 f3
 *		dec	%ecx			49
 *		jnz	1b			75 e0
 *		out	%al, $0x11		e6 11
 *		hlt				f4
 *
 * MIX_INSNS instructions per iteration; mix_ref() is the loop in C, to
 * check EAX and EBX afterwards.
 */
#ifndef SOFTSEV_BENCH_VKVM_GUESTS_H
#define SOFTSEV_BENCH_VKVM_GUESTS_H

#include <stdint.h>

#define GUEST_MEM_SIZE	0x10000u
#define GUEST_LOAD	0x1000u
#define GUEST_IO	0x1000u
#define GUEST_MIX	0x1010u
#define IO_PORT		0x10
#define MIX_PORT	0x11
#define MIX_INSNS	13
#define MIX_SEED	0x2545f491u

static const uint8_t guest_image[] = {
	/* 0x1000: GUEST_IO */
	0xe6, 0x10, 0xeb, 0xfc,
	/* padding: hlt */
	0xf4, 0xf4, 0xf4, 0xf4, 0xf4, 0xf4, 0xf4, 0xf4,
	0xf4, 0xf4, 0xf4, 0xf4,
	/* 0x1010: GUEST_MIX */
	0x89, 0xc2, 0xc1, 0xe2, 0x0d, 0x31, 0xd0,
	0x89, 0xc2, 0xc1, 0xea, 0x11, 0x31, 0xd0,
	0x89, 0xc2, 0xc1, 0xe2, 0x05, 0x31, 0xd0,
	0x69, 0xf0, 0xb1, 0x79, 0x37, 0x9e,
	0x01, 0xf3,
	0x49,
	0x75, 0xe0,
	0xe6, 0x11,
	0xf4,
};

static inline void mix_ref(uint32_t iters, uint32_t *eax, uint32_t *ebx)
{
	uint32_t x = MIX_SEED, sum = 0;

	while (iters--) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		sum += x * 0x9e3779b1u;
	}
	*eax = x;
	*ebx = sum;
}

#endif
