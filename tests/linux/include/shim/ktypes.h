/* tdxsim Linux shim: the kernel's basic types (x86-64, LP64). */
#ifndef KSHIM_KTYPES_H
#define KSHIM_KTYPES_H

#include <stddef.h>

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;
typedef u8 __u8;
typedef u16 __u16;
typedef u32 __u32;
typedef u64 __u64;
typedef s8 __s8;
typedef s16 __s16;
typedef s32 __s32;
typedef s64 __s64;
typedef u16 __le16;
typedef u32 __le32;
typedef u64 __le64;
typedef _Bool bool;
#define true 1
#define false 0
typedef u64 phys_addr_t;
typedef u64 dma_addr_t;
typedef unsigned int gfp_t;
typedef long ssize_t;
typedef long long loff_t;
typedef unsigned long uintptr_t;
typedef u64 kvm_pfn_t;
typedef u64 gpa_t;
typedef u64 hpa_t;
typedef struct { int counter; } atomic_t;

#endif
