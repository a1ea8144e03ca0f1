// SPDX-License-Identifier: MIT
/*
 * Launch commands and ATTESTATION (firmware spec §9.19–§9.25, §12.4–§12.8).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "psp_internal.h"

/* Bytes hashed and encrypted per step, so a huge update needs no huge buffer. */
#define UPDATE_CHUNK (1u << 20)

static bool api_allows(const struct psp *psp, uint32_t policy)
{
	unsigned int maj = SEV_POLICY_API_MAJOR(policy);
	unsigned int min = SEV_POLICY_API_MINOR(policy);

	return psp->cfg.api_major > maj ||
	       (psp->cfg.api_major == maj && psp->cfg.api_minor >= min);
}

/* GODH: version 1, an ECDH key on P-384; signatures are not required. */
static int godh_key(const struct sev_cert *c, EVP_PKEY **key)
{
	if (c->version != 1 || c->pubkey.ecc.curve != SEV_CURVE_P384)
		return SEV_RET_INVALID_CERTIFICATE;
	if (c->algo != SEV_ALGO_ECDH_SHA256 && c->algo != SEV_ALGO_ECDH_SHA384)
		return SEV_RET_INVALID_CERTIFICATE;
	if (crypto_p384_from_public(c->pubkey.ecc.qx, c->pubkey.ecc.qy, key))
		return SEV_RET_INVALID_CERTIFICATE;
	return SEV_RET_SUCCESS;
}

/* §12.4 firmware side: Z = ECDH(PDH, GODH), then unwrap TEK/TIK. */
static int open_session(struct psp *psp, const struct psp_mem *mem,
			const struct psp_launch_start *b, struct psp_guest *g)
{
	struct sev_session s;
	struct sev_cert godh;
	EVP_PKEY *peer;
	uint8_t z[P384_LEN];
	int st;

	if (b->dh_cert_len != SEV_CERT_LEN || b->session_len != SEV_SESSION_LEN)
		return SEV_RET_INVALID_LEN;
	if (psp_read(psp, mem, b->dh_cert_paddr, &godh, sizeof(godh)) ||
	    psp_read(psp, mem, b->session_paddr, &s, sizeof(s)))
		return SEV_RET_INVALID_ADDRESS;
	st = godh_key(&godh, &peer);
	if (st)
		return st;
	if (crypto_p384_ecdh(psp->nv.pdh_key, peer, z)) {
		EVP_PKEY_free(peer);
		return SEV_RET_INVALID_CERTIFICATE;
	}
	EVP_PKEY_free(peer);
	st = sev_session_unwrap(z, sizeof(z), b->policy, &s, &g->tk);
	crypto_wipe(z, sizeof(z));
	if (st)
		return st;
	memcpy(g->nonce, s.nonce, 16);
	g->have_tk = true;
	return SEV_RET_SUCCESS;
}

/*
 * LAUNCH_START (§9.19) and RECEIVE_START (§9.30).  need_session is false
 * for LAUNCH_START, where DH_CERT_PADDR = 0 means "no owner session".
 */
int psp_guest_start(struct psp *psp, struct psp_launch_start *b,
		    const struct psp_mem *mem, bool need_session, uint8_t state)
{
	struct psp_guest *g, *from = NULL;
	int st;

	if (psp->state == PSP_UNINIT)
		return SEV_RET_INVALID_PLATFORM_STATE;
	if (b->handle) {
		from = psp_guest_get(psp, b->handle);
		if (!from)
			return SEV_RET_INVALID_GUEST;
		if (from->policy != b->policy ||
		    (from->policy & SEV_POLICY_NOKS))
			return SEV_RET_POLICY_FAILURE;
	}
	if (!api_allows(psp, b->policy))
		return SEV_RET_POLICY_FAILURE;
	if ((b->policy & SEV_POLICY_ES) && !psp->config_es)
		return SEV_RET_INAVLID_CONFIG;
	st = psp_guest_new(psp, b->policy, state, &g);
	if (st)
		return st;
	if (from && psp_guest_share_vek(g, from))
		st = SEV_RET_HWSEV_RET_PLATFORM;
	if (!st && (need_session || b->dh_cert_paddr))
		st = open_session(psp, mem, b, g);
	else if (!st) {
		/* No owner: the firmware picks its own transport keys. */
		st = crypto_random(&g->tk, sizeof(g->tk)) ?
			     SEV_RET_HWSEV_RET_PLATFORM :
			     SEV_RET_SUCCESS;
		g->have_tk = !st;
	}
	if (st) {
		psp_guest_free(psp, g);
		return st;
	}
	psp_guest_commit(psp, g);
	b->handle = g->handle;
	return SEV_RET_SUCCESS;
}

