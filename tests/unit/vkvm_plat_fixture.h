/* SPDX-License-Identifier: MIT */
/*
 * The fixture of test_vkvm_plat.c and test_vkvm_prot.c: a vkvm VM with
 * 2 MiB of memory, long-mode tables, an IDT whose #GP and #PF handlers
 * (vkvm_plat_guests.S) report on port 0x11, and one vCPU entered at a
 * guest copied to CODE_GPA.
 */
#ifndef SOFTSEV_VKVM_PLAT_FIXTURE_H
#define SOFTSEV_VKVM_PLAT_FIXTURE_H

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "testutil.h"
#include "vkvm.h"

#define PAGE 4096ul
#define RUN_SIZE (3 * PAGE)
#define MAX_CPUID 256
#define MEM_SIZE 0x200000ul
#define GDT_GPA 0x1000ul
#define PML4_GPA 0x2000ul
#define PDPT_GPA 0x3000ul
#define PD_GPA 0x4000ul /* identity map of 0 .. 1 GiB, 2 MiB pages */
#define IDT_GPA 0x5000ul
#define STACK_TOP 0x7000ul
#define CODE_GPA 0x8000ul
#define EXC_GPA 0x9000ul /* the handlers */
#define DATA_GPA 0x10000ul
#define PD2_GPA 0x20000ul /* 1 GiB .. 1 GiB + 2 MiB in 4 KiB pages */
#define PT_GPA 0x21000ul
#define VA 0x40000000ul /* PT[0]: DATA with bit 51, PT[1]: DATA without */

#define SEL_CODE 0x08
#define CBIT (1ull << 51)
#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_A 0x20ull
#define PTE_D 0x40ull
#define PTE_PS 0x80ull

#define GUEST(g) extern const uint8_t g##_start[], g##_end[], g##_insn[]
GUEST(vp_rdmsr);
GUEST(vp_wrmsr);
GUEST(vp_mem);
GUEST(vp_cpuid);
extern const uint8_t vp_gp_start[], vp_pf_start[], vp_exc_end[];

#ifdef __SANITIZE_ADDRESS__
/* Unicorn 2.1's uc_close() leak, as in test_vkvm.c. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:uc_init_engine\nleak:g_array_new\n";
}
#endif

struct t {
	bool own_cpuid; /* the test set the vCPU's CPUID itself */
	int sys, vm, fd;
	uint8_t *mem;
	struct kvm_run *run;
};

static inline void gate(uint8_t *idt, int vec, uint64_t addr)
{
	uint64_t lo = (addr & 0xffff) | (uint64_t)SEL_CODE << 16 |
		      0x8eull << 40 | ((addr >> 16) & 0xffff) << 48;
	uint64_t hi = addr >> 32;

	memcpy(idt + 16 * vec, &lo, 8);
	memcpy(idt + 16 * vec + 8, &hi, 8);
}

