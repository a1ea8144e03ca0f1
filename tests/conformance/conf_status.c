// SPDX-License-Identifier: MIT
/* `softsev status --json` reflects the machine, and nothing leaks. */
#include "conf.h"

#include <json-c/json.h>
#include <signal.h>
#include <sys/wait.h>

static int kvm, sev;

static int setup(void **state)
{
	kvm = kvm_open();
	sev = sev_open();
	return 0;
}

static int teardown(void **state)
{
	close(sev);
	close(kvm);
	return 0;
}

static json_object *status(void)
{
	char cmd[512], buf[1 << 16];
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s status --json", getenv("SOFTSEV_BIN"));
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(buf, 1, sizeof(buf) - 1, p);
	assert_int_equal(pclose(p), 0);
	buf[n] = 0;
	return json_tokener_parse(buf);
}

static json_object *at(json_object *o, const char *k)
{
	json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, k, &v));
	return v;
}

static void test_status_shows_vms(void **state)
{
	uint32_t h;
	int owner = sev_vm(kvm, sev, false, &h), m = vm_new(kvm, 0);
	json_object *doc, *vms, *g;
	size_t i;
	int owner_id = 0, seen_mirror = 0;

	assert_ok(enc_ctx(m, 197, (uint64_t)owner));
	doc = status();
	assert_non_null(doc);
	vms = at(doc, "vms");
	for (i = 0; i < json_object_array_length(vms); i++) {
		json_object *v = json_object_array_get_idx(vms, i), *mo;

		if (json_object_get_int(at(v, "handle")) != (int)h)
			continue;
		if (json_object_object_get_ex(v, "mirror_of", &mo))
			seen_mirror = json_object_get_int(mo);
		else
			owner_id = json_object_get_int(at(v, "id"));
		assert_int_equal(json_object_get_int(
					 json_object_array_get_idx(at(v, "pids"), 0)),
				 getpid());
	}
	assert_true(owner_id > 0);
	assert_int_equal(seen_mirror, owner_id);
	g = at(doc, "guests");
	assert_true(json_object_array_length(g) >= 1);
	assert_string_equal(json_object_get_string(at(at(doc, "platform"),
						      "state")),
			    "WORKING");
	json_object_put(doc);
	close(m);
	close(owner);
}

/* The chaos test: SIGKILL at random points, then nothing has leaked. */
static void test_chaos_nothing_leaks(void **state)
{
	json_object *doc, *asids;
	int round;

	for (round = 0; round < 12; round++) {
		pid_t pid = fork();

		if (!pid) {
			srand((unsigned int)getpid());
			for (;;) {
				struct kvm_sev_launch_start ls = { 0 };
				int a = ioctl(kvm, KVM_CREATE_VM, 0ul);
				int b = ioctl(kvm, KVM_CREATE_VM, 0ul);
				int c = ioctl(kvm, KVM_CREATE_VM, 0ul);

				sev_op(a, rand() % 2 ? KVM_SEV_INIT :
						       KVM_SEV_ES_INIT,
				       NULL, sev, NULL);
				ls.policy = rand() % 2 ? 4 : 0;
				sev_op(a, KVM_SEV_LAUNCH_START, &ls, sev, NULL);
				enc_ctx(b, 197, (uint64_t)a);
				enc_ctx(c, 206, (uint64_t)(rand() % 2 ? a : b));
				ioctl(c, KVM_CREATE_VCPU, 0);
				if (rand() % 3) {
					close(a);
					close(b);
					close(c);
				}
			}
		}
		usleep(1000 + (useconds_t)(rand() % 20000));
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, NULL, 0), pid);
	}
	doc = status();
	assert_non_null(doc);
	assert_int_equal(json_object_array_length(at(doc, "vms")), 0);
	assert_int_equal(json_object_array_length(at(doc, "guests")), 0);
	asids = at(at(doc, "platform"), "asids");
	assert_int_equal(json_object_get_int(at(at(asids, "sev"), "in_use")), 0);
	assert_int_equal(json_object_get_int(at(at(asids, "sev_es"), "in_use")),
			 0);
	{
		json_object *q = at(at(doc, "platform"), "quotas");

		/* sev may drift up: moving a mirror leaks a charge (Q2),
		 * as in the kernel.  Nothing ever charges sev_es that way. */
		assert_int_equal(json_object_get_int(at(at(q, "sev_es"),
							"current")), 0);
	}
	json_object_put(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_shows_vms),
		cmocka_unit_test(test_chaos_nothing_leaks),
	};

	return cmocka_run_group_tests_name("conf_status", tests, setup,
					   teardown);
}
