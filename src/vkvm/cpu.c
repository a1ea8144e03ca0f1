// SPDX-License-Identifier: MIT
/*
 * A vCPU's architectural state inside its Unicorn engine.
 *
 * The public API cannot set segment caches, EFER's NXE/SCE or the mode
 * flags directly (a 64-bit engine takes only the selector), so
 * KVM_SET_SREGS edits the CPU state inside a saved uc_context and restores
 * it, recomputing the mode flags (hflags) as QEMU's x86_update_hflags()
 * does.  The offsets below are QEMU 5.0's CPUX86State, as built into
 * Unicorn 2.1.1; vk_cpu_init() checks them against known values written
 * through the API and refuses to run on a build where they do not hold.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkvm_internal.h"

/* CPUX86State, Unicorn 2.1.1 (QEMU 5.0) */
#define ENV_EIP 128
#define ENV_EFLAGS 136
#define ENV_HFLAGS 176
#define ENV_SEGS 184 /* es cs ss ds fs gs, then ldt tr gdt idt */
#define ENV_SEG_SIZE 24 /* selector u32, base u64, limit u32, flags u32 */
#define ENV_LDT (ENV_SEGS + 6 * ENV_SEG_SIZE)
#define ENV_TR (ENV_LDT + ENV_SEG_SIZE)
#define ENV_GDT (ENV_TR + ENV_SEG_SIZE)
#define ENV_IDT (ENV_GDT + ENV_SEG_SIZE)
#define ENV_CR (ENV_IDT + ENV_SEG_SIZE)
#define ENV_EFER 560
#define ENV_ERROR_CODE 5352
#define ENV_DR 5368
#define ENV_OLD_EXCEPTION 5464
#define ENV_VM_VMCB 5472 /* the SVM-guest state that follows */
#define ENV_INTERCEPT 5488
#define ENV_INTERCEPT_EXC 5504

/* QEMU's hflags and descriptor-cache bits */
#define HF_CPL_MASK 3u
#define HF_CS32 (1u << 4)
#define HF_SS32 (1u << 5)
#define HF_ADDSEG (1u << 6)
#define HF_PE (1u << 7)
#define HF_MP_SHIFT 9
#define HF_LMA (1u << 14)
#define HF_CS64 (1u << 15)
#define HF_GUEST (1u << 21)
#define HF_OSFXSR (1u << 22)
#define HF_SMAP (1u << 23)
#define HF_KEEP ((1u << 3) | (1u << 16) | (1u << 18) | (0x3fu << 19))
#define DESC_TYPE_SHIFT 8
#define DESC_S (1u << 12)
#define DESC_DPL_SHIFT 13
#define DESC_P (1u << 15)
#define DESC_AVL (1u << 20)
#define DESC_L (1u << 21)
#define DESC_B (1u << 22)
#define DESC_G (1u << 23)

#define CR0_PE 1ull
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_SMAP (1ull << 21)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define RFLAGS_VM (1ull << 17)

/* Where the CPU state begins inside a saved context (found at init). */
static size_t env_off;

static uint8_t *env(struct vkvm_vcpu *v)
{
	return (uint8_t *)v->ctx + env_off;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
	return x;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t x;

	memcpy(&x, p, 4);
	return x;
}

static void wr64(uint8_t *p, uint64_t x)
{
	memcpy(p, &x, 8);
}

static void wr32(uint8_t *p, uint32_t x)
{
	memcpy(p, &x, 4);
}

static void save(struct vkvm_vcpu *v)
{
	uc_context_save(v->uc, v->ctx);
}

static void restore(struct vkvm_vcpu *v)
{
	uc_context_restore(v->uc, v->ctx);
	uc_ctl_flush_tlb(v->uc);
}

