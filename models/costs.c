/*
 * The cost tables, built from models/cost_table.def (which carries every
 * number's source or reasoning): one per platform profile.
 */
#include <string.h>

#include "models/cost.h"


#define TDXSIM_COST_ITEM(name, spr, emr, gnr, ins, src) \
	.cycles[COST_##name] = PICK(spr, emr, gnr), .insns[COST_##name] = ins,
#define TDXSIM_ICLASS_ITEM(name, spr, emr, gnr, src) .iclass[ICLASS_##name] = PICK(spr, emr, gnr),
#define TDXSIM_LEAF_COST(name, ins, src) .leaf_insns[name] = ins,
#define TDXSIM_TDG_COST(name, ins, src) .tdcall_insns[name] = ins,
#define TDXSIM_MODULE_CPI(spr, emr, gnr, src) .module_cpi16 = PICK(spr, emr, gnr),
#define TDXSIM_STEPPING(v, src) .stepping_threshold = v,

#define PICK(spr, emr, gnr) spr
static const struct tdxsim_costs spr_costs = {
	.platform = "spr",
#include "models/cost_table.def"
};
#undef PICK
#define PICK(spr, emr, gnr) emr
static const struct tdxsim_costs emr_costs = {
	.platform = "emr",
#include "models/cost_table.def"
};
#undef PICK
#define PICK(spr, emr, gnr) gnr
static const struct tdxsim_costs gnr_costs = {
	.platform = "gnr",
#include "models/cost_table.def"
};
#undef PICK
#undef TDXSIM_COST_ITEM
#undef TDXSIM_ICLASS_ITEM
#undef TDXSIM_LEAF_COST
#undef TDXSIM_TDG_COST
#undef TDXSIM_MODULE_CPI
#undef TDXSIM_STEPPING

/* Leaves the table does not list: the default. */
static uint32_t leaf_default(void)
{
#define TDXSIM_LEAF_COST_DEFAULT(ins, src) return ins;
#include "models/cost_table.def"
#undef TDXSIM_LEAF_COST_DEFAULT
}

static uint32_t tdg_leaf_default(void)
{
#define TDXSIM_TDG_COST_DEFAULT(ins, src) return ins;
#include "models/cost_table.def"
#undef TDXSIM_TDG_COST_DEFAULT
}

static const struct tdxsim_costs none_costs = { .platform = "none" };

const struct tdxsim_costs *tdxsim_costs_for(const char *platform)
{
	if (platform && !strcmp(platform, "emr"))
		return &emr_costs;
	if (platform && !strcmp(platform, "gnr"))
		return &gnr_costs;
	return &spr_costs;
}

const struct tdxsim_costs *tdxsim_costs_none(void)
{
	return &none_costs;
}

uint32_t tdxsim_leaf_insns(const struct tdxsim_costs *k, unsigned leaf)
{
	if (k == &none_costs)
		return 0;
	uint32_t v = leaf < TDX_SEAMCALL_LEAF_MAX ? k->leaf_insns[leaf] : 0;
	return v ? v : leaf_default();
}

uint32_t tdxsim_tdcall_insns(const struct tdxsim_costs *k, unsigned leaf)
{
	if (k == &none_costs)
		return 0;
	if (leaf < TDX_TDCALL_LEAF_MAX && k->tdcall_insns[leaf])
		return k->tdcall_insns[leaf];
	/* A listed leaf with 0 (TDG.VP.VMCALL) stays 0. */
#define TDXSIM_TDG_COST(name, ins, src) if (leaf == name) return ins;
#include "models/cost_table.def"
#undef TDXSIM_TDG_COST
	return tdg_leaf_default();
}

static const char *const cost_names[COST_N] = {
#define TDXSIM_COST_ITEM(name, spr, emr, gnr, ins, src) #name,
#include "models/cost_table.def"
#undef TDXSIM_COST_ITEM
};
static const char *const cost_srcs[COST_N] = {
#define TDXSIM_COST_ITEM(name, spr, emr, gnr, ins, src) src,
#include "models/cost_table.def"
#undef TDXSIM_COST_ITEM
};
static const char *const iclass_names[ICLASS_N] = {
#define TDXSIM_ICLASS_ITEM(name, spr, emr, gnr, src) #name,
#include "models/cost_table.def"
#undef TDXSIM_ICLASS_ITEM
};

const char *tdxsim_cost_name(unsigned item)
{
	return item < COST_N ? cost_names[item] : "?";
}

const char *tdxsim_cost_source(unsigned item)
{
	return item < COST_N ? cost_srcs[item] : "?";
}

const char *tdxsim_iclass_name(unsigned cls)
{
	return cls < ICLASS_N ? iclass_names[cls] : "?";
}
