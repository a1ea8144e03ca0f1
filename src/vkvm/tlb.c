// SPDX-License-Identifier: MIT
/*
 * Translation by vkvm, for a VM with ignored guest-physical address bits
 * (vkvm_set_pa_ignore()).  The emulator's MMU models 40 physical-address
 * bits and takes an entry with a higher bit set as reserved, so such a
 * VM's engines use Unicorn's virtual TLB (UC_TLB_VIRTUAL) and this fill
 * hook walks the guest's tables as the CPU does (KVM's paging_tmpl.h
 * walk_addr_generic() and permission_fault() follow the same rules): the
 * ignored bits cleared from CR3 and every entry, reserved bits, U/S and
 * R/W with CR0.WP, NX, SMEP, accessed and dirty bits.  Guest memory stays
 * the memslots' host memory.
 *
 * A failed walk is a #PF: the hook records it and fails the fill, the
 * engine stops at the access with its state restored, and the run loop
 * delivers the #PF (vk_tlb_fault()).  The hook is told neither the
 * access's privilege nor its exact address: CPL decides the first (so the
 * engine's implicit supervisor accesses from CPL 3 are checked as user
 * ones, and SMAP, which depends on RFLAGS.AC at each access, is not
 * modelled), and CR2 comes from decoding the instruction (decode.c).
 */
#include <errno.h>
#include <string.h>

#include "vkvm_internal.h"

#define PTE_P 1ull
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

#define PF_P 1u
#define PF_W 2u
#define PF_U 4u
#define PF_RSVD 8u
#define PF_I 16u
#define PF_GP (1u << 31) /* not a #PF: a non-canonical address */

#define CR0_PG (1ull << 31)
#define CR0_WP (1ull << 16)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_SMEP (1ull << 20)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

struct walk {
	uint64_t cr0, cr3, cr4, efer;
	uint64_t ignore;
	bool user, write, fetch;
	/* results */
	uint64_t pa;
	void *leaf; /* the entry that mapped the page */
	bool leaf32;
	bool can_w, can_u, nx;
};

static int walk_regs(struct vkvm_vcpu *v, struct walk *w)
{
	static const int ids[] = { UC_X86_REG_CR0, UC_X86_REG_CR3,
				   UC_X86_REG_CR4, UC_X86_REG_CS };
	uint64_t cs = 0;
	void *p[] = { &w->cr0, &w->cr3, &w->cr4, &cs };
	uc_x86_msr efer = { .rid = 0xc0000080 };

	if (uc_reg_read_batch(v->uc, (int *)ids, p, 4) ||
	    uc_reg_read(v->uc, UC_X86_REG_MSR, &efer))
		return -EIO;
	w->efer = efer.value;
	w->user = (cs & 3) == 3;
	w->ignore = v->vm->pa_ignore;
	return 0;
}

/* Reserved bits of a 64-bit entry at level (1 = PTE), as rsvd_bits(). */
static uint64_t rsvd64(const struct walk *w, int level, bool large, bool lm)
{
	uint64_t m = PTE_ADDR & ~((1ull << VK_PHYS_BITS) - 1) & ~w->ignore;

	if (!(w->efer & EFER_NXE))
		m |= PTE_NX;
	if (lm && level == 4)
		m |= PTE_PS;
	if (!lm && level == 3) /* PAE PDPTEs: P and the address only */
		m |= 0x1e6ull | PTE_NX;
	if (large) /* the low address bits of a large page, past PAT */
		m |= ((1ull << (12 + 9 * (level - 1))) - 1) & ~0x1fffull;
	return m;
}

/* One entry: the A bit as the CPU sets it on the way down. */
static int step(struct vkvm_vcpu *v, uint64_t gpa, size_t n, void **p,
		uint64_t *val)
{
	void *q = vk_gpa_ptr(v, gpa, n);

	if (!q)
		return -EFAULT;
	*p = q;
	if (n == 8) {
		*val = __atomic_load_n((uint64_t *)q, __ATOMIC_RELAXED);
	} else {
		uint32_t x = __atomic_load_n((uint32_t *)q, __ATOMIC_RELAXED);

		*val = x;
	}
	return 0;
}

static void set_bits(void *p, bool is32, uint64_t bits)
{
	if (is32)
		__atomic_fetch_or((uint32_t *)p, (uint32_t)bits,
				  __ATOMIC_RELAXED);
	else
		__atomic_fetch_or((uint64_t *)p, bits, __ATOMIC_RELAXED);
}

static uint64_t get_entry(const void *p, bool is32)
{
	if (is32)
		return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
	return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
}

