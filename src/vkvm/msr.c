// SPDX-License-Identifier: MIT
/*
 * Guest RDMSR and WRMSR.
 *
 * The emulator cannot hook MSR instructions, and answers MSRs it does not
 * know with 0 (writes dropped).  Its SVM-guest checks can stop them, though
 * (cpu.c sets them up): every engine maps vkvm's scratch page -- a VMCB
 * whose MSR permission bitmap lets the MSRs the engine keeps itself through
 * (as SVM's direct_access_msrs are) and stops all others -- and the INTR
 * hook answers the rest as KVM does: kvm_get_msr_common()/svm_get_msr()
 * and kvm_set_msr_common()/svm_set_msr() for the MSRs vkvm keeps, the
 * VM's platform MSRs (vkvm_set_platform()) without an exit, and #GP(0)
 * for what KVM does not know (kvm.ignore_msrs=0).  The scratch page is
 * above 2^52, where no guest address reaches.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vkvm_internal.h"

#define EXCP_VMEXIT 0x100
#define SVM_EXIT_MSR 0x7c
#define VMCB_IOPM_BASE 0x40 /* QEMU's struct vmcb: control.iopm_base_pa */
#define VMCB_MSRPM_BASE 0x48 /* control.msrpm_base_pa */
#define MSRPM_OFF VK_PAGE
#define IOPM_OFF (3 * VK_PAGE) /* every port stops, when IOIO is on */

/* The VMCB and permission bitmap, one copy for every engine. */
static uint8_t scratch[VK_SCRATCH_SIZE] __attribute__((aligned(4096)));
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

/* MSRs the engine keeps, passed through as SVM passes them to hardware. */
static const uint32_t passthrough[] = {
	0x10, /* TSC */
	0x174, 0x175, 0x176, /* SYSENTER_CS/ESP/EIP */
	0x277, /* PAT */
	0xc0000080, /* EFER: the engine recomputes its modes on a write */
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, /* STAR .. SFMASK */
	0xc0000100, 0xc0000101, 0xc0000102, /* FS/GS/KERNEL_GS base */
	0xc0000103, /* TSC_AUX */
};

/* The bit pair of an MSR in the bitmap, as the APM lays it out; -1: none. */
static long msrpm_bit(uint32_t index)
{
	if (index <= 0x1fff)
		return 2l * index;
	if (index >= 0xc0000000 && index <= 0xc0001fff)
		return 2l * (0x2000 + (index - 0xc0000000));
	if (index >= 0xc0010000 && index <= 0xc0011fff)
		return 2l * (0x4000 + (index - 0xc0010000));
	return -1; /* outside the three ranges: always intercepted */
}

static void scratch_init(void)
{
	uint64_t pm = VK_SCRATCH_GPA + MSRPM_OFF;
	uint64_t io = VK_SCRATCH_GPA + IOPM_OFF;
	uint8_t *bm = scratch + MSRPM_OFF;
	size_t i;

	memcpy(scratch + VMCB_MSRPM_BASE, &pm, 8);
	memcpy(scratch + VMCB_IOPM_BASE, &io, 8);
	memset(scratch + IOPM_OFF, 0xff, 3 * VK_PAGE);
	memset(bm, 0xff, 2 * VK_PAGE);
	for (i = 0; i < sizeof(passthrough) / sizeof(passthrough[0]); i++) {
		long bit = msrpm_bit(passthrough[i]);

		bm[bit / 8] &= (uint8_t)~(3u << (bit % 8));
	}
}

int vk_msr_engine(uc_engine *uc)
{
	pthread_once(&scratch_once, scratch_init);
	if (uc_mem_map_ptr(uc, VK_SCRATCH_GPA, VK_SCRATCH_SIZE, UC_PROT_READ,
			   scratch))
		return -ENOMEM;
	return 0;
}

static const struct vk_plat_msr *plat_msr(struct vkvm_vm *vm, uint32_t index)
{
	int i;

	for (i = 0; i < vm->nplat; i++)
		if (vm->plat[i].index == index)
			return &vm->plat[i];
	return NULL;
}

/*
 * MSRs the CPU itself answers to a guest, never intercepted: SEV_STATUS
 * reads as the guest's own state (0 unless the platform says otherwise)
 * and is read-only, so a write is KVM's unknown MSR, #GP.
 */
