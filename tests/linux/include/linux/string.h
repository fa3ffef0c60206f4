/* tdxsim Linux shim: <linux/string.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_STRING_H
#define KSHIM_LINUX_STRING_H
#include "shim/kcompat.h"
#endif
