// SPDX-License-Identifier: MIT
/* crypto/ and the SEV formulas against the vectors of spec §12.11. */
#include "testutil.h"

#include <openssl/evp.h>

#include "crypto.h"
#include "psp.h"
#include "session.h"

static void test_kdf_vectors(void **state)
{
	uint8_t zero[16] = { 0 }, ms[16], kek[16], kik[16];

	assert_int_equal(crypto_sev_kdf(zero, 16, "sev-master-secret", zero,
					16, ms, 16), 0);
	assert_hex_equal(ms, "ab4d269fcc62bedb4511d56c386ce706");
	assert_int_equal(crypto_sev_kdf(ms, 16, "sev-kek", NULL, 0, kek, 16), 0);
	assert_hex_equal(kek, "b6abfbfb75ea1ea74ed8750b8afdb973");
	assert_int_equal(crypto_sev_kdf(ms, 16, "sev-kik", NULL, 0, kik, 16), 0);
	assert_hex_equal(kik, "53b524bf5669a363f365c864acba8572");
}

static void test_kdf_long_output(void **state)
{
	uint8_t key[16] = { 1 }, a[80], b[32];

	/* Block 1 of a long output equals a 32-byte output only in its
	 * first bytes' derivation inputs except L: they must differ. */
	assert_int_equal(crypto_sev_kdf(key, 16, "x", NULL, 0, a, sizeof(a)), 0);
	assert_int_equal(crypto_sev_kdf(key, 16, "x", NULL, 0, b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, 32);
}

static void test_session_vector(void **state)
{
	uint8_t z[16] = { 0 }, zero[16] = { 0 };
	struct sev_tk tk = { { 0 }, { 0 } }, back;
	struct sev_session s;

	assert_int_equal(sev_session_wrap(z, 16, 0, &tk, zero, zero, &s), 0);
	assert_hex_equal(s.wrap_tk, "2137bc7f9bb8bd7c3e55a576a15d3454b3856b8ba27afadf46dcfee9f02c02c4");
	assert_hex_equal(s.wrap_mac, "3176c0752738bd9d5e86689534020f528c088f16238826b000b327dee6aeed7d");
	assert_hex_equal(s.policy_mac, "aa7855e13839dd767cd5da7c1ff5036540c9264b7a803029315e55375287b4af");
	assert_int_equal(sev_session_unwrap(z, 16, 0, &s, &back),
			 SEV_RET_SUCCESS);
	assert_memory_equal(&back, &tk, sizeof(tk));
	/* A policy the owner did not MAC is refused. */
	assert_int_equal(sev_session_unwrap(z, 16, 1, &s, &back),
			 SEV_RET_BAD_MEASUREMENT);
	s.wrap_tk[0] ^= 1;
	assert_int_equal(sev_session_unwrap(z, 16, 0, &s, &back),
			 SEV_RET_BAD_MEASUREMENT);
}

static void test_measure_vector(void **state)
{
	uint8_t tik[16], mnonce[16], ld[32], m[32];

	unhex("66320db73158a35a255d051758e95ed4", tik, 16);
	unhex("4fbe0bedbad6c86ae8f68971d103e554", mnonce, 16);
	assert_int_equal(crypto_sha256("", 0, ld), 0);
	assert_hex_equal(ld, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(sev_measure(tik, 0, 0x12, 0x0f, 0, ld, mnonce, m), 0);
	assert_hex_equal(m, "6faab2daae389bcd3405a05d6cafe33c0414f7bedd0bae19ba5f38b7fd1664ea");
}

static void test_secret_vectors(void **state)
{
	uint8_t tek[16], tik[16], plain[32] = { 0 }, trans[32], measure[32];
	uint8_t mac[32];
	struct sev_packet_hdr hdr = { 0 };
	int i;

	for (i = 0; i < 16; i++) {
		tek[i] = (uint8_t)i;
		tik[i] = (uint8_t)(0x10 + i);
	}
	unhex("6faab2daae389bcd3405a05d6cafe33c0414f7bedd0bae19ba5f38b7fd1664ea",
	      measure, 32);
	assert_int_equal(crypto_aes128_ctr(tek, hdr.iv, plain, trans, 32), 0);
	assert_hex_equal(trans, "c6a13b37878f5b826f4f8162a1c8d8797346139595c0b41e497bbde365f42d0a");
	assert_int_equal(sev_packet_mac(tik, SEV_MAC_SECRET, &hdr, 32, trans,
					32, measure, mac), 0);
	assert_hex_equal(mac, "93be3bf54d697ad8b5e353dd3486695d7f6fc4447211330f4b7dfee2e98b9056");
	assert_int_equal(sev_packet_mac(tik, SEV_MAC_DATA, &hdr, 32, trans, 32,
					NULL, mac), 0);
	assert_hex_equal(mac, "0d9c6d66069c37629c632c5411b96552780280f6f9d46303d04eabb88c39ff94");
}

/* The memory engine equals OpenSSL's AES-128-XTS with one block per unit. */
static void test_xts_matches_openssl(void **state)
{
	uint8_t k1[16], k2[16], key[32], in[64], out[64], ref[16], iv[16];
	uint64_t pa = 0x123450;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int i, n;

	for (i = 0; i < 16; i++) {
		k1[i] = (uint8_t)i;
		k2[i] = (uint8_t)(0xa0 + i);
	}
	for (i = 0; i < 64; i++)
		in[i] = (uint8_t)(i * 7);
	memcpy(key, k1, 16);
	memcpy(key + 16, k2, 16);
	assert_int_equal(crypto_mem_xts(k1, k2, pa, in, out, 64, 1), 0);
	for (i = 0; i < 4; i++) {
		uint64_t a = pa + 16 * i;

		memset(iv, 0, 16);
		memcpy(iv, &a, 8);
		assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_xts(), NULL,
						    key, iv), 1);
		assert_int_equal(EVP_EncryptUpdate(ctx, ref, &n, in + 16 * i,
						   16), 1);
		assert_memory_equal(ref, out + 16 * i, 16);
	}
	EVP_CIPHER_CTX_free(ctx);
	/* Same plaintext at another address gives other ciphertext. */
	assert_int_equal(crypto_mem_xts(k1, k2, pa + 16, in, ref, 16, 1), 0);
	assert_memory_not_equal(ref, out, 16);
	assert_int_equal(crypto_mem_xts(k1, k2, pa, out, out, 64, 0), 0);
	assert_memory_equal(out, in, 64);
	assert_int_equal(crypto_mem_xts(k1, k2, pa + 1, in, out, 16, 1),
			 -EINVAL);
	assert_int_equal(crypto_mem_xts(k1, k2, pa, in, out, 15, 1), -EINVAL);
}

