/*
 * TD-scope metadata (seam/metadata_td.h) from both sides: the host masks that
 * TDH.MNG.RD/WR use and the guest masks that TDG.VM.RD/WR will use, the
 * guest-only write rules, and concurrent host access.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim_td.h"
#include "seam/metadata_td.h"
#include "seam/td.h"
#include "sim/sim_int.h"

#define NULL_ID 0xFFFFFFFFFFFFFFFFULL

struct fx {
	struct tsim_env e;
	struct tsim_td td;
	struct seam_td *t;
};

static void fx_build(struct fx *f, uint64_t attributes, uint64_t config_flags)
{
	tsim_env_init(&f->e);
	tsim_td_create(&f->e, &f->td);
	tsim_td_addcx(&f->td);
	struct tdx_td_params p;
	tsim_td_params(&f->e, &p, attributes, 2);
	p.config_flags |= config_flags;
	assert_tdx_status(TDX_SUCCESS, tsim_td_init_raw(&f->td, &p, NULL));
	f->t = seam_obj_get(&f->e.s->mod, f->td.tdr);
}

static uint64_t guest_rd(struct fx *f, uint64_t id, uint64_t *v)
{
	uint64_t next;
	return md_td_read(f->e.s, f->t, MD_TD_GUEST, id, v, &next);
}

static void test_td_metadata__guest_read_masks(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, TDX_TD_ATTR_SEPT_VE_DISABLE, 0);
	uint64_t v;
	assert_tdx_status(TDX_SUCCESS, guest_rd(&f, MD_TD_ATTRIBUTES, &v));
	assert_int_equal(v, TDX_TD_ATTR_SEPT_VE_DISABLE);
	assert_tdx_status(TDX_SUCCESS, guest_rd(&f, MD_TD_NUM_VCPUS, &v));
	assert_tdx_status(TDX_SUCCESS, guest_rd(&f, MD_TD_MAX_VCPUS, &v));
	assert_int_equal(v, 2);
	assert_tdx_status(TDX_SUCCESS, guest_rd(&f, MD_TD_TD_CTLS, &v));
	assert_int_equal(v, 1);
	assert_tdx_status(TDX_SUCCESS, guest_rd(&f, MD_TD_RTMR + 5, &v));
	assert_tdx_status(TDX_SUCCESS, guest_rd(&f, MD_TD_MRTD, &v));
	/* 6.12 guest ids. */
	assert_tdx_status(TDX_SUCCESS, guest_rd(&f, 0x1110000300000016ULL, &v));
	assert_int_equal(v, TDX_CONFIG_FLAGS_NO_RBP_MOD);
	assert_tdx_status(TDX_SUCCESS, guest_rd(&f, 0x9100000000000010ULL, &v));
	assert_int_equal(v, 0);
	/* Host-only fields. */
	uint64_t nr = TDX_METADATA_FIELD_NOT_READABLE;
	assert_tdx_status(nr, guest_rd(&f, MD_TD_EPTP, &v));
	assert_int_equal(v, 0);
	assert_tdx_status(nr, guest_rd(&f, MD_TD_TSC_OFFSET, &v));
	assert_tdx_status(nr, guest_rd(&f, MD_TD_HKID, &v));
	assert_tdx_status(nr, guest_rd(&f, MD_TD_OP_STATE, &v));
	assert_tdx_status(nr, guest_rd(&f, MD_TD_CPUID_VALUES | md_td_cpuid_code(0, MD_CPUID_SUBLEAF_NA, 0), &v));
	/* 7.3's TOPOLOGY_ENUM_CONFIGURED is not a 1.5 field. */
	assert_tdx_status(TDX_METADATA_FIELD_ID_INCORRECT, guest_rd(&f, 0x9100000000000019ULL, &v));
	tsim_env_fini(&f.e);
}

static void test_td_metadata__guest_next_and_first(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, 0, 0);
	uint64_t v, next;
	assert_tdx_status(TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT,
			  md_td_read(f.e.s, f.t, MD_TD_GUEST, NULL_ID, &v, &next));
	assert_int_equal(next, MD_TD_NUM_VCPUS);
	assert_tdx_status(TDX_SUCCESS, md_td_read(f.e.s, f.t, MD_TD_GUEST, MD_TD_NUM_VCPUS, &v, &next));
	assert_int_equal(next, MD_TD_NUM_L2_VMS);
	assert_tdx_status(TDX_SUCCESS, md_td_read(f.e.s, f.t, MD_TD_GUEST, MD_TD_GPAW, &v, &next));
	assert_int_equal(next, MD_TD_TSC_FREQUENCY);            /* EPTP, TSC offset/multiplier skipped */
	assert_tdx_status(TDX_SUCCESS, md_td_read(f.e.s, f.t, MD_TD_GUEST, MD_TD_TSC_FREQUENCY, &v, &next));
	assert_int_equal(next, MD_TD_NOTIFY_ENABLES);
	/* The guest's last readable element is the last RTMR's. */
	assert_tdx_status(TDX_SUCCESS, md_td_read(f.e.s, f.t, MD_TD_GUEST, MD_TD_RTMR + 23, &v, &next));
	assert_int_equal(next, NULL_ID);
	/* Without next, the null id is just an incorrect id. */
	assert_tdx_status(TDX_METADATA_FIELD_ID_INCORRECT,
			  md_td_read(f.e.s, f.t, MD_TD_GUEST, NULL_ID, &v, NULL));
	tsim_env_fini(&f.e);
}