/* Check the layout once: values written through the API, read back. */
static int calibrate(struct vkvm_vcpu *v)
{
	static const uint64_t magic = 0x5eb5eb0f1a57c0deull;
	uc_x86_mmr gdt = { .base = 0x1234567000ull, .limit = 0x4321 };
	uint64_t rip = 0xabcd12, cr3 = 0x7654000;
	size_t i, n = uc_context_size(v->uc);
	uint8_t *b;

	uc_reg_write(v->uc, UC_X86_REG_RAX, &magic);
	uc_reg_write(v->uc, UC_X86_REG_RIP, &rip);
	uc_reg_write(v->uc, UC_X86_REG_GDTR, &gdt);
	uc_reg_write(v->uc, UC_X86_REG_CR3, &cr3);
	save(v);
	b = (uint8_t *)v->ctx;
	for (i = 0; i < 64 && i + 8 <= n; i++)
		if (rd64(b + i) == magic)
			break;
	if (i == 64 || n < i + ENV_INTERCEPT_EXC + 4)
		return -ENOSYS;
	if (rd64(b + i + ENV_EIP) != rip ||
	    rd64(b + i + ENV_GDT + 8) != gdt.base ||
	    rd32(b + i + ENV_GDT + 16) != gdt.limit ||
	    rd64(b + i + ENV_CR + 3 * 8) != cr3)
		return -ENOSYS;
	env_off = i;
	return 0;
}

/* kvm_segment <-> QEMU's SegmentCache, as QEMU's kvm.c converts them. */
static void seg_put(uint8_t *p, const struct kvm_segment *s)
{
	uint32_t fl = 0;

	if (s->present && !s->unusable)
		fl = (uint32_t)s->type << DESC_TYPE_SHIFT | DESC_P |
		     (uint32_t)(s->dpl & 3) << DESC_DPL_SHIFT |
		     (s->s ? DESC_S : 0) | (s->db ? DESC_B : 0) |
		     (s->l ? DESC_L : 0) | (s->g ? DESC_G : 0) |
		     (s->avl ? DESC_AVL : 0);
	else if (s->type || s->s)
		/* not present: keep the attributes, as the VMCB does */
		fl = (uint32_t)s->type << DESC_TYPE_SHIFT |
		     (uint32_t)(s->dpl & 3) << DESC_DPL_SHIFT |
		     (s->s ? DESC_S : 0) | (s->db ? DESC_B : 0) |
		     (s->l ? DESC_L : 0) | (s->g ? DESC_G : 0) |
		     (s->avl ? DESC_AVL : 0);
	wr32(p, s->selector);
	wr32(p + 4, 0);
	wr64(p + 8, s->base);
	wr32(p + 16, s->limit);
	wr32(p + 20, fl);
}

/* svm_get_segment(): attributes from the cache, with its fix-ups. */
static void seg_get(const uint8_t *p, struct kvm_segment *s, int which)
{
	uint32_t fl = rd32(p + 20);

	memset(s, 0, sizeof(*s));
	s->selector = (uint16_t)rd32(p);
	s->base = rd64(p + 8);
	s->limit = rd32(p + 16);
	s->type = (fl >> DESC_TYPE_SHIFT) & 15;
	s->s = !!(fl & DESC_S);
	s->dpl = (fl >> DESC_DPL_SHIFT) & 3;
	s->present = !!(fl & DESC_P);
	s->avl = !!(fl & DESC_AVL);
	s->l = !!(fl & DESC_L);
	s->db = !!(fl & DESC_B);
	s->g = s->limit > 0xfffff;
	s->unusable = !s->present;
	switch (which) {
	case 7: /* TR: the busy bit */
		s->type |= 2;
		break;
	case 0: /* es */
	case 3: /* ds */
	case 4: /* fs */
	case 5: /* gs */
		if (!s->unusable)
			s->type |= 1;
		break;
	case 2: /* ss */
		if (s->unusable)
			s->db = 0;
		break;
	}
}

static void dt_put(uint8_t *p, const struct kvm_dtable *d)
{
	wr64(p + 8, d->base);
	wr32(p + 16, d->limit);
}

