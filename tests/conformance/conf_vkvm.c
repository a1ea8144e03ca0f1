// SPDX-License-Identifier: MIT
/*
 * The KVM userspace API as real KVM on an AMD host (Linux 6.12) gives it,
 * so that the emulated backend (`softsev run --kvm=emulated`) is held to
 * the same bytes: return values, errnos, kvm_run fields, register state.
 * Each check names the kernel function it pins (x86.c, regs.c, cpuid.c,
 * emulate.c, svm/svm.c, kvm_main.c).  This half: the system, VM and vCPU
 * ioctls themselves; conf_vkvm_run.c runs guests.
 */
#include "vkvm_conf.h"

/* ---- the system fd ---- */

static void test_api_version(void **state)
{
	/* kvm_dev_ioctl: KVM_API_VERSION; any argument is EINVAL */
	assert_int_equal(ioctl(kvm, KVM_GET_API_VERSION, 0), 12);
	assert_errno(ioctl(kvm, KVM_GET_API_VERSION, 1), EINVAL);
}

static void test_check_extension(void **state)
{
	/* kvm_vm_ioctl_check_extension{,_generic}: these return exactly 1 */
	static const long one[] = {
		KVM_CAP_USER_MEMORY, KVM_CAP_IMMEDIATE_EXIT,
		KVM_CAP_SET_TSS_ADDR, KVM_CAP_EXT_CPUID, KVM_CAP_MP_STATE,
		KVM_CAP_GET_TSC_KHZ, KVM_CAP_XSAVE,
		KVM_CAP_XCRS,	/* boot_cpu_has(X86_FEATURE_XSAVE) */
		KVM_CAP_VM_COPY_ENC_CONTEXT_FROM,	/* 197 */
		KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM,	/* 206 */
	};
	size_t i;

	for (i = 0; i < sizeof(one) / sizeof(one[0]); i++)
		assert_int_equal(ioctl(kvm, KVM_CHECK_EXTENSION, one[i]), 1);
	/* KVM_MAX_VCPUS, KVM_USER_MEM_SLOTS */
	assert_true(ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS) > 0);
	assert_true(ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS) > 0);
	/* kvm_caps.supported_vm_types always has KVM_X86_DEFAULT_VM */
	assert_true(ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES) &
		    (1 << KVM_X86_DEFAULT_VM));
	/* an unknown capability is 0, not an error */
	assert_int_equal(ioctl(kvm, KVM_CHECK_EXTENSION, 0x7fffffffl), 0);
}

static void test_vcpu_mmap_size(void **state)
{
	/*
	 * kvm_dev_ioctl: kvm_run, the PIO data page (CONFIG_X86) and the
	 * coalesced MMIO ring (CONFIG_KVM_MMIO): three pages.
	 */
	assert_int_equal(ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0),
			 (KVM_COALESCED_MMIO_PAGE_OFFSET + 1) * PAGE);
	assert_errno(ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 1), EINVAL);
}

static void test_supported_cpuid(void **state)
{
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[MAX_CPUID];
	} c;
	uint32_t n;

	memset(&c, 0, sizeof(c));
	/*
	 * kvm_dev_ioctl_get_cpuid: nent < 1 is E2BIG at once; the header
	 * is copied back (kvm_arch_dev_ioctl) only on success, so nent
	 * keeps what the caller put there.
	 */
	assert_errno(ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &c), E2BIG);
	assert_int_equal(c.h.nent, 0);
	c.h.nent = MAX_CPUID;
	assert_ok(ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &c));
	n = c.h.nent;
	assert_true(n > 1 && n <= MAX_CPUID);
	assert_int_equal(c.e[0].function, 0);	/* funcs[] starts at 0 */
	assert_true(cpuid_leaf(0x80000001)->edx & CPUID_LM);
	/* one entry short: get_next_cpuid runs out, -E2BIG */
	c.h.nent = n - 1;
	assert_errno(ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &c), E2BIG);
	assert_int_equal(c.h.nent, n - 1);
	/* kvm_arch_dev_ioctl: copy_from_user of the header */
	assert_errno(ioctl(kvm, KVM_GET_SUPPORTED_CPUID, bad_ptr()), EFAULT);
}

