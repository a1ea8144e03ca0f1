// SPDX-License-Identifier: MIT
/*
 * The KVM userspace API as real KVM on an AMD host (Linux 6.12) gives it,
 * so that the emulated backend (`softsev run --kvm=emulated`) is held to
 * the same bytes: return values, errnos, kvm_run fields, register state.
 * Each check names the kernel function it pins (x86.c, regs.c, cpuid.c,
 * emulate.c, svm/svm.c, kvm_main.c).  This half: guests that run (modes,
 * port and MMIO exits, exceptions, signals, two vCPUs, injected events),
 * each test making its own VM and copying one guest to CODE_GPA.
 */
#include "vkvm_conf.h"

static void test_memslot_move(void **state)
{
	struct vm vm;
	struct vcpu v;
	uint32_t *page = anon(PAGE);
	uint32_t answer = 0x0badf00d;

	*page = 0x51075107;
	lm_guest(&vm, &v, slot_start, slot_end);
	assert_ok(set_slot(vm.fd, 1, 0, SLOT_OLD_GPA, PAGE, page));
	expect_out(&v, PORT_VALUE, 4, *page);	/* read at the old GPA */
	expect_out(&v, PORT_OUT, 1, 1);
	/* __kvm_set_memory_region: a new base_gfn alone is KVM_MR_MOVE */
	assert_ok(set_slot(vm.fd, 1, 0, SLOT_NEW_GPA, PAGE, page));
	expect_out(&v, PORT_VALUE, 4, *page);	/* read at the new GPA */
	/* the old GPA is in no slot any more: an MMIO read */
	memcpy(mmio_exit(&v, SLOT_OLD_GPA, 4, 0), &answer, 4);
	expect_out(&v, PORT_VALUE, 4, answer);
	expect_hlt(&v, GPA(slot, slot_hlt_end));
	vm_done(&vm, &v);
	munmap(page, PAGE);
}

/* ---- guests ---- */

static void test_modes_guest(void **state)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	struct vm vm;
	struct vcpu v;

	vm_create(&vm);
	load(&vm, modes_start, modes_end);
	*(uint32_t *)(vm.mem + MARKER_PA) = MARKER_VALUE;
	vcpu_create(&vm, 0, &v);
	vcpu_cpuid(&v);
	/* real mode as at RESET, but CS base 0 and RIP at the guest */
	get_sregs(&v, &s);
	s.cs.selector = 0;
	s.cs.base = 0;
	assert_ok(ioctl(v.fd, KVM_SET_SREGS, &s));
	get_regs(&v, &r);
	r.rip = CODE_GPA;
	assert_ok(ioctl(v.fd, KVM_SET_REGS, &r));

	expect_out(&v, PORT_OUT, 1, STAGE_REAL);
	expect_out(&v, PORT_OUT, 1, STAGE_PROT32);
	expect_out(&v, PORT_OUT, 1, STAGE_LONG);
	expect_out(&v, PORT_VALUE, 4, MARKER_VALUE);	/* via MARKER_VA */
	expect_out(&v, PORT_OUT, 1, STAGE_DONE);
	expect_hlt(&v, GPA(modes, modes_hlt_end));
	/* the write through MARKER_VA landed at MARKER_PA */
	assert_int_equal(*(uint32_t *)(vm.mem + MARKER_PA + 8), MODES_WRITE);

	/* set_efer / svm_set_cr0: LMA came with CR0.PG */
	get_sregs(&v, &s);
	assert_int_equal(s.efer, EFER_LME | EFER_LMA);
	assert_int_equal(s.cr0, CR0_PE | CR0_ET | CR0_PG);
	assert_int_equal(s.cr4, CR4_PAE);
	assert_int_equal(s.cr3, MODES_PT_GPA);
	assert_int_equal(s.cs.selector, M_SEL_CODE64);
	assert_int_equal(s.cs.l, 1);
	assert_int_equal(s.gdt.limit, 4 * 8 - 1);
	vm_done(&vm, &v);
}

