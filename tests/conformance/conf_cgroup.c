// SPDX-License-Identifier: MIT
/*
 * Per-group quotas (the misc cgroup's sev and sev_es): run with
 * `softsev run --cgroup-max tight:sev=1 --cgroup tight`.
 */
#include "conf.h"

static void test_group_limit(void **state)
{
	int kvm = kvm_open(), sev = sev_open();
	int a = vm_new(kvm, 0), b = vm_new(kvm, 0), c = vm_new(kvm, 0);

	assert_string_equal(getenv("SOFTSEV_CGROUP"), "tight");
	assert_ok(sev_op(a, KVM_SEV_INIT, NULL, sev, NULL));
	/* misc.max sev = 1: the second SEV ASID is refused, EBUSY. */
	assert_errno(sev_op(b, KVM_SEV_INIT, NULL, sev, NULL), EBUSY);
	/* sev_es is a separate resource with no limit here. */
	assert_ok(sev_op(b, KVM_SEV_ES_INIT, NULL, sev, NULL));
	/* Freeing the first lets another in. */
	close(a);
	assert_ok(sev_op(c, KVM_SEV_INIT, NULL, sev, NULL));
	close(c);
	close(b);
	close(sev);
	close(kvm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_limit),
	};

	return cmocka_run_group_tests_name("conf_cgroup", tests, NULL, NULL);
}
