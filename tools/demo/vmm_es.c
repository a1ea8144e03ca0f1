// SPDX-License-Identifier: MIT
/*
 * softsev-demo-vmm with --es: what an SEV-ES guest changes for its VMM.
 * The guest's registers become its VMSA at launch (measured, then out of
 * the host's reach), and the guest asks for port I/O itself through its
 * #VC handler and the GHCB, which KVM turns back into the same
 * KVM_EXIT_IO exits; it ends with the GHCB MSR protocol's TERM_REQ, which
 * KVM reports as KVM_EXIT_SYSTEM_EVENT (KVM_SYSTEM_EVENT_SEV_TERM).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "layout.h"
#include "vmm.h"

#ifndef KVM_SYSTEM_EVENT_SEV_TERM
#define KVM_SYSTEM_EVENT_SEV_TERM 6
#endif

extern const uint8_t demo_guest_es_start[], demo_guest_end[];
extern const uint8_t demo_helper_es_start[], demo_helper_es_end[];

/* The guest's code and its helper's, then the same data pages. */
void es_build_image(uint8_t *img)
{
	size_t code = (size_t)(demo_guest_end - demo_guest_es_start);
	size_t helper = (size_t)(demo_helper_es_end - demo_helper_es_start);

	if (code > HELPER_GPA - GUEST_CODE_GPA || helper > 0x1000)
		abort(); /* the layout no longer holds the code */
	memcpy(img + GUEST_CODE_GPA, demo_guest_es_start, code);
	memcpy(img + HELPER_GPA, demo_helper_es_start, helper);
	build_data(img);
}

/*
 * The mirror and its helper vCPU are made now, not in step 5: a VMSA can
 * only be added while the launch is open (LAUNCH_UPDATE_VMSA, which KVM
 * accepts from a mirror), so the helper is part of what the owner checks.
 * The guest's VMSA first, then the helper's: the owner hashes them in
 * that order.
 */
void es_launch_vmsas(struct vmm *v)
{
	if (make_vm(v, &v->mirror, 0, false, KVM_CAP_VM_COPY_ENC_CONTEXT_FROM,
		    v->vm.fd))
		fail(v, 3, "KVM_CAP_VM_COPY_ENC_CONTEXT_FROM");
	if (set_cpu(&v->mirror, HELPER_GPA, STACK_TOP - 0x1000))
		fail(v, 3, "setting the helper vCPU's registers");
	if (sev_op(v, v->vm.fd, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL))
		fail(v, 3, "LAUNCH_UPDATE_VMSA (the guest's vCPU)");
	if (sev_op(v, v->mirror.fd, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL))
		fail(v, 3, "LAUNCH_UPDATE_VMSA (the mirror's helper vCPU)");
}

/* What came back from KVM_RUN, for the reports of what went wrong. */
void es_describe_exit(const struct kvm_run *r, char *out, size_t len)
{
	uint32_t val = 0;

	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		memcpy(&val, (const uint8_t *)r + r->io.data_offset,
		       r->io.size < 4 ? r->io.size : 4);
		snprintf(out, len,
			 "KVM_EXIT_IO %s port 0x%x size %u value "
			 "0x%x",
			 r->io.direction ? "OUT" : "IN", r->io.port, r->io.size,
			 val);
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		snprintf(out, len,
			 "KVM_EXIT_SYSTEM_EVENT type %u ndata %u "
			 "data[0] 0x%llx",
			 r->system_event.type, r->system_event.ndata,
			 (unsigned long long)r->system_event.data[0]);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(out, len,
			 "KVM_EXIT_INTERNAL_ERROR suberror %u "
			 "data 0x%llx 0x%llx",
			 r->internal.suberror,
			 (unsigned long long)r->internal.data[0],
			 (unsigned long long)r->internal.data[1]);
		break;
	case KVM_EXIT_SHUTDOWN:
		snprintf(out, len, "KVM_EXIT_SHUTDOWN (a triple fault)");
		break;
	case KVM_EXIT_HLT:
		snprintf(out, len, "KVM_EXIT_HLT");
		break;
	default:
		snprintf(out, len, "exit reason %u", r->exit_reason);
	}
}

static struct kvm_run *es_run(struct vmm *v, struct vm *vm, int step)
{
	if (ioctl(vm->vcpu, KVM_RUN, 0))
		fail(v, step, "KVM_RUN");
	return vm->run;
}

/*
 * Why the guest ended itself, if it did (guest.S, es_term).  After a
 * refused request its GHCB still holds the request: the page is shared,
 * so the host may read it.
 */
static void es_why(struct vmm *v, const struct kvm_run *r, char *out,
		   size_t len)
{
	static const char *const why[] = {
		[DEMO_TERM_DONE] = "asked to",
		[DEMO_TERM_NOT_ES] = "SEV_STATUS is not 3",
		[DEMO_TERM_VC] = "a #VC it does not handle",
		[DEMO_TERM_GHCB] = "the hypervisor refused a GHCB request",
	};
	uint64_t msr = r->system_event.data[0], g[3];
	unsigned int code = (msr >> 16) & 0xff;

	out[0] = 0;
	if (r->exit_reason != KVM_EXIT_SYSTEM_EVENT ||
	    r->system_event.type != KVM_SYSTEM_EVENT_SEV_TERM ||
	    (msr & 0xffff) != DEMO_TERM_MSR(0) || code > DEMO_TERM_GHCB)
		return;
	memcpy(g, v->mem + GHCB_GPA + 0x390, sizeof(g));
	snprintf(out, len,
		 " (the guest's reason: %s; its GHCB: exit code "
		 "0x%llx, exit_info_1 0x%llx, exit_info_2 0x%llx)",
		 why[code], (unsigned long long)g[0], (unsigned long long)g[1],
		 (unsigned long long)g[2]);
}

