// SPDX-License-Identifier: MIT
/*
 * SEV operation costs under softsev: one ioctl round trip (GUEST_STATUS,
 * median and 99th percentile), LAUNCH_UPDATE_DATA / DBG_DECRYPT /
 * SEND_UPDATE_DATA throughput, COPY/MOVE and VM create/destroy rates, and
 * round trips with 10,000 VMs alive.  Run it under `softsev run`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/psp-sev.h>

static int sev;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int op(int vm, uint32_t id, void *data)
{
	struct kvm_sev_cmd c = { .id = id, .data = (uintptr_t)data,
				 .sev_fd = (uint32_t)sev };

	return ioctl(vm, KVM_MEMORY_ENCRYPT_OP, &c);
}

static int sev_vm(int kvm)
{
	struct kvm_sev_launch_start ls = { 0 };
	int vm = ioctl(kvm, KVM_CREATE_VM, 0ul);

	if (vm < 0 || op(vm, KVM_SEV_INIT, NULL) ||
	    op(vm, KVM_SEV_LAUNCH_START, &ls)) {
		perror("sev vm");
		exit(1);
	}
	return vm;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void rtt(int vm, const char *label, int n)
{
	struct kvm_sev_guest_status gs;
	double *v = malloc(sizeof(double) * (size_t)n);
	int i;

	for (i = 0; i < n; i++) {
		double t = now();

		op(vm, KVM_SEV_GUEST_STATUS, &gs);
		v[i] = now() - t;
	}
	qsort(v, (size_t)n, sizeof(double), cmp);
	printf("%s: median %.1f us, p99 %.1f us\n", label, v[n / 2] / 1e3,
	       v[n * 99 / 100] / 1e3);
	free(v);
}

int main(void)
{
	size_t big = 256u << 20;
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	int kvm = open("/dev/kvm", O_RDWR), vm, i, n;
	uint8_t *mem;
	double t;

	setrlimit(RLIMIT_NOFILE, &rl);
	sev = open("/dev/sev", O_RDWR);
	if (kvm < 0 || sev < 0)
		return 1;
	vm = sev_vm(kvm);
	rtt(vm, "GUEST_STATUS round trip", 20000);

	mem = mmap(NULL, big, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	memset(mem, 0x5a, big);
	{
		struct kvm_sev_launch_update_data up = { (uintptr_t)mem,
							 (uint32_t)(big / 4) };

		t = now();
		for (i = 0; i < 4; i++) {
			up.uaddr = (uintptr_t)mem + i * (big / 4);
			if (op(vm, KVM_SEV_LAUNCH_UPDATE_DATA, &up))
				perror("update");
		}
		printf("LAUNCH_UPDATE_DATA: %.2f GB/s\n", big / (now() - t));
	}
	{
		uint8_t *out = malloc(64u << 20);
		struct kvm_sev_dbg d = { (uintptr_t)mem, (uintptr_t)out,
					 64u << 20 };

		t = now();
		if (op(vm, KVM_SEV_DBG_DECRYPT, &d))
			perror("dbg");
		printf("DBG_DECRYPT: %.2f GB/s\n", (64u << 20) / (now() - t));
		free(out);
	}
	{
		uint8_t m[48];
		struct kvm_sev_launch_measure lm = { (uintptr_t)m, 48 };
		struct sev_user_data_pdh_cert_export e;
		static uint8_t pdh[0x824], chain[3 * 0x824], session[0x80];
		static uint8_t amd[4096], hdr[0x34], trans[4096];
		struct sev_issue_cmd c = { SEV_PDH_CERT_EXPORT, (uintptr_t)&e, 0 };
		struct kvm_sev_send_start ss = { 0 };
		struct kvm_sev_send_update_data su = { 0 };

		op(vm, KVM_SEV_LAUNCH_MEASURE, &lm);
		op(vm, KVM_SEV_LAUNCH_FINISH, NULL);
		e = (struct sev_user_data_pdh_cert_export){
			(uintptr_t)pdh, 0x824, (uintptr_t)chain, 3 * 0x824
		};
		ioctl(sev, SEV_ISSUE_CMD, &c);
		ss.pdh_cert_uaddr = (uintptr_t)pdh;
		ss.pdh_cert_len = 0x824;
		ss.plat_certs_uaddr = (uintptr_t)chain;
		ss.plat_certs_len = 3 * 0x824;
		ss.amd_certs_uaddr = (uintptr_t)amd; /* not checked: no SEV bit */
		ss.amd_certs_len = sizeof(amd);
		ss.session_uaddr = (uintptr_t)session;
		ss.session_len = 0x80;
		if (op(vm, KVM_SEV_SEND_START, &ss))
			perror("send start");
		su.hdr_uaddr = (uintptr_t)hdr;
		su.hdr_len = sizeof(hdr);
		su.trans_uaddr = (uintptr_t)trans;
		su.trans_len = sizeof(trans);
		su.guest_len = 4096;
		n = 16384; /* 64 MiB, page by page as KVM allows */
		t = now();
		for (i = 0; i < n; i++) {
			su.guest_uaddr = (uintptr_t)mem + (size_t)i * 4096;
			if (op(vm, KVM_SEV_SEND_UPDATE_DATA, &su)) {
				perror("send update");
				break;
			}
		}
		printf("SEND_UPDATE_DATA (4 KiB packets): %.2f GB/s\n",
		       (double)n * 4096 / (now() - t));
	}
	{
		struct kvm_enable_cap cap = { .cap = KVM_CAP_VM_COPY_ENC_CONTEXT_FROM };
		int owner = sev_vm(kvm), k = 2000;

		t = now();
		for (i = 0; i < k; i++) {
			int m = ioctl(kvm, KVM_CREATE_VM, 0ul);

			cap.args[0] = (uint64_t)owner;
			ioctl(m, KVM_ENABLE_CAP, &cap);
			close(m);
		}
		printf("VM create + COPY + close: %.0f per second\n",
		       k / ((now() - t) / 1e9));
		cap.cap = KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM;
		t = now();
		for (i = 0; i < k; i++) {
			int d = ioctl(kvm, KVM_CREATE_VM, 0ul);

			cap.args[0] = (uint64_t)owner;
			if (ioctl(d, KVM_ENABLE_CAP, &cap))
				perror("move");
			close(owner);
			owner = d;
		}
		printf("VM create + MOVE + close: %.0f per second\n",
		       k / ((now() - t) / 1e9));
		close(owner);
	}
	{
		int *vms = malloc(sizeof(int) * 10000), k;

		t = now();
		for (k = 0; k < 10000; k++) {
			vms[k] = ioctl(kvm, KVM_CREATE_VM, 0ul);
			if (vms[k] < 0)
				break;
		}
		printf("%d VMs created: %.0f per second\n", k,
		       k / ((now() - t) / 1e9));
		rtt(vm, "GUEST_STATUS with 10000 VMs alive", 5000);
		t = now();
		for (i = 0; i < k; i++)
			close(vms[i]);
		printf("%d VMs closed: %.0f per second\n", k,
		       k / ((now() - t) / 1e9));
		free(vms);
	}
	return 0;
}