static bool hw_readonly(uint32_t index)
{
	return index == 0xc0010131;
}

/*
 * MSRs kvm_get_msr_common()/svm_get_msr() answer for a guest with a fixed
 * value and kvm_set_msr_common()/svm_set_msr() accept and drop (or
 * refuse: #GP), beyond the ones vkvm keeps (vk_msr_known()).
 */
enum { RD_GP = 1, WR_OK = 2 };
static const struct {
	uint32_t first, last;
	uint64_t value;
	uint8_t flags;
} fixed[] = {
	{ 0x0, 0x1, 0, 0 },			/* P5_MC_ADDR, P5_MC_TYPE */
	{ 0x17, 0x17, 0, 0 },			/* PLATFORM_ID */
	{ 0x2a, 0x2a, 0, 0 },			/* EBL_CR_POWERON */
	{ 0x2c, 0x2c, 1ull << 24, 0 },		/* EBC_FREQUENCY_ID */
	{ 0x34, 0x34, 0, 0 },			/* SMI_COUNT */
	{ 0x79, 0x79, 0, RD_GP | WR_OK },	/* UCODE_WRITE */
	{ 0xc1, 0xc2, 0, WR_OK },		/* P6_PERFCTR0/1, no PMU */
	{ 0xcd, 0xcd, 3, 0 },			/* FSB frequency */
	{ 0x186, 0x187, 0, WR_OK },		/* P6_EVNTSEL0/1 */
	{ 0x198, 0x198, 1000ull | 4ull << 40, 0 }, /* PERF_STATUS */
	{ 0x199, 0x199, 0, 0 },			/* PERF_CTL */
	{ 0x1a0, 0x1a0, 0x1800, WR_OK },	/* MISC_ENABLE: PEBS, BTS unavail */
	{ 0x1d9, 0x1d9, 0, WR_OK },		/* DEBUGCTL */
	{ 0x1db, 0x1de, 0, 0 },			/* last branch / interrupt IPs */
	{ 0x1fc, 0x1fc, 0, WR_OK },		/* POWER_CTL */
	{ 0x606, 0x606, 0, 0 },			/* RAPL_POWER_UNIT */
	{ 0x611, 0x611, 0, 0 },			/* PKG_ENERGY_STATUS */
	{ 0x619, 0x619, 0, 0 },			/* DRAM_ENERGY_STATUS */
	{ 0x639, 0x639, 0, 0 },			/* PP0_ENERGY_STATUS */
	{ 0x641, 0x641, 0, 0 },			/* PP1_ENERGY_STATUS */
	{ 0xc0010000, 0xc0010007, 0, WR_OK },	/* K7 EVNTSEL/PERFCTR, no PMU */
	{ 0xc0010010, 0xc0010010, 0, 0 },	/* SYSCFG */
	{ 0xc0010015, 0xc0010015, 0, WR_OK },	/* HWCR */
	{ 0xc001001b, 0xc001001b, 0x20000000, WR_OK }, /* K7 CLK_CTL */
	{ 0xc001001f, 0xc001001f, 0, WR_OK },	/* NB_CFG */
	{ 0xc0010020, 0xc0010020, 0, RD_GP | WR_OK }, /* PATCH_LOADER */
	{ 0xc0010055, 0xc0010055, 0, 0 },	/* INT_PENDING_MSG */
	{ 0xc0010058, 0xc0010058, 0, WR_OK },	/* FAM10H_MMIO_CONF_BASE */
	{ 0xc0010112, 0xc0010113, 0, 0 },	/* TSEG_ADDR, TSEG_MASK */
	{ 0xc0010114, 0xc0010114, 0, WR_OK },	/* VM_CR */
	{ 0xc0010115, 0xc0010115, 0, RD_GP | WR_OK }, /* VM_IGNNE */
	{ 0xc0011021, 0xc0011021, 0, 0 },	/* F15H_IC_CFG */
	{ 0xc0011022, 0xc0011023, 0, WR_OK },	/* DC_CFG, TW_CFG */
	{ 0xc001102a, 0xc001102a, 0, WR_OK },	/* BU_CFG2 */
	{ 0xc001102c, 0xc001102c, 0, WR_OK },	/* F15H_EX_CFG */
};

