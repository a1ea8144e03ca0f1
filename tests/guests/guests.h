/* SPDX-License-Identifier: MIT */
/*
 * Guest-physical layout and port numbers shared by the conformance guests
 * (the .S files beside it, assembled as data) and conf_vkvm.c, which copies one
 * guest to CODE_GPA of a fresh VM and runs it.  Only #defines: this file
 * is included from assembly too.
 *
 * Memslot 0 is GPA 0 .. GUEST_MEM_SIZE.  The tables and GDT below are
 * written by the test for the guests it starts directly in long mode;
 * modes.S starts in real mode and builds its own.
 */
#ifndef SOFTSEV_GUESTS_H
#define SOFTSEV_GUESTS_H

#define GUEST_MEM_SIZE	0x400000	/* slot 0: 4 MiB at GPA 0 */
#define GDT_GPA		0x1000	/* LM_SEL_CODE, LM_SEL_DATA */
#define IDT_GPA		0x2000	/* idt.S builds its IDT here */
#define PML4_GPA	0x3000	/* identity map of 0 .. 1 GiB, */
#define PDPT_GPA	0x4000	/* 2 MiB pages */
#define PD_GPA		0x5000
#define STACK_TOP	0x7000	/* the stack is the page below */
#define CODE_GPA	0x8000	/* each guest is copied and starts here */
#define DATA_GPA	0x10000	/* io64.S's rep insb buffer */
#define SMP_COUNTER_GPA	0x11000	/* smp.S's shared counter */
#define MODES_PT_GPA	0x20000	/* modes.S: PML4, PDPT, PD, PT */
#define MARKER_PA	0x200000 /* the test's marker for modes.S ... */
#define MARKER_VA	0x400000 /* ... which reads it here (4 KiB PTE) */
#define MMIO_GPA	0x10000000 /* in no memslot, inside the identity map */
#define SLOT_OLD_GPA	0x800000 /* slot.S's memslot, before the move */
#define SLOT_NEW_GPA	0x900000 /* and after it */
#define MSR_VALUE	0x04040404 /* msr.S writes it to MTRRfix64K_00000 */

/* The test's GDT for guests it enters in long mode. */
#define LM_SEL_CODE	0x08	/* 64-bit code, DPL 0 */
#define LM_SEL_DATA	0x10	/* flat data, DPL 0 */
#define BAD_SEL		0x1230	/* past GDT limit: #GP(BAD_SEL) */

/* modes.S's own GDT. */
#define M_SEL_CODE32	0x08
#define M_SEL_DATA	0x10
#define M_SEL_CODE64	0x18

/* Ports: none of them has an in-kernel device, and 0x7e is avoided. */
#define PORT_OUT	0x10	/* stages, and io64.S's three widths */
#define PORT_VALUE	0x11	/* a dword the guest reports or echoes */
#define PORT_IN		0x12	/* io64.S's single IN */
#define PORT_STR	0x13	/* rep outsb / rep insb */
#define PORT_VEC	0x30	/* idt.S: the vector, a byte */
#define PORT_ERR	0x31	/* idt.S: the error code, a dword */
#define PORT_RIP	0x32	/* idt.S: the saved RIP, low dword */
#define PORT_IOEV	0x40	/* ioev.S: writes an ioeventfd takes */

/* mmio64.S */
#define MMIO64_VALUE	0x1122334455667788

/* ioev.S */
#define IOEV_MATCH	0x7	/* the MMIO ioeventfd's datamatch */
#define IOEV_OTHER	0x8

/* modes.S stages, each a byte on PORT_OUT. */
#define STAGE_REAL	1
#define STAGE_PROT32	2
#define STAGE_LONG	3
#define STAGE_DONE	4
#define MARKER_VALUE	0x5ec0de42 /* the test puts it at MARKER_PA */
#define MODES_WRITE	0xa5a55a5a /* modes.S writes it at MARKER_VA + 8 */