static bool has_msr(const uint32_t *idx, uint32_t n, uint32_t msr)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (idx[i] == msr)
			return true;
	return false;
}

static void test_msr_index_list(void **state)
{
	struct {
		struct kvm_msr_list h;
		uint32_t idx[1024];
	} l = { .h.nmsrs = 0 };
	uint32_t n;

	/* kvm_arch_dev_ioctl: the count is written back, then E2BIG */
	assert_errno(ioctl(kvm, KVM_GET_MSR_INDEX_LIST, &l), E2BIG);
	n = l.h.nmsrs;
	assert_true(n > 0 && n <= 1024);
	l.h.nmsrs = 1024;
	assert_ok(ioctl(kvm, KVM_GET_MSR_INDEX_LIST, &l));
	assert_int_equal(l.h.nmsrs, n);
	/* msrs_to_save_base */
	assert_true(has_msr(l.idx, n, MSR_STAR));
	assert_true(has_msr(l.idx, n, MSR_LSTAR));
	assert_errno(ioctl(kvm, KVM_GET_MSR_INDEX_LIST, bad_ptr()), EFAULT);
}

static void test_system_fd_other_ioctls(void **state)
{
	struct kvm_regs regs;

	/* kvm_dev_ioctl -> kvm_arch_dev_ioctl: default -EINVAL */
	assert_errno(ioctl(kvm, _IO(KVMIO, 0xf0), 0), EINVAL);
	/* vCPU and VM ioctls are not system ioctls: the same default */
	assert_errno(ioctl(kvm, KVM_RUN, 0), EINVAL);
	assert_errno(ioctl(kvm, KVM_GET_REGS, &regs), EINVAL);
	assert_errno(ioctl(kvm, KVM_CREATE_VCPU, 0), EINVAL);
}

/* ---- memslots ---- */

static void test_memslot_errors(void **state)
{
	int vm = vm_new(kvm, 0);
	uint8_t *mem = anon(0x200000);
	uint8_t *hi = mem + 0x100000;
	uint32_t nr = (uint32_t)ioctl(kvm, KVM_CHECK_EXTENSION,
				      KVM_CAP_NR_MEMSLOTS);

	assert_ok(set_slot(vm, 0, 0, 0, 0x100000, mem));
	/* __kvm_set_memory_region: kvm_check_memslot_overlap */
	assert_errno(set_slot(vm, 1, 0, 0xff000, 0x2000, hi), EEXIST);
	/* kvm_vm_ioctl (v1 flags) / check_memory_region_flags */
	assert_errno(set_slot(vm, 1, 0x80, 0x100000, PAGE, hi), EINVAL);
	/* __kvm_set_memory_region: size, GPA, host address page-aligned */
	assert_errno(set_slot(vm, 1, 0, 0x100000, 0x1800, hi), EINVAL);
	assert_errno(set_slot(vm, 1, 0, 0x100800, PAGE, hi), EINVAL);
	assert_errno(set_slot(vm, 1, 0, 0x100000, PAGE, hi + 0x800), EINVAL);
	/* kvm_vm_ioctl_set_memory_region: slot >= KVM_USER_MEM_SLOTS */
	assert_errno(set_slot(vm, nr, 0, 0x100000, PAGE, hi), EINVAL);
	/* deleting a slot that does not exist */
	assert_errno(set_slot(vm, 1, 0, 0, 0, NULL), EINVAL);
	/* an existing slot is not resized, nor given another host range */
	assert_errno(set_slot(vm, 0, 0, 0, 0x200000, mem), EINVAL);
	assert_errno(set_slot(vm, 0, 0, 0, 0x100000, mem + PAGE), EINVAL);
	/* the same again is nothing to change: 0 */
	assert_ok(set_slot(vm, 0, 0, 0, 0x100000, mem));
	/* adjacent is fine; a valid flag is fine (KVM_MR_FLAGS_ONLY) */
	assert_ok(set_slot(vm, 1, 0, 0x100000, PAGE, hi));
	assert_ok(set_slot(vm, 1, KVM_MEM_LOG_DIRTY_PAGES, 0x100000, PAGE,
			   hi));
	/* a move onto another slot overlaps it */
	assert_errno(set_slot(vm, 1, KVM_MEM_LOG_DIRTY_PAGES, 0x1000, PAGE,
			      hi), EEXIST);
	/* delete (memory_size 0); the range is free again */
	assert_ok(set_slot(vm, 0, 0, 0, 0, NULL));
	assert_ok(set_slot(vm, 2, 0, 0, PAGE, mem));
	close(vm);
	munmap(mem, 0x200000);
}

