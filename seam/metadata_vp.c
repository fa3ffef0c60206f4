/*
 * vCPU-scope metadata: the TD-VMCS and TDVPS fields the simulator keeps,
 * with the module's access masks (module 1.5 td_vmcs / tdvps field tables)
 * and its write rule (see metadata_vp.h).
 *
 * Known differences from the module, all for fields whose state is not kept
 * per vCPU here: TSC offset/multiplier are read from the TD (debug writes
 * refused), guest CR0/CR4 are read-only for the debugger (the module checks
 * writes against the CR guest/host masks and read shadows, not modelled),
 * and fields outside the table (segment state, MSRs, DR0-3, CR2, the
 * virtual APIC and #VE info pages, L2 VMCSes) are unknown ids.
 */
#include <string.h>

#include "seam/metadata_vp.h"
#include "seam/vp_enter.h"
#include "seam/seam_mem.h"
#include "seam/td.h"
#include "sim/sim_int.h"

/* Field attributes. */
#define MD_HPA     0x1u         /* a host physical address... */
#define MD_SHARED  0x8u         /* ...that must pass the shared-HPA check */

/* What a field holds (and which checks a write runs). */
enum md_vp_key {
	K_VPID, K_PI_NV, K_TSC_OFFSET, K_PI_DESC, K_EPTP, K_TSC_MULT, K_SHARED_EPTP,
	K_PAT, K_EFER, K_PIN, K_PROC, K_SEC, K_NOTIFY, K_HKID,
	K_CR0, K_CR3, K_CR4, K_DR7, K_RSP, K_RIP, K_RFLAGS,
	K_GPR, K_DR6, K_XCR0, K_STATE_DETAILS,
	K_VCPU_STATE, K_VCPU_INDEX, K_NUM_PAGES, K_ASSOC_LPID, K_VCPU_EPOCH, K_PEND_NMI, K_XFAM,
	K_PAGE_PA,
};

struct md_vp_field {
	uint64_t id;                    /* canonical id of the first element */
	uint16_t num;                   /* fields in this entry (one element each) */
	uint8_t key, attr;
	uint64_t prod_rd, prod_wr, dbg_rd, dbg_wr, guest_rd, guest_wr;
};

#define ALL ~0ULL
#define TDVPS_ID(nonarch, cls, size, code) \
	(((uint64_t)(nonarch) << 63) | ((uint64_t)(cls) << 56) | (2ULL << 52) | \
	 ((uint64_t)(size) << 32) | (code))
/* A TD-VMCS field: host production rd/wr, host debug rd/wr; no guest access. */
#define VMCS(size, enc, k, at, prd, pwr, drd, dwr) \
	{ MD_VP_VMCS_ID(size, enc), 1, k, at, prd, pwr, drd, dwr, 0, 0 }

