// SPDX-License-Identifier: MIT
/*
 * Launch, status, debug and attestation commands as KVM wraps them
 * (spec §4.1–§4.8).  Guest pages are never physically contiguous across a
 * 4 KiB boundary here (docs/fidelity.md K3), so KVM's per-run loops issue
 * one firmware command per page.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvm_internal.h"

/* §4.1: blobs, LAUNCH_START via cmd.sev_fd, ACTIVATE, handle out. */
int sev_launch_start(struct kvm_vm *vm, const struct kvm_caller *c,
		     struct sev_cmd *cmd)
{
	struct kvm_sev_launch_start params;
	struct psp_launch_start start;
	void *dh = NULL, *session = NULL;
	struct kmem k;
	int ret;

	if (!sev_guest(vm))
		return -ENOTTY;
	if (copy_from_user(c, &params, cmd->data, sizeof(params)))
		return -EFAULT;
	memset(&start, 0, sizeof(start));
	kmem_init(&k, c);
	if (params.dh_uaddr) {
		ret = psp_copy_user_blob(c, params.dh_uaddr, params.dh_len, &dh);
		if (ret)
			return ret;
		start.dh_cert_paddr = kmem_pa(&k, dh, params.dh_len);
		start.dh_cert_len = params.dh_len;
	}
	if (params.session_uaddr) {
		ret = psp_copy_user_blob(c, params.session_uaddr,
					 params.session_len, &session);
		if (ret)
			goto out;
		start.session_paddr = kmem_pa(&k, session, params.session_len);
		start.session_len = params.session_len;
	}
	start.handle = params.handle;
	start.policy = params.policy;
	ret = sev_issue_cmd_fd(vm->host, c, (int)cmd->sev_fd,
			       PSP_CMD_LAUNCH_START, &start, &k, &cmd->error);
	if (ret)
		goto out;
	ret = sev_bind_asid(vm, start.handle, &cmd->error);
	if (ret) {
		/* 934002cd660b: or the firmware context leaks. */
		sev_decommission(vm->host, start.handle);
		goto out;
	}
	params.handle = start.handle;
	if (copy_to_user(c, cmd->data, &params, sizeof(params))) {
		sev_unbind_asid(vm, start.handle);
		ret = -EFAULT;
		goto out;
	}
	vm->sev.policy = params.policy;
	vm->sev.handle = start.handle;
	vm->sev.fd = (int)cmd->sev_fd;
out:
	free(dh);
	free(session);
	return ret;
}

/* §4.2: pin writable, one firmware call per physically contiguous run. */
int sev_launch_update_data(struct kvm_vm *vm, const struct kvm_caller *c,
			   struct sev_cmd *cmd)
{
	struct kvm_sev_launch_update_data params;
	struct psp_launch_update data = { 0 };
	uint64_t vaddr, end, npages;
	struct kmem k;
	int ret;

	if (!sev_guest(vm))
		return -ENOTTY;
	if (copy_from_user(c, &params, cmd->data, sizeof(params)))
		return -EFAULT;
	ret = sev_pin_memory(vm, c, params.uaddr, params.len, true, &npages);
	if (ret)
		return ret;
	kmem_init(&k, c);
	data.handle = vm->sev.handle;
	end = params.uaddr + params.len;
	for (vaddr = params.uaddr; vaddr < end && !ret;) {
		uint64_t len = PAGE_SIZE - (vaddr & ~PAGE_MASK);

		if (len > end - vaddr)
			len = end - vaddr;
		data.paddr = vaddr;
		data.length = (uint32_t)len;
		ret = sev_issue_cmd(vm, c, PSP_CMD_LAUNCH_UPDATE_DATA, &data,
				    &k, &cmd->error);
		vaddr += len;
	}
	sev_unpin_memory(vm, npages);
	return ret;
}

/* __sev_launch_update_vmsa(): one vCPU's VMSA into the launch digest. */
static int update_vmsa(struct kvm_vm *vm, const struct kvm_caller *c,
		       struct kvm_vcpu *vcpu, uint32_t *error)
{
	struct psp_launch_update vmsa = { 0 };
	struct kmem k;
	int ret;

