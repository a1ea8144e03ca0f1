// SPDX-License-Identifier: MIT
/*
 * One client connection: the request loop, and the kvm_caller that lets
 * the model reach the client's memory, fds, limits and vCPU registers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <linux/capability.h>
#include <linux/kcmp.h>
#include <unistd.h>

#include "server_internal.h"

struct conn {
	struct conn *next; /* s->conns, under s->lock */
	bool busy; /* serving a request */
	struct server *s;
	int sock;
	pid_t pid;
	struct sproc *proc;
	struct kvm_caller caller;
	struct psp_mem mem;
	/* Per request: */
	int rx_fd; /* a file received with the request, or -1 */
	uint32_t cap_src; /* the VM the vm_fd callback resolved */
	uint64_t vmsa_buf;
	uint32_t nvmsa;
	bool close_out; /* the fd sent with the reply is ours to close */
	/* Facts about the client that hold for one request: */
	bool limits_read;
	struct map_range {
		uint64_t lo, hi;
		bool r, w;
	} *maps;
	size_t nmaps, maps_cap;
	bool maps_read;
	int sev_fd_ok; /* the fd number last found to be /dev/sev, or -1 */
};

/* --- the client's memory, as copy_from_user/copy_to_user see it --- */

static int mem_xfer(struct conn *c, uint64_t addr, void *buf, size_t len,
		    bool write)
{
	while (len) {
		size_t chunk = len > (1u << 30) ? (1u << 30) : len;
		struct iovec l = { buf, chunk };
		struct iovec r = { (void *)(uintptr_t)addr, chunk };
		ssize_t n = write ? process_vm_writev(c->pid, &l, 1, &r, 1, 0) :
				    process_vm_readv(c->pid, &l, 1, &r, 1, 0);

		if (n <= 0)
			return -EFAULT;
		len -= (size_t)n;
		addr += (uint64_t)n;
		buf = (uint8_t *)buf + n;
	}
	return 0;
}

static int mem_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return mem_xfer(ctx, addr, buf, len, false);
}

static int mem_write(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	return mem_xfer(ctx, addr, (void *)buf, len, true);
}

static const struct psp_mem_ops mem_ops = { mem_read, mem_write };

/* The client's mappings, read once per request (/proc/PID/maps). */
static int read_maps(struct conn *c)
{
	char path[64], line[512];
	FILE *f;

	c->nmaps = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", c->pid);
	f = fopen(path, "re");
	if (!f)
		return -EFAULT;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perm[5];

		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perm) != 3)
			continue;
		if (c->nmaps == c->maps_cap) {
			size_t cap = c->maps_cap ? 2 * c->maps_cap : 256;
			struct map_range *m = realloc(c->maps, cap * sizeof(*m));

			if (!m)
				break;
			c->maps = m;
			c->maps_cap = cap;
		}
		c->maps[c->nmaps].lo = lo;
		c->maps[c->nmaps].hi = hi;
		c->maps[c->nmaps].r = perm[0] == 'r';
		c->maps[c->nmaps].w = perm[1] == 'w';
		c->nmaps++;
	}
	fclose(f);
	c->maps_read = true;
	return 0;
}

/* The mapping containing addr (maps are sorted), or NULL. */
static const struct map_range *map_at(struct conn *c, uint64_t addr)
{
	size_t lo = 0, hi = c->nmaps;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (addr < c->maps[mid].lo)
			hi = mid;
		else if (addr >= c->maps[mid].hi)
			lo = mid + 1;
		else
			return &c->maps[mid];
	}
	return NULL;
}

/*
 * pin_user_pages: the range must be covered by mappings that allow the
 * access (PROT_NONE, holes and read-only-for-write fail).
 */
static int pin(void *ctx, uint64_t uaddr, uint64_t len, bool write)
{
	struct conn *c = ctx;
	uint64_t at = uaddr, end = uaddr + len;

	/* A one-page read pin: one byte read tells as much as the maps. */
	if (!write && len <= 4096) {
		uint8_t b;

		return mem_read(c, uaddr, &b, 1) ? -EFAULT : 0;
	}
	if (!c->maps_read && read_maps(c))
		return -EFAULT;
	while (at < end) {
		const struct map_range *m = map_at(c, at);

		if (!m || !m->r || (write && !m->w))
			return -EFAULT;
		at = m->hi;
	}
	return 0;
}

/* cmd.sev_fd: an open file in the client that is our /dev/sev. */
static int sev_fd(void *ctx, int fd)
{
	struct conn *c = ctx;
	char path[64];
	struct stat st;

	if (fd < 0)
		return -EBADF;
	/* One request resolves the same number many times (one per page). */
	if (fd == c->sev_fd_ok)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", c->pid, fd);
	if (stat(path, &st))
		return -EBADF;
	if (st.st_dev != c->s->sev_st.st_dev ||
	    st.st_ino != c->s->sev_st.st_ino)
		return -EBADF;
	c->sev_fd_ok = fd;
	return 0;
}

