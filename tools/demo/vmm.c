// SPDX-License-Identifier: MIT
/*
 * softsev-demo-vmm: the small VMM of `softsev demo`, written directly on
 * /dev/kvm and /dev/sev with the kernel's uAPI only.  Roles:
 *   image FILE          write the guest image the owner expects
 *   source DIR          launch, run, mirror helper, MOVE, SEND (platform A)
 *   target DIR          RECEIVE and resume the guest (platform B)
 * DIR holds the files the parties exchange (see src/cli/demo.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/psp-sev.h>
#include <openssl/evp.h>

#include "layout.h"
#include "vmm.h"

#define KVM_SEV_INIT2_CMD 22
#define CERT_LEN 0x824
#define HDR_LEN 52
#define NPAGES (GUEST_MEM / 4096)

extern const uint8_t demo_guest_start[], demo_guest_end[];
extern const uint8_t demo_helper_start[], demo_helper_end[];

__attribute__((noreturn)) void fail(struct vmm *v, int step, const char *what)
{
	char msg[512];

	int n = snprintf(msg, sizeof(msg), "%s: %s", what, strerror(errno));

	if (v->fw_error && n > 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n,
			 " (firmware status 0x%x)", v->fw_error);
	demo_step(&v->o, step, false, msg, NULL);
	exit(1);
}

int sev_op(struct vmm *v, int vm, uint32_t id, void *data)
{
	struct kvm_sev_cmd c = { .id = id, .data = (uintptr_t)data,
				 .sev_fd = (uint32_t)v->sev };
	int r = ioctl(vm, KVM_MEMORY_ENCRYPT_OP, &c);

	v->fw_error = r < 0 ? c.error : 0;
	return r;
}

static void path(char *out, size_t len, struct vmm *v, const char *name)
{
	snprintf(out, len, "%s/%s", v->dir, name);
}

static int save(struct vmm *v, const char *name, const void *buf, size_t len)
{
	char p[4096], tmp[4200];
	int fd, ok;

	path(p, sizeof(p), v, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	ok = write(fd, buf, len) == (ssize_t)len;
	if (close(fd) || !ok)
		return -1;
	return rename(tmp, p);
}

/* Exactly len bytes (len 0: any size up to max, returned in *got). */
static int load(struct vmm *v, const char *name, void *buf, size_t len,
		size_t *got)
{
	char p[4096];
	int fd;
	ssize_t n;

	path(p, sizeof(p), v, name);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len);
	close(fd);
	if (got)
		*got = n < 0 ? 0 : (size_t)n;
	return n < 0 || (!got && (size_t)n != len) ? -1 : 0;
}

static uint32_t fnv1a(const uint8_t *p, size_t len)
{
	uint32_t h = 0x811c9dc5;

	while (len--)
		h = (h ^ *p++) * 0x01000193;
	return h;
}

void build_data(uint8_t *img)
{
	for (size_t i = DATA_GPA; i < IMAGE_LEN; i++)
		img[i] = (uint8_t)(i * 131 + (i >> 8));
}

static void build_image(uint8_t *img, bool es)
{
	memset(img, 0, IMAGE_LEN);
	if (es) {
		es_build_image(img);
		return;
	}
	memcpy(img + GUEST_CODE_GPA, demo_guest_start,
	       (size_t)(demo_guest_end - demo_guest_start));
	memcpy(img + HELPER_GPA, demo_helper_start,
	       (size_t)(demo_helper_end - demo_helper_start));
	build_data(img);
}

static int open_devices(struct vmm *v)
{
	v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	v->sev = open("/dev/sev", O_RDWR | O_CLOEXEC);
	v->mem = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return v->kvm < 0 || v->sev < 0 || v->mem == MAP_FAILED ? -1 : 0;
}

/* The host's KVM is a character device; softsev's emulated one is not. */
static bool emulated(int kvm)
{
	struct stat st;

	return fstat(kvm, &st) || !S_ISCHR(st.st_mode);
}

/*
 * The host's CPUID as the VM's, as a VMM passes it on, where the guest can
 * be an SEV guest: on softsev's emulated KVM.  On the host's KVM the
 * guest is a plain KVM guest, so it gets no CPUID table (and no SEV leaf
 * that would send it to an SEV_STATUS MSR that KVM does not have).
 */
static int set_cpuid(struct vmm *v, struct vm *vm)
{
	struct kvm_cpuid2 *c;
	int ret;

	if (!emulated(v->kvm))
		return 0;
	c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));
	if (!c)
		return -1;
	c->nent = 256;
	ret = ioctl(v->kvm, KVM_GET_SUPPORTED_CPUID, c) ||
	      ioctl(vm->vcpu, KVM_SET_CPUID2, c) ? -1 : 0;
	free(c);
	return ret;
}

