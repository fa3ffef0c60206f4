/* tdxsim Linux shim: <linux/errno.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_ERRNO_H
#define KSHIM_LINUX_ERRNO_H
#include "shim/kcompat.h"
#endif
