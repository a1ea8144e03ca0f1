// SPDX-License-Identifier: MIT
/*
 * Guest commands: ASIDs, launch, measurement, secrets, attestation, debug
 * and migration between two platforms (firmware spec §6–§9, §12).
 */
#include "psp_fixture.h"

struct gx {
	struct fx a, b;
};

static int setup_plain(void **state)
{
	struct gx *g = calloc(1, sizeof(*g));

	fx_open(&g->a, true);
	fx_init(g->a.psp, true);
	*state = g;
	return 0;
}

static int setup_xts(void **state)
{
	struct gx *g = calloc(1, sizeof(*g));

	psp_config_default(&g->a.cfg);
	g->a.cfg.mem_mode = PSP_MEM_XTS;
	fx_open(&g->a, true);
	fx_init(g->a.psp, true);
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	struct gx *g = *state;

	fx_close(&g->a, true);
	if (g->b.psp)
		fx_close(&g->b, true);
	free(g);
	return 0;
}

#define SEV_ASID 100 /* first plain-SEV ASID of the default layout */
#define ES_ASID 1

static void test_activate_rules(void **state)
{
	struct psp *psp = ((struct gx *)*state)->a.psp;
	uint32_t h = fx_launch(psp, 0, 0), h2 = fx_launch(psp, 0, 0);
	uint32_t hes = fx_launch(psp, SEV_POLICY_ES, 0);
	struct psp_activate a = { 999, SEV_ASID };
	struct psp_guest_status gs = { h };

	assert_int_equal(fx_cmd(psp, PSP_CMD_ACTIVATE, &a),
			 SEV_RET_INVALID_GUEST);
	a.handle = h;
	a.asid = 0;
	assert_int_equal(fx_cmd(psp, PSP_CMD_ACTIVATE, &a),
			 SEV_RET_INVALID_ASID);
	a.asid = 1007;
	assert_int_equal(fx_cmd(psp, PSP_CMD_ACTIVATE, &a),
			 SEV_RET_INVALID_ASID);
	/* §8.1: a plain SEV guest may not take an SEV-ES ASID … */
	a.asid = ES_ASID;
	assert_int_equal(fx_cmd(psp, PSP_CMD_ACTIVATE, &a),
			 SEV_RET_INVALID_ASID);
	/* … nor an SEV-ES guest a plain one. */
	a.handle = hes;
	a.asid = SEV_ASID;
	assert_int_equal(fx_cmd(psp, PSP_CMD_ACTIVATE, &a),
			 SEV_RET_INVALID_ASID);
	a.asid = 99;
	assert_int_equal(fx_cmd(psp, PSP_CMD_ACTIVATE, &a), SEV_RET_SUCCESS);
	a.handle = h;
	a.asid = 1006;
	assert_int_equal(fx_cmd(psp, PSP_CMD_ACTIVATE, &a), SEV_RET_SUCCESS);
	assert_int_equal(fx_cmd(psp, PSP_CMD_GUEST_STATUS, &gs), 0);
	assert_int_equal(gs.asid, 1006);
	assert_int_equal(gs.state, GSTATE_LUPDATE);
	/* Bound to another guest. */
	a.handle = h2;
	assert_int_equal(fx_cmd(psp, PSP_CMD_ACTIVATE, &a),
			 SEV_RET_ASID_OWNED);
	/* Already active under another ASID. */
	a.handle = h;
	a.asid = 500;
	assert_int_equal(fx_cmd(psp, PSP_CMD_ACTIVATE, &a), SEV_RET_ACTIVE);
}

/* §8.3–§8.5: DEACTIVATE dirties the ASID; WBINVD then DF_FLUSH frees it. */
static void test_wbinvd_df_flush(void **state)
{
	struct psp *psp = ((struct gx *)*state)->a.psp;
	uint32_t h = fx_launch(psp, 0, SEV_ASID), h2 = fx_launch(psp, 0, 0);
	struct psp_handle d = { h };
	struct psp_activate a = { h2, SEV_ASID };

	assert_int_equal(psp_dirty_asids(psp), 0);
	assert_int_equal(fx_cmd(psp, PSP_CMD_DECOMMISSION, &d), SEV_RET_ACTIVE);
	assert_int_equal(fx_cmd(psp, PSP_CMD_DEACTIVATE, &d), SEV_RET_SUCCESS);
	assert_int_equal(fx_cmd(psp, PSP_CMD_DEACTIVATE, &d),
			 SEV_RET_INACTIVE);
	assert_int_equal(psp_dirty_asids(psp), 1);
	assert_int_equal(fx_cmd(psp, PSP_CMD_ACTIVATE, &a),
			 SEV_RET_DFFLUSH_REQUIRED);
	assert_int_equal(fx_cmd(psp, PSP_CMD_DF_FLUSH, NULL),
			 SEV_RET_WBINVD_REQUIRED);
	psp_wbinvd(psp);
	/* A DEACTIVATE between WBINVD and DF_FLUSH clears the indicator. */
	{
		uint32_t h3 = fx_launch(psp, 0, SEV_ASID + 1);
		struct psp_handle d3 = { h3 };

		assert_int_equal(fx_cmd(psp, PSP_CMD_DEACTIVATE, &d3), 0);
		assert_int_equal(fx_cmd(psp, PSP_CMD_DF_FLUSH, NULL),
				 SEV_RET_WBINVD_REQUIRED);
		psp_wbinvd(psp);
	}
	assert_int_equal(fx_cmd(psp, PSP_CMD_DF_FLUSH, NULL), SEV_RET_SUCCESS);
	assert_int_equal(psp_dirty_asids(psp), 0);
	assert_int_equal(fx_cmd(psp, PSP_CMD_ACTIVATE, &a), SEV_RET_SUCCESS);
	assert_int_equal(fx_cmd(psp, PSP_CMD_DECOMMISSION, &d), SEV_RET_SUCCESS);
	assert_int_equal(fx_cmd(psp, PSP_CMD_GUEST_STATUS, &d),
			 SEV_RET_INVALID_GUEST);
}

