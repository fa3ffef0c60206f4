/*
 * SEAMCALL trace recording (ctest label trace, docs/trace-format.md): a
 * bring-up recorded through tdxsim_trace_start, as .gz, and through
 * TDXSIM_TRACE, read back with the library's trace reader and checked against
 * what the SEAMCALLs returned (a hook sees the same calls); TDH.SYS.CONFIG's
 * TDMR_INFO comes back byte for byte from its blob; bad paths fail cleanly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <openssl/evp.h>

#include "tsim.h"
#include "tsim_td.h"
#include "tdxsim/version.h"
#include "sim/sim_int.h"
#include "sim/trace.h"
#include "sim/trace_read.h"
#include <zlib.h>

#define MAX_CALLS 65536

/* What the hook saw, in call order. */
struct rec {
	_Atomic unsigned n;
	uint64_t rax[MAX_CALLS], status[MAX_CALLS];
};

static void rec_hook(void *user, const tdxsim_seamcall_event *ev)
{
	struct rec *r = user;
	unsigned i = atomic_fetch_add(&r->n, 1);
	if (i < MAX_CALLS) {
		r->rax[i] = ev->rax_in;
		r->status[i] = ev->status;
	}
}

static void tmp_path(char *buf, size_t len, const char *name)
{
	const char *dir = getenv("TMPDIR");
	snprintf(buf, len, "%s/tdxsim-trace-%d-%s", dir && *dir ? dir : "/tmp", (int)getpid(), name);
}

struct parsed {
	unsigned calls, blobs, lines;
	int found_config_info;          /* SYS.CONFIG mem entry for TDMR_INFO[0] checked */
};

/* The whole file (gzip decoded) into a NUL-terminated buffer. */
static char *read_all(const char *path, size_t *len)
{
	gzFile g = gzopen(path, "rb");
	assert_non_null(g);
	size_t cap = 1 << 16, n = 0;
	char *p = malloc(cap + 1);
	assert_non_null(p);
	int r;
	while ((r = gzread(g, p + n, (unsigned)(cap - n))) > 0) {
		n += (size_t)r;
		if (n == cap) {
			cap *= 2;
			p = realloc(p, cap + 1);
			assert_non_null(p);
		}
	}
	assert_true(r == 0);
	gzclose(g);
	p[n] = 0;
	*len = n;
	return p;
}

/*
 * Check a whole trace with the library's reader. rec (may be NULL): the
 * calls as returned, in order. tdmrs (may be NULL): what tsim_sys_config
 * wrote, to find in SYS.CONFIG's blobs.
 */
