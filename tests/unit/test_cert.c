// SPDX-License-Identifier: MIT
/* Certificate parsing and verification against real AMD certificates. */
#include "testutil.h"

#include "crypto.h"
#include "sevcert.h"

static void load_sev(const char *name, struct sev_cert *c)
{
	assert_int_equal(read_vector(name, (uint8_t *)c, sizeof(*c)),
			 sizeof(*c));
}

static void load_amd(const char *name, uint8_t *buf, size_t max,
		     struct amd_cert *c)
{
	size_t n = read_vector(name, buf, max);

	assert_int_equal(amd_cert_parse(buf, n, c), 0);
}

static void check_chain(const char *gen, unsigned int bits)
{
	static uint8_t arkb[2048], askb[2048];
	struct sev_cert oca, pek, pdh, cek;
	struct amd_cert ark, ask;
	char name[64];

	snprintf(name, sizeof(name), "%s-ark.cert", gen);
	load_amd(name, arkb, sizeof(arkb), &ark);
	snprintf(name, sizeof(name), "%s-ask.cert", gen);
	load_amd(name, askb, sizeof(askb), &ask);
	assert_int_equal(ark.modulus_bits, bits);
	assert_int_equal(ark.key_usage, SEV_USAGE_ARK);
	assert_int_equal(ask.key_usage, SEV_USAGE_ASK);
	assert_int_equal(amd_cert_verify(&ark, &ark), 0);
	assert_int_equal(amd_cert_verify(&ask, &ark), 0);
	/* The ASK is not self-signed. */
	assert_int_equal(amd_cert_verify(&ask, &ask), -ENOENT);

	snprintf(name, sizeof(name), "%s-cek.cert", gen);
	load_sev(name, &cek);
	snprintf(name, sizeof(name), "%s-oca.cert", gen);
	load_sev(name, &oca);
	snprintf(name, sizeof(name), "%s-pek.cert", gen);
	load_sev(name, &pek);
	snprintf(name, sizeof(name), "%s-pdh.cert", gen);
	load_sev(name, &pdh);
	assert_int_equal(sev_cert_verify_amd(&cek, &ask), 0);
	assert_int_equal(sev_cert_verify(&oca, &oca), 0);
	assert_int_equal(sev_cert_verify(&pek, &oca), 0);
	assert_int_equal(sev_cert_verify(&pek, &cek), 0);
	assert_int_equal(sev_cert_verify(&pdh, &pek), 0);
	assert_int_equal(pdh.algo, SEV_ALGO_ECDH_SHA256);
	/* Wrong signer: PDH is not signed by the OCA. */
	assert_int_equal(sev_cert_verify(&pdh, &oca), -ENOENT);
	/* One flipped bit in the signed body breaks the signature. */
	pdh.pubkey.ecc.qx[3] ^= 0x10;
	assert_int_not_equal(sev_cert_verify(&pdh, &pek), 0);
	cek.api_minor ^= 1;
	assert_int_equal(sev_cert_verify_amd(&cek, &ask), -EBADMSG);
}

static void test_naples_chain(void **state)
{
	check_chain("naples", 2048);
}

static void test_rome_chain(void **state)
{
	check_chain("rome", 4096);
}

static void test_root_certs_all_generations(void **state)
{
	static const char *const gens[] = { "naples", "rome", "milan",
					    "genoa", "turin" };
	static uint8_t arkb[2048], askb[2048];
	struct amd_cert ark, ask;
	char name[64];
	size_t i;

	for (i = 0; i < sizeof(gens) / sizeof(gens[0]); i++) {
		snprintf(name, sizeof(name), "%s-ark.cert", gens[i]);
		load_amd(name, arkb, sizeof(arkb), &ark);
		snprintf(name, sizeof(name), "%s-ask.cert", gens[i]);
		load_amd(name, askb, sizeof(askb), &ask);
		assert_int_equal(amd_cert_verify(&ark, &ark), 0);
		assert_int_equal(amd_cert_verify(&ask, &ark), 0);
	}
}

