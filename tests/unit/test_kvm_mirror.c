// SPDX-License-Identifier: MIT
/*
 * kvm/: mirror VMs (COPY_ENC_CONTEXT_FROM), intra-host migration
 * (MOVE_ENC_CONTEXT_FROM), lifetimes and their cgroup charges (spec §2,
 * history §5, test ideas §6.1–§6.11).
 */
#include "kvm_fixture.h"

static int setup(void **state)
{
	*state = kx_new();
	return 0;
}

static int teardown(void **state)
{
	kx_free(*state);
	return 0;
}

static void test_copy_errnos(void **state)
{
	struct kx *x = *state;
	int owner = kx_sev_vm(x, false), dst = kx_vm(x, KVM_X86_DEFAULT_VM);
	int plain = kx_vm(x, KVM_X86_DEFAULT_VM);
	struct kvm_enable_cap ec = { .cap = KVM_CAP_VM_COPY_ENC_CONTEXT_FROM };

	/* §6.1: closed fd, /dev/sev, self, flags. */
	assert_int_equal(kx_copy(x, dst, 60), -EBADF);
	assert_int_equal(kx_copy(x, dst, SEV_FD), -EBADF);
	assert_int_equal(kx_copy(x, dst, dst), -EINVAL);
	ec.flags = 1;
	ec.args[0] = (uint64_t)owner;
	assert_int_equal(kvm_vm_enable_cap(kx_get(x, dst), &x->c,
					   (uintptr_t)&ec), -EINVAL);
	assert_int_equal(kvm_vm_enable_cap(kx_get(x, dst), &x->c,
					   um_bad_address()), -EFAULT);
	/* §6.2: from a VM that is not SEV. */
	assert_int_equal(kx_copy(x, dst, plain), -EINVAL);
	/* Into a VM that has vCPUs (79b111427637). */
	kx_vcpu(x, plain);
	assert_int_equal(kx_copy(x, plain, owner), -EINVAL);
	/* Into an SEV VM. */
	{
		int sev = kx_sev_vm(x, false);

		assert_int_equal(kx_copy(x, sev, owner), -EINVAL);
	}
	/* Q3: args[0] is truncated to 32 bits. */
	assert_int_equal(kx_copy(x, dst, (1ull << 32) | (uint64_t)owner), 0);
	/* Mirror of a mirror; copy into a mirror. */
	{
		int d2 = kx_vm(x, KVM_X86_DEFAULT_VM);

		assert_int_equal(kx_copy(x, d2, dst), -EINVAL);
		assert_int_equal(kx_copy(x, dst, owner), -EINVAL);
	}
	/* The destination being dead is generic EIO. */
}

