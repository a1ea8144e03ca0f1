// SPDX-License-Identifier: MIT
/*
 * The KVM userspace API as real KVM on an AMD host (Linux 6.12) gives it,
 * so that the emulated backend (`softsev run --kvm=emulated`) is held to
 * the same bytes: return values, errnos, kvm_run fields, register state.
 * Each check names the kernel function it pins (x86.c, regs.c, cpuid.c,
 * emulate.c, svm/svm.c, kvm_main.c).  The guests are the .S files in
 * tests/guests, assembled as data; guests.h has their layout.  Each test
 * makes its own VM and copies one guest to CODE_GPA.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include "conf.h"
#include "guests.h"

#ifndef KVM_CAP_VM_TYPES
#define KVM_CAP_VM_TYPES 235
#endif
#ifndef KVM_X86_DEFAULT_VM
#define KVM_X86_DEFAULT_VM 0
#endif

#define PAGE 4096
#define MAX_CPUID 256		/* KVM_MAX_CPUID_ENTRIES */
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define CPUID_LM (1u << 29)	/* CPUID 0x80000001 EDX */

#define GUEST(g) extern const uint8_t g##_start[], g##_end[]
GUEST(modes);
GUEST(io64);
GUEST(idt);
GUEST(triple);
GUEST(ioev);
GUEST(mmio64);
extern const uint8_t mmio64_load[], mmio64_store[];
extern const uint8_t ioev_hlt_end[];
GUEST(loop);
GUEST(smp);
GUEST(slot);
GUEST(msr);
extern const uint8_t modes_hlt_end[], io64_inl_end[], io64_hlt_end[];
extern const uint8_t idt_ud[], idt_gp0[], idt_gpsel[], idt_int3_end[];
extern const uint8_t idt_int80_end[], idt_hlt_end[];
extern const uint8_t smp_hlt_end[], slot_hlt_end[];

/* The guest-physical address of a label of guest g, copied to CODE_GPA. */
#define GPA(g, label) (CODE_GPA + (uint64_t)((label) - g##_start))

struct vm {
	int fd;
	uint8_t *mem;		/* slot 0: GPA 0 .. GUEST_MEM_SIZE */
};

struct vcpu {
	int fd;
	struct kvm_run *run;
};

static int kvm;
static long run_size;

static int setup(void **state)
{
	kvm = kvm_open();
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	return 0;
}

static int teardown(void **state)
{
	close(kvm);
	return 0;
}

/* ---- VMs, vCPUs and guests ---- */

static void *anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

static int set_slot(int vm, uint32_t slot, uint32_t flags, uint64_t gpa,
		    uint64_t size, const void *host)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uintptr_t)host,
	};

	return ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r);
}

static void vm_create(struct vm *vm)
{
	vm->fd = vm_new(kvm, 0);
	vm->mem = anon(GUEST_MEM_SIZE);
	assert_ok(set_slot(vm->fd, 0, 0, 0, GUEST_MEM_SIZE, vm->mem));
}

static void vm_destroy(struct vm *vm)
{
	close(vm->fd);
	munmap(vm->mem, GUEST_MEM_SIZE);
}

static void vcpu_create(struct vm *vm, int id, struct vcpu *v)
{
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, id);
	assert_true(v->fd >= 0);
	v->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	assert_true(v->run != MAP_FAILED);
}

static void vcpu_destroy(struct vcpu *v)
{
	munmap(v->run, run_size);
	close(v->fd);
}

static void load(struct vm *vm, const uint8_t *start, const uint8_t *end)
{
	memcpy(vm->mem + CODE_GPA, start, (size_t)(end - start));
}

static struct kvm_cpuid2 *supported_cpuid(void)
{
	static struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[MAX_CPUID];
	} c;

	if (!c.h.nent) {
		c.h.nent = MAX_CPUID;
		assert_ok(ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &c));
	}
	return &c.h;
}

static const struct kvm_cpuid_entry2 *cpuid_leaf(uint32_t function)
{
	struct kvm_cpuid2 *c = supported_cpuid();
	uint32_t i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == function)
			return &c->entries[i];
	fail_msg("no CPUID leaf %#x", function);
	return NULL;
}

/*
 * The guest's CPUID, as a VMM sets it.  Long mode needs it: the EFER.LME
 * written by KVM_SET_SREGS (kvm_is_valid_sregs -> kvm_valid_efer) or by
 * the guest's WRMSR (set_efer -> __kvm_valid_efer) must have CPUID LM.
 */
static void vcpu_cpuid(struct vcpu *v)
{
	assert_ok(ioctl(v->fd, KVM_SET_CPUID2, supported_cpuid()));
}