/* io64.S */
#define IO_OUT8		0x5a
#define IO_OUT16	0x1234
#define IO_OUT32	0x89abcdef
#define IO_MERGE	0x11223344 /* %eax before "inb": bits 8..31 stay */
#define IO_MMIO_WRITE	0x12345678 /* written at MMIO_GPA */
#define IO_MMIO_READ_OFF 8	/* then read from MMIO_GPA + 8 */
#define IO_STR_LEN	5	/* "hello", by rep outsb */
#define IO_INS_LEN	4	/* rep insb into DATA_GPA */

/* smp.S: each vCPU adds this to the counter, then reports its %ebx. */
#define SMP_ITERS	100000

/*
 * sev.S: an SEV guest's view.  It maps SEV_PRIV_VA to SEV_PRIV_GPA with the
 * C-bit (private) and SEV_SHARED_VA to SEV_SHARED_GPA without (shared)
 * through its own page table at SEV_PT_GPA (PD entry 3 of the test's
 * tables), and leaves its report in the shared page at these offsets.
 */
#define SEV_PT_GPA	0x30000
#define SEV_PRIV_GPA	0x31000
#define SEV_SHARED_GPA	0x32000
#define SEV_PRIV_VA	0x600000
#define SEV_SHARED_VA	0x601000
#define SEV_PRIV_VALUE	0x9e1c0de5 /* written through the private map */
#define SEV_SHARED_VALUE 0x5ea7ed00 /* written through the shared map */
#define SEV_REP_CPUID_EAX 4	/* CPUID 0x8000001F EAX, EBX */
#define SEV_REP_CPUID_EBX 8
#define SEV_REP_STATUS	12	/* SEV_STATUS, low and high dword */
#define SEV_REP_PRIV	20	/* the private dword read back */
#define SEV_REP_DONE	24	/* SEV_DONE once all of it is there */
#define SEV_DONE	0xd0e5e5e5
#define SEV_STAGE_SHARED 0x21	/* on PORT_OUT: the shared write done */
#define SEV_STAGE_DONE	0x22	/* the private write and the report */

/*
 * sev_es.S: an SEV-ES guest (conf_sev_es.c).  It maps its memory private
 * (C-bit set) through its own page table for the first 2 MiB at
 * SEV_ES_PT_GPA, except the GHCB page, which it maps shared; its own
 * variables are in the private page SEV_ES_DATA_GPA.  The test starts it
 * with %rdi = one of the SEV_ES_MODE_*.
 */
#define SEV_ES_PT_GPA	0x40000
#define SEV_ES_GHCB_GPA	0x41000	/* the GHCB: shared, identity-mapped */
#define SEV_ES_DATA_GPA	0x42000	/* the guest's variables (SEV_ES_D_*) */
#define SEV_ES_NOSLOT_GPA 0x20000000 /* page-aligned, in no memslot */

#define SEV_ES_MODE_FULL 0	/* steps 1-7 and 9 of the guest */
#define SEV_ES_MODE_BAD	1	/* malformed GHCBs, one row each */
#define SEV_ES_MODE_MSR	2	/* GHCB MSR 0, no memslot, MSR protocol rows */
#define SEV_ES_MODE_TERM 3	/* both ways of asking to be terminated */
#define SEV_ES_MODE_TRIPLE 4	/* a #VC with no IDT: a triple fault */
#define SEV_ES_MODE_STR	5	/* rep outsb, rep insb */
#define SEV_ES_MODE_FLAGS 6	/* RFLAGS across a #VC */
#define SEV_ES_MODE_PROBE 7	/* which instructions raise #VC, with what */
#define SEV_ES_MODE_NPF	8	/* MMIO by a plain MOV: #VC(NPF) */