static void test_copy_fields_and_gate(void **state)
{
	static const uint32_t allowed[] = { KVM_SEV_LAUNCH_UPDATE_VMSA,
					    KVM_SEV_GUEST_STATUS,
					    KVM_SEV_DBG_DECRYPT,
					    KVM_SEV_DBG_ENCRYPT };
	struct kx *x = *state;
	int owner = kx_vm(x, KVM_X86_SEV_ES_VM), m = kx_vm(x, KVM_X86_SEV_VM);
	struct kvm_sev_init init = { .vmsa_features = 1ull << 5 };
	struct kvm_vm_info oi, mi;
	struct kvm_sev_guest_status gs;
	uint32_t id, h, err;
	static uint8_t mem[4096] __attribute__((aligned(4096)));
	struct kvm_enc_region r = { (uintptr_t)mem, 4096 };

	assert_int_equal(kx_op(x, owner, SOFTSEV_KVM_SEV_INIT2, &init), 0);
	h = kx_launch(x, owner, SEV_POLICY_ES | SEV_POLICY_NOKS);
	/* No VM-type check on COPY; the mirror's need_init is cleared. */
	assert_int_equal(kx_copy(x, m, owner), 0);
	oi = kx_info(x, owner);
	mi = kx_info(x, m);
	assert_true(mi.mirror && mi.active && mi.es_active && !mi.need_init);
	assert_ptr_equal(mi.owner, kx_get(x, owner));
	assert_int_equal(mi.asid, oi.asid);
	assert_int_equal(mi.handle, h);
	assert_int_equal(mi.fd, SEV_FD);
	/* Not copied: policy, vmsa_features (Q6), ghcb_version, cgroup. */
	assert_int_equal(mi.policy, 0);
	assert_int_equal(mi.vmsa_features, 0);
	assert_int_equal(mi.ghcb_version, 0);
	assert_null(mi.cg);
	assert_int_equal(oi.nr_mirrors, 1);
	assert_int_equal(oi.refcount, 2);
	/* §6.5: the gate answers EINVAL before looking at data. */
	for (id = 0; id <= SOFTSEV_KVM_SEV_SNP_LAUNCH_FINISH + 2; id++) {
		if (id == allowed[0] || id == allowed[1] || id == allowed[2] ||
		    id == allowed[3])
			continue;
		assert_int_equal(kx_op_err(x, m, id, NULL, &err), -EINVAL);
		assert_int_equal(err, 0xdead);
	}
	memset(&gs, 0, sizeof(gs));
	assert_int_equal(kx_op(x, m, KVM_SEV_GUEST_STATUS, &gs), 0);
	assert_int_equal(gs.handle, h);
	assert_int_equal(gs.policy, SEV_POLICY_ES | SEV_POLICY_NOKS);
	assert_int_equal(gs.state, GSTATE_LUPDATE);
	/* An ES mirror measures its own vCPUs into the owner's context. */
	kx_vcpu(x, m);
	assert_int_equal(kx_op(x, m, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL), 0);
	assert_int_equal(x->vmsa_builds, 1);
	/* Regions: EINVAL on a mirror, UNREG without the lock. */
	assert_int_equal(kvm_vm_reg_region(kx_get(x, m), &x->c, (uintptr_t)&r),
			 -EINVAL);
	assert_int_equal(kvm_vm_unreg_region(kx_get(x, m), &x->c,
					     (uintptr_t)&r),
			 -EINVAL);
	/* After the owner's LAUNCH_FINISH the firmware refuses VMSAs. */
	{
		uint8_t out[SEV_MEASURE_LEN];
		struct kvm_sev_launch_measure lm = { (uintptr_t)out,
						     sizeof(out) };

		assert_int_equal(kx_op(x, owner, KVM_SEV_LAUNCH_MEASURE, &lm),
				 0);
		assert_int_equal(kx_op(x, owner, KVM_SEV_LAUNCH_FINISH, NULL),
				 0);
		/* vCPU 0 is already protected: the loop stops there. */
		kx_vcpu(x, m);
		assert_int_equal(kx_op(x, m, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL),
				 -EINVAL);
		/* A fresh mirror reaches the firmware, which says no. */
		{
			int m2 = kx_vm(x, KVM_X86_DEFAULT_VM);

			assert_int_equal(kx_copy(x, m2, owner), 0);
			kx_vcpu(x, m2);
			assert_int_equal(kx_op_err(x, m2,
						   KVM_SEV_LAUNCH_UPDATE_VMSA,
						   NULL, &err),
					 -EIO);
			assert_int_equal(err, SEV_RET_INVALID_GUEST_STATE);
		}
	}
}

static void test_copy_non_es_mirror_vmsa(void **state)
{
	struct kx *x = *state;
	int owner = kx_sev_vm(x, false), m = kx_vm(x, KVM_X86_DEFAULT_VM);

	kx_launch(x, owner, 0);
	assert_int_equal(kx_copy(x, m, owner), 0);
	assert_int_equal(kx_op(x, m, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL),
			 -ENOTTY);
	/* DBG through the mirror reads the owner's guest. */
	{
		static uint8_t mem[64] __attribute__((aligned(16)));
		uint8_t out[64];
		struct kvm_sev_dbg d = { (uintptr_t)mem, (uintptr_t)out, 64 };

		memset(mem, 0x3c, sizeof(mem));
		assert_int_equal(kx_op(x, m, KVM_SEV_DBG_DECRYPT, &d), 0);
		assert_memory_equal(out, mem, 64);
	}
}

