// SPDX-License-Identifier: MIT
/*
 * The shim's GHCB protocol against Linux 6.12's arch/x86/kvm/svm/sev.c:
 * the decoder (sev_es_sync_from_ghcb, sev_es_validate_vmgexit,
 * setup_vmgexit_scratch) on bytes, then the VMGEXIT handler on a fake of
 * vkvm's exit services (ghcb_fake.h).
 */
#include "testutil.h"
#include <linux/kvm_para.h>

#include "ghcb_fake.h"

#define GPA 0x2000ull /* the GHCB */
#define SB (GPA + GHCB_OFF_SHARED_BUFFER)

static uint8_t page[GHCB_PAGE_SIZE];

static void fill_exit(uint8_t *p, uint64_t code, uint64_t i1, uint64_t i2)
{
	ghcb_set64(p, GHCB_OFF_SW_EXIT_CODE, code);
	ghcb_set64(p, GHCB_OFF_SW_EXIT_INFO_1, i1);
	ghcb_set64(p, GHCB_OFF_SW_EXIT_INFO_2, i2);
}

static uint64_t decode(uint8_t version)
{
	struct ghcb_in in;

	return ghcb_decode(page, version, &in);
}

/* ---- sev_es_sync_from_ghcb() ---- */

static void test_sync_from(void **state)
{
	struct ghcb_in in;

	(void)state;
	memset(page, 0xa5, sizeof(page));
	memset(page + GHCB_OFF_VALID_BITMAP, 0, GHCB_VALID_BITMAP_LEN);
	/* little-endian bytes, read at any alignment */
	for (int i = 0; i < 8; i++)
		page[GHCB_OFF_RCX + i] = (uint8_t)(0x11 * (i + 1));
	page[GHCB_OFF_VALID_BITMAP + GHCB_OFF_RCX / 64] |=
		(uint8_t)(1u << ((GHCB_OFF_RCX / 8) % 8));
	page[GHCB_OFF_VALID_BITMAP + 3] |= 1u << 1; /* cpl: bit 0xcb/8 = 25 */
	page[GHCB_OFF_CPL] = 3;
	ghcb_set64(page, GHCB_OFF_SW_SCRATCH, SB);
	ghcb_sync_from(page, &in);
	assert_int_equal(in.rcx, 0x8877665544332211ull);
	assert_int_equal(in.cpl, 3);
	assert_int_equal(in.scratch, SB);
	/* not valid: read as 0, except the exit information */
	assert_int_equal(in.rax, 0);
	assert_int_equal(in.rbx, 0);
	assert_int_equal(in.rsi, 0);
	assert_int_equal(in.xcr0, 0);
	assert_int_equal(in.exit_code, 0xa5a5a5a5a5a5a5a5ull);
	assert_int_equal(in.info_1, 0xa5a5a5a5a5a5a5a5ull);
	assert_int_equal(in.valid, GHCB_V_RCX | GHCB_V_CPL | GHCB_V_SCRATCH);
	assert_int_equal(in.usage, 0xa5a5a5a5u);
	/* a CPL byte the guest did not mark reads as 0 */
	page[GHCB_OFF_VALID_BITMAP + 3] = 0;
	ghcb_sync_from(page, &in);
	assert_int_equal(in.cpl, 0);
}

/* ---- sev_es_validate_vmgexit() ---- */

static void test_validate_usage_first(void **state)
{
	(void)state;
	memset(page, 0, sizeof(page));
	page[GHCB_OFF_GHCB_USAGE + 3] = 1; /* usage 0x01000000 */
	/* usage is checked before anything is missing */
	assert_int_equal(decode(2), GHCB_ERR_INVALID_USAGE);
	fill_exit(page, SVM_EXIT_RDTSC, 0, 0);
	assert_int_equal(decode(2), GHCB_ERR_INVALID_USAGE);
}

static void test_validate_missing_exit_info(void **state)
{
	static const unsigned int offs[] = { GHCB_OFF_SW_EXIT_CODE,
					     GHCB_OFF_SW_EXIT_INFO_1,
					     GHCB_OFF_SW_EXIT_INFO_2 };

	(void)state;
	for (unsigned int i = 0; i < 3; i++) {
		memset(page, 0, sizeof(page));
		fill_exit(page, 0x1234, 0, 0); /* unknown, yet missing wins */
		page[GHCB_OFF_VALID_BITMAP + offs[i] / 64] &=
			(uint8_t) ~(1u << ((offs[i] / 8) % 8));
		assert_int_equal(decode(2), GHCB_ERR_MISSING_INPUT);
	}
}

struct vrow {
	uint64_t code, info_1, rax;
	unsigned int regs; /* offsets marked valid, as bits below */
	uint64_t want;
};

enum { RAX = 1, RBX = 2, RCX = 4, RDX = 8, CPL = 16, XCR0 = 32, SCR = 64 };

