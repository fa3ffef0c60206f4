/* tdxsim Linux shim: <linux/minmax.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_MINMAX_H
#define KSHIM_LINUX_MINMAX_H
#include "shim/kcompat.h"
#endif
