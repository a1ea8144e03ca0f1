/* SPDX-License-Identifier: MIT */
/*
 * 8-byte MMIO: a quadword load from MMIO_GPA, reported as two dwords on
 * PORT_VALUE, then a quadword store of MMIO64_VALUE at MMIO_GPA + 8, and
 * hlt.  Each access is one exit of 8 bytes on KVM.  64-bit.
 */
#include "guests.h"

	.section .rodata
	.globl mmio64_start, mmio64_end, mmio64_load, mmio64_store
	.code64
mmio64_start:
mmio64_load:
	movq	MMIO_GPA, %rax
	outl	%eax, $PORT_VALUE
	shrq	$32, %rax
	outl	%eax, $PORT_VALUE
	movabsq	$MMIO64_VALUE, %rax
mmio64_store:
	movq	%rax, MMIO_GPA + 8
	hlt
mmio64_end:

	.section .note.GNU-stack, "", @progbits