static void test_init_dirties_all(void **state)
{
	struct psp *psp = ((struct gx *)*state)->a.psp;
	struct psp_init init = { 0 };
	struct psp_launch_start ls = { 0 };
	struct psp_activate a = { 0, SEV_ASID };

	assert_int_equal(fx_cmd(psp, PSP_CMD_SHUTDOWN, NULL), 0);
	assert_int_equal(fx_cmd(psp, PSP_CMD_INIT, &init), 0);
	assert_int_equal(psp_dirty_asids(psp), 1006);
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_START, &ls), 0);
	a.handle = ls.handle;
	assert_int_equal(fx_cmd(psp, PSP_CMD_ACTIVATE, &a),
			 SEV_RET_DFFLUSH_REQUIRED);
}

static void test_resource_limit(void **state)
{
	struct gx *g = *state;
	struct psp_launch_start ls = { 0 };

	fx_close(&g->a, true);
	psp_config_default(&g->a.cfg);
	g->a.cfg.max_guests = 2;
	fx_open(&g->a, true);
	fx_init(g->a.psp, false);
	fx_launch(g->a.psp, 0, 0);
	fx_launch(g->a.psp, 0, 0);
	assert_int_equal(fx_cmd(g->a.psp, PSP_CMD_LAUNCH_START, &ls),
			 SEV_RET_RESOURCE_LIMIT);
	assert_int_equal(psp_guest_count(g->a.psp), 2);
}

static void test_launch_start_checks(void **state)
{
	struct psp *psp = ((struct gx *)*state)->a.psp;
	struct psp_launch_start ls = { 0 };
	uint32_t h = fx_launch(psp, 0, 0);
	uint32_t noks = fx_launch(psp, SEV_POLICY_NOKS, 0);

	/* Key sharing: unknown handle, policy mismatch, NOKS (§9.19). */
	ls.handle = 77;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_START, &ls),
			 SEV_RET_INVALID_GUEST);
	ls.handle = h;
	ls.policy = SEV_POLICY_NODBG;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_START, &ls),
			 SEV_RET_POLICY_FAILURE);
	ls.handle = noks;
	ls.policy = SEV_POLICY_NOKS;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_START, &ls),
			 SEV_RET_POLICY_FAILURE);
	/* Policy needs a newer firmware API than 1.55. */
	ls.handle = 0;
	ls.policy = 1u << 16 | 56u << 24;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_START, &ls),
			 SEV_RET_POLICY_FAILURE);
	ls.policy = 1u << 16 | 55u << 24;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_START, &ls), 0);
	/* A session with the wrong lengths. */
	ls.handle = 0;
	ls.policy = 0;
	ls.dh_cert_paddr = (uintptr_t)&ls;
	ls.dh_cert_len = 100;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_START, &ls),
			 SEV_RET_INVALID_LEN);
	assert_int_equal(psp_guest_count(psp), 3);
}

static void test_es_needs_es_init(void **state)
{
	struct psp *psp = ((struct gx *)*state)->a.psp;
	struct psp_launch_start ls = { .policy = SEV_POLICY_ES };

	assert_int_equal(fx_cmd(psp, PSP_CMD_SHUTDOWN, NULL), 0);
	fx_init(psp, false);
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_START, &ls),
			 SEV_RET_INAVLID_CONFIG);
	assert_int_equal(psp_guest_count(psp), 0);
}

/* One SHA-256 stream over every region and VMSA, in order (§12.5). */
static void test_launch_digest(void **state)
{
	struct psp *psp = ((struct gx *)*state)->a.psp;
	static uint8_t mem[3 * 4096] __attribute__((aligned(4096)));
	uint8_t expect[32];
	uint32_t h = fx_launch(psp, SEV_POLICY_ES, ES_ASID);
	struct psp_launch_update u = { h, 0, (uintptr_t)mem, 4096 };
	struct psp_guest_info info;
	int i;

	for (i = 0; i < (int)sizeof(mem); i++)
		mem[i] = (uint8_t)(i * 13 + 1);
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_UPDATE_DATA, &u), 0);
	u.paddr = (uintptr_t)mem + 4096;
	u.length = 32;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_UPDATE_DATA, &u), 0);
	u.paddr = (uintptr_t)mem + 8192;
	u.length = 4096;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_UPDATE_VMSA, &u), 0);
	{
		uint8_t cat[4096 + 32 + 4096];

		memcpy(cat, mem, 4096 + 32);
		memcpy(cat + 4096 + 32, mem + 8192, 4096);
		assert_int_equal(crypto_sha256(cat, sizeof(cat), expect), 0);
	}
	assert_int_equal(psp_guest_info(psp, h, &info), 0);
	assert_memory_equal(info.digest, expect, 32);
	/* PLAIN mode: memory is left as the guest will run it. */
	assert_int_equal(mem[5], (uint8_t)(5 * 13 + 1));
}

