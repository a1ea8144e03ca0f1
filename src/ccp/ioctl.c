// SPDX-License-Identifier: MIT
/*
 * SEV_ISSUE_CMD handlers (firmware spec §10.1–§10.3).  Each handler follows
 * the newest kernel's order of checks; the comments name the row.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "ccp.h"
#include "ccp_internal.h"

struct ioc {
	struct ccp *ccp;
	const struct psp_mem *user;
	bool writable;
	struct sev_issue_cmd *in;
	int error; /* in->error while the handler runs (in is packed) */
};

static int cfu(const struct ioc *c, uint64_t uaddr, void *buf, size_t len)
{
	return c->user->ops->read(c->user->ctx, uaddr, buf, len) ? -EFAULT : 0;
}

static int ctu(const struct ioc *c, uint64_t uaddr, const void *buf,
	       size_t len)
{
	if (!len)
		return 0;
	return c->user->ops->write(c->user->ctx, uaddr, buf, len) ? -EFAULT :
								     0;
}

/* psp_copy_user_blob: both nonzero, at most 16 KiB, else EINVAL. */
static int copy_user_blob(const struct ioc *c, uint64_t uaddr, uint32_t len,
			  void **out)
{
	void *blob;

	if (!uaddr || !len || len > SEV_FW_BLOB_MAX_SIZE)
		return -EINVAL;
	blob = malloc(len);
	if (!blob)
		return -ENOMEM;
	if (cfu(c, uaddr, blob, len)) {
		free(blob);
		return -EFAULT;
	}
	*out = blob;
	return 0;
}

static int fw(struct ioc *c, unsigned int cmd, void *data)
{
	return ccp_cmd_locked(c->ccp, cmd, data, &c->error);
}

/* An implicit INIT that fails reports INVALID_PLATFORM_STATE (§10.3). */
static int move_to_init(struct ioc *c, bool *shutdown)
{
	int ret = ccp_init_locked(c->ccp, &c->error);

	if (ret) {
		c->error = SEV_RET_INVALID_PLATFORM_STATE;
		return ret;
	}
	*shutdown = true;
	return 0;
}

/* Undo an implicit INIT; its status does not replace the command's. */
static void maybe_shutdown(const struct ioc *c, bool shutdown)
{
	int ignored;

	if (shutdown)
		ccp_shutdown_locked(c->ccp, &ignored);
}

/* FACTORY_RESET: real state; WORKING -> EBUSY; INIT -> SHUTDOWN first. */
static int do_reset(struct ioc *c)
{
	struct psp_platform_status st = { 0 };
	int ret;

	if (!c->writable)
		return -EPERM;
	ret = fw(c, PSP_CMD_PLATFORM_STATUS, &st);
	if (ret)
		return ret;
	if (st.state == PSP_WORKING)
		return -EBUSY;
	if (st.state == PSP_INIT) {
		ret = ccp_shutdown_locked(c->ccp, &c->error);
		if (ret)
			return ret;
	}
	return fw(c, PSP_CMD_FACTORY_RESET, NULL);
}

/* PLATFORM_STATUS: no write needed; 12 bytes out after the firmware. */
static int do_platform_status(struct ioc *c)
{
	struct psp_platform_status st;
	int ret;

	memset(&st, 0, sizeof(st));
	ret = fw(c, PSP_CMD_PLATFORM_STATUS, &st);
	if (ret)
		return ret;
	return ctu(c, c->in->data, &st, sizeof(st));
}

/* PEK_GEN / PDH_GEN: implicit INIT and SHUTDOWN when UNINIT. */
static int do_pek_pdh_gen(struct ioc *c, unsigned int cmd)
{
	bool shutdown = false;
	int ret;

	if (!c->writable)
		return -EPERM;
	if (ccp_cached_state(c->ccp) == PSP_UNINIT) {
		ret = move_to_init(c, &shutdown);
		if (ret)
			return ret;
	}
	ret = fw(c, cmd, NULL);
	maybe_shutdown(c, shutdown);
	return ret;
}

static int do_pek_csr(struct ioc *c)
{
	struct sev_user_data_pek_csr in;
	struct psp_addr_len data = { 0, 0 };
	bool shutdown = false;
	void *blob = NULL;
	int ret;

	if (!c->writable)
		return -EPERM;
	if (cfu(c, c->in->data, &in, sizeof(in)))
		return -EFAULT;
	/* Zero address or length: the firmware only reports the length. */
	if (in.address && in.length) {
		if (in.length > SEV_FW_BLOB_MAX_SIZE)
			return -EFAULT;
		blob = calloc(1, in.length);
		if (!blob)
			return -ENOMEM;
		data.address = (uintptr_t)blob;
		data.length = in.length;
	}
	if (ccp_cached_state(c->ccp) == PSP_UNINIT) {
		ret = move_to_init(c, &shutdown);
		if (ret)
			goto out;
	}
	ret = fw(c, PSP_CMD_PEK_CSR, &data);
	in.length = data.length;
	if (ctu(c, c->in->data, &in, sizeof(in))) {
		ret = -EFAULT;
		goto out;
	}
	/* The blob goes out only on success (newest kernel). */
	if (!ret && blob && ctu(c, in.address, blob, in.length))
		ret = -EFAULT;
out:
	maybe_shutdown(c, shutdown);
	free(blob);
	return ret;
}

