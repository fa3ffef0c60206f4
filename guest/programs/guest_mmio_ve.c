/*
 * guest_mmio_ve: raw loads and stores (no TDVMCALL in the program) to the
 * shared MMIO page at GUEST_MMIO_OFFSET, which the host marks as MMIO
 * (td_map_mmio: shared-EPT entry not present, suppress #VE clear). Each is
 * an EPT-violation #VE (exit reason 48) that the runtime decodes and turns
 * into TDG.VP.VMCALL<#VE.RequestMMIO>.
 *   1: stores: mov m8,r8 (0x11 at +0x00), m16,r16 (0x2222 at +0x10),
 *      m32,r32 (0x33333333 at +0x20), m64,r64 (0x4444444444444444 at
 *      +0x30), m8,imm8 (0x55 at +0x40), m32,imm32 (0x66666666 at +0x48),
 *      m64,imm32 (-2 at +0x50), m64 from R9 (0x7777 at +0x58): SYNC(1,
 *      VE_INFO exit reason, exit qualification, GLA - address of +0x58,
 *      GPA, #VEs so far) of the last store.
 *   2: loads, RAX = -1 before each: 8-bit (+0x00), 16-bit (+0x10), 32-bit
 *      (+0x20), 64-bit (+0x30): SYNC(2, the four RAX values, exit
 *      qualification of the last).
 *   3: MOVZX 8 (+0x00), MOVZX 16 (+0x10), MOVSX 8 -> 64 (+0x60), 8-bit load
 *      into AH (+0x00): SYNC(3, the four register values).
 *   4 (if arg bit 0): a 32-bit load from the next page (+0x1000), which the
 *      host has not marked yet: the host sees the EPT violation as a TD
 *      exit, marks the page and re-enters: SYNC(4, the value).
 *   5: a loop of 3 iterations, each an increment of RCX then a 32-bit load
 *      (+0x20) in one block: SYNC(5, RCX at the end, the last value) (an
 *      increment run twice would end the loop early).
 * Then DONE.
 */
#include "guest/guest.h"

void guest_main(unsigned vcpu_index, uint64_t arg)
{
	volatile uint8_t *base = guest_shared_ptr(GUEST_MMIO_OFFSET);
	const struct guest_ve_record *r = guest_last_ve();
	uint64_t a, b, c, d;
	(void)vcpu_index;

	__asm__ volatile("movb %%al, 0x00(%0)\n\t"
			 "movw %%cx, 0x10(%0)\n\t"
			 "movl %%edx, 0x20(%0)\n\t"
			 "movq %%rsi, 0x30(%0)\n\t"
			 "movb $0x55, 0x40(%0)\n\t"
			 "movl $0x66666666, 0x48(%0)\n\t"
			 "movq $-2, 0x50(%0)\n\t"
			 : : "r"(base), "a"(0x11ull), "c"(0x2222ull), "d"(0x33333333ull),
			     "S"(0x4444444444444444ull)
			 : "memory");
	{
		register uint64_t r9 __asm__("r9") = 0x7777;
		__asm__ volatile("movq %%r9, 0x58(%0)" : : "r"(base), "r"(r9) : "memory");
	}
	GUEST_SYNC(1, r->ve.exit_reason, r->ve.exit_qual, r->ve.gla - (uint64_t)(uintptr_t)(base + 0x58),
		   r->ve.gpa, r->count);

	__asm__ volatile("mov $-1, %0\n\tmovb 0x00(%1), %b0" : "=&a"(a) : "r"(base) : "memory");
	__asm__ volatile("mov $-1, %0\n\tmovw 0x10(%1), %w0" : "=&a"(b) : "r"(base) : "memory");
	__asm__ volatile("mov $-1, %0\n\tmovl 0x20(%1), %k0" : "=&a"(c) : "r"(base) : "memory");
	__asm__ volatile("mov $-1, %0\n\tmovq 0x30(%1), %0" : "=&a"(d) : "r"(base) : "memory");
	GUEST_SYNC(2, a, b, c, d, r->ve.exit_qual);

	__asm__ volatile("mov $-1, %0\n\tmovzbl 0x00(%1), %k0" : "=&r"(a) : "r"(base) : "memory");
	__asm__ volatile("mov $-1, %0\n\tmovzwq 0x10(%1), %0" : "=&r"(b) : "r"(base) : "memory");
	__asm__ volatile("mov $0, %0\n\tmovsbq 0x60(%1), %0" : "=&r"(c) : "r"(base) : "memory");
	__asm__ volatile("mov $0x1234, %0\n\tmovb 0x00(%1), %h0" : "=&a"(d) : "S"(base) : "memory");
	GUEST_SYNC(3, a, b, c, d);

	if (arg & 1) {
		uint32_t v;
		__asm__ volatile("movl 0x1000(%1), %0" : "=r"(v) : "r"(base) : "memory");
		GUEST_SYNC(4, v);
	}

	uint64_t n, v5;
	__asm__ volatile("xor %%ecx, %%ecx\n\t"
			 "1: inc %%rcx\n\t"
			 "movl 0x20(%2), %%eax\n\t"
			 "cmp $3, %%rcx\n\t"
			 "jb 1b\n\t"
			 : "=&c"(n), "=&a"(v5) : "r"(base) : "memory", "cc");
	GUEST_SYNC(5, n, v5);
	GUEST_DONE();
}
