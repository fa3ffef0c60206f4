/* tdxsim Linux shim: <linux/syscore_ops.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_SYSCORE_OPS_H
#define KSHIM_LINUX_SYSCORE_OPS_H
#include "shim/kcompat.h"
#endif
