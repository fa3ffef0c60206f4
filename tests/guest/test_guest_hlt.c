/*
 * guest_hlt: TDG.VP.VMCALL<Instruction.HLT> and the HLT instruction both
 * (a #VE the guest's handler turns into the same TDVMCALL) return to the
 * test (vcpu_run() gives UCALL_NONE); the next vcpu_run()
 * resumes the guest after the halt.
 */
#include "tg_fixture.h"

static void test_guest_hlt__vmcall_and_instruction(void **state)
{
	(void)state;
	struct tg_fx f;
	tg_fx_init(&f, "guest_hlt", 1);
	struct ucall uc;
	vcpu_expect_sync(f.v, &uc, 1);
	assert_int_equal(vcpu_run(f.v, &uc), UCALL_NONE);
	assert_int_equal(f.v->last_exit, TDX_SUCCESS | 77);
	vcpu_expect_sync(f.v, &uc, 2);
	assert_int_equal(uc.args[1], 0);
	/* The HLT instruction is a #VE in a TD; the runtime's #VE handler
	 * turns it into TDG.VP.VMCALL<HLT>, as a Linux guest does. */
	assert_int_equal(vcpu_run(f.v, &uc), UCALL_NONE);
	assert_int_equal(f.v->last_exit, TDX_SUCCESS | 77);
	vcpu_expect_sync(f.v, &uc, 3);
	vcpu_expect_done(f.v);
	tg_fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_hlt__vmcall_and_instruction),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
