/* SPDX-License-Identifier: MIT */
/*
 * Identity files in the state directory: a tagged-record container with a
 * SHA-256 trailer so that truncation and corruption are detected, written
 * atomically (temporary file, fsync, rename, fsync of the directory), 0600.
 */
#ifndef SOFTSEV_STORE_H
#define SOFTSEV_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store {
	uint8_t *buf;
	size_t len, cap;
};

struct store_rec {
	uint16_t tag;
	const uint8_t *data;
	uint32_t len;
};

int store_add(struct store *s, uint16_t tag, const void *data, size_t len);
void store_free(struct store *s);
/* Write atomically as dir/name with the given kind; 0 or -errno. */
int store_write(const char *dir, const char *name, uint32_t kind,
		const struct store *s);
/* Same, but only if dir/name does not exist yet (-EEXIST otherwise). */
int store_create(const char *dir, const char *name, uint32_t kind,
		 const struct store *s);
/*
 * Read dir/name.  -ENOENT if absent; -EUCLEAN if corrupt or truncated, with
 * a one-line explanation in why.  On success *data holds the payload
 * (free() it) and store_next() walks its records.
 */
int store_read(const char *dir, const char *name, uint32_t kind,
	       uint8_t **data, size_t *len, char *why, size_t why_len);
/* Iterate records: returns 1 with *rec filled, 0 at the end, -EUCLEAN. */
int store_next(const uint8_t *data, size_t len, size_t *pos,
	       struct store_rec *rec);

#endif
