// SPDX-License-Identifier: MIT
/*
 * Platform lifecycle and platform commands (firmware spec §5, §9.1–§9.13).
 *
 * Error precedence inside a command (§14, fixed by docs/fidelity.md):
 * platform state, handle, guest state, policy, activation, lengths,
 * alignment, memory access, certificates and MACs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "psp_internal.h"

#define TMR_SIZE (1u << 20)
#define INIT_EX_NV_LEN (32u << 10)

static int direct_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
	if (!pa)
		return -EFAULT;
	memcpy(buf, (const void *)(uintptr_t)pa, len);
	return 0;
}

static int direct_write(void *ctx, uint64_t pa, const void *buf, size_t len)
{
	if (!pa)
		return -EFAULT;
	memcpy((void *)(uintptr_t)pa, buf, len);
	return 0;
}

static const struct psp_mem_ops direct_ops = {
	.read = direct_read,
	.write = direct_write,
};

const struct psp_mem psp_mem_direct = { .ops = &direct_ops, .ctx = NULL };

void psp_config_default(struct psp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->api_major = 1;
	cfg->api_minor = 55;
	cfg->build = 21;
	cfg->max_asid = 1006;
	cfg->min_sev_asid = 100;
	cfg->es = true;
	cfg->cbit = 51;
	cfg->max_guests = 1006;
	cfg->rsa_bits = 4096;
	cfg->mem_mode = PSP_MEM_PLAIN;
}

/* The firmware ignores the C-bit in every address it is given (§1). */
uint64_t psp_pa(const struct psp *psp, uint64_t pa)
{
	if (psp->cfg.cbit && psp->cfg.cbit < 64)
		pa &= ~(1ull << psp->cfg.cbit);
	return pa;
}

int psp_read(const struct psp *psp, const struct psp_mem *mem, uint64_t pa,
	     void *buf, size_t len)
{
	if (!len)
		return 0;
	return mem->ops->read(mem->ctx, psp_pa(psp, pa), buf, len) ? -EFAULT :
								      0;
}

int psp_write(const struct psp *psp, const struct psp_mem *mem, uint64_t pa,
	      const void *buf, size_t len)
{
	if (!len)
		return 0;
	return mem->ops->write(mem->ctx, psp_pa(psp, pa), buf, len) ? -EFAULT :
								       0;
}

int psp_guest_read(const struct psp *psp, const struct psp_guest *g,
		   const struct psp_mem *mem, uint64_t pa, void *buf,
		   size_t len)
{
	int ret = psp_read(psp, mem, pa, buf, len);

	if (ret || psp->cfg.mem_mode == PSP_MEM_PLAIN)
		return ret;
	return crypto_mem_xts(g->vek, g->vek_tweak, psp_pa(psp, pa), buf, buf,
			      len, 0);
}

int psp_guest_write(const struct psp *psp, const struct psp_guest *g,
		    const struct psp_mem *mem, uint64_t pa, const void *buf,
		    size_t len)
{
	uint8_t *tmp;
	int ret;

	if (psp->cfg.mem_mode == PSP_MEM_PLAIN)
		return psp_write(psp, mem, pa, buf, len);
	tmp = malloc(len ? len : 1);
	if (!tmp)
		return -ENOMEM;
	ret = crypto_mem_xts(g->vek, g->vek_tweak, psp_pa(psp, pa), buf, tmp,
			     len, 1);
	ret = ret ?: psp_write(psp, mem, pa, tmp, len);
	free(tmp);
	return ret;
}

