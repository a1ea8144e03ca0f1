// SPDX-License-Identifier: MIT
/* KVM_MEMORY_ENCRYPT_REG/UNREG_REGION rows (spec §4.10) on real memory. */
#include "conf.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/capability.h>

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

/* Give up CAP_IPC_LOCK so that RLIMIT_MEMLOCK applies, as for users. */
static void drop_ipc_lock(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	assert_ok(syscall(SYS_capget, &h, d));
	d[0].effective &= ~(1u << CAP_IPC_LOCK);
	assert_ok(syscall(SYS_capset, &h, d));
}

static void test_region_rows(void **state)
{
	int plain = vm_new(kvm, 0), vm;
	uint32_t h;
	uint8_t *mem = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct kvm_enc_region r = { (uintptr_t)mem, 2 * 4096 };
	struct rlimit rl = { 8 * 4096, 8 * 4096 };

	assert_errno(ioctl(plain, KVM_MEMORY_ENCRYPT_REG_REGION, &r), ENOTTY);
	assert_errno(ioctl(plain, KVM_MEMORY_ENCRYPT_UNREG_REGION, &r), ENOTTY);
	vm = sev_vm(kvm, sev, false, &h);
	r.size = 0;
	assert_errno(ioctl(vm, KVM_MEMORY_ENCRYPT_REG_REGION, &r), EINVAL);
	r.size = 2 * 4096;
	/* Registered twice: pinned twice. */
	assert_ok(ioctl(vm, KVM_MEMORY_ENCRYPT_REG_REGION, &r));
	assert_ok(ioctl(vm, KVM_MEMORY_ENCRYPT_REG_REGION, &r));
	/* Unregistering needs the exact range. */
	r.size = 4096;
	assert_errno(ioctl(vm, KVM_MEMORY_ENCRYPT_UNREG_REGION, &r), EINVAL);
	r.addr += 4096;
	assert_errno(ioctl(vm, KVM_MEMORY_ENCRYPT_UNREG_REGION, &r), EINVAL);
	r.addr -= 4096;
	r.size = 2 * 4096;
	assert_ok(ioctl(vm, KVM_MEMORY_ENCRYPT_UNREG_REGION, &r));
	assert_ok(ioctl(vm, KVM_MEMORY_ENCRYPT_UNREG_REGION, &r));
	assert_errno(ioctl(vm, KVM_MEMORY_ENCRYPT_UNREG_REGION, &r), EINVAL);
	/* 6.12 pins without FOLL_WRITE: a read-only mapping registers... */
	assert_ok(mprotect(mem + 32 * 4096, 4096, PROT_READ));
	r.addr = (uintptr_t)mem + 32 * 4096;
	r.size = 4096;
	assert_ok(ioctl(vm, KVM_MEMORY_ENCRYPT_REG_REGION, &r));
	assert_ok(ioctl(vm, KVM_MEMORY_ENCRYPT_UNREG_REGION, &r));
	/* ...an inaccessible one does not, nor one with an unmapped page. */
	assert_ok(mprotect(mem + 32 * 4096, 4096, PROT_NONE));
	assert_errno(ioctl(vm, KVM_MEMORY_ENCRYPT_REG_REGION, &r), ENOMEM);
	assert_ok(munmap(mem + 32 * 4096, 4096));
	r.addr = (uintptr_t)mem + 31 * 4096;
	r.size = 2 * 4096;
	assert_errno(ioctl(vm, KVM_MEMORY_ENCRYPT_REG_REGION, &r), ENOMEM);
	r.addr = (uintptr_t)mem;
	r.size = 2 * 4096;
	/* RLIMIT_MEMLOCK without CAP_IPC_LOCK: ENOMEM past the limit. */
	assert_ok(setrlimit(RLIMIT_MEMLOCK, &rl));
	drop_ipc_lock();
	r.size = 8 * 4096;
	assert_ok(ioctl(vm, KVM_MEMORY_ENCRYPT_REG_REGION, &r));
	r.size = 4096;
	assert_errno(ioctl(vm, KVM_MEMORY_ENCRYPT_REG_REGION, &r), ENOMEM);
	r.size = 8 * 4096;
	assert_ok(ioctl(vm, KVM_MEMORY_ENCRYPT_UNREG_REGION, &r));
	r.size = 4096;
	assert_ok(ioctl(vm, KVM_MEMORY_ENCRYPT_REG_REGION, &r));
	close(vm);
	close(plain);
	munmap(mem, 64 * 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_region_rows),
	};

	return cmocka_run_group_tests_name("conf_region", tests, setup,
					   teardown);
}
