// SPDX-License-Identifier: MIT
/* softsev status: what the emulated machine holds right now. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "proto.h"

/* One request on a fresh connection; returns the fd that came back. */
int cli_request_fd(const char *sock_path, uint32_t op)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct ss_req req = { .op = op };
	struct ss_rep rep;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &rep, sizeof(rep) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), fd = -1;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
	if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof(addr)) ||
	    send(s, &req, sizeof(req), 0) != sizeof(req) ||
	    recvmsg(s, &m, 0) != sizeof(rep) || rep.ret) {
		if (s >= 0)
			close(s);
		return -1;
	}
	if (CMSG_FIRSTHDR(&m))
		memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
	if (op != SS_STATUS)
		return s; /* streams keep the connection */
	close(s);
	return fd;
}

static char *slurp(int fd)
{
	struct stat st;
	char *buf;

	if (fstat(fd, &st) || !(buf = malloc((size_t)st.st_size + 1)))
		return NULL;
	if (read(fd, buf, (size_t)st.st_size) != st.st_size) {
		free(buf);
		return NULL;
	}
	buf[st.st_size] = 0;
	return buf;
}

static json_object *get(json_object *o, const char *path)
{
	char key[64];
	const char *dot;

	while (o && (dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		json_object_object_get_ex(o, key, &o);
		path = dot + 1;
	}
	if (o && !json_object_object_get_ex(o, path, &o))
		return NULL;
	return o;
}

static const char *str(json_object *o, const char *path)
{
	json_object *v = get(o, path);

	return v ? json_object_get_string(v) : "?";
}

static int num(json_object *o, const char *path)
{
	json_object *v = get(o, path);

	return v ? json_object_get_int(v) : 0;
}

static void print_range(json_object *r, const char *name)
{
	if (!num(r, "total")) {
		printf("  %-7s none\n", name);
		return;
	}
	printf("  %-7s %d-%d: %d in use, %d awaiting flush, %d free\n", name,
	       num(r, "first"), num(r, "last"), num(r, "in_use"),
	       num(r, "reclaim"), num(r, "free"));
}

static void print_human(json_object *doc)
{
	json_object *p = get(doc, "platform"), *g = get(doc, "guests");
	json_object *v = get(doc, "vms");
	size_t i;

	printf("platform  %s, API %s build %d, C-bit %d, SEV-ES %s, %d guest "
	       "context(s)\n", str(p, "state"), str(p, "api"), num(p, "build"),
	       num(p, "cbit"), json_object_get_boolean(get(p, "sev_es")) ?
				       "on" : "off",
	       num(p, "guest_contexts"));
	printf("ASIDs     %d flush(es) so far\n", num(p, "asids.flushes"));
	print_range(get(p, "asids.sev"), "SEV");
	print_range(get(p, "asids.sev_es"), "SEV-ES");
	printf("quotas    sev %d/%d, sev_es %d/%d (misc cgroup current/capacity)\n",
	       num(p, "quotas.sev.current"), num(p, "quotas.sev.capacity"),
	       num(p, "quotas.sev_es.current"),
	       num(p, "quotas.sev_es.capacity"));
	printf("guests\n");
	for (i = 0; g && i < json_object_array_length(g); i++) {
		json_object *e = json_object_array_get_idx(g, i);

		printf("  handle %-4d ASID %-4d %-8s policy %s %s\n",
		       num(e, "handle"), num(e, "asid"), str(e, "state"),
		       str(e, "policy.value"),
		       json_object_to_json_string(get(e, "policy.flags")));
		printf("    launch digest %s\n", str(e, "launch_digest"));
	}
	printf("VMs\n");
	for (i = 0; v && i < json_object_array_length(v); i++) {
		json_object *e = json_object_array_get_idx(v, i);

		printf("  #%-4d %-8s %-4s %s ASID %-4d handle %-4d vCPUs %-3d pids %s",
		       num(e, "id"), str(e, "type"),
		       json_object_get_boolean(get(e, "sev")) ?
			       (json_object_get_boolean(get(e, "es")) ? "ES" :
									 "SEV") :
			       "-",
		       json_object_get_boolean(get(e, "dead")) ? "DEAD" : "    ",
		       num(e, "asid"), num(e, "handle"), num(e, "vcpus"),
		       json_object_to_json_string(get(e, "pids")));
		if (get(e, "mirror_of"))
			printf("  mirror of #%d", num(e, "mirror_of"));
		if (num(e, "mirrors"))
			printf("  %d mirror(s)", num(e, "mirrors"));
		printf("  (%s KVM)\n", str(e, "kvm"));
	}
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, 0, 'j' },
		{ "connect", required_argument, 0, 'c' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *sock = getenv(SS_ENV_SOCKET);
	bool json = false;
	json_object *doc;
	char *text;
	int c, fd;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'c':
			sock = optarg;
			break;
		case 'h':
			printf("usage: softsev status [--json] [--connect SOCKET]\n"
			       "Shows the platform, its ASIDs and quotas, the "
			       "firmware's guests and the VMs.\nThe socket "
			       "defaults to $SOFTSEV_SOCKET (set inside softsev "
			       "run).\nJSON fields: docs/status.md.\n");
			return 0;
		default:
			return 2;
		}
	}
	if (!sock) {
		fprintf(stderr, "softsev status: no machine: give --connect "
				"SOCKET or run inside softsev run\n");
		return 2;
	}
	fd = cli_request_fd(sock, SS_STATUS);
	text = fd >= 0 ? slurp(fd) : NULL;
	if (fd >= 0)
		close(fd);
	if (!text) {
		fprintf(stderr, "softsev status: cannot reach softsevd at %s\n",
			sock);
		return 1;
	}
	if (json) {
		fputs(text, stdout);
		putchar('\n');
		free(text);
		return 0;
	}
	doc = json_tokener_parse(text);
	free(text);
	if (!doc)
		return 1;
	print_human(doc);
	json_object_put(doc);
	return 0;
}

/* softsev trace: follow a running machine's trace until interrupted. */
int cmd_trace(int argc, char **argv)
{
	const char *sock = getenv(SS_ENV_SOCKET);
	char line[1100];
	ssize_t n;
	int s;

	if (cli_wants_help(argc, argv)) {
		printf("usage: softsev trace [--connect SOCKET]\n"
		       "Follows a running softsev machine: one decoded line per "
		       "SEV operation.\n");
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--connect"))
		sock = argv[2];
	else if (argc != 1) {
		fprintf(stderr, "usage: softsev trace [--connect SOCKET]\n");
		return 2;
	}
	if (!sock) {
		fprintf(stderr, "softsev trace: no machine: give --connect "
				"SOCKET or run inside softsev run\n");
		return 2;
	}
	s = cli_request_fd(sock, SS_TRACE);
	if (s < 0) {
		fprintf(stderr, "softsev trace: cannot reach softsevd at %s\n",
			sock);
		return 1;
	}
	while ((n = recv(s, line, sizeof(line) - 1, 0)) > 0) {
		line[n] = 0;
		fputs(line, stdout);
		fflush(stdout);
	}
	return 0;
}
