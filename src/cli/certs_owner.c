// SPDX-License-Identifier: MIT
/*
 * softsev certs export|verify and softsev owner session|measure|verify|
 * secret: the guest owner's side, with files only.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "cli.h"
#include "crypto.h"
#include "owner.h"
#include "proto.h"

static void path_in(char *out, size_t len, const char *dir, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static int fail(const char *cmd, const char *what, int err)
{
	fprintf(stderr, "softsev %s: %s: %s\n", cmd, what,
		err == -EINVAL ? "not the expected format or size" :
				 strerror(err < 0 ? -err : err));
	return 1;
}

/* One request on an open connection (after HELLO when needed). */
static int call(int s, struct ss_req *req, struct ss_rep *rep, int *fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { rep, sizeof(*rep) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };

	if (send(s, req, sizeof(*req), 0) != sizeof(*req) ||
	    recvmsg(s, &m, 0) != sizeof(*rep))
		return -EIO;
	if (fd && CMSG_FIRSTHDR(&m))
		memcpy(fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
	else if (CMSG_FIRSTHDR(&m)) {
		int extra;

		memcpy(&extra, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
		close(extra);
	}
	return rep->ret;
}

static int export_certs(int argc, char **argv)
{
	static struct sev_cert pdh, chain[3];
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct sev_user_data_pdh_cert_export e = {
		(uintptr_t)&pdh, SEV_CERT_LEN, (uintptr_t)chain, SEV_CHAIN_LEN
	};
	struct sev_issue_cmd cmd = { SEV_PDH_CERT_EXPORT, (uintptr_t)&e, 0 };
	struct ss_req req = { .op = SS_HELLO, .a1 = 0x736f667473657631 };
	const char *sock = getenv(SS_ENV_SOCKET), *dir;
	uint8_t root[4096];
	char path[4096];
	struct ss_rep rep;
	int s, fd = -1, ret;
	ssize_t n;

	if (argc == 4 && !strcmp(argv[1], "--connect")) {
		sock = argv[2];
		dir = argv[3];
	} else if (argc == 2) {
		dir = argv[1];
	} else {
		fprintf(stderr, "usage: softsev certs export [--connect SOCKET] DIR\n");
		return 2;
	}
	if (!sock) {
		fprintf(stderr, "softsev certs export: no machine: give "
				"--connect SOCKET or run inside softsev run\n");
		return 2;
	}
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock);
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof(addr)))
		return fail("certs export", sock, -errno);
	/* Act as a client: the server reads and writes our memory. */
	if (call(s, &req, &rep, NULL))
		return fail("certs export", "softsevd refused us", -EPROTO);
	req = (struct ss_req){ .op = SS_SEV_IOCTL, .a1 = SEV_ISSUE_CMD,
			       .arg = (uintptr_t)&cmd, .a2 = 0 };
	ret = call(s, &req, &rep, NULL);
	if (ret)
		return fail("certs export", "PDH_CERT_EXPORT", ret);
	req = (struct ss_req){ .op = SS_ROOT_CERTS };
	ret = call(s, &req, &rep, &fd);
	close(s);
	if (ret || fd < 0)
		return fail("certs export", "ASK/ARK", ret ? ret : -EIO);
	n = read(fd, root, sizeof(root));
	close(fd);
	if (n <= (ssize_t)rep.value)
		return fail("certs export", "ASK/ARK", -EIO);
	ret = owner_mkdir(dir, 0755);
	if (ret)
		return fail("certs export", dir, ret);
	path_in(path, sizeof(path), dir, "pdh.cert");
	ret = owner_write_file(path, &pdh, SEV_CERT_LEN, 0644);
	path_in(path, sizeof(path), dir, "pek.cert");
	ret = ret ?: owner_write_file(path, &chain[0], SEV_CERT_LEN, 0644);
	path_in(path, sizeof(path), dir, "oca.cert");
	ret = ret ?: owner_write_file(path, &chain[1], SEV_CERT_LEN, 0644);
	path_in(path, sizeof(path), dir, "cek.cert");
	ret = ret ?: owner_write_file(path, &chain[2], SEV_CERT_LEN, 0644);
	path_in(path, sizeof(path), dir, "ask.cert");
	ret = ret ?: owner_write_file(path, root, rep.value, 0644);
	path_in(path, sizeof(path), dir, "ark.cert");
	ret = ret ?: owner_write_file(path, root + rep.value,
				      (size_t)n - rep.value, 0644);
	/* QEMU's query-sev-capabilities: pdh and cert-chain (PEK||OCA||CEK). */
	path_in(path, sizeof(path), dir, "cert_chain.cert");
	ret = ret ?: owner_write_file(path, chain, SEV_CHAIN_LEN, 0644);
	path_in(path, sizeof(path), dir, "pdh.b64");
	ret = ret ?: owner_write_b64(path, &pdh, SEV_CERT_LEN);
	path_in(path, sizeof(path), dir, "cert_chain.b64");
	ret = ret ?: owner_write_b64(path, chain, SEV_CHAIN_LEN);
	if (ret)
		return fail("certs export", dir, ret);
	printf("wrote pdh, pek, oca, cek, ask, ark (.cert) and cert_chain "
	       "to %s\n", dir);
	return 0;
}

