// SPDX-License-Identifier: MIT
/*
 * softsev-fwdemo: a guided tour of the virtual AMD Secure Processor.
 *
 * Two software platforms that share softsev's root of trust play a source
 * and a target host.  A guest owner checks the source's certificates,
 * opens a session, verifies the launch measurement, releases a secret, and
 * the guest is then migrated to the target through the firmware's
 * SEND/RECEIVE protocol.  Every step prints what happened, why it matters,
 * and how long it took; the exit status is 0 only if every check held.
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "ccp.h"
#include "crypto.h"
#include "psp.h"
#include "session.h"
#include "sevcert.h"

#define GUEST_SIZE (256 * 1024)
#define ASID_SRC 100
#define ASID_DST 101

struct host {
	const char *name;
	char dir[256];
	struct psp *psp;
	struct ccp *ccp;
};

static double t0;
static int failures;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One line per step: what happened and why it matters. */
static void step(bool ok, const char *what, const char *why)
{
	double t = now_ms();

	printf("%s %-58s %7.1f ms\n", ok ? "[ok]  " : "[FAIL]", what, t - t0);
	if (why)
		printf("       %s\n", why);
	if (!ok)
		failures++;
	t0 = t;
}

static int fw(struct host *h, unsigned int cmd, void *buf)
{
	int err = -1;

	return ccp_do_cmd(h->ccp, cmd, buf, NULL, &err) ? err : 0;
}

static int sev_ioctl(struct host *h, uint32_t cmd, void *data)
{
	struct sev_issue_cmd in = { cmd, (uintptr_t)data, 0 };

	return ccp_ioctl(h->ccp, true, SEV_ISSUE_CMD, (uintptr_t)&in,
			 &psp_mem_direct);
}

static int host_open(struct host *h, const char *name, const char *root_from)
{
	struct psp_config cfg;
	struct ccp_config ccfg = { .init_on_probe = true };
	char why[512], src[600], dst[600];

	h->name = name;
	snprintf(h->dir, sizeof(h->dir), "/tmp/softsev-demo-%s-XXXXXX", name);
	if (!mkdtemp(h->dir))
		return -errno;
	if (root_from) {
		/* Same root of trust, different chip: copy only "root". */
		snprintf(src, sizeof(src), "%s/root", root_from);
		snprintf(dst, sizeof(dst), "%s/root", h->dir);
		if (link(src, dst))
			return -errno;
	}
	psp_config_default(&cfg);
	cfg.mem_mode = PSP_MEM_XTS;
	cfg.state_dir = h->dir;
	if (psp_create(&cfg, &h->psp, why, sizeof(why))) {
		fprintf(stderr, "softsev-fwdemo: %s\n", why);
		return -EIO;
	}
	return ccp_create(h->psp, &ccfg, &h->ccp);
}

static int rm_entry(const char *p, const struct stat *s, int f, struct FTW *w)
{
	return remove(p);
}

static void host_close(struct host *h)
{
	ccp_destroy(h->ccp);
	psp_destroy(h->psp);
	nftw(h->dir, rm_entry, 4, FTW_DEPTH | FTW_PHYS);
}

static bool export_and_verify(struct host *h, struct sev_cert *pdh,
			      struct sev_cert chain[3])
{
	struct sev_user_data_pdh_cert_export e = {
		(uintptr_t)pdh, SEV_CERT_LEN, (uintptr_t)chain, SEV_CHAIN_LEN
	};
	uint8_t ark_b[2048], ask_b[2048];
	size_t ark_len = sizeof(ark_b), ask_len = sizeof(ask_b);
	struct amd_cert ark, ask;

