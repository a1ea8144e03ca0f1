// SPDX-License-Identifier: MIT
/* Tagged-record identity files, atomically replaced (see store.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "store.h"

static const char store_magic[8] = "SSEVSTOR";
#define STORE_HDR 16

int store_add(struct store *s, uint16_t tag, const void *data, size_t len)
{
	size_t need = s->len + 8 + len;
	uint32_t l = (uint32_t)len;

	if (len > UINT32_MAX)
		return -EINVAL;
	if (need > s->cap) {
		size_t cap = need * 2;
		uint8_t *p = realloc(s->buf, cap);

		if (!p)
			return -ENOMEM;
		s->buf = p;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, &tag, 2);
	memset(s->buf + s->len + 2, 0, 2);
	memcpy(s->buf + s->len + 4, &l, 4);
	memcpy(s->buf + s->len + 8, data, len);
	s->len = need;
	return 0;
}

void store_free(struct store *s)
{
	if (s->buf)
		crypto_wipe(s->buf, s->cap);
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int store_put(const char *dir, const char *name, uint32_t kind,
		     const struct store *s, bool exclusive)
{
	char path[4096], tmp[4096];
	uint8_t hdr[STORE_HDR], sum[32];
	uint32_t len = (uint32_t)s->len;
	EVP_MD_CTX *md;
	int fd, dfd, ret;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
		    sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.%d.tmp", dir, name,
			     (int)getpid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(hdr, store_magic, 8);
	memcpy(hdr + 8, &kind, 4);
	memcpy(hdr + 12, &len, 4);
	md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(md, hdr, sizeof(hdr)) ||
	    !EVP_DigestUpdate(md, s->buf, s->len) ||
	    !EVP_DigestFinal_ex(md, sum, NULL)) {
		EVP_MD_CTX_free(md);
		return -EIO;
	}
	EVP_MD_CTX_free(md);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, hdr, sizeof(hdr));
	ret = ret ?: write_all(fd, s->buf, s->len);
	ret = ret ?: write_all(fd, sum, sizeof(sum));
	if (!ret && fsync(fd))
		ret = -errno;
	close(fd);
	/* link() refuses to replace: the first of two racing writers wins. */
	if (!ret && (exclusive ? link(tmp, path) : rename(tmp, path)))
		ret = -errno;
	if (exclusive || ret)
		unlink(tmp);
	if (ret)
		return ret;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

int store_write(const char *dir, const char *name, uint32_t kind,
		const struct store *s)
{
	return store_put(dir, name, kind, s, false);
}

int store_create(const char *dir, const char *name, uint32_t kind,
		 const struct store *s)
{
	return store_put(dir, name, kind, s, true);
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size > (1 << 20)) {
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*out = buf;
	*len = got;
	return 0;
}

int store_read(const char *dir, const char *name, uint32_t kind,
	       uint8_t **data, size_t *len, char *why, size_t why_len)
{
	char path[4096];
	uint8_t *buf = NULL, sum[32];
	uint32_t k, l;
	size_t n = 0;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ret = read_file(path, &buf, &n);
	if (ret == -ENOENT)
		return ret;
	if (ret) {
		snprintf(why, why_len, "%s: %s", path, strerror(-ret));
		return ret;
	}
	ret = -EUCLEAN;
	if (n < STORE_HDR + 32 || memcmp(buf, store_magic, 8)) {
		snprintf(why, why_len,
			 "%s is truncated or not a softsev state file", path);
		goto bad;
	}
	memcpy(&k, buf + 8, 4);
	memcpy(&l, buf + 12, 4);
	if (k != kind) {
		snprintf(why, why_len, "%s holds the wrong kind of record (%u)",
			 path, k);
		goto bad;
	}
	if ((size_t)l + STORE_HDR + 32 != n) {
		snprintf(why, why_len, "%s is truncated (%zu of %zu bytes)",
			 path, n, (size_t)l + STORE_HDR + 32);
		goto bad;
	}
	if (crypto_sha256(buf, STORE_HDR + l, sum) ||
	    crypto_memcmp(sum, buf + STORE_HDR + l, 32)) {
		snprintf(why, why_len, "%s is corrupt (checksum mismatch)",
			 path);
		goto bad;
	}
	memmove(buf, buf + STORE_HDR, l);
	*data = buf;
	*len = l;
	return 0;
bad:
	crypto_wipe(buf, n);
	free(buf);
	return ret;
}

int store_next(const uint8_t *data, size_t len, size_t *pos,
	       struct store_rec *rec)
{
	if (*pos == len)
		return 0;
	if (len - *pos < 8)
		return -EUCLEAN;
	memcpy(&rec->tag, data + *pos, 2);
	memcpy(&rec->len, data + *pos + 4, 4);
	if (len - *pos - 8 < rec->len)
		return -EUCLEAN;
	rec->data = data + *pos + 8;
	*pos += 8 + rec->len;
	return 1;
}