int psp_mem_engine(struct psp *psp, unsigned int asid, uint64_t pa,
		   const void *in, void *out, size_t len, bool encrypt)
{
	uint8_t key[16], tweak[16];
	struct psp_guest *g = NULL;
	int ret;

	if (psp->cfg.mem_mode != PSP_MEM_XTS || (len & 15))
		return -EINVAL;
	pthread_mutex_lock(&psp->lock);
	if (asid && asid <= psp->cfg.max_asid && psp->asid_handle[asid])
		g = psp_guest_get(psp, psp->asid_handle[asid]);
	if (g && g->active && g->asid == asid) {
		memcpy(key, g->vek, sizeof(key));
		memcpy(tweak, g->vek_tweak, sizeof(tweak));
	} else {
		g = NULL;
	}
	pthread_mutex_unlock(&psp->lock);
	if (!g)
		return -ENOKEY;
	ret = crypto_mem_xts(key, tweak, psp_pa(psp, pa), in, out, len,
			     encrypt ? 1 : 0);
	crypto_wipe(key, sizeof(key));
	crypto_wipe(tweak, sizeof(tweak));
	return ret ? -EIO : 0;
}

static int check_config(const struct psp_config *cfg)
{
	if (!cfg->max_asid || cfg->max_asid > 4096)
		return -EINVAL;
	if (!cfg->min_sev_asid || cfg->min_sev_asid > cfg->max_asid + 1)
		return -EINVAL;
	if (cfg->rsa_bits != 2048 && cfg->rsa_bits != 4096)
		return -EINVAL;
	if (!cfg->max_guests || cfg->max_guests > (1u << 20))
		return -EINVAL;
	if (cfg->mem_mode != PSP_MEM_PLAIN && cfg->mem_mode != PSP_MEM_XTS)
		return -EINVAL;
	return 0;
}

int psp_create(const struct psp_config *cfg, struct psp **out, char *why,
	       size_t why_len)
{
	struct psp *psp;
	char dummy[1];
	int ret;

	if (!why) {
		why = dummy;
		why_len = sizeof(dummy);
	}
	why[0] = 0;
	ret = check_config(cfg);
	if (ret) {
		snprintf(why, why_len, "invalid platform configuration");
		return ret;
	}
	psp = calloc(1, sizeof(*psp));
	if (!psp)
		return -ENOMEM;
	psp->cfg = *cfg;
	psp->seed = (unsigned int)getpid();
	pthread_mutex_init(&psp->lock, NULL);
	psp->guests = calloc(cfg->max_guests, sizeof(*psp->guests));
	psp->asid_handle = calloc(cfg->max_asid + 1, sizeof(uint32_t));
	psp->asid_dirty = calloc(cfg->max_asid + 1, 1);
	if (cfg->state_dir)
		psp->state_dir = strdup(cfg->state_dir);
	psp->cfg.state_dir = psp->state_dir;
	ret = -ENOMEM;
	if (!psp->guests || !psp->asid_handle || !psp->asid_dirty ||
	    (cfg->state_dir && !psp->state_dir))
		goto fail;
	ret = psp_chip_load_or_create(psp, why, why_len);
	ret = ret ?: psp_nv_load(psp, why, why_len);
	if (ret)
		goto fail;
	psp->state = PSP_UNINIT;
	*out = psp;
	return 0;
fail:
	psp_destroy(psp);
	return ret;
}

void psp_destroy(struct psp *psp)
{
	if (!psp)
		return;
	psp_guests_destroy_all(psp);
	psp_chip_clear(&psp->chip);
	psp_nv_clear(&psp->nv);
	free(psp->faults);
	free(psp->guests);
	free(psp->asid_handle);
	free(psp->asid_dirty);
	free(psp->state_dir);
	pthread_mutex_destroy(&psp->lock);
	free(psp);
}

void psp_wbinvd(struct psp *psp)
{
	pthread_mutex_lock(&psp->lock);
	psp->wbinvd_done = true;
	pthread_mutex_unlock(&psp->lock);
}

static void mark_all_asids_dirty(struct psp *psp)
{
	unsigned int a;

	for (a = 1; a <= psp->cfg.max_asid; a++)
		psp->asid_dirty[a] = 1;
	psp->ndirty = psp->cfg.max_asid;
	psp->wbinvd_done = false;
}