/* args[0] of KVM_ENABLE_CAP: the shim sent that file if it was open. */
static int vm_fd(void *ctx, unsigned int fd, struct kvm_vm **vm)
{
	struct conn *c = ctx;
	uint32_t id;
	int ret;

	(void)fd;
	if (c->rx_fd < 0)
		return -EBADF;
	pthread_mutex_lock(&c->s->lock);
	ret = vmt_find(c->s, c->rx_fd, &id);
	if (!ret) {
		kvm_vm_get(c->s->vms[id].vm);
		*vm = c->s->vms[id].vm;
		c->cap_src = id;
	}
	pthread_mutex_unlock(&c->s->lock);
	return ret;
}

/* The shim read every vCPU's registers and built the VMSAs. */
static int build_vmsa(void *ctx, struct kvm_vcpu *vcpu, uint64_t features,
		      uint8_t *vmsa)
{
	struct conn *c = ctx;
	uint32_t i = (uint32_t)kvm_vcpu_index(vcpu);
	int32_t status;

	if (i >= c->nvmsa)
		return -EINVAL;
	if (mem_read(c, c->vmsa_buf + (uint64_t)c->nvmsa * 4096 + i * 4,
		     &status, 4) ||
	    mem_read(c, c->vmsa_buf + (uint64_t)i * 4096, vmsa, 4096))
		return -EFAULT;
	if (status)
		return status;
	memcpy(vmsa + 0x3B0, &features, 8); /* sev_features = vmsa_features */
	return 0;
}

/* RLIMIT_MEMLOCK and CAP_IPC_LOCK of the client, now (two syscalls). */
static void refresh_limits(struct conn *c)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3,
						c->pid };
	struct __user_cap_data_struct caps[2];
	struct rlimit rl;

	c->caller.rlimit_memlock = UINT64_MAX;
	if (!prlimit(c->pid, RLIMIT_MEMLOCK, NULL, &rl) &&
	    rl.rlim_cur != RLIM_INFINITY)
		c->caller.rlimit_memlock = rl.rlim_cur;
	c->caller.cap_ipc_lock = false;
	if (!syscall(SYS_capget, &hdr, caps))
		c->caller.cap_ipc_lock = caps[0].effective &
					 (1u << CAP_IPC_LOCK);
	c->limits_read = true;
}

/* --- the process table --- */

static struct sproc *proc_get(struct server *s, pid_t pid,
			      const uint64_t token[2])
{
	struct sproc *p;

	for (p = s->procs; p; p = p->next)
		if (p->pid == pid && !memcmp(p->token, token, 16))
			break;
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return NULL;
		p->vm_refs = calloc(SS_MAX_VMS, sizeof(*p->vm_refs));
		if (!p->vm_refs) {
			free(p);
			return NULL;
		}
		p->pid = pid;
		memcpy(p->token, token, 16);
		p->mm = ++s->next_mm;
		p->next = s->procs;
		s->procs = p;
	}
	p->conns++;
	return p;
}

/* Does process pid still have file dup (one of ours) open? */
static bool pid_holds(pid_t pid, int dup)
{
	char path[64];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] != '.' &&
		    syscall(SYS_kcmp, pid, getpid(), KCMP_FILE, fd, dup) == 0)
			found = true;
	}
	closedir(d);
	return found;
}

static struct sproc *orphan_for(struct server *s, pid_t pid)
{
	struct sproc *p;

	for (p = s->procs; p; p = p->next)
		if (p->orphan && p->pid == pid)
			return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->vm_refs = calloc(SS_MAX_VMS, sizeof(*p->vm_refs));
	if (!p->vm_refs) {
		free(p);
		return NULL;
	}
	p->pid = pid;
	p->orphan = true;
	p->mm = ++s->next_mm;
	p->next = s->procs;
	s->procs = p;
	return p;
}

/*
 * A child forked a moment ago holds its parent's files before its shim
 * has told us so.  When the parent lets go of a VM's last reference,
 * look for such a child and give it the reference.
 */
