/*
 * TD-scope metadata: the TDR/TDCS field table, single-element read and write
 * with the module's mask rules and "next field" iteration, and the TD's
 * virtual CPUID.
 *
 * The table lists the fields in the module's order (1.5 TDR/TDCS table:
 * TDR classes 0-2, then TDCS classes 0x10-0x14). Fields whose state the
 * simulator does not keep are left out and answer METADATA_FIELD_ID_INCORRECT:
 * TD_UUID, HANDOFF_VERSION, SEAMDB_INDEX/NONCE, XBUFF_SIZE/OFFSETS,
 * HP_LOCK_TIMEOUT, VM_CTLS, CPUID_VALID, the virtual VMX/ARCH_CAPABILITIES
 * MSR values and the migration, service-TD, MSR-bitmap and S-EPT-root classes.
 */
#include "seam/metadata_td.h"

#include <string.h>

#include "seam/metadata_sys.h"
#include "seam/td.h"
#include "sim/sim_int.h"

#define ALL  (~0ULL)

/* Mask sets: index 0 host on a production TD, 1 host on a debug TD, 2 guest. */
enum { ACC_PROD = 0, ACC_DBG = 1, ACC_GUEST = 2 };

enum md_tag {
	F_FATAL, F_NUM_TDCX, F_CHLDCNT, F_LIFECYCLE, F_TDCX_PA, F_HKID, F_PKG_BITMAP,
	F_NUM_VCPUS, F_NUM_ASSOC, F_OP_STATE, F_NUM_L2_VMS,
	F_ATTRIBUTES, F_XFAM, F_MAX_VCPUS, F_GPAW, F_EPTP, F_TSC_OFFSET, F_TSC_MULT,
	F_TSC_FREQ, F_VIRTUAL_TSC, F_NUM_CPUID, F_NOTIFY, F_CONFIG_FLAGS, F_TD_CTLS,
	F_TD_EPOCH, F_REFCOUNT,
	F_MRTD, F_MRCONFIGID, F_MROWNER, F_MROWNERCONFIG, F_RTMR,
	F_CPUID,
};

struct md_td_field {
	uint64_t id;            /* canonical id: context TD, size code, class, field code */
	uint16_t num_fields;
	uint8_t num_elem;
	uint8_t tag;
	uint64_t rd[3], wr[3];  /* per ACC_* */
};

/* Readable by the host (production and debug) and not by the guest. */
#define HOST_RO     { ALL, ALL, 0 }, { 0, 0, 0 }
/* Readable by the host and the guest. */
#define ALL_RO      { ALL, ALL, ALL }, { 0, 0, 0 }
/* Readable only by a debugger (host on a debug TD). */
#define DBG_RO      { 0, ALL, 0 }, { 0, 0, 0 }
#define NO_ACCESS   { 0, 0, 0 }, { 0, 0, 0 }

