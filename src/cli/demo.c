// SPDX-License-Identifier: MIT
/*
 * softsev demo: an attested launch, a mirror-VM migration helper and two
 * migrations of a running guest, on the host's KVM or softsev's emulated one.
 *
 * Three parties share only files in one directory, as they would share
 * them over a network:
 *   this process         the guest owner (no softsev server involved)
 *   vmm@A                softsev-demo-vmm under `softsev run` on platform A
 *   vmm@B                softsev-demo-vmm under `softsev run` on platform B
 * DIR/guest.img, hostA/ and hostB/ (certificates), owner/ (GODH, session;
 * with --es the VMSAs the owner predicted), measurement.b64, platform.txt,
 * secret_*.b64, guest_result.txt, result_checked, mig/ (the SEND stream).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "crypto.h"
#include "demo_step.h"
#include "layout.h"
#include "owner.h"

#define SECRET "softsev demo: the owner's key.."	/* 32 bytes */
/* SEV_POLICY_ES: the firmware launches the guest as SEV-ES only */
#define ES_POLICY 0x4

struct demo {
	struct demo_out o;
	bool legacy, es, keep;
	char dir[PATH_MAX], self[PATH_MAX], vmm[PATH_MAX];
	struct owner_keys keys;
	uint8_t measurement[48];
};

static void dpath(char *out, const struct demo *d, const char *name)
{
	/* d->dir is a mkdtemp or realpath result: well below PATH_MAX. */
	if (snprintf(out, PATH_MAX, "%s/%s", d->dir, name) >= PATH_MAX)
		out[0] = 0;
}

/*
 * argv[0] with the rest; returns the pid (wait: its exit status).  quiet:
 * its stdout goes to /dev/null, so only the demo's lines are on ours.
 */
static pid_t spawn(char *const argv[], bool wait, int *status, bool quiet)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = quiet ? open("/dev/null", O_WRONLY | O_CLOEXEC) : -1;

		if (null >= 0)
			dup2(null, 1);
		execv(argv[0], argv);
		fprintf(stderr, "softsev demo: %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	if (pid > 0 && wait) {
		waitpid(pid, status, 0);
		*status = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128;
	}
	return pid;
}

static bool fail(struct demo *d, int step, const char *what)
{
	demo_step(&d->o, step, false, what, NULL);
	return false;
}