/* §9.1 INIT / §9.2 INIT_EX: load or make the identity, platform -> INIT. */
static int do_init(struct psp *psp, uint32_t flags, uint64_t tmr_pa,
		   uint32_t tmr_len)
{
	bool es = flags & PSP_INIT_FLAGS_ES;

	if (psp->state != PSP_UNINIT)
		return SEV_RET_INVALID_PLATFORM_STATE;
	if (es && !psp->cfg.es)
		return SEV_RET_INAVLID_CONFIG;
	if (es && tmr_len < TMR_SIZE)
		return SEV_RET_INVALID_LEN;
	if (es && (psp_pa(psp, tmr_pa) & (TMR_SIZE - 1) || !tmr_pa))
		return SEV_RET_INVALID_ADDRESS;
	if (!psp->nv.pek_key) {
		struct psp_nv nv = { 0 };

		/* §9.1: INIT failed, the platform stays UNINIT with the NV
		 * it had; an identity never saved is not used again. */
		if (psp_nv_generate(psp, &nv) || psp_nv_commit(psp, &nv))
			return SEV_RET_HWSEV_RET_PLATFORM;
	}
	mark_all_asids_dirty(psp);
	psp->config_es = es;
	psp->state = PSP_INIT;
	return SEV_RET_SUCCESS;
}

static int cmd_init(struct psp *psp, struct psp_init *b)
{
	return do_init(psp, b->flags, b->tmr_paddr, b->tmr_len);
}

static int cmd_init_ex(struct psp *psp, struct psp_init_ex *b)
{
	if (psp->state != PSP_UNINIT)
		return SEV_RET_INVALID_PLATFORM_STATE;
	if (b->length != sizeof(*b) || (b->nv_paddr && b->nv_len != INIT_EX_NV_LEN))
		return SEV_RET_INVALID_LEN;
	if (psp_pa(psp, b->nv_paddr) & 4095)
		return SEV_RET_INVALID_ADDRESS;
	return do_init(psp, b->flags, b->tmr_paddr, b->tmr_len);
}

/* §9.3: legal in every state; deletes all guests and volatile state. */
static int cmd_shutdown(struct psp *psp)
{
	psp_guests_destroy_all(psp);
	memset(psp->asid_handle, 0,
	       (psp->cfg.max_asid + 1) * sizeof(*psp->asid_handle));
	psp->config_es = false;
	psp->state = PSP_UNINIT;
	return SEV_RET_SUCCESS;
}

/* §9.4: UNINIT only; erases OCA, PEK and PDH. */
static int cmd_factory_reset(struct psp *psp)
{
	if (psp->state != PSP_UNINIT)
		return SEV_RET_INVALID_PLATFORM_STATE;
	psp_nv_clear(&psp->nv);
	if (psp_nv_save(psp))
		return SEV_RET_HWSEV_RET_PLATFORM;
	return SEV_RET_SUCCESS;
}

/* §9.5: every state; OWNER, CONFIG.ES and GUEST_COUNT read 0 in UNINIT. */
static int cmd_platform_status(struct psp *psp, struct psp_platform_status *b)
{
	memset(b, 0, sizeof(*b));
	b->api_major = psp->cfg.api_major;
	b->api_minor = psp->cfg.api_minor;
	b->build = psp->cfg.build;
	b->state = (uint8_t)psp->state;
	if (psp->state == PSP_UNINIT)
		return SEV_RET_SUCCESS;
	b->owner = psp->nv.external ? 1 : 0;
	b->config[0] = psp->config_es ? 1 : 0;
	b->guest_count = psp->nguests;
	return SEV_RET_SUCCESS;
}

/* §9.6: INIT only; a new self-owned identity. */
static int cmd_pek_gen(struct psp *psp)
{
	struct psp_nv nv = { 0 };

	if (psp->state != PSP_INIT)
		return SEV_RET_INVALID_PLATFORM_STATE;
	if (psp_nv_generate(psp, &nv) || psp_nv_commit(psp, &nv))
		return SEV_RET_HWSEV_RET_PLATFORM;
	return SEV_RET_SUCCESS;
}

