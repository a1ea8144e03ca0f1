/* SPDX-License-Identifier: MIT */
/*
 * The demonstration's guest and migration helper: 32-bit protected-mode
 * code, flat segments, no paging (the SEV-ES guest: PAE paging), loaded at
 * fixed guest addresses (layout in layout.h).  Assembled as data into the
 * VMM; it never runs on the host.
 */
#include "layout.h"

	.section .rodata
	.code32

/*
 * The SEV-ES guest (softsev demo --es): the same guest with its own #VC
 * handler in front.  Its image is [demo_guest_es_start, demo_guest_end),
 * so everything from demo_guest_start on is the plain guest's code,
 * shared; the plain image stays [demo_guest_start, demo_guest_end).
 *
 * In an SEV-ES guest CPUID and port I/O raise #VC (29) at the instruction
 * instead of exiting; the handler asks the hypervisor through the GHCB
 * and VMGEXIT, and steps over the instruction.  Before the GHCB is mapped
 * it uses the GHCB MSR protocol (CPUID only), as Linux's early handler
 * does: the C-bit, which it needs to map the GHCB shared, comes from
 * CPUID.  It stays in 32-bit protected mode with PAE paging on from then
 * on: 0 .. 64 KiB private (C-bit), the GHCB page shared (no C-bit).
 * At the end it asks for termination with the GHCB MSR protocol.
 */
#define GHCB_MSR	0xc0010130
#define SEV_STATUS_MSR	0xc0010131
#define MSR_INFO_MASK	0xfff
#define MSR_SEV_INFO_REQ 0x002
#define MSR_SEV_INFO_RESP 0x001
#define MSR_CPUID_REQ	0x004
#define MSR_CPUID_RESP	0x005
#define SVM_EXIT_CPUID	0x72
#define SVM_EXIT_IOIO	0x7b
#define IOIO_IN		1
#define IOIO_DATA_8	(1 << 4)
#define IOIO_DATA_16	(1 << 5)
#define IOIO_DATA_32	(1 << 6)
#define IOIO_ADDR_32	(1 << 8)
#define G_RAX		0x1f8	/* struct ghcb (Linux asm/svm.h) */
#define G_RCX		0x308
#define G_RDX		0x310
#define G_RBX		0x318
#define G_EXIT_CODE	0x390
#define G_EXIT_INFO_1	0x398
#define G_EXIT_INFO_2	0x3a0
#define G_VALID		0x3f0
#define G_VERSION	0xffa
#define G_USAGE		0xffc
#define GHCB_VERSION	2	/* the newest this guest speaks */
/* The saved registers after pushal; %ebp points there in the handler. */
#define F_EDI		0
#define F_ESI		4
#define F_EBX		16
#define F_EDX		20
#define F_ECX		24
#define F_EAX		28
#define F_ERR		32
#define F_EIP		36
/* The guest address of a label in this image. */
#define ES_GPA(l)	(GUEST_CODE_GPA + (l) - demo_guest_es_start)
/* VMGEXIT: rep; vmmcall */
#define VMGEXIT		.byte 0xf3, 0x0f, 0x01, 0xd9

/* A 64-bit GHCB field from a 32-bit register, and its valid bit. */
.macro GSET off, reg
	mov	\reg, GHCB_GPA + \off
	movl	$0, GHCB_GPA + \off + 4
	orb	$(1 << ((\off / 8) % 8)), GHCB_GPA + G_VALID + \off / 64
.endm

/* One register of CPUID(saved EAX) with the MSR protocol into a slot. */
.macro MSR_CPUID reg, slot
	mov	$(MSR_CPUID_REQ | \reg << 30), %eax
	mov	F_EAX(%ebp), %edx
	call	msr_call
	mov	%edx, \slot(%ebp)
.endm

	.balign	16
	.globl demo_guest_es_start
demo_guest_es_start:
	mov	$STACK_TOP, %esp
	call	es_setup
