/* SPDX-License-Identifier: MIT */
/*
 * ccp/ — the Linux /dev/sev driver in front of the firmware model
 * (firmware spec §10): SEV_ISSUE_CMD with the user structs of
 * <linux/psp-sev.h>, the write-permission rules, implicit INIT/SHUTDOWN,
 * length-query copy-back, and the in-kernel API that KVM uses.
 *
 * Every function returns 0 or a negative errno; the firmware status goes
 * to *error (SEV_RET_*), as the kernel's sev_do_cmd() does.
 */
#ifndef SOFTSEV_CCP_H
#define SOFTSEV_CCP_H

#include <stdbool.h>
#include <stdint.h>

#include "psp.h"

/* User command ids newer than some build machines' headers (§10.1). */
#define CCP_SNP_PLATFORM_STATUS 9
#define CCP_SNP_COMMIT 10
#define CCP_SNP_SET_CONFIG 11
#define CCP_SNP_VLEK_LOAD 12
#define CCP_SEV_MAX 13

/* include/linux/psp-sev.h: the largest blob the driver copies. */
#define SEV_FW_BLOB_MAX_SIZE 0x4000
/* The kernel's ENOTSUPP (not ENOTSUP), returned for GET_ID on API < 0.16. */
#define CCP_ENOTSUPP 524

struct ccp_config {
	/*
	 * Newer kernels INIT the platform when kvm_amd loads (psp_init_on_probe);
	 * false models psp_init_on_probe=0: the first user INITs it.
	 */
	bool init_on_probe;
};

struct ccp;

int ccp_create(struct psp *psp, const struct ccp_config *cfg,
	       struct ccp **out);
void ccp_destroy(struct ccp *ccp);

/*
 * ioctl() on an open /dev/sev.  writable: the file was opened for writing.
 * user: the calling process's memory, where arg and every address in the
 * user structs live.
 */
int ccp_ioctl(struct ccp *ccp, bool writable, unsigned long request,
	      uint64_t arg, const struct psp_mem *user);

/* In-kernel API (sev_platform_init, sev_do_cmd, wbinvd_on_all_cpus). */
int ccp_platform_init(struct ccp *ccp, int *error);
int ccp_platform_shutdown(struct ccp *ccp, int *error);
/* data is a firmware buffer; addresses in it resolve through mem. */
int ccp_do_cmd(struct ccp *ccp, unsigned int cmd, void *data,
	       const struct psp_mem *mem, int *error);
void ccp_wbinvd(struct ccp *ccp);
struct psp *ccp_psp(struct ccp *ccp);

#endif
