/* tdxsim Linux shim: <linux/idr.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_IDR_H
#define KSHIM_LINUX_IDR_H
#include "shim/kcompat.h"
#endif
