/* tdxsim Linux shim: <linux/log2.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_LOG2_H
#define KSHIM_LINUX_LOG2_H
#include "shim/kcompat.h"
#endif
