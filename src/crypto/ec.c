// SPDX-License-Identifier: MIT
/* ECDH and ECDSA on P-384 with SEV's little-endian coordinates (§12.2). */
#include <errno.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "crypto.h"

int crypto_p384_generate(EVP_PKEY **key)
{
	*key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	return *key ? 0 : -EIO;
}

static int bn_to_le(const BIGNUM *bn, uint8_t *out, size_t len)
{
	return BN_bn2lebinpad(bn, out, (int)len) == (int)len ? 0 : -ERANGE;
}

int crypto_p384_public(const EVP_PKEY *key, uint8_t qx[P384_LEN],
		       uint8_t qy[P384_LEN])
{
	BIGNUM *x = NULL, *y = NULL;
	int ret = -EINVAL;

	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) &&
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y))
		ret = bn_to_le(x, qx, P384_LEN) ?: bn_to_le(y, qy, P384_LEN);
	BN_free(x);
	BN_free(y);
	return ret;
}

/* Rejects points that are not on the curve (OpenSSL checks on import). */
int crypto_p384_from_public(const uint8_t qx[P384_LEN],
			    const uint8_t qy[P384_LEN], EVP_PKEY **key)
{
	uint8_t point[1 + 2 * P384_LEN];
	EVP_PKEY_CTX *ctx;
	OSSL_PARAM params[3];
	int ret = -EINVAL;

	point[0] = POINT_CONVERSION_UNCOMPRESSED;
	crypto_reverse(point + 1, qx, P384_LEN);
	crypto_reverse(point + 1 + P384_LEN, qy, P384_LEN);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     "P-384", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
						      point, sizeof(point));
	params[2] = OSSL_PARAM_construct_end();
	*key = NULL;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!ctx)
		return -ENOMEM;
	if (EVP_PKEY_fromdata_init(ctx) > 0 &&
	    EVP_PKEY_fromdata(ctx, key, EVP_PKEY_PUBLIC_KEY, params) > 0)
		ret = 0;
	EVP_PKEY_CTX_free(ctx);
	if (ret)
		return ret;
	/* fromdata does not validate the point; do it explicitly. */
	ctx = EVP_PKEY_CTX_new(*key, NULL);
	if (!ctx || EVP_PKEY_public_check(ctx) != 1) {
		EVP_PKEY_free(*key);
		*key = NULL;
		ret = -EINVAL;
	}
	EVP_PKEY_CTX_free(ctx);
	return ret;
}

int crypto_p384_ecdh(EVP_PKEY *priv, EVP_PKEY *peer, uint8_t z[P384_LEN])
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(priv, NULL);
	size_t len = P384_LEN;
	int ret = -EIO;

	if (!ctx)
		return -ENOMEM;
	if (EVP_PKEY_derive_init(ctx) > 0 &&
	    EVP_PKEY_derive_set_peer(ctx, peer) > 0 &&
	    EVP_PKEY_derive(ctx, z, &len) > 0 && len == P384_LEN)
		ret = 0;
	EVP_PKEY_CTX_free(ctx);
	return ret;
}

int crypto_p384_sign(EVP_PKEY *priv, const void *data, size_t len,
		     uint8_t r[P384_LEN], uint8_t s[P384_LEN])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t der[128];
	const uint8_t *p = der;
	const BIGNUM *br, *bs;
	ECDSA_SIG *sig = NULL;
	size_t dlen = sizeof(der);
	int ret = -EIO;

	if (!md)
		return -ENOMEM;
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, priv) <= 0 ||
	    EVP_DigestSign(md, der, &dlen, data, len) <= 0)
		goto out;
	sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
	if (!sig)
		goto out;
	ECDSA_SIG_get0(sig, &br, &bs);
	ret = bn_to_le(br, r, P384_LEN) ?: bn_to_le(bs, s, P384_LEN);
out:
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
	return ret;
}

int crypto_p384_verify(EVP_PKEY *pub, const void *data, size_t len,
		       const uint8_t r[P384_LEN], const uint8_t s[P384_LEN])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *br, *bs;
	uint8_t *der = NULL;
	int dlen, ret = -ENOMEM;

	if (!md || !sig)
		goto out;
	br = BN_lebin2bn(r, P384_LEN, NULL);
	bs = BN_lebin2bn(s, P384_LEN, NULL);
	if (!br || !bs || !ECDSA_SIG_set0(sig, br, bs)) {
		BN_free(br);
		BN_free(bs);
		goto out;
	}
	dlen = i2d_ECDSA_SIG(sig, &der);
	ret = -EIO;
	if (dlen <= 0)
		goto out;
	if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) <= 0)
		goto out;
	ret = EVP_DigestVerify(md, der, (size_t)dlen, data, len) == 1 ?
		      0 :
		      -EBADMSG;
out:
	OPENSSL_free(der);
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
	return ret;
}
