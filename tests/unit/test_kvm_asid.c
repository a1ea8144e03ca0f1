// SPDX-License-Identifier: MIT
/*
 * kvm/: ASID allocation, reclaim and recycling with WBINVD + DF_FLUSH,
 * misc cgroup limits (spec §3, test idea §6.10) on the Rome/Milan (509)
 * and Genoa (1006) layouts.
 */
#include "kvm_fixture.h"

static struct kx *layout(unsigned int max, unsigned int min)
{
	struct psp_config pc;

	psp_config_default(&pc);
	pc.max_asid = max;
	pc.min_sev_asid = min;
	pc.max_guests = 2048;
	return kx_new_psp(&pc, NULL);
}

static struct kvm_asid_info asids(struct kx *x)
{
	struct kvm_asid_info a;

	kvm_asid_info(x->host, &a);
	return a;
}

/* Fill a range; returns the fd of the first VM. */
static int fill(struct kx *x, bool es, unsigned int n, unsigned int first)
{
	unsigned int i;
	int fd0 = -1;

	for (i = 0; i < n; i++) {
		int fd = kx_vm(x, KVM_X86_DEFAULT_VM);

		if (fd0 < 0)
			fd0 = fd;
		assert_int_equal(kx_op(x, fd, es ? KVM_SEV_ES_INIT :
						   KVM_SEV_INIT,
				       NULL), 0);
		assert_int_equal(kx_info(x, fd).asid, first + i);
	}
	return fd0;
}

/* §3.2: the lowest free ASID, never reused until the range runs out. */
static void test_monotonic_then_recycle(void **state)
{
	struct kx *x = layout(20, 10);
	int a = kx_sev_vm(x, false), b;
	uint32_t h;

	assert_int_equal(kx_info(x, a).asid, 10);
	h = kx_launch(x, a, 0);
	(void)h;
	kx_close(x, a);
	/* Freed to reclaim, the firmware context deactivated (dirty). */
	assert_true(kvm_asid_reclaim(x->host, 10));
	assert_true(kvm_asid_in_use(x->host, 10));
	assert_int_equal(psp_dirty_asids(x->f.psp), 1);
	b = kx_sev_vm(x, false);
	assert_int_equal(kx_info(x, b).asid, 11);
	kx_close(x, b);
	/* Use up 12..20, then the next INIT flushes once and gets 10. */
	fill(x, false, 9, 12);
	assert_int_equal(asids(x).flushes, 0);
	b = kx_sev_vm(x, false);
	assert_int_equal(kx_info(x, b).asid, 10);
	assert_int_equal(asids(x).flushes, 1);
	assert_false(kvm_asid_reclaim(x->host, 11));
	assert_int_equal(psp_dirty_asids(x->f.psp), 0);
	/* The firmware agrees the ASID is clean: ACTIVATE succeeds. */
	kx_launch(x, b, 0);
	b = kx_sev_vm(x, false);
	assert_int_equal(kx_info(x, b).asid, 11);
	/* Now everything is taken and nothing reclaimable: EBUSY. */
	b = kx_vm(x, KVM_X86_DEFAULT_VM);
	assert_int_equal(kx_op(x, b, KVM_SEV_INIT, NULL), -EBUSY);
	assert_false(kx_info(x, b).active);
	assert_int_equal(asids(x).flushes, 1);
	assert_int_equal(kvm_misc_cg_current(kvm_misc_cg_root(x->host),
					     KVM_MISC_SEV), 11);
	kx_free(x);
}

/* ES and SEV ranges are separate; a flush frees reclaim in both. */
static void test_ranges_independent(void **state)
{
	struct kx *x = layout(20, 10);
	int es0, sev0, fd;

	es0 = fill(x, true, 9, 1);
	sev0 = fill(x, false, 11, 10);
	fd = kx_vm(x, KVM_X86_DEFAULT_VM);
	assert_int_equal(kx_op(x, fd, KVM_SEV_ES_INIT, NULL), -EBUSY);
	/* Freeing an SEV ASID does not help the ES range: no flush. */
	kx_close(x, sev0);
	assert_int_equal(kx_op(x, fd, KVM_SEV_ES_INIT, NULL), -EBUSY);
	assert_int_equal(asids(x).flushes, 0);
	/* Freeing an ES ASID does: one flush, which also frees ASID 10. */
	kx_close(x, es0);
	assert_int_equal(kx_op(x, fd, KVM_SEV_ES_INIT, NULL), 0);
	assert_int_equal(kx_info(x, fd).asid, 1);
	assert_int_equal(asids(x).flushes, 1);
	assert_int_equal(asids(x).reclaim_sev, 0);
	fd = kx_sev_vm(x, false);
	assert_int_equal(kx_info(x, fd).asid, 10);
	assert_int_equal(asids(x).flushes, 1);
	kx_free(x);
}

static void test_genoa_layout(void **state)
{
	struct kx *x = layout(1006, 100);
	struct kvm_asid_info a;
	int fd;

	assert_int_equal(kvm_misc_capacity(x->host, KVM_MISC_SEV), 907);
	assert_int_equal(kvm_misc_capacity(x->host, KVM_MISC_SEV_ES), 99);
	fill(x, true, 99, 1);
	fill(x, false, 907, 100);
	a = asids(x);
	assert_int_equal(a.in_use_es, 99);
	assert_int_equal(a.in_use_sev, 907);
	assert_int_equal(a.live_vms, 1006);
	fd = kx_vm(x, KVM_X86_DEFAULT_VM);
	assert_int_equal(kx_op(x, fd, KVM_SEV_INIT, NULL), -EBUSY);
	assert_int_equal(kx_op(x, fd, KVM_SEV_ES_INIT, NULL), -EBUSY);
	kx_free(x);
}

