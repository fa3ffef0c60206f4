/*
 * guest_cpuid: TDG.VP.VMCALL<Instruction.CPUID> reaches the test's CPUID
 * callback with leaf and subleaf; EAX..EDX come back to the guest.
 */
#include "tg_fixture.h"

static uint64_t cpuid_cb(struct tg_vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	unsigned *calls = v->vm->opaque;
	(*calls)++;
	for (unsigned i = 0; i < 4; i++)
		out[i] = 0x10000000u * (i + 1) + leaf * 0x100 + subleaf;
	return TG_VMCALL_SUCCESS;
}

static void test_guest_cpuid__vmcall_leaves(void **state)
{
	(void)state;
	unsigned calls = 0;
	struct tg_fx f;
	tg_fx_init(&f, "guest_cpuid", 0);
	f.vm->ops.cpuid = cpuid_cb;
	f.vm->opaque = &calls;
	struct ucall uc;
	for (uint32_t leaf = 0; leaf < 2; leaf++) {
		vcpu_expect_sync(f.v, &uc, leaf);
		for (unsigned i = 0; i < 4; i++)
			assert_int_equal(uc.args[1 + i], 0x10000000u * (i + 1) + leaf * 0x100);
		assert_int_equal(uc.args[5], 0);
	}
	vcpu_expect_done(f.v);
	assert_int_equal(calls, 2);
	tg_fx_fini(&f);
}

/* arg bit 0: the CPUID instruction itself. Leaf 0 is one the module
 * virtualises (seam/td_run.c hook_cpuid): answered in the guest from the
 * TD's CPUID values, no TD exit, the host callback is not called. */
static void test_guest_cpuid__instruction(void **state)
{
	(void)state;
	unsigned calls = 0;
	struct tg_fx f;
	tg_fx_init(&f, "guest_cpuid", 1);
	f.vm->ops.cpuid = cpuid_cb;
	f.vm->opaque = &calls;
	struct ucall uc;
	vcpu_expect_sync(f.v, &uc, 0);
	vcpu_expect_sync(f.v, &uc, 1);
	assert_int_equal(calls, 2);
	vcpu_expect_sync(f.v, &uc, 0x100);
	/* Leaf 0 is virtualised by the module: no exit, the TD's values. */
	assert_int_equal(calls, 2);
	assert_true(uc.args[1] != 0);                   /* max basic leaf */
	assert_true(uc.args[2] != 0x10000000u * 2);
	vcpu_expect_done(f.v);
	tg_fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_cpuid__vmcall_leaves),
		cmocka_unit_test(test_guest_cpuid__instruction),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