/* Up to the IN of a dword: three OUTs, one of each width. */
static void io64_outs(struct vcpu *v)
{
	expect_out(v, PORT_OUT, 1, IO_OUT8);
	expect_out(v, PORT_OUT, 2, IO_OUT16);
	expect_out(v, PORT_OUT, 4, IO_OUT32);
}

/* Each exit of rep outsb: emulate.c em_out sends one element. */
static void io64_rep_outsb(struct vcpu *v)
{
	const char *s = "hello";
	int i;

	for (i = 0; i < IO_STR_LEN; i++)
		expect_out(v, PORT_STR, 1, (uint8_t)s[i]);
}

static void test_io64_guest(void **state)
{
	static const uint8_t ins[IO_INS_LEN] = { 1, 2, 3, 4 };
	uint32_t in32 = 0xcafebabe, mmio = 0xdeadbeef, w;
	uint8_t in8 = 0x99;
	struct vm vm;
	struct vcpu v;

	lm_guest(&vm, &v, io64_start, io64_end);
	io64_outs(&v);
	/* complete_fast_pio_in: size 4 zero-extends, size 1 merges */
	answer_in(&v, PORT_IN, 4, 1, &in32);
	expect_out(&v, PORT_VALUE, 4, in32);
	answer_in(&v, PORT_IN, 1, 1, &in8);
	expect_out(&v, PORT_VALUE, 4, (IO_MERGE & ~0xffu) | in8);
	/* write_exit_mmio: the bytes as stored */
	memcpy(&w, mmio_exit(&v, MMIO_GPA, 4, 1), 4);
	assert_int_equal(w, IO_MMIO_WRITE);
	/* complete_emulated_mmio: the read gets run->mmio.data */
	memcpy(mmio_exit(&v, MMIO_GPA + IO_MMIO_READ_OFF, 4, 0), &mmio, 4);
	expect_out(&v, PORT_VALUE, 4, mmio);
	io64_rep_outsb(&v);
	/* pio_in_emulated reads ahead: one exit for the whole rep insb */
	answer_in(&v, PORT_STR, 1, IO_INS_LEN, ins);
	memcpy(&w, ins, 4);
	expect_out(&v, PORT_VALUE, 4, w);
	expect_hlt(&v, GPA(io64, io64_hlt_end));
	assert_memory_equal(vm.mem + DATA_GPA, ins, IO_INS_LEN);
	vm_done(&vm, &v);
}

static void test_immediate_exit_completes_in(void **state)
{
	uint32_t in32 = 0xcafebabe;
	struct kvm_regs r;
	struct vm vm;
	struct vcpu v;

	lm_guest(&vm, &v, io64_start, io64_end);
	io64_outs(&v);
	answer_in(&v, PORT_IN, 4, 1, &in32);
	/*
	 * kvm_arch_vcpu_ioctl_run: complete_userspace_io (here
	 * complete_fast_pio_in) runs before the immediate_exit check, which
	 * returns -EINTR without entering vcpu_run: exit_reason stays.
	 */
	v.run->immediate_exit = 1;
	assert_errno(ioctl(v.fd, KVM_RUN, 0), EINTR);
	assert_int_equal(v.run->exit_reason, KVM_EXIT_IO);
	get_regs(&v, &r);
	assert_int_equal(r.rax, in32);	/* upper half zeroed */
	assert_int_equal(r.rip, GPA(io64, io64_inl_end));
	v.run->immediate_exit = 0;
	expect_out(&v, PORT_VALUE, 4, in32);
	vm_done(&vm, &v);
}

/* idt.S's handler reports: vector, [error code], saved RIP. */
static void expect_vector(struct vcpu *v, uint8_t vec, int64_t err,
			  uint64_t rip)
{
	expect_out(v, PORT_VEC, 1, vec);
	if (err >= 0)
		expect_out(v, PORT_ERR, 4, (uint32_t)err);
	expect_out(v, PORT_RIP, 4, (uint32_t)rip);
}

