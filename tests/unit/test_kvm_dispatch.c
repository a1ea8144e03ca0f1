// SPDX-License-Identifier: MIT
/*
 * kvm/: the KVM_MEMORY_ENCRYPT_OP dispatcher (spec §1.2), INIT / ES_INIT /
 * INIT2 (§1.5), and the launch-side wrappers (§4.1–§4.8, §4.10).
 */
#include "kvm_fixture.h"

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

static void assert_not_sev(struct kx *x, int fd)
{
	struct kvm_vm_info i = kx_info(x, fd);
	struct kvm_asid_info a;

	assert_false(i.active);
	assert_false(i.es_active);
	assert_int_equal(i.asid, 0);
	assert_int_equal(i.vmsa_features, 0);
	kvm_asid_info(x->host, &a);
	assert_int_equal(a.in_use_sev + a.in_use_es, 0);
}

static void test_probe_and_entry(void **state)
{
	struct kx *x = *state;
	int fd = kx_vm(x, KVM_X86_DEFAULT_VM);
	struct kvm_sev_cmd cmd = { .id = 23, .error = 0x77 };
	uint32_t err;

	/* §1.2 step 2: a NULL argument is the "is SEV usable" probe. */
	assert_int_equal(kvm_vm_mem_enc_op(kx_get(x, fd), &x->c, 0), 0);
	assert_int_equal(kvm_vm_mem_enc_op(kx_get(x, fd), &x->c,
					   um_bad_address()), -EFAULT);
	/* Unknown and unimplemented ids: EINVAL, nothing written back. */
	assert_int_equal(kvm_vm_mem_enc_op(kx_get(x, fd), &x->c,
					   (uintptr_t)&cmd), -EINVAL);
	assert_int_equal(cmd.error, 0x77);
	assert_int_equal(kx_op_err(x, fd, KVM_SEV_SEND_UPDATE_VMSA, NULL, &err),
			 -EINVAL);
	assert_int_equal(err, 0xdead);
	assert_int_equal(kx_op(x, fd, KVM_SEV_RECEIVE_UPDATE_VMSA, NULL),
			 -EINVAL);
	assert_int_equal(kx_op(x, fd, KVM_SEV_CERT_EXPORT, NULL), -EINVAL);
	/* A caller in another address space: EIO before anything else. */
	x->c.mm = 2;
	assert_int_equal(kvm_vm_mem_enc_op(kx_get(x, fd), &x->c, 0), -EIO);
	x->c.mm = 1;
}

static void test_sev_disabled_host(void **state)
{
	struct kvm_host_config hc;
	struct kx *x;
	int fd;

	kvm_host_config_default(&hc);
	hc.sev = false;
	x = kx_new_psp(NULL, &hc);
	fd = kx_vm(x, KVM_X86_DEFAULT_VM);
	assert_int_equal(kvm_vm_mem_enc_op(kx_get(x, fd), &x->c, 0), -ENOTTY);
	assert_int_equal(kx_op(x, fd, KVM_SEV_INIT, NULL), -ENOTTY);
	/* Typed VMs do not exist without SEV. */
	{
		struct kvm_vm *vm;

		assert_int_equal(kvm_vm_create(x->host, KVM_X86_SEV_VM, 1, &vm),
				 -EINVAL);
	}
	assert_int_equal(kvm_check_extension(x->host, KVM_CAP_VM_TYPES), 1);
	/* COPY and MOVE have their handlers: the fd is looked up first. */
	{
		int other = kx_vm(x, KVM_X86_DEFAULT_VM);

		assert_int_equal(kx_copy(x, fd, NFDS - 1), -EBADF);
		assert_int_equal(kx_move(x, fd, NFDS - 1), -EBADF);
		assert_int_equal(kx_copy(x, fd, fd), -EINVAL);
		assert_int_equal(kx_move(x, fd, fd), -EINVAL);
		assert_int_equal(kx_copy(x, fd, other), -EINVAL);
		assert_int_equal(kx_move(x, fd, other), -EINVAL);
	}
	kx_free(x);
}

