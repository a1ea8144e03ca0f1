// SPDX-License-Identifier: MIT
/* softsevd: run one emulated SEV machine until SIGTERM or SIGINT. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto.h"
#include "server.h"

#define MAX_FAULTS 32
#define MAX_CG 16

/* "NAME[:sev=N][,sev_es=M]" */
static int add_cgroup(struct server *s, const char *spec)
{
	uint64_t sev = UINT64_MAX, es = UINT64_MAX;
	char name[64];
	const char *colon = strchr(spec, ':'), *p;
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);

	if (!n || n >= sizeof(name))
		return -EINVAL;
	memcpy(name, spec, n);
	name[n] = 0;
	for (p = colon; p && *p; p = strchr(p + 1, ',')) {
		unsigned long long v;

		if (sscanf(p + 1, "sev=%llu", &v) == 1)
			sev = v;
		else if (sscanf(p + 1, "sev_es=%llu", &v) == 1)
			es = v;
		else
			return -EINVAL;
	}
	return server_set_cgroup(s, name, sev, es);
}

static struct server *srv;

static void on_signal(int sig)
{
	(void)sig;
	if (srv)
		server_stop(srv);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: softsevd --socket PATH [--sev-path PATH] [--state-dir DIR]\n"
		"                [--model NAME] [--asids N] [--min-sev-asid N]\n"
		"                [--no-sev-es] [--fault SPEC]... [--fw-latency US]\n"
		"                [--trace FILE] [--ready-fd FD]\n"
		"                [--kvm auto|host|emulated] [--strict-memory]\n"
		"\n"
		"Runs one software AMD SEV machine (a virtual Secure Processor\n"
		"and KVM's SEV support) for programs started with\n"
		"`softsev run --connect PATH`.\n"
		"\n"
		"  --socket PATH     unix socket clients connect to (created 0600)\n"
		"  --sev-path PATH   file that stands for /dev/sev (created 0600;\n"
		"                    default: SOCKET.dev-sev)\n"
		"  --state-dir DIR   platform identity (ARK/ASK, CEK, OCA/PEK/PDH);\n"
		"                    default: volatile, made anew at each start\n"
		"  --model NAME      naples, rome, milan, genoa (default) or turin:\n"
		"                    ASID count and SEV-ES split, C-bit, firmware API\n"
		"  --asids N         number of encrypted-guest ASIDs (CPUID ECX)\n"
		"  --min-sev-asid N  first plain-SEV ASID (CPUID EDX); below it SEV-ES\n"
		"  --no-sev-es       SEV-ES disabled on this host (kvm_amd sev_es=0)\n"
		"  --fault SPEC      make a firmware command fail: CMD=STATUS, then\n"
		"                    @once, @every=N or @p=P (default: always), e.g.\n"
		"                    DF_FLUSH=HWERROR_PLATFORM@once; repeatable\n"
		"  --fw-latency US[,US_PER_MIB]\n"
		"                    firmware time per command, plus per MiB moved\n"
		"  --cgroup NAME[:sev=N][,sev_es=M]\n"
		"                    a misc cgroup with those limits; processes with\n"
		"                    SOFTSEV_CGROUP=NAME are in it (repeatable)\n"
		"  --trace FILE      one decoded line per operation to FILE ('-':\n"
		"                    stderr); `softsev trace` follows a running one\n"
		"  --ready-fd FD     write one byte to FD once clients can connect\n"
		"  --kvm MODE        the KVM clients get unless SOFTSEV_KVM says:\n"
		"                    the host's /dev/kvm, softsev's emulated one, or\n"
		"                    the host's when it opens (auto, the default)\n"
		"  --strict-memory   guest-private memory is ciphertext in the VMM's\n"
		"                    buffers (the memory engine, AES-128-XTS under\n"
		"                    the guest's VEK); the guest computes on\n"
		"                    plaintext.  Every client gets the emulated KVM\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, 0, 's' },
		{ "sev-path", required_argument, 0, 'd' },
		{ "state-dir", required_argument, 0, 'S' },
		{ "ready-fd", required_argument, 0, 'r' },
		{ "model", required_argument, 0, 'm' },
		{ "asids", required_argument, 0, 'a' },
		{ "min-sev-asid", required_argument, 0, 'n' },
		{ "no-sev-es", no_argument, 0, 'E' },
		{ "fault", required_argument, 0, 'f' },
		{ "trace", required_argument, 0, 't' },
		{ "cgroup", required_argument, 0, 'g' },
		{ "fw-latency", required_argument, 0, 'l' },
		{ "kvm", required_argument, 0, 'k' },
		{ "strict-memory", no_argument, 0, 'M' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct server_config cfg;
	struct sigaction sa;
	char why[512], *sev_default = NULL;
	int c, ready = -1, ret, asids = -1, min_sev = -1, i, nfaults = 0;
	const char *cgs[MAX_CG];
	int ncg = 0;
	struct psp_fault faults[MAX_FAULTS];

	memset(&cfg, 0, sizeof(cfg));
	psp_config_default(&cfg.psp);
	kvm_host_config_default(&cfg.kvm);
	cfg.init_on_probe = true;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			cfg.socket_path = optarg;
			break;
		case 'd':
			cfg.sev_path = optarg;
			break;
		case 'S':
			cfg.psp.state_dir = optarg;
			break;
		case 'r':
			ready = atoi(optarg);
			break;
		case 'm':
			if (psp_config_model(&cfg.psp, optarg)) {
				fprintf(stderr,
					"softsevd: unknown model '%s' (one of: %s)\n",
					optarg, psp_model_names());
				return 2;
			}
			break;
		case 'a':
			asids = atoi(optarg);
			break;
		case 'n':
			min_sev = atoi(optarg);
			break;
		case 'E':
			cfg.kvm.sev_es = false;
			break;
		case 'k':
			if (!strcmp(optarg, "auto")) {
				cfg.kvm_backend = SS_KVM_AUTO;
			} else if (!strcmp(optarg, "host")) {
				cfg.kvm_backend = SS_KVM_HOST;
			} else if (!strcmp(optarg, "emulated")) {
				cfg.kvm_backend = SS_KVM_EMULATED;
			} else {
				fprintf(stderr, "softsevd: --kvm takes auto, "
						"host or emulated\n");
				return 2;
			}
			break;
		case 't':
			cfg.trace_path = optarg;
			break;
		case 'M':
			cfg.psp.mem_mode = PSP_MEM_XTS;
			break;
		case 'g':
			if (ncg == MAX_CG) {
				fprintf(stderr, "softsevd: too many --cgroup\n");
				return 2;
			}
			cgs[ncg++] = optarg;
			break;
		case 'f':
			if (nfaults == MAX_FAULTS ||
			    psp_fault_parse(optarg, &faults[nfaults])) {
				fprintf(stderr,
					"softsevd: bad --fault '%s' (CMD=STATUS[@once|@every=N|@p=P])\n",
					optarg);
				return 2;
			}
			nfaults++;
			break;
		case 'l':
			if (sscanf(optarg, "%u,%u", &cfg.psp.latency_us,
				   &cfg.psp.latency_us_per_mib) < 1) {
				fprintf(stderr, "softsevd: bad --fw-latency '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!cfg.socket_path) {
		usage(stderr);
		return 2;
	}
	/* strict memory: the guest must run where vkvm's private view is */
	if (cfg.psp.mem_mode == PSP_MEM_XTS) {
		if (cfg.kvm_backend == SS_KVM_HOST) {
			fprintf(stderr, "softsevd: --strict-memory needs the "
					"emulated KVM\n");
			return 2;
		}
		cfg.kvm_backend = SS_KVM_EMULATED;
	}
	/* Explicit layouts override the model's (CPUID 0x8000001F ECX/EDX). */
	if (asids >= 0)
		cfg.psp.max_asid = cfg.psp.max_guests = (unsigned int)asids;
	if (min_sev >= 0)
		cfg.psp.min_sev_asid = (unsigned int)min_sev;
	if (!cfg.sev_path) {
		/* softsev run --connect SOCKET looks for it here. */
		if (asprintf(&sev_default, "%s.dev-sev", cfg.socket_path) < 0)
			return 1;
		cfg.sev_path = sev_default;
	}
	if (cfg.psp.state_dir && mkdir(cfg.psp.state_dir, 0700) &&
	    errno != EEXIST) {
		fprintf(stderr, "softsevd: cannot create %s: %s\n",
			cfg.psp.state_dir, strerror(errno));
		return 1;
	}
	ret = server_create(&cfg, &srv, why, sizeof(why));
	if (ret) {
		fprintf(stderr, "softsevd: %s\n", why[0] ? why : strerror(-ret));
		return 1;
	}
	for (i = 0; i < nfaults; i++)
		psp_fault_add(server_psp(srv), &faults[i]);
	for (i = 0; i < ncg; i++) {
		if (add_cgroup(srv, cgs[i])) {
			fprintf(stderr,
				"softsevd: bad --cgroup '%s' (NAME[:sev=N][,sev_es=M])\n",
				cgs[i]);
			return 2;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (ready >= 0) {
		if (write(ready, "", 1) != 1)
			perror("softsevd: ready-fd");
		close(ready);
	}
	server_run(srv);
	/* Connection threads may still run: leave cleanup to the exit. */
	return 0;
}