/* The guest's variables, at these offsets in SEV_ES_DATA_GPA. */
#define SEV_ES_D_MODE	0x00
#define SEV_ES_D_SEVINFO 0x08	/* the SEV_INFO response (GHCB MSR) */
#define SEV_ES_D_CPUID_EAX 0x10	/* CPUID_REQ responses, 0x8000001F EAX */
#define SEV_ES_D_CPUID_EBX 0x18	/* ... and EBX */
#define SEV_ES_D_VC_ERRS 0x20	/* #VCs the hypervisor failed */
#define SEV_ES_D_VC_INFO1 0x28	/* the last failure's sw_exit_info_1 */
#define SEV_ES_D_VC_INFO2 0x30	/* and sw_exit_info_2 */
#define SEV_ES_D_DIAG0	0x38	/* why it terminated: #VC code, or the */
#define SEV_ES_D_DIAG1	0x40	/* exception's two top stack words */
#define SEV_ES_D_DIAG2	0x48	/* and CR2 */
#define SEV_ES_D_VC_COUNT 0x50	/* #VCs taken */
#define SEV_ES_D_VC_LAST 0x58	/* the last #VC's error code */
#define SEV_ES_D_PROBE_ON 0x60	/* PROBE: the next #VC is noted, skipped */
#define SEV_ES_D_PROBE_CODE 0x68	/* PROBE: that #VC's error code */
#define SEV_ES_PROBE_UD	0x10006	/* PROBE: ... or this, for a #UD instead */
#define SEV_ES_D_PROBE_RIP 0x70	/* PROBE: and its RIP */
#define SEV_ES_D_PROBE_NEXT 0x78	/* PROBE: where the guest goes on */
#define SEV_ES_D_INS	0x80	/* rep insb's buffer */
#define SEV_ES_D_ROWS	0x100	/* mode MSR: responses, kept for the report */

/* GHCB MSR protocol (GHCB spec 2.0; Linux sev-common.h) */
#define GHCB_MSR	0xc0010130
#define SEV_STATUS_MSR	0xc0010131
#define GHCB_INFO_SEV_INFO_REQ	0x002
#define GHCB_INFO_SEV_INFO_RESP	0x001
#define GHCB_INFO_CPUID_REQ	0x004
#define GHCB_INFO_CPUID_RESP	0x005
#define GHCB_INFO_HV_FT_REQ	0x080
#define GHCB_INFO_HV_FT_RESP	0x081
#define GHCB_INFO_TERM_REQ	0x100
#define GHCB_TERM(set, code)	(GHCB_INFO_TERM_REQ | ((set) << 12) | ((code) << 16))

/* The GHCB page (Linux 6.12 arch/x86/include/asm/svm.h, struct ghcb) */
#define GHCB_OFF_CPL	0x0cb
#define GHCB_OFF_RAX	0x1f8
#define GHCB_OFF_RCX	0x308
#define GHCB_OFF_RDX	0x310
#define GHCB_OFF_RBX	0x318
#define GHCB_OFF_EXIT_CODE 0x390
#define GHCB_OFF_INFO1	0x398
#define GHCB_OFF_INFO2	0x3a0
#define GHCB_OFF_SCRATCH 0x3a8
#define GHCB_OFF_BITMAP	0x3f0	/* field at offset o valid: bit o / 8 */
#define GHCB_OFF_BUF	0x800	/* shared_buffer, 2032 bytes */
#define GHCB_BUF_SIZE	2032
#define GHCB_OFF_VERSION 0xffa	/* protocol_version, 16 bits */
#define GHCB_OFF_USAGE	0xffc	/* ghcb_usage, 32 bits */

