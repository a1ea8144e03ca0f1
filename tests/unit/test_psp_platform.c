// SPDX-License-Identifier: MIT
/* Platform commands and identity (firmware spec §5, §9.1–§9.13, §12.2). */
#include "psp_fixture.h"

#include <sys/wait.h>


static void status(struct psp *psp, struct psp_platform_status *st)
{
	memset(st, 0xAA, sizeof(*st));
	assert_int_equal(fx_cmd(psp, PSP_CMD_PLATFORM_STATUS, st),
			 SEV_RET_SUCCESS);
}

static void test_state_machine(void **state)
{
	struct fx *f = *state;
	struct psp_platform_status st;
	struct psp_init init = { 0 };

	status(f->psp, &st);
	assert_int_equal(st.state, PSP_UNINIT);
	assert_int_equal(st.api_major, 1);
	assert_int_equal(st.api_minor, 55);
	assert_int_equal(st.build, 21);
	/* §9.5: OWNER, CONFIG and GUEST_COUNT read as 0 in UNINIT. */
	assert_int_equal(st.owner, 0);
	assert_int_equal(st.config[0], 0);
	assert_int_equal(st.guest_count, 0);
	/* Guest and identity commands need INIT. */
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PDH_GEN, NULL),
			 SEV_RET_INVALID_PLATFORM_STATE);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_GEN, NULL),
			 SEV_RET_INVALID_PLATFORM_STATE);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_DF_FLUSH, NULL),
			 SEV_RET_INVALID_PLATFORM_STATE);
	{
		struct psp_launch_start ls = { 0 };
		struct psp_handle h = { 1 };

		assert_int_equal(fx_cmd(f->psp, PSP_CMD_LAUNCH_START, &ls),
				 SEV_RET_INVALID_PLATFORM_STATE);
		assert_int_equal(fx_cmd(f->psp, PSP_CMD_DECOMMISSION, &h),
				 SEV_RET_INVALID_PLATFORM_STATE);
	}
	/* SHUTDOWN in UNINIT is a no-op success (§14 decision). */
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_SHUTDOWN, NULL),
			 SEV_RET_SUCCESS);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_INIT, &init), SEV_RET_SUCCESS);
	assert_int_equal(psp_platform_state(f->psp), PSP_INIT);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_INIT, &init),
			 SEV_RET_INVALID_PLATFORM_STATE);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_FACTORY_RESET, NULL),
			 SEV_RET_INVALID_PLATFORM_STATE);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_DOWNLOAD_FIRMWARE, &init),
			 SEV_RET_INVALID_PLATFORM_STATE);
	status(f->psp, &st);
	assert_int_equal(st.state, PSP_INIT);
	assert_int_equal(st.config[0], 0);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_SHUTDOWN, NULL),
			 SEV_RET_SUCCESS);
	assert_int_equal(psp_platform_state(f->psp), PSP_UNINIT);
}

static void test_working_and_back(void **state)
{
	struct fx *f = *state;
	struct psp_platform_status st;
	struct psp_handle h;

	fx_init(f->psp, false);
	h.handle = fx_launch(f->psp, 0, 0);
	status(f->psp, &st);
	assert_int_equal(st.state, PSP_WORKING);
	assert_int_equal(st.guest_count, 1);
	/* PEK_GEN and PEK_CERT_IMPORT are INIT-only. */
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_GEN, NULL),
			 SEV_RET_INVALID_PLATFORM_STATE);
	/* PDH_GEN works in WORKING. */
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PDH_GEN, NULL),
			 SEV_RET_SUCCESS);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_DECOMMISSION, &h),
			 SEV_RET_SUCCESS);
	status(f->psp, &st);
	assert_int_equal(st.state, PSP_INIT);
	assert_int_equal(st.guest_count, 0);
	/* SHUTDOWN drops every guest context. */
	fx_launch(f->psp, 0, 0);
	fx_launch(f->psp, 0, 0);
	assert_int_equal(psp_guest_count(f->psp), 2);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_SHUTDOWN, NULL),
			 SEV_RET_SUCCESS);
	assert_int_equal(psp_guest_count(f->psp), 0);
	fx_init(f->psp, false);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_DECOMMISSION, &h),
			 SEV_RET_INVALID_GUEST);
}

