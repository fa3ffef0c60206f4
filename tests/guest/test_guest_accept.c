/*
 * guest_accept: the guest accepts the 2 MiB at GUEST_ACCEPT_GPA. Lazily:
 * nothing is AUGed, every ACCEPT faults (EPT violation, type ACCEPT) and the
 * harness PAGE.AUGs 4 KiB there, so the 2 MiB accept finds a 4 KiB table
 * (PAGE_SIZE_MISMATCH) and the guest falls back to 512 4 KiB accepts. Or
 * ahead of time: one 2 MiB PAGE.AUG, accepted at 2 MiB without a fault.
 * Either way every page reads back what the guest wrote and was zero
 * before.
 */
#include "tg_fixture.h"

static void expect_pages_ok(struct tg_fx *f)
{
	struct ucall uc;
	vcpu_expect_sync(f->v, &uc, 2);
	assert_int_equal(uc.args[1], 512);
	assert_int_equal(uc.args[2], 0);
	vcpu_expect_done(f->v);
}

static void test_guest_accept__lazy_aug_on_violation(void **state)
{
	(void)state;
	struct tg_fx f;
	tg_fx_init(&f, "guest_accept", 0);
	struct ucall uc;
	vcpu_expect_sync(f.v, &uc, 1);
	assert_int_equal(uc.args[1], tdx_status_op(TDX_PAGE_SIZE_MISMATCH, 1));
	assert_int_equal(uc.args[2], 0);
	assert_int_equal(f.v->ept_augs, 512);
	expect_pages_ok(&f);
	tg_fx_fini(&f);
}

static void test_guest_accept__pre_aug_2m(void **state)
{
	(void)state;
	struct tg_fx f;
	tg_fx_init(&f, "guest_accept", 0);
	td_aug_private(f.vm, GUEST_ACCEPT_GPA, 2ULL << 20, 1);
	struct ucall uc;
	vcpu_expect_sync(f.v, &uc, 1);
	assert_int_equal(uc.args[1], 0);
	assert_int_equal(uc.args[2], 0);
	assert_int_equal(f.v->ept_augs, 0);
	expect_pages_ok(&f);
	tg_fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_accept__lazy_aug_on_violation),
		cmocka_unit_test(test_guest_accept__pre_aug_2m),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
