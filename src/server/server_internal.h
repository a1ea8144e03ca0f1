/* SPDX-License-Identifier: MIT */
/* Internals of softsevd; see server.h. */
#ifndef SOFTSEV_SERVER_INTERNAL_H
#define SOFTSEV_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "ccp.h"
#include "proto.h"
#include "server.h"

/* One VM as the server sees it: the model's VM and a dup of its file. */
struct svm {
	struct kvm_vm *vm;
	int dup_fd;
	unsigned int refs; /* client fd references, over all processes */
};

/* A client process image (address space). */
struct sproc {
	struct sproc *next;
	pid_t pid;
	uint64_t token[2];
	uint64_t mm; /* our name for its address space */
	unsigned int conns;
	unsigned int *vm_refs; /* per VM id: fds this process holds */
	struct kvm_misc_cg *cg; /* its misc cgroup; NULL = the root */
	/*
	 * All connections gone but the process still holds VM files: it
	 * exec'd, and its new image will adopt them (or it will exit).
	 */
	bool orphan;
};

struct server {
	struct server_config cfg;
	char *socket_path, *sev_path;
	struct stat sev_st;
	int listen_fd;
	atomic_bool stopping;
	struct psp *psp;
	struct ccp *ccp;
	struct kvm_host *host;
	pthread_mutex_t lock; /* VM table and process list */
	struct svm vms[SS_MAX_VMS];
	uint32_t order[SS_MAX_VMS]; /* live ids sorted by kcmp file order */
	unsigned int nr_order;
	struct ss_vm_flags *flags;
	int flags_fd;
	size_t flags_size;
	struct sproc *procs;
	uint64_t next_mm;
	struct conn *conns; /* every live connection */
	pthread_mutex_t trace_lock;
	FILE *trace_file;
#define TRACE_MAX_SUBS 16
	int trace_sub[TRACE_MAX_SUBS];
	int trace_subs;
	pthread_cond_t idle; /* a connection finished a request */
#define MAX_CGROUPS 64
	struct named_cg {
		char name[SS_CG_NAME_MAX];
		struct kvm_misc_cg *cg;
	} cgroups[MAX_CGROUPS];
	int ncgroups;
};

/* vmtable.c — callers hold s->lock. */
int vmt_add(struct server *s, struct kvm_vm *vm, int fd, uint32_t *id);
int vmt_find(struct server *s, int fd, uint32_t *id);
/* "host" or "emulated": the KVM behind VM id */
const char *vmt_backend(struct server *s, uint32_t id);
void vmt_ref(struct server *s, struct sproc *p, uint32_t id);
void vmt_unref(struct server *s, struct sproc *p, uint32_t id);
void vmt_refresh(struct server *s, uint32_t id);

/* trace.c */
bool trace_on(struct server *s);
void trace_publish(struct server *s);
const char *trace_ioctl_name(uint64_t req);
const char *trace_note_why(uint64_t req, int err);
void trace_line(struct server *s, pid_t pid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void trace_result(char *buf, size_t len, int ret, int fw, bool fw_called);
void trace_policy(char *buf, size_t len, uint32_t p);
const char *trace_kvm_cmd(uint32_t id);
const char *trace_sev_cmd(uint32_t id);
int trace_subscribe(struct server *s, int sock);
void trace_unsubscribe(struct server *s, int sock);

/* status.c: the JSON status document, in a memfd. */
int status_memfd(struct server *s);

/* The group called name, made (unlimited) on first use; s->lock held. */
struct kvm_misc_cg *server_cgroup(struct server *s, const char *name);

/* conn.c */
struct conn;
void *conn_main(void *arg);
int conn_start(struct server *s, int sock);

#endif
