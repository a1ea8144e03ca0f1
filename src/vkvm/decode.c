// SPDX-License-Identifier: MIT
/*
 * Finding the instruction a hook was called for.  The engine writes RIP
 * back only when a chain of translated blocks ends, so a port or MMIO
 * hook cannot read it; the block hook tells where the running block
 * began, and Capstone decodes from there.  Blocks are straight-line code:
 * the n-th port access is the n-th port instruction, and an MMIO access
 * belongs to the first instruction whose memory operand, computed from
 * the registers (which the engine keeps exact at every access), is there.
 */
#include <errno.h>
#include <stdlib.h>
#include <capstone/capstone.h>

#include "vkvm_internal.h"

static bool is_io(unsigned int id)
{
	switch (id) {
	case X86_INS_IN:
	case X86_INS_OUT:
	case X86_INS_INSB:
	case X86_INS_INSW:
	case X86_INS_INSD:
	case X86_INS_OUTSB:
	case X86_INS_OUTSW:
	case X86_INS_OUTSD:
		return true;
	}
	return false;
}

/* Capstone's register ids, and the engine's, for an address operand. */
static const struct {
	x86_reg cs;
	int uc;
} regmap[] = {
#define R(n) { X86_REG_##n, UC_X86_REG_##n }
	R(RAX),	 R(RBX),  R(RCX),  R(RDX),  R(RSI),  R(RDI),  R(RBP),
	R(RSP),	 R(R8),	  R(R9),   R(R10),  R(R11),  R(R12),  R(R13),
	R(R14),	 R(R15),  R(EAX),  R(EBX),  R(ECX),  R(EDX),  R(ESI),
	R(EDI),	 R(EBP),  R(ESP),  R(R8D),  R(R9D),  R(R10D), R(R11D),
	R(R12D), R(R13D), R(R14D), R(R15D), R(AX),   R(BX),   R(CX),
	R(DX),	 R(SI),	  R(DI),   R(BP),   R(SP),
#undef R
};

static uint64_t reg_value(struct vkvm_vcpu *v, x86_reg r,
			  const cs_insn *insn, uint64_t csbase)
{
	uint64_t val = 0;
	size_t i;

	if (r == X86_REG_INVALID)
		return 0;
	if (r == X86_REG_RIP || r == X86_REG_EIP)
		return insn->address + insn->size - csbase;
	for (i = 0; i < sizeof(regmap) / sizeof(regmap[0]); i++)
		if (regmap[i].cs == r) {
			uc_reg_read(v->uc, regmap[i].uc, &val);
			break;
		}
	return val;
}

struct walk {
	struct vkvm_vcpu *v;
	csh h;
	cs_insn *insn;
	uint64_t csbase;
	int bits;
};

/* A vCPU's decoder, opened once (opening one builds Capstone's tables). */
struct vk_cs {
	csh h;
	cs_insn *insn;
};

static struct vk_cs *decoder(struct vkvm_vcpu *v)
{
	struct vk_cs *d = v->cs;

	if (d)
		return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &d->h)) {
		free(d);
		return NULL;
	}
	cs_option(d->h, CS_OPT_DETAIL, CS_OPT_ON);
	d->insn = cs_malloc(d->h);
	if (!d->insn) {
		cs_close(&d->h);
		free(d);
		return NULL;
	}
	v->cs = d;
	return d;
}

void vk_decode_free(struct vkvm_vcpu *v)
{
	struct vk_cs *d = v->cs;

	if (!d)
		return;
	cs_free(d->insn, 1);
	cs_close(&d->h);
	free(d);
	v->cs = NULL;
}

