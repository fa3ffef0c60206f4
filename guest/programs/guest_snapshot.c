/*
 * guest_snapshot: state only the CPU holds (not TDVPS) across host exits,
 * for the snapshot tests: DR0..DR3 are loaded with addresses derived from
 * arg + vCPU index,
 * SYNC(1), then SYNC(2, DR0, DR1, DR2 ^ DR3, the DS/ES/SS/FS selectors
 * packed 16 bits each) read back. DONE.
 */
#include "guest/guest.h"

static inline uint64_t dr_read(int n)
{
	uint64_t v = 0;
	switch (n) {
	case 0: __asm__ volatile("mov %%dr0, %0" : "=r"(v)); break;
	case 1: __asm__ volatile("mov %%dr1, %0" : "=r"(v)); break;
	case 2: __asm__ volatile("mov %%dr2, %0" : "=r"(v)); break;
	default: __asm__ volatile("mov %%dr3, %0" : "=r"(v)); break;
	}
	return v;
}

void guest_main(unsigned vcpu_index, uint64_t arg)
{
	uint64_t base = 0x00007F0000000000ULL | (((arg + vcpu_index) & 0xFFFFF) << 12);
	uint64_t d0 = base, d1 = base + 0x1000, d2 = base + 0x2000, d3 = base + 0x3000;
	__asm__ volatile("mov %0, %%dr0" : : "r"(d0));
	__asm__ volatile("mov %0, %%dr1" : : "r"(d1));
	__asm__ volatile("mov %0, %%dr2" : : "r"(d2));
	__asm__ volatile("mov %0, %%dr3" : : "r"(d3));
	GUEST_SYNC(1, base);
	uint16_t ds, es, ss, fs;
	__asm__ volatile("mov %%ds, %0" : "=r"(ds));
	__asm__ volatile("mov %%es, %0" : "=r"(es));
	__asm__ volatile("mov %%ss, %0" : "=r"(ss));
	__asm__ volatile("mov %%fs, %0" : "=r"(fs));
	uint64_t sel = ds | (uint64_t)es << 16 | (uint64_t)ss << 32 | (uint64_t)fs << 48;
	GUEST_SYNC(2, dr_read(0), dr_read(1), dr_read(2) ^ dr_read(3), sel);
	GUEST_DONE();
}