/* Handlers on a VM that never ran INIT: ENOTTY, except one. */
static void test_not_sev_errnos(void **state)
{
	static const uint32_t ids[] = {
		KVM_SEV_LAUNCH_START, KVM_SEV_LAUNCH_UPDATE_DATA,
		KVM_SEV_LAUNCH_UPDATE_VMSA, KVM_SEV_LAUNCH_SECRET,
		KVM_SEV_LAUNCH_MEASURE, KVM_SEV_LAUNCH_FINISH,
		KVM_SEV_SEND_START, KVM_SEV_SEND_UPDATE_DATA,
		KVM_SEV_SEND_FINISH, KVM_SEV_RECEIVE_START,
		KVM_SEV_RECEIVE_FINISH, KVM_SEV_GUEST_STATUS,
		KVM_SEV_DBG_DECRYPT, KVM_SEV_DBG_ENCRYPT,
		KVM_SEV_GET_ATTESTATION_REPORT, KVM_SEV_SEND_CANCEL,
	};
	struct kx *x = *state;
	int fd = kx_vm(x, KVM_X86_DEFAULT_VM);
	uint8_t data[128] = { 0 };
	uint32_t err;
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		assert_int_equal(kx_op_err(x, fd, ids[i], data, &err), -ENOTTY);
		/* The struct is copied back; no firmware call, error kept. */
		assert_int_equal(err, 0xdead);
	}
	assert_int_equal(kx_op(x, fd, KVM_SEV_RECEIVE_UPDATE_DATA, data),
			 -EINVAL);
}

static void test_init_variants(void **state)
{
	struct kx *x = *state;
	int def = kx_vm(x, KVM_X86_DEFAULT_VM);
	int sev = kx_vm(x, KVM_X86_SEV_VM);
	int es = kx_vm(x, KVM_X86_SEV_ES_VM);
	struct kvm_sev_init init = { 0 };
	struct kvm_vm_info i;

	/* INIT on a typed VM, INIT2 on a DEFAULT VM (6.10+). */
	assert_int_equal(kx_op(x, sev, KVM_SEV_INIT, NULL), -EINVAL);
	assert_int_equal(kx_op(x, def, SOFTSEV_KVM_SEV_INIT2, &init), -EINVAL);
	/* INIT2 argument checks, state unchanged after each. */
	assert_int_equal(kx_op(x, sev, SOFTSEV_KVM_SEV_INIT2,
			       (void *)(uintptr_t)um_bad_address()),
			 -EFAULT);
	init.flags = 1;
	assert_int_equal(kx_op(x, sev, SOFTSEV_KVM_SEV_INIT2, &init), -EINVAL);
	init.flags = 0;
	init.vmsa_features = 1ull << 5; /* no VMSA features for plain SEV */
	assert_int_equal(kx_op(x, sev, SOFTSEV_KVM_SEV_INIT2, &init), -EINVAL);
	init.vmsa_features = 0;
	init.ghcb_version = 1; /* GHCB is SEV-ES only */
	assert_int_equal(kx_op(x, sev, SOFTSEV_KVM_SEV_INIT2, &init), -EINVAL);
	init.ghcb_version = 3;
	assert_int_equal(kx_op(x, es, SOFTSEV_KVM_SEV_INIT2, &init), -EINVAL);
	init.ghcb_version = 0;
	init.vmsa_features = 1ull << 3; /* unsupported feature */
	assert_int_equal(kx_op(x, es, SOFTSEV_KVM_SEV_INIT2, &init), -EINVAL);
	assert_not_sev(x, sev);
	assert_not_sev(x, es);
	/* Success, then double INIT: EINVAL (6.9+). */
	init.vmsa_features = 1ull << 5;
	assert_int_equal(kx_op(x, es, SOFTSEV_KVM_SEV_INIT2, &init), 0);
	i = kx_info(x, es);
	assert_true(i.active && i.es_active && !i.need_init);
	assert_int_equal(i.ghcb_version, 2); /* 0 means the default, 2 */
	assert_int_equal(i.vmsa_features, 1ull << 5);
	assert_true(i.asid >= 1 && i.asid < 100);
	assert_int_equal(kx_op(x, es, SOFTSEV_KVM_SEV_INIT2, &init), -EINVAL);
	init.vmsa_features = 0;
	assert_int_equal(kx_op(x, sev, SOFTSEV_KVM_SEV_INIT2, &init), 0);
	assert_int_equal(kx_info(x, sev).asid, 100);
	assert_int_equal(kx_op(x, def, KVM_SEV_ES_INIT, NULL), 0);
	i = kx_info(x, def);
	assert_int_equal(i.ghcb_version, 1);
	assert_int_equal(i.vmsa_features, 0);
	assert_int_equal(kx_op(x, def, KVM_SEV_INIT, NULL), -EINVAL);
}

