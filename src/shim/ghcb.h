/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor's half of SEV-ES's GHCB protocol, as Linux 6.12's KVM has
 * it (arch/x86/kvm/svm/sev.c).  ghcb_decode.c reads and checks a GHCB page
 * and nothing else (no vkvm, no I/O), so it can be tested and fuzzed on
 * bytes; ghcb.c is the VMGEXIT handler on top of vkvm's exit services.
 */
#ifndef SOFTSEV_SHIM_GHCB_H
#define SOFTSEV_SHIM_GHCB_H

#include <stdbool.h>
#include <stdint.h>

struct vkvm_gexit;

/* Internal to the preload library: not for the host program to see. */
#pragma GCC visibility push(hidden)

/*
 * Byte offsets in the GHCB page: struct ghcb_save_area and struct ghcb of
 * arch/x86/include/asm/svm.h (6.12).  Fields are little-endian and, in
 * the save area, valid only when their bit (offset / 8, GHCB_BITMAP_IDX)
 * is set in valid_bitmap.
 */
#define GHCB_PAGE_SIZE 4096u
#define GHCB_OFF_CPL 0x0cbu /* u8 */
#define GHCB_OFF_RAX 0x1f8u
#define GHCB_OFF_RCX 0x308u
#define GHCB_OFF_RDX 0x310u
#define GHCB_OFF_RBX 0x318u
#define GHCB_OFF_RSI 0x330u
#define GHCB_OFF_SW_EXIT_CODE 0x390u
#define GHCB_OFF_SW_EXIT_INFO_1 0x398u
#define GHCB_OFF_SW_EXIT_INFO_2 0x3a0u
#define GHCB_OFF_SW_SCRATCH 0x3a8u
#define GHCB_OFF_XCR0 0x3e8u
#define GHCB_OFF_VALID_BITMAP 0x3f0u /* u8[16] */
#define GHCB_VALID_BITMAP_LEN 16u
#define GHCB_OFF_SHARED_BUFFER 0x800u /* u8[2032] */
#define GHCB_OFF_RESERVED_0XFF0 0xff0u
#define GHCB_OFF_PROTOCOL_VERSION 0xffau /* u16 */
#define GHCB_OFF_GHCB_USAGE 0xffcu /* u32 */

/* The GHCB MSR protocol (arch/x86/include/asm/sev-common.h) */
#define GHCB_MSR_INFO_MASK 0xfffull
#define GHCB_MSR_SEV_INFO_RESP 0x001
#define GHCB_MSR_SEV_INFO_REQ 0x002
#define GHCB_MSR_SEV_INFO(max, min, cbit)                                      \
	((((uint64_t)(max)&0xffff) << 48) | (((uint64_t)(min)&0xffff) << 32) | \
	 (((uint64_t)(cbit)&0xff) << 24) | GHCB_MSR_SEV_INFO_RESP)
#define GHCB_MSR_CPUID_REQ 0x004
#define GHCB_MSR_CPUID_RESP 0x005
#define GHCB_MSR_AP_RESET_HOLD_REQ 0x006
#define GHCB_MSR_AP_RESET_HOLD_RESP 0x007
#define GHCB_MSR_PREF_GPA_REQ 0x010
#define GHCB_MSR_REG_GPA_REQ 0x012
#define GHCB_MSR_PSC_REQ 0x014
#define GHCB_MSR_HV_FT_REQ 0x080
#define GHCB_MSR_HV_FT_RESP 0x081
#define GHCB_MSR_TERM_REQ 0x100

/* sev.c: what KVM offers, whatever the VM (SNP, SNP_AP_CREATION) */
#define GHCB_HV_FT_SUPPORTED 3ull
#define GHCB_VERSION_MIN 1u
#define GHCB_VERSION_MAX 2u

/* Reasons in sw_exit_info_2 when sw_exit_info_1 is 2 (sev-common.h) */
#define GHCB_ERR_NOT_REGISTERED 1
#define GHCB_ERR_INVALID_USAGE 2
#define GHCB_ERR_INVALID_SCRATCH_AREA 3
#define GHCB_ERR_MISSING_INPUT 4
#define GHCB_ERR_INVALID_INPUT 5
#define GHCB_ERR_INVALID_EVENT 6

