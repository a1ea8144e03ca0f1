// SPDX-License-Identifier: MIT
/*
 * The guest owner, end to end, written against OpenSSL alone (not crypto/
 * or the certificate code), so that softsev's firmware is checked by an
 * independent implementation of spec §12:
 * export the PDH and chain through /dev/sev, verify it up to softsev's ARK,
 * build GODH and a session, launch, measure and verify, inject a secret,
 * read it back with DBG_DECRYPT, then migrate the guest to a second
 * platform and check its memory there.
 */
#include "psp_fixture.h"
#include "user_mem.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <sys/ioctl.h>

#include "ccp.h"

#define CERT 0x824
#define GUEST_PAGES 4
#define ASID_A 200
#define ASID_B 300

/* ---------- the owner's own helpers (OpenSSL only) ---------- */

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4); /* the test runs on x86-64: little-endian */
}

static EVP_PKEY *ec_pub_from_cert(const uint8_t *cert)
{
	uint8_t pt[97];
	OSSL_PARAM p[3];
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *key = NULL;
	int i;

	assert_int_equal(le32(cert + 0x10), 2); /* P-384 */
	pt[0] = 4;
	for (i = 0; i < 48; i++) {
		pt[1 + i] = cert[0x14 + 47 - i];
		pt[49 + i] = cert[0x14 + 72 + 47 - i];
	}
	p[0] = OSSL_PARAM_construct_utf8_string("group", "P-384", 0);
	p[1] = OSSL_PARAM_construct_octet_string("pub", pt, sizeof(pt));
	p[2] = OSSL_PARAM_construct_end();
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, p),
			 1);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

/* Verify the ECDSA slot of cert whose usage is signer's usage (§12.2). */
static int ec_verify(const uint8_t *cert, const uint8_t *signer)
{
	EVP_PKEY *key = ec_pub_from_cert(signer);
	int slot, ok = 0;

	for (slot = 0; slot < 2 && !ok; slot++) {
		const uint8_t *s = cert + 0x414 + slot * 0x208;
		ECDSA_SIG *sig;
		uint8_t *der = NULL;
		EVP_MD_CTX *md;
		int n;

		if (le32(s) != le32(signer + 8) || le32(s + 4) != 2)
			continue;
		sig = ECDSA_SIG_new();
		ECDSA_SIG_set0(sig, BN_lebin2bn(s + 8, 72, NULL),
			       BN_lebin2bn(s + 8 + 72, 72, NULL));
		n = i2d_ECDSA_SIG(sig, &der);
		md = EVP_MD_CTX_new();
		EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key);
		ok = EVP_DigestVerify(md, der, (size_t)n, cert, 0x414) == 1;
		EVP_MD_CTX_free(md);
		OPENSSL_free(der);
		ECDSA_SIG_free(sig);
	}
	EVP_PKEY_free(key);
	return ok;
}

static EVP_PKEY *rsa_from_amd(const uint8_t *amd, size_t *bits)
{
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *key = NULL;
	OSSL_PARAM *p;
	BIGNUM *n, *e;
	size_t len;

	*bits = le32(amd + 0x3C);
	len = *bits / 8;
	e = BN_lebin2bn(amd + 0x40, (int)len, NULL);
	n = BN_lebin2bn(amd + 0x40 + len, (int)len, NULL);
	OSSL_PARAM_BLD_push_BN(b, "n", n);
	OSSL_PARAM_BLD_push_BN(b, "e", e);
	p = OSSL_PARAM_BLD_to_param(b);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, p),
			 1);
	OSSL_PARAM_free(p);
	OSSL_PARAM_BLD_free(b);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(e);
	return key;
}

/* RSA-PSS, salt = digest, signature stored byte-reversed (§12.3). */
static int pss_verify(EVP_PKEY *key, size_t bits, const uint8_t *msg,
		      size_t len, const uint8_t *sig_le)
{
	const EVP_MD *md = bits == 2048 ? EVP_sha256() : EVP_sha384();
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx;
	uint8_t sig[512];
	size_t i, n = bits / 8;
	int ok;

	for (i = 0; i < n; i++)
		sig[i] = sig_le[n - 1 - i];
	EVP_DigestVerifyInit(mctx, &pctx, md, NULL, key);
	EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
	EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
	EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md);
	ok = EVP_DigestVerify(mctx, sig, n, msg, len) == 1;
	EVP_MD_CTX_free(mctx);
	return ok;
}

