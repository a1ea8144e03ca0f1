/* SPDX-License-Identifier: MIT */
/*
 * Run by two vCPUs of one VM at once, in 64-bit mode: each adds
 * SMP_ITERS to the shared counter at SMP_COUNTER_GPA with lock incl, then
 * reports the %ebx the test gave it on PORT_VALUE and halts.
 */
#include "guests.h"

	.section .rodata
	.globl smp_start, smp_end, smp_hlt_end
	.code64
smp_start:
	movl	$SMP_ITERS, %ecx
1:	lock incl SMP_COUNTER_GPA
	decl	%ecx
	jnz	1b
	movl	%ebx, %eax
	movw	$PORT_VALUE, %dx
	outl	%eax, %dx
	hlt
smp_hlt_end:
smp_end:

	.section .note.GNU-stack, "", @progbits
