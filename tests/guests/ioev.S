/* SPDX-License-Identifier: MIT */
/*
 * Writes that an ioeventfd takes instead of an exit: two OUTs to
 * PORT_IOEV and a dword MMIO store of IOEV_MATCH at MMIO_GPA, then a
 * store of another value there (no match: an MMIO exit), a report on
 * PORT_OUT and hlt.  64-bit; the test enters long mode.
 */
#include "guests.h"

	.section .rodata
	.globl ioev_start, ioev_end, ioev_hlt_end
	.code64
ioev_start:
	movb	$1, %al
	outb	%al, $PORT_IOEV
	outb	%al, $PORT_IOEV
	movl	$MMIO_GPA, %ebx
	movl	$IOEV_MATCH, %eax
	movl	%eax, (%rbx)
	movl	$IOEV_OTHER, %eax
	movl	%eax, (%rbx)
	movb	$STAGE_DONE, %al
	outb	%al, $PORT_OUT
	hlt
ioev_hlt_end:
ioev_end:

	.section .note.GNU-stack, "", @progbits