static bool pass_to_child(struct server *s, struct sproc *p, uint32_t id)
{
	char path[320];
	struct dirent *de;
	DIR *tasks;
	bool done = false;

	if (s->vms[id].refs != p->vm_refs[id])
		return false; /* someone else holds it anyway */
	snprintf(path, sizeof(path), "/proc/%d/task", p->pid);
	tasks = opendir(path);
	while (tasks && !done && (de = readdir(tasks))) {
		FILE *f;
		int child;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/children",
			 p->pid, de->d_name);
		f = fopen(path, "re");
		while (f && !done && fscanf(f, "%d", &child) == 1) {
			struct sproc *o;

			if (!pid_holds(child, s->vms[id].dup_fd))
				continue;
			o = orphan_for(s, child);
			if (!o)
				continue;
			p->vm_refs[id]--;
			o->vm_refs[id]++;
			done = true;
		}
		if (f)
			fclose(f);
	}
	if (tasks)
		closedir(tasks);
	return done;
}

/*
 * Drop the references of a process without connections, except those to
 * files it still has open (exec keeps non-CLOEXEC fds) or that a child
 * forked a moment ago holds.  Returns whether any remain.
 */
static bool proc_release(struct server *s, struct sproc *p)
{
	bool kept = false;
	uint32_t id;

	for (id = 1; id < SS_MAX_VMS; id++) {
		if (!p->vm_refs[id])
			continue;
		if (pid_holds(p->pid, s->vms[id].dup_fd)) {
			kept = true;
			continue;
		}
		while (p->vm_refs[id] && !pass_to_child(s, p, id))
			vmt_unref(s, p, id);
	}
	return kept;
}

static void proc_free(struct server *s, struct sproc *p)
{
	struct sproc **pp;

	for (pp = &s->procs; *pp != p; pp = &(*pp)->next)
		;
	*pp = p->next;
	free(p->vm_refs);
	free(p);
}

/* The last connection of a process went away: it holds nothing now. */
static void proc_put(struct server *s, struct sproc *p)
{
	if (--p->conns)
		return;
	if (proc_release(s, p))
		p->orphan = true;
	else
		proc_free(s, p);
}

/* Orphans whose files are gone (the process closed them or exited). */
static void reap_orphans(struct server *s)
{
	struct sproc *p, *next;

	for (p = s->procs; p; p = next) {
		next = p->next;
		if (p->orphan && !proc_release(s, p))
			proc_free(s, p);
	}
}

/* A new image of an exec'd process takes over its orphaned references. */
static bool adopt_from_orphan(struct server *s, struct sproc *np, uint32_t id)
{
	struct sproc *p;

	for (p = s->procs; p; p = p->next) {
		if (!p->orphan || p->pid != np->pid || !p->vm_refs[id])
			continue;
		p->vm_refs[id]--;
		np->vm_refs[id]++;
		return true;
	}
	return false;
}

/*
 * A process that exited has closed its sockets before its parent's wait()
 * returns, as the kernel releases a VM file before that.  Settle such
 * connections before serving anything, so nobody sees a VM that a dead
 * process held.  Caller holds s->lock.
 */
static void reap_hung_up(struct server *s, struct conn *self)
{
	struct conn *c;

	reap_orphans(s);
again:
	for (c = s->conns; c; c = c->next) {
		struct pollfd p = { c->sock, POLLRDHUP, 0 };

		if (c == self || !c->proc)
			continue;
		if (poll(&p, 1, 0) != 1 || !(p.revents & (POLLHUP | POLLRDHUP)))
			continue;
		if (c->busy) {
			/* Killed mid-request: let that request finish. */
			pthread_cond_wait(&s->idle, &s->lock);
			goto again;
		}
		proc_put(s, c->proc);
		c->proc = NULL;
	}
}

/* --- messages --- */

/*
 * Sleeping between two requests costs a cross-CPU wakeup (tens of
 * microseconds on VMs) each way; a VMM's SEV commands come in bursts, so
 * poll briefly before blocking.
 */
#define SPIN_NS 30000

static bool readable_soon(int sock)
{
	struct timespec a, b;
	struct pollfd p = { sock, POLLIN, 0 };

	clock_gettime(CLOCK_MONOTONIC, &a);
	do {
		if (poll(&p, 1, 0) == 1)
			return true;
		clock_gettime(CLOCK_MONOTONIC, &b);
	} while ((b.tv_sec - a.tv_sec) * 1000000000L + b.tv_nsec - a.tv_nsec <
		 SPIN_NS);
	return false;
}

