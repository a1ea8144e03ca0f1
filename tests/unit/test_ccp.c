// SPDX-License-Identifier: MIT
/* The /dev/sev ioctl layer (firmware spec §10). */
#include "psp_fixture.h"
#include "user_mem.h"

#include <sys/ioctl.h>

#include "ccp.h"
#include "ccp_fixture.h"


/* Issue one SEV_ISSUE_CMD; the error field starts as a sentinel. */
static int issue(struct cx *c, bool writable, uint32_t cmd, void *data,
		 uint32_t *error)
{
	struct sev_issue_cmd in = { cmd, (uintptr_t)data, 0xdead };
	int ret = ccp_ioctl(c->ccp, writable, SEV_ISSUE_CMD, (uintptr_t)&in,
			    &user_mem);

	*error = in.error;
	return ret;
}

#define SENTINEL 0xdead

static void test_entry_checks(void **state)
{
	struct cx *c = *state;
	struct sev_issue_cmd in = { SEV_MAX + 10, 0, SENTINEL };

	assert_int_equal(ccp_ioctl(c->ccp, true, SEV_ISSUE_CMD + 1,
				   (uintptr_t)&in, &user_mem), -EINVAL);
	assert_int_equal(ccp_ioctl(c->ccp, true, SEV_ISSUE_CMD,
				   um_bad_address(), &user_mem), -EFAULT);
	assert_int_equal(ccp_ioctl(c->ccp, true, SEV_ISSUE_CMD,
				   (uintptr_t)&in, &user_mem), -EINVAL);
	/* 13 (SEV_MAX) passes the range check but has no handler: EINVAL
	 * and nothing is written back. */
	in.cmd = CCP_SEV_MAX;
	assert_int_equal(ccp_ioctl(c->ccp, true, SEV_ISSUE_CMD,
				   (uintptr_t)&in, &user_mem), -EINVAL);
	assert_int_equal(in.error, SENTINEL);
}

static void test_platform_status(void **state)
{
	struct cx *c = *state;
	struct sev_user_data_status st;
	uint32_t err;

	memset(&st, 0xff, sizeof(st));
	assert_int_equal(issue(c, false, SEV_PLATFORM_STATUS, &st, &err), 0);
	assert_int_equal(err, 0);
	assert_int_equal(st.api_major, 1);
	assert_int_equal(st.api_minor, 55);
	assert_int_equal(st.state, PSP_INIT);
	assert_int_equal(st.flags & SEV_STATUS_FLAGS_CONFIG_ES,
			 SEV_STATUS_FLAGS_CONFIG_ES);
	assert_int_equal(st.flags & 1, 0);
	assert_int_equal(st.build, 21);
	assert_int_equal(st.guest_count, 0);
	/* The firmware runs; only the copy-out faults. */
	assert_int_equal(issue(c, false, SEV_PLATFORM_STATUS,
			       (void *)(uintptr_t)um_bad_address(), &err),
			 -EFAULT);
	assert_int_equal(err, 0);
}

static void test_write_permission(void **state)
{
	struct cx *c = *state;
	struct sev_user_data_pek_csr csr = { 0, 0 };
	struct sev_user_data_pek_cert_import im = { 0 };
	uint32_t err;

	assert_int_equal(issue(c, false, SEV_PEK_GEN, NULL, &err), -EPERM);
	assert_int_equal(err, SENTINEL);
	assert_int_equal(issue(c, false, SEV_PDH_GEN, NULL, &err), -EPERM);
	assert_int_equal(issue(c, false, SEV_FACTORY_RESET, NULL, &err),
			 -EPERM);
	assert_int_equal(issue(c, false, SEV_PEK_CSR, &csr, &err), -EPERM);
	assert_int_equal(issue(c, false, SEV_PEK_CERT_IMPORT, &im, &err),
			 -EPERM);
	assert_int_equal(issue(c, true, SEV_PEK_GEN, NULL, &err), 0);
	assert_int_equal(err, 0);
	assert_int_equal(issue(c, true, SEV_PDH_GEN, NULL, &err), 0);
}