/* §9.7: INIT or WORKING (fidelity.md); length query convention of §1. */
static int cmd_pek_csr(struct psp *psp, struct psp_addr_len *b,
		       const struct psp_mem *mem)
{
	struct sev_cert csr;

	if (psp->state == PSP_UNINIT)
		return SEV_RET_INVALID_PLATFORM_STATE;
	if (b->length < SEV_CERT_LEN) {
		b->length = SEV_CERT_LEN;
		return SEV_RET_INVALID_LEN;
	}
	if (sev_cert_init_ec(&csr, SEV_USAGE_PEK, SEV_ALGO_ECDSA_SHA256,
			     psp->cfg.api_major, psp->cfg.api_minor,
			     psp->nv.pek_key))
		return SEV_RET_HWSEV_RET_PLATFORM;
	if (psp_write(psp, mem, b->address, &csr, sizeof(csr)))
		return SEV_RET_INVALID_ADDRESS;
	b->length = SEV_CERT_LEN;
	return SEV_RET_SUCCESS;
}

static bool same_pubkey(const struct sev_cert *a, const struct sev_cert *b)
{
	return !memcmp(&a->pubkey, &b->pubkey, sizeof(a->pubkey));
}

/* §9.8: the owner's OCA signs our PEK; the PDH is regenerated. */
static int cmd_pek_cert_import(struct psp *psp, struct psp_pek_cert_import *b,
			       const struct psp_mem *mem)
{
	struct sev_cert pek, oca;
	struct psp_nv nv;

	if (psp->state != PSP_INIT)
		return SEV_RET_INVALID_PLATFORM_STATE;
	if (psp->nv.external)
		return SEV_RET_ALREADY_OWNED;
	if (b->pek_cert_len != SEV_CERT_LEN || b->oca_cert_len != SEV_CERT_LEN)
		return SEV_RET_INVALID_LEN;
	if (psp_read(psp, mem, b->pek_cert_paddr, &pek, sizeof(pek)) ||
	    psp_read(psp, mem, b->oca_cert_paddr, &oca, sizeof(oca)))
		return SEV_RET_INVALID_ADDRESS;
	if (sev_cert_check(&oca) || oca.usage != SEV_USAGE_OCA ||
	    oca.algo != SEV_ALGO_ECDSA_SHA256)
		return SEV_RET_INVALID_CERTIFICATE;
	if (sev_cert_check(&pek) || pek.usage != SEV_USAGE_PEK ||
	    pek.algo != SEV_ALGO_ECDSA_SHA256 || !same_pubkey(&pek, &psp->nv.pek))
		return SEV_RET_INVALID_CERTIFICATE;
	if (sev_cert_verify(&oca, &oca) || sev_cert_verify(&pek, &oca))
		return SEV_RET_BAD_SIGNATURE;
	/* Keep the OCA's slot; the CEK signs the other one (§9.8). */
	if (psp_pek_cert_cek_sign(psp, &pek,
				  pek.sig[0].usage == SEV_USAGE_OCA ? 1 : 0))
		return SEV_RET_HWSEV_RET_PLATFORM;
	/* built on a copy: a failure keeps the self-owned identity */
	psp_nv_copy(&nv, &psp->nv);
	EVP_PKEY_free(nv.oca_key);
	nv.oca_key = NULL;
	nv.oca = oca;
	nv.pek = pek;
	nv.external = true;
	if (psp_pdh_generate(psp, &nv)) {
		psp_nv_clear(&nv);
		return SEV_RET_HWSEV_RET_PLATFORM;
	}
	if (psp_nv_commit(psp, &nv))
		return SEV_RET_HWSEV_RET_PLATFORM;
	return SEV_RET_SUCCESS;
}

