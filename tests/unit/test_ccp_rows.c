// SPDX-License-Identifier: MIT
/*
 * /dev/sev rows no other test reached (issue 13): firmware failures inside
 * the driver (injected with psp_fault_*), the copy-in and copy-out faults
 * of each SEV_ISSUE_CMD handler, and the SNP stubs' parameter checks.
 * Expected values from Linux 6.12's drivers/crypto/ccp/sev-dev.c (function
 * names below) and the firmware spec notes, §10 (docs/fidelity.md).
 */
#include "psp_fixture.h"
#include "user_mem.h"

#include <sys/ioctl.h>

#include "ccp.h"
#include "ccp_fixture.h"


static void fault(struct psp *psp, const char *spec)
{
	struct psp_fault f;

	assert_int_equal(psp_fault_parse(spec, &f), 0);
	assert_int_equal(psp_fault_add(psp, &f), 0);
}

static int issue(struct cx *c, bool writable, uint32_t cmd, void *data,
		 uint32_t *error)
{
	struct sev_issue_cmd in = { cmd, (uintptr_t)data, 0xdead };
	int ret = ccp_ioctl(c->ccp, writable, SEV_ISSUE_CMD, (uintptr_t)&in,
			    &user_mem);

	if (error)
		*error = in.error;
	return ret;
}

static void *bad(void)
{
	return (void *)(uintptr_t)um_bad_address();
}

/* A read-only copy: copy_from_user works, copy_to_user faults. */
static void *ro_copy(const void *src, size_t len)
{
	uint8_t *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	memcpy(p, src, len);
	assert_int_equal(mprotect(p, 4096, PROT_READ), 0);
	return p;
}

/*
 * __sev_platform_init_locked(): INIT is retried once on
 * SECURE_DATA_INVALID; a failing INIT at probe fails the probe.
 */
static void test_probe_init(void **state)
{
	struct fx f = { 0 };
	struct ccp_config cfg = { .init_on_probe = true };
	struct ccp *ccp;

	fx_open(&f, true);
	fault(f.psp, "INIT=SECURE_DATA_INVALID@once");
	assert_int_equal(ccp_create(f.psp, &cfg, &ccp), 0);
	assert_int_equal(psp_platform_state(f.psp), PSP_INIT);
	ccp_destroy(ccp);
	psp_fault_clear(f.psp);
	assert_int_equal(fx_cmd(f.psp, PSP_CMD_SHUTDOWN, NULL), 0);
	fault(f.psp, "INIT=HWERROR_PLATFORM");
	assert_int_equal(ccp_create(f.psp, &cfg, &ccp), -EIO);
	assert_int_equal(psp_platform_state(f.psp), PSP_UNINIT);
	ccp_destroy(NULL);
	fx_close(&f, true);
}

/* sev_platform_init() / sev_platform_shutdown() as KVM calls them. */
static void test_init_shutdown(void **state)
{
	struct cx *c = *state;
	struct psp_platform_status st;
	int err = 0;

	/* Nothing to shut down in UNINIT: no firmware call, no status. */
	fault(c->f.psp, "SHUTDOWN=HWERROR_PLATFORM@once");
	assert_int_equal(ccp_platform_shutdown(c->ccp, &err), 0);
	assert_int_equal(err, 0);
	assert_int_equal(ccp_platform_init(c->ccp, NULL), 0);
	assert_int_equal(ccp_do_cmd(c->ccp, PSP_CMD_PLATFORM_STATUS, &st, NULL,
				    NULL), 0);
	assert_int_equal(st.state, PSP_INIT);
	assert_int_equal(st.config[0] & 1, 1); /* the driver's TMR: ES */
	/* A failing SHUTDOWN leaves the driver's state INIT. */
	assert_int_equal(ccp_platform_shutdown(c->ccp, &err), -EIO);
	assert_int_equal(err, SEV_RET_HWSEV_RET_PLATFORM);
	assert_int_equal(psp_platform_state(c->f.psp), PSP_INIT);
	assert_int_equal(ccp_platform_shutdown(c->ccp, &err), 0);
	assert_int_equal(psp_platform_state(c->f.psp), PSP_UNINIT);
}

/* Without SEV-ES the driver has no TMR and INITs without CONFIG.ES. */
static void test_probe_without_es(void **state)
{
	struct fx f = { 0 };
	struct ccp_config cfg = { .init_on_probe = true };
	struct psp_platform_status st;
	struct ccp *ccp;

	psp_config_default(&f.cfg);
	f.cfg.es = false;
	fx_open(&f, true);
	assert_int_equal(ccp_create(f.psp, &cfg, &ccp), 0);
	assert_int_equal(fx_cmd(f.psp, PSP_CMD_PLATFORM_STATUS, &st), 0);
	assert_int_equal(st.state, PSP_INIT);
	assert_int_equal(st.config[0] & 1, 0);
	ccp_destroy(ccp);
	fx_close(&f, true);
}

