// SPDX-License-Identifier: MIT
/* vCPU objects and their ioctls: kvm_vcpu_ioctl(), kvm_arch_vcpu_ioctl(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vkvm_internal.h"


struct vkvm_vcpu *vk_vcpu_new(struct vkvm_vm *vm, int id, int *err)
{
	struct vkvm_vcpu *v = calloc(1, sizeof(*v));
	char name[32];

	if (!v) {
		*err = -ENOMEM;
		return NULL;
	}
	v->vm = vm;
	v->id = id;
	v->refs = 1;
	v->irq = -1;
	v->exc_queued = -1;
	snprintf(name, sizeof(name), "kvm-vcpu:%d", id);
	v->fd = memfd_create(name, MFD_CLOEXEC);
	if (v->fd < 0 || ftruncate(v->fd, VK_RUN_SIZE)) {
		*err = -EMFILE;
		goto fail;
	}
	v->run = mmap(NULL, VK_RUN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		*err = -ENOMEM;
		goto fail;
	}
	*err = vk_cpu_init(v);
	if (!*err)
		*err = vk_run_hooks(v);
	if (!*err)
		return v;
fail:
	vk_vcpu_free(v);
	return NULL;
}

void vk_vcpu_free(struct vkvm_vcpu *v)
{
	if (!v)
		return;
	vk_run_release(v);
	vk_decode_free(v);
	if (v->ctx)
		uc_context_free(v->ctx);
	if (v->uc)
		uc_close(v->uc);
	if (v->run)
		munmap(v->run, VK_RUN_SIZE);
	/* the descriptor itself belongs to the program; it closed it */
	free(v);
}

static int get_msr_cb(void *ctx, uint32_t index, uint64_t *data)
{
	return vk_get_msr(ctx, index, data) ? 1 : 0;
}

static int set_msr_cb(void *ctx, uint32_t index, uint64_t *data)
{
	return vk_set_msr(ctx, index, *data) ? 1 : 0;
}

static long set_cpuid2(struct vkvm_vcpu *v, struct kvm_cpuid2 *u)
{
	struct kvm_cpuid2 hdr;

	if (vk_copy_in(&hdr, u, sizeof(hdr)))
		return -EFAULT;
	if (hdr.nent > VK_MAX_CPUID) /* kvm_vcpu_ioctl_set_cpuid2() */
		return -E2BIG;
	if (vk_copy_in(v->cpuid, VK_UFIELD(u, struct kvm_cpuid2, entries), hdr.nent * sizeof(v->cpuid[0])))
		return -EFAULT;
	v->ncpuid = (int)hdr.nent;
	return 0;
}

static long get_cpuid2(struct vkvm_vcpu *v, struct kvm_cpuid2 *u)
{
	struct kvm_cpuid2 hdr;

	if (vk_copy_in(&hdr, u, sizeof(hdr)))
		return -EFAULT;
	if (hdr.nent < (uint32_t)v->ncpuid) /* kvm_vcpu_ioctl_get_cpuid2() */
		return -E2BIG;
	if (vk_copy_out(VK_UFIELD(u, struct kvm_cpuid2, entries), v->cpuid, (size_t)v->ncpuid *
						      sizeof(v->cpuid[0])))
		return -EFAULT;
	hdr.nent = (uint32_t)v->ncpuid;
	return vk_copy_out(u, &hdr, sizeof(hdr));
}

static long set_signal_mask(struct vkvm_vcpu *v, struct kvm_signal_mask *u)
{
	struct kvm_signal_mask hdr;
	uint64_t bits;
	int s;

	if (!u) {
		v->sigmask_set = false;
		return 0;
	}
	if (vk_copy_in(&hdr, u, sizeof(hdr)))
		return -EFAULT;
	if (hdr.len != 8) /* the kernel's sigset_t */
		return -EINVAL;
	if (vk_copy_in(&bits, VK_UFIELD(u, struct kvm_signal_mask, sigset), 8))
		return -EFAULT;
	sigemptyset(&v->sigmask);
	for (s = 1; s <= 64 && s < NSIG; s++)
		if (bits & (1ull << (s - 1)))
			sigaddset(&v->sigmask, s);
	v->sigmask_set = true;
	return 0;
}

