/* tdxsim Linux shim: <linux/list.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_LIST_H
#define KSHIM_LINUX_LIST_H
#include "shim/kcompat.h"
#endif