1:	call	guest_round
	mov	$PORT_CTL, %dx
	in	(%dx), %eax
	test	%eax, %eax
	jz	1b
	mov	$DEMO_TERM_DONE, %eax
	jmp	es_term

/*
 * Its own GDT and IDT first (the handler's IRET reloads CS from the GDT),
 * then SEV_STATUS, which the CPU answers without an exit, then CPUID
 * 0x8000001F through the MSR protocol for the C-bit; the page tables
 * (sev_check's, PD[0] replaced by es_map's), the protocol version, the
 * GHCB, CPUID again through the GHCB page, and the report on PORT_SEV,
 * like sev_check's.
 */
es_setup:
	lgdt	ES_GPA(es_gdt_desc)
	lidt	ES_GPA(es_idt_desc)
	mov	$SEV_STATUS_MSR, %ecx
	rdmsr
	mov	%eax, %esi
	mov	$0x8000001f, %eax
	xor	%ecx, %ecx
	cpuid
	mov	%ebx, %edi
	call	sev_tables
	call	es_map
	call	paging_on
	call	sev_same
	push	%ebx
	call	ghcb_version
	mov	$GHCB_MSR, %ecx
	mov	$GHCB_GPA, %eax
	xor	%edx, %edx
	wrmsr
	mov	$0x8000001f, %eax
	xor	%ecx, %ecx
	cpuid
	mov	%ebx, %edi
	pop	%ebx
	call	sev_report
	cmp	$3, %esi
	jne	1f
	ret
1:	mov	$DEMO_TERM_NOT_ES, %eax
	jmp	es_term

/*
 * PD[0] -> ES_PT_GPA: the guest's 64 KiB identity-mapped with the C-bit
 * (%edi[5:0], above bit 31: the high half of each entry), the GHCB
 * without it, so that the hypervisor can read what the guest writes.
 */
es_map:
	push	%ebx
	mov	%edi, %ecx
	and	$31, %ecx
	mov	$1, %edx
	shl	%cl, %edx
	xor	%eax, %eax
1:	lea	3(%eax), %ebx
	mov	%eax, %ecx
	shr	$9, %ecx
	mov	%ebx, ES_PT_GPA(%ecx)
	mov	%edx, ES_PT_GPA + 4(%ecx)
	add	$0x1000, %eax
	cmp	$GUEST_MEM, %eax
	jne	1b
	movl	$0, ES_PT_GPA + (GHCB_GPA >> 9) + 4
	movl	$(ES_PT_GPA | 3), SEV_PD_GPA
	pop	%ebx
	ret

/* #VC: the error code is the SVM exit code. */
vc_handler:
	pushal
	mov	%esp, %ebp
	mov	F_ERR(%ebp), %eax
	cmp	$SVM_EXIT_CPUID, %eax
	je	vc_cpuid
	cmp	$SVM_EXIT_IOIO, %eax
	je	vc_ioio
vc_bad:
	mov	$DEMO_TERM_VC, %eax
	jmp	es_term

/* Past the instruction (%ecx bytes) and back. */
vc_next:
	add	%ecx, F_EIP(%ebp)
	popal
	add	$4, %esp
	iret

/* Until the GHCB MSR holds the GHCB's address, the MSR protocol. */
vc_cpuid:
	mov	$GHCB_MSR, %ecx
	rdmsr
	cmp	$GHCB_GPA, %eax
	je	1f
	MSR_CPUID 1, F_EBX
	MSR_CPUID 2, F_ECX
	MSR_CPUID 3, F_EDX
	MSR_CPUID 0, F_EAX		/* last: it holds the function */
	mov	$2, %ecx
	jmp	vc_next