/*
 * Guest command prologue: lookup, GSTATE, then activation (§14 order;
 * activation after policy is checked by the callers that have a policy).
 */
static int guest_in(struct psp *psp, uint32_t handle, uint8_t state,
		    struct psp_guest **g)
{
	int st = psp_guest_lookup(psp, handle, g);

	if (st)
		return st;
	return (*g)->state == state ? SEV_RET_SUCCESS :
				      SEV_RET_INVALID_GUEST_STATE;
}

/* Hash the plaintext into LD, then encrypt it in place (§9.20, §9.21). */
static int measure_region(struct psp *psp, struct psp_guest *g,
			  const struct psp_mem *mem, uint64_t pa, uint32_t len)
{
	size_t cap = len < UPDATE_CHUNK ? len : UPDATE_CHUNK;
	uint8_t *buf = malloc(cap);
	uint32_t done = 0;
	int st = SEV_RET_SUCCESS;

	if (!buf)
		return SEV_RET_RESOURCE_LIMIT;
	while (done < len && !st) {
		size_t n = len - done < cap ? len - done : cap;

		if (psp_read(psp, mem, pa + done, buf, n))
			st = SEV_RET_INVALID_ADDRESS;
		else if (crypto_sha_add(g->ld, buf, n))
			st = SEV_RET_HWSEV_RET_PLATFORM;
		else if (psp->cfg.mem_mode == PSP_MEM_XTS &&
			 psp_guest_write(psp, g, mem, pa + done, buf, n))
			st = SEV_RET_INVALID_ADDRESS;
		done += (uint32_t)n;
	}
	psp->bytes_moved += done;
	free(buf);
	return st;
}

static int cmd_launch_update_data(struct psp *psp, struct psp_launch_update *b,
				  const struct psp_mem *mem)
{
	struct psp_guest *g;
	int st = guest_in(psp, b->handle, GSTATE_LUPDATE, &g);

	if (st)
		return st;
	if (!g->active)
		return SEV_RET_INACTIVE;
	if (!b->length || !psp_aligned16(b->length))
		return SEV_RET_INVALID_LEN;
	if (!psp_aligned16(b->paddr))
		return SEV_RET_INVALID_ADDRESS;
	return measure_region(psp, g, mem, b->paddr, b->length);
}

static int cmd_launch_update_vmsa(struct psp *psp, struct psp_launch_update *b,
				  const struct psp_mem *mem)
{
	struct psp_guest *g;
	int st = guest_in(psp, b->handle, GSTATE_LUPDATE, &g);

	if (st)
		return st;
	if (!(g->policy & SEV_POLICY_ES))
		return SEV_RET_POLICY_FAILURE;
	if (!g->active)
		return SEV_RET_INACTIVE;
	if (b->length != SEV_VMSA_LEN)
		return SEV_RET_INVALID_LEN;
	if (psp_pa(psp, b->paddr) & (SEV_VMSA_LEN - 1))
		return SEV_RET_INVALID_ADDRESS;
	return measure_region(psp, g, mem, b->paddr, b->length);
}