static const struct vrow vrows[] = {
	{ SVM_EXIT_READ_DR7, 0, 0, 0, 0 },
	{ SVM_EXIT_WRITE_DR7, 0, 0, 0, GHCB_ERR_MISSING_INPUT },
	{ SVM_EXIT_WRITE_DR7, 0, 0, RAX, 0 },
	{ SVM_EXIT_RDTSC, 0, 0, 0, 0 },
	{ SVM_EXIT_RDPMC, 0, 0, RAX, GHCB_ERR_MISSING_INPUT },
	{ SVM_EXIT_RDPMC, 0, 0, RCX, 0 },
	{ SVM_EXIT_CPUID, 0, 1, RAX, GHCB_ERR_MISSING_INPUT },
	{ SVM_EXIT_CPUID, 0, 1, RCX, GHCB_ERR_MISSING_INPUT },
	{ SVM_EXIT_CPUID, 0, 1, RAX | RCX, 0 },
	{ SVM_EXIT_CPUID, 0, 0xd, RAX | RCX, GHCB_ERR_MISSING_INPUT },
	{ SVM_EXIT_CPUID, 0, 0xd, RAX | RCX | XCR0, 0 },
	{ SVM_EXIT_INVD, 0, 0, 0, 0 },
	{ SVM_EXIT_IOIO, 0x00800014, 0, RAX, GHCB_ERR_MISSING_INPUT }, /* str */
	{ SVM_EXIT_IOIO, 0x00800014, 0, SCR, 0 },
	{ SVM_EXIT_IOIO, 0x00800010, 0, 0, GHCB_ERR_MISSING_INPUT }, /* out */
	{ SVM_EXIT_IOIO, 0x00800010, 0, RAX, 0 },
	{ SVM_EXIT_IOIO, 0x00800011, 0, 0, 0 }, /* in */
	{ SVM_EXIT_MSR, 0, 0, RAX | RDX, GHCB_ERR_MISSING_INPUT },
	{ SVM_EXIT_MSR, 0, 0, RCX, 0 },
	{ SVM_EXIT_MSR, 1, 0, RCX, GHCB_ERR_MISSING_INPUT },
	{ SVM_EXIT_MSR, 1, 0, RCX | RAX, GHCB_ERR_MISSING_INPUT },
	{ SVM_EXIT_MSR, 1, 0, RCX | RDX, GHCB_ERR_MISSING_INPUT },
	{ SVM_EXIT_MSR, 1, 0, RCX | RAX | RDX, 0 },
	{ SVM_EXIT_VMMCALL, 0, 0, RAX, GHCB_ERR_MISSING_INPUT },
	{ SVM_EXIT_VMMCALL, 0, 0, CPL, GHCB_ERR_MISSING_INPUT },
	{ SVM_EXIT_VMMCALL, 0, 0, RAX | CPL, 0 },
	{ SVM_EXIT_RDTSCP, 0, 0, 0, 0 },
	{ SVM_EXIT_WBINVD, 0, 0, 0, 0 },
	{ SVM_EXIT_MONITOR, 0, 0, RAX | RCX, GHCB_ERR_MISSING_INPUT },
	{ SVM_EXIT_MONITOR, 0, 0, RAX | RDX, GHCB_ERR_MISSING_INPUT },
	{ SVM_EXIT_MONITOR, 0, 0, RAX | RCX | RDX, 0 },
	{ SVM_EXIT_MWAIT, 0, 0, RAX, GHCB_ERR_MISSING_INPUT },
	{ SVM_EXIT_MWAIT, 0, 0, RAX | RCX, 0 },
	{ SVM_VMGEXIT_MMIO_READ, 0, 0, RAX, GHCB_ERR_MISSING_INPUT },
	{ SVM_VMGEXIT_MMIO_READ, 0, 0, SCR, 0 },
	{ SVM_VMGEXIT_MMIO_WRITE, 0, 0, 0, GHCB_ERR_MISSING_INPUT },
	{ SVM_VMGEXIT_MMIO_WRITE, 0, 0, SCR, 0 },
	{ SVM_VMGEXIT_NMI_COMPLETE, 0, 0, 0, 0 },
	{ SVM_VMGEXIT_AP_HLT_LOOP, 0, 0, 0, 0 },
	{ SVM_VMGEXIT_AP_JUMP_TABLE, 0, 0, 0, 0 },
	{ SVM_VMGEXIT_UNSUPPORTED_EVENT, 0, 0, 0, 0 },
	{ SVM_VMGEXIT_HV_FEATURES, 0, 0, 0, 0 },
	{ SVM_VMGEXIT_TERM_REQUEST, 0, 0, 0, 0 },
	/* the SNP events on a VM that is not SNP */
	{ SVM_VMGEXIT_AP_CREATION, 1, 0, RAX, GHCB_ERR_MISSING_INPUT },
	{ SVM_VMGEXIT_AP_CREATION, SVM_VMGEXIT_AP_DESTROY, 0, 0,
	  GHCB_ERR_MISSING_INPUT },
	{ SVM_VMGEXIT_PSC, 0, 0, SCR, GHCB_ERR_MISSING_INPUT },
	{ SVM_VMGEXIT_GUEST_REQUEST, 0x3000, 0, 0, GHCB_ERR_MISSING_INPUT },
	{ SVM_VMGEXIT_EXT_GUEST_REQUEST, 0x3000, 0, RAX | RBX,
	  GHCB_ERR_MISSING_INPUT },
	/* what the switch does not know */
	{ SVM_EXIT_HLT, 0, 0, 0, GHCB_ERR_INVALID_EVENT },
	{ 0x403 /* SVM_EXIT_VMGEXIT */, 0, 0, 0, GHCB_ERR_INVALID_EVENT },
	{ 0x8000ffffull | (1ull << 32), 0, 0, 0, GHCB_ERR_INVALID_EVENT },
	{ 0x80000018ull /* SNP_RUN_VMPL */, 0, 0, 0, GHCB_ERR_INVALID_EVENT },
};

