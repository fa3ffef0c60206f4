/* tdxsim Linux shim: <linux/memory.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_MEMORY_H
#define KSHIM_LINUX_MEMORY_H
#include "shim/kcompat.h"
#endif
