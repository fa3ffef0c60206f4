/*
 * TD-scope metadata (TDR and TDCS fields): the field table behind TDH.MNG.RD
 * and TDH.MNG.WR on the host side and TDG.VM.RD / TDG.VM.WR on the guest
 * side, plus the TD's virtual CPUID (the CPUID_VALUES class).
 *
 * Field ids follow tdx-abi.md 4.4: a single-element access is matched on
 * class (61:56) and field code (23:0); the context is forced to TD, and the
 * element size, INC_SIZE and WRITE_MASK_VALID bits are ignored. Reserved bits,
 * LAST_ELEMENT_IN_FIELD or LAST_FIELD_IN_SEQUENCE set -> FIELD_ID_INCORRECT.
 *
 * Every field has read and write masks per access kind, as the module's
 * TDR/TDCS field table has them: host access on a production TD, host access
 * on a debug TD (ATTRIBUTES.DEBUG), guest access. A read with a zero read
 * mask is METADATA_FIELD_NOT_READABLE; the value is ANDed with the read mask.
 * Writes follow the module's rule (tdx-abi.md 4.6): effective mask = field
 * write mask AND request mask; zero -> METADATA_FIELD_NOT_WRITABLE; a bit the
 * caller asks to write outside the field's write mask whose value would change
 * -> METADATA_FIELD_VALUE_NOT_VALID; only effective-mask bits change.
 *
 * The caller holds the TDR (shared is enough) and the TDCS op-state lock.
 */
#ifndef SEAM_METADATA_TD_H
#define SEAM_METADATA_TD_H

#include <stdbool.h>
#include <stdint.h>

struct tdxsim;
struct seam_td;
struct tdx_cpuid_value;

/* Access kinds. */
#define MD_TD_HOST  0u      /* TDH.MNG.RD / TDH.MNG.WR (debug masks if ATTRIBUTES.DEBUG) */
#define MD_TD_GUEST 1u      /* TDG.VM.RD / TDG.VM.WR */

/* Field ids the simulator and its tests name. */
#define MD_TD_FATAL             0x8010000000000001ULL
#define MD_TD_NUM_TDCX          0x8010000200000002ULL
#define MD_TD_CHLDCNT           0x8010000300000004ULL
#define MD_TD_TDCX_PA           0x8010000300000010ULL
#define MD_TD_HKID              0x8110000100000001ULL
#define MD_TD_PKG_CONFIG_BITMAP 0x8110000300000002ULL
#define MD_TD_NUM_VCPUS         0x9010000200000001ULL
#define MD_TD_NUM_ASSOC_VCPUS   0x9010000200000002ULL
#define MD_TD_NUM_L2_VMS        0x9010000100000005ULL
#define MD_TD_XFAM              0x1110000300000001ULL
#define MD_TD_MAX_VCPUS         0x1110000200000002ULL
#define MD_TD_GPAW              0x1110000000000003ULL
#define MD_TD_EPTP              0x1110000300000004ULL
#define MD_TD_TSC_FREQUENCY     0x111000010000000CULL
#define MD_TD_VIRTUAL_TSC       0x111000030000000DULL
#define MD_TD_NUM_CPUID_VALUES  0x911000010000000EULL
#define MD_TD_NOTIFY_ENABLES    0x9110000300000010ULL
#define MD_TD_CONFIG_FLAGS      0x1110000300000016ULL
#define MD_TD_TD_CTLS           0x1110000300000017ULL
#define MD_TD_TD_EPOCH          0x9210000300000000ULL
#define MD_TD_REFCOUNT          0x9210000100000001ULL
#define MD_TD_MRCONFIGID        0x1310000300000010ULL
#define MD_TD_MROWNER           0x1310000300000018ULL
#define MD_TD_MROWNERCONFIG     0x1310000300000020ULL
#define MD_TD_RTMR              0x1310000300000040ULL   /* RTMR i element j: + 6 * i + j */
#define MD_TD_CPUID_VALUES      0x9410000300000000ULL   /* + md_td_cpuid_code() */

/* CPUID_SUBLEAF_NA: a leaf without sub-leaves. */
#define MD_CPUID_SUBLEAF_NA 0xFFFFFFFFu

/* Field code of CPUID_VALUES for (leaf, subleaf), element 0 (EBX:EAX) or 1 (EDX:ECX). */
uint64_t md_td_cpuid_code(uint32_t leaf, uint32_t subleaf, unsigned element);

/* The id is the null id (all ones, whatever its context bits). */
bool md_td_is_null_id(uint64_t field_id);

/*
 * Read one element. Returns TDX_SUCCESS with *value, or
 * METADATA_FIELD_ID_INCORRECT / METADATA_FIELD_NOT_READABLE (*value = 0).
 * next != NULL asks for the version-1 behaviour: on success *next is the id of
 * the next element readable with this access (MD_FIELD_ID_NULL at the end),
 * and the null id returns the first readable id in *next with
 * METADATA_FIRST_FIELD_ID_IN_CONTEXT. On any other outcome *next = null id.
 */
uint64_t md_td_read(struct tdxsim *s, struct seam_td *td, unsigned access, uint64_t field_id,
		    uint64_t *value, uint64_t *next);

/*
 * Write one element: value under mask. Returns TDX_SUCCESS with *old = the
 * previous value (ANDed with the read mask), or METADATA_FIELD_ID_INCORRECT /
 * NOT_WRITABLE / VALUE_NOT_VALID, or OPERAND_BUSY + METADATA_FIELD when a
 * concurrent writer changed the element first.
 */
uint64_t md_td_write(struct tdxsim *s, struct seam_td *td, unsigned access, uint64_t field_id,
		     uint64_t value, uint64_t mask, uint64_t *old);

/* ---- Virtual CPUID (CPUID_VALUES) ---- */

/*
 * Check TD_PARAMS.CPUID_VALUES (md_num_cpuid_config entries, CPUID_CONFIG
 * order) for a TD with these ATTRIBUTES. Returns 0, or
 * the failing CPUID_CONFIG index + 1 (the leaf/subleaf for RCX is
 * md_cpuid_configs[index]). Entries are checked in ascending leaf/subleaf
 * order, as the module walks its CPUID table.
 */
unsigned md_td_cpuid_check(struct tdxsim *s, uint64_t attributes,
			   const struct tdx_cpuid_value *cfg);
/* Compute and store the TD's virtual CPUID values from a checked configuration. */
void md_td_cpuid_set(struct tdxsim *s, struct seam_td *td, const struct tdx_cpuid_value *cfg);
/* The TD's virtual CPUID(leaf, subleaf) as EAX, EBX, ECX, EDX; false if the
 * module does not virtualise that leaf/subleaf. */
bool md_td_cpuid(struct tdxsim *s, const struct seam_td *td, uint32_t leaf, uint32_t subleaf,
		 uint32_t out[4]);
/* Number of virtualised CPUID leaves/sub-leaves (NUM_CPUID_VALUES). */
unsigned md_td_num_cpuid_values(void);

/* Native CPUID(1).EAX of the platform (family/model/stepping). */
uint32_t md_platform_fms(struct tdxsim *s);

#endif