/* In context order: class, then field code (the order VP.RD v1 walks). */
static const struct md_vp_field md_vp_fields[] = {
	/* class 0: TD-VMCS (field code = VMCS encoding, stride 2) */
	VMCS(1, 0x0000, K_VPID,        0, 0, 0, 0xFFFF, 0),
	VMCS(1, 0x0002, K_PI_NV,       0, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF),
	VMCS(3, 0x2010, K_TSC_OFFSET,  0, ALL, 0, ALL, 0),
	VMCS(3, 0x2016, K_PI_DESC,     MD_HPA | MD_SHARED, ALL, 0xFFFFFFFFFFFFFFC0ULL,
	     ALL, 0xFFFFFFFFFFFFFFC0ULL),
	VMCS(3, 0x201A, K_EPTP,        0, ALL, 0, ALL, 0),
	VMCS(3, 0x2032, K_TSC_MULT,    0, ALL, 0, ALL, 0),
	VMCS(3, 0x203C, K_SHARED_EPTP, MD_HPA | MD_SHARED, 0xFFFFFFFFFF000ULL, 0xFFFFFFFFFF000ULL,
	     ALL, 0xFFFFFFFFFF000ULL),
	VMCS(3, 0x2804, K_PAT,         0, 0, 0, ALL, ALL),
	VMCS(3, 0x2806, K_EFER,        0, 0, 0, ALL, ALL),
	VMCS(2, 0x4000, K_PIN,         0, 0x80, 0x80, 0xFFFFFFFF, 0x80),
	VMCS(2, 0x4002, K_PROC,        0, 0, 0, 0xFFFFFFFF, 0x69999A04),
	VMCS(2, 0x401E, K_SEC,         0, 0xC0000000, 0xC0000000, 0xFFFFFFFF, 0xC0130C04),
	VMCS(2, 0x4024, K_NOTIFY,      0, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF),
	VMCS(2, 0x4026, K_HKID,        0, 0xFFFFFFFF, 0, 0xFFFFFFFF, 0),
	VMCS(3, 0x6800, K_CR0,         0, 0, 0, ALL, 0),
	VMCS(3, 0x6802, K_CR3,         0, 0, 0, ALL, ALL),
	VMCS(3, 0x6804, K_CR4,         0, 0, 0, ALL, 0),
	VMCS(3, 0x681A, K_DR7,         0, 0, 0, ALL, ALL),
	VMCS(3, 0x681C, K_RSP,         0, 0, 0, ALL, ALL),
	VMCS(3, 0x681E, K_RIP,         0, 0, 0, ALL, ALL),
	VMCS(3, 0x6820, K_RFLAGS,      0, 0, 0, ALL, ALL),
	/* class 16: guest GPRs; RSP lives in the TD-VMCS, its slot is never readable */
	{ TDVPS_ID(0, 0x10, 3, 0x0), 4, K_GPR, 0, 0, 0, ALL, ALL, 0, 0 },
	{ TDVPS_ID(0, 0x10, 3, 0x4), 1, K_GPR, 0, 0, 0, 0, 0, 0, 0 },
	{ TDVPS_ID(0, 0x10, 3, 0x5), 11, K_GPR, 0, 0, 0, ALL, ALL, 0, 0 },
	/* class 17: other guest state */
	{ TDVPS_ID(0, 0x11, 3, 0x006), 1, K_DR6, 0, 0, 0, ALL, 0xFFFFFFFF, 0, 0 },
	{ TDVPS_ID(0, 0x11, 3, 0x020), 1, K_XCR0, 0, 0, 0, ALL, 0, 0, 0 },
	{ TDVPS_ID(1, 0x11, 3, 0x100), 1, K_STATE_DETAILS, 0, ALL, 0, ALL, 0, 0, 0 },
	/* class 32: management */
	{ TDVPS_ID(1, 0x20, 0, 0x00), 1, K_VCPU_STATE, 0, 0, 0, 0xFF, 0, 0, 0 },
	{ TDVPS_ID(1, 0x20, 2, 0x02), 1, K_VCPU_INDEX, 0, 0xFFFFFFFF, 0, 0xFFFFFFFF, 0, 0xFFFFFFFF, 0 },
	{ TDVPS_ID(1, 0x20, 0, 0x03), 1, K_NUM_PAGES, 0, 0xFF, 0, 0xFF, 0, 0, 0 },
	{ TDVPS_ID(1, 0x20, 2, 0x04), 1, K_ASSOC_LPID, 0, 0xFFFFFFFF, 0, 0xFFFFFFFF, 0, 0, 0 },
	{ TDVPS_ID(1, 0x20, 3, 0x06), 1, K_VCPU_EPOCH, 0, ALL, 0, ALL, 0, 0, 0 },
	{ TDVPS_ID(0, 0x20, 0, 0x0B), 1, K_PEND_NMI, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0 },
	{ TDVPS_ID(0, 0x20, 3, 0x0C), 1, K_XFAM, 0, ALL, 0, ALL, ALL, 0, 0 },
	{ TDVPS_ID(1, 0x20, 3, 0x10), TD_TDVPS_MAX_PAGES, K_PAGE_PA, 0, ALL, 0, ALL, 0, 0, 0 },
};
#define MD_VP_NFIELDS (sizeof(md_vp_fields) / sizeof(md_vp_fields[0]))

