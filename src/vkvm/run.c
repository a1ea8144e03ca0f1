// SPDX-License-Identifier: MIT
/*
 * KVM_RUN on the emulator.
 *
 * Each vCPU's engine runs on a stack of its own (a coroutine).  A hook
 * that needs userspace -- port I/O, an access outside every memslot --
 * fills kvm_run and switches back to the KVM_RUN caller, which returns to
 * the VMM; the next KVM_RUN switches into the hook again, which hands the
 * VMM's data to the engine.  The engine never stops for an exit, so the
 * rest of a translated block cannot run ahead of the VMM's answer (a stop
 * from a hook takes effect only at the end of the block).
 *
 * Exceptions stop the engine and are delivered by deliver.c; HLT returns
 * from the engine by itself.  Every slice a ticker thread flags running
 * vCPUs, and the block hook stops the engine at the next block, so
 * pending signals, immediate_exit and the other vCPUs of the VM (one runs
 * at a time: two engines are not a coherent SMP machine) are seen.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vkvm_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define VK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VK_ASAN 1
#endif
#endif
#ifdef VK_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#define VK_STACK (2u << 20)
#define VK_SLICE_NS 10000000ull /* 10 ms */

void vk_co_entry(void);

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* --- the ticker --- */

static pthread_mutex_t tick_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vkvm_vcpu **running;
static int nrunning, maxrunning;
static pid_t ticker_pid;

static void *ticker(void *arg)
{
	struct timespec d = { 0, VK_SLICE_NS / 2 };
	int i;

	(void)arg;
	for (;;) {
		nanosleep(&d, NULL);
		pthread_mutex_lock(&tick_lock);
		for (i = 0; i < nrunning; i++) {
			struct vkvm_vcpu *v = running[i];

			if (now_ns() - __atomic_load_n(&v->slice_start,
							__ATOMIC_RELAXED) <
			    VK_SLICE_NS)
				continue;
			__atomic_store_n(&v->kick, 1, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&tick_lock);
	}
	return NULL;
}

static int ticker_start(void)
{
	sigset_t all, old;
	pthread_t t;
	int ret = 0;

	if (ticker_pid == vk_self())
		return 0;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&t, NULL, ticker, NULL))
		ret = -EAGAIN;
	else
		pthread_detach(t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!ret)
		ticker_pid = vk_self();
	return ret;
}

static int running_add(struct vkvm_vcpu *v)
{
	int ret = 0;

	pthread_mutex_lock(&tick_lock);
	ret = ticker_start();
	if (!ret && nrunning == maxrunning) {
		int n = maxrunning ? 2 * maxrunning : 16;
		void *p = realloc(running, (size_t)n * sizeof(*running));

		if (p) {
			running = p;
			maxrunning = n;
		} else {
			ret = -ENOMEM;
		}
	}
	if (!ret) {
		__atomic_store_n(&v->slice_start, now_ns(), __ATOMIC_RELAXED);
		running[nrunning++] = v;
	}
	pthread_mutex_unlock(&tick_lock);
	return ret;
}

static void running_del(struct vkvm_vcpu *v)
{
	int i;

	pthread_mutex_lock(&tick_lock);
	for (i = 0; i < nrunning; i++)
		if (running[i] == v) {
			running[i] = running[--nrunning];
			break;
		}
	pthread_mutex_unlock(&tick_lock);
}

/* --- one vCPU of a VM at a time, in turns --- */

static void cpu_lock(struct vk_cpulock *l)
{
	uint64_t me;

	pthread_mutex_lock(&l->m);
	me = l->next++;
	/* read without the mutex by a running vCPU, at its time slice */
	__atomic_add_fetch(&l->waiters, 1, __ATOMIC_RELAXED);
	while (l->serving != me)
		pthread_cond_wait(&l->c, &l->m);
	__atomic_sub_fetch(&l->waiters, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&l->m);
}

static void cpu_unlock(struct vk_cpulock *l)
{
	pthread_mutex_lock(&l->m);
	l->serving++;
	pthread_cond_broadcast(&l->c);
	pthread_mutex_unlock(&l->m);
}

