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
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

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
	pthread_mutex_unlock(&s->trace_lock);
}
