// SPDX-License-Identifier: MIT
/* The shim's handling of ioctls on tracked descriptors. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ghcb.h"
#include "kvm_compat.h"
#include "shim.h"
#include "vkvm.h"

static int fail(int err)
{
	errno = err;
	return -1;
}

/* A server answer: >= 0 is the ioctl's value, < 0 an errno. */
static int answer(int ret)
{
	return ret < 0 ? fail(-ret) : ret;
}

int kvm_call(int fd, const struct fdi *e, unsigned long req, void *arg)
{
	if (e && e->emu)
		return answer((int)vkvm_ioctl(fd, req, arg));
	return real_ioctl(fd, req, arg);
}

int shim_kvm_ioctl(int fd, unsigned long req, void *arg)
{
	return kvm_call(fd, fdt_get(fd), req, arg);
}

/*
 * An answer the shim gives without the server (dead VMs, KVM_RUN before
 * INIT2, guarded registers): while a trace is watched, it is told too, so
 * the trace shows every answer the program got.  Failure paths only.
 */
static int local_fail(const struct fdi *e, unsigned long req, int err)
{
	if (shim_flags && shim_flags[0].tracing) {
		struct ss_req r = { .op = SS_NOTE, .vm_id = e->vm_id, .a1 = req,
				    .a2 = (uint64_t)err | (uint64_t)(e->kind == FD_VCPU ?
					  (uint32_t)e->vcpu : UINT32_MAX) << 32 };
		struct ss_rep rep;

		shim_call(&r, -1, &rep, NULL);
	}
	return fail(err);
}

static const volatile struct ss_vm_flags *vm_flags(uint32_t id)
{
	if (!shim_flags || !id || id >= SS_MAX_VMS)
		return NULL;
	return &shim_flags[id];
}

static int check_extension(long cap, int real)
{
	const struct ss_rep *h;

	switch (cap) {
	case KVM_CAP_VM_COPY_ENC_CONTEXT_FROM:
	case KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM:
		return 1;
	case KVM_CAP_VM_TYPES:
		h = shim_host();
		return (real > 0 ? real : 1) | (h ? (int)h->vm_types : 0);
	}
	return real;
}

/*
 * KVM_GET_SUPPORTED_CPUID: add or fix leaf 0x8000001F (SEV, SEV-ES,
 * C-bit, one reduced physical-address bit, ASID counts) and make sure the
 * extended range reaches it (§8 of the firmware spec).
 */
static int supported_cpuid(int fd, struct fdi *e, struct kvm_cpuid2 *user)
{
	const struct ss_rep *h = shim_host();
	struct kvm_cpuid2 hdr, *c;
	uint32_t i, max;
	int ret;

	if (shim_copy_in(&hdr, user, sizeof(hdr)))
		return fail(EFAULT);
	ret = kvm_call(fd, e, KVM_GET_SUPPORTED_CPUID, user);
	if (ret || !h)
		return ret;
	max = hdr.nent;
	c = malloc(sizeof(*c) + max * sizeof(c->entries[0]));
	if (!c)
		return 0;
	if (shim_copy_in(c, user, sizeof(*c) + max * sizeof(c->entries[0]))) {
		free(c);
		return 0;
	}
	for (i = 0; i < c->nent && c->entries[i].function != 0x8000001F; i++)
		;
	if (i == c->nent) {
		if (c->nent == max) {
			free(c);
			return fail(E2BIG);
		}
		memset(&c->entries[i], 0, sizeof(c->entries[i]));
		c->entries[i].function = 0x8000001F;
		c->nent++;
	}
	c->entries[i].eax = 1u << 1 | (h->sev_es ? 1u << 3 : 0);
	c->entries[i].ebx = (h->cbit & 0x3f) | 1u << 6;
	c->entries[i].ecx = h->max_asid;
	c->entries[i].edx = h->min_sev_asid;
	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0x80000000 &&
		    c->entries[i].eax < 0x8000001F)
			c->entries[i].eax = 0x8000001F;
	shim_copy_out(user, c, sizeof(*c) + c->nent * sizeof(c->entries[0]));
	free(c);
	return 0;
}

static int device_attr(int fd, struct fdi *e, unsigned long req,
		       struct kvm_device_attr *ua)
{
	struct ss_req r = { .op = SS_DEVICE_ATTR };
	struct kvm_device_attr a;
	struct ss_rep rep;
	int ret;