static void test_idt_guest(void **state)
{
	struct kvm_sregs s;
	struct vm vm;
	struct vcpu v;

	lm_guest(&vm, &v, idt_start, idt_end);
	/* faults save the faulting RIP; traps the next one */
	expect_vector(&v, 6, -1, GPA(idt, idt_ud));
	expect_vector(&v, 13, 0, GPA(idt, idt_gp0));
	expect_vector(&v, 13, BAD_SEL, GPA(idt, idt_gpsel));
	expect_vector(&v, 3, -1, GPA(idt, idt_int3_end));
	expect_vector(&v, 0x80, -1, GPA(idt, idt_int80_end));
	expect_hlt(&v, GPA(idt, idt_hlt_end));
	get_sregs(&v, &s);
	assert_int_equal(s.idt.base, IDT_GPA);
	assert_int_equal(s.idt.limit, 256 * 16 - 1);
	assert_int_equal(s.ds.selector, LM_SEL_DATA);	/* load failed */
	vm_done(&vm, &v);
}

static void test_triple_fault(void **state)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	struct vm vm;
	struct vcpu v;

	lm_guest(&vm, &v, triple_start, triple_end);
	expect_out(&v, PORT_OUT, 1, 1);
	run(&v, KVM_EXIT_SHUTDOWN);
	/*
	 * shutdown_interception (svm): the VMCB is undefined after
	 * SHUTDOWN, so KVM INITs the vCPU (kvm_vcpu_reset(vcpu, true)).
	 */
	get_regs(&v, &r);
	assert_int_equal(r.rip, 0xfff0);
	assert_int_equal(r.rflags, 2);
	assert_int_equal(r.rdx, cpuid_leaf(1)->eax);
	get_sregs(&v, &s);
	assert_int_equal(s.cs.selector, 0xf000);
	assert_int_equal(s.cs.base, 0xffff0000);
	assert_int_equal(s.cr0, CR0_ET);	/* CD, NW kept: were 0 */
	assert_int_equal(s.cr4 | s.efer, 0);
	vm_done(&vm, &v);
}

static void test_immediate_exit(void **state)
{
	struct kvm_regs r;
	struct vm vm;
	struct vcpu v;

	lm_guest(&vm, &v, loop_start, loop_end);
	/* kvm_vcpu_ioctl: KVM_RUN takes no argument */
	assert_errno(ioctl(v.fd, KVM_RUN, 1), EINVAL);
	/*
	 * kvm_arch_vcpu_ioctl_run: !wants_to_run is -EINTR before
	 * vcpu_run, which is what writes exit_reason: it keeps the 0 of a
	 * new kvm_run page, and no guest instruction ran.
	 */
	v.run->immediate_exit = 1;
	assert_errno(ioctl(v.fd, KVM_RUN, 0), EINTR);
	assert_int_equal(v.run->exit_reason, KVM_EXIT_UNKNOWN);
	get_regs(&v, &r);
	assert_int_equal(r.rip, CODE_GPA);
	assert_int_equal(r.rax, 0);
	vm_done(&vm, &v);
}

struct kicker {
	pthread_t target;
	atomic_bool stop;
};

static void on_usr1(int sig)
{
}

/* SIGUSR1 to the target every 50 ms until told to stop. */
static void *kick(void *arg)
{
	struct kicker *k = arg;

	while (!atomic_load(&k->stop)) {
		usleep(50000);
		if (!atomic_load(&k->stop))
			pthread_kill(k->target, SIGUSR1);
	}
	return NULL;
}

