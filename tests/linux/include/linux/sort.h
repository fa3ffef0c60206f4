/* tdxsim Linux shim: <linux/sort.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_SORT_H
#define KSHIM_LINUX_SORT_H
#include "shim/kcompat.h"
#endif
