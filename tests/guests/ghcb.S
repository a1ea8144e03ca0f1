/* SPDX-License-Identifier: MIT */
/*
 * An SEV-ES guest talking to its hypervisor through the GHCB protocol
 * only, in 64-bit mode on the test's tables (guests.h), with no #VC
 * handler: it uses no instruction that would raise one.  Through the MSR
 * protocol (GHCB MSR 0xc0010130 and VMGEXIT) it asks for the SEV
 * information, CPUID 0x8000001F EBX and the hypervisor features; through
 * the GHCB page at GHCB_GPA (shared) it reports each answer as an OUT on
 * PORT_VALUE (low dword, then high), echoes an IN plus one, reads
 * SEV_STATUS (RDMSR), does a rep outsb of "hello" on PORT_STR from the
 * shared buffer, reports what a GHCB with usage 1 got back (exit info 1
 * and 2), writes MMIO64_VALUE at MMIO_GPA and reads a dword at MMIO_GPA +
 * 8 (reported).  Then it installs a #VC (29) handler that forwards CPUID
 * and `out %eax, %dx` through the GHCB, as an SEV-ES kernel's does, runs
 * CPUID 0x8000001F and OUTs its EBX on PORT_VALUE, and at last asks to be
 * terminated (reason set 1, code 4).
 */
#include "guests.h"

#define GHCB_MSR	0xc0010130
#define G(off)		(GHCB_GPA + (off))

	.section .rodata
	.globl ghcb_start, ghcb_end
	.code64
ghcb_start:
	movq	$STACK_TOP, %rsp
	movl	$2, %eax			/* SEV_INFO_REQ */
	call	msr_proto
	movq	%rax, %r12
	movabsq	$((0x8000001f << 32) | (1 << 30) | 4), %rax /* CPUID EBX */
	call	msr_proto
	movq	%rax, %r13
	movl	$0x80, %eax			/* HV_FT_REQ */
	call	msr_proto
	movq	%rax, %r14
	movq	%r12, %rax
	call	out_q
	movq	%r13, %rax
	call	out_q
	movq	%r14, %rax
	call	out_q

	call	in_d
	incl	%eax
	call	out_d

	movl	$0xc0010131, %esi		/* SEV_STATUS */
	call	rdmsr_ghcb
	call	out_q

	call	ghcb_begin			/* rep outsb "hello" */
	movl	$0x6c6c6568, G(0x800)
	movb	$0x6f, G(0x804)
	movl	$0x3a8, %edi
	movq	$G(0x800), %rsi
	call	set_field
	movl	$0x7b, %edi
	movl	$((PORT_STR << 16) | 0x10 | 4), %esi
	movl	$5, %edx
	call	vmgexit

	call	ghcb_begin			/* usage 1: an error back */
	movl	$1, G(0xffc)
	movl	$0x7b, %edi
	movl	$((PORT_VALUE << 16) | 0x40 | 1), %esi
	xorl	%edx, %edx
	call	vmgexit
	movq	G(0x398), %r12
	movq	G(0x3a0), %r13
	movq	%r12, %rax
	call	out_d
	movq	%r13, %rax
	call	out_d

	call	ghcb_begin			/* MMIO write, 8 bytes */
	movabsq	$MMIO64_VALUE, %rax
	movq	%rax, G(0x800)
	movl	$0x3a8, %edi
	movq	$G(0x800), %rsi
	call	set_field
	movl	$0x80000002, %edi
	movl	$MMIO_GPA, %esi
	movl	$8, %edx
	call	vmgexit

	call	ghcb_begin			/* MMIO read, 4 bytes */
	movl	$0x3a8, %edi
	movq	$G(0x800), %rsi
	call	set_field
	movl	$0x80000001, %edi
	movl	$(MMIO_GPA + 8), %esi
	movl	$4, %edx
	call	vmgexit
	movl	G(0x800), %eax
	call	out_d

	leaq	vc_handler(%rip), %rax		/* #VC: CPUID and OUT */
	movl	$29, %edi
	call	set_gate
	lidt	ghcb_idtr(%rip)
	movl	$0x8000001f, %eax
	xorl	%ecx, %ecx
	cpuid
	movl	%ebx, %eax
	movw	$PORT_VALUE, %dx
	outl	%eax, %dx

	movl	$(0x100 | (1 << 12) | (4 << 16)), %eax /* TERM_REQ */
	call	msr_proto
	hlt

