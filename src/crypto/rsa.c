// SPDX-License-Identifier: MIT
/* RSA-PSS for the AMD root certificate format (§12.3). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "crypto.h"

int crypto_rsa_generate(unsigned int bits, EVP_PKEY **key)
{
	*key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	return *key ? 0 : -EIO;
}

int crypto_rsa_bits(const EVP_PKEY *key)
{
	return EVP_PKEY_get_bits(key);
}

int crypto_rsa_public(const EVP_PKEY *key, uint8_t *mod_le, size_t mod_len,
		      uint8_t *exp_le, size_t exp_len)
{
	BIGNUM *n = NULL, *e = NULL;
	int ret = -EINVAL;

	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) &&
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) &&
	    BN_bn2lebinpad(n, mod_le, (int)mod_len) == (int)mod_len &&
	    BN_bn2lebinpad(e, exp_le, (int)exp_len) == (int)exp_len)
		ret = 0;
	BN_free(n);
	BN_free(e);
	return ret;
}

int crypto_rsa_from_public(const uint8_t *mod_le, size_t mod_len,
			   const uint8_t *exp_le, size_t exp_len,
			   EVP_PKEY **key)
{
	BIGNUM *n = BN_lebin2bn(mod_le, (int)mod_len, NULL);
	BIGNUM *e = BN_lebin2bn(exp_le, (int)exp_len, NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int ret = -ENOMEM;

	*key = NULL;
	if (!n || !e || !bld)
		goto out;
	ret = -EINVAL;
	if (BN_is_zero(n) || BN_is_zero(e))
		goto out;
	if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (params && ctx && EVP_PKEY_fromdata_init(ctx) > 0 &&
	    EVP_PKEY_fromdata(ctx, key, EVP_PKEY_PUBLIC_KEY, params) > 0)
		ret = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return ret;
}

static int pss_setup(EVP_PKEY_CTX *pctx, const EVP_MD *md)
{
	if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0)
		return -EIO;
	return 0;
}

int crypto_rsa_pss_sign(EVP_PKEY *priv, const EVP_MD *md, const void *data,
			size_t len, uint8_t *sig_le, size_t sig_len)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	size_t n = sig_len;
	uint8_t *be = malloc(sig_len);
	int ret = -EIO;

	if (!mctx || !be) {
		ret = -ENOMEM;
		goto out;
	}
	if (EVP_DigestSignInit(mctx, &pctx, md, NULL, priv) <= 0 ||
	    pss_setup(pctx, md) ||
	    EVP_DigestSign(mctx, be, &n, data, len) <= 0)
		goto out;
	if (n != sig_len) {
		ret = -ERANGE;
		goto out;
	}
	crypto_reverse(sig_le, be, sig_len);
	ret = 0;
out:
	free(be);
	EVP_MD_CTX_free(mctx);
	return ret;
}

int crypto_rsa_pss_verify(EVP_PKEY *pub, const EVP_MD *md, const void *data,
			  size_t len, const uint8_t *sig_le, size_t sig_len)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t *be = malloc(sig_len);
	int ret = -EIO;

	if (!mctx || !be) {
		ret = -ENOMEM;
		goto out;
	}
	crypto_reverse(be, sig_le, sig_len);
	if (EVP_DigestVerifyInit(mctx, &pctx, md, NULL, pub) <= 0 ||
	    pss_setup(pctx, md))
		goto out;
	ret = EVP_DigestVerify(mctx, be, sig_len, data, len) == 1 ? 0 :
								    -EBADMSG;
out:
	free(be);
	EVP_MD_CTX_free(mctx);
	return ret;
}
