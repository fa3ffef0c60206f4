/* tdxsim Linux shim: <linux/cpu.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_CPU_H
#define KSHIM_LINUX_CPU_H
#include "shim/kcompat.h"
#endif
