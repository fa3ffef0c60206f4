/*
 * Cycle cost tables, one per platform profile (models/costs.c). Every number
 * carries its source or the reasoning behind the estimate. The timing model
 * charges them on each LP's clock.
 */
#ifndef MODELS_COST_H
#define MODELS_COST_H

#include <stdint.h>
#include "tdx/leaf.h"

struct tdxsim_costs {
	uint32_t seamcall_entry;        /* SEAMCALL: VMX root -> SEAM root */
	uint32_t seamret;               /* SEAMRET back */
	uint32_t leaf_base[TDX_SEAMCALL_LEAF_MAX]; /* fixed work per leaf (0: default) */
	uint32_t leaf_default;          /* leaves with no entry */
	uint32_t pamt_entry_init;       /* TDH.SYS.TDMR.INIT, per 16-byte PAMT entry */
	uint32_t metadata_field;        /* per metadata field read or written */
};

const struct tdxsim_costs *tdxsim_costs_for(const char *platform);

#endif
