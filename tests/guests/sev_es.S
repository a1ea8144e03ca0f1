/* SPDX-License-Identifier: MIT */
/*
 * An SEV-ES guest, doing what an SEV-ES guest kernel does (Linux's
 * arch/x86/coco/sev and boot/compressed/sev.c), in 64-bit mode on the
 * test's GDT and identity tables (guests.h).  Its state is the CPU's, so
 * everything that would exit to the hypervisor (CPUID, IN/OUT, RDMSR of
 * an MSR the CPU does not keep) raises #VC (vector 29, the SVM exit code
 * as error code) in the guest instead, and the guest asks the hypervisor
 * itself, through the GHCB protocol, with VMGEXIT (rep; vmmcall):
 *
 *  (1) before anything else, the GHCB MSR protocol (GHCB MSR 0xC0010130
 *      holds a request, VMGEXIT, it holds the answer): SEV_INFO (protocol
 *      versions and the C-bit) and CPUID 0x8000001F EAX and EBX, since
 *      CPUID itself would raise a #VC nothing handles yet;
 *  then it installs its #VC handler, maps all memory private (C-bit set
 *      at CPUID 0x8000001F EBX[5:0]) but the GHCB page, which is shared,
 *  (2) writes the GHCB's address to the GHCB MSR: from now on every #VC
 *      is a GHCB round trip (the page protocol), and so is every report,
 *      since the guest reports through port I/O.
 *  Then, by %rdi at entry (SEV_ES_MODE_*):
 *  FULL: the MSR protocol's answers and the GHCB MSR read back; (3)
 *      SEV_STATUS without a #VC; (4) outl, outb, inl and inb through the
 *      #VC handler; (5) CPUID and (6) RDMSR/WRMSR through it, with an MSR
 *      KVM does not know (the hypervisor's #GP); (7) MMIO write and read
 *      by VMGEXIT directly; the valid bitmap the hypervisor leaves; (9)
 *      termination by the MSR protocol.  Around the MSR reads and CPUID,
 *      the handler's #VC count shows which raised one.
 *  BAD: (8) malformed GHCBs, one row each: sw_exit_info_1 and 2 as the
 *      hypervisor leaves them (2 and a GHCB_ERR_* for an error).
 *  MSR: VMGEXIT with the GHCB MSR 0 and with a GPA in no memslot (both
 *      come back), and MSR protocol rows.
 *  PROBE: instructions that raise #VC (the handler notes the error code
 *      and RIP and skips them) and some that do not (the #VC count).
 *  NPF: the same for a MOV to MMIO (an address in no memslot).
 *  TERM: termination through the GHCB page, then the MSR protocol; after
 *      each, the guest goes on if the VMM runs it again.
 *  TRIPLE: a stage, then a #VC with no IDT.
 *  STR: (4) rep outsb and rep insb through the #VC handler.
 *  FLAGS: the flags an instruction set before an OUT, CPUID, RDMSR (each
 *      a #VC, whose iretq restores them from the frame) or VMGEXIT are the
 *      flags after it.
 *
 * A report is a dword on PORT_VALUE, a stage a byte on PORT_OUT.  An
 * exception other than #VC, a #VC the handler does not handle and answers
 * it cannot use end the guest with a termination request (set 1, the
 * reason codes of guests.h), its diagnostics in its variables.
 */
#include "guests.h"

#define GHCB		SEV_ES_GHCB_GPA	/* identity-mapped: VA = GPA */
#define DATA		SEV_ES_DATA_GPA
#define GHCB_VERSION	2	/* the highest this guest speaks */

/* The #VC handler's frame: 15 GPRs pushed below the error code. */
#define F_R15	0
#define F_R12	24
#define F_RBP	64
#define F_RDI	72
#define F_RSI	80
#define F_RDX	88
#define F_RCX	96
#define F_RBX	104
#define F_RAX	112
#define F_ERR	120
#define F_RIP	128

/* VMGEXIT: rep; vmmcall */
#define VMGEXIT	.byte 0xf3, 0x0f, 0x01, 0xd9

/* Mark the GHCB field at offset off valid: bit off/8 of valid_bitmap. */
.macro valid off
	btsq	$(((\off) / 8) & 63), GHCB + GHCB_OFF_BITMAP + ((\off) / 512) * 8
.endm

/* GHCB field at offset off = reg, and valid. */
.macro gset off, reg
	movq	\reg, GHCB + \off
	valid	\off
.endm

/* Is GHCB field off valid?  CF = the bit. */
.macro isvalid off
	btq	$(((\off) / 8) & 63), GHCB + GHCB_OFF_BITMAP + ((\off) / 512) * 8
.endm

/* A report: the dword src on PORT_VALUE, by outl (a #VC round trip); %eax, %dx clobbered. */
.macro report src
	movl	\src, %eax
	movw	$PORT_VALUE, %dx
	outl	%eax, %dx
.endm

/*
 * vc_mark: %r13 = #VCs so far; vc_since: %r15 = #VCs now, %r14d = the last
 * one's error code.  (No arithmetic before a report: see FLAGS.)
 */
.macro vc_mark
	movq	DATA + SEV_ES_D_VC_COUNT, %r13
.endm
.macro vc_since
	movq	DATA + SEV_ES_D_VC_COUNT, %r15
	movl	DATA + SEV_ES_D_VC_LAST, %r14d
.endm

/* Both dwords of the qword at mem. */
.macro report64 mem
	report	\mem
	report	\mem + 4
.endm

	.section .rodata
	.globl sev_es_start, sev_es_end
	.globl sev_es_term_hlt, sev_es_hello
	.globl sev_es_p_mmio, sev_es_p_vmmcall, sev_es_p_wbinvd, sev_es_p_invd
	.globl sev_es_p_rdpmc, sev_es_p_monitor, sev_es_p_mwait, sev_es_p_hlt
	.code64
