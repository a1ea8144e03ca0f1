// SPDX-License-Identifier: MIT
/*
 * vkvm's guest MSRs and its platform hooks (vkvm_set_platform_msr(),
 * vkvm_set_pa_ignore()), through vkvm's own entry points as test_vkvm.c
 * uses them.  The guests are vkvm_plat_guests.S, entered in long mode on
 * tables the test builds, with an IDT whose #GP and #PF handlers report
 * the vector, error code, RIP and CR2 on port 0x11.
 */
#include "vkvm_plat_fixture.h"

static uint64_t rdmsr_guest(struct t *t, uint32_t index)
{
	struct kvm_regs r = { .rcx = index };
	uint64_t lo, hi;

	enter(t, vp_rdmsr_start, vp_rdmsr_end, &r, 0);
	lo = out(t, 0x10);
	hi = out(t, 0x10);
	return lo | hi << 32;
}

static void wrmsr_enter(struct t *t, uint32_t index, uint64_t val)
{
	struct kvm_regs r = { .rcx = index, .rax = val & 0xffffffffu,
			      .rdx = val >> 32 };

	enter(t, vp_wrmsr_start, vp_wrmsr_end, &r, 0);
}

/* An MSR KVM does not know: #GP(0) at the instruction, for both. */
static void test_msr_unknown_gp(void **state)
{
	static const uint32_t idx[] = { 0xc0011234, 0x40000000, 0xc0010130 };
	struct kvm_regs r;
	struct t t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
		t_new(&t);
		memset(&r, 0, sizeof(r));
		r.rcx = idx[i];
		enter(&t, vp_rdmsr_start, vp_rdmsr_end, &r, 0);
		expect_exc(&t, 13, 0, INSN(vp_rdmsr), 0);
		wrmsr_enter(&t, idx[i], 1);
		expect_exc(&t, 13, 0, INSN(vp_wrmsr), 0);
		t_free(&t);
	}
}

/*
 * MSRs vkvm keeps (the emulator read them as 0 and dropped writes): a
 * guest write is what the guest and KVM_GET_MSRS read back.
 */
static void test_msr_kept(void **state)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + sizeof(m->entries[0]));
	const uint64_t val = 0x123456789abcd001ull;
	struct t t;

	(void)state;
	assert_non_null(m);
	m->nmsrs = 1;
	m->entries[0].index = 0x4b564d01;
	t_new(&t);
	wrmsr_enter(&t, 0x4b564d01, val);
	assert_int_equal(out(&t, 0x10), (uint32_t)val);
	assert_int_equal(out(&t, 0x10), (uint32_t)(val >> 32));
	assert_int_equal(vkvm_ioctl(t.fd, KVM_GET_MSRS, m), 1);
	assert_true(m->entries[0].data == val);
	free(m);
	/* and one the engine keeps still goes to the engine (FS base) */
	wrmsr_enter(&t, 0xc0000100, 0x7000123);
	assert_int_equal(out(&t, 0x10), 0x7000123);
	assert_int_equal(out(&t, 0x10), 0);
	t_free(&t);
}

/*
 * MSRs KVM answers with a fixed value: read as KVM's value; a write KVM
 * drops is dropped, one it refuses is #GP.
 */
static void test_msr_fixed(void **state)
{
	struct t t;

	(void)state;
	t_new(&t);
	assert_true(rdmsr_guest(&t, 0x198) == (1000ull | 4ull << 40));
	assert_true(rdmsr_guest(&t, 0xc001001b) == 0x20000000);
	wrmsr_enter(&t, 0xc001001f, 0x1234); /* NB_CFG: dropped */
	assert_int_equal(out(&t, 0x10), 0);
	assert_int_equal(out(&t, 0x10), 0);
	wrmsr_enter(&t, 0x17, 1); /* PLATFORM_ID: read-only */
	expect_exc(&t, 13, 0, INSN(vp_wrmsr), 0);
	t_free(&t);
}

