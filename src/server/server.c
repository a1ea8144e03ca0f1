// SPDX-License-Identifier: MIT
/* softsevd: the machine, its socket and its /dev/sev stand-in. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "server_internal.h"

static int make_socket(struct server *s, char *why, size_t why_len)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	mode_t old;
	int fd;

	if (strlen(s->socket_path) >= sizeof(addr.sun_path)) {
		snprintf(why, why_len, "socket path too long: %s",
			 s->socket_path);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, s->socket_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(s->socket_path);
	old = umask(0077); /* the socket is 0600: only its owner connects */
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(fd, 64)) {
		int e = errno;

		umask(old);
		close(fd);
		snprintf(why, why_len, "cannot listen on %s: %s",
			 s->socket_path, strerror(e));
		return -e;
	}
	umask(old);
	s->listen_fd = fd;
	return 0;
}

/* The file clients open instead of /dev/sev: 0600, like crw------- root. */
static int make_sev_file(struct server *s, char *why, size_t why_len)
{
	int fd = open(s->sev_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0 || fstat(fd, &s->sev_st)) {
		int e = errno;

		snprintf(why, why_len, "cannot create %s: %s", s->sev_path,
			 strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	close(fd);
	return 0;
}

static int make_flags(struct server *s)
{
	s->flags_size = SS_MAX_VMS * sizeof(struct ss_vm_flags);
	s->flags_fd = memfd_create("softsev-flags", MFD_CLOEXEC);
	if (s->flags_fd < 0 || ftruncate(s->flags_fd, (off_t)s->flags_size))
		return -errno;
	s->flags = mmap(NULL, s->flags_size, PROT_READ | PROT_WRITE,
			MAP_SHARED, s->flags_fd, 0);
	return s->flags == MAP_FAILED ? -errno : 0;
}

int server_create(const struct server_config *cfg, struct server **out,
		  char *why, size_t why_len)
{
	struct ccp_config cc = { .init_on_probe = cfg->init_on_probe };
	struct server *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->listen_fd = -1;
	s->flags_fd = -1;
	s->flags = MAP_FAILED;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	pthread_mutex_init(&s->trace_lock, NULL);
	if (cfg->trace_path) {
		s->trace_file = strcmp(cfg->trace_path, "-") ?
					fopen(cfg->trace_path, "ae") :
					stderr;
		if (!s->trace_file) {
			snprintf(why, why_len, "cannot open trace file %s: %s",
				 cfg->trace_path, strerror(errno));
			ret = -errno;
			goto fail;
		}
	}
	s->socket_path = strdup(cfg->socket_path);
	s->sev_path = strdup(cfg->sev_path);
	ret = -ENOMEM;
	if (!s->socket_path || !s->sev_path)
		goto fail;
	ret = psp_create(&cfg->psp, &s->psp, why, why_len);
	if (ret)
		goto fail;
	ret = ccp_create(s->psp, &cc, &s->ccp);
	ret = ret ?: kvm_host_create(s->ccp, &cfg->kvm, &s->host);
	ret = ret ?: make_flags(s);
	if (!ret)
		trace_publish(s);
	if (ret) {
		snprintf(why, why_len, "cannot set up the platform: %s",
			 strerror(-ret));
		goto fail;
	}
	ret = make_sev_file(s, why, why_len);
	ret = ret ?: make_socket(s, why, why_len);
	if (ret)
		goto fail;
	*out = s;
	return 0;
fail:
	server_destroy(s);
	return ret;
}

int server_run(struct server *s)
{
	while (!atomic_load(&s->stopping)) {
		struct pollfd p = { s->listen_fd, POLLIN, 0 };
		int fd;

		if (poll(&p, 1, 200) <= 0)
			continue;
		fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (conn_start(s, fd))
			close(fd);
	}
	return 0;
}

void server_stop(struct server *s)
{
	atomic_store(&s->stopping, true);
}

/* Connection threads are detached; call this only when they are gone. */
void server_destroy(struct server *s)
{
	uint32_t id;

	if (!s)
		return;
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->socket_path);
	}
	for (id = 1; id < SS_MAX_VMS && s->flags != MAP_FAILED; id++) {
		if (s->vms[id].vm) {
			close(s->vms[id].dup_fd);
			kvm_vm_put(s->vms[id].vm);
		}
	}
	if (s->flags != MAP_FAILED)
		munmap(s->flags, s->flags_size);
	if (s->flags_fd >= 0)
		close(s->flags_fd);
	kvm_host_destroy(s->host);
	ccp_destroy(s->ccp);
	psp_destroy(s->psp);
	if (s->trace_file && s->trace_file != stderr)
		fclose(s->trace_file);
	free(s->socket_path);
	free(s->sev_path);
	free(s);
}

struct psp *server_psp(struct server *s)
{
	return s->psp;
}

struct kvm_misc_cg *server_cgroup(struct server *s, const char *name)
{
	int i;

	for (i = 0; i < s->ncgroups; i++)
		if (!strcmp(s->cgroups[i].name, name))
			return s->cgroups[i].cg;
	if (s->ncgroups == MAX_CGROUPS ||
	    kvm_misc_cg_create(s->host, NULL, &s->cgroups[i].cg))
		return NULL;
	snprintf(s->cgroups[i].name, sizeof(s->cgroups[i].name), "%s", name);
	s->ncgroups++;
	return s->cgroups[i].cg;
}

int server_set_cgroup(struct server *s, const char *name, uint64_t sev_max,
		      uint64_t es_max)
{
	struct kvm_misc_cg *cg;

	pthread_mutex_lock(&s->lock);
	cg = server_cgroup(s, name);
	pthread_mutex_unlock(&s->lock);
	if (!cg)
		return -ENOSPC;
	kvm_misc_cg_set_max(cg, KVM_MISC_SEV, sev_max);
	kvm_misc_cg_set_max(cg, KVM_MISC_SEV_ES, es_max);
	return 0;
}
