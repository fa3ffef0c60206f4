/*
 * guest_lifecycle: the smallest program. Every vCPU:
 *   SYNC(1, vcpu_index, arg)   then   SYNC(2, GPAW)   then   DONE.
 */
#include "guest/guest.h"

void guest_main(unsigned vcpu_index, uint64_t arg)
{
	GUEST_SYNC(1, vcpu_index, arg);
	GUEST_SYNC(2, guest_gpaw);
	GUEST_DONE();
}
