// SPDX-License-Identifier: MIT
/*
 * Strict memory (issue 11), under `softsev run --kvm=emulated
 * --strict-memory`: an SEV guest (tests/guests/sev.S) launched the way a
 * VMM does it, whose private pages are ciphertext in the VMM's buffer
 * while the guest computes on plaintext.  Checked: LAUNCH_UPDATE_DATA
 * encrypted the image in place (DBG_DECRYPT gives it back); the guest's
 * report (its private write read back, CPUID, SEV_STATUS) arrives in
 * plaintext through its shared page; the private page and the page table
 * it wrote are ciphertext in the buffer at every exit, and DBG_DECRYPT
 * shows what it wrote; DBG_ENCRYPT reaches what the guest reads next.
 *
 * The VMM builds the guest's identity map with the C-bit on every entry,
 * as an SEV guest's own tables are: its code, tables and stack are
 * private (walks and fetches always are).
 */
#include "sev_guest.h"

#define MEASURED (128 * 1024) /* the image: tables, code, the guest's pages */

extern const uint8_t sev_start[], sev_end[], sev_priv_load[];
extern const uint8_t ghcb_start[], ghcb_end[];

#define ES_PT_GPA \
	0x1e000 /* the SEV-ES guest's page table, in the launched image */

#define GPA(label) (CODE_GPA + (uint64_t)((label)-sev_start))

struct g {
	struct sev_guest sg;
	uint64_t cbit;
	bool es; /* SEV-ES: tests/guests/ghcb.S, its GHCB page shared */
};

static void load(struct g *g)
{
	/* the first 2 MiB by 4 KiB pages: all private but the GHCB */
	uint64_t *pd = (uint64_t *)(g->sg.mem + PD_GPA);
	uint64_t *pt = (uint64_t *)(g->sg.mem + ES_PT_GPA);
	uint64_t i;

	if (!g->es) {
		sg_load(&g->sg, sev_start, sev_end, g->cbit);
		return;
	}
	lm_tables(g->sg.mem, g->cbit);
	pd[0] = ES_PT_GPA | PTE_P | PTE_RW | g->cbit;
	for (i = 0; i < 512; i++)
		pt[i] = (i << 12) | PTE_P | PTE_RW |
			(i << 12 == GHCB_GPA ? 0 : g->cbit);
	memcpy(g->sg.mem + CODE_GPA, ghcb_start,
	       (size_t)(ghcb_end - ghcb_start));
}

static void up(struct g *g)
{
	struct kvm_sev_init_v init = { 0 };

	g->sg.kvm = kvm_open();
	g->sg.sev = sev_open();
	g->cbit = 1ull << (sg_cpuid(&g->sg)->ebx & 63);
	g->sg.vm = vm_new(g->sg.kvm, g->es ? VM_SEV_ES : VM_SEV);
	assert_ok(sev_op(g->sg.vm, KVM_SEV_INIT2_ID, &init, g->sg.sev, NULL));
	sg_mmap(&g->sg);
	load(g);
	sg_slot(&g->sg);
}

static uint32_t out(struct g *g, uint16_t port, uint8_t size)
{
	return sg_out(&g->sg, port, size);
}

static uint32_t at(struct g *g, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, g->sg.mem + gpa, 4);
	return v;
}

/* DBG_DECRYPT of len bytes (a multiple of 16) of guest memory at gpa. */
static void dbg_decrypt(struct g *g, uint64_t gpa, void *out_buf, uint32_t len)
{
	struct kvm_sev_dbg d = { .src_uaddr = (uintptr_t)(g->sg.mem + gpa),
				 .dst_uaddr = (uintptr_t)out_buf,
				 .len = len };

	assert_ok(sev_op(g->sg.vm, KVM_SEV_DBG_DECRYPT, &d, g->sg.sev, NULL));
}

static uint32_t plain(struct g *g, uint64_t gpa)
{
	uint8_t buf[16];
	uint32_t v;

	dbg_decrypt(g, gpa & ~15ull, buf, 16);
	memcpy(&v, buf + (gpa & 15), 4);
	return v;
}

static void launch(struct g *g)
{
	struct kvm_sev_launch_start ls = { .policy = g->es ? 0x4 : 0 };
	struct kvm_sev_launch_update_data up = {
		.uaddr = (uintptr_t)g->sg.mem,
		.len = MEASURED,
	};
	uint8_t digest[48];
	struct kvm_sev_launch_measure m = { .uaddr = (uintptr_t)digest,
					    .len = sizeof(digest) };

	assert_ok(sev_op(g->sg.vm, KVM_SEV_LAUNCH_START, &ls, g->sg.sev, NULL));
	assert_ok(sev_op(g->sg.vm, KVM_SEV_LAUNCH_UPDATE_DATA, &up, g->sg.sev,
			 NULL));
	if (g->es)
		assert_ok(sev_op(g->sg.vm, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL,
				 g->sg.sev, NULL));
	assert_ok(
		sev_op(g->sg.vm, KVM_SEV_LAUNCH_MEASURE, &m, g->sg.sev, NULL));
	assert_ok(
		sev_op(g->sg.vm, KVM_SEV_LAUNCH_FINISH, NULL, g->sg.sev, NULL));
}

