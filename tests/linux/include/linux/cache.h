/* tdxsim Linux shim: <linux/cache.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_CACHE_H
#define KSHIM_LINUX_CACHE_H
#include "shim/kcompat.h"
#endif