static void test_init_es(void **state)
{
	static uint8_t tmr[3 << 20];
	struct fx *f = *state;
	struct psp_platform_status st;
	uintptr_t aligned = ((uintptr_t)tmr + (1 << 20) - 1) & ~(uintptr_t)((1 << 20) - 1);
	struct psp_init init = { .flags = PSP_INIT_FLAGS_ES };

	init.tmr_paddr = aligned;
	init.tmr_len = 4096;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_INIT, &init),
			 SEV_RET_INVALID_LEN);
	init.tmr_len = 1 << 20;
	init.tmr_paddr = aligned + 4096;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_INIT, &init),
			 SEV_RET_INVALID_ADDRESS);
	/* The C-bit is ignored in the TMR address (§9.1). */
	init.tmr_paddr = aligned | (1ull << 51);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_INIT, &init), SEV_RET_SUCCESS);
	status(f->psp, &st);
	assert_int_equal(st.config[0], 1);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_SHUTDOWN, NULL), 0);
	fx_close(f, false);
	f->cfg.es = false;
	fx_open(f, true);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_INIT, &init),
			 SEV_RET_INAVLID_CONFIG);
}

static void test_pek_csr(void **state)
{
	struct fx *f = *state;
	struct sev_cert csr, pdh, chain[3];
	struct psp_addr_len b = { (uintptr_t)&csr, 0 };

	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CSR, &b),
			 SEV_RET_INVALID_PLATFORM_STATE);
	fx_init(f->psp, false);
	/* sev-tool's first call: real address, length 0 (§9.7). */
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CSR, &b),
			 SEV_RET_INVALID_LEN);
	assert_int_equal(b.length, SEV_CERT_LEN);
	b.length = SEV_CERT_LEN - 1;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CSR, &b),
			 SEV_RET_INVALID_LEN);
	b.length = 0x1000;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CSR, &b), SEV_RET_SUCCESS);
	assert_int_equal(b.length, SEV_CERT_LEN);
	assert_int_equal(csr.version, 1);
	assert_int_equal(csr.usage, SEV_USAGE_PEK);
	assert_int_equal(csr.algo, SEV_ALGO_ECDSA_SHA256);
	assert_int_equal(csr.api_major, 1);
	assert_int_equal(csr.api_minor, 55);
	assert_int_equal(csr.sig[0].usage, SEV_USAGE_INVALID);
	assert_int_equal(csr.sig[1].usage, SEV_USAGE_INVALID);
	assert_int_equal(csr.sig[0].algo, 0);
	fx_export(f->psp, &pdh, chain);
	assert_memory_equal(&csr.pubkey, &chain[0].pubkey, sizeof(csr.pubkey));
	/* A bad output address is the firmware's INVALID_ADDRESS. */
	b.address = 0;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CSR, &b),
			 SEV_RET_INVALID_ADDRESS);
}

static void test_pdh_export_chain(void **state)
{
	struct fx *f = *state;
	struct sev_cert pdh, chain[3];
	struct psp_pdh_cert_export e = { 0 };
	uint8_t arkb[2048], askb[2048];
	size_t al = sizeof(arkb), sl = sizeof(askb);
	struct amd_cert ark, ask;

	fx_init(f->psp, false);
	/* QEMU's query: an all-zero struct gets both lengths. */
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PDH_CERT_EXPORT, &e),
			 SEV_RET_INVALID_LEN);
	assert_int_equal(e.pdh_cert_len, SEV_CERT_LEN);
	assert_int_equal(e.certs_len, SEV_CHAIN_LEN);
	e.certs_len = SEV_CHAIN_LEN - 1;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PDH_CERT_EXPORT, &e),
			 SEV_RET_INVALID_LEN);
	assert_int_equal(e.certs_len, SEV_CHAIN_LEN);
	fx_export(f->psp, &pdh, chain);
	assert_int_equal(pdh.usage, SEV_USAGE_PDH);
	assert_int_equal(pdh.algo, SEV_ALGO_ECDH_SHA256);
	assert_int_equal(chain[0].usage, SEV_USAGE_PEK);
	assert_int_equal(chain[1].usage, SEV_USAGE_OCA);
	assert_int_equal(chain[2].usage, SEV_USAGE_CEK);
	assert_int_equal(chain[2].api_minor, 14);
	assert_int_equal(sev_cert_verify(&pdh, &chain[0]), 0);
	assert_int_equal(sev_cert_verify(&chain[0], &chain[1]), 0);
	assert_int_equal(sev_cert_verify(&chain[0], &chain[2]), 0);
	assert_int_equal(sev_cert_verify(&chain[1], &chain[1]), 0);
	/* Layout of real self-owned parts: sig1 = OCA, sig2 = CEK. */
	assert_int_equal(chain[0].sig[0].usage, SEV_USAGE_OCA);
	assert_int_equal(chain[0].sig[1].usage, SEV_USAGE_CEK);
	assert_int_equal(psp_get_ark(f->psp, arkb, &al), 0);
	assert_int_equal(psp_get_ask(f->psp, askb, &sl), 0);
	assert_int_equal(al, 1600);
	assert_int_equal(amd_cert_parse(arkb, al, &ark), 0);
	assert_int_equal(amd_cert_parse(askb, sl, &ask), 0);
	assert_int_equal(amd_cert_verify(&ark, &ark), 0);
	assert_int_equal(amd_cert_verify(&ask, &ark), 0);
	assert_int_equal(sev_cert_verify_amd(&chain[2], &ask), 0);
	assert_int_equal(chain[2].sig[0].algo, SEV_ALGO_RSA_SHA384);
	/* Unwritable destination. */
	e.pdh_cert_paddr = 0;
	e.pdh_cert_len = SEV_CERT_LEN;
	e.certs_len = SEV_CHAIN_LEN;
	e.certs_paddr = (uintptr_t)chain;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PDH_CERT_EXPORT, &e),
			 SEV_RET_INVALID_ADDRESS);
}

