// SPDX-License-Identifier: MIT
/*
 * Guest migration between platforms: SEND_* and RECEIVE_* (firmware spec
 * §9.26–§9.32, §12.9).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "psp_internal.h"

struct remote {
	struct sev_cert pdh;
	struct sev_cert pek, oca, cek; /* PLAT_CERTS order */
};

static bool same_key(const struct sev_cert *a, const struct sev_cert *b)
{
	return !memcmp(&a->pubkey, &b->pubkey, sizeof(a->pubkey));
}

/* POLICY.SEV: the remote CEK must chain to the root this firmware trusts. */
static int check_amd_root(struct psp *psp, const struct psp_send_start *b,
			  const struct psp_mem *mem, const struct remote *r)
{
	uint8_t buf[2 * AMD_CERT_MAX];
	struct amd_cert ask, ark;

	if (b->amd_certs_len > sizeof(buf) || !b->amd_certs_len)
		return SEV_RET_INVALID_LEN;
	if (psp_read(psp, mem, b->amd_certs_paddr, buf, b->amd_certs_len))
		return SEV_RET_INVALID_ADDRESS;
	if (amd_cert_parse(buf, b->amd_certs_len, &ask) ||
	    ask.key_usage != SEV_USAGE_ASK ||
	    amd_cert_parse(buf + ask.len, b->amd_certs_len - ask.len, &ark) ||
	    ark.key_usage != SEV_USAGE_ARK)
		return SEV_RET_INVALID_CERTIFICATE;
	if (amd_cert_verify(&ark, &ark) || amd_cert_verify(&ask, &ark) ||
	    sev_cert_verify_amd(&r->cek, &ask))
		return SEV_RET_BAD_SIGNATURE;
	if (ark.len != psp->chip.ark_c.len ||
	    memcmp(ark.raw, psp->chip.ark_c.raw, ark.len))
		return SEV_RET_POLICY_FAILURE;
	return SEV_RET_SUCCESS;
}

/* §9.26: validate the target platform's chain against the guest policy. */
static int check_remote(struct psp *psp, const struct psp_send_start *b,
			const struct psp_mem *mem, uint32_t policy,
			struct remote *r)
{
	int st;

	if (b->pdh_cert_len != SEV_CERT_LEN ||
	    b->plat_certs_len != SEV_CHAIN_LEN)
		return SEV_RET_INVALID_LEN;
	if (psp_read(psp, mem, b->pdh_cert_paddr, &r->pdh, SEV_CERT_LEN) ||
	    psp_read(psp, mem, b->plat_certs_paddr, &r->pek, SEV_CHAIN_LEN))
		return SEV_RET_INVALID_ADDRESS;
	if (sev_cert_check(&r->pdh) || r->pdh.usage != SEV_USAGE_PDH ||
	    sev_cert_check(&r->pek) || r->pek.usage != SEV_USAGE_PEK ||
	    sev_cert_check(&r->oca) || r->oca.usage != SEV_USAGE_OCA ||
	    sev_cert_check(&r->cek) || r->cek.usage != SEV_USAGE_CEK)
		return SEV_RET_INVALID_CERTIFICATE;
	if (sev_cert_verify(&r->pdh, &r->pek) ||
	    sev_cert_verify(&r->pek, &r->oca) ||
	    sev_cert_verify(&r->pek, &r->cek) ||
	    sev_cert_verify(&r->oca, &r->oca))
		return SEV_RET_BAD_SIGNATURE;
	if (policy & SEV_POLICY_SEV) {
		st = check_amd_root(psp, b, mem, r);
		if (st)
			return st;
	}
	if ((policy & SEV_POLICY_DOMAIN) && !same_key(&r->oca, &psp->nv.oca))
		return SEV_RET_POLICY_FAILURE;
	if (r->pek.api_major < SEV_POLICY_API_MAJOR(policy) ||
	    (r->pek.api_major == SEV_POLICY_API_MAJOR(policy) &&
	     r->pek.api_minor < SEV_POLICY_API_MINOR(policy)))
		return SEV_RET_POLICY_FAILURE;
	return SEV_RET_SUCCESS;
}

