// SPDX-License-Identifier: MIT
/*
 * The platform's configuration and state directory (issue 13): invalid
 * configurations, a volatile platform, every way an identity file can be
 * bad (psp_create fails with -EUCLEAN and names the file; nothing is
 * regenerated, psp.h), and NV writes that fail (HWERROR_PLATFORM).
 */
#include "psp_fixture.h"
#include "user_mem.h"

#define NV_KIND 2 /* identity.c's KIND_NV */

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	fx_mkdtemp(f->dir, sizeof(f->dir));
	fx_copy(fx_template, f->dir, "root");
	fx_copy(fx_template, f->dir, "chip");
	psp_config_default(&f->cfg);
	f->cfg.state_dir = f->dir;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->psp)
		psp_destroy(f->psp);
	fx_rmtree(f->dir);
	free(f);
	return 0;
}

/* psp_create on f's directory: its errno, with why checked for needle. */
static int create(struct fx *f, const char *needle)
{
	char why[512] = "";
	int ret = psp_create(&f->cfg, &f->psp, why, sizeof(why));

	if (ret)
		f->psp = NULL;
	if (needle && !strstr(why, needle)) {
		fprintf(stderr, "why: %s (wanted %s)\n", why, needle);
		fail();
	}
	return ret;
}

static void write_file(const char *dir, const char *name, const void *buf,
		       size_t len)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, len, fp), len);
	fclose(fp);
}

static size_t read_file(const char *dir, const char *name, uint8_t *buf,
			size_t max)
{
	char path[512];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	n = fread(buf, 1, max, fp);
	fclose(fp);
	return n;
}

/* A well-formed state file (store.c's layout) around payload. */
static void write_store(const char *dir, const char *name, uint32_t kind,
			const uint8_t *payload, uint32_t len)
{
	static uint8_t buf[1 << 16];

	assert_true(16 + len + 32 <= sizeof(buf));
	memcpy(buf, "SSEVSTOR", 8);
	memcpy(buf + 8, &kind, 4);
	memcpy(buf + 12, &len, 4);
	memcpy(buf + 16, payload, len);
	assert_int_equal(crypto_sha256(buf, 16 + len, buf + 16 + len), 0);
	write_file(dir, name, buf, 16 + len + 32);
}

/* One record: tag, two reserved bytes, length, data. */
static uint32_t rec(uint8_t *p, uint16_t tag, const void *data, uint32_t len)
{
	memcpy(p, &tag, 2);
	memset(p + 2, 0, 2);
	memcpy(p + 4, &len, 4);
	memcpy(p + 8, data, len);
	return 8 + len;
}

/* check_config(): every field psp_create refuses. */
static void test_invalid_config(void **state)
{
	struct fx *f = *state;
	struct psp_config good = f->cfg;
	struct psp_config bad[8];
	size_t i;

	for (i = 0; i < 8; i++)
		bad[i] = good;
	bad[0].max_asid = 0;
	bad[1].max_asid = 4097;
	bad[2].min_sev_asid = 0;
	bad[3].min_sev_asid = good.max_asid + 2;
	bad[4].rsa_bits = 3072;
	bad[5].max_guests = 0;
	bad[6].max_guests = (1u << 20) + 1;
	bad[7].mem_mode = (enum psp_mem_mode)2;
	for (i = 0; i < 8; i++) {
		f->cfg = bad[i];
		assert_int_equal(create(f, "invalid platform configuration"),
				 -EINVAL);
	}
	f->cfg = good;
	assert_int_equal(psp_create(&f->cfg, &f->psp, NULL, 0), 0);
}

