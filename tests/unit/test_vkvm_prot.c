// SPDX-License-Identifier: MIT
/*
 * Protected guests (vkvm_set_protected(), SEV-ES's CPU part): the
 * intercepts a protected guest would exit on raise its exception (#VC,
 * 29) at the instruction with the exit code as error code; the vCPU's own
 * MSR is the guest's without an exit; VMGEXIT calls the handler, whose
 * exits the next KVM_RUN completes.  Guests: vkvm_plat_guests.S.
 */
#include <errno.h>

#include "vkvm_plat_fixture.h"

#define VC 29
#define GMSR 0xc0010130u
#define VC_REPORT 0x11000ul
#define MMIO_GPA 0x10000000ul /* identity-mapped, outside memory */

GUEST(vp_out);
GUEST(vp_gexit);
GUEST(vp_vmmcall);
extern const uint8_t vp_vc_start[], vp_vc_end[];

struct report {
	uint64_t rax, rdx, err, rip;
	uint32_t count;
};

/* What the VMGEXIT handler saw and is told to do. */
struct hv {
	int calls, completions;
	uint64_t gmsr_seen, set_gmsr;
	int ret; /* what the handler returns */
	bool pio_in; /* exit with an IN of port 0x77, completed later */
	int vcpu_id;
};

static int complete_in(void *opaque, struct vkvm_gexit *g)
{
	struct hv *h = opaque;
	uint32_t v;

	h->completions++;
	memcpy(&v, vkvm_gexit_pio_data(g), 4);
	vkvm_gexit_set_gmsr(g, v);
	return 1;
}

static int handler(void *opaque, struct vkvm_gexit *g)
{
	struct hv *h = opaque;

	h->calls++;
	h->vcpu_id = vkvm_gexit_vcpu_id(g);
	h->gmsr_seen = vkvm_gexit_get_gmsr(g);
	vkvm_gexit_set_gmsr(g, h->set_gmsr);
	if (h->pio_in) {
		assert_int_equal(vkvm_gexit_pio(g, true, 0x77, 4, 1, NULL), 0);
		vkvm_gexit_complete(g, complete_in, h);
		return 0;
	}
	return h->ret;
}

static int released;

static void release(void *opaque)
{
	assert_non_null(opaque);
	released++;
}

static void prot_new(struct t *t, struct hv *h)
{
	t_new(t);
	gate(t->mem + IDT_GPA, VC, EXC_GPA + 0x400);
	memcpy(t->mem + EXC_GPA + 0x400, vp_vc_start,
	       (size_t)(vp_vc_end - vp_vc_start));
	assert_int_equal(vkvm_set_protected(t->vm, VC, GMSR, handler, NULL, h), 0);
	assert_int_equal(vkvm_set_platform_msr(t->vm, 0xc0010131, 3, false),
			 0);
}

static void run_hlt(struct t *t)
{
	assert_int_equal(vkvm_ioctl(t->fd, KVM_RUN, NULL), 0);
	assert_int_equal(t->run->exit_reason, KVM_EXIT_HLT);
}

static struct report vc_report(struct t *t)
{
	struct report r;

	memcpy(&r, t->mem + VC_REPORT, sizeof(r));
	return r;
}

/* The #VC handler ran once, for this exit code at this instruction. */
static void expect_vc(struct t *t, uint64_t code, uint64_t rip)
{
	struct report r;

	run_hlt(t);
	r = vc_report(t);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.err, code);
	assert_int_equal(r.rip, rip);
}

static void test_prot_cpuid(void **state)
{
	struct kvm_regs r = { .rax = 0 };
	struct hv h = { 0 };
	struct t t;

	(void)state;
	prot_new(&t, &h);
	enter(&t, vp_cpuid_start, vp_cpuid_end, &r, 0);
	expect_vc(&t, 0x72, INSN(vp_cpuid));
	assert_int_equal(h.calls, 0);
	t_free(&t);
}

/* Port I/O: no KVM_EXIT_IO, #VC(IOIO) at the OUT. */
static void test_prot_io(void **state)
{
	struct kvm_regs r = { .rax = 0x1234 };
	struct hv h = { 0 };
	struct t t;

	(void)state;
	prot_new(&t, &h);
	enter(&t, vp_out_start, vp_out_end, &r, 0);
	expect_vc(&t, 0x7b, INSN(vp_out));
	assert_int_equal(vc_report(&t).rax, 0x1234);
	/* again at the same place: stopped before it by then (protect.c) */
	memset(t.mem + VC_REPORT, 0, sizeof(struct report));
	assert_int_equal(vkvm_ioctl(t.fd, KVM_GET_REGS, &r), 0);
	r.rip = CODE_GPA;
	r.rsp = STACK_TOP;
	r.rax = 0x4321;
	assert_int_equal(vkvm_ioctl(t.fd, KVM_SET_REGS, &r), 0);
	expect_vc(&t, 0x7b, INSN(vp_out));
	assert_int_equal(vc_report(&t).rax, 0x4321);
	t_free(&t);
}

