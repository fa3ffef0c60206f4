/* tdxsim Linux shim: <linux/memblock.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_MEMBLOCK_H
#define KSHIM_LINUX_MEMBLOCK_H
#include "shim/kcompat.h"
#endif