/*
 * kvm_arch_vcpu_ioctl_set_guest_debug() (6.12): unknown control bits are
 * not refused; INJECT_DB/INJECT_BP queue #DB/#BP for the next run, EBUSY
 * while one is still queued; without ENABLE, debugging is off.
 */
static long set_guest_debug(struct vkvm_vcpu *v, void *arg)
{
	struct kvm_guest_debug d;

	if (vk_copy_in(&d, arg, sizeof(d)))
		return -EFAULT;
	if (d.control & (KVM_GUESTDBG_INJECT_DB | KVM_GUESTDBG_INJECT_BP)) {
		if (v->exc_queued >= 0)
			return -EBUSY;
		v->exc_queued = d.control & KVM_GUESTDBG_INJECT_DB ? 1 : 3;
		v->exc_q_has_err = false;
	}
	if (!(d.control & KVM_GUESTDBG_ENABLE))
		d.control = 0;
	v->dbg = d;
	return 0;
}

static long interrupt(struct vkvm_vcpu *v, void *arg)
{
	struct kvm_interrupt irq;

	if (vk_copy_in(&irq, arg, sizeof(irq)))
		return -EFAULT;
	if (irq.irq >= 256) /* kvm_vcpu_ioctl_interrupt() */
		return -EINVAL;
	if (v->vm->irqchip)
		return -ENXIO;
	v->irq = (int)irq.irq;
	return 0;
}

static long mp_state_set(struct vkvm_vcpu *v, void *arg)
{
	struct kvm_mp_state m;

	if (vk_copy_in(&m, arg, sizeof(m)))
		return -EFAULT;
	if (m.mp_state > KVM_MP_STATE_AP_RESET_HOLD)
		return -EINVAL;
	v->mp_state = m.mp_state;
	return 0;
}

/*
 * kvm_caps.max_guest_tsc_khz (kvm_x86_vendor_init()): the host rate
 * scaled by SVM_TSC_RATIO_MAX (8.32 fixed point), at most INT_MAX.
 */
static uint32_t max_guest_tsc_khz(uint32_t host_khz)
{
	uint64_t max = ((uint64_t)host_khz * 0xffffffffffull) >> 32;

	return max > 0x7fffffff ? 0x7fffffff : (uint32_t)max;
}

static long setup_mce(struct vkvm_vcpu *v, void *arg)
{
	uint64_t cap;
	unsigned int banks;

	if (vk_copy_in(&cap, arg, sizeof(cap)))
		return -EFAULT;
	banks = cap & 0xff; /* kvm_vcpu_ioctl_x86_setup_mce() */
	if (!banks || banks > 32)
		return -EINVAL;
	if (cap & ~(0xffull | 0xff0000ull | (1ull << 24) | (1ull << 8)))
		return -EINVAL;
	v->mce_cap = cap;
	return 0;
}

static long xcrs_set(struct vkvm_vcpu *v, void *arg)
{
	struct kvm_xcrs x;
	uint32_t i;

	if (vk_copy_in(&x, arg, sizeof(x)))
		return -EFAULT;
	if (x.nr_xcrs > KVM_MAX_XCRS || x.flags)
		return -EINVAL;
	for (i = 0; i < x.nr_xcrs; i++)
		if (x.xcrs[i].xcr == 0) {
			/* __kvm_set_xcr(): x87 always, only what is offered */
			if (!(x.xcrs[i].value & 1) || (x.xcrs[i].value & ~3ull))
				return -EINVAL;
			v->xcr0 = x.xcrs[i].value;
		}
	return 0;
}

