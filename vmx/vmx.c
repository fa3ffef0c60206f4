/*
 * The guest on Unicorn, the KVM-style exit handler and the legacy VMX VM
 * (vmx.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>
#include <unicorn/unicorn.h>

#include "vmx/vmx.h"

/* ---- Guest. ---- */

#define BLOCK_CACHE 64                  /* translated blocks with a known count */

struct vmx_guest {
	uc_engine *uc;
	csh cs;
	uc_hook h_block, h_cpuid;
	struct vmx_clock *clk;
	const struct vmx_costs *k;
	uint64_t regs[R_N];
	uint64_t insns;
	bool exited;                    /* CPUID seen in this run */
	uint64_t exit_rip, exit_rflags;
	uint64_t exit_regs[R_N];        /* GPRs at the CPUID (the engine may run on
					 * to the end of the block after a stop) */
	struct { uint64_t addr; uint32_t size, count; } blk[BLOCK_CACHE];
};

static const int uc_gpr[R_N] = {
	UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
	UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
	UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
	UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};

/* The GPRs and RFLAGS in one batch call each way. */
static int regs_io(struct vmx_guest *g, uint64_t regs[R_N], uint64_t *rflags, bool write)
{
	int ids[R_N + 1];
	void *vals[R_N + 1];
	for (unsigned i = 0; i < R_N; i++) {
		ids[i] = uc_gpr[i];
		vals[i] = &regs[i];
	}
	ids[R_N] = UC_X86_REG_RFLAGS;
	vals[R_N] = rflags;
	uc_err e = write ? uc_reg_write_batch(g->uc, ids, vals, R_N + 1) :
		uc_reg_read_batch(g->uc, ids, vals, R_N + 1);
	return e == UC_ERR_OK ? 0 : -1;
}

/* Instructions of a block that retire in the guest: up to, not including,
 * the first CPUID or HLT (which exit), decoded once with Capstone. */
static uint32_t block_count(struct vmx_guest *g, uint64_t addr, uint32_t size)
{
	unsigned slot = (unsigned)((addr >> 1) % BLOCK_CACHE);
	if (g->blk[slot].addr == addr && g->blk[slot].size == size)
		return g->blk[slot].count;
	uint8_t buf[256];
	uint32_t len = size < sizeof(buf) ? size : (uint32_t)sizeof(buf);
	uint32_t n = 0;
	if (uc_mem_read(g->uc, addr, buf, len) == UC_ERR_OK) {
		const uint8_t *p = buf;
		size_t left = len;
		uint64_t a = addr;
		cs_insn *in = cs_malloc(g->cs);
		while (in && cs_disasm_iter(g->cs, &p, &left, &a, in)) {
			if (in->id == X86_INS_CPUID || in->id == X86_INS_HLT)
				break;
			n++;
		}
		cs_free(in, 1);
	}
	g->blk[slot].addr = addr;
	g->blk[slot].size = size;
	g->blk[slot].count = n;
	return n;
}

static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
	(void)uc;
	struct vmx_guest *g = user;
	uint32_t n = block_count(g, addr, size);
	g->insns += n;
	vmx_charge(g->clk, VMX_CAT_GUEST, (uint64_t)n * g->k->guest_insn);
}

/* CPUID exits unconditionally in VMX non-root operation: stop with RIP at
 * the instruction (the VMM advances it); the CPUID itself does nothing.
 * Unicorn may run the rest of the translated block after uc_emu_stop()
 * (hooks no longer fire): the exit state is the snapshot taken here, and
 * the guest loop has no stores a run-on could make visible. */
static int hook_cpuid(uc_engine *uc, void *user)
{
	struct vmx_guest *g = user;
	uint64_t rip = 0;
	uc_reg_read(uc, UC_X86_REG_RIP, &rip);
	if (!g->exited) {
		g->exited = true;
		g->exit_rip = rip;
		regs_io(g, g->exit_regs, &g->exit_rflags, false);
		uc_emu_stop(uc);
	}
	return 1;
}

