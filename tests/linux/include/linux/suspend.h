/* tdxsim Linux shim: <linux/suspend.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_SUSPEND_H
#define KSHIM_LINUX_SUSPEND_H
#include "shim/kcompat.h"
#endif
