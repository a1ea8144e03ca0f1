// SPDX-License-Identifier: MIT
/*
 * Migration rows no other test reached (issue 13): SEND_START's checks of
 * the target's chain (§9.26: lengths, addresses, certificate shape, then
 * signatures, then policy), SEND_UPDATE / RECEIVE_UPDATE / FINISH rows
 * (§9.27–§9.32), and the certificate library they rest on (§12.2, §12.3).
 * One platform sends to itself: its own PDH and chain are the target's.
 */
#include "psp_fixture.h"
#include "user_mem.h"

#define SEV_ASID 100

struct sx {
	struct fx f;
	struct sev_cert pdh, chain[3]; /* PEK, OCA, CEK */
	uint8_t amd[4096];
	uint32_t ask_len, amd_len;
	struct sev_session session;
	uint8_t *mem; /* one guest page */
	uint32_t next_asid;
};

static uint8_t guest_page[4096] __attribute__((aligned(4096)));

static int setup(void **state)
{
	struct sx *x = calloc(1, sizeof(*x));
	size_t ask = 2048, ark = 2048;

	fx_open(&x->f, true);
	fx_init(x->f.psp, true);
	fx_export(x->f.psp, &x->pdh, x->chain);
	assert_int_equal(psp_get_ask(x->f.psp, x->amd, &ask), 0);
	assert_int_equal(psp_get_ark(x->f.psp, x->amd + ask, &ark), 0);
	x->ask_len = (uint32_t)ask;
	x->amd_len = (uint32_t)(ask + ark);
	x->next_asid = SEV_ASID;
	x->mem = guest_page;
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct sx *x = *state;

	fx_close(&x->f, true);
	free(x);
	return 0;
}

static int um_cmd(struct psp *psp, unsigned int cmd, void *buf)
{
	return psp_cmd(psp, cmd, buf, &user_mem);
}

static uint32_t running(struct sx *x, uint32_t policy)
{
	uint32_t h = fx_launch(x->f.psp, policy, x->next_asid++);
	struct psp_launch_update u = { h, 0, (uintptr_t)x->mem, 4096 };
	uint8_t out[SEV_MEASURE_LEN];
	struct psp_handle fin = { h };

	assert_int_equal(fx_cmd(x->f.psp, PSP_CMD_LAUNCH_UPDATE_DATA, &u), 0);
	u.paddr = (uintptr_t)out;
	u.length = sizeof(out);
	assert_int_equal(fx_cmd(x->f.psp, PSP_CMD_LAUNCH_MEASURE, &u), 0);
	assert_int_equal(fx_cmd(x->f.psp, PSP_CMD_LAUNCH_FINISH, &fin), 0);
	return h;
}

static void send_buf(struct sx *x, struct psp_send_start *s, uint32_t h,
		     struct sev_cert *chain, uint8_t *amd)
{
	*s = (struct psp_send_start){ 0 };
	s->handle = h;
	s->pdh_cert_paddr = (uintptr_t)&x->pdh;
	s->pdh_cert_len = SEV_CERT_LEN;
	s->plat_certs_paddr = (uintptr_t)chain;
	s->plat_certs_len = SEV_CHAIN_LEN;
	s->amd_certs_paddr = (uintptr_t)amd;
	s->amd_certs_len = x->amd_len;
	s->session_paddr = (uintptr_t)&x->session;
	s->session_len = SEV_SESSION_LEN;
}

/* SEND_START with chain (and amd) changed by the caller: its status. */
static int send(struct sx *x, uint32_t h, struct sev_cert *chain, uint8_t *amd)
{
	struct psp_send_start s;

	send_buf(x, &s, h, chain, amd);
	return um_cmd(x->f.psp, PSP_CMD_SEND_START, &s);
}

