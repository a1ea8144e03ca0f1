/* SPDX-License-Identifier: MIT */
/*
 * The guests of test_vkvm_plat.c: 64-bit code copied to CODE_GPA and
 * entered in long mode with KVM_SET_SREGS; inputs in registers.  Results
 * go out on port 0x10 as dwords; the exception handlers (entered through
 * the IDT the test builds) send the vector, the error code, the faulting
 * RIP and CR2 on port 0x11, then hlt.
 */
	.section .rodata
	.code64

/* vp_rdmsr: MSR %ecx out as %eax then %edx. */
	.globl	vp_rdmsr_start, vp_rdmsr_insn, vp_rdmsr_end
vp_rdmsr_start:
vp_rdmsr_insn:
	rdmsr
	outl	%eax, $0x10
	movl	%edx, %eax
	outl	%eax, $0x10
	hlt
vp_rdmsr_end:

/* vp_wrmsr: %edx:%eax into MSR %ecx, then read back as vp_rdmsr. */
	.globl	vp_wrmsr_start, vp_wrmsr_insn, vp_wrmsr_end
vp_wrmsr_start:
vp_wrmsr_insn:
	wrmsr
	rdmsr
	outl	%eax, $0x10
	movl	%edx, %eax
	outl	%eax, $0x10
	hlt
vp_wrmsr_end:

/* vp_cpuid: CPUID leaf %eax (subleaf 0), EBX out. */
	.globl	vp_cpuid_start, vp_cpuid_insn, vp_cpuid_end
vp_cpuid_start:
	xorl	%ecx, %ecx
vp_cpuid_insn:
	cpuid
	movl	%ebx, %eax
	outl	%eax, $0x10
	hlt
vp_cpuid_end:

/*
 * vp_mem: store %eax at (%rbx), load the dword at (%rcx) and send it; a
 * #PF on either goes to the handler.
 */
	.globl	vp_mem_start, vp_mem_insn, vp_mem_end
vp_mem_start:
vp_mem_insn:
	movl	%eax, (%rbx)
	movl	(%rcx), %eax
	outl	%eax, $0x10
	hlt
vp_mem_end:

/* the handlers: vector, error code, RIP, CR2 (low dwords) */
	.globl	vp_gp_start, vp_pf_start, vp_exc_end
vp_gp_start:
	movl	$13, %eax
	jmp	1f
vp_pf_start:
	movl	$14, %eax
1:	outl	%eax, $0x11
	popq	%rax
	outl	%eax, $0x11
	popq	%rax
	outl	%eax, $0x11
	movq	%cr2, %rax
	outl	%eax, $0x11
	hlt
vp_exc_end:

/*
 * Guests of test_vkvm_prot.c (a protected VM).  vp_vc is the #VC handler:
 * it leaves RAX, RDX, the error code and RIP at VC_REPORT (0x11000) and a
 * count at +0x20, then hlt -- port I/O would itself raise #VC.
 */
	.globl	vp_vc_start, vp_vc_end
vp_vc_start:
	movq	%rax, 0x11000
	movq	%rdx, 0x11008
	popq	%rax
	movq	%rax, 0x11010
	popq	%rax
	movq	%rax, 0x11018
	incl	0x11020
	hlt
vp_vc_end:

/* vp_out: OUT of %eax to port 0x10. */
	.globl	vp_out_start, vp_out_insn, vp_out_end
vp_out_start:
vp_out_insn:
	outl	%eax, $0x10
	hlt
vp_out_end:

/* vp_gexit: VMGEXIT, then the GHCB MSR read back into %rax/%rdx and hlt. */
	.globl	vp_gexit_start, vp_gexit_insn, vp_gexit_end
vp_gexit_start:
vp_gexit_insn:
	rep; vmmcall
	movl	$0xc0010130, %ecx
	rdmsr
	hlt
vp_gexit_end:

/* vp_vmmcall: a plain VMMCALL (a hypercall: #VC in a protected guest). */
	.globl	vp_vmmcall_start, vp_vmmcall_insn, vp_vmmcall_end
vp_vmmcall_start:
vp_vmmcall_insn:
	vmmcall
	hlt
vp_vmmcall_end:

	.section .note.GNU-stack, "", @progbits
