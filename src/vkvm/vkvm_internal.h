/* SPDX-License-Identifier: MIT */
/* vkvm internals.  Lock order: table lock > vm->lock > vm->cpu (run lock). */
#ifndef SOFTSEV_VKVM_INTERNAL_H
#define SOFTSEV_VKVM_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/kvm.h>
#include <unicorn/unicorn.h>

#include "vkvm.h"
#include "vkvm_uapi.h"

/* What Debian 12's uAPI headers (6.1) lack; values from Linux 6.12. */
#ifndef KVM_X86_DEFAULT_VM
#define KVM_X86_DEFAULT_VM 0
#endif

#define VK_PAGE 4096ul
#define VK_RUN_SIZE (3 * VK_PAGE) /* kvm_run, PIO data, coalesced MMIO */
#define VK_PIO_OFFSET VK_PAGE
#define VK_MAX_SLOTS 509 /* KVM_USER_MEM_SLOTS on x86 in 6.12 */
#define VK_MAX_VCPUS 1024 /* KVM_MAX_VCPUS on x86 in 6.12 */
#define VK_MAX_VCPU_ID 4096 /* KVM_MAX_VCPU_IDS (x86: 4 * KVM_MAX_VCPUS) */
#define VK_MAX_CPUID 256 /* KVM_MAX_CPUID_ENTRIES */
#define VK_MAX_MSRS 512 /* a vCPU's MSRs the emulator does not keep */
#define VK_PHYS_BITS 40 /* what the emulator's MMU models */
#define VK_NEVER 0x8000000000000000ull /* a non-canonical "until" */
/* vkvm's own page in every engine: above what any guest can address */
#define VK_SCRATCH_GPA ((1ull << 52) - 8 * VK_PAGE)
#define VK_SCRATCH_SIZE (6 * VK_PAGE) /* a VMCB, the MSR and I/O maps */
/* the private copies (vkvm_set_private_view()) in the engine: gpa + this */
#define VK_PRIV_BASE (1ull << 48)
#define VK_MAX_PLAT_MSRS 16
#define VK_MAX_SITES 1024 /* a protected guest's port and MMIO places */
#define VK_SCANNED 4096 /* blocks looked at for port instructions */

/*
 * A private copy (private.c), tied to the VMM memory it stands for: a
 * memslot deleted and made again over the same memory finds it again.
 */
struct vk_priv {
	struct vk_priv *next; /* vm->privs: kept until the VM goes */
	uint64_t hva, size;
	uint8_t *mem;
	uint64_t *dirty; /* a bit per page, atomics */
	uint64_t *taken; /* dirty at a vCPU's exit, not handed over yet */
	uint64_t gpa; /* where its memslot is (or was) */
	bool filled, used;
};

struct vkvm_slot {
	uint32_t id; /* as_id << 16 | slot */
	uint32_t flags;
	uint64_t gpa, size, hva;
	struct vk_priv *priv; /* with a private view, address space 0 */
};

/* Time slices among a VM's vCPUs: a ticket lock, so turns are fair. */
struct vk_cpulock {
	pthread_mutex_t m;
	pthread_cond_t c;
	uint64_t next, serving;
	int waiters;
};

struct vkvm_vcpu;
struct vk_mmio;
struct vk_ioeventfd;

/* An instruction a hook stopped in, as decode.c found it. */
struct vk_insn {
	uint64_t rip;
	int len, addr_bits;
	bool string, rep;
};

/* A port-I/O exit, for completing it as complete_fast_pio_*() do. */
struct vk_pio {
	bool valid, in;
	int size;
	struct vk_insn insn;
};

struct vk_plat_msr {
	uint32_t index;
	bool wr_ignore;
	uint64_t data;
};

