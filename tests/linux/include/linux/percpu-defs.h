/* tdxsim Linux shim: <linux/percpu-defs.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_PERCPU_DEFS_H
#define KSHIM_LINUX_PERCPU_DEFS_H
#include "shim/kcompat.h"
#endif
