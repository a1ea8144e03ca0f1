// SPDX-License-Identifier: MIT
/*
 * Firmware rows no other test reached (issue 13): INIT_EX, DOWNLOAD_FIRMWARE,
 * the ATTESTATION report header, SEND/RECEIVE_UPDATE_VMSA, SEND_START's
 * address and certificate-shape rows, LAUNCH_SECRET's write fault.
 * Statuses per AMD's SEV API spec (the § numbers of docs/fidelity.md).
 * Addresses go through user_mem, so a PROT_NONE or read-only page gives
 * the firmware a real fault.
 */
#include "psp_fixture.h"
#include "user_mem.h"

#define SEV_ASID 100 /* first plain-SEV ASID of the default layout */
#define ES_ASID 1


static int um_cmd(struct psp *psp, unsigned int cmd, void *buf)
{
	return psp_cmd(psp, cmd, buf, &user_mem);
}

/* A page the firmware may read but not write. */
static uint8_t *ro_page(void)
{
	void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);

	assert_true(p != MAP_FAILED);
	return p;
}

/* §9.2 INIT_EX: LENGTH 0x24, NV buffer 32 KiB and 4 KiB aligned. */
static void test_init_ex(void **state)
{
	struct fx *f = *state;
	static uint8_t tmr[2 << 20] __attribute__((aligned(1 << 20)));
	struct psp_init_ex in = { .length = sizeof(in) };
	struct psp_platform_status ps;

	in.length = 0x20;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_INIT_EX, &in),
			 SEV_RET_INVALID_LEN);
	in.length = sizeof(in);
	in.nv_paddr = (uintptr_t)tmr;
	in.nv_len = 4096;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_INIT_EX, &in),
			 SEV_RET_INVALID_LEN);
	in.nv_len = 32 << 10;
	in.nv_paddr = (uintptr_t)tmr + 16;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_INIT_EX, &in),
			 SEV_RET_INVALID_ADDRESS);
	in.nv_paddr = (uintptr_t)tmr;
	/* The INIT rows (§9.1) apply to INIT_EX's TMR too. */
	in.flags = PSP_INIT_FLAGS_ES;
	in.tmr_paddr = (uintptr_t)tmr;
	in.tmr_len = 4096;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_INIT_EX, &in),
			 SEV_RET_INVALID_LEN);
	in.tmr_len = 1 << 20;
	in.tmr_paddr = (uintptr_t)tmr + 4096;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_INIT_EX, &in),
			 SEV_RET_INVALID_ADDRESS);
	in.tmr_paddr = 0;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_INIT_EX, &in),
			 SEV_RET_INVALID_ADDRESS);
	assert_int_equal(psp_platform_state(f->psp), PSP_UNINIT);
	in.tmr_paddr = (uintptr_t)tmr;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_INIT_EX, &in), SEV_RET_SUCCESS);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PLATFORM_STATUS, &ps), 0);
	assert_int_equal(ps.state, PSP_INIT);
	assert_int_equal(ps.config[0] & 1, 1);
	/* §5: INIT / INIT_EX only from UNINIT. */
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_INIT_EX, &in),
			 SEV_RET_INVALID_PLATFORM_STATE);
}

/* §9.1: CONFIG.ES on a platform without SEV-ES. */
static void test_init_es_unsupported(void **state)
{
	struct fx f = { 0 };
	struct psp_init_ex in = { .length = sizeof(in),
				  .flags = PSP_INIT_FLAGS_ES };

	psp_config_default(&f.cfg);
	f.cfg.es = false;
	fx_open(&f, true);
	assert_int_equal(fx_cmd(f.psp, PSP_CMD_INIT_EX, &in),
			 SEV_RET_INAVLID_CONFIG);
	fx_close(&f, true);
}

