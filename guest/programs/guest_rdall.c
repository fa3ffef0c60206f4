/*
 * guest_rdall: TDG.SYS.RDALL writes its list into a private page the guest
 * has just written itself: the guest then reads what the module wrote.
 * Fills the page with 0xAA, calls RDALL (first field id: R8 = -1) and SYNCs
 * (1, status, first 8 bytes of the page, next field id). DONE.
 */
#include "guest/guest.h"

static uint8_t list[4096] __attribute__((aligned(4096)));

void guest_main(unsigned vcpu_index, uint64_t arg)
{
	(void)vcpu_index;
	(void)arg;
	for (unsigned i = 0; i < sizeof(list); i++)
		list[i] = 0xAA;
	struct tdcall_args a = { .rdx = guest_gpa(list), .r8 = ~0ULL };
	uint64_t st = tdcall(TDG_SYS_RDALL, &a);
	GUEST_SYNC(1, st, *(volatile uint64_t *)list, a.r8);
	GUEST_DONE();
}
