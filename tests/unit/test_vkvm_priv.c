// SPDX-License-Identifier: MIT
/*
 * vkvm's private view (vkvm_set_private_view()): private accesses, table
 * walks and instruction fetches reach a second copy of memory, shared
 * accesses the VMM's; the dirty set the layer above takes; the copy's
 * fill and lookup.  The fixture of test_vkvm_plat.c: PT[0] maps DATA with
 * bit 51, PT[1] the same page without.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "vkvm_plat_fixture.h"

extern const uint8_t vp_mem2_start[], vp_mem2_end[];

#define MAX_RANGES 64

struct ranges {
	struct vkvm_priv_range r[MAX_RANGES];
	int n;
};

static int keep(void *opaque, const struct vkvm_priv_range *r, int n)
{
	struct ranges *s = opaque;
	int i;

	for (i = 0; i < n && s->n < MAX_RANGES; i++)
		s->r[s->n++] = r[i];
	return 0;
}

/* the layer above's fill: here the copy starts as the VMM's memory */
static int copy_in(void *opaque, const struct vkvm_priv_range *r, int n)
{
	int i;

	(void)opaque;
	for (i = 0; i < n; i++)
		memcpy(r[i].priv, (void *)(uintptr_t)r[i].hva, r[i].len);
	return 0;
}

static bool has_page(const struct ranges *s, uint64_t gpa)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (gpa >= s->r[i].gpa && gpa < s->r[i].gpa + s->r[i].len)
			return true;
	return false;
}

static uint8_t *priv_of(struct t *t)
{
	struct ranges s = { .n = 0 };

	assert_int_equal(vkvm_private_lookup(t->vm, (uintptr_t)t->mem, MEM_SIZE,
					     keep, &s),
			 0);
	assert_int_equal(s.n, 1);
	assert_true(s.r[0].hva == (uintptr_t)t->mem);
	assert_true(s.r[0].len == MEM_SIZE);
	return s.r[0].priv;
}

static void private_enter(struct t *t, uint64_t store, uint64_t load,
			  uint32_t val)
{
	struct kvm_regs r = { .rax = val, .rbx = store, .rcx = load };

	enter(t, vp_mem_start, vp_mem_end, &r, 0);
}

