// SPDX-License-Identifier: MIT
/* SEND_* and RECEIVE_* as KVM wraps them (spec §4.9). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvm_internal.h"

/* The C-bit KVM sets on SEND/RECEIVE_UPDATE_DATA guest addresses. */
static uint64_t me_mask(const struct kvm_vm *vm)
{
	return vm->host->cbit ? 1ull << vm->host->cbit : 0;
}

static int send_start_query(struct kvm_vm *vm, const struct kvm_caller *c,
			    struct sev_cmd *cmd,
			    struct kvm_sev_send_start *params)
{
	struct psp_send_start data;
	int ret;

	memset(&data, 0, sizeof(data));
	data.handle = vm->sev.handle;
	ret = sev_issue_cmd(vm, c, PSP_CMD_SEND_START, &data, NULL,
			    &cmd->error);
	params->session_len = data.session_len;
	if (copy_to_user(c, cmd->data, params, sizeof(*params)))
		ret = -EFAULT;
	return ret;
}

int sev_send_start(struct kvm_vm *vm, const struct kvm_caller *c,
		   struct sev_cmd *cmd)
{
	struct kvm_sev_send_start params;
	struct psp_send_start data;
	void *pdh = NULL, *plat = NULL, *amd = NULL;
	uint8_t *session = NULL;
	struct kmem k;
	int ret;

	if (!sev_guest(vm))
		return -ENOTTY;
	if (copy_from_user(c, &params, cmd->data, sizeof(params)))
		return -EFAULT;
	if (!params.session_len)
		return send_start_query(vm, c, cmd, &params);
	if (!params.pdh_cert_uaddr || !params.pdh_cert_len ||
	    !params.session_uaddr || params.session_len > SEV_FW_BLOB_MAX_SIZE)
		return -EINVAL;
	session = calloc(1, params.session_len);
	if (!session)
		return -ENOMEM;
	ret = psp_copy_user_blob(c, params.pdh_cert_uaddr, params.pdh_cert_len,
				 &pdh);
	ret = ret ?: psp_copy_user_blob(c, params.plat_certs_uaddr,
					params.plat_certs_len, &plat);
	ret = ret ?: psp_copy_user_blob(c, params.amd_certs_uaddr,
					params.amd_certs_len, &amd);
	if (ret)
		goto out;
	memset(&data, 0, sizeof(data));
	kmem_init(&k, c);
	data.pdh_cert_paddr = kmem_pa(&k, pdh, params.pdh_cert_len);
	data.pdh_cert_len = params.pdh_cert_len;
	data.plat_certs_paddr = kmem_pa(&k, plat, params.plat_certs_len);
	data.plat_certs_len = params.plat_certs_len;
	data.amd_certs_paddr = kmem_pa(&k, amd, params.amd_certs_len);
	data.amd_certs_len = params.amd_certs_len;
	data.session_paddr = kmem_pa(&k, session, params.session_len);
	data.session_len = params.session_len;
	data.handle = vm->sev.handle;
	ret = sev_issue_cmd(vm, c, PSP_CMD_SEND_START, &data, &k, &cmd->error);
	if (!ret && copy_to_user(c, params.session_uaddr, session,
				 params.session_len)) {
		ret = -EFAULT;
		goto out;
	}
	params.policy = data.policy;
	params.session_len = data.session_len;
	if (copy_to_user(c, cmd->data, &params, sizeof(params)))
		ret = -EFAULT;
out:
	free(amd);
	free(plat);
	free(pdh);
	free(session);
	return ret;
}

static int send_update_query(struct kvm_vm *vm, const struct kvm_caller *c,
			     struct sev_cmd *cmd,
			     struct kvm_sev_send_update_data *params)
{
	struct psp_packet data;
	int ret;

	memset(&data, 0, sizeof(data));
	data.handle = vm->sev.handle;
	ret = sev_issue_cmd(vm, c, PSP_CMD_SEND_UPDATE_DATA, &data, NULL,
			    &cmd->error);
	params->hdr_len = data.hdr_len;
	params->trans_len = data.trans_len;
	if (copy_to_user(c, cmd->data, params, sizeof(*params)))
		ret = -EFAULT;
	return ret;
}

/* At most one guest page per command. */
static bool crosses_page(uint64_t uaddr, uint32_t len)
{
	return len > PAGE_SIZE || (uaddr & ~PAGE_MASK) + len > PAGE_SIZE;
}

int sev_send_update_data(struct kvm_vm *vm, const struct kvm_caller *c,
			 struct sev_cmd *cmd)
{
	struct kvm_sev_send_update_data params;
	struct psp_packet data;
	uint8_t *hdr = NULL, *trans = NULL;
	uint64_t npages;
	struct kmem k;
	int ret;

