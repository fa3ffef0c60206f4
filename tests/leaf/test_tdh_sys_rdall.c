/*
 * TDH.SYS.RDALL (37): /tmp/research/sys-leaves.md section 4.
 * RDX = 4 KiB page (shared HPA), R8 = start field id (-1 = first) -> R8 = next
 * (-1 when done). List: {u16 list_buff_size incl. header, u16 num_sequences,
 * u32 0}, then sequences {header id, 8-byte values}. A sequence runs on while
 * the next field has the same class, the consecutive field code, the same
 * number of elements and the same element size (md_dump_sequence).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tsim.h"

#define SENT 0x5A5A5A5A5A5A5A5AULL
#define PAGE_PA 0x200000ULL
#define N_ELEMENTS 355
#define FILL 0xA5

static inline tdxsim *sim_lp_ready(void)
{
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	tsim_lp_init_all(s);
	return s;
}

static inline tdxsim_info sim_info(tdxsim *s)
{
	tdxsim_info i = { .size = sizeof(i) };
	assert_int_equal(tdxsim_info_get(s, &i), TDXSIM_OK);
	return i;
}

static inline void fill_page(tdxsim *s, uint64_t pa)
{
	uint8_t b[4096];
	memset(b, FILL, sizeof(b));
	assert_int_equal(tdxsim_mem_write(s, pa, 0, b, sizeof(b)), TDXSIM_OK);
}

static inline void read_page(tdxsim *s, uint64_t pa, uint64_t *q)
{
	assert_int_equal(tdxsim_mem_read(s, pa, 0, q, 4096), TDXSIM_OK);
}

static inline void assert_page_untouched(tdxsim *s, uint64_t pa)
{
	uint8_t b[4096];
	assert_int_equal(tdxsim_mem_read(s, pa, 0, b, sizeof(b)), TDXSIM_OK);
	for (unsigned i = 0; i < sizeof(b); i++)
		assert_int_equal(b[i], FILL);
}

static inline uint64_t rdall(tdxsim *s, unsigned lp, uint64_t page, uint64_t start, uint64_t *next)
{
	struct tdx_module_args a = { .rdx = page, .r8 = start, .rcx = SENT };
	uint64_t st = seamcall_raw(s, lp, TDH_SYS_RDALL, &a);
	assert_int_equal(a.rcx, SENT);
	assert_int_equal(a.rdx, page);
	*next = a.r8;
	return st;
}

/* Every element in SYS.RD order: ids and values. Returns the count. */
static inline unsigned walk(tdxsim *s, uint64_t *ids, uint64_t *vals, unsigned max)
{
	struct tdx_module_args a = { .rdx = MD_FIELD_ID_NULL };
	assert_tdx_status(TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT, seamcall_raw(s, 0, TDH_SYS_RD, &a));
	unsigned n = 0;
	uint64_t id = a.rdx;
	while (id != MD_FIELD_ID_NULL) {
		assert_true(n < max);
		struct tdx_module_args b = { .rdx = id };
		assert_tdx_status(TDX_SUCCESS, seamcall_raw(s, 0, TDH_SYS_RD, &b));
		ids[n] = id;
		vals[n] = b.r8;
		n++;
		id = b.rdx;
	}
	return n;
}

static inline uint64_t seq_header(uint64_t id, unsigned last_elem, unsigned last_field)
{
	return id | ((uint64_t)last_elem << 34) | ((uint64_t)last_field << 38);
}

static void test_tdh_sys_rdall__success(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	fill_page(s, PAGE_PA);
	uint64_t next = 0;
	assert_tdx_status(TDX_SUCCESS, rdall(s, 0, PAGE_PA, MD_FIELD_ID_NULL, &next));
	assert_int_equal(next, MD_FIELD_ID_NULL);
	uint64_t q[512];
	read_page(s, PAGE_PA, q);
	unsigned size = q[0] & 0xFFFF, nseq = (q[0] >> 16) & 0xFFFF;
	assert_int_equal(q[0] >> 32, 0);        /* reserved */
	assert_true(nseq >= 1);
	/* Every element takes 8 bytes; each sequence an 8-byte header. */
	assert_int_equal(size, 8 + 8 * nseq + 8 * N_ELEMENTS);
	assert_true(size <= 4096);
	tdxsim_close(s);
}

