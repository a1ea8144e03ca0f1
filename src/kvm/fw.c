// SPDX-License-Identifier: MIT
/*
 * How KVM reaches the firmware and the caller's memory: kernel buffers
 * handed to the PSP by "physical address", /dev/sev fd resolution, and
 * page pinning with its accounting (spec §1.2 plumbing, §4 helpers).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvm_internal.h"

/*
 * Kernel buffers get addresses with bit 62 set, far above any user
 * address and any C-bit, so one accessor serves both: the firmware sees a
 * single physical address space as it does on hardware.
 */
#define KBUF_BASE (1ull << 62)
#define KBUF_SHIFT 40
#define KBUF_OFF_MASK ((1ull << KBUF_SHIFT) - 1)

static int kmem_locate(struct kmem *k, uint64_t pa, size_t len, uint8_t **p)
{
	unsigned int i = (pa >> KBUF_SHIFT) & 0xff;
	uint64_t off = pa & KBUF_OFF_MASK;

	if ((int)i >= k->n || off > k->buf[i].len ||
	    len > k->buf[i].len - off)
		return -EFAULT;
	*p = k->buf[i].p + off;
	return 0;
}

static int kmem_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
	struct kmem *k = ctx;
	uint8_t *p;

	if (!(pa & KBUF_BASE))
		return k->user->ops->read(k->user->ctx, pa, buf, len);
	if (kmem_locate(k, pa, len, &p))
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

static int kmem_write(void *ctx, uint64_t pa, const void *buf, size_t len)
{
	struct kmem *k = ctx;
	uint8_t *p;

	if (!(pa & KBUF_BASE))
		return k->user->ops->write(k->user->ctx, pa, buf, len);
	if (kmem_locate(k, pa, len, &p))
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}

static const struct psp_mem_ops kmem_ops = {
	.read = kmem_read,
	.write = kmem_write,
};

void kmem_init(struct kmem *k, const struct kvm_caller *c)
{
	memset(k, 0, sizeof(*k));
	k->mem.ops = &kmem_ops;
	k->mem.ctx = k;
	k->user = c->mem;
}

uint64_t kmem_pa(struct kmem *k, void *p, size_t len)
{
	int i = k->n++;

	k->buf[i].p = p;
	k->buf[i].len = len;
	return KBUF_BASE | (uint64_t)i << KBUF_SHIFT;
}

static int fw_call(struct kvm_host *host, unsigned int cmd, void *data,
		   struct kmem *k, uint32_t *error)
{
	int err = 0, ret;

	ret = ccp_do_cmd(host->ccp, cmd, data, k ? &k->mem : NULL, &err);
	if (error)
		*error = (uint32_t)err;
	return ret;
}

/* __sev_issue_cmd(): the fd is resolved in the caller on every call. */
int sev_issue_cmd_fd(struct kvm_host *host, const struct kvm_caller *c,
		     int fd, unsigned int cmd, void *data, struct kmem *k,
		     uint32_t *error)
{
	if (c->sev_fd(c->ctx, fd))
		return -EBADF;
	return fw_call(host, cmd, data, k, error);
}

int sev_issue_cmd(struct kvm_vm *vm, const struct kvm_caller *c,
		  unsigned int cmd, void *data, struct kmem *k,
		  uint32_t *error)
{
	return sev_issue_cmd_fd(vm->host, c, vm->sev.fd, cmd, data, k, error);
}

int sev_do_cmd(struct kvm_host *host, unsigned int cmd, void *data,
	       uint32_t *error)
{
	return fw_call(host, cmd, data, NULL, error);
}

int copy_from_user(const struct kvm_caller *c, void *dst, uint64_t uaddr,
		   size_t len)
{
	if (!len)
		return 0;
	return c->mem->ops->read(c->mem->ctx, uaddr, dst, len) ? -EFAULT : 0;
}

int copy_to_user(const struct kvm_caller *c, uint64_t uaddr, const void *src,
		 size_t len)
{
	if (!len)
		return 0;
	return c->mem->ops->write(c->mem->ctx, uaddr, src, len) ? -EFAULT : 0;
}

int psp_copy_user_blob(const struct kvm_caller *c, uint64_t uaddr,
		       uint32_t len, void **out)
{
	void *blob;

	if (!uaddr || !len || len > SEV_FW_BLOB_MAX_SIZE)
		return -EINVAL;
	blob = malloc(len);
	if (!blob)
		return -ENOMEM;
	if (copy_from_user(c, blob, uaddr, len)) {
		free(blob);
		return -EFAULT;
	}
	*out = blob;
	return 0;
}

/*
 * sev_pin_memory() (6.12): EINVAL for an empty or wrapping range or more
 * than INT_MAX pages; ENOMEM over RLIMIT_MEMLOCK without CAP_IPC_LOCK, or
 * when the pages cannot be pinned (not mapped, or read-only for a write
 * pin).  There is no total-RAM check: a page array too big to allocate is
 * ENOMEM there too.  Caller holds vm->lock.
 */
int sev_pin_memory(struct kvm_vm *vm, const struct kvm_caller *c,
		   uint64_t uaddr, uint64_t len, bool write, uint64_t *npages)
{
	uint64_t first, last, n, locked, limit;

	if (!len || uaddr + len < uaddr)
		return -EINVAL;
	first = uaddr >> 12;
	last = (uaddr + len - 1) >> 12;
	n = last - first + 1;
	if (n > INT32_MAX)
		return -EINVAL;
	locked = vm->sev.pages_locked + n;
	limit = c->rlimit_memlock >> 12;
	if (locked > limit && !c->cap_ipc_lock)
		return -ENOMEM;
	if (c->pin && c->pin(c->ctx, uaddr & PAGE_MASK, n << 12, write))
		return -ENOMEM;
	vm->sev.pages_locked = locked;
	*npages = n;
	return 0;
}

void sev_unpin_memory(struct kvm_vm *vm, uint64_t npages)
{
	vm->sev.pages_locked -= npages;
}

/* sev_bind_asid(): ACTIVATE the new handle on the VM's ASID. */
int sev_bind_asid(struct kvm_vm *vm, uint32_t handle, uint32_t *error)
{
	struct psp_activate act = { handle, vm->sev.asid };

	return sev_do_cmd(vm->host, PSP_CMD_ACTIVATE, &act, error);
}

void sev_decommission(struct kvm_host *host, uint32_t handle)
{
	struct psp_handle d = { handle };

	sev_do_cmd(host, PSP_CMD_DECOMMISSION, &d, NULL);
}

/* DEACTIVATE under the read side of deactivate_lock, then DECOMMISSION. */
void sev_unbind_asid(struct kvm_vm *vm, uint32_t handle)
{
	struct psp_handle d = { handle };

	pthread_rwlock_rdlock(&vm->host->deactivate_lock);
	sev_do_cmd(vm->host, PSP_CMD_DEACTIVATE, &d, NULL);
	pthread_rwlock_unlock(&vm->host->deactivate_lock);
	sev_decommission(vm->host, handle);
}