1:	call	ghcb_clear
	mov	F_EAX(%ebp), %eax
	GSET	G_RAX, %eax
	mov	F_ECX(%ebp), %eax
	GSET	G_RCX, %eax
	mov	$SVM_EXIT_CPUID, %eax
	xor	%ecx, %ecx
	xor	%edx, %edx
	call	ghcb_call
	mov	GHCB_GPA + G_RAX, %eax
	mov	%eax, F_EAX(%ebp)
	mov	GHCB_GPA + G_RBX, %eax
	mov	%eax, F_EBX(%ebp)
	mov	GHCB_GPA + G_RCX, %eax
	mov	%eax, F_ECX(%ebp)
	mov	GHCB_GPA + G_RDX, %eax
	mov	%eax, F_EDX(%ebp)
	mov	$2, %ecx
	jmp	vc_next

/*
 * IN/OUT with the port in DX (EC..EF, 0x66 for 16 bits): exit_info_1 is
 * port << 16 | size | address size | IN, exit_info_2 the next EIP.
 */
vc_ioio:
	mov	F_EIP(%ebp), %esi
	xor	%ecx, %ecx
	mov	$(IOIO_ADDR_32 | IOIO_DATA_32), %ebx
	cmpb	$0x66, (%esi)
	jne	1f
	inc	%esi
	inc	%ecx
	mov	$(IOIO_ADDR_32 | IOIO_DATA_16), %ebx
1:	movzbl	(%esi), %eax
	inc	%ecx
	cmp	$0xec, %eax
	jb	vc_bad
	cmp	$0xef, %eax
	ja	vc_bad
	test	$1, %al
	jnz	2f
	mov	$(IOIO_ADDR_32 | IOIO_DATA_8), %ebx
2:	test	$2, %al
	jnz	3f
	or	$IOIO_IN, %ebx
3:	movzwl	F_EDX(%ebp), %edx
	shl	$16, %edx
	or	%edx, %ebx
	push	%ecx
	call	ghcb_clear
	test	$IOIO_IN, %bl
	jnz	4f
	mov	F_EAX(%ebp), %eax
	GSET	G_RAX, %eax
4:	mov	F_EIP(%ebp), %edx
	add	(%esp), %edx
	mov	$SVM_EXIT_IOIO, %eax
	mov	%ebx, %ecx
	call	ghcb_call
	test	$IOIO_IN, %bl
	jz	5f
	mov	GHCB_GPA + G_RAX, %eax
	mov	%eax, F_EAX(%ebp)
5:	pop	%ecx
	jmp	vc_next

/*
 * SEV_INFO (MSR protocol): the hypervisor's versions, max in EDX[31:16]
 * and min in EDX[15:0]; the GHCB's protocol_version is the highest both
 * speak, written once (the hypervisor leaves it).  None: end.
 */
ghcb_version:
	mov	$GHCB_MSR, %ecx
	mov	$MSR_SEV_INFO_REQ, %eax
	xor	%edx, %edx
	wrmsr
	VMGEXIT
	rdmsr
	and	$MSR_INFO_MASK, %eax
	cmp	$MSR_SEV_INFO_RESP, %eax
	jne	1f
	cmp	$GHCB_VERSION, %dx
	ja	1f
	shr	$16, %edx
	cmp	$GHCB_VERSION, %edx
	jbe	2f
	mov	$GHCB_VERSION, %edx
2:	mov	%dx, GHCB_GPA + G_VERSION
	ret
1:	mov	$DEMO_TERM_GHCB, %eax
	jmp	es_term

/* A new request: no field valid. */
ghcb_clear:
	xor	%eax, %eax
	mov	%eax, GHCB_GPA + G_VALID
	mov	%eax, GHCB_GPA + G_VALID + 4
	mov	%eax, GHCB_GPA + G_VALID + 8
	mov	%eax, GHCB_GPA + G_VALID + 12
	ret

/*
 * Exit code %eax, exit_info_1 %ecx, exit_info_2 %edx through the GHCB;
 * the hypervisor answers success with exit_info_1[31:0] == 0.
 */
