// SPDX-License-Identifier: MIT
/* Session wrap/unwrap, launch measurement and packet MACs (§12.4–§12.9). */
#include <errno.h>
#include <string.h>

#include "crypto.h"
#include "session.h"

struct sev_wrap_keys {
	uint8_t kek[16];
	uint8_t kik[16];
};

static int derive_wrap_keys(const uint8_t *z, size_t z_len,
			    const uint8_t nonce[16], struct sev_wrap_keys *k)
{
	uint8_t ms[16];
	int ret;

	ret = crypto_sev_kdf(z, z_len, "sev-master-secret", nonce, 16, ms,
			     sizeof(ms));
	ret = ret ?: crypto_sev_kdf(ms, sizeof(ms), "sev-kek", NULL, 0, k->kek,
				    sizeof(k->kek));
	ret = ret ?: crypto_sev_kdf(ms, sizeof(ms), "sev-kik", NULL, 0, k->kik,
				    sizeof(k->kik));
	crypto_wipe(ms, sizeof(ms));
	return ret;
}

int sev_session_wrap(const uint8_t *z, size_t z_len, uint32_t policy,
		     const struct sev_tk *tk, const uint8_t nonce[16],
		     const uint8_t wrap_iv[16], struct sev_session *out)
{
	struct sev_wrap_keys k;
	int ret;

	memset(out, 0, sizeof(*out));
	memcpy(out->nonce, nonce, 16);
	memcpy(out->wrap_iv, wrap_iv, 16);
	ret = derive_wrap_keys(z, z_len, nonce, &k);
	ret = ret ?: crypto_aes128_ctr(k.kek, wrap_iv, tk, out->wrap_tk,
				       sizeof(out->wrap_tk));
	ret = ret ?: crypto_hmac_sha256(k.kik, 16, out->wrap_tk,
					sizeof(out->wrap_tk), out->wrap_mac);
	ret = ret ?: crypto_hmac_sha256(tk->tik, 16, &policy, 4,
					out->policy_mac);
	crypto_wipe(&k, sizeof(k));
	return ret;
}

int sev_session_unwrap(const uint8_t *z, size_t z_len, uint32_t policy,
		       const struct sev_session *s, struct sev_tk *tk)
{
	struct sev_wrap_keys k;
	uint8_t mac[32];
	int status = SEV_RET_BAD_MEASUREMENT;

	if (derive_wrap_keys(z, z_len, s->nonce, &k))
		goto out;
	if (crypto_hmac_sha256(k.kik, 16, s->wrap_tk, sizeof(s->wrap_tk), mac))
		goto out;
	/* A wrong WRAP_MAC reports BAD_MEASUREMENT (virtee/sevctl#58). */
	if (crypto_memcmp(mac, s->wrap_mac, 32))
		goto out;
	if (crypto_aes128_ctr(k.kek, s->wrap_iv, s->wrap_tk, tk, sizeof(*tk)))
		goto out;
	if (crypto_hmac_sha256(tk->tik, 16, &policy, 4, mac))
		goto out;
	if (crypto_memcmp(mac, s->policy_mac, 32))
		goto out;
	status = SEV_RET_SUCCESS;
out:
	if (status)
		crypto_wipe(tk, sizeof(*tk));
	crypto_wipe(&k, sizeof(k));
	return status;
}

int sev_measure(const uint8_t tik[16], uint8_t api_major, uint8_t api_minor,
		uint8_t build, uint32_t policy, const uint8_t ld[32],
		const uint8_t mnonce[16], uint8_t out[32])
{
	uint8_t msg[1 + 3 + 4 + 32 + 16];
	size_t skip = sev_api_measures_version(api_major, api_minor) ? 0 : 4;

	msg[0] = 0x04;
	msg[1] = api_major;
	msg[2] = api_minor;
	msg[3] = build;
	memcpy(msg + 4, &policy, 4);
	memcpy(msg + 8, ld, 32);
	memcpy(msg + 40, mnonce, 16);
	return crypto_hmac_sha256(tik, 16, msg + skip, sizeof(msg) - skip,
				  out);
}

int sev_packet_mac(const uint8_t tik[16], uint8_t ctx,
		   const struct sev_packet_hdr *hdr, uint32_t guest_len,
		   const void *trans, uint32_t trans_len,
		   const uint8_t *measure, uint8_t out[32])
{
	struct crypto_hmac *h;
	int ret;

	ret = crypto_hmac_begin(&h, tik, 16);
	if (ret)
		return ret;
	ret = crypto_hmac_add(h, &ctx, 1);
	ret = ret ?: crypto_hmac_add(h, &hdr->flags, 4);
	ret = ret ?: crypto_hmac_add(h, hdr->iv, 16);
	ret = ret ?: crypto_hmac_add(h, &guest_len, 4);
	ret = ret ?: crypto_hmac_add(h, &trans_len, 4);
	ret = ret ?: crypto_hmac_add(h, trans, trans_len);
	if (!ret && measure)
		ret = crypto_hmac_add(h, measure, 32);
	if (ret) {
		crypto_hmac_abort(h);
		return ret;
	}
	return crypto_hmac_end(h, out);
}
