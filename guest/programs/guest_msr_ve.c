/*
 * guest_msr_ve: raw RDMSR/WRMSR (no TDVMCALL in the program), handled as
 * the TDX module does (seam/td_msr.c):
 *   1: WRMSR GUEST_TEST_MSR (outside the MSR bitmaps: #VE, exit reason 32,
 *      turned into TDG.VP.VMCALL<WRMSR> by the runtime) of
 *      0x1122334455667788: SYNC(1, exit reason, exit qualification,
 *      instruction length, RIP at the #VE - the WRMSR's address).
 *   2: RDMSR of it (#VE 31): SYNC(2, EDX:EAX, exit reason, instruction
 *      length, RDX >> 32 | RAX >> 32 (upper halves, 0)).
 *   3: RDMSR IA32_XAPIC_DISABLE_STATUS (0xBD, emulated by the module, no
 *      #VE): SYNC(3, EDX:EAX, #VEs taken since stage 2).
 *   4: RDMSR IA32_SGXLEPUBKEYHASH0 (0x8C, #GP(0)): SYNC(4, vector, error
 *      code, faulting RIP - the RDMSR's address, #VEs since stage 3).
 *   5: WRMSR then RDMSR IA32_KERNEL_GS_BASE (native, no exit) of
 *      0xFFFF8000DEADBEEF: SYNC(5, value read, #VEs since stage 4).
 *   6: IA32_DEBUGCTL (emulated): WRMSR 1 then RDMSR; then WRMSR of a
 *      reserved bit (#GP): SYNC(6, value read, vector, #VEs since 5).
 *   7: IA32_EFER: RDMSR; WRMSR with SCE flipped (allowed) and RDMSR; WRMSR
 *      with NXE cleared (#VE 32, skipped by a #VE hook); RDMSR:
 *      SYNC(7, first, after the SCE flip, exit reason of the NXE write,
 *      last).
 * Then DONE.
 */
#include "guest/guest.h"

#define MSR_XAPIC_DISABLE_STATUS 0xBD
#define MSR_SGXLEPUBKEYHASH0     0x8C
#define MSR_KERNEL_GS_BASE       0xC0000102
#define MSR_DEBUGCTL             0x1D9
#define MSR_EFER                 0xC0000080
#define EFER_SCE                 1ull
#define EFER_NXE                 (1ull << 11)

static int skip_ve(const struct tdg_ve_info *ve, uint64_t rip, uint64_t rax)
{
	(void)ve;
	(void)rip;
	(void)rax;
	return 1;
}

static uint64_t rd(uint32_t msr, uint64_t *addr)
{
	uint64_t lo, hi, a;
	__asm__ volatile("lea 1f(%%rip), %2\n\t"
			 "1: rdmsr" : "=a"(lo), "=d"(hi), "=&r"(a) : "c"(msr) : "memory");
	if (addr)
		*addr = a;
	return (hi << 32) | (uint32_t)lo;
}

static void wr(uint32_t msr, uint64_t val, uint64_t *addr)
{
	uint64_t a;
	__asm__ volatile("lea 1f(%%rip), %0\n\t"
			 "1: wrmsr" : "=&r"(a) : "c"(msr), "a"((uint32_t)val), "d"(val >> 32) : "memory");
	if (addr)
		*addr = a;
}

void guest_main(unsigned vcpu_index, uint64_t arg)
{
	uint64_t addr, n;
	const struct guest_ve_record *r = guest_last_ve();
	(void)vcpu_index;
	(void)arg;

	wr(GUEST_TEST_MSR, 0x1122334455667788ull, &addr);
	GUEST_SYNC(1, r->ve.exit_reason, r->ve.exit_qual, r->ve.instr_len, r->rip - addr);

	uint64_t lo, hi;
	__asm__ volatile("mov $-1, %%rax\n\tmov $-1, %%rdx\n\trdmsr"
			 : "=a"(lo), "=d"(hi) : "c"(GUEST_TEST_MSR) : "memory");
	GUEST_SYNC(2, (hi << 32) | (uint32_t)lo, r->ve.exit_reason, r->ve.instr_len,
		   (hi >> 32) | (lo >> 32));

	n = r->count;
	uint64_t v = rd(MSR_XAPIC_DISABLE_STATUS, NULL);
	GUEST_SYNC(3, v, r->count - n);

	const struct guest_exc_record *x = guest_last_exception();
	n = r->count;
	guest_expect_exception(13, 2);
	rd(MSR_SGXLEPUBKEYHASH0, &addr);
	GUEST_SYNC(4, x->vector, x->error, x->rip - addr, r->count - n);

	n = r->count;
	wr(MSR_KERNEL_GS_BASE, 0xFFFF8000DEADBEEFull, NULL);
	v = rd(MSR_KERNEL_GS_BASE, NULL);
	GUEST_SYNC(5, v, r->count - n);

	n = r->count;
	wr(MSR_DEBUGCTL, 1, NULL);
	v = rd(MSR_DEBUGCTL, NULL);
	guest_expect_exception(13, 2);
	wr(MSR_DEBUGCTL, 1ull << 40, NULL);
	GUEST_SYNC(6, v, x->vector, r->count - n);

	uint64_t e0 = rd(MSR_EFER, NULL);
	wr(MSR_EFER, e0 ^ EFER_SCE, NULL);
	uint64_t e1 = rd(MSR_EFER, NULL);
	wr(MSR_EFER, e0, NULL);
	guest_ve_hook = skip_ve;
	wr(MSR_EFER, e0 & ~EFER_NXE, NULL);
	guest_ve_hook = NULL;
	uint64_t reason = r->ve.exit_reason;
	GUEST_SYNC(7, e0, e1, reason, rd(MSR_EFER, NULL));
	GUEST_DONE();
}
