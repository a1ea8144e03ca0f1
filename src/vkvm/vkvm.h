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

#endif