static void dt_get(const uint8_t *p, struct kvm_dtable *d)
{
	memset(d, 0, sizeof(*d));
	d->base = rd64(p + 8);
	d->limit = (uint16_t)rd32(p + 16);
}

/* QEMU's x86_update_hflags() on the state in the saved context. */
static void update_hflags(uint8_t *e)
{
	uint32_t hf = rd32(e + ENV_HFLAGS) & HF_KEEP;
	uint64_t cr0 = rd64(e + ENV_CR), cr4 = rd64(e + ENV_CR + 32);
	uint64_t efer = rd64(e + ENV_EFER), fl = rd64(e + ENV_EFLAGS);
	uint32_t cs = rd32(e + ENV_SEGS + 1 * ENV_SEG_SIZE + 20);
	uint32_t ss = rd32(e + ENV_SEGS + 2 * ENV_SEG_SIZE + 20);
	uint64_t bases = rd64(e + ENV_SEGS + 0 * ENV_SEG_SIZE + 8) |
			 rd64(e + ENV_SEGS + 2 * ENV_SEG_SIZE + 8) |
			 rd64(e + ENV_SEGS + 3 * ENV_SEG_SIZE + 8);

	hf |= (ss >> DESC_DPL_SHIFT) & HF_CPL_MASK;
	if (cr0 & CR0_PE)
		hf |= HF_PE;
	hf |= (uint32_t)(cr0 << (HF_MP_SHIFT - 1)) & (7u << HF_MP_SHIFT);
	hf |= (uint32_t)(fl & (RFLAGS_VM | (1u << 8) | (3u << 12)));
	if (cr4 & CR4_OSFXSR)
		hf |= HF_OSFXSR;
	if ((cr4 & CR4_SMAP) && (hf & HF_CPL_MASK) != 3)
		hf |= HF_SMAP;
	if (efer & EFER_LMA)
		hf |= HF_LMA;
	if ((hf & HF_LMA) && (cs & DESC_L)) {
		hf |= HF_CS32 | HF_SS32 | HF_CS64;
	} else {
		hf |= (cs & DESC_B) ? HF_CS32 : 0;
		hf |= (ss & DESC_B) ? HF_SS32 : 0;
	}
	if (!(cr0 & CR0_PE) || (fl & RFLAGS_VM) || !(hf & HF_CS32))
		hf |= HF_ADDSEG;
	else if (bases)
		hf |= HF_ADDSEG;
	wr32(e + ENV_HFLAGS, hf);
}

static const int gpr[16] = {
	UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX,
	UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_RSP, UC_X86_REG_RBP,
	UC_X86_REG_R8,	UC_X86_REG_R9,	UC_X86_REG_R10, UC_X86_REG_R11,
	UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};

void vk_get_regs(struct vkvm_vcpu *v, struct kvm_regs *r)
{
	__u64 *f = &r->rax; /* kvm_regs: the 16 GPRs in this order */
	void *p[16];
	int i;

	for (i = 0; i < 16; i++)
		p[i] = &f[i];
	uc_reg_read_batch(v->uc, (int *)gpr, p, 16);
	uc_reg_read(v->uc, UC_X86_REG_RIP, &r->rip);
	uc_reg_read(v->uc, UC_X86_REG_RFLAGS, &r->rflags);
}

void vk_set_regs(struct vkvm_vcpu *v, const struct kvm_regs *r)
{
	const __u64 *f = &r->rax;
	uint64_t fl = r->rflags | 2; /* bit 1 reads as one */
	void *p[16];
	int i;

	for (i = 0; i < 16; i++)
		p[i] = (void *)&f[i];
	uc_reg_write_batch(v->uc, (int *)gpr, p, 16);
	uc_reg_write(v->uc, UC_X86_REG_RIP, &r->rip);
	uc_reg_write(v->uc, UC_X86_REG_RFLAGS, &fl);
	/* RFLAGS.VM/TF/IOPL are mode flags too */
	save(v);
	update_hflags(env(v));
	restore(v);
}