static struct parsed check_trace(const char *path, const tdxsim *s, const struct rec *rec,
				 const struct tsim_tdmrs *tdmrs)
{
	struct parsed p = { 0 };
	size_t len;
	char *buf = read_all(path, &len);
	assert_true(len > 0 && buf[len - 1] == '\n');
	assert_memory_equal(buf, "{\"format\":\"tdxsim-trace\",\"version\":1,\"minor\":2,", 44);
	free(buf);

	struct trace_reader *r = trace_reader_open(path);
	assert_non_null(r);
	if (trace_reader_error(r))
		fail_msg("%s", trace_reader_error(r));
	const struct trace_header *h = trace_reader_header(r);
	assert_int_equal(h->version, 1);
	assert_int_equal(h->minor, 2);
	assert_string_equal(h->tdxsim, TDXSIM_VERSION_STRING);
	assert_string_equal(h->platform, s->plat->name);
	assert_int_equal(h->cfg.packages, s->cfg.packages);
	assert_int_equal(h->cfg.lps_per_package, s->cfg.lps_per_package);
	assert_int_equal(h->cfg.mem_bytes, s->cfg.mem_bytes);
	assert_int_equal(h->cfg.n_cmrs, s->cfg.n_cmrs);
	for (unsigned i = 0; i < s->cfg.n_cmrs; i++) {
		assert_int_equal(h->cfg.cmrs[i].base, s->cfg.cmrs[i].base);
		assert_int_equal(h->cfg.cmrs[i].size, s->cfg.cmrs[i].size);
	}
	assert_int_equal(h->cfg.tdx_keyids, s->cfg.tdx_keyids);
	assert_int_equal(h->cfg.seed, s->cfg.seed);
	assert_int_equal(h->cfg.flags, s->cfg.flags | TDXSIM_CFG_FEATURES0_SET);
	p.lines = 1;

	const struct trace_ev *e;
	int rc;
	uint64_t seq = 0;
	while ((rc = trace_reader_next(r, &e)) > 0) {
		assert_int_equal(e->seq, seq);
		seq++;
		p.lines++;
		assert_int_equal(e->line, p.lines);
		if (e->kind == TRACE_EV_BLOB) {
			uint8_t md[32];
			assert_int_equal(EVP_Digest(e->blob->data, e->blob->len, md, NULL, EVP_sha256(), NULL), 1);
			assert_memory_equal(md, e->blob->sha, 32);
			p.blobs++;
			continue;
		}
		assert_int_equal(e->kind, TRACE_EV_SEAMCALL);
		assert_true(e->lp < s->n_lps);
		assert_non_null(e->name);
		assert_string_equal(e->name, tdx_seamcall_leaf_name(e->rax));
		assert_string_equal(e->status_name, tdx_status_name(e->status));
		if (rec) {
			assert_true(p.calls < atomic_load(&rec->n));
			assert_int_equal(e->rax, rec->rax[p.calls]);
			assert_int_equal(e->status, rec->status[p.calls]);
		}
		for (size_t i = 0; i < e->n_mem; i++) {
			const struct trace_mem *m = &e->mem[i];
			assert_int_equal(m->len, m->blob->len);
			if (tdmrs && (e->rax & TDX_LEAF_MASK) == TDH_SYS_CONFIG && m->pa == tdmrs->info_pa[0]) {
				assert_int_equal(m->len, sizeof(tdmrs->info[0]));
				assert_memory_equal(m->blob->data, &tdmrs->info[0], m->len);
				p.found_config_info = 1;
			}
		}
		p.calls++;
	}
	if (rc < 0)
		fail_msg("%s", trace_reader_error(r));
	trace_reader_close(r);
	if (rec)
		assert_int_equal(p.calls, atomic_load(&rec->n));
	return p;
}

/* Bring-up recorded to path (hook checking the calls); returns the buffer. */
static char *record_bringup(const char *path, size_t *len, struct parsed *out)
{
	struct rec *r = calloc(1, sizeof(*r));
	struct tsim_tdmrs t;
	assert_non_null(r);
	tdxsim *s = tsim_create(NULL);
	unsigned id;
	assert_int_equal(tdxsim_hook_seamcall(s, rec_hook, r, &id), TDXSIM_OK);
	assert_int_equal(tdxsim_trace_start(s, path), TDXSIM_OK);
	tsim_bringup(s, &t);
	assert_int_equal(tdxsim_trace_stop(s), TDXSIM_OK);
	/* Not recording any more: a second stop is a state error. */
	assert_int_equal(tdxsim_trace_stop(s), TDXSIM_ERR_STATE);
	char *buf;
	*out = check_trace(path, s, r, &t);
	buf = read_all(path, len);
	assert_true(out->calls > 10);
	assert_true(out->blobs >= 2);       /* TDMR array and TDMR_INFOs at least */
	assert_true(out->found_config_info);
	tdxsim_close(s);
	free(r);
	return buf;
}

static void records_bringup(void **state)
{
	(void)state;
	char path[512];
	tmp_path(path, sizeof(path), "plain.jsonl");
	size_t len;
	struct parsed p;
	char *buf = record_bringup(path, &len, &p);
	assert_memory_equal(buf, "{\"format\":\"tdxsim-trace\"", 24);
	free(buf);
	unlink(path);
}

static void records_gzip(void **state)
{
	(void)state;
	char plain[512], gz[512];
	tmp_path(plain, sizeof(plain), "same.jsonl");
	tmp_path(gz, sizeof(gz), "same.jsonl.gz");
	size_t plen, glen;
	struct parsed pp, pg;
	char *pbuf = record_bringup(plain, &plen, &pp);
	char *gbuf = record_bringup(gz, &glen, &pg);
	/* The file on disk really is gzip. */
	FILE *f = fopen(gz, "rb");
	assert_non_null(f);
	unsigned char magic[2] = { 0 };
	assert_int_equal(fread(magic, 1, 2, f), 2);
	fclose(f);
	assert_int_equal(magic[0], 0x1f);
	assert_int_equal(magic[1], 0x8b);
	/* Same seed, same run: the decompressed trace is the plain one. */
	assert_int_equal(glen, plen);
	assert_memory_equal(gbuf, pbuf, plen);
	free(pbuf);
	free(gbuf);
	unlink(plain);
	unlink(gz);
}

