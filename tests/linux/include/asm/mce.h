/* tdxsim Linux shim: <asm/mce.h> is served by the shim's compat header. */
#ifndef KSHIM_ASM_MCE_H
#define KSHIM_ASM_MCE_H
#include "shim/kcompat.h"
#include <uapi/asm/mce.h>
#endif
