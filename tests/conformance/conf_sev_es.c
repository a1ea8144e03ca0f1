// SPDX-License-Identifier: MIT
/*
 * An SEV-ES guest (tests/guests/sev_es.S) launched as a VMM launches one:
 * KVM_CREATE_VM of type KVM_X86_SEV_ES_VM, KVM_SEV_INIT2, memory, a vCPU
 * set up for 64-bit mode (KVM_SET_CPUID2/SREGS/REGS), LAUNCH_START,
 * LAUNCH_UPDATE_DATA, LAUNCH_UPDATE_VMSA (the VMSA is made from those
 * registers; after it they are the CPU's: KVM_GET_REGS is EINVAL),
 * LAUNCH_MEASURE, LAUNCH_FINISH, then KVM_RUN, serving its exits.
 *
 * What the guest does through the GHCB protocol is answered as Linux 6.12
 * answers it (arch/x86/kvm/svm/sev.c: sev_handle_vmgexit(), its MSR
 * protocol, sev_es_validate_vmgexit(), setup_vmgexit_scratch()), and the
 * exits the VMM sees are KVM's (x86.c: kvm_fast_pio(), kvm_sev_es_outs()/
 * _ins(), kvm_sev_es_mmio_write()/_read(); KVM_EXIT_SYSTEM_EVENT of type
 * KVM_SYSTEM_EVENT_SEV_TERM for a termination request).  The guest checks
 * nothing itself: it reports what it got, and this program compares.
 *
 * On the host's KVM an SEV-ES VM is a plain KVM guest (docs/fidelity.md):
 * no #VC, no GHCB.  There only the launch is checked, and the program says
 * why the guest's tests are left out.
 */
#include <sys/syscall.h>
#include "sev_guest.h"

#ifndef KVM_SYSTEM_EVENT_SEV_TERM
#define KVM_SYSTEM_EVENT_SEV_TERM 6
#endif

#define PAGE 4096
#define MEASURED (128 * 1024) /* the image: tables and code */
#define SEV_ES_POLICY 0x4 /* policy.ES */
#define PTE_AD 0x60ull /* accessed, dirty */

extern const uint8_t sev_es_start[], sev_es_end[], sev_es_hello[];
extern const uint8_t sev_es_p_mmio[], sev_es_p_vmmcall[], sev_es_p_wbinvd[];
extern const uint8_t sev_es_p_invd[], sev_es_p_rdpmc[], sev_es_p_monitor[];
extern const uint8_t sev_es_p_mwait[], sev_es_p_hlt[];

#define GPA(label) (CODE_GPA + (uint64_t)((label)-sev_es_start))

/*
 * The guest checks need the emulated KVM: #VC, GHCB and VMGEXIT.  That is
 * SOFTSEV_KVM=emulated, or auto (the default) where the host's own
 * /dev/kvm does not open: asked by the system call itself, since the
 * preloaded library answers open() of /dev/kvm either way.
 */
static bool emulated(void)
{
	const char *k = getenv("SOFTSEV_KVM");
	long fd;

	if (k && !strcmp(k, "emulated"))
		return true;
	if (k && strcmp(k, "auto"))
		return false;
	fd = syscall(SYS_openat, AT_FDCWD, "/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return true;
	syscall(SYS_close, fd);
	return false;
}

static uint64_t data64(struct sev_guest *g, unsigned int off)
{
	uint64_t v;

	memcpy(&v, g->mem + SEV_ES_DATA_GPA + off, 8);
	return v;
}

/* What the exit was, for a failure's log (the guest's own diagnostics). */
static void describe(struct sev_guest *g)
{
	struct kvm_run *r = g->run;
	uint64_t d;

	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		print_message("# exit IO: dir %u port %#x size %u count %u "
			      "data %#x\n",
			      r->io.direction, r->io.port, r->io.size,
			      r->io.count,
			      *(uint32_t *)((uint8_t *)r + r->io.data_offset));
		break;
	case KVM_EXIT_MMIO:
		print_message("# exit MMIO: %#llx len %u is_write %u\n",
			      (unsigned long long)r->mmio.phys_addr,
			      r->mmio.len, r->mmio.is_write);
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		d = r->system_event.ndata ? r->system_event.data[0] : 0;
		print_message("# exit SYSTEM_EVENT type %u ndata %u data %#llx "
			      "(reason set %u code %#x); guest diag %#llx "
			      "%#llx %#llx\n",
			      r->system_event.type, r->system_event.ndata,
			      (unsigned long long)d,
			      (unsigned int)(d >> 12) & 0xf,
			      (unsigned int)(d >> 16) & 0xff,
			      (unsigned long long)data64(g, SEV_ES_D_DIAG0),
			      (unsigned long long)data64(g, SEV_ES_D_DIAG1),
			      (unsigned long long)data64(g, SEV_ES_D_DIAG2));
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		print_message("# exit INTERNAL_ERROR: suberror %u\n",
			      r->internal.suberror);
		break;
	default:
		print_message("# exit %u\n", r->exit_reason);
	}
}

