/*
 * guest_mmio_ve: raw loads and stores of 1/2/4/8 bytes to a shared GPA the
 * host marks as MMIO the way KVM does (shared-EPT entry not present with
 * suppress #VE clear: td_map_mmio) are EPT-violation #VEs in the TD (exit
 * reason 48, GLA and GPA, qualification with the access type and GLA
 * valid); the runtime decodes the MOV and issues
 * TDG.VP.VMCALL<#VE.RequestMMIO>, which reaches the test's MMIO callback
 * with GPA, size, direction and value. A shared GPA whose entry keeps
 * suppress #VE set is a TD exit (reason 48, R8 = GPA) instead, as KVM sees
 * the first access to an MMIO page before it installs the MMIO entry.
 */
#include "tg_fixture.h"

#define REASON_EPT   48
#define QUAL_R       0x1ULL
#define QUAL_W       0x2ULL
#define QUAL_GLA     0x180ULL           /* GLA valid, access to the translation */
#define SHARED_BIT   (1ULL << 47)

struct mmio_call {
	uint64_t gpa;
	unsigned size;
	bool write;
	uint64_t val;
};

struct dev {
	uint8_t mem[0x2000];
	struct mmio_call call[64];
	unsigned n;
};

static uint64_t mmio_cb(struct tg_vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *val)
{
	struct dev *d = v->vm->opaque;
	uint64_t off = gpa - GUEST_MMIO_OFFSET;
	if (gpa < GUEST_MMIO_OFFSET || off + size > sizeof(d->mem))
		return TG_VMCALL_INVALID_OPERAND;
	if (d->n < 64)
		d->call[d->n] = (struct mmio_call){ .gpa = gpa, .size = size, .write = write,
						    .val = write ? *val : 0 };
	d->n++;
	if (write) {
		for (unsigned i = 0; i < size; i++)
			d->mem[off + i] = (uint8_t)(*val >> (8 * i));
	} else {
		uint64_t x = 0;
		for (unsigned i = 0; i < size; i++)
			x |= (uint64_t)d->mem[off + i] << (8 * i);
		*val = x;
	}
	return TG_VMCALL_SUCCESS;
}

static void expect_call(const struct dev *d, unsigned i, uint64_t off, unsigned size, bool write,
			uint64_t val)
{
	assert_true(i < d->n);
	assert_int_equal(d->call[i].gpa, GUEST_MMIO_OFFSET + off);
	assert_int_equal(d->call[i].size, size);
	assert_int_equal(d->call[i].write, write);
	if (write)
		assert_int_equal(d->call[i].val, val);
}

static void test_guest_mmio_ve__raw_loads_and_stores(void **state)
{
	(void)state;
	static struct dev d;
	memset(&d, 0, sizeof(d));
	d.mem[0x60] = 0x80;
	struct tg_fx f;
	tg_fx_init(&f, "guest_mmio_ve", 0);
	td_map_mmio(f.vm, GUEST_MMIO_OFFSET, 4096);
	f.vm->ops.mmio = mmio_cb;
	f.vm->opaque = &d;
	struct ucall uc;

	vcpu_expect_sync(f.v, &uc, 1);
	assert_int_equal(d.n, 8);
	expect_call(&d, 0, 0x00, 1, true, 0x11);
	expect_call(&d, 1, 0x10, 2, true, 0x2222);
	expect_call(&d, 2, 0x20, 4, true, 0x33333333);
	expect_call(&d, 3, 0x30, 8, true, 0x4444444444444444ULL);
	expect_call(&d, 4, 0x40, 1, true, 0x55);
	expect_call(&d, 5, 0x48, 4, true, 0x66666666);
	expect_call(&d, 6, 0x50, 8, true, 0xFFFFFFFFFFFFFFFEULL);
	expect_call(&d, 7, 0x58, 8, true, 0x7777);
	assert_int_equal(uc.args[1], REASON_EPT);
	assert_int_equal(uc.args[2], QUAL_W | QUAL_GLA);
	assert_int_equal(uc.args[3], 0);                /* GLA: the store's address */
	assert_int_equal(uc.args[4], SHARED_BIT | (GUEST_MMIO_OFFSET + 0x58));
	assert_int_equal(uc.args[5], 8);                /* one #VE per access */

	vcpu_expect_sync(f.v, &uc, 2);
	assert_int_equal(d.n, 12);
	expect_call(&d, 8, 0x00, 1, false, 0);
	expect_call(&d, 9, 0x10, 2, false, 0);
	expect_call(&d, 10, 0x20, 4, false, 0);
	expect_call(&d, 11, 0x30, 8, false, 0);
	assert_int_equal(uc.args[1], 0xFFFFFFFFFFFFFF11ULL);    /* 8-bit load: the rest kept */
	assert_int_equal(uc.args[2], 0xFFFFFFFFFFFF2222ULL);
	assert_int_equal(uc.args[3], 0x33333333);               /* 32-bit load zero-extends */
	assert_int_equal(uc.args[4], 0x4444444444444444ULL);
	assert_int_equal(uc.args[5], QUAL_R | QUAL_GLA);

	vcpu_expect_sync(f.v, &uc, 3);
	assert_int_equal(d.n, 16);
	expect_call(&d, 12, 0x00, 1, false, 0);
	expect_call(&d, 13, 0x10, 2, false, 0);
	expect_call(&d, 14, 0x60, 1, false, 0);
	expect_call(&d, 15, 0x00, 1, false, 0);
	assert_int_equal(uc.args[1], 0x11);                     /* MOVZX */
	assert_int_equal(uc.args[2], 0x2222);
	assert_int_equal(uc.args[3], 0xFFFFFFFFFFFFFF80ULL);    /* MOVSX */
	assert_int_equal(uc.args[4], 0x1134);                   /* into AH */

	/* Each #VE at its load, nothing before it in the block done twice. */
	vcpu_expect_sync(f.v, &uc, 5);
	assert_int_equal(uc.args[1], 3);
	assert_int_equal(uc.args[2], 0x33333333);
	assert_int_equal(d.n, 19);
	for (unsigned i = 16; i < 19; i++)
		expect_call(&d, i, 0x20, 4, false, 0);
	vcpu_expect_done(f.v);
	tg_fx_fini(&f);
}

