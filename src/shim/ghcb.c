// SPDX-License-Identifier: MIT
/*
 * SEV-ES's hypervisor half on the emulated backend: what Linux 6.12's
 * sev_handle_vmgexit() (arch/x86/kvm/svm/sev.c) and the exit handlers it
 * calls do with a VMGEXIT, on vkvm's exit services.  vkvm is the CPU (it
 * turns exits into #VC and calls shim_vmgexit() on VMGEXIT); this file is
 * KVM.  The registers a GHCB carries live in struct es_vcpu as they do in
 * vcpu->arch.regs, and go back to the GHCB when the guest is next entered
 * (sev_es_unmap_ghcb() from svm_prepare_switch_to_guest()): after the
 * VMM's part of an exit is complete, so the data of an IN lands in RAX.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kvm.h>
#include <linux/kvm_para.h>

#include "ghcb.h"
#include "vkvm.h"

#define ES_MAX_VCPUS 4096 /* KVM_MAX_VCPU_IDS on x86 */
#define ES_PIO_PAGE 4096u /* the PIO data page (PAGE_SIZE) */
#define ES_VC_VECTOR 29 /* #VC */
#define ES_GHCB_MSR 0xc0010130u /* MSR_AMD64_SEV_ES_GHCB */

enum { R_AX, R_BX, R_CX, R_DX, R_SI, R_NR };

/* What the next KVM_RUN completes (vcpu->arch.complete_userspace_io) */
enum es_op { ES_RESUME, ES_FAST_IN, ES_INS, ES_OUTS, ES_MMIO };

struct es_vcpu {
	uint64_t regs[R_NR]; /* vcpu->arch.regs as sync_from fills them */
	uint64_t ghcb_gpa; /* the GHCB in use since the VMGEXIT, or 0 */
	/* setup_vmgexit_scratch(): sev_es.ghcb_sa and its length */
	uint8_t *sa_buf; /* outside the GHCB: a copy (ghcb_sa_free) */
	uint64_t sa_off; /* inside: offset in the GHCB page */
	uint64_t sa_gpa, sa_len;
	bool sa_sync; /* written back at the next entry (ghcb_sa_sync) */
	enum es_op op;
	/* port I/O: arch.pio and sev_pio_data/sev_pio_count */
	int pio_size;
	uint16_t pio_port;
	uint32_t pio_count, pio_last;
	uint64_t pio_pos;
	/* MMIO: the one fragment (mmio_fragments[0]) */
	uint64_t frag_gpa, frag_pos;
	uint32_t frag_len;
	bool mmio_write;
};

struct shim_es_vm {
	uint8_t ghcb_version; /* sev_info.ghcb_version */
	unsigned int cbit; /* sev_enc_bit */
	uint64_t ap_jump_table; /* sev_info.ap_jump_table */
	pthread_mutex_t lock;
	struct es_vcpu *vcpus[ES_MAX_VCPUS];
};

/* One VMGEXIT or completion being handled */
struct es_ctx {
	struct shim_es_vm *vm;
	struct es_vcpu *v;
	struct vkvm_gexit *g;
	uint8_t *page; /* the GHCB (sev_es.ghcb) */
};

struct shim_es_vm *shim_es_new(uint8_t ghcb_version, unsigned int cbit)
{
	struct shim_es_vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return NULL;
	vm->ghcb_version = ghcb_version;
	vm->cbit = cbit;
	pthread_mutex_init(&vm->lock, NULL);
	return vm;
}

void shim_es_free(struct shim_es_vm *vm)
{
	unsigned int i;

	if (!vm)
		return;
	for (i = 0; i < ES_MAX_VCPUS; i++) {
		if (vm->vcpus[i])
			free(vm->vcpus[i]->sa_buf);
		free(vm->vcpus[i]);
	}
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}

/* A vCPU's state, made on its first VMGEXIT; vCPUs run on their own
 * threads, so only the table needs the lock. */
static struct es_vcpu *es_vcpu(struct shim_es_vm *vm, int id)
{
	struct es_vcpu *v;

	if (id < 0 || id >= ES_MAX_VCPUS)
		return NULL;
	pthread_mutex_lock(&vm->lock);
	v = vm->vcpus[id];
	if (!v)
		v = vm->vcpus[id] = calloc(1, sizeof(*v));
	pthread_mutex_unlock(&vm->lock);
	return v;
}

