// SPDX-License-Identifier: MIT
/* The guest owner's formulas and files (see owner.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "crypto.h"
#include "owner.h"

int owner_read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size > (16 << 20)) {
		close(fd);
		return -EFBIG;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *buf + got, (size_t)st.st_size - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	(*buf)[got] = 0;
	*len = got;
	return 0;
}

/* Exactly len bytes, given raw or as base64 text. */
int owner_read_blob(const char *path, uint8_t *out, size_t len)
{
	uint8_t *buf, *dec;
	size_t n, i, j = 0;
	int ret = -EINVAL, d;

	ret = owner_read_file(path, &buf, &n);
	if (ret)
		return ret;
	ret = -EINVAL;
	if (n == len) {
		memcpy(out, buf, len);
		ret = 0;
		goto out;
	}
	for (i = 0; i < n; i++) /* drop whitespace and newlines */
		if (!isspace(buf[i]))
			buf[j++] = buf[i];
	dec = malloc(j + 4);
	if (!dec)
		goto out;
	d = EVP_DecodeBlock(dec, buf, (int)j);
	/* EVP_DecodeBlock counts '=' padding as zero bytes. */
	if (d >= (int)len && d - (int)len < 3) {
		memcpy(out, dec, len);
		ret = 0;
	}
	free(dec);
out:
	free(buf);
	return ret;
}

int owner_mkdir(const char *path, int mode)
{
	char buf[4096], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, (mode_t)mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, (mode_t)mode) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Written whole, then renamed: a VMM polling for the file never sees half. */
int owner_write_file(const char *path, const void *buf, size_t len, int mode)
{
	char tmp[4200];
	ssize_t n;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	if (close(fd) || n != (ssize_t)len || rename(tmp, path)) {
		unlink(tmp);
		return -EIO;
	}
	return 0;
}

int owner_write_b64(const char *path, const void *buf, size_t len)
{
	char *text = malloc(4 * ((len + 2) / 3) + 2);
	int n, ret;

	if (!text)
		return -ENOMEM;
	n = EVP_EncodeBlock((uint8_t *)text, buf, (int)len);
	text[n] = '\n';
	ret = owner_write_file(path, text, (size_t)n + 1, 0644);
	free(text);
	return ret;
}

static void hex(char *out, const uint8_t *in, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", in[i]);
}

static int unhex(const char *in, uint8_t *out, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned int b;

		if (sscanf(in + 2 * i, "%2x", &b) != 1)
			return -EINVAL;
		out[i] = (uint8_t)b;
	}
	return 0;
}

int owner_keys_save(const char *path, const struct owner_keys *k)
{
	char text[128], t1[33], t2[33];

	hex(t1, k->tk.tek, 16);
	hex(t2, k->tk.tik, 16);
	snprintf(text, sizeof(text), "tek=%s\ntik=%s\npolicy=0x%x\napi=%u.%u\n",
		 t1, t2, k->policy, k->api_major, k->api_minor);
	return owner_write_file(path, text, strlen(text), 0600);
}

int owner_keys_load(const char *path, struct owner_keys *k)
{
	uint8_t *buf;
	size_t len;
	char *p;
	int ret = owner_read_file(path, &buf, &len), found = 0;

	if (ret)
		return ret;
	k->api_major = 0;
	k->api_minor = 17;
	for (p = strtok((char *)buf, "\n"); p; p = strtok(NULL, "\n")) {
		if (!strncmp(p, "tek=", 4) && strlen(p + 4) >= 32 &&
		    !unhex(p + 4, k->tk.tek, 16))
			found |= 1;
		else if (!strncmp(p, "tik=", 4) && strlen(p + 4) >= 32 &&
			 !unhex(p + 4, k->tk.tik, 16))
			found |= 2;
		else if (!strncmp(p, "policy=", 7)) {
			k->policy = (uint32_t)strtoul(p + 7, NULL, 0);
			found |= 4;
		} else if (!strncmp(p, "api=", 4)) {
			unsigned int maj, min;

			if (sscanf(p + 4, "%u.%u", &maj, &min) != 2 ||
			    maj > 255 || min > 255)
				found |= 8; /* malformed */
			k->api_major = (uint8_t)maj;
			k->api_minor = (uint8_t)min;
		}
	}
	crypto_wipe(buf, len);
	free(buf);
	return found == 7 ? 0 : -EINVAL; /* all three, and no bad api= */
}

static int link_line(void *out, const char *what, int ret)
{
	if (out)
		fprintf(out, "%-34s %s\n", what,
			!ret		  ? "ok" :
			ret == -ENOENT ? "FAIL (no signature by that key)" :
			ret == -EINVAL ? "FAIL (malformed certificate)" :
					 "FAIL (bad signature)");
	return ret ? 1 : 0;
}

int owner_verify_chain(const struct sev_cert *pdh, const struct sev_cert *pek,
		       const struct sev_cert *oca, const struct sev_cert *cek,
		       const uint8_t *ask_b, size_t ask_len,
		       const uint8_t *ark_b, size_t ark_len, void *out)
{
	struct amd_cert ark, ask;
	int bad = 0;

	bad += link_line(out, "ARK self-signed",
			 amd_cert_parse(ark_b, ark_len, &ark) ?:
			 amd_cert_verify(&ark, &ark));
	bad += link_line(out, "ASK signed by ARK",
			 amd_cert_parse(ask_b, ask_len, &ask) ?:
			 amd_cert_verify(&ask, &ark));
	bad += link_line(out, "CEK signed by ASK",
			 bad ? -EINVAL : sev_cert_verify_amd(cek, &ask));
	bad += link_line(out, "OCA self-signed", sev_cert_verify(oca, oca));
	bad += link_line(out, "PEK signed by OCA", sev_cert_verify(pek, oca));
	bad += link_line(out, "PEK signed by CEK", sev_cert_verify(pek, cek));
	bad += link_line(out, "PDH signed by PEK", sev_cert_verify(pdh, pek));
	return bad ? -EBADMSG : 0;
}

