/*
 * guest_io: port I/O through TDG.VP.VMCALL<IO> on GUEST_IO_PORT. For each
 * size 1, 2, 4: OUT of 0x11 / 0x2222 / 0x33333333, then IN of that size,
 * then SYNC(size, value IN returned, OUT status, IN status). Then DONE.
 */
#include "guest/guest.h"

void guest_main(unsigned vcpu_index, uint64_t arg)
{
	static const uint32_t out[5] = { 0, 0x11, 0x2222, 0, 0x33333333 };
	(void)vcpu_index;
	(void)arg;
	for (unsigned size = 1; size <= 4; size *= 2) {
		uint32_t in = 0;
		uint64_t so = tdvmcall_io(size, TDX_IO_WRITE, GUEST_IO_PORT, out[size], NULL);
		uint64_t si = tdvmcall_io(size, TDX_IO_READ, GUEST_IO_PORT, 0, &in);
		GUEST_SYNC(size, in, so, si);
	}
	GUEST_DONE();
}