static void test_update_errors(void **state)
{
	struct psp *psp = ((struct gx *)*state)->a.psp;
	static uint8_t mem[8192] __attribute__((aligned(4096)));
	uint32_t h = fx_launch(psp, 0, 0);
	struct psp_launch_update u = { h, 0, (uintptr_t)mem, 4096 };
	struct psp_activate a = { h, SEV_ASID };
	struct psp_handle fin = { h };

	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_UPDATE_DATA, &u),
			 SEV_RET_INACTIVE);
	assert_int_equal(fx_cmd(psp, PSP_CMD_ACTIVATE, &a), 0);
	u.length = 17;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_UPDATE_DATA, &u),
			 SEV_RET_INVALID_LEN);
	u.length = 0;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_UPDATE_DATA, &u),
			 SEV_RET_INVALID_LEN);
	u.length = 16;
	u.paddr += 8;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_UPDATE_DATA, &u),
			 SEV_RET_INVALID_ADDRESS);
	u.paddr = 0;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_UPDATE_DATA, &u),
			 SEV_RET_INVALID_ADDRESS);
	u.paddr = (uintptr_t)mem;
	u.length = 4096;
	/* VMSA needs an SEV-ES policy. */
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_UPDATE_VMSA, &u),
			 SEV_RET_POLICY_FAILURE);
	/* FINISH and SECRET need LSECRET. */
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_FINISH, &fin),
			 SEV_RET_INVALID_GUEST_STATE);
	u.length = 0;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_MEASURE, &u),
			 SEV_RET_INVALID_LEN);
	assert_int_equal(u.length, SEV_MEASURE_LEN);
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_MEASURE, &u), 0);
	u.length = 4096;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_UPDATE_DATA, &u),
			 SEV_RET_INVALID_GUEST_STATE);
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_MEASURE, &u),
			 SEV_RET_INVALID_GUEST_STATE);
}

static void test_es_vmsa_rules(void **state)
{
	struct psp *psp = ((struct gx *)*state)->a.psp;
	static uint8_t mem[8192] __attribute__((aligned(4096)));
	uint32_t h = fx_launch(psp, SEV_POLICY_ES, ES_ASID);
	struct psp_launch_update u = { h, 0, (uintptr_t)mem, 2048 };

	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_UPDATE_VMSA, &u),
			 SEV_RET_INVALID_LEN);
	u.length = 4096;
	u.paddr += 16;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_UPDATE_VMSA, &u),
			 SEV_RET_INVALID_ADDRESS);
}

