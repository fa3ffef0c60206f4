/* tdxsim Linux shim: <linux/printk.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_PRINTK_H
#define KSHIM_LINUX_PRINTK_H
#include "shim/kcompat.h"
#endif
