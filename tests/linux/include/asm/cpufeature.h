/* tdxsim Linux shim: <asm/cpufeature.h> is served by the shim's compat header. */
#ifndef KSHIM_ASM_CPUFEATURE_H
#define KSHIM_ASM_CPUFEATURE_H
#include "shim/kcompat.h"
#endif
