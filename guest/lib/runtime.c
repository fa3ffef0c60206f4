/*
 * Guest runtime: start-up in 64-bit mode, exceptions (with a #VE handler
 * that turns CPUID, HLT, RDMSR/WRMSR, port I/O and MMIO on shared GPAs into
 * TDG.VP.VMCALLs, as a Linux guest does: the instruction length comes from
 * VE_INFO, except for MMIO, whose instruction the handler decodes), ucall
 * and the fatal path.
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
#define EXIT_REASON_EPT         48
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

int (*guest_ve_hook)(const struct tdg_ve_info *ve, uint64_t rip, uint64_t rax);
static struct guest_ve_record ve_record[GUEST_MAX_VCPUS];
static struct guest_exc_record exc_record[GUEST_MAX_VCPUS];
static struct { unsigned vector, skip; int armed; } exc_expect[GUEST_MAX_VCPUS];

const struct guest_ve_record *guest_last_ve(void)
{
	return &ve_record[guest_vcpu_index()];
}

const struct guest_exc_record *guest_last_exception(void)
{
	return &exc_record[guest_vcpu_index()];
}

void guest_expect_exception(unsigned vector, unsigned skip)
{
	unsigned vcpu = guest_vcpu_index();
	exc_expect[vcpu].vector = vector;
	exc_expect[vcpu].skip = skip;
	__atomic_store_n(&exc_expect[vcpu].armed, 1, __ATOMIC_SEQ_CST);
}

/* GPR by its encoding (0 RAX .. 15 R15) in the saved frame. */
static uint64_t *frame_gpr(struct guest_frame *f, unsigned n)
{
	switch (n) {
	case 0: return &f->rax;
	case 1: return &f->rcx;
	case 2: return &f->rdx;
	case 3: return &f->rbx;
	case 4: return &f->rsp;
	case 5: return &f->rbp;
	case 6: return &f->rsi;
	case 7: return &f->rdi;
	case 8: return &f->r8;
	case 9: return &f->r9;
	case 10: return &f->r10;
	case 11: return &f->r11;
	case 12: return &f->r12;
	case 13: return &f->r13;
	case 14: return &f->r14;
	default: return &f->r15;
	}
}

/* An MMIO instruction (the forms Linux's #VE handler emulates). */
struct mmio_insn {
	unsigned len;
	unsigned size;          /* bytes accessed */
	unsigned dst_size;      /* MOVZX/MOVSX: destination register size */
	int write, imm, sign, zero;
	unsigned reg;           /* register operand, encoding with REX.R */
	int rex;
	uint64_t imm_val;
};

static int mmio_decode(const uint8_t *p, struct mmio_insn *m)
{
	unsigned i = 0, opsize = 0, rex = 0;
	memset(m, 0, sizeof(*m));
	for (;; i++) {
		if (i >= 14)
			return -1;
		uint8_t b = p[i];
		if (b == 0x66) { opsize = 1; continue; }
		if (b == 0x67 || b == 0x2E || b == 0x36 || b == 0x3E || b == 0x26 || b == 0x64 || b == 0x65)
			continue;
		if ((b & 0xF0) == 0x40) { rex = b; i++; }
		break;
	}
	unsigned op = p[i++], full = (rex & 8) ? 8 : opsize ? 2 : 4;
	if (op == 0x0F) {
		op = 0x100 | p[i++];
		if (op != 0x1B6 && op != 0x1B7 && op != 0x1BE && op != 0x1BF)
			return -1;
		m->size = (op & 1) ? 2 : 1;
		m->dst_size = full;
		m->sign = op >= 0x1BE;
		m->zero = !m->sign;
	} else if (op == 0x88 || op == 0x89 || op == 0x8A || op == 0x8B) {
		m->size = (op & 1) ? full : 1;
		m->write = op <= 0x89;
	} else if (op == 0xC6 || op == 0xC7) {
		if ((p[i] >> 3) & 7)
			return -1;
		m->size = op == 0xC6 ? 1 : full;
		m->write = 1;
		m->imm = 1;
	} else {
		return -1;
	}
	uint8_t modrm = p[i++];
	unsigned mod = modrm >> 6, rm = modrm & 7;
	if (mod == 3)
		return -1;
	if (rm == 4) {
		uint8_t sib = p[i++];
		if (mod == 0 && (sib & 7) == 5)
			i += 4;
	} else if (mod == 0 && rm == 5) {
		i += 4;
	}
	i += mod == 1 ? 1 : mod == 2 ? 4 : 0;
	m->reg = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
	m->rex = rex != 0;
	if (m->imm) {
		unsigned n = m->size == 1 ? 1 : m->size == 2 ? 2 : 4;
		uint64_t v = 0;
		for (unsigned k = 0; k < n; k++)
			v |= (uint64_t)p[i + k] << (8 * k);
		if (m->size == 8 && (v & 0x80000000))
			v |= 0xFFFFFFFF00000000ull;     /* imm32 sign-extended */
		m->imm_val = v;
		i += n;
	}
	m->len = i;
	return 0;
}

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* Read a register operand of `size` (8-bit registers 4-7 without REX are AH..BH). */
static uint64_t reg_read(struct guest_frame *f, const struct mmio_insn *m, unsigned size)
{
	if (size == 1 && !m->rex && m->reg >= 4 && m->reg < 8)
		return (*frame_gpr(f, m->reg - 4) >> 8) & 0xFF;
	return *frame_gpr(f, m->reg) & size_mask(size);
}

