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
#define STACK_TOP	0xf000
#define IMAGE_LEN	0x8000	/* launched (and measured): 0 .. DATA end */
#define WALK_START	DATA_GPA
#define WALK_END	(SECRET_GPA + 0x1000)

#define PORT_RESULT	0x10
#define PORT_TICK	0x11
#define PORT_HELPER_DONE 0x12

#endif