static long xcrs_get(struct vkvm_vcpu *v, void *arg)
{
	struct kvm_xcrs x;

	memset(&x, 0, sizeof(x));
	x.nr_xcrs = 1;
	x.xcrs[0].xcr = 0;
	x.xcrs[0].value = v->xcr0;
	return vk_copy_out(arg, &x, sizeof(x));
}

/* The legacy region of XSAVE from the FPU state, and back. */
static long xsave_get(struct vkvm_vcpu *v, void *arg)
{
	struct kvm_xsave *x = calloc(1, sizeof(*x));
	struct kvm_fpu f;
	uint8_t *p;
	long ret;

	if (!x)
		return -ENOMEM;
	p = (uint8_t *)x->region;
	vk_get_fpu(v, &f);
	memcpy(p + 0, &f.fcw, 2);
	memcpy(p + 2, &f.fsw, 2);
	p[4] = f.ftwx;
	memcpy(p + 6, &f.last_opcode, 2);
	memcpy(p + 8, &f.last_ip, 8);
	memcpy(p + 16, &f.last_dp, 8);
	memcpy(p + 24, &f.mxcsr, 4);
	{
		uint32_t mask = 0xffff;

		memcpy(p + 28, &mask, 4);
	}
	for (int i = 0; i < 8; i++)
		memcpy(p + 32 + 16 * i, f.fpr[i], 16);
	memcpy(p + 160, f.xmm, 256);
	{
		uint64_t bv = 3;

		memcpy(p + 512, &bv, 8);
	}
	ret = vk_copy_out(arg, x, sizeof(*x));
	free(x);
	return ret;
}

static long xsave_set(struct vkvm_vcpu *v, void *arg)
{
	struct kvm_xsave *x = calloc(1, sizeof(*x));
	struct kvm_fpu f;
	uint8_t *p;

	if (!x)
		return -ENOMEM;
	if (vk_copy_in(x, arg, sizeof(*x))) {
		free(x);
		return -EFAULT;
	}
	p = (uint8_t *)x->region;
	memset(&f, 0, sizeof(f));
	memcpy(&f.fcw, p + 0, 2);
	memcpy(&f.fsw, p + 2, 2);
	f.ftwx = p[4];
	memcpy(&f.last_opcode, p + 6, 2);
	memcpy(&f.last_ip, p + 8, 8);
	memcpy(&f.last_dp, p + 16, 8);
	memcpy(&f.mxcsr, p + 24, 4);
	for (int i = 0; i < 8; i++)
		memcpy(f.fpr[i], p + 32 + 16 * i, 16);
	memcpy(f.xmm, p + 160, 256);
	free(x);
	vk_set_fpu(v, &f);
	return 0;
}

static long lapic(struct vkvm_vcpu *v, unsigned long req, void *arg)
{
	if (!v->vm->irqchip) /* no in-kernel APIC: kvm_arch_vcpu_ioctl() */
		return -EINVAL;
	if (req == KVM_GET_LAPIC)
		return vk_copy_out(arg, &v->lapic, sizeof(v->lapic));
	return vk_copy_in(&v->lapic, arg, sizeof(v->lapic));
}

/*
 * kvm_vcpu_ioctl_x86_get_vcpu_events(): without KVM_CAP_EXCEPTION_PAYLOAD
 * a queued exception reads as injected.
 */
static long events_get(struct vkvm_vcpu *v, void *arg)
{
	struct kvm_vcpu_events e;

	memset(&e, 0, sizeof(e));
	e.exception.injected = v->exc_queued >= 0;
	e.exception.nr = (uint8_t)(v->exc_queued >= 0 ? v->exc_queued : 0);
	e.exception.has_error_code = v->exc_q_has_err;
	e.exception.error_code = v->exc_q_err;
	e.interrupt.injected = v->irq >= 0;
	e.interrupt.nr = (uint8_t)(v->irq >= 0 ? v->irq : 0);
	e.nmi.pending = v->nmi;
	e.flags = KVM_VCPUEVENT_VALID_SHADOW;
	return vk_copy_out(arg, &e, sizeof(e));
}

