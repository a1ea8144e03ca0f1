/* SPDX-License-Identifier: MIT */
/*
 * The shim <-> softsevd protocol: one SOCK_SEQPACKET connection per client
 * process (address space).  Each request is one fixed-size message,
 * optionally carrying file descriptors (SCM_RIGHTS); each reply is one
 * message.  Requests name user memory by address in the client: the server
 * reads and writes it with process_vm_readv/writev, as the kernel would
 * with copy_from_user.
 */
#ifndef SOFTSEV_PROTO_H
#define SOFTSEV_PROTO_H

#include <stdint.h>

#define SS_PROTO_VERSION 1
#define SS_MAX_VMS 16384 /* entries in the shared flags table */
#define SS_MAX_VCPUS 1024

enum ss_op {
	SS_HELLO = 1, /* a1, a2 = this image's token -> host info, flags fd */
	SS_VM_CREATE, /* a1 = type; fd: the real VM fd -> rep.vm_id */
	SS_VM_ADOPT, /* fd: a VM fd this process holds (fork, dup, exec) */
	SS_VM_CLOSE, /* vm_id: one reference of this process gone */
	SS_VCPU_BEGIN, /* vm_id */
	SS_VCPU_END, /* vm_id, a1 = ok -> rep.index */
	SS_MEM_ENC_OP, /* vm_id, arg; a1 = VMSA buffer, a2 = its count */
	SS_REG_REGION, /* vm_id, arg */
	SS_UNREG_REGION, /* vm_id, arg */
	SS_ENABLE_CAP, /* vm_id, arg; fd: args[0]'s file, if open */
	SS_SEV_IOCTL, /* a1 = request, arg, a2 = writable */
	SS_CHECK_EXTENSION, /* a1 = cap */
	SS_DEVICE_ATTR, /* a1 = group, a2 = attr -> rep.value */
	SS_VCPU_REGS_CHECK, /* vm_id, a1 = vcpu index */
	SS_STATUS, /* -> fd: a memfd holding the JSON status */
	SS_TRACE, /* the connection then receives one message per line */
	SS_CGROUP, /* arg: NUL-terminated group name; this process joins it */
	SS_ROOT_CERTS, /* -> fd: a memfd with ASK then ARK (AMD format) */
	/*
	 * vm_id, a1 = ioctl request, a2 = errno | vCPU index << 32: an answer
	 * the shim gave on its own, sent only while a trace is watched.
	 */
	SS_NOTE,
};

struct ss_req {
	uint32_t op;
	uint32_t vm_id;
	uint64_t arg;
	uint64_t a1;
	uint64_t a2;
};

struct ss_rep {
	int32_t ret; /* 0, a positive result, or -errno */
	uint32_t vm_id;
	uint32_t index;
	uint32_t flags_size;
	uint64_t value;
	/* SS_HELLO: what CPUID 0x8000001F and the SEV attributes report. */
	uint32_t max_asid, min_sev_asid, cbit, vm_types;
	uint64_t vmsa_features;
	uint8_t sev_es;
	uint8_t kvm_backend; /* SS_HELLO: softsevd's default SS_KVM_* */
};

/*
 * SS_MEM_ENC_OP with LAUNCH_UPDATE_VMSA: a1 points at a2 VMSA pages (4 KiB
 * each, vCPU index order) followed by a2 int32 statuses (0, or -EINVAL
 * when guest debugging is on or DR7 has non-fixed bits).
 */

/* Per-VM flags the shim reads on its fast path (one load per ioctl). */
struct ss_vm_flags {
	uint8_t dead; /* a MOVE source: every VM and vCPU ioctl -> EIO */
	uint8_t need_init; /* typed VM before INIT2: KVM_RUN -> EINVAL */
	uint8_t protected_state; /* SEV-ES VM type: registers are guarded */
	uint8_t live;
	/* Entry 0 (no VM has id 0) only: a trace is being watched. */
	uint8_t tracing;
	uint8_t sev_active, es_active; /* what the guest's CPU shows (vkvm) */
	uint8_t ghcb_version; /* the GHCB protocol the shim speaks (vkvm) */
	uint8_t vcpu_protected[SS_MAX_VCPUS / 8];
};

/* The environment softsev run passes to the program. */
#define SS_ENV_SOCKET "SOFTSEV_SOCKET"
#define SS_ENV_SEV_PATH "SOFTSEV_SEV_PATH"
#define SS_ENV_CGROUP "SOFTSEV_CGROUP" /* the misc cgroup a process is in */
#define SS_ENV_KVM "SOFTSEV_KVM" /* auto, host or emulated */
enum { SS_KVM_AUTO = 0, SS_KVM_HOST, SS_KVM_EMULATED };
#define SS_CG_NAME_MAX 64

#endif
