/* SPDX-License-Identifier: MIT */
/*
 * Port and MMIO exits from 64-bit code.  The test enters long mode
 * directly (its GDT, identity tables) and answers every IN and MMIO read;
 * the guest echoes what it got on PORT_VALUE, so the completion of each
 * exit is checked by the guest's own next exit.
 */
#include "guests.h"

	.section .rodata
	.globl io64_start, io64_end, io64_inl_end, io64_hlt_end
	.code64
io64_start:
	/* OUT of each width */
	movw	$PORT_OUT, %dx
	movb	$IO_OUT8, %al
	outb	%al, %dx
	movw	$IO_OUT16, %ax
	outw	%ax, %dx
	movl	$IO_OUT32, %eax
	outl	%eax, %dx

	/* IN of a dword (zero-extends %rax), echoed */
	movq	$-1, %rax
	movw	$PORT_IN, %dx
	inl	%dx, %eax
io64_inl_end:
	movw	$PORT_VALUE, %dx
	outl	%eax, %dx

	/* IN of a byte: only %al changes, echoed */
	movl	$IO_MERGE, %eax
	movw	$PORT_IN, %dx
	inb	%dx, %al
	movw	$PORT_VALUE, %dx
	outl	%eax, %dx

	/* MMIO write and read outside every memslot; the read is echoed */
	movl	$MMIO_GPA, %ebx
	movl	$IO_MMIO_WRITE, (%rbx)
	movl	IO_MMIO_READ_OFF(%rbx), %eax
	outl	%eax, %dx

	/* rep outsb of "hello", then rep insb of IO_INS_LEN bytes, echoed */
	cld
	leaq	io64_str(%rip), %rsi
	movl	$IO_STR_LEN, %ecx
	movw	$PORT_STR, %dx
	rep outsb
	movl	$DATA_GPA, %edi
	movl	$IO_INS_LEN, %ecx
	rep insb
	movl	DATA_GPA, %eax
	movw	$PORT_VALUE, %dx
	outl	%eax, %dx
	hlt
io64_hlt_end:

io64_str:
	.ascii	"hello"
io64_end:

	.section .note.GNU-stack, "", @progbits
