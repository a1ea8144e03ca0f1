// SPDX-License-Identifier: MIT
/*
 * libsoftsev-preload.so: makes a program see an SEV host.  It interposes
 * the open family (for /dev/sev and /dev/kvm), ioctl, close and the dup
 * family, classifies file descriptors, and sends the SEV-related requests
 * to softsevd.  Every other ioctl goes to the real kernel after one table
 * lookup.  Without SOFTSEV_SOCKET in the environment it does nothing.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "shim.h"
#include "vkvm.h"

int (*real_ioctl)(int, unsigned long, ...);
int (*real_close)(int);
static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_dup)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);
static int (*real_fcntl)(int, int, ...);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);

static bool active;
/* Which KVM /dev/kvm opens (SS_KVM_*): SOFTSEV_KVM's, else softsevd's. */
static int kvm_env = -1;
static char *sock_path, *sev_path, *cgroup_name;
static uint64_t token[2];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int tls_sock = -1;
/*
 * The first connection of a process image stays open until the process
 * ends: softsevd drops a process's VM references only when all its
 * connections are gone, and threads close theirs when they exit.
 */
static int anchor_sock = -1;
static pthread_key_t sock_key;
static struct ss_rep host_info;
const volatile struct ss_vm_flags *shim_flags;

/* --- the fd table: 4096-entry pages under a 256-entry directory --- */

#define FDT_PAGE 4096
#define FDT_DIR 256
static struct fdi *fdt[FDT_DIR];

struct fdi *fdt_get(int fd)
{
	struct fdi *page;

	if (fd < 0 || fd >= FDT_PAGE * FDT_DIR)
		return NULL;
	page = __atomic_load_n(&fdt[fd / FDT_PAGE], __ATOMIC_ACQUIRE);
	if (!page || !page[fd % FDT_PAGE].kind)
		return NULL;
	return &page[fd % FDT_PAGE];
}

int fdt_set(int fd, const struct fdi *e)
{
	struct fdi *page;

	if (fd < 0 || fd >= FDT_PAGE * FDT_DIR)
		return -EMFILE;
	pthread_mutex_lock(&lock);
	page = fdt[fd / FDT_PAGE];
	if (!page) {
		page = calloc(FDT_PAGE, sizeof(*page));
		if (!page) {
			pthread_mutex_unlock(&lock);
			return -ENOMEM;
		}
		__atomic_store_n(&fdt[fd / FDT_PAGE], page, __ATOMIC_RELEASE);
	}
	page[fd % FDT_PAGE] = *e;
	pthread_mutex_unlock(&lock);
	return 0;
}

void fdt_clear(int fd)
{
	struct fdi *e = fdt_get(fd);

	if (e) {
		pthread_mutex_lock(&lock);
		memset(e, 0, sizeof(*e));
		pthread_mutex_unlock(&lock);
	}
}

void fdt_each(void (*fn)(int fd, struct fdi *e, void *arg), void *arg)
{
	int d, i;

	for (d = 0; d < FDT_DIR; d++) {
		struct fdi *page = fdt[d];

		for (i = 0; page && i < FDT_PAGE; i++)
			if (page[i].kind)
				fn(d * FDT_PAGE + i, &page[i], arg);
	}
}

/* --- talking to softsevd --- */

/* Most replies come within tens of microseconds: poll before sleeping. */
static void wait_reply(int sock)
{
	struct timespec a, b;
	struct pollfd p = { sock, POLLIN, 0 };

	clock_gettime(CLOCK_MONOTONIC, &a);
	do {
		if (poll(&p, 1, 0) == 1)
			return;
		clock_gettime(CLOCK_MONOTONIC, &b);
	} while ((b.tv_sec - a.tv_sec) * 1000000000L + b.tv_nsec - a.tv_nsec <
		 100000);
}

