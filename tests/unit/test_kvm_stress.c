// SPDX-License-Identifier: MIT
/*
 * kvm/ concurrency stress: threads COPY, MOVE, INIT, launch, create vCPUs
 * and close VMs at random on a shared fd table, then the invariants of
 * spec §2–§3 are checked: every ASID has one live owner or waits in
 * reclaim, every mirror's owner is alive and lists it, references balance,
 * and nothing is left in the firmware once everything is closed.  Run it
 * under ThreadSanitizer too (make tsan).
 */
#include "kvm_fixture.h"

#include <stdatomic.h>

#define SLOTS 12
#define THREADS 6
#define OPS 3000

struct table {
	struct kx *x;
	pthread_mutex_t lock;
	struct kvm_vm *slot[SLOTS];
	atomic_int ok[8];
};

struct worker {
	struct table *t;
	unsigned int seed;
	struct kvm_caller c;
};

static int t_vm_fd(void *ctx, unsigned int fd, struct kvm_vm **vm)
{
	struct table *t = ctx;
	int ret = -EBADF;

	if (fd >= SLOTS)
		return -EBADF;
	pthread_mutex_lock(&t->lock);
	if (t->slot[fd]) {
		kvm_vm_get(t->slot[fd]);
		*vm = t->slot[fd];
		ret = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

static int t_sev_fd(void *ctx, int fd)
{
	return fd == SEV_FD ? 0 : -EBADF;
}

/* Take a reference to slot i (NULL if empty), as an fd lookup would. */
static struct kvm_vm *grab(struct table *t, int i)
{
	struct kvm_vm *vm = NULL;

	t_vm_fd(t, (unsigned int)i, &vm);
	return vm;
}

static void op(struct worker *w)
{
	struct table *t = w->t;
	int a = rand_r(&w->seed) % SLOTS, b = rand_r(&w->seed) % SLOTS;
	int kind = rand_r(&w->seed) % 8;
	struct kvm_vm *vm, *old;
	int ret = -1;

	if (kind == 0) { /* create into an empty slot, or close it */
		pthread_mutex_lock(&t->lock);
		old = t->slot[a];
		t->slot[a] = NULL;
		pthread_mutex_unlock(&t->lock);
		if (old) {
			kvm_vm_put(old);
			return;
		}
		if (kvm_vm_create(t->x->host, KVM_X86_DEFAULT_VM, 1, &vm))
			return;
		pthread_mutex_lock(&t->lock);
		old = t->slot[a];
		t->slot[a] = vm;
		pthread_mutex_unlock(&t->lock);
		if (old)
			kvm_vm_put(old);
		atomic_fetch_add(&t->ok[0], 1);
		return;
	}
	vm = grab(t, a);
	if (!vm)
		return;
	switch (kind) {
	case 1: {
		struct kvm_sev_cmd c = { .id = rand_r(&w->seed) & 1 ?
						       KVM_SEV_ES_INIT :
						       KVM_SEV_INIT };

		ret = kvm_vm_mem_enc_op(vm, &w->c, (uintptr_t)&c);
		break;
	}
	case 2: {
		struct kvm_sev_launch_start ls = { 0 };
		struct kvm_sev_cmd c = { .id = KVM_SEV_LAUNCH_START,
					 .data = (uintptr_t)&ls,
					 .sev_fd = SEV_FD };
		struct kvm_vm_info i;

		kvm_vm_info(vm, &i);
		ls.policy = i.es_active ? SEV_POLICY_ES : 0;
		ret = kvm_vm_mem_enc_op(vm, &w->c, (uintptr_t)&c);
		break;
	}
	case 3:
	case 4: {
		struct kvm_enable_cap ec = {
			.cap = kind == 3 ? KVM_CAP_VM_COPY_ENC_CONTEXT_FROM :
					   KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM
		};

		ec.args[0] = (uint64_t)b;
		ret = kvm_vm_enable_cap(vm, &w->c, (uintptr_t)&ec);
		break;
	}
	case 5: {
		struct kvm_vcpu *v;

		ret = kvm_vcpu_create_begin(vm, &w->c);
		if (!ret)
			ret = kvm_vcpu_create_end(vm, rand_r(&w->seed) % 4 != 0,
						  &v);
		break;
	}
	case 6: {
		struct kvm_sev_guest_status gs;
		struct kvm_sev_cmd c = { .id = KVM_SEV_GUEST_STATUS,
					 .data = (uintptr_t)&gs };

		ret = kvm_vm_mem_enc_op(vm, &w->c, (uintptr_t)&c);
		break;
	}
	case 7: {
		struct kvm_sev_cmd c = { .id = KVM_SEV_LAUNCH_UPDATE_VMSA };

		ret = kvm_vm_mem_enc_op(vm, &w->c, (uintptr_t)&c);
		break;
	}
	}
	if (!ret)
		atomic_fetch_add(&t->ok[kind], 1);
	kvm_vm_put(vm);
}

static void *run(void *arg)
{
	struct worker *w = arg;
	int i;

	for (i = 0; i < OPS; i++)
		op(w);
	return NULL;
}

static int holders(struct table *t, struct kvm_vm *vm)
{
	int i, n = 0;

	for (i = 0; i < SLOTS; i++)
		n += t->slot[i] == vm;
	return n;
}

/* Invariants over the VMs still in the table (single-threaded). */
static void check_invariants(struct table *t)
{
	uint32_t owner_asid[SLOTS];
	int n = 0, i, j;

	for (i = 0; i < SLOTS; i++) {
		struct kvm_vm_info vi, oi;

		if (!t->slot[i])
			continue;
		kvm_vm_info(t->slot[i], &vi);
		/* References balance: one per fd, one per mirror. */
		assert_int_equal(vi.refcount,
				 holders(t, t->slot[i]) + vi.nr_mirrors);
		if (!vi.active)
			continue;
		assert_false(vi.dead);
		if (vi.mirror) {
			/* The owner is alive (we can read it), is not a mirror,
			 * shares the context and lists at least this mirror. */
			kvm_vm_info(vi.owner, &oi);
			assert_true(oi.active && !oi.mirror && !oi.dead);
			assert_int_equal(oi.asid, vi.asid);
			/* A mirror copied before LAUNCH_START keeps handle 0
			 * (COPY snapshots the handle, as the kernel does). */
			assert_true(vi.handle == oi.handle || !vi.handle);
			assert_true(oi.nr_mirrors >= 1);
			assert_int_equal(oi.refcount,
					 holders(t, vi.owner) + oi.nr_mirrors);
			continue;
		}
		assert_true(kvm_asid_in_use(t->x->host, vi.asid));
		assert_false(kvm_asid_reclaim(t->x->host, vi.asid));
		for (j = 0; j < n; j++)
			assert_int_not_equal(owner_asid[j], vi.asid);
		owner_asid[n++] = vi.asid;
	}
}

static void test_stress(void **state)
{
	struct table t = { .x = kx_new() };
	struct worker w[THREADS];
	pthread_t th[THREADS];
	struct kvm_asid_info a;
	int i;

	pthread_mutex_init(&t.lock, NULL);
	for (i = 0; i < THREADS; i++) {
		w[i].t = &t;
		w[i].seed = 1234u + (unsigned int)i;
		w[i].c = t.x->c;
		w[i].c.ctx = &t;
		w[i].c.vm_fd = t_vm_fd;
		w[i].c.sev_fd = t_sev_fd;
		w[i].c.build_vmsa = NULL;
		assert_int_equal(pthread_create(&th[i], NULL, run, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	check_invariants(&t);
	/* Every kind of operation succeeded at least once. */
	for (i = 0; i < 8; i++)
		assert_true(atomic_load(&t.ok[i]) > 0);
	for (i = 0; i < SLOTS; i++)
		if (t.slot[i])
			kvm_vm_put(t.slot[i]);
	/* Nothing left: no VM, no firmware context, every ASID reclaimable. */
	kvm_asid_info(t.x->host, &a);
	assert_int_equal(a.live_vms, 0);
	assert_int_equal(psp_guest_count(t.x->f.psp), 0);
	assert_int_equal(a.in_use_sev, a.reclaim_sev);
	assert_int_equal(a.in_use_es, a.reclaim_es);
	pthread_mutex_destroy(&t.lock);
	kx_free(t.x);
}

/*
 * Issue 13.1: a mirror's last close racing a MOVE of its owner.  Destroy
 * reads the mirror's owner while MOVE hands the mirror's reference to the
 * destination; both sides run under sev_mirror_lock, so the reference is
 * dropped once, from whichever VM owned the mirror at that moment.
 */
#define RACE_ROUNDS 3000

struct race {
	struct kx *x;
	struct kvm_vm *mirror;
	int dst, src, ret;
	pthread_barrier_t bar;
};

static void *race_move(void *arg)
{
	struct race *r = arg;

	pthread_barrier_wait(&r->bar);
	r->ret = kx_move(r->x, r->dst, r->src);
	return NULL;
}

static void *race_close(void *arg)
{
	struct race *r = arg;

	pthread_barrier_wait(&r->bar);
	kvm_vm_put(r->mirror);
	return NULL;
}

static void test_mirror_close_vs_owner_move(void **state)
{
	struct race r = { .x = kx_new() };
	struct kvm_asid_info a;
	pthread_t t1, t2;
	int i, m;

	pthread_barrier_init(&r.bar, NULL, 2);
	for (i = 0; i < RACE_ROUNDS; i++) {
		r.src = kx_sev_vm(r.x, i & 1);
		m = kx_vm(r.x, KVM_X86_DEFAULT_VM);
		r.dst = kx_vm(r.x, KVM_X86_DEFAULT_VM);
		assert_int_equal(kx_copy(r.x, m, r.src), 0);
		r.mirror = kx_get(r.x, m);
		r.x->fds[m] = NULL; /* the closing thread owns the reference */
		pthread_create(&t1, NULL, race_move, &r);
		pthread_create(&t2, NULL, race_close, &r);
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
		assert_int_equal(r.ret, 0);
		/* The mirror's reference went away exactly once. */
		assert_int_equal(kx_info(r.x, r.dst).refcount, 1);
		assert_int_equal(kx_info(r.x, r.dst).nr_mirrors, 0);
		assert_int_equal(kx_info(r.x, r.src).refcount, 1);
		kx_close(r.x, r.src);
		kx_close(r.x, r.dst);
	}
	kvm_asid_info(r.x->host, &a);
	assert_int_equal(a.live_vms, 0);
	assert_int_equal(psp_guest_count(r.x->f.psp), 0);
	assert_int_equal(a.in_use_sev, a.reclaim_sev);
	assert_int_equal(a.in_use_es, a.reclaim_es);
	pthread_barrier_destroy(&r.bar);
	kx_free(r.x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stress),
		cmocka_unit_test(test_mirror_close_vs_owner_move),
	};

	return cmocka_run_group_tests_name("kvm_stress", tests,
					   fx_group_setup, fx_group_teardown);
}