static void test_signal_interrupts_run(void **state)
{
	struct sigaction sa = { .sa_handler = on_usr1 }, old;
	struct kicker k = { .target = pthread_self() };
	struct kvm_regs r;
	struct vm vm;
	struct vcpu v;
	pthread_t t;
	int ret, err;

	lm_guest(&vm, &v, loop_start, loop_end);
	sigemptyset(&sa.sa_mask);
	assert_ok(sigaction(SIGUSR1, &sa, &old));
	atomic_init(&k.stop, false);
	assert_ok(pthread_create(&t, NULL, kick, &k));
	errno = 0;
	ret = ioctl(v.fd, KVM_RUN, 0);
	err = errno;
	atomic_store(&k.stop, true);
	pthread_join(t, NULL);
	sigaction(SIGUSR1, &old, NULL);
	/* xfer_to_guest_mode_work -> kvm_handle_signal_exit */
	assert_int_equal(ret, -1);
	assert_int_equal(err, EINTR);
	assert_int_equal(v.run->exit_reason, KVM_EXIT_INTR);
	get_regs(&v, &r);
	assert_true(r.rax > 0);
	assert_true(r.rip == CODE_GPA || r.rip == CODE_GPA + 3);
	vm_done(&vm, &v);
}

/* ---- two vCPUs ---- */

struct runner {
	struct vcpu v;
	uint32_t exit1, exit2;	/* exit reasons of the two KVM_RUNs */
	uint8_t dir, size;
	uint16_t port;
	uint32_t count, val;
	uint64_t rip;
	int err;
};

/* Two KVM_RUNs: the OUT of the vCPU's id, then the hlt. */
static int smp_run(struct runner *r)
{
	struct kvm_run *run = r->v.run;
	struct kvm_regs regs;

	if (ioctl(r->v.fd, KVM_RUN, 0))
		return -1;
	r->exit1 = run->exit_reason;
	r->dir = run->io.direction;
	r->size = run->io.size;
	r->port = run->io.port;
	r->count = run->io.count;
	if (r->exit1 == KVM_EXIT_IO &&
	    run->io.data_offset + 4 <= (uint64_t)run_size)
		memcpy(&r->val, (uint8_t *)run + run->io.data_offset, 4);
	if (ioctl(r->v.fd, KVM_RUN, 0))
		return -1;
	r->exit2 = run->exit_reason;
	if (ioctl(r->v.fd, KVM_GET_REGS, &regs))
		return -1;
	r->rip = regs.rip;
	return 0;
}

/* No cmocka asserts off the main thread: record, check later. */
static void *smp_vcpu(void *arg)
{
	struct runner *r = arg;

	if (smp_run(r))
		r->err = errno;
	return NULL;
}

static void check_runner(const struct runner *r, uint32_t id)
{
	assert_int_equal(r->err, 0);
	assert_int_equal(r->exit1, KVM_EXIT_IO);
	assert_int_equal(r->dir, KVM_EXIT_IO_OUT);
	assert_int_equal(r->size, 4);
	assert_int_equal(r->port, PORT_VALUE);
	assert_int_equal(r->count, 1);
	assert_int_equal(r->val, id);
	assert_int_equal(r->exit2, KVM_EXIT_HLT);
	assert_int_equal(r->rip, GPA(smp, smp_hlt_end));
}

static void test_two_vcpus(void **state)
{
	struct runner r[2];
	pthread_t t[2];
	struct vm vm;
	int i;

	memset(r, 0, sizeof(r));
	vm_create(&vm);
	load(&vm, smp_start, smp_end);
	lm_tables(vm.mem, 0);
	for (i = 0; i < 2; i++) {
		vcpu_create(&vm, i, &r[i].v);
		lm_enter(&r[i].v, i + 1);
	}
	/* kvm_vm_ioctl_create_vcpu: the id is taken */
	assert_errno(ioctl(vm.fd, KVM_CREATE_VCPU, 1), EEXIST);
	/* kvm_arch_vcpu_create: no in-kernel irqchip, so APs too */
	for (i = 0; i < 2; i++)
		check_mp_runnable(&r[i].v);
	for (i = 0; i < 2; i++)
		assert_ok(pthread_create(&t[i], NULL, smp_vcpu, &r[i]));
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 2; i++)
		check_runner(&r[i], i + 1);
	assert_int_equal(*(uint32_t *)(vm.mem + SMP_COUNTER_GPA),
			 2 * SMP_ITERS);
	for (i = 0; i < 2; i++)
		vcpu_destroy(&r[i].v);
	vm_destroy(&vm);
}

