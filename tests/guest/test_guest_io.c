/*
 * guest_io: TDG.VP.VMCALL<IO> of sizes 1, 2, 4 on GUEST_IO_PORT reach the
 * test's I/O callback with the right port, size, direction and value; IN
 * returns what the callback gives (here: the last OUT, echoed). Console
 * output (port 0x3F8) is collected by the harness.
 */
#include "tg_fixture.h"

struct io_log {
	unsigned n_out, n_in;
	uint64_t last_out;
	unsigned last_size;
	uint16_t last_port;
};

static uint64_t io_cb(struct tg_vcpu *v, uint16_t port, unsigned size, bool write, uint64_t *val)
{
	struct io_log *l = v->vm->opaque;
	l->last_port = port;
	l->last_size = size;
	if (write) {
		l->n_out++;
		l->last_out = *val;
	} else {
		l->n_in++;
		*val = l->last_out ^ 0xFFFFFFFF;     /* all bits of the size flipped */
	}
	return TG_VMCALL_SUCCESS;
}

static void test_guest_io__in_out_sizes(void **state)
{
	(void)state;
	static const uint64_t out[3] = { 0x11, 0x2222, 0x33333333 };
	static const unsigned sizes[3] = { 1, 2, 4 };
	struct io_log log = { 0 };
	struct tg_fx f;
	tg_fx_init(&f, "guest_io", 0);
	f.vm->ops.io = io_cb;
	f.vm->opaque = &log;
	struct ucall uc;
	for (unsigned i = 0; i < 3; i++) {
		vcpu_expect_sync(f.v, &uc, sizes[i]);
		uint64_t mask = (1ULL << (8 * sizes[i])) - 1;
		assert_int_equal(log.last_port, GUEST_IO_PORT);
		assert_int_equal(log.last_size, sizes[i]);
		assert_int_equal(log.last_out, out[i]);
		assert_int_equal(uc.args[1], (out[i] ^ 0xFFFFFFFF) & mask);
		assert_int_equal(uc.args[2], 0);
		assert_int_equal(uc.args[3], 0);
	}
	assert_int_equal(log.n_out, 3);
	assert_int_equal(log.n_in, 3);
	vcpu_expect_done(f.v);
	tg_fx_fini(&f);
}

/* Without a callback the host answers SUBFUNC_UNSUPPORTED (as KVM does for
 * what it cannot handle); the guest reports the statuses. */
static void test_guest_io__no_handler_is_unsupported(void **state)
{
	(void)state;
	struct tg_fx f;
	tg_fx_init(&f, "guest_io", 0);
	struct ucall uc;
	vcpu_expect_sync(f.v, &uc, 1);
	assert_int_equal(uc.args[2], TG_VMCALL_SUBFUNC_UNSUPPORTED);
	assert_int_equal(uc.args[3], TG_VMCALL_SUBFUNC_UNSUPPORTED);
	tg_fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_io__in_out_sizes),
		cmocka_unit_test(test_guest_io__no_handler_is_unsupported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
