/*
 * Snapshots (tdxsim.h "Snapshots", sim/snapshot.c): round trips in memory
 * and through files are byte-identical; a restored handle (fresh, or the
 * same handle after it moved on) continues bit-identically, shown by SEAMCALL
 * traces compared byte for byte (statuses, registers, memory read, cycles)
 * and by the hook events' sequence numbers and clocks; a snapshot taken in
 * the middle of a TD build measures the TD the same; corrupted, truncated,
 * foreign and mismatched snapshots are refused with the section and offset
 * named, and the handle is left as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "tsim.h"
#include "tsim_td.h"
#include "tsim_guest.h"
#include "seam/td.h"
#include "seam/vp_enter.h"
#include "sim/sim_int.h"
#include "sim/snapshot.h"

#define COUNTER_ARG 300

/* ---- Helpers -------------------------------------------------------------- */

static char *tmp_path(const char *what)
{
	char *p = malloc(256);
	assert_non_null(p);
	snprintf(p, 256, "/tmp/tdxsim-test-snapshot-%d-%s", (int)getpid(), what);
	return p;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *p = malloc((size_t)n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return p;
}

static void assert_files_equal(const char *a, const char *b)
{
	size_t la, lb;
	uint8_t *pa = slurp(a, &la), *pb = slurp(b, &lb);
	if (la != lb || memcmp(pa, pb, la)) {
		size_t i = 0;
		while (i < la && i < lb && pa[i] == pb[i])
			i++;
		fail_msg("%s (%zu bytes) and %s (%zu bytes) differ from byte %zu", a, la, b, lb, i);
	}
	assert_true(la > 1000);         /* the trace has events, not only its header */
	free(pa);
	free(pb);
}

/* Hook events: sequence number, LP, leaf, status, clock. */
struct evlog {
	uint64_t v[4096][5];
	unsigned n;
};

static void log_hook(void *user, const tdxsim_seamcall_event *ev)
{
	struct evlog *l = user;
	if (l->n < 4096) {
		uint64_t *e = l->v[l->n++];
		e[0] = ev->seq;
		e[1] = ev->lp;
		e[2] = ev->rax_in;
		e[3] = ev->status;
		e[4] = ev->cycles_start + ev->cycles;
	}
}

/* A copy of the harness's host-side TD for another handle (env2). */
static struct tg_vm *vm_clone(const struct tg_vm *vm, struct tsim_env *env2)
{
	struct tg_vm *c = malloc(sizeof(*c));
	assert_non_null(c);
	memcpy(c, vm, sizeof(*c));
	c->e = env2;
	c->td.e = env2;
	pthread_mutex_init(&c->lock, NULL);
	for (unsigned i = 0; i < c->n_vcpus; i++) {
		c->vcpu[i].vm = c;
		c->vcpu[i].tv = &c->td.vcpu[vm->vcpu[i].tv - vm->td.vcpu];
	}
	return c;
}

/* Environment at point P: module READY, one TD running guest_counter,
 * stopped at its first SYNC (a TDG.VP.VMCALL whose completion is pending). */
struct fx {
	struct tsim_env e;
	struct tg_vm *vm;
};

static void fx_at_p(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	tsim_env_init(&f->e);
	f->vm = td_create(&f->e, 1);
	td_vcpu_add(f->vm, 0);
	td_load_image(f->vm, "guest_counter", COUNTER_ARG);
	td_finalize(f->vm);
	struct ucall uc;
	vcpu_expect_sync(&f->vm->vcpu[0], &uc, 1);
	assert_int_equal(uc.args[1], 0);
}

/* What follows P: the guest runs on, exits, is re-entered until it is done;
 * TDH.MNG.RD and TDH.VP.RD; a fault plan entry fires; the TD is torn down.
 * Consumes vm. */
static void continue_from_p(struct tg_vm *vm)
{
	struct ucall uc;
	vcpu_expect_sync(&vm->vcpu[0], &uc, 2);
	assert_int_equal(uc.args[1], COUNTER_ARG);
	assert_int_equal(uc.args[2], 1);
	vcpu_expect_done(&vm->vcpu[0]);
	(void)td_rd(vm, MD_TD_MRTD);
	tdxsim_fault fl = TDXSIM_FAULT_INIT;
	fl.status = TDX_OPERAND_BUSY;
	fl.leaf = TDH_MNG_RD;
	fl.nth = 1;
	fl.count = 1;
	assert_int_equal(tdxsim_fault_add(vm->e->s, &fl, NULL), TDXSIM_OK);
	struct tdx_module_args a = { .rcx = vm->td.tdr, .rdx = MD_TD_MRTD };
	uint64_t st = seamcall_raw(vm->e->s, vm->td.lp, TDH_MNG_RD, &a);
	assert_int_equal(st & TDX_STATUS_CLASS_MASK, TDX_OPERAND_BUSY);
	assert_int_equal(tdxsim_fault_clear(vm->e->s), TDXSIM_OK);
	td_destroy(vm);
}

static tdxsim *open_like(tdxsim *s)
{
	tdxsim *b = NULL;
	assert_int_equal(tdxsim_open(&s->cfg, &b), TDXSIM_OK);
	tsim_vmxon_all(b);
	return b;
}

/* Save; the snapshot must be byte-identical to want (if given). */
static void *save(tdxsim *s, size_t *len)
{
	void *buf = NULL;
	tdxsim_err err = tdxsim_snapshot_save(s, &buf, len);
	if (err)
		fail_msg("tdxsim_snapshot_save: %s: %s", tdxsim_err_name(err), tdxsim_errmsg(s));
	assert_non_null(buf);
	return buf;
}

static void assert_same_snapshot(const void *a, size_t la, const void *b, size_t lb)
{
	if (la != lb || memcmp(a, b, la)) {
		size_t i = 0;
		const uint8_t *pa = a, *pb = b;
		while (i < la && i < lb && pa[i] == pb[i])
			i++;
		fail_msg("snapshots differ: %zu vs %zu bytes, first difference at byte %zu", la, lb, i);
	}
}

static void restore_ok(tdxsim *s, const void *buf, size_t len)
{
	tdxsim_err err = tdxsim_snapshot_restore(s, buf, len);
	if (err)
		fail_msg("tdxsim_snapshot_restore: %s: %s", tdxsim_err_name(err), tdxsim_errmsg(s));
}

/* Run continue_from_p on handle s (whose state is P), vm's copy, recording
 * the trace at path and the hook events. */
static void record_continuation(tdxsim *s, const struct tg_vm *vm_at_p, const struct tsim_env *env,
				const char *path, struct evlog *log)
{
	struct tsim_env env2 = *env;
	env2.s = s;
	struct tg_vm *vm = vm_clone(vm_at_p, &env2);
	unsigned hook;
	assert_int_equal(tdxsim_hook_seamcall(s, log_hook, log, &hook), TDXSIM_OK);
	assert_int_equal(tdxsim_trace_start(s, path), TDXSIM_OK);
	continue_from_p(vm);
	assert_int_equal(tdxsim_trace_stop(s), TDXSIM_OK);
	assert_int_equal(tdxsim_hook_remove(s, hook), TDXSIM_OK);
}

static void assert_logs_equal(const struct evlog *a, const struct evlog *b)
{
	assert_true(a->n > 10);
	assert_int_equal(a->n, b->n);
	for (unsigned i = 0; i < a->n; i++)
		for (unsigned k = 0; k < 5; k++)
			if (a->v[i][k] != b->v[i][k])
				fail_msg("event %u field %u: 0x%llx vs 0x%llx", i, k,
					 (unsigned long long)a->v[i][k], (unsigned long long)b->v[i][k]);
}

/* ---- Tests ------------------------------------------------------------------ */

/* Trace A (the saved handle going on) = trace B (a fresh handle restored) =
 * trace C (the first handle restored over its later state). */
static void test_snapshot__continuation_identical(void **state)
{
	(void)state;
	struct fx f;
	fx_at_p(&f);
	size_t len;
	void *buf = save(f.e.s, &len);
	struct tg_vm *vm_p = vm_clone(f.vm, &f.e);
	free(f.vm);                     /* the handle's TD lives on in vm_p's copies */
	char *pa = tmp_path("A.trace"), *pb = tmp_path("B.trace"), *pc = tmp_path("C.trace");
	static struct evlog la, lb, lc;
	memset(&la, 0, sizeof(la));
	memset(&lb, 0, sizeof(lb));
	memset(&lc, 0, sizeof(lc));

	record_continuation(f.e.s, vm_p, &f.e, pa, &la);

	tdxsim *b = open_like(f.e.s);
	restore_ok(b, buf, len);
	record_continuation(b, vm_p, &f.e, pb, &lb);

	restore_ok(f.e.s, buf, len);
	record_continuation(f.e.s, vm_p, &f.e, pc, &lc);

	assert_files_equal(pa, pb);
	assert_files_equal(pa, pc);
	assert_logs_equal(&la, &lb);
	assert_logs_equal(&la, &lc);
	/* The sequence numbers go on from the snapshot's, not from 0. */
	assert_true(la.v[0][0] > 20);

	/* Both ended with every page back to the host. */
	assert_int_equal(tdxsim_check_invariants(b, 0), TDXSIM_OK);
	assert_int_equal(tdxsim_check_invariants(f.e.s, 0), TDXSIM_OK);
	unlink(pa);
	unlink(pb);
	unlink(pc);
	free(pa);
	free(pb);
	free(pc);
	pthread_mutex_destroy(&vm_p->lock);
	free(vm_p);
	tdxsim_close(b);
	tdxsim_snapshot_free(buf);
	tsim_env_fini(&f.e);
}

/* save -> restore -> save gives the same bytes, into the same handle and a
 * fresh one; the restored handle's memory, PAMT and clocks are the saved ones. */
static void test_snapshot__roundtrip_memory(void **state)
{
	(void)state;
	struct fx f;
	fx_at_p(&f);
	tdxsim *s = f.e.s;
	size_t l1, l2, l3;
	void *b1 = save(s, &l1);
	/* Changes after the save are undone by the restore: a host page
	 * written, a page made TD-owned, a TD-private line poisoned. */
	uint64_t p1 = tsim_page(&f.e), p2 = tsim_page(&f.e);
	uint8_t junk[4096];
	memset(junk, 0xAA, sizeof(junk));
	assert_int_equal(tdxsim_mem_write(s, p1, 0, junk, sizeof(junk)), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_write(s, p2, f.vm->td.hkid, junk, 100), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_write(s, f.vm->td.tdr + 64, 0, junk, 1), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_poisoned(s, f.vm->td.tdr + 64), 1);
	restore_ok(s, b1, l1);
	assert_int_equal(tdxsim_mem_poisoned(s, f.vm->td.tdr + 64), 0);
	assert_int_equal(tdxsim_mem_read(s, p1, 0, junk, sizeof(junk)), TDXSIM_OK);
	for (size_t i = 0; i < sizeof(junk); i++)
		assert_int_equal(junk[i], 0);
	void *b2 = save(s, &l2);
	assert_same_snapshot(b1, l1, b2, l2);

	tdxsim *b = open_like(s);
	restore_ok(b, b1, l1);
	void *b3 = save(b, &l3);
	assert_same_snapshot(b1, l1, b3, l3);

	/* Spot checks through the API. */
	for (unsigned lp = 0; lp < f.e.n_lps; lp++) {
		uint64_t c1, c2;
		assert_int_equal(tdxsim_lp_cycles(s, lp, &c1), TDXSIM_OK);
		assert_int_equal(tdxsim_lp_cycles(b, lp, &c2), TDXSIM_OK);
		assert_int_equal(c1, c2);
		assert_true(lp || c1 > 0);
	}
	assert_int_equal(tdxsim_module_state(b), TDX_SYS_READY);
	unsigned t1, t2, z1, z2;
	uint64_t o1, o2;
	assert_int_equal(tdxsim_pamt_lookup(s, f.vm->td.tdr, &t1, &o1, &z1), TDXSIM_OK);
	assert_int_equal(tdxsim_pamt_lookup(b, f.vm->td.tdr, &t2, &o2, &z2), TDXSIM_OK);
	assert_int_equal(t1, PT_TDR);
	assert_int_equal(t2, PT_TDR);
	uint8_t m1[4096], m2[4096];
	assert_int_equal(tdxsim_mem_read(s, f.vm->td.tdr, 0, m1, sizeof(m1)), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_read(b, f.vm->td.tdr, 0, m2, sizeof(m2)), TDXSIM_OK);
	assert_memory_equal(m1, m2, sizeof(m1));
	/* A TD-private page: poison and ownership came along. */
	assert_int_equal(tdxsim_mem_poisoned(b, f.vm->td.tdr), 0);
	assert_int_equal(tdxsim_check_invariants(b, 0), TDXSIM_OK);
	tdxsim_stats st1 = { .size = sizeof(st1) }, st2 = { .size = sizeof(st2) };
	assert_int_equal(tdxsim_stats_get(s, &st1), TDXSIM_OK);
	assert_int_equal(tdxsim_stats_get(b, &st2), TDXSIM_OK);
	assert_memory_equal(&st1, &st2, sizeof(st1));

	/* The restored TD runs to its end in the fresh handle. */
	struct tsim_env env2 = f.e;
	env2.s = b;
	continue_from_p(vm_clone(f.vm, &env2));
	tdxsim_close(b);
	tdxsim_snapshot_free(b1);
	tdxsim_snapshot_free(b2);
	tdxsim_snapshot_free(b3);
	continue_from_p(f.vm);
	tsim_env_fini(&f.e);
}

/* A poisoned line and a partly TD-owned page survive the round trip. */
static void test_snapshot__line_state(void **state)
{
	(void)state;
	struct fx f;
	fx_at_p(&f);
	tdxsim *s = f.e.s;
	uint64_t pa = f.vm->td.tdr;             /* TD-owned (TDR) */
	uint8_t junk[64];
	memset(junk, 0x5A, sizeof(junk));
	/* A host write through KeyID 0 poisons the line (line 3 only). */
	assert_int_equal(tdxsim_mem_write(s, pa + 192, 0, junk, 64), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_poisoned(s, pa + 192), 1);
	size_t len;
	void *buf = save(s, &len);
	tdxsim *b = open_like(s);
	restore_ok(b, buf, len);
	for (unsigned l = 0; l < 64; l++)
		assert_int_equal(tdxsim_mem_poisoned(b, pa + l * 64), l == 3);
	uint8_t r1[4096], r2[4096];
	assert_int_equal(tdxsim_mem_read(s, pa, 0, r1, sizeof(r1)), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_read(b, pa, 0, r2, sizeof(r2)), TDXSIM_OK);
	assert_memory_equal(r1, r2, sizeof(r1));
	assert_memory_equal(r1 + 192, junk, 64);        /* no longer owned: raw bytes */
	pthread_mutex_destroy(&f.vm->lock);
	free(f.vm);                                      /* the TD goes with the handles */
	tdxsim_close(b);
	tdxsim_snapshot_free(buf);
	tsim_env_fini(&f.e);
}

/* A snapshot between PAGE.ADD/MR.EXTEND and MR.FINALIZE: the running
 * SHA-384 goes with it, so both handles compute the same MRTD. */
static void test_snapshot__mid_build(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tg_vm *vm = td_create(&e, 1);
	td_vcpu_add(vm, 0);
	td_load_image(vm, "guest_counter", COUNTER_ARG);
	size_t len;
	void *buf = save(e.s, &len);
	tdxsim *b = open_like(e.s);
	restore_ok(b, buf, len);
	struct tsim_env e2 = e;
	e2.s = b;
	struct tg_vm *vm2 = vm_clone(vm, &e2);
	char *pa = tmp_path("mid-A.trace"), *pb = tmp_path("mid-B.trace");
	struct tg_vm *vms[2] = { vm, vm2 };
	const char *paths[2] = { pa, pb };
	uint64_t mrtd[2][6];
	for (int i = 0; i < 2; i++) {
		tdxsim *s = vms[i]->e->s;
		assert_int_equal(tdxsim_trace_start(s, paths[i]), TDXSIM_OK);
		td_finalize(vms[i]);
		for (int k = 0; k < 6; k++)
			mrtd[i][k] = td_rd(vms[i], MD_TD_MRTD + (uint64_t)k);
		struct ucall uc;
		vcpu_expect_sync(&vms[i]->vcpu[0], &uc, 1);
		assert_int_equal(tdxsim_trace_stop(s), TDXSIM_OK);
	}
	assert_memory_equal(mrtd[0], mrtd[1], sizeof(mrtd[0]));
	uint64_t zero[6] = { 0 };
	assert_memory_not_equal(mrtd[0], zero, sizeof(zero));
	assert_files_equal(pa, pb);
	unlink(pa);
	unlink(pb);
	free(pa);
	free(pb);
	continue_from_p(vm2);
	continue_from_p(vm);
	tdxsim_close(b);
	tdxsim_snapshot_free(buf);
	tsim_env_fini(&e);
}

/* CPU state outside TDVPS (debug registers, segment selectors) goes with
 * each vCPU's runner image: the restored guests read back what they set.
 * Two vCPUs on two LPs, both stopped at a SYNC. */
static void test_snapshot__cpu_state(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	struct tg_vm *vm = td_create(&e, 2);
	td_vcpu_add(vm, 0);
	td_vcpu_add(vm, 1);
	td_load_image(vm, "guest_snapshot", 0x345);
	td_finalize(vm);
	struct ucall uc;
	uint64_t base[2];
	for (unsigned v = 0; v < 2; v++) {
		vcpu_expect_sync(&vm->vcpu[v], &uc, 1);
		base[v] = uc.args[1];
		assert_int_equal(base[v], 0x00007F0000345000ULL + v * 0x1000);
	}
	size_t len;
	void *buf = save(e.s, &len);
	tdxsim *b = open_like(e.s);
	restore_ok(b, buf, len);
	struct tsim_env e2 = e;
	e2.s = b;
	struct tg_vm *vms[2] = { vm, vm_clone(vm, &e2) };
	uint64_t args[2][2][4];
	for (int i = 0; i < 2; i++)
		for (unsigned v = 0; v < 2; v++) {
			vcpu_expect_sync(&vms[i]->vcpu[1 - v], &uc, 2);
			memcpy(args[i][1 - v], &uc.args[1], sizeof(args[i][0]));
			vcpu_expect_done(&vms[i]->vcpu[1 - v]);
		}
	for (unsigned v = 0; v < 2; v++) {
		assert_int_equal(args[1][v][0], base[v]);
		assert_int_equal(args[1][v][1], base[v] + 0x1000);
		assert_int_equal(args[1][v][2], (base[v] + 0x2000) ^ (base[v] + 0x3000));
		uint64_t sel = args[0][v][3] & 0xFFFF;
		assert_int_not_equal(sel, 0);
		assert_int_equal(args[1][v][3], sel * 0x0001000100010001ULL);
	}
	assert_memory_equal(args[0], args[1], sizeof(args[0]));
	td_destroy(vms[1]);
	td_destroy(vms[0]);
	tdxsim_close(b);
	tdxsim_snapshot_free(buf);
	tsim_env_fini(&e);
}

/* Files: write, open into a new handle, read over an existing one. */
static void test_snapshot__file(void **state)
{
	(void)state;
	struct fx f;
	fx_at_p(&f);
	char *path = tmp_path("snap");
	assert_int_equal(tdxsim_snapshot_write(f.e.s, path), TDXSIM_OK);
	size_t lm, lf;
	void *mem = save(f.e.s, &lm);
	uint8_t *file = slurp(path, &lf);
	assert_same_snapshot(mem, lm, file, lf);

	tdxsim *b = NULL;
	char msg[256];
	tdxsim_err err = tdxsim_snapshot_open(path, &b, msg, sizeof(msg));
	if (err)
		fail_msg("tdxsim_snapshot_open: %s: %s", tdxsim_err_name(err), msg);
	assert_non_null(b);
	size_t lb;
	void *bb = save(b, &lb);
	assert_same_snapshot(mem, lm, bb, lb);
	tdxsim_close(b);

	tdxsim *c = open_like(f.e.s);
	assert_int_equal(tdxsim_snapshot_read(c, path), TDXSIM_OK);
	size_t lc;
	void *cb = save(c, &lc);
	assert_same_snapshot(mem, lm, cb, lc);

	/* Config read back from the snapshot. */
	tdxsim_config cfg;
	assert_int_equal(tdxsim_snapshot_config(mem, lm, &cfg, msg, sizeof(msg)), TDXSIM_OK);
	assert_string_equal(cfg.platform, f.e.s->cfg.platform);
	assert_int_equal(cfg.mem_bytes, f.e.s->cfg.mem_bytes);

	/* Errors name the file. */
	char *missing = tmp_path("missing");
	assert_int_equal(tdxsim_snapshot_read(c, missing), TDXSIM_ERR_IO);
	assert_non_null(strstr(tdxsim_errmsg(c), missing));
	assert_int_equal(tdxsim_snapshot_open(missing, &b, msg, sizeof(msg)), TDXSIM_ERR_IO);
	assert_null(b);
	assert_non_null(strstr(msg, "cannot open"));
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	fwrite(file, 1, lf / 2, fp);
	fclose(fp);
	assert_int_equal(tdxsim_snapshot_read(c, path), TDXSIM_ERR_ARG);
	assert_non_null(strstr(tdxsim_errmsg(c), path));
	assert_non_null(strstr(tdxsim_errmsg(c), "truncated"));
	assert_int_equal(tdxsim_snapshot_open(path, &b, msg, sizeof(msg)), TDXSIM_ERR_ARG);
	assert_null(b);
	assert_non_null(strstr(msg, "truncated"));

	unlink(path);
	free(path);
	free(missing);
	free(file);
	tdxsim_snapshot_free(mem);
	tdxsim_snapshot_free(bb);
	tdxsim_snapshot_free(cb);
	tdxsim_close(c);
	continue_from_p(f.vm);
	tsim_env_fini(&f.e);
}

#define SNAP_SEC_N_TEST 8
static const char *const tags[SNAP_SEC_N_TEST] = { "CONF", "MACH", "MODU", "TDS ", "VCPU", "RAM ",
						   "META", "END " };

/* Section offsets and payload lengths of a snapshot. */
static void sections(const uint8_t *p, uint64_t off[SNAP_SEC_N_TEST], uint64_t len[SNAP_SEC_N_TEST])
{
	uint64_t o = SNAP_HDR_BYTES;
	for (int i = 0; i < SNAP_SEC_N_TEST; i++) {
		assert_memory_equal(p + o, tags[i], 4);
		off[i] = o;
		memcpy(&len[i], p + o + 8, 8);
		o += SNAP_SEC_HDR_BYTES + len[i];
	}
}

static void rehash_header(uint8_t *p)
{
	unsigned n;
	assert_int_equal(EVP_Digest(p, 64, p + 64, &n, EVP_sha256(), NULL), 1);
}

static void rehash_section(uint8_t *p, uint64_t off, uint64_t len)
{
	unsigned n;
	assert_int_equal(EVP_Digest(p + off + SNAP_SEC_HDR_BYTES, len, p + off + 16, &n, EVP_sha256(),
				    NULL), 1);
}

/* A refused restore: the error, a message containing each want (NULL ends),
 * and the handle as it was (its snapshot unchanged). */
static void expect_refused(tdxsim *s, const void *bad, size_t len, tdxsim_err err,
			   const void *good, size_t glen, ...)
{
	uint8_t *copy = malloc(len ? len : 1);      /* exact size: ASan sees over-reads */
	assert_non_null(copy);
	memcpy(copy, bad, len);
	tdxsim_err got = tdxsim_snapshot_restore(s, copy, len);
	free(copy);
	const char *msg = tdxsim_errmsg(s);
	if (got != err)
		fail_msg("restore returned %s, expected %s (%s)", tdxsim_err_name(got),
			 tdxsim_err_name(err), msg);
	va_list ap;
	va_start(ap, glen);
	for (const char *w; (w = va_arg(ap, const char *));)
		if (!strstr(msg, w))
			fail_msg("message \"%s\" lacks \"%s\"", msg, w);
	va_end(ap);
	if (good) {
		size_t l;
		void *now = save(s, &l);
		assert_same_snapshot(good, glen, now, l);
		tdxsim_snapshot_free(now);
	}
}

static void test_snapshot__corrupted(void **state)
{
	(void)state;
	struct fx f;
	fx_at_p(&f);
	tdxsim *s = f.e.s;
	size_t len;
	uint8_t *good = save(s, &len);
	uint8_t *bad = malloc(len);
	assert_non_null(bad);
	uint64_t off[SNAP_SEC_N_TEST], sl[SNAP_SEC_N_TEST];
	sections(good, off, sl);
	char where[64];
	/* A flipped byte in each section's payload (middle) and header. */
	for (int i = 0; i < SNAP_SEC_N_TEST; i++) {
		uint64_t at[2] = { off[i] + SNAP_SEC_HDR_BYTES + sl[i] / 2, off[i] + 20 };
		for (int k = 0; k < 2; k++) {
			if (k == 0 && !sl[i])
				continue;
			memcpy(bad, good, len);
			bad[at[k]] ^= 0x10;
			snprintf(where, sizeof(where), "offset 0x%llx", (unsigned long long)off[i]);
			char tag[8];
			snprintf(tag, sizeof(tag), "%.4s", tags[i]);
			expect_refused(s, bad, len, TDXSIM_ERR_ARG, good, len, "section", tag, where,
				       "checksum mismatch", NULL);
		}
	}
	/* The file header: every byte of its first 64. */
	for (int b = 0; b < 64; b += 7) {
		memcpy(bad, good, len);
		bad[b] ^= 0x01;
		expect_refused(s, bad, len, TDXSIM_ERR_ARG, NULL, 0, "snapshot", NULL);
	}
	memcpy(bad, good, len);
	bad[70] ^= 1;                    /* the header's checksum itself */
	expect_refused(s, bad, len, TDXSIM_ERR_ARG, good, len, "header checksum", NULL);
	/* A section tag changed (checksums do not cover it). */
	memcpy(bad, good, len);
	memcpy(bad + off[3], "XXXX", 4);
	snprintf(where, sizeof(where), "offset 0x%llx", (unsigned long long)off[3]);
	expect_refused(s, bad, len, TDXSIM_ERR_ARG, good, len, "expected section 3", "TDS",
		       where, NULL);
	/* Consistent checksums, bad contents: a RAM page out of memory. */
	memcpy(bad, good, len);
	uint64_t huge = ~0ULL >> 1;
	memcpy(bad + off[5] + SNAP_SEC_HDR_BYTES + 8, &huge, 8);
	rehash_section(bad, off[5], sl[5]);
	expect_refused(s, bad, len, TDXSIM_ERR_ARG, good, len, "section RAM", "outside memory",
		       NULL);
	/* The handle still works: a restore of the good one, and a SEAMCALL. */
	restore_ok(s, good, len);
	continue_from_p(f.vm);
	free(bad);
	tdxsim_snapshot_free(good);
	tsim_env_fini(&f.e);
}

static void test_snapshot__truncated(void **state)
{
	(void)state;
	struct fx f;
	fx_at_p(&f);
	tdxsim *s = f.e.s;
	size_t len;
	uint8_t *good = save(s, &len);
	/* Every truncation point in a coarse sweep, plus the edges. */
	size_t pts[] = { 0, 1, 7, 8, 63, 95, 96, 97, 143, 144, len - 4097, len - 48, len - 1 };
	for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++)
		expect_refused(s, good, pts[i], TDXSIM_ERR_ARG, NULL, 0, "snapshot", NULL);
	for (size_t n = 97; n < len; n += len / 97 + 1)
		expect_refused(s, good, n, TDXSIM_ERR_ARG, NULL, 0, "truncated", NULL);
	expect_refused(s, good, len - 1, TDXSIM_ERR_ARG, good, len, "truncated", NULL);
	/* Trailing data. */
	uint8_t *longer = malloc(len + 1);
	assert_non_null(longer);
	memcpy(longer, good, len);
	longer[len] = 0;
	expect_refused(s, longer, len + 1, TDXSIM_ERR_ARG, good, len, "trailing data", NULL);
	free(longer);
	assert_int_equal(tdxsim_snapshot_restore(s, NULL, 10), TDXSIM_ERR_ARG);
	restore_ok(s, good, len);
	continue_from_p(f.vm);
	tdxsim_snapshot_free(good);
	tsim_env_fini(&f.e);
}

