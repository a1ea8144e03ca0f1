// SPDX-License-Identifier: MIT
/*
 * vkvm's files: which descriptor is which object, the system ioctls
 * (kvm_dev_ioctl()), and the address-space rule (kvm_vm_ioctl() and
 * kvm_vcpu_ioctl() answer EIO to a process that is not the VM's).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vkvm_internal.h"

struct vk_file {
	enum vkvm_kind kind;
	void *obj; /* struct vkvm_vm or struct vkvm_vcpu; NULL: foreign */
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vk_file *table;
static int table_size;

/*
 * This process's id, kept across fork: every VM and vCPU ioctl compares
 * it with the VM's owner, and vk_self() is a system call.
 */
static pid_t self;

pid_t vk_self(void)
{
	pid_t p = __atomic_load_n(&self, __ATOMIC_RELAXED);

	if (!p) {
		p = getpid();
		__atomic_store_n(&self, p, __ATOMIC_RELAXED);
	}
	return p;
}

static void before_fork(void)
{
	pthread_mutex_lock(&table_lock);
}

static void after_fork_parent(void)
{
	pthread_mutex_unlock(&table_lock);
}

static void after_fork_child(void)
{
	self = getpid();
	pthread_mutex_unlock(&table_lock);
}

__attribute__((constructor)) static void vk_init(void)
{
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

static int table_put(int fd, enum vkvm_kind kind, void *obj)
{
	if (fd < 0)
		return -EBADF;
	pthread_mutex_lock(&table_lock);
	if (fd >= table_size) {
		int n = fd + 64;
		struct vk_file *t = realloc(table, (size_t)n * sizeof(*t));

		if (!t) {
			pthread_mutex_unlock(&table_lock);
			return -ENOMEM;
		}
		memset(t + table_size, 0, (size_t)(n - table_size) * sizeof(*t));
		table = t;
		table_size = n;
	}
	table[fd].kind = kind;
	table[fd].obj = obj;
	pthread_mutex_unlock(&table_lock);
	return 0;
}

static struct vk_file table_get(int fd)
{
	struct vk_file f = { VKVM_NONE, NULL };

	pthread_mutex_lock(&table_lock);
	if (fd >= 0 && fd < table_size)
		f = table[fd];
	pthread_mutex_unlock(&table_lock);
	return f;
}

enum vkvm_kind vkvm_kind(int fd)
{
	return table_get(fd).kind;
}

int vkvm_open(int flags)
{
	int fd = memfd_create("kvm", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
	int ret;

	if (fd < 0)
		return -errno;
	ret = table_put(fd, VKVM_SYS, NULL);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/* Take one more reference on what a file refers to. */
static void obj_get(struct vk_file f)
{
	struct vkvm_vm *vm = NULL;

	if (f.kind == VKVM_VM)
		vm = f.obj;
	else if (f.kind == VKVM_VCPU && f.obj)
		vm = ((struct vkvm_vcpu *)f.obj)->vm;
	if (!vm || vm->owner != vk_self())
		return;
	pthread_mutex_lock(&vm->lock);
	vm->refs++;
	pthread_mutex_unlock(&vm->lock);
}

static void obj_put(struct vk_file f)
{
	struct vkvm_vm *vm = NULL;

	if (f.kind == VKVM_VM)
		vm = f.obj;
	else if (f.kind == VKVM_VCPU && f.obj)
		vm = ((struct vkvm_vcpu *)f.obj)->vm;
	/* a forked child's copy of another address space's VM: leave it */
	if (vm && vm->owner == vk_self())
		vk_vm_put(vm);
}

void vkvm_dup(int oldfd, int newfd)
{
	struct vk_file f = table_get(oldfd);

	if (!f.kind || newfd < 0)
		return;
	obj_get(f);
	table_put(newfd, f.kind, f.obj);
}

void vkvm_close(int fd)
{
	struct vk_file f = table_get(fd);

	if (!f.kind)
		return;
	table_put(fd, VKVM_NONE, NULL);
	obj_put(f);
}

enum vkvm_kind vkvm_adopt(int fd)
{
	char path[64], target[128];
	enum vkvm_kind kind = VKVM_NONE;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return VKVM_NONE;
	target[n] = 0;
	if (!strcmp(target, "/memfd:kvm (deleted)"))
		kind = VKVM_SYS;
	else if (!strcmp(target, "/memfd:kvm-vm (deleted)"))
		kind = VKVM_VM;
	else if (!strncmp(target, "/memfd:kvm-vcpu:", 16))
		kind = VKVM_VCPU;
	if (kind)
		table_put(fd, kind, NULL); /* VM and vCPU: another mm's */
	return kind;
}

int vkvm_vcpu_id(int fd)
{
	struct vk_file f = table_get(fd);

	if (f.kind != VKVM_VCPU || !f.obj)
		return -1;
	return ((struct vkvm_vcpu *)f.obj)->index;
}

static long create_vm(unsigned long type)
{
	struct vkvm_vm *vm;
	int err = 0, fd;

	vm = vk_vm_new(type, &err);
	if (!vm)
		return err;
	fd = memfd_create("kvm-vm", MFD_CLOEXEC);
	if (fd < 0 || table_put(fd, VKVM_VM, vm)) {
		if (fd >= 0)
			close(fd);
		vk_vm_put(vm);
		return -EMFILE;
	}
	return fd;
}

static long sys_ioctl(unsigned long req, void *arg)
{
	switch (req) {
	case KVM_GET_API_VERSION:
		return arg ? -EINVAL : KVM_API_VERSION;
	case KVM_CREATE_VM:
		return create_vm((unsigned long)arg);
	case KVM_CHECK_EXTENSION:
		return vk_check_extension(NULL, (long)arg);
	case KVM_GET_VCPU_MMAP_SIZE:
		return arg ? -EINVAL : (long)VK_RUN_SIZE;
	case KVM_GET_SUPPORTED_CPUID:
		return vk_get_supported_cpuid(arg);
	case KVM_GET_MSR_INDEX_LIST:
		return vk_get_msr_list(arg, false);
	case KVM_GET_MSR_FEATURE_INDEX_LIST:
		return vk_get_msr_list(arg, true);
	case KVM_GET_MSRS:
		return vk_get_feature_msrs(arg);
	case KVM_X86_GET_MCE_CAP_SUPPORTED: {
		uint64_t cap = 1ull << 8 | 1ull << 24 | 32; /* CTL_P SER_P */

		return vk_copy_out(arg, &cap, sizeof(cap));
	}
	case KVM_GET_DEVICE_ATTR:
	case KVM_HAS_DEVICE_ATTR:
		return vk_dev_attr(req, arg);
	}
	return -EINVAL; /* kvm_arch_dev_ioctl() */
}

/* The VM a VM descriptor of this address space refers to, or NULL. */
struct vkvm_vm *vk_vm_of(int fd)
{
	struct vk_file f = table_get(fd);
	struct vkvm_vm *vm = f.obj;

	if (f.kind != VKVM_VM || !vm || vm->owner != vk_self())
		return NULL;
	return vm;
}

struct vkvm_vm *vk_vm_of_any(int fd)
{
	struct vk_file f = table_get(fd);
	struct vkvm_vm *vm = f.obj;

	if (f.kind == VKVM_VCPU && f.obj)
		vm = ((struct vkvm_vcpu *)f.obj)->vm;
	else if (f.kind != VKVM_VM)
		return NULL;
	if (!vm || vm->owner != vk_self())
		return NULL;
	return vm;
}

long vkvm_ioctl(int fd, unsigned long req, void *arg)
{
	struct vk_file f = table_get(fd);
	struct vkvm_vcpu *v;

	switch (f.kind) {
	case VKVM_SYS:
		return sys_ioctl(req, arg);
	case VKVM_VM:
		/* kvm_vm_ioctl(): another address space's VM */
		if (!f.obj || ((struct vkvm_vm *)f.obj)->owner != vk_self())
			return -EIO;
		return vk_vm_ioctl(f.obj, fd, req, arg);
	case VKVM_VCPU:
		v = f.obj;
		if (!v || v->vm->owner != vk_self())
			return -EIO;
		if (_IOC_TYPE(req) != KVMIO) /* kvm_vcpu_ioctl() */
			return -EINVAL;
		return vk_vcpu_ioctl(v, req, arg);
	default:
		return -ENOTTY;
	}
}

/* A vCPU created by vm.c: its file joins the table. */
int vk_table_vcpu(struct vkvm_vcpu *v)
{
	return table_put(v->fd, VKVM_VCPU, v);
}
