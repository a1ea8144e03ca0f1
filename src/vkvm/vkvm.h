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
#include <stddef.h>
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

/*
 * A guest whose state the CPU keeps from the host -- what SEV-ES makes of
 * a guest on an EPYC; vkvm models the CPU's part, the layer above the
 * hypervisor's (the GHCB protocol).  Set before the VM's first KVM_RUN
 * (-EBUSY after); once per VM.
 *
 * Instructions that would exit to the hypervisor raise exception `vector`
 * in the guest instead (the APM's non-automatic exits: SEV-ES's #VC, 29),
 * at the instruction, with the SVM exit code as error code: RDPMC 0x6f,
 * CPUID 0x72, INVD 0x76, port I/O 0x7b, an MSR that exits 0x7c, VMMCALL
 * 0x81, WBINVD 0x89, MONITOR 0x8a, MWAIT 0x8b, MMIO 0x400 (an access
 * outside every memslot).  HLT, interrupts and shutdown stay automatic
 * exits.  MSR `gmsr` is the vCPU's own (SEV-ES's GHCB MSR): the guest
 * reads and writes it without an exit; it starts at 0.
 *
 * VMGEXIT (`rep; vmmcall`) calls fn on the KVM_RUN caller's thread, with
 * the engine stopped and RIP already past the instruction.  fn returns 1
 * to resume the guest, 0 when it filled kvm_run with an exit for the VMM
 * (KVM_RUN returns 0; the guest resumes at the next KVM_RUN, after the
 * completion fn set, if any), or -errno for KVM_RUN to fail with.
 * release (if not NULL) gets opaque back when the VM is freed.
 */
struct vkvm_gexit;
struct kvm_run;
typedef int (*vkvm_gexit_fn)(void *opaque, struct vkvm_gexit *g);
int vkvm_set_protected(int fd, unsigned int vector, uint32_t gmsr,
		       vkvm_gexit_fn fn, void (*release)(void *opaque),
		       void *opaque);

/* Inside fn (or a completion): the vCPU and what the hypervisor may do. */
int vkvm_gexit_vcpu_id(const struct vkvm_gexit *g);
struct kvm_run *vkvm_gexit_run(struct vkvm_gexit *g);
uint64_t vkvm_gexit_get_gmsr(const struct vkvm_gexit *g);
void vkvm_gexit_set_gmsr(struct vkvm_gexit *g, uint64_t value);
/*
 * Guest-physical memory through the memslots (kvm_read_guest() /
 * kvm_write_guest()): 0, or -EFAULT where a byte is in none.  map gives
 * the host address of a whole page (kvm_vcpu_map()), or NULL.
 */
int vkvm_gexit_read(struct vkvm_gexit *g, uint64_t gpa, void *buf,
		    size_t len);
int vkvm_gexit_write(struct vkvm_gexit *g, uint64_t gpa, const void *buf,
		     size_t len);
void *vkvm_gexit_map(struct vkvm_gexit *g, uint64_t gpa);
/* KVM's exit handlers, on the registers the caller passes. */
/* kvm_emulate_cpuid(): r[0..3] = RAX RBX RCX RDX; in: RAX, RCX */
void vkvm_gexit_cpuid(struct vkvm_gexit *g, uint64_t r[4]);
/* kvm_get_msr()/kvm_set_msr() for the guest: 0, or 1 for #GP */
int vkvm_gexit_rdmsr(struct vkvm_gexit *g, uint32_t index, uint64_t *data);
int vkvm_gexit_wrmsr(struct vkvm_gexit *g, uint32_t index, uint64_t data);
/*
 * Port I/O of count elements of size bytes: an OUT an ioeventfd takes
 * returns 1; otherwise kvm_run holds KVM_EXIT_IO with the data page
 * (vkvm_gexit_pio_data(): OUT's data copied there from out) and 0 is
 * returned.  count * size must fit the page.
 */
int vkvm_gexit_pio(struct vkvm_gexit *g, bool in, uint16_t port, int size,
		   uint32_t count, const void *out);
void *vkvm_gexit_pio_data(struct vkvm_gexit *g);
/*
 * An MMIO access of len (1..8) bytes: a write an ioeventfd takes returns
 * 1; otherwise kvm_run holds KVM_EXIT_MMIO (a write's data from data) and
 * 0 is returned; a read's data is in kvm_run->mmio.data at completion.
 */
int vkvm_gexit_mmio(struct vkvm_gexit *g, bool write, uint64_t gpa,
		    unsigned int len, const void *data);
/*
 * What the next KVM_RUN does first, before the guest resumes (KVM's
 * complete_userspace_io): fn returns as a VMGEXIT handler does.  Also run
 * by a KVM_RUN with immediate_exit, which then returns -EINTR.
 */
void vkvm_gexit_complete(struct vkvm_gexit *g, vkvm_gexit_fn fn,
			 void *opaque);

#endif