	if (shim_copy_in(&a, ua, sizeof(a)))
		return fail(EFAULT);
	if (a.group != KVM_X86_GRP_SEV)
		return kvm_call(fd, e, req, ua);
	r.a1 = a.group;
	r.a2 = a.attr;
	ret = shim_call(&r, -1, &rep, NULL);
	if (ret)
		return answer(ret);
	if (req == KVM_GET_DEVICE_ATTR &&
	    shim_copy_out((void *)(uintptr_t)a.addr, &rep.value, 8))
		return fail(EFAULT);
	return 0;
}

static int create_vm(int fd, struct fdi *k, unsigned long type)
{
	const struct ss_rep *h = shim_host();
	struct ss_req r = { .op = SS_VM_CREATE, .a1 = type };
	struct fdi e = { .kind = FD_VM };
	struct ss_rep rep;
	bool sev_type = type == KVM_X86_SEV_VM || type == KVM_X86_SEV_ES_VM;
	int vmfd, ret;

	if (!h)
		return kvm_call(fd, k, KVM_CREATE_VM, (void *)type);
	if (sev_type && !(h->vm_types & (1u << type)))
		return fail(EINVAL);
	/* The real KVM runs every VM as a plain one. */
	vmfd = kvm_call(fd, k, KVM_CREATE_VM, (void *)(sev_type ? 0ul : type));
	if (vmfd < 0)
		return vmfd;
	e.emu = k->emu;
	ret = shim_call(&r, vmfd, &rep, NULL);
	if (ret) {
		if (e.emu)
			vkvm_close(vmfd);
		real_close(vmfd);
		return fail(ret < 0 ? -ret : EIO);
	}
	e.vm_id = rep.vm_id;
	fdt_set(vmfd, &e);
	return vmfd;
}

static int create_vcpu(int fd, struct fdi *vm, unsigned long id)
{
	struct ss_req r = { .op = SS_VCPU_BEGIN, .vm_id = vm->vm_id };
	struct fdi e = { .kind = FD_VCPU, .vm_id = vm->vm_id, .emu = vm->emu };
	struct ss_rep rep;
	int ret, vfd;

	ret = shim_call(&r, -1, &rep, NULL);
	if (ret)
		return answer(ret);
	vfd = kvm_call(fd, vm, KVM_CREATE_VCPU, (void *)id);
	r.op = SS_VCPU_END;
	r.a1 = vfd >= 0;
	ret = shim_call(&r, -1, &rep, NULL);
	if (vfd < 0)
		return vfd;
	if (ret) {
		if (e.emu)
			vkvm_close(vfd);
		real_close(vfd);
		return answer(ret);
	}
	e.vcpu = (int32_t)rep.index;
	fdt_set(vfd, &e);
	return vfd;
}

/*
 * What an EPYC shows an SEV guest without an exit, on the emulated backend
 * (issue 11): SEV_STATUS (MSR 0xc0010131) with SEV (bit 0) and SEV-ES
 * (bit 1), read-only; and the C-bit, which the page walk drops (the same
 * page, private).  Set when the VM becomes SEV (INIT, ES_INIT, INIT2, a
 * mirror, a MOVE target), before its first KVM_RUN; vkvm refuses it
 * after.  An SEV-ES guest's VMGEXITs go to the shim's GHCB protocol
 * (ghcb.c).  Done once per VM file, at the first SEV command after which
 * the VM is SEV (another file of the same VM gets -EBUSY from vkvm).  On
 * the host backend the guest stays a plain KVM guest.
 */
static void emu_platform(int fd, struct fdi *vm)
{
	const volatile struct ss_vm_flags *f = vm_flags(vm->vm_id);
	const struct ss_rep *h = shim_host();

	/* once: it is all fixed at the first KVM_RUN (-EBUSY after) anyway */
	if (vm->platform || !vm->emu || !f || !f->sev_active || !h ||
	    h->cbit < 12 || h->cbit > 51)
		return;
	vm->platform = 1;
	vkvm_set_platform_msr(fd, 0xc0010131, f->es_active ? 3 : 1, false);
	vkvm_set_pa_ignore(fd, 1ull << h->cbit);
	/*
	 * The C-bit position the guest reads in CPUID 0x8000001F is where
	 * this platform decodes it, as on an EPYC: a VMM on a host without
	 * SEV may have to say otherwise (QEMU checks cbitpos against the
	 * host CPU, which reads 0 there; fidelity V25).
	 */
	vkvm_set_platform_cpuid_ebx(fd, 0x8000001f, 0x3f, h->cbit);
	if (f->es_active)
		shim_es_attach(fd, f->ghcb_version, h->cbit);
	shim_strict_platform(fd, h->cbit); /* strict.c: the private view */
}

