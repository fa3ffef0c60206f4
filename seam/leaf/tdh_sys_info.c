/*
 * TDH.SYS.INFO (32, legacy): TDSYSINFO_STRUCT (1024 B) and the CMR table.
 * RCX = TDSYSINFO PA (1024-aligned), RDX = its size (>= 1024),
 * R8 = CMR_INFO array PA (512-aligned), R9 = entries (>= 32).
 * Out: RDX = 1024, R9 = 32 (always MAX_CMR, null entries included).
 */
#include <string.h>

#include "seam/metadata_sys.h"
#include "seam/seam_mem.h"

#define SYSINFO_SIZE 1024

static void put16(uint8_t *p, unsigned off, uint16_t v) { memcpy(p + off, &v, 2); }
static void put32(uint8_t *p, unsigned off, uint32_t v) { memcpy(p + off, &v, 4); }
static void put64(uint8_t *p, unsigned off, uint64_t v) { memcpy(p + off, &v, 8); }

static uint64_t rd(struct tdxsim *s, uint64_t id)
{
	uint64_t v, next;
	md_sys_read(s, id, &v, &next);
	return v;
}

uint64_t seam_tdh_sys_info(struct seam_ctx *c)
{
	struct tdxsim *s = c->s;
	uint64_t info_pa = c->r->rcx, info_size = c->r->rdx;
	uint64_t cmr_pa = c->r->r8, cmr_num = c->r->r9;

	c->r->rdx = 0;
	c->r->r9 = 0;
	if (!c->lp->seam.lp_init_done)
		return TDX_SYS_LP_INIT_NOT_DONE;
	if (!seam_pa_shared_ok(s, info_pa, SYSINFO_SIZE))
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	if (info_size < SYSINFO_SIZE)
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX);

	uint8_t info[SYSINFO_SIZE];
	memset(info, 0, sizeof(info));
	/* The module clears the output before it checks R8/R9. */
	seam_write_pa(s, info_pa, info, sizeof(info));
	if (!seam_pa_shared_ok(s, cmr_pa, TDX_MAX_CMRS * sizeof(struct tdx_cmr_info)))
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R8);
	if (cmr_num < TDX_MAX_CMRS)
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_R9);

	put32(info, 0, 0);                              /* attributes: production module */
	put32(info, 4, (uint32_t)rd(s, MD_SYS_VENDOR_ID));
	put32(info, 8, (uint32_t)rd(s, 0x8800000200000001ULL));  /* build date */
	put16(info, 12, (uint16_t)rd(s, 0x8800000100000002ULL)); /* build num */
	put16(info, 14, s->cfg.module_minor);
	put16(info, 16, s->cfg.module_major);
	info[18] = 1;                                   /* sys_rd: use TDH.SYS.RD */
	put16(info, 32, TDX_MAX_TDMRS);
	put16(info, 34, TDX_MAX_RESERVED_PER_TDMR);
	put16(info, 36, PAMT_ENTRY_SIZE);
	put16(info, 48, (uint16_t)rd(s, MD_SYS_TDCS_BASE_SIZE));
	put16(info, 52, (uint16_t)rd(s, MD_SYS_TDVPS_BASE_SIZE));
	put64(info, 64, rd(s, MD_SYS_ATTRIBUTES_FIXED0));
	put64(info, 72, rd(s, MD_SYS_ATTRIBUTES_FIXED1));
	put64(info, 80, rd(s, MD_SYS_XFAM_FIXED0));
	put64(info, 88, rd(s, MD_SYS_XFAM_FIXED1));
	put32(info, 128, md_num_cpuid_config);
	for (unsigned i = 0; i < md_num_cpuid_config; i++) {
		const struct md_cpuid_config *k = &md_cpuid_configs[i];
		unsigned off = 132 + 24 * i;
		put32(info, off, k->leaf);
		put32(info, off + 4, k->subleaf);
		put32(info, off + 8, k->eax);
		put32(info, off + 12, k->ebx);
		put32(info, off + 16, k->ecx);
		put32(info, off + 20, k->edx);
	}
	seam_write_pa(s, info_pa, info, sizeof(info));

	struct tdx_cmr_info cmrs[TDX_MAX_CMRS];
	memset(cmrs, 0, sizeof(cmrs));
	for (unsigned i = 0; i < s->cfg.n_cmrs; i++) {
		cmrs[i].base = s->cfg.cmrs[i].base;
		cmrs[i].size = s->cfg.cmrs[i].size;
	}
	seam_write_pa(s, cmr_pa, cmrs, sizeof(cmrs));
	c->r->rdx = SYSINFO_SIZE;
	c->r->r9 = TDX_MAX_CMRS;
	return TDX_SUCCESS;
}
