/*
 * guest_shared: MapGPA private -> shared -> private of one page. The
 * harness removes the private page (BLOCK, TRACK, REMOVE: PT_NDA again) and
 * maps a host page in the shared EPT; host and guest then see each other's
 * writes; converted back, the page is PAGE.AUGed at the guest's ACCEPT and
 * reads zero.
 */
#include "tg_fixture.h"

#define GUEST_MAGIC 0x5348415245440001ULL
#define HOST_VALUE  0x484F535400000002ULL

static void test_guest_shared__round_trip(void **state)
{
	(void)state;
	struct tg_fx f;
	tg_fx_begin(&f, 1);
	f.v = td_vcpu_add(f.vm, 0);
	td_load_image(f.vm, "guest_shared", 0);
	td_add_private(f.vm, GUEST_CONVERT_GPA, NULL, 4096, false);
	uint64_t priv_pa = f.vm->td.page[f.vm->td.n_pages - 1].pa;
	td_finalize(f.vm);
	struct ucall uc;

	vcpu_expect_sync(f.v, &uc, 1);
	assert_int_equal(uc.args[1], 0);
	assert_int_equal(f.vm->map_gpa_calls, 1);
	assert_int_equal(tsim_page_type(&f.e, priv_pa), PT_NDA);
	assert_true(td_shared_pa(f.vm, GUEST_CONVERT_GPA) != 0);

	vcpu_expect_sync(f.v, &uc, 2);
	assert_int_equal(uc.args[1], GUEST_CONVERT_GPA | f.vm->shared_bit);
	uint64_t q[2];
	td_shared_read(f.vm, GUEST_CONVERT_GPA, q, sizeof(q));
	assert_int_equal(q[0], GUEST_MAGIC);
	q[1] = HOST_VALUE;
	td_shared_write(f.vm, GUEST_CONVERT_GPA + 8, &q[1], 8);

	vcpu_expect_sync(f.v, &uc, 3);
	assert_int_equal(uc.args[1], HOST_VALUE);

	uint64_t augs = f.v->ept_augs;
	vcpu_expect_sync(f.v, &uc, 4);
	assert_int_equal(uc.args[1], 0);
	assert_int_equal(uc.args[2], 0);
	assert_int_equal(uc.args[3], 0);
	assert_int_equal(td_shared_pa(f.vm, GUEST_CONVERT_GPA), 0);
	assert_int_equal(f.v->ept_augs, augs + 1);
	vcpu_expect_done(f.v);
	tg_fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_shared__round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