/* A full owner flow: session, measure, verify, secret, finish, attest. */
static void test_owner_flow(void **state)
{
	struct gx *gx = *state;
	struct psp *psp = gx->a.psp;
	static uint8_t mem[4096] __attribute__((aligned(4096)));
	static uint8_t secret_dst[64] __attribute__((aligned(16)));
	uint8_t out[SEV_MEASURE_LEN], m[32], ld[32], trans[64], secret[64];
	uint8_t rep[SEV_ATTESTATION_LEN];
	struct sev_cert pdh, chain[3];
	struct fx_owner o;
	struct psp_platform_status st;
	struct psp_launch_start ls = { 0 };
	struct psp_activate act;
	struct psp_launch_update u;
	struct sev_packet_hdr hdr = { 0 };
	struct psp_packet p = { 0 };
	struct psp_handle fin;
	struct psp_attestation at = { 0 };
	uint32_t policy = 0;
	EVP_PKEY *pek;

	fx_export(psp, &pdh, chain);
	fx_owner_session(&o, &pdh, policy);
	ls.policy = policy;
	ls.dh_cert_paddr = (uintptr_t)&o.godh_cert;
	ls.dh_cert_len = SEV_CERT_LEN;
	ls.session_paddr = (uintptr_t)&o.session;
	ls.session_len = SEV_SESSION_LEN;
	/* A hypervisor that changes the policy is caught by POLICY_MAC. */
	ls.policy = SEV_POLICY_NODBG;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_START, &ls),
			 SEV_RET_BAD_MEASUREMENT);
	ls.policy = policy;
	o.session.wrap_mac[0] ^= 1;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_START, &ls),
			 SEV_RET_BAD_MEASUREMENT);
	o.session.wrap_mac[0] ^= 1;
	o.godh_cert.pubkey.ecc.curve = 1;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_START, &ls),
			 SEV_RET_INVALID_CERTIFICATE);
	o.godh_cert.pubkey.ecc.curve = SEV_CURVE_P384;
	assert_int_equal(psp_guest_count(psp), 0);
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_START, &ls), 0);
	act.handle = ls.handle;
	act.asid = SEV_ASID;
	assert_int_equal(fx_cmd(psp, PSP_CMD_ACTIVATE, &act), 0);

	memset(mem, 0x5a, sizeof(mem));
	assert_int_equal(crypto_sha256(mem, sizeof(mem), ld), 0);
	u = (struct psp_launch_update){ ls.handle, 0, (uintptr_t)mem, 4096 };
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_UPDATE_DATA, &u), 0);
	u = (struct psp_launch_update){ ls.handle, 0, (uintptr_t)out, sizeof(out) };
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_MEASURE, &u), 0);

	/* The owner recomputes the measurement from public inputs. */
	assert_int_equal(fx_cmd(psp, PSP_CMD_PLATFORM_STATUS, &st), 0);
	assert_int_equal(sev_measure(o.tk.tik, st.api_major, st.api_minor,
				     st.build, policy, ld, out + 32, m), 0);
	assert_memory_equal(m, out, 32);

	/* Secret: owner encrypts under TEK and MACs with TIK and MEASURE. */
	memset(secret, 0, sizeof(secret));
	strcpy((char *)secret, "the guest owner's disk key");
	assert_int_equal(crypto_random(hdr.iv, 16), 0);
	assert_int_equal(crypto_aes128_ctr(o.tk.tek, hdr.iv, secret, trans,
					   sizeof(trans)), 0);
	assert_int_equal(sev_packet_mac(o.tk.tik, SEV_MAC_SECRET, &hdr, 64,
					trans, 64, out, hdr.mac), 0);
	p.handle = ls.handle;
	p.hdr_paddr = (uintptr_t)&hdr;
	p.hdr_len = SEV_PACKET_HDR_LEN;
	p.guest_paddr = (uintptr_t)secret_dst;
	p.guest_len = 64;
	p.trans_paddr = (uintptr_t)trans;
	p.trans_len = 64;
	p.trans_len = 48;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_SECRET, &p),
			 SEV_RET_INVALID_LEN);
	p.trans_len = 64;
	p.hdr_len = 0x30;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_SECRET, &p),
			 SEV_RET_INVALID_LEN);
	p.hdr_len = SEV_PACKET_HDR_LEN;
	p.guest_paddr += 8;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_SECRET, &p),
			 SEV_RET_INVALID_ADDRESS);
	p.guest_paddr -= 8;
	hdr.flags = 1;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_SECRET, &p),
			 SEV_RET_UNSUPPORTED);
	hdr.flags = 0;
	trans[3] ^= 1;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_SECRET, &p),
			 SEV_RET_BAD_MEASUREMENT);
	trans[3] ^= 1;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_SECRET, &p), 0);
	{
		uint8_t back[64];
		struct psp_dbg d = { ls.handle, 0, (uintptr_t)secret_dst,
				     (uintptr_t)back, 64 };

		assert_int_equal(fx_cmd(psp, PSP_CMD_DBG_DECRYPT, &d), 0);
		assert_memory_equal(back, secret, 64);
	}

	/* ATTESTATION: length query, then a report signed by the PEK. */
	at.handle = ls.handle;
	at.paddr = (uintptr_t)rep;
	assert_int_equal(fx_cmd(psp, PSP_CMD_ATTESTATION, &at),
			 SEV_RET_INVALID_LEN);
	assert_int_equal(at.length, SEV_ATTESTATION_LEN);
	memset(at.mnonce, 0x33, 16);
	assert_int_equal(fx_cmd(psp, PSP_CMD_ATTESTATION, &at), 0);
	assert_memory_equal(rep, at.mnonce, 16);
	assert_memory_equal(rep + 16, ld, 32);
	assert_int_equal(sev_cert_pubkey(&chain[0], &pek), 0);
	assert_int_equal(crypto_p384_verify(pek, rep, 0x34, rep + 0x40,
					    rep + 0x40 + 72), 0);
	rep[0x20] ^= 1;
	assert_int_equal(crypto_p384_verify(pek, rep, 0x34, rep + 0x40,
					    rep + 0x40 + 72), -EBADMSG);
	EVP_PKEY_free(pek);

	fin.handle = ls.handle;
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_FINISH, &fin), 0);
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_SECRET, &p),
			 SEV_RET_INVALID_GUEST_STATE);
	{
		struct psp_guest_status gs = { ls.handle };

		assert_int_equal(fx_cmd(psp, PSP_CMD_GUEST_STATUS, &gs), 0);
		assert_int_equal(gs.state, GSTATE_RUNNING);
		assert_int_equal(gs.policy, policy);
		assert_int_equal(gs.asid, SEV_ASID);
	}
	/* Attestation still reports the launch digest after FINISH. */
	assert_int_equal(fx_cmd(psp, PSP_CMD_ATTESTATION, &at), 0);
	fx_owner_free(&o);
}

/* XTS mode: memory holds ciphertext under the VEK with an address tweak. */
static void test_memory_engine(void **state)
{
	struct psp *psp = ((struct gx *)*state)->a.psp;
	static uint8_t mem[8192] __attribute__((aligned(4096)));
	uint8_t plain[4096], back[4096];
	uint32_t h = fx_launch(psp, 0, SEV_ASID);
	struct psp_launch_update u = { h, 0, (uintptr_t)mem, 4096 };
	struct psp_dbg d = { h, 0, (uintptr_t)mem, (uintptr_t)back, 4096 };
	uint32_t shared;

	memset(plain, 0x11, sizeof(plain));
	memcpy(mem, plain, 4096);
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_UPDATE_DATA, &u), 0);
	assert_memory_not_equal(mem, plain, 4096);
	/* Same plaintext, different blocks: different ciphertext. */
	assert_memory_not_equal(mem, mem + 16, 16);
	assert_int_equal(fx_cmd(psp, PSP_CMD_DBG_DECRYPT, &d), 0);
	assert_memory_equal(back, plain, 4096);
	/* Ciphertext moved by the host does not decrypt. */
	memcpy(mem + 4096, mem, 4096);
	d.src_paddr = (uintptr_t)mem + 4096;
	assert_int_equal(fx_cmd(psp, PSP_CMD_DBG_DECRYPT, &d), 0);
	assert_memory_not_equal(back, plain, 4096);
	/* COPY moves it properly (re-encrypts for the new address). */
	{
		struct psp_copy c = { h, 4096, (uintptr_t)mem,
				      (uintptr_t)mem + 4096 };

		assert_int_equal(fx_cmd(psp, PSP_CMD_COPY, &c), 0);
		assert_int_equal(fx_cmd(psp, PSP_CMD_DBG_DECRYPT, &d), 0);
		assert_memory_equal(back, plain, 4096);
	}
	/* DBG_ENCRYPT writes ciphertext that DBG_DECRYPT reads back. */
	memset(plain, 0x77, 64);
	d = (struct psp_dbg){ h, 0, (uintptr_t)plain, (uintptr_t)mem + 64, 64 };
	assert_int_equal(fx_cmd(psp, PSP_CMD_DBG_ENCRYPT, &d), 0);
	assert_memory_not_equal(mem + 64, plain, 64);
	d = (struct psp_dbg){ h, 0, (uintptr_t)mem + 64, (uintptr_t)back, 64 };
	assert_int_equal(fx_cmd(psp, PSP_CMD_DBG_DECRYPT, &d), 0);
	assert_memory_equal(back, plain, 64);
	/* Key sharing: a guest started from h reads h's memory. */
	{
		struct psp_launch_start ls = { h, 0 };
		struct psp_activate a;

		assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_START, &ls), 0);
		shared = ls.handle;
		a.handle = shared;
		a.asid = SEV_ASID + 1;
		assert_int_equal(fx_cmd(psp, PSP_CMD_ACTIVATE, &a), 0);
		d.handle = shared;
		memset(back, 0, 64);
		assert_int_equal(fx_cmd(psp, PSP_CMD_DBG_DECRYPT, &d), 0);
		assert_memory_equal(back, plain, 64);
	}
	/* An unrelated guest does not. */
	d.handle = fx_launch(psp, 0, SEV_ASID + 2);
	assert_int_equal(fx_cmd(psp, PSP_CMD_DBG_DECRYPT, &d), 0);
	assert_memory_not_equal(back, plain, 64);
}

