// SPDX-License-Identifier: MIT
/* DBG_DECRYPT, DBG_ENCRYPT and COPY (firmware spec §9.18, §9.33). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "psp_internal.h"

#define DBG_CHUNK (1u << 20)

/* Move len bytes, decrypting the source and/or encrypting the destination. */
static int move(struct psp *psp, const struct psp_guest *g,
		const struct psp_mem *mem, uint64_t src, uint64_t dst,
		uint32_t len, bool src_private, bool dst_private)
{
	size_t cap = len < DBG_CHUNK ? len : DBG_CHUNK;
	uint8_t *buf = malloc(cap);
	uint32_t done = 0;
	int st = SEV_RET_SUCCESS;

	if (!buf)
		return SEV_RET_RESOURCE_LIMIT;
	while (done < len && !st) {
		size_t n = len - done < cap ? len - done : cap;
		int r = src_private ?
				psp_guest_read(psp, g, mem, src + done, buf, n) :
				psp_read(psp, mem, src + done, buf, n);

		if (!r)
			r = dst_private ? psp_guest_write(psp, g, mem,
							  dst + done, buf, n) :
					  psp_write(psp, mem, dst + done, buf,
						    n);
		if (r)
			st = SEV_RET_INVALID_ADDRESS;
		done += (uint32_t)n;
	}
	psp->bytes_moved += done;
	crypto_wipe(buf, cap);
	free(buf);
	return st;
}

static int check_xfer(struct psp *psp, const struct psp_guest *g,
		      uint64_t src, uint64_t dst, uint32_t len)
{
	if (!g->active)
		return SEV_RET_INACTIVE;
	if (!len || !psp_aligned16(len))
		return SEV_RET_INVALID_LEN;
	if (!psp_aligned16(src) || !psp_aligned16(dst))
		return SEV_RET_INVALID_ADDRESS;
	return SEV_RET_SUCCESS;
}

static int cmd_dbg(struct psp *psp, struct psp_dbg *b,
		   const struct psp_mem *mem, bool decrypt)
{
	struct psp_guest *g;
	int st = psp_guest_lookup(psp, b->handle, &g);

	if (st)
		return st;
	if (g->policy & SEV_POLICY_NODBG)
		return SEV_RET_POLICY_FAILURE;
	st = check_xfer(psp, g, b->src_paddr, b->dst_paddr, b->length);
	if (st)
		return st;
	return move(psp, g, mem, b->src_paddr, b->dst_paddr, b->length, decrypt,
		    !decrypt);
}

/* Ciphertext moves to a new address and is re-encrypted for its tweak. */
static int cmd_copy(struct psp *psp, struct psp_copy *b,
		    const struct psp_mem *mem)
{
	struct psp_guest *g;
	int st = psp_guest_lookup(psp, b->handle, &g);

	if (st)
		return st;
	st = check_xfer(psp, g, b->src_paddr, b->dst_paddr, b->length);
	if (st)
		return st;
	return move(psp, g, mem, b->src_paddr, b->dst_paddr, b->length, true,
		    true);
}

int psp_dbg_cmd(struct psp *psp, unsigned int cmd, void *buf,
		const struct psp_mem *mem)
{
	switch (cmd) {
	case PSP_CMD_DBG_DECRYPT:
		return cmd_dbg(psp, buf, mem, true);
	case PSP_CMD_DBG_ENCRYPT:
		return cmd_dbg(psp, buf, mem, false);
	case PSP_CMD_COPY:
		return cmd_copy(psp, buf, mem);
	}
	return -1;
}