static inline void tables(uint8_t *mem)
{
	uint64_t *gdt = (uint64_t *)(mem + GDT_GPA);
	uint64_t *pml4 = (uint64_t *)(mem + PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(mem + PDPT_GPA);
	uint64_t *pd = (uint64_t *)(mem + PD_GPA);
	uint64_t *pd2 = (uint64_t *)(mem + PD2_GPA);
	uint64_t *pt = (uint64_t *)(mem + PT_GPA);
	uint64_t i;

	gdt[SEL_CODE / 8] = 0x00af9b000000ffffull;
	gdt[2] = 0x00cf93000000ffffull;
	pml4[0] = PDPT_GPA | PTE_P | PTE_RW;
	pdpt[0] = PD_GPA | PTE_P | PTE_RW;
	for (i = 0; i < 512; i++)
		pd[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS;
	/* the C-bit on a table entry too: it names a private table */
	pdpt[1] = PD2_GPA | PTE_P | PTE_RW | CBIT;
	pd2[0] = PT_GPA | PTE_P | PTE_RW;
	pt[0] = DATA_GPA | PTE_P | PTE_RW | CBIT;
	pt[1] = DATA_GPA | PTE_P | PTE_RW;
	pt[2] = 0; /* not present */
	pt[3] = DATA_GPA | PTE_P | CBIT; /* read-only */
	pt[4] = DATA_GPA | PTE_P | PTE_RW | (1ull << 45); /* reserved */
	gate(mem + IDT_GPA, 13, EXC_GPA);
	gate(mem + IDT_GPA, 14, EXC_GPA + (uint64_t)(vp_pf_start - vp_gp_start));
	memcpy(mem + EXC_GPA, vp_gp_start, (size_t)(vp_exc_end - vp_gp_start));
}

static inline void t_new(struct t *t)
{
	struct kvm_userspace_memory_region r = { .memory_size = MEM_SIZE };

	memset(t, 0, sizeof(*t));
	t->sys = vkvm_open(O_RDWR | O_CLOEXEC);
	assert_true(t->sys >= 0);
	t->vm = (int)vkvm_ioctl(t->sys, KVM_CREATE_VM, 0);
	assert_true(t->vm >= 0);
	t->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(t->mem != MAP_FAILED);
	r.userspace_addr = (uintptr_t)t->mem;
	assert_int_equal(vkvm_ioctl(t->vm, KVM_SET_USER_MEMORY_REGION, &r), 0);
	tables(t->mem);
	t->fd = (int)vkvm_ioctl(t->vm, KVM_CREATE_VCPU, 0);
	assert_true(t->fd >= 0);
	t->run = mmap(NULL, RUN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      t->fd, 0);
	assert_true(t->run != MAP_FAILED);
}

static inline void close_fd(int fd)
{
	vkvm_close(fd);
	close(fd);
}

static inline void t_free(struct t *t)
{
	munmap(t->run, RUN_SIZE);
	close_fd(t->fd);
	close_fd(t->vm);
	close_fd(t->sys);
	munmap(t->mem, MEM_SIZE);
}

/* Guest g in long mode with these registers; extra CR0 bits. */
static inline void enter(struct t *t, const uint8_t *start, const uint8_t *end,
		  const struct kvm_regs *in, uint64_t cr0)
{
	struct kvm_segment code = { .limit = 0xffffffff, .selector = SEL_CODE,
				    .type = 11, .present = 1, .s = 1, .l = 1,
				    .g = 1 };
	struct kvm_segment data = { .limit = 0xffffffff, .selector = 0x10,
				    .type = 3, .present = 1, .s = 1, .db = 1,
				    .g = 1 };
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + MAX_CPUID *
						  sizeof(c->entries[0]));
	struct kvm_regs r = *in;
	struct kvm_sregs s;

	assert_non_null(c);
	c->nent = MAX_CPUID;
	assert_int_equal(vkvm_ioctl(t->sys, KVM_GET_SUPPORTED_CPUID, c), 0);
	if (!t->own_cpuid)
		assert_int_equal(vkvm_ioctl(t->fd, KVM_SET_CPUID2, c), 0);
	free(c);
	memcpy(t->mem + CODE_GPA, start, (size_t)(end - start));
	assert_int_equal(vkvm_ioctl(t->fd, KVM_GET_SREGS, &s), 0);
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.tr = (struct kvm_segment){ .limit = 0x67, .type = 11, .present = 1 };
	s.ldt = (struct kvm_segment){ .unusable = 1 };
	s.gdt.base = GDT_GPA;
	s.gdt.limit = 4 * 8 - 1; /* and entry 3: 32-bit code */
	s.idt.base = IDT_GPA;
	s.idt.limit = 16 * 32 - 1;
	s.cr0 = 0x80000011ull | cr0;
	s.cr3 = PML4_GPA;
	s.cr4 = 0x20;
	s.efer = 0x500;
	assert_int_equal(vkvm_ioctl(t->fd, KVM_SET_SREGS, &s), 0);
	r.rip = CODE_GPA;
	r.rsp = STACK_TOP;
	r.rflags = 2;
	assert_int_equal(vkvm_ioctl(t->fd, KVM_SET_REGS, &r), 0);
}

static inline uint32_t out_at(struct t *t, uint16_t port, int line)
{
	uint32_t v;

	if (vkvm_ioctl(t->fd, KVM_RUN, NULL) || t->run->exit_reason !=
							 KVM_EXIT_IO ||
	    t->run->io.port != port)
		print_message("# line %d: exit %u port %#x, wanted OUT %#x\n",
			      line, t->run->exit_reason, t->run->io.port, port);
	assert_int_equal(t->run->exit_reason, KVM_EXIT_IO);
	assert_int_equal(t->run->io.port, port);
	memcpy(&v, (uint8_t *)t->run + t->run->io.data_offset, 4);
	return v;
}
#define out(t, port) out_at(t, port, __LINE__)

/* The handler's report: vector, error code, RIP; CR2 for a #PF. */
static inline void expect_exc_at(struct t *t, uint32_t vec, uint32_t err,
			  uint64_t rip, uint64_t cr2, int line)
{
	uint32_t got_cr2;

	assert_int_equal(out_at(t, 0x11, line), vec);
	assert_int_equal(out_at(t, 0x11, line), err);
	assert_int_equal(out_at(t, 0x11, line), (uint32_t)rip);
	got_cr2 = out_at(t, 0x11, line);
	if (vec == 14)
		assert_int_equal(got_cr2, (uint32_t)cr2);
}
#define expect_exc(t, vec, err, rip, cr2) \
	expect_exc_at(t, vec, err, rip, cr2, __LINE__)

#define INSN(g) (CODE_GPA + (uint64_t)(g##_insn - g##_start))

#endif