static int share_root(const char *from, const char *to)
{
	char p[PATH_MAX];
	uint8_t *buf;
	size_t len;
	int ret;

	if (snprintf(p, sizeof(p), "%s/root", from) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	ret = owner_read_file(p, &buf, &len);
	if (ret)
		return ret;
	if (snprintf(p, sizeof(p), "%s/root", to) >= (int)sizeof(p))
		ret = -ENAMETOOLONG;
	else
		ret = owner_mkdir(to, 0700) ?: owner_write_file(p, buf, len, 0600);
	free(buf);
	return ret;
}

/* Step 1: the image, and two platforms with their own identities. */
static bool platforms(struct demo *d)
{
	char img[PATH_MAX], sa[PATH_MAX], sb[PATH_MAX], ha[PATH_MAX],
		hb[PATH_MAX], what[512];
	uint8_t pa[32], pb[32];
	struct sev_cert pdh;
	int st;

	demo_begin(&d->o);
	dpath(img, d, "guest.img");
	dpath(sa, d, "stateA");
	dpath(sb, d, "stateB");
	dpath(ha, d, "hostA");
	dpath(hb, d, "hostB");
	{
		char *argv[] = { d->vmm, "image", img, d->es ? "--es" : NULL,
				 NULL };

		if (spawn(argv, true, &st, false), st)
			return fail(d, 1, "building the guest image");
	}
	for (int i = 0; i < 2; i++) {
		char *argv[] = { d->self, "run", "--model", "genoa",
				 "--state-dir", i ? sb : sa, "--", d->self,
				 "certs", "export", i ? hb : ha, NULL };
		char p[PATH_MAX];

		spawn(argv, true, &st, true);
		dpath(p, d, i ? "hostB/pdh.cert" : "hostA/pdh.cert");
		if (st || owner_read_blob(p, (uint8_t *)&pdh, sizeof(pdh)))
			return fail(d, 1, "exporting a platform's "
					  "certificates");
		crypto_sha256(&pdh, sizeof(pdh), i ? pb : pa);
		/* Both chips chain to one ARK, as every EPYC does to AMD's. */
		if (!i && share_root(sa, sb))
			return fail(d, 1, "copying A's root to B");
	}
	snprintf(what, sizeof(what), "two software AMD EPYC (Genoa) platforms "
		 "with their own chips and keys under one root (ARK): A's PDH "
		 "%02x%02x%02x%02x…, B's %02x%02x%02x%02x…; a 32 KiB guest "
		 "image (32-bit code%s, data pages)", pa[0], pa[1], pa[2],
		 pa[3], pb[0], pb[1], pb[2], pb[3],
		 d->es ? " with its own #VC handler" : "");
	demo_step(&d->o, 1, memcmp(pa, pb, 32) != 0, what,
		  "each platform's keys live in its own firmware; the demo "
		  "will launch on A and move the guest to B");
	return memcmp(pa, pb, 32) != 0;
}

static int load_cert(struct demo *d, const char *name, struct sev_cert *c)
{
	char p[PATH_MAX];

	dpath(p, d, name);
	return owner_read_blob(p, (uint8_t *)c, sizeof(*c));
}

static int load_raw(struct demo *d, const char *name, uint8_t **buf,
		    size_t *len)
{
	char p[PATH_MAX];

	dpath(p, d, name);
	return owner_read_file(p, buf, len);
}

/* Step 2: the owner checks A's chain and opens a session with it. */
static bool owner_session_step(struct demo *d, uint32_t policy)
{
	struct sev_cert pdh, pek, oca, cek, godh;
	struct sev_session session;
	uint8_t *ask = NULL, *ark = NULL;
	size_t ask_len, ark_len;
	char p[PATH_MAX];
	int ret;

	demo_begin(&d->o);
	ret = load_cert(d, "hostA/pdh.cert", &pdh) ||
	      load_cert(d, "hostA/pek.cert", &pek) ||
	      load_cert(d, "hostA/oca.cert", &oca) ||
	      load_cert(d, "hostA/cek.cert", &cek) ||
	      load_raw(d, "hostA/ask.cert", &ask, &ask_len) ||
	      load_raw(d, "hostA/ark.cert", &ark, &ark_len);
	ret = ret ?: owner_verify_chain(&pdh, &pek, &oca, &cek, ask, ask_len,
					ark, ark_len, NULL);
	free(ask);
	free(ark);
	if (ret)
		return fail(d, 2, "platform A's certificate chain does not "
				  "hold");
	ret = owner_session(&pdh, policy, &godh, &session, &d->keys);
	dpath(p, d, "owner");
	ret = ret ?: owner_mkdir(p, 0700);
	dpath(p, d, "owner/godh.b64");
	ret = ret ?: owner_write_b64(p, &godh, sizeof(godh));
	dpath(p, d, "owner/session.b64");
	ret = ret ?: owner_write_b64(p, &session, sizeof(session));
	/* Kept only on request, for checking by hand (owner verify). */
	dpath(p, d, "owner/owner.keys");
	if (d->keep)
		ret = ret ?: owner_keys_save(p, &d->keys);
	if (ret)
		return fail(d, 2, "making the launch session");
	demo_step(&d->o, 2, true, "owner verified A's chain (ARK → ASK → CEK, "
		  "OCA → PEK → PDH), made a GODH key and wrapped fresh TEK/TIK "
		  "for A's PDH", "only the firmware holding that PDH can "
		  "unwrap the keys the guest's secret will travel under");
	return true;
}

/* Wait for name while child runs; false if the child died first. */
static bool await(struct demo *d, pid_t child, const char *name)
{
	char p[PATH_MAX];
	int st;

	dpath(p, d, name);
	for (int i = 0; i < 600; i++) {
		if (!access(p, R_OK))
			return true;
		if (waitpid(child, &st, WNOHANG) == child)
			return false;
		usleep(100 * 1000);
	}
	return false;
}

/*
 * What the firmware hashed: the image (LAUNCH_UPDATE_DATA), then with
 * --es each vCPU's VMSA (LAUNCH_UPDATE_VMSA) in the VMM's order, the
 * guest's, then the mirror helper's.  The owner predicts them from the
 * entry state the image defines (layout.h) and KVM's reset state, never
 * from the host, and leaves them in owner/ for `owner measure --vmsa`.
 */
static int launch_digest(struct demo *d, const uint8_t *img, size_t len,
			 uint8_t digest[32])
{
	static const struct {
		uint64_t rip, rsp;
		const char *file;
		bool fpu;
	} vcpu[] = {
		{ GUEST_CODE_GPA, STACK_TOP, "owner/vmsa_guest.bin", true },
		/* the mirror is a type-0 VM: no FPU in its VMSA */
		{ HELPER_GPA, STACK_TOP - 0x1000, "owner/vmsa_helper.bin",
		  false },
	};
	uint8_t vmsa[OWNER_VMSA_LEN];
	struct crypto_sha *sha;
	char p[PATH_MAX];
	int ret;

	if (!d->es)
		return crypto_sha256(img, len, digest);
	if (crypto_sha_begin(&sha))
		return -ENOMEM;
	ret = crypto_sha_add(sha, img, len);
	for (unsigned int i = 0; i < 2 && !ret; i++) {
		/* sev_features 0: KVM_SEV_INIT2 with vmsa_features 0 */
		owner_vmsa_flat32(vcpu[i].rip, vcpu[i].rsp, 0, vcpu[i].fpu,
				  vmsa);
		dpath(p, d, vcpu[i].file);
		ret = crypto_sha_add(sha, vmsa, sizeof(vmsa)) ?:
		      owner_write_file(p, vmsa, sizeof(vmsa), 0644);
	}
	ret = ret ?: crypto_sha_peek(sha, digest);
	crypto_sha_free(sha);
	return ret;
}

/* Step 3, owner's part: check the measurement, release the secret. */
static bool owner_verify_step(struct demo *d, pid_t vmm)
{
	uint8_t *img, digest[32], trans[SEV_SECRET_MAX];
	unsigned int maj, min, build;
	struct sev_packet_hdr hdr;
	size_t len, tlen;
	char p[PATH_MAX], what[400];
	FILE *f;
	int ret;

	if (!await(d, vmm, "platform.txt"))
		return false;
	demo_begin(&d->o);
	dpath(p, d, "platform.txt");
	f = fopen(p, "r");
	ret = !f || fscanf(f, "%u %u %u", &maj, &min, &build) != 3;
	if (f)
		fclose(f);
	dpath(p, d, "measurement.b64");
	ret = ret ?: owner_read_blob(p, d->measurement, 48);
	ret = ret ?: load_raw(d, "guest.img", &img, &len);
	if (ret)
		return fail(d, 3, "reading the VMM's measurement");
	ret = launch_digest(d, img, len, digest);
	free(img);
	ret = ret ?: owner_verify_measurement(&d->keys, (uint8_t)maj,
					      (uint8_t)min, (uint8_t)build,
					      digest, d->measurement);
	if (ret)
		return fail(d, 3, d->es ? "the launch measurement does NOT "
				  "match the image and the VMSAs the owner "
				  "predicted (owner/vmsa_guest.bin, "
				  "owner/vmsa_helper.bin): no secret released" :
				  "the launch measurement does not match the "
				  "image: no secret released");
	snprintf(what, sizeof(what), "owner recomputed HMAC(TIK, API %u.%u, "
		 "build %u, policy%s, SHA-256(image%s), MNONCE): the "
		 "measurement matches", maj, min, build,
		 d->es ? " 0x4 (SEV-ES)" : "",
		 d->es ? " ‖ the guest's and the helper's VMSA, which the "
			 "owner predicted byte for byte from their entry "
			 "state" : "");
	demo_step(&d->o, 3, true, what, "the guest is the expected image, "
		  "launched by the platform the owner checked");
	ret = owner_secret(&d->keys, d->measurement, SECRET, 32, &hdr, trans,
			   &tlen);
	dpath(p, d, "secret_header.b64");
	ret = ret ?: owner_write_b64(p, &hdr, sizeof(hdr));
	dpath(p, d, "secret_payload.b64");
	ret = ret ?: owner_write_b64(p, trans, tlen);
	if (ret)
		return fail(d, 3, "building the secret");
	return true;
}

static uint32_t fnv1a(const char *p, size_t len)
{
	uint32_t h = 0x811c9dc5;

	while (len--)
		h = (h ^ (uint8_t)*p++) * 0x01000193;
	return h;
}

/* Step 4, owner's part: the guest's answer proves it holds the secret. */
static bool owner_result_step(struct demo *d, pid_t vmm)
{
	uint32_t want = fnv1a(SECRET, 32);
	unsigned int got = 0;
	char p[PATH_MAX], what[256];
	FILE *f;

	if (!await(d, vmm, "guest_result.txt"))
		return false;
	demo_begin(&d->o);
	dpath(p, d, "guest_result.txt");
	f = fopen(p, "r");
	if (!f || fscanf(f, "%x", &got) != 1)
		got = ~want;
	if (f)
		fclose(f);
	snprintf(what, sizeof(what), "owner: the guest's answer %08x is the "
		 "hash of the secret it was given", got);
	demo_step(&d->o, 4, got == want, what, "the secret reached the "
		  "guest intact and nobody else could have computed this");
	dpath(p, d, "result_checked");
	owner_write_file(p, "", 0, 0644);
	return got == want;
}

static int wait_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

static pid_t start_vmm(struct demo *d, const char *role, const char *state,
		       const char *actor)
{
	char sdir[PATH_MAX];
	char *argv[24] = { d->self, "run", "--model", "genoa", "--state-dir",
			   sdir, "--kvm=auto", "--", d->vmm, (char *)role,
			   d->dir, "--actor", (char *)actor, "--softsev",
			   d->self };
	int n = 15;

	/*
	 * The host's KVM runs softsev's guests as plain VMs: no #VC, no
	 * GHCB.  Only the emulated KVM models SEV-ES's CPU part.
	 */
	if (d->es)
		argv[6] = "--kvm=emulated";

	dpath(sdir, d, state);
	if (d->o.json)
		argv[n++] = "--json";
	if (d->legacy)
		argv[n++] = "--legacy-init";
	if (d->es) {
		argv[n++] = "--es";
		argv[n++] = "--policy";
		argv[n++] = "0x4";
	}
	argv[n] = NULL;
	return spawn(argv, false, NULL, false);
}

static int rm_entry(const char *p, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void intro(bool es)
{
	printf(
"AMD SEV runs a VM with its memory encrypted under a key that only the\n"
"CPU's Secure Processor (PSP, the firmware) holds, so the host cannot read\n"
"it. The VM's owner, who does not trust the host, checks a measurement of\n"
"what was launched before sending it secrets. Three parties follow, sharing\n"
"only files: the owner, and a VMM on each of two software SEV platforms A\n"
"and B (softsev run; the guest runs on the host's KVM, or on softsev's\n"
"emulated one where there is no /dev/kvm). Key names: PDH, a platform's\n"
"key-exchange key; TEK/TIK, one launch's encryption and integrity keys.\n\n");
	if (es)
		printf(
"With --es the guest is an SEV-ES guest: its registers are encrypted too\n"
"(its VMSA, measured at launch, which the owner predicts), and it asks the\n"
"host for CPUID and port I/O itself, through its #VC handler and the GHCB,\n"
"a page it shares with the host. This runs on softsev's emulated KVM.\n\n");
	fflush(stdout);
}

static int run_demo(struct demo *d)
{
	double t0 = demo_now_ms();
	pid_t a, b;
	char what[128];

	if (!platforms(d) || !owner_session_step(d, d->es ? ES_POLICY : 0))
		return 1;
	a = start_vmm(d, "source", "stateA", "vmm@A");
	if (a < 0 || !owner_verify_step(d, a) || !owner_result_step(d, a)) {
		kill(a, SIGTERM);
		wait_status(a);
		return 1;
	}
	if (wait_status(a))
		return 1;
	b = start_vmm(d, "target", "stateB", "vmm@B");
	if (b < 0 || wait_status(b))
		return 1;
	d->o.t0 = t0;
	snprintf(what, sizeof(what), "every check held; total time");
	demo_step(&d->o, 9, true, what, NULL);
	return 0;
}

static const char demo_usage[] =
	"usage: softsev demo [--json] [--es | --legacy-init] [--keep DIR]\n"
	"An attested SEV launch, a mirror-VM migration helper and two migrations\n"
	"of a running guest (on /dev/kvm, or the emulated KVM without it); exit\n"
	"status 0 only if every check held.\n"
	"  --json         one JSON object per step (JSON Lines)\n"
	"  --legacy-init  KVM_SEV_INIT on DEFAULT-type VMs instead of\n"
	"                 KVM_SEV_INIT2 on SEV-type VMs\n"
	"  --es           the same story as an SEV-ES guest (policy 0x4), always\n"
	"                 on the emulated KVM: the guest does its CPUID and port\n"
	"                 I/O through its own #VC handler and the GHCB, and ends\n"
	"                 with TERM_REQ. The launch measures the guest's and the\n"
	"                 mirror helper's VMSA, which the owner predicts itself\n"
	"                 (softsev owner vmsa: the entry state the image defines,\n"
	"                 flat 32-bit mode at 0x1000 and 0x2000, and KVM's reset\n"
	"                 values for the rest); any byte off fails step 3. An\n"
	"                 SEV-ES guest's registers cannot follow its memory to B\n"
	"                 (Linux has no SEND/RECEIVE_UPDATE_VMSA): B checks the\n"
	"                 memory only\n"
	"  --keep DIR     exchange the parties' files in DIR and leave them there\n"
	"                 (with the owner's keys in DIR/owner/owner.keys)\n";

int cmd_demo(int argc, char **argv)
{
	static const char *const vmm[] = { "softsev-demo-vmm",
					   "../../tools/softsev-demo-vmm",
					   "../libexec/softsev/softsev-demo-vmm",
					   NULL };
	struct demo d = { .o = { .actor = "owner" } };
	const char *keep = NULL;
	ssize_t n;
	int ret;

	if (cli_wants_help(argc, argv)) {
		fputs(demo_usage, stdout);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			d.o.json = true;
		} else if (!strcmp(argv[i], "--es")) {
			d.es = true;
		} else if (!strcmp(argv[i], "--legacy-init")) {
			d.legacy = true;
		} else if (!strcmp(argv[i], "--keep") && i + 1 < argc) {
			keep = argv[++i];
		} else {
			fputs(demo_usage, stderr);
			return 2;
		}
	}
	if (d.es && d.legacy) {
		/* --legacy-init's point is the guest ticking on after MOVE */
		fprintf(stderr, "softsev demo: --es with --legacy-init is not "
			"offered: the SEV-ES guest ends itself in step 4, so "
			"the moved-to VM has nothing to run on\n");
		return 2;
	}
	n = readlink("/proc/self/exe", d.self, sizeof(d.self) - 1);
	if (n <= 0 || cli_find_sibling(vmm, d.vmm, sizeof(d.vmm))) {
		fprintf(stderr, "softsev demo: cannot find softsev-demo-vmm "
				"next to softsev\n");
		return 1;
	}
	d.self[n] = 0;
	d.keep = keep != NULL;
	if (keep) {
		if (owner_mkdir(keep, 0700) ||
		    !realpath(keep, d.dir)) {
			perror(keep);
			return 1;
		}
	} else {
		snprintf(d.dir, sizeof(d.dir), "/tmp/softsev-demo.XXXXXX");
		if (!mkdtemp(d.dir)) {
			perror("mkdtemp");
			return 1;
		}
	}
	if (!d.o.json)
		intro(d.es);
	ret = run_demo(&d);
	crypto_wipe(&d.keys, sizeof(d.keys));
	if (!keep)
		nftw(d.dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	if (ret && !d.o.json)
		fprintf(stderr, "softsev demo: a check failed (see above); "
				"rerun with --keep DIR to inspect the files\n");
	return ret;
}