/*
 * kvm_vcpu_ioctl_x86_set_vcpu_events() (6.12), its checks in order.  The
 * exception payload capability is never enabled here, so PAYLOAD is
 * EINVAL and a "pending" exception is dropped; an injected one is
 * delivered at the next KVM_RUN.
 */
static long events_set(struct vkvm_vcpu *v, void *arg)
{
	struct kvm_vcpu_events e;

	if (vk_copy_in(&e, arg, sizeof(e)))
		return -EFAULT;
	if (e.flags & ~(uint32_t)(KVM_VCPUEVENT_VALID_NMI_PENDING |
				  KVM_VCPUEVENT_VALID_SIPI_VECTOR |
				  KVM_VCPUEVENT_VALID_SHADOW |
				  KVM_VCPUEVENT_VALID_SMM |
				  KVM_VCPUEVENT_VALID_PAYLOAD |
				  KVM_VCPUEVENT_VALID_TRIPLE_FAULT))
		return -EINVAL;
	if (e.flags & KVM_VCPUEVENT_VALID_PAYLOAD)
		return -EINVAL;
	if (e.exception.injected && (e.exception.nr > 31 || e.exception.nr == 2))
		return -EINVAL;
	if ((e.flags & KVM_VCPUEVENT_VALID_SMM) &&
	    (e.smi.smm || e.smi.pending) &&
	    v->mp_state == KVM_MP_STATE_INIT_RECEIVED)
		return -EINVAL;
	v->exc_queued = e.exception.injected ? e.exception.nr : -1;
	v->exc_q_has_err = e.exception.has_error_code;
	v->exc_q_err = e.exception.error_code;
	v->irq = e.interrupt.injected ? e.interrupt.nr : -1;
	if (e.flags & KVM_VCPUEVENT_VALID_NMI_PENDING)
		v->nmi = e.nmi.pending;
	return 0;
}

/* Copy a fixed-size state struct out of or into a getter/setter. */
#define GET(type, fn)                                 \
	do {                                          \
		type s_;                              \
		fn(v, &s_);                           \
		return vk_copy_out(arg, &s_, sizeof(s_)); \
	} while (0)
#define SET(type, fn)                                  \
	do {                                           \
		type s_;                               \
		if (vk_copy_in(&s_, arg, sizeof(s_)))  \
			return -EFAULT;                \
		fn(v, &s_);                            \
		return 0;                              \
	} while (0)

static int set_sregs_checked(struct vkvm_vcpu *v, struct kvm_sregs *s);

