/* SPDX-License-Identifier: MIT */
/*
 * The guest's own RDMSR and WRMSR of MSRs KVM keeps: the APIC base
 * (PORT_VALUE: its low dword, with the BSP flag), an MTRR the test set
 * with KVM_SET_MSRS (PORT_VALUE: its low dword), then a WRMSR of
 * MSR_VALUE to the same MTRR that KVM_GET_MSRS must see, and hlt.
 * 64-bit mode, entered directly by the test.
 */
#include "guests.h"

	.section .rodata
	.globl msr_start, msr_end
	.code64
msr_start:
	movl	$0x1b, %ecx		/* MSR_IA32_APICBASE */
	rdmsr
	outl	%eax, $PORT_VALUE
	movl	$0x250, %ecx		/* MSR_MTRRfix64K_00000 */
	rdmsr
	outl	%eax, $PORT_VALUE
	movl	$MSR_VALUE, %eax
	xorl	%edx, %edx
	wrmsr
	hlt
msr_end:

	.section .note.GNU-stack, "", @progbits
