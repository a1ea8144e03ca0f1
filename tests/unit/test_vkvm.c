// SPDX-License-Identifier: MIT
/*
 * vkvm, the KVM userspace API on the Unicorn emulator, through its own
 * entry points: vkvm_open() instead of open("/dev/kvm"), vkvm_ioctl()
 * (which returns -errno) instead of ioctl(), and vkvm_dup()/vkvm_close()
 * called by hand where the preload shim would call them.  Each test makes
 * its own VM; the guests are vkvm_guests.S, 64-bit code entered directly
 * with KVM_SET_SREGS on page tables the test builds.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "testutil.h"
#include "vkvm.h"
#include "vkvm_uapi.h"

#define PAGE 4096ul
#define RUN_SIZE (3 * PAGE) /* kvm_run, the PIO page, coalesced MMIO */
#define MAX_CPUID 256

/* Guest-physical layout.  Slot 0 is GPA 0 .. MEM_SIZE. */
#define MEM_SIZE 0x200000ul
#define GDT_GPA 0x1000ul
#define PML4_GPA 0x2000ul /* identity map of 0 .. 1 GiB, 2 MiB pages */
#define PDPT_GPA 0x3000ul
#define PD_GPA 0x4000ul
#define STACK_TOP 0x7000ul
#define CODE_GPA 0x8000ul /* each guest is copied and starts here */
#define DATA_GPA 0x10000ul
#define SLOT_A_GPA 0x400000ul /* an extra memslot, outside slot 0 ... */
#define SLOT_B_GPA 0x600000ul /* ... and where it moves to */
#define MMIO_GPA 0x10000000ul /* in no memslot, inside the identity map */

#define SEL_CODE 0x08
#define SEL_DATA 0x10

/* vkvm_guests.S's ports */
#define PORT_OUT 0x10
#define PORT_OUT2 0x11
#define PORT_IN 0x12

#define CR0_PE 0x1ull
#define CR0_ET 0x10ull
#define CR0_PG 0x80000000ull
#define CR4_PAE 0x20ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull
#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_PS 0x80ull


#define GUEST(g) extern const uint8_t g##_start[]
GUEST(vg_out);
GUEST(vg_in);
GUEST(vg_load);
GUEST(vg_mmio);
GUEST(vg_deep);
GUEST(vg_hlt);
GUEST(vg_ud2);
GUEST(vg_loop);
GUEST(vg_smp);
extern const uint8_t vg_out_insn[], vg_out_next[], vg_out_hlt_end[];
extern const uint8_t vg_in_insn[], vg_in_end[], vg_load_end[];
extern const uint8_t vg_mmio_read[], vg_mmio_end[];
extern const uint8_t vg_deep_out[], vg_deep_write[], vg_deep_read[];
extern const uint8_t vg_deep_end[];
extern const uint8_t vg_hlt_first_end[], vg_hlt_end[];
extern const uint8_t vg_ud2_end[], vg_loop_end[], vg_smp_end[];

/* The guest-physical address of a label of guest g, copied to CODE_GPA. */
#define GPA(g, label) (CODE_GPA + (uint64_t)((label) - g##_start))

struct vm {
	int sys, fd;
	uint8_t *mem; /* slot 0 */
};

struct vcpu {
	int fd;
	struct kvm_run *run;
};

#ifdef __SANITIZE_ADDRESS__
/*
 * Unicorn 2.1's uc_close() leaks 32 bytes per engine: it never frees
 * uc->unmapped_regions, since its bundled glib's g_array_free() always
 * keeps the wrapper (unicorn-engine/unicorn#2027).  Not vkvm's to fix.
 * Unicorn has no frame pointers, so LSan's fast unwinder often stops at
 * g_array_new (only Unicorn's bundled glib has it in this program).
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:uc_init_engine\nleak:g_array_new\n";
}
#endif

/* ---- descriptors ---- */

static void vk_close_fd(int fd)
{
	vkvm_close(fd);
	close(fd);
}

static void *anon(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

static long set_slot(int vm, uint32_t slot, uint32_t flags, uint64_t gpa,
		     uint64_t size, const void *host)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};

	return vkvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r);
}

