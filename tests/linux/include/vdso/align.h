/* tdxsim Linux shim: <vdso/align.h> (7.3's <linux/align.h> includes it). */
#ifndef KSHIM_VDSO_ALIGN_H
#define KSHIM_VDSO_ALIGN_H
#include <linux/const.h>
#define ALIGN(x, a) __ALIGN_KERNEL((x), (a))
#define ALIGN_DOWN(x, a) __ALIGN_KERNEL((x) - ((a) - 1), (a))
#define PTR_ALIGN(p, a) ((__typeof__(p))ALIGN((unsigned long)(p), (a)))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#endif
