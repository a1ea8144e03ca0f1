// SPDX-License-Identifier: MIT
/*
 * An SEV-ES guest on the emulated backend that talks to its hypervisor
 * through the GHCB protocol (tests/guests/ghcb.S): the VM made and
 * launched as a VMM does it (KVM_X86_SEV_ES_VM, KVM_SEV_INIT2, LAUNCH_START
 * with the ES policy bit, LAUNCH_UPDATE_DATA, LAUNCH_UPDATE_VMSA,
 * LAUNCH_MEASURE, LAUNCH_FINISH), then each of the guest's requests seen
 * from KVM_RUN as a VMM sees them on an SEV-ES host with Linux 6.12's KVM
 * (arch/x86/kvm/svm/sev.c, sev_handle_vmgexit()): port I/O and MMIO
 * exits, results back in the GHCB, and KVM_SYSTEM_EVENT_SEV_TERM; and
 * instructions that raise #VC (vkvm), forwarded by the guest's handler.
 */
#include "conf.h"
#include "guests.h"

#define MAX_CPUID 256
#define MEASURED (256 * 1024) /* tables, code and the GHCB page */

extern const uint8_t ghcb_start[], ghcb_end[];

struct g {
	int kvm, sev, vm, fd;
	uint8_t *mem;
	struct kvm_run *run;
	struct kvm_cpuid2 *cpuid;
	uint32_t cpuid_ebx; /* CPUID 0x8000001F EBX */
};