/* §9.12: UNINIT only; softsev's firmware cannot be replaced. */
static void test_download_firmware(void **state)
{
	struct fx *f = *state;
	uint8_t buf[12] = { 0 };

	assert_int_equal(fx_cmd(f->psp, PSP_CMD_DOWNLOAD_FIRMWARE, buf),
			 SEV_RET_UNSUPPORTED);
	fx_init(f->psp, false);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_DOWNLOAD_FIRMWARE, buf),
			 SEV_RET_INVALID_PLATFORM_STATE);
}

/* §12.8: MNONCE, LD, POLICY, SIG_USAGE = PEK, SIG_ALGO = 2, reserved 0. */
static void test_attestation_header(void **state)
{
	struct fx *f = *state;
	const uint32_t policy = SEV_POLICY_NODBG | SEV_POLICY_NOKS;
	uint8_t rep[SEV_ATTESTATION_LEN], out[SEV_MEASURE_LEN];
	struct psp_attestation at = { 0 };
	struct psp_launch_update m = { 0 };
	struct psp_guest_info gi;
	uint32_t h, v;

	fx_init(f->psp, false);
	h = fx_launch(f->psp, policy, SEV_ASID);
	m.handle = h;
	m.paddr = (uintptr_t)out;
	m.length = sizeof(out);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_LAUNCH_MEASURE, &m), 0);
	assert_int_equal(psp_guest_info(f->psp, h, &gi), 0);
	memset(rep, 0xee, sizeof(rep));
	at.handle = h;
	at.paddr = (uintptr_t)rep;
	at.length = sizeof(rep);
	memset(at.mnonce, 0x42, 16);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_ATTESTATION, &at), 0);
	assert_int_equal(at.length, SEV_ATTESTATION_LEN);
	assert_memory_equal(rep, at.mnonce, 16);
	assert_memory_equal(rep + 0x10, gi.digest, 32);
	memcpy(&v, rep + 0x30, 4);
	assert_int_equal(v, policy);
	memcpy(&v, rep + 0x34, 4);
	assert_int_equal(v, 0x1002);
	memcpy(&v, rep + 0x38, 4);
	assert_int_equal(v, 2);
	memcpy(&v, rep + 0x3C, 4);
	assert_int_equal(v, 0);
	/* The report write faults: INVALID_ADDRESS. */
	at.paddr = um_bad_address();
	assert_int_equal(um_cmd(f->psp, PSP_CMD_ATTESTATION, &at),
			 SEV_RET_INVALID_ADDRESS);
	/* §6: not before LAUNCH_MEASURE. */
	at.handle = fx_launch(f->psp, 0, SEV_ASID + 1);
	at.paddr = (uintptr_t)rep;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_ATTESTATION, &at),
			 SEV_RET_INVALID_GUEST_STATE);
}

/* A RUNNING guest over mem (one page), ES with its VMSA when es. */
static uint32_t running(struct psp *psp, uint32_t policy, uint32_t asid,
			uint8_t *mem, uint8_t *vmsa)
{
	uint32_t h = fx_launch(psp, policy, asid);
	struct psp_launch_update u = { h, 0, (uintptr_t)mem, 4096 };
	uint8_t out[SEV_MEASURE_LEN];
	struct psp_handle fin = { h };

	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_UPDATE_DATA, &u), 0);
	if (vmsa) {
		u.paddr = (uintptr_t)vmsa;
		assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_UPDATE_VMSA, &u),
				 0);
	}
	u.paddr = (uintptr_t)out;
	u.length = sizeof(out);
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_MEASURE, &u), 0);
	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_FINISH, &fin), 0);
	return h;
}

static void send_start_buf(struct psp_send_start *s, uint32_t handle,
			   struct sev_cert *pdh, struct sev_cert *chain,
			   struct sev_session *session)
{
	*s = (struct psp_send_start){ 0 };
	s->handle = handle;
	s->pdh_cert_paddr = (uintptr_t)pdh;
	s->pdh_cert_len = SEV_CERT_LEN;
	s->plat_certs_paddr = (uintptr_t)chain;
	s->plat_certs_len = SEV_CHAIN_LEN;
	s->session_paddr = (uintptr_t)session;
	s->session_len = SEV_SESSION_LEN;
}