/* SEV_STATUS without a platform value: 0, read-only. */
static void test_msr_status_plain(void **state)
{
	struct t t;

	(void)state;
	t_new(&t);
	assert_true(rdmsr_guest(&t, 0xc0010131) == 0);
	wrmsr_enter(&t, 0xc0010131, 1);
	expect_exc(&t, 13, 0, INSN(vp_wrmsr), 0);
	t_free(&t);
}

/* A platform MSR: its value in the guest; writes #GP or are ignored. */
static void test_platform_msr(void **state)
{
	struct t t;

	(void)state;
	t_new(&t);
	assert_int_equal(vkvm_set_platform_msr(t.fd, 0xc0010131, 3, false),
			 -EBADF); /* a vCPU fd is not the VM's */
	assert_int_equal(vkvm_set_platform_msr(t.vm, 0xc0010131, 1, false), 0);
	assert_int_equal(vkvm_set_platform_msr(t.vm, 0xc0010131, 3, false), 0);
	assert_int_equal(vkvm_set_platform_msr(t.vm, 0xc0011234, 0x55, true),
			 0);
	assert_true(rdmsr_guest(&t, 0xc0010131) == 3);
	assert_int_equal(vkvm_set_platform_msr(t.vm, 0xc0010131, 1, false),
			 -EBUSY);
	assert_int_equal(vkvm_set_pa_ignore(t.vm, CBIT), -EBUSY);
	wrmsr_enter(&t, 0xc0010131, 0);
	expect_exc(&t, 13, 0, INSN(vp_wrmsr), 0);
	wrmsr_enter(&t, 0xc0011234, 7); /* ignored, reads the value */
	assert_int_equal(out(&t, 0x10), 0x55);
	assert_int_equal(out(&t, 0x10), 0);
	t_free(&t);
}

/* The supported table plus one leaf, as a VMM that models SEV sets it. */
static void set_cpuid_plus(struct t *t, uint32_t fn, uint32_t eax,
			   uint32_t ebx)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + MAX_CPUID *
						  sizeof(c->entries[0]));

	assert_non_null(c);
	c->nent = MAX_CPUID;
	assert_int_equal(vkvm_ioctl(t->sys, KVM_GET_SUPPORTED_CPUID, c), 0);
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){ .function = fn,
							  .eax = eax,
							  .ebx = ebx };
	assert_int_equal(vkvm_ioctl(t->fd, KVM_SET_CPUID2, c), 0);
	memset(c, 0, sizeof(*c));
	c->nent = MAX_CPUID;
	assert_int_equal(vkvm_ioctl(t->fd, KVM_GET_CPUID2, c), 0);
	/* the table reads back as set */
	assert_int_equal(c->entries[c->nent - 1].ebx, ebx);
	free(c);
	t->own_cpuid = true;
}

/* vkvm_set_platform_cpuid_ebx(): the guest reads the platform's bits. */
static void test_platform_cpuid(void **state)
{
	struct kvm_regs r = { .rax = 0x8000001f };
	struct t t;

	(void)state;
	t_new(&t);
	assert_int_equal(vkvm_set_platform_cpuid_ebx(t.fd, 0x8000001f, 0x3f,
						     51), -EBADF);
	assert_int_equal(vkvm_set_platform_cpuid_ebx(t.vm, 0x8000001f, 0x3f,
						     51), 0);
	/* a table without the leaf: nothing appears */
	enter(&t, vp_cpuid_start, vp_cpuid_end, &r, 0);
	assert_int_equal(out(&t, 0x10), 0);
	/* QEMU's leaf on a host without SEV: C-bit 0, one reduced bit */
	set_cpuid_plus(&t, 0x8000001f, 0x2, 1u << 6);
	enter(&t, vp_cpuid_start, vp_cpuid_end, &r, 0);
	assert_int_equal(out(&t, 0x10), 51 | 1u << 6);
	assert_int_equal(vkvm_set_platform_cpuid_ebx(t.vm, 0x8000001f, 0x3f,
						     47), -EBUSY);
	t_free(&t);
}