static void fill_row(const struct vrow *r)
{
	memset(page, 0, sizeof(page));
	fill_exit(page, r->code, r->info_1, 0x3000);
	if (r->regs & RAX)
		ghcb_set64(page, GHCB_OFF_RAX, r->rax);
	if (r->regs & RBX)
		ghcb_set64(page, GHCB_OFF_RBX, 0);
	if (r->regs & RCX)
		ghcb_set64(page, GHCB_OFF_RCX, 0);
	if (r->regs & RDX)
		ghcb_set64(page, GHCB_OFF_RDX, 0);
	if (r->regs & CPL)
		page[GHCB_OFF_VALID_BITMAP + 3] |= 1u << 1;
	if (r->regs & XCR0)
		ghcb_set64(page, GHCB_OFF_XCR0, 7);
	if (r->regs & SCR)
		ghcb_set64(page, GHCB_OFF_SW_SCRATCH, SB);
}

static void test_validate_rows(void **state)
{
	struct ghcb_in in;
	uint64_t got;

	(void)state;
	for (size_t i = 0; i < sizeof(vrows) / sizeof(vrows[0]); i++) {
		fill_row(&vrows[i]);
		ghcb_sync_from(page, &in);
		got = ghcb_validate(&in);
		if (got != vrows[i].want)
			fail_msg("row %zu (exit %#llx): %llu, want %llu", i,
				 (unsigned long long)vrows[i].code,
				 (unsigned long long)got,
				 (unsigned long long)vrows[i].want);
	}
}

/* sev_handle_vmgexit(): MMIO of more than 8 bytes only under v1 */
static void test_validate_mmio_v2_len(void **state)
{
	(void)state;
	memset(page, 0, sizeof(page));
	ghcb_set64(page, GHCB_OFF_SW_SCRATCH, SB);
	fill_exit(page, SVM_VMGEXIT_MMIO_READ, 0xfee00000, 9);
	assert_int_equal(decode(2), GHCB_ERR_INVALID_INPUT);
	assert_int_equal(decode(1), 0);
	fill_exit(page, SVM_VMGEXIT_MMIO_WRITE, 0xfee00000, 9);
	assert_int_equal(decode(2), GHCB_ERR_INVALID_INPUT);
	fill_exit(page, SVM_VMGEXIT_MMIO_WRITE, 0xfee00000, 8);
	assert_int_equal(decode(2), 0);
	fill_exit(page, SVM_VMGEXIT_MMIO_WRITE, 0xfee00000, 0);
	assert_int_equal(decode(2), 0);
	/* a missing scratch is reported before the length */
	memset(page + GHCB_OFF_VALID_BITMAP, 0, GHCB_VALID_BITMAP_LEN);
	fill_exit(page, SVM_VMGEXIT_MMIO_WRITE, 0xfee00000, 9);
	assert_int_equal(decode(2), GHCB_ERR_MISSING_INPUT);
}

/* ---- setup_vmgexit_scratch() ---- */

static enum ghcb_scratch scratch(uint64_t s, uint64_t len, uint8_t version,
				 uint64_t *where, uint64_t *area)
{
	return ghcb_scratch_check(GPA, s, len, version, where, area);
}

static void test_scratch_rules(void **state)
{
	uint64_t w = 0, a = 0;

	(void)state;
	/* the whole shared buffer */
	assert_int_equal(scratch(SB, 0x7f0, 2, &w, &a), GHCB_SCRATCH_IN_GHCB);
	assert_int_equal(w, 0x800);
	assert_int_equal(a, 0x7f0);
	/* the area runs to reserved_0xff0 whatever the length */
	assert_int_equal(scratch(SB + 0x100, 8, 2, &w, &a),
			 GHCB_SCRATCH_IN_GHCB);
	assert_int_equal(w, 0x900);
	assert_int_equal(a, 0x6f0);
	/* in the GHCB page, but not within the shared buffer */
	assert_int_equal(scratch(SB - 1, 8, 1, &w, &a), GHCB_SCRATCH_BAD);
	assert_int_equal(scratch(GPA, 8, 1, &w, &a), GHCB_SCRATCH_BAD);
	assert_int_equal(scratch(SB, 0x7f1, 1, &w, &a), GHCB_SCRATCH_BAD);
	assert_int_equal(scratch(GPA + 0xfe8, 9, 1, &w, &a), GHCB_SCRATCH_BAD);
	/* outside: v2 refuses, v1 copies up to 16 pages */
	assert_int_equal(scratch(0x8000, 8, 2, &w, &a), GHCB_SCRATCH_BAD);
	assert_int_equal(scratch(0x8000, 16 * 4096, 1, &w, &a),
			 GHCB_SCRATCH_OUTSIDE);
	assert_int_equal(w, 0x8000);
	assert_int_equal(a, 16 * 4096);
	assert_int_equal(scratch(0x8000, 16 * 4096 + 1, 1, &w, &a),
			 GHCB_SCRATCH_BAD);
	/* the page after the GHCB is outside */
	assert_int_equal(scratch(GPA + 4096, 8, 1, &w, &a),
			 GHCB_SCRATCH_OUTSIDE);
	/* no length, no address, a wrap */
	assert_int_equal(scratch(SB, 0, 1, &w, &a), GHCB_SCRATCH_BAD);
	assert_int_equal(scratch(0, 8, 1, &w, &a), GHCB_SCRATCH_BAD);
	assert_int_equal(scratch(~0ull - 3, 8, 1, &w, &a), GHCB_SCRATCH_BAD);
	assert_int_equal(ghcb_scratch_check(~0xfffull, ~0ull - 3, 8, 2, &w, &a),
			 GHCB_SCRATCH_BAD);
}

