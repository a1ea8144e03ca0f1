/* SPDX-License-Identifier: MIT */
/*
 * The demonstration's guest and migration helper: 32-bit protected-mode
 * code, flat segments, no paging, loaded at fixed guest addresses (layout
 * in demo.h).  Assembled as data into the VMM; it never runs on the host.
 */
#include "layout.h"

	.section .rodata
	.code32

/*
 * The guest: first, whether it is an SEV guest (sev_check below); then
 * forever, FNV-1a over its 32-byte secret, reported on PORT_RESULT, then
 * one more tick of a counter in its memory on PORT_TICK.  The VMM may
 * stop it after any exit and resume it elsewhere.
 */
	.globl demo_guest_start, demo_guest_end
demo_guest_start:
	mov	$STACK_TOP, %esp
	call	sev_check
1:	mov	$SECRET_GPA, %esi
	mov	$32, %ecx
	mov	$0x811c9dc5, %eax
2:	movzbl	(%esi), %edx
	xor	%edx, %eax
	imul	$0x01000193, %eax, %eax
	inc	%esi
	dec	%ecx
	jnz	2b
	mov	$PORT_RESULT, %dx
	out	%eax, (%dx)
	incl	COUNTER_GPA
	mov	COUNTER_GPA, %eax
	mov	$PORT_TICK, %dx
	out	%eax, (%dx)
	jmp	1b

/*
 * As an SEV-aware kernel does: CPUID 0x8000001F says SEV, then SEV_STATUS
 * (MSR 0xc0010131) says it is on, and the C-bit (CPUID EBX[5:0], 47 or
 * 51) in a page-table entry maps the same page, private.  For a moment
 * of PAE paging, SEV_PRIV_VA maps its secret page with the C-bit and
 * SEV_SHARED_VA without; both must read the same.  Out on PORT_SEV: the
 * status (~0 if CPUID shows no SEV), CPUID EBX, and 1 if both maps agree.
 */
sev_check:
	mov	$~0, %esi
	xor	%edi, %edi
	xor	%ebx, %ebx
	mov	$0x80000000, %eax
	cpuid
	cmp	$0x8000001f, %eax
	jb	9f
	mov	$0x8000001f, %eax
	xor	%ecx, %ecx
	cpuid
	test	$2, %eax
	jz	9f
	mov	%ebx, %edi
	mov	$0xc0010131, %ecx
	rdmsr
	mov	%eax, %esi
	xor	%ebx, %ebx
	push	%edi
	mov	$SEV_PD_GPA, %edi
	mov	$(3 * 4096 / 4), %ecx
	xor	%eax, %eax
	cld
	rep stosl
	pop	%edi
	movl	$(SEV_PD_GPA | 1), SEV_PDPT_GPA
	movl	$0x83, SEV_PD_GPA		/* 0 .. 2 MiB: P RW PS */
	movl	$(SEV_PT_GPA | 3), SEV_PD_GPA + 2 * 8
	movl	$(SECRET_GPA | 1), SEV_PT_GPA
	mov	%edi, %ecx
	and	$31, %ecx			/* the C-bit is above 32 */
	mov	$1, %eax
	shl	%cl, %eax
	mov	%eax, SEV_PT_GPA + 4
	movl	$(SECRET_GPA | 1), SEV_PT_GPA + 8
	mov	$SEV_PDPT_GPA, %eax
	mov	%eax, %cr3
	mov	%cr4, %eax
	or	$0x20, %eax			/* PAE */
	mov	%eax, %cr4
	mov	%cr0, %eax
	or	$0x80000000, %eax		/* PG */
	mov	%eax, %cr0
	mov	SEV_PRIV_VA + 8, %eax
	cmp	SEV_SHARED_VA + 8, %eax
	sete	%bl
	mov	%cr0, %eax
	and	$0x7fffffff, %eax
	mov	%eax, %cr0
	mov	%cr4, %eax
	and	$~0x20, %eax
	mov	%eax, %cr4
9:	mov	$PORT_SEV, %dx
	mov	%esi, %eax
	out	%eax, (%dx)
	mov	%edi, %eax
	out	%eax, (%dx)
	mov	%ebx, %eax
	out	%eax, (%dx)
	ret
demo_guest_end:

/*
 * The migration helper, run by a vCPU of the mirror VM: FNV-1a over the
 * guest's pages [WALK_START, WALK_END), written to the shared page, then
 * PORT_HELPER_DONE.
 */
	.globl demo_helper_start, demo_helper_end
demo_helper_start:
	mov	$WALK_START, %esi
	mov	$0x811c9dc5, %eax
1:	movzbl	(%esi), %edx
	xor	%edx, %eax
	imul	$0x01000193, %eax, %eax
	inc	%esi
	cmp	$WALK_END, %esi
	jne	1b
	mov	%eax, SHARED_GPA
	mov	$PORT_HELPER_DONE, %dx
	out	%eax, (%dx)
	hlt
demo_helper_end:

	.section .note.GNU-stack, "", @progbits
