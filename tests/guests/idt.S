/* SPDX-License-Identifier: MIT */
/*
 * Exceptions and software interrupts through the guest's own IDT, in
 * 64-bit mode (the test enters long mode directly; its GDT has
 * LM_SEL_CODE and LM_SEL_DATA, which iretq reloads).  Each handler
 * reports its vector on PORT_VEC, the error code (#GP only) on PORT_ERR
 * and the saved RIP on PORT_RIP.  Fault handlers then resume at %r15,
 * which the main code points past the faulting instruction; trap
 * handlers return to the saved RIP as it is.
 */
#include "guests.h"

	.section .rodata
	.globl idt_start, idt_end, idt_ud, idt_gp0, idt_gpsel
	.globl idt_int3_end, idt_int80_end, idt_hlt_end
	.code64
idt_start:
	movq	$STACK_TOP, %rsp
	leaq	idt_h_bp(%rip), %rax
	movl	$3, %edi
	call	idt_set_gate
	leaq	idt_h_ud(%rip), %rax
	movl	$6, %edi
	call	idt_set_gate
	leaq	idt_h_gp(%rip), %rax
	movl	$13, %edi
	call	idt_set_gate
	leaq	idt_h_80(%rip), %rax
	movl	$0x80, %edi
	call	idt_set_gate
	lidt	idt_idtr(%rip)

	leaq	1f(%rip), %r15
idt_ud:
	ud2				/* #UD */
1:	movabsq	$0x8000000000000000, %rbx
	leaq	1f(%rip), %r15
idt_gp0:
	movl	(%rbx), %eax		/* #GP(0): non-canonical */
1:	movl	$BAD_SEL, %eax
	leaq	1f(%rip), %r15
idt_gpsel:
	movl	%eax, %ds		/* #GP(BAD_SEL): past GDT limit */
1:	int3
idt_int3_end:
	int	$0x80
idt_int80_end:
	hlt
idt_hlt_end:

/* %edi: vector, %rax: handler.  A present, DPL 0, 64-bit interrupt gate. */
idt_set_gate:
	LM_SET_GATE

/* Report vector \vec and the saved RIP at \rip(%rsp). */
.macro report vec, rip
	movb	$\vec, %al
	movw	$PORT_VEC, %dx
	outb	%al, %dx
	movl	\rip(%rsp), %eax
	movw	$PORT_RIP, %dx
	outl	%eax, %dx
.endm

idt_h_ud:
	pushq	%rax
	pushq	%rdx
	report	6, 16
	movq	%r15, 16(%rsp)
	popq	%rdx
	popq	%rax
	iretq

idt_h_gp:
	pushq	%rax
	pushq	%rdx
	movb	$13, %al
	movw	$PORT_VEC, %dx
	outb	%al, %dx
	movl	16(%rsp), %eax		/* the error code */
	movw	$PORT_ERR, %dx
	outl	%eax, %dx
	movl	24(%rsp), %eax
	movw	$PORT_RIP, %dx
	outl	%eax, %dx
	movq	%r15, 24(%rsp)
	popq	%rdx
	popq	%rax
	addq	$8, %rsp		/* drop the error code */
	iretq

idt_h_bp:
	pushq	%rax
	pushq	%rdx
	report	3, 16
	popq	%rdx
	popq	%rax
	iretq

idt_h_80:
	pushq	%rax
	pushq	%rdx
	report	0x80, 16
	popq	%rdx
	popq	%rax
	iretq

	.balign 8
idt_idtr:
	.word	256 * 16 - 1
	.quad	IDT_GPA
idt_end:

	.section .note.GNU-stack, "", @progbits
