// SPDX-License-Identifier: MIT
/* Spec §1.1, §1.2, §1.5 and §4 rows through the real ioctl path. */
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

static void test_caps(void **state)
{
	struct kvm_device_attr a = { .group = 1, .attr = 0 };
	uint64_t v = 0;

	assert_int_equal(ioctl(kvm, KVM_CHECK_EXTENSION, 197), 1);
	assert_int_equal(ioctl(kvm, KVM_CHECK_EXTENSION, 206), 1);
	assert_int_equal(ioctl(kvm, KVM_CHECK_EXTENSION, 235) & 0xd, 0xd);
	a.addr = (uintptr_t)&v;
	assert_ok(ioctl(kvm, KVM_HAS_DEVICE_ATTR, &a));
	assert_ok(ioctl(kvm, KVM_GET_DEVICE_ATTR, &a));
	assert_int_equal(v, 1u << 5);
	a.attr = 9;
	assert_errno(ioctl(kvm, KVM_GET_DEVICE_ATTR, &a), ENXIO);
	/* SNP is not offered. */
	assert_errno(ioctl(kvm, KVM_CREATE_VM, 4ul), EINVAL);
}

static void test_cpuid(void **state)
{
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[256];
	} c;
	uint32_t i;
	bool seen = false;

	memset(&c, 0, sizeof(c));
	c.h.nent = 256;
	assert_ok(ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &c));
	for (i = 0; i < c.h.nent; i++) {
		struct kvm_cpuid_entry2 *e = &c.e[i];

		if (e->function == 0x8000001F) {
			seen = true;
			assert_int_equal(e->eax & 0xa, 0xa); /* SEV, SEV-ES */
			assert_int_equal(e->ebx & 0x3f, 51);
			assert_int_equal(e->ecx, 1006);
			assert_int_equal(e->edx, 100);
		}
		if (e->function == 0x80000000)
			assert_true(e->eax >= 0x8000001F);
	}
	assert_true(seen);
}

static void test_dispatcher(void **state)
{
	int vm = vm_new(kvm, 0);
	struct kvm_sev_cmd c = { .id = 23, .error = 0x77 };
	uint32_t err;

	assert_ok(ioctl(vm, KVM_MEMORY_ENCRYPT_OP, NULL));
	assert_errno(ioctl(vm, KVM_MEMORY_ENCRYPT_OP, bad_ptr()), EFAULT);
	assert_errno(ioctl(vm, KVM_MEMORY_ENCRYPT_OP, &c), EINVAL);
	assert_int_equal(c.error, 0x77);
	assert_errno(sev_op(vm, KVM_SEV_SEND_UPDATE_VMSA, NULL, sev, &err),
		     EINVAL);
	assert_int_equal(err, 0xdead);
	assert_errno(sev_op(vm, KVM_SEV_GUEST_STATUS, NULL, sev, NULL),
		     ENOTTY);
	assert_errno(sev_op(vm, KVM_SEV_RECEIVE_UPDATE_DATA, NULL, sev, NULL),
		     EINVAL);
	close(vm);
}

static void test_init_rules(void **state)
{
	int def = vm_new(kvm, 0), typed = vm_new(kvm, VM_SEV_ES);
	struct kvm_sev_init_v init = { .ghcb_version = 3 };
	int vcpu;

	assert_errno(sev_op(typed, KVM_SEV_INIT, NULL, sev, NULL), EINVAL);
	assert_errno(sev_op(def, KVM_SEV_INIT2_ID, &init, sev, NULL), EINVAL);
	assert_errno(sev_op(typed, KVM_SEV_INIT2_ID, &init, sev, NULL), EINVAL);
	assert_errno(sev_op(typed, KVM_SEV_INIT2_ID, bad_ptr(), sev, NULL),
		     EFAULT);
	/* A vCPU before INIT2: KVM_RUN says EINVAL, and INIT2 is refused. */
	vcpu = ioctl(typed, KVM_CREATE_VCPU, 0);
	assert_true(vcpu >= 0);
	assert_errno(ioctl(vcpu, KVM_RUN, 0), EINVAL);
	init.ghcb_version = 0;
	assert_errno(sev_op(typed, KVM_SEV_INIT2_ID, &init, sev, NULL), EINVAL);
	assert_ok(sev_op(def, KVM_SEV_INIT, NULL, sev, NULL));
	assert_errno(sev_op(def, KVM_SEV_INIT, NULL, sev, NULL), EINVAL);
	close(vcpu);
	close(typed);
	close(def);
}

