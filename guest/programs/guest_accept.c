/*
 * guest_accept: lazy accept of the 2 MiB at GUEST_ACCEPT_GPA (the host
 * AUGs them, ahead of time or on the EPT violations ACCEPT causes).
 * TDG.MEM.PAGE.ACCEPT at 2 MiB; if that fails, 512 accepts at 4 KiB:
 * SYNC(1, 2 MiB status, first non-zero 4 KiB status or 0). Then every
 * page is written (first qword = its GPA ^ 0x5A5A5A5A5A5A5A5A) and read
 * back: SYNC(2, pages that read back right (512), sum of the first qwords
 * before the write, which must be 0 for fresh pages). DONE.
 */
#include "guest/guest.h"

void guest_main(unsigned vcpu_index, uint64_t arg)
{
	uint64_t st2m, st4k = 0, ok = 0, before = 0;
	(void)vcpu_index;
	(void)arg;
	st2m = tdg_mem_page_accept(GUEST_ACCEPT_GPA, 1);
	if (st2m != 0) {
		for (uint64_t off = 0; off < 0x200000; off += 0x1000) {
			uint64_t st = tdg_mem_page_accept(GUEST_ACCEPT_GPA + off, 0);
			if (st && !st4k)
				st4k = st;
		}
	}
	GUEST_SYNC(1, st2m, st4k);
	for (uint64_t off = 0; off < 0x200000; off += 0x1000) {
		volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)(GUEST_ACCEPT_GPA + off);
		before += *p;
		*p = (GUEST_ACCEPT_GPA + off) ^ 0x5A5A5A5A5A5A5A5A;
	}
	for (uint64_t off = 0; off < 0x200000; off += 0x1000) {
		volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)(GUEST_ACCEPT_GPA + off);
		ok += *p == ((GUEST_ACCEPT_GPA + off) ^ 0x5A5A5A5A5A5A5A5A);
	}
	GUEST_SYNC(2, ok, before);
	GUEST_DONE();
}
