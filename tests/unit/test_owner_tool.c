// SPDX-License-Identifier: MIT
/*
 * The guest owner's library behind `softsev owner`: measurement checks
 * against the §12.11 vector, QEMU's hashes table, the keys file and the
 * LAUNCH_SECRET packet.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "crypto.h"
#include "owner.h"

static void unhex(const char *s, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned int b;

		assert_int_equal(sscanf(s + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
}

/* §12.11: TIK, API 0.18, build 0x0f, policy 0, LD = SHA256(""). */
static void vector(struct owner_keys *k, uint8_t ld[32], uint8_t m[48])
{
	memset(k, 0, sizeof(*k));
	unhex("66320db73158a35a255d051758e95ed4", k->tk.tik, 16);
	unhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	      ld, 32);
	unhex("6faab2daae389bcd3405a05d6cafe33c0414f7bedd0bae19ba5f38b7fd1664ea",
	      m, 32);
	unhex("4fbe0bedbad6c86ae8f68971d103e554", m + 32, 16);
}

static void verify_accepts_vector(void **state)
{
	struct owner_keys k;
	uint8_t ld[32], m[48];

	(void)state;
	vector(&k, ld, m);
	assert_int_equal(owner_verify_measurement(&k, 0, 18, 0x0f, ld, m), 0);
}