	if (sev_ioctl(h, SEV_PDH_CERT_EXPORT, &e) ||
	    psp_get_ark(h->psp, ark_b, &ark_len) ||
	    psp_get_ask(h->psp, ask_b, &ask_len) ||
	    amd_cert_parse(ark_b, ark_len, &ark) ||
	    amd_cert_parse(ask_b, ask_len, &ask))
		return false;
	return !amd_cert_verify(&ark, &ark) && !amd_cert_verify(&ask, &ark) &&
	       !sev_cert_verify_amd(&chain[2], &ask) &&
	       !sev_cert_verify(&chain[1], &chain[1]) &&
	       !sev_cert_verify(&chain[0], &chain[1]) &&
	       !sev_cert_verify(&chain[0], &chain[2]) &&
	       !sev_cert_verify(pdh, &chain[0]);
}

struct owner {
	uint32_t policy;
	struct sev_cert godh;
	struct sev_session session;
	struct sev_tk tk;
};

static bool owner_session(struct owner *o, const struct sev_cert *pdh)
{
	EVP_PKEY *godh = NULL, *peer = NULL;
	uint8_t z[48], nonce[16], iv[16];
	bool ok;

	ok = !crypto_p384_generate(&godh) &&
	     !sev_cert_init_ec(&o->godh, SEV_USAGE_PDH, SEV_ALGO_ECDH_SHA256, 0,
			       0, godh) &&
	     !sev_cert_pubkey(pdh, &peer) &&
	     !crypto_p384_ecdh(godh, peer, z) &&
	     !crypto_random(&o->tk, sizeof(o->tk)) &&
	     !crypto_random(nonce, 16) && !crypto_random(iv, 16) &&
	     !sev_session_wrap(z, sizeof(z), o->policy, &o->tk, nonce, iv,
			       &o->session);
	crypto_wipe(z, sizeof(z));
	EVP_PKEY_free(godh);
	EVP_PKEY_free(peer);
	return ok;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: softsev-fwdemo [--help]\n"
		"Walks through an SEV launch, attestation and migration on two\n"
		"software AMD Secure Processors (no SEV hardware needed).\n"
		"Exit status 0 means every check held.\n");
}