/* Without a state directory the identity lives and dies with the psp. */
static void test_volatile(void **state)
{
	struct fx *f = *state;
	struct psp_config cfg;
	struct psp *psp;
	struct sev_cert pdh, chain[3];

	psp_config_default(&cfg);
	cfg.rsa_bits = 2048; /* a root of its own: keep the keys small */
	cfg.state_dir = NULL;
	assert_int_equal(psp_create(&cfg, &psp, NULL, 0), 0);
	fx_init(psp, false);
	fx_export(psp, &pdh, chain);
	assert_int_equal(sev_cert_verify(&pdh, &chain[0]), 0);
	/* NV commands succeed with nothing to save. */
	assert_int_equal(fx_cmd(psp, PSP_CMD_PEK_GEN, NULL), SEV_RET_SUCCESS);
	assert_int_equal(fx_cmd(psp, PSP_CMD_SHUTDOWN, NULL), SEV_RET_SUCCESS);
	assert_int_equal(fx_cmd(psp, PSP_CMD_FACTORY_RESET, NULL),
			 SEV_RET_SUCCESS);
	psp_destroy(psp);
	(void)f;
}

/* store_read(): size, magic, kind, length and checksum. */
static void test_bad_files(void **state)
{
	struct fx *f = *state;
	static uint8_t big[(1 << 20) + 1], buf[1 << 16];
	uint8_t owner[9];
	size_t n;

	write_file(f->dir, "nv", big, sizeof(big));
	assert_int_equal(create(f, "/nv: File too large"), -EFBIG);
	write_file(f->dir, "nv", "SSEVSTOR", 8);
	assert_int_equal(create(f, "truncated or not a softsev state file"),
			 -EUCLEAN);
	memset(buf, 'x', 64);
	write_file(f->dir, "nv", buf, 64);
	assert_int_equal(create(f, "truncated or not a softsev state file"),
			 -EUCLEAN);
	/* The chip file where the NV belongs. */
	n = read_file(f->dir, "chip", buf, sizeof(buf));
	write_file(f->dir, "nv", buf, n);
	assert_int_equal(create(f, "holds the wrong kind of record (1)"),
			 -EUCLEAN);
	/* One byte short (an OWNER record: 9 bytes of payload). */
	write_store(f->dir, "nv", NV_KIND, owner, rec(owner, 1, "", 1));
	n = read_file(f->dir, "nv", buf, sizeof(buf));
	write_file(f->dir, "nv", buf, n - 1);
	assert_int_equal(create(f, "is truncated (56 of 57 bytes)"),
			 -EUCLEAN);
	buf[20] ^= 1;
	write_file(f->dir, "nv", buf, n);
	assert_int_equal(create(f, "corrupt (checksum mismatch)"), -EUCLEAN);
	/* An NV without keys is an erased one: the platform starts. */
	buf[20] ^= 1;
	write_file(f->dir, "nv", buf, n);
	assert_int_equal(create(f, NULL), 0);
}

/* nv_parse() / store_next(): records that do not parse. */
static void test_bad_nv_records(void **state)
{
	struct fx *f = *state;
	static uint8_t p[8192];
	uint8_t two[2] = { 1, 0 }, junk[16] = { 0 };
	struct sev_cert cert = { 0 };
	uint32_t n;

	/* Half a record header. */
	write_store(f->dir, "nv", NV_KIND, two, 2);
	assert_int_equal(create(f, "/nv has malformed records"), -EUCLEAN);
	/* A length past the end. */
	n = rec(p, 1, two, 1);
	p[4] = 9;
	write_store(f->dir, "nv", NV_KIND, p, n);
	assert_int_equal(create(f, "/nv has malformed records"), -EUCLEAN);
	/* OWNER is one byte. */
	n = rec(p, 1, two, 2);
	write_store(f->dir, "nv", NV_KIND, p, n);
	assert_int_equal(create(f, "/nv has malformed records"), -EUCLEAN);
	/* An unknown tag. */
	n = rec(p, 99, two, 1);
	write_store(f->dir, "nv", NV_KIND, p, n);
	assert_int_equal(create(f, "/nv has malformed records"), -EUCLEAN);
	/* A certificate of the wrong size. */
	n = rec(p, 3, &cert, 100);
	write_store(f->dir, "nv", NV_KIND, p, n);
	assert_int_equal(create(f, "/nv has malformed records"), -EUCLEAN);
	/* A key that is not DER. */
	n = rec(p, 2, junk, sizeof(junk));
	write_store(f->dir, "nv", NV_KIND, p, n);
	assert_int_equal(create(f, "/nv has malformed records"), -EUCLEAN);
}

