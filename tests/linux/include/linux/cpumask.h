/* tdxsim Linux shim: <linux/cpumask.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_CPUMASK_H
#define KSHIM_LINUX_CPUMASK_H
#include "shim/kcompat.h"
#endif
