/* TDCALL wrappers over tdcall() (tdcall.S); tdx-abi.md 1.2 and 1.3. */
#include "guest/guest.h"

void guest_die(void) __attribute__((noreturn));

uint64_t tdvmcall(uint64_t subfn, uint64_t r12, uint64_t r13, uint64_t r14, uint64_t r15,
		  struct tdcall_args *out)
{
	struct tdcall_args a = {
		.rcx = TDVMCALL_EXPOSE_MASK, .r10 = 0, .r11 = subfn,
		.r12 = r12, .r13 = r13, .r14 = r14, .r15 = r15,
	};
	/* Linux panics on a failed TDG.VP.VMCALL; the guest cannot report it either. */
	if (tdcall(TDG_VP_VMCALL, &a) != 0)
		guest_die();
	if (out)
		*out = a;
	return a.r10;
}

uint64_t tdvmcall_io(unsigned size, unsigned dir, uint16_t port, uint32_t data, uint32_t *in)
{
	struct tdcall_args o;
	uint64_t st = tdvmcall(TDVMCALL_IO, size, dir, port, data, &o);
	if (in)
		*in = (uint32_t)o.r11;
	return st;
}

uint64_t tdvmcall_mmio(unsigned size, unsigned dir, uint64_t gpa, uint64_t data, uint64_t *in)
{
	struct tdcall_args o;
	uint64_t st = tdvmcall(TDVMCALL_MMIO, size, dir, gpa, data, &o);
	if (in)
		*in = o.r11;
	return st;
}

uint64_t tdvmcall_rdmsr(uint32_t msr, uint64_t *val)
{
	struct tdcall_args o;
	uint64_t st = tdvmcall(TDVMCALL_RDMSR, msr, 0, 0, 0, &o);
	if (val)
		*val = o.r11;
	return st;
}

uint64_t tdvmcall_wrmsr(uint32_t msr, uint64_t val)
{
	return tdvmcall(TDVMCALL_WRMSR, msr, val, 0, 0, NULL);
}

uint64_t tdvmcall_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
	struct tdcall_args o;
	uint64_t st = tdvmcall(TDVMCALL_CPUID, leaf, subleaf, 0, 0, &o);
	if (regs) {
		regs[0] = (uint32_t)o.r12;
		regs[1] = (uint32_t)o.r13;
		regs[2] = (uint32_t)o.r14;
		regs[3] = (uint32_t)o.r15;
	}
	return st;
}

uint64_t tdvmcall_hlt(int irqs_disabled)
{
	return tdvmcall(TDVMCALL_HLT, irqs_disabled ? 1 : 0, 0, 0, 0, NULL);
}

uint64_t tdvmcall_mapgpa(uint64_t start, uint64_t size, uint64_t *resume)
{
	struct tdcall_args o;
	uint64_t st = tdvmcall(TDVMCALL_MAP_GPA, start, size, 0, 0, &o);
	if (resume)
		*resume = o.r11;
	return st;
}

uint64_t tdg_vp_info(struct tdg_vp_info *out)
{
	struct tdcall_args a = { 0 };
	uint64_t st = tdcall(TDG_VP_INFO, &a);
	if (out) {
		out->gpaw = a.rcx & 0x3F;
		out->attributes = a.rdx;
		out->num_vcpus = (uint32_t)a.r8;
		out->max_vcpus = (uint32_t)(a.r8 >> 32);
		out->vcpu_index = (uint32_t)a.r9;
		out->r10 = a.r10;
		out->r11 = a.r11;
	}
	return st;
}

uint64_t tdg_vp_veinfo_get(struct tdg_ve_info *out)
{
	struct tdcall_args a = { 0 };
	uint64_t st = tdcall(TDG_VP_VEINFO_GET, &a);
	if (out) {
		out->exit_reason = a.rcx;
		out->exit_qual = a.rdx;
		out->gla = a.r8;
		out->gpa = a.r9;
		out->instr_len = (uint32_t)a.r10;
		out->instr_info = (uint32_t)(a.r10 >> 32);
	}
	return st;
}

uint64_t tdg_mem_page_accept(uint64_t gpa, unsigned level)
{
	struct tdcall_args a = { .rcx = gpa | level };
	return tdcall(TDG_MEM_PAGE_ACCEPT, &a);
}

uint64_t tdg_mr_report(uint64_t report_gpa, uint64_t reportdata_gpa, uint64_t subtype)
{
	struct tdcall_args a = { .rcx = report_gpa, .rdx = reportdata_gpa, .r8 = subtype };
	return tdcall(TDG_MR_REPORT, &a);
}

uint64_t tdg_mr_rtmr_extend(uint64_t data_gpa, uint64_t index)
{
	struct tdcall_args a = { .rcx = data_gpa, .rdx = index };
	return tdcall(TDG_MR_RTMR_EXTEND, &a);
}

uint64_t tdg_vm_rd(uint64_t field, uint64_t *val)
{
	struct tdcall_args a = { .rdx = field };
	uint64_t st = tdcall(TDG_VM_RD, &a);
	if (val)
		*val = a.r8;
	return st;
}

uint64_t tdg_vm_wr(uint64_t field, uint64_t val, uint64_t mask, uint64_t *old)
{
	struct tdcall_args a = { .rdx = field, .r8 = val, .r9 = mask };
	uint64_t st = tdcall(TDG_VM_WR, &a);
	if (old)
		*old = a.r8;
	return st;
}

uint64_t tdg_vp_cpuidve_set(uint64_t flags)
{
	struct tdcall_args a = { .rcx = flags };
	return tdcall(TDG_VP_CPUIDVE_SET, &a);
}
