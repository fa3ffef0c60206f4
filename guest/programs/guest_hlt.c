/*
 * guest_hlt: SYNC(1), TDG.VP.VMCALL<Instruction.HLT> with interrupts
 * enabled (R12 = 0), SYNC(2, status) once the host resumes it. If arg bit 0
 * is set, then the HLT instruction itself (sti; hlt): SYNC(3). DONE.
 */
#include "guest/guest.h"

void guest_main(unsigned vcpu_index, uint64_t arg)
{
	(void)vcpu_index;
	GUEST_SYNC(1);
	GUEST_SYNC(2, tdvmcall_hlt(0));
	if (arg & 1) {
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		GUEST_SYNC(3);
	}
	GUEST_DONE();
}
