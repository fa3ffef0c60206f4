/*
 * guest_counter: a 4-vCPU TD whose vCPUs run at the same time, each on its
 * own LP and host thread, and add to one counter in private memory with
 * lock xadd; every vCPU then sees the total.
 */
#include <pthread.h>

#include "tg_fixture.h"

#define N_VCPUS 4
/* Under ThreadSanitizer (build-tsan) every switch between the vCPUs costs
 * ~40x more: the same contention with fewer adds. */
#if defined(__SANITIZE_THREAD__)
#define ADDS    5000
#else
#define ADDS    100000
#endif

struct runner {
	struct tg_vcpu *v;
	struct ucall sync1, sync2, done;
	uint64_t cmd1, cmd2, cmd3;
};

/* No cmocka assertion in the threads: results are checked by the main
 * thread (vcpu_run() only fails on a broken TD). */
static void *run_vcpu(void *p)
{
	struct runner *r = p;
	r->cmd1 = vcpu_run(r->v, &r->sync1);
	r->cmd2 = vcpu_run(r->v, &r->sync2);
	r->cmd3 = vcpu_run(r->v, &r->done);
	return NULL;
}

static void test_guest_counter__four_vcpus_on_four_lps(void **state)
{
	(void)state;
	struct tg_fx f;
	tg_fx_begin(&f, N_VCPUS);
	if (f.e.n_lps < N_VCPUS) {
		tg_fx_fini(&f);
		skip();
	}
	struct runner r[N_VCPUS];
	memset(r, 0, sizeof(r));
	for (unsigned i = 0; i < N_VCPUS; i++)
		r[i].v = td_vcpu_add(f.vm, i);
	td_load_image(f.vm, "guest_counter", ADDS);
	td_finalize(f.vm);
	pthread_t t[N_VCPUS];
	for (unsigned i = 0; i < N_VCPUS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, run_vcpu, &r[i]), 0);
	for (unsigned i = 0; i < N_VCPUS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (unsigned i = 0; i < N_VCPUS; i++) {
		assert_int_equal(r[i].cmd1, UCALL_SYNC);
		assert_int_equal(r[i].sync1.args[0], 1);
		assert_int_equal(r[i].sync1.args[1], i);
		assert_int_equal(r[i].cmd2, UCALL_SYNC);
		assert_int_equal(r[i].sync2.args[0], 2);
		assert_int_equal(r[i].sync2.args[1], (uint64_t)ADDS * N_VCPUS);
		assert_int_equal(r[i].sync2.args[2], N_VCPUS);
		assert_int_equal(r[i].sync2.args[3], 0);
		assert_int_equal(r[i].cmd3, UCALL_DONE);
	}
	tg_fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_counter__four_vcpus_on_four_lps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