static void test_init_with_vcpus(void **state)
{
	struct kx *x = *state;
	int def = kx_vm(x, KVM_X86_DEFAULT_VM);
	int sev = kx_vm(x, KVM_X86_SEV_VM);
	struct kvm_sev_init init = { 0 };
	struct kvm_vcpu *v = kx_vcpu(x, sev);

	kx_vcpu(x, def);
	assert_int_equal(kx_op(x, def, KVM_SEV_INIT, NULL), -EINVAL);
	/* KVM_RUN before INIT2 on a typed VM; INIT2 is now impossible. */
	assert_int_equal(kvm_vcpu_run_check(v, &x->c), -EINVAL);
	assert_int_equal(kx_op(x, sev, SOFTSEV_KVM_SEV_INIT2, &init), -EINVAL);
	assert_not_sev(x, sev);
}

static void test_run_after_init2(void **state)
{
	struct kx *x = *state;
	int sev = kx_vm(x, KVM_X86_SEV_VM);
	struct kvm_sev_init init = { 0 };
	struct kvm_vcpu *v;

	assert_int_equal(kx_op(x, sev, SOFTSEV_KVM_SEV_INIT2, &init), 0);
	v = kx_vcpu(x, sev);
	assert_int_equal(kvm_vcpu_run_check(v, &x->c), 0);
	assert_int_equal(kvm_vcpu_regs_check(v, &x->c), 0);
}

static void test_es_init_without_es(void **state)
{
	struct psp_config pc;
	struct kx *x;
	int fd;

	/* min_sev_asid == 1 leaves no SEV-ES ASIDs: ES is disabled. */
	psp_config_default(&pc);
	pc.min_sev_asid = 1;
	x = kx_new_psp(&pc, NULL);
	fd = kx_vm(x, KVM_X86_DEFAULT_VM);
	assert_int_equal(kx_op(x, fd, KVM_SEV_ES_INIT, NULL), -ENOTTY);
	assert_int_equal(kvm_check_extension(x->host, KVM_CAP_VM_TYPES),
			 1 << 0 | 1 << 2);
	{
		uint64_t v = 99;

		assert_int_equal(kvm_get_device_attr(x->host, KVM_X86_GRP_SEV,
						     KVM_X86_SEV_VMSA_FEATURES,
						     &v), 0);
		assert_int_equal(v, 0);
	}
	assert_int_equal(kx_op(x, fd, KVM_SEV_INIT, NULL), 0);
	kx_free(x);
}

static void test_caps_and_attrs(void **state)
{
	struct kx *x = *state;
	uint64_t v;

	assert_int_equal(kvm_check_extension(x->host,
					     KVM_CAP_VM_COPY_ENC_CONTEXT_FROM),
			 1);
	assert_int_equal(kvm_check_extension(x->host,
					     KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM),
			 1);
	assert_int_equal(kvm_check_extension(x->host, KVM_CAP_VM_TYPES),
			 1 << 0 | 1 << 2 | 1 << 3);
	assert_int_equal(kvm_get_device_attr(x->host, KVM_X86_GRP_SEV,
					     KVM_X86_SEV_VMSA_FEATURES, &v), 0);
	assert_int_equal(v, 1ull << 5);
	assert_int_equal(kvm_get_device_attr(x->host, 2, 0, &v), -ENXIO);
	assert_int_equal(kvm_get_device_attr(x->host, KVM_X86_GRP_SEV, 7, &v),
			 -ENXIO);
	{
		struct kvm_vm *vm;

		assert_int_equal(kvm_vm_create(x->host, KVM_X86_SNP_VM, 1, &vm),
				 -EINVAL);
		assert_int_equal(kvm_vm_create(x->host, 40, 1, &vm), -EINVAL);
	}
}

/*
 * SNP launch ids on a VM that is not SNP (issue 13.6): the handlers'
 * first checks, then the struct is copied back, so a read-only argument
 * turns them into EFAULT; an unknown id exits before the copy-back.
 */