/*
 * MSRs: the platform's (SEV_STATUS) and the vCPU's own are read with no
 * exit (the #VC comes from the OUT after them, with the value in RAX);
 * an MSR KVM keeps raises #VC(MSR) at the RDMSR.
 */
static void test_prot_msr(void **state)
{
	struct kvm_regs r = { .rcx = 0xc0010131 };
	struct hv h = { 0 };
	struct report rep;
	struct t t;

	(void)state;
	prot_new(&t, &h);
	enter(&t, vp_rdmsr_start, vp_rdmsr_end, &r, 0);
	expect_vc(&t, 0x7b, INSN(vp_rdmsr) + 2);
	assert_int_equal(vc_report(&t).rax, 3);
	t_free(&t);

	prot_new(&t, &h);
	r = (struct kvm_regs){ .rcx = GMSR, .rax = 0x5001, .rdx = 0x1 };
	enter(&t, vp_wrmsr_start, vp_wrmsr_end, &r, 0);
	expect_vc(&t, 0x7b, INSN(vp_wrmsr) + 4);
	rep = vc_report(&t);
	assert_int_equal(rep.rax, 0x5001);
	assert_int_equal(rep.rdx, 1);
	t_free(&t);

	prot_new(&t, &h);
	r = (struct kvm_regs){ .rcx = 0x1b }; /* APIC_BASE */
	enter(&t, vp_rdmsr_start, vp_rdmsr_end, &r, 0);
	expect_vc(&t, 0x7c, INSN(vp_rdmsr));
	t_free(&t);
}

/* An access outside every memslot: #VC(NPF), not KVM_EXIT_MMIO. */
static void test_prot_mmio(void **state)
{
	struct kvm_regs r = { .rax = 7, .rbx = MMIO_GPA, .rcx = DATA_GPA };
	struct hv h = { 0 };
	struct t t;

	(void)state;
	prot_new(&t, &h);
	enter(&t, vp_mem_start, vp_mem_end, &r, 0);
	expect_vc(&t, 0x400, INSN(vp_mem));
	t_free(&t);
}

/* VMMCALL is a hypercall: #VC(VMMCALL); VMGEXIT goes to the handler. */
static void test_prot_vmgexit(void **state)
{
	struct kvm_regs r = { 0 };
	struct hv h = { .ret = 1, .set_gmsr = 0xabc0000000000123ull };
	struct report rep;
	struct t t;

	(void)state;
	prot_new(&t, &h);
	enter(&t, vp_vmmcall_start, vp_vmmcall_end, &r, 0);
	expect_vc(&t, 0x81, INSN(vp_vmmcall));
	assert_int_equal(h.calls, 0);
	t_free(&t);

	prot_new(&t, &h);
	enter(&t, vp_gexit_start, vp_gexit_end, &r, 0);
	run_hlt(&t);
	assert_int_equal(h.calls, 1);
	assert_int_equal(h.vcpu_id, 0);
	assert_int_equal(h.gmsr_seen, 0);
	/* the guest went on after it and read what the handler left */
	rep = vc_report(&t);
	assert_int_equal(rep.count, 0);
	assert_int_equal(vkvm_ioctl(t.fd, KVM_GET_REGS, &r), 0);
	assert_int_equal(r.rax, 0x123);
	assert_int_equal(r.rdx, 0xabc00000);
	t_free(&t);
}

/* A handler's exit: KVM_RUN returns it; the next one completes first. */
static void test_prot_vmgexit_exit(void **state)
{
	struct kvm_regs r = { 0 };
	struct hv h = { .pio_in = true };
	uint32_t in = 0x7e57;
	struct t t;

	(void)state;
	prot_new(&t, &h);
	enter(&t, vp_gexit_start, vp_gexit_end, &r, 0);
	assert_int_equal(vkvm_ioctl(t.fd, KVM_RUN, NULL), 0);
	assert_int_equal(t.run->exit_reason, KVM_EXIT_IO);
	assert_int_equal(t.run->io.direction, KVM_EXIT_IO_IN);
	assert_int_equal(t.run->io.port, 0x77);
	assert_int_equal(t.run->io.size, 4);
	assert_int_equal(t.run->io.count, 1);
	assert_int_equal(h.completions, 0);
	memcpy((uint8_t *)t.run + t.run->io.data_offset, &in, 4);
	run_hlt(&t);
	assert_int_equal(h.calls, 1);
	assert_int_equal(h.completions, 1);
	assert_int_equal(vkvm_ioctl(t.fd, KVM_GET_REGS, &r), 0);
	assert_int_equal(r.rax, in);
	t_free(&t);

	/* with immediate_exit the completion runs, then -EINTR */
	h = (struct hv){ .pio_in = true };
	prot_new(&t, &h);
	enter(&t, vp_gexit_start, vp_gexit_end, &r, 0);
	assert_int_equal(vkvm_ioctl(t.fd, KVM_RUN, NULL), 0);
	t.run->immediate_exit = 1;
	assert_int_equal(vkvm_ioctl(t.fd, KVM_RUN, NULL), -EINTR);
	assert_int_equal(h.completions, 1);
	t.run->immediate_exit = 0;
	run_hlt(&t);
	assert_int_equal(h.completions, 1);
	t_free(&t);
}

