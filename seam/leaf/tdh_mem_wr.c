/*
 * TDH.MEM.WR (14): write 8 bytes of a debug TD's private memory through the
 * TD's KeyID. In: RCX = GPA (8-byte aligned), RDX = TDR, R8 = value. Out:
 * R8 = the previous value. Checks and outputs as TDH.MEM.RD (tdh_mem_rd.c),
 * except that the entry must be MAPPED (BLOCKEDW is read-only).
 */
#include <stdbool.h>

#include "seam/td.h"

uint64_t tdh_mem_rd_wr(struct seam_ctx *c, bool write);

uint64_t seam_tdh_mem_wr(struct seam_ctx *c)
{
	return tdh_mem_rd_wr(c, true);
}