/* Exit codes a GHCB may carry (arch/x86/include/uapi/asm/svm.h) */
#define SVM_EXIT_READ_DR7 0x027
#define SVM_EXIT_WRITE_DR7 0x037
#define SVM_EXIT_RDTSC 0x06e
#define SVM_EXIT_RDPMC 0x06f
#define SVM_EXIT_CPUID 0x072
#define SVM_EXIT_INVD 0x076
#define SVM_EXIT_HLT 0x078
#define SVM_EXIT_IOIO 0x07b
#define SVM_EXIT_MSR 0x07c
#define SVM_EXIT_VMMCALL 0x081
#define SVM_EXIT_RDTSCP 0x087
#define SVM_EXIT_WBINVD 0x089
#define SVM_EXIT_MONITOR 0x08a
#define SVM_EXIT_MWAIT 0x08b
#define SVM_VMGEXIT_MMIO_READ 0x80000001ull
#define SVM_VMGEXIT_MMIO_WRITE 0x80000002ull
#define SVM_VMGEXIT_NMI_COMPLETE 0x80000003ull
#define SVM_VMGEXIT_AP_HLT_LOOP 0x80000004ull
#define SVM_VMGEXIT_AP_JUMP_TABLE 0x80000005ull
#define SVM_VMGEXIT_PSC 0x80000010ull
#define SVM_VMGEXIT_GUEST_REQUEST 0x80000011ull
#define SVM_VMGEXIT_EXT_GUEST_REQUEST 0x80000012ull
#define SVM_VMGEXIT_AP_CREATION 0x80000013ull
#define SVM_VMGEXIT_AP_DESTROY 2
#define SVM_VMGEXIT_HV_FEATURES 0x8000fffdull
#define SVM_VMGEXIT_TERM_REQUEST 0x8000fffeull
#define SVM_VMGEXIT_UNSUPPORTED_EVENT 0x8000ffffull

/* IOIO's exit_info_1 (asm/svm.h) */
#define SVM_IOIO_TYPE_MASK 1u /* IN */
#define SVM_IOIO_STR_MASK (1u << 2)
#define SVM_IOIO_SIZE_SHIFT 4
#define SVM_IOIO_SIZE_MASK (7u << SVM_IOIO_SIZE_SHIFT)

/*
 * svm_complete_emulated_msr()'s sw_exit_info_2 for #GP: X86_TRAP_GP |
 * SVM_EVTINJ_TYPE_EXEPT | SVM_EVTINJ_VALID is an int there (VALID is
 * 1 << 31), so it reaches the u64 field sign-extended.
 */
#define GHCB_EXC_GP 0xffffffff8000030dull
#define GHCB_EXC_UD 0xffffffff80000306ull

/* The valid bits the decoder reports (struct ghcb_in.valid) */
enum {
	GHCB_V_EXIT_CODE = 1u << 0,
	GHCB_V_INFO_1 = 1u << 1,
	GHCB_V_INFO_2 = 1u << 2,
	GHCB_V_SCRATCH = 1u << 3,
	GHCB_V_RAX = 1u << 4,
	GHCB_V_RBX = 1u << 5,
	GHCB_V_RCX = 1u << 6,
	GHCB_V_RDX = 1u << 7,
	GHCB_V_RSI = 1u << 8,
	GHCB_V_CPL = 1u << 9,
	GHCB_V_XCR0 = 1u << 10,
};

/*
 * What sev_es_sync_from_ghcb() takes from the page: the exit code and
 * infos whatever their valid bits, the rest as 0 when not valid.
 */
struct ghcb_in {
	uint64_t exit_code, info_1, info_2, scratch;
	uint64_t rax, rbx, rcx, rdx, rsi, xcr0;
	uint8_t cpl;
	uint32_t valid; /* GHCB_V_* */
	uint32_t usage;
};

/* Little-endian field access on a GHCB page (any alignment). */
uint64_t ghcb_get64(const void *page, unsigned int off);
/* ghcb_set_*(): the field and its valid bit. */
void ghcb_set64(void *page, unsigned int off, uint64_t value);

/* sev_es_sync_from_ghcb(): the fields; the page is not changed. */
void ghcb_sync_from(const void *page, struct ghcb_in *in);
/* sev_es_validate_vmgexit() on a non-SNP VM: 0, or GHCB_ERR_*. */
uint64_t ghcb_validate(const struct ghcb_in *in);
/*
 * Both, then sev_handle_vmgexit()'s check that depends only on the page
 * and the protocol version (MMIO longer than 8 bytes under v2:
 * GHCB_ERR_INVALID_INPUT): 0 if the handler may go on.
 */
uint64_t ghcb_decode(const void *page, uint8_t ghcb_version,
		     struct ghcb_in *in);

/* setup_vmgexit_scratch()'s checks on where the scratch area is. */
enum ghcb_scratch {
	GHCB_SCRATCH_BAD, /* GHCB_ERR_INVALID_SCRATCH_AREA */
	GHCB_SCRATCH_IN_GHCB, /* *where: offset in the page, *len: to 0xff0 */
	GHCB_SCRATCH_OUTSIDE, /* *where: gpa, *len: len, to be copied */
};
#define GHCB_SCRATCH_AREA_LIMIT (16ull * 4096)
enum ghcb_scratch ghcb_scratch_check(uint64_t ghcb_gpa, uint64_t scratch,
				     uint64_t len, uint8_t ghcb_version,
				     uint64_t *where, uint64_t *area_len);

/* ghcb.c: the VMGEXIT handler (a vkvm_gexit_fn) and its per-VM state */
struct shim_es_vm;
int shim_vmgexit(void *opaque, struct vkvm_gexit *g);
struct shim_es_vm *shim_es_new(uint8_t ghcb_version, unsigned int cbit);
void shim_es_free(struct shim_es_vm *vm);
int shim_es_attach(int vmfd, uint8_t ghcb_version, unsigned int cbit);

#pragma GCC visibility pop

#endif
