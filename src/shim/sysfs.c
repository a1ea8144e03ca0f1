// SPDX-License-Identifier: MIT
/*
 * The module parameters an SEV host shows under /sys/module: programs
 * (QEMU, libvirt, KVM selftests) read kvm_amd's sev, sev_es and sev_snp
 * to decide what the host offers.  Those three always say what softsev's
 * platform offers; npt and kvm's own parameters are given only where the
 * host has none (no KVM module loaded), with the values of an AMD host.
 * An open returns a memfd holding the text, positioned at 0.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim.h"

struct param {
	const char *path;
	bool always; /* even where the host has the file */
	const char *value; /* NULL: from the platform */
};

static const struct param params[] = {
	{ "/sys/module/kvm_amd/parameters/sev", true, NULL },
	{ "/sys/module/kvm_amd/parameters/sev_es", true, NULL },
	{ "/sys/module/kvm_amd/parameters/sev_snp", true, "N\n" },
	{ "/sys/module/kvm_amd/parameters/npt", false, "Y\n" },
	{ "/sys/module/kvm_amd/parameters/nested", false, "0\n" },
	{ "/sys/module/kvm_amd/parameters/avic", false, "N\n" },
	{ "/sys/module/kvm/parameters/force_emulation_prefix", false, "0\n" },
	{ "/sys/module/kvm/parameters/tdp_mmu", false, "Y\n" },
	{ "/sys/module/kvm/parameters/ignore_msrs", false, "N\n" },
	{ "/sys/module/kvm/parameters/enable_pmu", false, "N\n" },
	{ "/sys/module/kvm/parameters/halt_poll_ns", false, "200000\n" },
	{ "/sys/module/kvm/parameters/nx_huge_pages", false, "N\n" },
	{ "/sys/module/kvm/parameters/eager_page_split", false, "Y\n" },
};

static const struct param *lookup(const char *path)
{
	size_t i;

	if (!path || strncmp(path, "/sys/module/kvm", 15))
		return NULL;
	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++)
		if (!strcmp(path, params[i].path))
			return &params[i];
	return NULL;
}

/*
 * The parameter's text if softsev answers for path (*exists tells the
 * caller whether to look at the real file first), else NULL.
 */
const char *shim_sysfs_value(const char *path, bool *always)
{
	const struct param *p = lookup(path);
	const struct ss_rep *h;

	if (!p)
		return NULL;
	*always = p->always;
	if (p->value)
		return p->value;
	h = shim_host();
	if (!strcmp(path + 31, "sev"))
		return "Y\n";
	return h && h->sev_es ? "Y\n" : "N\n";
}

int shim_sysfs_open(const char *text)
{
	size_t len = strlen(text);
	int fd = memfd_create("softsev-sysfs", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (write(fd, text, len) != (ssize_t)len ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		real_close(fd);
		errno = EIO;
		return -1;
	}
	return fd;
}
