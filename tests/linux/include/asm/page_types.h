/* tdxsim Linux shim: <asm/page_types.h>. Kept free of printk definitions:
 * 7.3's tdx.c includes it before it defines pr_fmt. */
#ifndef KSHIM_ASM_PAGE_TYPES_H
#define KSHIM_ASM_PAGE_TYPES_H
#include "shim/ktypes.h"
#endif
