/* tdxsim Linux shim: <linux/mmzone.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_MMZONE_H
#define KSHIM_LINUX_MMZONE_H
#include "shim/kcompat.h"
#endif
