/*
 * guest_shared: private -> shared -> private round trip of the page at
 * GUEST_CONVERT_GPA (private and accepted at start: the host PAGE.ADDs it).
 *  1. MapGPA(GUEST_CONVERT_GPA | shared, 4 KiB): SYNC(1, status, R11).
 *     The host unmaps the private page and maps a shared one there.
 *  2. The guest writes 0x5348415245440001 to qword 0 of the shared page:
 *     SYNC(2, shared GPA). The host checks qword 0 and writes a value of
 *     its choice to qword 1.
 *  3. SYNC(3, qword 1 as the guest reads it).
 *  4. MapGPA(GUEST_CONVERT_GPA, 4 KiB) back to private (the host AUGs the
 *     page), ACCEPT 4 KiB, read qword 0: SYNC(4, MapGPA status, accept
 *     status, qword 0 (0 for a fresh page)). DONE.
 */
#include "guest/guest.h"

void guest_main(unsigned vcpu_index, uint64_t arg)
{
	uint64_t resume = 0, st;
	volatile uint64_t *sh = guest_shared_ptr(GUEST_CONVERT_GPA);
	volatile uint64_t *pr = (volatile uint64_t *)(uintptr_t)GUEST_CONVERT_GPA;
	(void)vcpu_index;
	(void)arg;
	pr[0] = 0x5052495641544531;     /* private content the host must never see */
	st = tdvmcall_mapgpa(GUEST_CONVERT_GPA | guest_shared_mask, 0x1000, &resume);
	GUEST_SYNC(1, st, resume);
	sh[0] = 0x5348415245440001;
	GUEST_SYNC(2, GUEST_CONVERT_GPA | guest_shared_mask);
	GUEST_SYNC(3, sh[1]);
	st = tdvmcall_mapgpa(GUEST_CONVERT_GPA, 0x1000, &resume);
	uint64_t sa = tdg_mem_page_accept(GUEST_CONVERT_GPA, 0);
	GUEST_SYNC(4, st, sa, pr[0]);
	GUEST_DONE();
}