static void test_snp_ids(void **state)
{
	static const struct {
		uint32_t id;
		int ret;
	} rows[] = { { 100, -ENOTTY }, { 101, -EINVAL }, { 102, -ENOTTY },
		     { 103, -EINVAL }, { 99, -EINVAL } };
	struct kx *x = *state;
	int vms[2] = { kx_vm(x, KVM_X86_DEFAULT_VM), kx_sev_vm(x, false) };
	struct kvm_sev_cmd *ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i, v;

	for (v = 0; v < 2; v++) {
		for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			uint32_t err;

			assert_int_equal(kx_op_err(x, vms[v], rows[i].id, NULL,
						   &err), rows[i].ret);
			assert_int_equal(err, 0xdead);
			assert_int_equal(mprotect(ro, 4096, PROT_READ | PROT_WRITE),
					 0);
			*ro = (struct kvm_sev_cmd){ .id = rows[i].id };
			assert_int_equal(mprotect(ro, 4096, PROT_READ), 0);
			assert_int_equal(kvm_vm_mem_enc_op(kx_get(x, vms[v]),
							   &x->c,
							   (uintptr_t)ro),
					 rows[i].id >= 100 && rows[i].id <= 102 ?
						 -EFAULT :
						 rows[i].ret);
		}
	}
	munmap(ro, 4096);
}

