/*
 * guest_smc: code one vCPU patches is what the other vCPUs run next.
 * vCPU 1 calls patched() (returns 0x11111111) and SYNCs (1, value); vCPU 0
 * then rewrites the immediate to 0x22222222, calls it and SYNCs (1, value);
 * vCPU 1 calls it again and SYNCs (2, value). DONE.
 */
#include "guest/guest.h"

uint64_t patched(void);
__asm__(".pushsection .text\n"
	".globl patched\n"
	".p2align 6\n"
	"patched:\n"
	"\tmovl $0x11111111, %eax\n"
	"\tret\n"
	".popsection\n");

void guest_main(unsigned vcpu_index, uint64_t arg)
{
	(void)arg;
	if (vcpu_index == 1) {
		GUEST_SYNC(1, patched());
		GUEST_SYNC(2, patched());
	} else {
		volatile uint32_t *imm = (volatile uint32_t *)((uint8_t *)patched + 1);
		*imm = 0x22222222;
		GUEST_SYNC(1, patched());
	}
	GUEST_DONE();
}
