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

	.section .note.GNU-stack, "", @progbits