/* §9.26: addresses, then the certificates' shape before signatures. */
static void test_send_start_rows(void **state)
{
	struct fx *f = *state;
	static uint8_t mem[4096] __attribute__((aligned(4096)));
	struct sev_cert pdh, chain[3], tmp;
	struct sev_session session;
	struct psp_send_start s;
	struct psp_guest_info gi;
	uint8_t *ro = ro_page();
	uint32_t h;

	fx_init(f->psp, false);
	h = running(f->psp, 0, SEV_ASID, mem, NULL);
	fx_export(f->psp, &pdh, chain);
	send_start_buf(&s, h, &pdh, chain, &session);
	s.pdh_cert_paddr = um_bad_address();
	assert_int_equal(um_cmd(f->psp, PSP_CMD_SEND_START, &s),
			 SEV_RET_INVALID_ADDRESS);
	s.pdh_cert_paddr = (uintptr_t)&pdh;
	s.plat_certs_paddr = um_bad_address();
	assert_int_equal(um_cmd(f->psp, PSP_CMD_SEND_START, &s),
			 SEV_RET_INVALID_ADDRESS);
	s.plat_certs_paddr = (uintptr_t)chain;
	/* A PEK given as the PDH: the usage is wrong. */
	s.pdh_cert_paddr = (uintptr_t)&chain[0];
	assert_int_equal(um_cmd(f->psp, PSP_CMD_SEND_START, &s),
			 SEV_RET_INVALID_CERTIFICATE);
	s.pdh_cert_paddr = (uintptr_t)&pdh;
	/* PLAT_CERTS in the wrong order (OCA and CEK swapped). */
	tmp = chain[1];
	chain[1] = chain[2];
	chain[2] = tmp;
	assert_int_equal(um_cmd(f->psp, PSP_CMD_SEND_START, &s),
			 SEV_RET_INVALID_CERTIFICATE);
	chain[2] = chain[1];
	chain[1] = tmp;
	/* The session cannot be written back. */
	s.session_paddr = (uintptr_t)ro;
	assert_int_equal(um_cmd(f->psp, PSP_CMD_SEND_START, &s),
			 SEV_RET_INVALID_ADDRESS);
	assert_int_equal(psp_guest_info(f->psp, h, &gi), 0);
	assert_int_equal(gi.state, GSTATE_RUNNING);
	s.session_paddr = (uintptr_t)&session;
	assert_int_equal(um_cmd(f->psp, PSP_CMD_SEND_START, &s), 0);
	assert_int_equal(psp_guest_info(f->psp, h, &gi), 0);
	assert_int_equal(gi.state, GSTATE_SUPDATE);
	munmap(ro, 4096);
}

