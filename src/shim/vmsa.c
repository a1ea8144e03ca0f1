// SPDX-License-Identifier: MIT
/*
 * The SEV-ES VMSA (save area) of a vCPU, built from the real vCPU's
 * registers as Linux 6.12's sev_es_sync_vmsa() does: a copy of the VMCB's
 * save area -- which holds CR0, CR4 and EFER as svm_set_cr0/cr4/efer()
 * wrote them, not as the VMM set them -- then the registers, XCR0, DR6
 * and, for VMs of an SEV type only, the FPU.  Offsets are those of struct
 * sev_es_save_area (arch/x86/include/asm/svm.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm_compat.h"
#include "shim.h"

#define DR7_FIXED_1 0x400ull
#define CR0_CD_NW 0x60000000ull /* cleared: KVM_X86_QUIRK_CD_NW_CLEARED */
#define CR4_MCE 0x40ull /* the host's, which Linux always sets */
#define EFER_SVME 0x1000ull /* svm_set_efer() sets it in the VMCB */
#define MSR_IA32_CR_PAT 0x277
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176

static void put64(uint8_t *p, unsigned int off, uint64_t v)
{
	memcpy(p + off, &v, 8);
}

/* VMCB segment: selector, packed attributes, limit, base. */
static void put_seg(uint8_t *p, unsigned int off, const struct kvm_segment *s)
{
	uint16_t attr = (uint16_t)((s->type & 0xf) | (s->s & 1) << 4 |
				   (s->dpl & 3) << 5 | (s->present & 1) << 7 |
				   (s->avl & 1) << 8 | (s->l & 1) << 9 |
				   (s->db & 1) << 10 | (s->g & 1) << 11);

	memcpy(p + off, &s->selector, 2);
	memcpy(p + off + 2, &attr, 2);
	memcpy(p + off + 4, &s->limit, 4);
	memcpy(p + off + 8, &s->base, 8);
}

static void put_dt(uint8_t *p, unsigned int off, const struct kvm_dtable *d)
{
	uint32_t limit = d->limit;

	memset(p + off, 0, 16);
	memcpy(p + off + 4, &limit, 4);
	memcpy(p + off + 8, &d->base, 8);
}

static void msrs(int fd, uint8_t *p)
{
	static const struct {
		uint32_t index;
		unsigned int off;
	} map[] = {
		{ MSR_STAR, 0x200 },	       { MSR_LSTAR, 0x208 },
		{ MSR_CSTAR, 0x210 },	       { MSR_SYSCALL_MASK, 0x218 },
		{ MSR_KERNEL_GS_BASE, 0x220 }, { MSR_IA32_SYSENTER_CS, 0x228 },
		{ MSR_IA32_SYSENTER_ESP, 0x230 }, { MSR_IA32_SYSENTER_EIP, 0x238 },
		{ MSR_IA32_CR_PAT, 0x268 },
	};
	union {
		struct kvm_msrs hdr;
		uint8_t raw[sizeof(struct kvm_msrs) +
			    9 * sizeof(struct kvm_msr_entry)];
	} m;
	unsigned int i, n;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 9;
	for (i = 0; i < 9; i++)
		m.hdr.entries[i].index = map[i].index;
	n = (unsigned int)shim_kvm_ioctl(fd, KVM_GET_MSRS, &m);
	for (i = 0; i < n && i < 9; i++)
		put64(p, map[i].off, m.hdr.entries[i].data);
}

/*
 * The FPU as sev_es_sync_vmsa() lays it out from the XSAVE area: the x87
 * registers' bytes 0-7 in eight 8-byte slots, then bytes 8-9 of each.
 */
static void put_fpu(uint8_t *p, const struct kvm_fpu *f)
{
	uint16_t ftw = f->ftwx;
	unsigned int i;

	put64(p, 0x400, f->last_dp);
	memcpy(p + 0x408, &f->mxcsr, 4);
	memcpy(p + 0x40C, &ftw, 2);
	memcpy(p + 0x40E, &f->fsw, 2);
	memcpy(p + 0x410, &f->fcw, 2);
	memcpy(p + 0x412, &f->last_opcode, 2);
	put64(p, 0x418, f->last_ip);
	for (i = 0; i < 8; i++) {
		memcpy(p + 0x420 + 8 * i, f->fpr[i], 8);
		memcpy(p + 0x420 + 64 + 2 * i, f->fpr[i] + 8, 2);
	}
	memcpy(p + 0x470, f->xmm, 256);
}

int shim_build_vmsa(int fd, bool guest_debug, bool with_fpu, uint8_t *p)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	struct kvm_debugregs d;
	struct kvm_xcrs x;
	struct kvm_fpu f;
	unsigned int i;

	if (guest_debug)
		return -EINVAL;
	if (shim_kvm_ioctl(fd, KVM_GET_REGS, &r) ||
	    shim_kvm_ioctl(fd, KVM_GET_SREGS, &s) ||
	    shim_kvm_ioctl(fd, KVM_GET_DEBUGREGS, &d))
		return -EINVAL;
	if (d.dr7 & ~DR7_FIXED_1)
		return -EINVAL;
	memset(p, 0, 4096);
	put_seg(p, 0x000, &s.es);
	put_seg(p, 0x010, &s.cs);
	put_seg(p, 0x020, &s.ss);
	put_seg(p, 0x030, &s.ds);
	put_seg(p, 0x040, &s.fs);
	put_seg(p, 0x050, &s.gs);
	put_dt(p, 0x060, &s.gdt);
	put_seg(p, 0x070, &s.ldt);
	put_dt(p, 0x080, &s.idt);
	put_seg(p, 0x090, &s.tr);
	p[0xCB] = (uint8_t)(s.ss.dpl & 3); /* cpl */
	put64(p, 0x0D0, s.efer | EFER_SVME);
	put64(p, 0x148, s.cr4 | CR4_MCE);
	put64(p, 0x150, s.cr3);
	put64(p, 0x158, s.cr0 & ~CR0_CD_NW);
	put64(p, 0x160, d.dr7);
	put64(p, 0x168, d.dr6);
	put64(p, 0x170, r.rflags);
	put64(p, 0x178, r.rip);
	put64(p, 0x1D8, r.rsp);
	put64(p, 0x1F8, r.rax);
	put64(p, 0x240, s.cr2);
	msrs(fd, p);
	put64(p, 0x308, r.rcx);
	put64(p, 0x310, r.rdx);
	put64(p, 0x318, r.rbx);
	put64(p, 0x328, r.rbp);
	put64(p, 0x330, r.rsi);
	put64(p, 0x338, r.rdi);
	put64(p, 0x340, r.r8);
	put64(p, 0x348, r.r9);
	put64(p, 0x350, r.r10);
	put64(p, 0x358, r.r11);
	put64(p, 0x360, r.r12);
	put64(p, 0x368, r.r13);
	put64(p, 0x370, r.r14);
	put64(p, 0x378, r.r15);
	if (!shim_kvm_ioctl(fd, KVM_GET_XCRS, &x))
		for (i = 0; i < x.nr_xcrs; i++)
			if (x.xcrs[i].xcr == 0)
				put64(p, 0x3E8, x.xcrs[i].value);
	if (with_fpu && !shim_kvm_ioctl(fd, KVM_GET_FPU, &f))
		put_fpu(p, &f);
	return 0;
}
