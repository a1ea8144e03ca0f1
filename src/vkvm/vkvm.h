/* SPDX-License-Identifier: MIT */
/*
 * vkvm: the KVM userspace API in userspace, for hosts without /dev/kvm.
 * Guest code runs on the Unicorn CPU emulator in the caller's thread.
 * System, VM and vCPU descriptors are real kernel files (memfds named
 * "kvm", "kvm-vm" and "kvm-vcpu:N"), so dup, fork, SCM_RIGHTS, poll and
 * mmap of a vCPU's kvm_run need no further interposition.  vkvm knows
 * nothing of SEV; what it answers is what KVM on an AMD host answers.
 */
#ifndef SOFTSEV_VKVM_H
#define SOFTSEV_VKVM_H

#include <stdbool.h>
#include <stdint.h>

enum vkvm_kind { VKVM_NONE = 0, VKVM_SYS, VKVM_VM, VKVM_VCPU };

/* A new system descriptor (as open("/dev/kvm", flags)), or -errno. */
int vkvm_open(int flags);
/* An ioctl on a vkvm descriptor: >= 0 as the kernel returns, or -errno. */
long vkvm_ioctl(int fd, unsigned long req, void *arg);
/* What fd is to vkvm; VKVM_NONE if it is none of its files. */
enum vkvm_kind vkvm_kind(int fd);
/* newfd now refers to the same file as oldfd / fd stops referring. */
void vkvm_dup(int oldfd, int newfd);
void vkvm_close(int fd);
/*
 * A descriptor inherited across exec or received from elsewhere: tell by
 * its memfd name whether it is one of vkvm's files and remember it.  VM
 * and vCPU files of another address space answer EIO, as KVM's do.
 */
enum vkvm_kind vkvm_adopt(int fd);
/* The vCPU index a vCPU descriptor was created with, or -1. */
int vkvm_vcpu_id(int fd);

/*
 * What the platform under a VM adds to its CPU, for the layer above; vkvm
 * gives these no meaning.  fd is a VM descriptor; set them before the
 * VM's first KVM_RUN (-EBUSY after).  0 or -errno.
 *
 * A platform MSR is one the CPU answers itself, with no exit: RDMSR reads
 * value in every vCPU of the VM; WRMSR is ignored if wr_ignore, else it
 * raises #GP(0).  Setting an index again replaces it (-ENOSPC past 16).
 */
int vkvm_set_platform_msr(int fd, uint32_t index, uint64_t value,
			  bool wr_ignore);
/*
 * Guest-physical address bits the page walk ignores: cleared from CR3 and
 * from every paging-structure entry before the address is used, so an
 * entry with them set maps the same page as one without.  Other bits above
 * the emulator's 40 stay reserved (#PF).  Nonzero mask: vkvm translates
 * every access of the VM itself (a TLB-fill hook), instead of the
 * engine's MMU.  Bits below 12 or above 51 are -EINVAL.
 */
int vkvm_set_pa_ignore(int fd, uint64_t mask);
/*
 * CPUID bits the platform fixes whatever KVM_SET_CPUID2 says: when the
 * VMM's table has leaf function, the guest reads EBX with the bits in mask
 * taken from ebx (KVM_GET_CPUID2 still returns the table as set).  One leaf
 * per VM; -EBUSY after the first KVM_RUN.
 */
int vkvm_set_platform_cpuid_ebx(int fd, uint32_t function, uint32_t mask,
				uint32_t ebx);

#endif