/* §9.23: the decrypted secret cannot be written to the guest page. */
static void test_launch_secret_write_fault(void **state)
{
	struct fx *f = *state;
	uint8_t out[SEV_MEASURE_LEN], trans[64], secret[64] = "key";
	struct sev_packet_hdr hdr = { 0 };
	struct psp_launch_start ls = { 0 };
	struct psp_activate act;
	struct psp_launch_update u;
	struct psp_packet p = { 0 };
	struct sev_cert pdh, chain[3];
	struct fx_owner o;
	uint8_t *ro = ro_page();

	fx_init(f->psp, false);
	fx_export(f->psp, &pdh, chain);
	fx_owner_session(&o, &pdh, 0);
	ls.dh_cert_paddr = (uintptr_t)&o.godh_cert;
	ls.dh_cert_len = SEV_CERT_LEN;
	ls.session_paddr = (uintptr_t)&o.session;
	ls.session_len = SEV_SESSION_LEN;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_LAUNCH_START, &ls), 0);
	act.handle = ls.handle;
	act.asid = SEV_ASID;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_ACTIVATE, &act), 0);
	u = (struct psp_launch_update){ ls.handle, 0, (uintptr_t)out,
					sizeof(out) };
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_LAUNCH_MEASURE, &u), 0);
	assert_int_equal(crypto_aes128_ctr(o.tk.tek, hdr.iv, secret, trans,
					   sizeof(trans)), 0);
	assert_int_equal(sev_packet_mac(o.tk.tik, SEV_MAC_SECRET, &hdr, 64,
					trans, 64, out, hdr.mac), 0);
	p.handle = ls.handle;
	p.hdr_paddr = (uintptr_t)&hdr;
	p.hdr_len = SEV_PACKET_HDR_LEN;
	p.guest_paddr = (uintptr_t)ro;
	p.guest_len = 64;
	p.trans_paddr = (uintptr_t)trans;
	p.trans_len = 64;
	assert_int_equal(um_cmd(f->psp, PSP_CMD_LAUNCH_SECRET, &p),
			 SEV_RET_INVALID_ADDRESS);
	/* The header cannot be read. */
	p.hdr_paddr = um_bad_address();
	assert_int_equal(um_cmd(f->psp, PSP_CMD_LAUNCH_SECRET, &p),
			 SEV_RET_INVALID_ADDRESS);
	fx_owner_free(&o);
	munmap(ro, 4096);
}

/* §9.28 / §9.32: VMSA transport for SEV-ES guests, one 4 KiB page. */
static void test_update_vmsa_transport(void **state)
{
	struct fx *f = *state;
	static uint8_t mem[4096] __attribute__((aligned(4096)));
	static uint8_t vmsa[2 * 4096] __attribute__((aligned(4096)));
	static uint8_t dst[2 * 4096] __attribute__((aligned(4096)));
	uint8_t trans[4096];
	struct sev_cert pdh, chain[3];
	struct sev_session session, other;
	struct sev_packet_hdr hdr;
	struct psp_send_start s;
	struct psp_launch_start rs = { 0 };
	struct psp_activate act;
	struct psp_packet p = { 0 };
	uint32_t es, plain;

	fx_init(f->psp, true);
	memset(vmsa, 0x3c, sizeof(vmsa));
	es = running(f->psp, SEV_POLICY_ES, ES_ASID, mem, vmsa);
	plain = running(f->psp, 0, SEV_ASID, mem, NULL);
	fx_export(f->psp, &pdh, chain);
	send_start_buf(&s, es, &pdh, chain, &session);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_SEND_START, &s), 0);
	s.handle = plain;
	s.session_paddr = (uintptr_t)&other;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_SEND_START, &s), 0);

	p.handle = plain;
	p.hdr_paddr = (uintptr_t)&hdr;
	p.hdr_len = SEV_PACKET_HDR_LEN;
	p.guest_paddr = (uintptr_t)vmsa;
	p.guest_len = 4096;
	p.trans_paddr = (uintptr_t)trans;
	p.trans_len = 4096;
	/* A VMSA needs POLICY.ES. */
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_SEND_UPDATE_VMSA, &p),
			 SEV_RET_POLICY_FAILURE);
	p.handle = es;
	p.guest_len = p.trans_len = 2048;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_SEND_UPDATE_VMSA, &p),
			 SEV_RET_INVALID_LEN);
	p.guest_len = p.trans_len = 4096;
	/* 16-byte aligned but not page aligned. */
	p.guest_paddr = (uintptr_t)vmsa + 16;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_SEND_UPDATE_VMSA, &p),
			 SEV_RET_INVALID_ADDRESS);
	p.guest_paddr = (uintptr_t)vmsa;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_SEND_UPDATE_VMSA, &p), 0);
	assert_int_equal(p.hdr_len, SEV_PACKET_HDR_LEN);
	assert_int_equal(p.trans_len, 4096);
	assert_memory_not_equal(trans, vmsa, 64);

	/* The same platform receives it into an ES guest. */
	rs.policy = SEV_POLICY_ES;
	rs.dh_cert_paddr = (uintptr_t)&pdh;
	rs.dh_cert_len = SEV_CERT_LEN;
	rs.session_paddr = (uintptr_t)&session;
	rs.session_len = SEV_SESSION_LEN;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_RECEIVE_START, &rs), 0);
	act.handle = rs.handle;
	act.asid = ES_ASID + 1;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_ACTIVATE, &act), 0);
	p.handle = rs.handle;
	p.guest_paddr = (uintptr_t)dst + 16;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_RECEIVE_UPDATE_VMSA, &p),
			 SEV_RET_INVALID_ADDRESS);
	p.guest_paddr = (uintptr_t)dst;
	/* The data MAC context does not open a VMSA packet. */
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_RECEIVE_UPDATE_DATA, &p),
			 SEV_RET_BAD_MEASUREMENT);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_RECEIVE_UPDATE_VMSA, &p), 0);
	assert_memory_equal(dst, vmsa, 4096);
	p.guest_len = p.trans_len = 2048;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_RECEIVE_UPDATE_VMSA, &p),
			 SEV_RET_INVALID_LEN);
}

