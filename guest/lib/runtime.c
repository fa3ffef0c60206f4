/*
 * Guest runtime: start-up in 64-bit mode, exceptions (with a #VE handler
 * that turns CPUID, HLT, RDMSR/WRMSR and port I/O into TDG.VP.VMCALLs, as a
 * Linux guest does), ucall and the fatal path.
 */
#include "guest/guest.h"

unsigned guest_gpaw;
uint64_t guest_shared_mask;

#define VE_VECTOR               20
#define EXIT_REASON_CPUID       10
#define EXIT_REASON_HLT         12
#define EXIT_REASON_IO          30
#define EXIT_REASON_RDMSR       31
#define EXIT_REASON_WRMSR       32
#define RFLAGS_IF               0x200

/* The registers vectors.S saves, lowest address first. */
struct guest_frame {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, attr;
	uint16_t off_mid;
	uint32_t off_hi, zero;
};

extern const uint64_t guest_vectors[32];
static struct idt_gate guest_idt[32] __attribute__((aligned(16)));

static const struct guest_boot_params *boot_params(void)
{
	return (const struct guest_boot_params *)(uintptr_t)GUEST_BOOT_PARAMS_GPA;
}

/* Ends the TD with a triple fault: no IDT, then #UD. */
void guest_die(void) __attribute__((noreturn));
void guest_die(void)
{
	static const struct { uint16_t limit; uint64_t base; } __attribute__((packed)) none = { 0, 0 };
	__asm__ volatile("cli; lidt %0" : : "m"(none));
	for (;;)
		__asm__ volatile("ud2");
}

unsigned guest_vcpu_index(void)
{
	const struct guest_boot_params *bp = boot_params();
	uint64_t rsp;
	__asm__ volatile("movq %%rsp, %0" : "=r"(rsp));
	uint64_t best = ~0ull;
	unsigned idx = 0;
	for (unsigned i = 0; i < bp->num_vcpus && i < GUEST_MAX_VCPUS; i++) {
		uint64_t top = bp->stack_top[i];
		if (top >= rsp && top - rsp < best) {
			best = top - rsp;
			idx = i;
		}
	}
	return idx;
}

static struct ucall *ucall_slot(unsigned vcpu)
{
	return guest_shared_ptr(GUEST_UCALL_OFFSET + (uint64_t)vcpu * UCALL_SIZE);
}

static void ucall_send(struct ucall *u)
{
	uint64_t gpa = ((uint64_t)(uintptr_t)u - GUEST_SHARED_VA) | guest_shared_mask;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	tdvmcall(TDVMCALL_MMIO, UCALL_MMIO_SIZE, TDX_IO_WRITE, UCALL_MMIO_OFFSET | guest_shared_mask,
		 gpa, NULL);
}

static struct ucall *ucall_begin(uint64_t cmd, const char *file, unsigned line, unsigned vcpu)
{
	struct ucall *u = ucall_slot(vcpu);
	memset(u, 0, sizeof(*u));
	u->cmd = cmd;
	u->line = line;
	u->vcpu = vcpu;
	if (file) {
		size_t n = strlen(file);
		if (n >= sizeof(u->file))
			file += n - (sizeof(u->file) - 1);
		memcpy(u->file, file, strlen(file));
	}
	return u;
}

void guest_ucall(uint64_t cmd, const char *file, unsigned line, uint64_t nargs, ...)
{
	unsigned vcpu = guest_vcpu_index();
	struct ucall *u = ucall_begin(cmd, file, line, vcpu);
	va_list ap;
	va_start(ap, nargs);
	for (uint64_t i = 0; i < nargs && i < 6; i++)
		u->args[i] = va_arg(ap, uint64_t);
	va_end(ap);
	ucall_send(u);
}

void guest_ucall_fmt(uint64_t cmd, const char *file, unsigned line, const char *fmt, ...)
{
	unsigned vcpu = guest_vcpu_index();
	struct ucall *u = ucall_begin(cmd, file, line, vcpu);
	va_list ap;
	va_start(ap, fmt);
	guest_vsnprintf(u->message, sizeof(u->message), fmt, ap);
	va_end(ap);
	ucall_send(u);
}

void guest_abort(const char *file, unsigned line, const char *fmt, ...)
{
	unsigned vcpu = guest_vcpu_index();
	for (;;) {
		struct ucall *u = ucall_begin(UCALL_ABORT, file, line, vcpu);
		va_list ap;
		va_start(ap, fmt);
		guest_vsnprintf(u->message, sizeof(u->message), fmt, ap);
		va_end(ap);
		ucall_send(u);
	}
}

