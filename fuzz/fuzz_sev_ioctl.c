// SPDX-License-Identifier: MIT
/*
 * Fuzz the /dev/sev ioctl decoder (ccp_ioctl): a fuzzed sev_issue_cmd and
 * per-command user struct, with their pointers landing inside the input.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "ccp.h"
#include "fuzz_mem.h"

static struct ccp *ccp;

static void setup(void)
{
	struct psp_config cfg;
	struct ccp_config cc = { .init_on_probe = true };
	struct psp *psp;

	psp_config_default(&cfg);
	cfg.rsa_bits = 2048;
	if (psp_create(&cfg, &psp, NULL, 0) || ccp_create(psp, &cc, &ccp))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sev_issue_cmd in;
	struct fuzz_mem m;
	uint8_t *buf;
	uint64_t words[6];
	size_t i;

	if (!ccp)
		setup();
	if (size < sizeof(in) + 2 + sizeof(words))
		return 0;
	buf = malloc(size);
	memcpy(buf, data, size);
	fuzz_mem_init(&m, buf, size);
	/* The command struct lives at the start of the buffer; its data
	 * pointer, and the pointers inside the user struct it names, point
	 * back into the buffer. */
	memcpy(&in, buf, sizeof(in));
	in.cmd %= 16;
	in.data = fuzz_addr(in.data, size);
	memcpy(buf, &in, sizeof(in));
	memcpy(words, buf + sizeof(in) + 2, sizeof(words));
	for (i = 0; i < 6; i++)
		words[i] = fuzz_addr(words[i], size);
	memcpy(buf + sizeof(in) + 2, words, sizeof(words));
	ccp_ioctl(ccp, buf[sizeof(in)] & 1,
		  buf[sizeof(in) + 1] & 1 ? SEV_ISSUE_CMD : buf[3],
		  FUZZ_BASE, &m.mem);
	free(buf);
	return 0;
}