static int load_cert(const char *dir, const char *name, struct sev_cert *c)
{
	char path[4096];

	path_in(path, sizeof(path), dir, name);
	return owner_read_blob(path, (uint8_t *)c, sizeof(*c));
}

static int verify_certs(int argc, char **argv)
{
	struct sev_cert pdh, pek, oca, cek;
	uint8_t *ask = NULL, *ark = NULL, *pinned = NULL;
	size_t ask_len = 0, ark_len = 0, pinned_len = 0;
	char path[4096];
	const char *dir = argc > 1 ? argv[argc - 1] : NULL;
	int ret;

	if (!(argc == 2 || (argc == 4 && !strcmp(argv[1], "--ark")))) {
		fprintf(stderr, "usage: softsev certs verify [--ark TRUSTED_ARK] DIR\n");
		return 2;
	}
	if ((ret = load_cert(dir, "pdh.cert", &pdh)) ||
	    (ret = load_cert(dir, "pek.cert", &pek)) ||
	    (ret = load_cert(dir, "oca.cert", &oca)) ||
	    (ret = load_cert(dir, "cek.cert", &cek)))
		return fail("certs verify", "a certificate in DIR", ret);
	path_in(path, sizeof(path), dir, "ask.cert");
	ret = owner_read_file(path, &ask, &ask_len);
	path_in(path, sizeof(path), dir, "ark.cert");
	ret = ret ?: owner_read_file(path, &ark, &ark_len);
	if (ret)
		return fail("certs verify", "ask.cert/ark.cert", ret);
	ret = owner_verify_chain(&pdh, &pek, &oca, &cek, ask, ask_len, ark,
				 ark_len, stdout);
	/* Trust comes from the ARK the owner already has, not DIR's copy. */
	if (argc == 4) {
		int same = !owner_read_file(argv[2], &pinned, &pinned_len) &&
			   pinned_len == ark_len &&
			   !memcmp(pinned, ark, ark_len);

		printf("%-34s %s\n", "ARK is the trusted one",
		       same ? "ok" : "FAIL (a different root)");
		if (!same)
			ret = -EBADMSG;
	}
	printf(ret ? "the chain does NOT hold\n" : "the chain holds\n");
	free(ask);
	free(ark);
	free(pinned);
	return ret ? 1 : 0;
}

static const char certs_usage[] =
	"usage: softsev certs export [--connect SOCKET] DIR\n"
	"       softsev certs verify [--ark TRUSTED_ARK] DIR\n"
	"\n"
	"export  writes the platform's pdh, pek, oca, cek, ask and ark .cert files,\n"
	"        cert_chain.cert (PEK||OCA||CEK) and base64 forms (inside softsev run,\n"
	"        or with --connect to a running softsevd)\n"
	"verify  checks the chain in DIR link by link as a guest owner does; with\n"
	"        --ark, also that it ends at the ARK you trust\n";

int cmd_certs(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(certs_usage, stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "export"))
		return export_certs(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "verify"))
		return verify_certs(argc - 1, argv + 1);
	fputs(certs_usage, stderr);
	return 2;
}

/* --- softsev owner --- */