sev_es_start:
	movq	$STACK_TOP, %rsp
	movq	%rdi, DATA + SEV_ES_D_MODE

	/*
	 * (1) The MSR protocol.  SEV_INFO: response 0x001, the hypervisor's
	 * highest and lowest protocol version in bits 63:48 and 47:32, the
	 * C-bit in 31:24.  A version range without 2 ends the guest (Linux
	 * asks for 1..2: GHCB_SEV_ES_PROT_UNSUPPORTED, set 0 reason 1).
	 */
	movl	$GHCB_INFO_SEV_INFO_REQ, %eax
	call	msr_protocol
	movq	%rax, DATA + SEV_ES_D_SEVINFO
	movl	%eax, %ecx
	andl	$0xfff, %ecx
	cmpl	$GHCB_INFO_SEV_INFO_RESP, %ecx
	jne	proto_unsupported
	movq	%rax, %rcx
	shrq	$48, %rcx
	cmpq	$GHCB_VERSION, %rcx
	jb	proto_unsupported
	movq	%rax, %rcx
	shrq	$32, %rcx
	andl	$0xffff, %ecx
	cmpl	$GHCB_VERSION, %ecx
	ja	proto_unsupported

	/*
	 * CPUID_REQ: the leaf in bits 63:32, the register in 31:30 (0 EAX,
	 * 1 EBX); response 0x005 with the value in 63:32.
	 */
	movabsq	$((0x8000001f << 32) | (0 << 30) | GHCB_INFO_CPUID_REQ), %rax
	call	msr_protocol
	movq	%rax, DATA + SEV_ES_D_CPUID_EAX
	movl	%eax, %ecx
	andl	$0xfff, %ecx
	cmpl	$GHCB_INFO_CPUID_RESP, %ecx
	jne	proto_bad
	movabsq	$((0x8000001f << 32) | (1 << 30) | GHCB_INFO_CPUID_REQ), %rax
	call	msr_protocol
	movq	%rax, DATA + SEV_ES_D_CPUID_EBX
	movl	%eax, %ecx
	andl	$0xfff, %ecx
	cmpl	$GHCB_INFO_CPUID_RESP, %ecx
	jne	proto_bad
	/* an SEV-ES guest needs SEV-ES (EAX bit 3) */
	btq	$(32 + 3), DATA + SEV_ES_D_CPUID_EAX
	jnc	proto_bad

	/* The IDT: #VC, and the exceptions that end the guest. */
	leaq	vc_handler(%rip), %rax
	movl	$29, %edi
	call	set_gate
	leaq	exc_ud(%rip), %rax
	movl	$6, %edi
	call	set_gate
	leaq	exc_df(%rip), %rax
	movl	$8, %edi
	call	set_gate
	leaq	exc_gp(%rip), %rax
	movl	$13, %edi
	call	set_gate
	leaq	exc_pf(%rip), %rax
	movl	$14, %edi
	call	set_gate
	lidt	idtr(%rip)

	/*
	 * Memory private, as an SEV kernel maps it: the C-bit (%r8) in every
	 * entry and in CR3.  The first 2 MiB through a 4 KiB table, so that
	 * the GHCB page can be mapped shared: its entry has no C-bit.
	 */
	movl	DATA + SEV_ES_D_CPUID_EBX + 4, %ecx
	andl	$63, %ecx
	movl	$1, %r8d
	shlq	%cl, %r8
	xorl	%ecx, %ecx
1:	movq	%rcx, %rax
	shlq	$12, %rax
	orq	$(PTE_P | PTE_RW), %rax
	orq	%r8, %rax
	movq	%rax, SEV_ES_PT_GPA(, %rcx, 8)
	incl	%ecx
	cmpl	$512, %ecx
	jb	1b
	movq	$(GHCB | PTE_P | PTE_RW), SEV_ES_PT_GPA + (GHCB >> 12) * 8
	movl	$1, %ecx
2:	orq	%r8, PD_GPA(, %rcx, 8)
	incl	%ecx
	cmpl	$512, %ecx
	jb	2b
	movq	$(SEV_ES_PT_GPA | PTE_P | PTE_RW), %rax
	orq	%r8, %rax
	movq	%rax, PD_GPA
	/* MMIO is shared too, as ioremap() maps it in an SEV guest */
	movq	$(MMIO_GPA | PTE_P | PTE_RW | PTE_PS), PD_GPA + (MMIO_GPA >> 21) * 8
	orq	%r8, PDPT_GPA
	orq	%r8, PML4_GPA
	movq	%cr3, %rax
	orq	%r8, %rax
	movq	%rax, %cr3

	/*
	 * (2) The GHCB: cleared (through its shared mapping), then its GPA
	 * in the GHCB MSR, once: the hypervisor keeps it there.
	 */
	cld
	movl	$GHCB, %edi
	xorl	%eax, %eax
	movl	$512, %ecx
	rep stosq
	movl	$GHCB_MSR, %ecx
	movl	$GHCB, %eax
	xorl	%edx, %edx
	wrmsr

	movq	DATA + SEV_ES_D_MODE, %rax
	cmpq	$SEV_ES_MODE_FULL, %rax
	je	mode_full
	cmpq	$SEV_ES_MODE_BAD, %rax
	je	mode_bad
	cmpq	$SEV_ES_MODE_MSR, %rax
	je	mode_msr
	cmpq	$SEV_ES_MODE_TERM, %rax
	je	mode_term
	cmpq	$SEV_ES_MODE_TRIPLE, %rax
	je	mode_triple
	cmpq	$SEV_ES_MODE_STR, %rax
	je	mode_str
	cmpq	$SEV_ES_MODE_FLAGS, %rax
	je	mode_flags
	cmpq	$SEV_ES_MODE_PROBE, %rax
	je	mode_probe
	cmpq	$SEV_ES_MODE_NPF, %rax
	je	mode_npf
	ud2

