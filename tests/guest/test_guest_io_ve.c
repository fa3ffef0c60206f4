/*
 * guest_io_ve: raw IN/OUT in a TD are #VEs with exit reason 30, the SDM I/O
 * exit qualification and the instruction length in VE_INFO, delivered at
 * the instruction with nothing of it done (RAX unchanged, no later store);
 * the runtime's handler turns them into TDG.VP.VMCALL<IO>, which reach the
 * test's I/O callback with the right port, size, direction and value.
 * INS/OUTS report the string and REP bits and the instruction information.
 */
#include "tg_fixture.h"

#define PORT_IMM 0x71
#define VAL_OUT  0x89ABCDEFull
#define VAL_IN   0xC3C2C1C0ull
#define RAX_IN   0x1122334455667788ull
#define REASON_IO 30ull

struct io_call {
	uint16_t port;
	unsigned size;
	bool write;
	uint64_t val;
};

struct io_log {
	struct io_call call[32];
	unsigned n;
};

static uint64_t io_cb(struct tg_vcpu *v, uint16_t port, unsigned size, bool write, uint64_t *val)
{
	struct io_log *l = v->vm->opaque;
	if (l->n < 32)
		l->call[l->n] = (struct io_call){ .port = port, .size = size, .write = write,
						  .val = write ? *val : 0 };
	l->n++;
	if (!write)
		*val = VAL_IN & ((1ULL << (8 * size)) - 1);
	return TG_VMCALL_SUCCESS;
}

static uint64_t mask(unsigned size)
{
	return size == 4 ? 0xFFFFFFFFull : (1ULL << (8 * size)) - 1;
}

static void test_guest_io_ve__raw_in_out(void **state)
{
	(void)state;
	static const struct {
		uint16_t port;
		unsigned size;
		bool out;
		uint64_t qual;
		unsigned len;
	} want[12] = {
		{ PORT_IMM, 1, true, 0x00710040, 2 },           /* E6 ib     out imm8, al */
		{ PORT_IMM, 2, true, 0x00710041, 3 },           /* 66 E7 ib  out imm8, ax */
		{ PORT_IMM, 4, true, 0x00710043, 2 },           /* E7 ib     out imm8, eax */
		{ GUEST_IO_PORT, 1, true, 0x05100000, 1 },      /* EE        out dx, al */
		{ GUEST_IO_PORT, 2, true, 0x05100001, 2 },      /* 66 EF     out dx, ax */
		{ GUEST_IO_PORT, 4, true, 0x05100003, 1 },      /* EF        out dx, eax */
		{ PORT_IMM, 1, false, 0x00710048, 2 },          /* E4 ib     in al, imm8 */
		{ PORT_IMM, 2, false, 0x00710049, 3 },          /* 66 E5 ib  in ax, imm8 */
		{ PORT_IMM, 4, false, 0x0071004B, 2 },          /* E5 ib     in eax, imm8 */
		{ GUEST_IO_PORT, 1, false, 0x05100008, 1 },     /* EC        in al, dx */
		{ GUEST_IO_PORT, 2, false, 0x05100009, 2 },     /* 66 ED     in ax, dx */
		{ GUEST_IO_PORT, 4, false, 0x0510000B, 1 },     /* ED        in eax, dx */
	};
	struct io_log log;
	memset(&log, 0, sizeof(log));
	struct tg_fx f;
	tg_fx_init(&f, "guest_io_ve", 0);
	f.vm->ops.io = io_cb;
	f.vm->opaque = &log;
	struct ucall uc;
	for (unsigned i = 0; i < 12; i++) {
		vcpu_expect_sync(f.v, &uc, i + 1);
		unsigned sz = want[i].size;
		/* The host saw the access. */
		assert_int_equal(log.n, i + 1);
		assert_int_equal(log.call[i].port, want[i].port);
		assert_int_equal(log.call[i].size, sz);
		assert_int_equal(log.call[i].write, want[i].out);
		if (want[i].out)
			assert_int_equal(log.call[i].val, VAL_OUT & mask(sz));
		/* VE_INFO, RIP and RAX at the #VE. */
		assert_int_equal(uc.args[2], 0);
		assert_int_equal(uc.args[3], want[i].qual);
		assert_int_equal(uc.args[4], want[i].len | (REASON_IO << 32));
		assert_int_equal(uc.args[5], want[i].out ? VAL_OUT : RAX_IN);
		/* RAX after: OUT leaves it; IN of 1/2 bytes merges, of 4 zero-extends. */
		uint64_t rax = want[i].out ? VAL_OUT
			     : sz == 4 ? VAL_IN : (RAX_IN & ~mask(sz)) | (VAL_IN & mask(sz));
		assert_int_equal(uc.args[1], rax);
	}
	vcpu_expect_sync(f.v, &uc, 13);
	assert_int_equal(uc.args[1], 0);                /* the store after the IN had not run */
	assert_int_equal(uc.args[2], 0x1111);
	assert_int_equal(uc.args[3], 0);
	assert_int_equal(log.n, 13);

	vcpu_expect_sync(f.v, &uc, 14);                 /* F3 6E: rep outsb, DS, 64-bit addresses */
	assert_int_equal(uc.args[1], 0x05100030);       /* size 1, out, string, REP, DX */
	assert_int_equal(uc.args[2], 2);
	assert_int_equal(uc.args[3], (2u << 7) | (3u << 15));
	assert_int_equal(uc.args[4], 3);                /* RCX untouched */
	assert_int_equal(uc.args[5], 0);                /* RSI untouched */
	vcpu_expect_sync(f.v, &uc, 15);                 /* 66 6D: insw, ES */
	assert_int_equal(uc.args[1], 0x05100019);       /* size 2, in, string */
	assert_int_equal(uc.args[2], 2);
	assert_int_equal(uc.args[3], 2u << 7);
	assert_int_equal(uc.args[5], 0);
	assert_int_equal(log.n, 13);                    /* the skipped string I/O never reached the host */
	vcpu_expect_done(f.v);
	tg_fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_io_ve__raw_in_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
