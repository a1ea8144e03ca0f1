/* SPDX-License-Identifier: MIT */
/*
 * SEV certificates (0x824 bytes, firmware spec §12.2) and AMD root
 * certificates (ARK/ASK, §12.3): layout, signing and verification.
 */
#ifndef SOFTSEV_SEVCERT_H
#define SOFTSEV_SEVCERT_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

#include "psp.h"

enum sev_usage {
	SEV_USAGE_ARK = 0x0000,
	SEV_USAGE_ASK = 0x0013,
	SEV_USAGE_INVALID = 0x1000,
	SEV_USAGE_OCA = 0x1001,
	SEV_USAGE_PEK = 0x1002,
	SEV_USAGE_PDH = 0x1003,
	SEV_USAGE_CEK = 0x1004,
};

enum sev_algo {
	SEV_ALGO_NONE = 0x0000,
	SEV_ALGO_RSA_SHA256 = 0x0001,
	SEV_ALGO_ECDSA_SHA256 = 0x0002,
	SEV_ALGO_ECDH_SHA256 = 0x0003,
	SEV_ALGO_RSA_SHA384 = 0x0101,
	SEV_ALGO_ECDSA_SHA384 = 0x0102,
	SEV_ALGO_ECDH_SHA384 = 0x0103,
};

#define SEV_CURVE_P384 2

struct sev_ecc_pubkey {
	uint32_t curve;
	uint8_t qx[72];
	uint8_t qy[72];
	uint8_t reserved[0x404 - 4 - 144];
} PSP_PACKED;

struct sev_rsa_pubkey {
	uint32_t modulus_bits;
	uint8_t pub_exp[512];
	uint8_t modulus[512];
} PSP_PACKED;

struct sev_sig {
	uint32_t usage;
	uint32_t algo;
	union {
		struct {
			uint8_t r[72];
			uint8_t s[72];
		} PSP_PACKED ecdsa;
		uint8_t rsa[0x200];
	} PSP_PACKED;
} PSP_PACKED;

struct sev_cert {
	uint32_t version;
	uint8_t api_major;
	uint8_t api_minor;
	uint8_t reserved[2];
	uint32_t usage;
	uint32_t algo;
	union {
		struct sev_ecc_pubkey ecc;
		struct sev_rsa_pubkey rsa;
		uint8_t raw[0x404];
	} PSP_PACKED pubkey;
	struct sev_sig sig[2];
} PSP_PACKED;

#define SEV_CERT_SIGNED_LEN 0x414

_Static_assert(sizeof(struct sev_cert) == SEV_CERT_LEN, "sev_cert size");

/* Fill a fresh P-384 certificate body; both signature slots empty. */
int sev_cert_init_ec(struct sev_cert *c, uint32_t usage, uint32_t algo,
		     uint8_t api_major, uint8_t api_minor, EVP_PKEY *key);
/* Sign into slot 0 or 1 with an ECDSA P-384 key of the given usage. */
int sev_cert_sign_ec(struct sev_cert *c, int slot, uint32_t signer_usage,
		     EVP_PKEY *signer);
/* The certificate's own P-384 public key (version 1, curve P-384 only). */
int sev_cert_pubkey(const struct sev_cert *c, EVP_PKEY **key);
/*
 * 0 when one slot of c holds a valid signature by signer (usage and
 * algorithm must match the signer's, §12.2); -EBADMSG for a bad signature;
 * -ENOENT when no slot names the signer; -EINVAL for a malformed cert.
 */
int sev_cert_verify(const struct sev_cert *c, const struct sev_cert *signer);
/* Basic shape checks: version 1, known usage, P-384 for ECC keys. */
int sev_cert_check(const struct sev_cert *c);

/* AMD-format certificate (ARK/ASK), parsed in place. */
struct amd_cert {
	uint32_t version;
	uint8_t key_id[16];
	uint8_t certifying_id[16];
	uint32_t key_usage;
	uint32_t pub_exp_bits;
	uint32_t modulus_bits;
	const uint8_t *pub_exp; /* little-endian */
	const uint8_t *modulus; /* little-endian */
	const uint8_t *sig; /* byte-reversed */
	const uint8_t *raw;
	size_t len;
};

#define AMD_CERT_HDR_LEN 0x40

size_t amd_cert_size(unsigned int bits);
int amd_cert_parse(const uint8_t *buf, size_t len, struct amd_cert *c);
int amd_cert_pubkey(const struct amd_cert *c, EVP_PKEY **key);
/* Signed by signer (KEY_ID == CERTIFYING_ID, RSA-PSS, §12.3). */
int amd_cert_verify(const struct amd_cert *c, const struct amd_cert *signer);
/* Build a certificate for key, signed by signer_key (self when NULL). */
int amd_cert_build(uint8_t *buf, size_t len, uint32_t usage,
		   const uint8_t key_id[16], const uint8_t certifying_id[16],
		   EVP_PKEY *key, EVP_PKEY *signer_key);
/* A CEK (SEV format) is signed by the ASK with RSA-PSS. */
int sev_cert_sign_rsa(struct sev_cert *c, int slot, const struct amd_cert *ask,
		      EVP_PKEY *ask_key);
int sev_cert_verify_amd(const struct sev_cert *c, const struct amd_cert *ask);

#endif