/* ---------------------------------------------------------------- FULL */
mode_full:
	/* (1) what the MSR protocol answered, now that reports work */
	report64 DATA + SEV_ES_D_SEVINFO
	report64 DATA + SEV_ES_D_CPUID_EAX
	report64 DATA + SEV_ES_D_CPUID_EBX
	/* (2) the GHCB MSR reads back as written: the CPU keeps it, no #VC */
	vc_mark
	movl	$GHCB_MSR, %ecx
	rdmsr
	vc_since
	movl	%eax, %r12d
	movl	%edx, %ebx
	report	%r12d
	report	%ebx
	report	%r13d			/* #VCs before and after: the same */
	report	%r15d
	/* (3) SEV_STATUS: the CPU answers it, no #VC: SEV | SEV-ES = 3 */
	vc_mark
	movl	$SEV_STATUS_MSR, %ecx
	rdmsr
	vc_since
	movl	%eax, %r12d
	movl	%edx, %ebx
	report	%r12d
	report	%ebx
	report	%r13d			/* #VCs before and after: the same */
	report	%r15d

	/* (4) port I/O, each instruction a #VC the handler turns into IOIO */
	movw	$PORT_OUT, %dx
	movl	$IO_OUT32, %eax
	outl	%eax, %dx
	movb	$IO_OUT8, %al
	outb	%al, %dx
	movq	$-1, %rax
	movw	$PORT_IN, %dx
	inl	%dx, %eax		/* zero-extends %rax */
	movq	%rax, DATA + SEV_ES_D_ROWS
	report64 DATA + SEV_ES_D_ROWS
	movl	$IO_MERGE, %eax
	movw	$PORT_IN, %dx
	inb	%dx, %al		/* only %al changes */
	report	%eax

	/* (5) CPUID through the #VC handler: one #VC, error code 0x72 */
	vc_mark
	movl	$0x8000001f, %eax
	xorl	%ecx, %ecx
	cpuid
	vc_since
	movl	%eax, %r11d
	movl	%ebx, %r12d
	report	%r11d
	report	%r12d
	report	%r13d			/* #VCs before and after: one more */
	report	%r15d
	report	%r14d

	/* (6) MSRs that exit (0x7c): APIC_BASE, MTRRfix64K written, read */
	vc_mark
	movl	$0x1b, %ecx
	rdmsr
	vc_since
	movl	%eax, %r11d
	movl	%edx, %ebx
	report	%r11d
	report	%ebx
	report	%r13d
	report	%r15d
	report	%r14d
	movl	$0x250, %ecx
	movl	$MSR_VALUE, %eax
	movl	$MSR_VALUE, %edx
	wrmsr
	movl	$0x250, %ecx
	rdmsr
	movl	%edx, %ebx
	report	%eax
	report	%ebx
	/* an MSR KVM does not know: the hypervisor answers #GP, info1 1 */
	movl	$SEV_ES_UNKNOWN_MSR, %ecx
	rdmsr
	report	DATA + SEV_ES_D_VC_ERRS
	report	DATA + SEV_ES_D_VC_INFO1
	report	DATA + SEV_ES_D_VC_INFO2

	/*
	 * (7) MMIO by VMGEXIT: the data in the GHCB's shared buffer, which
	 * sw_scratch points to; exit_info_1 the GPA, exit_info_2 the length.
	 */
	call	ghcb_begin
	movabsq	$MMIO64_VALUE, %rax
	movq	%rax, GHCB + GHCB_OFF_BUF
	movl	$VMGEXIT_MMIO_WRITE, %edi
	movl	$MMIO_GPA, %esi
	movl	$8, %edx
	call	mmio_call
	movl	%eax, %ebx
	report	%ebx			/* sw_exit_info_1: 0 */
	call	ghcb_begin
	movl	$VMGEXIT_MMIO_READ, %edi
	movl	$(MMIO_GPA + IO_MMIO_READ_OFF), %esi
	movl	$4, %edx
	call	mmio_call
	movl	%eax, %ebx
	/* what the hypervisor marked valid: RAX..RDX, sw_exit_info_1, _2 */
	movq	GHCB + GHCB_OFF_BITMAP, %r12
	movq	%r12, DATA + SEV_ES_D_ROWS
	movq	GHCB + GHCB_OFF_BITMAP + 8, %r12
	movq	%r12, DATA + SEV_ES_D_ROWS + 8
	movl	GHCB + GHCB_OFF_BUF, %r14d
	report	%ebx
	report	%r14d			/* the data read */
	report64 DATA + SEV_ES_D_ROWS
	report64 DATA + SEV_ES_D_ROWS + 8

	/* (9) done: termination by the MSR protocol */
	movl	$GHCB_TERM(SEV_ES_TERM_SET, SEV_ES_TERM_DONE), %eax
	jmp	terminate

/* ----------------------------------------------------------------- BAD */
/*
 * (8) Each row fills the GHCB (the valid bits as the row says), VMGEXITs
 * directly, and reports sw_exit_info_1 and sw_exit_info_2 (low dwords);
 * the report's own #VC refills the GHCB properly.
 */
.macro row_end
	VMGEXIT
	call	report_info
.endm