static int handle_ve(struct guest_frame *f)
{
	struct tdg_ve_info ve;
	uint64_t val;
	uint32_t regs[4];
	unsigned len;

	if (tdg_vp_veinfo_get(&ve) != 0)
		return -1;
	len = ve.instr_len;
	switch (ve.exit_reason) {
	case EXIT_REASON_CPUID:
		tdvmcall_cpuid((uint32_t)f->rax, (uint32_t)f->rcx, regs);
		f->rax = regs[0];
		f->rbx = regs[1];
		f->rcx = regs[2];
		f->rdx = regs[3];
		len = len ? len : 2;
		break;
	case EXIT_REASON_HLT:
		tdvmcall_hlt(!(f->rflags & RFLAGS_IF));
		len = len ? len : 1;
		break;
	case EXIT_REASON_RDMSR:
		if (tdvmcall_rdmsr((uint32_t)f->rcx, &val) != TDVMCALL_SUCCESS)
			return -1;
		f->rax = (uint32_t)val;
		f->rdx = val >> 32;
		len = len ? len : 2;
		break;
	case EXIT_REASON_WRMSR:
		if (tdvmcall_wrmsr((uint32_t)f->rcx, (f->rdx << 32) | (uint32_t)f->rax) != TDVMCALL_SUCCESS)
			return -1;
		len = len ? len : 2;
		break;
	case EXIT_REASON_IO: {
		unsigned size = (unsigned)(ve.exit_qual & 7) + 1;
		int in = (ve.exit_qual >> 3) & 1;
		uint16_t port = (uint16_t)(ve.exit_qual >> 16);
		uint32_t data = 0;
		uint64_t mask = size == 4 ? 0xFFFFFFFFull : (1ull << (8 * size)) - 1;
		if (ve.exit_qual & 0x30)        /* string or REP: not emulated */
			return -1;
		if (tdvmcall_io(size, in ? TDX_IO_READ : TDX_IO_WRITE, port,
				in ? 0 : (uint32_t)(f->rax & mask), &data) != TDVMCALL_SUCCESS)
			return -1;
		if (in)
			f->rax = size == 4 ? data : ((f->rax & ~mask) | (data & mask));
		if (!len)
			return -1;
		break;
	}
	default:
		return -1;
	}
	f->rip += len;
	return 0;
}

void guest_exception(struct guest_frame *f);
void guest_exception(struct guest_frame *f)
{
	static unsigned depth[GUEST_MAX_VCPUS];
	unsigned vcpu = guest_vcpu_index();

	if (f->vector == VE_VECTOR && handle_ve(f) == 0)
		return;
	if (depth[vcpu]++)
		guest_die();    /* fault while reporting a fault */
	for (;;) {
		struct ucall *u = ucall_begin(UCALL_UNHANDLED, NULL, 0, vcpu);
		u->args[0] = f->vector;
		u->args[1] = f->error;
		u->args[2] = f->rip;
		guest_snprintf(u->message, sizeof(u->message), "unhandled exception %lu at 0x%lx",
			       (unsigned long)f->vector, (unsigned long)f->rip);
		ucall_send(u);
	}
}

static void idt_setup(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) desc;
	for (unsigned i = 0; i < 32; i++) {
		uint64_t off = guest_vectors[i];
		struct idt_gate g = {
			.off_lo = (uint16_t)off, .sel = 0x08, .ist = 0, .attr = 0x8E,
			.off_mid = (uint16_t)(off >> 16), .off_hi = (uint32_t)(off >> 32), .zero = 0,
		};
		guest_idt[i] = g;       /* every vCPU writes the same values */
	}
	desc.limit = sizeof(guest_idt) - 1;
	desc.base = (uint64_t)(uintptr_t)guest_idt;
	__asm__ volatile("lidt %0" : : "m"(desc) : "memory");
}

/* Called by boot.S on the vCPU's stack, in 64-bit mode. */
void guest_start(unsigned vcpu, unsigned gpaw, uint64_t vp_init_rdx) __attribute__((noreturn));
void guest_start(unsigned vcpu, unsigned gpaw, uint64_t vp_init_rdx)
{
	(void)vp_init_rdx;
	guest_gpaw = gpaw;
	guest_shared_mask = guest_shared_bit(gpaw);
	idt_setup();
	guest_main(vcpu, boot_params()->arg);
	for (;;)
		GUEST_DONE();
}
