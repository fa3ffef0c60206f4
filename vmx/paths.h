/*
 * The five VM-entry paths, measured the same way: the guest loop run with
 * n + 1 and with 1 iteration, cycles per exit = the difference / n (the
 * setup, first entry and final exit cancel), by category.
 *
 *   vmx                legacy VMX VM, KVM-style L0 handler (vmx.c)
 *   nested_shadowed    pKVM-style nesting, L1's handler fields shadowed
 *   nested_unshadowed  the same without VMCS shadowing
 *   td_module          TD, CPUID leaf 0 answered by the TDX module
 *   td_tdvmcall        TD, TDG.VP.VMCALL<CPUID> answered by the host
 *
 * The TD paths' cycles are tdxsim_lp_cycles() deltas; their guest share is
 * the same loop with a NOP for the CPUID (scaled by instruction count for
 * the TDVMCALL loop), the rest is SEAM transitions and module work, plus
 * the host VMM's share from models/vmx_costs.c.
 */
#ifndef VMX_PATHS_H
#define VMX_PATHS_H

#include "vmx/td_path.h"
#include "vmx/vmx.h"

enum vmx_path { PATH_VMX, PATH_NESTED_SHADOWED, PATH_NESTED_UNSHADOWED, PATH_TD_MODULE,
		PATH_TD_TDVMCALL, PATH_N };
extern const char *const vmx_path_names[PATH_N];
static inline int path_is_td(enum vmx_path p) { return p >= PATH_TD_MODULE; }

struct path_sample {
	uint64_t exits;                 /* CPUID-type exits taken */
	struct vmx_clock clk;
	double wall_ns;
};

/* One run of the loop; td (from td_path_open) for the TD paths. */
int path_sample_run(enum vmx_path p, uint32_t iterations, struct td_path *td,
		    const struct vmx_costs *k, struct path_sample *out, char *err, size_t errlen);

struct path_result {
	double cycles;                  /* per exit */
	double cat[VMX_CAT_N];          /* per exit, by category */
	double host_ns;                 /* host time per exit, best of 3 long runs */
	uint64_t exits;                 /* in the long run */
};
int path_measure(enum vmx_path p, uint32_t n, struct td_path *td, const struct vmx_costs *k,
		 struct path_result *out, char *err, size_t errlen);

#endif
