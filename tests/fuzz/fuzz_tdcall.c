/*
 * libFuzzer target: guest TDCALLs with arbitrary registers. The guest
 * (fuzz_common.h) waits in a TDG.VP.VMCALL whose mask returns the host's
 * RDX, RBX, RSI, RDI and R8-R15 to it; it then issues a TDCALL with
 * RAX = RBX, RCX = RSI and the other registers as given, and comes back.
 * So each TDH.VP.ENTER makes one TDCALL of the host's choosing, run by the
 * module's TDCALL dispatcher (seam/tdcall.c) inside the real guest runner.
 *
 * Input: records until the input ends (at most 64):
 *   leaf     1 byte: bits 4:0 the TDCALL leaf (% 28: undefined ones
 *            included), bit 5 a version byte follows, bit 6 8 raw RAX
 *            bytes instead, bit 7 unused
 *   regmask  2 bytes: bit i = RCX RDX R8..R15 RDI gets a value
 *   values   per set register: a kind byte: 0 a guest GPA (next byte
 *            indexes a list: unmapped and free GPAs, shared GPAs, out of
 *            range), 1 the same | level (next byte),
 *            2 a small number, 3 8 raw bytes, 4 all ones, 5 a metadata field
 *            id (class byte, field byte), 6-7 zero
 * A TDG.VP.VMCALL of the fuzzed TDCALL's own is answered by entering again
 * (at most 4 times); any other TD exit, or a vCPU that cannot run any more,
 * ends the input. Invariants after every entry.
 */
#include "fuzz_common.h"

#define MAX_CALLS 64

/* GPAs for the TDCALLs' operands. The guest's own code and page-table
 * pages are left out of the list (raw values can still name them): a report
 * written over the code turns the guest into a random program that runs a
 * whole entry's budget, which the fuzzer can do without. */
static const uint64_t gpas[] = {
	0xFFFFD000ULL, 0xFFE00000ULL, 0x1000, 0x200000, 0x40000000ULL, FZ_GPA_CODE + 0x1000,
	1ULL << 47, (1ULL << 47) | 0x1000, 1ULL << 51, 0xFFFFFFFFF000ULL, 0xFFFFD800ULL,
};

static uint64_t value(struct fz_in *in)
{
	switch (fz_u8(in) & 7) {
	case 0:
		return gpas[fz_u8(in) % (sizeof(gpas) / sizeof(gpas[0]))];
	case 1: {
		uint8_t b = fz_u8(in);
		return gpas[(b >> 2) % (sizeof(gpas) / sizeof(gpas[0]))] | (b & 3);
	}
	case 2:
		return fz_u8(in);
	case 3:
		return fz_u64(in);
	case 4:
		return ~0ULL;
	case 5: {
		uint8_t cls = fz_u8(in), field = fz_u8(in);
		return ((uint64_t)(cls & 0x3F) << 56) | ((uint64_t)(cls >> 6) << 32) | field;
	}
	default:
		return 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_prep prep;
	static struct {
		struct tsim_env e;
		struct tsim_td td;
	} x;
	struct fz_in in = { data, size };
	fz_begin();
	tdxsim *s = fz_prep_restore(&prep, &x, sizeof(x));
	if (!s) {
		tdxsim_config cfg;
		fz_config(&cfg);
		memset(&x, 0, sizeof(x));
		tsim_env_init_cfg(&x.e, &cfg);
		fz_td_build(&x.e, &x.td, 1);
		s = x.e.s;
		fz_prep_keep(&prep, s, &x, sizeof(x));
	}
	fz_check(s, "setup");
	uint64_t tdvpr = x.td.vcpu[0].tdvpr;

	for (unsigned call = 0; call < MAX_CALLS && fz_left(&in); call++) {
		uint8_t lb = fz_u8(&in);
		uint64_t rax;
		if (lb & 0x40) {
			rax = fz_u64(&in);
		} else {
			rax = (lb & 0x1F) % 28;
			if (lb & 0x20)
				rax |= (uint64_t)fz_u8(&in) << TDX_VERSION_SHIFT;
		}
		uint16_t mask = fz_u16(&in);
		uint64_t rcx = 0;
		/* The guest's TDCALL registers, through the VMCALL's mask. */
		struct tdx_module_args a = { .rcx = tdvpr, .rbx = rax };
		uint64_t *dst[12] = { &rcx, &a.rdx, &a.r8, &a.r9, &a.r10, &a.r11, &a.r12, &a.r13,
				      &a.r14, &a.r15, &a.rdi, NULL };
		for (unsigned i = 0; i < 11; i++)
			if (mask & (1u << i))
				*dst[i] = value(&in);
		a.rsi = rcx;
		uint64_t st = tdxsim_seamcall(s, 0, TDH_VP_ENTER, &a);
		char what[64];
		snprintf(what, sizeof(what), "TDCALL %u (RAX 0x%llx)", call, (unsigned long long)rax);
		fz_check(s, what);
		/* Back in the loop's VMCALL: the TDCALL is done. A VMCALL of the
		 * TDCALL's own (leaf 0) is answered by entering again; any other
		 * exit (EPT violation, budget, triple fault, fatal) ends the input. */
		for (unsigned k = 0; k < 4 && st == FZ_EXIT_VMCALL && a.rcx != FZ_MASK; k++) {
			a = (struct tdx_module_args){ .rcx = tdvpr };
			st = tdxsim_seamcall(s, 0, TDH_VP_ENTER, &a);
			fz_check(s, "re-entry");
		}
		if (!(st == FZ_EXIT_VMCALL && a.rcx == FZ_MASK))
			break;
	}
	fz_prep_done(&prep, s);
	return 0;
}
