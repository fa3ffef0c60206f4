/*
 * SEAMCALL trace recording (ctest label trace, docs/trace-format.md): a
 * bring-up recorded through tdxsim_trace_start, as .gz, and through
 * TDXSIM_TRACE, read back with the trace_read_* helpers and checked against
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
#include <unistd.h>
#include <openssl/evp.h>

#include "tsim.h"
#include "tsim_td.h"
#include "tdxsim/version.h"
#include "sim/sim_int.h"
#include "sim/trace.h"

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

static void hex32(const uint8_t *h, char *out)
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

static void sha256_hex(const void *p, size_t n, char *out)
{
	uint8_t md[32];
	assert_int_equal(EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL), 1);
	hex32(md, out);
}

struct parsed {
	unsigned calls, blobs, lines;
	int found_config_info;          /* SYS.CONFIG mem entry for TDMR_INFO[0] checked */
};

/* A blob line's data, by hash (searched from the start: blobs come before use). */
static uint8_t *find_blob(const char *buf, size_t len, const char *sha, size_t before,
			  size_t *outlen)
{
	size_t pos = 0;
	char *l;
	while (pos < before && (l = trace_read_line(buf, len, &pos))) {
		char ev[16], h[80];
		if (!trace_read_field(l, "ev", ev, sizeof(ev)) && !strcmp(ev, "blob") &&
		    !trace_read_field(l, "sha256", h, sizeof(h)) && !strcmp(h, sha)) {
			size_t dl = strlen(l);
			char *data = malloc(dl);
			assert_non_null(data);
			assert_int_equal(trace_read_field(l, "data", data, dl), 0);
			uint8_t *bytes;
			assert_int_equal(trace_read_base64(data, &bytes, outlen), 0);
			free(data);
			free(l);
			return bytes;
		}
		free(l);
	}
	return NULL;
}

/*
 * Check a whole trace. rec (may be NULL): the calls as returned, in order.
 * tdmrs (may be NULL): what tsim_sys_config wrote, to find in SYS.CONFIG's blobs.
 */