/* Bits ignored in a requested id: size, last element/field, inc_size,
 * write-mask-valid, context, non-arch. Reserved: 31:24, 49:47, 55, 62. */
#define ID_RESERVED ((0xFFULL << 24) | (0x7ULL << 47) | (1ULL << 55) | (1ULL << 62))
#define ID_SEQ      ((0xFULL << 34) | (0x1FFULL << 38))
#define ID_CONTEXT  (0x7ULL << 52)

bool md_vp_is_null_id(uint64_t field_id)
{
	return (field_id | ID_CONTEXT) == ~0ULL;
}

static inline unsigned id_size(uint64_t id) { return (unsigned)MD_ELEM_SIZE(id); }
static inline unsigned id_stride(uint64_t id) { return MD_INC_SIZE(id) ? 2 : 1; }

static uint64_t size_mask(unsigned size)
{
	return size >= 3 ? ~0ULL : (1ULL << (8u << size)) - 1;
}

/* The entry and element index of a requested single-element id, or NULL. */
static const struct md_vp_field *lookup(uint64_t field_id, unsigned *elem)
{
	unsigned cls = (unsigned)MD_CLASS(field_id);
	uint64_t code = MD_FIELD_CODE(field_id);
	for (unsigned i = 0; i < MD_VP_NFIELDS; i++) {
		const struct md_vp_field *f = &md_vp_fields[i];
		uint64_t base = MD_FIELD_CODE(f->id);
		unsigned stride = id_stride(f->id);
		if (MD_CLASS(f->id) != cls || code < base || code >= base + (uint64_t)f->num * stride)
			continue;
		/* The upper half of a 64-bit VMCS field (odd encoding) is not a field. */
		if ((code - base) % stride)
			return NULL;
		*elem = (unsigned)((code - base) / stride);
		return f;
	}
	return NULL;
}

static void masks(const struct md_vp_field *f, const struct seam_vcpu *v, unsigned access,
		  uint64_t *rd, uint64_t *wr)
{
	if (access == MD_VP_GUEST) {
		*rd = f->guest_rd;
		*wr = f->guest_wr;
	} else if (v->td->attributes & TDX_TD_ATTR_DEBUG) {
		*rd = f->dbg_rd;
		*wr = f->dbg_wr;
	} else {
		*rd = f->prod_rd;
		*wr = f->prod_wr;
	}
	uint64_t sm = size_mask(id_size(f->id));
	*rd &= sm;
	*wr &= sm;
}

static uint64_t keyed(struct tdxsim *s, uint64_t pa, uint32_t hkid)
{
	return pa | ((uint64_t)hkid << s->keyid_shift);
}