/* The GDT and the identity tables (1 GiB of 2 MiB pages) of guests.h. */
static void lm_tables(struct vm *vm)
{
	uint64_t *gdt = (uint64_t *)(vm->mem + GDT_GPA);
	uint64_t *pml4 = (uint64_t *)(vm->mem + PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(vm->mem + PDPT_GPA);
	uint64_t *pd = (uint64_t *)(vm->mem + PD_GPA);
	uint64_t i;

	gdt[0] = 0;
	gdt[LM_SEL_CODE / 8] = 0x00af9b000000ffffull;
	gdt[LM_SEL_DATA / 8] = 0x00cf93000000ffffull;
	pml4[0] = PDPT_GPA | PTE_P | PTE_RW;
	pdpt[0] = PD_GPA | PTE_P | PTE_RW;
	for (i = 0; i < 512; i++)
		pd[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS;
}

/*
 * Long-mode sregs matching lm_tables.  Every field is one that
 * svm_get_segment gives back as set: G agrees with the limit, data
 * segments have the accessed bit, TR is a busy TSS, all are present.
 */
static void lm_sregs(struct kvm_sregs *s)
{
	struct kvm_segment code = {
		.limit = 0xffffffff, .selector = LM_SEL_CODE, .type = 11,
		.present = 1, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = {
		.limit = 0xffffffff, .selector = LM_SEL_DATA, .type = 3,
		.present = 1, .s = 1, .db = 1, .g = 1,
	};
	struct kvm_segment tr = { .limit = 0x67, .type = 11, .present = 1 };

	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = tr;
	s->gdt.base = GDT_GPA;
	s->gdt.limit = 3 * 8 - 1;
	s->cr0 = CR0_PE | CR0_ET | CR0_PG;
	s->cr3 = PML4_GPA;
	s->cr4 = CR4_PAE;
	s->efer = EFER_LME | EFER_LMA;
}

/* Straight into 64-bit mode at CODE_GPA, by KVM_SET_SREGS/REGS. */
static void lm_enter(struct vcpu *v, uint64_t rbx)
{
	struct kvm_regs r = {
		.rip = CODE_GPA, .rsp = STACK_TOP, .rflags = 2, .rbx = rbx,
	};
	struct kvm_sregs s;

	vcpu_cpuid(v);
	assert_ok(ioctl(v->fd, KVM_GET_SREGS, &s));
	lm_sregs(&s);
	assert_ok(ioctl(v->fd, KVM_SET_SREGS, &s));
	assert_ok(ioctl(v->fd, KVM_SET_REGS, &r));
}

/* A VM with one vCPU about to run guest [start, end) in 64-bit mode. */
static void lm_guest(struct vm *vm, struct vcpu *v, const uint8_t *start,
		     const uint8_t *end)
{
	vm_create(vm);
	load(vm, start, end);
	lm_tables(vm);
	vcpu_create(vm, 0, v);
	lm_enter(v, 0);
}

static void vm_done(struct vm *vm, struct vcpu *v)
{
	vcpu_destroy(v);
	vm_destroy(vm);
}

static void get_regs(struct vcpu *v, struct kvm_regs *r)
{
	assert_ok(ioctl(v->fd, KVM_GET_REGS, r));
}

static void get_sregs(struct vcpu *v, struct kvm_sregs *s)
{
	assert_ok(ioctl(v->fd, KVM_GET_SREGS, s));
}

/* ---- exits ---- */

/* What the exit was, for a failure's log. */
static void describe(const struct kvm_run *r)
{
	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		print_message("# exit IO: dir %u port %#x size %u count %u\n",
			      r->io.direction, r->io.port, r->io.size,
			      r->io.count);
		break;
	case KVM_EXIT_MMIO:
		print_message("# exit MMIO: %#llx len %u is_write %u\n",
			      (unsigned long long)r->mmio.phys_addr,
			      r->mmio.len, r->mmio.is_write);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		print_message("# exit INTERNAL_ERROR: suberror %u\n",
			      r->internal.suberror);
		break;
	default:
		print_message("# exit %u\n", r->exit_reason);
	}
}

/* KVM_RUN returns 0 with this exit_reason. */
static void run(struct vcpu *v, uint32_t reason)
{
	assert_ok(ioctl(v->fd, KVM_RUN, 0));
	if (v->run->exit_reason != reason)
		describe(v->run);
	assert_int_equal(v->run->exit_reason, reason);
}

/*
 * emulator_pio_in_out: direction, size, port, count, and the data in the
 * page after kvm_run (KVM_PIO_PAGE_OFFSET).
 */
static uint8_t *io_exit(struct vcpu *v, uint8_t dir, uint16_t port,
			uint8_t size, uint32_t count)
{
	struct kvm_run *r = v->run;

	run(v, KVM_EXIT_IO);
	if (r->io.direction != dir || r->io.port != port ||
	    r->io.size != size || r->io.count != count) {
		describe(r);
		print_message("# wanted: dir %u port %#x size %u count %u\n",
			      dir, port, size, count);
	}
	assert_int_equal(r->io.direction, dir);
	assert_int_equal(r->io.port, port);
	assert_int_equal(r->io.size, size);
	assert_int_equal(r->io.count, count);
	assert_int_equal(r->io.data_offset, KVM_PIO_PAGE_OFFSET * PAGE);
	return (uint8_t *)r + r->io.data_offset;
}

static void expect_out(struct vcpu *v, uint16_t port, uint8_t size,
		       uint32_t val)
{
	uint32_t got = 0;

	memcpy(&got, io_exit(v, KVM_EXIT_IO_OUT, port, size, 1), size);
	if (got != val)
		print_message("# OUT to port %#x\n", port);
	assert_int_equal(got, val);
}

static void answer_in(struct vcpu *v, uint16_t port, uint8_t size,
		      uint32_t count, const void *data)
{
	memcpy(io_exit(v, KVM_EXIT_IO_IN, port, size, count), data,
	       (size_t)size * count);
}

/* emulator_read_write / write_exit_mmio: phys_addr, len, is_write, data. */
static uint8_t *mmio_exit(struct vcpu *v, uint64_t gpa, uint32_t len,
			  uint8_t is_write)
{
	struct kvm_run *r = v->run;

	run(v, KVM_EXIT_MMIO);
	assert_int_equal(r->mmio.phys_addr, gpa);
	assert_int_equal(r->mmio.len, len);
	assert_int_equal(r->mmio.is_write, is_write);
	return r->mmio.data;
}

/* kvm_emulate_halt: KVM_EXIT_HLT (no in-kernel LAPIC), RIP past the hlt. */
static void expect_hlt(struct vcpu *v, uint64_t rip)
{
	struct kvm_regs r;

	run(v, KVM_EXIT_HLT);
	get_regs(v, &r);
	assert_int_equal(r.rip, rip);
}

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

static void test_memslot_move(void **state)
{
	struct vm vm;
	struct vcpu v;
	uint32_t *page = anon(PAGE);
	uint32_t answer = 0x0badf00d;

	*page = 0x51075107;
	lm_guest(&vm, &v, slot_start, slot_end);
	assert_ok(set_slot(vm.fd, 1, 0, SLOT_OLD_GPA, PAGE, page));
	expect_out(&v, PORT_VALUE, 4, *page);	/* read at the old GPA */
	expect_out(&v, PORT_OUT, 1, 1);
	/* __kvm_set_memory_region: a new base_gfn alone is KVM_MR_MOVE */
	assert_ok(set_slot(vm.fd, 1, 0, SLOT_NEW_GPA, PAGE, page));
	expect_out(&v, PORT_VALUE, 4, *page);	/* read at the new GPA */
	/* the old GPA is in no slot any more: an MMIO read */
	memcpy(mmio_exit(&v, SLOT_OLD_GPA, 4, 0), &answer, 4);
	expect_out(&v, PORT_VALUE, 4, answer);
	expect_hlt(&v, GPA(slot, slot_hlt_end));
	vm_done(&vm, &v);
	munmap(page, PAGE);
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

static void check_mp_runnable(struct vcpu *v)
{
	struct kvm_mp_state mp = { 0xff };

	assert_ok(ioctl(v->fd, KVM_GET_MP_STATE, &mp));
	assert_int_equal(mp.mp_state, KVM_MP_STATE_RUNNABLE);
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

/* ---- guests ---- */

static void test_modes_guest(void **state)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	struct vm vm;
	struct vcpu v;

	vm_create(&vm);
	load(&vm, modes_start, modes_end);
	*(uint32_t *)(vm.mem + MARKER_PA) = MARKER_VALUE;
	vcpu_create(&vm, 0, &v);
	vcpu_cpuid(&v);
	/* real mode as at RESET, but CS base 0 and RIP at the guest */
	get_sregs(&v, &s);
	s.cs.selector = 0;
	s.cs.base = 0;
	assert_ok(ioctl(v.fd, KVM_SET_SREGS, &s));
	get_regs(&v, &r);
	r.rip = CODE_GPA;
	assert_ok(ioctl(v.fd, KVM_SET_REGS, &r));

	expect_out(&v, PORT_OUT, 1, STAGE_REAL);
	expect_out(&v, PORT_OUT, 1, STAGE_PROT32);
	expect_out(&v, PORT_OUT, 1, STAGE_LONG);
	expect_out(&v, PORT_VALUE, 4, MARKER_VALUE);	/* via MARKER_VA */
	expect_out(&v, PORT_OUT, 1, STAGE_DONE);
	expect_hlt(&v, GPA(modes, modes_hlt_end));
	/* the write through MARKER_VA landed at MARKER_PA */
	assert_int_equal(*(uint32_t *)(vm.mem + MARKER_PA + 8), MODES_WRITE);

	/* set_efer / svm_set_cr0: LMA came with CR0.PG */
	get_sregs(&v, &s);
	assert_int_equal(s.efer, EFER_LME | EFER_LMA);
	assert_int_equal(s.cr0, CR0_PE | CR0_ET | CR0_PG);
	assert_int_equal(s.cr4, CR4_PAE);
	assert_int_equal(s.cr3, MODES_PT_GPA);
	assert_int_equal(s.cs.selector, M_SEL_CODE64);
	assert_int_equal(s.cs.l, 1);
	assert_int_equal(s.gdt.limit, 4 * 8 - 1);
	vm_done(&vm, &v);
}

/* Up to the IN of a dword: three OUTs, one of each width. */
static void io64_outs(struct vcpu *v)
{
	expect_out(v, PORT_OUT, 1, IO_OUT8);
	expect_out(v, PORT_OUT, 2, IO_OUT16);
	expect_out(v, PORT_OUT, 4, IO_OUT32);
}

/* Each exit of rep outsb: emulate.c em_out sends one element. */
static void io64_rep_outsb(struct vcpu *v)
{
	const char *s = "hello";
	int i;

	for (i = 0; i < IO_STR_LEN; i++)
		expect_out(v, PORT_STR, 1, (uint8_t)s[i]);
}

static void test_io64_guest(void **state)
{
	static const uint8_t ins[IO_INS_LEN] = { 1, 2, 3, 4 };
	uint32_t in32 = 0xcafebabe, mmio = 0xdeadbeef, w;
	uint8_t in8 = 0x99;
	struct vm vm;
	struct vcpu v;

	lm_guest(&vm, &v, io64_start, io64_end);
	io64_outs(&v);
	/* complete_fast_pio_in: size 4 zero-extends, size 1 merges */
	answer_in(&v, PORT_IN, 4, 1, &in32);
	expect_out(&v, PORT_VALUE, 4, in32);
	answer_in(&v, PORT_IN, 1, 1, &in8);
	expect_out(&v, PORT_VALUE, 4, (IO_MERGE & ~0xffu) | in8);
	/* write_exit_mmio: the bytes as stored */
	memcpy(&w, mmio_exit(&v, MMIO_GPA, 4, 1), 4);
	assert_int_equal(w, IO_MMIO_WRITE);
	/* complete_emulated_mmio: the read gets run->mmio.data */
	memcpy(mmio_exit(&v, MMIO_GPA + IO_MMIO_READ_OFF, 4, 0), &mmio, 4);
	expect_out(&v, PORT_VALUE, 4, mmio);
	io64_rep_outsb(&v);
	/* pio_in_emulated reads ahead: one exit for the whole rep insb */
	answer_in(&v, PORT_STR, 1, IO_INS_LEN, ins);
	memcpy(&w, ins, 4);
	expect_out(&v, PORT_VALUE, 4, w);
	expect_hlt(&v, GPA(io64, io64_hlt_end));
	assert_memory_equal(vm.mem + DATA_GPA, ins, IO_INS_LEN);
	vm_done(&vm, &v);
}

static void test_immediate_exit_completes_in(void **state)
{
	uint32_t in32 = 0xcafebabe;
	struct kvm_regs r;
	struct vm vm;
	struct vcpu v;

	lm_guest(&vm, &v, io64_start, io64_end);
	io64_outs(&v);
	answer_in(&v, PORT_IN, 4, 1, &in32);
	/*
	 * kvm_arch_vcpu_ioctl_run: complete_userspace_io (here
	 * complete_fast_pio_in) runs before the immediate_exit check, which
	 * returns -EINTR without entering vcpu_run: exit_reason stays.
	 */
	v.run->immediate_exit = 1;
	assert_errno(ioctl(v.fd, KVM_RUN, 0), EINTR);
	assert_int_equal(v.run->exit_reason, KVM_EXIT_IO);
	get_regs(&v, &r);
	assert_int_equal(r.rax, in32);	/* upper half zeroed */
	assert_int_equal(r.rip, GPA(io64, io64_inl_end));
	v.run->immediate_exit = 0;
	expect_out(&v, PORT_VALUE, 4, in32);
	vm_done(&vm, &v);
}

/* idt.S's handler reports: vector, [error code], saved RIP. */
static void expect_vector(struct vcpu *v, uint8_t vec, int64_t err,
			  uint64_t rip)
{
	expect_out(v, PORT_VEC, 1, vec);
	if (err >= 0)
		expect_out(v, PORT_ERR, 4, (uint32_t)err);
	expect_out(v, PORT_RIP, 4, (uint32_t)rip);
}

static void test_idt_guest(void **state)
{
	struct kvm_sregs s;
	struct vm vm;
	struct vcpu v;

	lm_guest(&vm, &v, idt_start, idt_end);
	/* faults save the faulting RIP; traps the next one */
	expect_vector(&v, 6, -1, GPA(idt, idt_ud));
	expect_vector(&v, 13, 0, GPA(idt, idt_gp0));
	expect_vector(&v, 13, BAD_SEL, GPA(idt, idt_gpsel));
	expect_vector(&v, 3, -1, GPA(idt, idt_int3_end));
	expect_vector(&v, 0x80, -1, GPA(idt, idt_int80_end));
	expect_hlt(&v, GPA(idt, idt_hlt_end));
	get_sregs(&v, &s);
	assert_int_equal(s.idt.base, IDT_GPA);
	assert_int_equal(s.idt.limit, 256 * 16 - 1);
	assert_int_equal(s.ds.selector, LM_SEL_DATA);	/* load failed */
	vm_done(&vm, &v);
}

static void test_triple_fault(void **state)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	struct vm vm;
	struct vcpu v;

	lm_guest(&vm, &v, triple_start, triple_end);
	expect_out(&v, PORT_OUT, 1, 1);
	run(&v, KVM_EXIT_SHUTDOWN);
	/*
	 * shutdown_interception (svm): the VMCB is undefined after
	 * SHUTDOWN, so KVM INITs the vCPU (kvm_vcpu_reset(vcpu, true)).
	 */
	get_regs(&v, &r);
	assert_int_equal(r.rip, 0xfff0);
	assert_int_equal(r.rflags, 2);
	assert_int_equal(r.rdx, cpuid_leaf(1)->eax);
	get_sregs(&v, &s);
	assert_int_equal(s.cs.selector, 0xf000);
	assert_int_equal(s.cs.base, 0xffff0000);
	assert_int_equal(s.cr0, CR0_ET);	/* CD, NW kept: were 0 */
	assert_int_equal(s.cr4 | s.efer, 0);
	vm_done(&vm, &v);
}

static void test_immediate_exit(void **state)
{
	struct kvm_regs r;
	struct vm vm;
	struct vcpu v;

	lm_guest(&vm, &v, loop_start, loop_end);
	/* kvm_vcpu_ioctl: KVM_RUN takes no argument */
	assert_errno(ioctl(v.fd, KVM_RUN, 1), EINVAL);
	/*
	 * kvm_arch_vcpu_ioctl_run: !wants_to_run is -EINTR before
	 * vcpu_run, which is what writes exit_reason: it keeps the 0 of a
	 * new kvm_run page, and no guest instruction ran.
	 */
	v.run->immediate_exit = 1;
	assert_errno(ioctl(v.fd, KVM_RUN, 0), EINTR);
	assert_int_equal(v.run->exit_reason, KVM_EXIT_UNKNOWN);
	get_regs(&v, &r);
	assert_int_equal(r.rip, CODE_GPA);
	assert_int_equal(r.rax, 0);
	vm_done(&vm, &v);
}

struct kicker {
	pthread_t target;
	atomic_bool stop;
};

static void on_usr1(int sig)
{
}

/* SIGUSR1 to the target every 50 ms until told to stop. */
static void *kick(void *arg)
{
	struct kicker *k = arg;

	while (!atomic_load(&k->stop)) {
		usleep(50000);
		if (!atomic_load(&k->stop))
			pthread_kill(k->target, SIGUSR1);
	}
	return NULL;
}

static void test_signal_interrupts_run(void **state)
{
	struct sigaction sa = { .sa_handler = on_usr1 }, old;
	struct kicker k = { .target = pthread_self() };
	struct kvm_regs r;
	struct vm vm;
	struct vcpu v;
	pthread_t t;
	int ret, err;

	lm_guest(&vm, &v, loop_start, loop_end);
	sigemptyset(&sa.sa_mask);
	assert_ok(sigaction(SIGUSR1, &sa, &old));
	atomic_init(&k.stop, false);
	assert_ok(pthread_create(&t, NULL, kick, &k));
	errno = 0;
	ret = ioctl(v.fd, KVM_RUN, 0);
	err = errno;
	atomic_store(&k.stop, true);
	pthread_join(t, NULL);
	sigaction(SIGUSR1, &old, NULL);
	/* xfer_to_guest_mode_work -> kvm_handle_signal_exit */
	assert_int_equal(ret, -1);
	assert_int_equal(err, EINTR);
	assert_int_equal(v.run->exit_reason, KVM_EXIT_INTR);
	get_regs(&v, &r);
	assert_true(r.rax > 0);
	assert_true(r.rip == CODE_GPA || r.rip == CODE_GPA + 3);
	vm_done(&vm, &v);
}

/* ---- two vCPUs ---- */

struct runner {
	struct vcpu v;
	uint32_t exit1, exit2;	/* exit reasons of the two KVM_RUNs */
	uint8_t dir, size;
	uint16_t port;
	uint32_t count, val;
	uint64_t rip;
	int err;
};

/* Two KVM_RUNs: the OUT of the vCPU's id, then the hlt. */
static int smp_run(struct runner *r)
{
	struct kvm_run *run = r->v.run;
	struct kvm_regs regs;

	if (ioctl(r->v.fd, KVM_RUN, 0))
		return -1;
	r->exit1 = run->exit_reason;
	r->dir = run->io.direction;
	r->size = run->io.size;
	r->port = run->io.port;
	r->count = run->io.count;
	if (r->exit1 == KVM_EXIT_IO &&
	    run->io.data_offset + 4 <= (uint64_t)run_size)
		memcpy(&r->val, (uint8_t *)run + run->io.data_offset, 4);
	if (ioctl(r->v.fd, KVM_RUN, 0))
		return -1;
	r->exit2 = run->exit_reason;
	if (ioctl(r->v.fd, KVM_GET_REGS, &regs))
		return -1;
	r->rip = regs.rip;
	return 0;
}

/* No cmocka asserts off the main thread: record, check later. */
static void *smp_vcpu(void *arg)
{
	struct runner *r = arg;

	if (smp_run(r))
		r->err = errno;
	return NULL;
}

static void check_runner(const struct runner *r, uint32_t id)
{
	assert_int_equal(r->err, 0);
	assert_int_equal(r->exit1, KVM_EXIT_IO);
	assert_int_equal(r->dir, KVM_EXIT_IO_OUT);
	assert_int_equal(r->size, 4);
	assert_int_equal(r->port, PORT_VALUE);
	assert_int_equal(r->count, 1);
	assert_int_equal(r->val, id);
	assert_int_equal(r->exit2, KVM_EXIT_HLT);
	assert_int_equal(r->rip, GPA(smp, smp_hlt_end));
}

static void test_two_vcpus(void **state)
{
	struct runner r[2];
	pthread_t t[2];
	struct vm vm;
	int i;

	memset(r, 0, sizeof(r));
	vm_create(&vm);
	load(&vm, smp_start, smp_end);
	lm_tables(&vm);
	for (i = 0; i < 2; i++) {
		vcpu_create(&vm, i, &r[i].v);
		lm_enter(&r[i].v, i + 1);
	}
	/* kvm_vm_ioctl_create_vcpu: the id is taken */
	assert_errno(ioctl(vm.fd, KVM_CREATE_VCPU, 1), EEXIST);
	/* kvm_arch_vcpu_create: no in-kernel irqchip, so APs too */
	for (i = 0; i < 2; i++)
		check_mp_runnable(&r[i].v);
	for (i = 0; i < 2; i++)
		assert_ok(pthread_create(&t[i], NULL, smp_vcpu, &r[i]));
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 2; i++)
		check_runner(&r[i], i + 1);
	assert_int_equal(*(uint32_t *)(vm.mem + SMP_COUNTER_GPA),
			 2 * SMP_ITERS);
	for (i = 0; i < 2; i++)
		vcpu_destroy(&r[i].v);
	vm_destroy(&vm);
}

/* ---- ioeventfd ---- */

static int ioeventfd(int vm, uint64_t addr, uint32_t len, int fd,
		     uint32_t flags, uint64_t match)
{
	struct kvm_ioeventfd a = { .datamatch = match, .addr = addr,
				   .len = len, .fd = fd, .flags = flags };

	return ioctl(vm, KVM_IOEVENTFD, &a);
}

/* kvm_assign_ioeventfd() and kvm_deassign_ioeventfd()'s checks. */
static void ioeventfd_errors(int vm, int efd)
{
	assert_errno(ioeventfd(vm, 0x50, 3, efd, KVM_IOEVENTFD_FLAG_PIO, 0),
		     EINVAL);
	assert_errno(ioeventfd(vm, 0x50, 0, efd, KVM_IOEVENTFD_FLAG_PIO |
				   KVM_IOEVENTFD_FLAG_DATAMATCH, 0), EINVAL);
	assert_errno(ioeventfd(vm, ~0ull - 1, 4, efd, 0, 0), EINVAL);
	assert_errno(ioeventfd(vm, 0x50, 1, efd, 1u << 7, 0), EINVAL);
	assert_errno(ioeventfd(vm, 0x50, 1, -1, KVM_IOEVENTFD_FLAG_PIO, 0),
		     EBADF);
	assert_errno(ioeventfd(vm, 0x50, 1, 0, KVM_IOEVENTFD_FLAG_PIO, 0),
		     EINVAL); /* fd 0 is not an eventfd */
	/* a second wildcard on the same port collides */
	assert_errno(ioeventfd(vm, PORT_IOEV, 1, efd, KVM_IOEVENTFD_FLAG_PIO,
			       0), EEXIST);
	assert_errno(ioeventfd(vm, 0x51, 1, efd, KVM_IOEVENTFD_FLAG_PIO |
				   KVM_IOEVENTFD_FLAG_DEASSIGN, 0), ENOENT);
}

static void test_ioeventfd(void **state)
{
	struct vm vm;
	struct vcpu v;
	uint64_t n = 0;
	int pio = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int mmio = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	(void)state;
	assert_true(pio >= 0 && mmio >= 0);
	lm_guest(&vm, &v, ioev_start, ioev_end);
	assert_ok(ioeventfd(vm.fd, PORT_IOEV, 1, pio, KVM_IOEVENTFD_FLAG_PIO,
			    0));
	assert_ok(ioeventfd(vm.fd, MMIO_GPA, 4, mmio,
			    KVM_IOEVENTFD_FLAG_DATAMATCH, IOEV_MATCH));
	ioeventfd_errors(vm.fd, pio);
	/* the matching store went to the eventfd; the other one exits */
	assert_int_equal(*(uint32_t *)mmio_exit(&v, MMIO_GPA, 4, true),
			 IOEV_OTHER);
	assert_int_equal(read(pio, &n, 8), 8);
	assert_int_equal(n, 2);
	assert_int_equal(read(mmio, &n, 8), 8);
	assert_int_equal(n, 1);
	expect_out(&v, PORT_OUT, 1, STAGE_DONE);
	expect_hlt(&v, GPA(ioev, ioev_hlt_end));
	/* deassigned, a write exits again */
	assert_ok(ioeventfd(vm.fd, PORT_IOEV, 1, pio,
			    KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DEASSIGN,
			    0));
	vm_done(&vm, &v);
	close(pio);
	close(mmio);
}

/* ---- 8-byte MMIO ---- */

/*
 * vcpu_mmio_read/write(): one exit carries an 8-byte access, RIP at the
 * instruction while it is pending.
 */
static void test_mmio_quadword(void **state)
{
	static const uint64_t answer = 0xa1b2c3d4e5f60718ull;
	struct kvm_regs r;
	struct vm vm;
	struct vcpu v;
	uint64_t got;

	(void)state;
	lm_guest(&vm, &v, mmio64_start, mmio64_end);
	memcpy(mmio_exit(&v, MMIO_GPA, 8, false), &answer, 8);
	get_regs(&v, &r);
	assert_int_equal(r.rip, GPA(mmio64, mmio64_load));
	expect_out(&v, PORT_VALUE, 4, (uint32_t)answer);
	expect_out(&v, PORT_VALUE, 4, (uint32_t)(answer >> 32));
	memcpy(&got, mmio_exit(&v, MMIO_GPA + 8, 8, true), 8);
	assert_int_equal(got, MMIO64_VALUE);
	get_regs(&v, &r);
	assert_int_equal(r.rip, GPA(mmio64, mmio64_store));
	expect_hlt(&v, GPA(mmio64, mmio64_end));
	vm_done(&vm, &v);
}

/*
 * kvm_arch_vcpu_ioctl_set_guest_debug() (6.12): no check of unknown
 * control bits; INJECT_BP/INJECT_DB queue an exception for the next run,
 * EBUSY while one is queued; KVM_CAP_SET_GUEST_DEBUG2 is the valid mask.
 */
static void test_guest_debug_inject(void **state)
{
	struct kvm_guest_debug d = { .control = KVM_GUESTDBG_ENABLE |
						0x80000000u };
	struct kvm_vcpu_events e;
	struct vm vm;
	struct vcpu v;

	assert_int_equal(ioctl(kvm, KVM_CHECK_EXTENSION,
			       KVM_CAP_SET_GUEST_DEBUG2), 0x001f0003);
	lm_guest(&vm, &v, idt_start, idt_end);
	assert_ok(ioctl(v.fd, KVM_SET_GUEST_DEBUG, &d));
	expect_vector(&v, 6, -1, GPA(idt, idt_ud));
	expect_vector(&v, 13, 0, GPA(idt, idt_gp0));
	expect_vector(&v, 13, BAD_SEL, GPA(idt, idt_gpsel));
	expect_vector(&v, 3, -1, GPA(idt, idt_int3_end));
	expect_vector(&v, 0x80, -1, GPA(idt, idt_int80_end));
	expect_hlt(&v, GPA(idt, idt_hlt_end));
	d.control = KVM_GUESTDBG_INJECT_BP;
	assert_ok(ioctl(v.fd, KVM_SET_GUEST_DEBUG, &d));
	d.control = KVM_GUESTDBG_INJECT_DB;
	assert_errno(ioctl(v.fd, KVM_SET_GUEST_DEBUG, &d), EBUSY);
	/* without the payload capability it reads as injected */
	assert_ok(ioctl(v.fd, KVM_GET_VCPU_EVENTS, &e));
	assert_int_equal(e.exception.injected, 1);
	assert_int_equal(e.exception.nr, 3);
	/* delivered through the IDT at the RIP after HLT */
	expect_vector(&v, 3, -1, GPA(idt, idt_hlt_end));
	vm_done(&vm, &v);
}

/* kvm_vcpu_ioctl_x86_set_vcpu_events(): its checks, and an injection. */
static void test_vcpu_events_rows(void **state)
{
	struct kvm_vcpu_events e;
	struct vm vm;
	struct vcpu v;

	lm_guest(&vm, &v, idt_start, idt_end);
	expect_vector(&v, 6, -1, GPA(idt, idt_ud));
	memset(&e, 0, sizeof(e));
	e.flags = 0x40;
	assert_errno(ioctl(v.fd, KVM_SET_VCPU_EVENTS, &e), EINVAL);
	e.flags = KVM_VCPUEVENT_VALID_PAYLOAD; /* capability not enabled */
	assert_errno(ioctl(v.fd, KVM_SET_VCPU_EVENTS, &e), EINVAL);
	e.flags = 0;
	e.exception.injected = 1;
	e.exception.nr = 2; /* NMI is not an exception to inject */
	assert_errno(ioctl(v.fd, KVM_SET_VCPU_EVENTS, &e), EINVAL);
	e.exception.nr = 32;
	assert_errno(ioctl(v.fd, KVM_SET_VCPU_EVENTS, &e), EINVAL);
	/* #GP(0x18) injected: the handler sees it with its error code */
	e.exception.nr = 13;
	e.exception.has_error_code = 1;
	e.exception.error_code = 0x18;
	assert_ok(ioctl(v.fd, KVM_SET_VCPU_EVENTS, &e));
	memset(&e, 0, sizeof(e));
	assert_ok(ioctl(v.fd, KVM_GET_VCPU_EVENTS, &e));
	assert_int_equal(e.exception.nr, 13);
	assert_int_equal(e.exception.error_code, 0x18);
	/* the pending OUT of #UD's report completes first, then #GP */
	expect_out(&v, PORT_VEC, 1, 13);
	expect_out(&v, PORT_ERR, 4, 0x18);
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

/*
 * The VMM sets registers while an OUT waits (the engine is replaced,
 * V10): the OUT completes, and MMIO in a page the old engine had mapped
 * still exits.
 */
static void test_mmio_after_state_change(void **state)
{
	static const uint64_t answer = 0x0102030405060708ull;
	struct kvm_regs r;
	struct vm vm;
	struct vcpu v;

	(void)state;
	lm_guest(&vm, &v, mmio64_start, mmio64_end);
	memcpy(mmio_exit(&v, MMIO_GPA, 8, false), &answer, 8);
	expect_out(&v, PORT_VALUE, 4, (uint32_t)answer);
	get_regs(&v, &r);
	assert_ok(ioctl(v.fd, KVM_SET_REGS, &r));
	expect_out(&v, PORT_VALUE, 4, (uint32_t)(answer >> 32));
	mmio_exit(&v, MMIO_GPA + 8, 8, true);
	expect_hlt(&v, GPA(mmio64, mmio64_end));
	vm_done(&vm, &v);
}

/*
 * kvm_emulate_rdmsr()/wrmsr(): the guest's RDMSR and WRMSR of MSRs KVM
 * keeps see what KVM_SET_MSRS wrote, and KVM_GET_MSRS sees the guest's
 * write.  The APIC base has the BSP flag on the boot vCPU.
 */
static void test_guest_msrs(void **state)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[1];
	} m = { .h.nmsrs = 1, .e[0] = { .index = 0x250,
					 .data = 0x0606060606060606ull } };
	struct vm vm;
	struct vcpu v;

	(void)state;
	lm_guest(&vm, &v, msr_start, msr_end);
	assert_int_equal(ioctl(v.fd, KVM_SET_MSRS, &m), 1);
	expect_out(&v, PORT_VALUE, 4, 0xfee00900);
	expect_out(&v, PORT_VALUE, 4, 0x06060606);
	expect_hlt(&v, GPA(msr, msr_end));
	assert_int_equal(ioctl(v.fd, KVM_GET_MSRS, &m), 1);
	assert_int_equal(m.e[0].data, MSR_VALUE);
	vm_done(&vm, &v);
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
		cmocka_unit_test(test_memslot_move),
		cmocka_unit_test(test_reset_state),
		cmocka_unit_test(test_regs_round_trip),
		cmocka_unit_test(test_sregs_round_trip),
		cmocka_unit_test(test_modes_guest),
		cmocka_unit_test(test_io64_guest),
		cmocka_unit_test(test_immediate_exit_completes_in),
		cmocka_unit_test(test_idt_guest),
		cmocka_unit_test(test_guest_debug_inject),
		cmocka_unit_test(test_vcpu_events_rows),
		cmocka_unit_test(test_vcpu_rows),
		cmocka_unit_test(test_triple_fault),
		cmocka_unit_test(test_immediate_exit),
		cmocka_unit_test(test_signal_interrupts_run),
		cmocka_unit_test(test_two_vcpus),
		cmocka_unit_test(test_ioeventfd),
		cmocka_unit_test(test_mmio_quadword),
		cmocka_unit_test(test_mmio_after_state_change),
		cmocka_unit_test(test_guest_msrs),
	};

	return cmocka_run_group_tests_name("conf_vkvm", tests, setup,
					   teardown);
}
