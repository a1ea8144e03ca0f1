// SPDX-License-Identifier: MIT
/*
 * The VMSA a guest owner expects for a vCPU it knows the entry state of,
 * built without asking the host: SEV-ES measures each vCPU's VMSA
 * (LAUNCH_UPDATE_VMSA), so the owner must predict it byte for byte to
 * check the launch.  Offsets are struct sev_es_save_area's (Linux's
 * arch/x86/include/asm/svm.h); the values are what Linux 6.12's
 * sev_es_sync_vmsa() copies from the VMCB: CR0 with CD and NW cleared
 * (KVM_X86_QUIRK_CD_NW_CLEARED, on by default), EFER with SVME, CR4 with
 * the host's MCE, and the FPU of a VM of an SEV type (KVM_SEV_INIT2).
 */
#include <string.h>

#include "owner.h"

/* kvm_vcpu_reset() and init_vmcb(): what KVM gives every new vCPU. */
#define RESET_CR0 0x10ull /* ET; CD and NW cleared in the VMCB */
#define VMCB_EFER 0x1000ull /* SVME */
#define VMCB_CR4 0x40ull /* MCE, the host's */
#define RESET_DR6 0xffff0ff0ull
#define RESET_DR7 0x400ull
#define RESET_PAT 0x0007040600070406ull
#define RESET_XCR0 1ull /* x87 */
#define RESET_FCW 0x37f
#define RESET_MXCSR 0x1f80u
#define SYS_LIMIT 0xffffu /* GDTR, IDTR, LDTR, TR */

static void put64(uint8_t *p, unsigned int off, uint64_t v)
{
	memcpy(p + off, &v, 8);
}

/* A VMCB segment: selector, attributes (type S DPL P AVL L DB G), limit. */
static void put_seg(uint8_t *p, unsigned int off, uint16_t sel, uint16_t attr,
		    uint32_t limit)
{
	memcpy(p + off, &sel, 2);
	memcpy(p + off + 2, &attr, 2);
	memcpy(p + off + 4, &limit, 4);
}

/*
 * The VMM made the vCPU, then set flat 32-bit protected mode (CS 8: code,
 * DS ES FS GS SS 16: data, base 0, 4 GiB, CR0.PE) and every general
 * register to 0 but RIP, RSP and RFLAGS (2); everything else is as KVM
 * made it.  fpu: the VM is of an SEV type (KVM_SEV_INIT2); a DEFAULT-type
 * VM's (KVM_SEV_ES_INIT, or a mirror made as type 0) VMSA has no FPU.
 */
void owner_vmsa_flat32(uint64_t rip, uint64_t rsp, uint64_t sev_features,
		       bool fpu, uint8_t vmsa[OWNER_VMSA_LEN])
{
	const uint16_t code = 0xc9b, data = 0xc93; /* P S DB G, type 11 / 3 */
	/* ES SS DS FS GS */
	static const unsigned int data_segs[] = { 0x000, 0x020, 0x030, 0x040,
						  0x050 };
	uint16_t fcw = RESET_FCW;
	uint32_t mxcsr = RESET_MXCSR, limit = SYS_LIMIT;

	memset(vmsa, 0, OWNER_VMSA_LEN);
	for (unsigned int i = 0; i < 5; i++)
		put_seg(vmsa, data_segs[i], 16, data, 0xffffffff);
	put_seg(vmsa, 0x010, 8, code, 0xffffffff);
	memcpy(vmsa + 0x064, &limit, 4); /* GDTR */
	put_seg(vmsa, 0x070, 0, 0x82, SYS_LIMIT); /* LDTR: P, LDT */
	memcpy(vmsa + 0x084, &limit, 4); /* IDTR */
	put_seg(vmsa, 0x090, 0, 0x83, SYS_LIMIT); /* TR: P, busy TSS16 */
	put64(vmsa, 0x0d0, VMCB_EFER);
	put64(vmsa, 0x148, VMCB_CR4);
	put64(vmsa, 0x158, RESET_CR0 | 1); /* CR0, PE set */
	put64(vmsa, 0x160, RESET_DR7);
	put64(vmsa, 0x168, RESET_DR6);
	put64(vmsa, 0x170, 2); /* RFLAGS */
	put64(vmsa, 0x178, rip);
	put64(vmsa, 0x1d8, rsp);
	put64(vmsa, 0x268, RESET_PAT);
	put64(vmsa, 0x3b0, sev_features); /* vmsa_features */
	put64(vmsa, 0x3e8, RESET_XCR0);
	if (!fpu)
		return;
	memcpy(vmsa + 0x408, &mxcsr, 4);
	memcpy(vmsa + 0x410, &fcw, 2);
}
