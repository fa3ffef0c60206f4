/*
 * The P-SEAMLDR: SEAMCALLs with RAX bit 63 set (Linux 7.3
 * arch/x86/virt/vmx/tdx/seamldr.c). SEAMLDR.INFO fills the 256-byte,
 * 256-aligned SEAMLDR_INFO structure at RCX from the platform profile.
 * SEAMLDR.INSTALL (runtime module update) is not modelled.
 *
 * No Intel source for the P-SEAMLDR's status codes was available; argument
 * errors use the module's TDX_OPERAND_INVALID + operand id.
 */
#include <string.h>

#include "seam/seam_mem.h"

#define SEAMLDR_INFO_SIZE 256

static void put16(uint8_t *p, unsigned off, uint16_t v) { memcpy(p + off, &v, 2); }
static void put32(uint8_t *p, unsigned off, uint32_t v) { memcpy(p + off, &v, 4); }

uint64_t seamldr_dispatch(struct tdxsim *s, struct sim_lp *lp, uint64_t rax,
			  struct tdx_module_args *r, uint64_t *cycles)
{
	(void)lp;
	*cycles = s->costs->cycles[COST_SEAMCALL_ENTRY] + s->costs->cycles[COST_SEAMRET] + 2000;
	if (rax != 0x8000000000000000ULL)   /* only SEAMLDR.INFO */
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RAX);
	if (!seam_pa_shared_ok(s, r->rcx, SEAMLDR_INFO_SIZE))
		return tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX);
	const tdxsim_platform *p = s->plat;
	uint8_t info[SEAMLDR_INFO_SIZE];
	memset(info, 0, sizeof(info));
	put32(info, 0, 0);                      /* version of the structure */
	put32(info, 4, 0);                      /* attributes: production loader */
	put32(info, 8, 0x8086);                 /* vendor id */
	put32(info, 12, 20250312);              /* build date */
	put16(info, 16, 0x100);                 /* build number */
	put16(info, 18, p->seamldr_minor);
	put16(info, 20, p->seamldr_major);
	put16(info, 22, p->seamldr_update);
	put32(info, 24, 0);                     /* ACM x2APIC id */
	put32(info, 28, p->seamldr_remaining_updates);
	info[160] = 1;                          /* seam_ready: a module is loaded */
	info[161] = 0;                          /* seam_debug */
	info[162] = 1;                          /* p_seam_ready */
	seam_write_pa(s, r->rcx, info, sizeof(info));
	return TDX_SUCCESS;
}
