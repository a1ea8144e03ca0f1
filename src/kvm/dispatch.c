// SPDX-License-Identifier: MIT
/*
 * KVM_MEMORY_ENCRYPT_OP (spec §1.2), INIT / ES_INIT / INIT2 (§1.5) and
 * KVM_MEMORY_ENCRYPT_{REG,UNREG}_REGION (§4.10).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvm_internal.h"

/* Only these reach a mirror (5b92b6ca92b6). */
static bool cmd_allowed_from_mirror(uint32_t id)
{
	return id == KVM_SEV_LAUNCH_UPDATE_VMSA || id == KVM_SEV_GUEST_STATUS ||
	       id == KVM_SEV_DBG_DECRYPT || id == KVM_SEV_DBG_ENCRYPT;
}

/* __sev_guest_init() (§1.5 steps 4–12). */
static int __sev_guest_init(struct kvm_vm *vm, const struct kvm_caller *c,
			    struct sev_cmd *cmd, struct kvm_sev_init *data,
			    unsigned long vm_type)
{
	struct kvm_sev_info *sev = &vm->sev;
	bool es_active = vm_type != KVM_X86_SEV_VM;
	uint64_t valid = es_active ? vm->host->cfg.vmsa_features : 0;
	int err = 0, ret;

	if (vm->created_vcpus)
		return -EINVAL;
	if (data->flags)
		return -EINVAL;
	if (data->vmsa_features & ~valid)
		return -EINVAL;
	if (data->ghcb_version > GHCB_VERSION_MAX ||
	    (!es_active && data->ghcb_version))
		return -EINVAL;
	if (es_active && !data->ghcb_version)
		data->ghcb_version = GHCB_VERSION_DEFAULT;
	if (sev->active)
		return -EINVAL;
	sev->active = true;
	sev->es_active = es_active;
	sev->vmsa_features = data->vmsa_features;
	sev->ghcb_version = data->ghcb_version;
	ret = sev_asid_new(vm, c);
	if (ret)
		goto e_no_asid;
	ret = ccp_platform_init(vm->host->ccp, &err);
	if (ret) {
		cmd->error = (uint32_t)err;
		/* The ASID goes to reclaim, not back to the free pool. */
		sev_asid_free(vm);
		sev->asid = 0;
		goto e_no_asid;
	}
	list_init(&sev->regions);
	list_init(&sev->mirrors);
	sev->need_init = false;
	return 0;
e_no_asid:
	sev->vmsa_features = 0;
	sev->es_active = false;
	sev->active = false;
	return ret;
}

/* KVM_SEV_INIT / KVM_SEV_ES_INIT: DEFAULT-type VMs only (v6.10+). */
static int sev_guest_init(struct kvm_vm *vm, const struct kvm_caller *c,
			  struct sev_cmd *cmd)
{
	struct kvm_sev_init data = { 0 };
	unsigned long type;

	if (vm->type != KVM_X86_DEFAULT_VM)
		return -EINVAL;
	type = cmd->id == KVM_SEV_INIT ? KVM_X86_SEV_VM : KVM_X86_SEV_ES_VM;
	/* KVM_SEV_ES_INIT has always used GHCB protocol version 1. */
	if (type == KVM_X86_SEV_ES_VM)
		data.ghcb_version = 1;
	return __sev_guest_init(vm, c, cmd, &data, type);
}

/* KVM_SEV_INIT2 (§1.5 steps 1–3). */
static int sev_guest_init2(struct kvm_vm *vm, const struct kvm_caller *c,
			   struct sev_cmd *cmd)
{
	struct kvm_sev_init data;

	if (!vm->sev.need_init)
		return -EINVAL;
	if (vm->type != KVM_X86_SEV_VM && vm->type != KVM_X86_SEV_ES_VM)
		return -EINVAL;
	if (copy_from_user(c, &data, cmd->data, sizeof(data)))
		return -EFAULT;
	return __sev_guest_init(vm, c, cmd, &data, vm->type);
}

/* *skip_copy: the kernel's "goto out" paths that write nothing back. */
static int dispatch(struct kvm_vm *vm, const struct kvm_caller *c,
		    struct sev_cmd *cmd, bool *skip_copy)
{
	switch (cmd->id) {
	case KVM_SEV_ES_INIT:
		if (!vm->host->sev_es_enabled) {
			*skip_copy = true;
			return -ENOTTY;
		}
		/* fall through */
	case KVM_SEV_INIT:
		return sev_guest_init(vm, c, cmd);
	case SOFTSEV_KVM_SEV_INIT2:
		return sev_guest_init2(vm, c, cmd);
	case KVM_SEV_LAUNCH_START:
		return sev_launch_start(vm, c, cmd);
	case KVM_SEV_LAUNCH_UPDATE_DATA:
		return sev_launch_update_data(vm, c, cmd);
	case KVM_SEV_LAUNCH_UPDATE_VMSA:
		return sev_launch_update_vmsa(vm, c, cmd);
	case KVM_SEV_LAUNCH_SECRET:
		return sev_launch_secret(vm, c, cmd);
	case KVM_SEV_LAUNCH_MEASURE:
		return sev_launch_measure(vm, c, cmd);
	case KVM_SEV_LAUNCH_FINISH:
		return sev_simple_cmd(vm, c, cmd, PSP_CMD_LAUNCH_FINISH);
	case KVM_SEV_SEND_START:
		return sev_send_start(vm, c, cmd);
	case KVM_SEV_SEND_UPDATE_DATA:
		return sev_send_update_data(vm, c, cmd);
	case KVM_SEV_SEND_FINISH:
		return sev_simple_cmd(vm, c, cmd, PSP_CMD_SEND_FINISH);
	case KVM_SEV_SEND_CANCEL:
		return sev_simple_cmd(vm, c, cmd, PSP_CMD_SEND_CANCEL);
	case KVM_SEV_RECEIVE_START:
		return sev_receive_start(vm, c, cmd);
	case KVM_SEV_RECEIVE_UPDATE_DATA:
		return sev_receive_update_data(vm, c, cmd);
	case KVM_SEV_RECEIVE_FINISH:
		return sev_simple_cmd(vm, c, cmd, PSP_CMD_RECEIVE_FINISH);
	case KVM_SEV_GUEST_STATUS:
		return sev_guest_status(vm, c, cmd);
	case KVM_SEV_DBG_DECRYPT:
		return sev_dbg_crypt(vm, c, cmd, true);
	case KVM_SEV_DBG_ENCRYPT:
		return sev_dbg_crypt(vm, c, cmd, false);
	case KVM_SEV_GET_ATTESTATION_REPORT:
		return sev_get_attestation_report(vm, c, cmd);
	/*
	 * No VM is SNP here (K14), so the SNP handlers stop at their first
	 * check, and the struct is still copied back: snp_launch_start()
	 * and snp_launch_finish() ENOTTY, snp_launch_update() EINVAL.
	 */
	case SOFTSEV_KVM_SEV_SNP_LAUNCH_START:
	case SOFTSEV_KVM_SEV_SNP_LAUNCH_FINISH:
		return -ENOTTY;
	case SOFTSEV_KVM_SEV_SNP_LAUNCH_UPDATE:
		return -EINVAL;
	}
	/* Unknown ids and SEND/RECEIVE_UPDATE_VMSA, CERT_EXPORT. */
	*skip_copy = true;
	return -EINVAL;
}

