/* SPDX-License-Identifier: MIT */
/*
 * SEV's key-exchange and integrity formulas (firmware spec §12.4–§12.9),
 * shared by the firmware model and the guest-owner side.
 */
#ifndef SOFTSEV_SESSION_H
#define SOFTSEV_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "psp.h"

struct sev_tk {
	uint8_t tek[16];
	uint8_t tik[16];
};

/* MAC context bytes: secrets 0x01, transport data 0x02 (§12.7, §12.9). */
#define SEV_MAC_SECRET 0x01
#define SEV_MAC_DATA 0x02
#define SEV_MAC_VMSA 0x03

/* Wrap tk for a peer that shares secret z (any length; §12.4 steps 2–7). */
int sev_session_wrap(const uint8_t *z, size_t z_len, uint32_t policy,
		     const struct sev_tk *tk, const uint8_t nonce[16],
		     const uint8_t wrap_iv[16], struct sev_session *out);
/*
 * Firmware side: derive KEK/KIK, check WRAP_MAC, unwrap, check POLICY_MAC.
 * Returns SEV_RET_SUCCESS or SEV_RET_BAD_MEASUREMENT.
 */
int sev_session_unwrap(const uint8_t *z, size_t z_len, uint32_t policy,
		       const struct sev_session *s, struct sev_tk *tk);

/*
 * Firmware before API 0.17 (Naples' first releases) measures without the
 * context byte and version, and its LAUNCH_SECRET MAC does not cover
 * MEASURE (spec §12.6, §12.7, as sev-tool computes both).
 */
static inline bool sev_api_measures_version(uint8_t major, uint8_t minor)
{
	return major > 0 || minor >= 17;
}

/*
 * MEASURE = HMAC(TIK, 0x04 || api || build || policy || ld || mnonce);
 * from API 0.17 on; before it HMAC(TIK, policy || ld || mnonce).
 */
int sev_measure(const uint8_t tik[16], uint8_t api_major, uint8_t api_minor,
		uint8_t build, uint32_t policy, const uint8_t ld[32],
		const uint8_t mnonce[16], uint8_t out[32]);

/*
 * Packet MAC: HMAC(TIK, ctx || flags || iv || guest_len || trans_len ||
 * trans || [measure]).  measure is NULL for transport packets.
 */
int sev_packet_mac(const uint8_t tik[16], uint8_t ctx,
		   const struct sev_packet_hdr *hdr, uint32_t guest_len,
		   const void *trans, uint32_t trans_len,
		   const uint8_t *measure, uint8_t out[32]);

#endif