int owner_session(const struct sev_cert *pdh, uint32_t policy,
		  struct sev_cert *godh, struct sev_session *session,
		  struct owner_keys *keys)
{
	EVP_PKEY *key = NULL, *peer = NULL;
	uint8_t z[P384_LEN], nonce[16], iv[16];
	int ret;

	keys->policy = policy;
	keys->api_major = pdh->api_major;
	keys->api_minor = pdh->api_minor;
	ret = sev_cert_pubkey(pdh, &peer);
	ret = ret ?: crypto_p384_generate(&key);
	ret = ret ?: sev_cert_init_ec(godh, SEV_USAGE_PDH, SEV_ALGO_ECDH_SHA256,
				      0, 0, key);
	ret = ret ?: crypto_p384_ecdh(key, peer, z);
	ret = ret ?: crypto_random(&keys->tk, sizeof(keys->tk));
	ret = ret ?: crypto_random(nonce, 16) ?: crypto_random(iv, 16);
	ret = ret ?: sev_session_wrap(z, sizeof(z), policy, &keys->tk, nonce,
				      iv, session);
	crypto_wipe(z, sizeof(z));
	EVP_PKEY_free(key);
	EVP_PKEY_free(peer);
	return ret;
}

/* GUIDs of OVMF's BlobVerifierSevHashes, in their little-endian form. */
static const uint8_t guid_table[16] = { 0x06, 0xd6, 0x38, 0x94, 0x22, 0x4f,
					0xc9, 0x4c, 0xb4, 0x79, 0xa7, 0x93,
					0xd4, 0x11, 0xfd, 0x21 };
static const uint8_t guid_cmdline[16] = { 0xd8, 0x2d, 0xd0, 0x97, 0x20, 0xbd,
					  0x94, 0x4c, 0xaa, 0x78, 0xe7, 0x71,
					  0x4d, 0x36, 0xab, 0x2a };
static const uint8_t guid_initrd[16] = { 0x31, 0xf7, 0xba, 0x44, 0x2f, 0x3a,
					 0xd7, 0x4b, 0x9a, 0xf1, 0x41, 0xe2,
					 0x91, 0x69, 0x78, 0x1d };
static const uint8_t guid_kernel[16] = { 0x37, 0x94, 0xe7, 0x4d, 0xd2, 0xab,
					 0x7f, 0x42, 0xb8, 0x35, 0xd5, 0xb1,
					 0x72, 0xd2, 0x04, 0x5b };

static uint8_t *entry(uint8_t *p, const uint8_t guid[16],
		      const uint8_t hash[32])
{
	memcpy(p, guid, 16);
	p[16] = 50; /* GUID + u16 length + SHA-256 */
	p[17] = 0;
	memcpy(p + 18, hash, 32);
	return p + 50;
}

void owner_hash_table(const uint8_t kernel_hash[32],
		      const uint8_t initrd_hash[32],
		      const uint8_t cmdline_hash[32],
		      uint8_t table[SEV_HASH_TABLE_LEN])
{
	uint8_t *p = table;

	memset(table, 0, SEV_HASH_TABLE_LEN);
	memcpy(p, guid_table, 16);
	p[16] = 168; /* the table's length, without the padding */
	p = entry(p + 18, guid_cmdline, cmdline_hash);
	p = entry(p, guid_initrd, initrd_hash);
	entry(p, guid_kernel, kernel_hash);
}

int owner_verify_measurement(const struct owner_keys *k, uint8_t api_major,
			     uint8_t api_minor, uint8_t build,
			     const uint8_t digest[32],
			     const uint8_t measurement[48])
{
	uint8_t m[32];

	if (sev_measure(k->tk.tik, api_major, api_minor, build, k->policy,
			digest, measurement + 32, m))
		return -EIO;
	return crypto_memcmp(m, measurement, 32) ? -EBADMSG : 0;
}

int owner_secret(const struct owner_keys *k, const uint8_t measure[32],
		 const void *secret, size_t len, struct sev_packet_hdr *hdr,
		 uint8_t *trans, size_t *trans_len)
{
	size_t padded = (len + 15) & ~(size_t)15;
	uint8_t *plain;
	int ret;

	if (!len || padded > SEV_SECRET_MAX)
		return -EINVAL;
	plain = calloc(1, padded);
	if (!plain)
		return -ENOMEM;
	memcpy(plain, secret, len);
	memset(hdr, 0, sizeof(*hdr));
	ret = crypto_random(hdr->iv, 16);
	ret = ret ?: crypto_aes128_ctr(k->tk.tek, hdr->iv, plain, trans,
				       padded);
	/* Before API 0.17 the MAC does not cover MEASURE (§12.7). */
	if (!sev_api_measures_version(k->api_major, k->api_minor))
		measure = NULL;
	ret = ret ?: sev_packet_mac(k->tk.tik, SEV_MAC_SECRET, hdr,
				    (uint32_t)padded, trans, (uint32_t)padded,
				    measure, hdr->mac);
	crypto_wipe(plain, padded);
	free(plain);
	*trans_len = padded;
	return ret;
}
