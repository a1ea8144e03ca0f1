/* SPDX-License-Identifier: MIT */
/*
 * Conformance programs: they drive the real /dev/kvm and /dev/sev, and
 * are run under `softsev run`, so every call goes through the preload
 * shim and softsevd exactly as an unmodified VMM's would.  Each asserts
 * return value, errno, the firmware status and written-back bytes.
 */
#ifndef SOFTSEV_CONF_H
#define SOFTSEV_CONF_H

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/kvm.h>
#include <linux/psp-sev.h>

#define KVM_SEV_INIT2_ID 22
#define VM_SEV 2
#define VM_SEV_ES 3

struct kvm_sev_init_v {
	uint64_t vmsa_features;
	uint32_t flags;
	uint16_t ghcb_version;
	uint16_t pad1;
	uint32_t pad2[8];
};

/* The call fails with errno e. */
#define assert_errno(expr, e)                                              \
	do {                                                               \
		errno = 0;                                                 \
		assert_int_equal((long)(expr), -1);                        \
		assert_int_equal(errno, (e));                              \
	} while (0)

#define assert_ok(expr) assert_int_equal((long)(expr), 0)

static inline int kvm_open(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static inline int sev_open(void)
{
	int fd = open("/dev/sev", O_RDWR | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static inline int vm_new(int kvm, unsigned long type)
{
	int fd = ioctl(kvm, KVM_CREATE_VM, type);

	assert_true(fd >= 0);
	return fd;
}

/* vCPU id of vm, its kvm_run (size bytes) mapped at *run: its fd. */
static inline int vcpu_new(int vm, int id, long size, struct kvm_run **run)
{
	int fd = ioctl(vm, KVM_CREATE_VCPU, id);

	assert_true(fd >= 0);
	*run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    0);
	assert_true(*run != MAP_FAILED);
	return fd;
}

/* KVM_MEMORY_ENCRYPT_OP; *error gets cmd.error (starts as 0xdead). */
static inline int sev_op(int vm, uint32_t id, void *data, int sev,
			 uint32_t *error)
{
	struct kvm_sev_cmd c = { .id = id, .data = (uintptr_t)data,
				 .error = 0xdead, .sev_fd = (uint32_t)sev };
	int r = ioctl(vm, KVM_MEMORY_ENCRYPT_OP, &c);

	if (error)
		*error = c.error;
	return r;
}

static inline int enc_ctx(int dst, uint32_t cap, uint64_t src)
{
	struct kvm_enable_cap c = { .cap = cap };

	c.args[0] = src;
	return ioctl(dst, KVM_ENABLE_CAP, &c);
}

static inline int guest_count(int sev)
{
	struct sev_user_data_status st;
	struct sev_issue_cmd c = { SEV_PLATFORM_STATUS, (uintptr_t)&st, 0 };

	assert_ok(ioctl(sev, SEV_ISSUE_CMD, &c));
	return (int)st.guest_count;
}

/* An SEV VM made with the legacy INIT on a DEFAULT VM, launched. */
static inline int sev_vm(int kvm, int sev, bool es, uint32_t *handle)
{
	int vm = vm_new(kvm, 0);
	struct kvm_sev_launch_start ls = { .policy = es ? 0x4u : 0 };

	assert_ok(sev_op(vm, es ? KVM_SEV_ES_INIT : KVM_SEV_INIT, NULL, sev,
			 NULL));
	if (handle) {
		assert_ok(sev_op(vm, KVM_SEV_LAUNCH_START, &ls, sev, NULL));
		*handle = ls.handle;
	}
	return vm;
}

static inline void *bad_ptr(void)
{
	static void *p;

	if (!p)
		p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	return p;
}

#endif