struct vkvm_vm {
	pthread_mutex_t lock;
	int refs; /* open VM files + open vCPU files */
	pid_t owner; /* the address space the VM belongs to */
	int nslots;
	struct vkvm_slot slots[2 * VK_MAX_SLOTS]; /* sorted by gpa */
	unsigned int gen; /* bumped by every memslot change */
	int nvcpus;
	struct vkvm_vcpu *vcpus[VK_MAX_VCPUS];
	bool tss_set, ident_set, irqchip, created_vcpu;
	uint64_t tss_addr, ident_addr;
	uint32_t tsc_khz;
	uint32_t max_vcpu_ids; /* KVM_CAP_MAX_VCPU_ID; 0 until set or used */
	uint32_t bsp_id; /* KVM_SET_BOOT_CPU_ID */
	uint32_t max_halt_poll_ns; /* KVM_CAP_HALT_POLL: kept, unused */
	int64_t clock_offset; /* KVM_SET_CLOCK: guest ns - host ns */
	struct vk_ioeventfd *ioeventfds;
	struct kvm_coalesced_mmio_zone *zones; /* coalesced.c */
	int nzones;
	struct vk_cpulock cpu;
	/* vkvm_set_platform(): fixed before the first KVM_RUN */
	int nplat;
	struct vk_plat_msr plat[VK_MAX_PLAT_MSRS];
	uint32_t plat_cpuid_fn; /* a leaf whose EBX bits the platform fixes */
	uint32_t plat_cpuid_mask, plat_cpuid_ebx;
	uint64_t pa_ignore;
	bool ran;
	/* private.c: the private view; epochs and generations are atomics */
	uint64_t priv_bit;
	struct vk_priv *privs;
	unsigned int priv_epoch; /* bumped when the dirty set is taken */
	unsigned int priv_tbgen; /* bumped when the copy is written from out */
	int priv_ndirty; /* pages dirty */
	int priv_ntaken; /* pages taken at exits, not handed over */
	bool priv_unfilled;
	/* vkvm_set_protected(): a guest whose state the CPU keeps */
	bool prot;
	unsigned int prot_vec;
	uint32_t prot_gmsr;
	vkvm_gexit_fn prot_fn;
	void (*prot_release)(void *opaque);
	void *prot_opaque;
};

/* A protected vCPU stopped at VMGEXIT, as its handler sees it. */
struct vkvm_gexit {
	struct vkvm_vcpu *v;
};

struct vk_msr {
	uint32_t index;
	uint64_t data;
};

/* Why the engine came back to the run loop. */
enum vk_why {
	VK_RUNNING = 0,
	VK_EXIT, /* kvm_run holds an exit for userspace */
	VK_INTR, /* an exception or software interrupt to deliver */
	VK_KICK, /* asked to stop: time slice, signal, immediate_exit */
	VK_REDO, /* the engine's own #DF: run the faulting instruction again */
	VK_GEXIT, /* VMGEXIT in a protected guest: call the handler */
	VK_ABANDON, /* a hook left the engine for good: replace, deliver */
	VK_RESCAN, /* new port-I/O sites: hook them, run the block again */
};

