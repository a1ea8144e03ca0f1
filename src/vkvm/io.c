// SPDX-License-Identifier: MIT
/*
 * Port I/O exits, and finishing an exit the VMM no longer waits for.
 *
 * A port instruction's hook fills kvm_run and waits on the engine's own
 * stack (run.c) for the next KVM_RUN, which hands it the VMM's data.  As
 * in KVM, RIP stays at the instruction until then (found by decode.c),
 * and an INS with REP reads ahead: one exit brings in up to 1024 bytes
 * (pio_in_emulated()); OUTS exits per element, as KVM's emulator does.
 *
 * When the VMM changes the vCPU's state while an exit waits inside the
 * engine, or asks for immediate_exit, the waiting engine cannot be told
 * to stop after the instruction: it is replaced by a fresh one holding
 * the same state (RIP at the instruction), and the next KVM_RUN completes
 * a plain IN or OUT as complete_fast_pio_{in,out}() do -- if RIP is still
 * the instruction's, IN's data goes to RAX and RIP moves past it.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "vkvm_internal.h"

static uint8_t *pio_data(struct vkvm_vcpu *v)
{
	return (uint8_t *)v->run + VK_PIO_OFFSET;
}

/* The instruction a port hook runs for: its RIP, written to the state. */
static void sync_io_rip(struct vkvm_vcpu *v, struct vk_insn *insn)
{
	memset(insn, 0, sizeof(*insn));
	insn->len = -1;
	if (!vk_find_io(v, v->blk, v->blk_io++, insn))
		vk_cpu_set_rip(v, insn->rip);
}

/*
 * The same for an MMIO access: the instruction whose operand is there.
 * Returns the operand's size when the access is the first half of an
 * 8-byte operand at gpa (the emulator splits those in two), else 0.
 */
unsigned int vk_sync_mem_rip(struct vkvm_vcpu *v, uint64_t gpa)
{
	uint64_t rip, start;
	unsigned int size;

	if (vk_find_mem(v, v->blk, gpa, &rip, &start, &size))
		return 0;
	vk_cpu_set_rip(v, rip);
	return size == 8 && start == gpa ? 8 : 0;
}

static void io_exit(struct vkvm_vcpu *v, bool in, uint32_t port, int size,
		    uint32_t count)
{
	struct kvm_run *run = v->run;

	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run->io.size = (uint8_t)size;
	run->io.port = (uint16_t)port;
	run->io.count = count;
	run->io.data_offset = VK_PIO_OFFSET;
}

/* pio_in_emulated(): how many elements one INS exit reads ahead. */
static uint32_t ins_count(struct vkvm_vcpu *v, const struct vk_insn *insn,
			  int size)
{
	uint64_t rcx = 1, rdi = 0, fl = 0, mask, in_page, n;

	if (!insn->string)
		return 1;
	mask = insn->addr_bits == 64 ? ~0ull :
	       insn->addr_bits == 16 ? 0xffffull : 0xffffffffull;
	if (insn->rep) {
		uc_reg_read(v->uc, UC_X86_REG_RCX, &rcx);
		rcx &= mask;
	}
	uc_reg_read(v->uc, UC_X86_REG_RDI, &rdi);
	uc_reg_read(v->uc, UC_X86_REG_RFLAGS, &fl);
	in_page = (fl & (1u << 10)) ? (rdi & (VK_PAGE - 1)) :
				      VK_PAGE - (rdi & (VK_PAGE - 1));
	n = in_page;
	if (n > 1024u / (unsigned int)size)
		n = 1024u / (unsigned int)size;
	if (n > rcx)
		n = rcx;
	if (insn->rep && (fl & (1u << 10)))
		n = 1; /* backwards: KVM reads one at a time */
	return n ? (uint32_t)n : 1;
}