static int xfer(int sock, const struct ss_req *req, int send_fd,
		struct ss_rep *rep, int *recv_fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { (void *)req, sizeof(*req) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	ssize_t n;

	if (send_fd >= 0) {
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &send_fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n != sizeof(*req))
		return -EIO;
	wait_reply(sock);
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = rep;
	iov.iov_len = sizeof(*rep);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	do {
		n = real_recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n != sizeof(*rep))
		return -EIO;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		int fd;

		if (cm->cmsg_type != SCM_RIGHTS)
			continue;
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
		if (recv_fd)
			*recv_fd = fd;
		else
			real_close(fd);
	}
	return 0;
}

static void close_tls_sock(void *p)
{
	(void)p;
	if (tls_sock >= 0)
		real_close(tls_sock);
	tls_sock = -1;
}

/* This thread's connection, made (with HELLO) on first use. */
static int conn(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct ss_req req = { .op = SS_HELLO };
	struct ss_rep rep;
	int s, flags_fd = -1;

	if (tls_sock >= 0)
		return tls_sock;
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -EIO;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
	req.a1 = token[0];
	req.a2 = token[1];
	if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) ||
	    xfer(s, &req, -1, &rep, &flags_fd) || rep.ret) {
		real_close(s);
		if (flags_fd >= 0)
			real_close(flags_fd);
		return -EIO;
	}
	pthread_mutex_lock(&lock);
	host_info = rep;
	if (!shim_flags && flags_fd >= 0) {
		void *p = mmap(NULL, rep.flags_size, PROT_READ, MAP_SHARED,
			       flags_fd, 0);

		if (p != MAP_FAILED)
			shim_flags = p;
	}
	pthread_mutex_unlock(&lock);
	if (flags_fd >= 0)
		real_close(flags_fd);
	if (cgroup_name) {
		struct ss_req cg = { .op = SS_CGROUP,
				     .arg = (uintptr_t)cgroup_name };

		xfer(s, &cg, -1, &rep, NULL);
	}
	tls_sock = s;
	pthread_mutex_lock(&lock);
	if (anchor_sock < 0)
		anchor_sock = s;
	else
		pthread_setspecific(sock_key, (void *)1);
	pthread_mutex_unlock(&lock);
	return s;
}

int shim_call(const struct ss_req *req, int send_fd, struct ss_rep *rep,
	      int *recv_fd)
{
	int s = conn();

	memset(rep, 0, sizeof(*rep));
	if (s < 0 || xfer(s, req, send_fd, rep, recv_fd))
		return -EIO;
	return rep->ret;
}

const struct ss_rep *shim_host(void)
{
	if (conn() < 0)
		return NULL;
	return &host_info;
}

int shim_copy_in(void *dst, const void *src, size_t len)
{
	struct iovec l = { dst, len }, r = { (void *)src, len };

	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == (ssize_t)len ?
		       0 :
		       -EFAULT;
}

int shim_copy_out(void *dst, const void *src, size_t len)
{
	struct iovec l = { (void *)src, len }, r = { dst, len };

	return process_vm_writev(getpid(), &l, 1, &r, 1, 0) == (ssize_t)len ?
		       0 :
		       -EFAULT;
}

/* --- identifying files --- */

static bool is_kvm_dev(int fd)
{
	struct stat st;

	return !fstat(fd, &st) && S_ISCHR(st.st_mode) &&
	       major(st.st_rdev) == 10 && minor(st.st_rdev) == 232;
}

