// SPDX-License-Identifier: MIT
/*
 * Reading and checking a GHCB page as Linux 6.12's KVM does
 * (arch/x86/kvm/svm/sev.c), on bytes alone: the guest wrote them, so
 * every field is read byte by byte, whatever the alignment, as the
 * little-endian value the guest stored.
 */
#include <string.h>

#include "ghcb.h"

uint64_t ghcb_get64(const void *page, unsigned int off)
{
	const uint8_t *p = (const uint8_t *)page + off;
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void put64(void *page, unsigned int off, uint64_t v)
{
	uint8_t *p = (uint8_t *)page + off;
	int i;

	for (i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* test_bit(GHCB_BITMAP_IDX(field), valid_bitmap) on its bytes */
static bool field_valid(const void *page, unsigned int off)
{
	const uint8_t *bm = (const uint8_t *)page + GHCB_OFF_VALID_BITMAP;
	unsigned int bit = off / 8;

	return bm[bit / 8] & (1u << (bit % 8));
}

void ghcb_set64(void *page, unsigned int off, uint64_t value)
{
	uint8_t *bm = (uint8_t *)page + GHCB_OFF_VALID_BITMAP;
	unsigned int bit = off / 8;

	bm[bit / 8] |= (uint8_t)(1u << (bit % 8));
	put64(page, off, value);
}

static const struct {
	unsigned int off;
	uint32_t flag;
} fields[] = {
	{ GHCB_OFF_SW_EXIT_CODE, GHCB_V_EXIT_CODE },
	{ GHCB_OFF_SW_EXIT_INFO_1, GHCB_V_INFO_1 },
	{ GHCB_OFF_SW_EXIT_INFO_2, GHCB_V_INFO_2 },
	{ GHCB_OFF_SW_SCRATCH, GHCB_V_SCRATCH },
	{ GHCB_OFF_RAX, GHCB_V_RAX },
	{ GHCB_OFF_RBX, GHCB_V_RBX },
	{ GHCB_OFF_RCX, GHCB_V_RCX },
	{ GHCB_OFF_RDX, GHCB_V_RDX },
	{ GHCB_OFF_RSI, GHCB_V_RSI },
	{ GHCB_OFF_CPL, GHCB_V_CPL },
	{ GHCB_OFF_XCR0, GHCB_V_XCR0 },
};

/* kvm_ghcb_get_<field>_if_valid(): 0 unless the guest marked it */
static uint64_t if_valid(const void *page, const struct ghcb_in *in,
			 unsigned int off, uint32_t flag)
{
	return (in->valid & flag) ? ghcb_get64(page, off) : 0;
}

/* sev_es_sync_from_ghcb() */
void ghcb_sync_from(const void *page, struct ghcb_in *in)
{
	const uint8_t *p = page;
	unsigned int i;

	memset(in, 0, sizeof(*in));
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (field_valid(page, fields[i].off))
			in->valid |= fields[i].flag;
	in->rax = if_valid(page, in, GHCB_OFF_RAX, GHCB_V_RAX);
	in->rbx = if_valid(page, in, GHCB_OFF_RBX, GHCB_V_RBX);
	in->rcx = if_valid(page, in, GHCB_OFF_RCX, GHCB_V_RCX);
	in->rdx = if_valid(page, in, GHCB_OFF_RDX, GHCB_V_RDX);
	in->rsi = if_valid(page, in, GHCB_OFF_RSI, GHCB_V_RSI);
	/* cpl is a byte of the save area (ghcb_save_area.cpl) */
	in->cpl = (in->valid & GHCB_V_CPL) ? p[GHCB_OFF_CPL] : 0;
	in->xcr0 = if_valid(page, in, GHCB_OFF_XCR0, GHCB_V_XCR0);
	/* the exit information is copied whether valid or not */
	in->exit_code = ghcb_get64(page, GHCB_OFF_SW_EXIT_CODE);
	in->info_1 = ghcb_get64(page, GHCB_OFF_SW_EXIT_INFO_1);
	in->info_2 = ghcb_get64(page, GHCB_OFF_SW_EXIT_INFO_2);
	in->scratch = if_valid(page, in, GHCB_OFF_SW_SCRATCH, GHCB_V_SCRATCH);
	in->usage = (uint32_t)p[GHCB_OFF_GHCB_USAGE] |
		    (uint32_t)p[GHCB_OFF_GHCB_USAGE + 1] << 8 |
		    (uint32_t)p[GHCB_OFF_GHCB_USAGE + 2] << 16 |
		    (uint32_t)p[GHCB_OFF_GHCB_USAGE + 3] << 24;
}

static bool has(const struct ghcb_in *in, uint32_t flags)
{
	return (in->valid & flags) == flags;
}

/* sev_es_validate_vmgexit()'s switch: the registers each exit needs */
static bool inputs_present(const struct ghcb_in *in)
{
	switch (in->exit_code) {
	case SVM_EXIT_READ_DR7:
	case SVM_EXIT_RDTSC:
	case SVM_EXIT_INVD:
	case SVM_EXIT_RDTSCP:
	case SVM_EXIT_WBINVD:
	case SVM_VMGEXIT_NMI_COMPLETE:
	case SVM_VMGEXIT_AP_HLT_LOOP:
	case SVM_VMGEXIT_AP_JUMP_TABLE:
	case SVM_VMGEXIT_UNSUPPORTED_EVENT:
	case SVM_VMGEXIT_HV_FEATURES:
	case SVM_VMGEXIT_TERM_REQUEST:
		return true;
	case SVM_EXIT_WRITE_DR7:
		return has(in, GHCB_V_RAX);
	case SVM_EXIT_RDPMC:
		return has(in, GHCB_V_RCX);
	case SVM_EXIT_CPUID:
		/* leaf 0xd's sizes depend on the guest's XCR0 */
		if (!has(in, GHCB_V_RAX | GHCB_V_RCX))
			return false;
		return in->rax != 0xd || has(in, GHCB_V_XCR0);
	case SVM_EXIT_IOIO:
		if (in->info_1 & SVM_IOIO_STR_MASK)
			return has(in, GHCB_V_SCRATCH);
		/* an OUT's value is in RAX */
		return (in->info_1 & SVM_IOIO_TYPE_MASK) || has(in, GHCB_V_RAX);
	case SVM_EXIT_MSR:
		if (!has(in, GHCB_V_RCX))
			return false;
		return !in->info_1 || has(in, GHCB_V_RAX | GHCB_V_RDX);
	case SVM_EXIT_VMMCALL:
		return has(in, GHCB_V_RAX | GHCB_V_CPL);
	case SVM_EXIT_MONITOR:
		return has(in, GHCB_V_RAX | GHCB_V_RCX | GHCB_V_RDX);
	case SVM_EXIT_MWAIT:
		return has(in, GHCB_V_RAX | GHCB_V_RCX);
	case SVM_VMGEXIT_MMIO_READ:
	case SVM_VMGEXIT_MMIO_WRITE:
		return has(in, GHCB_V_SCRATCH);
	default:
		/*
		 * AP_CREATION, PSC, GUEST_REQUEST and EXT_GUEST_REQUEST:
		 * "if (!sev_snp_guest(vcpu->kvm)) goto vmgexit_err" with
		 * MISSING_INPUT, and this platform has no SNP guests.
		 */
		return false;
	}
}

static bool known_exit(uint64_t code)
{
	switch (code) {
	case SVM_EXIT_READ_DR7:
	case SVM_EXIT_WRITE_DR7:
	case SVM_EXIT_RDTSC:
	case SVM_EXIT_RDPMC:
	case SVM_EXIT_CPUID:
	case SVM_EXIT_INVD:
	case SVM_EXIT_IOIO:
	case SVM_EXIT_MSR:
	case SVM_EXIT_VMMCALL:
	case SVM_EXIT_RDTSCP:
	case SVM_EXIT_WBINVD:
	case SVM_EXIT_MONITOR:
	case SVM_EXIT_MWAIT:
	case SVM_VMGEXIT_MMIO_READ:
	case SVM_VMGEXIT_MMIO_WRITE:
	case SVM_VMGEXIT_AP_CREATION:
	case SVM_VMGEXIT_NMI_COMPLETE:
	case SVM_VMGEXIT_AP_HLT_LOOP:
	case SVM_VMGEXIT_AP_JUMP_TABLE:
	case SVM_VMGEXIT_UNSUPPORTED_EVENT:
	case SVM_VMGEXIT_HV_FEATURES:
	case SVM_VMGEXIT_TERM_REQUEST:
	case SVM_VMGEXIT_PSC:
	case SVM_VMGEXIT_GUEST_REQUEST:
	case SVM_VMGEXIT_EXT_GUEST_REQUEST:
		return true;
	}
	return false;
}

/* sev_es_validate_vmgexit(), in its order */
uint64_t ghcb_validate(const struct ghcb_in *in)
{
	/* "Only GHCB Usage code 0 is supported" */
	if (in->usage)
		return GHCB_ERR_INVALID_USAGE;
	if (!has(in, GHCB_V_EXIT_CODE | GHCB_V_INFO_1 | GHCB_V_INFO_2))
		return GHCB_ERR_MISSING_INPUT;
	/* the switch's default: an exit code KVM does not know */
	if (!known_exit(in->exit_code))
		return GHCB_ERR_INVALID_EVENT;
	if (!inputs_present(in))
		return GHCB_ERR_MISSING_INPUT;
	return 0;
}

uint64_t ghcb_decode(const void *page, uint8_t ghcb_version, struct ghcb_in *in)
{
	uint64_t reason;

	ghcb_sync_from(page, in);
	reason = ghcb_validate(in);
	if (reason)
		return reason;
	/* sev_handle_vmgexit(): MMIO_READ/WRITE, "ghcb_version >= 2 &&
	 * exit_info_2 > 8" (a zero length returns before, unharmed) */
	if ((in->exit_code == SVM_VMGEXIT_MMIO_READ ||
	     in->exit_code == SVM_VMGEXIT_MMIO_WRITE) &&
	    ghcb_version >= 2 && in->info_2 > 8)
		return GHCB_ERR_INVALID_INPUT;
	return 0;
}

/* setup_vmgexit_scratch(), without the copy */
enum ghcb_scratch ghcb_scratch_check(uint64_t ghcb_gpa, uint64_t scratch,
				     uint64_t len, uint8_t ghcb_version,
				     uint64_t *where, uint64_t *area_len)
{
	uint64_t end = scratch + len;

	/* WARN_ON_ONCE(!min_len), "scratch gpa not provided", wrap */
	if (!len || !scratch || end < scratch)
		return GHCB_SCRATCH_BAD;
	if ((scratch & ~(uint64_t)(GHCB_PAGE_SIZE - 1)) == ghcb_gpa) {
		/* begins in the GHCB: must lie within the shared buffer */
		if (scratch < ghcb_gpa + GHCB_OFF_SHARED_BUFFER ||
		    end > ghcb_gpa + GHCB_OFF_RESERVED_0XFF0)
			return GHCB_SCRATCH_BAD;
		*where = scratch - ghcb_gpa;
		*area_len = ghcb_gpa + GHCB_OFF_RESERVED_0XFF0 - scratch;
		return GHCB_SCRATCH_IN_GHCB;
	}
	/* "GHCB v2 requires the scratch area to be within the GHCB" */
	if (ghcb_version >= 2)
		return GHCB_SCRATCH_BAD;
	/* copied through a host buffer, so KVM limits it */
	if (len > GHCB_SCRATCH_AREA_LIMIT)
		return GHCB_SCRATCH_BAD;
	*where = scratch;
	*area_len = len;
	return GHCB_SCRATCH_OUTSIDE;
}
