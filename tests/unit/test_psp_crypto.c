// SPDX-License-Identifier: MIT
/*
 * The firmware when its own cryptography fails (fidelity F1: internal
 * failures answer HWERROR_PLATFORM, and nothing is left half-made).
 *
 * The binary is linked with --wrap for the crypto_* calls psp makes, so
 * arm(n) makes the nth of those calls from then on fail.  Each operation
 * is swept over n = 1, 2, ... until it runs to the end without reaching
 * the armed call; at every n it must fail with the status it documents,
 * leave the platform and guest table as they were, and leave the
 * platform working.  The wrappers fail before doing anything, except
 * the ones that free or finish an object, which do their work first
 * (a failing OpenSSL call still releases what it was given).
 */
#include "psp_fixture.h"

static unsigned int armed, calls;

static void arm(unsigned int n)
{
	armed = n;
	calls = 0;
}

/* the armed call was reached (and failed) */
static bool fired(void)
{
	bool f = armed && calls >= armed;

	armed = 0;
	return f;
}

static bool hit(void)
{
	return armed && ++calls == armed;
}

#define WRAP(name, params, args)                              \
	int __real_##name params;                             \
	int __wrap_##name params;                             \
	int __wrap_##name params                              \
	{                                                     \
		return hit() ? -EIO : __real_##name args;     \
	}

WRAP(crypto_random, (void *b, size_t l), (b, l))
WRAP(crypto_sha256, (const void *d, size_t l, uint8_t *o), (d, l, o))
WRAP(crypto_hmac_sha256,
     (const uint8_t *k, size_t kl, const void *d, size_t l, uint8_t *o),
     (k, kl, d, l, o))
WRAP(crypto_hmac_begin, (struct crypto_hmac **h, const uint8_t *k, size_t l),
     (h, k, l))
WRAP(crypto_hmac_add, (struct crypto_hmac *h, const void *d, size_t l),
     (h, d, l))
WRAP(crypto_sha_begin, (struct crypto_sha **s), (s))
WRAP(crypto_sha_add, (struct crypto_sha *s, const void *d, size_t l),
     (s, d, l))
WRAP(crypto_sev_kdf,
     (const uint8_t *k, size_t kl, const char *lb, const uint8_t *c,
      size_t cl, uint8_t *o, size_t ol),
     (k, kl, lb, c, cl, o, ol))
WRAP(crypto_aes128_ctr,
     (const uint8_t *k, const uint8_t *iv, const void *i, void *o, size_t l),
     (k, iv, i, o, l))
WRAP(crypto_p384_generate, (EVP_PKEY **k), (k))
WRAP(crypto_p384_ecdh, (EVP_PKEY *p, EVP_PKEY *q, uint8_t *z), (p, q, z))
WRAP(crypto_p384_sign,
     (EVP_PKEY *p, const void *d, size_t l, uint8_t *r, uint8_t *s),
     (p, d, l, r, s))
WRAP(crypto_rsa_pss_sign,
     (EVP_PKEY *p, const EVP_MD *md, const void *d, size_t l, uint8_t *sig,
      size_t sl),
     (p, md, d, l, sig, sl))
WRAP(crypto_key_to_der, (EVP_PKEY *k, uint8_t **d, size_t *l), (k, d, l))

/* Finishing an HMAC frees it: do that, then report the failure. */
int __real_crypto_hmac_end(struct crypto_hmac *h, uint8_t *out);
int __wrap_crypto_hmac_end(struct crypto_hmac *h, uint8_t *out);
int __wrap_crypto_hmac_end(struct crypto_hmac *h, uint8_t *out)
{
	int ret = __real_crypto_hmac_end(h, out);

	return hit() ? -EIO : ret;
}

#define SWEEP_MAX 400

/* INIT makes the OCA, PEK and PDH: any failure leaves it UNINIT. */
static void test_init(void **state)
{
	struct psp_init init = { 0 };
	struct fx f = { 0 };
	unsigned int n;
	int st;

	for (n = 1; n < SWEEP_MAX; n++) {
		struct psp *psp = fx_open(&f, true);

		arm(n);
		st = fx_cmd(psp, PSP_CMD_INIT, &init);
		if (!fired()) {
			assert_int_equal(st, SEV_RET_SUCCESS);
			fx_close(&f, true);
			break;
		}
		assert_int_equal(st, SEV_RET_HWSEV_RET_PLATFORM);
		assert_int_equal(psp_platform_state(psp), 0); /* UNINIT */
		fx_close(&f, true);
	}
	assert_true(n > 1 && n < SWEEP_MAX);
}