/* KVM_RUN returns 0 with this exit_reason. */
static void run(struct sev_guest *g, uint32_t reason)
{
	int r = ioctl(g->fd, KVM_RUN, 0);

	if (r)
		print_message("# KVM_RUN: %s\n", strerror(errno));
	assert_ok(r);
	if (g->run->exit_reason != reason)
		describe(g);
	assert_int_equal(g->run->exit_reason, reason);
}

/*
 * A port exit exactly as a plain guest's instruction gives it (kvm_fast_pio
 * or kvm_sev_es_outs/_ins): direction, port, size, count, and the data in
 * the page after kvm_run.
 */
static uint8_t *io_exit(struct sev_guest *g, uint8_t dir, uint16_t port,
			uint8_t size, uint32_t count)
{
	struct kvm_run *r = g->run;

	run(g, KVM_EXIT_IO);
	if (r->io.direction != dir || r->io.port != port ||
	    r->io.size != size || r->io.count != count) {
		describe(g);
		print_message("# wanted: dir %u port %#x size %u count %u\n",
			      dir, port, size, count);
	}
	assert_int_equal(r->io.direction, dir);
	assert_int_equal(r->io.port, port);
	assert_int_equal(r->io.size, size);
	assert_int_equal(r->io.count, count);
	assert_int_equal(r->io.data_offset, KVM_PIO_PAGE_OFFSET * PAGE);
	return (uint8_t *)r + r->io.data_offset;
}

static void expect_out(struct sev_guest *g, uint16_t port, uint8_t size,
		       uint32_t val)
{
	uint32_t got = 0;

	memcpy(&got, io_exit(g, KVM_EXIT_IO_OUT, port, size, 1), size);
	assert_int_equal(got, val);
}

/* The guest's next report: a dword on PORT_VALUE. */
static void report(struct sev_guest *g, uint32_t val, const char *what)
{
	uint32_t got = 0;

	memcpy(&got, io_exit(g, KVM_EXIT_IO_OUT, PORT_VALUE, 4, 1), 4);
	if (got != val)
		print_message("# report: %s\n", what);
	assert_int_equal(got, val);
}

/* The guest's next report, whatever it is. */
static uint32_t value(struct sev_guest *g)
{
	uint32_t v = 0;

	memcpy(&v, io_exit(g, KVM_EXIT_IO_OUT, PORT_VALUE, 4, 1), 4);
	return v;
}

/*
 * The guest's #VC count before and after an instruction (and the last
 * #VC's error code if n): n more.
 */
static void report_vcs(struct sev_guest *g, uint32_t n, uint32_t code,
		       const char *what)
{
	uint32_t before = 0, after = 0;

	memcpy(&before, io_exit(g, KVM_EXIT_IO_OUT, PORT_VALUE, 4, 1), 4);
	memcpy(&after, io_exit(g, KVM_EXIT_IO_OUT, PORT_VALUE, 4, 1), 4);
	if (after - before != n)
		print_message("# #VCs: %s\n", what);
	assert_int_equal(after - before, n);
	if (n)
		report(g, code, what);
}

static void report64(struct sev_guest *g, uint64_t val, const char *what)
{
	report(g, (uint32_t)val, what);
	report(g, (uint32_t)(val >> 32), what);
}

static void answer_in(struct sev_guest *g, uint16_t port, uint8_t size,
		      uint32_t count, const void *data)
{
	memcpy(io_exit(g, KVM_EXIT_IO_IN, port, size, count), data,
	       (size_t)size * count);
}

/* kvm_sev_es_mmio_write()/_read(): phys_addr, len, is_write. */
static uint8_t *mmio_exit(struct sev_guest *g, uint64_t gpa, uint32_t len,
			  uint8_t is_write)
{
	struct kvm_run *r = g->run;

	run(g, KVM_EXIT_MMIO);
	assert_int_equal(r->mmio.phys_addr, gpa);
	assert_int_equal(r->mmio.len, len);
	assert_int_equal(r->mmio.is_write, is_write);
	return r->mmio.data;
}

