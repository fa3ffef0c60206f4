/* tdxsim Linux shim: <linux/bits.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_BITS_H
#define KSHIM_LINUX_BITS_H
#include "shim/kcompat.h"
#endif
