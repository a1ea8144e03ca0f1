/* SPDX-License-Identifier: MIT */
/*
 * A bounded "user memory" for fuzz targets: addresses from FUZZ_BASE on
 * map onto the input buffer, everything else faults.  Fuzzed pointers can
 * then never reach the fuzzer's own memory.
 */
#ifndef SOFTSEV_FUZZ_MEM_H
#define SOFTSEV_FUZZ_MEM_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "psp.h"

#define FUZZ_BASE 0x100000000ull

struct fuzz_mem {
	struct psp_mem mem;
	uint8_t *buf;
	size_t len;
};

static int fm_locate(struct fuzz_mem *m, uint64_t addr, size_t len,
		     uint8_t **p)
{
	if (addr < FUZZ_BASE || addr - FUZZ_BASE > m->len ||
	    len > m->len - (addr - FUZZ_BASE))
		return -EFAULT;
	*p = m->buf + (addr - FUZZ_BASE);
	return 0;
}

static int fm_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	uint8_t *p;

	if (fm_locate(ctx, addr, len, &p))
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

static int fm_write(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	uint8_t *p;

	if (fm_locate(ctx, addr, len, &p))
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}

static const struct psp_mem_ops fm_ops = { fm_read, fm_write };

static inline void fuzz_mem_init(struct fuzz_mem *m, uint8_t *buf, size_t len)
{
	m->mem.ops = &fm_ops;
	m->mem.ctx = m;
	m->buf = buf;
	m->len = len;
}

/* Turn a fuzzed 64-bit value into an address that usually lands inside. */
static inline uint64_t fuzz_addr(uint64_t v, size_t len)
{
	if (v & 1ull << 63)
		return v; /* sometimes anything at all */
	return FUZZ_BASE + (len ? v % (len + 1) : 0);
}

#endif
