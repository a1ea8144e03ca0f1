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

#endif