static void test_launch_start(void **state)
{
	struct kx *x = *state;
	int fd = kx_sev_vm(x, false);
	struct kvm_sev_launch_start ls = { .policy = 0 };
	struct kvm_sev_cmd cmd = { .id = KVM_SEV_LAUNCH_START,
				   .data = (uintptr_t)&ls, .sev_fd = 5 };
	uint8_t dh[16];
	uint32_t err;

	/* The /dev/sev fd must be open in the caller. */
	assert_int_equal(kvm_vm_mem_enc_op(kx_get(x, fd), &x->c,
					   (uintptr_t)&cmd), -EBADF);
	/* Blobs: a zero length with an address is EINVAL. */
	ls.dh_uaddr = (uintptr_t)dh;
	assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_START, &ls), -EINVAL);
	ls.dh_len = SEV_FW_BLOB_MAX_SIZE + 1;
	assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_START, &ls), -EINVAL);
	/* A blob the firmware rejects: EIO with its status. */
	ls.dh_len = sizeof(dh);
	assert_int_equal(kx_op_err(x, fd, KVM_SEV_LAUNCH_START, &ls, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	/*
	 * ACTIVATE fails (an SEV-ES policy cannot use a plain SEV ASID):
	 * KVM decommissions the new context, so none leaks (934002cd660b).
	 */
	memset(&ls, 0, sizeof(ls));
	ls.policy = SEV_POLICY_ES;
	assert_int_equal(kx_op_err(x, fd, KVM_SEV_LAUNCH_START, &ls, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_INVALID_ASID);
	assert_int_equal(psp_guest_count(x->f.psp), 0);
	assert_int_equal(kx_info(x, fd).handle, 0);
	/* Success: handle written back, policy and fd recorded. */
	ls.policy = SEV_POLICY_NODBG;
	assert_int_equal(kx_op_err(x, fd, KVM_SEV_LAUNCH_START, &ls, &err), 0);
	assert_int_equal(err, 0);
	assert_int_not_equal(ls.handle, 0);
	assert_int_equal(kx_info(x, fd).handle, ls.handle);
	assert_int_equal(kx_info(x, fd).policy, SEV_POLICY_NODBG);
	assert_int_equal(kx_info(x, fd).fd, SEV_FD);
	{
		struct psp_guest_info gi;

		assert_int_equal(psp_guest_info(x->f.psp, ls.handle, &gi), 0);
		assert_int_equal(gi.asid, kx_info(x, fd).asid);
	}
	/* The handle write-back fault: test_kvm_rows.c (a read-only page). */
}

static void test_launch_flow(void **state)
{
	struct kx *x = *state;
	static uint8_t mem[3 * 4096] __attribute__((aligned(4096)));
	uint8_t measure[64], back[64], ld[32];
	int fd = kx_sev_vm(x, false);
	struct kvm_sev_launch_update_data up;
	struct kvm_sev_launch_measure m = { 0, 0 };
	struct kvm_sev_guest_status gs;
	struct psp_guest_info gi;
	uint32_t err, h = kx_launch(x, fd, 0);
	size_t i;

	for (i = 0; i < sizeof(mem); i++)
		mem[i] = (uint8_t)(i * 3);
	assert_int_equal(crypto_sha256(mem + 16, 2 * 4096, ld), 0);
	/* 8 KiB starting mid-page: three firmware calls, one digest. */
	up.uaddr = (uintptr_t)mem + 16;
	up.len = 2 * 4096;
	assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_UPDATE_DATA, &up), 0);
	assert_int_equal(psp_guest_info(x->f.psp, h, &gi), 0);
	assert_memory_equal(gi.digest, ld, 32);
	assert_int_equal(kx_info(x, fd).pages_locked, 0);
	/* Pinning errors. */
	up.len = 0;
	assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_UPDATE_DATA, &up),
			 -EINVAL);
	up.uaddr = UINT64_MAX - 10;
	up.len = 100;
	assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_UPDATE_DATA, &up),
			 -EINVAL);
	up.uaddr = um_bad_address();
	up.len = 4096;
	assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_UPDATE_DATA, &up),
			 -ENOMEM);
	x->c.rlimit_memlock = 4096;
	up.uaddr = (uintptr_t)mem;
	up.len = 8192;
	assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_UPDATE_DATA, &up),
			 -ENOMEM);
	x->c.cap_ipc_lock = true;
	up.len = 16;
	assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_UPDATE_DATA, &up), 0);
	x->c.cap_ipc_lock = false;
	x->c.rlimit_memlock = UINT64_MAX;
	/* The firmware's alignment rule comes back as EIO. */
	up.uaddr = (uintptr_t)mem + 3;
	assert_int_equal(kx_op_err(x, fd, KVM_SEV_LAUNCH_UPDATE_DATA, &up,
				   &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_ADDRESS);

	/* LAUNCH_MEASURE: the query writes the length back. */
	assert_int_equal(kx_op_err(x, fd, KVM_SEV_LAUNCH_MEASURE, &m, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	assert_int_equal(m.len, SEV_MEASURE_LEN);
	/* len set but no address: the struct is not written back. */
	m.len = 64;
	assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_MEASURE, &m), -EIO);
	assert_int_equal(m.len, 64);
	m.uaddr = (uintptr_t)measure;
	m.len = SEV_FW_BLOB_MAX_SIZE + 1;
	assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_MEASURE, &m), -EINVAL);
	m.len = 16;
	assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_MEASURE, &m), -EIO);
	assert_int_equal(m.len, 16);
	m.len = 64;
	memset(measure, 0xee, sizeof(measure));
	assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_MEASURE, &m), 0);
	assert_int_equal(m.len, SEV_MEASURE_LEN);
	/* The whole user length is copied: zeros past the 48 bytes. */
	assert_int_equal(measure[50], 0);

	/* GUEST_STATUS. */
	memset(&gs, 0xff, sizeof(gs));
	assert_int_equal(kx_op(x, fd, KVM_SEV_GUEST_STATUS, &gs), 0);
	assert_int_equal(gs.handle, h);
	assert_int_equal(gs.policy, 0);
	assert_int_equal(gs.state, GSTATE_LSECRET);

	/* LAUNCH_SECRET across two pages is not physically contiguous. */
	{
		struct kvm_sev_launch_secret s = { 0 };
		uint8_t hdr[0x34] = { 0 }, trans[32] = { 0 };

		s.guest_uaddr = (uintptr_t)mem + 4096 - 16;
		s.guest_len = 32;
		s.hdr_uaddr = (uintptr_t)hdr;
		s.hdr_len = sizeof(hdr);
		s.trans_uaddr = (uintptr_t)trans;
		s.trans_len = sizeof(trans);
		assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_SECRET, &s),
				 -EINVAL);
		s.guest_uaddr = (uintptr_t)mem;
		s.trans_len = 0;
		assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_SECRET, &s),
				 -EINVAL);
		s.trans_len = sizeof(trans);
		/* Bad MAC (no session, the firmware's TIK is random). */
		assert_int_equal(kx_op_err(x, fd, KVM_SEV_LAUNCH_SECRET, &s,
					   &err), -EIO);
		assert_int_equal(err, SEV_RET_BAD_MEASUREMENT);
		assert_int_equal(kx_info(x, fd).pages_locked, 0);
	}
	assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_FINISH, NULL), 0);
	assert_int_equal(kx_op(x, fd, KVM_SEV_GUEST_STATUS, &gs), 0);
	assert_int_equal(gs.state, GSTATE_RUNNING);
	/* DBG_DECRYPT of unaligned bytes through the bounce page. */
	{
		struct kvm_sev_dbg d = { (uintptr_t)mem + 5, (uintptr_t)back + 1,
					 40 };

		memset(back, 0, sizeof(back));
		assert_int_equal(kx_op(x, fd, KVM_SEV_DBG_DECRYPT, &d), 0);
		assert_memory_equal(back + 1, mem + 5, 40);
		assert_int_equal(back[0], 0);
		assert_int_equal(back[41], 0);
	}
}

