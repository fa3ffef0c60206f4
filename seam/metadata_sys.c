/*
 * Global metadata fields, in the module's table order (1.5
 * global_sys_fields_lookup.c), plus MAX_VCPUS_PER_TD which newer modules
 * report and Linux >= 6.16 requires. Every field is host-readable and none
 * is writable. Values come from the platform profile and configuration.
 */
#include <string.h>

#include "seam/metadata_sys.h"
#include "sim/sim_int.h"

/*
 * CPUID_CONFIG: the 12 leaves module 1.5.01 lists, with the bits the VMM may
 * configure. The per-bit masks were not transcribed from the module (see the
 * reference's gaps); these are estimates: family/model/stepping, the
 * feature bits Linux/KVM configure, and 0x80000008's address widths.
 */
const struct md_cpuid_config md_cpuid_configs[] = {
	{ 0x1,        0xFFFFFFFF, 0x0FFF3FFF, 0x00000000, 0x31044D88, 0xB8400000 },
	{ 0x4,        0,          0x00000000, 0x00000000, 0x00000000, 0x00000000 },
	{ 0x4,        1,          0x00000000, 0x00000000, 0x00000000, 0x00000000 },
	{ 0x4,        2,          0x00000000, 0x00000000, 0x00000000, 0x00000000 },
	{ 0x4,        3,          0x00000000, 0x00000000, 0x00000000, 0x00000000 },
	{ 0x7,        0,          0x00000000, 0xDC2CE9F7, 0x5A427F5F, 0xFC1C4C10 },
	{ 0x7,        1,          0x00000030, 0x00000000, 0x00000000, 0x00000000 },
	{ 0xA,        0xFFFFFFFF, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
	{ 0x1C,       0xFFFFFFFF, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
	{ 0x80000008, 0xFFFFFFFF, 0x000000FF, 0x00000000, 0x00000000, 0x00000000 },
	{ 0x7,        2,          0x00000000, 0x00000000, 0x00000000, 0x0000003F },
	{ 0x23,       0,          0x00000000, 0x00000000, 0x00000000, 0x00000000 },
};
const unsigned md_num_cpuid_config = sizeof(md_cpuid_configs) / sizeof(md_cpuid_configs[0]);

typedef uint64_t (*md_get_fn)(struct tdxsim *s, unsigned field, unsigned elem);

struct md_sys_field {
	uint64_t id;            /* canonical id: class, size code, field code */
	uint16_t num_fields;
	uint8_t num_elem;
	md_get_fn get;
};

#define CONST(name, v) static uint64_t name(struct tdxsim *s, unsigned f, unsigned e) \
	{ (void)s; (void)f; (void)e; return (v); }

CONST(v_zero, 0)
CONST(v_one, 1)
CONST(v_vendor, 0x8086)
CONST(v_build_date, 20250312)
CONST(v_max_tdmrs, TDX_MAX_TDMRS)
CONST(v_max_rsvd, TDX_MAX_RESERVED_PER_TDMR)
CONST(v_pamt_entry, PAMT_ENTRY_SIZE)
CONST(v_tdr_size, 4096)
CONST(v_tdcs_size, 6 * 4096)
CONST(v_tdcs_l2, 4096)
CONST(v_tdvps_size, 6 * 4096)
CONST(v_tdvps_l2, 3 * 4096)
CONST(v_attr_fixed0, 0x8000000070000001ULL)
CONST(v_xfam_fixed0, 0x6DBE7ULL)
CONST(v_xfam_fixed1, 0x3ULL)
CONST(v_max_vcpus, MD_MAX_VCPUS_PER_TD)
CONST(v_num_handoff_pages, 4)
CONST(v_l2_gpa_mask, 0x807F)
CONST(v_num_cmrs, TDX_MAX_CMRS)

static uint64_t v_num_pkgs(struct tdxsim *s, unsigned f, unsigned e)
{
	(void)f; (void)e;
	return s->n_pkgs;
}
static uint64_t v_pkg_fms(struct tdxsim *s, unsigned f, unsigned e)
{
	(void)e;
	const tdxsim_platform *p = s->plat;
	if (f >= s->n_pkgs)
		return 0;
	uint32_t model = p->cpu_model, fam = p->cpu_family;
	return ((model >> 4) << 16) | (fam << 8) | ((model & 0xF) << 4) | p->cpu_stepping;
}
static uint64_t v_build_num(struct tdxsim *s, unsigned f, unsigned e)
{
	(void)f; (void)e;
	return 0x300 + s->cfg.module_update;
}
static uint64_t v_minor(struct tdxsim *s, unsigned f, unsigned e) { (void)f; (void)e; return s->cfg.module_minor; }
static uint64_t v_major(struct tdxsim *s, unsigned f, unsigned e) { (void)f; (void)e; return s->cfg.module_major; }
static uint64_t v_update(struct tdxsim *s, unsigned f, unsigned e) { (void)f; (void)e; return s->cfg.module_update; }
static uint64_t v_module_hv(struct tdxsim *s, unsigned f, unsigned e) { (void)f; (void)e; return s->mod.module_hv; }
static uint64_t v_min_hv(struct tdxsim *s, unsigned f, unsigned e) { (void)f; (void)e; return s->mod.min_update_hv; }
static uint64_t v_handoff_valid(struct tdxsim *s, unsigned f, unsigned e)
{
	(void)f; (void)e;
	return seam_state(&s->mod) == TDX_SYS_SHUTDOWN_STATE;
}
static uint64_t v_handoff_hv(struct tdxsim *s, unsigned f, unsigned e) { (void)f; (void)e; return s->mod.shutdown_hv; }
static uint64_t v_features0(struct tdxsim *s, unsigned f, unsigned e) { (void)f; (void)e; return s->cfg.tdx_features0; }
static uint64_t v_cmr_base(struct tdxsim *s, unsigned f, unsigned e)
{
	(void)e;
	return f < s->cfg.n_cmrs ? s->cfg.cmrs[f].base : 0;
}
static uint64_t v_cmr_size(struct tdxsim *s, unsigned f, unsigned e)
{
	(void)e;
	return f < s->cfg.n_cmrs ? s->cfg.cmrs[f].size : 0;
}
static uint64_t v_num_cpuid(struct tdxsim *s, unsigned f, unsigned e)
{
	(void)s; (void)f; (void)e;
	return md_num_cpuid_config;
}
static uint64_t v_config_flags_fixed0(struct tdxsim *s, unsigned f, unsigned e)
{
	(void)f; (void)e;
	/* GPAW (bit 0) only where the CPU has more than 48 address bits. */
	return s->plat->max_pa > 48 ? 0x7 : 0x6;
}
static uint64_t v_cpuid_leaf(struct tdxsim *s, unsigned f, unsigned e)
{
	(void)s; (void)e;
	if (f >= md_num_cpuid_config)
		return ~0ULL;
	return ((uint64_t)md_cpuid_configs[f].subleaf << 32) | md_cpuid_configs[f].leaf;
}
static uint64_t v_cpuid_values(struct tdxsim *s, unsigned f, unsigned e)
{
	(void)s;
	if (f >= md_num_cpuid_config)
		return 0;
	const struct md_cpuid_config *c = &md_cpuid_configs[f];
	return e == 0 ? ((uint64_t)c->ebx << 32) | c->eax : ((uint64_t)c->edx << 32) | c->ecx;
}

/* id, num_fields, num_elem, value */
static const struct md_sys_field fields[] = {
	{ 0x0000000200000000ULL, 1, 1, v_num_pkgs },
	{ 0x0000000200000001ULL, 8, 1, v_pkg_fms },
	{ 0x0800000200000000ULL, 1, 1, v_vendor },
	{ 0x8800000200000001ULL, 1, 1, v_build_date },
	{ 0x8800000100000002ULL, 1, 1, v_build_num },
	{ 0x0800000100000003ULL, 1, 1, v_minor },
	{ 0x0800000100000004ULL, 1, 1, v_major },
	{ 0x0800000100000005ULL, 1, 1, v_update },
	{ 0x0800000100000006ULL, 1, 1, v_zero },          /* INTERNAL_VERSION */
	{ 0x8900000100000000ULL, 1, 1, v_module_hv },
	{ 0x8900000100000001ULL, 1, 1, v_min_hv },
	{ 0x8900000000000002ULL, 1, 1, v_zero },          /* NO_DOWNGRADE */
	{ 0x8900000100000003ULL, 1, 1, v_num_handoff_pages },
	{ 0x8900000000000004ULL, 1, 1, v_handoff_valid },
	{ 0x8900000100000005ULL, 1, 1, v_handoff_hv },
	{ 0x8900000200000006ULL, 1, 1, v_zero },          /* HANDOFF_DATA_SIZE */
	{ 0x0A00000200000000ULL, 1, 1, v_zero },          /* SYS_ATTRIBUTES */
	{ 0x0A00000000000001ULL, 1, 1, v_one },           /* NUM_TDX_FEATURES */
	{ 0x0A00000300000008ULL, 1, 1, v_features0 },
	{ 0x9000000100000000ULL, 1, 1, v_num_cmrs },
	{ 0x9000000300000080ULL, 32, 1, v_cmr_base },
	{ 0x9000000300000100ULL, 32, 1, v_cmr_size },
	{ 0x9100000100000008ULL, 1, 1, v_max_tdmrs },
	{ 0x9100000100000009ULL, 1, 1, v_max_rsvd },
	{ 0x9100000100000010ULL, 1, 1, v_pamt_entry },    /* PAMT_4K_ENTRY_SIZE */
	{ 0x9100000100000011ULL, 1, 1, v_pamt_entry },    /* PAMT_2M_ENTRY_SIZE */
	{ 0x9100000100000012ULL, 1, 1, v_pamt_entry },    /* PAMT_1G_ENTRY_SIZE */
	{ 0x9800000100000000ULL, 1, 1, v_tdr_size },
	{ 0x9800000100000100ULL, 1, 1, v_tdcs_size },
	{ 0x9800000100000101ULL, 1, 1, v_tdcs_l2 },
	{ 0x9800000100000200ULL, 1, 1, v_tdvps_size },
	{ 0x9800000100000201ULL, 1, 1, v_tdvps_l2 },
	{ 0x1900000300000000ULL, 1, 1, v_attr_fixed0 },
	{ 0x1900000300000001ULL, 1, 1, v_zero },          /* ATTRIBUTES_FIXED1 */
	{ 0x1900000300000002ULL, 1, 1, v_xfam_fixed0 },
	{ 0x1900000300000003ULL, 1, 1, v_xfam_fixed1 },
	{ 0x9900000100000004ULL, 1, 1, v_num_cpuid },
	{ 0x9900000300000006ULL, 1, 1, v_config_flags_fixed0 },
	{ 0x9900000300000007ULL, 1, 1, v_zero },          /* CONFIG_FLAGS_FIXED1 */
	{ 0x9900000100000008ULL, 1, 1, v_max_vcpus },     /* MAX_VCPUS_PER_TD (newer modules) */
	{ 0x9900000300000400ULL, MD_MAX_CPUID_CONFIG, 1, v_cpuid_leaf },
	{ 0x9900000300000500ULL, MD_MAX_CPUID_CONFIG, 2, v_cpuid_values },
	{ 0x9900000300000600ULL, 1, 1, v_zero },          /* IA32_ARCH_CAPABILITIES_CONFIG_MASK */
	{ 0x9900000100000800ULL, 1, 1, v_zero },          /* NUM_ALLOWED_FMS */
	{ 0x9900000100000801ULL, 1, 1, v_zero },          /* NUM_DISALLOWED_FMS */
	{ 0x9900000300000810ULL, 64, 1, v_zero },         /* ALLOWED_FMS */
	{ 0x9900000300000850ULL, 64, 1, v_zero },         /* DISALLOWED_FMS */
	{ 0xA000000300000000ULL, 1, 1, v_zero },          /* MIG_ATTRIBUTES */
	{ 0x2000000100000001ULL, 1, 1, v_zero },          /* MIN_EXPORT_VERSION */
	{ 0x2000000100000002ULL, 1, 1, v_zero },          /* MAX_EXPORT_VERSION */
	{ 0x2000000100000003ULL, 1, 1, v_zero },          /* MIN_IMPORT_VERSION */
	{ 0x2000000100000004ULL, 1, 1, v_zero },          /* MAX_IMPORT_VERSION */
	{ 0xA000000100000010ULL, 1, 1, v_zero },          /* MAX_MIGS */
	{ 0xA000000000000020ULL, 1, 1, v_zero },          /* NUM_IMMUTABLE_STATE_PAGES */
	{ 0xA000000000000021ULL, 1, 1, v_zero },          /* NUM_TD_STATE_PAGES */
	{ 0xA000000000000022ULL, 1, 1, v_zero },          /* NUM_VP_STATE_PAGES */
	{ 0xA100000100000000ULL, 1, 1, v_zero },          /* MAX_SERV_TDS */
	{ 0xA100000300000001ULL, 1, 1, v_zero },          /* SERVTD_ATTR_FIXED0 */
	{ 0xA100000300000002ULL, 1, 1, v_zero },          /* SERVTD_ATTR_FIXED1 */
	{ 0xA200000100000000ULL, 1, 1, v_l2_gpa_mask },   /* GUEST_L2_GPA_ATTR_MASK */
	{ 0xA200000300000001ULL, 1, 1, v_zero },          /* VM_CTLS_FIXED0 */
	{ 0xA200000300000002ULL, 1, 1, v_zero },          /* VM_CTLS_FIXED1 */
	{ 0xA200000300000003ULL, 1, 1, v_zero },          /* VCPU_L2_CTLS_FIXED0 */
	{ 0xA200000300000004ULL, 1, 1, v_zero },          /* VCPU_L2_CTLS_FIXED1 */
	{ 0xA200000300000005ULL, 1, 1, v_zero },          /* VCPU_L2_DEBUG_CTLS_FIXED0 */
	{ 0xA200000300000006ULL, 1, 1, v_zero },          /* VCPU_L2_DEBUG_CTLS_FIXED1 */
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

unsigned md_sys_element_count(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < N_FIELDS; i++)
		n += fields[i].num_fields * fields[i].num_elem;
	return n;
}

_Static_assert(N_FIELDS < 0xFF, "md_class_next holds table indices in a byte");

void md_sys_index_init(struct seam_module *m)
{
	memset(m->md_class_head, 0xFF, sizeof(m->md_class_head));
	for (int i = (int)N_FIELDS - 1; i >= 0; i--) {
		unsigned cls = (unsigned)MD_CLASS(fields[i].id);
		m->md_class_next[i] = m->md_class_head[cls];
		m->md_class_head[cls] = (uint8_t)i;
	}
}

/* Class (61:56) and field code decide; returns table index or -1. */
static int find(const struct seam_module *m, uint64_t id, unsigned *elem_idx)
{
	uint64_t code = MD_FIELD_CODE(id);
	for (unsigned i = m->md_class_head[MD_CLASS(id)]; i != 0xFF; i = m->md_class_next[i]) {
		const struct md_sys_field *f = &fields[i];
		uint64_t fcode = MD_FIELD_CODE(f->id);
		if (code >= fcode && code < fcode + (uint64_t)f->num_fields * f->num_elem) {
			*elem_idx = (unsigned)(code - fcode);
			return (int)i;
		}
	}
	return -1;
}

static uint64_t width_mask(uint64_t id)
{
	unsigned sz = MD_ELEM_SIZE(id);
	return sz == 3 ? ~0ULL : (1ULL << (8u << sz)) - 1;
}

static uint64_t elem_value(struct tdxsim *s, int i, unsigned e)
{
	const struct md_sys_field *f = &fields[i];
	return f->get(s, e / f->num_elem, e % f->num_elem) & width_mask(f->id);
}

/* Canonical id of element e of table entry i (context 0). */
static uint64_t elem_id(int i, unsigned e)
{
	return fields[i].id + e;
}

uint64_t md_sys_read(struct tdxsim *s, uint64_t id, uint64_t *val, uint64_t *next)
{
	*val = 0;
	*next = MD_FIELD_ID_NULL;
	/* The context is forced to SYS. */
	id &= ~(0x7ULL << 52);
	if ((id | (0x7ULL << 52)) == MD_FIELD_ID_NULL) {
		*next = fields[0].id;
		return TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT;
	}
	if (MD_RESERVED_31_24(id) || MD_RESERVED_49_47(id) || MD_RESERVED_55(id) ||
	    MD_RESERVED_62(id) || MD_LAST_ELEM(id) || MD_LAST_FIELD(id))
		return TDX_METADATA_FIELD_ID_INCORRECT;
	unsigned e;
	int i = find(&s->mod, id, &e);
	if (i < 0)
		return TDX_METADATA_FIELD_ID_INCORRECT;
	*val = elem_value(s, i, e);
	const struct md_sys_field *f = &fields[i];
	if (e + 1 < (unsigned)f->num_fields * f->num_elem)
		*next = (id & ~0xFFFFFFULL) | (MD_FIELD_CODE(id) + 1);
	else if ((unsigned)i + 1 < N_FIELDS)
		*next = fields[i + 1].id;
	return TDX_SUCCESS;
}

/*
 * Metadata list (TDH.SYS.RDALL): header {u16 list_buff_size (incl. header),
 * u16 num_sequences, u32 0}, then sequences: an 8-byte sequence header (first
 * field id with LAST_ELEMENT_IN_FIELD and LAST_FIELD_IN_SEQUENCE filled in)
 * followed by one 8-byte value per element. A sequence goes on while the
 * next table entry has the same class, element size and elements per field
 * and continues the field codes. Whole fields only.
 */
static int continues(unsigned i)
{
	const struct md_sys_field *a = &fields[i], *b = &fields[i + 1];
	return MD_CLASS(a->id) == MD_CLASS(b->id) && MD_ELEM_SIZE(a->id) == MD_ELEM_SIZE(b->id) &&
	       a->num_elem == b->num_elem &&
	       MD_FIELD_CODE(b->id) == MD_FIELD_CODE(a->id) + (uint64_t)a->num_fields * a->num_elem;
}

uint64_t md_sys_dump(struct tdxsim *s, uint64_t id, uint8_t *page, uint64_t *next)
{
	*next = MD_FIELD_ID_NULL;
	id &= ~(0x7ULL << 52);
	unsigned i = 0, e = 0;
	if ((id | (0x7ULL << 52)) != MD_FIELD_ID_NULL) {
		int k = find(&s->mod, id, &e);
		if (k < 0 || e % fields[k].num_elem ||
		    MD_ELEM_SIZE(id) != MD_ELEM_SIZE(fields[k].id))
			return TDX_METADATA_FIELD_ID_INCORRECT;
		i = (unsigned)k;
	}
	uint64_t *out = (uint64_t *)page;
	unsigned used = 8, nseq = 0;
	uint64_t status = TDX_SUCCESS;
	memset(page, 0, 8);
	while (i < N_FIELDS) {
		unsigned ne = fields[i].num_elem;
		if (used + 8 + 8 * ne > 4096) {
			*next = elem_id((int)i, e);
			status = TDX_METADATA_LIST_OVERFLOW;
			break;
		}
		unsigned hdr_at = used / 8, nfields = 0;
		uint64_t hdr = elem_id((int)i, e);
		used += 8;
		for (;;) {
			unsigned total = (unsigned)fields[i].num_fields * ne;
			while (e < total && used + 8 * ne <= 4096) {
				for (unsigned k = 0; k < ne; k++)
					out[used / 8 + k] = elem_value(s, (int)i, e + k);
				used += 8 * ne;
				e += ne;
				nfields++;
			}
			if (e < total) {
				*next = elem_id((int)i, e);
				status = TDX_METADATA_LIST_OVERFLOW;
				break;
			}
			int more = i + 1 < N_FIELDS && continues(i);
			i++;
			e = 0;
			if (!more)
				break;
		}
		out[hdr_at] = hdr | (uint64_t)(ne - 1) << 34 | (uint64_t)(nfields - 1) << 38;
		nseq++;
		if (status)
			break;
	}
	((uint16_t *)page)[0] = (uint16_t)used;
	((uint16_t *)page)[1] = (uint16_t)nseq;
	return status;
}