static void set_info(struct es_ctx *c, uint64_t info_1, uint64_t info_2)
{
	ghcb_set64(c->page, GHCB_OFF_SW_EXIT_INFO_1, info_1);
	ghcb_set64(c->page, GHCB_OFF_SW_EXIT_INFO_2, info_2);
}

static uint8_t *scratch(struct es_ctx *c)
{
	return c->v->sa_buf ? c->v->sa_buf : c->page + c->v->sa_off;
}

/* sev_es_unmap_ghcb(): the scratch copy back, then sev_es_sync_to_ghcb() */
static void es_unmap(struct es_ctx *c)
{
	struct es_vcpu *v = c->v;

	if (v->sa_sync)
		vkvm_gexit_write(c->g, v->sa_gpa, v->sa_buf, v->sa_len);
	if (c->page) {
		/* "even if they may not have been written during the exit" */
		ghcb_set64(c->page, GHCB_OFF_RAX, v->regs[R_AX]);
		ghcb_set64(c->page, GHCB_OFF_RBX, v->regs[R_BX]);
		ghcb_set64(c->page, GHCB_OFF_RCX, v->regs[R_CX]);
		ghcb_set64(c->page, GHCB_OFF_RDX, v->regs[R_DX]);
	}
	free(v->sa_buf);
	v->sa_buf = NULL;
	v->sa_sync = false;
	v->ghcb_gpa = 0;
	v->op = ES_RESUME;
}

static int es_complete(void *opaque, struct vkvm_gexit *g);

/*
 * After a handler: 1 enters the guest (so the GHCB is synced now); 0
 * leaves the GHCB to the next KVM_RUN, after v->op is complete; an error
 * fails KVM_RUN, and the GHCB is synced at once, as the guest can only
 * see it when it next runs anyway.
 */
static int es_finish(struct es_ctx *c, int ret)
{
	if (ret)
		es_unmap(c);
	else
		vkvm_gexit_complete(c->g, es_complete, c->vm);
	return ret;
}

/* KVM_EXIT_SYSTEM_EVENT: the guest asked to be terminated (out_terminate) */
static void es_terminate(struct vkvm_gexit *g, uint64_t ghcb_msr)
{
	struct kvm_run *run = vkvm_gexit_run(g);

	run->exit_reason = KVM_EXIT_SYSTEM_EVENT;
	run->system_event.type = KVM_SYSTEM_EVENT_SEV_TERM;
	run->system_event.ndata = 1;
	run->system_event.data[0] = ghcb_msr;
}

/*
 * kvm_emulate_ap_reset_hold(): with the local APIC in userspace (vkvm has
 * none in the kernel), __kvm_emulate_halt() exits to the VMM.
 */
static int es_ap_reset_hold(struct vkvm_gexit *g)
{
	vkvm_gexit_run(g)->exit_reason = KVM_EXIT_AP_RESET_HOLD;
	return 0;
}

/* ---- the MSR protocol: sev_handle_vmgexit_msr_protocol() ---- */

static uint64_t msr_bits(uint64_t msr, uint64_t value, uint64_t mask,
			 unsigned int pos)
{
	return (msr & ~(mask << pos)) | ((value & mask) << pos);
}

static void es_msr_cpuid(struct vkvm_gexit *g, uint64_t msr)
{
	uint64_t r[4] = { msr >> 32, 0, 0, 0 }; /* RAX = fn, RCX = 0 */
	unsigned int reg = (msr >> 30) & 3; /* GHCB_MSR_CPUID_REG */

	/* svm_invoke_exit_handler(SVM_EXIT_CPUID): kvm_emulate_cpuid() */
	vkvm_gexit_cpuid(g, r);
	msr = msr_bits(msr, r[reg], 0xffffffff, 32);
	vkvm_gexit_set_gmsr(
		g, msr_bits(msr, GHCB_MSR_CPUID_RESP, GHCB_MSR_INFO_MASK, 0));
}