static int do_pek_import(struct ioc *c)
{
	struct sev_user_data_pek_cert_import in;
	struct psp_pek_cert_import data = { 0 };
	void *pek = NULL, *oca = NULL;
	bool shutdown = false;
	int ret;

	if (!c->writable)
		return -EPERM;
	if (cfu(c, c->in->data, &in, sizeof(in)))
		return -EFAULT;
	ret = copy_user_blob(c, in.pek_cert_address, in.pek_cert_len, &pek);
	if (ret)
		return ret;
	ret = copy_user_blob(c, in.oca_cert_address, in.oca_cert_len, &oca);
	if (ret)
		goto out;
	data.pek_cert_paddr = (uintptr_t)pek;
	data.pek_cert_len = in.pek_cert_len;
	data.oca_cert_paddr = (uintptr_t)oca;
	data.oca_cert_len = in.oca_cert_len;
	if (ccp_cached_state(c->ccp) != PSP_INIT) {
		ret = move_to_init(c, &shutdown);
		if (ret)
			goto out;
	}
	ret = fw(c, PSP_CMD_PEK_CERT_IMPORT, &data);
out:
	maybe_shutdown(c, shutdown);
	free(oca);
	free(pek);
	return ret;
}

static int do_pdh_export(struct ioc *c)
{
	struct sev_user_data_pdh_cert_export in;
	struct psp_pdh_cert_export data;
	void *pdh = NULL, *chain = NULL;
	bool shutdown = false;
	int ret;

	if (cfu(c, c->in->data, &in, sizeof(in)))
		return -EFAULT;
	memset(&data, 0, sizeof(data));
	/* Query mode: QEMU sends an all-zero struct. */
	if (in.pdh_cert_address && in.pdh_cert_len && in.cert_chain_address) {
		if (in.pdh_cert_len > SEV_FW_BLOB_MAX_SIZE ||
		    in.cert_chain_len > SEV_FW_BLOB_MAX_SIZE)
			return -EFAULT;
		pdh = calloc(1, in.pdh_cert_len);
		chain = calloc(1, in.cert_chain_len ? in.cert_chain_len : 1);
		if (!pdh || !chain) {
			ret = -ENOMEM;
			goto out;
		}
		data.pdh_cert_paddr = (uintptr_t)pdh;
		data.pdh_cert_len = in.pdh_cert_len;
		data.certs_paddr = (uintptr_t)chain;
		data.certs_len = in.cert_chain_len;
	}
	/* Write access matters only when an implicit INIT is needed. */
	if (ccp_cached_state(c->ccp) != PSP_INIT) {
		ret = -EPERM;
		if (!c->writable)
			goto out;
		ret = move_to_init(c, &shutdown);
		if (ret)
			goto out;
	}
	ret = fw(c, PSP_CMD_PDH_CERT_EXPORT, &data);
	in.pdh_cert_len = data.pdh_cert_len;
	in.cert_chain_len = data.certs_len;
	if (ctu(c, c->in->data, &in, sizeof(in))) {
		ret = -EFAULT;
		goto out;
	}
	if (!ret && pdh &&
	    (ctu(c, in.pdh_cert_address, pdh, in.pdh_cert_len) ||
	     ctu(c, in.cert_chain_address, chain, in.cert_chain_len)))
		ret = -EFAULT;
out:
	maybe_shutdown(c, shutdown);
	free(pdh);
	free(chain);
	return ret;
}

static bool api_at_least(const struct ioc *c, unsigned int maj,
			 unsigned int min)
{
	const struct psp_config *cfg = psp_config(ccp_psp(c->ccp));

	return cfg->api_major > maj ||
	       (cfg->api_major == maj && cfg->api_minor >= min);
}

/* Deprecated GET_ID: a 128-byte kernel buffer; data.len bytes out. */
static int do_get_id(struct ioc *c)
{
	uint8_t id[sizeof(struct sev_user_data_get_id)]
		__attribute__((aligned(8))) = { 0 };
	struct psp_addr_len data = { (uintptr_t)id, sizeof(id) };
	int ret;

	if (!api_at_least(c, 0, 16))
		return -CCP_ENOTSUPP;
	ret = fw(c, PSP_CMD_GET_ID, &data);
	if (!ret)
		ret = ctu(c, c->in->data, id, data.length);
	return ret;
}