struct vkvm_vcpu {
	struct vkvm_vm *vm;
	int id, index;
	int fd; /* the first file; more may share it */
	int refs;
	struct kvm_run *run;
	uc_engine *uc;
	uc_context *ctx;
	unsigned int gen; /* memslot generation the engine has mapped */
	uint64_t *mapped; /* base of each region mapped in the engine */
	int nmapped;
	struct vk_mmio **mmio; /* MMIO pages, mapped on first access */
	int nmmio, maxmmio;
	/* an 8-byte access the emulator splits in two: its other half */
	bool half_pending, half_write;
	uint64_t half_gpa, half_low;
	uint32_t half_hi;
	/* the engine runs on its own stack, so a hook can wait for userspace */
	void *stack;
	size_t stack_size;
	void *co_sp, *host_sp;
	void *asan_fake;
	const void *host_bottom; /* the KVM_RUN caller's stack, for ASan */
	size_t host_size;
	bool co_live;
	bool in_hook; /* suspended inside a hook, an exit outstanding */
	uint32_t intno, exc_err; /* the exception to deliver */
	bool exc_soft; /* INT n / INT3: returns to exc_next */
	uint64_t exc_next;
	void *cs; /* decode.c's Capstone handle and instruction */
	uint64_t blk; /* where the running translated block began */
	uint32_t blk_size, blk_count; /* its length; blocks in this run */
	bool stalled; /* the last run ended before its first instruction */
	int blk_io; /* port accesses so far in it */
	struct vk_pio pio; /* the port exit a hook waits in */
	struct vk_pio complete; /* ... or that the next KVM_RUN completes */
	uint8_t ins_buf[1024]; /* INS read-ahead (pio_in_emulated()) */
	int ins_pos, ins_end, ins_size;
	enum vk_why why;
	/* tlb.c: translation by vkvm, and a fill that failed (#PF) */
	bool tlb_on, pf_pending, pf_fetch;
	uint32_t pf_err;
	uint64_t pf_page;
	unsigned int priv_epoch, priv_tbgen; /* what this engine has seen */
	/* state the emulator does not keep */
	int ncpuid;
	struct kvm_cpuid_entry2 cpuid[VK_MAX_CPUID];
	int nmsrs;
	struct vk_msr msrs[VK_MAX_MSRS];
	bool sigmask_set;
	sigset_t sigmask;
	struct kvm_guest_debug dbg;
	uint32_t mp_state;
	uint64_t apic_base, xcr0, tsc_offset;
	uint32_t tsc_khz;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	int irq; /* KVM_INTERRUPT vector waiting, or -1 */
	/* an exception for the next run (SET_GUEST_DEBUG, SET_VCPU_EVENTS) */
	int exc_queued; /* its vector, or -1 */
	bool exc_q_has_err;
	uint32_t exc_q_err;
	bool nmi;
	uint64_t mce_cap;
	/* protect.c: the protected guest's own MSR, a pending completion */
	bool prot_on;
	struct vkvm_gexit gx;
	uint64_t gmsr;
	vkvm_gexit_fn cui;
	void *cui_opaque;
	int nsites, nhooked; /* code hooks on these, in this engine */
	uint64_t sites[VK_MAX_SITES]; /* linear addresses */
	uint64_t scanned[VK_SCANNED]; /* block starts + 1 */
	uint64_t rescan_la;
	uint32_t rescan_size;
	bool exc_at_rip; /* deliver at exc_rip, not where the engine stopped */
	uint64_t exc_rip;
	/* kicks from the ticker */
	int kick; /* set by the ticker: stop at the next block (atomics) */
	volatile bool running;
	pthread_t thread;
	uint64_t slice_start;
};

/* dev.c */
int vk_table_vcpu(struct vkvm_vcpu *v);
struct vkvm_vm *vk_vm_of(int fd);
struct vkvm_vm *vk_vm_of_any(int fd); /* a VM's or a vCPU's descriptor */
pid_t vk_self(void); /* getpid(), without the system call */

/*
 * A field of a user struct: the pointer may be anything, so no member
 * access through it (a misaligned one is undefined behaviour).
 */
#define VK_UFIELD(u, type, field) \
	((void *)((uintptr_t)(u) + offsetof(type, field)))

/* uaccess.c: user memory, checked as copy_{from,to}_user would. */
int vk_copy_in(void *dst, const void *src, size_t len);
int vk_copy_out(void *dst, const void *src, size_t len);

/* caps.c */
int vk_check_extension(struct vkvm_vm *vm, long cap);
long vk_get_supported_cpuid(struct kvm_cpuid2 *u);
long vk_get_msr_list(struct kvm_msr_list *u, bool features);
long vk_get_feature_msrs(struct kvm_msrs *u);
long vk_msr_io(struct kvm_msrs *u, int (*fn)(void *ctx, uint32_t index,
					      uint64_t *data),
	       void *ctx, bool writeback);
bool vk_msr_known(uint32_t index);
long vk_dev_attr(unsigned long req, struct kvm_device_attr *u);

/* vm.c */
long vk_vm_ioctl(struct vkvm_vm *vm, int fd, unsigned long req, void *arg);
struct vkvm_vm *vk_vm_new(unsigned long type, int *err);
void vk_vm_put(struct vkvm_vm *vm);
const struct vkvm_slot *vk_slot_find(struct vkvm_vm *vm, uint64_t gpa);

/* ioeventfd.c */
long vk_ioeventfd(struct vkvm_vm *vm, void *arg);
bool vk_ioeventfd_signal(struct vkvm_vm *vm, bool pio, uint64_t addr,
			 uint32_t len, uint64_t val);
void vk_ioeventfd_free(struct vkvm_vm *vm);

/* coalesced.c */
long vk_coalesced(struct vkvm_vm *vm, unsigned long req, void *arg);

