// SPDX-License-Identifier: MIT
/*
 * Platform models: each EPYC generation's ASID count, usual SEV-ES split,
 * C-bit position, root key size and firmware API (clients spec §4.3,
 * firmware spec §12.2).  API versions of Naples and Rome are those their
 * real PEK certificates carry; builds and the later APIs are
 * representative values (docs/fidelity.md F28).
 */
#include <errno.h>
#include <string.h>

#include "psp.h"

struct model {
	const char *name;
	uint8_t api_major, api_minor, build;
	unsigned int max_asid, min_sev_asid, cbit, rsa_bits;
	bool es;
};

static const struct model models[] = {
	/* Naples: 15 ASIDs, no SEV-ES, RSA-2048 ARK/ASK. */
	{ "naples", 0, 16, 48, 15, 1, 47, 2048, false },
	/* Rome: 509 ASIDs; a BIOS split at 10 gives 9 SEV-ES ASIDs. */
	{ "rome", 0, 22, 3, 509, 10, 47, 4096, true },
	/* Milan: 509 ASIDs; the default split (1) leaves no SEV-ES. */
	{ "milan", 0, 24, 18, 509, 1, 51, 4096, true },
	/* Genoa and later: 1006 ASIDs, SEV 100-1006, SEV-ES 1-99. */
	{ "genoa", 1, 55, 21, 1006, 100, 51, 4096, true },
	{ "turin", 1, 57, 3, 1006, 100, 51, 4096, true },
};

int psp_config_model(struct psp_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
		const struct model *m = &models[i];

		if (strcmp(name, m->name))
			continue;
		cfg->api_major = m->api_major;
		cfg->api_minor = m->api_minor;
		cfg->build = m->build;
		cfg->max_asid = m->max_asid;
		cfg->min_sev_asid = m->min_sev_asid;
		cfg->cbit = m->cbit;
		cfg->rsa_bits = m->rsa_bits;
		cfg->es = m->es;
		cfg->max_guests = m->max_asid;
		return 0;
	}
	return -ENOENT;
}

const char *psp_model_names(void)
{
	return "naples, rome, milan, genoa, turin";
}