	if (vcpu->guest_debug)
		return -EINVAL;
	/* sev_es_sync_vmsa() (6.12.118): a protected vCPU is not synced again. */
	if (vcpu->protected)
		return -EINVAL;
	/* sev_es_sync_vmsa(): the builder refuses a DR7 with non-fixed bits. */
	ret = c->build_vmsa ? c->build_vmsa(c->ctx, vcpu,
					    vm->sev.vmsa_features, vcpu->vmsa) :
			      0;
	if (ret)
		return ret;
	kmem_init(&k, c);
	vmsa.handle = vm->sev.handle;
	vmsa.paddr = kmem_pa(&k, vcpu->vmsa, PAGE_SIZE);
	vmsa.length = PAGE_SIZE;
	ret = sev_issue_cmd(vm, c, PSP_CMD_LAUNCH_UPDATE_VMSA, &vmsa, &k,
			    error);
	if (!ret)
		vcpu->protected = true;
	return ret;
}

/* sev_launch_update_vmsa(): SEV-ES only; EBUSY with vCPU creation in flight. */
int sev_launch_update_vmsa(struct kvm_vm *vm, const struct kvm_caller *c,
			   struct sev_cmd *cmd)
{
	int i, n, ret = 0;

	if (!sev_es_guest(vm))
		return -ENOTTY;
	n = atomic_load(&vm->online_vcpus);
	if (vm->created_vcpus != n)
		return -EBUSY;
	kvm_lock_all_vcpus(vm);
	for (i = 0; i < n && !ret; i++)
		ret = update_vmsa(vm, c, vm->vcpus[i], &cmd->error);
	kvm_unlock_all_vcpus(vm);
	return ret;
}

/*
 * §4.4 length-query protocol, shared by LAUNCH_MEASURE and
 * GET_ATTESTATION_REPORT: len 0 queries; a buffer is used only when both
 * len and uaddr are set; the struct is not written back on failure except
 * for the query.
 */
static int measure_like(struct kvm_vm *vm, const struct kvm_caller *c,
			struct sev_cmd *cmd, uint64_t uaddr, uint32_t *len,
			const uint8_t *mnonce, void *params, size_t psize)
{
	struct psp_launch_update m = { 0 };
	struct psp_attestation a = { 0 };
	uint8_t *blob = NULL;
	uint64_t addr = 0;
	uint32_t blen = 0;
	struct kmem k;
	int ret;

	kmem_init(&k, c);
	if (*len && uaddr) {
		if (*len > SEV_FW_BLOB_MAX_SIZE)
			return -EINVAL;
		blob = calloc(1, *len);
		if (!blob)
			return -ENOMEM;
		addr = kmem_pa(&k, blob, *len);
		blen = *len;
		if (mnonce)
			memcpy(a.mnonce, mnonce, 16);
	}
	if (mnonce) {
		a.handle = vm->sev.handle;
		a.paddr = addr;
		a.length = blen;
		ret = sev_issue_cmd(vm, c, PSP_CMD_ATTESTATION, &a, &k,
				    &cmd->error);
		blen = a.length;
	} else {
		m.handle = vm->sev.handle;
		m.paddr = addr;
		m.length = blen;
		ret = sev_issue_cmd(vm, c, PSP_CMD_LAUNCH_MEASURE, &m, &k,
				    &cmd->error);
		blen = m.length;
	}
	if (*len) {
		if (ret)
			goto out;
		if (blob && copy_to_user(c, uaddr, blob, *len))
			ret = -EFAULT;
	}
	*len = blen;
	if (copy_to_user(c, cmd->data, params, psize))
		ret = -EFAULT;
out:
	free(blob);
	return ret;
}

int sev_launch_measure(struct kvm_vm *vm, const struct kvm_caller *c,
		       struct sev_cmd *cmd)
{
	struct kvm_sev_launch_measure params;

	if (!sev_guest(vm))
		return -ENOTTY;
	if (copy_from_user(c, &params, cmd->data, sizeof(params)))
		return -EFAULT;
	return measure_like(vm, c, cmd, params.uaddr, &params.len, NULL,
			    &params, sizeof(params));
}

int sev_get_attestation_report(struct kvm_vm *vm, const struct kvm_caller *c,
			       struct sev_cmd *cmd)
{
	struct kvm_sev_attestation_report params;

	if (!sev_guest(vm))
		return -ENOTTY;
	if (copy_from_user(c, &params, cmd->data, sizeof(params)))
		return -EFAULT;
	return measure_like(vm, c, cmd, params.uaddr, &params.len,
			    params.mnonce, &params, sizeof(params));
}

/* §4.5: the guest range must be physically contiguous (one page here). */
int sev_launch_secret(struct kvm_vm *vm, const struct kvm_caller *c,
		      struct sev_cmd *cmd)
{
	struct kvm_sev_launch_secret params;
	struct psp_packet data;
	void *trans = NULL, *hdr = NULL;
	uint64_t npages;
	struct kmem k;
	int ret;