/* vcpu.c */
long vk_vcpu_ioctl(struct vkvm_vcpu *v, unsigned long req, void *arg);
struct vkvm_vcpu *vk_vcpu_new(struct vkvm_vm *vm, int id, int *err);
void vk_vcpu_free(struct vkvm_vcpu *v);

/* cpu.c: the vCPU state inside the engine */
int vk_cpu_init(struct vkvm_vcpu *v);
void vk_cpu_reset(struct vkvm_vcpu *v);
void vk_cpu_init_event(struct vkvm_vcpu *v);
int vk_cpu_replace(struct vkvm_vcpu *v, uc_engine **old);
void vk_get_regs(struct vkvm_vcpu *v, struct kvm_regs *r);
void vk_set_regs(struct vkvm_vcpu *v, const struct kvm_regs *r);
void vk_get_sregs(struct vkvm_vcpu *v, struct kvm_sregs *s);
void vk_set_sregs(struct vkvm_vcpu *v, const struct kvm_sregs *s);
int vk_get_msr(struct vkvm_vcpu *v, uint32_t index, uint64_t *data);
int vk_set_msr(struct vkvm_vcpu *v, uint32_t index, uint64_t data);
void vk_get_fpu(struct vkvm_vcpu *v, struct kvm_fpu *f);
void vk_set_fpu(struct vkvm_vcpu *v, const struct kvm_fpu *f);
void vk_get_debugregs(struct vkvm_vcpu *v, struct kvm_debugregs *d);
void vk_set_debugregs(struct vkvm_vcpu *v, const struct kvm_debugregs *d);
void vk_cpu_exception(struct vkvm_vcpu *v, uint32_t *err, bool *soft,
		      uint64_t *next_rip);
void vk_cpu_clear_exception(struct vkvm_vcpu *v);

void vk_cpu_set_rip(struct vkvm_vcpu *v, uint64_t rip);
void vk_cpu_intercept_msrs(struct vkvm_vcpu *v, uint64_t vmcb);
void vk_cpu_add_intercepts(struct vkvm_vcpu *v, uint64_t bits);
void vk_cpu_vmexit_info(struct vkvm_vcpu *v, uint64_t *info1, uint64_t *rip);
void vk_cpu_resume_at(struct vkvm_vcpu *v, uint64_t rip);
void vk_cpu_set_cr2(struct vkvm_vcpu *v, uint64_t cr2);
/* Which address mode CS gives: 16, 32 or 64 bits; and its base. */
int vk_cpu_code_bits(struct vkvm_vcpu *v, uint64_t *csbase);


/* decode.c: the n-th port-I/O instruction of the block at linear la */
int vk_find_io(struct vkvm_vcpu *v, uint64_t la, int n, struct vk_insn *out);
/* the port instructions of the block [la, la + size): their addresses */
int vk_block_io(struct vkvm_vcpu *v, uint64_t la, uint32_t size,
		uint64_t *out, int max);
/* whether the instruction at la accesses memory outside every memslot */
bool vk_insn_mmio(struct vkvm_vcpu *v, uint64_t la);
/* the first instruction of the block whose memory operand is at gpa */
int vk_find_mem(struct vkvm_vcpu *v, uint64_t la, uint64_t gpa,
		uint64_t *rip, uint64_t *start, unsigned int *size);
int vk_linear_to_gpa(struct vkvm_vcpu *v, uint64_t la, uint64_t *gpa);
void vk_decode_free(struct vkvm_vcpu *v);
/* The linear address in page that the instruction at la accesses. */
int vk_insn_mem_la(struct vkvm_vcpu *v, uint64_t la, uint64_t page,
		   uint64_t *out);
/* Whether the block [la, la + size) ends with a HLT just before rip. */
bool vk_block_ends_in_hlt(struct vkvm_vcpu *v, uint64_t la, uint32_t size,
			  uint64_t rip);

/* mem.c */
int vk_sync_memory(struct vkvm_vcpu *v);
int vk_mem_hooks(struct vkvm_vcpu *v);
void vk_mem_release(struct vkvm_vcpu *v);

/* deliver.c: events through the guest's IVT/IDT */
int vk_deliver(struct vkvm_vcpu *v, unsigned int vec, bool has_err,
	       uint32_t err, bool soft, uint64_t next_rip);