/* Decode the block at la, calling fn on each instruction until it says. */
static int walk_block(struct vkvm_vcpu *v, uint64_t la,
		      int (*fn)(struct walk *w, void *arg), void *arg)
{
	struct vk_cs *d = decoder(v);
	struct walk w = { .v = v };
	uint8_t code[16 * 16];
	const uint8_t *p = code;
	size_t left = sizeof(code);
	uint64_t at = la, filled = la;
	int ret = -ENOENT, i;

	if (!d)
		return -ENOMEM;
	w.h = d->h;
	w.insn = d->insn;
	w.bits = vk_cpu_code_bits(v, &w.csbase);
	cs_option(w.h, CS_OPT_MODE, w.bits == 64 ? CS_MODE_64 :
				    w.bits == 32 ? CS_MODE_32 : CS_MODE_16);
	/* a block may end near unmapped memory: read what can be read */
	while (left && vk_fetch_linear(v, la, code, left))
		left /= 2;
	for (i = 0; i < 512; i++) {
		if (!left || !cs_disasm_iter(w.h, &p, &left, &at, w.insn)) {
			/* at the end of what was read: read on from here */
			if (at == filled)
				break;
			filled = at;
			left = sizeof(code);
			p = code;
			while (left && vk_fetch_linear(v, at, code, left))
				left /= 2;
			continue;
		}
		ret = fn(&w, arg);
		if (ret != -ENOENT)
			break;
	}
	return ret;
}

struct io_want {
	int n;
	struct vk_insn *out;
};

static int io_step(struct walk *w, void *arg)
{
	struct io_want *q = arg;
	const cs_x86 *x = &w->insn->detail->x86;
	unsigned int id = w->insn->id;

	if (!is_io(id) || q->n-- != 0)
		return -ENOENT;
	q->out->rip = w->insn->address - w->csbase;
	q->out->len = w->insn->size;
	q->out->string = id != X86_INS_IN && id != X86_INS_OUT;
	q->out->rep = x->prefix[0] == X86_PREFIX_REP;
	q->out->addr_bits = x->addr_size * 8;
	return 0;
}

int vk_find_io(struct vkvm_vcpu *v, uint64_t la, int n, struct vk_insn *out)
{
	struct io_want q = { n, out };

	return walk_block(v, la, io_step, &q);
}

struct io_sites {
	uint64_t end; /* linear address just past the block */
	uint64_t *out;
	int n, max;
};

static int sites_step(struct walk *w, void *arg)
{
	struct io_sites *q = arg;

	if (w->insn->address >= q->end)
		return 0;
	if (is_io(w->insn->id) && q->n < q->max)
		q->out[q->n++] = w->insn->address;
	return -ENOENT;
}

int vk_block_io(struct vkvm_vcpu *v, uint64_t la, uint32_t size,
		uint64_t *out, int max)
{
	struct io_sites q = { la + size, out, 0, max };

	walk_block(v, la, sites_step, &q);
	return q.n;
}

struct mem_want {
	uint64_t gpa;
	uint64_t *rip;
	uint64_t start; /* the operand's guest-physical address */
	unsigned int size; /* and its size */
	struct kvm_sregs s;
};

static uint64_t seg_base(const struct mem_want *q, x86_reg seg, x86_reg base,
			 int bits)
{
	switch (seg) {
	case X86_REG_FS:
		return q->s.fs.base;
	case X86_REG_GS:
		return q->s.gs.base;
	case X86_REG_ES:
		return bits == 64 ? 0 : q->s.es.base;
	case X86_REG_CS:
		return bits == 64 ? 0 : q->s.cs.base;
	case X86_REG_SS:
		return bits == 64 ? 0 : q->s.ss.base;
	default:
		break;
	}
	if (bits == 64)
		return 0;
	if (base == X86_REG_ESP || base == X86_REG_EBP || base == X86_REG_SP ||
	    base == X86_REG_BP)
		return q->s.ss.base;
	return q->s.ds.base;
}

/* A memory operand's linear address, from the registers now. */
static uint64_t op_la(const struct walk *w, const cs_x86_op *op,
		      const struct mem_want *q)
{
	uint64_t mask = w->bits == 64 ? ~0ull :
			w->bits == 32 ? 0xffffffffull : 0xffffull;
	uint64_t ea = reg_value(w->v, op->mem.base, w->insn, w->csbase) +
		      reg_value(w->v, op->mem.index, w->insn, w->csbase) *
			      (uint64_t)op->mem.scale +
		      (uint64_t)op->mem.disp;

	return (ea & mask) + seg_base(q, op->mem.segment, op->mem.base,
				      w->bits);
}