/* The GDT and identity tables the long-mode sregs below point at. */
static void lm_tables(uint8_t *mem)
{
	uint64_t *gdt = (uint64_t *)(mem + GDT_GPA);
	uint64_t *pml4 = (uint64_t *)(mem + PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(mem + PDPT_GPA);
	uint64_t *pd = (uint64_t *)(mem + PD_GPA);
	uint64_t i;

	gdt[0] = 0;
	gdt[SEL_CODE / 8] = 0x00af9b000000ffffull; /* 64-bit code, DPL 0 */
	gdt[SEL_DATA / 8] = 0x00cf93000000ffffull; /* flat data */
	pml4[0] = PDPT_GPA | PTE_P | PTE_RW;
	pdpt[0] = PD_GPA | PTE_P | PTE_RW;
	for (i = 0; i < 512; i++)
		pd[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS;
}

/* A system fd, a VM and its slot 0 with the long-mode tables in it. */
static void vm_new(struct vm *vm)
{
	vm->sys = vkvm_open(O_RDWR | O_CLOEXEC);
	assert_true(vm->sys >= 0);
	vm->fd = (int)vkvm_ioctl(vm->sys, KVM_CREATE_VM, 0);
	assert_true(vm->fd >= 0);
	assert_int_equal(vkvm_kind(vm->fd), VKVM_VM);
	vm->mem = anon(MEM_SIZE, PROT_READ | PROT_WRITE);
	assert_int_equal(set_slot(vm->fd, 0, 0, 0, MEM_SIZE, vm->mem), 0);
	lm_tables(vm->mem);
}

static void vm_free(struct vm *vm)
{
	vk_close_fd(vm->fd);
	vk_close_fd(vm->sys);
	munmap(vm->mem, MEM_SIZE);
}

static void load(struct vm *vm, const uint8_t *start, const uint8_t *end)
{
	memcpy(vm->mem + CODE_GPA, start, (size_t)(end - start));
}

static void vcpu_new(struct vm *vm, int id, struct vcpu *v)
{
	v->fd = (int)vkvm_ioctl(vm->fd, KVM_CREATE_VCPU, (void *)(long)id);
	assert_true(v->fd >= 0);
	assert_int_equal(vkvm_kind(v->fd), VKVM_VCPU);
	v->run = mmap(NULL, RUN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	assert_true(v->run != MAP_FAILED);
}

static void vcpu_free(struct vcpu *v)
{
	munmap(v->run, RUN_SIZE);
	vk_close_fd(v->fd);
}

static void set_cpuid(struct vm *vm, struct vcpu *v)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + MAX_CPUID *
						  sizeof(c->entries[0]));

	assert_non_null(c);
	c->nent = MAX_CPUID;
	assert_int_equal(vkvm_ioctl(vm->sys, KVM_GET_SUPPORTED_CPUID, c), 0);
	assert_int_equal(vkvm_ioctl(v->fd, KVM_SET_CPUID2, c), 0);
	free(c);
}

/*
 * Long-mode sregs for lm_tables, every field one that KVM gives back as
 * set: G agrees with the limit, data segments are accessed, TR is a busy
 * 64-bit TSS, the LDT is unusable.
 */
static void lm_sregs(struct kvm_sregs *s)
{
	struct kvm_segment code = {
		.limit = 0xffffffff, .selector = SEL_CODE, .type = 11,
		.present = 1, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = {
		.limit = 0xffffffff, .selector = SEL_DATA, .type = 3,
		.present = 1, .s = 1, .db = 1, .g = 1,
	};
	struct kvm_segment tr = { .limit = 0x67, .type = 11, .present = 1 };
	struct kvm_segment ldt = { .unusable = 1 };

	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = tr;
	s->ldt = ldt;
	s->gdt.base = GDT_GPA;
	s->gdt.limit = 3 * 8 - 1;
	s->idt.base = 0;
	s->idt.limit = 0; /* no exception is expected */
	s->cr0 = CR0_PE | CR0_ET | CR0_PG;
	s->cr3 = PML4_GPA;
	s->cr4 = CR4_PAE;
	s->efer = EFER_LME | EFER_LMA;
}

static void set_regs(struct vcpu *v, uint64_t rip, uint64_t rbx,
		     uint64_t rcx)
{
	struct kvm_regs r = {
		.rip = rip, .rsp = STACK_TOP, .rflags = 2, .rbx = rbx,
		.rcx = rcx,
	};

	assert_int_equal(vkvm_ioctl(v->fd, KVM_SET_REGS, &r), 0);
}

/* Straight into 64-bit mode at CODE_GPA. */
static void lm_enter(struct vm *vm, struct vcpu *v, uint64_t rbx,
		     uint64_t rcx)
{
	struct kvm_sregs s;

	set_cpuid(vm, v);
	assert_int_equal(vkvm_ioctl(v->fd, KVM_GET_SREGS, &s), 0);
	lm_sregs(&s);
	assert_int_equal(vkvm_ioctl(v->fd, KVM_SET_SREGS, &s), 0);
	set_regs(v, CODE_GPA, rbx, rcx);
}

/* A VM with vCPU 0 about to run guest [start, end) in 64-bit mode. */
static void lm_guest(struct vm *vm, struct vcpu *v, const uint8_t *start,
		     const uint8_t *end, uint64_t rbx)
{
	vm_new(vm);
	load(vm, start, end);
	vcpu_new(vm, 0, v);
	lm_enter(vm, v, rbx, 0);
}

static void lm_done(struct vm *vm, struct vcpu *v)
{
	vcpu_free(v);
	vm_free(vm);
}

static uint64_t get_rip(struct vcpu *v)
{
	struct kvm_regs r;

	assert_int_equal(vkvm_ioctl(v->fd, KVM_GET_REGS, &r), 0);
	return r.rip;
}

/* ---- exits ---- */

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

#define RUN_TIMEOUT 30 /* seconds */

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * KVM_RUN returns 0 with this exit_reason.  These helpers are called
 * through macros that pass the caller's line, which a failure prints.
 */
static void run_at(struct vcpu *v, uint32_t reason, int line)
{
	long ret;

	/* a guest that never exits: SIGALRM ends the run with EINTR */
	alarm(RUN_TIMEOUT);
	ret = vkvm_ioctl(v->fd, KVM_RUN, NULL);
	alarm(0);
	if (ret || v->run->exit_reason != reason) {
		print_message("# line %d: KVM_RUN %ld, wanted exit %u\n", line,
			      ret, reason);
		describe(v->run);
	}
	assert_int_equal(ret, 0);
	assert_int_equal(v->run->exit_reason, reason);
}
#define run(v, reason) run_at(v, reason, __LINE__)

/* A port exit with these fields; its data in the page after kvm_run. */
static uint8_t *io_exit_at(struct vcpu *v, uint8_t dir, uint16_t port,
			   uint8_t size, int line)
{
	struct kvm_run *r = v->run;

	run_at(v, KVM_EXIT_IO, line);
	if (r->io.direction != dir || r->io.port != port ||
	    r->io.size != size || r->io.count != 1) {
		print_message("# line %d: wanted dir %u port %#x size %u\n",
			      line, dir, port, size);
		describe(r);
	}
	assert_int_equal(r->io.direction, dir);
	assert_int_equal(r->io.port, port);
	assert_int_equal(r->io.size, size);
	assert_int_equal(r->io.count, 1);
	assert_int_equal(r->io.data_offset, PAGE);
	return (uint8_t *)r + r->io.data_offset;
}
#define io_exit(v, dir, port, size) io_exit_at(v, dir, port, size, __LINE__)

static void expect_out_at(struct vcpu *v, uint16_t port, uint8_t size,
			  uint32_t val, int line)
{
	uint32_t got = 0;

	memcpy(&got, io_exit_at(v, KVM_EXIT_IO_OUT, port, size, line), size);
	if (got != val)
		print_message("# line %d: OUT %#x, wanted %#x\n", line, got,
			      val);
	assert_int_equal(got, val);
}
#define expect_out(v, port, size, val) \
	expect_out_at(v, port, size, val, __LINE__)

static uint8_t *mmio_exit_at(struct vcpu *v, uint64_t gpa, uint32_t len,
			     uint8_t is_write, int line)
{
	struct kvm_run *r = v->run;

	run_at(v, KVM_EXIT_MMIO, line);
	if (r->mmio.phys_addr != gpa || r->mmio.len != len ||
	    r->mmio.is_write != is_write) {
		print_message("# line %d: wanted MMIO %#llx len %u is_write "
			      "%u\n", line, (unsigned long long)gpa, len,
			      is_write);
		describe(r);
	}
	assert_int_equal(r->mmio.phys_addr, gpa);
	assert_int_equal(r->mmio.len, len);
	assert_int_equal(r->mmio.is_write, is_write);
	return r->mmio.data;
}
#define mmio_exit(v, gpa, len, is_write) \
	mmio_exit_at(v, gpa, len, is_write, __LINE__)

/* ---- the system descriptor ---- */

/* kvm_dev_ioctl(): API version 12, the capabilities, the kvm_run size. */
static void test_sys_api(void **state)
{
	int sys = vkvm_open(O_RDWR | O_CLOEXEC), p[2];

	(void)state;
	assert_true(sys >= 0);
	assert_int_equal(vkvm_kind(sys), VKVM_SYS);
	assert_int_equal(vkvm_ioctl(sys, KVM_GET_API_VERSION, NULL), 12);
	assert_int_equal(vkvm_ioctl(sys, KVM_GET_API_VERSION, (void *)1),
			 -EINVAL);
	assert_int_equal(vkvm_ioctl(sys, KVM_GET_VCPU_MMAP_SIZE, NULL),
			 12288);

	/* what every VMM checks first, and one that does not exist */
	assert_int_equal(vkvm_ioctl(sys, KVM_CHECK_EXTENSION,
				    (void *)KVM_CAP_USER_MEMORY), 1);
	assert_int_equal(vkvm_ioctl(sys, KVM_CHECK_EXTENSION,
				    (void *)KVM_CAP_IMMEDIATE_EXIT), 1);
	assert_int_equal(vkvm_ioctl(sys, KVM_CHECK_EXTENSION,
				    (void *)KVM_CAP_SET_TSS_ADDR), 1);
	assert_int_equal(vkvm_ioctl(sys, KVM_CHECK_EXTENSION,
				    (void *)KVM_CAP_EXT_CPUID), 1);
	assert_int_equal(vkvm_ioctl(sys, KVM_CHECK_EXTENSION,
				    (void *)KVM_CAP_NR_MEMSLOTS), 509);
	assert_true(vkvm_ioctl(sys, KVM_CHECK_EXTENSION,
			       (void *)KVM_CAP_MAX_VCPUS) >= 2);
	assert_int_equal(vkvm_ioctl(sys, KVM_CHECK_EXTENSION,
				    (void *)0x7fffffffl), 0);

	/* a file that is none of vkvm's */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(vkvm_kind(p[0]), VKVM_NONE);
	assert_int_equal(vkvm_ioctl(p[0], KVM_GET_API_VERSION, NULL),
			 -ENOTTY);
	close(p[0]);
	close(p[1]);
	vk_close_fd(sys);
}

/* An argument that is not readable or writable memory: EFAULT, no crash. */
static void test_sys_efault(void **state)
{
	size_t size = sizeof(struct kvm_cpuid2) +
		      MAX_CPUID * sizeof(struct kvm_cpuid_entry2);
	uint8_t *none = anon(PAGE, PROT_NONE);
	uint8_t *ro = anon(2 * size, PROT_READ | PROT_WRITE);
	struct kvm_cpuid2 *c = calloc(1, size);
	struct vcpu v;
	struct vm vm;

	(void)state;
	assert_non_null(c);
	/* the call works with a good buffer, and says E2BIG if too small */
	c->nent = 1;
	vm_new(&vm);
	assert_int_equal(vkvm_ioctl(vm.sys, KVM_GET_SUPPORTED_CPUID, c),
			 -E2BIG);
	c->nent = MAX_CPUID;
	assert_int_equal(vkvm_ioctl(vm.sys, KVM_GET_SUPPORTED_CPUID, c), 0);
	assert_true(c->nent > 0 && c->nent < MAX_CPUID);

	/* unreadable: the header cannot be read */
	assert_int_equal(vkvm_ioctl(vm.sys, KVM_GET_SUPPORTED_CPUID, none),
			 -EFAULT);
	assert_int_equal(vkvm_ioctl(vm.sys, KVM_GET_SUPPORTED_CPUID, NULL),
			 -EFAULT);
	/* readable but not writable: the entries cannot be written back */
	((struct kvm_cpuid2 *)ro)->nent = MAX_CPUID;
	assert_int_equal(mprotect(ro, 2 * size, PROT_READ), 0);
	assert_int_equal(vkvm_ioctl(vm.sys, KVM_GET_SUPPORTED_CPUID, ro),
			 -EFAULT);

	/* the VM's and the vCPU's ioctls copy the same way */
	assert_int_equal(vkvm_ioctl(vm.fd, KVM_SET_USER_MEMORY_REGION, none),
			 -EFAULT);
	vcpu_new(&vm, 0, &v);
	assert_int_equal(vkvm_ioctl(v.fd, KVM_GET_REGS, ro), -EFAULT);
	assert_int_equal(vkvm_ioctl(v.fd, KVM_GET_SREGS, none), -EFAULT);
	assert_int_equal(vkvm_ioctl(v.fd, KVM_SET_SREGS, none), -EFAULT);
	assert_int_equal(vkvm_ioctl(v.fd, KVM_SET_CPUID2, none), -EFAULT);
	/* and the vCPU is still good after all that */
	lm_enter(&vm, &v, 0, 0);
	assert_int_equal(get_rip(&v), CODE_GPA);

	lm_done(&vm, &v);
	free(c);
	munmap(none, PAGE);
	munmap(ro, 2 * size);
}

/* ---- memslots ---- */

/*
 * __kvm_set_memory_region(): add, overlap (EEXIST), bad flags (EINVAL),
 * move (the guest reads through the new address, the old one is MMIO),
 * delete (the address is MMIO).
 */
static void test_memslots(void **state)
{
	uint32_t *extra = anon(PAGE, PROT_READ | PROT_WRITE);
	uint8_t *other = anon(2 * PAGE, PROT_READ | PROT_WRITE);
	struct kvm_userspace_memory_region2 r2 = {
		.slot = 2, .guest_phys_addr = SLOT_B_GPA, .memory_size = PAGE,
		.userspace_addr = (uintptr_t)other,
	};
	uint32_t val = 0xfeedf00d;
	struct vcpu v;
	struct vm vm;

	(void)state;
	lm_guest(&vm, &v, vg_load_start, vg_load_end, SLOT_A_GPA);
	extra[0] = 0x5107a000;

	/* add slot 1 and read through it */
	assert_int_equal(set_slot(vm.fd, 1, 0, SLOT_A_GPA, PAGE, extra), 0);
	expect_out(&v, PORT_OUT, 4, 0x5107a000);
	run(&v, KVM_EXIT_HLT);

	/* overlaps, with slot 1 and with slot 0: EEXIST */
	assert_int_equal(set_slot(vm.fd, 2, 0, SLOT_A_GPA, PAGE, other),
			 -EEXIST);
	assert_int_equal(set_slot(vm.fd, 2, 0, SLOT_A_GPA - PAGE, 2 * PAGE,
				  other), -EEXIST);
	assert_int_equal(set_slot(vm.fd, 2, 0, MEM_SIZE - PAGE, 2 * PAGE,
				  other), -EEXIST);
	/*
	 * Flags that do not exist, on either ioctl; guest_memfd on the v1
	 * ioctl, and on the v2 one where the VM type has no private memory.
	 */
	assert_int_equal(set_slot(vm.fd, 2, 1u << 7, SLOT_B_GPA, PAGE, other),
			 -EINVAL);
	assert_int_equal(set_slot(vm.fd, 2, 1u << 2, SLOT_B_GPA, PAGE, other),
			 -EINVAL);
	r2.flags = 1u << 7;
	assert_int_equal(vkvm_ioctl(vm.fd, KVM_SET_USER_MEMORY_REGION2, &r2),
			 -EINVAL);
	r2.flags = 1u << 2;
	assert_int_equal(vkvm_ioctl(vm.fd, KVM_SET_USER_MEMORY_REGION2, &r2),
			 -EINVAL);
	/* none of those took: slot 2 does not exist to delete */
	assert_int_equal(set_slot(vm.fd, 2, 0, 0, 0, NULL), -EINVAL);

	/* move slot 1: the new address reads the same memory */
	assert_int_equal(set_slot(vm.fd, 1, 0, SLOT_B_GPA, PAGE, extra), 0);
	extra[0] = 0x5107b000;
	set_regs(&v, CODE_GPA, SLOT_B_GPA, 0);
	expect_out(&v, PORT_OUT, 4, 0x5107b000);
	run(&v, KVM_EXIT_HLT);

	/* ... and the old address is in no memslot any more */
	set_regs(&v, CODE_GPA, SLOT_A_GPA, 0);
	memcpy(mmio_exit(&v, SLOT_A_GPA, 4, 0), &val, 4);
	expect_out(&v, PORT_OUT, 4, val);
	run(&v, KVM_EXIT_HLT);

	/* delete slot 1: its address is MMIO */
	assert_int_equal(set_slot(vm.fd, 1, 0, SLOT_B_GPA, 0, extra), 0);
	set_regs(&v, CODE_GPA, SLOT_B_GPA, 0);
	val = 0x0b0e0d0c;
	memcpy(mmio_exit(&v, SLOT_B_GPA, 4, 0), &val, 4);
	expect_out(&v, PORT_OUT, 4, val);
	run(&v, KVM_EXIT_HLT);
	assert_int_equal(extra[0], 0x5107b000);

	lm_done(&vm, &v);
	munmap(extra, PAGE);
	munmap(other, 2 * PAGE);
}

/* ---- modes ---- */

static void assert_seg_equal(const struct kvm_segment *got,
			     const struct kvm_segment *want, const char *name)
{
	if (got->selector != want->selector || got->base != want->base ||
	    got->limit != want->limit || got->type != want->type ||
	    got->present != want->present || got->dpl != want->dpl ||
	    got->db != want->db || got->s != want->s || got->l != want->l ||
	    got->g != want->g || got->avl != want->avl ||
	    got->unusable != want->unusable)
		print_message("# %s: sel %#x base %#llx limit %#x type %u "
			      "p %u dpl %u db %u s %u l %u g %u avl %u "
			      "unusable %u\n",
			      name, got->selector,
			      (unsigned long long)got->base, got->limit,
			      got->type, got->present, got->dpl, got->db,
			      got->s, got->l, got->g, got->avl, got->unusable);
	assert_int_equal(got->selector, want->selector);
	assert_int_equal(got->base, want->base);
	assert_int_equal(got->limit, want->limit);
	assert_int_equal(got->type, want->type);
	assert_int_equal(got->present, want->present);
	assert_int_equal(got->dpl, want->dpl);
	assert_int_equal(got->db, want->db);
	assert_int_equal(got->s, want->s);
	assert_int_equal(got->l, want->l);
	assert_int_equal(got->g, want->g);
	assert_int_equal(got->avl, want->avl);
	assert_int_equal(got->unusable, want->unusable);
}

/*
 * KVM_SET_SREGS straight into 64-bit long mode; KVM_GET_SREGS gives it
 * back, and a guest only 64-bit code gets right does out and hlt.
 */
static void test_long_mode_entry(void **state)
{
	struct kvm_sregs in, out;
	struct vcpu v;
	struct vm vm;

	(void)state;
	vm_new(&vm);
	load(&vm, vg_out_start, vg_out_hlt_end);
	vcpu_new(&vm, 0, &v);
	set_cpuid(&vm, &v);

	/* a new vCPU is in real mode at the reset vector */
	assert_int_equal(vkvm_ioctl(v.fd, KVM_GET_SREGS, &in), 0);
	assert_int_equal(in.cs.selector, 0xf000);
	assert_int_equal(in.cs.base, 0xffff0000);
	assert_int_equal(in.cr0 & CR0_PE, 0);
	assert_int_equal(in.efer, 0);
	assert_int_equal(get_rip(&v), 0xfff0);

	lm_sregs(&in);
	assert_int_equal(vkvm_ioctl(v.fd, KVM_SET_SREGS, &in), 0);
	assert_int_equal(vkvm_ioctl(v.fd, KVM_GET_SREGS, &out), 0);
	assert_seg_equal(&out.cs, &in.cs, "cs");
	assert_seg_equal(&out.ds, &in.ds, "ds");
	assert_seg_equal(&out.es, &in.es, "es");
	assert_seg_equal(&out.fs, &in.fs, "fs");
	assert_seg_equal(&out.gs, &in.gs, "gs");
	assert_seg_equal(&out.ss, &in.ss, "ss");
	assert_seg_equal(&out.tr, &in.tr, "tr");
	assert_int_equal(out.ldt.unusable, 1);
	assert_int_equal(out.gdt.base, GDT_GPA);
	assert_int_equal(out.gdt.limit, 3 * 8 - 1);
	assert_int_equal(out.idt.base, 0);
	assert_int_equal(out.idt.limit, 0);
	assert_int_equal(out.cr0, CR0_PE | CR0_ET | CR0_PG);
	assert_int_equal(out.cr3, PML4_GPA);
	assert_int_equal(out.cr4, CR4_PAE);
	assert_int_equal(out.efer, EFER_LME | EFER_LMA);

	/* a data segment comes back accessed (svm_get_segment()) */
	out.es.type = 2;
	assert_int_equal(vkvm_ioctl(v.fd, KVM_SET_SREGS, &out), 0);
	assert_int_equal(vkvm_ioctl(v.fd, KVM_GET_SREGS, &out), 0);
	assert_int_equal(out.es.type, 3);

	/* EFER.LMA without paging is not a state KVM takes */
	out.cr0 &= ~CR0_PG;
	assert_int_equal(vkvm_ioctl(v.fd, KVM_SET_SREGS, &out), -EINVAL);

	set_regs(&v, CODE_GPA, 0, 0);
	expect_out(&v, PORT_OUT, 4, 0x11223344);
	expect_out(&v, PORT_OUT2, 1, 0x44);
	run(&v, KVM_EXIT_HLT);

	/* the guest changed nothing of it */
	assert_int_equal(vkvm_ioctl(v.fd, KVM_GET_SREGS, &out), 0);
	assert_seg_equal(&out.cs, &in.cs, "cs after");
	assert_int_equal(out.cr0, CR0_PE | CR0_ET | CR0_PG);
	assert_int_equal(out.efer, EFER_LME | EFER_LMA);
	lm_done(&vm, &v);
}

/* ---- exits ---- */

/*
 * KVM_EXIT_IO of an OUT: direction, size, port, count, data at
 * data_offset 4096; RIP at the instruction during the exit, past it once
 * the next KVM_RUN completes it.
 */
static void test_exit_io_out(void **state)
{
	struct kvm_regs r;
	uint32_t data;
	struct vcpu v;
	struct vm vm;

	(void)state;
	lm_guest(&vm, &v, vg_out_start, vg_out_hlt_end, 0);

	run(&v, KVM_EXIT_IO);
	assert_int_equal(v.run->io.direction, KVM_EXIT_IO_OUT);
	assert_int_equal(v.run->io.size, 4);
	assert_int_equal(v.run->io.port, PORT_OUT);
	assert_int_equal(v.run->io.count, 1);
	assert_int_equal(v.run->io.data_offset, 4096);
	memcpy(&data, (uint8_t *)v.run + 4096, 4);
	assert_int_equal(data, 0x11223344);
	assert_int_equal(vkvm_ioctl(v.fd, KVM_GET_REGS, &r), 0);
	assert_int_equal(r.rip, GPA(vg_out, vg_out_insn));
	assert_int_equal(r.rax, 0x11223344);
	assert_int_equal(r.rdx, PORT_OUT);
	/* asking again changes nothing */
	assert_int_equal(get_rip(&v), GPA(vg_out, vg_out_insn));

	expect_out(&v, PORT_OUT2, 1, 0x44);
	assert_int_equal(get_rip(&v), GPA(vg_out, vg_out_next));
	assert_int_equal(GPA(vg_out, vg_out_next),
			 GPA(vg_out, vg_out_insn) + 1);
	lm_done(&vm, &v);
}

/* IN: what the test writes at data_offset reaches the guest's %eax. */
static void test_exit_io_in(void **state)
{
	uint32_t val = 0xcafef00d;
	struct kvm_regs r;
	struct vcpu v;
	struct vm vm;

	(void)state;
	lm_guest(&vm, &v, vg_in_start, vg_in_end, 0);
	memcpy(io_exit(&v, KVM_EXIT_IO_IN, PORT_IN, 4), &val, 4);
	assert_int_equal(get_rip(&v), GPA(vg_in, vg_in_insn));
	/* the guest echoes what its IN got */
	expect_out(&v, PORT_OUT, 4, val);
	assert_int_equal(vkvm_ioctl(v.fd, KVM_GET_REGS, &r), 0);
	assert_int_equal(r.rax, val); /* a dword IN zero-extends */
	run(&v, KVM_EXIT_HLT);
	lm_done(&vm, &v);
}

/*
 * KVM_EXIT_MMIO: a write outside every memslot, then a read whose data,
 * written by the test, reaches the guest (which echoes it).
 */
static void test_exit_mmio(void **state)
{
	uint32_t val = 0xdeadbeef, w;
	struct vcpu v;
	struct vm vm;

	(void)state;
	lm_guest(&vm, &v, vg_mmio_start, vg_mmio_end, MMIO_GPA);
	memcpy(&w, mmio_exit(&v, MMIO_GPA + 8, 4, 1), 4);
	assert_int_equal(w, 0x12345678);
	memcpy(mmio_exit(&v, MMIO_GPA, 4, 0), &val, 4);
	assert_int_equal(get_rip(&v), GPA(vg_mmio, vg_mmio_read));
	expect_out(&v, PORT_OUT, 4, val);
	run(&v, KVM_EXIT_HLT);
	lm_done(&vm, &v);
}

/* KVM_EXIT_HLT with RIP past the hlt; the next run goes on from there. */
static void test_exit_hlt(void **state)
{
	struct vcpu v;
	struct vm vm;

	(void)state;
	lm_guest(&vm, &v, vg_hlt_start, vg_hlt_end, 0);
	run(&v, KVM_EXIT_HLT);
	assert_int_equal(get_rip(&v), GPA(vg_hlt, vg_hlt_first_end));
	io_exit(&v, KVM_EXIT_IO_OUT, PORT_OUT, 1);
	run(&v, KVM_EXIT_HLT);
	assert_int_equal(get_rip(&v), GPA(vg_hlt, vg_hlt_end));
	lm_done(&vm, &v);
}

/* A triple fault (IDT limit 0, then ud2): KVM_EXIT_SHUTDOWN. */
static void test_exit_shutdown(void **state)
{
	struct vcpu v;
	struct vm vm;

	(void)state;
	lm_guest(&vm, &v, vg_ud2_start, vg_ud2_end, 0);
	io_exit(&v, KVM_EXIT_IO_OUT, PORT_OUT, 1); /* it got to the ud2 */
	run(&v, KVM_EXIT_SHUTDOWN);
	lm_done(&vm, &v);
}

/*
 * The exits of one run of vg_deep, deep in a long block: each with RIP at
 * its instruction during the exit, the MMIO read's data reaching the
 * guest, and KVM_EXIT_HLT with RIP past the HLT that ends the block.
 */
static void deep_exits(struct vcpu *v, uint32_t val)
{
	uint32_t w;

	io_exit(v, KVM_EXIT_IO_OUT, PORT_OUT2, 1);
	assert_int_equal(get_rip(v), GPA(vg_deep, vg_deep_out));
	memcpy(&w, mmio_exit(v, MMIO_GPA + 8, 4, 1), 4);
	assert_int_equal(w, 0x12345678);
	assert_int_equal(get_rip(v), GPA(vg_deep, vg_deep_write));
	memcpy(mmio_exit(v, MMIO_GPA, 4, 0), &val, 4);
	assert_int_equal(get_rip(v), GPA(vg_deep, vg_deep_read));
	expect_out(v, PORT_OUT, 4, val);
	run(v, KVM_EXIT_HLT);
	assert_int_equal(get_rip(v), GPA(vg_deep, vg_deep_end));
}

/* Port and MMIO exits 1000 bytes into a block: RIP is still exact. */
static void test_exits_deep_in_block(void **state)
{
	struct vcpu v;
	struct vm vm;

	(void)state;
	lm_guest(&vm, &v, vg_deep_start, vg_deep_end, MMIO_GPA);
	deep_exits(&v, 0x0dee9000);
	lm_done(&vm, &v);
}

/*
 * Exits as a time slice ends.  A vCPU's first KVM_RUN maps its memory
 * into a new engine, which takes about one slice (10 ms), so the slice
 * tends to end while the first exits wait in their hooks (slow ones, deep
 * in a long block).  Whatever the timing, vg_deep's exits come as
 * deep_exits() wants them: each access one exit (a guest's store is not
 * written twice), in order, RIP exact, and the HLT a HLT.  Fresh VMs, for
 * many chances at the race.
 */
#ifdef __SANITIZE_THREAD__
#define SLICE_TRIES 10 /* a new engine takes half a second under TSan */
#else
#define SLICE_TRIES 60
#endif

static void test_exits_at_slice_end(void **state)
{
	struct vcpu v;
	struct vm vm;
	int i;

	(void)state;
	for (i = 0; i < SLICE_TRIES; i++) {
		lm_guest(&vm, &v, vg_deep_start, vg_deep_end, MMIO_GPA);
		deep_exits(&v, 0x51ce0000u + (uint32_t)i);
		lm_done(&vm, &v);
	}
}

/* ---- interruptions ---- */

/* immediate_exit: EINTR at once, the guest not run at all. */
static void test_immediate_exit(void **state)
{
	struct vcpu v;
	struct vm vm;

	(void)state;
	lm_guest(&vm, &v, vg_out_start, vg_out_hlt_end, 0);
	v.run->immediate_exit = 1;
	v.run->exit_reason = 0x5a5a; /* KVM leaves it as it is */
	assert_int_equal(vkvm_ioctl(v.fd, KVM_RUN, NULL), -EINTR);
	assert_int_equal(vkvm_ioctl(v.fd, KVM_RUN, NULL), -EINTR);
	assert_int_equal(v.run->exit_reason, 0x5a5a);
	assert_int_equal(get_rip(&v), CODE_GPA);
	v.run->immediate_exit = 0;
	/* the first exit is still the first OUT */
	expect_out(&v, PORT_OUT, 4, 0x11223344);
	assert_int_equal(get_rip(&v), GPA(vg_out, vg_out_insn));
	lm_done(&vm, &v);
}

static atomic_int usr1_count;

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&usr1_count, 1);
}