void vk_cpu_lock(struct vkvm_vm *vm)
{
	cpu_lock(&vm->cpu);
}

void vk_cpu_unlock(struct vkvm_vm *vm)
{
	cpu_unlock(&vm->cpu);
}

static bool cpu_contended(struct vk_cpulock *l)
{
	return __atomic_load_n(&l->waiters, __ATOMIC_RELAXED) > 0;
}

/* --- the coroutine --- */

/*
 * ASan follows the stack switches: each side names the stack it goes to,
 * and the engine's side learns the caller's stack (it may be another
 * thread's each time) when it is switched to.
 */
static void to_host(struct vkvm_vcpu *v)
{
#ifdef VK_ASAN
	__sanitizer_start_switch_fiber(&v->asan_fake, v->host_bottom,
				       v->host_size);
#endif
	vk_switch(&v->co_sp, v->host_sp);
#ifdef VK_ASAN
	__sanitizer_finish_switch_fiber(v->asan_fake, &v->host_bottom,
					&v->host_size);
#endif
}

static void to_engine(struct vkvm_vcpu *v)
{
#ifdef VK_ASAN
	void *fake = NULL;

	__sanitizer_start_switch_fiber(&fake, v->stack, v->stack_size);
#endif
	vk_switch(&v->host_sp, v->co_sp);
#ifdef VK_ASAN
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
}

/* A hook hands an exit to userspace and waits for the next KVM_RUN. */
void vk_exit_and_wait(struct vkvm_vcpu *v)
{
	vk_leave_hook(v, VK_EXIT);
}

/* ... or, with VK_ABANDON, leaves the engine never to come back. */
void vk_leave_hook(struct vkvm_vcpu *v, enum vk_why why)
{
	v->why = why;
	v->in_hook = true;
	to_host(v);
	v->in_hook = false;
	v->why = VK_RUNNING;
}

/*
 * The engine writes RIP back only at the end of a chain of translated
 * blocks, so a port-I/O hook cannot read it.  The block hook tells where
 * the running block began; the n-th port access within it is its n-th
 * port instruction (blocks are straight-line code), found by decoding.
 */
static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size,
		       void *arg)
{
	struct vkvm_vcpu *v = arg;

	(void)uc;
	v->blk = addr;
	v->blk_size = size;
	v->blk_io = 0;
	/*
	 * The ticker's turn: stop here, before the block runs, so the
	 * KVM_RUN caller can look at signals, immediate_exit and the other
	 * vCPUs.  A stop asked for from this hook lands before the block's
	 * first instruction, but the engine leaves RIP where it last wrote
	 * it, so RIP is set to the block's start first.  (A stop from
	 * another thread lands anywhere: instructions ran twice.)
	 */
	/* not before one block has run: each turn makes progress */
	/* a protected guest's new port instructions: hooks first */
	if (vk_prot_block(v, addr, size)) {
		uint64_t csbase;

		vk_cpu_code_bits(v, &csbase);
		vk_cpu_set_rip(v, addr - csbase);
		v->why = VK_RESCAN;
		uc_emu_stop(uc);
		return;
	}
	if (v->blk_count++ && __atomic_load_n(&v->kick, __ATOMIC_ACQUIRE)) {
		uint64_t csbase;

		__atomic_store_n(&v->kick, 0, __ATOMIC_RELAXED);
		vk_cpu_code_bits(v, &csbase);
		vk_cpu_set_rip(v, addr - csbase);
		v->why = VK_KICK;
		uc_emu_stop(uc);
	}
}

