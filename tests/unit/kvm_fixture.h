/* SPDX-License-Identifier: MIT */
/*
 * kvm/ test fixture: one emulated machine (psp + ccp + kvm host) and a
 * caller whose fd table the test controls: fds 100.. are /dev/sev, VM fds
 * are whatever the test registers, and every user address is this
 * process's memory.
 */
#ifndef SOFTSEV_KVM_FIXTURE_H
#define SOFTSEV_KVM_FIXTURE_H

#include "psp_fixture.h"
#include "user_mem.h"

#include "ccp.h"
#include "kvm.h"

#define SEV_FD 100
#define NFDS 2048

struct kx {
	struct fx f;
	struct ccp *ccp;
	struct kvm_host *host;
	struct kvm_caller c;
	struct kvm_vm *fds[NFDS]; /* fd number -> VM (one reference each) */
	bool sev_fds[NFDS + SEV_FD];
	bool bad_dr7;
	int vmsa_builds;
};

static int kx_sev_fd(void *ctx, int fd)
{
	struct kx *x = ctx;

	if (fd < 0 || fd >= NFDS + SEV_FD || !x->sev_fds[fd])
		return -EBADF;
	return 0;
}

static int kx_vm_fd(void *ctx, unsigned int fd, struct kvm_vm **vm)
{
	struct kx *x = ctx;

	if (fd >= NFDS || !x->fds[fd])
		return -EBADF;
	kvm_vm_get(x->fds[fd]);
	*vm = x->fds[fd];
	return 0;
}

/* pin_user_pages: every page must be readable (and writable for write). */
static int kx_pin(void *ctx, uint64_t uaddr, uint64_t len, bool write)
{
	uint64_t a;
	uint8_t b;

	for (a = uaddr; a < uaddr + len; a += 4096) {
		if (um_read(NULL, a, &b, 1))
			return -EFAULT;
		if (write && um_write(NULL, a, &b, 1))
			return -EFAULT;
	}
	return 0;
}

/* A VMSA that depends on the vCPU index, as registers would. */
static int kx_build_vmsa(void *ctx, struct kvm_vcpu *vcpu, uint64_t features,
			 uint8_t *vmsa)
{
	struct kx *x = ctx;

	if (x->bad_dr7)
		return -EINVAL;
	memset(vmsa, 0, 4096);
	vmsa[0] = (uint8_t)kvm_vcpu_index(vcpu);
	memcpy(vmsa + 0x3B0, &features, 8); /* sev_features */
	x->vmsa_builds++;
	return 0;
}

static inline void kx_open_cfg(struct kx *x, const struct kvm_host_config *hc)
{
	struct ccp_config cc = { .init_on_probe = true };

	fx_open(&x->f, true);
	assert_int_equal(ccp_create(x->f.psp, &cc, &x->ccp), 0);
	assert_int_equal(kvm_host_create(x->ccp, hc, &x->host), 0);
	x->c.mem = &user_mem;
	x->c.pin = kx_pin;
	x->c.sev_fd = kx_sev_fd;
	x->c.vm_fd = kx_vm_fd;
	x->c.build_vmsa = kx_build_vmsa;
	x->c.ctx = x;
	x->c.mm = 1;
	x->c.rlimit_memlock = UINT64_MAX;
	x->c.cg = NULL;
	x->sev_fds[SEV_FD] = true;
}

static inline struct kx *kx_new_psp(const struct psp_config *pc,
				    const struct kvm_host_config *hc)
{
	struct kx *x = calloc(1, sizeof(*x));
	struct kvm_host_config def;

	if (pc)
		x->f.cfg = *pc;
	if (!hc) {
		kvm_host_config_default(&def);
		hc = &def;
	}
	kx_open_cfg(x, hc);
	return x;
}

static inline struct kx *kx_new(void)
{
	return kx_new_psp(NULL, NULL);
}

/* Close every VM fd the test still holds, then the machine. */
static inline void kx_free(struct kx *x)
{
	int i;

	for (i = 0; i < NFDS; i++)
		if (x->fds[i])
			kvm_vm_put(x->fds[i]);
	kvm_host_destroy(x->host);
	ccp_destroy(x->ccp);
	fx_close(&x->f, true);
	free(x);
}

/* KVM_CREATE_VM; the VM's fd number is returned. */
static inline int kx_vm(struct kx *x, unsigned long type)
{
	int fd;

	for (fd = 3; fd < NFDS && x->fds[fd]; fd++)
		;
	assert_true(fd < NFDS);
	assert_int_equal(kvm_vm_create(x->host, type, x->c.mm, &x->fds[fd]),
			 0);
	return fd;
}

static inline void kx_close(struct kx *x, int fd)
{
	kvm_vm_put(x->fds[fd]);
	x->fds[fd] = NULL;
}

static inline struct kvm_vm *kx_get(struct kx *x, int fd)
{
	return x->fds[fd];
}

/* KVM_MEMORY_ENCRYPT_OP; *error gets the firmware status written back. */
static inline int kx_op_err(struct kx *x, int fd, uint32_t id, void *data,
			    uint32_t *error)
{
	struct kvm_sev_cmd cmd = { .id = id, .data = (uintptr_t)data,
				   .error = 0xdead, .sev_fd = SEV_FD };
	int ret = kvm_vm_mem_enc_op(x->fds[fd], &x->c, (uintptr_t)&cmd);

	if (error)
		*error = cmd.error;
	return ret;
}

static inline int kx_op(struct kx *x, int fd, uint32_t id, void *data)
{
	return kx_op_err(x, fd, id, data, NULL);
}

static inline int kx_cap(struct kx *x, int fd, uint32_t cap, uint64_t arg0)
{
	struct kvm_enable_cap ec = { .cap = cap };

	ec.args[0] = arg0;
	return kvm_vm_enable_cap(x->fds[fd], &x->c, (uintptr_t)&ec);
}

static inline int kx_copy(struct kx *x, int dst, int src)
{
	return kx_cap(x, dst, KVM_CAP_VM_COPY_ENC_CONTEXT_FROM, src);
}

static inline int kx_move(struct kx *x, int dst, int src)
{
	return kx_cap(x, dst, KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM, src);
}

static inline struct kvm_vcpu *kx_vcpu(struct kx *x, int fd)
{
	struct kvm_vcpu *v;

	assert_int_equal(kvm_vcpu_create_begin(x->fds[fd], &x->c), 0);
	assert_int_equal(kvm_vcpu_create_end(x->fds[fd], true, &v), 0);
	return v;
}

static inline struct kvm_vm_info kx_info(struct kx *x, int fd)
{
	struct kvm_vm_info i;

	kvm_vm_info(x->fds[fd], &i);
	return i;
}

/* A VM made SEV (or SEV-ES) through the legacy INIT on a DEFAULT VM. */
static inline int kx_sev_vm(struct kx *x, bool es)
{
	int fd = kx_vm(x, KVM_X86_DEFAULT_VM);

	assert_int_equal(kx_op(x, fd, es ? KVM_SEV_ES_INIT : KVM_SEV_INIT,
			       NULL), 0);
	return fd;
}

/* LAUNCH_START without an owner session. */
static inline uint32_t kx_launch(struct kx *x, int fd, uint32_t policy)
{
	struct kvm_sev_launch_start ls = { .policy = policy };

	assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_START, &ls), 0);
	return ls.handle;
}

#endif
