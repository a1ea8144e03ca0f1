// SPDX-License-Identifier: MIT
/*
 * The VM table: ids, references from client fds, the shared flags the
 * shim reads, and identification of a VM by its open file with kcmp.
 */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/kcmp.h>

#include "server_internal.h"

/* kcmp(KCMP_FILE) within this process: 0 same, 1 a < b, 2 a > b. */
static int file_cmp(int a, int b)
{
	pid_t me = getpid();

	return (int)syscall(SYS_kcmp, me, me, KCMP_FILE, a, b);
}

/* Binary search in the kcmp order; *pos is where fd is or would go. */
static int search(struct server *s, int fd, unsigned int *pos)
{
	unsigned int lo = 0, hi = s->nr_order;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;
		int c = file_cmp(fd, s->vms[s->order[mid]].dup_fd);

		if (c == 0) {
			*pos = mid;
			return 1;
		}
		if (c == 1)
			hi = mid;
		else if (c == 2)
			lo = mid + 1;
		else
			return -EINVAL;
	}
	*pos = lo;
	return 0;
}

int vmt_find(struct server *s, int fd, uint32_t *id)
{
	unsigned int pos;
	int r = search(s, fd, &pos);

	if (r <= 0)
		return -EBADF;
	*id = s->order[pos];
	return 0;
}

/* Take ownership of fd (already a dup the server may keep). */
int vmt_add(struct server *s, struct kvm_vm *vm, int fd, uint32_t *id)
{
	unsigned int pos;
	uint32_t n;

	for (n = 1; n < SS_MAX_VMS && s->vms[n].vm; n++)
		;
	if (n == SS_MAX_VMS)
		return -ENOMEM;
	if (search(s, fd, &pos))
		return -EEXIST;
	memmove(&s->order[pos + 1], &s->order[pos],
		(s->nr_order - pos) * sizeof(s->order[0]));
	s->order[pos] = n;
	s->nr_order++;
	s->vms[n].vm = vm;
	s->vms[n].dup_fd = fd;
	s->vms[n].refs = 0;
	memset(&s->flags[n], 0, sizeof(s->flags[n]));
	s->flags[n].live = 1;
	vmt_refresh(s, n);
	*id = n;
	return 0;
}

static void vmt_remove(struct server *s, uint32_t id)
{
	unsigned int pos;

	if (search(s, s->vms[id].dup_fd, &pos) == 1) {
		memmove(&s->order[pos], &s->order[pos + 1],
			(s->nr_order - pos - 1) * sizeof(s->order[0]));
		s->nr_order--;
	}
	close(s->vms[id].dup_fd);
	memset(&s->flags[id], 0, sizeof(s->flags[id]));
	/* The model's destroy path runs when its last reference goes. */
	kvm_vm_put(s->vms[id].vm);
	memset(&s->vms[id], 0, sizeof(s->vms[id]));
}

void vmt_ref(struct server *s, struct sproc *p, uint32_t id)
{
	p->vm_refs[id]++;
	s->vms[id].refs++;
}

void vmt_unref(struct server *s, struct sproc *p, uint32_t id)
{
	if (!s->vms[id].vm || !p->vm_refs[id])
		return;
	p->vm_refs[id]--;
	if (--s->vms[id].refs == 0)
		vmt_remove(s, id);
}

/* Mirror the model's state into the page the shims read. */
void vmt_refresh(struct server *s, uint32_t id)
{
	struct ss_vm_flags *f = &s->flags[id];
	struct kvm_vm_info info;
	unsigned int i;

	kvm_vm_info(s->vms[id].vm, &info);
	f->dead = info.dead;
	f->need_init = info.need_init;
	f->protected_state = info.type == KVM_X86_SEV_ES_VM;
	f->sev_active = info.active;
	f->es_active = info.es_active;
	f->ghcb_version = (uint8_t)info.ghcb_version;
	for (i = 0; i < info.online_vcpus && i < SS_MAX_VCPUS; i++) {
		struct kvm_vcpu *v = kvm_vm_vcpu(s->vms[id].vm, (int)i);
		uint8_t bit = (uint8_t)(1u << (i % 8));

		if (v && kvm_vcpu_protected(v))
			f->vcpu_protected[i / 8] |= bit;
		else
			f->vcpu_protected[i / 8] &= (uint8_t)~bit;
	}
}

/*
 * Which KVM a VM file belongs to: the host's are anon inodes
 * ("anon_inode:kvm-vm"), the emulated KVM's are memfds ("/memfd:kvm-vm").
 */
const char *vmt_backend(struct server *s, uint32_t id)
{
	char path[64], target[64];
	ssize_t n;

	if (!id || id >= SS_MAX_VMS || !s->vms[id].vm)
		return "?";
	snprintf(path, sizeof(path), "/proc/self/fd/%d", s->vms[id].dup_fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return "?";
	target[n] = 0;
	return strncmp(target, "/memfd:", 7) ? "host" : "emulated";
}
