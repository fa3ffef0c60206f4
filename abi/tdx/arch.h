/*
 * TDX architectural structures and constants shared by the module model and
 * its users: TDMR_INFO, PAMT entries, metadata field ids, page types.
 * Offsets and values: see docs/architecture.md for sources.
 */
#ifndef TDX_ARCH_H
#define TDX_ARCH_H

#include <stdint.h>
#include <assert.h>

/* Page sizes and PAMT levels. */
#define TDX_PS_4K 0
#define TDX_PS_2M 1
#define TDX_PS_1G 2
#define TDX_PAGE_SIZE 4096ULL
#define TDX_2M  (1ULL << 21)
#define TDX_1G  (1ULL << 30)

/* PAMT page types (entry bits 23:16). */
enum tdx_page_type {
	PT_NDA = 0, PT_RSVD = 1, PT_REG = 3, PT_TDR = 4, PT_TDCX = 5,
	PT_TDVPR = 6, PT_EPT = 8,
};

/* PAMT entry: 16 bytes. Word 0: lock 15:0, type 23:16, owner (TDR PA >> 12) 63:24.
 * Word 1: BEPOCH. */
struct tdx_pamt_entry {
	uint64_t w0;
	uint64_t bepoch;
};
static_assert(sizeof(struct tdx_pamt_entry) == 16, "PAMT entry is 16 bytes");
#define PAMT_ENTRY_SIZE 16
#define PAMT_LOCK_MASK  0xFFFFULL
#define PAMT_TYPE_SHIFT 16
#define PAMT_TYPE_MASK  0xFFULL
#define PAMT_OWNER_SHIFT 24

/* TDMR_INFO as the host hands it to TDH.SYS.CONFIG (512-B aligned). */
#define TDX_MAX_TDMRS               64
#define TDX_MAX_RESERVED_PER_TDMR   16
#define TDX_MAX_CMRS                32
struct tdx_tdmr_reserved_area {
	uint64_t offset;
	uint64_t size;
};
struct tdx_tdmr_info {
	uint64_t base;
	uint64_t size;
	uint64_t pamt_1g_base;
	uint64_t pamt_1g_size;
	uint64_t pamt_2m_base;
	uint64_t pamt_2m_size;
	uint64_t pamt_4k_base;
	uint64_t pamt_4k_size;
	struct tdx_tdmr_reserved_area reserved[TDX_MAX_RESERVED_PER_TDMR];
};
static_assert(sizeof(struct tdx_tdmr_info) == 320, "TDMR_INFO with 16 reserved areas");
#define TDX_TDMR_INFO_ALIGN 512

/* CMR_INFO entry (TDH.SYS.INFO output). */
struct tdx_cmr_info {
	uint64_t base;
	uint64_t size;
};

/* Module system states. */
enum tdx_sys_state {
	TDX_SYSINIT_PENDING = 0, TDX_SYSINIT_DONE = 1, TDX_SYSCONFIG_DONE = 2,
	TDX_SYS_READY = 3, TDX_SYS_SHUTDOWN_STATE = 4,
};

/* Metadata field id (TDH.SYS.RD, TDH.MNG.RD, ...). */
#define MD_FIELD_CODE(id)        ((id) & 0xFFFFFFULL)
#define MD_RESERVED_31_24(id)    (((id) >> 24) & 0xFFULL)
#define MD_ELEM_SIZE(id)         (((id) >> 32) & 0x3ULL)
#define MD_LAST_ELEM(id)         (((id) >> 34) & 0xFULL)
#define MD_LAST_FIELD(id)        (((id) >> 38) & 0x1FFULL)
#define MD_RESERVED_49_47(id)    (((id) >> 47) & 0x7ULL)
#define MD_INC_SIZE(id)          (((id) >> 50) & 0x1ULL)
#define MD_WR_MASK_VALID(id)     (((id) >> 51) & 0x1ULL)
#define MD_CONTEXT(id)           (((id) >> 52) & 0x7ULL)
#define MD_RESERVED_55(id)       (((id) >> 55) & 0x1ULL)
#define MD_CLASS(id)             (((id) >> 56) & 0x3FULL)
#define MD_RESERVED_62(id)       (((id) >> 62) & 0x1ULL)
#define MD_NON_ARCH(id)          (((id) >> 63) & 0x1ULL)
#define MD_CONTEXT_SYS 0
#define MD_CONTEXT_TD  1
#define MD_CONTEXT_VP  2
#define MD_FIELD_ID_NULL 0xFFFFFFFFFFFFFFFFULL

