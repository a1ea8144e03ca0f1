// SPDX-License-Identifier: MIT
/*
 * The parts of the KVM uAPI that QEMU 7.2's KVM initialisation uses and
 * the earlier conformance programs do not reach, as Linux 6.12 answers
 * them on an AMD host: requests passed as a negative int, VM
 * capabilities QEMU enables, the boot CPU, XSAVE2, coalesced MMIO zones,
 * and a vCPU's whole MSR list (MCE banks, MTRRs) in one KVM_SET_MSRS.
 * Each check names the kernel function it pins.
 */
#include "conf.h"

#define PAGE 4096
#define BIG_ID (1ull << 40) /* above any KVM_MAX_VCPU_IDS */
#define MSR_APIC_BASE 0x1b
#define APIC_BSP (1ull << 8)
#define MCG_CTL_P (1ull << 8)

static int kvm;

static int setup(void **state)
{
	kvm = kvm_open();
	return 0;
}

static int teardown(void **state)
{
	close(kvm);
	return 0;
}

static int enable_cap(int vm, uint32_t cap, uint32_t flags, uint64_t arg0)
{
	struct kvm_enable_cap c = { .cap = cap, .flags = flags };

	c.args[0] = arg0;
	return ioctl(vm, KVM_ENABLE_CAP, &c);
}

/*
 * QEMU's kvm_ioctl() has "int type": the request reaches ioctl()
 * sign-extended.  The system call takes an unsigned int, so the kernel
 * sees the request itself (KVM_GET_MSR_INDEX_LIST has bit 31 set).
 */
static void test_request_as_negative_int(void **state)
{
	int req = (int)KVM_GET_MSR_INDEX_LIST;
	struct kvm_msr_list l = { .nmsrs = 0 };

	assert_true(req < 0);
	/* kvm_dev_ioctl_get_msr_index_list(): E2BIG, the count written */
	assert_errno(ioctl(kvm, req, &l), E2BIG);
	assert_true(l.nmsrs > 0);
}

/* kvm_vm_ioctl_enable_cap(): KVM_CAP_MAX_VCPU_ID, then precreate */
static void test_max_vcpu_id(void **state)
{
	int vm = vm_new(kvm, 0), fd;

	assert_errno(enable_cap(vm, KVM_CAP_MAX_VCPU_ID, 0, BIG_ID), EINVAL);
	assert_errno(enable_cap(vm, KVM_CAP_MAX_VCPU_ID, 1, 4), EINVAL);
	assert_ok(enable_cap(vm, KVM_CAP_MAX_VCPU_ID, 0, 4));
	assert_ok(enable_cap(vm, KVM_CAP_MAX_VCPU_ID, 0, 4)); /* same: 0 */
	assert_errno(enable_cap(vm, KVM_CAP_MAX_VCPU_ID, 0, 5), EINVAL);
	/* kvm_arch_vcpu_precreate(): id < max_vcpu_ids */
	assert_errno(ioctl(vm, KVM_CREATE_VCPU, 4), EINVAL);
	fd = ioctl(vm, KVM_CREATE_VCPU, 3);
	assert_true(fd >= 0);
	close(fd);
	close(vm);

	/* the first vCPU fixes the limit at KVM_MAX_VCPU_IDS */
	vm = vm_new(kvm, 0);
	fd = ioctl(vm, KVM_CREATE_VCPU, 0);
	assert_true(fd >= 0);
	assert_errno(enable_cap(vm, KVM_CAP_MAX_VCPU_ID, 0, 4), EINVAL);
	close(fd);
	close(vm);
}

