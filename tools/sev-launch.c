// SPDX-License-Identifier: MIT
/*
 * sev-launch: the VMM half of a guest owner's launch, driven by files the
 * way QEMU is (sev-guest dh-cert-file/session-file, query-sev-launch-measure,
 * sev-inject-launch-secret), written only against the kernel's uAPI so it
 * runs unchanged on a real SEV host.
 *
 *   sev-launch --dh-cert godh.b64 --session session.b64 --policy P
 *              --firmware IMAGE --out DIR [--timeout SECONDS]
 *
 * It launches IMAGE into an SEV VM, writes DIR/measurement.b64 and
 * DIR/platform.txt, waits for DIR/secret_header.b64 and
 * DIR/secret_payload.b64 from the owner, injects the secret, finishes the
 * launch and, when the policy allows debugging, reads the secret back from
 * guest memory to show where it landed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/psp-sev.h>
#include <openssl/evp.h>

#define KVM_X86_SEV_VM_TYPE 2ul
#define KVM_SEV_INIT2_CMD 22
#define MEM_SIZE (1024 * 1024)
#define SECRET_GPA (MEM_SIZE - 16384) /* a page the image does not use */
#define SECRET_MAX 16384

struct launch {
	int kvm, sev, vm;
	uint8_t *mem;
	const char *dh, *session, *firmware, *out;
	uint32_t policy;
	int timeout;
};

#define sev_cmd(l, id, data) sev_cmd_named(l, id, data, #id)

static int sev_cmd_named(struct launch *l, uint32_t id, void *data,
			 const char *name)
{
	struct kvm_sev_cmd c = { .id = id, .data = (uintptr_t)data,
				 .sev_fd = (uint32_t)l->sev };
	int r = ioctl(l->vm, KVM_MEMORY_ENCRYPT_OP, &c);

	if (r < 0)
		fprintf(stderr, "sev-launch: %s: %s (firmware status %u)\n",
			name + 4, strerror(errno), c.error);
	return r;
}

