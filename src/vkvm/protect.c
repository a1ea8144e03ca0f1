// SPDX-License-Identifier: MIT
/*
 * Protected guests: the CPU's part of SEV-ES, for the layer above.
 *
 * On an EPYC an SEV-ES guest's intercepts that need the hypervisor to see
 * its state (non-automatic exits) raise #VC in the guest instead; the
 * guest's handler asks the hypervisor through the GHCB and VMGEXIT.  Here
 * the engine's own SVM-guest checks stop most instructions (cpu.c, msr.c:
 * intercept bits) and the INTR hook turns each into exception `vector`
 * with the exit code as error code.  The engine checks no port intercept
 * (its translator skips the I/O permission check) and takes VMMCALL
 * without EFER.SVME as #UD, so port I/O hooks and the #UD hook do the
 * same for those.  VMGEXIT calls the platform's handler outside the
 * engine, as svm_invoke_exit_handler() calls sev_handle_vmgexit().  A
 * handler's userspace exit is completed by the next KVM_RUN through the
 * completion it set (KVM's complete_userspace_io).
 */
#include <errno.h>
#include <string.h>

#include "vkvm_internal.h"

#define EXCP_VMEXIT 0x100
#define SVM_EXIT_RDPMC 0x6f
#define SVM_EXIT_CPUID 0x72
#define SVM_EXIT_INVD 0x76
#define SVM_EXIT_IOIO 0x7b
#define SVM_EXIT_MSR 0x7c
#define SVM_EXIT_VMMCALL 0x81
#define SVM_EXIT_WBINVD 0x89
#define SVM_EXIT_MONITOR 0x8a
#define SVM_EXIT_MWAIT 0x8b
#define SVM_EXIT_NPF 0x400

/* The engine's intercept bits are exit code - SVM_EXIT_INTR (0x60). */
#define ICPT(code) (1ull << ((code) - 0x60))
#define PROT_INTERCEPTS                                                   \
	(ICPT(SVM_EXIT_RDPMC) | ICPT(SVM_EXIT_CPUID) | ICPT(SVM_EXIT_INVD) | \
	 ICPT(SVM_EXIT_WBINVD) | ICPT(SVM_EXIT_MONITOR) |                   \
	 ICPT(SVM_EXIT_MWAIT))