struct vmsa_job {
	uint32_t vm_id;
	int fds[SS_MAX_VCPUS];
	uint8_t debug[SS_MAX_VCPUS];
	uint32_t n;
};

static void find_vcpu(int fd, struct fdi *e, void *arg)
{
	struct vmsa_job *j = arg;

	if (e->kind != FD_VCPU || e->vm_id != j->vm_id || e->vcpu < 0 ||
	    e->vcpu >= SS_MAX_VCPUS)
		return;
	j->fds[e->vcpu] = fd;
	j->debug[e->vcpu] = e->guest_debug;
	if ((uint32_t)e->vcpu + 1 > j->n)
		j->n = (uint32_t)e->vcpu + 1;
}

/*
 * LAUNCH_UPDATE_VMSA: the VMSAs come from the real vCPUs' registers,
 * read here, in the address space that owns them.
 */
static int mem_enc_op(int fd, struct fdi *vm, void *arg)
{
	struct ss_req r = { .op = SS_MEM_ENC_OP, .vm_id = vm->vm_id };
	const volatile struct ss_vm_flags *f = vm_flags(vm->vm_id);
	/* sev_es_sync_vmsa(): no FPU for KVM_SEV_ES_INIT's DEFAULT VMs */
	bool typed = f && f->protected_state;
	struct kvm_sev_cmd cmd;
	struct vmsa_job *j = NULL;
	uint8_t *buf = NULL;
	struct ss_rep rep;
	uint32_t i;
	int ret;

	r.arg = (uintptr_t)arg;
	if (arg && !shim_copy_in(&cmd, arg, sizeof(cmd)) &&
	    cmd.id == KVM_SEV_LAUNCH_UPDATE_VMSA) {
		j = calloc(1, sizeof(*j));
		if (!j)
			return fail(ENOMEM);
		j->vm_id = vm->vm_id;
		for (i = 0; i < SS_MAX_VCPUS; i++)
			j->fds[i] = -1;
		fdt_each(find_vcpu, j);
		buf = calloc(j->n ? j->n : 1, 4096 + 4);
		if (!buf) {
			free(j);
			return fail(ENOMEM);
		}
		for (i = 0; i < j->n; i++) {
			int32_t st = j->fds[i] < 0 ?
					     -EINVAL :
					     shim_build_vmsa(j->fds[i],
							     j->debug[i], typed,
							     buf + 4096 * i);

			memcpy(buf + 4096 * j->n + 4 * i, &st, 4);
		}
		r.a1 = (uintptr_t)buf;
		r.a2 = j->n;
	}
	/* strict memory: the firmware sees the guest's latest writes */
	if (vm->emu)
		shim_strict_before_op(fd, vm);
	ret = shim_call(&r, -1, &rep, NULL);
	free(buf);
	free(j);
	if (!ret)
		emu_platform(fd, vm);
	if (vm->emu && arg)
		shim_strict_after_op(fd, vm, arg);
	return answer(ret);
}

static int enable_cap(int fd, struct fdi *vm, void *arg)
{
	struct ss_req r = { .op = SS_ENABLE_CAP, .vm_id = vm->vm_id };
	struct kvm_enable_cap cap;
	struct ss_rep rep;
	int src = -1, ret;

	r.arg = (uintptr_t)arg;
	if (!shim_copy_in(&cap, arg, sizeof(cap))) {
		if (cap.cap != KVM_CAP_VM_COPY_ENC_CONTEXT_FROM &&
		    cap.cap != KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM)
			return kvm_call(fd, vm, KVM_ENABLE_CAP, arg);
		/* Q3: the kernel looks at the low 32 bits only. */
		src = (int)(uint32_t)cap.args[0];
		if (fcntl(src, F_GETFD) < 0)
			src = -1;
	}
	ret = shim_call(&r, src, &rep, NULL);
	if (!ret)
		emu_platform(fd, vm);
	return answer(ret);
}

