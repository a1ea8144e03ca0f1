/* SPDX-License-Identifier: MIT */
/*
 * vk_switch(save_sp, new_sp): save the callee-saved registers on this
 * stack, store its pointer in *save_sp, and resume the stack at new_sp.
 * It is how a vCPU's engine, running on its own stack, waits inside a
 * hook for userspace without the engine ever stopping.  A new stack
 * starts in vk_co_entry with the function in r12 and its argument in r13.
 */
	.text
	.globl	vk_switch
	.hidden	vk_switch
	.type	vk_switch, @function
vk_switch:
	.cfi_startproc
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.cfi_endproc
	.size	vk_switch, .-vk_switch

	.globl	vk_co_entry
	.hidden	vk_co_entry
	.type	vk_co_entry, @function
vk_co_entry:
	.cfi_startproc
	.cfi_undefined rip
	movq	%r13, %rdi
	call	*%r12
	ud2
	.cfi_endproc
	.size	vk_co_entry, .-vk_co_entry

	.section .note.GNU-stack, "", @progbits
