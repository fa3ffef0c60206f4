/*
 * guest_lifecycle through the tsim_guest harness: the TD boots the image
 * from its reset vector, reports SYNC(1, vcpu, arg), SYNC(2, GPAW), DONE on
 * every vCPU; the image and boot page are measured into MRTD.
 */
#include "tg_fixture.h"

#define ARG 0x1234567890ABCDEFULL

static void run_lifecycle(struct tg_vcpu *v, uint64_t arg)
{
	struct ucall uc;
	vcpu_expect_sync(v, &uc, 1);
	assert_int_equal(uc.args[1], v->index);
	assert_int_equal(uc.args[2], arg);
	assert_int_equal(uc.vcpu, v->index);
	assert_true(strstr(uc.file, "guest_lifecycle.c") != NULL);
	assert_true(uc.line > 0);
	vcpu_expect_sync(v, &uc, 2);
	assert_int_equal(uc.args[1], 48);
	vcpu_expect_done(v);
}

static void test_guest_lifecycle__one_vcpu(void **state)
{
	(void)state;
	struct tg_fx f;
	tg_fx_init(&f, "guest_lifecycle", ARG);
	run_lifecycle(f.v, ARG);
	tg_fx_fini(&f);
}

/* Two vCPUs on different LPs, run one after the other: each boots on its
 * own stack and reports its own index. */
static void test_guest_lifecycle__two_vcpus(void **state)
{
	(void)state;
	struct tg_fx f;
	tg_fx_begin(&f, 2);
	struct tg_vcpu *v0 = td_vcpu_add(f.vm, 0);
	struct tg_vcpu *v1 = td_vcpu_add(f.vm, f.e.n_lps > 1 ? 1 : 0);
	td_load_image(f.vm, "guest_lifecycle", 7);
	td_finalize(f.vm);
	run_lifecycle(v1, 7);
	run_lifecycle(v0, 7);
	tg_fx_fini(&f);
}

static void mrtd_of(struct tsim_env *e, uint64_t arg, uint64_t out[6])
{
	struct tg_vm *vm = td_create(e, 1);
	td_vcpu_add(vm, 0);
	td_load_image(vm, "guest_lifecycle", arg);
	td_finalize(vm);
	for (unsigned i = 0; i < 6; i++)
		out[i] = td_rd(vm, MD_TD_MRTD + i);
	td_destroy(vm);
}

/* The same image and boot page measure the same; another arg (boot page
 * content) measures differently. */
static void test_guest_lifecycle__mrtd_measures_image_and_boot_page(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint64_t a[6], b[6], c[6], zero[6] = { 0 };
	mrtd_of(&e, 1, a);
	mrtd_of(&e, 1, b);
	mrtd_of(&e, 2, c);
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_memory_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, c, sizeof(a));
	tsim_env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_lifecycle__one_vcpu),
		cmocka_unit_test(test_guest_lifecycle__two_vcpus),
		cmocka_unit_test(test_guest_lifecycle__mrtd_measures_image_and_boot_page),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