/* §6.6: owner closed first; the context dies with the last mirror. */
static void test_lifetime_owner_first(void **state)
{
	struct kx *x = *state;
	int owner = kx_sev_vm(x, false);
	int m1 = kx_vm(x, KVM_X86_DEFAULT_VM), m2 = kx_vm(x, KVM_X86_DEFAULT_VM);
	uint32_t h = kx_launch(x, owner, 0), asid = kx_info(x, owner).asid;
	struct psp_guest_info gi;

	assert_int_equal(kx_copy(x, m1, owner), 0);
	assert_int_equal(kx_copy(x, m2, owner), 0);
	kx_close(x, owner);
	assert_int_equal(psp_guest_info(x->f.psp, h, &gi), 0);
	assert_true(gi.active);
	assert_false(kvm_asid_reclaim(x->host, asid));
	kx_close(x, m1);
	assert_int_equal(psp_guest_info(x->f.psp, h, &gi), 0);
	kx_close(x, m2);
	/* DEACTIVATE + DECOMMISSION exactly once, ASID parked in reclaim. */
	assert_int_equal(psp_guest_info(x->f.psp, h, &gi), -ENOENT);
	assert_int_equal(psp_guest_count(x->f.psp), 0);
	assert_true(kvm_asid_reclaim(x->host, asid));
	assert_int_equal(psp_dirty_asids(x->f.psp), 1);
}

static void test_lifetime_mirror_first(void **state)
{
	struct kx *x = *state;
	int owner = kx_sev_vm(x, false), m = kx_vm(x, KVM_X86_DEFAULT_VM);
	uint32_t h = kx_launch(x, owner, 0);
	struct psp_guest_info gi;

	assert_int_equal(kx_copy(x, m, owner), 0);
	kx_close(x, m);
	assert_int_equal(kx_info(x, owner).nr_mirrors, 0);
	assert_int_equal(kx_info(x, owner).refcount, 1);
	/* The mirror's death touched neither handle nor ASID. */
	assert_int_equal(psp_guest_info(x->f.psp, h, &gi), 0);
	assert_true(gi.active);
	assert_int_equal(kvm_misc_cg_current(kvm_misc_cg_root(x->host),
					     KVM_MISC_SEV), 1);
	kx_close(x, owner);
	assert_int_equal(psp_guest_count(x->f.psp), 0);
	assert_int_equal(kvm_misc_cg_current(kvm_misc_cg_root(x->host),
					     KVM_MISC_SEV), 0);
}

static void test_move_errnos(void **state)
{
	struct kx *x = *state;
	int src = kx_sev_vm(x, false), dst = kx_vm(x, KVM_X86_DEFAULT_VM);
	int sev_typed = kx_vm(x, KVM_X86_SEV_VM);
	int plain = kx_vm(x, KVM_X86_DEFAULT_VM);

	assert_int_equal(kx_move(x, dst, 61), -EBADF);
	assert_int_equal(kx_move(x, dst, dst), -EINVAL);
	assert_int_equal(kx_move(x, dst, plain), -EINVAL);
	/* vm_type must match (6.10+). */
	assert_int_equal(kx_move(x, sev_typed, src), -EINVAL);
	{
		int sev = kx_sev_vm(x, false);

		assert_int_equal(kx_move(x, sev, src), -EINVAL);
	}
	/* In-flight vCPU creation on either side: EBUSY (6.16). */
	assert_int_equal(kvm_vcpu_create_begin(kx_get(x, dst), &x->c), 0);
	assert_int_equal(kx_move(x, dst, src), -EBUSY);
	assert_int_equal(kvm_vcpu_create_end(kx_get(x, dst), false, NULL), 0);
	assert_false(kx_info(x, dst).active);
	assert_int_equal(kvm_misc_cg_current(kvm_misc_cg_root(x->host),
					     KVM_MISC_SEV), 2);
	/* Plain SEV: vCPU counts need not match. */
	kx_vcpu(x, dst);
	kx_vcpu(x, dst);
	assert_int_equal(kx_move(x, dst, src), 0);
	/* §6.3, §6.9: the source is dead. */
	assert_int_equal(kx_move(x, src, dst), -EIO);
	assert_int_equal(kx_move(x, plain, src), -EINVAL);
	assert_int_equal(kx_copy(x, plain, src), -EINVAL);
	assert_int_equal(kx_op(x, src, KVM_SEV_GUEST_STATUS, NULL), -EIO);
	assert_int_equal(kvm_vcpu_create_begin(kx_get(x, src), &x->c), -EIO);
}