static void test_rome_milan_layouts(void **state)
{
	struct kx *x;
	int fd;

	/* Rome with a BIOS split at 10: nine SEV-ES ASIDs. */
	x = layout(509, 10);
	assert_int_equal(kvm_misc_capacity(x->host, KVM_MISC_SEV), 500);
	assert_int_equal(kvm_misc_capacity(x->host, KVM_MISC_SEV_ES), 9);
	fill(x, true, 9, 1);
	fill(x, false, 500, 10);
	fd = kx_vm(x, KVM_X86_DEFAULT_VM);
	assert_int_equal(kx_op(x, fd, KVM_SEV_ES_INIT, NULL), -EBUSY);
	kx_free(x);
	/* Milan's default split (min 1): no SEV-ES at all. */
	x = layout(509, 1);
	assert_int_equal(kvm_misc_capacity(x->host, KVM_MISC_SEV_ES), 0);
	fd = kx_vm(x, KVM_X86_DEFAULT_VM);
	assert_int_equal(kx_op(x, fd, KVM_SEV_ES_INIT, NULL), -ENOTTY);
	assert_int_equal(kx_op(x, fd, KVM_SEV_INIT, NULL), 0);
	assert_int_equal(kx_info(x, fd).asid, 1);
	kx_free(x);
}

/* §3.1 (v6.9+): every ASID given to SEV-ES leaves SEV "unusable". */
static void test_zero_sev_asids(void **state)
{
	struct kx *x = layout(99, 100);
	int fd = kx_vm(x, KVM_X86_DEFAULT_VM);

	assert_int_equal(kvm_misc_capacity(x->host, KVM_MISC_SEV), 0);
	assert_int_equal(kx_op(x, fd, KVM_SEV_INIT, NULL), -ENOTTY);
	assert_false(kx_info(x, fd).active);
	assert_int_equal(kx_op(x, fd, KVM_SEV_ES_INIT, NULL), 0);
	kx_free(x);
}

/* The cgroup limit says EBUSY before the bitmap is touched. */
static void test_cgroup_limits(void **state)
{
	struct kx *x = layout(20, 10);
	struct kvm_misc_cg *parent, *child;
	int fd;

	assert_int_equal(kvm_misc_cg_create(x->host, NULL, &parent), 0);
	assert_int_equal(kvm_misc_cg_create(x->host, parent, &child), 0);
	kvm_misc_cg_set_max(parent, KVM_MISC_SEV, 2);
	x->c.cg = child;
	kx_sev_vm(x, false);
	kx_sev_vm(x, false);
	assert_int_equal(kvm_misc_cg_current(parent, KVM_MISC_SEV), 2);
	assert_int_equal(kvm_misc_cg_current(child, KVM_MISC_SEV), 2);
	fd = kx_vm(x, KVM_X86_DEFAULT_VM);
	assert_int_equal(kx_op(x, fd, KVM_SEV_INIT, NULL), -EBUSY);
	assert_int_equal(asids(x).in_use_sev, 2);
	assert_int_equal(kvm_misc_cg_current(child, KVM_MISC_SEV), 2);
	/* The ES pool is a separate resource. */
	assert_int_equal(kx_op(x, fd, KVM_SEV_ES_INIT, NULL), 0);
	assert_int_equal(kvm_misc_cg_current(child, KVM_MISC_SEV_ES), 1);
	/* The root has everything. */
	assert_int_equal(kvm_misc_cg_current(kvm_misc_cg_root(x->host),
					     KVM_MISC_SEV), 2);
	kx_close(x, fd);
	assert_int_equal(kvm_misc_cg_current(child, KVM_MISC_SEV_ES), 0);
	kx_free(x);
}

/* §3.5: a DF_FLUSH failure during recycling makes the INIT EBUSY. */
static void test_df_flush_failure(void **state)
{
	struct kx *x = layout(11, 10);
	struct psp_fault f;
	int a = kx_sev_vm(x, false), b, c;

	kx_sev_vm(x, false);
	kx_close(x, a);
	assert_int_equal(psp_fault_parse("DF_FLUSH=HWERROR_PLATFORM@once", &f),
			 0);
	assert_int_equal(psp_fault_add(x->f.psp, &f), 0);
	b = kx_vm(x, KVM_X86_DEFAULT_VM);
	assert_int_equal(kx_op(x, b, KVM_SEV_INIT, NULL), -EBUSY);
	assert_int_equal(asids(x).flushes, 0);
	assert_true(kvm_asid_reclaim(x->host, 10));
	/* The next attempt flushes and gets the recycled ASID. */
	c = kx_vm(x, KVM_X86_DEFAULT_VM);
	assert_int_equal(kx_op(x, c, KVM_SEV_INIT, NULL), 0);
	assert_int_equal(kx_info(x, c).asid, 10);
	assert_int_equal(asids(x).flushes, 1);
	kx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_monotonic_then_recycle),
		cmocka_unit_test(test_ranges_independent),
		cmocka_unit_test(test_genoa_layout),
		cmocka_unit_test(test_rome_milan_layouts),
		cmocka_unit_test(test_zero_sev_asids),
		cmocka_unit_test(test_cgroup_limits),
		cmocka_unit_test(test_df_flush_failure),
	};

	return cmocka_run_group_tests_name("kvm_asid", tests, fx_group_setup,
					   fx_group_teardown);
}
