/*
 * libFuzzer target: the module's SEAMCALL dispatcher with arbitrary leaves
 * and registers, from one of four prepared states.
 *
 * Input: byte 0 picks the state (% 4): 0 fresh (VMXON on every LP, nothing
 * else), 1 READY (whole bring-up, every TDMR initialised), 2 a TD initialised
 * and finalised with one vCPU, 3 the same TD with the vCPU entered once (it
 * waits in its guest loop). Byte 1, bit 0: arm a probabilistic fault plan
 * (OPERAND_BUSY, SYS_BUSY, RND_NO_ENTROPY, INTERRUPTED_RESUMABLE at 20%).
 * Then calls until the input ends (at most 48):
 *   lp       1 byte (% LPs)
 *   leaf     1 byte: bits 6:0 leaf number (% 98: undefined ones included);
 *            bit 7: a version byte follows (bits 23:16 of RAX); a leaf byte
 *            0xFF takes 8 raw RAX bytes instead
 *   regmask  2 bytes: bit i set = register i (RCX RDX R8..R15 RBX RDI RSI)
 *            gets a value, else 0
 *   values   per set register, a kind byte and its operand bytes:
 *            0 an interesting PA (next byte indexes the pool), 1 the same with
 *            a KeyID in the upper bits (next byte), 2 a pool PA + a small
 *            offset (next byte * 8), 3 a GPA of the guest | level (next
 *            byte), 4 a small number (next byte), 5 8 raw bytes, 6 all ones,
 *            7 a metadata field id (class byte, field byte)
 * Interesting PAs: the TD's TDR, TDCS, TDVPR, TDCX, S-EPT and private pages,
 * free pages, TDMR bases and ends, PAMT blocks, the TDMR array and shared
 * scratch memory, a PA outside every TDMR and one above the top of memory.
 * After every call tdxsim_check_invariants() must hold.
 */
#include "fuzz_common.h"

#define MAX_CALLS 48
#define POOL_MAX 128

/* A prepared state's bookkeeping (fz_prep aux). */
struct ctx {
	struct tsim_env e;
	struct tsim_td td;
	struct {
		uint64_t pa[POOL_MAX];
		unsigned n;
	} pool;
	uint32_t hkid, shift;
};
static struct ctx cx;
#define pool cx.pool

static void pool_add(uint64_t pa)
{
	if (pool.n < POOL_MAX)
		pool.pa[pool.n++] = pa;
}

static void pool_env(struct tsim_env *e)
{
	for (unsigned i = 0; i < e->t.n; i++) {
		pool_add(e->t.info[i].base);
		pool_add(e->t.info[i].base + e->t.info[i].size);
		pool_add(e->t.info_pa[i]);
		pool_add(e->t.pamt_pa[i]);
		pool_add(e->t.pamt_pa[i] + e->t.pamt_bytes[i] - 4096);
	}
	pool_add(e->t.array_pa);
	pool_add(e->t.scratch_pa);
	pool_add(tsim_pa_outside(e));
	pool_add(1ULL << 45);
	for (int i = 0; i < 8; i++)
		pool_add(tsim_page(e));
}

static void pool_td(struct tsim_td *td)
{
	pool_add(td->tdr);
	for (unsigned i = 0; i < td->n_tdcs; i++)
		pool_add(td->tdcs[i]);
	for (unsigned v = 0; v < td->n_vcpus; v++) {
		pool_add(td->vcpu[v].tdvpr);
		pool_add(td->vcpu[v].tdcx[0]);
	}
	for (unsigned i = 0; i < td->n_sept; i++)
		pool_add(td->sept[i].pa);
	for (unsigned i = 0; i < td->n_pages; i++)
		pool_add(td->page[i].pa);
}

static const uint64_t gpas[] = {
	FZ_GPA_CODE, FZ_GPA_PT, 0xFFE00000ULL, 0xC0000000ULL, 0, 0x1000, 0x200000, 0x40000000ULL,
	1ULL << 47, (1ULL << 47) | FZ_GPA_CODE, 1ULL << 51, 0xFFFFFFFFF000ULL,
};

