// SPDX-License-Identifier: MIT
/*
 * The VMSA the shim builds at LAUNCH_UPDATE_VMSA (src/shim/vmsa.c), byte
 * by byte against Linux 6.12's sev_es_sync_vmsa(): the VMCB's view of
 * CR0/CR4/EFER, the x87 registers split into bytes 0-7 and 8-9, FTW and
 * FDP, and no FPU for DEFAULT-type VMs.  The vCPU's KVM_GET_* answers come
 * from a fake shim_kvm_ioctl() with distinct values in every field.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm_compat.h"
#include "shim.h"
#include "testutil.h"

static struct kvm_fpu fpu;
static uint64_t dr7 = 0x400;

/* What the vCPU's ioctls answer. */
int shim_kvm_ioctl(int fd, unsigned long req, void *arg)
{
	(void)fd;
	switch (req) {
	case KVM_GET_REGS: {
		struct kvm_regs *r = arg;

		memset(r, 0, sizeof(*r));
		r->rip = 0x1000;
		r->rsp = 0xf000;
		r->rflags = 2;
		r->rax = 0xaa;
		r->r15 = 0xf15;
		return 0;
	}
	case KVM_GET_SREGS: {
		struct kvm_sregs *s = arg;

		memset(s, 0, sizeof(*s));
		s->cr0 = 0x60000011; /* CD NW ET PE, as the VMM set it */
		s->cr4 = 0x20;
		s->efer = 0x500;
		s->cr3 = 0x9000;
		s->ss.dpl = 0;
		return 0;
	}
	case KVM_GET_DEBUGREGS: {
		struct kvm_debugregs *d = arg;

		memset(d, 0, sizeof(*d));
		d->dr6 = 0xffff0ff0;
		d->dr7 = dr7;
		return 0;
	}
	case KVM_GET_FPU:
		memcpy(arg, &fpu, sizeof(fpu));
		return 0;
	case KVM_GET_XCRS:
	case KVM_GET_MSRS:
		return -1; /* no XCR0, no MSRs: their fields stay 0 */
	}
	return -1;
}

static uint64_t at64(const uint8_t *p, unsigned int off)
{
	uint64_t v;

	memcpy(&v, p + off, 8);
	return v;
}

static uint16_t at16(const uint8_t *p, unsigned int off)
{
	uint16_t v;

	memcpy(&v, p + off, 2);
	return v;
}

static void set_fpu(void)
{
	int i, j;

	memset(&fpu, 0, sizeof(fpu));
	for (i = 0; i < 8; i++)
		for (j = 0; j < 10; j++)
			fpu.fpr[i][j] = (uint8_t)(0x10 * i + j);
	fpu.fcw = 0x37f;
	fpu.fsw = 0x3800;
	fpu.ftwx = 0x81;
	fpu.last_opcode = 0x1d9;
	fpu.last_ip = 0x1234;
	fpu.last_dp = 0x5678;
	fpu.mxcsr = 0x1f80;
	for (i = 0; i < 256; i++)
		((uint8_t *)fpu.xmm)[i] = (uint8_t)i;
}

/* CR0, CR4, EFER as svm_set_cr0/cr4/efer() left them in the VMCB. */
static void test_vmcb_view(void **state)
{
	uint8_t p[4096];

	(void)state;
	set_fpu();
	assert_int_equal(shim_build_vmsa(3, false, true, p), 0);
	assert_int_equal(at64(p, 0x158), 0x11); /* CD, NW cleared */
	assert_int_equal(at64(p, 0x148), 0x20 | 0x40); /* MCE */
	assert_int_equal(at64(p, 0x0d0), 0x500 | 0x1000); /* SVME */
	assert_int_equal(at64(p, 0x150), 0x9000);
	assert_int_equal(at64(p, 0x178), 0x1000);
	assert_int_equal(at64(p, 0x1d8), 0xf000);
	assert_int_equal(at64(p, 0x1f8), 0xaa);
	assert_int_equal(at64(p, 0x378), 0xf15);
	assert_int_equal(at64(p, 0x168), 0xffff0ff0);
	assert_int_equal(at64(p, 0x160), 0x400);
}

/* sev_es_sync_vmsa()'s FPU area, for a VM of an SEV type. */
static void test_fpu_layout(void **state)
{
	uint8_t p[4096];
	int i;

	(void)state;
	set_fpu();
	assert_int_equal(shim_build_vmsa(3, false, true, p), 0);
	assert_int_equal(at64(p, 0x400), 0x5678); /* x87_dp */
	assert_int_equal(at16(p, 0x408), 0x1f80); /* mxcsr */
	assert_int_equal(at16(p, 0x40c), 0x81); /* x87_ftw */
	assert_int_equal(at16(p, 0x40e), 0x3800); /* x87_fsw */
	assert_int_equal(at16(p, 0x410), 0x37f); /* x87_fcw */
	assert_int_equal(at16(p, 0x412), 0x1d9); /* x87_fop */
	assert_int_equal(at64(p, 0x418), 0x1234); /* x87_rip */
	for (i = 0; i < 8; i++) {
		assert_memory_equal(p + 0x420 + 8 * i, fpu.fpr[i], 8);
		assert_memory_equal(p + 0x420 + 64 + 2 * i, fpu.fpr[i] + 8, 2);
	}
	assert_memory_equal(p + 0x470, fpu.xmm, 256);
}

/* KVM_SEV_ES_INIT's DEFAULT-type VMs: no FPU at all. */
static void test_no_fpu(void **state)
{
	static const uint8_t zero[0x1000 - 0x400];
	uint8_t p[4096];

	(void)state;
	set_fpu();
	assert_int_equal(shim_build_vmsa(3, false, false, p), 0);
	assert_memory_equal(p + 0x400, zero, sizeof(zero));
}

/* Guest debugging or a DR7 with more than its fixed bit: refused. */
static void test_debug_refused(void **state)
{
	uint8_t p[4096];

	(void)state;
	assert_int_equal(shim_build_vmsa(3, true, true, p), -EINVAL);
	dr7 = 0x401;
	assert_int_equal(shim_build_vmsa(3, false, true, p), -EINVAL);
	dr7 = 0x400;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmcb_view),
		cmocka_unit_test(test_fpu_layout),
		cmocka_unit_test(test_no_fpu),
		cmocka_unit_test(test_debug_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