ghcb_call:
	GSET	G_EXIT_CODE, %eax
	GSET	G_EXIT_INFO_1, %ecx
	GSET	G_EXIT_INFO_2, %edx
	movl	$0, GHCB_GPA + G_USAGE
	mov	$GHCB_MSR, %ecx
	mov	$GHCB_GPA, %eax
	xor	%edx, %edx
	wrmsr
	VMGEXIT
	cmpl	$0, GHCB_GPA + G_EXIT_INFO_1
	jne	1f
	ret
1:	mov	$DEMO_TERM_GHCB, %eax
	jmp	es_term

/* The MSR protocol: request %edx:%eax, the answer's info must be CPUID's. */
msr_call:
	mov	$GHCB_MSR, %ecx
	wrmsr
	VMGEXIT
	rdmsr
	and	$MSR_INFO_MASK, %eax
	cmp	$MSR_CPUID_RESP, %eax
	jne	1f
	ret
1:	mov	$DEMO_TERM_GHCB, %eax
	/* fall through */

/* TERM_REQ with code %eax: the hypervisor does not resume the guest. */
es_term:
	shl	$16, %eax
	or	$DEMO_TERM_MSR(0), %eax
	xor	%edx, %edx
	mov	$GHCB_MSR, %ecx
	wrmsr
	VMGEXIT
1:	hlt
	jmp	1b

	.balign	8
es_gdt:
	.quad	0
	.quad	0x00cf9b000000ffff	/* 8: flat 32-bit code, as set_cpu's */
	.quad	0x00cf93000000ffff	/* 16: flat data */
es_gdt_desc:
	.word	3 * 8 - 1
	.long	ES_GPA(es_gdt)
es_idt_desc:
	.word	30 * 8 - 1
	.long	ES_GPA(es_idt)
	.balign	8
es_idt:
	.fill	29, 8, 0
	.word	ES_GPA(vc_handler)	/* 29: #VC, a 32-bit interrupt gate */
	.word	8
	.byte	0, 0x8e
	.word	0			/* the image is below 64 KiB */


/*
 * The guest: first, whether it is an SEV guest (sev_check below); then
 * forever, FNV-1a over its 32-byte secret, reported on PORT_RESULT, then
 * one more tick of a counter in its memory on PORT_TICK.  The VMM may
 * stop it after any exit and resume it elsewhere.
 */
	.globl demo_guest_start, demo_guest_end
demo_guest_start:
	mov	$STACK_TOP, %esp
	call	sev_check
1:	call	guest_round
	jmp	1b

/* One round: the hash on PORT_RESULT, the next tick on PORT_TICK. */
guest_round:
	mov	$SECRET_GPA, %esi
	mov	$32, %ecx
	mov	$0x811c9dc5, %eax
2:	movzbl	(%esi), %edx
	xor	%edx, %eax
	imul	$0x01000193, %eax, %eax
	inc	%esi
	dec	%ecx
	jnz	2b
	mov	$PORT_RESULT, %dx
	out	%eax, (%dx)
	incl	COUNTER_GPA
	mov	COUNTER_GPA, %eax
	mov	$PORT_TICK, %dx
	out	%eax, (%dx)
	ret

/*
 * As an SEV-aware kernel does: CPUID 0x8000001F says SEV, then SEV_STATUS
 * (MSR 0xc0010131) says it is on, and the C-bit (CPUID EBX[5:0], 47 or
 * 51) in a page-table entry maps the same page, private.  For a moment
 * of PAE paging, SEV_PRIV_VA maps its secret page with the C-bit and
 * SEV_SHARED_VA without; both must read the same.  Out on PORT_SEV: the
 * status (~0 if CPUID shows no SEV), CPUID EBX, and 1 if both maps agree.
 */
