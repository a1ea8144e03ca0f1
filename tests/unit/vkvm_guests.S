/* SPDX-License-Identifier: MIT */
/*
 * The guests of test_vkvm.c: 64-bit code, assembled as data (it never
 * runs on the host).  The test enters long mode directly with KVM_SET_SREGS,
 * copies one guest to its code address and passes addresses and counts in
 * registers, so nothing here depends on the test's memory layout.
 *
 * Ports (test_vkvm.c names the same numbers): 0x10 and 0x11 for OUT,
 * 0x12 for IN.  No guest touches the stack.
 */
	.section .rodata
	.code64

/*
 * vg_out: a value only 64-bit code computes (in 32-bit mode the movabs
 * decodes as other instructions), out as a dword on port 0x10 through %dx,
 * its low byte on port 0x11, then hlt.
 */
	.globl	vg_out_start, vg_out_insn, vg_out_next, vg_out_hlt_end
vg_out_start:
	movabsq	$0x1122334455667788, %rax
	shrq	$32, %rax
	movw	$0x10, %dx
vg_out_insn:
	outl	%eax, %dx
vg_out_next:
	outb	%al, $0x11
	hlt
vg_out_hlt_end:

/* vg_in: a dword from port 0x12 into %eax (all ones before), echoed. */
	.globl	vg_in_start, vg_in_insn, vg_in_end
vg_in_start:
	movq	$-1, %rax
vg_in_insn:
	inl	$0x12, %eax
	outl	%eax, $0x10
	hlt
vg_in_end:

/* vg_load: the dword at (%rbx), out on port 0x10, then hlt. */
	.globl	vg_load_start, vg_load_end
vg_load_start:
	movl	(%rbx), %eax
	outl	%eax, $0x10
	hlt
vg_load_end:

/*
 * vg_mmio: with %rbx outside every memslot, a dword write at 8(%rbx),
 * then a dword read at (%rbx), echoed on port 0x10.
 */
	.globl	vg_mmio_start, vg_mmio_read, vg_mmio_end
vg_mmio_start:
	movl	$0x12345678, 8(%rbx)
vg_mmio_read:
	movl	(%rbx), %eax
	outl	%eax, $0x10
	hlt
vg_mmio_end:

/*
 * vg_deep: port and MMIO exits at the end of a 1 KiB straight-line block,
 * after 250 four-byte stack stores, so that an exit's instruction is found
 * only by decoding most of the block (which also makes its hook slow): a
 * byte out on port 0x11, vg_mmio's write and read (%rbx outside every
 * memslot), the read echoed on port 0x10, hlt.
 */
	.globl	vg_deep_start, vg_deep_out, vg_deep_write, vg_deep_read
	.globl	vg_deep_end
vg_deep_start:
	.rept	250
	movl	%eax, -8(%rsp)
	.endr
vg_deep_out:
	outb	%al, $0x11
vg_deep_write:
	movl	$0x12345678, 8(%rbx)
vg_deep_read:
	movl	(%rbx), %eax
	outl	%eax, $0x10
	hlt
vg_deep_end:

/* vg_hlt: hlt, then (run again) a byte on port 0x10 and hlt again. */
	.globl	vg_hlt_start, vg_hlt_first_end, vg_hlt_end
vg_hlt_start:
	nop
	hlt
vg_hlt_first_end:
	outb	%al, $0x10
	hlt
vg_hlt_end:

/* vg_ud2: a byte on port 0x10, then #UD (with no IDT: a triple fault). */
	.globl	vg_ud2_start, vg_ud2_end
vg_ud2_start:
	outb	%al, $0x10
	ud2
	hlt
vg_ud2_end:

/* vg_loop: forever. */
	.globl	vg_loop_start, vg_loop_end
vg_loop_start:
1:	jmp	1b
vg_loop_end:

/*
 * vg_smp: %ecx times lock incl of the dword at (%rbx), then a byte on
 * port 0x11 and hlt.
 */
	.globl	vg_smp_start, vg_smp_end
vg_smp_start:
1:	lock incl (%rbx)
	decl	%ecx
	jnz	1b
	outb	%al, $0x11
	hlt
vg_smp_end:

	.section .note.GNU-stack, "", @progbits
