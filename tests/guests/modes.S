/* SPDX-License-Identifier: MIT */
/*
 * From real mode to long mode.  The test copies this to CODE_GPA and
 * starts it at CS selector 0, base 0, RIP CODE_GPA, everything else as
 * at RESET.  It loads its own GDT, enters 32-bit protected mode, builds
 * 4-level tables at MODES_PT_GPA (0 .. 2 MiB identity by a 2 MiB page;
 * MARKER_VA -> MARKER_PA by a 4 KiB page), enables PAE, EFER.LME and
 * paging, far-jumps to 64-bit code, and reads the test's marker through
 * MARKER_VA.  Stages go out as bytes on PORT_OUT.
 */
#include "guests.h"

/* The guest-physical address of a label: the copy starts at CODE_GPA. */
#define ABS(x)	(CODE_GPA + ((x) - modes_start))

	.section .rodata
	.globl modes_start, modes_end, modes_hlt_end

	.code16
modes_start:
	cli
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %ss
	movw	$STACK_TOP, %sp
	movw	$PORT_OUT, %dx
	movb	$STAGE_REAL, %al
	outb	%al, %dx
	lgdtl	ABS(modes_gdtr)
	movl	%cr0, %eax
	andl	$~(CR0_CD | CR0_NW), %eax
	orl	$CR0_PE, %eax
	movl	%eax, %cr0
	ljmpl	$M_SEL_CODE32, $ABS(modes_pm32)

	.code32
modes_pm32:
	movw	$M_SEL_DATA, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movl	$STACK_TOP, %esp
	movb	$STAGE_PROT32, %al
	outb	%al, %dx

	/* Four zeroed pages: PML4, PDPT, PD, PT. */
	cld
	movl	$MODES_PT_GPA, %edi
	movl	$(4 * 4096 / 4), %ecx
	xorl	%eax, %eax
	rep stosl
	movl	$(MODES_PT_GPA + 0x1000 + PTE_P + PTE_RW), MODES_PT_GPA
	movl	$(MODES_PT_GPA + 0x2000 + PTE_P + PTE_RW), \
		MODES_PT_GPA + 0x1000
	/* PD[0]: VA 0 .. 2 MiB -> PA 0, one 2 MiB page (code, stack, GDT) */
	movl	$(PTE_P + PTE_RW + PTE_PS), MODES_PT_GPA + 0x2000
	/* PD[2] -> PT; PT[0]: VA MARKER_VA -> PA MARKER_PA */
	movl	$(MODES_PT_GPA + 0x3000 + PTE_P + PTE_RW), \
		MODES_PT_GPA + 0x2000 + 8 * (MARKER_VA >> 21)
	movl	$(MARKER_PA + PTE_P + PTE_RW), \
		MODES_PT_GPA + 0x3000 + 8 * ((MARKER_VA >> 12) & 511)

	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$MODES_PT_GPA, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$CR0_PG, %eax
	movl	%eax, %cr0
	/* Compatibility mode now; the far jump enters 64-bit mode. */
	ljmp	$M_SEL_CODE64, $ABS(modes_lm64)

	.code64
modes_lm64:
	movw	$PORT_OUT, %dx		/* rdmsr took %edx */
	movb	$STAGE_LONG, %al
	outb	%al, %dx
	movl	MARKER_VA, %eax
	movw	$PORT_VALUE, %dx
	outl	%eax, %dx
	movl	$MODES_WRITE, MARKER_VA + 8
	movw	$PORT_OUT, %dx
	movb	$STAGE_DONE, %al
	outb	%al, %dx
	hlt
modes_hlt_end:

	.balign 8
modes_gdt:
	.quad	0
	.quad	0x00cf9a000000ffff	/* M_SEL_CODE32: 32-bit code */
	.quad	0x00cf92000000ffff	/* M_SEL_DATA: data, 4 GiB */
	.quad	0x00af9a000000ffff	/* M_SEL_CODE64: 64-bit code */
modes_gdtr:
	.word	4 * 8 - 1
	.long	ABS(modes_gdt)
modes_end:

	.section .note.GNU-stack, "", @progbits