/* §9.9: PDH and PEK || OCA || CEK; both lengths on INVALID_LEN. */
static int cmd_pdh_cert_export(struct psp *psp, struct psp_pdh_cert_export *b,
			       const struct psp_mem *mem)
{
	struct sev_cert chain[3];

	if (psp->state == PSP_UNINIT)
		return SEV_RET_INVALID_PLATFORM_STATE;
	if (b->pdh_cert_len < SEV_CERT_LEN || b->certs_len < SEV_CHAIN_LEN) {
		b->pdh_cert_len = SEV_CERT_LEN;
		b->certs_len = SEV_CHAIN_LEN;
		return SEV_RET_INVALID_LEN;
	}
	chain[0] = psp->nv.pek;
	chain[1] = psp->nv.oca;
	chain[2] = psp->chip.cek;
	if (psp_write(psp, mem, b->pdh_cert_paddr, &psp->nv.pdh,
		      SEV_CERT_LEN) ||
	    psp_write(psp, mem, b->certs_paddr, chain, sizeof(chain)))
		return SEV_RET_INVALID_ADDRESS;
	b->pdh_cert_len = SEV_CERT_LEN;
	b->certs_len = SEV_CHAIN_LEN;
	return SEV_RET_SUCCESS;
}

/* §9.10: INIT or WORKING. */
static int cmd_pdh_gen(struct psp *psp)
{
	struct psp_nv nv;

	if (psp->state == PSP_UNINIT)
		return SEV_RET_INVALID_PLATFORM_STATE;
	psp_nv_copy(&nv, &psp->nv);
	if (psp_pdh_generate(psp, &nv)) {
		psp_nv_clear(&nv);
		return SEV_RET_HWSEV_RET_PLATFORM;
	}
	if (psp_nv_commit(psp, &nv))
		return SEV_RET_HWSEV_RET_PLATFORM;
	return SEV_RET_SUCCESS;
}

/* §8.4, §9.11: needs a WBINVD since the last DEACTIVATE (or INIT). */
static int cmd_df_flush(struct psp *psp)
{
	if (psp->state == PSP_UNINIT)
		return SEV_RET_INVALID_PLATFORM_STATE;
	if (psp->ndirty && !psp->wbinvd_done)
		return SEV_RET_WBINVD_REQUIRED;
	memset(psp->asid_dirty, 0, psp->cfg.max_asid + 1);
	psp->ndirty = 0;
	return SEV_RET_SUCCESS;
}

/* §9.12: softsev's firmware cannot be replaced (fidelity.md). */
static int cmd_download_firmware(struct psp *psp)
{
	if (psp->state != PSP_UNINIT)
		return SEV_RET_INVALID_PLATFORM_STATE;
	return SEV_RET_UNSUPPORTED;
}

/* §9.13: 64 bytes for our one socket; any state. */
static int cmd_get_id(struct psp *psp, struct psp_addr_len *b,
		      const struct psp_mem *mem)
{
	if (b->length < SEV_ID_LEN) {
		b->length = SEV_ID_LEN;
		return SEV_RET_INVALID_LEN;
	}
	if (b->address & 7)
		return SEV_RET_INVALID_ADDRESS;
	if (psp_write(psp, mem, b->address, psp->chip.id, SEV_ID_LEN))
		return SEV_RET_INVALID_ADDRESS;
	b->length = SEV_ID_LEN;
	return SEV_RET_SUCCESS;
}

static bool api_at_least(const struct psp *psp, unsigned int maj,
			 unsigned int min)
{
	return psp->cfg.api_major > maj ||
	       (psp->cfg.api_major == maj && psp->cfg.api_minor >= min);
}

