// SPDX-License-Identifier: MIT
/*
 * Fuzz the KVM_MEMORY_ENCRYPT_OP decoder: every command id with fuzzed
 * argument structs, on a launched SEV (or SEV-ES) VM, with pointers that
 * land inside the input.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_mem.h"
#include "kvm.h"

static struct kvm_host *host;

static int sev_fd(void *ctx, int fd)
{
	return fd == 100 ? 0 : -EBADF;
}

static int vm_fd(void *ctx, unsigned int fd, struct kvm_vm **vm)
{
	return -EBADF;
}

/* Only the input buffer can be pinned. */
static struct fuzz_mem *cur;

static int pin(void *ctx, uint64_t uaddr, uint64_t len, bool write)
{
	uint8_t *p;

	return fm_locate(cur, uaddr, len, &p) ? -EFAULT : 0;
}

static void setup(void)
{
	struct psp_config cfg;
	struct ccp_config cc = { .init_on_probe = true };
	struct kvm_host_config hc;
	struct psp *psp;
	struct ccp *ccp;

	psp_config_default(&cfg);
	cfg.rsa_bits = 2048;
	kvm_host_config_default(&hc);
	if (psp_create(&cfg, &psp, NULL, 0) || ccp_create(psp, &cc, &ccp) ||
	    kvm_host_create(ccp, &hc, &host))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvm_caller c = { 0 };
	struct kvm_sev_cmd cmd;
	struct kvm_vm *vm;
	struct fuzz_mem m;
	uint64_t words[8];
	uint8_t *buf;
	size_t i;

	if (!host)
		setup();
	if (size < sizeof(cmd) + 2 + sizeof(words))
		return 0;
	buf = malloc(size);
	memcpy(buf, data, size);
	fuzz_mem_init(&m, buf, size);
	c.mem = &m.mem;
	c.sev_fd = sev_fd;
	c.pin = pin;
	cur = &m;
	c.vm_fd = vm_fd;
	c.mm = 1;
	c.rlimit_memlock = UINT64_MAX;
	if (kvm_vm_create(host, buf[sizeof(cmd)] & 1 ? 3 : 0, 1, &vm))
		goto out;
	{
		struct kvm_sev_init init = { 0 };
		struct kvm_sev_launch_start ls = { .policy = 0 };
		struct kvm_sev_cmd setup_cmd = { .sev_fd = 100 };
		uint8_t tmp[sizeof(init) + sizeof(setup_cmd)];
		struct fuzz_mem tm;

		/* INIT (or INIT2) and LAUNCH_START through the same path. */
		fuzz_mem_init(&tm, tmp, sizeof(tmp));
		c.mem = &tm.mem;
		setup_cmd.id = buf[sizeof(cmd)] & 1 ? 22 : KVM_SEV_INIT;
		setup_cmd.data = FUZZ_BASE + sizeof(setup_cmd);
		memcpy(tmp, &setup_cmd, sizeof(setup_cmd));
		memcpy(tmp + sizeof(setup_cmd), &init, sizeof(init));
		kvm_vm_mem_enc_op(vm, &c, FUZZ_BASE);
		setup_cmd.id = KVM_SEV_LAUNCH_START;
		ls.policy = buf[sizeof(cmd)] & 1 ? 4 : 0;
		memcpy(tmp, &setup_cmd, sizeof(setup_cmd));
		memcpy(tmp + sizeof(setup_cmd), &ls, sizeof(ls));
		if (buf[sizeof(cmd) + 1] & 1)
			kvm_vm_mem_enc_op(vm, &c, FUZZ_BASE);
		c.mem = &m.mem;
	}
	memcpy(&cmd, buf, sizeof(cmd));
	cmd.id %= 26;
	cmd.data = fuzz_addr(cmd.data, size);
	cmd.sev_fd = cmd.sev_fd & 1 ? 100 : cmd.sev_fd;
	memcpy(buf, &cmd, sizeof(cmd));
	memcpy(words, buf + sizeof(cmd) + 2, sizeof(words));
	for (i = 0; i < 8; i++)
		if (i % 2 == 0)
			words[i] = fuzz_addr(words[i], size);
	memcpy(buf + sizeof(cmd) + 2, words, sizeof(words));
	kvm_vm_mem_enc_op(vm, &c, FUZZ_BASE);
	kvm_vm_reg_region(vm, &c, FUZZ_BASE + sizeof(cmd) + 2);
	kvm_vm_unreg_region(vm, &c, FUZZ_BASE + sizeof(cmd) + 2);
	kvm_vm_put(vm);
out:
	free(buf);
	return 0;
}
