/* tdxsim Linux shim: <linux/init.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_INIT_H
#define KSHIM_LINUX_INIT_H
#include "shim/kcompat.h"
#endif
