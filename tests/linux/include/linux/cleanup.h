/* tdxsim Linux shim: <linux/cleanup.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_CLEANUP_H
#define KSHIM_LINUX_CLEANUP_H
#include "shim/kcompat.h"
#endif
