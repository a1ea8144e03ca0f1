/* SPDX-License-Identifier: MIT */
/*
 * server/ — softsevd: one emulated machine (psp + ccp + kvm) behind a unix
 * seqpacket socket.  Clients are processes (address spaces) identified by
 * SO_PEERCRED and an image token; each thread of a client may hold its own
 * connection.  A VM is identified by its open file: the server keeps a dup
 * of every VM fd and finds a client's fd among them with kcmp(KCMP_FILE),
 * whose total order makes the lookup a binary search.
 */
#ifndef SOFTSEV_SERVER_H
#define SOFTSEV_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "kvm.h"
#include "psp.h"

struct server_config {
	const char *socket_path;
	const char *sev_path; /* the file that stands for /dev/sev */
	struct psp_config psp;
	struct kvm_host_config kvm;
	bool init_on_probe;
	const char *trace_path; /* "-" for stderr; NULL: no trace file */
	uint8_t kvm_backend; /* SS_KVM_*: clients' KVM unless they say */
};

struct server;

int server_create(const struct server_config *cfg, struct server **out,
		  char *why, size_t why_len);
/* Accept and serve clients until server_stop(); 0 or -errno. */
int server_run(struct server *s);
void server_stop(struct server *s);
void server_destroy(struct server *s);
struct psp *server_psp(struct server *s);
/* A misc cgroup for processes started with SOFTSEV_CGROUP=name; limits
 * are misc.max for sev and sev_es (UINT64_MAX: no limit). */
int server_set_cgroup(struct server *s, const char *name, uint64_t sev_max,
		      uint64_t es_max);

#endif