/* PAE and long mode: 0, or the #PF error code's P/RSVD bits (+ 0x100). */
static unsigned int walk64(struct vkvm_vcpu *v, struct walk *w, uint64_t la)
{
	bool lm = w->efer & EFER_LMA;
	uint64_t table = lm ? w->cr3 & ~w->ignore & PTE_ADDR :
			      w->cr3 & 0xffffffe0ull;
	int level = lm ? 4 : 3, shift;
	uint64_t pte, idx;
	void *p;

	w->can_w = w->can_u = true;
	w->nx = false;
	for (;; level--) {
		bool large;

		shift = 12 + 9 * (level - 1);
		idx = (!lm && level == 3) ? (la >> 30) & 3 :
					    (la >> shift) & 0x1ff;
		/* tables outside memory read as all ones */
		if (step(v, table + idx * 8, 8, &p, &pte))
			return PF_P | PF_RSVD;
		if (!(pte & PTE_P))
			return 0x100;
		large = (level == 2 || (level == 3 && lm)) && (pte & PTE_PS);
		if (pte & rsvd64(w, level, large, lm))
			return PF_P | PF_RSVD;
		if (lm || level < 3) {
			w->can_w &= !!(pte & PTE_W);
			w->can_u &= !!(pte & PTE_U);
			w->nx |= (w->efer & EFER_NXE) && (pte & PTE_NX);
			set_bits(p, false, PTE_A);
		}
		table = pte & ~w->ignore & PTE_ADDR;
		if (large || level == 1)
			break;
	}
	w->pa = (table & ~((1ull << shift) - 1)) | (la & ((1ull << shift) - 1));
	w->leaf = p;
	w->leaf32 = false;
	return 0;
}

/* 32-bit paging: two levels of 4-byte entries, 4 MiB pages with PSE. */
static unsigned int walk32(struct vkvm_vcpu *v, struct walk *w, uint64_t la)
{
	uint64_t pde, pte;
	void *p;

	if (step(v, (w->cr3 & 0xfffff000ull) + ((la >> 22) & 0x3ff) * 4, 4,
		 &p, &pde))
		return PF_P | PF_RSVD;
	if (!(pde & PTE_P))
		return 0x100;
	w->can_w = pde & PTE_W;
	w->can_u = pde & PTE_U;
	w->nx = false;
	set_bits(p, true, PTE_A);
	if ((pde & PTE_PS) && (w->cr4 & CR4_PSE)) {
		w->pa = (pde & 0xffc00000ull) | (la & 0x3fffff);
		w->leaf = p;
		w->leaf32 = true;
		return 0;
	}
	if (step(v, (pde & 0xfffff000ull) + ((la >> 12) & 0x3ff) * 4, 4, &p,
		 &pte))
		return PF_P | PF_RSVD;
	if (!(pte & PTE_P))
		return 0x100;
	w->can_w &= !!(pte & PTE_W);
	w->can_u &= !!(pte & PTE_U);
	set_bits(p, true, PTE_A);
	w->pa = (pte & 0xfffff000ull) | (la & 0xfff);
	w->leaf = p;
	w->leaf32 = true;
	return 0;
}

/* What the walk allows, as permission_fault() decides it. */
static bool allowed(const struct walk *w, bool write, bool fetch)
{
	if (w->user && !w->can_u)
		return false;
	if (write && !w->can_w && (w->user || (w->cr0 & CR0_WP)))
		return false;
	if (fetch && w->nx)
		return false;
	if (fetch && !w->user && w->can_u && (w->cr4 & CR4_SMEP))
		return false;
	return true;
}

static bool canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

static bool fill(uc_engine *uc, uint64_t va, uc_mem_type type,
		 uc_tlb_entry *e, void *arg)
{
	struct vkvm_vcpu *v = arg;
	struct walk w;
	unsigned int err = 0;

	(void)uc;
	if (walk_regs(v, &w))
		return false;
	w.write = type == UC_MEM_WRITE;
	w.fetch = type == UC_MEM_FETCH;
	if (!(w.cr0 & CR0_PG)) {
		e->paddr = va & 0xffffffffull;
		e->perms = UC_PROT_ALL;
		return true;
	}
	if ((w.efer & EFER_LMA) && !canonical(va)) {
		/* the engine's walker checks this, not its translator: #GP(0) */
		if (!v->pf_pending) {
			v->pf_pending = true;
			v->pf_err = PF_GP;
		}
		return false;
	}
	err = (w.cr4 & CR4_PAE) ? walk64(v, &w, va) : walk32(v, &w, va);
	if (!err && !allowed(&w, w.write, w.fetch))
		err = PF_P;
	if (!err && (w.pa >> VK_PHYS_BITS))
		err = PF_P | PF_RSVD; /* beyond what the engine addresses */
	/* the first failure of a run is the one that stopped it */
	if (err && v->pf_pending)
		return false;
	if (err) {
		err &= 0xff;
		err |= (w.write ? PF_W : 0) | (w.user ? PF_U : 0);
		if (w.fetch && ((w.efer & EFER_NXE) || (w.cr4 & CR4_SMEP)))
			err |= PF_I;
		v->pf_pending = true;
		v->pf_err = err;
		v->pf_page = va;
		v->pf_fetch = w.fetch;
		return false;
	}
	if (w.write)
		set_bits(w.leaf, w.leaf32, PTE_D);
	e->paddr = w.pa & ~(VK_PAGE - 1);
	e->perms = UC_PROT_READ;
	/* writable only once dirty, so the first write comes back here */
	if (allowed(&w, true, false) &&
	    (w.write || (get_entry(w.leaf, w.leaf32) & PTE_D)))
		e->perms |= UC_PROT_WRITE;
	if (allowed(&w, false, true))
		e->perms |= UC_PROT_EXEC;
	return true;
}

