// SPDX-License-Identifier: MIT
/*
 * Platform identity (firmware spec §7, §9.1, §12.1): softsev's own ARK/ASK
 * and the chip's CEK ("fused", made once), and the non-volatile OCA, PEK and
 * PDH, persisted in the state directory when there is one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "psp_internal.h"
#include "store.h"

/*
 * "root" holds softsev's ARK and ASK, the stand-in for AMD's; copy it into a
 * new state directory before first start to make platforms that share one
 * root of trust.  "chip" holds the CEK and chip id; "nv" the OCA/PEK/PDH.
 */
#define ROOT_FILE "root"
#define CHIP_FILE "chip"
#define NV_FILE "nv"
#define KIND_CHIP 1
#define KIND_NV 2
#define KIND_ROOT 3

enum chip_tag { T_ARK_KEY = 1, T_ARK, T_ASK_KEY, T_ASK, T_CEK_KEY, T_CEK, T_ID };
enum nv_tag { T_OWNER = 1, T_OCA_KEY, T_OCA, T_PEK_KEY, T_PEK, T_PDH_KEY, T_PDH };

/* The CEK certificate always carries API 0.14 on real parts (§12.2). */
#define CEK_API_MAJOR 0
#define CEK_API_MINOR 14

static int add_key(struct store *s, uint16_t tag, EVP_PKEY *key)
{
	uint8_t *der;
	size_t len;
	int ret;

	if (!key)
		return 0;
	ret = crypto_key_to_der(key, &der, &len);
	if (ret)
		return ret;
	ret = store_add(s, tag, der, len);
	crypto_wipe(der, len);
	free(der);
	return ret;
}

void psp_chip_clear(struct psp_chip *chip)
{
	EVP_PKEY_free(chip->ark_key);
	EVP_PKEY_free(chip->ask_key);
	EVP_PKEY_free(chip->cek_key);
	memset(chip, 0, sizeof(*chip));
}

void psp_nv_clear(struct psp_nv *nv)
{
	EVP_PKEY_free(nv->oca_key);
	EVP_PKEY_free(nv->pek_key);
	EVP_PKEY_free(nv->pdh_key);
	memset(nv, 0, sizeof(*nv));
}

static int root_generate(struct psp *psp)
{
	struct psp_chip *c = &psp->chip;
	uint8_t ark_id[16], ask_id[16];
	size_t len = amd_cert_size(psp->cfg.rsa_bits);
	int ret;

	ret = crypto_random(ark_id, 16) ?: crypto_random(ask_id, 16);
	ret = ret ?: crypto_rsa_generate(psp->cfg.rsa_bits, &c->ark_key);
	ret = ret ?: crypto_rsa_generate(psp->cfg.rsa_bits, &c->ask_key);
	ret = ret ?: amd_cert_build(c->ark, len, SEV_USAGE_ARK, ark_id, ark_id,
				    c->ark_key, NULL);
	ret = ret ?: amd_cert_build(c->ask, len, SEV_USAGE_ASK, ask_id, ark_id,
				    c->ask_key, c->ark_key);
	ret = ret ?: amd_cert_parse(c->ark, len, &c->ark_c);
	ret = ret ?: amd_cert_parse(c->ask, len, &c->ask_c);
	return ret;
}

/* The CEK is the chip's own key, signed by the ASK (§12.1). */
static int cek_generate(struct psp *psp)
{
	struct psp_chip *c = &psp->chip;
	int ret;

	ret = crypto_random(c->id, sizeof(c->id));
	ret = ret ?: crypto_p384_generate(&c->cek_key);
	ret = ret ?: sev_cert_init_ec(&c->cek, SEV_USAGE_CEK,
				      SEV_ALGO_ECDSA_SHA256, CEK_API_MAJOR,
				      CEK_API_MINOR, c->cek_key);
	ret = ret ?: sev_cert_sign_rsa(&c->cek, 0, &c->ask_c, c->ask_key);
	return ret;
}

