// SPDX-License-Identifier: MIT
/*
 * `softsev status`: the machine as JSON (json-c).  Field names are
 * documented in docs/status.md.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "server_internal.h"

static const char *const gstates[] = { "UNINIT", "LUPDATE", "LSECRET",
				       "RUNNING", "SUPDATE", "RUPDATE",
				       "SENT" };
static const char *const pstates[] = { "UNINIT", "INIT", "WORKING" };

static json_object *policy_json(uint32_t p)
{
	static const char *const bits[] = { "NODBG", "NOKS", "ES", "NOSEND",
					    "DOMAIN", "SEV" };
	json_object *o = json_object_new_object(), *flags;
	char hex[16];
	int i;

	snprintf(hex, sizeof(hex), "0x%x", p);
	json_object_object_add(o, "value", json_object_new_string(hex));
	flags = json_object_new_array();
	for (i = 0; i < 6; i++)
		if (p & (1u << i))
			json_object_array_add(flags,
					      json_object_new_string(bits[i]));
	json_object_object_add(o, "flags", flags);
	json_object_object_add(o, "api_major",
			       json_object_new_int(SEV_POLICY_API_MAJOR(p)));
	json_object_object_add(o, "api_minor",
			       json_object_new_int(SEV_POLICY_API_MINOR(p)));
	return o;
}

static json_object *range_json(unsigned int first, unsigned int last,
			       unsigned int in_use, unsigned int reclaim)
{
	json_object *o = json_object_new_object();
	unsigned int total = last >= first ? last - first + 1 : 0;

	json_object_object_add(o, "first", json_object_new_int((int)first));
	json_object_object_add(o, "last", json_object_new_int((int)last));
	json_object_object_add(o, "total", json_object_new_int((int)total));
	json_object_object_add(o, "in_use",
			       json_object_new_int((int)(in_use - reclaim)));
	json_object_object_add(o, "reclaim", json_object_new_int((int)reclaim));
	json_object_object_add(o, "free",
			       json_object_new_int((int)(total - in_use)));
	return o;
}

static json_object *platform_json(struct server *s)
{
	const struct psp_config *pc = psp_config(s->psp);
	json_object *o = json_object_new_object(), *asids, *q;
	struct kvm_asid_info a;
	char api[16];
	int st = psp_platform_state(s->psp);
	struct kvm_misc_cg *root = kvm_misc_cg_root(s->host);

	kvm_asid_info(s->host, &a);
	snprintf(api, sizeof(api), "%u.%u", pc->api_major, pc->api_minor);
	json_object_object_add(o, "state", json_object_new_string(pstates[st]));
	json_object_object_add(o, "api", json_object_new_string(api));
	json_object_object_add(o, "strict_memory",
			       json_object_new_boolean(pc->mem_mode ==
						       PSP_MEM_XTS));
	json_object_object_add(o, "build", json_object_new_int(pc->build));
	json_object_object_add(o, "cbit", json_object_new_int((int)pc->cbit));
	json_object_object_add(o, "sev_es", json_object_new_boolean(pc->es));
	json_object_object_add(o, "guest_contexts",
			       json_object_new_int((int)psp_guest_count(s->psp)));
	json_object_object_add(o, "dirty_asids",
			       json_object_new_int((int)psp_dirty_asids(s->psp)));
	asids = json_object_new_object();
	json_object_object_add(asids, "max", json_object_new_int((int)pc->max_asid));
	json_object_object_add(asids, "min_sev_asid",
			       json_object_new_int((int)pc->min_sev_asid));
	json_object_object_add(asids, "sev",
			       range_json(a.min_sev_asid, a.max_sev_asid,
					  a.in_use_sev, a.reclaim_sev));
	json_object_object_add(asids, "sev_es",
			       range_json(1, a.min_sev_asid - 1, a.in_use_es,
					  a.reclaim_es));
	json_object_object_add(asids, "flushes",
			       json_object_new_int((int)a.flushes));
	json_object_object_add(o, "asids", asids);
	q = json_object_new_object();
	{
		static const char *const names[] = { "sev", "sev_es" };
		int r;

		for (r = 0; r < KVM_MISC_NR; r++) {
			json_object *e = json_object_new_object();

			json_object_object_add(e, "capacity",
				json_object_new_int64((int64_t)kvm_misc_capacity(s->host, r)));
			/* misc.current's u64: 2^64 - 1 after Q1's uncharge */
			json_object_object_add(e, "current",
				json_object_new_uint64(kvm_misc_cg_current(root, r)));
			json_object_object_add(q, names[r], e);
		}
	}
	json_object_object_add(o, "quotas", q);
	return o;
}