static void test_move_es(void **state)
{
	struct kx *x = *state;
	int src = kx_vm(x, KVM_X86_SEV_ES_VM), dst = kx_vm(x, KVM_X86_SEV_ES_VM);
	struct kvm_sev_init init = { 0 };
	struct kvm_vcpu *s0, *s1, *d0, *d1;

	assert_int_equal(kx_op(x, src, SOFTSEV_KVM_SEV_INIT2, &init), 0);
	s0 = kx_vcpu(x, src);
	s1 = kx_vcpu(x, src);
	kx_launch(x, src, SEV_POLICY_ES);
	d0 = kx_vcpu(x, dst);
	/* §6.3: ES needs equal vCPU counts … */
	assert_int_equal(kx_move(x, dst, src), -EINVAL);
	d1 = kx_vcpu(x, dst);
	/* … and every source VMSA encrypted. */
	assert_int_equal(kx_move(x, dst, src), -EINVAL);
	assert_int_equal(kx_op(x, src, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL), 0);
	assert_int_equal(kvm_misc_cg_current(kvm_misc_cg_root(x->host),
					     KVM_MISC_SEV_ES), 1);
	assert_int_equal(kx_move(x, dst, src), 0);
	assert_true(kvm_vcpu_protected(d0) && kvm_vcpu_protected(d1));
	assert_false(kvm_vcpu_protected(s0) || kvm_vcpu_protected(s1));
	assert_true(kx_info(x, dst).es_active);
	/* Q7: MOVE leaves a typed destination's need_init set. */
	assert_true(kx_info(x, dst).need_init);
	assert_int_equal(kvm_vcpu_run_check(d0, &x->c), -EINVAL);
	assert_int_equal(kvm_vcpu_run_check(s0, &x->c), -EIO);
	/* Same cgroup: the charge simply follows the context. */
	assert_int_equal(kvm_misc_cg_current(kvm_misc_cg_root(x->host),
					     KVM_MISC_SEV_ES), 1);
	kx_close(x, src);
	assert_int_equal(psp_guest_count(x->f.psp), 1);
	kx_close(x, dst);
	assert_int_equal(psp_guest_count(x->f.psp), 0);
	assert_int_equal(kvm_misc_cg_current(kvm_misc_cg_root(x->host),
					     KVM_MISC_SEV_ES), 0);
}

