/* tdxsim Linux shim: <asm/vmx.h> is served by the shim's compat header. */
#ifndef KSHIM_ASM_VMX_H
#define KSHIM_ASM_VMX_H
#include "shim/kcompat.h"
#endif