static void test_tdh_sys_rdall__list_header_and_first_sequence(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	const tdxsim_platform *p = sim_info(s).platform;
	uint64_t fms = ((uint64_t)(p->cpu_model >> 4) << 16) | (p->cpu_family << 8) |
		       ((p->cpu_model & 0xF) << 4) | p->cpu_stepping;
	fill_page(s, PAGE_PA);
	uint64_t next;
	assert_tdx_status(TDX_SUCCESS, rdall(s, 0, PAGE_PA, MD_FIELD_ID_NULL, &next));
	uint64_t q[512];
	read_page(s, PAGE_PA, q);
	assert_int_equal(q[0] >> 32, 0);
	/* NUM_PKGS (class 0, code 0, 32-bit) and PKG_FMS[0..7] (codes 1..8,
	 * 32-bit) are consecutive: one sequence of 9 fields. */
	assert_int_equal(q[1], seq_header(0x0000000200000000ULL, 0, 8));
	assert_int_equal(q[2], 2);                       /* NUM_PKGS */
	assert_int_equal(q[3], fms);
	assert_int_equal(q[4], fms);
	for (unsigned i = 5; i < 11; i++)
		assert_int_equal(q[i], 0);
	tdxsim_close(s);
}

static void test_tdh_sys_rdall__sequences_merge_consecutive_fields(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	uint64_t ids[512], vals[512];
	unsigned n = walk(s, ids, vals, 512);
	assert_int_equal(n, N_ELEMENTS);
	/* Sequence breaks by the module's rule: class (61:56), element size and
	 * consecutive field codes (all multi-element fields are isolated). */
	unsigned want = 1;
	for (unsigned i = 1; i < n; i++)
		if (MD_CLASS(ids[i]) != MD_CLASS(ids[i - 1]) ||
		    MD_ELEM_SIZE(ids[i]) != MD_ELEM_SIZE(ids[i - 1]) ||
		    MD_FIELD_CODE(ids[i]) != MD_FIELD_CODE(ids[i - 1]) + 1)
			want++;
	fill_page(s, PAGE_PA);
	uint64_t next;
	assert_tdx_status(TDX_SUCCESS, rdall(s, 0, PAGE_PA, MD_FIELD_ID_NULL, &next));
	uint64_t q[512];
	read_page(s, PAGE_PA, q);
	assert_int_equal((q[0] >> 16) & 0xFFFF, want);
	assert_int_equal(q[0] & 0xFFFF, 8 + 8 * want + 8 * N_ELEMENTS);
	tdxsim_close(s);
}

static void test_tdh_sys_rdall__values_match_sys_rd(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	uint64_t ids[512], vals[512];
	unsigned n = walk(s, ids, vals, 512);
	fill_page(s, PAGE_PA);
	uint64_t next;
	assert_tdx_status(TDX_SUCCESS, rdall(s, 0, PAGE_PA, MD_FIELD_ID_NULL, &next));
	uint64_t q[512];
	read_page(s, PAGE_PA, q);
	unsigned size = q[0] & 0xFFFF, nseq = (q[0] >> 16) & 0xFFFF;
	unsigned pos = 1, k = 0;
	for (unsigned sq = 0; sq < nseq; sq++) {
		assert_true(pos < size / 8);
		uint64_t h = q[pos++];
		/* Context 0, reserved bits 0, WRITE_MASK_VALID 0. */
		assert_int_equal(MD_CONTEXT(h), 0);
		assert_int_equal(MD_RESERVED_31_24(h) | MD_RESERVED_49_47(h) | MD_RESERVED_55(h) |
				 MD_RESERVED_62(h) | MD_WR_MASK_VALID(h), 0);
		unsigned cnt = (unsigned)((MD_LAST_ELEM(h) + 1) * (MD_LAST_FIELD(h) + 1));
		for (unsigned e = 0; e < cnt; e++, k++) {
			assert_true(k < n);
			/* The element this slot stands for is the walk's k-th. */
			assert_int_equal(MD_CLASS(h), MD_CLASS(ids[k]));
			assert_int_equal(MD_FIELD_CODE(h) + e, MD_FIELD_CODE(ids[k]));
			assert_int_equal(q[pos++], vals[k]);
		}
	}
	assert_int_equal(k, n);
	assert_int_equal(pos * 8, size);
	tdxsim_close(s);
}

static void test_tdh_sys_rdall__start_at_field(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	fill_page(s, PAGE_PA);
	uint64_t next;
	assert_tdx_status(TDX_SUCCESS, rdall(s, 0, PAGE_PA, MD_SYS_NUM_CPUID_CONFIG, &next));
	assert_int_equal(next, MD_FIELD_ID_NULL);
	uint64_t q[512];
	read_page(s, PAGE_PA, q);
	/* NUM_CPUID_CONFIG (code 4) is followed by CONFIG_FLAGS_FIXED0 (code 6):
	 * a one-field sequence. */
	assert_int_equal(q[1], seq_header(MD_SYS_NUM_CPUID_CONFIG, 0, 0));
	assert_int_equal(q[2], 12);
	assert_true((q[0] & 0xFFFF) < 8 + 8 * N_ELEMENTS);
	tdxsim_close(s);
}