/* §6.8: regions and pages_locked move; UNREG works on dst only. */
static void test_move_regions(void **state)
{
	struct kx *x = *state;
	static uint8_t mem[2 * 4096] __attribute__((aligned(4096)));
	int src = kx_sev_vm(x, false), dst = kx_vm(x, KVM_X86_DEFAULT_VM);
	int empty_src = kx_sev_vm(x, false), dst2 = kx_vm(x, KVM_X86_DEFAULT_VM);
	struct kvm_enc_region r = { (uintptr_t)mem, 2 * 4096 };

	assert_int_equal(kvm_vm_reg_region(kx_get(x, src), &x->c,
					   (uintptr_t)&r), 0);
	assert_int_equal(kx_move(x, dst, src), 0);
	assert_int_equal(kx_info(x, dst).pages_locked, 2);
	assert_int_equal(kx_info(x, dst).nr_regions, 1);
	assert_int_equal(kx_info(x, src).pages_locked, 0);
	assert_int_equal(kvm_vm_unreg_region(kx_get(x, src), &x->c,
					     (uintptr_t)&r), -EIO);
	assert_int_equal(kvm_vm_unreg_region(kx_get(x, dst), &x->c,
					     (uintptr_t)&r), 0);
	/* 4674164f0ac5: moving a VM with no regions. */
	assert_int_equal(kx_move(x, dst2, empty_src), 0);
	assert_int_equal(kx_info(x, dst2).nr_regions, 0);
}

/* §6.7 (5.18+): mirrors follow a moved owner; a moved mirror stays one. */
static void test_move_with_mirrors(void **state)
{
	struct kx *x = *state;
	int sev = kx_sev_vm(x, false);
	int mirror = kx_vm(x, KVM_X86_DEFAULT_VM);
	int dst = kx_vm(x, KVM_X86_DEFAULT_VM);
	int dst_mirror = kx_vm(x, KVM_X86_DEFAULT_VM);
	int dst2 = kx_vm(x, KVM_X86_DEFAULT_VM);
	int dst2_mirror = kx_vm(x, KVM_X86_DEFAULT_VM);
	int dst3 = kx_vm(x, KVM_X86_DEFAULT_VM);
	int dst3_mirror = kx_vm(x, KVM_X86_DEFAULT_VM);
	uint32_t h = kx_launch(x, sev, 0), asid = kx_info(x, sev).asid;

	/* The selftest's chain (test_sev_move_copy). */
	assert_int_equal(kx_copy(x, mirror, sev), 0);
	assert_int_equal(kx_move(x, dst_mirror, mirror), 0);
	assert_true(kx_info(x, dst_mirror).mirror);
	assert_ptr_equal(kx_info(x, dst_mirror).owner, kx_get(x, sev));
	assert_int_equal(kx_info(x, sev).nr_mirrors, 1);
	assert_int_equal(kx_move(x, dst, sev), 0);
	assert_ptr_equal(kx_info(x, dst_mirror).owner, kx_get(x, dst));
	assert_int_equal(kx_info(x, sev).refcount, 1);
	assert_int_equal(kx_info(x, dst).refcount, 2);
	assert_int_equal(kx_move(x, dst2, dst), 0);
	assert_int_equal(kx_move(x, dst2_mirror, dst_mirror), 0);
	assert_int_equal(kx_move(x, dst3_mirror, dst2_mirror), 0);
	assert_int_equal(kx_move(x, dst3, dst2), 0);
	assert_ptr_equal(kx_info(x, dst3_mirror).owner, kx_get(x, dst3));
	assert_int_equal(kx_info(x, dst3).nr_mirrors, 1);
	assert_int_equal(kx_info(x, dst3).asid, asid);
	assert_int_equal(kx_info(x, dst3).handle, h);
	/* A moved mirror's destroy must not free the shared ASID. */
	kx_close(x, dst3_mirror);
	assert_false(kvm_asid_reclaim(x->host, asid));
	assert_int_equal(psp_guest_count(x->f.psp), 1);
	/* Close everything else in a scrambled order. */
	kx_close(x, dst2_mirror);
	kx_close(x, sev);
	kx_close(x, dst3);
	assert_true(kvm_asid_reclaim(x->host, asid));
	assert_int_equal(psp_guest_count(x->f.psp), 0);
	kx_close(x, dst);
	kx_close(x, mirror);
	kx_close(x, dst_mirror);
	kx_close(x, dst2);
	{
		struct kvm_asid_info a;

		kvm_asid_info(x->host, &a);
		assert_int_equal(a.reclaim_sev, 1);
		assert_int_equal(a.live_vms, 0);
	}
}

