// SPDX-License-Identifier: MIT
/*
 * Strict memory (issue 11, softsevd --strict-memory): on the emulated
 * KVM, an SEV guest's private pages hold ciphertext in the VMM's memory,
 * as on hardware, while the guest computes on plaintext in vkvm's private
 * view.  The shim only connects the two: vkvm says which ranges of the
 * view to fill or write back, the server's memory engine (VEK, the VMM's
 * address as tweak) moves them, both ends in this process.
 *
 * Synchronisation points, so that what a VMM can observe is ciphertext:
 *  - before KVM_RUN: memory the view has not filled yet (every memslot at
 *    the first run, new memslots later) is decrypted into it;
 *  - when KVM_RUN returns (an exit, EINTR, an error): the pages the guest
 *    wrote privately are encrypted back into the VMM's memory;
 *  - before every KVM_MEMORY_ENCRYPT_OP: the same write-back, so that the
 *    firmware (DBG_DECRYPT, SEND_UPDATE_DATA, …) reads current ciphertext;
 *  - after a command that wrote guest memory (LAUNCH_UPDATE_DATA,
 *    LAUNCH_SECRET, DBG_ENCRYPT, RECEIVE_UPDATE_DATA): that range is
 *    decrypted into the view again.
 * While a vCPU is inside KVM_RUN, the VMM's memory lags behind the pages
 * written in that run (docs/fidelity.md V27).
 */
#include <errno.h>
#include <string.h>

#include "kvm_compat.h"
#include "shim.h"
#include "vkvm.h"

struct sync {
	uint32_t vm_id;
	uint64_t dir;
};

/* One batch of vkvm's ranges: one request to the server. */
static int move(void *opaque, const struct vkvm_priv_range *r, int n)
{
	const struct sync *s = opaque;
	struct ss_priv_xfer x[64];
	struct ss_req req = { .op = SS_PRIV_SYNC,
			      .vm_id = s->vm_id,
			      .a1 = s->dir,
			      .a2 = (uint64_t)n };
	struct ss_rep rep;
	int i;

	if (n > 64)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		x[i].hva = r[i].hva;
		x[i].priv = (uintptr_t)r[i].priv;
		x[i].len = r[i].len;
	}
	req.arg = (uintptr_t)x;
	return shim_call(&req, -1, &rep, NULL);
}

bool shim_strict(void)
{
	const struct ss_rep *h = shim_host();

	return h && h->strict_memory;
}

/* From emu_platform(): the VM is SEV, its C-bit selects the view. */
void shim_strict_platform(int vmfd, unsigned int cbit)
{
	if (shim_strict())
		vkvm_set_private_view(vmfd, 1ull << cbit);
}

static int write_back(int fd, uint32_t vm_id)
{
	struct sync s = { vm_id, SS_PRIV_ENCRYPT };

	return vkvm_private_dirty(fd, move, &s);
}

static int fill(int fd, uint32_t vm_id)
{
	struct sync s = { vm_id, SS_PRIV_DECRYPT };

	return vkvm_private_fill(fd, move, &s);
}

/* KVM_RUN on a vCPU of a VM with a private view. */
int shim_strict_run(int fd, const struct fdi *e, void *arg)
{
	int ret, err, sync;

	sync = fill(fd, e->vm_id);
	if (sync < 0) {
		errno = -sync;
		return -1;
	}
	ret = kvm_call(fd, e, KVM_RUN, arg);
	err = errno;
	sync = write_back(fd, e->vm_id);
	if (sync < 0 && !ret) {
		errno = -sync;
		return -1;
	}
	errno = err;
	return ret;
}

/* Before a KVM_MEMORY_ENCRYPT_OP: the firmware reads current ciphertext. */
int shim_strict_before_op(int fd, const struct fdi *vm)
{
	if (!vkvm_private_on(fd))
		return 0;
	return write_back(fd, vm->vm_id);
}

/* After one: what the firmware wrote into guest memory, into the view. */
void shim_strict_after_op(int fd, const struct fdi *vm, void *arg)
{
	struct sync s = { vm->vm_id, SS_PRIV_DECRYPT };
	struct kvm_sev_cmd cmd;
	uint64_t at = 0, len = 0;
	union {
		struct kvm_sev_launch_update_data upd;
		struct kvm_sev_launch_secret sec;
		struct kvm_sev_dbg dbg;
		struct kvm_sev_receive_update_data rcv;
	} u;

	if (!vkvm_private_on(fd) || shim_copy_in(&cmd, arg, sizeof(cmd)))
		return;
	switch (cmd.id) {
	case KVM_SEV_LAUNCH_UPDATE_DATA:
		if (!shim_copy_in(&u.upd, (void *)(uintptr_t)cmd.data,
				  sizeof(u.upd))) {
			at = u.upd.uaddr;
			len = u.upd.len;
		}
		break;
	case KVM_SEV_LAUNCH_SECRET:
		if (!shim_copy_in(&u.sec, (void *)(uintptr_t)cmd.data,
				  sizeof(u.sec))) {
			at = u.sec.guest_uaddr;
			len = u.sec.guest_len;
		}
		break;
	case KVM_SEV_DBG_ENCRYPT:
		if (!shim_copy_in(&u.dbg, (void *)(uintptr_t)cmd.data,
				  sizeof(u.dbg))) {
			at = u.dbg.dst_uaddr;
			len = u.dbg.len;
		}
		break;
	case KVM_SEV_RECEIVE_UPDATE_DATA:
		if (!shim_copy_in(&u.rcv, (void *)(uintptr_t)cmd.data,
				  sizeof(u.rcv))) {
			at = u.rcv.guest_uaddr;
			len = u.rcv.guest_len;
		}
		break;
	default:
		return;
	}
	if (len && !vkvm_private_lookup(fd, at, len, move, &s))
		vkvm_private_written(fd);
}
