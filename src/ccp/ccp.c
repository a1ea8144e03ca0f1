// SPDX-License-Identifier: MIT
/*
 * The /dev/sev ioctl layer (firmware spec §10.1–§10.4), modelled on the
 * newest kernel: implicit INIT and SHUTDOWN around platform commands,
 * blobs copied out only on success, lengths always copied back.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ccp.h"
#include "ccp_internal.h"

#define TMR_SIZE (1u << 20)

struct ccp {
	struct psp *psp;
	struct ccp_config cfg;
	pthread_mutex_t cmd_mutex; /* sev_cmd_mutex */
	int state; /* the driver's cached state: only UNINIT or INIT */
	void *tmr; /* SEV-ES Trusted Memory Region handed to INIT */
};

/* Caller holds cmd_mutex (__sev_do_cmd_locked). */
static int do_cmd_locked(struct ccp *ccp, unsigned int cmd, void *data,
			 const struct psp_mem *mem, int *error)
{
	int st = psp_cmd(ccp->psp, cmd, data, mem ? mem : &psp_mem_direct);

	if (error)
		*error = st;
	return st ? -EIO : 0;
}

int ccp_do_cmd(struct ccp *ccp, unsigned int cmd, void *data,
	       const struct psp_mem *mem, int *error)
{
	int ret;

	pthread_mutex_lock(&ccp->cmd_mutex);
	ret = do_cmd_locked(ccp, cmd, data, mem, error);
	pthread_mutex_unlock(&ccp->cmd_mutex);
	return ret;
}

/*
 * __sev_platform_init_locked: INIT (with ES when a TMR exists), retried
 * once on SECURE_DATA_INVALID, then WBINVD + DF_FLUSH (§8.5, §10.4).
 */
static int platform_init_locked(struct ccp *ccp, int *error)
{
	struct psp_init init = { 0 };
	int ret, err = 0;

	if (ccp->state == PSP_INIT)
		return 0;
	if (ccp->tmr) {
		init.flags = PSP_INIT_FLAGS_ES;
		init.tmr_paddr = (uintptr_t)ccp->tmr;
		init.tmr_len = TMR_SIZE;
	}
	ret = do_cmd_locked(ccp, PSP_CMD_INIT, &init, NULL, &err);
	if (ret && err == SEV_RET_SECURE_DATA_INVALID)
		ret = do_cmd_locked(ccp, PSP_CMD_INIT, &init, NULL, &err);
	if (error)
		*error = err;
	if (ret)
		return ret;
	ccp->state = PSP_INIT;
	psp_wbinvd(ccp->psp);
	return do_cmd_locked(ccp, PSP_CMD_DF_FLUSH, NULL, NULL, error);
}

static int platform_shutdown_locked(struct ccp *ccp, int *error)
{
	int ret;

	if (ccp->state == PSP_UNINIT)
		return 0;
	ret = do_cmd_locked(ccp, PSP_CMD_SHUTDOWN, NULL, NULL, error);
	if (ret)
		return ret;
	ccp->state = PSP_UNINIT;
	return 0;
}

int ccp_platform_init(struct ccp *ccp, int *error)
{
	int ret;

	pthread_mutex_lock(&ccp->cmd_mutex);
	ret = platform_init_locked(ccp, error);
	pthread_mutex_unlock(&ccp->cmd_mutex);
	return ret;
}

int ccp_platform_shutdown(struct ccp *ccp, int *error)
{
	int ret;

	pthread_mutex_lock(&ccp->cmd_mutex);
	ret = platform_shutdown_locked(ccp, error);
	pthread_mutex_unlock(&ccp->cmd_mutex);
	return ret;
}

void ccp_wbinvd(struct ccp *ccp)
{
	psp_wbinvd(ccp->psp);
}

void ccp_lock(struct ccp *ccp)
{
	pthread_mutex_lock(&ccp->cmd_mutex);
}

void ccp_unlock(struct ccp *ccp)
{
	pthread_mutex_unlock(&ccp->cmd_mutex);
}

int ccp_cmd_locked(struct ccp *ccp, unsigned int cmd, void *data, int *error)
{
	return do_cmd_locked(ccp, cmd, data, NULL, error);
}

int ccp_init_locked(struct ccp *ccp, int *error)
{
	return platform_init_locked(ccp, error);
}

int ccp_shutdown_locked(struct ccp *ccp, int *error)
{
	return platform_shutdown_locked(ccp, error);
}

int ccp_cached_state(struct ccp *ccp)
{
	return ccp->state;
}

struct psp *ccp_psp(struct ccp *ccp)
{
	return ccp->psp;
}

int ccp_create(struct psp *psp, const struct ccp_config *cfg,
	       struct ccp **out)
{
	struct ccp *ccp = calloc(1, sizeof(*ccp));
	int err;

	if (!ccp)
		return -ENOMEM;
	ccp->psp = psp;
	ccp->cfg = *cfg;
	pthread_mutex_init(&ccp->cmd_mutex, NULL);
	/* The driver allocates a TMR only when SEV-ES is available. */
	if (psp_config(psp)->es &&
	    posix_memalign(&ccp->tmr, TMR_SIZE, TMR_SIZE)) {
		free(ccp);
		return -ENOMEM;
	}
	/* At probe the driver reads the real state (§10.4). */
	ccp->state = psp_platform_state(psp) == PSP_UNINIT ? PSP_UNINIT :
							     PSP_INIT;
	if (cfg->init_on_probe && platform_init_locked(ccp, &err)) {
		ccp_destroy(ccp);
		return -EIO;
	}
	*out = ccp;
	return 0;
}

void ccp_destroy(struct ccp *ccp)
{
	if (!ccp)
		return;
	free(ccp->tmr);
	pthread_mutex_destroy(&ccp->cmd_mutex);
	free(ccp);
}
