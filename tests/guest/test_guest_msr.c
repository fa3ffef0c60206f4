/*
 * guest_msr: TDG.VP.VMCALL<Instruction.WRMSR/RDMSR> reach the test's MSR
 * callbacks; an MSR the host refuses returns its status to the guest.
 */
#include "tg_fixture.h"

struct msrs {
	uint64_t test_msr;
	unsigned rd, wr, refused;
};

static uint64_t rdmsr_cb(struct tg_vcpu *v, uint32_t msr, uint64_t *val)
{
	struct msrs *m = v->vm->opaque;
	m->rd++;
	if (msr != GUEST_TEST_MSR) {
		m->refused++;
		return TG_VMCALL_INVALID_OPERAND;
	}
	*val = m->test_msr;
	return TG_VMCALL_SUCCESS;
}

static uint64_t wrmsr_cb(struct tg_vcpu *v, uint32_t msr, uint64_t val)
{
	struct msrs *m = v->vm->opaque;
	m->wr++;
	if (msr != GUEST_TEST_MSR) {
		m->refused++;
		return TG_VMCALL_INVALID_OPERAND;
	}
	m->test_msr = val;
	return TG_VMCALL_SUCCESS;
}

static void test_guest_msr__write_read_refuse(void **state)
{
	(void)state;
	struct msrs m = { 0 };
	struct tg_fx f;
	tg_fx_init(&f, "guest_msr", 0);
	f.vm->ops.rdmsr = rdmsr_cb;
	f.vm->ops.wrmsr = wrmsr_cb;
	f.vm->opaque = &m;
	struct ucall uc;
	vcpu_expect_sync(f.v, &uc, 1);
	assert_int_equal(m.test_msr, 0x1122334455667788ULL);
	assert_int_equal(uc.args[1], 0x1122334455667788ULL);
	assert_int_equal(uc.args[2], 0);
	assert_int_equal(uc.args[3], 0);
	vcpu_expect_sync(f.v, &uc, 2);
	assert_int_equal(uc.args[1], TG_VMCALL_INVALID_OPERAND);
	assert_int_equal(m.refused, 1);
	vcpu_expect_done(f.v);
	assert_int_equal(m.rd, 2);
	assert_int_equal(m.wr, 1);
	tg_fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_msr__write_read_refuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
