/* tdxsim Linux shim: <linux/mutex.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_MUTEX_H
#define KSHIM_LINUX_MUTEX_H
#include "shim/kcompat.h"
#endif