static void verify_rejects_every_bit_flip(void **state)
{
	struct owner_keys k;
	uint8_t ld[32], m[48];

	(void)state;
	vector(&k, ld, m);
	for (int bit = 0; bit < 48 * 8; bit++) {
		m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(owner_verify_measurement(&k, 0, 18, 0x0f, ld,
							  m), -EBADMSG);
		m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	assert_int_equal(owner_verify_measurement(&k, 0, 18, 0x0f, ld, m), 0);
}

/* Each input the guest owner supplies is bound into MEASURE. */
static void verify_rejects_other_inputs(void **state)
{
	struct owner_keys k;
	uint8_t ld[32], m[48];

	(void)state;
	vector(&k, ld, m);
	assert_int_equal(owner_verify_measurement(&k, 1, 18, 0x0f, ld, m),
			 -EBADMSG);
	assert_int_equal(owner_verify_measurement(&k, 0, 19, 0x0f, ld, m),
			 -EBADMSG);
	assert_int_equal(owner_verify_measurement(&k, 0, 18, 0x0e, ld, m),
			 -EBADMSG);
	ld[31] ^= 1;
	assert_int_equal(owner_verify_measurement(&k, 0, 18, 0x0f, ld, m),
			 -EBADMSG);
	ld[31] ^= 1;
	k.policy = 1;
	assert_int_equal(owner_verify_measurement(&k, 0, 18, 0x0f, ld, m),
			 -EBADMSG);
	k.policy = 0;
	k.tk.tik[0] ^= 0x80;
	assert_int_equal(owner_verify_measurement(&k, 0, 18, 0x0f, ld, m),
			 -EBADMSG);
}

/* OVMF's layout: header GUID, u16 168, three 50-byte entries, zero pad. */
static void hash_table_layout(void **state)
{
	uint8_t kh[32], ih[32], ch[32], t[SEV_HASH_TABLE_LEN];

	(void)state;
	memset(kh, 0xaa, 32);
	memset(ih, 0xbb, 32);
	memset(ch, 0xcc, 32);
	owner_hash_table(kh, ih, ch, t);
	assert_int_equal(SEV_HASH_TABLE_LEN % 16, 0);
	/* 9438d606-4f22-4cc9-b479-a793d411fd21, little-endian fields. */
	assert_int_equal(t[0], 0x06);
	assert_int_equal(t[3], 0x94);
	assert_int_equal(t[15], 0x21);
	assert_int_equal(t[16] | t[17] << 8, 168);
	for (int e = 0; e < 3; e++) {
		const uint8_t *p = t + 18 + 50 * e;
		const uint8_t want = e == 0 ? 0xcc : e == 1 ? 0xbb : 0xaa;

		assert_int_equal(p[16] | p[17] << 8, 50);
		for (int i = 0; i < 32; i++)
			assert_int_equal(p[18 + i], want);
	}
	/* cmdline entry 97d02dd8-bd20-4c94-aa78-e7714d36ab2a */
	assert_int_equal(t[18], 0xd8);
	assert_int_equal(t[18 + 3], 0x97);
	for (int i = 168; i < SEV_HASH_TABLE_LEN; i++)
		assert_int_equal(t[i], 0);
}

static void keys_file_round_trip(void **state)
{
	char dir[] = "/tmp/softsev-owner-XXXXXX", path[64];
	struct owner_keys k, back;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/owner.keys", dir);
	for (int i = 0; i < 16; i++) {
		k.tk.tek[i] = (uint8_t)i;
		k.tk.tik[i] = (uint8_t)(0xf0 + i);
	}
	k.policy = 0x5;
	k.api_major = 0;
	k.api_minor = 16;
	assert_int_equal(owner_keys_save(path, &k), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	memset(&back, 0, sizeof(back));
	assert_int_equal(owner_keys_load(path, &back), 0);
	assert_memory_equal(&back.tk, &k.tk, sizeof(k.tk));
	assert_int_equal(back.policy, 5);
	assert_int_equal(back.api_major, 0);
	assert_int_equal(back.api_minor, 16);
	/* A file from before the api= line: API 0.17 or later. */
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fprintf(f, "tek=%032x\ntik=%032x\npolicy=0x1\n", 0, 0);
		fclose(f);
		assert_int_equal(owner_keys_load(path, &back), 0);
		assert_int_equal(back.api_minor, 17);
		f = fopen(path, "a");
		fprintf(f, "api=0.x\n");
		fclose(f);
		assert_int_equal(owner_keys_load(path, &back), -EINVAL);
	}
	/* A truncated file is refused, not half-read. */
	assert_int_equal(truncate(path, 10), 0);
	assert_int_not_equal(owner_keys_load(path, &back), 0);
	unlink(path);
	rmdir(dir);
}

/* The packet decrypts with TEK and its MAC binds the measurement. */
static void secret_packet(void **state)
{
	static const char msg[] = "disk passphrase: correct horse";
	uint8_t trans[SEV_SECRET_MAX], plain[64], mac[32], measure[32];
	struct sev_packet_hdr hdr;
	struct owner_keys k;
	size_t tlen;

	(void)state;
	memset(&k, 0, sizeof(k));
	for (int i = 0; i < 16; i++) {
		k.tk.tek[i] = (uint8_t)i;
		k.tk.tik[i] = (uint8_t)(0x10 + i);
	}
	k.api_major = 1;
	k.api_minor = 55;
	memset(measure, 0x5a, sizeof(measure));
	assert_int_equal(owner_secret(&k, measure, msg, sizeof(msg), &hdr,
				      trans, &tlen), 0);
	assert_int_equal(tlen, 32);
	assert_int_equal(crypto_aes128_ctr(k.tk.tek, hdr.iv, trans, plain,
					   tlen), 0);
	assert_memory_equal(plain, msg, sizeof(msg));
	assert_int_equal(sev_packet_mac(k.tk.tik, SEV_MAC_SECRET, &hdr, 32,
					trans, 32, measure, mac), 0);
	assert_memory_equal(mac, hdr.mac, 32);
	measure[0] ^= 1;
	assert_int_equal(sev_packet_mac(k.tk.tik, SEV_MAC_SECRET, &hdr, 32,
					trans, 32, measure, mac), 0);
	assert_memory_not_equal(mac, hdr.mac, 32);

	assert_int_equal(owner_secret(&k, measure, msg, 0, &hdr, trans, &tlen),
			 -EINVAL);
	{
		static uint8_t big[SEV_SECRET_MAX + 1];

		assert_int_equal(owner_secret(&k, measure, big, sizeof(big),
					      &hdr, trans, &tlen), -EINVAL);
	}
	/* API 0.16 (§12.7): the MAC leaves MEASURE out. */
	k.api_major = 0;
	k.api_minor = 16;
	assert_int_equal(owner_secret(&k, measure, msg, sizeof(msg), &hdr,
				      trans, &tlen), 0);
	assert_int_equal(sev_packet_mac(k.tk.tik, SEV_MAC_SECRET, &hdr, 32,
					trans, 32, NULL, mac), 0);
	assert_memory_equal(mac, hdr.mac, 32);
}

/*
 * API 0.16 (§12.6): MEASURE = HMAC(TIK, POLICY || LD || MNONCE), without
 * the context byte, API and build; from 0.17 on they are bound.
 */
static void verify_naples_format(void **state)
{
	struct owner_keys k;
	uint8_t ld[32], m[48], msg[4 + 32 + 16];

	(void)state;
	vector(&k, ld, m);
	k.policy = 0x11;
	memcpy(msg, &k.policy, 4);
	memcpy(msg + 4, ld, 32);
	memcpy(msg + 36, m + 32, 16);
	assert_int_equal(crypto_hmac_sha256(k.tk.tik, 16, msg, sizeof(msg), m),
			 0);
	assert_int_equal(owner_verify_measurement(&k, 0, 16, 0x0f, ld, m), 0);
	assert_int_equal(owner_verify_measurement(&k, 0, 16, 0x03, ld, m), 0);
	assert_int_equal(owner_verify_measurement(&k, 0, 17, 0x0f, ld, m),
			 -EBADMSG);
	k.policy = 0x10;
	assert_int_equal(owner_verify_measurement(&k, 0, 16, 0x0f, ld, m),
			 -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(verify_accepts_vector),
		cmocka_unit_test(verify_rejects_every_bit_flip),
		cmocka_unit_test(verify_rejects_other_inputs),
		cmocka_unit_test(hash_table_layout),
		cmocka_unit_test(keys_file_round_trip),
		cmocka_unit_test(secret_packet),
		cmocka_unit_test(verify_naples_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