static void test_pek_pdh_gen(void **state)
{
	struct fx *f = *state;
	struct sev_cert pdh1, c1[3], pdh2, c2[3];

	fx_init(f->psp, false);
	fx_export(f->psp, &pdh1, c1);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PDH_GEN, NULL), 0);
	fx_export(f->psp, &pdh2, c2);
	assert_memory_not_equal(&pdh1.pubkey, &pdh2.pubkey, 0x404);
	assert_memory_equal(&c1[0], &c2[0], SEV_CERT_LEN);
	assert_int_equal(sev_cert_verify(&pdh2, &c2[0]), 0);
	/* PEK_GEN: new OCA, PEK and PDH; the CEK stays. */
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_GEN, NULL), 0);
	fx_export(f->psp, &pdh1, c1);
	assert_memory_not_equal(&c1[0].pubkey, &c2[0].pubkey, 0x404);
	assert_memory_not_equal(&c1[1].pubkey, &c2[1].pubkey, 0x404);
	assert_memory_not_equal(&pdh1.pubkey, &pdh2.pubkey, 0x404);
	assert_memory_equal(&c1[2], &c2[2], SEV_CERT_LEN);
	assert_int_equal(sev_cert_verify(&pdh1, &c1[0]), 0);
	assert_int_equal(sev_cert_verify(&c1[0], &c1[1]), 0);
}

static void test_factory_reset(void **state)
{
	struct fx *f = *state;
	struct sev_cert pdh1, c1[3], pdh2, c2[3];

	fx_init(f->psp, false);
	fx_export(f->psp, &pdh1, c1);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_SHUTDOWN, NULL), 0);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_FACTORY_RESET, NULL), 0);
	fx_init(f->psp, false);
	fx_export(f->psp, &pdh2, c2);
	assert_memory_not_equal(&c1[1].pubkey, &c2[1].pubkey, 0x404);
	assert_memory_not_equal(&pdh1.pubkey, &pdh2.pubkey, 0x404);
	assert_memory_equal(&c1[2], &c2[2], SEV_CERT_LEN);
}