/* chip_parse(): records of "root" and "chip". */
static void test_bad_chip_records(void **state)
{
	struct fx *f = *state;
	static uint8_t p[1 << 15], chip[1 << 15];
	size_t cn = read_file(f->dir, "chip", chip, sizeof(chip));
	uint8_t one = 1;
	uint32_t n, len;

	/* The chip's records twice: a key seen twice is refused. */
	memcpy(&len, chip + 12, 4);
	memcpy(p, chip + 16, len);
	memcpy(p + len, chip + 16, len);
	write_store(f->dir, "chip", 1, p, 2 * len);
	assert_int_equal(create(f, "/chip has malformed records"), -EUCLEAN);
	/* A record missing (only the first one kept: the CEK key). */
	memcpy(&n, chip + 16 + 4, 4);
	write_store(f->dir, "chip", 1, chip + 16, 8 + n);
	assert_int_equal(create(f, "/chip has malformed records"), -EUCLEAN);
	/* An unknown tag. */
	n = rec(p, 42, &one, 1);
	write_store(f->dir, "chip", 1, p, n);
	assert_int_equal(create(f, "/chip has malformed records"), -EUCLEAN);
	/* An ARK larger than any AMD certificate, then one that is junk. */
	n = rec(p, 2, chip, 8192);
	write_store(f->dir, "root", 3, p, n);
	assert_int_equal(create(f, "/root has malformed records"), -EUCLEAN);
	n = rec(p, 2, chip, 64);
	write_store(f->dir, "root", 3, p, n);
	assert_int_equal(create(f, "/root has malformed records"), -EUCLEAN);
	(void)cn;
}

/* A root whose ASK signature is broken: the chain does not hold. */
static void test_root_ask_unsigned(void **state)
{
	struct fx *f = *state;
	static uint8_t root[1 << 15];
	size_t n = read_file(f->dir, "root", root, sizeof(root));
	uint32_t len, pos, rlen;
	uint16_t tag;

	memcpy(&len, root + 12, 4);
	assert_int_equal(n, 16 + len + 32);
	for (pos = 16; pos < 16 + len; pos += 8 + rlen) {
		memcpy(&tag, root + pos, 2);
		memcpy(&rlen, root + pos + 4, 4);
		if (tag == 4) /* T_ASK: flip the last signature byte */
			root[pos + 8 + rlen - 1] ^= 1;
	}
	write_store(f->dir, "root", 3, root + 16, len);
	assert_int_equal(create(f, "is not signed by the ASK in 'root'"),
			 -EUCLEAN);
}

/* A chip file from another root: the chain does not hold. */
static void test_foreign_chip(void **state)
{
	struct fx *f = *state;
	struct psp_config cfg;
	struct psp *psp;
	char other[256];
	static uint8_t chip[1 << 15];
	size_t n;

	fx_mkdtemp(other, sizeof(other));
	psp_config_default(&cfg);
	cfg.rsa_bits = 2048;
	cfg.state_dir = other;
	assert_int_equal(psp_create(&cfg, &psp, NULL, 0), 0);
	psp_destroy(psp);
	n = read_file(other, "chip", chip, sizeof(chip));
	write_file(f->dir, "chip", chip, n);
	fx_rmtree(other);
	assert_int_equal(create(f, "is not signed by the ASK in 'root'"),
			 -EUCLEAN);
}