/* The VM translates through vkvm: this engine's TLB is vkvm's. */
int vk_tlb_enable(struct vkvm_vcpu *v)
{
	uc_hook h;

	if (v->tlb_on || !v->vm->pa_ignore)
		return 0;
	/*
	 * The engine looks its run's end address up in the TLB when a run
	 * ends, and a failed fill there is not recoverable: an engine using
	 * the exits list, left empty, has no end address (vkvm never used
	 * one: its runs end by hooks, HLT and stops).
	 */
	if (uc_ctl_exits_enable(v->uc) ||
	    uc_ctl_tlb_mode(v->uc, UC_TLB_VIRTUAL) ||
	    uc_hook_add(v->uc, &h, UC_HOOK_TLB_FILL, fill, v, 1, 0))
		return -ENOMEM;
	uc_ctl_flush_tlb(v->uc);
	v->tlb_on = true;
	return 0;
}

/*
 * After the engine stopped on a failed fill: the #PF to deliver, with CR2
 * at the faulting address (the instruction's operand in that page, or the
 * page itself).  False if no fill failed in this run.
 */
bool vk_tlb_fault(struct vkvm_vcpu *v)
{
	uint64_t rip, csbase, la, cr2;

	if (!v->pf_pending)
		return false;
	v->pf_pending = false;
	uc_reg_read(v->uc, UC_X86_REG_RIP, &rip);
	v->why = VK_INTR;
	v->exc_soft = false;
	v->exc_next = rip;
	if (v->pf_err == PF_GP) {
		v->intno = 13;
		v->exc_err = 0;
		return true;
	}
	vk_cpu_code_bits(v, &csbase);
	la = rip + csbase;
	if (v->pf_fetch)
		cr2 = (la & ~(VK_PAGE - 1)) == v->pf_page ? la : v->pf_page;
	else if (vk_insn_mem_la(v, la, v->pf_page, &cr2))
		cr2 = v->pf_page;
	vk_cpu_set_cr2(v, cr2);
	v->intno = 14;
	v->exc_err = v->pf_err;
	return true;
}

int vkvm_set_pa_ignore(int fd, uint64_t mask)
{
	struct vkvm_vm *vm = vk_vm_of(fd);
	int ret = 0;

	if (!vm)
		return -EBADF;
	if (mask & ~PTE_ADDR)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	if (__atomic_load_n(&vm->ran, __ATOMIC_ACQUIRE))
		ret = -EBUSY;
	else
		vm->pa_ignore = mask;
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

int vkvm_set_platform_cpuid_ebx(int fd, uint32_t function, uint32_t mask,
				uint32_t ebx)
{
	struct vkvm_vm *vm = vk_vm_of(fd);
	int ret = 0;

	if (!vm)
		return -EBADF;
	pthread_mutex_lock(&vm->lock);
	if (__atomic_load_n(&vm->ran, __ATOMIC_ACQUIRE)) {
		ret = -EBUSY;
	} else {
		vm->plat_cpuid_fn = function;
		vm->plat_cpuid_mask = mask;
		vm->plat_cpuid_ebx = ebx & mask;
	}
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

/* The platform is fixed at a VM's first KVM_RUN; each engine follows it. */
int vk_platform_fix(struct vkvm_vcpu *v)
{
	struct vkvm_vm *vm = v->vm;

	if (!__atomic_load_n(&vm->ran, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&vm->lock);
		__atomic_store_n(&vm->ran, true, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&vm->lock);
	}
	vk_prot_engine(v);
	return vk_tlb_enable(v);
}