/* kvm_vm_ioctl_enable_cap_generic(): KVM_CAP_HALT_POLL; unknown caps */
static void test_enable_cap_other(void **state)
{
	int vm = vm_new(kvm, 0);

	assert_int_equal(ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_HALT_POLL), 1);
	assert_ok(enable_cap(vm, KVM_CAP_HALT_POLL, 0, 200000));
	assert_errno(enable_cap(vm, KVM_CAP_HALT_POLL, 0, 1ull << 32), EINVAL);
	assert_errno(enable_cap(vm, KVM_CAP_HALT_POLL, 1, 0), EINVAL);
	/* a capability x86 does not have: the default case */
	assert_errno(enable_cap(vm, KVM_CAP_PPC_ALLOC_HTAB, 0, 0), EINVAL);
	close(vm);
}

static uint64_t apic_base(int vcpu)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[1];
	} m = { .h.nmsrs = 1, .e[0].index = MSR_APIC_BASE };

	assert_int_equal(ioctl(vcpu, KVM_GET_MSRS, &m), 1);
	return m.e[0].data;
}

/* kvm_arch_vm_ioctl(KVM_SET_BOOT_CPU_ID); kvm_lapic_reset()'s BSP flag */
static void test_boot_cpu_id(void **state)
{
	int vm = vm_new(kvm, 0), c0, c1;

	assert_ok(enable_cap(vm, KVM_CAP_MAX_VCPU_ID, 0, 2));
	assert_errno(ioctl(vm, KVM_SET_BOOT_CPU_ID, 3), EINVAL);
	assert_ok(ioctl(vm, KVM_SET_BOOT_CPU_ID, 1));
	c0 = ioctl(vm, KVM_CREATE_VCPU, 0);
	c1 = ioctl(vm, KVM_CREATE_VCPU, 1);
	assert_true(c0 >= 0 && c1 >= 0);
	assert_int_equal(apic_base(c0) & APIC_BSP, 0);
	assert_int_equal(apic_base(c1) & APIC_BSP, APIC_BSP);
	assert_errno(ioctl(vm, KVM_SET_BOOT_CPU_ID, 0), EBUSY);
	close(c0);
	close(c1);
	close(vm);
}

/* kvm_arch_vcpu_ioctl(KVM_GET_XSAVE2): guest_fpu.uabi_size bytes */
static void test_xsave2(void **state)
{
	int vm = vm_new(kvm, 0), vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	long size = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	struct kvm_xsave *a, *b;

	assert_true(vcpu >= 0);
	assert_true(size >= (long)sizeof(struct kvm_xsave));
	a = calloc(1, (size_t)size);
	b = calloc(1, (size_t)size);
	assert_ok(ioctl(vcpu, KVM_GET_XSAVE, a));
	assert_ok(ioctl(vcpu, KVM_GET_XSAVE2, b));
	/* the legacy region and the header agree; FCW is reset's 0x37f */
	assert_memory_equal(a, b, 576);
	assert_int_equal(b->region[0] & 0xffff, 0x37f);
	free(a);
	free(b);
	close(vcpu);
	close(vm);
}

static int zone(int vm, unsigned long req, uint64_t addr, uint32_t size,
		uint32_t pio)
{
	struct kvm_coalesced_mmio_zone z = { .addr = addr,
					     .size = size,
					     .pio = pio };

	return ioctl(vm, req, &z);
}

