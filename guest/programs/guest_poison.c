/*
 * guest_poison: reads and writes of the private page at GUEST_DATA_GPA
 * (host-filled: the 8-byte word at offset i * 8 is 0x1000 + i) around a
 * line the host poisons (a shared-KeyID write) between stages.
 *   1: read the word at +0 (line 0): SYNC(1, value).
 *   -- the host poisons line 2 (+128..+191) --
 *   2: read the word at +64 (line 1, same page, not poisoned): SYNC(2, value).
 *   3: write 0xABCD to +192 (line 3) and read it back: SYNC(3, value).
 *   4: read the word at +128 (the poisoned line): a machine check; the TD
 *      never gets further (SYNC(4) would say otherwise).
 */
#include "guest/guest.h"

void guest_main(unsigned vcpu_index, uint64_t arg)
{
	volatile uint64_t *page = (volatile uint64_t *)(uintptr_t)GUEST_DATA_GPA;
	(void)vcpu_index;
	(void)arg;
	GUEST_SYNC(1, page[0]);
	GUEST_SYNC(2, page[8]);
	page[24] = 0xABCD;
	GUEST_SYNC(3, page[24]);
	GUEST_SYNC(4, page[16]);
	GUEST_DONE();
}
