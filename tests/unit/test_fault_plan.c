/*
 * The fault plan's configuration surface: plan strings (tdxsim_fault_parse,
 * TDXSIM_FAULTS and TDXSIM_FAULT_SEED at tdxsim_open), per-call counting,
 * the fault seed's own per-LP stream, and the injected flag on events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>

#include "tsim.h"
#include "tsim_td.h"
#include "sim/sim_int.h"

static uint64_t lp_init(tdxsim *s, unsigned lp)
{
	struct tdx_module_args a = { 0 };
	return seamcall_raw(s, lp, TDH_SYS_LP_INIT, &a);
}

static unsigned n_faults(tdxsim *s)
{
	unsigned n = 0;
	uint64_t c;
	while (tdxsim_fault_fired(s, n, &c) == TDXSIM_OK)
		n++;
	return n;
}

/* A plan string adds its entries in order, with the fields it names. */
static void test_fault_plan__parse_good(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_default();
	unsigned first = 99;
	assert_int_equal(tdxsim_fault_parse(s, " leaf=TDH.MEM.PAGE.AUG, status=TDX_OPERAND_BUSY,nth=3,count=2 ;"
					    "status=rnd_no_entropy,p=0.25,lp=3;;"
					    "leaf=36,status=OPERAND_BUSY,nth=1,per=call;"
					    "leaf=tdh_phymem_cache_wb,lp=any,status=INTERRUPTED_RESUMABLE,nth=0x2;"
					    "leaf=*,status=TDX_FLUSHVP_NOT_DONE,nth=1;"
					    "leaf=TDH.MEM.TRACK,status=PREVIOUS_TLB_EPOCH_BUSY,nth=1;"
					    "leaf=TDH.MEM.PAGE.REMOVE,status=TLB_TRACKING_NOT_DONE,nth=1;"
					    "leaf=TDH.MNG.KEY.FREEID,status=WBCACHE_NOT_COMPLETE,nth=1,per=point",
					    &first), TDXSIM_OK);
	assert_int_equal(first, 0);
	assert_int_equal(n_faults(s), 8);
	const struct sim_fault *f = s->faults;
	assert_int_equal(f[0].f.leaf, TDH_MEM_PAGE_AUG);
	assert_int_equal(f[0].f.status, TDX_OPERAND_BUSY);
	assert_int_equal(f[0].f.nth, 3);
	assert_int_equal(f[0].f.count, 2);
	assert_int_equal(f[0].f.lp, -1);
	assert_int_equal(f[0].f.flags, 0);
	assert_int_equal(f[1].f.leaf, -1);
	assert_int_equal(f[1].f.status, TDX_RND_NO_ENTROPY);
	assert_int_equal(f[1].f.lp, 3);
	assert_true(f[1].f.probability == 0.25);
	assert_int_equal(f[1].f.nth, 0);
	assert_int_equal(f[2].f.leaf, TDH_SYS_TDMR_INIT);
	assert_int_equal(f[2].f.flags, TDXSIM_FAULT_PER_CALL);
	assert_int_equal(f[3].f.leaf, TDH_PHYMEM_CACHE_WB);
	assert_int_equal(f[3].f.nth, 2);
	assert_int_equal(f[4].f.leaf, -1);
	assert_int_equal(f[4].f.status, TDX_FLUSHVP_NOT_DONE);
	assert_int_equal(f[5].f.status, TDX_PREVIOUS_TLB_EPOCH_BUSY);
	assert_int_equal(f[6].f.status, TDX_TLB_TRACKING_NOT_DONE);
	assert_int_equal(f[7].f.status, TDX_WBCACHE_NOT_COMPLETE);
	/* A second plan appends: its first id follows. */
	assert_int_equal(tdxsim_fault_parse(s, "status=SYS_BUSY,leaf=TDH.SYS.LP.INIT,nth=1", &first), TDXSIM_OK);
	assert_int_equal(first, 8);
	tdxsim_close(s);
}