struct killer {
	pthread_t target;
	atomic_bool done;
};

/* SIGUSR1 at the target every 50 ms until it is done; 10 s at most. */
static void *killer_main(void *arg)
{
	struct killer *k = arg;
	struct timespec d = { 0, 50 * 1000 * 1000 };
	int i;

	for (i = 0; i < 200; i++) {
		nanosleep(&d, NULL);
		if (atomic_load(&k->done))
			return NULL;
		pthread_kill(k->target, SIGUSR1);
	}
	fprintf(stderr, "# KVM_RUN did not return for 10 s of SIGUSR1\n");
	abort();
}

static uint64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/*
 * A signal with a handler, sent from another thread while the guest loops
 * forever: KVM_RUN returns -EINTR with KVM_EXIT_INTR, then the handler
 * runs.
 */
static void test_signal_intr(void **state)
{
	struct sigaction sa, old;
	struct killer k;
	pthread_t t;
	uint64_t t0, rip;
	sigset_t set, oldset;
	struct vcpu v;
	struct vm vm;
	long ret;

	(void)state;
	lm_guest(&vm, &v, vg_loop_start, vg_loop_end, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	assert_int_equal(pthread_sigmask(SIG_UNBLOCK, &set, &oldset), 0);
	atomic_store(&usr1_count, 0);

	k.target = pthread_self();
	atomic_init(&k.done, false);
	assert_int_equal(pthread_create(&t, NULL, killer_main, &k), 0);
	v.run->exit_reason = KVM_EXIT_UNKNOWN;
	t0 = mono_ms();
	ret = vkvm_ioctl(v.fd, KVM_RUN, NULL);
	t0 = mono_ms() - t0;
	atomic_store(&k.done, true);
	pthread_join(t, NULL);

	assert_int_equal(ret, -EINTR);
	assert_int_equal(v.run->exit_reason, KVM_EXIT_INTR);
	assert_true(t0 >= 40); /* it ran the guest until the signal */
	assert_true(atomic_load(&usr1_count) >= 1); /* delivered after */
	rip = get_rip(&v);
	assert_true(rip >= CODE_GPA && rip < GPA(vg_loop, vg_loop_end));

	assert_int_equal(pthread_sigmask(SIG_SETMASK, &oldset, NULL), 0);
	assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
	lm_done(&vm, &v);
}

/* ---- SMP ---- */

/* enough that both run a good many slices, and would overlap unlocked */
#define SMP_ITERS 1000000

struct smp_cpu {
	struct vcpu v;
	pthread_barrier_t *start;
	long ret[2];
	uint32_t exit[2];
	uint16_t port;
};

static void *smp_main(void *arg)
{
	struct smp_cpu *c = arg;

	pthread_barrier_wait(c->start);
	c->ret[0] = vkvm_ioctl(c->v.fd, KVM_RUN, NULL);
	c->exit[0] = c->v.run->exit_reason;
	c->port = c->v.run->io.port;
	c->ret[1] = vkvm_ioctl(c->v.fd, KVM_RUN, NULL);
	c->exit[1] = c->v.run->exit_reason;
	return NULL;
}

/* Two vCPUs of one VM from two threads: every lock incl lands. */
static void test_smp_counter(void **state)
{
	pthread_barrier_t start;
	struct smp_cpu c[2];
	pthread_t t[2];
	struct kvm_regs r;
	uint32_t counter;
	struct vm vm;
	int i;

	(void)state;
	vm_new(&vm);
	load(&vm, vg_smp_start, vg_smp_end);
	memset(vm.mem + DATA_GPA, 0, 4);
	memset(c, 0, sizeof(c));
	assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
	for (i = 0; i < 2; i++) {
		vcpu_new(&vm, i, &c[i].v);
		lm_enter(&vm, &c[i].v, DATA_GPA, SMP_ITERS);
		c[i].start = &start;
	}
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, smp_main, &c[i]),
				 0);
	for (i = 0; i < 2; i++) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 60;
		if (pthread_timedjoin_np(t[i], NULL, &until))
			fail_msg("vCPU %d still running after 60 s", i);
	}
	pthread_barrier_destroy(&start);
	for (i = 0; i < 2; i++) {
		if (c[i].exit[0] != KVM_EXIT_IO)
			describe(c[i].v.run);
		assert_int_equal(c[i].ret[0], 0);
		assert_int_equal(c[i].exit[0], KVM_EXIT_IO);
		assert_int_equal(c[i].port, PORT_OUT2);
		assert_int_equal(c[i].ret[1], 0);
		assert_int_equal(c[i].exit[1], KVM_EXIT_HLT);
		assert_int_equal(vkvm_ioctl(c[i].v.fd, KVM_GET_REGS, &r), 0);
		assert_int_equal(r.rcx, 0);
	}
	memcpy(&counter, vm.mem + DATA_GPA, 4);
	assert_int_equal(counter, 2 * SMP_ITERS);
	for (i = 0; i < 2; i++)
		vcpu_free(&c[i].v);
	vm_free(&vm);
}