static void load(struct g *g)
{
	uint64_t *gdt = (uint64_t *)(g->mem + GDT_GPA);
	uint64_t *pml4 = (uint64_t *)(g->mem + PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(g->mem + PDPT_GPA);
	uint64_t *pd = (uint64_t *)(g->mem + PD_GPA);
	uint64_t i;

	gdt[LM_SEL_CODE / 8] = 0x00af9b000000ffffull;
	gdt[LM_SEL_DATA / 8] = 0x00cf93000000ffffull;
	pml4[0] = PDPT_GPA | PTE_P | PTE_RW;
	pdpt[0] = PD_GPA | PTE_P | PTE_RW;
	for (i = 0; i < 512; i++)
		pd[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS;
	memcpy(g->mem + CODE_GPA, ghcb_start, (size_t)(ghcb_end - ghcb_start));
}

static void vm_up(struct g *g)
{
	struct kvm_sev_init_v init = { 0 }; /* GHCB version: the default, 2 */
	struct kvm_userspace_memory_region r = {
		.memory_size = GUEST_MEM_SIZE,
	};
	uint32_t i;

	g->kvm = kvm_open();
	g->sev = sev_open();
	g->vm = vm_new(g->kvm, VM_SEV_ES);
	assert_ok(sev_op(g->vm, KVM_SEV_INIT2_ID, &init, g->sev, NULL));
	g->mem = mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(g->mem != MAP_FAILED);
	r.userspace_addr = (uintptr_t)g->mem;
	load(g);
	assert_ok(ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &r));
	g->cpuid = calloc(1, sizeof(*g->cpuid) +
				     MAX_CPUID * sizeof(g->cpuid->entries[0]));
	assert_non_null(g->cpuid);
	g->cpuid->nent = MAX_CPUID;
	assert_ok(ioctl(g->kvm, KVM_GET_SUPPORTED_CPUID, g->cpuid));
	for (i = 0; i < g->cpuid->nent; i++)
		if (g->cpuid->entries[i].function == 0x8000001f)
			g->cpuid_ebx = g->cpuid->entries[i].ebx;
	assert_true(g->cpuid_ebx & 0x3f);
}

/* The vCPU in long mode at CODE_GPA: its state goes into the VMSA. */
static void vcpu_up(struct g *g)
{
	struct kvm_segment code = {
		.limit = 0xffffffff, .selector = LM_SEL_CODE, .type = 11,
		.present = 1, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = {
		.limit = 0xffffffff, .selector = LM_SEL_DATA, .type = 3,
		.present = 1, .s = 1, .db = 1, .g = 1,
	};
	struct kvm_regs r = { .rip = CODE_GPA, .rsp = STACK_TOP, .rflags = 2 };
	struct kvm_sregs s;
	int size = ioctl(g->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);

	g->fd = ioctl(g->vm, KVM_CREATE_VCPU, 0);
	assert_true(g->fd >= 0);
	g->run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      g->fd, 0);
	assert_true(g->run != MAP_FAILED);
	assert_ok(ioctl(g->fd, KVM_SET_CPUID2, g->cpuid));
	assert_ok(ioctl(g->fd, KVM_GET_SREGS, &s));
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.tr = (struct kvm_segment){ .limit = 0x67, .type = 11, .present = 1 };
	s.gdt.base = GDT_GPA;
	s.gdt.limit = 3 * 8 - 1;
	s.cr0 = CR0_PE | CR0_ET | CR0_PG;
	s.cr3 = PML4_GPA;
	s.cr4 = CR4_PAE;
	s.efer = EFER_LME | EFER_LMA;
	assert_ok(ioctl(g->fd, KVM_SET_SREGS, &s));
	assert_ok(ioctl(g->fd, KVM_SET_REGS, &r));
}

static void launch(struct g *g)
{
	struct kvm_sev_launch_start ls = { .policy = 0x4 }; /* ES */
	struct kvm_sev_launch_update_data up = {
		.uaddr = (uintptr_t)g->mem, .len = MEASURED,
	};
	uint8_t digest[48];
	struct kvm_sev_launch_measure m = { .uaddr = (uintptr_t)digest,
					    .len = sizeof(digest) };
	uint32_t err = 0;

	assert_ok(sev_op(g->vm, KVM_SEV_LAUNCH_START, &ls, g->sev, NULL));
	assert_ok(sev_op(g->vm, KVM_SEV_LAUNCH_UPDATE_DATA, &up, g->sev, NULL));
	assert_ok(sev_op(g->vm, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL, g->sev,
			 &err));
	assert_int_equal(err, 0);
	assert_ok(sev_op(g->vm, KVM_SEV_LAUNCH_MEASURE, &m, g->sev, NULL));
	assert_ok(sev_op(g->vm, KVM_SEV_LAUNCH_FINISH, NULL, g->sev, NULL));
}

static void down(struct g *g)
{
	munmap(g->run, 3 * 4096);
	close(g->fd);
	close(g->vm);
	close(g->sev);
	close(g->kvm);
	munmap(g->mem, GUEST_MEM_SIZE);
	free(g->cpuid);
}

static void run(struct g *g)
{
	assert_ok(ioctl(g->fd, KVM_RUN, 0));
}

/* The next exit is port I/O: its data. */
static uint8_t *io(struct g *g, uint8_t dir, uint16_t port, uint8_t size,
		   uint32_t count)
{
	struct kvm_run *r = g->run;

	run(g);
	if (r->exit_reason != KVM_EXIT_IO || r->io.port != port)
		print_message("# exit %u port %#x, wanted I/O on %#x\n",
			      r->exit_reason, r->io.port, port);
	assert_int_equal(r->exit_reason, KVM_EXIT_IO);
	assert_int_equal(r->io.direction, dir);
	assert_int_equal(r->io.port, port);
	assert_int_equal(r->io.size, size);
	assert_int_equal(r->io.count, count);
	return (uint8_t *)r + r->io.data_offset;
}

static uint32_t out_d(struct g *g)
{
	uint32_t v;

	memcpy(&v, io(g, KVM_EXIT_IO_OUT, PORT_VALUE, 4, 1), 4);
	return v;
}

static uint64_t out_q(struct g *g)
{
	uint64_t lo = out_d(g);

	return lo | (uint64_t)out_d(g) << 32;
}

static void mmio(struct g *g, uint64_t gpa, uint32_t len, bool write)
{
	struct kvm_run *r = g->run;

	run(g);
	assert_int_equal(r->exit_reason, KVM_EXIT_MMIO);
	assert_int_equal(r->mmio.phys_addr, gpa);
	assert_int_equal(r->mmio.len, len);
	assert_int_equal(r->mmio.is_write, write);
}

static void test_ghcb_guest(void **state)
{
	uint64_t cbit, mmio_value = MMIO64_VALUE;
	uint32_t in = 0x41414141;
	struct g g;

	(void)state;
	memset(&g, 0, sizeof(g));
	vm_up(&g);
	vcpu_up(&g);
	launch(&g);
	cbit = g.cpuid_ebx & 0x3f;
	/* the MSR protocol: SEV information (v2, v1, C-bit), CPUID, HV_FT */
	assert_int_equal(out_q(&g), 2ull << 48 | 1ull << 32 | cbit << 24 | 1);
	assert_int_equal(out_q(&g),
			 (uint64_t)g.cpuid_ebx << 32 | 1ull << 30 | 5);
	assert_int_equal(out_q(&g), 3ull << 12 | 0x81);
	/* an IN: the VMM's data is in the GHCB's RAX when the guest runs */
	memcpy(io(&g, KVM_EXIT_IO_IN, PORT_VALUE, 4, 1), &in, 4);
	assert_int_equal(out_d(&g), in + 1);
	/* RDMSR through the GHCB: SEV_STATUS, SEV and SEV-ES */
	assert_int_equal(out_q(&g), 3);
	/* rep outsb from the GHCB's shared buffer */
	assert_memory_equal(io(&g, KVM_EXIT_IO_OUT, PORT_STR, 1, 5), "hello",
			    5);
	/* GHCB usage 1: sw_exit_info_1 = 2, sw_exit_info_2 = INVALID_USAGE */
	assert_int_equal(out_d(&g), 2);
	assert_int_equal(out_d(&g), 2);
	/* MMIO write and read */
	mmio(&g, MMIO_GPA, 8, true);
	assert_memory_equal(g.run->mmio.data, &mmio_value, 8);
	mmio(&g, MMIO_GPA + 8, 4, false);
	memcpy(g.run->mmio.data, "\x78\x56\x34\x12", 4);
	assert_int_equal(out_d(&g), 0x12345678);
	/* CPUID and OUT raising #VC, forwarded by the guest's handler */
	assert_int_equal(out_d(&g), g.cpuid_ebx);
	/* the guest asks to be terminated */
	run(&g);
	assert_int_equal(g.run->exit_reason, KVM_EXIT_SYSTEM_EVENT);
	assert_int_equal(g.run->system_event.type, 6 /* SEV_TERM */);
	assert_int_equal(g.run->system_event.ndata, 1);
	assert_int_equal(g.run->system_event.data[0], 0x41100);
	down(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ghcb_guest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