mode_bad:
	/* ghcb_usage 1 (only 0 is defined): GHCB_ERR_INVALID_USAGE */
	call	ghcb_cpuid
	movl	$1, GHCB + GHCB_OFF_USAGE
	VMGEXIT
	movq	GHCB + GHCB_OFF_BITMAP, %r12	/* what an error leaves valid */
	movq	%r12, DATA + SEV_ES_D_ROWS
	movq	GHCB + GHCB_OFF_BITMAP + 8, %r12
	movq	%r12, DATA + SEV_ES_D_ROWS + 8
	call	report_info
	report	DATA + SEV_ES_D_ROWS + 4
	report64 DATA + SEV_ES_D_ROWS + 8
	/* CPUID without sw_exit_info_2 valid: GHCB_ERR_MISSING_INPUT */
	call	ghcb_cpuid
	btrq	$(GHCB_OFF_INFO2 / 8 - 64), GHCB + GHCB_OFF_BITMAP + 8
	row_end
	/* CPUID without RCX: missing input */
	call	ghcb_cpuid
	btrq	$(GHCB_OFF_RCX / 8 - 64), GHCB + GHCB_OFF_BITMAP + 8
	row_end
	/* CPUID without sw_exit_code valid: missing input */
	call	ghcb_cpuid
	btrq	$(GHCB_OFF_EXIT_CODE / 8 - 64), GHCB + GHCB_OFF_BITMAP + 8
	row_end
	/* OUT without RAX: missing input, and no exit */
	call	ghcb_begin
	movl	$ES_EXIT_IOIO, %edi
	movl	$((PORT_OUT << 16) | IOIO_SZ32 | IOIO_A64), %esi
	xorl	%edx, %edx
	call	ghcb_fill
	row_end
	/* HLT: not an event a GHCB carries: GHCB_ERR_INVALID_EVENT */
	call	ghcb_begin
	movl	$ES_EXIT_HLT, %edi
	xorl	%esi, %esi
	xorl	%edx, %edx
	call	ghcb_fill
	row_end
	/* MMIO read without sw_scratch valid: missing input */
	call	ghcb_begin
	movl	$VMGEXIT_MMIO_READ, %edi
	movl	$MMIO_GPA, %esi
	movl	$4, %edx
	call	ghcb_fill
	row_end
	/* MMIO read, scratch outside the GHCB (v2 forbids): INVALID_SCRATCH */
	movl	$DATA + SEV_ES_D_INS, %eax
	call	mmio_row
	/* MMIO read, scratch in the GHCB page but not its shared buffer */
	movl	$GHCB + 0x100, %eax
	call	mmio_row
	/* MMIO read of 8 bytes from 4 before the shared buffer's end */
	call	ghcb_begin
	movl	$(GHCB + GHCB_OFF_BUF + GHCB_BUF_SIZE - 4), %eax
	gset	GHCB_OFF_SCRATCH, %rax
	movl	$VMGEXIT_MMIO_READ, %edi
	movl	$MMIO_GPA, %esi
	movl	$8, %edx
	call	ghcb_fill
	row_end
	/* MMIO read of 16 bytes (v2: at most 8): GHCB_ERR_INVALID_INPUT */
	call	ghcb_begin
	movl	$VMGEXIT_MMIO_READ, %edi
	movl	$MMIO_GPA, %esi
	movl	$16, %edx
	call	mmio_call
	call	report_info
	/* MMIO read of 0 bytes: nothing done, no error, no exit */
	call	ghcb_begin
	movl	$VMGEXIT_MMIO_READ, %edi
	movl	$MMIO_GPA, %esi
	xorl	%edx, %edx
	call	mmio_call
	call	report_info
	/* IOIO with no size bit: nothing done, no error, no exit */
	call	ghcb_begin
	xorl	%eax, %eax
	gset	GHCB_OFF_RAX, %rax
	movl	$ES_EXIT_IOIO, %edi
	movl	$((PORT_OUT << 16) | IOIO_A64), %esi
	xorl	%edx, %edx
	call	ghcb_fill
	row_end
	/* AP jump table: set (info1 0), get (info1 1), anything else: error */
	call	ghcb_begin
	movl	$VMGEXIT_AP_JUMP_TABLE, %edi
	xorl	%esi, %esi
	movl	$SEV_ES_JUMP_TABLE, %edx
	call	ghcb_fill
	row_end
	call	ghcb_begin
	movl	$VMGEXIT_AP_JUMP_TABLE, %edi
	movl	$1, %esi
	xorl	%edx, %edx
	call	ghcb_fill
	row_end
	call	ghcb_begin
	movl	$VMGEXIT_AP_JUMP_TABLE, %edi
	movl	$2, %esi
	xorl	%edx, %edx
	call	ghcb_fill
	row_end
	/* AP creation is SNP's: an SEV-ES guest gets missing input */
	call	ghcb_begin
	xorl	%eax, %eax
	gset	GHCB_OFF_RAX, %rax
	movl	$VMGEXIT_AP_CREATION, %edi
	movl	$1, %esi
	xorl	%edx, %edx
	call	ghcb_fill
	row_end
	/* hypervisor features: in sw_exit_info_2 */
	call	ghcb_begin
	movl	$VMGEXIT_HV_FEATURES, %edi
	xorl	%esi, %esi
	xorl	%edx, %edx
	call	ghcb_fill
	row_end
	/* VMMCALL without CPL: missing input */
	call	ghcb_begin
	movl	$SEV_ES_HYPERCALL, %eax
	gset	GHCB_OFF_RAX, %rax
	movl	$ES_EXIT_VMMCALL, %edi
	xorl	%esi, %esi
	xorl	%edx, %edx
	call	ghcb_fill
	row_end
	/* a hypercall KVM does not have, at CPL 0 and 3: RAX -ENOSYS, -EPERM */
	movl	$0, %eax
	call	vmmcall_row
	movl	$3, %eax
	call	vmmcall_row
	/* RDTSC: KVM has no handler for it; KVM_RUN exits INTERNAL_ERROR */
	call	ghcb_begin
	movl	$ES_EXIT_RDTSC, %edi
	xorl	%esi, %esi
	xorl	%edx, %edx
	call	ghcb_fill
	row_end
	/* "unsupported event": KVM_RUN fails (EINVAL); run again, it is 0/0 */
	call	ghcb_begin
	movl	$VMGEXIT_UNSUPPORTED, %edi
	movl	$0x55, %esi
	movl	$0x66, %edx
	call	ghcb_fill
	row_end
	jmp	stage_done

/* ----------------------------------------------------------------- MSR */
mode_msr:
	/* GHCB MSR 0: KVM has no GHCB and goes straight back to the guest */
	xorl	%eax, %eax
	call	msr_protocol
	movq	%rax, DATA + SEV_ES_D_ROWS
	/* a page in no memslot: it cannot be mapped, straight back too */
	movl	$SEV_ES_NOSLOT_GPA, %eax
	call	msr_protocol
	movq	%rax, DATA + SEV_ES_D_ROWS + 8
	/* hypervisor features: response 0x081, the features in 63:12 */
	movl	$GHCB_INFO_HV_FT_REQ, %eax
	call	msr_protocol
	movq	%rax, DATA + SEV_ES_D_ROWS + 16
	/* a request KVM does not have: the MSR stays as it was */
	movl	$SEV_ES_MSR_UNKNOWN_REQ, %eax
	call	msr_protocol
	movq	%rax, DATA + SEV_ES_D_ROWS + 24
	/* CPUID_REQ for EDX (register 3); bits 31:12 stay as asked */
	movabsq	$((0x8000001f << 32) | (3 << 30) | GHCB_INFO_CPUID_REQ), %rax
	call	msr_protocol
	movq	%rax, DATA + SEV_ES_D_ROWS + 32
	/* the GHCB back in the MSR, and the rows reported */
	movl	$GHCB, %eax
	xorl	%edx, %edx
	movl	$GHCB_MSR, %ecx
	wrmsr
	report64 DATA + SEV_ES_D_ROWS
	report64 DATA + SEV_ES_D_ROWS + 8
	report64 DATA + SEV_ES_D_ROWS + 16
	report64 DATA + SEV_ES_D_ROWS + 24
	report64 DATA + SEV_ES_D_ROWS + 32
	jmp	stage_done

