/*
 * The five VM-entry paths, one measurement method (paths.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vmx/nested.h"
#include "vmx/paths.h"

const char *const vmx_path_names[PATH_N] = {
	[PATH_VMX] = "vmx",
	[PATH_NESTED_SHADOWED] = "nested_shadowed",
	[PATH_NESTED_UNSHADOWED] = "nested_unshadowed",
	[PATH_TD_MODULE] = "td_module",
	[PATH_TD_TDVMCALL] = "td_tdvmcall",
};

/* Guest instructions per iteration besides the exiting one: the NOP loop
 * has 5 (xor, xor, nop, dec, jnz), the TDVMCALL loop 8 besides TDCALL. */
#define NOP_LOOP_INSNS      5
#define TDVMCALL_LOOP_INSNS 8

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int sample_td(enum vmx_path p, uint32_t iterations, struct td_path *td,
		     struct path_sample *out, char *err, size_t errlen)
{
	struct td_path_result nop, run;
	if (td_path_run(td, TD_LOOP_NOP, iterations, &nop, err, errlen))
		return -1;
	if (td_path_run(td, p == PATH_TD_MODULE ? TD_LOOP_CPUID : TD_LOOP_TDVMCALL, iterations,
			&run, err, errlen))
		return -1;
	uint32_t genu;
	uint32_t out4[4];
	kvm_cpuid_values(0, 0, out4);
	genu = out4[1];
	if (run.report != genu) {
		snprintf(err, errlen, "%s: guest's CPUID EBX 0x%x, expected 0x%x", vmx_path_names[p],
			 run.report, genu);
		return -1;
	}
	/* Guest share: the NOP loop's clock without its host share, scaled
	 * by instruction count for the TDVMCALL loop. */
	uint64_t guest = nop.lp_cycles - nop.host_cycles;
	if (p == PATH_TD_TDVMCALL)
		guest = guest * TDVMCALL_LOOP_INSNS / NOP_LOOP_INSNS;
	uint64_t seam = run.lp_cycles - run.host_cycles;
	if (guest > seam)
		guest = seam;
	out->exits = p == PATH_TD_MODULE ? iterations : run.tdvmcall_exits;
	out->clk.cat[VMX_CAT_GUEST] = guest;
	out->clk.cat[VMX_CAT_SEAM] = seam - guest;
	out->clk.cat[VMX_CAT_HOST] = run.host_cycles;
	out->clk.total = run.lp_cycles;
	out->wall_ns = run.wall_ns;
	return 0;
}

int path_sample_run(enum vmx_path p, uint32_t iterations, struct td_path *td,
		    const struct vmx_costs *k, struct path_sample *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (path_is_td(p)) {
		if (!td) {
			snprintf(err, errlen, "%s needs a TD", vmx_path_names[p]);
			return -1;
		}
		return sample_td(p, iterations, td, out, err, errlen);
	}
	if (p == PATH_VMX) {
		struct vmx_vm vm;
		if (vmx_vm_init(&vm, iterations, k, err, errlen))
			return -1;
		double t0 = now_ns();
		int rc = vmx_vm_run(&vm, err, errlen);
		out->wall_ns = now_ns() - t0;
		out->exits = vm.cpuid_exits;
		out->clk = vm.clk;
		vmx_vm_fini(&vm);
		return rc;
	}
	struct nested_vm n;
	enum nested_shadow mode = p == PATH_NESTED_SHADOWED ? NESTED_SHADOW_PKVM : NESTED_SHADOW_NONE;
	if (nested_init(&n, mode, iterations, k, err, errlen))
		return -1;
	int rc = nested_l1_setup(&n, err, errlen);
	double t0 = now_ns();
	if (!rc)
		rc = nested_run(&n, err, errlen);
	out->wall_ns = now_ns() - t0;
	out->exits = n.l2_exits ? n.l2_exits - 1 : 0;     /* the last one is the HLT */
	out->clk = n.clk;
	nested_fini(&n);
	return rc;
}

int path_measure(enum vmx_path p, uint32_t n, struct td_path *td, const struct vmx_costs *k,
		 struct path_result *out, char *err, size_t errlen)
{
	struct path_sample one, many;
	memset(out, 0, sizeof(*out));
	if (n == 0) {
		snprintf(err, errlen, "path_measure needs n > 0");
		return -1;
	}
	if (path_sample_run(p, 1, td, k, &one, err, errlen) ||
	    path_sample_run(p, n + 1, td, k, &many, err, errlen))
		return -1;
	out->cycles = (double)(many.clk.total - one.clk.total) / n;
	for (unsigned c = 0; c < VMX_CAT_N; c++)
		out->cat[c] = ((double)many.clk.cat[c] - (double)one.clk.cat[c]) / n;
	/* Host time: the best of three long runs (the host is shared; the
	 * simulated cycles are the same every run). */
	double best = many.wall_ns;
	for (int rep = 0; rep < 2; rep++) {
		struct path_sample again;
		if (path_sample_run(p, n + 1, td, k, &again, err, errlen))
			return -1;
		if (again.wall_ns < best)
			best = again.wall_ns;
	}
	out->host_ns = best / (double)(n + 1);
	out->exits = many.exits;
	return 0;
}