/* check_amd_root(): POLICY.SEV checks the AMD chain (§9.26). */
static void test_amd_chain_rows(void **state)
{
	struct sx *x = *state;
	uint32_t h = running(x, SEV_POLICY_SEV);
	uint32_t ark_len = x->amd_len - x->ask_len;
	struct psp_send_start s;
	uint8_t amd[4096];

	send_buf(x, &s, h, x->chain, x->amd);
	s.amd_certs_len = 0;
	assert_int_equal(um_cmd(x->f.psp, PSP_CMD_SEND_START, &s),
			 SEV_RET_INVALID_LEN);
	s.amd_certs_len = 2 * (0x40 + 3 * 512) + 1;
	assert_int_equal(um_cmd(x->f.psp, PSP_CMD_SEND_START, &s),
			 SEV_RET_INVALID_LEN);
	s.amd_certs_len = x->amd_len;
	s.amd_certs_paddr = um_bad_address();
	assert_int_equal(um_cmd(x->f.psp, PSP_CMD_SEND_START, &s),
			 SEV_RET_INVALID_ADDRESS);
	/* ARK before ASK. */
	memcpy(amd, x->amd + x->ask_len, ark_len);
	memcpy(amd + ark_len, x->amd, x->ask_len);
	assert_int_equal(send(x, h, x->chain, amd),
			 SEV_RET_INVALID_CERTIFICATE);
	/* An ASK and a truncated ARK. */
	s.amd_certs_paddr = (uintptr_t)x->amd;
	s.amd_certs_len = x->ask_len + 16;
	assert_int_equal(um_cmd(x->f.psp, PSP_CMD_SEND_START, &s),
			 SEV_RET_INVALID_CERTIFICATE);
	/* The ASK twice. */
	memcpy(amd, x->amd, x->ask_len);
	memcpy(amd + x->ask_len, x->amd, x->ask_len);
	assert_int_equal(send(x, h, x->chain, amd),
			 SEV_RET_INVALID_CERTIFICATE);
	/* The ARK's self-signature (its last byte). */
	memcpy(amd, x->amd, x->amd_len);
	amd[x->amd_len - 1] ^= 1;
	assert_int_equal(send(x, h, x->chain, amd), SEV_RET_BAD_SIGNATURE);
	/* The ASK's signature by the ARK. */
	memcpy(amd, x->amd, x->amd_len);
	amd[x->ask_len - 1] ^= 1;
	assert_int_equal(send(x, h, x->chain, amd), SEV_RET_BAD_SIGNATURE);
	/* The CEK's signature by the ASK (the PEK only uses its key). */
	{
		struct sev_cert chain[3];

		memcpy(chain, x->chain, sizeof(chain));
		chain[2].sig[0].rsa[10] ^= 1;
		assert_int_equal(send(x, h, chain, x->amd),
				 SEV_RET_BAD_SIGNATURE);
	}
	assert_int_equal(send(x, h, x->chain, x->amd), 0);
}

/* check_remote(): shape of each certificate, then each signature. */
static void test_remote_chain_rows(void **state)
{
	struct sx *x = *state;
	uint32_t h = running(x, SEV_POLICY_DOMAIN);
	struct sev_cert c[3];
	struct psp_send_start s;
	int i;

	send_buf(x, &s, h, x->chain, NULL);
	s.pdh_cert_len = SEV_CERT_LEN - 4;
	assert_int_equal(um_cmd(x->f.psp, PSP_CMD_SEND_START, &s),
			 SEV_RET_INVALID_LEN);
	/* The PDH's own shape. */
	{
		struct sev_cert pdh = x->pdh;

		s.pdh_cert_len = SEV_CERT_LEN;
		s.pdh_cert_paddr = (uintptr_t)&pdh;
		pdh.version = 0;
		assert_int_equal(um_cmd(x->f.psp, PSP_CMD_SEND_START, &s),
				 SEV_RET_INVALID_CERTIFICATE);
	}
	/* Each of PEK, OCA, CEK: a bad version, then the wrong usage. */
	for (i = 0; i < 3; i++) {
		memcpy(c, x->chain, sizeof(c));
		c[i].version = 2;
		assert_int_equal(send(x, h, c, NULL),
				 SEV_RET_INVALID_CERTIFICATE);
		memcpy(c, x->chain, sizeof(c));
		c[i].usage = SEV_USAGE_PDH;
		assert_int_equal(send(x, h, c, NULL),
				 SEV_RET_INVALID_CERTIFICATE);
	}
	/* The PEK's OCA signature, its CEK signature, the OCA's own. */
	for (i = 0; i < 3; i++) {
		memcpy(c, x->chain, sizeof(c));
		if (i < 2)
			c[0].sig[i].ecdsa.r[0] ^= 1;
		else
			c[1].sig[0].ecdsa.r[0] ^= 1;
		assert_int_equal(send(x, h, c, NULL), SEV_RET_BAD_SIGNATURE);
	}
	/* POLICY.DOMAIN: this platform's own OCA is the same domain. */
	assert_int_equal(send(x, h, x->chain, NULL), 0);
}