/* ---- the handler on the fake ---- */

static struct vkvm_gexit *G;
static struct shim_es_vm *VM;

static int hsetup(void **state)
{
	(void)state;
	G = calloc(1, sizeof(*G));
	VM = shim_es_new(2, 51);
	assert_non_null(G);
	assert_non_null(VM);
	G->gmsr = GPA;
	return 0;
}

static int hsetup_v1(void **state)
{
	hsetup(state);
	shim_es_free(VM);
	VM = shim_es_new(1, 47);
	return 0;
}

static int hteardown(void **state)
{
	(void)state;
	shim_es_free(VM);
	free(G);
	return 0;
}

static uint8_t *gh(void)
{
	return G->mem + GPA;
}

static uint64_t get(unsigned int off)
{
	return ghcb_get64(gh(), off);
}

static bool valid(unsigned int off)
{
	return gh()[GHCB_OFF_VALID_BITMAP + off / 64] & (1u << ((off / 8) % 8));
}

static void gexit(uint64_t code, uint64_t i1, uint64_t i2)
{
	fill_exit(gh(), code, i1, i2);
}

static int vmgexit(void)
{
	return shim_vmgexit(VM, G);
}

static void assert_info(uint64_t i1, uint64_t i2)
{
	assert_int_equal(get(GHCB_OFF_SW_EXIT_INFO_1), i1);
	assert_int_equal(get(GHCB_OFF_SW_EXIT_INFO_2), i2);
}

/* sev_es_sync_to_ghcb(): RAX..RDX and the infos are all that is valid */
static void assert_synced(void)
{
	uint8_t want[GHCB_VALID_BITMAP_LEN] = { 0 };
	static const unsigned int offs[] = { GHCB_OFF_SW_EXIT_INFO_1,
					     GHCB_OFF_SW_EXIT_INFO_2,
					     GHCB_OFF_RAX,
					     GHCB_OFF_RBX,
					     GHCB_OFF_RCX,
					     GHCB_OFF_RDX };

	for (unsigned int i = 0; i < 6; i++)
		want[offs[i] / 64] |= (uint8_t)(1u << ((offs[i] / 8) % 8));
	assert_memory_equal(gh() + GHCB_OFF_VALID_BITMAP, want, sizeof(want));
}

/* -- the MSR protocol: sev_handle_vmgexit_msr_protocol() -- */

static void test_msr_sev_info(void **state)
{
	(void)state;
	G->gmsr = GHCB_MSR_SEV_INFO_REQ | 0xabc000;
	assert_int_equal(vmgexit(), 1);
	assert_int_equal(G->gmsr, 0x0002000133000001ull); /* 2, 1, cbit 51 */
}

static void test_msr_cpuid(void **state)
{
	static const uint64_t want[4] = { 0xa0000000u, 0xb0000000u, 0xc0000000u,
					  0xd0000000u };

	(void)state;
	for (uint64_t reg = 0; reg < 4; reg++) {
		uint64_t fn = 0x8000001f, v = want[reg] | (reg == 2 ? 0 : fn);

		G->gmsr = GHCB_MSR_CPUID_REQ | reg << 30 | fn << 32 | 0x1000;
		assert_int_equal(vmgexit(), 1);
		/* bits 12..31 stay (set_ghcb_msr_bits() touches no more) */
		assert_int_equal(G->gmsr, GHCB_MSR_CPUID_RESP | reg << 30 |
						  v << 32 | 0x1000);
	}
}

static void test_msr_hv_ft(void **state)
{
	(void)state;
	G->gmsr = GHCB_MSR_HV_FT_REQ | 0xfff000;
	assert_int_equal(vmgexit(), 1);
	assert_int_equal(G->gmsr, (3ull << 12) | GHCB_MSR_HV_FT_RESP);
}

static void assert_term(uint64_t data0)
{
	assert_int_equal(G->run.exit_reason, KVM_EXIT_SYSTEM_EVENT);
	assert_int_equal(G->run.system_event.type, KVM_SYSTEM_EVENT_SEV_TERM);
	assert_int_equal(G->run.system_event.ndata, 1);
	assert_int_equal(G->run.system_event.data[0], data0);
}

static void test_msr_term_and_snp(void **state)
{
	static const uint64_t reqs[] = {
		GHCB_MSR_TERM_REQ | 1 << 12 | 4 << 16,
		GHCB_MSR_REG_GPA_REQ | 0x5ull << 12,
		GHCB_MSR_PREF_GPA_REQ,
		GHCB_MSR_PSC_REQ | 0x1ull << 52,
	};

	(void)state;
	for (unsigned int i = 0; i < 4; i++) {
		memset(&G->run, 0, sizeof(G->run));
		G->gmsr = reqs[i];
		assert_int_equal(vmgexit(), 0);
		assert_term(reqs[i]);
		assert_int_equal(G->gmsr, reqs[i]);
	}
}

static void test_msr_unknown_and_hold(void **state)
{
	(void)state;
	G->gmsr = 0x123456789abcd0feull;
	assert_int_equal(vmgexit(), 1);
	assert_int_equal(G->gmsr, 0x123456789abcd0feull);
	G->gmsr = GHCB_MSR_AP_RESET_HOLD_REQ | 0xffff000;
	assert_int_equal(vmgexit(), 0);
	assert_int_equal(G->run.exit_reason, KVM_EXIT_AP_RESET_HOLD);
	assert_int_equal(G->gmsr, GHCB_MSR_AP_RESET_HOLD_RESP);
}

