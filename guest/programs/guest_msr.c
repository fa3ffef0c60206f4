/*
 * guest_msr: TDG.VP.VMCALL<Instruction.WRMSR> of 0x1122334455667788 to
 * GUEST_TEST_MSR, then <Instruction.RDMSR> of it:
 * SYNC(1, value read, WRMSR status, RDMSR status). Then an RDMSR of MSR
 * 0xFFFFFFFF: SYNC(2, status) (the host is expected to refuse it). DONE.
 */
#include "guest/guest.h"

void guest_main(unsigned vcpu_index, uint64_t arg)
{
	uint64_t v = 0;
	(void)vcpu_index;
	(void)arg;
	uint64_t sw = tdvmcall_wrmsr(GUEST_TEST_MSR, 0x1122334455667788);
	uint64_t sr = tdvmcall_rdmsr(GUEST_TEST_MSR, &v);
	GUEST_SYNC(1, v, sw, sr);
	GUEST_SYNC(2, tdvmcall_rdmsr(0xFFFFFFFF, NULL));
	GUEST_DONE();
}