static int es_msr_protocol(struct shim_es_vm *vm, struct vkvm_gexit *g,
			   uint64_t msr)
{
	const uint64_t low52 = (1ull << 52) - 1; /* GENMASK_ULL(51, 0) */
	int ret;

	switch (msr & GHCB_MSR_INFO_MASK) {
	case GHCB_MSR_SEV_INFO_REQ:
		vkvm_gexit_set_gmsr(g, GHCB_MSR_SEV_INFO(vm->ghcb_version,
							 GHCB_VERSION_MIN,
							 vm->cbit));
		return 1;
	case GHCB_MSR_CPUID_REQ:
		es_msr_cpuid(g, msr);
		return 1;
	case GHCB_MSR_AP_RESET_HOLD_REQ:
		ret = es_ap_reset_hold(g);
		/* a non-SIPI result; a SIPI is the VMM's to deliver */
		msr = msr_bits(msr, 0, low52, 12);
		vkvm_gexit_set_gmsr(g,
				    msr_bits(msr, GHCB_MSR_AP_RESET_HOLD_RESP,
					     GHCB_MSR_INFO_MASK, 0));
		return ret;
	case GHCB_MSR_HV_FT_REQ:
		msr = msr_bits(msr, GHCB_HV_FT_SUPPORTED, low52, 12);
		vkvm_gexit_set_gmsr(g, msr_bits(msr, GHCB_MSR_HV_FT_RESP,
						GHCB_MSR_INFO_MASK, 0));
		return 1;
	case GHCB_MSR_PREF_GPA_REQ:
	case GHCB_MSR_REG_GPA_REQ:
	case GHCB_MSR_PSC_REQ:
		/* "if (!sev_snp_guest(vcpu->kvm)) goto out_terminate" */
	case GHCB_MSR_TERM_REQ:
		es_terminate(g, msr);
		return 0;
	default:
		/* "Error, keep GHCB MSR value as-is" */
		return 1;
	}
}

/* ---- the scratch area: setup_vmgexit_scratch() ---- */

static int es_scratch(struct es_ctx *c, const struct ghcb_in *in, bool sync,
		      uint64_t len)
{
	struct es_vcpu *v = c->v;
	uint64_t where, area_len;
	uint8_t *buf;

	switch (ghcb_scratch_check(v->ghcb_gpa, in->scratch, len,
				   c->vm->ghcb_version, &where, &area_len)) {
	case GHCB_SCRATCH_IN_GHCB:
		v->sa_off = where;
		v->sa_len = area_len;
		return 0;
	case GHCB_SCRATCH_OUTSIDE:
		break;
	default:
		set_info(c, 2, GHCB_ERR_INVALID_SCRATCH_AREA);
		return 1;
	}
	buf = calloc(1, len);
	if (!buf)
		return -ENOMEM;
	/* "Unable to copy scratch area from guest" */
	if (vkvm_gexit_read(c->g, where, buf, len)) {
		free(buf);
		return -EFAULT;
	}
	v->sa_buf = buf;
	v->sa_gpa = where;
	v->sa_len = len;
	v->sa_sync = sync;
	return 0;
}

/* ---- MMIO: kvm_sev_es_mmio_read/write() (x86.c) ---- */

/* The next 8-byte piece straight to the VMM, as the completion does */
static int mmio_exit(struct es_ctx *c)
{
	struct es_vcpu *v = c->v;
	struct kvm_run *run = vkvm_gexit_run(c->g);
	unsigned int len = v->frag_len < 8 ? v->frag_len : 8;

	run->mmio.phys_addr = v->frag_gpa;
	run->mmio.len = len;
	run->mmio.is_write = v->mmio_write;
	if (v->mmio_write)
		memcpy(run->mmio.data, scratch(c) + v->frag_pos, len);
	run->exit_reason = KVM_EXIT_MMIO;
	v->op = ES_MMIO;
	return 0;
}

/* complete_sev_es_emulated_mmio() */
static int mmio_complete(struct es_ctx *c)
{
	struct es_vcpu *v = c->v;
	struct kvm_run *run = vkvm_gexit_run(c->g);
	unsigned int len = v->frag_len < 8 ? v->frag_len : 8;

	if (!v->mmio_write)
		memcpy(scratch(c) + v->frag_pos, run->mmio.data, len);
	if (v->frag_len <= 8)
		return 1; /* "at this point, we're always done" */
	v->frag_pos += len;
	v->frag_gpa += len;
	v->frag_len -= len;
	return mmio_exit(c);
}

/*
 * read_write_mmio() takes 8-byte pieces while a device in the kernel
 * answers (vkvm: an ioeventfd, for writes); the first it does not
 * becomes the one fragment, whose pieces all go to the VMM.
 */