/* -- the GHCB page -- */

static void test_no_ghcb(void **state)
{
	(void)state;
	G->gmsr = 0;
	gexit(SVM_VMGEXIT_UNSUPPORTED_EVENT, 0, 0);
	memcpy(G->mem, gh(), 4096); /* were page 0 taken for the GHCB */
	assert_int_equal(vmgexit(), 1);
	assert_memory_equal(G->mem, gh(), 4096);
	G->gmsr = GPA;
	G->unmappable = true;
	gexit(SVM_VMGEXIT_UNSUPPORTED_EVENT, 0, 0);
	assert_int_equal(vmgexit(), 1);
	assert_int_equal(G->completes_set, 0);
}

static void test_malformed_written_back(void **state)
{
	(void)state;
	gexit(SVM_EXIT_RDTSCP, 0, 0);
	ghcb_set64(gh(), GHCB_OFF_RSI, 7);
	gh()[GHCB_OFF_GHCB_USAGE] = 1;
	assert_int_equal(vmgexit(), 1);
	assert_info(2, GHCB_ERR_INVALID_USAGE);
	assert_synced();
	/* HLT is no GHCB event */
	gh()[GHCB_OFF_GHCB_USAGE] = 0;
	gexit(SVM_EXIT_HLT, 0, 0);
	assert_int_equal(vmgexit(), 1);
	assert_info(2, GHCB_ERR_INVALID_EVENT);
	assert_synced();
}

static void test_ioio_out(void **state)
{
	(void)state;
	gexit(SVM_EXIT_IOIO, 0x3f8u << 16 | 1u << 4, 0); /* out dx, al */
	ghcb_set64(gh(), GHCB_OFF_RAX, 0x123456);
	assert_int_equal(vmgexit(), 0);
	assert_int_equal(G->run.exit_reason, KVM_EXIT_IO);
	assert_int_equal(G->run.io.direction, KVM_EXIT_IO_OUT);
	assert_int_equal(G->run.io.port, 0x3f8);
	assert_int_equal(G->run.io.size, 1);
	assert_int_equal(G->pio[0], 0x56);
	assert_int_equal(fake_complete(G), 1);
	assert_info(0, 0);
	assert_int_equal(get(GHCB_OFF_RAX), 0x123456);
	assert_synced();
	/* an OUT taken in the kernel resumes at once */
	gexit(SVM_EXIT_IOIO, (uint32_t)FAKE_OUT_EVENTFD_PORT << 16 | 1u << 4,
	      0);
	ghcb_set64(gh(), GHCB_OFF_RAX, 1);
	assert_int_equal(vmgexit(), 1);
	assert_int_equal(G->eventfd_outs, 1);
	/*
	 * A size field of 3: KVM passes it on to the VMM; vkvm refuses it,
	 * so KVM_RUN fails (EINVAL), and the GHCB is synced as it is
	 */
	gexit(SVM_EXIT_IOIO, 0x3f8u << 16 | 3u << 4, 0);
	ghcb_set64(gh(), GHCB_OFF_RAX, 1);
	assert_int_equal(vmgexit(), -EINVAL);
	assert_null(G->complete);
	assert_synced();
	/* no size: nothing to do */
	G->pio_calls = 0;
	gexit(SVM_EXIT_IOIO, 0x3f8u << 16, 0);
	ghcb_set64(gh(), GHCB_OFF_RAX, 1);
	assert_int_equal(vmgexit(), 1);
	assert_int_equal(G->pio_calls, 0);
}

static void test_ioio_in(void **state)
{
	(void)state;
	gexit(SVM_EXIT_IOIO, 0x70u << 16 | 2u << 4 | 1, 0); /* in ax, dx */
	ghcb_set64(gh(), GHCB_OFF_RAX, 0xffffffffffff1111ull);
	assert_int_equal(vmgexit(), 0);
	assert_int_equal(G->run.io.direction, KVM_EXIT_IO_IN);
	assert_int_equal(G->run.io.size, 2);
	/* the GHCB is written only when the guest is entered again */
	assert_int_equal(get(GHCB_OFF_SW_EXIT_INFO_1), 0);
	assert_false(valid(GHCB_OFF_RAX));
	G->pio[0] = 0xef;
	G->pio[1] = 0xbe;
	assert_int_equal(fake_complete(G), 1);
	assert_int_equal(get(GHCB_OFF_RAX), 0xffffffffffffbeefull); /* merged */
	assert_synced();
	/* 4 bytes zero-extend */
	gexit(SVM_EXIT_IOIO, 0x70u << 16 | 4u << 4 | 1, 0);
	ghcb_set64(gh(), GHCB_OFF_RAX, ~0ull);
	assert_int_equal(vmgexit(), 0);
	memcpy(G->pio, "\x01\x02\x03\x04", 4);
	assert_int_equal(fake_complete(G), 1);
	assert_int_equal(get(GHCB_OFF_RAX), 0x04030201);
}