/*
 * PEK_GEN and PDH_GEN in INIT: a failure keeps the identity the platform
 * had, whole (its PDH still verifies under its PEK).
 */
static void sweep_identity_cmd(unsigned int cmd, void *buf)
{
	struct sev_cert pdh, chain[3], pdh0, chain0[3];
	struct fx f = { 0 };
	struct psp *psp = fx_open(&f, true);
	unsigned int n;
	int st;

	fx_init(psp, false);
	fx_export(psp, &pdh0, chain0);
	for (n = 1; n < SWEEP_MAX; n++) {
		arm(n);
		st = fx_cmd(psp, cmd, buf);
		if (!fired()) {
			assert_int_equal(st, SEV_RET_SUCCESS);
			break;
		}
		assert_int_equal(st, SEV_RET_HWSEV_RET_PLATFORM);
		fx_export(psp, &pdh, chain);
		assert_memory_equal(&pdh, &pdh0, sizeof(pdh));
		assert_memory_equal(chain, chain0, sizeof(chain));
	}
	/* the new identity is whole */
	fx_export(psp, &pdh, chain);
	assert_memory_not_equal(&pdh, &pdh0, sizeof(pdh));
	assert_int_equal(sev_cert_verify(&pdh, &chain[0]), 0);
	assert_true(n > 1 && n < SWEEP_MAX);
	fx_close(&f, true);
}

static void test_pek_gen(void **state)
{
	sweep_identity_cmd(PSP_CMD_PEK_GEN, NULL);
}

static void test_pdh_gen(void **state)
{
	sweep_identity_cmd(PSP_CMD_PDH_GEN, NULL);
}

/*
 * A launch with an owner session, its measurement and secret: at each
 * failure point the command fails and no guest context is left behind
 * by a LAUNCH_START that did not succeed.
 */
struct launch {
	struct fx f;
	struct psp *psp;
	struct fx_owner o;
	uint32_t handle;
};

static void launch_open(struct launch *l)
{
	struct sev_cert pdh, chain[3];

	memset(l, 0, sizeof(*l));
	l->psp = fx_open(&l->f, true);
	fx_init(l->psp, false);
	fx_export(l->psp, &pdh, chain);
	fx_owner_session(&l->o, &pdh, 0);
}

static int launch_start(struct launch *l)
{
	struct psp_launch_start ls = {
		.dh_cert_paddr = (uintptr_t)&l->o.godh_cert,
		.dh_cert_len = SEV_CERT_LEN,
		.session_paddr = (uintptr_t)&l->o.session,
		.session_len = sizeof(l->o.session),
	};
	int st = fx_cmd(l->psp, PSP_CMD_LAUNCH_START, &ls);

	l->handle = ls.handle;
	return st;
}

static void launch_close(struct launch *l)
{
	fx_owner_free(&l->o);
	fx_close(&l->f, true);
}

static void test_launch_start(void **state)
{
	struct launch l;
	unsigned int n;
	int st;

	launch_open(&l);
	for (n = 1; n < SWEEP_MAX; n++) {
		arm(n);
		st = launch_start(&l);
		if (!fired())
			break;
		/* a failing unwrap is the session's MAC: BAD_MEASUREMENT */
		/*
		 * ECDH failing reads as a GODH key the PDH cannot agree
		 * with (INVALID_CERTIFICATE); a failing unwrap as the
		 * session's MAC (BAD_MEASUREMENT); the rest as HWERROR.
		 */
		assert_true(st == SEV_RET_HWSEV_RET_PLATFORM ||
			    st == SEV_RET_INVALID_CERTIFICATE ||
			    st == SEV_RET_BAD_MEASUREMENT);
		assert_int_equal(psp_guest_count(l.psp), 0);
	}
	assert_int_equal(st, SEV_RET_SUCCESS);
	assert_true(n > 1 && n < SWEEP_MAX);
	assert_int_equal(psp_guest_count(l.psp), 1);
	launch_close(&l);
}

