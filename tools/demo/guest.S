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
 * The guest: forever, FNV-1a over its 32-byte secret, reported on
 * PORT_RESULT, then one more tick of a counter in its memory on PORT_TICK.
 * The VMM may stop it after any exit and resume it elsewhere.
 */
	.globl demo_guest_start, demo_guest_end
demo_guest_start:
	mov	$STACK_TOP, %esp
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
