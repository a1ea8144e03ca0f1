// SPDX-License-Identifier: MIT
/*
 * KVM_IOEVENTFD: a guest write to a registered port or MMIO address
 * signals an eventfd instead of exiting to userspace (virt/kvm/eventfd.c,
 * with its checks and errnos).  The VM keeps its own reference to each
 * eventfd, as KVM does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vkvm_internal.h"

#ifndef KVM_IOEVENTFD_VALID_FLAG_MASK
#define KVM_IOEVENTFD_VALID_FLAG_MASK 0xfu
#endif

struct vk_ioeventfd {
	struct vk_ioeventfd *next;
	uint64_t addr, datamatch;
	uint32_t len;
	bool pio, wildcard;
	int fd; /* vkvm's own dup of the eventfd */
	dev_t dev;
	ino_t ino;
};

/* eventfd_ctx_fdget(): EBADF for no file, EINVAL for another kind. */
static int eventfd_check(int fd, struct stat *st)
{
	char path[64], target[64];
	ssize_t n;

	if (fd < 0 || fstat(fd, st))
		return -EBADF;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return -EBADF;
	target[n] = 0;
	return strcmp(target, "anon_inode:[eventfd]") ? -EINVAL : 0;
}

/* ioeventfd_check_collision() */
static bool collides(struct vkvm_vm *vm, const struct vk_ioeventfd *n)
{
	const struct vk_ioeventfd *p;

	for (p = vm->ioeventfds; p; p = p->next)
		if (p->pio == n->pio && p->addr == n->addr &&
		    (!p->len || !n->len ||
		     (p->len == n->len &&
		      (p->wildcard || n->wildcard ||
		       p->datamatch == n->datamatch))))
			return true;
	return false;
}

static long assign(struct vkvm_vm *vm, const struct kvm_ioeventfd *a)
{
	struct vk_ioeventfd *n;
	struct stat st;
	int ret;

	/* kvm_assign_ioeventfd(): natural sizes, or 0 for any length */
	if (a->len != 0 && a->len != 1 && a->len != 2 && a->len != 4 &&
	    a->len != 8)
		return -EINVAL;
	if (a->addr + a->len < a->addr)
		return -EINVAL;
	if (a->flags & ~KVM_IOEVENTFD_VALID_FLAG_MASK)
		return -EINVAL;
	if (!a->len && (a->flags & KVM_IOEVENTFD_FLAG_DATAMATCH))
		return -EINVAL;
	ret = eventfd_check(a->fd, &st);
	if (ret)
		return ret;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->addr = a->addr;
	n->len = a->len;
	n->pio = a->flags & KVM_IOEVENTFD_FLAG_PIO;
	n->wildcard = !(a->flags & KVM_IOEVENTFD_FLAG_DATAMATCH);
	n->datamatch = n->wildcard ? 0 : a->datamatch;
	n->dev = st.st_dev;
	n->ino = st.st_ino;
	pthread_mutex_lock(&vm->lock);
	if (collides(vm, n)) {
		pthread_mutex_unlock(&vm->lock);
		free(n);
		return -EEXIST;
	}
	n->fd = fcntl(a->fd, F_DUPFD_CLOEXEC, 0);
	if (n->fd < 0) {
		pthread_mutex_unlock(&vm->lock);
		free(n);
		return -EMFILE;
	}
	n->next = vm->ioeventfds;
	vm->ioeventfds = n;
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

/* kvm_deassign_ioeventfd_idx(): the same eventfd, address, length, match */
static long deassign(struct vkvm_vm *vm, const struct kvm_ioeventfd *a)
{
	bool wildcard = !(a->flags & KVM_IOEVENTFD_FLAG_DATAMATCH);
	struct vk_ioeventfd **pp, *p;
	struct stat st;
	int ret = eventfd_check(a->fd, &st);

	if (ret)
		return ret;
	ret = -ENOENT;
	pthread_mutex_lock(&vm->lock);
	for (pp = &vm->ioeventfds; (p = *pp); pp = &p->next) {
		if (p->pio != !!(a->flags & KVM_IOEVENTFD_FLAG_PIO) ||
		    p->dev != st.st_dev || p->ino != st.st_ino ||
		    p->addr != a->addr || p->len != a->len ||
		    p->wildcard != wildcard)
			continue;
		if (!p->wildcard && p->datamatch != a->datamatch)
			continue;
		*pp = p->next;
		close(p->fd);
		free(p);
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

long vk_ioeventfd(struct vkvm_vm *vm, void *arg)
{
	struct kvm_ioeventfd a;

	if (vk_copy_in(&a, arg, sizeof(a)))
		return -EFAULT;
	if (a.flags & KVM_IOEVENTFD_FLAG_DEASSIGN)
		return deassign(vm, &a);
	return assign(vm, &a);
}

/* ioeventfd_in_range(): signal the eventfd of a matching write. */
bool vk_ioeventfd_signal(struct vkvm_vm *vm, bool pio, uint64_t addr,
			 uint32_t len, uint64_t val)
{
	const struct vk_ioeventfd *p;
	uint64_t one = 1, v = val;
	bool hit = false;

	if (!__atomic_load_n(&vm->ioeventfds, __ATOMIC_ACQUIRE))
		return false;
	if (len < 8)
		v &= (1ull << (8 * len)) - 1;
	pthread_mutex_lock(&vm->lock);
	for (p = vm->ioeventfds; p && !hit; p = p->next) {
		if (p->pio != pio || p->addr != addr)
			continue;
		if (p->len && (len != p->len ||
			       (!p->wildcard && v != p->datamatch)))
			continue;
		hit = write(p->fd, &one, sizeof(one)) == sizeof(one);
	}
	pthread_mutex_unlock(&vm->lock);
	return hit;
}

void vk_ioeventfd_free(struct vkvm_vm *vm)
{
	struct vk_ioeventfd *p;

	while ((p = vm->ioeventfds)) {
		vm->ioeventfds = p->next;
		close(p->fd);
		free(p);
	}
}
