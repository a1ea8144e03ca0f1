/* SPDX-License-Identifier: MIT */
/*
 * crypto/ — OpenSSL-backed primitives in the byte encodings AMD SEV uses.
 * Knows nothing of SEV commands; every function returns 0 or a negative errno.
 *
 * Number encoding: SEV stores big numbers little-endian, zero-padded to the
 * field width (firmware spec §1, §12.2).  The P-384 helpers here take and give
 * little-endian 48-byte coordinates and scalars.
 */
#ifndef SOFTSEV_CRYPTO_H
#define SOFTSEV_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

#define SHA256_LEN 32
#define SHA384_LEN 48
#define AES128_KEY_LEN 16
#define AES_BLOCK_LEN 16
#define P384_LEN 48

/* Hashes and MACs. */
int crypto_sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);
int crypto_hmac_sha256(const uint8_t *key, size_t key_len, const void *data,
		       size_t len, uint8_t out[SHA256_LEN]);

/* Incremental HMAC-SHA256 for MACs over several fields. */
struct crypto_hmac;
int crypto_hmac_begin(struct crypto_hmac **h, const uint8_t *key,
		      size_t key_len);
int crypto_hmac_add(struct crypto_hmac *h, const void *data, size_t len);
int crypto_hmac_end(struct crypto_hmac *h, uint8_t out[SHA256_LEN]);
void crypto_hmac_abort(struct crypto_hmac *h);

/* Streaming SHA-256 (the launch digest). */
struct crypto_sha;
int crypto_sha_begin(struct crypto_sha **s);
int crypto_sha_add(struct crypto_sha *s, const void *data, size_t len);
/* Digest of everything added so far; the stream stays usable. */
int crypto_sha_peek(const struct crypto_sha *s, uint8_t out[SHA256_LEN]);
void crypto_sha_free(struct crypto_sha *s);

/* Constant-time comparison; 0 when equal. */
int crypto_memcmp(const void *a, const void *b, size_t len);
void crypto_wipe(void *p, size_t len);
int crypto_random(void *buf, size_t len);

/*
 * SP800-108 counter-mode KDF with HMAC-SHA256, in SEV's encoding (§12.4):
 * K(i) = HMAC(key, u32le(i) || label || 0x00 || context || u32le(L_bits)).
 */
int crypto_sev_kdf(const uint8_t *key, size_t key_len, const char *label,
		   const uint8_t *ctx, size_t ctx_len, uint8_t *out,
		   size_t out_len);

/* AES-128-CTR; iv is the initial 128-bit big-endian counter block. */
int crypto_aes128_ctr(const uint8_t key[AES128_KEY_LEN],
		      const uint8_t iv[AES_BLOCK_LEN], const void *in,
		      void *out, size_t len);

/*
 * The memory-engine model: AES-128-XTS with a 16-byte data unit whose tweak
 * is the block's physical address (pa must be 16-byte aligned, len a
 * multiple of 16).  key1 encrypts data, key2 encrypts tweaks.
 */
int crypto_mem_xts(const uint8_t key1[AES128_KEY_LEN],
		   const uint8_t key2[AES128_KEY_LEN], uint64_t pa,
		   const void *in, void *out, size_t len, int encrypt);

/* P-384 keys (ECDSA and ECDH use the same key type). */
int crypto_p384_generate(EVP_PKEY **key);
int crypto_p384_public(const EVP_PKEY *key, uint8_t qx[P384_LEN],
		       uint8_t qy[P384_LEN]);
int crypto_p384_from_public(const uint8_t qx[P384_LEN],
			    const uint8_t qy[P384_LEN], EVP_PKEY **key);
/* Shared secret: x coordinate, 48 big-endian bytes as OpenSSL derives it. */
int crypto_p384_ecdh(EVP_PKEY *priv, EVP_PKEY *peer, uint8_t z[P384_LEN]);
/* ECDSA over SHA-256 of data; r and s little-endian, 48 bytes each. */
int crypto_p384_sign(EVP_PKEY *priv, const void *data, size_t len,
		     uint8_t r[P384_LEN], uint8_t s[P384_LEN]);
/* 0 when valid, -EBADMSG when the signature does not verify. */
int crypto_p384_verify(EVP_PKEY *pub, const void *data, size_t len,
		       const uint8_t r[P384_LEN], const uint8_t s[P384_LEN]);

/* RSA (ARK/ASK), modulus and exponent little-endian. */
int crypto_rsa_generate(unsigned int bits, EVP_PKEY **key);
int crypto_rsa_bits(const EVP_PKEY *key);
int crypto_rsa_public(const EVP_PKEY *key, uint8_t *mod_le, size_t mod_len,
		      uint8_t *exp_le, size_t exp_len);
int crypto_rsa_from_public(const uint8_t *mod_le, size_t mod_len,
			   const uint8_t *exp_le, size_t exp_len,
			   EVP_PKEY **key);
/* RSA-PSS, MGF1 and salt length = digest; sig little-endian (byte-reversed). */
int crypto_rsa_pss_sign(EVP_PKEY *priv, const EVP_MD *md, const void *data,
			size_t len, uint8_t *sig_le, size_t sig_len);
int crypto_rsa_pss_verify(EVP_PKEY *pub, const EVP_MD *md, const void *data,
			  size_t len, const uint8_t *sig_le, size_t sig_len);

/* Private-key serialisation for the state directory (DER, PKCS#8). */
int crypto_key_to_der(EVP_PKEY *key, uint8_t **der, size_t *len);
int crypto_key_from_der(const uint8_t *der, size_t len, EVP_PKEY **key);

/* Byte-order helpers. */
void crypto_reverse(uint8_t *dst, const uint8_t *src, size_t len);

#endif
