/* tdxsim Linux shim: <linux/ioctl.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_IOCTL_H
#define KSHIM_LINUX_IOCTL_H
#include "shim/kcompat.h"
#define _IOR(a, b, c) 0
#define _IOW(a, b, c) 0
#define _IO(a, b) 0
#define _IOWR(a, b, c) 0
#endif