/* kvm_emulate_cpuid(): KVM_SET_CPUID2's table, as kvm_cpuid() reads it. */
void vk_cpuid(struct vkvm_vcpu *v, uint64_t r[4])
{
	uint64_t rax = r[0], rcx = r[2], cr4;
	int i;

	r[0] = r[1] = r[2] = r[3] = 0;
	for (i = 0; i < v->ncpuid; i++) {
		const struct kvm_cpuid_entry2 *e = &v->cpuid[i];

		if (e->function != (uint32_t)rax)
			continue;
		if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) &&
		    e->index != (uint32_t)rcx)
			continue;
		r[0] = e->eax;
		r[1] = e->ebx;
		r[2] = e->ecx;
		r[3] = e->edx;
		/* what the platform fixes (vkvm_set_platform_cpuid_ebx()) */
		if (v->vm->plat_cpuid_mask && e->function == v->vm->plat_cpuid_fn)
			r[1] = (r[1] & ~(uint64_t)v->vm->plat_cpuid_mask) |
			       v->vm->plat_cpuid_ebx;
		break;
	}
	/* kvm_update_cpuid_runtime(): OSXSAVE and APIC follow the state */
	if ((uint32_t)rax == 1 && i < v->ncpuid) {
		uc_reg_read(v->uc, UC_X86_REG_CR4, &cr4);
		r[2] &= ~(1ull << 27);
		if ((cr4 & (1ull << 18)) && (r[2] & (1ull << 26)))
			r[2] |= 1ull << 27;
		if (!(v->apic_base & (1ull << 11)))
			r[3] &= ~(1ull << 9);
	}
}

static int hook_cpuid(uc_engine *uc, void *arg)
{
	struct vkvm_vcpu *v = arg;
	uint64_t r[4] = { 0, 0, 0, 0 };

	uc_reg_read(uc, UC_X86_REG_RAX, &r[0]);
	uc_reg_read(uc, UC_X86_REG_RCX, &r[2]);
	vk_cpuid(v, r);
	uc_reg_write(uc, UC_X86_REG_RAX, &r[0]);
	uc_reg_write(uc, UC_X86_REG_RBX, &r[1]);
	uc_reg_write(uc, UC_X86_REG_RCX, &r[2]);
	uc_reg_write(uc, UC_X86_REG_RDX, &r[3]);
	return 1; /* skip the emulator's own answer */
}

/*
 * An exception or INT n: the engine raises it but never delivers it.
 * Stop, and deliver it outside the engine (deliver.c).  The stop can
 * land after the engine has gone back to the faulting instruction and
 * raised the same fault again (as a nested one): the first one counts.
 */
/* In SVM guest mode (msr.c) the engine's own triple fault is an exit. */
#define VK_EXIT_SHUTDOWN (0x100 + 0x7f)

static void hook_intr(uc_engine *uc, uint32_t intno, void *arg)
{
	struct vkvm_vcpu *v = arg;

	/* the #UD the engine reports again after its hook took VMGEXIT */
	if (v->why == VK_GEXIT) {
		uc_emu_stop(uc);
		return;
	}
	/* RDMSR/WRMSR, stopped by the engine's SVM-guest checks (msr.c) */
	if (v->why != VK_INTR && vk_msr_intercept(v, intno))
		return;
	/* a protected guest's intercepts: its exception */
	if (v->why != VK_INTR && vk_prot_intercept(v, intno))
		return;
	/*
	 * vkvm delivers every exception itself and resets the engine's
	 * nesting after each, so a #DF the engine raises is its own: a
	 * first fault it swallowed (a stop was pending) and met again.
	 * Forget the nesting and let the instruction fault again.
	 */
	if ((intno == 8 || intno == VK_EXIT_SHUTDOWN) && v->why != VK_INTR) {
		v->why = VK_REDO;
		uc_emu_stop(uc);
		return;
	}
	if (v->why != VK_INTR) {
		v->why = VK_INTR;
		v->intno = intno;
		/* the engine clears the error code once the hook returns */
		vk_cpu_exception(v, &v->exc_err, &v->exc_soft, &v->exc_next);
	}
	uc_emu_stop(uc);
}

/* #UD: the engine only reports it through this hook (then also as INTR). */
static bool hook_invalid(uc_engine *uc, void *arg)
{
	struct vkvm_vcpu *v = arg;

	if (v->why != VK_INTR && vk_prot_invalid(v))
		return true;
	if (v->why != VK_INTR) {
		v->why = VK_INTR;
		v->intno = 6;
		v->exc_err = 0;
		v->exc_soft = false;
	}
	uc_emu_stop(uc);
	return true;
}

