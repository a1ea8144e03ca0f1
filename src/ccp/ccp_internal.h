/* SPDX-License-Identifier: MIT */
/* Shared between the files of ccp/ only. */
#ifndef SOFTSEV_CCP_INTERNAL_H
#define SOFTSEV_CCP_INTERNAL_H

#include "ccp.h"

#ifndef ENOIOCTLCMD
#define ENOIOCTLCMD 515 /* kernel-internal "no such ioctl" marker */
#endif

void ccp_lock(struct ccp *ccp);
void ccp_unlock(struct ccp *ccp);
/* Callers hold the lock. */
int ccp_cmd_locked(struct ccp *ccp, unsigned int cmd, void *data, int *error);
int ccp_init_locked(struct ccp *ccp, int *error);
int ccp_shutdown_locked(struct ccp *ccp, int *error);
int ccp_cached_state(struct ccp *ccp);

#endif