static void test_amd_ids(void **state)
{
	static uint8_t buf[2048];
	struct amd_cert c;

	load_amd("rome-ark.cert", buf, sizeof(buf), &c);
	assert_hex_equal(c.key_id, "e6002122fb58419399d15fee7b131351");
	load_amd("rome-ask.cert", buf, sizeof(buf), &c);
	assert_hex_equal(c.key_id, "c6cbcf145b3146f498e40ecb4ad4fded");
	load_amd("naples-ark.cert", buf, sizeof(buf), &c);
	assert_hex_equal(c.key_id, "1bb987c359494606b174945601c9ea5b");
	assert_int_equal(c.len, 832);
	load_amd("milan-ark.cert", buf, sizeof(buf), &c);
	assert_hex_equal(c.key_id, "94c38e4177d0479292a7ae671d083fb6");
	assert_int_equal(c.len, 1600);
}

static void test_amd_parse_rejects(void **state)
{
	static uint8_t buf[2048];
	struct amd_cert c;
	size_t n = read_vector("rome-ark.cert", buf, sizeof(buf));

	assert_int_equal(amd_cert_parse(buf, n - 1, &c), -EINVAL);
	assert_int_equal(amd_cert_parse(buf, 10, &c), -EINVAL);
	buf[0] = 2;
	assert_int_equal(amd_cert_parse(buf, n, &c), -EINVAL);
	buf[0] = 1;
	buf[0x3D] = 0x08; /* modulus 2048 bits, exponent field 4096 */
	assert_int_equal(amd_cert_parse(buf, n, &c), -EINVAL);
}

static void test_build_and_sign(void **state)
{
	uint8_t id1[16] = { 1 }, id2[16] = { 2 };
	static uint8_t arkb[1600], askb[1600];
	struct amd_cert ark, ask;
	EVP_PKEY *ark_key, *ask_key, *cek_key, *pek_key;
	struct sev_cert cek, pek;

	assert_int_equal(crypto_rsa_generate(2048, &ark_key), 0);
	assert_int_equal(crypto_rsa_generate(2048, &ask_key), 0);
	assert_int_equal(amd_cert_build(arkb, sizeof(arkb), SEV_USAGE_ARK, id1,
					id1, ark_key, NULL), 0);
	assert_int_equal(amd_cert_build(askb, sizeof(askb), SEV_USAGE_ASK, id2,
					id1, ask_key, ark_key), 0);
	assert_int_equal(amd_cert_parse(arkb, 832, &ark), 0);
	assert_int_equal(amd_cert_parse(askb, 832, &ask), 0);
	assert_int_equal(amd_cert_verify(&ark, &ark), 0);
	assert_int_equal(amd_cert_verify(&ask, &ark), 0);

	assert_int_equal(crypto_p384_generate(&cek_key), 0);
	assert_int_equal(crypto_p384_generate(&pek_key), 0);
	assert_int_equal(sev_cert_init_ec(&cek, SEV_USAGE_CEK,
					  SEV_ALGO_ECDSA_SHA256, 0, 14,
					  cek_key), 0);
	assert_int_equal(sev_cert_sign_rsa(&cek, 0, &ask, ask_key), 0);
	assert_int_equal(sev_cert_verify_amd(&cek, &ask), 0);
	assert_int_equal(sev_cert_init_ec(&pek, SEV_USAGE_PEK,
					  SEV_ALGO_ECDSA_SHA256, 1, 55,
					  pek_key), 0);
	assert_int_equal(sev_cert_sign_ec(&pek, 1, SEV_USAGE_CEK, cek_key), 0);
	assert_int_equal(sev_cert_verify(&pek, &cek), 0);
	assert_int_equal(pek.sig[0].usage, SEV_USAGE_INVALID);
	assert_int_equal(pek.sig[0].algo, 0);
	EVP_PKEY_free(ark_key);
	EVP_PKEY_free(ask_key);
	EVP_PKEY_free(cek_key);
	EVP_PKEY_free(pek_key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_naples_chain),
		cmocka_unit_test(test_rome_chain),
		cmocka_unit_test(test_root_certs_all_generations),
		cmocka_unit_test(test_amd_ids),
		cmocka_unit_test(test_amd_parse_rejects),
		cmocka_unit_test(test_build_and_sign),
	};

	return cmocka_run_group_tests_name("cert", tests, NULL, NULL);
}