static void test_tdh_sys_rdall__start_not_first_element(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	fill_page(s, PAGE_PA);
	uint64_t next = 0;
	/* Element 1 of CPUID_CONFIG_VALUES[0] does not start a field. */
	assert_tdx_status(TDX_METADATA_FIELD_ID_INCORRECT,
			  rdall(s, 0, PAGE_PA, MD_SYS_CPUID_CONFIG_VALUES + 1, &next));
	assert_int_equal(next, MD_FIELD_ID_NULL);
	assert_page_untouched(s, PAGE_PA);
	tdxsim_close(s);
}

static void test_tdh_sys_rdall__start_wrong_element_size(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	fill_page(s, PAGE_PA);
	uint64_t next = 0;
	assert_tdx_status(TDX_METADATA_FIELD_ID_INCORRECT,
			  rdall(s, 0, PAGE_PA, 0x9100000300000008ULL, &next));
	assert_int_equal(next, MD_FIELD_ID_NULL);
	assert_page_untouched(s, PAGE_PA);
	tdxsim_close(s);
}

static void test_tdh_sys_rdall__start_unknown_field(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	fill_page(s, PAGE_PA);
	uint64_t next = 0;
	assert_tdx_status(TDX_METADATA_FIELD_ID_INCORRECT,
			  rdall(s, 0, PAGE_PA, 0x3F00000300000000ULL, &next));
	assert_int_equal(next, MD_FIELD_ID_NULL);
	assert_page_untouched(s, PAGE_PA);
	tdxsim_close(s);
}

static void test_tdh_sys_rdall__reserved_bits_not_checked(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	uint64_t next;
	assert_tdx_status(TDX_SUCCESS,
			  rdall(s, 0, PAGE_PA, MD_SYS_NUM_CPUID_CONFIG | (1ULL << 24) | (1ULL << 62),
				&next));
	assert_int_equal(next, MD_FIELD_ID_NULL);
	uint64_t q[512];
	read_page(s, PAGE_PA, q);
	assert_int_equal(q[1], seq_header(MD_SYS_NUM_CPUID_CONFIG, 0, 0));
	tdxsim_close(s);
}

static void test_tdh_sys_rdall__lp_not_initialised(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	tsim_sys_init(s);
	fill_page(s, PAGE_PA);
	uint64_t next = 0;
	assert_tdx_status(TDX_SYS_LP_INIT_NOT_DONE, rdall(s, 1, PAGE_PA, MD_FIELD_ID_NULL, &next));
	assert_int_equal(next, MD_FIELD_ID_NULL);
	assert_tdx_status(TDX_SYS_LP_INIT_NOT_DONE, rdall(s, 1, PAGE_PA, 0, &next));
	assert_int_equal(next, MD_FIELD_ID_NULL);
	assert_page_untouched(s, PAGE_PA);
	tdxsim_close(s);
}

static void test_tdh_sys_rdall__before_sys_init(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	fill_page(s, PAGE_PA);
	uint64_t next = 0;
	assert_tdx_status(TDX_SYS_LP_INIT_NOT_DONE, rdall(s, 0, PAGE_PA, 0, &next));
	assert_int_equal(next, MD_FIELD_ID_NULL);
	assert_page_untouched(s, PAGE_PA);
	tdxsim_close(s);
}

static void test_tdh_sys_rdall__rdx_misaligned(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	fill_page(s, PAGE_PA);
	uint64_t next = 0;
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX),
			  rdall(s, 0, PAGE_PA + 0x800, MD_FIELD_ID_NULL, &next));
	assert_int_equal(next, MD_FIELD_ID_NULL);
	assert_page_untouched(s, PAGE_PA);
	tdxsim_close(s);
}

static void test_tdh_sys_rdall__rdx_private_keyid(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	tdxsim_info info = sim_info(s);
	fill_page(s, PAGE_PA);
	uint64_t next;
	uint64_t pa = PAGE_PA | ((uint64_t)info.first_tdx_keyid << info.keyid_shift);
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX),
			  rdall(s, 0, pa, MD_FIELD_ID_NULL, &next));
	assert_page_untouched(s, PAGE_PA);
	tdxsim_close(s);
}