static int owner_session_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pdh", required_argument, 0, 'p' },
		{ "policy", required_argument, 0, 'P' },
		{ "out", required_argument, 0, 'o' },
		{ 0, 0, 0, 0 },
	};
	const char *pdh_path = NULL, *out = NULL;
	struct sev_cert pdh, godh;
	struct sev_session session;
	struct owner_keys keys;
	uint32_t policy = 0;
	char path[4096];
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'p')
			pdh_path = optarg;
		else if (c == 'P')
			policy = (uint32_t)strtoul(optarg, NULL, 0);
		else if (c == 'o')
			out = optarg;
		else
			return 2;
	}
	if (!pdh_path || !out) {
		fprintf(stderr, "usage: softsev owner session --pdh FILE "
				"--policy P --out DIR\n");
		return 2;
	}
	ret = owner_read_blob(pdh_path, (uint8_t *)&pdh, sizeof(pdh));
	if (ret)
		return fail("owner session", pdh_path, ret);
	ret = owner_session(&pdh, policy, &godh, &session, &keys);
	if (ret)
		return fail("owner session", "the platform's PDH", ret);
	ret = owner_mkdir(out, 0700);
	if (ret)
		return fail("owner session", out, ret);
	path_in(path, sizeof(path), out, "godh.b64");
	ret = owner_write_b64(path, &godh, sizeof(godh));
	path_in(path, sizeof(path), out, "session.b64");
	ret = ret ?: owner_write_b64(path, &session, sizeof(session));
	path_in(path, sizeof(path), out, "owner.keys");
	ret = ret ?: owner_keys_save(path, &keys);
	crypto_wipe(&keys, sizeof(keys));
	if (ret)
		return fail("owner session", out, ret);
	printf("wrote godh.b64 and session.b64 (QEMU sev-guest dh-cert-file "
	       "and session-file)\nand owner.keys (0600: TEK, TIK, policy, API) "
	       "to %s\n", out);
	return 0;
}

/*
 * Hash a file into out and/or ld.  pad: the image as LAUNCH_UPDATE_DATA
 * sees it, zero-filled to its 16-byte granule (§ LAUNCH_UPDATE_DATA).
 */
static int sha_file(const char *path, uint8_t out[32], struct crypto_sha *ld,
		    bool pad)
{
	static const uint8_t zero[16];
	uint8_t *buf;
	size_t len;
	int ret = owner_read_file(path, &buf, &len);

	if (ret)
		return ret;
	if (out)
		ret = crypto_sha256(buf, len, out);
	if (ld)
		ret = ret ?: crypto_sha_add(ld, buf, len);
	if (ld && pad && len % 16)
		ret = ret ?: crypto_sha_add(ld, zero, 16 - len % 16);
	free(buf);
	return ret;
}

/*
 * The expected launch digest: the firmware image, then QEMU's padded
 * hashes table when a kernel is given, then each VMSA (SEV-ES).
 */
static int owner_measure_cmd(int argc, char **argv, uint8_t digest[32],
			     bool print)
{
	static const struct option opts[] = {
		{ "firmware", required_argument, 0, 'f' },
		{ "kernel", required_argument, 0, 'k' },
		{ "initrd", required_argument, 0, 'i' },
		{ "cmdline", required_argument, 0, 'c' },
		{ "vmsa", required_argument, 0, 'v' },
		{ "digest", required_argument, 0, 'd' },
		{ 0, 0, 0, 0 },
	};
	const char *fw = NULL, *kernel = NULL, *initrd = NULL, *cmdline = NULL;
	const char *vmsas[64], *given = NULL;
	struct crypto_sha *ld;
	int c, nvmsa = 0, i, ret;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f': fw = optarg; break;
		case 'k': kernel = optarg; break;
		case 'i': initrd = optarg; break;
		case 'c': cmdline = optarg; break;
		case 'd': given = optarg; break;
		case 'v':
			if (nvmsa < 64)
				vmsas[nvmsa++] = optarg;
			break;
		}
	}
	if (given) {
		for (i = 0; i < 32; i++) {
			unsigned int b;

			if (sscanf(given + 2 * i, "%2x", &b) != 1)
				return fail("owner", "--digest", -EINVAL);
			digest[i] = (uint8_t)b;
		}
		return 0;
	}
	if (!fw) {
		fprintf(stderr, "usage: softsev owner measure --firmware FILE "
				"[--kernel K --initrd I --cmdline C] [--vmsa F]...\n");
		return 2;
	}
	if (crypto_sha_begin(&ld))
		return 1;
	ret = sha_file(fw, NULL, ld, true);
	if (!ret && kernel) {
		uint8_t kh[32], ih[32], ch[32], table[SEV_HASH_TABLE_LEN];
		const char *cl = cmdline ? cmdline : "";

		ret = sha_file(kernel, kh, NULL, false);
		if (!ret && initrd)
			ret = sha_file(initrd, ih, NULL, false);
		else if (!ret)
			ret = crypto_sha256("", 0, ih);
		/* The command line is hashed with its terminating NUL. */
		ret = ret ?: crypto_sha256(cl, strlen(cl) + 1, ch);
		owner_hash_table(kh, ih, ch, table);
		ret = ret ?: crypto_sha_add(ld, table, sizeof(table));
	}
	for (i = 0; !ret && i < nvmsa; i++)
		ret = sha_file(vmsas[i], NULL, ld, false);
	ret = ret ?: crypto_sha_peek(ld, digest);
	crypto_sha_free(ld);
	if (ret)
		return fail("owner measure", "an input file", ret);
	if (print) {
		for (i = 0; i < 32; i++)
			printf("%02x", digest[i]);
		printf("\n");
	}
	return 0;
}

