/* SPDX-License-Identifier: MIT */
/*
 * The guest owner's side, independent of any server: certificate chains,
 * session blobs, expected launch digests, measurement checks and launch
 * secrets (firmware spec §12), in the file formats QEMU and sevctl use.
 */
#ifndef SOFTSEV_OWNER_H
#define SOFTSEV_OWNER_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"
#include "sevcert.h"

struct owner_keys {
	struct sev_tk tk;
	uint32_t policy;
	/* the platform's API, from its PDH: the formats depend on it */
	uint8_t api_major, api_minor;
};

/* Files: raw bytes, or base64 text (QEMU's dh-cert-file, session-file). */
int owner_read_file(const char *path, uint8_t **buf, size_t *len);
int owner_read_blob(const char *path, uint8_t *out, size_t len);
int owner_write_file(const char *path, const void *buf, size_t len,
		     int mode);
int owner_write_b64(const char *path, const void *buf, size_t len);
int owner_mkdir(const char *path, int mode); /* like mkdir -p */

/*
 * The owner's secret keys: "tek=HEX", "tik=HEX", "policy=0x..",
 * "api=M.N" (optional: files without it mean API 0.17 or later).
 */
int owner_keys_save(const char *path, const struct owner_keys *k);
int owner_keys_load(const char *path, struct owner_keys *k);

/*
 * Chain check as a guest owner does it; prints one line per link to out
 * (NULL: silent).  0 only if every link holds.
 */
int owner_verify_chain(const struct sev_cert *pdh, const struct sev_cert *pek,
		       const struct sev_cert *oca, const struct sev_cert *cek,
		       const uint8_t *ask, size_t ask_len, const uint8_t *ark,
		       size_t ark_len, void *out);

/* GODH certificate and session blob for a platform's PDH (§12.4). */
int owner_session(const struct sev_cert *pdh, uint32_t policy,
		  struct sev_cert *godh, struct sev_session *session,
		  struct owner_keys *keys);

/* QEMU's padded SEV hashes table for kernel, initrd and command line. */
#define SEV_HASH_TABLE_LEN 176
void owner_hash_table(const uint8_t kernel_hash[32],
		      const uint8_t initrd_hash[32],
		      const uint8_t cmdline_hash[32],
		      uint8_t table[SEV_HASH_TABLE_LEN]);

/* measurement = MEASURE(32) || MNONCE(16); 0 if it matches. */
int owner_verify_measurement(const struct owner_keys *k, uint8_t api_major,
			     uint8_t api_minor, uint8_t build,
			     const uint8_t digest[32],
			     const uint8_t measurement[48]);

/* LAUNCH_SECRET header and payload for a verified launch (§12.7). */
int owner_secret(const struct owner_keys *k, const uint8_t measure[32],
		 const void *secret, size_t len, struct sev_packet_hdr *hdr,
		 uint8_t *trans, size_t *trans_len);

/*
 * The 4 KiB VMSA (SEV-ES save area) LAUNCH_UPDATE_VMSA measures for a
 * vCPU that its VMM put in flat 32-bit protected mode at rip with stack
 * rsp, everything else as KVM creates a vCPU (owner_vmsa.c says which
 * values); sev_features: the VM's vmsa_features (0 with KVM_SEV_INIT2's
 * default).
 */
#define OWNER_VMSA_LEN 4096
void owner_vmsa_flat32(uint64_t rip, uint64_t rsp, uint64_t sev_features,
		       bool fpu, uint8_t vmsa[OWNER_VMSA_LEN]);

#endif