static void internal_error(struct vkvm_vcpu *v, uint32_t suberror)
{
	v->run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	v->run->internal.suberror = suberror;
	v->run->internal.ndata = 0;
	v->why = VK_EXIT;
}

/* One stretch of guest execution, on the engine's stack. */
static void engine_run(struct vkvm_vcpu *v)
{
	bool step = (v->dbg.control & KVM_GUESTDBG_ENABLE) &&
		    (v->dbg.control & KVM_GUESTDBG_SINGLESTEP);
	uint64_t rip, start;
	uc_err err;

	v->why = VK_RUNNING;
	v->pf_pending = false;
	v->blk_count = 0;
	v->blk_size = 0;
	uc_reg_read(v->uc, UC_X86_REG_RIP, &start);
	/* after a run that stopped before doing anything: one instruction */
	err = uc_emu_start(v->uc, start, VK_NEVER, 0,
			   step || v->stalled ? 1 : 0);
	v->stalled = false;
	if (v->why != VK_RUNNING)
		return;
	if (err && vk_tlb_fault(v))
		return;
	if (err) {
		internal_error(v, KVM_INTERNAL_ERROR_EMULATION);
		/* what the emulator said, for whoever reads internal.data */
		v->run->internal.ndata = 2;
		v->run->internal.data[0] = err;
		uc_reg_read(v->uc, UC_X86_REG_RIP, &v->run->internal.data[1]);
		return;
	}
	uc_reg_read(v->uc, UC_X86_REG_RIP, &rip);
	if (step) {
		v->run->exit_reason = KVM_EXIT_DEBUG;
		memset(&v->run->debug, 0, sizeof(v->run->debug));
		v->run->debug.arch.exception = 1;
		v->run->debug.arch.pc = rip;
		v->run->debug.arch.dr6 = 0xffff4ff0;
		v->run->debug.arch.dr7 = 0x400;
		v->why = VK_EXIT;
		return;
	}
	/*
	 * The engine came back by itself: after HLT, or late for a stop
	 * asked before this run (a stop can outlive the run it was for and
	 * end the next one at a block boundary).  Only a block that ends in
	 * HLT right here is a HLT.
	 */
	if (!vk_block_ends_in_hlt(v, v->blk, v->blk_size, rip)) {
		v->stalled = rip == start;
		v->why = VK_KICK;
		return;
	}
	v->run->exit_reason = KVM_EXIT_HLT;
	v->why = VK_EXIT;
}

static void co_main(struct vkvm_vcpu *v)
{
#ifdef VK_ASAN
	__sanitizer_finish_switch_fiber(NULL, &v->host_bottom, &v->host_size);
#endif
	for (;;) {
		engine_run(v);
		to_host(v);
	}
}

static int co_init(struct vkvm_vcpu *v)
{
	uint64_t *sp;

	v->stack_size = VK_STACK;
	v->stack = mmap(NULL, v->stack_size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v->stack == MAP_FAILED) {
		v->stack = NULL;
		return -ENOMEM;
	}
	sp = (uint64_t *)((uint8_t *)v->stack + v->stack_size - 64);
	sp -= 7;
	sp[0] = 0; /* r15 */
	sp[1] = 0; /* r14 */
	sp[2] = (uint64_t)(uintptr_t)v; /* r13: argument */
	sp[3] = (uint64_t)(uintptr_t)co_main; /* r12: function */
	sp[4] = 0; /* rbx */
	sp[5] = 0; /* rbp */
	sp[6] = (uint64_t)(uintptr_t)vk_co_entry;
	v->co_sp = sp;
	v->co_live = true;
	return 0;
}