static void test_string_outs_in_ghcb(void **state)
{
	(void)state;
	memcpy(gh() + 0x800, "abcdef", 6);
	gexit(SVM_EXIT_IOIO, 0x3f8u << 16 | 2u << 4 | 4, 3); /* rep outsw */
	ghcb_set64(gh(), GHCB_OFF_SW_SCRATCH, SB);
	assert_int_equal(vmgexit(), 0);
	assert_int_equal(G->run.io.count, 3);
	assert_memory_equal(G->pio, "abcdef", 6);
	assert_int_equal(fake_complete(G), 1);
	assert_null(G->complete);
	assert_synced();
}

/* 1500 dwords out of a v1 area outside the GHCB: 1024, then 476 */
static void test_string_outs_outside_v1(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < 6000; i++)
		G->mem[0x8000 + i] = (uint8_t)(i / 4096 + 1);
	gexit(SVM_EXIT_IOIO, 0x60u << 16 | 4u << 4 | 4, 1500);
	ghcb_set64(gh(), GHCB_OFF_SW_SCRATCH, 0x8000);
	assert_int_equal(vmgexit(), 0);
	assert_int_equal(G->run.io.count, 1024);
	assert_int_equal(G->pio[4095], 1);
	assert_int_equal(fake_complete(G), 0);
	assert_int_equal(G->run.io.count, 476);
	assert_int_equal(G->pio[0], 2);
	assert_int_equal(fake_complete(G), 1);
	assert_null(G->complete);
}

/* 3000 words through the 4 KiB data page: 2048, then 952 */
static void test_string_ins_outside_v1(void **state)
{
	(void)state;
	gexit(SVM_EXIT_IOIO, 0x60u << 16 | 2u << 4 | 4 | 1, 3000);
	ghcb_set64(gh(), GHCB_OFF_SW_SCRATCH, 0x8000);
	assert_int_equal(vmgexit(), 0);
	assert_int_equal(G->run.io.count, 2048);
	memset(G->pio, 0x11, sizeof(G->pio));
	assert_int_equal(fake_complete(G), 0);
	assert_int_equal(G->run.io.count, 952);
	/* the copy goes back to the guest only at the entry */
	assert_int_equal(G->mem[0x8000], 0);
	memset(G->pio, 0x22, sizeof(G->pio));
	assert_int_equal(fake_complete(G), 1);
	assert_int_equal(G->mem[0x8000], 0x11);
	assert_int_equal(G->mem[0x8000 + 4095], 0x11);
	assert_int_equal(G->mem[0x8000 + 4096], 0x22);
	assert_int_equal(G->mem[0x8000 + 5999], 0x22);
	assert_int_equal(G->mem[0x8000 + 6000], 0);
}

static void test_string_rows(void **state)
{
	(void)state;
	/* v2: a scratch area outside the GHCB is refused */
	gexit(SVM_EXIT_IOIO, 0x60u << 16 | 1u << 4 | 4, 4);
	ghcb_set64(gh(), GHCB_OFF_SW_SCRATCH, 0x8000);
	assert_int_equal(vmgexit(), 1);
	assert_info(2, GHCB_ERR_INVALID_SCRATCH_AREA);
	/* a count past INT_MAX, or count * size overflowing an int */
	gexit(SVM_EXIT_IOIO, 0x60u << 16 | 1u << 4 | 4, 0x80000000ull);
	ghcb_set64(gh(), GHCB_OFF_SW_SCRATCH, SB);
	assert_int_equal(vmgexit(), -EINVAL);
	gexit(SVM_EXIT_IOIO, 0x60u << 16 | 4u << 4 | 4, 0x40000000ull);
	ghcb_set64(gh(), GHCB_OFF_SW_SCRATCH, SB);
	assert_int_equal(vmgexit(), -EINVAL);
	/* a count of 0 */
	gexit(SVM_EXIT_IOIO, 0x60u << 16 | 4u << 4 | 4, 0);
	ghcb_set64(gh(), GHCB_OFF_SW_SCRATCH, SB);
	assert_int_equal(vmgexit(), 1);
	assert_info(0, 0);
}

static void test_mmio_read(void **state)
{
	(void)state;
	gexit(SVM_VMGEXIT_MMIO_READ, 0xfed00000, 4);
	ghcb_set64(gh(), GHCB_OFF_SW_SCRATCH, SB + 0x10);
	assert_int_equal(vmgexit(), 0);
	assert_int_equal(G->run.exit_reason, KVM_EXIT_MMIO);
	assert_int_equal(G->run.mmio.phys_addr, 0xfed00000);
	assert_int_equal(G->run.mmio.len, 4);
	assert_int_equal(G->run.mmio.is_write, 0);
	memcpy(G->run.mmio.data, "wxyz", 4);
	assert_int_equal(fake_complete(G), 1);
	assert_memory_equal(gh() + 0x810, "wxyz", 4);
	assert_synced();
	/* v2 and more than 8 bytes */
	gexit(SVM_VMGEXIT_MMIO_READ, 0xfed00000, 16);
	ghcb_set64(gh(), GHCB_OFF_SW_SCRATCH, SB);
	assert_int_equal(vmgexit(), 1);
	assert_info(2, GHCB_ERR_INVALID_INPUT);
	/* no length */
	gexit(SVM_VMGEXIT_MMIO_READ, 0xfed00000, 0);
	ghcb_set64(gh(), GHCB_OFF_SW_SCRATCH, SB);
	assert_int_equal(vmgexit(), 1);
	assert_info(0, 0);
}