static int root_save(struct psp *psp)
{
	struct psp_chip *c = &psp->chip;
	struct store s = { 0 };
	int ret;

	ret = add_key(&s, T_ARK_KEY, c->ark_key);
	ret = ret ?: store_add(&s, T_ARK, c->ark, c->ark_c.len);
	ret = ret ?: add_key(&s, T_ASK_KEY, c->ask_key);
	ret = ret ?: store_add(&s, T_ASK, c->ask, c->ask_c.len);
	ret = ret ?: store_create(psp->state_dir, ROOT_FILE, KIND_ROOT, &s);
	store_free(&s);
	return ret;
}

static int chip_save(struct psp *psp)
{
	struct psp_chip *c = &psp->chip;
	struct store s = { 0 };
	int ret;

	ret = add_key(&s, T_CEK_KEY, c->cek_key);
	ret = ret ?: store_add(&s, T_CEK, &c->cek, sizeof(c->cek));
	ret = ret ?: store_add(&s, T_ID, c->id, sizeof(c->id));
	ret = ret ?: store_create(psp->state_dir, CHIP_FILE, KIND_CHIP, &s);
	store_free(&s);
	return ret;
}

static int take_key(const struct store_rec *r, EVP_PKEY **key)
{
	if (*key)
		return -EUCLEAN;
	return crypto_key_from_der(r->data, r->len, key) ? -EUCLEAN : 0;
}

static int take_blob(const struct store_rec *r, void *dst, size_t len)
{
	if (r->len != len)
		return -EUCLEAN;
	memcpy(dst, r->data, len);
	return 0;
}

static int take_amd(const struct store_rec *r, uint8_t *dst,
		    struct amd_cert *c)
{
	if (r->len > AMD_CERT_MAX)
		return -EUCLEAN;
	memcpy(dst, r->data, r->len);
	return amd_cert_parse(dst, r->len, c) ? -EUCLEAN : 0;
}

/* Records of "root" and "chip" share one tag space. */
static int chip_parse(struct psp *psp, const uint8_t *data, size_t len,
		      int *seen)
{
	struct psp_chip *c = &psp->chip;
	struct store_rec r;
	size_t pos = 0;
	int ret;

	while ((ret = store_next(data, len, &pos, &r)) == 1) {
		switch (r.tag) {
		case T_ARK_KEY:
			ret = take_key(&r, &c->ark_key);
			break;
		case T_ARK:
			ret = take_amd(&r, c->ark, &c->ark_c);
			break;
		case T_ASK_KEY:
			ret = take_key(&r, &c->ask_key);
			break;
		case T_ASK:
			ret = take_amd(&r, c->ask, &c->ask_c);
			break;
		case T_CEK_KEY:
			ret = take_key(&r, &c->cek_key);
			break;
		case T_CEK:
			ret = take_blob(&r, &c->cek, sizeof(c->cek));
			break;
		case T_ID:
			ret = take_blob(&r, c->id, sizeof(c->id));
			break;
		default:
			ret = -EUCLEAN;
		}
		if (ret)
			return ret;
		*seen |= 1 << r.tag;
	}
	return ret;
}

#define ROOT_TAGS (1 << T_ARK_KEY | 1 << T_ARK | 1 << T_ASK_KEY | 1 << T_ASK)
#define CHIP_TAGS (1 << T_CEK_KEY | 1 << T_CEK | 1 << T_ID)

/* Load one file; -ENOENT when absent, -EUCLEAN (with why) when bad. */
static int chip_file_load(struct psp *psp, const char *name, uint32_t kind,
			  int want, char *why, size_t why_len)
{
	uint8_t *data;
	size_t len;
	int ret, seen = 0;

	ret = store_read(psp->state_dir, name, kind, &data, &len, why,
			 why_len);
	if (ret)
		return ret;
	ret = chip_parse(psp, data, len, &seen);
	crypto_wipe(data, len);
	free(data);
	if (!ret && seen != want)
		ret = -EUCLEAN;
	if (ret)
		snprintf(why, why_len, "%s/%s has malformed records",
			 psp->state_dir, name);
	return ret;
}

static int chip_fail(struct psp *psp, const char *name, int ret, char *why,
		     size_t why_len)
{
	snprintf(why, why_len, "cannot create %s/%s: %s", psp->state_dir, name,
		 strerror(-ret));
	return ret;
}