int vkvm_set_protected(int fd, unsigned int vector, uint32_t gmsr,
		       vkvm_gexit_fn fn, void (*release)(void *opaque),
		       void *opaque)
{
	struct vkvm_vm *vm = vk_vm_of(fd);
	int ret = 0;

	if (!vm)
		return -EBADF;
	if (vector > 31 || !fn)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	if (vm->ran || vm->prot)
		ret = -EBUSY;
	if (!ret) {
		vm->prot = true;
		vm->prot_vec = vector;
		vm->prot_gmsr = gmsr;
		vm->prot_fn = fn;
		vm->prot_release = release;
		vm->prot_opaque = opaque;
	}
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

/* At a vCPU's first KVM_RUN in a protected VM: the extra intercepts. */
void vk_prot_engine(struct vkvm_vcpu *v)
{
	if (!v->vm->prot || v->prot_on)
		return;
	vk_cpu_add_intercepts(v, PROT_INTERCEPTS);
	v->gx.v = v;
	v->prot_on = true;
}

/* Raise the protected guest's exception at the instruction. */
static void reflect(struct vkvm_vcpu *v, uint64_t rip, uint32_t code)
{
	vk_cpu_resume_at(v, rip);
	v->why = VK_INTR;
	v->intno = v->vm->prot_vec;
	v->exc_err = code;
	v->exc_soft = false;
	v->exc_next = rip;
	uc_emu_stop(v->uc);
}

/*
 * The INTR hook's part: true if intno was an intercept of a protected
 * guest, turned into its exception.
 */
bool vk_prot_intercept(struct vkvm_vcpu *v, uint32_t intno)
{
	uint64_t info1, rip;
	uint32_t code = intno - EXCP_VMEXIT;

	if (!v->prot_on || intno < EXCP_VMEXIT ||
	    !(PROT_INTERCEPTS & ICPT(code)))
		return false;
	vk_cpu_vmexit_info(v, &info1, &rip);
	/* the engine reports INVD as WBINVD: tell them apart (0f 08 / 0f 09) */
	if (code == SVM_EXIT_WBINVD || code == SVM_EXIT_INVD) {
		uint8_t b[2];
		uint64_t csbase;

		vk_cpu_code_bits(v, &csbase);
		if (!vk_fetch_linear(v, csbase + rip, b, 2) && b[0] == 0x0f)
			code = b[1] == 0x08 ? SVM_EXIT_INVD : SVM_EXIT_WBINVD;
	}
	reflect(v, rip, code);
	return true;
}

/*
 * The #UD hook's part: VMGEXIT (`rep; vmmcall`) stops for the handler,
 * the guest going on after it as from a VMGEXIT's #VMEXIT; a plain
 * VMMCALL, which KVM intercepts (a hypercall), raises the exception, and
 * so do MONITOR and MWAIT, which the engine's CPU lacks (#UD) but an EPYC
 * has and KVM intercepts.
 */
bool vk_prot_invalid(struct vkvm_vcpu *v)
{
	static const uint8_t op[4] = { 0xf3, 0x0f, 0x01, 0xd9 };
	uint64_t rip, csbase;
	uint8_t b[4];

	if (!v->prot_on)
		return false;
	uc_reg_read(v->uc, UC_X86_REG_RIP, &rip);
	vk_cpu_code_bits(v, &csbase);
	if (vk_fetch_linear(v, csbase + rip, b, sizeof(b)))
		return false;
	if (!memcmp(b, op, 4)) {
		vk_cpu_resume_at(v, rip + 4);
		v->why = VK_GEXIT;
		uc_emu_stop(v->uc);
		return true;
	}
	if (b[0] != 0x0f || b[1] != 0x01)
		return false;
	switch (b[2]) {
	case 0xd9:
		reflect(v, rip, SVM_EXIT_VMMCALL);
		return true;
	case 0xc8:
		reflect(v, rip, SVM_EXIT_MONITOR);
		return true;
	case 0xc9:
		reflect(v, rip, SVM_EXIT_MWAIT);
		return true;
	}
	return false;
}

/*
 * Port I/O and MMIO.  The engine stops a port instruction only inside its
 * hook and an access outside memory only after the access failed, both
 * in the middle of a translated block: the first leaves the rest of the
 * block to run, the second leaves RIP and the lazily kept flags where the
 * block's last sync left them.  So vkvm puts a code hook on each such
 * instruction, which runs before it and stops the engine there exactly:
 * port instructions are found when their block first runs (the block is
 * then translated again with the hooks), an MMIO access when it first
 * faults (that first #VC has RIP found by decoding, the flags as the
 * engine left them).
 */
static void hook_site(uc_engine *uc, uint64_t la, uint32_t size, void *arg)
{
	struct vkvm_vcpu *v = arg;
	uint64_t csbase;
	uint32_t code;

	(void)size;
	if (!v->prot_on || v->why != VK_RUNNING)
		return;
	if (vk_block_io(v, la, 1, &csbase, 1))
		code = SVM_EXIT_IOIO;
	else if (vk_insn_mmio(v, la))
		code = SVM_EXIT_NPF;
	else
		return;
	vk_cpu_code_bits(v, &csbase);
	reflect(v, la - csbase, code);
	(void)uc;
}

static bool is_site(const struct vkvm_vcpu *v, uint64_t la)
{
	int i;

	for (i = 0; i < v->nsites; i++)
		if (v->sites[i] == la)
			return true;
	return false;
}

/* A new site; its hook is added outside the engine (vk_prot_rescan()). */
static bool add_site(struct vkvm_vcpu *v, uint64_t la)
{
	if (is_site(v, la) || v->nsites == VK_MAX_SITES)
		return false;
	v->sites[v->nsites++] = la;
	return true;
}

int vk_prot_hooks(struct vkvm_vcpu *v)
{
	uc_hook h;
	int i;

	for (i = 0; i < v->nsites; i++)
		if (uc_hook_add(v->uc, &h, UC_HOOK_CODE, hook_site, v,
				v->sites[i], v->sites[i]))
			return -ENOMEM;
	v->nhooked = v->nsites;
	return 0;
}

/* Blocks already looked at, by start address (forgotten when full). */
static bool scanned(struct vkvm_vcpu *v, uint64_t la)
{
	uint32_t h = (uint32_t)((la * 0x9e3779b97f4a7c15ull) >> 52);
	int i;

	for (i = 0; i < 8; i++) {
		uint64_t *e = &v->scanned[(h + (uint32_t)i) % VK_SCANNED];

		if (*e == la + 1)
			return true;
		if (!*e) {
			*e = la + 1;
			return false;
		}
	}
	memset(v->scanned, 0, sizeof(v->scanned));
	v->scanned[h % VK_SCANNED] = la + 1;
	return false;
}

/*
 * The block hook's part, for a block about to run: true if it holds port
 * instructions without their hooks -- the caller stops before the block.
 */
bool vk_prot_block(struct vkvm_vcpu *v, uint64_t la, uint32_t size)
{
	uint64_t io[32];
	bool added = false;
	int i, n;

	if (!v->prot_on || scanned(v, la))
		return false;
	n = vk_block_io(v, la, size, io, 32);
	for (i = 0; i < n; i++)
		added |= add_site(v, io[i]);
	if (added) {
		v->rescan_la = la;
		v->rescan_size = size;
	}
	return added;
}

/* Outside the engine: hooks for the new sites; their blocks retranslated. */
int vk_prot_rescan(struct vkvm_vcpu *v)
{
	uc_hook h;

	for (; v->nhooked < v->nsites; v->nhooked++) {
		uint64_t la = v->sites[v->nhooked];

		if (uc_hook_add(v->uc, &h, UC_HOOK_CODE, hook_site, v, la, la))
			return -ENOMEM;
		uc_ctl_remove_cache(v->uc, la, la + 1);
	}
	if (v->rescan_size)
		uc_ctl_remove_cache(v->uc, v->rescan_la,
				    v->rescan_la + v->rescan_size);
	v->rescan_size = 0;
	return 0;
}

/*
 * A port instruction's hook in a protected guest found no site there
 * (code written since its block was looked at): the engine is left
 * inside the hook and replaced (io.c), the exception raised at the
 * instruction, whose RIP the hook wrote; a site is added for next time.
 */
void vk_prot_io(struct vkvm_vcpu *v)
{
	uint64_t rip, csbase;

	uc_reg_read(v->uc, UC_X86_REG_RIP, &rip);
	vk_cpu_code_bits(v, &csbase);
	add_site(v, csbase + rip);
	v->intno = v->vm->prot_vec;
	v->exc_err = SVM_EXIT_IOIO;
	v->exc_soft = false;
	vk_leave_hook(v, VK_ABANDON);
}

/*
 * An MSR intercept in a protected guest: the vCPU's own MSR is read and
 * written without an exit; every other MSR that stops raises the
 * exception.  The platform's MSRs (SEV_STATUS) the caller answers first.
 */
bool vk_prot_msr(struct vkvm_vcpu *v, uint32_t index, bool write,
		 uint64_t *data, uint64_t rip)
{
	if (!v->prot_on)
		return false;
	if (index == v->vm->prot_gmsr) {
		if (write)
			v->gmsr = *data;
		else
			*data = v->gmsr;
		return false;
	}
	reflect(v, rip, SVM_EXIT_MSR);
	return true;
}

/* An access outside every memslot: a nested page fault, reflected. */

/*
 * An access outside every memslot faulted (the unmapped hook, before any
 * MMIO page is there): a nested page fault, reflected at the instruction
 * decoding finds; a site for next time.
 */
bool vk_prot_mmio(struct vkvm_vcpu *v, uint64_t gpa)
{
	uint64_t rip, start, csbase;
	unsigned int size;

	if (!v->prot_on)
		return false;
	if (vk_find_mem(v, v->blk, gpa, &rip, &start, &size))
		uc_reg_read(v->uc, UC_X86_REG_RIP, &rip);
	vk_cpu_code_bits(v, &csbase);
	add_site(v, csbase + rip);
	v->why = VK_INTR;
	v->intno = v->vm->prot_vec;
	v->exc_err = SVM_EXIT_NPF;
	v->exc_soft = false;
	v->exc_rip = rip;
	v->exc_at_rip = true;
	return true;
}

/* The run loop's part: a VMGEXIT, or a completion, returns like KVM_RUN. */
static long gexit_result(struct vkvm_vcpu *v, int r)
{
	if (r > 0)
		return 1;
	if (!r)
		v->why = VK_EXIT;
	return r;
}

long vk_prot_gexit(struct vkvm_vcpu *v)
{
	v->why = VK_RUNNING;
	return gexit_result(v, v->vm->prot_fn(v->vm->prot_opaque, &v->gx));
}

long vk_prot_complete(struct vkvm_vcpu *v)
{
	vkvm_gexit_fn fn = v->cui;

	if (!fn)
		return 1;
	v->cui = NULL;
	return gexit_result(v, fn(v->cui_opaque, &v->gx));
}

/* --- what a handler may do --- */

int vkvm_gexit_vcpu_id(const struct vkvm_gexit *g)
{
	return g->v->id;
}

struct kvm_run *vkvm_gexit_run(struct vkvm_gexit *g)
{
	return g->v->run;
}

uint64_t vkvm_gexit_get_gmsr(const struct vkvm_gexit *g)
{
	return g->v->gmsr;
}

void vkvm_gexit_set_gmsr(struct vkvm_gexit *g, uint64_t value)
{
	g->v->gmsr = value;
}

/* Byte ranges may cross memslots: page by page, as kvm_read_guest(). */
static int guest_rw(struct vkvm_vcpu *v, uint64_t gpa, void *buf,
		    size_t len, bool write)
{
	uint8_t *b = buf;

	while (len) {
		size_t n = VK_PAGE - (gpa & (VK_PAGE - 1));
		void *p;

		if (n > len)
			n = len;
		p = vk_gpa_ptr(v, gpa, n);
		if (!p)
			return -EFAULT;
		if (write)
			memcpy(p, b, n);
		else
			memcpy(b, p, n);
		gpa += n;
		b += n;
		len -= n;
	}
	return 0;
}

int vkvm_gexit_read(struct vkvm_gexit *g, uint64_t gpa, void *buf,
		    size_t len)
{
	return guest_rw(g->v, gpa, buf, len, false);
}

int vkvm_gexit_write(struct vkvm_gexit *g, uint64_t gpa, const void *buf,
		     size_t len)
{
	return guest_rw(g->v, gpa, (void *)buf, len, true);
}

void *vkvm_gexit_map(struct vkvm_gexit *g, uint64_t gpa)
{
	return vk_gpa_ptr(g->v, gpa & ~(VK_PAGE - 1), VK_PAGE);
}

void vkvm_gexit_cpuid(struct vkvm_gexit *g, uint64_t r[4])
{
	vk_cpuid(g->v, r);
}

int vkvm_gexit_rdmsr(struct vkvm_gexit *g, uint32_t index, uint64_t *data)
{
	return vk_guest_rdmsr(g->v, index, data);
}

int vkvm_gexit_wrmsr(struct vkvm_gexit *g, uint32_t index, uint64_t data)
{
	return vk_guest_wrmsr(g->v, index, data);
}

void *vkvm_gexit_pio_data(struct vkvm_gexit *g)
{
	return (uint8_t *)g->v->run + VK_PIO_OFFSET;
}

int vkvm_gexit_pio(struct vkvm_gexit *g, bool in, uint16_t port, int size,
		   uint32_t count, const void *out)
{
	struct kvm_run *run = g->v->run;
	uint32_t val = 0;

	if (size != 1 && size != 2 && size != 4)
		return -EINVAL;
	if (!count || (uint64_t)count * (uint64_t)size > VK_PAGE)
		return -EINVAL;
	/* kernel_pio(): an OUT of one element an ioeventfd takes */
	if (!in && count == 1) {
		memcpy(&val, out, (size_t)size);
		if (vk_ioeventfd_signal(g->v->vm, true, port, (uint32_t)size,
					val))
			return 1;
	}
	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run->io.size = (uint8_t)size;
	run->io.port = port;
	run->io.count = count;
	run->io.data_offset = VK_PIO_OFFSET;
	if (!in)
		memcpy(vkvm_gexit_pio_data(g), out, (size_t)count * (size_t)size);
	return 0;
}

int vkvm_gexit_mmio(struct vkvm_gexit *g, bool write, uint64_t gpa,
		    unsigned int len, const void *data)
{
	struct kvm_run *run = g->v->run;
	uint64_t val = 0;

	if (!len || len > 8)
		return -EINVAL;
	if (write) {
		memcpy(&val, data, len);
		if (vk_ioeventfd_signal(g->v->vm, false, gpa, len, val))
			return 1;
	}
	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = len;
	run->mmio.is_write = write;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (write)
		memcpy(run->mmio.data, data, len);
	return 0;
}

void vkvm_gexit_complete(struct vkvm_gexit *g, vkvm_gexit_fn fn,
			 void *opaque)
{
	g->v->cui = fn;
	g->v->cui_opaque = opaque;
}