/* ---- register state ---- */

static void check_reset_regs(struct vcpu *v)
{
	struct kvm_regs r;

	get_regs(v, &r);
	/* kvm_vcpu_reset: GPRs 0; RDX the CPUID.1 EAX, 0x600 with none */
	assert_int_equal(r.rax | r.rbx | r.rcx | r.rsi | r.rdi | r.rsp |
			 r.rbp | r.r8 | r.r9 | r.r10 | r.r11 | r.r12 |
			 r.r13 | r.r14 | r.r15, 0);
	assert_int_equal(r.rdx, 0x600);
	assert_int_equal(r.rip, 0xfff0);
	assert_int_equal(r.rflags, 2);	/* X86_EFLAGS_FIXED */
}

static void check_real_seg(const struct kvm_segment *s, uint16_t sel,
			   uint64_t base)
{
	assert_int_equal(s->selector, sel);
	assert_int_equal(s->base, base);
	assert_int_equal(s->limit, 0xffff);
	assert_int_equal(s->present, 1);
}

static void check_reset_sregs(struct vcpu *v)
{
	struct kvm_sregs s;

	get_sregs(v, &s);
	/* init_vmcb (svm) */
	check_real_seg(&s.cs, 0xf000, 0xffff0000);
	assert_int_equal(s.cs.s, 1);
	assert_int_equal(s.cs.type & 0xa, 0xa);	/* code, readable */
	check_real_seg(&s.ds, 0, 0);
	check_real_seg(&s.es, 0, 0);
	check_real_seg(&s.fs, 0, 0);
	check_real_seg(&s.gs, 0, 0);
	check_real_seg(&s.ss, 0, 0);
	assert_int_equal(s.gdt.base, 0);
	assert_int_equal(s.gdt.limit, 0xffff);
	assert_int_equal(s.idt.base, 0);
	assert_int_equal(s.idt.limit, 0xffff);
	/* kvm_vcpu_reset: CD | NW | ET at RESET; CR2-4, EFER 0 */
	assert_int_equal(s.cr0, 0x60000010);
	assert_int_equal(s.cr2 | s.cr3 | s.cr4 | s.efer, 0);
}

static void test_reset_state(void **state)
{
	struct vm vm;
	struct vcpu v;

	vm_create(&vm);
	vcpu_create(&vm, 0, &v);
	check_reset_regs(&v);
	check_reset_sregs(&v);
	/* kvm_arch_vcpu_create: RUNNABLE without an in-kernel irqchip */
	check_mp_runnable(&v);
	vm_done(&vm, &v);
}

static void test_regs_round_trip(void **state)
{
	struct kvm_regs in, out;
	uint64_t val;
	size_t i;
	struct vm vm;
	struct vcpu v;

	vm_create(&vm);
	vcpu_create(&vm, 0, &v);
	for (i = 0; i < sizeof(in) / 8; i++) {
		val = 0x1111111111111111ull * (i + 1);
		memcpy((uint8_t *)&in + 8 * i, &val, 8);
	}
	in.rflags = 0x10;	/* AF, without the fixed bit 1 */
	assert_ok(ioctl(v.fd, KVM_SET_REGS, &in));
	get_regs(&v, &out);
	/* __set_regs: rflags | X86_EFLAGS_FIXED; the rest as given */
	in.rflags = 0x12;
	assert_memory_equal(&in, &out, sizeof(in));
	/* kvm_vcpu_ioctl: copy from/to user */
	assert_errno(ioctl(v.fd, KVM_SET_REGS, bad_ptr()), EFAULT);
	assert_errno(ioctl(v.fd, KVM_GET_REGS, bad_ptr()), EFAULT);
	vm_done(&vm, &v);
}