static void records_from_env(void **state)
{
	(void)state;
	char path[512];
	tmp_path(path, sizeof(path), "env.jsonl.gz");
	assert_int_equal(setenv("TDXSIM_TRACE", path, 1), 0);
	struct tsim_env e;
	tsim_env_init(&e);                  /* opens (recording starts) and brings up */
	unsetenv("TDXSIM_TRACE");
	tdxsim_config cfg = e.s->cfg;
	const tdxsim_platform *plat = e.s->plat;
	unsigned n_lps = e.s->n_lps;
	struct tsim_tdmrs t = e.t;
	tsim_env_fini(&e);                  /* closes: recording stops */
	char *buf;
	size_t len;
	buf = read_all(path, &len);
	/* check_trace reads the handle's config: a stand-in with the same values. */
	tdxsim *fake = calloc(1, sizeof(*fake));
	assert_non_null(fake);
	fake->cfg = cfg;
	fake->plat = plat;
	fake->n_lps = n_lps;
	struct parsed p = check_trace(path, fake, NULL, &t);
	assert_true(p.calls > 10);
	assert_true(p.found_config_info);
	free(fake);
	free(buf);
	unlink(path);
}

static void bad_paths_fail_cleanly(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	const char *bad = "/nonexistent-tdxsim-dir/trace.jsonl";
	assert_int_equal(tdxsim_trace_start(s, bad), TDXSIM_ERR_IO);
	assert_non_null(strstr(tdxsim_errmsg(s), bad));
	assert_non_null(strstr(tdxsim_errmsg(s), strerror(ENOENT)));
	assert_int_equal(tdxsim_trace_start(s, "/nonexistent-tdxsim-dir/t.gz"), TDXSIM_ERR_IO);
	assert_non_null(strstr(tdxsim_errmsg(s), "/nonexistent-tdxsim-dir/t.gz"));
	/* A full device fails at the header, with the errno named. */
	if (access("/dev/full", W_OK) == 0) {
		assert_int_equal(tdxsim_trace_start(s, "/dev/full"), TDXSIM_ERR_IO);
		assert_non_null(strstr(tdxsim_errmsg(s), "/dev/full"));
		assert_non_null(strstr(tdxsim_errmsg(s), strerror(ENOSPC)));
	}
	assert_int_equal(tdxsim_trace_start(s, NULL), TDXSIM_ERR_ARG);
	assert_int_equal(tdxsim_trace_start(s, ""), TDXSIM_ERR_ARG);
	assert_int_equal(tdxsim_trace_stop(s), TDXSIM_ERR_STATE);
	assert_int_equal(tdxsim_trace_start(NULL, "/tmp/x"), TDXSIM_ERR_HANDLE);
	assert_int_equal(tdxsim_trace_stop(NULL), TDXSIM_ERR_HANDLE);
	/* Nothing is recording: SEAMCALLs go on. */
	tsim_sys_init(s);
	/* Two traces at once are refused. */
	char path[512];
	tmp_path(path, sizeof(path), "twice.jsonl");
	assert_int_equal(tdxsim_trace_start(s, path), TDXSIM_OK);
	assert_int_equal(tdxsim_trace_start(s, path), TDXSIM_ERR_STATE);
	assert_non_null(strstr(tdxsim_errmsg(s), path));
	tdxsim_close(s);                    /* stops the trace */
	char *buf;
	size_t len;
	buf = read_all(path, &len);
	assert_non_null(strstr(buf, "\"format\":\"tdxsim-trace\""));
	free(buf);
	unlink(path);

	/* TDXSIM_TRACE with an unwritable path: the handle still opens. */
	assert_int_equal(setenv("TDXSIM_TRACE", bad, 1), 0);
	tdxsim *s2 = NULL;
	assert_int_equal(tdxsim_open(NULL, &s2), TDXSIM_OK);
	unsetenv("TDXSIM_TRACE");
	assert_int_equal(tdxsim_trace_stop(s2), TDXSIM_ERR_STATE);
	tdxsim_close(s2);
}

