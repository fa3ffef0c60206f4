/* tdxsim Linux shim: <asm/page.h> is served by the shim's compat header. */
#ifndef KSHIM_ASM_PAGE_H
#define KSHIM_ASM_PAGE_H
#include "shim/kcompat.h"
#endif
