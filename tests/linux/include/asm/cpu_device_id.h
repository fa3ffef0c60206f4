/* tdxsim Linux shim: <asm/cpu_device_id.h> is served by the shim's compat header. */
#ifndef KSHIM_ASM_CPU_DEVICE_ID_H
#define KSHIM_ASM_CPU_DEVICE_ID_H
#include "shim/kcompat.h"
#include <asm/intel-family.h>
#endif
