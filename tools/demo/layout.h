/* SPDX-License-Identifier: MIT */
/* Guest-physical layout of the demonstration guest (64 KiB). */
#ifndef SOFTSEV_DEMO_LAYOUT_H
#define SOFTSEV_DEMO_LAYOUT_H

#define GUEST_MEM	0x10000
#define GUEST_CODE_GPA	0x1000	/* the guest */
#define HELPER_GPA	0x2000	/* the mirror's migration helper */
#define COUNTER_GPA	0x3000	/* the guest's tick counter */
#define DATA_GPA	0x4000	/* four pages of launch data */
#define SECRET_GPA	0x8000	/* LAUNCH_SECRET lands here */
#define SHARED_GPA	0x9000	/* the helper's output */
#define SEV_PD_GPA	0xa000	/* the guest's SEV check: its PAE tables, */
#define SEV_PT_GPA	0xb000	/* outside the image and the migrated pages */
#define SEV_PDPT_GPA	0xc000
#define SEV_PRIV_VA	0x400000 /* SECRET_GPA with the C-bit */
#define SEV_SHARED_VA	0x401000 /* and without */
#define STACK_TOP	0xf000
#define ES_PT_GPA	0x0000	/* SEV-ES guest: page table of 0 .. 2 MiB */
#define GHCB_GPA	0xf000	/* SEV-ES guest: its GHCB, shared */
#define IMAGE_LEN	0x8000	/* launched (and measured): 0 .. DATA end */
#define WALK_START	DATA_GPA
#define WALK_END	(SECRET_GPA + 0x1000)

#define PORT_RESULT	0x10
#define PORT_TICK	0x11
#define PORT_HELPER_DONE 0x12
#define PORT_SEV	0x13	/* SEV_STATUS, CPUID 0x8000001F EBX, C-bit ok */
#define PORT_CTL	0x14	/* SEV-ES guest: IN, nonzero: end */

/*
 * The SEV-ES guest ends with the GHCB MSR protocol's TERM_REQ (0x100),
 * reason set DEMO_TERM_SET (bits 15:12) and code (bits 23:16):
 */
#define DEMO_TERM_SET	1
#define DEMO_TERM_DONE	0	/* the VMM asked it to end (PORT_CTL) */
#define DEMO_TERM_NOT_ES 1	/* SEV_STATUS was not 3 */
#define DEMO_TERM_VC	2	/* a #VC it does not handle */
#define DEMO_TERM_GHCB	3	/* the hypervisor refused a request */
#define DEMO_TERM_MSR(code) \
	(0x100 | DEMO_TERM_SET << 12 | (code) << 16)

#endif
