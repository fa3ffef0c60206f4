/*
 * The vCPUs of a TD and the module see one private memory:
 *  - guest_smc: code vCPU 0 patches is what vCPU 1, which ran the old code,
 *    runs next (its translations of the page are dropped);
 *  - guest_rdall: TDG.SYS.RDALL's list, written by the module into a page
 *    the guest had just written, is what the guest reads afterwards (the
 *    guest's copy goes back to RAM before the TDCALL and is re-read after).
 */
#include "tg_fixture.h"
#include "seam/metadata_sys.h"
#include "sim/sim_int.h"

static void test_guest_coherence__code_patched_by_another_vcpu(void **state)
{
	(void)state;
	struct tg_fx f;
	tg_fx_begin(&f, 2);
	struct tg_vcpu *v0 = td_vcpu_add(f.vm, 0), *v1 = td_vcpu_add(f.vm, 1);
	td_load_image(f.vm, "guest_smc", 0);
	td_finalize(f.vm);
	struct ucall uc;
	vcpu_expect_sync(v1, &uc, 1);
	assert_int_equal(uc.args[1], 0x11111111);
	vcpu_expect_sync(v0, &uc, 1);
	assert_int_equal(uc.args[1], 0x22222222);
	vcpu_expect_sync(v1, &uc, 2);
	assert_int_equal(uc.args[1], 0x22222222);
	vcpu_expect_done(v0);
	vcpu_expect_done(v1);
	tg_fx_fini(&f);
}

static void test_guest_coherence__rdall_list_over_guest_writes(void **state)
{
	(void)state;
	struct tg_fx f;
	tg_fx_init(&f, "guest_rdall", 0);
	struct ucall uc;
	vcpu_expect_sync(f.v, &uc, 1);
	uint8_t want[4096];
	uint64_t next, first;
	assert_int_equal(md_sys_dump(f.e.s, MD_FIELD_ID_NULL, want, &next), TDX_SUCCESS);
	memcpy(&first, want, sizeof(first));
	assert_int_equal(uc.args[1], TDX_SUCCESS);
	assert_int_not_equal(first, 0xAAAAAAAAAAAAAAAAULL);
	assert_int_equal(uc.args[2], first);
	assert_int_equal(uc.args[3], next);
	vcpu_expect_done(f.v);
	tg_fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_coherence__code_patched_by_another_vcpu),
		cmocka_unit_test(test_guest_coherence__rdall_list_over_guest_writes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