int psp_chip_load_or_create(struct psp *psp, char *why, size_t why_len)
{
	struct psp_chip *c = &psp->chip;
	int ret;

	if (!psp->state_dir)
		return root_generate(psp) ?: cek_generate(psp);
	ret = chip_file_load(psp, ROOT_FILE, KIND_ROOT, ROOT_TAGS, why,
			     why_len);
	if (ret == -ENOENT) {
		ret = root_generate(psp) ?: root_save(psp);
		if (ret == -EEXIST) {
			/* Another platform starting on this directory won. */
			psp_chip_clear(c);
			ret = chip_file_load(psp, ROOT_FILE, KIND_ROOT,
					     ROOT_TAGS, why, why_len);
		} else if (ret) {
			return chip_fail(psp, ROOT_FILE, ret, why, why_len);
		}
	}
	if (ret)
		return ret;
	ret = chip_file_load(psp, CHIP_FILE, KIND_CHIP, CHIP_TAGS, why,
			     why_len);
	if (ret == -ENOENT) {
		ret = cek_generate(psp) ?: chip_save(psp);
		if (ret == -EEXIST) {
			EVP_PKEY_free(c->cek_key);
			c->cek_key = NULL;
			ret = chip_file_load(psp, CHIP_FILE, KIND_CHIP,
					     CHIP_TAGS, why, why_len);
		} else if (ret) {
			return chip_fail(psp, CHIP_FILE, ret, why, why_len);
		}
	}
	if (ret)
		return ret;
	/* The chain must hold together, or the files do not belong together. */
	if (amd_cert_verify(&c->ask_c, &c->ark_c) ||
	    sev_cert_verify_amd(&c->cek, &c->ask_c)) {
		snprintf(why, why_len,
			 "%s: the CEK in 'chip' is not signed by the ASK in 'root'",
			 psp->state_dir);
		return -EUCLEAN;
	}
	return 0;
}

static int nv_parse(struct psp *psp, const uint8_t *data, size_t len)
{
	struct psp_nv *nv = &psp->nv;
	struct store_rec r;
	size_t pos = 0;
	int ret;

	while ((ret = store_next(data, len, &pos, &r)) == 1) {
		switch (r.tag) {
		case T_OWNER:
			ret = r.len == 1 ? 0 : -EUCLEAN;
			nv->external = !ret && r.data[0];
			break;
		case T_OCA_KEY:
			ret = take_key(&r, &nv->oca_key);
			break;
		case T_OCA:
			ret = take_blob(&r, &nv->oca, sizeof(nv->oca));
			break;
		case T_PEK_KEY:
			ret = take_key(&r, &nv->pek_key);
			break;
		case T_PEK:
			ret = take_blob(&r, &nv->pek, sizeof(nv->pek));
			break;
		case T_PDH_KEY:
			ret = take_key(&r, &nv->pdh_key);
			break;
		case T_PDH:
			ret = take_blob(&r, &nv->pdh, sizeof(nv->pdh));
			break;
		default:
			ret = -EUCLEAN;
		}
		if (ret)
			return ret;
	}
	return ret;
}

int psp_nv_load(struct psp *psp, char *why, size_t why_len)
{
	uint8_t *data;
	size_t len;
	int ret;

	if (!psp->state_dir)
		return 0;
	ret = store_read(psp->state_dir, NV_FILE, KIND_NV, &data, &len, why,
			 why_len);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	ret = nv_parse(psp, data, len);
	crypto_wipe(data, len);
	free(data);
	if (ret) {
		psp_nv_clear(&psp->nv);
		snprintf(why, why_len, "%s/%s has malformed records",
			 psp->state_dir, NV_FILE);
	}
	return ret;
}

int psp_nv_save(struct psp *psp)
{
	struct psp_nv *nv = &psp->nv;
	struct store s = { 0 };
	uint8_t owner = nv->external;
	int ret = 0;

	if (!psp->state_dir)
		return 0;
	/* An erased NV (after FACTORY_RESET) is an empty record list. */
	if (nv->pek_key) {
		ret = store_add(&s, T_OWNER, &owner, 1);
		ret = ret ?: add_key(&s, T_OCA_KEY, nv->oca_key);
		ret = ret ?: store_add(&s, T_OCA, &nv->oca, sizeof(nv->oca));
		ret = ret ?: add_key(&s, T_PEK_KEY, nv->pek_key);
		ret = ret ?: store_add(&s, T_PEK, &nv->pek, sizeof(nv->pek));
		ret = ret ?: add_key(&s, T_PDH_KEY, nv->pdh_key);
		ret = ret ?: store_add(&s, T_PDH, &nv->pdh, sizeof(nv->pdh));
	}
	ret = ret ?: store_write(psp->state_dir, NV_FILE, KIND_NV, &s);
	store_free(&s);
	return ret;
}