/* §9.22, §12.6: finalize LD, fresh MNONCE, MEASURE under TIK. */
static int cmd_launch_measure(struct psp *psp, struct psp_launch_update *b,
			      const struct psp_mem *mem)
{
	struct psp_guest *g;
	uint8_t out[SEV_MEASURE_LEN], ld[32];
	int st = guest_in(psp, b->handle, GSTATE_LUPDATE, &g);

	if (st)
		return st;
	if (b->length < SEV_MEASURE_LEN) {
		b->length = SEV_MEASURE_LEN;
		return SEV_RET_INVALID_LEN;
	}
	if (crypto_sha_peek(g->ld, ld) || crypto_random(out + 32, 16) ||
	    sev_measure(g->tk.tik, psp->cfg.api_major, psp->cfg.api_minor,
			psp->cfg.build, g->policy, ld, out + 32, out))
		return SEV_RET_HWSEV_RET_PLATFORM;
	if (psp_write(psp, mem, b->paddr, out, sizeof(out)))
		return SEV_RET_INVALID_ADDRESS;
	memcpy(g->ld_final, ld, 32);
	memcpy(g->measure, out, 32);
	g->measured = true;
	g->state = GSTATE_LSECRET;
	b->length = SEV_MEASURE_LEN;
	return SEV_RET_SUCCESS;
}

/*
 * Read, check and decrypt one packet (§12.7, §12.9) into plain.  measure
 * is mixed into the MAC for LAUNCH_SECRET only.
 */
int psp_packet_open(struct psp *psp, const struct psp_mem *mem,
		    const struct psp_packet *b, const struct psp_guest *g,
		    uint8_t ctx, const uint8_t *measure, uint8_t *plain)
{
	struct sev_packet_hdr hdr;
	uint8_t mac[32], *trans;
	int st = SEV_RET_SUCCESS;

	trans = malloc(b->trans_len);
	if (!trans)
		return SEV_RET_RESOURCE_LIMIT;
	if (psp_read(psp, mem, b->hdr_paddr, &hdr, sizeof(hdr)) ||
	    psp_read(psp, mem, b->trans_paddr, trans, b->trans_len))
		st = SEV_RET_INVALID_ADDRESS;
	else if (hdr.flags & 1)
		st = SEV_RET_UNSUPPORTED; /* COMPRESSED: no tool sends it */
	else if (sev_packet_mac(g->tk.tik, ctx, &hdr, b->guest_len, trans,
				b->trans_len, measure, mac))
		st = SEV_RET_HWSEV_RET_PLATFORM;
	else if (crypto_memcmp(mac, hdr.mac, 32))
		st = SEV_RET_BAD_MEASUREMENT;
	else if (crypto_aes128_ctr(g->tk.tek, hdr.iv, trans, plain,
				   b->trans_len))
		st = SEV_RET_HWSEV_RET_PLATFORM;
	free(trans);
	return st;
}

/* Length and alignment rules shared by LAUNCH_SECRET and RECEIVE_UPDATE. */
int psp_packet_check(const struct psp *psp, const struct psp_packet *b,
		     uint32_t max)
{
	if (b->hdr_len != SEV_PACKET_HDR_LEN || !b->guest_len ||
	    b->guest_len != b->trans_len || !psp_aligned16(b->guest_len) ||
	    b->guest_len > max)
		return SEV_RET_INVALID_LEN;
	if (!psp_aligned16(b->guest_paddr))
		return SEV_RET_INVALID_ADDRESS;
	return SEV_RET_SUCCESS;
}

