/* SPDX-License-Identifier: MIT */
/*
 * Firmware test fixture: platforms in fresh state directories that share
 * one pre-made root and chip template, so that tests do not each pay for
 * two RSA-4096 key generations.
 */
#ifndef SOFTSEV_PSP_FIXTURE_H
#define SOFTSEV_PSP_FIXTURE_H

#include <dirent.h>
#include <pthread.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include <openssl/rand.h>
#include "crypto.h"
#include "psp.h"
#include "session.h"
#include "sevcert.h"

static char fx_template[256];

static int fx_rm(const char *path, const struct stat *st, int flag,
		 struct FTW *ftw)
{
	return remove(path);
}

static inline void fx_rmtree(const char *dir)
{
	nftw(dir, fx_rm, 8, FTW_DEPTH | FTW_PHYS);
}

static inline void fx_copy(const char *from_dir, const char *to_dir,
			   const char *name)
{
	char a[512], b[512], buf[8192];
	int in, out;
	ssize_t n;

	snprintf(a, sizeof(a), "%s/%s", from_dir, name);
	snprintf(b, sizeof(b), "%s/%s", to_dir, name);
	in = open(a, O_RDONLY);
	assert_true(in >= 0);
	out = open(b, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
}

static inline void fx_mkdtemp(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/softsev-test-XXXXXX");
	assert_non_null(mkdtemp(dir));
}

/* Group setup: one root (ARK/ASK) and one chip (CEK) for the whole binary. */
static inline int fx_group_setup(void **state)
{
	struct psp_config cfg;
	struct psp *psp;

	fx_mkdtemp(fx_template, sizeof(fx_template));
	psp_config_default(&cfg);
	cfg.state_dir = fx_template;
	if (psp_create(&cfg, &psp, NULL, 0))
		return -1;
	psp_destroy(psp);
	return 0;
}

static inline int fx_group_teardown(void **state)
{
	fx_rmtree(fx_template);
	return 0;
}

struct fx {
	char dir[256];
	struct psp_config cfg;
	struct psp *psp;
};

/* A platform sharing the template's root; same_chip also shares its CEK. */
static inline struct psp *fx_open(struct fx *f, bool same_chip)
{
	char why[256];
	int ret;

	if (!f->dir[0]) {
		fx_mkdtemp(f->dir, sizeof(f->dir));
		fx_copy(fx_template, f->dir, "root");
		if (same_chip)
			fx_copy(fx_template, f->dir, "chip");
	}
	if (!f->cfg.max_asid)
		psp_config_default(&f->cfg);
	f->cfg.state_dir = f->dir;
	ret = psp_create(&f->cfg, &f->psp, why, sizeof(why));
	if (ret)
		fprintf(stderr, "psp_create: %d %s\n", ret, why);
	assert_int_equal(ret, 0);
	return f->psp;
}

static inline void fx_close(struct fx *f, bool remove_dir)
{
	psp_destroy(f->psp);
	f->psp = NULL;
	if (remove_dir) {
		fx_rmtree(f->dir);
		f->dir[0] = 0;
	}
}

static inline int fx_cmd(struct psp *psp, unsigned int cmd, void *buf)
{
	return psp_cmd(psp, cmd, buf, &psp_mem_direct);
}

/* INIT then WBINVD + DF_FLUSH, as Linux does after INIT (§8.5). */
static inline void fx_init(struct psp *psp, bool es)
{
	static uint8_t tmr[2 << 20] __attribute__((aligned(1 << 20)));
	struct psp_init init = { 0 };

	if (es) {
		init.flags = PSP_INIT_FLAGS_ES;
		init.tmr_paddr = (uintptr_t)tmr;
		init.tmr_len = 1 << 20;
	}
	assert_int_equal(fx_cmd(psp, PSP_CMD_INIT, &init), SEV_RET_SUCCESS);
	psp_wbinvd(psp);
	assert_int_equal(fx_cmd(psp, PSP_CMD_DF_FLUSH, NULL), SEV_RET_SUCCESS);
}

static inline void fx_export(struct psp *psp, struct sev_cert *pdh,
			     struct sev_cert chain[3])
{
	struct psp_pdh_cert_export e = {
		.pdh_cert_paddr = (uintptr_t)pdh,
		.pdh_cert_len = SEV_CERT_LEN,
		.certs_paddr = (uintptr_t)chain,
		.certs_len = SEV_CHAIN_LEN,
	};

	assert_int_equal(fx_cmd(psp, PSP_CMD_PDH_CERT_EXPORT, &e),
			 SEV_RET_SUCCESS);
}

/* LAUNCH_START without an owner session, then ACTIVATE(asid). */
static inline uint32_t fx_launch(struct psp *psp, uint32_t policy,
				 uint32_t asid)
{
	struct psp_launch_start ls = { .policy = policy };
	struct psp_activate act;

	assert_int_equal(fx_cmd(psp, PSP_CMD_LAUNCH_START, &ls),
			 SEV_RET_SUCCESS);
	assert_int_not_equal(ls.handle, 0);
	if (asid) {
		act.handle = ls.handle;
		act.asid = asid;
		assert_int_equal(fx_cmd(psp, PSP_CMD_ACTIVATE, &act),
				 SEV_RET_SUCCESS);
	}
	return ls.handle;
}

/* Guest-owner side of a session, using the shared formulas (§12.4). */
struct fx_owner {
	EVP_PKEY *godh;
	struct sev_cert godh_cert;
	struct sev_session session;
	struct sev_tk tk;
};

static inline void fx_owner_session(struct fx_owner *o,
				    const struct sev_cert *pdh,
				    uint32_t policy)
{
	uint8_t z[48], nonce[16], iv[16];
	EVP_PKEY *peer;

	assert_int_equal(crypto_p384_generate(&o->godh), 0);
	assert_int_equal(sev_cert_init_ec(&o->godh_cert, SEV_USAGE_PDH,
					  SEV_ALGO_ECDH_SHA256, 0, 0, o->godh),
			 0);
	assert_int_equal(sev_cert_pubkey(pdh, &peer), 0);
	assert_int_equal(crypto_p384_ecdh(o->godh, peer, z), 0);
	EVP_PKEY_free(peer);
	assert_int_equal(crypto_random(&o->tk, sizeof(o->tk)), 0);
	assert_int_equal(crypto_random(nonce, 16), 0);
	assert_int_equal(crypto_random(iv, 16), 0);
	assert_int_equal(sev_session_wrap(z, 48, policy, &o->tk, nonce, iv,
					  &o->session), 0);
}

static inline void fx_owner_free(struct fx_owner *o)
{
	EVP_PKEY_free(o->godh);
}

/* cmocka per-test setup and teardown: a platform of its own in *state. */
static inline int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	fx_open(f, true);
	*state = f;
	return 0;
}

static inline int fx_teardown(void **state)
{
	struct fx *f = *state;

	fx_close(f, true);
	free(f);
	return 0;
}

#endif