/* A copy holding its own references to the keys. */
void psp_nv_copy(struct psp_nv *dst, const struct psp_nv *src)
{
	*dst = *src;
	if (dst->oca_key)
		EVP_PKEY_up_ref(dst->oca_key);
	if (dst->pek_key)
		EVP_PKEY_up_ref(dst->pek_key);
	if (dst->pdh_key)
		EVP_PKEY_up_ref(dst->pdh_key);
}

/*
 * The platform takes nv (and its references) only if it can be saved;
 * otherwise it keeps the identity it had and nv is cleared (§9.6, §9.8,
 * §9.10: a failed command changes nothing).
 */
int psp_nv_commit(struct psp *psp, struct psp_nv *nv)
{
	struct psp_nv old = psp->nv;

	psp->nv = *nv;
	if (psp_nv_save(psp)) {
		psp->nv = old;
		psp_nv_clear(nv);
		return -EIO;
	}
	psp_nv_clear(&old);
	memset(nv, 0, sizeof(*nv));
	return 0;
}

/* A new PDH signed by nv's PEK; nv is unchanged on failure. */
int psp_pdh_generate(struct psp *psp, struct psp_nv *nv)
{
	struct sev_cert pdh;
	EVP_PKEY *key;
	int ret;

	ret = crypto_p384_generate(&key);
	if (ret)
		return ret;
	ret = sev_cert_init_ec(&pdh, SEV_USAGE_PDH, SEV_ALGO_ECDH_SHA256,
			       psp->cfg.api_major, psp->cfg.api_minor, key);
	ret = ret ?: sev_cert_sign_ec(&pdh, 0, SEV_USAGE_PEK, nv->pek_key);
	if (ret) {
		EVP_PKEY_free(key);
		return ret;
	}
	EVP_PKEY_free(nv->pdh_key);
	nv->pdh_key = key;
	nv->pdh = pdh;
	return 0;
}

/* The firmware adds the CEK signature to the PEK (§9.8). */
int psp_pek_cert_cek_sign(struct psp *psp, struct sev_cert *pek, int slot)
{
	return sev_cert_sign_ec(pek, slot, SEV_USAGE_CEK, psp->chip.cek_key);
}

/*
 * Self-owned identity from scratch (INIT on an empty NV, PEK_GEN): a new
 * self-signed OCA, a PEK signed by OCA (slot 0) and CEK (slot 1) as on real
 * parts, and a PDH signed by the PEK.  Made in out, which must be empty;
 * on failure out stays empty.
 */
int psp_nv_generate(struct psp *psp, struct psp_nv *out)
{
	struct psp_nv *nv = out;
	uint8_t maj = psp->cfg.api_major, min = psp->cfg.api_minor;
	int ret;

	ret = crypto_p384_generate(&nv->oca_key);
	ret = ret ?: sev_cert_init_ec(&nv->oca, SEV_USAGE_OCA,
				      SEV_ALGO_ECDSA_SHA256, maj, min,
				      nv->oca_key);
	ret = ret ?: sev_cert_sign_ec(&nv->oca, 0, SEV_USAGE_OCA, nv->oca_key);
	ret = ret ?: crypto_p384_generate(&nv->pek_key);
	ret = ret ?: sev_cert_init_ec(&nv->pek, SEV_USAGE_PEK,
				      SEV_ALGO_ECDSA_SHA256, maj, min,
				      nv->pek_key);
	ret = ret ?: sev_cert_sign_ec(&nv->pek, 0, SEV_USAGE_OCA, nv->oca_key);
	ret = ret ?: psp_pek_cert_cek_sign(psp, &nv->pek, 1);
	ret = ret ?: psp_pdh_generate(psp, nv);
	if (ret)
		psp_nv_clear(nv);
	return ret;
}