static const struct md_td_field fields[] = {
	{ MD_TD_FATAL,             1, 1, F_FATAL,        HOST_RO },
	{ MD_TD_NUM_TDCX,          1, 1, F_NUM_TDCX,     HOST_RO },
	{ MD_TD_CHLDCNT,           1, 1, F_CHLDCNT,      HOST_RO },
	{ MD_TD_LIFECYCLE_STATE,   1, 1, F_LIFECYCLE,    HOST_RO },
	{ MD_TD_TDCX_PA,           9, 1, F_TDCX_PA,      HOST_RO },
	{ MD_TD_HKID,              1, 1, F_HKID,         HOST_RO },
	{ MD_TD_PKG_CONFIG_BITMAP, 1, 1, F_PKG_BITMAP,   HOST_RO },
	{ MD_TD_NUM_VCPUS,         1, 1, F_NUM_VCPUS,    ALL_RO },
	{ MD_TD_NUM_ASSOC_VCPUS,   1, 1, F_NUM_ASSOC,    HOST_RO },
	{ MD_TD_OP_STATE,          1, 1, F_OP_STATE,     HOST_RO },
	{ MD_TD_NUM_L2_VMS,        1, 1, F_NUM_L2_VMS,   ALL_RO },
	{ MD_TD_ATTRIBUTES,        1, 1, F_ATTRIBUTES,   ALL_RO },
	{ MD_TD_XFAM,              1, 1, F_XFAM,         ALL_RO },
	{ MD_TD_MAX_VCPUS,         1, 1, F_MAX_VCPUS,    ALL_RO },
	{ MD_TD_GPAW,              1, 1, F_GPAW,         ALL_RO },
	{ MD_TD_EPTP,              1, 1, F_EPTP,         HOST_RO },
	{ MD_TD_TSC_OFFSET,        1, 1, F_TSC_OFFSET,   HOST_RO },
	{ MD_TD_TSC_MULTIPLIER,    1, 1, F_TSC_MULT,     HOST_RO },
	{ MD_TD_TSC_FREQUENCY,     1, 1, F_TSC_FREQ,     ALL_RO },
	{ MD_TD_VIRTUAL_TSC,       1, 1, F_VIRTUAL_TSC,  NO_ACCESS },
	{ MD_TD_NUM_CPUID_VALUES,  1, 1, F_NUM_CPUID,    HOST_RO },
	/* NOTIFY_ENABLES: bit 0 (notify on suspected zero-step attacks) belongs
	 * to the guest; a host debugger may read everything and write bit 0. */
	{ MD_TD_NOTIFY_ENABLES,    1, 1, F_NOTIFY,       { 0, ALL, 1 }, { 0, 1, 1 } },
	{ MD_TD_CONFIG_FLAGS,      1, 1, F_CONFIG_FLAGS, ALL_RO },
	/* TD_CTLS: guest-owned; bit 0 PENDING_VE_DISABLE is the only writable bit. */
	{ MD_TD_TD_CTLS,           1, 1, F_TD_CTLS,      { 0, ALL, ALL }, { 0, 0, 1 } },
	{ MD_TD_TD_EPOCH,          1, 1, F_TD_EPOCH,     HOST_RO },
	{ MD_TD_REFCOUNT,          2, 1, F_REFCOUNT,     HOST_RO },
	{ MD_TD_MRTD,              1, 6, F_MRTD,         ALL_RO },
	{ MD_TD_MRCONFIGID,        1, 6, F_MRCONFIGID,   ALL_RO },
	{ MD_TD_MROWNER,           1, 6, F_MROWNER,      ALL_RO },
	{ MD_TD_MROWNERCONFIG,     1, 6, F_MROWNERCONFIG, ALL_RO },
	{ MD_TD_RTMR,              4, 6, F_RTMR,         { 0, ALL, ALL }, { 0, 0, 0 } },
	{ MD_TD_CPUID_VALUES,     80, 2, F_CPUID,        HOST_RO },
};
#define N_FIELDS ((int)(sizeof(fields) / sizeof(fields[0])))

#define CONTEXT_MASK (7ULL << 52)
#define CONTEXT_TD   (1ULL << 52)

static uint64_t size_mask(uint64_t id)
{
	unsigned sz = MD_ELEM_SIZE(id);
	return sz == 3 ? ALL : (1ULL << (8u << sz)) - 1;
}

static unsigned acc_index(const struct seam_td *td, unsigned access)
{
	if (access == MD_TD_GUEST)
		return ACC_GUEST;
	return (td->attributes & TDX_TD_ATTR_DEBUG) ? ACC_DBG : ACC_PROD;
}

/* ---- Virtual CPUID ------------------------------------------------------------ */

/*
 * The leaves/sub-leaves the TD's CPUID_VALUES holds, ascending. cfg >= 0:
 * a CPUID_CONFIG entry (index into md_cpuid_configs); -1: computed.
 */
struct cpuid_leaf {
	uint32_t leaf, subleaf;
};
static const struct cpuid_leaf cpuid_table[] = {
	{ 0x0, MD_CPUID_SUBLEAF_NA },
	{ 0x1, MD_CPUID_SUBLEAF_NA },
	{ 0x4, 0 }, { 0x4, 1 }, { 0x4, 2 }, { 0x4, 3 },
	{ 0x7, 0 }, { 0x7, 1 }, { 0x7, 2 },
	{ 0xA, MD_CPUID_SUBLEAF_NA },
	{ 0x15, MD_CPUID_SUBLEAF_NA },
	{ 0x1C, MD_CPUID_SUBLEAF_NA },
	{ 0x23, 0 },
	{ 0x80000000, MD_CPUID_SUBLEAF_NA },
	{ 0x80000008, MD_CPUID_SUBLEAF_NA },
};
#define N_CPUID ((int)(sizeof(cpuid_table) / sizeof(cpuid_table[0])))

#define CPUID_MAX_BASIC 0x23u
#define CPUID_MAX_EXT   0x80000008u
#define VIRT_CRYSTAL_HZ 25000000u

