// SPDX-License-Identifier: MIT
/*
 * The trace: one decoded line per intercepted operation — time, process,
 * which file, the command, its key arguments, the result, errno and the
 * firmware status by name — like strace, but for SEV.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "server_internal.h"

static const char *const kvm_ids[] = {
	"INIT", "ES_INIT", "LAUNCH_START", "LAUNCH_UPDATE_DATA",
	"LAUNCH_UPDATE_VMSA", "LAUNCH_SECRET", "LAUNCH_MEASURE",
	"LAUNCH_FINISH", "SEND_START", "SEND_UPDATE_DATA", "SEND_UPDATE_VMSA",
	"SEND_FINISH", "RECEIVE_START", "RECEIVE_UPDATE_DATA",
	"RECEIVE_UPDATE_VMSA", "RECEIVE_FINISH", "GUEST_STATUS",
	"DBG_DECRYPT", "DBG_ENCRYPT", "CERT_EXPORT", "GET_ATTESTATION_REPORT",
	"SEND_CANCEL", "INIT2",
};

static const char *const sev_ids[] = {
	"FACTORY_RESET", "PLATFORM_STATUS", "PEK_GEN", "PEK_CSR", "PDH_GEN",
	"PDH_CERT_EXPORT", "PEK_CERT_IMPORT", "GET_ID", "GET_ID2",
	"SNP_PLATFORM_STATUS", "SNP_COMMIT", "SNP_SET_CONFIG", "SNP_VLEK_LOAD",
};

const char *trace_kvm_cmd(uint32_t id)
{
	return id < sizeof(kvm_ids) / sizeof(kvm_ids[0]) ? kvm_ids[id] : "?";
}

const char *trace_sev_cmd(uint32_t id)
{
	return id < sizeof(sev_ids) / sizeof(sev_ids[0]) ? sev_ids[id] : "?";
}

/* "0x5 (NODBG ES)" */
void trace_policy(char *buf, size_t len, uint32_t p)
{
	static const char *const bits[] = { "NODBG", "NOKS", "ES", "NOSEND",
					    "DOMAIN", "SEV" };
	size_t n = (size_t)snprintf(buf, len, "0x%x", p);
	int i, first = 1;

	for (i = 0; i < 6 && n < len; i++) {
		if (!(p & (1u << i)))
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s%s",
				      first ? " (" : " ", bits[i]);
		first = 0;
	}
	if (!first && n < len)
		snprintf(buf + n, len - n, ")");
}

bool trace_on(struct server *s)
{
	return s->trace_file || s->trace_subs;
}

/* VM and vCPU ioctls the shim may answer itself; NULL for others. */
const char *trace_ioctl_name(uint64_t req)
{
	switch (req) {
	case KVM_MEMORY_ENCRYPT_OP: return "KVM_MEMORY_ENCRYPT_OP";
	case KVM_MEMORY_ENCRYPT_REG_REGION: return "KVM_MEMORY_ENCRYPT_REG_REGION";
	case KVM_MEMORY_ENCRYPT_UNREG_REGION: return "KVM_MEMORY_ENCRYPT_UNREG_REGION";
	case KVM_ENABLE_CAP: return "KVM_ENABLE_CAP";
	case KVM_CREATE_VCPU: return "KVM_CREATE_VCPU";
	case KVM_SET_USER_MEMORY_REGION: return "KVM_SET_USER_MEMORY_REGION";
	case KVM_RUN: return "KVM_RUN";
	case KVM_GET_REGS: return "KVM_GET_REGS";
	case KVM_SET_REGS: return "KVM_SET_REGS";
	case KVM_GET_SREGS: return "KVM_GET_SREGS";
	case KVM_SET_SREGS: return "KVM_SET_SREGS";
	case KVM_GET_FPU: return "KVM_GET_FPU";
	case KVM_SET_FPU: return "KVM_SET_FPU";
	case KVM_GET_XCRS: return "KVM_GET_XCRS";
	case KVM_SET_XCRS: return "KVM_SET_XCRS";
	case KVM_GET_DEBUGREGS: return "KVM_GET_DEBUGREGS";
	case KVM_SET_DEBUGREGS: return "KVM_SET_DEBUGREGS";
	case KVM_GET_XSAVE: return "KVM_GET_XSAVE";
	case KVM_SET_XSAVE: return "KVM_SET_XSAVE";
	}
	return NULL;
}

/* Why the shim answered so, in the words of the spec row. */
const char *trace_note_why(uint64_t req, int err)
{
	if (err == EIO)
		return "kvm_vm_dead: a MOVE source answers EIO to every VM "
		       "and vCPU ioctl (§2.5)";
	if (req == KVM_RUN)
		return "need_init: an SEV-typed VM before KVM_SEV_INIT2, or a "
		       "MOVE destination (Q7)";
	return "guest_state_protected: the registers of an SEV-ES "
		       "vCPU after LAUNCH_UPDATE_VMSA";
}

/* Tell the shims (flags entry 0) whether their own answers are wanted. */
void trace_publish(struct server *s)
{
	if (s->flags != MAP_FAILED)
		__atomic_store_n(&s->flags[0].tracing, trace_on(s),
				 __ATOMIC_RELAXED);
}

/* Write one line to the trace file and every subscriber. */
void trace_line(struct server *s, pid_t pid, const char *fmt, ...)
{
	char line[1024];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	size_t n;
	int i;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, ".%06ld pid %d ",
			      (long)tv.tv_usec, (int)pid);
	va_start(ap, fmt);
	if (n < sizeof(line))
		n += (size_t)vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	line[n] = 0;
	pthread_mutex_lock(&s->trace_lock);
	if (s->trace_file) {
		fputs(line, s->trace_file);
		fflush(s->trace_file);
	}
	for (i = 0; i < s->trace_subs; i++)
		if (send(s->trace_sub[i], line, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
		    errno != EAGAIN) {
			s->trace_sub[i--] = s->trace_sub[--s->trace_subs];
			trace_publish(s);
		}
	pthread_mutex_unlock(&s->trace_lock);
}

/* "0", "-1 EIO", "-1 EIO (firmware INVALID_LEN)" */
void trace_result(char *buf, size_t len, int ret, int fw, bool fw_called)
{
	if (ret >= 0)
		snprintf(buf, len, "%d", ret);
	else if (fw_called && fw > 0 && fw < 0x100)
		snprintf(buf, len, "-1 %s (firmware %s)", strerrorname_np(-ret),
			 psp_status_name(fw));
	else
		snprintf(buf, len, "-1 %s", strerrorname_np(-ret) ?
						    strerrorname_np(-ret) :
						    "E?");
}

/* A subscriber (`softsev trace`): the connection now only receives. */
int trace_subscribe(struct server *s, int sock)
{
	int ret = 0;

	pthread_mutex_lock(&s->trace_lock);
	if (s->trace_subs == TRACE_MAX_SUBS)
		ret = -EBUSY;
	else
		s->trace_sub[s->trace_subs++] = sock;
	trace_publish(s);
	pthread_mutex_unlock(&s->trace_lock);
	return ret;
}

void trace_unsubscribe(struct server *s, int sock)
{
	int i;

	pthread_mutex_lock(&s->trace_lock);
	for (i = 0; i < s->trace_subs; i++)
		if (s->trace_sub[i] == sock)
			s->trace_sub[i--] = s->trace_sub[--s->trace_subs];
	trace_publish(s);
	pthread_mutex_unlock(&s->trace_lock);
}
