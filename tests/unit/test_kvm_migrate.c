// SPDX-License-Identifier: MIT
/*
 * kvm/: SEND_* / RECEIVE_* through KVM (spec §4.9), with the history
 * regressions f1815e0aa770 and 50c038018d6b, plus the remaining rows:
 * INIT failing after the ASID was allocated, zero SEV capacity on MOVE,
 * and REG_REGION racing UNREG_REGION.
 */
#include "kvm_fixture.h"

#include <stdatomic.h>
#include <sys/stat.h>

static int setup(void **state)
{
	*state = kx_new();
	return 0;
}

static int teardown(void **state)
{
	kx_free(*state);
	return 0;
}

static void export_pdh(struct kx *x, struct sev_cert *pdh,
		       struct sev_cert *chain)
{
	struct sev_user_data_pdh_cert_export e = {
		(uintptr_t)pdh, SEV_CERT_LEN, (uintptr_t)chain, SEV_CHAIN_LEN
	};
	struct sev_issue_cmd in = { SEV_PDH_CERT_EXPORT, (uintptr_t)&e, 0 };

	assert_int_equal(ccp_ioctl(x->ccp, true, SEV_ISSUE_CMD, (uintptr_t)&in,
				   &user_mem), 0);
}

/* Launch a running guest over mem (one page). */
static int running(struct kx *x, uint8_t *mem, uint32_t policy)
{
	int fd = kx_sev_vm(x, false);
	struct kvm_sev_launch_update_data up = { (uintptr_t)mem, 4096 };
	uint8_t out[SEV_MEASURE_LEN];
	struct kvm_sev_launch_measure m = { (uintptr_t)out, sizeof(out) };

	kx_launch(x, fd, policy);
	assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_UPDATE_DATA, &up), 0);
	assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_MEASURE, &m), 0);
	assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_FINISH, NULL), 0);
	return fd;
}

