/* tdxsim Linux shim: <asm/perf_event.h> is served by the shim's compat header. */
#ifndef KSHIM_ASM_PERF_EVENT_H
#define KSHIM_ASM_PERF_EVENT_H
#include "shim/kcompat.h"
#endif
