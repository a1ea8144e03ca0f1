/* SPDX-License-Identifier: MIT */
/* Internals of libsoftsev-preload.so. */
#ifndef SOFTSEV_SHIM_H
#define SOFTSEV_SHIM_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

enum fd_kind { FD_NONE = 0, FD_KVM, FD_VM, FD_VCPU, FD_SEV };

struct fdi {
	uint8_t kind;
	uint8_t writable; /* FD_SEV: opened for writing */
	uint8_t guest_debug; /* FD_VCPU: KVM_SET_GUEST_DEBUG enabled it */
	uint8_t emu; /* FD_KVM/VM/VCPU: a vkvm file, not the kernel's */
	uint8_t platform; /* FD_VM: emu_platform() gave it its SEV CPU */
	uint32_t vm_id; /* FD_VM, FD_VCPU (0: unknown VM) */
	int32_t vcpu; /* FD_VCPU: index */
};

/* The real libc entry points. */
extern int (*real_ioctl)(int, unsigned long, ...);
extern int (*real_close)(int);

struct fdi *fdt_get(int fd); /* NULL if untracked */
int fdt_set(int fd, const struct fdi *e);
void fdt_clear(int fd);
/* Call fn for every tracked fd (under the table lock). */
void fdt_each(void (*fn)(int fd, struct fdi *e, void *arg), void *arg);

/* Talk to softsevd; returns rep.ret, or -EIO without a server. */
int shim_call(const struct ss_req *req, int send_fd, struct ss_rep *rep,
	      int *recv_fd);
const struct ss_rep *shim_host(void); /* HELLO's host information */
extern const volatile struct ss_vm_flags *shim_flags;

/* The KVM backend of a tracked fd: vkvm's or the kernel's. */
int kvm_call(int fd, const struct fdi *e, unsigned long req, void *arg);
/* kvm_call() for an fd looked up in the table. */
int shim_kvm_ioctl(int fd, unsigned long req, void *arg);

/* sysfs.c: /sys/module/kvm{,_amd}/parameters as on an SEV host */
const char *shim_sysfs_value(const char *path, bool *always);
int shim_sysfs_open(const char *text);

/* kvm.c */
int shim_ioctl(int fd, struct fdi *e, unsigned long req, void *arg);
/* vmsa.c: one VMSA page from a real vCPU's registers. */
int shim_build_vmsa(int vcpu_fd, bool guest_debug, bool with_fpu,
		    uint8_t *page);
int shim_copy_in(void *dst, const void *src, size_t len);
int shim_copy_out(void *dst, const void *src, size_t len);
/* strict.c: strict memory on the emulated KVM (issue 11) */
bool shim_strict(void);
void shim_strict_platform(int vmfd, unsigned int cbit);
int shim_strict_run(int fd, const struct fdi *e, void *arg);
int shim_strict_before_op(int fd, const struct fdi *vm);
void shim_strict_after_op(int fd, const struct fdi *vm, void *arg);

#endif