	if (!sev_guest(vm))
		return -ENOTTY;
	if (copy_from_user(c, &params, cmd->data, sizeof(params)))
		return -EFAULT;
	if (!params.trans_len || !params.hdr_len)
		return send_update_query(vm, c, cmd, &params);
	if (!params.trans_uaddr || !params.guest_uaddr || !params.guest_len ||
	    !params.hdr_uaddr)
		return -EINVAL;
	if (crosses_page(params.guest_uaddr, params.guest_len))
		return -EINVAL;
	ret = sev_pin_memory(vm, c, params.guest_uaddr & PAGE_MASK, PAGE_SIZE,
			     false, &npages);
	if (ret)
		return ret;
	/* Header and transport buffers of the user's sizes (no blob limit). */
	ret = -ENOMEM;
	if (params.hdr_len > KMALLOC_MAX || params.trans_len > KMALLOC_MAX)
		goto out;
	hdr = calloc(1, params.hdr_len);
	trans = calloc(1, params.trans_len);
	if (!hdr || !trans)
		goto out;
	memset(&data, 0, sizeof(data));
	kmem_init(&k, c);
	data.hdr_paddr = kmem_pa(&k, hdr, params.hdr_len);
	data.hdr_len = params.hdr_len;
	data.trans_paddr = kmem_pa(&k, trans, params.trans_len);
	data.trans_len = params.trans_len;
	data.guest_paddr = params.guest_uaddr | me_mask(vm);
	data.guest_len = params.guest_len;
	data.handle = vm->sev.handle;
	ret = sev_issue_cmd(vm, c, PSP_CMD_SEND_UPDATE_DATA, &data, &k,
			    &cmd->error);
	if (ret)
		goto out;
	if (copy_to_user(c, params.trans_uaddr, trans, params.trans_len) ||
	    copy_to_user(c, params.hdr_uaddr, hdr, params.hdr_len))
		ret = -EFAULT;
out:
	free(hdr);
	free(trans);
	sev_unpin_memory(vm, npages);
	return ret;
}

/* §4.9: like LAUNCH_START, but every blob is required; policy not stored. */
int sev_receive_start(struct kvm_vm *vm, const struct kvm_caller *c,
		      struct sev_cmd *cmd)
{
	struct kvm_sev_receive_start params;
	struct psp_launch_start start;
	void *pdh = NULL, *session = NULL;
	struct kmem k;
	int ret;

	if (!sev_guest(vm))
		return -ENOTTY;
	if (copy_from_user(c, &params, cmd->data, sizeof(params)))
		return -EFAULT;
	if (!params.pdh_uaddr || !params.pdh_len || !params.session_uaddr ||
	    !params.session_len)
		return -EINVAL;
	ret = psp_copy_user_blob(c, params.pdh_uaddr, params.pdh_len, &pdh);
	ret = ret ?: psp_copy_user_blob(c, params.session_uaddr,
					params.session_len, &session);
	if (ret)
		goto out;
	memset(&start, 0, sizeof(start));
	kmem_init(&k, c);
	start.handle = params.handle;
	start.policy = params.policy;
	start.dh_cert_paddr = kmem_pa(&k, pdh, params.pdh_len);
	start.dh_cert_len = params.pdh_len;
	start.session_paddr = kmem_pa(&k, session, params.session_len);
	start.session_len = params.session_len;
	ret = sev_issue_cmd_fd(vm->host, c, (int)cmd->sev_fd,
			       PSP_CMD_RECEIVE_START, &start, &k, &cmd->error);
	if (ret)
		goto out;
	ret = sev_bind_asid(vm, start.handle, &cmd->error);
	if (ret) {
		/* f1815e0aa770: decommission, or the context leaks. */
		sev_decommission(vm->host, start.handle);
		goto out;
	}
	params.handle = start.handle;
	if (copy_to_user(c, cmd->data, &params, sizeof(params))) {
		ret = -EFAULT;
		sev_unbind_asid(vm, start.handle);
		goto out;
	}
	vm->sev.handle = start.handle;
	vm->sev.fd = (int)cmd->sev_fd;
out:
	free(pdh);
	free(session);
	return ret;
}

/* The one command that answers EINVAL, not ENOTTY, without SEV. */
int sev_receive_update_data(struct kvm_vm *vm, const struct kvm_caller *c,
			    struct sev_cmd *cmd)
{
	struct kvm_sev_receive_update_data params;
	struct psp_packet data;
	void *hdr = NULL, *trans = NULL;
	uint64_t npages;
	struct kmem k;
	int ret;

	if (!sev_guest(vm))
		return -EINVAL;
	if (copy_from_user(c, &params, cmd->data, sizeof(params)))
		return -EFAULT;
	if (!params.hdr_uaddr || !params.hdr_len || !params.guest_uaddr ||
	    !params.guest_len || !params.trans_uaddr || !params.trans_len)
		return -EINVAL;
	if (crosses_page(params.guest_uaddr, params.guest_len))
		return -EINVAL;
	ret = psp_copy_user_blob(c, params.hdr_uaddr, params.hdr_len, &hdr);
	ret = ret ?: psp_copy_user_blob(c, params.trans_uaddr, params.trans_len,
					&trans);
	if (ret)
		goto out_free;
	memset(&data, 0, sizeof(data));
	kmem_init(&k, c);
	data.hdr_paddr = kmem_pa(&k, hdr, params.hdr_len);
	data.hdr_len = params.hdr_len;
	data.trans_paddr = kmem_pa(&k, trans, params.trans_len);
	data.trans_len = params.trans_len;
	/* 50c038018d6b: the destination page is pinned writable. */
	ret = sev_pin_memory(vm, c, params.guest_uaddr & PAGE_MASK, PAGE_SIZE,
			     true, &npages);
	if (ret)
		goto out_free;
	data.guest_paddr = params.guest_uaddr | me_mask(vm);
	data.guest_len = params.guest_len;
	data.handle = vm->sev.handle;
	ret = sev_issue_cmd(vm, c, PSP_CMD_RECEIVE_UPDATE_DATA, &data, &k,
			    &cmd->error);
	sev_unpin_memory(vm, npages);
out_free:
	free(hdr);
	free(trans);
	return ret;
}