static void test_snapshot__foreign(void **state)
{
	(void)state;
	struct fx f;
	fx_at_p(&f);
	tdxsim *s = f.e.s;
	size_t len;
	uint8_t *good = save(s, &len);
	uint8_t *bad = malloc(len);
	assert_non_null(bad);
	uint64_t off[SNAP_SEC_N_TEST], sl[SNAP_SEC_N_TEST];
	sections(good, off, sl);

	memcpy(bad, good, len);
	memcpy(bad, "NOTSNAP", 8);
	expect_refused(s, bad, len, TDXSIM_ERR_ARG, good, len, "not a tdxsim snapshot", NULL);
	/* Format version 2, header checksum made consistent. */
	memcpy(bad, good, len);
	uint32_t v = 2;
	memcpy(bad + 8, &v, 4);
	rehash_header(bad);
	expect_refused(s, bad, len, TDXSIM_ERR_VERSION, good, len, "format version 2", NULL);
	/* Another tdxsim version. */
	memcpy(bad, good, len);
	v = TDXSIM_VERSION_HEX + 1;
	memcpy(bad + 16, &v, 4);
	rehash_header(bad);
	expect_refused(s, bad, len, TDXSIM_ERR_VERSION, good, len, "written by tdxsim", NULL);
	/* Another build: struct seam_td of another size (CONF sz_td). */
	memcpy(bad, good, len);
	uint8_t *conf = bad + off[0] + SNAP_SEC_HDR_BYTES;
	uint32_t sz = (uint32_t)sizeof(struct seam_td) + 8;
	size_t at = 0;
	/* Find sz_td: the first u32 equal to sizeof(struct seam_td) after the
	 * shape fields (the layout block starts with sizeof(struct sim_lp)). */
	for (size_t k = 0; k + 4 <= sl[0]; k += 4) {
		uint32_t x;
		memcpy(&x, conf + k, 4);
		if (x == sizeof(struct seam_td)) {
			at = k;
			break;
		}
	}
	assert_true(at > 0);
	memcpy(conf + at, &sz, 4);
	rehash_section(bad, off[0], sl[0]);
	expect_refused(s, bad, len, TDXSIM_ERR_VERSION, good, len, "different tdxsim build",
		       "struct seam_td", NULL);

	/* A handle of another configuration: refused, and it stays usable. */
	tdxsim_config cfg = s->cfg;
	cfg.seed ^= 1;
	tdxsim *o = NULL;
	assert_int_equal(tdxsim_open(&cfg, &o), TDXSIM_OK);
	expect_refused(o, good, len, TDXSIM_ERR_STATE, NULL, 0, "configuration differs", "seed",
		       NULL);
	tdxsim_close(o);
	cfg = s->cfg;
	cfg.lps_per_package = 2;
	assert_int_equal(tdxsim_open(&cfg, &o), TDXSIM_OK);
	size_t ol;
	void *before = save(o, &ol);
	expect_refused(o, good, len, TDXSIM_ERR_STATE, before, ol, "configuration differs",
		       "2 packages x 4 LPs in the snapshot, 2 x 2 here", NULL);
	tsim_vmxon_all(o);
	tsim_sys_init(o);                       /* usable */
	tdxsim_snapshot_free(before);
	tdxsim_close(o);
	cfg = s->cfg;
	cfg.platform = "gnr";
	assert_int_equal(tdxsim_open(&cfg, &o), TDXSIM_OK);
	expect_refused(o, good, len, TDXSIM_ERR_STATE, NULL, 0, "platform spr in the snapshot, gnr",
		       NULL);
	tdxsim_close(o);

	/* A SEAMCALL in flight (an LP marked busy): refused both ways. */
	atomic_store(&s->lps[1].seam.busy, 1);
	void *p = NULL;
	size_t pl = 0;
	assert_int_equal(tdxsim_snapshot_save(s, &p, &pl), TDXSIM_ERR_STATE);
	assert_non_null(strstr(tdxsim_errmsg(s), "in flight"));
	assert_int_equal(tdxsim_snapshot_restore(s, good, len), TDXSIM_ERR_STATE);
	atomic_store(&s->lps[1].seam.busy, 0);

	free(bad);
	continue_from_p(f.vm);
	tdxsim_snapshot_free(good);
	tsim_env_fini(&f.e);
}