/* A state directory that does not exist: the root cannot be created. */
static void test_no_state_dir(void **state)
{
	struct fx *f = *state;
	char dir[300];

	snprintf(dir, sizeof(dir), "%s/missing", f->dir);
	f->cfg.state_dir = dir;
	f->cfg.rsa_bits = 2048;
	assert_int_equal(create(f, "cannot create"), -ENOENT);
}

/* NV writes that fail are HWERROR_PLATFORM (§9.1, §9.4, §9.6, §9.10). */
static void test_nv_write_fails(void **state)
{
	struct fx *f = *state;
	struct psp_init init = { 0 };
	char path[512];

	assert_int_equal(create(f, NULL), 0);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_INIT, &init), 0);
	/* "nv" cannot be replaced: a non-empty directory is in the way. */
	snprintf(path, sizeof(path), "%s/nv", f->dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	write_file(f->dir, "nv/x", "x", 1);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_GEN, NULL),
			 SEV_RET_HWSEV_RET_PLATFORM);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PDH_GEN, NULL),
			 SEV_RET_HWSEV_RET_PLATFORM);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_SHUTDOWN, NULL), 0);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_FACTORY_RESET, NULL),
			 SEV_RET_HWSEV_RET_PLATFORM);
	/* INIT on the erased NV makes an identity it cannot save; it is
	 * dropped, so a second INIT fails the same way (no unsaved PEK). */
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_INIT, &init),
			 SEV_RET_HWSEV_RET_PLATFORM);
	assert_int_equal(psp_platform_state(f->psp), PSP_UNINIT);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_INIT, &init),
			 SEV_RET_HWSEV_RET_PLATFORM);
	/* The directory is gone altogether. */
	fx_rmtree(f->dir);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_INIT, &init),
			 SEV_RET_HWSEV_RET_PLATFORM);
	assert_int_equal(psp_platform_state(f->psp), PSP_UNINIT);
}

/* No C-bit, a latency, and the write-back rows of GET_ID / PDH export. */
static void test_platform_rows(void **state)
{
	struct fx *f = *state;
	static struct sev_cert pdh, chain[3];
	struct psp_pdh_cert_export e = {
		.pdh_cert_paddr = (uintptr_t)&pdh, .pdh_cert_len = SEV_CERT_LEN,
		.certs_paddr = um_bad_address(), .certs_len = SEV_CHAIN_LEN,
	};
	struct psp_addr_len id = { um_bad_address(), SEV_ID_LEN };
	uint8_t ark[16];
	size_t len = sizeof(ark);

	f->cfg.cbit = 0;
	f->cfg.latency_us = 1;
	assert_int_equal(create(f, NULL), 0);
	/* §9.9: not in UNINIT. */
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PDH_CERT_EXPORT, &e),
			 SEV_RET_INVALID_PLATFORM_STATE);
	fx_init(f->psp, true);
	assert_int_equal(psp_cmd(f->psp, PSP_CMD_PDH_CERT_EXPORT, &e,
				 &user_mem), SEV_RET_INVALID_ADDRESS);
	e.certs_paddr = (uintptr_t)chain;
	assert_int_equal(psp_cmd(f->psp, PSP_CMD_PDH_CERT_EXPORT, &e,
				 &user_mem), 0);
	/* §9.13: the ID's write faults. */
	assert_int_equal(psp_cmd(f->psp, PSP_CMD_GET_ID, &id, &user_mem),
			 SEV_RET_INVALID_ADDRESS);
	/* psp_get_ark(): too small a buffer gets the size. */
	assert_int_equal(psp_get_ark(f->psp, ark, &len), -ENOSPC);
	assert_true(len > sizeof(ark));
}

