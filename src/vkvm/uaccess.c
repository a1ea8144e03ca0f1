// SPDX-License-Identifier: MIT
/*
 * User memory as the kernel sees it: an ioctl argument that does not
 * point at readable (or, for results, writable) memory is EFAULT, never a
 * crash.  process_vm_readv/writev on ourselves check exactly that.
 */
#include <errno.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vkvm_internal.h"

int vk_copy_in(void *dst, const void *src, size_t len)
{
	struct iovec l = { dst, len }, r = { (void *)src, len };

	if (!len)
		return 0;
	return process_vm_readv(vk_self(), &l, 1, &r, 1, 0) == (ssize_t)len ?
		       0 :
		       -EFAULT;
}

int vk_copy_out(void *dst, const void *src, size_t len)
{
	struct iovec l = { (void *)src, len }, r = { dst, len };

	if (!len)
		return 0;
	return process_vm_writev(vk_self(), &l, 1, &r, 1, 0) == (ssize_t)len ?
		       0 :
		       -EFAULT;
}
