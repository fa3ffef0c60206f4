/*
 * guest_spin: host kicks. tdxsim_lp_interrupt() posted to the LP of a vCPU
 * makes TDH.VP.ENTER return exit reason 1 (EXTERNAL_INTERRUPT) with R9 =
 * 0x80000000 | vector: at once when the interrupt was pending before the
 * entry (no guest instruction runs: RIP unchanged), or from another thread
 * while the guest spins; the guest then resumes where it was.
 */
#include <pthread.h>
#include <time.h>

#include "tg_fixture.h"

#define KICK_VECTOR 0xF2u
#define FLAG_VALUE  0x5EED0000CAFEULL

/* TDH.VP.RD field id of the guest RIP (VMCS field 0x681E). */
#define VP_FIELD_GUEST_RIP ((2ULL << 52) | (1ULL << 50) | (3ULL << 32) | 0x681EULL)

static uint64_t vp_rd(struct tg_vcpu *v, uint64_t field)
{
	struct tdx_module_args a = { .rcx = v->tv->tdvpr, .rdx = field };
	seamcall_ok(v->vm->e->s, v->lp, TDH_VP_RD, &a);
	return a.r8;
}

static void test_guest_kick__pending_before_entry_exits_at_once(void **state)
{
	(void)state;
	struct tg_fx f;
	tg_fx_init(&f, "guest_spin", 0);
	struct ucall uc;
	vcpu_expect_sync(f.v, &uc, 1);
	uint64_t rip = vp_rd(f.v, VP_FIELD_GUEST_RIP);
	assert_int_equal(tdxsim_lp_interrupt(f.e.s, f.v->lp, KICK_VECTOR), TDXSIM_OK);
	/* The next entry (the ucall's completion) leaves at once. */
	struct tdx_module_args a = f.v->next;
	a.rcx = f.v->tv->tdvpr;
	uint64_t st = seamcall_raw(f.e.s, f.v->lp, TDH_VP_ENTER, &a);
	assert_int_equal(st, TDX_SUCCESS | 1);
	assert_int_equal(a.r9, 0x80000000ULL | KICK_VECTOR);
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(a.r8, 0);
	assert_int_equal(vp_rd(f.v, VP_FIELD_GUEST_RIP), rip);
	/* Consumed: the guest now spins until the flag is set. */
	uint64_t flag = FLAG_VALUE;
	td_shared_write(f.vm, GUEST_XFER_OFFSET, &flag, sizeof(flag));
	memset(&f.v->next, 0, sizeof(f.v->next));
	vcpu_expect_sync(f.v, &uc, 2);
	assert_int_equal(uc.args[1], FLAG_VALUE);
	assert_int_equal(uc.args[3], 0);
	vcpu_expect_done(f.v);
	tg_fx_fini(&f);
}

struct spinner {
	struct tg_vcpu *v;
	struct ucall uc;
	uint64_t cmd;
};

static void *run_spinner(void *p)
{
	struct spinner *sp = p;
	sp->cmd = vcpu_run(sp->v, &sp->uc);
	return NULL;
}

static void test_guest_kick__from_another_thread_while_spinning(void **state)
{
	(void)state;
	struct tg_fx f;
	tg_fx_init(&f, "guest_spin", 0);
	struct ucall uc;
	vcpu_expect_sync(f.v, &uc, 1);
	struct spinner sp = { .v = f.v };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, run_spinner, &sp), 0);
	/* Once the guest spins, kick until the running vCPU reports the exit
	 * (a kick that lands between two entries is taken by the next one,
	 * also an exit). */
	struct timespec ms = { 0, 1000000 };
	uint64_t spun = 0;
	for (unsigned waits = 0; !spun; waits++) {
		assert_true(waits < 10000);
		nanosleep(&ms, NULL);
		td_shared_read(f.vm, GUEST_XFER_OFFSET + 8, &spun, sizeof(spun));
	}
	unsigned kicks = 0;
	while (atomic_load(&f.v->intr_exits) == 0 ||
	       atomic_load(&f.v->last_intr_info) != (0x80000000ULL | KICK_VECTOR)) {
		assert_int_equal(tdxsim_lp_interrupt(f.e.s, f.v->lp, KICK_VECTOR), TDXSIM_OK);
		kicks++;
		assert_true(kicks < 10000);
		nanosleep(&ms, NULL);
	}
	uint64_t flag = FLAG_VALUE;
	td_shared_write(f.vm, GUEST_XFER_OFFSET, &flag, sizeof(flag));
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(sp.cmd, UCALL_SYNC);
	assert_int_equal(sp.uc.args[0], 2);
	assert_int_equal(sp.uc.args[1], FLAG_VALUE);
	assert_true(sp.uc.args[2] > 0);         /* it spun before and after the kick */
	vcpu_expect_done(f.v);
	tg_fx_fini(&f);
}

static void test_guest_kick__bad_vector_and_lp(void **state)
{
	(void)state;
	struct tg_fx f;
	tg_fx_begin(&f, 1);
	assert_int_equal(tdxsim_lp_interrupt(f.e.s, 0, 15), TDXSIM_ERR_ARG);
	assert_int_equal(tdxsim_lp_interrupt(f.e.s, 0, 256), TDXSIM_ERR_ARG);
	assert_int_equal(tdxsim_lp_interrupt(f.e.s, f.e.n_lps, 0x30), TDXSIM_ERR_ARG);
	tg_fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_kick__pending_before_entry_exits_at_once),
		cmocka_unit_test(test_guest_kick__from_another_thread_while_spinning),
		cmocka_unit_test(test_guest_kick__bad_vector_and_lp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