/* First access to a shared page not marked yet: suppress #VE is set, so a
 * TD exit (EPT violation, R8 = GPA, read); once the host marks the page
 * as MMIO the guest's retry is a #VE. */
static void test_guest_mmio_ve__suppressed_is_td_exit(void **state)
{
	(void)state;
	static struct dev d;
	memset(&d, 0, sizeof(d));
	d.mem[0x1000] = 0xEF;
	d.mem[0x1001] = 0xBE;
	d.mem[0x1002] = 0xAD;
	d.mem[0x1003] = 0xDE;
	d.mem[0x60] = 0x80;
	struct tg_fx f;
	tg_fx_init(&f, "guest_mmio_ve", 1);
	td_map_mmio(f.vm, GUEST_MMIO_OFFSET, 4096);
	f.vm->ops.mmio = mmio_cb;
	f.vm->opaque = &d;
	struct ucall uc;
	vcpu_expect_sync(f.v, &uc, 1);
	vcpu_expect_sync(f.v, &uc, 2);
	vcpu_expect_sync(f.v, &uc, 3);
	unsigned n = d.n;

	/* The next entry ends in the EPT violation (re-entering after
	 * interrupt exits, as vcpu_run does). */
	struct tdx_module_args a;
	uint64_t st;
	do {
		a = f.v->next;
		a.rcx = f.v->tv->tdvpr;
		st = seamcall_raw(f.e.s, f.v->lp, TDH_VP_ENTER, &a);
		memset(&f.v->next, 0, sizeof(f.v->next));
	} while (st == (TDX_SUCCESS | 1));
	assert_int_equal(st, TDX_SUCCESS | REASON_EPT);
	assert_int_equal(a.r8 & ~0xFFFULL, SHARED_BIT | (GUEST_MMIO_OFFSET + 0x1000));
	assert_int_equal(a.rcx & 7, QUAL_R);
	assert_int_equal(d.n, n);                       /* nothing reached the device */

	td_map_mmio(f.vm, GUEST_MMIO_OFFSET + 0x1000, 4096);
	vcpu_expect_sync(f.v, &uc, 4);
	assert_int_equal(uc.args[1], 0xDEADBEEF);
	expect_call(&d, n, 0x1000, 4, false, 0);
	vcpu_expect_sync(f.v, &uc, 5);
	assert_int_equal(uc.args[1], 3);
	assert_int_equal(d.n, n + 4);
	vcpu_expect_done(f.v);
	tg_fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_mmio_ve__raw_loads_and_stores),
		cmocka_unit_test(test_guest_mmio_ve__suppressed_is_td_exit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