long vk_vcpu_ioctl(struct vkvm_vcpu *v, unsigned long req, void *arg)
{
	struct kvm_sregs sr;
	struct kvm_mp_state mp;
	uint32_t khz;

	switch (req) {
	case KVM_SET_REGS:
	case KVM_SET_SREGS:
	case KVM_SET_FPU:
	case KVM_SET_DEBUGREGS:
	case KVM_SET_MSRS:
	case KVM_SET_XSAVE:
	case KVM_SET_VCPU_EVENTS:
		/* state an exit waiting in the engine would not see */
		if (v->in_hook && vk_abandon(v))
			return -ENOMEM;
		break;
	}
	switch (req) {
	case KVM_RUN:
		if (arg) /* kvm_vcpu_ioctl() */
			return -EINVAL;
		return vk_run(v);
	case KVM_GET_REGS:
		GET(struct kvm_regs, vk_get_regs);
	case KVM_SET_REGS:
		SET(struct kvm_regs, vk_set_regs);
	case KVM_GET_SREGS:
		GET(struct kvm_sregs, vk_get_sregs);
	case KVM_SET_SREGS:
		if (vk_copy_in(&sr, arg, sizeof(sr)))
			return -EFAULT;
		return set_sregs_checked(v, &sr);
	case KVM_GET_FPU:
		GET(struct kvm_fpu, vk_get_fpu);
	case KVM_SET_FPU:
		SET(struct kvm_fpu, vk_set_fpu);
	case KVM_GET_DEBUGREGS:
		GET(struct kvm_debugregs, vk_get_debugregs);
	case KVM_SET_DEBUGREGS:
		SET(struct kvm_debugregs, vk_set_debugregs);
	case KVM_GET_MSRS:
		return vk_msr_io(arg, get_msr_cb, v, true);
	case KVM_SET_MSRS:
		return vk_msr_io(arg, set_msr_cb, v, false);
	case KVM_SET_CPUID2:
		return set_cpuid2(v, arg);
	case KVM_GET_CPUID2:
		return get_cpuid2(v, arg);
	case KVM_GET_XSAVE:
	/* KVM_GET_XSAVE2 copies guest_fpu.uabi_size bytes: 4096 here */
	case KVM_GET_XSAVE2:
		return xsave_get(v, arg);
	case KVM_SET_XSAVE:
		return xsave_set(v, arg);
	case KVM_GET_XCRS:
		return xcrs_get(v, arg);
	case KVM_SET_XCRS:
		return xcrs_set(v, arg);
	case KVM_GET_LAPIC:
	case KVM_SET_LAPIC:
		return lapic(v, req, arg);
	case KVM_GET_VCPU_EVENTS:
	case KVM_SET_VCPU_EVENTS:
		return req == KVM_GET_VCPU_EVENTS ? events_get(v, arg) :
						    events_set(v, arg);
	case KVM_GET_MP_STATE:
		mp.mp_state = v->mp_state;
		return vk_copy_out(arg, &mp, sizeof(mp));
	case KVM_SET_MP_STATE:
		return mp_state_set(v, arg);
	case KVM_INTERRUPT:
		return interrupt(v, arg);
	case KVM_NMI:
		v->nmi = true;
		return 0;
	case KVM_SET_SIGNAL_MASK:
		return set_signal_mask(v, arg);
	case KVM_SET_GUEST_DEBUG:
		return set_guest_debug(v, arg);
	case KVM_X86_SETUP_MCE:
		return setup_mce(v, arg);
	case KVM_GET_TSC_KHZ:
		return v->tsc_khz ? v->tsc_khz : v->vm->tsc_khz;
	case KVM_SET_TSC_KHZ:
		khz = (uint32_t)(unsigned long)arg;
		if (khz >= max_guest_tsc_khz(v->vm->tsc_khz))
			return -EINVAL;
		v->tsc_khz = khz ? khz : v->vm->tsc_khz;
		return 0;
	}
	return -EINVAL; /* kvm_arch_vcpu_ioctl() */
}

/* kvm_is_valid_sregs() before __set_sregs_common(). */
static int set_sregs_checked(struct vkvm_vcpu *v, struct kvm_sregs *s)
{
	bool lme_pg = (s->efer & (1ull << 8)) && (s->cr0 & (1ull << 31));

	if (lme_pg) {
		if (!(s->cr4 & (1ull << 5)) || !(s->efer & (1ull << 10)) ||
		    (s->cr3 >> VK_PHYS_BITS))
			return -EINVAL;
	} else if ((s->efer & (1ull << 10)) || s->cs.l) {
		return -EINVAL;
	}
	/* kvm_is_valid_cr0(): PG without PE, NW without CD, high bits */
	if (((s->cr0 & (1ull << 31)) && !(s->cr0 & 1)) ||
	    ((s->cr0 & (1ull << 29)) && !(s->cr0 & (1ull << 30))) ||
	    (s->cr0 >> 32))
		return -EINVAL;
	if (s->efer & ~0xd01ull) /* kvm_valid_efer(): SCE LME LMA NXE */
		return -EINVAL;
	vk_set_sregs(v, s);
	return 0;
}