/* TDXSIM_TRACE in a program that exits without tdxsim_close (the Linux
 * suites' scenario children do): every SEAMCALL is in the file, which the
 * reader takes as complete (plain: flushed lines; gzip: a stream ending at
 * a sync flush, no trailer). */
static void records_survive_exit(void **state)
{
	(void)state;
	static const char *const names[] = { "exit.jsonl", "exit.jsonl.gz" };
	for (int k = 0; k < 2; k++) {
		char path[512];
		tmp_path(path, sizeof(path), names[k]);
		fflush(NULL);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			setenv("TDXSIM_TRACE", path, 1);
			struct tsim_env e;
			tsim_env_init(&e);              /* open (recording) and bring up */
			struct tdx_module_args a = { .rdx = MD_SYS_NUM_CMRS };
			tdxsim_seamcall(e.s, 0, TDH_SYS_RD, &a);
			_exit(0);                       /* no tdxsim_close, no atexit */
		}
		int st = 0;
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		struct trace_reader *r = trace_reader_open(path);
		assert_non_null(r);
		if (trace_reader_error(r))
			fail_msg("%s", trace_reader_error(r));
		const struct trace_ev *e, *last = NULL;
		unsigned calls = 0;
		int rc;
		uint64_t last_rax = 0, last_rdx = 0;
		while ((rc = trace_reader_next(r, &e)) > 0)
			if (e->kind == TRACE_EV_SEAMCALL) {
				calls++;
				last = e;
				last_rax = e->rax;
				last_rdx = e->in.rdx;
			}
		if (rc < 0)
			fail_msg("%s", trace_reader_error(r));
		assert_non_null(last);
		assert_true(calls > 10);
		/* The very last SEAMCALL made it to the file. */
		assert_int_equal(last_rax, TDH_SYS_RD);
		assert_int_equal(last_rdx, MD_SYS_NUM_CMRS);
		trace_reader_close(r);
		unlink(path);
	}
}

/* Several LP threads at once: lines never interleave, seq stays contiguous. */
struct thr {
	tdxsim *s;
	unsigned lp;
};

static void *thr_main(void *arg)
{
	struct thr *t = arg;
	for (int i = 0; i < 200; i++) {
		struct tdx_module_args a = { .rdx = 0x9100000100000008ULL + (uint64_t)i };
		tdxsim_seamcall(t->s, t->lp, TDH_SYS_RD, &a);
	}
	return NULL;
}

