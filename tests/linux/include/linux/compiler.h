/* tdxsim Linux shim: <linux/compiler.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_COMPILER_H
#define KSHIM_LINUX_COMPILER_H
#include "shim/kcompat.h"
#endif