static void test_measure_and_secret(void **state)
{
	static uint8_t mem[4096] __attribute__((aligned(4096)));
	static uint8_t dst[4096] __attribute__((aligned(4096)));
	uint8_t out[48], trans[64], secret[64] = "a secret";
	struct sev_packet_hdr hdr = { 0 };
	struct psp_launch_update u;
	struct psp_activate act;
	struct psp_packet p = { 0 };
	struct launch l;
	unsigned int n;
	int st;

	launch_open(&l);
	assert_int_equal(launch_start(&l), SEV_RET_SUCCESS);
	act = (struct psp_activate){ l.handle, 200 };
	assert_int_equal(fx_cmd(l.psp, PSP_CMD_ACTIVATE, &act), 0);
	memset(mem, 0x3c, sizeof(mem));
	for (n = 1; n < SWEEP_MAX; n++) {
		u = (struct psp_launch_update){ l.handle, 0, (uintptr_t)mem,
						sizeof(mem) };
		arm(n);
		st = fx_cmd(l.psp, PSP_CMD_LAUNCH_UPDATE_DATA, &u);
		if (!fired())
			break;
		assert_int_equal(st, SEV_RET_HWSEV_RET_PLATFORM);
	}
	assert_int_equal(st, SEV_RET_SUCCESS);
	for (n = 1; n < SWEEP_MAX; n++) {
		u = (struct psp_launch_update){ l.handle, 0, (uintptr_t)out,
						sizeof(out) };
		arm(n);
		st = fx_cmd(l.psp, PSP_CMD_LAUNCH_MEASURE, &u);
		if (!fired())
			break;
		assert_int_equal(st, SEV_RET_HWSEV_RET_PLATFORM);
	}
	assert_int_equal(st, SEV_RET_SUCCESS);
	assert_true(n > 1 && n < SWEEP_MAX);
	/* the owner's packet, made with the wrappers disarmed */
	assert_int_equal(crypto_random(hdr.iv, 16), 0);
	assert_int_equal(crypto_aes128_ctr(l.o.tk.tek, hdr.iv, secret, trans,
					   sizeof(trans)), 0);
	assert_int_equal(sev_packet_mac(l.o.tk.tik, SEV_MAC_SECRET, &hdr, 64,
					trans, 64, out, hdr.mac), 0);
	p = (struct psp_packet){ .handle = l.handle,
				 .hdr_paddr = (uintptr_t)&hdr,
				 .hdr_len = SEV_PACKET_HDR_LEN,
				 .guest_paddr = (uintptr_t)dst,
				 .guest_len = 64,
				 .trans_paddr = (uintptr_t)trans,
				 .trans_len = 64 };
	for (n = 1; n < SWEEP_MAX; n++) {
		arm(n);
		st = fx_cmd(l.psp, PSP_CMD_LAUNCH_SECRET, &p);
		if (!fired())
			break;
		/* a MAC that cannot be computed does not match either */
		assert_true(st == SEV_RET_HWSEV_RET_PLATFORM ||
			    st == SEV_RET_BAD_MEASUREMENT);
		assert_memory_not_equal(dst, secret, 16);
	}
	assert_int_equal(st, SEV_RET_SUCCESS);
	assert_true(n > 1 && n < SWEEP_MAX);
	assert_memory_equal(dst, secret, 64);
	launch_close(&l);
}

/* ATTESTATION signs with the PEK. */
static void test_attestation(void **state)
{
	static uint8_t report[0xd0];
	struct psp_attestation a;
	struct launch l;
	unsigned int n;
	int st;

	launch_open(&l);
	assert_int_equal(launch_start(&l), SEV_RET_SUCCESS);
	{
		struct psp_launch_update u = { l.handle, 0, (uintptr_t)report,
					       0x30 };
		struct psp_activate act = { l.handle, 200 };

		assert_int_equal(fx_cmd(l.psp, PSP_CMD_ACTIVATE, &act), 0);
		assert_int_equal(fx_cmd(l.psp, PSP_CMD_LAUNCH_MEASURE, &u), 0);
	}
	for (n = 1; n < SWEEP_MAX; n++) {
		a = (struct psp_attestation){ .handle = l.handle,
					      .paddr = (uintptr_t)report,
					      .length = sizeof(report) };
		arm(n);
		st = fx_cmd(l.psp, PSP_CMD_ATTESTATION, &a);
		if (!fired())
			break;
		assert_int_equal(st, SEV_RET_HWSEV_RET_PLATFORM);
	}
	assert_int_equal(st, SEV_RET_SUCCESS);
	assert_true(n > 1 && n < SWEEP_MAX);
	launch_close(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_pek_gen),
		cmocka_unit_test(test_pdh_gen),
		cmocka_unit_test(test_launch_start),
		cmocka_unit_test(test_measure_and_secret),
		cmocka_unit_test(test_attestation),
	};

	return cmocka_run_group_tests_name("psp_crypto", tests,
					   fx_group_setup, fx_group_teardown);
}
