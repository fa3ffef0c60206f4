/*
 * guest_counter: the vCPUs meet at a barrier (so that they all increment
 * at the same time), then every vCPU adds 1 to a counter in private memory
 * (lock xadd) arg times (10000 if arg is 0), then SYNC(1, vcpu index), then
 * waits until the counter reaches arg * num_vcpus (TDG.VP.INFO; at most
 * 2^26 PAUSEs), then
 * SYNC(2, counter, num_vcpus, VP.INFO status). DONE.
 */
#include "guest/guest.h"

static volatile uint64_t counter, arrived;

void guest_main(unsigned vcpu_index, uint64_t arg)
{
	struct tdg_vp_info info = { 0 };
	uint64_t n = arg ? arg : 10000;
	uint64_t st = tdg_vp_info(&info);
	uint64_t one = 1;
	__asm__ volatile("lock xaddq %0, %1" : "+r"(one), "+m"(arrived) : : "memory");
	while (arrived < info.num_vcpus)
		__asm__ volatile("pause");
	for (uint64_t i = 0; i < n; i++) {
		uint64_t one = 1;
		__asm__ volatile("lock xaddq %0, %1" : "+r"(one), "+m"(counter) : : "memory");
	}
	GUEST_SYNC(1, vcpu_index);
	/* Bounded: a lost increment shows as a wrong total, not a hang. */
	for (uint64_t spins = 0; counter < n * info.num_vcpus && spins < (1ULL << 26); spins++)
		__asm__ volatile("pause");
	GUEST_SYNC(2, counter, info.num_vcpus, st);
	GUEST_DONE();
}
