/* tdxsim Linux shim: <linux/mm.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_MM_H
#define KSHIM_LINUX_MM_H
#include "shim/kcompat.h"
#endif
