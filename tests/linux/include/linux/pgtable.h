/* tdxsim Linux shim: <linux/pgtable.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_PGTABLE_H
#define KSHIM_LINUX_PGTABLE_H
#include "shim/kcompat.h"
#endif
