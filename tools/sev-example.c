// SPDX-License-Identifier: MIT
/*
 * sev-example: what a VMM does with SEV, written only against the kernel's
 * uAPI (<linux/kvm.h>, <linux/psp-sev.h>), so that it runs unchanged on a
 * real SEV host and, under `softsev run`, on any KVM host:
 *   create an SEV VM, launch and measure it, make a mirror VM with
 *   KVM_CAP_VM_COPY_ENC_CONTEXT_FROM, move the owner with
 *   KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM, and tear everything down.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/psp-sev.h>

#define KVM_X86_SEV_VM_TYPE 2ul
#define KVM_SEV_INIT2_CMD 22
#define MEM_SIZE (64 * 1024)

static int sev_fd;

static int sev_cmd(int vm, uint32_t id, void *data, uint32_t *error)
{
	struct kvm_sev_cmd c = { .id = id, .data = (uintptr_t)data,
				 .sev_fd = (uint32_t)sev_fd };
	int r = ioctl(vm, KVM_MEMORY_ENCRYPT_OP, &c);

	if (error)
		*error = c.error;
	return r;
}

static int check(int ret, const char *what)
{
	if (ret < 0) {
		fprintf(stderr, "sev-example: %s: %s\n", what, strerror(errno));
		exit(1);
	}
	return ret;
}

static void status_line(int vm, const char *who)
{
	static const char *const states[] = { "UNINIT", "LUPDATE", "LSECRET",
					      "RUNNING", "SUPDATE", "RUPDATE",
					      "SENT" };
	struct kvm_sev_guest_status gs;

	check(sev_cmd(vm, KVM_SEV_GUEST_STATUS, &gs, NULL), "GUEST_STATUS");
	printf("    %-10s handle %u, policy 0x%x, state %s\n", who, gs.handle,
	       gs.policy, gs.state < 7 ? states[gs.state] : "?");
}

static int guests(void)
{
	struct sev_user_data_status st;
	struct sev_issue_cmd c = { SEV_PLATFORM_STATUS, (uintptr_t)&st, 0 };

	check(ioctl(sev_fd, SEV_ISSUE_CMD, &c), "PLATFORM_STATUS");
	return (int)st.guest_count;
}

static int new_vm(int kvm)
{
	uint8_t init[48] = { 0 }; /* struct kvm_sev_init: all defaults */
	int vm = check(ioctl(kvm, KVM_CREATE_VM, KVM_X86_SEV_VM_TYPE),
		       "KVM_CREATE_VM(KVM_X86_SEV_VM)");

	check(sev_cmd(vm, KVM_SEV_INIT2_CMD, init, NULL), "KVM_SEV_INIT2");
	return vm;
}

int main(void)
{
	struct sev_user_data_status st;
	struct sev_issue_cmd c = { SEV_PLATFORM_STATUS, (uintptr_t)&st, 0 };
	struct kvm_sev_launch_start ls = { .policy = 0 };
	struct kvm_sev_launch_measure m = { 0, 0 };
	struct kvm_userspace_memory_region mr = { 0 };
	struct kvm_enable_cap cap = { 0 };
	uint8_t measure[48], *mem;
	uint32_t err;
	int kvm, owner, mirror, dst, i;

	sev_fd = check(open("/dev/sev", O_RDWR), "open /dev/sev");
	check(ioctl(sev_fd, SEV_ISSUE_CMD, &c), "SEV_PLATFORM_STATUS");
	printf("1. /dev/sev: SEV firmware API %u.%u build %u, %s\n",
	       st.api_major, st.api_minor, st.build,
	       st.flags & SEV_STATUS_FLAGS_CONFIG_ES ? "SEV-ES enabled" :
						       "SEV only");

	kvm = check(open("/dev/kvm", O_RDWR), "open /dev/kvm");
	owner = new_vm(kvm);
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	for (i = 0; i < MEM_SIZE; i++)
		mem[i] = (uint8_t)(i * 7);
	mr.memory_size = MEM_SIZE;
	mr.userspace_addr = (uintptr_t)mem;
	check(ioctl(owner, KVM_SET_USER_MEMORY_REGION, &mr), "memory region");
	printf("2. created an SEV VM (KVM_X86_SEV_VM + KVM_SEV_INIT2) with "
	       "64 KiB of memory\n");

	check(sev_cmd(owner, KVM_SEV_LAUNCH_START, &ls, NULL), "LAUNCH_START");
	printf("3. LAUNCH_START: firmware guest handle %u, ASID bound\n",
	       ls.handle);
	{
		struct kvm_sev_launch_update_data up = { (uintptr_t)mem,
							 MEM_SIZE };

		check(sev_cmd(owner, KVM_SEV_LAUNCH_UPDATE_DATA, &up, NULL),
		      "LAUNCH_UPDATE_DATA");
	}
	/* The length query every VMM does first. */
	if (sev_cmd(owner, KVM_SEV_LAUNCH_MEASURE, &m, &err) == 0 ||
	    err != SEV_RET_INVALID_LEN)
		return 1;
	m.uaddr = (uintptr_t)measure;
	check(sev_cmd(owner, KVM_SEV_LAUNCH_MEASURE, &m, NULL),
	      "LAUNCH_MEASURE");
	printf("4. measured the 64 KiB image: ");
	for (i = 0; i < 32; i++)
		printf("%02x", measure[i]);
	printf("\n   (a guest owner recomputes this HMAC to trust the launch)\n");
	check(sev_cmd(owner, KVM_SEV_LAUNCH_FINISH, NULL, NULL),
	      "LAUNCH_FINISH");
	status_line(owner, "owner:");

	mirror = check(ioctl(kvm, KVM_CREATE_VM, 0ul), "KVM_CREATE_VM");
	cap.cap = KVM_CAP_VM_COPY_ENC_CONTEXT_FROM;
	cap.args[0] = (uint64_t)owner;
	check(ioctl(mirror, KVM_ENABLE_CAP, &cap),
	      "KVM_CAP_VM_COPY_ENC_CONTEXT_FROM");
	printf("5. mirror VM made with KVM_CAP_VM_COPY_ENC_CONTEXT_FROM: it "
	       "shares the owner's ASID and handle\n");
	status_line(mirror, "mirror:");
	{
		uint8_t out[16];
		struct kvm_sev_dbg d = { (uintptr_t)mem + 32, (uintptr_t)out,
					 16 };

		check(sev_cmd(mirror, KVM_SEV_DBG_DECRYPT, &d, NULL),
		      "DBG_DECRYPT via mirror");
		printf("    DBG_DECRYPT through the mirror reads the owner's "
		       "memory: %s\n",
		       memcmp(out, mem + 32, 16) ? "MISMATCH" : "matches");
	}

	dst = check(ioctl(kvm, KVM_CREATE_VM, KVM_X86_SEV_VM_TYPE),
		    "KVM_CREATE_VM");
	cap.cap = KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM;
	cap.args[0] = (uint64_t)owner;
	check(ioctl(dst, KVM_ENABLE_CAP, &cap),
	      "KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM");
	printf("6. moved the context to a new VM with "
	       "KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM\n");
	errno = 0;
	sev_cmd(owner, KVM_SEV_GUEST_STATUS, NULL, NULL);
	printf("    the old VM is dead: every ioctl now fails with %s\n",
	       strerror(errno));
	status_line(mirror, "mirror:");
	printf("    (the mirror followed the context to its new owner)\n");

	close(mirror);
	close(dst);
	close(owner);
	printf("7. closed every VM: %d firmware guest contexts left\n",
	       guests());
	close(kvm);
	close(sev_fd);
	return 0;
}