/* SVM exit codes the guest puts in sw_exit_code (and #VC's error code) */
#define ES_EXIT_CPUID	0x72
#define ES_EXIT_HLT	0x78
#define ES_EXIT_IOIO	0x7b
#define ES_EXIT_MSR	0x7c
#define ES_EXIT_NPF	0x400
#define ES_EXIT_RDTSC	0x6e
#define ES_EXIT_VMMCALL	0x81
#define ES_EXIT_RDPMC	0x6f
#define ES_EXIT_INVD	0x76
#define ES_EXIT_WBINVD	0x89
#define ES_EXIT_MONITOR	0x8a
#define ES_EXIT_MWAIT	0x8b
#define VMGEXIT_MMIO_READ	0x80000001
#define VMGEXIT_MMIO_WRITE	0x80000002
#define VMGEXIT_AP_JUMP_TABLE	0x80000005
#define VMGEXIT_AP_CREATION	0x80000013
#define VMGEXIT_HV_FEATURES	0x8000fffd
#define VMGEXIT_TERM_REQUEST	0x8000fffe
#define VMGEXIT_UNSUPPORTED	0x8000ffff
/* IOIO exit_info_1 */
#define IOIO_IN		0x1
#define IOIO_STR	0x4
#define IOIO_REP	0x8
#define IOIO_SZ8	0x10
#define IOIO_SZ16	0x20
#define IOIO_SZ32	0x40
#define IOIO_A64	0x200
#define IOIO_SEG_DS	0xc00
/* GHCB_ERR_* in sw_exit_info_2 when sw_exit_info_1 is 2 */
#define GHCB_ERR_INVALID_USAGE	2
#define GHCB_ERR_INVALID_SCRATCH 3
#define GHCB_ERR_MISSING_INPUT	4
#define GHCB_ERR_INVALID_INPUT	5
#define GHCB_ERR_INVALID_EVENT	6

/* Termination reasons (set 1: this guest's own) */
#define SEV_ES_TERM_SET	1
#define SEV_ES_TERM_DONE 0xd0	/* mode FULL's last step */
#define SEV_ES_TERM_PAGE 0x7e	/* mode TERM through the GHCB page */
#define SEV_ES_TERM_MSR	0x7f	/* mode TERM through the MSR protocol */
#define SEV_ES_TERM_VC	0xe0	/* a #VC it cannot handle (code: DIAG0) */
#define SEV_ES_TERM_INSN 0xe1	/* an instruction its #VC does not decode */
#define SEV_ES_TERM_VMM	0xe2	/* the GHCB came back without results */
#define SEV_ES_TERM_PROTO 0xe3	/* an MSR protocol answer it cannot use */
/* (an exception other than #VC: code = the vector, DIAG1/DIAG2 as saved) */

/* What it sends (besides io64.S's IO_* values) */
#define SEV_ES_UNKNOWN_MSR 0x1234 /* an MSR KVM does not know: #GP */
#define SEV_ES_JUMP_TABLE 0x9000  /* the AP jump table it sets and gets */
#define SEV_ES_HYPERCALL 0xffff /* a hypercall number KVM does not have */
#define SEV_ES_MSR_UNKNOWN_REQ 0x0fe /* an MSR protocol request KVM lacks */
#define SEV_ES_STAGE_DONE 0x31	/* on PORT_OUT: a mode's rows all sent */
#define SEV_ES_STAGE_READY 0x32 /* on PORT_OUT: TRIPLE's IDT about to go */

/* ghcb.S: an SEV-ES guest's GHCB (a shared page) */
#define GHCB_GPA	0x33000

/* x86 bits the guests use. */
#define CR0_PE		0x1
#define CR0_ET		0x10
#define CR0_NW		0x20000000
#define CR0_CD		0x40000000
#define CR0_PG		0x80000000
#define CR4_PAE		0x20
#define MSR_EFER	0xc0000080
#define EFER_LME	0x100
#define EFER_LMA	0x400
#define PTE_P		0x1
#define PTE_RW		0x2
#define PTE_PS		0x80

#ifdef __ASSEMBLER__
/*
 * The body of a guest's set_gate(%edi: vector, %rax: handler): a present,
 * DPL 0, 64-bit interrupt gate in the IDT at IDT_GPA.  A macro, not a
 * shared function: each guest runs from its own copied image.
 */
.macro LM_SET_GATE
	shll	$4, %edi
	addl	$IDT_GPA, %edi
	movw	%ax, (%rdi)
	movw	$LM_SEL_CODE, 2(%rdi)
	movw	$0x8e00, 4(%rdi)
	shrq	$16, %rax
	movw	%ax, 6(%rdi)
	shrq	$16, %rax
	movl	%eax, 8(%rdi)
	movl	$0, 12(%rdi)
	ret
.endm
#endif

#endif
