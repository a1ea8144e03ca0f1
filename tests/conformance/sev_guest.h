/* SPDX-License-Identifier: MIT */
/*
 * What conf_sev.c, conf_sev_es.c, conf_ghcb.c and conf_strict.c share: an
 * SEV VM set up as a VMM sets one up (its memory with the guest in it,
 * the host's CPUID passed on, vCPU 0 in long mode at CODE_GPA) and taken
 * down.  The launch and the checks are each program's own.
 */
#ifndef SOFTSEV_SEV_GUEST_H
#define SOFTSEV_SEV_GUEST_H

#include "conf.h"
#include "guests.h"
#include "lm.h"

#define SG_MAX_CPUID 256

struct sev_guest {
	int kvm, sev, vm, fd;
	uint8_t *mem;
	long run_size;
	struct kvm_run *run;
	struct kvm_cpuid2 *cpuid;
	const struct kvm_cpuid_entry2 *leaf; /* 0x8000001F as set */
};

/* /dev/kvm, /dev/sev, a VM of type; KVM_SEV_INIT2 with init, if any. */
static inline void sg_vm(struct sev_guest *g, unsigned long type,
			 struct kvm_sev_init_v *init)
{
	g->kvm = kvm_open();
	g->sev = sev_open();
	g->vm = vm_new(g->kvm, type);
	if (init)
		assert_ok(sev_op(g->vm, KVM_SEV_INIT2_ID, init, g->sev, NULL));
}

/* The VM's memory, GUEST_MEM_SIZE of it, not yet its memslot. */
static inline void sg_mmap(struct sev_guest *g)
{
	g->mem = mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(g->mem != MAP_FAILED);
}

/* The tables (cbit on every entry), guest [start, end) at CODE_GPA. */
static inline void sg_load(struct sev_guest *g, const uint8_t *start,
			   const uint8_t *end, uint64_t cbit)
{
	lm_tables(g->mem, cbit);
	memcpy(g->mem + CODE_GPA, start, (size_t)(end - start));
}

/* The memory as memslot 0. */
static inline void sg_slot(struct sev_guest *g)
{
	struct kvm_userspace_memory_region r = {
		.userspace_addr = (uintptr_t)g->mem,
		.memory_size = GUEST_MEM_SIZE,
	};

	assert_ok(ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &r));
}

/* The VM's memory with guest [start, end) and the plain tables in it. */
static inline void sg_mem(struct sev_guest *g, const uint8_t *start,
			  const uint8_t *end)
{
	sg_mmap(g);
	sg_load(g, start, end, 0);
	sg_slot(g);
}

/*
 * The host's CPUID as a VMM passes it on (a table made anew each time),
 * and its SEV leaf.
 */
static inline const struct kvm_cpuid_entry2 *sg_cpuid(struct sev_guest *g)
{
	uint32_t i;

	free(g->cpuid);
	g->cpuid =
		calloc(1, sizeof(*g->cpuid) +
				  SG_MAX_CPUID * sizeof(g->cpuid->entries[0]));
	assert_non_null(g->cpuid);
	g->cpuid->nent = SG_MAX_CPUID;
	assert_ok(ioctl(g->kvm, KVM_GET_SUPPORTED_CPUID, g->cpuid));
	g->leaf = NULL;
	for (i = 0; i < g->cpuid->nent && !g->leaf; i++)
		if (g->cpuid->entries[i].function == 0x8000001f)
			g->leaf = &g->cpuid->entries[i];
	if (!g->leaf)
		fail_msg("no CPUID 0x8000001F in KVM_GET_SUPPORTED_CPUID");
	return g->leaf;
}

/*
 * vCPU 0 (kvm_run mapped, the CPUID table set) in 64-bit mode at
 * CODE_GPA, %rdi = rdi.
 */
static inline void sg_vcpu(struct sev_guest *g, uint64_t rdi)
{
	g->run_size = ioctl(g->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	g->fd = vcpu_new(g->vm, 0, g->run_size, &g->run);
	assert_ok(ioctl(g->fd, KVM_SET_CPUID2, g->cpuid));
	lm_start(g->fd, 0, rdi);
}

static inline void sg_down(struct sev_guest *g)
{
	munmap(g->run, (size_t)g->run_size);
	close(g->fd);
	close(g->vm);
	close(g->sev);
	close(g->kvm);
	munmap(g->mem, GUEST_MEM_SIZE);
	free(g->cpuid);
}

/* The next exit is port I/O (direction dir) on port: its data. */
static inline uint8_t *sg_io(struct sev_guest *g, uint8_t dir, uint16_t port,
			     uint8_t size)
{
	struct kvm_run *r = g->run;

	assert_ok(ioctl(g->fd, KVM_RUN, 0));
	if (r->exit_reason != KVM_EXIT_IO || r->io.port != port)
		print_message("# exit %u port %#x, wanted %s on %#x\n",
			      r->exit_reason, r->io.port,
			      dir == KVM_EXIT_IO_OUT ? "OUT" : "IN", port);
	assert_int_equal(r->exit_reason, KVM_EXIT_IO);
	assert_int_equal(r->io.direction, dir);
	assert_int_equal(r->io.port, port);
	assert_int_equal(r->io.size, size);
	return (uint8_t *)r + r->io.data_offset;
}

/* The next exit is an OUT on port: its value. */
static inline uint32_t sg_out(struct sev_guest *g, uint16_t port, uint8_t size)
{
	uint32_t v = 0;

	memcpy(&v, sg_io(g, KVM_EXIT_IO_OUT, port, size), size);
	return v;
}

#endif