static ssize_t recv_req(int sock, struct ss_req *req, int *fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { req, sizeof(*req) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n;

	*fd = -1;
	readable_soon(sock);
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	for (cm = CMSG_FIRSTHDR(&msg); n > 0 && cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(cm), sizeof(int));
	/* A message longer than a request is garbage, not a request. */
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		return -1;
	return n;
}

static int send_rep(int sock, const struct ss_rep *rep, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { (void *)rep, sizeof(*rep) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (fd >= 0) {
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == sizeof(*rep) ? 0 : -EIO;
}

/* A VM this process names by id, or NULL (never-registered, or gone). */
static struct kvm_vm *vm_of(struct conn *c, uint32_t id)
{
	if (!id || id >= SS_MAX_VMS || !c->proc->vm_refs[id])
		return NULL;
	return c->s->vms[id].vm;
}

static void hello(struct conn *c, const struct ss_req *req,
		  struct ss_rep *rep, int *out_fd)
{
	struct server *s = c->s;
	const struct psp_config *pc = psp_config(s->psp);
	uint64_t token[2] = { req->a1, req->a2 };
	uint64_t feat;

	if (c->proc) {
		rep->ret = -EPROTO;
		return;
	}
	pthread_mutex_lock(&s->lock);
	c->proc = proc_get(s, c->pid, token);
	pthread_mutex_unlock(&s->lock);
	if (!c->proc) {
		rep->ret = -ENOMEM;
		return;
	}
	c->caller.mm = c->proc->mm;
	rep->flags_size = (uint32_t)s->flags_size;
	rep->max_asid = pc->max_asid;
	rep->min_sev_asid = pc->min_sev_asid;
	rep->cbit = pc->cbit;
	rep->vm_types = (uint32_t)kvm_check_extension(s->host, KVM_CAP_VM_TYPES);
	rep->sev_es = !kvm_get_device_attr(s->host, KVM_X86_GRP_SEV,
					   KVM_X86_SEV_VMSA_FEATURES, &feat) &&
		      (rep->vm_types & (1 << KVM_X86_SEV_ES_VM));
	rep->vmsa_features = feat;
	rep->kvm_backend = s->cfg.kvm_backend;
	rep->strict_memory = pc->mem_mode == PSP_MEM_XTS;
	*out_fd = s->flags_fd;
}

static void vm_create(struct conn *c, const struct ss_req *req,
		      struct ss_rep *rep)
{
	struct server *s = c->s;
	struct kvm_vm *vm;
	uint32_t id;
	int ret;

	if (c->rx_fd < 0) {
		rep->ret = -EBADF;
		return;
	}
	ret = kvm_vm_create(s->host, req->a1, c->proc->mm, &vm);
	if (ret) {
		rep->ret = ret;
		return;
	}
	pthread_mutex_lock(&s->lock);
	ret = vmt_add(s, vm, c->rx_fd, &id);
	if (!ret) {
		c->rx_fd = -1; /* the table owns it now */
		vmt_ref(s, c->proc, id);
		rep->vm_id = id;
	}
	pthread_mutex_unlock(&s->lock);
	if (ret)
		kvm_vm_put(vm);
	rep->ret = ret;
}

static void vm_adopt(struct conn *c, struct ss_rep *rep)
{
	struct server *s = c->s;
	uint32_t id;

	pthread_mutex_lock(&s->lock);
	rep->ret = c->rx_fd < 0 ? -EBADF : vmt_find(s, c->rx_fd, &id);
	if (!rep->ret) {
		if (!adopt_from_orphan(s, c->proc, id))
			vmt_ref(s, c->proc, id);
		rep->vm_id = id;
	}
	pthread_mutex_unlock(&s->lock);
}

/*
 * SS_PRIV_SYNC: strict memory's two directions between the VMM's guest
 * memory (ciphertext) and vkvm's private copy (plaintext), both in the
 * client, through the memory engine with the VM's ASID.  Not a firmware
 * command: no trace line, no firmware latency, no fault injection.
 */
#define PRIV_CHUNK (1u << 20)

static int priv_sync(struct conn *c, struct kvm_vm *vm,
		     const struct ss_req *req)
{
	bool enc = req->a1 == SS_PRIV_ENCRYPT;
	struct ss_priv_xfer *x;
	struct kvm_vm_info info;
	uint8_t *buf;
	uint64_t i, cap = 0;
	int ret = 0;

	if (psp_config(c->s->psp)->mem_mode != PSP_MEM_XTS)
		return -EOPNOTSUPP; /* not a strict-memory machine */
	if (req->a1 > SS_PRIV_ENCRYPT || !req->a2 ||
	    req->a2 > SS_PRIV_MAX_XFERS)
		return -EINVAL;
	kvm_vm_info(vm, &info);
	x = calloc(req->a2, sizeof(*x));
	if (!x)
		return -ENOMEM;
	ret = mem_read(c, req->arg, x, req->a2 * sizeof(*x));
	/* a buffer as large as the largest range (a page, mostly) */
	for (i = 0; i < req->a2 && !ret; i++)
		if (x[i].len > cap)
			cap = x[i].len > PRIV_CHUNK ? PRIV_CHUNK : x[i].len;
	buf = ret ? NULL : malloc(cap ? cap : 16);
	if (!ret && !buf)
		ret = -ENOMEM;
	for (i = 0; i < req->a2 && !ret; i++) {
		uint64_t done = 0;

		if ((x[i].len | x[i].hva) & 15) {
			ret = -EINVAL;
			break;
		}
		while (done < x[i].len && !ret) {
			uint64_t n = x[i].len - done, hva = x[i].hva + done,
				 pv = x[i].priv + done;

			if (n > cap)
				n = cap;
			ret = mem_read(c, enc ? pv : hva, buf, n);
			ret = ret ?: psp_mem_engine(c->s->psp, info.asid, hva,
						    buf, buf, n, enc);
			/*
			 * No key on the ASID yet (KVM_RUN before LAUNCH_START):
			 * the bytes move as they are (docs/fidelity.md V27).
			 */
			if (ret == -ENOKEY)
				ret = 0;
			ret = ret ?: mem_write(c, enc ? hva : pv, buf, n);
			done += n;
		}
	}
	if (buf)
		explicit_bzero(buf, cap);
	free(buf);
	free(x);
	return ret;
}

static void refresh(struct conn *c, uint32_t id)
{
	pthread_mutex_lock(&c->s->lock);
	if (c->s->vms[id].vm)
		vmt_refresh(c->s, id);
	pthread_mutex_unlock(&c->s->lock);
}

static void dispatch(struct conn *c, const struct ss_req *req,
		     struct ss_rep *rep, int *out_fd)
{
	struct server *s = c->s;
	struct kvm_vm *vm = NULL;
	struct kvm_vcpu *vcpu;

	if (req->op == SS_HELLO) {
		hello(c, req, rep, out_fd);
		return;
	}
	if (req->op == SS_NOTE) { /* only for the trace (trace_after) */
		rep->ret = 0;
		return;
	}
	if (req->op == SS_ROOT_CERTS) {
		uint8_t buf[2 * 2048];
		size_t ask = 2048, ark = 2048;
		int fd = memfd_create("softsev-root", MFD_CLOEXEC);

		rep->ret = -EIO;
		if (fd >= 0 && !psp_get_ask(s->psp, buf, &ask) &&
		    !psp_get_ark(s->psp, buf + ask, &ark) &&
		    write(fd, buf, ask + ark) == (ssize_t)(ask + ark) &&
		    !lseek(fd, 0, SEEK_SET)) {
			rep->ret = 0;
			rep->value = ask; /* where the ARK starts */
			*out_fd = fd;
			c->close_out = true;
		} else if (fd >= 0) {
			close(fd);
		}
		return;
	}
	if (req->op == SS_STATUS) {
		/* Status needs no HELLO: tools that are not VMMs ask it. */
		int fd = status_memfd(s);

		rep->ret = fd < 0 ? fd : 0;
		if (fd >= 0) {
			*out_fd = fd;
			c->close_out = true;
		}
		return;
	}
	if (!c->proc) {
		rep->ret = -EPROTO;
		return;
	}
	switch (req->op) {
	case SS_CGROUP: {
		char name[SS_CG_NAME_MAX] = { 0 };

		rep->ret = mem_read(c, req->arg, name, sizeof(name) - 1);
		if (rep->ret || !name[0]) {
			rep->ret = -EFAULT;
			return;
		}
		pthread_mutex_lock(&s->lock);
		c->proc->cg = server_cgroup(s, name);
		pthread_mutex_unlock(&s->lock);
		rep->ret = c->proc->cg ? 0 : -ENOSPC;
		return;
	}
	case SS_VM_CREATE:
		vm_create(c, req, rep);
		return;
	case SS_VM_ADOPT:
		vm_adopt(c, rep);
		return;
	case SS_VM_CLOSE:
		pthread_mutex_lock(&s->lock);
		if (req->vm_id && req->vm_id < SS_MAX_VMS &&
		    c->proc->vm_refs[req->vm_id] &&
		    !pass_to_child(s, c->proc, req->vm_id))
			vmt_unref(s, c->proc, req->vm_id);
		pthread_mutex_unlock(&s->lock);
		return;
	case SS_CHECK_EXTENSION:
		rep->ret = kvm_check_extension(s->host, (long)req->a1);
		return;
	case SS_DEVICE_ATTR:
		rep->ret = kvm_get_device_attr(s->host, (uint32_t)req->a1,
					       req->a2, &rep->value);
		return;
	case SS_SEV_IOCTL:
		rep->ret = ccp_ioctl(s->ccp, req->a2, req->a1, req->arg,
				     &c->mem);
		return;
	}
	/* Everything else names a VM this process holds. */
	c->caller.cg = c->proc->cg;
	vm = vm_of(c, req->vm_id);
	if (!vm) {
		rep->ret = -EBADF;
		return;
	}
	switch (req->op) {
	case SS_VCPU_BEGIN:
		rep->ret = kvm_vcpu_create_begin(vm, &c->caller);
		break;
	case SS_VCPU_END:
		rep->ret = kvm_vcpu_create_end(vm, req->a1 != 0, &vcpu);
		if (!rep->ret && req->a1)
			rep->index = (uint32_t)kvm_vcpu_index(vcpu);
		break;
	case SS_MEM_ENC_OP:
		refresh_limits(c);
		c->vmsa_buf = req->a1;
		c->nvmsa = (uint32_t)req->a2;
		rep->ret = kvm_vm_mem_enc_op(vm, &c->caller, req->arg);
		break;
	case SS_REG_REGION:
		refresh_limits(c);
		rep->ret = kvm_vm_reg_region(vm, &c->caller, req->arg);
		break;
	case SS_UNREG_REGION:
		rep->ret = kvm_vm_unreg_region(vm, &c->caller, req->arg);
		break;
	case SS_ENABLE_CAP:
		c->cap_src = 0;
		rep->ret = kvm_vm_enable_cap(vm, &c->caller, req->arg);
		if (c->cap_src)
			refresh(c, c->cap_src);
		break;
	case SS_PRIV_SYNC:
		rep->ret = priv_sync(c, vm, req);
		return;
	case SS_VCPU_REGS_CHECK:
		vcpu = kvm_vm_vcpu(vm, (int)req->a1);
		rep->ret = vcpu ? kvm_vcpu_regs_check(vcpu, &c->caller) :
				  -EINVAL;
		break;
	default:
		rep->ret = -EINVAL;
	}
	refresh(c, req->vm_id);
}

/* --- the trace --- */

struct tr {
	struct kvm_sev_cmd cmd;
	struct sev_issue_cmd sev;
	struct kvm_enable_cap cap;
	bool have;
};

static void trace_before(struct conn *c, const struct ss_req *req,
			 struct tr *t)
{
	memset(t, 0, sizeof(*t));
	if (!req->arg)
		return;
	if (req->op == SS_MEM_ENC_OP)
		t->have = !mem_read(c, req->arg, &t->cmd, sizeof(t->cmd));
	else if (req->op == SS_SEV_IOCTL)
		t->have = !mem_read(c, req->arg, &t->sev, sizeof(t->sev));
	else if (req->op == SS_ENABLE_CAP)
		t->have = !mem_read(c, req->arg, &t->cap, sizeof(t->cap));
}

/* The key arguments of a KVM_SEV_* command, read back after it ran. */
static void sev_args(struct conn *c, uint32_t id, uint64_t data, char *b,
		     size_t len)
{
	static const char *const states[] = { "UNINIT", "LUPDATE", "LSECRET",
					      "RUNNING", "SUPDATE", "RUPDATE",
					      "SENT" };
	char pol[64];

	b[0] = 0;
	switch (id) {
	case KVM_SEV_LAUNCH_START:
	case KVM_SEV_RECEIVE_START: {
		struct kvm_sev_launch_start p;

		if (mem_read(c, data, &p, sizeof(p)))
			return;
		trace_policy(pol, sizeof(pol), p.policy);
		snprintf(b, len, " policy=%s owner-session=%s handle=%u", pol,
			 p.dh_uaddr ? "yes" : "no", p.handle);
		return;
	}
	case KVM_SEV_LAUNCH_UPDATE_DATA: {
		struct kvm_sev_launch_update_data p;

		if (!mem_read(c, data, &p, sizeof(p)))
			snprintf(b, len, " uaddr=0x%llx len=%u",
				 (unsigned long long)p.uaddr, p.len);
		return;
	}
	case KVM_SEV_LAUNCH_MEASURE: {
		struct kvm_sev_launch_measure p;

		if (!mem_read(c, data, &p, sizeof(p)))
			snprintf(b, len, " len=%u%s", p.len,
				 p.uaddr ? "" : " (length query)");
		return;
	}
	case KVM_SEV_GUEST_STATUS: {
		struct kvm_sev_guest_status p;

		if (!mem_read(c, data, &p, sizeof(p)))
			snprintf(b, len, " handle=%u state=%s", p.handle,
				 p.state < 7 ? states[p.state] : "?");
		return;
	}
	case KVM_SEV_DBG_DECRYPT:
	case KVM_SEV_DBG_ENCRYPT: {
		struct kvm_sev_dbg p;

		if (!mem_read(c, data, &p, sizeof(p)))
			snprintf(b, len, " src=0x%llx dst=0x%llx len=%u",
				 (unsigned long long)p.src_uaddr,
				 (unsigned long long)p.dst_uaddr, p.len);
		return;
	}
	case SOFTSEV_KVM_SEV_INIT2: {
		struct kvm_sev_init p;

		if (!mem_read(c, data, &p, sizeof(p)))
			snprintf(b, len, " vmsa_features=0x%llx ghcb_version=%u",
				 (unsigned long long)p.vmsa_features,
				 p.ghcb_version);
		return;
	}
	}
}

static void trace_after(struct conn *c, const struct ss_req *req,
			const struct ss_rep *rep, struct tr *t)
{
	static const char *const types[] = { "default", "sw_protected", "sev",
					     "sev_es", "snp" };
	struct server *s = c->s;
	char res[96], args[192];

	switch (req->op) {
	case SS_HELLO:
		trace_line(s, c->pid, "connected");
		return;
	case SS_NOTE: {
		uint32_t vcpu = (uint32_t)(req->a2 >> 32);
		const char *name = trace_ioctl_name(req->a1);

		if (vcpu != UINT32_MAX)
			snprintf(args, sizeof(args), " vcpu %u", vcpu);
		else
			args[0] = 0;
		trace_result(res, sizeof(res), -(int)(req->a2 & 0xffff), 0,
			     false);
		if (name)
			trace_line(s, c->pid, "vm#%u%s %s -> %s (%s)",
				   req->vm_id, args, name, res,
				   trace_note_why(req->a1,
						  (int)(req->a2 & 0xffff)));
		else
			trace_line(s, c->pid, "vm#%u%s ioctl 0x%llx -> %s (%s)",
				   req->vm_id, args,
				   (unsigned long long)req->a1, res,
				   trace_note_why(req->a1,
						  (int)(req->a2 & 0xffff)));
		return;
	}
	case SS_VM_CREATE:
		if (rep->ret)
			trace_result(res, sizeof(res), rep->ret, 0, false);
		else
			snprintf(res, sizeof(res), "vm#%u (%s KVM)",
				 rep->vm_id, vmt_backend(s, rep->vm_id));
		trace_line(s, c->pid, "kvm KVM_CREATE_VM type=%s -> %s",
			   req->a1 < 5 ? types[req->a1] : "?", res);
		return;
	case SS_VM_ADOPT:
		trace_line(s, c->pid, "vm#%u now also held by this process",
			   rep->vm_id);
		return;
	case SS_VM_CLOSE:
		trace_line(s, c->pid, "vm#%u close", req->vm_id);
		return;
	case SS_VCPU_END:
		if (req->a1 && !rep->ret)
			trace_line(s, c->pid, "vm#%u KVM_CREATE_VCPU -> vcpu %u",
				   req->vm_id, rep->index);
		return;
	case SS_VCPU_BEGIN:
		if (rep->ret) {
			trace_result(res, sizeof(res), rep->ret, 0, false);
			trace_line(s, c->pid, "vm#%u KVM_CREATE_VCPU -> %s",
				   req->vm_id, res);
		}
		return;
	case SS_MEM_ENC_OP: {
		struct kvm_sev_cmd after = t->cmd;
		bool fw;

		if (!t->have) {
			trace_result(res, sizeof(res), rep->ret, 0, false);
			trace_line(s, c->pid, "vm#%u KVM_MEMORY_ENCRYPT_OP %s -> %s",
				   req->vm_id, req->arg ? "(bad pointer)" : "NULL",
				   res);
			return;
		}
		mem_read(c, req->arg, &after, sizeof(after));
		fw = after.error != t->cmd.error;
		sev_args(c, t->cmd.id, t->cmd.data, args, sizeof(args));
		trace_result(res, sizeof(res), rep->ret, (int)after.error, fw);
		trace_line(s, c->pid, "vm#%u KVM_SEV_%s%s -> %s", req->vm_id,
			   trace_kvm_cmd(t->cmd.id), args, res);
		return;
	}
	case SS_REG_REGION:
	case SS_UNREG_REGION: {
		struct kvm_enc_region r = { 0, 0 };

		mem_read(c, req->arg, &r, sizeof(r));
		trace_result(res, sizeof(res), rep->ret, 0, false);
		trace_line(s, c->pid, "vm#%u KVM_MEMORY_ENCRYPT_%s addr=0x%llx size=%llu -> %s",
			   req->vm_id, req->op == SS_REG_REGION ? "REG_REGION" :
								    "UNREG_REGION",
			   (unsigned long long)r.addr,
			   (unsigned long long)r.size, res);
		return;
	}
	case SS_ENABLE_CAP:
		trace_result(res, sizeof(res), rep->ret, 0, false);
		if (c->cap_src)
			snprintf(args, sizeof(args), "vm#%u", c->cap_src);
		else
			snprintf(args, sizeof(args), "fd %u",
				 (unsigned int)t->cap.args[0]);
		trace_line(s, c->pid, "vm#%u KVM_ENABLE_CAP %s from %s -> %s",
			   req->vm_id,
			   t->cap.cap == KVM_CAP_VM_COPY_ENC_CONTEXT_FROM ?
				   "COPY_ENC_CONTEXT_FROM (mirror)" :
				   "MOVE_ENC_CONTEXT_FROM (migrate)",
			   args, res);
		return;
	case SS_SEV_IOCTL: {
		struct sev_issue_cmd after = t->sev;

		if (t->have)
			mem_read(c, req->arg, &after, sizeof(after));
		trace_result(res, sizeof(res), rep->ret, (int)after.error,
			     t->have && after.error != t->sev.error);
		trace_line(s, c->pid, "/dev/sev%s SEV_%s -> %s",
			   req->a2 ? "" : " (read-only)",
			   t->have ? trace_sev_cmd(t->sev.cmd) : "?", res);
		return;
	}
	}
}

void *conn_main(void *arg)
{
	struct conn *c = arg, **pp;
	struct ucred cred;
	bool tracing;
	struct tr tr;
	socklen_t len = sizeof(cred);

	if (getsockopt(c->sock, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		goto out;
	c->pid = cred.pid;
	c->mem.ops = &mem_ops;
	c->mem.ctx = c;
	c->caller.mem = &c->mem;
	c->caller.pin = pin;
	c->caller.sev_fd = sev_fd;
	c->caller.vm_fd = vm_fd;
	c->caller.build_vmsa = build_vmsa;
	c->caller.ctx = c;
	c->caller.cg = NULL;
	for (;;) {
		struct ss_req req;
		struct ss_rep rep;
		int out_fd = -1;
		ssize_t n = recv_req(c->sock, &req, &c->rx_fd);

		if (n != sizeof(req)) {
			if (c->rx_fd >= 0)
				close(c->rx_fd);
			break; /* closed, or garbage: drop the client */
		}
		memset(&rep, 0, sizeof(rep));
		c->limits_read = false;
		c->maps_read = false;
		c->sev_fd_ok = -1;
		if (req.op == SS_TRACE) {
			/* From now on this connection only receives lines. */
			rep.ret = trace_subscribe(c->s, c->sock);
			if (send_rep(c->sock, &rep, -1) || rep.ret)
				break;
			while (recv(c->sock, &req, sizeof(req), 0) > 0)
				;
			trace_unsubscribe(c->s, c->sock);
			break;
		}
		pthread_mutex_lock(&c->s->lock);
		reap_hung_up(c->s, c);
		c->busy = true;
		pthread_mutex_unlock(&c->s->lock);
		tracing = trace_on(c->s);
		if (tracing)
			trace_before(c, &req, &tr);
		dispatch(c, &req, &rep, &out_fd);
		if (tracing)
			trace_after(c, &req, &rep, &tr);
		pthread_mutex_lock(&c->s->lock);
		c->busy = false;
		pthread_cond_broadcast(&c->s->idle);
		pthread_mutex_unlock(&c->s->lock);
		if (c->rx_fd >= 0)
			close(c->rx_fd);
		c->rx_fd = -1;
		n = send_rep(c->sock, &rep, out_fd);
		if (c->close_out && out_fd >= 0)
			close(out_fd);
		c->close_out = false;
		if (n)
			break;
	}
out:
	pthread_mutex_lock(&c->s->lock);
	if (c->proc)
		proc_put(c->s, c->proc);
	for (pp = &c->s->conns; *pp != c; pp = &(*pp)->next)
		;
	*pp = c->next;
	pthread_mutex_unlock(&c->s->lock);
	close(c->sock);
	free(c->maps);
	free(c);
	return NULL;
}

int conn_start(struct server *s, int sock)
{
	struct conn *c = calloc(1, sizeof(*c));
	pthread_attr_t attr;
	pthread_t t;
	int ret;

	if (!c)
		return -ENOMEM;
	c->s = s;
	c->sock = sock;
	c->rx_fd = -1;
	pthread_mutex_lock(&s->lock);
	c->next = s->conns;
	s->conns = c;
	pthread_mutex_unlock(&s->lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&t, &attr, conn_main, c);
	pthread_attr_destroy(&attr);
	if (ret) {
		struct conn **pp;

		pthread_mutex_lock(&s->lock);
		for (pp = &s->conns; *pp != c; pp = &(*pp)->next)
			;
		*pp = c->next;
		pthread_mutex_unlock(&s->lock);
		free(c);
		return -ret;
	}
	return 0;
}