static void hmac(const uint8_t *key, size_t klen, const uint8_t *msg,
		 size_t len, uint8_t out[32])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	OSSL_PARAM p[2] = { OSSL_PARAM_construct_utf8_string("digest",
							     "SHA256", 0),
			    OSSL_PARAM_construct_end() };
	size_t n;

	assert_int_equal(EVP_MAC_init(ctx, key, klen, p), 1);
	EVP_MAC_update(ctx, msg, len);
	EVP_MAC_final(ctx, out, &n, 32);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
}

/* SP800-108 as SEV encodes it: one block is enough for 128 bits. */
static void kdf128(const uint8_t *key, size_t klen, const char *label,
		   const uint8_t *ctx, size_t clen, uint8_t out[16])
{
	uint8_t msg[128], d[32];
	size_t n = 0, l = strlen(label);

	put32(msg, 1);
	n = 4;
	memcpy(msg + n, label, l);
	n += l;
	msg[n++] = 0;
	if (clen)
		memcpy(msg + n, ctx, clen);
	n += clen;
	put32(msg + n, 128);
	n += 4;
	hmac(key, klen, msg, n, d);
	memcpy(out, d, 16);
}

static void ctr(const uint8_t key[16], const uint8_t iv[16],
		const uint8_t *in, uint8_t *out, size_t len)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n;

	EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, key, iv);
	EVP_EncryptUpdate(c, out, &n, in, (int)len);
	EVP_CIPHER_CTX_free(c);
}

struct owner {
	EVP_PKEY *godh;
	uint8_t godh_cert[CERT];
	uint8_t session[0x80];
	uint8_t tek[16], tik[16];
	uint32_t policy;
};

/* §12.4: GODH certificate (unsigned, as virtee makes it) and session. */
static void owner_session(struct owner *o, const uint8_t *pdh_cert)
{
	EVP_PKEY *pdh = ec_pub_from_cert(pdh_cert);
	EVP_PKEY_CTX *ctx;
	BIGNUM *x = NULL, *y = NULL;
	uint8_t z[48], ms[16], kek[16], kik[16], tk[32];
	size_t zl = sizeof(z);
	int i;

	o->godh = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	memset(o->godh_cert, 0, CERT);
	put32(o->godh_cert, 1);
	put32(o->godh_cert + 8, 0x1003);
	put32(o->godh_cert + 12, 3);
	put32(o->godh_cert + 0x10, 2);
	EVP_PKEY_get_bn_param(o->godh, "qx", &x);
	EVP_PKEY_get_bn_param(o->godh, "qy", &y);
	BN_bn2lebinpad(x, o->godh_cert + 0x14, 48);
	BN_bn2lebinpad(y, o->godh_cert + 0x14 + 72, 48);
	put32(o->godh_cert + 0x414, 0x1000);
	put32(o->godh_cert + 0x414 + 0x208, 0x1000);
	BN_free(x);
	BN_free(y);

	ctx = EVP_PKEY_CTX_new(o->godh, NULL);
	EVP_PKEY_derive_init(ctx);
	EVP_PKEY_derive_set_peer(ctx, pdh);
	assert_int_equal(EVP_PKEY_derive(ctx, z, &zl), 1);
	assert_int_equal(zl, 48);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pdh);

	RAND_bytes(o->session, 16);	   /* NONCE */
	RAND_bytes(o->session + 0x30, 16); /* WRAP_IV */
	RAND_bytes(o->tek, 16);
	RAND_bytes(o->tik, 16);
	kdf128(z, 48, "sev-master-secret", o->session, 16, ms);
	kdf128(ms, 16, "sev-kek", NULL, 0, kek);
	kdf128(ms, 16, "sev-kik", NULL, 0, kik);
	memcpy(tk, o->tek, 16);
	memcpy(tk + 16, o->tik, 16);
	ctr(kek, o->session + 0x30, tk, o->session + 0x10, 32);
	hmac(kik, 16, o->session + 0x10, 32, o->session + 0x40);
	{
		uint8_t pol[4];

		put32(pol, o->policy);
		hmac(o->tik, 16, pol, 4, o->session + 0x60);
	}
	for (i = 0; i < 16; i++)
		ms[i] = kek[i] = kik[i] = 0;
}

/* ---------- the host side: /dev/sev and KVM-style firmware calls ---------- */

