// SPDX-License-Identifier: MIT
/*
 * KVM_REGISTER_COALESCED_MMIO / KVM_UNREGISTER_COALESCED_MMIO
 * (virt/kvm/coalesced_mmio.c): zones with the kernel's checks and
 * errnos.  KVM appends a write inside a zone to a ring that one page,
 * shared by every vCPU's mapping, holds -- and exits as usual when the
 * ring has no room.  vkvm's vCPU files are separate memfds, so there is
 * no page they could share: every write exits as if the ring were full,
 * which a VMM handles already (docs/fidelity.md V22).  The zones are
 * kept so that registering and unregistering answer as KVM does.
 */
#include <errno.h>
#include <stdlib.h>

#include "vkvm_internal.h"

#define NR_IOBUS_DEVS 1000 /* kvm_io_bus_register_dev(): -ENOSPC beyond */

/* coalesced_mmio_in_range(): [addr, addr + len) inside the zone */
static bool in_range(const struct kvm_coalesced_mmio_zone *z, uint64_t addr,
		     uint32_t len)
{
	if (addr + len < addr)
		return false;
	return addr >= z->addr && addr + len <= z->addr + z->size;
}

static long reg(struct vkvm_vm *vm, const struct kvm_coalesced_mmio_zone *z)
{
	struct kvm_coalesced_mmio_zone *p;
	int i, on_bus = 0;
	long ret = 0;

	pthread_mutex_lock(&vm->lock);
	for (i = 0; i < vm->nzones; i++)
		on_bus += vm->zones[i].pio == z->pio;
	if (on_bus >= NR_IOBUS_DEVS) { /* the port and MMIO buses apart */
		ret = -ENOSPC;
		goto out;
	}
	p = realloc(vm->zones, (size_t)(vm->nzones + 1) * sizeof(*p));
	if (!p) {
		ret = -ENOMEM;
		goto out;
	}
	vm->zones = p;
	vm->zones[vm->nzones++] = *z;
out:
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

/* Every zone of that kind the range lies in goes; always 0. */
static long unreg(struct vkvm_vm *vm, const struct kvm_coalesced_mmio_zone *z)
{
	int i, n = 0;

	pthread_mutex_lock(&vm->lock);
	for (i = 0; i < vm->nzones; i++) {
		const struct kvm_coalesced_mmio_zone *d = &vm->zones[i];

		if (d->pio == z->pio && in_range(d, z->addr, z->size))
			continue;
		vm->zones[n++] = *d;
	}
	vm->nzones = n;
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

long vk_coalesced(struct vkvm_vm *vm, unsigned long req, void *arg)
{
	struct kvm_coalesced_mmio_zone z;

	if (vk_copy_in(&z, arg, sizeof(z)))
		return -EFAULT;
	if (z.pio != 1 && z.pio != 0)
		return -EINVAL;
	if (req == KVM_REGISTER_COALESCED_MMIO)
		return reg(vm, &z);
	return unreg(vm, &z);
}
