// SPDX-License-Identifier: MIT
/* AES-128-CTR (transport) and the XTS memory-engine model (§12.10). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "crypto.h"

static int aes_run(const EVP_CIPHER *c, const uint8_t *key, const uint8_t *iv,
		   const void *in, void *out, size_t len, int enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int ret = -EIO, n = 0, fin = 0;

	if (!ctx)
		return -ENOMEM;
	if (len > INT32_MAX)
		goto out;
	if (!EVP_CipherInit_ex(ctx, c, NULL, key, iv, enc))
		goto out;
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	if (!EVP_CipherUpdate(ctx, out, &n, in, (int)len))
		goto out;
	if (!EVP_CipherFinal_ex(ctx, (uint8_t *)out + n, &fin))
		goto out;
	ret = (size_t)(n + fin) == len ? 0 : -EIO;
out:
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

int crypto_aes128_ctr(const uint8_t key[AES128_KEY_LEN],
		      const uint8_t iv[AES_BLOCK_LEN], const void *in,
		      void *out, size_t len)
{
	if (!len)
		return 0;
	return aes_run(EVP_aes_128_ctr(), key, iv, in, out, len, 1);
}

static void xor_blocks(uint8_t *dst, const uint8_t *a, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		dst[i] ^= a[i];
}

/*
 * XTS with one 16-byte block per data unit reduces to XEX:
 * C = E_k1(P ^ T) ^ T with T = E_k2(pa as 128-bit little-endian), the same
 * tweak encoding as IEEE 1619 sector numbers.  Tweaks for a whole buffer are
 * made with one ECB call so that large transfers stay on the fast path.
 */
int crypto_mem_xts(const uint8_t key1[AES128_KEY_LEN],
		   const uint8_t key2[AES128_KEY_LEN], uint64_t pa,
		   const void *in, void *out, size_t len, int encrypt)
{
	uint8_t *tweak;
	size_t i;
	int ret;

	if ((pa | len) & (AES_BLOCK_LEN - 1))
		return -EINVAL;
	if (!len)
		return 0;
	tweak = calloc(1, len);
	if (!tweak)
		return -ENOMEM;
	for (i = 0; i < len; i += AES_BLOCK_LEN) {
		uint64_t a = pa + i;
		int b;

		for (b = 0; b < 8; b++)
			tweak[i + b] = (uint8_t)(a >> (8 * b));
	}
	ret = aes_run(EVP_aes_128_ecb(), key2, NULL, tweak, tweak, len, 1);
	if (ret)
		goto out;
	if (out != in)
		memmove(out, in, len);
	xor_blocks(out, tweak, len);
	ret = aes_run(EVP_aes_128_ecb(), key1, NULL, out, out, len, encrypt);
	if (ret)
		goto out;
	xor_blocks(out, tweak, len);
out:
	crypto_wipe(tweak, len);
	free(tweak);
	return ret;
}
