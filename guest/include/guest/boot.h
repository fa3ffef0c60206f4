/*
 * The contract between a guest image and the host that loads it. Shared by
 * the guest runtime (C and assembly) and host code, so it uses only
 * fixed-width types and plain constants.
 *
 * A TD starts at its reset vector with the registers TDH.VP.INIT gives it
 * (tdx-abi.md 7): 32-bit protected mode, paging off, RIP 0xFFFFFFF0,
 * RBX = GPAW, RSI = vCPU index, RCX = R8 = VP.INIT RDX. The host cannot set
 * anything else, so everything the guest needs beyond that comes from the
 * boot parameters page, which the host fills and PAGE.ADDs at
 * GUEST_BOOT_PARAMS_GPA before TDH.MR.FINALIZE.
 *
 * Guest-physical layout (every address below 4 GiB, all private, identity
 * mapped by the guest once in long mode; "offset" means a GPA without the
 * shared bit):
 *
 *   GUEST_IMAGE_GPA .. 4 GiB      the image (code, data, bss; PAGE.ADD all)
 *   GUEST_BOOT_PARAMS_GPA         1 page: struct guest_boot_params (PAGE.ADD)
 *   pt_gpa (default GUEST_PT_GPA) GUEST_PT_PAGES pages the boot block writes
 *                                 its page tables into (PAGE.ADD, any content)
 *   stack_top[i]                  each vCPU's stack, GUEST_STACK_SIZE below
 *                                 stack_top[i] (default GUEST_STACK_GPA + ...;
 *                                 PAGE.ADD)
 *   GUEST_UCALL_OFFSET | shared   1 shared page: one struct ucall per vCPU
 *                                 (host maps it in the shared EPT)
 *   GUEST_XFER_OFFSET | shared    1 shared page for bulk results (guest_report)
 *
 * Virtual layout: VA [0, 4 GiB) = private GPA [0, 4 GiB) (2 MiB pages);
 * VA [GUEST_SHARED_VA, GUEST_SHARED_VA + 4 GiB) = shared GPA
 * (shared bit | [0, 4 GiB)), so guest_shared_ptr(offset) reaches the shared
 * alias of any offset below 4 GiB.
 */
#ifndef GUEST_BOOT_H
#define GUEST_BOOT_H

/* Image: fixed size, loaded so that its last byte is at GPA 0xFFFFFFFF. */
#define GUEST_IMAGE_SIZE        0x10000
#define GUEST_IMAGE_GPA         (0x100000000 - GUEST_IMAGE_SIZE) /* 0xFFFF0000 */
#define GUEST_RESET_VECTOR      0xFFFFFFF0

/* Boot parameters page (fixed: the guest knows only this address). */
#define GUEST_BOOT_PARAMS_GPA   0x00100000
#define GUEST_BOOT_MAGIC        0x544f4f4258445354 /* "TSDXBOOT" little-endian */
#define GUEST_BOOT_VERSION      1

/* Page tables: PML4, PDPT, 4 PDs for the private identity map, 4 PDs for the shared alias. */
#define GUEST_PT_PAGES          10
#define GUEST_PT_GPA            0x00101000      /* default pt_gpa */

/* Stacks: default placement the host may use (any private pages will do). */
#define GUEST_MAX_VCPUS         16
#define GUEST_STACK_SIZE        0x4000
#define GUEST_STACK_GPA         0x00110000      /* vCPU i: top = base + (i + 1) * size */

/* Shared pages (offsets; the GPA is offset | shared bit). */
#define GUEST_UCALL_OFFSET      0x00200000      /* 1 page, struct ucall per vCPU */
#define GUEST_XFER_OFFSET       0x00201000      /* 1 page, programs hand the host data here */
#define GUEST_SHARED_VA         0x100000000     /* VA of shared offset 0 */

/* Memory some test programs use (offsets; see each program's header comment). */
#define GUEST_DATA_GPA          0x00400000      /* private, programs that read host data */
#define GUEST_ACCEPT_GPA        0x00800000      /* 2 MiB, pending (AUG) for guest_accept */
#define GUEST_CONVERT_GPA       0x00A00000      /* page guest_shared converts to shared */
#define GUEST_DATA_SIZE         0x00100000      /* guest_sha256 hashes this much at GUEST_DATA_GPA */
#define GUEST_MMIO_OFFSET       0xFEB00000      /* guest_mmio's device (shared, never mapped) */
#define GUEST_IO_PORT           0x510           /* guest_io's port */
#define GUEST_TEST_MSR          0x40000100      /* guest_msr's MSR */

/* struct guest_boot_params byte offsets (the boot block reads them). */
#define GUEST_BP_MAGIC          0
#define GUEST_BP_VERSION        8
#define GUEST_BP_NUM_VCPUS      12
#define GUEST_BP_ARG            16
#define GUEST_BP_PT_GPA         24
#define GUEST_BP_STACK_TOP      64

#ifndef __ASSEMBLER__
#include <stdint.h>

struct guest_boot_params {
	uint64_t magic;                 /* GUEST_BOOT_MAGIC */
	uint32_t version;               /* GUEST_BOOT_VERSION */
	uint32_t num_vcpus;             /* vCPUs that will run (RSI must be below) */
	uint64_t arg;                   /* second argument of guest_main() */
	uint64_t pt_gpa;                /* GUEST_PT_PAGES private pages, 4 KiB aligned, below 4 GiB */
	uint64_t reserved[4];           /* 0 */
	uint64_t stack_top[GUEST_MAX_VCPUS]; /* per vCPU index, 16-byte aligned, below 4 GiB */
};

_Static_assert(__builtin_offsetof(struct guest_boot_params, version) == GUEST_BP_VERSION, "bp");
_Static_assert(__builtin_offsetof(struct guest_boot_params, num_vcpus) == GUEST_BP_NUM_VCPUS, "bp");
_Static_assert(__builtin_offsetof(struct guest_boot_params, arg) == GUEST_BP_ARG, "bp");
_Static_assert(__builtin_offsetof(struct guest_boot_params, pt_gpa) == GUEST_BP_PT_GPA, "bp");
_Static_assert(__builtin_offsetof(struct guest_boot_params, stack_top) == GUEST_BP_STACK_TOP, "bp");
_Static_assert(sizeof(struct guest_boot_params) <= 4096, "bp");

/* The shared bit of a TD with this GPAW (48 or 52). */
static inline uint64_t guest_shared_bit(unsigned gpaw)
{
	return (uint64_t)1 << (gpaw - 1);
}
#endif

#endif