/* Owner with mirrors closed in the other order after a move. */
static void test_move_mirrors_then_close_mirrors_first(void **state)
{
	struct kx *x = *state;
	int sev = kx_sev_vm(x, false), m = kx_vm(x, KVM_X86_DEFAULT_VM);
	int dst = kx_vm(x, KVM_X86_DEFAULT_VM);

	kx_launch(x, sev, 0);
	assert_int_equal(kx_copy(x, m, sev), 0);
	assert_int_equal(kx_move(x, dst, sev), 0);
	kx_close(x, m);
	assert_int_equal(kx_info(x, dst).refcount, 1);
	kx_close(x, dst);
	assert_int_equal(psp_guest_count(x->f.psp), 0);
	kx_close(x, sev); /* dead source: nothing to do */
}

/* §6.11: cgroup accounting across MOVE, with quirks Q1 and Q2. */
static void test_move_cgroups(void **state)
{
	struct kx *x = *state;
	struct kvm_misc_cg *a, *b, *root = kvm_misc_cg_root(x->host);
	int src, dst, es_src, es_dst, owner, mirror, mdst;

	assert_int_equal(kvm_misc_cg_create(x->host, NULL, &a), 0);
	assert_int_equal(kvm_misc_cg_create(x->host, NULL, &b), 0);
	x->c.cg = a;
	src = kx_sev_vm(x, false);
	es_src = kx_sev_vm(x, true);
	assert_int_equal(kvm_misc_cg_current(a, KVM_MISC_SEV), 1);
	assert_int_equal(kvm_misc_cg_current(a, KVM_MISC_SEV_ES), 1);
	/* Across groups: dst charged, src uncharged. */
	x->c.cg = b;
	dst = kx_vm(x, KVM_X86_DEFAULT_VM);
	assert_int_equal(kx_move(x, dst, src), 0);
	assert_int_equal(kvm_misc_cg_current(a, KVM_MISC_SEV), 0);
	assert_int_equal(kvm_misc_cg_current(b, KVM_MISC_SEV), 1);
	/* Q1: an SEV-ES context moves as SEV: the counters drift. */
	es_dst = kx_vm(x, KVM_X86_DEFAULT_VM);
	assert_int_equal(kx_move(x, es_dst, es_src), 0);
	assert_int_equal(kvm_misc_cg_current(b, KVM_MISC_SEV), 2);
	assert_int_equal(kvm_misc_cg_current(a, KVM_MISC_SEV_ES), 1);
	assert_int_equal(kvm_misc_cg_current(b, KVM_MISC_SEV_ES), 0);
	kx_close(x, es_dst);
	/*
	 * The free uncharges SEV_ES from b, where nothing was charged: b
	 * goes below zero as in the kernel (misc.current reads 2^64 - 1),
	 * the root back to 0 (es_src's charge went to a and the root).
	 */
	assert_int_equal(kvm_misc_cg_current(b, KVM_MISC_SEV), 2);
	assert_int_equal(kvm_misc_cg_current(a, KVM_MISC_SEV_ES), 1);
	assert_true(kvm_misc_cg_current(b, KVM_MISC_SEV_ES) == UINT64_MAX);
	assert_int_equal(kvm_misc_cg_current(root, KVM_MISC_SEV_ES), 0);
	/* ...so b takes max + 1 SEV-ES charges before EBUSY. */
	kvm_misc_cg_set_max(b, KVM_MISC_SEV_ES, 1);
	{
		int e1 = kx_vm(x, KVM_X86_DEFAULT_VM);
		int e2 = kx_vm(x, KVM_X86_DEFAULT_VM);
		int e3 = kx_vm(x, KVM_X86_DEFAULT_VM);

		assert_int_equal(kx_op(x, e1, KVM_SEV_ES_INIT, NULL), 0);
		assert_int_equal(kx_op(x, e2, KVM_SEV_ES_INIT, NULL), 0);
		assert_int_equal(kx_op(x, e3, KVM_SEV_ES_INIT, NULL), -EBUSY);
		assert_int_equal(kvm_misc_cg_current(b, KVM_MISC_SEV_ES), 1);
		kx_close(x, e1);
		kx_close(x, e2);
		kx_close(x, e3);
	}
	assert_true(kvm_misc_cg_current(b, KVM_MISC_SEV_ES) == UINT64_MAX);
	kvm_misc_cg_set_max(b, KVM_MISC_SEV_ES, UINT64_MAX);
	/* Q2: moving a mirror charges dst's group, and nothing releases it. */
	owner = kx_sev_vm(x, false);
	mirror = kx_vm(x, KVM_X86_DEFAULT_VM);
	assert_int_equal(kx_copy(x, mirror, owner), 0);
	assert_int_equal(kvm_misc_cg_current(b, KVM_MISC_SEV), 3);
	mdst = kx_vm(x, KVM_X86_DEFAULT_VM);
	assert_int_equal(kx_move(x, mdst, mirror), 0);
	assert_int_equal(kvm_misc_cg_current(b, KVM_MISC_SEV), 4);
	kx_close(x, mdst);
	assert_int_equal(kvm_misc_cg_current(b, KVM_MISC_SEV), 4);
	/* A group at its limit refuses the MOVE before anything moves. */
	kvm_misc_cg_set_max(b, KVM_MISC_SEV, 4);
	x->c.cg = a;
	src = kx_sev_vm(x, false);
	x->c.cg = b;
	{
		int d = kx_vm(x, KVM_X86_DEFAULT_VM);

		assert_int_equal(kx_move(x, d, src), -EBUSY);
		assert_false(kx_info(x, d).active);
		assert_true(kx_info(x, src).active);
	}
	(void)root;
}

