/*
 * vCPU-scope metadata (context 2: the TDVPS and the TD-VMCS), the field
 * table behind TDH.VP.RD/WR and, later, TDG.VP.RD/WR.
 *
 * Field ids (tdx-abi.md 4.4): a single-element access names a field by
 * class (61:56) and field code (23:0); the element size, inc_size,
 * write-mask-valid and context bits are ignored, reserved bits (31:24,
 * 49:47, 55, 62), LAST_ELEMENT and LAST_FIELD must be 0. The TD-VMCS is
 * class 0 with the VMCS encoding as field code (the "high" half of a 64-bit
 * field is refused); TDVPS classes: 16 guest GPRs, 17 other guest state,
 * 32 management.
 *
 * Access rights come in read/write mask pairs per field: host production,
 * host debug (TD ATTRIBUTES.DEBUG), guest. A read returns the value ANDed
 * with the read mask (zero mask: NOT_READABLE). A write follows the module's
 * rule (tdx-abi.md 4.6): effective mask = write mask AND request mask (zero:
 * NOT_WRITABLE); a requested bit outside the write mask whose value would
 * change is VALUE_NOT_VALID (a PA field still holding its initial all-ones
 * value compares as if ANDed with the write mask); shared-HPA fields must
 * then pass the shared-HPA check; a few fields check their value further.
 *
 * The table is the subset of the module's TDVPS/TD-VMCS fields whose state
 * the simulator keeps (struct seam_vcpu); other ids answer
 * METADATA_FIELD_ID_INCORRECT.
 */
#ifndef SEAM_METADATA_VP_H
#define SEAM_METADATA_VP_H

#include <stdbool.h>
#include <stdint.h>

struct tdxsim;
struct seam_vcpu;

/* Who accesses the field. */
enum md_vp_access {
	MD_VP_HOST = 0,         /* TDH.VP.RD/WR: production or debug masks by ATTRIBUTES.DEBUG */
	MD_VP_GUEST = 1,        /* TDG.VP.RD/WR */
};

/* Ids the simulator and its tests use (canonical form, as VP.RD v1 returns them). */
#define MD_VP_VMCS_ID(size, enc)  ((2ULL << 52) | (1ULL << 50) | ((uint64_t)(size) << 32) | (enc))
#define MD_VP_POSTED_INTR_NV      MD_VP_VMCS_ID(1, 0x0002)
#define MD_VP_POSTED_INTR_DESC    MD_VP_VMCS_ID(3, 0x2016)
#define MD_VP_SHARED_EPTP         MD_VP_VMCS_ID(3, 0x203C)
#define MD_VP_PIN_BASED_CTLS      MD_VP_VMCS_ID(2, 0x4000)
#define MD_VP_PROC_BASED_CTLS     MD_VP_VMCS_ID(2, 0x4002)
#define MD_VP_SECONDARY_CTLS      MD_VP_VMCS_ID(2, 0x401E)
#define MD_VP_NOTIFY_WINDOW       MD_VP_VMCS_ID(2, 0x4024)
#define MD_VP_GUEST_CR0           MD_VP_VMCS_ID(3, 0x6800)
#define MD_VP_GUEST_CR4           MD_VP_VMCS_ID(3, 0x6804)
#define MD_VP_GUEST_RIP           MD_VP_VMCS_ID(3, 0x681E)
#define MD_VP_GUEST_RFLAGS        MD_VP_VMCS_ID(3, 0x6820)
#define MD_VP_GUEST_EFER          MD_VP_VMCS_ID(3, 0x2806)
#define MD_VP_GUEST_PAT           MD_VP_VMCS_ID(3, 0x2804)
#define MD_VP_GUEST_DR7           MD_VP_VMCS_ID(3, 0x681A)
#define MD_VP_GPR(i)              (0x1020000300000000ULL + (i))     /* RAX..R15 */
#define MD_VP_DR6                 0x1120000300000006ULL
#define MD_VP_XCR0                0x1120000300000020ULL
#define MD_VP_VCPU_STATE_DETAILS  0x9120000300000100ULL
#define MD_VP_VCPU_STATE          0xA020000000000000ULL
#define MD_VP_VCPU_INDEX          0xA020000200000002ULL
#define MD_VP_NUM_TDVPS_PAGES     0xA020000000000003ULL
#define MD_VP_ASSOC_LPID          0xA020000200000004ULL
#define MD_VP_VCPU_EPOCH          0xA020000300000006ULL
#define MD_VP_PEND_NMI            0x202000000000000BULL
#define MD_VP_XFAM                0x202000030000000CULL
#define MD_VP_TDVPS_PAGE_PA(i)    (0xA020000300000010ULL + (i))


/* Initial (illegal) values VP.INIT leaves in the posted-interrupt fields. */
#define MD_VP_PI_NV_INIT          0xFFFFu
#define MD_VP_PA_INIT             (~0ULL)

/* A null field id (all ones, context bits aside): "the first field". */
bool md_vp_is_null_id(uint64_t field_id);

/*
 * Read one element. Returns TDX_SUCCESS and *val, or
 * METADATA_FIELD_ID_INCORRECT / METADATA_FIELD_NOT_READABLE.
 */
uint64_t md_vp_read(struct tdxsim *s, struct seam_vcpu *v, unsigned access, uint64_t field_id,
		    uint64_t *val);

/*
 * Write one element with a request mask. On success *old holds the previous
 * value ANDed with the read mask. Errors: METADATA_FIELD_ID_INCORRECT,
 * METADATA_FIELD_NOT_WRITABLE, METADATA_FIELD_VALUE_NOT_VALID,
 * TD_VMCS_FIELD_NOT_INITIALIZED + VMCS encoding (posted interrupts enabled
 * before their vector/descriptor were set). Nothing changes on error.
 */
uint64_t md_vp_write(struct tdxsim *s, struct seam_vcpu *v, unsigned access, uint64_t field_id,
		     uint64_t value, uint64_t mask, uint64_t *old);

/*
 * The canonical id of the next element after field_id (the first one when
 * field_id is null) that the access may read (write = false) or write,
 * in context order (TD-VMCS, then TDVPS by class); MD_FIELD_ID_NULL when
 * there is none. field_id must name an element of the table (or be null).
 */
uint64_t md_vp_next(struct seam_vcpu *v, unsigned access, bool write, uint64_t field_id);

#endif
