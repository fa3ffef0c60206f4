/* tdxsim Linux shim: <linux/bitops.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_BITOPS_H
#define KSHIM_LINUX_BITOPS_H
#include "shim/kcompat.h"
#endif
