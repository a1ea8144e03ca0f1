// SPDX-License-Identifier: MIT
/*
 * Guests that see SEV (issue 11), on the emulated backend: an SEV VM made
 * and launched as a VMM does it (KVM_CREATE_VM type SEV, KVM_SEV_INIT2,
 * LAUNCH_START, LAUNCH_UPDATE_DATA of the guest image, LAUNCH_MEASURE,
 * LAUNCH_FINISH), then KVM_RUN of tests/guests/sev.S, which checks CPUID
 * 0x8000001F, SEV_STATUS and the C-bit itself and reports through port
 * I/O and a shared page.  The same guest in a VM that is not SEV sees
 * status 0 and takes a reserved-bit #PF on the C-bit, as on hardware.
 */
#include "sev_guest.h"

#define MEASURED (128 * 1024) /* the image: tables, code, the guest's pages */

extern const uint8_t sev_start[], sev_end[], sev_priv_store[];
extern const uint8_t sev_hlt_end[];

#define GPA(label) (CODE_GPA + (uint64_t)((label) - sev_start))

/* A VM (SEV: type SEV and KVM_SEV_INIT2) with the guest in memory. */
static void vm_up(struct sev_guest *g, bool sev)
{
	struct kvm_sev_init_v init = { 0 };

	sg_vm(g, sev ? VM_SEV : 0, sev ? &init : NULL);
	sg_mem(g, sev_start, sev_end);
}

static void launch(struct sev_guest *g)
{
	struct kvm_sev_launch_start ls = { .policy = 0 };
	struct kvm_sev_launch_update_data up = {
		.uaddr = (uintptr_t)g->mem, .len = MEASURED,
	};
	uint8_t digest[48];
	struct kvm_sev_launch_measure m = { .uaddr = (uintptr_t)digest,
					    .len = sizeof(digest) };

	assert_ok(sev_op(g->vm, KVM_SEV_LAUNCH_START, &ls, g->sev, NULL));
	assert_ok(sev_op(g->vm, KVM_SEV_LAUNCH_UPDATE_DATA, &up, g->sev, NULL));
	assert_ok(sev_op(g->vm, KVM_SEV_LAUNCH_MEASURE, &m, g->sev, NULL));
	assert_ok(sev_op(g->vm, KVM_SEV_LAUNCH_FINISH, NULL, g->sev, NULL));
}

static uint32_t shared(struct sev_guest *g, unsigned int off)
{
	uint32_t v;

	memcpy(&v, g->mem + SEV_SHARED_GPA + off, 4);
	return v;
}

/*
 * The SEV guest from its first KVM_RUN: CPUID as set, SEV_STATUS = SEV
 * (bit 0) without an exit, the C-bit mapping the same page as a plain
 * entry would, and its report in the shared page.
 */
static void check_sev_guest(struct sev_guest *g)
{
	const struct kvm_cpuid_entry2 *e = sg_cpuid(g);
	struct kvm_sregs s;
	uint32_t v;

	assert_true(e->eax & 2); /* SEV */
	sg_vcpu(g, 0);
	assert_int_equal(sg_out(g, PORT_VALUE, 4), e->eax);
	assert_int_equal(sg_out(g, PORT_VALUE, 4), e->ebx);
	assert_int_equal(sg_out(g, PORT_VALUE, 4), 1); /* SEV_STATUS: SEV */
	assert_int_equal(sg_out(g, PORT_VALUE, 4), 0);
	assert_int_equal(sg_out(g, PORT_OUT, 1), SEV_STAGE_SHARED);
	assert_int_equal(shared(g, 0), SEV_SHARED_VALUE);
	assert_int_equal(sg_out(g, PORT_VALUE, 4), SEV_PRIV_VALUE);
	assert_int_equal(sg_out(g, PORT_OUT, 1), SEV_STAGE_DONE);
	assert_ok(ioctl(g->fd, KVM_RUN, 0));
	assert_int_equal(g->run->exit_reason, KVM_EXIT_HLT);
	assert_int_equal(shared(g, SEV_REP_DONE), SEV_DONE);
	assert_int_equal(shared(g, SEV_REP_CPUID_EAX), e->eax);
	assert_int_equal(shared(g, SEV_REP_CPUID_EBX), e->ebx);
	assert_int_equal(shared(g, SEV_REP_STATUS), 1);
	assert_int_equal(shared(g, SEV_REP_PRIV), SEV_PRIV_VALUE);
	/* private memory is the VMM's buffer too (no strict memory yet) */
	memcpy(&v, g->mem + SEV_PRIV_GPA, 4);
	assert_int_equal(v, SEV_PRIV_VALUE);
	/* the guest's entry keeps the C-bit; it set it in CR3 itself */
	assert_true(*(uint64_t *)(g->mem + SEV_PT_GPA) &
		    (1ull << (e->ebx & 63)));
	assert_ok(ioctl(g->fd, KVM_GET_SREGS, &s));
	assert_true(s.cr3 & (1ull << (e->ebx & 63)));
}

