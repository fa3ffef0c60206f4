/*
 * guest_poison: a line of a TD private page that the host writes through a
 * shared KeyID is poisoned; the TD's next read of it is a machine check,
 * which the TDX module turns into TDH.VP.ENTER status
 * NON_RECOVERABLE_TD_NON_ACCESSIBLE with exit reason EXCEPTION_OR_NMI and
 * the #MC interruption information in R9, the TD marked fatal (the next
 * entry: TD_FATAL). Reads and writes of the page's other lines go on; the
 * poisoned line stays poisoned with the host's bytes.
 */
#include "tg_fixture.h"

#define INTR_INFO_MC 0x80000312ULL      /* valid, hardware exception, vector 18 */
#define LINE_POISON  128
#define LINE_WRITE   192

static void test_guest_poison__read_of_poisoned_line_is_machine_check(void **state)
{
	(void)state;
	struct tg_fx f;
	tg_fx_begin(&f, 1);
	f.v = td_vcpu_add(f.vm, 0);
	td_load_image(f.vm, "guest_poison", 0);
	uint64_t data[512];
	for (unsigned i = 0; i < 512; i++)
		data[i] = 0x1000 + i;
	td_add_private(f.vm, GUEST_DATA_GPA, data, sizeof(data), false);
	td_finalize(f.vm);
	uint64_t hpa = 0;
	for (unsigned i = 0; i < f.vm->td.n_pages; i++)
		if (f.vm->td.page[i].gpa == GUEST_DATA_GPA)
			hpa = f.vm->td.page[i].pa;
	assert_true(hpa != 0);
	tdxsim *s = f.e.s;
	struct ucall uc;

	vcpu_expect_sync(f.v, &uc, 1);
	assert_int_equal(uc.args[1], 0x1000);

	/* The host writes a line of the page through KeyID 0: poisoned. */
	uint64_t junk = 0x5A5A5A5A5A5A5A5AULL;
	assert_int_equal(tdxsim_mem_write(s, hpa + LINE_POISON, 0, &junk, 8), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_poisoned(s, hpa + LINE_POISON), 1);
	assert_int_equal(tdxsim_mem_poisoned(s, hpa + 64), 0);

	vcpu_expect_sync(f.v, &uc, 2);                  /* another line: read as before */
	assert_int_equal(uc.args[1], 0x1008);
	vcpu_expect_sync(f.v, &uc, 3);                  /* another line: written */
	assert_int_equal(uc.args[1], 0xABCD);
	assert_int_equal(tdxsim_mem_poisoned(s, hpa + LINE_POISON), 1);
	assert_int_equal(tdxsim_mem_poisoned(s, hpa + LINE_WRITE), 0);
	uint64_t raw = 0;
	assert_int_equal(tdxsim_mem_read(s, hpa + LINE_POISON, 0, &raw, 8), TDXSIM_OK);
	assert_int_equal(raw, junk);                    /* the host's bytes are still there */
	struct tdx_module_args rd = { .rcx = GUEST_DATA_GPA + LINE_WRITE, .rdx = f.vm->td.tdr };
	assert_int_equal(seamcall_raw(s, f.v->lp, TDH_MEM_RD, &rd), TDX_SUCCESS);
	assert_int_equal(rd.r8, 0xABCD);                /* the guest's store reached RAM */

	/* The read of the poisoned line. */
	struct tdx_module_args a;
	uint64_t st;
	do {
		a = f.v->next;
		a.rcx = f.v->tv->tdvpr;
		st = seamcall_raw(s, f.v->lp, TDH_VP_ENTER, &a);
		memset(&f.v->next, 0, sizeof(f.v->next));
	} while (st == (TDX_SUCCESS | 1));
	assert_int_equal(st, TDX_NON_RECOVERABLE_TD_NON_ACCESSIBLE);    /* exit reason 0 */
	assert_int_equal(a.r9, INTR_INFO_MC);
	assert_int_equal(a.rcx, 0);
	assert_int_equal(a.rdx, 0);
	assert_int_equal(a.r8, 0);
	a = (struct tdx_module_args){ .rcx = f.v->tv->tdvpr };
	assert_int_equal(seamcall_raw(s, f.v->lp, TDH_VP_ENTER, &a), TDX_TD_FATAL);
	tg_fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_poison__read_of_poisoned_line_is_machine_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