/* §9.26: the remote PEK's API equal to the policy's minimum. */
static void test_remote_api_equal(void **state)
{
	struct sx *x = *state;
	const struct psp_config *pc = psp_config(x->f.psp);
	uint32_t h = running(x, (uint32_t)pc->api_major << 16 |
				       (uint32_t)pc->api_minor << 24);

	assert_int_equal(send(x, h, x->chain, NULL), 0);
}

/* §9.27: SEND_UPDATE_DATA's rows after SEND_START. */
static void test_send_update_rows(void **state)
{
	struct sx *x = *state;
	static uint8_t trans[4096];
	struct sev_packet_hdr hdr;
	struct psp_packet p, ok;
	struct psp_handle hd;
	uint8_t *ro;
	uint32_t h = running(x, 0);

	assert_int_equal(send(x, h, x->chain, NULL), 0);
	ok = (struct psp_packet){ .handle = h,
				  .hdr_paddr = (uintptr_t)&hdr,
				  .hdr_len = SEV_PACKET_HDR_LEN,
				  .guest_paddr = (uintptr_t)x->mem,
				  .guest_len = 64,
				  .trans_paddr = (uintptr_t)trans,
				  .trans_len = 64 };
	p = ok;
	p.handle = 0x7fffffff;
	assert_int_equal(fx_cmd(x->f.psp, PSP_CMD_SEND_UPDATE_DATA, &p),
			 SEV_RET_INVALID_GUEST);
	p = ok;
	p.guest_len = p.trans_len = 0;
	assert_int_equal(fx_cmd(x->f.psp, PSP_CMD_SEND_UPDATE_DATA, &p),
			 SEV_RET_INVALID_LEN);
	p = ok;
	p.guest_len = p.trans_len = 24;
	assert_int_equal(fx_cmd(x->f.psp, PSP_CMD_SEND_UPDATE_DATA, &p),
			 SEV_RET_INVALID_LEN);
	p = ok;
	p.guest_len = p.trans_len = (2u << 20) + 16;
	assert_int_equal(fx_cmd(x->f.psp, PSP_CMD_SEND_UPDATE_DATA, &p),
			 SEV_RET_INVALID_LEN);
	p = ok;
	p.guest_paddr += 8;
	assert_int_equal(fx_cmd(x->f.psp, PSP_CMD_SEND_UPDATE_DATA, &p),
			 SEV_RET_INVALID_ADDRESS);
	p = ok;
	p.guest_paddr = um_bad_address();
	assert_int_equal(um_cmd(x->f.psp, PSP_CMD_SEND_UPDATE_DATA, &p),
			 SEV_RET_INVALID_ADDRESS);
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p = ok;
	p.trans_paddr = (uintptr_t)ro;
	assert_int_equal(um_cmd(x->f.psp, PSP_CMD_SEND_UPDATE_DATA, &p),
			 SEV_RET_INVALID_ADDRESS);
	p = ok;
	p.hdr_paddr = (uintptr_t)ro;
	assert_int_equal(um_cmd(x->f.psp, PSP_CMD_SEND_UPDATE_DATA, &p),
			 SEV_RET_INVALID_ADDRESS);
	munmap(ro, 4096);
	/* DEACTIVATE in SUPDATE: INACTIVE. */
	hd.handle = h;
	assert_int_equal(fx_cmd(x->f.psp, PSP_CMD_DEACTIVATE, &hd), 0);
	p = ok;
	assert_int_equal(fx_cmd(x->f.psp, PSP_CMD_SEND_UPDATE_DATA, &p),
			 SEV_RET_INACTIVE);
	hd.handle = 0x7fffffff;
	assert_int_equal(fx_cmd(x->f.psp, PSP_CMD_SEND_FINISH, &hd),
			 SEV_RET_INVALID_GUEST);
}