static void check_seg(const struct kvm_segment *a, const struct kvm_segment *b)
{
	assert_int_equal(a->base, b->base);
	assert_int_equal(a->limit, b->limit);
	assert_int_equal(a->selector, b->selector);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->present, b->present);
	assert_int_equal(a->dpl, b->dpl);
	assert_int_equal(a->db, b->db);
	assert_int_equal(a->s, b->s);
	assert_int_equal(a->l, b->l);
	assert_int_equal(a->g, b->g);
	assert_int_equal(a->avl, b->avl);
	assert_int_equal(a->unusable, b->unusable);
}

static void check_sregs(const struct kvm_sregs *a, const struct kvm_sregs *b)
{
	check_seg(&a->cs, &b->cs);
	check_seg(&a->ds, &b->ds);
	check_seg(&a->es, &b->es);
	check_seg(&a->fs, &b->fs);
	check_seg(&a->gs, &b->gs);
	check_seg(&a->ss, &b->ss);
	check_seg(&a->tr, &b->tr);
	check_seg(&a->ldt, &b->ldt);
	assert_int_equal(a->gdt.base, b->gdt.base);
	assert_int_equal(a->gdt.limit, b->gdt.limit);
	assert_int_equal(a->idt.base, b->idt.base);
	assert_int_equal(a->idt.limit, b->idt.limit);
	assert_int_equal(a->cr0, b->cr0);
	assert_int_equal(a->cr2, b->cr2);
	assert_int_equal(a->cr3, b->cr3);
	assert_int_equal(a->cr4, b->cr4);
	assert_int_equal(a->efer, b->efer);
}

/* KVM_SET_SREGS fails with EINVAL and changes nothing. */
static void bad_sregs(struct vcpu *v, const struct kvm_sregs *s,
		      const struct kvm_sregs *now)
{
	struct kvm_sregs after;

	assert_errno(ioctl(v->fd, KVM_SET_SREGS, s), EINVAL);
	get_sregs(v, &after);
	check_sregs(&after, now);
}

static void test_sregs_round_trip(void **state)
{
	struct kvm_sregs in, out, bad;
	struct vm vm;
	struct vcpu v;

	vm_create(&vm);
	vcpu_create(&vm, 0, &v);
	vcpu_cpuid(&v);
	get_sregs(&v, &in);
	lm_sregs(&in);
	in.cr2 = 0x12345678;
	in.idt.base = IDT_GPA;
	in.idt.limit = 0xfff;
	assert_ok(ioctl(v.fd, KVM_SET_SREGS, &in));
	get_sregs(&v, &out);
	check_sregs(&out, &in);
	/* kvm_is_valid_sregs: LME and PG need LMA (and PAE) */
	bad = in;
	bad.efer = EFER_LME;
	bad_sregs(&v, &bad, &in);
	/* ... and without them CS.L must be 0 */
	bad = in;
	bad.cr0 = CR0_PE | CR0_ET;
	bad.efer = 0;
	bad_sregs(&v, &bad, &in);
	/* kvm_is_valid_cr0: PG without PE */
	bad = in;
	bad.cr0 = CR0_ET | CR0_PG;
	bad_sregs(&v, &bad, &in);
	vm_done(&vm, &v);
}