/* ----------------------------------------------------------------- STR */
mode_str:
	/* (4) string port I/O: rep outsb and rep insb, through the buffer */
	leaq	hello(%rip), %rsi
	movl	$IO_STR_LEN, %ecx
	movw	$PORT_STR, %dx
	rep outsb			/* one IOIO for the whole string */
	movl	%esi, %ebx
	report	%ebx			/* %rsi advanced by IO_STR_LEN */
	report	%ecx			/* %rcx 0 */
	movl	$DATA + SEV_ES_D_INS, %edi
	movl	$IO_INS_LEN, %ecx
	movw	$PORT_STR, %dx
	rep insb
	movl	%edi, %ebx
	report	DATA + SEV_ES_D_INS
	report	%ebx			/* %rdi advanced by IO_INS_LEN */
	jmp	stage_done

/* --------------------------------------------------------------- FLAGS */
/*
 * 0x1000 - 0xc0 leaves RFLAGS 0x2 (no arithmetic flag); the instruction
 * after it exits to the hypervisor (#VC and iretq, or VMGEXIT); RFLAGS
 * after it are kept, reported after all five: an OUT twice (the second
 * time its address is one the engine knows), CPUID, RDMSR, VMGEXIT.
 */
.macro flags_sub
	movl	$0xc0, %eax
	movl	$0x1000, %ebx
	subl	%eax, %ebx
.endm
.macro flags_keep off
	pushfq
	popq	%rbx
	movq	%rbx, DATA + SEV_ES_D_ROWS + \off
.endm
mode_flags:
	movl	$1, %ebx
	report	%ebx			/* a #VC first (its handler's iretq) */
	movl	$0, %r12d		/* twice: the OUT's address new, known */
1:	movw	$PORT_OUT, %dx
	flags_sub
	movb	$IO_OUT8, %al
	outb	%al, %dx
	pushfq
	popq	%rbx
	movq	%rbx, DATA + SEV_ES_D_ROWS + 32(, %r12, 8)
	incl	%r12d
	cmpl	$2, %r12d
	jb	1b
	flags_sub
	movl	$0x8000001f, %eax
	movl	$0, %ecx
	cpuid
	flags_keep 8
	flags_sub
	movl	$0x1b, %ecx
	rdmsr
	flags_keep 16
	call	ghcb_begin
	movl	$VMGEXIT_HV_FEATURES, %edi
	xorl	%esi, %esi
	xorl	%edx, %edx
	call	ghcb_fill
	flags_sub
	VMGEXIT
	flags_keep 24
	report64 DATA + SEV_ES_D_ROWS + 32
	report64 DATA + SEV_ES_D_ROWS + 40
	report64 DATA + SEV_ES_D_ROWS + 8
	report64 DATA + SEV_ES_D_ROWS + 16
	report64 DATA + SEV_ES_D_ROWS + 24
	jmp	stage_done

/* --------------------------------------------------------------- PROBE */
/*
 * The next #VC is for the instruction at label: the handler keeps its
 * error code and RIP and returns after the instruction (whatever RIP the
 * #VC said); both reported.
 */
.macro probe label, insn:vararg
	movq	$0, DATA + SEV_ES_D_PROBE_CODE
	movq	$0, DATA + SEV_ES_D_PROBE_RIP
	leaq	9f(%rip), %rax
	movq	%rax, DATA + SEV_ES_D_PROBE_NEXT
	movq	$1, DATA + SEV_ES_D_PROBE_ON
\label:
	\insn
9:	report	DATA + SEV_ES_D_PROBE_CODE
	report	DATA + SEV_ES_D_PROBE_RIP
.endm
/* No #VC for insn: the #VC count before and after reported. */
.macro no_vc insn:vararg
	vc_mark
	\insn
	vc_since
	report	%r13d
	report	%r15d
.endm
mode_npf:
	/* an access outside every memslot (mapped shared): NPF */
	movl	$MMIO_GPA, %ebx
	probe	sev_es_p_mmio, movl %eax, (%rbx)
	jmp	stage_done

mode_probe:
	probe	sev_es_p_vmmcall, vmmcall
	probe	sev_es_p_wbinvd, wbinvd
	probe	sev_es_p_invd, invd
	movl	$0, %ecx
	probe	sev_es_p_rdpmc, rdpmc
	movl	$DATA, %eax
	movl	$0, %ecx
	movl	$0, %edx
	probe	sev_es_p_monitor, monitor
	movl	$0, %eax
	movl	$0, %ecx
	probe	sev_es_p_mwait, mwait
	/* no #VC: RDTSC (not intercepted), the MSRs the VMSA holds */
	no_vc	rdtsc
	movl	$MSR_EFER, %ecx
	no_vc	rdmsr
	no_vc	wrmsr
	movl	$0xc0000082, %ecx	/* LSTAR */
	no_vc	rdmsr
	/* HLT: an automatic exit, KVM_EXIT_HLT; the guest goes on after it */
sev_es_p_hlt:
	hlt
	jmp	stage_done

/* ---------------------------------------------------------------- TERM */
mode_term:
	/*
	 * Through the GHCB page: sw_exit_info_1 = reason set in 3:0, code in
	 * 11:4.  If the VMM runs the vCPU again, the guest goes on.
	 */
	call	ghcb_begin
	movl	$VMGEXIT_TERM_REQUEST, %edi
	movl	$(SEV_ES_TERM_SET | (SEV_ES_TERM_PAGE << 4)), %esi
	xorl	%edx, %edx
	call	ghcb_fill
	row_end
	/* through the MSR protocol: terminate hlts if it comes back */
	movl	$GHCB_TERM(SEV_ES_TERM_SET, SEV_ES_TERM_MSR), %eax
	jmp	terminate