static uint32_t hook_in(uc_engine *uc, uint32_t port, int size, void *arg)
{
	struct vkvm_vcpu *v = arg;
	struct vk_insn insn;
	uint32_t val = 0, count;

	(void)uc;
	if (v->ins_pos < v->ins_end && v->ins_size == size) {
		memcpy(&val, v->ins_buf + v->ins_pos, (size_t)size);
		v->ins_pos += size;
		return val;
	}
	v->ins_pos = v->ins_end = 0;
	sync_io_rip(v, &insn);
	if (v->prot_on)
		vk_prot_io(v); /* does not return */
	count = ins_count(v, &insn, size);
	io_exit(v, true, port, size, count);
	v->pio = (struct vk_pio){ true, true, size, insn };
	vk_exit_and_wait(v);
	v->pio.valid = false;
	if (count > 1) {
		memcpy(v->ins_buf, pio_data(v), count * (size_t)size);
		v->ins_pos = size;
		v->ins_end = (int)count * size;
		v->ins_size = size;
	}
	memcpy(&val, pio_data(v), (size_t)size);
	return val;
}

static void hook_out(uc_engine *uc, uint32_t port, int size, uint32_t value,
		     void *arg)
{
	struct vkvm_vcpu *v = arg;
	struct vk_insn insn;

	(void)uc;
	if (v->prot_on) {
		sync_io_rip(v, &insn);
		vk_prot_io(v); /* does not return */
	}
	if (vk_ioeventfd_signal(v->vm, true, port, (uint32_t)size, value))
		return;
	sync_io_rip(v, &insn);
	io_exit(v, false, port, size, 1);
	memcpy(pio_data(v), &value, (size_t)size);
	v->pio = (struct vk_pio){ true, false, size, insn };
	vk_exit_and_wait(v);
	v->pio.valid = false;
}

int vk_io_hooks(struct vkvm_vcpu *v)
{
	uc_hook h;

	if (uc_hook_add(v->uc, &h, UC_HOOK_INSN, hook_in, v, 1, 0,
			UC_X86_INS_IN) ||
	    uc_hook_add(v->uc, &h, UC_HOOK_INSN, hook_out, v, 1, 0,
			UC_X86_INS_OUT))
		return -ENOMEM;
	return 0;
}

/*
 * The exit waiting in the engine will not be resumed: move the state to
 * a new engine and remember what the next KVM_RUN must complete.
 */
int vk_abandon(struct vkvm_vcpu *v)
{
	uc_engine *old;
	int ret;

	if (!v->in_hook)
		return 0;
	ret = vk_cpu_replace(v, &old);
	if (ret)
		return ret;
	/* string I/O and MMIO run again from the instruction instead */
	v->complete = v->pio;
	if (v->complete.insn.string || v->complete.insn.len <= 0)
		v->complete.valid = false;
	v->pio.valid = false;
	v->in_hook = false;
	v->ins_pos = v->ins_end = 0;
	vk_run_reset(v);
	ret = vk_run_hooks(v);
	/* the old engine is suspended inside a hook: it is never resumed */
	uc_close(old);
	return ret;
}

/* complete_fast_pio_in() / complete_fast_pio_out() */
void vk_complete_pio(struct vkvm_vcpu *v)
{
	struct vk_pio *c = &v->complete;
	uint64_t rip, rax;

	if (!c->valid)
		return;
	c->valid = false;
	uc_reg_read(v->uc, UC_X86_REG_RIP, &rip);
	if (rip != c->insn.rip)
		return; /* the VMM moved RIP: the instruction is dropped */
	if (c->in) {
		uc_reg_read(v->uc, UC_X86_REG_RAX, &rax);
		if (c->size == 4)
			rax = 0;
		memcpy(&rax, pio_data(v), (size_t)c->size);
		uc_reg_write(v->uc, UC_X86_REG_RAX, &rax);
	}
	rip += (uint64_t)c->insn.len;
	uc_reg_write(v->uc, UC_X86_REG_RIP, &rip);
}