/* The guest's code: ciphertext in the buffer, itself to DBG_DECRYPT. */
static void check_launched_code(struct g *g, const uint8_t *start,
				const uint8_t *end)
{
	size_t n = (size_t)(end - start) & ~15ul;
	uint8_t *buf = malloc(n);

	assert_non_null(buf);
	assert_true(memcmp(g->sg.mem + CODE_GPA, start, n) != 0);
	dbg_decrypt(g, CODE_GPA, buf, (uint32_t)n);
	assert_memory_equal(buf, start, n);
	free(buf);
}

/* LAUNCH_UPDATE_DATA encrypted the image in place; DBG_DECRYPT undoes it. */
static void check_launched(struct g *g)
{
	size_t n = (size_t)(sev_end - sev_start) & ~15ul;
	uint8_t *buf = malloc(n);
	uint64_t pd0;

	assert_non_null(buf);
	assert_true(memcmp(g->sg.mem + CODE_GPA, sev_start, n) != 0);
	dbg_decrypt(g, CODE_GPA, buf, (uint32_t)n);
	assert_memory_equal(buf, sev_start, n);
	memcpy(&pd0, g->sg.mem + PD_GPA, 8);
	assert_true(pd0 != (PTE_P | PTE_RW | PTE_PS | g->cbit));
	dbg_decrypt(g, PD_GPA, buf, 16);
	memcpy(&pd0, buf, 8);
	assert_true(pd0 == (PTE_P | PTE_RW | PTE_PS | g->cbit));
	/* beyond the launched image the buffer is the VMM's, as written */
	assert_int_equal(at(g, SEV_SHARED_GPA), 0);
	free(buf);
}

/*
 * The private page is ciphertext in the buffer, plaintext to DBG -- and
 * was so before DBG_DECRYPT, which brings the buffer up to date first.
 */
static void check_private(struct g *g, uint32_t value)
{
	uint8_t before[16];

	memcpy(before, g->sg.mem + SEV_PRIV_GPA, 16);
	assert_true(at(g, SEV_PRIV_GPA) != value);
	assert_int_equal(plain(g, SEV_PRIV_GPA), value);
	assert_memory_equal(before, g->sg.mem + SEV_PRIV_GPA, 16);
}

static void test_strict_guest(void **state)
{
	const struct kvm_cpuid_entry2 *e;
	struct kvm_regs r;
	uint64_t pte;
	struct g g;

	(void)state;
	memset(&g, 0, sizeof(g));
	up(&g);
	e = sg_cpuid(&g.sg);
	launch(&g);
	check_launched(&g);
	sg_vcpu(&g.sg, 0);
	/* the guest runs on the plaintext of its encrypted image */
	assert_int_equal(out(&g, PORT_VALUE, 4), e->eax);
	assert_int_equal(out(&g, PORT_VALUE, 4), e->ebx);
	assert_int_equal(out(&g, PORT_VALUE, 4), 1); /* SEV_STATUS: SEV */
	assert_int_equal(out(&g, PORT_VALUE, 4), 0);
	assert_int_equal(out(&g, PORT_OUT, 1), SEV_STAGE_SHARED);
	/* shared data is plaintext in the buffer */
	assert_int_equal(at(&g, SEV_SHARED_GPA), SEV_SHARED_VALUE);
	/* its private write read back: plaintext to the guest ... */
	assert_int_equal(out(&g, PORT_VALUE, 4), SEV_PRIV_VALUE);
	/* ... ciphertext in the buffer at this exit already */
	check_private(&g, SEV_PRIV_VALUE);
	/* the page table it wrote (privately): its entry with the C-bit */
	memcpy(&pte, g.sg.mem + SEV_PT_GPA, 8);
	assert_true(pte != (SEV_PRIV_GPA | PTE_P | PTE_RW | g.cbit));
	assert_int_equal(
		plain(&g, SEV_PT_GPA),
		(uint32_t)(SEV_PRIV_GPA | PTE_P | PTE_RW | 0x20 | 0x40));
	assert_int_equal(out(&g, PORT_OUT, 1), SEV_STAGE_DONE);
	assert_ok(ioctl(g.sg.fd, KVM_RUN, 0));
	assert_int_equal(g.sg.run->exit_reason, KVM_EXIT_HLT);
	/* its report, through the shared page */
	assert_int_equal(at(&g, SEV_SHARED_GPA + SEV_REP_DONE), SEV_DONE);
	assert_int_equal(at(&g, SEV_SHARED_GPA + SEV_REP_PRIV), SEV_PRIV_VALUE);
	assert_int_equal(at(&g, SEV_SHARED_GPA + SEV_REP_STATUS), 1);
	assert_int_equal(at(&g, SEV_SHARED_GPA + SEV_REP_CPUID_EBX), e->ebx);
	check_private(&g, SEV_PRIV_VALUE);
	/*
	 * DBG_ENCRYPT a new value into the private page; the guest, sent
	 * back to its load, reads it.
	 */
	{
		uint8_t buf[16] = { 0 };
		uint32_t v = 0x7e57ab1e;
		struct kvm_sev_dbg d = {
			.src_uaddr = (uintptr_t)buf,
			.dst_uaddr = (uintptr_t)(g.sg.mem + SEV_PRIV_GPA),
			.len = 16,
		};

		memcpy(buf, &v, 4);
		assert_ok(sev_op(g.sg.vm, KVM_SEV_DBG_ENCRYPT, &d, g.sg.sev,
				 NULL));
		check_private(&g, v);
		assert_ok(ioctl(g.sg.fd, KVM_GET_REGS, &r));
		r.rip = GPA(sev_priv_load);
		assert_ok(ioctl(g.sg.fd, KVM_SET_REGS, &r));
		assert_int_equal(out(&g, PORT_VALUE, 4), v);
		assert_int_equal(out(&g, PORT_OUT, 1), SEV_STAGE_DONE);
		assert_int_equal(at(&g, SEV_SHARED_GPA + SEV_REP_PRIV), v);
	}
	sg_down(&g.sg);
}

