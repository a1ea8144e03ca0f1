// SPDX-License-Identifier: MIT
/*
 * Spec §2.2 (COPY), §2.4 (MOVE), dead VMs, lifetimes and a three-thread
 * MOVE storm, through the real ioctl path.
 */
#include "conf.h"

#include <pthread.h>

static int kvm, sev;

static int setup(void **state)
{
	kvm = kvm_open();
	sev = sev_open();
	return 0;
}

static int teardown(void **state)
{
	close(sev);
	close(kvm);
	return 0;
}

static void test_copy_rows(void **state)
{
	uint32_t h;
	int owner = sev_vm(kvm, sev, false, &h), dst = vm_new(kvm, 0);
	int plain = vm_new(kvm, 0), pipefd[2];
	struct kvm_enable_cap c = { .cap = 197, .flags = 1 };
	struct kvm_sev_guest_status gs;

	assert_ok(pipe(pipefd));
	assert_errno(enc_ctx(dst, 197, 999), EBADF);
	assert_errno(enc_ctx(dst, 197, (uint64_t)pipefd[0]), EBADF);
	assert_errno(enc_ctx(dst, 197, (uint64_t)kvm), EBADF);
	assert_errno(enc_ctx(dst, 197, (uint64_t)sev), EBADF);
	assert_errno(enc_ctx(dst, 197, (uint64_t)dst), EINVAL);
	c.args[0] = (uint64_t)owner;
	assert_errno(ioctl(dst, KVM_ENABLE_CAP, &c), EINVAL);
	assert_errno(ioctl(dst, KVM_ENABLE_CAP, bad_ptr()), EFAULT);
	assert_errno(enc_ctx(dst, 197, (uint64_t)plain), EINVAL);
	/* Q3: only the low 32 bits of args[0] count. */
	assert_ok(enc_ctx(dst, 197, (1ull << 32) | (uint64_t)owner));
	assert_ok(sev_op(dst, KVM_SEV_GUEST_STATUS, &gs, sev, NULL));
	assert_int_equal(gs.handle, h);
	/* The mirror gate: only ids 4, 16, 17, 18. */
	assert_errno(sev_op(dst, KVM_SEV_LAUNCH_FINISH, NULL, sev, NULL),
		     EINVAL);
	assert_errno(sev_op(dst, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL, sev, NULL),
		     ENOTTY);
	{
		struct kvm_enc_region r = { 0, 4096 };

		assert_errno(ioctl(dst, KVM_MEMORY_ENCRYPT_REG_REGION, &r),
			     EINVAL);
		assert_errno(ioctl(dst, KVM_MEMORY_ENCRYPT_UNREG_REGION, &r),
			     EINVAL);
	}
	/* Mirror of a mirror; into a VM with vCPUs. */
	{
		int d2 = vm_new(kvm, 0), withcpu = vm_new(kvm, 0);
		int v = ioctl(withcpu, KVM_CREATE_VCPU, 0);

		assert_errno(enc_ctx(d2, 197, (uint64_t)dst), EINVAL);
		assert_true(v >= 0);
		assert_errno(enc_ctx(withcpu, 197, (uint64_t)owner), EINVAL);
		close(v);
		close(withcpu);
		close(d2);
	}
	close(pipefd[0]);
	close(pipefd[1]);
	close(plain);
	close(dst);
	close(owner);
}