static void records_threads(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct rec *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	unsigned id;
	assert_int_equal(tdxsim_hook_seamcall(e.s, rec_hook, r, &id), TDXSIM_OK);
	char path[512];
	tmp_path(path, sizeof(path), "threads.jsonl");
	assert_int_equal(tdxsim_trace_start(e.s, path), TDXSIM_OK);
	unsigned n = e.n_lps < 8 ? e.n_lps : 8;
	pthread_t th[8];
	struct thr args[8];
	for (unsigned i = 0; i < n; i++) {
		args[i] = (struct thr){ e.s, i };
		assert_int_equal(pthread_create(&th[i], NULL, thr_main, &args[i]), 0);
	}
	for (unsigned i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(tdxsim_trace_stop(e.s), TDXSIM_OK);
	char *buf;
	size_t len;
	buf = read_all(path, &len);
	/* Threads race between the hook and the trace: compare counts only. */
	struct parsed p = check_trace(path, e.s, NULL, NULL);
	assert_int_equal(p.calls, 200 * n);
	assert_int_equal(atomic_load(&r->n), 200 * n);
	free(buf);
	free(r);
	unlink(path);
	tsim_env_fini(&e);
}

/* A TD flushed to where its HKID needs TDH.PHYMEM.CACHE.WB, which then runs
 * in a loop of resumptions, interrupted by the fault plan at the 3rd to 6th
 * points (chunks) it passes: returns the number of calls. */
static unsigned interrupted_wb(struct tsim_env *e)
{
	tdxsim *s = e->s;
	struct tsim_td td;
	tsim_td_build(e, &td, 0, 1);
	tsim_vcpu_add(&td, 0);
	struct tdx_module_args a = { .rcx = td.vcpu[0].tdvpr };
	seamcall_ok(s, td.lp, TDH_VP_FLUSH, &a);
	a = (struct tdx_module_args){ .rcx = td.tdr };
	seamcall_ok(s, td.lp, TDH_MNG_VPFLUSHDONE, &a);
	unsigned lp = td.pkg_lp[0], id;
	tdxsim_fault f = { .size = sizeof(f), .leaf = TDH_PHYMEM_CACHE_WB, .lp = (int)lp,
			   .status = TDX_INTERRUPTED_RESUMABLE, .nth = 3, .count = 4 };
	assert_int_equal(tdxsim_fault_add(s, &f, &id), TDXSIM_OK);
	a = (struct tdx_module_args){ .rcx = 0 };
	uint64_t st = seamcall_raw(s, lp, TDH_PHYMEM_CACHE_WB, &a);
	unsigned calls = 1;
	while (st == TDX_INTERRUPTED_RESUMABLE && calls < 100) {
		a = (struct tdx_module_args){ .rcx = 1 };
		st = seamcall_raw(s, lp, TDH_PHYMEM_CACHE_WB, &a);
		calls++;
	}
	assert_int_equal(st, TDX_SUCCESS);
	uint64_t fired = 0;
	assert_int_equal(tdxsim_fault_fired(s, id, &fired), TDXSIM_OK);
	assert_int_equal(fired, 4);
	assert_int_equal(tdxsim_fault_clear(s), TDXSIM_OK);
	return calls;
}

/* A replay injects each recorded injected status again at the same fault
 * point, so an interrupted TDH.PHYMEM.CACHE.WB does the same partial work
 * and its resumptions match; a trace that does not say which point (format
 * minor 1) skips those events and then diverges. */
static void replays_injected_statuses(void **state)
{
	(void)state;
	char path[512], old[512];
	tmp_path(path, sizeof(path), "injected.jsonl");
	tmp_path(old, sizeof(old), "injected-minor1.jsonl");
	struct tsim_env e;
	assert_int_equal(setenv("TDXSIM_TRACE", path, 1), 0);
	tsim_env_init(&e);
	unsetenv("TDXSIM_TRACE");
	unsigned calls = interrupted_wb(&e);
	tsim_env_fini(&e);
	/* 4 interrupted calls (the plan's points 3 to 6), then the completion. */
	assert_int_equal(calls, 5);

	FILE *devnull = fopen("/dev/null", "w");
	assert_non_null(devnull);
	tdxsim_replay_opts o = { .size = sizeof(o), .flags = TDXSIM_REPLAY_QUIET, .out = devnull, .err = devnull };
	tdxsim_replay_result res = { .size = sizeof(res) };
	assert_int_equal(tdxsim_replay(path, &o, &res), 0);
	assert_int_equal(res.divergences, 0);
	assert_int_equal(res.skipped, 0);

	/* The same trace as format minor 1: the injected events are skipped. */
	size_t len;
	char *buf = read_all(path, &len);
	char *at = strstr(buf, "\"minor\":2,");
	assert_non_null(at);
	at[8] = '1';
	/* ...where "injected" was 0 or 1 (the fault points here are 1 to 9). */
	for (char *p = buf; (p = strstr(p, "\"injected\":")) != NULL; p += 11)
		if (p[11] != '0')
			p[11] = '1';
	FILE *w = fopen(old, "w");
	assert_non_null(w);
	assert_int_equal(fwrite(buf, 1, len, w), len);
	fclose(w);
	free(buf);
	o.flags = TDXSIM_REPLAY_QUIET | TDXSIM_REPLAY_CONTINUE;
	res = (tdxsim_replay_result){ .size = sizeof(res) };
	assert_int_equal(tdxsim_replay(old, &o, &res), 1);
	assert_int_equal(res.skipped, 4);
	assert_true(res.divergences > 0);
	fclose(devnull);
	unlink(path);
	unlink(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(records_bringup),
		cmocka_unit_test(records_gzip),
		cmocka_unit_test(records_from_env),
		cmocka_unit_test(bad_paths_fail_cleanly),
		cmocka_unit_test(records_threads),
		cmocka_unit_test(records_survive_exit),
		cmocka_unit_test(replays_injected_statuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