static uint64_t value(struct fz_in *in, uint32_t hkid, uint32_t keyid_shift)
{
	uint8_t kind = fz_u8(in) & 7;
	switch (kind) {
	case 0:
		return pool.n ? pool.pa[fz_u8(in) % pool.n] : 0;
	case 1: {
		uint64_t pa = pool.n ? pool.pa[fz_u8(in) % pool.n] : 0;
		uint8_t k = fz_u8(in);
		uint64_t keyid = k < 0x80 ? hkid : (k & 0x7F);
		return pa | (keyid << keyid_shift);
	}
	case 2:
		return (pool.n ? pool.pa[fz_u8(in) % pool.n] : 0) + (uint64_t)fz_u8(in) * 8;
	case 3: {
		uint8_t b = fz_u8(in);
		return gpas[(b >> 2) % (sizeof(gpas) / sizeof(gpas[0]))] | (b & 3);
	}
	case 4:
		return fz_u8(in);
	case 5:
		return fz_u64(in);
	case 6:
		return ~0ULL;
	default: {
		uint8_t cls = fz_u8(in), field = fz_u8(in);
		return ((uint64_t)(cls & 0x3F) << 56) | ((uint64_t)(cls >> 6) << 32) | field;
	}
	}
}

static void fault_plan(tdxsim *s)
{
	static const uint64_t st[] = {
		TDX_OPERAND_BUSY, TDX_SYS_BUSY, TDX_RND_NO_ENTROPY, TDX_INTERRUPTED_RESUMABLE,
	};
	for (unsigned i = 0; i < 4; i++) {
		tdxsim_fault f = TDXSIM_FAULT_INIT;
		f.status = st[i];
		f.probability = 0.2;
		TSIM_CHECK_OK(tdxsim_fault_add(s, &f, NULL));
	}
}

/* Build state 0-3 into cx; returns its handle. */
static tdxsim *build(unsigned state)
{
	tdxsim_config cfg;
	fz_config(&cfg);
	memset(&cx, 0, sizeof(cx));
	if (state == 0) {
		tdxsim *s = tsim_create(&cfg);
		tsim_vmxon_all(s);
		tdxsim_info info = { .size = sizeof(info) };
		TSIM_CHECK_OK(tdxsim_info_get(s, &info));
		cx.shift = info.keyid_shift;
		cx.hkid = info.first_tdx_keyid;
		for (uint64_t pa = 0; pa < (2ULL << 30); pa += 128ULL << 20)
			pool_add(pa);
		pool_add(2ULL << 20);
		return s;
	}
	tsim_env_init_cfg(&cx.e, &cfg);
	cx.shift = (uint32_t)cx.e.keyid_shift;
	cx.hkid = cx.e.first_keyid;
	if (state >= 2) {
		fz_td_build(&cx.e, &cx.td, state == 3);
		cx.hkid = cx.td.hkid;
		pool_td(&cx.td);
	}
	pool_env(&cx.e);
	return cx.e.s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_prep prep[4];
	struct fz_in in = { data, size };
	fz_begin();
	unsigned state = fz_u8(&in) % 4;
	uint8_t opts = fz_u8(&in);
	tdxsim *s = fz_prep_restore(&prep[state], &cx, sizeof(cx));
	if (!s) {
		s = build(state);
		fz_prep_keep(&prep[state], s, &cx, sizeof(cx));
	}
	uint32_t hkid = cx.hkid, shift = cx.shift;
	tdxsim_info info = { .size = sizeof(info) };
	TSIM_CHECK_OK(tdxsim_info_get(s, &info));
	if (opts & 1)
		fault_plan(s);
	fz_check(s, "setup");

	for (unsigned call = 0; call < MAX_CALLS && fz_left(&in); call++) {
		unsigned lp = fz_u8(&in) % info.n_lps;
		uint8_t lb = fz_u8(&in);
		uint64_t rax;
		if (lb == 0xFF) {
			rax = fz_u64(&in) & ~TDX_SEAMLDR_BIT;
		} else {
			rax = (lb & 0x7F) % 98;
			if (lb & 0x80)
				rax |= (uint64_t)fz_u8(&in) << TDX_VERSION_SHIFT;
		}
		uint16_t mask = fz_u16(&in);
		uint64_t r[13] = { 0 };
		for (unsigned i = 0; i < 13; i++)
			if (mask & (1u << i))
				r[i] = value(&in, hkid, shift);
		struct tdx_module_args a;
		_Static_assert(sizeof(a) == sizeof(r), "13 registers");
		memcpy(&a, r, sizeof(a));
		(void)tdxsim_seamcall(s, lp, rax, &a);
		char what[64];
		snprintf(what, sizeof(what), "call %u (RAX 0x%llx on LP %u)", call,
			 (unsigned long long)rax, lp);
		fz_check(s, what);
	}
	fz_prep_done(&prep[state], s);
	return 0;
}
