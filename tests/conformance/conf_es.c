// SPDX-License-Identifier: MIT
/* SEV-ES vCPU rules (spec §4.3, §1.5) with real vCPUs. */
#include "conf.h"

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

static void test_typed_es_vm(void **state)
{
	int vm = vm_new(kvm, VM_SEV_ES), v0, v1;
	struct kvm_sev_init_v init = { .vmsa_features = 1u << 5 };
	struct kvm_sev_launch_start ls = { .policy = 0x4 };
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint32_t err;

	assert_ok(sev_op(vm, KVM_SEV_INIT2_ID, &init, sev, NULL));
	v0 = ioctl(vm, KVM_CREATE_VCPU, 0);
	v1 = ioctl(vm, KVM_CREATE_VCPU, 1);
	assert_true(v0 >= 0 && v1 >= 0);
	assert_ok(ioctl(v0, KVM_GET_REGS, &regs));
	regs.rip = 0xfff0;
	assert_ok(ioctl(v0, KVM_SET_REGS, &regs));
	assert_ok(sev_op(vm, KVM_SEV_LAUNCH_START, &ls, sev, NULL));
	assert_ok(sev_op(vm, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL, sev, &err));
	assert_int_equal(err, 0);
	/* Protected state is out of reach, for both vCPUs. */
	assert_errno(ioctl(v0, KVM_GET_REGS, &regs), EINVAL);
	assert_errno(ioctl(v1, KVM_SET_SREGS, &sregs), EINVAL);
	assert_errno(sev_op(vm, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL, sev, NULL),
		     EINVAL);
	close(v1);
	close(v0);
	close(vm);
}

static void test_guest_debug_refused(void **state)
{
	int vm = vm_new(kvm, VM_SEV_ES), v;
	struct kvm_sev_init_v init = { 0 };
	struct kvm_sev_launch_start ls = { .policy = 0x4 };
	struct kvm_guest_debug dbg = { .control = KVM_GUESTDBG_ENABLE };
	struct kvm_regs regs;

	assert_ok(sev_op(vm, KVM_SEV_INIT2_ID, &init, sev, NULL));
	v = ioctl(vm, KVM_CREATE_VCPU, 0);
	assert_true(v >= 0);
	assert_ok(ioctl(v, KVM_SET_GUEST_DEBUG, &dbg));
	assert_ok(sev_op(vm, KVM_SEV_LAUNCH_START, &ls, sev, NULL));
	assert_errno(sev_op(vm, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL, sev, NULL),
		     EINVAL);
	assert_ok(ioctl(v, KVM_GET_REGS, &regs));
	dbg.control = 0;
	assert_ok(ioctl(v, KVM_SET_GUEST_DEBUG, &dbg));
	assert_ok(sev_op(vm, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL, sev, NULL));
	close(v);
	close(vm);
}

/* The legacy ES_INIT VM is DEFAULT-typed: no protected-state guard. */
static void test_legacy_es_init(void **state)
{
	uint32_t h;
	int vm = sev_vm(kvm, sev, true, &h), v;
	struct kvm_regs regs;

	v = ioctl(vm, KVM_CREATE_VCPU, 0);
	assert_true(v >= 0);
	assert_ok(sev_op(vm, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL, sev, NULL));
	assert_ok(ioctl(v, KVM_GET_REGS, &regs));
	/* Not on a plain SEV VM. */
	{
		int plain = sev_vm(kvm, sev, false, &h);

		assert_errno(sev_op(plain, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL,
				    sev, NULL),
			     ENOTTY);
		close(plain);
	}
	close(v);
	close(vm);
}

/* MOVE of an SEV-ES VM: equal vCPU counts, every VMSA encrypted. */
static void test_es_move(void **state)
{
	uint32_t h;
	int src = sev_vm(kvm, sev, true, &h), dst = vm_new(kvm, 0), sv, dv;

	sv = ioctl(src, KVM_CREATE_VCPU, 0);
	assert_true(sv >= 0);
	assert_errno(enc_ctx(dst, 206, (uint64_t)src), EINVAL);
	dv = ioctl(dst, KVM_CREATE_VCPU, 0);
	assert_true(dv >= 0);
	assert_errno(enc_ctx(dst, 206, (uint64_t)src), EINVAL);
	assert_ok(sev_op(src, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL, sev, NULL));
	assert_ok(enc_ctx(dst, 206, (uint64_t)src));
	assert_errno(ioctl(sv, KVM_RUN, 0), EIO);
	close(dv);
	close(sv);
	close(dst);
	close(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_typed_es_vm),
		cmocka_unit_test(test_guest_debug_refused),
		cmocka_unit_test(test_legacy_es_init),
		cmocka_unit_test(test_es_move),
	};

	return cmocka_run_group_tests_name("conf_es", tests, setup, teardown);
}
