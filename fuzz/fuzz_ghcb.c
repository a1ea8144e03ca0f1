// SPDX-License-Identifier: MIT
/*
 * Fuzz the shim's GHCB protocol: the decoder and scratch check on a fuzzed
 * GHCB page, then the VMGEXIT handler on the fake of vkvm's exit services
 * (tests/unit/ghcb_fake.h), with every exit it makes completed as the
 * next KVM_RUN would, the VMM's data taken from the input.
 *
 * Input: the GHCB page (4096 bytes), 16 control bytes (0: protocol
 * version 1 or 2; 1: the GHCB MSR is the page, else 8..15 are its value;
 * 2: the vCPU), then guest memory from GPA 0x8000 on, and the data the
 * VMM answers exits with, both from the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ghcb_fake.h"

#define GPA 0x2000u
#define MEM 0x8000u

static struct vkvm_gexit g;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void vmm_answers(const uint8_t *rest, size_t n)
{
	if (!n)
		return;
	for (size_t i = 0; i < sizeof(g.pio); i++)
		g.pio[i] = rest[i % n];
	memcpy(g.run.mmio.data, rest, n < 8 ? n : 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t ctl[16] = { 0 };
	const uint8_t *rest = NULL;
	size_t n = 0, i;
	struct shim_es_vm *vm;
	struct ghcb_in in;
	uint64_t where, len;
	uint8_t version;
	int ret;

	memset(&g, 0, sizeof(g));
	memcpy(g.mem + GPA, data, size < 4096 ? size : 4096);
	if (size > 4096)
		memcpy(ctl, data + 4096, size - 4096 < 16 ? size - 4096 : 16);
	if (size > 4096 + 16) {
		rest = data + 4096 + 16;
		n = size - 4096 - 16;
		memcpy(g.mem + MEM, rest,
		       n < FAKE_MEM - MEM ? n : FAKE_MEM - MEM);
	}
	version = (ctl[0] & 1) ? 2 : 1;

	/* the pure half */
	ghcb_decode(g.mem + GPA, version, &in);
	ghcb_scratch_check(GPA, in.scratch, in.info_2, version, &where, &len);

	/* the handler, each exit completed until the guest resumes */
	vm = shim_es_new(version, 51);
	if (!vm)
		return 0;
	g.vcpu_id = ctl[2] % 4;
	if (ctl[1] & 1)
		g.gmsr = GPA;
	else
		memcpy(&g.gmsr, ctl + 8, 8);
	ret = shim_vmgexit(vm, &g);
	for (i = 0; ret == 0 && g.complete; i++) {
		vmm_answers(rest, n);
		ret = fake_complete(&g);
		if (i > 100000)
			abort(); /* an exit that never completes */
	}
	shim_es_free(vm);
	return 0;
}