static void mem_enter(struct t *t, uint64_t store, uint64_t load,
		      uint32_t val, uint64_t cr0)
{
	struct kvm_regs r = { .rax = val, .rbx = store, .rcx = load };

	enter(t, vp_mem_start, vp_mem_end, &r, cr0);
}

/* Bit 51 ignored: the C-bit and plain mappings reach the same page. */
static void test_pa_ignore(void **state)
{
	uint64_t *pt, *pdpt;
	uint32_t host;
	struct t t;

	(void)state;
	t_new(&t);
	assert_int_equal(vkvm_set_pa_ignore(t.vm, 1), -EINVAL);
	assert_int_equal(vkvm_set_pa_ignore(t.vm, CBIT), 0);
	mem_enter(&t, VA + 0x40, VA + PAGE + 0x40, 0x5eb5eb, 0);
	assert_int_equal(out(&t, 0x10), 0x5eb5eb);
	assert_int_equal(vkvm_ioctl(t.fd, KVM_RUN, NULL), 0);
	assert_int_equal(t.run->exit_reason, KVM_EXIT_HLT);
	memcpy(&host, t.mem + DATA_GPA + 0x40, 4);
	assert_int_equal(host, 0x5eb5eb);
	/* the walk set accessed and dirty bits, and kept the C-bit */
	pt = (uint64_t *)(t.mem + PT_GPA);
	pdpt = (uint64_t *)(t.mem + PDPT_GPA);
	assert_true(pt[0] == (DATA_GPA | PTE_P | PTE_RW | CBIT | PTE_A |
			      PTE_D));
	assert_true(pt[1] == (DATA_GPA | PTE_P | PTE_RW | PTE_A));
	assert_true(pdpt[1] & PTE_A);
	/* not present, read-only under CR0.WP, a bit that stays reserved */
	mem_enter(&t, VA + 2 * PAGE + 8, VA, 0, 0);
	expect_exc(&t, 14, 2, INSN(vp_mem), VA + 2 * PAGE + 8);
	mem_enter(&t, VA + 3 * PAGE + 0x10, VA, 0, 1ull << 16);
	expect_exc(&t, 14, 3, INSN(vp_mem), VA + 3 * PAGE + 0x10);
	mem_enter(&t, VA + 0x40, VA + 4 * PAGE + 0x20, 0, 0);
	expect_exc(&t, 14, 9, INSN(vp_mem) + 2, VA + 4 * PAGE + 0x20);
	mem_enter(&t, 0x8000000000000000ull, VA, 0, 0); /* non-canonical */
	expect_exc(&t, 13, 0, INSN(vp_mem), 0);
	t_free(&t);
}

#define PD32_GPA 0x22000ul /* 32-bit paging: 0 .. 4 MiB by a PSE page, */
#define PT32_GPA 0x23000ul /* 4 .. 8 MiB by 4 KiB pages */
#define PDPT_PAE_GPA 0x24000ul /* PAE without long mode: 0 .. 2 MiB by */
#define PD_PAE_GPA 0x25000ul /* a 2 MiB page, 4 .. 6 MiB by PT_GPA */

/* vp_mem's bytes mean the same in 32-bit code: flat, paged by cr3/cr4. */
static void enter32(struct t *t, uint64_t cr3, uint64_t cr4, uint64_t store,
		    uint64_t load, uint32_t val)
{
	struct kvm_segment seg = { .limit = 0xffffffff, .selector = 0x10,
				   .type = 3, .present = 1, .s = 1, .db = 1,
				   .g = 1 };
	struct kvm_regs r = { .rax = val, .rbx = store, .rcx = load };
	struct kvm_sregs s;

	enter(t, vp_mem_start, vp_mem_end, &r, 0);
	assert_int_equal(vkvm_ioctl(t->fd, KVM_GET_SREGS, &s), 0);
	s.ds = s.es = s.fs = s.gs = s.ss = seg;
	seg.selector = 0x18;
	seg.type = 11;
	s.cs = seg;
	s.cr0 = 0x80000011ull;
	s.cr3 = cr3;
	s.cr4 = cr4;
	s.efer = 0;
	assert_int_equal(vkvm_ioctl(t->fd, KVM_SET_SREGS, &s), 0);
}

