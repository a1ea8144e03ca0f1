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
#include "conf.h"
#include "guests.h"

#define MAX_CPUID 256
#define MEASURED (128 * 1024) /* the image: tables, code, the guest's pages */

extern const uint8_t sev_start[], sev_end[], sev_priv_store[];
extern const uint8_t sev_hlt_end[];

#define GPA(label) (CODE_GPA + (uint64_t)((label) - sev_start))

struct g {
	int kvm, sev, vm, fd;
	uint8_t *mem;
	struct kvm_run *run;
	struct kvm_cpuid2 *cpuid;
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
	memcpy(g->mem + CODE_GPA, sev_start, (size_t)(sev_end - sev_start));
}

/* The VM's memory, with the guest in it. */
static void mem_up(struct g *g)
{
	struct kvm_userspace_memory_region r = {
		.memory_size = GUEST_MEM_SIZE,
	};

	g->mem = mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(g->mem != MAP_FAILED);
	r.userspace_addr = (uintptr_t)g->mem;
	load(g);
	assert_ok(ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &r));
}

/* A VM (SEV: type SEV and KVM_SEV_INIT2) with the guest in memory. */
static void vm_up(struct g *g, bool sev)
{
	g->kvm = kvm_open();
	g->sev = sev_open();
	g->vm = vm_new(g->kvm, sev ? VM_SEV : 0);
	if (sev) {
		struct kvm_sev_init_v init = { 0 };

		assert_ok(sev_op(g->vm, KVM_SEV_INIT2_ID, &init, g->sev, NULL));
	}
	mem_up(g);
}

static void launch(struct g *g)
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

/* The host's CPUID as a VMM passes it on; its SEV leaf. */
static const struct kvm_cpuid_entry2 *sev_leaf(struct g *g)
{
	uint32_t i;

	g->cpuid = calloc(1, sizeof(*g->cpuid) +
				     MAX_CPUID * sizeof(g->cpuid->entries[0]));
	assert_non_null(g->cpuid);
	g->cpuid->nent = MAX_CPUID;
	assert_ok(ioctl(g->kvm, KVM_GET_SUPPORTED_CPUID, g->cpuid));
	for (i = 0; i < g->cpuid->nent; i++)
		if (g->cpuid->entries[i].function == 0x8000001f)
			return &g->cpuid->entries[i];
	fail_msg("no CPUID 0x8000001F in KVM_GET_SUPPORTED_CPUID");
	return NULL;
}

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

/* The next exit is an OUT on port: its value. */
static uint32_t out(struct g *g, uint16_t port, uint8_t size)
{
	struct kvm_run *r = g->run;
	uint32_t v = 0;

	assert_ok(ioctl(g->fd, KVM_RUN, 0));
	if (r->exit_reason != KVM_EXIT_IO || r->io.port != port)
		print_message("# exit %u port %#x, wanted OUT on %#x\n",
			      r->exit_reason, r->io.port, port);
	assert_int_equal(r->exit_reason, KVM_EXIT_IO);
	assert_int_equal(r->io.direction, KVM_EXIT_IO_OUT);
	assert_int_equal(r->io.port, port);
	assert_int_equal(r->io.size, size);
	memcpy(&v, (uint8_t *)r + r->io.data_offset, size);
	return v;
}

static uint32_t shared(struct g *g, unsigned int off)
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
static void check_sev_guest(struct g *g)
{
	const struct kvm_cpuid_entry2 *e = sev_leaf(g);
	struct kvm_sregs s;
	uint32_t v;

	assert_true(e->eax & 2); /* SEV */
	vcpu_up(g);
	assert_int_equal(out(g, PORT_VALUE, 4), e->eax);
	assert_int_equal(out(g, PORT_VALUE, 4), e->ebx);
	assert_int_equal(out(g, PORT_VALUE, 4), 1); /* SEV_STATUS: SEV */
	assert_int_equal(out(g, PORT_VALUE, 4), 0);
	assert_int_equal(out(g, PORT_OUT, 1), SEV_STAGE_SHARED);
	assert_int_equal(shared(g, 0), SEV_SHARED_VALUE);
	assert_int_equal(out(g, PORT_VALUE, 4), SEV_PRIV_VALUE);
	assert_int_equal(out(g, PORT_OUT, 1), SEV_STAGE_DONE);
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
	struct g g;

	(void)state;
	memset(&g, 0, sizeof(g));
	vm_up(&g, true);
	launch(&g);
	check_sev_guest(&g);
	down(&g);
}

/*
 * A VM that becomes SEV by KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM (a migration
 * target), and a mirror VM (COPY_ENC_CONTEXT_FROM, same ASID): their
 * guests are SEV guests too.
 */
static void test_moved_and_mirror_guest(void **state)
{
	struct g src, dst, mir;

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
	mem_up(&src);
	dst.kvm = kvm_open();
	dst.sev = sev_open();
	dst.vm = vm_new(dst.kvm, 0);
	assert_ok(enc_ctx(dst.vm, KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM,
			  (uint64_t)src.vm));
	mem_up(&dst);
	check_sev_guest(&dst);
	mir.kvm = kvm_open();
	mir.sev = sev_open();
	mir.vm = vm_new(mir.kvm, 0);
	assert_ok(enc_ctx(mir.vm, KVM_CAP_VM_COPY_ENC_CONTEXT_FROM,
			  (uint64_t)dst.vm));
	mem_up(&mir);
	check_sev_guest(&mir);
	down(&mir);
	down(&dst);
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
	struct g g;

	(void)state;
	memset(&g, 0, sizeof(g));
	vm_up(&g, false);
	e = sev_leaf(&g);
	vcpu_up(&g);
	assert_int_equal(out(&g, PORT_VALUE, 4), e->eax);
	assert_int_equal(out(&g, PORT_VALUE, 4), e->ebx);
	assert_int_equal(out(&g, PORT_VALUE, 4), 0); /* SEV_STATUS */
	assert_int_equal(out(&g, PORT_VALUE, 4), 0);
	assert_int_equal(out(&g, PORT_OUT, 1), SEV_STAGE_SHARED);
	assert_int_equal(shared(&g, 0), SEV_SHARED_VALUE);
	assert_int_equal(out(&g, PORT_VEC, 1), 14);
	assert_int_equal(out(&g, PORT_ERR, 4), 0xb);
	assert_int_equal(out(&g, PORT_RIP, 4), (uint32_t)GPA(sev_priv_store));
	assert_int_equal(shared(&g, SEV_REP_DONE), 0);
	down(&g);
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
