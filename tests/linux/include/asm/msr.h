/* tdxsim Linux shim: <asm/msr.h> is served by the shim's compat header. */
#ifndef KSHIM_ASM_MSR_H
#define KSHIM_ASM_MSR_H
#include "shim/kcompat.h"
#endif