void vk_get_sregs(struct vkvm_vcpu *v, struct kvm_sregs *s)
{
	uint8_t *e;
	int i;

	save(v);
	e = env(v);
	memset(s, 0, sizeof(*s));
	seg_get(e + ENV_SEGS + 1 * ENV_SEG_SIZE, &s->cs, 1);
	seg_get(e + ENV_SEGS + 3 * ENV_SEG_SIZE, &s->ds, 3);
	seg_get(e + ENV_SEGS + 0 * ENV_SEG_SIZE, &s->es, 0);
	seg_get(e + ENV_SEGS + 4 * ENV_SEG_SIZE, &s->fs, 4);
	seg_get(e + ENV_SEGS + 5 * ENV_SEG_SIZE, &s->gs, 5);
	seg_get(e + ENV_SEGS + 2 * ENV_SEG_SIZE, &s->ss, 2);
	seg_get(e + ENV_TR, &s->tr, 7);
	seg_get(e + ENV_LDT, &s->ldt, 6);
	s->ss.dpl = rd32(e + ENV_HFLAGS) & HF_CPL_MASK; /* save.cpl */
	dt_get(e + ENV_GDT, &s->gdt);
	dt_get(e + ENV_IDT, &s->idt);
	s->cr0 = rd64(e + ENV_CR);
	s->cr2 = rd64(e + ENV_CR + 16);
	s->cr3 = rd64(e + ENV_CR + 24);
	s->cr4 = rd64(e + ENV_CR + 32);
	s->efer = rd64(e + ENV_EFER);
	s->apic_base = v->apic_base;
	s->cr8 = (v->lapic.regs[0x80] >> 4) & 15; /* TPR[7:4] */
	if (v->irq >= 0) {
		i = v->irq;
		s->interrupt_bitmap[i / 64] |= 1ull << (i % 64);
	}
}

void vk_set_sregs(struct vkvm_vcpu *v, const struct kvm_sregs *s)
{
	uint8_t *e;
	int i;

	save(v);
	e = env(v);
	seg_put(e + ENV_SEGS + 0 * ENV_SEG_SIZE, &s->es);
	seg_put(e + ENV_SEGS + 1 * ENV_SEG_SIZE, &s->cs);
	seg_put(e + ENV_SEGS + 2 * ENV_SEG_SIZE, &s->ss);
	seg_put(e + ENV_SEGS + 3 * ENV_SEG_SIZE, &s->ds);
	seg_put(e + ENV_SEGS + 4 * ENV_SEG_SIZE, &s->fs);
	seg_put(e + ENV_SEGS + 5 * ENV_SEG_SIZE, &s->gs);
	seg_put(e + ENV_LDT, &s->ldt);
	seg_put(e + ENV_TR, &s->tr);
	dt_put(e + ENV_GDT, &s->gdt);
	dt_put(e + ENV_IDT, &s->idt);
	wr64(e + ENV_CR, s->cr0);
	wr64(e + ENV_CR + 16, s->cr2);
	wr64(e + ENV_CR + 24, s->cr3);
	wr64(e + ENV_CR + 32, s->cr4);
	wr64(e + ENV_EFER, s->efer);
	update_hflags(e);
	restore(v);
	v->apic_base = s->apic_base;
	v->lapic.regs[0x80] = (char)((s->cr8 & 15) << 4);
	/* __set_sregs: the lowest pending vector becomes KVM_INTERRUPT's */
	v->irq = -1;
	for (i = 0; i < 256; i++)
		if (s->interrupt_bitmap[i / 64] & (1ull << (i % 64))) {
			v->irq = i;
			break;
		}
}

/*
 * RIP from inside a hook: written into the saved state only, since the
 * API's RIP write would end the emulation; the block goes on from its
 * own code and writes RIP back itself when it ends.
 */
void vk_cpu_set_rip(struct vkvm_vcpu *v, uint64_t rip)
{
	save(v);
	wr64(env(v) + ENV_EIP, rip);
	uc_context_restore(v->uc, v->ctx);
}