/* Each bad plan is refused whole, and the message names the entry and token. */
static void test_fault_plan__parse_bad(void **state)
{
	(void)state;
	static const struct { const char *plan, *msg; } bad[] = {
		{ "leaf=TDH.MEM.PAGE.AUGX,status=OPERAND_BUSY,nth=1", "entry 2 (\"leaf=TDH.MEM.PAGE.AUGX,status=OPERAND_BUSY,nth=1\"): leaf 'TDH.MEM.PAGE.AUGX': no such SEAMCALL leaf" },
		{ "status=OPERAND_BUSY,nth=1;status=OPERAND_INVALID,nth=1", "entry 3 (\"status=OPERAND_INVALID,nth=1\"): status 'OPERAND_INVALID' is not injectable" },
		{ "status=OPERAND_BUSY,nth=1,colour=red", "unknown key 'colour'" },
		{ "status=OPERAND_BUSY,nth", "'nth' is not key=value" },
		{ "status=OPERAND_BUSY,nth=", "nth= has no value" },
		{ "status=OPERAND_BUSY,nth=0", "nth '0': not a positive number" },
		{ "status=OPERAND_BUSY,nth=3x", "nth '3x': not a positive number" },
		{ "status=OPERAND_BUSY,nth=-1", "nth '-1': not a positive number" },
		{ "status=OPERAND_BUSY,nth=1,count=many", "count 'many': not a non-negative number" },
		{ "status=OPERAND_BUSY,p=0", "p '0': not a probability in (0, 1]" },
		{ "status=OPERAND_BUSY,p=1.5", "p '1.5': not a probability in (0, 1]" },
		{ "status=OPERAND_BUSY,p=half", "p 'half': not a probability in (0, 1]" },
		{ "status=OPERAND_BUSY,nth=1,p=0.5", "give nth= or p=, not both" },
		{ "status=OPERAND_BUSY", "give nth= (with count=) or p=" },
		{ "leaf=TDH.MEM.PAGE.AUG,nth=1", "no status= given" },
		{ "status=OPERAND_BUSY,nth=1,lp=8", "lp '8': not an LP number below 8" },
		{ "status=OPERAND_BUSY,nth=1,per=week", "per 'week': use per=call or per=point" },
		{ "status=OPERAND_BUSY,,nth=1", "empty field" },
		{ "leaf=46,status=OPERAND_BUSY,nth=1", "leaf '46': no such SEAMCALL leaf" },
		{ "leaf=TDH.SYS.RD,status=SYS_BUSY,nth=1", "TDH.SYS.RD never returns TDX_SYS_BUSY on a real module (it takes no global lock)" },
		{ "leaf=TDH.MEM.TRACK,status=FLUSHVP_NOT_DONE,nth=1", "TDH.MEM.TRACK never returns TDX_FLUSHVP_NOT_DONE" },
		{ "leaf=TDH.MEM.PAGE.AUG,status=INTERRUPTED_RESUMABLE,nth=1", "(it is not interruptible)" },
		{ "leaf=TDH.MNG.KEY.CONFIG,status=WBCACHE_NOT_COMPLETE,nth=1", "TDH.MNG.KEY.CONFIG never returns TDX_WBCACHE_NOT_COMPLETE" },
	};
	tdxsim *s = tsim_create_default();
	assert_int_equal(tdxsim_fault_parse(s, "status=SYS_BUSY,leaf=TDH.SYS.LP.INIT,nth=1", NULL), TDXSIM_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* A good entry first: nothing of a bad plan is added. */
		char plan[256];
		snprintf(plan, sizeof(plan), "status=RND_NO_ENTROPY,nth=1;%s", bad[i].plan);
		tdxsim_err err = tdxsim_fault_parse(s, plan, NULL);
		if (err != TDXSIM_ERR_ARG)
			fail_msg("plan \"%s\": got %d", plan, err);
		const char *m = tdxsim_errmsg(s);
		if (!strstr(m, bad[i].msg) || strncmp(m, "fault plan: entry ", 18))
			fail_msg("plan \"%s\": message \"%s\" lacks \"%s\"", plan, m, bad[i].msg);
		assert_int_equal(n_faults(s), 1);
	}
	/* Too many: 32 at most in all. */
	char big[32 * 40] = "";
	for (int i = 0; i < 32; i++)
		strcat(big, "status=SYS_BUSY,nth=1;");
	assert_int_equal(tdxsim_fault_parse(s, big, NULL), TDXSIM_ERR_ARG);
	assert_non_null(strstr(tdxsim_errmsg(s), "entry 32 (\"status=SYS_BUSY,nth=1\"): more than 32 faults"));
	assert_int_equal(n_faults(s), 1);
	assert_int_equal(tdxsim_fault_parse(s, NULL, NULL), TDXSIM_ERR_ARG);
	assert_int_equal(tdxsim_fault_parse(NULL, "status=SYS_BUSY,nth=1", NULL), TDXSIM_ERR_HANDLE);
	tdxsim_close(s);
}

