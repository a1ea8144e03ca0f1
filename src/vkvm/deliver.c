// SPDX-License-Identifier: MIT
/*
 * Exceptions and interrupts through the guest's own IVT or IDT.  The
 * emulator reports an exception but never delivers it (there is no
 * injection API), so vkvm does what the CPU does: read the gate, switch
 * stacks on a privilege change, push the frame, load CS:RIP.  A fault
 * while delivering becomes #DF; a fault while delivering #DF is a triple
 * fault, which the caller turns into KVM_EXIT_SHUTDOWN.
 */
#include <errno.h>
#include <string.h>

#include "vkvm_internal.h"

#define PTE_P 1ull
#define PTE_PS (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull

void *vk_gpa_ptr(struct vkvm_vcpu *v, uint64_t gpa, size_t n)
{
	const struct vkvm_slot *s;
	void *p = NULL;

	pthread_mutex_lock(&v->vm->lock);
	s = vk_slot_find(v->vm, gpa);
	if (s && gpa + n <= s->gpa + s->size)
		p = (void *)(uintptr_t)(s->hva + (gpa - s->gpa));
	pthread_mutex_unlock(&v->vm->lock);
	return p;
}

/*
 * An entry, read where the CPU's walk reads it (the private copy, with a
 * private view); *priv: whether it has the private-view bit.
 */
static int read_pte(struct vkvm_vcpu *v, uint64_t gpa, uint64_t *pte,
		    bool pae, bool *priv)
{
	void *p = vk_mem_ptr(v, gpa, pae ? 8 : 4, true, false);
	uint32_t x;

	*priv = false;
	if (!p)
		return -EFAULT;
	if (pae) {
		memcpy(pte, p, 8);
		*priv = v->vm->priv_bit && (*pte & v->vm->priv_bit);
		*pte &= ~v->vm->pa_ignore; /* vkvm_set_pa_ignore() */
	} else {
		memcpy(&x, p, 4);
		*pte = x;
	}
	return 0;
}

/*
 * Linear to guest-physical, as the page walk does (no access checks);
 * *priv: whether the access is private (a private view: the leaf entry
 * has the bit, or paging is off).
 */
static int translate_priv(struct vkvm_vcpu *v, const struct kvm_sregs *s,
			  uint64_t la, uint64_t *gpa, bool *priv)
{
	uint64_t pte, table = s->cr3 & ~v->vm->pa_ignore & PTE_ADDR;
	bool pae = s->cr4 & (1ull << 5);
	int level, shift;

	*priv = true;
	if (!(s->cr0 & (1ull << 31))) {
		*gpa = la & 0xffffffffull;
		return 0;
	}
	if (!pae) { /* two levels of 32-bit entries */
		table = s->cr3 & 0xfffff000ull;
		if (read_pte(v, table + ((la >> 22) & 0x3ff) * 4, &pte, false, priv) ||
		    !(pte & PTE_P))
			return -EFAULT;
		if ((pte & PTE_PS) && (s->cr4 & (1ull << 4))) {
			*gpa = (pte & 0xffc00000ull) | (la & 0x3fffff);
			return 0;
		}
		if (read_pte(v, (pte & 0xfffff000ull) + ((la >> 12) & 0x3ff) * 4,
			     &pte, false, priv) ||
		    !(pte & PTE_P))
			return -EFAULT;
		*gpa = (pte & 0xfffff000ull) | (la & 0xfff);
		return 0;
	}
	level = (s->efer & (1ull << 10)) ? 4 : 3;
	if (level == 3)
		table = s->cr3 & 0xffffffe0ull;
	for (; level >= 1; level--) {
		shift = 12 + 9 * (level - 1);
		if (level == 3 && !(s->efer & (1ull << 10))) {
			if (read_pte(v, table + ((la >> 30) & 3) * 8, &pte, true, priv))
				return -EFAULT;
		} else if (read_pte(v, table + ((la >> shift) & 0x1ff) * 8,
				    &pte, true, priv)) {
			return -EFAULT;
		}
		if (!(pte & PTE_P))
			return -EFAULT;
		if ((level == 2 || level == 3) && (pte & PTE_PS)) {
			uint64_t mask = (1ull << shift) - 1;

			*gpa = ((pte & PTE_ADDR) & ~mask) | (la & mask);
			return 0;
		}
		table = pte & PTE_ADDR;
	}
	*gpa = table | (la & 0xfff);
	return 0;
}

static int translate(struct vkvm_vcpu *v, const struct kvm_sregs *s,
		     uint64_t la, uint64_t *gpa)
{
	bool priv;

	return translate_priv(v, s, la, gpa, &priv);
}

int vk_linear_to_gpa(struct vkvm_vcpu *v, uint64_t la, uint64_t *gpa)
{
	struct kvm_sregs s;

	vk_get_sregs(v, &s);
	return translate(v, &s, la, gpa);
}