/* Forged snapshots: contents changed and the section's checksum recomputed
 * (as anyone can), so only the semantic checks stand between them and the
 * module. Each is refused naming the field, the handle left as it was. */
struct forge {
	tdxsim *s;
	const uint8_t *good;
	size_t len;
	uint8_t *bad;
	uint64_t off[SNAP_SEC_N_TEST], sl[SNAP_SEC_N_TEST];
};

/* The payload of section i of a fresh copy of the good snapshot. */
static uint8_t *forge_begin(struct forge *f, int i)
{
	memcpy(f->bad, f->good, f->len);
	return f->bad + f->off[i] + SNAP_SEC_HDR_BYTES;
}

static void forge_expect(struct forge *f, int i, const char *w1, const char *w2)
{
	rehash_section(f->bad, f->off[i], f->sl[i]);
	char sec[32];
	snprintf(sec, sizeof(sec), "section %.4s", tags[i]);
	if (sec[strlen(sec) - 1] == ' ')
		sec[strlen(sec) - 1] = 0;
	expect_refused(f->s, f->bad, f->len, TDXSIM_ERR_ARG, f->good, f->len, sec, w1, w2, NULL);
}

static void test_snapshot__forged(void **state)
{
	(void)state;
	struct fx fx;
	fx_at_p(&fx);
	struct forge f = { .s = fx.e.s };
	tdxsim *s = f.s;
	f.good = save(s, &f.len);
	f.bad = malloc(f.len);
	assert_non_null(f.bad);
	sections(f.good, f.off, f.sl);
	uint8_t *p;

	/* MODU: TDMR 0's 4K PAMT moved to the last page of memory (inside
	 * RAM, but far too small for the TDMR: the module would index past it). */
	struct seam_module m;
	p = forge_begin(&f, 2);
	memcpy(&m, p, sizeof(m));
	assert_true(m.n_tdmrs > 0);
	m.tdmr[0].pamt_base[TDX_PS_4K] = s->mem.size - 4096;
	m.tdmr[0].pamt_size[TDX_PS_4K] = 4096;
	memcpy(p, &m, sizeof(m));
	forge_expect(&f, 2, "TDMR 0: PAMT 4K", "pamt_size");
	/* ... a PAMT base with KeyID bits. */
	p = forge_begin(&f, 2);
	memcpy(&m, p, sizeof(m));
	m.tdmr[0].pamt_base[TDX_PS_2M] |= 1ULL << s->keyid_shift;
	memcpy(p, &m, sizeof(m));
	forge_expect(&f, 2, "TDMR 0: PAMT 2M", "outside memory");
	/* ... the global lock held, an unknown module state, a bad KOT state. */
	p = forge_begin(&f, 2);
	memcpy(&m, p, sizeof(m));
	atomic_store(&m.global_lock.v, SEAM_LOCK_EX);
	memcpy(p, &m, sizeof(m));
	forge_expect(&f, 2, "global_lock 0x1", "held");
	p = forge_begin(&f, 2);
	memcpy(&m, p, sizeof(m));
	atomic_store(&m.state, 9);
	memcpy(p, &m, sizeof(m));
	forge_expect(&f, 2, "module state 9", NULL);
	p = forge_begin(&f, 2);
	p[sizeof(m) + s->n_pkgs + offsetof(struct seam_kot_entry, state)] = 7;
	forge_expect(&f, 2, "KOT entry 0: state 7", NULL);

	/* TDS: the first TD's fields. */
	struct seam_td td;
	const size_t td_at = 4;
	p = forge_begin(&f, 3);
	memcpy(&td, p + td_at, sizeof(td));
	assert_int_equal(td.ept_levels, 4);
	td.ept_levels = 7;
	memcpy(p + td_at, &td, sizeof(td));
	forge_expect(&f, 3, "TD 0", "ept_levels 7");
	p = forge_begin(&f, 3);
	memcpy(&td, p + td_at, sizeof(td));
	assert_true(td.num_tdcx > 0);
	td.tdcx_pa[0] = s->mem.size;            /* the first page past RAM */
	memcpy(p + td_at, &td, sizeof(td));
	forge_expect(&f, 3, "tdcx_pa[0]", "not a page address in RAM");
	p = forge_begin(&f, 3);
	memcpy(&td, p + td_at, sizeof(td));
	atomic_store(&td.sept_lock.v, SEAM_LOCK_SH);
	memcpy(p + td_at, &td, sizeof(td));
	forge_expect(&f, 3, "sept_lock word 0x2 held", NULL);
	p = forge_begin(&f, 3);
	memcpy(&td, p + td_at, sizeof(td));
	td.sept_locked[3] = 0x5000;
	memcpy(p + td_at, &td, sizeof(td));
	forge_expect(&f, 3, "sept_locked[3]", NULL);
	p = forge_begin(&f, 3);
	memcpy(&td, p + td_at, sizeof(td));
	td.hkid = s->n_keyslots;
	memcpy(p + td_at, &td, sizeof(td));
	forge_expect(&f, 3, "hkid", "out of range");

	/* VCPU: the first vCPU's fields and its runner image. */
	struct seam_vcpu v;
	const size_t v_at = 4 + 8;
	p = forge_begin(&f, 4);
	memcpy(&v, p + v_at, sizeof(v));
	atomic_store(&v.assoc_lp, 99);
	memcpy(p + v_at, &v, sizeof(v));
	forge_expect(&f, 4, "vCPU 0", "assoc_lp 99");
	p = forge_begin(&f, 4);
	memcpy(&v, p + v_at, sizeof(v));
	v.vcpu_index = 1000;
	memcpy(p + v_at, &v, sizeof(v));
	forge_expect(&f, 4, "vcpu_index 1000", NULL);
	p = forge_begin(&f, 4);
	memcpy(&v, p + v_at, sizeof(v));
	v.tdcx_pa[2] = 0x1234;
	memcpy(p + v_at, &v, sizeof(v));
	forge_expect(&f, 4, "tdcx_pa[2] 0x1234", NULL);
	p = forge_begin(&f, 4);
	uint32_t has;
	memcpy(&has, p + v_at + sizeof(v), 4);
	assert_int_equal(has, 1);
	struct seam_run_image img;
	memcpy(&img, p + v_at + sizeof(v) + 4, sizeof(img));
	img.pend_vec = 300;
	memcpy(p + v_at + sizeof(v) + 4, &img, sizeof(img));
	forge_expect(&f, 4, "pend_vec 300", NULL);
	/* The image carries the CPU state from RAX on, Unicorn's context header
	 * (however long) zeroed: TDVPS's RAX, RCX, RDX, RBX (not all zero here)
	 * appear in order right after the zeros. */
	p = f.bad + f.off[4] + SNAP_SEC_HDR_BYTES;
	memcpy(&v, p + v_at, sizeof(v));
	assert_true(v.g.gpr[0] | v.g.gpr[1] | v.g.gpr[2] | v.g.gpr[3]);
	const uint8_t *ctx = p + v_at + sizeof(v) + 4 + sizeof(img);
	size_t hdr = 0;
	for (size_t o = 4; o <= 64 && !hdr; o += 4)
		if (!memcmp(ctx + o, v.g.gpr, 4 * 8))
			hdr = o;
	assert_true(hdr > 0);
	for (size_t o = 0; o < hdr; o++)
		assert_int_equal(ctx[o], 0);

	/* MACH: LP 1's posted interrupt and timer vector. */
	const size_t lp_at = 8 + 8 + 4 + sizeof(s->faults) + sizeof(struct sim_lp);
	struct sim_lp lp;
	p = forge_begin(&f, 1);
	memcpy(&lp, p + lp_at, sizeof(lp));
	atomic_store(&lp.seam.intr, 0x1234);
	memcpy(p + lp_at, &lp, sizeof(lp));
	forge_expect(&f, 1, "LP 1: interrupt 0x1234", NULL);
	p = forge_begin(&f, 1);
	memcpy(&lp, p + lp_at, sizeof(lp));
	lp.intr_at_vec = 256;
	memcpy(p + lp_at, &lp, sizeof(lp));
	forge_expect(&f, 1, "intr_at_vec 256", NULL);

	/* CONF of another size: a layout mismatch (VERSION), for restore and
	 * tdxsim_snapshot_config alike. */
	size_t bl = f.len + 8;
	uint8_t *big = calloc(1, bl);
	assert_non_null(big);
	uint64_t cend = f.off[0] + SNAP_SEC_HDR_BYTES + f.sl[0], csl = f.sl[0] + 8, total = bl;
	memcpy(big, f.good, cend);
	memcpy(big + cend + 8, f.good + cend, f.len - cend);
	memcpy(big + f.off[0] + 8, &csl, 8);
	rehash_section(big, f.off[0], csl);
	memcpy(big + 24, &total, 8);
	rehash_header(big);
	expect_refused(s, big, bl, TDXSIM_ERR_VERSION, f.good, f.len, "section CONF", "bytes, this "
		       "build's is", NULL);
	tdxsim_config cfg;
	char msg[256];
	assert_int_equal(tdxsim_snapshot_config(big, bl, &cfg, msg, sizeof(msg)), TDXSIM_ERR_VERSION);
	free(big);

	/* Untouched, it restores; the handle goes on. */
	restore_ok(s, f.good, f.len);
	continue_from_p(fx.vm);
	free(f.bad);
	tdxsim_snapshot_free((void *)f.good);
	tsim_env_fini(&fx.e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot__continuation_identical),
		cmocka_unit_test(test_snapshot__roundtrip_memory),
		cmocka_unit_test(test_snapshot__line_state),
		cmocka_unit_test(test_snapshot__mid_build),
		cmocka_unit_test(test_snapshot__cpu_state),
		cmocka_unit_test(test_snapshot__file),
		cmocka_unit_test(test_snapshot__corrupted),
		cmocka_unit_test(test_snapshot__truncated),
		cmocka_unit_test(test_snapshot__foreign),
		cmocka_unit_test(test_snapshot__forged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
