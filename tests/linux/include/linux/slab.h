/* tdxsim Linux shim: <linux/slab.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_SLAB_H
#define KSHIM_LINUX_SLAB_H
#include "shim/kcompat.h"
#endif