/* fetch: an instruction fetch's read, private with a private view */
static int access_linear(struct vkvm_vcpu *v, uint64_t la, void *buf,
			 size_t n, bool write, bool fetch)
{
	struct kvm_sregs s;
	uint8_t *b = buf;

	vk_get_sregs(v, &s);
	while (n) {
		size_t chunk = VK_PAGE - (la & (VK_PAGE - 1));
		uint64_t gpa;
		bool priv;
		void *p;

		if (chunk > n)
			chunk = n;
		if (translate_priv(v, &s, la, &gpa, &priv))
			return -EFAULT;
		p = vk_mem_ptr(v, gpa, chunk, priv || fetch, write);
		if (!p)
			return -EFAULT;
		if (write)
			memcpy(p, b, chunk);
		else
			memcpy(b, p, chunk);
		/* the host changed guest memory: drop stale translations */
		if (write)
			uc_ctl_remove_cache(v->uc, la, la + chunk);
		la += chunk;
		b += chunk;
		n -= chunk;
	}
	return 0;
}

int vk_read_linear(struct vkvm_vcpu *v, uint64_t la, void *buf, size_t n)
{
	return access_linear(v, la, buf, n, false, false);
}

int vk_fetch_linear(struct vkvm_vcpu *v, uint64_t la, void *buf, size_t n)
{
	return access_linear(v, la, buf, n, false, true);
}

int vk_write_linear(struct vkvm_vcpu *v, uint64_t la, const void *buf,
		    size_t n)
{
	return access_linear(v, la, (void *)buf, n, true, false);
}

static bool has_error_code(unsigned int vec)
{
	return vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 ||
	       vec == 21 || vec == 29 || vec == 30;
}

/* A code or data descriptor from the GDT/LDT into a kvm_segment. */
static int load_desc(struct vkvm_vcpu *v, const struct kvm_sregs *s,
		     uint16_t sel, struct kvm_segment *seg)
{
	const struct kvm_dtable *t = &s->gdt;
	uint64_t base = t->base, d;
	uint32_t limit = t->limit;

	if (sel & 4) {
		base = s->ldt.base;
		limit = s->ldt.limit;
	}
	if ((sel & ~7u) == 0 || (uint32_t)(sel | 7) > limit)
		return -EFAULT;
	if (vk_read_linear(v, base + (sel & ~7u), &d, 8))
		return -EFAULT;
	if (!(d & (1ull << 47)))
		return -EFAULT;
	memset(seg, 0, sizeof(*seg));
	seg->selector = sel;
	seg->base = ((d >> 16) & 0xffffff) | ((d >> 56) & 0xff) << 24;
	seg->limit = (uint32_t)((d & 0xffff) | ((d >> 48) & 0xf) << 16);
	seg->type = (d >> 40) & 15;
	seg->s = (d >> 44) & 1;
	seg->dpl = (d >> 45) & 3;
	seg->present = 1;
	seg->avl = (d >> 52) & 1;
	seg->l = (d >> 53) & 1;
	seg->db = (d >> 54) & 1;
	seg->g = (d >> 55) & 1;
	if (seg->g)
		seg->limit = seg->limit << 12 | 0xfff;
	return 0;
}

static int push(struct vkvm_vcpu *v, uint64_t base, uint64_t *sp,
		uint64_t mask, uint64_t val, size_t n)
{
	*sp = (*sp - n) & mask;
	return vk_write_linear(v, base + *sp, &val, n);
}

static int real_mode(struct vkvm_vcpu *v, struct kvm_regs *r,
		     struct kvm_sregs *s, unsigned int vec, uint64_t ret_ip)
{
	uint16_t ivt[2];
	uint64_t sp = r->rsp & 0xffff;

	if (vec * 4 + 3 > s->idt.limit ||
	    vk_read_linear(v, s->idt.base + vec * 4, ivt, 4))
		return -EFAULT;
	if (push(v, s->ss.base, &sp, 0xffff, r->rflags, 2) ||
	    push(v, s->ss.base, &sp, 0xffff, s->cs.selector, 2) ||
	    push(v, s->ss.base, &sp, 0xffff, ret_ip, 2))
		return -EFAULT;
	r->rsp = (r->rsp & ~0xffffull) | sp;
	r->rflags &= ~((1ull << 9) | (1ull << 8) | (1ull << 18));
	r->rip = ivt[0];
	s->cs.selector = ivt[1];
	s->cs.base = (uint64_t)ivt[1] << 4;
	return 0;
}