/* v1: 16 bytes from outside the GHCB, as two 8-byte exits */
static void test_mmio_v1(void **state)
{
	(void)state;
	memcpy(G->mem + 0x9000, "0123456789abcdef", 16);
	gexit(SVM_VMGEXIT_MMIO_WRITE, 0xfed00000, 16);
	ghcb_set64(gh(), GHCB_OFF_SW_SCRATCH, 0x9000);
	assert_int_equal(vmgexit(), 0);
	assert_int_equal(G->run.mmio.len, 8);
	assert_int_equal(G->run.mmio.is_write, 1);
	assert_memory_equal(G->run.mmio.data, "01234567", 8);
	assert_int_equal(fake_complete(G), 0);
	assert_int_equal(G->run.mmio.phys_addr, 0xfed00008);
	assert_memory_equal(G->run.mmio.data, "89abcdef", 8);
	assert_int_equal(fake_complete(G), 1);
	/* the first 8 bytes taken by an ioeventfd, the rest to the VMM */
	gexit(SVM_VMGEXIT_MMIO_WRITE, FAKE_MMIO_EVENTFD, 12);
	ghcb_set64(gh(), GHCB_OFF_SW_SCRATCH, 0x9000);
	assert_int_equal(vmgexit(), 0);
	assert_int_equal(G->eventfd_mmio, 1);
	assert_int_equal(G->run.mmio.phys_addr, FAKE_MMIO_EVENTFD + 8);
	assert_int_equal(G->run.mmio.len, 4);
	assert_int_equal(fake_complete(G), 1);
	/* a 12-byte read: each piece lands at its place, copied back */
	gexit(SVM_VMGEXIT_MMIO_READ, 0xfed00000, 12);
	ghcb_set64(gh(), GHCB_OFF_SW_SCRATCH, 0xa000);
	assert_int_equal(vmgexit(), 0);
	memcpy(G->run.mmio.data, "ABCDEFGH", 8);
	assert_int_equal(fake_complete(G), 0);
	assert_int_equal(G->run.mmio.len, 4);
	assert_int_equal(G->run.mmio.is_write, 0);
	memcpy(G->run.mmio.data, "IJKL", 4);
	assert_int_equal(G->mem[0xa000], 0);
	assert_int_equal(fake_complete(G), 1);
	assert_memory_equal(G->mem + 0xa000, "ABCDEFGHIJKL", 12);
}

static void test_msr_exit(void **state)
{
	(void)state;
	G->msr_value = 0x1122334455667788ull;
	gexit(SVM_EXIT_MSR, 0, 0);
	ghcb_set64(gh(), GHCB_OFF_RCX, FAKE_MSR_OK);
	assert_int_equal(vmgexit(), 1);
	assert_info(0, 0);
	assert_int_equal(get(GHCB_OFF_RAX), 0x55667788);
	assert_int_equal(get(GHCB_OFF_RDX), 0x11223344);
	assert_int_equal(get(GHCB_OFF_RCX), FAKE_MSR_OK);
	assert_int_equal(get(GHCB_OFF_RBX), 0); /* not given: 0 */
	/* WRMSR takes EDX:EAX */
	gexit(SVM_EXIT_MSR, 1, 0);
	ghcb_set64(gh(), GHCB_OFF_RCX, FAKE_MSR_OK);
	ghcb_set64(gh(), GHCB_OFF_RAX, 0xffffffff00000001ull);
	ghcb_set64(gh(), GHCB_OFF_RDX, 0xffffffff00000002ull);
	assert_int_equal(vmgexit(), 1);
	assert_int_equal(G->msr_value, 0x0000000200000001ull);
	/* #GP, as svm_complete_emulated_msr() reports it, sign and all */
	gexit(SVM_EXIT_MSR, 1, 0);
	ghcb_set64(gh(), GHCB_OFF_RCX, 0x11);
	ghcb_set64(gh(), GHCB_OFF_RAX, 0);
	ghcb_set64(gh(), GHCB_OFF_RDX, 0);
	assert_int_equal(vmgexit(), 1);
	assert_info(1, 0xffffffff8000030dull);
	assert_synced();
}

static void test_cpuid_exit(void **state)
{
	(void)state;
	gexit(SVM_EXIT_CPUID, 0, 0);
	ghcb_set64(gh(), GHCB_OFF_RAX, 7);
	ghcb_set64(gh(), GHCB_OFF_RCX, 1);
	assert_int_equal(vmgexit(), 1);
	assert_int_equal(get(GHCB_OFF_RAX), 0xa0000007u);
	assert_int_equal(get(GHCB_OFF_RBX), 0xb0000007u);
	assert_int_equal(get(GHCB_OFF_RCX), 0xc0000001u);
	assert_int_equal(get(GHCB_OFF_RDX), 0xd0000007u);
	assert_synced();
}

static void test_vmmcall(void **state)
{
	(void)state;
	gexit(SVM_EXIT_VMMCALL, 0, 0);
	ghcb_set64(gh(), GHCB_OFF_RAX, 0x4242);
	gh()[GHCB_OFF_VALID_BITMAP + 3] |= 1u << 1; /* CPL 0 */
	assert_int_equal(vmgexit(), 1);
	assert_int_equal(get(GHCB_OFF_RAX), (uint64_t)-KVM_ENOSYS);
	gexit(SVM_EXIT_VMMCALL, 0, 0);
	ghcb_set64(gh(), GHCB_OFF_RAX, KVM_HC_VAPIC_POLL_IRQ);
	gh()[GHCB_OFF_VALID_BITMAP + 3] |= 1u << 1;
	gh()[GHCB_OFF_CPL] = 3;
	assert_int_equal(vmgexit(), 1);
	assert_int_equal(get(GHCB_OFF_RAX), (uint64_t)-KVM_EPERM);
	gexit(SVM_EXIT_VMMCALL, 0, 0);
	ghcb_set64(gh(), GHCB_OFF_RAX, KVM_HC_VAPIC_POLL_IRQ);
	gh()[GHCB_OFF_VALID_BITMAP + 3] |= 1u << 1;
	gh()[GHCB_OFF_CPL] = 0;
	assert_int_equal(vmgexit(), 1);
	assert_int_equal(get(GHCB_OFF_RAX), 0);
}