struct vmx_guest *vmx_guest_create(uint32_t iterations, struct vmx_clock *clk,
				   const struct vmx_costs *k, char *err, size_t errlen)
{
	struct vmx_guest *g = calloc(1, sizeof(*g));
	if (!g) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->clk = clk;
	g->k = k;
	for (unsigned i = 0; i < BLOCK_CACHE; i++)
		g->blk[i].addr = UINT64_MAX;
	uc_err e = uc_open(UC_ARCH_X86, UC_MODE_64, &g->uc);
	if (e != UC_ERR_OK) {
		snprintf(err, errlen, "uc_open: %s", uc_strerror(e));
		free(g);
		return NULL;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &g->cs) != CS_ERR_OK) {
		snprintf(err, errlen, "cs_open failed");
		uc_close(g->uc);
		free(g);
		return NULL;
	}
	uint8_t code[4096];
	memset(code, 0xF4, sizeof(code));
	const uint8_t prog[] = {
		0xBE, 0, 0, 0, 0,               /* mov esi, iterations */
		0x31, 0xC0,                     /* L: xor eax, eax */
		0x31, 0xC9,                     /* xor ecx, ecx */
		0x0F, 0xA2,                     /* cpuid */
		0xFF, 0xCE,                     /* dec esi */
		0x75, 0xF6,                     /* jnz L */
		0xF4,                           /* hlt */
	};
	memcpy(code, prog, sizeof(prog));
	memcpy(code + 1, &iterations, 4);
	/* Exits: the CPUID hook stops the engine (uc_emu_stop), HLT stops it
	 * by itself. No `until` or exit address: with one, every
	 * uc_emu_start() of Unicorn 2.1.1 retranslates code (~26 us per entry
	 * measured here, against ~0.15 us this way). */
	if ((e = uc_mem_map(g->uc, VMX_GUEST_CODE, 4096, UC_PROT_READ | UC_PROT_EXEC)) ||
	    (e = uc_mem_write(g->uc, VMX_GUEST_CODE, code, sizeof(code))) ||
	    (e = uc_hook_add(g->uc, &g->h_block, UC_HOOK_BLOCK, (void *)hook_block, g, 1, 0)) ||
	    (e = uc_hook_add(g->uc, &g->h_cpuid, UC_HOOK_INSN, (void *)hook_cpuid, g, 1, 0,
			     UC_X86_INS_CPUID))) {
		snprintf(err, errlen, "guest setup: %s", uc_strerror(e));
		vmx_guest_destroy(g);
		return NULL;
	}
	return g;
}

void vmx_guest_destroy(struct vmx_guest *g)
{
	if (!g)
		return;
	cs_close(&g->cs);
	uc_close(g->uc);
	free(g);
}

uint64_t *vmx_guest_regs(struct vmx_guest *g)
{
	return g->regs;
}

uint64_t vmx_guest_insns(const struct vmx_guest *g)
{
	return g->insns;
}

uint32_t vmx_guest_run(struct vmx_guest *g, struct vmx_mem *m, uint64_t vmcs)
{
	/* VM entry: guest state from the VMCS, GPRs from the VMM. */
	uint64_t rip = vmcs_get(m, vmcs, GUEST_RIP);
	uint64_t rsp = vmcs_get(m, vmcs, GUEST_RSP);
	uint64_t rflags = vmcs_get(m, vmcs, GUEST_RFLAGS) | 2;
	g->regs[R_RSP] = rsp;
	if (regs_io(g, g->regs, &rflags, true))
		return 0;
	g->exited = false;
	uc_err e = uc_emu_start(g->uc, rip, 0, 0, 0);
	if (e != UC_ERR_OK)
		return 0;
	uint32_t reason, len;
	uint64_t exit_rip;
	uc_reg_read(g->uc, UC_X86_REG_RIP, &exit_rip);
	if (g->exited) {
		reason = EXIT_REASON_CPUID;
		len = 2;
		exit_rip = g->exit_rip;
	} else if (exit_rip == VMX_GUEST_HLT || exit_rip == VMX_GUEST_HLT + 1) {
		reason = EXIT_REASON_HLT;     /* HLT exiting: RIP at the HLT */
		len = 1;
		exit_rip = VMX_GUEST_HLT;
	} else {
		return 0;
	}
	/* VM exit: guest state and exit information into the VMCS. */
	if (g->exited) {
		memcpy(g->regs, g->exit_regs, sizeof(g->regs));
		rflags = g->exit_rflags;
	} else if (regs_io(g, g->regs, &rflags, false)) {
		return 0;
	}
	vmcs_set(m, vmcs, GUEST_RIP, exit_rip);
	vmcs_set(m, vmcs, GUEST_RSP, g->regs[R_RSP]);
	vmcs_set(m, vmcs, GUEST_RFLAGS, rflags);
	vmcs_set(m, vmcs, VM_EXIT_REASON, reason);
	vmcs_set(m, vmcs, EXIT_QUALIFICATION, 0);
	vmcs_set(m, vmcs, VM_EXIT_INSTRUCTION_LEN, len);
	vmcs_set(m, vmcs, VM_EXIT_INTR_INFO, 0);
	vmcs_set(m, vmcs, IDT_VECTORING_INFO_FIELD, 0);
	vmx_charge(g->clk, VMX_CAT_HW, g->k->vmexit);
	return reason;
}

