// SPDX-License-Identifier: MIT
/*
 * Fuzz the guest owner's file readers: owner.keys text, and raw-or-base64
 * blobs (measurement.b64, godh.b64, session.b64) as softsev owner reads
 * them from a host it does not trust.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "owner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	uint8_t blob[SEV_CERT_LEN], m[48];
	struct owner_keys k;
	FILE *f;

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/fuzz-owner-%d", getpid());
	f = fopen(path, "wb");
	if (!f)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	owner_keys_load(path, &k);
	owner_read_blob(path, m, sizeof(m));
	owner_read_blob(path, blob, sizeof(blob));
	unlink(path);
	return 0;
}
