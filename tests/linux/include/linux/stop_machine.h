/* tdxsim Linux shim: <linux/stop_machine.h> is served by the shim's compat header. */
#ifndef KSHIM_LINUX_STOP_MACHINE_H
#define KSHIM_LINUX_STOP_MACHINE_H
#include "shim/kcompat.h"
#endif