static void run(struct host *src, struct host *dst, uint8_t *guest,
		uint8_t *target, uint8_t *expect)
{
	static struct sev_cert pdh, chain[3], pdh_b, chain_b[3];
	uint8_t measure[SEV_MEASURE_LEN], ld[32], m[32], back[4096];
	struct sev_user_data_status st;
	struct owner o = { .policy = SEV_POLICY_NOKS | SEV_POLICY_SEV };
	struct psp_launch_start ls = { 0 };
	struct psp_activate act;
	struct psp_launch_update u;
	struct psp_handle hd;
	size_t i;
	bool ok;

	step(export_and_verify(src, &pdh, chain),
	     "owner verifies PDH <- PEK <- OCA/CEK <- ASK <- ARK",
	     "only a genuine platform key can open the owner's session");
	step(owner_session(&o, &pdh), "owner makes GODH key and launch session",
	     "TEK/TIK wrapped for this one platform; policy NOKS|SEV MACed");

	ls.policy = o.policy;
	ls.dh_cert_paddr = (uintptr_t)&o.godh;
	ls.dh_cert_len = SEV_CERT_LEN;
	ls.session_paddr = (uintptr_t)&o.session;
	ls.session_len = SEV_SESSION_LEN;
	act.asid = ASID_SRC;
	ok = !fw(src, PSP_CMD_LAUNCH_START, &ls);
	act.handle = ls.handle;
	ok = ok && !fw(src, PSP_CMD_ACTIVATE, &act);
	step(ok, "LAUNCH_START + ACTIVATE(ASID 100)",
	     "the firmware unwrapped the owner's keys and made a new VEK");

	for (i = 0; i < GUEST_SIZE; i++)
		guest[i] = (uint8_t)(i * 31 + (i >> 12));
	memcpy(expect, guest, GUEST_SIZE);
	crypto_sha256(guest, GUEST_SIZE, ld);
	u = (struct psp_launch_update){ ls.handle, 0, (uintptr_t)guest,
					GUEST_SIZE };
	step(!fw(src, PSP_CMD_LAUNCH_UPDATE_DATA, &u),
	     "LAUNCH_UPDATE_DATA over the 256 KiB guest image",
	     "hashed into the launch digest, then encrypted in place");

	u = (struct psp_launch_update){ ls.handle, 0, (uintptr_t)measure,
					sizeof(measure) };
	ok = !fw(src, PSP_CMD_LAUNCH_MEASURE, &u) &&
	     !sev_ioctl(src, SEV_PLATFORM_STATUS, &st) &&
	     !sev_measure(o.tk.tik, st.api_major, st.api_minor, st.build,
			  o.policy, ld, measure + 32, m) &&
	     !memcmp(m, measure, 32);
	step(ok, "LAUNCH_MEASURE matches the owner's own computation",
	     "HMAC(TIK, api, build, policy, digest, nonce): the image is intact");

	{
		static uint8_t secret[64] = "the disk key: correct horse battery";
		uint8_t trans[64];
		struct sev_packet_hdr hdr = { 0 };
		struct psp_packet p = { 0 };
		struct psp_dbg d = { ls.handle, 0, (uintptr_t)guest,
				     (uintptr_t)back, 64 };

		ok = !crypto_random(hdr.iv, 16) &&
		     !crypto_aes128_ctr(o.tk.tek, hdr.iv, secret, trans, 64) &&
		     !sev_packet_mac(o.tk.tik, SEV_MAC_SECRET, &hdr, 64, trans,
				     64, measure, hdr.mac);
		p = (struct psp_packet){ .handle = ls.handle,
					 .hdr_paddr = (uintptr_t)&hdr,
					 .hdr_len = SEV_PACKET_HDR_LEN,
					 .guest_paddr = (uintptr_t)guest,
					 .guest_len = 64,
					 .trans_paddr = (uintptr_t)trans,
					 .trans_len = 64 };
		ok = ok && !fw(src, PSP_CMD_LAUNCH_SECRET, &p);
		hd.handle = ls.handle;
		ok = ok && !fw(src, PSP_CMD_LAUNCH_FINISH, &hd);
		ok = ok && !fw(src, PSP_CMD_DBG_DECRYPT, &d) &&
		     !memcmp(back, secret, 64) && memcmp(guest, secret, 64);
		memcpy(expect, secret, 64);
		step(ok, "LAUNCH_SECRET, LAUNCH_FINISH; secret readable in guest",
		     "only this measured guest can decrypt what the owner sent");
	}

	ok = export_and_verify(dst, &pdh_b, chain_b);
	{
		uint8_t amd[4096];
		size_t ask_len = 2048, ark_len = 2048;
		struct psp_send_start s = { 0 };
		struct psp_launch_start rs = { 0 };
		static struct sev_session session;

		ok = ok && !psp_get_ask(dst->psp, amd, &ask_len) &&
		     !psp_get_ark(dst->psp, amd + ask_len, &ark_len);
		s = (struct psp_send_start){
			.handle = ls.handle,
			.pdh_cert_paddr = (uintptr_t)&pdh_b,
			.pdh_cert_len = SEV_CERT_LEN,
			.plat_certs_paddr = (uintptr_t)chain_b,
			.plat_certs_len = SEV_CHAIN_LEN,
			.amd_certs_paddr = (uintptr_t)amd,
			.amd_certs_len = (uint32_t)(ask_len + ark_len),
			.session_paddr = (uintptr_t)&session,
			.session_len = SEV_SESSION_LEN,
		};
		ok = ok && !fw(src, PSP_CMD_SEND_START, &s);
		rs = (struct psp_launch_start){
			.policy = s.policy,
			.dh_cert_paddr = (uintptr_t)&pdh,
			.dh_cert_len = SEV_CERT_LEN,
			.session_paddr = (uintptr_t)&session,
			.session_len = SEV_SESSION_LEN,
		};
		ok = ok && !fw(dst, PSP_CMD_RECEIVE_START, &rs);
		act = (struct psp_activate){ rs.handle, ASID_DST };
		ok = ok && !fw(dst, PSP_CMD_ACTIVATE, &act);
		step(ok, "SEND_START to a second platform, RECEIVE_START there",
		     "the source checked the target's chain against policy SEV");

		for (i = 0; ok && i < GUEST_SIZE / 4096; i++) {
			uint8_t hdr[SEV_PACKET_HDR_LEN], trans[4096];
			struct psp_packet p = {
				.handle = ls.handle,
				.hdr_paddr = (uintptr_t)hdr,
				.hdr_len = SEV_PACKET_HDR_LEN,
				.guest_paddr = (uintptr_t)guest + 4096 * i,
				.guest_len = 4096,
				.trans_paddr = (uintptr_t)trans,
				.trans_len = 4096,
			};

			ok = !fw(src, PSP_CMD_SEND_UPDATE_DATA, &p);
			p.handle = rs.handle;
			p.guest_paddr = (uintptr_t)target + 4096 * i;
			ok = ok && !fw(dst, PSP_CMD_RECEIVE_UPDATE_DATA, &p);
		}
		hd.handle = ls.handle;
		ok = ok && !fw(src, PSP_CMD_SEND_FINISH, &hd);
		hd.handle = rs.handle;
		ok = ok && !fw(dst, PSP_CMD_RECEIVE_FINISH, &hd);
		step(ok, "64 pages sent and received, MAC-checked",
		     "memory crossed hosts encrypted under TEK, never in clear");

		for (i = 0; ok && i < GUEST_SIZE / 4096; i++) {
			struct psp_dbg d = { rs.handle, 0,
					     (uintptr_t)target + 4096 * i,
					     (uintptr_t)back, 4096 };

			ok = !fw(dst, PSP_CMD_DBG_DECRYPT, &d) &&
			     !memcmp(back, expect + 4096 * i, 4096);
		}
		step(ok, "the guest's memory is intact on the target",
		     "decrypted with the target's copy of the VEK");

		hd.handle = ls.handle;
		ok = !fw(src, PSP_CMD_DEACTIVATE, &hd) &&
		     !fw(src, PSP_CMD_DECOMMISSION, &hd);
		hd.handle = rs.handle;
		ok = ok && !fw(dst, PSP_CMD_DEACTIVATE, &hd) &&
		     !fw(dst, PSP_CMD_DECOMMISSION, &hd);
		ccp_wbinvd(src->ccp);
		ok = ok && !fw(src, PSP_CMD_DF_FLUSH, NULL);
		ok = ok && psp_guest_count(src->psp) == 0 &&
		     psp_guest_count(dst->psp) == 0 &&
		     psp_dirty_asids(src->psp) == 0;
		step(ok, "teardown: DEACTIVATE, DECOMMISSION, WBINVD + DF_FLUSH",
		     "no guest context left; ASID 100 is clean for reuse");
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, 0, 'h' },
					       { 0, 0, 0, 0 } };
	struct host src = { 0 }, dst = { 0 };
	uint8_t *guest = aligned_alloc(4096, GUEST_SIZE);
	uint8_t *target = aligned_alloc(4096, GUEST_SIZE);
	uint8_t *expect = malloc(GUEST_SIZE);
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		usage(c == 'h' ? stdout : stderr);
		return c == 'h' ? 0 : 2;
	}
	if (!guest || !target || !expect)
		return 1;
	printf("softsev firmware demo: two virtual AMD Secure Processors\n\n");
	t0 = now_ms();
	step(!host_open(&src, "source", NULL) &&
		     !host_open(&dst, "target", src.dir),
	     "two platforms up (Genoa model, API 1.55), one shared root",
	     "each generated its CEK, OCA, PEK and PDH; the root is softsev's");
	if (!failures)
		run(&src, &dst, guest, target, expect);
	host_close(&src);
	host_close(&dst);
	free(guest);
	free(target);
	free(expect);
	printf("\n%s\n", failures ? "some checks FAILED" : "all checks held");
	return failures ? 1 : 0;
}
