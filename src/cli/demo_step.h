/* SPDX-License-Identifier: MIT */
/*
 * One line per step of `softsev demo`, shared by the owner (softsev) and
 * the VMM processes it starts: text for people, JSON Lines for machines.
 */
#ifndef SOFTSEV_DEMO_STEP_H
#define SOFTSEV_DEMO_STEP_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <json-c/json.h>

struct demo_out {
	bool json;
	const char *actor;	/* "owner", "vmm@A", "vmm@B" */
	double t0;		/* start of the current step, ms */
};

static inline double demo_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline void demo_begin(struct demo_out *o)
{
	o->t0 = demo_now_ms();
}

/* Ends the step begun last: what happened and why it matters. */
static inline void demo_step(struct demo_out *o, int step, bool ok,
			     const char *what, const char *why)
{
	double ms = demo_now_ms() - o->t0;

	if (o->json) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "step", json_object_new_int(step));
		json_object_object_add(j, "actor",
				       json_object_new_string(o->actor));
		json_object_object_add(j, "ok", json_object_new_boolean(ok));
		json_object_object_add(j, "what", json_object_new_string(what));
		json_object_object_add(j, "why",
				       json_object_new_string(why ? why : ""));
		json_object_object_add(j, "ms", json_object_new_double(ms));
		printf("%s\n", json_object_to_json_string_ext(
				       j, JSON_C_TO_STRING_PLAIN));
		json_object_put(j);
	} else {
		printf("%d %-6s %s%s (%.1f ms)\n", step, o->actor,
		       ok ? "" : "FAILED: ", what, ms);
		if (why && *why)
			printf("         why: %s\n", why);
	}
	fflush(stdout);
	o->t0 = demo_now_ms();
}

#endif