struct host {
	struct fx f;
	struct ccp *ccp;
};

static void host_open_model(struct host *h, enum psp_mem_mode mode,
			    const char *model)
{
	struct ccp_config cfg = { .init_on_probe = true };

	memset(h, 0, sizeof(*h));
	psp_config_default(&h->f.cfg);
	if (model)
		assert_int_equal(psp_config_model(&h->f.cfg, model), 0);
	h->f.cfg.mem_mode = mode;
	fx_open(&h->f, false);
	assert_int_equal(ccp_create(h->f.psp, &cfg, &h->ccp), 0);
}

static void host_open(struct host *h, enum psp_mem_mode mode)
{
	host_open_model(h, mode, NULL);
}

static void host_close(struct host *h)
{
	ccp_destroy(h->ccp);
	fx_close(&h->f, true);
}

static int sev_ioctl(struct host *h, uint32_t cmd, void *data, uint32_t *err)
{
	struct sev_issue_cmd in = { cmd, (uintptr_t)data, 0 };
	int ret = ccp_ioctl(h->ccp, true, SEV_ISSUE_CMD, (uintptr_t)&in,
			    &user_mem);

	*err = in.error;
	return ret;
}

static void export_pdh(struct host *h, uint8_t *pdh, uint8_t *chain)
{
	struct sev_user_data_pdh_cert_export e = { 0 };
	uint32_t err;

	/* QEMU asks for the lengths first, then exports. */
	assert_int_equal(sev_ioctl(h, SEV_PDH_CERT_EXPORT, &e, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	e.pdh_cert_address = (uintptr_t)pdh;
	e.cert_chain_address = (uintptr_t)chain;
	assert_int_equal(sev_ioctl(h, SEV_PDH_CERT_EXPORT, &e, &err), 0);
}

static int fw(struct host *h, unsigned int cmd, void *buf)
{
	int err = -1;

	if (ccp_do_cmd(h->ccp, cmd, buf, NULL, &err))
		return err;
	return 0;
}

/* The guest owner's chain check: PDH <- PEK <- OCA, PEK <- CEK <- ASK <- ARK. */
static void owner_verify_chain(const uint8_t *pdh, const uint8_t *chain,
			       const uint8_t *ark, const uint8_t *ask)
{
	const uint8_t *pek = chain, *oca = chain + CERT, *cek = chain + 2 * CERT;
	size_t ark_bits, ask_bits;
	EVP_PKEY *ark_key = rsa_from_amd(ark, &ark_bits);
	EVP_PKEY *ask_key = rsa_from_amd(ask, &ask_bits);
	size_t n = ark_bits / 8;
	uint8_t bad[CERT];

	assert_int_equal(le32(ark + 0x24), 0x00);
	assert_int_equal(le32(ask + 0x24), 0x13);
	assert_memory_equal(ark + 0x04, ark + 0x14, 16); /* self-certified */
	assert_memory_equal(ask + 0x14, ark + 0x04, 16);
	assert_true(pss_verify(ark_key, ark_bits, ark, 0x40 + 2 * n,
			       ark + 0x40 + 2 * n));
	assert_true(pss_verify(ark_key, ark_bits, ask, 0x40 + 2 * n,
			       ask + 0x40 + 2 * n));
	/* CEK: slot with the ASK's usage, RSA_SHA384 for a 4096-bit ASK. */
	assert_int_equal(le32(cek + 0x414), 0x13);
	assert_int_equal(le32(cek + 0x418), 0x101);
	assert_true(pss_verify(ask_key, ask_bits, cek, 0x414, cek + 0x41C));
	assert_true(ec_verify(pek, cek));
	assert_true(ec_verify(pek, oca));
	assert_true(ec_verify(oca, oca));
	assert_true(ec_verify(pdh, pek));
	memcpy(bad, pdh, CERT);
	bad[0x20] ^= 1;
	assert_false(ec_verify(bad, pek));
	EVP_PKEY_free(ark_key);
	EVP_PKEY_free(ask_key);
}

static uint8_t image_byte(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 9));
}