static void test_private_view(void **state)
{
	struct ranges s = { .n = 0 };
	uint64_t *pt, *ppt;
	uint32_t host, priv;
	uint8_t *pm;
	struct t t;

	(void)state;
	t_new(&t);
	/* only an ignored bit, before the first run */
	assert_int_equal(vkvm_set_private_view(t.vm, CBIT), -EINVAL);
	assert_int_equal(vkvm_set_pa_ignore(t.vm, CBIT), 0);
	assert_int_equal(vkvm_set_private_view(t.vm, 1ull << 50), -EINVAL);
	assert_int_equal(vkvm_set_private_view(t.vm, CBIT | (1ull << 50)),
			 -EINVAL);
	assert_false(vkvm_private_on(t.vm));
	assert_int_equal(vkvm_private_dirty(t.vm, keep, &s), -ENOENT);
	assert_int_equal(vkvm_set_private_view(t.vm, CBIT), 0);
	assert_true(vkvm_private_on(t.vm));
	assert_true(vkvm_private_on(t.fd));
	/* unfilled: nothing to look up yet; the fill takes the memslot */
	assert_true(vkvm_private_pending(t.fd));
	assert_int_equal(
		vkvm_private_lookup(t.vm, (uintptr_t)t.mem, 16, keep, &s), 0);
	assert_int_equal(s.n, 0);
	host = 0x5a5a5a5a;
	memcpy(t.mem + DATA_GPA + 0x40, &host, 4);
	private_enter(&t, VA + 0x40, VA + PAGE + 0x40, 0x5eb5eb);
	assert_int_equal(vkvm_private_fill(t.fd, keep, &s), 0);
	assert_int_equal(s.n, 1);
	assert_true(s.r[0].gpa == 0 && s.r[0].len == MEM_SIZE);
	s.n = 0;
	assert_false(vkvm_private_pending(t.fd));
	assert_int_equal(vkvm_private_fill(t.fd, keep, &s), 0);
	assert_int_equal(s.n, 0); /* filled once */
	pm = priv_of(&t);
	assert_true(pm[0] == 0 && pm[CODE_GPA] == 0); /* the copy starts zero */
	copy_in(NULL,
		&(struct vkvm_priv_range){
			.hva = (uintptr_t)t.mem, .len = MEM_SIZE, .priv = pm },
		1);
	vkvm_private_written(t.vm);
	/*
	 * The store through the C-bit entry goes to the copy; the load
	 * through the plain entry reads the VMM's memory, which still holds
	 * what was there.
	 */
	assert_int_equal(out(&t, 0x10), 0x5a5a5a5a);
	assert_int_equal(vkvm_ioctl(t.fd, KVM_RUN, NULL), 0);
	assert_int_equal(t.run->exit_reason, KVM_EXIT_HLT);
	memcpy(&host, t.mem + DATA_GPA + 0x40, 4);
	memcpy(&priv, pm + DATA_GPA + 0x40, 4);
	assert_int_equal(host, 0x5a5a5a5a);
	assert_int_equal(priv, 0x5eb5eb);
	/* the walk's accessed and dirty bits: in the copy's tables only */
	pt = (uint64_t *)(t.mem + PT_GPA);
	ppt = (uint64_t *)(pm + PT_GPA);
	assert_true(pt[0] == (DATA_GPA | PTE_P | PTE_RW | CBIT));
	assert_true(ppt[0] ==
		    (DATA_GPA | PTE_P | PTE_RW | CBIT | PTE_A | PTE_D));
	/* dirty: the data page and the tables; taken once */
	assert_true(vkvm_private_pending(t.fd));
	assert_int_equal(vkvm_private_dirty(t.fd, keep, &s), 0);
	assert_true(has_page(&s, DATA_GPA));
	assert_true(has_page(&s, PT_GPA));
	assert_false(has_page(&s, CODE_GPA));
	assert_false(has_page(&s, STACK_TOP - PAGE)); /* not written */
	assert_true(s.r[0].priv == pm + s.r[0].gpa);
	assert_true(s.r[0].hva == (uintptr_t)t.mem + s.r[0].gpa);
	s.n = 0;
	assert_int_equal(vkvm_private_dirty(t.fd, keep, &s), 0);
	assert_int_equal(s.n, 0);
	/*
	 * Instructions come from the copy: the VMM's code page holds HLTs.
	 * A store after an exit at which the set was taken is seen again
	 * (the engine's TLB was emptied).
	 */
	enter(&t, vp_mem2_start, vp_mem2_end,
	      &(struct kvm_regs){
		      .rax = 0x1234, .rdx = 0x5678, .rbx = VA + 0x44 },
	      0);
	memcpy(pm + CODE_GPA, t.mem + CODE_GPA, PAGE);
	vkvm_private_written(t.vm);
	memset(t.mem + CODE_GPA, 0xf4, PAGE);
	assert_int_equal(out(&t, 0x10), 0x1234);
	assert_int_equal(vkvm_private_dirty(t.fd, keep, &s), 0);
	assert_true(has_page(&s, DATA_GPA));
	s.n = 0;
	assert_int_equal(out(&t, 0x10), 0x1234);
	memcpy(&priv, pm + DATA_GPA + 0x44, 4);
	assert_int_equal(priv, 0x5678);
	assert_int_equal(vkvm_private_dirty(t.fd, keep, &s), 0);
	assert_true(has_page(&s, DATA_GPA));
	t_free(&t);
}

/*
 * vkvm's own accesses follow the view: with the C-bit on the identity map,
 * a #PF's frame is pushed on the private stack and the gate read from the
 * private IDT; the VMM's copies of both stay as they were.
 */
static void test_private_exception(void **state)
{
	struct ranges s = { .n = 0 };
	uint64_t *pd, frame[2];
	uint8_t *pm, zero[64] = { 0 };
	struct t t;
	int i;

	(void)state;
	t_new(&t);
	pd = (uint64_t *)(t.mem + PD_GPA);
	for (i = 0; i < 512; i++)
		pd[i] |= CBIT;
	assert_int_equal(vkvm_set_pa_ignore(t.vm, CBIT), 0);
	assert_int_equal(vkvm_set_private_view(t.vm, CBIT), 0);
	private_enter(&t, VA + 2 * PAGE + 8, VA, 0);
	assert_int_equal(vkvm_private_fill(t.vm, copy_in, NULL), 0);
	pm = priv_of(&t);
	/* the VMM's IDT is gone: only the private one can deliver */
	memset(t.mem + IDT_GPA, 0, PAGE);
	expect_exc(&t, 14, 2, INSN(vp_mem), VA + 2 * PAGE + 8);
	/* the frame (error code, RIP) in the private stack only */
	memcpy(frame, pm + STACK_TOP - 6 * 8, 16);
	assert_true(frame[0] == 2 && frame[1] == INSN(vp_mem));
	assert_memory_equal(t.mem + STACK_TOP - 64, zero, 64);
	assert_int_equal(vkvm_private_dirty(t.fd, keep, &s), 0);
	assert_true(has_page(&s, STACK_TOP - PAGE));
	t_free(&t);
}

