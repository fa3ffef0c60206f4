/*
 * guest_mmio: MMIO through TDG.VP.VMCALL<#VE.RequestMMIO> (R11 = 48) at
 * GUEST_MMIO_OFFSET | shared bit. For each size 1, 2, 4, 8: a write of
 * 0x81 / 0x8282 / 0x83838383 / 0x8484848484848484 at offset 8 * size, then
 * a read of that size at the same GPA, then SYNC(size, value read, write
 * status, read status). Then DONE.
 */
#include "guest/guest.h"

void guest_main(unsigned vcpu_index, uint64_t arg)
{
	static const uint64_t val[9] = { 0, 0x81, 0x8282, 0, 0x83838383, 0, 0, 0, 0x8484848484848484 };
	(void)vcpu_index;
	(void)arg;
	for (unsigned size = 1; size <= 8; size *= 2) {
		uint64_t gpa = (GUEST_MMIO_OFFSET + 8 * size) | guest_shared_mask, in = 0;
		uint64_t sw = tdvmcall_mmio(size, TDX_IO_WRITE, gpa, val[size], NULL);
		uint64_t sr = tdvmcall_mmio(size, TDX_IO_READ, gpa, 0, &in);
		GUEST_SYNC(size, in, sw, sr);
	}
	GUEST_DONE();
}