/* ---- ioeventfd ---- */

static int ioeventfd(int vm, uint64_t addr, uint32_t len, int fd,
		     uint32_t flags, uint64_t match)
{
	struct kvm_ioeventfd a = { .datamatch = match, .addr = addr,
				   .len = len, .fd = fd, .flags = flags };

	return ioctl(vm, KVM_IOEVENTFD, &a);
}

/* kvm_assign_ioeventfd() and kvm_deassign_ioeventfd()'s checks. */
static void ioeventfd_errors(int vm, int efd)
{
	assert_errno(ioeventfd(vm, 0x50, 3, efd, KVM_IOEVENTFD_FLAG_PIO, 0),
		     EINVAL);
	assert_errno(ioeventfd(vm, 0x50, 0, efd, KVM_IOEVENTFD_FLAG_PIO |
				   KVM_IOEVENTFD_FLAG_DATAMATCH, 0), EINVAL);
	assert_errno(ioeventfd(vm, ~0ull - 1, 4, efd, 0, 0), EINVAL);
	assert_errno(ioeventfd(vm, 0x50, 1, efd, 1u << 7, 0), EINVAL);
	assert_errno(ioeventfd(vm, 0x50, 1, -1, KVM_IOEVENTFD_FLAG_PIO, 0),
		     EBADF);
	assert_errno(ioeventfd(vm, 0x50, 1, 0, KVM_IOEVENTFD_FLAG_PIO, 0),
		     EINVAL); /* fd 0 is not an eventfd */
	/* a second wildcard on the same port collides */
	assert_errno(ioeventfd(vm, PORT_IOEV, 1, efd, KVM_IOEVENTFD_FLAG_PIO,
			       0), EEXIST);
	assert_errno(ioeventfd(vm, 0x51, 1, efd, KVM_IOEVENTFD_FLAG_PIO |
				   KVM_IOEVENTFD_FLAG_DEASSIGN, 0), ENOENT);
}

static void test_ioeventfd(void **state)
{
	struct vm vm;
	struct vcpu v;
	uint64_t n = 0;
	int pio = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int mmio = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	(void)state;
	assert_true(pio >= 0 && mmio >= 0);
	lm_guest(&vm, &v, ioev_start, ioev_end);
	assert_ok(ioeventfd(vm.fd, PORT_IOEV, 1, pio, KVM_IOEVENTFD_FLAG_PIO,
			    0));
	assert_ok(ioeventfd(vm.fd, MMIO_GPA, 4, mmio,
			    KVM_IOEVENTFD_FLAG_DATAMATCH, IOEV_MATCH));
	ioeventfd_errors(vm.fd, pio);
	/* the matching store went to the eventfd; the other one exits */
	assert_int_equal(*(uint32_t *)mmio_exit(&v, MMIO_GPA, 4, true),
			 IOEV_OTHER);
	assert_int_equal(read(pio, &n, 8), 8);
	assert_int_equal(n, 2);
	assert_int_equal(read(mmio, &n, 8), 8);
	assert_int_equal(n, 1);
	expect_out(&v, PORT_OUT, 1, STAGE_DONE);
	expect_hlt(&v, GPA(ioev, ioev_hlt_end));
	/* deassigned, a write exits again */
	assert_ok(ioeventfd(vm.fd, PORT_IOEV, 1, pio,
			    KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DEASSIGN,
			    0));
	vm_done(&vm, &v);
	close(pio);
	close(mmio);
}

/* ---- 8-byte MMIO ---- */

/*
 * vcpu_mmio_read/write(): one exit carries an 8-byte access, RIP at the
 * instruction while it is pending.
 */