/* Sign our CSR with an outside OCA and import it (sevctl provision). */
static void test_pek_cert_import(void **state)
{
	struct fx *f = *state;
	struct sev_cert csr, oca, pdh1, c1[3], pdh2, c2[3], bad;
	struct psp_addr_len b = { (uintptr_t)&csr, SEV_CERT_LEN };
	struct psp_pek_cert_import im = { 0 };
	struct psp_platform_status st;
	EVP_PKEY *oca_key;

	assert_int_equal(crypto_p384_generate(&oca_key), 0);
	assert_int_equal(sev_cert_init_ec(&oca, SEV_USAGE_OCA,
					  SEV_ALGO_ECDSA_SHA256, 0, 0,
					  oca_key), 0);
	assert_int_equal(sev_cert_sign_ec(&oca, 0, SEV_USAGE_OCA, oca_key), 0);
	im.pek_cert_paddr = (uintptr_t)&csr;
	im.oca_cert_paddr = (uintptr_t)&oca;
	im.pek_cert_len = SEV_CERT_LEN;
	im.oca_cert_len = SEV_CERT_LEN;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CERT_IMPORT, &im),
			 SEV_RET_INVALID_PLATFORM_STATE);
	fx_init(f->psp, false);
	fx_export(f->psp, &pdh1, c1);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CSR, &b), 0);
	/* Unsigned CSR: the OCA signature is missing. */
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CERT_IMPORT, &im),
			 SEV_RET_BAD_SIGNATURE);
	assert_int_equal(sev_cert_sign_ec(&csr, 0, SEV_USAGE_OCA, oca_key), 0);
	im.oca_cert_len = 0x800;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CERT_IMPORT, &im),
			 SEV_RET_INVALID_LEN);
	im.oca_cert_len = SEV_CERT_LEN;
	/* A PEK certificate for another key. */
	bad = csr;
	bad.pubkey.ecc.qx[0] ^= 1;
	im.pek_cert_paddr = (uintptr_t)&bad;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CERT_IMPORT, &im),
			 SEV_RET_INVALID_CERTIFICATE);
	/* An OCA with the wrong usage. */
	bad = oca;
	bad.usage = SEV_USAGE_PEK;
	im.pek_cert_paddr = (uintptr_t)&csr;
	im.oca_cert_paddr = (uintptr_t)&bad;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CERT_IMPORT, &im),
			 SEV_RET_INVALID_CERTIFICATE);
	im.oca_cert_paddr = 0;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CERT_IMPORT, &im),
			 SEV_RET_INVALID_ADDRESS);
	im.oca_cert_paddr = (uintptr_t)&oca;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CERT_IMPORT, &im),
			 SEV_RET_SUCCESS);
	status(f->psp, &st);
	assert_int_equal(st.owner, 1);
	fx_export(f->psp, &pdh2, c2);
	assert_memory_equal(&c2[1], &oca, SEV_CERT_LEN);
	assert_int_equal(sev_cert_verify(&c2[0], &oca), 0);
	assert_int_equal(sev_cert_verify(&c2[0], &c2[2]), 0);
	assert_int_equal(c2[0].sig[0].usage, SEV_USAGE_OCA);
	assert_int_equal(c2[0].sig[1].usage, SEV_USAGE_CEK);
	/* The PDH is regenerated and signed by the (same) PEK. */
	assert_memory_not_equal(&pdh1.pubkey, &pdh2.pubkey, 0x404);
	assert_int_equal(sev_cert_verify(&pdh2, &c2[0]), 0);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CERT_IMPORT, &im),
			 SEV_RET_ALREADY_OWNED);
	/* Ownership survives a restart. */
	fx_close(f, false);
	fx_open(f, true);
	fx_init(f->psp, false);
	status(f->psp, &st);
	assert_int_equal(st.owner, 1);
	/* PEK_GEN makes it self-owned again. */
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_GEN, NULL), 0);
	status(f->psp, &st);
	assert_int_equal(st.owner, 0);
	EVP_PKEY_free(oca_key);
}

static void test_get_id(void **state)
{
	struct fx *f = *state;
	uint8_t id[64] __attribute__((aligned(8))), id2[64];
	struct psp_addr_len b = { (uintptr_t)id, 0 };

	/* Any platform state (§9.13). */
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_GET_ID, &b),
			 SEV_RET_INVALID_LEN);
	assert_int_equal(b.length, 64);
	b.address = (uintptr_t)id + 4;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_GET_ID, &b),
			 SEV_RET_INVALID_ADDRESS);
	b.address = (uintptr_t)id;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_GET_ID, &b), SEV_RET_SUCCESS);
	assert_int_equal(b.length, 64);
	memcpy(id2, id, 64);
	fx_close(f, false);
	fx_open(f, true);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_GET_ID, &b), SEV_RET_SUCCESS);
	assert_memory_equal(id, id2, 64);
}

static void test_identity_persists(void **state)
{
	struct fx *f = *state;
	struct sev_cert pdh1, c1[3], pdh2, c2[3];
	struct stat st;
	char path[512];

	fx_init(f->psp, false);
	fx_export(f->psp, &pdh1, c1);
	fx_close(f, false);
	fx_open(f, true);
	fx_init(f->psp, false);
	fx_export(f->psp, &pdh2, c2);
	assert_memory_equal(&pdh1, &pdh2, SEV_CERT_LEN);
	assert_memory_equal(c1, c2, SEV_CHAIN_LEN);
	snprintf(path, sizeof(path), "%s/nv", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/chip", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void corrupt(const char *dir, const char *name, long off, int truncate)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	if (truncate) {
		assert_int_equal(ftruncate(fd, off), 0);
	} else {
		uint8_t b;

		assert_int_equal(pread(fd, &b, 1, off), 1);
		b ^= 0x40;
		assert_int_equal(pwrite(fd, &b, 1, off), 1);
	}
	close(fd);
}