static bool is_sev_file(int fd)
{
	struct stat a, b;

	return sev_path && !fstat(fd, &a) && !stat(sev_path, &b) &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void adopt_vm(int fd)
{
	struct ss_req req = { .op = SS_VM_ADOPT };
	struct ss_rep rep;
	struct fdi *old = fdt_get(fd);
	struct fdi e = { .kind = FD_VM, .emu = old ? old->emu : 0 };

	if (shim_call(&req, fd, &rep, NULL))
		return;
	e.vm_id = rep.vm_id;
	fdt_set(fd, &e);
}

/* A descriptor that arrived from elsewhere (exec, SCM_RIGHTS). */
static void classify(int fd)
{
	char path[64], target[128];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = 0;
	if (!strncmp(target, "/memfd:kvm", 10)) {
		enum vkvm_kind k = vkvm_adopt(fd);
		struct fdi e = { .emu = 1, .vcpu = -1 };

		if (k == VKVM_VM) {
			e.kind = FD_VM;
			fdt_set(fd, &e);
			adopt_vm(fd);
		} else if (k) {
			e.kind = k == VKVM_SYS ? FD_KVM : FD_VCPU;
			fdt_set(fd, &e);
		}
		return;
	}
	if (!strcmp(target, "anon_inode:kvm-vm")) {
		adopt_vm(fd);
	} else if (!strncmp(target, "anon_inode:kvm-vcpu", 19)) {
		/* Its VM cannot be told from the fd: no dead-VM check. */
		struct fdi e = { .kind = FD_VCPU, .vcpu = -1 };

		fdt_set(fd, &e);
	} else if (is_kvm_dev(fd)) {
		struct fdi e = { .kind = FD_KVM };

		fdt_set(fd, &e);
	} else if (is_sev_file(fd)) {
		int fl = real_fcntl(fd, F_GETFL);
		struct fdi e = { .kind = FD_SEV };

		e.writable = (fl & O_ACCMODE) != O_RDONLY;
		fdt_set(fd, &e);
	}
}

/* After exec: learn what the inherited descriptors are. */
static void scan_inherited(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] == '.' || fd == dirfd(d))
			continue;
		classify(fd);
	}
	closedir(d);
}

static void adopt_one(int fd, struct fdi *e, void *arg)
{
	struct ss_req req = { .op = SS_VM_ADOPT };
	struct ss_rep rep;

	(void)arg;
	if (e->kind == FD_VM && !shim_call(&req, fd, &rep, NULL))
		e->vm_id = rep.vm_id;
}

/* The child of fork is a new address space holding the same files. */
static void after_fork_child(void)
{
	if (tls_sock >= 0)
		real_close(tls_sock);
	if (anchor_sock >= 0 && anchor_sock != tls_sock)
		real_close(anchor_sock);
	tls_sock = -1;
	anchor_sock = -1;
	if (getrandom(token, sizeof(token), 0) != sizeof(token))
		token[0] ^= (uint64_t)getpid();
	fdt_each(adopt_one, NULL);
}

#define RESOLVE(name) real_##name = dlsym(RTLD_NEXT, #name)

__attribute__((constructor)) static void shim_init(void)
{
	RESOLVE(ioctl);
	RESOLVE(close);
	RESOLVE(open);
	RESOLVE(openat);
	RESOLVE(dup);
	RESOLVE(dup2);
	RESOLVE(dup3);
	RESOLVE(fcntl);
	RESOLVE(recvmsg);
	if (getenv(SS_ENV_KVM) && !strcmp(getenv(SS_ENV_KVM), "auto"))
		kvm_env = SS_KVM_AUTO;
	else if (getenv(SS_ENV_KVM) && !strcmp(getenv(SS_ENV_KVM), "host"))
		kvm_env = SS_KVM_HOST;
	else if (getenv(SS_ENV_KVM) && !strcmp(getenv(SS_ENV_KVM), "emulated"))
		kvm_env = SS_KVM_EMULATED;
	sock_path = getenv(SS_ENV_SOCKET);
	sev_path = getenv(SS_ENV_SEV_PATH);
	if (!sock_path || !sev_path)
		return;
	sock_path = strdup(sock_path);
	sev_path = strdup(sev_path);
	if (getenv(SS_ENV_CGROUP) && *getenv(SS_ENV_CGROUP))
		cgroup_name = strndup(getenv(SS_ENV_CGROUP), SS_CG_NAME_MAX - 1);
	if (getrandom(token, sizeof(token), 0) != sizeof(token))
		return;
	pthread_key_create(&sock_key, close_tls_sock);
	pthread_atfork(NULL, NULL, after_fork_child);
	/* Let softsevd read our memory even under Yama ptrace_scope=1. */
	prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
	active = true;
	scan_inherited();
}