/*
 * KVM_RUN with immediate_exit: kvm_arch_vcpu_ioctl_run() completes the
 * last exit (complete_userspace_io), then returns EINTR without entering.
 */
static void immediate_exit(struct sev_guest *g)
{
	g->run->immediate_exit = 1;
	assert_errno(ioctl(g->fd, KVM_RUN, 0), EINTR);
	g->run->immediate_exit = 0;
}

/* A termination request: SYSTEM_EVENT SEV_TERM, ndata 1, the GHCB MSR. */
static void expect_term(struct sev_guest *g, uint64_t msr)
{
	struct kvm_run *r = g->run;

	run(g, KVM_EXIT_SYSTEM_EVENT);
	if (r->system_event.type != KVM_SYSTEM_EVENT_SEV_TERM ||
	    r->system_event.data[0] != msr)
		describe(g);
	assert_int_equal(r->system_event.type, KVM_SYSTEM_EVENT_SEV_TERM);
	assert_int_equal(r->system_event.ndata, 1);
	assert_int_equal(r->system_event.data[0], msr);
}

static void expect_regs_protected(struct sev_guest *g)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	assert_errno(ioctl(g->fd, KVM_GET_REGS, &r), EINVAL);
	assert_errno(ioctl(g->fd, KVM_GET_SREGS, &s), EINVAL);
	memset(&r, 0, sizeof(r));
	assert_errno(ioctl(g->fd, KVM_SET_REGS, &r), EINVAL);
}

/* ---- the VM ---- */

/*
 * An SEV-ES VM (INIT2 with this GHCB version, 0: KVM's default, 2) with
 * the guest in memory and vCPU 0 set to run it in mode, launched.
 */
static void es_up(struct sev_guest *g, uint64_t mode, uint16_t ghcb_version)
{
	struct kvm_sev_init_v init = { .ghcb_version = ghcb_version };
	struct kvm_sev_launch_start ls = { .policy = SEV_ES_POLICY };
	struct kvm_sev_launch_update_data up = { .len = MEASURED };
	uint8_t digest[48];
	struct kvm_sev_launch_measure m = { .uaddr = (uintptr_t)digest,
					    .len = sizeof(digest) };
	uint32_t err = 0;

	memset(g, 0, sizeof(*g));
	sg_vm(g, VM_SEV_ES, &init);
	/* the test's GDT and identity tables (1 GiB of 2 MiB pages), the guest */
	sg_mem(g, sev_es_start, sev_es_end);
	/* the host's CPUID as a VMM passes it on, and its SEV leaf */
	assert_true(sg_cpuid(g)->eax & 8); /* SEV-ES */
	/* vCPU 0 in 64-bit mode at the guest, %rdi = mode: before the VMSA */
	sg_vcpu(g, mode);

	assert_ok(sev_op(g->vm, KVM_SEV_LAUNCH_START, &ls, g->sev, NULL));
	up.uaddr = (uintptr_t)g->mem;
	assert_ok(sev_op(g->vm, KVM_SEV_LAUNCH_UPDATE_DATA, &up, g->sev, NULL));
	assert_ok(
		sev_op(g->vm, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL, g->sev, &err));
	assert_int_equal(err, 0);
	/* the registers are in the VMSA now: KVM refuses them */
	expect_regs_protected(g);
	assert_ok(sev_op(g->vm, KVM_SEV_LAUNCH_MEASURE, &m, g->sev, NULL));
	assert_ok(sev_op(g->vm, KVM_SEV_LAUNCH_FINISH, NULL, g->sev, NULL));
}

static uint32_t cbit(struct sev_guest *g)
{
	return g->leaf->ebx & 63;
}

/* ---- tests ---- */

/* The launch alone, on either backend. */
static void test_es_launch(void **state)
{
	struct sev_guest g;

	(void)state;
	es_up(&g, SEV_ES_MODE_FULL, 0);
	/* LAUNCH_UPDATE_VMSA a second time: every vCPU is protected */
	assert_errno(
		sev_op(g.vm, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL, g.sev, NULL),
		EINVAL);
	sg_down(&g);
}

