#include "models/cost.h"

/*
 * First-order cost model. Sources (see ../shared/reference/anchors.md):
 *  - Module instruction counts per leaf, TDX module 1.5.01 (TDXplorer, CCS'25,
 *    Table 1): SYS.KEY.CONFIG 731, SYS.TDMR.INIT 33,465. Module code is
 *    dominated by serialising instructions and uncached metadata loads; we
 *    take IPC ~= 1, so cycles ~= instructions (estimate).
 *  - TDH.SYS.TDMR.INIT ~7 us per call on a 2.2 GHz part (TDX host series v3
 *    18/21): ~15,400 cycles per call of 1024 PAMT entries (+ 2M/1G entries),
 *    i.e. ~15 cycles per 4K entry, leaving ~0 fixed cost.
 *  - SEAMCALL/SEAMRET: not published; estimated as a VM exit/entry pair
 *    (VMCS switch + MSR/state save): ~600 cycles in, ~600 out.
 * The calibration against every anchor is the timing-model issue's work; the
 * per-platform tables differ only where a source says so.
 */
#define LEAF(name, cycles) [name] = cycles

/* One table for SPR, EMR and GNR until calibration gives them their own numbers. */
static const struct tdxsim_costs xeon_costs = {
	.seamcall_entry = 600,
	.seamret = 600,
	.leaf_default = 2000,
	.pamt_entry_init = 15,
	.metadata_field = 60,
	.leaf_base = {
		LEAF(TDH_SYS_KEY_CONFIG, 731),
		LEAF(TDH_SYS_TDMR_INIT, 200),
		LEAF(TDH_SYS_RD, 150),
		LEAF(TDH_SYS_RDALL, 400),
		LEAF(TDH_SYS_INIT, 5000),
		LEAF(TDH_SYS_LP_INIT, 3000),
		LEAF(TDH_SYS_CONFIG, 4000),
		LEAF(TDH_MNG_CREATE, 3518),
		LEAF(TDH_VP_ENTER, 3357),
		LEAF(TDH_VP_INIT, 4695),
		LEAF(TDH_MEM_SEPT_ADD, 6314),
	},
};

const struct tdxsim_costs *tdxsim_costs_for(const char *platform)
{
	(void)platform;
	return &xeon_costs;
}
