// SPDX-License-Identifier: MIT
/*
 * softsev: the command-line front end.
 *   softsev run [options] -- CMD ARGS...   run CMD on a software SEV host
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdbool.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "proto.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: softsev run [options] -- CMD [ARGS...]\n"
		"       softsev status [--json] [--connect SOCKET]\n"
		"       softsev trace [--connect SOCKET]\n"
		"       softsev certs export|verify ...   (softsev certs for help)\n"
		"       softsev owner session|measure|vmsa|verify|secret ...\n"
		"       softsev demo [--json] [--legacy-init] [--keep DIR]\n"
		"       softsev qemu-args [--policy P] ...  (QEMU's -object sev-guest)\n"
		"\n"
		"Runs CMD so that it sees an AMD SEV/SEV-ES host: /dev/sev, KVM's\n"
		"SEV ioctls, the SEV VM types, mirror VMs and intra-host migration,\n"
		"answered by a software Secure Processor.  Everything else goes to\n"
		"the host's /dev/kvm, or to softsev's emulated KVM where there is\n"
		"none.  The exit status is CMD's.\n"
		"\n"
		"options:\n"
		"  --connect SOCKET   use a running softsevd instead of a private one\n"
		"  --model NAME       naples, rome, milan, genoa (default), turin\n"
		"  --asids N          number of SEV ASIDs (CPUID 0x8000001F ECX)\n"
		"  --min-sev-asid N   first plain-SEV ASID; lower ones are SEV-ES\n"
		"  --no-sev-es        a host without SEV-ES\n"
		"  --fault CMD=STATUS[@once|@every=N|@p=P]\n"
		"                     make a firmware command fail (repeatable)\n"
		"  --fw-latency US[,US_PER_MIB]\n"
		"                     firmware time per command (and per MiB)\n"
		"  --trace[=FILE]     one decoded line per SEV operation (stderr)\n"
		"  --cgroup NAME      run CMD in misc cgroup NAME (SOFTSEV_CGROUP)\n"
		"  --cgroup-max NAME:sev=N,sev_es=M\n"
		"                     limits of a misc cgroup (misc.max)\n"
		"  --kvm=auto|host|emulated\n"
		"                     the KVM CMD gets: the host's /dev/kvm, softsev's\n"
		"                     emulated one (vkvm, on Unicorn), or the host's\n"
		"                     when it opens (auto, the default; SOFTSEV_KVM)\n"
		"  --strict-memory    the guest's private memory is ciphertext in CMD's\n"
		"                     buffers, as on hardware (emulated KVM only;\n"
		"                     implies --kvm=emulated)\n"
		"  --state-dir DIR    platform identity (default: $SOFTSEV_STATE_DIR,\n"
		"                     else ~/.local/state/softsev; /var/lib/softsev\n"
		"                     for root)\n"
		"  -h, --help         this text\n");
}

bool cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

/* Next to this binary, in the build tree, or installed. */
int cli_find_sibling(const char *const *cands, char *out, size_t len)
{
	char exe[PATH_MAX], *dir;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int i;

	if (n <= 0)
		return -ENOENT;
	exe[n] = 0;
	dir = dirname(exe);
	for (i = 0; cands[i]; i++) {
		snprintf(out, len, "%s/%s", dir, cands[i]);
		if (!access(out, R_OK))
			return 0;
	}
	return -ENOENT;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static void default_state_dir(char *out, size_t len)
{
	const char *env = getenv("SOFTSEV_STATE_DIR"), *home = getenv("HOME");

	if (env && *env)
		snprintf(out, len, "%s", env);
	else if (geteuid() == 0)
		snprintf(out, len, "/var/lib/softsev");
	else
		snprintf(out, len, "%s/.local/state/softsev", home ? home : ".");
}

static int rm_entry(const char *p, const struct stat *s, int f,
		    struct FTW *w)
{
	return remove(p);
}

/* Start softsevd and wait until it listens; returns its pid. */
/* Options passed through to softsevd. */
static char *server_args[64];
static int nserver_args;

static void pass(const char *opt, const char *val)
{
	if (nserver_args + 2 >= (int)(sizeof(server_args) / sizeof(server_args[0])))
		return;
	server_args[nserver_args++] = (char *)opt;
	if (val)
		server_args[nserver_args++] = (char *)val;
}

/*
 * SIGTERM and SIGHUP to softsev run: passed on to its program, which it
 * then waits for; before the program runs (the server still starting),
 * they end the start.  Either way the server is stopped, not left behind.
 */
static volatile sig_atomic_t run_signal;
static volatile pid_t run_child;

static void on_run_signal(int sig)
{
	run_signal = sig;
	if (run_child > 0)
		kill(run_child, sig);
}

static void catch_run_signals(void)
{
	struct sigaction sa = { .sa_handler = on_run_signal };

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}
static pid_t start_server(const char *sock, const char *sev,
			  const char *state)
{
	static const char *const cands[] = { "softsevd", "../server/softsevd",
					     NULL };
	char daemon[PATH_MAX], fdbuf[16];
	struct pollfd p;
	int pipefd[2];
	pid_t pid;
	char c;

	if (cli_find_sibling(cands, daemon, sizeof(daemon))) {
		fprintf(stderr, "softsev: cannot find softsevd next to softsev\n");
		return -1;
	}
	if (pipe2(pipefd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int w = fcntl(pipefd[1], F_DUPFD, 3);

		char *argv[80] = { "softsevd", "--socket", (char *)sock,
				   "--sev-path", (char *)sev, "--state-dir",
				   (char *)state, "--ready-fd", fdbuf };
		int i;

		snprintf(fdbuf, sizeof(fdbuf), "%d", w);
		for (i = 0; i < nserver_args; i++)
			argv[9 + i] = server_args[i];
		execv(daemon, argv);
		_exit(127);
	}
	close(pipefd[1]);
	/* First start makes the platform identity: allow for RSA keygen. */
	p.fd = pipefd[0];
	p.events = POLLIN;
	if (poll(&p, 1, 120000) != 1 || read(pipefd[0], &c, 1) != 1) {
		if (!run_signal)
			fprintf(stderr,
				"softsev: softsevd did not start (see above)\n");
		close(pipefd[0]);
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		return -1;
	}
	close(pipefd[0]);
	return pid;
}

static int run_cmd(char **argv, const char *sock, const char *sev)
{
	static const char *const cands[] = {
		"libsoftsev-preload.so", "../shim/libsoftsev-preload.so",
		"../lib/libsoftsev-preload.so", NULL
	};
	char shim[PATH_MAX], preload[2 * PATH_MAX];
	const char *old = getenv("LD_PRELOAD");
	int status;
	pid_t pid;

	if (cli_find_sibling(cands, shim, sizeof(shim))) {
		fprintf(stderr, "softsev: cannot find libsoftsev-preload.so\n");
		return 127;
	}
	snprintf(preload, sizeof(preload), "%s%s%s", shim, old ? ":" : "",
		 old ? old : "");
	pid = fork();
	if (pid < 0)
		return 127;
	if (!pid) {
		setenv("LD_PRELOAD", preload, 1);
		setenv(SS_ENV_SOCKET, sock, 1);
		setenv(SS_ENV_SEV_PATH, sev, 1);
		execvp(argv[0], argv);
		fprintf(stderr, "softsev: cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	signal(SIGINT, SIG_IGN);
	run_child = pid;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "connect", required_argument, 0, 'c' },
		{ "state-dir", required_argument, 0, 's' },
		{ "model", required_argument, 0, 'm' },
		{ "asids", required_argument, 0, 'a' },
		{ "min-sev-asid", required_argument, 0, 'n' },
		{ "no-sev-es", no_argument, 0, 'E' },
		{ "fault", required_argument, 0, 'f' },
		{ "fw-latency", required_argument, 0, 'l' },
		{ "trace", optional_argument, 0, 't' },
		{ "cgroup", required_argument, 0, 'g' },
		{ "cgroup-max", required_argument, 0, 'x' },
		{ "kvm", required_argument, 0, 'k' },
		{ "strict-memory", no_argument, 0, 'M' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	char rundir[] = "/tmp/softsev-run-XXXXXX";
	bool strict = false;
	char sock[PATH_MAX], sev[PATH_MAX + 8], state[PATH_MAX];
	const char *connect_to = NULL;
	pid_t server = 0;
	int c, ret;

	default_state_dir(state, sizeof(state));
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			connect_to = optarg;
			break;
		case 's':
			snprintf(state, sizeof(state), "%s", optarg);
			break;
		case 'm':
			pass("--model", optarg);
			break;
		case 'a':
			pass("--asids", optarg);
			break;
		case 'n':
			pass("--min-sev-asid", optarg);
			break;
		case 'E':
			pass("--no-sev-es", NULL);
			break;
		case 'f':
			pass("--fault", optarg);
			break;
		case 'l':
			pass("--fw-latency", optarg);
			break;
		case 't':
			pass("--trace", optarg ? optarg : "-");
			break;
		case 'g':
			setenv(SS_ENV_CGROUP, optarg, 1);
			break;
		case 'x':
			pass("--cgroup", optarg);
			break;
		case 'k':
			if (strcmp(optarg, "auto") && strcmp(optarg, "host") &&
			    strcmp(optarg, "emulated")) {
				fprintf(stderr, "softsev: --kvm takes auto, host "
						"or emulated, not '%s'\n", optarg);
				return 2;
			}
			if (!strcmp(optarg, "host") && access("/dev/kvm", R_OK | W_OK)) {
				fprintf(stderr, "softsev: --kvm=host: /dev/kvm: %s; "
						"use --kvm=emulated (or auto) on a "
						"machine without KVM\n", strerror(errno));
				return 1;
			}
			setenv(SS_ENV_KVM, optarg, 1);
			break;
		case 'M':
			strict = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (strict) {
		const char *k = getenv(SS_ENV_KVM);

		if (connect_to) {
			fprintf(stderr, "softsev: --strict-memory belongs to the "
					"server: start softsevd with it\n");
			return 2;
		}
		if (k && !strcmp(k, "host")) {
			fprintf(stderr, "softsev: --strict-memory needs the "
					"emulated KVM (a guest on the host's "
					"KVM would run on ciphertext)\n");
			return 2;
		}
		setenv(SS_ENV_KVM, "emulated", 1);
		pass("--strict-memory", NULL);
	}
	if (connect_to) {
		snprintf(sock, sizeof(sock), "%s", connect_to);
		snprintf(sev, sizeof(sev), "%s.dev-sev", connect_to);
		catch_run_signals();
		return run_cmd(argv + optind, sock, sev);
	}
	if (mkdir_p(state)) {
		fprintf(stderr, "softsev: cannot create state directory %s: %s\n",
			state, strerror(errno));
		return 1;
	}
	if (!mkdtemp(rundir)) {
		perror("softsev: mkdtemp");
		return 1;
	}
	snprintf(sock, sizeof(sock), "%s/sock", rundir);
	snprintf(sev, sizeof(sev), "%s/dev-sev", rundir);
	catch_run_signals();
	server = start_server(sock, sev, state);
	ret = server > 0 && !run_signal ? run_cmd(argv + optind, sock, sev) :
	      run_signal ? 128 + run_signal : 1;
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
	}
	nftw(rundir, rm_entry, 4, FTW_DEPTH | FTW_PHYS);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "status"))
		return cmd_status(argc - 1, argv + 1);
	if (!strcmp(argv[1], "trace"))
		return cmd_trace(argc - 1, argv + 1);
	if (!strcmp(argv[1], "certs"))
		return cmd_certs(argc - 1, argv + 1);
	if (!strcmp(argv[1], "owner"))
		return cmd_owner(argc - 1, argv + 1);
	if (!strcmp(argv[1], "demo"))
		return cmd_demo(argc - 1, argv + 1);
	if (!strcmp(argv[1], "qemu-args"))
		return cmd_qemu_args(argc - 1, argv + 1);
	fprintf(stderr, "softsev: unknown command '%s'; try softsev --help\n",
		argv[1]);
	return 2;
}
