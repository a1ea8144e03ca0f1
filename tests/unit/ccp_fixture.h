/* SPDX-License-Identifier: MIT */
/* /dev/sev test fixture: a platform (psp_fixture.h) behind a ccp driver. */
#ifndef SOFTSEV_CCP_FIXTURE_H
#define SOFTSEV_CCP_FIXTURE_H

#include "psp_fixture.h"
#include "ccp.h"

struct cx {
	struct fx f;
	struct ccp *ccp;
};

static inline int open_ccp(void **state, bool init_on_probe)
{
	struct cx *c = calloc(1, sizeof(*c));
	struct ccp_config cfg = { .init_on_probe = init_on_probe };

	fx_open(&c->f, true);
	assert_int_equal(ccp_create(c->f.psp, &cfg, &c->ccp), 0);
	*state = c;
	return 0;
}

static inline int setup_probe(void **state)
{
	return open_ccp(state, true);
}

static inline int setup_lazy(void **state)
{
	return open_ccp(state, false);
}

static inline int teardown(void **state)
{
	struct cx *c = *state;

	ccp_destroy(c->ccp);
	fx_close(&c->f, true);
	free(c);
	return 0;
}

#endif
