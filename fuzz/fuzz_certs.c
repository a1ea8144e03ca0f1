// SPDX-License-Identifier: MIT
/*
 * Fuzz the certificate and session parsers: AMD and SEV certificates,
 * chains, and LAUNCH_START with a fuzzed GODH certificate and session
 * blob (ECDH, unwrap, MAC checks).
 */
#include <stdlib.h>
#include <string.h>

#include "psp.h"
#include "sevcert.h"
#include "session.h"

static struct psp *psp;

static void setup(void)
{
	struct psp_config cfg;
	struct psp_init init = { 0 };

	psp_config_default(&cfg);
	cfg.rsa_bits = 2048;
	cfg.max_guests = 4096;
	if (psp_create(&cfg, &psp, NULL, 0) ||
	    psp_cmd(psp, PSP_CMD_INIT, &init, &psp_mem_direct))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sev_cert cert, godh;
	struct sev_session s;
	struct amd_cert a, b;
	EVP_PKEY *key = NULL;

	if (!psp)
		setup();
	/* AMD certificates, alone and as a two-certificate chain. */
	if (!amd_cert_parse(data, size, &a)) {
		amd_cert_verify(&a, &a);
		if (!amd_cert_parse(data + a.len, size - a.len, &b))
			amd_cert_verify(&a, &b);
	}
	if (size < sizeof(cert))
		return 0;
	memcpy(&cert, data, sizeof(cert));
	sev_cert_check(&cert);
	if (!sev_cert_pubkey(&cert, &key))
		EVP_PKEY_free(key);
	sev_cert_verify(&cert, &cert);
	if (size >= sizeof(cert) + sizeof(s)) {
		struct psp_launch_start ls = { 0 };
		struct sev_tk tk;

		memcpy(&s, data + sizeof(cert), sizeof(s));
		memcpy(&godh, &cert, sizeof(godh));
		sev_session_unwrap(data, 48, 0, &s, &tk);
		ls.policy = data[0] & 0x3f;
		ls.dh_cert_paddr = (uintptr_t)&godh;
		ls.dh_cert_len = data[1] & 1 ? SEV_CERT_LEN : data[2];
		ls.session_paddr = (uintptr_t)&s;
		ls.session_len = SEV_SESSION_LEN;
		if (psp_cmd(psp, PSP_CMD_LAUNCH_START, &ls, &psp_mem_direct) ==
		    0) {
			struct psp_handle h = { ls.handle };

			psp_cmd(psp, PSP_CMD_DECOMMISSION, &h, &psp_mem_direct);
		}
	}
	return 0;
}
