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
	reflect(v, rip, code);
	return true;
}

/*
 * The #UD hook's part: VMGEXIT (`rep; vmmcall`) stops for the handler,
 * the guest going on after it as from a VMGEXIT's #VMEXIT; a plain
 * VMMCALL, which KVM intercepts (a hypercall), raises the exception.
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
	if (vk_read_linear(v, csbase + rip, b, sizeof(b)))
		return false;
	if (!memcmp(b, op, 4)) {
		vk_cpu_resume_at(v, rip + 4);
		v->why = VK_GEXIT;
		uc_emu_stop(v->uc);
		return true;
	}
	if (memcmp(b, op + 1, 3))
		return false;
	reflect(v, rip, SVM_EXIT_VMMCALL);
	return true;
}

/* IN, OUT, INS, OUTS after their prefixes. */
static bool is_port_insn(const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t c = b[i];

		if (c == 0x66 || c == 0x67 || c == 0xf2 || c == 0xf3 ||
		    c == 0x26 || c == 0x2e || c == 0x36 || c == 0x3e ||
		    c == 0x64 || c == 0x65 || (c >= 0x40 && c <= 0x4f))
			continue;
		return (c >= 0xe4 && c <= 0xe7) || (c >= 0xec && c <= 0xef) ||
		       (c >= 0x6c && c <= 0x6f);
	}
	return false;
}

/*
 * A code hook on an address where a port instruction was met: it runs
 * before the instruction, and a stop from it is immediate, so the
 * exception is raised there without the rest of the block running.
 */
static void hook_io_site(uc_engine *uc, uint64_t la, uint32_t size,
			 void *arg)
{
	struct vkvm_vcpu *v = arg;
	uint64_t csbase;
	uint8_t b[15];

	if (!v->prot_on || v->why != VK_RUNNING || size > sizeof(b) ||
	    vk_read_linear(v, la, b, size) || !is_port_insn(b, size))
		return;
	vk_cpu_code_bits(v, &csbase);
	reflect(v, la - csbase, SVM_EXIT_IOIO);
	(void)uc;
}

int vk_prot_hooks(struct vkvm_vcpu *v)
{
	uc_hook h;
	int i;

	for (i = 0; i < v->nio_sites; i++)
		if (uc_hook_add(v->uc, &h, UC_HOOK_CODE, hook_io_site, v,
				v->io_sites[i], v->io_sites[i]))
			return -ENOMEM;
	return 0;
}

/*
 * A port instruction in a protected guest, inside its port hook: the
 * engine cannot be stopped before the rest of the block runs, so it is
 * left there and replaced (io.c), and the exception is raised at the
 * instruction, whose RIP the hook has written.  That costs milliseconds;
 * the new engine gets a code hook at the instruction (hook_io_site), so
 * each place that does port I/O pays it once.
 */
void vk_prot_io(struct vkvm_vcpu *v)
{
	uint64_t rip, csbase;

	uc_reg_read(v->uc, UC_X86_REG_RIP, &rip);
	vk_cpu_code_bits(v, &csbase);
	if (v->nio_sites < VK_MAX_IO_SITES)
		v->io_sites[v->nio_sites++] = csbase + rip;
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
bool vk_prot_mmio(struct vkvm_vcpu *v)
{
	if (!v->prot_on)
		return false;
	v->why = VK_INTR;
	v->intno = v->vm->prot_vec;
	v->exc_err = SVM_EXIT_NPF;
	v->exc_soft = false;
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