static void test_td_metadata__guest_notify_enables(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, 0, 0);
	uint64_t old = 7;
	/* 6.12 guest: write 0 with an all-ones mask. */
	assert_tdx_status(TDX_SUCCESS, md_td_write(f.e.s, f.t, MD_TD_GUEST, 0x9100000000000010ULL,
						   0, ~0ULL, &old));
	assert_int_equal(old, 0);
	assert_tdx_status(TDX_SUCCESS, md_td_write(f.e.s, f.t, MD_TD_GUEST, MD_TD_NOTIFY_ENABLES,
						   1, 1, &old));
	assert_int_equal(f.t->notify_enables, 1);
	assert_tdx_status(TDX_METADATA_FIELD_VALUE_NOT_VALID,
			  md_td_write(f.e.s, f.t, MD_TD_GUEST, MD_TD_NOTIFY_ENABLES, 2, 3, &old));
	assert_int_equal(old, 0);
	/* The host of a production TD still cannot touch it. */
	assert_tdx_status(TDX_METADATA_FIELD_NOT_WRITABLE,
			  md_td_write(f.e.s, f.t, MD_TD_HOST, MD_TD_NOTIFY_ENABLES, 0, 1, &old));
	assert_int_equal(f.t->notify_enables, 1);
	tsim_env_fini(&f.e);
}

/* TD_CTLS.PENDING_VE_DISABLE may change only with FLEXIBLE_PENDING_VE. */
static void test_td_metadata__guest_td_ctls(void **state)
{
	(void)state;
	struct fx f, g;
	fx_build(&f, TDX_TD_ATTR_SEPT_VE_DISABLE, 0);
	uint64_t old;
	assert_tdx_status(TDX_METADATA_FIELD_VALUE_NOT_VALID,
			  md_td_write(f.e.s, f.t, MD_TD_GUEST, MD_TD_TD_CTLS, 0, 1, &old));
	/* Writing the current value is no change. */
	assert_tdx_status(TDX_SUCCESS, md_td_write(f.e.s, f.t, MD_TD_GUEST, MD_TD_TD_CTLS, 1, 1, &old));
	assert_int_equal(old, 1);
	/* 7.3 guest's REDUCE_VE (bit 3): not in 1.5's write mask. */
	assert_tdx_status(TDX_METADATA_FIELD_NOT_WRITABLE,
			  md_td_write(f.e.s, f.t, MD_TD_GUEST, MD_TD_TD_CTLS, 8, 8, &old));
	assert_int_equal(f.t->td_ctls, 1);
	tsim_env_fini(&f.e);
	fx_build(&g, 0, TDX_CONFIG_FLAGS_FLEXIBLE_PENDING_VE);
	assert_tdx_status(TDX_SUCCESS, md_td_write(g.e.s, g.t, MD_TD_GUEST, MD_TD_TD_CTLS, 1, 1, &old));
	assert_int_equal(old, 0);
	assert_int_equal(g.t->td_ctls, 1);
	uint64_t v;
	assert_tdx_status(TDX_SUCCESS, guest_rd(&g, MD_TD_TD_CTLS, &v));
	assert_int_equal(v, 1);
	tsim_env_fini(&g.e);
}

/* Host readers and writers on several LPs at once: shared TDR and op-state
 * locks never conflict; only a lost compare-exchange may report
 * OPERAND_BUSY + METADATA_FIELD. */
struct worker {
	struct fx *f;
	unsigned lp;
	unsigned ok, busy;
};

static void *hammer(void *arg)
{
	struct worker *w = arg;
	for (unsigned i = 0; i < 2000; i++) {
		struct tdx_module_args a = { .rcx = w->f->td.tdr, .rdx = MD_TD_NOTIFY_ENABLES,
					     .r8 = i & 1, .r9 = 1 };
		uint64_t st = seamcall_raw(w->f->e.s, w->lp, TDH_MNG_WR, &a);
		if (st == TDX_SUCCESS)
			w->ok++;
		else if (st == tdx_status_op(TDX_OPERAND_BUSY, TDX_OPERAND_ID_METADATA_FIELD))
			w->busy++;
		else
			return (void *)1;
		struct tdx_module_args r = { .rcx = w->f->td.tdr, .rdx = MD_TD_ATTRIBUTES };
		if (seamcall_raw(w->f->e.s, w->lp, TDH_MNG_RD, &r) != TDX_SUCCESS ||
		    r.r8 != TDX_TD_ATTR_DEBUG)
			return (void *)1;
	}
	return NULL;
}

static void test_td_metadata__concurrent_host_access(void **state)
{
	(void)state;
	struct fx f;
	fx_build(&f, TDX_TD_ATTR_DEBUG, 0);
	struct worker w[3] = { { &f, 1, 0, 0 }, { &f, 2, 0, 0 }, { &f, 5, 0, 0 } };
	pthread_t th[3];
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&th[i], NULL, hammer, &w[i]), 0);
	for (unsigned i = 0; i < 3; i++) {
		void *ret;
		assert_int_equal(pthread_join(th[i], &ret), 0);
		assert_null(ret);
		assert_int_equal(w[i].ok + w[i].busy, 2000);
	}
	assert_true(f.t->notify_enables <= 1);
	assert_int_equal(tdxsim_check_invariants(f.e.s, f.td.tdr), TDXSIM_OK);
	tsim_env_fini(&f.e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_td_metadata__guest_read_masks),
		cmocka_unit_test(test_td_metadata__guest_next_and_first),
		cmocka_unit_test(test_td_metadata__guest_notify_enables),
		cmocka_unit_test(test_td_metadata__guest_td_ctls),
		cmocka_unit_test(test_td_metadata__concurrent_host_access),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