static void e2e(enum psp_mem_mode mode)
{
	static uint8_t guest[GUEST_PAGES * 4096] __attribute__((aligned(4096)));
	static uint8_t target[GUEST_PAGES * 4096] __attribute__((aligned(4096)));
	static uint8_t pdh[CERT], chain[3 * CERT], pdh_b[CERT], chain_b[3 * CERT];
	uint8_t ark[1600], ask[1600], amd[3200], image[sizeof(guest)];
	uint8_t measure[0x30], ld[32], msg[56], m[32], back[4096];
	size_t ark_len = sizeof(ark), ask_len = sizeof(ask), i;
	struct sev_user_data_status st;
	struct host a, b;
	struct owner o = { .policy = SEV_POLICY_SEV };
	struct psp_launch_start ls = { 0 };
	struct psp_activate act;
	struct psp_launch_update u;
	struct psp_handle hd;
	uint32_t err;

	host_open(&a, mode);
	host_open(&b, mode);

	/* 1. The owner receives the platform's certificates and checks them. */
	export_pdh(&a, pdh, chain);
	assert_int_equal(psp_get_ark(a.f.psp, ark, &ark_len), 0);
	assert_int_equal(psp_get_ask(a.f.psp, ask, &ask_len), 0);
	owner_verify_chain(pdh, chain, ark, ask);

	/* 2. Session for this platform's PDH. */
	owner_session(&o, pdh);

	/* 3. The host launches (as KVM does: LAUNCH_START, ACTIVATE). */
	ls.policy = o.policy;
	ls.dh_cert_paddr = (uintptr_t)o.godh_cert;
	ls.dh_cert_len = CERT;
	ls.session_paddr = (uintptr_t)o.session;
	ls.session_len = 0x80;
	assert_int_equal(fw(&a, PSP_CMD_LAUNCH_START, &ls), 0);
	act = (struct psp_activate){ ls.handle, ASID_A };
	assert_int_equal(fw(&a, PSP_CMD_ACTIVATE, &act), 0);
	for (i = 0; i < sizeof(guest); i++)
		image[i] = guest[i] = image_byte(i);
	u = (struct psp_launch_update){ ls.handle, 0, (uintptr_t)guest,
					sizeof(guest) };
	assert_int_equal(fw(&a, PSP_CMD_LAUNCH_UPDATE_DATA, &u), 0);
	u = (struct psp_launch_update){ ls.handle, 0, 0, 0 };
	assert_int_equal(fw(&a, PSP_CMD_LAUNCH_MEASURE, &u),
			 SEV_RET_INVALID_LEN);
	u.paddr = (uintptr_t)measure;
	assert_int_equal(fw(&a, PSP_CMD_LAUNCH_MEASURE, &u), 0);

	/* 4. The owner verifies the measurement from public inputs. */
	assert_int_equal(sev_ioctl(&a, SEV_PLATFORM_STATUS, &st, &err), 0);
	EVP_Digest(image, sizeof(image), ld, NULL, EVP_sha256(), NULL);
	msg[0] = 0x04;
	msg[1] = st.api_major;
	msg[2] = st.api_minor;
	msg[3] = st.build;
	put32(msg + 4, o.policy);
	memcpy(msg + 8, ld, 32);
	memcpy(msg + 40, measure + 32, 16);
	hmac(o.tik, 16, msg, sizeof(msg), m);
	assert_memory_equal(m, measure, 32);

	/* 5. Secret: TEK-encrypted, MACed with TIK over header, data, MEASURE. */
	{
		uint8_t hdr[0x34] = { 0 }, trans[64], secret[64] = "open sesame";
		uint8_t mac_in[1 + 4 + 16 + 4 + 4 + 64 + 32];
		struct psp_packet p = { 0 };

		RAND_bytes(hdr + 4, 16);
		ctr(o.tek, hdr + 4, secret, trans, 64);
		mac_in[0] = 0x01;
		memcpy(mac_in + 1, hdr, 4 + 16);
		put32(mac_in + 21, 64);
		put32(mac_in + 25, 64);
		memcpy(mac_in + 29, trans, 64);
		memcpy(mac_in + 93, measure, 32);
		hmac(o.tik, 16, mac_in, sizeof(mac_in), hdr + 0x14);
		p.handle = ls.handle;
		p.hdr_paddr = (uintptr_t)hdr;
		p.hdr_len = 0x34;
		p.guest_paddr = (uintptr_t)guest + 4096;
		p.guest_len = 64;
		p.trans_paddr = (uintptr_t)trans;
		p.trans_len = 64;
		assert_int_equal(fw(&a, PSP_CMD_LAUNCH_SECRET, &p), 0);
		memcpy(image + 4096, secret, 64);
	}
	hd.handle = ls.handle;
	assert_int_equal(fw(&a, PSP_CMD_LAUNCH_FINISH, &hd), 0);

	/* 6. Read the secret back through the debug interface. */
	{
		struct psp_dbg d = { ls.handle, 0, (uintptr_t)guest + 4096,
				     (uintptr_t)back, 64 };

		assert_int_equal(fw(&a, PSP_CMD_DBG_DECRYPT, &d), 0);
		assert_string_equal((char *)back, "open sesame");
		if (mode == PSP_MEM_XTS)
			assert_memory_not_equal(guest + 4096, back, 64);
	}

	/* 7. Migrate to platform b, which shares softsev's root. */
	export_pdh(&b, pdh_b, chain_b);
	memcpy(amd, ask, ask_len);
	ark_len = sizeof(ark);
	assert_int_equal(psp_get_ark(b.f.psp, ark, &ark_len), 0);
	memcpy(amd + ask_len, ark, ark_len);
	{
		struct psp_send_start s = { 0 };
		struct psp_launch_start rs = { 0 };
		static uint8_t session[0x80];

		s.handle = ls.handle;
		assert_int_equal(fw(&a, PSP_CMD_SEND_START, &s),
				 SEV_RET_INVALID_LEN);
		s.pdh_cert_paddr = (uintptr_t)pdh_b;
		s.pdh_cert_len = CERT;
		s.plat_certs_paddr = (uintptr_t)chain_b;
		s.plat_certs_len = 3 * CERT;
		s.amd_certs_paddr = (uintptr_t)amd;
		s.amd_certs_len = (uint32_t)(ask_len + ark_len);
		s.session_paddr = (uintptr_t)session;
		assert_int_equal(fw(&a, PSP_CMD_SEND_START, &s), 0);
		assert_int_equal(s.policy, o.policy);

		rs.policy = s.policy;
		rs.dh_cert_paddr = (uintptr_t)pdh; /* the sender's PDH */
		rs.dh_cert_len = CERT;
		rs.session_paddr = (uintptr_t)session;
		rs.session_len = 0x80;
		assert_int_equal(fw(&b, PSP_CMD_RECEIVE_START, &rs), 0);
		act = (struct psp_activate){ rs.handle, ASID_B };
		assert_int_equal(fw(&b, PSP_CMD_ACTIVATE, &act), 0);

		for (i = 0; i < GUEST_PAGES; i++) {
			uint8_t hdr[0x34], trans[4096];
			struct psp_packet p = { 0 };

			p.handle = ls.handle;
			p.hdr_paddr = (uintptr_t)hdr;
			p.hdr_len = 0x34;
			/* KVM sets the C-bit on the guest address. */
			p.guest_paddr = ((uintptr_t)guest + 4096 * i) |
					1ull << 51;
			p.guest_len = 4096;
			p.trans_paddr = (uintptr_t)trans;
			p.trans_len = 4096;
			assert_int_equal(fw(&a, PSP_CMD_SEND_UPDATE_DATA, &p),
					 0);
			p.handle = rs.handle;
			p.guest_paddr = ((uintptr_t)target + 4096 * i) |
					1ull << 51;
			assert_int_equal(fw(&b, PSP_CMD_RECEIVE_UPDATE_DATA,
					    &p), 0);
		}
		hd.handle = ls.handle;
		assert_int_equal(fw(&a, PSP_CMD_SEND_FINISH, &hd), 0);
		hd.handle = rs.handle;
		assert_int_equal(fw(&b, PSP_CMD_RECEIVE_FINISH, &hd), 0);

		/* 8. The guest's memory arrived intact on b. */
		for (i = 0; i < GUEST_PAGES; i++) {
			struct psp_dbg d = { rs.handle, 0,
					     (uintptr_t)target + 4096 * i,
					     (uintptr_t)back, 4096 };

			assert_int_equal(fw(&b, PSP_CMD_DBG_DECRYPT, &d), 0);
			assert_memory_equal(back, image + 4096 * i, 4096);
		}
	}
	EVP_PKEY_free(o.godh);
	host_close(&a);
	host_close(&b);
}