/*
 * An SEV-ES guest (tests/guests/ghcb.S) under strict memory: its tables,
 * code, stack and IDT private, its GHCB page shared.  It talks to the
 * shim's GHCB protocol as without strict memory (the VMGEXIT services read
 * the shared GHCB in the VMM's buffer), its #VC handler runs from private
 * memory; what it wrote privately is ciphertext in the VMM's buffer.
 */
static void test_strict_es_guest(void **state)
{
	uint64_t mmio_value = MMIO64_VALUE;
	uint32_t v, raw;
	uint8_t *data;
	struct g g;

	(void)state;
	memset(&g, 0, sizeof(g));
	g.es = true;
	up(&g);
	sg_vcpu(&g.sg, 0);
	launch(&g);
	check_launched_code(&g, ghcb_start, ghcb_end);
	/* SEV_INFO, CPUID, HV_FT through the MSR protocol */
	out(&g, PORT_VALUE, 4);
	out(&g, PORT_VALUE, 4);
	out(&g, PORT_VALUE, 4);
	out(&g, PORT_VALUE, 4);
	assert_int_equal(out(&g, PORT_VALUE, 4), 3ull << 12 | 0x81);
	out(&g, PORT_VALUE, 4);
	/* an IN through the GHCB: the VMM's data reaches the guest */
	assert_ok(ioctl(g.sg.fd, KVM_RUN, 0));
	assert_int_equal(g.sg.run->exit_reason, KVM_EXIT_IO);
	assert_int_equal(g.sg.run->io.direction, KVM_EXIT_IO_IN);
	v = 0x41414141;
	memcpy((uint8_t *)g.sg.run + g.sg.run->io.data_offset, &v, 4);
	assert_int_equal(out(&g, PORT_VALUE, 4), v + 1);
	/* RDMSR SEV_STATUS: SEV and SEV-ES */
	assert_int_equal(out(&g, PORT_VALUE, 4), 3);
	out(&g, PORT_VALUE, 4);
	/* rep outsb from the GHCB's shared buffer: plaintext to the VMM */
	assert_ok(ioctl(g.sg.fd, KVM_RUN, 0));
	assert_int_equal(g.sg.run->exit_reason, KVM_EXIT_IO);
	assert_int_equal(g.sg.run->io.port, PORT_STR);
	data = (uint8_t *)g.sg.run + g.sg.run->io.data_offset;
	assert_memory_equal(data, "hello", 5);
	assert_int_equal(out(&g, PORT_VALUE, 4), 2);
	assert_int_equal(out(&g, PORT_VALUE, 4), 2);
	assert_ok(ioctl(g.sg.fd, KVM_RUN, 0));
	assert_int_equal(g.sg.run->exit_reason, KVM_EXIT_MMIO);
	assert_memory_equal(g.sg.run->mmio.data, &mmio_value, 8);
	assert_ok(ioctl(g.sg.fd, KVM_RUN, 0));
	assert_int_equal(g.sg.run->exit_reason, KVM_EXIT_MMIO);
	memcpy(g.sg.run->mmio.data, "\x78\x56\x34\x12", 4);
	assert_int_equal(out(&g, PORT_VALUE, 4), 0x12345678);
	/* CPUID and OUT through its own #VC handler, from private memory */
	out(&g, PORT_VALUE, 4);
	/* the #VC gate it wrote: ciphertext in the buffer, DBG shows it */
	memcpy(&raw, g.sg.mem + IDT_GPA + 29 * 16, 4);
	v = plain(&g, IDT_GPA + 29 * 16);
	assert_int_equal(v >> 16, LM_SEL_CODE);
	assert_true(raw != v);
	assert_ok(ioctl(g.sg.fd, KVM_RUN, 0));
	assert_int_equal(g.sg.run->exit_reason, KVM_EXIT_SYSTEM_EVENT);
	assert_int_equal(g.sg.run->system_event.data[0], 0x41100);
	sg_down(&g.sg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strict_guest),
		cmocka_unit_test(test_strict_es_guest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