static void test_launch_and_status(void **state)
{
	uint32_t handle, err;
	int before = guest_count(sev);
	int vm = sev_vm(kvm, sev, false, &handle);
	struct kvm_sev_guest_status gs;
	struct kvm_sev_launch_measure m = { 0, 0 };
	static uint8_t mem[8192] __attribute__((aligned(4096)));
	struct kvm_sev_launch_update_data up = { (uintptr_t)mem, 8192 };
	uint8_t out[64];

	assert_int_equal(guest_count(sev), before + 1);
	assert_ok(sev_op(vm, KVM_SEV_GUEST_STATUS, &gs, sev, &err));
	assert_int_equal(err, 0);
	assert_int_equal(gs.handle, handle);
	assert_int_equal(gs.state, 1);
	assert_ok(sev_op(vm, KVM_SEV_LAUNCH_UPDATE_DATA, &up, sev, NULL));
	assert_errno(sev_op(vm, KVM_SEV_LAUNCH_MEASURE, &m, sev, &err), EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	assert_int_equal(m.len, 48);
	m.uaddr = (uintptr_t)out;
	m.len = sizeof(out);
	assert_ok(sev_op(vm, KVM_SEV_LAUNCH_MEASURE, &m, sev, NULL));
	assert_ok(sev_op(vm, KVM_SEV_LAUNCH_FINISH, NULL, sev, NULL));
	/* The /dev/sev fd is resolved by number at every command (Q4). */
	{
		struct kvm_sev_cmd c = { .id = KVM_SEV_GUEST_STATUS,
					 .data = (uintptr_t)&gs,
					 .sev_fd = 0 };
		int saved = dup(sev);

		close(sev);
		assert_errno(ioctl(vm, KVM_MEMORY_ENCRYPT_OP, &c), EBADF);
		assert_int_equal(dup2(saved, sev), sev);
		close(saved);
		assert_ok(ioctl(vm, KVM_MEMORY_ENCRYPT_OP, &c));
		assert_int_equal(gs.state, 3);
	}
	close(vm);
	assert_int_equal(guest_count(sev), before);
}

static void test_sev_device(void **state)
{
	int ro = open("/dev/sev", O_RDONLY);
	struct sev_issue_cmd c = { SEV_PDH_GEN, 0, 0xbeef };
	struct sev_user_data_pdh_cert_export e = { 0 };

	assert_true(ro >= 0);
	assert_errno(ioctl(ro, SEV_ISSUE_CMD, &c), EPERM);
	assert_int_equal(c.error, 0xbeef);
	assert_errno(ioctl(ro, SEV_ISSUE_CMD + 1, &c), EINVAL);
	c.cmd = SEV_PDH_CERT_EXPORT;
	c.data = (uintptr_t)&e;
	assert_errno(ioctl(ro, SEV_ISSUE_CMD, &c), EIO);
	assert_int_equal(c.error, SEV_RET_INVALID_LEN);
	assert_int_equal(e.pdh_cert_len, 0x824);
	assert_int_equal(e.cert_chain_len, 3 * 0x824);
	close(ro);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_cpuid),
		cmocka_unit_test(test_dispatcher),
		cmocka_unit_test(test_init_rules),
		cmocka_unit_test(test_launch_and_status),
		cmocka_unit_test(test_sev_device),
	};

	return cmocka_run_group_tests_name("conf_dispatch", tests, setup,
					   teardown);
}