static int es_mmio(struct es_ctx *c, const struct ghcb_in *in, bool write)
{
	struct es_vcpu *v = c->v;
	int ret;

	/* sev_handle_vmgexit(): "if (!control->exit_info_2) return 1" */
	if (!in->info_2)
		return 1;
	/* (ghcb_decode() refused more than 8 bytes under v2) */
	ret = es_scratch(c, in, !write, in->info_2);
	if (ret)
		return ret;
	v->frag_gpa = in->info_1;
	v->frag_len = (uint32_t)in->info_2; /* unsigned int bytes */
	v->frag_pos = 0;
	v->mmio_write = write;
	while (v->frag_len) {
		unsigned int n = v->frag_len < 8 ? v->frag_len : 8;

		ret = vkvm_gexit_mmio(c->g, write, v->frag_gpa, n,
				      write ? scratch(c) + v->frag_pos : NULL);
		if (ret < 0)
			return ret;
		if (!ret) {
			v->op = ES_MMIO;
			return 0;
		}
		v->frag_pos += n;
		v->frag_gpa += n;
		v->frag_len -= n;
	}
	return 1;
}

/* ---- port I/O: kvm_fast_pio() and kvm_sev_es_string_io() (x86.c) ---- */

/* kvm_fast_pio_in()/complete_fast_pio_in(): "For size less than 4 we
 * merge, else we zero extend" */
static void fast_in_done(struct es_ctx *c)
{
	struct es_vcpu *v = c->v;
	uint64_t val = v->pio_size < 4 ? v->regs[R_AX] : 0;

	memcpy(&val, vkvm_gexit_pio_data(c->g), (size_t)v->pio_size);
	v->regs[R_AX] = val;
}

static int es_fast_pio(struct es_ctx *c, int size, uint16_t port, bool in)
{
	struct es_vcpu *v = c->v;
	uint64_t val = v->regs[R_AX];
	int ret;

	v->pio_size = size;
	ret = vkvm_gexit_pio(c->g, in, port, size, 1, in ? NULL : &val);
	if (ret < 0)
		return ret;
	if (ret) {
		if (in)
			fast_in_done(c);
		return 1;
	}
	/* complete_fast_pio_out() only skips the instruction: resume */
	v->op = in ? ES_FAST_IN : ES_RESUME;
	return 0;
}

static void pio_advance(struct es_vcpu *v, uint32_t count)
{
	v->pio_count -= count;
	v->pio_pos += (uint64_t)count * (uint64_t)v->pio_size;
}

static uint32_t pio_chunk(const struct es_vcpu *v)
{
	uint32_t max = ES_PIO_PAGE / (uint32_t)v->pio_size;

	return v->pio_count < max ? v->pio_count : max;
}

/* kvm_sev_es_outs() */
static int es_outs(struct es_ctx *c)
{
	struct es_vcpu *v = c->v;

	for (;;) {
		uint32_t n = pio_chunk(v);
		int ret = vkvm_gexit_pio(c->g, false, v->pio_port, v->pio_size,
					 n, scratch(c) + v->pio_pos);

		if (ret < 0)
			return ret;
		pio_advance(v, n);
		if (!ret)
			break;
		if (!v->pio_count)
			return 1; /* "Emulation done by the kernel" */
	}
	v->op = ES_OUTS;
	return 0;
}

/* kvm_sev_es_ins() */
static int es_ins(struct es_ctx *c)
{
	struct es_vcpu *v = c->v;

	for (;;) {
		uint32_t n = pio_chunk(v);
		int ret = vkvm_gexit_pio(c->g, true, v->pio_port, v->pio_size,
					 n, NULL);

		if (ret < 0)
			return ret;
		if (!ret) {
			v->pio_last = n;
			break;
		}
		memcpy(scratch(c) + v->pio_pos, vkvm_gexit_pio_data(c->g),
		       (size_t)n * (size_t)v->pio_size);
		pio_advance(v, n);
		if (!v->pio_count)
			return 1;
	}
	v->op = ES_INS;
	return 0;
}

