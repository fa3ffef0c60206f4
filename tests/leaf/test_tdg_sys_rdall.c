/*
 * TDG.SYS.RDALL (12): tdx-abi.md 1.2, 4.5; seam/tdcall/tdg_sys_rdall.c.
 * R8 = -1 on error. The list is the one TDH.SYS.RDALL builds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tdcall_fixtures.h"
#include "seam/metadata_sys.h"

#define LIST_GPA 0x100000ULL
#define INVALID_RDX tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX)

static void init(struct tfx *f)
{
	struct tfx_opts o = { .add_gpa = { LIST_GPA } };
	tfx_init_opts(f, &o);
}

static void test_tdg_sys_rdall__success(void **state)
{
	(void)state;
	struct tfx f;
	init(&f);
	uint8_t want[4096], got[4096];
	uint64_t next;
	uint64_t st = md_sys_dump(f.e.s, MD_FIELD_ID_NULL, want, &next);
	tfx_expect(&f, st, TDG_SYS_RDALL, 0, LIST_GPA, MD_FIELD_ID_NULL, 0);
	assert_int_equal(tfx_gpr(&f, GPR_R8), next);
	unsigned used = ((uint16_t *)want)[0];
	assert_true(used > 8);
	tfx_priv_read(&f, tfx_page_pa(&f, LIST_GPA), got, sizeof(got));
	assert_memory_equal(got, want, used);
	tfx_fini(&f);
}

static void test_tdg_sys_rdall__misaligned(void **state)
{
	(void)state;
	struct tfx f;
	init(&f);
	tfx_expect(&f, INVALID_RDX, TDG_SYS_RDALL, 0, LIST_GPA + 8, MD_FIELD_ID_NULL, 0);
	assert_int_equal(tfx_gpr(&f, GPR_R8), MD_FIELD_ID_NULL);
	tfx_fini(&f);
}

static void test_tdg_sys_rdall__shared_gpa(void **state)
{
	(void)state;
	struct tfx f;
	init(&f);
	tfx_expect(&f, INVALID_RDX, TDG_SYS_RDALL, 0, LIST_GPA | (1ULL << 47), MD_FIELD_ID_NULL, 0);
	assert_int_equal(tfx_gpr(&f, GPR_R8), MD_FIELD_ID_NULL);
	tfx_fini(&f);
}

static void test_tdg_sys_rdall__above_gpaw(void **state)
{
	(void)state;
	struct tfx f;
	init(&f);
	tfx_expect(&f, INVALID_RDX, TDG_SYS_RDALL, 0, LIST_GPA | (1ULL << 48), MD_FIELD_ID_NULL, 0);
	tfx_fini(&f);
}

/* The list page is not mapped: EPT-violation TD exit, GPRs unchanged. */
static void test_tdg_sys_rdall__unmapped_exit(void **state)
{
	(void)state;
	struct tfx f;
	init(&f);
	assert_int_equal(tfx_call(&f, TDG_SYS_RDALL, 0, LIST_GPA + 0x1000, MD_FIELD_ID_NULL, 0),
			 SEAM_TDCALL_EXIT);
	tfx_assert_untouched(&f, GPR_RAX, GPR_R15);
	const struct seam_td_exit *x = &f.v[0]->tdcall_exit;
	assert_int_equal(x->status, TDX_SUCCESS | 48);
	assert_int_equal(x->exit_qual, 3);              /* data read + write */
	assert_int_equal(x->ext_exit_qual, 0);
	assert_int_equal(x->gpa, LIST_GPA + 0x1000);
	tfx_fini(&f);
}

static void test_tdg_sys_rdall__field_id_incorrect(void **state)
{
	(void)state;
	struct tfx f;
	init(&f);
	uint8_t pat[4096], got[4096];
	memset(pat, 0x3C, sizeof(pat));
	uint64_t pa = tfx_page_pa(&f, LIST_GPA);
	tfx_priv_write(&f, pa, pat, sizeof(pat));
	tfx_expect(&f, TDX_METADATA_FIELD_ID_INCORRECT, TDG_SYS_RDALL, 0, LIST_GPA,
		   0x0A00000300007777ULL, 0);
	assert_int_equal(tfx_gpr(&f, GPR_R8), MD_FIELD_ID_NULL);
	tfx_priv_read(&f, pa, got, sizeof(got));
	assert_memory_equal(got, pat, sizeof(got));
	tfx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdg_sys_rdall__success),
		cmocka_unit_test(test_tdg_sys_rdall__misaligned),
		cmocka_unit_test(test_tdg_sys_rdall__shared_gpa),
		cmocka_unit_test(test_tdg_sys_rdall__above_gpaw),
		cmocka_unit_test(test_tdg_sys_rdall__unmapped_exit),
		cmocka_unit_test(test_tdg_sys_rdall__field_id_incorrect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