/* psp_init_on_probe=0: the ioctl INITs, runs, and SHUTs DOWN again. */
static void test_implicit_init(void **state)
{
	struct cx *c = *state;
	struct sev_user_data_pdh_cert_export e = { 0 };
	struct sev_cert pdh1, pdh2, chain[3];
	uint32_t err;

	assert_int_equal(psp_platform_state(c->f.psp), PSP_UNINIT);
	assert_int_equal(issue(c, true, SEV_PDH_GEN, NULL, &err), 0);
	assert_int_equal(err, 0);
	assert_int_equal(psp_platform_state(c->f.psp), PSP_UNINIT);
	/* PDH export needs write access only for its implicit INIT. */
	e.pdh_cert_address = (uintptr_t)&pdh1;
	e.pdh_cert_len = SEV_CERT_LEN;
	e.cert_chain_address = (uintptr_t)chain;
	e.cert_chain_len = SEV_CHAIN_LEN;
	assert_int_equal(issue(c, false, SEV_PDH_CERT_EXPORT, &e, &err),
			 -EPERM);
	assert_int_equal(issue(c, true, SEV_PDH_CERT_EXPORT, &e, &err), 0);
	assert_int_equal(psp_platform_state(c->f.psp), PSP_UNINIT);
	assert_int_equal(sev_cert_verify(&pdh1, &chain[0]), 0);
	/* After a KVM-style INIT, read-only export works. */
	assert_int_equal(ccp_platform_init(c->ccp, (int *)&err), 0);
	e.pdh_cert_address = (uintptr_t)&pdh2;
	assert_int_equal(issue(c, false, SEV_PDH_CERT_EXPORT, &e, &err), 0);
	assert_memory_equal(&pdh1, &pdh2, SEV_CERT_LEN);
	assert_int_equal(psp_platform_state(c->f.psp), PSP_INIT);
}

static void test_factory_reset(void **state)
{
	struct cx *c = *state;
	struct sev_user_data_status st;
	struct psp_launch_start ls = { 0 };
	struct psp_handle h;
	int ferr;
	uint32_t err;

	assert_int_equal(ccp_do_cmd(c->ccp, PSP_CMD_LAUNCH_START, &ls, NULL,
				    &ferr), 0);
	assert_int_equal(issue(c, true, SEV_FACTORY_RESET, NULL, &err),
			 -EBUSY);
	h.handle = ls.handle;
	assert_int_equal(ccp_do_cmd(c->ccp, PSP_CMD_DECOMMISSION, &h, NULL,
				    &ferr), 0);
	assert_int_equal(issue(c, true, SEV_FACTORY_RESET, NULL, &err), 0);
	assert_int_equal(err, 0);
	assert_int_equal(issue(c, false, SEV_PLATFORM_STATUS, &st, &err), 0);
	assert_int_equal(st.state, PSP_UNINIT);
	/* The driver's cached state follows: KVM's INIT brings it back. */
	assert_int_equal(ccp_platform_init(c->ccp, &ferr), 0);
	assert_int_equal(psp_platform_state(c->f.psp), PSP_INIT);
	/* Reset from UNINIT works too. */
	assert_int_equal(ccp_platform_shutdown(c->ccp, &ferr), 0);
	assert_int_equal(issue(c, true, SEV_FACTORY_RESET, NULL, &err), 0);
}