int vk_cpu_code_bits(struct vkvm_vcpu *v, uint64_t *csbase)
{
	uint32_t hf;

	save(v);
	hf = rd32(env(v) + ENV_HFLAGS);
	*csbase = rd64(env(v) + ENV_SEGS + 1 * ENV_SEG_SIZE + 8);
	return (hf & HF_CS64) ? 64 : (hf & HF_CS32) ? 32 : 16;
}

/* The exception the engine just raised: error code, INT n, next RIP. */
void vk_cpu_exception(struct vkvm_vcpu *v, uint32_t *err, bool *soft,
		      uint64_t *next_rip)
{
	uint8_t *e;

	save(v);
	e = env(v);
	*err = rd32(e + ENV_ERROR_CODE);
	*soft = rd32(e + ENV_ERROR_CODE + 4) != 0;
	*next_rip = rd64(e + ENV_ERROR_CODE + 8);
}

/*
 * The engine counts nested exceptions itself (old_exception) and never
 * resets the count when vkvm delivers an exception: clear it after each
 * delivery, or the next fault would arrive as #DF.
 */
void vk_cpu_clear_exception(struct vkvm_vcpu *v)
{
	save(v);
	wr32(env(v) + ENV_OLD_EXCEPTION, (uint32_t)-1);
	uc_context_restore(v->uc, v->ctx);
}

void vk_get_debugregs(struct vkvm_vcpu *v, struct kvm_debugregs *d)
{
	uint8_t *e;
	int i;

	save(v);
	e = env(v);
	memset(d, 0, sizeof(*d));
	for (i = 0; i < 4; i++)
		d->db[i] = rd64(e + ENV_DR + 8 * i);
	d->dr6 = rd64(e + ENV_DR + 48) | 0xffff0ff0ull;
	d->dr7 = rd64(e + ENV_DR + 56) | 0x400ull;
}

void vk_set_debugregs(struct vkvm_vcpu *v, const struct kvm_debugregs *d)
{
	uint8_t *e;
	int i;

	save(v);
	e = env(v);
	for (i = 0; i < 4; i++)
		wr64(e + ENV_DR + 8 * i, d->db[i]);
	wr64(e + ENV_DR + 48, d->dr6);
	wr64(e + ENV_DR + 56, d->dr7);
	uc_context_restore(v->uc, v->ctx);
}

#define MSR_MTRRCAP 0xfe

/* MSRs the engine keeps itself. */
static bool engine_msr(uint32_t index)
{
	switch (index) {
	case 0x10: /* TSC */
	case 0x174: case 0x175: case 0x176: /* SYSENTER_CS/ESP/EIP */
	case 0x277: /* PAT */
	case 0xc0000081: case 0xc0000082: case 0xc0000083:
	case 0xc0000084: /* STAR LSTAR CSTAR SFMASK */
	case 0xc0000100: case 0xc0000101: case 0xc0000102: /* FS/GS/KGS */
	case 0xc0000103: /* TSC_AUX */
		return true;
	}
	return false;
}

int vk_get_msr(struct vkvm_vcpu *v, uint32_t index, uint64_t *data)
{
	uc_x86_msr m = { .rid = index };
	int i;

	if (index == 0xc0000080) { /* EFER: all of it, not the API's mask */
		save(v);
		*data = rd64(env(v) + ENV_EFER);
		return 0;
	}
	if (index == 0x1b) {
		*data = v->apic_base;
		return 0;
	}
	if (index == MSR_MTRRCAP) { /* kvm_mtrr_get_msr(): WC, FIX, 8 */
		*data = 0x508;
		return 0;
	}
	if (engine_msr(index)) {
		uc_reg_read(v->uc, UC_X86_REG_MSR, &m);
		*data = m.value;
		return 0;
	}
	for (i = 0; i < v->nmsrs; i++)
		if (v->msrs[i].index == index) {
			*data = v->msrs[i].data;
			return 0;
		}
	if (!vk_msr_known(index))
		return -ENOENT;
	*data = 0;
	return 0;
}