/*
 * psp_mem_engine(): the memory controller's key for an ASID (strict
 * memory, issue 11) is the VEK ACTIVATE bound to it -- the same bytes
 * LAUNCH_UPDATE_DATA and DBG_DECRYPT use, the address as the tweak.
 */
static void test_mem_engine_by_asid(void **state)
{
	struct psp *psp = ((struct gx *)*state)->a.psp;
	static uint8_t mem[4096] __attribute__((aligned(4096)));
	uint8_t plain[4096], ct[4096], back[4096];
	uint32_t h = fx_launch(psp, 0, SEV_ASID);
	struct psp_launch_update u = { h, 0, (uintptr_t)mem, 4096 };
	struct psp_handle da = { h };

	memset(plain, 0x5c, sizeof(plain));
	memcpy(mem, plain, 4096);
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_UPDATE_DATA, &u), 0);
	assert_int_equal(psp_mem_engine(psp, SEV_ASID, (uintptr_t)mem, plain,
					ct, 4096, true), 0);
	assert_memory_equal(ct, mem, 4096);
	assert_int_equal(psp_mem_engine(psp, SEV_ASID, (uintptr_t)mem, mem,
					back, 4096, false), 0);
	assert_memory_equal(back, plain, 4096);
	/* the C-bit in the address is not part of the tweak */
	assert_int_equal(psp_mem_engine(psp, SEV_ASID,
					(uintptr_t)mem | 1ull << 51, mem,
					back, 4096, false), 0);
	assert_memory_equal(back, plain, 4096);
	/* another address: another tweak */
	assert_int_equal(psp_mem_engine(psp, SEV_ASID, (uintptr_t)mem + 4096,
					mem, back, 4096, false), 0);
	assert_memory_not_equal(back, plain, 4096);
	assert_int_equal(psp_mem_engine(psp, SEV_ASID, (uintptr_t)mem, mem,
					back, 15, false), -EINVAL);
	assert_int_equal(psp_mem_engine(psp, SEV_ASID + 1, (uintptr_t)mem,
					mem, back, 16, false), -ENOKEY);
	assert_int_equal(psp_mem_engine(psp, 0, (uintptr_t)mem, mem, back,
					16, false), -ENOKEY);
	assert_int_equal(fx_cmd(psp, PSP_CMD_DEACTIVATE, &da), 0);
	assert_int_equal(psp_mem_engine(psp, SEV_ASID, (uintptr_t)mem, mem,
					back, 16, false), -ENOKEY);
}

/* In plaintext mode there is no engine to ask. */
static void test_mem_engine_plain(void **state)
{
	struct psp *psp = ((struct gx *)*state)->a.psp;
	uint8_t b[16] = { 0 };

	fx_launch(psp, 0, SEV_ASID);
	assert_int_equal(psp_mem_engine(psp, SEV_ASID, 0x1000, b, b, 16, true),
			 -EINVAL);
}

static void test_dbg_rules(void **state)
{
	struct psp *psp = ((struct gx *)*state)->a.psp;
	static uint8_t mem[4096] __attribute__((aligned(4096)));
	uint8_t back[64];
	uint32_t nodbg = fx_launch(psp, SEV_POLICY_NODBG, SEV_ASID);
	uint32_t h = fx_launch(psp, 0, 0);
	struct psp_dbg d = { nodbg, 0, (uintptr_t)mem, (uintptr_t)back, 64 };
	struct psp_activate a = { h, SEV_ASID + 1 };

	assert_int_equal(fx_cmd(psp, PSP_CMD_DBG_DECRYPT, &d),
			 SEV_RET_POLICY_FAILURE);
	assert_int_equal(fx_cmd(psp, PSP_CMD_DBG_ENCRYPT, &d),
			 SEV_RET_POLICY_FAILURE);
	d.handle = h;
	assert_int_equal(fx_cmd(psp, PSP_CMD_DBG_DECRYPT, &d),
			 SEV_RET_INACTIVE);
	assert_int_equal(fx_cmd(psp, PSP_CMD_ACTIVATE, &a), 0);
	d.length = 24;
	assert_int_equal(fx_cmd(psp, PSP_CMD_DBG_DECRYPT, &d),
			 SEV_RET_INVALID_LEN);
	d.length = 0;
	assert_int_equal(fx_cmd(psp, PSP_CMD_DBG_DECRYPT, &d),
			 SEV_RET_INVALID_LEN);
	d.length = 32;
	d.dst_paddr += 1;
	assert_int_equal(fx_cmd(psp, PSP_CMD_DBG_DECRYPT, &d),
			 SEV_RET_INVALID_ADDRESS);
	d.dst_paddr = 0;
	assert_int_equal(fx_cmd(psp, PSP_CMD_DBG_DECRYPT, &d),
			 SEV_RET_INVALID_ADDRESS);
	d.handle = 12345;
	assert_int_equal(fx_cmd(psp, PSP_CMD_DBG_DECRYPT, &d),
			 SEV_RET_INVALID_GUEST);
}