unsigned md_td_num_cpuid_values(void)
{
	return N_CPUID;
}

static int config_index(uint32_t leaf, uint32_t subleaf)
{
	for (unsigned i = 0; i < md_num_cpuid_config && i < TD_MAX_CPUID; i++)
		if (md_cpuid_configs[i].leaf == leaf && md_cpuid_configs[i].subleaf == subleaf)
			return (int)i;
	return -1;
}

/* The module's lookup: a leaf without sub-leaves matches any sub-leaf. */
static int cpuid_lookup(uint32_t leaf, uint32_t subleaf)
{
	for (int i = 0; i < N_CPUID; i++)
		if (cpuid_table[i].leaf == leaf &&
		    (cpuid_table[i].subleaf == MD_CPUID_SUBLEAF_NA || cpuid_table[i].subleaf == subleaf))
			return i;
	return -1;
}

uint64_t md_td_cpuid_code(uint32_t leaf, uint32_t subleaf, unsigned element)
{
	uint64_t code = (uint64_t)(element & 1);
	if (subleaf == MD_CPUID_SUBLEAF_NA)
		code |= (0x7FULL << 1) | (1ULL << 8);
	else
		code |= (uint64_t)(subleaf & 0x7F) << 1;
	code |= (uint64_t)(leaf & 0x7F) << 9;
	code |= (uint64_t)(leaf >> 31) << 16;
	return code;
}

static void cpuid_decode(uint64_t id, uint32_t *leaf, uint32_t *subleaf)
{
	uint64_t code = MD_FIELD_CODE(id);
	*leaf = (uint32_t)((code >> 9) & 0x7F) | (uint32_t)((code >> 16) & 1) << 31;
	*subleaf = (code >> 8) & 1 ? MD_CPUID_SUBLEAF_NA : (uint32_t)((code >> 1) & 0x7F);
}

uint32_t md_platform_fms(struct tdxsim *s)
{
	const tdxsim_platform *p = s->plat;
	uint32_t model = p->cpu_model, fam = p->cpu_family;
	return ((model >> 4) << 16) | (fam << 8) | ((model & 0xF) << 4) | p->cpu_stepping;
}

static uint32_t cfg_reg(const struct tdx_cpuid_value *v, unsigned r)
{
	return r == 0 ? v->eax : r == 1 ? v->ebx : r == 2 ? v->ecx : v->edx;
}

static uint32_t mask_reg(const struct md_cpuid_config *m, unsigned r)
{
	return r == 0 ? m->eax : r == 1 ? m->ebx : r == 2 ? m->ecx : m->edx;
}

static int cmp_leaf(const struct md_cpuid_config *a, const struct md_cpuid_config *b)
{
	if (a->leaf != b->leaf)
		return a->leaf < b->leaf ? -1 : 1;
	if (a->subleaf != b->subleaf)
		return a->subleaf < b->subleaf ? -1 : 1;
	return 0;
}