/* "1.55" */
static int parse_api(const char *s, uint8_t *maj, uint8_t *min)
{
	unsigned int a, b;

	if (sscanf(s, "%u.%u", &a, &b) != 2 || a > 255 || b > 255)
		return -EINVAL;
	*maj = (uint8_t)a;
	*min = (uint8_t)b;
	return 0;
}

/* The value after "--name" among the arguments, or NULL. */
static const char *opt_value(int argc, char **argv, const char *name)
{
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return argv[i + 1];
	return NULL;
}

/* Whether "--name" is among the arguments. */
static bool opt_flag(int argc, char **argv, const char *name)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

static int owner_verify_cmd(int argc, char **argv)
{
	const char *keys_path = opt_value(argc, argv, "--keys");
	const char *mpath = opt_value(argc, argv, "--measurement");
	const char *api = opt_value(argc, argv, "--api");
	const char *bs = opt_value(argc, argv, "--build");
	uint8_t digest[32], measurement[48], maj, min;
	unsigned long build = 0;
	char *end = NULL;
	struct owner_keys k;
	int ret;

	/* The platform's version is bound into MEASURE: no default. */
	if (bs)
		build = strtoul(bs, &end, 0);
	if (!keys_path || !mpath || !api || parse_api(api, &maj, &min) ||
	    !bs || *end || build > 255) {
		fprintf(stderr,
			"usage: softsev owner verify --keys owner.keys --measurement FILE\n"
			"         --api MAJOR.MINOR --build N\n"
			"         (--digest HEX | --firmware FILE [--kernel K --initrd I\n"
			"          --cmdline C] [--vmsa F]...)\n");
		return 2;
	}
	ret = owner_measure_cmd(argc, argv, digest, false);
	if (ret)
		return ret;
	ret = owner_keys_load(keys_path, &k);
	if (ret)
		return fail("owner verify", keys_path, ret);
	ret = owner_read_blob(mpath, measurement, sizeof(measurement));
	if (ret)
		return fail("owner verify", mpath, ret);
	ret = owner_verify_measurement(&k, maj, min, (uint8_t)build, digest,
				       measurement);
	crypto_wipe(&k, sizeof(k));
	if (ret) {
		printf("measurement does NOT match: wrong image, policy, "
		       "platform version or keys; release no secret\n");
		return 1;
	}
	printf("measurement verified: the expected image was launched with "
	       "policy 0x%x on API %u.%u build %lu\n", k.policy, maj, min,
	       build);
	return 0;
}

static int owner_secret_cmd(int argc, char **argv)
{
	const char *keys_path = opt_value(argc, argv, "--keys");
	const char *mpath = opt_value(argc, argv, "--measurement");
	const char *spath = opt_value(argc, argv, "--secret");
	const char *out = opt_value(argc, argv, "--out");
	uint8_t measurement[48], *secret, trans[SEV_SECRET_MAX];
	struct sev_packet_hdr hdr;
	struct owner_keys k;
	size_t len, tlen;
	char path[4096];
	int ret;

	if (!keys_path || !mpath || !spath || !out) {
		fprintf(stderr, "usage: softsev owner secret --keys owner.keys "
				"--measurement FILE --secret FILE --out DIR\n");
		return 2;
	}
	if ((ret = owner_keys_load(keys_path, &k)))
		return fail("owner secret", keys_path, ret);
	if ((ret = owner_read_blob(mpath, measurement, sizeof(measurement))))
		return fail("owner secret", mpath, ret);
	if ((ret = owner_read_file(spath, &secret, &len)))
		return fail("owner secret", spath, ret);
	ret = owner_secret(&k, measurement, secret, len, &hdr, trans, &tlen);
	crypto_wipe(secret, len);
	free(secret);
	crypto_wipe(&k, sizeof(k));
	if (ret)
		return fail("owner secret", "the secret (at most 16 KiB)", ret);
	ret = owner_mkdir(out, 0700);
	if (ret)
		return fail("owner secret", out, ret);
	/* QMP sev-inject-launch-secret: packet-header and secret, base64. */
	path_in(path, sizeof(path), out, "secret_header.b64");
	ret = owner_write_b64(path, &hdr, sizeof(hdr));
	path_in(path, sizeof(path), out, "secret_payload.b64");
	ret = ret ?: owner_write_b64(path, trans, tlen);
	if (ret)
		return fail("owner secret", out, ret);
	printf("wrote secret_header.b64 and secret_payload.b64 (%zu bytes) "
	       "to %s\n", tlen, out);
	return 0;
}

