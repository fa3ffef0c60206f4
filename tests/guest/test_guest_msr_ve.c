/*
 * guest_msr_ve: raw RDMSR/WRMSR in a TD get the TDX module's treatment: an
 * MSR outside the MSR bitmaps is a #VE (exit reason 31/32, qualification
 * 0, length 2, at the instruction) that the runtime turns into
 * TDG.VP.VMCALL<RDMSR/WRMSR> for the host; IA32_XAPIC_DISABLE_STATUS and
 * IA32_DEBUGCTL are emulated by the module, IA32_KERNEL_GS_BASE is native
 * (neither reaches the host nor the #VE handler); IA32_SGXLEPUBKEYHASH0
 * and a reserved DEBUGCTL bit are #GP(0); a WRMSR of IA32_EFER may flip
 * SCE only, other changes are a #VE.
 */
#include "tg_fixture.h"

#define REASON_RDMSR 31
#define REASON_WRMSR 32
#define MSR_EFER     0xC0000080u

struct msrs {
	uint64_t test_msr;
	unsigned rd, wr, other;
	uint32_t last_other;
};

static uint64_t rdmsr_cb(struct tg_vcpu *v, uint32_t msr, uint64_t *val)
{
	struct msrs *m = v->vm->opaque;
	if (msr != GUEST_TEST_MSR) {
		m->other++;
		m->last_other = msr;
		return TG_VMCALL_INVALID_OPERAND;
	}
	m->rd++;
	*val = m->test_msr;
	return TG_VMCALL_SUCCESS;
}

static uint64_t wrmsr_cb(struct tg_vcpu *v, uint32_t msr, uint64_t val)
{
	struct msrs *m = v->vm->opaque;
	if (msr != GUEST_TEST_MSR) {
		m->other++;
		m->last_other = msr;
		return TG_VMCALL_INVALID_OPERAND;
	}
	m->wr++;
	m->test_msr = val;
	return TG_VMCALL_SUCCESS;
}

static void test_guest_msr_ve__raw_rdmsr_wrmsr(void **state)
{
	(void)state;
	struct msrs m = { 0 };
	struct tg_fx f;
	tg_fx_init(&f, "guest_msr_ve", 0);
	f.vm->ops.rdmsr = rdmsr_cb;
	f.vm->ops.wrmsr = wrmsr_cb;
	f.vm->opaque = &m;
	struct ucall uc;

	vcpu_expect_sync(f.v, &uc, 1);                  /* WRMSR: #VE -> host */
	assert_int_equal(m.wr, 1);
	assert_int_equal(m.test_msr, 0x1122334455667788ULL);
	assert_int_equal(uc.args[1], REASON_WRMSR);
	assert_int_equal(uc.args[2], 0);
	assert_int_equal(uc.args[3], 2);
	assert_int_equal(uc.args[4], 0);                /* #VE at the WRMSR */

	m.test_msr = 0xA5A5A5A55A5A5A5AULL;
	vcpu_expect_sync(f.v, &uc, 2);                  /* RDMSR: #VE -> host */
	assert_int_equal(m.rd, 1);
	assert_int_equal(uc.args[1], 0xA5A5A5A55A5A5A5AULL);
	assert_int_equal(uc.args[2], REASON_RDMSR);
	assert_int_equal(uc.args[3], 2);
	assert_int_equal(uc.args[4], 0);                /* upper halves of RAX/RDX cleared */

	vcpu_expect_sync(f.v, &uc, 3);                  /* XAPIC_DISABLE_STATUS: emulated */
	assert_int_equal(uc.args[1], 1);
	assert_int_equal(uc.args[2], 0);

	vcpu_expect_sync(f.v, &uc, 4);                  /* SGXLEPUBKEYHASH0: #GP(0) */
	assert_int_equal(uc.args[1], 13);
	assert_int_equal(uc.args[2], 0);
	assert_int_equal(uc.args[3], 0);
	assert_int_equal(uc.args[4], 0);

	vcpu_expect_sync(f.v, &uc, 5);                  /* KERNEL_GS_BASE: native */
	assert_int_equal(uc.args[1], 0xFFFF8000DEADBEEFULL);
	assert_int_equal(uc.args[2], 0);

	vcpu_expect_sync(f.v, &uc, 6);                  /* DEBUGCTL: emulated, reserved bit #GP */
	assert_int_equal(uc.args[1], 1);
	assert_int_equal(uc.args[2], 13);
	assert_int_equal(uc.args[3], 0);

	vcpu_expect_sync(f.v, &uc, 7);                  /* EFER */
	uint64_t efer = uc.args[1];
	assert_int_equal(efer & 0xD00, 0xD00);          /* LME, LMA, NXE */
	assert_int_equal(uc.args[2], efer ^ 1);         /* SCE flipped */
	assert_int_equal(uc.args[3], REASON_WRMSR);     /* NXE change: #VE */
	assert_int_equal(uc.args[4], efer);             /* unchanged */

	/* Only the two TEST_MSR accesses reached the host. */
	assert_int_equal(m.rd + m.wr, 2);
	assert_int_equal(m.other, 0);
	vcpu_expect_done(f.v);
	tg_fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_msr_ve__raw_rdmsr_wrmsr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