/* TDXSIM_FAULTS at tdxsim_open: a good plan is in force from the first
 * SEAMCALL; a bad one makes tdxsim_open fail. */
static void test_fault_plan__env(void **state)
{
	(void)state;
	setenv("TDXSIM_FAULTS", "leaf=TDH.SYS.LP.INIT,status=SYS_BUSY,nth=2,count=1", 1);
	tdxsim *s = tsim_create_vmxon();
	unsetenv("TDXSIM_FAULTS");
	assert_int_equal(n_faults(s), 1);
	tsim_sys_init(s);
	assert_tdx_status(TDX_SUCCESS, lp_init(s, 0));
	assert_tdx_status(TDX_SYS_BUSY, lp_init(s, 1));
	assert_tdx_status(TDX_SUCCESS, lp_init(s, 1));
	assert_int_equal(tsim_fault_fired(s, 0), 1);
	tdxsim_close(s);

	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	tdxsim *bad = NULL;
	setenv("TDXSIM_FAULTS", "leaf=TDH.SYS.LP.INIT,status=SYS_BUSY,nth=2;leaf=NOPE,status=SYS_BUSY,nth=1", 1);
	assert_int_equal(tdxsim_open(&cfg, &bad), TDXSIM_ERR_ARG);
	assert_null(bad);
	unsetenv("TDXSIM_FAULTS");
	setenv("TDXSIM_FAULT_SEED", "12ab", 1);
	assert_int_equal(tdxsim_open(&cfg, &bad), TDXSIM_ERR_ARG);
	assert_null(bad);
	setenv("TDXSIM_FAULT_SEED", "0x1234", 1);
	assert_int_equal(tdxsim_open(&cfg, &bad), TDXSIM_OK);
	unsetenv("TDXSIM_FAULT_SEED");
	assert_int_equal(bad->fault_seed, 0x1234);
	tdxsim_close(bad);
}

/* LP.INIT on LP 0 under a 50% SYS_BUSY fault, 64 calls: bit i = call i busy. */
static uint64_t busy_bits(tdxsim *s)
{
	uint64_t bits = 0;
	for (unsigned i = 0; i < 64; i++)
		if (lp_init(s, 0) == TDX_SYS_BUSY)
			bits |= 1ULL << i;
	return bits;
}

/* The probability stream: a function of the fault seed alone, per LP, and
 * apart from the module's own random numbers. */
static void test_fault_plan__seed(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	assert_int_equal(tdxsim_fault_parse(s, "leaf=TDH.SYS.LP.INIT,status=SYS_BUSY,p=0.5", NULL), TDXSIM_OK);
	uint64_t rng0 = s->lps[0].rng;
	assert_int_equal(tdxsim_fault_seed(s, 7), TDXSIM_OK);
	uint64_t a = busy_bits(s);
	assert_int_equal(tdxsim_fault_seed(s, 7), TDXSIM_OK);
	uint64_t b = busy_bits(s);
	assert_int_equal(tdxsim_fault_seed(s, 8), TDXSIM_OK);
	uint64_t c = busy_bits(s);
	print_message("seed 7: %016llx, seed 8: %016llx\n", (unsigned long long)a, (unsigned long long)c);
	assert_int_equal(a, b);
	assert_true(a != c);
	assert_true(__builtin_popcountll(a) >= 16 && __builtin_popcountll(a) <= 48);
	/* Draws on other LPs leave LP 0's stream alone. */
	assert_int_equal(tdxsim_fault_seed(s, 7), TDXSIM_OK);
	for (unsigned i = 0; i < 50; i++)
		lp_init(s, 1 + i % 7);
	assert_int_equal(busy_bits(s), a);
	/* The module's stream was not used by the plan. */
	assert_int_equal(s->lps[0].rng, rng0);
	tdxsim_close(s);
}

/* Per-call counting: a call with several points counts once. A successful
 * TDH.MNG.KEY.CONFIG passes two OPERAND_BUSY points: the TDR (+RCX), then
 * the key tables (+KET). */
