/*
 * guest_timing: the timing model as the guest sees it (tests/timing,
 * bench/bench_calib.c). Each measurement is an RDTSC pair around one
 * operation, as the published TD numbers were measured (TUM-DSE/CVM_eval);
 * each is done twice and the second (warm) one reported.
 *  SYNC(1, cycles of CPUID leaf 0, which the module answers, TSC after)
 *  SYNC(2, cycles of CPUID leaf 0x40000000: #VE, the runtime's handler
 *          (TDG.VP.VEINFO.GET, TDG.VP.VMCALL<Instruction.CPUID>), IRET)
 *  SYNC(3, cycles of a private 4 KiB fault-in: TDG.MEM.PAGE.ACCEPT of a
 *          GPA the host has not AUGed (EPT violation, PAGE.AUG, entry,
 *          ACCEPT) and the first write to the page, at GUEST_ACCEPT_GPA +
 *          4 KiB * k)
 *  SYNC(4, cycles of arg iterations of a 4-instruction ALU loop, cycles
 *          of 2 * arg iterations) (arg >= 1)
 *  SYNC(5, RDTSCP's ECX (IA32_TSC_AUX, 0 at reset), TSC monotonic (1))
 *  SYNC(6, cycles of arg iterations of an 8-byte store loop over the two
 *          pages accepted in stage 3, arg)
 *  SYNC(7, cycles of max(arg / 256, 4) TDG.VP.VMCALL<Instruction.CPUID>
 *          round trips, that count)
 *  DONE
 */
#include "guest/guest.h"

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t r[4])
{
	uint32_t a = leaf, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	r[0] = a; r[1] = b; r[2] = c; r[3] = d;
}

void guest_main(unsigned vcpu_index, uint64_t arg)
{
	uint32_t r[4];
	uint64_t t0, t1, d = 0;
	(void)vcpu_index;

	for (int i = 0; i < 2; i++) {
		t0 = rdtsc();
		cpuid(0, r);
		t1 = rdtsc();
		d = t1 - t0;
	}
	GUEST_SYNC(1, d, t1);

	for (int i = 0; i < 2; i++) {
		t0 = rdtsc();
		cpuid(0x40000000, r);
		t1 = rdtsc();
		d = t1 - t0;
	}
	GUEST_SYNC(2, d, t1);

	for (int i = 0; i < 2; i++) {
		volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)(GUEST_ACCEPT_GPA + 0x1000 * i);
		t0 = rdtsc();
		uint64_t st = tdg_mem_page_accept((uint64_t)(uintptr_t)p, 0);
		*p = 1;
		t1 = rdtsc();
		GUEST_ASSERT_EQ(st, 0);
		d = t1 - t0;
	}
	GUEST_SYNC(3, d, t1);

	uint64_t loop[2];
	for (int i = 0; i < 2; i++) {
		uint64_t n = arg << i, x = 0;
		t0 = rdtsc();
		__asm__ volatile("1: add $3, %0\n\txor $1, %0\n\tdec %1\n\tjnz 1b"
				 : "+r"(x), "+r"(n) : : "cc");
		t1 = rdtsc();
		loop[i] = t1 - t0;
	}
	GUEST_SYNC(4, loop[0], loop[1]);

	uint32_t lo, hi, aux;
	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	uint64_t t2 = ((uint64_t)hi << 32) | lo;
	GUEST_SYNC(5, aux, t2 > t1);

	volatile uint64_t *buf = (volatile uint64_t *)(uintptr_t)GUEST_ACCEPT_GPA;
	t0 = rdtsc();
	for (uint64_t i = 0; i < arg; i++)
		buf[i & 1023] = i;
	t1 = rdtsc();
	GUEST_SYNC(6, t1 - t0, arg);

	uint64_t calls = arg / 256 < 4 ? 4 : arg / 256;
	t0 = rdtsc();
	for (uint64_t i = 0; i < calls; i++)
		tdvmcall_cpuid(0x40000000, 0, r);
	t1 = rdtsc();
	GUEST_SYNC(7, t1 - t0, calls);
	GUEST_DONE();
}