/*
 * Steps 1-7 and 9: the MSR protocol, the GHCB registered, SEV_STATUS, port
 * I/O (IN and OUT), CPUID and MSRs through #VC, MMIO by VMGEXIT,
 * termination.
 */
static void test_es_guest(void **state)
{
	uint32_t in32 = 0xcafebabe, mmio = 0xdeadbeef;
	uint64_t q, *pt;
	uint8_t in8 = 0x99;
	struct sev_guest g;

	(void)state;
	es_up(&g, SEV_ES_MODE_FULL, 0);

	/*
	 * (1) SEV_INFO: GHCB_MSR_SEV_INFO(ghcb_version 2 (INIT2's default
	 * for SEV-ES), GHCB_VERSION_MIN 1, sev_enc_bit); CPUID_REQ: the
	 * value in 63:32, bits 31:12 (the register) kept, 0x005.
	 */
	report64(&g,
		 (2ull << 48) | (1ull << 32) | ((uint64_t)cbit(&g) << 24) |
			 GHCB_INFO_SEV_INFO_RESP,
		 "SEV_INFO response");
	report64(&g, ((uint64_t)g.leaf->eax << 32) | GHCB_INFO_CPUID_RESP,
		 "CPUID_REQ 0x8000001F EAX");
	report64(&g,
		 ((uint64_t)g.leaf->ebx << 32) | (1u << 30) |
			 GHCB_INFO_CPUID_RESP,
		 "CPUID_REQ 0x8000001F EBX");
	/* (2) the GHCB MSR reads back as the guest wrote it, without a #VC */
	report64(&g, SEV_ES_GHCB_GPA, "GHCB MSR");
	report_vcs(&g, 0, 0, "GHCB MSR");
	/* (3) SEV_STATUS: SEV and SEV-ES, without a #VC */
	report64(&g, 3, "SEV_STATUS");
	report_vcs(&g, 0, 0, "SEV_STATUS");

	/* (4) port I/O through #VC: the exits a plain guest's give */
	expect_out(&g, PORT_OUT, 4, IO_OUT32);
	expect_out(&g, PORT_OUT, 1, IO_OUT8);
	answer_in(&g, PORT_IN, 4, 1, &in32);
	/* the completion runs at the next KVM_RUN, also one that only
	 * returns EINTR (immediate_exit) */
	immediate_exit(&g);
	report64(&g, in32, "inl: zero-extended");
	answer_in(&g, PORT_IN, 1, 1, &in8);
	report(&g, (IO_MERGE & ~0xffu) | in8, "inb: %al only");

	/* (5) CPUID through #VC: the table as set */
	report(&g, g.leaf->eax, "CPUID 0x8000001F EAX");
	report(&g, g.leaf->ebx, "CPUID 0x8000001F EBX");
	report_vcs(&g, 1, ES_EXIT_CPUID, "CPUID");

	/* (6) MSRs: APIC_BASE of the BSP; MTRRfix64K_00000 as written */
	report64(&g, 0xfee00900, "APIC_BASE");
	report_vcs(&g, 1, ES_EXIT_MSR, "APIC_BASE");
	report64(&g, ((uint64_t)MSR_VALUE << 32) | MSR_VALUE, "MTRR");
	/* an unknown MSR: svm_complete_emulated_msr() -> info1 1, #GP */
	report(&g, 1, "failed #VCs");
	report(&g, 1, "unknown MSR: sw_exit_info_1");
	report(&g, 0x80000000u | (3u << 8) | 13, "unknown MSR: info2 #GP");

	/* (7) MMIO by VMGEXIT: 8 bytes written, 4 read */
	q = MMIO64_VALUE;
	assert_memory_equal(mmio_exit(&g, MMIO_GPA, 8, 1), &q, 8);
	report(&g, 0, "MMIO write: sw_exit_info_1");
	memcpy(mmio_exit(&g, MMIO_GPA + IO_MMIO_READ_OFF, 4, 0), &mmio, 4);
	immediate_exit(&g);
	report(&g, 0, "MMIO read: sw_exit_info_1");
	report(&g, mmio, "MMIO read: the data");
	/* sev_es_sync_to_ghcb(): RAX, RBX, RCX, RDX; and info1, info2 */
	report64(&g, 1ull << (GHCB_OFF_RAX / 8), "valid_bitmap[0]");
	report64(&g,
		 (1ull << (GHCB_OFF_RCX / 8 - 64)) |
			 (1ull << (GHCB_OFF_RDX / 8 - 64)) |
			 (1ull << (GHCB_OFF_RBX / 8 - 64)) |
			 (1ull << (GHCB_OFF_INFO1 / 8 - 64)) |
			 (1ull << (GHCB_OFF_INFO2 / 8 - 64)),
		 "valid_bitmap[1]");

	/* (9) the guest asks to be terminated */
	expect_term(&g, GHCB_TERM(SEV_ES_TERM_SET, SEV_ES_TERM_DONE));

	/* its tables (accessed and dirty bits aside): private, but the GHCB
	 * page shared */
	pt = (uint64_t *)(g.mem + SEV_ES_PT_GPA);
	assert_int_equal(pt[SEV_ES_GHCB_GPA >> 12] & ~PTE_AD,
			 SEV_ES_GHCB_GPA | 3);
	assert_int_equal(pt[CODE_GPA >> 12] & ~PTE_AD,
			 CODE_GPA | 3 | (1ull << cbit(&g)));
	expect_regs_protected(&g);
	sg_down(&g);
}