static uint64_t key_config(struct tsim_td *td, unsigned pkg)
{
	struct tdx_module_args a = { .rcx = td->tdr };
	return seamcall_raw(td->e->s, tsim_pkg_first_lp(td->e->s, pkg), TDH_MNG_KEY_CONFIG, &a);
}

static void per_call_case(uint32_t flags, uint64_t first, uint64_t second)
{
	struct tsim_env e;
	tsim_env_init(&e);
	struct tsim_td td;
	tsim_td_create_nokey(&e, &td);
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.status = TDX_OPERAND_BUSY;
	f.leaf = TDH_MNG_KEY_CONFIG;
	f.nth = 2;
	f.count = 1;
	f.flags = flags;
	unsigned id;
	assert_int_equal(tdxsim_fault_add(e.s, &f, &id), TDXSIM_OK);
	assert_tdx_status(first, key_config(&td, 0));
	assert_tdx_status(second, key_config(&td, first ? 0 : 1));
	assert_int_equal(tsim_fault_fired(e.s, id), 1);
	tsim_env_fini(&e);
}

static void test_fault_plan__per_call(void **state)
{
	(void)state;
	/* Per point: the first call's second point (the key tables). */
	per_call_case(0, tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_KET), TDX_SUCCESS);
	/* Per call: the second call, at its first point (the TDR). */
	per_call_case(TDXSIM_FAULT_PER_CALL, TDX_SUCCESS,
		      tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_RCX));
	tdxsim *s = tsim_create_default();
	tdxsim_fault f = TDXSIM_FAULT_INIT;
	f.status = TDX_OPERAND_BUSY;
	f.nth = 1;
	f.flags = 2;
	assert_int_equal(tdxsim_fault_add(s, &f, NULL), TDXSIM_ERR_ARG);
	assert_non_null(strstr(tdxsim_errmsg(s), "only TDXSIM_FAULT_PER_CALL"));
	tdxsim_close(s);
}

/* Every injected status is marked on its event; nothing else is. */
struct ev_log {
	unsigned n, injected;
	uint64_t inj_status[16];
	unsigned marked_wrong;
};

static void log_hook(void *user, const tdxsim_seamcall_event *ev)
{
	struct ev_log *l = user;
	l->n++;
	if (ev->injected) {
		if (l->injected < 16)
			l->inj_status[l->injected] = ev->status;
		l->injected++;
	} else if (ev->status == TDX_SYS_BUSY) {
		l->marked_wrong++;
	}
}

static void test_fault_plan__event_marked(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct ev_log l = { 0 };
	assert_int_equal(tdxsim_hook_seamcall(s, log_hook, &l, NULL), TDXSIM_OK);
	assert_int_equal(tdxsim_fault_parse(s, "leaf=TDH.SYS.INIT,status=RND_NO_ENTROPY,nth=1,count=1;"
					    "leaf=TDH.SYS.LP.INIT,status=SYS_BUSY,nth=2,count=2", NULL), TDXSIM_OK);
	struct tdx_module_args a = { 0 };
	assert_tdx_status(TDX_RND_NO_ENTROPY, seamcall_raw(s, 0, TDH_SYS_INIT, &a));
	a = (struct tdx_module_args){ 0 };
	assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, 0, TDH_SYS_INIT, &a));
	assert_tdx_status(TDX_SUCCESS, lp_init(s, 0));
	assert_tdx_status(TDX_SYS_BUSY, lp_init(s, 1));
	assert_tdx_status(TDX_SYS_BUSY, lp_init(s, 1));
	assert_tdx_status(TDX_SUCCESS, lp_init(s, 1));
	assert_int_equal(l.n, 6);
	assert_int_equal(l.injected, 3);
	assert_int_equal(l.inj_status[0], TDX_RND_NO_ENTROPY);
	assert_int_equal(l.inj_status[1], TDX_SYS_BUSY);
	assert_int_equal(l.inj_status[2], TDX_SYS_BUSY);
	tdxsim_stats st = { .size = sizeof(st) };
	assert_int_equal(tdxsim_stats_get(s, &st), TDXSIM_OK);
	assert_int_equal(st.injected, 3);
	tdxsim_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fault_plan__parse_good),
		cmocka_unit_test(test_fault_plan__parse_bad),
		cmocka_unit_test(test_fault_plan__env),
		cmocka_unit_test(test_fault_plan__seed),
		cmocka_unit_test(test_fault_plan__per_call),
		cmocka_unit_test(test_fault_plan__event_marked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
