/* tdxsim Linux shim: <linux/compiler_attributes.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_COMPILER_ATTRIBUTES_H
#define KSHIM_LINUX_COMPILER_ATTRIBUTES_H
#include "shim/kcompat.h"
#endif