/* Two platforms under one root; a is the source, b the target. */
static struct psp *open_target(struct gx *g, bool same_root)
{
	psp_config_default(&g->b.cfg);
	g->b.cfg.mem_mode = g->a.cfg.mem_mode;
	if (!same_root) {
		/* An older platform with a root of its own. */
		fx_mkdtemp(g->b.dir, sizeof(g->b.dir));
		g->b.cfg.rsa_bits = 2048;
		g->b.cfg.api_minor = 50;
	}
	fx_open(&g->b, false);
	fx_init(g->b.psp, true);
	return g->b.psp;
}

static void send_start_buf(struct psp_send_start *s, uint32_t handle,
			   struct sev_cert *pdh, struct sev_cert *chain,
			   uint8_t *amd, uint32_t amd_len,
			   struct sev_session *session)
{
	*s = (struct psp_send_start){ 0 };
	s->handle = handle;
	s->pdh_cert_paddr = (uintptr_t)pdh;
	s->pdh_cert_len = SEV_CERT_LEN;
	s->plat_certs_paddr = (uintptr_t)chain;
	s->plat_certs_len = SEV_CHAIN_LEN;
	s->amd_certs_paddr = (uintptr_t)amd;
	s->amd_certs_len = amd_len;
	s->session_paddr = (uintptr_t)session;
	s->session_len = SEV_SESSION_LEN;
}

static uint32_t amd_chain(struct psp *psp, uint8_t *buf)
{
	size_t ask = 2048, ark = 2048;

	assert_int_equal(psp_get_ask(psp, buf, &ask), 0);
	assert_int_equal(psp_get_ark(psp, buf + ask, &ark), 0);
	return (uint32_t)(ask + ark);
}

/* Launch a running guest on a with memory filled with a pattern. */
static uint32_t running_guest(struct psp *psp, uint32_t policy, uint8_t *mem,
			      size_t len)
{
	static uint32_t next_asid = SEV_ASID;
	uint32_t h = fx_launch(psp, policy, next_asid++);
	struct psp_launch_update u = { h, 0, (uintptr_t)mem, (uint32_t)len };
	uint8_t out[SEV_MEASURE_LEN];
	struct psp_handle fin = { h };
	size_t i;

	for (i = 0; i < len; i++)
		mem[i] = (uint8_t)(i ^ (i >> 8));
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_UPDATE_DATA, &u), 0);
	u.paddr = (uintptr_t)out;
	u.length = sizeof(out);
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_MEASURE, &u), 0);
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_FINISH, &fin), 0);
	return h;
}