static __attribute__((noreturn)) void es_unexpected(struct vmm *v, int step,
						    const struct kvm_run *r,
						    const char *wanted)
{
	char got[160], why[200], msg[500];

	es_describe_exit(r, got, sizeof(got));
	es_why(v, r, why, sizeof(why));
	snprintf(msg, sizeof(msg),
		 "wanted %s from the SEV-ES guest, KVM_RUN "
		 "gave %s%s",
		 wanted, got, why);
	errno = EPROTO;
	fail(v, step, msg);
}

static bool is_io(const struct kvm_run *r, uint8_t dir, uint16_t port)
{
	return r->exit_reason == KVM_EXIT_IO && r->io.direction == dir &&
	       r->io.port == port && r->io.size == 4 && r->io.count == 1;
}

/* The guest's OUT to port, which its #VC handler sent through the GHCB. */
static uint32_t es_out(struct vmm *v, uint16_t port)
{
	struct kvm_run *r = es_run(v, &v->vm, 4);
	char wanted[64];
	uint32_t val;

	snprintf(wanted, sizeof(wanted), "a 32-bit OUT to port 0x%x", port);
	if (!is_io(r, KVM_EXIT_IO_OUT, port))
		es_unexpected(v, 4, r, wanted);
	memcpy(&val, (uint8_t *)r + r->io.data_offset, 4);
	return val;
}

/* Its IN from PORT_CTL: the answer is in the guest's EAX when it resumes. */
static void es_ctl(struct vmm *v, uint32_t stop)
{
	struct kvm_run *r = es_run(v, &v->vm, 4);

	if (!is_io(r, KVM_EXIT_IO_IN, PORT_CTL))
		es_unexpected(v, 4, r, "a 32-bit IN from PORT_CTL");
	memcpy((uint8_t *)r + r->io.data_offset, &stop, 4);
}

/*
 * The guest's SEV report (three OUTs to PORT_SEV), three rounds as the
 * plain guest's, each answered "go on" but the last; then its TERM_REQ,
 * reason DEMO_TERM_DONE.
 */
void es_guest_runs(struct vmm *v, uint32_t sev[3], uint32_t *res,
		   uint32_t *tick, char *note, size_t len)
{
	uint64_t want = DEMO_TERM_MSR(DEMO_TERM_DONE);
	struct kvm_run *r;

	for (int i = 0; i < 3; i++)
		sev[i] = es_out(v, PORT_SEV);
	for (int i = 0; i < 3; i++) {
		*res = es_out(v, PORT_RESULT);
		*tick = es_out(v, PORT_TICK);
		es_ctl(v, i == 2);
	}
	r = es_run(v, &v->vm, 4);
	if (r->exit_reason != KVM_EXIT_SYSTEM_EVENT ||
	    r->system_event.type != KVM_SYSTEM_EVENT_SEV_TERM ||
	    r->system_event.ndata != 1 || r->system_event.data[0] != want)
		es_unexpected(v, 4, r,
			      "its TERM_REQ (KVM_EXIT_SYSTEM_EVENT "
			      "type 6, data[0] 0x1100)");
	snprintf(note, len,
		 "; its CPUID and port I/O went through its #VC "
		 "handler and the GHCB, and asked to end, it did with the GHCB "
		 "MSR protocol's TERM_REQ (KVM_EXIT_SYSTEM_EVENT SEV_TERM, "
		 "GHCB MSR 0x%llx)",
		 (unsigned long long)want);
}

/* The helper vCPU, launched with the guest, ends with HLT. */
uint32_t es_helper_runs(struct vmm *v)
{
	struct kvm_run *r = es_run(v, &v->mirror, 5);
	uint32_t shared;

	if (r->exit_reason != KVM_EXIT_HLT)
		es_unexpected(v, 5, r, "the helper's HLT");
	memcpy(&shared, v->mem + SHARED_GPA, sizeof(shared));
	return shared;
}

/*
 * KVM has the ids of SEND_UPDATE_VMSA and RECEIVE_UPDATE_VMSA but
 * implements neither: an SEV-ES guest's memory can cross to B, its
 * vCPUs cannot.  Show what KVM answers.
 */
void es_send_vmsa(struct vmm *v, char *out, size_t len)
{
	int r = sev_op(v, v->vm.fd, KVM_SEV_SEND_UPDATE_VMSA, NULL);

	snprintf(out, len, "; SEND_UPDATE_VMSA: %s",
		 r ? strerror(errno) : "accepted (NOT what Linux does)");
}

/*
 * B holds the memory but no VMSA for the vCPU: Linux 6.12 has no
 * RECEIVE_UPDATE_VMSA and allows no LAUNCH_UPDATE_VMSA on a received
 * guest, so there is no state to resume and the VMM does not run it.
 */
void es_received(struct vmm *v, uint32_t handle, uint32_t digest, bool ok)
{
	char what[400];

	snprintf(what, sizeof(what),
		 "RECEIVE_START/UPDATE_DATA/FINISH on "
		 "platform B (handle %u): memory digest %08x %s; the SEV-ES "
		 "guest is not resumed: its registers cannot follow (Linux "
		 "6.12 implements no SEND/RECEIVE_UPDATE_VMSA)",
		 handle, digest, ok ? "matches" : "DIFFERS");
	demo_step(&v->o, 7, ok, what,
		  "an SEV-ES guest's memory moves between hosts like an SEV "
		  "guest's; its register state would need firmware commands "
		  "KVM does not use");
	if (!ok)
		exit(1);
}
