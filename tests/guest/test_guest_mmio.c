/*
 * guest_mmio: TDG.VP.VMCALL<#VE.RequestMMIO> writes and reads of 1, 2, 4, 8
 * bytes on a shared GPA nothing maps reach the test's MMIO callback (GPA
 * without the shared bit); reads return the callback's value. The ucall
 * doorbell on the same path is kept by the harness.
 */
#include "tg_fixture.h"

struct dev {
	uint64_t reg[64];               /* by (gpa - GUEST_MMIO_OFFSET) / 8 */
	unsigned writes, reads;
	uint64_t bad;
};

static uint64_t mmio_cb(struct tg_vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *val)
{
	struct dev *d = v->vm->opaque;
	uint64_t off = gpa - GUEST_MMIO_OFFSET;
	if (gpa < GUEST_MMIO_OFFSET || off >= sizeof(d->reg) || off != 8ULL * size) {
		d->bad++;
		return TG_VMCALL_INVALID_OPERAND;
	}
	if (write) {
		d->writes++;
		d->reg[off / 8] = *val;
	} else {
		d->reads++;
		*val = d->reg[off / 8];
	}
	return TG_VMCALL_SUCCESS;
}

static void test_guest_mmio__sizes_round_trip(void **state)
{
	(void)state;
	static const uint64_t val[4] = { 0x81, 0x8282, 0x83838383, 0x8484848484848484ULL };
	static const unsigned sizes[4] = { 1, 2, 4, 8 };
	struct dev d;
	memset(&d, 0, sizeof(d));
	struct tg_fx f;
	tg_fx_init(&f, "guest_mmio", 0);
	f.vm->ops.mmio = mmio_cb;
	f.vm->opaque = &d;
	struct ucall uc;
	for (unsigned i = 0; i < 4; i++) {
		vcpu_expect_sync(f.v, &uc, sizes[i]);
		assert_int_equal(d.reg[sizes[i]], val[i]);
		assert_int_equal(uc.args[1], val[i]);
		assert_int_equal(uc.args[2], 0);
		assert_int_equal(uc.args[3], 0);
	}
	vcpu_expect_done(f.v);
	assert_int_equal(d.writes, 4);
	assert_int_equal(d.reads, 4);
	assert_int_equal(d.bad, 0);
	tg_fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_mmio__sizes_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
