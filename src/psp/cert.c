// SPDX-License-Identifier: MIT
/* SEV and AMD certificate formats (firmware spec §12.2, §12.3). */
#include <errno.h>
#include <string.h>

#include "crypto.h"
#include "sevcert.h"

int sev_cert_init_ec(struct sev_cert *c, uint32_t usage, uint32_t algo,
		     uint8_t api_major, uint8_t api_minor, EVP_PKEY *key)
{
	memset(c, 0, sizeof(*c));
	c->version = 1;
	c->api_major = api_major;
	c->api_minor = api_minor;
	c->usage = usage;
	c->algo = algo;
	c->pubkey.ecc.curve = SEV_CURVE_P384;
	c->sig[0].usage = SEV_USAGE_INVALID;
	c->sig[1].usage = SEV_USAGE_INVALID;
	return crypto_p384_public(key, c->pubkey.ecc.qx, c->pubkey.ecc.qy);
}

int sev_cert_sign_ec(struct sev_cert *c, int slot, uint32_t signer_usage,
		     EVP_PKEY *signer)
{
	struct sev_sig *s = &c->sig[slot];

	memset(s, 0, sizeof(*s));
	s->usage = signer_usage;
	s->algo = SEV_ALGO_ECDSA_SHA256;
	return crypto_p384_sign(signer, c, SEV_CERT_SIGNED_LEN, s->ecdsa.r,
				s->ecdsa.s);
}

static int is_ec_algo(uint32_t algo)
{
	switch (algo) {
	case SEV_ALGO_ECDSA_SHA256:
	case SEV_ALGO_ECDSA_SHA384:
	case SEV_ALGO_ECDH_SHA256:
	case SEV_ALGO_ECDH_SHA384:
		return 1;
	}
	return 0;
}

int sev_cert_check(const struct sev_cert *c)
{
	if (c->version != 1)
		return -EINVAL;
	switch (c->usage) {
	case SEV_USAGE_OCA:
	case SEV_USAGE_PEK:
	case SEV_USAGE_PDH:
	case SEV_USAGE_CEK:
		break;
	default:
		return -EINVAL;
	}
	if (!is_ec_algo(c->algo) || c->pubkey.ecc.curve != SEV_CURVE_P384)
		return -EINVAL;
	return 0;
}

int sev_cert_pubkey(const struct sev_cert *c, EVP_PKEY **key)
{
	int ret = sev_cert_check(c);

	if (ret)
		return ret;
	/* Only 48 of the 72 coordinate bytes are used for P-384. */
	return crypto_p384_from_public(c->pubkey.ecc.qx, c->pubkey.ecc.qy, key);
}

