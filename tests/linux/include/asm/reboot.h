/* tdxsim Linux shim: <asm/reboot.h> is served by the shim's compat header. */
#ifndef KSHIM_ASM_REBOOT_H
#define KSHIM_ASM_REBOOT_H
#include "shim/kcompat.h"
#endif