static uint64_t get(struct tdxsim *s, const struct seam_vcpu *v, const struct md_vp_field *f,
		    unsigned elem)
{
	const struct seam_td *td = v->td;
	const struct seam_vcpu_guest *g = &v->g;
	const struct seam_vcpu_vmcs *vm = &v->vmcs;
	switch ((enum md_vp_key)f->key) {
	case K_VPID:          return v->vcpu_index + 1;
	case K_PI_NV:         return vm->posted_intr_nv;
	case K_TSC_OFFSET:    return td->tsc_offset;
	case K_PI_DESC:       return vm->posted_intr_desc_addr;
	case K_EPTP:          return td->tdcx_pa[TD_TDCS_SEPT_ROOT] | (td->eptp_controls & 0xFFF);
	case K_TSC_MULT:      return td->tsc_multiplier;
	case K_SHARED_EPTP:   return vm->shared_eptp;
	case K_PAT:           return g->pat;
	case K_EFER:          return g->efer;
	case K_PIN:           return vm->pin_based_ctls;
	case K_PROC:          return vm->proc_based_ctls;
	case K_SEC:           return vm->secondary_ctls;
	case K_NOTIFY:        return vm->notify_window;
	case K_HKID:          return td->hkid;
	case K_CR0:           return g->cr0;
	case K_CR3:           return g->cr3;
	case K_CR4:           return g->cr4;
	case K_DR7:           return g->dr7;
	case K_RSP:           return g->gpr[4];
	case K_RIP:           return g->rip;
	case K_RFLAGS:        return g->rflags;
	case K_GPR:           return g->gpr[MD_FIELD_CODE(f->id) + elem];
	case K_DR6:           return g->dr6;
	case K_XCR0:          return g->xcr0;
	case K_STATE_DETAILS: return v->vcpu_state_details;
	case K_VCPU_STATE:    return atomic_load(&v->state);
	case K_VCPU_INDEX:    return v->vcpu_index;
	case K_NUM_PAGES:     return 1 + v->num_tdcx;
	case K_ASSOC_LPID:    return (uint32_t)atomic_load(&v->assoc_lp);
	case K_VCPU_EPOCH:    return v->last_epoch;
	case K_PEND_NMI:      return v->pend_nmi;
	case K_XFAM:          return td->xfam;
	case K_PAGE_PA:
		if (elem == 0)
			return keyed(s, v->tdvpr_pa, td->hkid);
		return elem <= v->num_tdcx ? keyed(s, v->tdcx_pa[elem - 1], td->hkid) : 0;
	}
	return 0;
}

static void set(struct seam_vcpu *v, const struct md_vp_field *f, unsigned elem, uint64_t val)
{
	struct seam_vcpu_guest *g = &v->g;
	struct seam_vcpu_vmcs *vm = &v->vmcs;
	switch ((enum md_vp_key)f->key) {
	case K_PI_NV:       vm->posted_intr_nv = (uint16_t)val; break;
	case K_PI_DESC:     vm->posted_intr_desc_addr = val; break;
	case K_SHARED_EPTP: vm->shared_eptp = val; break;
	case K_PAT:         g->pat = val; break;
	case K_EFER:        g->efer = val; break;
	case K_PIN:         vm->pin_based_ctls = (uint32_t)val; break;
	case K_PROC:        vm->proc_based_ctls = (uint32_t)val; break;
	case K_SEC:         vm->secondary_ctls = (uint32_t)val; break;
	case K_NOTIFY:      vm->notify_window = (uint32_t)val; break;
	case K_CR3:         g->cr3 = val; break;
	case K_DR7:         g->dr7 = val; break;
	case K_RSP:         g->gpr[4] = val; break;
	case K_RIP:         g->rip = val; break;
	case K_RFLAGS:      g->rflags = val; break;
	case K_GPR:         g->gpr[MD_FIELD_CODE(f->id) + elem] = val; break;
	case K_DR6:         g->dr6 = val; break;
	case K_PEND_NMI:    v->pend_nmi = (uint8_t)val; break;
	default:
		/* Every other field has a zero write mask (or is refused below). */
		SIM_BUG_ON(1);
	}
}

/* The checks particular to a field, on the value about to be written. */
static uint64_t check_value(const struct seam_vcpu *v, const struct md_vp_field *f, uint64_t val)
{
	switch ((enum md_vp_key)f->key) {
	case K_PI_NV:
		return val > 0xFF ? TDX_METADATA_FIELD_VALUE_NOT_VALID : TDX_SUCCESS;
	case K_PIN:
		/* Posted-interrupt processing needs its vector and descriptor first. */
		if (val & 0x80) {
			if (v->vmcs.posted_intr_nv == MD_VP_PI_NV_INIT)
				return tdx_status_op(TDX_TD_VMCS_FIELD_NOT_INITIALIZED, 0x0002);
			if (v->vmcs.posted_intr_desc_addr == MD_VP_PA_INIT)
				return tdx_status_op(TDX_TD_VMCS_FIELD_NOT_INITIALIZED, 0x2016);
		}
		return TDX_SUCCESS;
	case K_SEC:
		/* Enable PML (bit 17) needs a valid PML address, which is never set here. */
		return (val & (1u << 17)) ? TDX_METADATA_FIELD_VALUE_NOT_VALID : TDX_SUCCESS;
	case K_XFAM:
		/* Writable in the debug mask, refused by module 1.5.01. */
		return TDX_METADATA_FIELD_NOT_WRITABLE;
	default:
		return TDX_SUCCESS;
	}
}