static void test_mmio_quadword(void **state)
{
	static const uint64_t answer = 0xa1b2c3d4e5f60718ull;
	struct kvm_regs r;
	struct vm vm;
	struct vcpu v;
	uint64_t got;

	(void)state;
	lm_guest(&vm, &v, mmio64_start, mmio64_end);
	memcpy(mmio_exit(&v, MMIO_GPA, 8, false), &answer, 8);
	get_regs(&v, &r);
	assert_int_equal(r.rip, GPA(mmio64, mmio64_load));
	expect_out(&v, PORT_VALUE, 4, (uint32_t)answer);
	expect_out(&v, PORT_VALUE, 4, (uint32_t)(answer >> 32));
	memcpy(&got, mmio_exit(&v, MMIO_GPA + 8, 8, true), 8);
	assert_int_equal(got, MMIO64_VALUE);
	get_regs(&v, &r);
	assert_int_equal(r.rip, GPA(mmio64, mmio64_store));
	expect_hlt(&v, GPA(mmio64, mmio64_end));
	vm_done(&vm, &v);
}

/*
 * kvm_arch_vcpu_ioctl_set_guest_debug() (6.12): no check of unknown
 * control bits; INJECT_BP/INJECT_DB queue an exception for the next run,
 * EBUSY while one is queued; KVM_CAP_SET_GUEST_DEBUG2 is the valid mask.
 */
static void test_guest_debug_inject(void **state)
{
	struct kvm_guest_debug d = { .control = KVM_GUESTDBG_ENABLE |
						0x80000000u };
	struct kvm_vcpu_events e;
	struct vm vm;
	struct vcpu v;

	assert_int_equal(ioctl(kvm, KVM_CHECK_EXTENSION,
			       KVM_CAP_SET_GUEST_DEBUG2), 0x001f0003);
	lm_guest(&vm, &v, idt_start, idt_end);
	assert_ok(ioctl(v.fd, KVM_SET_GUEST_DEBUG, &d));
	expect_vector(&v, 6, -1, GPA(idt, idt_ud));
	expect_vector(&v, 13, 0, GPA(idt, idt_gp0));
	expect_vector(&v, 13, BAD_SEL, GPA(idt, idt_gpsel));
	expect_vector(&v, 3, -1, GPA(idt, idt_int3_end));
	expect_vector(&v, 0x80, -1, GPA(idt, idt_int80_end));
	expect_hlt(&v, GPA(idt, idt_hlt_end));
	d.control = KVM_GUESTDBG_INJECT_BP;
	assert_ok(ioctl(v.fd, KVM_SET_GUEST_DEBUG, &d));
	d.control = KVM_GUESTDBG_INJECT_DB;
	assert_errno(ioctl(v.fd, KVM_SET_GUEST_DEBUG, &d), EBUSY);
	/* without the payload capability it reads as injected */
	assert_ok(ioctl(v.fd, KVM_GET_VCPU_EVENTS, &e));
	assert_int_equal(e.exception.injected, 1);
	assert_int_equal(e.exception.nr, 3);
	/* delivered through the IDT at the RIP after HLT */
	expect_vector(&v, 3, -1, GPA(idt, idt_hlt_end));
	vm_done(&vm, &v);
}

/* kvm_vcpu_ioctl_x86_set_vcpu_events(): its checks, and an injection. */
static void test_vcpu_events_rows(void **state)
{
	struct kvm_vcpu_events e;
	struct vm vm;
	struct vcpu v;

	lm_guest(&vm, &v, idt_start, idt_end);
	expect_vector(&v, 6, -1, GPA(idt, idt_ud));
	memset(&e, 0, sizeof(e));
	e.flags = 0x40;
	assert_errno(ioctl(v.fd, KVM_SET_VCPU_EVENTS, &e), EINVAL);
	e.flags = KVM_VCPUEVENT_VALID_PAYLOAD; /* capability not enabled */
	assert_errno(ioctl(v.fd, KVM_SET_VCPU_EVENTS, &e), EINVAL);
	e.flags = 0;
	e.exception.injected = 1;
	e.exception.nr = 2; /* NMI is not an exception to inject */
	assert_errno(ioctl(v.fd, KVM_SET_VCPU_EVENTS, &e), EINVAL);
	e.exception.nr = 32;
	assert_errno(ioctl(v.fd, KVM_SET_VCPU_EVENTS, &e), EINVAL);
	/* #GP(0x18) injected: the handler sees it with its error code */
	e.exception.nr = 13;
	e.exception.has_error_code = 1;
	e.exception.error_code = 0x18;
	assert_ok(ioctl(v.fd, KVM_SET_VCPU_EVENTS, &e));
	memset(&e, 0, sizeof(e));
	assert_ok(ioctl(v.fd, KVM_GET_VCPU_EVENTS, &e));
	assert_int_equal(e.exception.nr, 13);
	assert_int_equal(e.exception.error_code, 0x18);
	/* the pending OUT of #UD's report completes first, then #GP */
	expect_out(&v, PORT_VEC, 1, 13);
	expect_out(&v, PORT_ERR, 4, 0x18);
	vm_done(&vm, &v);
}