/* GET_ID needs API 0.16 (§9.13), ATTESTATION 0.23 (§9.25). */
static void test_old_api(void **state)
{
	struct fx *f = *state;
	uint8_t buf[64] __attribute__((aligned(8)));
	struct psp_addr_len id = { (uintptr_t)buf, sizeof(buf) };
	struct psp_attestation at = { 0 };

	f->cfg.api_major = 0;
	f->cfg.api_minor = 15;
	assert_int_equal(create(f, NULL), 0);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_GET_ID, &id),
			 SEV_RET_INVALID_COMMAND);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_ATTESTATION, &at),
			 SEV_RET_INVALID_COMMAND);
	psp_destroy(f->psp);
	f->cfg.api_minor = 16;
	assert_int_equal(create(f, NULL), 0);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_GET_ID, &id), 0);
	assert_int_equal(id.length, SEV_ID_LEN);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_ATTESTATION, &at),
			 SEV_RET_INVALID_COMMAND);
	psp_destroy(f->psp);
	/* 0.24 has ATTESTATION: the platform state is looked at (§5). */
	f->cfg.api_minor = 24;
	f->cfg.latency_us_per_mib = 1;
	assert_int_equal(create(f, NULL), 0);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_ATTESTATION, &at),
			 SEV_RET_INVALID_PLATFORM_STATE);
}

/* XTS: a guest read that faults is INVALID_ADDRESS before decryption. */
static void test_xts_read_fault(void **state)
{
	struct fx *f = *state;
	uint8_t back[64];
	struct psp_dbg d = { 0, 0, 0, (uintptr_t)back, 64 };

	struct psp_launch_update u = { 0 };
	uint8_t *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			   -1, 0);

	f->cfg.mem_mode = PSP_MEM_XTS;
	f->cfg.cbit = 64; /* out of range: nothing is masked */
	assert_int_equal(create(f, NULL), 0);
	fx_init(f->psp, false);
	d.handle = fx_launch(f->psp, 0, 100);
	d.src_paddr = um_bad_address();
	assert_int_equal(psp_cmd(f->psp, PSP_CMD_DBG_DECRYPT, &d, &user_mem),
			 SEV_RET_INVALID_ADDRESS);
	/* §9.20: the ciphertext cannot be written back in place. */
	u = (struct psp_launch_update){ d.handle, 0, (uintptr_t)ro, 64 };
	assert_int_equal(psp_cmd(f->psp, PSP_CMD_LAUNCH_UPDATE_DATA, &u,
				 &user_mem), SEV_RET_INVALID_ADDRESS);
	munmap(ro, 4096);
}

