/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the unit tests. */
#ifndef SOFTSEV_TESTUTIL_H
#define SOFTSEV_TESTUTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static inline void unhex(const char *hex, uint8_t *out, size_t len)
{
	size_t i;

	assert_int_equal(strlen(hex), 2 * len);
	for (i = 0; i < len; i++) {
		unsigned int b;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
}

#define assert_hex_equal(buf, hex)                                        \
	do {                                                              \
		uint8_t _exp[sizeof(hex) / 2];                           \
		unhex(hex, _exp, sizeof(_exp));                          \
		assert_memory_equal(buf, _exp, sizeof(_exp));            \
	} while (0)

/* Read a whole file from tests/vectors (SOFTSEV_VECTORS at build time). */
static inline size_t read_vector(const char *name, uint8_t *buf, size_t max)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", SOFTSEV_VECTORS, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(buf, 1, max, f);
	fclose(f);
	return n;
}

#endif