int vk_run_hooks(struct vkvm_vcpu *v)
{
	uc_hook h;

	if (uc_hook_add(v->uc, &h, UC_HOOK_BLOCK, hook_block, v, 1, 0) ||
	    vk_io_hooks(v) ||
	    uc_hook_add(v->uc, &h, UC_HOOK_INSN, hook_cpuid, v, 1, 0,
			UC_X86_INS_CPUID) ||
	    uc_hook_add(v->uc, &h, UC_HOOK_INTR, hook_intr, v, 1, 0) ||
	    uc_hook_add(v->uc, &h, UC_HOOK_INSN_INVALID, hook_invalid, v, 1,
			0) ||
	    vk_mem_hooks(v) || vk_prot_hooks(v) ||
	    (__atomic_load_n(&v->vm->ran, __ATOMIC_ACQUIRE) &&
	     vk_tlb_enable(v)))
		return -ENOMEM;
	return co_init(v);
}

void vk_run_release(struct vkvm_vcpu *v)
{
	vk_mem_release(v);
#ifdef VK_ASAN
	/* frames left on it keep their redzones: not for the next mapping */
	if (v->stack)
		__asan_unpoison_memory_region(v->stack, v->stack_size);
#endif
	if (v->stack)
		munmap(v->stack, v->stack_size);
	v->stack = NULL;
}

/* The engine was replaced: its memory and its stack go with it. */
void vk_run_reset(struct vkvm_vcpu *v)
{
	vk_run_release(v);
	v->nmapped = 0;
	v->gen = 0;
	v->co_live = false;
	v->tlb_on = false;
	v->why = VK_RUNNING;
}

/* --- KVM_RUN --- */

/* Signals the run may be interrupted by: pending and not masked. */
static bool signal_waiting(struct vkvm_vcpu *v, const sigset_t *caller)
{
	const sigset_t *mask = v->sigmask_set ? &v->sigmask : caller;
	sigset_t p;
	int s;

	if (sigpending(&p))
		return false;
	for (s = 1; s < NSIG; s++)
		if (sigismember(&p, s) == 1 && sigismember(mask, s) != 1)
			return true;
	return false;
}

static bool if_flag(struct vkvm_vcpu *v)
{
	uint64_t fl;

	uc_reg_read(v->uc, UC_X86_REG_RFLAGS, &fl);
	return fl & (1ull << 9);
}

/* post_kvm_run_save() */
static void post_run(struct vkvm_vcpu *v)
{
	struct kvm_run *run = v->run;

	run->if_flag = if_flag(v);
	run->cr8 = (v->lapic.regs[0x80] >> 4) & 15;
	run->apic_base = v->apic_base;
	run->ready_for_interrupt_injection = run->if_flag && v->irq < 0 &&
					     !v->in_hook;
}

/*
 * A queued exception first (kvm_check_and_inject_events()), then
 * KVM_INTERRUPT's vector when the guest can take it.
 */
static int inject(struct vkvm_vcpu *v)
{
	int vec = v->exc_queued;

	if (vec >= 0 && !v->in_hook) {
		v->exc_queued = -1;
		return vk_deliver(v, (unsigned int)vec, v->exc_q_has_err,
				  v->exc_q_err, false, 0);
	}
	vec = v->irq;
	if (vec < 0 || v->in_hook || !if_flag(v))
		return 0;
	v->irq = -1;
	v->mp_state = KVM_MP_STATE_RUNNABLE;
	return vk_deliver(v, (unsigned int)vec, false, 0, false, 0);
}

/*
 * shutdown_interception(): the VMCB is undefined after it, so INIT --
 * except for a protected guest, whose state cannot be reinitialised.
 */
static void shutdown_exit(struct vkvm_vcpu *v)
{
	if (!v->prot_on)
		vk_cpu_init_event(v);
	v->run->exit_reason = KVM_EXIT_SHUTDOWN;
	v->why = VK_EXIT;
}

/* An exception the engine raised: through the guest's IDT. */
static void exception(struct vkvm_vcpu *v)
{
	if (vk_deliver(v, v->intno, !v->exc_soft, v->exc_err, v->exc_soft,
		       v->exc_next))
		shutdown_exit(v);
}