/* §9.32: RECEIVE_UPDATE_VMSA into a plain-SEV guest. */
static void test_receive_vmsa_policy(void **state)
{
	struct fx *f = *state;
	static uint8_t mem[4096] __attribute__((aligned(4096)));
	struct sev_cert pdh, chain[3];
	struct sev_session session;
	struct psp_send_start s;
	struct psp_launch_start rs = { 0 };
	struct psp_activate act;
	struct psp_packet p = { 0 };

	fx_init(f->psp, false);
	fx_export(f->psp, &pdh, chain);
	send_start_buf(&s, running(f->psp, 0, SEV_ASID, mem, NULL), &pdh,
		       chain, &session);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_SEND_START, &s), 0);
	rs.dh_cert_paddr = (uintptr_t)&pdh;
	rs.dh_cert_len = SEV_CERT_LEN;
	rs.session_paddr = (uintptr_t)&session;
	rs.session_len = SEV_SESSION_LEN;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_RECEIVE_START, &rs), 0);
	p.handle = rs.handle;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_RECEIVE_UPDATE_VMSA, &p),
			 SEV_RET_POLICY_FAILURE);
	/* Not yet activated. */
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_RECEIVE_UPDATE_DATA, &p),
			 SEV_RET_INACTIVE);
	act.handle = rs.handle;
	act.asid = SEV_ASID + 1;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_ACTIVATE, &act), 0);
}

/* psp_fault_parse(): "CMD=STATUS[@once|@every=N|@p=P]" (fault.c). */
static void test_fault_parse(void **state)
{
	static const char *const bad_specs[] = {
		"INIT", "BOGUS=INVALID_LEN", "UNKNOWN=INVALID_LEN", "INIT=",
		"INIT=NOT_A_STATUS", "INIT=0", "INIT=0x10000",
		"INIT=SUCCESS", "INIT=INVALID_LEN@every=0",
		"INIT=INVALID_LEN@p=0", "INIT=INVALID_LEN@p=1.5",
		"INIT=INVALID_LEN@never", "INIT=-5", "INIT=12abc",
		/* a status name of 64 characters or more */
		"INIT=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		"AAAAAAAAAAAAAAAA",
	};
	struct fx *f = *state;
	struct psp_fault fl;
	struct psp_platform_status ps;
	size_t i;

	for (i = 0; i < sizeof(bad_specs) / sizeof(bad_specs[0]); i++)
		assert_int_equal(psp_fault_parse(bad_specs[i], &fl), -EINVAL);
	/* A status by number. */
	assert_int_equal(psp_fault_parse("GUEST_STATUS=0x27", &fl), 0);
	assert_int_equal(fl.cmd, PSP_CMD_GUEST_STATUS);
	assert_int_equal(fl.status, 0x27);
	/* Every second PLATFORM_STATUS fails. */
	assert_int_equal(psp_fault_parse("PLATFORM_STATUS=INVALID_LEN@every=2",
					 &fl), 0);
	assert_int_equal(psp_fault_add(f->psp, &fl), 0);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PLATFORM_STATUS, &ps), 0);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PLATFORM_STATUS, &ps),
			 SEV_RET_INVALID_LEN);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PLATFORM_STATUS, &ps), 0);
	psp_fault_clear(f->psp);
	/* p=1 always fires. */
	assert_int_equal(psp_fault_parse("PLATFORM_STATUS=INACTIVE@p=1", &fl),
			 0);
	assert_int_equal(fl.mode, PSP_FAULT_PROB);
	assert_int_equal(psp_fault_add(f->psp, &fl), 0);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PLATFORM_STATUS, &ps),
			 SEV_RET_INACTIVE);
	psp_fault_clear(f->psp);
}