static void test_send_receive(void **state)
{
	struct gx *g = *state;
	struct psp *a = g->a.psp, *b = open_target(g, true);
	static uint8_t src[2 * 4096] __attribute__((aligned(4096)));
	static uint8_t dst[2 * 4096] __attribute__((aligned(4096)));
	uint8_t trans[4096], amd[4096], plain[4096];
	struct sev_cert bpdh, bchain[3], apdh, achain[3];
	struct sev_session session;
	struct sev_packet_hdr hdr;
	struct psp_send_start s;
	struct psp_packet p;
	struct psp_launch_start rs = { 0 };
	struct psp_activate act;
	struct psp_handle h;
	struct psp_dbg d;
	uint32_t amd_len = amd_chain(b, amd);
	uint32_t guest = running_guest(a, SEV_POLICY_SEV | SEV_POLICY_DOMAIN,
				       src, sizeof(src));
	int i;

	fx_export(b, &bpdh, bchain);
	fx_export(a, &apdh, achain);
	/* KVM's query: all-zero buffer but the handle. */
	memset(&s, 0, sizeof(s));
	s.handle = guest;
	assert_int_equal(fx_cmd(a, PSP_CMD_SEND_START, &s),
			 SEV_RET_INVALID_LEN);
	assert_int_equal(s.session_len, SEV_SESSION_LEN);
	/* DOMAIN: b's OCA is not a's. */
	send_start_buf(&s, guest, &bpdh, bchain, amd, amd_len, &session);
	assert_int_equal(fx_cmd(a, PSP_CMD_SEND_START, &s),
			 SEV_RET_POLICY_FAILURE);
	{
		struct psp_guest_status gs = { guest };

		assert_int_equal(fx_cmd(a, PSP_CMD_GUEST_STATUS, &gs), 0);
		assert_int_equal(gs.state, GSTATE_RUNNING);
	}
	guest = running_guest(a, SEV_POLICY_SEV, src, sizeof(src));
	/* A tampered PDH fails the PEK signature. */
	bpdh.pubkey.ecc.qx[0] ^= 1;
	send_start_buf(&s, guest, &bpdh, bchain, amd, amd_len, &session);
	assert_int_equal(fx_cmd(a, PSP_CMD_SEND_START, &s),
			 SEV_RET_BAD_SIGNATURE);
	bpdh.pubkey.ecc.qx[0] ^= 1;
	s.plat_certs_len = 0x800;
	assert_int_equal(fx_cmd(a, PSP_CMD_SEND_START, &s),
			 SEV_RET_INVALID_LEN);
	s.plat_certs_len = SEV_CHAIN_LEN;
	assert_int_equal(fx_cmd(a, PSP_CMD_SEND_START, &s), 0);
	assert_int_equal(s.policy, SEV_POLICY_SEV);
	assert_int_equal(s.session_len, SEV_SESSION_LEN);
	assert_int_equal(fx_cmd(a, PSP_CMD_SEND_START, &s),
			 SEV_RET_INVALID_GUEST_STATE);

	/* b: RECEIVE_START with a's PDH and the session. */
	rs.policy = SEV_POLICY_SEV;
	rs.dh_cert_paddr = (uintptr_t)&apdh;
	rs.dh_cert_len = SEV_CERT_LEN;
	rs.session_paddr = (uintptr_t)&session;
	rs.session_len = SEV_SESSION_LEN;
	assert_int_equal(fx_cmd(b, PSP_CMD_RECEIVE_START, &rs), 0);
	act.handle = rs.handle;
	act.asid = SEV_ASID;
	assert_int_equal(fx_cmd(b, PSP_CMD_ACTIVATE, &act), 0);

	for (i = 0; i < 2; i++) {
		memset(&p, 0, sizeof(p));
		p.handle = guest;
		assert_int_equal(fx_cmd(a, PSP_CMD_SEND_UPDATE_DATA, &p),
				 SEV_RET_INVALID_LEN);
		assert_int_equal(p.hdr_len, SEV_PACKET_HDR_LEN);
		p.hdr_paddr = (uintptr_t)&hdr;
		p.guest_paddr = (uintptr_t)src + 4096 * i;
		p.guest_len = 4096;
		p.trans_paddr = (uintptr_t)trans;
		p.trans_len = 4096;
		assert_int_equal(fx_cmd(a, PSP_CMD_SEND_UPDATE_DATA, &p), 0);
		assert_memory_not_equal(trans, src + 4096 * i, 64);
		p.handle = rs.handle;
		p.guest_paddr = (uintptr_t)dst + 4096 * i;
		if (i == 1) {
			/* A packet replayed at another address still lands
			 * intact, but a flipped bit does not. */
			trans[100] ^= 1;
			assert_int_equal(fx_cmd(b, PSP_CMD_RECEIVE_UPDATE_DATA,
						&p),
					 SEV_RET_BAD_MEASUREMENT);
			trans[100] ^= 1;
		}
		assert_int_equal(fx_cmd(b, PSP_CMD_RECEIVE_UPDATE_DATA, &p), 0);
	}
	h.handle = guest;
	assert_int_equal(fx_cmd(a, PSP_CMD_SEND_FINISH, &h), 0);
	act.handle = guest;
	act.asid = 700;
	assert_int_equal(fx_cmd(a, PSP_CMD_ACTIVATE, &act),
			 SEV_RET_INVALID_GUEST_STATE);
	h.handle = rs.handle;
	assert_int_equal(fx_cmd(b, PSP_CMD_RECEIVE_FINISH, &h), 0);
	d = (struct psp_dbg){ rs.handle, 0, (uintptr_t)dst, (uintptr_t)plain,
			      4096 };
	for (i = 0; i < 2; i++) {
		d.src_paddr = (uintptr_t)dst + 4096 * i;
		assert_int_equal(fx_cmd(b, PSP_CMD_DBG_DECRYPT, &d), 0);
		{
			uint8_t want[4096];
			size_t j;

			for (j = 0; j < 4096; j++) {
				size_t k = 4096 * i + j;

				want[j] = (uint8_t)(k ^ (k >> 8));
			}
			assert_memory_equal(plain, want, 4096);
		}
	}
}