static int mem_step(struct walk *w, void *arg)
{
	struct mem_want *q = arg;
	const cs_x86 *x = &w->insn->detail->x86;
	int i;

	for (i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];
		uint64_t ea, gpa;

		if (op->type != X86_OP_MEM)
			continue;
		ea = op_la(w, op, q);
		if (vk_linear_to_gpa(w->v, ea, &gpa))
			continue;
		if (q->gpa >= gpa && q->gpa < gpa + (op->size ? op->size : 1)) {
			*q->rip = w->insn->address - w->csbase;
			q->start = gpa;
			q->size = op->size;
			return 0;
		}
	}
	return -ENOENT;
}

int vk_find_mem(struct vkvm_vcpu *v, uint64_t la, uint64_t gpa,
		uint64_t *rip, uint64_t *start, unsigned int *size)
{
	struct mem_want q = { .gpa = gpa, .rip = rip };
	int ret;

	vk_get_sregs(v, &q.s);
	ret = walk_block(v, la, mem_step, &q);
	*start = q.start;
	*size = q.size;
	return ret;
}

struct mmio_want {
	struct mem_want m; /* for its segment bases */
	bool found;
};

/* The first instruction only: has it an operand outside every memslot? */
static int mmio_step(struct walk *w, void *arg)
{
	struct mmio_want *q = arg;
	const cs_x86 *x = &w->insn->detail->x86;
	int i;

	for (i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];
		uint64_t ea, gpa;

		if (op->type != X86_OP_MEM || w->insn->id == X86_INS_LEA ||
		    w->insn->id == X86_INS_NOP)
			continue;
		ea = op_la(w, op, &q->m);
		if (!vk_linear_to_gpa(w->v, ea, &gpa) &&
		    !vk_gpa_ptr(w->v, gpa, 1))
			q->found = true;
	}
	return 0;
}

bool vk_insn_mmio(struct vkvm_vcpu *v, uint64_t la)
{
	struct mmio_want q = { .found = false };

	vk_get_sregs(v, &q.m.s);
	walk_block(v, la, mmio_step, &q);
	return q.found;
}

struct la_want {
	uint64_t page, *out;
	struct mem_want m; /* for its segment bases */
};

/* The first instruction's memory operand that touches page. */
static int la_step(struct walk *w, void *arg)
{
	struct la_want *q = arg;
	const cs_x86 *x = &w->insn->detail->x86;
	int i;

	for (i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];
		uint64_t ea, end;

		if (op->type != X86_OP_MEM)
			continue;
		ea = op_la(w, op, &q->m);
		end = ea + (op->size ? op->size : 1) - 1;
		if ((ea & ~(VK_PAGE - 1)) == q->page) {
			*q->out = ea;
			return 0;
		}
		if ((end & ~(VK_PAGE - 1)) == q->page) {
			*q->out = q->page; /* it crosses into page */
			return 0;
		}
	}
	return -EINVAL; /* only the first instruction */
}

int vk_insn_mem_la(struct vkvm_vcpu *v, uint64_t la, uint64_t page,
		   uint64_t *out)
{
	struct la_want q = { .page = page, .out = out };

	vk_get_sregs(v, &q.m.s);
	return walk_block(v, la, la_step, &q);
}

struct hlt_want {
	uint64_t end; /* linear address just past the block */
	bool hlt;
};

static int hlt_step(struct walk *w, void *arg)
{
	struct hlt_want *q = arg;
	uint64_t next = w->insn->address + w->insn->size;

	if (next < q->end)
		return -ENOENT;
	q->hlt = next == q->end && w->insn->id == X86_INS_HLT;
	return 0;
}

bool vk_block_ends_in_hlt(struct vkvm_vcpu *v, uint64_t la, uint32_t size,
			  uint64_t rip)
{
	struct hlt_want q = { la + size, false };
	uint64_t csbase;

	vk_cpu_code_bits(v, &csbase);
	if (!size || csbase + rip != la + size)
		return false;
	walk_block(v, la, hlt_step, &q);
	return q.hlt;
}
