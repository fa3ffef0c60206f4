/*
 * guest_cpuid: TDG.VP.VMCALL<Instruction.CPUID> of leaf 0 and of leaf 1:
 * SYNC(leaf, EAX, EBX, ECX, EDX, status). If arg bit 0 is set, then the
 * CPUID instruction itself (leaf 0; in a TD a #VE that the runtime's #VE
 * handler turns into the same TDVMCALL): SYNC(0x100, EAX, EBX, ECX, EDX).
 * DONE.
 */
#include "guest/guest.h"

void guest_main(unsigned vcpu_index, uint64_t arg)
{
	uint32_t r[4];
	(void)vcpu_index;
	for (uint32_t leaf = 0; leaf <= 1; leaf++) {
		uint64_t st = tdvmcall_cpuid(leaf, 0, r);
		GUEST_SYNC(leaf, r[0], r[1], r[2], r[3], st);
	}
	if (arg & 1) {
		uint32_t a = 0, b, c = 0, d;
		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
		GUEST_SYNC(0x100, a, b, c, d);
	}
	GUEST_DONE();
}