int sev_cert_verify(const struct sev_cert *c, const struct sev_cert *signer)
{
	EVP_PKEY *key;
	int i, ret;

	if (signer->algo != SEV_ALGO_ECDSA_SHA256)
		return -EINVAL;
	ret = sev_cert_pubkey(signer, &key);
	if (ret)
		return ret;
	ret = -ENOENT;
	for (i = 0; i < 2; i++) {
		const struct sev_sig *s = &c->sig[i];

		if (s->usage != signer->usage || s->algo != signer->algo)
			continue;
		ret = crypto_p384_verify(key, c, SEV_CERT_SIGNED_LEN,
					 s->ecdsa.r, s->ecdsa.s);
		if (!ret)
			break;
	}
	EVP_PKEY_free(key);
	return ret;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

size_t amd_cert_size(unsigned int bits)
{
	return AMD_CERT_HDR_LEN + 3 * (bits / 8);
}

int amd_cert_parse(const uint8_t *buf, size_t len, struct amd_cert *c)
{
	size_t mod_len;

	if (len < AMD_CERT_HDR_LEN)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	c->version = le32(buf);
	memcpy(c->key_id, buf + 0x04, 16);
	memcpy(c->certifying_id, buf + 0x14, 16);
	c->key_usage = le32(buf + 0x24);
	c->pub_exp_bits = le32(buf + 0x38);
	c->modulus_bits = le32(buf + 0x3C);
	if (c->version != 1)
		return -EINVAL;
	if (c->modulus_bits != 2048 && c->modulus_bits != 4096)
		return -EINVAL;
	if (c->pub_exp_bits != c->modulus_bits)
		return -EINVAL;
	if (c->key_usage != SEV_USAGE_ARK && c->key_usage != SEV_USAGE_ASK)
		return -EINVAL;
	mod_len = c->modulus_bits / 8;
	if (len < amd_cert_size(c->modulus_bits))
		return -EINVAL;
	c->pub_exp = buf + AMD_CERT_HDR_LEN;
	c->modulus = c->pub_exp + mod_len;
	c->sig = c->modulus + mod_len;
	c->raw = buf;
	c->len = amd_cert_size(c->modulus_bits);
	return 0;
}

int amd_cert_pubkey(const struct amd_cert *c, EVP_PKEY **key)
{
	return crypto_rsa_from_public(c->modulus, c->modulus_bits / 8,
				      c->pub_exp, c->pub_exp_bits / 8, key);
}

static const EVP_MD *amd_md(unsigned int bits)
{
	return bits == 2048 ? EVP_sha256() : EVP_sha384();
}

int amd_cert_verify(const struct amd_cert *c, const struct amd_cert *signer)
{
	size_t signed_len = AMD_CERT_HDR_LEN + 2 * (c->modulus_bits / 8);
	size_t sig_len = signer->modulus_bits / 8;
	EVP_PKEY *key;
	int ret;

	if (memcmp(signer->key_id, c->certifying_id, 16))
		return -ENOENT;
	/* The signature field is as wide as the signed key's modulus. */
	if (sig_len != c->modulus_bits / 8)
		return -EINVAL;
	ret = amd_cert_pubkey(signer, &key);
	if (ret)
		return ret;
	ret = crypto_rsa_pss_verify(key, amd_md(signer->modulus_bits), c->raw,
				    signed_len, c->sig, sig_len);
	EVP_PKEY_free(key);
	return ret;
}

int amd_cert_build(uint8_t *buf, size_t len, uint32_t usage,
		   const uint8_t key_id[16], const uint8_t certifying_id[16],
		   EVP_PKEY *key, EVP_PKEY *signer_key)
{
	int bits = crypto_rsa_bits(key);
	size_t n = (size_t)bits / 8;
	int ret;

	if ((bits != 2048 && bits != 4096) || len < amd_cert_size(bits))
		return -EINVAL;
	if (signer_key && crypto_rsa_bits(signer_key) != bits)
		return -EINVAL;
	memset(buf, 0, amd_cert_size(bits));
	put_le32(buf, 1);
	memcpy(buf + 0x04, key_id, 16);
	memcpy(buf + 0x14, certifying_id, 16);
	put_le32(buf + 0x24, usage);
	put_le32(buf + 0x38, bits);
	put_le32(buf + 0x3C, bits);
	ret = crypto_rsa_public(key, buf + AMD_CERT_HDR_LEN + n, n,
				buf + AMD_CERT_HDR_LEN, n);
	if (ret)
		return ret;
	return crypto_rsa_pss_sign(signer_key ? signer_key : key, amd_md(bits),
				   buf, AMD_CERT_HDR_LEN + 2 * n,
				   buf + AMD_CERT_HDR_LEN + 2 * n, n);
}

static uint32_t ask_algo(const struct amd_cert *ask)
{
	return ask->modulus_bits == 2048 ? SEV_ALGO_RSA_SHA256 :
					   SEV_ALGO_RSA_SHA384;
}

int sev_cert_sign_rsa(struct sev_cert *c, int slot, const struct amd_cert *ask,
		      EVP_PKEY *ask_key)
{
	struct sev_sig *s = &c->sig[slot];

	memset(s, 0, sizeof(*s));
	s->usage = SEV_USAGE_ASK;
	s->algo = ask_algo(ask);
	return crypto_rsa_pss_sign(ask_key, amd_md(ask->modulus_bits), c,
				   SEV_CERT_SIGNED_LEN, s->rsa,
				   ask->modulus_bits / 8);
}

int sev_cert_verify_amd(const struct sev_cert *c, const struct amd_cert *ask)
{
	EVP_PKEY *key;
	int i, ret;

	ret = amd_cert_pubkey(ask, &key);
	if (ret)
		return ret;
	ret = -ENOENT;
	for (i = 0; i < 2; i++) {
		const struct sev_sig *s = &c->sig[i];

		if (s->usage != ask->key_usage || s->algo != ask_algo(ask))
			continue;
		ret = crypto_rsa_pss_verify(key, amd_md(ask->modulus_bits), c,
					    SEV_CERT_SIGNED_LEN, s->rsa,
					    ask->modulus_bits / 8);
		if (!ret)
			break;
	}
	EVP_PKEY_free(key);
	return ret;
}