/* complete_sev_es_emulated_ins() */
static int ins_complete(struct es_ctx *c)
{
	struct es_vcpu *v = c->v;

	memcpy(scratch(c) + v->pio_pos, vkvm_gexit_pio_data(c->g),
	       (size_t)v->pio_last * (size_t)v->pio_size);
	pio_advance(v, v->pio_last);
	return v->pio_count ? es_ins(c) : 1;
}

/* sev_es_string_io() */
static int es_string_io(struct es_ctx *c, const struct ghcb_in *in, int size,
			uint16_t port, bool is_in)
{
	struct es_vcpu *v = c->v;
	int count, bytes, ret;

	if (in->info_2 > INT_MAX)
		return -EINVAL;
	count = (int)in->info_2;
	if (__builtin_mul_overflow(count, size, &bytes))
		return -EINVAL;
	if (!bytes)
		return 1;
	ret = es_scratch(c, in, is_in, (uint64_t)bytes);
	if (ret)
		return ret;
	v->pio_pos = 0;
	v->pio_count = (uint32_t)count;
	v->pio_size = size;
	v->pio_port = port;
	return is_in ? es_ins(c) : es_outs(c);
}

/* io_interception() */
static int es_ioio(struct es_ctx *c, const struct ghcb_in *in)
{
	uint32_t io_info = (uint32_t)in->info_1;
	int size = (int)((io_info & SVM_IOIO_SIZE_MASK) >> SVM_IOIO_SIZE_SHIFT);
	uint16_t port = (uint16_t)(io_info >> 16);
	bool is_in = io_info & SVM_IOIO_TYPE_MASK;

	/* sev_handle_vmgexit(): no size, nothing to do */
	if (!size)
		return 1;
	if (io_info & SVM_IOIO_STR_MASK)
		return es_string_io(c, in, size, port, is_in);
	return es_fast_pio(c, size, port, is_in);
}

/* ---- svm_invoke_exit_handler()'s handlers ---- */

/* msr_interception(): kvm_emulate_rdmsr/wrmsr(), with #GP reported in
 * the GHCB as svm_complete_emulated_msr() does for SEV-ES */
static int es_msr(struct es_ctx *c, const struct ghcb_in *in)
{
	struct es_vcpu *v = c->v;
	uint32_t index = (uint32_t)v->regs[R_CX];
	uint64_t data;
	int err;

	if (in->info_1) {
		/* kvm_read_edx_eax() */
		data = (v->regs[R_AX] & 0xffffffffu) |
		       (v->regs[R_DX] & 0xffffffffu) << 32;
		err = vkvm_gexit_wrmsr(c->g, index, data);
	} else {
		err = vkvm_gexit_rdmsr(c->g, index, &data);
		if (!err) {
			v->regs[R_AX] = data & 0xffffffffu;
			v->regs[R_DX] = data >> 32;
		}
	}
	if (err < 0)
		return err;
	if (err)
		set_info(c, 1, GHCB_EXC_GP);
	return 1;
}

/*
 * kvm_emulate_cpuid(): in RAX and RCX; out RAX RBX RCX RDX.  The GHCB's
 * XCR0 (kvm_update_cpuid_runtime() for leaf 0xD) is not passed on: vkvm
 * answers from the vCPU's own XCR0, which its engine holds.
 */
static int es_cpuid(struct es_ctx *c)
{
	uint64_t *r = c->v->regs;
	uint64_t regs[4] = { r[R_AX], r[R_BX], r[R_CX], r[R_DX] };

	vkvm_gexit_cpuid(c->g, regs);
	r[R_AX] = regs[0];
	r[R_BX] = regs[1];
	r[R_CX] = regs[2];
	r[R_DX] = regs[3];
	return 1;
}

/*
 * __kvm_emulate_hypercall() as this platform has it: a protected guest's
 * hypercall is 64-bit (is_64_bit_hypercall()); no PV feature is enforced
 * and no local APIC is in the kernel, so a kick or yield does nothing and
 * PV IPIs have no APIC map; KVM_CAP_EXIT_HYPERCALL is not offered, so
 * MAP_GPA_RANGE is unknown; the guest's TSC is not the host's, so clock
 * pairing is unsupported.
 */