static void test_send_receive_within_host(void **state)
{
	struct kx *x = *state;
	static uint8_t src[4096] __attribute__((aligned(4096)));
	static uint8_t dst[4096] __attribute__((aligned(4096)));
	static struct sev_cert pdh, chain[3];
	uint8_t session[SEV_SESSION_LEN], hdr[SEV_PACKET_HDR_LEN], trans[4096];
	uint8_t amd[4096], back[64];
	size_t ask = 2048, ark = 2048;
	struct kvm_sev_send_start ss = { 0 };
	struct kvm_sev_send_update_data su = { 0 };
	struct kvm_sev_receive_start rs = { 0 };
	struct kvm_sev_receive_update_data ru;
	int from, to;
	uint32_t err;

	memset(src, 0x6b, sizeof(src));
	from = running(x, src, 0);
	export_pdh(x, &pdh, chain);
	assert_int_equal(psp_get_ask(x->f.psp, amd, &ask), 0);
	assert_int_equal(psp_get_ark(x->f.psp, amd + ask, &ark), 0);

	/* Query: session_len 0, the whole struct written back. */
	assert_int_equal(kx_op_err(x, from, KVM_SEV_SEND_START, &ss, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	assert_int_equal(ss.session_len, SEV_SESSION_LEN);
	ss.session_uaddr = (uintptr_t)session;
	assert_int_equal(kx_op(x, from, KVM_SEV_SEND_START, &ss), -EINVAL);
	ss.pdh_cert_uaddr = (uintptr_t)&pdh;
	ss.pdh_cert_len = SEV_CERT_LEN;
	ss.session_len = SEV_FW_BLOB_MAX_SIZE + 1;
	assert_int_equal(kx_op(x, from, KVM_SEV_SEND_START, &ss), -EINVAL);
	ss.session_len = SEV_SESSION_LEN;
	/* The AMD chain is mandatory for KVM even without POLICY.SEV. */
	ss.plat_certs_uaddr = (uintptr_t)chain;
	ss.plat_certs_len = SEV_CHAIN_LEN;
	assert_int_equal(kx_op(x, from, KVM_SEV_SEND_START, &ss), -EINVAL);
	ss.amd_certs_uaddr = (uintptr_t)amd;
	ss.amd_certs_len = (uint32_t)(ask + ark);
	assert_int_equal(kx_op(x, from, KVM_SEV_SEND_START, &ss), 0);
	assert_int_equal(ss.policy, 0);

	/* SEND_UPDATE_DATA: query when either length is 0. */
	assert_int_equal(kx_op_err(x, from, KVM_SEV_SEND_UPDATE_DATA, &su,
				   &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	assert_int_equal(su.hdr_len, SEV_PACKET_HDR_LEN);
	su.trans_len = sizeof(trans);
	assert_int_equal(kx_op(x, from, KVM_SEV_SEND_UPDATE_DATA, &su),
			 -EINVAL);
	su.hdr_uaddr = (uintptr_t)hdr;
	su.trans_uaddr = (uintptr_t)trans;
	su.guest_uaddr = (uintptr_t)src + 16;
	su.guest_len = 4096;
	assert_int_equal(kx_op(x, from, KVM_SEV_SEND_UPDATE_DATA, &su),
			 -EINVAL); /* crosses a page */
	su.guest_uaddr = (uintptr_t)src;
	assert_int_equal(kx_op(x, from, KVM_SEV_SEND_UPDATE_DATA, &su), 0);

	/* RECEIVE_START: every blob is required. */
	to = kx_sev_vm(x, false);
	assert_int_equal(kx_op(x, to, KVM_SEV_RECEIVE_START, &rs), -EINVAL);
	rs.pdh_uaddr = (uintptr_t)&pdh;
	rs.pdh_len = SEV_CERT_LEN;
	rs.session_uaddr = (uintptr_t)session;
	rs.session_len = SEV_SESSION_LEN;
	rs.policy = SEV_POLICY_NODBG; /* not what the sender MACed */
	assert_int_equal(kx_op_err(x, to, KVM_SEV_RECEIVE_START, &rs, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_BAD_MEASUREMENT);
	/* f1815e0aa770: an ACTIVATE failure decommissions the new context
	 * (an SEV-ES VM cannot take a plain-SEV policy). */
	{
		int es = kx_sev_vm(x, true);
		unsigned int before = psp_guest_count(x->f.psp);

		rs.policy = 0;
		assert_int_equal(kx_op_err(x, es, KVM_SEV_RECEIVE_START, &rs,
					   &err), -EIO);
		assert_int_equal(err, SEV_RET_INVALID_ASID);
		assert_int_equal(psp_guest_count(x->f.psp), before);
	}
	rs.policy = 0;
	assert_int_equal(kx_op(x, to, KVM_SEV_RECEIVE_START, &rs), 0);
	/* RECEIVE_START does not record the policy. */
	assert_int_equal(kx_info(x, to).policy, 0);
	assert_int_equal(kx_info(x, to).handle, rs.handle);

	memset(&ru, 0, sizeof(ru));
	assert_int_equal(kx_op(x, to, KVM_SEV_RECEIVE_UPDATE_DATA, &ru),
			 -EINVAL);
	ru.hdr_uaddr = (uintptr_t)hdr;
	ru.hdr_len = SEV_PACKET_HDR_LEN;
	ru.trans_uaddr = (uintptr_t)trans;
	ru.trans_len = sizeof(trans);
	ru.guest_uaddr = (uintptr_t)dst;
	ru.guest_len = 4096;
	/* 50c038018d6b: the destination is pinned for writing. */
	{
		uint8_t *ro = mmap(NULL, 4096, PROT_READ,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		ru.guest_uaddr = (uintptr_t)ro;
		assert_int_equal(kx_op(x, to, KVM_SEV_RECEIVE_UPDATE_DATA,
				       &ru), -ENOMEM);
		munmap(ro, 4096);
		ru.guest_uaddr = (uintptr_t)dst;
	}
	assert_int_equal(kx_op(x, to, KVM_SEV_RECEIVE_UPDATE_DATA, &ru), 0);
	assert_int_equal(kx_op(x, from, KVM_SEV_SEND_FINISH, NULL), 0);
	assert_int_equal(kx_op(x, to, KVM_SEV_RECEIVE_FINISH, NULL), 0);
	{
		struct kvm_sev_dbg d = { (uintptr_t)dst, (uintptr_t)back, 64 };

		assert_int_equal(kx_op(x, to, KVM_SEV_DBG_DECRYPT, &d), 0);
		assert_memory_equal(back, src, 64);
	}
	/* SEND_CANCEL needs SUPDATE. */
	assert_int_equal(kx_op_err(x, from, KVM_SEV_SEND_CANCEL, NULL, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_INVALID_GUEST_STATE);
}

static int rm_entry(const char *p, const struct stat *s, int f,
		    struct FTW *w)
{
	return remove(p);
}

/* §1.5 step 10: a failed platform INIT leaves the ASID in reclaim. */
static void test_init_fails_after_asid(void **state)
{
	struct kx *x = *state;
	struct sev_issue_cmd in = { SEV_FACTORY_RESET, 0, 0 };
	uint32_t err;
	int fd;

	/* Erase NV (platform left UNINIT), then take the state directory
	 * away so that INIT cannot store a new identity. */
	assert_int_equal(ccp_ioctl(x->ccp, true, SEV_ISSUE_CMD, (uintptr_t)&in,
				   &user_mem), 0);
	nftw(x->f.dir, rm_entry, 4, FTW_DEPTH | FTW_PHYS);
	fd = kx_vm(x, KVM_X86_DEFAULT_VM);
	assert_int_equal(kx_op_err(x, fd, KVM_SEV_INIT, NULL, &err), -EIO);
	assert_int_equal(err, SEV_RET_HWSEV_RET_PLATFORM);
	assert_false(kx_info(x, fd).active);
	assert_true(kvm_asid_reclaim(x->host, 100));
	assert_int_equal(kvm_misc_cg_current(kvm_misc_cg_root(x->host),
					     KVM_MISC_SEV), 0);
	mkdir(x->f.dir, 0700);
}

/* Q1 with no SEV capacity: an SEV-ES MOVE across groups is EINVAL. */
static void test_move_es_zero_sev_capacity(void **state)
{
	struct psp_config pc;
	struct kvm_misc_cg *a, *b;
	struct kx *x;
	int src, dst;

	psp_config_default(&pc);
	pc.max_asid = 99;
	pc.min_sev_asid = 100;
	x = kx_new_psp(&pc, NULL);
	assert_int_equal(kvm_misc_cg_create(x->host, NULL, &a), 0);
	assert_int_equal(kvm_misc_cg_create(x->host, NULL, &b), 0);
	x->c.cg = a;
	src = kx_sev_vm(x, true);
	x->c.cg = b;
	dst = kx_vm(x, KVM_X86_DEFAULT_VM);
	assert_int_equal(kx_move(x, dst, src), -EINVAL);
	assert_true(kx_info(x, src).active);
	/* Within one group nothing is charged and the move works. */
	x->c.cg = a;
	assert_int_equal(kx_move(x, dst, src), 0);
	kx_free(x);
}

struct race {
	struct kx *x;
	int fd;
	uint8_t *mem;
	atomic_int stop;
};

static void *registrar(void *arg)
{
	struct race *r = arg;
	struct kvm_enc_region reg = { (uintptr_t)r->mem, 4 * 4096 };
	int i;

	for (i = 0; i < 2000; i++)
		kvm_vm_reg_region(kx_get(r->x, r->fd), &r->x->c,
				  (uintptr_t)&reg);
	atomic_store(&r->stop, 1);
	return NULL;
}

/* v6.8 UAF shape: REG racing UNREG of the same range. */
static void test_reg_unreg_race(void **state)
{
	struct kx *x = *state;
	static uint8_t mem[4 * 4096] __attribute__((aligned(4096)));
	struct race r = { x, kx_sev_vm(x, false), mem, 0 };
	struct kvm_enc_region reg = { (uintptr_t)mem, 4 * 4096 };
	pthread_t t;
	int n = 0;

	pthread_create(&t, NULL, registrar, &r);
	while (!atomic_load(&r.stop))
		n += !kvm_vm_unreg_region(kx_get(x, r.fd), &x->c,
					  (uintptr_t)&reg);
	pthread_join(t, NULL);
	while (!kvm_vm_unreg_region(kx_get(x, r.fd), &x->c, (uintptr_t)&reg))
		n++;
	assert_int_equal(n, 2000);
	assert_int_equal(kx_info(x, r.fd).pages_locked, 0);
	assert_int_equal(kx_info(x, r.fd).nr_regions, 0);
}

struct cpair {
	struct kx *x;
	int dst, src, ret;
	pthread_barrier_t *bar;
};

static void *copier(void *arg)
{
	struct cpair *p = arg;

	pthread_barrier_wait(p->bar);
	p->ret = kx_copy(p->x, p->dst, p->src);
	return NULL;
}

/* bf42b02b19e2: COPY(A<-B) and COPY(B<-A) together: never both. */
static void test_concurrent_cross_copies(void **state)
{
	struct kx *x = *state;
	pthread_barrier_t bar;
	int round, both = 0;

	pthread_barrier_init(&bar, NULL, 2);
	for (round = 0; round < 50; round++) {
		int a = kx_sev_vm(x, false), b = kx_vm(x, KVM_X86_DEFAULT_VM);
		struct cpair p1 = { x, b, a, 0, &bar }, p2 = { x, a, b, 0, &bar };
		pthread_t t1, t2;

		pthread_create(&t1, NULL, copier, &p1);
		pthread_create(&t2, NULL, copier, &p2);
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
		/* p2 copies into an SEV VM: EINVAL, or EBUSY if racing. */
		assert_true(p2.ret == -EINVAL || p2.ret == -EBUSY);
		assert_true(p1.ret == 0 || p1.ret == -EBUSY);
		both += p1.ret == 0;
		kx_close(x, b);
		kx_close(x, a);
	}
	assert_true(both > 0);
	pthread_barrier_destroy(&bar);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_send_receive_within_host),
		T(test_init_fails_after_asid),
		cmocka_unit_test(test_move_es_zero_sev_capacity),
		T(test_reg_unreg_race),
		T(test_concurrent_cross_copies),
	};

	return cmocka_run_group_tests_name("kvm_migrate", tests,
					   fx_group_setup, fx_group_teardown);
}