/* §9.31, §9.32: RECEIVE_UPDATE_DATA's rows, RECEIVE_FINISH's handle. */
static void test_receive_update_rows(void **state)
{
	struct sx *x = *state;
	static uint8_t trans[64], dst[64] __attribute__((aligned(16)));
	struct sev_packet_hdr hdr;
	struct psp_launch_start rs = { 0 };
	struct psp_activate act;
	struct psp_packet p, ok;
	struct psp_handle hd;
	uint8_t *ro;
	uint32_t h = running(x, 0);

	assert_int_equal(send(x, h, x->chain, NULL), 0);
	ok = (struct psp_packet){ .handle = h,
				  .hdr_paddr = (uintptr_t)&hdr,
				  .hdr_len = SEV_PACKET_HDR_LEN,
				  .guest_paddr = (uintptr_t)x->mem,
				  .guest_len = 64,
				  .trans_paddr = (uintptr_t)trans,
				  .trans_len = 64 };
	p = ok;
	assert_int_equal(fx_cmd(x->f.psp, PSP_CMD_SEND_UPDATE_DATA, &p), 0);
	rs.dh_cert_paddr = (uintptr_t)&x->pdh;
	rs.dh_cert_len = SEV_CERT_LEN;
	rs.session_paddr = (uintptr_t)&x->session;
	rs.session_len = SEV_SESSION_LEN;
	assert_int_equal(fx_cmd(x->f.psp, PSP_CMD_RECEIVE_START, &rs), 0);
	act.handle = rs.handle;
	act.asid = x->next_asid++;
	assert_int_equal(fx_cmd(x->f.psp, PSP_CMD_ACTIVATE, &act), 0);
	ok.handle = rs.handle;
	ok.guest_paddr = (uintptr_t)dst;
	p = ok;
	p.handle = 0x7fffffff;
	assert_int_equal(fx_cmd(x->f.psp, PSP_CMD_RECEIVE_UPDATE_DATA, &p),
			 SEV_RET_INVALID_GUEST);
	p = ok;
	p.hdr_len = SEV_PACKET_HDR_LEN + 4;
	assert_int_equal(fx_cmd(x->f.psp, PSP_CMD_RECEIVE_UPDATE_DATA, &p),
			 SEV_RET_INVALID_LEN);
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p = ok;
	p.guest_paddr = (uintptr_t)ro;
	assert_int_equal(um_cmd(x->f.psp, PSP_CMD_RECEIVE_UPDATE_DATA, &p),
			 SEV_RET_INVALID_ADDRESS);
	munmap(ro, 4096);
	p = ok;
	assert_int_equal(fx_cmd(x->f.psp, PSP_CMD_RECEIVE_UPDATE_DATA, &p), 0);
	assert_memory_equal(dst, x->mem, 64);
	hd.handle = 0x7fffffff;
	assert_int_equal(fx_cmd(x->f.psp, PSP_CMD_RECEIVE_FINISH, &hd),
			 SEV_RET_INVALID_GUEST);
}

/* sev_cert_check() / sev_cert_verify(): §12.2's shape and signatures. */
static void test_sev_cert_rows(void **state)
{
	struct sx *x = *state;
	struct sev_cert c, s;
	EVP_PKEY *key;

	c = x->chain[0];
	c.algo = SEV_ALGO_RSA_SHA256;
	assert_int_equal(sev_cert_check(&c), -EINVAL);
	c = x->chain[0];
	c.pubkey.ecc.curve = 3;
	assert_int_equal(sev_cert_check(&c), -EINVAL);
	c = x->chain[0];
	c.usage = SEV_USAGE_ARK;
	assert_int_equal(sev_cert_pubkey(&c, &key), -EINVAL);
	assert_int_equal(sev_cert_check(&x->pdh), 0);
	/* A signer that is not an ECDSA key, or not a valid one. */
	s = x->chain[0];
	s.algo = SEV_ALGO_ECDH_SHA256;
	assert_int_equal(sev_cert_verify(&x->pdh, &s), -EINVAL);
	s = x->chain[0];
	s.version = 0;
	assert_int_equal(sev_cert_verify(&x->pdh, &s), -EINVAL);
	/* A slot with the signer's usage but another algorithm. */
	c = x->pdh;
	c.sig[0].algo = SEV_ALGO_ECDSA_SHA384;
	assert_int_equal(sev_cert_verify(&c, &x->chain[0]), -ENOENT);
	/* No slot signed with the signer's usage. */
	assert_int_equal(sev_cert_verify(&x->pdh, &x->chain[1]), -ENOENT);
	assert_int_equal(sev_cert_verify(&x->pdh, &x->chain[0]), 0);
}