/* ---- files ---- */

/*
 * vkvm_dup() takes a reference: with the original closed, the VM behind
 * the duplicate is whole (its memslot, new vCPUs, a guest run).
 */
static void test_dup_keeps_vm(void **state)
{
	struct vcpu v;
	struct vm vm;
	int dupfd, old;

	(void)state;
	vm_new(&vm);
	load(&vm, vg_load_start, vg_load_end);
	memcpy(vm.mem + DATA_GPA, &(uint32_t){ 0xd00dfeed }, 4);

	dupfd = dup(vm.fd);
	assert_true(dupfd >= 0);
	vkvm_dup(vm.fd, dupfd);
	assert_int_equal(vkvm_kind(dupfd), VKVM_VM);
	old = vm.fd;
	vk_close_fd(old);
	vm.fd = dupfd;
	/* the closed number is nobody's now */
	assert_int_equal(vkvm_kind(old), VKVM_NONE);
	assert_int_equal(vkvm_ioctl(old, KVM_CREATE_VCPU, NULL), -ENOTTY);

	assert_int_equal(vkvm_ioctl(dupfd, KVM_CHECK_EXTENSION,
				    (void *)KVM_CAP_USER_MEMORY), 1);
	vcpu_new(&vm, 0, &v);
	lm_enter(&vm, &v, DATA_GPA, 0);
	expect_out(&v, PORT_OUT, 4, 0xd00dfeed);
	run(&v, KVM_EXIT_HLT);
	lm_done(&vm, &v);
}