static void test_e2e_plain(void **state)
{
	e2e(PSP_MEM_PLAIN);
}

static void test_e2e_xts(void **state)
{
	e2e(PSP_MEM_XTS);
}

/*
 * Naples (API 0.16): the measurement has no 0x04 || API || BUILD prefix
 * and the LAUNCH_SECRET MAC does not cover MEASURE (§12.6, §12.7, as
 * sev-tool computes them for API < 0.17).
 */
static void test_naples_formats(void **state)
{
	static uint8_t guest[4096] __attribute__((aligned(4096)));
	static uint8_t pdh[CERT], chain[3 * CERT];
	uint8_t measure[0x30], ld[32], msg[4 + 32 + 16], m[32];
	uint8_t hdr[0x34] = { 0 }, trans[32], secret[32] = "naples secret";
	uint8_t mac_in[1 + 4 + 16 + 4 + 4 + 32 + 32];
	struct owner o = { .policy = 0 };
	struct psp_launch_start ls = { 0 };
	struct sev_user_data_status st;
	struct psp_launch_update u;
	struct psp_activate act;
	struct psp_packet p = { 0 };
	struct host a;
	uint32_t err;

	host_open_model(&a, PSP_MEM_PLAIN, "naples");
	assert_int_equal(sev_ioctl(&a, SEV_PLATFORM_STATUS, &st, &err), 0);
	assert_int_equal(st.api_major, 0);
	assert_int_equal(st.api_minor, 16);
	export_pdh(&a, pdh, chain);
	owner_session(&o, pdh);
	ls.policy = o.policy;
	ls.dh_cert_paddr = (uintptr_t)o.godh_cert;
	ls.dh_cert_len = CERT;
	ls.session_paddr = (uintptr_t)o.session;
	ls.session_len = 0x80;
	assert_int_equal(fw(&a, PSP_CMD_LAUNCH_START, &ls), 0);
	act = (struct psp_activate){ ls.handle, 1 };
	assert_int_equal(fw(&a, PSP_CMD_ACTIVATE, &act), 0);
	memset(guest, 0xc3, sizeof(guest));
	u = (struct psp_launch_update){ ls.handle, 0, (uintptr_t)guest,
					sizeof(guest) };
	assert_int_equal(fw(&a, PSP_CMD_LAUNCH_UPDATE_DATA, &u), 0);
	u = (struct psp_launch_update){ ls.handle, 0, (uintptr_t)measure,
					sizeof(measure) };
	assert_int_equal(fw(&a, PSP_CMD_LAUNCH_MEASURE, &u), 0);
	EVP_Digest(guest, sizeof(guest), ld, NULL, EVP_sha256(), NULL);
	put32(msg, o.policy);
	memcpy(msg + 4, ld, 32);
	memcpy(msg + 36, measure + 32, 16);
	hmac(o.tik, 16, msg, sizeof(msg), m);
	assert_memory_equal(m, measure, 32);

	/* A MAC over MEASURE, as 0.17+ wants, is refused here... */
	RAND_bytes(hdr + 4, 16);
	ctr(o.tek, hdr + 4, secret, trans, 32);
	mac_in[0] = 0x01;
	memcpy(mac_in + 1, hdr, 4 + 16);
	put32(mac_in + 21, 32);
	put32(mac_in + 25, 32);
	memcpy(mac_in + 29, trans, 32);
	memcpy(mac_in + 61, measure, 32);
	hmac(o.tik, 16, mac_in, sizeof(mac_in), hdr + 0x14);
	p = (struct psp_packet){ .handle = ls.handle,
				 .hdr_paddr = (uintptr_t)hdr,
				 .hdr_len = 0x34,
				 .guest_paddr = (uintptr_t)guest,
				 .guest_len = 32,
				 .trans_paddr = (uintptr_t)trans,
				 .trans_len = 32 };
	assert_int_equal(fw(&a, PSP_CMD_LAUNCH_SECRET, &p),
			 SEV_RET_BAD_MEASUREMENT);
	/* ...one without it is accepted and lands in the guest. */
	hmac(o.tik, 16, mac_in, sizeof(mac_in) - 32, hdr + 0x14);
	assert_int_equal(fw(&a, PSP_CMD_LAUNCH_SECRET, &p), 0);
	assert_memory_equal(guest, secret, 32);
	EVP_PKEY_free(o.godh);
	host_close(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_e2e_plain),
		cmocka_unit_test(test_e2e_xts),
		cmocka_unit_test(test_naples_formats),
	};

	return cmocka_run_group_tests_name("owner_e2e", tests, fx_group_setup,
					   fx_group_teardown);
}