/* §9.14–§9.18: handles, re-ACTIVATE, DBG and COPY rows. */
static void test_guest_rows(void **state)
{
	struct fx *f = *state;
	static uint8_t a[64] __attribute__((aligned(16)));
	static uint8_t b[64] __attribute__((aligned(16)));
	struct psp_guest_status gs = { 0xffffffff };
	struct psp_activate act;
	struct psp_dbg d;
	struct psp_copy cp = { 0 };
	struct psp_guest_info gi;
	uint32_t h, idle;

	fx_init(f->psp, false);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_GUEST_STATUS, &gs),
			 SEV_RET_INVALID_GUEST);
	h = fx_launch(f->psp, 0, SEV_ASID);
	act.handle = h;
	act.asid = SEV_ASID;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_ACTIVATE, &act),
			 SEV_RET_ACTIVE);
	idle = fx_launch(f->psp, 0, 0);
	assert_int_equal(psp_guest_info(f->psp, idle, &gi), 0);
	assert_int_equal(gi.asid, 0);
	assert_false(gi.active);
	d = (struct psp_dbg){ h, 0, (uintptr_t)a, (uintptr_t)b + 8, 16 };
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_DBG_DECRYPT, &d),
			 SEV_RET_INVALID_ADDRESS);
	/* The destination faults. */
	d.dst_paddr = um_bad_address();
	assert_int_equal(um_cmd(f->psp, PSP_CMD_DBG_DECRYPT, &d),
			 SEV_RET_INVALID_ADDRESS);
	cp.handle = 0x7fffffff;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_COPY, &cp),
			 SEV_RET_INVALID_GUEST);
	cp.handle = idle;
	cp.src_paddr = (uintptr_t)a;
	cp.dst_paddr = (uintptr_t)b;
	cp.length = 16;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_COPY, &cp), SEV_RET_INACTIVE);
	cp.handle = h;
	memset(a, 0x11, sizeof(a));
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_COPY, &cp), 0);
	assert_memory_equal(a, b, 16);
}

/* §9.19: the GODH's shape, the blob lengths and addresses. */
static void test_launch_session_rows(void **state)
{
	struct fx *f = *state;
	struct sev_cert pdh, chain[3], godh;
	struct psp_launch_start ls = { 0 };
	struct fx_owner o;

	fx_init(f->psp, false);
	fx_export(f->psp, &pdh, chain);
	fx_owner_session(&o, &pdh, 0);
	ls.dh_cert_paddr = (uintptr_t)&godh;
	ls.dh_cert_len = SEV_CERT_LEN;
	ls.session_paddr = (uintptr_t)&o.session;
	ls.session_len = SEV_SESSION_LEN;
	godh = o.godh_cert;
	godh.version = 2;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_LAUNCH_START, &ls),
			 SEV_RET_INVALID_CERTIFICATE);
	godh = o.godh_cert;
	godh.algo = SEV_ALGO_ECDSA_SHA256;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_LAUNCH_START, &ls),
			 SEV_RET_INVALID_CERTIFICATE);
	/* A point that is not on P-384. */
	godh = o.godh_cert;
	godh.pubkey.ecc.qx[0] ^= 1;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_LAUNCH_START, &ls),
			 SEV_RET_INVALID_CERTIFICATE);
	godh = o.godh_cert;
	ls.session_len = SEV_SESSION_LEN - 16;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_LAUNCH_START, &ls),
			 SEV_RET_INVALID_LEN);
	ls.session_len = SEV_SESSION_LEN;
	ls.session_paddr = um_bad_address();
	assert_int_equal(um_cmd(f->psp, PSP_CMD_LAUNCH_START, &ls),
			 SEV_RET_INVALID_ADDRESS);
	ls.session_paddr = (uintptr_t)&o.session;
	/* ECDH with SHA-384 is an accepted GODH algorithm too. */
	godh.algo = SEV_ALGO_ECDH_SHA384;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_LAUNCH_START, &ls), 0);
	assert_int_equal(psp_guest_count(f->psp), 1);
	fx_owner_free(&o);
}