int vk_read_linear(struct vkvm_vcpu *v, uint64_t la, void *buf, size_t n);
int vk_write_linear(struct vkvm_vcpu *v, uint64_t la, const void *buf,
		    size_t n);
/* an instruction fetch's read: private with a private view */
int vk_fetch_linear(struct vkvm_vcpu *v, uint64_t la, void *buf, size_t n);
void *vk_gpa_ptr(struct vkvm_vcpu *v, uint64_t gpa, size_t n);

/* private.c: the private view */
struct vk_priv *vk_priv_attach(struct vkvm_vm *vm, uint64_t hva,
			       uint64_t size);
void vk_priv_free_all(struct vkvm_vm *vm);
/* host address of [gpa, gpa + n) in the copy, or NULL; write: mark dirty */
void *vk_priv_ptr(struct vkvm_vcpu *v, uint64_t gpa, size_t n, bool write);
/* guest memory as an access sees it: the copy if priv and a view is on */
void *vk_mem_ptr(struct vkvm_vcpu *v, uint64_t gpa, size_t n, bool priv,
		 bool write);
void vk_priv_mark(struct vkvm_vcpu *v, uint64_t gpa);
/* the engine's address for gpa (a private one if priv and in a memslot) */
uint64_t vk_priv_engine_pa(struct vkvm_vcpu *v, uint64_t gpa, bool priv,
			   bool write);
/* before the engine runs: drop what the dirty set or the copy outdated */
void vk_priv_enter(struct vkvm_vcpu *v);
/* with the run lock held, as a run ends: the dirty set becomes taken */
void vk_priv_exit(struct vkvm_vm *vm);

/* run.c */
long vk_run(struct vkvm_vcpu *v);
void vk_cpu_lock(struct vkvm_vm *vm);
void vk_cpu_unlock(struct vkvm_vm *vm);
/* kvm_emulate_cpuid() on r[] = RAX RBX RCX RDX (in: RAX, RCX) */
void vk_cpuid(struct vkvm_vcpu *v, uint64_t r[4]);
void vk_run_reset(struct vkvm_vcpu *v);

/* io.c */
int vk_io_hooks(struct vkvm_vcpu *v);
int vk_abandon(struct vkvm_vcpu *v);
void vk_complete_pio(struct vkvm_vcpu *v);
void vk_exit_and_wait(struct vkvm_vcpu *v);
void vk_leave_hook(struct vkvm_vcpu *v, enum vk_why why);
unsigned int vk_sync_mem_rip(struct vkvm_vcpu *v, uint64_t gpa);
int vk_run_hooks(struct vkvm_vcpu *v);
void vk_run_release(struct vkvm_vcpu *v);

/* msr.c: guest RDMSR/WRMSR */
int vk_msr_engine(uc_engine *uc);
bool vk_msr_intercept(struct vkvm_vcpu *v, uint32_t intno);
int vk_guest_rdmsr(struct vkvm_vcpu *v, uint32_t index, uint64_t *data);
int vk_guest_wrmsr(struct vkvm_vcpu *v, uint32_t index, uint64_t data);

/* protect.c: protected guests (vkvm_set_protected()) */
void vk_prot_engine(struct vkvm_vcpu *v);
bool vk_prot_intercept(struct vkvm_vcpu *v, uint32_t intno);
bool vk_prot_msr(struct vkvm_vcpu *v, uint32_t index, bool write,
		 uint64_t *data, uint64_t rip);
bool vk_prot_mmio(struct vkvm_vcpu *v, uint64_t gpa);
bool vk_prot_block(struct vkvm_vcpu *v, uint64_t la, uint32_t size);
int vk_prot_rescan(struct vkvm_vcpu *v);
bool vk_prot_invalid(struct vkvm_vcpu *v);
void vk_prot_io(struct vkvm_vcpu *v);
int vk_prot_hooks(struct vkvm_vcpu *v);
long vk_prot_gexit(struct vkvm_vcpu *v);
long vk_prot_complete(struct vkvm_vcpu *v);

/* tlb.c */
int vk_tlb_enable(struct vkvm_vcpu *v);
bool vk_tlb_fault(struct vkvm_vcpu *v);
int vk_platform_fix(struct vkvm_vcpu *v);

/* switch.S */
void vk_switch(void **save_sp, void *new_sp);

#endif
