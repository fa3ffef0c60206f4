/* tdxsim Linux shim: <asm/archrandom.h> is served by the shim's compat header. */
#ifndef KSHIM_ASM_ARCHRANDOM_H
#define KSHIM_ASM_ARCHRANDOM_H
#include "shim/kcompat.h"
#endif