/* §9.20–§9.23: INACTIVE, the MEASURE write, the packet rules. */
static void test_launch_rows(void **state)
{
	struct fx *f = *state;
	static uint8_t mem[64] __attribute__((aligned(16)));
	uint8_t out[SEV_MEASURE_LEN];
	struct sev_packet_hdr hdr = { 0 };
	struct psp_launch_update u;
	struct psp_packet p;
	struct psp_handle fin;
	uint32_t idle, h;

	fx_init(f->psp, false);
	idle = fx_launch(f->psp, 0, 0);
	u = (struct psp_launch_update){ idle, 0, (uintptr_t)mem, 64 };
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_LAUNCH_UPDATE_DATA, &u),
			 SEV_RET_INACTIVE);
	u.handle = 0x7fffffff;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_LAUNCH_UPDATE_DATA, &u),
			 SEV_RET_INVALID_GUEST);
	/* MEASURE's write faults: no state change. */
	u = (struct psp_launch_update){ idle, 0, um_bad_address(),
					sizeof(out) };
	assert_int_equal(um_cmd(f->psp, PSP_CMD_LAUNCH_MEASURE, &u),
			 SEV_RET_INVALID_ADDRESS);
	u.paddr = (uintptr_t)out;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_LAUNCH_MEASURE, &u), 0);
	/* LAUNCH_SECRET on an inactive guest. */
	p = (struct psp_packet){ .handle = idle };
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_LAUNCH_SECRET, &p),
			 SEV_RET_INACTIVE);
	h = fx_launch(f->psp, 0, SEV_ASID);
	u = (struct psp_launch_update){ h, 0, (uintptr_t)out, sizeof(out) };
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_LAUNCH_MEASURE, &u), 0);
	p = (struct psp_packet){ .handle = h, .hdr_paddr = (uintptr_t)&hdr,
				 .hdr_len = SEV_PACKET_HDR_LEN,
				 .guest_paddr = (uintptr_t)mem,
				 .trans_paddr = (uintptr_t)mem };
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_LAUNCH_SECRET, &p),
			 SEV_RET_INVALID_LEN); /* guest_len 0 */
	p.guest_len = p.trans_len = 24;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_LAUNCH_SECRET, &p),
			 SEV_RET_INVALID_LEN); /* not 16-byte aligned */
	p.guest_len = p.trans_len = SEV_SECRET_MAX + 16;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_LAUNCH_SECRET, &p),
			 SEV_RET_INVALID_LEN);
	p.guest_len = p.trans_len = 64;
	p.trans_paddr = um_bad_address();
	assert_int_equal(um_cmd(f->psp, PSP_CMD_LAUNCH_SECRET, &p),
			 SEV_RET_INVALID_ADDRESS);
	fin.handle = h;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_LAUNCH_FINISH, &fin), 0);
	{
		struct psp_attestation at = { .handle = 0x7fffffff };

		assert_int_equal(fx_cmd(f->psp, PSP_CMD_ATTESTATION, &at),
				 SEV_RET_INVALID_GUEST);
	}
}

