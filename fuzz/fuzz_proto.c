// SPDX-License-Identifier: MIT
/*
 * Fuzz the shim <-> softsevd protocol: a real server in this process, a
 * fresh connection per input, optionally after a proper HELLO, then the
 * input as one message.  Pointers in requests are steered into a scratch
 * area, because the server really writes the client's (our) memory.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto.h"
#include "server.h"

static char sock_path[108];
static uint8_t scratch[3 * 4096];

static void *serve(void *arg)
{
	server_run(arg);
	return NULL;
}

static void setup(void)
{
	static char dir[] = "/tmp/softsev-fuzz-XXXXXX";
	static char sev[128];
	struct server_config cfg;
	struct server *s;
	pthread_t t;

	if (!mkdtemp(dir))
		abort();
	snprintf(sock_path, sizeof(sock_path), "%s/sock", dir);
	snprintf(sev, sizeof(sev), "%s/sev", dir);
	memset(&cfg, 0, sizeof(cfg));
	psp_config_default(&cfg.psp);
	cfg.psp.rsa_bits = 2048;
	kvm_host_config_default(&cfg.kvm);
	cfg.init_on_probe = true;
	cfg.socket_path = sock_path;
	cfg.sev_path = sev;
	if (server_create(&cfg, &s, NULL, 0) ||
	    pthread_create(&t, NULL, serve, s))
		abort();
}

static void exchange(int s, const void *msg, size_t len)
{
	struct pollfd p = { s, POLLIN, 0 };
	char reply[256];

	if (send(s, msg, len, MSG_NOSIGNAL) < 0)
		return;
	if (poll(&p, 1, 1000) == 1)
		recv(s, reply, sizeof(reply), MSG_DONTWAIT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	uint8_t msg[4096];
	int s;

	if (!sock_path[0])
		setup();
	if (!size || size > sizeof(msg))
		return 0;
	memcpy(msg, data, size);
	if (size >= sizeof(struct ss_req)) {
		struct ss_req *r = (struct ss_req *)msg;

		/* Anything the server writes lands in the scratch area. */
		r->arg = (uintptr_t)scratch + r->arg % 4096;
		if (r->op == SS_MEM_ENC_OP || r->op == SS_SEV_IOCTL)
			r->a1 = (uintptr_t)scratch + r->a1 % 4096;
	}
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof(addr))) {
		if (s >= 0)
			close(s);
		return 0;
	}
	if (data[0] & 1) {
		struct ss_req hello = { .op = SS_HELLO, .a1 = 1, .a2 = 2 };

		exchange(s, &hello, sizeof(hello));
	}
	exchange(s, msg, size);
	close(s);
	return 0;
}