static void die(const char *what)
{
	fprintf(stderr, "sev-launch: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Whole file; base64 text is decoded (QEMU's file formats). */
static uint8_t *load(const char *path, size_t *len, int b64)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf, *dec;
	size_t n = 0, j = 0;
	int d;

	if (!f)
		return NULL;
	buf = malloc(4 * SECRET_MAX + MEM_SIZE);
	if (buf)
		n = fread(buf, 1, 4 * SECRET_MAX + MEM_SIZE, f);
	fclose(f);
	if (!buf || !b64) {
		*len = n;
		return buf;
	}
	for (size_t i = 0; i < n; i++)
		if (buf[i] > ' ')
			buf[j++] = buf[i];
	dec = malloc(j + 4);
	d = dec && j % 4 == 0 ? EVP_DecodeBlock(dec, buf, (int)j) : -1;
	/* EVP_DecodeBlock counts '=' padding as output bytes. */
	for (size_t i = j; d > 0 && i > 0 && buf[i - 1] == '='; i--)
		d--;
	free(buf);
	if (d < 0) {
		free(dec);
		return NULL;
	}
	*len = (size_t)d;
	return dec;
}

static int write_text(const char *dir, const char *name, const char *text)
{
	char path[4096], tmp[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fputs(text, f);
	if (fclose(f))
		return -1;
	return rename(tmp, path);
}

static void setup(struct launch *l)
{
	struct kvm_userspace_memory_region mr = { .memory_size = MEM_SIZE };
	struct kvm_enc_region reg = { 0, MEM_SIZE };
	uint8_t init[48] = { 0 }; /* struct kvm_sev_init: defaults */

	l->sev = open("/dev/sev", O_RDWR);
	l->kvm = open("/dev/kvm", O_RDWR);
	if (l->sev < 0 || l->kvm < 0)
		die("open /dev/sev and /dev/kvm");
	l->vm = ioctl(l->kvm, KVM_CREATE_VM, KVM_X86_SEV_VM_TYPE);
	if (l->vm < 0)
		die("KVM_CREATE_VM(KVM_X86_SEV_VM)");
	if (sev_cmd(l, KVM_SEV_INIT2_CMD, init))
		exit(1);
	l->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (l->mem == MAP_FAILED)
		die("mmap");
	mr.userspace_addr = (uintptr_t)l->mem;
	reg.addr = (uintptr_t)l->mem;
	if (ioctl(l->vm, KVM_SET_USER_MEMORY_REGION, &mr) ||
	    ioctl(l->vm, KVM_MEMORY_ENCRYPT_REG_REGION, &reg))
		die("guest memory");
}

/* LAUNCH_START with the owner's GODH and session, then the image. */
static size_t start(struct launch *l)
{
	struct kvm_sev_launch_start ls = { .policy = l->policy };
	struct kvm_sev_launch_update_data up;
	size_t dh_len, s_len, fw_len;
	uint8_t *dh = load(l->dh, &dh_len, 1);
	uint8_t *session = load(l->session, &s_len, 1);
	uint8_t *fw = load(l->firmware, &fw_len, 0);

	if (!dh || !session || !fw)
		die("reading --dh-cert, --session or --firmware");
	if (fw_len > SECRET_GPA) {
		fprintf(stderr, "sev-launch: the image must fit in %d KiB\n",
			SECRET_GPA / 1024);
		exit(1);
	}
	ls.dh_uaddr = (uintptr_t)dh;
	ls.dh_len = (uint32_t)dh_len;
	ls.session_uaddr = (uintptr_t)session;
	ls.session_len = (uint32_t)s_len;
	if (sev_cmd(l, KVM_SEV_LAUNCH_START, &ls))
		exit(1);
	printf("LAUNCH_START: guest handle %u, policy 0x%x\n", ls.handle,
	       l->policy);
	memcpy(l->mem, fw, fw_len);
	up.uaddr = (uintptr_t)l->mem;
	up.len = (uint32_t)((fw_len + 15) & ~15ul);
	if (sev_cmd(l, KVM_SEV_LAUNCH_UPDATE_DATA, &up))
		exit(1);
	printf("LAUNCH_UPDATE_DATA: %u bytes of %s\n", up.len, l->firmware);
	free(dh);
	free(session);
	free(fw);
	return fw_len;
}

static void publish(struct launch *l)
{
	struct sev_user_data_status st;
	struct sev_issue_cmd c = { SEV_PLATFORM_STATUS, (uintptr_t)&st, 0 };
	struct kvm_sev_launch_measure m = { 0, 0 };
	uint8_t measure[48];
	char text[128];

	if (ioctl(l->sev, SEV_ISSUE_CMD, &c))
		die("PLATFORM_STATUS");
	m.uaddr = (uintptr_t)measure;
	m.len = sizeof(measure);
	if (sev_cmd(l, KVM_SEV_LAUNCH_MEASURE, &m))
		exit(1);
	EVP_EncodeBlock((uint8_t *)text, measure, sizeof(measure));
	strcat(text, "\n");
	mkdir(l->out, 0755);
	if (write_text(l->out, "measurement.b64", text))
		die("writing measurement.b64");
	snprintf(text, sizeof(text), "api %u.%u\nbuild %u\n", st.api_major,
		 st.api_minor, st.build);
	if (write_text(l->out, "platform.txt", text))
		die("writing platform.txt");
	printf("LAUNCH_MEASURE: wrote measurement.b64 and platform.txt "
	       "(API %u.%u build %u) to %s\n", st.api_major, st.api_minor,
	       st.build, l->out);
}

/* Poll for the owner's two files; both are written by rename. */
static int wait_secret(struct launch *l, uint8_t **hdr, size_t *hlen,
		       uint8_t **trans, size_t *tlen)
{
	char hp[4096], tp[4096];
	time_t end = time(NULL) + l->timeout;

	snprintf(hp, sizeof(hp), "%s/secret_header.b64", l->out);
	snprintf(tp, sizeof(tp), "%s/secret_payload.b64", l->out);
	printf("waiting up to %d s for the owner's secret_header.b64 and "
	       "secret_payload.b64 in %s\n", l->timeout, l->out);
	fflush(stdout);
	while (access(hp, R_OK) || access(tp, R_OK)) {
		if (time(NULL) >= end) {
			fprintf(stderr, "sev-launch: no secret from the owner "
					"after %d s\n", l->timeout);
			return -1;
		}
		usleep(100 * 1000);
	}
	*hdr = load(hp, hlen, 1);
	*trans = load(tp, tlen, 1);
	return *hdr && *trans ? 0 : -1;
}

static void inject(struct launch *l)
{
	struct kvm_sev_launch_secret s = { 0 };
	uint8_t *hdr, *trans;
	size_t hlen, tlen;

	if (wait_secret(l, &hdr, &hlen, &trans, &tlen))
		exit(1);
	if (hlen != 52) { /* flags, IV, MAC */
		fprintf(stderr, "sev-launch: secret_header.b64 holds %zu "
				"bytes, not a 52-byte packet header\n", hlen);
		exit(1);
	}
	s.hdr_uaddr = (uintptr_t)hdr;
	s.hdr_len = (uint32_t)hlen;
	s.trans_uaddr = (uintptr_t)trans;
	s.trans_len = (uint32_t)tlen;
	s.guest_uaddr = (uintptr_t)l->mem + SECRET_GPA;
	s.guest_len = (uint32_t)tlen;
	if (sev_cmd(l, KVM_SEV_LAUNCH_SECRET, &s))
		exit(1);
	printf("LAUNCH_SECRET: %zu bytes injected at guest address 0x%x\n",
	       tlen, SECRET_GPA);
	free(hdr);
	free(trans);
}

static void finish(struct launch *l)
{
	static const char *const states[] = { "UNINIT", "LUPDATE", "LSECRET",
					      "RUNNING", "SUPDATE", "RUPDATE",
					      "SENT" };
	struct kvm_sev_guest_status gs;
	uint8_t out[64] = { 0 };
	struct kvm_sev_dbg d = { (uintptr_t)l->mem + SECRET_GPA,
				 (uintptr_t)out, sizeof(out) };

	if (sev_cmd(l, KVM_SEV_LAUNCH_FINISH, NULL) ||
	    sev_cmd(l, KVM_SEV_GUEST_STATUS, &gs))
		exit(1);
	printf("LAUNCH_FINISH: guest state %s\n",
	       gs.state < 7 ? states[gs.state] : "?");
	if (l->policy & 1) {
		printf("policy NODBG: the secret stays private to the guest\n");
		return;
	}
	if (sev_cmd(l, KVM_SEV_DBG_DECRYPT, &d))
		exit(1);
	out[sizeof(out) - 1] = 0;
	printf("guest memory at 0x%x (DBG_DECRYPT): \"%s\"\n", SECRET_GPA,
	       (char *)out);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dh-cert", required_argument, 0, 'd' },
		{ "session", required_argument, 0, 's' },
		{ "policy", required_argument, 0, 'p' },
		{ "firmware", required_argument, 0, 'f' },
		{ "out", required_argument, 0, 'o' },
		{ "timeout", required_argument, 0, 't' },
		{ 0, 0, 0, 0 },
	};
	struct launch l = { .timeout = 300 };
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': l.dh = optarg; break;
		case 's': l.session = optarg; break;
		case 'p': l.policy = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'f': l.firmware = optarg; break;
		case 'o': l.out = optarg; break;
		case 't': l.timeout = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (!l.dh || !l.session || !l.firmware || !l.out)
		goto usage;
	setup(&l);
	start(&l);
	publish(&l);
	inject(&l);
	finish(&l);
	close(l.vm);
	close(l.kvm);
	close(l.sev);
	return 0;
usage:
	fprintf(stderr, "usage: sev-launch --dh-cert godh.b64 --session "
			"session.b64 --policy P\n"
			"                  --firmware IMAGE --out DIR "
			"[--timeout SECONDS]\n");
	return 2;
}