int vk_set_msr(struct vkvm_vcpu *v, uint32_t index, uint64_t data)
{
	uc_x86_msr m = { .rid = index, .value = data };
	int i;

	if (index == 0xc0000080) {
		save(v);
		wr64(env(v) + ENV_EFER, data);
		update_hflags(env(v));
		restore(v);
		return 0;
	}
	if (index == 0x1b) {
		v->apic_base = data;
		return 0;
	}
	if (index == MSR_MTRRCAP) /* read-only: kvm_set_msr_common() fails */
		return -EPERM;
	if (engine_msr(index)) {
		uc_reg_write(v->uc, UC_X86_REG_MSR, &m);
		return 0;
	}
	if (!vk_msr_known(index))
		return -ENOENT;
	for (i = 0; i < v->nmsrs; i++)
		if (v->msrs[i].index == index)
			break;
	if (i == v->nmsrs) {
		if (v->nmsrs == VK_MAX_MSRS)
			return -ENOMEM;
		v->nmsrs++;
	}
	v->msrs[i].index = index;
	v->msrs[i].data = data;
	return 0;
}

void vk_get_fpu(struct vkvm_vcpu *v, struct kvm_fpu *f)
{
	uint16_t fcw = 0, fsw = 0, ftw = 0;
	uint32_t mxcsr = 0;
	uint8_t st[16];
	int i;

	memset(f, 0, sizeof(*f));
	uc_reg_read(v->uc, UC_X86_REG_FPCW, &fcw);
	uc_reg_read(v->uc, UC_X86_REG_FPSW, &fsw);
	uc_reg_read(v->uc, UC_X86_REG_FPTAG, &ftw);
	uc_reg_read(v->uc, UC_X86_REG_MXCSR, &mxcsr);
	f->fcw = fcw;
	f->fsw = fsw;
	/* abridged tag: one bit per register, set when not empty */
	for (i = 0; i < 8; i++)
		if (((ftw >> (2 * i)) & 3) != 3)
			f->ftwx |= (uint8_t)(1u << i);
	f->mxcsr = mxcsr;
	for (i = 0; i < 8; i++) {
		/* 64-bit mantissa, then the 16-bit sign and exponent */
		memset(st, 0, sizeof(st));
		uc_reg_read(v->uc, UC_X86_REG_FP0 + i, st);
		memcpy(f->fpr[i], st, 10);
	}
	for (i = 0; i < 16; i++)
		uc_reg_read(v->uc, UC_X86_REG_XMM0 + i, f->xmm[i]);
}

void vk_set_fpu(struct vkvm_vcpu *v, const struct kvm_fpu *f)
{
	uint16_t fcw = f->fcw, fsw = f->fsw, ftw = 0;
	uint32_t mxcsr = f->mxcsr;
	uint8_t st[16];
	int i;

	for (i = 0; i < 8; i++)
		if (!(f->ftwx & (1u << i)))
			ftw |= (uint16_t)(3u << (2 * i));
	uc_reg_write(v->uc, UC_X86_REG_FPCW, &fcw);
	uc_reg_write(v->uc, UC_X86_REG_FPSW, &fsw);
	uc_reg_write(v->uc, UC_X86_REG_FPTAG, &ftw);
	uc_reg_write(v->uc, UC_X86_REG_MXCSR, &mxcsr);
	for (i = 0; i < 8; i++) {
		memset(st, 0, sizeof(st));
		memcpy(st, f->fpr[i], 10);
		uc_reg_write(v->uc, UC_X86_REG_FP0 + i, st);
	}
	for (i = 0; i < 16; i++)
		uc_reg_write(v->uc, UC_X86_REG_XMM0 + i, f->xmm[i]);
}

/* CPUID.1:EAX from the vCPU's table, or kvm_vcpu_reset()'s 0x600. */
static uint64_t reset_rdx(struct vkvm_vcpu *v)
{
	int i;

	for (i = 0; i < v->ncpuid; i++)
		if (v->cpuid[i].function == 1)
			return v->cpuid[i].eax;
	return 0x600;
}

