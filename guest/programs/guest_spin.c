/*
 * guest_spin: SYNC(1), then spins until the first 8 bytes of the shared
 * transfer page (GUEST_XFER_OFFSET) are non-zero, counting iterations in the
 * next 8 bytes, then SYNC(2, that value, iterations spun, VP.INFO status).
 * DONE. The host interrupts the spinning
 * vCPU from another thread (tdxsim_lp_interrupt) and finally writes the
 * value.
 */
#include "guest/guest.h"

void guest_main(unsigned vcpu_index, uint64_t arg)
{
	(void)vcpu_index;
	(void)arg;
	volatile uint64_t *flag = guest_shared_ptr(GUEST_XFER_OFFSET);
	struct tdg_vp_info info = { 0 };
	GUEST_SYNC(1);
	uint64_t spins = 0;
	while (!flag[0]) {
		__asm__ volatile("pause");
		flag[1] = ++spins;              /* the host sees it spinning */
	}
	GUEST_SYNC(2, *flag, spins, tdg_vp_info(&info));
	GUEST_DONE();
}
