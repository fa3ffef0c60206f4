/*
 * guest_io_ve: raw IN/OUT instructions (no TDVMCALL in the program): each is
 * a #VE (exit reason 30) that the runtime turns into TDG.VP.VMCALL<IO>.
 *
 * Stages 1-12, one instruction each, in this order: OUT imm8 of sizes 1, 2,
 * 4 (port 0x71, value 0x89ABCDEF in EAX), OUT DX (port GUEST_IO_PORT), IN
 * imm8 (1, 2, 4), IN DX (1, 2, 4); RAX = 0x1122334455667788 before every
 * IN. Each: SYNC(stage, RAX after, RIP at the #VE - the instruction's
 * address, VE_INFO exit qualification, instruction length | exit reason <<
 * 32, RAX at the #VE).
 * Stage 13: RBX = 0x1111, then IN imm8 and a store of RBX to memory in the
 * same block: SYNC(13, the memory word the #VE hook saw, the memory word
 * after, RIP at the #VE - the IN's address).
 * Stage 14: REP OUTSB (RCX = 3, from a buffer) and stage 15: INSW, skipped
 * by a #VE hook (the runtime does not emulate string I/O): SYNC(stage,
 * exit qualification, instruction length, instruction information, RCX
 * after, RSI or RDI after - before).
 * Then DONE.
 */
#include "guest/guest.h"

#define PORT_IMM 0x71
#define VAL_OUT  0x89ABCDEFu
#define RAX_IN   0x1122334455667788ull

static volatile uint64_t side;          /* stage 13's memory word */
static volatile uint64_t side_at_ve;
static char outs_buf[4] = "abc";
static uint16_t ins_buf[2];

static int hook_side(const struct tdg_ve_info *ve, uint64_t rip, uint64_t rax)
{
	(void)ve;
	(void)rip;
	(void)rax;
	side_at_ve = side;
	return 0;                       /* emulate it as usual */
}

static int hook_skip(const struct tdg_ve_info *ve, uint64_t rip, uint64_t rax)
{
	(void)ve;
	(void)rip;
	(void)rax;
	return 1;
}

static void report(unsigned stage, uint64_t rax_after, uint64_t insn_addr)
{
	const struct guest_ve_record *r = guest_last_ve();
	GUEST_SYNC(stage, rax_after, r->rip - insn_addr, r->ve.exit_qual,
		   r->ve.instr_len | (r->ve.exit_reason << 32), r->rax);
}

/* One I/O instruction `insn` with RAX = rax_in, RDX = GUEST_IO_PORT; its
 * address and RAX after it. */
#define IO_INSN(insn, rax_in, addr, rax_out)                                        \
	__asm__ volatile("lea 1f(%%rip), %0\n\t"                                    \
			 "1: " insn "\n\t"                                          \
			 : "=&r"(addr), "=a"(rax_out)                               \
			 : "a"(rax_in), "d"((uint64_t)GUEST_IO_PORT)                 \
			 : "memory")

void guest_main(unsigned vcpu_index, uint64_t arg)
{
	uint64_t addr, rax;
	(void)vcpu_index;
	(void)arg;

	IO_INSN("outb %%al, $0x71", (uint64_t)VAL_OUT, addr, rax);
	report(1, rax, addr);
	IO_INSN("outw %%ax, $0x71", (uint64_t)VAL_OUT, addr, rax);
	report(2, rax, addr);
	IO_INSN("outl %%eax, $0x71", (uint64_t)VAL_OUT, addr, rax);
	report(3, rax, addr);
	IO_INSN("outb %%al, %%dx", (uint64_t)VAL_OUT, addr, rax);
	report(4, rax, addr);
	IO_INSN("outw %%ax, %%dx", (uint64_t)VAL_OUT, addr, rax);
	report(5, rax, addr);
	IO_INSN("outl %%eax, %%dx", (uint64_t)VAL_OUT, addr, rax);
	report(6, rax, addr);
	IO_INSN("inb $0x71, %%al", RAX_IN, addr, rax);
	report(7, rax, addr);
	IO_INSN("inw $0x71, %%ax", RAX_IN, addr, rax);
	report(8, rax, addr);
	IO_INSN("inl $0x71, %%eax", RAX_IN, addr, rax);
	report(9, rax, addr);
	IO_INSN("inb %%dx, %%al", RAX_IN, addr, rax);
	report(10, rax, addr);
	IO_INSN("inw %%dx, %%ax", RAX_IN, addr, rax);
	report(11, rax, addr);
	IO_INSN("inl %%dx, %%eax", RAX_IN, addr, rax);
	report(12, rax, addr);

	/* Nothing after the IN runs before its #VE. */
	side = 0;
	guest_ve_hook = hook_side;
	__asm__ volatile("mov $0x1111, %%rbx\n\t"
			 "lea 1f(%%rip), %0\n\t"
			 "1: inb $0x71, %%al\n\t"
			 "mov %%rbx, %1\n\t"
			 : "=&r"(addr), "=m"(side) : : "rax", "rbx", "memory");
	guest_ve_hook = NULL;
	GUEST_SYNC(13, side_at_ve, side, guest_last_ve()->rip - addr);

	/* String I/O: VE_INFO only (skipped). */
	uint64_t rcx, rsi, rdi;
	guest_ve_hook = hook_skip;
	__asm__ volatile("rep outsb" : "=c"(rcx), "=S"(rsi)
			 : "c"(3ull), "S"(outs_buf), "d"((uint64_t)GUEST_IO_PORT) : "memory");
	guest_ve_hook = NULL;
	{
		const struct guest_ve_record *r = guest_last_ve();
		GUEST_SYNC(14, r->ve.exit_qual, r->ve.instr_len, r->ve.instr_info, rcx,
			   rsi - (uint64_t)(uintptr_t)outs_buf);
	}
	guest_ve_hook = hook_skip;
	__asm__ volatile("insw" : "=D"(rdi) : "D"(ins_buf), "d"((uint64_t)GUEST_IO_PORT) : "memory");
	guest_ve_hook = NULL;
	{
		const struct guest_ve_record *r = guest_last_ve();
		GUEST_SYNC(15, r->ve.exit_qual, r->ve.instr_len, r->ve.instr_info, 0,
			   rdi - (uint64_t)(uintptr_t)ins_buf);
	}
	GUEST_DONE();
}