/* Write a register operand as the instruction does: 8/16-bit writes keep
 * the other bits, 32-bit writes zero-extend. */
static void reg_write(struct guest_frame *f, const struct mmio_insn *m, unsigned size, uint64_t val)
{
	if (size == 1 && !m->rex && m->reg >= 4 && m->reg < 8) {
		uint64_t *g = frame_gpr(f, m->reg - 4);
		*g = (*g & ~0xFF00ull) | ((val & 0xFF) << 8);
		return;
	}
	uint64_t *g = frame_gpr(f, m->reg);
	if (size == 4)
		*g = val & 0xFFFFFFFFull;
	else if (size == 8)
		*g = val;
	else
		*g = (*g & ~size_mask(size)) | (val & size_mask(size));
}

/* MMIO at a shared GPA (EPT-violation #VE): decode the instruction, do
 * the access with TDG.VP.VMCALL<#VE.RequestMMIO>, return its length. */
static int handle_mmio(struct guest_frame *f, const struct tdg_ve_info *ve)
{
	struct mmio_insn m;
	if (!(ve->gpa & guest_shared_mask))
		return -1;                      /* private: not MMIO */
	if (mmio_decode((const uint8_t *)(uintptr_t)f->rip, &m))
		return -1;
	if (m.write) {
		uint64_t val = m.imm ? m.imm_val : reg_read(f, &m, m.size);
		if (tdvmcall_mmio(m.size, TDX_IO_WRITE, ve->gpa, val & size_mask(m.size), NULL) !=
		    TDVMCALL_SUCCESS)
			return -1;
		return (int)m.len;
	}
	uint64_t in = 0;
	if (tdvmcall_mmio(m.size, TDX_IO_READ, ve->gpa, 0, &in) != TDVMCALL_SUCCESS)
		return -1;
	in &= size_mask(m.size);
	if (m.sign) {
		unsigned sh = 64 - 8 * m.size;
		in = (uint64_t)(((int64_t)(in << sh)) >> sh);
	}
	reg_write(f, &m, m.zero || m.sign ? m.dst_size : m.size, in);
	return (int)m.len;
}

static int handle_ve(struct guest_frame *f)
{
	struct tdg_ve_info ve;
	uint64_t val;
	uint32_t regs[4];
	unsigned len;

	if (tdg_vp_veinfo_get(&ve) != 0)
		return -1;
	struct guest_ve_record *rec = &ve_record[guest_vcpu_index()];
	rec->ve = ve;
	rec->rip = f->rip;
	rec->rax = f->rax;
	rec->count++;
	len = ve.instr_len;
	if (guest_ve_hook && guest_ve_hook(&ve, f->rip, f->rax)) {
		f->rip += len;
		return 0;
	}
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
	case EXIT_REASON_EPT: {
		int n = handle_mmio(f, &ve);
		if (n <= 0)
			return -1;
		len = (unsigned)n;
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
	if (__atomic_load_n(&exc_expect[vcpu].armed, __ATOMIC_SEQ_CST) &&
	    exc_expect[vcpu].vector == f->vector) {
		struct guest_exc_record *x = &exc_record[vcpu];
		exc_expect[vcpu].armed = 0;
		x->vector = f->vector;
		x->error = f->error;
		x->rip = f->rip;
		x->count++;
		f->rip += exc_expect[vcpu].skip;
		return;
	}
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