static uint64_t hypercall(const struct es_vcpu *v, uint8_t cpl)
{
	const uint64_t apic_dest_short = 0x800 | 0xc0000;

	if (cpl)
		return (uint64_t)-KVM_EPERM;
	switch (v->regs[R_AX]) {
	case KVM_HC_VAPIC_POLL_IRQ:
	case KVM_HC_KICK_CPU:
	case KVM_HC_SCHED_YIELD:
		return 0;
	case KVM_HC_CLOCK_PAIRING:
		return (uint64_t)-KVM_EOPNOTSUPP;
	case KVM_HC_SEND_IPI: /* kvm_pv_send_ipi(): icr in a3 (RSI) */
		if (v->regs[R_SI] & apic_dest_short)
			return (uint64_t)-KVM_EINVAL;
		return (uint64_t)-EOPNOTSUPP;
	default:
		return (uint64_t)-KVM_ENOSYS;
	}
}

/* svm_handle_invalid_exit(): no handler for the exit code */
static int es_invalid_exit(struct es_ctx *c, uint64_t exit_code)
{
	struct kvm_run *run = vkvm_gexit_run(c->g);
	int cpu = sched_getcpu(); /* last_vmentry_cpu: where the vCPU runs */

	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON;
	run->internal.ndata = 2;
	run->internal.data[0] = exit_code;
	run->internal.data[1] = cpu < 0 ? 0 : (uint64_t)cpu;
	return 0;
}

static int es_exit_handler(struct es_ctx *c, const struct ghcb_in *in)
{
	switch (in->exit_code) {
	case SVM_EXIT_READ_DR7:
	case SVM_EXIT_WRITE_DR7:
		/* dr_interception(): "KVM cannot change DR7" for SEV-ES */
		return 1;
	case SVM_EXIT_CPUID:
		return es_cpuid(c);
	case SVM_EXIT_MSR:
		return es_msr(c, in);
	case SVM_EXIT_VMMCALL:
		/* vmmcall_interception(): kvm_emulate_hypercall() */
		c->v->regs[R_AX] = hypercall(c->v, in->cpl);
		return 1;
	case SVM_EXIT_RDPMC:
		/*
		 * kvm_emulate_rdpmc(): vkvm has no PMU, so kvm_pmu_rdpmc()
		 * fails and KVM injects #GP; vkvm cannot inject, so the GHCB
		 * asks the guest to raise it (as for an MSR).
		 */
		set_info(c, 1, GHCB_EXC_GP);
		return 1;
	case SVM_EXIT_RDTSCP:
		/* kvm_handle_invalid_op(): #UD, the same way */
		set_info(c, 1, GHCB_EXC_UD);
		return 1;
	case SVM_EXIT_INVD:
	case SVM_EXIT_WBINVD:
	case SVM_EXIT_MONITOR:
	case SVM_EXIT_MWAIT:
		/*
		 * kvm_emulate_invd/wbinvd() are NOPs without assigned devices,
		 * MONITOR/MWAIT NOPs under KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS
		 */
		return 1;
	default:
		/* SVM_EXIT_RDTSC has no entry in svm_exit_handlers[] */
		return es_invalid_exit(c, in->exit_code);
	}
}

/* SVM_VMGEXIT_AP_JUMP_TABLE: 0 sets, 1 gets the VM's table address */
static int es_ap_jump_table(struct es_ctx *c, const struct ghcb_in *in)
{
	switch (in->info_1) {
	case 0:
		__atomic_store_n(&c->vm->ap_jump_table, in->info_2,
				 __ATOMIC_RELAXED);
		break;
	case 1:
		ghcb_set64(c->page, GHCB_OFF_SW_EXIT_INFO_2,
			   __atomic_load_n(&c->vm->ap_jump_table,
					   __ATOMIC_RELAXED));
		break;
	default:
		set_info(c, 2, GHCB_ERR_INVALID_INPUT);
	}
	return 1;
}