/* Protected or long mode: the IDT gate, stack switch, frame. */
static int prot_mode(struct vkvm_vcpu *v, struct kvm_regs *r,
		     struct kvm_sregs *s, unsigned int vec, bool has_err,
		     uint32_t err, bool soft, uint64_t ret_ip)
{
	bool lm = s->efer & (1ull << 10);
	unsigned int gsize = lm ? 16 : 8, cpl = s->ss.dpl, type, dpl;
	uint64_t g[2] = { 0, 0 }, off, sp, ss_base, mask, ostack[2];
	struct kvm_segment cs, ss;
	uint16_t sel;
	size_t w;
	int ist;

	if (vec * gsize + gsize - 1 > s->idt.limit ||
	    vk_read_linear(v, s->idt.base + vec * gsize, g, gsize))
		return -EFAULT;
	type = (g[0] >> 40) & 15;
	dpl = (g[0] >> 45) & 3;
	if (!(g[0] & (1ull << 47)) || (type != 14 && type != 15))
		return -EFAULT; /* task gates and 16-bit gates: not modelled */
	if (soft && dpl < cpl)
		return -EFAULT;
	sel = (uint16_t)(g[0] >> 16);
	off = (g[0] & 0xffff) | ((g[0] >> 48) & 0xffff) << 16;
	if (lm)
		off |= (g[1] & 0xffffffff) << 32;
	if (load_desc(v, s, sel, &cs) || !(cs.type & 8))
		return -EFAULT;
	ss = s->ss;
	sp = r->rsp;
	ostack[0] = s->ss.selector;
	ostack[1] = r->rsp;
	ist = lm ? (int)((g[0] >> 32) & 7) : 0;
	if (cs.dpl < cpl || ist) {
		uint64_t tss = s->tr.base, nsp = 0;

		if (lm) {
			size_t at = ist ? 0x24 + 8 * (ist - 1) : 4 + 8 * cs.dpl;

			if (vk_read_linear(v, tss + at, &nsp, 8))
				return -EFAULT;
			if (cs.dpl < cpl) {
				memset(&ss, 0, sizeof(ss));
				ss.selector = (uint16_t)cs.dpl;
				ss.unusable = 1;
				ss.dpl = cs.dpl;
			}
		} else {
			uint32_t esp;
			uint16_t nss;

			if (vk_read_linear(v, tss + 4 + 8 * cs.dpl, &esp, 4) ||
			    vk_read_linear(v, tss + 8 + 8 * cs.dpl, &nss, 2) ||
			    load_desc(v, s, nss, &ss))
				return -EFAULT;
			nsp = esp;
		}
		sp = lm ? (nsp & ~0xfull) : nsp;
	} else if (lm) {
		sp &= ~0xfull;
	}
	w = lm ? 8 : 4;
	mask = lm ? ~0ull : (ss.db ? 0xffffffffull : 0xffff);
	ss_base = lm ? 0 : ss.base;
	if (lm || cs.dpl < cpl) {
		if (push(v, ss_base, &sp, mask, ostack[0], w) ||
		    push(v, ss_base, &sp, mask, ostack[1], w))
			return -EFAULT;
	}
	if (push(v, ss_base, &sp, mask, r->rflags, w) ||
	    push(v, ss_base, &sp, mask, s->cs.selector, w) ||
	    push(v, ss_base, &sp, mask, ret_ip, w))
		return -EFAULT;
	if (has_err && push(v, ss_base, &sp, mask, err, w))
		return -EFAULT;
	cs.selector = (uint16_t)((sel & ~3u) | cs.dpl);
	s->cs = cs;
	ss.dpl = cs.dpl;
	s->ss = ss;
	r->rsp = lm ? sp : ((r->rsp & ~mask) | (sp & mask));
	r->rip = off;
	/* interrupt gates clear IF; all clear TF, NT, RF and VM */
	r->rflags &= ~((1ull << 8) | (1ull << 14) | (1ull << 16) |
		       (1ull << 17));
	if (type == 14)
		r->rflags &= ~(1ull << 9);
	return 0;
}

/*
 * Deliver vector vec: 0 on success, -EFAULT when even #DF could not be
 * delivered (a triple fault).  next_rip is where a software interrupt
 * returns to; faults return to the faulting instruction.
 */
int vk_deliver(struct vkvm_vcpu *v, unsigned int vec, bool has_err,
	       uint32_t err, bool soft, uint64_t next_rip)
{
	struct kvm_regs r, r0;
	struct kvm_sregs s, s0;
	int tries;

	vk_get_regs(v, &r0);
	vk_get_sregs(v, &s0);
	for (tries = 0; tries < 2; tries++) {
		int ret;

		r = r0;
		s = s0;
		if (!(s.cr0 & 1))
			ret = real_mode(v, &r, &s, vec, soft ? next_rip : r.rip);
		else
			ret = prot_mode(v, &r, &s, vec,
					has_err && has_error_code(vec), err,
					soft, soft ? next_rip : r.rip);
		if (!ret) {
			vk_set_sregs(v, &s);
			vk_set_regs(v, &r);
			vk_cpu_clear_exception(v);
			return 0;
		}
		if (vec == 8)
			break;
		vec = 8;
		has_err = true;
		err = 0;
		soft = false;
	}
	return -EFAULT;
}
