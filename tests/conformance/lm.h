/* SPDX-License-Identifier: MIT */
/*
 * Long mode for the guests of tests/guests, as guests.h lays it out: the
 * GDT and identity tables a VMM writes into guest memory, and the sregs
 * that enter 64-bit mode on them.  Only static inline helpers, no state:
 * vkvm_conf.h and sev_guest.h both build on it.
 */
#ifndef SOFTSEV_LM_H
#define SOFTSEV_LM_H

#include "conf.h"
#include "guests.h"

/*
 * The GDT and the identity tables (1 GiB of 2 MiB pages) of guests.h in
 * guest memory mem, cbit on every entry: an SEV guest's C-bit, or 0.
 */
static inline void lm_tables(uint8_t *mem, uint64_t cbit)
{
	uint64_t *gdt = (uint64_t *)(mem + GDT_GPA);
	uint64_t *pml4 = (uint64_t *)(mem + PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(mem + PDPT_GPA);
	uint64_t *pd = (uint64_t *)(mem + PD_GPA);
	uint64_t i;

	gdt[0] = 0;
	gdt[LM_SEL_CODE / 8] = 0x00af9b000000ffffull;
	gdt[LM_SEL_DATA / 8] = 0x00cf93000000ffffull;
	pml4[0] = PDPT_GPA | PTE_P | PTE_RW | cbit;
	pdpt[0] = PD_GPA | PTE_P | PTE_RW | cbit;
	for (i = 0; i < 512; i++)
		pd[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS | cbit;
}

/*
 * Long-mode sregs matching lm_tables.  Every field is one that
 * svm_get_segment gives back as set: G agrees with the limit, data
 * segments have the accessed bit, TR is a busy TSS, all are present.
 * CR3 is PML4_GPA without a C-bit: an SEV guest sets that itself.
 */
static inline void lm_sregs(struct kvm_sregs *s)
{
	struct kvm_segment code = {
		.limit = 0xffffffff,
		.selector = LM_SEL_CODE,
		.type = 11,
		.present = 1,
		.s = 1,
		.l = 1,
		.g = 1,
	};
	struct kvm_segment data = {
		.limit = 0xffffffff,
		.selector = LM_SEL_DATA,
		.type = 3,
		.present = 1,
		.s = 1,
		.db = 1,
		.g = 1,
	};
	struct kvm_segment tr = { .limit = 0x67, .type = 11, .present = 1 };

	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = tr;
	s->gdt.base = GDT_GPA;
	s->gdt.limit = 3 * 8 - 1;
	s->cr0 = CR0_PE | CR0_ET | CR0_PG;
	s->cr3 = PML4_GPA;
	s->cr4 = CR4_PAE;
	s->efer = EFER_LME | EFER_LMA;
}

/*
 * vCPU fd straight into 64-bit mode at CODE_GPA, stack at STACK_TOP, with
 * %rbx and %rdi as given, by KVM_SET_SREGS/REGS.
 */
static inline void lm_start(int fd, uint64_t rbx, uint64_t rdi)
{
	struct kvm_regs r = {
		.rip = CODE_GPA,
		.rsp = STACK_TOP,
		.rflags = 2,
		.rbx = rbx,
		.rdi = rdi,
	};
	struct kvm_sregs s;

	assert_ok(ioctl(fd, KVM_GET_SREGS, &s));
	lm_sregs(&s);
	assert_ok(ioctl(fd, KVM_SET_SREGS, &s));
	assert_ok(ioctl(fd, KVM_SET_REGS, &r));
}

#endif