static long run_loop(struct vkvm_vcpu *v, const sigset_t *caller)
{
	struct kvm_run *run = v->run;

	for (;;) {
		/* a memslot change under a waiting exit: KVM completes first */
		if (v->in_hook && v->gen != v->vm->gen && vk_abandon(v))
			return -ENOMEM;
		if (!v->in_hook) {
			int err = vk_sync_memory(v);

			if (err)
				return err;
		}
		vk_priv_enter(v);
		vk_complete_pio(v);
		if (v->cui) {
			long r = vk_prot_complete(v);

			if (r <= 0)
				return r;
		}

		if (inject(v)) {
			shutdown_exit(v);
			return 0;
		}
		if (run->request_interrupt_window && !v->in_hook &&
		    v->irq < 0 && if_flag(v)) {
			run->exit_reason = KVM_EXIT_IRQ_WINDOW_OPEN;
			return 0;
		}
		to_engine(v);
		switch (v->why) {
		case VK_EXIT:
			return 0;
		case VK_INTR:
			if (v->exc_at_rip) {
				v->exc_at_rip = false;
				uc_reg_write(v->uc, UC_X86_REG_RIP, &v->exc_rip);
			}
			exception(v);
			if (v->why == VK_EXIT)
				return 0;
			break;
		case VK_REDO:
			vk_cpu_clear_exception(v);
			break;
		case VK_RESCAN:
			if (vk_prot_rescan(v))
				return -ENOMEM;
			break;
		case VK_ABANDON:
			if (vk_abandon(v))
				return -ENOMEM;
			exception(v);
			if (v->why == VK_EXIT)
				return 0;
			break;
		case VK_GEXIT: {
			long r = vk_prot_gexit(v);

			if (r <= 0)
				return r;
			break;
		}
		default:
			break;
		}
		if (run->immediate_exit || signal_waiting(v, caller)) {
			run->exit_reason = KVM_EXIT_INTR;
			return -EINTR;
		}
		if (cpu_contended(&v->vm->cpu)) {
			cpu_unlock(&v->vm->cpu);
			cpu_lock(&v->vm->cpu);
		}
		__atomic_store_n(&v->slice_start, now_ns(), __ATOMIC_RELAXED);
	}
}

long vk_run(struct vkvm_vcpu *v)
{
	sigset_t block, caller;
	long ret;

	v->run->flags = 0;
	if (v->mp_state == KVM_MP_STATE_UNINITIALIZED) {
		/* an AP waits for INIT-SIPI, which only an APIC sends */
		if (v->run->immediate_exit)
			return -EINTR;
		v->run->exit_reason = KVM_EXIT_INTR;
		return -EINTR;
	}
	/* kvm_arch_vcpu_ioctl_run(): the pending I/O completes first */
	if (v->run->immediate_exit) {
		long r;

		if (vk_abandon(v))
			return -ENOMEM;
		vk_complete_pio(v);
		r = vk_prot_complete(v);
		return r <= 0 ? r : -EINTR;
	}
	/* run with signals held; pending ones end the run with EINTR */
	sigfillset(&block);
	sigdelset(&block, SIGSEGV);
	sigdelset(&block, SIGBUS);
	sigdelset(&block, SIGILL);
	sigdelset(&block, SIGFPE);
	sigdelset(&block, SIGTRAP);
	pthread_sigmask(SIG_BLOCK, &block, &caller);
	/* without its own mask, what is pending was blocked already */
	if (v->sigmask_set && signal_waiting(v, &caller)) {
		pthread_sigmask(SIG_SETMASK, &caller, NULL);
		v->run->exit_reason = KVM_EXIT_INTR;
		return -EINTR;
	}
	cpu_lock(&v->vm->cpu);
	v->thread = pthread_self();
	ret = vk_platform_fix(v);
	if (!ret)
		ret = running_add(v);
	if (!ret) {
		ret = run_loop(v, &caller);
		running_del(v);
	}
	vk_priv_exit(v->vm); /* private.c: this run's dirty set */
	cpu_unlock(&v->vm->cpu);
	post_run(v);
	pthread_sigmask(SIG_SETMASK, &caller, NULL);
	return ret;
}
