// SPDX-License-Identifier: MIT
/*
 * Fault injection: make chosen firmware commands fail with a chosen
 * status, once, every Nth time or with probability p — what real hardware
 * cannot be made to do, for testing a VMM's error paths.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "psp_internal.h"

static int lookup_cmd(const char *name, size_t len)
{
	unsigned int id;

	for (id = 1; id < 0x100; id++) {
		const char *n = psp_cmd_name(id);

		if (strlen(n) == len && !strncmp(n, name, len) &&
		    strcmp(n, "UNKNOWN"))
			return (int)id;
	}
	return -1;
}

static int lookup_status(const char *name)
{
	char *end;
	long v;
	int s;

	for (s = 0; s < 0x28; s++)
		if (!strcmp(psp_status_name(s), name))
			return s;
	v = strtol(name, &end, 0);
	if (*name && !*end && v > 0 && v < 0x10000)
		return (int)v;
	return -1;
}

/* "CMD=STATUS[@once|@every=N|@p=P]", e.g. "DF_FLUSH=HWERROR_PLATFORM@once". */
int psp_fault_parse(const char *spec, struct psp_fault *f)
{
	const char *eq = strchr(spec, '='), *at;
	char status[64];
	size_t n;
	int cmd, st;

	memset(f, 0, sizeof(*f));
	if (!eq)
		return -EINVAL;
	cmd = lookup_cmd(spec, (size_t)(eq - spec));
	at = strchr(eq, '@');
	n = at ? (size_t)(at - eq - 1) : strlen(eq + 1);
	if (cmd < 0 || n == 0 || n >= sizeof(status))
		return -EINVAL;
	memcpy(status, eq + 1, n);
	status[n] = 0;
	st = lookup_status(status);
	if (st <= 0)
		return -EINVAL;
	f->cmd = (unsigned int)cmd;
	f->status = st;
	f->mode = PSP_FAULT_ALWAYS;
	if (!at)
		return 0;
	if (!strcmp(at, "@once")) {
		f->mode = PSP_FAULT_ONCE;
	} else if (!strncmp(at, "@every=", 7)) {
		f->mode = PSP_FAULT_EVERY;
		f->every = (unsigned int)strtoul(at + 7, NULL, 10);
		if (!f->every)
			return -EINVAL;
	} else if (!strncmp(at, "@p=", 3)) {
		f->mode = PSP_FAULT_PROB;
		f->p = strtod(at + 3, NULL);
		if (f->p <= 0 || f->p > 1)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	return 0;
}

int psp_fault_add(struct psp *psp, const struct psp_fault *f)
{
	struct psp_fault *n;

	pthread_mutex_lock(&psp->lock);
	n = realloc(psp->faults, (psp->nfaults + 1) * sizeof(*n));
	if (!n) {
		pthread_mutex_unlock(&psp->lock);
		return -ENOMEM;
	}
	psp->faults = n;
	psp->faults[psp->nfaults++] = *f;
	pthread_mutex_unlock(&psp->lock);
	return 0;
}

void psp_fault_clear(struct psp *psp)
{
	pthread_mutex_lock(&psp->lock);
	free(psp->faults);
	psp->faults = NULL;
	psp->nfaults = 0;
	pthread_mutex_unlock(&psp->lock);
}

/* Caller holds psp->lock.  The injected status, or 0. */
int psp_fault_check(struct psp *psp, unsigned int cmd)
{
	unsigned int i;

	for (i = 0; i < psp->nfaults; i++) {
		struct psp_fault *f = &psp->faults[i];
		bool fire = false;

		if (f->cmd != cmd)
			continue;
		f->calls++;
		switch (f->mode) {
		case PSP_FAULT_ALWAYS:
			fire = true;
			break;
		case PSP_FAULT_ONCE:
			fire = !f->fired;
			break;
		case PSP_FAULT_EVERY:
			fire = f->calls % f->every == 0;
			break;
		case PSP_FAULT_PROB:
			fire = (double)rand_r(&psp->seed) / RAND_MAX < f->p;
			break;
		}
		if (fire) {
			f->fired++;
			return f->status;
		}
	}
	return 0;
}