static void test_dbg_rules(void **state)
{
	struct kx *x = *state;
	static uint8_t mem[2 * 4096] __attribute__((aligned(4096)));
	static uint8_t out[2 * 4096] __attribute__((aligned(4096)));
	int fd = kx_sev_vm(x, false), nodbg = kx_sev_vm(x, false);
	struct kvm_sev_dbg d = { (uintptr_t)mem, (uintptr_t)out, 0 };
	uint32_t err;
	size_t i;

	kx_launch(x, fd, 0);
	kx_launch(x, nodbg, SEV_POLICY_NODBG);
	assert_int_equal(kx_op(x, fd, KVM_SEV_DBG_DECRYPT, &d), -EINVAL);
	d.len = 16;
	d.dst_uaddr = 0;
	assert_int_equal(kx_op(x, fd, KVM_SEV_DBG_DECRYPT, &d), -EINVAL);
	d.src_uaddr = UINT64_MAX - 4;
	d.dst_uaddr = (uintptr_t)out;
	assert_int_equal(kx_op(x, fd, KVM_SEV_DBG_DECRYPT, &d), -EINVAL);
	d.src_uaddr = (uintptr_t)mem;
	assert_int_equal(kx_op_err(x, nodbg, KVM_SEV_DBG_DECRYPT, &d, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_POLICY_FAILURE);
	assert_int_equal(kx_op(x, nodbg, KVM_SEV_DBG_ENCRYPT, &d), -EIO);
	/* A destination that cannot be pinned. */
	d.dst_uaddr = um_bad_address();
	assert_int_equal(kx_op(x, fd, KVM_SEV_DBG_DECRYPT, &d), -ENOMEM);
	assert_int_equal(kx_info(x, fd).pages_locked, 0);
	/* Crossing a page, aligned: page by page. */
	for (i = 0; i < sizeof(mem); i++)
		mem[i] = (uint8_t)(i ^ 0x5a);
	d = (struct kvm_sev_dbg){ (uintptr_t)mem + 4000, (uintptr_t)out + 4000,
				  192 };
	assert_int_equal(kx_op(x, fd, KVM_SEV_DBG_DECRYPT, &d), 0);
	assert_memory_equal(out + 4000, mem + 4000, 192);
	/* DBG_ENCRYPT with an unaligned source, aligned destination. */
	{
		uint8_t src[64];

		for (i = 0; i < sizeof(src); i++)
			src[i] = (uint8_t)(0xa0 + i);
		d = (struct kvm_sev_dbg){ (uintptr_t)src + 1,
					  (uintptr_t)mem + 32, 32 };
		assert_int_equal(kx_op(x, fd, KVM_SEV_DBG_ENCRYPT, &d), 0);
		assert_memory_equal(mem + 32, src + 1, 32);
	}
	/*
	 * Read-modify-write with an unaligned destination: the kernel
	 * encrypts round_up(size, 16) bytes from the rounded-down
	 * destination, so bytes past that are not written (faithful quirk).
	 */
	{
		uint8_t src[16], before[48];

		memset(src, 0x11, sizeof(src));
		memcpy(before, mem + 64, sizeof(before));
		d = (struct kvm_sev_dbg){ (uintptr_t)src,
					  (uintptr_t)mem + 64 + 8, 16 };
		assert_int_equal(kx_op(x, fd, KVM_SEV_DBG_ENCRYPT, &d), 0);
		assert_memory_equal(mem + 64, before, 8);
		assert_memory_equal(mem + 72, src, 8);
		assert_memory_equal(mem + 80, before + 16, 32);
	}
}

static void test_attestation(void **state)
{
	struct kx *x = *state;
	int fd = kx_sev_vm(x, false);
	struct kvm_sev_attestation_report r = { 0 };
	uint8_t rep[256];
	uint32_t err;

	kx_launch(x, fd, 0);
	/* LUPDATE is too early; the state check precedes the length (F1). */
	assert_int_equal(kx_op_err(x, fd, KVM_SEV_GET_ATTESTATION_REPORT, &r,
				   &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_GUEST_STATE);
	{
		uint8_t out[SEV_MEASURE_LEN];
		struct kvm_sev_launch_measure m = { (uintptr_t)out,
						    sizeof(out) };

		assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_MEASURE, &m), 0);
	}
	assert_int_equal(kx_op_err(x, fd, KVM_SEV_GET_ATTESTATION_REPORT, &r,
				   &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	assert_int_equal(r.len, SEV_ATTESTATION_LEN);
	r.uaddr = (uintptr_t)rep;
	memset(r.mnonce, 0x42, 16);
	assert_int_equal(kx_op(x, fd, KVM_SEV_GET_ATTESTATION_REPORT, &r), 0);
	assert_memory_equal(rep, r.mnonce, 16);
}

static void test_es_vmsa(void **state)
{
	struct kx *x = *state;
	int fd = kx_vm(x, KVM_X86_SEV_ES_VM);
	struct kvm_sev_init init = { .vmsa_features = 1ull << 5 };
	struct kvm_vcpu *v0, *v1;
	struct psp_guest_info gi;
	uint8_t ld[32], vmsa[2][4096];
	uint32_t h;

	assert_int_equal(kx_op(x, fd, SOFTSEV_KVM_SEV_INIT2, &init), 0);
	v0 = kx_vcpu(x, fd);
	v1 = kx_vcpu(x, fd);
	h = kx_launch(x, fd, SEV_POLICY_ES);
	/* vCPU creation in flight: EBUSY (6.16). */
	assert_int_equal(kvm_vcpu_create_begin(kx_get(x, fd), &x->c), 0);
	assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL),
			 -EBUSY);
	assert_int_equal(kvm_vcpu_create_end(kx_get(x, fd), false, NULL), 0);
	/* guest_debug and a bad DR7 refuse the sync, nothing protected. */
	kvm_vcpu_set_guest_debug(v0, true);
	assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL),
			 -EINVAL);
	kvm_vcpu_set_guest_debug(v0, false);
	x->bad_dr7 = true;
	assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL),
			 -EINVAL);
	x->bad_dr7 = false;
	assert_false(kvm_vcpu_protected(v0));
	assert_int_equal(kvm_vcpu_regs_check(v0, &x->c), 0);
	assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL), 0);
	assert_true(kvm_vcpu_protected(v0) && kvm_vcpu_protected(v1));
	/* The digest covers both VMSAs, in vCPU order, with sev_features. */
	memset(vmsa, 0, sizeof(vmsa));
	vmsa[1][0] = 1;
	vmsa[0][0x3B0] = vmsa[1][0x3B0] = 1 << 5;
	assert_int_equal(crypto_sha256(vmsa, sizeof(vmsa), ld), 0);
	assert_int_equal(psp_guest_info(x->f.psp, h, &gi), 0);
	assert_memory_equal(gi.digest, ld, 32);
	/* Register access on a protected SEV-ES-type vCPU. */
	assert_int_equal(kvm_vcpu_regs_check(v0, &x->c), -EINVAL);
	assert_int_equal(kvm_vcpu_run_check(v0, &x->c), 0);
	/* A second sync: EINVAL (7.0-era fix). */
	assert_int_equal(kx_op(x, fd, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL),
			 -EINVAL);
	/* Not on plain SEV. */
	{
		int sev = kx_sev_vm(x, false);

		kx_launch(x, sev, 0);
		assert_int_equal(kx_op(x, sev, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL),
				 -ENOTTY);
	}
}