static void test_tdh_sys_rdall__rdx_mktme_keyid_accepted(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	tdxsim_info info = sim_info(s);
	assert_true(info.mktme_keyids >= 1);
	fill_page(s, PAGE_PA);
	uint64_t next;
	uint64_t pa = PAGE_PA | (1ULL << info.keyid_shift);
	assert_tdx_status(TDX_SUCCESS, rdall(s, 0, pa, MD_FIELD_ID_NULL, &next));
	uint64_t q[512];
	read_page(s, PAGE_PA, q);
	assert_true(((q[0] >> 16) & 0xFFFF) >= 1);
	assert_int_equal(MD_FIELD_CODE(q[1]), 0); /* NUM_PKGS first */
	assert_int_equal(q[2], 2);
	tdxsim_close(s);
}

static void test_tdh_sys_rdall__rdx_above_max_pa(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	uint64_t next;
	assert_tdx_status(tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RDX),
			  rdall(s, 0, 1ULL << 52, MD_FIELD_ID_NULL, &next));
	tdxsim_close(s);
}

static void test_tdh_sys_rdall__in_ready(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_bringup(s, &t);
	fill_page(s, t.scratch_pa);
	uint64_t next;
	assert_tdx_status(TDX_SUCCESS, rdall(s, 3, t.scratch_pa, MD_FIELD_ID_NULL, &next));
	assert_int_equal(next, MD_FIELD_ID_NULL);
	uint64_t q[512];
	read_page(s, t.scratch_pa, q);
	assert_int_equal(q[2], 2);
	tdxsim_close(s);
}

static void test_tdh_sys_rdall__after_shutdown(void **state)
{
	(void)state;
	tdxsim *s = tsim_create_vmxon();
	struct tsim_tdmrs t;
	tsim_bringup(s, &t);
	struct tdx_module_args a = { 0 };
	seamcall_ok(s, 0, TDH_SYS_SHUTDOWN, &a);
	fill_page(s, t.scratch_pa);
	uint64_t next;
	assert_tdx_status(TDX_SYS_SHUTDOWN, rdall(s, 0, t.scratch_pa, 0, &next));
	assert_int_equal(next, 0);               /* dispatcher error: R8 untouched */
	assert_page_untouched(s, t.scratch_pa);
	tdxsim_close(s);
}

static void test_tdh_sys_rdall__fault_refuses_unreachable_status(void **state)
{
	(void)state;
	tdxsim *s = sim_lp_ready();
	static const uint64_t st[] = { TDX_KEY_GENERATION_FAILED, TDX_RND_NO_ENTROPY,
				       TDX_SYS_BUSY, TDX_OPERAND_BUSY };
	for (unsigned i = 0; i < 4; i++) {
		tdxsim_fault f = TDXSIM_FAULT_INIT;
		f.leaf = TDH_SYS_RDALL;
		f.nth = 1;
		f.status = st[i];
		assert_int_equal(tdxsim_fault_add(s, &f, NULL), TDXSIM_ERR_ARG);
	}
	tdxsim_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdh_sys_rdall__success),
		cmocka_unit_test(test_tdh_sys_rdall__list_header_and_first_sequence),
		cmocka_unit_test(test_tdh_sys_rdall__sequences_merge_consecutive_fields),
		cmocka_unit_test(test_tdh_sys_rdall__values_match_sys_rd),
		cmocka_unit_test(test_tdh_sys_rdall__start_at_field),
		cmocka_unit_test(test_tdh_sys_rdall__start_not_first_element),
		cmocka_unit_test(test_tdh_sys_rdall__start_wrong_element_size),
		cmocka_unit_test(test_tdh_sys_rdall__start_unknown_field),
		cmocka_unit_test(test_tdh_sys_rdall__reserved_bits_not_checked),
		cmocka_unit_test(test_tdh_sys_rdall__lp_not_initialised),
		cmocka_unit_test(test_tdh_sys_rdall__before_sys_init),
		cmocka_unit_test(test_tdh_sys_rdall__rdx_misaligned),
		cmocka_unit_test(test_tdh_sys_rdall__rdx_private_keyid),
		cmocka_unit_test(test_tdh_sys_rdall__rdx_mktme_keyid_accepted),
		cmocka_unit_test(test_tdh_sys_rdall__rdx_above_max_pa),
		cmocka_unit_test(test_tdh_sys_rdall__in_ready),
		cmocka_unit_test(test_tdh_sys_rdall__after_shutdown),
		cmocka_unit_test(test_tdh_sys_rdall__fault_refuses_unreachable_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