/*
 * A VM on v->mem (slot 0) with one vCPU.  from >= 0: first take that VM's
 * context with cap (COPY makes a mirror, MOVE migrates), as a VMM must
 * before the VM has vCPUs.
 */
int make_vm(struct vmm *v, struct vm *vm, unsigned long type, bool init,
	    uint32_t cap, int from)
{
	struct kvm_userspace_memory_region mr = {
		.memory_size = GUEST_MEM, .userspace_addr = (uintptr_t)v->mem
	};
	struct kvm_enable_cap ec = { .cap = cap, .args = { (uint64_t)from } };
	struct { uint64_t vmsa_features; uint32_t flags; uint16_t ghcb;
		 uint16_t pad1; uint32_t pad2[8]; } init2 = { 0 };
	uint32_t legacy_init = v->es ? KVM_SEV_ES_INIT : KVM_SEV_INIT;
	int sz;

	if (v->es && type)
		type = KVM_X86_SEV_ES_VM_TYPE;
	if (v->legacy && type)
		type = 0; /* KVM_SEV_(ES_)INIT wants a DEFAULT-type VM */
	vm->fd = ioctl(v->kvm, KVM_CREATE_VM, type);
	if (vm->fd < 0)
		return -1;
	if (init && (v->legacy ? sev_op(v, vm->fd, legacy_init, NULL) :
				 sev_op(v, vm->fd, KVM_SEV_INIT2_CMD, &init2)))
		return -1;
	if (cap == KVM_CAP_VM_COPY_ENC_CONTEXT_FROM &&
	    ioctl(vm->fd, KVM_ENABLE_CAP, &ec))
		return -1;
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &mr))
		return -1;
	vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	sz = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu < 0 || sz < 0 || set_cpuid(v, vm))
		return -1;
	vm->run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->vcpu, 0);
	if (vm->run == MAP_FAILED)
		return -1;
	/* MOVE wants the destination's vCPUs to match the source's. */
	if (cap == KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM &&
	    ioctl(vm->fd, KVM_ENABLE_CAP, &ec))
		return -1;
	return 0;
}

/* Flat 32-bit protected mode, no paging. */
int set_cpu(struct vm *vm, uint32_t rip, uint32_t rsp)
{
	struct kvm_segment cs = { .base = 0, .limit = 0xffffffff,
				  .selector = 8, .type = 11, .present = 1,
				  .s = 1, .db = 1, .g = 1 };
	struct kvm_segment ds = cs;
	struct kvm_sregs s;
	struct kvm_regs r = { .rip = rip, .rsp = rsp, .rflags = 2 };

	if (ioctl(vm->vcpu, KVM_GET_SREGS, &s))
		return -1;
	ds.selector = 16;
	ds.type = 3;
	s.cs = cs;
	s.ds = s.es = s.fs = s.gs = s.ss = ds;
	s.cr0 |= 1;
	return ioctl(vm->vcpu, KVM_SET_SREGS, &s) ||
	       ioctl(vm->vcpu, KVM_SET_REGS, &r) ? -1 : 0;
}

/* Run until an OUT to port; returns the 32-bit value written. */
static int run_to(struct vm *vm, uint16_t port, uint32_t *val)
{
	for (int i = 0; i < 1000; i++) {
		struct kvm_run *r = vm->run;

		if (ioctl(vm->vcpu, KVM_RUN, 0))
			return -1;
		if (r->exit_reason != KVM_EXIT_IO ||
		    r->io.direction != KVM_EXIT_IO_OUT) {
			char got[160];

			es_describe_exit(r, got, sizeof(got));
			errno = EPROTO;
			fprintf(stderr, "softsev-demo-vmm: wanted an OUT to "
				"port 0x%x, KVM_RUN gave %s\n", port, got);
			return -1;
		}
		if (r->io.port == port) {
			memcpy(val, (uint8_t *)r + r->io.data_offset, 4);
			return 0;
		}
	}
	errno = ETIMEDOUT;
	return -1;
}

static int write_image(const char *file, bool es)
{
	static uint8_t img[IMAGE_LEN];
	FILE *f = fopen(file, "wb");

	build_image(img, es);
	if (!f || fwrite(img, 1, sizeof(img), f) != sizeof(img) || fclose(f)) {
		perror(file);
		return 1;
	}
	return 0;
}