/* ---- KVM-style exit handler. ---- */

void kvm_cpuid_values(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	(void)subleaf;
	memset(out, 0, 4 * sizeof(out[0]));
	if (leaf == 0) {
		out[0] = 0x1F;
		out[1] = 0x756E6547;            /* "Genu" */
		out[3] = 0x49656E69;            /* "ineI" */
		out[2] = 0x6C65746E;            /* "ntel" */
	}
}

#define RD(f, v) do { if (o->vmread(o->ctx, (f), (v)) != VMX_SUCCEED) return KVM_EXIT_ERROR; } while (0)
#define WR(f, v) do { if (o->vmwrite(o->ctx, (f), (v)) != VMX_SUCCEED) return KVM_EXIT_ERROR; } while (0)

int kvm_handle_exit(const struct vmx_ops *o, uint64_t regs[R_N], uint32_t *reason)
{
	uint64_t exit_reason, idt_info, qual, len, rip, intr;
	vmx_charge(o->clk, o->cat, o->k->vmm_exit_sw);
	RD(VM_EXIT_REASON, &exit_reason);
	RD(IDT_VECTORING_INFO_FIELD, &idt_info);    /* vmx_complete_interrupts */
	RD(EXIT_QUALIFICATION, &qual);
	*reason = (uint32_t)exit_reason & 0xFFFF;
	(void)qual;
	switch (*reason) {
	case EXIT_REASON_CPUID: {
		uint32_t out[4];
		vmx_charge(o->clk, o->cat, o->k->cpuid_emul);
		kvm_cpuid_values((uint32_t)regs[R_RAX], (uint32_t)regs[R_RCX], out);
		regs[R_RAX] = out[0];
		regs[R_RBX] = out[1];
		regs[R_RCX] = out[2];
		regs[R_RDX] = out[3];
		/* kvm_skip_emulated_instruction */
		RD(VM_EXIT_INSTRUCTION_LEN, &len);
		RD(GUEST_RIP, &rip);
		RD(GUEST_INTERRUPTIBILITY_INFO, &intr);
		if (intr & 3)                   /* STI / MOV SS blocking ends */
			WR(GUEST_INTERRUPTIBILITY_INFO, intr & ~3ull);
		WR(GUEST_RIP, rip + len);
		return KVM_EXIT_RESUME;
	}
	case EXIT_REASON_HLT:
		return KVM_EXIT_HALT;
	default:
		return KVM_EXIT_ERROR;
	}
}

/* ---- Legacy VMX VM. ---- */

static enum vmx_result root_vmread(void *ctx, uint32_t f, uint64_t *v)
{
	return vmx_vmread(ctx, f, v);
}

static enum vmx_result root_vmwrite(void *ctx, uint32_t f, uint64_t v)
{
	return vmx_vmwrite(ctx, f, v);
}

