/*
 * Trace benchmarks (issue 6): a trace of a 1 GiB bring-up plus 1,000,000
 * TDH.SYS.RD metadata reads is recorded into the bench binary's directory
 * (build/bench/), then replayed with tdxsim_replay().
 *   replay.events_per_s     SEAMCALL events replayed per second (parse,
 *                           issue, compare; machine rebuild excluded)
 *   trace.bytes_per_event   uncompressed file size / events
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

#define TRACE_READS 1000000

void bench_trace(struct bench_metrics *m)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 64);
	if (n <= 0)
		n = 0;
	path[n] = 0;
	char *slash = strrchr(path, '/');
	if (slash)
		slash[1] = 0;
	else
		strcpy(path, "./");
	strcat(path, "bench-replay-sysrd.jsonl");

	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.n_cmrs = 1;
	cfg.cmrs[0].size = 1ull << 30;
	tdxsim *s;
	if (tdxsim_open(&cfg, &s) || tdxsim_trace_start(s, path)) {
		fprintf(stderr, "tdxsim-bench: trace: cannot record %s\n", path);
		exit(1);
	}
	bench_bringup(s, 1);
	static const uint64_t ids[] = { MD_SYS_MAJOR_VERSION, MD_SYS_MAX_TDMRS, MD_SYS_TDX_FEATURES0,
					MD_SYS_NUM_CMRS };
	for (unsigned i = 0; i < TRACE_READS; i++) {
		struct tdx_module_args a = { .rdx = ids[i & 3] };
		bench_must(s, 0, TDH_SYS_RD, &a);
	}
	if (tdxsim_trace_stop(s)) {
		fprintf(stderr, "tdxsim-bench: trace: %s\n", tdxsim_errmsg(s));
		exit(1);
	}
	tdxsim_close(s);

	tdxsim_replay_opts o = { .size = sizeof(o), .flags = TDXSIM_REPLAY_QUIET };
	tdxsim_replay_result r = { .size = sizeof(r) };
	int rc = tdxsim_replay(path, &o, &r);
	if (rc) {
		fprintf(stderr, "tdxsim-bench: replay of %s returned %d\n", path, rc);
		exit(1);
	}
	struct stat st;
	double bytes = stat(path, &st) ? 0 : (double)st.st_size;
	unlink(path);
	double eps = (double)r.events / (r.seamcall_ns * 1e-9);
	double bpe = bytes / (double)(r.events + 1);    /* + the header line */
	bench_metric(m, "replay.events_per_s", eps, "events/s");
	bench_metric(m, "trace.bytes_per_event", bpe, "bytes");
	printf("replay.events_per_s = %.0f (%llu events, %llu SEAMCALLs in %.2f s)\n", eps,
	       (unsigned long long)r.events, (unsigned long long)r.seamcalls, r.seamcall_ns * 1e-9);
	printf("trace.bytes_per_event = %.1f (%.0f bytes)\n", bpe, bytes);
}