/* §6.4: concurrent MOVE(A<-B) and MOVE(B<-A): never both succeed. */
struct pair {
	struct kx *x;
	int dst, src, ret;
	pthread_barrier_t *bar;
};

static void *mover(void *arg)
{
	struct pair *p = arg;

	pthread_barrier_wait(p->bar);
	p->ret = kx_move(p->x, p->dst, p->src);
	return NULL;
}

static void test_concurrent_cross_moves(void **state)
{
	struct kx *x = *state;
	pthread_barrier_t bar;
	int round;

	pthread_barrier_init(&bar, NULL, 2);
	for (round = 0; round < 50; round++) {
		int a = kx_sev_vm(x, false), b = kx_sev_vm(x, false);
		struct pair p1 = { x, a, b, 0, &bar }, p2 = { x, b, a, 0, &bar };
		pthread_t t1, t2;

		pthread_create(&t1, NULL, mover, &p1);
		pthread_create(&t2, NULL, mover, &p2);
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
		/* Both are SEV: EINVAL, unless the flags collide: EBUSY. */
		assert_true(p1.ret == -EINVAL || p1.ret == -EBUSY);
		assert_true(p2.ret == -EINVAL || p2.ret == -EBUSY);
		kx_close(x, a);
		kx_close(x, b);
	}
	pthread_barrier_destroy(&bar);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_copy_errnos),
		T(test_copy_fields_and_gate),
		T(test_copy_non_es_mirror_vmsa),
		T(test_lifetime_owner_first),
		T(test_lifetime_mirror_first),
		T(test_move_errnos),
		T(test_move_es),
		T(test_move_regions),
		T(test_move_with_mirrors),
		T(test_move_mirrors_then_close_mirrors_first),
		T(test_move_cgroups),
		T(test_concurrent_cross_moves),
	};

	return cmocka_run_group_tests_name("kvm_mirror", tests,
					   fx_group_setup, fx_group_teardown);
}