static int vm_ioctl(int fd, struct fdi *e, unsigned long req, void *arg)
{
	struct ss_req r = { .vm_id = e->vm_id, .arg = (uintptr_t)arg };
	struct ss_rep rep;

	switch (req) {
	case KVM_CREATE_VCPU:
		return create_vcpu(fd, e, (unsigned long)arg);
	case KVM_MEMORY_ENCRYPT_OP:
		return mem_enc_op(fd, e, arg);
	case KVM_MEMORY_ENCRYPT_REG_REGION:
		r.op = SS_REG_REGION;
		return answer(shim_call(&r, -1, &rep, NULL));
	case KVM_MEMORY_ENCRYPT_UNREG_REGION:
		r.op = SS_UNREG_REGION;
		return answer(shim_call(&r, -1, &rep, NULL));
	case KVM_ENABLE_CAP:
		return enable_cap(fd, e, arg);
	case KVM_CHECK_EXTENSION:
		return check_extension((long)arg, kvm_call(fd, e, req, arg));
	}
	return kvm_call(fd, e, req, arg);
}

/* Register state of a protected SEV-ES vCPU is off limits (EINVAL). */
static bool guarded(unsigned long req)
{
	switch (req) {
	case KVM_GET_REGS:
	case KVM_SET_REGS:
	case KVM_GET_SREGS:
	case KVM_SET_SREGS:
	case KVM_GET_FPU:
	case KVM_SET_FPU:
	case KVM_GET_XCRS:
	case KVM_SET_XCRS:
	case KVM_GET_DEBUGREGS:
	case KVM_SET_DEBUGREGS:
	case KVM_GET_XSAVE:
	case KVM_SET_XSAVE:
		return true;
	}
	return false;
}

static int vcpu_ioctl(int fd, struct fdi *e, unsigned long req, void *arg,
		      const volatile struct ss_vm_flags *f)
{
	if (req == KVM_RUN) {
		if (f && f->need_init)
			return local_fail(e, req, EINVAL);
		/* strict memory: the private view in step around the run */
		if (e->emu && vkvm_private_on(fd))
			return shim_strict_run(fd, e, arg);
		return kvm_call(fd, e, req, arg);
	}
	if (f && f->protected_state && e->vcpu >= 0 && guarded(req) &&
	    (f->vcpu_protected[e->vcpu / 8] & (1u << (e->vcpu % 8))))
		return local_fail(e, req, EINVAL);
	if (req == KVM_SET_GUEST_DEBUG) {
		struct kvm_guest_debug dbg;
		int ret = kvm_call(fd, e, req, arg);

		if (!ret && !shim_copy_in(&dbg, arg, sizeof(dbg)))
			e->guest_debug = !!(dbg.control & KVM_GUESTDBG_ENABLE);
		return ret;
	}
	return kvm_call(fd, e, req, arg);
}

int shim_ioctl(int fd, struct fdi *e, unsigned long req, void *arg)
{
	const volatile struct ss_vm_flags *f = vm_flags(e->vm_id);
	struct ss_req r;
	struct ss_rep rep;

	switch (e->kind) {
	case FD_KVM:
		switch (req) {
		case KVM_CREATE_VM:
			return create_vm(fd, e, (unsigned long)arg);
		case KVM_CHECK_EXTENSION:
			return check_extension((long)arg,
					       kvm_call(fd, e, req, arg));
		case KVM_GET_SUPPORTED_CPUID:
			return supported_cpuid(fd, e, arg);
		case KVM_GET_DEVICE_ATTR:
		case KVM_HAS_DEVICE_ATTR:
			return device_attr(fd, e, req, arg);
		}
		return kvm_call(fd, e, req, arg);
	case FD_VM:
		/* A dead VM (a MOVE source) answers EIO to everything. */
		if (f && f->dead)
			return local_fail(e, req, EIO);
		return vm_ioctl(fd, e, req, arg);
	case FD_VCPU:
		if (f && f->dead)
			return local_fail(e, req, EIO);
		return vcpu_ioctl(fd, e, req, arg, f);
	case FD_SEV:
		memset(&r, 0, sizeof(r));
		r.op = SS_SEV_IOCTL;
		r.a1 = req;
		r.arg = (uintptr_t)arg;
		r.a2 = e->writable;
		return answer(shim_call(&r, -1, &rep, NULL));
	}
	return kvm_call(fd, e, req, arg);
}