/* Global (SYS context) field ids Linux reads. */
#define MD_SYS_MINOR_VERSION          0x0800000100000003ULL
#define MD_SYS_MAJOR_VERSION          0x0800000100000004ULL
#define MD_SYS_UPDATE_VERSION         0x0800000100000005ULL
#define MD_SYS_VENDOR_ID              0x0800000200000000ULL
#define MD_SYS_TDX_FEATURES0          0x0A00000300000008ULL
#define MD_SYS_MAX_TDMRS              0x9100000100000008ULL
#define MD_SYS_MAX_RESERVED_PER_TDMR  0x9100000100000009ULL
#define MD_SYS_PAMT_4K_ENTRY_SIZE     0x9100000100000010ULL
#define MD_SYS_PAMT_2M_ENTRY_SIZE     0x9100000100000011ULL
#define MD_SYS_PAMT_1G_ENTRY_SIZE     0x9100000100000012ULL
#define MD_SYS_TDR_BASE_SIZE          0x9800000100000000ULL
#define MD_SYS_TDCS_BASE_SIZE         0x9800000100000100ULL
#define MD_SYS_TDVPS_BASE_SIZE        0x9800000100000200ULL
#define MD_SYS_ATTRIBUTES_FIXED0      0x1900000300000000ULL
#define MD_SYS_ATTRIBUTES_FIXED1      0x1900000300000001ULL
#define MD_SYS_XFAM_FIXED0            0x1900000300000002ULL
#define MD_SYS_XFAM_FIXED1            0x1900000300000003ULL
#define MD_SYS_NUM_CPUID_CONFIG       0x9900000100000004ULL
#define MD_SYS_MAX_VCPUS_PER_TD       0x9900000100000008ULL
#define MD_SYS_CPUID_CONFIG_LEAVES    0x9900000300000400ULL
#define MD_SYS_CPUID_CONFIG_VALUES    0x9900000300000500ULL
#define MD_SYS_NUM_CMRS               0x9000000100000000ULL
#define MD_SYS_CMR_BASE               0x9000000300000080ULL
#define MD_SYS_CMR_SIZE               0x9000000300000100ULL
#define MD_SYS_MODULE_HV              0x8900000100000000ULL
#define MD_SYS_MIN_UPDATE_HV          0x8900000100000001ULL
#define MD_SYS_NO_DOWNGRADE           0x8900000000000002ULL

/* TD-scope fields (TDH.MNG.RD/WR) host code commonly reads. */
#define MD_TD_ATTRIBUTES              0x1110000300000000ULL
#define MD_TD_TSC_OFFSET              0x111000030000000AULL
#define MD_TD_TSC_MULTIPLIER          0x111000030000000BULL
#define MD_TD_MRTD                    0x1310000300000000ULL   /* 6 elements of 8 bytes */
#define MD_TD_LIFECYCLE_STATE         0x8010000200000005ULL
#define MD_TD_OP_STATE                0x9010000200000004ULL

/* TDX_FEATURES0 bits. */
#define TDX_FEATURES0_TD_PRESERVING   (1ULL << 1)
#define TDX_FEATURES0_NO_RBP_MOD      (1ULL << 18)
#define TDX_FEATURES0_TOPOLOGY_ENUM   (1ULL << 20)

/* MSRs the platform model answers. */
#define MSR_IA32_MKTME_KEYID_PARTITIONING 0x87
#define MSR_IA32_TME_ACTIVATE             0x982
#define MSR_IA32_VMX_BASIC                0x480

/* TD_PARAMS (TDH.MNG.INIT RDX): 1024 bytes, 1024-byte aligned (tdx-abi.md 4.1). */
struct tdx_cpuid_value {
	uint32_t eax, ebx, ecx, edx;
};
struct tdx_td_params {
	uint64_t attributes;
	uint64_t xfam;
	uint16_t max_vcpus;
	uint8_t num_l2_vms;
	uint8_t msr_config_ctls;
	uint32_t reserved0;
	uint64_t eptp_controls;
	uint64_t config_flags;
	uint16_t tsc_frequency;
	uint8_t reserved1[38];
	uint8_t mrconfigid[48];
	uint8_t mrowner[48];
	uint8_t mrownerconfig[48];
	uint64_t ia32_arch_capabilities_config;
	uint8_t reserved2[24];
	struct tdx_cpuid_value cpuid_values[48];
};
static_assert(sizeof(struct tdx_td_params) == 1024, "TD_PARAMS is 1024 bytes");
#define TDX_TD_PARAMS_ALIGN 1024

/* TD ATTRIBUTES bits. */
#define TDX_TD_ATTR_DEBUG            (1ULL << 0)
#define TDX_TD_ATTR_SEPT_VE_DISABLE  (1ULL << 28)
#define TDX_TD_ATTR_MIGRATABLE       (1ULL << 29)
#define TDX_TD_ATTR_PKS              (1ULL << 30)
#define TDX_TD_ATTR_KL               (1ULL << 31)
#define TDX_TD_ATTR_PERFMON          (1ULL << 63)
/* TD_PARAMS.CONFIG_FLAGS bits. */
#define TDX_CONFIG_FLAGS_GPAW              (1ULL << 0)
#define TDX_CONFIG_FLAGS_FLEXIBLE_PENDING_VE (1ULL << 1)
#define TDX_CONFIG_FLAGS_NO_RBP_MOD        (1ULL << 2)
/* EPTP_CONTROLS as KVM writes them: WB, 4 or 5 levels. */
#define TDX_EPTP_WB_4LVL 0x1EULL
#define TDX_EPTP_WB_5LVL 0x26ULL

/* Page counts (module 1.5, no L2 VMs). */
#define TDX_TDCS_PAGES   6
#define TDX_TDVPS_PAGES  6      /* TDVPR + 5 TDCX */

/* TDX_PS_* of an S-EPT level (KVM: level = pg_level - 1). */
#define TDX_SEPT_LVL_4K 0
#define TDX_SEPT_LVL_2M 1
#define TDX_SEPT_LVL_1G 2

#endif /* TDX_ARCH_H */
