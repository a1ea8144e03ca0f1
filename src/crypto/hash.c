// SPDX-License-Identifier: MIT
/* SHA-256, HMAC-SHA256 and the SEV KDF (firmware spec §12.4). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypto.h"

struct crypto_hmac {
	EVP_MAC_CTX *ctx;
};

struct crypto_sha {
	EVP_MD_CTX *ctx;
};

int crypto_sha256(const void *data, size_t len, uint8_t out[SHA256_LEN])
{
	unsigned int n = SHA256_LEN;

	if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL))
		return -EIO;
	return 0;
}

static EVP_MAC *hmac_algo(void)
{
	/* Fetched once per call: cheap next to a MAC, and no global state. */
	return EVP_MAC_fetch(NULL, "HMAC", NULL);
}

int crypto_hmac_begin(struct crypto_hmac **out, const uint8_t *key,
		      size_t key_len)
{
	OSSL_PARAM params[2];
	struct crypto_hmac *h;
	EVP_MAC *mac;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	mac = hmac_algo();
	if (!mac) {
		free(h);
		return -EIO;
	}
	h->ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!h->ctx || !EVP_MAC_init(h->ctx, key, key_len, params)) {
		crypto_hmac_abort(h);
		return -EIO;
	}
	*out = h;
	return 0;
}

int crypto_hmac_add(struct crypto_hmac *h, const void *data, size_t len)
{
	if (len && !EVP_MAC_update(h->ctx, data, len))
		return -EIO;
	return 0;
}

int crypto_hmac_end(struct crypto_hmac *h, uint8_t out[SHA256_LEN])
{
	size_t n = 0;
	int ret = 0;

	if (!EVP_MAC_final(h->ctx, out, &n, SHA256_LEN) || n != SHA256_LEN)
		ret = -EIO;
	crypto_hmac_abort(h);
	return ret;
}

void crypto_hmac_abort(struct crypto_hmac *h)
{
	if (!h)
		return;
	EVP_MAC_CTX_free(h->ctx);
	free(h);
}

int crypto_hmac_sha256(const uint8_t *key, size_t key_len, const void *data,
		       size_t len, uint8_t out[SHA256_LEN])
{
	struct crypto_hmac *h;
	int ret;

	ret = crypto_hmac_begin(&h, key, key_len);
	if (ret)
		return ret;
	ret = crypto_hmac_add(h, data, len);
	if (ret) {
		crypto_hmac_abort(h);
		return ret;
	}
	return crypto_hmac_end(h, out);
}

int crypto_sha_begin(struct crypto_sha **out)
{
	struct crypto_sha *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->ctx = EVP_MD_CTX_new();
	if (!s->ctx || !EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL)) {
		crypto_sha_free(s);
		return -EIO;
	}
	*out = s;
	return 0;
}

int crypto_sha_add(struct crypto_sha *s, const void *data, size_t len)
{
	if (len && !EVP_DigestUpdate(s->ctx, data, len))
		return -EIO;
	return 0;
}

int crypto_sha_peek(const struct crypto_sha *s, uint8_t out[SHA256_LEN])
{
	EVP_MD_CTX *copy = EVP_MD_CTX_new();
	unsigned int n = SHA256_LEN;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	if (!EVP_MD_CTX_copy_ex(copy, s->ctx) ||
	    !EVP_DigestFinal_ex(copy, out, &n))
		ret = -EIO;
	EVP_MD_CTX_free(copy);
	return ret;
}

void crypto_sha_free(struct crypto_sha *s)
{
	if (!s)
		return;
	EVP_MD_CTX_free(s->ctx);
	free(s);
}

int crypto_memcmp(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) ? 1 : 0;
}

void crypto_wipe(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}

int crypto_random(void *buf, size_t len)
{
	if (RAND_bytes(buf, (int)len) != 1)
		return -EIO;
	return 0;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* §12.4: counter and L little-endian, one 0x00 separator even with no context. */
int crypto_sev_kdf(const uint8_t *key, size_t key_len, const char *label,
		   const uint8_t *ctx, size_t ctx_len, uint8_t *out,
		   size_t out_len)
{
	uint8_t ctr[4], bits[4], zero = 0, block[SHA256_LEN];
	struct crypto_hmac *h;
	size_t done = 0;
	uint32_t i;
	int ret;

	if (out_len > SIZE_MAX / 8)
		return -EINVAL;
	put_le32(bits, (uint32_t)(out_len * 8));
	for (i = 1; done < out_len; i++) {
		size_t n = out_len - done < SHA256_LEN ? out_len - done :
							 SHA256_LEN;

		put_le32(ctr, i);
		ret = crypto_hmac_begin(&h, key, key_len);
		if (ret)
			return ret;
		ret = crypto_hmac_add(h, ctr, 4);
		ret = ret ?: crypto_hmac_add(h, label, strlen(label));
		ret = ret ?: crypto_hmac_add(h, &zero, 1);
		ret = ret ?: crypto_hmac_add(h, ctx, ctx_len);
		ret = ret ?: crypto_hmac_add(h, bits, 4);
		if (ret) {
			crypto_hmac_abort(h);
			return ret;
		}
		ret = crypto_hmac_end(h, block);
		if (ret)
			return ret;
		memcpy(out + done, block, n);
		done += n;
	}
	crypto_wipe(block, sizeof(block));
	return 0;
}

void crypto_reverse(uint8_t *dst, const uint8_t *src, size_t len)
{
	size_t i;

	for (i = 0; i < len / 2; i++) {
		uint8_t a = src[i], b = src[len - 1 - i];

		dst[i] = b;
		dst[len - 1 - i] = a;
	}
	if (len & 1)
		dst[len / 2] = src[len / 2];
}