static size_t load_b64(struct vmm *v, const char *name, uint8_t *out,
		       size_t max)
{
	static char text[8192];
	size_t n, j = 0;
	int d;

	if (load(v, name, text, sizeof(text) - 1, &n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (text[i] > ' ')
			text[j++] = text[i];
	if (j % 4 || (j / 4) * 3 > max)
		return 0;
	d = EVP_DecodeBlock(out, (uint8_t *)text, (int)j);
	while (d > 0 && j > 0 && text[--j] == '=')
		d--;
	return d < 0 ? 0 : (size_t)d;
}

/* Poll for a file the other party writes by rename. */
static int wait_for(struct vmm *v, const char *name, int seconds)
{
	char p[4096];

	path(p, sizeof(p), v, name);
	for (int i = 0; i < seconds * 10; i++) {
		if (!access(p, R_OK))
			return 0;
		usleep(100 * 1000);
	}
	errno = ETIMEDOUT;
	return -1;
}

static void launch(struct vmm *v, uint32_t policy)
{
	static uint8_t dh[CERT_LEN + 16], session[512], hdr[64], trans[64];
	struct kvm_sev_launch_start ls = { .policy = policy };
	struct kvm_sev_launch_update_data up = { 0, IMAGE_LEN };
	struct kvm_sev_launch_measure lm = { 0, 0 };
	struct kvm_sev_launch_secret sec = { 0 };
	uint8_t m[48];
	char text[128], what[256];

	demo_begin(&v->o);
	if (open_devices(v) ||
	    make_vm(v, &v->vm, KVM_X86_SEV_VM_TYPE, true, 0, -1))
		fail(v, 3, v->legacy ? "creating the SEV VM (KVM_SEV_INIT)" :
				       "creating the SEV VM (KVM_SEV_INIT2)");
	if (load(v, "guest.img", v->mem, IMAGE_LEN, NULL))
		fail(v, 3, "reading guest.img");
	up.uaddr = (uintptr_t)v->mem;
	ls.dh_len = (uint32_t)load_b64(v, "owner/godh.b64", dh, sizeof(dh));
	ls.session_len = (uint32_t)load_b64(v, "owner/session.b64", session,
					    sizeof(session));
	ls.dh_uaddr = (uintptr_t)dh;
	ls.session_uaddr = (uintptr_t)session;
	if (sev_op(v, v->vm.fd, KVM_SEV_LAUNCH_START, &ls))
		fail(v, 3, "LAUNCH_START with the owner's GODH and session");
	if (sev_op(v, v->vm.fd, KVM_SEV_LAUNCH_UPDATE_DATA, &up))
		fail(v, 3, "LAUNCH_UPDATE_DATA");
	if (set_cpu(&v->vm, GUEST_CODE_GPA, STACK_TOP))
		fail(v, 3, "setting the vCPU's registers");
	if (v->es)
		es_launch_vmsas(v);
	/* The length query every VMM makes first, then the real call. */
	sev_op(v, v->vm.fd, KVM_SEV_LAUNCH_MEASURE, &lm);
	lm.uaddr = (uintptr_t)m;
	if (lm.len != sizeof(m) ||
	    sev_op(v, v->vm.fd, KVM_SEV_LAUNCH_MEASURE, &lm))
		fail(v, 3, "LAUNCH_MEASURE");
	EVP_EncodeBlock((uint8_t *)text, m, sizeof(m));
	strcat(text, "\n");
	if (save(v, "measurement.b64", text, strlen(text)))
		fail(v, 3, "writing measurement.b64");
	{
		struct sev_user_data_status st;
		struct sev_issue_cmd c = { SEV_PLATFORM_STATUS,
					   (uintptr_t)&st, 0 };

		/* What QEMU's query-sev reports to the owner. */
		if (ioctl(v->sev, SEV_ISSUE_CMD, &c))
			fail(v, 3, "PLATFORM_STATUS");
		snprintf(text, sizeof(text), "%u %u %u\n", st.api_major,
			 st.api_minor, st.build);
		if (save(v, "platform.txt", text, strlen(text)))
			fail(v, 3, "writing platform.txt");
	}
	snprintf(what, sizeof(what), "%s VM (%s), handle %u: LAUNCH_START, "
		 "LAUNCH_UPDATE_DATA over the 32 KiB image, %sLAUNCH_MEASURE",
		 v->es ? "SEV-ES" : "SEV", !v->legacy ? "KVM_SEV_INIT2" :
		 v->es ? "KVM_SEV_ES_INIT" : "KVM_SEV_INIT", ls.handle,
		 v->es ? "LAUNCH_UPDATE_VMSA of the guest's and the mirror "
			 "helper's vCPU, " : "");
	demo_step(&v->o, 3, true, what,
		  "the PSP hashed exactly what was loaded; only the owner's "
		  "TIK can produce this MAC of it");

	if (wait_for(v, "secret_payload.b64", 60))
		fail(v, 3, "waiting for the owner's secret");
	demo_begin(&v->o);
	sec.hdr_len = (uint32_t)load_b64(v, "secret_header.b64", hdr,
					 sizeof(hdr));
	sec.trans_len = (uint32_t)load_b64(v, "secret_payload.b64", trans,
					   sizeof(trans));
	sec.hdr_uaddr = (uintptr_t)hdr;
	sec.trans_uaddr = (uintptr_t)trans;
	sec.guest_uaddr = (uintptr_t)v->mem + SECRET_GPA;
	sec.guest_len = sec.trans_len;
	if (sev_op(v, v->vm.fd, KVM_SEV_LAUNCH_SECRET, &sec))
		fail(v, 3, "LAUNCH_SECRET");
	if (sev_op(v, v->vm.fd, KVM_SEV_LAUNCH_FINISH, NULL))
		fail(v, 3, "LAUNCH_FINISH");
	snprintf(what, sizeof(what), "LAUNCH_SECRET put %u encrypted bytes at "
		 "guest address 0x%x; LAUNCH_FINISH", sec.trans_len,
		 SECRET_GPA);
	demo_step(&v->o, 3, true, what,
		  "the firmware checked the packet's MAC against this launch's "
		  "measurement before decrypting it into the guest");
}

static void run_guest(struct vmm *v, struct vm *vm, int step, uint32_t *res,
		      uint32_t *tick)
{
	if (run_to(vm, PORT_RESULT, res) || run_to(vm, PORT_TICK, tick))
		fail(v, step, "KVM_RUN");
}

static const char *which_kvm(int kvm)
{
	return emulated(kvm) ? "softsev's emulated KVM" : "the host's KVM";
}

/*
 * What the guest's own SEV check (guest.S, sev_check or es_setup) found:
 * SEV_STATUS, CPUID 0x8000001F EBX, and whether both maps agree.
 */
static void sev_text(const uint32_t st[3], char *out, size_t len)
{
	uint32_t status = st[0], ebx = st[1], same = st[2];

	if (status == UINT32_MAX)
		snprintf(out, len, "; it is a plain KVM guest there (no SEV "
			 "in its CPUID)");
	else
		snprintf(out, len, "; it checked itself: SEV_STATUS 0x%x "
			 "(%s), and its C-bit (bit %u) %s", status,
			 status & 2 ? "SEV-ES" : status & 1 ? "SEV" : "off",
			 ebx & 63, same ? "maps the same page, private" :
					  "did not map the same page");
}

static void sev_seen(struct vmm *v, char *out, size_t len)
{
	uint32_t st[3];

	for (int i = 0; i < 3; i++)
		if (run_to(&v->vm, PORT_SEV, &st[i]))
			fail(v, 4, "KVM_RUN");
	sev_text(st, out, len);
}

static void guest_runs(struct vmm *v)
{
	uint32_t res, tick;
	uint32_t st[3];
	char what[600], text[64], sev[160], es[200] = "";

	demo_begin(&v->o);
	if (v->es) {
		es_guest_runs(v, st, &res, &tick, es, sizeof(es));
		sev_text(st, sev, sizeof(sev));
	} else {
		sev_seen(v, sev, sizeof(sev));
		for (int i = 0; i < 3; i++)
			run_guest(v, &v->vm, 4, &res, &tick);
	}
	snprintf(text, sizeof(text), "%08x\n", res);
	if (save(v, "guest_result.txt", text, strlen(text)))
		fail(v, 4, "writing guest_result.txt");
	snprintf(what, sizeof(what), "the guest ran on %s: it hashed its "
		 "secret to %08x (port 0x%x) and ticked %u times%s%s",
		 which_kvm(v->kvm), res, PORT_RESULT, tick, sev, es);
	demo_step(&v->o, 4, true, what,
		  "only a guest launched as measured holds the secret; the "
		  "host saw the answer, never the secret itself");
	/* Let the owner check the answer before going on. */
	if (wait_for(v, "result_checked", 60))
		fail(v, 4, "waiting for the owner");
}

/* DBG_DECRYPT through vm: what the guest sees in [gpa, gpa + len). */
static uint32_t decrypted_digest(struct vmm *v, int vm, int step,
				 uint32_t gpa, uint32_t len)
{
	static uint8_t buf[GUEST_MEM];
	struct kvm_sev_dbg d = { (uintptr_t)v->mem + gpa, (uintptr_t)buf,
				 len };

	if (sev_op(v, vm, KVM_SEV_DBG_DECRYPT, &d))
		fail(v, step, "DBG_DECRYPT");
	return fnv1a(buf, len);
}

/* The mirror and its helper vCPU, run to the helper's report. */
static uint32_t helper_runs(struct vmm *v)
{
	uint32_t done;

	if (make_vm(v, &v->mirror, 0, false, KVM_CAP_VM_COPY_ENC_CONTEXT_FROM,
		    v->vm.fd))
		fail(v, 5, "KVM_CAP_VM_COPY_ENC_CONTEXT_FROM");
	if (set_cpu(&v->mirror, HELPER_GPA, STACK_TOP - 0x1000) ||
	    run_to(&v->mirror, PORT_HELPER_DONE, &done))
		fail(v, 5, "running the helper vCPU in the mirror");
	return done;
}

static void mirror_helper(struct vmm *v)
{
	uint32_t done, shared, want;
	char what[256];

	demo_begin(&v->o);
	/* SEV-ES: the mirror was made and measured at launch */
	done = v->es ? es_helper_runs(v) : helper_runs(v);
	memcpy(&shared, v->mem + SHARED_GPA, sizeof(shared));
	want = decrypted_digest(v, v->vm.fd, 5, WALK_START,
				WALK_END - WALK_START);
	snprintf(what, sizeof(what), "mirror VM (COPY_ENC_CONTEXT): its "
		 "helper vCPU%s hashed the guest's %d pages to %08x, "
		 "DBG_DECRYPT of them gives %08x",
		 v->es ? " (launched with the guest, its VMSA measured)" : "",
		 (WALK_END - WALK_START) / 4096, shared, want);
	demo_step(&v->o, 5, shared == want && done == shared, what,
		  "a migration helper runs inside the guest's encryption "
		  "context without touching the guest's vCPUs");
	if (shared != want)
		exit(1);
}

static void move_context(struct vmm *v)
{
	struct kvm_sev_guest_status gs;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct vm dst;
	uint32_t res, tick, before;
	int dead;
	char what[400];

	demo_begin(&v->o);
	memcpy(&before, v->mem + COUNTER_GPA, sizeof(before));
	/* SEV-ES: the state is the VMSA's, which goes with the context. */
	if (!v->es && (ioctl(v->vm.vcpu, KVM_GET_REGS, &regs) ||
		       ioctl(v->vm.vcpu, KVM_GET_SREGS, &sregs)))
		fail(v, 6, "saving the vCPU");
	if (make_vm(v, &dst, KVM_X86_SEV_VM_TYPE, false,
		    KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM, v->vm.fd))
		fail(v, 6, "KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM");
	dead = sev_op(v, v->vm.fd, KVM_SEV_GUEST_STATUS, &gs) < 0 &&
	       errno == EIO;
	if (sev_op(v, v->mirror.fd, KVM_SEV_GUEST_STATUS, &gs))
		fail(v, 6, "GUEST_STATUS through the mirror");
	if (!v->es && (ioctl(dst.vcpu, KVM_SET_SREGS, &sregs) ||
		       ioctl(dst.vcpu, KVM_SET_REGS, &regs)))
		fail(v, 6, "restoring the vCPU");
	close(v->vm.vcpu);
	close(v->vm.fd);
	v->vm = dst;
	if (!v->legacy) {
		/*
		 * Q7: Linux 6.10+ leaves a typed destination's need_init set,
		 * so KVM_RUN there answers EINVAL.  Show it, as it is.
		 */
		bool q7 = ioctl(dst.vcpu, KVM_RUN, 0) < 0 && errno == EINVAL;

		snprintf(what, sizeof(what), "MOVE_ENC_CONTEXT into a new VM: "
			 "the old VM answers %s, the mirror follows (handle "
			 "%u); KVM_RUN on the new VM: %s", dead ? "EIO" :
			 "NOT EIO", gs.handle, !q7 ? "runs (NOT what Linux "
			 "does)" : v->es ? "EINVAL, as on Linux 6.10+ (quirk "
			 "Q7: a KVM_SEV_INIT2 destination keeps need_init); the "
			 "encrypted VMSA went with the context" : "EINVAL, as "
			 "on Linux 6.10+ (quirk Q7: a KVM_SEV_INIT2 destination "
			 "keeps need_init; --legacy-init shows the guest "
			 "running on)");
		demo_step(&v->o, 6, dead && q7, what,
			  "intra-host migration (live update of the VMM) "
			  "hands the encrypted guest over without "
			  "re-encrypting it");
		if (!dead || !q7)
			exit(1);
		return;
	}
	run_guest(v, &v->vm, 6, &res, &tick);
	snprintf(what, sizeof(what), "MOVE_ENC_CONTEXT into a new VM: the "
		 "old VM answers %s, the mirror follows (handle %u), the guest "
		 "ticked on from %u to %u", dead ? "EIO" : "NOT EIO", gs.handle,
		 before, tick);
	demo_step(&v->o, 6, dead && tick == before + 1, what,
		  "intra-host migration (live update of the VMM) hands the "
		  "encrypted guest over without re-encrypting it");
	if (!dead || tick != before + 1)
		exit(1);
}

struct cpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint32_t result, tick, digest;
};

static void send_guest(struct vmm *v, uint32_t result)
{
	static uint8_t pdh[CERT_LEN], chain[3 * CERT_LEN], amd[8192];
	static uint8_t own[CERT_LEN], own_chain[3 * CERT_LEN], session[512];
	static uint8_t pages[NPAGES][HDR_LEN + 4096];
	struct sev_user_data_pdh_cert_export e = {
		(uintptr_t)own, CERT_LEN, (uintptr_t)own_chain, 3 * CERT_LEN
	};
	struct sev_issue_cmd c = { SEV_PDH_CERT_EXPORT, (uintptr_t)&e, 0 };
	struct kvm_sev_send_start ss = { 0 };
	struct kvm_sev_guest_status gs;
	struct cpu_state st = { .result = result };
	size_t ask, ark;
	char what[400], es[160] = "";

	demo_begin(&v->o);
	if (load(v, "hostB/pdh.cert", pdh, CERT_LEN, NULL) ||
	    load(v, "hostB/cert_chain.cert", chain, sizeof(chain), NULL) ||
	    load(v, "hostB/ask.cert", amd, sizeof(amd), &ask) ||
	    load(v, "hostB/ark.cert", amd + ask, sizeof(amd) - ask, &ark))
		fail(v, 7, "reading platform B's certificates");
	if (!v->es && (ioctl(v->vm.vcpu, KVM_GET_REGS, &st.regs) ||
		       ioctl(v->vm.vcpu, KVM_GET_SREGS, &st.sregs)))
		fail(v, 7, "saving the vCPU");
	memcpy(&st.tick, v->mem + COUNTER_GPA, sizeof(st.tick));
	/*
	 * Q5: a moved-to VM keeps its own (never set) firmware fd, 0, and
	 * the kernel resolves it in the caller; so fd 0 must be /dev/sev
	 * for DBG and SEND on it.
	 */
	if (dup2(v->sev, 0) < 0)
		fail(v, 7, "dup2(/dev/sev, 0)");
	st.digest = decrypted_digest(v, v->vm.fd, 7, 0, GUEST_MEM);
	ss.pdh_cert_uaddr = (uintptr_t)pdh;
	ss.pdh_cert_len = CERT_LEN;
	ss.plat_certs_uaddr = (uintptr_t)chain;
	ss.plat_certs_len = sizeof(chain);
	ss.amd_certs_uaddr = (uintptr_t)amd;
	ss.amd_certs_len = (uint32_t)(ask + ark);
	sev_op(v, v->vm.fd, KVM_SEV_SEND_START, &ss); /* length query */
	ss.session_uaddr = (uintptr_t)session;
	if (ss.session_len > sizeof(session) ||
	    sev_op(v, v->vm.fd, KVM_SEV_SEND_START, &ss))
		fail(v, 7, "SEND_START towards platform B's PDH");
	for (int i = 0; i < NPAGES; i++) {
		struct kvm_sev_send_update_data su = {
			.hdr_uaddr = (uintptr_t)pages[i], .hdr_len = HDR_LEN,
			.guest_uaddr = (uintptr_t)v->mem + i * 4096ul,
			.guest_len = 4096,
			.trans_uaddr = (uintptr_t)pages[i] + HDR_LEN,
			.trans_len = 4096,
		};

		if (sev_op(v, v->vm.fd, KVM_SEV_SEND_UPDATE_DATA, &su))
			fail(v, 7, "SEND_UPDATE_DATA");
	}
	if (v->es)
		es_send_vmsa(v, es, sizeof(es));
	if (sev_op(v, v->vm.fd, KVM_SEV_SEND_FINISH, NULL) ||
	    sev_op(v, v->vm.fd, KVM_SEV_GUEST_STATUS, &gs))
		fail(v, 7, "SEND_FINISH");
	path(what, sizeof(what), v, "mig");
	mkdir(what, 0700);
	if (ioctl(v->sev, SEV_ISSUE_CMD, &c) ||
	    save(v, "mig/pdh.cert", own, CERT_LEN) ||
	    save(v, "mig/session.bin", session, ss.session_len) ||
	    save(v, "mig/pages.bin", pages, sizeof(pages)) ||
	    save(v, "mig/cpu.bin", &st, sizeof(st)))
		fail(v, 7, "writing the migration stream");
	snprintf(what, sizeof(what), "SEND_START/UPDATE_DATA x%d/FINISH to "
		 "platform B: %d KiB re-encrypted under a fresh transport key "
		 "(fd 0 made /dev/sev first: quirk Q5)%s; the guest here is "
		 "now %s", NPAGES, GUEST_MEM / 1024, es,
		 gs.state == 6 ? "SENT" : "not SENT");
	demo_step(&v->o, 7, gs.state == 6, what,
		  "only platform B's PDH can unwrap the transport keys, so the "
		  "stream is useless to anyone copying it on the way");
}

/* softsev status --json: ASIDs in use and firmware contexts. */
static int platform_status(struct vmm *v, int *in_use, int *reclaim,
			   int *contexts)
{
	char cmd[4200];
	json_object *j, *p, *a;
	FILE *f;
	char *buf = NULL;
	size_t cap = 0, len;

	if (!v->softsev)
		return -1;
	snprintf(cmd, sizeof(cmd), "'%s' status --json", v->softsev);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	len = getdelim(&buf, &cap, 0, f) > 0 ? strlen(buf) : 0;
	pclose(f);
	j = len ? json_tokener_parse(buf) : NULL;
	free(buf);
	if (!j || !json_object_object_get_ex(j, "platform", &p) ||
	    !json_object_object_get_ex(p, "asids", &a)) {
		json_object_put(j);
		return -1;
	}
	*in_use = *reclaim = 0;
	for (int i = 0; i < 2; i++) {
		json_object *k, *x;

		if (!json_object_object_get_ex(a, i ? "sev_es" : "sev", &k))
			continue;
		if (json_object_object_get_ex(k, "in_use", &x))
			*in_use += json_object_get_int(x);
		if (json_object_object_get_ex(k, "reclaim", &x))
			*reclaim += json_object_get_int(x);
	}
	*contexts = json_object_object_get_ex(p, "guest_contexts", &a) ?
			    json_object_get_int(a) : -1;
	json_object_put(j);
	return 0;
}

/* Every VM closed: no ASID in use and no firmware context may remain. */
static void teardown(struct vmm *v, int step)
{
	int in_use = -1, reclaim = -1, contexts = -1;
	char what[256];

	demo_begin(&v->o);
	if (v->mirror.fd > 0) {
		close(v->mirror.vcpu);
		close(v->mirror.fd);
	}
	close(v->vm.vcpu);
	close(v->vm.fd);
	if (platform_status(v, &in_use, &reclaim, &contexts))
		fail(v, step, "softsev status --json");
	snprintf(what, sizeof(what), "closed every VM; softsev status: %d "
		 "ASID(s) in use, %d awaiting reclaim (WBINVD + DF_FLUSH "
		 "before reuse), %d firmware guest context(s)", in_use,
		 reclaim, contexts);
	demo_step(&v->o, step, !in_use && !contexts, what,
		  "a VMM that exits or crashes must not leak ASIDs or firmware "
		  "handles");
	if (in_use || contexts)
		exit(1);
}

static int source(struct vmm *v, uint32_t policy, bool migrate)
{
	uint32_t res;
	char text[16];

	launch(v, policy);
	guest_runs(v);
	mirror_helper(v);
	move_context(v);
	if (load(v, "guest_result.txt", text, 8, NULL))
		fail(v, 7, "guest_result.txt");
	res = (uint32_t)strtoul(text, NULL, 16);
	if (migrate)
		send_guest(v, res);
	teardown(v, 8);
	return 0;
}

/* policy: the guest's, as the source's VMM sends it along (QEMU does). */
static void receive_guest(struct vmm *v, uint32_t policy)
{
	static uint8_t pdh[CERT_LEN], session[512];
	static uint8_t pages[NPAGES][HDR_LEN + 4096];
	struct kvm_sev_receive_start rs = { 0 };
	struct kvm_sev_guest_status gs;
	struct cpu_state st;
	size_t slen;
	uint32_t res, tick, digest;
	char what[256];

	demo_begin(&v->o);
	if (open_devices(v) ||
	    make_vm(v, &v->vm, KVM_X86_SEV_VM_TYPE, true, 0, -1))
		fail(v, 7, "creating the receiving VM");
	if (load(v, "mig/pdh.cert", pdh, CERT_LEN, NULL) ||
	    load(v, "mig/session.bin", session, sizeof(session), &slen) ||
	    load(v, "mig/pages.bin", pages, sizeof(pages), NULL) ||
	    load(v, "mig/cpu.bin", &st, sizeof(st), NULL))
		fail(v, 7, "reading the migration stream");
	rs.policy = policy;
	rs.pdh_uaddr = (uintptr_t)pdh;
	rs.pdh_len = CERT_LEN;
	rs.session_uaddr = (uintptr_t)session;
	rs.session_len = (uint32_t)slen;
	if (sev_op(v, v->vm.fd, KVM_SEV_RECEIVE_START, &rs))
		fail(v, 7, "RECEIVE_START with platform A's PDH");
	for (int i = 0; i < NPAGES; i++) {
		struct kvm_sev_receive_update_data ru = {
			.hdr_uaddr = (uintptr_t)pages[i], .hdr_len = HDR_LEN,
			.guest_uaddr = (uintptr_t)v->mem + i * 4096ul,
			.guest_len = 4096,
			.trans_uaddr = (uintptr_t)pages[i] + HDR_LEN,
			.trans_len = 4096,
		};

		if (sev_op(v, v->vm.fd, KVM_SEV_RECEIVE_UPDATE_DATA, &ru))
			fail(v, 7, "RECEIVE_UPDATE_DATA");
	}
	if (sev_op(v, v->vm.fd, KVM_SEV_RECEIVE_FINISH, NULL) ||
	    sev_op(v, v->vm.fd, KVM_SEV_GUEST_STATUS, &gs))
		fail(v, 7, "RECEIVE_FINISH");
	digest = decrypted_digest(v, v->vm.fd, 7, 0, GUEST_MEM);
	if (v->es) {
		es_received(v, rs.handle, digest,
			    digest == st.digest && gs.state == 3);
		return;
	}
	if (ioctl(v->vm.vcpu, KVM_SET_SREGS, &st.sregs) ||
	    ioctl(v->vm.vcpu, KVM_SET_REGS, &st.regs))
		fail(v, 7, "restoring the vCPU");
	run_guest(v, &v->vm, 7, &res, &tick);
	snprintf(what, sizeof(what), "RECEIVE_START/UPDATE_DATA x%d/FINISH "
		 "on platform B (handle %u): memory digest %08x %s, the guest "
		 "resumed, hashed its secret to %08x again and ticked %u -> %u",
		 NPAGES, rs.handle, digest,
		 digest == st.digest ? "matches" : "DIFFERS", res, st.tick,
		 tick);
	demo_step(&v->o, 7, digest == st.digest && res == st.result &&
			    tick == st.tick + 1 && gs.state == 3, what,
		  "the guest left platform A and runs on a machine with "
		  "another identity, its memory and secret intact");
	if (digest != st.digest || res != st.result || tick != st.tick + 1)
		exit(1);
}

int main(int argc, char **argv)
{
	struct vmm v = { .o = { .actor = "vmm" } };
	uint32_t policy = 0;
	bool migrate = true;

	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			v.o.json = true;
		else if (!strcmp(argv[i], "--legacy-init"))
			v.legacy = true;
		else if (!strcmp(argv[i], "--es"))
			v.es = true;
		else if (!strcmp(argv[i], "--no-send"))
			migrate = false;
		else if (!strcmp(argv[i], "--policy") && i + 1 < argc)
			policy = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--softsev") && i + 1 < argc)
			v.softsev = argv[++i];
		else if (!strcmp(argv[i], "--actor") && i + 1 < argc)
			v.o.actor = argv[++i];
	}
	if (argc >= 3 && !strcmp(argv[1], "image"))
		return write_image(argv[2], v.es);
	if (argc >= 3) {
		v.dir = argv[2];
		if (!strcmp(argv[1], "source"))
			return source(&v, policy, migrate);
		if (!strcmp(argv[1], "target")) {
			receive_guest(&v, policy);
			teardown(&v, 8);
			return 0;
		}
	}
	fprintf(stderr,
		"usage: softsev-demo-vmm image FILE [--es]\n"
		"       softsev-demo-vmm source DIR [--policy P] [--no-send]\n"
		"       softsev-demo-vmm target DIR [--policy P]\n"
		"  common: [--es] [--legacy-init] [--softsev PATH] [--json]\n"
		"          [--actor NAME]\n"
		"(started by softsev demo)\n");
	return 2;
}