/* vkvm's walk of 32-bit and PAE tables (what a 32-bit SEV guest uses). */
static void test_pa_ignore_32bit(void **state)
{
	uint32_t *pd32, *pt32;
	uint64_t *pdpt, *pd;
	uint32_t host;
	struct t t;

	(void)state;
	t_new(&t);
	((uint64_t *)(t.mem + GDT_GPA))[3] = 0x00cf9b000000ffffull;
	pd32 = (uint32_t *)(t.mem + PD32_GPA);
	pt32 = (uint32_t *)(t.mem + PT32_GPA);
	pd32[0] = PTE_P | PTE_RW | PTE_PS;
	pd32[1] = PT32_GPA | PTE_P | PTE_RW;
	pt32[0] = DATA_GPA | PTE_P | PTE_RW;
	pdpt = (uint64_t *)(t.mem + PDPT_PAE_GPA);
	pd = (uint64_t *)(t.mem + PD_PAE_GPA);
	pdpt[0] = PD_PAE_GPA | PTE_P;
	pd[0] = PTE_P | PTE_RW | PTE_PS;
	pd[2] = PT_GPA | PTE_P | PTE_RW;
	assert_int_equal(vkvm_set_pa_ignore(t.vm, CBIT), 0);
	/* 32-bit: through the 4 KiB page, read back through the PSE page */
	enter32(&t, PD32_GPA, 0x10, 0x400000 + 0x80, DATA_GPA + 0x80, 0x3232);
	assert_int_equal(out(&t, 0x10), 0x3232);
	memcpy(&host, t.mem + DATA_GPA + 0x80, 4);
	assert_int_equal(host, 0x3232);
	assert_int_equal(pt32[0], DATA_GPA | PTE_P | PTE_RW | PTE_A | PTE_D);
	assert_int_equal(pd32[1], PT32_GPA | PTE_P | PTE_RW | PTE_A);
	/* PAE: through the C-bit entry, read back through the plain one */
	enter32(&t, PDPT_PAE_GPA, 0x20, 0x400000 + 0x90, 0x401000 + 0x90,
		0xbae);
	assert_int_equal(out(&t, 0x10), 0xbae);
	memcpy(&host, t.mem + DATA_GPA + 0x90, 4);
	assert_int_equal(host, 0xbae);
	assert_true(pd[2] & PTE_A);
	assert_true(pdpt[0] == (PD_PAE_GPA | PTE_P)); /* no A bit in PDPTEs */
	t_free(&t);
}

/* Without it (a VM that is not SEV), bit 51 is reserved: #PF RSVD. */
static void test_pa_reserved(void **state)
{
	struct t t;

	(void)state;
	t_new(&t);
	mem_enter(&t, VA + 0x40, VA + PAGE, 1, 0);
	expect_exc(&t, 14, 0xb, INSN(vp_mem), VA + 0x40);
	t_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msr_unknown_gp),
		cmocka_unit_test(test_msr_kept),
		cmocka_unit_test(test_msr_fixed),
		cmocka_unit_test(test_msr_status_plain),
		cmocka_unit_test(test_platform_msr),
		cmocka_unit_test(test_platform_cpuid),
		cmocka_unit_test(test_pa_ignore),
		cmocka_unit_test(test_pa_ignore_32bit),
		cmocka_unit_test(test_pa_reserved),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