int psp_platform_cmd(struct psp *psp, unsigned int cmd, void *buf,
		     const struct psp_mem *mem)
{
	switch (cmd) {
	case PSP_CMD_INIT:
		return cmd_init(psp, buf);
	case PSP_CMD_INIT_EX:
		return cmd_init_ex(psp, buf);
	case PSP_CMD_SHUTDOWN:
		return cmd_shutdown(psp);
	case PSP_CMD_FACTORY_RESET:
		return cmd_factory_reset(psp);
	case PSP_CMD_PLATFORM_STATUS:
		return cmd_platform_status(psp, buf);
	case PSP_CMD_PEK_GEN:
		return cmd_pek_gen(psp);
	case PSP_CMD_PEK_CSR:
		return cmd_pek_csr(psp, buf, mem);
	case PSP_CMD_PEK_CERT_IMPORT:
		return cmd_pek_cert_import(psp, buf, mem);
	case PSP_CMD_PDH_CERT_EXPORT:
		return cmd_pdh_cert_export(psp, buf, mem);
	case PSP_CMD_PDH_GEN:
		return cmd_pdh_gen(psp);
	case PSP_CMD_DF_FLUSH:
		return cmd_df_flush(psp);
	case PSP_CMD_DOWNLOAD_FIRMWARE:
		return cmd_download_firmware(psp);
	case PSP_CMD_GET_ID:
		if (!api_at_least(psp, 0, 16))
			return SEV_RET_INVALID_COMMAND;
		return cmd_get_id(psp, buf, mem);
	}
	return -1;
}

/* Commands that take no buffer (§1); every other one needs one. */
static bool needs_buffer(unsigned int cmd)
{
	switch (cmd) {
	case PSP_CMD_SHUTDOWN:
	case PSP_CMD_FACTORY_RESET:
	case PSP_CMD_PEK_GEN:
	case PSP_CMD_PDH_GEN:
	case PSP_CMD_DF_FLUSH:
		return false;
	}
	return true;
}

int psp_cmd(struct psp *psp, unsigned int cmd, void *buf,
	    const struct psp_mem *mem)
{
	int status;

	if (needs_buffer(cmd) && !buf)
		return SEV_RET_INVALID_ADDRESS;
	pthread_mutex_lock(&psp->lock);
	psp->bytes_moved = 0;
	status = psp_fault_check(psp, cmd);
	if (status)
		goto out;
	status = psp_platform_cmd(psp, cmd, buf, mem);
	if (status < 0)
		status = psp_guest_cmd(psp, cmd, buf, mem);
	if (status < 0)
		status = psp_launch_cmd(psp, cmd, buf, mem);
	if (status < 0)
		status = psp_transport_cmd(psp, cmd, buf, mem);
	if (status < 0)
		status = psp_dbg_cmd(psp, cmd, buf, mem);
	if (status < 0)
		status = SEV_RET_INVALID_COMMAND;
out:
	/* The PSP is one slow core: commands queue behind each other. */
	if (psp->cfg.latency_us || psp->cfg.latency_us_per_mib)
		usleep(psp->cfg.latency_us +
		       (useconds_t)(psp->bytes_moved *
				    psp->cfg.latency_us_per_mib >> 20));
	pthread_mutex_unlock(&psp->lock);
	return status;
}

int psp_platform_state(struct psp *psp)
{
	int s;

	pthread_mutex_lock(&psp->lock);
	s = psp->state;
	pthread_mutex_unlock(&psp->lock);
	return s;
}

unsigned int psp_guest_count(struct psp *psp)
{
	unsigned int n;

	pthread_mutex_lock(&psp->lock);
	n = psp->nguests;
	pthread_mutex_unlock(&psp->lock);
	return n;
}

unsigned int psp_dirty_asids(struct psp *psp)
{
	unsigned int n;

	pthread_mutex_lock(&psp->lock);
	n = psp->ndirty;
	pthread_mutex_unlock(&psp->lock);
	return n;
}

const struct psp_config *psp_config(struct psp *psp)
{
	return &psp->cfg;
}

static int copy_amd(const struct amd_cert *c, uint8_t *buf, size_t *len)
{
	if (*len < c->len) {
		*len = c->len;
		return -ENOSPC;
	}
	memcpy(buf, c->raw, c->len);
	*len = c->len;
	return 0;
}

int psp_get_ark(struct psp *psp, uint8_t *buf, size_t *len)
{
	return copy_amd(&psp->chip.ark_c, buf, len);
}

int psp_get_ask(struct psp *psp, uint8_t *buf, size_t *len)
{
	return copy_amd(&psp->chip.ask_c, buf, len);
}
