/* SPDX-License-Identifier: MIT */
/*
 * A "user memory" accessor over this very process, through
 * process_vm_readv/writev: unmapped addresses give a real EFAULT, as
 * copy_from_user does, instead of crashing the test.
 */
#ifndef SOFTSEV_USER_MEM_H
#define SOFTSEV_USER_MEM_H

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "psp.h"

static int um_xfer(uint64_t addr, void *buf, size_t len, int write)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };
	ssize_t n;

	if (!len)
		return 0;
	n = write ? process_vm_writev(getpid(), &local, 1, &remote, 1, 0) :
		    process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	return n == (ssize_t)len ? 0 : -EFAULT;
}

static int um_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return um_xfer(addr, buf, len, 0);
}

static int um_write(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	return um_xfer(addr, (void *)buf, len, 1);
}

static const struct psp_mem_ops um_ops = { um_read, um_write };
static const struct psp_mem user_mem = { &um_ops, NULL };

/* An address no copy can use: a page mapped with PROT_NONE and kept. */
static inline uint64_t um_bad_address(void)
{
	static void *hole;

	if (!hole)
		hole = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	return (uintptr_t)hole;
}

#endif