static void test_move_and_dead(void **state)
{
	uint32_t h;
	int before = guest_count(sev);
	int src = sev_vm(kvm, sev, false, &h), dst = vm_new(kvm, 0);
	int typed = vm_new(kvm, VM_SEV);
	int vcpu = ioctl(src, KVM_CREATE_VCPU, 0);
	struct kvm_userspace_memory_region mr = { 0 };
	static uint8_t mem[4096] __attribute__((aligned(4096)));
	struct kvm_enc_region r = { (uintptr_t)mem, 4096 };

	assert_true(vcpu >= 0);
	assert_ok(ioctl(src, KVM_MEMORY_ENCRYPT_REG_REGION, &r));
	assert_errno(enc_ctx(typed, 206, (uint64_t)src), EINVAL);
	assert_ok(enc_ctx(dst, 206, (uint64_t)src));
	/* The source is dead: every VM and vCPU ioctl answers EIO. */
	assert_errno(sev_op(src, KVM_SEV_GUEST_STATUS, NULL, sev, NULL), EIO);
	assert_errno(ioctl(src, KVM_CREATE_VCPU, 1), EIO);
	assert_errno(ioctl(src, KVM_SET_USER_MEMORY_REGION, &mr), EIO);
	assert_errno(ioctl(src, KVM_CHECK_EXTENSION, 197), EIO);
	assert_errno(ioctl(vcpu, KVM_RUN, 0), EIO);
	assert_errno(ioctl(src, KVM_MEMORY_ENCRYPT_UNREG_REGION, &r), EIO);
	assert_errno(enc_ctx(src, 206, (uint64_t)dst), EIO);
	/* As a source it is simply not SEV any more. */
	assert_errno(enc_ctx(typed, 197, (uint64_t)src), EINVAL);
	/* The region moved with the context. */
	assert_ok(ioctl(dst, KVM_MEMORY_ENCRYPT_UNREG_REGION, &r));
	close(vcpu);
	close(src);
	assert_int_equal(guest_count(sev), before + 1);
	close(dst);
	assert_int_equal(guest_count(sev), before);
	close(typed);
}

/* §6.6: owner and mirror closed in both orders, with several mirrors. */
static void test_close_orders(void **state)
{
	int before = guest_count(sev), order;

	for (order = 0; order < 2; order++) {
		uint32_t h;
		int owner = sev_vm(kvm, sev, false, &h);
		int m1 = vm_new(kvm, 0), m2 = vm_new(kvm, 0);

		assert_ok(enc_ctx(m1, 197, (uint64_t)owner));
		assert_ok(enc_ctx(m2, 197, (uint64_t)owner));
		if (order == 0) {
			close(owner);
			assert_int_equal(guest_count(sev), before + 1);
			close(m1);
			assert_int_equal(guest_count(sev), before + 1);
			close(m2);
		} else {
			close(m2);
			close(m1);
			assert_int_equal(guest_count(sev), before + 1);
			close(owner);
		}
		assert_int_equal(guest_count(sev), before);
	}
}

/* The selftest's locking test: three threads MOVE among three VMs. */
struct storm {
	int vms[3];
	unsigned int seed;
};

static void *mover(void *arg)
{
	struct storm *s = arg;
	int i;

	for (i = 0; i < 300; i++) {
		int a = s->vms[rand_r(&s->seed) % 3];
		int b = s->vms[rand_r(&s->seed) % 3];
		int r = enc_ctx(a, 206, (uint64_t)b);

		/* Anything but a hang or a crash: 0, or EINVAL/EBUSY/EIO. */
		if (r)
			assert_true(errno == EINVAL || errno == EBUSY ||
				    errno == EIO);
	}
	return NULL;
}

static void test_move_storm(void **state)
{
	struct storm s[3];
	pthread_t t[3];
	int vms[3], i;

	/* One SEV VM and two empty ones: the context hops between them. */
	vms[0] = sev_vm(kvm, sev, false, NULL);
	vms[1] = vm_new(kvm, 0);
	vms[2] = vm_new(kvm, 0);
	for (i = 0; i < 3; i++) {
		memcpy(s[i].vms, vms, sizeof(vms));
		s[i].seed = 7u * (unsigned int)i + 1;
		assert_ok(pthread_create(&t[i], NULL, mover, &s[i]));
	}
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 3; i++)
		close(vms[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_rows),
		cmocka_unit_test(test_move_and_dead),
		cmocka_unit_test(test_close_orders),
		cmocka_unit_test(test_move_storm),
	};

	return cmocka_run_group_tests_name("conf_mirror", tests, setup,
					   teardown);
}