static void on_usr1(int sig)
{
	(void)sig;
}

struct spinner {
	struct t *t;
	atomic_bool done;
	long ret;
};

/* The dword at p once it is no longer old (10 s at most). */
static uint32_t changed(const uint8_t *p, uint32_t old)
{
	struct timespec d = { 0, 5 * 1000 * 1000 };
	uint32_t v = old;
	int i;

	for (i = 0; i < 2000 && v == old; i++) {
		v = __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
		if (v == old)
			nanosleep(&d, NULL);
	}
	assert_true(v != old);
	return v;
}

static void *spin(void *arg)
{
	struct spinner *sp = arg;

	sp->ret = vkvm_ioctl(sp->t->fd, KVM_RUN, NULL);
	atomic_store(&sp->done, true);
	return NULL;
}

/*
 * The VM's dirty set while a vCPU runs in another thread (as before an
 * SEV command): taken as of now, after that vCPU's time slice; its next
 * writes are seen again.  The guest increments a private dword forever:
 * incl (%rbx); jmp .-2.
 */
static void test_private_dirty_running(void **state)
{
	static const uint8_t loop[] = { 0xff, 0x03, 0xeb, 0xfc };
	struct timespec d = { 0, 20 * 1000 * 1000 };
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct spinner sp = { .ret = 1 };
	struct ranges s = { .n = 0 };
	uint32_t n1, n2, host;
	pthread_t th;
	uint8_t *pm;
	struct t t;
	int i;

	(void)state;
	t_new(&t);
	sp.t = &t;
	atomic_init(&sp.done, false);
	assert_int_equal(vkvm_set_pa_ignore(t.vm, CBIT), 0);
	assert_int_equal(vkvm_set_private_view(t.vm, CBIT), 0);
	enter(&t, loop, loop + sizeof(loop),
	      &(struct kvm_regs){ .rbx = VA + 0x40 }, 0);
	assert_int_equal(vkvm_private_fill(t.vm, copy_in, NULL), 0);
	pm = priv_of(&t);
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
	assert_int_equal(pthread_create(&th, NULL, spin, &sp), 0);
	/*
	 * Each time the counter moved after the last take (read after it
	 * returned), a write came after it: the next take has the page.
	 */
	n1 = 0;
	for (i = 0; i < 3; i++) {
		n1 = changed(pm + DATA_GPA + 0x40, n1);
		s.n = 0;
		assert_int_equal(vkvm_private_dirty(t.vm, keep, &s), 0);
		assert_true(has_page(&s, DATA_GPA));
		n1 = __atomic_load_n((uint32_t *)(pm + DATA_GPA + 0x40),
				     __ATOMIC_RELAXED);
	}
	for (i = 0; i < 500 && !atomic_load(&sp.done); i++) {
		pthread_kill(th, SIGUSR1);
		nanosleep(&d, NULL);
	}
	pthread_join(th, NULL);
	assert_int_equal(sp.ret, -EINTR);
	memcpy(&n2, pm + DATA_GPA + 0x40, 4);
	memcpy(&host, t.mem + DATA_GPA + 0x40, 4);
	assert_true(n1 > 0 && n2 >= n1);
	assert_int_equal(host, 0);
	t_free(&t);
}

