// SPDX-License-Identifier: MIT
/*
 * Guest contexts and their ASID binding: ACTIVATE, DEACTIVATE,
 * DECOMMISSION, GUEST_STATUS (firmware spec §6–§8, §9.14–§9.17).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "psp_internal.h"

struct psp_guest *psp_guest_get(struct psp *psp, uint32_t handle)
{
	if (!handle || handle > psp->cfg.max_guests)
		return NULL;
	return psp->guests[handle - 1];
}

/* The XTS tweak key is bound to the VEK so that key sharing shares both. */
static int derive_tweak(struct psp_guest *g)
{
	uint8_t d[32];
	int ret = crypto_hmac_sha256(g->vek, 16, "softsev-xts-tweak", 17, d);

	memcpy(g->vek_tweak, d, 16);
	crypto_wipe(d, sizeof(d));
	return ret;
}

int psp_guest_new(struct psp *psp, uint32_t policy, uint8_t state,
		  struct psp_guest **out)
{
	struct psp_guest *g;
	unsigned int i;

	/* Lowest free slot; handle = slot + 1, never 0. */
	for (i = 0; i < psp->cfg.max_guests; i++)
		if (!psp->guests[i])
			break;
	if (i == psp->cfg.max_guests)
		return SEV_RET_RESOURCE_LIMIT;
	g = calloc(1, sizeof(*g));
	if (!g)
		return SEV_RET_RESOURCE_LIMIT;
	if (crypto_sha_begin(&g->ld) || crypto_random(g->vek, 16) ||
	    derive_tweak(g)) {
		crypto_sha_free(g->ld);
		free(g);
		return SEV_RET_HWSEV_RET_PLATFORM;
	}
	g->handle = i + 1;
	g->policy = policy;
	g->state = state;
	*out = g;
	return SEV_RET_SUCCESS;
}

/* Publish a guest made by psp_guest_new (§5: INIT -> WORKING). */
void psp_guest_commit(struct psp *psp, struct psp_guest *g)
{
	psp->guests[g->handle - 1] = g;
	psp->nguests++;
	psp->state = PSP_WORKING;
}

int psp_guest_share_vek(struct psp_guest *g, const struct psp_guest *from)
{
	memcpy(g->vek, from->vek, 16);
	return derive_tweak(g);
}

void psp_guest_drop_tk(struct psp_guest *g)
{
	crypto_wipe(&g->tk, sizeof(g->tk));
	crypto_wipe(g->nonce, sizeof(g->nonce));
	g->have_tk = false;
}

void psp_guest_free(struct psp *psp, struct psp_guest *g)
{
	if (!g)
		return;
	crypto_sha_free(g->ld);
	crypto_wipe(g, sizeof(*g));
	free(g);
}

static void guest_remove(struct psp *psp, struct psp_guest *g)
{
	if (psp->guests[g->handle - 1] == g) {
		psp->guests[g->handle - 1] = NULL;
		psp->nguests--;
	}
	if (g->active && psp->asid_handle[g->asid] == g->handle)
		psp->asid_handle[g->asid] = 0;
	psp_guest_free(psp, g);
	/* §5: the last DECOMMISSION takes the platform back to INIT. */
	if (!psp->nguests && psp->state == PSP_WORKING)
		psp->state = PSP_INIT;
}

void psp_guests_destroy_all(struct psp *psp)
{
	unsigned int i;

	if (!psp->guests)
		return;
	for (i = 0; i < psp->cfg.max_guests; i++)
		if (psp->guests[i])
			guest_remove(psp, psp->guests[i]);
}

/*
 * Look a guest up for a guest command: UNINIT -> INVALID_PLATFORM_STATE,
 * unknown handle -> INVALID_GUEST (§6, §14 steps 2–3).
 */
int psp_guest_lookup(struct psp *psp, uint32_t handle, struct psp_guest **g)
{
	if (psp->state == PSP_UNINIT)
		return SEV_RET_INVALID_PLATFORM_STATE;
	*g = psp_guest_get(psp, handle);
	return *g ? SEV_RET_SUCCESS : SEV_RET_INVALID_GUEST;
}