static void test_pek_csr(void **state)
{
	struct cx *c = *state;
	struct sev_user_data_pek_csr in = { 0, 0 };
	static struct sev_cert csr;
	uint32_t err;

	/* Query: zero address. */
	assert_int_equal(issue(c, true, SEV_PEK_CSR, &in, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	assert_int_equal(in.length, SEV_CERT_LEN);
	/* Too long for the driver. */
	in.address = (uintptr_t)&csr;
	in.length = SEV_FW_BLOB_MAX_SIZE + 1;
	assert_int_equal(issue(c, true, SEV_PEK_CSR, &in, &err), -EFAULT);
	/* Too short for the firmware: length back, no blob. */
	memset(&csr, 0x5c, sizeof(csr));
	in.length = 100;
	assert_int_equal(issue(c, true, SEV_PEK_CSR, &in, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	assert_int_equal(in.length, SEV_CERT_LEN);
	assert_int_equal(((uint8_t *)&csr)[0], 0x5c);
	assert_int_equal(issue(c, true, SEV_PEK_CSR, &in, &err), 0);
	assert_int_equal(err, 0);
	assert_int_equal(csr.usage, SEV_USAGE_PEK);
	/* Output that faults. */
	in.address = um_bad_address();
	assert_int_equal(issue(c, true, SEV_PEK_CSR, &in, &err), -EFAULT);
	assert_int_equal(issue(c, true, SEV_PEK_CSR,
			       (void *)(uintptr_t)um_bad_address(), &err),
			 -EFAULT);
}

static void test_pek_import(void **state)
{
	struct cx *c = *state;
	static struct sev_cert csr, oca;
	struct sev_user_data_pek_csr q = { (uintptr_t)&csr, SEV_CERT_LEN };
	struct sev_user_data_pek_cert_import im = { 0 };
	struct sev_user_data_status st;
	EVP_PKEY *key;
	uint32_t err;

	assert_int_equal(issue(c, true, SEV_PEK_CERT_IMPORT, &im, &err),
			 -EINVAL);
	assert_int_equal(issue(c, true, SEV_PEK_CSR, &q, &err), 0);
	assert_int_equal(crypto_p384_generate(&key), 0);
	assert_int_equal(sev_cert_init_ec(&oca, SEV_USAGE_OCA,
					  SEV_ALGO_ECDSA_SHA256, 0, 0, key), 0);
	assert_int_equal(sev_cert_sign_ec(&oca, 0, SEV_USAGE_OCA, key), 0);
	im.pek_cert_address = (uintptr_t)&csr;
	im.pek_cert_len = SEV_CERT_LEN;
	im.oca_cert_address = (uintptr_t)&oca;
	im.oca_cert_len = SEV_FW_BLOB_MAX_SIZE + 1;
	assert_int_equal(issue(c, true, SEV_PEK_CERT_IMPORT, &im, &err),
			 -EINVAL);
	im.oca_cert_len = SEV_CERT_LEN;
	im.oca_cert_address = um_bad_address();
	assert_int_equal(issue(c, true, SEV_PEK_CERT_IMPORT, &im, &err),
			 -EFAULT);
	im.oca_cert_address = (uintptr_t)&oca;
	/* Unsigned CSR: the firmware's BAD_SIGNATURE comes back as EIO. */
	assert_int_equal(issue(c, true, SEV_PEK_CERT_IMPORT, &im, &err), -EIO);
	assert_int_equal(err, SEV_RET_BAD_SIGNATURE);
	assert_int_equal(sev_cert_sign_ec(&csr, 0, SEV_USAGE_OCA, key), 0);
	assert_int_equal(issue(c, true, SEV_PEK_CERT_IMPORT, &im, &err), 0);
	/* OWNER reads 0 in UNINIT (§9.5): look once the platform is INIT. */
	assert_int_equal(ccp_platform_init(c->ccp, (int *)&err), 0);
	assert_int_equal(issue(c, false, SEV_PLATFORM_STATUS, &st, &err), 0);
	assert_int_equal(st.flags & 1, 1);
	assert_int_equal(issue(c, true, SEV_PEK_CERT_IMPORT, &im, &err), -EIO);
	assert_int_equal(err, SEV_RET_ALREADY_OWNED);
	EVP_PKEY_free(key);
}

static void test_pdh_export(void **state)
{
	struct cx *c = *state;
	struct sev_user_data_pdh_cert_export e = { 0 };
	static struct sev_cert pdh, chain[3];
	uint32_t err;

	/* QEMU: an all-zero struct gets both lengths. */
	assert_int_equal(issue(c, false, SEV_PDH_CERT_EXPORT, &e, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	assert_int_equal(e.pdh_cert_len, SEV_CERT_LEN);
	assert_int_equal(e.cert_chain_len, SEV_CHAIN_LEN);
	e.pdh_cert_address = (uintptr_t)&pdh;
	e.cert_chain_address = (uintptr_t)chain;
	e.cert_chain_len = SEV_FW_BLOB_MAX_SIZE + 1;
	assert_int_equal(issue(c, false, SEV_PDH_CERT_EXPORT, &e, &err),
			 -EFAULT);
	e.cert_chain_len = 100;
	memset(chain, 0x11, sizeof(chain));
	assert_int_equal(issue(c, false, SEV_PDH_CERT_EXPORT, &e, &err), -EIO);
	assert_int_equal(e.cert_chain_len, SEV_CHAIN_LEN);
	assert_int_equal(((uint8_t *)chain)[0], 0x11);
	/* sevctl's exact lengths. */
	assert_int_equal(issue(c, false, SEV_PDH_CERT_EXPORT, &e, &err), 0);
	assert_int_equal(err, 0);
	assert_int_equal(sev_cert_verify(&pdh, &chain[0]), 0);
	assert_int_equal(sev_cert_verify(&chain[0], &chain[1]), 0);
	e.cert_chain_address = um_bad_address();
	assert_int_equal(issue(c, false, SEV_PDH_CERT_EXPORT, &e, &err),
			 -EFAULT);
}

static void test_get_id(void **state)
{
	struct cx *c = *state;
	struct sev_user_data_get_id id;
	struct sev_user_data_get_id2 in = { 0, 0 };
	static uint8_t id2[256];
	uint32_t err;

	memset(&id, 0xee, sizeof(id));
	assert_int_equal(issue(c, false, SEV_GET_ID, &id, &err), 0);
	/* One socket: 64 bytes written, the second half untouched. */
	assert_int_equal(id.socket2[0], 0xee);
	assert_int_equal(issue(c, false, SEV_GET_ID2, &in, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	assert_int_equal(in.length, 64);
	in.address = (uintptr_t)id2;
	in.length = 32;
	memset(id2, 0x77, sizeof(id2));
	assert_int_equal(issue(c, false, SEV_GET_ID2, &in, &err), -EIO);
	assert_int_equal(in.length, 64);
	assert_int_equal(id2[0], 0x77);
	in.length = 128;
	assert_int_equal(issue(c, false, SEV_GET_ID2, &in, &err), 0);
	assert_int_equal(in.length, 64);
	assert_memory_equal(id2, id.socket1, 64);
	assert_int_equal(id2[64], 0x77);
	in.length = (4u << 20) + 1;
	assert_int_equal(issue(c, false, SEV_GET_ID2, &in, &err), -ENOMEM);
}

static void test_get_id_old_api(void **state)
{
	struct cx *c = *state;
	struct ccp_config cfg = { .init_on_probe = true };
	struct sev_user_data_get_id id;
	uint32_t err;

	ccp_destroy(c->ccp);
	fx_close(&c->f, false);
	psp_config_default(&c->f.cfg);
	c->f.cfg.api_major = 0;
	c->f.cfg.api_minor = 15;
	fx_open(&c->f, true);
	assert_int_equal(ccp_create(c->f.psp, &cfg, &c->ccp), 0);
	assert_int_equal(issue(c, false, SEV_GET_ID, &id, &err),
			 -CCP_ENOTSUPP);
	assert_int_equal(issue(c, false, SEV_GET_ID2, &id, &err),
			 -CCP_ENOTSUPP);
}

static void test_snp_ioctls(void **state)
{
	struct cx *c = *state;
	uint8_t buf[64] = { 0 };
	uint32_t err;

	assert_int_equal(issue(c, false, CCP_SNP_PLATFORM_STATUS, NULL, &err),
			 -EINVAL);
	assert_int_equal(issue(c, false, CCP_SNP_PLATFORM_STATUS, buf, &err),
			 -ENODEV);
	assert_int_equal(err, SEV_RET_INVALID_PLATFORM_STATE);
	assert_int_equal(issue(c, false, CCP_SNP_COMMIT, NULL, &err), -ENODEV);
	assert_int_equal(issue(c, false, CCP_SNP_SET_CONFIG, buf, &err),
			 -EPERM);
	assert_int_equal(issue(c, true, CCP_SNP_SET_CONFIG, buf, &err),
			 -ENODEV);
	assert_int_equal(issue(c, true, CCP_SNP_VLEK_LOAD, buf, &err),
			 -EINVAL);
}

static void test_kernel_api(void **state)
{
	struct cx *c = *state;
	struct psp_handle h = { 42 };
	int err;

	assert_int_equal(ccp_platform_init(c->ccp, &err), 0);
	assert_int_equal(ccp_do_cmd(c->ccp, PSP_CMD_DECOMMISSION, &h, NULL,
				    &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_GUEST);
	assert_int_equal(ccp_do_cmd(c->ccp, PSP_CMD_DF_FLUSH, NULL, NULL,
				    &err), 0);
	assert_int_equal(err, 0);
}

#define T(fn, s) cmocka_unit_test_setup_teardown(fn, s, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_entry_checks, setup_probe),
		T(test_platform_status, setup_probe),
		T(test_write_permission, setup_probe),
		T(test_implicit_init, setup_lazy),
		T(test_factory_reset, setup_probe),
		T(test_pek_csr, setup_probe),
		T(test_pek_csr, setup_lazy),
		T(test_pek_import, setup_probe),
		T(test_pek_import, setup_lazy),
		T(test_pdh_export, setup_probe),
		T(test_get_id, setup_probe),
		T(test_get_id_old_api, setup_probe),
		T(test_snp_ioctls, setup_probe),
		T(test_kernel_api, setup_probe),
	};

	return cmocka_run_group_tests_name("ccp", tests, fx_group_setup,
					   fx_group_teardown);
}