/* Paging off: every access is private; outside memory stays MMIO. */
static void test_private_real_mode(void **state)
{
	struct ranges s = { .n = 0 };
	struct kvm_regs r = { .rax = 0xabcd,
			      .rbx = DATA_GPA + 0x80,
			      .rcx = DATA_GPA + 0x80 };
	struct kvm_sregs sr;
	uint32_t priv, host = 0;
	uint8_t *pm;
	struct t t;

	(void)state;
	t_new(&t);
	assert_int_equal(vkvm_set_pa_ignore(t.vm, CBIT), 0);
	assert_int_equal(vkvm_set_private_view(t.vm, CBIT), 0);
	enter(&t, vp_mem_start, vp_mem_end, &r, 0);
	assert_int_equal(vkvm_ioctl(t.fd, KVM_GET_SREGS, &sr), 0);
	sr.cr0 &= ~0x80000000ull; /* 32-bit protected mode, no paging */
	sr.efer = 0;
	sr.cs.l = 0;
	sr.cs.db = 1;
	assert_int_equal(vkvm_ioctl(t.fd, KVM_SET_SREGS, &sr), 0);
	assert_int_equal(vkvm_private_fill(t.vm, copy_in, NULL), 0);
	pm = priv_of(&t);
	assert_int_equal(out(&t, 0x10), 0xabcd);
	memcpy(&priv, pm + DATA_GPA + 0x80, 4);
	memcpy(&host, t.mem + DATA_GPA + 0x80, 4);
	assert_int_equal(priv, 0xabcd);
	assert_int_equal(host, 0);
	assert_int_equal(vkvm_private_dirty(t.fd, keep, &s), 0);
	assert_int_equal(s.n, 1);
	assert_true(s.r[0].gpa == DATA_GPA && s.r[0].len == PAGE);
	/* a store outside every memslot: MMIO, as without the view */
	r.rbx = 0x10000000;
	r.rip = CODE_GPA;
	r.rsp = STACK_TOP;
	r.rflags = 2;
	assert_int_equal(vkvm_ioctl(t.fd, KVM_SET_REGS, &r), 0);
	assert_int_equal(vkvm_ioctl(t.fd, KVM_RUN, NULL), 0);
	assert_int_equal(t.run->exit_reason, KVM_EXIT_MMIO);
	assert_true(t.run->mmio.phys_addr == 0x10000000);
	assert_true(t.run->mmio.is_write);
	t_free(&t);
}

/* A memslot deleted and made again over the same memory keeps its copy. */
static void test_private_slot_again(void **state)
{
	struct kvm_userspace_memory_region m = { .memory_size = 0 };
	struct ranges s = { .n = 0 };
	uint8_t *pm;
	struct t t;

	(void)state;
	t_new(&t);
	assert_int_equal(vkvm_set_pa_ignore(t.vm, CBIT), 0);
	assert_int_equal(vkvm_set_private_view(t.vm, CBIT), 0);
	assert_int_equal(vkvm_private_fill(t.vm, copy_in, NULL), 0);
	pm = priv_of(&t);
	pm[100] = 0x77;
	assert_int_equal(vkvm_ioctl(t.vm, KVM_SET_USER_MEMORY_REGION, &m), 0);
	assert_int_equal(
		vkvm_private_lookup(t.vm, (uintptr_t)t.mem, 16, keep, &s), 0);
	assert_int_equal(s.n, 0);
	m.memory_size = MEM_SIZE;
	m.guest_phys_addr = 0x100000000ull;
	m.userspace_addr = (uintptr_t)t.mem;
	assert_int_equal(vkvm_ioctl(t.vm, KVM_SET_USER_MEMORY_REGION, &m), 0);
	assert_false(vkvm_private_pending(t.vm));
	assert_true(priv_of(&t) == pm);
	assert_int_equal(pm[100], 0x77);
	/* new memory: a new copy, to fill */
	m.slot = 1;
	m.guest_phys_addr = 0x200000000ull;
	m.userspace_addr = (uintptr_t)t.mem + PAGE;
	m.memory_size = PAGE;
	assert_int_equal(vkvm_ioctl(t.vm, KVM_SET_USER_MEMORY_REGION, &m), 0);
	assert_true(vkvm_private_pending(t.vm));
	assert_int_equal(vkvm_private_fill(t.vm, keep, &s), 0);
	assert_int_equal(s.n, 1);
	assert_true(s.r[0].gpa == 0x200000000ull && s.r[0].len == PAGE);
	t_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_private_view),
		cmocka_unit_test(test_private_exception),
		cmocka_unit_test(test_private_dirty_running),
		cmocka_unit_test(test_private_real_mode),
		cmocka_unit_test(test_private_slot_again),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