/* -------------------------------------------------------------- TRIPLE */
mode_triple:
	/*
	 * Up and running (a stage through #VC), then an IDT of limit 0: the
	 * #VC of CPUID cannot be delivered (#GP), nor can that (#DF), nor
	 * the #DF: shutdown.
	 */
	movb	$SEV_ES_STAGE_READY, %al
	movw	$PORT_OUT, %dx
	outb	%al, %dx
	lidt	no_idtr(%rip)
	movl	$0x8000001f, %eax
	xorl	%ecx, %ecx
	cpuid
	jmp	stage_done

stage_done:
	movb	$SEV_ES_STAGE_DONE, %al
	movw	$PORT_OUT, %dx
	outb	%al, %dx
1:	hlt
	jmp	1b

/* ------------------------------------------------------------ routines */

/*
 * The MSR protocol: the GHCB MSR = %rax, VMGEXIT, %rax = the GHCB MSR.
 * Clobbers %rcx, %rdx.
 */
msr_protocol:
	movq	%rax, %rdx
	shrq	$32, %rdx
	movl	$GHCB_MSR, %ecx
	wrmsr
	VMGEXIT
	movl	$GHCB_MSR, %ecx
	rdmsr
	shlq	$32, %rdx
	orq	%rdx, %rax
	ret

/*
 * Asking to be terminated: TERM_REQ (%eax: 0x100 | set << 12 | code <<
 * 16) in the GHCB MSR.  Should the VMM run the vCPU again: hlt, forever.
 */
terminate:
	xorl	%edx, %edx
	movl	$GHCB_MSR, %ecx
	wrmsr
	VMGEXIT
sev_es_term_hlt:
1:	hlt
	jmp	1b

proto_unsupported:
	movl	$GHCB_TERM(0, 1), %eax	/* GHCB_SEV_ES_PROT_UNSUPPORTED */
	jmp	terminate
proto_bad:
	movl	$GHCB_TERM(SEV_ES_TERM_SET, SEV_ES_TERM_PROTO), %eax
	jmp	terminate

/* A fresh GHCB: no field valid, usage 0, our protocol version. */
ghcb_begin:
	movq	$0, GHCB + GHCB_OFF_BITMAP
	movq	$0, GHCB + GHCB_OFF_BITMAP + 8
	movl	$0, GHCB + GHCB_OFF_USAGE
	movw	$GHCB_VERSION, GHCB + GHCB_OFF_VERSION
	ret

/* sw_exit_code %rdi, sw_exit_info_1 %rsi, sw_exit_info_2 %rdx, valid. */
ghcb_fill:
	gset	GHCB_OFF_EXIT_CODE, %rdi
	gset	GHCB_OFF_INFO1, %rsi
	gset	GHCB_OFF_INFO2, %rdx
	ret

/*
 * A GHCB call (the page protocol): ghcb_fill, VMGEXIT, %eax = the low
 * dword of sw_exit_info_1 (0: done; 1: an exception for the guest; 2:
 * the GHCB was wrong, sw_exit_info_2 says how).  Clobbers nothing else.
 */
ghcb_call:
	call	ghcb_fill
	VMGEXIT
	movl	GHCB + GHCB_OFF_INFO1, %eax
	ret

/* MMIO (%rdi: MMIO_READ or _WRITE, %rsi GPA, %rdx length) on the buffer */
mmio_call:
	movl	$(GHCB + GHCB_OFF_BUF), %eax
	gset	GHCB_OFF_SCRATCH, %rax
	jmp	ghcb_call

/* BAD's row: an MMIO read of 4 bytes with sw_scratch = %rax */
mmio_row:
	call	ghcb_begin
	gset	GHCB_OFF_SCRATCH, %rax
	movl	$VMGEXIT_MMIO_READ, %edi
	movl	$MMIO_GPA, %esi
	movl	$4, %edx
	call	ghcb_fill
	row_end
	ret

/* BAD's row: hypercall SEV_ES_HYPERCALL at CPL %al; reports info1, 2, RAX */
vmmcall_row:
	call	ghcb_begin
	movb	%al, GHCB + GHCB_OFF_CPL
	valid	GHCB_OFF_CPL
	movl	$SEV_ES_HYPERCALL, %eax
	gset	GHCB_OFF_RAX, %rax
	movl	$ES_EXIT_VMMCALL, %edi
	xorl	%esi, %esi
	xorl	%edx, %edx
	call	ghcb_fill
	VMGEXIT
	movq	GHCB + GHCB_OFF_RAX, %r12
	movq	%r12, DATA + SEV_ES_D_ROWS
	call	report_info
	report64 DATA + SEV_ES_D_ROWS
	ret

/* BAD's rows: a well-formed CPUID 0x8000001F request, not yet sent. */
ghcb_cpuid:
	call	ghcb_begin
	movl	$0x8000001f, %eax
	gset	GHCB_OFF_RAX, %rax
	xorl	%eax, %eax
	gset	GHCB_OFF_RCX, %rax
	movl	$ES_EXIT_CPUID, %edi
	xorl	%esi, %esi
	xorl	%edx, %edx
	jmp	ghcb_fill

/* Report sw_exit_info_1 and _2 (low dwords) as the last VMGEXIT left them. */
report_info:
	movl	GHCB + GHCB_OFF_INFO1, %ebx
	movl	GHCB + GHCB_OFF_INFO2, %ebp
	report	%ebx
	report	%ebp
	ret

/* %edi: vector, %rax: handler.  A present, DPL 0, 64-bit interrupt gate. */
set_gate:
	LM_SET_GATE

/* ------------------------------------------------------- #VC handler */
/*
 * #VC: the error code is the SVM exit code of what the instruction at
 * RIP would have been on an SEV guest.  The handler decodes the few
 * instructions this guest uses, asks the hypervisor through the GHCB,
 * puts the results in the interrupted registers and returns past the
 * instruction.  If the hypervisor answers sw_exit_info_1 != 0 the
 * instruction is skipped, its registers unchanged, and the answer kept
 * (SEV_ES_D_VC_ERRS, _INFO1, _INFO2); Linux would raise the #GP it names.
 */