static void test_nae_events(void **state)
{
	(void)state;
	/* AP jump table: set, get, and a bad request */
	gexit(SVM_VMGEXIT_AP_JUMP_TABLE, 0, 0x7000);
	assert_int_equal(vmgexit(), 1);
	assert_info(0, 0);
	gexit(SVM_VMGEXIT_AP_JUMP_TABLE, 1, 0);
	assert_int_equal(vmgexit(), 1);
	assert_info(0, 0x7000);
	gexit(SVM_VMGEXIT_AP_JUMP_TABLE, 2, 0);
	assert_int_equal(vmgexit(), 1);
	assert_info(2, GHCB_ERR_INVALID_INPUT);
	gexit(SVM_VMGEXIT_HV_FEATURES, 0, 0);
	assert_int_equal(vmgexit(), 1);
	assert_info(0, GHCB_HV_FT_SUPPORTED);
	gexit(SVM_VMGEXIT_NMI_COMPLETE, 0, 0);
	assert_int_equal(vmgexit(), 1);
	gexit(SVM_VMGEXIT_UNSUPPORTED_EVENT, 1, 2);
	assert_int_equal(vmgexit(), -EINVAL);
	assert_synced();
	gexit(SVM_VMGEXIT_AP_HLT_LOOP, 0, 0);
	assert_int_equal(vmgexit(), 0);
	assert_int_equal(G->run.exit_reason, KVM_EXIT_AP_RESET_HOLD);
	assert_int_equal(fake_complete(G), 1);
	assert_synced();
	gexit(SVM_VMGEXIT_TERM_REQUEST, 1, 2);
	assert_int_equal(vmgexit(), 0);
	assert_term(GPA);
}

static void test_other_exits(void **state)
{
	(void)state;
	/* no handler for RDTSC in svm_exit_handlers[] */
	gexit(SVM_EXIT_RDTSC, 0, 0);
	assert_int_equal(vmgexit(), 0);
	assert_int_equal(G->run.exit_reason, KVM_EXIT_INTERNAL_ERROR);
	assert_int_equal(G->run.internal.suberror,
			 KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON);
	assert_int_equal(G->run.internal.ndata, 2);
	assert_int_equal(G->run.internal.data[0], SVM_EXIT_RDTSC);
	assert_int_equal(fake_complete(G), 1);
	gexit(SVM_EXIT_RDTSCP, 0, 0);
	assert_int_equal(vmgexit(), 1);
	assert_info(1, 0xffffffff80000306ull);
	gexit(SVM_EXIT_WRITE_DR7, 0, 0);
	ghcb_set64(gh(), GHCB_OFF_RAX, 0x400);
	assert_int_equal(vmgexit(), 1);
	assert_info(0, 0);
	gexit(SVM_EXIT_WBINVD, 0, 0);
	assert_int_equal(vmgexit(), 1);
	assert_info(0, 0);
}

static void test_attach(void **state)
{
	(void)state;
	assert_int_equal(shim_es_attach(3, 2, 51), 0);
	assert_true(fake_protected_fn == shim_vmgexit);
	assert_int_equal(shim_es_attach(-1, 2, 51), -EINVAL);
	/* the VM's state is what the MSR protocol reports */
	G->gmsr = GHCB_MSR_SEV_INFO_REQ;
	assert_int_equal(fake_protected_fn(fake_protected_opaque, G), 1);
	assert_int_equal(G->gmsr, 0x0002000133000001ull);
	/* vkvm hands the state back when the VM goes */
	assert_non_null(fake_protected_release);
	fake_protected_release(fake_protected_opaque);
}

#define H(t) cmocka_unit_test_setup_teardown(t, hsetup, hteardown)
#define H1(t) cmocka_unit_test_setup_teardown(t, hsetup_v1, hteardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync_from),
		cmocka_unit_test(test_validate_usage_first),
		cmocka_unit_test(test_validate_missing_exit_info),
		cmocka_unit_test(test_validate_rows),
		cmocka_unit_test(test_validate_mmio_v2_len),
		cmocka_unit_test(test_scratch_rules),
		H(test_msr_sev_info),
		H(test_msr_cpuid),
		H(test_msr_hv_ft),
		H(test_msr_term_and_snp),
		H(test_msr_unknown_and_hold),
		H(test_no_ghcb),
		H(test_malformed_written_back),
		H(test_ioio_out),
		H(test_ioio_in),
		H(test_string_outs_in_ghcb),
		H1(test_string_ins_outside_v1),
		H1(test_string_outs_outside_v1),
		H(test_string_rows),
		H(test_mmio_read),
		H1(test_mmio_v1),
		H(test_msr_exit),
		H(test_cpuid_exit),
		H(test_vmmcall),
		H(test_nae_events),
		H(test_other_exits),
		H(test_attach),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