/*
 * The VMM sets registers while an OUT waits (the engine is replaced,
 * V10): the OUT completes, and MMIO in a page the old engine had mapped
 * still exits.
 */
static void test_mmio_after_state_change(void **state)
{
	static const uint64_t answer = 0x0102030405060708ull;
	struct kvm_regs r;
	struct vm vm;
	struct vcpu v;

	(void)state;
	lm_guest(&vm, &v, mmio64_start, mmio64_end);
	memcpy(mmio_exit(&v, MMIO_GPA, 8, false), &answer, 8);
	expect_out(&v, PORT_VALUE, 4, (uint32_t)answer);
	get_regs(&v, &r);
	assert_ok(ioctl(v.fd, KVM_SET_REGS, &r));
	expect_out(&v, PORT_VALUE, 4, (uint32_t)(answer >> 32));
	mmio_exit(&v, MMIO_GPA + 8, 8, true);
	expect_hlt(&v, GPA(mmio64, mmio64_end));
	vm_done(&vm, &v);
}

/*
 * kvm_emulate_rdmsr()/wrmsr(): the guest's RDMSR and WRMSR of MSRs KVM
 * keeps see what KVM_SET_MSRS wrote, and KVM_GET_MSRS sees the guest's
 * write.  The APIC base has the BSP flag on the boot vCPU.
 */
static void test_guest_msrs(void **state)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[1];
	} m = { .h.nmsrs = 1, .e[0] = { .index = 0x250,
					 .data = 0x0606060606060606ull } };
	struct vm vm;
	struct vcpu v;

	(void)state;
	lm_guest(&vm, &v, msr_start, msr_end);
	assert_int_equal(ioctl(v.fd, KVM_SET_MSRS, &m), 1);
	expect_out(&v, PORT_VALUE, 4, 0xfee00900);
	expect_out(&v, PORT_VALUE, 4, 0x06060606);
	expect_hlt(&v, GPA(msr, msr_end));
	assert_int_equal(ioctl(v.fd, KVM_GET_MSRS, &m), 1);
	assert_int_equal(m.e[0].data, MSR_VALUE);
	vm_done(&vm, &v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memslot_move),
		cmocka_unit_test(test_modes_guest),
		cmocka_unit_test(test_io64_guest),
		cmocka_unit_test(test_immediate_exit_completes_in),
		cmocka_unit_test(test_idt_guest),
		cmocka_unit_test(test_guest_debug_inject),
		cmocka_unit_test(test_vcpu_events_rows),
		cmocka_unit_test(test_triple_fault),
		cmocka_unit_test(test_immediate_exit),
		cmocka_unit_test(test_signal_interrupts_run),
		cmocka_unit_test(test_two_vcpus),
		cmocka_unit_test(test_ioeventfd),
		cmocka_unit_test(test_mmio_quadword),
		cmocka_unit_test(test_mmio_after_state_change),
		cmocka_unit_test(test_guest_msrs),
	};

	return cmocka_run_group_tests_name("conf_vkvm_run", tests, setup,
					   teardown);
}