/*
 * After fork(), the child's VM and vCPU files belong to the parent's
 * address space: EIO (kvm_vm_ioctl(), kvm_vcpu_ioctl()).  The system
 * file still answers, and the child can make a VM of its own.  The
 * parent's VM goes on.
 */
static void test_fork_eio(void **state)
{
	struct vcpu v;
	struct vm vm;
	int status;
	pid_t pid;

	(void)state;
	lm_guest(&vm, &v, vg_out_start, vg_out_hlt_end, 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct kvm_regs r;
		int bad = 0, vmfd, cpu;

		if (vkvm_ioctl(vm.fd, KVM_CREATE_VCPU, (void *)1l) != -EIO)
			bad |= 1;
		if (vkvm_ioctl(vm.fd, KVM_CHECK_EXTENSION,
			       (void *)KVM_CAP_USER_MEMORY) != -EIO)
			bad |= 2;
		if (vkvm_ioctl(v.fd, KVM_GET_REGS, &r) != -EIO)
			bad |= 4;
		if (vkvm_ioctl(v.fd, KVM_RUN, NULL) != -EIO)
			bad |= 8;
		if (vkvm_ioctl(vm.sys, KVM_GET_API_VERSION, NULL) != 12)
			bad |= 16;
		vmfd = (int)vkvm_ioctl(vm.sys, KVM_CREATE_VM, 0);
		cpu = vmfd < 0 ? -1 :
				 (int)vkvm_ioctl(vmfd, KVM_CREATE_VCPU, 0);
		if (cpu < 0)
			bad |= 32;
		/* closing the inherited files leaves the parent's VM be */
		vkvm_close(v.fd);
		vkvm_close(vm.fd);
		_exit(bad);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status))
		print_message("# child's failed checks: %#x\n",
			      WEXITSTATUS(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	expect_out(&v, PORT_OUT, 4, 0x11223344);
	lm_done(&vm, &v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sys_api),
		cmocka_unit_test(test_sys_efault),
		cmocka_unit_test(test_memslots),
		cmocka_unit_test(test_long_mode_entry),
		cmocka_unit_test(test_exit_io_out),
		cmocka_unit_test(test_exit_io_in),
		cmocka_unit_test(test_exit_mmio),
		cmocka_unit_test(test_exits_deep_in_block),
		cmocka_unit_test(test_exit_hlt),
		cmocka_unit_test(test_exit_shutdown),
		cmocka_unit_test(test_exits_at_slice_end),
		cmocka_unit_test(test_immediate_exit),
		cmocka_unit_test(test_signal_intr),
		cmocka_unit_test(test_smp_counter),
		cmocka_unit_test(test_dup_keeps_vm),
		cmocka_unit_test(test_fork_eio),
	};

	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