static bool asid_fits(const struct psp *psp, uint32_t asid, uint32_t policy)
{
	if (!asid || asid > psp->cfg.max_asid)
		return false;
	/* §8.1: SEV-ES guests below min_sev_asid, plain SEV from it up. */
	if (policy & SEV_POLICY_ES)
		return asid < psp->cfg.min_sev_asid;
	return asid >= psp->cfg.min_sev_asid;
}

/* §8.2 with the precedence written there. */
static int cmd_activate(struct psp *psp, struct psp_activate *b)
{
	struct psp_guest *g;
	int st = psp_guest_lookup(psp, b->handle, &g);

	if (st)
		return st;
	if (g->state == GSTATE_SENT)
		return SEV_RET_INVALID_GUEST_STATE;
	if (!asid_fits(psp, b->asid, g->policy))
		return SEV_RET_INVALID_ASID;
	if (psp->asid_handle[b->asid] && psp->asid_handle[b->asid] != g->handle)
		return SEV_RET_ASID_OWNED;
	if (psp->asid_dirty[b->asid])
		return SEV_RET_DFFLUSH_REQUIRED;
	if (g->active)
		return SEV_RET_ACTIVE;
	g->active = true;
	g->asid = b->asid;
	psp->asid_handle[b->asid] = g->handle;
	return SEV_RET_SUCCESS;
}

/* §8.3: the ASID becomes dirty and the WBINVD indicator is cleared. */
static int cmd_deactivate(struct psp *psp, struct psp_handle *b)
{
	struct psp_guest *g;
	int st = psp_guest_lookup(psp, b->handle, &g);

	if (st)
		return st;
	if (!g->active)
		return SEV_RET_INACTIVE;
	psp->asid_handle[g->asid] = 0;
	if (!psp->asid_dirty[g->asid]) {
		psp->asid_dirty[g->asid] = 1;
		psp->ndirty++;
	}
	psp->wbinvd_done = false;
	g->active = false;
	g->asid = 0;
	return SEV_RET_SUCCESS;
}

/* §9.14: any GSTATE, but an active guest must be deactivated first. */
static int cmd_decommission(struct psp *psp, struct psp_handle *b)
{
	struct psp_guest *g;
	int st = psp_guest_lookup(psp, b->handle, &g);

	if (st)
		return st;
	if (g->active)
		return SEV_RET_ACTIVE;
	guest_remove(psp, g);
	return SEV_RET_SUCCESS;
}

/* §9.17: any GSTATE. */
static int cmd_guest_status(struct psp *psp, struct psp_guest_status *b)
{
	struct psp_guest *g;
	int st = psp_guest_lookup(psp, b->handle, &g);

	if (st)
		return st;
	b->policy = g->policy;
	b->asid = g->active ? g->asid : 0;
	b->state = g->state;
	return SEV_RET_SUCCESS;
}

int psp_guest_cmd(struct psp *psp, unsigned int cmd, void *buf,
		  const struct psp_mem *mem)
{
	switch (cmd) {
	case PSP_CMD_ACTIVATE:
		return cmd_activate(psp, buf);
	case PSP_CMD_DEACTIVATE:
		return cmd_deactivate(psp, buf);
	case PSP_CMD_DECOMMISSION:
		return cmd_decommission(psp, buf);
	case PSP_CMD_GUEST_STATUS:
		return cmd_guest_status(psp, buf);
	}
	return -1;
}

int psp_guest_info(struct psp *psp, uint32_t handle,
		   struct psp_guest_info *info)
{
	struct psp_guest *g;
	int ret = -ENOENT;

	pthread_mutex_lock(&psp->lock);
	g = psp_guest_get(psp, handle);
	if (g) {
		info->handle = g->handle;
		info->policy = g->policy;
		info->asid = g->active ? g->asid : 0;
		info->state = g->state;
		info->active = g->active;
		ret = 0;
		if (g->measured)
			memcpy(info->digest, g->ld_final, 32);
		else
			ret = crypto_sha_peek(g->ld, info->digest);
	}
	pthread_mutex_unlock(&psp->lock);
	return ret;
}
