/* tdxsim Linux shim: <asm/processor.h> is served by the shim's compat header. */
#ifndef KSHIM_ASM_PROCESSOR_H
#define KSHIM_ASM_PROCESSOR_H
#include "shim/kcompat.h"
#endif