static void test_regions(void **state)
{
	struct kx *x = *state;
	static uint8_t mem[4 * 4096] __attribute__((aligned(4096)));
	int fd = kx_vm(x, KVM_X86_DEFAULT_VM);
	struct kvm_enc_region r = { (uintptr_t)mem, 2 * 4096 };
	struct kvm_vm *vm = kx_get(x, fd);

	assert_int_equal(kvm_vm_reg_region(vm, &x->c, (uintptr_t)&r), -ENOTTY);
	assert_int_equal(kvm_vm_unreg_region(vm, &x->c, (uintptr_t)&r),
			 -ENOTTY);
	assert_int_equal(kvm_vm_reg_region(vm, &x->c, um_bad_address()),
			 -EFAULT);
	assert_int_equal(kx_op(x, fd, KVM_SEV_INIT, NULL), 0);
	r.size = 0;
	assert_int_equal(kvm_vm_reg_region(vm, &x->c, (uintptr_t)&r), -EINVAL);
	r.size = 2 * 4096;
	x->c.rlimit_memlock = 4096;
	assert_int_equal(kvm_vm_reg_region(vm, &x->c, (uintptr_t)&r), -ENOMEM);
	x->c.rlimit_memlock = UINT64_MAX;
	/* The same range twice is pinned twice. */
	assert_int_equal(kvm_vm_reg_region(vm, &x->c, (uintptr_t)&r), 0);
	assert_int_equal(kvm_vm_reg_region(vm, &x->c, (uintptr_t)&r), 0);
	assert_int_equal(kx_info(x, fd).pages_locked, 4);
	assert_int_equal(kx_info(x, fd).nr_regions, 2);
	/* Unregister needs an exact match. */
	r.size = 4096;
	assert_int_equal(kvm_vm_unreg_region(vm, &x->c, (uintptr_t)&r),
			 -EINVAL);
	r.size = 2 * 4096;
	assert_int_equal(kvm_vm_unreg_region(vm, &x->c, (uintptr_t)&r), 0);
	assert_int_equal(kx_info(x, fd).pages_locked, 2);
	/*
	 * 6.12 has no total-RAM check: a range larger than RAM fails only
	 * because it cannot be pinned (ENOMEM), as any unmapped page does.
	 */
	r.size = ((uint64_t)sysconf(_SC_PHYS_PAGES) + 1) * 4096;
	assert_int_equal(kvm_vm_reg_region(vm, &x->c, (uintptr_t)&r), -ENOMEM);
	/* more than INT_MAX pages, or a wrapping range: EINVAL */
	r.size = (INT32_MAX + 1ull) * 4096;
	assert_int_equal(kvm_vm_reg_region(vm, &x->c, (uintptr_t)&r), -EINVAL);
	r.size = UINT64_MAX - r.addr + 2;
	assert_int_equal(kvm_vm_reg_region(vm, &x->c, (uintptr_t)&r), -EINVAL);
	/* No FOLL_WRITE: a read-only mapping registers. */
	{
		uint8_t *ro = mmap(NULL, 4096, PROT_READ,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct kvm_enc_region rr = { (uintptr_t)ro, 4096 };

		assert_int_equal(kvm_vm_reg_region(vm, &x->c, (uintptr_t)&rr),
				 0);
		assert_int_equal(kvm_vm_unreg_region(vm, &x->c,
						     (uintptr_t)&rr), 0);
		munmap(ro, 4096);
	}
	r.addr = um_bad_address();
	r.size = 4096;
	assert_int_equal(kvm_vm_reg_region(vm, &x->c, (uintptr_t)&r), -ENOMEM);
	assert_int_equal(kx_info(x, fd).pages_locked, 2);
	/* Destroy unpins what is left (no leak under ASan either). */
}

static void test_sev_fd_number_quirk(void **state)
{
	struct kx *x = *state;
	int fd = kx_sev_vm(x, false);
	struct kvm_sev_guest_status gs;

	kx_launch(x, fd, 0);
	/* Q4: /dev/sev closed after LAUNCH_START: EBADF from then on. */
	x->sev_fds[SEV_FD] = false;
	assert_int_equal(kx_op(x, fd, KVM_SEV_GUEST_STATUS, &gs), -EBADF);
	x->sev_fds[SEV_FD] = true;
	assert_int_equal(kx_op(x, fd, KVM_SEV_GUEST_STATUS, &gs), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_probe_and_entry),
		cmocka_unit_test(test_sev_disabled_host),
		T(test_not_sev_errnos),
		T(test_init_variants),
		T(test_init_with_vcpus),
		T(test_run_after_init2),
		cmocka_unit_test(test_es_init_without_es),
		T(test_caps_and_attrs),
		T(test_launch_start),
		T(test_launch_flow),
		T(test_dbg_rules),
		T(test_attestation),
		T(test_es_vmsa),
		T(test_regions),
		T(test_snp_ids),
		T(test_sev_fd_number_quirk),
	};

	return cmocka_run_group_tests_name("kvm_dispatch", tests,
					   fx_group_setup, fx_group_teardown);
}
