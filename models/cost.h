/*
 * The timing model's cost tables (models/cost_table.def: every number with
 * its source or the reasoning behind the estimate). One table per platform
 * profile (SPR, EMR, GNR); the model charges them on each LP's clock
 * (struct sim_lp.cycles, tdxsim_lp_cycles()):
 *  - SEAMCALL: seamcall_entry + seamret + the leaf's fixed work + what the
 *    leaf charged with seam_charge() for what it touched (pages hashed or
 *    encrypted, S-EPT levels walked, PAMT entries, lines flushed);
 *  - guest execution (seam/td_run.c): each translated block's cost,
 *    computed once from its instruction classes (seam/x86_insn.h) and
 *    charged by the block hook; TD entries and exits, #VE delivery,
 *    module-handled CPUID/TDCALLs, private-memory TLB fills.
 * Module work is also counted in module instructions (per-leaf instruction
 * counts are an anchor: TDXplorer, CCS'25, Table 1): each cost item has a
 * platform-independent instruction count next to its cycles.
 */
#ifndef MODELS_COST_H
#define MODELS_COST_H

#include <stdint.h>
#include "tdx/leaf.h"

/* Cost items: COST_<name>, in the order of models/cost_table.def. */
enum tdxsim_cost_item {
#define TDXSIM_COST_ITEM(name, spr, emr, gnr, insns, src) COST_##name,
#include "models/cost_table.def"
#undef TDXSIM_COST_ITEM
	COST_N
};

/* Guest instruction classes (seam/x86_insn.h classifies, td_run charges). */
enum tdxsim_insn_class {
#define TDXSIM_ICLASS_ITEM(name, spr, emr, gnr, src) ICLASS_##name,
#include "models/cost_table.def"
#undef TDXSIM_ICLASS_ITEM
	ICLASS_N
};

/* Guest instruction costs are in 1/16 cycle; the runner accumulates them so
 * and adds whole cycles to the clock (the rest is dropped at each TD exit). */
#define TDXSIM_ICLASS_SHIFT 4

struct tdxsim_costs {
	const char *platform;
	uint32_t cycles[COST_N];        /* per unit */
	uint32_t insns[COST_N];         /* module instructions per unit */
	uint16_t iclass[ICLASS_N];      /* guest instruction classes, 1/16 cycle */
	/* Fixed work of each SEAMCALL leaf / module-handled TDCALL leaf, in
	 * module instructions, and the module's cycles per instruction in
	 * 1/16 (leaf cycles = insns * module_cpi16 / 16). */
	uint32_t leaf_insns[TDX_SEAMCALL_LEAF_MAX];
	uint32_t tdcall_insns[TDX_TDCALL_LEAF_MAX];
	uint32_t module_cpi16;
	uint32_t stepping_threshold;    /* module 1.5: STEPPING_TSC_THRESHOLD */
};

/* The table of a platform profile ("spr", "emr", "gnr"); unknown names get
 * SPR's. */
const struct tdxsim_costs *tdxsim_costs_for(const char *platform);
/* All zeros: the timing model off (TDXSIM_CFG_NO_TIMING). */
const struct tdxsim_costs *tdxsim_costs_none(void);
/* Name and source text of a cost item / instruction class (the bench and
 * docs print them). */
const char *tdxsim_cost_name(unsigned item);
const char *tdxsim_cost_source(unsigned item);
const char *tdxsim_iclass_name(unsigned cls);

/* Fixed module instructions of a SEAMCALL leaf / a module-handled TDCALL
 * leaf (the table's default for leaves it does not list; 0 with the timing
 * model off). */
uint32_t tdxsim_leaf_insns(const struct tdxsim_costs *k, unsigned leaf);
uint32_t tdxsim_tdcall_insns(const struct tdxsim_costs *k, unsigned leaf);

/* Cycles of that many module instructions. */
static inline uint64_t tdxsim_leaf_cycles(const struct tdxsim_costs *k, uint32_t insns)
{
	return ((uint64_t)insns * k->module_cpi16 + 8) >> 4;
}

/*
 * Charge n units of a cost item to a leaf's context (cycles and module
 * instructions): seam_charge(c, SEPT_LEVEL, levels). Defined in
 * seam/dispatch.c, where the handle's layout is known.
 */
struct seam_ctx;
void seam_charge_item(struct seam_ctx *c, unsigned item, uint64_t n);
#define seam_charge(c, item, n) seam_charge_item((c), COST_##item, (uint64_t)(n))

#endif