/*
 * sev_move_to_init_state(): an implicit INIT that fails answers its errno
 * with INVALID_PLATFORM_STATE in the status, for every command that needs
 * one.
 */
static void test_implicit_init_fails(void **state)
{
	struct cx *c = *state;
	static struct sev_cert pek, oca, pdh, chain[3];
	struct sev_user_data_pek_csr csr = { (uintptr_t)&pek, sizeof(pek) };
	struct sev_user_data_pek_cert_import im = {
		(uintptr_t)&pek, SEV_CERT_LEN, (uintptr_t)&oca, SEV_CERT_LEN
	};
	struct sev_user_data_pdh_cert_export e = {
		(uintptr_t)&pdh, SEV_CERT_LEN, (uintptr_t)chain, SEV_CHAIN_LEN
	};
	uint32_t err;

	fault(c->f.psp, "INIT=HWERROR_PLATFORM");
	assert_int_equal(issue(c, true, SEV_PEK_GEN, NULL, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_PLATFORM_STATE);
	assert_int_equal(issue(c, true, SEV_PDH_GEN, NULL, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_PLATFORM_STATE);
	assert_int_equal(issue(c, true, SEV_PEK_CSR, &csr, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_PLATFORM_STATE);
	assert_int_equal(issue(c, true, SEV_PEK_CERT_IMPORT, &im, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_PLATFORM_STATE);
	assert_int_equal(issue(c, true, SEV_PDH_CERT_EXPORT, &e, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_PLATFORM_STATE);
	assert_int_equal(psp_platform_state(c->f.psp), PSP_UNINIT);
}

/* sev_ioctl_do_reset(): PLATFORM_STATUS and SHUTDOWN failures. */
static void test_reset_failures(void **state)
{
	struct cx *c = *state;
	struct sev_user_data_status st;
	uint32_t err;

	fault(c->f.psp, "PLATFORM_STATUS=HWERROR_PLATFORM@once");
	assert_int_equal(issue(c, true, SEV_FACTORY_RESET, NULL, &err), -EIO);
	assert_int_equal(err, SEV_RET_HWSEV_RET_PLATFORM);
	fault(c->f.psp, "SHUTDOWN=HWERROR_UNSAFE@once");
	assert_int_equal(issue(c, true, SEV_FACTORY_RESET, NULL, &err), -EIO);
	assert_int_equal(err, SEV_RET_HWSEV_RET_UNSAFE);
	assert_int_equal(psp_platform_state(c->f.psp), PSP_INIT);
	/* sev_ioctl_do_platform_status(): nothing is copied on failure. */
	fault(c->f.psp, "PLATFORM_STATUS=HWERROR_PLATFORM@once");
	memset(&st, 0x5a, sizeof(st));
	assert_int_equal(issue(c, false, SEV_PLATFORM_STATUS, &st, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_HWSEV_RET_PLATFORM);
	assert_int_equal(st.api_major, 0x5a);
	/* The sev_issue_cmd struct itself cannot be written back. */
	{
		struct sev_issue_cmd in = { SEV_PLATFORM_STATUS,
					    (uintptr_t)&st, 0 };

		assert_int_equal(ccp_ioctl(c->ccp, false, SEV_ISSUE_CMD,
					   (uintptr_t)ro_copy(&in, sizeof(in)),
					   &user_mem), -EFAULT);
	}
}

/* sev_ioctl_do_pek_csr(): the copy-in, the length cap and the copy-outs. */
static void test_pek_csr_copies(void **state)
{
	struct cx *c = *state;
	static struct sev_cert csr_buf;
	struct sev_user_data_pek_csr csr = { (uintptr_t)&csr_buf,
					     sizeof(csr_buf) };
	uint32_t err;

	assert_int_equal(issue(c, true, SEV_PEK_CSR, bad(), &err), -EFAULT);
	csr.length = SEV_FW_BLOB_MAX_SIZE + 1;
	assert_int_equal(issue(c, true, SEV_PEK_CSR, &csr, &err), -EFAULT);
	/* An address without a length is a query. */
	csr.length = 0;
	assert_int_equal(issue(c, true, SEV_PEK_CSR, &csr, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	assert_int_equal(csr.length, SEV_CERT_LEN);
	assert_int_equal(issue(c, true, SEV_PEK_CSR,
			       ro_copy(&csr, sizeof(csr)), &err), -EFAULT);
	csr.address = (uintptr_t)ro_copy(&csr_buf, 16);
	assert_int_equal(issue(c, true, SEV_PEK_CSR, &csr, &err), -EFAULT);
	assert_int_equal(err, 0);
}

/* psp_copy_user_blob(): no address, no length, over 16 KiB: EINVAL. */
static void test_pek_import_copies(void **state)
{
	struct cx *c = *state;
	static struct sev_cert pek, oca;
	struct sev_user_data_pek_cert_import im, ok = {
		(uintptr_t)&pek, SEV_CERT_LEN, (uintptr_t)&oca, SEV_CERT_LEN
	};
	uint32_t err;

	assert_int_equal(issue(c, true, SEV_PEK_CERT_IMPORT, bad(), &err),
			 -EFAULT);
	im = ok;
	im.pek_cert_address = 0;
	assert_int_equal(issue(c, true, SEV_PEK_CERT_IMPORT, &im, &err),
			 -EINVAL);
	im = ok;
	im.oca_cert_len = 0;
	assert_int_equal(issue(c, true, SEV_PEK_CERT_IMPORT, &im, &err),
			 -EINVAL);
	im = ok;
	im.pek_cert_len = SEV_FW_BLOB_MAX_SIZE + 1;
	assert_int_equal(issue(c, true, SEV_PEK_CERT_IMPORT, &im, &err),
			 -EINVAL);
	assert_int_equal(err, 0xdead);
}

/* sev_ioctl_do_pdh_export(): caps, copy-in and every copy-out. */
static void test_pdh_export_copies(void **state)
{
	struct cx *c = *state;
	static struct sev_cert pdh, chain[3];
	struct sev_user_data_pdh_cert_export e, ok = {
		(uintptr_t)&pdh, SEV_CERT_LEN, (uintptr_t)chain, SEV_CHAIN_LEN
	};
	uint32_t err;

	assert_int_equal(issue(c, false, SEV_PDH_CERT_EXPORT, bad(), &err),
			 -EFAULT);
	e = ok;
	e.pdh_cert_len = SEV_FW_BLOB_MAX_SIZE + 1;
	assert_int_equal(issue(c, false, SEV_PDH_CERT_EXPORT, &e, &err),
			 -EFAULT);
	e = ok;
	e.cert_chain_len = SEV_FW_BLOB_MAX_SIZE + 1;
	assert_int_equal(issue(c, false, SEV_PDH_CERT_EXPORT, &e, &err),
			 -EFAULT);
	/* A chain address without a length: the firmware's INVALID_LEN. */
	e = ok;
	e.cert_chain_len = 0;
	assert_int_equal(issue(c, false, SEV_PDH_CERT_EXPORT, &e, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	assert_int_equal(e.cert_chain_len, SEV_CHAIN_LEN);
	assert_int_equal(issue(c, false, SEV_PDH_CERT_EXPORT,
			       ro_copy(&ok, sizeof(ok)), &err), -EFAULT);
	/* No PDH length, or no chain address: query mode
	 * (sev_ioctl_do_pdh_export). */
	e = ok;
	e.pdh_cert_len = 0;
	assert_int_equal(issue(c, false, SEV_PDH_CERT_EXPORT, &e, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	assert_int_equal(e.pdh_cert_len, SEV_CERT_LEN);
	e = ok;
	e.cert_chain_address = 0;
	assert_int_equal(issue(c, false, SEV_PDH_CERT_EXPORT, &e, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	assert_int_equal(e.pdh_cert_len, SEV_CERT_LEN);
	e = ok;
	e.pdh_cert_address = (uintptr_t)ro_copy(&pdh, 16);
	assert_int_equal(issue(c, false, SEV_PDH_CERT_EXPORT, &e, &err),
			 -EFAULT);
	e = ok;
	e.cert_chain_address = (uintptr_t)ro_copy(&pdh, 16);
	assert_int_equal(issue(c, false, SEV_PDH_CERT_EXPORT, &e, &err),
			 -EFAULT);
	e = ok;
	assert_int_equal(issue(c, false, SEV_PDH_CERT_EXPORT, &e, &err), 0);
}

/* sev_ioctl_do_get_id() / get_id2(). */
static void test_get_id_copies(void **state)
{
	struct cx *c = *state;
	static uint8_t id[128] __attribute__((aligned(8)));
	struct sev_user_data_get_id2 in, ok = { (uintptr_t)id, sizeof(id) };
	uint32_t err;

	assert_int_equal(issue(c, false, SEV_GET_ID, ro_copy(id, 16), &err),
			 -EFAULT);
	fault(c->f.psp, "GET_ID=HWERROR_PLATFORM@once");
	assert_int_equal(issue(c, false, SEV_GET_ID, id, &err), -EIO);
	assert_int_equal(err, SEV_RET_HWSEV_RET_PLATFORM);
	assert_int_equal(issue(c, false, SEV_GET_ID2, bad(), &err), -EFAULT);
	in = ok;
	in.length = (4u << 20) + 1;
	assert_int_equal(issue(c, false, SEV_GET_ID2, &in, &err), -ENOMEM);
	in = ok;
	in.length = 0;
	assert_int_equal(issue(c, false, SEV_GET_ID2, &in, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	assert_int_equal(in.length, SEV_ID_LEN);
	assert_int_equal(issue(c, false, SEV_GET_ID2, ro_copy(&ok, sizeof(ok)),
			       &err), -EFAULT);
	in = ok;
	in.address = (uintptr_t)ro_copy(id, 16);
	assert_int_equal(issue(c, false, SEV_GET_ID2, &in, &err), -EFAULT);
	in = ok;
	assert_int_equal(issue(c, false, SEV_GET_ID2, &in, &err), 0);
	assert_int_equal(in.length, SEV_ID_LEN);
}

/* sev_ioctl_do_snp_set_config() / snp_vlek_load() on a host without SNP. */
static void test_snp_copies(void **state)
{
	struct cx *c = *state;
	static uint8_t hashstick[432];
	struct {
		uint32_t len;
		uint8_t version;
		uint8_t rsvd[3];
		uint64_t wrapped;
	} __attribute__((packed)) vlek = { sizeof(vlek), 0, { 0 },
					   (uintptr_t)hashstick };
	uint32_t err;

	assert_int_equal(issue(c, true, CCP_SNP_SET_CONFIG, bad(), &err),
			 -EFAULT);
	assert_int_equal(issue(c, true, CCP_SNP_VLEK_LOAD, bad(), &err),
			 -EFAULT);
	vlek.version = 1;
	assert_int_equal(issue(c, true, CCP_SNP_VLEK_LOAD, &vlek, &err),
			 -EINVAL);
	vlek.version = 0;
	vlek.wrapped = um_bad_address();
	assert_int_equal(issue(c, true, CCP_SNP_VLEK_LOAD, &vlek, &err),
			 -EFAULT);
	assert_int_equal(err, 0xdead);
	vlek.wrapped = (uintptr_t)hashstick;
	assert_int_equal(issue(c, true, CCP_SNP_VLEK_LOAD, &vlek, &err),
			 -ENODEV);
	assert_int_equal(err, SEV_RET_INVALID_PLATFORM_STATE);
}

/* sev_ioctl_do_get_id() / get_id2(): ENOTSUPP below API 0.16. */
static void test_get_id_old_api(void **state)
{
	struct cx c = { 0 };
	struct ccp_config cfg = { .init_on_probe = false };
	uint8_t id[128];
	struct sev_user_data_get_id2 in = { (uintptr_t)id, sizeof(id) };

	psp_config_default(&c.f.cfg);
	c.f.cfg.api_major = 0;
	c.f.cfg.api_minor = 15;
	fx_open(&c.f, true);
	assert_int_equal(ccp_create(c.f.psp, &cfg, &c.ccp), 0);
	assert_int_equal(issue(&c, false, SEV_GET_ID, id, NULL),
			 -CCP_ENOTSUPP);
	assert_int_equal(issue(&c, false, SEV_GET_ID2, &in, NULL),
			 -CCP_ENOTSUPP);
	ccp_destroy(c.ccp);
	fx_close(&c.f, false);
	/* API 0.24 (Milan) has it. */
	c.f.cfg.api_minor = 24;
	fx_open(&c.f, true);
	assert_int_equal(ccp_create(c.f.psp, &cfg, &c.ccp), 0);
	assert_int_equal(issue(&c, false, SEV_GET_ID2, &in, NULL), 0);
	assert_int_equal(in.length, SEV_ID_LEN);
	ccp_destroy(c.ccp);
	fx_close(&c.f, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_init),
		cmocka_unit_test(test_probe_without_es),
		cmocka_unit_test(test_get_id_old_api),
		cmocka_unit_test_setup_teardown(test_init_shutdown, setup_lazy,
						teardown),
		cmocka_unit_test_setup_teardown(test_implicit_init_fails,
						setup_lazy, teardown),
		cmocka_unit_test_setup_teardown(test_reset_failures,
						setup_probe, teardown),
		cmocka_unit_test_setup_teardown(test_pek_csr_copies,
						setup_probe, teardown),
		cmocka_unit_test_setup_teardown(test_pek_import_copies,
						setup_probe, teardown),
		cmocka_unit_test_setup_teardown(test_pdh_export_copies,
						setup_probe, teardown),
		cmocka_unit_test_setup_teardown(test_get_id_copies,
						setup_probe, teardown),
		cmocka_unit_test_setup_teardown(test_snp_copies, setup_probe,
						teardown),
	};

	return cmocka_run_group_tests(tests, fx_group_setup,
				      fx_group_teardown);
}