static void expect_reported(struct fx *f, const char *needle)
{
	struct psp *psp;
	char why[512];

	assert_int_equal(psp_create(&f->cfg, &psp, why, sizeof(why)),
			 -EUCLEAN);
	assert_non_null(strstr(why, needle));
}

static void test_corrupt_identity_reported(void **state)
{
	struct fx *f = *state;

	fx_init(f->psp, false);
	fx_close(f, false);
	corrupt(f->dir, "nv", 100, 0);
	expect_reported(f, "corrupt");
	corrupt(f->dir, "nv", 100, 0); /* flip it back */
	fx_open(f, true);
	fx_close(f, false);
	corrupt(f->dir, "nv", 300, 1);
	expect_reported(f, "truncated");
	corrupt(f->dir, "chip", 3, 0);
	expect_reported(f, "chip");
	/* Nothing was regenerated behind the user's back. */
	expect_reported(f, "chip");
}

/* A crash mid-write leaves only a temporary file: the identity stands. */
static void test_crash_mid_write(void **state)
{
	struct fx *f = *state;
	struct sev_cert pdh1, c1[3], pdh2, c2[3];
	char path[512];
	FILE *t;

	fx_init(f->psp, false);
	fx_export(f->psp, &pdh1, c1);
	fx_close(f, false);
	snprintf(path, sizeof(path), "%s/.nv.4242.tmp", f->dir);
	t = fopen(path, "w");
	assert_non_null(t);
	fputs("SSEVSTOR half a record", t);
	fclose(t);
	fx_open(f, true);
	fx_init(f->psp, false);
	fx_export(f->psp, &pdh2, c2);
	assert_memory_equal(&pdh1, &pdh2, SEV_CERT_LEN);
	/* The next write replaces the file whole and atomically. */
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PDH_GEN, NULL), 0);
	fx_close(f, false);
	fx_open(f, true);
	fx_init(f->psp, false);
	fx_export(f->psp, &pdh1, c1);
	assert_memory_not_equal(&pdh1, &pdh2, SEV_CERT_LEN);
}

static void test_unknown_command(void **state)
{
	struct fx *f = *state;
	uint8_t buf[64] = { 0 };

	assert_int_equal(fx_cmd(f->psp, 0x7f, buf), SEV_RET_INVALID_COMMAND);
	assert_int_equal(fx_cmd(f->psp, 0x81, buf), SEV_RET_INVALID_COMMAND);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PLATFORM_STATUS, NULL),
			 SEV_RET_INVALID_ADDRESS);
	assert_string_equal(psp_status_name(SEV_RET_INVALID_LEN),
			    "INVALID_LEN");
	assert_string_equal(psp_cmd_name(PSP_CMD_LAUNCH_START),
			    "LAUNCH_START");
}

struct racer {
	const char *dir;
	struct psp *psp;
	int ret;
};

static void race_create(struct racer *r)
{
	struct psp_config cfg;

	psp_config_default(&cfg);
	cfg.rsa_bits = 2048;
	cfg.state_dir = r->dir;
	r->ret = psp_create(&cfg, &r->psp, NULL, 0);
}

/*
 * One platform started in a child: its chip id (GET_ID) comes back over
 * the pipe, or nothing if it failed.
 */
static pid_t start_platform(const char *dir, int *rd)
{
	int p[2];
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		struct racer r = { .dir = dir };
		uint8_t id[64] __attribute__((aligned(8)));
		struct psp_addr_len b = { (uintptr_t)id, 64 };

		close(p[0]);
		race_create(&r);
		if (!r.ret && !fx_cmd(r.psp, PSP_CMD_GET_ID, &b) &&
		    write(p[1], id, sizeof(id)) == sizeof(id))
			_exit(0);
		_exit(1);
	}
	close(p[1]);
	*rd = p[0];
	return pid;
}

/*
 * Two platforms (two softsevd processes) starting on one new directory
 * agree on one identity.
 */