/*
 * kvm_vcpu_reset() with init_event, and init_vmcb(): what INIT leaves
 * (after a triple fault, KVM on AMD INITs the vCPU).  CR0.CD/NW survive
 * INIT; APIC base, MSRs and the FPU's memory are kept.
 */
static void reset_regs(struct vkvm_vcpu *v, uint64_t cr0, uint64_t apic)
{
	struct kvm_segment data = { .limit = 0xffff, .type = 3, .present = 1,
				    .s = 1 };
	struct kvm_sregs s;
	struct kvm_regs r;

	memset(&s, 0, sizeof(s));
	s.cs = data;
	s.cs.selector = 0xf000;
	s.cs.base = 0xffff0000;
	s.cs.type = 0xb;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.ldt = (struct kvm_segment){ .limit = 0xffff, .type = 2,
				      .present = 1 };
	s.tr = (struct kvm_segment){ .limit = 0xffff, .type = 3,
				     .present = 1 };
	s.gdt.limit = 0xffff;
	s.idt.limit = 0xffff;
	s.cr0 = cr0;
	s.apic_base = apic;
	vk_set_sregs(v, &s);
	memset(&r, 0, sizeof(r));
	r.rip = 0xfff0;
	r.rflags = 2;
	r.rdx = reset_rdx(v);
	vk_set_regs(v, &r);
	v->irq = -1;
	v->exc_queued = -1; /* kvm_vcpu_reset(): the event queue is cleared */
}

void vk_cpu_init_event(struct vkvm_vcpu *v)
{
	uint64_t cr0;

	save(v);
	cr0 = rd64(env(v) + ENV_CR) & (3ull << 29);
	reset_regs(v, cr0 | 0x10, v->apic_base);
}

/* kvm_vcpu_reset() + init_vmcb(): the state of a new vCPU. */
void vk_cpu_reset(struct vkvm_vcpu *v)
{
	bool bsp = (uint32_t)v->id == v->vm->bsp_id; /* kvm_vcpu_is_reset_bsp() */
	struct kvm_fpu f;

	/* CD | NW | ET; kvm_lapic_reset(): enabled, BSP flag on the BSP */
	reset_regs(v, 0x60000010,
		   0xfee00000ull | 1u << 11 | (bsp ? 1u << 8 : 0));
	memset(&f, 0, sizeof(f));
	f.fcw = 0x37f;
	f.mxcsr = 0x1f80;
	vk_set_fpu(v, &f);
	vk_set_msr(v, 0x277, 0x0007040600070406ull);
	v->xcr0 = 1;
	/* kvm_arch_vcpu_create(): APs wait for SIPI only with an APIC */
	v->mp_state = !v->vm->irqchip || bsp ?
			      KVM_MP_STATE_RUNNABLE :
			      KVM_MP_STATE_UNINITIALIZED;
}

static int engine_open(uc_engine **uc)
{
	if (uc_open(UC_ARCH_X86, UC_MODE_64, uc))
		return -ENOMEM;
	/* each engine would reserve 1 GiB of code buffer otherwise */
	uc_ctl(*uc, UC_CTL_WRITE(UC_CTL_TCG_BUFFER_SIZE, 1), 32u << 20);
	if (vk_msr_engine(*uc)) {
		uc_close(*uc);
		*uc = NULL;
		return -ENOMEM;
	}
	return 0;
}

/*
 * MSR exits (msr.c): the engine's own SVM-guest checks, as helper_rdmsr()
 * and helper_wrmsr() make them when HF_GUEST is set: the MSR-protection
 * intercept with a VMCB whose permission bitmap says which MSRs exit.  The
 * engine then raises EXCP_VMEXIT + SVM_EXIT_MSR at the instruction, with
 * exit_info_1 (0 read, 1 write) as the error code, and never enters a
 * host: vkvm's INTR hook answers it.  No other intercept is set.
 */