vc_handler:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	call	ghcb_begin
	movq	F_RIP(%rsp), %rbx	/* the instruction */
	movq	F_ERR(%rsp), %rax
	incq	DATA + SEV_ES_D_VC_COUNT
	movq	%rax, DATA + SEV_ES_D_VC_LAST
	cmpq	$0, DATA + SEV_ES_D_PROBE_ON
	jne	vc_probe
	cmpq	$ES_EXIT_IOIO, %rax
	je	vc_ioio
	cmpq	$ES_EXIT_CPUID, %rax
	je	vc_cpuid
	cmpq	$ES_EXIT_MSR, %rax
	je	vc_msr
	movq	%rax, DATA + SEV_ES_D_DIAG0
	movq	%rbx, DATA + SEV_ES_D_DIAG1
	movl	$GHCB_TERM(SEV_ES_TERM_SET, SEV_ES_TERM_VC), %eax
	jmp	terminate

/* PROBE: keep the error code and RIP, skip the instruction. */
vc_probe:
	movq	%rax, DATA + SEV_ES_D_PROBE_CODE
	movq	%rbx, DATA + SEV_ES_D_PROBE_RIP
	movq	DATA + SEV_ES_D_PROBE_NEXT, %rax
	movq	%rax, F_RIP(%rsp)
	xorl	%ebp, %ebp
	movq	$0, DATA + SEV_ES_D_PROBE_ON
	jmp	vc_done

/* %ebp: the instruction's length.  Back past it. */
vc_done:
	addq	%rbp, F_RIP(%rsp)
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	addq	$8, %rsp		/* the error code */
	iretq

/* sw_exit_info_1 (%eax) was not 0: kept, the instruction skipped. */
vc_failed:
	incq	DATA + SEV_ES_D_VC_ERRS
	movq	GHCB + GHCB_OFF_INFO1, %rax
	movq	%rax, DATA + SEV_ES_D_VC_INFO1
	movq	GHCB + GHCB_OFF_INFO2, %rax
	movq	%rax, DATA + SEV_ES_D_VC_INFO2
	jmp	vc_done

vc_no_results:
	movl	$GHCB_TERM(SEV_ES_TERM_SET, SEV_ES_TERM_VMM), %eax
	jmp	terminate

vc_unknown_insn:
	movq	(%rbx), %rax
	movq	%rax, DATA + SEV_ES_D_DIAG0
	movq	%rbx, DATA + SEV_ES_D_DIAG1
	movl	$GHCB_TERM(SEV_ES_TERM_SET, SEV_ES_TERM_INSN), %eax
	jmp	terminate

/*
 * IOIO (0x7b).  sw_exit_info_1: port << 16, the size bit, IN, STR/REP
 * and the address size, as the CPU's IOIO intercept gives them;
 * sw_exit_info_2: the next RIP, or the count for rep ins/outs, whose data
 * is in the shared buffer (sw_scratch).  OUT sends RAX; IN gets RAX.
 */
vc_ioio:
	movzwl	F_RDX(%rsp), %esi
	shll	$16, %esi
	orl	$IOIO_A64, %esi
	movl	$1, %ebp
	movzbl	(%rbx), %eax
	movl	$0xff, %r9d		/* %r9: the data's mask */
	cmpb	$0xee, %al		/* out %al, (%dx) */
	je	vc_out8
	cmpb	$0xef, %al		/* out %eax, (%dx) */
	je	vc_out32
	cmpb	$0xec, %al		/* in (%dx), %al */
	je	vc_in8
	cmpb	$0xed, %al		/* in (%dx), %eax */
	je	vc_in32
	cmpb	$0xf3, %al
	jne	vc_unknown_insn
	movl	$2, %ebp
	movzbl	1(%rbx), %eax
	cmpb	$0x6e, %al		/* rep outsb */
	je	vc_outsb
	cmpb	$0x6c, %al		/* rep insb */
	je	vc_insb
	jmp	vc_unknown_insn

vc_out32:
	movl	$0xffffffff, %r9d
	orl	$IOIO_SZ32, %esi
	jmp	vc_out
vc_out8:
	orl	$IOIO_SZ8, %esi
vc_out:
	movq	F_RAX(%rsp), %rax
	andq	%r9, %rax
	gset	GHCB_OFF_RAX, %rax
	movl	$ES_EXIT_IOIO, %edi
	leaq	(%rbx, %rbp), %rdx	/* the next RIP */
	call	ghcb_call
	testl	%eax, %eax
	jnz	vc_failed
	jmp	vc_done

vc_in32:
	movl	$0xffffffff, %r9d
	orl	$IOIO_SZ32, %esi
	jmp	vc_in
vc_in8:
	orl	$IOIO_SZ8, %esi
vc_in:
	orl	$IOIO_IN, %esi
	movl	$ES_EXIT_IOIO, %edi
	leaq	(%rbx, %rbp), %rdx
	call	ghcb_call
	testl	%eax, %eax
	jnz	vc_failed
	isvalid	GHCB_OFF_RAX
	jnc	vc_no_results
	movq	GHCB + GHCB_OFF_RAX, %rax
	andq	%r9, %rax
	cmpl	$0xff, %r9d
	jne	1f			/* a dword IN zero-extends */
	movq	F_RAX(%rsp), %rcx	/* a byte IN changes %al only */
	andq	$~0xff, %rcx
	orq	%rcx, %rax
1:	movq	%rax, F_RAX(%rsp)
	jmp	vc_done

/* rep outsb: %rcx bytes from %rsi, through the shared buffer */
vc_outsb:
	orl	$(IOIO_SZ8 | IOIO_STR | IOIO_REP | IOIO_SEG_DS), %esi
	movq	F_RCX(%rsp), %rcx
	cmpq	$GHCB_BUF_SIZE, %rcx
	ja	vc_unknown_insn
	movq	%rsi, %r10
	movq	F_RSI(%rsp), %rsi
	movl	$(GHCB + GHCB_OFF_BUF), %edi
	rep movsb
	movq	%r10, %rsi
	movl	$(GHCB + GHCB_OFF_BUF), %eax
	gset	GHCB_OFF_SCRATCH, %rax
	movl	$ES_EXIT_IOIO, %edi
	movq	F_RCX(%rsp), %rdx	/* the count */
	call	ghcb_call
	testl	%eax, %eax
	jnz	vc_failed
	movq	F_RCX(%rsp), %rcx
	addq	%rcx, F_RSI(%rsp)
	movq	$0, F_RCX(%rsp)
	jmp	vc_done