static struct parsed check_trace(const char *buf, size_t len, const tdxsim *s,
				 const struct rec *rec, const struct tsim_tdmrs *tdmrs)
{
	struct parsed p = { 0 };
	size_t pos = 0;
	char *l = trace_read_line(buf, len, &pos);
	assert_non_null(l);
	assert_true(len > 0 && buf[len - 1] == '\n');

	/* Header. */
	char v[256];
	uint64_t u;
	assert_int_equal(trace_read_field(l, "format", v, sizeof(v)), 0);
	assert_string_equal(v, "tdxsim-trace");
	assert_int_equal(trace_read_u64(l, "version", &u), 0);
	assert_int_equal(u, 1);
	assert_int_equal(trace_read_field(l, "tdxsim", v, sizeof(v)), 0);
	assert_string_equal(v, TDXSIM_VERSION_STRING);
	assert_int_equal(trace_read_field(l, "platform", v, sizeof(v)), 0);
	assert_string_equal(v, s->plat->name);
	char cfg[2048];
	assert_int_equal(trace_read_field(l, "config", cfg, sizeof(cfg)), 0);
	assert_int_equal(trace_read_u64(cfg, "packages", &u), 0);
	assert_int_equal(u, s->cfg.packages);
	assert_int_equal(trace_read_u64(cfg, "lps_per_package", &u), 0);
	assert_int_equal(u, s->cfg.lps_per_package);
	assert_int_equal(trace_read_u64(cfg, "mem_bytes", &u), 0);
	assert_int_equal(u, s->cfg.mem_bytes);
	assert_int_equal(trace_read_u64(cfg, "n_cmrs", &u), 0);
	assert_int_equal(u, s->cfg.n_cmrs);
	assert_int_equal(trace_read_u64(cfg, "tdx_keyids", &u), 0);
	assert_int_equal(u, s->cfg.tdx_keyids);
	assert_int_equal(trace_read_u64(cfg, "seed", &u), 0);
	assert_int_equal(u, s->cfg.seed);
	assert_int_equal(trace_read_field(cfg, "cmrs", v, sizeof(v)), 0);
	assert_int_equal(v[0], '[');
	free(l);
	p.lines = 1;

	/* Events. */
	uint64_t seq = 0;
	size_t line_start = pos;
	while ((l = trace_read_line(buf, len, &pos))) {
		char ev[16];
		assert_int_equal(trace_read_field(l, "ev", ev, sizeof(ev)), 0);
		assert_int_equal(trace_read_u64(l, "seq", &u), 0);
		assert_int_equal(u, seq);
		seq++;
		p.lines++;
		if (!strcmp(ev, "blob")) {
			char sha[80], got[65];
			size_t dl = strlen(l);
			char *data = malloc(dl);
			assert_non_null(data);
			assert_int_equal(trace_read_field(l, "sha256", sha, sizeof(sha)), 0);
			assert_int_equal(trace_read_field(l, "data", data, dl), 0);
			uint8_t *bytes;
			size_t n;
			assert_int_equal(trace_read_base64(data, &bytes, &n), 0);
			sha256_hex(bytes, n, got);
			assert_string_equal(got, sha);
			free(bytes);
			free(data);
			p.blobs++;
		} else {
			assert_string_equal(ev, "seamcall");
			uint64_t rax, leaf, ver, st, lp, inj, cyc;
			assert_int_equal(trace_read_u64(l, "rax", &rax), 0);
			assert_int_equal(trace_read_u64(l, "leaf", &leaf), 0);
			assert_int_equal(trace_read_u64(l, "version", &ver), 0);
			assert_int_equal(leaf, rax & TDX_LEAF_MASK);
			assert_int_equal(ver, (rax >> 16) & 0xff);
			assert_int_equal(trace_read_u64(l, "lp", &lp), 0);
			assert_true(lp < s->n_lps);
			assert_int_equal(trace_read_u64(l, "injected", &inj), 0);
			assert_int_equal(trace_read_u64(l, "cycles", &cyc), 0);
			assert_int_equal(trace_read_u64(l, "status", &st), 0);
			assert_int_equal(trace_read_field(l, "status_name", v, sizeof(v)), 0);
			assert_string_equal(v, tdx_status_name(st));
			assert_int_equal(trace_read_field(l, "name", v, sizeof(v)), 0);
			const char *name = tdx_seamcall_leaf_name(rax);
			assert_non_null(name);
			assert_string_equal(v, name);
			char regs[1024];
			static const char *const gpr[] = { "rcx", "rdx", "r8", "r9", "r10", "r11", "r12",
							   "r13", "r14", "r15", "rbx", "rdi", "rsi" };
			for (int k = 0; k < 2; k++) {
				assert_int_equal(trace_read_field(l, k ? "out" : "in", regs, sizeof(regs)), 0);
				for (unsigned g = 0; g < 13; g++)
					assert_int_equal(trace_read_u64(regs, gpr[g], &u), 0);
			}
			if (rec) {
				assert_true(p.calls < atomic_load(&rec->n));
				assert_int_equal(rax, rec->rax[p.calls]);
				assert_int_equal(st, rec->status[p.calls]);
			}
			/* mem: every entry's content was stored in an earlier blob. */
			size_t ml = strlen(l);
			char *mem = malloc(ml);
			assert_non_null(mem);
			assert_int_equal(trace_read_field(l, "mem", mem, ml), 0);
			assert_int_equal(mem[0], '[');
			for (char *e = strchr(mem, '{'); e; e = strchr(e + 1, '{')) {
				char sha[80];
				uint64_t pa, n;
				assert_int_equal(trace_read_u64(e, "pa", &pa), 0);
				assert_int_equal(trace_read_u64(e, "len", &n), 0);
				assert_int_equal(trace_read_field(e, "sha256", sha, sizeof(sha)), 0);
				size_t bl;
				uint8_t *bytes = find_blob(buf, len, sha, line_start, &bl);
				assert_non_null(bytes);
				assert_int_equal(bl, n);
				if (tdmrs && leaf == TDH_SYS_CONFIG && pa == tdmrs->info_pa[0]) {
					assert_int_equal(n, sizeof(tdmrs->info[0]));
					assert_memory_equal(bytes, &tdmrs->info[0], n);
					p.found_config_info = 1;
				}
				free(bytes);
			}
			free(mem);
			p.calls++;
		}
		line_start = pos;
		free(l);
	}
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
	assert_int_equal(trace_read_file(path, &buf, len), 0);
	*out = check_trace(buf, *len, s, r, &t);
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
	assert_int_equal(trace_read_file(path, &buf, &len), 0);
	/* check_trace reads the handle's config: a stand-in with the same values. */
	tdxsim *fake = calloc(1, sizeof(*fake));
	assert_non_null(fake);
	fake->cfg = cfg;
	fake->plat = plat;
	fake->n_lps = n_lps;
	struct parsed p = check_trace(buf, len, fake, NULL, &t);
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
	assert_int_equal(trace_read_file(path, &buf, &len), 0);
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
	assert_int_equal(trace_read_file(path, &buf, &len), 0);
	/* Threads race between the hook and the trace: compare counts only. */
	struct parsed p = check_trace(buf, len, e.s, NULL, NULL);
	assert_int_equal(p.calls, 200 * n);
	assert_int_equal(atomic_load(&r->n), 200 * n);
	free(buf);
	free(r);
	unlink(path);
	tsim_env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(records_bringup),
		cmocka_unit_test(records_gzip),
		cmocka_unit_test(records_from_env),
		cmocka_unit_test(bad_paths_fail_cleanly),
		cmocka_unit_test(records_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