static void test_send_policy_and_cancel(void **state)
{
	struct gx *g = *state;
	struct psp *a = g->a.psp, *b = open_target(g, false);
	static uint8_t src[4096] __attribute__((aligned(4096)));
	uint8_t amd[4096];
	struct sev_cert bpdh, bchain[3];
	struct sev_session session;
	struct psp_send_start s;
	struct psp_handle h;
	uint32_t amd_len = amd_chain(b, amd);
	uint32_t nosend = running_guest(a, SEV_POLICY_NOSEND, src, sizeof(src));
	uint32_t sev = running_guest(a, SEV_POLICY_SEV, src, sizeof(src));
	uint32_t plain = running_guest(a, 0, src, sizeof(src));
	uint32_t newer = running_guest(a, 1u << 16 | 55u << 24, src,
				       sizeof(src));

	fx_export(b, &bpdh, bchain);
	send_start_buf(&s, nosend, &bpdh, bchain, amd, amd_len, &session);
	assert_int_equal(fx_cmd(a, PSP_CMD_SEND_START, &s),
			 SEV_RET_POLICY_FAILURE);
	/* b's chain is valid but rooted in another ARK. */
	send_start_buf(&s, sev, &bpdh, bchain, amd, amd_len, &session);
	assert_int_equal(fx_cmd(a, PSP_CMD_SEND_START, &s),
			 SEV_RET_POLICY_FAILURE);
	amd[0x70] ^= 1;
	assert_int_equal(fx_cmd(a, PSP_CMD_SEND_START, &s),
			 SEV_RET_BAD_SIGNATURE);
	s.amd_certs_len = 100;
	assert_int_equal(fx_cmd(a, PSP_CMD_SEND_START, &s),
			 SEV_RET_INVALID_CERTIFICATE);
	/* b runs API 1.50; the guest needs 1.55 (§9.26 API check). */
	send_start_buf(&s, newer, &bpdh, bchain, NULL, 0, &session);
	assert_int_equal(fx_cmd(a, PSP_CMD_SEND_START, &s),
			 SEV_RET_POLICY_FAILURE);
	/* Without POLICY.SEV the AMD chain is not consulted. */
	send_start_buf(&s, plain, &bpdh, bchain, NULL, 0, &session);
	assert_int_equal(fx_cmd(a, PSP_CMD_SEND_START, &s), 0);
	h.handle = plain;
	assert_int_equal(fx_cmd(a, PSP_CMD_SEND_CANCEL, &h), 0);
	assert_int_equal(fx_cmd(a, PSP_CMD_SEND_CANCEL, &h),
			 SEV_RET_INVALID_GUEST_STATE);
	/* After a cancel the migration can restart. */
	assert_int_equal(fx_cmd(a, PSP_CMD_SEND_START, &s), 0);
	assert_int_equal(fx_cmd(a, PSP_CMD_SEND_FINISH, &h), 0);
	assert_int_equal(fx_cmd(a, PSP_CMD_SEND_FINISH, &h),
			 SEV_RET_INVALID_GUEST_STATE);
}

static void test_receive_errors(void **state)
{
	struct gx *g = *state;
	struct psp *b = g->a.psp;
	struct sev_cert pdh, chain[3];
	struct sev_session junk = { 0 };
	struct psp_launch_start rs = { 0 };
	struct psp_packet p = { 0 };
	struct psp_handle h;

	fx_export(b, &pdh, chain);
	rs.dh_cert_paddr = (uintptr_t)&pdh;
	rs.dh_cert_len = SEV_CERT_LEN;
	rs.session_paddr = (uintptr_t)&junk;
	rs.session_len = SEV_SESSION_LEN;
	assert_int_equal(fx_cmd(b, PSP_CMD_RECEIVE_START, &rs),
			 SEV_RET_BAD_MEASUREMENT);
	rs.dh_cert_paddr = 0;
	assert_int_equal(fx_cmd(b, PSP_CMD_RECEIVE_START, &rs),
			 SEV_RET_INVALID_ADDRESS);
	h.handle = fx_launch(b, 0, SEV_ASID);
	p.handle = h.handle;
	assert_int_equal(fx_cmd(b, PSP_CMD_RECEIVE_UPDATE_DATA, &p),
			 SEV_RET_INVALID_GUEST_STATE);
	assert_int_equal(fx_cmd(b, PSP_CMD_RECEIVE_FINISH, &h),
			 SEV_RET_INVALID_GUEST_STATE);
	assert_int_equal(fx_cmd(b, PSP_CMD_SEND_UPDATE_DATA, &p),
			 SEV_RET_INVALID_GUEST_STATE);
}

static void *storm(void *arg)
{
	struct psp *psp = arg;
	int i;

	for (i = 0; i < 200; i++) {
		struct psp_launch_start ls = { 0 };
		struct psp_guest_status gs;
		struct psp_handle h;

		if (psp_cmd(psp, PSP_CMD_LAUNCH_START, &ls, &psp_mem_direct))
			return (void *)1;
		gs.handle = ls.handle;
		if (psp_cmd(psp, PSP_CMD_GUEST_STATUS, &gs, &psp_mem_direct))
			return (void *)1;
		h.handle = ls.handle;
		if (psp_cmd(psp, PSP_CMD_DECOMMISSION, &h, &psp_mem_direct))
			return (void *)1;
	}
	return NULL;
}

/* Concurrent callers are serialised; no handle is lost or shared. */
static void test_concurrent_callers(void **state)
{
	struct psp *psp = ((struct gx *)*state)->a.psp;
	pthread_t t[4];
	void *r;
	int i;

	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, storm, psp), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &r), 0);
		assert_null(r);
	}
	assert_int_equal(psp_guest_count(psp), 0);
	assert_int_equal(psp_platform_state(psp), PSP_INIT);
}

#define T(fn, s) cmocka_unit_test_setup_teardown(fn, s, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_activate_rules, setup_plain),
		T(test_wbinvd_df_flush, setup_plain),
		T(test_init_dirties_all, setup_plain),
		T(test_resource_limit, setup_plain),
		T(test_launch_start_checks, setup_plain),
		T(test_es_needs_es_init, setup_plain),
		T(test_launch_digest, setup_plain),
		T(test_update_errors, setup_plain),
		T(test_es_vmsa_rules, setup_plain),
		T(test_owner_flow, setup_plain),
		T(test_owner_flow, setup_xts),
		T(test_memory_engine, setup_xts),
		T(test_mem_engine_by_asid, setup_xts),
		T(test_mem_engine_plain, setup_plain),
		T(test_dbg_rules, setup_plain),
		T(test_send_receive, setup_plain),
		T(test_send_receive, setup_xts),
		T(test_send_policy_and_cancel, setup_plain),
		T(test_receive_errors, setup_plain),
		T(test_concurrent_callers, setup_plain),
	};

	return cmocka_run_group_tests_name("psp_guest", tests, fx_group_setup,
					   fx_group_teardown);
}