/* The kernel's allocator refuses buffers beyond 4 MiB (MAX_PAGE_ORDER). */
#define KMALLOC_MAX (4u << 20)

static int do_get_id2(struct ioc *c)
{
	struct sev_user_data_get_id2 in;
	struct psp_addr_len data = { 0, 0 };
	void *blob = NULL;
	int ret;

	if (!api_at_least(c, 0, 16))
		return -CCP_ENOTSUPP;
	if (cfu(c, c->in->data, &in, sizeof(in)))
		return -EFAULT;
	if (in.address && in.length) {
		if (in.length > KMALLOC_MAX)
			return -ENOMEM;
		blob = aligned_alloc(8, (in.length + 7) & ~7u);
		if (!blob)
			return -ENOMEM;
		memset(blob, 0, in.length);
		data.address = (uintptr_t)blob;
		data.length = in.length;
	}
	ret = fw(c, PSP_CMD_GET_ID, &data);
	in.length = data.length;
	if (ctu(c, c->in->data, &in, sizeof(in)))
		ret = -EFAULT;
	else if (!ret && blob && ctu(c, in.address, blob, data.length))
		ret = -EFAULT;
	free(blob);
	return ret;
}

/*
 * SNP ioctls on a host without SNP: the implicit SNP_INIT fails with
 * ENODEV and the status reads INVALID_PLATFORM_STATE (§10.3).
 */
static int snp_unavailable(struct ioc *c)
{
	c->error = SEV_RET_INVALID_PLATFORM_STATE;
	return -ENODEV;
}

static int do_snp(struct ioc *c, unsigned int cmd)
{
	uint8_t buf[64];
	struct {
		uint32_t len;
		uint8_t version;
		uint8_t rsvd[3];
		uint64_t wrapped;
	} __attribute__((packed)) vlek;
	void *blob;
	int ret;

	if (cmd == CCP_SNP_COMMIT)
		return snp_unavailable(c);
	if (!c->in->data)
		return -EINVAL;
	if (cmd == CCP_SNP_PLATFORM_STATUS)
		return snp_unavailable(c);
	if (!c->writable)
		return -EPERM;
	if (cmd == CCP_SNP_SET_CONFIG) {
		if (cfu(c, c->in->data, buf, 64))
			return -EFAULT;
		return snp_unavailable(c);
	}
	if (cfu(c, c->in->data, &vlek, sizeof(vlek)))
		return -EFAULT;
	if (vlek.len != sizeof(vlek) || vlek.version)
		return -EINVAL;
	/* The wrapped VLEK hashstick is 432 bytes. */
	ret = copy_user_blob(c, vlek.wrapped, 432, &blob);
	if (ret)
		return ret;
	free(blob);
	return snp_unavailable(c);
}

static int dispatch(struct ioc *c)
{
	switch (c->in->cmd) {
	case SEV_FACTORY_RESET:
		return do_reset(c);
	case SEV_PLATFORM_STATUS:
		return do_platform_status(c);
	case SEV_PEK_GEN:
		return do_pek_pdh_gen(c, PSP_CMD_PEK_GEN);
	case SEV_PDH_GEN:
		return do_pek_pdh_gen(c, PSP_CMD_PDH_GEN);
	case SEV_PEK_CSR:
		return do_pek_csr(c);
	case SEV_PEK_CERT_IMPORT:
		return do_pek_import(c);
	case SEV_PDH_CERT_EXPORT:
		return do_pdh_export(c);
	case SEV_GET_ID:
		return do_get_id(c);
	case SEV_GET_ID2:
		return do_get_id2(c);
	case CCP_SNP_PLATFORM_STATUS:
	case CCP_SNP_COMMIT:
	case CCP_SNP_SET_CONFIG:
	case CCP_SNP_VLEK_LOAD:
		return do_snp(c, c->in->cmd);
	}
	return -ENOIOCTLCMD;
}

/* sev_ioctl(): ioctl number, copy-in, cmd range, then one handler. */
int ccp_ioctl(struct ccp *ccp, bool writable, unsigned long request,
	      uint64_t arg, const struct psp_mem *user)
{
	struct sev_issue_cmd in;
	struct ioc c = { ccp, user, writable, &in, 0 };
	int ret;

	if (request != SEV_ISSUE_CMD)
		return -EINVAL;
	if (cfu(&c, arg, &in, sizeof(in)))
		return -EFAULT;
	if (in.cmd > CCP_SEV_MAX)
		return -EINVAL;
	c.error = (int)in.error;
	ccp_lock(ccp);
	ret = dispatch(&c);
	in.error = (uint32_t)c.error;
	if (ret == -ENOIOCTLCMD) {
		/* Unknown command: no copy-back. */
		ccp_unlock(ccp);
		return -EINVAL;
	}
	if (ctu(&c, arg, &in, sizeof(in)))
		ret = -EFAULT;
	ccp_unlock(ccp);
	return ret;
}