sev_check:
	mov	$~0, %esi
	xor	%edi, %edi
	xor	%ebx, %ebx
	mov	$0x80000000, %eax
	cpuid
	cmp	$0x8000001f, %eax
	jb	9f
	mov	$0x8000001f, %eax
	xor	%ecx, %ecx
	cpuid
	test	$2, %eax
	jz	9f
	mov	%ebx, %edi
	mov	$0xc0010131, %ecx
	rdmsr
	mov	%eax, %esi
	call	sev_tables
	call	paging_on
	call	sev_same
	mov	%cr0, %eax
	and	$0x7fffffff, %eax
	mov	%eax, %cr0
	mov	%cr4, %eax
	and	$~0x20, %eax
	mov	%eax, %cr4
9:	jmp	sev_report

/*
 * The PAE tables for C-bit %edi[5:0]: 0 .. 2 MiB identity-mapped by one
 * large page, SEV_PRIV_VA -> SECRET_GPA with the C-bit, SEV_SHARED_VA ->
 * SECRET_GPA without.
 */
sev_tables:
	push	%edi
	mov	$SEV_PD_GPA, %edi
	mov	$(3 * 4096 / 4), %ecx
	xor	%eax, %eax
	cld
	rep stosl
	pop	%edi
	movl	$(SEV_PD_GPA | 1), SEV_PDPT_GPA
	movl	$0x83, SEV_PD_GPA		/* 0 .. 2 MiB: P RW PS */
	movl	$(SEV_PT_GPA | 3), SEV_PD_GPA + 2 * 8
	movl	$(SECRET_GPA | 1), SEV_PT_GPA
	mov	%edi, %ecx
	and	$31, %ecx			/* the C-bit is above 32 */
	mov	$1, %eax
	shl	%cl, %eax
	mov	%eax, SEV_PT_GPA + 4
	movl	$(SECRET_GPA | 1), SEV_PT_GPA + 8
	ret

paging_on:
	mov	$SEV_PDPT_GPA, %eax
	mov	%eax, %cr3
	mov	%cr4, %eax
	or	$0x20, %eax			/* PAE */
	mov	%eax, %cr4
	mov	%cr0, %eax
	or	$0x80000000, %eax		/* PG */
	mov	%eax, %cr0
	ret

/* %ebx = 1 if the private and the shared map read the same. */
sev_same:
	xor	%ebx, %ebx
	mov	SEV_PRIV_VA + 8, %eax
	cmp	SEV_SHARED_VA + 8, %eax
	sete	%bl
	ret

/* Out on PORT_SEV: %esi (status), %edi (CPUID EBX), %ebx (maps agree). */
sev_report:
	mov	$PORT_SEV, %dx
	mov	%esi, %eax
	out	%eax, (%dx)
	mov	%edi, %eax
	out	%eax, (%dx)
	mov	%ebx, %eax
	out	%eax, (%dx)
	ret
demo_guest_end:

/*
 * The migration helper, run by a vCPU of the mirror VM: FNV-1a over the
 * guest's pages [WALK_START, WALK_END), written to the shared page, then
 * PORT_HELPER_DONE.
 */
.macro HELPER_HASH
	mov	$WALK_START, %esi
	mov	$0x811c9dc5, %eax
1:	movzbl	(%esi), %edx
	xor	%edx, %eax
	imul	$0x01000193, %eax, %eax
	inc	%esi
	cmp	$WALK_END, %esi
	jne	1b
	mov	%eax, SHARED_GPA
.endm

	.globl demo_helper_start, demo_helper_end
demo_helper_start:
	HELPER_HASH
	mov	$PORT_HELPER_DONE, %dx
	out	%eax, (%dx)
	hlt
demo_helper_end:

/*
 * The SEV-ES mirror's helper: port I/O would raise #VC there, where it
 * has no handler, so it ends with HLT, which still exits.
 */
	.globl demo_helper_es_start, demo_helper_es_end
demo_helper_es_start:
	HELPER_HASH
	hlt
demo_helper_es_end:

	.section .note.GNU-stack, "", @progbits
