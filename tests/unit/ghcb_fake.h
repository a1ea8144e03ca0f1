/* SPDX-License-Identifier: MIT */
/*
 * A fake of vkvm's VMGEXIT services (the end of src/vkvm/vkvm.h) for
 * driving src/shim/ghcb.c without an emulator: guest memory is an array
 * at GPA 0, CPUID and MSRs are small tables, port I/O and MMIO exits are
 * recorded in kvm_run, and the completion is kept for the test to run as
 * the next KVM_RUN would.  Include it in one file per program.
 */
#ifndef SOFTSEV_GHCB_FAKE_H
#define SOFTSEV_GHCB_FAKE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <linux/kvm.h>

#include "ghcb.h"
#include "vkvm.h"

#define FAKE_MEM (64 * 1024)
#define FAKE_OUT_EVENTFD_PORT 0x80 /* an OUT here is taken in "the kernel" */
#define FAKE_MMIO_EVENTFD 0xfee00000ull /* an 8-byte write here too */
#define FAKE_MSR_OK 0x10u /* the one MSR that reads and writes */

struct vkvm_gexit {
	int vcpu_id;
	uint64_t gmsr;
	struct kvm_run run;
	uint8_t pio[4096];
	uint8_t mem[FAKE_MEM];
	bool unmappable; /* vkvm_gexit_map() fails */
	vkvm_gexit_fn complete;
	void *complete_opaque;
	uint64_t msr_value;
	unsigned int pio_calls, mmio_calls, eventfd_outs, eventfd_mmio;
	unsigned int completes_set;
};

int vkvm_gexit_vcpu_id(const struct vkvm_gexit *g)
{
	return g->vcpu_id;
}

struct kvm_run *vkvm_gexit_run(struct vkvm_gexit *g)
{
	return &g->run;
}

uint64_t vkvm_gexit_get_gmsr(const struct vkvm_gexit *g)
{
	return g->gmsr;
}

void vkvm_gexit_set_gmsr(struct vkvm_gexit *g, uint64_t value)
{
	g->gmsr = value;
}

static bool fake_in_mem(uint64_t gpa, size_t len)
{
	return gpa < FAKE_MEM && len <= FAKE_MEM - gpa;
}

int vkvm_gexit_read(struct vkvm_gexit *g, uint64_t gpa, void *buf, size_t len)
{
	if (!fake_in_mem(gpa, len))
		return -EFAULT;
	memcpy(buf, g->mem + gpa, len);
	return 0;
}

int vkvm_gexit_write(struct vkvm_gexit *g, uint64_t gpa, const void *buf,
		     size_t len)
{
	if (!fake_in_mem(gpa, len))
		return -EFAULT;
	memcpy(g->mem + gpa, buf, len);
	return 0;
}

void *vkvm_gexit_map(struct vkvm_gexit *g, uint64_t gpa)
{
	gpa &= ~4095ull;
	if (g->unmappable || !fake_in_mem(gpa, 4096))
		return NULL;
	return g->mem + gpa;
}

/* CPUID: each register names its leaf and subleaf */
void vkvm_gexit_cpuid(struct vkvm_gexit *g, uint64_t r[4])
{
	uint32_t leaf = (uint32_t)r[0], sub = (uint32_t)r[2];

	(void)g;
	r[0] = 0xa0000000u | leaf;
	r[1] = 0xb0000000u | leaf;
	r[2] = 0xc0000000u | sub;
	r[3] = 0xd0000000u | leaf;
}

int vkvm_gexit_rdmsr(struct vkvm_gexit *g, uint32_t index, uint64_t *data)
{
	if (index != FAKE_MSR_OK)
		return 1;
	*data = g->msr_value;
	return 0;
}

int vkvm_gexit_wrmsr(struct vkvm_gexit *g, uint32_t index, uint64_t data)
{
	if (index != FAKE_MSR_OK)
		return 1;
	g->msr_value = data;
	return 0;
}

int vkvm_gexit_pio(struct vkvm_gexit *g, bool in, uint16_t port, int size,
		   uint32_t count, const void *out)
{
	g->pio_calls++;
	/* as vkvm: "must fit the page", and only sizes 1, 2 and 4 */
	if (size != 1 && size != 2 && size != 4)
		return -EINVAL;
	if ((size_t)size * count > sizeof(g->pio) || !count)
		return -EINVAL;
	if (!in)
		memcpy(g->pio, out, (size_t)size * count);
	if (!in && port == FAKE_OUT_EVENTFD_PORT) {
		g->eventfd_outs++;
		return 1;
	}
	memset(&g->run.io, 0, sizeof(g->run.io));
	g->run.exit_reason = KVM_EXIT_IO;
	g->run.io.direction = in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	g->run.io.size = (uint8_t)size;
	g->run.io.port = port;
	g->run.io.count = count;
	g->run.io.data_offset = 4096;
	return 0;
}

void *vkvm_gexit_pio_data(struct vkvm_gexit *g)
{
	return g->pio;
}

int vkvm_gexit_mmio(struct vkvm_gexit *g, bool write, uint64_t gpa,
		    unsigned int len, const void *data)
{
	g->mmio_calls++;
	if (!len || len > 8)
		return -EINVAL;
	if (write && gpa == FAKE_MMIO_EVENTFD && len == 8) {
		g->eventfd_mmio++;
		return 1;
	}
	g->run.exit_reason = KVM_EXIT_MMIO;
	g->run.mmio.phys_addr = gpa;
	g->run.mmio.len = len;
	g->run.mmio.is_write = write;
	if (write)
		memcpy(g->run.mmio.data, data, len);
	return 0;
}

void vkvm_gexit_complete(struct vkvm_gexit *g, vkvm_gexit_fn fn, void *opaque)
{
	g->complete = fn;
	g->complete_opaque = opaque;
	g->completes_set++;
}

static vkvm_gexit_fn fake_protected_fn;
static void *fake_protected_opaque;
static void (*fake_protected_release)(void *opaque);

int vkvm_set_protected(int fd, unsigned int vector, uint32_t gmsr,
		       vkvm_gexit_fn fn, void (*release)(void *opaque),
		       void *opaque)
{
	if (fd < 0 || vector != 29 || gmsr != 0xc0010130u)
		return -EINVAL;
	fake_protected_fn = fn;
	fake_protected_release = release;
	fake_protected_opaque = opaque;
	return 0;
}

/* The next KVM_RUN: the completion, if any (1 if none was set). */
static inline int fake_complete(struct vkvm_gexit *g)
{
	vkvm_gexit_fn fn = g->complete;

	g->complete = NULL;
	return fn ? fn(g->complete_opaque, g) : 1;
}

#endif