/* --- interposed entry points --- */

static int track_open(int fd, const char *path, int flags)
{
	struct fdi e = { 0 };

	if (fd < 0 || !active)
		return fd;
	if (is_kvm_dev(fd))
		e.kind = FD_KVM;
	else if (path && !strcmp(path, "/dev/sev") && is_sev_file(fd))
		e.kind = FD_SEV;
	e.writable = (flags & O_ACCMODE) != O_RDONLY;
	if (e.kind)
		fdt_set(fd, &e);
	return fd;
}

/* /dev/sev is our stand-in file, opened with the caller's flags. */
static const char *redirect(const char *path)
{
	if (active && path && !strcmp(path, "/dev/sev"))
		return sev_path;
	return path;
}

static int kvm_backend(void)
{
	const struct ss_rep *h;

	if (kvm_env == SS_KVM_EMULATED)
		return kvm_env;
	h = shim_host();
	/* strict memory runs guests in vkvm's private view only (V27) */
	if (h && h->strict_memory)
		return SS_KVM_EMULATED;
	if (kvm_env >= 0)
		return kvm_env;
	return h ? h->kvm_backend : SS_KVM_AUTO;
}

static bool is_dev_kvm(const char *path)
{
	return active && path && !strcmp(path, "/dev/kvm");
}

/*
 * open("/dev/kvm"): the host's when the backend is "host", or "auto" and
 * it opens; vkvm's otherwise.
 */
static int open_kvm(int real_fd, int flags)
{
	struct fdi e = { .kind = FD_KVM, .emu = 1 };
	int fd, err = errno;

	int b = kvm_backend();

	/* auto: only the real device counts (not a stray file there) */
	if (b == SS_KVM_HOST || (b == SS_KVM_AUTO && real_fd >= 0 &&
				 is_kvm_dev(real_fd)))
		return track_open(real_fd, "/dev/kvm", flags);
	if (real_fd >= 0)
		real_close(real_fd);
	if ((flags & O_ACCMODE) == O_WRONLY || (flags & (O_CREAT | O_DIRECTORY))) {
		errno = (flags & O_DIRECTORY) ? ENOTDIR : err ? err : EACCES;
		return -1;
	}
	fd = vkvm_open(flags);
	if (fd < 0) {
		errno = -fd;
		return -1;
	}
	fdt_set(fd, &e);
	return fd;
}

/*
 * A module parameter softsev answers: its text in a memfd, unless the
 * host has the file and softsev only fills in missing ones.  -2: not one.
 */
static int open_param(const char *path, int flags,
		      int (*real)(const char *, int, mode_t))
{
	const char *text;
	bool always;
	int fd;

	if (!active || (flags & O_ACCMODE) != O_RDONLY)
		return -2;
	text = shim_sysfs_value(path, &always);
	if (!text)
		return -2;
	if (!always) {
		fd = real(path, flags, 0);
		if (fd >= 0)
			return fd;
	}
	return shim_sysfs_open(text);
}

static bool is_absolute(const char *path)
{
	return path && path[0] == '/';
}

static int real_open3(const char *path, int flags, mode_t mode)
{
	return real_open(path, flags, mode);
}

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	int fd;

	if (!real_open)
		RESOLVE(open);
	fd = open_param(path, flags, real_open3);
	if (fd != -2)
		return fd;
	if (is_dev_kvm(path) && kvm_backend() != SS_KVM_HOST)
		return open_kvm(kvm_backend() == SS_KVM_EMULATED ?
					-1 :
					real_open(path, flags, mode),
				flags);
	return track_open(real_open(redirect(path), flags, mode), path, flags);
}