/* The remaining vCPU ioctl rows of x86.c and kvm_main.c. */
static void test_vcpu_rows(void **state)
{
	struct {
		struct kvm_signal_mask m;
		uint64_t set;
	} sm = { { .len = 16 }, 0 };
	struct kvm_xcrs x;
	struct vm vm;
	struct vcpu v;
	uint64_t cap, max;
	long khz;

	vm_create(&vm);
	vcpu_create(&vm, 0, &v);
	/* kvm_vcpu_ioctl_x86_setup_mce(): 1..32 banks, known bits only */
	cap = 0;
	assert_errno(ioctl(v.fd, KVM_X86_SETUP_MCE, &cap), EINVAL);
	cap = 33;
	assert_errno(ioctl(v.fd, KVM_X86_SETUP_MCE, &cap), EINVAL);
	cap = 32 | 1u << 9;
	assert_errno(ioctl(v.fd, KVM_X86_SETUP_MCE, &cap), EINVAL);
	cap = 32 | 1u << 8 | 1u << 24 | 0x050000;
	assert_ok(ioctl(v.fd, KVM_X86_SETUP_MCE, &cap));
	/* kvm_vcpu_ioctl_x86_set_xcrs(): flags, count, then __kvm_set_xcr */
	memset(&x, 0, sizeof(x));
	x.nr_xcrs = 1;
	x.xcrs[0].value = 3;
	x.flags = 1;
	assert_errno(ioctl(v.fd, KVM_SET_XCRS, &x), EINVAL);
	x.flags = 0;
	x.nr_xcrs = KVM_MAX_XCRS + 1;
	assert_errno(ioctl(v.fd, KVM_SET_XCRS, &x), EINVAL);
	x.nr_xcrs = 1;
	x.xcrs[0].value = 2; /* x87 is required */
	assert_errno(ioctl(v.fd, KVM_SET_XCRS, &x), EINVAL);
	x.xcrs[0].value = 3;
	assert_ok(ioctl(v.fd, KVM_SET_XCRS, &x));
	memset(&x, 0, sizeof(x));
	assert_ok(ioctl(v.fd, KVM_GET_XCRS, &x));
	assert_int_equal(x.nr_xcrs, 1);
	assert_int_equal(x.xcrs[0].value, 3);
	/*
	 * KVM_SET_TSC_KHZ: below max_guest_tsc_khz, which is the host rate
	 * times SVM's largest TSC ratio (0xff.ffffffff), capped at INT_MAX;
	 * 0 means the host's rate.
	 */
	khz = ioctl(v.fd, KVM_GET_TSC_KHZ, 0);
	assert_true(khz > 0);
	max = ((uint64_t)khz * 0xffffffffffull) >> 32;
	if (max > 0x7fffffff)
		max = 0x7fffffff;
	assert_errno(ioctl(v.fd, KVM_SET_TSC_KHZ, (unsigned long)max), EINVAL);
	assert_ok(ioctl(v.fd, KVM_SET_TSC_KHZ, (unsigned long)max - 1));
	assert_int_equal(ioctl(v.fd, KVM_GET_TSC_KHZ, 0), max - 1);
	assert_ok(ioctl(v.fd, KVM_SET_TSC_KHZ, 0ul));
	assert_int_equal(ioctl(v.fd, KVM_GET_TSC_KHZ, 0), khz);
	/* kvm_vcpu_ioctl_set_sigmask(): the kernel's 8-byte sigset_t */
	assert_errno(ioctl(v.fd, KVM_SET_SIGNAL_MASK, &sm), EINVAL);
	sm.m.len = 8;
	assert_ok(ioctl(v.fd, KVM_SET_SIGNAL_MASK, &sm));
	assert_ok(ioctl(v.fd, KVM_SET_SIGNAL_MASK, NULL));
	/* kvm_vm_ioctl_set_identity_map_addr(): not after a vCPU */
	cap = 0xfffbc000;
	assert_errno(ioctl(vm.fd, KVM_SET_IDENTITY_MAP_ADDR, &cap), EINVAL);
	vcpu_destroy(&v);
	vm_destroy(&vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_api_version),
		cmocka_unit_test(test_check_extension),
		cmocka_unit_test(test_vcpu_mmap_size),
		cmocka_unit_test(test_supported_cpuid),
		cmocka_unit_test(test_msr_index_list),
		cmocka_unit_test(test_system_fd_other_ioctls),
		cmocka_unit_test(test_memslot_errors),
		cmocka_unit_test(test_reset_state),
		cmocka_unit_test(test_regs_round_trip),
		cmocka_unit_test(test_sregs_round_trip),
		cmocka_unit_test(test_vcpu_rows),
	};

	return cmocka_run_group_tests_name("conf_vkvm", tests, setup,
					   teardown);
}