static int cmd_send_start(struct psp *psp, struct psp_send_start *b,
			  const struct psp_mem *mem)
{
	struct sev_session s;
	struct psp_guest *g;
	struct remote r;
	struct sev_tk tk;
	EVP_PKEY *peer = NULL;
	uint8_t z[P384_LEN], nonce[16], iv[16];
	int st = psp_guest_lookup(psp, b->handle, &g);

	if (st)
		return st;
	if (g->state != GSTATE_RUNNING)
		return SEV_RET_INVALID_GUEST_STATE;
	if (g->policy & SEV_POLICY_NOSEND)
		return SEV_RET_POLICY_FAILURE;
	if (b->session_len < SEV_SESSION_LEN) {
		b->session_len = SEV_SESSION_LEN;
		return SEV_RET_INVALID_LEN;
	}
	st = check_remote(psp, b, mem, g->policy, &r);
	if (st)
		return st;
	if (sev_cert_pubkey(&r.pdh, &peer))
		return SEV_RET_INVALID_CERTIFICATE;
	st = SEV_RET_HWSEV_RET_PLATFORM;
	if (crypto_random(&tk, sizeof(tk)) || crypto_random(nonce, 16) ||
	    crypto_random(iv, 16) ||
	    crypto_p384_ecdh(psp->nv.pdh_key, peer, z) ||
	    sev_session_wrap(z, sizeof(z), g->policy, &tk, nonce, iv, &s))
		goto out;
	st = SEV_RET_INVALID_ADDRESS;
	if (psp_write(psp, mem, b->session_paddr, &s, sizeof(s)))
		goto out;
	g->tk = tk;
	memcpy(g->nonce, nonce, 16);
	g->have_tk = true;
	g->state = GSTATE_SUPDATE;
	b->policy = g->policy;
	b->session_len = SEV_SESSION_LEN;
	st = SEV_RET_SUCCESS;
out:
	crypto_wipe(&tk, sizeof(tk));
	crypto_wipe(z, sizeof(z));
	EVP_PKEY_free(peer);
	return st;
}

/* §9.27/§9.28: plaintext from the VEK side, sealed under TEK/TIK. */
static int cmd_send_update(struct psp *psp, struct psp_packet *b,
			   const struct psp_mem *mem, bool vmsa)
{
	struct sev_packet_hdr hdr = { 0 };
	struct psp_guest *g;
	uint8_t *buf;
	int st = psp_guest_lookup(psp, b->handle, &g);

	if (st)
		return st;
	if (g->state != GSTATE_SUPDATE)
		return SEV_RET_INVALID_GUEST_STATE;
	if (vmsa && !(g->policy & SEV_POLICY_ES))
		return SEV_RET_POLICY_FAILURE;
	if (!g->active)
		return SEV_RET_INACTIVE;
	if (b->hdr_len < SEV_PACKET_HDR_LEN || b->trans_len < b->guest_len) {
		b->hdr_len = SEV_PACKET_HDR_LEN;
		b->trans_len = b->guest_len;
		return SEV_RET_INVALID_LEN;
	}
	if (!b->guest_len || !psp_aligned16(b->guest_len) ||
	    b->guest_len > SEV_PACKET_MAX ||
	    (vmsa && b->guest_len != SEV_VMSA_LEN))
		return SEV_RET_INVALID_LEN;
	if (!psp_aligned16(b->guest_paddr) ||
	    (vmsa && (psp_pa(psp, b->guest_paddr) & (SEV_VMSA_LEN - 1))))
		return SEV_RET_INVALID_ADDRESS;
	buf = malloc(b->guest_len);
	if (!buf)
		return SEV_RET_RESOURCE_LIMIT;
	st = SEV_RET_INVALID_ADDRESS;
	if (psp_guest_read(psp, g, mem, b->guest_paddr, buf, b->guest_len))
		goto out;
	st = SEV_RET_HWSEV_RET_PLATFORM;
	if (crypto_random(hdr.iv, 16) ||
	    crypto_aes128_ctr(g->tk.tek, hdr.iv, buf, buf, b->guest_len) ||
	    sev_packet_mac(g->tk.tik, vmsa ? SEV_MAC_VMSA : SEV_MAC_DATA, &hdr,
			   b->guest_len, buf, b->guest_len, NULL, hdr.mac))
		goto out;
	st = SEV_RET_INVALID_ADDRESS;
	if (psp_write(psp, mem, b->trans_paddr, buf, b->guest_len) ||
	    psp_write(psp, mem, b->hdr_paddr, &hdr, sizeof(hdr)))
		goto out;
	b->hdr_len = SEV_PACKET_HDR_LEN;
	b->trans_len = b->guest_len;
	psp->bytes_moved += b->guest_len;
	st = SEV_RET_SUCCESS;
out:
	crypto_wipe(buf, b->guest_len);
	free(buf);
	return st;
}