/* sev_handle_vmgexit()'s switch on the exit code */
static int es_dispatch(struct es_ctx *c, const struct ghcb_in *in)
{
	switch (in->exit_code) {
	case SVM_VMGEXIT_MMIO_READ:
		return es_mmio(c, in, false);
	case SVM_VMGEXIT_MMIO_WRITE:
		return es_mmio(c, in, true);
	case SVM_VMGEXIT_NMI_COMPLETE:
		/*
		 * svm->nmi_masked = false: vkvm delivers NMIs itself and has
		 * no NMI blocking for the hypervisor to lift
		 */
		return 1;
	case SVM_VMGEXIT_AP_HLT_LOOP:
		return es_ap_reset_hold(c->g);
	case SVM_VMGEXIT_AP_JUMP_TABLE:
		return es_ap_jump_table(c, in);
	case SVM_VMGEXIT_HV_FEATURES:
		ghcb_set64(c->page, GHCB_OFF_SW_EXIT_INFO_2,
			   GHCB_HV_FT_SUPPORTED);
		return 1;
	case SVM_VMGEXIT_TERM_REQUEST:
		es_terminate(c->g, c->v->ghcb_gpa);
		return 0;
	case SVM_VMGEXIT_UNSUPPORTED_EVENT:
		return -EINVAL;
	case SVM_EXIT_IOIO:
		return es_ioio(c, in);
	default:
		return es_exit_handler(c, in);
	}
}

/* The GHCB of a VMGEXIT: sync from it, validate, handle. */
static int es_ghcb(struct es_ctx *c)
{
	struct es_vcpu *v = c->v;
	struct ghcb_in in;
	uint64_t reason;

	reason = ghcb_decode(c->page, c->vm->ghcb_version, &in);
	/* sev_es_sync_from_ghcb(): "Clear the valid entries fields" */
	memset(c->page + GHCB_OFF_VALID_BITMAP, 0, GHCB_VALID_BITMAP_LEN);
	memset(v->regs, 0, sizeof(v->regs));
	v->regs[R_AX] = in.rax;
	v->regs[R_BX] = in.rbx;
	v->regs[R_CX] = in.rcx;
	v->regs[R_DX] = in.rdx;
	v->regs[R_SI] = in.rsi;
	if (reason) {
		/* sev_es_validate_vmgexit(): "return" the error code */
		set_info(c, 2, reason);
		return 1;
	}
	set_info(c, 0, 0);
	return es_dispatch(c, &in);
}

int shim_vmgexit(void *opaque, struct vkvm_gexit *g)
{
	struct es_ctx c = { .vm = opaque, .g = g };
	uint64_t gpa = vkvm_gexit_get_gmsr(g);

	if (gpa & GHCB_MSR_INFO_MASK)
		return es_msr_protocol(c.vm, g, gpa);
	/* "Without a GHCB, just return right back to the guest" */
	if (!gpa)
		return 1;
	c.v = es_vcpu(c.vm, vkvm_gexit_vcpu_id(g));
	if (!c.v)
		return -ENOMEM;
	c.page = vkvm_gexit_map(g, gpa);
	if (!c.page)
		return 1;
	c.v->ghcb_gpa = gpa;
	c.v->op = ES_RESUME;
	return es_finish(&c, es_ghcb(&c));
}

/* The next KVM_RUN: vcpu->arch.complete_userspace_io, then the entry. */
static int es_complete(void *opaque, struct vkvm_gexit *g)
{
	struct es_ctx c = { .vm = opaque, .g = g };

	c.v = es_vcpu(c.vm, vkvm_gexit_vcpu_id(g));
	if (!c.v || !c.v->ghcb_gpa)
		return 1;
	c.page = vkvm_gexit_map(g, c.v->ghcb_gpa);
	if (!c.page && !c.v->sa_buf && c.v->op != ES_RESUME) {
		/* the VMM took the GHCB's memory away meanwhile */
		es_unmap(&c);
		return 1;
	}
	switch (c.v->op) {
	case ES_FAST_IN:
		fast_in_done(&c);
		return es_finish(&c, 1);
	case ES_INS:
		return es_finish(&c, ins_complete(&c));
	case ES_OUTS: /* complete_sev_es_emulated_outs() */
		return es_finish(&c, c.v->pio_count ? es_outs(&c) : 1);
	case ES_MMIO:
		return es_finish(&c, mmio_complete(&c));
	default:
		return es_finish(&c, 1);
	}
}

static void es_release(void *opaque)
{
	shim_es_free(opaque);
}

int shim_es_attach(int vmfd, uint8_t ghcb_version, unsigned int cbit)
{
	struct shim_es_vm *vm = shim_es_new(ghcb_version, cbit);
	int ret;

	if (!vm)
		return -ENOMEM;
	ret = vkvm_set_protected(vmfd, ES_VC_VECTOR, ES_GHCB_MSR, shim_vmgexit,
				 es_release, vm);
	if (ret)
		shim_es_free(vm);
	return ret;
}
