/* tdxsim Linux shim: <linux/kernel.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_KERNEL_H
#define KSHIM_LINUX_KERNEL_H
#include "shim/kcompat.h"
#endif
