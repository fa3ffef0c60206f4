/* tdxsim Linux shim: <asm/cpufeatures.h> is served by the shim's compat header. */
#ifndef KSHIM_ASM_CPUFEATURES_H
#define KSHIM_ASM_CPUFEATURES_H
#include "shim/kcompat.h"
#endif