	if (!sev_guest(vm))
		return -ENOTTY;
	if (copy_from_user(c, &params, cmd->data, sizeof(params)))
		return -EFAULT;
	ret = sev_pin_memory(vm, c, params.guest_uaddr, params.guest_len, true,
			     &npages);
	if (ret)
		return ret;
	ret = -EINVAL;
	if (npages != 1)
		goto out;
	memset(&data, 0, sizeof(data));
	kmem_init(&k, c);
	data.guest_paddr = params.guest_uaddr;
	data.guest_len = params.guest_len;
	ret = psp_copy_user_blob(c, params.trans_uaddr, params.trans_len,
				 &trans);
	if (ret)
		goto out;
	data.trans_paddr = kmem_pa(&k, trans, params.trans_len);
	data.trans_len = params.trans_len;
	ret = psp_copy_user_blob(c, params.hdr_uaddr, params.hdr_len, &hdr);
	if (ret)
		goto out;
	data.hdr_paddr = kmem_pa(&k, hdr, params.hdr_len);
	data.hdr_len = params.hdr_len;
	data.handle = vm->sev.handle;
	ret = sev_issue_cmd(vm, c, PSP_CMD_LAUNCH_SECRET, &data, &k,
			    &cmd->error);
out:
	free(hdr);
	free(trans);
	sev_unpin_memory(vm, npages);
	return ret;
}

/* §4.6: LAUNCH_FINISH, SEND_FINISH, SEND_CANCEL, RECEIVE_FINISH. */
int sev_simple_cmd(struct kvm_vm *vm, const struct kvm_caller *c,
		   struct sev_cmd *cmd, unsigned int fw_cmd)
{
	struct psp_handle data;

	if (!sev_guest(vm))
		return -ENOTTY;
	data.handle = vm->sev.handle;
	return sev_issue_cmd(vm, c, fw_cmd, &data, NULL, &cmd->error);
}

/* §4.7: written back only on success; state widened to u32. */
int sev_guest_status(struct kvm_vm *vm, const struct kvm_caller *c,
		     struct sev_cmd *cmd)
{
	struct kvm_sev_guest_status params;
	struct psp_guest_status data;
	int ret;

	if (!sev_guest(vm))
		return -ENOTTY;
	memset(&data, 0, sizeof(data));
	data.handle = vm->sev.handle;
	ret = sev_issue_cmd(vm, c, PSP_CMD_GUEST_STATUS, &data, NULL,
			    &cmd->error);
	if (ret)
		return ret;
	params.policy = data.policy;
	params.state = data.state;
	params.handle = data.handle;
	if (copy_to_user(c, cmd->data, &params, sizeof(params)))
		ret = -EFAULT;
	return ret;
}

static int dbg_cmd(struct kvm_vm *vm, const struct kvm_caller *c,
		   uint64_t src, uint64_t dst, uint32_t len, bool enc,
		   struct kmem *k, uint32_t *error)
{
	struct psp_dbg d = { vm->sev.handle, 0, src, dst, len };

	return sev_issue_cmd(vm, c, enc ? PSP_CMD_DBG_ENCRYPT :
					  PSP_CMD_DBG_DECRYPT,
			     &d, k, error);
}

/* __sev_dbg_decrypt(): reading more than asked is safe here. */
static int dbg_decrypt(struct kvm_vm *vm, const struct kvm_caller *c,
		       uint64_t src, uint64_t dst, uint32_t sz, struct kmem *k,
		       uint32_t *error)
{
	uint32_t off = src & 15;

	return dbg_cmd(vm, c, src & ~15ull, dst, (sz + off + 15) & ~15u, false,
		       k, error);
}

/* __sev_dbg_decrypt_user(): a bounce page when anything is unaligned. */
static int dbg_decrypt_user(struct kvm_vm *vm, const struct kvm_caller *c,
			    uint64_t paddr, uint64_t dst_uaddr,
			    uint64_t dst_paddr, uint32_t size,
			    uint32_t *error)
{
	uint8_t *tpage = NULL;
	struct kmem k;
	int ret;

	kmem_init(&k, c);
	if ((dst_paddr | paddr | size) & 15) {
		tpage = calloc(1, PAGE_SIZE + 32);
		if (!tpage)
			return -ENOMEM;
		dst_paddr = kmem_pa(&k, tpage, PAGE_SIZE + 32);
	}
	ret = dbg_decrypt(vm, c, paddr, dst_paddr, size, &k, error);
	if (!ret && tpage &&
	    copy_to_user(c, dst_uaddr, tpage + (paddr & 15), size))
		ret = -EFAULT;
	free(tpage);
	return ret;
}