void vk_cpu_intercept_msrs(struct vkvm_vcpu *v, uint64_t vmcb)
{
	uint8_t *e;

	save(v);
	e = env(v);
	wr64(e + ENV_VM_VMCB, vmcb);
	wr64(e + ENV_INTERCEPT, 1ull << 28); /* INTERCEPT_MSR_PROT */
	wr32(e + ENV_INTERCEPT_EXC, 0);
	wr32(e + ENV_HFLAGS, rd32(e + ENV_HFLAGS) | HF_GUEST);
	restore(v);
}

/* More intercepts (protect.c), kept across engine replacements. */
void vk_cpu_add_intercepts(struct vkvm_vcpu *v, uint64_t bits)
{
	uint8_t *e;

	save(v);
	e = env(v);
	wr64(e + ENV_INTERCEPT, rd64(e + ENV_INTERCEPT) | bits);
	restore(v);
}

/* CR2 for a #PF vkvm delivers (the API's CR2 write lands in CR3). */
void vk_cpu_set_cr2(struct vkvm_vcpu *v, uint64_t cr2)
{
	save(v);
	wr64(env(v) + ENV_CR + 16, cr2);
	uc_context_restore(v->uc, v->ctx);
}

/* Inside the INTR hook: an intercept's exit_info_1 and instruction. */
void vk_cpu_vmexit_info(struct vkvm_vcpu *v, uint64_t *info1, uint64_t *rip)
{
	save(v);
	*info1 = rd32(env(v) + ENV_ERROR_CODE);
	*rip = rd64(env(v) + ENV_EIP);
}

/*
 * Inside the INTR hook: go on at rip.  The engine resumes at EIP, or at
 * exception_next_eip (the INT n path): both say rip.
 */
void vk_cpu_resume_at(struct vkvm_vcpu *v, uint64_t rip)
{
	save(v);
	wr64(env(v) + ENV_EIP, rip);
	wr64(env(v) + ENV_ERROR_CODE + 8, rip);
	uc_context_restore(v->uc, v->ctx);
}

int vk_cpu_init(struct vkvm_vcpu *v)
{
	static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
	static int checked;
	int ret;

	ret = engine_open(&v->uc);
	if (ret)
		return ret;
	if (uc_context_alloc(v->uc, &v->ctx)) {
		uc_close(v->uc);
		v->uc = NULL;
		return -ENOMEM;
	}
	pthread_mutex_lock(&once);
	if (!checked) {
		checked = calibrate(v) ? -1 : 1;
		/* the one thing a program would not otherwise learn why */
		if (checked < 0)
			fprintf(stderr, "softsev: the emulated KVM does not know "
					"this Unicorn build's CPU state layout (built "
					"for 2.1.1); KVM_CREATE_VCPU fails with ENOSYS. "
					"Rebuild softsev against Unicorn 2.1.1, or use "
					"--kvm=host where /dev/kvm exists\n");
	}
	ret = checked > 0 ? 0 : -ENOSYS;
	pthread_mutex_unlock(&once);
	if (ret) {
		uc_context_free(v->ctx);
		v->ctx = NULL;
		uc_close(v->uc);
		v->uc = NULL;
		return ret;
	}
	vk_cpu_reset(v);
	vk_cpu_intercept_msrs(v, VK_SCRATCH_GPA);
	return 0;
}

/*
 * A new engine with the old one's CPU state, for when the VMM changes a
 * vCPU's state while an exit waits inside the old engine (which can only
 * go on from where it stopped).  The caller re-adds hooks and memory.
 */
int vk_cpu_replace(struct vkvm_vcpu *v, uc_engine **old)
{
	uc_engine *uc;
	int ret = engine_open(&uc);

	if (ret)
		return ret;
	uc_context_save(v->uc, v->ctx);
	*old = v->uc;
	v->uc = uc;
	uc_context_restore(v->uc, v->ctx);
	return 0;
}
