/* tdxsim Linux shim: <asm/special_insns.h> is served by the shim's compat header. */
#ifndef KSHIM_ASM_SPECIAL_INSNS_H
#define KSHIM_ASM_SPECIAL_INSNS_H
#include "shim/kcompat.h"
#endif
