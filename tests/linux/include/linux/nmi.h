/* tdxsim Linux shim: <linux/nmi.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_NMI_H
#define KSHIM_LINUX_NMI_H
#include "shim/kcompat.h"
#endif