static int fixed_msr(uint32_t index)
{
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (index >= fixed[i].first && index <= fixed[i].last)
			return (int)i;
	return -1;
}

/* 0, or 1 for #GP, as kvm_emulate_rdmsr()/kvm_emulate_wrmsr() decide. */
int vk_guest_rdmsr(struct vkvm_vcpu *v, uint32_t index, uint64_t *data)
{
	const struct vk_plat_msr *p = plat_msr(v->vm, index);
	int f;

	if (p) {
		*data = p->data;
		return 0;
	}
	if (!vk_get_msr(v, index, data))
		return 0;
	f = fixed_msr(index);
	if (f < 0 || (fixed[f].flags & RD_GP))
		return 1;
	*data = fixed[f].value;
	return 0;
}

int vk_guest_wrmsr(struct vkvm_vcpu *v, uint32_t index, uint64_t data)
{
	const struct vk_plat_msr *p = plat_msr(v->vm, index);
	int f;

	if (p)
		return p->wr_ignore ? 0 : 1;
	if (hw_readonly(index))
		return 1;
	if (!vk_set_msr(v, index, data))
		return 0;
	f = fixed_msr(index);
	return f >= 0 && (fixed[f].flags & WR_OK) ? 0 : 1;
}

/*
 * The INTR hook's part: true if intno was an MSR intercept, answered
 * here (the engine goes on after the instruction) or turned into a #GP
 * for the run loop to deliver.
 */
bool vk_msr_intercept(struct vkvm_vcpu *v, uint32_t intno)
{
	uint64_t write, rip, rcx, rax, rdx, data = 0;
	int gp;

	if (intno != EXCP_VMEXIT + SVM_EXIT_MSR)
		return false;
	vk_cpu_vmexit_info(v, &write, &rip);
	uc_reg_read(v->uc, UC_X86_REG_RCX, &rcx);
	if (write) {
		uc_reg_read(v->uc, UC_X86_REG_RAX, &rax);
		uc_reg_read(v->uc, UC_X86_REG_RDX, &rdx);
		data = (rax & 0xffffffffull) | rdx << 32;
	}
	/* what the CPU answers itself comes before a protected guest's #VC */
	if (!plat_msr(v->vm, (uint32_t)rcx) &&
	    vk_prot_msr(v, (uint32_t)rcx, write, &data, rip))
		return true;
	if (v->prot_on && (uint32_t)rcx == v->vm->prot_gmsr)
		gp = 0; /* the vCPU's own: vk_prot_msr() moved the value */
	else if (write)
		gp = vk_guest_wrmsr(v, (uint32_t)rcx, data);
	else
		gp = vk_guest_rdmsr(v, (uint32_t)rcx, &data);
	if (!gp && !write) {
		rax = data & 0xffffffffull;
		rdx = data >> 32;
		uc_reg_write(v->uc, UC_X86_REG_RAX, &rax);
		uc_reg_write(v->uc, UC_X86_REG_RDX, &rdx);
	}
	if (!gp) {
		vk_cpu_resume_at(v, rip + 2); /* 0f 32 / 0f 30 */
		return true;
	}
	/* #GP(0) at the instruction, delivered by the run loop */
	vk_cpu_resume_at(v, rip);
	v->why = VK_INTR;
	v->intno = 13;
	v->exc_err = 0;
	v->exc_soft = false;
	v->exc_next = rip;
	uc_emu_stop(v->uc);
	return true;
}

int vkvm_set_platform_msr(int fd, uint32_t index, uint64_t value,
			  bool wr_ignore)
{
	struct vkvm_vm *vm = vk_vm_of(fd);
	struct vk_plat_msr *p;
	int i, ret = 0;

	if (!vm)
		return -EBADF;
	pthread_mutex_lock(&vm->lock);
	for (i = 0; i < vm->nplat && vm->plat[i].index != index; i++)
		;
	if (vm->ran)
		ret = -EBUSY;
	else if (i == VK_MAX_PLAT_MSRS)
		ret = -ENOSPC;
	if (!ret) {
		p = &vm->plat[i];
		p->index = index;
		p->data = value;
		p->wr_ignore = wr_ignore;
		if (i == vm->nplat)
			vm->nplat++;
	}
	pthread_mutex_unlock(&vm->lock);
	return ret;
}
