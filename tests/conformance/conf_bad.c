// SPDX-License-Identifier: MIT
/*
 * Bad input from a client: bad pointers, absurd lengths, fds of the wrong
 * kind, and garbage on the server's socket.  Each gets the kernel's errno
 * and disturbs nobody else.
 */
#include "conf.h"

#include <sys/socket.h>
#include <sys/un.h>

static int kvm, sev;

static int setup(void **state)
{
	kvm = kvm_open();
	sev = sev_open();
	return 0;
}

static int teardown(void **state)
{
	close(sev);
	close(kvm);
	return 0;
}

static void test_bad_pointers(void **state)
{
	uint32_t h;
	int vm = sev_vm(kvm, sev, false, &h);
	struct sev_issue_cmd c = { SEV_PLATFORM_STATUS, 0, 0 };
	struct kvm_sev_launch_update_data up = { (uintptr_t)bad_ptr(), 4096 };
	struct kvm_sev_dbg d = { (uintptr_t)bad_ptr(), (uintptr_t)bad_ptr(),
				 16 };

	assert_errno(ioctl(sev, SEV_ISSUE_CMD, bad_ptr()), EFAULT);
	c.data = (uintptr_t)bad_ptr();
	assert_errno(ioctl(sev, SEV_ISSUE_CMD, &c), EFAULT);
	assert_errno(ioctl(vm, KVM_MEMORY_ENCRYPT_REG_REGION, bad_ptr()),
		     EFAULT);
	assert_errno(sev_op(vm, KVM_SEV_LAUNCH_START, bad_ptr(), sev, NULL),
		     EFAULT);
	/* Unpinnable guest memory is ENOMEM, as pin_user_pages fails. */
	assert_errno(sev_op(vm, KVM_SEV_LAUNCH_UPDATE_DATA, &up, sev, NULL),
		     ENOMEM);
	assert_errno(sev_op(vm, KVM_SEV_DBG_DECRYPT, &d, sev, NULL), ENOMEM);
	close(vm);
}

static void test_absurd_lengths(void **state)
{
	uint32_t h, err;
	int vm = sev_vm(kvm, sev, false, &h);
	static uint8_t buf[4096];
	struct sev_user_data_pek_csr csr = { (uintptr_t)buf, 1u << 30 };
	struct sev_issue_cmd c = { SEV_PEK_CSR, (uintptr_t)&csr, 0 };
	struct kvm_sev_launch_update_data up = { (uintptr_t)buf, 0 };
	struct kvm_sev_launch_measure m = { (uintptr_t)buf, 1u << 30 };
	struct kvm_sev_dbg d = { UINT64_MAX - 8, (uintptr_t)buf, 64 };
	struct kvm_enc_region r = { (uintptr_t)buf, 1ull << 60 };

	assert_errno(ioctl(sev, SEV_ISSUE_CMD, &c), EFAULT);
	assert_errno(sev_op(vm, KVM_SEV_LAUNCH_UPDATE_DATA, &up, sev, NULL),
		     EINVAL);
	up.len = 0xffffffffu;
	assert_errno(sev_op(vm, KVM_SEV_LAUNCH_UPDATE_DATA, &up, sev, NULL),
		     ENOMEM);
	assert_errno(sev_op(vm, KVM_SEV_LAUNCH_MEASURE, &m, sev, &err),
		     EINVAL);
	assert_errno(sev_op(vm, KVM_SEV_DBG_DECRYPT, &d, sev, NULL), EINVAL);
	assert_errno(ioctl(vm, KVM_MEMORY_ENCRYPT_REG_REGION, &r), EINVAL);
	close(vm);
}

static void test_wrong_fd_kinds(void **state)
{
	int vm = vm_new(kvm, 0), v = ioctl(vm, KVM_CREATE_VCPU, 0);
	int pipefd[2];

	assert_ok(pipe(pipefd));
	assert_errno(enc_ctx(vm, 206, (uint64_t)v), EBADF);
	assert_errno(enc_ctx(vm, 206, (uint64_t)pipefd[1]), EBADF);
	assert_errno(enc_ctx(vm, 206, (uint64_t)sev), EBADF);
	/* A KVM ioctl on /dev/sev, an SEV ioctl on a pipe. */
	assert_errno(ioctl(sev, KVM_CREATE_VM, 0ul), EINVAL);
	assert_errno(ioctl(pipefd[0], SEV_ISSUE_CMD, NULL), ENOTTY);
	/* LAUNCH_START naming something that is not /dev/sev. */
	{
		struct kvm_sev_launch_start ls = { 0 };
		int s = vm_new(kvm, 0);

		assert_ok(sev_op(s, KVM_SEV_INIT, NULL, sev, NULL));
		assert_errno(sev_op(s, KVM_SEV_LAUNCH_START, &ls, pipefd[0],
				    NULL),
			     EBADF);
		assert_errno(sev_op(s, KVM_SEV_LAUNCH_START, &ls, 999, NULL),
			     EBADF);
		close(s);
	}
	close(pipefd[0]);
	close(pipefd[1]);
	close(v);
	close(vm);
}

/* Garbage on softsevd's socket drops that connection, nothing else. */
static void test_garbage_on_socket(void **state)
{
	const char *path = getenv("SOFTSEV_SOCKET");
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	static const size_t sizes[] = { 1, 7, 33, 4000 };
	char junk[4000];
	size_t i;

	assert_non_null(path);
	memset(junk, 0xa5, sizeof(junk));
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		char reply[64];

		assert_ok(connect(s, (struct sockaddr *)&addr, sizeof(addr)));
		assert_int_equal(send(s, junk, sizes[i], 0), (ssize_t)sizes[i]);
		/* The server hangs up. */
		assert_int_equal(recv(s, reply, sizeof(reply), 0), 0);
		close(s);
	}
	/* A well-formed request without HELLO is refused, not served. */
	{
		int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		uint32_t req[8] = { 7 /* SS_MEM_ENC_OP */, 1 };
		int32_t rep[16];

		assert_ok(connect(s, (struct sockaddr *)&addr, sizeof(addr)));
		assert_int_equal(send(s, req, sizeof(req), 0), sizeof(req));
		assert_true(recv(s, rep, sizeof(rep), 0) > 0);
		assert_int_equal(rep[0], -EPROTO);
		close(s);
	}
	/* And this client carries on. */
	assert_true(guest_count(sev) >= 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_pointers),
		cmocka_unit_test(test_absurd_lengths),
		cmocka_unit_test(test_wrong_fd_kinds),
		cmocka_unit_test(test_garbage_on_socket),
	};

	return cmocka_run_group_tests_name("conf_bad", tests, setup, teardown);
}
