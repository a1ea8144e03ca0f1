/* SPDX-License-Identifier: MIT */
/*
 * A guest that never exits on its own, for immediate_exit and signals.
 * Any mode runs it; the test enters long mode and counts on %rax moving.
 */
	.section .rodata
	.globl loop_start, loop_end
	.code64
loop_start:
1:	incq	%rax
	jmp	1b
loop_end:

	.section .note.GNU-stack, "", @progbits
