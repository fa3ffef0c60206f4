/* tdxsim Linux shim: <linux/bug.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_BUG_H
#define KSHIM_LINUX_BUG_H
#include "shim/kcompat.h"
#endif
