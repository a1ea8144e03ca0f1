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
#include "sev_guest.h"

#define MEASURED (256 * 1024) /* tables, code and the GHCB page */

extern const uint8_t ghcb_start[], ghcb_end[];

static void vm_up(struct sev_guest *g)
{
	struct kvm_sev_init_v init = { 0 }; /* GHCB version: the default, 2 */

	sg_vm(g, VM_SEV_ES, &init);
	sg_mem(g, ghcb_start, ghcb_end);
	sg_cpuid(g);
	assert_true(g->leaf->ebx & 0x3f);
}

static void launch(struct sev_guest *g)
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

static void run(struct sev_guest *g)
{
	assert_ok(ioctl(g->fd, KVM_RUN, 0));
}

/* The next exit is port I/O: its data. */
static uint8_t *io(struct sev_guest *g, uint8_t dir, uint16_t port,
		   uint8_t size, uint32_t count)
{
	uint8_t *data = sg_io(g, dir, port, size);

	assert_int_equal(g->run->io.count, count);
	return data;
}

static uint32_t out_d(struct sev_guest *g)
{
	uint32_t v;

	memcpy(&v, io(g, KVM_EXIT_IO_OUT, PORT_VALUE, 4, 1), 4);
	return v;
}

static uint64_t out_q(struct sev_guest *g)
{
	uint64_t lo = out_d(g);

	return lo | (uint64_t)out_d(g) << 32;
}

static void mmio(struct sev_guest *g, uint64_t gpa, uint32_t len, bool write)
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
	struct sev_guest g;

	(void)state;
	memset(&g, 0, sizeof(g));
	vm_up(&g);
	sg_vcpu(&g, 0); /* long mode at CODE_GPA: into the VMSA */
	launch(&g);
	cbit = g.leaf->ebx & 0x3f;
	/* the MSR protocol: SEV information (v2, v1, C-bit), CPUID, HV_FT */
	assert_int_equal(out_q(&g), 2ull << 48 | 1ull << 32 | cbit << 24 | 1);
	assert_int_equal(out_q(&g),
			 (uint64_t)g.leaf->ebx << 32 | 1ull << 30 | 5);
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
	assert_int_equal(out_d(&g), g.leaf->ebx);
	/* the guest asks to be terminated */
	run(&g);
	assert_int_equal(g.run->exit_reason, KVM_EXIT_SYSTEM_EVENT);
	assert_int_equal(g.run->system_event.type, 6 /* SEV_TERM */);
	assert_int_equal(g.run->system_event.ndata, 1);
	assert_int_equal(g.run->system_event.data[0], 0x41100);
	sg_down(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ghcb_guest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