/* §9.29: FINISH -> SENT, CANCEL -> RUNNING; both drop TEK/TIK. */
static int cmd_send_end(struct psp *psp, struct psp_handle *b, uint8_t to)
{
	struct psp_guest *g;
	int st = psp_guest_lookup(psp, b->handle, &g);

	if (st)
		return st;
	if (g->state != GSTATE_SUPDATE)
		return SEV_RET_INVALID_GUEST_STATE;
	psp_guest_drop_tk(g);
	g->state = to;
	return SEV_RET_SUCCESS;
}

/* §9.31: MAC check, decrypt under TEK, write with the VEK. */
static int cmd_receive_update(struct psp *psp, struct psp_packet *b,
			      const struct psp_mem *mem, bool vmsa)
{
	struct psp_guest *g;
	uint8_t *plain;
	int st = psp_guest_lookup(psp, b->handle, &g);

	if (st)
		return st;
	if (g->state != GSTATE_RUPDATE)
		return SEV_RET_INVALID_GUEST_STATE;
	if (vmsa && !(g->policy & SEV_POLICY_ES))
		return SEV_RET_POLICY_FAILURE;
	if (!g->active)
		return SEV_RET_INACTIVE;
	st = psp_packet_check(psp, b, SEV_PACKET_MAX);
	if (st)
		return st;
	if (vmsa && (b->guest_len != SEV_VMSA_LEN))
		return SEV_RET_INVALID_LEN;
	if (vmsa && (psp_pa(psp, b->guest_paddr) & (SEV_VMSA_LEN - 1)))
		return SEV_RET_INVALID_ADDRESS;
	plain = malloc(b->guest_len);
	if (!plain)
		return SEV_RET_RESOURCE_LIMIT;
	st = psp_packet_open(psp, mem, b, g, vmsa ? SEV_MAC_VMSA : SEV_MAC_DATA,
			     NULL, plain);
	if (!st && psp_guest_write(psp, g, mem, b->guest_paddr, plain,
				   b->guest_len))
		st = SEV_RET_INVALID_ADDRESS;
	if (!st)
		psp->bytes_moved += b->guest_len;
	crypto_wipe(plain, b->guest_len);
	free(plain);
	return st;
}

static int cmd_receive_finish(struct psp *psp, struct psp_handle *b)
{
	struct psp_guest *g;
	int st = psp_guest_lookup(psp, b->handle, &g);

	if (st)
		return st;
	if (g->state != GSTATE_RUPDATE)
		return SEV_RET_INVALID_GUEST_STATE;
	psp_guest_drop_tk(g);
	g->state = GSTATE_RUNNING;
	return SEV_RET_SUCCESS;
}

int psp_transport_cmd(struct psp *psp, unsigned int cmd, void *buf,
		      const struct psp_mem *mem)
{
	switch (cmd) {
	case PSP_CMD_SEND_START:
		return cmd_send_start(psp, buf, mem);
	case PSP_CMD_SEND_UPDATE_DATA:
		return cmd_send_update(psp, buf, mem, false);
	case PSP_CMD_SEND_UPDATE_VMSA:
		return cmd_send_update(psp, buf, mem, true);
	case PSP_CMD_SEND_FINISH:
		return cmd_send_end(psp, buf, GSTATE_SENT);
	case PSP_CMD_SEND_CANCEL:
		return cmd_send_end(psp, buf, GSTATE_RUNNING);
	case PSP_CMD_RECEIVE_START:
		return psp_guest_start(psp, buf, mem, true, GSTATE_RUPDATE);
	case PSP_CMD_RECEIVE_UPDATE_DATA:
		return cmd_receive_update(psp, buf, mem, false);
	case PSP_CMD_RECEIVE_UPDATE_VMSA:
		return cmd_receive_update(psp, buf, mem, true);
	case PSP_CMD_RECEIVE_FINISH:
		return cmd_receive_finish(psp, buf);
	}
	return -1;
}