unsigned md_td_cpuid_check(struct tdxsim *s, uint64_t attributes,
			   const struct tdx_cpuid_value *cfg)
{
	unsigned n = md_num_cpuid_config < TD_MAX_CPUID ? md_num_cpuid_config : TD_MAX_CPUID;
	unsigned order[TD_MAX_CPUID];
	/* Ascending leaf/subleaf, as the module walks its CPUID table. */
	for (unsigned i = 0; i < n; i++) {
		unsigned j = i;
		while (j && cmp_leaf(&md_cpuid_configs[order[j - 1]], &md_cpuid_configs[i]) > 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	for (unsigned k = 0; k < n; k++) {
		unsigned i = order[k];
		const struct md_cpuid_config *m = &md_cpuid_configs[i];
		const struct tdx_cpuid_value *v = &cfg[i];
		/* Only configurable bits may be 1. */
		for (unsigned r = 0; r < 4; r++)
			if (cfg_reg(v, r) & ~mask_reg(m, r))
				return i + 1;
		if (m->leaf == 0x1) {
			/* Family/model/stepping: 0 = native; a non-migratable TD
			 * may only name the native value. */
			uint32_t fms = v->eax;
			if (fms && !(attributes & TDX_TD_ATTR_MIGRATABLE) && fms != md_platform_fms(s))
				return i + 1;
		} else if (m->leaf == 0x7 && m->subleaf == 0) {
			/* HLE (EBX 4) and RTM (EBX 11) enumerate TSX together. */
			if (((v->ebx >> 4) & 1) != ((v->ebx >> 11) & 1))
				return i + 1;
		}
	}
	return 0;
}

void md_td_cpuid_set(struct tdxsim *s, struct seam_td *td, const struct tdx_cpuid_value *cfg)
{
	unsigned n = md_num_cpuid_config < TD_MAX_CPUID ? md_num_cpuid_config : TD_MAX_CPUID;
	memset(td->cpuid_values, 0, sizeof(td->cpuid_values));
	for (unsigned i = 0; i < n; i++) {
		const struct md_cpuid_config *m = &md_cpuid_configs[i];
		uint32_t *out = td->cpuid_values[i];
		/* Configurable bits take the configured value; the native
		 * values of the others are not modelled (0), except below. */
		for (unsigned r = 0; r < 4; r++)
			out[r] = cfg_reg(&cfg[i], r) & mask_reg(m, r);
		switch (m->leaf) {
		case 0x1:
			if (!out[0])
				out[0] = md_platform_fms(s);
			break;
		case 0x7:
			if (m->subleaf == 0) {
				/* ECX 31 PKS reflects ATTRIBUTES.PKS; ECX 23 KL is 0. */
				out[2] &= ~((1u << 31) | (1u << 23));
				if (td->attributes & TDX_TD_ATTR_PKS)
					out[2] |= 1u << 31;
			}
			break;
		case 0xA:
		case 0x23:
			if (!(td->attributes & TDX_TD_ATTR_PERFMON))
				memset(out, 0, 4 * sizeof(*out));
			break;
		case 0x1C:
			if (!(td->xfam & (1ULL << 15)))          /* LBR */
				memset(out, 0, 4 * sizeof(*out));
			break;
		case 0x80000008:
			/* Linear-address width: 48 (no virtual LA57). */
			out[0] = (out[0] & ~0xFF00u) | (48u << 8);
			break;
		default:
			break;
		}
	}
}

bool md_td_cpuid(struct tdxsim *s, const struct seam_td *td, uint32_t leaf, uint32_t subleaf,
		 uint32_t out[4])
{
	(void)s;
	int k = cpuid_lookup(leaf, subleaf);
	memset(out, 0, 4 * sizeof(*out));
	if (k < 0)
		return false;
	const struct cpuid_leaf *e = &cpuid_table[k];
	int ci = config_index(e->leaf, e->subleaf);
	if (ci >= 0) {
		memcpy(out, td->cpuid_values[ci], 4 * sizeof(*out));
		return true;
	}
	switch (e->leaf) {
	case 0x0:
		out[0] = CPUID_MAX_BASIC;
		out[1] = 0x756E6547;        /* "Genu" */
		out[3] = 0x49656E69;        /* "ineI" */
		out[2] = 0x6C65746E;        /* "ntel" */
		break;
	case 0x15:
		/* TSC/crystal ratio: the virtual TSC runs at TSC_FREQUENCY x 25 MHz. */
		out[0] = 1;
		out[1] = td->tsc_frequency;
		out[2] = VIRT_CRYSTAL_HZ;
		break;
	case 0x80000000:
		out[0] = CPUID_MAX_EXT;
		break;
	default:
		break;
	}
	return true;
}

/* ---- Field access ------------------------------------------------------------- */

static int find_field(uint64_t id)
{
	uint64_t cls = MD_CLASS(id), code = MD_FIELD_CODE(id);
	for (int i = 0; i < N_FIELDS; i++) {
		const struct md_td_field *f = &fields[i];
		if (MD_CLASS(f->id) != cls)
			continue;
		/* CPUID_VALUES ids carry leaf/subleaf: only the element is matched here. */
		uint64_t c = f->tag == F_CPUID ? (code & 1) : code;
		uint64_t first = MD_FIELD_CODE(f->id);
		if (c >= first && c < first + (uint64_t)f->num_fields * f->num_elem)
			return i;
	}
	return -1;
}

static uint64_t bytes_elem(const uint8_t *b, unsigned e)
{
	uint64_t v;
	memcpy(&v, b + 8 * e, 8);
	return v;
}

/* Storage of the writable fields. */
static uint64_t *field_ptr(struct seam_td *td, unsigned tag)
{
	switch (tag) {
	case F_NOTIFY:
		return &td->notify_enables;
	case F_TD_CTLS:
		return &td->td_ctls;
	default:
		return NULL;
	}
}

/* Raw value of element e of a field (CPUID: cpuid_idx is the lookup index). */
static uint64_t field_value(struct tdxsim *s, struct seam_td *td, const struct md_td_field *f,
			    unsigned e, int cpuid_idx)
{
	switch (f->tag) {
	case F_FATAL:
		return atomic_load(&td->fatal);
	case F_NUM_TDCX:
		return td->num_tdcx;
	case F_CHLDCNT:
		return atomic_load(&td->chldcnt);
	case F_LIFECYCLE:
		return atomic_load(&td->lifecycle);
	case F_TDCX_PA:
		/* The module keeps TDCS page addresses with the TD's KeyID in them. */
		return e < td->num_tdcx ? td->tdcx_pa[e] | ((uint64_t)td->hkid << s->keyid_shift) : 0;
	case F_HKID:
		return td->hkid;
	case F_PKG_BITMAP:
		return td->pkg_config_bitmap;
	case F_NUM_VCPUS:
		return atomic_load(&td->num_vcpus);
	case F_NUM_ASSOC:
		return atomic_load(&td->num_assoc_vcpus);
	case F_OP_STATE:
		return atomic_load(&td->op_state);
	case F_NUM_L2_VMS:
		return td->num_l2_vms;
	case F_ATTRIBUTES:
		return td->attributes;
	case F_XFAM:
		return td->xfam;
	case F_MAX_VCPUS:
		return td->max_vcpus;
	case F_GPAW:
		return td->gpaw;
	case F_EPTP:
		return td->eptp_controls;
	case F_TSC_OFFSET:
		return td->tsc_offset;
	case F_TSC_MULT:
		return td->tsc_multiplier;
	case F_TSC_FREQ:
		return td->tsc_frequency;
	case F_NUM_CPUID:
		return N_CPUID;
	case F_NOTIFY:
	case F_TD_CTLS:
		return __atomic_load_n(field_ptr(td, f->tag), __ATOMIC_ACQUIRE);
	case F_CONFIG_FLAGS:
		return td->config_flags;
	case F_TD_EPOCH:
		return atomic_load(&td->td_epoch);
	case F_REFCOUNT:
		return atomic_load(&td->refcount[e & 1]);
	case F_MRTD:
		return bytes_elem(td->mrtd, e);
	case F_MRCONFIGID:
		return bytes_elem(td->mrconfigid, e);
	case F_MROWNER:
		return bytes_elem(td->mrowner, e);
	case F_MROWNERCONFIG:
		return bytes_elem(td->mrownerconfig, e);
	case F_RTMR:
		return bytes_elem(td->rtmr[(e / 6) & 3], e % 6);
	case F_CPUID: {
		uint32_t v[4];
		md_td_cpuid(s, td, cpuid_table[cpuid_idx].leaf, cpuid_table[cpuid_idx].subleaf, v);
		return e == 0 ? ((uint64_t)v[1] << 32) | v[0] : ((uint64_t)v[3] << 32) | v[2];
	}
	default:
		return 0;
	}
}

bool md_td_is_null_id(uint64_t field_id)
{
	return (field_id | CONTEXT_MASK) == MD_FIELD_ID_NULL;
}

static bool single_element_ok(uint64_t id)
{
	return !(MD_RESERVED_31_24(id) || MD_RESERVED_49_47(id) || MD_RESERVED_55(id) ||
		 MD_RESERVED_62(id) || MD_LAST_ELEM(id) || MD_LAST_FIELD(id));
}

/*
 * Locate an element: the table index, the element number within the entry
 * and, for CPUID_VALUES, the CPUID lookup index.
 */
static uint64_t locate(uint64_t id, int *idx, unsigned *elem, int *cpuid_idx)
{
	*cpuid_idx = -1;
	if (!single_element_ok(id))
		return TDX_METADATA_FIELD_ID_INCORRECT;
	int i = find_field(id);
	if (i < 0)
		return TDX_METADATA_FIELD_ID_INCORRECT;
	const struct md_td_field *f = &fields[i];
	if (f->tag == F_CPUID) {
		uint32_t leaf, subleaf;
		if (MD_FIELD_CODE(id) >> 17)       /* bits 23:17 reserved */
			return TDX_METADATA_FIELD_ID_INCORRECT;
		cpuid_decode(id, &leaf, &subleaf);
		*cpuid_idx = cpuid_lookup(leaf, subleaf);
		if (*cpuid_idx < 0)
			return TDX_METADATA_FIELD_ID_INCORRECT;
		*elem = (unsigned)(MD_FIELD_CODE(id) & 1);
	} else {
		*elem = (unsigned)(MD_FIELD_CODE(id) - MD_FIELD_CODE(f->id));
	}
	*idx = i;
	return TDX_SUCCESS;
}

/* First element id of table entry i (CPUID_VALUES: the first leaf). */
static uint64_t entry_first_id(int i)
{
	uint64_t id = fields[i].id;
	if (fields[i].tag == F_CPUID)
		id = (id & ~0xFFFFFFULL) |
		     md_td_cpuid_code(cpuid_table[0].leaf, cpuid_table[0].subleaf, 0);
	return id;
}

/* From entry i on, the first entry readable with mask set a; null id if none. */
static uint64_t first_readable_from(int i, unsigned a)
{
	for (; i < N_FIELDS; i++)
		if (fields[i].rd[a])
			return entry_first_id(i);
	return MD_FIELD_ID_NULL;
}

/* The element after id (in entry i), or the first of the next readable entry. */
static uint64_t next_id(int i, uint64_t id, unsigned elem, int cpuid_idx, unsigned a)
{
	const struct md_td_field *f = &fields[i];
	if (f->tag == F_CPUID) {
		if (elem == 0)
			return id + 1;
		if (cpuid_idx + 1 < N_CPUID) {
			const struct cpuid_leaf *n = &cpuid_table[cpuid_idx + 1];
			return (id & ~0xFFFFFFULL) | md_td_cpuid_code(n->leaf, n->subleaf, 0);
		}
	} else if (elem + 1 < (unsigned)f->num_fields * f->num_elem) {
		return (id & ~0xFFFFFFULL) | (MD_FIELD_CODE(id) + 1);
	}
	return first_readable_from(i + 1, a);
}

uint64_t md_td_read(struct tdxsim *s, struct seam_td *td, unsigned access, uint64_t field_id,
		    uint64_t *value, uint64_t *next)
{
	unsigned a = acc_index(td, access);
	uint64_t id = (field_id & ~CONTEXT_MASK) | CONTEXT_TD;
	int i, ci;
	unsigned e;

	*value = 0;
	if (next)
		*next = MD_FIELD_ID_NULL;
	if (next && md_td_is_null_id(id)) {
		*next = first_readable_from(0, a);
		return TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT;
	}
	uint64_t st = locate(id, &i, &e, &ci);
	if (st)
		return st;
	const struct md_td_field *f = &fields[i];
	uint64_t rd = f->rd[a] & size_mask(f->id);
	if (!rd)
		return TDX_METADATA_FIELD_NOT_READABLE;
	*value = field_value(s, td, f, e, ci) & rd;
	if (next)
		*next = next_id(i, id, e, ci, a);
	return TDX_SUCCESS;
}

uint64_t md_td_write(struct tdxsim *s, struct seam_td *td, unsigned access, uint64_t field_id,
		     uint64_t value, uint64_t mask, uint64_t *old)
{
	unsigned a = acc_index(td, access);
	uint64_t id = (field_id & ~CONTEXT_MASK) | CONTEXT_TD;
	int i, ci;
	unsigned e;

	*old = 0;
	uint64_t st = locate(id, &i, &e, &ci);
	if (st)
		return st;
	const struct md_td_field *f = &fields[i];
	uint64_t szm = size_mask(f->id);
	uint64_t rd = f->rd[a] & szm, wr = f->wr[a] & szm;
	uint64_t cur = field_value(s, td, f, e, ci) & szm;
	uint64_t eff = wr & mask;
	if (!eff)
		return TDX_METADATA_FIELD_NOT_WRITABLE;
	/* Bits the caller asks to write but may not: they must keep their value. */
	uint64_t forbidden = mask & ~wr;
	if ((cur & forbidden) != (value & forbidden))
		return TDX_METADATA_FIELD_VALUE_NOT_VALID;
	uint64_t nv = (cur & ~eff) | (value & eff);
	if (f->tag == F_TD_CTLS && access == MD_TD_GUEST &&
	    !(td->config_flags & TDX_CONFIG_FLAGS_FLEXIBLE_PENDING_VE) && ((nv ^ cur) & 1))
		return TDX_METADATA_FIELD_VALUE_NOT_VALID;
	uint64_t *p = field_ptr(td, f->tag);
	if (!p)
		return TDX_METADATA_FIELD_NOT_WRITABLE;
	uint64_t expect = cur;
	if (!__atomic_compare_exchange_n(p, &expect, nv, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_METADATA_FIELD);
	*old = cur & rd;
	return TDX_SUCCESS;
}
