/* tdxsim Linux shim: <linux/percpu.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_PERCPU_H
#define KSHIM_LINUX_PERCPU_H
#include "shim/kcompat.h"
#endif