/* An address or value, decimal or 0x...; false unless all of s is one. */
static bool parse_u64(const char *s, uint64_t *v)
{
	char *end = NULL;

	if (!s || !*s)
		return false;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && !*end;
}

/*
 * The VMSA the owner expects for a vCPU whose entry state it knows
 * (owner_vmsa_flat32()), for `owner measure --vmsa`.
 */
static int owner_vmsa_cmd(int argc, char **argv)
{
	const char *out = opt_value(argc, argv, "--out");
	const char *features = opt_value(argc, argv, "--sev-features");
	uint8_t vmsa[OWNER_VMSA_LEN];
	uint64_t rip, rsp, f = 0;
	int ret;

	if (!parse_u64(opt_value(argc, argv, "--entry"), &rip) ||
	    !parse_u64(opt_value(argc, argv, "--stack"), &rsp) ||
	    (features && !parse_u64(features, &f)) || (!out && isatty(1))) {
		fprintf(stderr, "usage: softsev owner vmsa --entry RIP --stack "
				"RSP [--sev-features F] [--no-fpu] (--out FILE "
				"| > FILE)\n");
		return 2;
	}
	owner_vmsa_flat32(rip, rsp, f, !opt_flag(argc, argv, "--no-fpu"),
			  vmsa);
	if (out) {
		ret = owner_write_file(out, vmsa, sizeof(vmsa), 0644);
		return ret ? fail("owner vmsa", out, ret) : 0;
	}
	if (fwrite(vmsa, 1, sizeof(vmsa), stdout) != sizeof(vmsa) ||
	    fflush(stdout))
		return fail("owner vmsa", "stdout", -EIO);
	return 0;
}

static const char owner_usage[] =
	"usage: softsev owner session --pdh FILE --policy P --out DIR\n"
	"       softsev owner measure --firmware FILE [--kernel K --initrd I --cmdline C]\n"
	"                             [--vmsa FILE]...\n"
	"       softsev owner vmsa --entry RIP --stack RSP [--sev-features F]\n"
	"                          [--no-fpu] (--out FILE | > FILE)\n"
	"       softsev owner verify --keys owner.keys --measurement FILE --api M.N\n"
	"                            --build N (--digest HEX | measure's options)\n"
	"       softsev owner secret --keys owner.keys --measurement FILE\n"
	"                            --secret FILE --out DIR\n"
	"\n"
	"The guest owner's side, with files only and no server:\n"
	"session  GODH key and TEK/TIK for a platform's PDH: godh.b64, session.b64\n"
	"         (QEMU dh-cert-file, session-file) and owner.keys (0600)\n"
	"measure  the expected launch digest of an image (hex)\n"
	"vmsa     the 4 KiB VMSA an SEV-ES vCPU is measured with when its VMM\n"
	"         started it in flat 32-bit protected mode at RIP with stack RSP,\n"
	"         the rest as KVM creates a vCPU (for measure --vmsa); --no-fpu\n"
	"         for a VM not of an SEV type (KVM_SEV_ES_INIT, a type-0 mirror)\n"
	"verify   checks a LAUNCH_MEASURE blob (measurement.b64) with the TIK\n"
	"secret   secret_header.b64 and secret_payload.b64 for LAUNCH_SECRET\n";

int cmd_owner(int argc, char **argv)
{
	uint8_t digest[32];

	if (cli_wants_help(argc, argv)) {
		fputs(owner_usage, stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "session"))
		return owner_session_cmd(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "measure"))
		return owner_measure_cmd(argc - 1, argv + 1, digest, true);
	if (argc >= 2 && !strcmp(argv[1], "vmsa"))
		return owner_vmsa_cmd(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "verify"))
		return owner_verify_cmd(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "secret"))
		return owner_secret_cmd(argc - 1, argv + 1);
	fputs(owner_usage, stderr);
	return 2;
}