static void test_concurrent_first_start(void **state)
{
	uint8_t id[2][64];
	char dir[256];
	struct racer r = { 0 };
	pid_t pid[2];
	int rd[2], st, i;

	fx_mkdtemp(dir, sizeof(dir));
	for (i = 0; i < 2; i++)
		pid[i] = start_platform(dir, &rd[i]);
	for (i = 0; i < 2; i++) {
		assert_int_equal(read(rd[i], id[i], 64), 64);
		close(rd[i]);
		assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_memory_equal(id[0], id[1], 64);
	/* And a third start reads what they wrote. */
	r.dir = dir;
	race_create(&r);
	assert_int_equal(r.ret, 0);
	psp_destroy(r.psp);
	fx_rmtree(dir);
}

static void test_models(void **state)
{
	struct psp_config cfg;

	psp_config_default(&cfg);
	assert_int_equal(psp_config_model(&cfg, "naples"), 0);
	assert_int_equal(cfg.max_asid, 15);
	assert_false(cfg.es);
	assert_int_equal(cfg.rsa_bits, 2048);
	assert_int_equal(cfg.api_minor, 16);
	assert_int_equal(psp_config_model(&cfg, "rome"), 0);
	assert_int_equal(cfg.max_asid, 509);
	assert_int_equal(cfg.min_sev_asid, 10);
	assert_int_equal(cfg.api_minor, 22);
	assert_int_equal(psp_config_model(&cfg, "turin"), 0);
	assert_int_equal(cfg.max_asid, 1006);
	assert_int_equal(cfg.cbit, 51);
	assert_int_equal(psp_config_model(&cfg, "cezanne"), -ENOENT);
}

static void test_fault_injection(void **state)
{
	struct fx *f = *state;
	struct psp_fault flt;
	struct psp_platform_status st;
	int i, fired = 0;

	assert_int_equal(psp_fault_parse("NOPE=INVALID_LEN", &flt), -EINVAL);
	assert_int_equal(psp_fault_parse("PDH_GEN=NOPE", &flt), -EINVAL);
	assert_int_equal(psp_fault_parse("PDH_GEN=INVALID_LEN@twice", &flt),
			 -EINVAL);
	assert_int_equal(psp_fault_parse("PDH_GEN=0x13@once", &flt), 0);
	assert_int_equal(flt.cmd, PSP_CMD_PDH_GEN);
	assert_int_equal(flt.status, SEV_RET_HWSEV_RET_PLATFORM);
	fx_init(f->psp, false);
	assert_int_equal(psp_fault_add(f->psp, &flt), 0);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PDH_GEN, NULL),
			 SEV_RET_HWSEV_RET_PLATFORM);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PDH_GEN, NULL), 0);
	assert_int_equal(psp_fault_parse("PLATFORM_STATUS=RESOURCE_LIMIT@every=3",
					 &flt), 0);
	assert_int_equal(psp_fault_add(f->psp, &flt), 0);
	for (i = 1; i <= 9; i++) {
		int r = fx_cmd(f->psp, PSP_CMD_PLATFORM_STATUS, &st);

		assert_int_equal(r, i % 3 ? 0 : SEV_RET_RESOURCE_LIMIT);
	}
	psp_fault_clear(f->psp);
	assert_int_equal(psp_fault_parse("GET_ID=INVALID_ADDRESS@p=0.5", &flt),
			 0);
	assert_int_equal(psp_fault_add(f->psp, &flt), 0);
	for (i = 0; i < 400; i++) {
		uint8_t id[64] __attribute__((aligned(8)));
		struct psp_addr_len b = { (uintptr_t)id, 64 };

		fired += fx_cmd(f->psp, PSP_CMD_GET_ID, &b) != 0;
	}
	assert_true(fired > 100 && fired < 300);
	psp_fault_clear(f->psp);
}

static void test_bad_config(void **state)
{
	struct psp_config cfg;
	struct psp *psp;
	char why[128];

	psp_config_default(&cfg);
	cfg.min_sev_asid = 0;
	assert_int_equal(psp_create(&cfg, &psp, why, sizeof(why)), -EINVAL);
	psp_config_default(&cfg);
	cfg.rsa_bits = 1024;
	assert_int_equal(psp_create(&cfg, &psp, why, sizeof(why)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_state_machine, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_working_and_back, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_init_es, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_pek_csr, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_pdh_export_chain, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_pek_pdh_gen, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_factory_reset, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_pek_cert_import, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_get_id, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_identity_persists, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_identity_reported, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_crash_mid_write, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_command, fx_setup, fx_teardown),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_models),
		cmocka_unit_test_setup_teardown(test_fault_injection, fx_setup, fx_teardown),
		cmocka_unit_test(test_concurrent_first_start),
	};

	return cmocka_run_group_tests_name("psp_platform", tests,
					   fx_group_setup, fx_group_teardown);
}
