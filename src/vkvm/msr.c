// SPDX-License-Identifier: MIT
/*
 * The guest's own RDMSR and WRMSR of the MSRs vkvm keeps.
 *
 * The emulator has no hook for RDMSR/WRMSR: it answers them from its own
 * CPU state, so a guest would read 0 for the APIC base (no BSP flag: OVMF
 * then takes itself for an AP) and never see what KVM_SET_MSRS put in
 * vkvm's table.  Its SVM model can stop at them, though: each engine runs
 * in SVM guest mode with only the MSR intercept on (cpu.c), and the
 * permission map below selects the MSRs vkvm keeps.  Such an access stops
 * the engine with a precise RIP (UC_HOOK_INTR, 0x100 + SVM_EXIT_MSR) and
 * is answered here as kvm_emulate_rdmsr()/kvm_emulate_wrmsr() answer it,
 * from the values KVM_GET/SET_MSRS see.  Every other MSR stays the
 * engine's (docs/fidelity.md V15, V21).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "vkvm_internal.h"

#define MSRPM_OFFSET 72 /* vmcb control.msrpm_base_pa */

/* VMCB page, then the 8 KiB permission map; read only by the engine. */
static uint8_t scratch[3 * VK_PAGE] __attribute__((aligned(4096)));
static pthread_once_t built = PTHREAD_ONCE_INIT;

/* The map's three ranges (cpu_svm_check_intercept_param()). */
static const struct {
	uint32_t base, bit0;
} ranges[] = {
	{ 0x00000000, 0 },
	{ 0xc0000000, 8192 },
	{ 0xc0010000, 16384 },
};

static void build(void)
{
	uint8_t *pm = scratch + VK_PAGE;
	uint64_t pm_gpa = VK_MSR_VMCB + VK_PAGE;
	uint32_t r, i, bit;

	memcpy(scratch + MSRPM_OFFSET, &pm_gpa, sizeof(pm_gpa));
	for (r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++)
		for (i = 0; i < 8192; i++) {
			if (!vk_msr_in_vkvm(ranges[r].base + i))
				continue;
			bit = 2 * (ranges[r].bit0 + i); /* read, then write */
			pm[bit / 8] |= (uint8_t)(3u << (bit % 8));
		}
}

int vk_msr_map(uc_engine *uc)
{
	pthread_once(&built, build);
	/* MSRs outside the three ranges always stop (the map's default) */
	return uc_mem_map_ptr(uc, VK_MSR_VMCB, sizeof(scratch), UC_PROT_READ,
			      scratch)
		       ? -ENOMEM
		       : 0;
}

/*
 * The RDMSR or WRMSR the engine stopped at: 0 done (RIP past it),
 * -EPERM for an MSR KVM would refuse (#GP), other errors when the
 * instruction cannot be read.
 */
int vk_msr_exit(struct vkvm_vcpu *v)
{
	uint64_t rip, csbase, rax, rcx, rdx, data;
	uint8_t op[2];

	uc_reg_read(v->uc, UC_X86_REG_RIP, &rip);
	vk_cpu_code_bits(v, &csbase);
	if (vk_read_linear(v, csbase + rip, op, sizeof(op)))
		return -EFAULT;
	if (op[0] != 0x0f || (op[1] != 0x30 && op[1] != 0x32))
		return -EINVAL;
	uc_reg_read(v->uc, UC_X86_REG_RCX, &rcx);
	if (op[1] == 0x32) { /* kvm_emulate_rdmsr() */
		if (vk_get_msr(v, (uint32_t)rcx, &data))
			return -EPERM;
		rax = (uint32_t)data;
		rdx = data >> 32;
		uc_reg_write(v->uc, UC_X86_REG_RAX, &rax);
		uc_reg_write(v->uc, UC_X86_REG_RDX, &rdx);
	} else { /* kvm_emulate_wrmsr() */
		uc_reg_read(v->uc, UC_X86_REG_RAX, &rax);
		uc_reg_read(v->uc, UC_X86_REG_RDX, &rdx);
		data = (uint32_t)rax | (uint64_t)(uint32_t)rdx << 32;
		if (vk_set_msr(v, (uint32_t)rcx, data))
			return -EPERM;
	}
	rip += 2;
	uc_reg_write(v->uc, UC_X86_REG_RIP, &rip);
	return 0;
}