/*
 * (4) rep outsb and rep insb through #VC: IOIO with STR|REP, the count in
 * sw_exit_info_2, the data in the GHCB's shared buffer (sw_scratch).
 * kvm_sev_es_outs()/_ins() move the whole string in one exit (a plain
 * guest's rep outsb is one exit per element).
 */
static void test_es_string_io(void **state)
{
	static const uint8_t ins[IO_INS_LEN] = { 1, 2, 3, 4 };
	uint32_t w;
	struct sev_guest g;

	(void)state;
	es_up(&g, SEV_ES_MODE_STR, 0);
	assert_memory_equal(
		io_exit(&g, KVM_EXIT_IO_OUT, PORT_STR, 1, IO_STR_LEN), "hello",
		IO_STR_LEN);
	report(&g, GPA(sev_es_hello) + IO_STR_LEN, "rep outsb: %rsi advanced");
	report(&g, 0, "rep outsb: %rcx");
	answer_in(&g, PORT_STR, 1, IO_INS_LEN, ins);
	memcpy(&w, ins, 4);
	report(&g, w, "rep insb: the data");
	report(&g, SEV_ES_DATA_GPA + SEV_ES_D_INS + IO_INS_LEN,
	       "rep insb: %rdi advanced");
	expect_out(&g, PORT_OUT, 1, SEV_ES_STAGE_DONE);
	run(&g, KVM_EXIT_HLT);
	assert_memory_equal(g.mem + SEV_ES_DATA_GPA + SEV_ES_D_INS, ins,
			    IO_INS_LEN);
	sg_down(&g);
}

/*
 * RFLAGS across the hypervisor: the guest's `subl` leaves no arithmetic
 * flag set (0x1000 - 0xc0), then an OUT (twice: at an address met for the
 * first time, then again), a CPUID and an RDMSR each raise #VC, whose handler returns by iretq, and
 * a VMGEXIT goes to the hypervisor directly; after each the flags are
 * those the `subl` left, as on a CPU (the #VC frame holds the interrupted
 * RFLAGS; VMGEXIT keeps them).
 */
static void test_es_vc_rflags(void **state)
{
	struct sev_guest g;

	(void)state;
	es_up(&g, SEV_ES_MODE_FLAGS, 0);
	report(&g, 1, "first report");
	expect_out(&g, PORT_OUT, 1, IO_OUT8);
	expect_out(&g, PORT_OUT, 1, IO_OUT8);
	report64(&g, 0x2, "RFLAGS after the OUT's #VC (a new address)");
	report64(&g, 0x2, "RFLAGS after the OUT's #VC (the same again)");
	report64(&g, 0x2, "RFLAGS after the CPUID's #VC");
	report64(&g, 0x2, "RFLAGS after the RDMSR's #VC");
	report64(&g, 0x2, "RFLAGS after VMGEXIT");
	expect_out(&g, PORT_OUT, 1, SEV_ES_STAGE_DONE);
	run(&g, KVM_EXIT_HLT);
	sg_down(&g);
}

/*
 * Which instructions raise #VC, with which error code, at which RIP (the
 * intercepts init_vmcb() sets that SEV-ES makes non-automatic exits),
 * and which do not: RDTSC (not intercepted), RDMSR/WRMSR of EFER and
 * LSTAR (in the VMSA, not intercepted), HLT (an automatic exit).
 */