/* Launched the normal way: INIT2, LAUNCH_START .. LAUNCH_FINISH. */
static void test_sev_guest(void **state)
{
	struct sev_guest g;

	(void)state;
	memset(&g, 0, sizeof(g));
	vm_up(&g, true);
	launch(&g);
	check_sev_guest(&g);
	sg_down(&g);
}

/*
 * A VM that becomes SEV by KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM (a migration
 * target), and a mirror VM (COPY_ENC_CONTEXT_FROM, same ASID): their
 * guests are SEV guests too.
 */
static void test_moved_and_mirror_guest(void **state)
{
	struct sev_guest src, dst, mir;

	(void)state;
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	memset(&mir, 0, sizeof(mir));
	/*
	 * Legacy KVM_SEV_INIT on DEFAULT VMs: a moved-to VM of the SEV type
	 * would keep need_init (6.12: KVM_RUN EINVAL, svm_vcpu_pre_run()).
	 */
	src.kvm = kvm_open();
	src.sev = sev_open();
	src.vm = sev_vm(src.kvm, src.sev, false, NULL);
	sg_mem(&src, sev_start, sev_end);
	dst.kvm = kvm_open();
	dst.sev = sev_open();
	dst.vm = vm_new(dst.kvm, 0);
	assert_ok(enc_ctx(dst.vm, KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM,
			  (uint64_t)src.vm));
	sg_mem(&dst, sev_start, sev_end);
	check_sev_guest(&dst);
	mir.kvm = kvm_open();
	mir.sev = sev_open();
	mir.vm = vm_new(mir.kvm, 0);
	assert_ok(enc_ctx(mir.vm, KVM_CAP_VM_COPY_ENC_CONTEXT_FROM,
			  (uint64_t)dst.vm));
	sg_mem(&mir, sev_start, sev_end);
	check_sev_guest(&mir);
	sg_down(&mir);
	sg_down(&dst);
	close(src.vm);
	close(src.sev);
	close(src.kvm);
	munmap(src.mem, GUEST_MEM_SIZE);
}

/*
 * The same guest in a plain VM: status 0, and the C-bit is a reserved
 * physical-address bit, #PF(P|W|RSVD) at the private store.
 */
static void test_plain_guest(void **state)
{
	const struct kvm_cpuid_entry2 *e;
	struct sev_guest g;

	(void)state;
	memset(&g, 0, sizeof(g));
	vm_up(&g, false);
	e = sg_cpuid(&g);
	sg_vcpu(&g, 0);
	assert_int_equal(sg_out(&g, PORT_VALUE, 4), e->eax);
	assert_int_equal(sg_out(&g, PORT_VALUE, 4), e->ebx);
	assert_int_equal(sg_out(&g, PORT_VALUE, 4), 0); /* SEV_STATUS */
	assert_int_equal(sg_out(&g, PORT_VALUE, 4), 0);
	assert_int_equal(sg_out(&g, PORT_OUT, 1), SEV_STAGE_SHARED);
	assert_int_equal(shared(&g, 0), SEV_SHARED_VALUE);
	assert_int_equal(sg_out(&g, PORT_VEC, 1), 14);
	assert_int_equal(sg_out(&g, PORT_ERR, 4), 0xb);
	assert_int_equal(sg_out(&g, PORT_RIP, 4),
			 (uint32_t)GPA(sev_priv_store));
	assert_int_equal(shared(&g, SEV_REP_DONE), 0);
	sg_down(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sev_guest),
		cmocka_unit_test(test_moved_and_mirror_guest),
		cmocka_unit_test(test_plain_guest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