/* §9.23: decrypt under TEK after the MAC check; write with the VEK. */
static int cmd_launch_secret(struct psp *psp, struct psp_packet *b,
			     const struct psp_mem *mem)
{
	struct psp_guest *g;
	uint8_t *plain;
	int st = guest_in(psp, b->handle, GSTATE_LSECRET, &g);

	if (st)
		return st;
	if (!g->active)
		return SEV_RET_INACTIVE;
	st = psp_packet_check(psp, b, SEV_SECRET_MAX);
	if (st)
		return st;
	plain = malloc(b->guest_len);
	if (!plain)
		return SEV_RET_RESOURCE_LIMIT;
	/* Before API 0.17 the MAC does not cover MEASURE (§12.7). */
	st = psp_packet_open(psp, mem, b, g, SEV_MAC_SECRET,
			     sev_api_measures_version(psp->cfg.api_major,
						      psp->cfg.api_minor) ?
				     g->measure :
				     NULL,
			     plain);
	if (!st && psp_guest_write(psp, g, mem, b->guest_paddr, plain,
				   b->guest_len))
		st = SEV_RET_INVALID_ADDRESS;
	crypto_wipe(plain, b->guest_len);
	free(plain);
	return st;
}

/* §9.24: LSECRET -> RUNNING; the transport keys are gone. */
static int cmd_launch_finish(struct psp *psp, struct psp_handle *b)
{
	struct psp_guest *g;
	int st = guest_in(psp, b->handle, GSTATE_LSECRET, &g);

	if (st)
		return st;
	psp_guest_drop_tk(g);
	g->state = GSTATE_RUNNING;
	return SEV_RET_SUCCESS;
}

/* §9.25, §12.8: a PEK-signed report of the launch digest. */
static int cmd_attestation(struct psp *psp, struct psp_attestation *b,
			   const struct psp_mem *mem)
{
	uint8_t rep[SEV_ATTESTATION_LEN];
	struct psp_guest *g;
	uint32_t v;
	int st = psp_guest_lookup(psp, b->handle, &g);

	if (st)
		return st;
	if (g->state != GSTATE_LSECRET && g->state != GSTATE_RUNNING)
		return SEV_RET_INVALID_GUEST_STATE;
	if (b->length < SEV_ATTESTATION_LEN) {
		b->length = SEV_ATTESTATION_LEN;
		return SEV_RET_INVALID_LEN;
	}
	memset(rep, 0, sizeof(rep));
	memcpy(rep, b->mnonce, 16);
	memcpy(rep + 0x10, g->ld_final, 32);
	memcpy(rep + 0x30, &g->policy, 4);
	v = SEV_USAGE_PEK;
	memcpy(rep + 0x34, &v, 4);
	v = SEV_ALGO_ECDSA_SHA256;
	memcpy(rep + 0x38, &v, 4);
	if (crypto_p384_sign(psp->nv.pek_key, rep, 0x34, rep + 0x40,
			     rep + 0x40 + 72))
		return SEV_RET_HWSEV_RET_PLATFORM;
	if (psp_write(psp, mem, b->paddr, rep, sizeof(rep)))
		return SEV_RET_INVALID_ADDRESS;
	b->length = SEV_ATTESTATION_LEN;
	return SEV_RET_SUCCESS;
}

int psp_launch_cmd(struct psp *psp, unsigned int cmd, void *buf,
		   const struct psp_mem *mem)
{
	switch (cmd) {
	case PSP_CMD_LAUNCH_START:
		return psp_guest_start(psp, buf, mem, false, GSTATE_LUPDATE);
	case PSP_CMD_LAUNCH_UPDATE_DATA:
		return cmd_launch_update_data(psp, buf, mem);
	case PSP_CMD_LAUNCH_UPDATE_VMSA:
		return cmd_launch_update_vmsa(psp, buf, mem);
	case PSP_CMD_LAUNCH_MEASURE:
		return cmd_launch_measure(psp, buf, mem);
	case PSP_CMD_LAUNCH_SECRET:
		return cmd_launch_secret(psp, buf, mem);
	case PSP_CMD_LAUNCH_FINISH:
		return cmd_launch_finish(psp, buf);
	case PSP_CMD_ATTESTATION:
		if (psp->cfg.api_major == 0 && psp->cfg.api_minor < 23)
			return SEV_RET_INVALID_COMMAND;
		return cmd_attestation(psp, buf, mem);
	}
	return -1;
}