/* A handler's error is KVM_RUN's. */
static void test_prot_vmgexit_error(void **state)
{
	struct kvm_regs r = { 0 };
	struct hv h = { .ret = -EINVAL };
	struct t t;

	(void)state;
	prot_new(&t, &h);
	enter(&t, vp_gexit_start, vp_gexit_end, &r, 0);
	assert_int_equal(vkvm_ioctl(t.fd, KVM_RUN, NULL), -EINVAL);
	assert_int_equal(h.calls, 1);
	t_free(&t);
}

/*
 * A triple fault (the #VC cannot be delivered through an empty IDT) is
 * KVM_EXIT_SHUTDOWN; the protected vCPU is not INIT as another is
 * (shutdown_interception()): its state stays where it stopped.
 */
static void test_prot_shutdown(void **state)
{
	struct kvm_regs r = { 0 };
	struct kvm_sregs s;
	struct hv h = { 0 };
	struct t t;

	(void)state;
	prot_new(&t, &h);
	enter(&t, vp_vmmcall_start, vp_vmmcall_end, &r, 0);
	assert_int_equal(vkvm_ioctl(t.fd, KVM_GET_SREGS, &s), 0);
	s.idt.limit = 0;
	assert_int_equal(vkvm_ioctl(t.fd, KVM_SET_SREGS, &s), 0);
	assert_int_equal(vkvm_ioctl(t.fd, KVM_RUN, NULL), 0);
	assert_int_equal(t.run->exit_reason, KVM_EXIT_SHUTDOWN);
	assert_int_equal(vkvm_ioctl(t.fd, KVM_GET_REGS, &r), 0);
	assert_int_equal(r.rip, INSN(vp_vmmcall));
	t_free(&t);
}

/* In a VM that is not protected, VMGEXIT is #UD and port I/O exits. */
static void test_unprotected(void **state)
{
	struct kvm_regs r = { .rax = 0x55 };
	struct t t;

	(void)state;
	t_new(&t);
	enter(&t, vp_out_start, vp_out_end, &r, 0);
	assert_int_equal(out(&t, 0x10), 0x55);
	t_free(&t);
}

static void test_set_protected_rows(void **state)
{
	struct kvm_regs r = { 0 };
	struct hv h = { 0 };
	struct t t;

	(void)state;
	t_new(&t);
	assert_int_equal(vkvm_set_protected(-1, VC, GMSR, handler, NULL, &h),
			 -EBADF);
	assert_int_equal(vkvm_set_protected(t.vm, 32, GMSR, handler, NULL, &h),
			 -EINVAL);
	assert_int_equal(vkvm_set_protected(t.vm, VC, GMSR, NULL, NULL, &h),
			 -EINVAL);
	assert_int_equal(vkvm_set_protected(t.vm, VC, GMSR, handler, release,
					    &h), 0);
	assert_int_equal(vkvm_set_protected(t.vm, VC, GMSR, handler, NULL, &h),
			 -EBUSY);
	/* the platform's state goes with the VM's last file */
	released = 0;
	t_free(&t);
	assert_int_equal(released, 1);

	t_new(&t);
	enter(&t, vp_cpuid_start, vp_cpuid_end, &r, 0);
	(void)out(&t, 0x10);
	assert_int_equal(vkvm_set_protected(t.vm, VC, GMSR, handler, NULL, &h),
			 -EBUSY);
	t_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prot_cpuid),
		cmocka_unit_test(test_prot_io),
		cmocka_unit_test(test_prot_msr),
		cmocka_unit_test(test_prot_mmio),
		cmocka_unit_test(test_prot_vmgexit),
		cmocka_unit_test(test_prot_vmgexit_exit),
		cmocka_unit_test(test_prot_vmgexit_error),
		cmocka_unit_test(test_prot_shutdown),
		cmocka_unit_test(test_unprotected),
		cmocka_unit_test(test_set_protected_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
