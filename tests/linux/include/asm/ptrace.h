/* tdxsim Linux shim: <asm/ptrace.h> is served by the shim's compat header. */
#ifndef KSHIM_ASM_PTRACE_H
#define KSHIM_ASM_PTRACE_H
#include "shim/kcompat.h"
#endif