static uint64_t check_id(uint64_t field_id)
{
	return (field_id & (ID_RESERVED | ID_SEQ)) ? TDX_METADATA_FIELD_ID_INCORRECT : TDX_SUCCESS;
}

uint64_t md_vp_read(struct tdxsim *s, struct seam_vcpu *v, unsigned access, uint64_t field_id,
		    uint64_t *val)
{
	unsigned elem;
	const struct md_vp_field *f;
	uint64_t rd, wr;

	*val = 0;
	if (check_id(field_id) || !(f = lookup(field_id, &elem)))
		return TDX_METADATA_FIELD_ID_INCORRECT;
	masks(f, v, access, &rd, &wr);
	if (!rd)
		return TDX_METADATA_FIELD_NOT_READABLE;
	seam_vp_state_sync(v);
	*val = get(s, v, f, elem) & rd;
	return TDX_SUCCESS;
}

uint64_t md_vp_write(struct tdxsim *s, struct seam_vcpu *v, unsigned access, uint64_t field_id,
		     uint64_t value, uint64_t mask, uint64_t *old)
{
	unsigned elem;
	const struct md_vp_field *f;
	uint64_t rd, wr, st;

	*old = 0;
	if (check_id(field_id) || !(f = lookup(field_id, &elem)))
		return TDX_METADATA_FIELD_ID_INCORRECT;
	masks(f, v, access, &rd, &wr);
	uint64_t eff = wr & mask;
	if (!eff)
		return TDX_METADATA_FIELD_NOT_WRITABLE;
	seam_vp_state_sync(v);
	uint64_t sm = size_mask(id_size(f->id));
	uint64_t cur = get(s, v, f, elem) & sm;
	/* A whole-element write does not merge with (or compare against) the
	 * current value. */
	uint64_t base = eff == sm ? 0 : cur;
	/* A PA field still at its initial all-ones value compares as if it
	 * held only its writable bits. */
	if ((f->attr & MD_HPA) && (base >> 63))
		base &= wr;
	uint64_t forbidden = mask & ~wr;
	if ((base & forbidden) != (value & forbidden))
		return TDX_METADATA_FIELD_VALUE_NOT_VALID;
	uint64_t nv = (base & ~eff) | (value & eff);
	if ((f->attr & MD_SHARED) &&
	    !seam_pa_shared_ok(s, nv, f->key == K_PI_DESC ? 64 : TDX_PAGE_SIZE))
		return TDX_METADATA_FIELD_VALUE_NOT_VALID;
	if ((st = check_value(v, f, nv)))
		return st;
	set(v, f, elem, nv);
	*old = cur & rd;
	return TDX_SUCCESS;
}

uint64_t md_vp_next(struct seam_vcpu *v, unsigned access, bool write, uint64_t field_id)
{
	unsigned i = 0, elem = 0;
	if (!md_vp_is_null_id(field_id)) {
		const struct md_vp_field *f = lookup(field_id, &elem);
		SIM_BUG_ON(!f);
		i = (unsigned)(f - md_vp_fields);
		elem++;
	}
	for (; i < MD_VP_NFIELDS; i++, elem = 0) {
		const struct md_vp_field *f = &md_vp_fields[i];
		uint64_t rd, wr;
		masks(f, v, access, &rd, &wr);
		if (elem >= f->num || !(write ? wr : rd))
			continue;
		return f->id + (uint64_t)elem * id_stride(f->id);
	}
	return MD_FIELD_ID_NULL;
}