/*
 * __sev_dbg_encrypt_user(): bounce an unaligned source; read-modify-write
 * an unaligned destination or length, with the kernel's length rounding
 * (round_up(size, 16), not counting the destination offset).
 */
static int dbg_encrypt_user(struct kvm_vm *vm, const struct kvm_caller *c,
			    uint64_t paddr, uint64_t vaddr, uint64_t dst_paddr,
			    uint64_t dst_vaddr, uint32_t size, uint32_t *error)
{
	uint8_t *src_tpage = NULL, *dst_tpage = NULL;
	uint32_t len = size;
	struct kmem k;
	int ret = -ENOMEM;

	kmem_init(&k, c);
	if (vaddr & 15) {
		src_tpage = calloc(1, PAGE_SIZE);
		if (!src_tpage)
			return -ENOMEM;
		if (copy_from_user(c, src_tpage, vaddr, size)) {
			ret = -EFAULT;
			goto out;
		}
		paddr = kmem_pa(&k, src_tpage, PAGE_SIZE);
	}
	if ((dst_vaddr | size) & 15) {
		uint32_t off = dst_paddr & 15;

		dst_tpage = calloc(1, PAGE_SIZE + 32);
		if (!dst_tpage)
			goto out;
		ret = dbg_decrypt(vm, c, dst_paddr,
				  kmem_pa(&k, dst_tpage, PAGE_SIZE + 32), size,
				  &k, error);
		if (ret)
			goto out;
		if (src_tpage)
			memcpy(dst_tpage + off, src_tpage, size);
		else if (copy_from_user(c, dst_tpage + off, vaddr, size)) {
			ret = -EFAULT;
			goto out;
		}
		paddr = kmem_pa(&k, dst_tpage, PAGE_SIZE + 32);
		dst_paddr &= ~15ull;
		len = (size + 15) & ~15u;
	}
	ret = dbg_cmd(vm, c, paddr, dst_paddr, len, true, &k, error);
out:
	free(src_tpage);
	free(dst_tpage);
	return ret;
}

/*
 * §4.8: EINVAL for a zero or wrapping length or a NULL destination; then
 * page by page, pinning source (read) and destination (write), the chunk
 * bounded by the source page (Q10).
 */
int sev_dbg_crypt(struct kvm_vm *vm, const struct kvm_caller *c,
		  struct sev_cmd *cmd, bool dec)
{
	struct kvm_sev_dbg debug;
	uint64_t vaddr, end, dst_vaddr, size, n_src, n_dst;
	int ret = 0;

	if (!sev_guest(vm))
		return -ENOTTY;
	if (copy_from_user(c, &debug, cmd->data, sizeof(debug)))
		return -EFAULT;
	if (!debug.len || debug.src_uaddr + debug.len < debug.src_uaddr)
		return -EINVAL;
	if (!debug.dst_uaddr)
		return -EINVAL;
	vaddr = debug.src_uaddr;
	size = debug.len;
	end = vaddr + size;
	dst_vaddr = debug.dst_uaddr;
	while (vaddr < end) {
		uint64_t s_off = vaddr & ~PAGE_MASK, len;

		ret = sev_pin_memory(vm, c, vaddr & PAGE_MASK, PAGE_SIZE, false,
				     &n_src);
		if (ret)
			return ret;
		ret = sev_pin_memory(vm, c, dst_vaddr & PAGE_MASK, PAGE_SIZE,
				     true, &n_dst);
		if (ret) {
			sev_unpin_memory(vm, n_src);
			return ret;
		}
		len = PAGE_SIZE - s_off < size ? PAGE_SIZE - s_off : size;
		if (dec)
			ret = dbg_decrypt_user(vm, c, vaddr, dst_vaddr,
					       dst_vaddr, (uint32_t)len,
					       &cmd->error);
		else
			ret = dbg_encrypt_user(vm, c, vaddr, vaddr, dst_vaddr,
					       dst_vaddr, (uint32_t)len,
					       &cmd->error);
		sev_unpin_memory(vm, n_src);
		sev_unpin_memory(vm, n_dst);
		if (ret)
			break;
		vaddr += len;
		dst_vaddr += len;
		size -= len;
	}
	return ret;
}
