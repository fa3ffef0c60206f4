/* tdxsim Linux shim: <linux/spinlock.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_SPINLOCK_H
#define KSHIM_LINUX_SPINLOCK_H
#include "shim/kcompat.h"
#endif