static void test_es_vc_codes(void **state)
{
	static const struct {
		const uint8_t *at;
		uint32_t code;
		const char *what;
	} vc[] = {
		{ sev_es_p_vmmcall, ES_EXIT_VMMCALL, "VMMCALL" },
		{ sev_es_p_wbinvd, ES_EXIT_WBINVD, "WBINVD" },
		{ sev_es_p_invd, ES_EXIT_INVD, "INVD" },
		{ sev_es_p_rdpmc, ES_EXIT_RDPMC, "RDPMC" },
		{ sev_es_p_monitor, ES_EXIT_MONITOR, "MONITOR" },
		{ sev_es_p_mwait, ES_EXIT_MWAIT, "MWAIT" },
	};
	static const char *const none[] = { "RDTSC", "RDMSR EFER", "WRMSR EFER",
					    "RDMSR LSTAR" };
	uint32_t code, rip, before, after;
	int bad = 0;
	struct sev_guest g;
	size_t i;

	(void)state;
	es_up(&g, SEV_ES_MODE_PROBE, 0);
	/* every row, then the verdict: one wrong row does not hide the rest */
	for (i = 0; i < sizeof(vc) / sizeof(vc[0]); i++) {
		code = value(&g);
		rip = value(&g);
		if (code != vc[i].code || rip != (uint32_t)GPA(vc[i].at)) {
			print_message("# %s: %s %#x at %#x, wanted #VC %#x "
				      "at %#x\n",
				      vc[i].what,
				      code == SEV_ES_PROBE_UD ? "#UD" : "#VC",
				      code, rip, vc[i].code,
				      (uint32_t)GPA(vc[i].at));
			bad++;
		}
	}
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		before = value(&g);
		after = value(&g);
		if (after != before) {
			print_message("# %s: %u #VC, wanted none\n", none[i],
				      after - before);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
	run(&g, KVM_EXIT_HLT);
	expect_out(&g, PORT_OUT, 1, SEV_ES_STAGE_DONE);
	run(&g, KVM_EXIT_HLT);
	sg_down(&g);
}

/*
 * MMIO by a plain MOV (the guest maps it shared, as ioremap() does): a
 * GPA in no memslot is a nested page fault, which an SEV-ES guest takes
 * as #VC(NPF) at the instruction (KVM's MMIO SPTEs fault with reserved
 * bits, which SEV-ES makes a #VC).
 */
static void test_es_vc_npf(void **state)
{
	uint32_t code, rip;
	struct sev_guest g;

	(void)state;
	es_up(&g, SEV_ES_MODE_NPF, 0);
	code = value(&g);
	rip = value(&g);
	if (code != ES_EXIT_NPF || rip != (uint32_t)GPA(sev_es_p_mmio))
		print_message("# MOV to MMIO: %s %#x at %#x, wanted #VC %#x at "
			      "%#x\n",
			      code == SEV_ES_PROBE_UD ? "#UD" : "#VC", code,
			      rip, ES_EXIT_NPF, (uint32_t)GPA(sev_es_p_mmio));
	assert_int_equal(code, ES_EXIT_NPF);
	assert_int_equal(rip, GPA(sev_es_p_mmio));
	expect_out(&g, PORT_OUT, 1, SEV_ES_STAGE_DONE);
	run(&g, KVM_EXIT_HLT);
	sg_down(&g);
}

/*
 * (8) Malformed GHCBs: sev_es_validate_vmgexit()'s errors (info1 2, info2
 * a GHCB_ERR_*), setup_vmgexit_scratch()'s, the GHCB v2 MMIO length, the
 * requests that do nothing, and the AP jump table and features answers.
 */
static void test_es_malformed(void **state)
{
	struct sev_guest g;

	(void)state;
	es_up(&g, SEV_ES_MODE_BAD, 0);
	report(&g, 2, "usage 1: info1");
	report(&g, GHCB_ERR_INVALID_USAGE, "usage 1: info2");
	/* an error is still synced back: RAX..RDX, info1, info2 valid */
	report(&g, 1u << (GHCB_OFF_RAX / 8 - 32), "usage 1: bitmap[0] high");
	report(&g, 0, "usage 1: bitmap[1] low");
	report(&g,
	       (1u << (GHCB_OFF_RCX / 8 - 96)) |
		       (1u << (GHCB_OFF_RDX / 8 - 96)) |
		       (1u << (GHCB_OFF_RBX / 8 - 96)) |
		       (1u << (GHCB_OFF_INFO1 / 8 - 96)) |
		       (1u << (GHCB_OFF_INFO2 / 8 - 96)),
	       "usage 1: bitmap[1] high");
	report(&g, 2, "CPUID without info2");
	report(&g, GHCB_ERR_MISSING_INPUT, "CPUID without info2");
	report(&g, 2, "CPUID without RCX");
	report(&g, GHCB_ERR_MISSING_INPUT, "CPUID without RCX");
	report(&g, 2, "CPUID without sw_exit_code");
	report(&g, GHCB_ERR_MISSING_INPUT, "CPUID without sw_exit_code");
	/* no KVM_EXIT_IO for it: the next exit is the report */
	report(&g, 2, "OUT without RAX");
	report(&g, GHCB_ERR_MISSING_INPUT, "OUT without RAX");
	report(&g, 2, "HLT");
	report(&g, GHCB_ERR_INVALID_EVENT, "HLT");
	report(&g, 2, "MMIO without sw_scratch");
	report(&g, GHCB_ERR_MISSING_INPUT, "MMIO without sw_scratch");
	report(&g, 2, "MMIO scratch outside the GHCB");
	report(&g, GHCB_ERR_INVALID_SCRATCH, "MMIO scratch outside the GHCB");
	report(&g, 2, "MMIO scratch before the shared buffer");
	report(&g, GHCB_ERR_INVALID_SCRATCH,
	       "MMIO scratch before the shared buffer");
	report(&g, 2, "MMIO scratch past the shared buffer");
	report(&g, GHCB_ERR_INVALID_SCRATCH,
	       "MMIO scratch past the shared buffer");
	report(&g, 2, "MMIO of 16 bytes");
	report(&g, GHCB_ERR_INVALID_INPUT, "MMIO of 16 bytes");
	report(&g, 0, "MMIO of 0 bytes");
	report(&g, 0, "MMIO of 0 bytes");
	report(&g, 0, "IOIO of no size");
	report(&g, 0, "IOIO of no size");
	report(&g, 0, "AP jump table set");
	report(&g, 0, "AP jump table set");
	report(&g, 0, "AP jump table get");
	report(&g, SEV_ES_JUMP_TABLE, "AP jump table get");
	report(&g, 2, "AP jump table 2");
	report(&g, GHCB_ERR_INVALID_INPUT, "AP jump table 2");
	report(&g, 2, "AP creation (SNP only)");
	report(&g, GHCB_ERR_MISSING_INPUT, "AP creation (SNP only)");
	report(&g, 0, "HV features");
	report(&g, 3, "HV features: GHCB_HV_FT_SUPPORTED");
	report(&g, 2, "VMMCALL without CPL");
	report(&g, GHCB_ERR_MISSING_INPUT, "VMMCALL without CPL");
	/* kvm_emulate_hypercall(): -KVM_ENOSYS, and -KVM_EPERM at CPL 3 */
	report(&g, 0, "hypercall: info1");
	report(&g, 0, "hypercall: info2");
	report64(&g, (uint64_t)-1000, "hypercall: RAX -KVM_ENOSYS");
	report(&g, 0, "hypercall at CPL 3: info1");
	report(&g, 0, "hypercall at CPL 3: info2");
	report64(&g, (uint64_t)-1, "hypercall at CPL 3: RAX -KVM_EPERM");
	/* svm_handle_invalid_exit(): RDTSC has no exit handler */
	run(&g, KVM_EXIT_INTERNAL_ERROR);
	assert_int_equal(g.run->internal.suberror,
			 KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON);
	assert_int_equal(g.run->internal.ndata, 2);
	assert_int_equal(g.run->internal.data[0], ES_EXIT_RDTSC);
	report(&g, 0, "RDTSC, run again: info1");
	report(&g, 0, "RDTSC, run again: info2");
	/* SVM_VMGEXIT_UNSUPPORTED_EVENT: KVM_RUN fails; the guest goes on */
	assert_errno(ioctl(g.fd, KVM_RUN, 0), EINVAL);
	report(&g, 0, "unsupported event");
	report(&g, 0, "unsupported event");
	expect_out(&g, PORT_OUT, 1, SEV_ES_STAGE_DONE);
	run(&g, KVM_EXIT_HLT);
	sg_down(&g);
}

/*
 * VMGEXIT with the GHCB MSR 0, and with a GPA in no memslot: KVM returns
 * to the guest at once, the MSR untouched.  MSR protocol rows: the
 * hypervisor features, a request KVM does not have (MSR kept), CPUID_REQ
 * of EDX.
 */
static void test_es_ghcb_msr(void **state)
{
	struct sev_guest g;

	(void)state;
	es_up(&g, SEV_ES_MODE_MSR, 0);
	report64(&g, 0, "GHCB MSR 0");
	report64(&g, SEV_ES_NOSLOT_GPA, "GHCB in no memslot");
	report64(&g, (3ull << 12) | GHCB_INFO_HV_FT_RESP, "HV_FT response");
	report64(&g, SEV_ES_MSR_UNKNOWN_REQ, "unknown request");
	report64(&g,
		 ((uint64_t)g.leaf->edx << 32) | (3u << 30) |
			 GHCB_INFO_CPUID_RESP,
		 "CPUID_REQ EDX");
	expect_out(&g, PORT_OUT, 1, SEV_ES_STAGE_DONE);
	run(&g, KVM_EXIT_HLT);
	sg_down(&g);
}

/*
 * Termination: through the GHCB page (SVM_VMGEXIT_TERM_REQUEST: data[0]
 * is the GHCB MSR, the GHCB's GPA), then through the MSR protocol
 * (data[0] the request).  Run again, the guest goes on after each.
 */
static void test_es_termination(void **state)
{
	struct sev_guest g;

	(void)state;
	es_up(&g, SEV_ES_MODE_TERM, 0);
	expect_term(&g, SEV_ES_GHCB_GPA);
	report(&g, 0, "after TERM_REQUEST: info1");
	report(&g, 0, "after TERM_REQUEST: info2");
	expect_term(&g, GHCB_TERM(SEV_ES_TERM_SET, SEV_ES_TERM_MSR));
	run(&g, KVM_EXIT_HLT);
	expect_regs_protected(&g);
	sg_down(&g);
}

/*
 * A guest that needs GHCB version 2 on a VM made with ghcb_version 1:
 * SEV_INFO says 1..1, it asks to be terminated (reason set 0,
 * GHCB_SEV_ES_PROT_UNSUPPORTED).
 */
static void test_es_ghcb_version(void **state)
{
	struct sev_guest g;

	(void)state;
	es_up(&g, SEV_ES_MODE_FULL, 1);
	expect_term(&g, GHCB_TERM(0, 1));
	assert_int_equal(data64(&g, SEV_ES_D_SEVINFO),
			 (1ull << 48) | (1ull << 32) |
				 ((uint64_t)cbit(&g) << 24) |
				 GHCB_INFO_SEV_INFO_RESP);
	sg_down(&g);
}

/*
 * A #VC that cannot be delivered (no IDT): #DF, then shutdown.  KVM does
 * not INIT an SEV-ES vCPU after it (shutdown_interception()): its state
 * stays the CPU's.
 */
static void test_es_triple_fault(void **state)
{
	struct sev_guest g;

	(void)state;
	es_up(&g, SEV_ES_MODE_TRIPLE, 0);
	expect_out(&g, PORT_OUT, 1, SEV_ES_STAGE_READY);
	run(&g, KVM_EXIT_SHUTDOWN);
	expect_regs_protected(&g);
	sg_down(&g);
}

int main(void)
{
	const struct CMUnitTest launch[] = {
		cmocka_unit_test(test_es_launch),
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_es_launch),
		cmocka_unit_test(test_es_guest),
		cmocka_unit_test(test_es_string_io),
		cmocka_unit_test(test_es_vc_rflags),
		cmocka_unit_test(test_es_vc_codes),
		cmocka_unit_test(test_es_vc_npf),
		cmocka_unit_test(test_es_malformed),
		cmocka_unit_test(test_es_ghcb_msr),
		cmocka_unit_test(test_es_termination),
		cmocka_unit_test(test_es_ghcb_version),
		cmocka_unit_test(test_es_triple_fault),
	};

	if (!emulated()) {
		/* not cmocka's skip(): its TAP says "not ok ... # SKIP" */
		printf("# the guest's tests are left out: on the host's KVM an "
		       "SEV-ES VM runs as a plain KVM guest (no #VC, GHCB or "
		       "VMGEXIT); they need the emulated KVM "
		       "(softsev run --kvm=emulated)\n");
		fflush(stdout);
		return cmocka_run_group_tests(launch, NULL, NULL);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