/* §11: the policy's API version against the firmware's (1.55). */
static void test_policy_api(void **state)
{
	struct fx *f = *state;
	struct psp_launch_start ls = { .policy = 1u << 16 | 55u << 24 };

	fx_init(f->psp, false);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_LAUNCH_START, &ls), 0);
	ls.handle = 0;
	ls.policy = 1u << 16 | 56u << 24;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_LAUNCH_START, &ls),
			 SEV_RET_POLICY_FAILURE);
	ls.policy = 2u << 16;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_LAUNCH_START, &ls),
			 SEV_RET_POLICY_FAILURE);
}

/* psp_status_name(): the names of §2, and what is not a status. */
static void test_status_names(void **state)
{
	assert_string_equal(psp_status_name(SEV_RET_NO_FW_CALL), "NO_FW_CALL");
	assert_string_equal(psp_status_name(-2), "UNKNOWN");
	assert_string_equal(psp_status_name(SEV_RET_MAX), "UNKNOWN");
	assert_string_equal(psp_status_name(SEV_RET_SECURE_DATA_INVALID),
			    "SECURE_DATA_INVALID");
	assert_string_equal(psp_cmd_name(0x99), "UNKNOWN");
}

/* Handles that name no guest (§9.14–§9.17), and loops that stop early. */
static void test_more_guest_rows(void **state)
{
	struct fx *f = *state;
	static uint8_t a[64] __attribute__((aligned(16)));
	struct psp_guest_status gs = { 0 };
	struct psp_handle hd = { 0x7fffffff };
	struct psp_send_start ss = { .handle = 0x7fffffff };
	struct psp_launch_update u;
	struct psp_dbg d;
	uint32_t h, es;

	fx_init(f->psp, true);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_GUEST_STATUS, &gs),
			 SEV_RET_INVALID_GUEST); /* handle 0 */
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_DEACTIVATE, &hd),
			 SEV_RET_INVALID_GUEST);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_SEND_START, &ss),
			 SEV_RET_INVALID_GUEST);
	h = fx_launch(f->psp, 0, SEV_ASID);
	/* An unaligned source (§9.18). */
	d = (struct psp_dbg){ h, 0, (uintptr_t)a + 8, (uintptr_t)a, 16 };
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_DBG_DECRYPT, &d),
			 SEV_RET_INVALID_ADDRESS);
	/* More than one chunk, the first of which faults. */
	d = (struct psp_dbg){ h, 0, um_bad_address(), (uintptr_t)a,
			      (2u << 20) + 16 };
	assert_int_equal(um_cmd(f->psp, PSP_CMD_DBG_DECRYPT, &d),
			 SEV_RET_INVALID_ADDRESS);
	u = (struct psp_launch_update){ h, 0, um_bad_address(),
					(2u << 20) + 16 };
	assert_int_equal(um_cmd(f->psp, PSP_CMD_LAUNCH_UPDATE_DATA, &u),
			 SEV_RET_INVALID_ADDRESS);
	/* §9.21: an ES guest not yet activated. */
	es = fx_launch(f->psp, SEV_POLICY_ES, 0);
	u = (struct psp_launch_update){ es, 0, (uintptr_t)a, SEV_VMSA_LEN };
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_LAUNCH_UPDATE_VMSA, &u),
			 SEV_RET_INACTIVE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_ex, fx_setup, fx_teardown),
		cmocka_unit_test(test_init_es_unsupported),
		cmocka_unit_test_setup_teardown(test_download_firmware, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_attestation_header, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_send_start_rows, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_launch_secret_write_fault,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_update_vmsa_transport,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_receive_vmsa_policy,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_fault_parse, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_guest_rows, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_launch_session_rows,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_launch_rows, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_policy_api, fx_setup,
						fx_teardown),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test_setup_teardown(test_more_guest_rows, fx_setup,
						fx_teardown),
	};

	return cmocka_run_group_tests(tests, fx_group_setup,
				      fx_group_teardown);
}