static void test_p384_roundtrip(void **state)
{
	EVP_PKEY *a, *b, *pub;
	uint8_t qx[48], qy[48], z1[48], z2[48], r[48], s[48];
	const char msg[] = "softsev";

	assert_int_equal(crypto_p384_generate(&a), 0);
	assert_int_equal(crypto_p384_generate(&b), 0);
	assert_int_equal(crypto_p384_public(b, qx, qy), 0);
	assert_int_equal(crypto_p384_from_public(qx, qy, &pub), 0);
	assert_int_equal(crypto_p384_ecdh(a, pub, z1), 0);
	EVP_PKEY_free(pub);
	assert_int_equal(crypto_p384_public(a, qx, qy), 0);
	assert_int_equal(crypto_p384_from_public(qx, qy, &pub), 0);
	assert_int_equal(crypto_p384_ecdh(b, pub, z2), 0);
	assert_memory_equal(z1, z2, 48);
	assert_int_equal(crypto_p384_sign(a, msg, sizeof(msg), r, s), 0);
	assert_int_equal(crypto_p384_verify(pub, msg, sizeof(msg), r, s), 0);
	r[0] ^= 1;
	assert_int_equal(crypto_p384_verify(pub, msg, sizeof(msg), r, s),
			 -EBADMSG);
	EVP_PKEY_free(pub);
	/* A point off the curve is refused. */
	qy[0] ^= 1;
	assert_int_equal(crypto_p384_from_public(qx, qy, &pub), -EINVAL);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}

static void test_rsa_pss_roundtrip(void **state)
{
	uint8_t mod[256], exp[256], sig[256];
	EVP_PKEY *k, *pub;
	const char msg[] = "ark";

	assert_int_equal(crypto_rsa_generate(2048, &k), 0);
	assert_int_equal(crypto_rsa_public(k, mod, 256, exp, 256), 0);
	assert_int_equal(crypto_rsa_from_public(mod, 256, exp, 256, &pub), 0);
	assert_int_equal(crypto_rsa_pss_sign(k, EVP_sha256(), msg, 3, sig, 256),
			 0);
	assert_int_equal(crypto_rsa_pss_verify(pub, EVP_sha256(), msg, 3, sig,
					       256), 0);
	sig[5] ^= 1;
	assert_int_equal(crypto_rsa_pss_verify(pub, EVP_sha256(), msg, 3, sig,
					       256), -EBADMSG);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(k);
}

static void test_key_der_roundtrip(void **state)
{
	EVP_PKEY *k, *back;
	uint8_t *der, qx[48], qy[48], qx2[48], qy2[48];
	size_t len;

	assert_int_equal(crypto_p384_generate(&k), 0);
	assert_int_equal(crypto_key_to_der(k, &der, &len), 0);
	assert_int_equal(crypto_key_from_der(der, len, &back), 0);
	assert_int_equal(crypto_p384_public(k, qx, qy), 0);
	assert_int_equal(crypto_p384_public(back, qx2, qy2), 0);
	assert_memory_equal(qx, qx2, 48);
	EVP_PKEY_free(back);
	assert_int_equal(crypto_key_from_der(der, len - 1, &back), -EBADMSG);
	free(der);
	EVP_PKEY_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kdf_vectors),
		cmocka_unit_test(test_kdf_long_output),
		cmocka_unit_test(test_session_vector),
		cmocka_unit_test(test_measure_vector),
		cmocka_unit_test(test_secret_vectors),
		cmocka_unit_test(test_xts_matches_openssl),
		cmocka_unit_test(test_p384_roundtrip),
		cmocka_unit_test(test_rsa_pss_roundtrip),
		cmocka_unit_test(test_key_der_roundtrip),
	};

	return cmocka_run_group_tests_name("crypto", tests, NULL, NULL);
}