/* kvm_vm_ioctl_{register,unregister}_coalesced_mmio() */
static void test_coalesced_zones(void **state)
{
	int vm = vm_new(kvm, 0), i;

	assert_int_equal(
		ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO),
		KVM_COALESCED_MMIO_PAGE_OFFSET);
	assert_errno(zone(vm, KVM_REGISTER_COALESCED_MMIO, 0xd0000000, PAGE, 2),
		     EINVAL);
	assert_errno(zone(vm, KVM_UNREGISTER_COALESCED_MMIO, 0, PAGE, 2),
		     EINVAL);
	/* an unknown zone unregisters quietly */
	assert_ok(zone(vm, KVM_UNREGISTER_COALESCED_MMIO, 0x1000, PAGE, 0));
	/* kvm_io_bus_register_dev(): NR_IOBUS_DEVS (1000) per bus */
	for (i = 0; i < 1000; i++)
		assert_ok(zone(vm, KVM_REGISTER_COALESCED_MMIO,
			       0xd0000000 + (uint64_t)i * PAGE, PAGE, 0));
	assert_errno(zone(vm, KVM_REGISTER_COALESCED_MMIO, 0xe0000000, PAGE, 0),
		     ENOSPC);
	/* the port bus is another bus */
	assert_ok(zone(vm, KVM_REGISTER_COALESCED_MMIO, 0x70, 2, 1));
	/* a range inside a zone removes that zone: room for one more */
	assert_ok(zone(vm, KVM_UNREGISTER_COALESCED_MMIO, 0xd0000010, 8, 0));
	assert_ok(zone(vm, KVM_REGISTER_COALESCED_MMIO, 0xe0000000, PAGE, 0));
	assert_errno(zone(vm, KVM_REGISTER_COALESCED_MMIO, 0xe0001000, PAGE, 0),
		     ENOSPC);
	close(vm);
}

/*
 * kvm_set_msr_common(): what QEMU's kvm_put_msrs() writes at reset, in
 * one call -- the MCE banks of KVM_X86_SETUP_MCE and every MTRR.
 */
#define NBANKS 10
static void test_many_msrs(void **state)
{
	static const uint32_t mtrr[] = { 0x250, 0x258, 0x259, 0x268,
					 0x269, 0x26a, 0x26b, 0x26c,
					 0x26d, 0x26e, 0x26f, 0x2ff };
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[128];
	} m;
	int vm = vm_new(kvm, 0), vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	uint64_t mcg_cap = NBANKS | MCG_CTL_P;
	uint32_t i, n = 0;

	assert_true(vcpu >= 0);
	assert_ok(ioctl(vcpu, KVM_X86_SETUP_MCE, &mcg_cap));
	memset(&m, 0, sizeof(m));
	for (i = 0; i < 4 * NBANKS; i++) {
		m.e[n].index = 0x400 + i;
		m.e[n++].data = (i % 4) ? 0 : ~0ull; /* CTL all ones */
	}
	for (i = 0; i < 16; i++) { /* 8 variable ranges: base, mask */
		m.e[n].index = 0x200 + i;
		m.e[n++].data = (i & 1) ? 0 : 6;
	}
	for (i = 0; i < sizeof(mtrr) / sizeof(mtrr[0]); i++) {
		m.e[n].index = mtrr[i];
		m.e[n++].data =
			mtrr[i] == 0x2ff ? 0xc06 : 0x0606060606060606ull;
	}
	m.h.nmsrs = n;
	assert_int_equal(ioctl(vcpu, KVM_SET_MSRS, &m), n);
	for (i = 0; i < n; i++)
		m.e[i].data = 0x5a5a;
	assert_int_equal(ioctl(vcpu, KVM_GET_MSRS, &m), n);
	assert_int_equal(m.e[0].data, ~0ull);
	assert_int_equal(m.e[4 * NBANKS].data, 6);
	assert_int_equal(m.e[n - 1].data, 0xc06);
	/* kvm_mtrr_get_msr(): MTRRcap is WC | FIX | 8 ranges, read-only */
	m.h.nmsrs = 1;
	m.e[0].index = 0xfe;
	assert_int_equal(ioctl(vcpu, KVM_GET_MSRS, &m), 1);
	assert_int_equal(m.e[0].data, 0x508);
	assert_int_equal(ioctl(vcpu, KVM_SET_MSRS, &m), 0);
	close(vcpu);
	close(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_as_negative_int),
		cmocka_unit_test(test_max_vcpu_id),
		cmocka_unit_test(test_enable_cap_other),
		cmocka_unit_test(test_boot_cpu_id),
		cmocka_unit_test(test_xsave2),
		cmocka_unit_test(test_coalesced_zones),
		cmocka_unit_test(test_many_msrs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