/* §9.8 PEK_CERT_IMPORT: lengths, addresses, shapes, signatures, slots. */
static void test_pek_import_rows(void **state)
{
	struct fx *f = *state;
	struct sev_cert csr, oca, bad, pdh, chain[3];
	struct psp_addr_len b = { (uintptr_t)&csr, SEV_CERT_LEN };
	struct psp_pek_cert_import im = {
		.pek_cert_paddr = (uintptr_t)&csr, .pek_cert_len = SEV_CERT_LEN,
		.oca_cert_paddr = (uintptr_t)&oca, .oca_cert_len = SEV_CERT_LEN,
	};
	EVP_PKEY *oca_key;
	char path[512];

	assert_int_equal(create(f, NULL), 0);
	fx_init(f->psp, false);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CSR, &b), 0);
	assert_int_equal(crypto_p384_generate(&oca_key), 0);
	assert_int_equal(sev_cert_init_ec(&oca, SEV_USAGE_OCA,
					  SEV_ALGO_ECDSA_SHA256, 0, 0,
					  oca_key), 0);
	assert_int_equal(sev_cert_sign_ec(&oca, 0, SEV_USAGE_OCA, oca_key), 0);
	/* The OCA signs the PEK in slot 1: the CEK takes slot 0. */
	assert_int_equal(sev_cert_sign_ec(&csr, 1, SEV_USAGE_OCA, oca_key), 0);
	im.pek_cert_len = SEV_CERT_LEN - 1;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CERT_IMPORT, &im),
			 SEV_RET_INVALID_LEN);
	im.pek_cert_len = SEV_CERT_LEN;
	im.pek_cert_paddr = um_bad_address();
	assert_int_equal(psp_cmd(f->psp, PSP_CMD_PEK_CERT_IMPORT, &im,
				 &user_mem), SEV_RET_INVALID_ADDRESS);
	im.pek_cert_paddr = (uintptr_t)&csr;
	im.oca_cert_paddr = (uintptr_t)&bad;
	bad = oca;
	bad.version = 0;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CERT_IMPORT, &im),
			 SEV_RET_INVALID_CERTIFICATE);
	bad = oca;
	bad.algo = SEV_ALGO_ECDSA_SHA384;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CERT_IMPORT, &im),
			 SEV_RET_INVALID_CERTIFICATE);
	/* The OCA's self-signature. */
	bad = oca;
	bad.sig[0].ecdsa.s[0] ^= 1;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CERT_IMPORT, &im),
			 SEV_RET_BAD_SIGNATURE);
	im.oca_cert_paddr = (uintptr_t)&oca;
	im.pek_cert_paddr = (uintptr_t)&bad;
	bad = csr;
	bad.version = 0;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CERT_IMPORT, &im),
			 SEV_RET_INVALID_CERTIFICATE);
	bad = csr;
	bad.usage = SEV_USAGE_PDH;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CERT_IMPORT, &im),
			 SEV_RET_INVALID_CERTIFICATE);
	bad = csr;
	bad.algo = SEV_ALGO_ECDH_SHA256;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CERT_IMPORT, &im),
			 SEV_RET_INVALID_CERTIFICATE);
	im.pek_cert_paddr = (uintptr_t)&csr;
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CERT_IMPORT, &im), 0);
	fx_export(f->psp, &pdh, chain);
	assert_int_equal(chain[0].sig[0].usage, SEV_USAGE_CEK);
	assert_int_equal(sev_cert_verify(&chain[0], &chain[2]), 0);
	assert_int_equal(sev_cert_verify(&chain[0], &oca), 0);
	/* An import on a platform whose NV cannot be written. */
	fx_close(f, false);
	fx_rmtree(f->dir);
	fx_mkdtemp(f->dir, sizeof(f->dir));
	fx_copy(fx_template, f->dir, "root");
	fx_copy(fx_template, f->dir, "chip");
	assert_int_equal(create(f, NULL), 0);
	fx_init(f->psp, false);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CSR, &b), 0);
	assert_int_equal(sev_cert_sign_ec(&csr, 0, SEV_USAGE_OCA, oca_key), 0);
	snprintf(path, sizeof(path), "%s/nv", f->dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	write_file(f->dir, "nv/x", "x", 1);
	assert_int_equal(fx_cmd(f->psp, PSP_CMD_PEK_CERT_IMPORT, &im),
			 SEV_RET_HWSEV_RET_PLATFORM);
	EVP_PKEY_free(oca_key);
}

/*
 * "root" or "chip" that can be neither read nor created: a dangling
 * symlink makes the exclusive create fail with EEXIST (the path a losing
 * racer takes), and the reload then finds no file.
 */
static void test_dangling_identity(void **state)
{
	struct fx *f = *state;
	char path[512];

	snprintf(path, sizeof(path), "%s/chip", f->dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/nonexistent/softsev-chip", path), 0);
	assert_int_equal(create(f, NULL), -ENOENT);
	snprintf(path, sizeof(path), "%s/root", f->dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/nonexistent/softsev-root", path), 0);
	f->cfg.rsa_bits = 2048;
	assert_int_equal(create(f, NULL), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_invalid_config, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_volatile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_nv_records, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_chip_records, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_foreign_chip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_root_ask_unsigned, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dangling_identity, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_state_dir, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nv_write_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_platform_rows, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_old_api, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xts_read_fault, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pek_import_rows, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, fx_group_setup,
				      fx_group_teardown);
}