/* The MSR protocol: %rax the request, then the answer. */
msr_proto:
	movq	%rax, %rdx
	shrq	$32, %rdx
	movl	$GHCB_MSR, %ecx
	wrmsr
	rep; vmmcall
	rdmsr
	shlq	$32, %rdx
	movl	%eax, %eax
	orq	%rdx, %rax
	ret

/* A fresh GHCB: nothing valid, usage 0. */
ghcb_begin:
	movq	$0, G(0x3f0)
	movq	$0, G(0x3f8)
	movl	$0, G(0xffc)
	ret

/* The save-area field at offset %rdi := %rsi, and its valid bit. */
set_field:
	movq	%rsi, GHCB_GPA(%rdi)
	movq	%rdi, %rcx
	shrq	$3, %rcx
	btsq	%rcx, G(0x3f0)
	ret

/* VMGEXIT with the GHCB: exit code %rdi, info 1 %rsi, info 2 %rdx. */
vmgexit:
	pushq	%rdx
	pushq	%rsi
	movq	%rdi, %rsi
	movl	$0x390, %edi
	call	set_field
	popq	%rsi
	movl	$0x398, %edi
	call	set_field
	popq	%rsi
	movl	$0x3a0, %edi
	call	set_field
	movl	$GHCB_MSR, %ecx
	movl	$GHCB_GPA, %eax
	xorl	%edx, %edx
	wrmsr
	rep; vmmcall
	ret

/* OUT of %eax on PORT_VALUE, a dword. */
out_d:
	pushq	%rax
	call	ghcb_begin
	popq	%rsi
	movl	$0x1f8, %edi
	call	set_field
	movl	$0x7b, %edi
	movl	$((PORT_VALUE << 16) | 0x40), %esi
	xorl	%edx, %edx
	jmp	vmgexit

/* %rax as two OUTs: low dword, high dword. */
out_q:
	pushq	%rax
	call	out_d
	popq	%rax
	shrq	$32, %rax
	jmp	out_d

/* IN of a dword from PORT_VALUE into %rax. */
in_d:
	call	ghcb_begin
	movl	$0x7b, %edi
	movl	$((PORT_VALUE << 16) | 0x40 | 1), %esi
	xorl	%edx, %edx
	call	vmgexit
	movq	G(0x1f8), %rax
	ret

/* RDMSR of MSR %esi through the GHCB: EDX:EAX in %rax. */
rdmsr_ghcb:
	call	ghcb_begin
	movl	$0x308, %edi
	call	set_field
	movl	$0x7c, %edi
	xorl	%esi, %esi
	xorl	%edx, %edx
	call	vmgexit
	movl	G(0x1f8), %eax
	movl	G(0x310), %edx
	shlq	$32, %rdx
	orq	%rdx, %rax
	ret

/* %edi: vector, %rax: handler.  A present, DPL 0, 64-bit interrupt gate. */
set_gate:
	LM_SET_GATE

/*
 * #VC, the exit code as error code: CPUID (2 bytes) and `out %eax, %dx`
 * (1 byte) through the GHCB; the saved registers take the results.
 * Frame: RDI RSI RDX RCX RBX RAX at 0..40, the error code at 48, RIP 56.
 */
vc_handler:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	call	ghcb_begin
	movl	$0x1f8, %edi
	movq	40(%rsp), %rsi
	call	set_field
	cmpq	$0x72, 48(%rsp)
	je	vc_cpuid
	cmpq	$0x7b, 48(%rsp)
	je	vc_out
	hlt
vc_cpuid:
	movl	$0x308, %edi
	movq	24(%rsp), %rsi
	call	set_field
	movl	$0x72, %edi
	xorl	%esi, %esi
	xorl	%edx, %edx
	call	vmgexit
	movq	G(0x1f8), %rax
	movq	%rax, 40(%rsp)
	movq	G(0x318), %rax
	movq	%rax, 32(%rsp)
	movq	G(0x308), %rax
	movq	%rax, 24(%rsp)
	movq	G(0x310), %rax
	movq	%rax, 16(%rsp)
	addq	$2, 56(%rsp)
	jmp	vc_done
vc_out:
	movzwl	16(%rsp), %esi
	shll	$16, %esi
	orl	$0x40, %esi
	movl	$0x7b, %edi
	xorl	%edx, %edx
	call	vmgexit
	addq	$1, 56(%rsp)
vc_done:
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	addq	$8, %rsp
	iretq

	.p2align 3
ghcb_idtr:
	.word	256 * 16 - 1
	.quad	IDT_GPA
ghcb_end:

	.section .note.GNU-stack, "", @progbits