int open64(const char *path, int flags, ...)
	__attribute__((alias("open")));

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (!real_openat)
		RESOLVE(openat);
	if (!real_open)
		RESOLVE(open);
	if (dirfd == AT_FDCWD || is_absolute(path)) {
		fd = open_param(path, flags, real_open3);
		if (fd != -2)
			return fd;
	}
	if (is_dev_kvm(path) && kvm_backend() != SS_KVM_HOST)
		return open_kvm(kvm_backend() == SS_KVM_EMULATED ?
					-1 :
					real_openat(dirfd, path, flags, mode),
				flags);
	return track_open(real_openat(dirfd, redirect(path), flags, mode),
			  path, flags);
}

int openat64(int dirfd, const char *path, int flags, ...)
	__attribute__((alias("openat")));

int __open_2(const char *path, int flags);
int __open_2(const char *path, int flags)
{
	return open(path, flags);
}

int __open64_2(const char *path, int flags) __attribute__((alias("__open_2")));

int __openat_2(int dirfd, const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags)
{
	return openat(dirfd, path, flags);
}

int __openat64_2(int dirfd, const char *path, int flags)
	__attribute__((alias("__openat_2")));

/* A tracked fd stops referring to its file. */
static void forget(int fd)
{
	struct fdi *e = fdt_get(fd);
	struct ss_req req = { .op = SS_VM_CLOSE };
	struct ss_rep rep;

	if (!e)
		return;
	req.vm_id = e->vm_id;
	if (e->kind == FD_VM)
		shim_call(&req, -1, &rep, NULL);
	if (e->emu)
		vkvm_close(fd);
	fdt_clear(fd);
}

int close(int fd)
{
	int ret;

	if (!real_close)
		RESOLVE(close);
	if (!fdt_get(fd))
		return real_close(fd);
	ret = real_close(fd);
	if (!ret || errno == EINTR)
		forget(fd);
	return ret;
}

/* newfd now refers to the same file as oldfd. */
static int duplicated(int oldfd, int newfd)
{
	struct fdi *e = fdt_get(oldfd), copy;

	if (newfd < 0 || !e)
		return newfd;
	copy = *e;
	if (copy.emu)
		vkvm_dup(oldfd, newfd);
	if (copy.kind == FD_VM) {
		struct ss_req req = { .op = SS_VM_ADOPT };
		struct ss_rep rep;

		if (shim_call(&req, newfd, &rep, NULL))
			return newfd;
		copy.vm_id = rep.vm_id;
	}
	fdt_set(newfd, &copy);
	return newfd;
}

int dup(int oldfd)
{
	if (!real_dup)
		RESOLVE(dup);
	return duplicated(oldfd, real_dup(oldfd));
}

static int dup_onto(int oldfd, int newfd, int flags, bool three)
{
	int ret;

	if (oldfd == newfd)
		return three ? real_dup3(oldfd, newfd, flags) :
			       real_dup2(oldfd, newfd);
	ret = three ? real_dup3(oldfd, newfd, flags) : real_dup2(oldfd, newfd);
	if (ret < 0)
		return ret;
	forget(newfd); /* the file newfd had is closed */
	return duplicated(oldfd, ret);
}

int dup2(int oldfd, int newfd)
{
	if (!real_dup2)
		RESOLVE(dup2);
	return dup_onto(oldfd, newfd, 0, false);
}

int dup3(int oldfd, int newfd, int flags)
{
	if (!real_dup3)
		RESOLVE(dup3);
	return dup_onto(oldfd, newfd, flags, true);
}

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!real_fcntl)
		RESOLVE(fcntl);
	ret = real_fcntl(fd, cmd, arg);
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		return duplicated(fd, ret);
	return ret;
}

int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));

/* Descriptors received over a unix socket may be VMs or /dev/sev. */
ssize_t recvmsg(int sock, struct msghdr *msg, int flags)
{
	struct cmsghdr *cm;
	ssize_t n;

	if (!real_recvmsg)
		RESOLVE(recvmsg);
	n = real_recvmsg(sock, msg, flags);
	if (n < 0 || !active || !msg->msg_controllen)
		return n;
	for (cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		size_t i, nfd;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			classify(fd);
		}
	}
	return n;
}

