// SPDX-License-Identifier: MIT
/*
 * VMs across processes: a mirror made in a second process from a VM fd
 * passed over a unix socket, fork inheritance, and a client killed while
 * it works.  Lifetimes are observed through PLATFORM_STATUS.guest_count.
 */
#include "conf.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

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

static void send_fd(int sock, int fd)
{
	char c = 'F', cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	assert_int_equal(sendmsg(sock, &m, 0), 1);
}

static int recv_fd(int sock)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	int fd = -1;

	if (recvmsg(sock, &m, 0) == 1 && CMSG_FIRSTHDR(&m))
		memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
	return fd;
}

static void wait_byte(int sock)
{
	char c;

	assert_int_equal(read(sock, &c, 1), 1);
}

/* The child: mirror the VM it is sent, report, wait, exit. */
static int mirror_child(int sock)
{
	int k = open("/dev/kvm", O_RDWR), owner = recv_fd(sock);
	int m = ioctl(k, KVM_CREATE_VM, 0ul);
	char r;

	if (owner < 0 || m < 0)
		return 10;
	/* The VM belongs to another address space: its ioctls say EIO. */
	if (ioctl(owner, KVM_MEMORY_ENCRYPT_OP, NULL) != -1 || errno != EIO)
		return 11;
	if (enc_ctx(m, 197, (uint64_t)owner))
		return 12;
	close(owner);
	r = 'M';
	if (write(sock, &r, 1) != 1)
		return 13;
	wait_byte(sock); /* the parent closed its owner fd */
	r = 'K';
	if (write(sock, &r, 1) != 1)
		return 14;
	wait_byte(sock);
	return 0;
}

static void test_mirror_in_other_process(void **state)
{
	int sp[2], before = guest_count(sev), owner, status;
	uint32_t h;
	pid_t pid;

	assert_ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sp));
	pid = fork();
	if (!pid) {
		close(sp[0]);
		_exit(mirror_child(sp[1]));
	}
	close(sp[1]);
	/* The VM is made after the fork: the child gets it only by message. */
	owner = sev_vm(kvm, sev, false, &h);
	send_fd(sp[0], owner);
	wait_byte(sp[0]);
	close(owner);
	/* The mirror in the child keeps the owner's context alive. */
	assert_int_equal(guest_count(sev), before + 1);
	assert_int_equal(write(sp[0], "c", 1), 1);
	wait_byte(sp[0]);
	assert_int_equal(guest_count(sev), before + 1);
	assert_int_equal(write(sp[0], "x", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The child's exit dropped the last reference. */
	assert_int_equal(guest_count(sev), before);
	close(sp[0]);
}

static void test_fork_inherits(void **state)
{
	int before = guest_count(sev), sp[2], status;
	uint32_t h;
	int vm = sev_vm(kvm, sev, false, &h);
	pid_t pid;

	assert_ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sp));
	pid = fork();
	if (!pid) {
		char c;
		int ok;

		close(sp[0]);
		/* Inherited, but another address space: EIO. */
		ok = sev_op(vm, KVM_SEV_LAUNCH_FINISH, NULL, sev, NULL) == -1 &&
		     errno == EIO;
		if (write(sp[1], ok ? "y" : "n", 1) != 1 ||
		    read(sp[1], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	close(sp[1]);
	{
		char c;

		assert_int_equal(read(sp[0], &c, 1), 1);
		assert_int_equal(c, 'y');
	}
	/* The parent closes; the child still holds the VM. */
	close(vm);
	assert_int_equal(guest_count(sev), before + 1);
	assert_int_equal(write(sp[0], "x", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(guest_count(sev), before);
	close(sp[0]);
}

/* A client killed with SIGKILL at a random point leaks nothing. */
static void test_killed_client(void **state)
{
	int before = guest_count(sev), round;

	for (round = 0; round < 8; round++) {
		pid_t pid = fork();
		int status;

		if (!pid) {
			/* No cmocka asserts here: this process must just die. */
			for (;;) {
				struct kvm_sev_launch_start ls = { 0 };
				int a = ioctl(kvm, KVM_CREATE_VM, 0ul);
				int b = ioctl(kvm, KVM_CREATE_VM, 0ul);
				int c = ioctl(kvm, KVM_CREATE_VM, 0ul);

				sev_op(a, KVM_SEV_INIT, NULL, sev, NULL);
				sev_op(a, KVM_SEV_LAUNCH_START, &ls, sev, NULL);
				enc_ctx(b, 197, (uint64_t)a);
				enc_ctx(c, 206, (uint64_t)a);
				if (rand() % 2) {
					close(a);
					close(b);
					close(c);
				}
			}
		}
		usleep(2000 + 3000 * (useconds_t)round);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		/* The server noticed the connection go: nothing is left. */
		assert_int_equal(guest_count(sev), before);
	}
}

/* The new image of an exec'd child: it holds the VM only by inheritance. */
static int exec_child(int vm, int sock)
{
	char c = 'y';

	/* Another address space again: EIO. */
	if (sev_op(vm, KVM_SEV_LAUNCH_FINISH, NULL, -1, NULL) != -1 ||
	    errno != EIO)
		c = 'n';
	if (write(sock, &c, 1) != 1 || read(sock, &c, 1) != 1)
		return 2;
	return 0;
}

static char *self_path;

/* A VM fd without FD_CLOEXEC survives exec and keeps the VM alive. */
static void test_exec_inherits(void **state)
{
	int before = guest_count(sev), sp[2], status;
	uint32_t h;
	int vm = sev_vm(kvm, sev, false, &h);
	pid_t pid;
	char c;

	assert_ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sp));
	fcntl(vm, F_SETFD, 0);
	pid = fork();
	if (!pid) {
		char a[16], b[16];

		close(sp[0]);
		snprintf(a, sizeof(a), "%d", vm);
		snprintf(b, sizeof(b), "%d", sp[1]);
		execl(self_path, self_path, "--exec-child", a, b, (char *)NULL);
		_exit(127);
	}
	/* Right after fork the child is the VM's only other holder; it
	 * exec()s, and its new image keeps the VM. */
	close(vm);
	close(sp[1]);
	assert_int_equal(read(sp[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	assert_int_equal(guest_count(sev), before + 1);
	assert_int_equal(write(sp[0], "x", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(guest_count(sev), before);
	close(sp[0]);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mirror_in_other_process),
		cmocka_unit_test(test_fork_inherits),
		cmocka_unit_test(test_exec_inherits),
		cmocka_unit_test(test_killed_client),
	};

	if (argc == 4 && !strcmp(argv[1], "--exec-child"))
		return exec_child(atoi(argv[2]), atoi(argv[3]));
	self_path = argv[0];
	return cmocka_run_group_tests_name("conf_xproc", tests, setup,
					   teardown);
}
