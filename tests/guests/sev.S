/* SPDX-License-Identifier: MIT */
/*
 * An SEV guest checking what it is, in 64-bit mode on the test's tables
 * (guests.h).  It reads CPUID 0x8000001F and SEV_STATUS (MSR 0xc0010131)
 * and sends both on PORT_VALUE (EAX, EBX; status low, high); if SEV is on
 * it sets the C-bit in CR3, as an SEV kernel's root table is private.  It
 * then maps SEV_PRIV_VA with the C-bit at the position CPUID gives and
 * SEV_SHARED_VA without, writes SEV_SHARED_VALUE through the shared map
 * (stage SEV_STAGE_SHARED), SEV_PRIV_VALUE through the private one, reads
 * it back (on PORT_VALUE), leaves its report in the shared page and sends
 * SEV_STAGE_DONE, then hlt.  A #PF or #GP goes to a handler that reports
 * the vector on PORT_VEC, the error code on PORT_ERR and RIP on PORT_RIP,
 * then hlt: in a VM that is not SEV the C-bit is a reserved bit.
 */
#include "guests.h"

	.section .rodata
	.globl sev_start, sev_end, sev_priv_store, sev_priv_load, sev_hlt_end
	.code64
sev_start:
	movq	$STACK_TOP, %rsp
	leaq	sev_h_pf(%rip), %rax
	movl	$14, %edi
	call	sev_set_gate
	leaq	sev_h_gp(%rip), %rax
	movl	$13, %edi
	call	sev_set_gate
	lidt	sev_idtr(%rip)

	movl	$0x8000001f, %eax
	xorl	%ecx, %ecx
	cpuid
	movl	%eax, %r12d
	movl	%ebx, %r13d
	movw	$PORT_VALUE, %dx
	movl	%r12d, %eax
	outl	%eax, %dx
	movl	%r13d, %eax
	outl	%eax, %dx

	movl	$0xc0010131, %ecx
	rdmsr
	movl	%eax, %r14d
	movl	%edx, %r15d
	movw	$PORT_VALUE, %dx
	outl	%eax, %dx
	movl	%r15d, %eax
	outl	%eax, %dx

	/* %r8: the C-bit, 1 << CPUID 0x8000001F EBX[5:0] */
	movl	%r13d, %ecx
	andl	$63, %ecx
	movl	$1, %r8d
	shlq	%cl, %r8
	testl	$1, %r14d
	jz	1f
	movq	%cr3, %rax
	orq	%r8, %rax
	movq	%rax, %cr3
1:
	movq	$(SEV_PT_GPA | PTE_P | PTE_RW), %rax
	movq	%rax, PD_GPA + 3 * 8
	movq	$(SEV_PRIV_GPA | PTE_P | PTE_RW), %rax
	orq	%r8, %rax
	movq	%rax, SEV_PT_GPA
	movq	$(SEV_SHARED_GPA | PTE_P | PTE_RW), %rax
	movq	%rax, SEV_PT_GPA + 8
	movq	%cr3, %rax
	movq	%rax, %cr3

	movl	$SEV_SHARED_VALUE, SEV_SHARED_VA
	movb	$SEV_STAGE_SHARED, %al
	movw	$PORT_OUT, %dx
	outb	%al, %dx
sev_priv_store:
	movl	$SEV_PRIV_VALUE, SEV_PRIV_VA
sev_priv_load:
	movl	SEV_PRIV_VA, %eax
	movw	$PORT_VALUE, %dx
	outl	%eax, %dx

	movl	%eax, SEV_SHARED_VA + SEV_REP_PRIV
	movl	%r12d, SEV_SHARED_VA + SEV_REP_CPUID_EAX
	movl	%r13d, SEV_SHARED_VA + SEV_REP_CPUID_EBX
	movl	%r14d, SEV_SHARED_VA + SEV_REP_STATUS
	movl	%r15d, SEV_SHARED_VA + SEV_REP_STATUS + 4
	movl	$SEV_DONE, SEV_SHARED_VA + SEV_REP_DONE
	movb	$SEV_STAGE_DONE, %al
	movw	$PORT_OUT, %dx
	outb	%al, %dx
	hlt
sev_hlt_end:

/* %edi: vector, %rax: handler.  A present, DPL 0, 64-bit interrupt gate. */
sev_set_gate:
	LM_SET_GATE

sev_h_pf:
	movb	$14, %al
	jmp	1f
sev_h_gp:
	movb	$13, %al
1:	movw	$PORT_VEC, %dx
	outb	%al, %dx
	popq	%rax
	movw	$PORT_ERR, %dx
	outl	%eax, %dx
	movl	(%rsp), %eax
	movw	$PORT_RIP, %dx
	outl	%eax, %dx
	hlt

	.p2align 3
sev_idtr:
	.word	256 * 16 - 1
	.quad	IDT_GPA
sev_end:

	.section .note.GNU-stack, "", @progbits