int ioctl(int fd, unsigned long req, ...)
{
	struct fdi *e;
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!real_ioctl)
		RESOLVE(ioctl);
	/*
	 * The system call takes an unsigned int: a request passed as a
	 * negative int (QEMU's kvm_ioctl() has "int type") arrives here
	 * sign-extended, and the kernel sees its low 32 bits only.
	 */
	req = (unsigned int)req;
	/* The fast path: one table lookup for every untracked fd. */
	e = fdt_get(fd);
	if (!e)
		return real_ioctl(fd, req, arg);
	return shim_ioctl(fd, e, req, arg);
}

/* --- /dev/kvm as the emulated backend shows it --- */

static bool param_here(const char *path);

static bool kvm_real_stat(struct stat *st)
{
	static int (*real_stat)(const char *, struct stat *);

	if (!real_stat)
		real_stat = dlsym(RTLD_NEXT, "stat");
	return real_stat("/dev/kvm", st) == 0;
}

/* Whether /dev/kvm is vkvm's here: emulated, or auto without a host one. */
static bool kvm_is_emulated(void)
{
	static int (*real_access)(const char *, int);

	if (kvm_backend() != SS_KVM_AUTO)
		return kvm_backend() == SS_KVM_EMULATED;
	struct stat st;

	if (!real_access)
		real_access = dlsym(RTLD_NEXT, "access");
	return real_access("/dev/kvm", R_OK | W_OK) != 0 ||
	       !kvm_real_stat(&st) || !S_ISCHR(st.st_mode);
}

/* The character device 10:232, as on a KVM host (crw-rw---- root:kvm). */
static void kvm_stat(struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFCHR | 0660;
	st->st_rdev = makedev(10, 232);
	st->st_nlink = 1;
	st->st_blksize = 4096;
}

int access(const char *path, int mode)
{
	static int (*real)(const char *, int);

	if ((is_dev_kvm(path) && kvm_is_emulated()) || param_here(path))
		return 0;
	if (!real)
		real = dlsym(RTLD_NEXT, "access");
	return real(path, mode);
}

int faccessat(int dirfd, const char *path, int mode, int flags)
{
	static int (*real)(int, const char *, int, int);

	if ((is_dev_kvm(path) && kvm_is_emulated()) || param_here(path))
		return 0;
	if (!real)
		real = dlsym(RTLD_NEXT, "faccessat");
	return real(dirfd, path, mode, flags);
}

int stat(const char *path, struct stat *st)
{
	static int (*real)(const char *, struct stat *);

	if (is_dev_kvm(path) && kvm_is_emulated()) {
		kvm_stat(st);
		return 0;
	}
	if (!real)
		real = dlsym(RTLD_NEXT, "stat");
	return real(path, st);
}


int lstat(const char *path, struct stat *st)
{
	static int (*real)(const char *, struct stat *);

	if (is_dev_kvm(path) && kvm_is_emulated()) {
		kvm_stat(st);
		return 0;
	}
	if (!real)
		real = dlsym(RTLD_NEXT, "lstat");
	return real(path, st);
}


/* glibc's fopen opens through an internal symbol: it needs its own. */
FILE *fopen(const char *path, const char *mode)
{
	static FILE *(*real)(const char *, const char *);
	bool always;
	const char *text;
	int fd;

	if (!real)
		real = dlsym(RTLD_NEXT, "fopen");
	text = active && mode && mode[0] == 'r' && !strchr(mode, '+') ?
		       shim_sysfs_value(path, &always) :
		       NULL;
	if (text) {
		FILE *f = always ? NULL : real(path, mode);

		if (f)
			return f;
		fd = shim_sysfs_open(text);
		return fd < 0 ? NULL : fdopen(fd, mode);
	}
	return real(path, mode);
}

FILE *fopen64(const char *path, const char *mode) __attribute__((alias("fopen")));

/* The same parameters as files that are there, for access() and stat(). */
static bool param_here(const char *path)
{
	bool always;

	return active && shim_sysfs_value(path, &always);
}
