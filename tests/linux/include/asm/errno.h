/* tdxsim Linux shim: <asm/errno.h> is served by the shim's compat header. */
#ifndef KSHIM_ASM_ERRNO_H
#define KSHIM_ASM_ERRNO_H
#include "shim/kcompat.h"
#endif
