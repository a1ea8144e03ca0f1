/* SPDX-License-Identifier: MIT */
/*
 * What conf_vkvm.c (the ioctl rows) and conf_vkvm_run.c (guests that run)
 * share: VMs and vCPUs through the real ioctls, the guests of tests/guests
 * (assembled as data; guests.h has their layout), long-mode entry, and
 * checks on kvm_run exits.
 */
#ifndef SOFTSEV_VKVM_CONF_H
#define SOFTSEV_VKVM_CONF_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include "conf.h"
#include "guests.h"
#include "lm.h"

#ifndef KVM_CAP_VM_TYPES
#define KVM_CAP_VM_TYPES 235
#endif
#ifndef KVM_X86_DEFAULT_VM
#define KVM_X86_DEFAULT_VM 0
#endif

#define PAGE 4096
#define MAX_CPUID 256 /* KVM_MAX_CPUID_ENTRIES */
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define CPUID_LM (1u << 29) /* CPUID 0x80000001 EDX */

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
#define GPA(g, label) (CODE_GPA + (uint64_t)((label)-g##_start))

struct vm {
	int fd;
	uint8_t *mem; /* slot 0: GPA 0 .. GUEST_MEM_SIZE */
};

struct vcpu {
	int fd;
	struct kvm_run *run;
};

static int kvm;
static long run_size;

static inline int setup(void **state)
{
	kvm = kvm_open();
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	return 0;
}

static inline int teardown(void **state)
{
	close(kvm);
	return 0;
}

/* ---- VMs, vCPUs and guests ---- */

static inline void *anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

static inline int set_slot(int vm, uint32_t slot, uint32_t flags, uint64_t gpa,
			   uint64_t size, const void *host)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};

	return ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r);
}

static inline void vm_create(struct vm *vm)
{
	vm->fd = vm_new(kvm, 0);
	vm->mem = anon(GUEST_MEM_SIZE);
	assert_ok(set_slot(vm->fd, 0, 0, 0, GUEST_MEM_SIZE, vm->mem));
}

static inline void vm_destroy(struct vm *vm)
{
	close(vm->fd);
	munmap(vm->mem, GUEST_MEM_SIZE);
}

static inline void vcpu_create(struct vm *vm, int id, struct vcpu *v)
{
	v->fd = vcpu_new(vm->fd, id, run_size, &v->run);
}

static inline void vcpu_destroy(struct vcpu *v)
{
	munmap(v->run, run_size);
	close(v->fd);
}

static inline void load(struct vm *vm, const uint8_t *start, const uint8_t *end)
{
	memcpy(vm->mem + CODE_GPA, start, (size_t)(end - start));
}

static inline struct kvm_cpuid2 *supported_cpuid(void)
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

static inline const struct kvm_cpuid_entry2 *cpuid_leaf(uint32_t function)
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
static inline void vcpu_cpuid(struct vcpu *v)
{
	assert_ok(ioctl(v->fd, KVM_SET_CPUID2, supported_cpuid()));
}

/* Straight into 64-bit mode at CODE_GPA, by KVM_SET_SREGS/REGS. */
static inline void lm_enter(struct vcpu *v, uint64_t rbx)
{
	vcpu_cpuid(v);
	lm_start(v->fd, rbx, 0);
}

/* A VM with one vCPU about to run guest [start, end) in 64-bit mode. */
static inline void lm_guest(struct vm *vm, struct vcpu *v, const uint8_t *start,
			    const uint8_t *end)
{
	vm_create(vm);
	load(vm, start, end);
	lm_tables(vm->mem, 0);
	vcpu_create(vm, 0, v);
	lm_enter(v, 0);
}

static inline void vm_done(struct vm *vm, struct vcpu *v)
{
	vcpu_destroy(v);
	vm_destroy(vm);
}

static inline void get_regs(struct vcpu *v, struct kvm_regs *r)
{
	assert_ok(ioctl(v->fd, KVM_GET_REGS, r));
}

static inline void get_sregs(struct vcpu *v, struct kvm_sregs *s)
{
	assert_ok(ioctl(v->fd, KVM_GET_SREGS, s));
}

/* ---- exits ---- */

/* What the exit was, for a failure's log. */
static inline void describe(const struct kvm_run *r)
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
static inline void run(struct vcpu *v, uint32_t reason)
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
static inline uint8_t *io_exit(struct vcpu *v, uint8_t dir, uint16_t port,
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

static inline void expect_out(struct vcpu *v, uint16_t port, uint8_t size,
			      uint32_t val)
{
	uint32_t got = 0;

	memcpy(&got, io_exit(v, KVM_EXIT_IO_OUT, port, size, 1), size);
	if (got != val)
		print_message("# OUT to port %#x\n", port);
	assert_int_equal(got, val);
}

static inline void answer_in(struct vcpu *v, uint16_t port, uint8_t size,
			     uint32_t count, const void *data)
{
	memcpy(io_exit(v, KVM_EXIT_IO_IN, port, size, count), data,
	       (size_t)size * count);
}

/* emulator_read_write / write_exit_mmio: phys_addr, len, is_write, data. */
static inline uint8_t *mmio_exit(struct vcpu *v, uint64_t gpa, uint32_t len,
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
static inline void expect_hlt(struct vcpu *v, uint64_t rip)
{
	struct kvm_regs r;

	run(v, KVM_EXIT_HLT);
	get_regs(v, &r);
	assert_int_equal(r.rip, rip);
}

/* a vCPU KVM will run: KVM_MP_STATE_RUNNABLE */
static inline void check_mp_runnable(struct vcpu *v)
{
	struct kvm_mp_state mp = { 0xff };

	assert_ok(ioctl(v->fd, KVM_GET_MP_STATE, &mp));
	assert_int_equal(mp.mp_state, KVM_MP_STATE_RUNNABLE);
}

#endif
