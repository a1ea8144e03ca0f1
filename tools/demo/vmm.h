/* SPDX-License-Identifier: MIT */
/*
 * softsev-demo-vmm's parts shared by vmm.c (the demo's VMM) and vmm_es.c
 * (what an SEV-ES guest changes: its VMSA, its exits through the GHCB).
 */
#ifndef SOFTSEV_DEMO_VMM_H
#define SOFTSEV_DEMO_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "demo_step.h"

#define KVM_X86_SEV_VM_TYPE 2ul
#define KVM_X86_SEV_ES_VM_TYPE 3ul
#define ES_POLICY 0x4u /* SEV_POLICY_ES */

struct vm {
	int fd, vcpu;
	struct kvm_run *run;
};

struct vmm {
	struct demo_out o;
	const char *dir, *softsev;
	bool legacy, es;
	uint32_t fw_error;	/* of the last failed SEV command */
	int kvm, sev;
	uint8_t *mem;
	struct vm vm, mirror;
};

/* vmm.c */
__attribute__((noreturn)) void fail(struct vmm *v, int step, const char *what);
int sev_op(struct vmm *v, int vm, uint32_t id, void *data);
int make_vm(struct vmm *v, struct vm *vm, unsigned long type, bool init,
	    uint32_t cap, int from);
int set_cpu(struct vm *vm, uint32_t rip, uint32_t rsp);
void build_data(uint8_t *img);

/* vmm_es.c */
void es_describe_exit(const struct kvm_run *r, char *out, size_t len);
void es_build_image(uint8_t *img);
void es_launch_vmsas(struct vmm *v);
void es_guest_runs(struct vmm *v, uint32_t sev[3], uint32_t *res,
		   uint32_t *tick, char *note, size_t len);
uint32_t es_helper_runs(struct vmm *v);
void es_send_vmsa(struct vmm *v, char *out, size_t len);
void es_received(struct vmm *v, uint32_t handle, uint32_t digest, bool ok);

#endif