void vmx_vmcs_setup(struct vmx_cpu *c, uint64_t host_rip)
{
	static const struct { uint32_t f; uint64_t v; } init[] = {
		{ PIN_BASED_VM_EXEC_CONTROL, PIN_EXT_INTR_EXITING | PIN_NMI_EXITING },
		{ CPU_BASED_VM_EXEC_CONTROL, CPU_HLT_EXITING | CPU_USE_MSR_BITMAPS | CPU_ACTIVATE_SECONDARY },
		{ SECONDARY_VM_EXEC_CONTROL, SEC_ENABLE_EPT | SEC_ENABLE_VPID },
		{ VIRTUAL_PROCESSOR_ID, 1 },
		{ EPT_POINTER, 0x5000 | 0x1E },     /* WB, 4-level */
		{ VM_EXIT_CONTROLS, EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER },
		{ VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE | ENTRY_LOAD_IA32_EFER },
		{ HOST_CR0, 0x80050033 }, { HOST_CR4, 0x3706F0 }, { HOST_CR3, 0x100000 },
		{ HOST_RSP, 0xFFFFC90000004000ull }, { HOST_CS_SELECTOR, 0x10 }, { HOST_TR_SELECTOR, 0x40 },
		{ HOST_IA32_EFER, 0xD01 },
		{ GUEST_CR0, 0x80000031 }, { GUEST_CR4, 0x2020 }, { GUEST_IA32_EFER, 0x500 },
		{ GUEST_CS_SELECTOR, 0x8 }, { GUEST_CS_AR_BYTES, 0xA09B }, { GUEST_CS_LIMIT, 0xFFFFFFFF },
		{ GUEST_RIP, VMX_GUEST_CODE }, { GUEST_RSP, 0x2000 }, { GUEST_RFLAGS, 2 },
		{ GUEST_ACTIVITY_STATE, 0 },
	};
	for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++)
		vmx_vmwrite(c, init[i].f, init[i].v);
	vmx_vmwrite(c, HOST_RIP, host_rip);
}

int vmx_vm_init(struct vmx_vm *vm, uint32_t iterations, const struct vmx_costs *k,
		char *err, size_t errlen)
{
	memset(vm, 0, sizeof(*vm));
	if (vmx_mem_init(&vm->mem, VMX_VM_MEM)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	vmx_cpu_init(&vm->cpu, &vm->mem, k, &vm->clk);
	vm->vmxon_pa = 0x1000;
	vm->vmcs_pa = 0x2000;
	vmcs_format(&vm->mem, vm->vmxon_pa, false);
	vmcs_format(&vm->mem, vm->vmcs_pa, false);
	if (vmx_vmxon(&vm->cpu, vm->vmxon_pa) != VMX_SUCCEED ||
	    vmx_vmclear(&vm->cpu, vm->vmcs_pa) != VMX_SUCCEED ||
	    vmx_vmptrld(&vm->cpu, vm->vmcs_pa) != VMX_SUCCEED) {
		snprintf(err, errlen, "VMXON/VMCLEAR/VMPTRLD failed");
		vmx_vm_fini(vm);
		return -1;
	}
	vmx_vmcs_setup(&vm->cpu, 0xFFFFFFFF81000000ull);
	vm->g = vmx_guest_create(iterations, &vm->clk, k, err, errlen);
	if (!vm->g) {
		vmx_vm_fini(vm);
		return -1;
	}
	vm->max_exits = (uint64_t)iterations + 1;
	memset(&vm->clk, 0, sizeof(vm->clk));
	return 0;
}

int vmx_vm_run(struct vmx_vm *vm, char *err, size_t errlen)
{
	const struct vmx_costs *k = vm->cpu.k;
	struct vmx_ops ops = {
		.vmread = root_vmread, .vmwrite = root_vmwrite, .ctx = &vm->cpu,
		.clk = &vm->clk, .k = k, .cat = VMX_CAT_L0,
	};
	bool resume = false;
	for (;;) {
		if (vmx_entry_check(&vm->cpu, resume) != VMX_SUCCEED) {
			snprintf(err, errlen, "VM%s failed: VM-instruction error %u",
				 resume ? "RESUME" : "LAUNCH", vmx_insn_error(&vm->cpu));
			return -1;
		}
		vmx_charge(&vm->clk, VMX_CAT_HW, k->vmentry);
		vm->entries++;
		resume = true;
		uint32_t reason = vmx_guest_run(vm->g, &vm->mem, vm->vmcs_pa);
		if (!reason) {
			snprintf(err, errlen, "guest emulation failed");
			return -1;
		}
		if (++vm->exits > vm->max_exits) {
			snprintf(err, errlen, "more than %llu exits: the guest does not advance",
				 (unsigned long long)vm->max_exits);
			return -1;
		}
		uint32_t r;
		int rc = kvm_handle_exit(&ops, vmx_guest_regs(vm->g), &r);
		if (rc == KVM_EXIT_HALT)
			return 0;
		if (rc != KVM_EXIT_RESUME) {
			snprintf(err, errlen, "exit reason %u not handled", r);
			return -1;
		}
		vm->cpuid_exits++;
	}
}

void vmx_vm_fini(struct vmx_vm *vm)
{
	vmx_guest_destroy(vm->g);
	vm->g = NULL;
	vmx_mem_fini(&vm->mem);
}