static json_object *guests_json(struct server *s)
{
	const struct psp_config *pc = psp_config(s->psp);
	json_object *arr = json_object_new_array();
	uint32_t h;

	for (h = 1; h <= pc->max_guests; h++) {
		struct psp_guest_info gi;
		json_object *o;
		char digest[65];
		int i;

		if (psp_guest_info(s->psp, h, &gi))
			continue;
		o = json_object_new_object();
		for (i = 0; i < 32; i++)
			snprintf(digest + 2 * i, 3, "%02x", gi.digest[i]);
		json_object_object_add(o, "handle", json_object_new_int((int)h));
		json_object_object_add(o, "asid", json_object_new_int((int)gi.asid));
		json_object_object_add(o, "active",
				       json_object_new_boolean(gi.active));
		json_object_object_add(o, "state",
				       json_object_new_string(gi.state < 7 ?
							      gstates[gi.state] :
							      "?"));
		json_object_object_add(o, "policy", policy_json(gi.policy));
		json_object_object_add(o, "launch_digest",
				       json_object_new_string(digest));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* Caller holds s->lock. */
static int id_of(struct server *s, struct kvm_vm *vm)
{
	uint32_t id;

	for (id = 1; id < SS_MAX_VMS; id++)
		if (s->vms[id].vm == vm)
			return (int)id;
	return 0;
}

static json_object *vms_json(struct server *s)
{
	static const char *const types[] = { "default", "sw_protected", "sev",
					     "sev_es" };
	json_object *arr = json_object_new_array();
	uint32_t id;

	for (id = 1; id < SS_MAX_VMS; id++) {
		struct kvm_vm_info vi;
		json_object *o, *pids;
		struct sproc *p;

		if (!s->vms[id].vm)
			continue;
		kvm_vm_info(s->vms[id].vm, &vi);
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int((int)id));
		json_object_object_add(o, "type",
				       json_object_new_string(vi.type < 4 ?
							      types[vi.type] :
							      "?"));
		json_object_object_add(o, "kvm",
				       json_object_new_string(vmt_backend(s, id)));
		json_object_object_add(o, "sev", json_object_new_boolean(vi.active));
		json_object_object_add(o, "es", json_object_new_boolean(vi.es_active));
		json_object_object_add(o, "dead", json_object_new_boolean(vi.dead));
		json_object_object_add(o, "need_init",
				       json_object_new_boolean(vi.need_init));
		json_object_object_add(o, "asid", json_object_new_int((int)vi.asid));
		json_object_object_add(o, "handle", json_object_new_int((int)vi.handle));
		json_object_object_add(o, "vcpus",
				       json_object_new_int((int)vi.online_vcpus));
		json_object_object_add(o, "pages_locked",
				       json_object_new_int64((int64_t)vi.pages_locked));
		json_object_object_add(o, "mirrors",
				       json_object_new_int((int)vi.nr_mirrors));
		if (vi.mirror)
			json_object_object_add(o, "mirror_of",
					       json_object_new_int(id_of(s, vi.owner)));
		pids = json_object_new_array();
		for (p = s->procs; p; p = p->next)
			if (p->vm_refs[id])
				json_object_array_add(pids,
						      json_object_new_int(p->pid));
		json_object_object_add(o, "pids", pids);
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *cgroups_json(struct server *s)
{
	static const char *const names[] = { "sev", "sev_es" };
	json_object *arr = json_object_new_array();
	int i, r;

	for (i = 0; i < s->ncgroups; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name",
				       json_object_new_string(s->cgroups[i].name));
		for (r = 0; r < KVM_MISC_NR; r++) {
			json_object *e = json_object_new_object();
			uint64_t max = kvm_misc_cg_max(s->cgroups[i].cg, r);

			json_object_object_add(e, "max", max == UINT64_MAX ?
				json_object_new_string("max") :
				json_object_new_int64((int64_t)max));
			json_object_object_add(e, "current",
				json_object_new_uint64(kvm_misc_cg_current(
					s->cgroups[i].cg, r)));
			json_object_object_add(o, names[r], e);
		}
		json_object_array_add(arr, o);
	}
	return arr;
}

/* The status document in a memfd the client reads. */
int status_memfd(struct server *s)
{
	json_object *root = json_object_new_object();
	const char *text;
	size_t len;
	int fd;

	json_object_object_add(root, "platform", platform_json(s));
	json_object_object_add(root, "guests", guests_json(s));
	pthread_mutex_lock(&s->lock);
	json_object_object_add(root, "vms", vms_json(s));
	json_object_object_add(root, "cgroups", cgroups_json(s));
	pthread_mutex_unlock(&s->lock);
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(text);
	fd = memfd_create("softsev-status", MFD_CLOEXEC);
	if (fd >= 0 && (write(fd, text, len) != (ssize_t)len ||
			lseek(fd, 0, SEEK_SET))) {
		close(fd);
		fd = -1;
	}
	json_object_put(root);
	return fd < 0 ? -EIO : fd;
}