/* rep insb: %rcx bytes to %rdi, through the shared buffer */
vc_insb:
	orl	$(IOIO_SZ8 | IOIO_STR | IOIO_REP | IOIO_IN), %esi
	movq	F_RCX(%rsp), %rcx
	cmpq	$GHCB_BUF_SIZE, %rcx
	ja	vc_unknown_insn
	movl	$(GHCB + GHCB_OFF_BUF), %eax
	gset	GHCB_OFF_SCRATCH, %rax
	movl	$ES_EXIT_IOIO, %edi
	movq	%rcx, %rdx
	call	ghcb_call
	testl	%eax, %eax
	jnz	vc_failed
	movq	F_RCX(%rsp), %rcx
	movl	$(GHCB + GHCB_OFF_BUF), %esi
	movq	F_RDI(%rsp), %rdi
	rep movsb
	movq	%rdi, F_RDI(%rsp)
	movq	$0, F_RCX(%rsp)
	jmp	vc_done

/* CPUID (0x72): RAX and RCX in, RAX..RDX out (all four must be valid). */
vc_cpuid:
	movl	$2, %ebp
	movq	F_RAX(%rsp), %rax
	gset	GHCB_OFF_RAX, %rax
	movq	F_RCX(%rsp), %rax
	gset	GHCB_OFF_RCX, %rax
	movl	$ES_EXIT_CPUID, %edi
	xorl	%esi, %esi
	xorl	%edx, %edx
	call	ghcb_call
	testl	%eax, %eax
	jnz	vc_failed
	isvalid	GHCB_OFF_RAX
	jnc	vc_no_results
	isvalid	GHCB_OFF_RBX
	jnc	vc_no_results
	isvalid	GHCB_OFF_RCX
	jnc	vc_no_results
	isvalid	GHCB_OFF_RDX
	jnc	vc_no_results
	movl	GHCB + GHCB_OFF_RAX, %eax
	movq	%rax, F_RAX(%rsp)
	movl	GHCB + GHCB_OFF_RBX, %eax
	movq	%rax, F_RBX(%rsp)
	movl	GHCB + GHCB_OFF_RCX, %eax
	movq	%rax, F_RCX(%rsp)
	movl	GHCB + GHCB_OFF_RDX, %eax
	movq	%rax, F_RDX(%rsp)
	jmp	vc_done

/*
 * MSR (0x7c): RDMSR (0f 32) and WRMSR (0f 30).  RCX in; sw_exit_info_1
 * 0 for a read (RAX, RDX out), 1 for a write (RAX, RDX in).
 */
vc_msr:
	movl	$2, %ebp
	cmpb	$0x0f, (%rbx)
	jne	vc_unknown_insn
	movq	F_RCX(%rsp), %rax
	gset	GHCB_OFF_RCX, %rax
	movl	$ES_EXIT_MSR, %edi
	xorl	%edx, %edx
	cmpb	$0x32, 1(%rbx)
	je	vc_rdmsr
	cmpb	$0x30, 1(%rbx)
	jne	vc_unknown_insn
	movl	F_RAX(%rsp), %eax
	gset	GHCB_OFF_RAX, %rax
	movl	F_RDX(%rsp), %eax
	gset	GHCB_OFF_RDX, %rax
	movl	$1, %esi
	call	ghcb_call
	testl	%eax, %eax
	jnz	vc_failed
	jmp	vc_done
vc_rdmsr:
	xorl	%esi, %esi
	call	ghcb_call
	testl	%eax, %eax
	jnz	vc_failed
	isvalid	GHCB_OFF_RAX
	jnc	vc_no_results
	isvalid	GHCB_OFF_RDX
	jnc	vc_no_results
	movl	GHCB + GHCB_OFF_RAX, %eax
	movq	%rax, F_RAX(%rsp)
	movl	GHCB + GHCB_OFF_RDX, %eax
	movq	%rax, F_RDX(%rsp)
	jmp	vc_done

/*
 * Other exceptions end the guest: reason code = the vector; the two words
 * on top of the stack (error code and RIP, or RIP and CS) and CR2 kept.
 */
exc_ud:
	/* PROBE: a #UD where a #VC was expected is noted and skipped too */
	cmpq	$0, DATA + SEV_ES_D_PROBE_ON
	jne	ud_probe
	movl	$6, %eax
	jmp	exc
ud_probe:
	pushq	%rax
	movq	$SEV_ES_PROBE_UD, DATA + SEV_ES_D_PROBE_CODE
	movq	8(%rsp), %rax
	movq	%rax, DATA + SEV_ES_D_PROBE_RIP
	movq	DATA + SEV_ES_D_PROBE_NEXT, %rax
	movq	%rax, 8(%rsp)
	movq	$0, DATA + SEV_ES_D_PROBE_ON
	popq	%rax
	iretq
exc_df:
	movl	$8, %eax
	jmp	exc
exc_gp:
	movl	$13, %eax
	jmp	exc
exc_pf:
	movl	$14, %eax
exc:
	movq	(%rsp), %rcx
	movq	%rcx, DATA + SEV_ES_D_DIAG0
	movq	8(%rsp), %rcx
	movq	%rcx, DATA + SEV_ES_D_DIAG1
	movq	%cr2, %rcx
	movq	%rcx, DATA + SEV_ES_D_DIAG2
	shll	$16, %eax
	orl	$GHCB_TERM(SEV_ES_TERM_SET, 0), %eax
	jmp	terminate

sev_es_hello:
hello:
	.ascii	"hello"

	.p2align 3
idtr:
	.word	256 * 16 - 1
	.quad	IDT_GPA
no_idtr:
	.word	0
	.quad	0
sev_es_end:

	.section .note.GNU-stack, "", @progbits
