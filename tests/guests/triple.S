/* SPDX-License-Identifier: MIT */
/*
 * A triple fault, in 64-bit mode (the test enters long mode directly):
 * with an IDT of limit 0, the #UD of ud2 cannot be delivered, nor the #GP
 * that follows, nor the #DF: the processor shuts down.
 */
#include "guests.h"

	.section .rodata
	.globl triple_start, triple_end
	.code64
triple_start:
	lidt	triple_idtr(%rip)
	movw	$PORT_OUT, %dx
	movb	$1, %al
	outb	%al, %dx
	ud2
	hlt				/* never reached */

	.balign 8
triple_idtr:
	.word	0
	.quad	0
triple_end:

	.section .note.GNU-stack, "", @progbits
