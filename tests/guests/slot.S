/* SPDX-License-Identifier: MIT */
/*
 * A one-page memslot that the test moves from SLOT_OLD_GPA to
 * SLOT_NEW_GPA while this guest is stopped at its PORT_OUT exit.  Before:
 * a read at the old address (memory).  After: a read at the new address
 * (the same memory) and at the old one (no slot: an MMIO read the test
 * answers).  Each value goes out on PORT_VALUE.  64-bit mode, entered
 * directly by the test.
 */
#include "guests.h"

	.section .rodata
	.globl slot_start, slot_end, slot_hlt_end
	.code64
slot_start:
	movw	$PORT_VALUE, %dx
	movl	SLOT_OLD_GPA, %eax
	outl	%eax, %dx
	movw	$PORT_OUT, %dx
	movb	$1, %al
	outb	%al, %dx		/* the test moves the slot here */
	movw	$PORT_VALUE, %dx
	movl	SLOT_NEW_GPA, %eax
	outl	%eax, %dx
	movl	SLOT_OLD_GPA, %eax
	outl	%eax, %dx
	hlt
slot_hlt_end:
slot_end:

	.section .note.GNU-stack, "", @progbits