/*
 * sev_mem_enc_ioctl() (§1.2): generic EIO, ENOTTY without SEV, the NULL
 * probe, copy-in, kvm->lock, the mirror gate, the handler, then the whole
 * struct copied back (EFAULT overrides) except after early exits.
 */
int kvm_vm_mem_enc_op(struct kvm_vm *vm, const struct kvm_caller *c,
		      uint64_t arg)
{
	struct kvm_sev_cmd ucmd;
	struct sev_cmd cmd;
	bool skip_copy = false;
	int ret = kvm_vm_ioctl_check(vm, c);

	if (ret)
		return ret;
	if (!vm->host->sev_enabled)
		return -ENOTTY;
	if (!arg)
		return 0;
	if (copy_from_user(c, &ucmd, arg, sizeof(ucmd)))
		return -EFAULT;
	cmd.id = ucmd.id;
	cmd.data = ucmd.data;
	cmd.error = ucmd.error;
	cmd.sev_fd = ucmd.sev_fd;
	pthread_mutex_lock(&vm->lock);
	if (is_mirroring(vm) && !cmd_allowed_from_mirror(cmd.id)) {
		ret = -EINVAL;
		goto out;
	}
	ret = dispatch(vm, c, &cmd, &skip_copy);
	if (skip_copy)
		goto out;
	ucmd.error = cmd.error;
	if (copy_to_user(c, arg, &ucmd, sizeof(ucmd)))
		ret = -EFAULT;
out:
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

/*
 * KVM_MEMORY_ENCRYPT_REG_REGION [NEW]: copy-in (x86.c), then under
 * kvm->lock: ENOTTY without SEV, EINVAL on a mirror, pin long-term.
 */
int kvm_vm_reg_region(struct kvm_vm *vm, const struct kvm_caller *c,
		      uint64_t arg)
{
	struct kvm_enc_region range;
	struct kvm_region *region;
	int ret = kvm_vm_ioctl_check(vm, c);

	if (ret)
		return ret;
	if (copy_from_user(c, &range, arg, sizeof(range)))
		return -EFAULT;
	if (!vm->host->sev_enabled)
		return -ENOTTY;
	pthread_mutex_lock(&vm->lock);
	ret = -ENOTTY;
	if (!sev_guest(vm))
		goto out;
	ret = -EINVAL;
	if (is_mirroring(vm))
		goto out;
	ret = -ENOMEM;
	region = calloc(1, sizeof(*region));
	if (!region)
		goto out;
	/*
	 * sev_mem_enc_register_region(): FOLL_LONGTERM without FOLL_WRITE,
	 * so a read-only mapping registers.
	 */
	ret = sev_pin_memory(vm, c, range.addr, range.size, false,
			     &region->npages);
	if (ret) {
		free(region);
		goto out;
	}
	region->uaddr = range.addr;
	region->size = range.size;
	list_add_tail(&region->list, &vm->sev.regions);
out:
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

/*
 * UNREG: the mirror check comes before kvm->lock; then ENOTTY without SEV
 * and EINVAL unless the first exact (addr, size) match exists.
 */
int kvm_vm_unreg_region(struct kvm_vm *vm, const struct kvm_caller *c,
			uint64_t arg)
{
	struct kvm_enc_region range;
	struct list_head *pos, *tmp;
	int ret = kvm_vm_ioctl_check(vm, c);

	if (ret)
		return ret;
	if (copy_from_user(c, &range, arg, sizeof(range)))
		return -EFAULT;
	if (!vm->host->sev_enabled)
		return -ENOTTY;
	if (is_mirroring(vm))
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	ret = -ENOTTY;
	if (!sev_guest(vm))
		goto out;
	ret = -EINVAL;
	list_for_each_safe(pos, tmp, &vm->sev.regions) {
		struct kvm_region *r = list_entry(pos, struct kvm_region, list);

		if (r->uaddr != range.addr || r->size != range.size)
			continue;
		sev_unpin_memory(vm, r->npages);
		list_del_init(&r->list);
		free(r);
		ret = 0;
		break;
	}
out:
	pthread_mutex_unlock(&vm->lock);
	return ret;
}