/* amd_cert_parse() / amd_cert_verify(): §12.3's layout. */
static void test_amd_cert_rows(void **state)
{
	struct sx *x = *state;
	struct amd_cert ask, ark, bad;
	uint8_t buf[4096];
	uint32_t v;

	assert_int_equal(amd_cert_parse(x->amd, x->ask_len, &ask), 0);
	assert_int_equal(amd_cert_parse(x->amd + x->ask_len,
					x->amd_len - x->ask_len, &ark), 0);
	assert_int_equal(amd_cert_parse(x->amd, 0x3f, &bad), -EINVAL);
	assert_int_equal(amd_cert_parse(x->amd, x->ask_len - 1, &bad),
			 -EINVAL);
	memcpy(buf, x->amd, x->ask_len);
	v = 2;
	memcpy(buf, &v, 4); /* version */
	assert_int_equal(amd_cert_parse(buf, x->ask_len, &bad), -EINVAL);
	memcpy(buf, x->amd, x->ask_len);
	v = 3072;
	memcpy(buf + 0x38, &v, 4);
	memcpy(buf + 0x3C, &v, 4); /* modulus 3072 */
	assert_int_equal(amd_cert_parse(buf, x->ask_len, &bad), -EINVAL);
	memcpy(buf, x->amd, x->ask_len);
	v = ark.modulus_bits == 2048 ? 4096 : 2048;
	memcpy(buf + 0x38, &v, 4); /* PUB_EXP_SIZE != MODULUS_SIZE */
	assert_int_equal(amd_cert_parse(buf, x->ask_len, &bad), -EINVAL);
	memcpy(buf, x->amd, x->ask_len);
	v = SEV_USAGE_PEK;
	memcpy(buf + 0x24, &v, 4);
	assert_int_equal(amd_cert_parse(buf, x->ask_len, &bad), -EINVAL);
	/* The ARK did not certify itself through the ASK's key id. */
	assert_int_equal(amd_cert_verify(&ark, &ask), -ENOENT);
	assert_int_equal(amd_cert_verify(&ask, &ark), 0);
	assert_int_equal(sev_cert_verify_amd(&x->chain[2], &ask), 0);
	/* A signature field narrower than the signer's modulus. */
	bad = ask;
	bad.modulus_bits = ark.modulus_bits == 4096 ? 2048 : 4096;
	assert_int_equal(amd_cert_verify(&bad, &ark), -EINVAL);
}

/* amd_cert_build(): key sizes and the buffer (§12.3). */
static void test_amd_cert_build(void **state)
{
	static uint8_t buf[0x40 + 3 * 512];
	uint8_t id[16] = { 1 };
	EVP_PKEY *k2048;
	struct amd_cert c;

	assert_int_equal(crypto_rsa_generate(2048, &k2048), 0);
	assert_int_equal(amd_cert_build(buf, amd_cert_size(2048) - 1,
					SEV_USAGE_ARK, id, id, k2048, NULL),
			 -EINVAL);
	assert_int_equal(amd_cert_build(buf, sizeof(buf), SEV_USAGE_ARK, id,
					id, k2048, NULL), 0);
	assert_int_equal(amd_cert_parse(buf, sizeof(buf), &c), 0);
	assert_int_equal(amd_cert_verify(&c, &c), 0);
	EVP_PKEY_free(k2048);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_amd_chain_rows, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_remote_chain_rows, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_remote_api_equal, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_send_update_rows, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_receive_update_rows,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_sev_cert_rows, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_amd_cert_rows, setup,
						teardown),
		cmocka_unit_test(test_amd_cert_build),
	};

	return cmocka_run_group_tests(tests, fx_group_setup,
				      fx_group_teardown);
}
