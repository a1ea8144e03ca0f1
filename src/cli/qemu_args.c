// SPDX-License-Identifier: MIT
/*
 * softsev qemu-args: the QEMU options that launch an SEV guest on this
 * host under `softsev run`.
 *
 * QEMU's sev_kvm_init() compares the sev-guest object's cbitpos with the
 * host's own CPUID leaf 0x8000001F (EBX bits 5:0), read with the CPUID
 * instruction -- which nothing in softsev can interpose.  On a host
 * without SEV that leaf reads 0 (an Intel CPU answers a leaf beyond its
 * range with another leaf's values), so QEMU accepts only the value the
 * instruction gives here, not the C-bit (51) softsev's platform reports
 * through KVM_GET_SUPPORTED_CPUID.  This command runs the same
 * instruction and prints what QEMU will accept.  reduced-phys-bits must
 * be at least 1 in QEMU 7.2; the host's EBX bits 11:6 when it has them.
 */
#include <cpuid.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <fcntl.h>
#include <unistd.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: softsev qemu-args [--policy P] [--id ID] [--kvm=auto|host|emulated]\n"
		"                         [--dh-cert-file FILE --session-file FILE]\n"
		"\n"
		"Prints the QEMU options that launch an SEV guest under softsev run\n"
		"on this host, for example:\n"
		"  softsev run -- qemu-system-x86_64 -machine q35 $(softsev qemu-args) \\\n"
		"      -bios /usr/share/ovmf/OVMF.fd ...\n"
		"cbitpos is what QEMU reads from this CPU's CPUID 0x8000001F (QEMU\n"
		"refuses any other value); with the emulated KVM (no usable\n"
		"/dev/kvm, or --kvm=emulated) kernel-irqchip=off is added, as the\n"
		"emulated KVM has no in-kernel interrupt controllers.\n");
}

/* What QEMU's host_cpuid(0x8000001F, 0, ...) gives: no range check. */
static unsigned int host_leaf_ebx(void)
{
	unsigned int a, b, c, d;

	__cpuid_count(0x8000001f, 0, a, b, c, d);
	(void)a;
	(void)c;
	(void)d;
	return b;
}

/* The shim's --kvm=auto rule (docs/fidelity.md V1). */
static int host_kvm_usable(void)
{
	struct stat st;
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (fstat(fd, &st) || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 10 ||
	    minor(st.st_rdev) != 232) {
		close(fd);
		return 0;
	}
	close(fd);
	return 1;
}

static int emulated(const char *kvm)
{
	if (!kvm)
		kvm = getenv("SOFTSEV_KVM");
	if (kvm && !strcmp(kvm, "emulated"))
		return 1;
	if (kvm && !strcmp(kvm, "host"))
		return 0;
	return !host_kvm_usable();
}

int cmd_qemu_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "id", required_argument, NULL, 'i' },
		{ "kvm", required_argument, NULL, 'k' },
		{ "dh-cert-file", required_argument, NULL, 'd' },
		{ "session-file", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *policy = "0x0", *id = "sev0", *kvm = NULL;
	const char *dh = NULL, *session = NULL;
	unsigned int ebx, cbit, reduced;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			policy = optarg;
			break;
		case 'i':
			id = optarg;
			break;
		case 'k':
			kvm = optarg;
			break;
		case 'd':
			dh = optarg;
			break;
		case 's':
			session = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || (!dh != !session)) {
		fprintf(stderr, "softsev qemu-args: --dh-cert-file and "
				"--session-file go together (softsev owner "
				"session writes both)\n");
		return 2;
	}
	if (kvm && strcmp(kvm, "auto") && strcmp(kvm, "host") &&
	    strcmp(kvm, "emulated")) {
		fprintf(stderr,
			"softsev qemu-args: --kvm takes auto, host or "
			"emulated, not '%s'\n",
			kvm);
		return 2;
	}
	ebx = host_leaf_ebx();
	cbit = ebx & 0x3f;
	reduced = (ebx >> 6) & 0x3f;
	printf("-accel kvm -machine confidential-guest-support=%s%s "
	       "-object sev-guest,id=%s,policy=%s,cbitpos=%u,reduced-phys-bits=%u",
	       id, emulated(kvm) ? ",kernel-irqchip=off" : "", id, policy, cbit,
	       reduced ? reduced : 1);
	if (dh)
		printf(",dh-cert-file=%s,session-file=%s", dh, session);
	printf("\n");
	return 0;
}
