/*
 * VM-entry path comparison (vmx/paths.h): the same guest loop with one
 * CPUID-type exit per iteration through
 *   vmx                legacy VMX VM, KVM-style handler
 *   nested_shadowed    nested VMX in pKVM's design, L1's fields shadowed
 *   nested_unshadowed  the same without VMCS shadowing
 *   td_module          TD, CPUID answered by the TDX module
 *   td_tdvmcall        TD, TDG.VP.VMCALL<CPUID> answered by the host
 * Metrics:
 *   path.<name>.cycles    simulated cycles per exit ((run of n + 1) -
 *                         (run of 1)) / n
 *   path.<name>.host_ns   host time per exit of the long run (best of 3)
 * Also writes the per-category breakdown next to results.json as
 * vm-entry-paths.dat, which scripts/plot-paths.sh draws (make bench).
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "vmx/paths.h"

#define PATH_ITERS 2000

static const char *const metric_cycles[PATH_N] = {
	"path.vmx.cycles", "path.nested_shadowed.cycles", "path.nested_unshadowed.cycles",
	"path.td_module.cycles", "path.td_tdvmcall.cycles",
};
static const char *const metric_ns[PATH_N] = {
	"path.vmx.host_ns", "path.nested_shadowed.host_ns", "path.nested_unshadowed.host_ns",
	"path.td_module.host_ns", "path.td_tdvmcall.host_ns",
};
static const char *const labels[PATH_N] = {
	"VMX VM", "nested+shadow", "nested, no shadow", "TD, module", "TD, TDVMCALL",
};

static void write_dat(const char *out_json, const struct path_result *r)
{
	const char *slash = strrchr(out_json, '/');
	size_t dir = slash ? (size_t)(slash - out_json + 1) : 0;
	char *path = malloc(dir + 32);
	if (!path) {
		fprintf(stderr, "tdxsim-bench: out of memory\n");
		exit(1);
	}
	memcpy(path, out_json, dir);
	strcpy(path + dir, "vm-entry-paths.dat");
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fprintf(f, "# tdxsim-bench: simulated cycles per CPUID-type exit, by category\n");
	fprintf(f, "path");
	for (unsigned c = 0; c < VMX_CAT_N; c++)
		fprintf(f, "\t\"%s\"", vmx_cat_names[c]);
	fprintf(f, "\ttotal\n");
	for (unsigned p = 0; p < PATH_N; p++) {
		fprintf(f, "\"%s\"", labels[p]);
		for (unsigned c = 0; c < VMX_CAT_N; c++)
			fprintf(f, "\t%.1f", r[p].cat[c]);
		fprintf(f, "\t%.1f\n", r[p].cycles);
	}
	fclose(f);
	printf("  breakdown written to %s\n", path);
	free(path);
}

void bench_paths(struct bench_metrics *m, const char *out_json)
{
	char err[256] = "";
	const struct vmx_costs *k = vmx_costs_for(NULL);
	struct td_path *td = td_path_open(k, err, sizeof(err));
	if (!td) {
		fprintf(stderr, "tdxsim-bench: TD paths: %s\n", err);
		exit(1);
	}
	struct path_result r[PATH_N];
	for (unsigned p = 0; p < PATH_N; p++) {
		if (path_measure(p, PATH_ITERS, path_is_td(p) ? td : NULL, k, &r[p], err, sizeof(err))) {
			fprintf(stderr, "tdxsim-bench: path %s: %s\n", vmx_path_names[p], err);
			exit(1);
		}
		if (r[p].exits != PATH_ITERS + 1) {
			fprintf(stderr, "tdxsim-bench: path %s: %llu exits for %u iterations\n",
				vmx_path_names[p], (unsigned long long)r[p].exits, PATH_ITERS + 1);
			exit(1);
		}
		bench_metric(m, metric_cycles[p], r[p].cycles, "cycles");
		bench_metric(m, metric_ns[p], r[p].host_ns, "ns");
	}
	td_path_close(td);

	printf("VM-entry paths, one CPUID-type exit per guest loop iteration (%u iterations):\n",
	       PATH_ITERS);
	printf("  %-19s %9s %9s |", "path", "cycles", "host ns");
	static const char *const short_cat[VMX_CAT_N] = {
		"guest", "hw x/e", "L0", "L1", "vmrd/wr", "sync", "seam", "host",
	};
	for (unsigned c = 0; c < VMX_CAT_N; c++)
		printf(" %7s", short_cat[c]);
	printf("\n");
	for (unsigned p = 0; p < PATH_N; p++) {
		printf("  %-19s %9.0f %9.0f |", vmx_path_names[p], r[p].cycles, r[p].host_ns);
		for (unsigned c = 0; c < VMX_CAT_N; c++)
			printf(" %7.0f", r[p].cat[c]);
		printf("\n");
	}
	printf("  published points: module CPUID ~1,744-1,815, CPUID via #VE + host ~10,400 (EMR, "
	       "CVM_eval);\n  nested CPUID: KVM on Hyper-V 18,890 (8,304 with eVMCS), KVM on KVM "
	       "~26,000 (Linux commit logs)\n");
	write_dat(out_json, r);
}
